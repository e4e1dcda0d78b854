//! cassink: a Kafka Connect-compatible sink worker that moves records from Kafka into Cassandra.
//!
//! Data flows one way: `kafka/` hands bytes to `convert/`, records pass `transform/` into `sink/`,
//! the sink acknowledges, and `worker/` commits offsets. `rest/` talks to `worker/` only.

pub mod config;
pub mod connector;
pub mod convert;
pub mod java_time;
pub mod kafka;
pub mod metrics;
pub mod produce;
pub mod record;
pub mod rest;
pub mod serve;
pub mod sink;
pub mod store;
pub mod tls;
pub mod transform;
pub mod worker;
