//! HTTP grammar that literals in the attributes must follow.
//!
//! A subprotocol marker, a header name and a cookie name all end up in an
//! HTTP message; a bad one would only fail at connect time, or never match.

/// Whether `text` is an HTTP `token` (RFC 9110 §5.6.2): non-empty, visible
/// ASCII, no separators such as spaces, commas, `;` or quotes.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::is_token;

    #[test]
    fn accepts_tokens() {
        for token in ["bearer", "x-client", "Sec-Token", "v1.chat", "a_b", "~!#"] {
            assert!(is_token(token), "{token}");
        }
    }

    #[test]
    fn rejects_separators_and_empty() {
        for text in [
            "", "a b", "a,b", "a;b", "a\"b", "a/b", "(x)", "é", "a\tb", "a=b",
        ] {
            assert!(!is_token(text), "{text}");
        }
    }
}
