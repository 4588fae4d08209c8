//! Incoming messages: typed JSON, or raw text and binary frames.

use bytes::Bytes;
use serde::de::DeserializeOwned;

/// A raw data message, for consumers that handle text and binary themselves:
/// `type In = Frame;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message (valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// What a consumer's `receive` takes: any `serde` type, decoded from text
/// frames as JSON, or [`Frame`] for everything raw.
///
/// ```
/// use sockwarden::{Frame, Inbound, DecodeError};
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// enum ChatIn { Say { body: String } }
///
/// let said = ChatIn::decode(Frame::Text(r#"{"type":"say","body":"hi"}"#.into()));
/// assert_eq!(said, Ok(ChatIn::Say { body: "hi".into() }));
/// assert!(matches!(ChatIn::decode(Frame::Text("nope".into())), Err(DecodeError::Invalid(_))));
/// assert_eq!(ChatIn::decode(Frame::Binary(vec![1].into())), Err(DecodeError::Unsupported));
/// ```
pub trait Inbound: Sized + Send + 'static {
    /// Decodes one data message.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Invalid`] for a message that does not decode: the client
    /// gets an error frame and the connection stays open.
    /// [`DecodeError::Unsupported`] for a kind of message the consumer does not
    /// take: the connection closes with 1003.
    fn decode(frame: Frame) -> Result<Self, DecodeError>;
}

/// Why a message could not become a consumer's `In`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The message is malformed; the text says how.
    Invalid(String),
    /// The consumer takes no message of this kind (binary to a JSON consumer).
    Unsupported,
}

impl<T: DeserializeOwned + Send + 'static> Inbound for T {
    fn decode(frame: Frame) -> Result<Self, DecodeError> {
        match frame {
            Frame::Text(text) => {
                serde_json::from_str(&text).map_err(|error| DecodeError::Invalid(error.to_string()))
            }
            Frame::Binary(_) => Err(DecodeError::Unsupported),
        }
    }
}

impl Inbound for Frame {
    fn decode(frame: Frame) -> Result<Self, DecodeError> {
        Ok(frame)
    }
}
