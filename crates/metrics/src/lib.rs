//! The worker's metrics: `GET /metrics` (OpenMetrics text, Kafka Connect's sink-task,
//! connector-task, task-error, worker and connector metrics under the names the Prometheus
//! JMX exporter gives them, plus cassink's own) and the per-connector flow the console shows
//! (`GET /metrics/connectors`). The names are listed in `docs/metrics.md`.
//!
//! Tasks count through a [`TaskMetrics`] handle; the REST layer hands the statuses of what
//! the worker runs to [`Metrics::encode_with`] at each scrape.
//!
//! ```no_run
//! use cassink_metrics::{Settled, TaskMetrics};
//! use std::time::Duration;
//! let m = TaskMetrics::for_task("weather", 0);
//! m.read(500);
//! m.put(500, Duration::from_millis(12));
//! m.settled(Settled { written: 500, ..Settled::default() });
//! m.set_committed_offset("weather", 2, 1_234);
//! m.set_end_offset("weather", 2, 1_251, 1_234);
//! ```
//!
//! Crate `cassink-metrics`. May depend on nothing of cassink's (the worker hands it the
//! statuses it reports).

mod exposition;
mod flow;
mod task;
mod window;

pub use flow::{Flow, Latency, Rates, RecordCounts};
pub use task::{Settled, TaskMetrics};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};
use task::TaskStats;

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

/// What is known of one partition a task holds. The task knows its own commits at once;
/// the high watermark and the broker's committed offset come with the client's statistics,
/// every few seconds, so each figure is read as the newest of what the two say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionGauges {
    /// Next offset to read, as last committed by the task.
    committed: Option<i64>,
    /// The high watermark, as of the last statistics.
    high_watermark: Option<i64>,
    /// The committed offset the broker reported in the last statistics.
    broker_committed: Option<i64>,
}

impl PartitionGauges {
    /// The committed offset: the task's last commit, or the broker's if newer (a commit
    /// made before a rebalance handed the partition here).
    pub fn committed(&self) -> Option<i64> {
        self.committed.max(self.broker_committed)
    }

    /// The end offset; never behind the committed offset (the statistics may be older).
    pub fn end(&self) -> Option<i64> {
        let end = self.high_watermark?;
        Some(self.committed().map_or(end, |c| end.max(c)))
    }

    /// Records between the committed offset and the end.
    pub fn lag(&self) -> Option<i64> {
        Some(self.end()? - self.committed()?)
    }

    fn set_committed(&mut self, offset: i64) {
        self.committed = Some(offset);
    }

    fn set_statistics(&mut self, high_watermark: i64, broker_committed: i64) {
        self.high_watermark = Some(high_watermark);
        self.broker_committed = Some(broker_committed);
    }
}

/// A state of a connector or task, as the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Paused,
    Stopped,
    Failed,
    Unassigned,
    Restarting,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
            Status::Failed => "failed",
            Status::Unassigned => "unassigned",
            Status::Restarting => "restarting",
        }
    }
}

/// The connectors and tasks this worker runs, at the time of a scrape.
#[derive(Debug, Clone, Default)]
pub struct WorkerView {
    pub connectors: Vec<ConnectorView>,
}

#[derive(Debug, Clone)]
pub struct ConnectorView {
    pub name: String,
    /// The connector's state when this worker runs the connector itself.
    pub status: Option<Status>,
    /// The tasks this worker runs.
    pub tasks: Vec<(u32, Status)>,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

type HistogramFamily = Family<TaskLabels, Histogram, fn() -> Histogram>;

/// Every metric of the worker.
pub struct Metrics {
    registry: Registry,
    write_latency: HistogramFamily,
    tasks: Mutex<BTreeMap<TaskLabels, Arc<TaskStats>>>,
    partitions: Mutex<BTreeMap<PartitionLabels, PartitionGauges>>,
    /// The statuses handed over by the last scrape.
    view: Mutex<WorkerView>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let write_latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "cassink_write_latency_seconds",
            "Time for Cassandra to acknowledge one batch",
            write_latency.clone(),
        );
        registry.register_collector(Box::new(exposition::Exposition));
        Self {
            registry,
            write_latency,
            tasks: Mutex::new(BTreeMap::new()),
            partitions: Mutex::new(BTreeMap::new()),
            view: Mutex::new(WorkerView::default()),
        }
    }

    /// The OpenMetrics text of every metric, with the statuses of the last
    /// [`encode_with`](Self::encode_with).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// The OpenMetrics text of every metric, with the statuses of `view`.
    pub fn encode_with(&self, view: WorkerView) -> String {
        *lock(&self.view) = view;
        self.encode()
    }

    /// Drops every series of one connector (on delete).
    pub fn remove_connector(&self, connector: &str) {
        let tasks: Vec<TaskLabels> = {
            let mut tasks = lock(&self.tasks);
            let gone = tasks
                .keys()
                .filter(|l| l.connector == connector)
                .cloned()
                .collect();
            tasks.retain(|l, _| l.connector != connector);
            gone
        };
        for labels in &tasks {
            self.write_latency.remove(labels);
        }
        lock(&self.partitions).retain(|l, _| l.connector != connector);
    }

    /// What one connector's tasks on this worker read, wrote, skipped and hold.
    pub fn flow(&self, connector: &str) -> Flow {
        let tasks: Vec<(u32, Arc<TaskStats>)> = lock(&self.tasks)
            .iter()
            .filter(|(l, _)| l.connector == connector)
            .map(|(l, s)| (l.task, s.clone()))
            .collect();
        let partitions: Vec<(PartitionLabels, PartitionGauges)> = lock(&self.partitions)
            .iter()
            .filter(|(l, _)| l.connector == connector)
            .map(|(l, p)| (l.clone(), *p))
            .collect();
        flow::of(connector, &tasks, &partitions)
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn value(text: &str, line_start: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    }

    #[test]
    fn offsets_are_the_newest_of_the_tasks_commit_and_the_statistics() {
        let mut p = PartitionGauges::default();
        p.set_statistics(319, 309);
        // Committed after the statistics were taken: ahead of their high watermark.
        p.set_committed(320);
        assert_eq!(
            (p.committed(), p.end(), p.lag()),
            (Some(320), Some(320), Some(0))
        );
        // Newer statistics: records arrived since.
        p.set_statistics(340, 320);
        assert_eq!(
            (p.committed(), p.end(), p.lag()),
            (Some(320), Some(340), Some(20))
        );
        // Before the task committed anything, the broker's commit (a previous owner's).
        let mut q = PartitionGauges::default();
        q.set_statistics(100, 60);
        assert_eq!(
            (q.committed(), q.end(), q.lag()),
            (Some(60), Some(100), Some(40))
        );
    }

    #[test]
    fn task_counts_show_up_under_connect_and_cassink_names() {
        let m = TaskMetrics::for_task("metrics-test", 3);
        m.read(7);
        m.put(5, Duration::from_millis(20));
        m.settled(Settled {
            written: 5,
            filtered: 1,
            ..Settled::default()
        });
        m.set_committed_offset("t", 1, 42);
        m.set_end_offset("t", 1, 50, 42);
        let text = global().encode_with(WorkerView {
            connectors: vec![ConnectorView {
                name: "metrics-test".into(),
                status: Some(Status::Running),
                tasks: vec![(3, Status::Running)],
            }],
        });
        let task = r#"{connector="metrics-test",task="3"}"#;
        assert_eq!(
            value(
                &text,
                &format!("kafka_connect_sink_task_sink_record_read_total{task}")
            ),
            Some(7.0),
            "{text}"
        );
        assert_eq!(
            value(
                &text,
                &format!("kafka_connect_sink_task_sink_record_send_total{task}")
            ),
            Some(5.0)
        );
        assert_eq!(
            value(
                &text,
                &format!("kafka_connect_sink_task_put_batch_max_time_ms{task}")
            ),
            Some(20.0)
        );
        assert_eq!(
            value(&text, &format!("cassink_records_in_flight{task}")),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"cassink_lag{connector="metrics-test",task="3",topic="t",partition="1"}"#
            ),
            Some(8.0)
        );
        assert_eq!(
            value(
                &text,
                r#"kafka_connect_connector_task_status{connector="metrics-test",task="3",status="running"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"kafka_connect_worker_connector_running_task_count{connector="metrics-test"}"#
            ),
            Some(1.0)
        );
        let flow = global().flow("metrics-test");
        assert_eq!(flow.records.read, 7);
        assert_eq!(flow.records.in_flight, 1);
        assert_eq!(flow.partitions.len(), 1);
        global().remove_connector("metrics-test");
        let text = global().encode_with(WorkerView::default());
        assert!(!text.contains("metrics-test"), "{text}");
    }
}
