//! Channel layers: how the hubs of several processes reach each other's
//! connections.
//!
//! A [`Hub`] delivers to its own process's connections itself;
//! a channel layer carries the same message to every other hub attached to
//! it, which delivers to its own. So a group send, a "log out everywhere"
//! or a revoked token reaches every socket of the app, whichever process
//! holds it, and a layer that fails leaves local delivery working.
//!
//! - [`MemoryLayer`]: hubs in one process (tests, and apps that run several
//!   hubs); the default app needs no layer at all.
//! - `RedisLayer` (feature `redis`): processes that share one Redis.

mod envelope;
mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::sync::Weak;

use futures_util::future::BoxFuture;

pub use envelope::{Address, Body, Envelope, NodeId};
pub use memory::MemoryLayer;
#[cfg(feature = "redis")]
pub use redis::{RedisLayer, RedisLayerBuilder};

use crate::hub::{Hub, Inner};

/// Carries envelopes between the hubs of several processes.
///
/// A hub calls [`attach`](ChannelLayer::attach) once, then
/// [`publish`](ChannelLayer::publish) for each message meant for other
/// processes, and [`interest`](ChannelLayer::interest) when a group gains
/// its first local member or loses its last, so that a layer can carry
/// only the groups a process has members of. The layer hands what it
/// receives to the attached [`Node`], which ignores its own envelopes.
pub trait ChannelLayer: Send + Sync + 'static {
    /// Starts handing received envelopes to `node`.
    fn attach(&self, node: Node);

    /// Sends an envelope to the other attached hubs.
    ///
    /// # Errors
    ///
    /// When the layer cannot take it (for Redis: not connected and the
    /// retry bound passed).
    fn publish(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), LayerError>>;

    /// The attached hub now has (`true`) or no longer has (`false`) local
    /// members of `group`. Called under the hub's lock, in order: it must
    /// not block (queue the change).
    fn interest(&self, group: &str, interested: bool) {
        let _ = (group, interested);
    }
}

/// An attached hub, as its layer sees it.
#[derive(Clone)]
pub struct Node {
    hub: Weak<Inner>,
    id: NodeId,
}

impl Node {
    pub(crate) fn new(hub: Weak<Inner>, id: NodeId) -> Node {
        Node { hub, id }
    }

    /// This hub's id, which its own envelopes carry.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Delivers an envelope from another process to this hub's
    /// connections; returns `false` once the hub is gone (the layer can
    /// drop the node).
    pub fn deliver(&self, envelope: &Envelope) -> bool {
        let Some(inner) = self.hub.upgrade() else {
            return false;
        };
        if envelope.from != self.id {
            Hub::from_inner(inner).deliver(&envelope.to, &envelope.body);
        }
        true
    }

    /// Whether the hub still exists.
    pub fn is_attached(&self) -> bool {
        self.hub.strong_count() > 0
    }

    /// The groups this hub has members of, for a layer that subscribes
    /// again after reconnecting.
    pub fn groups(&self) -> Vec<String> {
        self.hub
            .upgrade()
            .map(|inner| Hub::from_inner(inner).local_groups())
            .unwrap_or_default()
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node").field("id", &self.id).finish()
    }
}

/// A channel layer that failed to carry a message.
#[derive(Debug)]
pub struct LayerError(Box<dyn std::error::Error + Send + Sync>);

impl LayerError {
    /// Wraps the layer's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> LayerError {
        LayerError(error.into())
    }
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LayerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
