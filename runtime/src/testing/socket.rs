//! The client half of an accepted connection.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use axum::http::HeaderMap;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// How long the client's answer to a close frame may take to write.
const CLOSE_REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// An accepted connection, from the client's side.
///
/// Every wait is bounded by the socket's [timeout](TestSocket::set_timeout)
/// (1 s unless set): a test that expects a message that never comes fails
/// with `no message within 1s` instead of hanging. Pings and Pongs are
/// answered and skipped, as a browser does.
///
/// Dropping the socket drops the TCP connection without a close frame, as a
/// crashed client or a lost network would: the consumer's `disconnect`
/// learns `Disconnect::Lost`. [`close`](TestSocket::close) parts cleanly.
///
/// ```
/// # use axum::Router;
/// # use serde::{Deserialize, Serialize};
/// # use sockwarden::prelude::*;
/// # use sockwarden::testing::TestServer;
/// #[derive(Deserialize)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum In { Add { a: i64, b: i64 }, Nothing }
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Sum { sum: i64 }
///
/// #[consumer(path = "/ws/calc")]
/// struct Calc;
///
/// impl Consumer for Calc {
///     type In = In;
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: In) -> Result<(), Error> {
///         match msg {
///             In::Add { a, b } => cx.send(&Sum { sum: a + b }).await,
///             In::Nothing => Ok(()),
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = TestServer::new(Router::new().consumer::<Calc>());
/// let mut socket = server.ws("/ws/calc").connect().await.accepted();
///
/// socket.send_json(&serde_json::json!({ "type": "add", "a": 2, "b": 3 })).await;
/// assert_eq!(socket.recv_json::<Sum>().await, Sum { sum: 5 });
///
/// socket.send_json(&serde_json::json!({ "type": "nothing" })).await;
/// socket.assert_silent(std::time::Duration::from_millis(100)).await;
///
/// socket.send_text("not json").await;
/// let error: serde_json::Value = socket.recv_json().await;
/// assert_eq!(error["type"], "error");
///
/// socket.send_binary(vec![1, 2, 3]).await;
/// assert_eq!(socket.expect_close().await.0, 1003);
/// # }
/// ```
pub struct TestSocket {
    // Boxed: the stream's buffers would make every `Outcome` large.
    ws: Box<WebSocketStream<TcpStream>>,
    protocol: Option<String>,
    headers: HeaderMap,
    /// Messages read while telling an accept from a refusal.
    pending: VecDeque<Received>,
    timeout: Duration,
    /// The server's close, once read.
    closed: Option<(u16, String)>,
}

impl TestSocket {
    pub(super) fn new(
        ws: WebSocketStream<TcpStream>,
        protocol: Option<String>,
        headers: HeaderMap,
        pending: Vec<Received>,
        timeout: Duration,
    ) -> TestSocket {
        TestSocket {
            ws: Box::new(ws),
            protocol,
            headers,
            pending: pending.into(),
            timeout,
            closed: None,
        }
    }

    /// The subprotocol the 101 selected, if any.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/v", protocols = ["chat.v1", "chat.v2"])]
    /// # struct Versioned;
    /// # impl Consumer for Versioned {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Versioned>());
    /// let socket = server.ws("/ws/v").protocols(["chat.v2"]).connect().await.accepted();
    /// assert_eq!(socket.protocol(), Some("chat.v2"));
    /// # }
    /// ```
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The header fields of the 101 response.
    ///
    /// ```
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
    /// let socket = server.ws("/ws/echo").connect().await.accepted();
    /// assert_eq!(socket.headers()["upgrade"], "websocket");
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// How long a wait may take.
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
    /// let socket = server.ws("/ws/echo").connect().await.accepted();
    /// assert_eq!(socket.timeout(), Duration::from_secs(1));
    /// # }
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets how long each wait may take: a receive, a send, the answer to
    /// a close.
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
    /// let mut socket = server.ws("/ws/echo").connect().await.accepted();
    /// socket.set_timeout(Duration::from_secs(5));
    /// assert_eq!(socket.timeout(), Duration::from_secs(5));
    /// # }
    /// ```
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Sends `msg` as a JSON text message.
    ///
    /// # Panics
    ///
    /// When `msg` does not serialize, the server already closed, or the
    /// send fails or does not complete within the timeout.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/echo")]
    /// # struct Echo;
    /// # impl Consumer for Echo {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> { cx.send(&msg).await }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Echo>());
    /// let mut socket = server.ws("/ws/echo").connect().await.accepted();
    /// socket.send_json(&[1, 2, 3]).await;
    /// assert_eq!(socket.recv_json::<Vec<u8>>().await, [1, 2, 3]);
    /// # }
    /// ```
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, msg: &T) {
        let text = serde_json::to_string(msg)
            .unwrap_or_else(|error| panic!("the message does not serialize to JSON: {error}"));
        self.send(Message::text(text)).await;
    }

    /// Sends a text message as it is.
    ///
    /// # Panics
    ///
    /// As [`send_json`](TestSocket::send_json).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::{Received, TestServer};
    /// #[consumer(path = "/ws/raw")]
    /// struct Raw;
    ///
    /// impl Consumer for Raw {
    ///     type In = sockwarden::Frame;
    ///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: sockwarden::Frame) -> Result<(), Error> {
    ///         match msg {
    ///             sockwarden::Frame::Text(text) => cx.send_text(text).await,
    ///             sockwarden::Frame::Binary(bytes) => cx.send_binary(bytes).await,
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Raw>());
    /// let mut socket = server.ws("/ws/raw").connect().await.accepted();
    /// socket.send_text("plain words").await;
    /// assert_eq!(socket.recv().await, Received::Text("plain words".into()));
    /// # }
    /// ```
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.send(Message::text(text.into())).await;
    }

    /// Sends a binary message.
    ///
    /// # Panics
    ///
    /// As [`send_json`](TestSocket::send_json).
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::{Received, TestServer};
    /// # #[consumer(path = "/ws/raw")]
    /// # struct Raw;
    /// # impl Consumer for Raw {
    /// #     type In = sockwarden::Frame;
    /// #     async fn receive(&mut self, cx: &mut Cx<Self>, msg: sockwarden::Frame) -> Result<(), Error> {
    /// #         match msg {
    /// #             sockwarden::Frame::Text(text) => cx.send_text(text).await,
    /// #             sockwarden::Frame::Binary(bytes) => cx.send_binary(bytes).await,
    /// #         }
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Raw>());
    /// let mut socket = server.ws("/ws/raw").connect().await.accepted();
    /// socket.send_binary([0u8, 159, 146, 150]).await;
    /// assert_eq!(socket.recv().await, Received::Binary(vec![0, 159, 146, 150]));
    /// # }
    /// ```
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) {
        self.send(Message::binary(bytes.into())).await;
    }

    async fn send(&mut self, message: Message) {
        if let Some((code, reason)) = &self.closed {
            panic!("cannot send: the server closed the connection with {code} {reason:?}");
        }
        match tokio::time::timeout(self.timeout, self.ws.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("send failed: {error}"),
            Err(_) => panic!("the send did not complete within {:?}", self.timeout),
        }
    }

    /// The next message or close, messages sent before this call first.
    /// After the close, every call returns it again.
    ///
    /// # Panics
    ///
    /// With `no message within 1s` (the timeout) when nothing comes; when
    /// the server breaks the WebSocket protocol.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::{Received, TestServer};
    /// # #[consumer(path = "/ws/echo")]
    /// # struct Echo;
    /// # impl Consumer for Echo {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> { cx.send(&msg).await }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Echo>());
    /// let mut socket = server.ws("/ws/echo").connect().await.accepted();
    /// socket.send_text("[1]").await;
    /// assert_eq!(socket.recv().await, Received::Text("[1]".into()));
    ///
    /// socket.send_binary(vec![1]).await;
    /// match socket.recv().await {
    ///     Received::Closed { code, .. } => assert_eq!(code, 1003),
    ///     other => panic!("{other:?}"),
    /// }
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Received {
        match self.next_within(self.timeout).await {
            Some(received) => received,
            None => panic!("no message within {:?}", self.timeout),
        }
    }

    /// The next message, which must be JSON of type `T`.
    ///
    /// # Panics
    ///
    /// As [`recv`](TestSocket::recv); also when the next message is not a
    /// text message holding JSON of type `T`, or is the close.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/echo")]
    /// # struct Echo;
    /// # impl Consumer for Echo {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> { cx.send(&msg).await }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Echo>());
    /// let mut socket = server.ws("/ws/echo").connect().await.accepted();
    /// socket.send_json(&serde_json::json!({ "body": "hi" })).await;
    /// let reply: serde_json::Value = socket.recv_json().await;
    /// assert_eq!(reply["body"], "hi");
    /// # }
    /// ```
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> T {
        self.recv().await.json()
    }

    /// Waits for the server's close frame and returns its code and reason;
    /// the client answers it, completing the close handshake.
    ///
    /// # Panics
    ///
    /// When a message comes first, or nothing within the timeout.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/once")]
    /// struct Once;
    ///
    /// impl Consumer for Once {
    ///     type In = serde_json::Value;
    ///     async fn receive(&mut self, cx: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
    ///         cx.close(CloseCode::NORMAL, "one message is enough");
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Once>());
    /// let mut socket = server.ws("/ws/once").connect().await.accepted();
    /// socket.send_json(&1).await;
    /// assert_eq!(socket.expect_close().await, (1000, "one message is enough".to_owned()));
    /// # }
    /// ```
    pub async fn expect_close(&mut self) -> (u16, String) {
        match self.next_within(self.timeout).await {
            Some(Received::Closed { code, reason }) => (code, reason),
            Some(other) => panic!("expected a close frame, got {other:?}"),
            None => panic!("no close frame within {:?}", self.timeout),
        }
    }

    /// Asserts that nothing comes for `quiet`: no message and no close.
    /// Pings and Pongs do not count. Passes at once on a connection already
    /// closed (nothing more can come).
    ///
    /// # Panics
    ///
    /// With what came, when something does.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/sink")]
    /// struct Sink;
    ///
    /// impl Consumer for Sink {
    ///     type In = serde_json::Value;
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Sink>());
    /// let mut socket = server.ws("/ws/sink").connect().await.accepted();
    /// socket.send_json(&"anything").await;
    /// socket.assert_silent(Duration::from_millis(100)).await;
    /// # }
    /// ```
    pub async fn assert_silent(&mut self, quiet: Duration) {
        if self.pending.is_empty() && self.closed.is_some() {
            return;
        }
        if let Some(received) = self.next_within(quiet).await {
            panic!("expected nothing for {quiet:?}, got {received:?}");
        }
    }

    /// Closes the connection with `code` and `reason`, and waits for the
    /// server's answer to complete the close handshake; returns the code and
    /// reason of that answer. Messages the server sent before it read the
    /// close are skipped.
    ///
    /// # Panics
    ///
    /// When the server already closed, or does not answer within the
    /// timeout.
    ///
    /// ```
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
    /// let mut socket = server.ws("/ws/echo").connect().await.accepted();
    /// let (code, _reason) = socket.close(4000, "done here").await;
    /// assert_eq!(code, 4000, "the server echoes the code");
    /// # }
    /// ```
    pub async fn close(&mut self, code: u16, reason: &str) -> (u16, String) {
        if let Some((code, reason)) = &self.closed {
            panic!("cannot close: the server already closed the connection with {code} {reason:?}");
        }
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        let deadline = Instant::now() + self.timeout;
        // The stream's own `close` (with a frame), not `SinkExt::close` on the box.
        let closing = WebSocketStream::close(&mut self.ws, Some(frame));
        match tokio::time::timeout_at(deadline, closing).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) if is_lost(&error) => {}
            Ok(Err(error)) => panic!("sending the close frame failed: {error}"),
            Err(_) => panic!(
                "the close frame could not be sent within {:?}",
                self.timeout
            ),
        }
        self.pending.clear();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(Received::Closed { code, reason }) => return (code, reason),
                Some(_) => {}
                None => panic!(
                    "the server did not answer the close within {:?}",
                    self.timeout
                ),
            }
        }
    }

    /// The next message or close within `limit`; `None` when nothing came.
    async fn next_within(&mut self, limit: Duration) -> Option<Received> {
        if let Some(received) = self.pending.pop_front() {
            return Some(received);
        }
        if let Some((code, reason)) = &self.closed {
            return Some(Received::Closed {
                code: *code,
                reason: reason.clone(),
            });
        }
        let deadline = Instant::now() + limit;
        let (code, reason) = loop {
            let Ok(read) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return None;
            };
            match read {
                Some(Ok(Message::Text(text))) => {
                    return Some(Received::Text(text.as_str().to_owned()));
                }
                Some(Ok(Message::Binary(bytes))) => return Some(Received::Binary(bytes.to_vec())),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    flush_close_reply(&mut self.ws).await;
                    break close_of(frame);
                }
                None => break (1006, String::new()),
                Some(Err(error)) if is_lost(&error) => break (1006, String::new()),
                Some(Err(error)) => panic!("reading from the server failed: {error}"),
            }
        };
        self.closed = Some((code, reason.clone()));
        Some(Received::Closed { code, reason })
    }
}

impl fmt::Debug for TestSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSocket")
            .field("protocol", &self.protocol)
            .field("pending", &self.pending)
            .field("timeout", &self.timeout)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// What the server sent: a message, or the end of the connection.
///
/// ```
/// use sockwarden::testing::Received;
///
/// let text = Received::Text(r#"{"n":1}"#.into());
/// assert_eq!(text.json::<serde_json::Value>()["n"], 1);
/// assert_ne!(text, Received::Closed { code: 1000, reason: String::new() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// The server's close frame: its code (1005 when it had none) and
    /// reason; or 1006 and no reason when the connection dropped without
    /// one, as browsers report it.
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

impl Received {
    /// A text message's JSON, as a `T`.
    ///
    /// # Panics
    ///
    /// When this is not a text message holding JSON of type `T`.
    ///
    /// ```
    /// use sockwarden::testing::Received;
    ///
    /// let numbers: Vec<u32> = Received::Text("[1,2]".into()).json();
    /// assert_eq!(numbers, [1, 2]);
    /// ```
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        let Received::Text(text) = self else {
            panic!("expected a JSON text message, got {self:?}");
        };
        serde_json::from_str(text).unwrap_or_else(|error| {
            panic!(
                "expected a JSON message of type {}, got {text:?}: {error}",
                std::any::type_name::<T>()
            )
        })
    }
}

/// The code and reason of a close frame; 1005 without a code.
pub(super) fn close_of(frame: Option<CloseFrame>) -> (u16, String) {
    frame.map_or((1005, String::new()), |frame| {
        (frame.code.into(), frame.reason.as_str().to_owned())
    })
}

/// Sends the answer tungstenite queued for a close frame just read,
/// best-effort and bounded: the close handshake completes, and the server's
/// `disconnect` learns a clean close.
pub(super) async fn flush_close_reply(ws: &mut WebSocketStream<TcpStream>) {
    let _ = tokio::time::timeout(CLOSE_REPLY_TIMEOUT, ws.flush()).await;
}

/// Whether a read error means only that the connection is gone.
pub(super) fn is_lost(error: &WsError) -> bool {
    matches!(
        error,
        WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Io(_)
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
    )
}
