//! `io.confluent.connect.avro.AvroConverter`: Confluent wire-format Avro -> [`Value`], with
//! writer schemas from a Confluent Schema Registry.
//!
//! Each record names its writer schema (payload prefix `0x00` + 4-byte id, or a
//! `__value_schema_id`/`__key_schema_id` header, see [`wire`]); the schema is fetched once
//! through `schema_registry_converter`'s [`AvroDecoder`] (URL failover, basic auth) and kept,
//! so records whose schema was seen keep decoding through a registry outage, and a producer
//! moving to a new schema version mid-stream is simply decoded with that version. Only an
//! outage while fetching a schema not seen yet is retriable ([`ConvertError::retriable`]);
//! bad framing, unknown schema ids and undecodable data are permanent, per-record errors.
//!
//! Datums are decoded with `apache-avro` readers built once per schema (see [`value`] for the
//! mapping to [`Value`]).

pub mod value;

pub use super::registry::SchemaRef;

use super::registry::{self, Registry, RegistryError, SchemaCache};
use super::{ConvertError, Converter, ConverterConfigError, Part};
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;
use apache_avro::Schema;
use async_trait::async_trait;
use bytes::Bytes;
use cassink_config::ConfigMap;
use cassink_record::Value;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::error::SRCError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub const CLASS_NAMES: &[&str] = &["io.confluent.connect.avro.AvroConverter", "AvroConverter"];

/// A writer schema ready to decode with: the reader is built once per schema.
struct Reader {
    schema: &'static Schema,
    reader: GenericDatumReader<'static>,
    names: ResolvedSchema<'static>,
}

impl Reader {
    fn new(schema: &Schema) -> Result<Self, String> {
        let schema = intern(schema);
        let names = ResolvedSchema::try_from(schema).map_err(|e| e.to_string())?;
        let reader = GenericDatumReader::builder(schema)
            .resolved_writer_schemata(names.clone())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Reader {
            schema,
            reader,
            names,
        })
    }

    fn decode(&self, schema_ref: &SchemaRef, mut body: &[u8]) -> Result<Value, RegistryError> {
        let datum = self
            .reader
            .read_value(&mut body)
            .map_err(|e| RegistryError::Decode {
                schema: schema_ref.clone(),
                detail: e.to_string(),
            })?;
        value::to_value(&datum, self.schema, self.names.get_names()).map_err(|detail| {
            RegistryError::Convert {
                schema: schema_ref.clone(),
                detail,
            }
        })
    }
}

/// One `&'static` copy per distinct schema in the process: readers borrow their schema, and
/// schemas, like the registry's ids, are immutable and few (the registry client keeps every
/// schema it fetched for the process lifetime too).
fn intern(schema: &Schema) -> &'static Schema {
    static INTERNED: OnceLock<Mutex<HashMap<String, &'static Schema>>> = OnceLock::new();
    let key = serde_json::to_string(schema).unwrap_or_else(|_| format!("{schema:?}"));
    let mut map = INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key)
        .or_insert_with(|| Box::leak(Box::new(schema.clone())))
}

/// The registry and the client's Avro decoder (which caches the schemas it fetched).
struct Source {
    registry: Registry,
    decoder: AvroDecoder,
}

impl Source {
    fn classify(&self, schema: &SchemaRef, e: &SRCError) -> RegistryError {
        // The client caches non-retriable errors; an outage must not stick.
        self.registry
            .classify_or_forget(schema, e, || self.decoder.remove_errors_from_cache())
    }
}

/// The converter. Built from config by [`AvroConverter::from_config`]; tests and benches use
/// [`AvroConverter::with_schemas`] (no registry, schemas given up front).
pub struct AvroConverter {
    part: Part,
    source: Option<Source>,
    readers: SchemaCache<Reader>,
}

impl AvroConverter {
    pub fn from_config(part: Part, config: &ConfigMap) -> Result<Self, ConverterConfigError> {
        let registry = Registry::from_config(part, "AvroConverter", config)?;
        Ok(AvroConverter {
            part,
            source: Some(Source {
                decoder: AvroDecoder::new(registry.client.clone()),
                registry,
            }),
            readers: SchemaCache::default(),
        })
    }

    /// A converter that knows only `schemas` and calls no registry.
    pub fn with_schemas(
        part: Part,
        schemas: impl IntoIterator<Item = (SchemaRef, Schema)>,
    ) -> Result<Self, String> {
        let converter = AvroConverter {
            part,
            source: None,
            readers: SchemaCache::default(),
        };
        for (schema_ref, schema) in schemas {
            converter
                .readers
                .remember(schema_ref, Arc::new(Reader::new(&schema)?));
        }
        Ok(converter)
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
        let reader = match self.readers.get(&schema_ref) {
            Some(r) => r,
            None => self.fetch(&schema_ref, header, body).await?,
        };
        reader.decode(&schema_ref, body).map(Some)
    }

    /// Gets a schema not seen yet from the registry and keeps its reader.
    async fn fetch(
        &self,
        schema_ref: &SchemaRef,
        header: Option<&[u8]>,
        body: &[u8],
    ) -> Result<Arc<Reader>, RegistryError> {
        let Some(source) = &self.source else {
            return Err(RegistryError::UnknownSchema {
                schema: schema_ref.clone(),
                registry: "none configured".into(),
                detail: "only pre-loaded schemas are known".into(),
            });
        };
        let schema = match schema_ref {
            SchemaRef::Id(id) => source
                .decoder
                .get_schema(*id)
                .await
                .map_err(|e| source.classify(schema_ref, &e))?,
            // Looked up by GUID through the client's header path, which also decodes.
            SchemaRef::Guid(_) => match source
                .decoder
                .decode_with_schema_with_header_id(header, Some(body))
                .await
            {
                Ok(Some(decoded)) => decoded.schema,
                Ok(None) => {
                    return Err(RegistryError::Decode {
                        schema: schema_ref.clone(),
                        detail: "no data".into(),
                    })
                }
                Err(e) if e.error.starts_with("Could not transform bytes") => {
                    return Err(RegistryError::Decode {
                        schema: schema_ref.clone(),
                        detail: e.cause.unwrap_or(e.error),
                    })
                }
                Err(e) => return Err(source.classify(schema_ref, &e)),
            },
        };
        let reader = Reader::new(&schema.parsed).map_err(|detail| RegistryError::BadSchema {
            schema: schema_ref.clone(),
            registry: source.registry.label.clone(),
            detail,
        })?;
        let reader = Arc::new(reader);
        self.readers.remember(schema_ref.clone(), reader.clone());
        Ok(reader)
    }
}

#[async_trait]
impl Converter for AvroConverter {
    async fn to_connect(
        &self,
        _topic: &str,
        headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, ConvertError> {
        self.decode(headers, data)
            .await
            .map_err(|e| e.into_convert_error("AvroConverter"))
    }
}

#[cfg(test)]
mod tests;
