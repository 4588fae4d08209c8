//! Opening, reading and closing connections as a client of the protocol,
//! with every step that can go wrong turned into a [`Failure`].

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::proto;
use crate::tally::Failure;

/// How long any one operation may take before it counts as a failure: far
/// beyond any latency measured, short enough that a stuck server cannot hold
/// the run.
pub const OP_TIMEOUT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<TcpStream>;

/// How a connection presents its token, if it has one.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    None,
    /// `Authorization: Token <t>`.
    Header(&'a str),
    /// `Sec-WebSocket-Protocol: bearer, <t>`.
    Subprotocol(&'a str),
    /// `?token=<t>`.
    Query(&'a str),
}

/// How a handshake ended.
pub enum Opened {
    /// Upgraded; `protocol` is the subprotocol the 101 selected. Boxed: the
    /// socket is large, and a refusal is only a status.
    Open {
        ws: Box<Ws>,
        protocol: Option<String>,
    },
    /// Answered with this HTTP status instead of 101.
    Refused(u16),
}

/// The client's socket settings: a small read buffer, since thousands of
/// connections are held open at once, and no write buffering (each message
/// is a request waiting for its answer).
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// Opens `path` on the server with `credential`.
pub async fn open(port: u16, path: &str, credential: Credential<'_>) -> Result<Opened, Failure> {
    let url = match credential {
        Credential::Query(token) => format!("ws://127.0.0.1:{port}{path}?token={token}"),
        _ => format!("ws://127.0.0.1:{port}{path}"),
    };
    let mut request = url
        .into_client_request()
        .map_err(|error| Failure::new("request", error))?;
    let header = |value: String| {
        HeaderValue::try_from(value).map_err(|error| Failure::new("request", error))
    };
    match credential {
        Credential::Header(token) => {
            let value = header(format!("Token {token}"))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Credential::Subprotocol(token) => {
            let value = header(format!("bearer, {token}"))?;
            request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        Credential::None | Credential::Query(_) => {}
    }
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|error| Failure::new("connect", error))?;
    // Requests and answers are single small writes; Nagle would only delay them.
    stream
        .set_nodelay(true)
        .map_err(|error| Failure::new("connect", error))?;
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config())).await {
        Ok((ws, response)) => {
            let protocol = response
                .headers()
                .get(SEC_WEBSOCKET_PROTOCOL)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            Ok(Opened::Open {
                ws: Box::new(ws),
                protocol,
            })
        }
        Err(WsError::Http(response)) => Ok(Opened::Refused(response.status().as_u16())),
        Err(error) => Err(Failure::new("handshake", error)),
    }
}

/// Opens `path` with a credential the server must accept.
pub async fn open_accepted(
    port: u16,
    path: &str,
    credential: Credential<'_>,
) -> Result<Ws, Failure> {
    match open(port, path, credential).await? {
        Opened::Open { ws, .. } => Ok(*ws),
        Opened::Refused(status) => Err(Failure::new(
            "refused",
            format!("a valid token was refused on {path} with HTTP {status}"),
        )),
    }
}

/// Runs `op` within [`OP_TIMEOUT`].
pub async fn within<T>(op: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::time::timeout(OP_TIMEOUT, op)
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                "timeout",
                format!("no answer within {OP_TIMEOUT:?}"),
            ))
        })
}

pub async fn send_text(ws: &mut Ws, text: String) -> Result<(), Failure> {
    ws.send(Message::text(text))
        .await
        .map_err(|error| Failure::new("send", error))
}

/// The next text message. Pings and pongs are skipped (tungstenite answers
/// pings itself); a close, a binary message or the end of the connection is
/// a failure.
pub async fn next_text(ws: &mut Ws) -> Result<Utf8Bytes, Failure> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.to_string())
                });
                return Err(Failure::new(
                    "closed",
                    format!("server closed with {code} {reason:?}"),
                ));
            }
            Some(Ok(other)) => {
                return Err(Failure::new("reply", format!("unexpected {other:?}")));
            }
            Some(Err(error)) => return Err(Failure::new("read", error)),
            None => return Err(Failure::new("closed", "the connection ended")),
        }
    }
}

/// Closes with 1000 and waits for the server's close frame and then the end
/// of the connection, as RFC 6455 has it (the server closes TCP first).
pub async fn close(ws: &mut Ws) -> Result<(), Failure> {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: Utf8Bytes::from_static(""),
    };
    ws.close(Some(frame))
        .await
        .map_err(|error| Failure::new("close", error))?;
    let mut answered = false;
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(_))) => answered = true,
            // Messages already in flight when we closed (room deliveries).
            Some(Ok(_)) => {}
            None | Some(Err(WsError::ConnectionClosed)) if answered => return Ok(()),
            None => return Err(Failure::new("close", "no close frame before the end")),
            Some(Err(error)) => return Err(Failure::new("close", error)),
        }
    }
}

/// Expects the refusal of an upgraded connection: at most one error frame,
/// then a close with 4401 or 4403. Returns the close code.
pub async fn expect_refusal_close(ws: &mut Ws) -> Result<u16, Failure> {
    let mut error_frames = 0;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if error_frames == 0 => {
                proto::check_error(&text).map_err(|_| {
                    Failure::new(
                        "not refused",
                        format!("a refused client got {}", proto::clip(&text)),
                    )
                })?;
                error_frames += 1;
            }
            Some(Ok(Message::Close(Some(frame))))
                if matches!(u16::from(frame.code), 4401 | 4403) =>
            {
                return Ok(u16::from(frame.code));
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(Failure::new(
                    "close code",
                    format!(
                        "refusal closed with {:?}, not 4401/4403",
                        frame.map(|f| f.code)
                    ),
                ));
            }
            Some(Ok(other)) => {
                return Err(Failure::new(
                    "not refused",
                    format!("a refused client got {other:?}"),
                ));
            }
            Some(Err(error)) => return Err(Failure::new("read", error)),
            None => {
                return Err(Failure::new(
                    "close code",
                    "refusal ended the connection without a close frame",
                ));
            }
        }
    }
}

/// Opens `path` with a credential the server must refuse, and checks the
/// refusal: HTTP 401/403 before the upgrade, or 4401/4403 right after it.
pub async fn expect_refused(
    port: u16,
    path: &str,
    credential: Credential<'_>,
) -> Result<(), Failure> {
    match open(port, path, credential).await? {
        Opened::Refused(401 | 403) => Ok(()),
        Opened::Refused(status) => Err(Failure::new(
            "refusal status",
            format!("refused with HTTP {status}, not 401/403"),
        )),
        Opened::Open { mut ws, .. } => {
            expect_refusal_close(&mut ws).await?;
            // The close handshake completes on our side (the socket's own
            // `close`, not `SinkExt::close` on the box); a refusal that
            // leaves it half done is not our concern here.
            let _ = (*ws).close(None).await;
            Ok(())
        }
    }
}
