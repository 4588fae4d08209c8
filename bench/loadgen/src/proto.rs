//! The benchmark protocol's messages: the requests the load generator
//! sends, and the checks every reply must pass.

use std::borrow::Cow;

use serde::Deserialize;

use crate::tally::Failure;

/// How many users every server knows: `user0` … `user9999`, token `tok-N`.
pub const USERS: usize = 10_000;

pub fn token(n: usize) -> String {
    format!("tok-{n}")
}

pub fn user(n: usize) -> String {
    format!("user{n}")
}

/// A token of the right shape that no server knows.
pub fn unknown_token(n: usize) -> String {
    format!("tok-{}", USERS + n)
}

/// `{"type":"echo","seq":S,"body":B}`. Bodies are chosen by the load
/// generator and need no escaping.
pub fn echo(seq: u64, body: &str) -> String {
    debug_assert!(needs_no_escape(body));
    format!(r#"{{"type":"echo","seq":{seq},"body":"{body}"}}"#)
}

/// `{"type":"say","seq":S,"body":B}`.
pub fn say(seq: u64, body: &str) -> String {
    debug_assert!(needs_no_escape(body));
    format!(r#"{{"type":"say","seq":{seq},"body":"{body}"}}"#)
}

fn needs_no_escape(body: &str) -> bool {
    body.bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ')
}

/// Any reply of the protocol; which fields must be there depends on `type`.
#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    seq: Option<i64>,
    #[serde(borrow)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    from: Option<Cow<'a, str>>,
    error: Option<serde_json::Value>,
}

fn parse(text: &str) -> Result<Reply<'_>, Failure> {
    serde_json::from_str(text).map_err(|error| {
        Failure::new(
            "reply",
            format!("not a protocol message ({error}): {}", clip(text)),
        )
    })
}

/// Checks the answer to `echo(seq, body)` sent as `user`.
pub fn check_echo(text: &str, seq: u64, body: &str, user: &str) -> Result<(), Failure> {
    let reply = parse(text)?;
    let ok = reply.kind == "echo"
        && reply.seq == i64::try_from(seq).ok()
        && reply.body.as_deref() == Some(body)
        && reply.user.as_deref() == Some(user);
    if ok {
        Ok(())
    } else {
        Err(Failure::new(
            "reply",
            format!(
                "expected the echo of seq {seq} for {user}, got {}",
                clip(text)
            ),
        ))
    }
}

/// Checks an error frame: `{"type":"error","error":"..."}`.
pub fn check_error(text: &str) -> Result<(), Failure> {
    let reply = parse(text)?;
    if reply.kind == "error" && reply.error.as_ref().is_some_and(|e| e.is_string()) {
        Ok(())
    } else {
        Err(Failure::new(
            "reply",
            format!("expected an error frame, got {}", clip(text)),
        ))
    }
}

/// A room's delivery: `{"type":"said","from":F,"seq":S,"body":B}`.
pub struct Said<'a> {
    pub from: Cow<'a, str>,
    pub seq: i64,
    pub body: Cow<'a, str>,
}

pub fn parse_said(text: &str) -> Result<Said<'_>, Failure> {
    let reply = parse(text)?;
    match reply {
        Reply {
            kind,
            seq: Some(seq),
            body: Some(body),
            from: Some(from),
            ..
        } if kind == "said" => Ok(Said { from, seq, body }),
        _ => Err(Failure::new(
            "reply",
            format!("expected a said frame, got {}", clip(text)),
        )),
    }
}

/// The start of a long text, for error messages.
pub fn clip(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_replies_are_checked_field_by_field() {
        let sent = echo(7, "hi there");
        assert_eq!(sent, r#"{"type":"echo","seq":7,"body":"hi there"}"#);
        let good = r#"{"user":"user3","body":"hi there","seq":7,"type":"echo"}"#;
        assert!(check_echo(good, 7, "hi there", "user3").is_ok());
        for bad in [
            r#"{"type":"echo","seq":8,"body":"hi there","user":"user3"}"#,
            r#"{"type":"echo","seq":7,"body":"hi","user":"user3"}"#,
            r#"{"type":"echo","seq":7,"body":"hi there","user":"user4"}"#,
            r#"{"type":"echo","seq":7,"body":"hi there"}"#,
            r#"{"type":"error","error":"no"}"#,
            "not json",
        ] {
            assert!(check_echo(bad, 7, "hi there", "user3").is_err(), "{bad}");
        }
    }

    #[test]
    fn error_frames_and_deliveries() {
        assert!(check_error(r#"{"type":"error","error":"invalid message"}"#).is_ok());
        assert!(check_error(r#"{"type":"echo","seq":1}"#).is_err());
        let said = parse_said(r#"{"type":"said","from":"user1","seq":3,"body":"b"}"#).unwrap();
        assert_eq!((&*said.from, said.seq, &*said.body), ("user1", 3, "b"));
        assert!(parse_said(r#"{"type":"said","from":"user1","seq":3}"#).is_err());
    }
}
