//! `org.apache.kafka.connect.json.JsonConverter`: JSON bytes -> [`Value`].
//!
//! * `schemas.enable=false`: plain JSON. Objects become [`Value::Map`] with string keys in input
//!   order (a duplicate key keeps its first position and its last value, as Jackson does),
//!   integers that fit an `i64` become `Int64`, every other number becomes `Float64` (Connect
//!   has no big-integer type; integers beyond `i64` lose precision rather than fail).
//! * `schemas.enable=true` (the default): the `{"schema": ..., "payload": ...}` envelope, see
//!   [`envelope`].
//!
//! A null Kafka payload gives `Ok(None)`. Empty (or all-whitespace) bytes are what Jackson reads
//! as a *missing* node: schemaless they give `Value::Null`, like Connect; with schemas enabled
//! they fail the envelope check, like Connect. Nesting deeper than serde_json's recursion limit
//! (128) is rejected with an error, never a stack overflow.

pub mod envelope;

use self::envelope::DecimalFormat;
use super::{ConvertError, ImmediateConverter};
use cassink_record::Value;
use indexmap::IndexMap;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// The class names that select this converter.
pub const CLASS_NAMES: &[&str] = &[
    "org.apache.kafka.connect.json.JsonConverter",
    "JsonConverter",
];

/// A parsed JSON document that keeps object keys in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// Any number that is not an `i64` (fractions, exponents, integers beyond `i64`).
    Float(f64),
    String(String),
    Array(Vec<Json>),
    Object(IndexMap<String, Json>),
}

/// Parses JSON text. The text is checked to be UTF-8 once, as a whole (serde_json checks each
/// string of a byte slice by itself, which costs more on records made of many short strings);
/// text that is not UTF-8 is parsed from the bytes, for serde_json's own error and position.
fn parse_text<'de, T: Deserialize<'de>>(data: &'de [u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(data) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(data),
    }
}

impl Json {
    /// Parses JSON text; the error names serde_json's line and column.
    pub fn parse(data: &[u8]) -> Result<Json, String> {
        parse_text::<Json>(data).map_err(|e| e.to_string())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Int(_) | Json::Float(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// The schemaless conversion: the shape Connect gives plain JSON.
    pub fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Boolean(b),
            Json::Int(i) => Value::Int64(i),
            Json::Float(f) => Value::Float64(f),
            Json::String(s) => Value::String(s),
            Json::Array(items) => Value::Array(items.into_iter().map(Json::into_value).collect()),
            Json::Object(fields) => Value::Map(
                fields
                    .into_iter()
                    .map(|(k, v)| (Value::String(k), v.into_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::Float(v as f64), Json::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Json>()?;
            fields.insert(key, value);
        }
        Ok(Json::Object(fields))
    }
}

/// Schemaless JSON parsed straight into [`Value`] (no intermediate tree): the hot path of
/// `schemas.enable=false`. Same shapes as [`Json::into_value`]; a duplicate key keeps its
/// first position and its last value.
struct SchemalessValue(Value);

/// Objects with more fields than this find duplicate keys through a hash index.
const SCAN_LIMIT: usize = 32;

impl<'de> Deserialize<'de> for SchemalessValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(SchemalessVisitor)
            .map(SchemalessValue)
    }
}

struct SchemalessVisitor;

impl<'de> Visitor<'de> for SchemalessVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float64(v as f64), Value::Int64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(SchemalessValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields: Vec<(Value, Value)> =
            // serde_json gives no size hint: room for a typical record's fields up front.
            Vec::with_capacity(map.size_hint().unwrap_or(16).min(256));
        // Duplicate keys are looked up by scanning while the object is small, through an
        // index beyond that, so a record with 50,000 keys costs linear time, not quadratic.
        let mut index: Option<HashMap<String, usize>> = None;
        // One bit per key seen so far, from its length and last byte: a key whose bit is not
        // set is new without a scan (the usual case: records rarely repeat a key).
        let mut seen_bits = 0u64;
        while let Some(key) = map.next_key::<String>()? {
            let SchemalessValue(value) = map.next_value()?;
            let bit =
                1u64 << ((key.len() as u64 + u64::from(key.bytes().last().unwrap_or(0))) % 64);
            let seen = match &index {
                Some(index) => index.get(&key).copied(),
                None if seen_bits & bit == 0 => None,
                None => fields
                    .iter()
                    .position(|(k, _)| matches!(k, Value::String(s) if *s == key)),
            };
            seen_bits |= bit;
            match seen.and_then(|at| fields.get_mut(at)) {
                Some(slot) => slot.1 = value,
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), fields.len());
                    }
                    fields.push((Value::String(key), value));
                    if index.is_none() && fields.len() > SCAN_LIMIT {
                        index = Some(
                            fields
                                .iter()
                                .enumerate()
                                .filter_map(|(i, (k, _))| match k {
                                    Value::String(s) => Some((s.clone(), i)),
                                    _ => None,
                                })
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(Value::Map(fields))
    }
}

/// Kafka Connect's `JsonConverter`.
#[derive(Debug, Clone)]
pub struct JsonConverter {
    pub schemas_enable: bool,
    pub decimal_format: DecimalFormat,
}

impl Default for JsonConverter {
    fn default() -> Self {
        Self {
            schemas_enable: true,
            decimal_format: DecimalFormat::Base64,
        }
    }
}

impl ImmediateConverter for JsonConverter {
    fn convert(&self, data: Option<&[u8]>) -> Result<Option<Value>, ConvertError> {
        let Some(data) = data else {
            return Ok(None);
        };
        let blank = data.iter().all(u8::is_ascii_whitespace);
        if blank {
            return if self.schemas_enable {
                Err(ConvertError::permanent(envelope::ENVELOPE_ERROR))
            } else {
                Ok(Some(Value::Null))
            };
        }
        let failed = |e: String| {
            ConvertError::permanent(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        };
        if !self.schemas_enable {
            return parse_text::<SchemalessValue>(data)
                .map(|v| Some(v.0))
                .map_err(|e| failed(e.to_string()));
        }
        let json = Json::parse(data).map_err(failed)?;
        envelope::convert_envelope(json)
            .map(Some)
            .map_err(|e| ConvertError::permanent(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemaless(text: &str) -> Result<Option<Value>, ConvertError> {
        JsonConverter {
            schemas_enable: false,
            ..Default::default()
        }
        .convert(Some(text.as_bytes()))
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    /// The fields `text`, a schemaless JSON object, converts to, by name.
    fn fields_of(text: &str) -> Vec<(String, Value)> {
        match schemaless(text) {
            Ok(Some(Value::Map(fields))) => fields
                .into_iter()
                .map(|(k, v)| match k {
                    Value::String(k) => (k, v),
                    other => panic!("key {other:?}"),
                })
                .collect(),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn ints(fields: &[(&str, i64)]) -> Vec<(String, Value)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Int64(*v)))
            .collect()
    }

    #[test]
    fn schemaless_objects_keep_input_order_and_types() {
        let v = schemaless(r#"{"z": 1, "a": [true, null, 1.5], "m": {"k": "v"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            v,
            Value::Map(vec![
                (s("z"), Value::Int64(1)),
                (
                    s("a"),
                    Value::Array(vec![Value::Boolean(true), Value::Null, Value::Float64(1.5)])
                ),
                (s("m"), Value::Map(vec![(s("k"), s("v"))])),
            ])
        );
    }

    #[test]
    fn schemaless_big_integers_become_doubles() {
        assert_eq!(
            schemaless("18446744073709551615").unwrap(),
            Some(Value::Float64(18446744073709551615.0))
        );
        assert_eq!(
            schemaless("-9223372036854775808").unwrap(),
            Some(Value::Int64(i64::MIN))
        );
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        assert_eq!(
            fields_of(r#"{"a": 1, "b": 2, "a": 3}"#),
            ints(&[("a", 3), ("b", 2)])
        );
        // Keys of one length ending alike ("xb", "ab": the same quick-check bit) stay apart.
        assert_eq!(
            fields_of(r#"{"ab": 1, "xb": 2, "ab": 3, "xb": 4, "b": 5}"#),
            ints(&[("ab", 3), ("xb", 4), ("b", 5)])
        );
    }

    #[test]
    fn duplicate_keys_in_large_objects_keep_the_first_position_and_the_last_value() {
        // 50,000 distinct keys, then every one again with a new value.
        let mut text = String::from("{");
        for round in 0..2 {
            for i in 0..50_000 {
                text.push_str(&format!("\"k{i}\":{},", i * 10 + round));
            }
        }
        text.push_str("\"last\":true}");
        let Some(Value::Map(fields)) = schemaless(&text).unwrap() else {
            panic!("an object")
        };
        assert_eq!(fields.len(), 50_001);
        assert_eq!(fields[0], (s("k0"), Value::Int64(1)));
        assert_eq!(fields[49_999], (s("k49999"), Value::Int64(499_991)));
        assert_eq!(fields[50_000], (s("last"), Value::Boolean(true)));
    }

    #[test]
    fn null_empty_and_invalid_inputs() {
        let c = JsonConverter::default();
        assert_eq!(c.convert(None).unwrap(), None);
        assert_eq!(schemaless("  ").unwrap(), Some(Value::Null));
        assert_eq!(schemaless("null").unwrap(), Some(Value::Null));
        let e = c.convert(Some(b"")).unwrap_err();
        assert!(
            e.message.contains("requires \"schema\" and \"payload\""),
            "{e}"
        );
        let e = schemaless("{\"a\": }").unwrap_err();
        assert!(!e.retriable);
        assert!(e.message.contains("line 1 column"), "{e}");
        let e = JsonConverter {
            schemas_enable: false,
            ..Default::default()
        }
        .convert(Some(b"\"\xff\xfe\""))
        .unwrap_err();
        assert!(e.message.contains("invalid unicode"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let bomb = "[".repeat(100_000);
        let e = schemaless(&bomb).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e}");
        let nested = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(schemaless(&nested).is_ok());
    }
}
