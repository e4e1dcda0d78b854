//! Typed config definitions: one [`ConfigDef`] per plugin (and one for the framework keys)
//! parses, validates, documents (`GET /connector-plugins/{p}/config`) and reports errors
//! (`PUT .../config/validate`, 400s on create).
//!
//! Crate `cassink-config`. May depend on nothing of cassink's: every other crate builds on it.

pub mod jaas;
pub mod java_time;
pub mod properties;
pub mod providers;
pub mod reference;
pub mod secrets;

use serde::Serialize;
use std::collections::BTreeMap;

/// A connector (or task) config as Connect passes it around: string keys to string values.
pub type ConfigMap = BTreeMap<String, String>;

/// A config from `(key, value)` pairs (tests and examples).
pub fn config_of(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A connector config value given as a JSON object or array: Connect takes strings (and
/// numbers and booleans, which it stores as strings) only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value for connector configuration {key}: expected a string")]
pub struct NotAString {
    pub key: String,
}

/// One connector config value from JSON as Connect reads it: numbers and booleans become
/// strings, `null` is no value.
pub fn scalar(key: &str, value: &serde_json::Value) -> Result<Option<String>, NotAString> {
    use serde_json::Value;
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Null => Ok(None),
        Value::Array(_) | Value::Object(_) => Err(NotAString {
            key: key.to_string(),
        }),
    }
}

/// A connector config from a JSON object (see [`scalar`]).
pub fn from_json(
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<ConfigMap, NotAString> {
    let mut out = ConfigMap::new();
    for (key, value) in obj {
        if let Some(text) = scalar(key, value)? {
            out.insert(key.clone(), text);
        }
    }
    Ok(out)
}

/// Connect's config types, named as `GET /connector-plugins/{p}/config` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    Double,
    List,
    Class,
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    High,
    Medium,
    Low,
}

/// One key of a definition. `name` may contain a `<placeholder>` (e.g.
/// `topic.<topic>.<keyspace>.<table>.mapping`); such keys are documented, and validated by
/// the plugin itself.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: ConfigType,
    pub default: Option<&'static str>,
    pub required: bool,
    pub importance: Importance,
    pub group: &'static str,
    pub documentation: &'static str,
    /// Allowed values (case-insensitive) when the set is closed; empty when open.
    pub allowed: &'static [&'static str],
}

impl ConfigKey {
    pub const fn new(name: &'static str, ty: ConfigType, documentation: &'static str) -> Self {
        Self {
            name,
            ty,
            default: None,
            required: false,
            importance: Importance::Medium,
            group: "Common",
            documentation,
            allowed: &[],
        }
    }
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self.importance = Importance::High;
        self
    }
    pub const fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }
    pub const fn group(mut self, group: &'static str) -> Self {
        self.group = group;
        self
    }
    pub const fn allowed(mut self, values: &'static [&'static str]) -> Self {
        self.allowed = values;
        self
    }
    /// True when this key is a pattern such as `topic.<topic>.codec.timeZone`.
    pub fn is_pattern(&self) -> bool {
        self.name.contains('<')
    }
}

/// An ordered set of keys.
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    pub keys: Vec<ConfigKey>,
}

impl ConfigDef {
    pub fn new(keys: Vec<ConfigKey>) -> Self {
        Self { keys }
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Groups in first-seen order (the `groups` list of the validate response).
    pub fn groups(&self) -> Vec<&'static str> {
        let mut groups: Vec<&'static str> = Vec::new();
        for key in &self.keys {
            if !groups.contains(&key.group) {
                groups.push(key.group);
            }
        }
        groups
    }

    /// Checks every non-pattern key of this definition against `config`: required keys
    /// present, values parse as their type, closed sets respected. Returns one entry per key.
    pub fn validate(&self, config: &ConfigMap) -> Vec<ConfigValue> {
        self.keys
            .iter()
            .filter(|k| !k.is_pattern())
            .map(|key| {
                let raw = config.get(key.name);
                let mut value =
                    ConfigValue::new(key.name, raw.cloned().or(key.default.map(String::from)));
                value.recommended_values = key.allowed.iter().map(|s| s.to_string()).collect();
                match raw {
                    None if key.required && key.default.is_none() => {
                        value.errors.push(format!(
                            "Missing required configuration \"{}\" which has no default value.",
                            key.name
                        ));
                    }
                    None => {}
                    Some(raw) => {
                        if let Err(e) = check_type(key, raw) {
                            value.errors.push(e);
                        }
                    }
                }
                value
            })
            .collect()
    }
}

/// Checks that `raw` parses as the key's type and is one of its allowed values.
pub fn check_type(key: &ConfigKey, raw: &str) -> Result<(), String> {
    check_value(key.name, key, raw)
}

/// Like [`check_type`], for a concrete key `name` matching the (pattern) definition `key`.
pub fn check_value(name: &str, key: &ConfigKey, raw: &str) -> Result<(), String> {
    let v = raw.trim();
    let bad = |what: &str| {
        Err(format!(
            "Invalid value {raw} for configuration {name}: {what}"
        ))
    };
    match key.ty {
        ConfigType::Boolean => {
            if parse_bool(v).is_none() {
                return bad("Expected value to be either true or false");
            }
        }
        ConfigType::Int => {
            if v.parse::<i32>().is_err() {
                return bad("Not a number of type INT");
            }
        }
        ConfigType::Long => {
            if v.parse::<i64>().is_err() {
                return bad("Not a number of type LONG");
            }
        }
        ConfigType::Double => {
            if v.parse::<f64>().is_err() {
                return bad("Not a number of type DOUBLE");
            }
        }
        ConfigType::String | ConfigType::List | ConfigType::Class | ConfigType::Password => {}
    }
    if !key.allowed.is_empty() && !key.allowed.iter().any(|a| a.eq_ignore_ascii_case(v)) {
        return bad(&format!(
            "String must be one of: {}",
            key.allowed.join(", ")
        ));
    }
    Ok(())
}

/// Parses a Connect boolean ("true"/"false", any case, stray whitespace allowed).
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Splits a Connect LIST value ("a, b,c") into trimmed, non-empty items.
pub fn parse_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The `value` half of a validate-response entry, as Connect returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigValue {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

impl ConfigValue {
    pub fn new(name: impl Into<String>, value: Option<String>) -> Self {
        Self {
            name: name.into(),
            value,
            recommended_values: Vec::new(),
            errors: Vec::new(),
            visible: true,
        }
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.errors.push(error.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new(vec![
            ConfigKey::new("port", ConfigType::Int, "port").default("9042"),
            ConfigKey::new("name", ConfigType::String, "name").required(),
            ConfigKey::new("compression", ConfigType::String, "c")
                .allowed(&["None", "LZ4", "Snappy"]),
        ])
    }

    #[test]
    fn missing_required_key_is_reported_by_name() {
        let values = def().validate(&ConfigMap::new());
        let name = values.iter().find(|v| v.name == "name").unwrap();
        assert_eq!(name.errors.len(), 1);
        assert!(name.errors[0].contains("\"name\""));
    }

    #[test]
    fn values_are_trimmed_and_typed() {
        let mut config = ConfigMap::new();
        config.insert("name".into(), "x".into());
        config.insert("port".into(), " 9043 ".into());
        config.insert("compression".into(), "lz4".into());
        assert!(def().validate(&config).iter().all(|v| v.errors.is_empty()));
        config.insert("port".into(), "ninety".into());
        config.insert("compression".into(), "zip".into());
        let errors: Vec<_> = def()
            .validate(&config)
            .into_iter()
            .flat_map(|v| v.errors)
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
