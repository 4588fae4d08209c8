//! Declarative, authenticated WebSocket consumers for axum and tokio.
//!
//! A consumer is a struct that `#[consumer]` turns into an axum route: the
//! attribute declares the path, the auth scheme and the policies, and fills
//! the struct's fields from the handshake. `#[requires_auth]` refuses
//! anonymous and invalid credentials before any of your code runs. Your code
//! only handles messages.
//!
//! ```
//! use axum::Router;
//! use serde::{Deserialize, Serialize};
//! use sockwarden::prelude::*;
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
//! #[derive(Serialize)]
//! struct Said<'a> { room: &'a str, from: &'a str, body: String }
//!
//! #[consumer(path = "/ws/chat/{room}", auth = "token")]
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
//!         cx.send(&Said { room: &self.room, from: &self.user.name, body: msg.body }).await
//!     }
//! }
//!
//! let store = MemoryTokenStore::new();
//! store.insert("tok-alice", User { name: "alice".into() });
//!
//! let app: Router = Router::new()
//!     .consumer::<Chat>()
//!     .with_state(Tokens::new(store));
//! # let _ = app;
//! // axum::serve(listener, app).await
//! ```
//!
//! # What happens on a handshake
//!
//! 1. The request must be a WebSocket upgrade (else 405, 426 or 400), on a
//!    mounted path (else 404).
//! 2. The auth scheme reads the credential. For `auth = "token"` it is
//!    taken from the first carrier present, in this order:
//!    `Authorization: Token <t>` or `Bearer <t>`; `Sec-WebSocket-Protocol:
//!    <marker>, <t>` (marker `bearer` unless `token_protocol` says otherwise;
//!    the 101 echoes only the marker); `?token=<t>` when `query_token = true`.
//!    A present but invalid credential is refused (401 / 4401): it never falls
//!    back to another carrier or to anonymous. The lookup is bounded by
//!    `auth_timeout` (503 / 1013 past it).
//! 3. `#[requires_auth]` refuses anonymous clients (401 / 4401).
//! 4. The consumer is built from the [`Scope`] and the router state: a field
//!    that cannot be read refuses with 400 / 4400; `#[state]` fields come from
//!    the state through axum's `FromRef`, so a state that lacks one does not
//!    compile.
//! 5. [`Consumer::connect`] accepts or rejects, by value.
//! 6. Refusals are delivered as `reject = "http"` (the default: a status,
//!    a JSON body and `WWW-Authenticate`) or `reject = "close"` (a 101, one
//!    JSON error frame, then the close code and reason), see [`RejectKind`].
//! 7. The 101 selects the first subprotocol the client offered that the
//!    consumer declares in `protocols = [...]`, else the token marker if the
//!    client offered it; a client's token is never echoed.
//!
//! Every accept and every refusal is one `tracing` event at `info` with the
//! consumer, scheme, carrier, reason and user id; credentials never appear.
//!
//! # After the upgrade
//!
//! Messages are handled in order, one at a time. Text frames are decoded into
//! the consumer's `In` type (JSON through serde, or raw with [`Frame`]); a
//! frame that does not decode gets `{"type":"error","error":"…"}` and the
//! connection stays open; a binary frame to a JSON consumer closes with 1003;
//! a message over `max_message_size` (1 MiB by default) closes with 1009.
//! [`Consumer::disconnect`] runs once, however the connection ends.
//!
//! Dead peers are found by keepalive: after 20 s without a frame from the
//! client (`ping_interval`) the server sends a Ping, and a client that sends
//! nothing at all within 20 s more (`pong_timeout`) is dropped with a
//! best-effort close 1011 `keepalive timeout`; `disconnect` learns
//! [`Disconnect::TimedOut`]. A quiet but live connection stays open unless
//! the consumer sets `idle_timeout`, which closes with 1000 `idle timeout`
//! after that long without a data message. Liveness is measured between
//! messages: no timer fires while `receive` runs.
//!
//! # Feature flags
//!
//! - `sqlite`: `store::SqliteTokenStore`, the embedded persistent store.
//! - `postgres`: `store::PostgresTokenStore`.

mod auth;
mod close;
mod connection;
mod consumer;
mod current;
mod cx;
mod dispatch;
mod endpoint;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod hub;
pub mod layer;
mod message;
mod origin;
mod param;
mod reject;
mod router;
mod scope;
mod serve;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

/// The README's quick start, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use auth::{
    Anonymous, AuthState, AuthUser, Authenticate, Carrier, Credential, Identity, NoAuth, NoState,
    TokenAuth,
};
#[cfg(feature = "jwt")]
pub use auth::{Jwt, JwtAuth};
pub use close::{CloseCode, Disconnect};
pub use consumer::{Connect, Consumer};
pub use current::{current_connection, current_user};
pub use cx::{ConnectionId, Cx};
pub use endpoint::{Carriers, Endpoint, FromHandshake, Limits, RejectMode, Spec};
pub use error::Error;
pub use hub::{Event, Hub, Overflow, Recipients, SendError};
pub use message::{DecodeError, Frame, Inbound, Text};
pub use origin::{AllowedOrigin, MissingOrigin, OriginError, OriginPolicy, Origins, parse_allowed};
pub use param::{FromParam, ParamError};
pub use reject::{RejectKind, Rejection};
pub use router::RouterExt;
pub use scope::{Scope, ScopeBuilder};
pub use serve::{HEADER_TIMEOUT, SHUTDOWN_GRACE, Serve, serve};
pub use sockwarden_macros::{consumer, handlers, requires_auth};
pub use store::Tokens;

/// Everything a consumer's module needs: `use sockwarden::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AuthUser, CloseCode, Connect, Consumer, Cx, Disconnect, Error, Rejection, RouterExt,
        consumer, handlers, requires_auth,
    };
}
