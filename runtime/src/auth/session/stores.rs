//! Where sessions live: tower-sessions' own stores, and constructors that
//! connect them the way a server needs.
//!
//! - [`MemoryStore`]: in this process; the default, for one process and
//!   for tests.
//! - [`SqliteStore`] (`sqlite` feature): the embedded persistent default,
//!   [`sqlite_store`].
//! - [`PostgresStore`] (`postgres` feature): shared by several processes,
//!   [`postgres_store`].
//! - [`RedisStore`] (`redis` feature): shared by several processes, records
//!   expiring in Redis itself, [`redis_store`].
//!
//! Any other tower-sessions store works as well: [`Sessions::new`](super::Sessions::new)
//! takes any [`SessionStore`](tower_sessions::SessionStore).

pub use tower_sessions::MemoryStore;
#[cfg(feature = "postgres")]
pub use tower_sessions_sqlx_store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use tower_sessions_sqlx_store::SqliteStore;

#[cfg(feature = "redis")]
pub use tower_sessions_redis_store::RedisStore;

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
use crate::store::StoreError;

/// The fred connection pool of [`redis_store`].
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sockwarden::store::StoreError> {
/// use sockwarden::session::{RedisPool, RedisStore, redis_store};
///
/// let store: RedisStore<RedisPool> = redis_store("redis://127.0.0.1:6379/2").await?;
/// # let _ = store;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
pub type RedisPool = fred::clients::Pool;

/// Opens the SQLite database at `url` (`sqlite://sessions.db?mode=rwc`,
/// `sqlite::memory:`) and creates the sessions table (`tower_sessions`) if
/// it is missing.
///
/// A file database is opened in WAL mode with a busy timeout, so readers do
/// not wait for the writer. An in-memory database lives as long as the
/// store: one connection, never closed. For another table name or pool
/// settings, build the store yourself:
/// `SqliteStore::new(pool).with_table_name("…")?` then `migrate().await?`.
///
/// # Errors
///
/// A malformed URL, a database that cannot be opened, or a table that
/// cannot be created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sockwarden::store::StoreError> {
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
/// use sockwarden::session::{Sessions, sqlite_store};
///
/// let sessions: Sessions<User> = Sessions::new(sqlite_store("sqlite::memory:").await?);
/// let id = sessions.create_session(&User { id: 1 }).await?;
/// assert_eq!(sessions.load_user(&id).await?, Some(User { id: 1 }));
/// # Ok(()) }
/// ```
#[cfg(feature = "sqlite")]
pub async fn sqlite_store(url: &str) -> Result<SqliteStore, StoreError> {
    use std::str::FromStr;
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    let options = SqliteConnectOptions::from_str(url).map_err(StoreError::new)?;
    let pool = if url.contains(":memory:") || url.contains("mode=memory") {
        // The database vanishes with its last connection.
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
                    .busy_timeout(Duration::from_secs(5)),
            )
            .await
    }
    .map_err(StoreError::new)?;
    let store = SqliteStore::new(pool);
    store.migrate().await.map_err(StoreError::new)?;
    Ok(store)
}

/// Connects to PostgreSQL at `url` and creates the sessions table
/// (`tower_sessions.session`) if it is missing.
///
/// Creating it needs the `CREATE` privilege on the database; where the
/// app's role lacks it, have an administrator run the store's `migrate`
/// once. For another schema or table, build the store yourself:
/// `PostgresStore::new(pool).with_schema_name("…")?` then `migrate().await?`.
///
/// # Errors
///
/// A malformed URL, a server that does not answer or refuses the
/// credentials, or a table that cannot be created.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sockwarden::store::StoreError> {
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
/// use sockwarden::session::{Sessions, postgres_store};
///
/// let store = postgres_store("postgres://app@localhost/app").await?;
/// let sessions: Sessions<User> = Sessions::new(store);
/// # let _ = sessions;
/// # Ok(()) }
/// ```
#[cfg(feature = "postgres")]
pub async fn postgres_store(url: &str) -> Result<PostgresStore, StoreError> {
    let pool = sqlx::PgPool::connect(url).await.map_err(StoreError::new)?;
    let store = PostgresStore::new(pool);
    migrate_postgres(&store).await?;
    Ok(store)
}

/// Runs the store's `migrate`, twice if need be: when several processes
/// start at once on a fresh database, tower-sessions' `migrate` can lose the
/// race to create the schema and return without creating the table.
#[cfg(feature = "postgres")]
async fn migrate_postgres(store: &PostgresStore) -> Result<(), StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let migrated = store.migrate().await;
        match migrated {
            Ok(()) if attempt >= 2 => return Ok(()),
            Ok(()) => {}
            Err(error) if attempt >= 3 => return Err(StoreError::new(error)),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// Connects to Redis at `url` (`redis://host:6379/2`: pick a database of
/// its own when the server holds other data, since records are keyed by the
/// bare session id) with a pool of two connections.
///
/// Records expire in Redis itself at their expiry date. The pool reconnects
/// after an outage, forever; meanwhile a session read fails after 2 s (the
/// handshake answers 503, an open socket keeps running). The first
/// connection is not retried: a server that refuses it, or does not answer
/// within 5 s, is an error.
///
/// # Errors
///
/// A malformed URL, or a server that does not answer.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sockwarden::store::StoreError> {
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
/// use sockwarden::session::{Sessions, redis_store};
///
/// let sessions: Sessions<User> = Sessions::new(redis_store("redis://127.0.0.1:6379/2").await?);
/// # let _ = sessions;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
pub async fn redis_store(url: &str) -> Result<RedisStore<RedisPool>, StoreError> {
    use std::time::Duration;

    use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};

    const TIMEOUT: Duration = Duration::from_secs(5);
    const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

    // fred's URL errors do not repeat the URL, which may hold a password.
    let config = Config::from_url(url).map_err(StoreError::new)?;
    let mut policy = ReconnectPolicy::new_exponential(0, 100, 2_000, 2);
    policy.set_jitter(100);
    let pool = Builder::from_config(config)
        .set_policy(policy)
        .with_connection_config(|connection| {
            connection.connection_timeout = TIMEOUT;
            connection.internal_command_timeout = TIMEOUT;
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = COMMAND_TIMEOUT;
        })
        .build_pool(2)
        .map_err(StoreError::new)?;
    pool.init().await.map_err(StoreError::new)?;
    Ok(RedisStore::new(pool))
}
