//! What travels to a group, a user or a session: one JSON text, serialised
//! once and shared by every recipient.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::message::Text;

/// A message for many connections: a group's members, a user's sockets.
///
/// It is serialised once, when it is made; each recipient gets the same
/// bytes by reference count, so a fanout to a thousand members costs one
/// serialisation, not a thousand. By default a member's connection forwards
/// it to its client unchanged; a consumer that overrides
/// [`Consumer::event`](crate::Consumer::event) can look at it first.
///
/// ```
/// use sockwarden::Event;
///
/// let event = Event::json(&serde_json::json!({"type": "said", "body": "hi"})).unwrap();
/// assert_eq!(event.kind(), Some("said"));
/// assert_eq!(event.as_str(), r#"{"body":"hi","type":"said"}"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    text: Utf8Bytes,
    /// Where the `type` value sits in `text`, found once when the event is
    /// made (so each recipient's dispatch does not re-parse it).
    kind: Option<(u32, u32)>,
}

impl Event {
    /// Serialises `value` as the event's JSON.
    ///
    /// # Errors
    ///
    /// When `value` cannot be serialised (a map with non-string keys…).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Event, serde_json::Error> {
        Ok(Event::from_json_text(serde_json::to_string(value)?.into()))
    }

    /// An event whose text is already JSON (from another process, or a
    /// message received from a client and passed on as it is).
    ///
    /// ```
    /// use sockwarden::Event;
    ///
    /// let event = Event::from_text(r#"{"type":"ping"}"#);
    /// assert_eq!(event.kind(), Some("ping"));
    /// assert_eq!(Event::from_text("not json").kind(), None);
    /// ```
    pub fn from_text(text: impl Into<Text>) -> Event {
        Event::from_json_text(text.into().into_inner())
    }

    fn from_json_text(text: Utf8Bytes) -> Event {
        let kind = find_kind(text.as_str());
        Event { text, kind }
    }

    /// The event's `type` field, when it is a JSON object with a string `type`.
    pub fn kind(&self) -> Option<&str> {
        let (start, end) = self.kind?;
        self.text.as_str().get(start as usize..end as usize)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// Parses the event as `T`.
    ///
    /// # Errors
    ///
    /// When the JSON does not fit `T`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Said { body: String }
    ///
    /// let event = sockwarden::Event::from_text(r#"{"type":"said","body":"hi"}"#);
    /// assert_eq!(event.decode::<Said>().unwrap().body, "hi");
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.text.as_str())
    }

    /// The text, to send to a client as it is.
    pub fn into_text(self) -> Text {
        Text::from(self.text)
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Event").field(&self.as_str()).finish()
    }
}

/// Finds the string value of the top-level `type` key without building the
/// whole value: only the key's position is kept.
fn find_kind(text: &str) -> Option<(u32, u32)> {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<&'a str>,
    }
    // serde would read a struct from an array too; only objects have a type.
    if !text.trim_start().starts_with('{') {
        return None;
    }
    // A `type` with escapes cannot be borrowed; such events have no kind.
    let kind = serde_json::from_str::<Kind<'_>>(text).ok()?.kind?;
    let start = kind.as_ptr() as usize - text.as_ptr() as usize;
    Some((
        u32::try_from(start).ok()?,
        u32::try_from(start + kind.len()).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_is_the_top_level_type_only() {
        let event = Event::from_text(r#"{"body":{"type":"inner"},"type":"outer"}"#);
        assert_eq!(event.kind(), Some("outer"));
        assert_eq!(Event::from_text(r#"{"type":3}"#).kind(), None);
        assert_eq!(Event::from_text(r#"["type"]"#).kind(), None);
        assert_eq!(Event::from_text(r#"{"type":"a\"b"}"#).kind(), None);
    }

    #[test]
    fn clones_share_the_text() {
        let event = Event::json(&serde_json::json!({"type": "x"})).unwrap();
        let copy = event.clone();
        assert_eq!(event.as_str().as_ptr(), copy.as_str().as_ptr());
    }
}
