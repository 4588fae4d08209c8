//! The hubs a store has served, so that revoking a credential in the store
//! closes the sockets opened with it.

use std::sync::{Mutex, OnceLock, PoisonError, Weak};

use super::{Hub, Inner};

/// Weak links from a credential store to the hubs whose connections used
/// it. The router links a store to its hub on each handshake, so revocation
/// works without the app wiring anything; the first hub is checked without
/// a lock, as nearly every app has one.
#[derive(Default)]
pub(crate) struct HubLinks {
    first: OnceLock<Weak<Inner>>,
    more: Mutex<Vec<Weak<Inner>>>,
}

impl HubLinks {
    pub(crate) fn link(&self, hub: &Hub) {
        let first = self.first.get_or_init(|| hub.downgrade());
        if Weak::as_ptr(first) == hub.as_ptr() {
            return;
        }
        let mut more = self.more.lock().unwrap_or_else(PoisonError::into_inner);
        if !more
            .iter()
            .any(|linked| Weak::as_ptr(linked) == hub.as_ptr())
        {
            more.retain(|linked| linked.strong_count() > 0);
            more.push(hub.downgrade());
        }
    }

    /// The linked hubs that still exist.
    pub(crate) fn hubs(&self) -> Vec<Hub> {
        let more = self.more.lock().unwrap_or_else(PoisonError::into_inner);
        self.first
            .get()
            .into_iter()
            .chain(more.iter())
            .filter_map(Weak::upgrade)
            .map(Hub::from_inner)
            .collect()
    }
}

impl std::fmt::Debug for HubLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubLinks").finish_non_exhaustive()
    }
}
