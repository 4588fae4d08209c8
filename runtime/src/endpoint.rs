//! What `#[consumer]` declares about a consumer: its route, auth scheme,
//! rejection mode, credential carriers and limits.

use std::time::Duration;

use crate::hub::Overflow;
use crate::origin::{MissingOrigin, OriginPolicy};

use crate::auth::{AuthUser, Authenticate};
use crate::reject::Rejection;
use crate::scope::Scope;

/// The declaration that `#[consumer(...)]` writes for a struct.
///
/// You do not implement this trait by hand: the attribute does, from its
/// arguments and the struct's fields. The runtime reads [`Endpoint::SPEC`]
/// to mount the route, and [`FromHandshake`] to build the consumer from a
/// handshake.
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[consumer(path = "/ws/echo")]
/// struct Echo;
/// # impl Consumer for Echo {
/// #     type In = sockwarden::Frame;
/// #     async fn receive(&mut self, _: &mut Cx<Self>, _: sockwarden::Frame) -> Result<(), Error> { Ok(()) }
/// # }
///
/// assert_eq!(<Echo as sockwarden::Endpoint>::SPEC.path, "/ws/echo");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a consumer",
    label = "`{Self}` has no `#[consumer(...)]` attribute",
    note = "add `#[consumer(path = \"/ws/...\")]` to the struct `{Self}`"
)]
pub trait Endpoint: Sized + Send + 'static {
    /// The user type of this consumer: its `#[user]` field's type, or
    /// [`Anonymous`](crate::Anonymous) for a consumer without auth.
    type User: AuthUser;
    /// The auth scheme named by `auth = "…"`.
    type Auth: Authenticate<User = Self::User>;
    /// The route, policies and limits.
    const SPEC: Spec;

    /// The groups declared with `groups = [...]`, joined right after the
    /// connection is accepted and left when it ends; `session` is the id of
    /// the session it was opened with, for `{session}`.
    fn groups(&self, session: Option<&str>) -> Vec<String> {
        let _ = session;
        Vec::new()
    }
}

/// Builds a consumer from a handshake's scope and the router state `S`,
/// one field at a time; written by `#[consumer]`.
///
/// `#[state]` fields come from the router state through axum's `FromRef`,
/// so a consumer mounted on a router whose state lacks one does not compile.
#[diagnostic::on_unimplemented(
    message = "consumer `{Self}` cannot be built from the router state `{S}`",
    note = "each `#[state]` field's type must implement `FromRef<{S}>`"
)]
pub trait FromHandshake<S>: Endpoint {
    /// Builds the consumer.
    ///
    /// # Errors
    ///
    /// A field that cannot be read from the scope (a path parameter that does
    /// not parse, a missing query parameter) rejects the handshake.
    fn from_handshake(scope: &mut Scope<Self::User>, state: &S) -> Result<Self, Rejection>;
}

/// How a refused handshake reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectMode {
    /// An HTTP status (401, 403, …) before the upgrade, with a small JSON
    /// body. Cheapest, and what non-browser clients read best.
    Http,
    /// Accept the upgrade, send one JSON error frame, then close with the
    /// rejection's close code (4401, 4403, …) and reason: browsers cannot read
    /// the HTTP status of a failed upgrade, but they can read a close code.
    Close,
}

/// Where a token may travel on the handshake, in precedence order: the
/// `Authorization` header always; the `Sec-WebSocket-Protocol` header as
/// `<marker>, <token>`; the query string `?token=` only when enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Carriers {
    /// The subprotocol that marks the next offered subprotocol as a token.
    /// The 101 response echoes this marker, never the token.
    pub protocol_marker: &'static str,
    /// Whether `?token=` is read. Off by default: URLs end up in access logs.
    pub query: bool,
}

/// Per-connection limits, each with a defined outcome when crossed.
///
/// A consumer's attribute sets them one by one; what it leaves unset comes
/// from the app's [`AppDefaults`](crate::AppDefaults), else from
/// [`Limits::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest message (and frame) accepted; a larger one closes with 1009.
    pub max_message_size: usize,
    /// How long the auth scheme may take to decide; past it the handshake is
    /// refused with 503 (or close 1013), it never hangs.
    pub auth_timeout: Duration,
    /// Longest credential looked at; longer ones are refused unread.
    pub max_credential_len: usize,
    /// How long the client may stay silent before the server sends a Ping;
    /// `None` sends none. Any frame from the client (data, ping, pong,
    /// close) restarts the wait.
    pub ping_interval: Option<Duration>,
    /// How long after a Ping the client has to send any frame at all. Past
    /// it the peer is taken for dead or half-open: the server sends close
    /// 1011 `keepalive timeout` best-effort, drops the connection without
    /// waiting for a close handshake, and `disconnect` learns
    /// [`Disconnect::TimedOut`](crate::Disconnect::TimedOut).
    ///
    /// It also bounds every write: a message the client has not taken
    /// within it (it stopped reading, and the buffers between are full)
    /// fails the send with an error, and the connection ends the same way,
    /// without a close frame, since none could get through.
    pub pong_timeout: Duration,
    /// How long the client may go without sending a data message (text or
    /// binary) before the server closes with 1000 `idle timeout`; `None`
    /// never does. Off by default: a live connection that is merely quiet
    /// is fine to the runtime (keepalive finds dead peers), and closing it
    /// is the app's policy.
    pub idle_timeout: Option<Duration>,
    /// How many data messages a client may send per second, on average,
    /// with bursts up to the same number. The first message over it is
    /// dropped and answered with an error frame; a client that goes on is
    /// closed with 1008. `None`: no limit.
    pub messages_per_second: Option<u32>,
    /// How often a live connection's credential is re-read from its store
    /// (`revalidate = "30s"`); one that is no longer valid is closed with
    /// 4401. `None` (the default): revocation through the hub only.
    pub revalidate: Option<Duration>,
    /// How many events (group sends, messages to the user) may wait for
    /// the connection; past it, [`Limits::overflow`] decides.
    pub outbox: usize,
    /// What a connection whose inbox is full does.
    pub overflow: Overflow,
    /// How many connections one user may hold in this process, across
    /// consumers of the same hub; past it a handshake is refused with 429
    /// (or close 4429). `None`: no cap.
    pub max_per_user: Option<u32>,
    /// How many connections one peer address may hold; past it, as above.
    /// Behind a reverse proxy every client has the proxy's address unless
    /// the proxy is trusted ([`AppDefaults::trust_proxy`](crate::AppDefaults::trust_proxy)),
    /// in which case the client's forwarded address is counted.
    pub max_per_peer: Option<u32>,
}

impl Limits {
    /// The defaults: 1 MiB messages, a 5 s auth timeout, 4 KiB credentials,
    /// a Ping after 20 s of silence answered within 20 s (as the Python
    /// `websockets` server does), no idle timeout, 200 messages a second, 256
    /// waiting events then
    /// close 1013, 64 connections per user and 1,024 per peer address.
    ///
    /// Liveness is measured between messages: while `receive` runs the
    /// connection is not read, and no timer fires; the waits start again
    /// when it returns. A send in `receive` that the client does not take
    /// is bounded by `pong_timeout` all the same.
    pub const DEFAULT: Limits = Limits {
        max_message_size: 1 << 20,
        auth_timeout: Duration::from_secs(5),
        max_credential_len: 4096,
        ping_interval: Some(Duration::from_secs(20)),
        pong_timeout: Duration::from_secs(20),
        idle_timeout: None,
        messages_per_second: Some(200),
        revalidate: None,
        outbox: 256,
        overflow: Overflow::Close,
        max_per_user: Some(64),
        max_per_peer: Some(1024),
    };
}

/// Everything `#[consumer(...)]` declares, as data.
///
/// Built in a `const` by the macro with the builder methods below, so the
/// declaration costs nothing at run time.
///
/// ```
/// use sockwarden::{RejectMode, Spec};
///
/// const SPEC: Spec = Spec::new("Chat", "/ws/chat/{room}")
///     .requires_auth()
///     .reject_with_close()
///     .max_message_size(64 * 1024);
/// assert!(SPEC.requires_auth);
/// assert_eq!(SPEC.reject, RejectMode::Close);
/// assert!(!SPEC.carriers.query);
/// ```
///
/// Each limit and origin builder also records that the consumer set that
/// knob itself, so that the app's [`AppDefaults`](crate::AppDefaults) fill
/// in only what the attribute left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Spec {
    /// The consumer's type name, for logs.
    pub name: &'static str,
    /// The axum route, e.g. `/ws/chat/{room}`.
    pub path: &'static str,
    /// Whether anonymous and invalid credentials are refused before any
    /// consumer code runs (`#[requires_auth]`).
    pub requires_auth: bool,
    /// How refusals are delivered.
    pub reject: RejectMode,
    /// The subprotocols the consumer speaks (`protocols = [...]`); the 101
    /// selects the first one the client offered, in the client's order.
    pub protocols: &'static [&'static str],
    /// Where tokens may travel.
    pub carriers: Carriers,
    /// The limits.
    pub limits: Limits,
    /// Which page origins may open the socket (`origins = …`,
    /// `missing_origin = …`); checked before any credential is read.
    pub origin: OriginPolicy,
    /// The limit and origin knobs the builders set.
    explicit: Knobs,
}

/// A set of the limit and origin knobs, one bit each: those a [`Spec`]
/// declares itself, or those an [`AppDefaults`](crate::AppDefaults) sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Knobs(u16);

impl Knobs {
    pub(crate) const NONE: Knobs = Knobs(0);
    pub(crate) const MAX_MESSAGE_SIZE: Knobs = Knobs(1);
    pub(crate) const AUTH_TIMEOUT: Knobs = Knobs(1 << 1);
    pub(crate) const MAX_CREDENTIAL_LEN: Knobs = Knobs(1 << 2);
    pub(crate) const PING_INTERVAL: Knobs = Knobs(1 << 3);
    pub(crate) const PONG_TIMEOUT: Knobs = Knobs(1 << 4);
    pub(crate) const IDLE_TIMEOUT: Knobs = Knobs(1 << 5);
    pub(crate) const MESSAGES_PER_SECOND: Knobs = Knobs(1 << 6);
    pub(crate) const REVALIDATE: Knobs = Knobs(1 << 7);
    pub(crate) const OUTBOX: Knobs = Knobs(1 << 8);
    pub(crate) const OVERFLOW: Knobs = Knobs(1 << 9);
    pub(crate) const MAX_PER_USER: Knobs = Knobs(1 << 10);
    pub(crate) const MAX_PER_PEER: Knobs = Knobs(1 << 11);
    pub(crate) const ORIGINS: Knobs = Knobs(1 << 12);
    pub(crate) const MISSING_ORIGIN: Knobs = Knobs(1 << 13);

    pub(crate) const fn with(self, knob: Knobs) -> Knobs {
        Knobs(self.0 | knob.0)
    }

    pub(crate) const fn has(self, knob: Knobs) -> bool {
        self.0 & knob.0 == knob.0
    }
}

impl Spec {
    /// A consumer at `path` with the defaults: anonymous users admitted,
    /// HTTP rejections, header and subprotocol carriers, default limits.
    pub const fn new(name: &'static str, path: &'static str) -> Spec {
        Spec {
            name,
            path,
            requires_auth: false,
            reject: RejectMode::Http,
            protocols: &[],
            carriers: Carriers {
                protocol_marker: "bearer",
                query: false,
            },
            limits: Limits::DEFAULT,
            origin: OriginPolicy::DEFAULT,
            explicit: Knobs::NONE,
        }
    }

    /// Whether the consumer's attribute set `knob` itself.
    pub(crate) const fn declares(&self, knob: Knobs) -> bool {
        self.explicit.has(knob)
    }

    const fn set(mut self, knob: Knobs) -> Spec {
        self.explicit = self.explicit.with(knob);
        self
    }

    /// Refuses anonymous users (`#[requires_auth]`).
    pub const fn requires_auth(mut self) -> Spec {
        self.requires_auth = true;
        self
    }

    /// Delivers refusals as a close frame after the upgrade (`reject = "close"`).
    pub const fn reject_with_close(mut self) -> Spec {
        self.reject = RejectMode::Close;
        self
    }

    /// Sets the subprotocols the consumer speaks (`protocols = [...]`).
    pub const fn protocols(mut self, protocols: &'static [&'static str]) -> Spec {
        self.protocols = protocols;
        self
    }

    /// Reads `?token=` too (`query_token = true`).
    pub const fn query_token(mut self) -> Spec {
        self.carriers.query = true;
        self
    }

    /// Sets the subprotocol marker (`token_protocol = "…"`).
    pub const fn token_protocol(mut self, marker: &'static str) -> Spec {
        self.carriers.protocol_marker = marker;
        self
    }

    /// Sets the largest message accepted (`max_message_size = …`).
    pub const fn max_message_size(mut self, bytes: usize) -> Spec {
        self.limits.max_message_size = bytes;
        self.set(Knobs::MAX_MESSAGE_SIZE)
    }

    /// Sets the auth timeout (`auth_timeout = "…"`).
    pub const fn auth_timeout_ms(mut self, millis: u64) -> Spec {
        self.limits.auth_timeout = Duration::from_millis(millis);
        self.set(Knobs::AUTH_TIMEOUT)
    }

    /// Sets the keepalive ping interval (`ping_interval = "…"`); 0 turns
    /// keepalive pings off.
    pub const fn ping_interval_ms(mut self, millis: u64) -> Spec {
        self.limits.ping_interval = if millis == 0 {
            None
        } else {
            Some(Duration::from_millis(millis))
        };
        self.set(Knobs::PING_INTERVAL)
    }

    /// Sets how long a Ping may go unanswered (`pong_timeout = "…"`).
    pub const fn pong_timeout_ms(mut self, millis: u64) -> Spec {
        self.limits.pong_timeout = Duration::from_millis(millis);
        self.set(Knobs::PONG_TIMEOUT)
    }

    /// The origin policy (`origins = "same-host" | "any" | [...]`).
    pub const fn origins(mut self, policy: OriginPolicy) -> Spec {
        self.origin.allow = policy.allow;
        self.set(Knobs::ORIGINS)
    }

    /// What a handshake without `Origin` gets (`missing_origin = "allow"`).
    pub const fn missing_origin(mut self, missing: MissingOrigin) -> Spec {
        self.origin.missing = missing;
        self.set(Knobs::MISSING_ORIGIN)
    }

    /// `messages_per_second = 50` (`None`: `"unlimited"`).
    pub const fn messages_per_second(mut self, limit: Option<u32>) -> Spec {
        self.limits.messages_per_second = limit;
        self.set(Knobs::MESSAGES_PER_SECOND)
    }

    /// Re-reads the credential every period (`revalidate = "30s"`); 0 never
    /// does, whatever the app's defaults say.
    pub const fn revalidate_ms(mut self, millis: u64) -> Spec {
        self.limits.revalidate = if millis == 0 {
            None
        } else {
            Some(Duration::from_millis(millis))
        };
        self.set(Knobs::REVALIDATE)
    }

    /// How many events may wait for a connection (`outbox = 256`).
    pub const fn outbox(mut self, events: usize) -> Spec {
        self.limits.outbox = events;
        self.set(Knobs::OUTBOX)
    }

    /// `overflow = "drop-oldest"`.
    pub const fn drop_oldest(mut self) -> Spec {
        self.limits.overflow = Overflow::DropOldest;
        self.set(Knobs::OVERFLOW)
    }

    /// `overflow = "close"`: close 1013 when the outbox is full, the
    /// default, declared so that an app default does not replace it.
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Overflow, Spec};
    ///
    /// const SPEC: Spec = Spec::new("Feed", "/ws/feed").close_on_overflow();
    /// let app = AppDefaults::new().overflow(Overflow::DropOldest);
    /// assert_eq!(app.apply(&SPEC).limits.overflow, Overflow::Close);
    /// ```
    pub const fn close_on_overflow(mut self) -> Spec {
        self.limits.overflow = Overflow::Close;
        self.set(Knobs::OVERFLOW)
    }

    /// Sets the longest credential looked at; `#[consumer]` has no key for
    /// it, the app's [`AppDefaults`](crate::AppDefaults) do.
    ///
    /// ```
    /// use sockwarden::Spec;
    ///
    /// const SPEC: Spec = Spec::new("Chat", "/ws/chat").max_credential_len(1024);
    /// assert_eq!(SPEC.limits.max_credential_len, 1024);
    /// ```
    pub const fn max_credential_len(mut self, bytes: usize) -> Spec {
        self.limits.max_credential_len = bytes;
        self.set(Knobs::MAX_CREDENTIAL_LEN)
    }

    /// `max_per_user = 8` (`None`: `"unlimited"`).
    pub const fn max_per_user(mut self, cap: Option<u32>) -> Spec {
        self.limits.max_per_user = cap;
        self.set(Knobs::MAX_PER_USER)
    }

    /// `max_per_peer = 100` (`None`: `"unlimited"`).
    pub const fn max_per_peer(mut self, cap: Option<u32>) -> Spec {
        self.limits.max_per_peer = cap;
        self.set(Knobs::MAX_PER_PEER)
    }

    /// Closes a connection without data messages for this long with 1000
    /// (`idle_timeout = "…"`); 0 never does, whatever the app's defaults say.
    pub const fn idle_timeout_ms(mut self, millis: u64) -> Spec {
        self.limits.idle_timeout = if millis == 0 {
            None
        } else {
            Some(Duration::from_millis(millis))
        };
        self.set(Knobs::IDLE_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Limits, Spec};

    #[test]
    fn liveness_defaults() {
        let limits = Spec::new("X", "/").limits;
        assert_eq!(limits, Limits::DEFAULT);
        assert_eq!(limits.ping_interval, Some(Duration::from_secs(20)));
        assert_eq!(limits.pong_timeout, Duration::from_secs(20));
        assert_eq!(limits.idle_timeout, None);
    }

    #[test]
    fn liveness_builders() {
        const SPEC: Spec = Spec::new("X", "/")
            .ping_interval_ms(200)
            .pong_timeout_ms(300)
            .idle_timeout_ms(5 * 60 * 1000);
        assert_eq!(SPEC.limits.ping_interval, Some(Duration::from_millis(200)));
        assert_eq!(SPEC.limits.pong_timeout, Duration::from_millis(300));
        assert_eq!(SPEC.limits.idle_timeout, Some(Duration::from_secs(300)));
        // The other limits are untouched.
        assert_eq!(SPEC.limits.auth_timeout, Limits::DEFAULT.auth_timeout);
        // 0 turns pings off.
        assert_eq!(
            Spec::new("X", "/").ping_interval_ms(0).limits.ping_interval,
            None
        );
    }
}
