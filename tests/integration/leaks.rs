//! Abandoned connections leave nothing behind: no connection task, no
//! socket, no memory.
//!
//! One server, 10,000 clients a round, 200 at a time, each abandoning its
//! connection one of four ways after one echo: dropping the TCP stream
//! without a close frame; half-closing it (FIN sent, socket kept open);
//! sending half a frame and dropping; completing the close handshake. After
//! each round the hub must count zero live connections, the process must
//! hold no more file descriptors than before, and after a second round the
//! resident memory must be where the first left it.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use sockwarden::Hub;
use sockwarden::prelude::*;
use sockwarden_tests::raw::{client_frame, raw_upgrade, server_frame, write_all};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Echoes JSON strings. No auth and no per-peer cap: every client here
/// comes from 127.0.0.1, and what is measured is the connection, not the
/// caps (which have their own tests).
#[consumer(path = "/ws/abandoned", max_per_peer = "unlimited")]
struct Abandoned;

impl Consumer for Abandoned {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }
}

/// Connections a round.
const ROUND: usize = 10_000;
/// Connections open at once: 200 clients plus their 200 server ends stay
/// far under the 20,000 descriptors a process may hold here.
const BATCH: usize = 200;
/// How long the hub may take to see a round's connections gone.
const DRAIN: Duration = Duration::from_secs(20);
/// Resident memory a second round may add to the first's.
///
/// A connection that outlived its client would keep at least its 4 KiB read
/// buffer, its task and its hub entry (about 6 KiB measured for an idle
/// socket), so 10,000 leaked connections would be over 60 MiB, and a leak of
/// even ~1.7 KiB per connection would cross this bound. Below it is room for
/// what the allocator keeps of freed memory in its arenas (one per worker
/// thread) and for its fragmentation, which the warm-up round has already
/// paid once.
const GROWTH: u64 = 16 << 20;

/// Set in the child process that runs the measurement.
const ISOLATED: &str = "SOCKWARDEN_LEAKS_ISOLATED";

/// The measurement runs in a process of its own: tests in one binary share
/// the process, and a test running beside this one (a flood, a 300 KB
/// header) would move the resident memory measured here. So the test
/// starts its own binary again, filtered to itself with one test thread,
/// with `SOCKWARDEN_LEAKS_ISOLATED` set, and that child measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_connections_leave_no_task_no_socket_and_no_memory_behind() {
    if std::env::var_os(ISOLATED).is_some() {
        measure().await;
        return;
    }
    let name = module_path!()
        .split_once("::")
        .map(|(_, module)| module)
        .expect("a module path under the test crate");
    let test =
        format!("{name}::abandoned_connections_leave_no_task_no_socket_and_no_memory_behind");
    let child = tokio::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(ISOLATED, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the test binary starts again");
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the isolated measurement finished within 120 s")
        .expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown with `--nocapture`: the figures of the run.
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the isolated measurement failed:\n{stdout}\n{stderr}"
    );
    // The filter matched the test: a typo would run nothing and "pass".
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Warm-up round, measure, second round, measure.
async fn measure() {
    let hub = Hub::new();
    let app = Router::new()
        .consumer::<Abandoned>()
        .with_state(hub.clone());
    let addr = serve_with_backlog(app).await;
    let fds_before = open_fds();

    let started = Instant::now();
    round(addr, &hub).await;
    let warm = rss();
    let fds_warm = open_fds();
    eprintln!(
        "warm-up: {ROUND} connections in {:?}; RSS {} KiB; {fds_warm} fds (before: {fds_before})",
        started.elapsed(),
        warm >> 10
    );

    let started = Instant::now();
    round(addr, &hub).await;
    let after = rss();
    let fds_after = open_fds();
    eprintln!(
        "second round: {ROUND} connections in {:?}; RSS {} KiB ({:+} KiB); {fds_after} fds",
        started.elapsed(),
        after >> 10,
        (after as i64 - warm as i64) >> 10
    );

    // The listener, the runtime's own descriptors and the like are the same
    // before and after; a socket left open by either side would show here.
    assert!(
        fds_warm <= fds_before + 8 && fds_after <= fds_before + 8,
        "descriptors: {fds_before} before, {fds_warm} after the warm-up, {fds_after} after"
    );
    assert!(
        after.saturating_sub(warm) < GROWTH,
        "RSS grew by {} KiB over {ROUND} abandoned connections (bound {} KiB)",
        (after - warm) >> 10,
        GROWTH >> 10
    );
}

/// One round: `ROUND` connections, `BATCH` at a time, each abandoned the
/// way its number says; then waits for the hub to count none.
async fn round(addr: SocketAddr, hub: &Hub) {
    // Half-closed sockets stay open on the client side until the server
    // has ended their connections: the server must act on the FIN alone.
    let mut half_closed = Vec::new();
    for batch in 0..ROUND / BATCH {
        let mut clients = JoinSet::new();
        for n in batch * BATCH..(batch + 1) * BATCH {
            clients.spawn(abandon(addr, n));
        }
        while let Some(done) = clients.join_next().await {
            half_closed.extend(done.expect("a client panicked"));
        }
    }
    let deadline = Instant::now() + DRAIN;
    loop {
        let open = hub.connections();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} connections still open {DRAIN:?} after their clients left"
        );
        // The hub has no event for "count changed"; sampled, bounded above.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(half_closed);
}

/// Opens connection `n`, gets one echo, and abandons it; returns the
/// stream when it is half-closed, to be dropped later.
async fn abandon(addr: SocketAddr, n: usize) -> Option<TcpStream> {
    let (mut stream, mut buf) = raw_upgrade(addr, "/ws/abandoned").await;
    write_all(&stream, &client_frame(0x81, b"\"hi\"")).await;
    assert_eq!(
        server_frame(&stream, &mut buf).await,
        (0x1, b"\"hi\"".to_vec())
    );
    match n % 4 {
        // Gone without a word: FIN, no close frame.
        0 => None,
        // FIN sent, socket kept: the client neither writes nor reads again.
        1 => {
            stream.shutdown().await.expect("half-close");
            Some(stream)
        }
        // Half of a 20-byte frame (head, mask, 4 of 14 payload bytes).
        2 => {
            let frame = client_frame(0x81, b"\"cut mid-way\"");
            write_all(&stream, &frame[..10]).await;
            None
        }
        // The full close handshake: close 1000, the server's close back.
        _ => {
            write_all(&stream, &client_frame(0x88, &1000u16.to_be_bytes())).await;
            let (opcode, payload) = server_frame(&stream, &mut buf).await;
            assert_eq!(opcode, 0x8, "the close answered: {payload:?}");
            assert_eq!(payload.get(..2), Some(&1000u16.to_be_bytes()[..]));
            None
        }
    }
}

/// Serves `app` as `sockwarden_tests::serve` does, from a listener with a
/// backlog of 1,024. `TcpListener::bind` listens with 128 (the standard
/// library's value): a burst of 200 connects overflows that accept queue
/// while a debug build on two cores catches up, the kernel drops the SYNs
/// (`ListenOverflows` in `nstat`), and each dropped client waits out the
/// 1 s SYN retransmission. That made a round take 40 s instead of 6.
async fn serve_with_backlog(app: Router) -> SocketAddr {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind a loopback port");
    let listener = socket.listen(1024).expect("listen");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// This process's resident set, in bytes (`VmRSS` of /proc/self/status).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line in kB");
    kib << 10
}

/// This process's open file descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}
