//! The consumer of one sink task. Every task, standalone or distributed, subscribes to the
//! connector's group `connect-<name>` as Kafka Connect's tasks do: the group splits the
//! partitions over the tasks of every worker running the connector, and moves a dead
//! member's partitions after its session timeout.

use crate::client::ClientConfigError;
use crate::probe;
use crate::quiet::QuietErrors;
use cassink_config::ConfigMap;
use cassink_metrics::TaskMetrics;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rdkafka::{ClientContext, Statistics};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// A consumer error with the context needed to act on it.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("cannot create the Kafka consumer for group {group}: {source}")]
    Create { group: String, source: KafkaError },
    #[error("cannot read metadata of topic {topic} from {bootstrap}: {source}")]
    Metadata {
        topic: String,
        bootstrap: String,
        source: Box<KafkaError>,
    },
    #[error("topic {topic} does not exist on {bootstrap} (the broker may not auto-create topics: create it first)")]
    NoSuchTopic { topic: String, bootstrap: String },
    #[error("invalid topics.regex {regex}: {source}")]
    Regex { regex: String, source: regex::Error },
    #[error("cannot read committed offsets of group {group}: {source}")]
    Committed { group: String, source: KafkaError },
    #[error("cannot assign partitions to the consumer of group {group}: {source}")]
    Assign { group: String, source: KafkaError },
    #[error("cannot commit offsets of group {group}: {source}")]
    Commit { group: String, source: KafkaError },
    #[error("{0}")]
    Config(#[from] ClientConfigError),
    #[error("the Kafka brokers at {bootstrap} refuse the consumer of group {group}: {reason}")]
    Refused {
        group: String,
        bootstrap: String,
        reason: String,
    },
}

impl ConsumerError {
    /// Broker outages are worth retrying; a bad regex, a bad client setting or credentials
    /// the brokers refuse are not fixed by waiting (but a missing topic may be created later,
    /// so it is retried).
    pub fn is_retriable(&self) -> bool {
        !matches!(
            self,
            ConsumerError::Regex { .. }
                | ConsumerError::Config(_)
                | ConsumerError::Refused { .. }
                // librdkafka refuses a setting (an override it does not know, a value out of
                // range): creating the client again gives the same answer.
                | ConsumerError::Create {
                    source: KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_),
                    ..
                }
        )
    }

    /// A metadata failure explained: when the brokers refuse `config` (authentication, TLS),
    /// the error says why instead of "broker transport failure". Blocking (connects once).
    pub fn explained(self, config: &ClientConfig) -> Self {
        match self {
            ConsumerError::Metadata { ref bootstrap, .. } => match probe::refusal(config) {
                Some(reason) => ConsumerError::Refused {
                    group: config.get("group.id").unwrap_or_default().to_string(),
                    bootstrap: bootstrap.clone(),
                    reason,
                },
                None => self,
            },
            other => other,
        }
    }
}

/// The next offset to read per partition, for every record the sink acknowledged (or
/// deliberately skipped): what may be committed. Shared between the task loop, which
/// advances it, and the rebalance callback, which commits it for partitions taken away.
pub type AckedOffsets = Arc<Mutex<BTreeMap<(String, i32), i64>>>;

/// Reports each assigned partition's lag (high watermark minus the committed offset) from
/// librdkafka's statistics, so no extra request reaches the broker; commits the acknowledged
/// offsets of partitions a rebalance takes away, so their next owner starts right after them.
pub struct LagReporter {
    metrics: TaskMetrics,
    acked: AckedOffsets,
    errors: QuietErrors,
}

impl ClientContext for LagReporter {
    /// A client-wide error: logged as [`QuietErrors`] does.
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors.error(error, reason)
    }

    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (id, p) in &t.partitions {
                // Only the partitions the task holds (`desired`): the client also knows the
                // others of a topic it reads.
                if *id >= 0 && p.desired && p.hi_offset >= 0 && p.committed_offset >= 0 {
                    self.metrics
                        .set_end_offset(topic, *id, p.hi_offset, p.committed_offset);
                }
            }
        }
    }
}

impl ConsumerContext for LagReporter {
    /// Distributed mode: before partitions move to another task, commit what this task has
    /// written of them. The task loop polls only between fully acknowledged batches, so the
    /// new owner replays at most records fetched but not yet handed to the sink.
    fn pre_rebalance(
        &self,
        consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &rdkafka::consumer::Rebalance<'_>,
    ) {
        let rdkafka::consumer::Rebalance::Revoke(revoked) = rebalance else {
            return;
        };
        let acked = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        let mut tpl = TopicPartitionList::new();
        for e in revoked.elements() {
            if let Some(next) = acked.get(&(e.topic().to_string(), e.partition())) {
                let _ = tpl.add_partition_offset(e.topic(), e.partition(), Offset::Offset(*next));
            }
        }
        drop(acked);
        if tpl.count() == 0 {
            return;
        }
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => tracing::info!(offsets = ?tpl, "committed the partitions being revoked"),
            Err(e) => tracing::warn!(
                error = %e,
                "cannot commit the partitions being revoked: their next owner replays from the last commit"
            ),
        }
    }

    /// Distributed mode: the group moves partitions between the tasks of all workers.
    fn post_rebalance(
        &self,
        consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &rdkafka::consumer::Rebalance<'_>,
    ) {
        use rdkafka::consumer::Rebalance;
        let list = |tpl: &TopicPartitionList| -> Vec<String> {
            tpl.elements()
                .iter()
                .map(|e| format!("{}-{}", e.topic(), e.partition()))
                .collect()
        };
        match rebalance {
            Rebalance::Assign(tpl) => {
                tracing::info!(partitions = ?list(tpl), "partitions assigned")
            }
            Rebalance::Revoke(tpl) => {
                tracing::info!(partitions = ?list(tpl), "partitions revoked");
                // Their lag and offsets are reported by their next owner from now on.
                for e in tpl.elements() {
                    self.metrics.remove_partition(e.topic(), e.partition());
                }
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance failed"),
        }
        if let Ok(held) = consumer.assignment() {
            self.metrics.set_partition_count(held.count());
        }
    }
}

/// How often a task looks for new topics matching its `topics.regex` (librdkafka finds new
/// partitions of subscribed topics itself, on the same period): the client's
/// `topic.metadata.refresh.interval.ms` (the worker's `consumer.metadata.max.age.ms`), 5
/// minutes by default as in Kafka's Java clients.
pub fn metadata_refresh_interval(config: &ClientConfig) -> std::time::Duration {
    let ms = config
        .get("topic.metadata.refresh.interval.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .unwrap_or(300_000);
    std::time::Duration::from_millis(ms)
}

/// The consumer type of a sink task.
pub type TaskConsumer = StreamConsumer<LagReporter>;

/// The consumer group a sink connector commits under, as Kafka Connect names it.
pub fn group_id(connector: &str) -> String {
    format!("connect-{connector}")
}

/// What a task consumer is made of, built by the worker: the brokers, the client settings
/// (the worker's security settings and `consumer.*` passthrough, then the connector's
/// `consumer.override.*` keys the worker's override policy allows) and how often librdkafka
/// reports the statistics the lag gauges come from.
#[derive(Clone)]
pub struct ConsumerSettings {
    pub bootstrap: String,
    pub client: ClientConfig,
    pub statistics_interval: Duration,
}

/// librdkafka settings for a task consumer: [`ConsumerSettings::client`], then our defaults
/// for what it does not set, then the settings sink checkpointing depends on (which nothing
/// may override).
pub fn client_config(settings: &ConsumerSettings, group: &str) -> ClientConfig {
    let mut cfg = settings.client.clone();
    let mut ours = ClientConfig::new();
    ours.set("auto.offset.reset", "earliest");
    ours.set("fetch.wait.max.ms", "100");
    // Bounded prefetch: memory must not grow with the backlog (librdkafka defaults to 100k
    // messages and 64 MB per partition). librdkafka checks the queue limits only before it
    // sends a fetch, so a task holds at most the queued messages plus one fetch response:
    // fetch.max.bytes of (compressed) batches, decompressed, plus ~200 bytes per message.
    // 256 KiB responses and a 4 MiB queue: in the interleaved bench (1M weather records,
    // 3 tasks, 3 rounds) a 3-task worker peaked at 71-73 MB against 93-100 MB with 1 MiB
    // responses, at the same CPU per record and records/s (and at 134 MB with 4 MiB and a
    // 16 MiB queue). A record batch larger than a response still arrives: the broker always
    // returns the first batch of a fetch whole.
    ours.set("queued.max.messages.kbytes", "4096");
    ours.set("queued.min.messages", "5000");
    // Small queues drain in well under librdkafka's default 1 s backoff: check again sooner
    // so the task does not wait on an empty queue.
    ours.set("fetch.queue.backoff.ms", "100");
    // Tasks of every worker share the connector's group: incremental rebalances move only
    // the partitions that change hands.
    ours.set("partition.assignment.strategy", "cooperative-sticky");
    // Our defaults, unless the worker's `consumer.*` or the connector's overrides say otherwise.
    for (k, v) in ours.config_map() {
        if cfg.get(k).is_none() {
            cfg.set(k, v);
        }
    }
    fetch_size(&mut cfg);
    cfg.set("group.id", group);
    cfg.set("enable.auto.commit", "false");
    cfg.set("enable.auto.offset.store", "false");
    cfg.set("enable.partition.eof", "false");
    cfg
}

/// The bytes a fetch response may hold, by default.
const FETCH_MAX_BYTES: u64 = 262_144;

/// `fetch.max.bytes`, by default [`FETCH_MAX_BYTES`]. librdkafka wants it at least
/// `message.max.bytes`, the largest request the client sends (1,000,000 by default; a
/// consumer's requests are small), so that one follows it down unless set: a smaller
/// `fetch.max.bytes` lowers it too, a larger `message.max.bytes` raises the fetch size.
fn fetch_size(cfg: &mut ClientConfig) {
    let bytes = |key: &str| cfg.get(key).map(|v| v.trim().parse::<u64>());
    match (bytes("fetch.max.bytes"), bytes("message.max.bytes")) {
        (None, None) => {
            cfg.set("fetch.max.bytes", FETCH_MAX_BYTES.to_string());
            cfg.set("message.max.bytes", FETCH_MAX_BYTES.to_string());
        }
        (None, Some(Ok(message))) => {
            cfg.set("fetch.max.bytes", FETCH_MAX_BYTES.max(message).to_string());
        }
        (Some(Ok(fetch)), None) => {
            cfg.set("message.max.bytes", FETCH_MAX_BYTES.min(fetch).to_string());
        }
        // Both set, or a value that is not a number: librdkafka says what is wrong.
        _ => {}
    }
}

pub fn create(
    settings: &ConsumerSettings,
    group: &str,
    metrics: TaskMetrics,
    acked: AckedOffsets,
) -> Result<TaskConsumer, ConsumerError> {
    let mut config = client_config(settings, group);
    let interval = settings
        .statistics_interval
        .as_millis()
        .clamp(1000, 60_000)
        .to_string();
    config.set("statistics.interval.ms", interval);
    config
        .create_with_context(LagReporter {
            metrics,
            acked,
            errors: QuietErrors::default(),
        })
        .map_err(|source| ConsumerError::Create {
            group: group.to_string(),
            source,
        })
}

/// Which topics a connector reads: `topics` (comma-separated) or `topics.regex` matched
/// against the broker's topic list.
pub fn resolve_topics(
    consumer: &TaskConsumer,
    bootstrap: &str,
    config: &ConfigMap,
) -> Result<Vec<String>, ConsumerError> {
    if let Some(regex) = config
        .get("topics.regex")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let re = regex::Regex::new(&format!("^(?:{regex})$")).map_err(|source| {
            ConsumerError::Regex {
                regex: regex.to_string(),
                source,
            }
        })?;
        let md = consumer
            .fetch_metadata(None, METADATA_TIMEOUT)
            .map_err(|source| ConsumerError::Metadata {
                topic: regex.to_string(),
                bootstrap: bootstrap.to_string(),
                source: Box::new(source),
            })?;
        let mut topics: Vec<String> = md
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|t| re.is_match(t))
            .collect();
        topics.sort();
        return Ok(topics);
    }
    Ok(cassink_config::parse_list(
        config.get("topics").map(String::as_str).unwrap_or(""),
    ))
}

/// Every partition of `topics`, sorted by (topic, partition).
pub fn partitions(
    consumer: &TaskConsumer,
    bootstrap: &str,
    topics: &[String],
) -> Result<Vec<(String, i32)>, ConsumerError> {
    let mut all = Vec::new();
    for topic in topics {
        let md = consumer
            .fetch_metadata(Some(topic), METADATA_TIMEOUT)
            .map_err(|source| ConsumerError::Metadata {
                topic: topic.clone(),
                bootstrap: bootstrap.to_string(),
                source: Box::new(source),
            })?;
        let parts: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if parts.is_empty() {
            return Err(ConsumerError::NoSuchTopic {
                topic: topic.clone(),
                bootstrap: bootstrap.to_string(),
            });
        }
        all.extend(parts.into_iter().map(|p| (topic.clone(), p)));
    }
    all.sort();
    Ok(all)
}

/// Joins the connector's group for `topics`; the group spreads their partitions over the
/// tasks of every worker and rebalances when a task or a worker comes or goes.
/// Partitions start at the group's committed offset (or the beginning).
pub fn subscribe(
    consumer: &TaskConsumer,
    group: &str,
    topics: &[String],
) -> Result<(), ConsumerError> {
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|source| ConsumerError::Assign {
            group: group.to_string(),
            source,
        })
}

/// The partitions the consumer holds now (they change on rebalance).
pub fn current_assignment(consumer: &TaskConsumer) -> Vec<(String, i32)> {
    consumer
        .assignment()
        .map(|tpl| {
            tpl.elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect()
        })
        .unwrap_or_default()
}

/// Commits `next` (the offset of the next record to read, per partition) synchronously.
pub fn commit(
    consumer: &TaskConsumer,
    group: &str,
    next: &BTreeMap<(String, i32), i64>,
) -> Result<(), ConsumerError> {
    if next.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for ((t, p), o) in next {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))
            .map_err(|source| ConsumerError::Commit {
                group: group.to_string(),
                source,
            })?;
    }
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|source| ConsumerError::Commit {
            group: group.to_string(),
            source,
        })
}

/// The current assignment as a list, for pause/resume.
pub fn assignment_list(share: &[(String, i32)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (t, p) in share {
        tpl.add_partition(t, *p);
    }
    tpl
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task consumer's librdkafka settings when the worker's `consumer.*` keys are `set`.
    fn config_of(set: &[(&str, &str)]) -> ClientConfig {
        let mut client = ClientConfig::new();
        for (k, v) in set {
            client.set(*k, *v);
        }
        let settings = ConsumerSettings {
            bootstrap: "localhost:9092".into(),
            client,
            statistics_interval: Duration::from_secs(5),
        };
        client_config(&settings, "connect-test")
    }

    fn sizes(set: &[(&str, &str)]) -> (String, String) {
        let cfg = config_of(set);
        let get = |k: &str| cfg.get(k).unwrap_or_default().to_string();
        (get("fetch.max.bytes"), get("message.max.bytes"))
    }

    #[test]
    fn fetch_responses_are_small_and_the_request_limit_follows_unless_set() {
        assert_eq!(sizes(&[]), ("262144".into(), "262144".into()));
        assert_eq!(
            sizes(&[("fetch.max.bytes", "65536")]),
            ("65536".into(), "65536".into())
        );
        assert_eq!(
            sizes(&[("fetch.max.bytes", "4194304")]),
            ("4194304".into(), "262144".into())
        );
        assert_eq!(
            sizes(&[("message.max.bytes", "2000000")]),
            ("2000000".into(), "2000000".into())
        );
        assert_eq!(
            sizes(&[
                ("fetch.max.bytes", "1048576"),
                ("message.max.bytes", "1000000")
            ]),
            ("1048576".into(), "1000000".into())
        );
    }

    #[test]
    fn every_default_makes_a_consumer_librdkafka_accepts() {
        for set in [
            &[][..],
            &[("fetch.max.bytes", "65536")][..],
            &[("message.max.bytes", "2000000")][..],
        ] {
            let consumer: Result<rdkafka::consumer::BaseConsumer, _> = config_of(set).create();
            assert!(consumer.is_ok(), "{set:?}: {:?}", consumer.err());
        }
    }
}
