//! `cx.login` and `cx.logout`, over TCP as a browser sees them: a socket
//! logs its user in from a message, the page redeems the one-time code over
//! HTTP for its session cookie, and from then on the page, its new sockets
//! and the logged-in socket are one session, which every way of ending it
//! closes. Logins rotate the session id; codes are single-use, short-lived
//! and refused cross-site; `cx.logout` ends the session in the store and
//! its other sockets. One login runs against Redis (`REDIS_URL`) and one
//! against PostgreSQL (`DATABASE_URL`) when they are set.

use sockwarden_tests::postgres::SchemaStore;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::session::{Id, MemoryStore, Session, SessionStore, Sessions};
use sockwarden::testing::{HttpResponse, TestServer, TestSocket};

/// How soon a revocation must reach a socket of this process.
const REVOCATION_BOUND: Duration = Duration::from_millis(100);
/// The handoff route of the apps below.
const HANDOFF: &str = "/session/handoff";

// ---------------------------------------------------------------- the app

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    id: u64,
    name: String,
}

impl AuthUser for Member {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

/// The people the apps know, with their passwords.
fn check(name: &str, password: &str) -> Option<Member> {
    match (name, password) {
        ("alice", "wonderland") => Some(Member {
            id: 1,
            name: "alice".into(),
        }),
        ("bob", "builder") => Some(Member {
            id: 2,
            name: "bob".into(),
        }),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum LobbyIn {
    Login { name: String, password: String },
    Logout,
    Whoami,
}

/// Who a connection is, three ways: its consumer's field, `cx.user()`,
/// and `current_user` deep in the handler's calls.
fn who(field: Option<&Member>, cx_user: Option<&Member>) -> Value {
    let current = sockwarden::current_user::<Member>();
    json!({
        "field": field.map(|user| &user.name),
        "cx": cx_user.map(|user| &user.name),
        "current": current.as_ref().map(|user| &user.name),
    })
}

/// Admits anonymous users; logs in and out by message.
#[consumer(path = "/ws/lobby", auth = "session", revalidate = "100ms")]
struct Lobby {
    #[user]
    user: Option<Member>,
}

impl Consumer for Lobby {
    type In = LobbyIn;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let hello = who(self.user.as_ref(), cx.user());
        let _ = cx.send(&json!({ "type": "hello", "who": hello })).await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: LobbyIn) -> Result<(), Error> {
        match msg {
            LobbyIn::Login { name, password } => {
                let Some(user) = check(&name, &password) else {
                    return Err(Error::reply("wrong name or password"));
                };
                let handoff = cx.login(&user).await?;
                self.user = Some(user);
                let now = who(self.user.as_ref(), cx.user());
                cx.send(&json!({ "type": "logged_in", "code": handoff.code(), "who": now }))
                    .await
            }
            LobbyIn::Logout => {
                cx.logout().await?;
                self.user = None;
                let now = who(self.user.as_ref(), cx.user());
                cx.send(&json!({ "type": "logged_out", "who": now })).await
            }
            LobbyIn::Whoami => {
                let now = who(self.user.as_ref(), cx.user());
                cx.send(&json!({ "type": "whoami", "who": now })).await
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DeskIn {
    Relogin,
    Logout,
    Ping,
}

/// Logged-in users only: says who it is, logs in again (a rotation) or out.
#[consumer(path = "/ws/desk", auth = "session", groups = ["session:{session}"])]
#[requires_auth]
struct Desk {
    #[user]
    user: Member,
}

impl Consumer for Desk {
    type In = DeskIn;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let _ = cx.send(&json!({ "me": self.user.name })).await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: DeskIn) -> Result<(), Error> {
        match msg {
            DeskIn::Relogin => {
                let handoff = cx.login(&self.user.clone()).await?;
                cx.send(&json!({ "type": "logged_in", "code": handoff.code() }))
                    .await
            }
            DeskIn::Logout => {
                cx.logout().await?;
                // The connection closes once this returns; a last word first.
                let gone = cx.user().is_none() && sockwarden::current_user::<Member>().is_none();
                cx.send(&json!({ "type": "bye", "anonymous": gone })).await
            }
            DeskIn::Ping => cx.send(&json!({ "me": self.user.name })).await,
        }
    }
}

fn app(sessions: &Sessions<Member>) -> Router {
    async fn logout(State(sessions): State<Sessions<Member>>, session: Session) -> StatusCode {
        match sessions.logout(&session).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    async fn whoami(State(sessions): State<Sessions<Member>>, session: Session) -> String {
        match sessions.user(&session).await {
            Ok(Some(user)) => user.name,
            _ => "nobody".into(),
        }
    }
    async fn login(
        State(sessions): State<Sessions<Member>>,
        session: Session,
        body: String,
    ) -> StatusCode {
        let Some(user) = body.strip_prefix("user=").and_then(|name| match name {
            "alice" => check("alice", "wonderland"),
            _ => None,
        }) else {
            return StatusCode::UNAUTHORIZED;
        };
        match sessions.login(&session, &user).await {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/whoami", get(whoami))
        .consumer::<Lobby>()
        .consumer::<Desk>()
        .layer(sessions.layer())
        .merge(sessions.handoff_route(HANDOFF))
        .with_state(sessions.clone())
}

fn memory_sessions() -> Sessions<Member> {
    Sessions::new(MemoryStore::default()).with_cookie_name("sid")
}

// ------------------------------------------------------------- the client

/// A browser's cookie jar, for one site.
#[derive(Debug, Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    /// Takes the cookies a response sets (an empty value removes one).
    fn take(&mut self, response: &HttpResponse) {
        for (name, value) in response.cookies() {
            if value.is_empty() {
                self.0.remove(&name);
            } else {
                self.0.insert(name, value);
            }
        }
    }

    fn sid(&self) -> Option<&str> {
        self.0.get("sid").map(String::as_str)
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }
}

/// A page of the server's own origin, with its cookie jar.
struct Page<'a> {
    server: &'a TestServer,
    jar: Jar,
}

impl<'a> Page<'a> {
    fn new(server: &'a TestServer) -> Page<'a> {
        Page {
            server,
            jar: Jar::default(),
        }
    }

    /// `fetch(path, {method: "POST", …})` from this page, cookies sent and kept.
    async fn post(&mut self, path: &str, content_type: &str, body: &str) -> HttpResponse {
        let mut request = Request::post(path)
            .header("origin", self.server.origin())
            .header("sec-fetch-site", "same-origin")
            .header("content-type", content_type);
        if !self.jar.0.is_empty() {
            request = request.header("cookie", self.jar.header());
        }
        let request = request.body(body.as_bytes().to_vec()).unwrap();
        let response = self.server.request(request).await;
        self.jar.take(&response);
        response
    }

    /// Redeems a handoff code as the page's script would.
    async fn redeem(&mut self, code: &str) -> HttpResponse {
        let body = json!({ "code": code }).to_string();
        self.post(HANDOFF, "application/json", &body).await
    }

    async fn whoami(&self) -> String {
        let mut request = Request::get("/whoami");
        if !self.jar.0.is_empty() {
            request = request.header("cookie", self.jar.header());
        }
        let request = request.body(Vec::new()).unwrap();
        self.server.request(request).await.body
    }

    /// Opens a socket from this page, with its cookies.
    async fn open(&self, path: &str) -> TestSocket {
        let mut ws = self.server.ws(path).origin(&self.server.origin());
        for (name, value) in &self.jar.0 {
            ws = ws.cookie(name, value);
        }
        ws.connect().await.accepted()
    }
}

/// Opens an anonymous lobby socket.
async fn anonymous_lobby(page: &Page<'_>) -> TestSocket {
    let mut socket = page.open("/ws/lobby").await;
    let hello: Value = socket.recv_json().await;
    assert_eq!(
        hello["who"],
        json!({ "field": null, "cx": null, "current": null })
    );
    socket
}

/// Logs the lobby socket in as `name`; returns the code it got.
async fn socket_login(socket: &mut TestSocket, name: &str, password: &str) -> String {
    socket
        .send_json(&json!({ "type": "login", "name": name, "password": password }))
        .await;
    let answer: Value = socket.recv_json().await;
    assert_eq!(answer["type"], "logged_in", "{answer}");
    assert_eq!(
        answer["who"],
        json!({ "field": name, "cx": name, "current": name }),
        "the connection is the user at once"
    );
    answer["code"].as_str().unwrap().to_owned()
}

async fn assert_whoami(socket: &mut TestSocket, who: Option<&str>) {
    socket.send_json(&json!({ "type": "whoami" })).await;
    let answer: Value = socket.recv_json().await;
    assert_eq!(
        answer["who"],
        json!({ "field": who, "cx": who, "current": who })
    );
}

async fn open_desk(page: &Page<'_>, who: &str) -> TestSocket {
    let mut socket = page.open("/ws/desk").await;
    assert_eq!(socket.recv_json::<Value>().await["me"], who);
    socket
}

async fn assert_desk_open(socket: &mut TestSocket, who: &str) {
    socket.send_json(&json!({ "type": "ping" })).await;
    assert_eq!(socket.recv_json::<Value>().await["me"], who);
}

/// The desk refuses this cookie: the session is over.
async fn assert_refused(server: &TestServer, sid: &str) {
    let refused = server
        .ws("/ws/desk")
        .origin(&server.origin())
        .cookie("sid", sid)
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

async fn assert_closed(socket: &mut TestSocket, start: Instant, reason: &str) {
    let (code, got) = socket.expect_close().await;
    let took = start.elapsed();
    assert_eq!((code, got.as_str()), (4401, reason));
    assert!(took < REVOCATION_BOUND, "closed after {took:?}");
}

fn error_of(response: &HttpResponse) -> String {
    response.json::<Value>()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// ------------------------------------------------------------------ login

#[tokio::test]
async fn a_socket_login_hands_the_page_its_session_cookie() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    assert_eq!(page.whoami().await, "nobody");

    // A wrong password logs no one in.
    lobby
        .send_json(&json!({ "type": "login", "name": "alice", "password": "no" }))
        .await;
    assert_eq!(lobby.recv_json::<Value>().await["type"], "error");
    assert_whoami(&mut lobby, None).await;

    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(code.len(), 64);
    assert_whoami(&mut lobby, Some("alice")).await;
    // The page has no cookie yet: the login is the socket's until redeemed.
    assert_eq!(page.jar.sid(), None);

    let redeemed = page.redeem(&code).await;
    assert_eq!(redeemed.status, StatusCode::NO_CONTENT, "{}", redeemed.body);
    let set = redeemed.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(
            set[0].contains(attribute),
            "{attribute} missing: {}",
            set[0]
        );
    }
    assert_eq!(
        redeemed.headers.get("cache-control").unwrap(),
        "no-store",
        "a cookie-setting answer is not cached"
    );
    let sid = page
        .jar
        .sid()
        .expect("the redeem sets the session cookie")
        .to_owned();
    assert!(!code.contains(&sid), "the code is not the session id");

    // The cookie is the user's session, for HTTP and for new sockets.
    assert_eq!(page.whoami().await, "alice");
    let mut desk = open_desk(&page, "alice").await;
    assert_desk_open(&mut desk, "alice").await;
    let mut second_lobby = page.open("/ws/lobby").await;
    assert_eq!(
        second_lobby.recv_json::<Value>().await["who"]["cx"],
        "alice"
    );

    // The logged-in socket is found under its user, with the page's new
    // sockets, and under its new session.
    let hub = sessions.hub();
    hub.user(1).send(&json!({ "to": "alice" })).await.unwrap();
    for socket in [&mut lobby, &mut desk, &mut second_lobby] {
        assert_eq!(socket.recv_json::<Value>().await, json!({ "to": "alice" }));
    }
    let start = Instant::now();
    hub.session(sid.clone())
        .close(CloseCode::NOT_AUTHENTICATED, "session closed")
        .await
        .unwrap();
    for socket in [&mut lobby, &mut desk, &mut second_lobby] {
        assert_closed(socket, start, "session closed").await;
    }
}

#[tokio::test]
async fn a_code_is_single_use_and_a_wrong_one_fails() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;

    // Wrong codes, before and after: 400, and they use nothing up.
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    for bad in [wrong.as_str(), "", "0000", "f".repeat(64).as_str()] {
        let refused = page.redeem(bad).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_of(&refused), "invalid_code");
        assert!(refused.set_cookies().is_empty());
    }
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    let sid = page.jar.sid().unwrap().to_owned();

    // Again, from this page or another: 410, and no cookie.
    let again = page.redeem(&code).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(error_of(&again), "code_used");
    assert!(again.set_cookies().is_empty());
    let mut thief = Page::new(&server);
    let stolen = thief.redeem(&code).await;
    assert_eq!(stolen.status, StatusCode::GONE);
    assert_eq!(thief.jar.sid(), None);
    assert_eq!(thief.whoami().await, "nobody");
    assert_eq!(page.jar.sid(), Some(sid.as_str()));
    assert_eq!(page.whoami().await, "alice");
}

#[tokio::test]
async fn a_code_expires() {
    let sessions = memory_sessions().with_handoff_ttl(Duration::from_secs(1));
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let late = page.redeem(&code).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&late), "invalid_code");
    assert_eq!(page.jar.sid(), None);
    // The socket's own login stands: the code was only the page's way in.
    assert_whoami(&mut lobby, Some("alice")).await;
    let fresh = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&fresh).await.status, StatusCode::NO_CONTENT);
    assert_eq!(page.whoami().await, "alice");
}

#[tokio::test]
async fn only_a_same_origin_json_post_redeems() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    let body = json!({ "code": code }).to_string();

    let cross_site = |origin: &str, site: Option<&str>| {
        let mut request = Request::post(HANDOFF)
            .header("origin", origin)
            .header("content-type", "application/json");
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.body(body.clone().into_bytes()).unwrap()
    };
    let refused = server
        .request(cross_site("https://evil.example", Some("cross-site")))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&refused), "forbidden");
    let refused = server
        .request(cross_site("https://evil.example", None))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = server
        .request(cross_site(&server.origin(), Some("same-site")))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a sibling subdomain");

    // A form post (what a cross-site page can send without a preflight).
    let form = page
        .post(
            HANDOFF,
            "application/x-www-form-urlencoded",
            &format!("code={code}"),
        )
        .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let text = page.post(HANDOFF, "text/plain", &body).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let malformed = page.post(HANDOFF, "application/json", "{\"nope\":1}").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&malformed), "bad_request");
    // A GET never redeems: no link or prefetch can spend a code.
    let get = server.get(&format!("{HANDOFF}?code={code}")).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(get.set_cookies().is_empty());

    // None of those used the code up.
    assert_eq!(page.jar.sid(), None);
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    assert_eq!(page.whoami().await, "alice");
}

#[tokio::test]
async fn a_login_rotates_the_session_and_ends_the_old_one() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let response = page
        .post("/login", "application/x-www-form-urlencoded", "user=alice")
        .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    let first = page.jar.sid().unwrap().to_owned();
    let mut desk = open_desk(&page, "alice").await;
    let mut other = open_desk(&page, "alice").await;

    desk.send_json(&json!({ "type": "relogin" })).await;
    let start = Instant::now();
    let answer: Value = desk.recv_json().await;
    assert_eq!(answer["type"], "logged_in", "{answer}");
    // The old session's other socket is closed: that session is over.
    assert_closed(&mut other, start, "logged out").await;
    assert_refused(&server, &first).await;
    // The socket that logged in carries on, on its new session.
    assert_desk_open(&mut desk, "alice").await;

    assert_eq!(
        page.redeem(answer["code"].as_str().unwrap()).await.status,
        StatusCode::NO_CONTENT
    );
    let second = page.jar.sid().unwrap().to_owned();
    assert_ne!(second, first, "the login rotated the session id");
    assert_eq!(page.whoami().await, "alice");
    open_desk(&page, "alice").await;

    // Its declared `session:{session}` group followed it.
    let hub = sessions.hub();
    hub.group(format!("session:{second}"))
        .send(&json!({ "to": "second" }))
        .await
        .unwrap();
    assert_eq!(desk.recv_json::<Value>().await, json!({ "to": "second" }));
    hub.group(format!("session:{first}"))
        .send(&json!({ "to": "first" }))
        .await
        .unwrap();
    desk.assert_silent(Duration::from_millis(150)).await;
}

// ------------------------------------------------------------- revocation

#[tokio::test]
async fn an_http_logout_of_the_new_session_closes_the_socket_that_logged_in() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    let sid = page.jar.sid().unwrap().to_owned();

    // Another page, logged in on its own socket as bob: not touched.
    let bobs_page = Page::new(&server);
    let mut bob = anonymous_lobby(&bobs_page).await;
    socket_login(&mut bob, "bob", "builder").await;

    let start = Instant::now();
    let logout = page
        .post("/logout", "application/x-www-form-urlencoded", "")
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_closed(&mut lobby, start, "logged out").await;
    assert_refused(&server, &sid).await;
    assert_whoami(&mut bob, Some("bob")).await;

    // "Log out everywhere" finds bob's socket under bob.
    let start = Instant::now();
    sessions
        .close_user(&2, "logged out everywhere")
        .await
        .unwrap();
    assert_closed(&mut bob, start, "logged out everywhere").await;
}

#[tokio::test]
async fn revalidation_reads_the_session_the_socket_logged_in_to() {
    let store = MemoryStore::default();
    let sessions: Sessions<Member> = Sessions::new(store.clone()).with_cookie_name("sid");
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    let sid: Id = page.jar.sid().unwrap().parse().unwrap();
    // Revalidated every 100 ms: still there, still open.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_whoami(&mut lobby, Some("alice")).await;

    // Gone from the store behind the hub's back (no close order): only
    // revalidation of the new session can notice.
    store.delete(&sid).await.unwrap();
    let (code, reason) = lobby.expect_close().await;
    assert_eq!((code, reason.as_str()), (4401, "credential revoked"));
}

#[tokio::test]
async fn cx_logout_ends_the_session_and_its_other_sockets() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    let sid = page.jar.sid().unwrap().to_owned();
    let mut desks = [
        open_desk(&page, "alice").await,
        open_desk(&page, "alice").await,
    ];
    // Alice on another browser: another session, which stays.
    let mut laptop = Page::new(&server);
    let mut elsewhere = anonymous_lobby(&laptop).await;
    let code = socket_login(&mut elsewhere, "alice", "wonderland").await;
    assert_eq!(laptop.redeem(&code).await.status, StatusCode::NO_CONTENT);

    lobby.send_json(&json!({ "type": "logout" })).await;
    let start = Instant::now();
    let answer: Value = lobby.recv_json().await;
    assert_eq!(answer["type"], "logged_out");
    assert_eq!(
        answer["who"],
        json!({ "field": null, "cx": null, "current": null })
    );
    for desk in &mut desks {
        assert_closed(desk, start, "logged out").await;
    }
    // The session is gone from the store: its cookie is anonymous.
    assert_refused(&server, &sid).await;
    assert_eq!(page.whoami().await, "nobody");

    // The lobby, which admits anonymous users, carries on as one, and the
    // hub no longer finds it under alice.
    assert_whoami(&mut lobby, None).await;
    sessions
        .hub()
        .user(1)
        .send(&json!({ "to": "alice" }))
        .await
        .unwrap();
    assert_eq!(
        elsewhere.recv_json::<Value>().await,
        json!({ "to": "alice" })
    );
    lobby.assert_silent(Duration::from_millis(150)).await;
    assert_whoami(&mut elsewhere, Some("alice")).await;
    assert_eq!(laptop.whoami().await, "alice");

    // Logging out again is nothing.
    lobby.send_json(&json!({ "type": "logout" })).await;
    assert_eq!(lobby.recv_json::<Value>().await["type"], "logged_out");
}

#[tokio::test]
async fn cx_logout_closes_a_consumer_that_requires_a_user() {
    let sessions = memory_sessions();
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    let sid = page.jar.sid().unwrap().to_owned();
    let mut desk = open_desk(&page, "alice").await;
    let mut other = open_desk(&page, "alice").await;

    desk.send_json(&json!({ "type": "logout" })).await;
    let start = Instant::now();
    // Its last word, then 4401: the handler ran to the end, anonymous.
    assert_eq!(
        desk.recv_json::<Value>().await,
        json!({ "type": "bye", "anonymous": true })
    );
    assert_closed(&mut desk, start, "logged out").await;
    assert_closed(&mut other, start, "logged out").await;
    assert_closed(&mut lobby, start, "logged out").await;
    assert_refused(&server, &sid).await;
}

#[tokio::test]
async fn the_handoff_route_refuses_to_run_under_the_session_layer() {
    let sessions = memory_sessions();
    // The mistake: the route merged before the layer, so under it.
    let app = Router::new()
        .consumer::<Lobby>()
        .merge(sessions.handoff_route(HANDOFF))
        .layer(sessions.layer())
        .with_state(sessions.clone());
    let server = TestServer::new(app);
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    let refused = page.redeem(&code).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(page.jar.sid(), None);
}

// ----------------------------------------------------------------- stores

/// Login on a socket, redeem, the cookie works, the code is spent.
async fn login_and_redeem(sessions: Sessions<Member>) {
    let server = TestServer::new(app(&sessions));
    let mut page = Page::new(&server);
    let mut lobby = anonymous_lobby(&page).await;
    let code = socket_login(&mut lobby, "alice", "wonderland").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::NO_CONTENT);
    assert_eq!(page.whoami().await, "alice");
    let mut desk = open_desk(&page, "alice").await;
    assert_eq!(page.redeem(&code).await.status, StatusCode::GONE);
    let mut wrong = code.into_bytes();
    wrong[63] = if wrong[63] == b'a' { b'b' } else { b'a' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(page.redeem(&wrong).await.status, StatusCode::BAD_REQUEST);

    let start = Instant::now();
    lobby.send_json(&json!({ "type": "logout" })).await;
    assert_eq!(lobby.recv_json::<Value>().await["type"], "logged_out");
    assert_closed(&mut desk, start, "logged out").await;
    assert_eq!(page.whoami().await, "nobody");
}

#[tokio::test]
async fn a_socket_login_redeems_against_redis() {
    let Some(url) =
        sockwarden_tests::service_url("REDIS_URL", "a_socket_login_redeems_against_redis")
    else {
        return;
    };
    let store = match sockwarden::session::redis_store(&url).await {
        Ok(store) => store,
        Err(error) => panic!("REDIS_URL is set but Redis is unusable: {error}"),
    };
    login_and_redeem(Sessions::new(store).with_cookie_name("sid")).await;
}

#[tokio::test]
async fn a_socket_login_redeems_against_postgres() {
    let test = "a_socket_login_redeems_against_postgres";
    let Some(pg) = SchemaStore::new(test, "sockwarden_handoff").await else {
        return;
    };
    login_and_redeem(Sessions::new(pg.store.clone()).with_cookie_name("sid")).await;
    pg.drop_schema().await;
}
