//! The server half: a router served on a loopback port, and plain HTTP
//! requests to it.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::client::WsRequest;
use super::http1;

/// How long a plain HTTP exchange may take, connect to last byte.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// An app served on `127.0.0.1` at a free port, for as long as the value
/// lives.
///
/// The server is `axum::serve` with
/// `into_make_service_with_connect_info::<SocketAddr>()`, as in production,
/// so consumers see the peer address in their [`Scope`](crate::Scope).
/// Dropping the `TestServer` stops accepting connections; connections that
/// are already open run on until their clients go, or until the test's
/// runtime ends.
///
/// ```
/// use axum::Router;
/// use sockwarden::prelude::*;
/// use sockwarden::testing::TestServer;
///
/// #[consumer(path = "/ws/echo")]
/// struct Echo;
///
/// impl Consumer for Echo {
///     type In = serde_json::Value;
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> {
///         cx.send(&msg).await
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = TestServer::new(Router::new().consumer::<Echo>());
/// let mut socket = server.ws("/ws/echo").connect().await.accepted();
/// socket.send_json(&serde_json::json!({ "n": 1 })).await;
/// assert_eq!(socket.recv_json::<serde_json::Value>().await["n"], 1);
/// # }
/// ```
pub struct TestServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Serves `app` on `127.0.0.1` at a free port, in a task of the current
    /// tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or when no loopback port can be bound.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// assert!(server.addr().ip().is_loopback());
    /// # }
    /// ```
    pub fn new(app: Router) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| {
                listener.set_nonblocking(true)?;
                Ok(listener)
            })
            .expect("TestServer: bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("TestServer: the bound address");
        let listener = tokio::net::TcpListener::from_std(listener)
            .expect("TestServer::new must be called inside a tokio runtime");
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, service).await {
                tracing::error!(%error, "TestServer: serving failed");
            }
        });
        TestServer { addr, task }
    }

    /// The address served.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// let addr = server.addr();
    /// assert_eq!(server.url("/x"), format!("http://{addr}/x"));
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`, for another client.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// assert!(server.url("/login").starts_with("http://127.0.0.1:"));
    /// # }
    /// ```
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, checked_path(path))
    }

    /// `ws://127.0.0.1:<port><path>`, for another WebSocket client (a
    /// browser driven by a test, tokio-tungstenite…).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// assert!(server.ws_url("/ws/chat/lobby").starts_with("ws://127.0.0.1:"));
    /// # }
    /// ```
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, checked_path(path))
    }

    /// `http://127.0.0.1:<port>`: the origin of a page this server served,
    /// for [`WsRequest::origin`] when a test plays a same-site browser (the
    /// request's `Host` is `127.0.0.1:<port>`).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// assert_eq!(server.origin(), format!("http://{}", server.addr()));
    /// # }
    /// ```
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A WebSocket handshake to `path` (with its query, if any), to set up
    /// and then [`connect`](WsRequest::connect).
    ///
    /// # Panics
    ///
    /// When `path` does not start with `/`.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::{Outcome, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// let outcome = server.ws("/ws/nowhere").token("tok-1").connect().await;
    /// assert_eq!(outcome.rejected().status, 404);
    /// # }
    /// ```
    pub fn ws(&self, path: &str) -> WsRequest {
        WsRequest::new(self.addr, checked_path(path))
    }

    /// `GET path`, without cookies or credentials.
    ///
    /// # Panics
    ///
    /// When the server does not answer within 5 s, or answers with
    /// something that is not HTTP/1.1.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new().route("/health", get(|| async { "ok" }));
    /// let server = TestServer::new(app);
    /// let response = server.get("/health").await;
    /// assert_eq!(response.status, 200);
    /// assert_eq!(response.body, "ok");
    /// # }
    /// ```
    pub async fn get(&self, path: &str) -> HttpResponse {
        let request = Request::get(checked_path(path))
            .body(Vec::new())
            .expect("a GET request");
        self.request(request).await
    }

    /// `POST path` with an `application/x-www-form-urlencoded` body: how a
    /// test logs in before it connects with the session cookie (see
    /// [`WsRequest::cookies_from`]).
    ///
    /// # Panics
    ///
    /// As [`get`](TestServer::get).
    ///
    /// ```
    /// use axum::{Router, extract::RawForm, http::header, routing::post};
    /// use sockwarden::testing::TestServer;
    ///
    /// async fn login(RawForm(form): RawForm) -> ([(header::HeaderName, String); 1], &'static str) {
    ///     let (_, user) = form_urlencoded::parse(&form).find(|(k, _)| k == "user").unwrap();
    ///     ([(header::SET_COOKIE, format!("session={user}; HttpOnly"))], "welcome")
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().route("/login", post(login)));
    /// let response = server.post_form("/login", &[("user", "alice")]).await;
    /// assert_eq!(response.status, 200);
    /// assert_eq!(response.cookie("session"), Some("alice"));
    /// # }
    /// ```
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> HttpResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(checked_path(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.into_bytes())
            .expect("a POST request");
        self.request(request).await
    }

    /// Any HTTP/1.1 request: its method, path and query, headers and body.
    /// The client writes the framing itself: `Host`, `Connection: close`
    /// and, when there is a body or the method usually has one,
    /// `Content-Length` (those headers in `request` are left out).
    ///
    /// # Panics
    ///
    /// As [`get`](TestServer::get); also when the request's URI is not a
    /// path.
    ///
    /// ```
    /// # use axum::{Router, routing::put};
    /// # use sockwarden::testing::TestServer;
    /// use axum::http::Request;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = Router::new().route("/echo", put(|body: String| async move { body }));
    /// let server = TestServer::new(app);
    /// let request = Request::put("/echo").header("cookie", "session=abc").body("hello").unwrap();
    /// assert_eq!(server.request(request).await.body, "hello");
    /// # }
    /// ```
    pub async fn request<B: AsRef<[u8]>>(&self, request: Request<B>) -> HttpResponse {
        let (parts, body) = request.into_parts();
        let target = parts
            .uri
            .path_and_query()
            .map(|target| target.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let target = checked_path(&target);
        let body = body.as_ref();
        let mut wire = format!(
            "{} {target} HTTP/1.1\r\nHost: {}\r\n",
            parts.method, self.addr
        )
        .into_bytes();
        // The framing headers are the client's: the body goes with its length.
        let framing = [
            header::HOST,
            header::CONNECTION,
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
        ];
        for (name, value) in &parts.headers {
            if framing.contains(name) {
                continue;
            }
            wire.extend_from_slice(name.as_str().as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend_from_slice(value.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        let bodiless = matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE
        );
        if !body.is_empty() || !bodiless {
            wire.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        wire.extend_from_slice(b"Connection: close\r\n\r\n");
        wire.extend_from_slice(body);
        let head_request = parts.method == Method::HEAD;
        let what = format!("{} {target}", parts.method);
        let addr = self.addr;
        let exchange = async move {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect failed: {e}"))?;
            http1::write_all(&stream, &wire).await?;
            let mut buf = Vec::new();
            let head = http1::read_head(&stream, &mut buf).await?;
            let body = http1::read_body(&stream, &head, head_request, buf).await?;
            Ok::<_, String>(HttpResponse {
                status: head.status,
                headers: head.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        match tokio::time::timeout(HTTP_TIMEOUT, exchange).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => panic!("{what}: {error}"),
            Err(_) => panic!("{what}: no complete response within {HTTP_TIMEOUT:?}"),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

/// A path (and query) for a request line: it must start with `/` and be
/// visible ASCII (percent-encode the rest), or the request would be broken.
fn checked_path(path: &str) -> &str {
    assert!(
        path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic()),
        "a request path must start with '/' and be visible ASCII (percent-encoded): {path:?}"
    );
    path
}

/// An HTTP response, read in full.
///
/// ```
/// # use axum::{Router, routing::get};
/// # use sockwarden::testing::TestServer;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = Router::new().route("/", get(|| async { ([("set-cookie", "theme=dark; Path=/")], "{\"ok\":true}") }));
/// let server = TestServer::new(app);
/// let response = server.get("/").await;
/// assert_eq!(response.status, 200);
/// assert_eq!(response.cookies(), vec![("theme".to_owned(), "dark".to_owned())]);
/// assert_eq!(response.json::<serde_json::Value>()["ok"], true);
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The header fields, repeated ones (`Set-Cookie`) included.
    pub headers: HeaderMap,
    /// The body, decoded from its framing (`Content-Length` or chunked),
    /// as UTF-8 (invalid sequences replaced).
    pub body: String,
}

impl HttpResponse {
    /// The raw `Set-Cookie` values, in order.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app = Router::new().route("/", get(|| async { ([("set-cookie", "theme=dark; Path=/")], "") }));
    /// # let server = TestServer::new(app);
    /// let response = server.get("/").await;
    /// assert_eq!(response.set_cookies(), vec!["theme=dark; Path=/"]);
    /// # }
    /// ```
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect()
    }

    /// The name and value of each cookie set, attributes left out, in order.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app = Router::new().route("/", get(|| async {
    /// #     (axum::response::AppendHeaders([("set-cookie", "a=1; Secure"), ("set-cookie", "b=2")]), "")
    /// # }));
    /// # let server = TestServer::new(app);
    /// let response = server.get("/").await;
    /// assert_eq!(response.cookies(), vec![("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())]);
    /// # }
    /// ```
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.set_cookies()
            .into_iter()
            .filter_map(cookie_pair)
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// The value of the last cookie called `name` that the response sets.
    ///
    /// ```
    /// # use axum::{Router, routing::get};
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app = Router::new().route("/", get(|| async { ([("set-cookie", "session=s3cr3t; HttpOnly")], "") }));
    /// # let server = TestServer::new(app);
    /// let response = server.get("/").await;
    /// assert_eq!(response.cookie("session"), Some("s3cr3t"));
    /// assert_eq!(response.cookie("theme"), None);
    /// # }
    /// ```
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .filter_map(cookie_pair)
            .filter(|(n, _)| *n == name)
            .map(|(_, value)| value)
            .next_back()
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON of type `T`.
    ///
    /// ```
    /// # use axum::{Json, Router, routing::get};
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let app = Router::new().route("/me", get(|| async { Json(serde_json::json!({ "name": "alice" })) }));
    /// # let server = TestServer::new(app);
    /// let me: serde_json::Value = server.get("/me").await.json();
    /// assert_eq!(me["name"], "alice");
    /// # }
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "expected a JSON body of type {}, got {}: {error}\nbody: {}",
                std::any::type_name::<T>(),
                self.status,
                self.body
            )
        })
    }
}

/// The name and value a `Set-Cookie` value sets (RFC 6265 §5.2): the text
/// before the first `;`, split at the first `=`, trimmed, a quoted value
/// unquoted. `None` without a name.
fn cookie_pair(set: &str) -> Option<(&str, &str)> {
    let (name, value) = set.split(';').next()?.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    (!name.is_empty()).then_some((name, value))
}
