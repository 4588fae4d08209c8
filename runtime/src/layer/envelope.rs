//! What a channel layer carries, and its wire form.

use std::hash::{BuildHasher, Hasher};

use serde::{Deserialize, Serialize};

use crate::close::CloseCode;
use crate::hub::Event;

/// One hub's id on a layer, random per hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId(u64);

impl NodeId {
    pub(crate) fn random() -> NodeId {
        // std's hasher keys are random per process; the counter separates
        // hubs of one process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        NodeId(hasher.finish())
    }
}

/// Which connections an envelope is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Address {
    /// A group's members.
    Group(String),
    /// A user's sockets, by user id.
    User(String),
    /// A session's sockets, by session id.
    Session(String),
    /// The sockets opened with a token, by the token's SHA-256 digest.
    Token(#[serde(with = "hex_digest")] [u8; 32]),
    /// Every socket.
    All,
}

/// What an envelope asks of the connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireBody", try_from = "WireBody")]
#[non_exhaustive]
pub enum Body {
    /// Deliver this event.
    Event(Event),
    /// Close with this code and reason.
    Close {
        /// The close code.
        code: CloseCode,
        /// The close reason.
        reason: String,
    },
}

/// [`Body`] on the wire: the event as its JSON text, the code as a number.
#[derive(Serialize, Deserialize)]
#[serde(tag = "do", content = "with", rename_all = "snake_case")]
enum WireBody {
    Event(String),
    Close { code: u16, reason: String },
}

impl From<Body> for WireBody {
    fn from(body: Body) -> WireBody {
        match body {
            Body::Event(event) => WireBody::Event(event.as_str().to_owned()),
            Body::Close { code, reason } => WireBody::Close {
                code: code.get(),
                reason,
            },
        }
    }
}

impl TryFrom<WireBody> for Body {
    type Error = String;

    fn try_from(wire: WireBody) -> Result<Body, String> {
        match wire {
            WireBody::Event(text) => Ok(Body::Event(Event::from_text(text))),
            WireBody::Close { code, reason } => match CloseCode::new(code) {
                Some(code) => Ok(Body::Close { code, reason }),
                None => Err(format!("invalid close code {code}")),
            },
        }
    }
}

/// A message between hubs.
///
/// ```
/// use sockwarden::layer::{Address, Body, Envelope};
///
/// let wire = r#"{"from":7,"to":{"to":"group","name":"lobby"},"body":{"do":"close","with":{"code":4401,"reason":"bye"}}}"#;
/// let envelope: Envelope = serde_json::from_str(wire).unwrap();
/// assert_eq!(envelope.to, Address::Group("lobby".into()));
/// assert!(matches!(envelope.body, Body::Close { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The hub that sent it.
    pub from: NodeId,
    /// Whom it is for.
    pub to: Address,
    /// What to do.
    pub body: Body,
}

mod hex_digest {
    use std::fmt::Write;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(64);
        for byte in digest {
            let _ = write!(hex, "{byte:02x}");
        }
        s.serialize_str(&hex)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let hex = <&str>::deserialize(d)?;
        let mut digest = [0; 32];
        if hex.len() != 64 {
            return Err(D::Error::custom("a token digest is 64 hex digits"));
        }
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(D::Error::custom)?;
            *byte = u8::from_str_radix(pair, 16).map_err(D::Error::custom)?;
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_survive_the_wire() {
        for (to, body) in [
            (
                Address::Token([0xab; 32]),
                Body::Event(Event::from_text(r#"{"type":"x"}"#)),
            ),
            (
                Address::All,
                Body::Close {
                    code: CloseCode::GOING_AWAY,
                    reason: "bye".into(),
                },
            ),
            (
                Address::User("alice".into()),
                Body::Event(Event::from_text("3")),
            ),
        ] {
            let envelope = Envelope {
                from: NodeId::random(),
                to,
                body,
            };
            let wire = serde_json::to_string(&envelope).unwrap();
            assert_eq!(
                serde_json::from_str::<Envelope>(&wire).unwrap(),
                envelope,
                "{wire}"
            );
        }
    }

    #[test]
    fn a_bad_close_code_is_an_error_not_a_panic() {
        let wire = r#"{"from":1,"to":{"to":"all"},"body":{"do":"close","with":{"code":1005,"reason":""}}}"#;
        assert!(serde_json::from_str::<Envelope>(wire).is_err());
    }
}
