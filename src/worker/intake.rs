//! Kafka message -> [`SinkRecord`]: runs the key and value converters and keeps the original
//! bytes for the dead-letter queue.

use super::tolerance::{Failure, RawRecord};
use crate::connector::Stage;
use crate::convert::{ConvertError, Converter};
use crate::record::{Header, Position, SinkRecord, Value};
use bytes::Bytes;
use rdkafka::message::{Headers, Message};
use std::sync::Arc;

/// What converting a message gave.
pub enum Intake {
    Record(SinkRecord),
    /// A permanent conversion failure.
    Failed(Failure),
    /// A transient one (e.g. the schema registry is unreachable): try again later.
    Retry(ConvertError),
}

pub fn raw(msg: &impl Message) -> RawRecord {
    RawRecord {
        key: msg.key().map(Bytes::copy_from_slice),
        value: msg.payload().map(Bytes::copy_from_slice),
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

pub fn position(msg: &impl Message) -> Position {
    Position {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
    }
}

/// Converts a message as librdkafka hands it over (borrowed: its bytes are copied once, into
/// the record's raw key and value).
pub async fn convert(
    msg: &(impl Message + Sync),
    key_conv: &Arc<dyn Converter>,
    value_conv: &Arc<dyn Converter>,
) -> Intake {
    let raw = raw(msg);
    let position = position(msg);
    let key = match key_conv
        .to_connect(msg.topic(), &raw.headers, msg.key())
        .await
    {
        Ok(k) => k,
        Err(e) => return failed(e, Stage::KeyConverter, position, raw),
    };
    let value = match value_conv
        .to_connect(msg.topic(), &raw.headers, msg.payload())
        .await
    {
        Ok(v) => v,
        Err(e) => return failed(e, Stage::ValueConverter, position, raw),
    };
    let headers = raw
        .headers
        .iter()
        .map(|(key, bytes)| {
            let value = match bytes {
                None => Value::Null,
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_string()),
                    Err(_) => Value::Bytes(b.clone()),
                },
            };
            Header {
                key: key.clone(),
                raw: bytes.clone(),
                value,
            }
        })
        .collect();
    Intake::Record(SinkRecord {
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
