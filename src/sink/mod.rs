//! Sinks: where records go.

pub mod cassandra;
