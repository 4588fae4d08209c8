//! Implementation detail of the `sockwarden` crate. Depend on `sockwarden`
//! instead; it re-exports these macros and documents them.

mod consumer;
mod errors;
mod http;
mod item;
mod path_template;
mod requires_auth;

use proc_macro::TokenStream;

/// Declares a WebSocket consumer: a struct whose fields are filled from the
/// upgrade request, mounted at a route with an auth scheme and policies.
///
/// # Example
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
/// # Grammar
///
/// ```text
/// consumer  := '#[consumer(' argument (',' argument)* ','? ')]'
/// argument  := 'path' '=' ROUTE                  required
///            | 'auth' '=' ('"none"' | '"token"') default "none"
///            | 'reject' '=' ('"http"' | '"close"') default "http"
///            | 'query_token' '=' ('true' | 'false') default false
///            | 'token_protocol' '=' STRING       default "bearer"
///            | 'max_message_size' '=' INTEGER    bytes, at least 1
///            | 'auth_timeout' '=' DURATION       like "500ms" or "5s"
/// ROUTE     := '"' ('/' SEGMENT)+ '"'
/// SEGMENT   := TEXT | '{' NAME '}' | '{*' NAME '}'   a wildcard only as the last segment
/// NAME      := a Rust identifier; each name appears once
/// DURATION  := '"' DIGITS ('ms' | 's') '"'
/// ```
///
/// Each argument is given at most once. `query_token`, `token_protocol` and
/// `auth_timeout` concern authentication and need an auth scheme other than
/// `"none"`. `token_protocol` is the `Sec-WebSocket-Protocol` marker a
/// browser sends before the token (`bearer, <token>`); it must be an HTTP
/// token.
///
/// The struct must have named fields and no generic parameters. Put
/// [`#[requires_auth]`](macro@requires_auth) above or below `#[consumer]` to
/// reject anonymous connections before any of your code runs.
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
/// | none                   | `Default::default()`: the consumer's own state     |
///
/// A field takes at most one of these. The type of a `#[path]`, `#[query]`,
/// `#[header]` or `#[cookie]` field implements `sockwarden::FromParam`:
/// `String`, integers, floats, `bool`, `char`, or an `Option` of one of
/// them for a value that may be absent. There is at most one `#[user]`
/// field, and it names the user type of the auth scheme, which implements
/// `AuthUser`: `user: AppUser` with `#[requires_auth]`, otherwise
/// `user: Option<AppUser>`, because the consumer then admits anonymous users.
///
/// # Expansion
///
/// The struct stays as written, minus these attributes, and gains an
/// implementation of `sockwarden::Endpoint`: the arguments as a `const`
/// `sockwarden::Spec`, and a constructor that reads each field from the
/// handshake. For the example above, in short:
///
/// ```text
/// impl Endpoint for Chat {
///     type User = AppUser;
///     type Auth = TokenAuth<Self::User>;
///     const SPEC: Spec = Spec::new("Chat", "/ws/chat/{room}").requires_auth();
///     fn from_scope(scope: &mut Scope<AppUser>) -> Result<Self, Rejection> {
///         Ok(Self {
///             room: scope.path_param::<String>("room")?,
///             user: scope.user_required()?,
///             page: scope.query_param::<Option<u32>>("page")?,
///             client: scope.header_param::<Option<String>>("x-client")?,
///             theme: scope.cookie_param::<Option<String>>("theme")?,
///             sent: Default::default(),
///         })
///     }
/// }
/// ```
///
/// # Errors
///
/// Compile errors, each at the token at fault, for:
///
/// - an item that is not a struct with named fields, or a generic struct;
/// - an unknown, repeated or mistyped argument, an invalid route, an unknown
///   auth scheme or reject mode, an invalid duration, size or marker;
/// - a route capture without a `#[path]` field, or a `#[path]` field whose
///   name the route does not capture;
/// - an auth scheme without a `#[user]` field, a `#[user]` field or
///   `#[requires_auth]` without an auth scheme, a second `#[user]` field, a
///   user field that is `Option` under `#[requires_auth]` or not `Option`
///   without it;
/// - a malformed or repeated field attribute;
/// - a field type that cannot be read from a connection scope (reported by
///   the compiler, at the field's type).
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
