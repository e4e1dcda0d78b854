//! The record model every converter produces and every sink consumes: Connect-like values
//! with an optional schema, plus the Kafka coordinates and the original bytes (for the DLQ).
//!
//! Crate `cassink-record`. May depend on nothing of cassink's.

use bytes::Bytes;
use std::sync::Arc;

/// A Connect value. Schemaless JSON objects become [`Value::Map`] with string keys, Connect
/// structs (JSON envelope, Avro records) become [`Value::Struct`]; field lookup works on both.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    Bytes(Bytes),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<(String, Value)>),
    /// Connect `Decimal` / Avro decimal: unscaled big-endian two's-complement integer and scale.
    Decimal {
        unscaled: Vec<u8>,
        scale: i32,
    },
    /// Connect `Date` / Avro date: days since the Unix epoch.
    Date(i32),
    /// Connect `Time` / Avro time-millis / time-micros: microseconds since midnight.
    Time(i64),
    /// Connect `Timestamp` / Avro timestamp-millis/micros: microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Avro uuid logical type.
    Uuid(uuid::Uuid),
}

impl Value {
    /// Looks up a field of a struct or of a map with string keys.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            Value::Map(entries) => entries.iter().find_map(|(k, v)| match k {
                Value::String(s) if s == name => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// [`Value::field`], looking at position `hint` first (records of a topic mostly keep
    /// their fields in one order); also gives the field's position.
    pub fn field_near(&self, name: &str, hint: usize) -> Option<(usize, &Value)> {
        match self {
            Value::Struct(fields) => match fields.get(hint) {
                Some((k, v)) if k == name => Some((hint, v)),
                _ => fields
                    .iter()
                    .enumerate()
                    .find(|(_, (k, _))| k == name)
                    .map(|(i, (_, v))| (i, v)),
            },
            Value::Map(entries) => {
                let is = |k: &Value| matches!(k, Value::String(s) if s == name);
                match entries.get(hint) {
                    Some((k, v)) if is(k) => Some((hint, v)),
                    _ => entries
                        .iter()
                        .enumerate()
                        .find(|(_, (k, _))| is(k))
                        .map(|(i, (_, v))| (i, v)),
                }
            }
            _ => None,
        }
    }

    /// Names of the fields of a struct or string-keyed map (for error messages).
    pub fn field_names(&self) -> Vec<String> {
        match self {
            Value::Struct(fields) => fields.iter().map(|(k, _)| k.clone()).collect(),
            Value::Map(entries) => entries
                .iter()
                .filter_map(|(k, _)| match k {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short type name for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Int8(_) => "int8",
            Value::Int16(_) => "int16",
            Value::Int32(_) => "int32",
            Value::Int64(_) => "int64",
            Value::Float32(_) => "float32",
            Value::Float64(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Struct(_) => "struct",
            Value::Decimal { .. } => "decimal",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::Timestamp(_) => "timestamp",
            Value::Uuid(_) => "uuid",
        }
    }
}

/// A record header: the raw bytes and the converted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub raw: Option<Bytes>,
    pub value: Value,
}

/// Where a record came from in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// Shared by every record of a topic a task reads (see [`Topics`]).
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
}

/// The names of the topics a task reads, each allocated once: every record of a topic
/// carries the same shared name. A task reads a handful of topics: a list, searched from
/// the one found last.
#[derive(Debug, Default)]
pub struct Topics {
    names: Vec<Arc<str>>,
    last: usize,
}

impl Topics {
    /// The shared name of topic `name`.
    pub fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(hit) = self.names.get(self.last).filter(|t| ***t == *name) {
            return hit.clone();
        }
        match self.names.iter().position(|t| **t == *name) {
            Some(at) => self.last = at,
            None => {
                self.names.push(Arc::from(name));
                self.last = self.names.len() - 1;
            }
        }
        self.names[self.last].clone()
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}@{}", self.topic, self.partition, self.offset)
    }
}

/// One converted Kafka record as a sink sees it. `key`/`value` are `None` for a null
/// Kafka key/value (a tombstone has `value: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    /// Where the record was read (offsets are committed by it).
    pub position: Position,
    /// The record's topic as the transforms left it (`RegexRouter`, `TimestampRouter`): the
    /// topic its `topic.<topic>.…` mappings are looked up by. The read topic until then.
    pub topic: Arc<str>,
    /// Kafka record timestamp in milliseconds since the epoch, when the broker gave one.
    pub timestamp_ms: Option<i64>,
    pub key: Option<Value>,
    pub value: Option<Value>,
    pub headers: Vec<Header>,
    /// The original bytes, kept for dead-letter records.
    pub raw_key: Option<Bytes>,
    pub raw_value: Option<Bytes>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_of_a_topic_shares_one_name() {
        let mut topics = Topics::default();
        let weather = topics.get("weather");
        let meter = topics.get("meter");
        assert!(Arc::ptr_eq(&weather, &topics.get("weather")));
        assert!(Arc::ptr_eq(&meter, &topics.get("meter")));
        assert!(Arc::ptr_eq(&weather, &topics.get("weather")));
        assert_eq!((&*weather, &*meter), ("weather", "meter"));
    }
}
