//! The options of a Redis layer, and how it connects.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::prelude::{
    Builder, ClientLike, Config, EventInterface, Options, PubsubInterface, ReconnectPolicy,
};
use tokio::sync::mpsc;

use super::channels::Channels;
use super::failure::Failure;
use super::subscriptions::Subscriptions;
use super::{RedisLayer, inbound};
use crate::layer::LayerError;

/// The first reconnect attempt waits this long; each next one twice as
/// long, up to the builder's `max_reconnect_delay`.
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);

/// Envelopes received but not yet handed to the hub. Handing over is a
/// few pushes into bounded inboxes, so this is only for bursts; past it,
/// envelopes are dropped with a warning (fred's default of 32 is small).
const INBOUND_CAPACITY: usize = 4096;

/// The options of a [`RedisLayer`], made by [`RedisLayer::builder`].
///
/// ```no_run
/// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
/// use std::time::Duration;
/// use sockwarden::layer::RedisLayer;
///
/// let layer = RedisLayer::builder("redis://127.0.0.1:6379")
///     .prefix("myapp")
///     .publish_timeout(Duration::from_secs(1))
///     .connect_timeout(Duration::from_secs(3))
///     .max_reconnect_delay(Duration::from_secs(5))
///     .connect()
///     .await?;
/// # let _ = layer;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `.connect().await`"]
pub struct RedisLayerBuilder {
    url: String,
    prefix: String,
    publish_timeout: Duration,
    connect_timeout: Duration,
    max_reconnect_delay: Duration,
}

impl RedisLayerBuilder {
    pub(super) fn new(url: &str) -> RedisLayerBuilder {
        RedisLayerBuilder {
            url: url.to_owned(),
            prefix: "sockwarden".to_owned(),
            publish_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
        }
    }

    /// The start of every channel name (`{prefix}:all`, `{prefix}:g:{group}`);
    /// `sockwarden` by default. Apps (or test runs) that share one Redis
    /// but must not reach each other's sockets use different prefixes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
    /// let staging = sockwarden::layer::RedisLayer::builder("redis://127.0.0.1:6379")
    ///     .prefix("staging")
    ///     .connect()
    ///     .await?;
    /// # let _ = staging;
    /// # Ok(()) }
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> RedisLayerBuilder {
        self.prefix = prefix.into();
        self
    }

    /// How long a send may wait for Redis to take its envelope before it
    /// fails; 2 s by default. While the connection is known to be down it
    /// fails at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sockwarden::layer::RedisLayer::builder("redis://127.0.0.1:6379")
    ///     .publish_timeout(Duration::from_millis(500));
    /// # let _ = builder;
    /// ```
    pub fn publish_timeout(mut self, timeout: Duration) -> RedisLayerBuilder {
        self.publish_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long opening a connection to Redis may take, at start and at
    /// each reconnect attempt; 5 s by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sockwarden::layer::RedisLayer::builder("redis://127.0.0.1:6379")
    ///     .connect_timeout(Duration::from_secs(1));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> RedisLayerBuilder {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The longest wait between two reconnect attempts; 2 s by default.
    /// Attempts start 100 ms after the connection is lost and double each
    /// time up to this, with up to 100 ms of jitter, and never stop. Once
    /// Redis is back, the layer is reconnected within about this long.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = sockwarden::layer::RedisLayer::builder("redis://127.0.0.1:6379")
    ///     .max_reconnect_delay(Duration::from_secs(10));
    /// # let _ = builder;
    /// ```
    pub fn max_reconnect_delay(mut self, delay: Duration) -> RedisLayerBuilder {
        self.max_reconnect_delay = delay.max(FIRST_RECONNECT_DELAY);
        self
    }

    /// Opens the two connections (one publishes, one subscribes) and
    /// subscribes to `{prefix}:all`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sockwarden::layer::LayerError> {
    /// let layer = sockwarden::layer::RedisLayer::builder("redis://127.0.0.1:6379")
    ///     .connect()
    ///     .await?;
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When the URL is invalid or asks for TLS (`rediss://`, not supported:
    /// the fred TLS features are not enabled), or Redis does not answer
    /// within the connect timeout.
    pub async fn connect(self) -> Result<RedisLayer, LayerError> {
        // Without one of fred's TLS features, fred would only log a warning
        // and speak plain text to a TLS port.
        if self
            .url
            .get(..9)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"))
        {
            return Err(LayerError::new(Failure::no_tls()));
        }
        let config = Config::from_url(&self.url).map_err(|error| {
            // fred's URL errors do not repeat the URL, which may hold a
            // password.
            LayerError::new(Failure::url(error))
        })?;
        let server: Arc<str> = config
            .server
            .hosts()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
            .into();
        let builder = self.fred_builder(config);
        let publisher = builder.build().map_err(|e| connect_failure(&server, e))?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(|e| connect_failure(&server, e))?;

        // Listen before connecting, so that no event is missed.
        let messages = subscriber.message_rx();
        let reconnects = subscriber.reconnect_rx();
        let errors = subscriber.error_rx();

        // `init` fails at once on a refused connection and after the
        // connect timeout on an unanswered one (fred's `fail_fast` config,
        // on by default, skips the reconnect policy for the first attempt).
        publisher
            .init()
            .await
            .map_err(|e| connect_failure(&server, e))?;
        if let Err(error) = subscriber.init().await {
            let _ = publisher.quit().await;
            return Err(connect_failure(&server, error));
        }

        let channels = Channels::new(&self.prefix);
        let options = Options {
            timeout: Some(self.connect_timeout),
            ..Options::default()
        };
        if let Err(error) = subscriber
            .with_options(&options)
            .subscribe(channels.all().to_owned())
            .await
        {
            let _ = tokio::join!(publisher.quit(), subscriber.quit());
            return Err(connect_failure(&server, error));
        }

        let nodes = Arc::new(Mutex::new(Vec::new()));
        let inbound = tokio::spawn(inbound::run(messages, nodes.clone()));
        let (changes, changes_rx) = mpsc::unbounded_channel();
        let subscriptions = Subscriptions::new(
            subscriber,
            publisher.clone(),
            channels.clone(),
            self.publish_timeout,
            server.clone(),
        );
        tokio::spawn(subscriptions.run(changes_rx, reconnects, errors, inbound));

        Ok(RedisLayer {
            publisher,
            channels,
            publish_timeout: self.publish_timeout,
            server,
            nodes,
            changes,
        })
    }

    fn fred_builder(&self, config: Config) -> Builder {
        let mut policy = ReconnectPolicy::new_exponential(
            0, // never give up: the app outlives any Redis outage
            millis(FIRST_RECONNECT_DELAY),
            millis(self.max_reconnect_delay),
            2,
        );
        policy.set_jitter(100);
        let mut builder = Builder::from_config(config);
        builder
            .set_policy(policy)
            .with_connection_config(|connection| {
                connection.connection_timeout = self.connect_timeout;
                connection.internal_command_timeout = self.connect_timeout;
            })
            .with_performance_config(|performance| {
                performance.broadcast_channel_capacity = INBOUND_CAPACITY;
            });
        builder
    }
}

fn connect_failure(server: &str, error: fred::error::Error) -> LayerError {
    LayerError::new(Failure::connect(server, error))
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tls_and_malformed_urls_are_refused_before_any_connection() {
        for (url, expected) in [
            (
                "rediss://127.0.0.1:6379",
                "TLS (rediss://) is not supported",
            ),
            (
                "REDISS://127.0.0.1:6379",
                "TLS (rediss://) is not supported",
            ),
            ("redis://:hunter2@127.0.0.1:port", "invalid Redis URL"),
        ] {
            let error = RedisLayer::connect(url).await.expect_err(url).to_string();
            assert!(error.contains(expected), "{url}: {error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_server_that_refuses_fails_the_connect_and_names_it() {
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a spare port")
            .port();
        let error = RedisLayer::builder(&format!("redis://127.0.0.1:{port}"))
            .connect_timeout(Duration::from_secs(1))
            .connect()
            .await
            .expect_err("nothing listens")
            .to_string();
        assert!(
            error.starts_with(&format!("cannot connect to Redis at 127.0.0.1:{port}")),
            "{error}"
        );
    }
}
