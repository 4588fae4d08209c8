//! Token stores: where `auth = "token"` looks tokens up.
//!
//! Every store is async ([`TokenStore`]). A synchronous store, one that calls
//! a blocking database driver say, is accepted only through [`Blocking`],
//! which runs it on tokio's blocking pool, so a slow lookup never stalls the
//! frames of other connections.
//!
//! Stores keep a SHA-256 digest of each token, never the token itself, and
//! look tokens up by that digest: a leaked table or memory dump holds no
//! usable credential, and no comparison of secret bytes happens in the open.
//! A lookup compares digests, not tokens, so the time it takes tells an
//! attacker nothing about the token: learning a prefix of a digest gives no
//! prefix of any token (SHA-256 is preimage-resistant). That is the
//! constant-time property that matters here, and it holds for every store,
//! in memory or in a database index.

mod blocking;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use blocking::{Blocking, BlockingTokenStore};
pub use memory::MemoryTokenStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresTokenStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteTokenStore;

use crate::auth::AuthUser;
use crate::close::CloseCode;
use crate::hub::{Hub, HubLinks};

/// Looks tokens up: the one operation a handshake needs.
///
/// ```
/// use sockwarden::{AuthUser, store::{StoreError, TokenStore}};
///
/// #[derive(Clone)]
/// struct User(String);
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.0.clone() }
/// }
///
/// /// Accepts one fixed token.
/// struct OneToken;
///
/// impl TokenStore for OneToken {
///     type User = User;
///     async fn lookup(&self, token: &str) -> Result<Option<User>, StoreError> {
///         Ok((token == "let-me-in").then(|| User("admin".into())))
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// The user a token belongs to.
    type User: AuthUser;

    /// The user of `token`, or `None` for an unknown token.
    ///
    /// # Errors
    ///
    /// A store that cannot answer (its database is down) returns an error;
    /// the handshake is then refused with 503 (close 1013).
    fn lookup(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, StoreError>> + Send;

    /// Deletes `token`; `true` when it existed. Called by
    /// [`Tokens::revoke`], which then closes the sockets opened with it.
    ///
    /// # Errors
    ///
    /// When the store cannot answer, or cannot delete (the default: a
    /// read-only store).
    fn revoke(&self, token: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = token;
        async { Err(StoreError::new("this token store cannot revoke tokens")) }
    }
}

/// The app's token store, as consumers with `auth = "token"` see it: provide
/// one in the router state (directly, or through `FromRef`).
///
/// ```
/// use sockwarden::{AuthUser, Tokens, store::MemoryTokenStore};
///
/// #[derive(Clone)]
/// struct User(String);
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.0.clone() }
/// }
///
/// let store = MemoryTokenStore::new();
/// store.insert("tok-1", User("alice".into()));
/// let tokens: Tokens<User> = Tokens::new(store.clone());
/// # let _ = tokens;
/// ```
pub struct Tokens<U> {
    store: Arc<dyn DynTokenStore<U>>,
    hubs: Arc<HubLinks>,
    hub: Hub,
}

impl<U: AuthUser> Tokens<U> {
    /// Wraps a store.
    pub fn new(store: impl TokenStore<User = U>) -> Tokens<U> {
        Tokens {
            store: Arc::new(store),
            hubs: Arc::default(),
            hub: Hub::new(),
        }
    }

    /// The hub of an app whose router state is these tokens alone
    /// (`.with_state(tokens)`): clone it to send to groups or users from
    /// elsewhere. An app with a state of its own provides its hub there
    /// instead; revocation reaches whichever hub holds the sockets.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Revokes `token` in the store, then closes every socket opened with
    /// it, in every hub that served them (and, through a channel layer, in
    /// the other processes) with 4401 `token revoked`. Returns whether the
    /// token existed.
    ///
    /// Revoke through this method rather than the store's own: a token's
    /// open sockets are closed by this call, and are not re-read from the
    /// store (a `revalidate` period does not apply to token auth), so a
    /// token revoked behind its back leaves them open.
    ///
    /// # Errors
    ///
    /// When the store fails: nothing is closed then. A channel layer that
    /// fails is logged; local sockets are closed all the same.
    pub async fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        let existed = self.store.revoke(token).await?;
        let digest = token_digest(token);
        for hub in self.hubs.hubs() {
            let closed = hub
                .token_digest(digest)
                .close(CloseCode::NOT_AUTHENTICATED, "token revoked")
                .await;
            if let Err(error) = closed {
                tracing::warn!(%error, "token revocation did not reach other processes");
            }
        }
        Ok(existed)
    }

    /// Remembers the hub whose connections use these tokens.
    pub(crate) fn link(&self, hub: &Hub) {
        self.hubs.link(hub);
    }

    /// Looks a token up.
    ///
    /// # Errors
    ///
    /// As [`TokenStore::lookup`].
    pub async fn lookup(&self, token: &str) -> Result<Option<U>, StoreError> {
        self.store.lookup(token).await
    }
}

impl<U> Clone for Tokens<U> {
    fn clone(&self) -> Self {
        Tokens {
            store: Arc::clone(&self.store),
            hubs: Arc::clone(&self.hubs),
            hub: self.hub.clone(),
        }
    }
}

impl<U> fmt::Debug for Tokens<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`TokenStore`] made object-safe, so `Tokens<U>` names the user type only.
trait DynTokenStore<U>: Send + Sync {
    fn lookup<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<U>, StoreError>>;
    fn revoke<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
}

impl<S: TokenStore> DynTokenStore<S::User> for S {
    fn lookup<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<S::User>, StoreError>> {
        Box::pin(TokenStore::lookup(self, token))
    }

    fn revoke<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(TokenStore::revoke(self, token))
    }
}

/// A store that could not answer.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError(error.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store error: {}", self.0)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The SHA-256 digest under which stores keep a token.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A router whose state is a [`Tokens`] alone uses its hub.
impl<U> axum::extract::FromRef<Tokens<U>> for Hub {
    fn from_ref(tokens: &Tokens<U>) -> Hub {
        tokens.hub.clone()
    }
}
