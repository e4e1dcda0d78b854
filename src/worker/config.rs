//! The worker's own configuration (Connect-style properties file + `CONNECT_*` env).

use crate::config::ConfigMap;
use std::time::Duration;

/// Settings the worker runtime reads. Parsed from the properties file and env by
/// [`WorkerConfig::from_map`]; every field has a default so `cassink worker` with no file
/// works against localhost.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `bootstrap.servers`.
    pub bootstrap_servers: String,
    /// `offset.flush.interval.ms`.
    pub offset_flush_interval: Duration,
    /// `consumer.*` passthrough (prefix stripped), handed to librdkafka.
    pub consumer: ConfigMap,
    /// `producer.*` passthrough (prefix stripped).
    pub producer: ConfigMap,
    /// Worker-level converter defaults: `key.converter`, `value.converter`, `header.converter`
    /// and their sub-keys, as written.
    pub converter_defaults: ConfigMap,
    /// The id this worker reports in statuses (`worker_id`), advertised host:port.
    pub worker_id: String,
    /// Every key as given (for passthrough and later issues).
    pub raw: ConfigMap,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let mut converter_defaults = ConfigMap::new();
        converter_defaults.insert(
            "key.converter".into(),
            "org.apache.kafka.connect.json.JsonConverter".into(),
        );
        converter_defaults.insert(
            "value.converter".into(),
            "org.apache.kafka.connect.json.JsonConverter".into(),
        );
        Self {
            bootstrap_servers: "localhost:9092".into(),
            offset_flush_interval: Duration::from_millis(60_000),
            consumer: ConfigMap::new(),
            producer: ConfigMap::new(),
            converter_defaults,
            worker_id: "localhost:8083".into(),
            raw: ConfigMap::new(),
        }
    }
}
