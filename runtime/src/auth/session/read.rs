//! How a session names its user: the one thing that differs between a plain
//! tower-sessions app and an axum-login app.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::store::StoreError;

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Reads the user out of the value a session keeps under its user key, and
/// writes that value for a login. Object-safe, so that `Sessions<U>` names
/// the user type only.
pub(super) trait ReadUser<U>: Send + Sync + 'static {
    /// The user `value` names, if it still is a valid login: `None` for a
    /// value that does not decode, a user that no longer exists, a stale
    /// auth hash.
    ///
    /// # Errors
    ///
    /// When the user's backend cannot answer.
    fn user<'a>(&'a self, value: &'a Value) -> BoxFuture<'a, Result<Option<U>, StoreError>>;

    /// The value a login of `user` stores.
    ///
    /// # Errors
    ///
    /// When the user cannot be serialised.
    fn stamp(&self, user: &U) -> Result<Value, StoreError>;

    /// Whether `value` names the same user as `user` (without asking the
    /// backend): a login of another user must start a fresh session.
    fn names(&self, value: &Value, user: &U) -> bool;
}
