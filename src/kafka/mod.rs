//! rdkafka wrappers: the settings every client shares ([`client`]: bootstrap, TLS, SASL), why
//! brokers refuse a client ([`probe`]), the task consumer (subscribe, rebalance, commit), topic
//! administration and group offsets.

pub mod admin;
pub mod client;
pub mod consumer;
pub mod offsets;
pub mod probe;
