//! The DataStax sink's config keys, verbatim: one definition that parses, validates and
//! documents them. Values are strings and may carry stray whitespace.

use super::mapping::Mapping;
use super::tls::SslConfig;
use super::units::{Compression, ConsistencyLevel, TimeUnit};
use cassink_config::{
    parse_bool, parse_list, ConfigDef, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance,
};
use cassink_connector::Framework;
use cassink_tls::TlsError;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

const CONN: &str = "Connection";
const TABLE: &str = "Table";
const CODEC: &str = "Codec";

/// Suffixes of per-table keys `topic.<topic>.<keyspace>.<table>.<suffix>`.
const TABLE_SETTINGS: &[&str] = &[
    "mapping",
    "consistencyLevel",
    "ttl",
    "ttlTimeUnit",
    "timestampTimeUnit",
    "nullToUnset",
    "deletesEnabled",
    "query",
];
/// Suffixes of per-topic codec keys `topic.<topic>.codec.<suffix>`.
const CODEC_SETTINGS: &[&str] = &["locale", "timeZone", "timestamp", "date", "time", "unit"];
const SSL: &str = "SSL";
/// DataStax keys cassink accepts but does not act on (yet): reported as warnings. `ssl.*`
/// keys of [`definition`] are implemented; other `ssl.*` keys (cipher suites) are not.
const UNIMPLEMENTED_PREFIXES: &[&str] = &[
    "jmx",
    "ssl.",
    "auth.gssapi.",
    "datastax-java-driver.",
    "metricsHighestLatency",
];

/// Keys cassink cannot honour yet that would send the data somewhere other than
/// `contactPoints` / `loadBalancing.localDc`: refused at validation, never ignored.
const REFUSED_KEYS: &[(&str, &str)] = &[
    ("cloud.secureConnectBundle", "DataStax Astra secure connect bundles are not supported by cassink yet; connect to the cluster's nodes with contactPoints, loadBalancing.localDc and ssl.*"),
    ("datastax-java-driver.basic.cloud.secure-connect-bundle", "DataStax Astra secure connect bundles are not supported by cassink yet; connect with contactPoints, loadBalancing.localDc and ssl.*"),
    ("datastax-java-driver.basic.contact-points", "driver settings are not read by cassink; use contactPoints (and port)"),
    ("datastax-java-driver.basic.load-balancing-policy.local-datacenter", "driver settings are not read by cassink; use loadBalancing.localDc"),
    ("datastax-java-driver.basic.session-keyspace", "driver settings are not read by cassink; name the keyspace in topic.<topic>.<keyspace>.<table>.mapping"),
];

/// The sink's keys: what parses, validates and documents them (built once).
pub fn definition() -> &'static ConfigDef {
    static DEFINITION: LazyLock<ConfigDef> = LazyLock::new(build_definition);
    &DEFINITION
}

fn build_definition() -> ConfigDef {
    use ConfigType::*;
    ConfigDef::new(vec![
        ConfigKey::new("contactPoints", List, "Comma-separated Cassandra hosts (host or host:port); empty means localhost.").default("").group(CONN).importance(Importance::High),
        ConfigKey::new("port", Int, "CQL native port of the contact points.").default("9042").group(CONN),
        ConfigKey::new("loadBalancing.localDc", String, "The local datacenter (Cassandra's default is datacenter1).").default("").group(CONN).importance(Importance::High),
        ConfigKey::new("maxConcurrentRequests", Int, "Most write requests in flight per task.").default("500").group(CONN),
        ConfigKey::new("maxNumberOfRecordsInBatch", Int, "Most records in one UNLOGGED batch (same table and partition key).").default("32").group(CONN),
        ConfigKey::new("queryExecutionTimeout", Int, "Seconds a write may take before it counts as failed (and is retried).").default("30").group(CONN),
        ConfigKey::new("connectionPoolLocalSize", Int, "Connections per node.").default("4").group(CONN),
        ConfigKey::new("compression", String, "Frame compression: None, LZ4 or Snappy.").default("None").allowed(Compression::NAMES).group(CONN),
        ConfigKey::new("ignoreErrors", String, "DataStax error handling: None, Driver or All (mapped onto errors.tolerance).").default("None").allowed(&["None", "Driver", "All", "true", "false"]).group(CONN),
        ConfigKey::new("auth.provider", String, "None or PLAIN (username/password).").default("None").allowed(&["None", "PLAIN"]).group("Authentication"),
        ConfigKey::new("auth.username", String, "Username for PLAIN authentication.").default("").group("Authentication"),
        ConfigKey::new("auth.password", Password, "Password for PLAIN authentication.").default("").group("Authentication"),
        ConfigKey::new("ssl.provider", String, "TLS to Cassandra: None (plain), or JDK / OpenSSL (both mean TLS with rustls here).").default("None").allowed(&["None", "JDK", "OpenSSL"]).group(SSL),
        ConfigKey::new("ssl.truststore.path", String, "The CA certificates the nodes' certificates must chain to: a PEM file, or a JKS or PKCS#12 truststore (told by its content) whose trusted-certificate entries become the roots. Empty: the system CA bundle.").default("").group(SSL),
        ConfigKey::new("ssl.truststore.password", Password, "Opens a JKS or PKCS#12 ssl.truststore.path (PEM needs none).").default("").group(SSL),
        ConfigKey::new("ssl.keystore.path", String, "Mutual TLS: a JKS or PKCS#12 keystore (or a PEM file with chain and unencrypted key) whose first private-key entry (by alias for JKS, in file order for PKCS#12) and its certificate chain are presented to the nodes. Not together with ssl.openssl.keyCertChain.").default("").group(SSL),
        ConfigKey::new("ssl.keystore.password", Password, "Opens ssl.keystore.path and its key entry (keytool's default: the key is protected with the store password).").default("").group(SSL),
        ConfigKey::new("ssl.hostnameValidation", Boolean, "Check that the node certificate names the host of the first contact point (one name for all nodes).").default("true").group(SSL),
        ConfigKey::new("ssl.openssl.keyCertChain", String, "Mutual TLS: PEM client certificate chain presented to the nodes.").default("").group(SSL),
        ConfigKey::new("ssl.openssl.privateKey", String, "Mutual TLS: the unencrypted PEM private key of ssl.openssl.keyCertChain.").default("").group(SSL),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.mapping", String, "Required per table: column=source pairs (value.f, key.f, key, value, header.h, now(), __ttl, __timestamp).").group(TABLE).importance(Importance::High),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.consistencyLevel", String, "Write consistency level.").default("LOCAL_ONE").allowed(ConsistencyLevel::NAMES).group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.ttl", Int, "TTL in ttlTimeUnit for every write; -1 = none.").default("-1").group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.ttlTimeUnit", String, "Unit of ttl and __ttl.").default("SECONDS").allowed(TimeUnit::NAMES).group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.timestampTimeUnit", String, "Unit of __timestamp.").default("MICROSECONDS").allowed(TimeUnit::NAMES).group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.nullToUnset", Boolean, "Bind null fields as unset (leave the cell as it is) instead of deleting the cell.").default("true").group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.deletesEnabled", Boolean, "A record whose only non-null fields are the primary key deletes the row.").default("true").group(TABLE),
        ConfigKey::new("topic.<topic>.<keyspace>.<table>.query", String, "A custom CQL statement with named bind markers (:column) replacing the generated INSERT.").default("").group(TABLE),
        ConfigKey::new("topic.<topic>.codec.locale", String, "Locale of textual numbers and dates.").default("en_US").group(CODEC),
        ConfigKey::new("topic.<topic>.codec.timeZone", String, "Time zone of timestamps without an offset.").default("UTC").group(CODEC),
        ConfigKey::new("topic.<topic>.codec.timestamp", String, "CQL_TIMESTAMP or a pattern such as yyyy-MM-dd HH:mm:ss.").default("CQL_TIMESTAMP").group(CODEC),
        ConfigKey::new("topic.<topic>.codec.date", String, "ISO_LOCAL_DATE or a pattern.").default("ISO_LOCAL_DATE").group(CODEC),
        ConfigKey::new("topic.<topic>.codec.time", String, "ISO_LOCAL_TIME or a pattern.").default("ISO_LOCAL_TIME").group(CODEC),
        ConfigKey::new("topic.<topic>.codec.unit", String, "Unit of numeric timestamps.").default("MILLISECONDS").allowed(TimeUnit::NAMES).group(CODEC),
    ])
}

/// Settings of one `topic.<topic>.<keyspace>.<table>` entry.
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub topic: String,
    pub keyspace: String,
    pub table: String,
    pub mapping: Mapping,
    pub consistency: ConsistencyLevel,
    /// Fixed TTL in seconds (`None` when -1).
    pub ttl_seconds: Option<i64>,
    pub ttl_unit: TimeUnit,
    pub timestamp_unit: TimeUnit,
    pub null_to_unset: bool,
    pub deletes_enabled: bool,
    pub query: Option<String>,
}

impl TableConfig {
    /// `keyspace.table` as users write it in errors.
    pub fn name(&self) -> String {
        format!("{}.{}", self.keyspace, self.table)
    }
}

/// The parsed sink config.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub contact_points: Vec<String>,
    pub port: u16,
    pub local_dc: Option<String>,
    pub max_concurrent_requests: usize,
    pub max_batch: usize,
    pub query_timeout: Duration,
    pub pool_size: usize,
    pub compression: Compression,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `ssl.*`: TLS to the nodes when `ssl.provider` is not `None`.
    pub ssl: Option<SslConfig>,
    pub tables: Vec<TableConfig>,
    pub raw: ConfigMap,
}

/// A key of the form `topic.<...>`: which topic/table it is about and which setting.
enum TopicKey {
    Table {
        topic: String,
        keyspace: String,
        table: String,
        setting: String,
    },
    Codec {
        topic: String,
    },
}

fn split_topic_key(key: &str) -> Option<TopicKey> {
    let rest = key.strip_prefix("topic.")?;
    let (head, setting) = rest.rsplit_once('.')?;
    if CODEC_SETTINGS.contains(&setting) {
        if let Some(topic) = head.strip_suffix(".codec") {
            return Some(TopicKey::Codec {
                topic: topic.to_string(),
            });
        }
    }
    if !TABLE_SETTINGS.contains(&setting) {
        return None;
    }
    let (head, table) = head.rsplit_once('.')?;
    let (topic, keyspace) = head.rsplit_once('.')?;
    if topic.is_empty() || keyspace.is_empty() || table.is_empty() {
        return None;
    }
    Some(TopicKey::Table {
        topic: topic.into(),
        keyspace: unquote(keyspace),
        table: unquote(table),
        setting: setting.into(),
    })
}

/// Keyspace/table names: quoted keep case, unquoted lower-cased (CQL rules).
fn unquote(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => name.to_lowercase(),
    }
}

fn topics_of(config: &ConfigMap) -> Vec<String> {
    parse_list(config.get("topics").map(String::as_str).unwrap_or(""))
}

/// Static validation of every sink key; one entry per key checked.
pub fn validate(config: &ConfigMap, framework: Framework) -> Vec<ConfigValue> {
    let def = definition();
    let mut values = def.validate(config);
    let mut tables_per_topic: std::collections::BTreeMap<String, usize> = Default::default();
    for (key, raw) in config {
        let refused = REFUSED_KEYS
            .iter()
            .find(|(k, _)| key == k || key.starts_with(&format!("{k}.")));
        if let Some((_, why)) = refused {
            values.push(
                ConfigValue::new(key, Some(raw.clone())).with_error(format!(
                    "{key} is not supported: {why} (refused rather than ignored: it would change where the data goes)"
                )),
            );
            continue;
        }
        let Some(tk) = split_topic_key(key) else {
            if key.starts_with("topic.") {
                values.push(ConfigValue::new(key, Some(raw.clone())).with_error(format!(
                    "{key} is not a known per-table (topic.<topic>.<keyspace>.<table>.{{{}}}) or codec (topic.<topic>.codec.{{{}}}) key",
                    TABLE_SETTINGS.join(","),
                    CODEC_SETTINGS.join(",")
                )));
            }
            continue;
        };
        let setting = match &tk {
            TopicKey::Table { setting, .. } => {
                format!("topic.<topic>.<keyspace>.<table>.{setting}")
            }
            TopicKey::Codec { .. } => format!(
                "topic.<topic>.codec.{}",
                key.rsplit('.').next().unwrap_or_default()
            ),
        };
        let mut value = ConfigValue::new(key, Some(raw.clone()));
        if let Some(k) = def.key(&setting) {
            if let Err(e) = cassink_config::check_value(key, k, raw) {
                value.errors.push(e);
            }
        }
        if let TopicKey::Codec { topic } = &tk {
            if let Err(e) = super::codec::CodecSettings::from_topic_config(topic, config) {
                value.errors.push(format!("{key}: {e}"));
            }
        }
        if let TopicKey::Table { topic, setting, .. } = &tk {
            if setting == "mapping" {
                *tables_per_topic.entry(topic.clone()).or_default() += 1;
                if let Err(e) = Mapping::parse(raw) {
                    value.errors.push(format!("{key}: {e}"));
                }
            }
        }
        values.push(value);
    }
    if let Some(ssl) = ssl_config(config) {
        if let Err(e) = ssl.client_config() {
            let key = match &e {
                TlsError::File { what: key, .. } | TlsError::Key { key, .. }
                    if key.starts_with("ssl.") =>
                {
                    *key
                }
                _ => "ssl.provider",
            };
            values.push(ConfigValue::new(key, config.get(key).cloned()).with_error(e.to_string()));
        }
    }
    let topics = topics_of(config);
    // A router transform renames topics: mappings are then for the names it gives, and which
    // read topic ends where is known only per record (an unmapped one fails that record).
    let routed = framework.routes_topics;
    for topic in topics.iter().filter(|_| !routed) {
        if !tables_per_topic.contains_key(topic) {
            values.push(
                ConfigValue::new("topics", config.get("topics").cloned()).with_error(format!(
                "topic {topic} has no table mapping: add topic.{topic}.<keyspace>.<table>.mapping"
            )),
            );
        }
    }
    for topic in tables_per_topic.keys() {
        if !routed && !topics.is_empty() && !topics.contains(topic) {
            values.push(
                ConfigValue::new(format!("topic.{topic}"), None).with_error(format!(
                    "mapping for topic {topic}, which is not in topics ({})",
                    topics.join(",")
                )),
            );
        }
    }
    values
}

/// The `ssl.*` settings, when `ssl.provider` turns TLS on.
fn ssl_config(config: &ConfigMap) -> Option<SslConfig> {
    let get = |k: &str| {
        config
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let provider = get("ssl.provider").unwrap_or_default();
    if provider.is_empty() || provider.eq_ignore_ascii_case("none") {
        return None;
    }
    Some(SslConfig {
        truststore: get("ssl.truststore.path").map(PathBuf::from),
        // Passwords are taken as written: spaces may be part of them.
        truststore_password: config
            .get("ssl.truststore.password")
            .cloned()
            .unwrap_or_default(),
        keystore: get("ssl.keystore.path").map(PathBuf::from),
        keystore_password: config
            .get("ssl.keystore.password")
            .cloned()
            .unwrap_or_default(),
        key_cert_chain: get("ssl.openssl.keyCertChain").map(PathBuf::from),
        private_key: get("ssl.openssl.privateKey").map(PathBuf::from),
        hostname_validation: get("ssl.hostnameValidation")
            .and_then(|v| parse_bool(&v))
            .unwrap_or(true),
    })
}

/// Accepted keys that cassink does not act on yet.
pub fn warnings(config: &ConfigMap) -> Vec<String> {
    let def = definition();
    config
        .keys()
        .filter(|k| UNIMPLEMENTED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .filter(|k| !REFUSED_KEYS.iter().any(|(r, _)| k.starts_with(r)))
        .filter(|k| def.key(k).is_none())
        .map(|k| format!("{k} is accepted but not implemented by cassink yet; it has no effect"))
        .collect()
}

impl SinkConfig {
    /// Parses a config that [`validate`] accepted; errors name the key.
    pub fn parse(config: &ConfigMap, framework: Framework) -> Result<SinkConfig, String> {
        let errors: Vec<String> = validate(config, framework)
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        let get = |k: &str| -> String { value_or_default(config, k, k) };
        let num = |k: &str| -> Result<i64, String> {
            get(k).parse::<i64>().map_err(|e| format!("{k}: {e}"))
        };
        let mut tables: Vec<TableConfig> = Vec::new();
        for (key, raw) in config {
            let Some(TopicKey::Table {
                topic,
                keyspace,
                table,
                setting,
            }) = split_topic_key(key)
            else {
                continue;
            };
            if setting != "mapping" {
                continue;
            }
            let prefix = key.trim_end_matches(".mapping");
            let setting = |s: &str| {
                value_or_default(
                    config,
                    &format!("{prefix}.{s}"),
                    &format!("topic.<topic>.<keyspace>.<table>.{s}"),
                )
            };
            // validate() checked every value against the allowed ones.
            let unit = |s: &str| {
                TimeUnit::parse(&setting(s)).ok_or_else(|| format!("{prefix}.{s}: unknown unit"))
            };
            let ttl_unit = unit("ttlTimeUnit")?;
            let ttl: i64 = setting("ttl")
                .parse()
                .map_err(|e| format!("{prefix}.ttl: {e}"))?;
            let max = super::statement::MAX_TTL_SECONDS;
            let ttl_seconds = match (ttl >= 0).then(|| ttl_unit.to_seconds(ttl)) {
                None => None,
                Some(Some(seconds)) if seconds <= max => Some(seconds),
                Some(_) => {
                    return Err(format!(
                        "{prefix}.ttl: {ttl} {ttl_unit} is beyond Cassandra's maximum TTL of {max} s (20 years)"
                    ))
                }
            };
            let query = setting("query");
            let consistency = ConsistencyLevel::parse(&setting("consistencyLevel"))
                .ok_or_else(|| format!("{prefix}.consistencyLevel: unknown level"))?;
            tables.push(TableConfig {
                topic,
                keyspace,
                table,
                mapping: Mapping::parse(raw).map_err(|e| format!("{key}: {e}"))?,
                consistency,
                ttl_seconds,
                ttl_unit,
                timestamp_unit: unit("timestampTimeUnit")?,
                null_to_unset: flag(&setting("nullToUnset"), "nullToUnset")?,
                deletes_enabled: flag(&setting("deletesEnabled"), "deletesEnabled")?,
                query: (!query.is_empty()).then_some(query),
            });
        }
        let contact_points = parse_list(&get("contactPoints"));
        let username = Some(get("auth.username")).filter(|s| !s.is_empty());
        Ok(SinkConfig {
            contact_points: if contact_points.is_empty() {
                vec!["127.0.0.1".into()]
            } else {
                contact_points
            },
            port: u16::try_from(num("port")?).map_err(|e| format!("port: {e}"))?,
            local_dc: Some(get("loadBalancing.localDc")).filter(|s| !s.is_empty()),
            max_concurrent_requests: num("maxConcurrentRequests")?.max(1) as usize,
            max_batch: num("maxNumberOfRecordsInBatch")?.max(1) as usize,
            query_timeout: Duration::from_secs(num("queryExecutionTimeout")?.max(1) as u64),
            pool_size: num("connectionPoolLocalSize")?.max(1) as usize,
            compression: Compression::parse(&get("compression"))
                .ok_or_else(|| "compression: unknown compression".to_string())?,
            password: username.as_ref().map(|_| get("auth.password")),
            ssl: ssl_config(config),
            username,
            tables,
            raw: config.clone(),
        })
    }

    /// The tables a topic's records go to.
    pub fn tables_for<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a TableConfig> + 'a {
        self.tables.iter().filter(move |t| t.topic == topic)
    }
}

/// The value of `key`, trimmed, else the default of `definition_key` (its name in
/// [`definition`]: a pattern for per-table keys).
fn value_or_default(config: &ConfigMap, key: &str, definition_key: &str) -> String {
    config
        .get(key)
        .map(|v| v.trim().to_string())
        .or_else(|| {
            definition()
                .key(definition_key)
                .and_then(|d| d.default)
                .map(String::from)
        })
        .unwrap_or_default()
}

fn flag(raw: &str, setting: &str) -> Result<bool, String> {
    parse_bool(raw).ok_or_else(|| format!("{setting}: {raw:?} is not true or false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter() -> ConfigMap {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../connectors/meter.json"
        ))
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["config"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn shipped_meter_config_parses() {
        let c = SinkConfig::parse(&meter(), Framework::default()).unwrap();
        assert_eq!(c.tables.len(), 1);
        let t = &c.tables[0];
        assert_eq!(
            (t.topic.as_str(), t.keyspace.as_str(), t.table.as_str()),
            ("meter", "kafkapipeline", "meter_data")
        );
        assert_eq!(t.mapping.columns().count(), 9);
        assert_eq!(c.max_batch, 32);
    }

    #[test]
    fn dotted_topics_and_whitespace_are_handled() {
        let mut c = ConfigMap::new();
        c.insert("topics".into(), " a.b ".into());
        c.insert("topic.a.b.ks.t.mapping".into(), "x=value.x".into());
        c.insert("topic.a.b.ks.t.ttl".into(), " 2 ".into());
        c.insert("topic.a.b.ks.t.ttlTimeUnit".into(), "MINUTES".into());
        c.insert("maxNumberOfRecordsInBatch".into(), " 10 ".into());
        let parsed = SinkConfig::parse(&c, Framework::default()).unwrap();
        assert_eq!(parsed.tables[0].topic, "a.b");
        assert_eq!(parsed.tables[0].ttl_seconds, Some(120));
        assert_eq!(parsed.max_batch, 10);
    }

    #[test]
    fn a_ttl_beyond_cassandras_maximum_is_refused_naming_the_key() {
        let mut c = meter();
        c.insert(
            "topic.meter.kafkapipeline.meter_data.ttl".into(),
            "7301".into(),
        );
        c.insert(
            "topic.meter.kafkapipeline.meter_data.ttlTimeUnit".into(),
            "DAYS".into(),
        );
        let e = SinkConfig::parse(&c, Framework::default()).unwrap_err();
        assert!(
            e.contains("topic.meter.kafkapipeline.meter_data.ttl") && e.contains("630720000"),
            "{e}"
        );
        c.insert(
            "topic.meter.kafkapipeline.meter_data.ttl".into(),
            "7300".into(),
        );
        assert!(SinkConfig::parse(&c, Framework::default()).is_ok());
    }

    #[test]
    fn bad_values_are_named() {
        let mut c = meter();
        c.insert(
            "topic.meter.kafkapipeline.meter_data.consistencyLevel".into(),
            "SOMETIMES".into(),
        );
        c.insert("port".into(), "x".into());
        c.insert(
            "topic.meter.kafkapipeline.meter_data.mapping".into(),
            "id=valu.id".into(),
        );
        let errors: Vec<String> = validate(&c, Framework::default())
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("consistencyLevel")));
        assert!(errors.iter().any(|e| e.contains("port")));
        assert!(errors.iter().any(|e| e.contains("unknown source 'valu'")));
    }

    #[test]
    fn a_topic_without_a_mapping_is_an_error() {
        let mut c = meter();
        c.insert("topics".into(), "meter,other".into());
        let errors: Vec<String> = validate(&c, Framework::default())
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("topic other has no table mapping")),
            "{errors:?}"
        );
    }
}
