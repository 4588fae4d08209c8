//! The connections filed under one key of the registry's indexes.

use crate::cx::ConnectionId;

/// The connections of one user, session or token: nearly always exactly
/// one, which is kept inline, so an index entry costs no allocation of its
/// own (at tens of thousands of idle connections, that is memory that
/// counts).
#[derive(Debug)]
pub(crate) enum Conns {
    One(ConnectionId),
    Many(Vec<ConnectionId>),
}

impl Conns {
    pub(crate) fn push(&mut self, id: ConnectionId) {
        match self {
            Conns::One(first) => *self = Conns::Many(vec![*first, id]),
            Conns::Many(ids) => ids.push(id),
        }
    }

    /// Removes `id`; `true` when none is left.
    pub(crate) fn remove(&mut self, id: ConnectionId) -> bool {
        match self {
            Conns::One(only) => *only == id,
            Conns::Many(ids) => {
                ids.retain(|held| *held != id);
                if let [last] = ids[..] {
                    *self = Conns::One(last);
                }
                ids_is_empty(self)
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Conns::One(_) => 1,
            Conns::Many(ids) => ids.len(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &ConnectionId> {
        match self {
            Conns::One(id) => std::slice::from_ref(id).iter(),
            Conns::Many(ids) => ids.iter(),
        }
    }
}

fn ids_is_empty(conns: &Conns) -> bool {
    matches!(conns, Conns::Many(ids) if ids.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_many_and_back() {
        let (a, b, c) = (
            ConnectionId::next(),
            ConnectionId::next(),
            ConnectionId::next(),
        );
        let mut conns = Conns::One(a);
        conns.push(b);
        conns.push(c);
        assert_eq!(conns.len(), 3);
        assert!(!conns.remove(a));
        assert!(!conns.remove(b));
        assert!(matches!(conns, Conns::One(id) if id == c));
        assert!(conns.remove(c));
    }
}
