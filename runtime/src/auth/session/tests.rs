//! Unit tests of session auth: the handshake's reading of a session, the
//! login and logout through tower-sessions' real layer, revalidation, and
//! revocation through the hub. (Over TCP, with consumers: the integration
//! tests in `tests/integration/sessions.rs`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, MemoryStore, Session, SessionStore, session_store};

use super::{SessionAuth, Sessions, USER_KEY};
use crate::auth::{AuthUser, Authenticate, Carrier, Credential, Identity};
use crate::close::CloseCode;
use crate::cx::ConnectionId;
use crate::endpoint::{Limits, Spec};
use crate::hub::Hub;
use crate::reject::RejectKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

fn alice() -> User {
    User {
        id: 1,
        name: "alice".into(),
    }
}

fn bob() -> User {
    User {
        id: 2,
        name: "bob".into(),
    }
}

fn cookie(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::COOKIE,
        HeaderValue::from_str(&format!("theme=dark; {name}={value}")).unwrap(),
    );
    headers
}

async fn identify(sessions: &Sessions<User>, headers: HeaderMap) -> Identity<User> {
    let mut request = Request::get("/ws").body(()).unwrap();
    *request.headers_mut() = headers;
    let (parts, ()) = request.into_parts();
    SessionAuth::<User>::authenticate(sessions, &parts, &Spec::new("T", "/ws"))
        .await
        .unwrap()
}

/// A store whose answers the test sets: records returned as they are
/// (expired ones too), or failures.
#[derive(Debug, Default, Clone)]
struct Scripted(Arc<Script>);

#[derive(Debug, Default)]
struct Script {
    records: Mutex<Vec<Record>>,
    failing: std::sync::atomic::AtomicBool,
    loads: AtomicUsize,
}

impl std::ops::Deref for Scripted {
    type Target = Script;
    fn deref(&self) -> &Script {
        &self.0
    }
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = session_store::Result<T>> + Send + 'a>>;

impl Scripted {
    fn answer<T: Send + 'static>(&self, value: T) -> StoreFuture<'static, T> {
        let failing = self.failing.load(Ordering::SeqCst);
        Box::pin(async move {
            if failing {
                Err(session_store::Error::Backend("down".into()))
            } else {
                Ok(value)
            }
        })
    }
}

impl SessionStore for Scripted {
    fn create<'life0, 'life1, 'async_trait>(
        &'life0 self,
        record: &'life1 mut Record,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.records.lock().unwrap().push(record.clone());
        self.answer(())
    }

    fn save<'life0, 'life1, 'async_trait>(
        &'life0 self,
        record: &'life1 Record,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.records.lock().unwrap().push(record.clone());
        self.answer(())
    }

    fn load<'life0, 'life1, 'async_trait>(
        &'life0 self,
        id: &'life1 Id,
    ) -> StoreFuture<'async_trait, Option<Record>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let found = self
            .records
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|record| record.id == *id)
            .cloned();
        self.answer(found)
    }

    fn delete<'life0, 'life1, 'async_trait>(
        &'life0 self,
        id: &'life1 Id,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.records
            .lock()
            .unwrap()
            .retain(|record| record.id != *id);
        self.answer(())
    }
}

fn record(user: &User, expiry_date: OffsetDateTime) -> Record {
    Record {
        id: Id::default(),
        data: [(USER_KEY.to_owned(), serde_json::to_value(user).unwrap())].into(),
        expiry_date,
    }
}

#[tokio::test]
async fn a_stored_session_is_its_user_by_cookie() {
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let id = sessions.create_session(&alice()).await.unwrap();
    let identity = identify(&sessions, cookie("sid", &id.to_string())).await;
    assert_eq!(
        identity,
        Identity::User {
            user: alice(),
            carrier: Carrier::Cookie,
            credential: Credential::Session(id.to_string()),
        }
    );
    // Another cookie name is not the session cookie.
    let identity = identify(&sessions, cookie("id", &id.to_string())).await;
    assert_eq!(identity, Identity::Anonymous);
}

#[tokio::test]
async fn missing_forged_unknown_and_expired_sessions_are_anonymous() {
    let store = Scripted::default();
    let sessions: Sessions<User> = Sessions::new(store.clone());
    let expired = record(&alice(), OffsetDateTime::now_utc() - Duration::seconds(1));
    let no_user = Record {
        data: [("other".to_owned(), serde_json::json!(1))].into(),
        ..record(&alice(), OffsetDateTime::now_utc() + Duration::hours(1))
    };
    let other_type = Record {
        data: [(
            USER_KEY.to_owned(),
            serde_json::json!({ "id": "not a number" }),
        )]
        .into(),
        ..record(&alice(), OffsetDateTime::now_utc() + Duration::hours(1))
    };
    store
        .records
        .lock()
        .unwrap()
        .extend([expired.clone(), no_user.clone(), other_type.clone()]);

    assert_eq!(
        identify(&sessions, HeaderMap::new()).await,
        Identity::Anonymous
    );
    let forged = [
        "forged".to_owned(),
        String::new(),
        "x".repeat(5000),
        Id::default().to_string(),
        expired.id.to_string(),
        no_user.id.to_string(),
        other_type.id.to_string(),
    ];
    for value in &forged {
        assert_eq!(
            identify(&sessions, cookie("id", value)).await,
            Identity::Anonymous,
            "{value}"
        );
    }
    // Malformed values never reach the store.
    assert_eq!(store.loads.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_failing_store_is_unavailable_not_anonymous() {
    let store = Scripted::default();
    let sessions: Sessions<User> = Sessions::new(store.clone());
    store.failing.store(true, Ordering::SeqCst);
    let mut request = Request::get("/ws").body(()).unwrap();
    *request.headers_mut() = cookie("id", &Id::default().to_string());
    let (parts, ()) = request.into_parts();
    let refused = SessionAuth::<User>::authenticate(&sessions, &parts, &Spec::new("T", "/ws"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), RejectKind::Unavailable);
    // A forged cookie does not reach the store, so it cannot fail.
    assert_eq!(
        identify(&sessions, cookie("id", "forged")).await,
        Identity::Anonymous
    );
}

#[tokio::test]
async fn revalidation_rereads_the_store() {
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    let id = sessions.create_session(&alice()).await.unwrap();
    let credential = Credential::Session(id.to_string());
    let revalidate = |user: User, credential: Credential| {
        let sessions = sessions.clone();
        async move {
            SessionAuth::<User>::revalidate(&sessions, &user, &credential)
                .await
                .unwrap()
        }
    };
    assert!(revalidate(alice(), credential.clone()).await);
    // The session names another user than the connection's.
    assert!(!revalidate(bob(), credential.clone()).await);
    // Not a session credential, or not a session id.
    assert!(!revalidate(alice(), Credential::Opaque).await);
    assert!(!revalidate(alice(), Credential::Session("forged".into())).await);
    sessions.delete_session(&id).await.unwrap();
    assert!(!revalidate(alice(), credential).await);
}

#[tokio::test]
async fn revalidation_keeps_the_connection_when_the_store_fails() {
    let store = Scripted::default();
    let sessions: Sessions<User> = Sessions::new(store.clone());
    let id = sessions.create_session(&alice()).await.unwrap();
    store.failing.store(true, Ordering::SeqCst);
    let refused =
        SessionAuth::<User>::revalidate(&sessions, &alice(), &Credential::Session(id.to_string()))
            .await
            .unwrap_err();
    assert_eq!(refused.kind(), RejectKind::Unavailable);
}

#[tokio::test]
async fn created_sessions_expire_as_the_layer_would() {
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default())
        .with_expiry(Expiry::OnInactivity(Duration::minutes(10)));
    let id = sessions.create_session(&alice()).await.unwrap();
    let record = sessions.store().load(&id).await.unwrap().unwrap();
    let left = record.expiry_date - OffsetDateTime::now_utc();
    assert!(
        left > Duration::minutes(9) && left <= Duration::minutes(10),
        "{left}"
    );

    let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    let id = sessions.create_session(&alice()).await.unwrap();
    let record = sessions.store().load(&id).await.unwrap().unwrap();
    assert!(record.expiry_date - OffsetDateTime::now_utc() > Duration::days(13));
}

/// Registers a connection of `user` opened with session `id` in `hub`, as
/// the router does, and returns its registration.
fn admit(hub: &Hub, user: &User, id: &Id) -> crate::hub::Registration {
    hub.admit(
        ConnectionId::next(),
        Some(user.id.to_string()),
        Credential::Session(id.to_string()),
        None,
        &Limits::DEFAULT,
    )
    .unwrap()
}

fn close_order(registration: &crate::hub::Registration) -> Option<(u16, String)> {
    registration
        .mailbox()
        .close_order()
        .map(|(code, reason)| (code.get(), reason.into_owned()))
}

#[tokio::test]
async fn deleting_a_session_closes_its_sockets_only() {
    let hub = Hub::new();
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    SessionAuth::<User>::link(&sessions, &hub);
    let first = sessions.create_session(&alice()).await.unwrap();
    let second = sessions.create_session(&alice()).await.unwrap();
    let on_first = [admit(&hub, &alice(), &first), admit(&hub, &alice(), &first)];
    let on_second = admit(&hub, &alice(), &second);

    sessions.delete_session(&first).await.unwrap();
    for registration in &on_first {
        assert_eq!(
            close_order(registration),
            Some((CloseCode::NOT_AUTHENTICATED.get(), "logged out".into()))
        );
    }
    assert_eq!(close_order(&on_second), None);

    sessions.password_changed(&alice().id).await.unwrap();
    assert_eq!(
        close_order(&on_second),
        Some((4401, "password changed".into()))
    );
}

/// An app with login, logout and whoami on tower-sessions' real layer.
fn plain_app(sessions: &Sessions<User>) -> Router {
    async fn login(
        State(sessions): State<Sessions<User>>,
        session: Session,
        name: String,
    ) -> StatusCode {
        let user = if name == "bob" { bob() } else { alice() };
        session.insert("cart", 3).await.unwrap();
        sessions.login(&session, &user).await.unwrap();
        StatusCode::NO_CONTENT
    }
    async fn logout(State(sessions): State<Sessions<User>>, session: Session) -> StatusCode {
        sessions.logout(&session).await.unwrap();
        StatusCode::NO_CONTENT
    }
    async fn whoami(State(sessions): State<Sessions<User>>, session: Session) -> String {
        let user = sessions.user(&session).await.unwrap();
        let cart: Option<u32> = session.get("cart").await.unwrap();
        format!(
            "{} {cart:?}",
            user.map_or("nobody".into(), |user| user.name)
        )
    }
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/whoami", get(whoami))
        .layer(sessions.layer())
        .with_state(sessions.clone())
}

/// Sends a request with the session cookie `sid` (if any); returns the
/// status, the new session cookie (if set) and the body.
async fn call(
    app: &Router,
    method: &str,
    path: &str,
    sid: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(sid) = sid {
        request = request.header(header::COOKIE, format!("sid={sid}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("sid="))
        .map(|value| value.split(';').next().unwrap_or("").to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, set, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn a_login_through_the_layer_is_read_by_the_handshake() {
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let app = plain_app(&sessions);

    let (status, sid, _) = call(&app, "POST", "/login", None, "alice").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let sid = sid.expect("the login sets the session cookie");
    assert!(matches!(
        identify(&sessions, cookie("sid", &sid)).await,
        Identity::User { user, .. } if user == alice()
    ));
    let (_, _, who) = call(&app, "GET", "/whoami", Some(&sid), "").await;
    assert_eq!(who, "alice Some(3)");

    // Logging in again rotates the id (session fixation); the data stays.
    let (_, rotated, _) = call(&app, "POST", "/login", Some(&sid), "alice").await;
    let rotated = rotated.expect("a rotated id is a new cookie");
    assert_ne!(rotated, sid);
    assert_eq!(
        identify(&sessions, cookie("sid", &sid)).await,
        Identity::Anonymous
    );
    let (_, _, who) = call(&app, "GET", "/whoami", Some(&rotated), "").await;
    assert_eq!(who, "alice Some(3)");

    // Logging out deletes the session: the cookie is anonymous from then on.
    let (status, _, _) = call(&app, "POST", "/logout", Some(&rotated), "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        identify(&sessions, cookie("sid", &rotated)).await,
        Identity::Anonymous
    );
    let (_, _, who) = call(&app, "GET", "/whoami", Some(&rotated), "").await;
    assert_eq!(who, "nobody None");
}

#[tokio::test]
async fn a_login_of_another_user_starts_from_an_empty_session() {
    let hub = Hub::new();
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    SessionAuth::<User>::link(&sessions, &hub);
    let app = plain_app(&sessions);
    let (_, sid, _) = call(&app, "POST", "/login", None, "alice").await;
    let sid = sid.unwrap();
    let socket = admit(&hub, &alice(), &sid.parse().unwrap());

    // The login handler stores a cart before the login; bob's login on
    // alice's session must not inherit alice's.
    async fn bob_login(State(sessions): State<Sessions<User>>, session: Session) -> String {
        let before: Option<u32> = session.get("cart").await.unwrap();
        sessions.login(&session, &bob()).await.unwrap();
        let after: Option<u32> = session.get("cart").await.unwrap();
        format!("{before:?} {after:?}")
    }
    let app = Router::new()
        .route("/bob", post(bob_login))
        .layer(sessions.layer())
        .with_state(sessions.clone());
    let (_, bobs, carts) = call(&app, "POST", "/bob", Some(&sid), "").await;
    assert_eq!(carts, "Some(3) None");
    let bobs = bobs.unwrap();
    assert_ne!(bobs, sid);
    assert!(matches!(
        identify(&sessions, cookie("sid", &bobs)).await,
        Identity::User { user, .. } if user == bob()
    ));
    // Alice's session is gone, and with it her socket.
    assert_eq!(
        identify(&sessions, cookie("sid", &sid)).await,
        Identity::Anonymous
    );
    assert_eq!(close_order(&socket), Some((4401, "logged out".into())));
}

#[tokio::test]
async fn the_layer_sets_the_configured_cookie() {
    let sessions: Sessions<User> = Sessions::new(MemoryStore::default())
        .with_cookie_name("sid")
        .with_path("/app")
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(Duration::hours(1)));
    async fn login(State(sessions): State<Sessions<User>>, session: Session) {
        sessions.login(&session, &alice()).await.unwrap();
    }
    let app = Router::new()
        .route("/app/login", post(login))
        .layer(sessions.layer())
        .with_state(sessions.clone());
    let response = app
        .oneshot(Request::post("/app/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("sid="), "{set}");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/app",
        "Max-Age=3600",
    ] {
        assert!(set.contains(attribute), "{attribute} missing in {set}");
    }
}

#[test]
#[should_panic(expected = "not a cookie name")]
fn a_cookie_name_that_browsers_would_not_send_back_fails_at_start() {
    let _ = Sessions::<User>::new(MemoryStore::default()).with_cookie_name("my session");
}

#[cfg(feature = "axum-login")]
mod axum_login {
    use std::collections::HashMap;

    use ::axum_login::{AuthSession, AuthUser as LoginUser, AuthnBackend};

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Member {
        id: i64,
        hash: Vec<u8>,
    }

    impl AuthUser for Member {
        type Id = i64;
        fn id(&self) -> i64 {
            self.id
        }
    }

    impl LoginUser for Member {
        type Id = i64;
        fn id(&self) -> i64 {
            self.id
        }
        fn session_auth_hash(&self) -> &[u8] {
            &self.hash
        }
    }

    #[derive(Debug, Clone, Default)]
    struct Backend {
        users: Arc<Mutex<HashMap<i64, Member>>>,
        failing: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Backend {
        fn put(&self, member: Member) {
            self.users.lock().unwrap().insert(member.id, member);
        }
    }

    impl AuthnBackend for Backend {
        type User = Member;
        type Credentials = i64;
        type Error = std::io::Error;

        async fn authenticate(&self, id: i64) -> Result<Option<Member>, std::io::Error> {
            self.get_user(&id).await
        }

        async fn get_user(&self, id: &i64) -> Result<Option<Member>, std::io::Error> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("backend down"));
            }
            Ok(self.users.lock().unwrap().get(id).cloned())
        }
    }

    fn app(sessions: &Sessions<Member>, backend: &Backend) -> Router {
        async fn login(mut auth: AuthSession<Backend>, id: String) -> StatusCode {
            let id = id.parse().unwrap();
            let Some(user) = auth.authenticate(id).await.unwrap() else {
                return StatusCode::UNAUTHORIZED;
            };
            auth.login(&user).await.unwrap();
            StatusCode::NO_CONTENT
        }
        async fn me(auth: AuthSession<Backend>) -> String {
            auth.user
                .map_or("nobody".into(), |user| user.id.to_string())
        }
        async fn logout(mut auth: AuthSession<Backend>) -> StatusCode {
            auth.logout().await.unwrap();
            StatusCode::NO_CONTENT
        }
        async fn our_login(
            State(sessions): State<Sessions<Member>>,
            session: Session,
            id: String,
        ) -> StatusCode {
            let member = Member {
                id: id.parse().unwrap(),
                hash: b"pw-1".to_vec(),
            };
            sessions.login(&session, &member).await.unwrap();
            StatusCode::NO_CONTENT
        }
        Router::new()
            .route("/login", post(login))
            .route("/our-login", post(our_login))
            .route("/logout", post(logout))
            .route("/me", get(me))
            .layer(sessions.auth_layer(backend.clone()))
            .with_state(sessions.clone())
    }

    /// axum-login's private session layout is mirrored: a session written
    /// by axum-login's own `AuthSession::login` reads back as its user, and
    /// one written by `Sessions::login` reads back in axum-login. An
    /// axum-login upgrade that changes the layout fails here.
    #[tokio::test]
    async fn axum_login_logins_are_read() {
        let backend = Backend::default();
        backend.put(Member {
            id: 7,
            hash: b"pw-1".to_vec(),
        });
        backend.put(Member {
            id: 8,
            hash: b"pw-1".to_vec(),
        });
        let sessions: Sessions<Member> =
            Sessions::axum_login(MemoryStore::default(), backend.clone()).with_cookie_name("sid");
        let app = app(&sessions, &backend);

        let (status, sid, _) = call(&app, "POST", "/login", None, "7").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let sid = sid.unwrap();
        let stored = sessions
            .store()
            .load(&sid.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.data["axum-login.data"],
            serde_json::json!({ "user_id": 7, "auth_hash": b"pw-1".to_vec() })
        );
        assert!(matches!(
            identify_member(&sessions, &sid).await,
            Identity::User { user, .. } if user.id == 7
        ));

        let (_, ours, _) = call(&app, "POST", "/our-login", None, "8").await;
        let (_, _, me) = call(&app, "GET", "/me", Some(&ours.unwrap()), "").await;
        assert_eq!(me, "8");
    }

    async fn identify_member(sessions: &Sessions<Member>, sid: &str) -> Identity<Member> {
        let mut request = Request::get("/ws").body(()).unwrap();
        *request.headers_mut() = cookie("sid", sid);
        let (parts, ()) = request.into_parts();
        SessionAuth::<Member>::authenticate(sessions, &parts, &Spec::new("T", "/ws"))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_stale_hash_or_a_gone_user_is_anonymous_and_the_store_is_not_touched() {
        let backend = Backend::default();
        let member = Member {
            id: 7,
            hash: b"pw-1".to_vec(),
        };
        backend.put(member.clone());
        let sessions: Sessions<Member> =
            Sessions::axum_login(MemoryStore::default(), backend.clone()).with_cookie_name("sid");
        let app = app(&sessions, &backend);
        let (_, sid, _) = call(&app, "POST", "/login", None, "7").await;
        let sid = sid.unwrap();
        let credential = Credential::Session(sid.clone());
        assert!(
            SessionAuth::<Member>::revalidate(&sessions, &member, &credential)
                .await
                .unwrap()
        );

        // A new password: the session's hash is stale.
        backend.put(Member {
            id: 7,
            hash: b"pw-2".to_vec(),
        });
        assert_eq!(identify_member(&sessions, &sid).await, Identity::Anonymous);
        assert!(
            !SessionAuth::<Member>::revalidate(&sessions, &member, &credential)
                .await
                .unwrap()
        );
        // Reading never deletes (axum-login's HTTP side flushes it itself).
        assert!(
            sessions
                .store()
                .load(&sid.parse().unwrap())
                .await
                .unwrap()
                .is_some()
        );

        // The old password again, then the user is deleted.
        backend.put(member.clone());
        assert!(matches!(
            identify_member(&sessions, &sid).await,
            Identity::User { .. }
        ));
        backend.users.lock().unwrap().clear();
        assert_eq!(identify_member(&sessions, &sid).await, Identity::Anonymous);

        // A backend that fails is a store outage, not an anonymous user.
        backend.failing.store(true, Ordering::SeqCst);
        let mut request = Request::get("/ws").body(()).unwrap();
        *request.headers_mut() = cookie("sid", &sid);
        let (parts, ()) = request.into_parts();
        let refused =
            SessionAuth::<Member>::authenticate(&sessions, &parts, &Spec::new("T", "/ws"))
                .await
                .unwrap_err();
        assert_eq!(refused.kind(), RejectKind::Unavailable);
    }

    #[tokio::test]
    async fn axum_logins_logout_closes_the_sessions_sockets() {
        let backend = Backend::default();
        backend.put(Member {
            id: 7,
            hash: b"pw-1".to_vec(),
        });
        let hub = Hub::new();
        let sessions: Sessions<Member> =
            Sessions::axum_login(MemoryStore::default(), backend.clone())
                .with_cookie_name("sid")
                .with_hub(hub.clone());
        let app = app(&sessions, &backend);
        let (_, sid, _) = call(&app, "POST", "/login", None, "7").await;
        let sid = sid.unwrap();
        let socket = hub
            .admit(
                ConnectionId::next(),
                Some("7".into()),
                Credential::Session(sid.clone()),
                None,
                &Limits::DEFAULT,
            )
            .unwrap();
        call(&app, "POST", "/logout", Some(&sid), "").await;
        assert_eq!(close_order(&socket), Some((4401, "logged out".into())));
    }
}
