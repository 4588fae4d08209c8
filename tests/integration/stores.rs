//! The SQL token stores, against real databases: SQLite in a temporary file
//! and in memory, PostgreSQL at `DATABASE_URL`.
//!
//! The PostgreSQL tests share one table with whatever else runs against the
//! same server at the same time, so every token and user id they write is
//! unique to the test run, they count only their own rows, and they delete
//! what they wrote.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use serde::{Deserialize, Serialize};
use sockwarden::prelude::*;
use sockwarden::store::{PostgresTokenStore, SqliteTokenStore, StoreError, TokenStore};
use sockwarden::{AuthUser, Tokens};
use sockwarden_tests::{TokenApp, connect, connect_with_token, echo, serve};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::apps::EchoIn;

/// The user the stores hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Person {
    id: String,
    name: String,
}

impl AuthUser for Person {
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
}

/// A later version of the user type, with a field that rows written as
/// [`Person`] lack: those rows no longer decode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct PersonV2 {
    id: String,
    email: String,
}

impl AuthUser for PersonV2 {
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
}

/// A string no other test run, process or thread produces.
fn unique(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let random = RandomState::new().hash_one(nanos);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{nanos}-{n}-{random:016x}", std::process::id())
}

fn person(name: &str) -> Person {
    Person {
        id: unique(name),
        name: name.to_owned(),
    }
}

/// The inherent API both stores share, so one test body checks both
/// (`revoke` is `TokenStore`'s).
trait Issuer: TokenStore<User = Person> + Clone {
    async fn insert(&self, token: &str, user: &Person) -> Result<(), StoreError>;
    async fn insert_expiring(
        &self,
        token: &str,
        user: &Person,
        expires_at: SystemTime,
    ) -> Result<(), StoreError>;
    async fn revoke_user(&self, id: &str) -> Result<u64, StoreError>;
    async fn purge_expired(&self) -> Result<u64, StoreError>;
}

macro_rules! issuer {
    ($store:ty) => {
        impl Issuer for $store {
            async fn insert(&self, token: &str, user: &Person) -> Result<(), StoreError> {
                <$store>::insert(self, token, user).await
            }
            async fn insert_expiring(
                &self,
                token: &str,
                user: &Person,
                expires_at: SystemTime,
            ) -> Result<(), StoreError> {
                <$store>::insert_expiring(self, token, user, expires_at).await
            }
            async fn revoke_user(&self, id: &str) -> Result<u64, StoreError> {
                <$store>::revoke_user(self, &id.to_owned()).await
            }
            async fn purge_expired(&self) -> Result<u64, StoreError> {
                <$store>::purge_expired(self).await
            }
        }
    };
}

issuer!(SqliteTokenStore<Person>);
issuer!(PostgresTokenStore<Person>);

/// Every behaviour of a token store, on `store`. `exclusive`: nothing else
/// uses the database, so counts of purged rows are exact.
async fn behaves_as_a_token_store(store: &impl Issuer, exclusive: bool) {
    let alice = person("alice");
    let bob = person("bob");
    let (a1, a2, b1) = (unique("a1"), unique("a2"), unique("b1"));

    // Issued tokens are found, directly and through `Tokens`.
    store.insert(&a1, &alice).await.unwrap();
    assert_eq!(store.lookup(&a1).await.unwrap(), Some(alice.clone()));
    let tokens = Tokens::new(store.clone());
    assert_eq!(tokens.lookup(&a1).await.unwrap(), Some(alice.clone()));

    // Unknown tokens are not, and are not an error.
    assert_eq!(store.lookup(&unique("unknown")).await.unwrap(), None);

    // Issuing a token again hands it to its new holder.
    store.insert(&b1, &alice).await.unwrap();
    store.insert(&b1, &bob).await.unwrap();
    assert_eq!(store.lookup(&b1).await.unwrap(), Some(bob.clone()));

    // Revoking a token ends it, once.
    assert!(store.revoke(&a1).await.unwrap());
    assert_eq!(store.lookup(&a1).await.unwrap(), None);
    assert!(!store.revoke(&a1).await.unwrap());

    // Revoking a user ends all of its tokens and no one else's.
    store.insert(&a1, &alice).await.unwrap();
    store.insert(&a2, &alice).await.unwrap();
    assert_eq!(store.revoke_user(&alice.id).await.unwrap(), 2);
    assert_eq!(store.lookup(&a1).await.unwrap(), None);
    assert_eq!(store.lookup(&a2).await.unwrap(), None);
    assert_eq!(store.lookup(&b1).await.unwrap(), Some(bob.clone()));
    assert_eq!(store.revoke_user(&alice.id).await.unwrap(), 0);

    // An expired token is not found; purging deletes its row and only it.
    let (old, fresh) = (unique("old"), unique("fresh"));
    let now = SystemTime::now();
    store
        .insert_expiring(&old, &bob, now - Duration::from_secs(60))
        .await
        .unwrap();
    store
        .insert_expiring(&fresh, &bob, now + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(store.lookup(&old).await.unwrap(), None);
    assert_eq!(store.lookup(&fresh).await.unwrap(), Some(bob.clone()));
    let purged = store.purge_expired().await.unwrap();
    if exclusive {
        assert_eq!(purged, 1);
    }
    // `revoke` answers whether a row was there, expired or not.
    assert!(
        !store.revoke(&old).await.unwrap(),
        "purge_expired left an expired row"
    );
    assert_eq!(store.lookup(&fresh).await.unwrap(), Some(bob.clone()));
    assert_eq!(store.lookup(&b1).await.unwrap(), Some(bob.clone()));

    // Tokens no carrier could deliver are refused; the longest one is kept.
    let longest = format!("{:t<4096}", unique("longest"));
    store.insert(&longest, &bob).await.unwrap();
    assert_eq!(store.lookup(&longest).await.unwrap(), Some(bob.clone()));
    let too_long = format!("{longest}t");
    let error = store.insert(&too_long, &bob).await.unwrap_err();
    assert!(
        !error.to_string().contains("tttt"),
        "the token leaked into {error}"
    );
    assert!(store.insert("", &bob).await.is_err());

    // Leave nothing behind.
    assert_eq!(store.revoke_user(&bob.id).await.unwrap(), 3);
}

/// A SQLite database file under the temp dir, deleted (with its WAL files)
/// at the end of the test.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        TempDb(std::env::temp_dir().join(format!("{}.db", unique("sockwarden-tokens"))))
    }

    /// The URL that creates the file if needed.
    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[tokio::test]
async fn sqlite_in_memory_behaves_as_a_token_store() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    behaves_as_a_token_store(&store, true).await;
}

#[tokio::test]
async fn sqlite_file_behaves_as_a_token_store() {
    let db = TempDb::new();
    let store = SqliteTokenStore::connect(&db.url()).await.unwrap();
    behaves_as_a_token_store(&store, true).await;
    store.pool().close().await;
}

#[tokio::test]
async fn sqlite_file_keeps_tokens_across_a_reconnect() {
    let db = TempDb::new();
    let alice = person("alice");
    let store = SqliteTokenStore::connect(&db.url()).await.unwrap();
    store.insert("kept", &alice).await.unwrap();
    store.insert("revoked", &alice).await.unwrap();
    store.revoke("revoked").await.unwrap();
    let later = SystemTime::now() + Duration::from_secs(3600);
    store
        .insert_expiring("expiring", &alice, later)
        .await
        .unwrap();
    let past = SystemTime::now() - Duration::from_secs(3600);
    store
        .insert_expiring("expired", &alice, past)
        .await
        .unwrap();
    store.pool().close().await;
    drop(store);

    let store: SqliteTokenStore<Person> = SqliteTokenStore::connect(&db.url()).await.unwrap();
    assert_eq!(store.lookup("kept").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.lookup("expiring").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.lookup("revoked").await.unwrap(), None);
    assert_eq!(store.lookup("expired").await.unwrap(), None);
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    store.pool().close().await;
}

#[tokio::test]
async fn sqlite_file_is_shared_by_separate_pools() {
    // Two pools on one file, as two processes of the same app would have.
    let db = TempDb::new();
    let issuer: SqliteTokenStore<Person> = SqliteTokenStore::connect(&db.url()).await.unwrap();
    let reader: SqliteTokenStore<Person> = SqliteTokenStore::connect(&db.url()).await.unwrap();
    let alice = person("alice");
    issuer.insert("tok", &alice).await.unwrap();
    assert_eq!(reader.lookup("tok").await.unwrap(), Some(alice));
    assert!(issuer.revoke("tok").await.unwrap());
    assert_eq!(reader.lookup("tok").await.unwrap(), None);
    issuer.pool().close().await;
    reader.pool().close().await;
}

#[tokio::test]
async fn sqlite_missing_file_without_create_mode_is_an_error() {
    let db = TempDb::new();
    let url = format!("sqlite://{}", db.0.display());
    assert!(
        SqliteTokenStore::<Person>::connect(&url).await.is_err(),
        "opened a database that does not exist"
    );
    assert!(!db.0.exists());
}

#[tokio::test]
async fn sqlite_in_memory_stores_are_separate_databases() {
    let a = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let b: SqliteTokenStore<Person> = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    a.insert("tok", &person("alice")).await.unwrap();
    assert_eq!(b.lookup("tok").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory_is_one_database_for_every_clone_and_task() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let people: Vec<Person> = (0..16).map(|i| person(&format!("p{i}"))).collect();
    let writers: Vec<_> = people
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, who)| {
            let store = store.clone();
            tokio::spawn(async move { store.insert(&format!("tok-{i}"), &who).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let readers: Vec<_> = (0..people.len())
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.lookup(&format!("tok-{i}")).await })
        })
        .collect();
    for (reader, who) in readers.into_iter().zip(&people) {
        assert_eq!(reader.await.unwrap().unwrap().as_ref(), Some(who));
    }
}

#[tokio::test]
async fn sqlite_in_memory_row_that_no_longer_decodes_is_an_error() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    store.insert("tok", &person("alice")).await.unwrap();
    let upgraded: SqliteTokenStore<PersonV2> = SqliteTokenStore::from_pool(store.pool().clone())
        .await
        .unwrap();
    let error = upgraded.lookup("tok").await.unwrap_err();
    assert!(error.to_string().contains("email"), "{error}");
    // Not found is still not found, not an error.
    assert_eq!(upgraded.lookup("other").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_file_row_that_no_longer_decodes_is_an_error() {
    let db = TempDb::new();
    let store = SqliteTokenStore::connect(&db.url()).await.unwrap();
    store.insert("tok", &person("alice")).await.unwrap();
    store.pool().close().await;
    let upgraded: SqliteTokenStore<PersonV2> = SqliteTokenStore::connect(&db.url()).await.unwrap();
    assert!(upgraded.lookup("tok").await.is_err());
    upgraded.pool().close().await;
}

#[consumer(path = "/ws/stored", auth = "token")]
#[requires_auth]
struct Stored {
    #[user]
    user: Person,
}

impl Consumer for Stored {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        let EchoIn::Echo { seq, body } = msg;
        cx.send(&serde_json::json!({ "type": "echo", "seq": seq, "body": body, "user": self.user.name }))
            .await
    }
}

#[tokio::test]
async fn handshakes_authenticate_against_a_sqlite_store() {
    let db = TempDb::new();
    let store = SqliteTokenStore::connect(&db.url()).await.unwrap();
    let app: Router = Router::new()
        .consumer::<Stored>()
        .with_state(TokenApp::new(Tokens::new(store.clone())));
    let addr = serve(app).await;

    store.insert("tok-alice", &person("alice")).await.unwrap();
    let mut ws = connect_with_token(addr, "/ws/stored", "tok-alice").await;
    assert_eq!(echo(&mut ws, 1, "hi").await["user"], "alice");

    store.revoke("tok-alice").await.unwrap();
    let refused = connect(addr, "/ws/stored", &[("authorization", "Token tok-alice")]).await;
    assert_eq!(refused.refused().0, StatusCode::UNAUTHORIZED);

    // A row the user type cannot read refuses the handshake as a store
    // failure: never anonymous, never someone else.
    let upgraded: SqliteTokenStore<PersonV2> = SqliteTokenStore::from_pool(store.pool().clone())
        .await
        .unwrap();
    let v2 = PersonV2 {
        id: unique("v2"),
        email: "v2@example.com".into(),
    };
    upgraded.insert("tok-v2", &v2).await.unwrap();
    let refused = connect(addr, "/ws/stored", &[("authorization", "Token tok-v2")]).await;
    assert_eq!(refused.refused().0, StatusCode::SERVICE_UNAVAILABLE);
}

/// The PostgreSQL URL, or `None` (with a notice) when the tests should skip.
fn database_url(test: &str) -> Option<String> {
    sockwarden_tests::service_url("DATABASE_URL", test)
}

/// A store on the server at `DATABASE_URL`; a server that does not answer
/// fails the test.
async fn postgres<U>(url: &str) -> PostgresTokenStore<U>
where
    U: AuthUser + Serialize + serde::de::DeserializeOwned,
{
    match PostgresTokenStore::connect(url).await {
        Ok(store) => store,
        Err(error) => panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}"),
    }
}

#[tokio::test]
async fn postgres_behaves_as_a_token_store() {
    let Some(url) = database_url("postgres_behaves_as_a_token_store") else {
        return;
    };
    let store = postgres(&url).await;
    behaves_as_a_token_store(&store, false).await;
}

#[tokio::test]
async fn postgres_is_shared_by_separate_pools() {
    let Some(url) = database_url("postgres_is_shared_by_separate_pools") else {
        return;
    };
    let issuer: PostgresTokenStore<Person> = postgres(&url).await;
    let reader: PostgresTokenStore<Person> = postgres(&url).await;
    let (alice, token) = (person("alice"), unique("tok"));
    issuer.insert(&token, &alice).await.unwrap();
    assert_eq!(reader.lookup(&token).await.unwrap(), Some(alice));
    assert!(issuer.revoke(&token).await.unwrap());
    assert_eq!(reader.lookup(&token).await.unwrap(), None);
}

#[tokio::test]
async fn postgres_row_that_no_longer_decodes_is_an_error() {
    let Some(url) = database_url("postgres_row_that_no_longer_decodes_is_an_error") else {
        return;
    };
    let store: PostgresTokenStore<Person> = postgres(&url).await;
    let (alice, token) = (person("alice"), unique("tok"));
    store.insert(&token, &alice).await.unwrap();
    let upgraded: PostgresTokenStore<PersonV2> =
        PostgresTokenStore::from_pool(store.pool().clone())
            .await
            .unwrap();
    let error = upgraded.lookup(&token).await.unwrap_err();
    assert!(error.to_string().contains("email"), "{error}");
    assert_eq!(upgraded.lookup(&unique("other")).await.unwrap(), None);
    assert_eq!(store.revoke_user(&alice.id).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_serves_concurrent_clones() {
    let Some(url) = database_url("postgres_serves_concurrent_clones") else {
        return;
    };
    let store: PostgresTokenStore<Person> = postgres(&url).await;
    let alice = person("alice");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, alice) = (store.clone(), alice.clone());
            let token = unique(&format!("tok{i}"));
            tokio::spawn(async move {
                store.insert(&token, &alice).await.unwrap();
                store.lookup(&token).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().as_ref(), Some(&alice));
    }
    assert_eq!(store.revoke_user(&alice.id).await.unwrap(), 16);
}
