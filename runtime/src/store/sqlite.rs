//! The SQLite token store: the embedded persistent default.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

#[cfg(test)]
use super::sql::MAX_TOKEN_LEN;
use super::sql::{check_token, decode_user, unix_seconds};
use super::{StoreError, TokenStore, token_digest};
use crate::auth::AuthUser;

/// How long a statement waits for another connection's (or process's) write
/// lock before failing, rather than failing at once with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sockwarden_tokens (
    digest BLOB NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    user_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
)";

const CREATE_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS sockwarden_tokens_user_id ON sockwarden_tokens (user_id)";

const UPSERT: &str =
    "INSERT INTO sockwarden_tokens (digest, user_id, user_json, created_at, expires_at)
    VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (digest) DO UPDATE SET
        user_id = excluded.user_id,
        user_json = excluded.user_json,
        created_at = excluded.created_at,
        expires_at = excluded.expires_at";

const LOOKUP: &str = "SELECT user_json FROM sockwarden_tokens
    WHERE digest = ?1 AND (expires_at IS NULL OR expires_at > ?2)";

const REVOKE: &str = "DELETE FROM sockwarden_tokens WHERE digest = ?1";

const REVOKE_USER: &str = "DELETE FROM sockwarden_tokens WHERE user_id = ?1";

const PURGE_EXPIRED: &str =
    "DELETE FROM sockwarden_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1";

/// Tokens kept in a SQLite database, under their SHA-256 digests.
///
/// The store keeps one table, `sockwarden_tokens`, created on first use:
///
/// | column       | type                  |                                          |
/// |--------------|-----------------------|------------------------------------------|
/// | `digest`     | `BLOB` primary key    | SHA-256 of the token ([`token_digest`])  |
/// | `user_id`    | `TEXT`, indexed       | [`AuthUser::id`], as text                |
/// | `user_json`  | `TEXT`                | the user, as JSON                        |
/// | `created_at` | `INTEGER`             | unix seconds                             |
/// | `expires_at` | `INTEGER`, nullable   | unix seconds; `NULL` never expires       |
///
/// The user is stored as JSON and decoded on every lookup, so changing the
/// user type such that stored rows no longer decode makes their lookups fail
/// with a [`StoreError`] (the handshake is refused), never succeed as someone
/// else or as anonymous.
///
/// Expiry is counted in whole seconds and rounds toward the past: a token
/// stops working up to a second before its `expires_at`, never after.
///
/// Cloning shares the pool: keep a clone to issue and revoke tokens while
/// consumers read through [`Tokens`](crate::Tokens).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sockwarden::{AuthUser, store::{SqliteTokenStore, TokenStore}};
///
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// struct User { id: u64, name: String }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sockwarden::store::StoreError> {
/// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
/// let alice = User { id: 1, name: "alice".into() };
/// store.insert("tok-1", &alice).await?;
/// assert_eq!(store.lookup("tok-1").await?, Some(alice));
/// assert!(store.revoke("tok-1").await?);
/// assert_eq!(store.lookup("tok-1").await?, None);
/// # Ok(())
/// # }
/// ```
pub struct SqliteTokenStore<U> {
    pool: SqlitePool,
    // `fn() -> U`: the store hands out users, it holds none, so it is
    // `Send`/`Sync` whatever `U` is.
    user: PhantomData<fn() -> U>,
}

impl<U: AuthUser + Serialize + DeserializeOwned> SqliteTokenStore<U> {
    /// Opens the database at `url` and creates the table if it is missing.
    ///
    /// `url` is `sqlite://path/to/tokens.db` for an existing file,
    /// `sqlite://path/to/tokens.db?mode=rwc` to create the file if needed,
    /// or `sqlite::memory:` for a database private to this store (and its
    /// clones) that lives as long as they do.
    ///
    /// A file database is put in WAL mode, so lookups are not blocked by
    /// writes, and waits up to five seconds for another writer's lock.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::AuthUser;
    /// use sockwarden::store::SqliteTokenStore;
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store: SqliteTokenStore<User> = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A malformed URL, a database that cannot be opened, or a table that
    /// cannot be created.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(StoreError::new)?;
        let pool = if is_in_memory(url) {
            // An in-memory database lives only as long as some connection
            // to it is open, and each `sqlite::memory:` URL names a fresh
            // one. The pool would close idle or old connections and, with
            // the last of them, drop every token; so keep exactly one
            // connection, for as long as the pool lives. One connection
            // costs little: SQLite runs one writer at a time anyway, and an
            // in-memory database answers in microseconds.
            SqlitePoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .connect_with(
                    options
                        .journal_mode(SqliteJournalMode::Wal)
                        .busy_timeout(BUSY_TIMEOUT),
                )
                .await
        }
        .map_err(StoreError::new)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool, creating the table if it is missing.
    ///
    /// For an in-memory database, give the pool one connection that never
    /// expires (as [`connect`](Self::connect) does): the database vanishes
    /// when its last connection closes.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::AuthUser;
    /// use sockwarden::store::SqliteTokenStore;
    /// use sqlx::sqlite::SqlitePoolOptions;
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = SqlitePoolOptions::new()
    ///     .max_connections(1)
    ///     .idle_timeout(None)
    ///     .max_lifetime(None)
    ///     .connect("sqlite::memory:")
    ///     .await?;
    /// let store: SqliteTokenStore<User> = SqliteTokenStore::from_pool(pool).await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A table that cannot be created.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::query(CREATE_TABLE)
            .execute(&pool)
            .await
            .map_err(StoreError::new)?;
        sqlx::query(CREATE_INDEX)
            .execute(&pool)
            .await
            .map_err(StoreError::new)?;
        Ok(SqliteTokenStore {
            pool,
            user: PhantomData,
        })
    }

    /// Issues `token` to `user`, replacing any earlier holder of the token;
    /// the token never expires.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::{SqliteTokenStore, TokenStore}};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// store.insert("tok-1", &User { id: 1 }).await?;
    /// store.insert("tok-1", &User { id: 2 }).await?;
    /// assert_eq!(store.lookup("tok-1").await?, Some(User { id: 2 }));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// An empty token or one longer than 4096 bytes (no carrier would deliver
    /// it), a user that does not serialize, or a database error.
    pub async fn insert(&self, token: &str, user: &U) -> Result<(), StoreError> {
        self.upsert(token, user, None).await
    }

    /// Issues `token` to `user` until `expires_at`, replacing any earlier
    /// holder of the token. From `expires_at` on, lookups find nothing, and
    /// [`purge_expired`](Self::purge_expired) deletes the row.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::{SqliteTokenStore, TokenStore}};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use std::time::{Duration, SystemTime};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
    /// store.insert_expiring("tok-1", &User { id: 1 }, in_an_hour).await?;
    /// assert_eq!(store.lookup("tok-1").await?, Some(User { id: 1 }));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub async fn insert_expiring(
        &self,
        token: &str,
        user: &U,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        self.upsert(token, user, Some(unix_seconds(expires_at)))
            .await
    }

    /// Revokes `token`; `false` when it was unknown.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::SqliteTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// store.insert("tok-1", &User { id: 1 }).await?;
    /// assert!(store.revoke("tok-1").await?);
    /// assert!(!store.revoke("tok-1").await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A database error.
    pub async fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        let digest = token_digest(token);
        let done = sqlx::query(REVOKE)
            .bind(digest.as_slice())
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes every token of the user `id`, expired ones included; returns
    /// how many there were.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::SqliteTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// store.insert("laptop", &User { id: 1 }).await?;
    /// store.insert("phone", &User { id: 1 }).await?;
    /// assert_eq!(store.revoke_user(&1).await?, 2);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A database error.
    pub async fn revoke_user(&self, id: &U::Id) -> Result<u64, StoreError> {
        let done = sqlx::query(REVOKE_USER)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected())
    }

    /// Deletes the expired tokens; returns how many there were.
    ///
    /// Expired tokens already fail lookups: this only reclaims their rows.
    /// Call it from a periodic task.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::SqliteTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use std::time::{Duration, SystemTime};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// let yesterday = SystemTime::now() - Duration::from_secs(86_400);
    /// store.insert_expiring("old", &User { id: 1 }, yesterday).await?;
    /// assert_eq!(store.purge_expired().await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A database error.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(PURGE_EXPIRED)
            .bind(unix_seconds(SystemTime::now()))
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(done.rows_affected())
    }

    /// The store's connection pool, for the app's own queries on the same
    /// database.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::SqliteTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store: SqliteTokenStore<User> = SqliteTokenStore::connect("sqlite::memory:").await?;
    /// let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sockwarden_tokens")
    ///     .fetch_one(store.pool())
    ///     .await?;
    /// assert_eq!(count, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn upsert(
        &self,
        token: &str,
        user: &U,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        check_token(token)?;
        let user_json = serde_json::to_string(user).map_err(|error| {
            StoreError::new(format!("user does not serialize to JSON: {error}"))
        })?;
        let digest = token_digest(token);
        sqlx::query(UPSERT)
            .bind(digest.as_slice())
            .bind(user.id().to_string())
            .bind(user_json)
            .bind(unix_seconds(SystemTime::now()))
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }
}

impl<U: AuthUser + Serialize + DeserializeOwned> TokenStore for SqliteTokenStore<U> {
    type User = U;

    async fn lookup(&self, token: &str) -> Result<Option<U>, StoreError> {
        let digest = token_digest(token);
        let user_json: Option<String> = sqlx::query_scalar(LOOKUP)
            .bind(digest.as_slice())
            .bind(unix_seconds(SystemTime::now()))
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::new)?;
        user_json.map(|json| decode_user(&json)).transpose()
    }

    async fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        SqliteTokenStore::revoke(self, token).await
    }
}

impl<U> Clone for SqliteTokenStore<U> {
    fn clone(&self) -> Self {
        SqliteTokenStore {
            pool: self.pool.clone(),
            user: PhantomData,
        }
    }
}

impl<U> fmt::Debug for SqliteTokenStore<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteTokenStore").finish_non_exhaustive()
    }
}

/// Whether `url` names an in-memory database, read as sqlx reads it: the
/// database `:memory:` or the parameter `mode=memory`. (sqlx keeps the flag
/// it parses private, and the URL it rebuilds from its options panics for
/// in-memory databases.)
fn is_in_memory(url: &str) -> bool {
    let url = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = url.split_once('?').unwrap_or((url, ""));
    database == ":memory:"
        || form_urlencoded::parse(params.as_bytes())
            .any(|(key, value)| key == "mode" && value == "memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        id: u32,
        name: String,
    }

    impl AuthUser for User {
        type Id = u32;
        fn id(&self) -> u32 {
            self.id
        }
    }

    fn user(id: u32) -> User {
        User {
            id,
            name: format!("user-{id}"),
        }
    }

    async fn memory() -> SqliteTokenStore<User> {
        SqliteTokenStore::connect("sqlite::memory:").await.unwrap()
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite://x.db?mode=memory",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://x.db",
            "sqlite://x.db?mode=rwc",
            "sqlite:x.db?mode=ro",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }

    #[tokio::test]
    async fn the_table_holds_digests_not_tokens() {
        let store = memory().await;
        store.insert("secret-token", &user(1)).await.unwrap();
        let (digest, user_id): (Vec<u8>, String) =
            sqlx::query_as("SELECT digest, user_id FROM sockwarden_tokens")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(digest, token_digest("secret-token"));
        assert_eq!(user_id, "1");
    }

    #[tokio::test]
    async fn a_row_that_no_longer_decodes_is_an_error() {
        let store = memory().await;
        store.insert("tok", &user(1)).await.unwrap();
        sqlx::query("UPDATE sockwarden_tokens SET user_json = '{not json'")
            .execute(store.pool())
            .await
            .unwrap();
        let error = store.lookup("tok").await.unwrap_err();
        assert!(error.to_string().contains("does not decode"), "{error}");
    }

    #[tokio::test]
    async fn oversized_and_empty_tokens_are_refused() {
        let store = memory().await;
        assert!(
            store
                .insert(&"x".repeat(MAX_TOKEN_LEN), &user(1))
                .await
                .is_ok()
        );
        let error = store
            .insert(&"x".repeat(MAX_TOKEN_LEN + 1), &user(1))
            .await
            .unwrap_err();
        assert!(
            !error.to_string().contains("xxxx"),
            "the token leaked into {error}"
        );
        assert!(store.insert("", &user(1)).await.is_err());
    }

    #[tokio::test]
    async fn reinsert_replaces_holder_and_expiry() {
        let store = memory().await;
        let past = SystemTime::now() - Duration::from_secs(60);
        store.insert_expiring("tok", &user(1), past).await.unwrap();
        assert_eq!(store.lookup("tok").await.unwrap(), None);
        store.insert("tok", &user(2)).await.unwrap();
        assert_eq!(store.lookup("tok").await.unwrap(), Some(user(2)));
        assert_eq!(store.revoke_user(&1).await.unwrap(), 0);
        assert_eq!(store.purge_expired().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn memory_pool_keeps_its_one_connection_forever() {
        let store = memory().await;
        let options = store.pool().options();
        assert_eq!(options.get_max_connections(), 1);
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(options.get_max_lifetime(), None);
    }

    #[tokio::test]
    async fn each_memory_store_is_its_own_database() {
        let a = memory().await;
        let b = memory().await;
        a.insert("tok", &user(1)).await.unwrap();
        assert_eq!(b.lookup("tok").await.unwrap(), None);
        assert_eq!(a.clone().lookup("tok").await.unwrap(), Some(user(1)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_is_shared_by_concurrent_clones() {
        let store = memory().await;
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.insert(&format!("tok-{i}"), &user(i)).await.unwrap();
                    store.lookup(&format!("tok-{i}")).await.unwrap()
                })
            })
            .collect();
        for (i, task) in (0..).zip(tasks) {
            assert_eq!(task.await.unwrap(), Some(user(i)));
        }
        for i in 0..32 {
            assert_eq!(
                store.lookup(&format!("tok-{i}")).await.unwrap(),
                Some(user(i))
            );
        }
    }

    #[tokio::test]
    async fn a_file_database_runs_in_wal_mode() {
        let path = std::env::temp_dir().join(format!(
            "sockwarden-wal-{}-{:?}.db",
            std::process::id(),
            SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        ));
        let store: SqliteTokenStore<User> =
            SqliteTokenStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                .await
                .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.pool().close().await;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
        assert_eq!(mode, "wal");
        assert_eq!(busy, 5000);
    }

    #[test]
    fn debug_shows_no_secrets() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime.block_on(memory());
        assert_eq!(format!("{store:?}"), "SqliteTokenStore { .. }");
    }
}
