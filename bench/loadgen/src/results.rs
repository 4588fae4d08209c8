//! What one run against one server produced, as written to (and read back
//! from) its JSON file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One server, one round: the protocol checks and every scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerRun {
    /// The server's id: `sockwarden`, `axum-tuned`, `django-daphne`…
    pub server: String,
    /// Which round of the run this was (1-based).
    pub round: u32,
    /// Clock ticks per second of the CPU times below.
    pub ticks_per_second: u64,
    pub checks: Vec<Check>,
    pub scenarios: Vec<Scenario>,
}

/// One protocol check done before measuring.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub outcome: Outcome,
    /// What failed, or why the check does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    NotSupported,
    Fail,
}

/// How a scenario went, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Measured, with no failed operation.
    Ok,
    /// Measured, but some operations failed (the row says how many).
    Errors,
    /// The server lacks the endpoint (HTTP 404 on it).
    NotSupported,
    /// Nothing could be measured (the server died, or refused everything).
    Failed,
}

/// One scenario's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    /// `handshake`, `reject-none`, `reject-unknown`, `echo`, `idle`, `fanout`.
    pub name: String,
    pub status: Status,
    /// Workers or connections driving the load.
    pub concurrency: u32,
    /// Operations completed and verified in the measured window: handshakes,
    /// refusals, echoes, or (fanout) messages delivered.
    pub ops: u64,
    /// The measured window, in seconds.
    pub seconds: f64,
    /// The server's CPU time in the window, in clock ticks.
    pub cpu_ticks: u64,
    /// Of `cpu_ticks`, the time spent in the kernel (`stime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_ticks: Option<u64>,
    /// The server core's busy time in the window (everyone's), in clock
    /// ticks, when the core is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_ticks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<u32>,
    /// Failed operations, in every phase.
    pub errors: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_kinds: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_samples: Vec<String>,
    /// For `idle`: resident memory before and after the connections opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// Why the scenario is not supported or failed; a warning otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memory {
    /// Connections held open (and answered an echo) when RSS was read.
    pub connections: u32,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

impl Memory {
    pub fn kib_per_connection(&self) -> f64 {
        if self.connections == 0 {
            return f64::NAN;
        }
        self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / f64::from(self.connections)
    }
}

impl Scenario {
    /// A scenario that produced no figures.
    pub fn without_figures(name: &str, status: Status, note: impl Into<String>) -> Scenario {
        Scenario {
            name: name.to_owned(),
            status,
            concurrency: 0,
            ops: 0,
            seconds: 0.0,
            cpu_ticks: 0,
            system_ticks: None,
            core_ticks: None,
            p50_us: None,
            p99_us: None,
            errors: 0,
            error_kinds: BTreeMap::new(),
            error_samples: Vec::new(),
            memory: None,
            note: Some(note.into()),
        }
    }

    /// Operations per second.
    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops as f64 / self.seconds
        } else {
            f64::NAN
        }
    }

    /// The server's CPU time per operation, in microseconds.
    pub fn cpu_us_per_op(&self, ticks_per_second: u64) -> f64 {
        if self.ops == 0 {
            return f64::NAN;
        }
        self.cpu_ticks as f64 * 1e6 / ticks_per_second as f64 / self.ops as f64
    }

    /// Of [`cpu_us_per_op`](Self::cpu_us_per_op), the time spent in the
    /// kernel, when it was recorded.
    pub fn kernel_us_per_op(&self, ticks_per_second: u64) -> Option<f64> {
        let system = self.system_ticks?;
        (self.ops > 0).then(|| system as f64 * 1e6 / ticks_per_second as f64 / self.ops as f64)
    }

    /// How busy the server's core was, 0–100 %.
    pub fn server_busy_percent(&self, ticks_per_second: u64) -> f64 {
        if self.seconds > 0.0 {
            self.cpu_ticks as f64 / ticks_per_second as f64 / self.seconds * 100.0
        } else {
            f64::NAN
        }
    }

    /// Whether the figures can be compared: measured, with operations.
    pub fn measured(&self) -> bool {
        matches!(self.status, Status::Ok | Status::Errors) && self.ops > 0
    }

    /// How much of the server's core went to anything but the server while
    /// measuring, 0–100 %: the noise in this scenario's figures.
    pub fn foreign_percent(&self, ticks_per_second: u64) -> Option<f64> {
        let foreign = self.core_ticks?.saturating_sub(self.cpu_ticks);
        (self.seconds > 0.0)
            .then(|| foreign as f64 / ticks_per_second as f64 / self.seconds * 100.0)
    }
}
