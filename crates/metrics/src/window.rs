//! Windowed statistics as Kafka Connect's metrics keep them: two samples of 30 s, so a rate,
//! an average or a maximum covers the last 30 s to 60 s.

use std::time::{Duration, Instant};

/// Length of one sample.
pub const SAMPLE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct Sample {
    start: Instant,
    count: u64,
    sum: f64,
    max: f64,
}

impl Sample {
    fn empty(start: Instant) -> Sample {
        Sample {
            start,
            count: 0,
            sum: 0.0,
            max: f64::NEG_INFINITY,
        }
    }

    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.start) < SAMPLE * 2
    }
}

/// Values recorded over the last one or two samples.
#[derive(Debug, Clone)]
pub struct Window {
    samples: [Sample; 2],
    current: usize,
}

impl Window {
    pub fn new(now: Instant) -> Window {
        Window {
            samples: [Sample::empty(now); 2],
            current: 0,
        }
    }

    pub fn record(&mut self, value: f64, now: Instant) {
        let current = self.samples[self.current];
        if now.saturating_duration_since(current.start) >= SAMPLE {
            self.current = 1 - self.current;
            self.samples[self.current] = Sample::empty(now);
        }
        let s = &mut self.samples[self.current];
        s.count += 1;
        s.sum += value;
        s.max = s.max.max(value);
    }

    fn live(&self, now: Instant) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.live(now))
    }

    /// The sum of the values per second. As in Connect, the time is at least one sample
    /// long, so a burst just after start is not read as a huge rate.
    pub fn rate(&self, now: Instant) -> f64 {
        let sum: f64 = self.live(now).map(|s| s.sum).sum();
        let oldest = self.live(now).map(|s| s.start).min().unwrap_or(now);
        let elapsed = now.saturating_duration_since(oldest).max(SAMPLE);
        sum / elapsed.as_secs_f64()
    }

    /// How many values were recorded, and their sum.
    pub fn count_and_sum(&self, now: Instant) -> (u64, f64) {
        self.live(now)
            .fold((0, 0.0), |(c, s), x| (c + x.count, s + x.sum))
    }

    /// The average of the values; `None` without any.
    pub fn avg(&self, now: Instant) -> Option<f64> {
        let (count, sum) = self.count_and_sum(now);
        (count > 0).then(|| sum / count as f64)
    }

    /// The largest value; `None` without any.
    pub fn max(&self, now: Instant) -> Option<f64> {
        self.live(now)
            .filter(|s| s.count > 0)
            .map(|s| s.max)
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_average_and_max_cover_the_last_two_samples() {
        let t0 = Instant::now();
        let mut w = Window::new(t0);
        w.record(30.0, t0);
        w.record(90.0, t0 + Duration::from_secs(10));
        // 120 values over at least one sample (30 s).
        assert_eq!(w.rate(t0 + Duration::from_secs(10)), 4.0);
        assert_eq!(w.avg(t0 + Duration::from_secs(10)), Some(60.0));
        assert_eq!(w.max(t0 + Duration::from_secs(10)), Some(90.0));
        // A second sample starts; both count.
        w.record(60.0, t0 + Duration::from_secs(40));
        assert_eq!(w.rate(t0 + Duration::from_secs(45)), 180.0 / 45.0);
        assert_eq!(w.max(t0 + Duration::from_secs(45)), Some(90.0));
        // The first sample has expired: only the 60 of the second counts.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(w.avg(later), Some(60.0));
        assert_eq!(w.max(later), Some(60.0));
        // Nothing recorded for a minute: nothing to report.
        let idle = t0 + Duration::from_secs(101);
        assert_eq!(w.avg(idle), None);
        assert_eq!(w.rate(idle), 0.0);
    }
}
