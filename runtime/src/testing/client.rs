//! The handshake: what the client sends, and what it came to.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::http1;
use super::outcome::{Closed, Outcome, Rejected};
use super::server::HttpResponse;
use super::socket::{Received, TestSocket, close_of, flush_close_reply, is_lost};

/// How long a handshake may take by default, connect to verdict.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a [`TestSocket`] waits for a message by default.
const RECV_TIMEOUT: Duration = Duration::from_secs(1);

/// The payload of the Ping that tells an accepted connection from one
/// refused by close frame.
const PROBE: &[u8] = b"sockwarden-testing-probe";

/// A WebSocket handshake being set up: credentials, origin, subprotocols,
/// headers and cookies. Made by [`TestServer::ws`](super::TestServer::ws);
/// [`connect`](WsRequest::connect) sends it.
///
/// Setters panic on values that cannot go in a header: a test helper fails
/// the test where the mistake is.
///
/// ```
/// # use axum::Router;
/// # use sockwarden::prelude::*;
/// # use sockwarden::{Tokens, store::MemoryTokenStore};
/// # use sockwarden::testing::TestServer;
/// # #[derive(Clone)]
/// # struct User { name: String }
/// # impl AuthUser for User { type Id = String; fn id(&self) -> String { self.name.clone() } }
/// #[consumer(path = "/ws/chat/{room}", auth = "token", protocols = ["chat.v1"])]
/// #[requires_auth]
/// struct Chat {
///     #[path] room: String,
///     #[user] user: User,
/// }
/// # impl Consumer for Chat {
/// #     type In = serde_json::Value;
/// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryTokenStore::new();
/// store.insert("tok-alice", User { name: "alice".into() });
/// let app = Router::new().consumer::<Chat>().with_state(Tokens::new(store));
/// let server = TestServer::new(app);
///
/// let socket = server
///     .ws("/ws/chat/lobby")
///     .token("tok-alice")
///     .origin("https://chat.example")
///     .protocols(["chat.v1"])
///     .connect()
///     .await
///     .accepted();
/// assert_eq!(socket.protocol(), Some("chat.v1"));
/// # }
/// ```
#[must_use = "a WsRequest does nothing until `connect`"]
pub struct WsRequest {
    addr: SocketAddr,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    protocols: Vec<String>,
    token_protocol: Option<(String, String)>,
    cookies: Vec<(String, String)>,
    timeout: Option<Duration>,
}

impl WsRequest {
    pub(super) fn new(addr: SocketAddr, path: &str) -> WsRequest {
        WsRequest {
            addr,
            path: path.to_owned(),
            headers: Vec::new(),
            protocols: Vec::new(),
            token_protocol: None,
            cookies: Vec::new(),
            timeout: None,
        }
    }

    /// Sends the token as `Authorization: Bearer <token>`.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::{Tokens, store::MemoryTokenStore};
    /// # use sockwarden::testing::TestServer;
    /// # #[derive(Clone)]
    /// # struct User { name: String }
    /// # impl AuthUser for User { type Id = String; fn id(&self) -> String { self.name.clone() } }
    /// # #[consumer(path = "/ws/me", auth = "token")]
    /// # #[requires_auth]
    /// # struct Me { #[user] user: User }
    /// # impl Consumer for Me {
    /// #     type In = serde_json::Value;
    /// #     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
    /// #         let _ = cx.send(&serde_json::json!({ "me": self.user.name })).await;
    /// #         Connect::Accept
    /// #     }
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let store = MemoryTokenStore::new();
    /// # store.insert("tok-alice", User { name: "alice".into() });
    /// # let server = TestServer::new(Router::new().consumer::<Me>().with_state(Tokens::new(store)));
    /// let mut socket = server.ws("/ws/me").token("tok-alice").connect().await.accepted();
    /// assert_eq!(socket.recv_json::<serde_json::Value>().await["me"], "alice");
    ///
    /// let refused = server.ws("/ws/me").token("forged").connect().await.rejected();
    /// assert_eq!(refused.status, 401);
    /// # }
    /// ```
    pub fn token(self, token: &str) -> WsRequest {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends the token as a browser can: `Sec-WebSocket-Protocol: <marker>,
    /// <token>`, after any [`protocols`](WsRequest::protocols). The 101
    /// selects the marker, never the token.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::{Tokens, store::MemoryTokenStore};
    /// # use sockwarden::testing::TestServer;
    /// # #[derive(Clone)]
    /// # struct User { name: String }
    /// # impl AuthUser for User { type Id = String; fn id(&self) -> String { self.name.clone() } }
    /// # #[consumer(path = "/ws/me", auth = "token")]
    /// # #[requires_auth]
    /// # struct Me { #[user] user: User }
    /// # impl Consumer for Me {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let store = MemoryTokenStore::new();
    /// # store.insert("tok-alice", User { name: "alice".into() });
    /// # let server = TestServer::new(Router::new().consumer::<Me>().with_state(Tokens::new(store)));
    /// let socket = server.ws("/ws/me").token_protocol("bearer", "tok-alice").connect().await.accepted();
    /// assert_eq!(socket.protocol(), Some("bearer"));
    /// # }
    /// ```
    pub fn token_protocol(mut self, marker: &str, token: &str) -> WsRequest {
        check_protocol(marker);
        check_protocol(token);
        self.token_protocol = Some((marker.to_owned(), token.to_owned()));
        self
    }

    /// Sends the token as `?token=<token>` (percent-encoded), after any
    /// query already in the path. The consumer reads it only with
    /// `query_token = true`.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::{Tokens, store::MemoryTokenStore};
    /// # use sockwarden::testing::TestServer;
    /// # #[derive(Clone)]
    /// # struct User { name: String }
    /// # impl AuthUser for User { type Id = String; fn id(&self) -> String { self.name.clone() } }
    /// # #[consumer(path = "/ws/me", auth = "token", query_token = true)]
    /// # #[requires_auth]
    /// # struct Me { #[user] user: User }
    /// # impl Consumer for Me {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let store = MemoryTokenStore::new();
    /// # store.insert("tok-alice", User { name: "alice".into() });
    /// # let server = TestServer::new(Router::new().consumer::<Me>().with_state(Tokens::new(store)));
    /// server.ws("/ws/me").query_token("tok-alice").connect().await.accepted();
    /// # }
    /// ```
    pub fn query_token(mut self, token: &str) -> WsRequest {
        let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let separator = if self.path.contains('?') { '&' } else { '?' };
        self.path = format!("{}{separator}token={encoded}", self.path);
        self
    }

    /// Sends `Origin: <origin>`, as a browser does (other clients send
    /// none unless told to).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/site", reject = "close")]
    /// struct Site;
    ///
    /// impl Consumer for Site {
    ///     type In = serde_json::Value;
    ///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
    ///         match cx.scope().origin() {
    ///             Some("https://chat.example") => Connect::Accept,
    ///             _ => Connect::Reject(Rejection::forbidden("unknown origin")),
    ///         }
    ///     }
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Site>());
    /// server.ws("/ws/site").origin("https://chat.example").connect().await.accepted();
    /// let closed = server.ws("/ws/site").origin("https://evil.example").connect().await.closed();
    /// assert_eq!((closed.code, closed.reason.as_str()), (4403, "unknown origin"));
    /// # }
    /// ```
    pub fn origin(self, origin: &str) -> WsRequest {
        self.header("origin", origin)
    }

    /// Offers these subprotocols, in this order of preference. The 101
    /// selects the first one the consumer declares in `protocols = [...]`;
    /// when it selects none, the client fails the connection as browsers
    /// and tungstenite do ([`Outcome::Failed`]).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::{Outcome, TestServer};
    /// #[consumer(path = "/ws/v", protocols = ["chat.v1", "chat.v2"])]
    /// struct Versioned;
    /// # impl Consumer for Versioned {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Versioned>());
    /// let socket = server.ws("/ws/v").protocols(["chat.v3", "chat.v2", "chat.v1"]).connect().await.accepted();
    /// assert_eq!(socket.protocol(), Some("chat.v2"));
    ///
    /// let outcome = server.ws("/ws/v").protocols(["chat.v9"]).connect().await;
    /// assert!(matches!(outcome, Outcome::Failed(_)));
    /// # }
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> WsRequest
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for protocol in protocols {
            let protocol = protocol.as_ref();
            check_protocol(protocol);
            self.protocols.push(protocol.to_owned());
        }
        self
    }

    /// Adds a request header. `Sec-WebSocket-Protocol` adds to the offered
    /// subprotocols and `Cookie` to the cookies; the headers of the
    /// handshake itself (`Host`, `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`) are the client's.
    ///
    /// # Panics
    ///
    /// On an invalid name or value, or one of the handshake's own headers.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/ua")]
    /// struct Agent { #[header("user-agent")] agent: Option<String> }
    ///
    /// impl Consumer for Agent {
    ///     type In = serde_json::Value;
    ///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
    ///         let _ = cx.send(&self.agent).await;
    ///         Connect::Accept
    ///     }
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Agent>());
    /// let mut socket = server.ws("/ws/ua").header("user-agent", "tests/1").connect().await.accepted();
    /// assert_eq!(socket.recv_json::<String>().await, "tests/1");
    /// # }
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> WsRequest {
        let name =
            HeaderName::try_from(name).unwrap_or_else(|_| panic!("not a header name: {name:?}"));
        let reserved = [
            header::HOST,
            header::UPGRADE,
            header::CONNECTION,
            header::SEC_WEBSOCKET_KEY,
            header::SEC_WEBSOCKET_VERSION,
        ];
        assert!(
            !reserved.contains(&name),
            "the test client writes the `{name}` header of the handshake itself"
        );
        if name == header::SEC_WEBSOCKET_PROTOCOL {
            return self.protocols(value.split(',').map(str::trim));
        }
        if name == header::COOKIE {
            for pair in value.split(';') {
                let (name, value) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("not a cookie: {pair:?}"));
                self = self.cookie(name.trim(), value.trim());
            }
            return self;
        }
        let value = HeaderValue::try_from(value)
            .unwrap_or_else(|_| panic!("not a value for the `{name}` header: {value:?}"));
        self.headers.push((name, value));
        self
    }

    /// Sends a cookie, in the request's one `Cookie` header. This is how a
    /// test connects with a logged-in session: it logs in over HTTP
    /// ([`TestServer::post_form`](super::TestServer::post_form)) and sends
    /// the session cookie it got (or all of them with
    /// [`cookies_from`](WsRequest::cookies_from)).
    ///
    /// # Panics
    ///
    /// On a name that is not an HTTP token, or a value with characters a
    /// cookie cannot hold (`;`, `,`, `"`, `\`, spaces, controls).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/themed")]
    /// struct Themed { #[cookie("theme")] theme: Option<String> }
    ///
    /// impl Consumer for Themed {
    ///     type In = serde_json::Value;
    ///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
    ///         let _ = cx.send(&self.theme).await;
    ///         Connect::Accept
    ///     }
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Themed>());
    /// let mut socket = server.ws("/ws/themed").cookie("theme", "dark").connect().await.accepted();
    /// assert_eq!(socket.recv_json::<String>().await, "dark");
    /// # }
    /// ```
    pub fn cookie(mut self, name: &str, value: &str) -> WsRequest {
        assert!(
            !name.is_empty() && HeaderName::try_from(name).is_ok(),
            "not a cookie name: {name:?}"
        );
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')),
            "not a cookie value (RFC 6265 cookie-octets): {value:?}"
        );
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends every cookie that `response` set: the session a login left.
    ///
    /// ```
    /// use axum::{Router, extract::RawForm, http::header, routing::post};
    /// use sockwarden::prelude::*;
    /// use sockwarden::testing::TestServer;
    ///
    /// async fn login(RawForm(form): RawForm) -> [(header::HeaderName, String); 1] {
    ///     let (_, user) = form_urlencoded::parse(&form).find(|(k, _)| k == "user").unwrap();
    ///     [(header::SET_COOKIE, format!("session={user}; HttpOnly; Path=/"))]
    /// }
    ///
    /// #[consumer(path = "/ws/session")]
    /// struct Session { #[cookie("session")] session: Option<String> }
    ///
    /// impl Consumer for Session {
    ///     type In = serde_json::Value;
    ///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
    ///         match &self.session {
    ///             Some(_) => Connect::Accept,
    ///             None => Connect::Reject(Rejection::not_authenticated("log in first")),
    ///         }
    ///     }
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new().route("/login", post(login)).consumer::<Session>();
    /// let server = TestServer::new(app);
    /// assert_eq!(server.ws("/ws/session").connect().await.rejected().status, 401);
    ///
    /// let login = server.post_form("/login", &[("user", "alice")]).await;
    /// server.ws("/ws/session").cookies_from(&login).connect().await.accepted();
    /// # }
    /// ```
    pub fn cookies_from(mut self, response: &HttpResponse) -> WsRequest {
        for (name, value) in response.cookies() {
            self = self.cookie(&name, &value);
        }
        self
    }

    /// Bounds the handshake (5 s by default) and becomes the socket's
    /// [`recv` timeout](TestSocket::set_timeout) (1 s by default).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/echo")]
    /// # struct Echo;
    /// # impl Consumer for Echo {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Echo>());
    /// let socket = server.ws("/ws/echo").timeout(Duration::from_secs(10)).connect().await.accepted();
    /// assert_eq!(socket.timeout(), Duration::from_secs(10));
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> WsRequest {
        self.timeout = Some(timeout);
        self
    }

    /// Opens the TCP connection, sends the handshake and reads the answer,
    /// within the [`timeout`](WsRequest::timeout).
    ///
    /// After a 101 the client sends one Ping and reads until its Pong or a
    /// close frame: a close first means the server upgraded only to refuse
    /// ([`Outcome::Closed`], `reject = "close"`); the Pong first means the
    /// consumer accepted ([`Outcome::Accepted`]), and the messages it sent
    /// from `connect` wait in the socket. The Ping is answered by the
    /// WebSocket layer: consumers never see it.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::{Outcome, TestServer};
    /// # #[consumer(path = "/ws/echo")]
    /// # struct Echo;
    /// # impl Consumer for Echo {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Echo>());
    /// match server.ws("/ws/echo").connect().await {
    ///     Outcome::Accepted(socket) => assert_eq!(socket.protocol(), None),
    ///     other => panic!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub async fn connect(self) -> Outcome {
        let limit = self.timeout.unwrap_or(HANDSHAKE_TIMEOUT);
        match tokio::time::timeout(limit, self.handshake()).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed(format!("no answer to the handshake within {limit:?}")),
        }
    }

    async fn handshake(self) -> Outcome {
        let key = generate_key();
        let mut offered = self.protocols.clone();
        if let Some((marker, token)) = &self.token_protocol {
            offered.push(marker.clone());
            offered.push(token.clone());
        }
        let mut wire = format!(
            "GET {} HTTP/1.1\r\n\
             Host: {}\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\n\
             Sec-WebSocket-Version: 13\r\n",
            self.path, self.addr
        )
        .into_bytes();
        if !offered.is_empty() {
            wire.extend_from_slice(
                format!("Sec-WebSocket-Protocol: {}\r\n", offered.join(", ")).as_bytes(),
            );
        }
        if !self.cookies.is_empty() {
            let cookies: Vec<String> = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            wire.extend_from_slice(format!("Cookie: {}\r\n", cookies.join("; ")).as_bytes());
        }
        for (name, value) in &self.headers {
            wire.extend_from_slice(name.as_str().as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend_from_slice(value.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"\r\n");

        let stream = match TcpStream::connect(self.addr).await {
            Ok(stream) => stream,
            Err(error) => {
                return Outcome::Failed(format!("connect to {} failed: {error}", self.addr));
            }
        };
        if let Err(error) = http1::write_all(&stream, &wire).await {
            return Outcome::Failed(error);
        }
        let mut buf = Vec::new();
        let head = match http1::read_head(&stream, &mut buf).await {
            Ok(head) => head,
            Err(error) => return Outcome::Failed(error),
        };
        if head.status != StatusCode::SWITCHING_PROTOCOLS {
            return match http1::read_body(&stream, &head, false, buf).await {
                Ok(body) => Outcome::Rejected(Rejected {
                    status: head.status,
                    headers: head.headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                }),
                Err(error) => Outcome::Failed(format!("{}: {error}", head.status)),
            };
        }
        let protocol = match verify_upgrade(&head.headers, &key, &offered) {
            Ok(protocol) => protocol,
            Err(error) => return Outcome::Failed(error),
        };
        let ws = WebSocketStream::from_partially_read(stream, buf, Role::Client, None).await;
        let timeout = self.timeout.unwrap_or(RECV_TIMEOUT);
        probe(ws, protocol, head.headers, timeout).await
    }
}

impl fmt::Debug for WsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials stay out of test output.
        f.debug_struct("WsRequest")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("protocols", &self.protocols)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field(
                "cookies",
                &self
                    .cookies
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A subprotocol must be a non-empty HTTP token to be offered.
fn check_protocol(protocol: &str) {
    assert!(
        !protocol.is_empty()
            && protocol
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)),
        "not a subprotocol (an HTTP token): {protocol:?}"
    );
}

/// The checks RFC 6455 §4.1 asks of a client on a 101, and the one that
/// browsers and tungstenite add (a subprotocol was offered, none selected).
/// Returns the selected subprotocol.
fn verify_upgrade(
    headers: &HeaderMap,
    key: &str,
    offered: &[String],
) -> Result<Option<String>, String> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if !text(header::UPGRADE).is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket")) {
        return Err("the 101 lacks `Upgrade: websocket`".into());
    }
    let connection = text(header::CONNECTION).unwrap_or_default();
    if !connection
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    {
        return Err("the 101 lacks `Connection: Upgrade`".into());
    }
    if text(header::SEC_WEBSOCKET_ACCEPT) != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err("the 101 has a wrong or missing Sec-WebSocket-Accept".into());
    }
    if headers.contains_key(header::SEC_WEBSOCKET_EXTENSIONS) {
        return Err("the 101 selects an extension the client did not offer".into());
    }
    let selected: Vec<_> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .collect();
    match selected.as_slice() {
        [] if offered.is_empty() => Ok(None),
        [] => Err(format!(
            "the client offered the subprotocols {offered:?} and the 101 selected none: \
             browsers (Chrome) and tungstenite fail such a connection"
        )),
        [one] => match one.to_str() {
            Ok(one) if offered.iter().any(|offered| offered == one) => Ok(Some(one.to_owned())),
            _ => Err(format!(
                "the 101 selected the subprotocol {one:?}, which the client did not offer"
            )),
        },
        _ => Err("the 101 selects more than one subprotocol".into()),
    }
}

/// Tells an accepted connection from one refused by close frame: sends a
/// Ping and reads until its Pong (accepted) or a close frame (refused).
async fn probe(
    mut ws: WebSocketStream<TcpStream>,
    protocol: Option<String>,
    headers: HeaderMap,
    timeout: Duration,
) -> Outcome {
    // A send that fails means the server already went; what it sent first
    // is still there to read.
    let _ = ws.send(Message::Ping(PROBE.into())).await;
    let mut frames = Vec::new();
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => frames.push(Received::Text(text.as_str().to_owned())),
            Some(Ok(Message::Binary(bytes))) => frames.push(Received::Binary(bytes.to_vec())),
            Some(Ok(Message::Pong(payload))) if payload == PROBE => {
                return Outcome::Accepted(TestSocket::new(ws, protocol, headers, frames, timeout));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(Message::Close(frame))) => {
                flush_close_reply(&mut ws).await;
                let (code, reason) = close_of(frame);
                return Outcome::Closed(Closed {
                    code,
                    reason,
                    frames,
                    protocol,
                });
            }
            None => return Outcome::Closed(Closed::lost(frames, protocol)),
            Some(Err(error)) if is_lost(&error) => {
                return Outcome::Closed(Closed::lost(frames, protocol));
            }
            Some(Err(error)) => return Outcome::Failed(format!("after the 101: {error}")),
        }
    }
}
