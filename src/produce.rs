//! Sample producers for the three reference pipelines (tweets, weather reports, smart-meter
//! readings): realistic synthetic records, produced with rdkafka as JSON or, through a schema
//! registry, as Confluent Avro ([`avro`]) or Protobuf ([`protobuf`], meter). The same generators
//! drive the local run, the integration tests and the bench.

pub mod avro;
pub mod cli;
pub mod protobuf;
pub use avro::{produce_avro, Format};
pub use protobuf::produce_protobuf;

use cassink_kafka::client;
use cassink_kafka::probe::{self, Probe};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;
use serde_json::{json, Value as Json};
use std::time::Duration;

/// Which pipeline to produce for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    Tweets,
    Weather,
    Meter,
}

impl Workload {
    pub fn topic(self) -> &'static str {
        match self {
            Workload::Tweets => "tweets",
            Workload::Weather => "weather",
            Workload::Meter => "meter",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("cannot create a Kafka client for {bootstrap}: {source}")]
    Client {
        bootstrap: String,
        source: KafkaError,
    },
    #[error(transparent)]
    CreateTopic(cassink_kafka::admin::AdminError),
    #[error("the Kafka brokers at {bootstrap} refuse the connection: {reason}")]
    Refused { bootstrap: String, reason: String },
    #[error("cannot read client settings {path}: {source}")]
    SettingsFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("client setting {0:?} is not key=value")]
    Property(String),
    #[error(transparent)]
    Settings(#[from] cassink_kafka::client::ClientConfigError),
    #[error("cannot produce record {index} to topic {topic}: {source}")]
    Send {
        topic: String,
        index: u64,
        source: KafkaError,
    },
}

/// Where to produce: bootstrap servers alone, or a base client config that also carries the
/// security settings (see [`cassink_kafka::client::KafkaClients`]).
#[derive(Clone)]
pub struct Brokers(pub ClientConfig);

impl From<&str> for Brokers {
    fn from(bootstrap: &str) -> Self {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        Brokers(config)
    }
}

impl From<&String> for Brokers {
    fn from(bootstrap: &String) -> Self {
        Brokers::from(bootstrap.as_str())
    }
}

impl From<&Brokers> for Brokers {
    fn from(brokers: &Brokers) -> Self {
        brokers.clone()
    }
}

impl From<&ClientConfig> for Brokers {
    fn from(config: &ClientConfig) -> Self {
        Brokers(config.clone())
    }
}

impl Brokers {
    /// The producer and admin targets of `cassink produce`: `file` (a properties file with
    /// the client keys of a worker config), then `properties` (`key=value`), translated as
    /// the worker translates its own; `bootstrap` (else the file's `bootstrap.servers`, else
    /// localhost:9092).
    pub fn from_settings(
        bootstrap: Option<String>,
        file: Option<&std::path::Path>,
        properties: &[String],
    ) -> Result<(Brokers, Brokers), ProduceError> {
        let mut map = match file {
            Some(path) => cassink_config::properties::parse_properties(
                &std::fs::read_to_string(path).map_err(|source| ProduceError::SettingsFile {
                    path: path.to_path_buf(),
                    source,
                })?,
            ),
            None => cassink_config::ConfigMap::new(),
        };
        for p in properties {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| ProduceError::Property(p.clone()))?;
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
        let bootstrap = bootstrap
            .or_else(|| map.get("bootstrap.servers").cloned())
            .unwrap_or_else(|| "localhost:9092".into());
        let clients = client::KafkaClients::from_worker(&map)?;
        Ok((
            Brokers(clients.config(&bootstrap, client::Role::Producer)),
            Brokers(clients.config(&bootstrap, client::Role::Admin)),
        ))
    }

    pub fn bootstrap(&self) -> String {
        self.0
            .get("bootstrap.servers")
            .unwrap_or_default()
            .to_string()
    }

    /// With TLS or SASL configured, asks the brokers first, so that refused credentials or
    /// certificates end the run with librdkafka's reason instead of requests timing out.
    async fn check_refusal(&self) -> Result<(), ProduceError> {
        let secured = self
            .0
            .get("security.protocol")
            .is_some_and(|p| !p.trim().eq_ignore_ascii_case("plaintext"));
        if !secured {
            return Ok(());
        }
        let config = self.0.clone();
        let probe =
            tokio::task::spawn_blocking(move || probe::probe(&config, Duration::from_secs(10)))
                .await
                .unwrap_or(Probe::Reachable);
        match probe {
            Probe::Refused(reason) => Err(ProduceError::Refused {
                bootstrap: self.bootstrap(),
                reason,
            }),
            Probe::Reachable | Probe::Unreachable(_) => Ok(()),
        }
    }

    /// A producer with `settings` on top of the base config (see [`Brokers::check_refusal`]).
    pub(crate) async fn producer(
        &self,
        settings: &[(&str, &str)],
    ) -> Result<FutureProducer, ProduceError> {
        self.check_refusal().await?;
        let mut config = self.0.clone();
        for (k, v) in settings {
            config.set(*k, *v);
        }
        config.create().map_err(|source| ProduceError::Client {
            bootstrap: self.bootstrap(),
            source,
        })
    }
}

const LOCATIONS: &[&str] = &[
    "London", "Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Dublin", "Vienna", "Prague", "Oslo",
];
const CLASSES: &[&str] = &["positive", "negative", "neutral"];
const WORDS: &[&str] = &[
    "kafka",
    "cassandra",
    "stream",
    "pipeline",
    "rust",
    "weather",
    "sunny",
    "rain",
    "data",
    "today",
    "great",
    "slow",
];
const SKIES: &[&str] = &[
    "clear sky",
    "few clouds",
    "scattered clouds",
    "light rain",
    "overcast clouds",
    "mist",
];

/// A small deterministic generator (xorshift), so a run can be reproduced from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Base time of generated records: 2021-02-09T17:33:00Z.
const BASE_EPOCH_S: i64 = 1_612_891_980;

/// Record `index` of a workload: (key, JSON value). Keys spread records over partitions and
/// keep one key's records in order.
pub fn record(workload: Workload, index: u64, rng: &mut Rng) -> (String, Json) {
    match workload {
        Workload::Tweets => {
            let location = rng.pick(LOCATIONS);
            let words: Vec<&str> = (0..6 + rng.below(8)).map(|_| rng.pick(WORDS)).collect();
            // Epoch seconds as a float with milliseconds, unique per record.
            let datetime = (BASE_EPOCH_S as f64) + index as f64 + rng.below(1000) as f64 / 1000.0;
            (
                location.to_string(),
                json!({"tweet": words.join(" "), "datetime": datetime, "location": location, "classification": rng.pick(CLASSES)}),
            )
        }
        Workload::Weather => {
            let location = LOCATIONS[(index % LOCATIONS.len() as u64) as usize];
            let t = BASE_EPOCH_S + (index / LOCATIONS.len() as u64) as i64 * 3600;
            let report_time = chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let temp = 5.0 + rng.unit() * 20.0;
            (
                location.to_string(),
                json!({
                    "location": location, "report_time": report_time, "description": rng.pick(SKIES),
                    "temp": round2(temp), "feels_like": round2(temp - rng.unit() * 3.0),
                    "temp_min": round2(temp - 2.0), "temp_max": round2(temp + 2.0),
                    "pressure": 990 + rng.below(40), "humidity": 40 + rng.below(60), "wind": round2(rng.unit() * 12.0),
                    "sunrise": BASE_EPOCH_S - 30_000, "sunset": BASE_EPOCH_S + 8_000,
                }),
            )
        }
        Workload::Meter => {
            // 50 meters; each reading 1 s apart per meter.
            let meter = index % 50;
            let id = uuid::Uuid::from_u64_pair(0x6d65_7465_7200_0000, meter).to_string();
            let timestamp = BASE_EPOCH_S * 1000 + (index / 50) as i64 * 1000;
            let p = |rng: &mut Rng| round2(200.0 + rng.unit() * 50.0);
            let q = |rng: &mut Rng| round2(rng.unit() * 30.0);
            let harm: Vec<u64> = (0..8).map(|_| rng.below(100)).collect();
            (
                id.clone(),
                json!({"id": id, "timestamp": timestamp, "P_1": p(rng), "P_2": p(rng), "P_3": p(rng),
                       "Q_1": q(rng), "Q_2": q(rng), "Q_3": q(rng), "HARM": harm}),
            )
        }
    }
}

/// Turns a delivery report into an error naming the record.
fn check(
    topic: &str,
    index: u64,
    result: Result<
        rdkafka::producer::future_producer::OwnedDeliveryResult,
        futures::channel::oneshot::Canceled,
    >,
) -> Result<(), ProduceError> {
    match result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((source, _))) => Err(ProduceError::Send {
            topic: topic.to_string(),
            index,
            source,
        }),
        Err(_) => Err(ProduceError::Send {
            topic: topic.to_string(),
            index,
            source: KafkaError::Canceled,
        }),
    }
}

/// A record on its way to the broker.
struct Pending {
    index: u64,
    key: String,
    payload: String,
    attempt: u32,
}

const MAX_ATTEMPTS: u32 = 30;

/// Handles a delivery report: done, queued for another attempt, or an error naming the record.
async fn settle(
    topic: &str,
    (mut pending, result): (
        Pending,
        Result<
            rdkafka::producer::future_producer::OwnedDeliveryResult,
            futures::channel::oneshot::Canceled,
        >,
    ),
    resend: &mut Vec<Pending>,
) -> Result<(), ProduceError> {
    let source = match result {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err((source, _))) => source,
        Err(_) => KafkaError::Canceled,
    };
    pending.attempt += 1;
    if pending.attempt >= MAX_ATTEMPTS {
        return Err(ProduceError::Send {
            topic: topic.to_string(),
            index: pending.index,
            source,
        });
    }
    tracing::warn!(topic, index = pending.index, attempt = pending.attempt, error = %source, "delivery failed, sending again");
    tokio::time::sleep(Duration::from_millis(200)).await;
    resend.push(pending);
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Creates `topic` with `partitions` unless it exists (brokers here do not auto-create).
pub async fn ensure_topic(
    brokers: impl Into<Brokers>,
    topic: &str,
    partitions: i32,
) -> Result<(), ProduceError> {
    let brokers = brokers.into();
    brokers.check_refusal().await?;
    cassink_kafka::admin::ensure_topic(&brokers.0, topic, partitions, 1)
        .await
        .map_err(ProduceError::CreateTopic)
}

/// Produces `count` records of `workload` to `topic` (at most `rate` per second when given).
/// Returns once every record is acknowledged by the broker.
pub async fn produce(
    brokers: impl Into<Brokers>,
    workload: Workload,
    topic: &str,
    count: u64,
    rate: Option<u64>,
    seed: u64,
) -> Result<u64, ProduceError> {
    let producer = brokers
        .into()
        .producer(&[
            ("linger.ms", "20"),
            ("compression.type", "lz4"),
            ("queue.buffering.max.messages", "200000"),
        ])
        .await?;
    let mut rng = Rng::new(seed);
    let started = std::time::Instant::now();
    let mut inflight = futures::stream::FuturesUnordered::new();
    use futures::StreamExt;
    // A record whose delivery failed (e.g. the broker restarting) is sent again, a bounded
    // number of times: a sample producer must survive a broker restart.
    let mut resend: Vec<Pending> = Vec::new();
    let mut index = 0u64;
    while index < count || !resend.is_empty() || !inflight.is_empty() {
        let next = if let Some(p) = resend.pop() {
            Some(p)
        } else if index < count {
            if let Some(rate) = rate.filter(|r| *r > 0) {
                let due = Duration::from_secs_f64(index as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
            let (key, value) = record(workload, index, &mut rng);
            index += 1;
            Some(Pending {
                index: index - 1,
                key,
                payload: value.to_string(),
                attempt: 0,
            })
        } else {
            None
        };
        let Some(pending) = next else {
            if let Some(done) = inflight.next().await {
                settle(topic, done, &mut resend).await?;
            }
            continue;
        };
        match producer.send_result(
            FutureRecord::to(topic)
                .key(&pending.key)
                .payload(&pending.payload),
        ) {
            Ok(delivery) => inflight.push(async move { (pending, delivery.await) }),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                resend.push(pending);
                match inflight.next().await {
                    Some(done) => settle(topic, done, &mut resend).await?,
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            Err((source, _)) => {
                return Err(ProduceError::Send {
                    topic: topic.to_string(),
                    index: pending.index,
                    source,
                })
            }
        }
    }
    let _ = producer.flush(Timeout::After(Duration::from_secs(30)));
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_the_fields_the_connectors_map() {
        let mut rng = Rng::new(7);
        let (_, tweet) = record(Workload::Tweets, 3, &mut rng);
        assert!(tweet["datetime"].as_f64().is_some_and(|d| d > 1.6e9));
        let (_, weather) = record(Workload::Weather, 11, &mut rng);
        assert_eq!(weather["report_time"].as_str().map(str::len), Some(19));
        let (key, meter) = record(Workload::Meter, 51, &mut rng);
        assert_eq!(meter["id"].as_str(), Some(key.as_str()));
        assert_eq!(meter["HARM"].as_array().map(Vec::len), Some(8));
        assert!(meter["P_1"].is_f64() && meter["timestamp"].is_i64());
    }
}
