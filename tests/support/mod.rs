//! Helpers shared by the integration tests: serve an app on a loopback
//! port, connect a real WebSocket client to it, and read what it answers,
//! always with a bounded wait.

pub mod postgres;
pub mod raw;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sockwarden::{AuthUser, Hub, Tokens};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(5);

/// The URL of a service a test needs (`DATABASE_URL`, `REDIS_URL`), or
/// `None` with a printed notice when it is unset and the test should skip.
/// When it is set, the test must use it, and fail if the server does not
/// answer.
pub fn service_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{test}: skipped: {var} is not set");
            None
        }
    }
}

/// A test user: the id is the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name, also the id.
    pub name: String,
}

impl User {
    /// A user called `name`.
    pub fn named(name: &str) -> User {
        User {
            name: name.to_owned(),
        }
    }
}

impl sockwarden::AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.name.clone()
    }
}

/// Serves `app` on `127.0.0.1` at a free port, for the rest of the test.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// What a handshake came to.
#[derive(Debug)]
pub enum Handshake {
    /// 101: the socket and the response headers.
    Accepted(Box<Ws>, HeaderMap),
    /// Anything else: the status, headers and body.
    Refused(StatusCode, HeaderMap, String),
}

impl Handshake {
    /// The socket; panics (failing the test) when refused.
    pub fn accepted(self) -> (Ws, HeaderMap) {
        match self {
            Handshake::Accepted(ws, headers) => (*ws, headers),
            Handshake::Refused(status, _, body) => panic!("expected 101, got {status}: {body}"),
        }
    }

    /// The refusal; panics (failing the test) when accepted.
    pub fn refused(self) -> (StatusCode, HeaderMap, String) {
        match self {
            Handshake::Refused(status, headers, body) => (status, headers, body),
            Handshake::Accepted(..) => panic!("expected a refusal, got 101"),
        }
    }
}

/// Opens a WebSocket to `path` (with its query) with extra request headers.
pub async fn connect(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Handshake {
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    for (name, value) in headers {
        request.headers_mut().append(
            HeaderName::try_from(*name).expect("header name"),
            HeaderValue::try_from(*value).expect("header value"),
        );
    }
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await {
        Err(_) => panic!("handshake to {path} timed out"),
        Ok(Ok((ws, response))) => Handshake::Accepted(Box::new(ws), response.headers().clone()),
        Ok(Err(WsError::Http(response))) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            Handshake::Refused(response.status(), response.headers().clone(), body)
        }
        Ok(Err(error)) => panic!("handshake to {path} failed: {error}"),
    }
}

/// Opens a WebSocket with `Authorization: Token <token>`, expecting 101.
pub async fn connect_with_token(addr: SocketAddr, path: &str, token: &str) -> Ws {
    connect(addr, path, &[("authorization", &format!("Token {token}"))])
        .await
        .accepted()
        .0
}

/// The next message from the server, failing the test after [`WAIT`].
pub async fn next(ws: &mut Ws) -> Message {
    match tokio::time::timeout(WAIT, ws.next()).await {
        Err(_) => panic!("no message within {WAIT:?}"),
        Ok(None) => panic!("the connection ended without a close frame"),
        Ok(Some(Err(error))) => panic!("read failed: {error}"),
        Ok(Some(Ok(message))) => message,
    }
}

/// The next message, which must be a JSON text frame.
pub async fn next_json(ws: &mut Ws) -> Value {
    match next(ws).await {
        Message::Text(text) => serde_json::from_str(&text).expect("a JSON text frame"),
        other => panic!("expected a JSON text frame, got {other:?}"),
    }
}

/// The close frame the server sends next: its code and reason. Answers it
/// at once, as browsers do (tungstenite queues the answer until the next
/// write).
pub async fn next_close(ws: &mut Ws) -> (u16, String) {
    match next(ws).await {
        Message::Close(Some(frame)) => {
            let _ = ws.flush().await;
            (frame.code.into(), frame.reason.as_str().to_owned())
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Sends a JSON text frame.
pub async fn send_json(ws: &mut Ws, value: &Value) {
    ws.send(Message::text(value.to_string()))
        .await
        .expect("send");
}

/// Sends an echo request of the benchmark protocol and returns the reply.
pub async fn echo(ws: &mut Ws, seq: u64, body: &str) -> Value {
    send_json(
        ws,
        &serde_json::json!({ "type": "echo", "seq": seq, "body": body }),
    )
    .await;
    next_json(ws).await
}

/// The state of an app whose consumers use token auth: its hub and tokens.
#[derive(Clone)]
pub struct TokenApp<U> {
    pub hub: Hub,
    pub tokens: Tokens<U>,
}

impl<U: AuthUser> TokenApp<U> {
    /// A fresh hub beside `tokens`.
    pub fn new(tokens: Tokens<U>) -> TokenApp<U> {
        TokenApp {
            hub: Hub::new(),
            tokens,
        }
    }
}

impl<U: Clone> FromRef<TokenApp<U>> for Hub {
    fn from_ref(app: &TokenApp<U>) -> Hub {
        app.hub.clone()
    }
}

impl<U: Clone> FromRef<TokenApp<U>> for Tokens<U> {
    fn from_ref(app: &TokenApp<U>) -> Tokens<U> {
        app.tokens.clone()
    }
}
