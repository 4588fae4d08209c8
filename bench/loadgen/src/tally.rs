//! Counting what a scenario's workers did: operations, latencies, failures,
//! and the phase (warm-up, measuring, stopping) that decides what counts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// Why an operation failed. `kind` groups failures in the report; `detail`
/// is kept for the first few of them, so a reader sees what went wrong.
#[derive(Debug)]
pub struct Failure {
    pub kind: &'static str,
    pub detail: String,
}

impl Failure {
    pub fn new(kind: &'static str, detail: impl fmt::Display) -> Failure {
        Failure {
            kind,
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// How many failure details are kept per scenario.
const SAMPLES: usize = 5;

/// The failures of a scenario, by kind, with a few samples.
#[derive(Debug, Default)]
pub struct Errors {
    pub count: u64,
    pub kinds: BTreeMap<&'static str, u64>,
    pub samples: Vec<String>,
}

impl Errors {
    pub fn record(&mut self, failure: Failure) {
        self.count += 1;
        *self.kinds.entry(failure.kind).or_default() += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(failure.to_string());
        }
    }

    pub fn merge(&mut self, other: Errors) {
        self.count += other.count;
        for (kind, count) in other.kinds {
            *self.kinds.entry(kind).or_default() += count;
        }
        let room = SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }
}

/// What one worker (or a whole scenario, once merged) counted.
#[derive(Debug, Default)]
pub struct Tally {
    /// Operations completed and verified while measuring.
    pub ops: u64,
    /// Their latencies, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Failures in any phase: a failure while warming up is still a failure.
    pub errors: Errors,
}

impl Tally {
    /// One verified operation that took `latency`.
    pub fn record(&mut self, latency: Duration) {
        self.ops += 1;
        self.sample(latency);
    }

    /// A latency sample without an operation (fanout counts deliveries as
    /// operations, but times each sender's own round trip).
    pub fn sample(&mut self, latency: Duration) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.latencies_us.push(micros);
    }

    pub fn merge(&mut self, other: Tally) {
        self.ops += other.ops;
        self.latencies_us.extend(other.latencies_us);
        self.errors.merge(other.errors);
    }

    /// The `q` quantile of the latencies (nearest rank), in microseconds.
    pub fn quantile_us(&mut self, q: f64) -> Option<u32> {
        if self.latencies_us.is_empty() {
            return None;
        }
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        // Nearest rank: the smallest value with at least q·n values at or below it.
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(self.latencies_us[rank - 1])
    }
}

/// Where a scenario is: the main task moves it forward, workers read it.
/// Operations count only while measuring, and the moves happen right next to
/// the reads of the server's CPU time, so both cover the same window.
/// Workers start warming up: their operations do not count yet.
#[derive(Debug, Clone, Default)]
pub struct Phase(Arc<AtomicU8>);

const MEASURING: u8 = 1;
const STOPPING: u8 = 2;

impl Phase {
    pub fn measuring(&self) -> bool {
        self.0.load(Ordering::Relaxed) == MEASURING
    }

    pub fn stopping(&self) -> bool {
        self.0.load(Ordering::Relaxed) == STOPPING
    }

    pub fn start_measuring(&self) {
        self.0.store(MEASURING, Ordering::Relaxed);
    }

    pub fn stop(&self) {
        self.0.store(STOPPING, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut tally = Tally::default();
        for micros in 1..=100 {
            tally.record(Duration::from_micros(micros));
        }
        assert_eq!(tally.quantile_us(0.5), Some(50));
        assert_eq!(tally.quantile_us(0.99), Some(99));
        assert_eq!(tally.quantile_us(1.0), Some(100));
        assert_eq!(Tally::default().quantile_us(0.5), None);
    }

    #[test]
    fn errors_keep_counts_by_kind_and_a_few_samples() {
        let mut errors = Errors::default();
        for n in 0..7 {
            errors.record(Failure::new("reply", format!("seq {n}")));
        }
        let mut other = Errors::default();
        other.record(Failure::new("timeout", "no answer"));
        errors.merge(other);
        assert_eq!(errors.count, 8);
        assert_eq!(errors.kinds["reply"], 7);
        assert_eq!(errors.kinds["timeout"], 1);
        assert_eq!(errors.samples.len(), SAMPLES);
    }
}
