//! Message dispatch and whole handshakes through the real `Router`, served
//! by hyper over an in-memory pipe, each beside the same work done by the
//! hand-written axum server: the ratio is the framework's overhead, without
//! the kernel's share that dilutes it in the load test.

use std::time::{Duration, Instant};

use axum::Router;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use micro::{Client, axum_router, open, serve, sockwarden_router};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

const ECHO: &str =
    r#"{"type":"echo","seq":7,"body":"the quick brown fox jumps over the lazy dog"}"#;
const REPLY_START: &str = r#"{"type":"echo","seq":7,"#;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn round_trip(ws: &mut Client, text: &'static str) -> String {
    ws.send(Message::text(text)).await.expect("sent");
    match ws.next().await {
        Some(Ok(Message::Text(reply))) => reply.to_string(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// `iters` round trips on one open connection.
async fn round_trips(ws: &mut Client, text: &'static str, iters: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        let reply = round_trip(ws, text).await;
        debug_assert!(reply.starts_with(REPLY_START) || reply.contains("error"));
    }
    started.elapsed()
}

/// `iters` handshakes: connect with a token, one echo, close.
async fn handshakes(router: &Router, iters: u64) -> Duration {
    let started = Instant::now();
    for n in 0..iters {
        let token = format!("tok-{}", n % 10_000);
        let mut ws = open(serve(router), Some(&token)).await.expect("accepted");
        let reply = round_trip(&mut ws, ECHO).await;
        assert!(reply.starts_with(REPLY_START), "{reply}");
        ws.close(None).await.expect("closed");
        while let Some(Ok(_)) = ws.next().await {}
    }
    started.elapsed()
}

/// `iters` refusals of a client with no token.
async fn refusals(router: &Router, iters: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        let status = open(serve(router), None).await.err();
        assert_eq!(status, Some(401));
    }
    started.elapsed()
}

fn dispatch(c: &mut Criterion) {
    let rt = runtime();
    // `serve` spawns the server's side of each pipe on this runtime.
    let _entered = rt.enter();
    let servers = [
        ("sockwarden", sockwarden_router()),
        ("axum tuned", axum_router()),
    ];

    let mut group = c.benchmark_group("echo round trip");
    for (name, router) in &servers {
        let mut ws = rt
            .block_on(open(serve(router), Some("tok-42")))
            .expect("accepted");
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| rt.block_on(round_trips(&mut ws, ECHO, iters)));
        });
    }
    group.finish();

    // The error path: a frame that does not decode gets an error frame.
    let mut ws = rt
        .block_on(open(serve(&servers[0].1), Some("tok-42")))
        .expect("accepted");
    c.bench_function("echo round trip/sockwarden, bad JSON", |b| {
        b.iter_custom(|iters| rt.block_on(round_trips(&mut ws, "not json", iters)));
    });

    let mut group = c.benchmark_group("handshake");
    for (name, router) in &servers {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| rt.block_on(handshakes(router, iters)));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("refusal, no token");
    for (name, router) in &servers {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| rt.block_on(refusals(router, iters)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = dispatch
}
criterion_main!(benches);
