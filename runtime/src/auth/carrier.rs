//! Where a token travels on the handshake, and reading it from there.

use std::fmt;

use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::request::Parts;

use crate::endpoint::Spec;
use crate::reject::Rejection;

/// The query parameter of the query-string carrier.
pub(crate) const QUERY_TOKEN: &str = "token";

/// Where a credential came from. Logged with every accept; the credential
/// itself never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Carrier {
    /// `Authorization: Token <t>` or `Bearer <t>`.
    Header,
    /// `Sec-WebSocket-Protocol: <marker>, <t>`.
    Subprotocol,
    /// `?token=<t>`.
    Query,
    /// A session cookie.
    Cookie,
}

impl Carrier {
    /// The carrier's name in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Carrier::Header => "header",
            Carrier::Subprotocol => "subprotocol",
            Carrier::Query => "query",
            Carrier::Cookie => "cookie",
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A refusal of a credential that is present but unusable. Its reason never
/// quotes the credential.
fn malformed(carrier: Carrier, what: &'static str) -> Rejection {
    Rejection::not_authenticated(format!("{what} in the {carrier} carrier"))
        .with_challenge(r#"Bearer realm="websocket", error="invalid_token""#)
        .with_carrier(carrier)
}

/// Finds the token, in precedence order. The first carrier that is present
/// decides: a malformed credential there is refused, never skipped in favour
/// of a later carrier.
pub(crate) fn find_token<'r>(
    request: &'r Parts,
    spec: &Spec,
) -> Result<Option<(&'r str, Carrier)>, Rejection> {
    let max = spec.limits.max_credential_len;
    let checked = |token: &'r str, carrier| {
        if token.is_empty() {
            Err(malformed(carrier, "empty token"))
        } else if token.len() > max {
            Err(malformed(carrier, "oversized token"))
        } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
            Err(malformed(carrier, "malformed token"))
        } else {
            Ok(Some((token, carrier)))
        }
    };

    let mut authorization = request.headers.get_all(AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        if authorization.next().is_some() {
            return Err(malformed(Carrier::Header, "repeated Authorization header"));
        }
        let value = value
            .to_str()
            .map_err(|_| malformed(Carrier::Header, "malformed token"))?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
            return Err(malformed(
                Carrier::Header,
                "unsupported authorization scheme",
            ));
        }
        return checked(token.trim_matches(' '), Carrier::Header);
    }

    let marker = spec.carriers.protocol_marker;
    // `offered_protocols` skips a header that is not visible ASCII; one that
    // names the marker still makes this carrier present, and malformed.
    let hidden_marker = request
        .headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter(|value| value.to_str().is_err())
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .any(|protocol| protocol.trim_ascii() == marker.as_bytes());
    if hidden_marker {
        return Err(malformed(Carrier::Subprotocol, "malformed token"));
    }
    let mut offered = offered_protocols(request);
    if offered.any(|protocol| protocol == marker) {
        return match offered.next() {
            Some(token) => checked(token, Carrier::Subprotocol),
            None => Err(malformed(Carrier::Subprotocol, "marker without a token")),
        };
    }

    if spec.carriers.query {
        let query = request.uri.query().unwrap_or("");
        let mut tokens =
            form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key == QUERY_TOKEN);
        if let Some((_, token)) = tokens.next() {
            if tokens.next().is_some() {
                return Err(malformed(Carrier::Query, "repeated token parameter"));
            }
            // The token borrows from the request: a percent-encoded token would
            // need an owned copy, and tokens are URL-safe, so it is refused.
            return match token {
                std::borrow::Cow::Borrowed(token) => checked(token, Carrier::Query),
                std::borrow::Cow::Owned(_) => {
                    Err(malformed(Carrier::Query, "percent-encoded token"))
                }
            };
        }
    }
    Ok(None)
}

/// The subprotocols a client offered, in order, trimmed.
pub(crate) fn offered_protocols(request: &Parts) -> impl Iterator<Item = &str> {
    request
        .headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|protocol| !protocol.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectKind;
    use axum::http::Request;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const SPEC: Spec = Spec::new("T", "/ws").query_token();

    fn token(uri: &str, headers: &[(&str, &str)]) -> Result<Option<(String, Carrier)>, Rejection> {
        let parts = parts(uri, headers);
        find_token(&parts, &SPEC).map(|found| found.map(|(t, c)| (t.to_owned(), c)))
    }

    #[test]
    fn every_carrier_is_read() {
        let found = |t: &str, c| Ok(Some((t.to_owned(), c)));
        assert_eq!(
            token("/ws", &[("authorization", "Token abc")]),
            found("abc", Carrier::Header)
        );
        assert_eq!(
            token("/ws", &[("authorization", "bEaReR abc")]),
            found("abc", Carrier::Header)
        );
        assert_eq!(
            token("/ws", &[("sec-websocket-protocol", "bearer, abc")]),
            found("abc", Carrier::Subprotocol)
        );
        assert_eq!(
            token(
                "/ws",
                &[
                    ("sec-websocket-protocol", "chat"),
                    ("sec-websocket-protocol", "bearer,abc")
                ]
            ),
            found("abc", Carrier::Subprotocol)
        );
        assert_eq!(
            token("/ws?a=1&token=abc", &[]),
            found("abc", Carrier::Query)
        );
        assert_eq!(token("/ws", &[]), Ok(None));
    }

    #[test]
    fn the_first_present_carrier_decides() {
        let header_wins = token(
            "/ws?token=q",
            &[
                ("authorization", "Token h"),
                ("sec-websocket-protocol", "bearer, p"),
            ],
        );
        assert_eq!(header_wins.unwrap().unwrap().1, Carrier::Header);
        // A broken header is refused even though a good query token follows.
        let refused = token("/ws?token=good", &[("authorization", "Token ")]).unwrap_err();
        assert_eq!(refused.kind(), RejectKind::NotAuthenticated);
    }

    #[test]
    fn malformed_credentials_are_refused_without_quoting_them() {
        let refusals = [
            token("/ws", &[("authorization", "Basic dXNlcjpwdw==")]),
            token("/ws", &[("authorization", "Token")]),
            token("/ws", &[("authorization", "Token a b")]),
            token(
                "/ws",
                &[("authorization", "Token x"), ("authorization", "Token y")],
            ),
            token("/ws", &[("sec-websocket-protocol", "bearer")]),
            token("/ws?token=", &[]),
            token("/ws?token=a&token=b", &[]),
            token("/ws?token=a%20b", &[]),
            token(
                "/ws",
                &[("authorization", &format!("Token {}", "x".repeat(5000)))],
            ),
        ];
        for refusal in refusals {
            let rejection = refusal.unwrap_err();
            assert_eq!(rejection.kind(), RejectKind::NotAuthenticated);
            assert!(!rejection.reason().contains("xxxx") && !rejection.reason().contains("dXNl"));
        }
    }

    #[test]
    fn a_lone_token_offered_as_subprotocol_is_not_a_credential() {
        assert_eq!(
            token("/ws", &[("sec-websocket-protocol", "tok-1")]),
            Ok(None)
        );
    }

    #[test]
    fn the_query_carrier_is_off_unless_enabled() {
        let parts = parts("/ws?token=abc", &[]);
        assert_eq!(find_token(&parts, &Spec::new("T", "/ws")).unwrap(), None);
    }
}
