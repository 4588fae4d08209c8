//! A test client for your consumers, enabled by the `testing` feature:
//! connect with a token, a session cookie, an origin and subprotocols; see
//! whether the connection was accepted, refused with an HTTP status, or
//! closed with a close code; send and receive JSON with timeouts; assert
//! that nothing arrives.
//!
//! ```toml
//! [dev-dependencies]
//! sockwarden = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ```
//! use axum::Router;
//! use serde::Deserialize;
//! use sockwarden::prelude::*;
//! use sockwarden::testing::TestServer;
//! use sockwarden::{Tokens, store::MemoryTokenStore};
//!
//! #[derive(Clone)]
//! struct User { name: String }
//!
//! impl AuthUser for User {
//!     type Id = String;
//!     fn id(&self) -> String { self.name.clone() }
//! }
//!
//! #[derive(Deserialize)]
//! struct Say { body: String }
//!
//! #[consumer(path = "/ws/chat/{room}", auth = "token", reject = "close")]
//! #[requires_auth]
//! struct Chat {
//!     #[path] room: String,
//!     #[user] user: User,
//! }
//!
//! impl Consumer for Chat {
//!     type In = Say;
//!
//!     async fn receive(&mut self, cx: &mut Cx<Self>, msg: Say) -> Result<(), Error> {
//!         let reply = serde_json::json!({ "room": self.room, "from": self.user.name, "body": msg.body });
//!         cx.send(&reply).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = MemoryTokenStore::new();
//! store.insert("tok-alice", User { name: "alice".into() });
//! let app = Router::new().consumer::<Chat>().with_state(Tokens::new(store));
//! let server = TestServer::new(app);
//!
//! // Accepted: talk to it.
//! let mut alice = server.ws("/ws/chat/lobby").token("tok-alice").connect().await.accepted();
//! alice.send_json(&serde_json::json!({ "body": "hi" })).await;
//! let said: serde_json::Value = alice.recv_json().await;
//! assert_eq!(said["from"], "alice");
//!
//! // Refused: `reject = "close"` upgrades, sends an error frame, closes 4401.
//! let refused = server.ws("/ws/chat/lobby").token("forged").connect().await.closed();
//! assert_eq!(refused.code, 4401);
//! assert_eq!(refused.error_frame()["error"], "not_authenticated");
//! # }
//! ```
//!
//! # What it guarantees
//!
//! [`TestServer`] serves your `Router` with `axum::serve` on a loopback
//! port, and the client talks to it over a real TCP connection: an
//! HTTP/1.1 upgrade request, checked as RFC 6455 asks, then tungstenite's
//! framing. Nothing is simulated: the request goes through hyper, the
//! router, the auth scheme and the upgrade exactly as in production, so the
//! status codes, bodies, response headers, close codes, close reasons and
//! the selected subprotocol a test sees are the bytes on the wire. The
//! consumer sees the peer address, and no header the client did not send.
//!
//! That is the difference from an in-memory harness such as Django
//! Channels' `WebsocketCommunicator`, which answers in place of the server
//! and so disagrees with it: there a refusal before `accept` reads as close
//! code 4003 while a browser gets HTTP 403; `accept(headers=…)` headers and
//! close reasons appear in the test but are never sent; a subprotocol the
//! client never offered is "accepted" while the real server aborts the
//! handshake; a `close()` followed by `accept()` reads as a refusal and
//! still delivers what follows, where the real server answers 403 and
//! drops it; and the scope has no client address nor origin unless the
//! test adds them. Here a refusal is [`Outcome::Rejected`] with the status
//! the client gets, or [`Outcome::Closed`] with the code and reason it
//! gets, and a 101 is checked as a browser checks it: a wrong
//! `Sec-WebSocket-Accept`, or a subprotocol offered and none or another
//! selected, is [`Outcome::Failed`], as it fails in Chrome.
//!
//! To tell an accepted connection from one refused by close frame, the
//! client sends one Ping after the 101 and reads until its Pong (accepted)
//! or a close frame (refused); the WebSocket layer answers it, and
//! consumers never see it.
//!
//! # Timeouts
//!
//! Every wait is bounded: a handshake by 5 s, a receive by 1 s, and a test
//! that waits for what never comes fails with a message (`no message
//! within 1s`) instead of hanging. [`WsRequest::timeout`] and
//! [`TestSocket::set_timeout`] change them. The helpers panic on failure,
//! with what happened instead: in a test, that is the failure report.
//!
//! # Logging in
//!
//! For a consumer that reads a session cookie, the test logs in over HTTP
//! with [`TestServer::post_form`] (or [`TestServer::request`]) and connects
//! with the cookies it got ([`WsRequest::cookies_from`]).

mod client;
mod http1;
mod outcome;
mod server;
mod socket;

pub use client::WsRequest;
pub use outcome::{Closed, Outcome, Rejected};
pub use server::{HttpResponse, TestServer};
pub use socket::{Received, TestSocket};
