//! The app's session store, wrapped so that ending a session closes the
//! sockets opened with it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;

use crate::close::CloseCode;
use crate::hub::{Hub, HubLinks};

/// The close reason of a socket whose session ended.
pub(crate) const LOGGED_OUT: &str = "logged out";

/// The app's session store, as the HTTP layer and the sockets share it:
/// every call goes to the store, and deleting a session (what
/// `Session::flush`, `Session::cycle_id`, axum-login's `logout` and
/// [`Sessions::logout`](super::Sessions::logout) do) then closes the sockets
/// opened with that session with 4401 `logged out`, in every hub that served
/// them and, through a channel layer, in the other processes.
///
/// You get it inside the layer of [`Sessions::layer`](super::Sessions::layer);
/// it is named here for the layer's type, [`SessionLayer`](super::SessionLayer),
/// and for apps that call the store directly:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use sockwarden::session::{MemoryStore, RevokingStore, SessionStore, Sessions};
/// # #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
///
/// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
/// let store: &RevokingStore = sessions.store();
/// let id = sessions.create_session(&User { id: 1 }).await?;
/// assert!(store.load(&id).await?.is_some());
/// store.delete(&id).await?; // and that session's sockets are closed
/// assert!(store.load(&id).await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RevokingStore {
    store: Arc<dyn SessionStore>,
    hubs: Arc<HubLinks>,
}

impl RevokingStore {
    pub(super) fn new(store: Arc<dyn SessionStore>) -> RevokingStore {
        RevokingStore {
            store,
            hubs: Arc::default(),
        }
    }

    /// The app's store itself: for records that are not sessions (the
    /// login handoff codes), whose deletion must close no socket.
    pub(super) fn inner(&self) -> &dyn SessionStore {
        &*self.store
    }

    /// Remembers a hub whose connections were let in with these sessions.
    pub(super) fn link(&self, hub: &Hub) {
        self.hubs.link(hub);
    }

    /// The linked hubs that still exist.
    pub(super) fn hubs(&self) -> Vec<Hub> {
        self.hubs.hubs()
    }

    /// Closes the sockets opened with session `id`, everywhere.
    pub(super) async fn close_session(&self, id: &Id) {
        let id = id.to_string();
        for hub in self.hubs() {
            let closed = hub
                .session(id.clone())
                .close(CloseCode::NOT_AUTHENTICATED, LOGGED_OUT)
                .await;
            if let Err(error) = closed {
                tracing::warn!(%error, "a logout did not reach other processes");
            }
        }
    }
}

impl fmt::Debug for RevokingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokingStore")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = session_store::Result<T>> + Send + 'a>>;

// `SessionStore` is an `async_trait` trait; these are the signatures the
// macro writes, spelled out so that the runtime needs no `async-trait`.
impl SessionStore for RevokingStore {
    fn create<'life0, 'life1, 'async_trait>(
        &'life0 self,
        record: &'life1 mut Record,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.store.create(record)
    }

    fn save<'life0, 'life1, 'async_trait>(
        &'life0 self,
        record: &'life1 Record,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.store.save(record)
    }

    fn load<'life0, 'life1, 'async_trait>(
        &'life0 self,
        id: &'life1 Id,
    ) -> StoreFuture<'async_trait, Option<Record>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.store.load(id)
    }

    fn delete<'life0, 'life1, 'async_trait>(
        &'life0 self,
        id: &'life1 Id,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            // A session the store failed to delete still works: its sockets
            // stay, as they would for a retry.
            self.store.delete(id).await?;
            self.close_session(id).await;
            Ok(())
        })
    }
}
