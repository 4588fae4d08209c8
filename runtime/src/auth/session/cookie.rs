//! Reading the session cookie from a handshake exactly as the HTTP side's
//! layer reads it, so that both see the same session.
//!
//! tower-sessions reads cookies through tower-cookies and the `cookie` crate:
//! each `Cookie` header that is UTF-8, split at `;`, each pair split at its
//! first `=`, name and value trimmed and percent-decoded (a pair that does not
//! decode to UTF-8 is skipped), and of several cookies with the configured
//! name the **last** one wins. This module does the same, so a request with
//! two session cookies (one tossed in by a sibling subdomain, say) names the
//! same session on the socket as on the page.

use std::borrow::Cow;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use tower_sessions::session::Id;

/// What the handshake's session cookie holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SessionCookie {
    /// No cookie of that name.
    Absent,
    /// A value that is not a session id: forged, truncated, another app's.
    Malformed,
    /// A well-formed session id (which may still be unknown to the store).
    Id(Id),
}

/// The session cookie called `name` in `headers`.
pub(super) fn session_cookie(headers: &HeaderMap, name: &str) -> SessionCookie {
    match cookie_value(headers, name) {
        None => SessionCookie::Absent,
        Some(value) => match value.parse::<Id>() {
            Ok(id) => SessionCookie::Id(id),
            Err(_) => SessionCookie::Malformed,
        },
    }
}

/// The value of the last cookie called `name`, decoded as tower-cookies
/// decodes it.
fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = std::str::from_utf8(header.as_bytes()) else {
            continue;
        };
        for pair in text.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            let (Some(key), Some(value)) = (percent_decode(key), percent_decode(value.trim()))
            else {
                continue;
            };
            if key == name {
                found = Some(value);
            }
        }
    }
    found
}

/// Percent-decodes `text` as the `percent-encoding` crate does (a `%` not
/// followed by two hex digits stays as it is); `None` when the result is
/// not UTF-8.
fn percent_decode(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('%') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) => hex(high).zip(hex(low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                decoded.push(high << 4 | low);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    fn value(values: &[&[u8]], name: &str) -> Option<String> {
        cookie_value(&headers(values), name).map(Cow::into_owned)
    }

    #[test]
    fn the_named_cookie_is_found_among_others() {
        assert_eq!(
            value(&[b"theme=dark; sid=abc ;x=1"], "sid").as_deref(),
            Some("abc")
        );
        assert_eq!(
            value(&[b"theme=dark", b"sid=abc"], "sid").as_deref(),
            Some("abc")
        );
        assert_eq!(value(&[b"theme=dark"], "sid"), None);
        assert_eq!(value(&[], "sid"), None);
        // A name is matched whole, not as a prefix or suffix.
        assert_eq!(value(&[b"xsid=a; sidx=b"], "sid"), None);
    }

    #[test]
    fn the_last_cookie_of_a_name_wins_as_in_tower_cookies() {
        assert_eq!(
            value(&[b"sid=first; sid=second"], "sid").as_deref(),
            Some("second")
        );
        assert_eq!(
            value(&[b"sid=first", b"sid=second"], "sid").as_deref(),
            Some("second")
        );
    }

    #[test]
    fn names_and_values_are_percent_decoded_and_trimmed() {
        assert_eq!(value(&[b"s%69d=a%62c"], "sid").as_deref(), Some("abc"));
        assert_eq!(value(&[b"  sid =  abc  "], "sid").as_deref(), Some("abc"));
        // A lone `%` stays; quotes are kept (tower-cookies keeps them too).
        assert_eq!(value(&[b"sid=a%zz"], "sid").as_deref(), Some("a%zz"));
        assert_eq!(value(&[b"sid=\"abc\""], "sid").as_deref(), Some("\"abc\""));
        // A pair that decodes to invalid UTF-8 is skipped, not the header.
        assert_eq!(
            value(&[b"sid=good; sid=%ff"], "sid").as_deref(),
            Some("good")
        );
    }

    #[test]
    fn headers_that_are_not_utf8_are_skipped() {
        assert_eq!(
            value(&[b"sid=\xff\xfe", b"sid=abc"], "sid").as_deref(),
            Some("abc")
        );
        assert_eq!(value(&[b"sid=abc; other=\xff"], "sid"), None);
    }

    #[test]
    fn a_value_that_is_not_a_session_id_is_malformed() {
        let id = Id::default();
        let good = format!("sid={id}");
        assert_eq!(
            session_cookie(&headers(&[good.as_bytes()]), "sid"),
            SessionCookie::Id(id)
        );
        let long = format!("sid={}", "A".repeat(10_000));
        for forged in [
            b"sid=" as &[u8],
            b"sid=forged",
            b"sid=AAAAAAAAAAAAAAAAAAAAA",
            b"sid=AAAAAAAAAAAAAAAAAAAAAAA",
            b"sid=AAAAAAAAAAAAAAAAAAAA==",
            b"sid=!!!!!!!!!!!!!!!!!!!!!!",
            long.as_bytes(),
        ] {
            assert_eq!(
                session_cookie(&headers(&[forged]), "sid"),
                SessionCookie::Malformed,
                "{}",
                String::from_utf8_lossy(forged)
            );
        }
        assert_eq!(
            session_cookie(&headers(&[b"other=1"]), "sid"),
            SessionCookie::Absent
        );
    }
}
