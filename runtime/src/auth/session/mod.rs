//! `auth = "session"`: the socket is whoever the app's HTTP side logged in.
//!
//! There is one session system, the app's own [tower-sessions]: the same
//! cookie, the same store, the same expiry. [`Sessions`] holds the store and
//! the cookie settings, hands the HTTP side its layer ([`Sessions::layer`]),
//! and reads the session on each WebSocket handshake of a consumer declared
//! with `auth = "session"`.
//!
//! # The flow
//!
//! 1. **HTTP login writes the session.** The login handler checks the
//!    password and calls [`Sessions::login`] (plain tower-sessions), or
//!    axum-login's `AuthSession::login` (apps built on [axum-login], see
//!    [`Sessions::axum_login`]). The session id is rotated (session
//!    fixation) and the response sets the session cookie.
//! 2. **The socket reads it.** The browser sends the cookie with the
//!    WebSocket handshake. After the origin check (below), the handshake
//!    reads the cookie by its configured name, loads that record from the
//!    store, and finds the user in it: the serialised user under
//!    [`USER_KEY`], or, for axum-login, the user id and session auth hash
//!    under axum-login's key, the user fetched with the backend's
//!    `get_user` and the hash compared in constant time. The connection is
//!    that user, indexed in the [`Hub`](crate::Hub) by user and by session.
//! 3. **Logout closes it.** Ending a session anywhere the store is asked to
//!    delete it (`Session::flush`, [`Sessions::logout`], axum-login's
//!    `logout`, a rotated id with `cycle_id`, [`Sessions::delete_session`])
//!    closes that session's sockets with 4401 `logged out`, in this process
//!    at once and, through a channel layer, in the others. The user's other
//!    sessions stay open. A password change closes all of the user's sockets
//!    ([`Sessions::password_changed`]); so does "log out everywhere"
//!    ([`Sessions::close_user`], or [`Hub::user`](crate::Hub::user)).
//!
//! # Logging in and out on the socket
//!
//! A consumer may also log its user in or out itself, from a message
//! (credentials typed into a page that talks only over its socket):
//! [`Cx::login`](crate::Cx::login) and [`Cx::logout`](crate::Cx::logout).
//! Both act on the store at once (nothing to save by hand), and both rebind
//! the connection: its user, [`current_user`](crate::current_user), and its
//! place in the hub, so that an HTTP logout or "log out everywhere" reaches
//! it like any other socket, and `revalidate` re-reads the new session.
//!
//! - **Login rotates.** `cx.login(&user)` makes a *new* session (a fresh
//!   id) for the user, written as [`Sessions::login`] writes it (for
//!   axum-login, with the session auth hash); a session the connection
//!   had is deleted, which closes its other sockets with 4401 (its data
//!   carries over to the same user's new session, as over HTTP).
//! - **The page gets the cookie by a one-time code.** The cookie is
//!   `HttpOnly`: only an HTTP response can set it, and page script must not
//!   see the session id. So `cx.login` returns a [`Handoff`]: a 256-bit code,
//!   valid for 60 s and for one use, stored in the same session store (any
//!   process may redeem it). The consumer sends the code to its page, which
//!   posts it to the route of [`Sessions::handoff_route`]; the answer sets
//!   the session cookie, and from then on the page's HTTP requests and new
//!   sockets are the user. A page that never redeems keeps its socket
//!   logged in, and its cookie as it was.
//! - **Logout ends the session.** `cx.logout()` deletes the connection's
//!   session from the store and closes the session's other sockets with
//!   4401 `logged out`. A `#[requires_auth]` consumer's connection then
//!   closes with 4401 `logged out` once the handler returns; in a consumer
//!   that admits anonymous users it carries on, anonymous. The page's
//!   cookie still names the deleted session, which is anonymous on its next
//!   request or handshake: the page may leave it, or call the app's HTTP
//!   logout to have it removed.
//!
//! A session that is missing, unknown, expired, forged (a cookie that is
//! not a session id at all), whose user no longer exists or whose auth hash
//! is stale is **anonymous**: `#[requires_auth]` refuses it (401, or close
//! 4401), and a consumer that admits anonymous users gets `None`. Every one
//! of these cases answers exactly the same, so a forged cookie learns
//! nothing, and none of them is an error or a panic. A store that fails is
//! 503 (close 1013): the server cannot tell, so it does not guess.
//!
//! A read never writes: the handshake does not delete, extend or re-save
//! the session (Django Channels deletes the session row on a stale hash).
//!
//! # Use the layer `Sessions` gives you
//!
//! The HTTP side must use the layer from [`Sessions::layer`] (or, for
//! axum-login, [`Sessions::auth_layer`], which wraps it), never a
//! `SessionManagerLayer` built by hand on the same store:
//!
//! - the cookie name, path, domain, `Secure`, `SameSite` and expiry are set
//!   once, on `Sessions`, and the socket looks for the very cookie the
//!   layer sets; two configurations drift apart, and then the socket reads
//!   another cookie, or none;
//! - the layer's store is a [`RevokingStore`]: deleting a session through
//!   it closes that session's sockets. A layer built on the bare store
//!   deletes the session and leaves its sockets open, which is exactly the
//!   hole Django Channels has (a socket outlives its logout).
//!
//! As a second line, a consumer may declare `revalidate = "30s"`: every
//! period its connection re-reads its session from the store (never a cached
//! copy) and closes with 4401 once the session is gone, expired, or names
//! another user or a stale hash.
//!
//! # Origins
//!
//! A browser attaches the session cookie to a WebSocket handshake whichever
//! page opens the socket, and WebSockets are not subject to CORS: without an
//! origin check any site could open a socket as the visitor (cross-site
//! WebSocket hijacking). A session consumer is therefore checked against its
//! origin policy **before the session is read**: by default only pages of
//! the same host (`Origin` equal to the request's `Host`) may connect, and a
//! handshake without an `Origin` is refused; other pages get 403 (close
//! 1008) and their request never reaches the store. Declare the pages that
//! may connect with `origins = ["https://app.example.com"]` when the page
//! and the socket are on different hosts (see
//! [`OriginPolicy`](crate::OriginPolicy)). `SameSite` on the cookie is not a
//! substitute: it does not separate sibling subdomains.
//!
//! # Stores
//!
//! Any tower-sessions store: [`MemoryStore`] (one process, and tests);
//! SQLite with the `sqlite` feature ([`sqlite_store`], the embedded
//! persistent default); PostgreSQL with `postgres` ([`postgres_store`]) and
//! Redis with `redis` ([`redis_store`]), shared by several processes. With
//! several processes, give the hub a channel layer
//! ([`Sessions::with_hub`]): a logout in one process then closes the
//! session's sockets in all of them.
//!
//! # Example
//!
//! ```
//! use axum::Router;
//! use axum::extract::State;
//! use axum::routing::post;
//! use serde::{Deserialize, Serialize};
//! use sockwarden::prelude::*;
//! use sockwarden::session::{MemoryStore, Session, Sessions};
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! struct User { id: u64, name: String }
//!
//! impl AuthUser for User {
//!     type Id = u64;
//!     fn id(&self) -> u64 { self.id }
//! }
//!
//! #[consumer(path = "/ws/me", auth = "session")]
//! #[requires_auth]
//! struct Me { #[user] user: User }
//!
//! impl Consumer for Me {
//!     type In = serde_json::Value;
//!     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
//!         let _ = cx.send(&serde_json::json!({ "me": self.user.name })).await;
//!         Connect::Accept
//!     }
//!     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
//!         Ok(())
//!     }
//! }
//!
//! async fn login(State(sessions): State<Sessions<User>>, session: Session) -> &'static str {
//!     // … check the password first …
//!     let alice = User { id: 1, name: "alice".into() };
//!     match sessions.login(&session, &alice).await {
//!         Ok(()) => "welcome",
//!         Err(_) => "try again later",
//!     }
//! }
//!
//! async fn logout(State(sessions): State<Sessions<User>>, session: Session) -> &'static str {
//!     // Deletes the session, which closes its sockets with 4401.
//!     let _ = sessions.logout(&session).await;
//!     "bye"
//! }
//!
//! let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
//! let app: Router = Router::new()
//!     .route("/login", post(login))
//!     .route("/logout", post(logout))
//!     .consumer::<Me>()
//!     .layer(sessions.layer())
//!     .with_state(sessions);
//! # let _ = app;
//! ```
//!
//! [tower-sessions]: https://docs.rs/tower-sessions/0.14
//! [axum-login]: https://docs.rs/axum-login/0.18

#[cfg(feature = "axum-login")]
mod backend;
mod config;
mod cookie;
mod handoff;
mod plain;
mod read;
mod revoking;
mod scheme;
mod sessions;
mod stores;
#[cfg(test)]
mod tests;

pub use handoff::{Handoff, HandoffError};
pub use plain::USER_KEY;
pub(crate) use revoking::LOGGED_OUT;
pub use revoking::RevokingStore;
pub use scheme::{SessionAuth, SessionLogin};
pub use sessions::{SessionLayer, Sessions};
pub use stores::MemoryStore;
#[cfg(feature = "postgres")]
pub use stores::{PostgresStore, postgres_store};
#[cfg(feature = "redis")]
pub use stores::{RedisPool, RedisStore, redis_store};
#[cfg(feature = "sqlite")]
pub use stores::{SqliteStore, sqlite_store};

/// The tower-sessions crate this module is built on (0.14), for its
/// [`Session`] extractor, [`Expiry`], the cookie types and the
/// [`SessionStore`](tower_sessions::SessionStore) trait: use it rather than
/// a second copy of a possibly other version.
pub use tower_sessions;
pub use tower_sessions::session::Id;
pub use tower_sessions::{Expiry, Session, SessionStore};

/// The axum-login crate (0.18) whose sessions [`Sessions::axum_login`] reads.
#[cfg(feature = "axum-login")]
pub use ::axum_login;
/// The Redis session store of tower-sessions (and, as
/// `tower_sessions_redis_store::fred`, the fred client it uses).
#[cfg(feature = "redis")]
pub use tower_sessions_redis_store;
/// The sqlx session stores of tower-sessions (and, as
/// `tower_sessions_sqlx_store::sqlx`, the sqlx they use).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use tower_sessions_sqlx_store;
