//! What the micro-benchmarks share: the benchmark's consumers as
//! `examples/bench_server` declares them, a store of 10,000 users, and a
//! client connected to a router over an in-memory pipe.
//!
//! The pipe (`tokio::io::duplex`) takes the kernel out of the measurement:
//! what is left is HTTP parsing, the handshake, framing and the code under
//! test, which is what a change to the runtime can make slower.

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Frame, Tokens};
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Users `user0` … `user9999`, token `tok-N`, as every benchmark server has.
pub const USERS: u32 = 10_000;

/// The benchmark user: its name is shared, not copied, per connection.
#[derive(Clone, Debug)]
pub struct User {
    pub name: Arc<str>,
}

impl AuthUser for User {
    type Id = Arc<str>;
    fn id(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }
}

/// The embedded store with the benchmark's users.
pub fn tokens() -> Tokens<User> {
    let store = MemoryTokenStore::new();
    for n in 0..USERS {
        store.insert(
            &format!("tok-{n}"),
            User {
                name: format!("user{n}").into(),
            },
        );
    }
    Tokens::new(store)
}

/// `/ws/echo` of `examples/bench_server`: the benchmarks send from one
/// peer as fast as the server answers, so the per-peer cap and the message
/// rate limit are off, as there.
#[consumer(
    path = "/ws/echo",
    auth = "token",
    query_token = true,
    max_message_size = 65_536,
    max_per_peer = "unlimited",
    messages_per_second = "unlimited"
)]
#[requires_auth]
pub struct Echo {
    #[user]
    user: User,
}

#[derive(Deserialize)]
pub struct EchoIn {
    #[serde(rename = "type")]
    _type: EchoType,
    seq: i64,
    body: String,
}

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

/// A consumer with a field from every part of the handshake, for scope
/// extraction.
#[consumer(path = "/ws/chat/{room}", auth = "token", query_token = true)]
#[requires_auth]
pub struct Chat {
    #[path]
    pub room: String,
    #[query]
    pub page: Option<u32>,
    #[header("x-client")]
    pub client: String,
    #[cookie("theme")]
    pub theme: Option<String>,
    #[user]
    pub user: User,
}

impl Consumer for Chat {
    type In = Frame;

    async fn receive(&mut self, _cx: &mut Cx<Self>, _msg: Frame) -> Result<(), Error> {
        Ok(())
    }
}

/// sockwarden's side: `examples/bench_server`'s echo route.
pub fn sockwarden_router() -> Router {
    Router::new().consumer::<Echo>().with_state(tokens())
}

/// The floor: the hand-written axum server, tuned.
pub fn axum_router() -> Router {
    axum_server::App::new(axum_server::Tuning::Tuned).router()
}

/// One end of a pipe whose other end hyper serves `router` on, as
/// `axum::serve` would serve a TCP connection: HTTP/1.1 with upgrades.
/// The connection runs as a task of the current runtime.
pub fn serve(router: &Router) -> DuplexStream {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let service = TowerToHyperService::new(router.clone());
    tokio::spawn(async move {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server), service)
            .with_upgrades()
            .await;
    });
    client
}

pub type Client = WebSocketStream<DuplexStream>;

/// Opens `/ws/echo` over `io` with `Authorization: Token <token>`, or with
/// no token; returns the socket, or the HTTP status of a refusal.
pub async fn open(io: DuplexStream, token: Option<&str>) -> Result<Client, u16> {
    let mut request = "ws://127.0.0.1/ws/echo"
        .into_client_request()
        .map_err(|_| 0u16)?;
    if let Some(token) = token {
        let value = HeaderValue::try_from(format!("Token {token}")).map_err(|_| 0u16)?;
        request.headers_mut().insert("authorization", value);
    }
    match tokio_tungstenite::client_async(request, io).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(_) => Err(0),
    }
}
