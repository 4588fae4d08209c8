//! Plain tower-sessions: the login stores the user itself in the session.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::read::{BoxFuture, ReadUser};
use crate::auth::AuthUser;
use crate::store::StoreError;

/// The session key under which [`Sessions::login`](super::Sessions::login)
/// stores the user (serialised with serde, as JSON in the record), in an app
/// that uses plain tower-sessions. An HTTP handler may read it back with
/// [`Sessions::user`](super::Sessions::user), or directly:
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// use sockwarden::session::{Session, USER_KEY};
///
/// async fn who(session: Session) -> Option<u64> {
///     let user: Option<User> = session.get(USER_KEY).await.ok()?;
///     user.map(|user| user.id)
/// }
/// # let _ = who;
/// assert_eq!(USER_KEY, "sockwarden.user");
/// ```
pub const USER_KEY: &str = "sockwarden.user";

/// Reads the serialised user.
pub(super) struct Plain<U>(PhantomData<fn() -> U>);

impl<U> Plain<U> {
    pub(super) fn new() -> Plain<U> {
        Plain(PhantomData)
    }
}

impl<U> ReadUser<U> for Plain<U>
where
    U: AuthUser + Serialize + DeserializeOwned,
{
    fn user<'a>(&'a self, value: &'a Value) -> BoxFuture<'a, Result<Option<U>, StoreError>> {
        let user = match U::deserialize(value) {
            Ok(user) => Some(user),
            Err(error) => {
                // The user type changed since the login: the user logs in again.
                tracing::warn!(%error, "a session's user does not decode; treated as anonymous");
                None
            }
        };
        Box::pin(async move { Ok(user) })
    }

    fn stamp(&self, user: &U) -> Result<Value, StoreError> {
        serde_json::to_value(user).map_err(StoreError::new)
    }

    fn names(&self, value: &Value, user: &U) -> bool {
        U::deserialize(value).is_ok_and(|held| held.id() == user.id())
    }
}
