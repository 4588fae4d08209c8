//! The connection's user, reachable from any code its handlers call,
//! however deep, without passing it down.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};

use crate::auth::AuthUser;
use crate::cx::ConnectionId;

tokio::task_local! {
    static CURRENT: Current;
}

/// What the connection task carries for the code it runs.
#[derive(Clone)]
pub(crate) struct Current {
    conn: ConnectionId,
    /// Replaced on login and logout; read without waiting.
    user: Arc<RwLock<Option<Arc<dyn Any + Send + Sync>>>>,
}

impl Current {
    pub(crate) fn new<U: AuthUser>(conn: ConnectionId, user: Option<&U>) -> Current {
        let user = user.map(|user| Arc::new(user.clone()) as Arc<dyn Any + Send + Sync>);
        Current {
            conn,
            user: Arc::new(RwLock::new(user)),
        }
    }

    /// Names another user (a login) or none (a logout), for every read
    /// from now on.
    pub(crate) fn set_user<U: AuthUser>(&self, user: Option<&U>) {
        let user = user.map(|user| Arc::new(user.clone()) as Arc<dyn Any + Send + Sync>);
        *self.user.write().unwrap_or_else(PoisonError::into_inner) = user;
    }

    /// Runs `fut` with this as the current connection.
    pub(crate) fn scope<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, fut)
    }
}

/// The user of the connection whose handler is running, from any function
/// it calls (directly or through other async functions), `None` outside a
/// connection, for an anonymous connection, or when `U` is not that
/// connection's user type.
///
/// It is a task-local set by the connection task for everything its
/// consumer runs (`connect`, `receive`, `event`, `disconnect`): reading it
/// never blocks and is never stale, since login and logout update it. Code
/// moved onto another task with `tokio::spawn` does not see it (nor would
/// it in a thread-local design): pass the user along, or wrap the spawned
/// future in the same scope.
///
/// ```
/// use std::sync::Arc;
/// use sockwarden::prelude::*;
///
/// #[derive(Clone)]
/// struct User { name: String }
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.name.clone() }
/// }
///
/// // Deep in the app: no `Cx` in sight.
/// async fn audit(action: &str) -> String {
///     let who = sockwarden::current_user::<User>().map_or("anonymous".to_owned(), |u| u.name.clone());
///     format!("{who} did {action}")
/// }
///
/// # assert!(sockwarden::current_user::<User>().is_none());
/// ```
pub fn current_user<U: AuthUser>() -> Option<Arc<U>> {
    CURRENT
        .try_with(|current| {
            current
                .user
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
        .ok()
        .flatten()
        .and_then(|user| user.downcast::<U>().ok())
}

/// The id of the connection whose handler is running, `None` outside one.
///
/// ```
/// assert_eq!(sockwarden::current_connection(), None);
/// ```
pub fn current_connection() -> Option<ConnectionId> {
    CURRENT.try_with(|current| current.conn).ok()
}
