//! The handshake's parsers of untrusted input: the token carriers
//! (`auth/carrier.rs`), the offered subprotocols, and the upgrade checks
//! (`handshake.rs`).
//!
//! Besides never panicking, every answer must follow the documented rules,
//! judged here independently on the raw request head:
//!
//! - the first carrier that is present decides, in the order header,
//!   subprotocol, query; a credential there is returned or refused, never
//!   skipped for a later carrier or for anonymous;
//! - a returned token is non-empty, within the length limit, visible ASCII,
//!   and is what that carrier holds;
//! - an accepted upgrade is a GET with the upgrade headers, version 13 and
//!   a `Sec-WebSocket-Key` that is 16 bytes in base64 (RFC 6455 §4.2.1).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::fuzzing::{Handshake, rejection_carrier};
use sockwarden::{Carrier, RejectKind, Spec};
use sockwarden_fuzz::{Head, parse_head};

fuzz_target!(|data: &[u8]| {
    let mut buffer = Vec::new();
    let Some(head) = parse_head(data, &mut buffer) else {
        return;
    };
    let Some(handshake) = head.handshake() else {
        return;
    };
    for spec in specs() {
        check_token(&head, &handshake, &spec);
    }
    check_protocols(&handshake);
    check_upgrade(&head, &handshake);
});

/// The carrier settings a consumer can declare: the defaults, the query
/// carrier on, another subprotocol marker, and a short length limit.
fn specs() -> [Spec; 4] {
    let mut short = Spec::new("Short", "/ws").query_token();
    short.limits.max_credential_len = 8;
    [
        Spec::new("Default", "/ws"),
        Spec::new("Query", "/ws").query_token(),
        Spec::new("Marker", "/ws")
            .query_token()
            .token_protocol("x-token"),
        short,
    ]
}

/// The carrier that decides, by the documented precedence, judged on the
/// raw head: a header or subprotocol counts as present whatever its bytes.
fn present_carrier(head: &Head<'_>, spec: &Spec) -> Option<Carrier> {
    if head.values("authorization").next().is_some() {
        return Some(Carrier::Header);
    }
    if head.offers_raw(spec.carriers.protocol_marker) {
        return Some(Carrier::Subprotocol);
    }
    let query_token = head
        .query()
        .is_some_and(|query| form_urlencoded::parse(query).any(|(key, _)| key == "token"));
    (spec.carriers.query && query_token).then_some(Carrier::Query)
}

fn check_token(head: &Head<'_>, handshake: &Handshake, spec: &Spec) {
    let present = present_carrier(head, spec);
    match handshake.find_token(spec) {
        Ok(None) => assert_eq!(
            present, None,
            "a present carrier was read as no credential (anonymous)"
        ),
        Ok(Some((token, carrier))) => {
            assert_eq!(
                Some(carrier),
                present,
                "the token came from the wrong carrier"
            );
            assert!(!token.is_empty(), "an empty token was returned");
            assert!(
                token.len() <= spec.limits.max_credential_len,
                "a token over the length limit was returned"
            );
            assert!(
                token.bytes().all(|b| b.is_ascii_graphic()),
                "a token that is not visible ASCII was returned"
            );
            let holds = |raw: &[u8]| {
                raw.windows(token.len())
                    .any(|window| window == token.as_bytes())
            };
            match carrier {
                Carrier::Header => {
                    let values: Vec<_> = head.values("authorization").collect();
                    assert_eq!(values.len(), 1, "a repeated Authorization header was read");
                    assert!(holds(values[0]), "the token is not in the header");
                }
                Carrier::Subprotocol => {
                    let offered = handshake.offered_protocols();
                    let marker = spec.carriers.protocol_marker;
                    let at = offered.iter().position(|protocol| *protocol == marker);
                    let next = at.and_then(|at| offered.get(at + 1));
                    assert_eq!(next, Some(&token), "the token does not follow the marker");
                }
                Carrier::Query => {
                    assert!(
                        head.query().is_some_and(holds),
                        "the token is not in the query"
                    );
                }
                other => panic!("the token carriers never read {other}"),
            }
        }
        Err(rejection) => {
            assert_eq!(rejection.kind(), RejectKind::NotAuthenticated);
            assert!(present.is_some(), "refused with no credential present");
            assert_eq!(
                rejection_carrier(&rejection),
                present,
                "refused for the wrong carrier"
            );
        }
    }
}

fn check_protocols(handshake: &Handshake) {
    for protocol in handshake.offered_protocols() {
        assert!(!protocol.is_empty(), "an empty subprotocol was offered");
        assert!(!protocol.contains(','), "a subprotocol was not split");
        assert_eq!(protocol, protocol.trim(), "a subprotocol was not trimmed");
    }
}

fn check_upgrade(head: &Head<'_>, handshake: &Handshake) {
    match handshake.accept_key() {
        Ok(accept) => {
            assert_eq!(head.method, b"GET", "a non-GET upgrade was accepted");
            let first = |name| head.values(name).next();
            assert_eq!(first("sec-websocket-version"), Some(&b"13"[..]));
            let key = first("sec-websocket-key").expect("accepted without a key");
            assert!(
                is_base64_of_16_bytes(key),
                "accepted a Sec-WebSocket-Key that is not 16 bytes in base64"
            );
            assert_eq!(accept.len(), 28, "the accept value is not a base64 SHA-1");
        }
        Err(status) => assert!(
            matches!(status, 400 | 405 | 426),
            "refused with an unexpected status {status}"
        ),
    }
}

/// 16 bytes encode to 22 base64 characters and `==`.
fn is_base64_of_16_bytes(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
