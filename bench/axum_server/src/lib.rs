//! The benchmark protocol (`PROTOCOL.md` in the project's shared `bench/`
//! folder) on axum 0.8 and nothing else: the floor that sockwarden's
//! overhead is measured against.
//!
//! It is written the way a careful engineer would write it by hand: the
//! credential is checked by an extractor before the upgrade (so a refusal is
//! a plain 401 and costs no WebSocket), messages are decoded without copying
//! their body, a room's message is serialized once and shared by every
//! member, and each connection is one task (no split socket, no channel to a
//! writer task).
//!
//! Two configurations are measured ([`Tuning`]): axum's defaults, and the
//! same with a 4 KiB read buffer instead of tungstenite's 128 KiB, which is
//! what an engineer who measured idle memory would change.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many users the store holds: `user0` … `user9999`, token `tok-N`.
pub const USERS: u32 = 10_000;

/// The largest message on `/ws/echo` and in rooms; larger ones close with 1009.
const MAX_MESSAGE: usize = 64 * 1024;

/// The read buffer of the tuned configuration: the same as sockwarden's.
const TUNED_READ_BUFFER: usize = 4096;

/// How many messages a room holds for its slowest member before that member
/// starts missing some (`broadcast` drops the oldest for it).
const ROOM_BACKLOG: usize = 1024;

/// The two configurations that are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tuning {
    /// `WebSocketUpgrade` as it comes: a 128 KiB read buffer per socket.
    Defaults,
    /// A 4 KiB read buffer: most of an idle connection's memory saved.
    Tuned,
}

impl Tuning {
    fn apply(self, ws: WebSocketUpgrade) -> WebSocketUpgrade {
        let ws = ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE);
        match self {
            Tuning::Defaults => ws,
            Tuning::Tuned => ws.read_buffer_size(TUNED_READ_BUFFER),
        }
    }
}

/// The server's state: the token store, the rooms, the configuration.
#[derive(Clone)]
pub struct App {
    tokens: Arc<TokenStore>,
    rooms: Arc<Rooms>,
    tuning: Tuning,
}

impl App {
    /// A server whose store holds the benchmark's [`USERS`].
    pub fn new(tuning: Tuning) -> App {
        let tokens = TokenStore::default();
        for n in 0..USERS {
            tokens.insert(format!("tok-{n}"), format!("user{n}"));
        }
        App {
            tokens: Arc::new(tokens),
            rooms: Arc::default(),
            tuning,
        }
    }

    /// The routes: `/ws/echo` and `/ws/room/{name}`.
    pub fn router(self) -> Router {
        Router::new()
            .route("/ws/echo", get(echo))
            .route("/ws/room/{name}", get(room))
            .with_state(self)
    }
}

/// Tokens and their users, as an ordinary application keeps them in memory:
/// looked up on every handshake, writable while the server runs.
#[derive(Default)]
struct TokenStore {
    users: RwLock<HashMap<String, Arc<str>>>,
}

impl TokenStore {
    fn insert(&self, token: String, user: String) {
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token, user.into());
    }

    fn lookup(&self, token: &str) -> Option<Arc<str>> {
        self.users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }
}

/// The authenticated user of a handshake. As an extractor it refuses a
/// missing or unknown token with 401 before the upgrade.
struct User(Arc<str>);

impl FromRequestParts<App> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<User, Response> {
        token(parts)
            .and_then(|token| app.tokens.lookup(token))
            .map(User)
            .ok_or_else(unauthorized)
    }
}

/// The token, from the first carrier present: `Authorization: Token <t>` (or
/// `Bearer`), `Sec-WebSocket-Protocol: bearer, <t>`, `?token=<t>`.
fn token(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
        let known = scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer");
        return known.then_some(token.trim());
    }
    if let Some(value) = parts.headers.get(SEC_WEBSOCKET_PROTOCOL) {
        let mut offered = value.to_str().ok()?.split(',').map(str::trim);
        if offered.any(|protocol| protocol == "bearer") {
            return offered.next();
        }
    }
    // Tokens are URL-safe: no percent-decoding, so no copy.
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, HeaderValue::from_static("Token"))],
        "authentication required\n",
    )
        .into_response()
}

/// `/ws/echo`.
async fn echo(ws: WebSocketUpgrade, user: User, State(app): State<App>) -> Response {
    app.tuning
        .apply(ws)
        // Selects the marker when the token came in the subprotocol carrier;
        // the token itself is never echoed.
        .protocols(["bearer"])
        .on_upgrade(move |socket| serve_echo(socket, user.0))
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EchoType {
    Echo,
}

#[derive(Deserialize)]
struct EchoIn<'a> {
    #[serde(rename = "type")]
    _type: EchoType,
    seq: i64,
    /// Borrowed from the frame unless it has escapes.
    #[serde(borrow)]
    body: Cow<'a, str>,
}

#[derive(Serialize)]
struct EchoOut<'a> {
    r#type: &'static str,
    seq: i64,
    body: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    r#type: &'static str,
    error: &'a str,
}

async fn serve_echo(mut socket: WebSocket, user: Arc<str>) {
    while let Some(received) = socket.recv().await {
        let reply = match received {
            Ok(Message::Text(text)) => match serde_json::from_str::<EchoIn>(&text) {
                Ok(msg) => json(&EchoOut {
                    r#type: "echo",
                    seq: msg.seq,
                    body: &msg.body,
                    user: &user,
                }),
                Err(error) => error_frame(&error),
            },
            Ok(Message::Binary(_)) => {
                return close(socket, 1003, "binary messages are not supported").await;
            }
            // Pings are answered by tungstenite; after a Close it has queued
            // the reply, which the next `recv` sends before it ends the stream.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Close(_)) => continue,
            Err(error) => return close_for(socket, error).await,
        };
        if socket.send(Message::Text(reply)).await.is_err() {
            return;
        }
    }
}

/// `/ws/room/{name}`.
async fn room(
    ws: WebSocketUpgrade,
    user: User,
    Path(name): Path<String>,
    State(app): State<App>,
) -> Response {
    app.tuning
        .apply(ws)
        .protocols(["bearer"])
        .on_upgrade(move |socket| serve_room(socket, user.0, app.rooms, name))
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SayType {
    Say,
}

#[derive(Deserialize)]
struct SayIn<'a> {
    #[serde(rename = "type")]
    _type: SayType,
    seq: i64,
    #[serde(borrow)]
    body: Cow<'a, str>,
}

#[derive(Serialize)]
struct SaidOut<'a> {
    r#type: &'static str,
    from: &'a str,
    seq: i64,
    body: &'a str,
}

/// The open rooms, each a broadcast channel of serialized `said` frames.
#[derive(Default)]
struct Rooms {
    open: Mutex<HashMap<String, broadcast::Sender<Utf8Bytes>>>,
}

impl Rooms {
    fn join(&self, name: &str) -> (broadcast::Sender<Utf8Bytes>, broadcast::Receiver<Utf8Bytes>) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = open
            .entry(name.to_owned())
            .or_insert_with(|| broadcast::channel(ROOM_BACKLOG).0);
        (sender.clone(), sender.subscribe())
    }

    /// Forgets the room once its last member has left (its receiver dropped):
    /// under the same lock as `join`, so no one joins a room being removed.
    fn leave(&self, name: &str) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open
            .get(name)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            open.remove(name);
        }
    }
}

/// What woke a room's connection.
enum Event {
    Received(Option<Result<Message, axum::Error>>),
    Delivered(Result<Utf8Bytes, broadcast::error::RecvError>),
}

async fn serve_room(mut socket: WebSocket, user: Arc<str>, rooms: Arc<Rooms>, name: String) {
    let (room, mut said) = rooms.join(&name);
    loop {
        // Both arms are cancel-safe: a message not yet read stays buffered
        // in the socket or in the channel.
        let event = tokio::select! {
            received = socket.recv() => Event::Received(received),
            delivered = said.recv() => Event::Delivered(delivered),
        };
        let outgoing = match event {
            Event::Received(Some(Ok(Message::Text(text)))) => {
                match serde_json::from_str::<SayIn>(&text) {
                    Ok(msg) => {
                        let frame = json(&SaidOut {
                            r#type: "said",
                            from: &user,
                            seq: msg.seq,
                            body: &msg.body,
                        });
                        // Serialized once; every member's copy shares it. Our
                        // own receiver is subscribed, so the send cannot fail.
                        let _ = room.send(frame);
                        continue;
                    }
                    Err(error) => error_frame(&error),
                }
            }
            Event::Received(Some(Ok(Message::Binary(_)))) => {
                close(socket, 1003, "binary messages are not supported").await;
                break;
            }
            // tungstenite has queued the answer to the Close; reading on
            // sends it. Deliveries stop here: a send after the peer's Close
            // would fail and drop the connection without that answer.
            Event::Received(Some(Ok(Message::Close(_)))) => {
                while let Some(Ok(_)) = socket.recv().await {}
                break;
            }
            Event::Received(Some(Ok(_))) => continue,
            Event::Received(Some(Err(error))) => {
                close_for(socket, error).await;
                break;
            }
            Event::Received(None) | Event::Delivered(Err(broadcast::error::RecvError::Closed)) => {
                break;
            }
            Event::Delivered(Ok(frame)) => frame,
            // This member fell more than ROOM_BACKLOG messages behind and
            // missed some. The protocol has no way to say so; the client sees
            // the gap in the sender's sequence numbers.
            Event::Delivered(Err(broadcast::error::RecvError::Lagged(_))) => continue,
        };
        if socket.send(Message::Text(outgoing)).await.is_err() {
            break;
        }
    }
    drop(said);
    rooms.leave(&name);
}

fn json(value: &impl Serialize) -> Utf8Bytes {
    // Serializing these plain structs cannot fail.
    serde_json::to_string(value).unwrap_or_default().into()
}

fn error_frame(error: &serde_json::Error) -> Utf8Bytes {
    json(&ErrorOut {
        r#type: "error",
        error: &error.to_string(),
    })
}

/// Closes with the code that says why the socket failed: 1009 for a message
/// over the limit, 1007 for a text message that is not UTF-8, 1002 for a
/// protocol error; a connection that is simply gone is dropped.
async fn close_for(socket: WebSocket, error: axum::Error) {
    use tungstenite::Error as WsError;
    let (code, reason) = match error.into_inner().downcast::<WsError>().map(|e| *e) {
        Ok(WsError::Capacity(_)) => (1009, "message too big"),
        Ok(WsError::Utf8(_)) => (1007, "invalid UTF-8 in a text message"),
        Ok(WsError::Protocol(_)) => (1002, "protocol error"),
        _ => return,
    };
    close(socket, code, reason).await;
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
