//! The origin policy: which web pages may open a consumer's socket.
//!
//! A browser attaches its cookies to a WebSocket handshake whichever page
//! opens it, and WebSockets are not subject to CORS: a page on
//! `https://evil.example` can open `wss://app.example.com/ws` and ride the
//! visitor's session (cross-site WebSocket hijacking, CWE-1385). The browser
//! does say which page it is, in the `Origin` header, and a script cannot
//! change it. So a consumer that authenticates by cookie checks the Origin,
//! before its session is read.
//!
//! The policy ([`OriginPolicy`]):
//!
//! - **Same host by default for cookie auth.** The Origin's host and port
//!   must be the request's `Host` (the URI authority on HTTP/2).
//!   `X-Forwarded-Host` is read only from a trusted reverse proxy
//!   ([`AppDefaults::trust_proxy`](crate::AppDefaults::trust_proxy)). A
//!   consumer that does not authenticate by cookie is not checked unless it
//!   declares a policy.
//! - **An allow-list** of exact `scheme://host[:port]` origins, validated
//!   when the policy is built. The subdomain rule: an entry
//!   `https://*.example.com` matches one or more labels in front of
//!   `example.com`, on the same scheme and port. It never matches
//!   `example.com` itself, nor `evilexample.com`, nor `example.com.evil.net`.
//! - **A missing Origin** (non-browser clients send none) is refused for
//!   cookie auth and admitted otherwise, unless the consumer declares it.
//! - **`null`** (sandboxed frames, `file://` pages, some redirects) is always
//!   refused. Any site can create such a page, so admitting it would admit
//!   every site.
//! - **Malformed or ambiguous headers** are refused: two Origin headers,
//!   non-ASCII bytes, a path, userinfo, a bad port, a trailing dot.
//! - **Turning the check off** is spelled out (`origins = "any"`).
//! - A refusal is [`RejectKind::Policy`]: HTTP 403 before the upgrade, or
//!   close 1008 (policy violation) in `reject = "close"` mode.
//!
//! Everything here is pure: no I/O, no allocation except a refusal's reason.
//! The entry parser is `const`, so an invalid allow-list in a `const` is a
//! compile error.

use std::borrow::Cow;
use std::fmt;

use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;

use crate::reject::{RejectKind, Rejection};

/// Which pages may open a consumer's socket, and what a handshake without
/// an `Origin` header gets. `#[consumer]` builds one from its `origins` and
/// `missing_origin` arguments; the router checks it on every handshake,
/// before the auth scheme runs.
///
/// | attribute | policy |
/// | --- | --- |
/// | (none) | [`OriginPolicy::DEFAULT`]: same host for cookie auth, unchecked otherwise |
/// | `origins = "same-host"` | [`Origins::SameHost`] |
/// | `origins = ["https://app.example.com", "https://*.example.com"]` | [`Origins::List`] |
/// | `origins = "any"` | [`Origins::Any`]: no check, spelled out |
/// | `missing_origin = "refuse"` / `"allow"` | [`MissingOrigin::Refuse`] / [`MissingOrigin::Allow`] |
///
/// # The rules
///
/// **Same host.** The Origin's host and port must equal the request's: its
/// URI authority when it has one (HTTP/2's `:authority`, or an
/// absolute-form request target), else its single `Host` header; when both
/// are present they must agree. A port left out means the default port of
/// the *Origin's* scheme (`http` 80, `https` 443), on both sides: the server
/// cannot tell which scheme the browser used when TLS ends at a proxy, so
/// the scheme itself is not compared, and `http://app.example.com` and
/// `https://app.example.com` both match `Host: app.example.com`. A site
/// served only over HTTPS that wants the scheme pinned lists its origin.
///
/// **Behind a reverse proxy** the `Host` is whatever the proxy forwards. A
/// proxy that rewrites `Host` to the upstream's address (nginx's
/// `proxy_pass` does, unless told `proxy_set_header Host $host`) makes
/// every same-host check fail, closed. `X-Forwarded-Host` and `Forwarded:
/// host=` are read only when the TCP peer is a proxy the app trusts
/// ([`AppDefaults::trust_proxy`](crate::AppDefaults::trust_proxy)), and
/// only the one of its [`ProxyHeader`](crate::ProxyHeader): then, when the
/// proxy forwards a host, the Origin is compared with it instead of
/// `Host`. From any other peer they are ignored: any client can send them.
/// The robust pattern needs none of this: list the public origins,
/// `origins = ["https://app.example.com"]`.
///
/// **Allow-list.** Each entry is exactly `scheme://host[:port]`, lowercase,
/// as a browser serialises the page's origin: no path, no trailing slash,
/// no userinfo; hosts in ASCII (punycode `xn--…` for internationalised
/// names); IPv6 in brackets. An origin matches an entry when the scheme is
/// equal, the port is equal after defaults (`https://a.com` and
/// `https://a.com:443` are the same origin), and the host is equal. Scheme
/// and host compare case-insensitively; IPv6 addresses compare as
/// addresses. Other schemes than `http` and `https` (`chrome-extension://…`,
/// `tauri://localhost`) may be listed; they have no default port.
///
/// **Subdomains.** An entry `https://*.example.com` matches an origin on
/// the same scheme and port whose host is one or more labels followed by
/// `.example.com`: `https://a.example.com` and `https://a.b.example.com`,
/// but never `https://example.com` (list it too if you want it), nor
/// `https://evilexample.com`, nor `https://example.com.evil.net`. `*` stands
/// only for whole labels at the start, and needs at least two labels after
/// it (`https://*.com` is refused). A wildcard over a public suffix
/// (`*.co.uk`, `*.github.io`) admits every site registered under it: write
/// your own domain.
///
/// **Missing Origin.** Browsers send an Origin on every WebSocket
/// handshake, so its absence means a non-browser client (a CLI, a server, a
/// mobile app), which cannot borrow a visitor's cookies. By default
/// ([`MissingOrigin::RefuseForCookies`]) it is refused for cookie auth all
/// the same (defence in depth against old or broken clients and proxies
/// that strip the header) and admitted for other schemes.
///
/// **`null`.** Browsers send `Origin: null` from sandboxed iframes,
/// `file://` and `data:` pages and after some cross-origin redirects. Any
/// site can make such a page, so `null` says nothing about who is calling:
/// it is refused whatever the list and whatever [`MissingOrigin`] says, and
/// an allow-list cannot hold it. It gets its own rule, separate from the
/// missing header, for that reason: a missing header is a non-browser
/// client, `null` is a browser page that hides where it comes from.
///
/// **Malformed headers** are refused: more than one `Origin` header (or
/// several origins in one), bytes outside visible ASCII (raw Unicode
/// hosts, including look-alikes such as a Cyrillic `а`), a path, query,
/// fragment or trailing slash, userinfo, a port that is empty, zero, above
/// 65535 or has leading zeros, a host with an empty label or a trailing
/// dot, `ws://` or `wss://` schemes, more than 512 bytes. An upper-case
/// scheme or host is read case-insensitively (browsers send lowercase; the
/// meaning is not in doubt).
///
/// **Refusals** are [`RejectKind::Policy`]: 403 before the upgrade in
/// `reject = "http"` mode, the status RFC 6455 §4.2.2 names for an origin
/// the server does not accept. In `reject = "close"` mode the upgrade
/// completes without reading the session and closes at once with 1008, the
/// RFC's "policy violation": unlike 4401 or 4403 it tells the page that
/// logging in again will not help. The reason says what was wrong; it
/// quotes the origin only when it is well formed (visible ASCII, no
/// userinfo) and cuts it to 64 bytes.
///
/// ```
/// use axum::http::Request;
/// use sockwarden::{MissingOrigin, OriginPolicy, RejectKind};
///
/// const POLICY: OriginPolicy =
///     OriginPolicy::list(&["https://app.example.com", "https://*.example.com"]);
///
/// let handshake = |origin: &str| {
///     Request::builder()
///         .header("host", "ws.example.com")
///         .header("origin", origin)
///         .body(())
///         .unwrap()
///         .into_parts()
///         .0
/// };
/// let cookie_auth = true;
/// assert!(POLICY.check(&handshake("https://app.example.com"), cookie_auth).is_ok());
/// assert!(POLICY.check(&handshake("https://eu.app.example.com"), cookie_auth).is_ok());
///
/// let refused = POLICY.check(&handshake("https://example.com.evil.net"), cookie_auth).unwrap_err();
/// assert_eq!(refused.kind(), RejectKind::Policy);
/// assert_eq!(refused.kind().status(), 403);
/// assert_eq!(refused.kind().close_code(), 1008);
///
/// // Non-browser clients send no Origin: refused for cookie auth unless declared.
/// let no_origin = Request::new(()).into_parts().0;
/// assert!(POLICY.check(&no_origin, cookie_auth).is_err());
/// assert!(POLICY.missing_origin(MissingOrigin::Allow).check(&no_origin, cookie_auth).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OriginPolicy {
    /// Which origins are admitted.
    pub allow: Origins,
    /// What a handshake without an `Origin` header gets.
    pub missing: MissingOrigin,
}

/// Which origins a consumer admits.
///
/// `SameHostForCookies` and `MissingOrigin::RefuseForCookies` are the
/// undeclared defaults; [`OriginPolicy::resolve`] turns them into the
/// concrete variants for a given auth scheme.
///
/// ```
/// use sockwarden::{OriginPolicy, Origins};
///
/// const ADMIN: OriginPolicy = OriginPolicy::list(&["https://admin.example.com"]);
/// assert_eq!(ADMIN.allow, Origins::List(&["https://admin.example.com"]));
/// assert_eq!(OriginPolicy::DEFAULT.resolve(true).allow, Origins::SameHost);
/// assert_eq!(OriginPolicy::DEFAULT.resolve(false).allow, Origins::Any);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origins {
    /// Undeclared: [`Origins::SameHost`] for a consumer that authenticates
    /// by cookie, [`Origins::Any`] for one that does not (a token the page
    /// must hold is not ambient, so a foreign page cannot use it).
    SameHostForCookies,
    /// The Origin's host and port must be the request's `Host`
    /// (`origins = "same-host"`).
    SameHost,
    /// Exactly these origins, `scheme://host[:port]`, with
    /// `scheme://*.domain[:port]` for subdomains (`origins = [...]`).
    /// Build it with [`OriginPolicy::list`], which validates the entries;
    /// an entry that does not parse never matches.
    List(&'static [&'static str]),
    /// No check at all (`origins = "any"`). On a cookie consumer this
    /// admits cross-site WebSocket hijacking, which is why it must be
    /// written out.
    Any,
}

/// What a handshake without an `Origin` header gets. It never applies to
/// `Origin: null`, which is always refused (see [`OriginPolicy`]).
///
/// ```
/// use sockwarden::{MissingOrigin, OriginPolicy};
///
/// // A cookie consumer that also serves a native app, which sends no Origin.
/// const POLICY: OriginPolicy =
///     OriginPolicy::same_host().missing_origin(MissingOrigin::Allow);
/// assert_eq!(POLICY.resolve(true).missing, MissingOrigin::Allow);
/// assert_eq!(OriginPolicy::DEFAULT.resolve(true).missing, MissingOrigin::Refuse);
/// assert_eq!(OriginPolicy::DEFAULT.resolve(false).missing, MissingOrigin::Allow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MissingOrigin {
    /// Undeclared: [`MissingOrigin::Refuse`] for cookie auth,
    /// [`MissingOrigin::Allow`] otherwise.
    RefuseForCookies,
    /// Refused with 403 / 1008 (`missing_origin = "refuse"`).
    Refuse,
    /// Admitted: non-browser clients send no Origin
    /// (`missing_origin = "allow"`).
    Allow,
}

impl OriginPolicy {
    /// The policy of a consumer that declares none: same host and no
    /// missing Origin for cookie auth; no check for other schemes.
    ///
    /// ```
    /// use sockwarden::OriginPolicy;
    ///
    /// assert_eq!(OriginPolicy::DEFAULT.resolve(true), OriginPolicy::same_host().resolve(true));
    /// assert_eq!(OriginPolicy::DEFAULT.resolve(false), OriginPolicy::any().resolve(false));
    /// ```
    pub const DEFAULT: OriginPolicy = OriginPolicy {
        allow: Origins::SameHostForCookies,
        missing: MissingOrigin::RefuseForCookies,
    };

    /// Same host, whatever the auth scheme (`origins = "same-host"`); a
    /// missing Origin is refused for cookie auth only.
    ///
    /// ```
    /// use axum::http::Request;
    /// use sockwarden::OriginPolicy;
    ///
    /// let handshake = Request::builder()
    ///     .header("host", "app.example.com:8443")
    ///     .header("origin", "https://app.example.com:8443")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts()
    ///     .0;
    /// assert!(OriginPolicy::same_host().check(&handshake, true).is_ok());
    /// ```
    pub const fn same_host() -> OriginPolicy {
        OriginPolicy {
            allow: Origins::SameHost,
            missing: MissingOrigin::RefuseForCookies,
        }
    }

    /// Exactly these origins (`origins = [...]`); a missing Origin is
    /// refused for cookie auth only. An empty list admits no browser page.
    ///
    /// # Panics
    ///
    /// When an entry is not a valid origin (see [`parse_allowed`]), with a
    /// message that says what to write instead. In a `const` that is a
    /// compile error:
    ///
    /// ```compile_fail
    /// use sockwarden::OriginPolicy;
    ///
    /// // "write the origin as scheme://host[:port], without a path, query or trailing slash"
    /// const POLICY: OriginPolicy = OriginPolicy::list(&["https://app.example.com/"]);
    /// # let _ = POLICY;
    /// ```
    ///
    /// ```
    /// use sockwarden::OriginPolicy;
    ///
    /// const POLICY: OriginPolicy =
    ///     OriginPolicy::list(&["https://app.example.com", "http://localhost:5173"]);
    /// assert!(POLICY.validate().is_ok());
    /// ```
    pub const fn list(origins: &'static [&'static str]) -> OriginPolicy {
        let policy = OriginPolicy {
            allow: Origins::List(origins),
            missing: MissingOrigin::RefuseForCookies,
        };
        if let Err(error) = policy.validate() {
            panic!("{}", error.message());
        }
        policy
    }

    /// No origin check (`origins = "any"`): every Origin, `null` and none
    /// at all are admitted.
    ///
    /// ```
    /// use axum::http::Request;
    /// use sockwarden::OriginPolicy;
    ///
    /// let foreign = Request::builder()
    ///     .header("host", "app.example.com")
    ///     .header("origin", "null")
    ///     .body(())
    ///     .unwrap()
    ///     .into_parts()
    ///     .0;
    /// assert!(OriginPolicy::any().check(&foreign, true).is_ok());
    /// ```
    pub const fn any() -> OriginPolicy {
        OriginPolicy {
            allow: Origins::Any,
            missing: MissingOrigin::Allow,
        }
    }

    /// Sets what a handshake without an Origin gets
    /// (`missing_origin = "…"`).
    ///
    /// ```
    /// use sockwarden::{MissingOrigin, OriginPolicy};
    ///
    /// const POLICY: OriginPolicy = OriginPolicy::same_host().missing_origin(MissingOrigin::Refuse);
    /// assert_eq!(POLICY.resolve(false).missing, MissingOrigin::Refuse);
    /// ```
    pub const fn missing_origin(mut self, missing: MissingOrigin) -> OriginPolicy {
        self.missing = missing;
        self
    }

    /// The policy as it applies to a consumer that does (`cookie_auth`) or
    /// does not authenticate by cookie: the undeclared defaults
    /// ([`Origins::SameHostForCookies`], [`MissingOrigin::RefuseForCookies`])
    /// become concrete variants; declared ones are kept.
    ///
    /// ```
    /// use sockwarden::{MissingOrigin, OriginPolicy, Origins};
    ///
    /// let cookie = OriginPolicy::DEFAULT.resolve(true);
    /// assert_eq!((cookie.allow, cookie.missing), (Origins::SameHost, MissingOrigin::Refuse));
    /// let token = OriginPolicy::same_host().resolve(false);
    /// assert_eq!((token.allow, token.missing), (Origins::SameHost, MissingOrigin::Allow));
    /// ```
    pub const fn resolve(self, cookie_auth: bool) -> OriginPolicy {
        let allow = match self.allow {
            Origins::SameHostForCookies if cookie_auth => Origins::SameHost,
            Origins::SameHostForCookies => Origins::Any,
            declared => declared,
        };
        let missing = match self.missing {
            MissingOrigin::RefuseForCookies if cookie_auth => MissingOrigin::Refuse,
            MissingOrigin::RefuseForCookies => MissingOrigin::Allow,
            declared => declared,
        };
        OriginPolicy { allow, missing }
    }

    /// Checks every allow-list entry with [`parse_allowed`].
    ///
    /// # Errors
    ///
    /// The first entry that is not a valid origin; the error says what to
    /// write instead.
    ///
    /// ```
    /// use sockwarden::{OriginPolicy, Origins};
    ///
    /// let policy = OriginPolicy { allow: Origins::List(&["app.example.com"]), ..OriginPolicy::DEFAULT };
    /// let error = policy.validate().unwrap_err();
    /// assert!(error.message().starts_with("write the origin with its scheme"));
    /// ```
    pub const fn validate(&self) -> Result<(), OriginError> {
        if let Origins::List(entries) = self.allow {
            let mut i = 0;
            while i < entries.len() {
                if let Err(kind) = parse_site(entries[i], Mode::Entry) {
                    return Err(OriginError { kind });
                }
                i += 1;
            }
        }
        Ok(())
    }

    /// Checks a handshake's `Origin` against the policy, for a consumer
    /// that does (`cookie_auth`) or does not authenticate by cookie. Call it
    /// before the auth scheme reads anything.
    ///
    /// # Errors
    ///
    /// A [`RejectKind::Policy`] rejection (403, or close 1008) saying what
    /// was wrong: a foreign, `null`, missing or malformed Origin, or a
    /// request whose own host cannot be told.
    ///
    /// ```
    /// use axum::http::Request;
    /// use sockwarden::OriginPolicy;
    ///
    /// let handshake = |origin: &str| {
    ///     Request::builder()
    ///         .header("host", "app.example.com")
    ///         .header("origin", origin)
    ///         .body(())
    ///         .unwrap()
    ///         .into_parts()
    ///         .0
    /// };
    /// let policy = OriginPolicy::DEFAULT;
    /// assert!(policy.check(&handshake("https://app.example.com"), true).is_ok());
    /// let refused = policy.check(&handshake("https://evil.example"), true).unwrap_err();
    /// assert_eq!(refused.reason(), "origin https://evil.example is not this host");
    /// // A token consumer that declares no policy is not checked.
    /// assert!(policy.check(&handshake("https://evil.example"), false).is_ok());
    /// ```
    pub fn check(&self, request: &Parts, cookie_auth: bool) -> Result<(), Rejection> {
        self.check_host(request, cookie_auth, None)
    }

    /// [`OriginPolicy::check`], with the host a trusted proxy forwarded
    /// (`X-Forwarded-Host`, `Forwarded: host=`) standing for the request's
    /// own for the same-host rule.
    pub(crate) fn check_host(
        &self,
        request: &Parts,
        cookie_auth: bool,
        forwarded_host: Option<&str>,
    ) -> Result<(), Rejection> {
        let policy = self.resolve(cookie_auth);
        if matches!(policy.allow, Origins::Any | Origins::SameHostForCookies) {
            return Ok(());
        }
        let mut values = request.headers.get_all(ORIGIN).iter();
        let Some(value) = values.next() else {
            return match policy.missing {
                MissingOrigin::Allow => Ok(()),
                _ => Err(refuse("no Origin header")),
            };
        };
        if values.next().is_some() {
            return Err(refuse("more than one Origin header"));
        }
        let text = std::str::from_utf8(value.as_bytes())
            .map_err(|_| refuse(ErrorKind::NotAscii.reason()))?;
        let origin = parse_site(text, Mode::Header).map_err(|kind| refuse(kind.reason()))?;
        match policy.allow {
            Origins::List(entries) => {
                let admitted = entries
                    .iter()
                    .filter_map(|entry| parse_site(entry, Mode::Entry).ok())
                    .any(|entry| entry.admits(&origin));
                if admitted {
                    Ok(())
                } else {
                    Err(refuse(format!("origin {} is not allowed", shown(text))))
                }
            }
            _ => {
                let host = match forwarded_host {
                    Some(host) => {
                        parse_host(host).map_err(|_| refuse("the forwarded host is malformed"))?
                    }
                    None => request_host(request)?,
                };
                if origin.on_host(&host) {
                    Ok(())
                } else if !origin.is_web() {
                    Err(refuse("the Origin's scheme is not http or https"))
                } else {
                    Err(refuse(format!("origin {} is not this host", shown(text))))
                }
            }
        }
    }
}

impl Default for OriginPolicy {
    /// [`OriginPolicy::DEFAULT`].
    ///
    /// ```
    /// use sockwarden::OriginPolicy;
    /// assert_eq!(OriginPolicy::default(), OriginPolicy::DEFAULT);
    /// ```
    fn default() -> OriginPolicy {
        OriginPolicy::DEFAULT
    }
}

/// An origin policy refusal.
fn refuse(reason: impl Into<Cow<'static, str>>) -> Rejection {
    Rejection::new(RejectKind::Policy, reason)
}

/// A well-formed origin (visible ASCII, at most 512 bytes), cut to 64 bytes
/// for a refusal's reason.
fn shown(origin: &str) -> Cow<'_, str> {
    const MAX: usize = 64;
    match origin.get(..MAX) {
        Some(head) if origin.len() > MAX => Cow::Owned(format!("{head}…")),
        _ => Cow::Borrowed(origin),
    }
}

/// The request's own host: its URI authority (HTTP/2, absolute-form) or its
/// single `Host` header; both must agree when both are present.
fn request_host(request: &Parts) -> Result<Authority<'_>, Rejection> {
    let malformed = || refuse("the request's Host is malformed");
    let from_uri = match request.uri.authority() {
        Some(authority) => Some(parse_host(authority.as_str()).map_err(|_| malformed())?),
        None => None,
    };
    let mut hosts = request.headers.get_all(HOST).iter();
    let from_header = match hosts.next() {
        Some(value) => {
            let text = std::str::from_utf8(value.as_bytes()).map_err(|_| malformed())?;
            Some(parse_host(text).map_err(|_| malformed())?)
        }
        None => None,
    };
    if hosts.next().is_some() {
        return Err(refuse("more than one Host header"));
    }
    match (from_uri, from_header) {
        (Some(uri), Some(header)) => {
            let default = request.uri.scheme_str().and_then(default_port);
            let same = uri.same_name(&header) && uri.port.or(default) == header.port.or(default);
            if same {
                Ok(uri)
            } else {
                Err(refuse("the Host header and the request URI disagree"))
            }
        }
        (Some(host), None) | (None, Some(host)) => Ok(host),
        (None, None) => Err(refuse("the request has no Host to compare the Origin with")),
    }
}

// ---------------------------------------------------------------------------
// Parsing. Plain `const fn`s over bytes with no dependencies, so that a
// `const` policy is checked at compile time and the macro crate can copy
// them verbatim.
// ---------------------------------------------------------------------------

/// An allow-list entry, parsed: a scheme, a host (or a domain whose
/// subdomains are admitted) and a port.
///
/// ```
/// use sockwarden::parse_allowed;
///
/// let entry = parse_allowed("https://*.example.com").unwrap();
/// assert_eq!(entry.scheme(), "https");
/// assert_eq!(entry.host(), "example.com");
/// assert_eq!(entry.port(), Some(443));
/// assert!(entry.subdomains());
/// assert!(entry.matches("https://eu.app.example.com"));
/// assert!(!entry.matches("https://example.com"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedOrigin<'a> {
    site: Site<'a>,
}

impl<'a> AllowedOrigin<'a> {
    /// The scheme, lowercase: `"https"`.
    ///
    /// ```
    /// assert_eq!(sockwarden::parse_allowed("http://localhost:5173").unwrap().scheme(), "http");
    /// ```
    pub const fn scheme(&self) -> &'a str {
        self.site.scheme
    }

    /// The host as written, IPv6 addresses in brackets; for a subdomain
    /// entry, the domain after `*.`.
    ///
    /// ```
    /// assert_eq!(sockwarden::parse_allowed("http://[::1]:8000").unwrap().host(), "[::1]");
    /// assert_eq!(sockwarden::parse_allowed("https://*.example.com").unwrap().host(), "example.com");
    /// ```
    pub const fn host(&self) -> &'a str {
        self.site.authority.host
    }

    /// The port, the scheme's default when none is written (`http` 80,
    /// `https` 443); `None` for a scheme without a default port and no
    /// port written.
    ///
    /// ```
    /// use sockwarden::parse_allowed;
    ///
    /// assert_eq!(parse_allowed("https://app.example.com").unwrap().port(), Some(443));
    /// assert_eq!(parse_allowed("https://app.example.com:443").unwrap().port(), Some(443));
    /// assert_eq!(parse_allowed("http://localhost:5173").unwrap().port(), Some(5173));
    /// assert_eq!(parse_allowed("chrome-extension://abcdefgh").unwrap().port(), None);
    /// ```
    pub const fn port(&self) -> Option<u16> {
        self.site.port()
    }

    /// Whether the entry admits the subdomains of [`host`](Self::host)
    /// (`scheme://*.domain`) rather than the host itself.
    ///
    /// ```
    /// use sockwarden::parse_allowed;
    ///
    /// assert!(parse_allowed("https://*.example.com").unwrap().subdomains());
    /// assert!(!parse_allowed("https://example.com").unwrap().subdomains());
    /// ```
    pub const fn subdomains(&self) -> bool {
        self.site.authority.wildcard
    }

    /// Whether an `Origin` header value is admitted by this entry. A
    /// malformed or `null` origin never is.
    ///
    /// ```
    /// use sockwarden::parse_allowed;
    ///
    /// let entry = parse_allowed("https://app.example.com").unwrap();
    /// assert!(entry.matches("https://app.example.com"));
    /// assert!(entry.matches("https://app.example.com:443"));
    /// assert!(entry.matches("HTTPS://APP.EXAMPLE.COM"));
    /// assert!(!entry.matches("http://app.example.com"));
    /// assert!(!entry.matches("https://app.example.com:8443"));
    /// assert!(!entry.matches("https://app.example.com/"));
    /// assert!(!entry.matches("null"));
    /// ```
    pub fn matches(&self, origin: &str) -> bool {
        parse_site(origin, Mode::Header).is_ok_and(|origin| self.site.admits(&origin))
    }
}

/// Parses and validates an allow-list entry, `scheme://host[:port]` or
/// `scheme://*.domain[:port]` (see [`OriginPolicy`] for the rules).
/// `const`, so it runs at compile time on a `const` policy; the macro
/// validates `origins = [...]` with it.
///
/// # Errors
///
/// An entry that is not exactly an origin as browsers send it, with a
/// message that says what to write instead.
///
/// ```
/// use sockwarden::parse_allowed;
///
/// assert!(parse_allowed("https://app.example.com").is_ok());
/// assert!(parse_allowed("https://*.example.com:8443").is_ok());
/// assert!(parse_allowed("http://[::1]:8000").is_ok());
///
/// let error = parse_allowed("https://app.example.com/chat").unwrap_err();
/// assert_eq!(
///     error.message(),
///     "write the origin as scheme://host[:port], without a path, query or trailing slash"
/// );
/// assert!(parse_allowed(".example.com").is_err());
/// assert!(parse_allowed("wss://app.example.com").is_err());
/// assert!(parse_allowed("https://*.com").is_err());
/// ```
pub const fn parse_allowed(entry: &str) -> Result<AllowedOrigin<'_>, OriginError> {
    match parse_site(entry, Mode::Entry) {
        Ok(site) => Ok(AllowedOrigin { site }),
        Err(kind) => Err(OriginError { kind }),
    }
}

/// An allow-list entry that is not a valid origin. Its message says what to
/// write instead.
///
/// ```
/// use sockwarden::parse_allowed;
///
/// let error = parse_allowed("*").unwrap_err();
/// assert_eq!(error.to_string(), error.message());
/// assert!(error.message().contains(r#"origins = "any""#));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginError {
    kind: ErrorKind,
}

impl OriginError {
    /// What is wrong, and what to write instead.
    ///
    /// ```
    /// let error = sockwarden::parse_allowed("https://App.example.com").unwrap_err();
    /// assert_eq!(error.message(), "write the origin in lowercase, as browsers send it");
    /// ```
    pub const fn message(&self) -> &'static str {
        self.kind.advice()
    }
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for OriginError {}

/// Why a text is not an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    Empty,
    TooLong,
    NotAscii,
    Whitespace,
    Null,
    Star,
    MissingScheme,
    BadScheme,
    WebSocketScheme,
    Uppercase,
    Path,
    UserInfo,
    BadPort,
    EmptyHost,
    EmptyLabel,
    TrailingDot,
    BadHostChar,
    HostTooLong,
    BadIpv6,
    MisplacedWildcard,
    WildcardTooBroad,
    WildcardOnIp,
}

impl ErrorKind {
    /// For the developer who wrote an allow-list entry: what to write.
    const fn advice(self) -> &'static str {
        match self {
            ErrorKind::Empty => {
                "write the origin as scheme://host[:port], e.g. https://app.example.com"
            }
            ErrorKind::TooLong => {
                "the origin is longer than 512 bytes: write it as scheme://host[:port]"
            }
            ErrorKind::NotAscii => {
                "write the host in ASCII, as browsers send it: punycode (xn--...) for internationalised names"
            }
            ErrorKind::Whitespace => {
                "remove the spaces and control characters: write one origin, scheme://host[:port]"
            }
            ErrorKind::Null => {
                "`null` is the origin of sandboxed frames and file:// pages, which any site can create: allowing it allows every site; write origins = \"any\" if that is what you mean"
            }
            ErrorKind::Star => {
                "`*` is not an origin: list the origins, or write origins = \"any\" to turn the check off"
            }
            ErrorKind::MissingScheme => {
                "write the origin with its scheme, as scheme://host[:port]: https://example.com, not example.com, and https://*.example.com for subdomains, not .example.com"
            }
            ErrorKind::BadScheme => {
                "write the scheme as a letter followed by letters, digits, +, - or ., then ://"
            }
            ErrorKind::WebSocketScheme => {
                "browsers send the page's origin, never ws:// or wss://: write http:// or https://"
            }
            ErrorKind::Uppercase => "write the origin in lowercase, as browsers send it",
            ErrorKind::Path => {
                "write the origin as scheme://host[:port], without a path, query or trailing slash"
            }
            ErrorKind::UserInfo => {
                "write the origin without user:password@: an origin is scheme://host[:port]"
            }
            ErrorKind::BadPort => {
                "write the port as a number from 1 to 65535 without leading zeros, or leave out the colon"
            }
            ErrorKind::EmptyHost => "write a host after ://",
            ErrorKind::EmptyLabel => {
                "the host has an empty label (a leading dot or two dots in a row): write https://*.example.com for subdomains"
            }
            ErrorKind::TrailingDot => "write the host without a trailing dot",
            ErrorKind::BadHostChar => {
                "write the host as dot-separated labels of letters, digits, - and _ (punycode for internationalised names), or an IPv6 address in brackets"
            }
            ErrorKind::HostTooLong => {
                "write a host of at most 253 characters, in labels of at most 63"
            }
            ErrorKind::BadIpv6 => {
                "write an IPv6 address in brackets, as hex groups: http://[::1]:8000"
            }
            ErrorKind::MisplacedWildcard => {
                "`*` may only stand for whole labels at the start of the host: write https://*.example.com"
            }
            ErrorKind::WildcardTooBroad => {
                "a wildcard needs a domain of at least two labels after `*.`: write https://*.example.com, not https://*.com"
            }
            ErrorKind::WildcardOnIp => {
                "an IP address has no subdomains: write the address without `*.`"
            }
        }
    }

    /// For a refused handshake: what was wrong with its Origin header.
    /// Never quotes the header.
    const fn reason(self) -> &'static str {
        match self {
            ErrorKind::Empty => "the Origin header is empty",
            ErrorKind::TooLong => "the Origin header is too long",
            ErrorKind::NotAscii => {
                "the Origin header is not ASCII (browsers send hosts in punycode)"
            }
            ErrorKind::Whitespace => "the Origin header holds spaces or control characters",
            ErrorKind::Null => {
                "the Origin is null (a sandboxed frame, a file:// page or a redirect)"
            }
            ErrorKind::Star
            | ErrorKind::MissingScheme
            | ErrorKind::BadScheme
            | ErrorKind::Uppercase
            | ErrorKind::MisplacedWildcard
            | ErrorKind::WildcardTooBroad
            | ErrorKind::WildcardOnIp => "the Origin header is not scheme://host[:port]",
            ErrorKind::WebSocketScheme => "the Origin header has a ws:// or wss:// scheme",
            ErrorKind::Path => "the Origin header has a path, query or fragment",
            ErrorKind::UserInfo => "the Origin header has userinfo",
            ErrorKind::BadPort => "the Origin header has an invalid port",
            ErrorKind::EmptyHost
            | ErrorKind::EmptyLabel
            | ErrorKind::BadHostChar
            | ErrorKind::HostTooLong => "the Origin header has an invalid host",
            ErrorKind::TrailingDot => "the Origin's host ends with a dot",
            ErrorKind::BadIpv6 => "the Origin header has an invalid IPv6 address",
        }
    }
}

/// Who wrote the text: a developer's allow-list entry must be canonical
/// and may hold a wildcard; a client's header may be upper-case and may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Entry,
    Header,
}

/// Longest Origin or Host read.
const MAX_LEN: usize = 512;

/// `scheme://` and an authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Site<'a> {
    scheme: &'a str,
    authority: Authority<'a>,
}

/// `host[:port]`, or `*.domain[:port]` in an allow-list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Authority<'a> {
    /// As written; without `*.` for a wildcard; with brackets for IPv6.
    host: &'a str,
    /// The IPv6 address, for comparing addresses rather than spellings.
    ip6: Option<[u16; 8]>,
    /// The port as written.
    port: Option<u16>,
    /// `*.domain`: the subdomains of `host`.
    wildcard: bool,
}

impl Site<'_> {
    /// The port, or the scheme's default.
    const fn port(&self) -> Option<u16> {
        match self.authority.port {
            Some(port) => Some(port),
            None => default_port(self.scheme),
        }
    }

    /// Whether the scheme is `http` or `https`, the only ones a same-host
    /// check understands.
    fn is_web(&self) -> bool {
        default_port(self.scheme).is_some()
    }

    /// Whether the allow-list entry `self` admits the origin.
    fn admits(&self, origin: &Site<'_>) -> bool {
        let (entry, host) = (&self.authority, &origin.authority);
        let hosts = match (entry.ip6, host.ip6) {
            (Some(a), Some(b)) => a == b,
            (None, None) if entry.wildcard => is_subdomain(host.host, entry.host),
            (None, None) => host.host.eq_ignore_ascii_case(entry.host),
            _ => false,
        };
        hosts && self.scheme.eq_ignore_ascii_case(origin.scheme) && self.port() == origin.port()
    }

    /// Whether the origin is on the request's host: same name, same port,
    /// a port left out meaning the origin scheme's default on both sides.
    fn on_host(&self, request: &Authority<'_>) -> bool {
        let Some(default) = default_port(self.scheme) else {
            return false;
        };
        self.authority.same_name(request)
            && self.authority.port.unwrap_or(default) == request.port.unwrap_or(default)
    }
}

impl Authority<'_> {
    /// The same host name, or the same IPv6 address.
    fn same_name(&self, other: &Authority<'_>) -> bool {
        match (self.ip6, other.ip6) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.host.eq_ignore_ascii_case(other.host),
            _ => false,
        }
    }
}

/// `host` is one or more labels followed by `.domain`.
fn is_subdomain(host: &str, domain: &str) -> bool {
    host.len() > domain.len() + 1 && {
        let (labels, tail) = host.split_at(host.len() - domain.len());
        tail.eq_ignore_ascii_case(domain) && labels.ends_with('.')
    }
}

/// The default port of `http` and `https`, case-insensitively.
const fn default_port(scheme: &str) -> Option<u16> {
    if eq_ignore_case(scheme.as_bytes(), b"http") {
        Some(80)
    } else if eq_ignore_case(scheme.as_bytes(), b"https") {
        Some(443)
    } else {
        None
    }
}

const fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// `text[start..end]`, in a `const fn` (the text is ASCII).
const fn slice(text: &str, start: usize, end: usize) -> &str {
    text.split_at(end).0.split_at(start).1
}

/// The first `byte` in `bytes`.
const fn find(bytes: &[u8], byte: u8) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == byte {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Refuses empty, overlong and non-visible-ASCII texts.
const fn check_bytes(bytes: &[u8]) -> Result<(), ErrorKind> {
    if bytes.is_empty() {
        return Err(ErrorKind::Empty);
    }
    if bytes.len() > MAX_LEN {
        return Err(ErrorKind::TooLong);
    }
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii() {
            return Err(ErrorKind::NotAscii);
        }
        if !bytes[i].is_ascii_graphic() {
            return Err(ErrorKind::Whitespace);
        }
        i += 1;
    }
    Ok(())
}

/// Parses `scheme://host[:port]` (and `scheme://*.domain[:port]` in an
/// entry).
const fn parse_site(text: &str, mode: Mode) -> Result<Site<'_>, ErrorKind> {
    let bytes = text.as_bytes();
    if let Err(kind) = check_bytes(bytes) {
        return Err(kind);
    }
    if eq_ignore_case(bytes, b"null") {
        return Err(ErrorKind::Null);
    }
    if eq_ignore_case(bytes, b"*") {
        return Err(ErrorKind::Star);
    }
    let Some(colon) = find(bytes, b':') else {
        return Err(ErrorKind::MissingScheme);
    };
    if bytes.len() < colon + 3 || bytes[colon + 1] != b'/' || bytes[colon + 2] != b'/' {
        return Err(ErrorKind::MissingScheme);
    }
    let scheme = slice(text, 0, colon);
    let scheme_bytes = scheme.as_bytes();
    if scheme_bytes.is_empty() || !scheme_bytes[0].is_ascii_alphabetic() {
        return Err(ErrorKind::BadScheme);
    }
    let mut i = 0;
    while i < scheme_bytes.len() {
        let b = scheme_bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.') {
            return Err(ErrorKind::BadScheme);
        }
        if b.is_ascii_uppercase() && matches!(mode, Mode::Entry) {
            return Err(ErrorKind::Uppercase);
        }
        i += 1;
    }
    if eq_ignore_case(scheme_bytes, b"ws") || eq_ignore_case(scheme_bytes, b"wss") {
        return Err(ErrorKind::WebSocketScheme);
    }
    match parse_authority(slice(text, colon + 3, text.len()), mode) {
        Ok(authority) => Ok(Site { scheme, authority }),
        Err(kind) => Err(kind),
    }
}

/// Parses a `Host` header or a URI authority: `host[:port]`.
const fn parse_host(text: &str) -> Result<Authority<'_>, ErrorKind> {
    if let Err(kind) = check_bytes(text.as_bytes()) {
        return Err(kind);
    }
    parse_authority(text, Mode::Header)
}

/// Parses `host[:port]`, with `*.domain` in an entry.
const fn parse_authority(text: &str, mode: Mode) -> Result<Authority<'_>, ErrorKind> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' | b'?' | b'#' => return Err(ErrorKind::Path),
            b'@' => return Err(ErrorKind::UserInfo),
            _ => {}
        }
        i += 1;
    }
    if bytes.is_empty() {
        return Err(ErrorKind::EmptyHost);
    }
    // The host ends at `]` for IPv6, else at the first colon.
    let (host_end, ip6) = if bytes[0] == b'[' {
        let Some(close) = find(bytes, b']') else {
            return Err(ErrorKind::BadIpv6);
        };
        let inner = slice(text, 1, close).as_bytes();
        if matches!(mode, Mode::Entry) && has_uppercase(inner) {
            return Err(ErrorKind::Uppercase);
        }
        match parse_ipv6(inner) {
            Some(address) => (close + 1, Some(address)),
            None => return Err(ErrorKind::BadIpv6),
        }
    } else if matches!(mode, Mode::Entry)
        && bytes.len() >= 3
        && bytes[0] == b'*'
        && bytes[1] == b'.'
        && bytes[2] == b'['
    {
        return Err(ErrorKind::WildcardOnIp);
    } else {
        match find(bytes, b':') {
            Some(colon) => {
                if find(slice(text, colon + 1, text.len()).as_bytes(), b':').is_some() {
                    return Err(ErrorKind::BadIpv6);
                }
                (colon, None)
            }
            None => (bytes.len(), None),
        }
    };
    let port = if host_end == bytes.len() {
        None
    } else if bytes[host_end] != b':' {
        return Err(ErrorKind::BadIpv6);
    } else {
        match parse_port(slice(text, host_end + 1, text.len()).as_bytes()) {
            Some(port) => Some(port),
            None => return Err(ErrorKind::BadPort),
        }
    };
    let host = slice(text, 0, host_end);
    if ip6.is_some() {
        return Ok(Authority {
            host,
            ip6,
            port,
            wildcard: false,
        });
    }
    let host_bytes = host.as_bytes();
    let wildcard = matches!(mode, Mode::Entry)
        && host_bytes.len() >= 2
        && host_bytes[0] == b'*'
        && host_bytes[1] == b'.';
    let name = if wildcard {
        slice(host, 2, host.len())
    } else {
        host
    };
    let labels = match check_name(name.as_bytes(), mode) {
        Ok(labels) => labels,
        Err(kind) => return Err(kind),
    };
    if wildcard {
        if labels < 2 {
            return Err(ErrorKind::WildcardTooBroad);
        }
        if last_label_is_numeric(name.as_bytes()) {
            return Err(ErrorKind::WildcardOnIp);
        }
    }
    Ok(Authority {
        host: name,
        ip6: None,
        port,
        wildcard,
    })
}

/// Checks a host name's labels; returns how many there are.
const fn check_name(name: &[u8], mode: Mode) -> Result<usize, ErrorKind> {
    if name.is_empty() {
        return Err(ErrorKind::EmptyHost);
    }
    if name.len() > 253 {
        return Err(ErrorKind::HostTooLong);
    }
    if name[name.len() - 1] == b'.' {
        return Err(ErrorKind::TrailingDot);
    }
    let (mut labels, mut label_len, mut i) = (1, 0, 0);
    while i < name.len() {
        let b = name[i];
        if b == b'.' {
            if label_len == 0 {
                return Err(ErrorKind::EmptyLabel);
            }
            labels += 1;
            label_len = 0;
        } else if b == b'*' && matches!(mode, Mode::Entry) {
            return Err(ErrorKind::MisplacedWildcard);
        } else if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ErrorKind::BadHostChar);
        } else if b.is_ascii_uppercase() && matches!(mode, Mode::Entry) {
            return Err(ErrorKind::Uppercase);
        } else {
            label_len += 1;
            if label_len > 63 {
                return Err(ErrorKind::HostTooLong);
            }
        }
        i += 1;
    }
    Ok(labels)
}

/// Whether the last label is all digits: an IPv4 address, never a domain
/// (no top-level domain is numeric).
const fn last_label_is_numeric(name: &[u8]) -> bool {
    let mut i = name.len();
    while i > 0 && name[i - 1] != b'.' {
        if !name[i - 1].is_ascii_digit() {
            return false;
        }
        i -= 1;
    }
    true
}

const fn has_uppercase(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_uppercase() {
            return true;
        }
        i += 1;
    }
    false
}

/// A port: 1 to 65535, digits only, no leading zero.
const fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || digits[0] == b'0' {
        return None;
    }
    let (mut value, mut i) = (0u32, 0);
    while i < digits.len() {
        if !digits[i].is_ascii_digit() {
            return None;
        }
        value = value * 10 + (digits[i] - b'0') as u32;
        i += 1;
    }
    if value > u16::MAX as u32 {
        return None;
    }
    Some(value as u16)
}

/// An IPv6 address in hex groups (RFC 4291 §2.2 forms 1 and 2; no embedded
/// IPv4, which browsers never serialise, and no zone).
const fn parse_ipv6(text: &[u8]) -> Option<[u16; 8]> {
    let (mut head, mut head_len) = ([0u16; 8], 0);
    let (mut tail, mut tail_len) = ([0u16; 8], 0);
    let mut gap = false;
    let mut i = 0;
    if text.len() >= 2 && text[0] == b':' && text[1] == b':' {
        gap = true;
        i = 2;
        if text.len() == 2 {
            return Some([0; 8]);
        }
    }
    loop {
        let (mut group, mut digits) = (0u32, 0);
        while i < text.len() && digits < 5 {
            let b = text[i];
            let value = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => break,
            };
            group = group * 16 + value as u32;
            digits += 1;
            i += 1;
        }
        if digits == 0 || digits > 4 {
            return None;
        }
        if gap {
            if tail_len == 8 {
                return None;
            }
            tail[tail_len] = group as u16;
            tail_len += 1;
        } else {
            if head_len == 8 {
                return None;
            }
            head[head_len] = group as u16;
            head_len += 1;
        }
        if i == text.len() {
            break;
        }
        if text[i] != b':' {
            return None;
        }
        i += 1;
        if i < text.len() && text[i] == b':' {
            if gap {
                return None;
            }
            gap = true;
            i += 1;
            if i == text.len() {
                break;
            }
        }
    }
    let groups = head_len + tail_len;
    if (gap && groups > 7) || (!gap && groups != 8) {
        return None;
    }
    let mut address = [0u16; 8];
    let mut k = 0;
    while k < head_len {
        address[k] = head[k];
        k += 1;
    }
    k = 0;
    while k < tail_len {
        address[8 - tail_len + k] = tail[k];
        k += 1;
    }
    Some(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorKind::*;
    use axum::http::{HeaderValue, Request};

    /// A handshake with these headers, values as raw bytes.
    fn parts(uri: &str, headers: &[(&str, &[u8])]) -> Parts {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        request.body(()).unwrap().into_parts().0
    }

    /// A handshake to `host` from `origin` (`None`: no Origin header).
    fn from(host: &str, origin: Option<&str>) -> Parts {
        match origin {
            Some(origin) => parts(
                "/ws",
                &[("host", host.as_bytes()), ("origin", origin.as_bytes())],
            ),
            None => parts("/ws", &[("host", host.as_bytes())]),
        }
    }

    /// The outcome: `Ok` or the refusal's reason, which is always a policy
    /// refusal (403 / 1008).
    fn outcome(policy: OriginPolicy, request: &Parts, cookie_auth: bool) -> Result<(), String> {
        policy.check(request, cookie_auth).map_err(|rejection| {
            assert_eq!(rejection.kind(), RejectKind::Policy);
            assert_eq!(rejection.kind().status(), 403);
            assert_eq!(rejection.kind().close_code(), 1008);
            rejection.reason().to_owned()
        })
    }

    /// The outcome for a cookie consumer.
    fn cookie(policy: OriginPolicy, request: &Parts) -> Result<(), String> {
        outcome(policy, request, true)
    }

    /// Whether a cookie consumer with `policy` admits `origin` on `host`.
    fn admits(policy: OriginPolicy, host: &str, origin: &str) -> bool {
        cookie(policy, &from(host, Some(origin))).is_ok()
    }

    /// Whether a same-host cookie consumer admits `origin` on `host`.
    fn same(host: &str, origin: &str) -> bool {
        admits(OriginPolicy::same_host(), host, origin)
    }

    /// Why an allow-list entry does not parse.
    fn kind(entry: &str) -> ErrorKind {
        match parse_allowed(entry) {
            Ok(parsed) => panic!("{entry} parsed: {parsed:?}"),
            Err(error) => error.kind,
        }
    }

    /// An entry's parts as `scheme host port`, `*.` in front of the host
    /// for a subdomain entry, `-` for no port.
    fn entry(text: &str) -> String {
        let e = parse_allowed(text).unwrap_or_else(|error| panic!("{text}: {error}"));
        let star = if e.subdomains() { "*." } else { "" };
        let port = e.port().map_or("-".to_owned(), |port| port.to_string());
        format!("{} {star}{} {port}", e.scheme(), e.host())
    }

    /// Why a cookie consumer refuses an Origin header (raw bytes) under
    /// `policy`; the Host is `app.example.com`.
    fn refusal(policy: OriginPolicy, origin: &[u8]) -> String {
        let request = parts("/ws", &[("host", b"app.example.com"), ("origin", origin)]);
        cookie(policy, &request).unwrap_err()
    }

    const APP: OriginPolicy = OriginPolicy::list(&["https://app.example.com"]);

    #[test]
    fn a_forwarded_host_stands_for_the_host() {
        let behind = from("127.0.0.1:8080", Some("https://app.example.com"));
        let policy = OriginPolicy::same_host();
        assert!(policy.check(&behind, true).is_err());
        assert!(
            policy
                .check_host(&behind, true, Some("app.example.com"))
                .is_ok()
        );
        let refused = policy
            .check_host(&behind, true, Some("other.example.com"))
            .unwrap_err();
        assert_eq!(
            refused.reason(),
            "origin https://app.example.com is not this host"
        );
        let refused = policy
            .check_host(&behind, true, Some("app.example.com/x"))
            .unwrap_err();
        assert_eq!(refused.reason(), "the forwarded host is malformed");
        // An allow-list does not look at hosts at all.
        assert!(APP.check_host(&behind, true, Some("evil.example")).is_ok());
    }

    // -- allow-list entries ------------------------------------------------

    #[test]
    fn canonical_entries_parse() {
        assert_eq!(
            entry("https://app.example.com"),
            "https app.example.com 443"
        );
        assert_eq!(
            entry("https://app.example.com:443"),
            "https app.example.com 443"
        );
        assert_eq!(entry("http://app.example.com"), "http app.example.com 80");
        assert_eq!(entry("http://localhost:5173"), "http localhost 5173");
        assert_eq!(entry("http://127.0.0.1:8000"), "http 127.0.0.1 8000");
        assert_eq!(entry("http://[::1]:8000"), "http [::1] 8000");
        assert_eq!(entry("https://[2001:db8::1]"), "https [2001:db8::1] 443");
        assert_eq!(entry("https://*.example.com"), "https *.example.com 443");
        assert_eq!(
            entry("https://*.example.com:8443"),
            "https *.example.com 8443"
        );
        assert_eq!(
            entry("https://*.eu.example.com"),
            "https *.eu.example.com 443"
        );
        assert_eq!(
            entry("https://xn--bcher-kva.example"),
            "https xn--bcher-kva.example 443"
        );
        assert_eq!(
            entry("https://my_host.internal"),
            "https my_host.internal 443"
        );
        assert_eq!(entry("https://a.example:65535"), "https a.example 65535");
        assert_eq!(entry("tauri://localhost"), "tauri localhost -");
        assert_eq!(
            entry("chrome-extension://abcdefgh"),
            "chrome-extension abcdefgh -"
        );
    }

    #[test]
    fn malformed_entries_are_refused_each_with_its_fix() {
        assert_eq!(kind(""), Empty);
        assert_eq!(kind("null"), Null);
        assert_eq!(kind("*"), Star);
        // Channels' scheme-less patterns: a scheme is required.
        assert_eq!(kind("example.com"), MissingScheme);
        assert_eq!(kind(".example.com"), MissingScheme);
        assert_eq!(kind("*.example.com"), MissingScheme);
        assert_eq!(kind("example.com:8000"), MissingScheme);
        assert_eq!(kind("localhost:8000"), MissingScheme);
        assert_eq!(kind("[::1]:8000"), MissingScheme);
        assert_eq!(kind("//example.com"), MissingScheme); // Phoenix's form
        assert_eq!(kind("https:example.com"), MissingScheme);
        assert_eq!(kind("https:/example.com"), MissingScheme);
        assert_eq!(kind("://example.com"), BadScheme);
        assert_eq!(kind("1http://example.com"), BadScheme);
        assert_eq!(kind("ht_tp://example.com"), BadScheme);
        assert_eq!(kind("ws://app.example.com"), WebSocketScheme);
        assert_eq!(kind("wss://app.example.com"), WebSocketScheme);
        assert_eq!(kind("HTTPS://app.example.com"), Uppercase);
        assert_eq!(kind("https://App.example.com"), Uppercase);
        assert_eq!(kind("http://[::ABCD]:80"), Uppercase);
        assert_eq!(kind("https://app.example.com/"), Path);
        assert_eq!(kind("https://app.example.com/chat"), Path);
        assert_eq!(kind("https://app.example.com?x=1"), Path);
        assert_eq!(kind("https://app.example.com#x"), Path);
        assert_eq!(kind("https://a.com,https://b.com"), Path);
        assert_eq!(kind("https://user:pw@app.example.com"), UserInfo);
        assert_eq!(kind("https://user@app.example.com"), UserInfo);
        assert_eq!(kind("https://app.example.com:"), BadPort);
        assert_eq!(kind("https://app.example.com:0"), BadPort);
        assert_eq!(kind("https://app.example.com:0443"), BadPort);
        assert_eq!(kind("https://app.example.com:65536"), BadPort);
        assert_eq!(kind("https://app.example.com:99999"), BadPort);
        assert_eq!(kind("https://app.example.com:123456"), BadPort);
        assert_eq!(kind("https://app.example.com:8o"), BadPort);
        assert_eq!(kind("https://app.example.com:*"), BadPort);
        assert_eq!(kind("https://"), EmptyHost);
        assert_eq!(kind("https://:443"), EmptyHost);
        assert_eq!(kind("https://app..example.com"), EmptyLabel);
        assert_eq!(kind("https://.example.com"), EmptyLabel);
        assert_eq!(kind("https://example.com."), TrailingDot);
        assert_eq!(kind("https://ex%61mple.com"), BadHostChar);
        assert_eq!(kind("https://a.com,b.com"), BadHostChar);
        assert_eq!(kind("https://exa mple.com"), Whitespace);
        assert_eq!(kind("https://a.com https://b.com"), Whitespace);
        assert_eq!(kind("https://app.example.com\t"), Whitespace);
        assert_eq!(kind("https://ex\u{0430}mple.com"), NotAscii); // Cyrillic а
        assert_eq!(kind("https://bücher.example"), NotAscii);
        assert_eq!(kind("http://::1"), BadIpv6);
        assert_eq!(kind("http://[::1"), BadIpv6);
        assert_eq!(kind("http://[::1]x"), BadIpv6);
        assert_eq!(kind("http://[1:2:3:4:5:6:7:8:9]"), BadIpv6);
        assert_eq!(kind("http://[1::2::3]"), BadIpv6);
        assert_eq!(kind("http://[12345::1]"), BadIpv6);
        assert_eq!(kind("http://[::ffff:127.0.0.1]"), BadIpv6);
        assert_eq!(kind("http://[fe80::1%25eth0]"), BadIpv6);
        assert_eq!(kind("https://a*.example.com"), MisplacedWildcard);
        assert_eq!(kind("https://*example.com"), MisplacedWildcard);
        assert_eq!(kind("https://sub.*.example.com"), MisplacedWildcard);
        assert_eq!(kind("https://*.*.example.com"), MisplacedWildcard);
        assert_eq!(kind("https://*"), MisplacedWildcard);
        assert_eq!(kind("https://*."), EmptyHost);
        assert_eq!(kind("https://*.com"), WildcardTooBroad);
        assert_eq!(kind("http://*.0.0.1"), WildcardOnIp);
        assert_eq!(kind("http://*.[::1]"), WildcardOnIp);
        assert_eq!(
            kind(&format!("https://{}.com", "a".repeat(64))),
            HostTooLong
        );
        assert_eq!(
            kind(&format!("https://{}com", "a.".repeat(127))),
            HostTooLong
        );
        assert_eq!(kind(&format!("https://{}", "a".repeat(600))), TooLong);
    }

    #[test]
    fn every_error_says_what_to_write_and_fits_a_close_frame() {
        let all = [
            Empty,
            TooLong,
            NotAscii,
            Whitespace,
            Null,
            Star,
            MissingScheme,
            BadScheme,
            WebSocketScheme,
            Uppercase,
            Path,
            UserInfo,
            BadPort,
            EmptyHost,
            EmptyLabel,
            TrailingDot,
            BadHostChar,
            HostTooLong,
            BadIpv6,
            MisplacedWildcard,
            WildcardTooBroad,
            WildcardOnIp,
        ];
        for kind in all {
            let advice = OriginError { kind }.to_string();
            assert!(advice.contains("write"), "{kind:?}: {advice}");
            assert!(kind.reason().len() <= 123, "{kind:?}");
        }
    }

    #[test]
    fn list_and_validate_agree() {
        const GOOD: OriginPolicy =
            OriginPolicy::list(&["https://a.example", "https://*.b.example"]);
        assert_eq!(GOOD.validate(), Ok(()));
        let bad = OriginPolicy {
            allow: Origins::List(&["https://a.example", "https://a.example/"]),
            ..OriginPolicy::DEFAULT
        };
        assert_eq!(bad.validate(), Err(OriginError { kind: Path }));
        assert!(std::panic::catch_unwind(|| OriginPolicy::list(&["example.com"])).is_err());
        for policy in [
            OriginPolicy::DEFAULT,
            OriginPolicy::same_host(),
            OriginPolicy::any(),
        ] {
            assert_eq!(policy.validate(), Ok(()));
        }
    }

    #[test]
    fn an_invalid_entry_built_by_hand_never_matches() {
        // `Origins::List` can be written without `list`: a bad entry fails
        // closed rather than matching loosely.
        let policy = OriginPolicy {
            allow: Origins::List(&["app.example.com", "https://app.example.com/"]),
            missing: MissingOrigin::Refuse,
        };
        let refused = cookie(
            policy,
            &from("app.example.com", Some("https://app.example.com")),
        );
        assert_eq!(
            refused,
            Err("origin https://app.example.com is not allowed".into())
        );
    }

    // -- matching ------------------------------------------------------------

    #[test]
    fn exact_entries_match_scheme_host_and_port() {
        let e = parse_allowed("https://example.com").unwrap();
        assert!(e.matches("https://example.com"));
        assert!(e.matches("https://example.com:443")); // default port normalised
        assert!(e.matches("HTTPS://EXAMPLE.COM")); // case-insensitive
        assert!(e.matches("https://Example.Com:443"));
        assert!(!e.matches("http://example.com")); // scheme
        assert!(!e.matches("http://example.com:443")); // scheme, even on 443
        assert!(!e.matches("https://example.com:8443")); // port
        assert!(!e.matches("https://example.com:80"));
        assert!(!e.matches("https://www.example.com")); // no subdomains without *.
        assert!(!e.matches("https://example.com.evil.net"));
        assert!(!e.matches("https://evil-example.com"));
        assert!(!e.matches("https://evilexample.com"));
        assert!(!e.matches("https://example.co"));
        assert!(!e.matches("https://example.com.")); // trailing dot: malformed
        assert!(!e.matches("https://ex\u{0430}mple.com")); // Cyrillic а: not ASCII
        assert!(!e.matches("https://xn--exmple-4nf.com")); // the same look-alike, punycode
        assert!(!e.matches("https://example.com/"));
        assert!(!e.matches("https://user@example.com"));
        assert!(!e.matches("wss://example.com"));
        assert!(!e.matches("null"));
        assert!(!e.matches(""));
        let local = parse_allowed("http://localhost:5173").unwrap();
        assert!(local.matches("http://localhost:5173"));
        assert!(!local.matches("http://localhost"));
        assert!(!local.matches("http://localhost:5174"));
        assert!(!local.matches("http://127.0.0.1:5173")); // names are not resolved
        let http = parse_allowed("http://example.com").unwrap();
        assert!(http.matches("http://example.com:80"));
        assert!(!http.matches("https://example.com"));
    }

    #[test]
    fn the_subdomain_rule() {
        let e = parse_allowed("https://*.example.com").unwrap();
        assert!(e.matches("https://a.example.com"));
        assert!(e.matches("https://a.b.example.com"));
        assert!(e.matches("https://www.example.com:443"));
        assert!(e.matches("https://A.EXAMPLE.COM"));
        assert!(e.matches("https://xn--bcher-kva.example.com"));
        assert!(!e.matches("https://example.com")); // never the domain itself
        assert!(!e.matches("https://evilexample.com"));
        assert!(!e.matches("https://a.evilexample.com"));
        assert!(!e.matches("https://example.com.evil.net"));
        assert!(!e.matches("https://a.example.com.evil.net"));
        assert!(!e.matches("https://evil-example.com"));
        assert!(!e.matches("https://a.example.co"));
        assert!(!e.matches("http://a.example.com")); // same scheme only
        assert!(!e.matches("https://a.example.com:8443")); // same port only
        assert!(!e.matches("https://.example.com")); // empty label: malformed
        assert!(!e.matches("https://a..example.com"));
        assert!(!e.matches("https://*.example.com")); // `*` in a header is no label
        assert!(!e.matches("https://a.ex\u{0430}mple.com"));
        let ported = parse_allowed("https://*.example.com:8443").unwrap();
        assert!(ported.matches("https://a.example.com:8443"));
        assert!(!ported.matches("https://a.example.com"));
        let deep = parse_allowed("https://*.eu.example.com").unwrap();
        assert!(deep.matches("https://app.eu.example.com"));
        assert!(!deep.matches("https://eu.example.com"));
        assert!(!deep.matches("https://app.us.example.com"));
    }

    #[test]
    fn ipv6_compares_addresses() {
        let e = parse_allowed("http://[::1]:8000").unwrap();
        assert!(e.matches("http://[::1]:8000"));
        assert!(e.matches("http://[0:0:0:0:0:0:0:1]:8000"));
        assert!(e.matches("http://[0::1]:8000"));
        assert!(!e.matches("http://[::2]:8000"));
        assert!(!e.matches("http://[::1]"));
        assert!(!e.matches("http://localhost:8000"));
        let full = parse_allowed("https://[2001:db8:0:0:1:0:0:1]").unwrap();
        assert!(full.matches("https://[2001:DB8::1:0:0:1]"));
        assert_eq!(parse_ipv6(b"::"), Some([0; 8]));
        assert_eq!(parse_ipv6(b"1::"), Some([1, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(parse_ipv6(b"::2:1"), Some([0, 0, 0, 0, 0, 0, 2, 1]));
        assert_eq!(
            parse_ipv6(b"1:2:3:4:5:6:7:8"),
            Some([1, 2, 3, 4, 5, 6, 7, 8])
        );
        for bad in [
            "",
            ":",
            ":1",
            "1:",
            ":::",
            "1:2:3:4:5:6:7",
            "1:2:3:4::5:6:7:8",
            "g::1",
        ] {
            assert_eq!(parse_ipv6(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn other_schemes_match_exactly_without_a_default_port() {
        let e = parse_allowed("chrome-extension://abcdefghijklmnop").unwrap();
        assert!(e.matches("chrome-extension://abcdefghijklmnop"));
        assert!(!e.matches("chrome-extension://abcdefghijklmnoq"));
        assert!(!e.matches("chrome-extension://abcdefghijklmnop:443"));
        assert!(!e.matches("https://abcdefghijklmnop"));
    }

    // -- the Origin header -----------------------------------------------------

    #[test]
    fn malformed_origin_headers_are_refused_each_with_a_reason() {
        let cases: [(&[u8], ErrorKind); 25] = [
            (b"", Empty),
            (b"null", Null),
            (b"NULL", Null),
            ("https://ex\u{0430}mple.com".as_bytes(), NotAscii),
            (b"https://app.example.com\xff", NotAscii),
            (b"https://app.example.com/", Path),
            (b"https://app.example.com/chat", Path),
            (b"https://app.example.com,https://evil.net", Path),
            (b"https://user:pw@app.example.com", UserInfo),
            (b"https://app.example.com@evil.net", UserInfo),
            (b"https://app.example.com:99999", BadPort),
            (b"https://app.example.com:0", BadPort),
            (b"https://app.example.com:0443", BadPort),
            (b"https://app.example.com:", BadPort),
            (b"https://app.example.com.", TrailingDot),
            (b"https://app.example.com https://evil.net", Whitespace),
            (b"https://app.example.com,evil.net", BadHostChar),
            (b"https://app%2eexample.com", BadHostChar),
            (b"https://*.example.com", BadHostChar),
            (b"https://app..example.com", EmptyLabel),
            (b"something-invalid", MissingScheme),
            (b"app.example.com", MissingScheme),
            (b"*", Star),
            (b"wss://app.example.com", WebSocketScheme),
            (b"http://::1", BadIpv6),
        ];
        for (origin, kind) in cases {
            let shown = String::from_utf8_lossy(origin);
            assert_eq!(refusal(APP, origin), kind.reason(), "{shown}");
            assert_eq!(
                refusal(OriginPolicy::same_host(), origin),
                kind.reason(),
                "{shown}"
            );
        }
        let long = format!("https://{}", "a".repeat(10_000));
        assert_eq!(
            refusal(APP, long.as_bytes()),
            "the Origin header is too long"
        );
        assert_eq!(
            Null.reason(),
            "the Origin is null (a sandboxed frame, a file:// page or a redirect)"
        );
        assert_eq!(
            MissingScheme.reason(),
            "the Origin header is not scheme://host[:port]"
        );
    }

    #[test]
    fn uppercase_origins_are_read_case_insensitively() {
        assert!(admits(APP, "app.example.com", "HTTPS://APP.EXAMPLE.COM"));
        assert!(same("app.example.com", "HTTPS://APP.EXAMPLE.COM"));
    }

    #[test]
    fn two_origin_headers_are_refused_even_if_both_are_allowed() {
        let origin: (&str, &[u8]) = ("origin", b"https://app.example.com");
        let request = parts("/ws", &[("host", b"app.example.com"), origin, origin]);
        assert_eq!(
            cookie(APP, &request),
            Err("more than one Origin header".into())
        );
        let same_host = cookie(OriginPolicy::same_host(), &request);
        assert_eq!(same_host, Err("more than one Origin header".into()));
    }

    #[test]
    fn refusals_quote_only_well_formed_origins_and_cut_them() {
        let long = format!("https://{}.example.com", "a".repeat(60));
        let reason = refusal(APP, long.as_bytes());
        assert_eq!(reason, format!("origin {}… is not allowed", &long[..64]));
        assert!(reason.len() <= 123);
        // Userinfo (a credential) and non-ASCII bytes are never quoted.
        for origin in [
            "https://admin:hunter2@evil.net",
            "https://ex\u{0430}mple.com",
        ] {
            let reason = refusal(APP, origin.as_bytes());
            assert!(!reason.contains("hunter2") && !reason.contains("evil") && reason.is_ascii());
        }
    }

    // -- same host -------------------------------------------------------------

    #[test]
    fn same_host_compares_host_and_port_after_default_ports() {
        assert!(same("app.example.com", "https://app.example.com"));
        assert!(same("app.example.com", "http://app.example.com")); // scheme not compared
        assert!(same("app.example.com:443", "https://app.example.com"));
        assert!(same("app.example.com", "https://app.example.com:443"));
        assert!(same("app.example.com:80", "http://app.example.com"));
        assert!(same("app.example.com:8443", "https://app.example.com:8443"));
        assert!(same("APP.Example.COM", "https://app.example.com"));
        assert!(same("localhost:8000", "http://localhost:8000"));
        assert!(same("127.0.0.1:8000", "http://127.0.0.1:8000"));
        assert!(same("[::1]:8000", "http://[::1]:8000"));
        assert!(same("[0::1]:8000", "http://[::1]:8000"));
        assert!(same(
            "xn--bcher-kva.example",
            "https://xn--bcher-kva.example"
        ));
        assert!(!same("app.example.com:443", "http://app.example.com")); // 80 ≠ 443
        assert!(!same("app.example.com:80", "https://app.example.com"));
        assert!(!same("app.example.com", "https://app.example.com:8443"));
        assert!(!same("app.example.com:8443", "https://app.example.com"));
        assert!(!same("localhost:8000", "http://localhost:5173")); // a dev server
        assert!(!same("localhost:8000", "http://127.0.0.1:8000"));
        assert!(!same("app.example.com", "https://evil.example"));
        assert!(!same("app.example.com", "https://app.example.com.evil.net"));
        assert!(!same("app.example.com", "https://evil-app.example.com"));
        assert!(!same("app.example.com", "https://www.app.example.com")); // no subdomains
        assert!(!same("www.app.example.com", "https://app.example.com")); // nor parents
        assert!(!same("example.com", "https://ex\u{0430}mple.com"));
        assert!(!same("example.com", "https://xn--exmple-4nf.com"));
        let refused = cookie(
            OriginPolicy::same_host(),
            &from("app.example.com", Some("https://evil.example")),
        );
        assert_eq!(
            refused,
            Err("origin https://evil.example is not this host".into())
        );
    }

    #[test]
    fn same_host_refuses_other_schemes() {
        let request = from("abcdefgh", Some("chrome-extension://abcdefgh"));
        let refused = cookie(OriginPolicy::same_host(), &request);
        assert_eq!(
            refused,
            Err("the Origin's scheme is not http or https".into())
        );
    }

    #[test]
    fn same_host_reads_the_uri_authority_on_http2() {
        let policy = OriginPolicy::same_host();
        let uri = "https://app.example.com/ws";
        // HTTP/2 carries `:authority` in the URI, usually without a Host header.
        assert_eq!(
            cookie(
                policy,
                &parts(uri, &[("origin", b"https://app.example.com")])
            ),
            Ok(())
        );
        assert!(cookie(policy, &parts(uri, &[("origin", b"https://evil.example")])).is_err());
        // Both present and equal (after the URI scheme's default port): fine.
        let both = [
            ("host", &b"app.example.com:443"[..]),
            ("origin", b"https://app.example.com"),
        ];
        assert_eq!(cookie(policy, &parts(uri, &both)), Ok(()));
        // Both present and different: ambiguous, refused.
        let split = [
            ("host", &b"evil.example"[..]),
            ("origin", b"https://evil.example"),
        ];
        let refused = cookie(policy, &parts(uri, &split));
        assert_eq!(
            refused,
            Err("the Host header and the request URI disagree".into())
        );
    }

    #[test]
    fn same_host_needs_one_well_formed_host() {
        let policy = OriginPolicy::same_host();
        let origin: (&str, &[u8]) = ("origin", b"https://app.example.com");
        let none = cookie(policy, &parts("/ws", &[origin]));
        assert_eq!(
            none,
            Err("the request has no Host to compare the Origin with".into())
        );
        let host: (&str, &[u8]) = ("host", b"app.example.com");
        let two = cookie(policy, &parts("/ws", &[host, host, origin]));
        assert_eq!(two, Err("more than one Host header".into()));
        let malformed: [&[u8]; 6] = [
            b"app.example.com.",
            b"user@app.example.com",
            b"app.example.com:0",
            b"app.example.com/x",
            b"",
            "\u{0430}.com".as_bytes(),
        ];
        for host in malformed {
            let refused = cookie(policy, &parts("/ws", &[("host", host), origin]));
            let shown = String::from_utf8_lossy(host);
            assert_eq!(
                refused,
                Err("the request's Host is malformed".into()),
                "{shown}"
            );
        }
    }

    #[test]
    fn x_forwarded_host_is_not_trusted() {
        // Behind a proxy that forwards `Host: backend:8000`, the browser's
        // origin is not the same host, whatever X-Forwarded-Host or
        // Forwarded say.
        let request = parts(
            "/ws",
            &[
                ("host", b"backend:8000"),
                ("x-forwarded-host", b"app.example.com"),
                ("forwarded", b"host=app.example.com;proto=https"),
                ("origin", b"https://app.example.com"),
            ],
        );
        assert!(cookie(OriginPolicy::same_host(), &request).is_err());
        // The pattern for proxies: list the public origin.
        assert_eq!(cookie(APP, &request), Ok(()));
        // A spoofed X-Forwarded-Host cannot make a foreign origin "same host".
        let spoofed = parts(
            "/ws",
            &[
                ("host", b"app.example.com"),
                ("x-forwarded-host", b"evil.example"),
                ("origin", b"https://evil.example"),
            ],
        );
        assert!(cookie(OriginPolicy::same_host(), &spoofed).is_err());
    }

    // -- missing, null, defaults and the opt-out -------------------------------

    #[test]
    fn missing_and_null_per_policy_and_auth() {
        use MissingOrigin::{Allow, Refuse, RefuseForCookies};
        let ok: Result<(), String> = Ok(());
        let no: Result<(), String> = Err("no Origin header".into());
        let null: Result<(), String> = Err(Null.reason().into());
        let check = |allow, missing, cookie_auth, on_missing: &Result<(), String>, on_null| {
            let policy = OriginPolicy { allow, missing };
            let label = format!("{allow:?} {missing:?} cookie_auth={cookie_auth}");
            let without = from("app.example.com", None);
            let with_null = from("app.example.com", Some("null"));
            assert_eq!(
                &outcome(policy, &without, cookie_auth),
                on_missing,
                "missing: {label}"
            );
            assert_eq!(
                &outcome(policy, &with_null, cookie_auth),
                on_null,
                "null: {label}"
            );
        };
        // The undeclared default: checked for cookie auth only.
        check(
            Origins::SameHostForCookies,
            RefuseForCookies,
            true,
            &no,
            &null,
        );
        check(
            Origins::SameHostForCookies,
            RefuseForCookies,
            false,
            &ok,
            &ok,
        );
        check(Origins::SameHostForCookies, Allow, true, &ok, &null);
        // `null` is refused whatever `missing_origin` says.
        check(Origins::SameHost, RefuseForCookies, true, &no, &null);
        check(Origins::SameHost, RefuseForCookies, false, &ok, &null);
        check(Origins::SameHost, Refuse, false, &no, &null);
        check(Origins::SameHost, Allow, true, &ok, &null);
        check(APP.allow, RefuseForCookies, true, &no, &null);
        check(APP.allow, RefuseForCookies, false, &ok, &null);
        check(APP.allow, Allow, true, &ok, &null);
        // An empty list admits no browser page; with "allow", only non-browser clients.
        check(Origins::List(&[]), RefuseForCookies, true, &no, &null);
        check(Origins::List(&[]), Allow, true, &ok, &null);
        // `any` turns it all off.
        check(Origins::Any, RefuseForCookies, true, &ok, &ok);
        check(Origins::Any, Refuse, true, &ok, &ok);
    }

    #[test]
    fn defaults_resolve_by_auth_scheme() {
        let (allow, missing) = (Origins::SameHost, MissingOrigin::Refuse);
        assert_eq!(
            OriginPolicy::DEFAULT.resolve(true),
            OriginPolicy { allow, missing }
        );
        let (allow, missing) = (Origins::Any, MissingOrigin::Allow);
        assert_eq!(
            OriginPolicy::DEFAULT.resolve(false),
            OriginPolicy { allow, missing }
        );
        // Declared values are kept.
        let declared = APP.missing_origin(MissingOrigin::Refuse);
        assert_eq!(declared.resolve(false), declared);
        assert_eq!(declared.resolve(true), declared);
        assert_eq!(OriginPolicy::default(), OriginPolicy::DEFAULT);
    }

    #[test]
    fn a_token_consumer_that_declares_a_policy_is_checked() {
        let request = from("app.example.com", Some("https://evil.example"));
        assert!(outcome(OriginPolicy::DEFAULT, &request, false).is_ok());
        assert!(outcome(OriginPolicy::same_host(), &request, false).is_err());
        assert!(outcome(APP, &request, false).is_err());
    }

    #[test]
    fn a_cross_origin_upgrade_with_a_cookie_is_refused() {
        // Only Origin and Host are read: the cookie is neither needed nor
        // read, and the refusal does not quote it.
        let request = parts(
            "/ws",
            &[
                ("host", b"app.example.com"),
                ("origin", b"https://evil.example"),
                ("cookie", b"session=s3cr3t"),
            ],
        );
        let rejection = OriginPolicy::DEFAULT.check(&request, true).unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::Policy);
        assert_eq!(rejection.kind().status(), 403);
        assert!(!rejection.reason().contains("s3cr3t"));
        assert!(!rejection.to_frame().contains("s3cr3t"));
        // Opting out, spelled out, admits it.
        assert_eq!(OriginPolicy::any().check(&request, true), Ok(()));
    }

    // -- Channels' matrix (django-channels.md §1.4) ----------------------------

    /// `ALLOWED_HOSTS = ["example.com", ".good.org", "127.0.0.1", "localhost"]`
    /// through `AllowedHostsOriginValidator`. Scheme-less patterns do not
    /// parse here; the nearest list spells out schemes, and lists the apex
    /// next to `*.good.org`, since `*.` never matches it.
    #[test]
    fn channels_allowed_hosts_matrix() {
        for pattern in ["example.com", ".good.org", "127.0.0.1", "localhost"] {
            assert_eq!(kind(pattern), MissingScheme, "{pattern}");
        }
        const HOSTS: OriginPolicy = OriginPolicy::list(&[
            "http://example.com",
            "https://example.com",
            "http://good.org",
            "http://*.good.org",
            "http://127.0.0.1",
            "http://localhost",
        ]);
        let host = "example.com";
        assert!(cookie(HOSTS, &from(host, None)).is_err());
        assert!(admits(HOSTS, host, "http://example.com"));
        // Channels: open (the port is ignored for scheme-less patterns).
        // Here the port is part of the origin: refused.
        assert!(!admits(HOSTS, host, "https://example.com:9999"));
        assert!(!admits(HOSTS, host, "http://evil.com"));
        assert!(admits(HOSTS, host, "http://sub.good.org"));
        assert!(admits(HOSTS, host, "http://good.org")); // listed apart from *.good.org
        assert!(!admits(HOSTS, host, "null"));
        assert!(!admits(HOSTS, host, "http://example.com.evil.com"));
    }

    /// `OriginValidator(app, ["https://example.com"])`: the same outcomes.
    #[test]
    fn channels_origin_validator_matrix() {
        const ONE: OriginPolicy = OriginPolicy::list(&["https://example.com"]);
        let host = "example.com";
        assert!(cookie(ONE, &from(host, None)).is_err());
        assert!(admits(ONE, host, "https://example.com"));
        assert!(!admits(ONE, host, "http://example.com"));
        assert!(admits(ONE, host, "https://example.com:443"));
        assert!(!admits(ONE, host, "https://example.com:8443"));
    }

    /// The same-host default against Channels' `AllowedHostsOriginValidator`
    /// for one host: Channels ignores the scheme and the port; here the
    /// port counts (the scheme does not, see `OriginPolicy`).
    #[test]
    fn channels_allowed_hosts_as_same_host() {
        assert!(same("example.com", "http://example.com"));
        assert!(same("example.com", "https://example.com"));
        assert!(!same("example.com", "https://example.com:9999")); // Channels: open
        assert!(!same("example.com", "http://example.com.evil.com"));
        assert!(cookie(OriginPolicy::DEFAULT, &from("example.com", Some("null"))).is_err());
        assert!(cookie(OriginPolicy::DEFAULT, &from("example.com", None)).is_err());
    }

    // -- Channels' tests 8-14 (tests/security/test_websocket.py) --------------

    /// Whether a cookie consumer on Channels' test host admits `origin`.
    fn channels(policy: OriginPolicy, origin: &str) -> bool {
        admits(policy, "ws.allowed-domain.com", origin)
    }

    /// Channels' test 8: `["allowed-domain.com"]`: allowed accepted, bad
    /// refused. The scheme-less pattern is a validation error here; with its
    /// scheme the outcomes are Channels'.
    #[test]
    fn channels_8_exact_host() {
        assert_eq!(kind("allowed-domain.com"), MissingScheme);
        let policy = OriginPolicy::list(&["http://allowed-domain.com"]);
        assert!(channels(policy, "http://allowed-domain.com"));
        assert!(!channels(policy, "http://bad-domain.com"));
    }

    /// Channels' test 9: `["*.allowed-domain.com"]`:
    /// `http://allowed-domain.com` refused. Channels refuses because `*.` is
    /// not a wildcard there; here the scheme-less pattern does not parse, and
    /// `http://*.allowed-domain.com` is a wildcard that refuses the apex all
    /// the same.
    #[test]
    fn channels_9_star_dot_is_not_the_apex() {
        assert_eq!(kind("*.allowed-domain.com"), MissingScheme);
        let policy = OriginPolicy::list(&["http://*.allowed-domain.com"]);
        assert!(!channels(policy, "http://allowed-domain.com"));
        // Differs from Channels, where `*.` matches nothing: a subdomain matches.
        assert!(channels(policy, "http://www.allowed-domain.com"));
    }

    /// Channels' test 10: `[".allowed-domain.com"]`:
    /// `http://www.allowed-domain.com` accepted. The leading-dot form does not
    /// parse (its error says to write `*.`); `http://*.allowed-domain.com`
    /// accepts it. Differs from Channels: `.domain` also admits the apex there,
    /// `*.` never does.
    #[test]
    fn channels_10_subdomains() {
        assert_eq!(kind(".allowed-domain.com"), MissingScheme);
        let advice = MissingScheme.advice();
        assert!(advice.contains("https://*.example.com for subdomains, not .example.com"));
        let policy = OriginPolicy::list(&["http://*.allowed-domain.com"]);
        assert!(channels(policy, "http://www.allowed-domain.com"));
        assert!(!channels(policy, "http://allowed-domain.com"));
    }

    /// Channels' test 11: `["http://allowed-domain.com"]`: accepted;
    /// `https://bad-domain.com:443` refused. Same outcomes.
    #[test]
    fn channels_11_with_scheme() {
        let policy = OriginPolicy::list(&["http://allowed-domain.com"]);
        assert!(channels(policy, "http://allowed-domain.com"));
        assert!(!channels(policy, "https://bad-domain.com:443"));
        assert!(!channels(policy, "https://allowed-domain.com"));
    }

    /// Channels' test 12: `["*"]`: no Origin accepted. `*` is not an entry here
    /// (its error says to write `origins = "any"`); `any` accepts.
    #[test]
    fn channels_12_star() {
        assert_eq!(kind("*"), Star);
        assert!(cookie(OriginPolicy::any(), &from("ws.allowed-domain.com", None)).is_ok());
    }

    /// Channels' test 13: `[]`: no Origin refused. Same outcome for a cookie
    /// consumer; with `missing_origin = "allow"` an empty list admits
    /// non-browser clients only.
    #[test]
    fn channels_13_empty_list() {
        const NONE: OriginPolicy = OriginPolicy::list(&[]);
        let request = from("ws.allowed-domain.com", None);
        assert_eq!(cookie(NONE, &request), Err("no Origin header".into()));
        let clients_only = NONE.missing_origin(MissingOrigin::Allow);
        assert!(cookie(clients_only, &request).is_ok());
        assert!(!channels(clients_only, "http://allowed-domain.com"));
    }

    /// Channels' test 14: `[".allowed-domain.com"]`: `Origin: ""` and
    /// `Origin: something-invalid` refused. Same outcomes, with a reason each.
    #[test]
    fn channels_14_invalid_origins() {
        let policy = OriginPolicy::list(&["http://*.allowed-domain.com"]);
        assert_eq!(refusal(policy, b""), Empty.reason());
        assert_eq!(
            refusal(policy, b"something-invalid"),
            MissingScheme.reason()
        );
    }
}
