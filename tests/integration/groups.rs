//! Groups, the hub, revocation of live sockets, shutdown and backpressure,
//! each over loopback with real clients.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Hub, Tokens};
use sockwarden_tests::{
    Handshake, TokenApp, User, WAIT, Ws, connect, connect_with_token, next_close, next_json,
    send_json, serve,
};
use tokio::sync::mpsc;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RoomIn {
    Say { seq: u64, body: String },
    Sleep { ms: u64 },
    WhoAmI,
    Leave,
}

/// A chat room: joins `room:{room}` in `connect`; the room `closed`
/// refuses after joining, to show that a refused connection joins nothing.
#[consumer(path = "/ws/room/{room}", auth = "token", query_token = true)]
#[requires_auth]
struct Room {
    #[path]
    room: String,
    #[user]
    user: User,
    #[state]
    ended: Ended,
}

/// Where the consumers report their `disconnect`.
#[derive(Clone)]
struct Ended(mpsc::UnboundedSender<(String, u16)>);

impl Room {
    fn group(&self) -> String {
        format!("room:{}", self.room)
    }
}

impl Consumer for Room {
    type In = RoomIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        cx.join(&self.group());
        if self.room == "closed" {
            return Connect::Reject(Rejection::forbidden("this room is closed"));
        }
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: RoomIn) -> Result<(), Error> {
        match msg {
            RoomIn::Say { seq, body } => {
                let said =
                    json!({"type": "said", "from": self.user.name, "seq": seq, "body": body});
                cx.group(self.group()).send(&said).await?;
            }
            RoomIn::Sleep { ms } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                cx.send(&json!({"type": "slept"})).await?;
            }
            RoomIn::WhoAmI => {
                let me = deep::who_is_calling().await;
                cx.send(&json!({"type": "me", "user": me})).await?;
            }
            RoomIn::Leave => {
                cx.leave(&self.group());
                cx.send(&json!({"type": "left"})).await?;
            }
        }
        Ok(())
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        let _ = self.ended.0.send((self.user.name.clone(), why.code()));
    }
}

/// Code far from any `Cx`, as an app's service layer would be.
mod deep {
    use sockwarden_tests::User;

    pub(super) async fn who_is_calling() -> String {
        tokio::task::yield_now().await;
        innermost().await
    }

    async fn innermost() -> String {
        sockwarden::current_user::<User>().map_or_else(|| "nobody".to_owned(), |u| u.name.clone())
    }
}

#[derive(Clone)]
struct App {
    tokens: TokenApp<User>,
    ended: Ended,
}

impl axum::extract::FromRef<App> for Hub {
    fn from_ref(app: &App) -> Hub {
        app.tokens.hub.clone()
    }
}

impl axum::extract::FromRef<App> for Tokens<User> {
    fn from_ref(app: &App) -> Tokens<User> {
        app.tokens.tokens.clone()
    }
}

impl axum::extract::FromRef<App> for Ended {
    fn from_ref(app: &App) -> Ended {
        app.ended.clone()
    }
}

/// An HTTP handler that publishes to a room.
async fn publish(State(hub): State<Hub>, Path(room): Path<String>, body: String) -> &'static str {
    let event = json!({"type": "news", "body": body});
    hub.group(format!("room:{room}"))
        .send(&event)
        .await
        .expect("local send");
    "sent"
}

struct Server {
    addr: std::net::SocketAddr,
    hub: Hub,
    tokens: Tokens<User>,
    ended: mpsc::UnboundedReceiver<(String, u16)>,
}

async fn server() -> Server {
    let store = MemoryTokenStore::new();
    store.insert("tok-a1", User::named("alice"));
    store.insert("tok-a2", User::named("alice"));
    store.insert("tok-b", User::named("bob"));
    store.insert("tok-c", User::named("carol"));
    let (tx, ended) = mpsc::unbounded_channel();
    let app = App {
        tokens: TokenApp::new(Tokens::new(store)),
        ended: Ended(tx),
    };
    let (hub, tokens) = (app.tokens.hub.clone(), app.tokens.tokens.clone());
    let router = Router::new()
        .consumer::<Room>()
        .route("/publish/{room}", post(publish))
        .with_state(app);
    Server {
        addr: serve(router).await,
        hub,
        tokens,
        ended,
    }
}

impl Server {
    async fn join(&self, room: &str, token: &str) -> Ws {
        connect_with_token(self.addr, &format!("/ws/room/{room}"), token).await
    }

    /// Waits until the hub holds exactly `n` connections (registration
    /// and release are asynchronous to the client).
    async fn settle(&self, n: usize) {
        tokio::time::timeout(WAIT, async {
            while self.hub.connections() != n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the hub holds {} connections, not {n}",
                self.hub.connections()
            )
        });
    }
}

async fn say(ws: &mut Ws, seq: u64, body: &str) {
    send_json(ws, &json!({"type": "say", "seq": seq, "body": body})).await;
}

/// Asserts that no data frame arrives within a short while.
async fn silent(ws: &mut Ws) {
    use futures_util::StreamExt;
    if let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
        panic!("expected silence, got {message:?}");
    }
}

#[tokio::test]
async fn a_group_send_reaches_every_member_and_only_them() {
    let server = server().await;
    let mut alice = server.join("lobby", "tok-a1").await;
    let mut bob = server.join("lobby", "tok-b").await;
    let mut carol = server.join("kitchen", "tok-c").await;
    server.settle(3).await;

    say(&mut alice, 1, "hello").await;
    let said = json!({"type": "said", "from": "alice", "seq": 1, "body": "hello"});
    assert_eq!(next_json(&mut alice).await, said);
    assert_eq!(next_json(&mut bob).await, said);
    silent(&mut carol).await;
}

#[tokio::test]
async fn http_handlers_and_background_tasks_send_to_groups() {
    let server = server().await;
    let mut bob = server.join("lobby", "tok-b").await;
    server.settle(1).await;

    let response = reqwest_like_post(server.addr, "/publish/lobby", "from http").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(
        next_json(&mut bob).await,
        json!({"type": "news", "body": "from http"})
    );

    let hub = server.hub.clone();
    tokio::spawn(async move {
        hub.group("room:lobby")
            .send(&json!({"type": "tick"}))
            .await
            .unwrap();
    })
    .await
    .unwrap();
    assert_eq!(next_json(&mut bob).await, json!({"type": "tick"}));
}

#[tokio::test]
async fn a_refused_connection_joins_nothing_and_leaves_no_trace() {
    let server = server().await;
    let mut bob = server.join("lobby", "tok-b").await;
    server.settle(1).await;
    let refused = connect(
        server.addr,
        "/ws/room/closed",
        &[("authorization", "Token tok-a1")],
    )
    .await;
    let Handshake::Refused(status, ..) = refused else {
        panic!("the closed room accepted");
    };
    assert_eq!(status, 403);
    server.settle(1).await;
    // Its join in `connect` never happened: the group has no member.
    server
        .hub
        .group("room:closed")
        .send(&json!({"type": "x"}))
        .await
        .unwrap();
    say(&mut bob, 1, "still here").await;
    assert_eq!(next_json(&mut bob).await["body"], "still here");
}

#[tokio::test]
async fn leaving_stops_the_events_and_closing_leaves_every_group() {
    let server = server().await;
    let mut alice = server.join("lobby", "tok-a1").await;
    let mut bob = server.join("lobby", "tok-b").await;
    server.settle(2).await;
    send_json(&mut bob, &json!({"type": "leave"})).await;
    assert_eq!(next_json(&mut bob).await, json!({"type": "left"}));
    say(&mut alice, 1, "anyone?").await;
    assert_eq!(next_json(&mut alice).await["body"], "anyone?");
    silent(&mut bob).await;

    drop(alice);
    server.settle(1).await;
}

#[tokio::test]
async fn revoking_a_token_closes_the_sockets_opened_with_it_and_no_other() {
    let mut server = server().await;
    let mut first = server.join("lobby", "tok-a1").await;
    let mut second = server.join("lobby", "tok-a2").await;
    server.settle(2).await;

    let started = std::time::Instant::now();
    assert!(server.tokens.revoke("tok-a1").await.unwrap());
    assert_eq!(
        next_close(&mut first).await,
        (4401, "token revoked".to_owned())
    );
    let took = started.elapsed();
    assert_eq!(server.ended.recv().await, Some(("alice".to_owned(), 4401)));
    // The same user's other token keeps its socket.
    say(&mut second, 1, "still in").await;
    assert_eq!(next_json(&mut second).await["body"], "still in");
    // A revoked token opens nothing any more.
    let again = connect(
        server.addr,
        "/ws/room/lobby",
        &[("authorization", "Token tok-a1")],
    )
    .await;
    assert_eq!(again.refused().0, 401);
    eprintln!("revocation reached the socket in {took:?}");
}

#[tokio::test]
async fn closing_a_user_closes_all_of_its_sockets_only() {
    let server = server().await;
    let mut a1 = server.join("lobby", "tok-a1").await;
    let mut a2 = server.join("kitchen", "tok-a2").await;
    let mut bob = server.join("lobby", "tok-b").await;
    server.settle(3).await;

    server
        .hub
        .user("alice")
        .close(CloseCode::NOT_AUTHENTICATED, "logged out everywhere")
        .await
        .unwrap();
    for ws in [&mut a1, &mut a2] {
        assert_eq!(
            next_close(ws).await,
            (4401, "logged out everywhere".to_owned())
        );
    }
    say(&mut bob, 1, "alone").await;
    assert_eq!(next_json(&mut bob).await["body"], "alone");
    server.settle(1).await;
}

#[tokio::test]
async fn a_close_order_reaches_a_connection_busy_in_receive_when_it_returns() {
    let server = server().await;
    let mut alice = server.join("lobby", "tok-a1").await;
    server.settle(1).await;
    send_json(&mut alice, &json!({"type": "sleep", "ms": 300})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server
        .hub
        .user("alice")
        .close(CloseCode::NOT_AUTHENTICATED, "bye")
        .await
        .unwrap();
    // `receive` is not cancelled: its reply is not sent to a connection
    // ordered closed, and the close follows.
    assert_eq!(next_close(&mut alice).await, (4401, "bye".to_owned()));
}

#[tokio::test]
async fn events_wait_for_a_long_receive_and_keep_their_order() {
    let server = server().await;
    let mut alice = server.join("lobby", "tok-a1").await;
    let mut bob = server.join("lobby", "tok-b").await;
    server.settle(2).await;

    send_json(&mut bob, &json!({"type": "sleep", "ms": 300})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    for seq in 1..=3 {
        say(&mut alice, seq, "while bob sleeps").await;
    }
    assert_eq!(next_json(&mut bob).await, json!({"type": "slept"}));
    for seq in 1..=3 {
        assert_eq!(next_json(&mut bob).await["seq"], seq);
    }
}

#[tokio::test]
async fn the_current_user_is_known_deep_in_a_handler() {
    let server = server().await;
    let mut bob = server.join("lobby", "tok-b").await;
    send_json(&mut bob, &json!({"type": "who_am_i"})).await;
    assert_eq!(
        next_json(&mut bob).await,
        json!({"type": "me", "user": "bob"})
    );
    assert!(sockwarden::current_user::<User>().is_none());
}

#[tokio::test]
async fn shutdown_refuses_new_upgrades_closes_live_sockets_with_1001_and_drains() {
    let mut server = server().await;
    let mut alice = server.join("lobby", "tok-a1").await;
    let mut bob = server.join("kitchen", "tok-b").await;
    server.settle(2).await;

    let hub = server.hub.clone();
    let shutdown = tokio::spawn(async move { hub.shutdown(WAIT).await });
    for ws in [&mut alice, &mut bob] {
        assert_eq!(
            next_close(ws).await,
            (1001, "server shutting down".to_owned())
        );
    }
    assert_eq!(shutdown.await.unwrap(), 0, "every connection drained");
    let mut ended = vec![
        server.ended.recv().await.unwrap(),
        server.ended.recv().await.unwrap(),
    ];
    ended.sort();
    assert_eq!(
        ended,
        [("alice".to_owned(), 1001), ("bob".to_owned(), 1001)]
    );

    let late = connect(
        server.addr,
        "/ws/room/lobby",
        &[("authorization", "Token tok-c")],
    )
    .await;
    assert_eq!(late.refused().0, 503);
}

/// A slow member (its client stopped reading) is closed with 1013 once its
/// inbox is full, and neither the sender nor the other member waits for it.
#[tokio::test]
async fn a_member_that_stops_reading_never_slows_the_others() {
    let server = server().await;
    let (stalled, _) =
        sockwarden_tests::raw::raw_upgrade(server.addr, "/ws/room/busy?token=tok-a1").await;
    let mut bob = server.join("busy", "tok-b").await;
    server.settle(2).await;

    // 1,000 events a second for two seconds, 8 KiB each: far more than the
    // stalled client's socket buffers and inbox (256) can hold.
    let body = "x".repeat(8192);
    let hub = server.hub.clone();
    let sender = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(1));
        for seq in 0..2000u64 {
            ticker.tick().await;
            let event = json!({"type": "tick", "seq": seq, "body": body});
            hub.group("room:busy").send(&event).await.unwrap();
        }
    });
    for seq in 0..2000u64 {
        let event = next_json(&mut bob).await;
        assert_eq!(
            event["seq"], seq,
            "the reading member got every event in order"
        );
    }
    sender.await.unwrap();
    // The stalled member was closed and released: only bob is left.
    server.settle(1).await;
    drop(stalled);
}

/// A minimal HTTP/1.1 POST, to show an ordinary handler publishing.
async fn reqwest_like_post(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("response in time")
        .unwrap();
    response
}

/// Groups and caps declared in the attribute.
#[consumer(
    path = "/ws/declared/{room}",
    auth = "token",
    groups = ["room:{room}", "user:{user}", "everyone"],
    max_per_user = 2
)]
#[requires_auth]
struct Declared {
    #[path]
    room: String,
    #[user]
    user: User,
}

impl Consumer for Declared {
    type In = serde_json::Value;

    async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
        let _ = (&self.room, &self.user);
        Ok(())
    }
}

async fn declared_server() -> (std::net::SocketAddr, Hub) {
    let store = MemoryTokenStore::new();
    store.insert("tok-a1", User::named("alice"));
    store.insert("tok-b", User::named("bob"));
    let app = TokenApp::new(Tokens::new(store));
    let hub = app.hub.clone();
    (
        serve(Router::new().consumer::<Declared>().with_state(app)).await,
        hub,
    )
}

#[tokio::test]
async fn declared_groups_are_joined_on_accept_and_left_on_close() {
    let (addr, hub) = declared_server().await;
    let mut alice = connect_with_token(addr, "/ws/declared/lobby", "tok-a1").await;
    let mut bob = connect_with_token(addr, "/ws/declared/attic", "tok-b").await;

    hub.group("room:lobby")
        .send(&json!({"to": "lobby"}))
        .await
        .unwrap();
    assert_eq!(next_json(&mut alice).await, json!({"to": "lobby"}));
    hub.group("user:bob")
        .send(&json!({"to": "bob"}))
        .await
        .unwrap();
    assert_eq!(next_json(&mut bob).await, json!({"to": "bob"}));
    hub.group("everyone")
        .send(&json!({"to": "all"}))
        .await
        .unwrap();
    assert_eq!(next_json(&mut alice).await, json!({"to": "all"}));
    assert_eq!(next_json(&mut bob).await, json!({"to": "all"}));
    silent(&mut alice).await;

    drop((alice, bob));
    tokio::time::timeout(WAIT, async {
        while hub.connections() != 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("both connections left the hub");
}

#[tokio::test]
async fn a_user_cap_holds_under_a_burst_of_handshakes() {
    let (addr, hub) = declared_server().await;
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            tokio::spawn(async move {
                connect(
                    addr,
                    "/ws/declared/lobby",
                    &[("authorization", "Token tok-a1")],
                )
                .await
            })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Handshake::Accepted(ws, _) => accepted.push(ws),
            Handshake::Refused(status, _, body) => {
                assert_eq!(status, 429, "{body}");
                assert!(
                    body.contains("too many connections for this user"),
                    "{body}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((accepted.len(), refused), (2, 8), "no overshoot");
    assert_eq!(hub.connections(), 2);
    // Another user is not counted against alice.
    connect_with_token(addr, "/ws/declared/lobby", "tok-b").await;
    // A freed slot can be taken again.
    drop(accepted.pop());
    tokio::time::timeout(WAIT, async {
        loop {
            let again = connect(
                addr,
                "/ws/declared/lobby",
                &[("authorization", "Token tok-a1")],
            );
            if let Handshake::Accepted(..) = again.await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the slot is released when the connection ends");
}

/// A consumer whose event handler panics on one kind of event.
#[consumer(path = "/ws/fragile", groups = ["fragile"])]
struct Fragile;

impl Consumer for Fragile {
    type In = serde_json::Value;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> {
        cx.send(&msg).await
    }

    async fn event(&mut self, cx: &mut Cx<Self>, event: sockwarden::Event) -> Result<(), Error> {
        assert_ne!(event.kind(), Some("boom"), "a bug in the event handler");
        cx.send_text(event.into_text()).await
    }
}

#[tokio::test]
async fn a_panic_in_an_event_handler_closes_only_its_connection_with_1011() {
    let hub = Hub::new();
    let app = Router::new()
        .consumer::<Fragile>()
        .with_state(NoTokens(hub.clone()));
    let addr = serve(app).await;
    let mut first = connect(addr, "/ws/fragile", &[]).await.accepted().0;
    let mut second = connect(addr, "/ws/fragile", &[]).await.accepted().0;
    tokio::time::timeout(WAIT, async {
        while hub.connections() != 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    hub.group("fragile")
        .send(&json!({"type": "boom"}))
        .await
        .unwrap();
    assert_eq!(
        next_close(&mut first).await,
        (1011, "internal error".to_owned())
    );
    assert_eq!(
        next_close(&mut second).await,
        (1011, "internal error".to_owned())
    );
    // The server goes on: a new connection works.
    let mut third = connect(addr, "/ws/fragile", &[]).await.accepted().0;
    send_json(&mut third, &json!({"still": "up"})).await;
    assert_eq!(next_json(&mut third).await, json!({"still": "up"}));
}

/// A state with a hub and nothing else.
#[derive(Clone)]
struct NoTokens(Hub);

impl axum::extract::FromRef<NoTokens> for Hub {
    fn from_ref(state: &NoTokens) -> Hub {
        state.0.clone()
    }
}
