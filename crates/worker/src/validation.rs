//! Connector config validation: the framework keys (one [`ConfigDef`] plus the cross-key
//! rules) and then the plugin's own keys. The result has the exact shape of Connect's
//! `PUT /connector-plugins/{p}/config/validate` response and backs the 400 on create.

use crate::plugins::{find_plugin, plugins};
use crate::security::overrides::OverridePolicy;
use cassink_config::secrets::{self, HIDDEN};
use cassink_config::{
    parse_list, ConfigDef, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance,
};
use cassink_connector::{Framework, SinkConnector};
use cassink_convert::{self as convert, Part};
use serde::Serialize;
use std::sync::{Arc, LazyLock};

const TRANSFORMS: &str = "Transforms";
const PREDICATES: &str = "Predicates";
const ERRORS: &str = "Error Handling";
/// Longest connector name accepted (it becomes a file name in `state.dir`).
const MAX_NAME_CHARS: usize = 255;

static FRAMEWORK: LazyLock<ConfigDef> = LazyLock::new(|| {
    use ConfigType::*;
    ConfigDef::new(vec![
        ConfigKey::new("name", String, "Globally unique name to use for this connector.")
            .required(),
        ConfigKey::new(
            "connector.class",
            Class,
            "Name or alias of the class for this connector, e.g. com.datastax.oss.kafka.sink.CassandraSinkConnector.",
        )
        .required(),
        ConfigKey::new("tasks.max", Int, "Maximum number of tasks to use for this connector.")
            .default("1")
            .importance(Importance::High),
        ConfigKey::new(
            "topics",
            List,
            "List of topics to consume, separated by commas.",
        )
        .default("")
        .importance(Importance::High),
        ConfigKey::new(
            "topics.regex",
            String,
            "Regular expression giving topics to consume. Exactly one of topics or topics.regex must be set.",
        )
        .default("")
        .importance(Importance::High),
        ConfigKey::new("key.converter", Class, "Converter class for record keys; overrides the worker default.")
            .importance(Importance::Low),
        ConfigKey::new("value.converter", Class, "Converter class for record values; overrides the worker default.")
            .importance(Importance::Low),
        ConfigKey::new("header.converter", Class, "Converter class for record headers; overrides the worker default.")
            .importance(Importance::Low),
        ConfigKey::new("transforms", List, "Aliases for the transformations to apply to records, in order.")
            .default("")
            .importance(Importance::Low)
            .group(TRANSFORMS),
        ConfigKey::new("predicates", List, "Aliases for the predicates used by transformations.")
            .default("")
            .importance(Importance::Low)
            .group(PREDICATES),
        ConfigKey::new("errors.retry.timeout", Long, "Maximum duration in milliseconds a failed conversion (e.g. an unreachable schema registry) is retried before the task fails; -1 for infinite. Writes to Cassandra are retried until the outage ends whatever this says.")
            .default("-1")
            .group(ERRORS),
        ConfigKey::new("errors.retry.delay.max.ms", Long, "Maximum duration in milliseconds between consecutive retries of a transient failure (Kafka Connect's default is 60000; cassink's 10000 so a task resumes within seconds of an outage ending).")
            .default("10000")
            .group(ERRORS),
        ConfigKey::new("errors.tolerance", String, "none: an error fails the task; all: problematic records are skipped (and sent to the dead letter queue when configured).")
            .default("none")
            .allowed(&["none", "all"])
            .group(ERRORS),
        ConfigKey::new("errors.log.enable", Boolean, "Log every error and the failed operation.")
            .default("false")
            .group(ERRORS),
        ConfigKey::new("errors.log.include.messages", Boolean, "Include the failed record in error logs.")
            .default("false")
            .group(ERRORS),
        ConfigKey::new("errors.deadletterqueue.topic.name", String, "Topic that receives records that failed (empty: no dead letter queue).")
            .default("")
            .group(ERRORS),
        ConfigKey::new("errors.deadletterqueue.topic.replication.factor", Int, "Replication factor used to create the dead letter queue topic when it does not exist.")
            .default("3")
            .group(ERRORS),
        ConfigKey::new("errors.deadletterqueue.context.headers.enable", Boolean, "Add __connect.errors.* headers describing the failure to dead letter records.")
            .default("false")
            .group(ERRORS),
    ])
});

/// The framework keys every connector accepts.
pub fn framework_def() -> &'static ConfigDef {
    &FRAMEWORK
}

/// `definition` of a validate entry (Connect's `ConfigKeyInfo`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigKeyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: Importance,
    pub documentation: String,
    pub group: String,
    pub order_in_group: i32,
    pub width: &'static str,
    pub display_name: String,
    pub dependents: Vec<String>,
    pub order: i32,
}

impl ConfigKeyInfo {
    pub fn from_key(key: &ConfigKey, order: i32) -> Self {
        Self {
            name: key.name.to_string(),
            ty: key.ty,
            required: key.required && key.default.is_none(),
            default_value: key.default.map(String::from),
            importance: key.importance,
            documentation: key.documentation.to_string(),
            group: key.group.to_string(),
            order_in_group: order,
            width: "NONE",
            display_name: key.name.to_string(),
            dependents: Vec::new(),
            order,
        }
    }

    fn undocumented(name: &str, order: i32) -> Self {
        let mut info = Self::from_key(&ConfigKey::new("", ConfigType::String, ""), order);
        info.name = name.to_string();
        info.display_name = name.to_string();
        info.group = "Connector".into();
        info
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValue,
}

/// The validate response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: usize,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
    /// Accepted-but-unimplemented keys reported by the plugin (cassink extension).
    pub warnings: Vec<String>,
}

impl ConfigInfos {
    /// Every error, each prefixed by its key unless the message names it already.
    pub fn errors(&self) -> Vec<String> {
        self.configs
            .iter()
            .flat_map(|c| {
                c.value.errors.iter().map(move |e| {
                    if e.contains(&c.value.name) {
                        e.clone()
                    } else {
                        format!("{}: {e}", c.value.name)
                    }
                })
            })
            .collect()
    }
}

/// Resolves `connector.class` to a plugin.
pub fn plugin_for(config: &ConfigMap) -> Option<Arc<dyn SinkConnector>> {
    config.get("connector.class").and_then(|c| find_plugin(c))
}

/// [`validate_with`] under the default override policy (`None`).
/// What the framework keys of `config` mean for its plugin's own validation.
pub fn framework(config: &ConfigMap) -> Framework {
    Framework {
        routes_topics: cassink_transform::may_route(config),
    }
}

pub fn validate(config: &ConfigMap) -> ConfigInfos {
    validate_with(config, &OverridePolicy::default())
}

/// Validates the framework keys, the client overrides against the worker's `policy` and,
/// when `connector.class` names a known plugin, the plugin keys. Secret values are echoed as
/// `[hidden]`, in values and in error messages.
pub fn validate_with(config: &ConfigMap, policy: &OverridePolicy) -> ConfigInfos {
    let mut infos = validate_keys(config);
    for (key, error) in policy.violations(config) {
        let order = infos.configs.len() as i32 + 1;
        let value = ConfigValue::new(&key, config.get(&key).cloned()).with_error(error.to_string());
        infos.configs.push(ConfigInfo {
            definition: ConfigKeyInfo::undocumented(&key, order),
            value,
        });
    }
    mask_secrets(&mut infos, config);
    infos.error_count = infos.configs.iter().map(|c| c.value.errors.len()).sum();
    infos
}

/// Replaces secret values (by name or PASSWORD type) with `[hidden]`, in values and errors.
fn mask_secrets(infos: &mut ConfigInfos, config: &ConfigMap) {
    let mut hidden: Vec<&str> = secrets::secret_values(config);
    for c in &infos.configs {
        if c.definition.ty == ConfigType::Password {
            if let Some(v) = config.get(&c.value.name).filter(|v| !v.is_empty()) {
                hidden.push(v);
            }
        }
    }
    hidden.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for c in &mut infos.configs {
        let secret = secrets::is_secret_typed(&c.value.name, Some(c.definition.ty));
        if secret && c.value.value.as_deref().is_some_and(|v| !v.is_empty()) {
            c.value.value = Some(HIDDEN.to_string());
        }
        for e in &mut c.value.errors {
            *e = secrets::redact_values(e, &hidden);
        }
    }
}

fn validate_keys(config: &ConfigMap) -> ConfigInfos {
    let def = framework_def();
    let mut values = def.validate(config);
    apply_framework_rules(config, &mut values);
    let mut configs: Vec<ConfigInfo> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let definition = def
                .key(&value.name)
                .map(|k| ConfigKeyInfo::from_key(k, i as i32 + 1))
                .unwrap_or_else(|| ConfigKeyInfo::undocumented(&value.name, i as i32 + 1));
            ConfigInfo { definition, value }
        })
        .collect();
    let mut groups: Vec<String> = def.groups().into_iter().map(String::from).collect();
    let plugin = plugin_for(config);
    let mut warnings = Vec::new();
    let name = match &plugin {
        Some(p) => {
            let pdef = p.config_def();
            for (i, value) in p
                .validate(config, framework(config))
                .into_iter()
                .enumerate()
            {
                // A plugin check on a framework key (e.g. `topics`) joins that key's entry.
                if let Some(existing) = configs.iter_mut().find(|c| c.value.name == value.name) {
                    existing.value.errors.extend(value.errors);
                    continue;
                }
                let definition = pdef
                    .key(&value.name)
                    .map(|k| ConfigKeyInfo::from_key(k, i as i32 + 1))
                    .unwrap_or_else(|| ConfigKeyInfo::undocumented(&value.name, i as i32 + 1));
                if !groups.contains(&definition.group) {
                    groups.push(definition.group.clone());
                }
                configs.push(ConfigInfo { definition, value });
            }
            warnings = p.warnings(config);
            p.class_name().to_string()
        }
        None => config.get("connector.class").cloned().unwrap_or_default(),
    };
    let error_count = configs.iter().map(|c| c.value.errors.len()).sum();
    ConfigInfos {
        name,
        error_count,
        groups,
        configs,
        warnings,
    }
}

fn value_mut<'a>(values: &'a mut [ConfigValue], key: &str) -> Option<&'a mut ConfigValue> {
    values.iter_mut().find(|v| v.name == key)
}

fn add_error(values: &mut [ConfigValue], key: &str, error: String) {
    if let Some(v) = value_mut(values, key) {
        v.errors.push(error);
    }
}

fn has_value(config: &ConfigMap, key: &str) -> bool {
    config.get(key).is_some_and(|v| !v.trim().is_empty())
}

fn apply_framework_rules(config: &ConfigMap, values: &mut [ConfigValue]) {
    if let Some(name) = config.get("name") {
        if name.trim().is_empty() {
            add_error(values, "name", "Connector name must not be empty".into());
        } else if name.contains('/') || name.contains('\\') {
            add_error(
                values,
                "name",
                format!("Connector name {name:?} must not contain '/' or '\\'"),
            );
        } else if name.contains("..") {
            add_error(
                values,
                "name",
                format!("Connector name {name:?} must not contain '..'"),
            );
        } else if name.chars().count() > MAX_NAME_CHARS {
            add_error(
                values,
                "name",
                format!("Connector name must be at most {MAX_NAME_CHARS} characters"),
            );
        } else if name.chars().any(char::is_control) {
            add_error(
                values,
                "name",
                "Connector name must not contain control characters".into(),
            );
        }
    }
    if let Some(class) = config.get("connector.class") {
        if find_plugin(class).is_none() {
            let known: Vec<String> = plugins()
                .iter()
                .map(|p| p.class_name().to_string())
                .collect();
            add_error(
                values,
                "connector.class",
                format!(
                    "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                    known.join(", ")
                ),
            );
        }
    }
    if let Some(raw) = config.get("tasks.max") {
        if matches!(raw.trim().parse::<i32>(), Ok(n) if n < 1) {
            add_error(
                values,
                "tasks.max",
                format!(
                    "Invalid value {raw} for configuration tasks.max: Value must be at least 1"
                ),
            );
        }
    }
    check_topics(config, values);
    // The transforms and predicates as the task will build them.
    if let Err(e) = cassink_transform::Chain::from_config(config) {
        let owner = if e.key.starts_with("predicates") {
            "predicates"
        } else {
            "transforms"
        };
        add_error(
            values,
            owner,
            format!("Invalid value for configuration {}: {}", e.key, e.message),
        );
    }
    if let Some(raw) = config.get("errors.retry.timeout") {
        if matches!(raw.trim().parse::<i64>(), Ok(n) if n < -1) {
            add_error(
                values,
                "errors.retry.timeout",
                format!("Invalid value {raw} for configuration errors.retry.timeout: Value must be at least -1"),
            );
        }
    }
    for key in [
        "errors.retry.delay.max.ms",
        "errors.deadletterqueue.topic.replication.factor",
    ] {
        if let Some(raw) = config.get(key) {
            if matches!(raw.trim().parse::<i64>(), Ok(n) if n < 1) {
                add_error(
                    values,
                    key,
                    format!(
                        "Invalid value {raw} for configuration {key}: Value must be at least 1"
                    ),
                );
            }
        }
    }
    for part in [Part::Key, Part::Value, Part::Header] {
        let key = part.prefix();
        match config.get(key) {
            None => {}
            Some(v) if v.trim().is_empty() => add_error(
                values,
                key,
                format!("Invalid value for configuration {key}: a converter class name is required when the key is set"),
            ),
            // The class and its sub-keys as the task will build them (no network).
            Some(_) => {
                if let Err(e) = convert::build(part, config) {
                    add_error(
                        values,
                        key,
                        format!("Invalid value for configuration {}: {}", e.key, e.message),
                    );
                }
            }
        }
    }
}

fn check_topics(config: &ConfigMap, values: &mut [ConfigValue]) {
    let topics = has_value(config, "topics");
    let regex = has_value(config, "topics.regex");
    match (topics, regex) {
        (true, true) => {
            let msg = "topics and topics.regex are mutually exclusive options, but both are set.";
            add_error(values, "topics", msg.into());
            add_error(values, "topics.regex", msg.into());
        }
        (false, false) => {
            let msg = "Must configure one of topics or topics.regex";
            add_error(values, "topics", msg.into());
            add_error(values, "topics.regex", msg.into());
        }
        _ => {}
    }
    if regex {
        let raw = &config["topics.regex"];
        if let Err(e) = regex::Regex::new(raw) {
            add_error(
                values,
                "topics.regex",
                format!("Invalid value {raw} for configuration topics.regex: {e}"),
            );
        }
    }
    let dlq = config
        .get("errors.deadletterqueue.topic.name")
        .map(|s| s.trim())
        .unwrap_or("");
    if !dlq.is_empty() && topics && parse_list(&config["topics"]).iter().any(|t| t == dlq) {
        add_error(
            values,
            "errors.deadletterqueue.topic.name",
            format!("The DLQ topic '{dlq}' may not be included in the list of topics ('topics={}') consumed by the connector", config["topics"]),
        );
    }
}

/// `tasks.max` of a valid config (1 when unset or unparsable).
pub fn tasks_max(config: &ConfigMap) -> u32 {
    config
        .get("tasks.max")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    use cassink_config::config_of as config;

    const CLASS: &str = "com.datastax.oss.kafka.sink.CassandraSinkConnector";

    #[test]
    fn a_minimal_config_has_no_framework_errors() {
        let c = config(&[
            ("name", "w"),
            ("connector.class", CLASS),
            ("topics", "t"),
            ("topic.t.ks.tbl.mapping", "id=key"),
        ]);
        let infos = validate(&c);
        assert_eq!(
            infos
                .configs
                .iter()
                .filter(|i| i.value.name == "topics")
                .count(),
            1
        );
        let framework_errors: Vec<_> = infos
            .configs
            .iter()
            .filter(|i| framework_def().key(&i.value.name).is_some())
            .flat_map(|i| i.value.errors.clone())
            .collect();
        assert!(framework_errors.is_empty(), "{framework_errors:?}");
        assert_eq!(infos.name, CLASS);
        assert_eq!(tasks_max(&c), 1);
    }

    #[test]
    fn every_problem_is_listed() {
        let c = config(&[
            ("name", "a/b"),
            ("connector.class", "com.example.Nope"),
            ("tasks.max", "0"),
            ("topics", "t"),
            ("topics.regex", "t.*"),
            ("errors.tolerance", "some"),
            ("errors.log.enable", "yes"),
            ("transforms", "route, mask"),
        ]);
        let infos = validate(&c);
        let errors = infos.errors();
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(has("must not contain '/'"), "{errors:?}");
        assert!(has("Failed to find any class"), "{errors:?}");
        assert!(has("tasks.max: Value must be at least 1"), "{errors:?}");
        assert!(has("mutually exclusive"), "{errors:?}");
        assert!(has("errors.tolerance"), "{errors:?}");
        assert!(has("errors.log.enable"), "{errors:?}");
        assert!(has("transforms.route.type: is required"), "{errors:?}");
        assert_eq!(infos.error_count, errors.len());
    }

    #[test]
    fn missing_topics_and_bad_regex() {
        let c = config(&[("name", "w"), ("connector.class", CLASS)]);
        assert!(validate(&c)
            .errors()
            .iter()
            .any(|e| e.contains("Must configure one of topics or topics.regex")));
        let c = config(&[
            ("name", "w\u{7}"),
            ("connector.class", CLASS),
            ("topics.regex", "("),
        ]);
        let errors = validate(&c).errors();
        assert!(
            errors.iter().any(|e| e.contains("topics.regex")),
            "{errors:?}"
        );
        assert!(errors.iter().any(|e| e.contains("control")), "{errors:?}");
        let c = config(&[("connector.class", CLASS), ("topics", "t")]);
        assert!(validate(&c)
            .errors()
            .iter()
            .any(|e| e.contains("Missing required configuration \"name\"")));
    }
}
