//! The lifecycle a consumer implements: connect, receive, disconnect.

use std::future::Future;

use crate::close::Disconnect;
use crate::cx::Cx;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::hub::Event;
use crate::message::Inbound;
use crate::reject::Rejection;

/// A WebSocket consumer: what happens on one connection.
///
/// The struct is declared with `#[consumer(...)]`, which fills it from the
/// handshake; this trait is the behaviour. Each connection gets its own
/// value, and its messages are handled one at a time, in order.
///
/// A panic in `connect`, `receive` or `disconnect` is caught and fails only
/// its own connection (HTTP 500 or close 1011), unless the binary is built
/// with `panic = "abort"`, in which case it ends the whole process.
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// struct Say { body: String }
///
/// #[consumer(path = "/ws/shout/{room}")]
/// struct Shout {
///     #[path] room: String,
///     said: u32,
/// }
///
/// impl Consumer for Shout {
///     type In = Say;
///
///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
///         if self.room == "secret" {
///             return Connect::Reject(Rejection::forbidden("no such room"));
///         }
///         Connect::Accept
///     }
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: Say) -> Result<(), Error> {
///         self.said += 1;
///         cx.send(&serde_json::json!({ "room": self.room, "body": msg.body.to_uppercase() })).await
///     }
/// }
/// ```
pub trait Consumer: Endpoint {
    /// What `receive` takes: a `serde` type decoded from JSON text frames, or
    /// [`Frame`](crate::Frame) for raw text and binary.
    type In: Inbound;

    /// Decides, once, whether the connection is accepted. Runs after auth
    /// and before the upgrade, so with `reject = "http"` a rejection is an
    /// HTTP status. Messages sent here are delivered right after the upgrade.
    /// The default accepts.
    fn connect(&mut self, cx: &mut Cx<Self>) -> impl Future<Output = Connect> + Send {
        let _ = cx;
        async { Connect::Accept }
    }

    /// Handles one message.
    ///
    /// # Errors
    ///
    /// See [`Error`]: a reply error answers with an error frame, a close
    /// error closes, any other error closes with 1011.
    fn receive(
        &mut self,
        cx: &mut Cx<Self>,
        msg: Self::In,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Handles an event sent to one of the connection's groups, to its
    /// user or to its session (see [`Hub`](crate::Hub)). The default
    /// forwards it to the client unchanged, without a copy.
    ///
    /// Events wait while `receive` runs: a connection handles one thing at
    /// a time, in order, so neither runs concurrently with the other. Up to
    /// [`Limits::outbox`](crate::Limits::outbox) of them wait; past that the
    /// consumer's [`Overflow`](crate::Overflow) policy applies.
    ///
    /// # Errors
    ///
    /// As for [`Consumer::receive`].
    fn event(
        &mut self,
        cx: &mut Cx<Self>,
        event: Event,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = &self;
        cx.send_text(event.into_text())
    }

    /// Runs once when an accepted connection ends, however it ends.
    fn disconnect(
        &mut self,
        cx: &mut Cx<Self>,
        why: Disconnect,
    ) -> impl Future<Output = ()> + Send {
        let _ = (cx, why);
        async {}
    }
}

/// The one decision `connect` makes.
#[derive(Debug)]
#[must_use]
pub enum Connect {
    /// Upgrade and serve the connection.
    Accept,
    /// Refuse it, in the consumer's rejection mode.
    Reject(Rejection),
}
