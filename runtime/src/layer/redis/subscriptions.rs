//! The task that keeps the subscriber's channels in line with the groups
//! the hub has members of, whatever Redis does.
//!
//! It holds what *should* be subscribed (`wanted`) and what may differ on
//! the server (`dirty`), and works the difference off: after each change,
//! after each reconnect (a new connection has no subscriptions, so every
//! wanted channel is dirty), and every [`RETRY`] while anything is left.
//! So a group joined while Redis is away is subscribed once it is back,
//! and one SUBSCRIBE that fails for any reason is tried again, without any
//! caller waiting for it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::error::Error as FredError;
use fred::prelude::{Client, ClientLike, Options, PubsubInterface, Server};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::channels::Channels;

/// How often dirty channels are tried again.
const RETRY: Duration = Duration::from_millis(500);

/// A hub gained its first (`interested`) or lost its last member of a group.
#[derive(Debug)]
pub(super) struct Change {
    pub(super) group: String,
    pub(super) interested: bool,
}

pub(super) struct Subscriptions {
    subscriber: SubscriberClient,
    /// Quit with the subscriber when the layer is dropped.
    publisher: Client,
    channels: Channels,
    /// Channel → how many attached hubs want it. `{prefix}:all` is always
    /// wanted. A count, not a flag, in case several hubs share the layer.
    wanted: HashMap<String, usize>,
    /// Channels whose subscription on the server may not match `wanted`.
    dirty: BTreeSet<String>,
    timeout: Duration,
    server: Arc<str>,
    /// Whether the subscriber is believed connected: losing Redis and
    /// getting it back are logged once each, not once per attempt.
    up: bool,
}

impl Subscriptions {
    pub(super) fn new(
        subscriber: SubscriberClient,
        publisher: Client,
        channels: Channels,
        timeout: Duration,
        server: Arc<str>,
    ) -> Subscriptions {
        let wanted = HashMap::from([(channels.all().to_owned(), 1)]);
        Subscriptions {
            subscriber,
            publisher,
            channels,
            wanted,
            dirty: BTreeSet::new(),
            timeout,
            server,
            up: true,
        }
    }

    /// Runs until the layer is dropped (its sender closes), then closes
    /// both connections and stops `inbound`.
    pub(super) async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<Change>,
        mut reconnects: broadcast::Receiver<Server>,
        mut errors: broadcast::Receiver<(FredError, Option<Server>)>,
        inbound: JoinHandle<()>,
    ) {
        let mut retry = tokio::time::interval(RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                change = changes.recv() => {
                    let Some(change) = change else { break };
                    self.change(change);
                    // Take every change queued meanwhile: one SUBSCRIBE
                    // for a burst of joins.
                    while let Ok(change) = changes.try_recv() {
                        self.change(change);
                    }
                }
                reconnected = reconnects.recv() => match reconnected {
                    // A lagged receiver missed reconnects: resubscribe all
                    // the same.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.reconnected().await;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                error = errors.recv() => match error {
                    Ok((error, _)) => self.lost(&error),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = retry.tick(), if !self.dirty.is_empty() => {}
            }
            self.sync().await;
        }
        inbound.abort();
        let _ = tokio::join!(self.subscriber.quit(), self.publisher.quit());
    }

    fn change(&mut self, Change { group, interested }: Change) {
        let channel = self.channels.group(&group);
        if interested {
            let count = self.wanted.entry(channel.clone()).or_default();
            *count += 1;
            if *count == 1 {
                self.dirty.insert(channel);
            }
        } else if let Some(count) = self.wanted.get_mut(&channel) {
            *count -= 1;
            if *count == 0 {
                self.wanted.remove(&channel);
                self.dirty.insert(channel);
            }
        }
    }

    fn lost(&mut self, error: &FredError) {
        if self.up {
            self.up = false;
            tracing::warn!(
                server = %self.server,
                %error,
                "the Redis layer lost its connection; local delivery goes on, \
                 other processes are unreachable until it reconnects"
            );
        }
    }

    /// A new connection has no subscriptions: every wanted channel is to
    /// be subscribed again, and none needs unsubscribing.
    async fn reconnected(&mut self) {
        self.dirty = self.wanted.keys().cloned().collect();
        if !self.up {
            self.up = true;
            tracing::info!(
                server = %self.server,
                channels = self.dirty.len(),
                "the Redis layer reconnected; subscribing again"
            );
        }
        // fred announces the new connection before it takes commands;
        // wait for that (bounded), so the first sync does not fail fast.
        let _ = tokio::time::timeout(self.timeout, self.subscriber.wait_for_connect()).await;
    }

    /// Brings the server in line with `wanted`, as far as it answers.
    async fn sync(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let (subscribe, unsubscribe): (Vec<String>, Vec<String>) = self
            .dirty
            .iter()
            .cloned()
            .partition(|channel| self.wanted.contains_key(channel));
        // Fail fast while disconnected: the retry tick and the reconnect
        // resubscription cover it, and a queued command would only hold
        // up the changes behind it.
        let options = Options {
            fail_fast: true,
            timeout: Some(self.timeout),
            ..Options::default()
        };
        let client = self.subscriber.with_options(&options);
        if !subscribe.is_empty() {
            match client.subscribe(subscribe.clone()).await {
                Ok(()) => self.clean(&subscribe),
                Err(error) => self.failed("SUBSCRIBE", subscribe.len(), &error),
            }
        }
        if !unsubscribe.is_empty() {
            match client.unsubscribe(unsubscribe.clone()).await {
                Ok(()) => self.clean(&unsubscribe),
                Err(error) => self.failed("UNSUBSCRIBE", unsubscribe.len(), &error),
            }
        }
    }

    fn clean(&mut self, done: &[String]) {
        for channel in done {
            self.dirty.remove(channel);
        }
    }

    fn failed(&self, command: &str, channels: usize, error: &FredError) {
        // Expected while Redis is away (already logged once); worth a
        // warning only when the connection is up.
        if self.up && self.subscriber.is_connected() {
            tracing::warn!(server = %self.server, command, channels, %error, "the Redis layer will try again");
        } else {
            tracing::debug!(server = %self.server, command, channels, %error, "the Redis layer will try again");
        }
    }
}
