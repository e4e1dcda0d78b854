//! Schema types, references, and parsing: what the registry accepts and how it stores a schema.
//!
//! A schema is stored as the registered text with insignificant whitespace removed (key order and
//! every attribute kept), so clients parse back exactly what they registered and two
//! registrations differing only in formatting are the same schema.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The schema formats this registry serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    #[default]
    Avro,
    Json,
}

impl SchemaType {
    /// All supported types, as `GET /schemas/types` lists them.
    pub const ALL: [SchemaType; 2] = [SchemaType::Avro, SchemaType::Json];

    /// Parses a `schemaType` field; absent means AVRO, as in Confluent.
    pub fn from_request(value: Option<&str>) -> Result<SchemaType> {
        match value.map(str::to_ascii_uppercase).as_deref() {
            None | Some("AVRO") => Ok(SchemaType::Avro),
            Some("JSON") => Ok(SchemaType::Json),
            Some(other) => Err(Error::InvalidSchema(format!(
                "unsupported schemaType {other}; this registry serves AVRO and JSON"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
        }
    }
}

/// A reference from one schema to a named schema registered under another subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// The name the referencing schema uses (for Avro, the full name of the referenced type).
    pub name: String,
    pub subject: String,
    /// `-1` in a request means the latest version; stored references always hold a real version.
    pub version: i32,
}

/// A schema as the registry keeps it: its type, normalized text and references.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaContent {
    #[serde(rename = "schemaType", default)]
    pub schema_type: SchemaType,
    pub schema: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
}

/// A schema parsed far enough to check compatibility.
#[derive(Debug)]
pub enum ParsedSchema {
    Avro(Box<apache_avro::Schema>),
    Json(serde_json::Value),
}

impl ParsedSchema {
    /// Parses `text` as a schema of `schema_type`; `referenced` holds the texts of every schema it
    /// references, directly or not (needed to resolve Avro named types).
    pub fn parse(schema_type: SchemaType, text: &str, referenced: &[String]) -> Result<Self> {
        match schema_type {
            SchemaType::Avro => {
                let parsed = if referenced.is_empty() {
                    apache_avro::Schema::parse_str(text)
                } else {
                    apache_avro::Schema::parse_str_with_list(text, referenced).map(|(s, _)| s)
                };
                parsed
                    .map(|s| ParsedSchema::Avro(Box::new(s)))
                    .map_err(|e| Error::InvalidSchema(format!("{text}, details: {e}")))
            }
            SchemaType::Json => {
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| Error::InvalidSchema(format!("{text}, details: {e}")))?;
                if value.is_object() || value.is_boolean() {
                    Ok(ParsedSchema::Json(value))
                } else {
                    Err(Error::InvalidSchema(format!(
                        "{text}, details: a JSON Schema must be an object or a boolean"
                    )))
                }
            }
        }
    }

    pub fn schema_type(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Json(_) => SchemaType::Json,
        }
    }
}

/// Removes whitespace outside JSON strings, keeping everything else (key order included) as
/// registered. Fails when `text` is not JSON.
pub fn normalize(text: &str) -> Result<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| Error::InvalidSchema(format!("{text}, details: not JSON: {e}")))?;
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_order_and_string_content() {
        let text = "{ \"type\" : \"record\",\n \"name\": \"A\", \"doc\": \"a \\\" b  c\",\n \"fields\": [ ] }";
        assert_eq!(
            normalize(text).unwrap(),
            r#"{"type":"record","name":"A","doc":"a \" b  c","fields":[]}"#
        );
    }

    #[test]
    fn normalize_rejects_non_json() {
        assert_eq!(normalize("{nope").unwrap_err().error_code(), 42201);
    }

    #[test]
    fn parse_accepts_primitive_avro_and_rejects_bad_avro() {
        assert!(ParsedSchema::parse(SchemaType::Avro, "\"string\"", &[]).is_ok());
        let bad = r#"{"type":"record","name":"A","fields":[{"name":"x","type":"nope"}]}"#;
        assert!(ParsedSchema::parse(SchemaType::Avro, bad, &[]).is_err());
    }

    #[test]
    fn parse_resolves_avro_references() {
        let address = r#"{"type":"record","name":"Address","namespace":"ns","fields":[{"name":"city","type":"string"}]}"#;
        let person = r#"{"type":"record","name":"Person","namespace":"ns","fields":[{"name":"home","type":"ns.Address"}]}"#;
        assert!(ParsedSchema::parse(SchemaType::Avro, person, &[]).is_err());
        assert!(ParsedSchema::parse(SchemaType::Avro, person, &[address.to_owned()]).is_ok());
    }

    #[test]
    fn schema_type_defaults_to_avro_and_rejects_protobuf() {
        assert_eq!(SchemaType::from_request(None).unwrap(), SchemaType::Avro);
        assert_eq!(
            SchemaType::from_request(Some("json")).unwrap(),
            SchemaType::Json
        );
        assert!(SchemaType::from_request(Some("PROTOBUF")).is_err());
    }
}
