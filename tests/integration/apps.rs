//! The consumers the tests serve, and the apps that mount them.

use axum::Router;
use serde::Deserialize;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Frame, Tokens};
use sockwarden_tests::{TokenApp, User};

/// The benchmark protocol's echo request.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum EchoIn {
    Echo { seq: u64, body: String },
}

/// Token auth, anonymous refused by HTTP status, every carrier.
#[consumer(path = "/ws/echo", auth = "token", query_token = true)]
#[requires_auth]
pub(crate) struct Echo {
    #[user]
    user: User,
}

impl Consumer for Echo {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        let EchoIn::Echo { seq, body } = msg;
        cx.send(&json!({ "type": "echo", "seq": seq, "body": body, "user": self.user.name }))
            .await
    }
}

/// The same consumer refusing by close frame, `#[requires_auth]` written
/// above `#[consumer]`.
#[requires_auth]
#[consumer(
    path = "/ws/echo-close",
    auth = "token",
    reject = "close",
    query_token = true
)]
pub(crate) struct EchoClose {
    #[user]
    user: User,
}

impl Consumer for EchoClose {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        let EchoIn::Echo { seq, body } = msg;
        cx.send(&json!({ "type": "echo", "seq": seq, "body": body, "user": self.user.name }))
            .await
    }
}

/// Token auth without `#[requires_auth]`: anonymous clients get in, invalid
/// credentials do not. No query carrier.
#[consumer(path = "/ws/open", auth = "token")]
pub(crate) struct Open {
    #[user]
    user: Option<User>,
}

impl Consumer for Open {
    type In = serde_json::Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let who = self
            .user
            .as_ref()
            .map_or("anonymous", |user| &user.name)
            .to_owned();
        if who == "user3" {
            return Connect::Reject(Rejection::forbidden("user3 is banned"));
        }
        match cx.send(&json!({ "type": "hello", "user": who })).await {
            Ok(()) => Connect::Accept,
            Err(_) => Connect::Reject(Rejection::server_error("could not greet")),
        }
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
        Ok(())
    }
}

/// Raw text and binary, echoed unchanged; a 1 KiB message limit.
#[consumer(
    path = "/ws/raw",
    auth = "token",
    query_token = true,
    max_message_size = 1024
)]
#[requires_auth]
pub(crate) struct Raw {
    #[user]
    _user: User,
}

impl Consumer for Raw {
    type In = Frame;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Frame) -> Result<(), Error> {
        match msg {
            Frame::Text(text) if text == "close please" => {
                cx.close(
                    CloseCode::new(4000).expect("an application code"),
                    "as you wish",
                );
                Ok(())
            }
            Frame::Text(text) if text == "fail" => {
                Err(std::io::Error::other("disk on fire").into())
            }
            Frame::Text(text) if text == "bad request" => {
                Err(Error::reply("that was a bad request"))
            }
            Frame::Text(text) => cx.send_text(text).await,
            Frame::Binary(bytes) => cx.send_binary(bytes).await,
        }
    }
}

/// Everything the scope can fill, reported back on connect; refuses the
/// room `secret` from `connect`.
#[consumer(path = "/ws/scope/{room}/{n}", reject = "close", protocols = ["chat.v1", "chat.v2"])]
pub(crate) struct Scoped {
    #[path]
    room: String,
    #[path("n")]
    number: u32,
    #[query]
    page: Option<u32>,
    #[query("q")]
    search: Option<String>,
    #[header("x-client")]
    client: Option<String>,
    #[cookie("theme")]
    theme: Option<String>,
    counted: u32,
}

impl Consumer for Scoped {
    type In = serde_json::Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        if self.room == "secret" {
            return Connect::Reject(Rejection::forbidden("this room is private"));
        }
        let scope = cx.scope();
        let report = json!({
            "room": self.room,
            "n": self.number,
            "page": self.page,
            "q": self.search,
            "client": self.client,
            "theme": self.theme,
            "counted": self.counted,
            "origin": scope.origin(),
            "protocols": scope.subprotocols(),
            "selected": scope.selected_protocol(),
            "peer_is_loopback": scope.peer_addr().is_some_and(|peer| peer.ip().is_loopback()),
            "user_agent": scope.header("user-agent"),
        });
        match cx.send(&report).await {
            Ok(()) => Connect::Accept,
            Err(_) => Connect::Reject(Rejection::server_error("could not report")),
        }
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
        self.counted += 1;
        cx.send(&json!({ "counted": self.counted })).await
    }
}

/// The demo users: `tok-N` belongs to `userN`.
pub(crate) fn token_store() -> MemoryTokenStore<User> {
    let store = MemoryTokenStore::new();
    for n in 0..4 {
        store.insert(&format!("tok-{n}"), User::named(&format!("user{n}")));
    }
    store
}

/// Every consumer above, on one token store.
pub(crate) fn app() -> Router {
    Router::new()
        .consumer::<Echo>()
        .consumer::<EchoClose>()
        .consumer::<Open>()
        .consumer::<Raw>()
        .consumer::<Scoped>()
        .with_state(TokenApp::new(Tokens::new(token_store())))
}
