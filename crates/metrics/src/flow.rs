//! The flow of one connector on this worker, as the console shows it
//! (`GET /metrics/connectors/{name}`): the reconciliation counts, rates, write latency and
//! the partitions with their offsets and lag.

use super::task::TaskStats;
use super::{lock, PartitionGauges, PartitionLabels};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// `read = written + skipped + failed + filtered + in_flight`, at any moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub read: u64,
    pub written: u64,
    pub skipped: u64,
    pub failed: u64,
    pub filtered: u64,
    pub in_flight: u64,
    /// Of the skipped records, those the dead-letter queue acknowledged.
    pub dead_lettered: u64,
}

impl std::ops::AddAssign for RecordCounts {
    fn add_assign(&mut self, o: RecordCounts) {
        self.read += o.read;
        self.written += o.written;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.filtered += o.filtered;
        self.in_flight += o.in_flight;
        self.dead_lettered += o.dead_lettered;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rates {
    pub read_per_s: f64,
    pub written_per_s: f64,
}

/// Time of one `put` over the last 30 to 60 s; `null` without any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub avg: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskFlow {
    pub task: u32,
    pub records: RecordCounts,
    pub rates: Rates,
    pub write_latency_ms: Latency,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionFlow {
    pub topic: String,
    pub partition: i32,
    pub task: u32,
    pub committed_offset: Option<i64>,
    pub end_offset: Option<i64>,
    pub lag: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub connector: String,
    pub records: RecordCounts,
    pub rates: Rates,
    pub write_latency_ms: Latency,
    pub tasks: Vec<TaskFlow>,
    pub partitions: Vec<PartitionFlow>,
}

pub(super) fn counts(s: &TaskStats) -> RecordCounts {
    // The outcomes first (in_flight reads them before `read`): the sum never exceeds `read`.
    let in_flight = s.in_flight();
    let c = &s.counters;
    let written = c.written.load(Ordering::SeqCst);
    let skipped = c.skipped.load(Ordering::SeqCst);
    let failed = c.failed.load(Ordering::SeqCst);
    let filtered = c.filtered.load(Ordering::SeqCst);
    RecordCounts {
        read: written + skipped + failed + filtered + in_flight,
        written,
        skipped,
        failed,
        filtered,
        in_flight,
        dead_lettered: c.dead_lettered.load(Ordering::SeqCst),
    }
}

/// A task's flow, and the count and sum of its `put` times (to average over tasks).
fn task_flow(task: u32, s: &TaskStats, now: Instant) -> (TaskFlow, (u64, f64)) {
    let w = lock(&s.windows);
    let flow = TaskFlow {
        task,
        records: counts(s),
        rates: Rates {
            read_per_s: w.read.rate(now),
            written_per_s: w.written.rate(now),
        },
        write_latency_ms: Latency {
            avg: w.put_ms.avg(now),
            max: w.put_ms.max(now),
        },
    };
    (flow, w.put_ms.count_and_sum(now))
}

pub(super) fn of(
    connector: &str,
    tasks: &[(u32, Arc<TaskStats>)],
    partitions: &[(PartitionLabels, PartitionGauges)],
) -> Flow {
    let now = Instant::now();
    let mut records = RecordCounts::default();
    let mut rates = Rates::default();
    let (mut puts, mut put_ms) = (0u64, 0.0);
    let mut max: Option<f64> = None;
    let mut flows = Vec::with_capacity(tasks.len());
    for (id, stats) in tasks {
        let (t, (count, sum)) = task_flow(*id, stats, now);
        records += t.records;
        rates.read_per_s += t.rates.read_per_s;
        rates.written_per_s += t.rates.written_per_s;
        (puts, put_ms) = (puts + count, put_ms + sum);
        max = match (max, t.write_latency_ms.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        flows.push(t);
    }
    Flow {
        connector: connector.to_string(),
        records,
        rates,
        write_latency_ms: Latency {
            avg: (puts > 0).then(|| put_ms / puts as f64),
            max,
        },
        tasks: flows,
        partitions: partitions
            .iter()
            .map(|(l, p)| PartitionFlow {
                topic: l.topic.clone(),
                partition: l.partition,
                task: l.task,
                committed_offset: p.committed(),
                end_offset: p.end(),
                lag: p.lag(),
            })
            .collect(),
    }
}
