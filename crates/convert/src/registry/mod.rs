//! What the schema-registry converters (Confluent's `AvroConverter`, `ProtobufConverter` and
//! `JsonSchemaConverter`) share: their registry settings ([`RegistrySettings`]), the Confluent
//! wire format ([`wire`]), the registry client built from the settings, and one error type for
//! a record that cannot be read, sorted into bad record / registry outage.
//!
//! The registry calls themselves go through `schema_registry_converter`'s decoders (URL
//! failover, basic auth, references, caching); this module only configures them and turns
//! their errors into [`RegistryError`].

mod config;
pub mod wire;

pub use config::{Credentials, RegistrySettings, SubjectStrategy};
pub use wire::SchemaRef;

use super::{ConverterConfigError, Part};
use bytes::Bytes;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::RawError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Why one record could not be read. Only [`RegistryError::Unavailable`] is retriable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "truncated payload: {len} bytes, but the Confluent wire format needs at least 5 \
         (magic byte 0x00 + 4-byte schema id) before the data"
    )]
    Truncated { len: usize },
    #[error(
        "unknown magic byte 0x{byte:02x}: the data is not in the Confluent wire format \
         (magic byte 0x00, 4-byte schema id, data); was it written by a schema-registry \
         serializer of this format?"
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
    #[error("the message indexes do not name a message of {schema}: {detail}")]
    BadMessageIndex { schema: SchemaRef, detail: String },
    #[error("cannot decode the data written with {schema} (truncated or corrupt): {detail}")]
    Decode { schema: SchemaRef, detail: String },
    #[error("the data written with {schema} does not validate against it: {detail}")]
    Invalid { schema: SchemaRef, detail: String },
    #[error("the data written with {schema} does not convert: {detail}")]
    Convert { schema: SchemaRef, detail: String },
}

impl RegistryError {
    pub fn is_retriable(&self) -> bool {
        matches!(self, RegistryError::Unavailable { .. })
    }

    /// The error as a converter error, prefixed with the converter's name.
    pub fn into_convert_error(self, converter: &str) -> super::ConvertError {
        super::ConvertError {
            retriable: self.is_retriable(),
            message: format!("{converter}: {self}"),
        }
    }
}

/// A configured registry: the client settings and the URLs for messages.
#[derive(Clone)]
pub struct Registry {
    pub client: SrSettings,
    /// The URLs, comma-separated, for messages.
    pub label: String,
}

impl Registry {
    /// Reads `<prefix>.schema.registry.url` and the other registry keys of `converter` (its
    /// name, for messages) and builds the client.
    pub fn from_config(
        part: Part,
        converter: &str,
        config: &cassink_config::ConfigMap,
    ) -> Result<Self, ConverterConfigError> {
        let settings = RegistrySettings::parse(part, converter, config)?;
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
        let client = builder.build().map_err(|e| ConverterConfigError {
            key: format!("{}.schema.registry.url", part.prefix()),
            message: format!("cannot create the schema registry client: {e}"),
        })?;
        Ok(Registry {
            client,
            label: settings.urls.join(","),
        })
    }

    /// [`Registry::classify`], calling `on_outage` when the error is an outage (to drop the
    /// errors a client cached, so that an outage does not stick).
    pub fn classify_or_forget(
        &self,
        schema: &SchemaRef,
        e: &SRCError,
        on_outage: impl FnOnce(),
    ) -> RegistryError {
        let error = self.classify(schema, e);
        if error.is_retriable() {
            on_outage();
        }
        error
    }

    /// Sorts a registry client error into unknown schema / outage / unusable schema.
    pub fn classify(&self, schema: &SchemaRef, e: &SRCError) -> RegistryError {
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
            RegistryError::Unavailable {
                schema,
                registry,
                detail,
            }
        } else if status == Some(404) || matches!(code, Some(40403 | 40400)) {
            RegistryError::UnknownSchema {
                schema,
                registry,
                detail,
            }
        } else {
            RegistryError::BadSchema {
                schema,
                registry,
                detail,
            }
        }
    }
}

/// What a converter made of each schema it fetched (readers, compiled schemas), by schema
/// reference: schemas never change under an id, so entries stay for the process lifetime.
pub struct SchemaCache<T>(RwLock<HashMap<SchemaRef, Arc<T>>>);

impl<T> Default for SchemaCache<T> {
    fn default() -> Self {
        SchemaCache(RwLock::new(HashMap::new()))
    }
}

impl<T> SchemaCache<T> {
    pub fn remember(&self, schema_ref: SchemaRef, value: Arc<T>) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(schema_ref, value);
    }

    pub fn get(&self, schema_ref: &SchemaRef) -> Option<Arc<T>> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema_ref)
            .cloned()
    }
}

/// The status in the client's "… failed with status 404 Not Found".
fn http_status(text: &str) -> Option<u16> {
    let rest = &text[text.find("status ")? + "status ".len()..];
    rest.get(..3)?.parse().ok()
}

/// The header that may carry the schema id of `part` (`__key_schema_id` / `__value_schema_id`).
pub fn header_name(part: Part) -> &'static str {
    match part {
        Part::Key => wire::KEY_SCHEMA_ID_HEADER,
        _ => wire::VALUE_SCHEMA_ID_HEADER,
    }
}

/// The last schema-id header of `part` in `headers`, if any (a header wins over the prefix).
pub fn schema_header(part: Part, headers: &[(String, Option<Bytes>)]) -> Option<&[u8]> {
    let name = header_name(part);
    headers
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.as_deref())
}

/// Where a record says its schema is: from the header if there is one (then `data` is the bare
/// datum), else from the payload prefix.
pub fn locate<'a>(
    part: Part,
    header: Option<&[u8]>,
    data: &'a [u8],
) -> Result<(SchemaRef, &'a [u8]), RegistryError> {
    match header {
        Some(h) => Ok((wire::parse_header(header_name(part), h)?, data)),
        None => wire::split_prefixed(data),
    }
}
