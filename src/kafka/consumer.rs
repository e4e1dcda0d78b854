//! The consumer of one sink task. Standalone workers assign partitions to their tasks
//! themselves (round-robin over the sorted partitions of the connector's topics) and commit
//! under group `connect-<name>` without joining it: restarts are deterministic and a worker
//! killed with -9 never leaves partitions stuck with a dead group member. Distributed workers
//! instead `subscribe` every task to the group, which splits the partitions over all workers.

use crate::config::ConfigMap;
use crate::metrics::TaskMetrics;
use crate::worker::config::WorkerConfig;
use crate::worker::security::overrides::client_overrides;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rdkafka::{ClientContext, Statistics};
use std::collections::BTreeMap;
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
        source: KafkaError,
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
}

impl ConsumerError {
    /// Broker outages are worth retrying; a missing topic or a bad regex is not fixed by waiting
    /// (but a topic may be created later, so it is retried too).
    pub fn is_retriable(&self) -> bool {
        !matches!(self, ConsumerError::Regex { .. })
    }
}

/// Reports each assigned partition's lag (high watermark minus the committed offset) from
/// librdkafka's statistics, so no extra request reaches the broker.
pub struct LagReporter {
    metrics: TaskMetrics,
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (id, p) in &t.partitions {
                if *id >= 0 && p.hi_offset >= 0 && p.committed_offset >= 0 {
                    self.metrics
                        .set_lag(topic, *id, (p.hi_offset - p.committed_offset).max(0));
                }
            }
        }
    }
}

impl ConsumerContext for LagReporter {
    /// Distributed mode: the group moves partitions between the tasks of all workers.
    fn post_rebalance(
        &self,
        _consumer: &rdkafka::consumer::BaseConsumer<Self>,
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
            Rebalance::Revoke(tpl) => tracing::info!(partitions = ?list(tpl), "partitions revoked"),
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance failed"),
        }
    }
}

/// The consumer type of a sink task.
pub type TaskConsumer = StreamConsumer<LagReporter>;

/// The consumer group a sink connector commits under, as Kafka Connect names it.
pub fn group_id(connector: &str) -> String {
    format!("connect-{connector}")
}

/// librdkafka settings for a task consumer: worker `consumer.*` passthrough, then the
/// connector's `consumer.override.*` keys the worker's override policy allows (`connector`
/// is the task config), then the settings sink checkpointing depends on (which nothing may
/// override).
pub fn client_config(worker: &WorkerConfig, group: &str, connector: &ConfigMap) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers);
    cfg.set("auto.offset.reset", "earliest");
    cfg.set("fetch.wait.max.ms", "100");
    // Bounded prefetch: memory must not grow with the backlog (librdkafka defaults to 100k
    // messages and 64 MB per partition). librdkafka checks the queue limits only before it
    // sends a fetch, so a task holds at most the queued messages plus one fetch response:
    // fetch.max.bytes of (compressed) batches, decompressed, plus ~200 bytes per message.
    // In the weather bench a 5 MB lz4 response was ~95k records, ~45 MB per task; 4 MiB keeps
    // the responses large enough for the local broker, whose fetch cost grows with the
    // backlog per request, not per byte.
    cfg.set("queued.max.messages.kbytes", "16384");
    cfg.set("queued.min.messages", "5000");
    cfg.set("fetch.max.bytes", "4194304");
    // Small queues drain in well under librdkafka's default 1 s backoff: check again sooner
    // so the task does not wait on an empty queue.
    cfg.set("fetch.queue.backoff.ms", "100");
    if worker.distributed().is_some() {
        // Tasks of every worker share the connector's group: incremental rebalances move
        // only the partitions that change hands.
        cfg.set("partition.assignment.strategy", "cooperative-sticky");
    }
    for (k, v) in &worker.consumer {
        cfg.set(k, v);
    }
    let policy = &worker.override_policy;
    for (k, v) in client_overrides(policy, connector, "consumer.override.") {
        cfg.set(k, v);
    }
    cfg.set("group.id", group);
    cfg.set("enable.auto.commit", "false");
    cfg.set("enable.auto.offset.store", "false");
    cfg.set("enable.partition.eof", "false");
    cfg
}

pub fn create(
    worker: &WorkerConfig,
    group: &str,
    connector: &ConfigMap,
    metrics: TaskMetrics,
) -> Result<TaskConsumer, ConsumerError> {
    let mut config = client_config(worker, group, connector);
    let interval = worker
        .offset_flush_interval
        .as_millis()
        .clamp(1000, 60_000)
        .to_string();
    config.set("statistics.interval.ms", interval);
    config
        .create_with_context(LagReporter { metrics })
        .map_err(|source| ConsumerError::Create {
            group: group.to_string(),
            source,
        })
}

/// Which topics a connector reads: `topics` (comma-separated) or `topics.regex` matched
/// against the broker's topic list.
pub fn resolve_topics(
    consumer: &TaskConsumer,
    worker: &WorkerConfig,
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
                bootstrap: worker.bootstrap_servers.clone(),
                source,
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
    Ok(crate::config::parse_list(
        config.get("topics").map(String::as_str).unwrap_or(""),
    ))
}

/// Every partition of `topics`, sorted by (topic, partition).
pub fn partitions(
    consumer: &TaskConsumer,
    worker: &WorkerConfig,
    topics: &[String],
) -> Result<Vec<(String, i32)>, ConsumerError> {
    let mut all = Vec::new();
    for topic in topics {
        let md = consumer
            .fetch_metadata(Some(topic), METADATA_TIMEOUT)
            .map_err(|source| ConsumerError::Metadata {
                topic: topic.clone(),
                bootstrap: worker.bootstrap_servers.clone(),
                source,
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
                bootstrap: worker.bootstrap_servers.clone(),
            });
        }
        all.extend(parts.into_iter().map(|p| (topic.clone(), p)));
    }
    all.sort();
    Ok(all)
}

/// Task `task` of `tasks` takes every `tasks`-th partition of the sorted list.
pub fn share(partitions: &[(String, i32)], task: u32, tasks: u32) -> Vec<(String, i32)> {
    let tasks = tasks.max(1) as usize;
    partitions
        .iter()
        .enumerate()
        .filter(|(i, _)| i % tasks == task as usize)
        .map(|(_, tp)| tp.clone())
        .collect()
}

/// Assigns `share` to the consumer, each partition starting at the group's committed offset
/// (or the beginning when the group has none, as Connect's sink consumers do).
/// Returns the starting offsets.
pub fn assign(
    consumer: &TaskConsumer,
    group: &str,
    share: &[(String, i32)],
) -> Result<BTreeMap<(String, i32), Offset>, ConsumerError> {
    let mut tpl = TopicPartitionList::new();
    for (t, p) in share {
        tpl.add_partition(t, *p);
    }
    let committed = consumer
        .committed_offsets(tpl, METADATA_TIMEOUT)
        .map_err(|source| ConsumerError::Committed {
            group: group.to_string(),
            source,
        })?;
    let mut start = TopicPartitionList::new();
    let mut offsets = BTreeMap::new();
    for elem in committed.elements() {
        let offset = match elem.offset() {
            Offset::Offset(o) if o >= 0 => Offset::Offset(o),
            _ => Offset::Beginning,
        };
        start
            .add_partition_offset(elem.topic(), elem.partition(), offset)
            .map_err(|source| ConsumerError::Assign {
                group: group.to_string(),
                source,
            })?;
        offsets.insert((elem.topic().to_string(), elem.partition()), offset);
    }
    consumer
        .assign(&start)
        .map_err(|source| ConsumerError::Assign {
            group: group.to_string(),
            source,
        })?;
    Ok(offsets)
}

/// Distributed mode: joins the connector's group for `topics`; the group spreads their
/// partitions over the tasks of every worker and rebalances when a worker comes or goes.
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

/// The partitions the consumer holds now (distributed mode: they change on rebalance).
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

    #[test]
    fn partitions_are_shared_round_robin_without_overlap() {
        let parts: Vec<(String, i32)> = (0..6).map(|p| ("meter".to_string(), p)).collect();
        let shares: Vec<_> = (0..3).map(|t| share(&parts, t, 3)).collect();
        assert_eq!(
            shares[0],
            vec![("meter".to_string(), 0), ("meter".to_string(), 3)]
        );
        let mut all: Vec<_> = shares.concat();
        all.sort();
        assert_eq!(all, parts);
    }
}
