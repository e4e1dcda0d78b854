//! `now()` in a mapping: the time of the write and a time-based (version 1) UUID, fresh for
//! every record (DataStax evaluates it per record). UUIDs are unique per call in the process:
//! one random node id per process (multicast bit set, as RFC 9562 asks of random node ids)
//! and a clock sequence that advances on every call.

use std::sync::OnceLock;
use uuid::timestamp::context::ContextV1;
use uuid::{Timestamp, Uuid};

struct Generator {
    sequence: ContextV1,
    node: [u8; 6],
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        let random = Uuid::new_v4();
        let mut node = [0u8; 6];
        node.copy_from_slice(&random.as_bytes()[..6]);
        node[0] |= 0x01;
        Generator {
            sequence: ContextV1::new_random(),
            node,
        }
    })
}

/// What `now()` gives one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Microseconds since the epoch (a `timestamp` column, or the write time of a record
    /// without a Kafka timestamp).
    pub micros: i64,
    /// A `timeuuid` column.
    pub timeuuid: Uuid,
}

impl Now {
    /// A `now()` at `micros`, with a timeuuid no other call in this process returns.
    pub fn at(micros: i64) -> Now {
        let g = generator();
        let seconds = micros.div_euclid(1_000_000).max(0) as u64;
        let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
        let ts = Timestamp::from_unix(&g.sequence, seconds, nanos);
        Now {
            micros,
            timeuuid: Uuid::new_v1(ts, &g.node),
        }
    }

    /// The write time only (no timeuuid is needed).
    pub fn time_only(micros: i64) -> Now {
        Now {
            micros,
            timeuuid: Uuid::nil(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn timeuuids_at_the_same_instant_are_distinct_version_1_uuids() {
        let at = 1_612_891_980_123_456;
        let uuids: HashSet<Uuid> = (0..10_000).map(|_| Now::at(at).timeuuid).collect();
        assert_eq!(uuids.len(), 10_000);
        for u in uuids.iter().take(5) {
            assert_eq!(u.get_version_num(), 1);
            let (secs, nanos) = u.get_timestamp().expect("a v1 timestamp").to_unix();
            assert_eq!((secs, nanos / 1000), (1_612_891_980, 123_456));
        }
        // One node id per process.
        let nodes: HashSet<[u8; 6]> = uuids
            .iter()
            .map(|u| u.as_bytes()[10..16].try_into().expect("6 bytes"))
            .collect();
        assert_eq!(nodes.len(), 1);
    }
}
