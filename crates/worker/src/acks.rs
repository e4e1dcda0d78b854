//! Acknowledgement bookkeeping of one task: for each partition, which records read are
//! written, skipped (dead-lettered or logged under `errors.tolerance=all`), filtered (dropped
//! by a transform), failed or still pending, and the offset that may be committed: the one
//! after the longest run of written, skipped or filtered records from the first record read. A failed or pending record stops that run, on
//! its partition only.

use cassink_record::Position;
use std::sync::Arc;

/// What became of one record read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Written,
    Skipped,
    /// Dropped by a transform: done, as a skipped record is, but not an error.
    Filtered,
    Failed,
}

impl Outcome {
    fn is_done(self) -> bool {
        matches!(
            self,
            Outcome::Written | Outcome::Skipped | Outcome::Filtered
        )
    }
}

/// How many records of a partition ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub written: u64,
    pub skipped: u64,
    pub filtered: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.written += other.written;
        self.skipped += other.skipped;
        self.filtered += other.filtered;
        self.failed += other.failed;
    }
}

#[derive(Debug)]
struct PartitionLedger {
    topic: Arc<str>,
    partition: i32,
    /// Sorted by offset (a partition is read in offset order: appending is the rule). A
    /// record read twice (a rebalance handed the partition back) is one entry.
    records: Vec<(i64, Outcome)>,
    counts: Counts,
}

impl PartitionLedger {
    /// The next offset to read after the contiguous written-or-skipped run from the first
    /// record read; `None` when the first record is not done.
    fn committable(&self) -> Option<i64> {
        self.records
            .iter()
            .take_while(|(_, outcome)| outcome.is_done())
            .last()
            .map(|(offset, _)| offset + 1)
    }

    /// The record at `offset` is pending (again, when it was read before).
    fn read(&mut self, offset: i64) {
        if self.records.last().is_none_or(|(last, _)| *last < offset) {
            self.records.push((offset, Outcome::Pending));
            return;
        }
        match self.records.binary_search_by_key(&offset, |(o, _)| *o) {
            Ok(at) => self.records[at].1 = Outcome::Pending,
            Err(at) => self.records.insert(at, (offset, Outcome::Pending)),
        }
    }

    fn outcome_mut(&mut self, offset: i64) -> Option<&mut Outcome> {
        let at = self
            .records
            .binary_search_by_key(&offset, |(o, _)| *o)
            .ok()?;
        self.records.get_mut(at).map(|(_, outcome)| outcome)
    }
}

/// The records of one chunk (or any set of records in flight), by partition.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Few partitions per chunk: a list searched from the last one used.
    partitions: Vec<PartitionLedger>,
    last: usize,
}

impl Ledger {
    fn partition_mut(&mut self, p: &Position) -> Option<&mut PartitionLedger> {
        // Records carry their task's shared topic names: the same name is the same pointer.
        let hit = |l: &PartitionLedger| {
            l.partition == p.partition && (Arc::ptr_eq(&l.topic, &p.topic) || l.topic == p.topic)
        };
        if !self.partitions.get(self.last).is_some_and(hit) {
            self.last = self.partitions.iter().position(hit)?;
        }
        self.partitions.get_mut(self.last)
    }

    /// A record was read: it is pending until marked.
    pub fn read(&mut self, p: &Position) {
        if self.partition_mut(p).is_none() {
            self.partitions.push(PartitionLedger {
                topic: p.topic.clone(),
                partition: p.partition,
                records: Vec::new(),
                counts: Counts::default(),
            });
            self.last = self.partitions.len() - 1;
        }
        if let Some(l) = self.partition_mut(p) {
            l.read(p.offset);
        }
    }

    /// What became of a record read. A record never read is ignored (it cannot move an
    /// offset), and a record keeps its first final outcome: one record that fails in two
    /// tables is one failure.
    pub fn mark(&mut self, p: &Position, outcome: Outcome) {
        let Some(l) = self.partition_mut(p) else {
            return;
        };
        let Some(slot) = l.outcome_mut(p.offset) else {
            return;
        };
        if *slot != Outcome::Pending || outcome == Outcome::Pending {
            return;
        }
        *slot = outcome;
        match outcome {
            Outcome::Written => l.counts.written += 1,
            Outcome::Skipped => l.counts.skipped += 1,
            Outcome::Filtered => l.counts.filtered += 1,
            Outcome::Failed => l.counts.failed += 1,
            Outcome::Pending => {}
        }
    }

    /// Per partition, the next offset to read that may be committed, for partitions whose
    /// first record read is done.
    pub fn committable(&self) -> impl Iterator<Item = ((&str, i32), i64)> + '_ {
        self.partitions
            .iter()
            .filter_map(|l| Some(((&*l.topic, l.partition), l.committable()?)))
    }

    pub fn counts(&self, topic: &str, partition: i32) -> Counts {
        self.partitions
            .iter()
            .find(|l| l.partition == partition && &*l.topic == topic)
            .map(|l| l.counts)
            .unwrap_or_default()
    }

    /// How many records of every partition ended each way.
    pub fn totals(&self) -> Counts {
        let mut totals = Counts::default();
        for l in &self.partitions {
            totals += l.counts;
        }
        totals
    }

    /// The first failed record, in the order partitions were first read.
    pub fn first_failed(&self) -> Option<Position> {
        self.partitions.iter().find_map(|l| {
            let (offset, _) = l.records.iter().find(|(_, o)| *o == Outcome::Failed)?;
            Some(Position {
                topic: l.topic.clone(),
                partition: l.partition,
                offset: *offset,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn at(topic: &str, partition: i32, offset: i64) -> Position {
        Position {
            topic: topic.into(),
            partition,
            offset,
        }
    }

    fn committable(l: &Ledger) -> BTreeMap<(String, i32), i64> {
        l.committable()
            .map(|((t, p), o)| ((t.to_string(), p), o))
            .collect()
    }

    #[test]
    fn a_failure_on_one_partition_holds_only_that_partition() {
        let mut l = Ledger::default();
        for o in 10..15 {
            l.read(&at("a", 0, o));
            l.read(&at("a", 1, o));
        }
        for o in 10..15 {
            l.mark(&at("a", 0, o), Outcome::Written);
            let outcome = if o == 12 {
                Outcome::Failed
            } else {
                Outcome::Written
            };
            l.mark(&at("a", 1, o), outcome);
        }
        let c = committable(&l);
        assert_eq!(c[&("a".into(), 0)], 15);
        assert_eq!(c[&("a".into(), 1)], 12, "never past the failed record");
        assert_eq!(l.first_failed(), Some(at("a", 1, 12)));
    }

    #[test]
    fn failures_on_two_partitions_hold_both() {
        let mut l = Ledger::default();
        for p in 0..3 {
            for o in 0..4 {
                l.read(&at("t", p, o));
            }
        }
        for p in 0..3 {
            for o in 0..4 {
                let failed = (p == 0 && o == 2) || (p == 2 && o == 0);
                let outcome = if failed {
                    Outcome::Failed
                } else {
                    Outcome::Written
                };
                l.mark(&at("t", p, o), outcome);
            }
        }
        let c = committable(&l);
        assert_eq!(c.get(&("t".into(), 0)), Some(&2));
        assert_eq!(c.get(&("t".into(), 1)), Some(&4));
        assert_eq!(c.get(&("t".into(), 2)), None, "its first record failed");
    }

    #[test]
    fn pending_records_hold_the_offset_and_skipped_ones_do_not() {
        let mut l = Ledger::default();
        for o in 0..3 {
            l.read(&at("t", 0, o));
        }
        l.mark(&at("t", 0, 0), Outcome::Skipped);
        l.mark(&at("t", 0, 2), Outcome::Written);
        assert_eq!(committable(&l)[&("t".into(), 0)], 1);
        l.mark(&at("t", 0, 1), Outcome::Written);
        assert_eq!(committable(&l)[&("t".into(), 0)], 3);
    }

    #[test]
    fn a_record_failing_twice_counts_once() {
        let mut l = Ledger::default();
        l.read(&at("t", 0, 7));
        l.mark(&at("t", 0, 7), Outcome::Failed);
        l.mark(&at("t", 0, 7), Outcome::Failed);
        l.mark(&at("t", 0, 7), Outcome::Written);
        assert_eq!(
            l.counts("t", 0),
            Counts {
                failed: 1,
                ..Counts::default()
            }
        );
        assert_eq!(committable(&l).get(&("t".into(), 0)), None);
    }

    #[test]
    fn records_read_again_or_out_of_order_are_one_entry_each_in_offset_order() {
        let mut l = Ledger::default();
        for o in 10..13 {
            l.read(&at("t", 0, o));
            l.mark(&at("t", 0, o), Outcome::Written);
        }
        // A rebalance handed the partition back: 11 is read again, 8 and 9 for the first time.
        l.read(&at("t", 0, 11));
        l.read(&at("t", 0, 9));
        l.read(&at("t", 0, 8));
        assert_eq!(committable(&l).get(&("t".into(), 0)), None, "8 is pending");
        l.mark(&at("t", 0, 8), Outcome::Written);
        l.mark(&at("t", 0, 9), Outcome::Skipped);
        assert_eq!(committable(&l)[&("t".into(), 0)], 11, "11 is pending again");
        l.mark(&at("t", 0, 11), Outcome::Written);
        assert_eq!(committable(&l)[&("t".into(), 0)], 13);
        assert_eq!(
            l.counts("t", 0).written,
            5,
            "11 counts each time it is written"
        );
    }

    #[test]
    fn marks_of_records_never_read_move_nothing() {
        let mut l = Ledger::default();
        l.mark(&at("t", 0, 5), Outcome::Written);
        assert!(committable(&l).is_empty());
    }

    #[test]
    fn topics_with_the_same_partition_number_are_apart() {
        let mut l = Ledger::default();
        l.read(&at("a", 0, 0));
        l.read(&at("b", 0, 0));
        l.mark(&at("b", 0, 0), Outcome::Written);
        let c = committable(&l);
        assert_eq!(c.get(&("a".into(), 0)), None);
        assert_eq!(c.get(&("b".into(), 0)), Some(&1));
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            6 => Just(Outcome::Written),
            2 => Just(Outcome::Skipped),
            1 => Just(Outcome::Failed),
            1 => Just(Outcome::Pending),
        ]
    }

    proptest! {
        /// Records of up to 4 partitions of 2 topics are read interleaved, then marked in a
        /// random order: on every partition, the committable offset never passes the first
        /// record that was neither written nor skipped, and reaches the end when all are.
        #[test]
        fn committable_never_passes_a_record_neither_written_nor_skipped(
            reads in prop::collection::vec((0usize..2, 0i32..2, 1i64..3, outcome()), 1..120),
            order in prop::collection::vec(any::<prop::sample::Index>(), 0..120),
        ) {
            let topics = ["a", "b"];
            let mut next: BTreeMap<(usize, i32), i64> = BTreeMap::new();
            let mut records = Vec::new();
            let mut l = Ledger::default();
            for (t, p, gap, outcome) in reads {
                let offset = next.entry((t, p)).or_insert(100);
                let pos = at(topics[t], p, *offset);
                *offset += gap;
                l.read(&pos);
                records.push((pos, outcome));
            }
            // Marked in a random order (each record once, as the sink or the DLQ answers).
            let mut unmarked: Vec<usize> = (0..records.len()).collect();
            let mut marking = Vec::new();
            for i in &order {
                if unmarked.is_empty() { break; }
                marking.push(unmarked.remove(i.index(unmarked.len())));
            }
            marking.extend(unmarked);
            for (step, &i) in marking.iter().enumerate() {
                let (pos, outcome) = &records[i];
                l.mark(pos, *outcome);
                let marked: Vec<usize> = marking[..=step].to_vec();
                for ((topic, partition), offset) in l.committable() {
                    // The first record of this partition that is not done (so far).
                    let blocker = records.iter().enumerate()
                        .filter(|(_, (p, _))| &*p.topic == topic && p.partition == partition)
                        .find(|(j, (_, o))| !marked.contains(j) || !o.is_done())
                        .map(|(_, (p, _))| p.offset);
                    if let Some(b) = blocker {
                        prop_assert!(offset <= b, "{topic}-{partition}: {offset} passes {b}");
                    }
                }
            }
            let done = committable(&l);
            for (t, p) in next.keys() {
                let ours: Vec<_> = records.iter()
                    .filter(|(pos, _)| &*pos.topic == topics[*t] && pos.partition == *p).collect();
                if ours.iter().all(|(_, o)| o.is_done()) {
                    let end = ours.last().map(|(pos, _)| pos.offset + 1);
                    prop_assert_eq!(done.get(&(topics[*t].to_string(), *p)).copied(), end);
                }
            }
        }
    }
}
