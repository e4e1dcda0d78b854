//! Compatibility levels and the check a new schema must pass before it is registered.
//!
//! Avro follows Confluent: BACKWARD means the new schema can read data written with the latest
//! registered one, FORWARD means the latest can read data written with the new one, FULL means
//! both; the `_TRANSITIVE` levels check every registered version instead of the latest only.
//! A check that the resolver calls *partial* (an enum symbol or union branch the reader lacks)
//! counts as incompatible, as in Confluent.
//!
//! JSON Schema is lenient on purpose: JSON schemas are stored and served, and any JSON schema is
//! compatible with any other JSON schema. A schema is never compatible with one of another type.

use std::fmt;
use std::str::FromStr;

use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::schema::ParsedSchema;

/// A subject's (or the global) compatibility level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    None,
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl CompatibilityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::None => "NONE",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::BackwardTransitive => "BACKWARD_TRANSITIVE",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::ForwardTransitive => "FORWARD_TRANSITIVE",
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    fn is_transitive(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Backward
                | CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Forward
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }

    /// Checks `new` against the registered versions `existing` (oldest first). Returns why it
    /// is incompatible; an empty list means compatible.
    pub fn check(self, new: &ParsedSchema, existing: &[ParsedSchema]) -> Vec<String> {
        if self == CompatibilityLevel::None {
            return Vec::new();
        }
        let against: &[ParsedSchema] = if self.is_transitive() {
            existing
        } else {
            existing.last().map(std::slice::from_ref).unwrap_or(&[])
        };
        let mut messages = Vec::new();
        for old in against {
            if self.backward() {
                messages.extend(can_read(old, new).err().map(|e| format!("BACKWARD: {e}")));
            }
            if self.forward() {
                messages.extend(can_read(new, old).err().map(|e| format!("FORWARD: {e}")));
            }
        }
        messages
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = Error;

    /// Case-insensitive, as Confluent accepts `backward` as well as `BACKWARD`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "NONE" => Ok(CompatibilityLevel::None),
            "BACKWARD" => Ok(CompatibilityLevel::Backward),
            "BACKWARD_TRANSITIVE" => Ok(CompatibilityLevel::BackwardTransitive),
            "FORWARD" => Ok(CompatibilityLevel::Forward),
            "FORWARD_TRANSITIVE" => Ok(CompatibilityLevel::ForwardTransitive),
            "FULL" => Ok(CompatibilityLevel::Full),
            "FULL_TRANSITIVE" => Ok(CompatibilityLevel::FullTransitive),
            _ => Err(Error::InvalidCompatibilityLevel),
        }
    }
}

/// Whether data written with `writer` can be read with `reader`.
fn can_read(writer: &ParsedSchema, reader: &ParsedSchema) -> Result<(), String> {
    match (writer, reader) {
        (ParsedSchema::Avro(w), ParsedSchema::Avro(r)) => {
            match SchemaCompatibility::can_read(w, r) {
                Ok(Compatibility::Full) => Ok(()),
                Ok(Compatibility::Partial) => Err(
                    "the reader lacks an enum symbol or union branch the writer may use".to_owned(),
                ),
                Err(e) => Err(e.to_string()),
            }
        }
        (ParsedSchema::Json(_), ParsedSchema::Json(_)) => Ok(()),
        (w, r) => Err(format!(
            "Incompatible because of different schema type: {} vs {}",
            w.schema_type().as_str(),
            r.schema_type().as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaType;

    fn avro(text: &str) -> ParsedSchema {
        ParsedSchema::parse(SchemaType::Avro, text, &[]).unwrap()
    }

    const V1: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#;
    const WITH_DEFAULT: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int","default":0}]}"#;
    const WITHOUT_DEFAULT: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}"#;
    const DROPPED_A: &str = r#"{"type":"record","name":"R","fields":[]}"#;

    #[test]
    fn backward_accepts_added_field_with_default_only() {
        let old = [avro(V1)];
        assert!(CompatibilityLevel::Backward
            .check(&avro(WITH_DEFAULT), &old)
            .is_empty());
        assert!(!CompatibilityLevel::Backward
            .check(&avro(WITHOUT_DEFAULT), &old)
            .is_empty());
    }

    #[test]
    fn forward_accepts_added_field_without_default_but_not_a_removed_one() {
        let old = [avro(V1)];
        assert!(CompatibilityLevel::Forward
            .check(&avro(WITHOUT_DEFAULT), &old)
            .is_empty());
        assert!(!CompatibilityLevel::Forward
            .check(&avro(DROPPED_A), &old)
            .is_empty());
        assert!(CompatibilityLevel::Backward
            .check(&avro(DROPPED_A), &old)
            .is_empty());
    }

    #[test]
    fn full_needs_both_directions() {
        let old = [avro(V1)];
        assert!(CompatibilityLevel::Full
            .check(&avro(WITH_DEFAULT), &old)
            .is_empty());
        assert!(!CompatibilityLevel::Full
            .check(&avro(WITHOUT_DEFAULT), &old)
            .is_empty());
    }

    #[test]
    fn transitive_checks_every_version() {
        // v1 -> v2 drops `a` (backward ok) -> v3 re-adds `a` without default: ok against v2,
        // not against v1.
        let history = [avro(V1), avro(DROPPED_A)];
        let v3 = avro(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
        assert!(!CompatibilityLevel::Backward.check(&v3, &history).is_empty());
        let v3_default = avro(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}"#,
        );
        assert!(CompatibilityLevel::Backward
            .check(&v3_default, &history)
            .is_empty());
        assert!(!CompatibilityLevel::BackwardTransitive
            .check(&v3_default, &history)
            .is_empty());
    }

    #[test]
    fn none_accepts_anything_and_json_is_lenient() {
        let old = [avro(V1)];
        assert!(CompatibilityLevel::None
            .check(&avro(r#""int""#), &old)
            .is_empty());
        let json = |t: &str| ParsedSchema::parse(SchemaType::Json, t, &[]).unwrap();
        let jold = [json(r#"{"type":"object"}"#)];
        assert!(CompatibilityLevel::FullTransitive
            .check(&json(r#"{"type":"string"}"#), &jold)
            .is_empty());
        assert!(!CompatibilityLevel::Backward
            .check(&json("{}"), &old)
            .is_empty());
    }

    #[test]
    fn levels_parse_case_insensitively() {
        assert_eq!(
            "full_transitive".parse::<CompatibilityLevel>().unwrap(),
            CompatibilityLevel::FullTransitive
        );
        assert!("sideways".parse::<CompatibilityLevel>().is_err());
    }
}
