//! What the kernel says about the server process: CPU time and resident
//! memory, read from `/proc/PID`.
//!
//! CPU time is the process's `utime + stime` in clock ticks (all threads,
//! including the ones that have exited): the figure every scenario divides
//! by its operation count. The two are kept apart too: `stime`, the kernel's
//! share, is mostly the loopback TCP work that every server pays alike. On loopback the load generator saturates its own
//! core about as soon as a fast server does, so throughput alone would
//! compare the load generator with itself; CPU per operation does not.

use std::fs;
use std::io;
use std::ops::Sub;
use std::time::{Duration, Instant};

/// CPU time in clock ticks, as the kernel accounts it: in the process's
/// own code (`utime`) and in the kernel on its behalf (`stime`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub system: u64,
}

impl CpuTicks {
    pub fn total(self) -> u64 {
        self.user + self.system
    }
}

impl Sub for CpuTicks {
    type Output = CpuTicks;
    fn sub(self, earlier: CpuTicks) -> CpuTicks {
        CpuTicks {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The server process being measured.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub pid: u32,
}

impl Server {
    /// CPU time used so far, in clock ticks.
    pub fn cpu_ticks(self) -> io::Result<CpuTicks> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        parse_cpu_ticks(&stat).ok_or_else(|| io::Error::other("unexpected /proc/PID/stat format"))
    }

    /// Resident set size in KiB (`VmRSS`).
    pub fn rss_kib(self) -> io::Result<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        parse_rss_kib(&status).ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
    }

    /// Whether the process still exists (and is not a zombie).
    pub fn alive(self) -> bool {
        fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .is_ok_and(|stat| process_state(&stat).is_some_and(|state| state != 'Z'))
    }

    /// Waits until the server has been idle for a moment (at most one tick in
    /// `window`), so that the previous scenario's teardown (thousands of
    /// closing sockets, a garbage collection) is not billed to the next one.
    /// Gives up after `limit` and says so.
    pub async fn quiesce(self, window: Duration, limit: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + limit;
        let mut before = self.cpu_ticks()?.total();
        while Instant::now() < deadline {
            tokio::time::sleep(window).await;
            let now = self.cpu_ticks()?.total();
            if now - before <= 1 {
                return Ok(true);
            }
            before = now;
        }
        Ok(false)
    }
}

/// The time core `core` spent busy, by anyone, in clock ticks (the
/// `cpuN` line of `/proc/stat`: all but idle and iowait). Less the server's
/// own time, it tells how much else ran on the server's core while it was
/// measured: other engineers' compiles, interrupts.
pub fn core_busy_ticks(core: u32) -> io::Result<u64> {
    let stat = fs::read_to_string("/proc/stat")?;
    parse_core_busy(&stat, core)
        .ok_or_else(|| io::Error::other(format!("no cpu{core} in /proc/stat")))
}

fn parse_core_busy(stat: &str, core: u32) -> Option<u64> {
    let name = format!("cpu{core}");
    let line = stat
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name.as_str()))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest times are
    // already in user and nice).
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| ticks.get(*i))
        .sum();
    Some(busy)
}

/// Clock ticks per second, the unit of `/proc/PID/stat`'s times.
pub fn ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// `utime` and `stime` are fields 14 and 15 of `/proc/PID/stat`; the command
/// name before them is in parentheses and may contain spaces, so fields are
/// counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<CpuTicks> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: state (field 3) … utime (14), stime (15).
    let mut fields = after_name.split_whitespace().skip(11);
    let user = fields.next()?.parse().ok()?;
    let system = fields.next()?.parse().ok()?;
    Some(CpuTicks { user, system })
}

fn process_state(stat: &str) -> Option<char> {
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

fn parse_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_name_with_spaces() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 300 0 0 0 170 30 0 0 20 0 3 0";
        let ticks = parse_cpu_ticks(stat).unwrap();
        assert_eq!((ticks.user, ticks.system, ticks.total()), (170, 30, 200));
        assert_eq!(process_state(stat), Some('S'));
    }

    #[test]
    fn core_busy_leaves_out_idle_and_iowait() {
        let stat =
            "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 10 1 5 1000 7 2 3 4 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\n";
        assert_eq!(parse_core_busy(stat, 0), Some(25));
        assert_eq!(parse_core_busy(stat, 1), Some(6));
        assert_eq!(parse_core_busy(stat, 2), None);
    }

    #[test]
    fn rss_is_read_in_kib() {
        let status = "Name:\tbench\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t2\n";
        assert_eq!(parse_rss_kib(status), Some(5120));
    }

    #[test]
    fn this_process_can_be_read() {
        let me = Server {
            pid: std::process::id(),
        };
        assert!(me.alive());
        assert!(me.rss_kib().unwrap() > 0);
        me.cpu_ticks().unwrap();
    }
}
