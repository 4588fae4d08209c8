//! The scenarios of PROTOCOL.md ("What the load generator measures") and
//! the protocol checks run before them.
//!
//! Every scenario has the same shape: workers start and warm up, then the
//! server's CPU time is read and the phase switches to measuring, then after
//! the duration the phase switches to stopping and the CPU time is read
//! again. Only operations that complete, verified, while measuring count;
//! every failure counts, whenever it happens.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::client::{
    Credential, Opened, Ws, close, expect_refused, next_text, open, open_accepted, send_text,
    within,
};
use crate::procfs::{CpuTicks, Server, core_busy_ticks};
use crate::proto::{self, USERS, token, unknown_token, user};
use crate::results::{Check, Memory, Outcome, Scenario, Status};
use crate::tally::{Errors, Failure, Phase, Tally};

/// What a run is told about the server and the load.
#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub server: Server,
    /// The core the server is pinned to, if it is.
    pub server_core: Option<u32>,
    pub warmup: Duration,
    pub duration: Duration,
    /// Workers of `handshake` and the `reject-*` scenarios.
    pub handshake_workers: u32,
    /// Open connections of `echo`, each with one message in flight.
    pub echo_connections: u32,
    /// Connections held open by `idle`.
    pub idle_connections: u32,
    /// `fanout`: this many rooms of `members` members each.
    pub rooms: u32,
    pub members: u32,
}

/// Every scenario, in the order they run: `idle` first, on a fresh server,
/// so that memory freed by earlier scenarios does not hide what idle
/// connections cost.
pub const ALL: [&str; 6] = [
    "idle",
    "handshake",
    "reject-none",
    "reject-unknown",
    "echo",
    "fanout",
];

/// The echo body: short, like most chat or notification messages.
const BODY: &str = "the quick brown fox jumps over the lazy dog";

/// Runs one scenario by name.
pub async fn run(name: &str, settings: &Settings) -> Scenario {
    let scenario = match name {
        "idle" => idle(settings).await,
        "handshake" => handshake(settings).await,
        "reject-none" => reject(settings, "reject-none", false).await,
        "reject-unknown" => reject(settings, "reject-unknown", true).await,
        "echo" => echo(settings).await,
        "fanout" => fanout(settings).await,
        other => Scenario::without_figures(other, Status::Failed, "unknown scenario"),
    };
    if settings.server.alive() {
        scenario
    } else {
        Scenario {
            status: Status::Failed,
            note: Some("the server died".into()),
            ..scenario
        }
    }
}

/// Whether the server has an endpoint: a valid token gets a 101, not a 404.
enum Probe {
    Supported,
    NotSupported,
    Broken(String),
}

async fn probe(port: u16, path: &str) -> Probe {
    let opened = within(open(port, path, Credential::Header(&token(0)))).await;
    match opened {
        Ok(Opened::Open { mut ws, .. }) => {
            let _ = within(close(&mut ws)).await;
            Probe::Supported
        }
        Ok(Opened::Refused(404)) => Probe::NotSupported,
        Ok(Opened::Refused(status)) => {
            Probe::Broken(format!("a valid token was refused with HTTP {status}"))
        }
        Err(failure) => Probe::Broken(failure.to_string()),
    }
}

/// The probe's verdict as a scenario without figures, or `None` to go on.
async fn unless_supported(name: &str, port: u16, path: &str) -> Option<Scenario> {
    match probe(port, path).await {
        Probe::Supported => None,
        Probe::NotSupported => Some(Scenario::without_figures(
            name,
            Status::NotSupported,
            format!("{path}: HTTP 404"),
        )),
        Probe::Broken(why) => Some(Scenario::without_figures(name, Status::Failed, why)),
    }
}

/// The measured window: what the server's CPU did while operations counted.
struct Window {
    seconds: f64,
    cpu_ticks: CpuTicks,
    core_ticks: Option<u64>,
}

/// Lets the workers warm up, measures, stops them and merges what they counted.
async fn measure(
    settings: &Settings,
    phase: &Phase,
    workers: Vec<JoinHandle<Tally>>,
) -> Result<(Window, Tally), String> {
    tokio::time::sleep(settings.warmup).await;
    let cpu_error = |error: std::io::Error| format!("reading the server's CPU time: {error}");
    // No await between each read and the phase switch: on this
    // single-threaded runtime no operation completes in between.
    let core = || {
        settings
            .server_core
            .and_then(|core| core_busy_ticks(core).ok())
    };
    let core_before = core();
    let cpu_before = settings.server.cpu_ticks().map_err(cpu_error)?;
    let started = Instant::now();
    phase.start_measuring();
    tokio::time::sleep(settings.duration).await;
    phase.stop();
    let cpu_after = settings.server.cpu_ticks().map_err(cpu_error)?;
    let seconds = started.elapsed().as_secs_f64();
    let core_after = core();

    let mut tally = Tally::default();
    for worker in workers {
        match worker.await {
            Ok(counted) => tally.merge(counted),
            Err(error) => tally.errors.record(Failure::new("worker", error)),
        }
    }
    let window = Window {
        seconds,
        cpu_ticks: cpu_after - cpu_before,
        core_ticks: core_before
            .zip(core_after)
            .map(|(before, after)| after - before),
    };
    Ok((window, tally))
}

/// The scenario's row from its window and tally.
fn figures(name: &str, concurrency: u32, window: Window, mut tally: Tally) -> Scenario {
    let status = if tally.ops == 0 {
        Status::Failed
    } else if tally.errors.count > 0 {
        Status::Errors
    } else {
        Status::Ok
    };
    Scenario {
        name: name.to_owned(),
        status,
        concurrency,
        ops: tally.ops,
        seconds: window.seconds,
        cpu_ticks: window.cpu_ticks.total(),
        system_ticks: Some(window.cpu_ticks.system),
        core_ticks: window.core_ticks,
        p50_us: tally.quantile_us(0.50),
        p99_us: tally.quantile_us(0.99),
        errors: tally.errors.count,
        error_kinds: tally
            .errors
            .kinds
            .iter()
            .map(|(kind, count)| ((*kind).to_owned(), *count))
            .collect(),
        error_samples: tally.errors.samples,
        memory: None,
        note: (tally.ops == 0).then(|| "no operation completed".to_owned()),
    }
}

async fn measured(
    name: &str,
    settings: &Settings,
    concurrency: u32,
    phase: &Phase,
    workers: Vec<JoinHandle<Tally>>,
    mut setup_errors: Errors,
) -> Scenario {
    match measure(settings, phase, workers).await {
        Ok((window, mut tally)) => {
            setup_errors.merge(std::mem::take(&mut tally.errors));
            tally.errors = setup_errors;
            figures(name, concurrency, window, tally)
        }
        Err(why) => Scenario::without_figures(name, Status::Failed, why),
    }
}

/// Hands out users round-robin, so that lookups cover the whole store.
#[derive(Clone, Default)]
struct Users(Arc<AtomicUsize>);

impl Users {
    fn next(&self) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed) % USERS
    }
}

/// `handshake`: connect with a token, one echo, close; over and over.
/// Latency runs from `connect()` to the echo's verified reply.
async fn handshake(settings: &Settings) -> Scenario {
    const NAME: &str = "handshake";
    let port = settings.port;
    if let Some(unsupported) = unless_supported(NAME, port, "/ws/echo").await {
        return unsupported;
    }
    let phase = Phase::default();
    let users = Users::default();
    let workers = (0..settings.handshake_workers)
        .map(|_| {
            let (phase, users) = (phase.clone(), users.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut seq = 0;
                while !phase.stopping() {
                    let n = users.next();
                    let started = Instant::now();
                    let outcome = within(async {
                        let mut ws =
                            open_accepted(port, "/ws/echo", Credential::Header(&token(n))).await?;
                        send_text(&mut ws, proto::echo(seq, BODY)).await?;
                        proto::check_echo(&next_text(&mut ws).await?, seq, BODY, &user(n))?;
                        let latency = started.elapsed();
                        close(&mut ws).await?;
                        Ok(latency)
                    })
                    .await;
                    count(&mut tally, &phase, outcome).await;
                    seq += 1;
                }
                tally
            })
        })
        .collect();
    let concurrency = settings.handshake_workers;
    measured(
        NAME,
        settings,
        concurrency,
        &phase,
        workers,
        Errors::default(),
    )
    .await
}

/// Counts one operation's outcome. After a failure the worker pauses a
/// little, so that a server refusing everything is not hammered in a loop.
async fn count(tally: &mut Tally, phase: &Phase, outcome: Result<Duration, Failure>) {
    match outcome {
        Ok(latency) if phase.measuring() => tally.record(latency),
        Ok(_) => {}
        Err(failure) => {
            tally.errors.record(failure);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// `reject-none` / `reject-unknown`: a handshake without a token, or with a
/// token of the right shape that the store does not know; each must be
/// refused (401/403, or 4401/4403 right after the upgrade).
async fn reject(settings: &Settings, name: &'static str, unknown: bool) -> Scenario {
    let port = settings.port;
    if let Some(unsupported) = unless_supported(name, port, "/ws/echo").await {
        return unsupported;
    }
    let phase = Phase::default();
    let users = Users::default();
    let workers = (0..settings.handshake_workers)
        .map(|_| {
            let (phase, users) = (phase.clone(), users.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while !phase.stopping() {
                    let bad = unknown_token(users.next());
                    let credential = if unknown {
                        Credential::Header(&bad)
                    } else {
                        Credential::None
                    };
                    let started = Instant::now();
                    let outcome = within(async {
                        expect_refused(port, "/ws/echo", credential).await?;
                        Ok(started.elapsed())
                    })
                    .await;
                    count(&mut tally, &phase, outcome).await;
                }
                tally
            })
        })
        .collect();
    let concurrency = settings.handshake_workers;
    measured(
        name,
        settings,
        concurrency,
        &phase,
        workers,
        Errors::default(),
    )
    .await
}

/// `echo`: open connections, each with one message in flight; latency is
/// the round trip.
async fn echo(settings: &Settings) -> Scenario {
    const NAME: &str = "echo";
    let port = settings.port;
    if let Some(unsupported) = unless_supported(NAME, port, "/ws/echo").await {
        return unsupported;
    }
    let (sockets, setup_errors) = open_many(port, settings.echo_connections).await;
    if sockets.is_empty() {
        return Scenario::without_figures(NAME, Status::Failed, "no connection opened");
    }
    let phase = Phase::default();
    let workers = sockets
        .into_iter()
        .map(|(n, mut ws)| {
            let phase = phase.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let name = user(n);
                let mut seq = 0;
                while !phase.stopping() {
                    let started = Instant::now();
                    let outcome = within(async {
                        send_text(&mut ws, proto::echo(seq, BODY)).await?;
                        proto::check_echo(&next_text(&mut ws).await?, seq, BODY, &name)?;
                        Ok(started.elapsed())
                    })
                    .await;
                    let broken = outcome.is_err();
                    count(&mut tally, &phase, outcome).await;
                    if broken {
                        // The connection's state is unknown after a failure.
                        return tally;
                    }
                    seq += 1;
                }
                if let Err(failure) = within(close(&mut ws)).await {
                    tally.errors.record(failure);
                }
                tally
            })
        })
        .collect();
    let concurrency = settings.echo_connections;
    measured(NAME, settings, concurrency, &phase, workers, setup_errors).await
}

/// What one opener of `open_many` returns: its sockets with their users,
/// and its failures.
type Opening = (Vec<(usize, Ws)>, Errors);

/// Opens `count` authenticated connections to `/ws/echo` (users 0, 1, …),
/// each verified with one echo, `PARALLEL` handshakes at a time.
async fn open_many(port: u16, count: u32) -> (Vec<(usize, Ws)>, Errors) {
    const PARALLEL: usize = 32;
    let count = count as usize;
    let openers: Vec<JoinHandle<Opening>> = (0..PARALLEL.min(count))
        .map(|first| {
            tokio::spawn(async move {
                let mut sockets = Vec::new();
                let mut errors = Errors::default();
                for n in (first..count).step_by(PARALLEL) {
                    let user_n = n % USERS;
                    let opened = within(async {
                        let mut ws =
                            open_accepted(port, "/ws/echo", Credential::Header(&token(user_n)))
                                .await?;
                        send_text(&mut ws, proto::echo(0, BODY)).await?;
                        proto::check_echo(&next_text(&mut ws).await?, 0, BODY, &user(user_n))?;
                        Ok(ws)
                    })
                    .await;
                    match opened {
                        Ok(ws) => sockets.push((user_n, ws)),
                        Err(failure) => errors.record(failure),
                    }
                }
                (sockets, errors)
            })
        })
        .collect();
    let mut sockets = Vec::with_capacity(count);
    let mut errors = Errors::default();
    for opener in openers {
        match opener.await {
            Ok((opened, failed)) => {
                sockets.extend(opened);
                errors.merge(failed);
            }
            Err(error) => errors.record(Failure::new("worker", error)),
        }
    }
    (sockets, errors)
}

/// `idle`: the server's resident memory per authenticated connection held
/// open. RSS is read after a warm-up (a few connections opened and closed,
/// so that one-time allocations are not billed to the connections) and
/// again once the connections are open and the server is quiet.
async fn idle(settings: &Settings) -> Scenario {
    const NAME: &str = "idle";
    const WARM_UP_CONNECTIONS: u32 = 64;
    let (port, server) = (settings.port, settings.server);
    if let Some(unsupported) = unless_supported(NAME, port, "/ws/echo").await {
        return unsupported;
    }
    let (warm, mut errors) = open_many(port, WARM_UP_CONNECTIONS).await;
    for (_, mut ws) in warm {
        if let Err(failure) = within(close(&mut ws)).await {
            errors.record(failure);
        }
    }
    let quiet = || server.quiesce(Duration::from_millis(300), Duration::from_secs(10));
    let read = async |what| {
        let _ = quiet().await;
        server
            .rss_kib()
            .map_err(|error| format!("reading the server's RSS {what}: {error}"))
    };
    let before = match read("before").await {
        Ok(kib) => kib,
        Err(why) => return Scenario::without_figures(NAME, Status::Failed, why),
    };
    let (cpu_before, started) = (server.cpu_ticks().unwrap_or_default(), Instant::now());
    let (sockets, failed) = open_many(port, settings.idle_connections).await;
    let (seconds, cpu_after) = (
        started.elapsed().as_secs_f64(),
        server.cpu_ticks().unwrap_or_default(),
    );
    errors.merge(failed);
    let after = match read("after").await {
        Ok(kib) => kib,
        Err(why) => return Scenario::without_figures(NAME, Status::Failed, why),
    };
    let opened = u32::try_from(sockets.len()).unwrap_or(u32::MAX);
    // Dropped without a close handshake: thousands of them would take the
    // slower servers a while, and nothing here measures closing. The next
    // scenario waits for the server to be quiet again.
    drop(sockets);

    let tally = Tally {
        ops: u64::from(opened),
        errors,
        ..Tally::default()
    };
    let window = Window {
        seconds,
        cpu_ticks: cpu_after - cpu_before,
        core_ticks: None,
    };
    let mut scenario = figures(NAME, settings.idle_connections, window, tally);
    scenario.memory = Some(Memory {
        connections: opened,
        rss_before_kib: before,
        rss_after_kib: after,
    });
    scenario
}

/// A room's members, for checking deliveries: who may speak, and what each
/// one says.
struct Roster {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

fn said_body(from: &str) -> String {
    format!("hello from {from}")
}

/// `fanout`: rooms of members, each member with one message in flight:
/// it says something, then reads every delivery until its own comes back.
/// Every delivery is an operation; latency is a sender's own round trip.
/// Deliveries are checked: from a member of the room, with that member's
/// body, and in that member's order with no gap.
async fn fanout(settings: &Settings) -> Scenario {
    const NAME: &str = "fanout";
    let port = settings.port;
    if let Some(unsupported) = unless_supported(NAME, port, "/ws/room/bench-probe").await {
        return unsupported;
    }
    let members = settings.members as usize;
    let mut sockets = Vec::new();
    for room in 0..settings.rooms as usize {
        let path = format!("/ws/room/bench-{room}");
        let names: Vec<String> = (0..members).map(|m| user(room * members + m)).collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), i))
            .collect();
        let roster = Arc::new(Roster { names, index });
        for me in 0..members {
            let n = room * members + me;
            match within(open_accepted(port, &path, Credential::Header(&token(n)))).await {
                Ok(ws) => sockets.push((ws, me, Arc::clone(&roster))),
                Err(failure) => {
                    let why = format!("joining {path}: {failure}");
                    return Scenario::without_figures(NAME, Status::Failed, why);
                }
            }
        }
    }
    // A member is in its room once the server's connection task has joined
    // it, a moment after its 101: wait, so the first messages reach everyone.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let phase = Phase::default();
    let workers = sockets
        .into_iter()
        .map(|(ws, me, roster)| tokio::spawn(member(ws, me, roster, phase.clone())))
        .collect();
    let concurrency = settings.rooms * settings.members;
    measured(
        NAME,
        settings,
        concurrency,
        &phase,
        workers,
        Errors::default(),
    )
    .await
}

async fn member(mut ws: Ws, me: usize, roster: Arc<Roster>, phase: Phase) -> Tally {
    let mut tally = Tally::default();
    let bodies: Vec<String> = roster.names.iter().map(|name| said_body(name)).collect();
    let mut last_seq: Vec<Option<i64>> = vec![None; roster.names.len()];
    let mut seq = 0;
    'speaking: while !phase.stopping() {
        let started = Instant::now();
        if let Err(failure) = send_text(&mut ws, proto::say(seq, &bodies[me])).await {
            tally.errors.record(failure);
            break;
        }
        loop {
            let text = match within(next_text(&mut ws)).await {
                Ok(text) => text,
                Err(failure) => {
                    tally.errors.record(failure);
                    break 'speaking;
                }
            };
            let said = match proto::parse_said(&text) {
                Ok(said) => said,
                Err(failure) => {
                    tally.errors.record(failure);
                    continue;
                }
            };
            let Some(&from) = roster.index.get(&*said.from) else {
                let detail = format!("a delivery from {:?}, not a member", said.from);
                tally.errors.record(Failure::new("reply", detail));
                continue;
            };
            if said.body != bodies[from] {
                let detail = format!(
                    "{} said {:?}, delivered as {:?}",
                    said.from, bodies[from], said.body
                );
                tally.errors.record(Failure::new("reply", detail));
            }
            if let Some(previous) = last_seq[from]
                && said.seq != previous + 1
            {
                let detail = format!("from {}: seq {} after {previous}", said.from, said.seq);
                tally.errors.record(Failure::new("order", detail));
            }
            last_seq[from] = Some(said.seq);
            if phase.measuring() {
                tally.ops += 1;
            }
            if from == me {
                if said.seq != i64::try_from(seq).unwrap_or(-1) {
                    let detail = format!("own message {seq} came back as {}", said.seq);
                    tally.errors.record(Failure::new("order", detail));
                }
                if phase.measuring() {
                    tally.sample(started.elapsed());
                }
                break;
            }
        }
        seq += 1;
    }
    let unheard = last_seq.iter().filter(|seen| seen.is_none()).count();
    if unheard > 0 {
        let detail = format!(
            "{} never heard {unheard} of its room's members",
            roster.names[me]
        );
        tally.errors.record(Failure::new("missed", detail));
    }
    if let Err(failure) = within(close(&mut ws)).await {
        tally.errors.record(failure);
    }
    tally
}

/// The protocol checks: carriers, refusals, error frames, rooms. Cheap, and
/// run before measuring, so a table of figures never hides a server that
/// does not speak the protocol.
pub async fn checks(port: u16) -> Vec<Check> {
    let header = token(7);
    let subprotocol = token(8);
    let query = token(9);
    let unknown = unknown_token(1);
    vec![
        check(
            "header carrier",
            carrier(port, Credential::Header(&header), 7, false),
        )
        .await,
        check(
            "subprotocol carrier",
            carrier(port, Credential::Subprotocol(&subprotocol), 8, true),
        )
        .await,
        check(
            "query carrier",
            carrier(port, Credential::Query(&query), 9, true),
        )
        .await,
        check("no token refused", refused(port, Credential::None)).await,
        check(
            "unknown token refused",
            refused(port, Credential::Header(&unknown)),
        )
        .await,
        check("bad JSON gets an error frame", bad_json(port)).await,
        check("room delivery", room(port)).await,
    ]
}

/// A check passes, does not apply (the detail says why), or fails.
type Verdict = Result<Option<String>, Failure>;

async fn check(name: &str, verdict: impl Future<Output = Verdict>) -> Check {
    let (outcome, detail) = match within(verdict).await {
        Ok(None) => (Outcome::Pass, None),
        Ok(Some(why)) => (Outcome::NotSupported, Some(why)),
        Err(failure) => (Outcome::Fail, Some(failure.to_string())),
    };
    Check {
        name: name.to_owned(),
        outcome,
        detail,
    }
}

/// A carrier works when its token gets a 101 and the echo names its user;
/// the subprotocol carrier's 101 must select `bearer`, never the token. An
/// `optional` carrier that is refused is not supported rather than failed.
async fn carrier(port: u16, credential: Credential<'_>, n: usize, optional: bool) -> Verdict {
    let (mut ws, protocol) = match open(port, "/ws/echo", credential).await? {
        Opened::Open { ws, protocol } => (*ws, protocol),
        Opened::Refused(status @ (401 | 403)) if optional => {
            return Ok(Some(format!("refused with HTTP {status}")));
        }
        Opened::Refused(status) => {
            return Err(Failure::new("refused", format!("HTTP {status}")));
        }
    };
    if let Credential::Subprotocol(_) = credential
        && protocol.as_deref() != Some("bearer")
    {
        let detail = format!("the 101 selected {protocol:?}, not \"bearer\"");
        return Err(Failure::new("subprotocol", detail));
    }
    send_text(&mut ws, proto::echo(1, BODY)).await?;
    proto::check_echo(&next_text(&mut ws).await?, 1, BODY, &user(n))?;
    close(&mut ws).await?;
    Ok(None)
}

async fn refused(port: u16, credential: Credential<'_>) -> Verdict {
    expect_refused(port, "/ws/echo", credential).await?;
    Ok(None)
}

/// A frame that is not JSON gets an error frame, and the connection stays
/// usable.
async fn bad_json(port: u16) -> Verdict {
    let mut ws = open_accepted(port, "/ws/echo", Credential::Header(&token(10))).await?;
    send_text(&mut ws, "this is not JSON".to_owned()).await?;
    proto::check_error(&next_text(&mut ws).await?)?;
    send_text(&mut ws, proto::echo(2, BODY)).await?;
    proto::check_echo(&next_text(&mut ws).await?, 2, BODY, &user(10))?;
    close(&mut ws).await?;
    Ok(None)
}

/// Two members of a room: what one says reaches both.
async fn room(port: u16) -> Verdict {
    let path = "/ws/room/bench-check";
    let mut first = match open(port, path, Credential::Header(&token(11))).await? {
        Opened::Open { ws, .. } => *ws,
        Opened::Refused(404) => return Ok(Some(format!("{path}: HTTP 404"))),
        Opened::Refused(status) => return Err(Failure::new("refused", format!("HTTP {status}"))),
    };
    let mut second = open_accepted(port, path, Credential::Header(&token(12))).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send_text(&mut first, proto::say(0, "hello room")).await?;
    for ws in [&mut first, &mut second] {
        let text = next_text(ws).await?;
        let said = proto::parse_said(&text)?;
        if (&*said.from, said.seq, &*said.body) != (user(11).as_str(), 0, "hello room") {
            return Err(Failure::new("reply", format!("got {}", proto::clip(&text))));
        }
    }
    close(&mut first).await?;
    close(&mut second).await?;
    Ok(None)
}
