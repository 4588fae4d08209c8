//! Liveness: keepalive pings find a dead peer, a live client is left alone,
//! and `idle_timeout` closes a quiet one. Short settings keep these fast;
//! every wait is bounded.

use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use futures_util::StreamExt;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden_tests::raw::{client_frame, raw_upgrade, server_frame, write_all};
use sockwarden_tests::{WAIT, connect, next_close, next_json, send_json, serve};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// How each connection ended, under the name it connected with.
static ENDINGS: Mutex<Vec<(String, Disconnect)>> = Mutex::new(Vec::new());

/// Echoes JSON strings; pings after 200 ms of silence, gives 300 ms to answer.
#[consumer(
    path = "/ws/pinged/{name}",
    ping_interval = "200ms",
    pong_timeout = "300ms"
)]
struct Pinged {
    #[path]
    name: String,
}

/// Echoes JSON strings; closes after 300 ms without a data message, no pings.
#[consumer(path = "/ws/idle/{name}", ping_interval = "0s", idle_timeout = "300ms")]
struct Idle {
    #[path]
    name: String,
}

/// Answers any message with [`FLOOD`] messages of 64 KiB, then `"done"`;
/// no pings, and 300 ms for the client to take each write.
#[consumer(
    path = "/ws/flood/{name}",
    ping_interval = "0s",
    pong_timeout = "300ms"
)]
struct Flood {
    #[path]
    name: String,
}

/// 25 MiB in all: more than the kernel buffers between the two ends hold.
const FLOOD: usize = 400;

impl Consumer for Flood {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, _: String) -> Result<(), Error> {
        let chunk = "x".repeat(64 << 10);
        for _ in 0..FLOOD {
            cx.send(&chunk).await?;
        }
        cx.send(&"done").await
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

impl Consumer for Pinged {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

impl Consumer for Idle {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

/// How `name`'s connection ended, waiting (bounded) for `disconnect`.
async fn ending(name: &str) -> Disconnect {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(why) = ended(name) {
            return why;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("disconnect never ran for {name}");
}

fn ended(name: &str) -> Option<Disconnect> {
    ENDINGS
        .lock()
        .unwrap()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, why)| why.clone())
}

#[test]
fn the_defaults_ping_every_20s_and_never_close_a_quiet_client() {
    let limits = sockwarden::Limits::DEFAULT;
    assert_eq!(limits.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(limits.pong_timeout, Duration::from_secs(20));
    assert_eq!(limits.idle_timeout, None);
    let spec = <Pinged as sockwarden::Endpoint>::SPEC;
    assert_eq!(spec.limits.ping_interval, Some(Duration::from_millis(200)));
    assert_eq!(spec.limits.pong_timeout, Duration::from_millis(300));
    let spec = <Idle as sockwarden::Endpoint>::SPEC;
    assert_eq!(spec.limits.ping_interval, None);
    assert_eq!(spec.limits.idle_timeout, Some(Duration::from_millis(300)));
    assert_eq!(Disconnect::TimedOut.code(), 1011);
}

#[tokio::test]
async fn a_client_that_keeps_reading_stays_connected() {
    let addr = serve(Router::new().consumer::<Pinged>()).await;
    let (mut ws, _) = connect(addr, "/ws/pinged/reader", &[]).await.accepted();

    // Read, and nothing else, for several ping intervals: tungstenite
    // answers each Ping with a Pong on its own.
    let until = Instant::now() + Duration::from_millis(1500);
    let mut pings = 0;
    loop {
        match tokio::time::timeout_at(until, ws.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("expected only pings, got {other:?}"),
        }
    }
    assert!(pings >= 3, "a ping every ~200 ms of silence, got {pings}");
    assert_eq!(ended("reader"), None, "still connected");

    send_json(&mut ws, &json!("still here")).await;
    let reply = loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => {}
            Ok(Some(Ok(Message::Text(text)))) => {
                break serde_json::from_str::<serde_json::Value>(&text).unwrap();
            }
            other => panic!("expected the echo, got {other:?}"),
        }
    };
    assert_eq!(reply, json!("still here"));
    assert_eq!(ended("reader"), None);
}

#[tokio::test]
async fn a_peer_that_never_answers_is_dropped_after_ping_interval_and_pong_timeout() {
    let addr = serve(Router::new().consumer::<Pinged>()).await;
    let (stream, mut buf) = raw_upgrade(addr, "/ws/pinged/dead").await;
    let upgraded = Instant::now();

    // Neither read nor write: a dead peer. 200 ms + 300 ms, plus margin.
    let why = ending("dead").await;
    let took = upgraded.elapsed();
    assert_eq!(why, Disconnect::TimedOut);
    assert_eq!(why.code(), 1011);
    assert!(
        took >= Duration::from_millis(450),
        "not before ping_interval + pong_timeout: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "within ping_interval + pong_timeout + margin: {took:?}"
    );

    // What the server wrote meanwhile: the Ping, then a best-effort close.
    let (opcode, _) = server_frame(&stream, &mut buf).await;
    assert_eq!(opcode, 0x9, "a Ping first");
    let (opcode, payload) = server_frame(&stream, &mut buf).await;
    assert_eq!(opcode, 0x8, "then a close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1011);
    assert_eq!(&payload[2..], b"keepalive timeout");
    // And then the TCP connection ends, with no close handshake awaited.
    let mut chunk = [0u8; 16];
    let eof = tokio::time::timeout(WAIT, async {
        loop {
            stream.readable().await.expect("readable");
            match stream.try_read(&mut chunk) {
                Ok(n) => return n,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return 0,
            }
        }
    })
    .await
    .expect("the server never dropped the connection");
    assert_eq!(eof, 0, "nothing after the close frame");
}

#[tokio::test]
async fn idle_timeout_closes_a_silent_client_but_not_a_chatty_one() {
    let addr = serve(Router::new().consumer::<Idle>()).await;

    let (mut silent, _) = connect(addr, "/ws/idle/silent", &[]).await.accepted();
    let (mut chatty, _) = connect(addr, "/ws/idle/chatty", &[]).await.accepted();
    let started = Instant::now();

    let talk = async {
        for seq in 0..10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            send_json(&mut chatty, &json!(format!("m{seq}"))).await;
            assert_eq!(next_json(&mut chatty).await, json!(format!("m{seq}")));
        }
    };
    let listen = async {
        let close = next_close(&mut silent).await;
        (close, started.elapsed())
    };
    let ((close, took), ()) = tokio::join!(listen, talk);
    assert_eq!(close, (1000, "idle timeout".to_owned()));
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    assert_eq!(
        ending("silent").await,
        Disconnect::Server {
            code: 1000,
            reason: "idle timeout".into()
        }
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(ended("chatty"), None, "a chatty client is not closed");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_when_a_write_waits_past_pong_timeout() {
    let addr = serve(Router::new().consumer::<Flood>()).await;

    // A client that reads everything gets all of it, however long it takes.
    let (mut reader, _) = connect(addr, "/ws/flood/reader", &[]).await.accepted();
    send_json(&mut reader, &json!("go")).await;
    for _ in 0..FLOOD {
        match tokio::time::timeout(WAIT, reader.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => assert_eq!(text.len(), (64 << 10) + 2),
            other => panic!("expected a 64 KiB message, got {other:?}"),
        }
    }
    assert_eq!(next_json(&mut reader).await, json!("done"));
    assert_eq!(ended("reader"), None, "a reading client stays connected");

    // One that asks, then never reads: `receive` is stuck in a send once
    // the buffers are full, and no keepalive runs meanwhile; the write's
    // own bound ends the connection.
    let (stream, _) = raw_upgrade(addr, "/ws/flood/stalled").await;
    write_all(&stream, &client_frame(0x81, br#""go""#)).await;
    let asked = Instant::now();
    let why = ending("stalled").await;
    let took = asked.elapsed();
    assert_eq!(why, Disconnect::TimedOut);
    assert!(
        took >= Duration::from_millis(300),
        "not before pong_timeout: {took:?}"
    );
    assert!(took < Duration::from_millis(3000), "{took:?}");
    drop(stream);
}
