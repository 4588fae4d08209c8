//! Entry points for the fuzz targets under `fuzz/`: thin public wrappers
//! over the crate's parsers of untrusted input. Not part of the API.
//!
//! Each wrapper takes input as a client could send it, builds from it what
//! hyper or tungstenite would hand the runtime (leaving out what they would
//! refuse before the runtime sees it), and runs the crate's own code on it.
//! No wrapper may panic on any input: the fuzz targets treat a panic as a
//! bug, and the tests below keep every input the fuzzers found.

use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri};
use bytes::Bytes;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::auth::{self, Anonymous, Carrier};
use crate::endpoint::Spec;
use crate::handshake;
use crate::message::{DecodeError, Frame, Inbound};
use crate::reject::Rejection;
use crate::scope::{HandshakeFacts, Scope};

/// How many headers hyper parses by default; a request with more is refused
/// with 431 before the runtime sees it (and `HeaderMap::append` would panic
/// past 32,768).
const MAX_HEADERS: usize = 100;

/// A handshake request as the router's handler receives it.
#[derive(Debug)]
pub struct Handshake {
    parts: Parts,
}

impl Handshake {
    /// Builds the request head hyper would hand on for this method, request
    /// target and headers (in order, repeats kept); `None` for a request
    /// hyper refuses before the runtime sees it (400 or 431): a method, URI,
    /// header name or header value that does not parse, or more than a
    /// hundred headers.
    pub fn new<N, V>(
        method: &[u8],
        uri: &[u8],
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Option<Self>
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = Method::from_bytes(method).ok()?;
        parts.uri = Uri::try_from(uri).ok()?;
        for (count, (name, value)) in headers.into_iter().enumerate() {
            if count == MAX_HEADERS {
                return None;
            }
            parts.headers.append(
                HeaderName::from_bytes(name.as_ref()).ok()?,
                HeaderValue::from_bytes(value.as_ref()).ok()?,
            );
        }
        Some(Handshake { parts })
    }

    /// The token and its carrier, as `auth = "token"` reads them
    /// (`auth/carrier.rs`).
    ///
    /// # Errors
    ///
    /// The refusal of a present but unusable credential.
    pub fn find_token(&self, spec: &Spec) -> Result<Option<(&str, Carrier)>, Rejection> {
        auth::find_token(&self.parts, spec)
    }

    /// The offered subprotocols, in order, as the carrier and the 101's
    /// selection read them.
    pub fn offered_protocols(&self) -> Vec<&str> {
        auth::offered_protocols(&self.parts).collect()
    }

    /// The upgrade checks (`handshake.rs`): the `Sec-WebSocket-Accept`
    /// value, or the HTTP status that refuses the request.
    ///
    /// # Errors
    ///
    /// The status of a request that is not an acceptable upgrade.
    pub fn accept_key(&self) -> Result<HeaderValue, u16> {
        handshake::accept_key(&self.parts).map_err(|refused| {
            axum::response::IntoResponse::into_response(refused)
                .status()
                .as_u16()
        })
    }

    /// The scope a consumer would see, built as the router builds it: its
    /// query string and headers, so cookies, query values and headers are
    /// read by the scope's own parsers (`scope.rs`).
    pub fn into_scope(self) -> Scope<Anonymous> {
        let parts = self.parts;
        Scope::from_facts(HandshakeFacts {
            path: parts.uri.path().into(),
            params: Vec::new(),
            query: parts.uri.query().map(Into::into),
            headers: parts.headers,
            subprotocols: Vec::new(),
            selected_protocol: None,
            peer: None,
        })
    }
}

/// The carrier a refusal names in the handshake's log event (crate-private
/// on [`Rejection`]).
pub fn rejection_carrier(rejection: &Rejection) -> Option<Carrier> {
    rejection.carrier()
}

/// The frame the read loop hands to `Inbound::decode` for a data message:
/// `None` for a text message that is not UTF-8, which tungstenite refuses
/// (close 1007) before the runtime sees it.
pub fn frame(text: bool, payload: &[u8]) -> Option<Frame> {
    let payload = Bytes::copy_from_slice(payload);
    if text {
        Utf8Bytes::try_from(payload)
            .ok()
            .map(|text| Frame::Text(text.into()))
    } else {
        Some(Frame::Binary(payload))
    }
}

/// Decodes a frame for a consumer with `type In = serde_json::Value`.
///
/// # Errors
///
/// As [`Inbound::decode`].
pub fn decode_value(frame: Frame) -> Result<serde_json::Value, DecodeError> {
    serde_json::Value::decode(frame)
}

/// Decodes a frame for a consumer with `type In = Frame` (raw messages).
///
/// # Errors
///
/// As [`Inbound::decode`] (never, for `Frame`).
pub fn decode_frame(frame: Frame) -> Result<Frame, DecodeError> {
    Frame::decode(frame)
}

/// Decodes a frame for a consumer with a typed `In`: [`Typed`].
///
/// # Errors
///
/// As [`Inbound::decode`].
pub fn decode_typed(frame: Frame) -> Result<Typed, DecodeError> {
    Typed::decode(frame)
}

/// A typed message in the shapes consumers use: an internally tagged enum
/// (which serde buffers before it picks the variant), renamed and defaulted
/// fields, numbers, options, sequences, a nested struct and an untagged
/// enum.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Typed {
    /// `{"type":"echo","seq":S,"body":B}`, as the benchmark's `/ws/echo`.
    Echo {
        /// Sequence number.
        seq: i64,
        /// Text.
        body: String,
    },
    /// `{"type":"say",…}` with optional and defaulted fields.
    Say {
        /// The room, renamed on the wire.
        #[serde(rename = "to")]
        room: Box<str>,
        /// Text, if any.
        body: Option<String>,
        /// Labels.
        #[serde(default)]
        tags: Vec<String>,
        /// A float.
        #[serde(default)]
        weight: f64,
    },
    /// A nested struct and an untagged enum.
    Move {
        /// Where to.
        to: Point,
        /// By how much.
        by: Step,
    },
    /// A variant without fields.
    Ping,
}

/// A nested struct of [`Typed::Move`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Across.
    pub x: i32,
    /// Down.
    pub y: u8,
}

/// An untagged enum of [`Typed::Move`].
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// A number.
    Count(u64),
    /// A word.
    Word(char),
    /// A list of points.
    Path(Vec<(i16, i16)>),
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec::new("Fuzz", "/ws").query_token();

    fn handshake(uri: &str, headers: &[(&str, &str)]) -> Handshake {
        Handshake::new(b"GET", uri.as_bytes(), headers.iter().copied()).unwrap()
    }

    #[test]
    fn wrappers_reach_the_parsers() {
        let request = handshake(
            "/ws?token=tok-1&page=2",
            &[
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("sec-websocket-protocol", "chat, v2"),
                ("cookie", "sid=abc; theme=\"dark\""),
            ],
        );
        assert_eq!(
            request.find_token(&SPEC),
            Ok(Some(("tok-1", Carrier::Query)))
        );
        assert_eq!(request.offered_protocols(), ["chat", "v2"]);
        assert_eq!(
            request.accept_key().unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let scope = request.into_scope();
        assert_eq!(scope.cookie("theme"), Some("dark"));
        assert_eq!(scope.query_value("page").as_deref(), Some("2"));
        assert_eq!(scope.query_value("token"), None);
    }

    #[test]
    fn what_hyper_refuses_never_reaches_the_parsers() {
        let ok: [(&[u8], &[u8]); 1] = [(b"Authorization", b"Token a")];
        assert!(Handshake::new(b"G T", b"/ws", ok).is_none());
        assert!(Handshake::new(b"GET", b"/ws?\x00", ok).is_none());
        assert!(Handshake::new(b"GET", b"/ws", [(&b"bad name"[..], &b"x"[..])]).is_none());
        assert!(Handshake::new(b"GET", b"/ws", [(&b"x-ok"[..], &b"bad\nvalue"[..])]).is_none());
        let request = Handshake::new(b"GET", b"/ws", ok).unwrap();
        // Not an upgrade, but the token is read all the same.
        assert_eq!(request.accept_key(), Err(426));
        assert_eq!(request.find_token(&SPEC), Ok(Some(("a", Carrier::Header))));
        let headers = |n| (0..n).map(|n| (format!("x-{n}"), String::new()));
        assert!(Handshake::new(b"GET", b"/", headers(MAX_HEADERS)).is_some());
        assert!(Handshake::new(b"GET", b"/", headers(MAX_HEADERS + 1)).is_none());
    }

    // What the fuzzers found, kept as it came (minimized).

    /// `handshake`: any `Sec-WebSocket-Key` was accepted; RFC 6455 §4.2.1
    /// wants 16 bytes in base64, else 400. The first of two keys decides.
    #[test]
    fn found_an_invalid_key_accepted() {
        let upgrade = |key: &[u8]| {
            let headers: [(&[u8], &[u8]); 5] = [
                (b"connection", b"Upgrade"),
                (b"upgrade", b"websocket"),
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", key),
                (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            ];
            Handshake::new(b"GET", b"/ws", headers)
                .unwrap()
                .accept_key()
        };
        assert_eq!(upgrade(b"dGhlIHNhbXBsZSBc-WebSocket-Version: 06"), Err(400));
        assert_eq!(upgrade(b""), Err(400));
        assert_eq!(upgrade(b"AAAAAAAAAAAAAAAAAAAA"), Err(400)); // 15 bytes
        assert_eq!(upgrade(b"dGhlIHNhbXBsZSBub25jZQ=A"), Err(400));
        assert_eq!(upgrade(b"dGhlIHNhbXBsZSBub25j*Q=="), Err(400));
        assert_eq!(
            upgrade(b"x3JJHMbDL1EzLkh9GBhXDw==").unwrap(),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
        );
    }

    /// `handshake`: a `Sec-WebSocket-Protocol` header with a byte that is not
    /// visible ASCII was skipped whole, so the marker in it went unseen and
    /// the client was anonymous, or authenticated by the query token.
    #[test]
    fn found_a_marker_hidden_by_a_non_ascii_byte() {
        for uri in [&b"/ws"[..], b"/ws?token=tok-0"] {
            let headers = [(
                &b"sec-websocket-protocol"[..],
                &b"chat, bearer, tok-1\xff\xff\xff\xff\xff\xff\xffM"[..],
            )];
            let request = Handshake::new(b"GET", uri, headers).unwrap();
            let refused = request.find_token(&SPEC).unwrap_err();
            assert_eq!(refused.kind(), crate::RejectKind::NotAuthenticated);
            assert_eq!(rejection_carrier(&refused), Some(Carrier::Subprotocol));
        }
        // Such a header without the marker is still no carrier.
        let headers = [(&b"sec-websocket-protocol"[..], &b"ch\xe4t"[..])];
        let request = Handshake::new(b"GET", b"/ws?token=tok-0", headers).unwrap();
        assert_eq!(
            request.find_token(&SPEC),
            Ok(Some(("tok-0", Carrier::Query)))
        );
    }

    /// `scope`: one cookie with bytes that are not visible ASCII hid every
    /// other cookie of its `Cookie` header.
    #[test]
    fn found_a_cookie_hidden_by_its_neighbour() {
        let headers = [(
            &b"cookie"[..],
            &b"sid=\"abc\"; theme=dar\x95\xf2\xf5\xbc\x90\x90\x94\x97e: n=7"[..],
        )];
        let scope = Handshake::new(b"GET", b"/ws", headers)
            .unwrap()
            .into_scope();
        assert_eq!(scope.cookie("sid"), Some("abc"));
        // UTF-8 values are read too; other bytes only hide their own cookie.
        let headers = [(&b"cookie"[..], &b"name=Jos\xc3\xa9; l1=Jos\xe9; n=7"[..])];
        let scope = Handshake::new(b"GET", b"/ws", headers)
            .unwrap()
            .into_scope();
        assert_eq!(scope.cookie("name"), Some("José"));
        assert_eq!(scope.cookie("l1"), None);
        assert_eq!(scope.cookie("n"), Some("7"));
    }

    /// A false alarm of the `handshake` oracle, kept because the runtime got
    /// it right: a `?` in the fragment starts no query.
    #[test]
    fn a_query_in_the_fragment_is_no_query() {
        let request = handshake("/#ws?token=tok-0", &[]);
        assert_eq!(request.find_token(&SPEC), Ok(None));
    }

    #[test]
    fn frames_are_built_and_decoded_as_the_read_loop_does() {
        assert_eq!(frame(true, b"\xff"), None);
        let echo = frame(true, br#"{"type":"echo","seq":1,"body":"hi"}"#).unwrap();
        assert!(matches!(
            decode_typed(echo.clone()),
            Ok(Typed::Echo { seq: 1, .. })
        ));
        assert!(decode_value(echo.clone()).is_ok());
        assert_eq!(decode_frame(echo.clone()), Ok(echo));
        let binary = frame(false, b"\xff").unwrap();
        assert_eq!(decode_value(binary).unwrap_err(), DecodeError::Unsupported);
        // serde_json's recursion limit turns deep nesting into an error, not
        // a stack overflow, for buffered (tagged, untagged) types too.
        let deep = "[".repeat(100_000);
        assert!(decode_value(frame(true, deep.as_bytes()).unwrap()).is_err());
        let deep = format!(r#"{{"type":"move","to":{{"x":1,"y":2}},"by":{deep}"#);
        assert!(decode_typed(frame(true, deep.as_bytes()).unwrap()).is_err());
    }
}
