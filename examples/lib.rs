//! The runnable examples of `sockwarden`, and the chat app that the main
//! one runs.
//!
//! - `chat.rs`: serves [`chat_app`], the place to start
//!   (`cargo run --example chat`). The app is built here rather than in
//!   `chat.rs` so that the browser test (`tests/integration/browser.rs`)
//!   serves the very same app in-process.
//! - `bench_server.rs`: the server that the benchmark drives; it speaks
//!   `shared/bench/PROTOCOL.md` (`cargo run --release --example bench_server`).
//!
//! # The chat app
//!
//! People in a browser log in with a form (an HTTP session cookie) and chat
//! in rooms; API clients connect with a token. Both meet in the same rooms:
//!
//! | route | what |
//! | --- | --- |
//! | `GET /`, `GET /chat.js` | the page (`static/`): no build step |
//! | `POST /login` | the login form: checks the password, logs the session in, back to `/` |
//! | `POST /logout` | ends the session; the runtime closes its sockets with 4401 |
//! | `/ws/chat/{room}` | [`BrowserChat`]: `auth = "session"`, same-host pages only, refusals as close codes |
//! | `/api/chat/{room}` | [`ApiChat`]: `auth = "token"`, refusals as HTTP statuses |
//!
//! Clients send `{"type":"say","body":"…"}` and get `welcome`, `said` and
//! `online` (who is in the room) frames; see [`ChatOut`]. The stores are
//! the embedded in-memory ones, so there is nothing else to start.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, http::StatusCode};
use serde::{Deserialize, Serialize};
use sockwarden::prelude::*;
use sockwarden::session::{Session, SessionStore, Sessions};
use sockwarden::{Endpoint, Event, Hub, OriginPolicy, Tokens, store::MemoryTokenStore};

/// A demo account: the password for the login form, the token for API
/// clients.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    /// The user name.
    pub name: &'static str,
    /// The password of the login form.
    pub password: &'static str,
    /// The API token (`Authorization: Token …`).
    pub token: &'static str,
}

/// The accounts of the demo, printed by `chat.rs` and listed in the README.
pub const DEMO_USERS: [DemoUser; 2] = [
    DemoUser {
        name: "alice",
        password: "wonderland",
        token: "tok-alice",
    },
    DemoUser {
        name: "bob",
        password: "builder",
        token: "tok-bob",
    },
];

/// The name of the session cookie that the login sets and the socket reads.
pub const SESSION_COOKIE: &str = "chat_session";

/// The app's user. The session keeps it serialised, hence serde.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// The user name, which is also the id.
    pub name: String,
}

impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.name.clone()
    }
}

/// A browser's connection to a room, authenticated by its session cookie.
///
/// A browser sends its cookies with a WebSocket handshake whichever page
/// opens it, so the origin is checked before the cookie is read: only pages
/// served by this host may connect (`origins = "same-host"`, also the
/// default of session auth, written out here because it is the point).
/// `reject = "close"` refuses after the upgrade with a close code and a
/// reason, because a page can read those and not an HTTP status.
#[consumer(
    path = "/ws/chat/{room}",
    auth = "session",
    origins = "same-host",
    reject = "close",
    max_message_size = 65_536
)]
#[requires_auth]
pub struct BrowserChat {
    #[path]
    room: String,
    #[user]
    user: User,
    #[state]
    presence: Presence,
    member: Member,
}

/// An API client's connection to a room, authenticated by a token in the
/// `Authorization` header or the `bearer, <token>` subprotocol. Refusals
/// are HTTP statuses (`reject = "http"`, the default), which API clients
/// read best. No origin check: a page cannot make the browser send a token
/// on its own, as it does a cookie.
#[consumer(path = "/api/chat/{room}", auth = "token", max_message_size = 65_536)]
#[requires_auth]
pub struct ApiChat {
    #[path]
    room: String,
    #[user]
    user: User,
    #[state]
    presence: Presence,
    member: Member,
}

/// What clients send: `{"type":"say","body":"…"}`. Anything else gets an
/// error frame from the runtime, and the connection stays open.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    /// Says something to the room.
    Say {
        /// The text.
        body: String,
    },
}

/// What the server sends.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatOut {
    /// First frame of an accepted connection: who the server thinks you are.
    Welcome {
        /// The room.
        room: String,
        /// The user's name.
        user: String,
    },
    /// Someone said something in the room.
    Said {
        /// The room.
        room: String,
        /// Who said it.
        from: String,
        /// What they said.
        body: String,
    },
    /// Who is in the room now; sent on every change. The newest `version`
    /// wins.
    Online {
        /// The room.
        room: String,
        /// Grows with every change, in every room.
        version: u64,
        /// The names, sorted.
        users: Vec<String>,
    },
}

// Both consumers do the same: they differ only in how the user got in.

impl Consumer for BrowserChat {
    type In = ChatIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let seat = enter(cx, &self.presence, &self.room, &self.user).await;
        self.member.seat = Some(seat);
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {
        say(cx, &self.room, &self.user, msg).await
    }

    async fn event(&mut self, cx: &mut Cx<Self>, event: Event) -> Result<(), Error> {
        self.member.pass_on(cx, &self.room, event).await
    }

    async fn disconnect(&mut self, _cx: &mut Cx<Self>, why: Disconnect) {
        tracing::info!(room = %self.room, user = %self.user.name, code = why.code(), "left");
    }
}

impl Consumer for ApiChat {
    type In = ChatIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let seat = enter(cx, &self.presence, &self.room, &self.user).await;
        self.member.seat = Some(seat);
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {
        say(cx, &self.room, &self.user, msg).await
    }

    async fn event(&mut self, cx: &mut Cx<Self>, event: Event) -> Result<(), Error> {
        self.member.pass_on(cx, &self.room, event).await
    }

    async fn disconnect(&mut self, _cx: &mut Cx<Self>, why: Disconnect) {
        tracing::info!(room = %self.room, user = %self.user.name, code = why.code(), "left");
    }
}

/// The room's group: what is said in a room goes to it.
fn room_group(room: &str) -> String {
    format!("room:{room}")
}

/// Greets the client, joins the room's group and takes a seat in its
/// online list; the group is joined once `connect` accepts (a refused
/// connection joins nothing).
async fn enter<C: Endpoint>(cx: &mut Cx<C>, presence: &Presence, room: &str, user: &User) -> Seat {
    let welcome = ChatOut::Welcome {
        room: room.to_owned(),
        user: user.name.clone(),
    };
    // Before the upgrade this only queues the frame: it cannot fail.
    let _ = cx.send(&welcome).await;
    cx.join(&room_group(room));
    let (seat, notice) = presence.enter(cx.hub(), room, &user.name);
    notice.send(cx.hub()).await;
    seat
}

/// `say`: to everyone in the room, the sender included.
async fn say<C: Endpoint>(
    cx: &mut Cx<C>,
    room: &str,
    user: &User,
    msg: ChatIn,
) -> Result<(), Error> {
    let ChatIn::Say { body } = msg;
    if body.trim().is_empty() {
        return Err(Error::reply("say something"));
    }
    let said = ChatOut::Said {
        room: room.to_owned(),
        from: user.name.clone(),
        body,
    };
    cx.group(room_group(room)).send(&said).await?;
    Ok(())
}

/// What a chat connection keeps besides its fields.
#[derive(Default)]
struct Member {
    /// Its place in the room's online list, for as long as it lives.
    seat: Option<Seat>,
    /// The newest online list passed on to the client.
    seen: u64,
}

impl Member {
    /// Passes an event on to the client; of the online lists, only this
    /// room's and only those newer than the last one passed on (see
    /// [`Presence`] for why others arrive).
    async fn pass_on<C: Endpoint>(
        &mut self,
        cx: &mut Cx<C>,
        room: &str,
        event: Event,
    ) -> Result<(), Error> {
        if event.kind() == Some("online") {
            #[derive(Deserialize)]
            struct Stamp {
                room: String,
                version: u64,
            }
            let stamp: Stamp = event.decode()?;
            if stamp.room != room || stamp.version <= self.seen {
                return Ok(());
            }
            self.seen = stamp.version;
        }
        cx.send_text(event.into_text()).await
    }
}

/// Who is online in which room, in this process.
///
/// A user is online in a room while at least one of its connections is
/// there (several tabs, or a browser and an API client, count once). The
/// list is right under concurrency because of three choices:
///
/// - **One lock, one counter.** Every change (a connection enters or
///   leaves) updates the room under one mutex and takes a new version from
///   one counter, so the changes have a single order, and a list's version
///   says where it stands in it.
/// - **Sent to the users, not to the group.** A room's group is joined only
///   once `connect` accepts, after the seat is taken: a list sent to the
///   group in between would miss the newcomer, who would then show a
///   stale list until the next change. Instead each list goes to every
///   user in the room *at the time of the change* through [`Hub::user`],
///   which reaches a connection from its admission, before `connect` runs.
///   So a connection gets its own entry's list and every later one. The
///   consumer drops the lists of other rooms (a user's connections in
///   other rooms get them too).
/// - **Newest wins.** Lists are sent after the lock is released, so two of
///   them may arrive out of order; the consumer passes on only lists newer
///   than the last (`version`), so each client ends on the latest.
///
/// The seat is released when the consumer is dropped, whether its
/// `disconnect` ran or its accepted handshake never completed the upgrade,
/// so nobody stays online by accident. With several processes on a channel
/// layer each process would know only its own connections; that needs a
/// shared store (a Redis set per room), which this demo does without.
#[derive(Clone, Default)]
pub struct Presence {
    rooms: Arc<Mutex<Rooms>>,
}

#[derive(Default)]
struct Rooms {
    /// The version of the last change, in any room.
    version: u64,
    /// Per room, each user's number of connections there.
    rooms: HashMap<String, BTreeMap<String, usize>>,
}

impl Presence {
    /// A connection of `user` enters `room`: the seat to hold, and the new
    /// list for everyone there (the newcomer included, who needs it even
    /// when the user was already online).
    fn enter(&self, hub: &Hub, room: &str, user: &str) -> (Seat, Notice) {
        let mut rooms = self.lock();
        *rooms
            .rooms
            .entry(room.to_owned())
            .or_default()
            .entry(user.to_owned())
            .or_default() += 1;
        let notice = rooms.notice(room);
        let seat = Seat {
            presence: self.clone(),
            hub: hub.clone(),
            room: room.to_owned(),
            user: user.to_owned(),
        };
        (seat, notice)
    }

    /// A connection leaves: the new list, when the user left for good.
    fn leave(&self, room: &str, user: &str) -> Option<Notice> {
        let mut rooms = self.lock();
        let users = rooms.rooms.get_mut(room)?;
        let count = users.get_mut(user)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        users.remove(user);
        if users.is_empty() {
            rooms.rooms.remove(room);
            return None;
        }
        Some(rooms.notice(room))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rooms> {
        // Every update is complete before anything can panic under the lock.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Rooms {
    /// A new version of `room`'s list, for its users.
    fn notice(&mut self, room: &str) -> Notice {
        self.version += 1;
        let users: Vec<String> = self
            .rooms
            .get(room)
            .map(|users| users.keys().cloned().collect())
            .unwrap_or_default();
        let online = ChatOut::Online {
            room: room.to_owned(),
            version: self.version,
            users: users.clone(),
        };
        Notice {
            event: Event::json(&online).expect("a list of names serialises"),
            to: users,
        }
    }
}

/// A new online list, and the users to send it to.
struct Notice {
    event: Event,
    to: Vec<String>,
}

impl Notice {
    async fn send(self, hub: &Hub) {
        for user in self.to {
            // Serialised once; each user's sockets share the text.
            if let Err(error) = hub.user(&user).send_event(self.event.clone()).await {
                tracing::warn!(%error, "an online list did not reach other processes");
            }
        }
    }
}

/// A connection's place in a room's online list; dropping it leaves.
struct Seat {
    presence: Presence,
    hub: Hub,
    room: String,
    user: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let Some(notice) = self.presence.leave(&self.room, &self.user) else {
            return;
        };
        // `drop` cannot wait; the hub delivers to local sockets without
        // waiting on them anyway.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let hub = self.hub.clone();
            runtime.spawn(async move { notice.send(&hub).await });
        }
    }
}

/// The demo's passwords. A real app keeps password hashes (argon2) and
/// checks them with its hashing crate's constant-time verify.
#[derive(Clone)]
struct Accounts(Arc<HashMap<&'static str, &'static str>>);

impl Accounts {
    fn check(&self, name: &str, password: &str) -> Option<User> {
        let known = self.0.get(name)?;
        (*known == password).then(|| User { name: name.into() })
    }
}

/// What the routes share.
#[derive(Clone)]
struct App {
    hub: Hub,
    sessions: Sessions<User>,
    tokens: Tokens<User>,
    presence: Presence,
    accounts: Accounts,
}

// How each consumer finds its part of the state: the hub, its auth scheme's
// store (`Sessions` or `Tokens`) and its `#[state]` fields.

impl FromRef<App> for Hub {
    fn from_ref(app: &App) -> Hub {
        app.hub.clone()
    }
}

impl FromRef<App> for Sessions<User> {
    fn from_ref(app: &App) -> Sessions<User> {
        app.sessions.clone()
    }
}

impl FromRef<App> for Tokens<User> {
    fn from_ref(app: &App) -> Tokens<User> {
        app.tokens.clone()
    }
}

impl FromRef<App> for Presence {
    fn from_ref(app: &App) -> Presence {
        app.presence.clone()
    }
}

/// The chat app on the session store `store` (`MemoryStore::default()` in
/// `chat.rs`), and the hub of its sockets, for
/// `sockwarden::serve(…).with_graceful_shutdown(hub, …)`.
pub fn chat_app(store: impl SessionStore) -> (Router, Hub) {
    let hub = Hub::new();
    let tokens = MemoryTokenStore::new();
    for user in DEMO_USERS {
        tokens.insert(
            user.token,
            User {
                name: user.name.into(),
            },
        );
    }
    let sessions = Sessions::new(store)
        .with_cookie_name(SESSION_COOKIE)
        .with_hub(hub.clone());
    let app = App {
        hub: hub.clone(),
        sessions: sessions.clone(),
        tokens: Tokens::new(tokens),
        presence: Presence::default(),
        accounts: Accounts(Arc::new(
            DEMO_USERS
                .iter()
                .map(|user| (user.name, user.password))
                .collect(),
        )),
    };
    // Logging in and out changes the session, so only this site's pages may
    // post those forms: the origin check that guards the socket guards them
    // too (against login CSRF and forced logouts).
    let forms = Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route_layer(middleware::from_fn(same_origin));
    let router = Router::new()
        .route("/", get(page))
        .route("/chat.js", get(script))
        .merge(forms)
        .consumer::<BrowserChat>()
        .consumer::<ApiChat>()
        // The layer that sets the cookie the socket reads, on a store that
        // closes a session's sockets when the session is deleted.
        .layer(sessions.layer())
        .with_state(app);
    (router, hub)
}

async fn page() -> Html<&'static str> {
    Html(include_str!("static/chat.html"))
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/chat.js"),
    )
}

/// The login form's fields.
#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// Checks the password and logs the session in; back to the page either
/// way (post, redirect, get: a reload does not post the password again).
async fn login(State(app): State<App>, session: Session, Form(form): Form<Login>) -> Response {
    let Some(user) = app.accounts.check(&form.user, &form.password) else {
        tracing::info!(user = %form.user, "login refused");
        return Redirect::to("/?login=failed").into_response();
    };
    match app.sessions.login(&session, &user).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => {
            tracing::error!(%error, "the session store failed at login");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}

/// Ends the session: the runtime then closes its sockets with 4401
/// `logged out`, which the page shows. The user's other sessions stay.
async fn logout(State(sessions): State<Sessions<User>>, session: Session) -> Response {
    match sessions.logout(&session).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => {
            tracing::error!(%error, "the session store failed at logout");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}

/// Refuses a form posted from another site's page (403), or without an
/// `Origin` (browsers send one with every POST).
async fn same_origin(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refused) = OriginPolicy::same_host().check(&parts, true) {
        return refused.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
