//! Codecs: a Connect [`Value`] -> the protocol-v4 bytes of a CQL column, converting as the
//! DataStax connector does (numbers across numeric types with range checks, numeric and
//! boolean strings, timestamps from epoch numbers in `codec.unit` or from text in
//! `codec.timestamp` + `codec.timeZone`, JSON text into collections, structs into UDTs).
//!
//! * [`CqlType`] parses `system_schema.columns.type` strings (user types resolved by lookup).
//! * [`CodecSettings`] holds one topic's `topic.<t>.codec.*` settings.
//! * [`encode`] does the conversion; every failure is a [`CodecError`] naming the value, its
//!   type and the column type.

mod collection;
mod duration;
pub mod format;
mod number;
mod scalar;
pub mod settings;
mod temporal;
pub mod types;

pub use crate::units::TimeUnit;
pub use format::{TemporalFormat, Zone};
pub use settings::CodecSettings;
pub use types::{CqlType, TypeParseError, UdtLookup};

use cassink_record::Value;

/// How much of a value an error message shows.
const DESCRIBE_LIMIT: usize = 100;

/// A value that cannot be written to a column of some CQL type. Permanent: the same record
/// fails the same way every time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert {value} ({source_type}) to {cql_type}: {reason}")]
pub struct CodecError {
    /// The value, rendered and truncated to about 100 characters.
    pub value: String,
    pub source_type: String,
    pub cql_type: String,
    pub reason: String,
}

impl CodecError {
    pub fn new(value: &Value, ty: &CqlType, reason: impl Into<String>) -> Self {
        Self {
            value: describe(value),
            source_type: value.type_name().into(),
            cql_type: ty.to_string(),
            reason: reason.into(),
        }
    }
}

/// Encodes `value` as a cell of type `ty`: `Ok(None)` for [`Value::Null`] (the writer binds
/// null or unset), otherwise the protocol-v4 serialized bytes.
pub fn encode(
    value: &Value,
    ty: &CqlType,
    settings: &CodecSettings,
) -> Result<Option<Vec<u8>>, CodecError> {
    if value.is_null() {
        return Ok(None);
    }
    encode_non_null(value, ty, settings).map(Some)
}

/// Encodes a value that must not be null (collection elements).
fn encode_non_null(
    value: &Value,
    ty: &CqlType,
    settings: &CodecSettings,
) -> Result<Vec<u8>, CodecError> {
    let target = ty.unfrozen();
    let result = match target {
        CqlType::List(_)
        | CqlType::Set(_)
        | CqlType::Map(..)
        | CqlType::Tuple(_)
        | CqlType::Udt { .. } => collection::encode_collection(value, target, settings),
        CqlType::Duration => duration::encode(value),
        CqlType::Timestamp | CqlType::Date | CqlType::Time => {
            temporal::encode(value, target, settings)
        }
        _ => scalar::encode(value, target, settings),
    };
    result.map_err(|reason| CodecError::new(value, ty, reason))
}

/// A short rendering of a value for messages: strings quoted, containers as JSON-like text.
pub fn describe(value: &Value) -> String {
    let full = match value {
        Value::String(s) => {
            serde_json::Value::String(s.chars().take(DESCRIBE_LIMIT + 1).collect()).to_string()
        }
        Value::Bytes(b) => {
            let hex: String = b
                .iter()
                .take(DESCRIBE_LIMIT / 2)
                .map(|x| format!("{x:02x}"))
                .collect();
            format!("0x{hex}")
        }
        other => scalar::text_of(other),
    };
    if full.chars().count() > DESCRIBE_LIMIT {
        let cut: String = full.chars().take(DESCRIBE_LIMIT).collect();
        format!("{cut}…")
    } else {
        full
    }
}

#[cfg(test)]
mod tests;
