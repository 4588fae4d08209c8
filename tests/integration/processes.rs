//! `examples/bench_server` as separate processes: rooms shared through
//! Redis, and its shutdown on SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use sockwarden_tests::{WAIT, connect_with_token, next_close, next_json, send_json, service_url};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The example binary, which `cargo test --workspace` builds beside the tests.
fn bench_server() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = profile.join("examples").join("bench_server");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace`, which builds the examples",
        binary.display()
    );
    binary
}

/// A running `bench_server`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(redis: Option<&str>) -> Server {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").port()
        };
        let mut command = Command::new(bench_server());
        command
            .env("PORT", port.to_string())
            .env_remove("REDIS_URL")
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = redis {
            command.env("REDIS_URL", url);
        }
        let mut child = command.spawn().expect("bench_server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("bench_server says ready in time")
            .expect("its stdout");
        assert_eq!(ready.as_deref(), Some("ready"));
        Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

#[tokio::test]
async fn a_room_spans_two_processes_on_one_redis() {
    let Some(redis) = service_url("REDIS_URL", "a_room_spans_two_processes_on_one_redis") else {
        return;
    };
    let (east, west) = (
        Server::start(Some(&redis)).await,
        Server::start(Some(&redis)).await,
    );
    // A room name no other run uses, on the shared Redis.
    let room = format!("/ws/room/spans-{}-{}", std::process::id(), rand_suffix());
    let mut alice = connect_with_token(east.addr, &room, "tok-1").await;
    let mut bob = connect_with_token(west.addr, &room, "tok-2").await;

    // The subscription of the other process may take a moment to reach
    // Redis: say until bob hears.
    let heard = tokio::time::timeout(WAIT, async {
        for seq in 0.. {
            send_json(
                &mut alice,
                &json!({"type": "say", "seq": seq, "body": "hi"}),
            )
            .await;
            let said = tokio::time::timeout(Duration::from_millis(200), next_json(&mut bob)).await;
            if let Ok(said) = said {
                return said;
            }
        }
        unreachable!()
    })
    .await
    .expect("a message said on one process reaches the other");
    assert_eq!(heard["type"], "said");
    assert_eq!(heard["from"], "user1");
    drop((east, west));
}

#[tokio::test]
async fn sigterm_closes_every_socket_with_1001_and_exits() {
    let mut server = Server::start(None).await;
    let mut ws = connect_with_token(server.addr, "/ws/echo", "tok-1").await;
    let pid = server.child.id().expect("running");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert_eq!(next_close(&mut ws).await.0, 1001);
    let status = tokio::time::timeout(Duration::from_secs(5), server.child.wait())
        .await
        .expect("exits within 5 s")
        .expect("its status");
    assert!(status.success(), "{status}");
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish()
}

/// A form POST over HTTP/1.1; returns the status and the `name=value` of
/// each `Set-Cookie`.
async fn post(
    addr: SocketAddr,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> (u16, Vec<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n{cookie}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("an answer in time")
        .expect("read");
    let status = response[9..12].parse().expect("a status");
    let cookies = response
        .lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| {
            line.strip_prefix("set-cookie: ")
                .or(line.strip_prefix("Set-Cookie: "))
        })
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .collect();
    (status, cookies)
}

#[tokio::test]
async fn a_logout_on_one_process_closes_the_sessions_socket_on_the_other() {
    let Some(redis) = service_url(
        "REDIS_URL",
        "a_logout_on_one_process_closes_the_sessions_socket_on_the_other",
    ) else {
        return;
    };
    let (east, west) = (
        Server::start(Some(&redis)).await,
        Server::start(Some(&redis)).await,
    );

    let (status, _) = post(east.addr, "/login", "username=user7&password=wrong", None).await;
    assert_eq!(status, 401);
    let (status, cookies) = post(east.addr, "/login", "username=user7&password=pw-7", None).await;
    assert_eq!(status, 204);
    let cookie = cookies.first().expect("a session cookie").clone();

    // The session lives in Redis: the other process knows it too.
    let origin = format!("http://{}", west.addr);
    let (mut ws, _) = sockwarden_tests::connect(
        west.addr,
        "/ws/session/echo",
        &[("cookie", &cookie), ("origin", &origin)],
    )
    .await
    .accepted();
    assert_eq!(
        sockwarden_tests::echo(&mut ws, 1, "hi").await["user"],
        "user7"
    );

    let (status, _) = post(east.addr, "/logout", "", Some(&cookie)).await;
    assert_eq!(status, 204);
    assert_eq!(next_close(&mut ws).await, (4401, "logged out".to_owned()));
    drop((east, west));
}
