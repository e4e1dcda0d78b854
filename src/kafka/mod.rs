//! rdkafka wrappers: the task consumer (subscribe, rebalance, commit) and group offsets.

pub mod admin;
pub mod consumer;
pub mod offsets;
