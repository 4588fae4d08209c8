//! `auth = "session"` over TCP, as a browser sees it: a real HTTP client
//! logs in and keeps the session cookie, then opens sockets with it.
//! Forged, expired, deleted and stale sessions are refused; every way of
//! ending a session closes exactly its sockets, with 4401, within 100 ms;
//! the origin rules of Django Channels' own tests are replayed with the
//! outcome ours give, and shown to refuse before the session is read; and
//! each session store (memory, SQLite, PostgreSQL at `DATABASE_URL`, Redis
//! at `REDIS_URL`) serves the login → socket → logout path.

use sockwarden_tests::postgres::SchemaStore;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockwarden::Hub;
use sockwarden::layer::MemoryLayer;
use sockwarden::prelude::*;
use sockwarden::session::axum_login::{AuthSession, AuthUser as LoginUser, AuthnBackend};
use sockwarden::session::tower_sessions::cookie::time::Duration as Lifetime;
use sockwarden::session::tower_sessions::session::{Id, Record};
use sockwarden::session::tower_sessions::session_store;
use sockwarden::session::{Expiry, MemoryStore, Session, SessionStore, Sessions};
use sockwarden::testing::{HttpResponse, TestServer, TestSocket};

/// How soon a revocation must reach a socket of this process.
const REVOCATION_BOUND: Duration = Duration::from_millis(100);

// ---------------------------------------------------------------- the app

/// A user: plain sessions store it whole; axum-login keeps its id and
/// `hash` (its password hash) in the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    id: u64,
    name: String,
    #[serde(default)]
    hash: Vec<u8>,
}

impl AuthUser for Member {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

impl LoginUser for Member {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
    fn session_auth_hash(&self) -> &[u8] {
        &self.hash
    }
}

fn member(id: u64, name: &str, password: &str) -> Member {
    Member {
        id,
        name: name.to_owned(),
        hash: password_hash(password),
    }
}

fn password_hash(password: &str) -> Vec<u8> {
    format!("hashed:{password}").into_bytes()
}

/// Says who it is on connect, and to every message.
#[consumer(
    path = "/ws/me",
    auth = "session",
    groups = ["session:{session}", "user:{user}"]
)]
#[requires_auth]
struct Me {
    #[user]
    user: Member,
}

impl Consumer for Me {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let _ = cx.send(&json!({ "me": self.user.name })).await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        cx.send(&json!({ "me": self.user.name })).await
    }
}

/// The same, refusing by close frame (for browsers, which cannot read a
/// refused upgrade's status).
#[consumer(path = "/ws/me-close", auth = "session", reject = "close")]
#[requires_auth]
struct MeClose {
    #[user]
    user: Member,
}

impl Consumer for MeClose {
    type In = Value;
    async fn receive(&mut self, cx: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        cx.send(&json!({ "me": self.user.name })).await
    }
}

/// Re-reads its session from the store every 100 ms.
#[consumer(path = "/ws/watched", auth = "session", revalidate = "100ms")]
#[requires_auth]
struct Watched {
    #[user]
    user: Member,
}

impl Consumer for Watched {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let _ = cx.send(&json!({ "me": self.user.name })).await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        cx.send(&json!({ "me": self.user.name })).await
    }
}

/// Admits anonymous users, and says who it got.
#[consumer(path = "/ws/maybe", auth = "session")]
struct Maybe {
    #[user]
    user: Option<Member>,
}

impl Consumer for Maybe {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let name = self.user.as_ref().map_or("anonymous", |user| &user.name);
        let _ = cx.send(&json!({ "me": name })).await;
        Connect::Accept
    }
    async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        Ok(())
    }
}

/// The value of `name` in a form body (the tests send plain ASCII).
fn field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The people plain-session apps know.
fn known(name: &str) -> Option<Member> {
    match name {
        "alice" => Some(member(1, "alice", "")),
        "bob" => Some(member(2, "bob", "")),
        _ => None,
    }
}

/// A plain tower-sessions app: login, logout, log out everywhere, whoami,
/// and the four consumers.
fn plain_app(sessions: &Sessions<Member>) -> Router {
    async fn login(
        State(sessions): State<Sessions<Member>>,
        session: Session,
        body: String,
    ) -> StatusCode {
        let Some(user) = field(&body, "user").and_then(known) else {
            return StatusCode::UNAUTHORIZED;
        };
        match sessions.login(&session, &user).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    async fn logout(State(sessions): State<Sessions<Member>>, session: Session) -> StatusCode {
        match sessions.logout(&session).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    async fn everywhere(State(sessions): State<Sessions<Member>>, session: Session) -> StatusCode {
        let Ok(Some(user)) = sessions.user(&session).await else {
            return StatusCode::UNAUTHORIZED;
        };
        sessions
            .close_user(&user.id, "logged out everywhere")
            .await
            .unwrap();
        sessions.logout(&session).await.unwrap();
        StatusCode::NO_CONTENT
    }
    async fn whoami(State(sessions): State<Sessions<Member>>, session: Session) -> String {
        match sessions.user(&session).await {
            Ok(Some(user)) => user.name,
            _ => "nobody".into(),
        }
    }
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(everywhere))
        .route("/whoami", get(whoami))
        .consumer::<Me>()
        .consumer::<MeClose>()
        .consumer::<Watched>()
        .consumer::<Maybe>()
        .layer(sessions.layer())
        .with_state(sessions.clone())
}

// ------------------------------------------------------------- the client

/// Logs `user` in over HTTP; returns the session cookie the response set.
async fn login(server: &TestServer, user: &str) -> String {
    let response = server.post_form("/login", &[("user", user)]).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
    response
        .cookie("sid")
        .expect("the login sets the session cookie")
        .to_owned()
}

/// `POST path` with the session cookie and a form body.
async fn submit(
    server: &TestServer,
    path: &str,
    sid: &str,
    fields: &[(&str, &str)],
) -> HttpResponse {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let request = Request::post(path)
        .header("cookie", format!("sid={sid}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&").into_bytes())
        .unwrap();
    server.request(request).await
}

/// A socket opened by a page of the server's own origin with the session
/// cookie; the consumer's first message says who it is.
async fn open(server: &TestServer, path: &str, sid: &str, who: &str) -> TestSocket {
    let mut socket = server
        .ws(path)
        .origin(&server.origin())
        .cookie("sid", sid)
        .connect()
        .await
        .accepted();
    let hello: Value = socket.recv_json().await;
    assert_eq!(hello["me"], who);
    socket
}

/// The socket is open and is `who`.
async fn assert_open(socket: &mut TestSocket, who: &str) {
    socket.send_json(&json!({ "ping": true })).await;
    let reply: Value = socket.recv_json().await;
    assert_eq!(reply["me"], who);
}

/// The socket was closed with 4401 and `reason`, within the bound from `start`.
async fn assert_closed(socket: &mut TestSocket, start: Instant, reason: &str) {
    let (code, got) = socket.expect_close().await;
    let took = start.elapsed();
    assert_eq!((code, got.as_str()), (4401, reason));
    assert!(took < REVOCATION_BOUND, "closed after {took:?}");
}

/// A handshake with this cookie is refused as anonymous: 401, and the same
/// body whatever was wrong with the session.
async fn assert_refused(server: &TestServer, path: &str, sid: &str) {
    let refused = server
        .ws(path)
        .origin(&server.origin())
        .cookie("sid", sid)
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{sid}");
    assert_eq!(
        refused.json::<Value>(),
        json!({ "type": "error", "error": "not_authenticated", "reason": "authentication required" })
    );
}

// ------------------------------------------------------------------ login

#[tokio::test]
async fn an_http_login_makes_the_socket_that_user() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));

    let response = server.post_form("/login", &[("user", "alice")]).await;
    let set = response.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(
            set[0].contains(attribute),
            "{attribute} missing: {}",
            set[0]
        );
    }
    let sid = response.cookie("sid").unwrap();

    // The HTTP side and the socket see the same user.
    let whoami = server
        .request(
            Request::get("/whoami")
                .header("cookie", format!("sid={sid}"))
                .body(Vec::new())
                .unwrap(),
        )
        .await;
    assert_eq!(whoami.body, "alice");
    let mut socket = server
        .ws("/ws/me")
        .origin(&server.origin())
        .cookies_from(&response)
        .connect()
        .await
        .accepted();
    assert_eq!(socket.recv_json::<Value>().await["me"], "alice");
    assert_open(&mut socket, "alice").await;

    // Without the cookie: anonymous, refused by `#[requires_auth]`,
    // admitted as anonymous by a consumer that allows it.
    let refused = server
        .ws("/ws/me")
        .origin(&server.origin())
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let mut anonymous = server
        .ws("/ws/maybe")
        .origin(&server.origin())
        .connect()
        .await
        .accepted();
    assert_eq!(anonymous.recv_json::<Value>().await["me"], "anonymous");
    open(&server, "/ws/maybe", sid, "alice").await;
}

#[tokio::test]
async fn forged_unknown_and_deleted_sessions_are_refused_alike() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));

    let logged_out = login(&server, "alice").await;
    assert_eq!(
        submit(&server, "/logout", &logged_out, &[]).await.status,
        StatusCode::NO_CONTENT
    );
    let deleted = sessions
        .create_session(&member(1, "alice", ""))
        .await
        .unwrap();
    sessions.delete_session(&deleted).await.unwrap();
    let long = "A".repeat(4000);
    let cases = [
        "forged",
        "0",
        "AAAAAAAAAAAAAAAAAAAAAA",     // well formed, unknown
        "AAAAAAAAAAAAAAAAAAAAAAA",    // one character too many
        "AAAAAAAAAAAAAAAAAAAA%3D%3D", // percent-encoded padding
        "%%%",
        long.as_str(),
        logged_out.as_str(),
        &deleted.to_string(),
        &Id::default().to_string(),
    ];
    for sid in cases {
        assert_refused(&server, "/ws/me", sid).await;
        // Refused by close frame: 4401 after the upgrade.
        let closed = server
            .ws("/ws/me-close")
            .origin(&server.origin())
            .cookie("sid", sid)
            .connect()
            .await
            .closed();
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (4401, "authentication required")
        );
        assert_eq!(closed.error_frame()["error"], "not_authenticated");
        // A consumer that admits anonymous users gets one.
        let mut anonymous = server
            .ws("/ws/maybe")
            .origin(&server.origin())
            .cookie("sid", sid)
            .connect()
            .await
            .accepted();
        assert_eq!(anonymous.recv_json::<Value>().await["me"], "anonymous");
    }
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default())
        .with_cookie_name("sid")
        .with_expiry(Expiry::OnInactivity(Lifetime::seconds(1)));
    let server = TestServer::new(plain_app(&sessions));
    let sid = login(&server, "alice").await;
    open(&server, "/ws/me", &sid, "alice").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_refused(&server, "/ws/me", &sid).await;
}

#[tokio::test]
async fn a_failing_store_is_503_or_1013_never_anonymous() {
    let store = Counting::default();
    let sessions: Sessions<Member> = Sessions::new(store.clone()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let sid = login(&server, "alice").await;
    store.failing.store(true, Ordering::SeqCst);

    let refused = server
        .ws("/ws/me")
        .origin(&server.origin())
        .cookie("sid", &sid)
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let closed = server
        .ws("/ws/me-close")
        .origin(&server.origin())
        .cookie("sid", &sid)
        .connect()
        .await
        .closed();
    assert_eq!(closed.code, 1013);
    // Even for a consumer that admits anonymous users: the server cannot
    // tell who this is, so it does not guess.
    let refused = server
        .ws("/ws/maybe")
        .origin(&server.origin())
        .cookie("sid", &sid)
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
}

// ------------------------------------------------------------- revocation

#[tokio::test]
async fn an_http_logout_closes_that_sessions_sockets_only() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let (laptop, phone, bobs) = (
        login(&server, "alice").await,
        login(&server, "alice").await,
        login(&server, "bob").await,
    );
    let mut on_laptop = [
        open(&server, "/ws/me", &laptop, "alice").await,
        open(&server, "/ws/watched", &laptop, "alice").await,
    ];
    let mut on_phone = open(&server, "/ws/me", &phone, "alice").await;
    let mut bob = open(&server, "/ws/me", &bobs, "bob").await;

    let start = Instant::now();
    let response = submit(&server, "/logout", &laptop, &[]).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert!(
        response
            .set_cookies()
            .iter()
            .any(|set| set.starts_with("sid=;")),
        "the cookie is removed: {:?}",
        response.set_cookies()
    );
    for socket in &mut on_laptop {
        assert_closed(socket, start, "logged out").await;
    }
    on_phone.assert_silent(Duration::from_millis(200)).await;
    assert_open(&mut on_phone, "alice").await;
    assert_open(&mut bob, "bob").await;
    assert_refused(&server, "/ws/me", &laptop).await;
    open(&server, "/ws/me", &phone, "alice").await;
}

/// `groups = ["session:{session}", "user:{user}"]`: a group per browser
/// session and one per user, joined on accept.
#[tokio::test]
async fn declared_session_and_user_groups_reach_the_right_sockets() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let (laptop, phone) = (login(&server, "alice").await, login(&server, "alice").await);
    let mut on_laptop = open(&server, "/ws/me", &laptop, "alice").await;
    let mut on_phone = open(&server, "/ws/me", &phone, "alice").await;

    let hub = sessions.hub();
    hub.group(format!("session:{laptop}"))
        .send(&json!({ "to": "laptop" }))
        .await
        .unwrap();
    assert_eq!(
        on_laptop.recv_json::<Value>().await,
        json!({ "to": "laptop" })
    );
    on_phone.assert_silent(Duration::from_millis(200)).await;

    hub.group("user:1")
        .send(&json!({ "to": "alice" }))
        .await
        .unwrap();
    assert_eq!(
        on_laptop.recv_json::<Value>().await,
        json!({ "to": "alice" })
    );
    assert_eq!(
        on_phone.recv_json::<Value>().await,
        json!({ "to": "alice" })
    );
}

#[tokio::test]
async fn log_out_everywhere_closes_every_socket_of_the_user() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let (laptop, phone, bobs) = (
        login(&server, "alice").await,
        login(&server, "alice").await,
        login(&server, "bob").await,
    );
    let mut alices = [
        open(&server, "/ws/me", &laptop, "alice").await,
        open(&server, "/ws/me", &phone, "alice").await,
        open(&server, "/ws/maybe", &phone, "alice").await,
    ];
    let mut bob = open(&server, "/ws/me", &bobs, "bob").await;

    let start = Instant::now();
    let response = submit(&server, "/logout-everywhere", &laptop, &[]).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    // The laptop's session ended, so its socket may have been closed as
    // logged out before the user's sockets were closed everywhere.
    let (code, reason) = alices[0].expect_close().await;
    assert_eq!(code, 4401);
    assert!(
        ["logged out", "logged out everywhere"].contains(&reason.as_str()),
        "{reason}"
    );
    for socket in &mut alices[1..] {
        assert_closed(socket, start, "logged out everywhere").await;
    }
    bob.assert_silent(Duration::from_millis(200)).await;
    assert_open(&mut bob, "bob").await;
}

#[tokio::test]
async fn revalidation_rereads_the_store_not_a_copy() {
    // The app's store, also reached around `Sessions` (as a second layer
    // built by hand on it would), so that a session vanishes without its
    // sockets being told.
    let store = MemoryStore::default();
    let sessions: Sessions<Member> = Sessions::new(store.clone()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let sid = login(&server, "alice").await;
    let mut watched = open(&server, "/ws/watched", &sid, "alice").await;
    let mut unwatched = open(&server, "/ws/me", &sid, "alice").await;

    store.delete(&sid.parse().unwrap()).await.unwrap();
    let start = Instant::now();
    let (code, reason) = watched.expect_close().await;
    assert_eq!((code, reason.as_str()), (4401, "credential revoked"));
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    // Without revalidation, only the store wrapper's close reaches a socket:
    // this one was bypassed, so it lives on. Use `Sessions::layer`.
    assert_open(&mut unwatched, "alice").await;
}

#[tokio::test]
async fn a_session_made_for_a_handoff_is_its_user_until_deleted() {
    let sessions: Sessions<Member> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let id = sessions
        .create_session(&member(2, "bob", ""))
        .await
        .unwrap();
    let mut socket = open(&server, "/ws/me", &id.to_string(), "bob").await;
    let whoami = server
        .request(
            Request::get("/whoami")
                .header("cookie", format!("sid={id}"))
                .body(Vec::new())
                .unwrap(),
        )
        .await;
    assert_eq!(whoami.body, "bob");
    let start = Instant::now();
    sessions.delete_session(&id).await.unwrap();
    assert_closed(&mut socket, start, "logged out").await;
}

#[tokio::test]
async fn a_logout_reaches_the_sockets_of_another_process() {
    // Two processes: one store, one channel layer, two hubs.
    let (store, layer) = (MemoryStore::default(), MemoryLayer::new());
    let process = |store: MemoryStore, layer: MemoryLayer| {
        Sessions::<Member>::new(store)
            .with_cookie_name("sid")
            .with_hub(Hub::with_layer(layer))
    };
    let first = TestServer::new(plain_app(&process(store.clone(), layer.clone())));
    let second = TestServer::new(plain_app(&process(store, layer)));

    let sid = login(&first, "alice").await;
    let mut socket = open(&second, "/ws/me", &sid, "alice").await;
    let start = Instant::now();
    assert_eq!(
        submit(&first, "/logout", &sid, &[]).await.status,
        StatusCode::NO_CONTENT
    );
    assert_closed(&mut socket, start, "logged out").await;
}

// -------------------------------------------------------------- axum-login

/// axum-login's backend: users by id, with their password hashes.
#[derive(Debug, Clone, Default)]
struct Directory {
    users: Arc<Mutex<HashMap<u64, Member>>>,
}

impl Directory {
    fn with(users: &[Member]) -> Directory {
        let directory = Directory::default();
        for user in users {
            directory.put(user.clone());
        }
        directory
    }

    fn put(&self, user: Member) {
        self.users.lock().unwrap().insert(user.id, user);
    }

    fn set_password(&self, id: u64, password: &str) {
        if let Some(user) = self.users.lock().unwrap().get_mut(&id) {
            user.hash = password_hash(password);
        }
    }

    fn remove(&self, id: u64) {
        self.users.lock().unwrap().remove(&id);
    }
}

impl AuthnBackend for Directory {
    type User = Member;
    type Credentials = (u64, String);
    type Error = std::io::Error;

    async fn authenticate(
        &self,
        (id, password): (u64, String),
    ) -> Result<Option<Member>, std::io::Error> {
        let user = self.users.lock().unwrap().get(&id).cloned();
        Ok(user.filter(|user| user.hash == password_hash(&password)))
    }

    async fn get_user(&self, id: &u64) -> Result<Option<Member>, std::io::Error> {
        Ok(self.users.lock().unwrap().get(id).cloned())
    }
}

/// The state of an axum-login app.
#[derive(Clone)]
struct LoginApp {
    sessions: Sessions<Member>,
    directory: Directory,
}

impl FromRef<LoginApp> for Sessions<Member> {
    fn from_ref(app: &LoginApp) -> Sessions<Member> {
        app.sessions.clone()
    }
}

impl FromRef<LoginApp> for Hub {
    fn from_ref(app: &LoginApp) -> Hub {
        app.sessions.hub().clone()
    }
}

/// An axum-login app: logs in and out with axum-login's own `AuthSession`,
/// and changes passwords.
fn login_app(directory: &Directory) -> (Router, Sessions<Member>) {
    async fn login(mut auth: AuthSession<Directory>, body: String) -> StatusCode {
        let id = field(&body, "id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        let password = field(&body, "password").unwrap_or("").to_owned();
        match auth.authenticate((id, password)).await {
            Ok(Some(user)) => match auth.login(&user).await {
                Ok(()) => StatusCode::NO_CONTENT,
                Err(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            Ok(None) => StatusCode::UNAUTHORIZED,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    async fn logout(mut auth: AuthSession<Directory>) -> StatusCode {
        match auth.logout().await {
            Ok(_) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    async fn change_password(
        State(app): State<LoginApp>,
        auth: AuthSession<Directory>,
        body: String,
    ) -> StatusCode {
        let Some(user) = auth.user else {
            return StatusCode::UNAUTHORIZED;
        };
        app.directory
            .set_password(user.id, field(&body, "password").unwrap_or(""));
        app.sessions.password_changed(&user.id).await.unwrap();
        StatusCode::NO_CONTENT
    }
    let sessions: Sessions<Member> =
        Sessions::axum_login(MemoryStore::default(), directory.clone()).with_cookie_name("sid");
    let app = Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/password", post(change_password))
        .consumer::<Me>()
        .consumer::<Watched>()
        .layer(sessions.auth_layer(directory.clone()))
        .with_state(LoginApp {
            sessions: sessions.clone(),
            directory: directory.clone(),
        });
    (app, sessions)
}

/// Logs in through axum-login; returns the session cookie.
async fn login_as(server: &TestServer, id: u64, password: &str) -> String {
    let response = server
        .post_form("/login", &[("id", &id.to_string()), ("password", password)])
        .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
    response.cookie("sid").expect("a session cookie").to_owned()
}

#[tokio::test]
async fn an_axum_login_login_makes_the_socket_that_user() {
    let directory = Directory::with(&[member(7, "alice", "pw")]);
    let (app, _) = login_app(&directory);
    let server = TestServer::new(app);
    let wrong = server
        .post_form("/login", &[("id", "7"), ("password", "nope")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let sid = login_as(&server, 7, "pw").await;
    let mut socket = open(&server, "/ws/me", &sid, "alice").await;

    // axum-login's own logout closes that session's sockets.
    let start = Instant::now();
    assert_eq!(
        submit(&server, "/logout", &sid, &[]).await.status,
        StatusCode::NO_CONTENT
    );
    assert_closed(&mut socket, start, "logged out").await;
    assert_refused(&server, "/ws/me", &sid).await;
}

#[tokio::test]
async fn stale_hash_and_gone_user_sessions_are_refused() {
    let directory = Directory::with(&[member(7, "alice", "pw"), member(8, "bob", "pw")]);
    let (app, _) = login_app(&directory);
    let server = TestServer::new(app);
    let alice = login_as(&server, 7, "pw").await;
    let bob = login_as(&server, 8, "pw").await;
    open(&server, "/ws/me", &alice, "alice").await;

    // The password changed behind the app's back: the hash is stale.
    directory.set_password(7, "new");
    assert_refused(&server, "/ws/me", &alice).await;
    // The user was deleted.
    directory.remove(8);
    assert_refused(&server, "/ws/me", &bob).await;
    // The new password logs in again.
    let again = login_as(&server, 7, "new").await;
    open(&server, "/ws/me", &again, "alice").await;
}

#[tokio::test]
async fn a_password_change_closes_every_socket_of_the_user() {
    let directory = Directory::with(&[member(7, "alice", "pw"), member(8, "bob", "pw")]);
    let (app, _) = login_app(&directory);
    let server = TestServer::new(app);
    let (laptop, phone, bobs) = (
        login_as(&server, 7, "pw").await,
        login_as(&server, 7, "pw").await,
        login_as(&server, 8, "pw").await,
    );
    let mut alices = [
        open(&server, "/ws/me", &laptop, "alice").await,
        open(&server, "/ws/me", &phone, "alice").await,
        open(&server, "/ws/watched", &phone, "alice").await,
    ];
    let mut bob = open(&server, "/ws/me", &bobs, "bob").await;

    let start = Instant::now();
    let response = submit(&server, "/password", &laptop, &[("password", "new")]).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    for socket in &mut alices {
        assert_closed(socket, start, "password changed").await;
    }
    bob.assert_silent(Duration::from_millis(200)).await;
    assert_open(&mut bob, "bob").await;
    // Every session of the old password is stale now.
    assert_refused(&server, "/ws/me", &laptop).await;
    assert_refused(&server, "/ws/me", &phone).await;
}

#[tokio::test]
async fn revalidation_closes_a_stale_socket_without_being_told() {
    let directory = Directory::with(&[member(7, "alice", "pw")]);
    let (app, _) = login_app(&directory);
    let server = TestServer::new(app);
    let sid = login_as(&server, 7, "pw").await;
    let mut watched = open(&server, "/ws/watched", &sid, "alice").await;
    let mut unwatched = open(&server, "/ws/me", &sid, "alice").await;

    // A password change that forgets `Sessions::password_changed`.
    directory.set_password(7, "new");
    let start = Instant::now();
    let (code, reason) = watched.expect_close().await;
    assert_eq!((code, reason.as_str()), (4401, "credential revoked"));
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    // A consumer that does not revalidate learns of it only from the call.
    assert_open(&mut unwatched, "alice").await;
}

// ----------------------------------------------------------------- origins

/// The app's store, counting the session reads.
#[derive(Debug, Clone, Default)]
struct Counting {
    store: MemoryStore,
    loads: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = session_store::Result<T>> + Send + 'a>>;

impl Counting {
    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

// `SessionStore` is an `async_trait` trait: its methods, as the macro
// writes them.
impl SessionStore for Counting {
    fn create<'life0, 'life1, 'async_trait>(
        &'life0 self,
        record: &'life1 mut Record,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.store.create(record)
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
        self.store.save(record)
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
        if self.failing.load(Ordering::SeqCst) {
            return Box::pin(async { Err(session_store::Error::Backend("down".into())) });
        }
        self.store.load(id)
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
        self.store.delete(id)
    }
}

/// Declares a session consumer with an origin policy.
macro_rules! origin_consumer {
    ($name:ident, $path:literal, $($policy:tt)*) => {
        #[consumer(path = $path, auth = "session", $($policy)*)]
        #[requires_auth]
        struct $name {
            #[user]
            _user: Member,
        }

        impl Consumer for $name {
            type In = Value;
            async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
                Ok(())
            }
        }
    };
}

// Channels' `ALLOWED_HOSTS = ["example.com", ".good.org", "127.0.0.1",
// "localhost"]`, written in our terms: entries carry their scheme, and
// `.good.org` is `good.org` plus `*.good.org`.
origin_consumer!(
    Hosts,
    "/ws/origin/hosts",
    origins = [
        "http://example.com",
        "http://good.org",
        "http://*.good.org",
        "http://127.0.0.1",
        "http://localhost"
    ]
);
// Channels' `OriginValidator(app, ["https://example.com"])`.
origin_consumer!(Exact, "/ws/origin/exact", origins = ["https://example.com"]);
// Channels' tests 8 and 11: `["allowed-domain.com"]`, `["http://allowed-domain.com"]`.
origin_consumer!(
    Domain,
    "/ws/origin/domain",
    origins = ["http://allowed-domain.com"]
);
// Channels' tests 9, 10 and 14: `["*.allowed-domain.com"]` and
// `[".allowed-domain.com"]`; ours is `*.` and, like Channels' `*.`, never
// matches the apex.
origin_consumer!(
    Subdomains,
    "/ws/origin/subdomains",
    origins = ["http://*.allowed-domain.com"]
);
// Channels' test 12: `["*"]`.
origin_consumer!(AnyOrigin, "/ws/origin/any", origins = "any");
// Channels' test 13: `[]`.
origin_consumer!(NoOrigin, "/ws/origin/none", origins = []);

/// One handshake of the matrix: the consumer, the `Origin` sent (`None`:
/// no header), our status, and what Channels answers when it differs.
struct Row {
    path: &'static str,
    origin: Option<String>,
    status: u16,
    channels: &'static str,
}

fn row(path: &'static str, origin: Option<&str>, status: u16, channels: &'static str) -> Row {
    Row {
        path,
        origin: origin.map(str::to_owned),
        status,
        channels,
    }
}

#[tokio::test]
async fn origins_are_checked_before_the_session_is_read() {
    let store = Counting::default();
    let sessions: Sessions<Member> = Sessions::new(store.clone()).with_cookie_name("sid");
    let app = plain_app(&sessions).merge(
        Router::new()
            .consumer::<Hosts>()
            .consumer::<Exact>()
            .consumer::<Domain>()
            .consumer::<Subdomains>()
            .consumer::<AnyOrigin>()
            .consumer::<NoOrigin>()
            .with_state(sessions.clone()),
    );
    let server = TestServer::new(app);
    let sid = login(&server, "alice").await;
    let port = server.addr().port();
    let own = server.origin();
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1));
    let localhost = format!("http://localhost:{port}");
    let https_own = format!("https://127.0.0.1:{port}");

    let (hosts, exact, domain, subdomains, any, none, me) = (
        "/ws/origin/hosts",
        "/ws/origin/exact",
        "/ws/origin/domain",
        "/ws/origin/subdomains",
        "/ws/origin/any",
        "/ws/origin/none",
        "/ws/me",
    );
    let rows = [
        // django-channels.md §1.4, ALLOWED_HOSTS.
        row(hosts, None, 403, ""),
        row(hosts, Some("http://example.com"), 101, ""),
        row(
            hosts,
            Some("https://example.com:9999"),
            403,
            "101: Channels ignores scheme and port",
        ),
        row(hosts, Some("http://evil.com"), 403, ""),
        row(hosts, Some("http://sub.good.org"), 101, ""),
        row(hosts, Some("http://good.org"), 101, ""),
        row(hosts, Some("null"), 403, ""),
        row(hosts, Some("http://example.com.evil.com"), 403, ""),
        // §1.4, OriginValidator(["https://example.com"]).
        row(exact, None, 403, ""),
        row(exact, Some("https://example.com"), 101, ""),
        row(exact, Some("http://example.com"), 403, ""),
        row(exact, Some("https://example.com:443"), 101, ""),
        row(exact, Some("https://example.com:8443"), 403, ""),
        // Channels' origin tests, §3 8–14.
        row(domain, Some("http://allowed-domain.com"), 101, ""), // 8
        row(domain, Some("http://bad-domain.com"), 403, ""),     // 8
        row(subdomains, Some("http://allowed-domain.com"), 403, ""), // 9
        row(subdomains, Some("http://www.allowed-domain.com"), 101, ""), // 10
        row(domain, Some("https://bad-domain.com:443"), 403, ""), // 11
        row(any, None, 101, ""),                                 // 12
        row(none, None, 403, ""),                                // 13
        row(none, Some("http://allowed-domain.com"), 403, ""),   // 13
        row(subdomains, Some(""), 403, ""),                      // 14
        row(subdomains, Some("something-invalid"), 403, ""),     // 14
        // No declared policy: a session consumer admits its own host only.
        row(me, Some(own.as_str()), 101, ""),
        row(
            me,
            Some(https_own.as_str()),
            101,
            "scheme not compared: TLS may end at a proxy",
        ),
        row(me, Some(other_port.as_str()), 403, ""),
        row(me, Some(localhost.as_str()), 403, ""),
        row(me, Some("http://evil.com"), 403, ""),
        row(me, Some("null"), 403, ""),
        row(me, None, 403, ""),
    ];
    for row in rows {
        let before = store.loads();
        let mut request = server.ws(row.path).cookie("sid", &sid);
        if let Some(origin) = &row.origin {
            request = request.origin(origin);
        }
        let outcome = request.connect().await;
        let what = format!(
            "{} with Origin {:?} ({})",
            row.path, row.origin, row.channels
        );
        let read = store.loads() - before;
        if row.status == 101 {
            outcome.accepted();
            assert_eq!(read, 1, "{what}: the session is read once");
        } else {
            let refused = outcome.rejected();
            assert_eq!(
                refused.status.as_u16(),
                row.status,
                "{what}: {}",
                refused.body
            );
            assert_eq!(
                refused.json::<Value>()["error"],
                "policy_violation",
                "{what}"
            );
            assert_eq!(read, 0, "{what}: refused before the session is read");
        }
    }
}

// ------------------------------------------------------------------ stores

/// The path every store must serve: HTTP login, a socket as that user, an
/// HTTP logout that closes it within the bound, and the old cookie refused.
async fn login_socket_logout(sessions: Sessions<Member>) {
    let sessions = sessions.with_cookie_name("sid");
    let server = TestServer::new(plain_app(&sessions));
    let sid = login(&server, "alice").await;
    let other = login(&server, "alice").await;
    let mut socket = open(&server, "/ws/me", &sid, "alice").await;
    let mut watched = open(&server, "/ws/watched", &other, "alice").await;

    let start = Instant::now();
    let response = submit(&server, "/logout", &sid, &[]).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_closed(&mut socket, start, "logged out").await;
    assert_refused(&server, "/ws/me", &sid).await;

    // The other session lives on, revalidated against the store.
    watched.assert_silent(Duration::from_millis(250)).await;
    assert_open(&mut watched, "alice").await;
    submit(&server, "/logout", &other, &[]).await;
}

#[tokio::test]
async fn the_memory_store_serves_sessions() {
    login_socket_logout(Sessions::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn the_sqlite_store_serves_sessions() {
    let store = sockwarden::session::sqlite_store("sqlite::memory:")
        .await
        .unwrap();
    login_socket_logout(Sessions::new(store)).await;
}

#[tokio::test]
async fn a_sqlite_file_store_is_shared_by_two_processes() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("sockwarden-sessions")));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let first = sockwarden::session::sqlite_store(&url).await.unwrap();
    let second = sockwarden::session::sqlite_store(&url).await.unwrap();
    let layer = MemoryLayer::new();
    let process = |store, layer| {
        Sessions::<Member>::new(store)
            .with_cookie_name("sid")
            .with_hub(Hub::with_layer(layer))
    };
    let first = TestServer::new(plain_app(&process(first, layer.clone())));
    let second = TestServer::new(plain_app(&process(second, layer)));
    let sid = login(&first, "alice").await;
    let mut socket = open(&second, "/ws/me", &sid, "alice").await;
    let start = Instant::now();
    submit(&first, "/logout", &sid, &[]).await;
    assert_closed(&mut socket, start, "logged out").await;
    assert_refused(&second, "/ws/me", &sid).await;
    drop((first, second));
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_postgres_store_serves_sessions() {
    let test = "the_postgres_store_serves_sessions";
    let Some(pg) = SchemaStore::new(test, "sockwarden_sessions").await else {
        return;
    };
    let url = pg.url().to_owned();
    login_socket_logout(Sessions::new(pg.store.clone())).await;
    pg.drop_schema().await;

    // The helper: connect, and the default table, made if missing.
    let store = sockwarden::session::postgres_store(&url).await.unwrap();
    let sessions: Sessions<Member> = Sessions::new(store);
    let id = sessions
        .create_session(&member(1, "alice", ""))
        .await
        .unwrap();
    assert_eq!(
        sessions.load_user(&id).await.unwrap(),
        Some(member(1, "alice", ""))
    );
    sessions.delete_session(&id).await.unwrap();
    assert_eq!(sessions.load_user(&id).await.unwrap(), None);
}

#[tokio::test]
async fn the_redis_store_serves_sessions() {
    let Some(url) = sockwarden_tests::service_url("REDIS_URL", "the_redis_store_serves_sessions")
    else {
        return;
    };
    // Session ids are 128 random bits, the keys of the records: runs that
    // share the server do not meet.
    let store = match sockwarden::session::redis_store(&url).await {
        Ok(store) => store,
        Err(error) => panic!("REDIS_URL is set but Redis is unusable: {error}"),
    };
    login_socket_logout(Sessions::new(store)).await;
}

/// A name no other test run uses.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}
