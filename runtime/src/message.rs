//! Incoming messages: typed JSON, or raw text and binary frames.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A raw data message, for consumers that handle text and binary themselves:
/// `type In = Frame;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

/// The payload of a text message: UTF-8, shared rather than copied, so a
/// consumer can read it as a `&str` or send it back as it came.
///
/// ```
/// use sockwarden::Text;
///
/// let text = Text::from("hello".to_owned());
/// assert_eq!(text, "hello");
/// assert_eq!(text.len(), 5); // a `str` through `Deref`
/// assert_eq!(String::from(text), "hello");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Utf8Bytes);

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn into_inner(self) -> Utf8Bytes {
        self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(text.into())
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Text {
        Text(Utf8Bytes::from_static(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.as_str().to_owned()
    }
}

impl From<Utf8Bytes> for Text {
    fn from(text: Utf8Bytes) -> Text {
        Text(text)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
