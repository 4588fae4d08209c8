//! The task that hands what the subscriber receives to the attached hubs.

use std::sync::{Arc, Mutex, PoisonError};

use fred::types::Message;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::layer::{Envelope, Node};

/// Runs until the subscriber quits (its stream closes) or every attached
/// hub is gone.
pub(super) async fn run(mut messages: broadcast::Receiver<Message>, nodes: Arc<Mutex<Vec<Node>>>) {
    loop {
        match messages.recv().await {
            Ok(message) => {
                if !deliver(&nodes, &message) {
                    return;
                }
            }
            // Only a burst beyond the channel's capacity does this; the
            // envelopes are lost, which at-most-once allows, but say so.
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the Redis layer fell behind and dropped envelopes");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Hands one message to every hub; `false` once no hub is left.
fn deliver(nodes: &Mutex<Vec<Node>>, message: &Message) -> bool {
    if let Some(envelope) = parse(message) {
        // Delivered outside the lock, as the memory layer does: a hub's
        // delivery takes its own lock, and `attach` must not wait on it.
        let attached = nodes.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let gone = attached.iter().any(|node| !node.deliver(&envelope));
        if gone {
            let mut nodes = nodes.lock().unwrap_or_else(PoisonError::into_inner);
            nodes.retain(Node::is_attached);
            return !nodes.is_empty();
        }
    }
    true
}

/// The envelope in a message; anything else on our channels (another
/// version of the app, a stray `PUBLISH`) is logged and dropped, never a
/// panic.
fn parse(message: &Message) -> Option<Envelope> {
    let Some(bytes) = message.value.as_bytes() else {
        tracing::warn!(
            channel = %message.channel,
            kind = ?message.value.kind(),
            "ignored a Redis message that is not a string"
        );
        return None;
    };
    match serde_json::from_slice(bytes) {
        Ok(envelope) => Some(envelope),
        Err(error) => {
            tracing::warn!(
                channel = %message.channel,
                %error,
                "ignored a Redis message that is not an envelope"
            );
            None
        }
    }
}
