//! A slow or stuck token store never stalls open connections, and a
//! handshake whose lookup takes too long is refused, never left hanging.

use std::time::{Duration, Instant};

use axum::Router;
use sockwarden::Tokens;
use sockwarden::prelude::*;
use sockwarden::store::{Blocking, BlockingTokenStore, StoreError, TokenStore};
use sockwarden_tests::{
    TokenApp, User, connect, connect_with_token, echo, next_close, next_json, serve,
};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::apps::EchoIn;

const LOOKUP: Duration = Duration::from_millis(500);

/// A synchronous store that blocks its thread for 500 ms on each lookup,
/// as a blocking database driver would.
struct SlowDb;

impl BlockingTokenStore for SlowDb {
    type User = User;
    fn lookup(&self, token: &str) -> Result<Option<User>, StoreError> {
        std::thread::sleep(LOOKUP);
        Ok(token
            .strip_prefix("tok-")
            .map(|n| User::named(&format!("user{n}"))))
    }
}

/// The same blocking lookup called straight from async code: the mistake
/// that `Blocking` exists to prevent.
struct SlowDbOnTheRuntime;

impl TokenStore for SlowDbOnTheRuntime {
    type User = User;
    async fn lookup(&self, token: &str) -> Result<Option<User>, StoreError> {
        SlowDb.lookup(token)
    }
}

// Echoes as fast as the client sends: the rate limit is not what is tested.
#[consumer(
    path = "/ws/echo",
    auth = "token",
    auth_timeout = "10s",
    messages_per_second = "unlimited"
)]
#[requires_auth]
struct SlowEcho {
    #[user]
    user: User,
}

impl Consumer for SlowEcho {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        let EchoIn::Echo { seq, body } = msg;
        cx.send(&serde_json::json!({ "type": "echo", "seq": seq, "body": body, "user": self.user.name })).await
    }
}

/// The slowest echo round trip on an open connection while three handshakes
/// wait on the store. The test runtime is single-threaded, so anything that
/// blocks it shows here.
async fn slowest_echo_during_lookups(tokens: Tokens<User>) -> Duration {
    let addr = serve(
        Router::new()
            .consumer::<SlowEcho>()
            .with_state(TokenApp::new(tokens)),
    )
    .await;
    let mut open = connect_with_token(addr, "/ws/echo", "tok-1").await;
    let handshakes: Vec<_> = (2..5)
        .map(|n| {
            tokio::spawn(
                async move { connect_with_token(addr, "/ws/echo", &format!("tok-{n}")).await },
            )
        })
        .collect();
    // Echo for longer than one lookup takes, while the handshakes look up.
    let window = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut seq = 0;
    while window.elapsed() < LOOKUP + LOOKUP / 2 {
        let started = Instant::now();
        assert_eq!(echo(&mut open, seq, "ping").await["seq"], seq);
        slowest = slowest.max(started.elapsed());
        seq += 1;
    }
    for handshake in handshakes {
        let mut ws = handshake.await.expect("handshake task");
        assert_eq!(echo(&mut ws, 9, "late").await["body"], "late");
    }
    slowest
}

#[tokio::test]
async fn a_blocking_store_behind_the_adapter_does_not_delay_open_connections() {
    let slowest = slowest_echo_during_lookups(Tokens::new(Blocking::new(SlowDb))).await;
    assert!(
        slowest < LOOKUP / 2,
        "an echo waited {slowest:?} behind token lookups"
    );
}

#[tokio::test]
async fn the_same_store_without_the_adapter_would_stall_them() {
    // Shows that the test above can fail: the one difference is the adapter.
    let slowest = slowest_echo_during_lookups(Tokens::new(SlowDbOnTheRuntime)).await;
    assert!(
        slowest >= LOOKUP / 2,
        "expected a stall, the slowest echo took {slowest:?}"
    );
}

/// A store that never answers.
struct Stuck;

impl TokenStore for Stuck {
    type User = User;
    async fn lookup(&self, _: &str) -> Result<Option<User>, StoreError> {
        std::future::pending().await
    }
}

#[consumer(path = "/ws/http", auth = "token", auth_timeout = "200ms")]
#[requires_auth]
struct StuckHttp {
    #[user]
    _user: User,
}

#[consumer(
    path = "/ws/close",
    auth = "token",
    auth_timeout = "200ms",
    reject = "close"
)]
#[requires_auth]
struct StuckClose {
    #[user]
    _user: User,
}

impl Consumer for StuckHttp {
    type In = String;
    async fn receive(&mut self, _: &mut Cx<Self>, _: String) -> Result<(), Error> {
        Ok(())
    }
}

impl Consumer for StuckClose {
    type In = String;
    async fn receive(&mut self, _: &mut Cx<Self>, _: String) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::test]
async fn a_lookup_past_the_auth_timeout_is_refused_not_left_hanging() {
    let app = Router::new()
        .consumer::<StuckHttp>()
        .consumer::<StuckClose>()
        .with_state(TokenApp::new(Tokens::new(Stuck)));
    let addr = serve(app).await;
    let auth = [("authorization", "Token tok-1")];

    let (status, _, body) = connect(addr, "/ws/http", &auth).await.refused();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("try_again_later"), "{body}");

    let (mut ws, _) = connect(addr, "/ws/close", &auth).await.accepted();
    assert_eq!(next_json(&mut ws).await["code"], 1013);
    assert_eq!(next_close(&mut ws).await.0, 1013);

    // No credential at all needs no lookup, so it is refused at once.
    let (status, _, _) = connect(addr, "/ws/http", &[]).await.refused();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
