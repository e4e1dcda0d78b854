//! Converters: Kafka bytes -> the Connect-like [`Value`] model, as Kafka Connect's converters
//! do (`JsonConverter`, `StringConverter`, `ByteArrayConverter`, and the Confluent
//! `AvroConverter` with its schema registry in [`avro`]).
//! A converter knows no table.
//!
//! Crate `cassink-convert`. May depend on `cassink-record` and `cassink-config` only: a converter
//! knows no table, no consumer and no HTTP.

pub mod avro;
pub mod bytes;
pub mod json;
pub mod json_schema;
pub mod primitive;
pub mod protobuf;
pub mod registry;
pub mod string;

pub use self::bytes::ByteArrayConverter;
pub use avro::AvroConverter;
pub use json::envelope::DecimalFormat;
pub use json::JsonConverter;
pub use json_schema::JsonSchemaConverter;
pub use primitive::{Primitive, PrimitiveConverter};
pub use protobuf::ProtobufConverter;
pub use string::{Encoding, StringConverter};

use ::bytes::Bytes;
use async_trait::async_trait;
use cassink_config::{parse_bool, ConfigMap};
use cassink_record::Value;
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

    /// The same converter when it needs nothing but the bytes: the task then converts
    /// without a future per record.
    fn immediate(&self) -> Option<&dyn ImmediateConverter> {
        None
    }
}

/// A converter that needs nothing but the payload (JSON, strings, bytes, numbers): it answers
/// at once. Every one is a [`Converter`] too.
pub trait ImmediateConverter: Send + Sync {
    /// As [`Converter::to_connect`].
    fn convert(&self, data: Option<&[u8]>) -> Result<Option<Value>, ConvertError>;
}

#[async_trait]
impl<T: ImmediateConverter> Converter for T {
    async fn to_connect(
        &self,
        _topic: &str,
        _headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, ConvertError> {
        self.convert(data)
    }

    fn immediate(&self) -> Option<&dyn ImmediateConverter> {
        Some(self)
    }
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

/// The Confluent Avro converter's class name.
pub const AVRO_CLASS: &str = "io.confluent.connect.avro.AvroConverter";
/// Connect's default header converter; headers are read as strings until it is implemented.
pub const SIMPLE_HEADER_CLASS: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// Builds the converter for `part` from a merged config (worker defaults overlaid with the
/// connector's own keys): `<prefix>` names the class, `<prefix>.<sub>` are its settings.
///
/// Classes: `JsonConverter` (`schemas.enable`, default true; `decimal.format` BASE64|NUMERIC),
/// `StringConverter` (`encoding`, also read as `converter.encoding`; default UTF8) and
/// `ByteArrayConverter`, by full Connect class name or short name, and Confluent's
/// `AvroConverter` (`schema.registry.url` and the keys of [`avro::AvroSettings`]). A missing
/// `header.converter` (and `SimpleHeaderConverter`) reads headers as UTF-8 strings.
pub fn build(part: Part, config: &ConfigMap) -> Result<Arc<dyn Converter>, ConverterConfigError> {
    let prefix = part.prefix();
    let class = config.get(prefix).map(|c| c.trim()).unwrap_or_default();
    let sub = |name: &str| {
        config
            .get(&format!("{prefix}.{name}"))
            .map(|v| (format!("{prefix}.{name}"), v.trim()))
    };
    let error = |key: String, message: String| ConverterConfigError { key, message };

    if class.is_empty() && part == Part::Header || class == SIMPLE_HEADER_CLASS {
        return Ok(Arc::new(StringConverter::default()));
    }
    if class.is_empty() {
        return Err(error(
            prefix.into(),
            "no converter class is configured; use e.g. org.apache.kafka.connect.json.JsonConverter"
                .into(),
        ));
    }
    if json::CLASS_NAMES.contains(&class) {
        let mut converter = JsonConverter::default();
        if let Some((key, raw)) = sub("schemas.enable") {
            converter.schemas_enable = parse_bool(raw).ok_or_else(|| {
                error(
                    key,
                    format!("invalid value {raw:?}: expected true or false"),
                )
            })?;
        }
        if let Some((key, raw)) = sub("decimal.format") {
            converter.decimal_format = DecimalFormat::parse(raw).ok_or_else(|| {
                error(
                    key,
                    format!("invalid value {raw:?}: expected BASE64 or NUMERIC"),
                )
            })?;
        }
        return Ok(Arc::new(converter));
    }
    if string::CLASS_NAMES.contains(&class) {
        let mut converter = StringConverter::default();
        let setting = sub("encoding")
            .or_else(|| sub("converter.encoding"))
            .or_else(|| sub("deserializer.encoding"));
        if let Some((key, raw)) = setting {
            converter.encoding = Encoding::parse(raw).ok_or_else(|| {
                error(
                    key,
                    format!("unsupported encoding {raw:?}: expected UTF8, US-ASCII or ISO-8859-1"),
                )
            })?;
        }
        return Ok(Arc::new(converter));
    }
    if bytes::CLASS_NAMES.contains(&class) {
        return Ok(Arc::new(ByteArrayConverter));
    }
    if avro::CLASS_NAMES.contains(&class) {
        return Ok(Arc::new(AvroConverter::from_config(part, config)?));
    }
    if protobuf::CLASS_NAMES.contains(&class) {
        return Ok(Arc::new(ProtobufConverter::from_config(part, config)?));
    }
    if json_schema::CLASS_NAMES.contains(&class) {
        return Ok(Arc::new(JsonSchemaConverter::from_config(part, config)?));
    }
    if let Some(kind) = Primitive::from_class(class) {
        return Ok(Arc::new(PrimitiveConverter(kind)));
    }
    Err(error(
        prefix.into(),
        format!(
            "unknown converter class {class:?}; known: {}",
            class_names().collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// The full class name of every converter [`build`] knows.
pub fn class_names() -> impl Iterator<Item = String> {
    [
        json::CLASS_NAMES[0],
        string::CLASS_NAMES[0],
        bytes::CLASS_NAMES[0],
        AVRO_CLASS,
        protobuf::CLASS_NAMES[0],
        json_schema::CLASS_NAMES[0],
    ]
    .into_iter()
    .map(String::from)
    .chain(Primitive::class_names())
}

#[cfg(test)]
mod tests;
