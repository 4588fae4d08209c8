//! The handshake's facts, as one connection sees them.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, ORIGIN};

use crate::auth::Carrier;
use crate::param::{FromParam, ParamError};
use crate::reject::Rejection;

/// What a connection's handshake said: path and query parameters, headers,
/// cookies, origin, offered subprotocols, peer address and the user.
///
/// `#[consumer]` fills the consumer's fields from it; `connect` can read it
/// through [`Cx::scope`](crate::Cx::scope).
///
/// Headers, cookies and the query string are kept only until the connection
/// is accepted: an idle connection should hold what its consumer keeps and no
/// more (a header map can pin the whole request buffer). Copy what you need
/// into a field (`#[header("…")]`, `#[query]`, `#[cookie("…")]`) or read it in
/// `connect`. Path parameters, the origin, the subprotocols, the peer address
/// and the user stay for the connection's life.
///
/// ```
/// use sockwarden::Scope;
///
/// let scope: Scope<sockwarden::Anonymous> = Scope::builder("/ws/chat/lobby")
///     .path_param("room", "lobby")
///     .query("page=2&q=hello%20world")
///     .header("origin", "https://chat.example")
///     .build();
/// assert_eq!(scope.param("room"), Some("lobby"));
/// assert_eq!(scope.query_value("q").as_deref(), Some("hello world"));
/// assert_eq!(scope.origin(), Some("https://chat.example"));
/// assert!(!scope.is_authenticated());
/// ```
#[derive(Debug)]
pub struct Scope<U> {
    path: Box<str>,
    params: Vec<(Box<str>, Box<str>)>,
    /// The query and headers, boxed: they are dropped at accept, and an
    /// open connection should not carry their space inline.
    request: Option<Box<RequestParts>>,
    origin: Option<Box<str>>,
    subprotocols: Vec<Box<str>>,
    selected_protocol: Option<&'static str>,
    peer: Option<SocketAddr>,
    user: Option<U>,
    carrier: Option<Carrier>,
}

impl<U: Clone> Scope<U> {
    /// A builder, for tests of code that takes a scope.
    pub fn builder(path: &str) -> ScopeBuilder<U> {
        ScopeBuilder {
            scope: Scope::empty(path),
        }
    }

    fn empty(path: &str) -> Scope<U> {
        Scope {
            path: path.into(),
            params: Vec::new(),
            request: Some(Box::default()),
            origin: None,
            subprotocols: Vec::new(),
            selected_protocol: None,
            peer: None,
            user: None,
            carrier: None,
        }
    }

    /// The request path, e.g. `/ws/chat/lobby`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A route parameter, percent-decoded: `room` of `/ws/chat/{room}`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| &**key == name)
            .map(|(_, value)| &**value)
    }

    /// All route parameters, in route order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(key, value)| (&**key, &**value))
    }

    /// A query parameter, percent-decoded (the first if repeated). `token` is
    /// never returned: it is a credential.
    pub fn query_value(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        if name == crate::auth::QUERY_TOKEN {
            return None;
        }
        let query = self.request.as_ref()?.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A request header as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    }

    /// The request headers (empty once the connection is accepted).
    pub fn headers(&self) -> &HeaderMap {
        static NONE: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);
        self.request
            .as_ref()
            .map_or(&NONE, |request| &request.headers)
    }

    /// A cookie's value by name.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers()
            .get_all(COOKIE)
            .iter()
            // Pair by pair: a cookie that is not visible ASCII (other apps
            // on the domain set some) must not hide the others.
            .flat_map(|value| value.as_bytes().split(|&b| b == b';'))
            .filter_map(|pair| std::str::from_utf8(pair).ok())
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim_matches('"'))
    }

    /// The `Origin` header: the page that opened the socket, for browsers.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The subprotocols the client offered, without the token carrier's marker
    /// and token.
    pub fn subprotocols(&self) -> &[Box<str>] {
        &self.subprotocols
    }

    /// The subprotocol the 101 response selected, if any.
    pub fn selected_protocol(&self) -> Option<&'static str> {
        self.selected_protocol
    }

    /// The peer's address, when the app is served with
    /// `into_make_service_with_connect_info::<SocketAddr>()` (as
    /// [`serve`](crate::serve) does).
    ///
    /// Behind a reverse proxy the app trusts
    /// ([`AppDefaults::trust_proxy`](crate::AppDefaults::trust_proxy)), it
    /// is the client the proxy forwarded, with port 0 when the proxy sent
    /// no port.
    ///
    /// ```
    /// use sockwarden::Scope;
    ///
    /// let scope: Scope<sockwarden::Anonymous> = Scope::builder("/ws")
    ///     .peer_addr("203.0.113.7:0".parse().unwrap())
    ///     .build();
    /// assert_eq!(scope.peer_addr().unwrap().ip().to_string(), "203.0.113.7");
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The authenticated user, or `None` for an anonymous connection.
    pub fn user(&self) -> Option<&U> {
        self.user.as_ref()
    }

    /// Whether a user is authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.user.is_some()
    }

    /// Where the credential came from, for an authenticated connection.
    pub fn carrier(&self) -> Option<Carrier> {
        self.carrier
    }

    /// Reads a `#[path]` field.
    #[doc(hidden)]
    pub fn path_param<T: FromParam>(&self, name: &'static str) -> Result<T, Rejection> {
        T::from_param(self.param(name)).map_err(|e| e.rejection("path parameter", name))
    }

    /// Reads a `#[query]` field.
    #[doc(hidden)]
    pub fn query_param<T: FromParam>(&self, name: &'static str) -> Result<T, Rejection> {
        T::from_param(self.query_value(name).as_deref())
            .map_err(|e| e.rejection("query parameter", name))
    }

    /// Reads a `#[header("…")]` field.
    #[doc(hidden)]
    pub fn header_param<T: FromParam>(&self, name: &'static str) -> Result<T, Rejection> {
        T::from_param(self.header(name)).map_err(|e| e.rejection("header", name))
    }

    /// Reads a `#[cookie("…")]` field.
    #[doc(hidden)]
    pub fn cookie_param<T: FromParam>(&self, name: &'static str) -> Result<T, Rejection> {
        T::from_param(self.cookie(name)).map_err(|e| e.rejection("cookie", name))
    }

    /// Reads the `#[user]` field of a `#[requires_auth]` consumer.
    #[doc(hidden)]
    pub fn user_required(&self) -> Result<U, Rejection> {
        self.user
            .clone()
            .ok_or_else(|| Rejection::not_authenticated("authentication required"))
    }

    /// Reads the `Option<User>` field of a consumer that admits anonymous users.
    #[doc(hidden)]
    pub fn user_optional(&self) -> Option<U> {
        self.user.clone()
    }

    pub(crate) fn set_user(&mut self, user: Option<U>, carrier: Option<Carrier>) {
        self.user = user;
        self.carrier = carrier;
    }

    /// Drops what an accepted connection no longer needs (see the type docs).
    pub(crate) fn release_handshake(&mut self) {
        self.request = None;
    }
}

impl ParamError {
    fn rejection(self, what: &str, name: &str) -> Rejection {
        match self {
            ParamError::Missing => Rejection::bad_request(format!("missing {what} `{name}`")),
            ParamError::Invalid => Rejection::bad_request(format!("invalid {what} `{name}`")),
        }
    }
}

/// What the handshake's request brought that an open connection drops.
#[derive(Debug, Default)]
struct RequestParts {
    query: Option<Box<str>>,
    headers: HeaderMap,
}

/// Builds a [`Scope`] by hand: the runtime builds them from handshakes, tests
/// of code that takes a scope build them with this.
#[derive(Debug)]
pub struct ScopeBuilder<U> {
    scope: Scope<U>,
}

impl<U: Clone> ScopeBuilder<U> {
    /// Adds a route parameter.
    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.scope.params.push((name.into(), value.into()));
        self
    }

    /// Sets the raw query string (without `?`).
    pub fn query(mut self, query: &str) -> Self {
        self.scope.request.get_or_insert_default().query = Some(query.into());
        self
    }

    /// Adds a request header. Invalid names or values are ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(name),
            axum::http::HeaderValue::try_from(value),
        ) {
            self.scope
                .request
                .get_or_insert_default()
                .headers
                .append(name, value);
        }
        self
    }

    /// Adds an offered subprotocol.
    pub fn subprotocol(mut self, protocol: &str) -> Self {
        self.scope.subprotocols.push(protocol.into());
        self
    }

    /// Sets the peer address.
    pub fn peer_addr(mut self, peer: SocketAddr) -> Self {
        self.scope.peer = Some(peer);
        self
    }

    /// Sets the authenticated user.
    pub fn user(mut self, user: U) -> Self {
        self.scope.user = Some(user);
        self
    }

    /// The scope.
    pub fn build(mut self) -> Scope<U> {
        self.scope.origin = self.scope.header(ORIGIN.as_str()).map(Into::into);
        self.scope
    }
}

/// The parts of a handshake the runtime turns into a scope.
pub(crate) struct HandshakeFacts {
    pub(crate) path: Box<str>,
    pub(crate) params: Vec<(Box<str>, Box<str>)>,
    pub(crate) query: Option<Box<str>>,
    pub(crate) headers: HeaderMap,
    pub(crate) subprotocols: Vec<Box<str>>,
    pub(crate) selected_protocol: Option<&'static str>,
    pub(crate) peer: Option<SocketAddr>,
}

impl<U> Scope<U> {
    pub(crate) fn from_facts(facts: HandshakeFacts) -> Scope<U> {
        let origin = facts
            .headers
            .get(ORIGIN)
            .and_then(|value| value.to_str().ok())
            .map(Into::into);
        Scope {
            path: facts.path,
            params: facts.params,
            request: Some(Box::new(RequestParts {
                query: facts.query,
                headers: facts.headers,
            })),
            origin,
            subprotocols: facts.subprotocols,
            selected_protocol: facts.selected_protocol,
            peer: facts.peer,
            user: None,
            carrier: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Anonymous;

    fn scope() -> Scope<Anonymous> {
        Scope::builder("/ws/chat/lobby")
            .path_param("room", "lobby")
            .path_param("n", "42")
            .query("page=2&token=secret&empty=")
            .header("cookie", "theme=dark; sid=\"abc\"")
            .header("x-client", "cli/1.0")
            .build()
    }

    #[test]
    fn fields_parse_from_their_source() {
        let scope = scope();
        assert_eq!(scope.path_param::<String>("room").unwrap(), "lobby");
        assert_eq!(scope.path_param::<u32>("n").unwrap(), 42);
        assert_eq!(scope.query_param::<Option<u8>>("page").unwrap(), Some(2));
        assert_eq!(scope.query_param::<Option<u8>>("absent").unwrap(), None);
        assert_eq!(scope.header_param::<String>("x-client").unwrap(), "cli/1.0");
        assert_eq!(scope.cookie_param::<String>("theme").unwrap(), "dark");
        assert_eq!(scope.cookie("sid"), Some("abc"));
    }

    #[test]
    fn bad_or_missing_values_are_bad_requests() {
        let scope = scope();
        let bad = scope.path_param::<u8>("room").unwrap_err();
        assert_eq!(bad.kind(), crate::RejectKind::BadRequest);
        assert_eq!(bad.reason(), "invalid path parameter `room`");
        let missing = scope.query_param::<u8>("absent").unwrap_err();
        assert_eq!(missing.reason(), "missing query parameter `absent`");
    }

    #[test]
    fn the_query_token_is_never_a_query_value() {
        assert_eq!(scope().query_value("token"), None);
    }

    #[test]
    fn release_keeps_only_what_lives_with_the_connection() {
        let mut scope = scope();
        scope.release_handshake();
        assert_eq!(scope.header("x-client"), None);
        assert_eq!(scope.query_value("page"), None);
        assert_eq!(scope.param("room"), Some("lobby"));
    }
}
