//! `auth = ["session", "token"]` over TCP: a browser logs in over HTTP and
//! opens sockets with its session cookie, an API client opens them with a
//! token, and a client that sends both is let in only when both are valid
//! and name the same user. Every present credential is checked: a stale
//! cookie beside a valid token, or an unknown token beside a valid cookie,
//! is refused. The origin check runs before any credential is read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::session::tower_sessions::session::{Id, Record};
use sockwarden::session::tower_sessions::session_store;
use sockwarden::session::{MemoryStore, Session, SessionStore, Sessions};
use sockwarden::store::MemoryTokenStore;
use sockwarden::testing::{TestServer, TestSocket, WsRequest};
use sockwarden::{Hub, Tokens};

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

fn member(name: &str) -> Option<Member> {
    match name {
        "alice" => Some(Member {
            id: 1,
            name: "alice".into(),
        }),
        "bob" => Some(Member {
            id: 2,
            name: "bob".into(),
        }),
        _ => None,
    }
}

/// Browsers by session, API clients by token; the session first. API
/// clients send no `Origin`, so this consumer admits handshakes without
/// one (a browser always sends it).
#[consumer(
    path = "/ws/feed",
    auth = ["session", "token"],
    missing_origin = "allow"
)]
#[requires_auth]
struct Feed {
    #[user]
    user: Member,
}

impl Consumer for Feed {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let carrier = cx.scope().carrier().map(|carrier| carrier.name());
        let _ = cx
            .send(&json!({ "me": self.user.name, "carrier": carrier }))
            .await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        cx.send(&json!({ "me": self.user.name })).await
    }
}

/// The same stack, the token first.
#[consumer(
    path = "/ws/feed-token-first",
    auth = ["token", "session"],
    missing_origin = "allow"
)]
#[requires_auth]
struct TokenFirst {
    #[user]
    user: Member,
}

impl Consumer for TokenFirst {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let carrier = cx.scope().carrier().map(|carrier| carrier.name());
        let _ = cx
            .send(&json!({ "me": self.user.name, "carrier": carrier }))
            .await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        cx.send(&json!({ "me": self.user.name })).await
    }
}

/// A stack with the origin defaults of a cookie consumer: its own host
/// only, and no handshake without `Origin`.
#[consumer(path = "/ws/strict", auth = ["session", "token"])]
#[requires_auth]
struct Strict {
    #[user]
    user: Member,
}

impl Consumer for Strict {
    type In = Value;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let _ = cx.send(&json!({ "me": self.user.name })).await;
        Connect::Accept
    }
    async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        Ok(())
    }
}

/// Admits anonymous clients, and says who it got.
#[consumer(
    path = "/ws/maybe",
    auth = ["session", "token"],
    missing_origin = "allow"
)]
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

/// The app's session store, counting the session reads.
#[derive(Debug, Clone, Default)]
struct Counting {
    store: MemoryStore,
    loads: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl SessionStore for Counting {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.store.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}

/// The router state: what each scheme of the stack needs, and the hub.
#[derive(Clone)]
struct App {
    sessions: Sessions<Member>,
    tokens: Tokens<Member>,
    hub: Hub,
}

impl FromRef<App> for Sessions<Member> {
    fn from_ref(app: &App) -> Self {
        app.sessions.clone()
    }
}

impl FromRef<App> for Tokens<Member> {
    fn from_ref(app: &App) -> Self {
        app.tokens.clone()
    }
}

impl FromRef<App> for Hub {
    fn from_ref(app: &App) -> Self {
        app.hub.clone()
    }
}

/// A served app, with handles on its stores.
struct Fixture {
    server: TestServer,
    sessions: Sessions<Member>,
    tokens: Tokens<Member>,
    loads: Arc<AtomicUsize>,
}

impl Fixture {
    /// Alice has the token `tok-alice`, Bob `tok-bob`.
    fn new() -> Fixture {
        let store = Counting::default();
        let loads = Arc::clone(&store.loads);
        let sessions: Sessions<Member> = Sessions::new(store).with_cookie_name("sid");
        let tokens = MemoryTokenStore::new();
        tokens.insert("tok-alice", member("alice").unwrap());
        tokens.insert("tok-bob", member("bob").unwrap());
        let tokens = Tokens::new(tokens);

        async fn login(
            State(sessions): State<Sessions<Member>>,
            session: Session,
            body: String,
        ) -> StatusCode {
            let Some(user) = body.strip_prefix("user=").and_then(member) else {
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
        let app = Router::new()
            .route("/login", post(login))
            .route("/logout", post(logout))
            .consumer::<Feed>()
            .consumer::<TokenFirst>()
            .consumer::<Strict>()
            .consumer::<Maybe>()
            .layer(sessions.layer())
            .with_state(App {
                sessions: sessions.clone(),
                tokens: tokens.clone(),
                hub: Hub::new(),
            });
        Fixture {
            server: TestServer::new(app),
            sessions,
            tokens,
            loads,
        }
    }

    /// Logs `user` in over HTTP, as a browser's form would; the session
    /// cookie the response set, as the browser keeps it.
    async fn login(&self, user: &str) -> String {
        let response = self.server.post_form("/login", &[("user", user)]).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
        response
            .cookie("sid")
            .expect("the login sets the session cookie")
            .to_owned()
    }

    /// A handshake from a page of the app's own origin, with the cookie.
    fn browser(&self, path: &str, sid: &str) -> WsRequest {
        self.server
            .ws(path)
            .origin(&self.server.origin())
            .cookie("sid", sid)
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

/// The socket was let in as `who`, by the credential of `carrier`.
async fn hello(socket: &mut TestSocket, who: &str, carrier: &str) {
    let hello: Value = socket.recv_json().await;
    assert_eq!(hello, json!({ "me": who, "carrier": carrier }));
}

/// The handshake was refused with 401 and `reason`.
async fn assert_unauthenticated(request: WsRequest, reason: &str) {
    let refused = request.connect().await.rejected();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(
        refused.json::<Value>(),
        json!({ "type": "error", "error": "not_authenticated", "reason": reason })
    );
}

#[tokio::test]
async fn a_browser_with_its_session_is_its_user() {
    let app = Fixture::new();
    let sid = app.login("alice").await;
    let mut socket = app.browser("/ws/feed", &sid).connect().await.accepted();
    hello(&mut socket, "alice", "cookie").await;
    socket.send_json(&json!({})).await;
    assert_eq!(socket.recv_json::<Value>().await["me"], "alice");
}

#[tokio::test]
async fn an_api_client_with_its_token_is_its_user() {
    let app = Fixture::new();
    let mut socket = app
        .server
        .ws("/ws/feed")
        .token("tok-bob")
        .connect()
        .await
        .accepted();
    hello(&mut socket, "bob", "header").await;
    // The subprotocol carrier too: only the marker is echoed.
    let mut socket = app
        .server
        .ws("/ws/feed")
        .token_protocol("bearer", "tok-alice")
        .connect()
        .await
        .accepted();
    assert_eq!(socket.protocol(), Some("bearer"));
    hello(&mut socket, "alice", "subprotocol").await;
}

#[tokio::test]
async fn a_cookie_and_a_token_of_the_same_user_are_let_in_by_the_first_scheme() {
    let app = Fixture::new();
    let sid = app.login("alice").await;

    let mut by_session = app
        .browser("/ws/feed", &sid)
        .token("tok-alice")
        .connect()
        .await
        .accepted();
    hello(&mut by_session, "alice", "cookie").await;
    let mut by_token = app
        .browser("/ws/feed-token-first", &sid)
        .token("tok-alice")
        .connect()
        .await
        .accepted();
    hello(&mut by_token, "alice", "header").await;

    // Each connection is revoked through the credential it kept: revoking
    // the token closes the token-first one only, ending the session the
    // other.
    assert!(app.tokens.revoke("tok-alice").await.unwrap());
    assert_eq!(by_token.expect_close().await.0, 4401);
    by_session.send_json(&json!({})).await;
    assert_eq!(by_session.recv_json::<Value>().await["me"], "alice");

    let logout = app
        .server
        .request(
            axum::http::Request::post("/logout")
                .header("cookie", format!("sid={sid}"))
                .body(Vec::new())
                .unwrap(),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let (code, reason) = by_session.expect_close().await;
    assert_eq!((code, reason.as_str()), (4401, "logged out"));
}

#[tokio::test]
async fn a_cookie_and_a_token_of_different_users_are_refused() {
    let app = Fixture::new();
    let alice = app.login("alice").await;
    assert_unauthenticated(
        app.browser("/ws/feed", &alice).token("tok-bob"),
        "credentials of different users in the cookie and header carriers",
    )
    .await;
    assert_unauthenticated(
        app.browser("/ws/feed-token-first", &alice).token("tok-bob"),
        "credentials of different users in the header and cookie carriers",
    )
    .await;
    // Even where anonymous clients are welcome.
    assert_unauthenticated(
        app.browser("/ws/maybe", &alice).token("tok-bob"),
        "credentials of different users in the cookie and header carriers",
    )
    .await;
}

#[tokio::test]
async fn a_cookie_that_names_no_session_refuses_a_valid_token() {
    let app = Fixture::new();
    let logged_out = app.login("alice").await;
    let deleted: Id = logged_out.parse().unwrap();
    app.sessions.delete_session(&deleted).await.unwrap();
    let unknown = Id::default().to_string();
    for sid in ["forged", unknown.as_str(), logged_out.as_str()] {
        for path in ["/ws/feed", "/ws/feed-token-first", "/ws/maybe"] {
            assert_unauthenticated(
                app.browser(path, sid).token("tok-alice"),
                "invalid credential in the cookie carrier",
            )
            .await;
        }
        // The same cookie alone is anonymous, as with `auth = "session"`.
        assert_unauthenticated(app.browser("/ws/feed", sid), "authentication required").await;
        let mut anonymous = app.browser("/ws/maybe", sid).connect().await.accepted();
        assert_eq!(anonymous.recv_json::<Value>().await["me"], "anonymous");
    }
}

#[tokio::test]
async fn an_unknown_token_refuses_a_valid_session() {
    let app = Fixture::new();
    let sid = app.login("alice").await;
    for path in ["/ws/feed", "/ws/feed-token-first", "/ws/maybe"] {
        let refused = app
            .browser(path, &sid)
            .token("tok-nobody")
            .connect()
            .await
            .rejected();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused.json::<Value>()["reason"],
            "unknown token in the header carrier"
        );
        assert_eq!(
            refused.headers["www-authenticate"],
            r#"Bearer realm="websocket", error="invalid_token""#
        );
    }
    // The session alone still opens the socket.
    let mut socket = app.browser("/ws/feed", &sid).connect().await.accepted();
    hello(&mut socket, "alice", "cookie").await;
}

#[tokio::test]
async fn no_credential_at_all_is_anonymous() {
    let app = Fixture::new();
    let refused = app.server.ws("/ws/feed").connect().await.rejected();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>(),
        json!({ "type": "error", "error": "not_authenticated", "reason": "authentication required" })
    );
    // The stack reads tokens, so the refusal says how to send one.
    assert_eq!(
        refused.headers["www-authenticate"],
        r#"Bearer realm="websocket""#
    );
    let mut anonymous = app
        .server
        .ws("/ws/maybe")
        .origin(&app.server.origin())
        .connect()
        .await
        .accepted();
    assert_eq!(anonymous.recv_json::<Value>().await["me"], "anonymous");
}

#[tokio::test]
async fn a_foreign_page_is_refused_before_any_credential_is_read() {
    let app = Fixture::new();
    let sid = app.login("alice").await;
    let before = app.loads();
    for path in ["/ws/feed", "/ws/strict", "/ws/maybe"] {
        for request in [
            app.server
                .ws(path)
                .origin("http://evil.example")
                .cookie("sid", &sid),
            app.server
                .ws(path)
                .origin("http://evil.example")
                .cookie("sid", &sid)
                .token("tok-alice"),
        ] {
            let refused = request.connect().await.rejected();
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(refused.json::<Value>()["error"], "policy_violation");
        }
    }
    assert_eq!(app.loads(), before, "no session was read");

    // A cookie stack keeps the defaults of a cookie consumer: no `Origin`,
    // no socket, even with a valid token, until `missing_origin = "allow"`
    // is declared (as `/ws/feed` does).
    let refused = app
        .server
        .ws("/ws/strict")
        .token("tok-alice")
        .connect()
        .await
        .rejected();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.loads(), before, "no session was read");
    let mut own_page = app
        .browser("/ws/strict", &sid)
        .token("tok-alice")
        .connect()
        .await
        .accepted();
    assert_eq!(own_page.recv_json::<Value>().await["me"], "alice");
    assert_eq!(app.loads(), before + 1, "the session is read once");
}
