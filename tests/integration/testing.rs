//! `sockwarden::testing` tells the truth: one table of scenarios runs through
//! its client and through tokio-tungstenite over TCP, and both must see the
//! same handshake, messages and close codes. Then the client's own helpers:
//! HTTP login and cookies, timeouts that fail with a message, shutdown.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, RawForm};
use axum::http::header;
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::testing::{Outcome, Received, TestServer};
use sockwarden::{Hub, RejectKind, Scope, Tokens};
use sockwarden_tests::{User, WAIT, Ws, serve};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

// ---------------------------------------------------------------------------
// The app both clients talk to.
// ---------------------------------------------------------------------------

/// What the echo consumers take.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum In {
    Echo { body: String },
    Ignore,
}

/// Token auth refused by HTTP status, every carrier.
#[consumer(path = "/ws/t/echo", auth = "token", query_token = true)]
#[requires_auth]
struct ByStatus {
    #[user]
    user: User,
}

impl Consumer for ByStatus {
    type In = In;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: In) -> Result<(), Error> {
        answer(cx, &self.user, msg).await
    }
}

/// The same, refused by error frame and close code.
#[consumer(
    path = "/ws/t/echo-close",
    auth = "token",
    reject = "close",
    query_token = true
)]
#[requires_auth]
struct ByClose {
    #[user]
    user: User,
}

impl Consumer for ByClose {
    type In = In;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: In) -> Result<(), Error> {
        answer(cx, &self.user, msg).await
    }
}

async fn answer<C: Consumer>(cx: &mut Cx<C>, user: &User, msg: In) -> Result<(), Error> {
    match msg {
        In::Echo { body } => {
            cx.send(&json!({ "type": "echo", "body": body, "user": user.name }))
                .await
        }
        In::Ignore => Ok(()),
    }
}

/// Rooms with subprotocols and a session cookie; the consumer checks the
/// origin itself (the runtime has no origin policy yet). Refuses by status.
#[consumer(path = "/ws/t/room/{room}", protocols = ["chat.v1", "chat.v2"])]
struct Room {
    #[path]
    room: String,
    #[cookie("session")]
    session: Option<String>,
}

impl Consumer for Room {
    type In = Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        greet(cx, &self.room, self.session.as_deref()).await
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Value) -> Result<(), Error> {
        cx.send(&json!({ "type": "echo", "got": msg })).await
    }
}

/// The same rooms, refusing by close code.
#[consumer(path = "/ws/t/room-close/{room}", reject = "close", protocols = ["chat.v1", "chat.v2"])]
struct RoomClose {
    #[path]
    room: String,
    #[cookie("session")]
    session: Option<String>,
}

impl Consumer for RoomClose {
    type In = Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        greet(cx, &self.room, self.session.as_deref()).await
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Value) -> Result<(), Error> {
        cx.send(&json!({ "type": "echo", "got": msg })).await
    }
}

/// Admits or refuses, and greets from `connect` with what the scope holds.
async fn greet<C: Consumer>(cx: &mut Cx<C>, room: &str, session: Option<&str>) -> Connect {
    let hello = match admit(cx.scope(), room, session) {
        Ok(hello) => hello,
        Err(rejection) => return Connect::Reject(rejection),
    };
    match cx.send(&hello).await {
        Ok(()) => Connect::Accept,
        Err(_) => Connect::Reject(Rejection::server_error("could not greet")),
    }
}

fn admit<U: Clone>(
    scope: &Scope<U>,
    room: &str,
    session: Option<&str>,
) -> Result<Value, Rejection> {
    if scope
        .origin()
        .is_some_and(|origin| origin != "https://chat.example")
    {
        return Err(Rejection::new(RejectKind::Policy, "origin not allowed"));
    }
    if room == "private" {
        return Err(Rejection::forbidden("this room is private"));
    }
    Ok(json!({
        "type": "hello",
        "room": room,
        "session": session,
        "origin": scope.origin(),
        "selected": scope.selected_protocol(),
        "peer_is_loopback": scope.peer_addr().is_some_and(|peer| peer.ip().is_loopback()),
    }))
}

/// Logs in whoever asks: sets `session=<user>`.
async fn login(RawForm(form): RawForm) -> ([(header::HeaderName, String); 1], &'static str) {
    let user = form_user(&form);
    (
        [(
            header::SET_COOKIE,
            format!("session={user}; HttpOnly; Path=/"),
        )],
        "welcome",
    )
}

fn form_user(form: &[u8]) -> String {
    String::from_utf8_lossy(form)
        .split('&')
        .find_map(|pair| pair.strip_prefix("user="))
        .unwrap_or_default()
        .to_owned()
}

/// A body of unknown length: hyper sends it chunked.
async fn chunked() -> axum::body::Body {
    let parts = ["hello", ", ", "world"].map(Ok::<_, std::convert::Infallible>);
    axum::body::Body::from_stream(futures_util::stream::iter(parts))
}

/// The app's state: its token store and its own hub of connections.
#[derive(Clone)]
struct AppState {
    tokens: Tokens<User>,
    hub: Hub,
}

impl FromRef<AppState> for Tokens<User> {
    fn from_ref(state: &AppState) -> Tokens<User> {
        state.tokens.clone()
    }
}

impl FromRef<AppState> for Hub {
    fn from_ref(state: &AppState) -> Hub {
        state.hub.clone()
    }
}

fn app() -> Router {
    let store = MemoryTokenStore::new();
    for n in 1..=3 {
        store.insert(&format!("tok-{n}"), User::named(&format!("user{n}")));
    }
    let state = AppState {
        tokens: Tokens::new(store),
        hub: Hub::default(),
    };
    Router::new()
        .consumer::<ByStatus>()
        .consumer::<ByClose>()
        .consumer::<Room>()
        .consumer::<RoomClose>()
        .route("/login", post(login))
        .route("/chunked", get(chunked))
        .with_state(state)
}

// ---------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------

/// How a row's client presents itself.
#[derive(Default, Clone, Copy)]
struct Client {
    /// `Authorization: Bearer <t>`.
    token: Option<&'static str>,
    /// `Sec-WebSocket-Protocol: …, bearer, <t>`.
    token_protocol: Option<&'static str>,
    /// `?token=<t>`.
    query_token: Option<&'static str>,
    origin: Option<&'static str>,
    protocols: &'static [&'static str],
    /// `Cookie: session=<v>`.
    session: Option<&'static str>,
}

/// What the client does after the handshake.
enum Step {
    SendJson(Value),
    SendText(&'static str),
    SendBinary(&'static [u8]),
    /// Read the next message or close.
    Recv,
    /// Nothing may arrive for [`QUIET`].
    Silent,
    /// Close with this code and reason, and read the answer.
    Close(u16, &'static str),
}

/// What a scenario should come to, as `sockwarden::testing` names it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Accepted,
    Rejected(u16),
    Closed(u16),
    Failed,
}

struct Row {
    name: &'static str,
    path: &'static str,
    client: Client,
    steps: Vec<Step>,
    expect: Expect,
    /// What the transcript must show besides agreeing across clients.
    check: fn(&Transcript) -> bool,
}

/// Both clients' view, normalised to compare.
#[derive(Debug, PartialEq)]
struct Transcript {
    handshake: Handshake,
    events: Vec<Event>,
}

#[derive(Debug, PartialEq)]
enum Handshake {
    /// 101, and the subprotocol it selected.
    Upgraded { protocol: Option<String> },
    /// Refused before the upgrade.
    Refused {
        status: u16,
        content_type: Option<String>,
        challenge: Option<String>,
        body: String,
    },
    /// The client failed the connection.
    Failed,
}

#[derive(Debug, PartialEq)]
enum Event {
    Json(Value),
    Text(String),
    Binary(Vec<u8>),
    Close(u16, String),
    Silent,
}

/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_millis(200);

fn echo(body: &str) -> Step {
    Step::SendJson(json!({ "type": "echo", "body": body }))
}

fn json_at(t: &Transcript, i: usize) -> &Value {
    match t.events.get(i) {
        Some(Event::Json(value)) => value,
        _ => &Value::Null,
    }
}

fn close_at(t: &Transcript, i: usize) -> Option<u16> {
    match t.events.get(i) {
        Some(Event::Close(code, _)) => Some(*code),
        _ => None,
    }
}

fn refused(t: &Transcript) -> (u16, Value, Option<&str>) {
    match &t.handshake {
        Handshake::Refused {
            status,
            body,
            challenge,
            ..
        } => (
            *status,
            serde_json::from_str(body).unwrap_or(Value::Null),
            challenge.as_deref(),
        ),
        _ => (0, Value::Null, None),
    }
}

fn protocol(t: &Transcript) -> Option<&str> {
    match &t.handshake {
        Handshake::Upgraded { protocol } => protocol.as_deref(),
        _ => None,
    }
}

fn rows() -> Vec<Row> {
    let token = |t| Client {
        token: Some(t),
        ..Client::default()
    };
    vec![
        Row {
            name: "a token in the Authorization header is accepted",
            path: "/ws/t/echo",
            client: token("tok-1"),
            steps: vec![echo("hi"), Step::Recv],
            expect: Expect::Accepted,
            check: |t| {
                *json_at(t, 0) == json!({ "type": "echo", "body": "hi", "user": "user1" })
                    && protocol(t).is_none()
            },
        },
        Row {
            name: "a token in the subprotocol is accepted, only the marker echoed",
            path: "/ws/t/echo",
            client: Client {
                token_protocol: Some("tok-2"),
                ..Client::default()
            },
            steps: vec![echo("hi"), Step::Recv],
            expect: Expect::Accepted,
            check: |t| protocol(t) == Some("bearer") && json_at(t, 0)["user"] == "user2",
        },
        Row {
            name: "a token in the query is accepted",
            path: "/ws/t/echo",
            client: Client {
                query_token: Some("tok-3"),
                ..Client::default()
            },
            steps: vec![echo("hi"), Step::Recv],
            expect: Expect::Accepted,
            check: |t| json_at(t, 0)["user"] == "user3",
        },
        Row {
            name: "no token is refused with 401 in http mode",
            path: "/ws/t/echo",
            client: Client::default(),
            steps: vec![],
            expect: Expect::Rejected(401),
            check: |t| {
                let (_, body, challenge) = refused(t);
                body["error"] == "not_authenticated"
                    && challenge.is_some_and(|c| c.starts_with("Bearer"))
            },
        },
        Row {
            name: "a forged token is refused with 401 in http mode",
            path: "/ws/t/echo",
            client: token("forged"),
            steps: vec![],
            expect: Expect::Rejected(401),
            check: |t| refused(t).1["error"] == "not_authenticated",
        },
        Row {
            name: "no token is closed with 4401 and an error frame in close mode",
            path: "/ws/t/echo-close",
            client: Client::default(),
            steps: vec![Step::Recv, Step::Recv],
            expect: Expect::Closed(4401),
            check: |t| {
                json_at(t, 0)["error"] == "not_authenticated"
                    && json_at(t, 0)["code"] == 4401
                    && close_at(t, 1) == Some(4401)
            },
        },
        Row {
            name: "a forged subprotocol token is closed with 4401, the marker echoed",
            path: "/ws/t/echo-close",
            client: Client {
                token_protocol: Some("forged"),
                ..Client::default()
            },
            steps: vec![Step::Recv, Step::Recv],
            expect: Expect::Closed(4401),
            check: |t| protocol(t) == Some("bearer") && close_at(t, 1) == Some(4401),
        },
        Row {
            name: "a valid token in close mode is accepted",
            path: "/ws/t/echo-close",
            client: token("tok-1"),
            steps: vec![echo("in"), Step::Recv],
            expect: Expect::Accepted,
            check: |t| json_at(t, 0)["user"] == "user1",
        },
        Row {
            name: "a forbidden room is refused with 403",
            path: "/ws/t/room/private",
            client: Client::default(),
            steps: vec![],
            expect: Expect::Rejected(403),
            check: |t| {
                let (_, body, _) = refused(t);
                body["error"] == "forbidden" && body["reason"] == "this room is private"
            },
        },
        Row {
            name: "a forbidden room is closed with 4403",
            path: "/ws/t/room-close/private",
            client: Client::default(),
            steps: vec![Step::Recv, Step::Recv],
            expect: Expect::Closed(4403),
            check: |t| {
                json_at(t, 0)["error"] == "forbidden"
                    && t.events.get(1) == Some(&Event::Close(4403, "this room is private".into()))
            },
        },
        Row {
            name: "a foreign origin is refused with 403 (policy)",
            path: "/ws/t/room/lobby",
            client: Client {
                origin: Some("https://evil.example"),
                ..Client::default()
            },
            steps: vec![],
            expect: Expect::Rejected(403),
            check: |t| refused(t).1["error"] == "policy_violation",
        },
        Row {
            name: "a foreign origin is closed with 1008",
            path: "/ws/t/room-close/lobby",
            client: Client {
                origin: Some("https://evil.example"),
                ..Client::default()
            },
            steps: vec![Step::Recv, Step::Recv],
            expect: Expect::Closed(1008),
            check: |t| json_at(t, 0)["error"] == "policy_violation",
        },
        Row {
            name: "origin, session cookie, peer and the selected subprotocol reach the consumer",
            path: "/ws/t/room/lobby",
            client: Client {
                origin: Some("https://chat.example"),
                protocols: &["chat.v3", "chat.v2", "chat.v1"],
                session: Some("s-42"),
                ..Client::default()
            },
            steps: vec![Step::Recv, Step::SendJson(json!([1, 2])), Step::Recv],
            expect: Expect::Accepted,
            check: |t| {
                protocol(t) == Some("chat.v2")
                    && *json_at(t, 0)
                        == json!({
                            "type": "hello", "room": "lobby", "session": "s-42",
                            "origin": "https://chat.example", "selected": "chat.v2",
                            "peer_is_loopback": true,
                        })
                    && *json_at(t, 1) == json!({ "type": "echo", "got": [1, 2] })
            },
        },
        Row {
            name: "offering only unknown subprotocols fails the connection, as in browsers",
            path: "/ws/t/room/lobby",
            client: Client {
                protocols: &["chat.v9"],
                ..Client::default()
            },
            steps: vec![],
            expect: Expect::Failed,
            check: |t| t.events.is_empty(),
        },
        Row {
            name: "an invalid message gets an error frame and the connection stays open",
            path: "/ws/t/echo",
            client: token("tok-1"),
            steps: vec![
                Step::SendText("not json"),
                Step::Recv,
                Step::SendJson(json!({ "type": "unknown" })),
                Step::Recv,
                echo("still here"),
                Step::Recv,
            ],
            expect: Expect::Accepted,
            check: |t| {
                json_at(t, 0)["type"] == "error"
                    && json_at(t, 1)["type"] == "error"
                    && json_at(t, 2)["body"] == "still here"
            },
        },
        Row {
            name: "a binary message to a JSON consumer closes with 1003",
            path: "/ws/t/echo",
            client: token("tok-1"),
            steps: vec![Step::SendBinary(&[1, 2, 3]), Step::Recv],
            expect: Expect::Accepted,
            check: |t| close_at(t, 0) == Some(1003),
        },
        Row {
            name: "nothing arrives after a message the consumer ignores",
            path: "/ws/t/echo",
            client: token("tok-1"),
            steps: vec![
                Step::SendJson(json!({ "type": "ignore" })),
                Step::Silent,
                echo("after"),
                Step::Recv,
            ],
            expect: Expect::Accepted,
            check: |t| t.events[0] == Event::Silent && json_at(t, 1)["body"] == "after",
        },
        Row {
            name: "a client's close is answered with its code",
            path: "/ws/t/echo",
            client: token("tok-1"),
            steps: vec![Step::Close(4321, "leaving")],
            expect: Expect::Accepted,
            check: |t| close_at(t, 0) == Some(4321),
        },
        Row {
            name: "an unknown path is refused with 404",
            path: "/ws/t/nowhere",
            client: token("tok-1"),
            steps: vec![],
            expect: Expect::Rejected(404),
            check: |t| refused(t).0 == 404,
        },
    ]
}

#[tokio::test]
async fn the_test_client_and_a_real_client_see_the_same_thing() {
    let server = TestServer::new(app());
    let addr = serve(app()).await;
    for row in rows() {
        let (kind, through_testing) = through_testing(&server, &row).await;
        let over_tcp = over_tcp(addr, &row).await;
        assert_eq!(kind, row.expect, "{}: the test client's outcome", row.name);
        assert_eq!(
            through_testing, over_tcp,
            "{}: the test client (left) and tokio-tungstenite (right) disagree",
            row.name
        );
        assert!(
            (row.check)(&through_testing),
            "{}: unexpected transcript {through_testing:#?}",
            row.name
        );
    }
}

// ---------------------------------------------------------------------------
// The two runners.
// ---------------------------------------------------------------------------

/// Runs a row through `sockwarden::testing`.
async fn through_testing(server: &TestServer, row: &Row) -> (Expect, Transcript) {
    let client = row.client;
    let mut request = server.ws(row.path).timeout(WAIT);
    if let Some(token) = client.token {
        request = request.token(token);
    }
    if let Some(token) = client.query_token {
        request = request.query_token(token);
    }
    if let Some(origin) = client.origin {
        request = request.origin(origin);
    }
    request = request.protocols(client.protocols);
    if let Some(token) = client.token_protocol {
        request = request.token_protocol("bearer", token);
    }
    if let Some(session) = client.session {
        request = request.cookie("session", session);
    }
    match request.connect().await {
        Outcome::Accepted(mut socket) => {
            let protocol = socket.protocol().map(str::to_owned);
            let mut events = Vec::new();
            for step in &row.steps {
                match step {
                    Step::SendJson(value) => socket.send_json(value).await,
                    Step::SendText(text) => socket.send_text(*text).await,
                    Step::SendBinary(bytes) => socket.send_binary(*bytes).await,
                    Step::Recv => events.push(event_of(socket.recv().await)),
                    Step::Silent => {
                        socket.assert_silent(QUIET).await;
                        events.push(Event::Silent);
                    }
                    Step::Close(code, reason) => {
                        let (code, reason) = socket.close(*code, reason).await;
                        events.push(Event::Close(code, reason));
                    }
                }
            }
            let handshake = Handshake::Upgraded { protocol };
            (Expect::Accepted, Transcript { handshake, events })
        }
        Outcome::Rejected(rejected) => {
            let status = rejected.status.as_u16();
            let handshake = refusal(status, &rejected.headers, rejected.body);
            let events = Vec::new();
            (Expect::Rejected(status), Transcript { handshake, events })
        }
        Outcome::Closed(closed) => {
            let mut events: Vec<Event> = closed.frames.into_iter().map(event_of).collect();
            events.push(Event::Close(closed.code, closed.reason));
            let handshake = Handshake::Upgraded {
                protocol: closed.protocol,
            };
            (
                Expect::Closed(closed.code),
                Transcript { handshake, events },
            )
        }
        Outcome::Failed(_) => {
            let handshake = Handshake::Failed;
            let events = Vec::new();
            (Expect::Failed, Transcript { handshake, events })
        }
        other => panic!(
            "{}: an outcome this test does not know: {other:?}",
            row.name
        ),
    }
}

fn event_of(received: Received) -> Event {
    match received {
        Received::Text(text) => match serde_json::from_str(&text) {
            Ok(value) => Event::Json(value),
            Err(_) => Event::Text(text),
        },
        Received::Binary(bytes) => Event::Binary(bytes),
        Received::Closed { code, reason } => Event::Close(code, reason),
        other => panic!("a message this test does not know: {other:?}"),
    }
}

fn refusal(status: u16, headers: &HeaderMap, body: String) -> Handshake {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    Handshake::Refused {
        status,
        content_type: text(header::CONTENT_TYPE),
        challenge: text(header::WWW_AUTHENTICATE),
        body,
    }
}

/// Runs a row with tokio-tungstenite over TCP, as any client would.
async fn over_tcp(addr: std::net::SocketAddr, row: &Row) -> Transcript {
    let client = row.client;
    let mut path = row.path.to_owned();
    if let Some(token) = client.query_token {
        path = format!("{path}?token={token}");
    }
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    let mut add = |name: &'static str, value: String| {
        request.headers_mut().append(
            HeaderName::from_static(name),
            HeaderValue::try_from(value).expect("header value"),
        );
    };
    let mut offered: Vec<&str> = client.protocols.to_vec();
    if let Some(token) = client.token_protocol {
        offered.extend(["bearer", token]);
    }
    if !offered.is_empty() {
        add("sec-websocket-protocol", offered.join(", "));
    }
    if let Some(session) = client.session {
        add("cookie", format!("session={session}"));
    }
    if let Some(token) = client.token {
        add("authorization", format!("Bearer {token}"));
    }
    if let Some(origin) = client.origin {
        add("origin", origin.to_owned());
    }
    let (mut ws, response) =
        match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await {
            Err(_) => panic!("{}: the handshake timed out", row.name),
            Ok(Ok(connected)) => connected,
            Ok(Err(WsError::Http(response))) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .into_owned();
                let status = response.status().as_u16();
                let handshake = refusal(status, response.headers(), body);
                let events = Vec::new();
                return Transcript { handshake, events };
            }
            Ok(Err(_)) => {
                let handshake = Handshake::Failed;
                let events = Vec::new();
                return Transcript { handshake, events };
            }
        };
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|value| value.to_str().expect("a text subprotocol").to_owned());
    let mut events = Vec::new();
    for step in &row.steps {
        match step {
            Step::SendJson(value) => send(&mut ws, Message::text(value.to_string())).await,
            Step::SendText(text) => send(&mut ws, Message::text(*text)).await,
            Step::SendBinary(bytes) => send(&mut ws, Message::binary(bytes.to_vec())).await,
            Step::Recv => events.push(tcp_next(&mut ws, WAIT).await.expect("a message in time")),
            Step::Silent => {
                if let Some(event) = tcp_next(&mut ws, QUIET).await {
                    panic!("{}: expected nothing, got {event:?}", row.name);
                }
                events.push(Event::Silent);
            }
            Step::Close(code, reason) => {
                let frame = CloseFrame {
                    code: (*code).into(),
                    reason: (*reason).into(),
                };
                ws.close(Some(frame)).await.expect("send the close");
                // Messages already in flight are skipped, as the test client does.
                loop {
                    let event = tcp_next(&mut ws, WAIT).await.expect("the close answered");
                    if let Event::Close(..) = event {
                        break events.push(event);
                    }
                }
            }
        }
    }
    let handshake = Handshake::Upgraded { protocol };
    Transcript { handshake, events }
}

async fn send(ws: &mut Ws, message: Message) {
    tokio::time::timeout(WAIT, ws.send(message))
        .await
        .expect("send in time")
        .expect("send");
}

/// The next message or close within `limit`, pings skipped; `None` when
/// nothing came.
async fn tcp_next(ws: &mut Ws, limit: Duration) -> Option<Event> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let read = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
        return Some(match read {
            Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                Ok(value) => Event::Json(value),
                Err(_) => Event::Text(text.as_str().to_owned()),
            },
            Some(Ok(Message::Binary(bytes))) => Event::Binary(bytes.to_vec()),
            Some(Ok(Message::Close(frame))) => {
                let _ = ws.flush().await;
                match frame {
                    Some(frame) => {
                        Event::Close(frame.code.into(), frame.reason.as_str().to_owned())
                    }
                    None => Event::Close(1005, String::new()),
                }
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => Event::Close(1006, String::new()),
        });
    }
}

// ---------------------------------------------------------------------------
// The client's own helpers.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_session_from_an_http_login_reaches_the_consumer() {
    let server = TestServer::new(app());
    let login = server.post_form("/login", &[("user", "alice")]).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body, "welcome");
    assert_eq!(login.set_cookies(), ["session=alice; HttpOnly; Path=/"]);
    assert_eq!(login.cookie("session"), Some("alice"));

    let mut socket = server
        .ws("/ws/t/room/lobby")
        .cookies_from(&login)
        .connect()
        .await
        .accepted();
    let hello: Value = socket.recv_json().await;
    assert_eq!(hello["session"], "alice");
    assert_eq!(hello["peer_is_loopback"], true);
}

#[tokio::test]
async fn http_bodies_are_read_whatever_their_framing() {
    let server = TestServer::new(app());
    let response = server.get("/chunked").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["transfer-encoding"], "chunked");
    assert_eq!(response.body, "hello, world");

    let refused = server.ws("/ws/t/echo").connect().await.rejected();
    assert!(refused.headers.contains_key("content-length"));
    assert_eq!(refused.json::<Value>()["error"], "not_authenticated");

    assert_eq!(server.get("/nowhere").await.status, 404);
}

#[tokio::test]
#[should_panic(expected = "no message within 100ms")]
async fn waiting_for_what_never_comes_fails_with_a_message() {
    let server = TestServer::new(app());
    let mut socket = server
        .ws("/ws/t/echo")
        .token("tok-1")
        .connect()
        .await
        .accepted();
    socket.set_timeout(Duration::from_millis(100));
    socket.send_json(&json!({ "type": "ignore" })).await;
    socket.recv().await;
}

#[tokio::test]
#[should_panic(expected = "expected nothing for")]
async fn a_message_during_silence_fails_with_what_came() {
    let server = TestServer::new(app());
    let mut socket = server
        .ws("/ws/t/echo")
        .token("tok-1")
        .connect()
        .await
        .accepted();
    socket
        .send_json(&json!({ "type": "echo", "body": "x" }))
        .await;
    socket.assert_silent(Duration::from_secs(2)).await;
}

#[tokio::test]
#[should_panic(expected = "refused before the upgrade with 401 Unauthorized")]
async fn expecting_an_accept_on_a_refusal_says_what_happened() {
    let server = TestServer::new(app());
    server.ws("/ws/t/echo").connect().await.accepted();
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let server = TestServer::new(app());
    let addr = server.addr();
    drop(server);
    let stopped = async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(WAIT, stopped)
        .await
        .expect("the port still accepts connections");
}
