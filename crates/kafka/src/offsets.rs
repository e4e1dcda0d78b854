//! Committed offsets of a sink connector's consumer group (`connect-<name>`), for
//! `GET|PATCH|DELETE /connectors/{c}/offsets`, and the cluster id for `GET /`.
//!
//! Uses a short-lived `BaseConsumer` that is *assigned* (never subscribed) the partitions it
//! reads or commits, so no group membership is needed: the connector must be STOPPED (its
//! group empty) before offsets change. DescribeGroups/ListGroups are avoided on purpose (the
//! local tansu broker fails them). Resetting a partition commits its low watermark, which
//! has the effect of Connect's delete (a sink restarts from the earliest record).

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OffsetsError {
    #[error("Kafka error while {action} for consumer group {group}: {source}")]
    Kafka {
        action: &'static str,
        group: String,
        source: KafkaError,
    },
    #[error("Partition {partition} of topic {topic} does not exist")]
    UnknownPartition { topic: String, partition: i32 },
    #[error("invalid topics.regex {0}: {1}")]
    Regex(String, regex::Error),
    #[error("offset operation was interrupted: {0}")]
    Join(#[from] tokio::task::JoinError),
}

type Result<T, E = OffsetsError> = std::result::Result<T, E>;

/// Which topics a connector reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicSelector {
    List(Vec<String>),
    Regex(String),
}

/// One partition's committed offset (the next offset the connector reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// A requested change: `offset: None` resets the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetChange {
    pub topic: String,
    pub partition: i32,
    pub offset: Option<i64>,
}

/// Reads and writes committed offsets with the worker's client settings.
#[derive(Clone)]
pub struct OffsetsAdmin {
    /// Consumer settings (bootstrap servers, security): reads and commits offsets.
    consumer: ClientConfig,
    /// Admin settings: deletes groups.
    admin: ClientConfig,
}

impl std::fmt::Debug for OffsetsAdmin {
    /// Bootstrap servers only: the settings may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffsetsAdmin")
            .field("bootstrap", &self.consumer.get("bootstrap.servers"))
            .finish()
    }
}

impl OffsetsAdmin {
    /// `consumer` and `admin` are base client configs (see
    /// the worker config's `kafka_client`).
    pub fn new(consumer: ClientConfig, admin: ClientConfig) -> Self {
        Self { consumer, admin }
    }

    fn consumer(&self, group: &str) -> Result<BaseConsumer> {
        self.consumer
            .clone()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("socket.timeout.ms", "10000")
            .create()
            .map_err(|source| OffsetsError::Kafka {
                action: "creating a consumer",
                group: group.to_string(),
                source,
            })
    }

    /// The Kafka cluster id, or `None` when the broker cannot be reached in time.
    pub async fn cluster_id(&self) -> Option<String> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let consumer = me.consumer("cassink-metadata").ok()?;
            consumer.client().fetch_cluster_id(Duration::from_secs(2))
        })
        .await
        .ok()
        .flatten()
    }

    /// Committed offsets of `group` for every partition of the selected topics that has one.
    pub async fn committed(
        &self,
        group: &str,
        topics: TopicSelector,
    ) -> Result<Vec<PartitionOffset>> {
        let me = self.clone();
        let group = group.to_string();
        tokio::task::spawn_blocking(move || me.committed_blocking(&group, &topics)).await?
    }

    fn committed_blocking(
        &self,
        group: &str,
        topics: &TopicSelector,
    ) -> Result<Vec<PartitionOffset>> {
        let consumer = self.consumer(group)?;
        let partitions = partitions(&consumer, group, topics)?;
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        let mut tpl = TopicPartitionList::new();
        for (topic, ps) in &partitions {
            for p in ps {
                tpl.add_partition(topic, *p);
            }
        }
        let committed =
            consumer
                .committed_offsets(tpl, TIMEOUT)
                .map_err(|source| OffsetsError::Kafka {
                    action: "reading committed offsets",
                    group: group.to_string(),
                    source,
                })?;
        let mut out: Vec<PartitionOffset> = committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) if o >= 0 => Some(PartitionOffset {
                    topic: e.topic().to_string(),
                    partition: e.partition(),
                    offset: o,
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(out)
    }

    /// Commits the given offsets (resetting partitions whose offset is `None`).
    pub async fn alter(&self, group: &str, changes: Vec<OffsetChange>) -> Result<()> {
        let me = self.clone();
        let group = group.to_string();
        tokio::task::spawn_blocking(move || me.alter_blocking(&group, &changes)).await?
    }

    fn alter_blocking(&self, group: &str, changes: &[OffsetChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let consumer = self.consumer(group)?;
        let kafka = |action| {
            let group = group.to_string();
            move |source| OffsetsError::Kafka {
                action,
                group,
                source,
            }
        };
        let mut known: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        let mut tpl = TopicPartitionList::new();
        for change in changes {
            if !known.contains_key(&change.topic) {
                let ps = topic_partitions(&consumer, group, &change.topic)?;
                known.insert(change.topic.clone(), ps);
            }
            if !known[&change.topic].contains(&change.partition) {
                return Err(OffsetsError::UnknownPartition {
                    topic: change.topic.clone(),
                    partition: change.partition,
                });
            }
            let offset = match change.offset {
                Some(o) => o,
                None => {
                    consumer
                        .fetch_watermarks(&change.topic, change.partition, TIMEOUT)
                        .map_err(kafka("reading watermarks"))?
                        .0
                }
            };
            tpl.add_partition_offset(&change.topic, change.partition, Offset::Offset(offset))
                .map_err(kafka("building the offset list"))?;
        }
        consumer
            .assign(&tpl)
            .map_err(kafka("assigning partitions"))?;
        consumer
            .commit(&tpl, CommitMode::Sync)
            .map_err(kafka("committing offsets"))?;
        Ok(())
    }

    /// Resets every partition of the selected topics: deletes the group when the broker
    /// supports it, else commits each partition's low watermark.
    pub async fn reset(&self, group: &str, topics: TopicSelector) -> Result<()> {
        let admin: Option<AdminClient<DefaultClientContext>> = self.admin.create().ok();
        if let Some(admin) = admin {
            let opts = AdminOptions::new().request_timeout(Some(TIMEOUT));
            if let Ok(results) = admin.delete_groups(&[group], &opts).await {
                if results.iter().all(|r| r.is_ok()) {
                    return Ok(());
                }
            }
        }
        let me = self.clone();
        let group = group.to_string();
        tokio::task::spawn_blocking(move || {
            let consumer = me.consumer(&group)?;
            let changes: Vec<OffsetChange> = partitions(&consumer, &group, &topics)?
                .into_iter()
                .flat_map(|(topic, ps)| {
                    ps.into_iter().map(move |partition| OffsetChange {
                        topic: topic.clone(),
                        partition,
                        offset: None,
                    })
                })
                .collect();
            drop(consumer);
            me.alter_blocking(&group, &changes)
        })
        .await?
    }

    /// Topics that exist now and match `selector`.
    pub async fn topics(&self, selector: TopicSelector) -> Result<Vec<String>> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let consumer = me.consumer("cassink-metadata")?;
            Ok(partitions(&consumer, "cassink-metadata", &selector)?
                .into_keys()
                .collect())
        })
        .await?
    }
}

fn topic_partitions(consumer: &BaseConsumer, group: &str, topic: &str) -> Result<Vec<i32>> {
    let md = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|source| OffsetsError::Kafka {
            action: "reading topic metadata",
            group: group.to_string(),
            source,
        })?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect())
}

/// Partitions of the selected topics that exist (missing topics are skipped).
fn partitions(
    consumer: &BaseConsumer,
    group: &str,
    selector: &TopicSelector,
) -> Result<BTreeMap<String, Vec<i32>>> {
    let mut out = BTreeMap::new();
    match selector {
        TopicSelector::List(topics) => {
            for topic in topics {
                let ps = topic_partitions(consumer, group, topic)?;
                if !ps.is_empty() {
                    out.insert(topic.clone(), ps);
                }
            }
        }
        TopicSelector::Regex(raw) => {
            let re = regex::Regex::new(&format!("^(?:{raw})$"))
                .map_err(|e| OffsetsError::Regex(raw.clone(), e))?;
            let md =
                consumer
                    .fetch_metadata(None, TIMEOUT)
                    .map_err(|source| OffsetsError::Kafka {
                        action: "listing topics",
                        group: group.to_string(),
                        source,
                    })?;
            for t in md.topics() {
                if re.is_match(t.name()) && t.error().is_none() {
                    let ps: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
                    out.insert(t.name().to_string(), ps);
                }
            }
        }
    }
    Ok(out)
}
