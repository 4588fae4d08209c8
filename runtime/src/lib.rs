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
//! 2. The page's `Origin` must pass the consumer's origin policy, before
//!    any credential is read (403 / 1008); see [`OriginPolicy`]. Cookie
//!    auth admits the same host only unless the consumer declares
//!    otherwise.
//! 3. The auth scheme reads the credential. For `auth = "token"` it is
//!    taken from the first carrier present, in this order:
//!    `Authorization: Token <t>` or `Bearer <t>`; `Sec-WebSocket-Protocol:
//!    <marker>, <t>` (marker `bearer` unless `token_protocol` says otherwise;
//!    the 101 echoes only the marker); `?token=<t>` when `query_token = true`.
//!    A present but invalid credential is refused (401 / 4401): it never falls
//!    back to another carrier or to anonymous. The lookup is bounded by
//!    `auth_timeout` (503 / 1013 past it).
//!    `auth = "jwt"` reads the same carriers and checks the signature,
//!    `exp`, `nbf`, audience and issuer ([`Jwt`]). `auth = "session"` reads
//!    the session cookie of the app's own tower-sessions session, which its
//!    HTTP login wrote ([`session`]): a missing, forged, expired or stale
//!    session is anonymous.
//! 4. `#[requires_auth]` refuses anonymous clients (401 / 4401).
//! 5. The connection is registered in the app's [`Hub`], where the caps on
//!    connections per user and per peer address are counted (429 / 4429),
//!    and a server shutting down refuses (503 / 1013).
//! 6. The consumer is built from the [`Scope`] and the router state: a field
//!    that cannot be read refuses with 400 / 4400; `#[state]` fields come from
//!    the state through axum's `FromRef`, so a state that lacks one does not
//!    compile.
//! 7. [`Consumer::connect`] accepts or rejects, by value. Groups it joins,
//!    and the consumer's declared `groups = [...]`, are joined only once it
//!    accepts.
//! 8. Refusals are delivered as `reject = "http"` (the default: a status,
//!    a JSON body and `WWW-Authenticate`) or `reject = "close"` (a 101, one
//!    JSON error frame, then the close code and reason), see [`RejectKind`].
//! 9. The 101 selects the first subprotocol the client offered that the
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
//! A client may send 200 messages a second (`messages_per_second`): the
//! first message over is dropped with an error frame, and a client that
//! goes on is closed with 1008.
//!
//! # Groups, users and revocation
//!
//! Every open connection is indexed in the app's [`Hub`] by user, session,
//! token and group. A consumer joins groups ([`Cx::join`], or
//! `groups = ["room:{room}"]`) and sends to them ([`Cx::group`]); an HTTP
//! handler or a background task does the same through the hub it holds
//! ([`Hub::group`], [`Hub::user`]). Each member's [`Consumer::event`]
//! handles the event, by default forwarding it to its client; events wait
//! while `receive` runs, up to `outbox` of them, then the consumer's
//! [`Overflow`] policy applies (close 1013 by default), so a slow client
//! never slows the sender or the other members.
//!
//! Revoking a credential reaches the sockets opened with it: [`Tokens::revoke`]
//! closes them with 4401, [`Hub::user`]`(id).close(…)` logs a user out
//! everywhere, a JWT's expiry closes its socket with 4408 unless the client
//! sent a fresh token for the same user in-band (`{"type":"auth","token":…}`),
//! and `revalidate = "30s"` re-reads a session from its store
//! periodically (on a consumer without session auth it does not compile). With a channel layer ([`layer`]: Redis) all of it reaches
//! the sockets of every process.
//!
//! The user of the connection whose handler runs is reachable from any
//! function it calls with [`current_user`].
//!
//! # Serving and shutdown
//!
//! [`serve`] is `axum::serve` with a deadline for request heads and a
//! shutdown that drains the sockets through the hub: new upgrades get 503,
//! open sockets 1001, every `disconnect` runs, then serving returns.
//!
//! # Feature flags
//!
//! - `jwt` (default): `auth = "jwt"`, with the jsonwebtoken crate.
//! - `sqlite`: `store::SqliteTokenStore`, the embedded persistent store, and
//!   SQLite session stores.
//! - `postgres`: `store::PostgresTokenStore` and PostgreSQL session stores.
//! - `redis`: [`layer::RedisLayer`], the channel layer across processes,
//!   and Redis session stores.
//! - `axum-login`: sessions logged in with axum-login, its session auth
//!   hash checked.
//! - `testing`: [`testing`], a test client that drives the real stack.

// The guide: one file per section, in reading order; sections whose
// examples need a feature are shown only when it is on (docs.rs turns all
// of them on).
#![doc = include_str!("../guide/01-consumers.md")]
#![doc = include_str!("../guide/02-auth.md")]
#![doc = include_str!("../guide/03-rejections.md")]
#![doc = include_str!("../guide/04-sessions.md")]
#![doc = include_str!("../guide/05-revocation.md")]
#![doc = include_str!("../guide/06-groups.md")]
#![doc = include_str!("../guide/07-limits.md")]
#![doc = include_str!("../guide/08-shutdown.md")]
#![cfg_attr(feature = "testing", doc = include_str!("../guide/09-testing.md"))]
#![doc = include_str!("../guide/10-proxy.md")]

mod auth;
mod close;
mod connection;
mod consumer;
mod current;
mod cx;
mod defaults;
mod dispatch;
mod endpoint;
mod error;
mod forwarded;
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

pub use auth::session;
pub use auth::{
    Anonymous, AuthState, AuthUser, Authenticate, Carrier, Credential, Identity, NoAuth, NoState,
    SessionAuth, Sessions, Stack, StackUser, TokenAuth,
};
#[cfg(feature = "jwt")]
pub use auth::{Jwt, JwtAuth};
pub use close::{CloseCode, Disconnect};
pub use consumer::{Connect, Consumer};
pub use current::{current_connection, current_user};
pub use cx::{ConnectionId, Cx};
pub use defaults::AppDefaults;
pub use endpoint::{Carriers, Endpoint, FromHandshake, Limits, RejectMode, Spec};
pub use error::Error;
pub use forwarded::ProxyHeader;
pub use hub::{Event, Hub, Overflow, Recipients, SendError};
/// An IP network (`10.0.0.0/8`) or single address, for
/// [`AppDefaults::trust_proxy`]; the [`ipnet`](https://docs.rs/ipnet) crate's.
pub use ipnet::IpNet;
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
