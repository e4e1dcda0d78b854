//! The dead-letter queue: a failed record is produced to `errors.deadletterqueue.topic.name`
//! with its original key, value and headers byte for byte (plus the `__connect.errors.*`
//! context headers when enabled), and acknowledged by the broker before the offset of its
//! source record may be committed.

use super::tolerance::{Failure, Tolerance};
use crate::config::WorkerConfig;
use cassink_config::ConfigMap;
use cassink_kafka::admin;
use cassink_kafka::client::{ClientConfigError, Role};
use cassink_kafka::probe;
use cassink_kafka::quiet::QuietErrors;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error("cannot create the dead-letter queue producer: {0}")]
    Producer(KafkaError),
    #[error("cannot create the dead-letter queue topic: {0}")]
    Topic(admin::AdminError),
    #[error("dead-letter queue: {0}")]
    Config(#[from] ClientConfigError),
    #[error("the Kafka brokers refuse the dead-letter queue's clients: {0}")]
    Refused(String),
    #[error(
        "cannot write record {position} to dead-letter queue topic {topic}: {source}{}",
        hint(source)
    )]
    Send {
        position: String,
        topic: String,
        source: KafkaError,
    },
}

fn hint(e: &KafkaError) -> &'static str {
    match e.rdkafka_error_code() {
        Some(rdkafka::types::RDKafkaErrorCode::InvalidTimestamp) => " (the record keeps its timestamp in the dead-letter queue, and the topic refuses it: see the topic's message.timestamp.before.max.ms / message.timestamp.after.max.ms)",
        Some(rdkafka::types::RDKafkaErrorCode::MessageSizeTooLarge) => " (raise the topic's max.message.bytes and the worker's producer.message.max.bytes)",
        _ => "",
    }
}

impl DlqError {
    /// Bad client settings, refused credentials and records the topic refuses are not fixed
    /// by waiting.
    pub fn is_retriable(&self) -> bool {
        match self {
            DlqError::Config(_) | DlqError::Refused(_) => false,
            DlqError::Send { source, .. } => !refuses_record(source),
            DlqError::Producer(KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_)) => {
                false
            }
            DlqError::Producer(_) | DlqError::Topic(_) => true,
        }
    }
}

/// The broker refuses this record for good (sending it again gets the same answer).
fn refuses_record(e: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        e.rdkafka_error_code(),
        Some(
            Code::InvalidTimestamp
                | Code::MessageSizeTooLarge
                | Code::InvalidRecord
                | Code::TopicAuthorizationFailed
                | Code::InvalidRequiredAcks
        )
    )
}

pub struct DeadLetterQueue {
    producer: FutureProducer<QuietErrors>,
    topic: String,
    context_headers: bool,
    connector: String,
    task: u32,
}

impl DeadLetterQueue {
    /// The DLQ of a task, when its config names a topic; creates the topic if missing (an
    /// admin client: the worker's security settings and `admin.*`, then the task config's
    /// allowed `admin.override.*`). Its producer takes the worker's security settings and
    /// `producer.*`, then the allowed `producer.override.*`.
    pub async fn open(
        worker: &WorkerConfig,
        config: &ConfigMap,
        tolerance: &Tolerance,
        connector: &str,
        task: u32,
    ) -> Result<Option<DeadLetterQueue>, DlqError> {
        let Some(topic) = tolerance.dlq_topic.clone() else {
            return Ok(None);
        };
        let admin_client = worker.connector_client(Role::Admin, config)?;
        let mut client = worker.connector_client(Role::Producer, config)?;
        client.set("enable.idempotence", "true");
        client.set("acks", "all");
        if let Err(e) =
            admin::ensure_topic(&admin_client, &topic, 1, tolerance.dlq_replication).await
        {
            let refusal = tokio::task::spawn_blocking(move || probe::refusal(&admin_client))
                .await
                .ok()
                .flatten();
            return Err(refusal.map_or(DlqError::Topic(e), DlqError::Refused));
        }
        let producer = client
            .create_with_context(QuietErrors::default())
            .map_err(DlqError::Producer)?;
        Ok(Some(DeadLetterQueue {
            producer,
            topic,
            context_headers: tolerance.dlq_context_headers,
            connector: connector.to_string(),
            task,
        }))
    }

    /// Produces `failure`'s record and waits for the broker's acknowledgement.
    pub async fn send(&self, failure: &Failure) -> Result<(), DlqError> {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &failure.raw.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        if self.context_headers {
            let p = &failure.position;
            let context = [
                ("__connect.errors.topic", p.topic.to_string()),
                ("__connect.errors.partition", p.partition.to_string()),
                ("__connect.errors.offset", p.offset.to_string()),
                ("__connect.errors.connector.name", self.connector.clone()),
                ("__connect.errors.task.id", self.task.to_string()),
                (
                    "__connect.errors.stage",
                    failure.stage.as_connect_str().to_string(),
                ),
                (
                    "__connect.errors.class.name",
                    failure.class_name().to_string(),
                ),
                (
                    "__connect.errors.exception.class.name",
                    failure.kind.clone(),
                ),
                (
                    "__connect.errors.exception.message",
                    failure.message.clone(),
                ),
                (
                    "__connect.errors.exception.stacktrace",
                    failure.trace(&self.connector, self.task),
                ),
            ];
            for (k, v) in &context {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&self.topic).headers(headers);
        if let Some(k) = &failure.raw.key {
            record = record.key(k.as_ref());
        }
        if let Some(v) = &failure.raw.value {
            record = record.payload(v.as_ref());
        }
        if let Some(ts) = failure.raw.timestamp_ms {
            record = record.timestamp(ts);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(source, _)| DlqError::Send {
                position: failure.position.to_string(),
                topic: self.topic.clone(),
                source,
            })
    }
}
