//! Prometheus metrics (`GET /metrics`): one process-wide registry, and typed per-task
//! handles the task runtime updates.
//!
//! ```no_run
//! use cassink::metrics::TaskMetrics;
//! let m = TaskMetrics::for_task("weather", 0);
//! m.records_polled.inc_by(500);
//! m.batches.inc();
//! m.write_latency.observe(0.012);
//! m.records_written.inc_by(500);
//! m.set_committed_offset("weather", 2, 1_234);
//! m.set_lag("weather", 2, 17);
//! ```

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct TaskLabels {
    pub connector: String,
    pub task: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct PartitionLabels {
    pub connector: String,
    pub task: u32,
    pub topic: String,
    pub partition: i32,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

type HistogramFamily = Family<TaskLabels, Histogram, fn() -> Histogram>;

/// Every metric family of the worker.
pub struct Metrics {
    registry: Registry,
    records_polled: Family<TaskLabels, Counter>,
    records_written: Family<TaskLabels, Counter>,
    records_failed: Family<TaskLabels, Counter>,
    records_filtered: Family<TaskLabels, Counter>,
    batches: Family<TaskLabels, Counter>,
    write_latency: HistogramFamily,
    committed_offset: Family<PartitionLabels, Gauge>,
    lag: Family<PartitionLabels, Gauge>,
    /// Label sets handed out, so a connector's series can be removed (families cannot be
    /// iterated).
    tasks: Mutex<BTreeSet<TaskLabels>>,
    partitions: Mutex<BTreeSet<PartitionLabels>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

trait ExtractConnector {
    fn extract_if_connector(&mut self, connector: &str) -> std::vec::IntoIter<TaskLabels>;
}

impl ExtractConnector for BTreeSet<TaskLabels> {
    fn extract_if_connector(&mut self, connector: &str) -> std::vec::IntoIter<TaskLabels> {
        let gone: Vec<_> = self
            .iter()
            .filter(|l| l.connector == connector)
            .cloned()
            .collect();
        self.retain(|l| l.connector != connector);
        gone.into_iter()
    }
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("cassink");
        let records_polled = Family::<TaskLabels, Counter>::default();
        let records_written = Family::<TaskLabels, Counter>::default();
        let records_failed = Family::<TaskLabels, Counter>::default();
        let records_filtered = Family::<TaskLabels, Counter>::default();
        let batches = Family::<TaskLabels, Counter>::default();
        let write_latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let committed_offset = Family::<PartitionLabels, Gauge>::default();
        let lag = Family::<PartitionLabels, Gauge>::default();
        registry.register(
            "records_polled",
            "Records read from Kafka by a task",
            records_polled.clone(),
        );
        registry.register(
            "records_written",
            "Records acknowledged by the sink",
            records_written.clone(),
        );
        registry.register(
            "records_failed",
            "Records that failed permanently (tolerated, sent to the DLQ, or failing the task)",
            records_failed.clone(),
        );
        registry.register(
            "records_filtered",
            "Records a transform dropped (acknowledged, not written)",
            records_filtered.clone(),
        );
        registry.register("batches", "Batches handed to the sink", batches.clone());
        registry.register(
            "write_latency_seconds",
            "Time for the sink to acknowledge one batch",
            write_latency.clone(),
        );
        registry.register(
            "committed_offset",
            "Next offset to read, as committed to the connector's consumer group",
            committed_offset.clone(),
        );
        registry.register(
            "lag",
            "Records between the committed offset and the partition's high watermark",
            lag.clone(),
        );
        Self {
            registry,
            records_polled,
            records_written,
            records_failed,
            records_filtered,
            batches,
            write_latency,
            committed_offset,
            lag,
            tasks: Mutex::new(BTreeSet::new()),
            partitions: Mutex::new(BTreeSet::new()),
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Drops every series of one connector (on delete).
    pub fn remove_connector(&self, connector: &str) {
        let tasks: Vec<TaskLabels> = lock(&self.tasks).extract_if_connector(connector).collect();
        for labels in &tasks {
            self.records_polled.remove(labels);
            self.records_written.remove(labels);
            self.records_failed.remove(labels);
            self.records_filtered.remove(labels);
            self.batches.remove(labels);
            self.write_latency.remove(labels);
        }
        let partitions: Vec<PartitionLabels> = {
            let mut known = lock(&self.partitions);
            let gone: Vec<_> = known
                .iter()
                .filter(|l| l.connector == connector)
                .cloned()
                .collect();
            known.retain(|l| l.connector != connector);
            gone
        };
        for labels in &partitions {
            self.committed_offset.remove(labels);
            self.lag.remove(labels);
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

/// One task's metric handles. Cheap to clone; every handle writes to the global registry.
#[derive(Clone)]
pub struct TaskMetrics {
    pub connector: String,
    pub task: u32,
    pub records_polled: Counter,
    pub records_written: Counter,
    pub records_failed: Counter,
    pub records_filtered: Counter,
    pub batches: Counter,
    /// Seconds per batch write.
    pub write_latency: Histogram,
}

impl TaskMetrics {
    pub fn for_task(connector: &str, task: u32) -> Self {
        let m = global();
        let labels = TaskLabels {
            connector: connector.to_string(),
            task,
        };
        lock(&m.tasks).insert(labels.clone());
        Self {
            connector: connector.to_string(),
            task,
            records_polled: m.records_polled.get_or_create(&labels).clone(),
            records_written: m.records_written.get_or_create(&labels).clone(),
            records_failed: m.records_failed.get_or_create(&labels).clone(),
            records_filtered: m.records_filtered.get_or_create(&labels).clone(),
            batches: m.batches.get_or_create(&labels).clone(),
            write_latency: m.write_latency.get_or_create(&labels).clone(),
        }
    }

    fn partition(&self, topic: &str, partition: i32) -> PartitionLabels {
        let labels = PartitionLabels {
            connector: self.connector.clone(),
            task: self.task,
            topic: topic.to_string(),
            partition,
        };
        lock(&global().partitions).insert(labels.clone());
        labels
    }

    /// Records the offset just committed for `topic`/`partition` (the next offset to read).
    pub fn set_committed_offset(&self, topic: &str, partition: i32, offset: i64) {
        global()
            .committed_offset
            .get_or_create(&self.partition(topic, partition))
            .set(offset);
    }

    /// Records the lag (high watermark minus committed offset) of `topic`/`partition`.
    pub fn set_lag(&self, topic: &str, partition: i32, lag: i64) {
        global()
            .lag
            .get_or_create(&self.partition(topic, partition))
            .set(lag);
    }

    /// Forgets a partition's gauges (after a rebalance revoked it).
    pub fn remove_partition(&self, topic: &str, partition: i32) {
        let labels = self.partition(topic, partition);
        lock(&global().partitions).remove(&labels);
        global().committed_offset.remove(&labels);
        global().lag.remove(&labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_metrics_show_up_in_the_exposition() {
        let m = TaskMetrics::for_task("metrics-test", 3);
        m.records_polled.inc_by(7);
        m.write_latency.observe(0.02);
        m.set_committed_offset("t", 1, 42);
        let text = global().encode();
        assert!(
            text.contains("cassink_records_polled_total{connector=\"metrics-test\",task=\"3\"} 7"),
            "{text}"
        );
        assert!(text.contains("cassink_committed_offset{connector=\"metrics-test\",task=\"3\",topic=\"t\",partition=\"1\"} 42"));
        global().remove_connector("metrics-test");
        assert!(!global().encode().contains("metrics-test"));
    }
}
