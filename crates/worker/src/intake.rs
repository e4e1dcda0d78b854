//! Kafka message -> [`SinkRecord`]: runs the key and value converters and, when a
//! dead-letter queue or error log can use them, keeps the original bytes.

use super::tolerance::{Failure, RawRecord};
use bytes::Bytes;
use cassink_config::ConfigMap;
use cassink_connector::Stage;
use cassink_convert::{
    self as convert, ConvertError, Converter, ConverterConfigError, Part, SIMPLE_HEADER_CLASS,
};
use cassink_record::{Header, Position, SinkRecord, Value};
use cassink_transform::Chain;
use rdkafka::message::{Headers, Message};
use std::sync::Arc;

/// The converters of a task: key, value, and headers when `header.converter` names one other
/// than Connect's default `SimpleHeaderConverter` (whose string values the sink's codecs
/// read as Connect's parsed values would be written: numbers, booleans, times, JSON).
pub struct Converters {
    pub key: Arc<dyn Converter>,
    pub value: Arc<dyn Converter>,
    pub header: Option<Arc<dyn Converter>>,
}

impl Converters {
    pub fn build(config: &ConfigMap) -> Result<Converters, ConverterConfigError> {
        let header_class = config
            .get(Part::Header.prefix())
            .map(|c| c.trim())
            .filter(|c| !c.is_empty() && *c != SIMPLE_HEADER_CLASS);
        Ok(Converters {
            key: convert::build(Part::Key, config)?,
            value: convert::build(Part::Value, config)?,
            header: match header_class {
                Some(_) => Some(convert::build(Part::Header, config)?),
                None => None,
            },
        })
    }
}

/// Everything between a Kafka message and the sink: the converters, then the transforms.
pub struct Stages {
    pub converters: Converters,
    pub transforms: Chain,
    /// Keep a copy of each record's key and value bytes (for the dead-letter queue or error
    /// logs); without it a record carries none.
    pub keep_raw: bool,
}

/// What converting and transforming a message gave.
pub enum Intake {
    Record(SinkRecord),
    /// A transform dropped it (`Filter`, a Debezium tombstone): acknowledged, not written.
    Filtered,
    /// A permanent conversion failure.
    Failed(Failure),
    /// A transient one (e.g. the schema registry is unreachable): try again later.
    Retry(ConvertError),
}

/// The bytes of `msg`; its key and value only when `keep_bytes` (headers are always kept:
/// the header converter reads them).
pub fn raw(msg: &impl Message, keep_bytes: bool) -> RawRecord {
    let copy = |bytes: Option<&[u8]>| bytes.filter(|_| keep_bytes).map(Bytes::copy_from_slice);
    RawRecord {
        key: copy(msg.key()),
        value: copy(msg.payload()),
        headers: msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_string(), h.value.map(Bytes::copy_from_slice)))
                    .collect()
            })
            .unwrap_or_default(),
        timestamp_ms: msg.timestamp().to_millis(),
    }
}

/// Where `msg` was read; `topic` is its topic's shared name (see [`cassink_record::Topics`]).
pub fn position(msg: &impl Message, topic: Arc<str>) -> Position {
    Position {
        topic,
        partition: msg.partition(),
        offset: msg.offset(),
    }
}

/// Converts a message as librdkafka hands it over (borrowed: its key and value bytes are
/// copied only into the record's raw key and value, when [`Stages::keep_raw`]), then runs the
/// transforms on it. `topic` is the shared name of the message's topic.
pub async fn convert(msg: &(impl Message + Sync), topic: Arc<str>, stages: &Stages) -> Intake {
    let record = match convert_only(msg, topic, stages).await {
        Intake::Record(r) => r,
        other => return other,
    };
    if stages.transforms.is_empty() {
        return Intake::Record(record);
    }
    // What a transform failure reports: the record as read, when anything can use it.
    let raw = match stages.keep_raw {
        true => raw_of(&record),
        false => RawRecord {
            timestamp_ms: record.timestamp_ms,
            ..RawRecord::default()
        },
    };
    let position = record.position.clone();
    match stages.transforms.apply(record) {
        Ok(Some(r)) => Intake::Record(r),
        Ok(None) => Intake::Filtered,
        Err(e) => Intake::Failed(Failure {
            position,
            stage: Stage::Transformation,
            kind: "org.apache.kafka.connect.errors.DataException".into(),
            message: e.to_string(),
            raw,
        }),
    }
}

/// Runs `converter` on one payload: at once when it needs only the bytes, else through its
/// future (a registry lookup).
async fn run(
    converter: &dyn Converter,
    topic: &str,
    headers: &[(String, Option<Bytes>)],
    data: Option<&[u8]>,
) -> Result<Option<Value>, ConvertError> {
    match converter.immediate() {
        Some(immediate) => immediate.convert(data),
        None => converter.to_connect(topic, headers, data).await,
    }
}

async fn convert_only(msg: &(impl Message + Sync), topic: Arc<str>, stages: &Stages) -> Intake {
    let converters = &stages.converters;
    let raw = raw(msg, stages.keep_raw);
    let position = position(msg, topic);
    let key = match run(&*converters.key, msg.topic(), &raw.headers, msg.key()).await {
        Ok(k) => k,
        Err(e) => return failed(e, Stage::KeyConverter, position, raw),
    };
    let value = match run(&*converters.value, msg.topic(), &raw.headers, msg.payload()).await {
        Ok(v) => v,
        Err(e) => return failed(e, Stage::ValueConverter, position, raw),
    };
    let mut headers = Vec::with_capacity(raw.headers.len());
    for (key, bytes) in &raw.headers {
        let value = match (&converters.header, bytes) {
            (_, None) => Value::Null,
            (Some(conv), Some(b)) => match run(&**conv, msg.topic(), &raw.headers, Some(b)).await {
                Ok(v) => v.unwrap_or(Value::Null),
                Err(e) => {
                    let e = ConvertError {
                        message: format!("header {key}: {}", e.message),
                        ..e
                    };
                    return failed(e, Stage::HeaderConverter, position, raw);
                }
            },
            (None, Some(b)) => match std::str::from_utf8(b) {
                Ok(s) => Value::String(s.to_string()),
                Err(_) => Value::Bytes(b.clone()),
            },
        };
        headers.push(Header {
            key: key.clone(),
            raw: bytes.clone(),
            value,
        });
    }
    Intake::Record(SinkRecord {
        topic: position.topic.clone(),
        position,
        timestamp_ms: raw.timestamp_ms,
        key,
        value,
        headers,
        raw_key: raw.key,
        raw_value: raw.value,
    })
}

fn failed(e: ConvertError, stage: Stage, position: Position, raw: RawRecord) -> Intake {
    if e.retriable {
        return Intake::Retry(e);
    }
    Intake::Failed(Failure {
        position,
        stage,
        kind: "org.apache.kafka.connect.errors.DataException".into(),
        message: e.message,
        raw,
    })
}

/// The raw form of a converted record (for a record the sink rejects).
pub fn raw_of(record: &SinkRecord) -> RawRecord {
    RawRecord {
        key: record.raw_key.clone(),
        value: record.raw_value.clone(),
        headers: record
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.raw.clone()))
            .collect(),
        timestamp_ms: record.timestamp_ms,
    }
}
