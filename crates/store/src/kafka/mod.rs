//! [`KafkaStore`]: distributed mode's [`ConfigStore`] and [`Cluster`] over two topics, as
//! Kafka Connect lays them out (record formats in [`view`]).
//!
//! Every worker reads both topics from the beginning at start-up and follows them with a
//! background consumer that `assign`s partition 0 (no group), so a write made on any worker
//! reaches all of them. All writes go through one path: records produced with `acks=all` to
//! the single partition of a topic, so every worker reads them in the same order and the
//! last record per key wins. A REST write returns once this worker's own follower has read
//! it back (read-your-writes). Each record that matters to the herder is announced on the
//! channel [`KafkaStore::open`] returns.

mod view;

use super::{
    Cluster, ConfigStore, Result, StatusSnapshot, StoreError, StoreEvent, StoredConnector,
    TargetState, TaskStatus,
};
use cassink_config::ConfigMap;
use cassink_kafka::probe;
use cassink_kafka::quiet::QuietErrors;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use view::{
    apply_config, apply_status, live_workers, stored, ConnectorRecord, HeartbeatRecord,
    RestartRecord, StatusRecord, TargetRecord, View,
};

/// Distributed-mode settings, from the worker keys `group.id`, `config.storage.*`,
/// `status.storage.*`, `heartbeat.interval.ms`, `session.timeout.ms` and `worker.sync.timeout.ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distributed {
    /// `group.id`: the worker group.
    pub group_id: String,
    /// `config.storage.topic`: connector configs and target states (compacted, 1 partition).
    pub config_topic: String,
    /// `status.storage.topic` (default `<config topic>-status`).
    pub status_topic: String,
    /// `offset.storage.topic`: accepted for compatibility; sink offsets live in the
    /// consumer groups `connect-<name>`.
    pub offset_topic: Option<String>,
    /// `config.storage.replication.factor` (Connect's default 3; capped at the broker count).
    pub replication: i32,
    /// `status.storage.replication.factor` (default: the config topic's).
    pub status_replication: i32,
    /// `heartbeat.interval.ms` (3 s): how often a worker tells the others it is alive.
    pub heartbeat: Duration,
    /// `session.timeout.ms` (10 s): a worker silent this long is considered gone and its
    /// tasks move to the others.
    pub session: Duration,
    /// `worker.sync.timeout.ms` (3 s): how long a REST write waits for this worker to catch
    /// up with the config topic before answering 409.
    pub sync_timeout: Duration,
}

/// The Kafka clients the store makes, configured by the worker (bootstrap servers, security,
/// the `admin.*`/`producer.*`/`consumer.*` keys).
pub struct StoreClients {
    pub admin: ClientConfig,
    pub producer: ClientConfig,
    pub consumer: ClientConfig,
}

/// How long a write may wait for the broker's ack plus the follower catching up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long start-up may take to read both topics to their end.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);

struct Shared {
    view: Mutex<View>,
    advanced: Condvar,
}

pub struct KafkaStore {
    cfg: Distributed,
    worker_id: String,
    producer: FutureProducer<QuietErrors>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

fn kafka_err(action: &'static str, topic: &str, reason: impl ToString) -> StoreError {
    StoreError::Kafka {
        action,
        topic: topic.to_string(),
        reason: reason.to_string(),
    }
}

/// Runs blocking work without stalling the async runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl KafkaStore {
    /// Creates the topics when missing, starts the follower and reads both topics to their
    /// end. The receiver yields what every config record read means for the herder.
    /// `worker_id` names this worker's heartbeats and status records.
    pub async fn open(
        clients: StoreClients,
        worker_id: String,
        cfg: Distributed,
    ) -> Result<(Self, mpsc::UnboundedReceiver<StoreEvent>)> {
        let StoreClients {
            admin,
            producer,
            consumer,
        } = clients;
        ensure_compacted(&admin, &cfg.config_topic, cfg.replication).await?;
        ensure_compacted(&admin, &cfg.status_topic, cfg.status_replication).await?;

        let producer: FutureProducer<QuietErrors> = producer
            .clone()
            .set("acks", "all")
            .set("linger.ms", "0")
            // A write the brokers have not acknowledged within WRITE_TIMEOUT fails (and
            // `GET /health` says so) instead of waiting librdkafka's default 5 minutes.
            .set("message.timeout.ms", WRITE_TIMEOUT.as_millis().to_string())
            .create_with_context(QuietErrors::default())
            .map_err(|e| kafka_err("create a producer for", &cfg.config_topic, e))?;

        let mut follower_cfg = consumer;
        follower_cfg
            .set("group.id", format!("{}-follower", cfg.group_id))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", "50");
        let consumer = BaseConsumer::from_config_and_context(&follower_cfg, QuietErrors::default())
            .map_err(|e| kafka_err("create a follower for", &cfg.config_topic, e))?;
        let mut tpl = TopicPartitionList::new();
        let mut ends = BTreeMap::new();
        for topic in [&cfg.config_topic, &cfg.status_topic] {
            tpl.add_partition_offset(topic, 0, Offset::Beginning)
                .map_err(|e| kafka_err("assign", topic, e))?;
            let (_, high) = blocking(|| end_offsets_once_known(&consumer, topic))
                .map_err(|e| kafka_err("read the end offset of", topic, e))?;
            ends.insert(topic.clone(), high);
        }
        consumer
            .assign(&tpl)
            .map_err(|e| kafka_err("assign", &cfg.config_topic, e))?;

        let shared = Arc::new(Shared {
            view: Mutex::new(View::default()),
            advanced: Condvar::new(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let shared = shared.clone();
            let stop = stop.clone();
            let cfg = cfg.clone();
            let live_from = ends.get(&cfg.config_topic).copied().unwrap_or(0);
            std::thread::Builder::new()
                .name("config-follower".into())
                .spawn(move || follow(consumer, cfg, live_from, shared, stop, tx))
                .map_err(|e| kafka_err("start the follower of", "config", e))?;
        }
        let store = Self {
            cfg,
            worker_id,
            producer,
            shared,
            stop,
        };
        for (topic, high) in ends {
            blocking(|| store.wait_past(&topic, high - 1, CATCH_UP_TIMEOUT))?;
        }
        tracing::info!(
            config_topic = %store.cfg.config_topic,
            status_topic = %store.cfg.status_topic,
            "read the config and status topics"
        );
        Ok((store, rx))
    }

    /// Blocks until the follower has read `offset` of `topic` (nothing to wait for when < 0).
    fn wait_past(&self, topic: &str, offset: i64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut view = self.shared.view.lock().unwrap_or_else(|p| p.into_inner());
        while view.positions.get(topic).copied().unwrap_or(0) <= offset {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(kafka_err(
                    "read back",
                    topic,
                    format!("the follower did not reach offset {offset} within {timeout:?}"),
                ));
            }
            view = self
                .shared
                .advanced
                .wait_timeout(view, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(())
    }

    /// Produces one record (`None`: a tombstone) and waits for the ack; with `read_back`,
    /// also until the follower has read it.
    fn write(&self, topic: &str, key: &str, value: Option<Vec<u8>>, read_back: bool) -> Result<()> {
        blocking(|| {
            let mut record = FutureRecord::<str, [u8]>::to(topic).key(key).partition(0);
            if let Some(v) = value.as_deref() {
                record = record.payload(v);
            }
            let delivery = futures::executor::block_on(self.producer.send(record, WRITE_TIMEOUT))
                .map_err(|(e, _)| kafka_err("write to", topic, e))?;
            if read_back {
                self.wait_past(topic, delivery.offset, WRITE_TIMEOUT)?;
            }
            Ok(())
        })
    }

    fn json<T: Serialize>(&self, value: &T) -> Vec<u8> {
        serde_json::to_vec(value).unwrap_or_default()
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.shared.view.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The watermarks of partition 0 of `topic`, waiting (up to [`WRITE_TIMEOUT`]) while the
/// brokers do not know its leader yet: right after `ensure_compacted` created it, metadata
/// answers "unknown partition" for a moment.
fn end_offsets_once_known(
    consumer: &BaseConsumer<QuietErrors>,
    topic: &str,
) -> std::result::Result<(i64, i64), rdkafka::error::KafkaError> {
    use RDKafkaErrorCode as Code;
    let deadline = Instant::now() + WRITE_TIMEOUT;
    loop {
        match consumer.fetch_watermarks(topic, 0, WRITE_TIMEOUT) {
            Err(e)
                if Instant::now() < deadline
                    && matches!(
                        e.rdkafka_error_code(),
                        Some(
                            Code::UnknownPartition
                                | Code::UnknownTopic
                                | Code::UnknownTopicOrPartition
                                | Code::LeaderNotAvailable
                        )
                    ) =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

impl Drop for KafkaStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Creates `topic` (1 partition, compacted) unless it exists, with the replication factor
/// capped at the number of brokers.
async fn ensure_compacted(client: &ClientConfig, topic: &str, replication: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = client
        .create()
        .map_err(|e| kafka_err("create an admin client for", topic, e))?;
    let brokers = match blocking(|| admin.inner().fetch_metadata(None, WRITE_TIMEOUT)) {
        Ok(md) => (md.brokers().len() as i32).max(1),
        // Refused credentials or certificates: say so now rather than time out creating.
        Err(e) => match blocking(|| probe::refusal(client)) {
            Some(reason) => return Err(kafka_err("connect to Kafka to create", topic, reason)),
            None => {
                tracing::debug!(error = %e, topic, "cannot read the broker count");
                1
            }
        },
    };
    let replication = replication.clamp(1, brokers);
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(replication))
        .set("cleanup.policy", "compact");
    let results = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(WRITE_TIMEOUT)),
        )
        .await
        .map_err(|e| kafka_err("create", topic, e))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(kafka_err("create", topic, code)),
        }
    }
    Ok(())
}

/// The follower loop: applies every record to the view, wakes writers waiting to read back,
/// and announces config changes; restart requests only from `live_from` on (the config
/// topic's end at start-up), so history never restarts anything.
fn follow(
    consumer: BaseConsumer<QuietErrors>,
    cfg: Distributed,
    live_from: i64,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    changes: mpsc::UnboundedSender<StoreEvent>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "config follower: cannot read");
                continue;
            }
        };
        let topic = msg.topic().to_string();
        let key = msg
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        let payload = msg.payload();
        let mut view = shared.view.lock().unwrap_or_else(|p| p.into_inner());
        let changed = if topic == cfg.config_topic {
            apply_config(&mut view, &key, payload, msg.offset() >= live_from)
        } else {
            apply_status(&mut view, &key, payload);
            None
        };
        view.positions.insert(topic, msg.offset() + 1);
        drop(view);
        shared.advanced.notify_all();
        if let Some(event) = changed {
            let _ = changes.send(event);
        }
    }
}

impl ConfigStore for KafkaStore {
    fn list(&self) -> Result<Vec<StoredConnector>> {
        let view = self.view();
        Ok(view
            .configs
            .keys()
            .filter_map(|name| stored(&view, name))
            .collect())
    }

    fn get(&self, name: &str) -> Result<Option<StoredConnector>> {
        Ok(stored(&self.view(), name))
    }

    fn put_config(&self, name: &str, config: &ConfigMap, target_state: TargetState) -> Result<()> {
        let topic = self.cfg.config_topic.clone();
        let is_new = !self.view().configs.contains_key(name);
        if is_new {
            let state = self.json(&TargetRecord {
                state: target_state,
            });
            self.write(&topic, &format!("target-state-{name}"), Some(state), false)?;
        }
        let value = self.json(&ConnectorRecord {
            properties: config.clone(),
        });
        self.write(&topic, &format!("connector-{name}"), Some(value), true)
    }

    fn put_target_state(&self, name: &str, state: TargetState) -> Result<()> {
        if !self.view().configs.contains_key(name) {
            return Err(StoreError::NotFound(name.to_string()));
        }
        let value = self.json(&TargetRecord { state });
        let topic = self.cfg.config_topic.clone();
        self.write(&topic, &format!("target-state-{name}"), Some(value), true)
    }

    fn put_status(&self, name: &str, status: &StatusSnapshot) -> Result<()> {
        let topic = self.cfg.status_topic.clone();
        for task in &status.tasks {
            let value = self.json(&StatusRecord {
                state: task.state.clone(),
                trace: task.trace.clone(),
                worker_id: self.worker_id.clone(),
                generation: 0,
                snapshot: None,
            });
            let key = format!("status-task-{name}-{}", task.id);
            self.write(&topic, &key, Some(value), false)?;
        }
        let value = self.json(&StatusRecord {
            state: status.connector_state.clone(),
            trace: status.connector_trace.clone(),
            worker_id: self.worker_id.clone(),
            generation: 0,
            snapshot: Some(status.clone()),
        });
        self.write(
            &topic,
            &format!("status-connector-{name}"),
            Some(value),
            false,
        )
    }

    fn delete(&self, name: &str) -> Result<()> {
        let topic = self.cfg.config_topic.clone();
        self.write(&topic, &format!("target-state-{name}"), None, false)?;
        self.write(&topic, &format!("connector-{name}"), None, true)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Cluster for KafkaStore {
    fn heartbeat(&self) -> Result<()> {
        let value = self.json(&HeartbeatRecord {
            state: "UP".into(),
            at_ms: now_ms(),
        });
        let topic = self.cfg.status_topic.clone();
        let key = format!("worker-{}", self.worker_id);
        // Read back: this worker counts itself among the live ones from the first beat on.
        let first = !self.view().workers.contains_key(&self.worker_id);
        self.write(&topic, &key, Some(value), first)
    }

    fn leave(&self) -> Result<()> {
        let topic = self.cfg.status_topic.clone();
        self.write(&topic, &format!("worker-{}", self.worker_id), None, false)
    }

    fn live_workers(&self, session: Duration) -> Vec<String> {
        let mut live = live_workers(&self.view(), now_ms(), session.as_millis() as i64);
        if !live.contains(&self.worker_id) {
            live.push(self.worker_id.clone());
            live.sort();
        }
        live
    }

    fn task_statuses(&self, connector: &str) -> BTreeMap<u32, TaskStatus> {
        self.view()
            .task_statuses
            .get(connector)
            .cloned()
            .unwrap_or_default()
    }

    fn sync(&self, timeout: Duration) -> Result<()> {
        let topic = &self.cfg.config_topic;
        blocking(|| {
            let (_, high) = self
                .producer
                .client()
                .fetch_watermarks(topic, 0, timeout)
                .map_err(|e| kafka_err("read the end offset of", topic, e))?;
            self.wait_past(topic, high - 1, timeout)
                .map_err(|_| StoreError::Stale {
                    topic: topic.clone(),
                    waited: timeout,
                })
        })
    }

    fn request_restart(
        &self,
        connector: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<()> {
        let value = self.json(&RestartRecord {
            include_tasks,
            only_failed,
        });
        let topic = self.cfg.config_topic.clone();
        self.write(
            &topic,
            &format!("restart-connector-{connector}"),
            Some(value),
            true,
        )
    }

    fn request_task_restart(&self, connector: &str, task: u32) -> Result<()> {
        let topic = self.cfg.config_topic.clone();
        let key = format!("restart-task-{connector}-{task}");
        self.write(&topic, &key, Some(b"{}".to_vec()), true)
    }
}
