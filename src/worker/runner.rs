//! The loop of one sink task: fetch a chunk, convert it, `put` it, and advance the offsets of
//! the records the sink acknowledged (or that error tolerance deliberately skipped). Offsets
//! are committed every `offset.flush.interval.ms`, on pause and on stop, never past a record
//! that was neither written nor skipped.

use super::task::{Control, State, TaskSpec, TaskStatus};
use crate::config::{parse_bool, ConfigMap};
use crate::connector::{SinkError, SinkTask, Stage, TaskContext};
use crate::convert::{self, Converter, Part};
use crate::kafka::consumer::{self as kc, ConsumerError};
use crate::record::{Header, Position, SinkRecord, Value};
use bytes::Bytes;
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const DEFAULT_MAX_POLL_RECORDS: usize = 1000;
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// Connect's `errors.*` keys as the runtime uses them.
#[derive(Debug, Clone)]
struct Tolerance {
    /// `errors.tolerance=all`: skip (and log) records that fail permanently.
    all: bool,
    /// `errors.retry.timeout`: how long transient failures are retried; `None` = forever.
    retry_timeout: Option<Duration>,
    /// `errors.retry.delay.max.ms`.
    max_delay: Duration,
    log_enabled: bool,
    log_messages: bool,
}

impl Tolerance {
    fn from_config(config: &ConfigMap) -> Tolerance {
        let get = |k: &str| config.get(k).map(|v| v.trim().to_string());
        let ignore_errors = get("ignoreErrors").unwrap_or_default().to_ascii_lowercase();
        let all = get("errors.tolerance").is_some_and(|v| v.eq_ignore_ascii_case("all"))
            || ignore_errors == "all"
            || ignore_errors == "true";
        // Unset or -1: retry outages until they end (a Cassandra restart must not kill tasks).
        let retry_timeout = match get("errors.retry.timeout").and_then(|v| v.parse::<i64>().ok()) {
            Some(ms) if ms >= 0 => Some(Duration::from_millis(ms as u64)),
            _ => None,
        };
        let max_delay = get("errors.retry.delay.max.ms")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(60));
        Tolerance {
            all,
            retry_timeout,
            max_delay,
            log_enabled: get("errors.log.enable")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(false),
            log_messages: get("errors.log.include.messages")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(false),
        }
    }
}

/// A record that failed for good, with everything a trace or a DLQ header needs.
struct Failure {
    position: Position,
    stage: Stage,
    kind: &'static str,
    message: String,
}

impl Failure {
    fn trace(&self, connector: &str, task: u32) -> String {
        format!(
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
             \tconnector={connector} task={task} stage={} topic={} partition={} offset={}\n\
             Caused by: {}: {}",
            self.stage.as_connect_str(),
            self.position.topic,
            self.position.partition,
            self.position.offset,
            self.kind,
            self.message
        )
    }
}

struct Runner {
    spec: TaskSpec,
    control: watch::Receiver<Control>,
    status: watch::Sender<TaskStatus>,
    tolerance: Tolerance,
    group: String,
    /// Next offset to read per partition, for everything written or skipped.
    acked: BTreeMap<(String, i32), i64>,
    committed: BTreeMap<(String, i32), i64>,
}

/// Why the loop ended.
enum Exit {
    Stopped,
    Failed(String),
}

pub(super) async fn run(
    spec: TaskSpec,
    control: watch::Receiver<Control>,
    status: watch::Sender<TaskStatus>,
) {
    let tolerance = Tolerance::from_config(&spec.config);
    let group = kc::group_id(&spec.connector);
    let mut runner = Runner {
        spec,
        control,
        status,
        tolerance,
        group,
        acked: BTreeMap::new(),
        committed: BTreeMap::new(),
    };
    match runner.run().await {
        Exit::Stopped => runner.set(State::Unassigned, None),
        Exit::Failed(trace) => {
            tracing::error!(%trace, "task failed");
            runner.set(State::Failed, Some(trace));
        }
    }
}

impl Runner {
    fn set(&self, state: State, trace: Option<String>) {
        self.status.send_replace(TaskStatus { state, trace });
    }

    fn wants(&self) -> Control {
        *self.control.borrow()
    }

    /// Sleeps for `delay` unless a stop arrives first; returns false on stop.
    async fn backoff(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return true,
                changed = self.control.changed() => {
                    if changed.is_err() || *self.control.borrow() == Control::Stop {
                        return false;
                    }
                }
            }
        }
    }

    async fn run(&mut self) -> Exit {
        let config = self.spec.config.clone();
        let (key_conv, value_conv) = match (
            convert::build(Part::Key, &config),
            convert::build(Part::Value, &config),
        ) {
            (Ok(k), Ok(v)) => (k, v),
            (Err(e), _) | (_, Err(e)) => {
                return Exit::Failed(format!(
                    "org.apache.kafka.common.config.ConfigException: {e}"
                ))
            }
        };
        self.set(State::Running, None);

        // Start the sink, retrying outages (Cassandra not up yet) with the trace visible.
        let ctx = TaskContext {
            connector: self.spec.connector.clone(),
            task: self.spec.task_id,
        };
        let mut delay = INITIAL_BACKOFF;
        let started = Instant::now();
        let mut sink: Box<dyn SinkTask> = loop {
            match self
                .spec
                .plugin
                .start_task(ctx.clone(), config.clone())
                .await
            {
                Ok(sink) => break sink,
                Err(e) if e.retriable && !self.retry_expired(started) => {
                    tracing::warn!(error = %e, "sink not ready, retrying");
                    self.set(
                        State::Running,
                        Some(format!("retrying: {}: {}", e.kind, e.message)),
                    );
                    if !self.backoff(delay).await {
                        return Exit::Stopped;
                    }
                    delay = (delay * 2).min(self.tolerance.max_delay);
                }
                Err(e) => {
                    return Exit::Failed(format!(
                        "org.apache.kafka.connect.errors.ConnectException: {}: {}",
                        e.kind, e.message
                    ))
                }
            }
        };

        let exit = self.consume(&mut *sink, key_conv, value_conv).await;
        sink.stop().await;
        exit
    }

    fn retry_expired(&self, since: Instant) -> bool {
        self.tolerance
            .retry_timeout
            .is_some_and(|t| since.elapsed() >= t)
    }

    /// Creates the consumer and assigns this task's share of partitions, retrying outages.
    async fn assign(&mut self) -> Result<(StreamConsumer, Vec<(String, i32)>), Exit> {
        let mut delay = INITIAL_BACKOFF;
        let started = Instant::now();
        loop {
            let attempt = tokio::task::block_in_place(|| -> Result<_, ConsumerError> {
                let consumer = kc::create(&self.spec.worker, &self.group)?;
                let topics = kc::resolve_topics(&consumer, &self.spec.worker, &self.spec.config)?;
                let all = kc::partitions(&consumer, &self.spec.worker, &topics)?;
                let share = kc::share(&all, self.spec.task_id, self.spec.tasks);
                let start = kc::assign(&consumer, &self.group, &share)?;
                tracing::info!(partitions = ?start, "assigned");
                Ok((consumer, share))
            });
            match attempt {
                Ok(ok) => return Ok(ok),
                Err(e) if e.is_retriable() && !self.retry_expired(started) => {
                    tracing::warn!(error = %e, "cannot assign partitions yet, retrying");
                    self.set(State::Running, Some(format!("retrying: {e}")));
                    if !self.backoff(delay).await {
                        return Err(Exit::Stopped);
                    }
                    delay = (delay * 2).min(self.tolerance.max_delay);
                }
                Err(e) => {
                    return Err(Exit::Failed(format!(
                        "org.apache.kafka.connect.errors.ConnectException: {e}"
                    )))
                }
            }
        }
    }

    async fn consume(
        &mut self,
        sink: &mut dyn SinkTask,
        key_conv: Arc<dyn Converter>,
        value_conv: Arc<dyn Converter>,
    ) -> Exit {
        let (consumer, share) = match self.assign().await {
            Ok(ok) => ok,
            Err(exit) => return exit,
        };
        self.set(State::Running, None);
        let max_poll = self
            .spec
            .worker
            .raw
            .get("consumer.max.poll.records")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_POLL_RECORDS);
        let assignment = kc::assignment_list(&share);
        let mut paused = false;
        let mut flush = tokio::time::interval(self.spec.worker.offset_flush_interval);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stream = consumer
            .stream()
            .map(|m| m.map(|m| m.detach()))
            .ready_chunks(max_poll);

        let exit = loop {
            let wants = self.wants();
            if wants == Control::Stop {
                break Exit::Stopped;
            }
            if (wants == Control::Pause) != paused {
                paused = wants == Control::Pause;
                let toggled = if paused {
                    consumer.pause(&assignment)
                } else {
                    consumer.resume(&assignment)
                };
                if let Err(e) = toggled {
                    tracing::warn!(error = %e, "cannot pause/resume the consumer");
                }
                if paused {
                    self.commit(&consumer);
                }
                self.set(
                    if paused {
                        State::Paused
                    } else {
                        State::Running
                    },
                    None,
                );
            }
            tokio::select! {
                biased;
                changed = self.control.changed() => {
                    if changed.is_err() {
                        break Exit::Stopped;
                    }
                }
                _ = flush.tick() => self.commit(&consumer),
                chunk = stream.next(), if !paused => {
                    let Some(chunk) = chunk else { break Exit::Stopped };
                    if let Err(exit) = self.process(sink, &key_conv, &value_conv, chunk).await {
                        break exit;
                    }
                }
            }
        };
        drop(stream);
        self.commit(&consumer);
        exit
    }

    fn commit(&mut self, consumer: &StreamConsumer) {
        if self.acked == self.committed {
            return;
        }
        match tokio::task::block_in_place(|| kc::commit(consumer, &self.group, &self.acked)) {
            Ok(()) => {
                tracing::debug!(offsets = ?self.acked, "committed");
                self.committed = self.acked.clone();
            }
            // Not fatal: the next flush tries again; a crash meanwhile only replays.
            Err(e) => tracing::warn!(error = %e, "offset commit failed"),
        }
    }

    /// Converts, writes and acknowledges one chunk. Returns `Err` when the task must end.
    async fn process(
        &mut self,
        sink: &mut dyn SinkTask,
        key_conv: &Arc<dyn Converter>,
        value_conv: &Arc<dyn Converter>,
        chunk: Vec<Result<OwnedMessage, rdkafka::error::KafkaError>>,
    ) -> Result<(), Exit> {
        let mut records = Vec::with_capacity(chunk.len());
        let mut failures: Vec<Failure> = Vec::new();
        for msg in chunk {
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "consumer error");
                    continue;
                }
            };
            match convert_message(&msg, key_conv, value_conv).await {
                Ok(record) => records.push(record),
                Err(f) if !self.tolerance.all => {
                    // Write what came before the bad record, then fail on it.
                    self.write(sink, &records).await?;
                    self.ack(&records);
                    return Err(Exit::Failed(
                        f.trace(&self.spec.connector, self.spec.task_id),
                    ));
                }
                Err(f) => {
                    self.skip(&f);
                    failures.push(f);
                }
            }
        }
        let rejected = self.write(sink, &records).await?;
        if !rejected.is_empty() && !self.tolerance.all {
            // Everything else was written; commit up to (not past) the first rejected record.
            let first = &rejected[0];
            let mut done: Vec<SinkRecord> = Vec::new();
            for r in &records {
                let same = r.position.topic == first.position.topic
                    && r.position.partition == first.position.partition;
                if !same || r.position.offset < first.position.offset {
                    done.push(r.clone());
                }
            }
            self.ack(&done);
            return Err(Exit::Failed(
                first.trace(&self.spec.connector, self.spec.task_id),
            ));
        }
        for f in &rejected {
            self.skip(f);
        }
        self.ack(&records);
        for f in failures {
            self.ack_position(&f.position);
        }
        Ok(())
    }

    /// Puts records, retrying transient failures with exponential backoff. Returns the records
    /// the sink rejected permanently.
    async fn write(
        &mut self,
        sink: &mut dyn SinkTask,
        records: &[SinkRecord],
    ) -> Result<Vec<Failure>, Exit> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut delay = INITIAL_BACKOFF;
        let started = Instant::now();
        let mut retrying = false;
        loop {
            match sink.put(records).await {
                Ok(rejected) => {
                    if retrying {
                        tracing::info!("sink recovered");
                        self.set(State::Running, None);
                    }
                    return Ok(rejected
                        .into_iter()
                        .filter_map(|r| {
                            let rec = records.get(r.index)?;
                            Some(Failure {
                                position: rec.position.clone(),
                                stage: Stage::Task,
                                kind: r.error.kind,
                                message: r.error.message,
                            })
                        })
                        .collect());
                }
                Err(e) if e.retriable && !self.retry_expired(started) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "transient write failure, retrying");
                    self.set(State::Running, Some(retry_trace(&e, records)));
                    retrying = true;
                    if !self.backoff(delay).await {
                        return Err(Exit::Stopped);
                    }
                    delay = (delay * 2).min(self.tolerance.max_delay);
                }
                Err(e) => {
                    let first = &records[0].position;
                    return Err(Exit::Failed(format!(
                        "org.apache.kafka.connect.errors.ConnectException: {}: {} (records from {} on)",
                        e.kind, e.message, first
                    )));
                }
            }
        }
    }

    fn skip(&self, f: &Failure) {
        if self.tolerance.log_enabled {
            if self.tolerance.log_messages {
                tracing::error!(position = %f.position, stage = f.stage.as_connect_str(), error = %f.message, "record skipped (errors.tolerance=all)");
            } else {
                tracing::error!(position = %f.position, stage = f.stage.as_connect_str(), "record skipped (errors.tolerance=all)");
            }
        }
    }

    fn ack(&mut self, records: &[SinkRecord]) {
        for r in records {
            self.ack_position(&r.position);
        }
    }

    fn ack_position(&mut self, p: &Position) {
        let next = self
            .acked
            .entry((p.topic.clone(), p.partition))
            .or_insert(0);
        *next = (*next).max(p.offset + 1);
    }
}

fn retry_trace(e: &SinkError, records: &[SinkRecord]) -> String {
    let first = records
        .first()
        .map(|r| r.position.to_string())
        .unwrap_or_default();
    format!(
        "retrying (transient): {}: {} (batch starting at {first})",
        e.kind, e.message
    )
}

/// Kafka message -> [`SinkRecord`] through the key and value converters.
async fn convert_message(
    msg: &OwnedMessage,
    key_conv: &Arc<dyn Converter>,
    value_conv: &Arc<dyn Converter>,
) -> Result<SinkRecord, Failure> {
    let position = Position {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
    };
    let raw_headers: Vec<(String, Option<Bytes>)> = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_string(), h.value.map(Bytes::copy_from_slice)))
                .collect()
        })
        .unwrap_or_default();
    let fail = |stage: Stage, e: convert::ConvertError| Failure {
        position: position.clone(),
        stage,
        kind: "org.apache.kafka.connect.errors.DataException",
        message: e.message,
    };
    let key = key_conv
        .to_connect(msg.topic(), &raw_headers, msg.key())
        .await
        .map_err(|e| fail(Stage::KeyConverter, e))?;
    let value = value_conv
        .to_connect(msg.topic(), &raw_headers, msg.payload())
        .await
        .map_err(|e| fail(Stage::ValueConverter, e))?;
    let headers = raw_headers
        .into_iter()
        .map(|(key, raw)| {
            let value = match &raw {
                None => Value::Null,
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => Value::String(s.to_string()),
                    Err(_) => Value::Bytes(b.clone()),
                },
            };
            Header { key, raw, value }
        })
        .collect();
    Ok(SinkRecord {
        position,
        timestamp_ms: msg.timestamp().to_millis(),
        key,
        value,
        headers,
        raw_key: msg.key().map(Bytes::copy_from_slice),
        raw_value: msg.payload().map(Bytes::copy_from_slice),
    })
}
