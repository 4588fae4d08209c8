//! A channel layer inside one process.

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;

use super::{ChannelLayer, Envelope, LayerError, Node};

/// Connects the hubs of one process as a shared Redis connects processes:
/// what one hub publishes, every other attached hub delivers. Delivery is
/// immediate and never fails.
///
/// ```
/// use sockwarden::Hub;
/// use sockwarden::layer::MemoryLayer;
///
/// let layer = MemoryLayer::new();
/// let east = Hub::with_layer(layer.clone());
/// let west = Hub::with_layer(layer);
/// # let _ = (east, west);
/// ```
#[derive(Clone, Default)]
pub struct MemoryLayer {
    nodes: Arc<Mutex<Vec<Node>>>,
}

impl MemoryLayer {
    /// A layer with no hub attached yet.
    pub fn new() -> MemoryLayer {
        MemoryLayer::default()
    }
}

impl ChannelLayer for MemoryLayer {
    fn attach(&self, node: Node) {
        self.nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(node);
    }

    fn publish(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), LayerError>> {
        // Delivered outside the lock: a hub's delivery takes its own lock.
        let nodes = self
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let gone = nodes.iter().any(|node| !node.deliver(&envelope));
        if gone {
            self.nodes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(Node::is_attached);
        }
        Box::pin(async { Ok(()) })
    }
}

impl std::fmt::Debug for MemoryLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLayer").finish_non_exhaustive()
    }
}
