//! The runtime: worker config, connector/task lifecycle and status.

pub mod acks;
pub mod config;
mod dlq;
pub mod herder;
mod intake;
pub mod listeners;
pub mod logging;
pub mod plugins;
mod runner;
pub mod runtime;
pub mod security;
pub mod status;
pub mod task;
pub mod tolerance;
pub mod validation;
