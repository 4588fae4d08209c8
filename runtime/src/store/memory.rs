//! The in-memory token store: the embedded default.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use super::{StoreError, TokenStore, token_digest};
use crate::auth::AuthUser;

/// Tokens kept in this process's memory, under their SHA-256 digests.
///
/// Cloning shares the store: keep a clone to issue and revoke tokens while
/// consumers read through [`Tokens`](crate::Tokens).
///
/// ```
/// use sockwarden::{AuthUser, store::MemoryTokenStore};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct User(String);
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.0.clone() }
/// }
///
/// let store = MemoryTokenStore::new();
/// store.insert("tok-1", User("alice".into()));
/// assert_eq!(store.get("tok-1"), Some(User("alice".into())));
/// assert!(store.revoke("tok-1"));
/// assert_eq!(store.get("tok-1"), None);
/// ```
pub struct MemoryTokenStore<U> {
    tokens: Arc<RwLock<HashMap<[u8; 32], U>>>,
}

impl<U: AuthUser> MemoryTokenStore<U> {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore {
            tokens: Arc::default(),
        }
    }

    /// Issues `token` to `user`, replacing any earlier holder of the token.
    pub fn insert(&self, token: &str, user: U) {
        self.write().insert(token_digest(token), user);
    }

    /// The user of `token`.
    pub fn get(&self, token: &str) -> Option<U> {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&token_digest(token))
            .cloned()
    }

    /// Revokes `token`; `false` when it was unknown.
    pub fn revoke(&self, token: &str) -> bool {
        self.write().remove(&token_digest(token)).is_some()
    }

    /// Revokes every token of the user `id`; returns how many there were.
    pub fn revoke_user(&self, id: &U::Id) -> usize {
        let mut tokens = self.write();
        let before = tokens.len();
        tokens.retain(|_, user| user.id() != *id);
        before - tokens.len()
    }

    /// How many tokens the store holds.
    pub fn len(&self) -> usize {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the store holds no token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic elsewhere while holding the lock leaves the map consistent
    // (every operation is one map call), so poisoning is ignored.
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<[u8; 32], U>> {
        self.tokens.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<U: AuthUser> TokenStore for MemoryTokenStore<U> {
    type User = U;

    async fn lookup(&self, token: &str) -> Result<Option<U>, StoreError> {
        Ok(self.get(token))
    }

    async fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        Ok(MemoryTokenStore::revoke(self, token))
    }
}

impl<U: AuthUser> Default for MemoryTokenStore<U> {
    fn default() -> Self {
        Self::new()
    }
}

impl<U> Clone for MemoryTokenStore<U> {
    fn clone(&self) -> Self {
        MemoryTokenStore {
            tokens: Arc::clone(&self.tokens),
        }
    }
}

impl<U> fmt::Debug for MemoryTokenStore<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct User(u32);
    impl AuthUser for User {
        type Id = u32;
        fn id(&self) -> u32 {
            self.0
        }
    }

    #[test]
    fn revoke_user_removes_only_that_users_tokens() {
        let store = MemoryTokenStore::new();
        store.insert("a1", User(1));
        store.insert("a2", User(1));
        store.insert("b1", User(2));
        assert_eq!(store.revoke_user(&1), 2);
        assert_eq!(store.get("a1"), None);
        assert_eq!(store.get("b1"), Some(User(2)));
        assert_eq!(store.len(), 1);
    }
}
