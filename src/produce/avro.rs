//! The sample producers in Avro: the same generated records, written in the Confluent wire
//! format (0x00 + schema id + Avro) with schemas registered in a schema registry under
//! `TopicNameStrategy` (`<topic>-value`), as a Confluent `KafkaAvroSerializer` would.
//! Schemas: `connectors/{tweets,weather,meter}.avsc`.

use super::{check, record, Brokers, ProduceError, Rng, Workload};
use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use futures::StreamExt;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;
use schema_registry_converter::async_impl::avro::AvroEncoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};
use serde_json::Value as Json;
use std::time::Duration;

pub const TWEETS_SCHEMA: &str = include_str!("../../connectors/tweets.avsc");
pub const WEATHER_SCHEMA: &str = include_str!("../../connectors/weather.avsc");
pub const METER_SCHEMA: &str = include_str!("../../connectors/meter.avsc");

/// How records are written: JSON text, Confluent Avro, or Confluent Protobuf (meter only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Json,
    Avro,
    Protobuf,
}

#[derive(Debug, thiserror::Error)]
pub enum AvroProduceError {
    #[error(transparent)]
    Kafka(#[from] ProduceError),
    #[error("invalid Avro schema: {0}")]
    Schema(String),
    #[error("record {index} does not fit the Avro schema {schema}: {message}")]
    Record {
        index: u64,
        schema: String,
        message: String,
    },
    #[error("cannot register or encode record {index} with the schema registry at {registry}: {message}")]
    Registry {
        index: u64,
        registry: String,
        message: String,
    },
}

/// The Avro schema (JSON text) of a workload.
pub fn schema_text(workload: Workload) -> &'static str {
    match workload {
        Workload::Tweets => TWEETS_SCHEMA,
        Workload::Weather => WEATHER_SCHEMA,
        Workload::Meter => METER_SCHEMA,
    }
}

/// A generated JSON record made ready for its Avro schema: times become epoch milliseconds
/// (tweets' float seconds, weather's `YYYY-mm-dd HH:MM:SS` UTC text).
pub fn normalize(workload: Workload, mut json: Json) -> Json {
    match workload {
        Workload::Tweets => {
            if let Some(s) = json["datetime"].as_f64() {
                json["datetime"] = Json::from((s * 1000.0).round() as i64);
            }
        }
        Workload::Weather => {
            let parsed = json["report_time"]
                .as_str()
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok());
            if let Some(t) = parsed {
                json["report_time"] = Json::from(t.and_utc().timestamp_millis());
            }
        }
        Workload::Meter => {}
    }
    json
}

/// JSON -> an Avro datum of `schema`: records field by field (a missing field takes its
/// default, or null in a nullable union), numbers narrowed to the schema's type, uuid text,
/// epoch-millisecond timestamps.
pub fn to_avro(schema: &Schema, json: &Json) -> Result<Avro, String> {
    let number = || {
        json.as_f64()
            .ok_or_else(|| format!("{json} is not a number"))
    };
    let integer = || {
        json.as_i64()
            .ok_or_else(|| format!("{json} is not an integer"))
    };
    Ok(match schema {
        Schema::Null if json.is_null() => Avro::Null,
        Schema::Boolean => Avro::Boolean(json.as_bool().ok_or("not a boolean")?),
        Schema::Int => Avro::Int(i32::try_from(integer()?).map_err(|e| e.to_string())?),
        Schema::Long => Avro::Long(integer()?),
        Schema::Float => Avro::Float(number()? as f32),
        Schema::Double => Avro::Double(number()?),
        Schema::String => Avro::String(json.as_str().ok_or("not a string")?.to_string()),
        Schema::Uuid(_) => Avro::Uuid(
            json.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .ok_or_else(|| format!("{json} is not a uuid"))?,
        ),
        Schema::TimestampMillis => Avro::TimestampMillis(integer()?),
        Schema::TimestampMicros => Avro::TimestampMicros(integer()?),
        Schema::Date => Avro::Date(i32::try_from(integer()?).map_err(|e| e.to_string())?),
        Schema::Array(a) => Avro::Array(
            json.as_array()
                .ok_or("not an array")?
                .iter()
                .map(|item| to_avro(&a.items, item))
                .collect::<Result<_, _>>()?,
        ),
        Schema::Union(u) => {
            let mut last = format!("{json} matches no branch of the union");
            for (i, branch) in u.variants().iter().enumerate() {
                match to_avro(branch, json) {
                    Ok(v) => return Ok(Avro::Union(i as u32, Box::new(v))),
                    Err(e) => last = e,
                }
            }
            return Err(last);
        }
        Schema::Record(r) => {
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let value = match (json.get(&f.name), &f.default) {
                    (Some(v), _) => v,
                    (None, Some(default)) => default,
                    (None, None) => &Json::Null,
                };
                let v = to_avro(&f.schema, value).map_err(|e| format!("field {}: {e}", f.name))?;
                fields.push((f.name.clone(), v));
            }
            Avro::Record(fields)
        }
        other => {
            return Err(format!(
                "{json} cannot be written as {}",
                serde_json::to_string(other).unwrap_or_default()
            ))
        }
    })
}

/// Encodes records of one schema for one topic, registering the schema on first use.
pub struct AvroWriter {
    encoder: AvroEncoder,
    strategy: SubjectNameStrategy,
    schema: Schema,
    registry: String,
}

impl AvroWriter {
    pub fn new(registry: &str, topic: &str, schema_text: &str) -> Result<Self, AvroProduceError> {
        let schema =
            Schema::parse_str(schema_text).map_err(|e| AvroProduceError::Schema(e.to_string()))?;
        let name = match &schema {
            Schema::Record(r) => Some(r.name.fullname(None)),
            _ => None,
        };
        let supplied = SuppliedSchema::new(name, SchemaType::Avro, schema_text.to_string());
        let settings = SrSettings::new_builder(registry.to_string())
            .no_proxy()
            .build()
            .map_err(|e| AvroProduceError::Schema(e.to_string()))?;
        Ok(AvroWriter {
            encoder: AvroEncoder::new(settings),
            strategy: SubjectNameStrategy::TopicNameStrategyWithSchema(
                topic.to_string(),
                false,
                supplied,
            ),
            schema,
            registry: registry.to_string(),
        })
    }

    /// The wire-format bytes of record `index` (for error messages).
    pub async fn encode(&self, index: u64, json: &Json) -> Result<Vec<u8>, AvroProduceError> {
        let record_error = |message: String| AvroProduceError::Record {
            index,
            schema: self
                .schema
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            message,
        };
        let Avro::Record(fields) = to_avro(&self.schema, json).map_err(record_error)? else {
            return Err(record_error("the schema is not a record".into()));
        };
        let (names, values): (Vec<String>, Vec<Avro>) = fields.into_iter().unzip();
        let values = names.iter().map(String::as_str).zip(values).collect();
        self.encoder
            .encode(values, self.strategy.clone())
            .await
            .map_err(|e| AvroProduceError::Registry {
                index,
                registry: self.registry.clone(),
                message: e.to_string(),
            })
    }
}

/// Produces keyed JSON records to `topic` as Avro through `writer` (at most `rate` per
/// second when given); returns once the broker acknowledged every record.
pub async fn send_avro(
    brokers: impl Into<Brokers>,
    topic: &str,
    writer: &AvroWriter,
    records: impl IntoIterator<Item = (String, Json)>,
    rate: Option<u64>,
) -> Result<u64, AvroProduceError> {
    let encode = |index: u64, json: Json| async move { writer.encode(index, &json).await };
    send_encoded(brokers, topic, records, rate, encode).await
}

/// Produces keyed records to `topic`, each value encoded by `encode` (at most `rate` per
/// second when given); returns once the broker acknowledged every record.
pub async fn send_encoded<E, F, Fut>(
    brokers: impl Into<Brokers>,
    topic: &str,
    records: impl IntoIterator<Item = (String, Json)>,
    rate: Option<u64>,
    encode: F,
) -> Result<u64, E>
where
    E: From<ProduceError>,
    F: Fn(u64, Json) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, E>>,
{
    let producer = brokers
        .into()
        .producer(&[("linger.ms", "20"), ("compression.type", "lz4")])
        .await?;
    let started = std::time::Instant::now();
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut sent = 0u64;
    for (index, (key, json)) in (0u64..).zip(records) {
        if let Some(rate) = rate.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(index as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        let payload = encode(index, json).await?;
        loop {
            match producer.send_result(FutureRecord::to(topic).key(&key).payload(&payload)) {
                Ok(delivery) => {
                    inflight.push(async move { (index, delivery.await) });
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    match inflight.next().await {
                        Some((index, result)) => check(topic, index, result)?,
                        None => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
                Err((source, _)) => {
                    let topic = topic.to_string();
                    return Err(ProduceError::Send {
                        topic,
                        index,
                        source,
                    }
                    .into());
                }
            }
        }
        sent += 1;
    }
    while let Some((index, result)) = inflight.next().await {
        check(topic, index, result)?;
    }
    let _ = producer.flush(Timeout::After(Duration::from_secs(30)));
    Ok(sent)
}

/// [`super::produce`] in Avro: `count` records of `workload`, schema registered in `registry`.
pub async fn produce_avro(
    brokers: impl Into<Brokers>,
    registry: &str,
    workload: Workload,
    topic: &str,
    count: u64,
    rate: Option<u64>,
    seed: u64,
) -> Result<u64, AvroProduceError> {
    let writer = AvroWriter::new(registry, topic, schema_text(workload))?;
    let mut rng = Rng::new(seed);
    let records = (0..count).map(move |i| {
        let (key, json) = record(workload, i, &mut rng);
        (key, normalize(workload, json))
    });
    send_avro(brokers, topic, &writer, records, rate).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_record_fits_its_schema() {
        for workload in [Workload::Tweets, Workload::Weather, Workload::Meter] {
            let schema = Schema::parse_str(schema_text(workload)).expect("schema");
            let mut rng = Rng::new(3);
            for i in 0..200 {
                let (_, json) = record(workload, i, &mut rng);
                let datum = to_avro(&schema, &normalize(workload, json))
                    .unwrap_or_else(|e| panic!("{workload:?} record {i}: {e}"));
                assert!(datum.validate(&schema), "{workload:?} record {i}");
            }
        }
        let schema = Schema::parse_str(WEATHER_SCHEMA).expect("schema");
        let (_, json) = record(Workload::Weather, 0, &mut Rng::new(1));
        let Ok(Avro::Record(fields)) = to_avro(&schema, &normalize(Workload::Weather, json)) else {
            panic!("weather record")
        };
        assert_eq!(fields[1].1, Avro::TimestampMillis(1_612_891_980_000));
    }
}
