//! A chat consumer with token authentication: the place to start.
//!
//! It shows a consumer declared with `#[consumer]`: its route (`/ws/chat/{room}`),
//! its auth scheme (tokens, looked up in the embedded [`MemoryTokenStore`]),
//! `#[requires_auth]` refusing anyone without a valid token before any of
//! this file's code runs, and fields filled from the handshake (`#[path]`,
//! `#[user]`), and a group per room, joined on accept: what a client says
//! reaches everyone in the room as `{"type":"said",…}`.
//!
//! Run it and follow the commands it prints:
//!
//! ```text
//! cargo run --example chat                # 127.0.0.1:8000, or PORT=…
//! websocat -H 'Authorization: Token tok-alice' ws://127.0.0.1:8000/ws/chat/lobby
//! {"type":"say","body":"hello"}
//! ```
//!
//! or open <http://127.0.0.1:8000/> in a browser, which cannot set headers and
//! so sends its token as `?token=`. `RUST_LOG=debug` shows more of what happens.

use axum::Router;
use axum::extract::FromRef;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sockwarden::prelude::*;
use sockwarden::{Hub, Tokens, store::MemoryTokenStore};
use tracing_subscriber::EnvFilter;

/// The app's user. Any `Clone` type with an id will do.
#[derive(Clone, Debug)]
struct User {
    name: String,
}

impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.name.clone()
    }
}

/// A connection to one chat room.
///
/// `reject = "close"` refuses a bad token with close code 4401 after the
/// upgrade rather than with an HTTP 401, because a browser can read the
/// former and not the latter. `query_token = true` lets browsers send the
/// token as `?token=`. A message over 64 KiB closes the connection with 1009.
#[consumer(
    path = "/ws/chat/{room}",
    auth = "token",
    reject = "close",
    query_token = true,
    max_message_size = 65_536,
    groups = ["room:{room}"]
)]
#[requires_auth]
struct Chat {
    #[path]
    room: String,
    #[user]
    user: User,
    /// How many messages this connection said: consumer state, starts at 0.
    said: u32,
}

/// What clients send: `{"type":"say","body":"…"}`. Anything else gets an
/// error frame from the runtime, and the connection stays open.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ChatIn {
    Say { body: String },
}

/// What the server sends.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ChatOut<'a> {
    Welcome {
        room: &'a str,
        user: &'a str,
    },
    Said {
        room: &'a str,
        from: &'a str,
        body: &'a str,
    },
}

impl Consumer for Chat {
    type In = ChatIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        // Sent right after the upgrade. A room could also be refused here:
        // `Connect::Reject(Rejection::forbidden("members only"))`.
        let welcome = ChatOut::Welcome {
            room: &self.room,
            user: &self.user.name,
        };
        if cx.send(&welcome).await.is_err() {
            return Connect::Reject(Rejection::server_error("could not greet"));
        }
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {
        match msg {
            ChatIn::Say { body } => {
                if body.trim().is_empty() {
                    return Err(Error::reply("say something"));
                }
                self.said += 1;
                let said = ChatOut::Said {
                    room: &self.room,
                    from: &self.user.name,
                    body: &body,
                };
                cx.group(format!("room:{}", self.room)).send(&said).await?;
                Ok(())
            }
        }
    }

    async fn disconnect(&mut self, _cx: &mut Cx<Self>, why: Disconnect) {
        let (room, user) = (&self.room, &self.user.name);
        tracing::info!(%room, %user, said = self.said, code = why.code(), "left");
    }
}

/// What the routes share: the hub of live connections and the token store.
#[derive(Clone)]
struct App {
    hub: Hub,
    tokens: Tokens<User>,
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

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    // The embedded default store. A real app issues tokens at login; these
    // are demo tokens, fixed so that the commands below can be pasted.
    let store = MemoryTokenStore::new();
    for name in ["alice", "bob"] {
        store.insert(&format!("tok-{name}"), User { name: name.into() });
    }

    let hub = Hub::new();
    let app = Router::new()
        .route(
            "/",
            get(|| async { Html(include_str!("static/chat.html")) }),
        )
        .consumer::<Chat>()
        .with_state(App {
            hub: hub.clone(),
            tokens: Tokens::new(store),
        });

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().expect("PORT must be a port number"),
        Err(_) => 8000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("chat on http://{addr}/ (Ctrl-C stops it)");
    println!("demo users and their tokens: alice tok-alice, bob tok-bob");
    println!("try:  websocat -H 'Authorization: Token tok-alice' ws://{addr}/ws/chat/lobby");
    println!("      websocat --protocol 'bearer, tok-bob' ws://{addr}/ws/chat/lobby");
    println!("      websocat 'ws://{addr}/ws/chat/lobby?token=tok-alice'  (as browsers do)");
    println!(r#"then: {{"type":"say","body":"hello"}}   or open http://{addr}/ in a browser"#);

    // `sockwarden::serve`: axum's server plus a deadline for request heads
    // and a shutdown that closes the sockets with 1001.
    sockwarden::serve(listener, app)
        .with_graceful_shutdown(hub, async {
            tokio::signal::ctrl_c()
                .await
                .expect("cannot listen for Ctrl-C");
        })
        .await
}
