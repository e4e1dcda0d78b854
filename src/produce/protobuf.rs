//! The meter sample producer in Protobuf: the generated readings written in the Confluent
//! Protobuf wire format (0x00 + schema id + message indexes `[0]` + message), with
//! `connectors/meter.proto` registered under `<topic>-value` as Confluent's
//! `KafkaProtobufSerializer` registers it (`.proto` text, schema type PROTOBUF).

use super::avro::send_encoded;
use super::{record, Brokers, ProduceError, Rng, Workload};
use cassink_convert::protobuf::CompiledSchema;
use prost_reflect::prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, Value as Proto};
use schema_registry_converter::async_impl::schema_registry::{post_schema, SrSettings};
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};
use serde_json::Value as Json;
use std::collections::HashMap;

pub const METER_PROTO: &str = include_str!("../../connectors/meter.proto");

#[derive(Debug, thiserror::Error)]
pub enum ProtobufProduceError {
    #[error(transparent)]
    Kafka(#[from] ProduceError),
    #[error("{workload} has no Protobuf schema; --format protobuf is for the meter workload")]
    NoSchema { workload: &'static str },
    #[error("invalid Protobuf schema connectors/meter.proto: {0}")]
    Schema(String),
    #[error("record {index} does not fit {message}: {detail}")]
    Record {
        index: u64,
        message: String,
        detail: String,
    },
    #[error(
        "cannot register connectors/meter.proto with the schema registry at {registry}: {detail}"
    )]
    Registry { registry: String, detail: String },
}

/// Encodes records of one message type for one topic under one registered schema id.
pub struct ProtobufWriter {
    descriptor: MessageDescriptor,
    schema_id: u32,
}

impl ProtobufWriter {
    /// Registers `schema_text` under `<topic>-value` and keeps its first message type.
    pub async fn register(
        registry: &str,
        topic: &str,
        schema_text: &str,
    ) -> Result<Self, ProtobufProduceError> {
        let unregistered = Self::new(schema_text, 0)?;
        let descriptor = unregistered.descriptor;
        let registry_error = |detail: String| ProtobufProduceError::Registry {
            registry: registry.to_string(),
            detail,
        };
        let settings = SrSettings::new_builder(registry.to_string())
            .no_proxy()
            .build()
            .map_err(|e| registry_error(e.to_string()))?;
        let supplied = SuppliedSchema::new(
            Some(descriptor.full_name().to_string()),
            SchemaType::Protobuf,
            schema_text.to_string(),
        );
        let registered = post_schema(&settings, format!("{topic}-value"), supplied)
            .await
            .map_err(|e| registry_error(e.to_string()))?;
        Ok(ProtobufWriter {
            descriptor,
            schema_id: registered.id,
        })
    }

    /// A writer of the first message of `schema_text` under `schema_id`, registering nothing.
    pub fn new(schema_text: &str, schema_id: u32) -> Result<Self, ProtobufProduceError> {
        let compiled = CompiledSchema::compile(schema_text, HashMap::new())
            .map_err(ProtobufProduceError::Schema)?;
        let descriptor = compiled
            .message(&[0])
            .cloned()
            .ok_or_else(|| ProtobufProduceError::Schema("it declares no message".into()))?;
        Ok(ProtobufWriter {
            descriptor,
            schema_id,
        })
    }

    /// The wire-format bytes of record `index` (for error messages).
    pub fn encode(&self, index: u64, json: &Json) -> Result<Vec<u8>, ProtobufProduceError> {
        let message =
            to_message(&self.descriptor, json).map_err(|detail| ProtobufProduceError::Record {
                index,
                message: self.descriptor.full_name().to_string(),
                detail,
            })?;
        let mut out = Vec::with_capacity(64);
        out.push(0);
        out.extend_from_slice(&self.schema_id.to_be_bytes());
        // Message indexes [0], written as the single byte 0.
        out.push(0);
        message
            .encode(&mut out)
            .map_err(|e| ProtobufProduceError::Record {
                index,
                message: self.descriptor.full_name().to_string(),
                detail: e.to_string(),
            })?;
        Ok(out)
    }
}

/// A JSON object -> a message of `descriptor`, field by field by name: numbers narrowed to the
/// field's type, `google.protobuf.Timestamp` from epoch milliseconds, arrays for `repeated`.
pub fn to_message(descriptor: &MessageDescriptor, json: &Json) -> Result<DynamicMessage, String> {
    if descriptor.full_name() == "google.protobuf.Timestamp" {
        let millis = json
            .as_i64()
            .ok_or_else(|| format!("{json} is not epoch milliseconds"))?;
        let mut timestamp = DynamicMessage::new(descriptor.clone());
        timestamp.set_field_by_name("seconds", Proto::I64(millis.div_euclid(1000)));
        let nanos = (millis.rem_euclid(1000) * 1_000_000) as i32;
        timestamp.set_field_by_name("nanos", Proto::I32(nanos));
        return Ok(timestamp);
    }
    let mut message = DynamicMessage::new(descriptor.clone());
    for field in descriptor.fields() {
        let Some(value) = json.get(field.name()).filter(|v| !v.is_null()) else {
            continue;
        };
        let kind = field.kind();
        let converted = if field.is_list() {
            let items = value
                .as_array()
                .ok_or_else(|| format!("field {}: {value} is not an array", field.name()))?;
            Proto::List(
                items
                    .iter()
                    .map(|item| scalar(&kind, item))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("field {}: {e}", field.name()))?,
            )
        } else {
            scalar(&kind, value).map_err(|e| format!("field {}: {e}", field.name()))?
        };
        message.set_field(&field, converted);
    }
    Ok(message)
}

fn scalar(kind: &Kind, json: &Json) -> Result<Proto, String> {
    let number = || {
        json.as_f64()
            .ok_or_else(|| format!("{json} is not a number"))
    };
    let integer = || {
        json.as_i64()
            .ok_or_else(|| format!("{json} is not an integer"))
    };
    let narrow = |i: i64| i32::try_from(i).map_err(|e| e.to_string());
    Ok(match kind {
        Kind::Double => Proto::F64(number()?),
        Kind::Float => Proto::F32(number()? as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Proto::I32(narrow(integer()?)?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Proto::I64(integer()?),
        Kind::Uint32 | Kind::Fixed32 => {
            Proto::U32(u32::try_from(integer()?).map_err(|e| e.to_string())?)
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Proto::U64(u64::try_from(integer()?).map_err(|e| e.to_string())?)
        }
        Kind::Bool => Proto::Bool(json.as_bool().ok_or("not a boolean")?),
        Kind::String => Proto::String(json.as_str().ok_or("not a string")?.to_string()),
        Kind::Bytes => return Err("bytes fields are not generated".into()),
        Kind::Enum(e) => {
            let name = json.as_str().ok_or("not an enum name")?;
            let value = e
                .get_value_by_name(name)
                .ok_or_else(|| format!("{name} is not a value of {}", e.full_name()))?;
            Proto::EnumNumber(value.number())
        }
        Kind::Message(m) => Proto::Message(to_message(m, json)?),
    })
}

/// `count` meter readings to `topic` in Protobuf, the schema registered in `registry`.
pub async fn produce_protobuf(
    brokers: impl Into<Brokers>,
    registry: &str,
    workload: Workload,
    topic: &str,
    count: u64,
    rate: Option<u64>,
    seed: u64,
) -> Result<u64, ProtobufProduceError> {
    if workload != Workload::Meter {
        return Err(ProtobufProduceError::NoSchema {
            workload: workload.topic(),
        });
    }
    let writer = ProtobufWriter::register(registry, topic, METER_PROTO).await?;
    let mut rng = Rng::new(seed);
    let records = (0..count).map(move |i| record(workload, i, &mut rng));
    let writer = &writer;
    let encode = |index: u64, json: Json| async move { writer.encode(index, &json) };
    send_encoded(brokers, topic, records, rate, encode).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::ReflectMessage;

    #[test]
    fn generated_meter_readings_encode_and_read_back() {
        let compiled = CompiledSchema::compile(METER_PROTO, HashMap::new()).expect("meter.proto");
        let descriptor = compiled.message(&[0]).expect("MeterReading").clone();
        let writer = ProtobufWriter {
            descriptor: descriptor.clone(),
            schema_id: 9,
        };
        let (_, json) = record(Workload::Meter, 51, &mut Rng::new(1));
        let bytes = writer.encode(51, &json).expect("encodes");
        assert_eq!(&bytes[..6], &[0, 0, 0, 0, 9, 0]);
        let message = DynamicMessage::decode(descriptor, &bytes[6..]).expect("decodes");
        assert_eq!(
            message.descriptor().full_name(),
            "cassink.meter.MeterReading"
        );
        let id = message.get_field_by_name("id").expect("id");
        assert_eq!(id.as_str(), json["id"].as_str());
        let harm = message.get_field_by_name("HARM").expect("HARM");
        assert_eq!(harm.as_list().map(<[Proto]>::len), Some(8));
    }
}
