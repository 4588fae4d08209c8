//! App-wide defaults: the limits and origin policy of every consumer that
//! does not set its own, and the reverse proxies the app trusts.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::endpoint::{Knobs, Limits, Spec};
use crate::forwarded::{Client, Proxies, ProxyHeader};
use crate::hub::Overflow;
use crate::origin::{MissingOrigin, OriginPolicy};

/// Limits and origin policy for every consumer of an app, and the reverse
/// proxies it sits behind; attach them to the app's hub with
/// [`Hub::with_defaults`](crate::Hub::with_defaults).
///
/// Each knob is resolved on its own, per consumer: what the consumer's
/// `#[consumer(...)]` attribute sets wins; else what these defaults set;
/// else [`Limits::DEFAULT`] and [`OriginPolicy::DEFAULT`]. An app default
/// never replaces a value the consumer wrote, even one equal to the
/// built-in default.
///
/// ```
/// use std::time::Duration;
/// use sockwarden::{AppDefaults, Hub, OriginPolicy, Spec};
///
/// let defaults = AppDefaults::new()
///     .max_message_size(64 * 1024)
///     .idle_timeout(Some(Duration::from_secs(600)))
///     .origins(OriginPolicy::list(&["https://app.example.com"]));
///
/// // A consumer that set its own message size keeps it.
/// const UPLOADS: Spec = Spec::new("Uploads", "/ws/uploads").max_message_size(8 << 20);
/// let resolved = defaults.apply(&UPLOADS);
/// assert_eq!(resolved.limits.max_message_size, 8 << 20);
/// assert_eq!(resolved.limits.idle_timeout, Some(Duration::from_secs(600)));
///
/// let hub = Hub::new().with_defaults(defaults);
/// # let _ = hub;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppDefaults {
    limits: Limits,
    origin: OriginPolicy,
    set: Knobs,
    proxies: Proxies,
}

impl AppDefaults {
    /// Defaults that set nothing: every consumer keeps its own values and
    /// the built-in defaults, and no proxy is trusted.
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// const CHAT: Spec = Spec::new("Chat", "/ws/chat");
    /// assert_eq!(AppDefaults::new().apply(&CHAT), CHAT);
    /// ```
    pub fn new() -> AppDefaults {
        AppDefaults {
            limits: Limits::DEFAULT,
            origin: OriginPolicy::DEFAULT,
            set: Knobs::NONE,
            proxies: Proxies::default(),
        }
    }

    fn set(mut self, knob: Knobs) -> AppDefaults {
        self.set = self.set.with(knob);
        self
    }

    /// The largest message (and frame) accepted; a larger one closes with
    /// 1009. See [`Limits::max_message_size`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().max_message_size(16 * 1024);
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.max_message_size, 16 * 1024);
    /// ```
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> AppDefaults {
        self.limits.max_message_size = bytes;
        self.set(Knobs::MAX_MESSAGE_SIZE)
    }

    /// How long the auth scheme may take to decide. See
    /// [`Limits::auth_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().auth_timeout(Duration::from_secs(2));
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.auth_timeout, Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn auth_timeout(mut self, timeout: Duration) -> AppDefaults {
        self.limits.auth_timeout = timeout;
        self.set(Knobs::AUTH_TIMEOUT)
    }

    /// The longest credential looked at. See
    /// [`Limits::max_credential_len`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().max_credential_len(1024);
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.max_credential_len, 1024);
    /// ```
    #[must_use]
    pub fn max_credential_len(mut self, bytes: usize) -> AppDefaults {
        self.limits.max_credential_len = bytes;
        self.set(Knobs::MAX_CREDENTIAL_LEN)
    }

    /// How long a client may stay silent before the server pings it;
    /// `None` sends no pings. See [`Limits::ping_interval`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().ping_interval(Some(Duration::from_secs(30)));
    /// let limits = app.apply(&Spec::new("A", "/a")).limits;
    /// assert_eq!(limits.ping_interval, Some(Duration::from_secs(30)));
    /// ```
    #[must_use]
    pub fn ping_interval(mut self, every: Option<Duration>) -> AppDefaults {
        self.limits.ping_interval = every;
        self.set(Knobs::PING_INTERVAL)
    }

    /// How long after a Ping the client has to send any frame. See
    /// [`Limits::pong_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().pong_timeout(Duration::from_secs(10));
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.pong_timeout, Duration::from_secs(10));
    /// ```
    #[must_use]
    pub fn pong_timeout(mut self, timeout: Duration) -> AppDefaults {
        self.limits.pong_timeout = timeout;
        self.set(Knobs::PONG_TIMEOUT)
    }

    /// How long a client may go without a data message before it is closed
    /// with 1000; `None` never. See [`Limits::idle_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().idle_timeout(Some(Duration::from_secs(300)));
    /// let limits = app.apply(&Spec::new("A", "/a")).limits;
    /// assert_eq!(limits.idle_timeout, Some(Duration::from_secs(300)));
    /// ```
    #[must_use]
    pub fn idle_timeout(mut self, after: Option<Duration>) -> AppDefaults {
        self.limits.idle_timeout = after;
        self.set(Knobs::IDLE_TIMEOUT)
    }

    /// How many data messages a client may send per second; `None`: no
    /// limit. See [`Limits::messages_per_second`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().messages_per_second(Some(20));
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.messages_per_second, Some(20));
    /// ```
    #[must_use]
    pub fn messages_per_second(mut self, limit: Option<u32>) -> AppDefaults {
        self.limits.messages_per_second = limit;
        self.set(Knobs::MESSAGES_PER_SECOND)
    }

    /// How often a live connection's credential is re-read from its store;
    /// `None`: never. See [`Limits::revalidate`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().revalidate(Some(Duration::from_secs(60)));
    /// let limits = app.apply(&Spec::new("A", "/a")).limits;
    /// assert_eq!(limits.revalidate, Some(Duration::from_secs(60)));
    /// ```
    #[must_use]
    pub fn revalidate(mut self, every: Option<Duration>) -> AppDefaults {
        self.limits.revalidate = every;
        self.set(Knobs::REVALIDATE)
    }

    /// How many events may wait for a connection. See [`Limits::outbox`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().outbox(1024);
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.outbox, 1024);
    /// ```
    #[must_use]
    pub fn outbox(mut self, events: usize) -> AppDefaults {
        self.limits.outbox = events;
        self.set(Knobs::OUTBOX)
    }

    /// What a connection whose outbox is full does. See
    /// [`Limits::overflow`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Overflow, Spec};
    ///
    /// let app = AppDefaults::new().overflow(Overflow::DropOldest);
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.overflow, Overflow::DropOldest);
    /// ```
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> AppDefaults {
        self.limits.overflow = overflow;
        self.set(Knobs::OVERFLOW)
    }

    /// How many connections one user may hold in the hub; `None`: no cap.
    /// See [`Limits::max_per_user`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().max_per_user(Some(8));
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.max_per_user, Some(8));
    /// ```
    #[must_use]
    pub fn max_per_user(mut self, cap: Option<u32>) -> AppDefaults {
        self.limits.max_per_user = cap;
        self.set(Knobs::MAX_PER_USER)
    }

    /// How many connections one client address may hold; `None`: no cap.
    /// Behind trusted proxies the address is the forwarded client's (see
    /// [`AppDefaults::trust_proxy`]). See [`Limits::max_per_peer`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Spec};
    ///
    /// let app = AppDefaults::new().max_per_peer(Some(32));
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).limits.max_per_peer, Some(32));
    /// ```
    #[must_use]
    pub fn max_per_peer(mut self, cap: Option<u32>) -> AppDefaults {
        self.limits.max_per_peer = cap;
        self.set(Knobs::MAX_PER_PEER)
    }

    /// Which page origins may open a socket: the policy's
    /// [`allow`](OriginPolicy::allow) part, exactly as `origins = …` on a
    /// consumer. What a handshake without `Origin` gets is
    /// [`AppDefaults::missing_origin`]'s to say, so that narrowing the
    /// origins never widens it by accident.
    ///
    /// An app-wide allow-list applies to every consumer that declares no
    /// `origins`, token consumers included (non-browser clients without an
    /// `Origin` stay admitted to them unless `missing_origin` says
    /// otherwise).
    ///
    /// ```
    /// use sockwarden::{AppDefaults, OriginPolicy, Origins, Spec};
    ///
    /// let app = AppDefaults::new().origins(OriginPolicy::list(&["https://app.example.com"]));
    /// let spec = app.apply(&Spec::new("A", "/a"));
    /// assert_eq!(spec.origin.allow, Origins::List(&["https://app.example.com"]));
    ///
    /// // A consumer's own `origins = "any"` wins.
    /// const OPEN: Spec = Spec::new("Open", "/open").origins(OriginPolicy::any());
    /// assert_eq!(app.apply(&OPEN).origin.allow, Origins::Any);
    /// ```
    #[must_use]
    pub fn origins(mut self, policy: OriginPolicy) -> AppDefaults {
        self.origin.allow = policy.allow;
        self.set(Knobs::ORIGINS)
    }

    /// What a handshake without an `Origin` header gets. See
    /// [`MissingOrigin`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, MissingOrigin, Spec};
    ///
    /// let app = AppDefaults::new().missing_origin(MissingOrigin::Refuse);
    /// assert_eq!(app.apply(&Spec::new("A", "/a")).origin.missing, MissingOrigin::Refuse);
    /// ```
    #[must_use]
    pub fn missing_origin(mut self, missing: MissingOrigin) -> AppDefaults {
        self.origin.missing = missing;
        self.set(Knobs::MISSING_ORIGIN)
    }

    /// Trusts a reverse proxy: an address (`IpAddr`) or a network
    /// ([`IpNet`], e.g. `"10.0.0.0/8".parse()`).
    ///
    /// A handshake whose TCP peer is trusted is taken to come from the
    /// client its proxies name in the [`ProxyHeader`] (by default
    /// `X-Forwarded-For`): the rightmost address there that is not a
    /// trusted proxy. That address is the one
    /// [`Scope::peer_addr`](crate::Scope::peer_addr) returns (with port 0
    /// when the proxy forwards none) and the one
    /// [`max_per_peer`](AppDefaults::max_per_peer) counts. A missing or
    /// malformed header leaves the TCP peer as the client; handshakes from
    /// peers that are not trusted are never read for these headers.
    ///
    /// From a trusted proxy the same-host origin check also compares the
    /// `Origin` with the host the client asked the proxy for
    /// (`X-Forwarded-Host`, or `Forwarded: host=`) when the proxy forwards
    /// one, instead of the `Host` the proxy sent upstream.
    ///
    /// Trust only proxies that overwrite or append to the header: a
    /// trusted proxy that forwards a client's header unchanged lets the
    /// client choose its address.
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    /// use axum::http::HeaderMap;
    /// use sockwarden::{AppDefaults, IpNet};
    ///
    /// let app = AppDefaults::new()
    ///     .trust_proxy(IpAddr::V4(Ipv4Addr::LOCALHOST))
    ///     .trust_proxy("10.0.0.0/8".parse::<IpNet>().unwrap());
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-forwarded-for", "198.51.100.1, 203.0.113.7".parse().unwrap());
    /// let nginx: SocketAddr = "10.1.2.3:40000".parse().unwrap();
    /// assert_eq!(app.client_addr(nginx, &headers), "203.0.113.7:0".parse().unwrap());
    /// ```
    #[must_use]
    pub fn trust_proxy(mut self, proxy: impl Into<IpNet>) -> AppDefaults {
        self.proxies.nets.push(proxy.into());
        self
    }

    /// Trusts several reverse proxies; see [`AppDefaults::trust_proxy`].
    ///
    /// ```
    /// use sockwarden::{AppDefaults, IpNet};
    ///
    /// let nets: Vec<IpNet> = ["10.0.0.0/8", "fd00::/8"].iter().map(|n| n.parse().unwrap()).collect();
    /// let app = AppDefaults::new().trusted_proxies(nets);
    /// # let _ = app;
    /// ```
    #[must_use]
    pub fn trusted_proxies<I>(mut self, proxies: I) -> AppDefaults
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        self.proxies
            .nets
            .extend(proxies.into_iter().map(Into::into));
        self
    }

    /// Which header the trusted proxies write the client in:
    /// `X-Forwarded-For` (the default) or `Forwarded` (RFC 7239). Only that
    /// one is read.
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    /// use axum::http::HeaderMap;
    /// use sockwarden::{AppDefaults, ProxyHeader};
    ///
    /// let app = AppDefaults::new()
    ///     .trust_proxy(IpAddr::V4(Ipv4Addr::LOCALHOST))
    ///     .proxy_header(ProxyHeader::Forwarded);
    /// let mut headers = HeaderMap::new();
    /// headers.insert("forwarded", r#"for="[2001:db8::7]:4711";proto=https"#.parse().unwrap());
    /// headers.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    /// let proxy: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    /// assert_eq!(app.client_addr(proxy, &headers), "[2001:db8::7]:4711".parse().unwrap());
    /// ```
    #[must_use]
    pub fn proxy_header(mut self, header: ProxyHeader) -> AppDefaults {
        self.proxies.header = header;
        self
    }

    /// The spec a consumer declared as `spec`, with what it left unset
    /// taken from these defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwarden::{AppDefaults, Limits, Spec};
    ///
    /// const CHAT: Spec = Spec::new("Chat", "/ws/chat").max_per_user(Some(2));
    /// let app = AppDefaults::new().max_per_user(Some(10)).max_per_peer(None);
    /// let resolved = app.apply(&CHAT);
    /// assert_eq!(resolved.limits.max_per_user, Some(2));
    /// assert_eq!(resolved.limits.max_per_peer, None);
    /// assert_eq!(resolved.limits.outbox, Limits::DEFAULT.outbox);
    /// ```
    pub fn apply(&self, spec: &Spec) -> Spec {
        let mut merged = *spec;
        let inherit = |knob| self.set.has(knob) && !spec.declares(knob);
        let (limits, ours) = (&mut merged.limits, &self.limits);
        if inherit(Knobs::MAX_MESSAGE_SIZE) {
            limits.max_message_size = ours.max_message_size;
        }
        if inherit(Knobs::AUTH_TIMEOUT) {
            limits.auth_timeout = ours.auth_timeout;
        }
        if inherit(Knobs::MAX_CREDENTIAL_LEN) {
            limits.max_credential_len = ours.max_credential_len;
        }
        if inherit(Knobs::PING_INTERVAL) {
            limits.ping_interval = ours.ping_interval;
        }
        if inherit(Knobs::PONG_TIMEOUT) {
            limits.pong_timeout = ours.pong_timeout;
        }
        if inherit(Knobs::IDLE_TIMEOUT) {
            limits.idle_timeout = ours.idle_timeout;
        }
        if inherit(Knobs::MESSAGES_PER_SECOND) {
            limits.messages_per_second = ours.messages_per_second;
        }
        if inherit(Knobs::REVALIDATE) {
            limits.revalidate = ours.revalidate;
        }
        if inherit(Knobs::OUTBOX) {
            limits.outbox = ours.outbox;
        }
        if inherit(Knobs::OVERFLOW) {
            limits.overflow = ours.overflow;
        }
        if inherit(Knobs::MAX_PER_USER) {
            limits.max_per_user = ours.max_per_user;
        }
        if inherit(Knobs::MAX_PER_PEER) {
            limits.max_per_peer = ours.max_per_peer;
        }
        if inherit(Knobs::ORIGINS) {
            merged.origin.allow = self.origin.allow;
        }
        if inherit(Knobs::MISSING_ORIGIN) {
            merged.origin.missing = self.origin.missing;
        }
        merged
    }

    /// The client of a request that arrived from `peer`: the forwarded
    /// client when `peer` is a trusted proxy (see
    /// [`AppDefaults::trust_proxy`]), else `peer`. For HTTP handlers that
    /// want the same answer the sockets get.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use axum::http::HeaderMap;
    /// use sockwarden::AppDefaults;
    ///
    /// // No trusted proxy: the header is a client's claim, and ignored.
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    /// let peer: SocketAddr = "198.51.100.1:5000".parse().unwrap();
    /// assert_eq!(AppDefaults::new().client_addr(peer, &headers), peer);
    /// ```
    pub fn client_addr(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        self.proxies.client(peer, headers).addr
    }

    pub(crate) fn client<'h>(&self, peer: SocketAddr, headers: &'h HeaderMap) -> Client<'h> {
        self.proxies.client(peer, headers)
    }
}

impl Default for AppDefaults {
    /// [`AppDefaults::new`].
    ///
    /// ```
    /// assert_eq!(sockwarden::AppDefaults::default(), sockwarden::AppDefaults::new());
    /// ```
    fn default() -> AppDefaults {
        AppDefaults::new()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::AppDefaults;
    use crate::endpoint::{Limits, Spec};
    use crate::hub::Overflow;
    use crate::origin::{MissingOrigin, OriginPolicy, Origins};

    /// Every knob set, each to a value unlike the built-in default.
    fn every_knob() -> AppDefaults {
        AppDefaults::new()
            .max_message_size(1)
            .auth_timeout(Duration::from_millis(2))
            .max_credential_len(3)
            .ping_interval(None)
            .pong_timeout(Duration::from_millis(5))
            .idle_timeout(Some(Duration::from_millis(6)))
            .messages_per_second(None)
            .revalidate(Some(Duration::from_millis(8)))
            .outbox(9)
            .overflow(Overflow::DropOldest)
            .max_per_user(None)
            .max_per_peer(Some(12))
            .origins(OriginPolicy::list(&["https://a.example"]))
            .missing_origin(MissingOrigin::Allow)
    }

    #[test]
    fn nothing_set_changes_nothing() {
        const SPEC: Spec = Spec::new("X", "/x").max_message_size(10).drop_oldest();
        assert_eq!(AppDefaults::new().apply(&SPEC), SPEC);
    }

    #[test]
    fn app_defaults_fill_what_the_consumer_left_unset() {
        let spec = every_knob().apply(&Spec::new("X", "/x"));
        let expected = Limits {
            max_message_size: 1,
            auth_timeout: Duration::from_millis(2),
            max_credential_len: 3,
            ping_interval: None,
            pong_timeout: Duration::from_millis(5),
            idle_timeout: Some(Duration::from_millis(6)),
            messages_per_second: None,
            revalidate: Some(Duration::from_millis(8)),
            outbox: 9,
            overflow: Overflow::DropOldest,
            max_per_user: None,
            max_per_peer: Some(12),
        };
        assert_eq!(spec.limits, expected);
        assert_eq!(spec.origin.allow, Origins::List(&["https://a.example"]));
        assert_eq!(spec.origin.missing, MissingOrigin::Allow);
        // Not a limit: untouched.
        assert_eq!((spec.name, spec.path), ("X", "/x"));
    }

    #[test]
    fn a_consumer_turns_off_the_timers_the_app_turns_on() {
        // `ping_interval = "0s"`, `idle_timeout = "0s"`, `revalidate = "0s"`.
        const SPEC: Spec = Spec::new("X", "/x")
            .ping_interval_ms(0)
            .idle_timeout_ms(0)
            .revalidate_ms(0);
        let app = AppDefaults::new()
            .ping_interval(Some(Duration::from_secs(5)))
            .idle_timeout(Some(Duration::from_secs(60)))
            .revalidate(Some(Duration::from_secs(30)));
        let limits = app.apply(&SPEC).limits;
        assert_eq!(
            (limits.ping_interval, limits.idle_timeout, limits.revalidate),
            (None, None, None)
        );
        // Unset, they inherit the app's.
        let limits = app.apply(&Spec::new("Y", "/y")).limits;
        assert_eq!(limits.revalidate, Some(Duration::from_secs(30)));
        assert_eq!(limits.idle_timeout, Some(Duration::from_secs(60)));
    }

    #[test]
    fn what_the_consumer_set_wins_even_when_it_is_the_builtin_default() {
        const SPEC: Spec = Spec::new("X", "/x")
            .max_message_size(Limits::DEFAULT.max_message_size)
            .auth_timeout_ms(5_000)
            .max_credential_len(4096)
            .ping_interval_ms(20_000)
            .pong_timeout_ms(20_000)
            .idle_timeout_ms(60_000)
            .messages_per_second(Some(200))
            .revalidate_ms(30_000)
            .outbox(256)
            .close_on_overflow()
            .max_per_user(Some(64))
            .max_per_peer(Some(1024))
            .origins(OriginPolicy::same_host())
            .missing_origin(MissingOrigin::Refuse);
        let merged = every_knob().apply(&SPEC);
        assert_eq!(merged, SPEC);
    }

    #[test]
    fn each_knob_is_resolved_on_its_own() {
        const SPEC: Spec = Spec::new("X", "/x")
            .max_message_size(100)
            .origins(OriginPolicy::any());
        let merged = every_knob().apply(&SPEC);
        assert_eq!(merged.limits.max_message_size, 100);
        assert_eq!(merged.limits.outbox, 9);
        assert_eq!(merged.origin.allow, Origins::Any);
        assert_eq!(merged.origin.missing, MissingOrigin::Allow);
    }

    #[test]
    fn origins_takes_only_which_origins() {
        // `any()` also admits a missing Origin; an app default of it must
        // not carry that over to consumers that narrow the origins.
        let app = AppDefaults::new().origins(OriginPolicy::any());
        const NARROW: Spec = Spec::new("X", "/x").origins(OriginPolicy::same_host());
        let merged = app.apply(&NARROW);
        assert_eq!(merged.origin.allow, Origins::SameHost);
        assert_eq!(merged.origin.missing, MissingOrigin::RefuseForCookies);
    }

    #[test]
    fn proxies_do_not_touch_the_spec() {
        let app = AppDefaults::new().trust_proxy(std::net::IpAddr::from([127, 0, 0, 1]));
        const SPEC: Spec = Spec::new("X", "/x");
        assert_eq!(app.apply(&SPEC), SPEC);
    }
}
