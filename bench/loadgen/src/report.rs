//! `bench/README.md` and its chart, from the JSON files of one run.
//!
//! Every figure is the median over the run's rounds; every ratio is taken
//! within a round (both servers measured minutes apart at most, under the
//! same conditions) and then the median of those ratios is shown. The
//! template carries the prose written by hand; this fills in its
//! `{{placeholders}}`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use crate::results::{Outcome, ServerRun, Status};
use crate::svg::{self, Bar, Group, Panel};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The folder of the run: `*.json` from `loadgen run`, and the
    /// `machine.md` and `commands.md` that `bench/run` writes.
    #[arg(long)]
    pub results: PathBuf,
    /// The README template, with the hand-written prose.
    #[arg(long)]
    pub template: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Where the SVG chart goes; the README links it by file name.
    #[arg(long)]
    pub chart: PathBuf,
    /// The Autobahn conformance results, included when the file exists.
    #[arg(long)]
    pub autobahn: Option<PathBuf>,
}

/// The project's server, and the one it is held to.
const SOCKWARDEN: &str = "sockwarden";
const TUNED: &str = "axum-tuned";
const DEFAULTS: &str = "axum-defaults";
const DJANGO: [&str; 2] = ["django-daphne", "django-uvicorn"];

/// The servers in the order tables list them, with their names there and
/// in the chart.
const KNOWN: [(&str, &str, &str); 7] = [
    (
        SOCKWARDEN,
        "sockwarden (`examples/bench_server`)",
        "sockwarden",
    ),
    (TUNED, "axum, tuned (4 KiB read buffer)", "axum, tuned"),
    (DEFAULTS, "axum, defaults", "axum, defaults"),
    (
        "bare-tungstenite",
        "bare tokio-tungstenite, no framework (echo only)",
        "bare tokio-tungstenite",
    ),
    (
        "bare-websockets",
        "bare tokio-websockets, no framework (echo only)",
        "bare tokio-websockets",
    ),
    (
        "django-daphne",
        "Django Channels on daphne",
        "Django on daphne",
    ),
    (
        "django-uvicorn",
        "Django Channels on uvicorn",
        "Django on uvicorn",
    ),
];

/// The bare servers of the echo floor (`floor/`).
const BARE: [&str; 2] = ["bare-tungstenite", "bare-websockets"];

/// The CPU-per-operation targets against tuned axum: scenario, what it is,
/// the largest ratio allowed.
const AGAINST_AXUM: [(&str, &str, f64); 5] = [
    ("handshake", "authenticated handshake", 1.05),
    ("reject-none", "refused handshake, no token", 1.05),
    ("reject-unknown", "refused handshake, unknown token", 1.05),
    ("echo", "echo", 1.05),
    ("fanout", "fanout delivery", 1.00),
];

/// A scenario's name in the chart.
fn short_name(scenario: &str) -> &str {
    match scenario {
        "handshake" => "handshake",
        "reject-none" => "refusal, no token",
        "reject-unknown" => "refusal, unknown token",
        "echo" => "echo",
        "fanout" => "fanout delivery",
        other => other,
    }
}

/// At least this many times less server CPU than Django Channels.
const DJANGO_FACTOR: f64 = 25.0;
const DJANGO_TARGETS: [&str; 2] = ["handshake", "echo"];

/// Resident memory per idle authenticated connection, at most.
const IDLE_KIB: f64 = 8.0;

/// Each measured scenario: its name, heading and what an operation is.
const SCENARIOS: [(&str, &str, &str); 5] = [
    (
        "handshake",
        "Authenticated handshake",
        "Each worker in a loop: connect with `Authorization: Token tok-N` (N round-robin over \
         the 10,000 users), send one echo, check the reply, close. One operation is one such \
         connection; latency runs from `connect()` to the echo's reply.",
    ),
    (
        "reject-none",
        "Refused handshake, no token",
        "The same loop without a token; the refusal (401/403, or 4401/4403 after the upgrade) \
         is checked. Latency runs from `connect()` to the refusal.",
    ),
    (
        "reject-unknown",
        "Refused handshake, unknown token",
        "The same with `Authorization: Token tok-N` for N ≥ 10,000: a token of the right shape \
         that the store does not know, so the lookup happens.",
    ),
    (
        "echo",
        "Echo",
        "Open connections, each with one message in flight; every reply's `seq`, `body` and \
         `user` are checked. Latency is the round trip.",
    ),
    (
        "fanout",
        "Fanout",
        "Rooms of members, each member with one message in flight: it says something, then \
         reads every delivery until its own comes back. One operation is one message \
         delivered; every delivery is checked (sender, body, per-sender order without gaps). \
         Latency is a sender's own round trip.",
    ),
];

pub fn write(args: &ReportArgs) -> Result<(), String> {
    let data = Data::load(&args.results)?;
    let chart_name = args
        .chart
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or("the chart path has no file name")?;
    let targets = targets(&data);

    let mut fills: BTreeMap<&str, String> = BTreeMap::new();
    fills.insert(
        "machine",
        read_or(&args.results.join("machine.md"), "(not recorded)"),
    );
    fills.insert(
        "commands",
        read_or(&args.results.join("commands.md"), "(not recorded)"),
    );
    fills.insert("rounds", data.rounds_text());
    fills.insert("checks", checks_table(&data));
    fills.insert("scenarios", scenario_tables(&data));
    fills.insert("memory", memory_table(&data));
    fills.insert("django", django_table(&data));
    fills.insert("targets", targets_table(&targets));
    fills.insert("chart", format!("![The ratios of this run]({chart_name})"));
    fills.insert("autobahn", autobahn(args.autobahn.as_deref()));

    let template = fs::read_to_string(&args.template)
        .map_err(|error| format!("reading {}: {error}", args.template.display()))?;
    let readme = fill(&template, &fills)?;
    fs::write(&args.chart, svg::render(&chart(&data, &targets)))
        .map_err(|error| format!("writing {}: {error}", args.chart.display()))?;
    fs::write(&args.out, readme).map_err(|error| format!("writing {}: {error}", args.out.display()))
}

fn read_or(path: &Path, missing: &str) -> String {
    fs::read_to_string(path).map_or_else(|_| missing.to_owned(), |text| text.trim_end().to_owned())
}

/// Replaces each `{{name}}`; an unknown name is an error, not a silent gap.
fn fill(template: &str, fills: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or("an unclosed {{ in the template")?;
        let name = &rest[start + 2..start + end];
        let value = fills
            .get(name)
            .ok_or_else(|| format!("unknown placeholder {{{{{name}}}}} in the template"))?;
        out.push_str(value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The run's results, by server and round.
struct Data {
    runs: Vec<ServerRun>,
    /// Servers in table order.
    servers: Vec<String>,
}

impl Data {
    fn load(folder: &Path) -> Result<Data, String> {
        let entries = fs::read_dir(folder)
            .map_err(|error| format!("reading {}: {error}", folder.display()))?;
        let mut runs = Vec::new();
        for entry in entries {
            let path = entry.map_err(|error| error.to_string())?.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                let text = fs::read_to_string(&path)
                    .map_err(|error| format!("reading {}: {error}", path.display()))?;
                let run: ServerRun = serde_json::from_str(&text)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                // `bench/run` measures a round one scenario at a time,
                // interleaving the servers: one file per scenario.
                match runs.iter_mut().find(|known: &&mut ServerRun| {
                    known.server == run.server && known.round == run.round
                }) {
                    Some(known) => {
                        known.checks.extend(run.checks);
                        known.scenarios.extend(run.scenarios);
                    }
                    None => runs.push(run),
                }
            }
        }
        if runs.is_empty() {
            return Err(format!("no results in {}", folder.display()));
        }
        runs.sort_by_key(|run| (run.round, order(&run.server)));
        let mut servers: Vec<String> = runs.iter().map(|run| run.server.clone()).collect();
        servers.sort_by_key(|server| order(server));
        servers.dedup();
        Ok(Data { runs, servers })
    }

    fn rounds(&self) -> Vec<u32> {
        let mut rounds: Vec<u32> = self.runs.iter().map(|run| run.round).collect();
        rounds.dedup();
        rounds
    }

    fn rounds_text(&self) -> String {
        let rounds = self.rounds().len();
        let per_server: Vec<String> = self
            .servers
            .iter()
            .map(|server| {
                let n = self.runs.iter().filter(|run| &run.server == server).count();
                format!("{} {n}", label(server))
            })
            .collect();
        let mut text = format!(
            "{rounds} round(s); rounds per server: {}.",
            per_server.join(", ")
        );
        // The noise: what else ran on the server's core while measuring.
        let mut foreign: Vec<(f64, String)> = self
            .runs
            .iter()
            .flat_map(|run| {
                run.scenarios.iter().filter_map(move |s| {
                    let other = s.foreign_percent(run.ticks_per_second)?;
                    Some((
                        other,
                        format!("{} of {}, round {}", s.name, run.server, run.round),
                    ))
                })
            })
            .collect();
        foreign.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((worst, where_)) = foreign.last() {
            let median = median(foreign.iter().map(|(other, _)| *other).collect()).unwrap_or(0.0);
            let _ = write!(
                text,
                " Other work on the server's core (other processes, interrupts) during the measured \
                 windows: median {median:.1} %, at most {worst:.1} % ({where_})."
            );
        }
        text
    }

    fn run(&self, server: &str, round: u32) -> Option<&ServerRun> {
        self.runs
            .iter()
            .find(|run| run.server == server && run.round == round)
    }

    /// A scenario of a server's round, when it was measured cleanly enough
    /// to compare (errors are reported, not hidden, elsewhere), with the
    /// clock ticks per second its figures count in.
    fn measured(
        &self,
        server: &str,
        round: u32,
        scenario: &str,
    ) -> Option<(&crate::results::Scenario, u64)> {
        let run = self.run(server, round)?;
        let found = run.scenarios.iter().find(|s| s.name == scenario)?;
        found.measured().then_some((found, run.ticks_per_second))
    }

    /// The server's CPU µs per operation in a round.
    fn cpu(&self, server: &str, round: u32, scenario: &str) -> Option<f64> {
        let (found, ticks) = self.measured(server, round, scenario)?;
        Some(found.cpu_us_per_op(ticks))
    }

    /// Of [`cpu`](Self::cpu), the time the kernel spent on the server's behalf.
    fn kernel(&self, server: &str, round: u32, scenario: &str) -> Option<f64> {
        let (found, ticks) = self.measured(server, round, scenario)?;
        found.kernel_us_per_op(ticks)
    }

    fn kib_per_connection(&self, server: &str, round: u32) -> Option<f64> {
        let run = self.run(server, round)?;
        let idle = run.scenarios.iter().find(|s| s.name == "idle")?;
        let kib = idle.memory.as_ref()?.kib_per_connection();
        (idle.status != Status::Failed && kib.is_finite()).then_some(kib)
    }

    /// The median over rounds of `f`.
    fn median(&self, f: impl Fn(u32) -> Option<f64>) -> Option<f64> {
        median(self.per_round(f))
    }

    /// `f` of every round that has it, in round order.
    fn per_round(&self, f: impl Fn(u32) -> Option<f64>) -> Vec<f64> {
        self.rounds().into_iter().filter_map(f).collect()
    }

    /// Median over rounds of `server`'s CPU per operation ÷ `baseline`'s.
    fn cpu_ratio(&self, server: &str, baseline: &str, scenario: &str) -> Option<f64> {
        median(self.cpu_ratios(server, baseline, scenario))
    }

    /// Each round's CPU per operation of `server` ÷ `baseline`'s.
    fn cpu_ratios(&self, server: &str, baseline: &str, scenario: &str) -> Vec<f64> {
        self.per_round(|round| {
            Some(self.cpu(server, round, scenario)? / self.cpu(baseline, round, scenario)?)
        })
    }

    /// Median over rounds of the faster Django server's CPU per operation
    /// ÷ sockwarden's.
    fn django_factor(&self, scenario: &str) -> Option<f64> {
        median(self.django_factors(scenario))
    }

    /// Each round's faster Django ÷ sockwarden.
    fn django_factors(&self, scenario: &str) -> Vec<f64> {
        self.per_round(|round| {
            Some(self.fastest_django(round, scenario)? / self.cpu(SOCKWARDEN, round, scenario)?)
        })
    }

    /// The faster Django server's CPU per operation in a round.
    fn fastest_django(&self, round: u32, scenario: &str) -> Option<f64> {
        DJANGO
            .iter()
            .filter_map(|server| self.cpu(server, round, scenario))
            .reduce(f64::min)
    }

    /// Median over rounds of the faster Django ÷ the cheaper bare server
    /// (echo only): the factor of a server that is nothing but a WebSocket
    /// library.
    fn django_bare(&self, scenario: &str) -> Option<f64> {
        self.median(|round| {
            let bare = BARE
                .iter()
                .filter_map(|server| self.cpu(server, round, scenario))
                .reduce(f64::min)?;
            Some(self.fastest_django(round, scenario)? / bare)
        })
    }

    /// Median over rounds of the faster Django ÷ sockwarden's kernel time
    /// alone: the factor a sockwarden that cost nothing in its own code
    /// would reach, since the kernel's part is the same socket work for any
    /// server.
    fn django_ceiling(&self, scenario: &str) -> Option<f64> {
        self.median(|round| {
            Some(self.fastest_django(round, scenario)? / self.kernel(SOCKWARDEN, round, scenario)?)
        })
    }

    /// Every round's figures of one server's scenario.
    fn scenario_runs<'a>(
        &'a self,
        server: &'a str,
        scenario: &'a str,
    ) -> impl Iterator<Item = (&'a ServerRun, &'a crate::results::Scenario)> + 'a {
        self.runs
            .iter()
            .filter(move |run| run.server == server)
            .filter_map(move |run| Some((run, run.scenarios.iter().find(|s| s.name == scenario)?)))
    }

    /// Errors over all rounds of one server's scenario.
    fn errors(&self, server: &str, scenario: &str) -> u64 {
        self.scenario_runs(server, scenario)
            .map(|(_, s)| s.errors)
            .sum()
    }
}

fn order(server: &str) -> usize {
    KNOWN
        .iter()
        .position(|(id, ..)| *id == server)
        .unwrap_or(KNOWN.len())
}

fn label(server: &str) -> String {
    KNOWN
        .iter()
        .find(|(id, ..)| *id == server)
        .map_or_else(|| format!("`{server}`"), |(_, name, _)| (*name).to_owned())
}

fn short_label(server: &str) -> String {
    KNOWN
        .iter()
        .find(|(id, ..)| *id == server)
        .map_or_else(|| server.to_owned(), |(.., short)| (*short).to_owned())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|value| value.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".to_owned())
}

fn micros(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn cpu_text(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else {
        format!("{us:.2}")
    }
}

fn checks_table(data: &Data) -> String {
    let mut names: Vec<&str> = Vec::new();
    for run in &data.runs {
        for check in &run.checks {
            if !names.contains(&check.name.as_str()) {
                names.push(&check.name);
            }
        }
    }
    // The bare servers of the echo floor are not checked: they speak only
    // enough of the protocol for that scenario.
    let checked: Vec<&String> = data
        .servers
        .iter()
        .filter(|server| {
            data.runs
                .iter()
                .any(|run| &run.server == *server && !run.checks.is_empty())
        })
        .collect();
    let mut out = String::from("| check |");
    for server in &checked {
        let _ = write!(out, " {} |", label(server));
    }
    out.push_str("\n| --- |");
    out.push_str(&" :-: |".repeat(checked.len()));
    out.push('\n');
    let mut failures = String::new();
    for name in names {
        let _ = write!(out, "| {name} |");
        for server in &checked {
            // The worst outcome over the rounds.
            let checks = data
                .runs
                .iter()
                .filter(|run| &run.server == *server)
                .flat_map(|run| run.checks.iter().filter(|c| c.name == name));
            let mut cell = "–";
            for check in checks {
                match check.outcome {
                    Outcome::Fail => {
                        cell = "**fail**";
                        let _ = writeln!(
                            failures,
                            "- {}, {name}: {}",
                            label(server),
                            check.detail.as_deref().unwrap_or("")
                        );
                    }
                    Outcome::NotSupported if cell != "**fail**" => cell = "not supported",
                    Outcome::Pass if cell == "–" => cell = "pass",
                    _ => {}
                }
            }
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    if !failures.is_empty() {
        out.push_str("\nFailed checks:\n\n");
        out.push_str(&failures);
    }
    out
}

fn scenario_tables(data: &Data) -> String {
    let mut out = String::new();
    for (name, heading, what) in SCENARIOS {
        let _ = writeln!(out, "### {heading} (`{name}`)\n\n{what}\n");
        let concurrency = data
            .scenario_runs(SOCKWARDEN, name)
            .chain(data.scenario_runs(TUNED, name))
            .map(|(_, s)| s.concurrency)
            .find(|c| *c > 0);
        if let Some(c) = concurrency {
            let _ = writeln!(out, "Concurrency: {c}.\n");
        }
        out.push_str(
            "| server | ops/s | p50 | p99 | server CPU µs/op | of which in the kernel | server core busy | CPU ÷ tuned axum | verified |\n\
             | --- | --: | --: | --: | --: | --: | --: | --: | --- |\n",
        );
        let mut samples = String::new();
        for server in &data.servers {
            let runs: Vec<_> = data.scenario_runs(server, name).collect();
            if runs.is_empty() {
                continue;
            }
            let measured: Vec<_> = runs.iter().filter(|(_, s)| s.measured()).collect();
            let status =
                if let Some((_, s)) = runs.iter().find(|(_, s)| s.status == Status::NotSupported) {
                    format!("not supported ({})", s.note.as_deref().unwrap_or(""))
                } else if measured.is_empty() {
                    let note = runs
                        .iter()
                        .find_map(|(_, s)| s.note.clone())
                        .unwrap_or_default();
                    format!("**failed**: {note}")
                } else {
                    let errors = data.errors(server, name);
                    if errors == 0 {
                        "all replies ok".to_owned()
                    } else {
                        format!("**{errors} error{}**", if errors == 1 { "" } else { "s" })
                    }
                };
            for (run, s) in &runs {
                for sample in &s.error_samples {
                    let _ = writeln!(
                        samples,
                        "- {} (round {}): {sample}",
                        label(server),
                        run.round
                    );
                }
            }
            let m = |f: &dyn Fn(&ServerRun, &crate::results::Scenario) -> Option<f64>| {
                median(measured.iter().filter_map(|(run, s)| f(run, s)).collect())
            };
            let ops = m(&|_, s| Some(s.throughput()));
            let p50 = m(&|_, s| s.p50_us.map(f64::from));
            let p99 = m(&|_, s| s.p99_us.map(f64::from));
            let cpu = m(&|run, s| Some(s.cpu_us_per_op(run.ticks_per_second)));
            let kernel = m(&|run, s| s.kernel_us_per_op(run.ticks_per_second));
            let busy = m(&|run, s| Some(s.server_busy_percent(run.ticks_per_second)));
            let ratio = data.cpu_ratio(server, TUNED, name);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {status} |",
                label(server),
                dash(ops.map(thousands)),
                dash(p50.map(micros)),
                dash(p99.map(micros)),
                dash(cpu.map(cpu_text)),
                dash(kernel.map(cpu_text)),
                dash(busy.map(|b| format!("{b:.0} %"))),
                dash(ratio.map(|r| svg::format_value(r, "×"))),
            );
        }
        if !samples.is_empty() {
            let _ = writeln!(out, "\nErrors (first few of each round):\n\n{samples}");
        }
        out.push('\n');
    }
    out
}

fn memory_table(data: &Data) -> String {
    let mut out = String::from(
        "| server | connections | RSS before | RSS after | KiB per connection | ÷ tuned axum | verified |\n\
         | --- | --: | --: | --: | --: | --: | --- |\n",
    );
    for server in &data.servers {
        let runs: Vec<_> = data.scenario_runs(server, "idle").collect();
        let Some(memory) = runs.iter().rev().find_map(|(_, s)| s.memory.clone()) else {
            continue;
        };
        let kib = data.median(|round| data.kib_per_connection(server, round));
        let ratio = data.median(|round| {
            Some(data.kib_per_connection(server, round)? / data.kib_per_connection(TUNED, round)?)
        });
        let errors = data.errors(server, "idle");
        let verified = if errors == 0 {
            "all connections answered".to_owned()
        } else {
            format!("**{errors} errors**")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} MiB | {:.1} MiB | {} | {} | {verified} |",
            label(server),
            thousands(f64::from(memory.connections)),
            memory.rss_before_kib as f64 / 1024.0,
            memory.rss_after_kib as f64 / 1024.0,
            dash(kib.map(|k| format!("{k:.2}"))),
            dash(ratio.map(|r| svg::format_value(r, "×"))),
        );
    }
    out.push_str(
        "\nRSS before and after are those of the last round; KiB per connection is the median over rounds.\n",
    );
    out
}

fn django_table(data: &Data) -> String {
    let mut out = String::from("| scenario | sockwarden µs/op |");
    for server in DJANGO {
        let _ = write!(out, " {} µs/op |", label(server));
    }
    out.push_str(
        " faster Django ÷ sockwarden | faster Django ÷ the cheaper bare server | sockwarden's kernel µs/op | faster Django ÷ sockwarden's kernel time |\n\
         | --- | --: | --: | --: | --: | --: | --: | --: |\n",
    );
    for (name, heading, _) in SCENARIOS {
        let cpu = |server: &str| data.median(|round| data.cpu(server, round, name));
        let kernel = data.median(|round| data.kernel(SOCKWARDEN, round, name));
        let factor = data.django_factor(name);
        let ceiling = data.django_ceiling(name);
        let bare = data.django_bare(name);
        let _ = writeln!(
            out,
            "| {heading} | {} | {} | {} | {} | {} | {} | {} |",
            dash(cpu(SOCKWARDEN).map(cpu_text)),
            dash(cpu(DJANGO[0]).map(cpu_text)),
            dash(cpu(DJANGO[1]).map(cpu_text)),
            dash(factor.map(|f| svg::format_value(f, "×"))),
            dash(bare.map(|f| svg::format_value(f, "×"))),
            dash(kernel.map(cpu_text)),
            dash(ceiling.map(|f| svg::format_value(f, "×"))),
        );
    }
    out
}

/// A target's verdict.
enum Verdict {
    Met,
    Missed,
    /// No figure (the scenario is not supported, or failed).
    NotMeasured,
    /// A figure, but some replies failed their checks.
    Unverified,
}

struct Target {
    what: String,
    measured: String,
    verdict: Verdict,
    /// The figure the chart shows, when there is one.
    value: Option<f64>,
}

fn verdict(value: Option<f64>, met: impl Fn(f64) -> bool, errors: u64) -> Verdict {
    match value {
        None => Verdict::NotMeasured,
        Some(_) if errors > 0 => Verdict::Unverified,
        Some(value) if met(value) => Verdict::Met,
        Some(_) => Verdict::Missed,
    }
}

fn not_measured_reason(data: &Data, server: &str, scenario: &str) -> String {
    data.scenario_runs(server, scenario)
        .find_map(|(_, s)| match s.status {
            Status::NotSupported => Some(format!("not supported by {server} yet")),
            Status::Failed => Some(format!(
                "failed on {server}: {}",
                s.note.clone().unwrap_or_default()
            )),
            _ => None,
        })
        .unwrap_or_else(|| "not measured".to_owned())
}

fn targets(data: &Data) -> Vec<Target> {
    let mut targets = Vec::new();
    for (scenario, what, limit) in AGAINST_AXUM {
        let value = data.cpu_ratio(SOCKWARDEN, TUNED, scenario);
        let errors = data.errors(SOCKWARDEN, scenario) + data.errors(TUNED, scenario);
        let measured = match value {
            Some(ratio) => format!(
                "{}{}",
                svg::format_value(ratio, "×"),
                rounds_of(&data.cpu_ratios(SOCKWARDEN, TUNED, scenario))
            ),
            None => [SOCKWARDEN, TUNED]
                .iter()
                .map(|server| not_measured_reason(data, server, scenario))
                .find(|reason| reason != "not measured")
                .unwrap_or_else(|| "not measured".to_owned()),
        };
        targets.push(Target {
            what: format!("server CPU per {what} ≤ {limit:.2} × tuned axum"),
            measured,
            verdict: verdict(value, |ratio| ratio <= limit, errors),
            value,
        });
    }
    let kib = data.median(|round| data.kib_per_connection(SOCKWARDEN, round));
    let defaults = data.median(|round| data.kib_per_connection(DEFAULTS, round));
    targets.push(Target {
        what: format!("resident memory per idle authenticated connection ≤ {IDLE_KIB} KiB"),
        measured: match (kib, defaults) {
            (Some(kib), Some(defaults)) => {
                format!("{kib:.2} KiB (axum defaults: {defaults:.1} KiB)")
            }
            (Some(kib), None) => format!("{kib:.2} KiB"),
            (None, _) => not_measured_reason(data, SOCKWARDEN, "idle"),
        },
        verdict: verdict(kib, |kib| kib <= IDLE_KIB, data.errors(SOCKWARDEN, "idle")),
        value: kib,
    });
    for scenario in DJANGO_TARGETS {
        let value = data.django_factor(scenario);
        let errors = DJANGO
            .iter()
            .chain([SOCKWARDEN].iter())
            .map(|server| data.errors(server, scenario))
            .sum();
        targets.push(Target {
            what: format!(
                "server CPU per {scenario}: Django Channels (the faster of daphne and uvicorn) ÷ sockwarden ≥ {DJANGO_FACTOR:.0}"
            ),
            measured: value.map_or_else(
                || "not measured".to_owned(),
                |factor| {
                    format!(
                        "{}{}",
                        svg::format_value(factor, "×"),
                        rounds_of(&data.django_factors(scenario))
                    )
                },
            ),
            verdict: verdict(value, |factor| factor >= DJANGO_FACTOR, errors),
            value,
        });
    }
    // PROTOCOL.md: refusing an anonymous client must be cheaper than serving
    // a known one.
    let refusal = data.median(|round| {
        Some(
            data.cpu(SOCKWARDEN, round, "reject-none")?
                / data.cpu(SOCKWARDEN, round, "handshake")?,
        )
    });
    targets.push(Target {
        what: "sockwarden: refusing a client without a token costs less CPU than serving an authenticated handshake".to_owned(),
        measured: refusal.map_or_else(
            || "not measured".to_owned(),
            |ratio| format!("refusal ÷ handshake = {}", svg::format_value(ratio, "×")),
        ),
        verdict: verdict(refusal, |ratio| ratio < 1.0, 0),
        value: refusal,
    });
    targets
}

/// A median's rounds, so that the spread behind it shows: ` (rounds:
/// 0.97, 1.02, 1.10)`; nothing for a single round.
fn rounds_of(values: &[f64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let values: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    format!(" (rounds: {})", values.join(", "))
}

fn targets_table(targets: &[Target]) -> String {
    let mut out = String::from("| target | measured | verdict |\n| --- | --- | --- |\n");
    for target in targets {
        let verdict = match target.verdict {
            Verdict::Met => "**met**",
            Verdict::Missed => "**missed**",
            Verdict::NotMeasured => "not measured",
            Verdict::Unverified => "unverified: replies failed their checks",
        };
        let _ = writeln!(out, "| {} | {} | {verdict} |", target.what, target.measured);
    }
    out
}

fn autobahn(path: Option<&Path>) -> String {
    match path.and_then(|path| fs::read_to_string(path).ok()) {
        // RESULTS.md brings its own heading.
        Some(results) => format!("{}\n", results.trim_end()),
        None => String::new(),
    }
}

const GREEN: &str = "#2ca02c";
const RED: &str = "#d62728";
const GREY: &str = "#9e9e9e";
const BLUE: &str = "#1f77b4";
const ORANGE: &str = "#ff7f0e";

fn verdict_color(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Met => GREEN,
        Verdict::Missed | Verdict::Unverified => RED,
        Verdict::NotMeasured => GREY,
    }
}

/// The chart: sockwarden against tuned axum (with axum's defaults for
/// scale), Django against sockwarden, and memory per idle connection.
fn chart(data: &Data, targets: &[Target]) -> Vec<Panel> {
    let against_axum = AGAINST_AXUM
        .iter()
        .zip(targets)
        .map(|((scenario, _, limit), target)| Group {
            name: short_name(scenario).to_owned(),
            bars: vec![
                Bar {
                    series: "sockwarden",
                    value: target.value.unwrap_or(f64::NAN),
                    color: verdict_color(&target.verdict),
                },
                Bar {
                    series: "axum defaults",
                    value: data
                        .cpu_ratio(DEFAULTS, TUNED, scenario)
                        .unwrap_or(f64::NAN),
                    color: GREY,
                },
            ],
            target: Some(*limit),
        })
        .collect();
    let django = SCENARIOS
        .iter()
        .filter(|(name, ..)| !name.starts_with("fanout") || data.django_factor(name).is_some())
        .map(|(name, ..)| {
            let factor = |server: &str| {
                data.median(|round| {
                    Some(data.cpu(server, round, name)? / data.cpu(SOCKWARDEN, round, name)?)
                })
            };
            Group {
                name: short_name(name).to_owned(),
                bars: vec![
                    Bar {
                        series: "daphne ÷ sockwarden",
                        value: factor(DJANGO[0]).unwrap_or(f64::NAN),
                        color: BLUE,
                    },
                    Bar {
                        series: "uvicorn ÷ sockwarden",
                        value: factor(DJANGO[1]).unwrap_or(f64::NAN),
                        color: ORANGE,
                    },
                ],
                target: DJANGO_TARGETS.contains(name).then_some(DJANGO_FACTOR),
            }
        })
        .collect();
    let idle_target = targets
        .iter()
        .find(|target| target.what.starts_with("resident memory"))
        .map_or(&Verdict::NotMeasured, |target| &target.verdict);
    let memory = data
        .servers
        .iter()
        .map(|server| Group {
            name: short_label(server),
            bars: vec![Bar {
                series: "KiB per idle connection",
                value: data
                    .median(|round| data.kib_per_connection(server, round))
                    .unwrap_or(f64::NAN),
                color: if server == SOCKWARDEN {
                    verdict_color(idle_target)
                } else {
                    GREY
                },
            }],
            target: (server == SOCKWARDEN).then_some(IDLE_KIB),
        })
        .collect();
    vec![
        Panel {
            title: "Server CPU per operation ÷ hand-written axum (tuned)".into(),
            subtitle: "Lower is better. Green: target met, red: missed, grey: axum's defaults for scale.".into(),
            groups: against_axum,
            unit: "×",
        },
        Panel {
            title: "Server CPU per operation: Django Channels ÷ sockwarden".into(),
            subtitle: "Higher is better: how many times more CPU Django Channels spends on the same operation.".into(),
            groups: django,
            unit: "×",
        },
        Panel {
            title: "Resident memory per idle authenticated connection".into(),
            subtitle: "Lower is better.".into(),
            groups: memory,
            unit: " KiB",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_refused() {
        let mut fills = BTreeMap::new();
        fills.insert("a", "1".to_owned());
        assert_eq!(fill("x {{a}} y {{a}}", &fills).unwrap(), "x 1 y 1");
        assert!(fill("{{b}}", &fills).is_err());
        assert!(fill("{{a", &fills).is_err());
    }

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(micros(850.0), "850 µs");
        assert_eq!(micros(1540.0), "1.5 ms");
    }
}
