//! The worker's own configuration (Connect-style properties file + `CONNECT_*` env).
//!
//! Sources, later overriding earlier: built-in defaults, the properties file, then the
//! environment in the Confluent image convention (`CONNECT_BOOTSTRAP_SERVERS` ->
//! `bootstrap.servers`: strip `CONNECT_`, lowercase, `___` -> `-`, `__` -> `_`, `_` -> `.`).
//! Unknown keys are kept in [`WorkerConfig::raw`] and listed in
//! [`WorkerConfig::unknown_keys`] so the caller can warn; they are never fatal.

use crate::listeners::{self, RestListener, RestTls, Scheme};
use crate::security::overrides::{client_overrides, OverridePolicy, POLICY_KEY};
use cassink_config::properties::parse_properties;
use cassink_config::providers::{ConfigProviders, ProviderError};
use cassink_config::ConfigMap;
use cassink_kafka::client::{self, ClientConfigError, KafkaClients, Role};
use cassink_kafka::consumer::ConsumerSettings;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod keys;

use keys::default_of;

/// A numeric default of the definition (the definition's test checks that each parses).
fn default_number<T: std::str::FromStr + Default>(key: &str) -> T {
    default_of(key).parse().unwrap_or_default()
}

/// Settings the worker runtime reads. Parsed from the properties file and env by
/// [`WorkerConfig::from_map`]; every field has a default so `cassink worker` with no file
/// works against localhost.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `bootstrap.servers`.
    pub bootstrap_servers: String,
    /// `offset.flush.interval.ms`.
    pub offset_flush_interval: Duration,
    /// The settings of the worker's Kafka clients: `security.protocol`, `ssl.*`, `sasl.*`
    /// (every client) and the `consumer.*`, `producer.*`, `admin.*` passthroughs, translated
    /// for librdkafka. Build a client with [`WorkerConfig::kafka_client`].
    pub kafka: KafkaClients,
    /// Worker-level converter defaults: `key.converter`, `value.converter`, `header.converter`
    /// and their sub-keys, as written.
    pub converter_defaults: ConfigMap,
    /// The id this worker reports in statuses (`worker_id`), advertised host:port.
    pub worker_id: String,
    /// Every key as given (for passthrough and later issues).
    pub raw: ConfigMap,
    /// Host the REST API binds to (from `listeners`, or `rest.host.name`).
    pub rest_host: String,
    /// Port the REST API binds to (from `listeners`, or `rest.port`).
    pub rest_port: u16,
    /// Every REST listener (`listeners`, comma-separated); the first is `rest_host:rest_port`.
    pub rest_listeners: Vec<RestListener>,
    /// `listeners.https.ssl.*`: set when a listener is https.
    pub rest_tls: Option<RestTls>,
    /// `group.id`: the worker group (distributed mode with `config.storage.topic`).
    pub group_id: Option<String>,
    /// `state.dir`: where connector configs, target states and statuses are stored.
    pub state_dir: PathBuf,
    /// Keys no part of the worker knows (warned about at startup).
    pub unknown_keys: Vec<String>,
    /// `connector.client.config.override.policy` + `.allowlist`.
    pub override_policy: OverridePolicy,
    /// `config.providers*`: resolves `${provider:path:key}` when tasks start.
    pub providers: ConfigProviders,
    /// `rest.auth.credentials.file`: HTTP basic auth users (none: the API is open).
    pub rest_auth_file: Option<PathBuf>,
    /// `worker.threads`: the async runtime's threads, when set.
    pub threads: Option<usize>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let converter_defaults = ["key.converter", "value.converter"]
            .into_iter()
            .map(|k| (k.to_string(), default_of(k).to_string()))
            .collect();
        let listener = RestListener {
            scheme: Scheme::Http,
            host: default_of("rest.host.name").into(),
            port: default_number("rest.port"),
        };
        Self {
            bootstrap_servers: default_of("bootstrap.servers").into(),
            offset_flush_interval: Duration::from_millis(default_number(
                "offset.flush.interval.ms",
            )),
            kafka: KafkaClients::default(),
            converter_defaults,
            worker_id: host_port(&listener.host, listener.port),
            raw: ConfigMap::new(),
            rest_host: listener.host.clone(),
            rest_port: listener.port,
            rest_listeners: vec![listener],
            rest_tls: None,
            group_id: None,
            state_dir: PathBuf::from(default_of("state.dir")),
            unknown_keys: Vec::new(),
            override_policy: OverridePolicy::default(),
            providers: ConfigProviders::default(),
            rest_auth_file: None,
            threads: None,
        }
    }
}

/// Distributed-mode settings (see [`WorkerConfig::distributed`]); the store defines them.
pub use cassink_store::Distributed;

#[derive(Debug, thiserror::Error)]
pub enum WorkerConfigError {
    #[error("cannot read worker config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid value {value:?} for worker config {key}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
    /// A Kafka client setting (the value is not shown: it may be a secret).
    #[error("{0}")]
    Client(#[from] ClientConfigError),
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> WorkerConfigError {
    WorkerConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl WorkerConfig {
    /// How many threads the async runtime gets: `worker.threads`, else half the cores (at
    /// least one).
    pub fn runtime_threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
        })
    }

    /// Reads `path` (when given) and the process environment, env overriding the file, and has
    /// librdkafka accept the Kafka client settings (CA, certificate and key files included).
    pub fn load(path: Option<&Path>) -> Result<Self, WorkerConfigError> {
        let mut map = match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| WorkerConfigError::Read {
                        path: path.to_path_buf(),
                        source,
                    })?;
                parse_properties(&text)
            }
            None => ConfigMap::new(),
        };
        map.extend(env_overrides(std::env::vars()));
        let cfg = Self::from_map(map)?;
        cfg.kafka.check(&cfg.bootstrap_servers)?;
        Ok(cfg)
    }

    /// Builds the typed config from merged keys.
    pub fn from_map(map: ConfigMap) -> Result<Self, WorkerConfigError> {
        let mut cfg = WorkerConfig::default();
        if let Some(v) = map.get("bootstrap.servers") {
            let v = v.trim();
            if v.is_empty() {
                return Err(invalid("bootstrap.servers", v, "must not be empty"));
            }
            cfg.bootstrap_servers = v.to_string();
        }
        if let Some(v) = map.get("worker.threads").filter(|v| !v.trim().is_empty()) {
            cfg.threads = Some(v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "worker.threads",
                    v,
                    "expected a number of threads, at least 1",
                )
            })?);
        }
        if let Some(v) = map.get("offset.flush.interval.ms") {
            let ms: u64 = v
                .trim()
                .parse()
                .map_err(|_| invalid("offset.flush.interval.ms", v, "expected milliseconds"))?;
            cfg.offset_flush_interval = Duration::from_millis(ms);
        }
        if let Some(v) = map
            .get("group.id")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            cfg.group_id = Some(v.to_string());
        }
        if let Some(v) = map
            .get("state.dir")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            cfg.state_dir = PathBuf::from(v);
        }
        cfg.override_policy = OverridePolicy::from_worker(&map)
            .map_err(|reason| invalid(POLICY_KEY, map.get(POLICY_KEY).map_or("", |v| v), reason))?;
        cfg.providers = ConfigProviders::from_worker(&map).map_err(|e| match e {
            ProviderError::Worker { key, reason } => {
                invalid(&key, map.get(&key).map_or("", |v| v), reason)
            }
            other => invalid("config.providers", "", other.to_string()),
        })?;
        cfg.rest_auth_file = map
            .get("rest.auth.credentials.file")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        cfg.rest_listeners = rest_listeners(&map)?;
        cfg.rest_host = cfg.rest_listeners[0].host.clone();
        cfg.rest_port = cfg.rest_listeners[0].port;
        if cfg.rest_listeners.iter().any(|l| l.scheme == Scheme::Https) {
            cfg.rest_tls = Some(
                listeners::parse_tls(&map)
                    .map_err(|(key, value, reason)| invalid(&key, &value, reason))?,
            );
        }
        cfg.worker_id = advertised_id(&map, &cfg.rest_host, cfg.rest_port)?;
        cfg.kafka = KafkaClients::from_worker(&map)?;

        for (key, value) in &map {
            if ["key.converter", "value.converter", "header.converter"]
                .iter()
                .any(|p| key == p || key.starts_with(&format!("{p}.")))
            {
                cfg.converter_defaults.insert(key.clone(), value.clone());
            }
            if !keys::is_known(key) {
                cfg.unknown_keys.push(key.clone());
            }
        }
        cfg.raw = map;
        Ok(cfg)
    }

    /// Distributed mode: on when `group.id` and `config.storage.topic` are both set
    /// (strictly opt-in; without them the worker is standalone with a `FileStore`).
    pub fn distributed(&self) -> Option<Distributed> {
        let get = |k: &str| {
            self.raw
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let group_id = self.group_id.clone()?;
        let config_topic = get("config.storage.topic")?;
        let status_topic =
            get("status.storage.topic").unwrap_or_else(|| format!("{config_topic}-status"));
        let replication = get("config.storage.replication.factor")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| default_number("config.storage.replication.factor"));
        let millis = |key: &str| {
            Duration::from_millis(
                get(key)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| default_number(key)),
            )
        };
        Some(Distributed {
            group_id,
            config_topic,
            status_topic,
            offset_topic: get("offset.storage.topic"),
            replication,
            status_replication: get("status.storage.replication.factor")
                .and_then(|v| v.parse().ok())
                .unwrap_or(replication),
            heartbeat: millis("heartbeat.interval.ms"),
            session: millis("session.timeout.ms"),
            sync_timeout: millis("worker.sync.timeout.ms"),
        })
    }

    /// The base config of one of the worker's Kafka clients: bootstrap servers, the worker's
    /// security settings and the role's passthrough keys.
    pub fn kafka_client(&self, role: Role) -> rdkafka::ClientConfig {
        self.kafka.config(&self.bootstrap_servers, role)
    }

    /// The base config of a client the worker makes for a connector's task:
    /// [`WorkerConfig::kafka_client`], then the connector's `<role>.override.*` keys the
    /// override policy allows, translated like the worker's own.
    pub fn connector_client(
        &self,
        role: Role,
        connector: &ConfigMap,
    ) -> Result<rdkafka::ClientConfig, ClientConfigError> {
        let prefix = format!("{}override.", role.prefix());
        let overrides = client_overrides(&self.override_policy, connector, &prefix);
        let mut config = self.kafka_client(role);
        client::apply_overrides(&mut config, &overrides, &prefix)?;
        Ok(config)
    }

    /// What a task consumer of `connector` (its task config) is made of:
    /// [`WorkerConfig::connector_client`] for the consumer role, the brokers, and the
    /// statistics interval (the offset flush interval: lag gauges refresh as often).
    pub fn task_consumer(
        &self,
        connector: &ConfigMap,
    ) -> Result<ConsumerSettings, ClientConfigError> {
        Ok(ConsumerSettings {
            bootstrap: self.bootstrap_servers.clone(),
            client: self.connector_client(Role::Consumer, connector)?,
            statistics_interval: self.offset_flush_interval,
        })
    }

    /// Every secret value of the worker config (the password inside `sasl.jaas.config`
    /// included), to mask wherever a message might show one.
    pub fn secret_values(&self) -> Vec<&str> {
        let mut values = cassink_config::secrets::secret_values(&self.raw);
        values.extend(self.kafka.secret_values());
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values
    }

    /// The REST bind address as `host:port` (IPv6 hosts bracketed).
    pub fn rest_bind(&self) -> String {
        host_port(&self.rest_host, self.rest_port)
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `listeners` wins over the deprecated `rest.host.name` / `rest.port` (http).
fn rest_listeners(map: &ConfigMap) -> Result<Vec<RestListener>, WorkerConfigError> {
    if let Some(value) = map.get("listeners") {
        return listeners::parse_listeners(value)
            .map_err(|reason| invalid("listeners", value, reason));
    }
    let host = map
        .get("rest.host.name")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| default_of("rest.host.name").into());
    let port = match map.get("rest.port") {
        Some(p) => p
            .trim()
            .parse()
            .map_err(|_| invalid("rest.port", p, "expected a port number"))?,
        None => default_number("rest.port"),
    };
    Ok(vec![RestListener {
        scheme: Scheme::Http,
        host,
        port,
    }])
}

fn advertised_id(map: &ConfigMap, host: &str, port: u16) -> Result<String, WorkerConfigError> {
    let adv_host = map
        .get("rest.advertised.host.name")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    let adv_port = match map.get("rest.advertised.port") {
        Some(p) => Some(
            p.trim()
                .parse::<u16>()
                .map_err(|_| invalid("rest.advertised.port", p, "expected a port number"))?,
        ),
        None => None,
    };
    let host = adv_host.unwrap_or_else(|| {
        if host == "0.0.0.0" || host == "::" {
            local_hostname()
        } else {
            host.to_string()
        }
    });
    Ok(host_port(&host, adv_port.unwrap_or(port)))
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Maps `CONNECT_*` variables to worker keys (Confluent image convention).
pub fn env_overrides(vars: impl IntoIterator<Item = (String, String)>) -> ConfigMap {
    vars.into_iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("CONNECT_")?;
            if rest.is_empty() {
                return None;
            }
            Some((env_key(rest), v))
        })
        .collect()
}

fn env_key(var: &str) -> String {
    var.to_ascii_lowercase()
        .replace("___", "\u{1}")
        .replace("__", "\u{2}")
        .replace('_', ".")
        .replace('\u{1}', "-")
        .replace('\u{2}', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributed_mode_is_opt_in() {
        let map = |pairs: &[(&str, &str)]| -> ConfigMap {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let standalone = WorkerConfig::from_map(map(&[("group.id", "g")])).unwrap();
        assert_eq!(
            standalone.distributed(),
            None,
            "group.id alone stays standalone"
        );
        let only_topic = WorkerConfig::from_map(map(&[("config.storage.topic", "c")])).unwrap();
        assert_eq!(only_topic.distributed(), None);
        let d = WorkerConfig::from_map(map(&[
            ("group.id", "g"),
            ("config.storage.topic", "c"),
            ("status.storage.topic", "s"),
            ("offset.storage.topic", "o"),
        ]))
        .unwrap()
        .distributed()
        .expect("distributed");
        assert_eq!(
            (
                d.group_id.as_str(),
                d.config_topic.as_str(),
                d.status_topic.as_str()
            ),
            ("g", "c", "s")
        );
        assert_eq!(d.offset_topic.as_deref(), Some("o"));
        assert_eq!(
            d.replication, 3,
            "Connect's default, capped at the broker count"
        );
        assert_eq!(
            (d.heartbeat, d.session),
            (Duration::from_secs(3), Duration::from_secs(10)),
            "Connect's defaults"
        );
    }

    #[test]
    fn env_follows_confluent_convention() {
        let vars = vec![
            (
                "CONNECT_BOOTSTRAP_SERVERS".to_string(),
                "b:9092".to_string(),
            ),
            ("CONNECT_REST_PORT".into(), "9000".into()),
            ("CONNECT_GROUP_ID".into(), "g".into()),
            ("CONNECT_CONSUMER_MAX__POLL__RECORDS".into(), "10".into()),
            ("CONNECT_FOO___BAR".into(), "x".into()),
            ("PATH".into(), "/bin".into()),
        ];
        let map = env_overrides(vars);
        assert_eq!(map["bootstrap.servers"], "b:9092");
        assert_eq!(map["rest.port"], "9000");
        assert_eq!(map["group.id"], "g");
        assert_eq!(map["consumer.max_poll_records"], "10");
        assert_eq!(map["foo-bar"], "x");
        assert_eq!(map.len(), 5);
    }

    #[test]
    fn typed_fields_defaults_and_unknown_keys() {
        let cfg = WorkerConfig::from_map(ConfigMap::new()).unwrap();
        assert_eq!(cfg.bootstrap_servers, "localhost:9092");
        assert_eq!(cfg.rest_port, 8083);
        assert_eq!(cfg.state_dir, PathBuf::from("./cassink-state"));
        assert_eq!(cfg.offset_flush_interval, Duration::from_secs(60));

        let mut map = parse_properties(
            "listeners=http://127.0.0.1:18083\nrest.advertised.host.name=w1\n\
             consumer.fetch.min.bytes=5\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter.schemas.enable=false\noffset.flush.interval.ms=1000\nbogus.key=1\n",
        );
        map.extend(env_overrides(vec![(
            "CONNECT_OFFSET_FLUSH_INTERVAL_MS".to_string(),
            "2000".to_string(),
        )]));
        let cfg = WorkerConfig::from_map(map).unwrap();
        assert_eq!(cfg.rest_bind(), "127.0.0.1:18083");
        assert_eq!(cfg.worker_id, "w1:18083");
        assert_eq!(
            cfg.kafka_client(Role::Consumer).get("fetch.min.bytes"),
            Some("5")
        );
        assert_eq!(
            cfg.converter_defaults["value.converter"],
            "org.apache.kafka.connect.storage.StringConverter"
        );
        assert_eq!(
            cfg.converter_defaults["value.converter.schemas.enable"],
            "false"
        );
        assert_eq!(cfg.offset_flush_interval, Duration::from_secs(2));
        assert_eq!(cfg.unknown_keys, vec!["bogus.key".to_string()]);
    }

    #[test]
    fn the_runtime_gets_the_threads_configured_or_half_the_cores() {
        let cfg = WorkerConfig::from_map(parse_properties("worker.threads=3\n")).unwrap();
        assert_eq!(cfg.runtime_threads(), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cfg = WorkerConfig::from_map(ConfigMap::new()).unwrap();
        assert_eq!(cfg.runtime_threads(), (cores / 2).max(1));
        for bad in ["0", "-1", "many"] {
            let err = WorkerConfig::from_map(parse_properties(&format!("worker.threads={bad}\n")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("worker.threads") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn bad_values_are_errors_naming_the_key() {
        let map = parse_properties("listeners=ftp://0.0.0.0:8443\n");
        let err = WorkerConfig::from_map(map).unwrap_err().to_string();
        assert!(err.contains("listeners") && err.contains("ftp"), "{err}");
        let map = parse_properties("listeners=http://:8083,https://0.0.0.0:8443\n");
        let err = WorkerConfig::from_map(map).unwrap_err().to_string();
        assert!(
            err.contains("listeners.https.ssl.certificate.location"),
            "{err}"
        );
        let map = parse_properties(
            "listeners=http://:8083,https://0.0.0.0:8443\n\
             listeners.https.ssl.keystore.location=/tls.pem\n",
        );
        let cfg = WorkerConfig::from_map(map).unwrap();
        assert_eq!(cfg.rest_listeners.len(), 2);
        assert!(cfg.rest_tls.is_some() && cfg.unknown_keys.is_empty());
        let map = parse_properties("rest.port=eighty\n");
        assert!(WorkerConfig::from_map(map)
            .unwrap_err()
            .to_string()
            .contains("rest.port"));
        let map = parse_properties("rest.host.name=::1\nrest.port=9\n");
        assert_eq!(WorkerConfig::from_map(map).unwrap().rest_bind(), "[::1]:9");
    }
}
