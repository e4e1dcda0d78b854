//! Single message transforms and predicates, as Kafka Connect runs them: between the converter
//! and the sink, in the order `transforms` lists their aliases, each configured by
//! `transforms.<alias>.type` (a Connect class name, with its `$Key`/`$Value` variant) and its
//! own `transforms.<alias>.<key>` settings, optionally guarded by
//! `transforms.<alias>.predicate` (an alias from `predicates`, `predicates.<p>.type`) and
//! `transforms.<alias>.negate`.
//!
//! A transform may change a record's key, value, headers and topic (the topic the mapping is
//! looked up by; where the record was read stays in its position) or drop it (`Filter`): a
//! dropped record is acknowledged, not written. A transform that fails on a record is a
//! failure in stage `TRANSFORMATION`. A transform knows no table and no Kafka client.
//!
//! Crate `cassink-transform`. May depend on `cassink-record` and `cassink-config` only.

mod debezium;
mod definitions;
mod fields;
mod headers;
mod predicates;
mod routing;
mod time;

use cassink_config::{parse_bool, parse_list, ConfigMap};
use cassink_record::SinkRecord;
pub use definitions::config_def;
use std::sync::Arc;

/// A transform's or predicate's configuration could not be used; `key` is the full key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TransformConfigError {
    pub key: String,
    pub message: String,
}

/// A transform failed on one record (a bad record for it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transform {alias} ({class}) failed: {message}")]
pub struct TransformError {
    pub alias: String,
    pub class: String,
    pub message: String,
}

/// One transform. `Ok(None)` drops the record.
pub trait Transform: Send + Sync {
    fn apply(&self, record: SinkRecord) -> Result<Option<SinkRecord>, String>;
}

/// One predicate over a record.
pub trait Predicate: Send + Sync {
    fn test(&self, record: &SinkRecord) -> bool;
}

/// Which part of a record a `$Key`/`$Value` transform works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

/// A transform's own settings (`transforms.<alias>.` stripped), with the prefix for messages.
pub struct Settings<'a> {
    prefix: String,
    config: &'a ConfigMap,
}

impl Settings<'_> {
    /// The full config key of `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A setting, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.config
            .get(&self.key(name))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A setting that must be there.
    pub fn required(&self, name: &str) -> Result<&str, TransformConfigError> {
        self.get(name)
            .ok_or_else(|| self.error(name, "is required"))
    }

    /// A comma-separated list (empty when absent).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(parse_list).unwrap_or_default()
    }

    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, TransformConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse_bool(raw).ok_or_else(|| {
                self.error(
                    name,
                    &format!("invalid value {raw:?}: expected true or false"),
                )
            }),
        }
    }

    pub fn error(&self, name: &str, message: &str) -> TransformConfigError {
        TransformConfigError {
            key: self.key(name),
            message: message.to_string(),
        }
    }

    /// `field.syntax.version` (V1 default, or V2 for nested paths), for the transforms that
    /// read it in Connect 4.4 (`ExtractField`, `ValueToKey`); `v2_supported` says whether
    /// cassink reads V2 for this one, else V2 is refused, as it would change which field is
    /// read.
    pub fn field_syntax(&self, v2_supported: bool) -> Result<FieldSyntax, TransformConfigError> {
        match self
            .get("field.syntax.version")
            .map(str::to_ascii_uppercase)
        {
            None => Ok(FieldSyntax::V1),
            Some(v) if v == "V1" => Ok(FieldSyntax::V1),
            Some(v) if v == "V2" && v2_supported => Ok(FieldSyntax::V2),
            Some(v) if v == "V2" => Err(self.error(
                "field.syntax.version",
                "V2 (nested field paths) is not supported for this transform yet; use V1",
            )),
            Some(v) => Err(self.error(
                "field.syntax.version",
                &format!("invalid value {v:?}: expected V1 or V2"),
            )),
        }
    }
}

/// How a transform reads field names (`field.syntax.version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSyntax {
    /// The whole name is one top-level field.
    V1,
    /// Dotted paths into nested structs and maps; a segment in backticks may hold dots.
    V2,
}

struct Step {
    alias: String,
    class: String,
    transform: Box<dyn Transform>,
    predicate: Option<(Arc<dyn Predicate>, bool)>,
}

/// A connector's transforms in order, ready to run on records.
#[derive(Default)]
pub struct Chain {
    steps: Vec<Step>,
}

fn aliases(raw: Option<&String>) -> Vec<String> {
    raw.map(|v| parse_list(v)).unwrap_or_default()
}

impl Chain {
    /// Builds the chain a connector config describes (empty without `transforms`).
    pub fn from_config(config: &ConfigMap) -> Result<Chain, TransformConfigError> {
        let mut predicates = std::collections::HashMap::new();
        for alias in aliases(config.get("predicates")) {
            let settings = Settings {
                prefix: format!("predicates.{alias}."),
                config,
            };
            let class = settings.required("type")?;
            let predicate = predicates::build(class, &settings)?;
            predicates.insert(alias, predicate);
        }
        let mut steps = Vec::new();
        for alias in aliases(config.get("transforms")) {
            let settings = Settings {
                prefix: format!("transforms.{alias}."),
                config,
            };
            let class = settings.required("type")?.to_string();
            let transform = build(&class, &settings)?;
            let predicate = match settings.get("predicate") {
                None => {
                    if settings.get("negate").is_some() {
                        return Err(settings.error(
                            "negate",
                            "is set, but the transform has no predicate to negate",
                        ));
                    }
                    None
                }
                Some(name) => {
                    let predicate = predicates.get(name).cloned().ok_or_else(|| {
                        settings.error(
                            "predicate",
                            &format!("names predicate {name:?}, which `predicates` does not list"),
                        )
                    })?;
                    Some((predicate, settings.boolean("negate", false)?))
                }
            };
            steps.push(Step {
                alias,
                class,
                transform,
                predicate,
            });
        }
        Ok(Chain { steps })
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the chain on one record: `Ok(None)` when a transform dropped it.
    pub fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        for step in &self.steps {
            if let Some((predicate, negate)) = &step.predicate {
                if predicate.test(&record) == *negate {
                    continue;
                }
            }
            match step.transform.apply(record) {
                Ok(Some(next)) => record = next,
                Ok(None) => return Ok(None),
                Err(message) => {
                    return Err(TransformError {
                        alias: step.alias.clone(),
                        class: step.class.clone(),
                        message,
                    })
                }
            }
        }
        Ok(Some(record))
    }
}

const PACKAGE: &str = "org.apache.kafka.connect.transforms.";

/// Whether a connector's transforms may change record topics (`RegexRouter`,
/// `TimestampRouter`, Debezium's `route.by.field`).
pub fn may_route(config: &ConfigMap) -> bool {
    aliases(config.get("transforms")).iter().any(|alias| {
        let class = config
            .get(&format!("transforms.{alias}.type"))
            .map(|c| c.trim())
            .unwrap_or_default();
        let (name, _) = split_class(class);
        matches!(name, "RegexRouter" | "TimestampRouter")
            || (class == debezium::CLASS
                && config
                    .get(&format!("transforms.{alias}.route.by.field"))
                    .is_some_and(|v| !v.trim().is_empty()))
    })
}

/// Every transform class (with its `$Key`/`$Value` variants) and predicate class known.
pub fn class_names() -> (Vec<String>, Vec<String>) {
    let transforms = fields::CLASSES
        .iter()
        .chain(headers::CLASSES)
        .chain(routing::CLASSES)
        .chain(time::CLASSES)
        .flat_map(|(name, sided)| {
            if *sided {
                vec![
                    format!("{PACKAGE}{name}$Key"),
                    format!("{PACKAGE}{name}$Value"),
                ]
            } else {
                vec![format!("{PACKAGE}{name}")]
            }
        })
        .chain(std::iter::once(debezium::CLASS.to_string()))
        .collect();
    let predicates = predicates::CLASSES
        .iter()
        .map(|name| format!("{PACKAGE}predicates.{name}"))
        .collect();
    (transforms, predicates)
}

/// `Cast$Value` -> (`Cast`, Some(Value)); `Filter` -> (`Filter`, None).
fn split_class(class: &str) -> (&str, Option<Side>) {
    let short = class.strip_prefix(PACKAGE).unwrap_or(class);
    match short.rsplit_once('$') {
        Some((name, "Key")) => (name, Some(Side::Key)),
        Some((name, "Value")) => (name, Some(Side::Value)),
        _ => (short, None),
    }
}

fn build(class: &str, settings: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    if class == debezium::CLASS {
        return debezium::build(settings);
    }
    let (name, side) = split_class(class);
    let found = fields::build(name, side, settings)
        .or_else(|| headers::build(name, side, settings))
        .or_else(|| routing::build(name, side, settings))
        .or_else(|| time::build(name, side, settings));
    match found {
        Some(built) => built,
        None => {
            let sided = fields::CLASSES
                .iter()
                .chain(headers::CLASSES)
                .chain(routing::CLASSES)
                .chain(time::CLASSES)
                .find(|(n, _)| *n == name);
            let message = match sided {
                Some((n, true)) if side.is_none() => {
                    format!("{class} needs its variant: {PACKAGE}{n}$Key or {PACKAGE}{n}$Value")
                }
                _ => format!(
                    "unknown transform class {class:?}; known: {}",
                    class_names().0.join(", ")
                ),
            };
            Err(settings.error("type", &message))
        }
    }
}

#[cfg(test)]
mod tests;
