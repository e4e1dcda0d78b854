//! The worker's keys: one definition that documents them (`cassink config-reference
//! --worker`, `docs/worker-config.md`), tells known keys from unknown ones, and gives every
//! default [`super::WorkerConfig::from_map`] uses.

use crate::security::overrides::{ALLOWLIST_KEY, POLICY_KEY};
use cassink_config::{reference, ConfigDef, ConfigKey, ConfigType, Importance};
use std::sync::LazyLock;

const KAFKA: &str = "Kafka";
const REST: &str = "REST API";
const STORAGE: &str = "Connector state";
const CONNECTORS: &str = "Connector defaults";
const RUNTIME: &str = "Runtime";
const COMPAT: &str = "Accepted, no effect";

/// Key prefixes the worker reads (passthroughs and families of keys).
pub const KNOWN_PREFIXES: &[&str] = &[
    "consumer.",
    "producer.",
    "admin.",
    "key.converter",
    "value.converter",
    "header.converter",
    "log4j.",
    "security.",
    "ssl.",
    "sasl.",
    "config.providers",
    "listeners.https.",
];

/// The worker's keys, built once.
pub fn definition() -> &'static ConfigDef {
    static DEFINITION: LazyLock<ConfigDef> = LazyLock::new(build);
    &DEFINITION
}

fn build() -> ConfigDef {
    use ConfigType::*;
    ConfigDef::new(vec![
        ConfigKey::new("bootstrap.servers", List, "The Kafka brokers of every client of the worker.").default("localhost:9092").group(KAFKA).importance(Importance::High),
        ConfigKey::new("offset.flush.interval.ms", Long, "How often tasks commit the offsets of written records (and librdkafka reports the statistics behind the lag gauges).").default("60000").group(KAFKA),
        ConfigKey::new("security.protocol", String, "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, for every Kafka client; ssl.* and sasl.* (Kafka's names) go with it.").default("PLAINTEXT").group(KAFKA),
        ConfigKey::new("listeners", List, "REST listeners, http:// or https:// host:port; https takes listeners.https.ssl.* (PEM files). Default: http://<rest.host.name>:<rest.port>.").default("").group(REST).importance(Importance::High),
        ConfigKey::new("rest.host.name", String, "Deprecated (Connect's too): the http listener's host, when listeners is not set.").default("0.0.0.0").group(REST),
        ConfigKey::new("rest.port", Int, "Deprecated (Connect's too): the http listener's port, when listeners is not set.").default("8083").group(REST),
        ConfigKey::new("rest.advertised.host.name", String, "The host in this worker's id (statuses, distributed mode); default: the listener's host, or the machine's name when it listens on every address.").default("").group(REST),
        ConfigKey::new("rest.advertised.port", Int, "The port in this worker's id; default: the listener's port.").default("").group(REST),
        ConfigKey::new("rest.advertised.listener", String, "Accepted as in Connect; the first listener is advertised.").default("").group(REST),
        ConfigKey::new("rest.auth.credentials.file", String, "HTTP basic authentication: a file of user:bcrypt-or-argon2-hash[:role] lines; empty leaves the API open.").default("").group(REST),
        ConfigKey::new("state.dir", String, "Standalone: the directory of connector configs, target states and statuses.").default("./cassink-state").group(STORAGE).importance(Importance::High),
        ConfigKey::new("group.id", String, "Distributed mode (with config.storage.topic): the worker group.").default("").group(STORAGE),
        ConfigKey::new("config.storage.topic", String, "Distributed mode: the compacted topic of connector configs and target states.").default("").group(STORAGE),
        ConfigKey::new("config.storage.replication.factor", Int, "Replication of the config topic when the worker creates it.").default("3").group(STORAGE),
        ConfigKey::new("status.storage.topic", String, "Distributed mode: the topic of statuses and worker heartbeats; default: <config.storage.topic>-status.").default("").group(STORAGE),
        ConfigKey::new("status.storage.replication.factor", Int, "Replication of the status topic; default: config.storage.replication.factor.").default("").group(STORAGE),
        ConfigKey::new("offset.storage.topic", String, "Accepted as in Connect: sink offsets live in the connectors' consumer groups.").default("").group(STORAGE),
        ConfigKey::new("heartbeat.interval.ms", Long, "Distributed mode: how often this worker says it is alive.").default("3000").group(STORAGE),
        ConfigKey::new("session.timeout.ms", Long, "Distributed mode: how long a silent worker counts as alive.").default("10000").group(STORAGE),
        ConfigKey::new("worker.sync.timeout.ms", Long, "Distributed mode: how long a change waits for this worker's view of the config topic (else a 409).").default("3000").group(STORAGE),
        ConfigKey::new("key.converter", Class, "Default key converter of connectors (with its key.converter.* settings).").default("org.apache.kafka.connect.json.JsonConverter").group(CONNECTORS),
        ConfigKey::new("value.converter", Class, "Default value converter of connectors (with its value.converter.* settings).").default("org.apache.kafka.connect.json.JsonConverter").group(CONNECTORS),
        ConfigKey::new("header.converter", Class, "Default header converter of connectors.").default("org.apache.kafka.connect.storage.SimpleHeaderConverter").group(CONNECTORS),
        ConfigKey::new(POLICY_KEY, String, "Which consumer.override.* / producer.override.* / admin.override.* keys a connector may set: None, Principal or All (Kafka's class names too).").default("None").group(CONNECTORS),
        ConfigKey::new(ALLOWLIST_KEY, List, "With policy Some: the client keys connectors may override.").default("").group(CONNECTORS),
        ConfigKey::new("config.providers", List, "Config providers resolving ${name:path:key} in connector configs when tasks start (file, directory, env), with config.providers.<name>.class and .param.*.").default("").group(CONNECTORS),
        ConfigKey::new("worker.threads", Int, "Threads of the worker's async runtime, which run every task's conversion and writes, the CQL driver's I/O and the REST API (librdkafka has threads of its own). Default: half the cores, at least 1 (fewer threads, fewer hand-offs: one took 13% less CPU per record than two at the same records/s); the environment's TOKIO_WORKER_THREADS wins.").default("").group(RUNTIME),
        ConfigKey::new("plugin.path", List, "Accepted as in Connect: the plugins are built in.").default("").group(COMPAT),
        ConfigKey::new("offset.flush.timeout.ms", Long, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("offset.storage.file.filename", String, "Accepted as in Connect's standalone mode: offsets live in the consumer groups.").default("").group(COMPAT),
        ConfigKey::new("offset.storage.replication.factor", Int, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("offset.storage.partitions", Int, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("status.storage.partitions", Int, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("rebalance.timeout.ms", Long, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("client.id", String, "Accepted as in Connect.").default("").group(COMPAT),
        ConfigKey::new("internal.key.converter", Class, "Accepted as in older Connect versions.").default("").group(COMPAT),
        ConfigKey::new("internal.value.converter", Class, "Accepted as in older Connect versions.").default("").group(COMPAT),
    ])
}

/// Whether the worker reads (or accepts) `key`.
pub fn is_known(key: &str) -> bool {
    definition().key(key).is_some() || KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// The default of a defined key ("" for none).
pub fn default_of(key: &str) -> &'static str {
    definition()
        .key(key)
        .and_then(|k| k.default)
        .unwrap_or_default()
}

/// The worker key reference (markdown), as `docs/worker-config.md` ships it.
pub fn worker_reference() -> String {
    let mut out = String::from(
        "# Worker configuration reference\n\nGenerated by `cassink config-reference --worker` from the definition the worker \
         reads its properties file with. `CONNECT_*` environment variables override the file (Confluent's convention: \
         `CONNECT_BOOTSTRAP_SERVERS` sets `bootstrap.servers`). Keys under consumer.*, producer.* and admin.* go to \
         librdkafka for that kind of client; unknown keys are logged, not fatal.\n\n",
    );
    out.push_str(&reference::markdown(
        "Worker keys",
        "Kafka Connect's worker keys that cassink reads.",
        definition(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/worker-config.md");
        let shipped = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            shipped == worker_reference(),
            "docs/worker-config.md is stale: run `cargo run -- config-reference --worker > docs/worker-config.md`"
        );
    }

    #[test]
    fn every_key_has_a_group_and_the_defaults_parse() {
        for key in &definition().keys {
            assert!(!key.group.is_empty(), "{}", key.name);
            if let Some(default) = key.default.filter(|d| !d.is_empty()) {
                assert!(
                    cassink_config::check_value(key.name, key, default).is_ok(),
                    "{}",
                    key.name
                );
            }
        }
    }
}
