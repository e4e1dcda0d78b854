//! The OpenMetrics text of the task counters, the partitions and the statuses, written at
//! each scrape from what the tasks counted (so a rate or an in-flight count is as of now).

use super::flow::counts;
use super::task::TaskStats;
use super::{global, lock, PartitionGauges, PartitionLabels, Status, TaskLabels, WorkerView};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug)]
pub(super) struct Exposition;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorLabels {
    connector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectorStatusLabels {
    connector: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskStatusLabels {
    connector: String,
    task: u32,
    status: &'static str,
}

/// One task's figures at the time of the scrape. Windowed figures without any value in the
/// window are NaN, as Connect's are.
#[derive(Debug, Default)]
struct Snapshot {
    read: u64,
    sent: u64,
    written: u64,
    skipped: u64,
    failed: u64,
    filtered: u64,
    in_flight: u64,
    dead_lettered: u64,
    batches: u64,
    record_errors: u64,
    record_failures: u64,
    retries: u64,
    errors_logged: u64,
    dead_letter_requests: u64,
    dead_letter_failures: u64,
    last_error_ms: f64,
    commits: u64,
    commits_succeeded: u64,
    partition_count: u64,
    lag_max: f64,
    read_rate: f64,
    send_rate: f64,
    commit_completion_rate: f64,
    put_avg_ms: f64,
    put_max_ms: f64,
    commit_avg_ms: f64,
    commit_max_ms: f64,
    commit_success: f64,
    commit_failure: f64,
    batch_size_avg: f64,
    batch_size_max: f64,
}

fn or_nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

impl Snapshot {
    fn of(s: &TaskStats, lag_max: Option<i64>, now: Instant) -> Snapshot {
        let r = counts(s);
        let c = &s.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::SeqCst);
        let w = lock(&s.windows);
        Snapshot {
            read: r.read,
            sent: load(&c.sent),
            written: r.written,
            skipped: r.skipped,
            failed: r.failed,
            filtered: r.filtered,
            in_flight: r.in_flight,
            dead_lettered: r.dead_lettered,
            batches: load(&c.batches),
            record_errors: load(&c.record_errors),
            record_failures: load(&c.record_failures),
            retries: load(&c.retries),
            errors_logged: load(&c.errors_logged),
            dead_letter_requests: load(&c.dead_letter_requests),
            dead_letter_failures: load(&c.dead_letter_failures),
            last_error_ms: c.last_error_ms.load(Ordering::SeqCst) as f64,
            commits: load(&c.commits),
            commits_succeeded: load(&c.commits_succeeded),
            partition_count: load(&c.partitions_assigned),
            lag_max: lag_max.map_or(f64::NAN, |l| l as f64),
            read_rate: w.read.rate(now),
            send_rate: w.sent.rate(now),
            commit_completion_rate: w.commit_succeeded.rate(now),
            put_avg_ms: or_nan(w.put_ms.avg(now)),
            put_max_ms: or_nan(w.put_ms.max(now)),
            commit_avg_ms: or_nan(w.commit_ms.avg(now)),
            commit_max_ms: or_nan(w.commit_ms.max(now)),
            commit_success: or_nan(w.commit_succeeded.avg(now)),
            commit_failure: or_nan(w.commit_failed.avg(now)),
            batch_size_avg: or_nan(w.batch_size.avg(now)),
            batch_size_max: or_nan(w.batch_size.max(now)),
        }
    }
}

enum Value {
    Count(u64),
    Level(f64),
}

/// A per-task metric: its name, help and how to read it off a snapshot. A `Count` under a
/// name ending `_total` is a counter (the suffix is the encoder's); every other is a gauge,
/// as the JMX exporter renders Connect's attributes.
struct TaskMetric {
    name: &'static str,
    help: &'static str,
    value: fn(&Snapshot) -> Value,
}

macro_rules! task_metrics {
    ($($name:literal, $help:literal, |$s:ident| $value:expr;)*) => {
        &[$(TaskMetric { name: $name, help: $help, value: |$s| $value }),*]
    };
}

use Value::{Count, Level};

const TASK_METRICS: &[TaskMetric] = task_metrics![
    "kafka_connect_sink_task_sink_record_read_total", "Records read from Kafka by the task", |s| Count(s.read);
    "kafka_connect_sink_task_sink_record_read_rate", "Records read from Kafka per second", |s| Level(s.read_rate);
    "kafka_connect_sink_task_sink_record_send_total", "Records handed to the sink after the transforms", |s| Count(s.sent);
    "kafka_connect_sink_task_sink_record_send_rate", "Records handed to the sink per second", |s| Level(s.send_rate);
    "kafka_connect_sink_task_sink_record_active_count", "Records read but not yet written, skipped or filtered", |s| Level(s.in_flight as f64);
    "kafka_connect_sink_task_sink_record_lag_max", "The largest lag of the task's partitions", |s| Level(s.lag_max);
    "kafka_connect_sink_task_put_batch_avg_time_ms", "Average time of one put (a batch written to Cassandra)", |s| Level(s.put_avg_ms);
    "kafka_connect_sink_task_put_batch_max_time_ms", "Longest put", |s| Level(s.put_max_ms);
    "kafka_connect_sink_task_offset_commit_completion_total", "Offset commits that succeeded", |s| Count(s.commits_succeeded);
    "kafka_connect_sink_task_offset_commit_completion_rate", "Offset commits that succeeded, per second", |s| Level(s.commit_completion_rate);
    "kafka_connect_sink_task_offset_commit_seq_no", "Offset commits attempted", |s| Level(s.commits as f64);
    "kafka_connect_sink_task_partition_count", "Partitions assigned to the task", |s| Level(s.partition_count as f64);
    "kafka_connect_connector_task_offset_commit_avg_time_ms", "Average time of an offset commit", |s| Level(s.commit_avg_ms);
    "kafka_connect_connector_task_offset_commit_max_time_ms", "Longest offset commit", |s| Level(s.commit_max_ms);
    "kafka_connect_connector_task_offset_commit_success_percentage", "Share of offset commits that succeeded (0..1)", |s| Level(s.commit_success);
    "kafka_connect_connector_task_offset_commit_failure_percentage", "Share of offset commits that failed (0..1)", |s| Level(s.commit_failure);
    "kafka_connect_connector_task_batch_size_avg", "Average records per batch read", |s| Level(s.batch_size_avg);
    "kafka_connect_connector_task_batch_size_max", "Largest batch read", |s| Level(s.batch_size_max);
    "kafka_connect_task_error_total_record_errors", "Records that failed (converter, transform or write)", |s| Level(s.record_errors as f64);
    "kafka_connect_task_error_total_record_failures", "Failed attempts, retries included", |s| Level(s.record_failures as f64);
    "kafka_connect_task_error_total_records_skipped", "Records skipped by errors.tolerance=all", |s| Level(s.skipped as f64);
    "kafka_connect_task_error_total_retries", "Retries of transient failures", |s| Level(s.retries as f64);
    "kafka_connect_task_error_total_errors_logged", "Errors logged by errors.log.enable", |s| Level(s.errors_logged as f64);
    "kafka_connect_task_error_deadletterqueue_produce_requests", "Records sent to the dead-letter queue", |s| Level(s.dead_letter_requests as f64);
    "kafka_connect_task_error_deadletterqueue_produce_failures", "Dead-letter queue sends that failed", |s| Level(s.dead_letter_failures as f64);
    "kafka_connect_task_error_last_error_timestamp", "When the last error happened (ms since the epoch, 0: never)", |s| Level(s.last_error_ms);
    "cassink_records_read_total", "Records read", |s| Count(s.read);
    "cassink_records_written_total", "Records Cassandra acknowledged", |s| Count(s.written);
    "cassink_records_skipped_total", "Bad records skipped under errors.tolerance=all", |s| Count(s.skipped);
    "cassink_records_failed_total", "Records a failing task did not write (read again when it restarts)", |s| Count(s.failed);
    "cassink_records_filtered_total", "Records a transform dropped (committed, not written)", |s| Count(s.filtered);
    "cassink_records_in_flight", "Records read whose outcome is not known yet", |s| Level(s.in_flight as f64);
    "cassink_records_dead_lettered_total", "Skipped records the dead-letter queue acknowledged", |s| Count(s.dead_lettered);
    "cassink_batches_total", "Batches handed to the sink", |s| Count(s.batches);
];

fn encode_family<L: EncodeLabelSet>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (L, Value)>,
    counter: bool,
) -> fmt::Result {
    let kind = if counter {
        MetricType::Counter
    } else {
        MetricType::Gauge
    };
    let name = if counter {
        name.strip_suffix("_total").unwrap_or(name)
    } else {
        name
    };
    let mut family = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in rows {
        let mut series = family.encode_family(&labels)?;
        match value {
            Count(n) if counter => series.encode_counter::<NoLabelSet, _, u64>(&n, None)?,
            Count(n) => series.encode_gauge(&n)?,
            // A counter is never a level (checked by a test).
            Level(v) => series.encode_gauge(&v)?,
        }
    }
    Ok(())
}

fn status_counts(tasks: &[(u32, Status)]) -> BTreeMap<&'static str, u64> {
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (_, status) in tasks {
        *counts.entry(status.label()).or_default() += 1;
    }
    counts
}

fn encode_statuses(enc: &mut DescriptorEncoder, view: &WorkerView) -> fmt::Result {
    let unlabelled = |enc: &mut DescriptorEncoder, name, help, value: u64| -> fmt::Result {
        enc.encode_descriptor(name, help, None, MetricType::Gauge)?
            .encode_gauge(&value)
    };
    let running_here = view.connectors.iter().filter(|c| c.status.is_some());
    unlabelled(
        enc,
        "kafka_connect_worker_connector_count",
        "Connectors on this worker",
        running_here.count() as u64,
    )?;
    unlabelled(
        enc,
        "kafka_connect_worker_task_count",
        "Tasks on this worker",
        view.connectors.iter().map(|c| c.tasks.len() as u64).sum(),
    )?;
    for (state, help) in [
        ("running", "Running tasks of the connector on this worker"),
        ("paused", "Paused tasks of the connector on this worker"),
        ("failed", "Failed tasks of the connector on this worker"),
        (
            "unassigned",
            "Unassigned tasks of the connector on this worker",
        ),
        (
            "restarting",
            "Restarting tasks of the connector on this worker",
        ),
        ("total", "All tasks of the connector on this worker"),
    ] {
        let rows = view.connectors.iter().map(|c| {
            let n = match state {
                "total" => c.tasks.len() as u64,
                s => status_counts(&c.tasks).get(s).copied().unwrap_or(0),
            };
            (
                ConnectorLabels {
                    connector: c.name.clone(),
                },
                Level(n as f64),
            )
        });
        let name = format!("kafka_connect_worker_connector_{state}_task_count");
        encode_family(enc, &name, help, rows, false)?;
    }
    let connectors = view.connectors.iter().filter_map(|c| {
        let status = c.status?;
        Some((
            ConnectorStatusLabels {
                connector: c.name.clone(),
                status: status.label(),
            },
            Level(1.0),
        ))
    });
    encode_family(
        enc,
        "kafka_connect_connector_status",
        "1 for the connector's state (label status)",
        connectors,
        false,
    )?;
    let tasks = view.connectors.iter().flat_map(|c| {
        c.tasks.iter().map(|(task, status)| {
            (
                TaskStatusLabels {
                    connector: c.name.clone(),
                    task: *task,
                    status: status.label(),
                },
                Level(1.0),
            )
        })
    });
    encode_family(
        enc,
        "kafka_connect_connector_task_status",
        "1 for the task's state (label status)",
        tasks,
        false,
    )
}

fn encode_partitions(
    enc: &mut DescriptorEncoder,
    partitions: &BTreeMap<PartitionLabels, PartitionGauges>,
) -> fmt::Result {
    type Read = fn(&PartitionGauges) -> Option<i64>;
    let gauges: [(&str, &str, Read); 3] = [
        (
            "cassink_committed_offset",
            "Next offset to read, as committed to the connector's group",
            |p| p.committed(),
        ),
        (
            "cassink_end_offset",
            "The partition's high watermark",
            |p| p.end(),
        ),
        (
            "cassink_lag",
            "Records between the committed offset and the high watermark",
            |p| p.lag(),
        ),
    ];
    for (name, help, read) in gauges {
        let rows = partitions
            .iter()
            .filter_map(|(l, p)| Some((l.clone(), Level(read(p)? as f64))));
        encode_family(enc, name, help, rows, false)?;
    }
    Ok(())
}

impl Collector for Exposition {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let m = global();
        let now = Instant::now();
        let tasks: Vec<(TaskLabels, Arc<TaskStats>)> = lock(&m.tasks)
            .iter()
            .map(|(l, s)| (l.clone(), s.clone()))
            .collect();
        let partitions = lock(&m.partitions).clone();
        let view = lock(&m.view).clone();
        let snapshots: Vec<(TaskLabels, Snapshot)> = tasks
            .iter()
            .map(|(l, s)| {
                let lag_max = partitions
                    .iter()
                    .filter(|(p, _)| p.connector == l.connector && p.task == l.task)
                    .filter_map(|(_, g)| g.lag())
                    .max();
                (l.clone(), Snapshot::of(s, lag_max, now))
            })
            .collect();
        for metric in TASK_METRICS {
            let counter = metric.name.ends_with("_total");
            let rows = snapshots
                .iter()
                .map(|(l, s)| (l.clone(), (metric.value)(s)));
            encode_family(&mut enc, metric.name, metric.help, rows, counter)?;
        }
        encode_partitions(&mut enc, &partitions)?;
        encode_statuses(&mut enc, &view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ending_in_total_are_counts() {
        let s = Snapshot::default();
        for m in TASK_METRICS {
            if m.name.ends_with("_total") {
                assert!(matches!((m.value)(&s), Count(_)), "{}", m.name);
            }
        }
    }

    #[test]
    fn every_name_is_documented() {
        let docs = include_str!("../../../docs/metrics.md");
        for m in TASK_METRICS {
            assert!(
                docs.contains(&format!("`{}`", m.name)),
                "{} is not in docs/metrics.md",
                m.name
            );
        }
    }
}
