//! The loop of one sink task: fetch a chunk, convert it, `put` it, and advance the offsets of
//! the records the sink acknowledged (or that error tolerance deliberately skipped, after they
//! reached the dead-letter queue). Offsets are committed every `offset.flush.interval.ms`, on
//! pause and on stop, never past a record that was neither written nor skipped.

use super::acks::{Ledger, Outcome};
use super::dlq::DeadLetterQueue;
use super::intake::{self, Converters, Intake, Stages};
use super::task::{Control, State, TaskSpec, TaskStatus};
use super::tolerance::{Failure, Tolerance};
use crate::validation;
use cassink_config::secrets;
use cassink_connector::{RecordFailure, SinkError, SinkTask, Stage, TaskContext};
use cassink_kafka::consumer::{self as kc, TaskConsumer};
use cassink_metrics::{Settled, TaskMetrics};
use cassink_record::{SinkRecord, Topics};
use cassink_transform::Chain;
use futures::StreamExt;
use rdkafka::consumer::Consumer;
use rdkafka::message::{BorrowedMessage, Message};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const DEFAULT_MAX_POLL_RECORDS: usize = 1000;
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// How long a stopping task serves the rebalance that takes its partitions away.
const LEAVE_GROUP_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_EXCEPTION: &str = "org.apache.kafka.connect.errors.ConnectException";

/// Why the loop ended.
enum Exit {
    Stopped,
    Failed(String),
}

/// Exponential backoff state of one operation that keeps failing transiently.
struct Retry {
    started: Instant,
    delay: Duration,
    /// `errors.retry.timeout` applies (conversions, as in Connect). Writes, the dead-letter
    /// queue and start-up retry until the outage ends: Connect redelivers a sink's retriable
    /// failures whatever that key says.
    bounded: bool,
}

impl Retry {
    fn new() -> Retry {
        Retry {
            started: Instant::now(),
            delay: INITIAL_BACKOFF,
            bounded: false,
        }
    }

    fn bounded_by_retry_timeout() -> Retry {
        Retry {
            bounded: true,
            ..Retry::new()
        }
    }
}

struct Runner {
    spec: TaskSpec,
    control: watch::Receiver<Control>,
    status: watch::Sender<TaskStatus>,
    tolerance: Tolerance,
    group: String,
    metrics: TaskMetrics,
    dlq: Option<DeadLetterQueue>,
    /// Next offset to read per partition, for everything written or skipped (shared with
    /// the consumer's rebalance callback).
    acked: kc::AckedOffsets,
    committed: BTreeMap<(String, i32), i64>,
    /// The names of the topics read, shared by their records.
    topics: Topics,
}

pub(super) async fn run(
    spec: TaskSpec,
    control: watch::Receiver<Control>,
    status: watch::Sender<TaskStatus>,
) {
    let tolerance = Tolerance::from_config(&spec.config);
    let group = kc::group_id(&spec.connector);
    let metrics = TaskMetrics::for_task(&spec.connector, spec.task_id);
    let mut runner = Runner {
        spec,
        control,
        status,
        tolerance,
        group,
        metrics,
        dlq: None,
        acked: Default::default(),
        committed: BTreeMap::new(),
        topics: Topics::default(),
    };
    match runner.run().await {
        Ok(()) | Err(Exit::Stopped) => runner.set(State::Unassigned, None),
        Err(Exit::Failed(trace)) => {
            let trace = runner.redact(&trace);
            tracing::error!(%trace, "task failed");
            runner.set(State::Failed, Some(trace));
        }
    }
}

/// Resolves when the target state becomes Stop (or the handle is gone).
async fn stop_requested(control: &mut watch::Receiver<Control>) {
    loop {
        if *control.borrow() == Control::Stop || control.changed().await.is_err() {
            return;
        }
    }
}

impl Runner {
    /// `text` without the secret values of the connector and of the worker config.
    fn redact(&self, text: &str) -> String {
        let text = secrets::redact(text, &self.spec.config);
        secrets::redact_values(&text, &self.spec.worker.secret_values())
    }

    fn set(&self, state: State, trace: Option<String>) {
        let trace = trace.map(|t| self.redact(&t));
        self.status.send_replace(TaskStatus { state, trace });
    }

    /// Waits before the next attempt of an operation that failed transiently, with the problem
    /// visible in the task status. Fails the task when `errors.retry.timeout` is exhausted
    /// for an operation it bounds.
    async fn wait_retry(&mut self, retry: &mut Retry, problem: String) -> Result<(), Exit> {
        if retry.bounded
            && self
                .tolerance
                .retry_timeout
                .is_some_and(|t| retry.started.elapsed() >= t)
        {
            return Err(Exit::Failed(format!(
                "{CONNECT_EXCEPTION}: errors.retry.timeout exhausted: {problem}"
            )));
        }
        let problem = self.redact(&problem);
        self.metrics.retry();
        tracing::warn!(problem = %problem, retry_in = ?retry.delay, "transient failure, retrying");
        self.set(
            State::Running,
            Some(format!("retrying (transient): {problem}")),
        );
        let sleep = tokio::time::sleep(retry.delay);
        retry.delay = (retry.delay * 2).min(self.tolerance.max_delay);
        tokio::select! {
            _ = sleep => Ok(()),
            _ = stop_requested(&mut self.control) => Err(Exit::Stopped),
        }
    }

    async fn run(&mut self) -> Result<(), Exit> {
        let config = self.spec.config.clone();
        let converters = match Converters::build(&config) {
            Ok(c) => c,
            Err(e) => {
                return Err(Exit::Failed(format!(
                    "org.apache.kafka.common.config.ConfigException: {e}"
                )))
            }
        };
        let transforms = match Chain::from_config(&config) {
            Ok(c) => c,
            Err(e) => {
                return Err(Exit::Failed(format!(
                    "org.apache.kafka.common.config.ConfigException: {e}"
                )))
            }
        };
        let converters = Stages {
            converters,
            transforms,
            keep_raw: self.tolerance.keeps_raw_records(),
        };
        self.set(State::Running, None);

        let mut retry = Retry::new();
        self.dlq = loop {
            match DeadLetterQueue::open(
                &self.spec.worker,
                &self.spec.config,
                &self.tolerance,
                &self.spec.connector,
                self.spec.task_id,
            )
            .await
            {
                Ok(dlq) => break dlq,
                Err(e) if !e.is_retriable() => {
                    return Err(Exit::Failed(format!("{CONNECT_EXCEPTION}: {e}")))
                }
                Err(e) => self.wait_retry(&mut retry, e.to_string()).await?,
            }
        };

        // Start the sink, retrying outages (Cassandra not up yet); a stop interrupts the wait.
        let ctx = TaskContext {
            connector: self.spec.connector.clone(),
            task: self.spec.task_id,
            framework: validation::framework(&self.spec.config),
        };
        let mut retry = Retry::new();
        let mut sink: Box<dyn SinkTask> = loop {
            let started = tokio::select! {
                r = self.spec.plugin.start_task(ctx.clone(), config.clone()) => r,
                _ = stop_requested(&mut self.control) => return Err(Exit::Stopped),
            };
            match started {
                Ok(sink) => break sink,
                Err(e) if e.is_retriable() => {
                    self.wait_retry(&mut retry, format!("{}: {}", e.kind, e.message))
                        .await?
                }
                Err(e) => {
                    return Err(Exit::Failed(format!(
                        "{CONNECT_EXCEPTION}: {}: {}",
                        e.kind, e.message
                    )))
                }
            }
        };

        let result = self.consume(&mut *sink, &converters).await;
        sink.stop().await;
        result
    }

    /// Creates the consumer and subscribes it to the connector's group, retrying outages.
    async fn subscribe(
        &mut self,
        settings: &kc::ConsumerSettings,
    ) -> Result<(TaskConsumer, Vec<String>), Exit> {
        let mut retry = Retry::new();
        loop {
            let attempt = tokio::task::block_in_place(|| -> Result<_, kc::ConsumerError> {
                let consumer = kc::create(
                    settings,
                    &self.group,
                    self.metrics.clone(),
                    self.acked.clone(),
                )?;
                let bootstrap = &settings.bootstrap;
                let topics = kc::resolve_topics(&consumer, bootstrap, &self.spec.config)?;
                // Reads the topics' metadata: a topic that does not exist fails here, clearly.
                kc::partitions(&consumer, bootstrap, &topics)?;
                // Every task, on every worker, is a member of the connector's group (as Kafka
                // Connect's tasks are): the group spreads the partitions and moves them when a
                // task or a worker comes or goes.
                kc::subscribe(&consumer, &self.group, &topics)?;
                tracing::info!(?topics, group = %self.group, "subscribed");
                Ok((consumer, topics))
            });
            // "Broker transport failure" says little: ask the brokers why (bad credentials
            // or certificates fail the task instead of retrying forever).
            let attempt = attempt.map_err(|e| {
                let config = kc::client_config(settings, &self.group);
                tokio::task::block_in_place(|| e.explained(&config))
            });
            match attempt {
                Ok(ok) => return Ok(ok),
                Err(e) if e.is_retriable() => self.wait_retry(&mut retry, e.to_string()).await?,
                Err(e) => return Err(Exit::Failed(format!("{CONNECT_EXCEPTION}: {e}"))),
            }
        }
    }

    async fn consume(&mut self, sink: &mut dyn SinkTask, converters: &Stages) -> Result<(), Exit> {
        // The client settings (worker security, allowed overrides) do not change while the
        // task runs: a bad one fails the task at once.
        let settings = self
            .spec
            .worker
            .task_consumer(&self.spec.config)
            .map_err(|e| Exit::Failed(format!("{CONNECT_EXCEPTION}: {e}")))?;
        let (consumer, mut topics) = self.subscribe(&settings).await?;
        self.set(State::Running, None);
        // topics.regex: topics created later join the subscription (Connect's consumer
        // subscribes by pattern); new partitions of any topic librdkafka adds by itself.
        let by_regex = self
            .spec
            .config
            .get("topics.regex")
            .is_some_and(|r| !r.trim().is_empty());
        let refresh = kc::metadata_refresh_interval(&kc::client_config(&settings, &self.group));
        let mut rediscover =
            tokio::time::interval_at(tokio::time::Instant::now() + refresh, refresh);
        rediscover.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let max_poll = self
            .spec
            .worker
            .raw
            .get("consumer.max.poll.records")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_POLL_RECORDS);
        // What the group gives this task at the time of a pause/resume.
        let assignment =
            |consumer: &TaskConsumer| kc::assignment_list(&kc::current_assignment(consumer));
        let mut paused = false;
        let mut flush = tokio::time::interval(self.spec.worker.offset_flush_interval);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stream = consumer.stream().ready_chunks(max_poll);

        let result = loop {
            let wants = *self.control.borrow_and_update();
            if wants == Control::Stop {
                break Ok(());
            }
            if (wants == Control::Pause) != paused {
                paused = wants == Control::Pause;
                let toggled = if paused {
                    consumer.pause(&assignment(&consumer))
                } else {
                    consumer.resume(&assignment(&consumer))
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
                        break Ok(());
                    }
                }
                _ = flush.tick() => self.commit(&consumer),
                _ = rediscover.tick(), if by_regex => self.rediscover(&consumer, &mut topics),
                chunk = stream.next(), if !paused => {
                    let Some(chunk) = chunk else {
                        break Err(Exit::Failed(format!(
                            "{CONNECT_EXCEPTION}: the Kafka consumer stopped delivering records"
                        )));
                    };
                    if let Err(exit) = self.process(sink, converters, chunk).await {
                        break Err(exit);
                    }
                }
            }
        };
        self.commit(&consumer);
        self.metrics.forget_partitions();
        // Leave the group before closing: librdkafka's close can wait a long time when a
        // cooperative rebalance is handing this consumer partitions as it closes (a stop
        // during the group's first rebalance hung here for the whole stop timeout).
        // Unsubscribing and serving the revocation first (the revoke callback commits what
        // was acknowledged) lets the close end at once.
        consumer.unsubscribe();
        let deadline = Instant::now() + LEAVE_GROUP_TIMEOUT;
        while !kc::current_assignment(&consumer).is_empty() && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
        }
        drop(stream);
        // Closing is a blocking call: keep it off the runtime's worker threads.
        tokio::task::block_in_place(move || drop(consumer));
        result
    }

    /// Subscribes to the topics `topics.regex` matches now, when they changed. A broker that
    /// cannot be asked keeps the subscription as it is until the next look.
    fn rediscover(&mut self, consumer: &TaskConsumer, topics: &mut Vec<String>) {
        let found = tokio::task::block_in_place(|| {
            kc::resolve_topics(
                consumer,
                &self.spec.worker.bootstrap_servers,
                &self.spec.config,
            )
        });
        match found {
            Ok(found) if found != *topics => match kc::subscribe(consumer, &self.group, &found) {
                Ok(()) => {
                    tracing::info!(topics = ?found, "topics.regex matches new topics: subscribed");
                    *topics = found;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot subscribe to the topics topics.regex matches")
                }
            },
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for new topics matching topics.regex")
            }
        }
    }

    fn commit(&mut self, consumer: &TaskConsumer) {
        let mut acked = self.acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // A partition the group moved to another task was committed when it was revoked;
        // from then on only its new owner commits it.
        let held = kc::current_assignment(consumer);
        self.metrics.set_partition_count(held.len());
        let held = |tp: &(String, i32)| held.contains(tp);
        acked.retain(|tp, _| held(tp));
        self.acked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|tp, _| held(tp));
        self.committed.retain(|tp, _| held(tp));
        if acked != self.committed {
            let started = Instant::now();
            let result = tokio::task::block_in_place(|| kc::commit(consumer, &self.group, &acked));
            self.metrics
                .offset_commit(result.is_ok(), started.elapsed());
            match result {
                Ok(()) => {
                    tracing::debug!(offsets = ?acked, "committed");
                    self.committed = acked;
                    for ((topic, partition), offset) in &self.committed {
                        self.metrics
                            .set_committed_offset(topic, *partition, *offset);
                    }
                }
                // Not fatal: the next flush tries again; a crash meanwhile only replays.
                Err(e) => tracing::warn!(error = %e, "offset commit failed"),
            }
        }
    }

    /// Converts, writes and acknowledges one chunk, and counts what became of its records.
    /// Returns `Err` when the task must end.
    async fn process(
        &mut self,
        sink: &mut dyn SinkTask,
        converters: &Stages,
        chunk: Vec<Result<BorrowedMessage<'_>, rdkafka::error::KafkaError>>,
    ) -> Result<(), Exit> {
        let read = chunk.iter().filter(|m| m.is_ok()).count();
        self.metrics.read(read);
        let mut ledger = Ledger::default();
        let result = self
            .process_chunk(sink, converters, chunk, &mut ledger)
            .await;
        let done = ledger.totals();
        // What the chunk did not get to (after a failure, or a stop while retrying) is read
        // again when the task restarts: not written because of that failure.
        let settled = done.written + done.skipped + done.filtered;
        self.metrics.settled(Settled {
            written: done.written,
            skipped: done.skipped,
            filtered: done.filtered,
            failed: (read as u64).saturating_sub(settled),
        });
        result
    }

    async fn process_chunk(
        &mut self,
        sink: &mut dyn SinkTask,
        converters: &Stages,
        chunk: Vec<Result<BorrowedMessage<'_>, rdkafka::error::KafkaError>>,
        ledger: &mut Ledger,
    ) -> Result<(), Exit> {
        let mut records = Vec::with_capacity(chunk.len());
        let mut skipped: Vec<Failure> = Vec::new();
        // A conversion failure that is not tolerated: the records before it are still written.
        let mut fatal: Option<Failure> = None;
        // librdkafka reports a broker outage again and again (dozens of times in one chunk):
        // one line per chunk says what it was and how often.
        let mut consumer_errors: Option<(rdkafka::error::KafkaError, usize)> = None;
        for msg in chunk {
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    consumer_errors.get_or_insert((e, 0)).1 += 1;
                    continue;
                }
            };
            let topic = self.topics.get(msg.topic());
            // Started at the first transient failure: reading the clock per record costs.
            let mut retry: Option<Retry> = None;
            let intake = loop {
                match intake::convert(&msg, topic.clone(), converters).await {
                    Intake::Retry(e) => {
                        let problem = format!(
                            "converting record {}: {}",
                            intake::position(&msg, topic.clone()),
                            e.message
                        );
                        let retry = retry.get_or_insert_with(Retry::bounded_by_retry_timeout);
                        self.wait_retry(retry, problem).await?;
                    }
                    Intake::Record(r) => break Ok(Some(r)),
                    Intake::Filtered => break Ok(None),
                    Intake::Failed(f) => break Err(f),
                }
            };
            match intake {
                Ok(Some(r)) => {
                    ledger.read(&r.position);
                    records.push(r);
                }
                Ok(None) => {
                    // Dropped by a transform: acknowledged, not written.
                    let position = intake::position(&msg, topic);
                    ledger.read(&position);
                    ledger.mark(&position, Outcome::Filtered);
                }
                Err(f) => {
                    ledger.read(&f.position);
                    self.metrics.record_error();
                    if self.tolerance.tolerates(f.stage) {
                        skipped.push(f);
                    } else {
                        ledger.mark(&f.position, Outcome::Failed);
                        fatal = Some(f);
                        break;
                    }
                }
            }
        }
        if let Some((error, times)) = consumer_errors {
            tracing::warn!(%error, times, "consumer error");
        }
        let rejected = self.write(sink, &records).await?;
        let mut was_rejected = vec![false; records.len()];
        let mut failed: Vec<Failure> = Vec::new();
        for (index, r) in rejected {
            if let Some(flag) = was_rejected.get_mut(index) {
                *flag = true;
            }
            self.metrics.record_error();
            if self.tolerance.tolerates(r.stage) {
                skipped.push(r);
            } else {
                ledger.mark(&r.position, Outcome::Failed);
                failed.push(r);
            }
        }
        for (r, rejected) in records.iter().zip(was_rejected) {
            if !rejected {
                ledger.mark(&r.position, Outcome::Written);
            }
        }
        for f in &skipped {
            if let Err(exit) = self.dead_letter(f).await {
                // What was written before still counts; nothing from this record on.
                ledger.mark(&f.position, Outcome::Failed);
                self.acknowledge(ledger);
                return Err(exit);
            }
            ledger.mark(&f.position, Outcome::Skipped);
        }
        self.acknowledge(ledger);
        // The first failure in read order ends the task; nothing past any failure is committed.
        let first = failed.into_iter().next().or(fatal);
        match first {
            Some(f) => Err(Exit::Failed(
                f.trace(&self.spec.connector, self.spec.task_id),
            )),
            None => Ok(()),
        }
    }

    /// Puts records, retrying transient failures with exponential backoff. Returns the records
    /// the sink rejected permanently, with their index in `records`.
    async fn write(
        &mut self,
        sink: &mut dyn SinkTask,
        records: &[SinkRecord],
    ) -> Result<Vec<(usize, Failure)>, Exit> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut retry = Retry::new();
        let mut retrying = false;
        loop {
            let started = Instant::now();
            let result = sink.put(records).await;
            match result {
                Ok(rejected) => {
                    self.metrics.put(records.len(), started.elapsed());
                    if retrying {
                        tracing::info!("sink recovered");
                        self.set(State::Running, None);
                    }
                    return Ok(one_failure_per_record(rejected, records));
                }
                Err(e) if e.is_retriable() => {
                    retrying = true;
                    self.wait_retry(&mut retry, retry_problem(&e, records))
                        .await?;
                }
                Err(e) => {
                    return Err(Exit::Failed(format!(
                        "{CONNECT_EXCEPTION}: {}: {} (records from {} on)",
                        e.kind, e.message, records[0].position
                    )));
                }
            }
        }
    }

    /// Logs a skipped record and, when a DLQ is configured, produces it there and waits for
    /// the acknowledgement (retrying broker outages) before its offset may be committed.
    async fn dead_letter(&mut self, f: &Failure) -> Result<(), Exit> {
        if self.tolerance.log_enabled {
            self.metrics.error_logged();
            if self.tolerance.log_messages {
                tracing::error!(position = %f.position, stage = f.stage.as_connect_str(), error = %f.message, key = ?f.raw.key, value = ?f.raw.value, "record skipped (error tolerance)");
            } else {
                tracing::error!(position = %f.position, stage = f.stage.as_connect_str(), error = %f.message, "record skipped (error tolerance)");
            }
        }
        let mut retry = Retry::new();
        loop {
            let Some(dlq) = &self.dlq else { return Ok(()) };
            let sent = dlq.send(f).await;
            self.metrics.dead_letter(sent.is_ok());
            match sent {
                Ok(()) => return Ok(()),
                Err(e) if !e.is_retriable() => {
                    return Err(Exit::Failed(format!("{CONNECT_EXCEPTION}: {e}")))
                }
                Err(e) => self.wait_retry(&mut retry, e.to_string()).await?,
            }
        }
    }

    /// Publishes what the ledger allows to be committed (read by the flush and by the
    /// rebalance callback).
    fn acknowledge(&mut self, ledger: &Ledger) {
        let mut acked = self.acked.lock().unwrap_or_else(|p| p.into_inner());
        for ((topic, partition), next) in ledger.committable() {
            let at = acked.entry((topic.to_string(), partition)).or_insert(next);
            *at = (*at).max(next);
        }
    }
}

/// The sink's rejections as failures, one per record in the order of `records`: a record
/// rejected by several tables (or statements) is one failure whose message names them all.
fn one_failure_per_record(
    rejected: Vec<RecordFailure>,
    records: &[SinkRecord],
) -> Vec<(usize, Failure)> {
    let mut by_index: BTreeMap<usize, Failure> = BTreeMap::new();
    for r in rejected {
        let Some(rec) = records.get(r.index) else {
            tracing::warn!(
                index = r.index,
                "the sink rejected a record it was not given"
            );
            continue;
        };
        match by_index.entry(r.index) {
            std::collections::btree_map::Entry::Occupied(mut f) => {
                let f = f.get_mut();
                f.message.push_str("; ");
                f.message.push_str(&r.error.message);
            }
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Failure {
                    position: rec.position.clone(),
                    stage: Stage::Task,
                    kind: r.error.kind.to_string(),
                    message: r.error.message,
                    raw: intake::raw_of(rec),
                });
            }
        }
    }
    by_index.into_iter().collect()
}

fn retry_problem(e: &SinkError, records: &[SinkRecord]) -> String {
    let first = records
        .first()
        .map(|r| r.position.to_string())
        .unwrap_or_default();
    format!("{}: {} (batch starting at {first})", e.kind, e.message)
}
