//! The worker runtime: its config ([`config`]), the connector lifecycle ([`herder`]), tasks
//! ([`task`]: consume, convert, transform, put, commit), validation and the plugin registry
//! ([`validation`], [`plugins`]), and the process around them ([`runtime`], [`logging`]).
//!
//! Crate `cassink-worker`. May depend on every crate above it along the data path (`cassink-kafka`,
//! `-convert`, `-transform`, `-connector`, `-sink-cassandra`, `-store`, `-metrics`, `-config`,
//! `-record`), never `cassink-rest`.

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
