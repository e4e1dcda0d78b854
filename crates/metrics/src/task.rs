//! What one sink task counts, and the handle the task runtime updates it through.

use super::window::Window;
use super::{global, lock, PartitionLabels, TaskLabels};
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A task's counters since the worker started (a restarted task goes on counting).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub read: AtomicU64,
    pub sent: AtomicU64,
    pub written: AtomicU64,
    pub skipped: AtomicU64,
    pub filtered: AtomicU64,
    pub failed: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub batches: AtomicU64,
    pub record_errors: AtomicU64,
    pub record_failures: AtomicU64,
    pub retries: AtomicU64,
    pub errors_logged: AtomicU64,
    pub dead_letter_requests: AtomicU64,
    pub dead_letter_failures: AtomicU64,
    /// Milliseconds since the epoch; 0: never.
    pub last_error_ms: AtomicI64,
    pub commits: AtomicU64,
    pub commits_succeeded: AtomicU64,
    pub partitions_assigned: AtomicU64,
}

/// The windowed statistics of a task (Connect's rates, averages and maxima).
#[derive(Debug)]
pub(super) struct Windows {
    pub read: Window,
    pub sent: Window,
    pub written: Window,
    pub put_ms: Window,
    pub batch_size: Window,
    pub commit_ms: Window,
    pub commit_succeeded: Window,
    pub commit_failed: Window,
}

impl Windows {
    fn new(now: Instant) -> Windows {
        Windows {
            read: Window::new(now),
            sent: Window::new(now),
            written: Window::new(now),
            put_ms: Window::new(now),
            batch_size: Window::new(now),
            commit_ms: Window::new(now),
            commit_succeeded: Window::new(now),
            commit_failed: Window::new(now),
        }
    }
}

#[derive(Debug)]
pub(super) struct TaskStats {
    pub counters: Counters,
    pub windows: Mutex<Windows>,
}

impl TaskStats {
    pub(super) fn new() -> TaskStats {
        TaskStats {
            counters: Counters::default(),
            windows: Mutex::new(Windows::new(Instant::now())),
        }
    }

    /// Records read whose outcome is not known yet. The outcomes are read before the
    /// records read, which are counted first: never negative.
    pub(super) fn in_flight(&self) -> u64 {
        let c = &self.counters;
        let settled = c.written.load(Ordering::SeqCst)
            + c.skipped.load(Ordering::SeqCst)
            + c.filtered.load(Ordering::SeqCst)
            + c.failed.load(Ordering::SeqCst);
        c.read.load(Ordering::SeqCst).saturating_sub(settled)
    }
}

/// What became of the records of one batch read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub written: u64,
    pub skipped: u64,
    pub filtered: u64,
    /// Not written because of a failure: the task failed, or was stopped while it retried.
    pub failed: u64,
}

/// One task's metric handles. Cheap to clone; every handle writes to the global registry.
#[derive(Clone)]
pub struct TaskMetrics {
    pub connector: String,
    pub task: u32,
    stats: Arc<TaskStats>,
    /// Seconds per batch write.
    write_latency: Histogram,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::SeqCst);
}

impl TaskMetrics {
    pub fn for_task(connector: &str, task: u32) -> Self {
        let m = global();
        let labels = TaskLabels {
            connector: connector.to_string(),
            task,
        };
        let stats = lock(&m.tasks)
            .entry(labels.clone())
            .or_insert_with(|| Arc::new(TaskStats::new()))
            .clone();
        Self {
            connector: connector.to_string(),
            task,
            stats,
            write_latency: m.write_latency.get_or_create(&labels).clone(),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, Windows> {
        lock(&self.stats.windows)
    }

    /// A batch of `records` was read from Kafka.
    pub fn read(&self, records: usize) {
        let n = records as u64;
        add(&self.stats.counters.read, n);
        let now = Instant::now();
        let mut w = self.windows();
        w.read.record(n as f64, now);
        w.batch_size.record(n as f64, now);
    }

    /// The outcomes of the records of a batch read.
    pub fn settled(&self, s: Settled) {
        let c = &self.stats.counters;
        add(&c.written, s.written);
        add(&c.skipped, s.skipped);
        add(&c.filtered, s.filtered);
        add(&c.failed, s.failed);
        self.windows()
            .written
            .record(s.written as f64, Instant::now());
    }

    /// The sink took `records` in `elapsed` (one `put`, successful).
    pub fn put(&self, records: usize, elapsed: Duration) {
        let c = &self.stats.counters;
        add(&c.sent, records as u64);
        add(&c.batches, 1);
        self.write_latency.observe(elapsed.as_secs_f64());
        let now = Instant::now();
        let mut w = self.windows();
        w.sent.record(records as f64, now);
        w.put_ms.record(elapsed.as_secs_f64() * 1e3, now);
    }

    /// A record failed (a converter, a transform or the sink rejected it).
    pub fn record_error(&self) {
        let c = &self.stats.counters;
        add(&c.record_errors, 1);
        add(&c.record_failures, 1);
        c.last_error_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::SeqCst);
    }

    /// An operation failed transiently and is tried again.
    pub fn retry(&self) {
        let c = &self.stats.counters;
        add(&c.retries, 1);
        add(&c.record_failures, 1);
        c.last_error_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::SeqCst);
    }

    /// An error was logged by `errors.log.enable`.
    pub fn error_logged(&self) {
        add(&self.stats.counters.errors_logged, 1);
    }

    /// A record was sent to the dead-letter queue: `acknowledged` or not.
    pub fn dead_letter(&self, acknowledged: bool) {
        let c = &self.stats.counters;
        add(&c.dead_letter_requests, 1);
        if acknowledged {
            add(&c.dead_lettered, 1);
        } else {
            add(&c.dead_letter_failures, 1);
        }
    }

    /// An offset commit ended, `succeeded` or not, in `elapsed`.
    pub fn offset_commit(&self, succeeded: bool, elapsed: Duration) {
        let c = &self.stats.counters;
        add(&c.commits, 1);
        if succeeded {
            add(&c.commits_succeeded, 1);
        }
        let now = Instant::now();
        let mut w = self.windows();
        w.commit_ms.record(elapsed.as_secs_f64() * 1e3, now);
        w.commit_succeeded
            .record(if succeeded { 1.0 } else { 0.0 }, now);
        w.commit_failed
            .record(if succeeded { 0.0 } else { 1.0 }, now);
    }

    /// How many partitions the group assigns to the task now.
    pub fn set_partition_count(&self, partitions: usize) {
        self.stats
            .counters
            .partitions_assigned
            .store(partitions as u64, Ordering::SeqCst);
    }

    fn partition(&self, topic: &str, partition: i32) -> PartitionLabels {
        PartitionLabels {
            connector: self.connector.clone(),
            task: self.task,
            topic: topic.to_string(),
            partition,
        }
    }

    /// Records the offset just committed for `topic`/`partition` (the next offset to read).
    pub fn set_committed_offset(&self, topic: &str, partition: i32, offset: i64) {
        lock(&global().partitions)
            .entry(self.partition(topic, partition))
            .or_default()
            .set_committed(offset);
    }

    /// Records the high watermark of `topic`/`partition` and the committed offset the broker
    /// knows, from which the lag is computed.
    pub fn set_end_offset(&self, topic: &str, partition: i32, end: i64, committed: i64) {
        let mut partitions = lock(&global().partitions);
        let p = partitions
            .entry(self.partition(topic, partition))
            .or_default();
        p.set_statistics(end, committed);
    }

    /// Forgets the gauges of every partition of the task (it stopped: their next owner
    /// reports them).
    pub fn forget_partitions(&self) {
        lock(&global().partitions)
            .retain(|l, _| !(l.connector == self.connector && l.task == self.task));
        self.set_partition_count(0);
    }

    /// Forgets a partition's gauges (a rebalance moved it to another task or worker).
    pub fn remove_partition(&self, topic: &str, partition: i32) {
        lock(&global().partitions).remove(&self.partition(topic, partition));
    }
}
