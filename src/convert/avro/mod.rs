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

mod config;
pub mod value;
pub mod wire;

pub use config::{AvroSettings, Credentials, SubjectStrategy};
pub use wire::SchemaRef;

use super::{ConvertError, Converter, ConverterConfigError, Part};
use crate::config::ConfigMap;
use crate::record::Value;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;
use apache_avro::Schema;
use async_trait::async_trait;
use bytes::Bytes;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::RawError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

pub const CLASS_NAMES: &[&str] = &["io.confluent.connect.avro.AvroConverter", "AvroConverter"];

/// Why one record could not be read. Only [`AvroError::Unavailable`] is retriable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AvroError {
    #[error(
        "truncated payload: {len} bytes, but the Confluent Avro wire format needs at least 5 \
         (magic byte 0x00 + 4-byte schema id) before the Avro data"
    )]
    Truncated { len: usize },
    #[error(
        "unknown magic byte 0x{byte:02x}: the data is not in the Confluent Avro wire format \
         (magic byte 0x00, 4-byte schema id, Avro data); was it written by a schema-registry \
         Avro serializer?"
    )]
    WrongMagic { byte: u8 },
    #[error("header {header} does not hold a schema id: {reason}")]
    BadHeader { header: String, reason: String },
    #[error("unknown {schema}: the schema registry ({registry}) does not have it: {detail}")]
    UnknownSchema {
        schema: SchemaRef,
        registry: String,
        detail: String,
    },
    #[error("schema registry ({registry}) unavailable while fetching {schema}: {detail}")]
    Unavailable {
        schema: SchemaRef,
        registry: String,
        detail: String,
    },
    #[error("cannot use {schema} from the schema registry ({registry}): {detail}")]
    BadSchema {
        schema: SchemaRef,
        registry: String,
        detail: String,
    },
    #[error("cannot decode the Avro data written with {schema} (truncated or corrupt): {detail}")]
    Decode { schema: SchemaRef, detail: String },
    #[error("the Avro data written with {schema} does not convert: {detail}")]
    Convert { schema: SchemaRef, detail: String },
}

impl AvroError {
    pub fn is_retriable(&self) -> bool {
        matches!(self, AvroError::Unavailable { .. })
    }
}

impl From<AvroError> for ConvertError {
    fn from(e: AvroError) -> Self {
        ConvertError {
            retriable: e.is_retriable(),
            message: format!("AvroConverter: {e}"),
        }
    }
}

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

    fn decode(&self, schema_ref: &SchemaRef, mut body: &[u8]) -> Result<Value, AvroError> {
        let datum = self
            .reader
            .read_value(&mut body)
            .map_err(|e| AvroError::Decode {
                schema: schema_ref.clone(),
                detail: e.to_string(),
            })?;
        value::to_value(&datum, self.schema, self.names.get_names()).map_err(|detail| {
            AvroError::Convert {
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

struct Registry {
    decoder: AvroDecoder,
    /// The URLs, for messages.
    label: String,
}

impl Registry {
    /// Sorts a registry client error into unknown schema / outage / unusable schema.
    fn classify(&self, schema: &SchemaRef, e: &SRCError) -> AvroError {
        let code = std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<RawError>())
            .map(|r| r.error_code);
        let status = http_status(&e.error);
        let detail = match &e.cause {
            Some(cause) => format!("{}: {cause}", e.error),
            None => e.error.clone(),
        };
        let (schema, registry) = (schema.clone(), self.label.clone());
        let unavailable = e.retriable || matches!(status, Some(401 | 403 | 408 | 429 | 500..=599));
        if unavailable {
            // The client caches non-retriable errors; an outage must not stick.
            self.decoder.remove_errors_from_cache();
            AvroError::Unavailable {
                schema,
                registry,
                detail,
            }
        } else if status == Some(404) || matches!(code, Some(40403 | 40400)) {
            AvroError::UnknownSchema {
                schema,
                registry,
                detail,
            }
        } else {
            AvroError::BadSchema {
                schema,
                registry,
                detail,
            }
        }
    }
}

/// The status in the client's "… failed with status 404 Not Found".
fn http_status(text: &str) -> Option<u16> {
    let rest = &text[text.find("status ")? + "status ".len()..];
    rest.get(..3)?.parse().ok()
}

/// The converter. Built from config by [`AvroConverter::from_config`]; tests and benches use
/// [`AvroConverter::with_schemas`] (no registry, schemas given up front).
pub struct AvroConverter {
    part: Part,
    registry: Option<Registry>,
    readers: RwLock<HashMap<SchemaRef, Arc<Reader>>>,
}

impl AvroConverter {
    pub fn from_config(part: Part, config: &ConfigMap) -> Result<Self, ConverterConfigError> {
        let settings = AvroSettings::parse(part, config)?;
        let url_key = format!("{}.schema.registry.url", part.prefix());
        let mut builder = SrSettings::new_builder(settings.urls[0].clone());
        for url in &settings.urls[1..] {
            builder.add_url(url.clone());
        }
        if let Some(c) = &settings.credentials {
            builder.set_basic_authorization(&c.user, c.password.as_deref());
        }
        match &settings.proxy {
            Some(proxy) => builder.set_proxy(proxy),
            None => builder.no_proxy(),
        };
        builder.set_timeout(settings.timeout);
        let sr = builder.build().map_err(|e| ConverterConfigError {
            key: url_key,
            message: format!("cannot create the schema registry client: {e}"),
        })?;
        Ok(AvroConverter {
            part,
            registry: Some(Registry {
                decoder: AvroDecoder::new(sr),
                label: settings.urls.join(","),
            }),
            readers: RwLock::new(HashMap::new()),
        })
    }

    /// A converter that knows only `schemas` and calls no registry.
    pub fn with_schemas(
        part: Part,
        schemas: impl IntoIterator<Item = (SchemaRef, Schema)>,
    ) -> Result<Self, String> {
        let converter = AvroConverter {
            part,
            registry: None,
            readers: RwLock::new(HashMap::new()),
        };
        for (schema_ref, schema) in schemas {
            converter.remember(schema_ref, Arc::new(Reader::new(&schema)?));
        }
        Ok(converter)
    }

    fn header_name(&self) -> &'static str {
        match self.part {
            Part::Key => wire::KEY_SCHEMA_ID_HEADER,
            _ => wire::VALUE_SCHEMA_ID_HEADER,
        }
    }

    fn remember(&self, schema_ref: SchemaRef, reader: Arc<Reader>) {
        self.readers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(schema_ref, reader);
    }

    fn cached(&self, schema_ref: &SchemaRef) -> Option<Arc<Reader>> {
        self.readers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema_ref)
            .cloned()
    }

    /// Decodes one payload: `Ok(None)` for a null payload.
    pub async fn decode(
        &self,
        headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, AvroError> {
        let Some(data) = data else {
            return Ok(None);
        };
        let name = self.header_name();
        let header = headers
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref());
        let (schema_ref, body) = match header {
            Some(h) => (wire::parse_header(name, h)?, data),
            None => wire::split_prefixed(data)?,
        };
        let reader = match self.cached(&schema_ref) {
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
    ) -> Result<Arc<Reader>, AvroError> {
        let Some(registry) = &self.registry else {
            return Err(AvroError::UnknownSchema {
                schema: schema_ref.clone(),
                registry: "none configured".into(),
                detail: "only pre-loaded schemas are known".into(),
            });
        };
        let schema = match schema_ref {
            SchemaRef::Id(id) => registry
                .decoder
                .get_schema(*id)
                .await
                .map_err(|e| registry.classify(schema_ref, &e))?,
            // Looked up by GUID through the client's header path, which also decodes.
            SchemaRef::Guid(_) => match registry
                .decoder
                .decode_with_schema_with_header_id(header, Some(body))
                .await
            {
                Ok(Some(decoded)) => decoded.schema,
                Ok(None) => {
                    return Err(AvroError::Decode {
                        schema: schema_ref.clone(),
                        detail: "no data".into(),
                    })
                }
                Err(e) if e.error.starts_with("Could not transform bytes") => {
                    return Err(AvroError::Decode {
                        schema: schema_ref.clone(),
                        detail: e.cause.unwrap_or(e.error),
                    })
                }
                Err(e) => return Err(registry.classify(schema_ref, &e)),
            },
        };
        let reader = Reader::new(&schema.parsed).map_err(|detail| AvroError::BadSchema {
            schema: schema_ref.clone(),
            registry: registry.label.clone(),
            detail,
        })?;
        let reader = Arc::new(reader);
        self.remember(schema_ref.clone(), reader.clone());
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
        self.decode(headers, data).await.map_err(ConvertError::from)
    }
}

#[cfg(test)]
mod tests;
