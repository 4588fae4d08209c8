//! Sending to, or closing, a set of connections named by group, user,
//! session or token.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::{Event, Hub};
use crate::close::CloseCode;
use crate::layer::{Address, Body, LayerError};

/// A set of connections, in this process and, through the channel layer,
/// in the others: see [`Hub::group`], [`Hub::user`], [`Hub::session`],
/// [`Hub::token`], [`Hub::everyone`].
///
/// Delivery to this process's connections happens before `send` returns
/// and never waits on a slow client (each connection's inbox is bounded,
/// see [`Overflow`](crate::Overflow)). Delivery to the other processes is
/// the layer's: `send` returns its error, and local members have been
/// served all the same.
///
/// ```
/// # async fn demo() -> Result<(), sockwarden::SendError> {
/// use sockwarden::{CloseCode, Hub};
///
/// let hub = Hub::new();
/// hub.group("room:lobby").send(&serde_json::json!({"type": "said", "body": "hi"})).await?;
/// // "Log out everywhere": every socket of the user, in every process.
/// hub.user("alice").close(CloseCode::NOT_AUTHENTICATED, "logged out").await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "name what to do with them: `.send(&msg).await` or `.close(code, reason).await`"]
pub struct Recipients<'a> {
    hub: &'a Hub,
    to: Address,
}

impl<'a> Recipients<'a> {
    pub(crate) fn new(hub: &'a Hub, to: Address) -> Recipients<'a> {
        Recipients { hub, to }
    }

    /// Sends `msg`, serialised once as JSON, to every connection here.
    ///
    /// # Errors
    ///
    /// When `msg` cannot be serialised (nothing is sent), or when the
    /// channel layer could not take it for the other processes.
    pub async fn send<T: Serialize + ?Sized>(self, msg: &T) -> Result<(), SendError> {
        let event = Event::json(msg).map_err(SendError::Serialize)?;
        self.send_event(event).await
    }

    /// Sends an event made beforehand (one event can go to several sets).
    ///
    /// # Errors
    ///
    /// When the channel layer could not take it.
    pub async fn send_event(self, event: Event) -> Result<(), SendError> {
        let body = Body::Event(event);
        self.hub.deliver(&self.to, &body);
        self.hub.publish(self.to, body).await
    }

    /// Closes every connection here with `code` and `reason`; each
    /// consumer's `disconnect` runs with
    /// [`Disconnect::Server`](crate::Disconnect::Server).
    ///
    /// # Errors
    ///
    /// When the channel layer could not take the order; the connections of
    /// this process are closed all the same.
    pub async fn close(
        self,
        code: CloseCode,
        reason: impl Into<Cow<'static, str>>,
    ) -> Result<(), SendError> {
        let body = Body::Close {
            code,
            reason: reason.into().into_owned(),
        };
        self.hub.deliver(&self.to, &body);
        self.hub.publish(self.to, body).await
    }
}

/// Why a send did not reach everyone.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// The message could not be serialised; nothing was sent.
    Serialize(serde_json::Error),
    /// The channel layer failed: this process's connections were served,
    /// the other processes' may not have been.
    Layer(LayerError),
}

impl From<LayerError> for SendError {
    fn from(error: LayerError) -> SendError {
        SendError::Layer(error)
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Serialize(error) => write!(f, "the message cannot be serialised: {error}"),
            SendError::Layer(error) => {
                write!(f, "the channel layer did not take the message: {error}")
            }
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Serialize(error) => Some(error),
            SendError::Layer(error) => Some(error),
        }
    }
}
