//! `io.confluent.connect.json.JsonSchemaConverter`: Confluent wire-format JSON (`0x00`, the
//! 4-byte schema id, JSON text; or the id in a `__value_schema_id`/`__key_schema_id` header)
//! -> [`Value`], typed by the record's JSON Schema from a Confluent-compatible registry.
//!
//! Schemas (with the schemas they reference) come through `schema_registry_converter`'s
//! [`JsonDecoder`], which keeps each one it fetched, so a producer's new schema version
//! mid-stream is read with that version and known schemas keep working through a registry
//! outage; only an outage while fetching a schema not seen yet is retriable. The payload is
//! validated against its schema only with `json.fail.invalid.schema=true` (default false), as
//! Confluent's deserializer does; the typing rules are in [`value`].

pub mod value;

use super::json::Json;
use super::registry::{self, Registry, RegistryError, SchemaRef};
use super::{ConvertError, Converter, ConverterConfigError, Part};
use async_trait::async_trait;
use bytes::Bytes;
use cassink_config::{parse_bool, ConfigMap};
use cassink_record::Value;
use schema_registry_converter::async_impl::json::{JsonDecoder, JsonSchema};
use schema_registry_converter::error::SRCError;
use std::sync::Arc;
use value::Document;

pub const CLASS_NAMES: &[&str] = &[
    "io.confluent.connect.json.JsonSchemaConverter",
    "JsonSchemaConverter",
];
const NAME: &str = "JsonSchemaConverter";

pub struct JsonSchemaConverter {
    part: Part,
    registry: Registry,
    decoder: JsonDecoder,
    /// `json.fail.invalid.schema`.
    validate: bool,
    /// `use.optional.for.nonrequired`.
    optional_for_nonrequired: bool,
}

impl JsonSchemaConverter {
    pub fn from_config(part: Part, config: &ConfigMap) -> Result<Self, ConverterConfigError> {
        let registry = Registry::from_config(part, NAME, config)?;
        let flag = |name: &str| -> Result<bool, ConverterConfigError> {
            let key = format!("{}.{name}", part.prefix());
            match config.get(&key) {
                None => Ok(false),
                Some(raw) => parse_bool(raw).ok_or_else(|| ConverterConfigError {
                    key,
                    message: format!("invalid value {raw:?}: expected true or false"),
                }),
            }
        };
        Ok(JsonSchemaConverter {
            part,
            decoder: JsonDecoder::new(registry.client.clone()),
            registry,
            validate: flag("json.fail.invalid.schema")?,
            optional_for_nonrequired: flag("use.optional.for.nonrequired")?,
        })
    }

    fn classify(&self, schema: &SchemaRef, e: &SRCError) -> RegistryError {
        // The client caches non-retriable errors; an outage must not stick.
        self.registry
            .classify_or_forget(schema, e, || self.decoder.remove_errors_from_cache())
    }

    /// Decodes one payload: `Ok(None)` for a null payload.
    pub async fn decode(
        &self,
        headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, RegistryError> {
        let Some(data) = data else {
            return Ok(None);
        };
        let header = registry::schema_header(self.part, headers);
        let (schema_ref, body) = registry::locate(self.part, header, data)?;
        let json = Json::parse(body).map_err(|detail| RegistryError::Decode {
            schema: schema_ref.clone(),
            detail: format!("not JSON: {detail}"),
        })?;
        let schema: Arc<JsonSchema> = match &schema_ref {
            SchemaRef::Id(id) => self.decoder.get_schema(*id).await,
            // By GUID only through the client's header path, which also parses the payload
            // (already known to be JSON here).
            SchemaRef::Guid(_) => self
                .decoder
                .decode_with_header_id(header, Some(body))
                .await
                .and_then(|decoded| {
                    decoded.map(|d| d.schema).ok_or_else(|| {
                        SRCError::non_retryable_without_cause("the registry gave no schema")
                    })
                }),
        }
        .map_err(|e| self.classify(&schema_ref, &e))?;
        if self.validate {
            let untyped: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| RegistryError::Decode {
                    schema: schema_ref.clone(),
                    detail: e.to_string(),
                })?;
            self.decoder
                .validate(&schema, &untyped)
                .map_err(|e| RegistryError::Invalid {
                    schema: schema_ref.clone(),
                    detail: e.error,
                })?;
        }
        let document = Document {
            schema: schema.as_ref(),
            optional_for_nonrequired: self.optional_for_nonrequired,
        };
        document
            .read(json)
            .map(Some)
            .map_err(|detail| RegistryError::Convert {
                schema: schema_ref,
                detail,
            })
    }
}

#[async_trait]
impl Converter for JsonSchemaConverter {
    async fn to_connect(
        &self,
        _topic: &str,
        headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, ConvertError> {
        self.decode(headers, data)
            .await
            .map_err(|e| e.into_convert_error(NAME))
    }
}

#[cfg(test)]
mod tests;
