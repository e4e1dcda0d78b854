//! `io.confluent.connect.protobuf.ProtobufConverter`: Confluent wire-format Protobuf ->
//! [`Value`], with schemas from a Confluent-compatible schema registry.
//!
//! A record is `0x00`, the 4-byte schema id, the message indexes (zigzag varints: a count,
//! then one index per nesting level; a single `0x00` means `[0]`), then the message; or, with
//! a `__value_schema_id`/`__key_schema_id` header, the header holds the id (or GUID) and the
//! indexes and the payload is the bare message. The schema (`.proto` text, or base64 of a
//! `FileDescriptorProto`) and the schemas it references are fetched once per id and compiled
//! ([`schema`]); the message is decoded dynamically (`prost-reflect`) and mapped as Confluent's
//! `ProtobufData` does ([`value`]). A new schema id mid-stream (a producer's new schema
//! version) is fetched when first seen; only an outage while fetching is retriable.

pub mod schema;
pub mod value;

pub use schema::CompiledSchema;
pub use value::Mapping;

use super::registry::{self, Registry, RegistryError, SchemaCache, SchemaRef};
use super::{ConvertError, Converter, ConverterConfigError, Part};
use async_trait::async_trait;
use bytes::Bytes;
use cassink_config::{parse_bool, ConfigMap};
use cassink_record::Value;
use prost_reflect::DynamicMessage;
use schema_registry_converter::async_impl::schema_registry::{
    get_referenced_schema, get_schema_by_guid_and_type, get_schema_by_id_and_type,
};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{RegisteredSchema, SchemaType};
use std::collections::HashMap;
use std::sync::Arc;

pub const CLASS_NAMES: &[&str] = &[
    "io.confluent.connect.protobuf.ProtobufConverter",
    "ProtobufConverter",
];
const NAME: &str = "ProtobufConverter";

/// The converter. Built from config by [`ProtobufConverter::from_config`]; tests and benches
/// use [`ProtobufConverter::with_schemas`] (no registry).
pub struct ProtobufConverter {
    part: Part,
    mapping: Mapping,
    registry: Option<Registry>,
    schemas: SchemaCache<CompiledSchema>,
}

impl ProtobufConverter {
    pub fn from_config(part: Part, config: &ConfigMap) -> Result<Self, ConverterConfigError> {
        let registry = Registry::from_config(part, NAME, config)?;
        Ok(ProtobufConverter {
            part,
            mapping: mapping_from_config(part, config)?,
            registry: Some(registry),
            schemas: SchemaCache::default(),
        })
    }

    /// A converter that knows only `schemas` (`.proto` texts without references).
    pub fn with_schemas(
        part: Part,
        mapping: Mapping,
        schemas: impl IntoIterator<Item = (SchemaRef, String)>,
    ) -> Result<Self, String> {
        let converter = ProtobufConverter {
            part,
            mapping,
            registry: None,
            schemas: SchemaCache::default(),
        };
        for (schema_ref, text) in schemas {
            let compiled = CompiledSchema::compile(&text, HashMap::new())?;
            converter.schemas.remember(schema_ref, Arc::new(compiled));
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
        // The indexes follow the id: in the header when the id is there, else in the payload.
        let (schema_ref, indexes, body) = match header {
            Some(h) => {
                let name = registry::header_name(self.part);
                let (schema_ref, rest) = registry::wire::parse_header_with_rest(name, h)?;
                let (indexes, _) = message_indexes(&schema_ref, rest)?;
                (schema_ref, indexes, data)
            }
            None => {
                let (schema_ref, rest) = registry::wire::split_prefixed(data)?;
                let (indexes, body) = message_indexes(&schema_ref, rest)?;
                (schema_ref, indexes, body)
            }
        };
        let schema = match self.schemas.get(&schema_ref) {
            Some(s) => s,
            None => self.fetch(&schema_ref).await?,
        };
        let descriptor =
            schema
                .message(&indexes)
                .ok_or_else(|| RegistryError::BadMessageIndex {
                    schema: schema_ref.clone(),
                    detail: format!(
                        "no message at index {indexes:?} (top-level messages: {})",
                        schema.top_level().join(", ")
                    ),
                })?;
        let message = DynamicMessage::decode(descriptor.clone(), body).map_err(|e| {
            RegistryError::Decode {
                schema: schema_ref.clone(),
                detail: format!("as {}: {e}", descriptor.full_name()),
            }
        })?;
        self.mapping
            .top_level(&message)
            .map(Some)
            .map_err(|detail| RegistryError::Convert {
                schema: schema_ref,
                detail,
            })
    }

    /// Gets a schema not seen yet from the registry, with its references, and compiles it.
    async fn fetch(&self, schema_ref: &SchemaRef) -> Result<Arc<CompiledSchema>, RegistryError> {
        let Some(registry) = &self.registry else {
            return Err(RegistryError::UnknownSchema {
                schema: schema_ref.clone(),
                registry: "none configured".into(),
                detail: "only pre-loaded schemas are known".into(),
            });
        };
        let classify = |e: SRCError| registry.classify(schema_ref, &e);
        let root = match schema_ref {
            SchemaRef::Id(id) => {
                get_schema_by_id_and_type(*id, &registry.client, SchemaType::Protobuf).await
            }
            SchemaRef::Guid(guid) => {
                get_schema_by_guid_and_type(
                    &guid.to_string(),
                    &registry.client,
                    SchemaType::Protobuf,
                )
                .await
            }
        }
        .map_err(classify)?;
        let references = references(registry, &root).await.map_err(classify)?;
        let compiled = CompiledSchema::compile(&root.schema, references).map_err(|detail| {
            RegistryError::BadSchema {
                schema: schema_ref.clone(),
                registry: registry.label.clone(),
                detail,
            }
        })?;
        let compiled = Arc::new(compiled);
        self.schemas.remember(schema_ref.clone(), compiled.clone());
        Ok(compiled)
    }
}

/// Every schema `root` references, transitively, by the name it is imported with.
async fn references(
    registry: &Registry,
    root: &RegisteredSchema,
) -> Result<HashMap<String, String>, SRCError> {
    let mut found = HashMap::new();
    let mut pending: Vec<_> = root.references.clone();
    while let Some(reference) = pending.pop() {
        if found.contains_key(&reference.name) {
            continue;
        }
        let schema = get_referenced_schema(&registry.client, &reference).await?;
        pending.extend(schema.references.iter().cloned());
        found.insert(reference.name, schema.schema);
    }
    Ok(found)
}

/// Reads the message indexes at the start of `data`; returns them and the rest.
fn message_indexes<'a>(
    schema: &SchemaRef,
    mut data: &'a [u8],
) -> Result<(Vec<i32>, &'a [u8]), RegistryError> {
    let bad = |detail: String| RegistryError::BadMessageIndex {
        schema: schema.clone(),
        detail,
    };
    let next = |data: &mut &'a [u8]| -> Result<i64, RegistryError> {
        let raw = prost_reflect::prost::encoding::decode_varint(data)
            .map_err(|_| bad("the message indexes are truncated or not varints".into()))?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    };
    let count = next(&mut data)?;
    if count == 0 {
        return Ok((vec![0], data));
    }
    if !(1..=100).contains(&count) {
        return Err(bad(format!("{count} message indexes")));
    }
    let mut indexes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let index = next(&mut data)?;
        indexes.push(i32::try_from(index).map_err(|_| bad(format!("index {index}")))?);
    }
    Ok((indexes, data))
}

/// The `ProtobufData` settings under `<prefix>.` that change values.
fn mapping_from_config(part: Part, config: &ConfigMap) -> Result<Mapping, ConverterConfigError> {
    let mut mapping = Mapping::default();
    let settings: [(&str, &mut bool); 6] = [
        ("int.for.enums", &mut mapping.int_for_enums),
        ("wrapper.for.nullables", &mut mapping.wrapper_for_nullables),
        (
            "wrapper.for.raw.primitives",
            &mut mapping.wrapper_for_raw_primitives,
        ),
        (
            "generate.index.for.unions",
            &mut mapping.generate_index_for_unions,
        ),
        ("flatten.unions", &mut mapping.flatten_unions),
        (
            "generate.struct.for.nulls",
            &mut mapping.generate_struct_for_nulls,
        ),
    ];
    for (name, slot) in settings {
        let key = format!("{}.{name}", part.prefix());
        if let Some(raw) = config.get(&key) {
            *slot = parse_bool(raw).ok_or_else(|| ConverterConfigError {
                key: key.clone(),
                message: format!("invalid value {raw:?}: expected true or false"),
            })?;
        }
    }
    Ok(mapping)
}

#[async_trait]
impl Converter for ProtobufConverter {
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
