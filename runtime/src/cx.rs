//! The per-connection handle a consumer talks through.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::SinkExt;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::close::CloseCode;
use crate::current::Current;
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::hub::{Hub, Mailbox, Recipients, Registration};
use crate::message::Text;
use crate::scope::Scope;

pub(crate) type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// A connection's id, unique in this process; in every log line about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    pub(crate) fn next() -> ConnectionId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnectionId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One connection, as its consumer sees it: its scope, and the means to
/// send and to close.
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[consumer(path = "/ws/echo")]
/// struct Echo;
///
/// impl Consumer for Echo {
///     type In = serde_json::Value;
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: serde_json::Value) -> Result<(), Error> {
///         if msg == "bye" {
///             cx.close(CloseCode::NORMAL, "bye");
///             return Ok(());
///         }
///         cx.send(&msg).await
///     }
/// }
/// ```
pub struct Cx<C: Endpoint> {
    id: ConnectionId,
    scope: Scope<C::User>,
    outbox: Outbox,
    close: Option<(CloseCode, Cow<'static, str>)>,
    registration: Registration,
    /// Groups joined during `connect`, joined for real once it accepts.
    joining: Option<Vec<String>>,
    /// What `current_user` answers inside this connection's handlers.
    current: Current,
}

/// Where sent messages go: held until the upgrade completes, then the socket.
// The socket is inline on purpose: the outbox is `Open` for the whole life of
// the connection, and a box would cost an indirection on every send.
#[allow(clippy::large_enum_variant)]
enum Outbox {
    Pending(Vec<Message>),
    Open(Socket),
}

impl<C: Endpoint> Cx<C> {
    pub(crate) fn new(
        id: ConnectionId,
        scope: Scope<C::User>,
        registration: Registration,
    ) -> Cx<C> {
        let current = Current::new(id, scope.user());
        Cx {
            id,
            scope,
            outbox: Outbox::Pending(Vec::new()),
            close: None,
            current,
            registration,
            joining: Some(Vec::new()),
        }
    }

    /// This connection's id.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The handshake's scope (see [`Scope`] for what stays after accept).
    pub fn scope(&self) -> &Scope<C::User> {
        &self.scope
    }

    /// The authenticated user, `None` when anonymous.
    pub fn user(&self) -> Option<&C::User> {
        self.scope.user()
    }

    /// Joins a group: events sent to it reach this connection (see
    /// [`Consumer::event`](crate::Consumer::event)) until it leaves or ends.
    ///
    /// Called in `connect`, the join takes effect only if `connect`
    /// accepts: a refused connection never joins a group. Group names are
    /// any UTF-8 string; a membership lasts as long as the connection,
    /// with no expiry.
    pub fn join(&mut self, group: &str) {
        match &mut self.joining {
            Some(pending) => pending.push(group.to_owned()),
            None => self.registration.join(group),
        }
    }

    /// Leaves a group (nothing happens if it was not joined).
    pub fn leave(&mut self, group: &str) {
        match &mut self.joining {
            Some(pending) => pending.retain(|joined| joined != group),
            None => self.registration.leave(group),
        }
    }

    /// The members of a group, this connection included if it joined:
    /// `cx.group("room").send(&msg).await`.
    pub fn group(&self, name: impl Into<String>) -> Recipients<'_> {
        self.registration.hub().group(name)
    }

    /// The app's hub: to reach users, sessions and other groups.
    pub fn hub(&self) -> &Hub {
        self.registration.hub()
    }

    /// How many events this connection's inbox dropped under
    /// [`Overflow::DropOldest`](crate::Overflow::DropOldest).
    pub fn dropped(&self) -> u64 {
        self.registration.mailbox().dropped()
    }

    /// `connect` accepted: the joins it asked for happen now.
    pub(crate) fn accepted(&mut self) {
        for group in self.joining.take().unwrap_or_default() {
            self.registration.join(&group);
        }
    }

    /// The task-local context for a call into the consumer.
    pub(crate) fn current(&self) -> Current {
        self.current.clone()
    }

    pub(crate) fn mailbox(&self) -> Arc<Mailbox> {
        self.registration.mailbox().clone()
    }

    /// Sends `msg` as a JSON text frame.
    ///
    /// # Errors
    ///
    /// When the connection is gone; returning that error from a handler ends
    /// the connection quietly.
    pub async fn send<T: Serialize + ?Sized>(&mut self, msg: &T) -> Result<(), Error> {
        let text = serde_json::to_string(msg)?;
        self.send_message(Message::text(text)).await
    }

    /// Sends a text frame. A [`Text`] received is sent back without a copy.
    ///
    /// # Errors
    ///
    /// As [`Cx::send`].
    pub async fn send_text(&mut self, text: impl Into<Text>) -> Result<(), Error> {
        self.send_message(Message::Text(text.into().into_inner()))
            .await
    }

    /// Sends a binary frame.
    ///
    /// # Errors
    ///
    /// As [`Cx::send`].
    pub async fn send_binary(&mut self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.send_message(Message::Binary(bytes.into())).await
    }

    /// Closes the connection with `code` and `reason` once the current
    /// handler returns; `disconnect` then runs with
    /// [`Disconnect::Server`](crate::Disconnect::Server). Called during
    /// `connect`, it closes right after the upgrade.
    pub fn close(&mut self, code: CloseCode, reason: impl Into<Cow<'static, str>>) {
        self.close = Some((code, reason.into()));
    }

    pub(crate) async fn send_message(&mut self, message: Message) -> Result<(), Error> {
        match &mut self.outbox {
            Outbox::Pending(queue) => {
                queue.push(message);
                Ok(())
            }
            // A close order (a logout, a full inbox, shutdown) stops a write
            // that waits on a client which does not read: the handler gets
            // `Gone`, and the connection closes as ordered.
            // Once ordered closed, nothing more is sent: the close frame is next.
            Outbox::Open(socket) => tokio::select! {
                biased;
                () = self.registration.mailbox().stopped() => Err(Error(ErrorKind::Gone)),
                sent = socket.send(message) => sent.map_err(|_| Error(ErrorKind::Gone)),
            },
        }
    }

    /// Attaches the upgraded socket and sends what `connect` queued.
    pub(crate) async fn open(&mut self, socket: Socket) -> Result<(), Error> {
        let Outbox::Pending(queued) = std::mem::replace(&mut self.outbox, Outbox::Open(socket))
        else {
            return Ok(());
        };
        for message in queued {
            self.send_message(message).await?;
        }
        Ok(())
    }

    pub(crate) fn socket(&mut self) -> Option<&mut Socket> {
        match &mut self.outbox {
            Outbox::Open(socket) => Some(socket),
            Outbox::Pending(_) => None,
        }
    }

    pub(crate) fn take_close(&mut self) -> Option<(CloseCode, Cow<'static, str>)> {
        self.close.take()
    }

    pub(crate) fn scope_mut(&mut self) -> &mut Scope<C::User> {
        &mut self.scope
    }
}

impl<C: Endpoint> fmt::Debug for Cx<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx")
            .field("id", &self.id)
            .field("consumer", &C::SPEC.name)
            .finish_non_exhaustive()
    }
}
