//! A PostgreSQL session store of a test's own, so that runs sharing the
//! server never meet.

use std::time::{SystemTime, UNIX_EPOCH};

use sockwarden::session::PostgresStore;
use sockwarden::session::tower_sessions_sqlx_store::sqlx::{self, PgPool};

/// A session store in a schema made for one test; [`SchemaStore::drop_schema`]
/// removes it.
pub struct SchemaStore {
    /// The store, migrated.
    pub store: PostgresStore,
    pool: PgPool,
    schema: String,
    url: String,
}

impl SchemaStore {
    /// The store for `test`, in a fresh schema named after `prefix`; `None`
    /// (the test skips, with a notice) when `DATABASE_URL` is unset.
    ///
    /// # Panics
    ///
    /// When `DATABASE_URL` is set and PostgreSQL does not answer.
    pub async fn new(test: &str, prefix: &str) -> Option<SchemaStore> {
        let url = crate::service_url("DATABASE_URL", test)?;
        let pool = match PgPool::connect(&url).await {
            Ok(pool) => pool,
            Err(error) => panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}"),
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let schema = format!("{prefix}_{}_{nanos}", std::process::id());
        let store = PostgresStore::new(pool.clone())
            .with_schema_name(&schema)
            .expect("a valid schema name");
        store.migrate().await.expect("migrate the session store");
        Some(SchemaStore {
            store,
            pool,
            schema,
            url,
        })
    }

    /// The server's URL, from `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) {
        let schema = &self.schema;
        sqlx::query(&format!(r#"drop schema "{schema}" cascade"#))
            .execute(&self.pool)
            .await
            .expect("drop the test's schema");
    }
}
