//! Implementation detail of the `sockwarden` crate. Depend on `sockwarden`
//! instead; it re-exports these macros and documents them.

mod consumer;
mod errors;
mod handlers;
mod http;
mod item;
mod path_template;
mod requires_auth;

use proc_macro::TokenStream;

/// Declares a WebSocket consumer: a struct whose fields are filled from the
/// upgrade request and the router state, mounted at a route with an auth
/// scheme and policies.
///
/// # Examples
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[derive(Clone)]
/// pub struct AppUser {
///     pub name: String,
/// }
///
/// impl AuthUser for AppUser {
///     type Id = String;
///     fn id(&self) -> String {
///         self.name.clone()
///     }
/// }
///
/// #[consumer(path = "/ws/chat/{room}", auth = "token")]
/// #[requires_auth]
/// pub struct Chat {
///     #[path]
///     room: String,
///     #[user]
///     user: AppUser,
///     #[query]
///     page: Option<u32>,
///     #[header("x-client")]
///     client: Option<String>,
///     #[cookie("theme")]
///     theme: Option<String>,
///     // The consumer's own state, starting from `Default::default()`.
///     sent: u32,
/// }
///
/// impl Consumer for Chat {
///     type In = sockwarden::Frame;
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: Self::In) -> Result<(), Error> {
///         self.sent += 1;
///         let from = &self.user.name;
///         cx.send_text(format!("{from} in {}: {msg:?}", self.room)).await
///     }
/// }
///
/// // Mounted with `Router::new().consumer::<Chat>()` (see `RouterExt`).
/// ```
///
/// Fields from the router state, subprotocols, and a consumer without fields
/// whose user type is an argument:
///
/// ```
/// use axum::Router;
/// use axum::extract::FromRef;
/// use sockwarden::prelude::*;
/// use sockwarden::{Frame, Hub, Tokens, store::MemoryTokenStore};
///
/// #[derive(Clone)]
/// pub struct AppUser {
///     pub name: String,
/// }
///
/// impl AuthUser for AppUser {
///     type Id = String;
///     fn id(&self) -> String {
///         self.name.clone()
///     }
/// }
///
/// /// Shared by every connection, like a database pool.
/// #[derive(Clone)]
/// pub struct Motd(pub &'static str);
///
/// #[derive(Clone)]
/// pub struct AppState {
///     hub: Hub,
///     tokens: Tokens<AppUser>,
///     motd: Motd,
/// }
///
/// impl FromRef<AppState> for Hub {
///     fn from_ref(state: &AppState) -> Self {
///         state.hub.clone()
///     }
/// }
///
/// impl FromRef<AppState> for Tokens<AppUser> {
///     fn from_ref(state: &AppState) -> Self {
///         state.tokens.clone()
///     }
/// }
///
/// impl FromRef<AppState> for Motd {
///     fn from_ref(state: &AppState) -> Self {
///         state.motd.clone()
///     }
/// }
///
/// #[consumer(path = "/ws/board", protocols = ["board.v2", "board.v1"])]
/// pub struct Board {
///     #[state]
///     motd: Motd,
/// }
///
/// impl Consumer for Board {
///     type In = Frame;
///
///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
///         match cx.send_text(self.motd.0).await {
///             Ok(()) => Connect::Accept,
///             Err(_) => Connect::Reject(Rejection::unavailable("try again")),
///         }
///     }
///
///     async fn receive(&mut self, _: &mut Cx<Self>, _: Frame) -> Result<(), Error> {
///         Ok(())
///     }
/// }
///
/// // Authenticated, but it never reads its user: no `#[user]` field.
/// #[consumer(path = "/ws/raw", auth = "token", user = AppUser)]
/// #[requires_auth]
/// pub struct Raw;
///
/// impl Consumer for Raw {
///     type In = Frame;
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: Frame) -> Result<(), Error> {
///         match msg {
///             Frame::Text(text) => cx.send_text(text).await,
///             Frame::Binary(bytes) => cx.send_binary(bytes).await,
///         }
///     }
/// }
///
/// let state = AppState {
///     hub: Hub::new(),
///     tokens: Tokens::new(MemoryTokenStore::new()),
///     motd: Motd("welcome"),
/// };
/// let app: Router = Router::new()
///     .consumer::<Board>()
///     .consumer::<Raw>()
///     .with_state(state);
/// # let _ = app;
/// assert_eq!(
///     <Board as sockwarden::Endpoint>::SPEC.protocols,
///     ["board.v2", "board.v1"]
/// );
/// ```
///
/// # Grammar
///
/// ```text
/// consumer  := '#[consumer(' argument (',' argument)* ','? ')]'
/// argument  := 'path' '=' ROUTE                  required
///            | 'protocols' '=' '[' STRING (',' STRING)* ','? ']'
///            | 'auth' '=' (SCHEME | '[' STACKED (',' STACKED)+ ','? ']') default "none"
///            | 'user' '=' TYPE                   a Rust type, not a string
///            | 'reject' '=' ('"http"' | '"close"') default "http"
///            | 'query_token' '=' ('true' | 'false') default false
///            | 'token_protocol' '=' STRING       default "bearer"
///            | 'max_message_size' '=' INTEGER    bytes, at least 1
///            | 'auth_timeout' '=' DURATION       like "500ms" or "5s"; default "5s"
///            | 'ping_interval' '=' DURATION      default "20s"; "0s" turns pings off
///            | 'pong_timeout' '=' DURATION       default "20s"
///            | 'idle_timeout' '=' DURATION       default none; "0s" turns it off
///            | 'groups' '=' '[' GROUP (',' GROUP)* ','? ']'
///            | 'outbox' '=' INTEGER              events waiting; default 256
///            | 'overflow' '=' ('"close"' | '"drop-oldest"') default "close"
///            | 'max_per_user' '=' (INTEGER | '"unlimited"') default 64
///            | 'max_per_peer' '=' (INTEGER | '"unlimited"') default 1024
///            | 'origins' '=' ('"same-host"' | '"any"' | '[' ORIGIN (',' ORIGIN)* ','? ']')
///            | 'missing_origin' '=' ('"allow"' | '"refuse"')
///            | 'revalidate' '=' DURATION         re-read the credential; default never; "0s" never
///            | 'messages_per_second' '=' (INTEGER | '"unlimited"') default 200
/// SCHEME    := '"none"' | '"token"' | '"jwt"' | '"session"'
/// STACKED   := '"token"' | '"jwt"' | '"session"'   each once; not both "token" and "jwt"
/// ROUTE     := '"' ('/' SEGMENT)+ '"'
/// SEGMENT   := TEXT | '{' NAME '}' | '{*' NAME '}'   a wildcard only as the last segment
/// NAME      := a Rust identifier; each name appears once
/// DURATION  := '"' DIGITS ('ms' | 's' | 'm' | 'h') '"'   longer than zero, but for ping_interval
/// GROUP     := '"' (TEXT | '{' FIELD '}' | '{{' | '}}')+ '"'   FIELD: one of the struct's fields
/// ORIGIN    := '"' SCHEME '://' ('*.')? HOST (':' PORT)? '"'   lowercase, no path
/// ```
///
/// `groups` are joined right after `connect` accepts and left when the
/// connection ends; a refused connection joins none. A `{field}` in a name
/// is the field's value (`Display`), and the `#[user]` field stands for the
/// user's id, so `groups = ["room:{room}", "user:{user}"]` gives every
/// connection its room's group and its user's (a user's group needs
/// `#[requires_auth]`). `{session}`, when no field has that name, is the
/// id of the session the connection was opened with (`auth = "session"`
/// with `#[requires_auth]`): a group per browser session. `outbox` and `overflow` bound the events waiting for
/// a connection and say what happens to a client that reads slower than
/// they arrive: close 1013, or drop the oldest. `max_per_user` and
/// `max_per_peer` cap the connections of one user and of one peer address,
/// refused with 429 (or close 4429) before `connect` runs.
///
/// `auth = ["session", "token"]` is an auth stack (`sockwarden::Stack`):
/// the consumer takes either credential, here a browser's session cookie
/// and an API client's token, failing closed. Every credential the
/// handshake carries is checked: one that is refused (an unknown token, an
/// expired JWT) refuses the handshake; a session cookie that names no
/// session refuses it too when another credential names a user;
/// credentials of two different users are refused (401, or close 4401);
/// a handshake without any credential is anonymous. The list's order is the
/// precedence: when several credentials name the same user, the connection
/// keeps the first scheme's, which revokes, revalidates and refreshes it.
/// A stack lists at least two different schemes that authenticate
/// (`"none"` is not one: `#[requires_auth]` decides about anonymous
/// clients), at most one of `"token"` and `"jwt"`, since both read the same
/// token carriers: `"session"` with `"token"` or `"jwt"`, in either order.
/// A stack with `"session"` authenticates by cookie, so
/// its origin policy defaults to the same host, as for `auth = "session"`,
/// and refuses handshakes without `Origin`: declare `missing_origin =
/// "allow"` when API clients, which send none, use the stack's token.
/// `{session}` in a group name needs `auth = "session"` alone, since a
/// stack may let a user in without a session.
///
/// ```
/// use axum::extract::FromRef;
/// use sockwarden::prelude::*;
/// use sockwarden::{Hub, Tokens};
/// use sockwarden::session::Sessions;
/// # #[derive(Clone)]
/// # pub struct AppUser { id: u64 }
/// # impl AuthUser for AppUser { type Id = u64; fn id(&self) -> u64 { self.id } }
///
/// // Browsers by their HTTP session, API clients by `Authorization: Token …`.
/// #[consumer(path = "/ws/feed", auth = ["session", "token"], missing_origin = "allow")]
/// #[requires_auth]
/// pub struct Feed {
///     #[user]
///     user: AppUser,
/// }
///
/// impl Consumer for Feed {
///     type In = String;
///     async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
///         cx.send_text(msg).await
///     }
/// }
///
/// // The router state provides what both schemes need.
/// #[derive(Clone)]
/// struct App { sessions: Sessions<AppUser>, tokens: Tokens<AppUser>, hub: Hub }
/// impl FromRef<App> for Sessions<AppUser> {
///     fn from_ref(app: &App) -> Self { app.sessions.clone() }
/// }
/// impl FromRef<App> for Tokens<AppUser> {
///     fn from_ref(app: &App) -> Self { app.tokens.clone() }
/// }
/// impl FromRef<App> for Hub {
///     fn from_ref(app: &App) -> Self { app.hub.clone() }
/// }
///
/// fn app(state: App) -> axum::Router {
///     axum::Router::new()
///         .consumer::<Feed>()
///         .layer(state.sessions.layer())
///         .with_state(state)
/// }
/// # let _ = app;
/// assert!(<<Feed as sockwarden::Endpoint>::Auth as sockwarden::Authenticate>::COOKIES);
/// ```
///
/// `origins` says which pages may open the socket, checked before any
/// credential is read; refusals are 403 (or close 1008). Undeclared, a
/// consumer that authenticates by cookie (`auth = "session"`, or a stack
/// with `"session"`) admits its
/// own host only and refuses a handshake without `Origin`, and other
/// consumers admit any page, since a token is not sent by the browser on
/// its own. `"any"` turns the check off and must be written out.
/// `https://*.example.com` admits every subdomain, never `example.com`
/// itself. `missing_origin` admits or refuses handshakes without an
/// `Origin` header (non-browser clients); `Origin: null` is always refused
/// unless `origins = "any"`. An entry that is not an origin fails the build
/// at the entry.
///
/// Each argument is given at most once. `protocols` lists the
/// `Sec-WebSocket-Protocol` subprotocols the consumer speaks, in order of
/// preference: at least one, each an HTTP token, none twice. `user` names
/// the user type of the auth scheme for a consumer without a `#[user]`
/// field. `user`, `query_token`, `token_protocol` and `auth_timeout` concern
/// authentication and need an auth scheme other than `"none"`.
/// `token_protocol` is the `Sec-WebSocket-Protocol` marker a browser sends
/// before the token (`bearer, <token>`); it must be an HTTP token, and no
/// subprotocol of `protocols` may be the same.
///
/// `ping_interval`, `pong_timeout` and `idle_timeout` are liveness limits.
/// After `ping_interval` without any frame from the client the server sends
/// a Ping; if nothing at all (a Pong, a message, anything) arrives within
/// `pong_timeout` after it, the peer is taken for dead or half-open and
/// dropped without a close handshake (a best-effort close 1011 `keepalive
/// timeout`), and `disconnect` learns `Disconnect::TimedOut`. `idle_timeout`
/// closes with 1000 `idle timeout` a connection whose client sent no data
/// message for that long; it is off by default, since closing a live but
/// quiet connection is the app's policy, not the runtime's. `"0s"` turns
/// `ping_interval`, `idle_timeout` and `revalidate` off, also where the
/// app's defaults (`sockwarden::AppDefaults`) turn them on. Liveness is
/// measured between messages: no timer runs while `receive` does, but a
/// send the client does not take within `pong_timeout` ends the connection
/// as `Disconnect::TimedOut`.
///
/// The struct has named fields, or none (`struct Echo;` is `struct Echo {}`),
/// and no generic parameters. Put [`#[requires_auth]`](macro@requires_auth)
/// above or below `#[consumer]` to reject anonymous connections before any of
/// your code runs.
///
/// # Field attributes
///
/// | attribute              | the field's value                                  |
/// |------------------------|----------------------------------------------------|
/// | `#[path]`              | the route capture named like the field (`r#` removed) |
/// | `#[path("room")]`      | the route capture `{room}`                         |
/// | `#[query]`             | the query parameter named like the field           |
/// | `#[query("p")]`        | the query parameter `p`                            |
/// | `#[header("x-client")]`| the request header `x-client`                      |
/// | `#[cookie("theme")]`   | the cookie `theme`                                 |
/// | `#[user]`              | the authenticated user                             |
/// | `#[state]`             | taken from the router state, like axum's `State<T>` |
/// | none                   | `Default::default()`: the consumer's own state     |
///
/// A field takes at most one of these. The type of a `#[path]`, `#[query]`,
/// `#[header]` or `#[cookie]` field implements `sockwarden::FromParam`:
/// `String`, integers, floats, `bool`, `char`, or an `Option` of one of
/// them for a value that may be absent. There is at most one `#[user]`
/// field, and it names the user type of the auth scheme, which implements
/// `AuthUser`: `user: AppUser` with `#[requires_auth]`, otherwise
/// `user: Option<AppUser>`, because the consumer then admits anonymous users.
/// Without a `#[user]` field, name the user type with `user = AppUser`.
///
/// The type `T` of a `#[state]` field implements axum's `FromRef<S>` for the
/// state `S` of every router the consumer is mounted on, and is cloned out of
/// it for each connection: keep it cheap to clone, like a pool or an `Arc`.
/// Every type is `FromRef` of itself, so `#[state] db: Db` works on a
/// `Router<Db>`; with an app state struct, implement `FromRef<AppState>` for
/// each field type. A `#[state]` field cannot be `#[cfg]`-gated.
///
/// # Expansion
///
/// The struct stays as written, minus these attributes, and gains two
/// implementations: `sockwarden::Endpoint`, the arguments as data (the user
/// type, the auth scheme and a `const` `sockwarden::Spec`); and
/// `sockwarden::FromHandshake<S>`, a constructor that reads each field from
/// the handshake and the router state `S`, for every `S` that the `#[state]`
/// fields' types can be taken from. For the first example above, with a
/// field `#[state] db: Db` added, in short:
///
/// ```text
/// impl Endpoint for Chat {
///     type User = AppUser;
///     type Auth = TokenAuth<Self::User>;
///     const SPEC: Spec = Spec::new("Chat", "/ws/chat/{room}").requires_auth();
/// }
///
/// impl<S> FromHandshake<S> for Chat
/// where
///     Db: FromRef<S>,
/// {
///     fn from_handshake(scope: &mut Scope<AppUser>, state: &S) -> Result<Self, Rejection> {
///         Ok(Self {
///             room: scope.path_param::<String>("room")?,
///             user: scope.user_required()?,
///             page: scope.query_param::<Option<u32>>("page")?,
///             client: scope.header_param::<Option<String>>("x-client")?,
///             theme: scope.cookie_param::<Option<String>>("theme")?,
///             db: <Db as FromRef<S>>::from_ref(state),
///             sent: Default::default(),
///         })
///     }
/// }
/// ```
///
/// `protocols = ["chat.v2", "chat.v1"]` adds `.protocols(&["chat.v2",
/// "chat.v1"])` to the `Spec`. Without `#[state]` fields, `FromHandshake<S>`
/// holds for every `S`.
///
/// # Errors
///
/// Compile errors, each at the token at fault, for:
///
/// - an item that is not a struct with named fields or a unit struct, or a
///   generic struct;
/// - an unknown, repeated or mistyped argument, an invalid route, an unknown
///   auth scheme or reject mode, an invalid duration, size or marker;
/// - an auth stack that is empty or has one scheme, lists a scheme twice,
///   lists `"none"`, or lists both `"token"` and `"jwt"`;
/// - an empty `protocols` list, a subprotocol that is not an HTTP token or is
///   listed twice, or one that is the token marker of the auth scheme;
/// - a route capture without a `#[path]` field, or a `#[path]` field whose
///   name the route does not capture;
/// - an auth scheme without a user type (a `#[user]` field or `user = …`),
///   both a `#[user]` field and `user = …`, a `#[user]` field, `user = …` or
///   `#[requires_auth]` without an auth scheme, a second `#[user]` field, a
///   user field that is `Option` under `#[requires_auth]` or not `Option`
///   without it, `user = Option<…>`;
/// - a malformed or repeated field attribute, a `#[state]` field under
///   `#[cfg]`;
/// - a field type that cannot be read from a connection scope, or a user type
///   that is not `AuthUser` (reported by the compiler, at the type).
///
/// A router state that a `#[state]` field cannot be taken from is a compile
/// error where the consumer is mounted (`.consumer::<Chat>()`), about the
/// missing `FromRef` impl, pointing at the field's type.
///
/// At connect time, a value that is missing or does not parse rejects the
/// connection before the upgrade, and so does a failed authentication under
/// `#[requires_auth]`, as declared by `reject`.
#[proc_macro_attribute]
pub fn consumer(args: TokenStream, item: TokenStream) -> TokenStream {
    consumer::expand(args.into(), item.into()).into()
}

/// Rejects connections without an authenticated user before the consumer's
/// code runs, and lets the `#[user]` field be the user itself rather than an
/// `Option`.
///
/// # Example
///
/// ```
/// use sockwarden::prelude::*;
///
/// #[derive(Clone)]
/// pub struct AppUser {
///     pub id: u64,
/// }
///
/// impl AuthUser for AppUser {
///     type Id = u64;
///     fn id(&self) -> u64 {
///         self.id
///     }
/// }
///
/// #[requires_auth]
/// #[consumer(path = "/ws/inbox", auth = "token")]
/// pub struct Inbox {
///     #[user]
///     user: AppUser, // not `Option<AppUser>`: anonymous clients get a 401
/// }
///
/// assert!(<Inbox as sockwarden::Endpoint>::SPEC.requires_auth);
/// ```
///
/// # Grammar
///
/// ```text
/// requires_auth := '#[requires_auth]'
/// ```
///
/// It goes on a struct that has `#[consumer(...)]`, above or below it, and
/// takes no arguments. The consumer needs an auth scheme, such as
/// `auth = "token"`.
///
/// # Errors
///
/// Compile errors for arguments, for an item without `#[consumer(...)]`,
/// for an item that is not a struct, and for a consumer with `auth = "none"`.
#[proc_macro_attribute]
pub fn requires_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    requires_auth::expand(&args.into(), item.into()).into()
}

/// Routes a consumer's client messages and group events by their `type` to
/// handler methods, one per variant: Channels' `chat.message` →
/// `chat_message` dispatch, typed.
///
/// It goes on the consumer's `impl Consumer for …` block. There you write
/// `type In = YourEnum;`, the `Consumer` methods you need (`connect`,
/// `disconnect`) as usual, and one `async fn` per variant of the enum
/// instead of `receive`: the attribute writes `receive` as a `match` that
/// calls the handler of the variant with the variant's fields. The wire
/// `type` is the enum's serde tag, so a message `{"type": "chat.message",
/// "body": "hi"}` reaches `chat_message(cx, body)` through
/// `#[serde(tag = "type")]` on the enum and `#[serde(rename =
/// "chat.message")]` on the variant `ChatMessage` (or `#[serde(tag = "type",
/// rename_all = "snake_case")]` for `{"type": "chat_message"}`).
///
/// # Example
///
/// ```
/// use sockwarden::prelude::*;
/// # use sockwarden::__private::serde;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone)]
/// pub struct AppUser {
///     pub name: String,
/// }
///
/// impl AuthUser for AppUser {
///     type Id = String;
///     fn id(&self) -> String {
///         self.name.clone()
///     }
/// }
///
/// /// What clients send, told apart by `type`.
/// #[derive(Deserialize)]
/// # #[serde(crate = "sockwarden::__private::serde")]
/// #[serde(tag = "type")]
/// pub enum ChatIn {
///     /// `{"type": "chat.message", "body": "hi"}`
///     #[serde(rename = "chat.message")]
///     ChatMessage { body: String },
///     /// `{"type": "chat.delete", "id": 3}`
///     #[serde(rename = "chat.delete")]
///     ChatDelete { id: u64 },
///     /// `{"type": "ping"}`
///     #[serde(rename = "ping")]
///     Ping,
/// }
///
/// /// What the server sends to a room's group.
/// #[derive(Serialize, Deserialize)]
/// # #[serde(crate = "sockwarden::__private::serde")]
/// #[serde(tag = "type", rename_all = "snake_case")]
/// pub enum RoomEvent {
///     Said { from: String, body: String },
///     Closed { reason: String },
/// }
///
/// // Anonymous users get in (`Option<AppUser>`); deleting needs a user.
/// #[consumer(path = "/ws/chat/{room}", auth = "token")]
/// pub struct Chat {
///     #[path]
///     room: String,
///     #[user]
///     user: Option<AppUser>,
/// }
///
/// impl Chat {
///     fn group(&self) -> String {
///         format!("room:{}", self.room)
///     }
/// }
///
/// #[handlers(events = RoomEvent)]
/// impl Consumer for Chat {
///     type In = ChatIn;
///
///     async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
///         cx.join(&self.group());
///         Connect::Accept
///     }
///
///     /// `ChatIn::ChatMessage`, by the method's name.
///     async fn chat_message(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
///         let from = self.user.as_ref().map_or("anonymous", |user| &user.name).to_owned();
///         cx.group(self.group()).send(&RoomEvent::Said { from, body }).await?;
///         Ok(())
///     }
///
///     /// An anonymous client gets `{"type":"error","error":"authentication
///     /// required for `chat_delete`"}`, and this does not run.
///     #[requires_auth]
///     async fn chat_delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
///         cx.send_text(format!("deleted {id}")).await
///     }
///
///     /// A variant chosen by name: `#[on(Ping)]`.
///     #[on(Ping)]
///     async fn pong(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
///         cx.send_text("pong").await
///     }
///
///     /// `RoomEvent::Said`, from the room's group. `RoomEvent::Closed`, which
///     /// has no handler, and events of other types go to the client unchanged.
///     #[event]
///     async fn said(&mut self, cx: &mut Cx<Self>, from: String, body: String) -> Result<(), Error> {
///         cx.send_text(format!("{from}: {body}")).await
///     }
/// }
/// ```
///
/// # Grammar
///
/// ```text
/// handlers := '#[handlers]' | '#[handlers(events = ' TYPE ')]'   on 'impl Consumer for' TYPE '{' item* '}'
/// item     := 'type In = ' TYPE ';'                  the enum of client messages
///           | a method of `Consumer`                 connect, receive, event, disconnect: kept as written
///           | handler
///           | any other item of the trait impl       kept as written
/// handler  := attribute* 'async fn' NAME '(&mut self,' PAT ': &mut Cx<Self>' (',' FIELD ':' TYPE)* ')'
///             '-> Result<(), Error>' BLOCK
/// attribute:= '#[on(' VARIANT ')]'                   the variant of `In` it takes; default: NAME in UpperCamelCase
///           | '#[event]' | '#[event(' VARIANT ')]'   a variant of the `events` enum instead, a group event
///           | '#[requires_auth]'                     only an authenticated client may send this variant
///           | any other attribute                    kept on the method (`#[cfg]` on its arm too)
/// ```
///
/// # Rules
///
/// - A method of the block that is not a method of `Consumer` is a handler.
///   It is an `async fn` taking `&mut self`, then the connection `&mut
///   Cx<Self>`, then any of the fields of its variant by name (`body:
///   String`), in any order, and returning `Result<(), Error>`, as
///   `receive` does. Fields it does not name are ignored; a unit variant has
///   none. A helper method that handles no message goes in an `impl Chat`
///   block of its own.
/// - The variant is the method's name in UpperCamelCase (`chat_message` takes
///   `ChatMessage`), or the one named by `#[on(…)]` / `#[event(…)]`, which a
///   variant named like a `Consumer` method needs (`#[on(Connect)] async fn
///   on_connect`). A variant has at most one handler.
/// - Client messages: every variant of `In` has a handler, so a new variant
///   without one does not compile. `In` is an enum with named or unit
///   variants, deserialized from the message's JSON, with the `type` as its
///   serde tag. A message whose `type` is not one of the enum's, or whose
///   fields do not fit, never reaches a handler: the client gets
///   `{"type":"error","error":"invalid message: …"}` and the connection stays
///   open. Write `receive` yourself instead of message handlers for a
///   consumer that takes raw frames or needs to look at every message.
/// - `#[requires_auth]` on a message handler: when the connection has no
///   user, the client gets `{"type":"error","error":"authentication required
///   for `chat_delete`"}` (naming the handler), the handler does not run, and
///   the connection stays open. It is for consumers that admit anonymous
///   users (`#[user] user: Option<AppUser>`); with `auth = "none"` it does
///   not compile. `#[requires_auth]` on the struct refuses anonymous
///   connections altogether.
/// - Group events, with `events = RoomEvent`: an event sent to the
///   connection's groups, its user or its session that decodes as
///   `RoomEvent` goes to the `#[event]` handler of its variant. Every other
///   event, and a variant without a handler, is forwarded to the client
///   unchanged, as `Consumer::event` does by default. Without `events` (or
///   with an `event` method of your own), events are not routed.
/// - Messages and events are handled one at a time, in order, as by
///   `receive` and `event`; a handler's error means what `receive`'s does.
///
/// # Expansion
///
/// The block keeps its items, and gains `receive` (unless written) and
/// `event` (when there are `#[event]` handlers); the handlers move to an
/// `impl Chat { … }` block of their own, as written. For the example, in
/// short:
///
/// ```text
/// async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {
///     match msg {
///         ChatIn::ChatMessage { body, .. } => self.chat_message(cx, body).await,
///         ChatIn::ChatDelete { id, .. } => {
///             require_user(cx, "chat_delete")?; // the error frame when anonymous
///             self.chat_delete(cx, id).await
///         }
///         ChatIn::Ping { .. } => self.pong(cx).await,
///     }
/// }
///
/// async fn event(&mut self, cx: &mut Cx<Self>, event: Event) -> Result<(), Error> {
///     match event.decode::<RoomEvent>() {
///         Ok(RoomEvent::Said { from, body, .. }) => self.said(cx, from, body).await,
///         _ => cx.send_text(event.into_text()).await, // forwarded unchanged
///     }
/// }
/// ```
///
/// # Errors
///
/// Compile errors, each at the token at fault, for:
///
/// - an item that is not a trait impl; a block with message handlers and no
///   `type In`, or with neither handlers nor `receive`; an `In` or `events`
///   type that is not a path to an enum; an unknown or repeated argument;
/// - a handler that is not `async`, is generic or `unsafe`, does not take
///   `&mut self`, then `&mut Cx<Self>`, takes a pattern rather than a
///   field's name, or has no return type;
/// - two handlers for one variant (at the second, naming the first); a
///   malformed or repeated `#[on]` / `#[event]`; `#[on]` on a `Consumer`
///   method; `#[event]` handlers without `events = …`, or `events = …`
///   without `#[event]` handlers;
/// - a `receive` beside message handlers, or an `event` beside `#[event]`
///   handlers, which would leave them unused;
/// - `#[requires_auth]` on an `#[event]` handler or on a `Consumer` method,
///   or with arguments;
/// - reported by the compiler at the handler: a variant the enum lacks (at
///   the method's name, or at `#[on(…)]`), a parameter that names no field
///   of the variant or has another type than the field, a return type other
///   than `Result<(), Error>`;
/// - reported by the compiler elsewhere: a variant of `In` without a handler
///   (`non-exhaustive patterns: ChatIn::Leave not covered`, at `type In`),
///   and `#[requires_auth]` on a handler of a consumer with `auth = "none"`
///   (at the attribute).
///
/// `#[requires_auth]` on a method of a block without `#[handlers]` is an
/// error that says to add it.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, item: TokenStream) -> TokenStream {
    handlers::expand(args.into(), item.into()).into()
}
