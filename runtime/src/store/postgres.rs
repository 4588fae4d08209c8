//! The PostgreSQL token store: tokens shared by several processes.

use std::fmt;
use std::marker::PhantomData;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

use super::sql::{check_token, decode_user, unix_seconds};
use super::{StoreError, TokenStore, token_digest};
use crate::auth::AuthUser;

/// The advisory lock that serializes creating the table: "sockward" in ASCII.
const SCHEMA_LOCK: i64 = 0x736f_636b_7761_7264;

const TABLE_EXISTS: &str = "SELECT to_regclass('sockwarden_tokens') IS NOT NULL";

const LOCK_SCHEMA: &str = "SELECT pg_advisory_xact_lock($1)";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sockwarden_tokens (
    digest BYTEA NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    user_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
)";

const CREATE_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS sockwarden_tokens_user_id ON sockwarden_tokens (user_id)";

const UPSERT: &str =
    "INSERT INTO sockwarden_tokens (digest, user_id, user_json, created_at, expires_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (digest) DO UPDATE SET
        user_id = excluded.user_id,
        user_json = excluded.user_json,
        created_at = excluded.created_at,
        expires_at = excluded.expires_at";

const LOOKUP: &str = "SELECT user_json FROM sockwarden_tokens
    WHERE digest = $1 AND (expires_at IS NULL OR expires_at > $2)";

const REVOKE: &str = "DELETE FROM sockwarden_tokens WHERE digest = $1";

const REVOKE_USER: &str = "DELETE FROM sockwarden_tokens WHERE user_id = $1";

const PURGE_EXPIRED: &str =
    "DELETE FROM sockwarden_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1";

/// Tokens kept in a PostgreSQL database, under their SHA-256 digests: the
/// store for several processes that must see the same tokens and the same
/// revocations.
///
/// The store keeps one table, `sockwarden_tokens` (in the connection's
/// `search_path`), created on first use:
///
/// | column       | type                  |                                          |
/// |--------------|-----------------------|------------------------------------------|
/// | `digest`     | `BYTEA` primary key   | SHA-256 of the token ([`token_digest`])  |
/// | `user_id`    | `TEXT`, indexed       | [`AuthUser::id`], as text                |
/// | `user_json`  | `TEXT`                | the user, as JSON                        |
/// | `created_at` | `BIGINT`              | unix seconds                             |
/// | `expires_at` | `BIGINT`, nullable    | unix seconds; `NULL` never expires       |
///
/// The user is stored as JSON and decoded on every lookup, so changing the
/// user type such that stored rows no longer decode makes their lookups fail
/// with a [`StoreError`] (the handshake is refused), never succeed as someone
/// else or as anonymous.
///
/// Expiry is counted in whole seconds of this process's clock and rounds
/// toward the past: a token stops working up to a second before its
/// `expires_at`, never after. Processes sharing the table should keep their
/// clocks in sync (NTP), as each judges expiry by its own.
///
/// Cloning shares the pool: keep a clone to issue and revoke tokens while
/// consumers read through [`Tokens`](crate::Tokens).
///
/// ```no_run
/// use serde::{Deserialize, Serialize};
/// use sockwarden::{AuthUser, store::{PostgresTokenStore, TokenStore}};
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
/// let store = PostgresTokenStore::connect("postgres://app@localhost/app").await?;
/// let alice = User { id: 1, name: "alice".into() };
/// store.insert("tok-1", &alice).await?;
/// assert_eq!(store.lookup("tok-1").await?, Some(alice));
/// assert!(store.revoke("tok-1").await?);
/// assert_eq!(store.lookup("tok-1").await?, None);
/// # Ok(())
/// # }
/// ```
pub struct PostgresTokenStore<U> {
    pool: PgPool,
    // `fn() -> U`: the store hands out users, it holds none, so it is
    // `Send`/`Sync` whatever `U` is.
    user: PhantomData<fn() -> U>,
}

impl<U: AuthUser + Serialize + DeserializeOwned> PostgresTokenStore<U> {
    /// Connects to the database at `url` (`postgres://user:password@host/db`)
    /// with sqlx's default pool settings, and creates the table if it is
    /// missing.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::AuthUser;
    /// use sockwarden::store::PostgresTokenStore;
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let url = std::env::var("DATABASE_URL").expect("DATABASE_URL is set");
    /// let store: PostgresTokenStore<User> = PostgresTokenStore::connect(&url).await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A malformed URL, a server that does not answer or refuses the
    /// credentials, or a table that cannot be created. A server that refuses
    /// the connection itself is retried, as one that is still starting,
    /// until the pool's acquire timeout (30 s) has passed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPool::connect(url).await.map_err(StoreError::new)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool, creating the table if it is missing.
    ///
    /// Creating the table needs the `CREATE` privilege on the schema; where
    /// the app's role lacks it, have an administrator create the table (as
    /// documented on [`PostgresTokenStore`]): an existing table is left as
    /// it is, and no privilege beyond reading and writing it is needed.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::AuthUser;
    /// use sockwarden::store::PostgresTokenStore;
    /// use sqlx::postgres::PgPoolOptions;
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = PgPoolOptions::new()
    ///     .max_connections(20)
    ///     .connect("postgres://app@localhost/app")
    ///     .await?;
    /// let store: PostgresTokenStore<User> = PostgresTokenStore::from_pool(pool).await?;
    /// # let _ = store;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A database error, or a table that cannot be created.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        create_table(&pool).await.map_err(StoreError::new)?;
        Ok(PostgresTokenStore {
            pool,
            user: PhantomData,
        })
    }

    /// Issues `token` to `user`, replacing any earlier holder of the token;
    /// the token never expires.
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::{PostgresTokenStore, TokenStore}};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = PostgresTokenStore::connect("postgres://app@localhost/app").await?;
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
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::{PostgresTokenStore, TokenStore}};
    /// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use std::time::{Duration, SystemTime};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = PostgresTokenStore::connect("postgres://app@localhost/app").await?;
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
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::PostgresTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = PostgresTokenStore::connect("postgres://app@localhost/app").await?;
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
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::PostgresTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store = PostgresTokenStore::connect("postgres://app@localhost/app").await?;
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
    /// Call it from a periodic task (one process is enough).
    ///
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::PostgresTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sockwarden::store::StoreError> {
    /// let store: PostgresTokenStore<User> =
    ///     PostgresTokenStore::connect("postgres://app@localhost/app").await?;
    /// let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    /// loop {
    ///     every_hour.tick().await;
    ///     store.purge_expired().await?;
    /// }
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
    /// ```no_run
    /// # use serde::{Deserialize, Serialize};
    /// # use sockwarden::{AuthUser, store::PostgresTokenStore};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store: PostgresTokenStore<User> =
    ///     PostgresTokenStore::connect("postgres://app@localhost/app").await?;
    /// let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sockwarden_tokens")
    ///     .fetch_one(store.pool())
    ///     .await?;
    /// # let _ = count;
    /// # Ok(())
    /// # }
    /// ```
    pub fn pool(&self) -> &PgPool {
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

impl<U: AuthUser + Serialize + DeserializeOwned> TokenStore for PostgresTokenStore<U> {
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
        PostgresTokenStore::revoke(self, token).await
    }
}

impl<U> Clone for PostgresTokenStore<U> {
    fn clone(&self) -> Self {
        PostgresTokenStore {
            pool: self.pool.clone(),
            user: PhantomData,
        }
    }
}

// The pool is left out: its connect options hold the database password.
impl<U> fmt::Debug for PostgresTokenStore<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTokenStore").finish_non_exhaustive()
    }
}

async fn create_table(pool: &PgPool) -> Result<(), sqlx::Error> {
    // Checked first so that a role without CREATE on the schema can use a
    // table an administrator made.
    let exists: bool = sqlx::query_scalar(TABLE_EXISTS).fetch_one(pool).await?;
    if exists {
        return Ok(());
    }
    // Concurrent `CREATE TABLE IF NOT EXISTS` can still fail with a unique
    // violation in the catalog (both sessions see no table, both insert it),
    // as when several processes start together: the advisory lock makes
    // them take turns.
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK_SCHEMA)
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE_TABLE).execute(&mut *tx).await?;
    sqlx::query(CREATE_INDEX).execute(&mut *tx).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        id: String,
    }

    impl AuthUser for User {
        type Id = String;
        fn id(&self) -> String {
            self.id.clone()
        }
    }

    fn database_url(test: &str) -> Option<String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                eprintln!("{test}: skipped: DATABASE_URL is not set");
                None
            }
        }
    }

    fn unique(label: &str) -> String {
        use std::time::UNIX_EPOCH;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        format!("{label}_{}_{nanos}", std::process::id())
    }

    #[tokio::test]
    async fn the_table_holds_digests_and_a_bad_row_is_an_error() {
        let Some(url) = database_url("the_table_holds_digests_and_a_bad_row_is_an_error") else {
            return;
        };
        let store = PostgresTokenStore::connect(&url).await.unwrap();
        let (token, user) = (unique("tok"), User { id: unique("user") });
        store.insert(&token, &user).await.unwrap();

        let digest = token_digest(&token);
        let stored: String =
            sqlx::query_scalar("SELECT user_id FROM sockwarden_tokens WHERE digest = $1")
                .bind(digest.as_slice())
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(stored, user.id);

        sqlx::query("UPDATE sockwarden_tokens SET user_json = '{not json' WHERE digest = $1")
            .bind(digest.as_slice())
            .execute(store.pool())
            .await
            .unwrap();
        let error = store.lookup(&token).await.unwrap_err();
        assert!(error.to_string().contains("does not decode"), "{error}");
        assert!(store.revoke(&token).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn processes_starting_together_all_get_the_table() {
        let Some(url) = database_url("processes_starting_together_all_get_the_table") else {
            return;
        };
        // A schema of this test's own, so the table does not exist yet.
        let schema = unique("sockwarden_race");
        let admin = PgPool::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let options: PgConnectOptions = url
            .parse::<PgConnectOptions>()
            .unwrap()
            .options([("search_path", &schema)]);
        let starts: Vec<_> = (0..8)
            .map(|_| {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_lazy_with(options.clone());
                tokio::spawn(PostgresTokenStore::<User>::from_pool(pool))
            })
            .collect();
        let mut results = Vec::new();
        for start in starts {
            results.push(start.await.unwrap().map(|_| ()));
        }
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
        for result in results {
            result.unwrap();
        }
    }
}
