//! The scope's parsers of untrusted input (`scope.rs`, `param.rs`): cookies,
//! query values, headers and the typed fields read from them.
//!
//! Besides never panicking:
//!
//! - every cookie the request carries as plain `name=value` is found by its
//!   name, whatever other cookies sit beside it (judged on the raw head);
//! - query values are the first decoded value of their key, and `token` is
//!   never one (it is a credential);
//! - a header reads as text exactly when it is visible ASCII, and the origin
//!   is the first `Origin` header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::{Anonymous, FromParam, Scope};
use sockwarden_fuzz::{Head, parse_head};

fuzz_target!(|data: &[u8]| {
    let mut buffer = Vec::new();
    let Some(head) = parse_head(data, &mut buffer) else {
        return;
    };
    let Some(handshake) = head.handshake() else {
        return;
    };
    let scope = handshake.into_scope();
    check_cookies(&head, &scope);
    check_query(&head, &scope);
    check_headers(&head, &scope);
});

/// The names the typed readers are tried with: `#[consumer]` passes them
/// `&'static str` names, so the fuzzer's own keys cannot be used; the
/// dictionary makes these common in inputs.
const NAMES: [&str; 6] = ["page", "q", "n", "sid", "x-client", ""];

/// One `name=value` item of a `Cookie` header, as raw bytes.
struct RawCookie<'a> {
    name: &'a [u8],
    value: &'a [u8],
    /// Visible ASCII or spaces throughout.
    plain: bool,
}

/// The `name=value` items of every `Cookie` header, trimmed; items without
/// `=` name no cookie and are left out.
fn raw_cookies<'a>(head: &'a Head<'_>) -> Vec<RawCookie<'a>> {
    head.values("cookie")
        .flat_map(|value| value.split(|&b| b == b';'))
        .filter_map(|item| {
            let item = item.trim_ascii();
            let at = item.iter().position(|&b| b == b'=')?;
            Some(RawCookie {
                name: &item[..at],
                value: &item[at + 1..],
                plain: item.iter().all(|b| b.is_ascii_graphic() || *b == b' '),
            })
        })
        .collect()
}

fn check_cookies(head: &Head<'_>, scope: &Scope<Anonymous>) {
    let cookies = raw_cookies(head);
    for (at, cookie) in cookies.iter().enumerate() {
        // The first cookie of its name wins; an item before it that is not
        // plain could hold the same name behind characters that the scope
        // trims, so only cookies with nothing odd before them are judged.
        if !cookie.plain
            || cookies[..at]
                .iter()
                .any(|c| !c.plain || c.name == cookie.name)
        {
            continue;
        }
        let name = std::str::from_utf8(cookie.name).expect("plain is ASCII");
        let value = std::str::from_utf8(cookie.value).expect("plain is ASCII");
        assert_eq!(
            scope.cookie(name),
            Some(value.trim_matches('"')),
            "the cookie {name:?} was not found"
        );
    }
    for name in NAMES {
        let raw = scope.cookie(name);
        assert_eq!(scope.cookie_param::<String>(name).ok().as_deref(), raw);
        check_param::<Option<u64>>(scope.cookie_param(name), raw);
    }
}

fn check_query(head: &Head<'_>, scope: &Scope<Anonymous>) {
    assert_eq!(
        scope.query_value("token"),
        None,
        "the token is a query value"
    );
    let query = head.query().unwrap_or_default();
    let first = |name: &str| {
        form_urlencoded::parse(query)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    };
    for (key, _) in form_urlencoded::parse(query) {
        if key != "token" {
            assert_eq!(scope.query_value(&key), first(&key), "query value {key:?}");
        }
    }
    // The typed fields agree with `FromParam` on the raw value.
    for name in NAMES {
        let raw = first(name);
        let raw = raw.as_deref();
        assert_eq!(scope.query_param::<String>(name).ok().as_deref(), raw);
        check_param::<u8>(scope.query_param(name), raw);
        check_param::<i64>(scope.query_param(name), raw);
        check_param::<f64>(scope.query_param(name), raw);
        check_param::<bool>(scope.query_param(name), raw);
        check_param::<char>(scope.query_param(name), raw);
        check_param::<Option<u32>>(scope.query_param(name), raw);
    }
}

/// A typed field read from the scope is what `FromParam` makes of the raw
/// value (NaN compares unequal, so floats are compared by their bits).
fn check_param<T: FromParam + std::fmt::Debug>(
    field: Result<T, sockwarden::Rejection>,
    raw: Option<&str>,
) {
    let expected = T::from_param(raw).ok();
    assert_eq!(
        format!("{:?}", field.ok()),
        format!("{expected:?}"),
        "typed field from {raw:?}"
    );
}

fn check_headers(head: &Head<'_>, scope: &Scope<Anonymous>) {
    let text = |value: &[u8]| {
        value
            .iter()
            .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
            .then(|| std::str::from_utf8(value).expect("ASCII"))
            .map(str::to_owned)
    };
    for (name, _) in &head.headers {
        let first = head.values(name).next().expect("the header is there");
        assert_eq!(
            scope.header(name).map(str::to_owned),
            text(first),
            "header {name:?}"
        );
    }
    for name in NAMES {
        let raw = scope.header(name);
        check_param::<Option<u16>>(scope.header_param(name), raw);
    }
    let origin = head.values("origin").next().and_then(text);
    assert_eq!(scope.origin().map(str::to_owned), origin, "origin");
}
