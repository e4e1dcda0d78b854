//! The runtime: worker config, connector/task lifecycle and status.

pub mod config;
pub mod task;
