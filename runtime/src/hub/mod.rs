//! The hub: this process's live connections, their groups, and the way to
//! reach them from anywhere, through the channel layer across processes.
//!
//! Every accepted connection is registered in its app's [`Hub`] for as long
//! as it lives, indexed by user, session, token and group. That index is
//! what makes revocation reach live sockets (an HTTP logout closes that
//! session's sockets), lets HTTP handlers and background tasks send to
//! groups, enforces the per-user and per-address caps, and drains
//! connections at shutdown.

mod conns;
mod event;
mod links;
mod mailbox;
mod recipients;
mod registration;
mod registry;
mod specs;

use std::any::TypeId;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use axum::extract::FromRef;
use tokio::sync::Notify;

pub use event::Event;
pub use mailbox::Overflow;
pub use recipients::{Recipients, SendError};

pub(crate) use links::HubLinks;
pub(crate) use mailbox::{Delivery, Mailbox};
pub(crate) use registration::Registration;
pub(crate) use registry::{Caps, Refusal};

use crate::auth::Credential;
use crate::close::CloseCode;
use crate::cx::ConnectionId;
use crate::defaults::AppDefaults;
use crate::endpoint::{Endpoint, Spec};
use crate::layer::{Address, Body, ChannelLayer, Envelope, Node, NodeId};
use registry::{Member, Registry};
use specs::Specs;

/// The live connections of an app, and the way to reach them.
///
/// Put one in the router state (the router finds it through axum's
/// `FromRef`); clone it into HTTP handlers and background tasks to send to
/// groups and users or to close their sockets. Clones share one registry.
///
/// ```
/// use axum::Router;
/// use axum::extract::{FromRef, State};
/// use axum::routing::post;
/// use sockwarden::prelude::*;
/// use sockwarden::Hub;
///
/// #[consumer(path = "/ws/news")]
/// struct News;
///
/// impl Consumer for News {
///     type In = serde_json::Value;
///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
///         cx.join("news");
///         Connect::Accept
///     }
///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
///         Ok(())
///     }
/// }
///
/// #[derive(Clone)]
/// struct App { hub: Hub }
///
/// impl FromRef<App> for Hub {
///     fn from_ref(app: &App) -> Hub { app.hub.clone() }
/// }
///
/// // An HTTP handler publishes to every socket in the group.
/// async fn publish(State(hub): State<Hub>, body: String) -> &'static str {
///     let event = serde_json::json!({"type": "news", "body": body});
///     match hub.group("news").send(&event).await {
///         Ok(()) => "sent",
///         Err(_) => "not sent to other processes",
///     }
/// }
///
/// let app: Router = Router::new()
///     .consumer::<News>()
///     .route("/publish", post(publish))
///     .with_state(App { hub: Hub::new() });
/// # let _ = app;
/// ```
///
/// A stateless app (`Router<()>`) gets a process-wide hub without asking;
/// an app that sends from elsewhere, or tests that run in parallel in one
/// process, should hold their own.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    registry: Mutex<Registry>,
    /// Woken whenever the last connection leaves.
    drained: Notify,
    layer: Option<Arc<dyn ChannelLayer>>,
    node: NodeId,
    /// Set at most once, where the hub is built: every consumer resolves
    /// its spec against the same defaults for the hub's life.
    defaults: OnceLock<AppDefaults>,
    specs: Specs,
}

impl Hub {
    /// A hub for one process: groups and revocation reach this process's
    /// connections only.
    pub fn new() -> Hub {
        Hub::build(None)
    }

    /// A hub that also reaches the connections of every other process on
    /// the same channel layer (for example one Redis).
    ///
    /// ```
    /// use sockwarden::Hub;
    /// use sockwarden::layer::MemoryLayer;
    ///
    /// // Two hubs on one in-memory layer behave like two processes on one Redis.
    /// let layer = MemoryLayer::new();
    /// let (a, b) = (Hub::with_layer(layer.clone()), Hub::with_layer(layer));
    /// # let _ = (a, b);
    /// ```
    pub fn with_layer(layer: impl ChannelLayer) -> Hub {
        let hub = Hub::build(Some(Arc::new(layer)));
        if let Some(layer) = &hub.inner.layer {
            layer.attach(Node::new(Arc::downgrade(&hub.inner), hub.inner.node));
        }
        hub
    }

    fn build(layer: Option<Arc<dyn ChannelLayer>>) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                registry: Mutex::default(),
                drained: Notify::new(),
                layer,
                node: NodeId::random(),
                defaults: OnceLock::new(),
                specs: Specs::default(),
            }),
        }
    }

    /// Sets the app's defaults: the limits and origin policy of every
    /// consumer that does not declare its own, and the reverse proxies it
    /// trusts. See [`AppDefaults`].
    ///
    /// # Panics
    ///
    /// When this hub (or a clone of it) already has defaults: they are set
    /// once, where the hub is built, so that every connection of a consumer
    /// runs under the same ones.
    ///
    /// ```
    /// use axum::Router;
    /// use sockwarden::prelude::*;
    /// use sockwarden::{AppDefaults, Hub, OriginPolicy};
    ///
    /// #[consumer(path = "/ws/feed")]
    /// struct Feed;
    /// # impl Consumer for Feed {
    /// #     type In = sockwarden::Frame;
    /// #     async fn receive(&mut self, _: &mut Cx<Self>, _: sockwarden::Frame) -> Result<(), Error> { Ok(()) }
    /// # }
    ///
    /// let hub = Hub::new().with_defaults(
    ///     AppDefaults::new()
    ///         .max_message_size(64 * 1024)
    ///         .origins(OriginPolicy::list(&["https://app.example.com"])),
    /// );
    /// assert_eq!(hub.defaults().unwrap(), &AppDefaults::new()
    ///     .max_message_size(64 * 1024)
    ///     .origins(OriginPolicy::list(&["https://app.example.com"])));
    /// let app: Router = Router::new().consumer::<Feed>().with_state(hub);
    /// # let _ = app;
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_defaults(self, defaults: AppDefaults) -> Hub {
        if self.inner.defaults.set(defaults).is_err() {
            panic!("this hub already has its defaults: call `Hub::with_defaults` once");
        }
        self
    }

    /// The app's defaults, if [`Hub::with_defaults`] set them.
    ///
    /// ```
    /// use sockwarden::{AppDefaults, Hub};
    ///
    /// assert!(Hub::new().defaults().is_none());
    /// let hub = Hub::new().with_defaults(AppDefaults::new().outbox(8));
    /// assert_eq!(hub.defaults(), Some(&AppDefaults::new().outbox(8)));
    /// ```
    pub fn defaults(&self) -> Option<&AppDefaults> {
        self.inner.defaults.get()
    }

    /// The spec consumer `C` runs with in this hub: its own `C::SPEC`
    /// without defaults, else the merged one, resolved once per consumer.
    pub(crate) fn spec<C: Endpoint>(&self) -> &'static Spec {
        match self.inner.defaults.get() {
            None => &C::SPEC,
            Some(defaults) => self
                .inner
                .specs
                .resolve(TypeId::of::<C>(), &C::SPEC, defaults),
        }
    }

    /// The process-wide hub of stateless apps.
    fn global() -> Hub {
        static GLOBAL: OnceLock<Hub> = OnceLock::new();
        GLOBAL.get_or_init(Hub::new).clone()
    }

    /// The members of a group, in every process on the layer.
    pub fn group(&self, name: impl Into<String>) -> Recipients<'_> {
        Recipients::new(self, Address::Group(name.into()))
    }

    /// Every socket of one user (its [`AuthUser::id`](crate::AuthUser::id),
    /// as text), whatever session or token it was opened with.
    pub fn user(&self, id: impl std::fmt::Display) -> Recipients<'_> {
        Recipients::new(self, Address::User(id.to_string()))
    }

    /// The sockets opened with one HTTP session.
    pub fn session(&self, id: impl Into<String>) -> Recipients<'_> {
        Recipients::new(self, Address::Session(id.into()))
    }

    /// The sockets opened with one stored token.
    pub fn token(&self, token: &str) -> Recipients<'_> {
        self.token_digest(crate::store::token_digest(token))
    }

    pub(crate) fn token_digest(&self, digest: [u8; 32]) -> Recipients<'_> {
        Recipients::new(self, Address::Token(digest))
    }

    /// Every socket.
    pub fn everyone(&self) -> Recipients<'_> {
        Recipients::new(self, Address::All)
    }

    /// How many connections are open in this process.
    pub fn connections(&self) -> usize {
        self.registry().len()
    }

    /// Whether [`Hub::shutdown`] has begun: new connections are refused.
    pub fn is_shutting_down(&self) -> bool {
        self.registry().closing
    }

    /// Drains this process's connections: new upgrades are refused with
    /// 503 (or close 1013), every open socket is closed with 1001, each
    /// consumer's `disconnect` runs, and this returns when all connection
    /// tasks have ended or `grace` has passed, with the number still open.
    ///
    /// Call it from the shutdown future given to axum's
    /// `with_graceful_shutdown`, after the signal, so that serving returns
    /// only once the sockets have drained:
    ///
    /// ```no_run
    /// # async fn run(
    /// #     listener: tokio::net::TcpListener,
    /// #     app: axum::Router,
    /// #     hub: sockwarden::Hub,
    /// #     signal: tokio::sync::oneshot::Receiver<()>,
    /// # ) {
    /// use std::time::Duration;
    ///
    /// axum::serve(listener, app)
    ///     .with_graceful_shutdown(async move {
    ///         let _ = signal.await; // `tokio::signal::ctrl_c()`, SIGTERM…
    ///         hub.shutdown(Duration::from_secs(5)).await;
    ///     })
    ///     .await
    ///     .unwrap();
    /// # }
    /// ```
    pub async fn shutdown(&self, grace: Duration) -> usize {
        {
            let mut registry = self.registry();
            registry.closing = true;
            for mailbox in registry.all() {
                mailbox.close(CloseCode::GOING_AWAY, "server shutting down".into());
            }
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let drained = self.inner.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            let left = self.connections();
            if left == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return self.connections();
            }
        }
    }

    /// Registers a connection before its consumer's `connect` runs, caps
    /// checked; it leaves the hub when the registration is dropped.
    pub(crate) fn admit(
        &self,
        id: ConnectionId,
        user: Option<String>,
        credential: Credential,
        peer: Option<IpAddr>,
        limits: &crate::endpoint::Limits,
    ) -> Result<Registration, Refusal> {
        let mailbox = Arc::new(Mailbox::new(limits.outbox, limits.overflow));
        let member = Member {
            mailbox: mailbox.clone(),
            user: user.map(Into::into),
            credential,
            peer,
            groups: Vec::new(),
        };
        let caps = Caps {
            per_user: limits.max_per_user,
            per_peer: limits.max_per_peer,
        };
        self.registry().admit(id, member, caps)?;
        Ok(Registration::new(self.clone(), id, mailbox))
    }

    pub(crate) fn join(&self, id: ConnectionId, group: &str) {
        let mut registry = self.registry();
        if registry.join(id, group)
            && let Some(layer) = &self.inner.layer
        {
            // Under the lock, so that interest changes reach the layer in
            // the order they happened.
            layer.interest(group, true);
        }
    }

    pub(crate) fn leave(&self, id: ConnectionId, group: &str) {
        let mut registry = self.registry();
        if registry.leave(id, group)
            && let Some(layer) = &self.inner.layer
        {
            layer.interest(group, false);
        }
    }

    pub(crate) fn remove(&self, id: ConnectionId) {
        let mut registry = self.registry();
        let emptied = registry.remove(id);
        if let Some(layer) = &self.inner.layer {
            for group in &emptied {
                layer.interest(group, false);
            }
        }
        if registry.len() == 0 {
            self.inner.drained.notify_waiters();
        }
    }

    /// Delivers to this process's connections only.
    pub(crate) fn deliver(&self, to: &Address, body: &Body) {
        let registry = self.registry();
        let each = |mailbox: &Arc<Mailbox>| match body {
            Body::Event(event) => mailbox.push(event.clone()),
            Body::Close { code, reason } => mailbox.close(*code, reason.clone().into()),
        };
        match to {
            Address::Group(name) => registry.group(name).for_each(each),
            Address::User(id) => registry.user(id).for_each(each),
            Address::Session(id) => registry.session(id).for_each(each),
            Address::Token(digest) => registry.token(digest).for_each(each),
            Address::All => registry.all().for_each(each),
        }
    }

    /// Hands an envelope to the other processes.
    pub(crate) async fn publish(&self, to: Address, body: Body) -> Result<(), SendError> {
        let Some(layer) = &self.inner.layer else {
            return Ok(());
        };
        let envelope = Envelope {
            from: self.inner.node,
            to,
            body,
        };
        layer.publish(envelope).await.map_err(SendError::from)
    }

    /// The groups that have members here (for a layer that resubscribes
    /// after reconnecting).
    pub(crate) fn local_groups(&self) -> Vec<String> {
        self.registry()
            .groups()
            .map(|group| group.to_string())
            .collect()
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // Every registry operation leaves it consistent before it can panic
        // (no user code runs under the lock), so a poisoned lock is usable.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Hub {
        Hub { inner }
    }

    pub(crate) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn as_ptr(&self) -> *const Inner {
        Arc::as_ptr(&self.inner)
    }
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::new()
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.connections())
            .field("layer", &self.inner.layer.is_some())
            .field("defaults", &self.defaults())
            .finish()
    }
}

/// A stateless app (`Router<()>`) uses the process-wide hub.
impl FromRef<()> for Hub {
    fn from_ref(_: &()) -> Hub {
        Hub::global()
    }
}
