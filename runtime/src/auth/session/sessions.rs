//! [`Sessions`]: the app's session store and cookie, shared by its HTTP side
//! and its sockets.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

use super::config::{CookieConfig, is_cookie_name};
use super::cookie::{SessionCookie, session_cookie};
use super::plain::{Plain, USER_KEY};
use super::read::ReadUser;
use super::revoking::RevokingStore;
use crate::auth::{AuthUser, Carrier, Credential, Identity};
use crate::close::CloseCode;
use crate::hub::{Hub, SendError};
use crate::reject::Rejection;
use crate::store::StoreError;

/// The HTTP layer of [`Sessions::layer`]: tower-sessions' own, on the
/// app's store wrapped as a [`RevokingStore`].
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
/// use sockwarden::session::{MemoryStore, SessionLayer, Sessions};
///
/// /// Builds the app's session layer in one place.
/// fn session_layer(sessions: &Sessions<User>) -> SessionLayer {
///     sessions.layer()
/// }
/// # let _ = session_layer(&Sessions::new(MemoryStore::default()));
/// ```
pub type SessionLayer = SessionManagerLayer<RevokingStore>;

/// The close reason of the sockets [`Sessions::password_changed`] closes.
const PASSWORD_CHANGED: &str = "password changed";

/// The app's HTTP sessions, as its sockets read them: consumers declared
/// with `auth = "session"` take one from the router state (directly, or
/// through axum's `FromRef`).
///
/// It holds the app's tower-sessions store, the session cookie's settings,
/// and how the user is read from a session: the serialised user under
/// [`USER_KEY`] ([`Sessions::new`], plain tower-sessions) or axum-login's
/// session data checked against its backend ([`Sessions::axum_login`]).
/// Cloning is cheap; clones share everything.
///
/// The HTTP side must use [`Sessions::layer`], so that the cookie the page
/// gets is the cookie the socket reads, and so that ending a session closes
/// its sockets (see the [module documentation](super)).
///
/// ```
/// use axum::Router;
/// use serde::{Deserialize, Serialize};
/// use sockwarden::AuthUser;
/// use sockwarden::session::{Expiry, MemoryStore, Sessions};
/// use sockwarden::session::tower_sessions::cookie::time::Duration;
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct User { id: u64 }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
///
/// let sessions: Sessions<User> = Sessions::new(MemoryStore::default())
///     .with_cookie_name("sid")
///     .with_expiry(Expiry::OnInactivity(Duration::hours(12)));
/// let app: Router = Router::new()
///     // .route("/login", post(login)) … .consumer::<Chat>() …
///     .layer(sessions.layer())
///     .with_state(sessions);
/// # let _ = app;
/// ```
pub struct Sessions<U> {
    pub(super) store: RevokingStore,
    pub(super) reader: Arc<dyn ReadUser<U>>,
    pub(super) key: &'static str,
    pub(super) config: Arc<CookieConfig>,
    hub: Hub,
    /// Handoff codes being redeemed in this process (see `handoff`).
    pub(super) redeeming: Arc<super::handoff::Redeeming>,
}

impl<U: AuthUser> Sessions<U> {
    /// Sessions in `store`, for an app that uses plain tower-sessions: its
    /// HTTP login calls [`Sessions::login`], which stores the user itself
    /// (with serde) under [`USER_KEY`].
    ///
    /// The store is any tower-sessions store: [`MemoryStore`](super::MemoryStore),
    /// the SQLite, PostgreSQL and Redis stores of the `sqlite`, `postgres`
    /// and `redis` features ([`sqlite_store`](super::sqlite_store) and its
    /// siblings), or the app's own.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// assert_eq!(sessions.cookie_name(), "id");
    /// assert_eq!(sessions.session_key(), sockwarden::session::USER_KEY);
    /// ```
    pub fn new(store: impl SessionStore) -> Sessions<U>
    where
        U: Serialize + DeserializeOwned,
    {
        Sessions::with_reader(Arc::new(store), Arc::new(Plain::new()), USER_KEY)
    }

    pub(super) fn with_reader(
        store: Arc<dyn SessionStore>,
        reader: Arc<dyn ReadUser<U>>,
        key: &'static str,
    ) -> Sessions<U> {
        // The hub is linked on the first handshake it serves (or by
        // `with_hub`): until then it holds no socket to close.
        Sessions {
            store: RevokingStore::new(store),
            reader,
            key,
            config: Arc::default(),
            hub: Hub::new(),
            redeeming: Arc::default(),
        }
    }

    /// The session cookie's name; `id` (tower-sessions' default) unless set.
    ///
    /// # Panics
    ///
    /// When `name` cannot be a cookie name (empty, or with a separator such
    /// as `=`, `;`, a space): a browser would never send it back.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    /// assert_eq!(sessions.cookie_name(), "sid");
    /// ```
    #[must_use]
    pub fn with_cookie_name(mut self, name: impl Into<Cow<'static, str>>) -> Sessions<U> {
        let name = name.into();
        assert!(
            is_cookie_name(&name),
            "not a cookie name: {name:?}; a cookie name is made of letters, digits and \
             any of ! # $ % & ' * + - . ^ _ ` | ~"
        );
        Arc::make_mut(&mut self.config).name = name;
        self
    }

    /// How long a session lives: `OnInactivity(d)` (a cookie with
    /// `Max-Age`, the record expiring `d` after its last save; set
    /// [`with_always_save`](Sessions::with_always_save) for every request to
    /// extend it), `AtDateTime(t)`, or `OnSessionEnd` (a cookie the browser
    /// drops when it closes; the record lives two weeks). By default,
    /// `OnSessionEnd`. An expired session is anonymous on a handshake, and
    /// an open socket learns it at its next revalidation.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{Expiry, MemoryStore, Sessions};
    /// use sockwarden::session::tower_sessions::cookie::time::Duration;
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default())
    ///     .with_expiry(Expiry::OnInactivity(Duration::days(7)));
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_expiry(mut self, expiry: Expiry) -> Sessions<U> {
        Arc::make_mut(&mut self.config).expiry = Some(expiry);
        self
    }

    /// Whether the cookie is `Secure` (sent over HTTPS only); `true` by
    /// default. Browsers also send `Secure` cookies to `http://localhost`,
    /// so development works without turning it off.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// // A plain-HTTP deployment on a private network.
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_secure(false);
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Sessions<U> {
        Arc::make_mut(&mut self.config).secure = secure;
        self
    }

    /// The cookie's `SameSite`; `Strict` by default. A socket opened by a
    /// page of the same site gets the cookie with any of them; `SameSite`
    /// does not replace the origin check (sibling subdomains are the same
    /// site).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    /// use sockwarden::session::tower_sessions::cookie::SameSite;
    ///
    /// let sessions: Sessions<User> =
    ///     Sessions::new(MemoryStore::default()).with_same_site(SameSite::Lax);
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_same_site(mut self, same_site: SameSite) -> Sessions<U> {
        Arc::make_mut(&mut self.config).same_site = same_site;
        self
    }

    /// The cookie's `Path`; `/` by default. The browser sends the cookie
    /// only to paths under it, so the sockets' paths must be under it too.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// // Pages under /app, sockets under /app/ws.
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_path("/app");
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_path(mut self, path: impl Into<Cow<'static, str>>) -> Sessions<U> {
        Arc::make_mut(&mut self.config).path = path.into();
        self
    }

    /// The cookie's `Domain`; none by default (the cookie goes back to the
    /// host that set it only). With a domain, every subdomain gets it too.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// // Pages on www.example.com, sockets on ws.example.com.
    /// let sessions: Sessions<User> =
    ///     Sessions::new(MemoryStore::default()).with_domain("example.com");
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_domain(mut self, domain: impl Into<Cow<'static, str>>) -> Sessions<U> {
        Arc::make_mut(&mut self.config).domain = Some(domain.into());
        self
    }

    /// Whether the layer saves the session on every response, not only when
    /// it changed; `false` by default. With
    /// `Expiry::OnInactivity`, this is what makes activity extend the
    /// session.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_always_save(true);
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_always_save(mut self, always_save: bool) -> Sessions<U> {
        Arc::make_mut(&mut self.config).always_save = always_save;
        self
    }

    /// The session key under which the user is kept: [`USER_KEY`] for
    /// [`Sessions::new`], axum-login's default (`axum-login.data`) for
    /// [`Sessions::axum_login`]. An axum-login app whose layer was built
    /// with `with_data_key` sets the same key here (or builds its layer
    /// with [`Sessions::auth_layer`], which uses this one).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> =
    ///     Sessions::new(MemoryStore::default()).with_session_key("app.user");
    /// assert_eq!(sessions.session_key(), "app.user");
    /// ```
    #[must_use]
    pub fn with_session_key(mut self, key: &'static str) -> Sessions<U> {
        self.key = key;
        self
    }

    /// Uses `hub` for this app's sockets: the hub of an app whose state
    /// holds its own (with a channel layer, say). Revocation reaches every
    /// hub that served a session socket anyway; naming the hub here makes a
    /// logout reach the other processes even before this process has
    /// served a socket.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::Hub;
    /// use sockwarden::layer::MemoryLayer;
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let hub = Hub::with_layer(MemoryLayer::new());
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_hub(hub.clone());
    /// assert_eq!(sessions.hub().connections(), hub.connections());
    /// ```
    #[must_use]
    pub fn with_hub(mut self, hub: Hub) -> Sessions<U> {
        self.store.link(&hub);
        self.hub = hub;
        self
    }

    /// The session cookie's name.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    /// assert_eq!(sessions.cookie_name(), "sid");
    /// ```
    pub fn cookie_name(&self) -> &str {
        &self.config.name
    }

    /// The session key under which the user is kept (see
    /// [`with_session_key`](Sessions::with_session_key)).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions, USER_KEY};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// assert_eq!(sessions.session_key(), USER_KEY);
    /// ```
    pub fn session_key(&self) -> &'static str {
        self.key
    }

    /// The tower-sessions layer for the app's HTTP routes, with this
    /// cookie's settings (name, `HttpOnly`, `Secure`, `SameSite`, path,
    /// domain, expiry) and this store, wrapped so that ending a session
    /// closes its sockets. Use this one, not a second layer built by hand:
    /// see the [module documentation](super).
    ///
    /// Layer the whole router (or at least the login, logout and socket
    /// routes' router); the sockets do not need it, but it does no harm.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use axum::Router;
    /// use axum::routing::get;
    /// use sockwarden::session::{MemoryStore, Session, Sessions};
    ///
    /// async fn visits(session: Session) -> String {
    ///     let n: u32 = session.get("visits").await.ok().flatten().unwrap_or(0);
    ///     let _ = session.insert("visits", n + 1).await;
    ///     n.to_string()
    /// }
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let app: Router = Router::new()
    ///     .route("/visits", get(visits))
    ///     .layer(sessions.layer())
    ///     .with_state(sessions);
    /// # let _ = app;
    /// ```
    pub fn layer(&self) -> SessionLayer {
        self.config.layer(self.store.clone())
    }

    /// The store, as the layer uses it: deleting through it closes sockets.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// println!("{:?}", sessions.store());
    /// ```
    pub fn store(&self) -> &RevokingStore {
        &self.store
    }

    /// The hub of an app whose router state is these sessions alone
    /// (`.with_state(sessions)`), or the one given to
    /// [`with_hub`](Sessions::with_hub): clone it to send to groups and
    /// users from elsewhere.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// assert_eq!(sessions.hub().connections(), 0);
    /// ```
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Logs `user` in on the HTTP request's `session`: call it from the
    /// login handler once the password checks out. The response then sets
    /// the session cookie, and sockets opened with it are `user`.
    ///
    /// The session id is rotated (a session id planted before the login,
    /// session fixation, is worth nothing after it). A session that holds
    /// another user is emptied first: none of its data carries over to the
    /// new user, and its sockets are closed.
    ///
    /// Writes the key of this `Sessions` (so, for an axum-login app, the same
    /// data as axum-login's own `login`).
    ///
    /// # Errors
    ///
    /// When the store fails, or `user` does not serialise.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64, name: String }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use axum::extract::State;
    /// use axum::http::StatusCode;
    /// use sockwarden::session::{Session, Sessions};
    ///
    /// async fn login(State(sessions): State<Sessions<User>>, session: Session) -> StatusCode {
    ///     // … check the credentials …
    ///     let user = User { id: 1, name: "alice".into() };
    ///     match sessions.login(&session, &user).await {
    ///         Ok(()) => StatusCode::NO_CONTENT,
    ///         Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///     }
    /// }
    /// # let _ = login;
    /// ```
    pub async fn login(&self, session: &Session, user: &U) -> Result<(), StoreError> {
        let stamp = self.reader.stamp(user)?;
        let held = session.get_value(self.key).await.map_err(StoreError::new)?;
        match held {
            // Not `flush`: a flushed session that gets data again is saved
            // under its old id, which would hand the new user's session to
            // whoever planted that id.
            Some(value) if !self.reader.names(&value, user) => {
                session.clear().await;
                session.cycle_id().await.map_err(StoreError::new)?;
            }
            // `get_value` loaded the session: an id that the store does not
            // know was dropped, and `save` will make a fresh one anyway.
            _ if session.id().is_some() => {
                session.cycle_id().await.map_err(StoreError::new)?;
            }
            _ => {}
        }
        session
            .insert_value(self.key, stamp)
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }

    /// Logs the HTTP request's `session` out: deletes it from the store,
    /// which closes the sockets opened with it with 4401 `logged out`, and
    /// removes the cookie. The user's other sessions and their sockets stay.
    ///
    /// # Errors
    ///
    /// When the store fails; the session and its sockets are then left.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use axum::extract::State;
    /// use sockwarden::session::{Session, Sessions};
    ///
    /// async fn logout(State(sessions): State<Sessions<User>>, session: Session) -> &'static str {
    ///     match sessions.logout(&session).await {
    ///         Ok(()) => "logged out",
    ///         Err(_) => "try again",
    ///     }
    /// }
    /// # let _ = logout;
    /// ```
    pub async fn logout(&self, session: &Session) -> Result<(), StoreError> {
        session.flush().await.map_err(StoreError::new)
    }

    /// The user the HTTP request's `session` is logged in as, checked as a
    /// handshake checks it (for axum-login, the backend is asked and the
    /// hash compared).
    ///
    /// # Errors
    ///
    /// When the store or the backend fails.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64, name: String }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use axum::extract::State;
    /// use sockwarden::session::{Session, Sessions};
    ///
    /// async fn whoami(State(sessions): State<Sessions<User>>, session: Session) -> String {
    ///     match sessions.user(&session).await {
    ///         Ok(Some(user)) => user.name,
    ///         Ok(None) => "nobody".into(),
    ///         Err(_) => "unknown".into(),
    ///     }
    /// }
    /// # let _ = whoami;
    /// ```
    pub async fn user(&self, session: &Session) -> Result<Option<U>, StoreError> {
        match session.get_value(self.key).await.map_err(StoreError::new)? {
            Some(value) => self.reader.user(&value).await,
            None => Ok(None),
        }
    }

    /// The user of the session `id`, read from the store now (never from a
    /// cache): `None` for an unknown or expired session, one that names no
    /// user, a user that no longer exists or a stale auth hash. What a
    /// handshake and a revalidation do.
    ///
    /// # Errors
    ///
    /// When the store or the backend fails.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{Id, MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let id = sessions.create_session(&User { id: 1 }).await?;
    /// assert_eq!(sessions.load_user(&id).await?, Some(User { id: 1 }));
    /// assert_eq!(sessions.load_user(&Id::default()).await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn load_user(&self, id: &Id) -> Result<Option<U>, StoreError> {
        let Some(record) = self.store.load(id).await.map_err(StoreError::new)? else {
            return Ok(None);
        };
        // Stores filter expired records on load, but the trait does not
        // promise it.
        if record.expiry_date <= OffsetDateTime::now_utc() {
            return Ok(None);
        }
        match record.data.get(self.key) {
            Some(value) => self.reader.user(value).await,
            None => Ok(None),
        }
    }

    /// Creates a fresh session for `user` in the store and returns its id,
    /// outside any HTTP request (a one-time login link, a handoff from
    /// another channel): a client that presents it as the session cookie is
    /// `user`. The record expires as the layer's would.
    ///
    /// # Errors
    ///
    /// When the store fails, or `user` does not serialise.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    /// let id = sessions.create_session(&User { id: 7 }).await?;
    /// let cookie = format!("{}={id}", sessions.cookie_name());
    /// # let _ = cookie;
    /// # Ok(()) }
    /// ```
    pub async fn create_session(&self, user: &U) -> Result<Id, StoreError> {
        let data = HashMap::from([(self.key.to_owned(), self.reader.stamp(user)?)]);
        let mut record = Record {
            id: Id::default(),
            data,
            expiry_date: self.config.record_expiry(),
        };
        self.store
            .create(&mut record)
            .await
            .map_err(StoreError::new)?;
        Ok(record.id)
    }

    /// Deletes the session `id` from the store and closes its sockets with
    /// 4401 `logged out`, here and, through a channel layer, in the other
    /// processes: a logout for a session known by id only.
    ///
    /// # Errors
    ///
    /// When the store fails; nothing is closed then.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let id = sessions.create_session(&User { id: 7 }).await?;
    /// sessions.delete_session(&id).await?;
    /// assert_eq!(sessions.load_user(&id).await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn delete_session(&self, id: &Id) -> Result<(), StoreError> {
        self.store.delete(id).await.map_err(StoreError::new)
    }

    /// Closes every socket of the user `id` with 4401 `password changed`,
    /// in every session, here and, through a channel layer, in the other
    /// processes. Call it from the password-change handler.
    ///
    /// In an axum-login app the new password changes the user's session
    /// auth hash, so the user's sessions are stale from then on: the next
    /// handshake with any of them is anonymous, and a consumer that
    /// declares `revalidate` closes its stale sockets at the next period
    /// even without this call. This call closes them now. The page that
    /// changed the password logs in again (or axum-login's `login` re-stamps
    /// its session) and reconnects.
    ///
    /// # Errors
    ///
    /// When the channel layer did not take the order; this process's
    /// sockets are closed all the same.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use axum::extract::State;
    /// use sockwarden::session::Sessions;
    ///
    /// async fn change_password(State(sessions): State<Sessions<User>>) -> &'static str {
    ///     let user_id = 1;
    ///     // … store the new password hash for `user_id` …
    ///     let _ = sessions.password_changed(&user_id).await;
    ///     "changed"
    /// }
    /// # let _ = change_password;
    /// ```
    pub async fn password_changed(&self, id: &U::Id) -> Result<(), SendError> {
        self.close_user(id, PASSWORD_CHANGED).await
    }

    /// Closes every socket of the user `id` with 4401 and `reason`, in
    /// every session, here and, through a channel layer, in the other
    /// processes: "log out everywhere" for the sockets.
    ///
    /// It ends no session: for a real "log out everywhere", also make the
    /// user's sessions invalid, or the page reconnects with its cookie. In
    /// an axum-login app, change what the user's session auth hash is made
    /// of (a per-user session generation the hash covers); with plain
    /// sessions, delete the sessions the app knows of (with
    /// [`delete_session`](Sessions::delete_session)).
    ///
    /// # Errors
    ///
    /// When the channel layer did not take the order; this process's
    /// sockets are closed all the same.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// sessions.close_user(&1, "logged out everywhere").await.unwrap();
    /// # }
    /// ```
    pub async fn close_user(
        &self,
        id: &U::Id,
        reason: impl Into<Cow<'static, str>>,
    ) -> Result<(), SendError> {
        let reason = reason.into();
        let mut outcome = Ok(());
        for hub in self.store.hubs() {
            let closed = hub
                .user(id)
                .close(CloseCode::NOT_AUTHENTICATED, reason.clone())
                .await;
            if let Err(error) = closed {
                tracing::warn!(%error, "closing a user's sockets did not reach other processes");
                if outcome.is_ok() {
                    outcome = Err(error);
                }
            }
        }
        outcome
    }

    /// Who a handshake is, by its session cookie.
    pub(super) async fn identify(&self, headers: &HeaderMap) -> Result<Identity<U>, Rejection> {
        let id = match session_cookie(headers, &self.config.name) {
            SessionCookie::Absent => return Ok(Identity::Anonymous),
            SessionCookie::Malformed => {
                // Never the value: it may be someone's mistyped session id.
                tracing::debug!("a session cookie that is not a session id; anonymous");
                return Ok(Identity::Anonymous);
            }
            SessionCookie::Id(id) => id,
        };
        match self.load_user(&id).await {
            Ok(Some(user)) => Ok(Identity::User {
                user,
                carrier: Carrier::Cookie,
                credential: Credential::Session(id.to_string()),
            }),
            Ok(None) => Ok(Identity::Anonymous),
            Err(error) => {
                tracing::error!(%error, "session store failed");
                Err(Rejection::unavailable("the session store is unavailable")
                    .with_carrier(Carrier::Cookie))
            }
        }
    }

    /// Remembers a hub that holds sockets opened with these sessions.
    pub(super) fn link(&self, hub: &Hub) {
        self.store.link(hub);
    }
}

impl<U> Clone for Sessions<U> {
    fn clone(&self) -> Self {
        Sessions {
            store: self.store.clone(),
            reader: Arc::clone(&self.reader),
            key: self.key,
            config: Arc::clone(&self.config),
            hub: self.hub.clone(),
            redeeming: Arc::clone(&self.redeeming),
        }
    }
}

impl<U> fmt::Debug for Sessions<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("store", &self.store)
            .field("cookie", &self.config.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A router whose state is a [`Sessions`] alone uses its hub.
impl<U> FromRef<Sessions<U>> for Hub {
    fn from_ref(sessions: &Sessions<U>) -> Hub {
        sessions.hub.clone()
    }
}

#[cfg(feature = "axum-login")]
mod axum_login_sessions {
    use std::sync::Arc;

    use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthnBackend};
    use tower_sessions::SessionStore;

    use super::Sessions;
    use crate::auth::AuthUser;
    use crate::auth::session::backend::{Backend, DATA_KEY};
    use crate::auth::session::revoking::RevokingStore;

    impl<U> Sessions<U>
    where
        U: AuthUser + axum_login::AuthUser,
    {
        /// Sessions in `store`, for an app built on axum-login 0.18: the
        /// session holds what axum-login's `AuthSession::login` writes (the
        /// user id and the session auth hash, under axum-login's data key),
        /// the user comes from `backend.get_user`, and the hash is compared
        /// in constant time with the user's current
        /// `session_auth_hash()`. A user that is gone, or whose hash changed
        /// (a new password), is anonymous.
        ///
        /// Build axum-login's layer on [`Sessions::layer`] (or with
        /// [`Sessions::auth_layer`]), so that its `logout` closes sockets.
        ///
        /// ```
        /// use std::collections::HashMap;
        /// use std::sync::{Arc, Mutex};
        ///
        /// use axum::Router;
        /// use sockwarden::session::axum_login::{AuthUser as LoginUser, AuthnBackend};
        /// use sockwarden::session::{MemoryStore, Sessions};
        ///
        /// #[derive(Clone, Debug)]
        /// struct User { id: u64, password_hash: Vec<u8> }
        ///
        /// impl sockwarden::AuthUser for User {
        ///     type Id = u64;
        ///     fn id(&self) -> u64 { self.id }
        /// }
        ///
        /// impl LoginUser for User {
        ///     type Id = u64;
        ///     fn id(&self) -> u64 { self.id }
        ///     fn session_auth_hash(&self) -> &[u8] { &self.password_hash }
        /// }
        ///
        /// #[derive(Clone, Default)]
        /// struct Backend { users: Arc<Mutex<HashMap<u64, User>>> }
        ///
        /// impl AuthnBackend for Backend {
        ///     type User = User;
        ///     type Credentials = (u64, Vec<u8>);
        ///     type Error = std::io::Error;
        ///
        ///     async fn authenticate(&self, (id, hash): (u64, Vec<u8>)) -> Result<Option<User>, Self::Error> {
        ///         let user = self.users.lock().unwrap().get(&id).cloned();
        ///         Ok(user.filter(|user| user.password_hash == hash))
        ///     }
        ///
        ///     async fn get_user(&self, id: &u64) -> Result<Option<User>, Self::Error> {
        ///         Ok(self.users.lock().unwrap().get(id).cloned())
        ///     }
        /// }
        ///
        /// let backend = Backend::default();
        /// let sessions: Sessions<User> = Sessions::axum_login(MemoryStore::default(), backend.clone());
        /// let app: Router = Router::new()
        ///     // .route("/login", post(login)) using `AuthSession<Backend>` … .consumer::<Chat>()
        ///     .layer(sessions.auth_layer(backend))
        ///     .with_state(sessions);
        /// # let _ = app;
        /// ```
        pub fn axum_login<B>(store: impl SessionStore, backend: B) -> Sessions<U>
        where
            B: AuthnBackend<User = U> + 'static,
        {
            Sessions::with_reader(Arc::new(store), Arc::new(Backend(backend)), DATA_KEY)
        }

        /// axum-login's layer (`AuthManagerLayer`), built on
        /// [`Sessions::layer`] with this data key ([`Sessions::session_key`]):
        /// the one an axum-login app adds to its router.
        ///
        /// ```
        /// # use std::collections::HashMap;
        /// # use std::sync::{Arc, Mutex};
        /// # use sockwarden::session::axum_login::{AuthUser as LoginUser, AuthnBackend};
        /// # #[derive(Clone, Debug)]
        /// # struct User { id: u64, hash: Vec<u8> }
        /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
        /// # impl LoginUser for User { type Id = u64; fn id(&self) -> u64 { self.id } fn session_auth_hash(&self) -> &[u8] { &self.hash } }
        /// # #[derive(Clone, Default)]
        /// # struct Backend { users: Arc<Mutex<HashMap<u64, User>>> }
        /// # impl AuthnBackend for Backend {
        /// #     type User = User;
        /// #     type Credentials = u64;
        /// #     type Error = std::io::Error;
        /// #     async fn authenticate(&self, id: u64) -> Result<Option<User>, Self::Error> { Ok(self.users.lock().unwrap().get(&id).cloned()) }
        /// #     async fn get_user(&self, id: &u64) -> Result<Option<User>, Self::Error> { Ok(self.users.lock().unwrap().get(id).cloned()) }
        /// # }
        /// use sockwarden::session::{MemoryStore, Sessions};
        ///
        /// let backend = Backend::default();
        /// let sessions: Sessions<User> = Sessions::axum_login(MemoryStore::default(), backend.clone())
        ///     .with_session_key("app.auth");
        /// let layer = sessions.auth_layer(backend); // reads and writes "app.auth"
        /// # let _ = layer;
        /// ```
        pub fn auth_layer<B>(&self, backend: B) -> AuthManagerLayer<B, RevokingStore>
        where
            B: AuthnBackend<User = U>,
        {
            AuthManagerLayerBuilder::new(backend, self.layer())
                .with_data_key(self.key)
                .build()
        }
    }
}
