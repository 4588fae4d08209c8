//! The live connections of one process, indexed by what can address or
//! revoke them: user, session, token, group, peer address.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;

use super::conns::Conns;
use super::mailbox::Mailbox;
use crate::auth::Credential;
use crate::cx::ConnectionId;

/// What the registry knows of one connection.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) mailbox: Arc<Mailbox>,
    pub(crate) user: Option<Arc<str>>,
    pub(crate) credential: Credential,
    pub(crate) peer: Option<IpAddr>,
    pub(crate) groups: Vec<Arc<str>>,
}

/// How many connections one user, or one peer address, may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub(crate) per_user: Option<u32>,
    pub(crate) per_peer: Option<u32>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    ShuttingDown,
    UserCap,
    PeerCap,
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    members: HashMap<ConnectionId, Member>,
    users: HashMap<Arc<str>, Conns>,
    sessions: HashMap<Arc<str>, Conns>,
    tokens: HashMap<[u8; 32], Conns>,
    peers: HashMap<IpAddr, u32>,
    groups: HashMap<Arc<str>, HashMap<ConnectionId, Arc<Mailbox>>>,
    pub(crate) closing: bool,
}

impl Registry {
    /// Admits a connection, caps checked and counted in one step, so that
    /// many connecting at once cannot overshoot.
    pub(crate) fn admit(
        &mut self,
        id: ConnectionId,
        member: Member,
        caps: Caps,
    ) -> Result<(), Refusal> {
        if self.closing {
            return Err(Refusal::ShuttingDown);
        }
        if let (Some(cap), Some(user)) = (caps.per_user, &member.user) {
            let held = self.users.get(user).map_or(0, Conns::len);
            if held >= cap as usize {
                return Err(Refusal::UserCap);
            }
        }
        if let (Some(cap), Some(peer)) = (caps.per_peer, member.peer)
            && self.peers.get(&peer).copied().unwrap_or(0) >= cap
        {
            return Err(Refusal::PeerCap);
        }
        if let Some(user) = &member.user {
            index(&mut self.users, user.clone(), id);
        }
        match &member.credential {
            Credential::Session(session) => index(&mut self.sessions, session.as_str().into(), id),
            Credential::Token(digest) => index(&mut self.tokens, *digest, id),
            _ => {}
        }
        if let Some(peer) = member.peer {
            *self.peers.entry(peer).or_default() += 1;
        }
        self.members.insert(id, member);
        Ok(())
    }

    /// Files a live connection under another user and credential (a login
    /// or a logout on the open connection), the user cap checked as on
    /// admission: a connection that becomes a user already at the cap is
    /// refused and stays as it was.
    pub(crate) fn rebind(
        &mut self,
        id: ConnectionId,
        user: Option<Arc<str>>,
        credential: Credential,
        per_user: Option<u32>,
    ) -> Result<(), Refusal> {
        let Some(member) = self.members.get_mut(&id) else {
            return Ok(());
        };
        if let (Some(cap), Some(user)) = (per_user, &user)
            && member.user.as_ref() != Some(user)
            && self.users.get(user).map_or(0, Conns::len) >= cap as usize
        {
            return Err(Refusal::UserCap);
        }
        if let Some(old) = member.user.take() {
            unindex(&mut self.users, &old, id);
        }
        unindex_credential(&mut self.sessions, &mut self.tokens, &member.credential, id);
        if let Some(user) = &user {
            index(&mut self.users, user.clone(), id);
        }
        match &credential {
            Credential::Session(session) => index(&mut self.sessions, session.as_str().into(), id),
            Credential::Token(digest) => index(&mut self.tokens, *digest, id),
            _ => {}
        }
        member.user = user;
        member.credential = credential;
        Ok(())
    }

    /// The credential a connection is filed under now.
    pub(crate) fn credential(&self, id: ConnectionId) -> Option<&Credential> {
        self.members.get(&id).map(|member| &member.credential)
    }

    /// Forgets a connection; returns the groups it left empty.
    pub(crate) fn remove(&mut self, id: ConnectionId) -> Vec<Arc<str>> {
        let Some(member) = self.members.remove(&id) else {
            return Vec::new();
        };
        if let Some(user) = &member.user {
            unindex(&mut self.users, user, id);
        }
        unindex_credential(&mut self.sessions, &mut self.tokens, &member.credential, id);
        if let Some(peer) = member.peer
            && let Entry::Occupied(mut count) = self.peers.entry(peer)
        {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        member
            .groups
            .into_iter()
            .filter(|group| self.leave_index(group, id))
            .collect()
    }

    /// Adds a connection to a group; `true` when the group was empty here.
    pub(crate) fn join(&mut self, id: ConnectionId, group: &str) -> bool {
        let Some(member) = self.members.get_mut(&id) else {
            return false;
        };
        if member.groups.iter().any(|joined| &**joined == group) {
            return false;
        }
        // One allocation per group name, shared by its members' lists.
        let name = match self.groups.get_key_value(group) {
            Some((name, _)) => name.clone(),
            None => Arc::from(group),
        };
        let members = self.groups.entry(name.clone()).or_default();
        let first = members.is_empty();
        members.insert(id, member.mailbox.clone());
        member.groups.push(name);
        first
    }

    /// Removes a connection from a group; `true` when the group is now
    /// empty here.
    pub(crate) fn leave(&mut self, id: ConnectionId, group: &str) -> bool {
        let Some(member) = self.members.get_mut(&id) else {
            return false;
        };
        let Some(at) = member.groups.iter().position(|joined| &**joined == group) else {
            return false;
        };
        member.groups.swap_remove(at);
        self.leave_index(group, id)
    }

    fn leave_index(&mut self, group: &str, id: ConnectionId) -> bool {
        let Some(members) = self.groups.get_mut(group) else {
            return false;
        };
        members.remove(&id);
        let empty = members.is_empty();
        if empty {
            self.groups.remove(group);
        }
        empty
    }

    pub(crate) fn group(&self, group: &str) -> impl Iterator<Item = &Arc<Mailbox>> {
        self.groups.get(group).into_iter().flat_map(HashMap::values)
    }

    pub(crate) fn groups(&self) -> impl Iterator<Item = &Arc<str>> {
        self.groups.keys()
    }

    pub(crate) fn user(&self, user: &str) -> impl Iterator<Item = &Arc<Mailbox>> {
        self.mailboxes(self.users.get(user))
    }

    pub(crate) fn session(&self, session: &str) -> impl Iterator<Item = &Arc<Mailbox>> {
        self.mailboxes(self.sessions.get(session))
    }

    pub(crate) fn token(&self, digest: &[u8; 32]) -> impl Iterator<Item = &Arc<Mailbox>> {
        self.mailboxes(self.tokens.get(digest))
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Mailbox>> {
        self.members.values().map(|member| &member.mailbox)
    }

    fn mailboxes<'a>(&'a self, ids: Option<&'a Conns>) -> impl Iterator<Item = &'a Arc<Mailbox>> {
        ids.into_iter()
            .flat_map(Conns::iter)
            .filter_map(|id| self.members.get(id).map(|member| &member.mailbox))
    }

    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }
}

fn unindex_credential(
    sessions: &mut HashMap<Arc<str>, Conns>,
    tokens: &mut HashMap<[u8; 32], Conns>,
    credential: &Credential,
    id: ConnectionId,
) {
    match credential {
        Credential::Session(session) => unindex(sessions, session.as_str(), id),
        Credential::Token(digest) => unindex(tokens, digest, id),
        _ => {}
    }
}

fn index<K: Hash + Eq>(index: &mut HashMap<K, Conns>, key: K, id: ConnectionId) {
    match index.entry(key) {
        Entry::Occupied(mut held) => held.get_mut().push(id),
        Entry::Vacant(slot) => {
            slot.insert(Conns::One(id));
        }
    }
}

fn unindex<K: Hash + Eq + ?Sized, Q: std::borrow::Borrow<K> + Hash + Eq>(
    index: &mut HashMap<Q, Conns>,
    key: &K,
    id: ConnectionId,
) {
    if let Some(ids) = index.get_mut(key)
        && ids.remove(id)
    {
        index.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Overflow;

    fn member(user: &str, credential: Credential, peer: &str) -> Member {
        Member {
            mailbox: Arc::new(Mailbox::new(4, Overflow::Close)),
            user: Some(user.into()),
            credential,
            peer: Some(peer.parse().unwrap()),
            groups: Vec::new(),
        }
    }

    const NO_CAPS: Caps = Caps {
        per_user: None,
        per_peer: None,
    };

    #[test]
    fn indexes_are_emptied_on_remove() {
        let mut registry = Registry::default();
        let id = ConnectionId::next();
        let session = Credential::Session("s1".into());
        registry
            .admit(id, member("alice", session, "10.0.0.1"), NO_CAPS)
            .unwrap();
        assert!(registry.join(id, "room"));
        assert!(
            !registry.join(id, "room"),
            "joining twice is one membership"
        );
        assert_eq!(registry.session("s1").count(), 1);
        assert_eq!(registry.remove(id), [Arc::<str>::from("room")]);
        assert!(registry.members.is_empty() && registry.users.is_empty());
        assert!(registry.sessions.is_empty() && registry.peers.is_empty());
        assert!(registry.groups.is_empty());
    }

    #[test]
    fn caps_count_per_user_and_per_peer() {
        let mut registry = Registry::default();
        let caps = Caps {
            per_user: Some(2),
            per_peer: Some(3),
        };
        let mut admit = |user: &str| {
            registry.admit(
                ConnectionId::next(),
                member(user, Credential::Opaque, "10.0.0.1"),
                caps,
            )
        };
        assert_eq!(admit("alice"), Ok(()));
        assert_eq!(admit("alice"), Ok(()));
        assert_eq!(admit("alice"), Err(Refusal::UserCap));
        assert_eq!(admit("bob"), Ok(()));
        assert_eq!(admit("carol"), Err(Refusal::PeerCap));
    }

    #[test]
    fn a_rebound_connection_is_found_under_its_new_user_and_session_only() {
        let mut registry = Registry::default();
        let (id, other) = (ConnectionId::next(), ConnectionId::next());
        let mut anonymous = member("x", Credential::Opaque, "10.0.0.1");
        anonymous.user = None;
        registry.admit(id, anonymous, NO_CAPS).unwrap();
        registry
            .admit(
                other,
                member("alice", Credential::Session("s0".into()), "10.0.0.2"),
                NO_CAPS,
            )
            .unwrap();

        // A login: anonymous to alice on session s1.
        let s1 = Credential::Session("s1".into());
        registry
            .rebind(id, Some("alice".into()), s1.clone(), None)
            .unwrap();
        assert_eq!(registry.user("alice").count(), 2);
        assert_eq!(registry.session("s1").count(), 1);
        assert_eq!(registry.session("s0").count(), 1);
        assert_eq!(registry.credential(id), Some(&s1));

        // A second login rotates the session: s1 no longer finds it.
        registry
            .rebind(
                id,
                Some("alice".into()),
                Credential::Session("s2".into()),
                None,
            )
            .unwrap();
        assert_eq!(registry.session("s1").count(), 0);
        assert!(!registry.sessions.contains_key("s1"));
        assert_eq!(registry.session("s2").count(), 1);

        // A logout: anonymous again, in no user or session index.
        registry.rebind(id, None, Credential::Opaque, None).unwrap();
        assert_eq!(registry.user("alice").count(), 1);
        assert!(!registry.sessions.contains_key("s2"));
        assert_eq!(registry.credential(id), Some(&Credential::Opaque));

        // Removal still leaves every index empty.
        registry.remove(id);
        registry.remove(other);
        assert!(registry.users.is_empty() && registry.sessions.is_empty());
        assert!(registry.members.is_empty() && registry.peers.is_empty());
    }

    #[test]
    fn a_rebind_into_a_user_at_the_cap_is_refused_and_changes_nothing() {
        let mut registry = Registry::default();
        let (id, held) = (ConnectionId::next(), ConnectionId::next());
        let mut anonymous = member("x", Credential::Opaque, "10.0.0.1");
        anonymous.user = None;
        registry.admit(id, anonymous, NO_CAPS).unwrap();
        registry
            .admit(
                held,
                member("alice", Credential::Opaque, "10.0.0.2"),
                NO_CAPS,
            )
            .unwrap();
        let refused = registry.rebind(
            id,
            Some("alice".into()),
            Credential::Session("s1".into()),
            Some(1),
        );
        assert_eq!(refused, Err(Refusal::UserCap));
        assert_eq!(registry.user("alice").count(), 1);
        assert!(registry.sessions.is_empty());
        assert_eq!(registry.credential(id), Some(&Credential::Opaque));
        // Staying the same user is not a new connection for the cap.
        registry
            .rebind(
                held,
                Some("alice".into()),
                Credential::Session("s2".into()),
                Some(1),
            )
            .unwrap();
        assert_eq!(registry.session("s2").count(), 1);
    }

    #[test]
    fn leaving_the_last_member_reports_the_group_empty() {
        let mut registry = Registry::default();
        let (a, b) = (ConnectionId::next(), ConnectionId::next());
        registry
            .admit(a, member("a", Credential::Opaque, "10.0.0.1"), NO_CAPS)
            .unwrap();
        registry
            .admit(b, member("b", Credential::Opaque, "10.0.0.2"), NO_CAPS)
            .unwrap();
        assert!(registry.join(a, "g"));
        assert!(!registry.join(b, "g"));
        assert!(!registry.leave(a, "g"));
        assert!(registry.leave(b, "g"));
        assert!(!registry.leave(b, "g"));
    }
}
