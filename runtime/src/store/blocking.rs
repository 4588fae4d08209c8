//! Running a synchronous token store without blocking the async runtime.

use std::fmt;
use std::sync::Arc;

use super::{StoreError, TokenStore};
use crate::auth::AuthUser;

/// A token store whose lookup blocks: a synchronous database driver, a file.
///
/// Use it through [`Blocking`]; it is not a [`TokenStore`] by itself, so a
/// blocking lookup cannot end up on the async runtime by mistake (the mistake
/// behind Channels' "You cannot call this from an async context").
pub trait BlockingTokenStore: Send + Sync + 'static {
    /// The user a token belongs to.
    type User: AuthUser;

    /// The user of `token`, or `None` for an unknown token. May block.
    ///
    /// # Errors
    ///
    /// A store that cannot answer.
    fn lookup(&self, token: &str) -> Result<Option<Self::User>, StoreError>;
}

/// Runs a [`BlockingTokenStore`] on tokio's blocking pool, as Channels'
/// `database_sync_to_async` does.
///
/// ```
/// use sockwarden::{AuthUser, Tokens, store::{Blocking, BlockingTokenStore, StoreError}};
///
/// #[derive(Clone)]
/// struct User(String);
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.0.clone() }
/// }
///
/// struct LegacyDb;
/// impl BlockingTokenStore for LegacyDb {
///     type User = User;
///     fn lookup(&self, token: &str) -> Result<Option<User>, StoreError> {
///         std::thread::sleep(std::time::Duration::from_millis(1)); // a blocking driver
///         Ok((token == "t").then(|| User("u".into())))
///     }
/// }
///
/// let tokens = Tokens::new(Blocking::new(LegacyDb));
/// # let _ = tokens;
/// ```
pub struct Blocking<S> {
    store: Arc<S>,
}

impl<S: BlockingTokenStore> Blocking<S> {
    /// Wraps a blocking store.
    pub fn new(store: S) -> Self {
        Blocking {
            store: Arc::new(store),
        }
    }
}

impl<S: BlockingTokenStore> TokenStore for Blocking<S> {
    type User = S::User;

    async fn lookup(&self, token: &str) -> Result<Option<S::User>, StoreError> {
        let store = Arc::clone(&self.store);
        let token = token.to_owned();
        tokio::task::spawn_blocking(move || store.lookup(&token))
            .await
            .map_err(|join| StoreError::new(format!("blocking token store panicked: {join}")))?
    }
}

impl<S> Clone for Blocking<S> {
    fn clone(&self) -> Self {
        Blocking {
            store: Arc::clone(&self.store),
        }
    }
}

impl<S> fmt::Debug for Blocking<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}
