//! Client-wide librdkafka errors, logged without flooding: librdkafka reports a broker outage
//! again at every reconnect attempt of every broker (hundreds of lines a second), so the first
//! report of an error is logged and its repeats are counted and logged at most every
//! [`EVERY`], at WARN (the client retries by itself; what stops a task is reported by it).

use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::ClientContext;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a repeated error is logged again.
pub const EVERY: Duration = Duration::from_secs(10);

/// A client context (producers, admin clients) whose errors are logged as described above;
/// the task consumer's context logs through one.
#[derive(Default)]
pub struct QuietErrors {
    seen: Mutex<Repeats>,
}

impl QuietErrors {
    pub fn error(&self, error: KafkaError, reason: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(repeats) = seen.report(&error.to_string(), Instant::now()) {
            tracing::warn!(%error, reason, repeats, "Kafka client error");
        }
    }
}

impl ClientContext for QuietErrors {
    fn error(&self, error: KafkaError, reason: &str) {
        QuietErrors::error(self, error, reason)
    }
}

/// A consumer that commits nothing by group (the distributed store's follower).
impl ConsumerContext for QuietErrors {}

#[derive(Default)]
struct Repeats {
    last: Option<(String, Instant)>,
    count: u64,
}

impl Repeats {
    /// Whether to log `error` now and, if so, how many times it came again unlogged since
    /// it was last logged.
    fn report(&mut self, error: &str, now: Instant) -> Option<u64> {
        match &mut self.last {
            Some((last, at)) if last == error => {
                if now.duration_since(*at) < EVERY {
                    self.count += 1;
                    return None;
                }
                *at = now;
                Some(std::mem::take(&mut self.count))
            }
            _ => {
                self.last = Some((error.to_string(), now));
                self.count = 0;
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_client_error_is_logged_once_per_period_with_its_count() {
        let mut errors = Repeats::default();
        let start = Instant::now();
        let down = "AllBrokersDown";
        assert_eq!(errors.report(down, start), Some(0));
        for i in 1..=500 {
            assert_eq!(errors.report(down, start + Duration::from_millis(i)), None);
        }
        let later = start + EVERY;
        assert_eq!(errors.report(down, later), Some(500));
        assert_eq!(errors.report(down, later + Duration::from_secs(1)), None);
        // Another error is logged at once; the outage's repeats start again from zero.
        assert_eq!(errors.report("Authentication", later), Some(0));
        assert_eq!(errors.report(down, later), Some(0));
    }
}
