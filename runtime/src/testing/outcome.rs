//! What a handshake came to: accepted, refused by status, closed after
//! the upgrade, or failed.

use std::fmt;

use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::socket::{Received, TestSocket};

/// What a handshake came to.
///
/// Each variant is what a real client sees on the wire: the 101 and its
/// subprotocol, the HTTP status and body of a refusal before the upgrade,
/// or the frames and close code of a refusal after it.
///
/// ```
/// # use axum::Router;
/// # use sockwarden::prelude::*;
/// # use sockwarden::{Tokens, store::MemoryTokenStore};
/// # use sockwarden::testing::{Outcome, TestServer};
/// # #[derive(Clone)]
/// # struct User { name: String }
/// # impl AuthUser for User { type Id = String; fn id(&self) -> String { self.name.clone() } }
/// #[consumer(path = "/ws/http", auth = "token")]
/// #[requires_auth]
/// struct ByStatus { #[user] user: User }
///
/// #[consumer(path = "/ws/close", auth = "token", reject = "close")]
/// #[requires_auth]
/// struct ByClose { #[user] user: User }
/// # impl Consumer for ByStatus {
/// #     type In = serde_json::Value;
/// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
/// # }
/// # impl Consumer for ByClose {
/// #     type In = serde_json::Value;
/// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = Router::new()
///     .consumer::<ByStatus>()
///     .consumer::<ByClose>()
///     .with_state(Tokens::new(MemoryTokenStore::<User>::new()));
/// let server = TestServer::new(app);
///
/// let outcome = server.ws("/ws/http").connect().await;
/// assert!(matches!(&outcome, Outcome::Rejected(refused) if refused.status == 401));
///
/// let closed = server.ws("/ws/close").connect().await.closed();
/// assert_eq!(closed.code, 4401);
/// assert_eq!(closed.error_frame()["error"], "not_authenticated");
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// 101, and the consumer accepted: the socket.
    Accepted(TestSocket),
    /// Refused before the upgrade (`reject = "http"`, an unknown path, not
    /// a valid upgrade…): the HTTP response.
    Rejected(Rejected),
    /// 101, then closed before the connection was usable: a refusal by
    /// close frame (`reject = "close"`), with the frames sent before it.
    Closed(Closed),
    /// The client had to fail the connection: no answer in time, the TCP
    /// connection dropped without a response, or a 101 that RFC 6455 §4.1
    /// (or a browser) refuses, such as one selecting no subprotocol when
    /// some were offered. The message says which.
    Failed(String),
}

impl Outcome {
    /// The socket of an accepted connection.
    ///
    /// # Panics
    ///
    /// With what happened instead, when the connection was not accepted.
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
    /// # let _ = socket;
    /// # }
    /// ```
    #[track_caller]
    pub fn accepted(self) -> TestSocket {
        match self {
            Outcome::Accepted(socket) => socket,
            other => panic!("expected the connection to be accepted, but {other}"),
        }
    }

    /// The HTTP response of a connection refused before the upgrade.
    ///
    /// # Panics
    ///
    /// With what happened instead, when the connection was not refused so.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::testing::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new());
    /// assert_eq!(server.ws("/ws/nowhere").connect().await.rejected().status, 404);
    /// # }
    /// ```
    #[track_caller]
    pub fn rejected(self) -> Rejected {
        match self {
            Outcome::Rejected(rejected) => rejected,
            other => {
                panic!("expected the connection to be refused before the upgrade, but {other}")
            }
        }
    }

    /// The close of a connection refused after the upgrade.
    ///
    /// # Panics
    ///
    /// With what happened instead, when the connection was not closed so.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// #[consumer(path = "/ws/full", reject = "close")]
    /// struct Full;
    ///
    /// impl Consumer for Full {
    ///     type In = serde_json::Value;
    ///     async fn connect(&mut self, _: &mut Cx<Self>) -> Connect {
    ///         Connect::Reject(Rejection::unavailable("the room is full"))
    ///     }
    ///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = TestServer::new(Router::new().consumer::<Full>());
    /// let closed = server.ws("/ws/full").connect().await.closed();
    /// assert_eq!((closed.code, closed.reason.as_str()), (1013, "the room is full"));
    /// # }
    /// ```
    #[track_caller]
    pub fn closed(self) -> Closed {
        match self {
            Outcome::Closed(closed) => closed,
            other => panic!("expected the connection to be closed after the upgrade, but {other}"),
        }
    }

    /// Why the client failed the connection.
    ///
    /// # Panics
    ///
    /// With what happened instead, when the connection did not fail.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/plain")]
    /// # struct Plain;
    /// # impl Consumer for Plain {
    /// #     type In = serde_json::Value;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<Plain>());
    /// // `Plain` declares no subprotocol: the 101 selects none.
    /// let why = server.ws("/ws/plain").protocols(["chat.v1"]).connect().await.failed();
    /// assert!(why.contains("selected none"), "{why}");
    /// # }
    /// ```
    #[track_caller]
    pub fn failed(self) -> String {
        match self {
            Outcome::Failed(why) => why,
            other => panic!("expected the client to fail the connection, but {other}"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Accepted(socket) => match socket.protocol() {
                Some(protocol) => write!(f, "it was accepted (101, subprotocol {protocol:?})"),
                None => write!(f, "it was accepted (101)"),
            },
            Outcome::Rejected(rejected) => write!(
                f,
                "it was refused before the upgrade with {}: {}",
                rejected.status, rejected.body
            ),
            Outcome::Closed(closed) => {
                write!(
                    f,
                    "it was upgraded, then closed with {} {:?}",
                    closed.code, closed.reason
                )?;
                if !closed.frames.is_empty() {
                    write!(f, " after the frames {:?}", closed.frames)?;
                }
                Ok(())
            }
            Outcome::Failed(why) => write!(f, "the client failed the connection: {why}"),
        }
    }
}

/// A handshake refused before the upgrade: the HTTP response.
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
/// # let store = MemoryTokenStore::<User>::new();
/// # let server = TestServer::new(Router::new().consumer::<Me>().with_state(Tokens::new(store)));
/// let refused = server.ws("/ws/me").connect().await.rejected();
/// assert_eq!(refused.status, 401);
/// assert!(refused.headers.contains_key("www-authenticate"));
/// assert_eq!(refused.json::<serde_json::Value>()["error"], "not_authenticated");
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rejected {
    /// The status: 401, 403, 404…
    pub status: StatusCode,
    /// The response's header fields.
    pub headers: HeaderMap,
    /// The body, read in full, as UTF-8 (invalid sequences replaced).
    pub body: String,
}

impl Rejected {
    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON of type `T`.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/no")]
    /// # struct No;
    /// # impl Consumer for No {
    /// #     type In = serde_json::Value;
    /// #     async fn connect(&mut self, _: &mut Cx<Self>) -> Connect { Connect::Reject(Rejection::forbidden("no")) }
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<No>());
    /// let body: serde_json::Value = server.ws("/ws/no").connect().await.rejected().json();
    /// assert_eq!(body, serde_json::json!({ "type": "error", "error": "forbidden", "reason": "no" }));
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

/// A connection upgraded and then closed before it was usable: what a
/// `reject = "close"` consumer's refusal looks like to a browser.
///
/// ```
/// # use axum::Router;
/// # use sockwarden::prelude::*;
/// # use sockwarden::testing::{Received, TestServer};
/// #[consumer(path = "/ws/private", reject = "close")]
/// struct Private;
///
/// impl Consumer for Private {
///     type In = serde_json::Value;
///     async fn connect(&mut self, _: &mut Cx<Self>) -> Connect {
///         Connect::Reject(Rejection::forbidden("this room is private"))
///     }
///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = TestServer::new(Router::new().consumer::<Private>());
/// let closed = server.ws("/ws/private").connect().await.closed();
/// assert_eq!(closed.code, 4403);
/// assert_eq!(closed.reason, "this room is private");
/// assert_eq!(closed.frames.len(), 1);
/// assert_eq!(closed.error_frame()["code"], 4403);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closed {
    /// The close code: 4401, 4403, 1013…; 1005 for a close frame without
    /// one, 1006 when the connection dropped without a close frame.
    pub code: u16,
    /// The close reason.
    pub reason: String,
    /// The messages that came before the close, in order: for a refusal,
    /// the JSON error frame.
    pub frames: Vec<Received>,
    /// The subprotocol the 101 selected (the token marker, when the token
    /// came that way).
    pub protocol: Option<String>,
}

impl Closed {
    /// A connection that dropped without a close frame: 1006.
    pub(super) fn lost(frames: Vec<Received>, protocol: Option<String>) -> Closed {
        Closed {
            code: 1006,
            reason: String::new(),
            frames,
            protocol,
        }
    }

    /// The JSON error frame sent before the close:
    /// `{"type":"error","error":"forbidden","reason":"…","code":4403}`.
    ///
    /// # Panics
    ///
    /// When no frame came before the close, or the first is not JSON.
    ///
    /// ```
    /// # use axum::Router;
    /// # use sockwarden::prelude::*;
    /// # use sockwarden::testing::TestServer;
    /// # #[consumer(path = "/ws/no", reject = "close")]
    /// # struct No;
    /// # impl Consumer for No {
    /// #     type In = serde_json::Value;
    /// #     async fn connect(&mut self, _: &mut Cx<Self>) -> Connect { Connect::Reject(Rejection::forbidden("no")) }
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let server = TestServer::new(Router::new().consumer::<No>());
    /// let closed = server.ws("/ws/no").connect().await.closed();
    /// assert_eq!(
    ///     closed.error_frame(),
    ///     serde_json::json!({ "type": "error", "error": "forbidden", "reason": "no", "code": 4403 })
    /// );
    /// # }
    /// ```
    #[track_caller]
    pub fn error_frame(&self) -> serde_json::Value {
        match self.frames.first() {
            Some(frame) => frame.json(),
            None => panic!(
                "no frame came before the close ({} {:?})",
                self.code, self.reason
            ),
        }
    }
}
