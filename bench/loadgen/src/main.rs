//! The benchmark's load generator.
//!
//! ```text
//! loadgen run --server sockwarden --port 8101 --pid 4242 --out reports/sockwarden-1.json
//! loadgen report --results reports/ --template README.tmpl.md --out README.md --chart chart.svg
//! ```
//!
//! `run` drives one server through the protocol checks and every scenario
//! of PROTOCOL.md, verifying every reply, and writes the figures as JSON;
//! `report` turns the JSON of a whole run into `bench/README.md` and its
//! chart. `bench/run` calls both; see there for the pinning to cores.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use loadgen::procfs::{self, Server};
use loadgen::report;
use loadgen::results::{self, Outcome, ServerRun, Status};
use loadgen::scenarios::{self, Settings};

#[derive(Parser)]
#[command(about = "The benchmark's load generator and report writer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drives one running server through every scenario; writes JSON.
    Run(RunArgs),
    /// Writes README.md and the chart from the JSON files of a run.
    Report(report::ReportArgs),
}

#[derive(Args)]
struct RunArgs {
    /// The server's id in the report (`sockwarden`, `axum-tuned`, …).
    #[arg(long)]
    server: String,
    /// Which round of the run this is.
    #[arg(long, default_value_t = 1)]
    round: u32,
    #[arg(long)]
    port: u16,
    /// The server's process id, for its CPU time and memory.
    #[arg(long)]
    pid: u32,
    /// The core the server is pinned to: what else ran on it while
    /// measuring is recorded beside each scenario.
    #[arg(long)]
    server_core: Option<u32>,
    /// Where the JSON goes.
    #[arg(long)]
    out: PathBuf,
    /// Scenarios to run, comma-separated (default: all, in their order).
    #[arg(long, value_delimiter = ',', default_values_t = scenarios::ALL.map(String::from))]
    scenarios: Vec<String>,
    /// Seconds of warm-up before each measured window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds each scenario is measured.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    #[arg(long, default_value_t = 32)]
    handshake_workers: u32,
    #[arg(long, default_value_t = 64)]
    echo_connections: u32,
    #[arg(long, default_value_t = 4000)]
    idle_connections: u32,
    #[arg(long, default_value_t = 8)]
    rooms: u32,
    #[arg(long, default_value_t = 16)]
    members: u32,
    /// Skip the protocol checks.
    #[arg(long)]
    no_checks: bool,
}

fn main() -> Result<(), String> {
    match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Report(args) => report::write(&args),
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let settings = Settings {
        port: args.port,
        server: Server { pid: args.pid },
        server_core: args.server_core,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
        handshake_workers: args.handshake_workers,
        echo_connections: args.echo_connections,
        idle_connections: args.idle_connections,
        rooms: args.rooms,
        members: args.members,
    };
    // One thread: the load generator is pinned to one core, and a
    // single-threaded runtime spends that core on the load, not on
    // work stealing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("starting the runtime: {error}"))?;
    let ticks_per_second = procfs::ticks_per_second();
    let result = runtime.block_on(async {
        let checks = if args.no_checks {
            Vec::new()
        } else {
            scenarios::checks(settings.port).await
        };
        for check in &checks {
            let mark = match check.outcome {
                Outcome::Pass => "pass",
                Outcome::NotSupported => "n/a ",
                Outcome::Fail => "FAIL",
            };
            let detail = check.detail.as_deref().unwrap_or("");
            eprintln!(
                "{:<16} check  {mark}  {:<30} {detail}",
                args.server, check.name
            );
        }
        let mut scenarios = Vec::new();
        for name in &args.scenarios {
            if !settings.server.alive() {
                return Err(format!("{} (pid {}) is not running", args.server, args.pid));
            }
            // The previous scenario's teardown is not this one's cost.
            let _ = settings
                .server
                .quiesce(Duration::from_millis(250), Duration::from_secs(10))
                .await;
            let scenario = scenarios::run(name, &settings).await;
            eprintln!("{}", summary(&args.server, &scenario, ticks_per_second));
            scenarios.push(scenario);
        }
        Ok(ServerRun {
            server: args.server.clone(),
            round: args.round,
            ticks_per_second,
            checks,
            scenarios,
        })
    })?;
    let json = serde_json::to_string_pretty(&result).map_err(|error| error.to_string())?;
    std::fs::write(&args.out, json + "\n")
        .map_err(|error| format!("writing {}: {error}", args.out.display()))
}

/// One line per scenario on stderr, as the run goes.
fn summary(server: &str, scenario: &results::Scenario, ticks_per_second: u64) -> String {
    let head = format!("{server:<16} {:<15}", scenario.name);
    let note = scenario.note.as_deref().unwrap_or("");
    match scenario.status {
        Status::NotSupported => format!("{head} not supported ({note})"),
        Status::Failed => format!("{head} FAILED: {note} {:?}", scenario.error_samples),
        Status::Ok | Status::Errors => {
            let memory = scenario.memory.as_ref().map_or(String::new(), |memory| {
                format!(
                    "  {:.2} KiB/conn over {} conns",
                    memory.kib_per_connection(),
                    memory.connections
                )
            });
            let errors = if scenario.errors > 0 {
                format!("  ERRORS {} {:?}", scenario.errors, scenario.error_samples)
            } else {
                String::new()
            };
            let foreign = scenario
                .foreign_percent(ticks_per_second)
                .map_or(String::new(), |other| format!("  other {other:.0}%"));
            format!(
                "{head} {:>10.1}/s  p50 {:>7} µs  p99 {:>7} µs  cpu {:>8.2} µs/op  busy {:>3.0}%{foreign}{memory}{errors}",
                scenario.throughput(),
                scenario.p50_us.map_or("-".into(), |v| v.to_string()),
                scenario.p99_us.map_or("-".into(), |v| v.to_string()),
                scenario.cpu_us_per_op(ticks_per_second),
                scenario.server_busy_percent(ticks_per_second),
            )
        }
    }
}
