//! What a message handler's failure means for the connection.

use std::borrow::Cow;
use std::fmt;

use crate::close::CloseCode;

/// A handler's error, and what the client sees of it.
///
/// - [`Error::reply`]: an error frame `{"type":"error","error":"…"}`; the
///   connection stays open. For bad requests from the client.
/// - [`Error::close`]: a close frame with that code and reason.
/// - anything else, through `?` on any `std::error::Error`: the server
///   failed. It is logged with the connection id, and the connection closes
///   with 1011 without exposing the error's text.
///
/// ```
/// use sockwarden::{CloseCode, Error};
///
/// fn check(body: &str) -> Result<(), Error> {
///     if body.is_empty() {
///         return Err(Error::reply("empty message"));
///     }
///     if body.len() > 500 {
///         return Err(Error::close(CloseCode::POLICY, "message too long"));
///     }
///     let _n: u32 = "12".parse()?; // a failure here closes with 1011
///     Ok(())
/// }
/// # assert!(check("x").is_ok());
/// ```
pub struct Error(pub(crate) ErrorKind);

pub(crate) enum ErrorKind {
    Reply(Cow<'static, str>),
    Close(CloseCode, Cow<'static, str>),
    Internal(Box<dyn std::error::Error + Send + Sync>),
    /// The connection is gone; nothing to tell the client.
    Gone,
    /// The client did not take a write within `pong_timeout`: it stopped
    /// reading, and its buffers are full.
    Stalled,
}

impl Error {
    /// Answers the message with an error frame; the connection stays open.
    pub fn reply(message: impl Into<Cow<'static, str>>) -> Error {
        Error(ErrorKind::Reply(message.into()))
    }

    /// Closes the connection with `code` and `reason`.
    pub fn close(code: CloseCode, reason: impl Into<Cow<'static, str>>) -> Error {
        Error(ErrorKind::Close(code, reason.into()))
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Error {
        Error(ErrorKind::Internal(Box::new(error)))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ErrorKind::Reply(message) => f.debug_tuple("Reply").field(message).finish(),
            ErrorKind::Close(code, reason) => {
                f.debug_tuple("Close").field(code).field(reason).finish()
            }
            ErrorKind::Internal(error) => f.debug_tuple("Internal").field(error).finish(),
            ErrorKind::Gone => f.write_str("Gone"),
            ErrorKind::Stalled => f.write_str("Stalled"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ErrorKind::Reply(message) => f.write_str(message),
            ErrorKind::Close(code, reason) => write!(f, "close {}: {reason}", code.get()),
            ErrorKind::Internal(error) => fmt::Display::fmt(error, f),
            ErrorKind::Gone => f.write_str("the connection is gone"),
            ErrorKind::Stalled => f.write_str("the client stopped reading"),
        }
    }
}
