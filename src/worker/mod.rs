//! The runtime: worker config, connector/task lifecycle and status.

pub mod config;
pub mod herder;
pub mod runner;
pub mod status;
pub mod task;
pub mod validation;
