//! rdkafka wrappers: the settings every client shares ([`client`]: bootstrap, TLS, SASL), why
//! brokers refuse a client ([`probe`]), the task consumer (subscribe, rebalance, commit), topic
//! administration and group offsets.
//!
//! Crate `cassink-kafka`. May depend on `cassink-config` and `cassink-metrics` only: it takes its
//! own settings types (e.g. `consumer::ConsumerSettings`), which the worker builds.

pub mod admin;
pub mod client;
pub mod consumer;
pub mod offsets;
pub mod probe;
pub mod quiet;
