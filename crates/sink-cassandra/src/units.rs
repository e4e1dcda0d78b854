//! The enumerated values of the sink's keys, each with the names users write (which also
//! document and validate the keys, see [`super::config::definition`]): Java's `TimeUnit`,
//! the CQL consistency levels and the frame compressions.

use cdrs_tokio::compression::Compression as FrameCompression;
use cdrs_tokio::consistency::Consistency;
use std::fmt;

/// The names of `values`, in order.
const fn names<T: Copy, const N: usize>(values: [(T, &'static str); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = values[i].1;
        i += 1;
    }
    out
}

/// The value named `raw` (any case, stray whitespace ignored).
fn by_name<T: Copy>(table: &[(T, &'static str)], raw: &str) -> Option<T> {
    let raw = raw.trim();
    table
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(raw))
        .map(|(value, _)| *value)
}

/// Java `TimeUnit`: of `ttlTimeUnit`, `timestampTimeUnit` and `codec.unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    const ALL: [(TimeUnit, &'static str); 7] = [
        (TimeUnit::Nanoseconds, "NANOSECONDS"),
        (TimeUnit::Microseconds, "MICROSECONDS"),
        (TimeUnit::Milliseconds, "MILLISECONDS"),
        (TimeUnit::Seconds, "SECONDS"),
        (TimeUnit::Minutes, "MINUTES"),
        (TimeUnit::Hours, "HOURS"),
        (TimeUnit::Days, "DAYS"),
    ];
    pub const NAMES: &'static [&'static str] = &names(Self::ALL);

    /// A unit by its Java name, any case, stray whitespace ignored.
    pub fn parse(raw: &str) -> Option<Self> {
        by_name(&Self::ALL, raw)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(unit, _)| *unit == self)
            .map(|(_, name)| *name)
            .unwrap_or_default()
    }

    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Minutes => 60_000_000_000,
            TimeUnit::Hours => 3_600_000_000_000,
            TimeUnit::Days => 86_400_000_000_000,
        }
    }

    /// `amount` of this unit in `per` nanoseconds, truncated toward zero as Java's
    /// `TimeUnit.convert` does; `None` when it does not fit an `i64`.
    fn convert(self, amount: i64, per: i64) -> Option<i64> {
        let nanos = self.nanos();
        if nanos >= per {
            amount.checked_mul(nanos / per)
        } else {
            Some(amount / (per / nanos))
        }
    }

    /// `amount` of this unit in whole seconds (CQL TTLs).
    pub fn to_seconds(self, amount: i64) -> Option<i64> {
        self.convert(amount, 1_000_000_000)
    }

    /// `amount` of this unit in microseconds (CQL write times).
    pub fn to_micros(self, amount: i64) -> Option<i64> {
        self.convert(amount, 1_000)
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The write consistency level of `topic.<t>.<ks>.<table>.consistencyLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsistencyLevel(pub Consistency);

impl ConsistencyLevel {
    const ALL: [(Consistency, &'static str); 9] = [
        (Consistency::Any, "ANY"),
        (Consistency::One, "ONE"),
        (Consistency::Two, "TWO"),
        (Consistency::Three, "THREE"),
        (Consistency::Quorum, "QUORUM"),
        (Consistency::All, "ALL"),
        (Consistency::LocalQuorum, "LOCAL_QUORUM"),
        (Consistency::EachQuorum, "EACH_QUORUM"),
        (Consistency::LocalOne, "LOCAL_ONE"),
    ];
    pub const NAMES: &'static [&'static str] = &names(Self::ALL);

    pub fn parse(raw: &str) -> Option<Self> {
        by_name(&Self::ALL, raw).map(ConsistencyLevel)
    }
}

/// Frame compression of the connections (`compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Snappy,
}

impl Compression {
    pub const NAMES: &'static [&'static str] = &["None", "LZ4", "Snappy"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Compression::None),
            "lz4" => Some(Compression::Lz4),
            "snappy" => Some(Compression::Snappy),
            _ => None,
        }
    }

    pub fn frame(self) -> FrameCompression {
        match self {
            Compression::None => FrameCompression::None,
            Compression::Lz4 => FrameCompression::Lz4,
            Compression::Snappy => FrameCompression::Snappy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_value() {
        for (unit, name) in TimeUnit::ALL {
            assert_eq!(TimeUnit::parse(name), Some(unit));
            assert_eq!(unit.name(), name);
        }
        assert_eq!(TimeUnit::NAMES[3], "SECONDS");
        for (level, name) in ConsistencyLevel::ALL {
            assert_eq!(
                ConsistencyLevel::parse(&name.to_lowercase()),
                Some(ConsistencyLevel(level))
            );
        }
        for name in Compression::NAMES {
            assert!(Compression::parse(name).is_some(), "{name}");
        }
    }

    #[test]
    fn conversions_truncate_like_java_and_refuse_overflow() {
        assert_eq!(TimeUnit::Milliseconds.to_seconds(1_999), Some(1));
        assert_eq!(TimeUnit::Nanoseconds.to_micros(-1_500), Some(-1));
        assert_eq!(TimeUnit::Days.to_seconds(2), Some(172_800));
        assert_eq!(TimeUnit::Seconds.to_micros(i64::MAX / 10), None);
        assert_eq!(TimeUnit::Microseconds.to_micros(7), Some(7));
        assert_eq!(TimeUnit::parse(" minutes "), Some(TimeUnit::Minutes));
        assert_eq!(TimeUnit::parse("WEEKS"), None);
    }
}
