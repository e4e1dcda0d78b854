//! cassink: a Kafka Connect-compatible sink worker that moves records from Kafka into Cassandra.
//!
//! This package is the `cassink` binary: the CLI (`main.rs`), the composition of the worker
//! runtime with its REST API ([`serve`]) and the sample producers ([`produce`]). The work is
//! done by the workspace's crates (`crates/`), whose dependencies follow the data path:
//! `cassink-kafka` hands bytes to `cassink-convert`, records pass `cassink-transform` into
//! `cassink-sink-cassandra` (through the `cassink-connector` seam), the sink acknowledges and
//! `cassink-worker` commits offsets; `cassink-rest` talks to the worker only.
//!
//! The crates are re-exported under their module names, for the tests and benches.

pub mod produce;
pub mod serve;

pub use cassink_config as config;
pub use cassink_connector as connector;
pub use cassink_convert as convert;
pub use cassink_kafka as kafka;
pub use cassink_metrics as metrics;
pub use cassink_record as record;
pub use cassink_rest as rest;
pub use cassink_store as store;
pub use cassink_tls as tls;
pub use cassink_transform as transform;
pub use cassink_worker as worker;

/// Sinks: where records go.
pub mod sink {
    pub use cassink_sink_cassandra as cassandra;
}
