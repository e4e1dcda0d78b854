//! Converters: Kafka bytes -> the Connect-like [`Value`] model, as Kafka Connect's converters
//! do (`JsonConverter`, `StringConverter`, `ByteArrayConverter`; Avro in its own module).
//! A converter knows no table.

use crate::config::ConfigMap;
use crate::record::Value;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;

/// A converter failed on one record's key, value or header. Permanent by default; `retriable`
/// marks outages (e.g. an unreachable schema registry) that deserve a retry.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConvertError {
    pub retriable: bool,
    pub message: String,
}

impl ConvertError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            retriable: false,
            message: message.into(),
        }
    }
}

/// A converter's configuration could not be used (unknown class, bad sub-key).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConverterConfigError {
    pub key: String,
    pub message: String,
}

#[async_trait]
pub trait Converter: Send + Sync {
    /// Converts one key/value/header payload. `None` input (a null key or a tombstone) gives
    /// `Ok(None)`. `headers` are the record's raw headers (Avro may read a schema id there).
    async fn to_connect(
        &self,
        topic: &str,
        headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, ConvertError>;
}

/// Which part of the record a converter is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Key,
    Value,
    Header,
}

impl Part {
    /// The config prefix: `key.converter`, `value.converter`, `header.converter`.
    pub fn prefix(self) -> &'static str {
        match self {
            Part::Key => "key.converter",
            Part::Value => "value.converter",
            Part::Header => "header.converter",
        }
    }
}

/// Builds the converter for `part` from a merged config (worker defaults overlaid with the
/// connector's own keys): `<prefix>` names the class, `<prefix>.<sub>` are its settings.
pub fn build(part: Part, config: &ConfigMap) -> Result<Arc<dyn Converter>, ConverterConfigError> {
    let _ = (part, config);
    Err(ConverterConfigError {
        key: part.prefix().into(),
        message: "converters are not implemented yet".into(),
    })
}
