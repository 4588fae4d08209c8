//! The WebSocket opening handshake (RFC 6455 §4.2) on an axum request.

use axum::http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Why a request is not a WebSocket upgrade we can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotAnUpgrade {
    Method,
    Headers,
    Version,
    Key,
}

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        match self {
            NotAnUpgrade::Method => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            NotAnUpgrade::Headers => (
                StatusCode::UPGRADE_REQUIRED,
                [(UPGRADE, "websocket")],
                "expected a WebSocket upgrade",
            )
                .into_response(),
            NotAnUpgrade::Version => (
                StatusCode::UPGRADE_REQUIRED,
                [(SEC_WEBSOCKET_VERSION, "13")],
                "unsupported WebSocket version",
            )
                .into_response(),
            NotAnUpgrade::Key => (
                StatusCode::BAD_REQUEST,
                "missing or invalid Sec-WebSocket-Key",
            )
                .into_response(),
        }
    }
}

/// Checks that a request asks for a WebSocket upgrade, and returns the
/// `Sec-WebSocket-Accept` value for it.
pub(crate) fn accept_key(request: &Parts) -> Result<HeaderValue, NotAnUpgrade> {
    upgrade_key(request).map(accept)
}

/// The `Sec-WebSocket-Accept` value for a key [`upgrade_key`] returned.
pub(crate) fn accept(key: &HeaderValue) -> HeaderValue {
    // A base64 digest is always a valid header value.
    HeaderValue::try_from(derive_accept_key(key.as_bytes()))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Checks that a request asks for a WebSocket upgrade, and returns its
/// `Sec-WebSocket-Key`. Done before auth, so that a request that is not an
/// upgrade costs no store lookup; the accept value is derived only for a
/// handshake that will be answered with 101.
pub(crate) fn upgrade_key(request: &Parts) -> Result<&HeaderValue, NotAnUpgrade> {
    if request.method != Method::GET {
        return Err(NotAnUpgrade::Method);
    }
    let has_token = |name, token: &str| {
        request
            .headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(CONNECTION, "upgrade") || !has_token(UPGRADE, "websocket") {
        return Err(NotAnUpgrade::Headers);
    }
    if request
        .headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(NotAnUpgrade::Version);
    }
    request
        .headers
        .get(SEC_WEBSOCKET_KEY)
        .filter(|key| is_valid_key(key.as_bytes()))
        .ok_or(NotAnUpgrade::Key)
}

/// RFC 6455 §4.2.1: the key is 16 bytes in base64, that is 22 characters of
/// the base64 alphabet and `==`; a server must refuse any other with 400.
fn is_valid_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The 101 answer, selecting `protocol` when the client offered it.
pub(crate) fn switching_protocols(accept: HeaderValue, protocol: Option<&'static str>) -> Response {
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    if let Some(protocol) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().method(method).uri("/ws");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const UPGRADE_HEADERS: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_valid_upgrade_gets_the_rfc_accept_key() {
        let accept = accept_key(&parts("GET", &UPGRADE_HEADERS)).unwrap();
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn non_upgrades_are_refused_before_auth() {
        let status = |method, skip: usize| {
            let headers: Vec<_> = UPGRADE_HEADERS
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, h)| *h)
                .collect();
            accept_key(&parts(method, &headers))
                .unwrap_err()
                .into_response()
                .status()
        };
        assert_eq!(status("POST", 9), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(status("GET", 0), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(status("GET", 1), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(status("GET", 2), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(status("GET", 3), StatusCode::BAD_REQUEST);
    }
}
