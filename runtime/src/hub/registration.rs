//! A connection's place in the hub, held for as long as it lives.

use std::sync::Arc;

use super::{Hub, Mailbox, Refusal};
use crate::auth::Credential;
use crate::cx::ConnectionId;

/// Leaves the hub when dropped: however the connection task ends (even by
/// a panic, or an upgrade that never completes), its indexes, groups and
/// cap counts are released.
pub(crate) struct Registration {
    hub: Hub,
    id: ConnectionId,
    mailbox: Arc<Mailbox>,
}

impl Registration {
    pub(crate) fn new(hub: Hub, id: ConnectionId, mailbox: Arc<Mailbox>) -> Registration {
        Registration { hub, id, mailbox }
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    pub(crate) fn mailbox(&self) -> &Arc<Mailbox> {
        &self.mailbox
    }

    pub(crate) fn join(&self, group: &str) {
        self.hub.join(self.id, group);
    }

    pub(crate) fn leave(&self, group: &str) {
        self.hub.leave(self.id, group);
    }

    /// Files the connection under another user and credential (a login or
    /// a logout on the open connection); see `Registry::rebind`.
    pub(crate) fn rebind(
        &self,
        user: Option<String>,
        credential: Credential,
        per_user: Option<u32>,
    ) -> Result<(), Refusal> {
        self.hub
            .registry()
            .rebind(self.id, user.map(Into::into), credential, per_user)
    }

    /// The credential the connection is filed under now.
    pub(crate) fn credential(&self) -> Credential {
        self.hub
            .registry()
            .credential(self.id)
            .cloned()
            .unwrap_or(Credential::Opaque)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}
