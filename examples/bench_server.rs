//! The server that the benchmark drives: it speaks the benchmark protocol
//! (`bench/PROTOCOL.md` in the project's shared folder), so that its figures
//! sit beside those of a bare axum server and of Django Channels.
//!
//! ```text
//! cargo run --release --example bench_server     # PORT=8000 by default
//! ```
//!
//! It binds 127.0.0.1, prints `ready` on stdout once it accepts connections,
//! and runs until SIGTERM or SIGINT. Users `user0` … `user9999` hold the tokens
//! `tok-0` … `tok-9999` in the ordinary embedded store, looked up on every
//! handshake. Nothing is logged per connection unless `RUST_LOG` asks.
//!
//! - `/ws/echo`: `{"type":"echo","seq":S,"body":B}` is answered with the same
//!   plus `"user":"userN"`; anything else gets an error frame. 64 KiB messages.
//! - `/ws/raw`: every text and binary message echoed unchanged, up to 16 MiB
//!   (for the Autobahn conformance cases, which can only send `?token=`).
//! - `/ws/room/{name}`: every connection joins the group `name`;
//!   `{"type":"say","seq":S,"body":B}` reaches every member, the sender
//!   included, as `{"type":"said","from":"userN","seq":S,"body":B}`. With
//!   `REDIS_URL` set, rooms go through Redis, shared by every server on it.
//!
//! - `POST /login` (`username=userN&password=pw-N`) logs in with a session
//!   cookie (204), or answers 401 and sets nothing; `POST /logout` ends the
//!   session, which closes the sockets opened with it with 4401. Sessions
//!   are kept in memory, or in Redis with `REDIS_URL`.
//! - `/ws/session/echo`: `/ws/echo`, authenticated by that session cookie.
//!   Its origin policy is the default of cookie auth: the `Origin` must be
//!   the host the client connected to (`http://127.0.0.1:PORT` when
//!   connecting to 127.0.0.1); a missing or foreign one is refused with 403
//!   before the session is read.
//!
//! On SIGTERM or SIGINT new upgrades are refused with 503, every open socket
//! is closed with 1001, and the process exits once they have drained, within
//! 4 s. The load comes from one address and sends as fast as the server
//! answers, by design, so the per-address cap and the message-rate limit
//! are off here; the per-user cap stays at its default.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use sockwarden::prelude::*;
use sockwarden::session::{MemoryStore, Session, Sessions};
use sockwarden::{Frame, Hub, Tokens, store::MemoryTokenStore};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

/// How many users the store holds.
const USERS: u32 = 10_000;

/// How long serving may take to wind down after a signal; the protocol asks
/// for an exit within 5 s.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(4);

/// A benchmark user. The name is shared, so that handing the user from the
/// store to a connection copies no string.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct User {
    name: Arc<str>,
}

impl AuthUser for User {
    type Id = Arc<str>;
    fn id(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }
}

/// `/ws/echo`: the token in the `Authorization` header, the `bearer`
/// subprotocol or `?token=`; refusals are HTTP 401 (the default rejection).
#[consumer(
    path = "/ws/echo",
    auth = "token",
    query_token = true,
    max_message_size = 65_536,
    max_per_peer = "unlimited",
    messages_per_second = "unlimited"
)]
#[requires_auth]
struct Echo {
    #[user]
    user: User,
}

/// `{"type":"echo","seq":S,"body":B}`. A frame that is not JSON, lacks a
/// field or has another `type` does not decode: the runtime answers it with
/// `{"type":"error","error":…}` and keeps the connection open.
#[derive(Deserialize)]
struct EchoIn {
    #[serde(rename = "type")]
    _type: EchoType,
    seq: i64,
    body: String,
}

/// The one `type` that `/ws/echo` takes.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EchoType {
    Echo,
}

#[derive(Serialize)]
struct EchoOut<'a> {
    r#type: &'static str,
    seq: i64,
    body: &'a str,
    user: &'a str,
}

impl Consumer for Echo {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        cx.send(&EchoOut {
            r#type: "echo",
            seq: msg.seq,
            body: &msg.body,
            user: &self.user.name,
        })
        .await
    }
}

/// `/ws/raw`: same authentication, every data message echoed as it came.
#[consumer(
    path = "/ws/raw",
    auth = "token",
    query_token = true,
    max_message_size = 16_777_216,
    max_per_peer = "unlimited",
    messages_per_second = "unlimited",
    user = User
)]
#[requires_auth]
struct Raw;

impl Consumer for Raw {
    type In = Frame;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Frame) -> Result<(), Error> {
        match msg {
            Frame::Text(text) => cx.send_text(text).await,
            Frame::Binary(bytes) => cx.send_binary(bytes).await,
        }
    }
}

/// `/ws/room/{name}`: a group per room, joined on accept.
#[consumer(
    path = "/ws/room/{name}",
    auth = "token",
    query_token = true,
    max_message_size = 65_536,
    max_per_peer = "unlimited",
    messages_per_second = "unlimited",
    groups = ["{name}"]
)]
#[requires_auth]
struct Room {
    #[path]
    name: String,
    #[user]
    user: User,
}

/// `{"type":"say","seq":S,"body":B}`.
#[derive(Deserialize)]
struct SayIn {
    #[serde(rename = "type")]
    _type: SayType,
    seq: i64,
    body: String,
}

/// The one `type` that rooms take.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SayType {
    Say,
}

#[derive(Serialize)]
struct Said<'a> {
    r#type: &'static str,
    from: &'a str,
    seq: i64,
    body: &'a str,
}

impl Consumer for Room {
    type In = SayIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: SayIn) -> Result<(), Error> {
        let said = Said {
            r#type: "said",
            from: &self.user.name,
            seq: msg.seq,
            body: &msg.body,
        };
        // Serialised once, shared by every member; a member that reads too
        // slowly is closed 1013 rather than slowing the room.
        cx.group(self.name.as_str()).send(&said).await?;
        Ok(())
    }
}

/// `/ws/session/echo`: `/ws/echo` for the user the session cookie names.
#[consumer(
    path = "/ws/session/echo",
    auth = "session",
    max_message_size = 65_536,
    max_per_peer = "unlimited",
    messages_per_second = "unlimited"
)]
#[requires_auth]
struct SessionEcho {
    #[user]
    user: User,
}

impl Consumer for SessionEcho {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        cx.send(&EchoOut {
            r#type: "echo",
            seq: msg.seq,
            body: &msg.body,
            user: &self.user.name,
        })
        .await
    }
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// The benchmark's user table: `userN` has the password `pw-N`.
fn check_password(form: &LoginForm) -> Option<User> {
    let n: u32 = form.username.strip_prefix("user")?.parse().ok()?;
    let known = n < USERS && form.username == format!("user{n}");
    (known && form.password == format!("pw-{n}")).then(|| User {
        name: form.username.as_str().into(),
    })
}

async fn login(
    State(sessions): State<Sessions<User>>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> StatusCode {
    let Some(user) = check_password(&form) else {
        return StatusCode::UNAUTHORIZED;
    };
    match sessions.login(&session, &user).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "login failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Ends the session: its sockets are closed with 4401 at once.
async fn logout(State(sessions): State<Sessions<User>>, session: Session) -> StatusCode {
    match sessions.logout(&session).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "logout failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[derive(Clone)]
struct App {
    hub: Hub,
    tokens: Tokens<User>,
    sessions: Sessions<User>,
}

impl FromRef<App> for Sessions<User> {
    fn from_ref(app: &App) -> Sessions<User> {
        app.sessions.clone()
    }
}

impl FromRef<App> for Hub {
    fn from_ref(app: &App) -> Hub {
        app.hub.clone()
    }
}

impl FromRef<App> for Tokens<User> {
    fn from_ref(app: &App) -> Tokens<User> {
        app.tokens.clone()
    }
}

/// The sessions: in memory, or on Redis when `REDIS_URL` says where, so
/// that every server on it shares them (a logout on one closes the
/// session's sockets on all).
async fn sessions() -> std::io::Result<Sessions<User>> {
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let store = sockwarden::session::redis_store(&url)
                .await
                .map_err(|error| std::io::Error::other(format!("REDIS_URL={url}: {error}")))?;
            Ok(Sessions::new(store))
        }
        Err(_) => Ok(Sessions::new(MemoryStore::default())),
    }
}

/// The hub: alone, or on Redis when `REDIS_URL` says where.
async fn hub() -> std::io::Result<Hub> {
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let layer = sockwarden::layer::RedisLayer::connect(&url)
                .await
                .map_err(|error| std::io::Error::other(format!("REDIS_URL={url}: {error}")))?;
            Ok(Hub::with_layer(layer))
        }
        Err(_) => Ok(Hub::new()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Logs go to stderr: stdout carries only `ready`.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();

    let store = MemoryTokenStore::new();
    for n in 0..USERS {
        store.insert(
            &format!("tok-{n}"),
            User {
                name: format!("user{n}").into(),
            },
        );
    }
    let hub = hub().await?;
    let sessions = sessions().await?.with_hub(hub.clone());
    // The session layer only where sessions are written: the socket routes
    // read the cookie themselves, and the token routes need none of it.
    let session_routes = Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(sessions.layer());
    let app = Router::new()
        .consumer::<Echo>()
        .consumer::<Raw>()
        .consumer::<Room>()
        .consumer::<SessionEcho>()
        .merge(session_routes)
        .with_state(App {
            hub: hub.clone(),
            tokens: Tokens::new(store),
            sessions,
        });

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={port} is not a port number")))?,
        Err(_) => 8000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;

    println!("ready");
    std::io::Write::flush(&mut std::io::stdout())?;

    // On the signal: new upgrades get 503, open sockets 1001, and serving
    // returns once they have drained or the deadline has passed.
    sockwarden::serve(listener, app)
        .shutdown_grace(SHUTDOWN_DEADLINE)
        .with_graceful_shutdown(hub, async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
        .await
}
