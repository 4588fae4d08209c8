//! The per-connection handle a consumer talks through.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::session::{Handoff, LOGGED_OUT, SessionLogin};
use crate::auth::{AuthUser, Authenticate, Carrier, Credential};
use crate::close::CloseCode;
use crate::current::Current;
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::hub::{Hub, Mailbox, Recipients, Refusal, Registration};
use crate::message::Text;
use crate::scope::Scope;

pub(crate) type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// A connection's id, unique in this process; in every log line about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    pub(crate) fn next() -> ConnectionId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnectionId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One connection, as its consumer sees it: its scope, and the means to
/// send and to close.
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[consumer(path = "/ws/echo")]
/// struct Echo;
///
/// impl Consumer for Echo {
///     type In = serde_json::Value;
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> {
///         if msg == "bye" {
///             cx.close(CloseCode::NORMAL, "bye");
///             return Ok(());
///         }
///         cx.send(&msg).await
///     }
/// }
/// ```
pub struct Cx<C: Endpoint> {
    id: ConnectionId,
    scope: Scope<C::User>,
    outbox: Outbox,
    close: Option<(CloseCode, Cow<'static, str>)>,
    registration: Registration,
    /// Groups joined during `connect`, joined for real once it accepts.
    joining: Option<Vec<String>>,
    /// What `current_user` answers inside this connection's handlers.
    current: Current,
    /// The auth scheme's state (for `login` and `logout`), from the moment
    /// the connection task runs.
    auth: Option<<C::Auth as Authenticate>::State>,
    /// The credential a login or logout moved the connection to, for the
    /// connection task to revalidate from then on.
    rebound: Option<Credential>,
    /// Whether sends are buffered for one write (see [`Cx::cork`]).
    corked: bool,
    /// How long one write may wait for the client to take its bytes
    /// (`pong_timeout`), in milliseconds: beside `corked`, it takes no
    /// room of its own in every connection's task.
    write_limit_ms: u32,
}

/// Runs a write, and stops it when a close order comes or when the client
/// has not taken it within `limit`: a write that waits on a client which
/// does not read must not hold the connection open, and while a handler
/// waits on it the read loop's keepalive cannot run.
async fn until_stopped(
    mailbox: &crate::hub::Mailbox,
    limit: Duration,
    write: impl Future<Output = Result<(), tokio_tungstenite::tungstenite::Error>>,
) -> Result<(), Error> {
    let mut write = std::pin::pin!(write);
    // Most writes complete at once, into the kernel's buffer; only a write
    // that has to wait also waits on a close order.
    let first = std::future::poll_fn(|task| Poll::Ready(write.as_mut().poll(task)));
    if let Poll::Ready(written) = first.await {
        return written.map_err(|_| Error(ErrorKind::Gone));
    }
    // The slow path is boxed: inline, its futures (the close order's, the
    // timer) would add their size to every future that sends, each
    // connection's task among them, for a path that few writes take.
    Box::pin(wait_for_write(mailbox, limit, write)).await
}

/// A write that could not complete at once: waits for it, a close order
/// or `limit`, whichever comes first.
async fn wait_for_write(
    mailbox: &crate::hub::Mailbox,
    limit: Duration,
    write: std::pin::Pin<
        &mut impl Future<Output = Result<(), tokio_tungstenite::tungstenite::Error>>,
    >,
) -> Result<(), Error> {
    tokio::select! {
        biased;
        () = mailbox.stopped() => Err(Error(ErrorKind::Gone)),
        written = write => written.map_err(|_| Error(ErrorKind::Gone)),
        () = tokio::time::sleep(limit) => Err(Error(ErrorKind::Stalled)),
    }
}

/// Where sent messages go: held until the upgrade completes, then the socket.
// The socket is inline on purpose: the outbox is `Open` for the whole life of
// the connection, and a box would cost an indirection on every send.
#[allow(clippy::large_enum_variant)]
enum Outbox {
    Pending(Vec<Message>),
    Open(Socket),
}

impl<C: Endpoint> Cx<C> {
    pub(crate) fn new(
        id: ConnectionId,
        scope: Scope<C::User>,
        registration: Registration,
    ) -> Cx<C> {
        let current = Current::new(id, scope.user());
        Cx {
            id,
            scope,
            outbox: Outbox::Pending(Vec::new()),
            close: None,
            current,
            registration,
            joining: Some(Vec::new()),
            auth: None,
            rebound: None,
            corked: false,
            write_limit_ms: u32::MAX,
        }
    }

    /// This connection's id.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The handshake's scope (see [`Scope`] for what stays after accept).
    pub fn scope(&self) -> &Scope<C::User> {
        &self.scope
    }

    /// The authenticated user, `None` when anonymous.
    pub fn user(&self) -> Option<&C::User> {
        self.scope.user()
    }

    /// Joins a group: events sent to it reach this connection (see
    /// [`Consumer::event`](crate::Consumer::event)) until it leaves or ends.
    ///
    /// Called in `connect`, the join takes effect only if `connect`
    /// accepts: a refused connection never joins a group. Group names are
    /// any UTF-8 string; a membership lasts as long as the connection,
    /// with no expiry.
    pub fn join(&mut self, group: &str) {
        match &mut self.joining {
            Some(pending) => pending.push(group.to_owned()),
            None => self.registration.join(group),
        }
    }

    /// Leaves a group (nothing happens if it was not joined).
    pub fn leave(&mut self, group: &str) {
        match &mut self.joining {
            Some(pending) => pending.retain(|joined| joined != group),
            None => self.registration.leave(group),
        }
    }

    /// The members of a group, this connection included if it joined:
    /// `cx.group("room").send(&msg).await`.
    pub fn group(&self, name: impl Into<String>) -> Recipients<'_> {
        self.registration.hub().group(name)
    }

    /// The app's hub: to reach users, sessions and other groups.
    pub fn hub(&self) -> &Hub {
        self.registration.hub()
    }

    /// How many events this connection's inbox dropped under
    /// [`Overflow::DropOldest`](crate::Overflow::DropOldest).
    pub fn dropped(&self) -> u64 {
        self.registration.mailbox().dropped()
    }

    /// `connect` accepted: the joins it asked for happen now.
    pub(crate) fn accepted(&mut self) {
        for group in self.joining.take().unwrap_or_default() {
            self.registration.join(&group);
        }
    }

    /// The task-local context for a call into the consumer.
    pub(crate) fn current(&self) -> Current {
        self.current.clone()
    }

    pub(crate) fn mailbox(&self) -> Arc<Mailbox> {
        self.registration.mailbox().clone()
    }

    /// Sends `msg` as a JSON text frame.
    ///
    /// # Errors
    ///
    /// When the connection is gone; returning that error from a handler ends
    /// the connection quietly.
    pub async fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), Error> {
        let text = serde_json::to_string(msg)?;
        self.send_message(Message::text(text)).await
    }

    /// Sends a text frame. A [`Text`] received is sent back without a copy.
    ///
    /// # Errors
    ///
    /// As [`Cx::send`].
    pub async fn send_text(&mut self, text: impl Into<Text>) -> Result<(), Error> {
        self.send_message(Message::Text(text.into().into_inner()))
            .await
    }

    /// Sends a binary frame.
    ///
    /// # Errors
    ///
    /// As [`Cx::send`].
    pub async fn send_binary(&mut self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.send_message(Message::Binary(bytes.into())).await
    }

    /// Closes the connection with `code` and `reason` once the current
    /// handler returns; `disconnect` then runs with
    /// [`Disconnect::Server`](crate::Disconnect::Server). Called during
    /// `connect`, it closes right after the upgrade.
    pub fn close(&mut self, code: CloseCode, reason: impl Into<Cow<'static, str>>) {
        self.close = Some((code, reason.into()));
    }

    pub(crate) async fn send_message(&mut self, message: Message) -> Result<(), Error> {
        match &mut self.outbox {
            Outbox::Pending(queue) => {
                queue.push(message);
                Ok(())
            }
            // A close order (a logout, a full inbox, shutdown) stops a write
            // that waits on a client which does not read: the handler gets
            // `Gone`, and the connection closes as ordered.
            // Once ordered closed, nothing more is sent: the close frame is next.
            Outbox::Open(socket) => {
                let mailbox = self.registration.mailbox();
                if mailbox.closing() {
                    return Err(Error(ErrorKind::Gone));
                }
                let limit = Duration::from_millis(self.write_limit_ms.into());
                if self.corked {
                    until_stopped(mailbox, limit, socket.feed(message)).await
                } else {
                    until_stopped(mailbox, limit, socket.send(message)).await
                }
            }
        }
    }

    /// While corked, sends are buffered (up to the socket's write buffer)
    /// instead of written one by one; [`Cx::flush`] writes them.
    pub(crate) fn cork(&mut self, corked: bool) {
        self.corked = corked;
    }

    /// Writes what corked sends buffered.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        match &mut self.outbox {
            Outbox::Open(socket) => {
                let mailbox = self.registration.mailbox();
                if mailbox.closing() {
                    // The close frame that comes next flushes them.
                    return Err(Error(ErrorKind::Gone));
                }
                let limit = Duration::from_millis(self.write_limit_ms.into());
                until_stopped(mailbox, limit, socket.flush()).await
            }
            Outbox::Pending(_) => Ok(()),
        }
    }

    /// From now on, a write the client does not take within `limit` fails.
    pub(crate) fn limit_writes(&mut self, limit: Duration) {
        self.write_limit_ms = u32::try_from(limit.as_millis()).unwrap_or(u32::MAX);
    }

    /// Attaches the upgraded socket and sends what `connect` queued.
    pub(crate) async fn open(&mut self, socket: Socket) -> Result<(), Error> {
        let Outbox::Pending(queued) = std::mem::replace(&mut self.outbox, Outbox::Open(socket))
        else {
            return Ok(());
        };
        for message in queued {
            self.send_message(message).await?;
        }
        Ok(())
    }

    pub(crate) fn socket(&mut self) -> Option<&mut Socket> {
        match &mut self.outbox {
            Outbox::Open(socket) => Some(socket),
            Outbox::Pending(_) => None,
        }
    }

    pub(crate) fn take_close(&mut self) -> Option<(CloseCode, Cow<'static, str>)> {
        self.close.take()
    }

    pub(crate) fn scope_mut(&mut self) -> &mut Scope<C::User> {
        &mut self.scope
    }

    /// Hands the connection its auth scheme's state, for `login` and
    /// `logout`.
    pub(crate) fn attach_auth(&mut self, state: <C::Auth as Authenticate>::State) {
        self.auth = Some(state);
    }

    /// The credential a login or logout moved the connection to since the
    /// last call.
    pub(crate) fn take_rebound(&mut self) -> Option<Credential> {
        self.rebound.take()
    }

    /// Logs `user` in on this connection, as the app's HTTP login would,
    /// and returns the one-time code that hands the new session to the page.
    ///
    /// For consumers declared with `auth = "session"` (other schemes have no
    /// session, and do not compile: see
    /// [`SessionLogin`](crate::session::SessionLogin)). Call it once the
    /// connection is open (`receive`, `event`); in `connect` it fails.
    ///
    /// What it does, at once, with nothing left to save:
    ///
    /// 1. **A new session** for `user` in the app's store: a fresh id, so
    ///    a session id known before the login is worth nothing after it,
    ///    written as [`Sessions::login`](crate::Sessions::login) writes it
    ///    (for axum-login, the user id and session auth hash).
    /// 2. **A one-time code** for it ([`Handoff`]): send
    ///    [`code`](Handoff::code) to the page, which posts it to the app's
    ///    [handoff route](crate::Sessions::handoff_route) and gets its
    ///    session cookie in the answer. The session id itself never goes
    ///    over the socket.
    /// 3. **The connection is `user`**, on the new session: [`Cx::user`],
    ///    [`current_user`](crate::current_user), and the hub's user and
    ///    session indexes say so, so an HTTP logout of the new session, "log
    ///    out everywhere" for `user`, and `revalidate` reach it. Declared
    ///    `{session}` groups move to the new session. The consumer's own
    ///    `#[user]` field is its own to update.
    /// 4. **The connection's previous session, if any, is deleted**, which
    ///    closes that session's other sockets with 4401 `logged out`; its
    ///    data carries over when it was `user`'s.
    ///
    /// # Errors
    ///
    /// An error frame (the connection stays, as it was) when the store
    /// fails, or when `user` already holds the consumer's
    /// `max_per_user` connections; a server error (close 1011) when called
    /// in `connect`.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use serde_json::json;
    /// use sockwarden::prelude::*;
    ///
    /// #[derive(Clone, Serialize, Deserialize)]
    /// struct User { id: u64, name: String }
    /// impl AuthUser for User {
    ///     type Id = u64;
    ///     fn id(&self) -> u64 { self.id }
    /// }
    ///
    /// #[derive(Deserialize)]
    /// #[serde(tag = "type")]
    /// enum LobbyIn {
    ///     #[serde(rename = "login")]
    ///     Login { name: String, password: String },
    ///     #[serde(rename = "logout")]
    ///     Logout,
    /// }
    ///
    /// #[consumer(path = "/ws/lobby", auth = "session")]
    /// struct Lobby { #[user] user: Option<User> }
    ///
    /// impl Consumer for Lobby {
    ///     type In = LobbyIn;
    ///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: LobbyIn) -> Result<(), Error> {
    ///         match msg {
    ///             LobbyIn::Login { name, password } => {
    ///                 // … check the password …
    ///                 let user = User { id: 1, name };
    ///                 let handoff = cx.login(&user).await?;
    ///                 self.user = Some(user);
    ///                 // The page posts this code to the handoff route for its cookie.
    ///                 cx.send(&json!({ "type": "logged_in", "code": handoff.code() })).await
    ///             }
    ///             LobbyIn::Logout => {
    ///                 cx.logout().await?;
    ///                 self.user = None;
    ///                 cx.send(&json!({ "type": "logged_out" })).await
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub async fn login(&mut self, user: &C::User) -> Result<Handoff, Error>
    where
        C::Auth: SessionLogin,
    {
        let sessions = C::Auth::sessions(self.auth_state()?).clone();
        let previous = self.session();
        let (id, handoff) = sessions
            .login_session(user, previous.as_ref())
            .await
            .map_err(|error| store_failed::<C>(self.id, "logging in", &error))?;
        let credential = Credential::Session(id.to_string());
        // The cap as this consumer's handshakes count it, app defaults in.
        let per_user = self.hub().spec::<C>().limits.max_per_user;
        let rebound =
            self.registration
                .rebind(Some(user.id().to_string()), credential.clone(), per_user);
        if let Err(refusal) = rebound {
            sessions.abandon(&id, &handoff).await;
            return Err(match refusal {
                Refusal::UserCap => Error::reply("too many connections for this user"),
                Refusal::PeerCap | Refusal::ShuttingDown => {
                    Error::reply("the login was refused; try again later")
                }
            });
        }
        self.scope
            .set_user(Some(user.clone()), Some(Carrier::Cookie));
        self.current.set_user(Some(user));
        self.rebound = Some(credential);
        tracing::info!(
            consumer = C::SPEC.name,
            conn = %self.id,
            user = %user.id(),
            "websocket logged in"
        );
        // Only now that this connection is off it: the deletion closes the
        // previous session's other sockets, not this one.
        if let Some(previous) = previous
            && let Err(error) = sessions.delete_session(&previous).await
        {
            tracing::warn!(
                conn = %self.id,
                %error,
                "the session before a login was not deleted; it lives until it expires"
            );
        }
        Ok(handoff)
    }

    /// Logs this connection's user out: deletes its session from the
    /// store, which closes the session's other sockets with 4401
    /// `logged out`, and ends the connection's user.
    ///
    /// For consumers declared with `auth = "session"` (see
    /// [`SessionLogin`](crate::session::SessionLogin)), once the connection
    /// is open. Then:
    ///
    /// - a `#[requires_auth]` consumer's connection closes with 4401
    ///   `logged out` when the handler returns (its `#[user]` field cannot
    ///   become anonymous); the handler may still send a last message;
    /// - a consumer that admits anonymous users carries on, anonymous: its
    ///   consumer sets its own `Option<User>` field to `None`.
    ///
    /// Either way [`Cx::user`] and [`current_user`](crate::current_user)
    /// are `None` from here on, and the hub no longer finds the connection
    /// under the user or the session.
    ///
    /// The page's cookie still names the deleted session: its next request
    /// or handshake with it is anonymous. To have the browser drop the
    /// cookie too, the page calls the app's HTTP logout. An anonymous
    /// connection has nothing to log out of: `Ok` and nothing happens.
    ///
    /// # Errors
    ///
    /// An error frame when the store fails (the connection stays logged in,
    /// as the session does); a server error (close 1011) when called in
    /// `connect`.
    ///
    /// See [`Cx::login`] for an example.
    pub async fn logout(&mut self) -> Result<(), Error>
    where
        C::Auth: SessionLogin,
    {
        let sessions = C::Auth::sessions(self.auth_state()?).clone();
        let Some(session) = self.session() else {
            return Ok(());
        };
        let user = self.user().map(|user| user.id().to_string());
        // Off the session first, so that the deletion closes only the
        // others; a logout never exceeds a cap.
        let _ = self.registration.rebind(None, Credential::Opaque, None);
        if let Err(error) = sessions.delete_session(&session).await {
            let _ = self
                .registration
                .rebind(user, Credential::Session(session.to_string()), None);
            return Err(store_failed::<C>(self.id, "logging out", &error));
        }
        tracing::info!(
            consumer = C::SPEC.name,
            conn = %self.id,
            user = user.as_deref(),
            "websocket logged out"
        );
        self.scope.set_user(None, None);
        self.current.set_user::<C::User>(None);
        self.rebound = Some(Credential::Opaque);
        if self.hub().spec::<C>().requires_auth {
            self.close(CloseCode::NOT_AUTHENTICATED, LOGGED_OUT);
        }
        Ok(())
    }

    fn auth_state(&self) -> Result<&<C::Auth as Authenticate>::State, Error> {
        self.auth.as_ref().ok_or_else(|| {
            Error(ErrorKind::Internal(
                "cx.login and cx.logout work once the connection is open (in `receive` or \
                 `event`), not in `connect`"
                    .into(),
            ))
        })
    }

    /// The session the connection is on now, if any.
    fn session(&self) -> Option<tower_sessions::session::Id> {
        match self.registration.credential() {
            Credential::Session(id) => id.parse().ok(),
            _ => None,
        }
    }
}

/// A login or logout that the store did not take: logged, and answered
/// with an error frame (the connection stays as it was).
fn store_failed<C: Endpoint>(
    conn: ConnectionId,
    doing: &'static str,
    error: &crate::store::StoreError,
) -> Error {
    tracing::error!(consumer = C::SPEC.name, %conn, %error, "session store failed while {doing}");
    Error::reply("the session store is unavailable; try again")
}

impl<C: Endpoint> fmt::Debug for Cx<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx")
            .field("id", &self.id)
            .field("consumer", &C::SPEC.name)
            .finish_non_exhaustive()
    }
}
