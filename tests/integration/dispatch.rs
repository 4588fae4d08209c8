//! Typed handler dispatch (`#[handlers]`): client messages and group events
//! routed by their `type` to handler methods, a `#[requires_auth]` handler
//! on a consumer that admits anonymous users, and unknown types; over
//! loopback with real clients.

use std::net::SocketAddr;

use axum::Router;
use serde::Deserialize;
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Event, Hub, Tokens};
use sockwarden_tests::{
    TokenApp, User, Ws, connect, connect_with_token, next, next_json, send_json, serve,
};
use tokio_tungstenite::tungstenite::Message;

/// What clients send: the wire `type` is the serde name of the variant.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum BoardIn {
    /// `chat_message` takes it.
    #[serde(rename = "chat.message")]
    ChatMessage { body: String, to: Option<String> },
    /// `chat_delete` takes it, for authenticated users only.
    #[serde(rename = "chat.delete")]
    ChatDelete { id: u64 },
    /// A unit variant, taken by `stats`.
    #[serde(rename = "stats")]
    Stats,
    /// Taken by `whoami` through `#[on(WhoAmI)]`.
    #[serde(rename = "whoami")]
    WhoAmI,
}

/// What the server sends to the board's group.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BoardEvent {
    Said {
        from: String,
        body: String,
    },
    /// No handler: forwarded unchanged.
    Cleared,
}

/// A board that admits anonymous users; deleting needs a user.
#[consumer(path = "/ws/board", auth = "token")]
struct Board {
    #[user]
    user: Option<User>,
    /// How many times `chat_delete` ran.
    deleted: u32,
}

impl Board {
    fn name(&self) -> &str {
        self.user.as_ref().map_or("anonymous", |user| &user.name)
    }
}

#[handlers(events = BoardEvent)]
impl Consumer for Board {
    type In = BoardIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        cx.join("board");
        Connect::Accept
    }

    async fn chat_message(
        &mut self,
        cx: &mut Cx<Self>,
        body: String,
        to: Option<String>,
    ) -> Result<(), Error> {
        let said = json!({"type": "chat.message", "from": self.name(), "body": body, "to": to});
        cx.send(&said).await
    }

    /// Guarded: an anonymous client gets an error frame instead.
    #[requires_auth]
    async fn chat_delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
        self.deleted += 1;
        let deleted = json!({"type": "chat.deleted", "id": id, "by": self.name()});
        cx.send(&deleted).await
    }

    async fn stats(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
        cx.send(&json!({"type": "stats", "deleted": self.deleted}))
            .await
    }

    #[on(WhoAmI)]
    async fn whoami(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
        cx.send(&json!({"type": "you", "name": self.name()})).await
    }

    /// Typed events: the handler sees fields, not JSON.
    #[event]
    async fn said(&mut self, cx: &mut Cx<Self>, from: String, body: String) -> Result<(), Error> {
        let heard = json!({"type": "heard", "from": from, "body": body.to_uppercase()});
        cx.send(&heard).await
    }
}

struct Server {
    addr: SocketAddr,
    hub: Hub,
}

async fn server() -> Server {
    let store = MemoryTokenStore::new();
    store.insert("tok-alice", User::named("alice"));
    let app = TokenApp::new(Tokens::new(store));
    let hub = app.hub.clone();
    let router = Router::new().consumer::<Board>().with_state(app);
    Server {
        addr: serve(router).await,
        hub,
    }
}

impl Server {
    async fn anonymous(&self) -> Ws {
        connect(self.addr, "/ws/board", &[]).await.accepted().0
    }

    async fn alice(&self) -> Ws {
        connect_with_token(self.addr, "/ws/board", "tok-alice").await
    }

    /// Sends `event` to the board's group.
    async fn publish(&self, event: Event) {
        self.hub
            .group("board")
            .send_event(event)
            .await
            .expect("a local send");
    }
}

async fn stats(ws: &mut Ws) -> Value {
    send_json(ws, &json!({"type": "stats"})).await;
    next_json(ws).await
}

#[tokio::test]
async fn each_type_runs_its_handler_with_the_variants_fields() {
    let server = server().await;
    let mut ws = server.alice().await;

    send_json(
        &mut ws,
        &json!({"type": "chat.message", "body": "hi", "to": "bob"}),
    )
    .await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "chat.message", "from": "alice", "body": "hi", "to": "bob"})
    );
    send_json(&mut ws, &json!({"type": "whoami"})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "you", "name": "alice"})
    );
    assert_eq!(stats(&mut ws).await, json!({"type": "stats", "deleted": 0}));
}

#[tokio::test]
async fn a_guarded_type_from_an_anonymous_client_gets_an_error_frame_and_does_not_run() {
    let server = server().await;
    let mut ws = server.anonymous().await;

    // Anonymous clients may use the unguarded types.
    send_json(&mut ws, &json!({"type": "chat.message", "body": "hi"})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "chat.message", "from": "anonymous", "body": "hi", "to": null})
    );

    send_json(&mut ws, &json!({"type": "chat.delete", "id": 7})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "error", "error": "authentication required for `chat_delete`"})
    );
    // The handler did not run, and the connection is still open.
    assert_eq!(stats(&mut ws).await, json!({"type": "stats", "deleted": 0}));
}

#[tokio::test]
async fn a_guarded_type_from_an_authenticated_client_runs() {
    let server = server().await;
    let mut ws = server.alice().await;

    send_json(&mut ws, &json!({"type": "chat.delete", "id": 7})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "chat.deleted", "id": 7, "by": "alice"})
    );
    assert_eq!(stats(&mut ws).await, json!({"type": "stats", "deleted": 1}));
}

#[tokio::test]
async fn an_unknown_type_gets_an_error_frame_and_the_connection_stays_open() {
    let server = server().await;
    let mut ws = server.anonymous().await;

    for unknown in [
        json!({"type": "chat.edit", "id": 1}),
        json!({"body": "no type at all"}),
    ] {
        send_json(&mut ws, &unknown).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "error", "{reply}");
        let error = reply["error"].as_str().expect("an error text");
        assert!(error.starts_with("invalid message: "), "{error}");
    }
    let reply = {
        send_json(&mut ws, &json!({"type": "chat.edit"})).await;
        next_json(&mut ws).await
    };
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|error| error.contains("unknown variant `chat.edit`")),
        "{reply}"
    );
    // A known type with a missing field is refused the same way.
    send_json(&mut ws, &json!({"type": "chat.delete"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "error");

    assert_eq!(stats(&mut ws).await, json!({"type": "stats", "deleted": 0}));
}

#[tokio::test]
async fn a_typed_group_event_runs_its_event_handler() {
    let server = server().await;
    let mut ws = server.anonymous().await;
    // One answered message: `connect` accepted, so the client is a member.
    stats(&mut ws).await;

    let event = json!({"type": "said", "from": "server", "body": "hello"});
    server.publish(Event::json(&event).unwrap()).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "heard", "from": "server", "body": "HELLO"})
    );
}

#[tokio::test]
async fn other_events_are_forwarded_unchanged() {
    let server = server().await;
    let mut ws = server.alice().await;
    stats(&mut ws).await;

    // Another type; a variant without a handler; a handled type whose
    // fields do not fit; text that is not an object: each as it was sent.
    for text in [
        r#"{"type":"news","body":"x","n":[1,2]}"#,
        r#"{"type":"cleared"}"#,
        r#"{"type":"said","body":"no sender"}"#,
        r#"[1,"two"]"#,
    ] {
        server.publish(Event::from_text(text)).await;
        match next(&mut ws).await {
            Message::Text(received) => assert_eq!(received.as_str(), text),
            other => panic!("expected the event's text, got {other:?}"),
        }
    }
}

/// Nothing is in scope here but what the module names, and items named like
/// the ones the expansion uses are: the expansion must name everything by an
/// absolute path. Proven by compiling.
mod hygiene {
    #![no_implicit_prelude]
    #![deny(warnings, unused_qualifications)]

    // Decoys: an expansion that named any of these without a path would
    // pick them up and fail to compile.
    #[allow(dead_code)]
    struct Option;
    #[allow(dead_code)]
    struct Some;
    #[allow(dead_code)]
    struct Result;
    #[allow(dead_code)]
    struct Ok;
    #[allow(dead_code)]
    struct Cx;
    #[allow(dead_code)]
    struct Error;
    #[allow(dead_code)]
    struct Event;
    #[allow(dead_code)]
    struct Consumer;
    #[allow(dead_code)]
    mod sockwarden {}

    #[derive(::serde::Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub(super) enum In {
        Ping,
        /// A field named like the expansion's locals does not shadow them.
        Say {
            body: ::std::string::String,
            __cx: u8,
        },
    }

    #[derive(::serde::Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub(super) enum Events {
        Tick { n: u64 },
    }

    #[::sockwarden::consumer(path = "/ws/hygiene", auth = "token")]
    pub(super) struct Hygienic {
        #[user]
        user: ::core::option::Option<::sockwarden_tests::User>,
    }

    #[::sockwarden::handlers(events = Events)]
    impl ::sockwarden::Consumer for Hygienic {
        type In = In;

        #[::sockwarden::requires_auth]
        async fn ping(
            &mut self,
            cx: &mut ::sockwarden::Cx<Self>,
        ) -> ::core::result::Result<(), ::sockwarden::Error> {
            let _ = &self.user;
            cx.send_text("pong").await
        }

        async fn say(
            &mut self,
            cx: &mut ::sockwarden::Cx<Self>,
            body: ::std::string::String,
            __cx: u8,
        ) -> ::core::result::Result<(), ::sockwarden::Error> {
            cx.send_text(::std::format!("{body} {__cx}")).await
        }

        #[event]
        async fn tick(
            &mut self,
            cx: &mut ::sockwarden::Cx<Self>,
            n: u64,
        ) -> ::core::result::Result<(), ::sockwarden::Error> {
            cx.send_text(::std::format!("{n}")).await
        }
    }
}

#[test]
fn the_hygiene_module_declares_a_consumer() {
    assert_eq!(
        <hygiene::Hygienic as sockwarden::Endpoint>::SPEC.path,
        "/ws/hygiene"
    );
}
