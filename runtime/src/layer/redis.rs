//! The Redis channel layer: hubs in processes that share one Redis reach
//! each other's connections through Redis pub/sub.
//!
//! What it promises, and what it does not, is documented on
//! [`RedisLayer`], where users read it. In short: at-most-once, in order per
//! publishing hub, nothing kept for a process that is away from Redis.
//!
//! The parts, one per file:
//!
//! - [`builder`]: the options, and the two connections (`connect`).
//! - [`channels`]: which Redis channel carries which address.
//! - [`subscriptions`]: the task that keeps the subscriber's channels in
//!   line with the hub's groups, and restores them after a reconnect.
//! - [`inbound`]: the task that hands received envelopes to the hub.
//! - [`failure`]: the errors, worded for the operator.

mod builder;
mod channels;
mod failure;
mod inbound;
mod subscriptions;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fred::prelude::{Client, ClientLike, Options, PubsubInterface};
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

pub use builder::RedisLayerBuilder;

use super::{ChannelLayer, Envelope, LayerError, Node};
use channels::Channels;
use failure::Failure;
use subscriptions::Change;

/// A channel layer on Redis pub/sub, for an app that runs several processes
/// (or machines) sharing one Redis: a group send, a "log out everywhere" or
/// a revoked token made in one process reaches the sockets of all of them.
///
/// ```no_run
/// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
/// use sockwarden::Hub;
/// use sockwarden::layer::RedisLayer;
///
/// let layer = RedisLayer::connect("redis://127.0.0.1:6379").await?;
/// let hub = Hub::with_layer(layer);
/// // Put `hub` in the router state; every process does the same.
/// # let _ = hub;
/// # Ok(()) }
/// ```
///
/// # Channels
///
/// Everything goes through two kinds of Redis channels, under a prefix
/// (`sockwarden` unless [`RedisLayerBuilder::prefix`] says otherwise):
///
/// - `{prefix}:all` carries what every process must see: sends to and
///   closes of users, sessions, tokens and everyone (revocation, forced
///   disconnects). Every process subscribes to it.
/// - `{prefix}:g:{group}` carries a group's events. A process subscribes
///   to it while it has at least one member of the group, and unsubscribes
///   when the last one leaves, so a process receives only the groups it
///   serves. Group names are used verbatim (Redis channel names are binary
///   safe, and no pattern subscription is used), so names with `:`, `*`,
///   spaces or any Unicode are distinct channels.
///
/// An envelope is JSON ([`Envelope`]). Anyone who can publish to this
/// Redis can therefore send to and close any socket of the app: the Redis
/// must be as trusted as the app itself.
///
/// # Delivery guarantees
///
/// Redis pub/sub is fire-and-forget, and this layer adds no storage:
///
/// - **At most once.** An envelope reaches the processes subscribed to its
///   channel when Redis handles the PUBLISH, once, or not at all. A process
///   that is disconnected from Redis at that moment (Redis restarting, a
///   network cut, a reconnect in progress) never receives it, not even
///   after it reconnects. A group joined a moment before a send from
///   another process may miss that send: the subscription is made in the
///   background, right after the join.
/// - **In order per publisher.** The envelopes one hub publishes one after
///   the other (each `send` awaited before the next) are received in that
///   order by every process that receives them. There is no order between
///   different publishers.
/// - **A failed send says so, within a bound.** A send whose envelope
///   Redis does not confirm returns [`SendError::Layer`](crate::SendError)
///   within [`publish_timeout`](RedisLayerBuilder::publish_timeout) (2 s
///   by default), and at once while the connection is known to be down.
///   The envelope is not queued in memory and not retried, so it is never
///   delivered twice, and never after a reconnect. An error means "maybe
///   not delivered": if the connection failed or stalled after Redis took
///   the PUBLISH, the other processes may have received it all the same.
///   The sender's own process has delivered to its members in any case.
/// - **Local delivery never depends on Redis**: the hub serves its own
///   connections before it publishes.
/// - **Reconnection** is automatic, with exponential backoff from 100 ms up
///   to [`max_reconnect_delay`](RedisLayerBuilder::max_reconnect_delay)
///   (2 s by default) plus up to 100 ms of jitter, forever. After it, the
///   process subscribes again to `{prefix}:all` and to every group it has
///   members of, including groups joined while Redis was away.
///
/// What it means:
///
/// - **Revocation and forced disconnects** made while a process is cut off
///   from Redis do not reach that process's sockets. For a guarantee,
///   revalidate credentials periodically (a socket whose token or session
///   is gone is then closed at the next check), and treat the layer as the
///   fast path. A send that returns an error tells the sender that the
///   other processes may not have been reached.
/// - **Groups** are for live events: a member loses what was sent while
///   its process was away from Redis. A client that needs everything must
///   fetch what it missed from the app's own storage after a gap.
///
/// Logs: losing Redis is one `warn`, getting it back one `info`; a
/// received message that is not an envelope is a `warn` with its channel,
/// and is dropped.
pub struct RedisLayer {
    publisher: Client,
    channels: Channels,
    publish_timeout: Duration,
    /// `host:port` of the server, for errors (never the URL: it may hold a
    /// password).
    server: Arc<str>,
    nodes: Arc<Mutex<Vec<Node>>>,
    /// To the subscriptions task. Unbounded because `interest` is called
    /// under the hub's lock and must not wait; it holds at most one entry
    /// per group join or leave not yet handled.
    changes: mpsc::UnboundedSender<Change>,
}

impl RedisLayer {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port[/db]`)
    /// with the default options; see [`RedisLayer::builder`] for the others.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
    /// let layer = sockwarden::layer::RedisLayer::connect("redis://127.0.0.1:6379").await?;
    /// let hub = sockwarden::Hub::with_layer(layer);
    /// # let _ = hub;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When the URL is invalid or asks for TLS (`rediss://`, not supported
    /// by this build), or Redis does not answer within the
    /// [connect timeout](RedisLayerBuilder::connect_timeout): a process
    /// that starts without its Redis fails at once rather than run alone.
    pub async fn connect(url: &str) -> Result<RedisLayer, LayerError> {
        RedisLayer::builder(url).connect().await
    }

    /// The options of a layer, before connecting.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
    /// use std::time::Duration;
    /// use sockwarden::layer::RedisLayer;
    ///
    /// let layer = RedisLayer::builder("redis://redis.internal:6379/0")
    ///     .prefix("chat-prod")
    ///     .publish_timeout(Duration::from_millis(500))
    ///     .connect()
    ///     .await?;
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> RedisLayerBuilder {
        RedisLayerBuilder::new(url)
    }

    fn failure(&self, error: fred::error::Error) -> LayerError {
        LayerError::new(Failure::publish(&self.server, error))
    }
}

impl ChannelLayer for RedisLayer {
    fn attach(&self, node: Node) {
        self.nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(node);
    }

    fn publish(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), LayerError>> {
        let channel = self.channels.of(&envelope.to);
        let payload = serde_json::to_string(&envelope);
        Box::pin(async move {
            let payload = payload.map_err(LayerError::new)?;
            // Fail fast: a PUBLISH is never queued while Redis is away, nor
            // retried after a reconnect (which could deliver it twice, or
            // long after the caller was told it failed). The timeout marks
            // the command as abandoned, so fred does not write it later.
            let options = Options {
                fail_fast: true,
                timeout: Some(self.publish_timeout),
                max_attempts: Some(1),
                ..Options::default()
            };
            let publisher = self.publisher.with_options(&options);
            let publish = publisher.publish::<i64, _, _>(channel, payload);
            // fred's own timeout answers first; this one only guarantees
            // the documented bound whatever happens inside the client.
            let bound = self.publish_timeout + Duration::from_millis(250);
            match tokio::time::timeout(bound, publish).await {
                Ok(Ok(_receivers)) => Ok(()),
                Ok(Err(error)) => Err(self.failure(error)),
                Err(_) => Err(LayerError::new(Failure::publish_timed_out(
                    &self.server,
                    self.publish_timeout,
                ))),
            }
        })
    }

    fn interest(&self, group: &str, interested: bool) {
        // Never blocks; an error only means the task has ended with the
        // layer, when nothing needs subscribing any more.
        let _ = self.changes.send(Change {
            group: group.to_owned(),
            interested,
        });
    }
}

impl std::fmt::Debug for RedisLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLayer")
            .field("server", &self.server)
            .field("prefix", &self.channels.prefix())
            .field("publish_timeout", &self.publish_timeout)
            .finish_non_exhaustive()
    }
}
