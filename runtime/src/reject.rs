//! One taxonomy of refusals and closes, delivered as an HTTP status before
//! the upgrade or as a close code after it.

use std::borrow::Cow;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Carrier;

/// Why a connection is refused or closed: each kind has one HTTP status and
/// one close code, so both rejection modes tell the client the same thing.
///
/// | kind | HTTP | close |
/// | --- | --- | --- |
/// | `BadRequest` | 400 | 4400 |
/// | `NotAuthenticated` | 401 | 4401 |
/// | `Forbidden` | 403 | 4403 |
/// | `NotFound` | 404 | 4404 |
/// | `CredentialExpired` | 401 | 4408 |
/// | `TooMany` | 429 | 4429 |
/// | `Policy` | 403 | 1008 |
/// | `ServerError` | 500 | 1011 |
/// | `Unavailable` | 503 | 1013 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectKind {
    /// The request was malformed (a path parameter that does not parse…).
    BadRequest,
    /// No credential, or one that is invalid: log in again.
    NotAuthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// Nothing to connect to.
    NotFound,
    /// The credential was valid once and has expired.
    CredentialExpired,
    /// Too many connections or messages.
    TooMany,
    /// A policy was violated (origin, rate…).
    Policy,
    /// The server failed.
    ServerError,
    /// The server cannot decide now (a store timed out): try again later.
    Unavailable,
}

impl RejectKind {
    /// The HTTP status a refused handshake answers with.
    pub const fn status(self) -> StatusCode {
        match self {
            RejectKind::BadRequest => StatusCode::BAD_REQUEST,
            RejectKind::NotAuthenticated | RejectKind::CredentialExpired => {
                StatusCode::UNAUTHORIZED
            }
            RejectKind::Forbidden | RejectKind::Policy => StatusCode::FORBIDDEN,
            RejectKind::NotFound => StatusCode::NOT_FOUND,
            RejectKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            RejectKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            RejectKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The close code a refused or closed connection gets.
    pub const fn close_code(self) -> u16 {
        match self {
            RejectKind::BadRequest => 4400,
            RejectKind::NotAuthenticated => 4401,
            RejectKind::Forbidden => 4403,
            RejectKind::NotFound => 4404,
            RejectKind::CredentialExpired => 4408,
            RejectKind::TooMany => 4429,
            RejectKind::Policy => 1008,
            RejectKind::ServerError => 1011,
            RejectKind::Unavailable => 1013,
        }
    }

    /// The machine-readable name in error bodies and frames.
    pub const fn name(self) -> &'static str {
        match self {
            RejectKind::BadRequest => "bad_request",
            RejectKind::NotAuthenticated => "not_authenticated",
            RejectKind::Forbidden => "forbidden",
            RejectKind::NotFound => "not_found",
            RejectKind::CredentialExpired => "credential_expired",
            RejectKind::TooMany => "too_many",
            RejectKind::Policy => "policy_violation",
            RejectKind::ServerError => "server_error",
            RejectKind::Unavailable => "try_again_later",
        }
    }
}

/// A refused handshake: a kind and a human-readable reason.
///
/// Returned by [`Consumer::connect`](crate::Consumer::connect) through
/// [`Connect::Reject`](crate::Connect::Reject), and by the runtime when auth
/// or scope extraction fails. The consumer's `reject` mode decides whether the
/// client gets the HTTP status or the close code; the reason travels in both.
///
/// ```
/// use sockwarden::{RejectKind, Rejection};
///
/// let no = Rejection::forbidden("this room is private");
/// assert_eq!(no.kind(), RejectKind::Forbidden);
/// assert_eq!(no.kind().status(), 403);
/// assert_eq!(no.kind().close_code(), 4403);
/// assert_eq!(no.reason(), "this room is private");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectKind,
    reason: Cow<'static, str>,
    challenge: Option<&'static str>,
    carrier: Option<Carrier>,
}

impl Rejection {
    /// A rejection of any kind.
    pub fn new(kind: RejectKind, reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection {
            kind,
            reason: reason.into(),
            challenge: None,
            carrier: None,
        }
    }

    /// 400 / 4400.
    pub fn bad_request(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::BadRequest, reason)
    }

    /// 401 / 4401.
    pub fn not_authenticated(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::NotAuthenticated, reason)
    }

    /// 401 / 4408: the credential was valid once and has expired.
    pub fn credential_expired(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::CredentialExpired, reason)
    }

    /// 403 / 4403.
    pub fn forbidden(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::Forbidden, reason)
    }

    /// 500 / 1011.
    pub fn server_error(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::ServerError, reason)
    }

    /// 503 / 1013.
    pub fn unavailable(reason: impl Into<Cow<'static, str>>) -> Rejection {
        Rejection::new(RejectKind::Unavailable, reason)
    }

    /// Adds a `WWW-Authenticate` challenge to the HTTP form of a 401.
    pub fn with_challenge(mut self, challenge: &'static str) -> Rejection {
        self.challenge = Some(challenge);
        self
    }

    /// The kind.
    pub fn kind(&self) -> RejectKind {
        self.kind
    }

    /// The human-readable reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The reason as a close frame may carry it: at most 123 bytes, cut on a
    /// character boundary (a close frame's payload is at most 125 bytes).
    pub fn close_reason(&self) -> &str {
        truncate_reason(&self.reason)
    }

    /// The JSON error frame sent before the close in `reject = "close"` mode:
    /// `{"type":"error","error":"not_authenticated","reason":"…","code":4401}`.
    pub fn to_frame(&self) -> String {
        let frame = RejectionFrame {
            r#type: "error",
            error: self.kind.name(),
            reason: &self.reason,
            code: Some(self.kind.close_code()),
        };
        serde_json::to_string(&frame).unwrap_or_default()
    }

    /// Where the refused credential came from, for the log line.
    pub(crate) fn carrier(&self) -> Option<Carrier> {
        self.carrier
    }

    pub(crate) fn with_carrier(mut self, carrier: Carrier) -> Rejection {
        self.carrier = Some(carrier);
        self
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.reason)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = RejectionFrame {
            r#type: "error",
            error: self.kind.name(),
            reason: &self.reason,
            code: None,
        };
        let mut response = (self.kind.status(), axum::Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// A refusal as JSON, `type` first: the body of an HTTP refusal, or the
/// frame before the close.
#[derive(serde::Serialize)]
struct RejectionFrame<'a> {
    r#type: &'static str,
    error: &'static str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
}

/// Cuts a close reason to the 123 bytes a close frame can carry.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    const MAX: usize = 123;
    if reason.len() <= MAX {
        return reason;
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reason_is_cut_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= 123);
        assert_eq!(cut.len() % 2, 0);
        assert_eq!(truncate_reason("short"), "short");
    }

    #[test]
    fn frame_names_kind_code_and_reason() {
        let frame: serde_json::Value =
            serde_json::from_str(&Rejection::not_authenticated("no token").to_frame()).unwrap();
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["error"], "not_authenticated");
        assert_eq!(frame["code"], 4401);
        assert_eq!(frame["reason"], "no token");
    }

    #[test]
    fn http_form_has_status_body_and_challenge() {
        let response = Rejection::not_authenticated("no token")
            .with_challenge("Bearer")
            .into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
