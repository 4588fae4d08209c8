//! The arguments of `#[consumer(...)]`: `path = "..."`, `protocols = [...]`,
//! `auth = "..."`, `user = Type` and the policies.
//!
//! Each value is checked on its own here, where its literal is at hand; rules
//! that relate two arguments, or an argument and the struct, live in `model`.

use crate::errors::Errors;
use crate::http;
use crate::path_template::PathTemplate;
use proc_macro2::TokenStream;
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Expr, ExprArray, ExprLit, Ident, Lit, LitStr, Token, Type};

/// An auth scheme that `auth = "..."` can name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AuthScheme {
    /// The name written in `auth = "..."`.
    pub(crate) name: &'static str,
    /// The runtime's `__private` type that authenticates with this scheme,
    /// generic over the user type; `None` for anonymous-only consumers.
    pub(crate) runtime_type: Option<&'static str>,
    /// Whether the scheme reads tokens from the carriers, so that the
    /// `token_protocol` marker is its own and cannot be a subprotocol
    /// (the runtime's `Authenticate::TOKEN_CARRIERS`).
    pub(crate) reads_tokens: bool,
}

impl AuthScheme {
    /// Every scheme, in the order error messages list them. Adding a scheme is
    /// adding a line here and the type in the runtime's `__private`.
    pub(crate) const ALL: &[AuthScheme] = &[
        AuthScheme {
            name: "none",
            runtime_type: None,
            reads_tokens: false,
        },
        AuthScheme {
            name: "token",
            runtime_type: Some("TokenAuth"),
            reads_tokens: true,
        },
        AuthScheme {
            name: "jwt",
            runtime_type: Some("JwtAuth"),
            reads_tokens: true,
        },
        AuthScheme {
            name: "session",
            runtime_type: Some("SessionAuth"),
            reads_tokens: false,
        },
    ];

    /// The scheme used when `auth` is not given.
    pub(crate) const DEFAULT: &AuthScheme = &Self::ALL[0];

    /// Whether connections are authenticated, so that a user type is needed.
    pub(crate) fn authenticates(&self) -> bool {
        self.runtime_type.is_some()
    }
}

/// What `auth = ...` declares: one scheme, or a stack of schemes in
/// precedence order (`auth = ["session", "token"]`), already checked: a
/// stack has two or more distinct schemes that authenticate, at most one of
/// which reads tokens.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Auth {
    /// The schemes, in the order written; one for `auth = "..."`.
    pub(crate) schemes: Vec<&'static AuthScheme>,
}

impl Auth {
    /// The consumer's auth when `auth` is not given.
    pub(crate) fn default_scheme() -> Auth {
        Auth {
            schemes: vec![AuthScheme::DEFAULT],
        }
    }

    /// Whether connections are authenticated, so that a user type is needed.
    pub(crate) fn authenticates(&self) -> bool {
        self.schemes.iter().any(|scheme| scheme.authenticates())
    }

    /// Whether a scheme reads tokens from the carriers.
    pub(crate) fn reads_tokens(&self) -> bool {
        self.schemes.iter().any(|scheme| scheme.reads_tokens)
    }

    /// Whether a `revalidate` period re-reads anything: only sessions are
    /// read again from their store (tokens are revoked through `Tokens`,
    /// which closes their sockets at once; a JWT ends at its `exp`).
    pub(crate) fn revalidates(&self) -> bool {
        self.schemes.iter().any(|scheme| scheme.name == "session")
    }

    /// Whether every authenticated connection has a session: `auth =
    /// "session"` alone, since a stack may let a user in by token.
    pub(crate) fn always_session(&self) -> bool {
        matches!(self.schemes.as_slice(), [scheme] if scheme.name == "session")
    }

    /// The argument as written, for messages: `auth = "token"` or
    /// `auth = ["session", "token"]`.
    pub(crate) fn written(&self) -> String {
        let names: Vec<String> = self
            .schemes
            .iter()
            .map(|scheme| format!("\"{}\"", scheme.name))
            .collect();
        match names.as_slice() {
            [name] => format!("auth = {name}"),
            _ => format!("auth = [{}]", names.join(", ")),
        }
    }
}

/// How a connection refused by auth is told so (`reject = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// An HTTP 401/403 before the upgrade.
    Http,
    /// Accept, send an error frame, then close with a 44xx code.
    Close,
}

impl Reject {
    /// Every mode with its name, in the order error messages list them.
    const ALL: &[(&str, Reject)] = &[("http", Reject::Http), ("close", Reject::Close)];
}

/// One `key = value` argument: the key for errors about the argument, and the
/// value, or `None` if it was invalid and already reported.
#[derive(Debug)]
pub(crate) struct Arg<T> {
    /// The key as written, where errors about the argument as a whole go.
    pub(crate) key: Ident,
    /// The checked value; `None` tells later checks to stay quiet.
    pub(crate) value: Option<T>,
}

/// The route: its literal for spans and emission, and its parsed template.
#[derive(Debug)]
pub(crate) struct Route {
    /// The literal as written.
    pub(crate) literal: LitStr,
    /// The parsed form of `literal`.
    pub(crate) template: PathTemplate,
}

/// The parsed arguments, each `None` when not given.
#[derive(Debug, Default)]
pub(crate) struct ConsumerArgs {
    /// `path = "/ws/chat/{room}"`.
    pub(crate) path: Option<Arg<Route>>,
    /// `protocols = ["chat.v2", "chat.v1"]`: non-empty, HTTP tokens, no
    /// duplicates.
    pub(crate) protocols: Option<Arg<Vec<LitStr>>>,
    /// `auth = "token"`, or a stack: `auth = ["session", "token"]`.
    pub(crate) auth: Option<Arg<Auth>>,
    /// `user = AppUser`: the user type, for a consumer without a `#[user]` field.
    pub(crate) user: Option<Arg<Type>>,
    /// `reject = "close"`.
    pub(crate) reject: Option<Arg<Reject>>,
    /// `query_token = true`.
    pub(crate) query_token: Option<Arg<bool>>,
    /// `token_protocol = "bearer"`.
    pub(crate) token_protocol: Option<Arg<LitStr>>,
    /// `max_message_size = 65536`, in bytes.
    pub(crate) max_message_size: Option<Arg<u64>>,
    /// `auth_timeout = "5s"`, in milliseconds.
    pub(crate) auth_timeout_ms: Option<Arg<u64>>,
    /// `ping_interval = "20s"`, in milliseconds; 0 turns pings off.
    pub(crate) ping_interval_ms: Option<Arg<u64>>,
    /// `pong_timeout = "20s"`, in milliseconds.
    pub(crate) pong_timeout_ms: Option<Arg<u64>>,
    /// `idle_timeout = "5m"`, in milliseconds; 0 turns it off.
    pub(crate) idle_timeout_ms: Option<Arg<u64>>,
    /// `outbox = 256`: events that may wait for the connection.
    pub(crate) outbox: Option<Arg<u64>>,
    /// `overflow = "drop-oldest"`.
    pub(crate) overflow: Option<Arg<Overflow>>,
    /// `max_per_user = 8`, or `"unlimited"` (`None`).
    pub(crate) max_per_user: Option<Arg<Option<u64>>>,
    /// `max_per_peer = 100`, or `"unlimited"` (`None`).
    pub(crate) max_per_peer: Option<Arg<Option<u64>>>,
    /// `groups = ["lobby", "room:{room}"]`.
    pub(crate) groups: Option<Arg<Vec<GroupName>>>,
    /// `origins = "same-host" | "any" | ["https://app.example.com"]`.
    pub(crate) origins: Option<Arg<OriginsArg>>,
    /// `missing_origin = "allow" | "refuse"`.
    pub(crate) missing_origin: Option<Arg<MissingOriginArg>>,
    /// `revalidate = "30s"`, in milliseconds; 0 turns it off.
    pub(crate) revalidate_ms: Option<Arg<u64>>,
    /// `messages_per_second = 50`, or `"unlimited"` (`None`).
    pub(crate) messages_per_second: Option<Arg<Option<u64>>>,
    /// Whether an argument may be hidden behind a syntax error or a
    /// misspelt key, so that none must be reported missing.
    pub(crate) incomplete: bool,
}

/// The argument keys, in the order of the docs and of error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Path,
    Protocols,
    Auth,
    User,
    Reject,
    QueryToken,
    TokenProtocol,
    MaxMessageSize,
    AuthTimeout,
    PingInterval,
    PongTimeout,
    IdleTimeout,
    Groups,
    Outbox,
    Overflow,
    MaxPerUser,
    MaxPerPeer,
    Origins,
    MissingOrigin,
    Revalidate,
    MessagesPerSecond,
}

impl Key {
    const ALL: [Key; 21] = [
        Key::Path,
        Key::Protocols,
        Key::Auth,
        Key::User,
        Key::Reject,
        Key::QueryToken,
        Key::TokenProtocol,
        Key::MaxMessageSize,
        Key::AuthTimeout,
        Key::PingInterval,
        Key::PongTimeout,
        Key::IdleTimeout,
        Key::Groups,
        Key::Outbox,
        Key::Overflow,
        Key::MaxPerUser,
        Key::MaxPerPeer,
        Key::Origins,
        Key::MissingOrigin,
        Key::Revalidate,
        Key::MessagesPerSecond,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Path => "path",
            Key::Protocols => "protocols",
            Key::Auth => "auth",
            Key::User => "user",
            Key::Reject => "reject",
            Key::QueryToken => "query_token",
            Key::TokenProtocol => "token_protocol",
            Key::MaxMessageSize => "max_message_size",
            Key::AuthTimeout => "auth_timeout",
            Key::PingInterval => "ping_interval",
            Key::PongTimeout => "pong_timeout",
            Key::IdleTimeout => "idle_timeout",
            Key::Groups => "groups",
            Key::Outbox => "outbox",
            Key::Overflow => "overflow",
            Key::MaxPerUser => "max_per_user",
            Key::MaxPerPeer => "max_per_peer",
            Key::Origins => "origins",
            Key::MissingOrigin => "missing_origin",
            Key::Revalidate => "revalidate",
            Key::MessagesPerSecond => "messages_per_second",
        }
    }

    /// A correct use of the argument, quoted in messages that say what to write.
    fn example(self) -> &'static str {
        match self {
            Key::Path => r#"path = "/ws/chat/{room}""#,
            Key::Protocols => r#"protocols = ["chat.v2", "chat.v1"]"#,
            Key::Auth => r#"auth = "token""#,
            Key::User => "user = AppUser",
            Key::Reject => r#"reject = "close""#,
            Key::QueryToken => "query_token = true",
            Key::TokenProtocol => r#"token_protocol = "bearer""#,
            Key::MaxMessageSize => "max_message_size = 65536",
            Key::AuthTimeout => r#"auth_timeout = "5s""#,
            Key::PingInterval => r#"ping_interval = "20s""#,
            Key::PongTimeout => r#"pong_timeout = "20s""#,
            Key::IdleTimeout => r#"idle_timeout = "5m""#,
            Key::Groups => r#"groups = ["lobby", "room:{room}"]"#,
            Key::Outbox => "outbox = 256",
            Key::Overflow => r#"overflow = "drop-oldest""#,
            Key::MaxPerUser => "max_per_user = 8",
            Key::MaxPerPeer => "max_per_peer = 100",
            Key::Origins => r#"origins = ["https://app.example.com"]"#,
            Key::MissingOrigin => r#"missing_origin = "allow""#,
            Key::Revalidate => r#"revalidate = "30s""#,
            Key::MessagesPerSecond => "messages_per_second = 50",
        }
    }
}

/// Parses the arguments of `#[consumer(...)]`, recording every mistake in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> ConsumerArgs {
    let mut args = ConsumerArgs::default();
    let parser = |input: ParseStream<'_>| args.parse_list(input, errors);
    if let Err(error) = parser.parse2(tokens) {
        errors.push(error);
        args.incomplete = true;
    }
    args
}

/// What follows `key =`: an expression, except for `user`, which takes a type.
#[derive(Debug)]
enum Value {
    Expr(Expr),
    Type(Type),
}

impl ConsumerArgs {
    /// Parses `key = value, ...`. Only syntax errors stop it; a bad key or
    /// value is recorded and parsing goes on with the next argument.
    fn parse_list(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        while !input.is_empty() {
            if input.peek(LitStr) {
                let route: LitStr = input.parse()?;
                return Err(syn::Error::new(
                    route.span(),
                    format!("name the route argument: write `path = {}`", route.token()),
                ));
            }
            let key = input.call(Ident::parse_any)?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                // `user = "AppUser"` is read as the string it is, for a
                // better message than "expected type".
                if key.unraw() == Key::User.name() && !input.peek(LitStr) {
                    Some(Value::Type(input.parse()?))
                } else {
                    Some(Value::Expr(input.parse()?))
                }
            } else {
                // `auth(token)` or `auth token`: skip what stands for the value,
                // `set` explains the `key = value` form.
                if !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<proc_macro2::TokenTree>()?;
                }
                None
            };
            self.set(key, value.as_ref(), errors);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    }

    fn set(&mut self, key: Ident, value: Option<&Value>, errors: &mut Errors) {
        let name = key.unraw().to_string();
        let Some(known) = Key::ALL.into_iter().find(|known| known.name() == name) else {
            let expected = Key::ALL.map(|key| format!("`{}`", key.name())).join(", ");
            errors.spanned(
                &key,
                format!("unknown consumer argument `{name}`; expected one of {expected}"),
            );
            self.incomplete = true;
            return;
        };
        // Only `user` may hold a type; every other value is an expression.
        let expr = value.and_then(|value| match value {
            Value::Expr(expr) => Some(expr),
            Value::Type(_) => None,
        });
        match known {
            Key::Path => store(&mut self.path, known, key, expr, errors, parse_route),
            Key::Protocols => store(
                &mut self.protocols,
                known,
                key,
                expr,
                errors,
                parse_protocols,
            ),
            Key::Auth => store(&mut self.auth, known, key, expr, errors, parse_auth),
            Key::User => store(&mut self.user, known, key, value, errors, parse_user),
            Key::Reject => store(&mut self.reject, known, key, expr, errors, parse_reject),
            Key::QueryToken => store(&mut self.query_token, known, key, expr, errors, parse_bool),
            Key::TokenProtocol => store(
                &mut self.token_protocol,
                known,
                key,
                expr,
                errors,
                parse_token_protocol,
            ),
            Key::MaxMessageSize => store(
                &mut self.max_message_size,
                known,
                key,
                expr,
                errors,
                parse_size,
            ),
            Key::AuthTimeout => store(
                &mut self.auth_timeout_ms,
                known,
                key,
                expr,
                errors,
                parse_timeout,
            ),
            Key::PingInterval => store(
                &mut self.ping_interval_ms,
                known,
                key,
                expr,
                errors,
                parse_interval,
            ),
            Key::PongTimeout => store(
                &mut self.pong_timeout_ms,
                known,
                key,
                expr,
                errors,
                parse_timeout,
            ),
            // Zero turns these timers off, overriding an app default.
            Key::IdleTimeout => store(
                &mut self.idle_timeout_ms,
                known,
                key,
                expr,
                errors,
                parse_interval,
            ),
            Key::Groups => store(&mut self.groups, known, key, expr, errors, parse_groups),
            Key::Outbox => store(&mut self.outbox, known, key, expr, errors, parse_count),
            Key::Overflow => store(&mut self.overflow, known, key, expr, errors, parse_overflow),
            Key::MaxPerUser => store(&mut self.max_per_user, known, key, expr, errors, parse_cap),
            Key::MaxPerPeer => store(&mut self.max_per_peer, known, key, expr, errors, parse_cap),
            Key::Origins => store(&mut self.origins, known, key, expr, errors, parse_origins),
            Key::MissingOrigin => store(
                &mut self.missing_origin,
                known,
                key,
                expr,
                errors,
                parse_missing_origin,
            ),
            Key::Revalidate => store(
                &mut self.revalidate_ms,
                known,
                key,
                expr,
                errors,
                parse_interval,
            ),
            Key::MessagesPerSecond => store(
                &mut self.messages_per_second,
                known,
                key,
                expr,
                errors,
                parse_cap,
            ),
        }
    }
}

/// Fills `slot` with the argument unless it is a duplicate. The value is
/// checked by `parse`, which reports its own errors.
fn store<V, T>(
    slot: &mut Option<Arg<T>>,
    known: Key,
    key: Ident,
    value: Option<&V>,
    errors: &mut Errors,
    parse: fn(&V, Key, &mut Errors) -> Option<T>,
) {
    if slot.is_some() {
        errors.spanned(
            &key,
            format!(
                "duplicate consumer argument `{}`; give it once",
                known.name()
            ),
        );
        return;
    }
    let value = if let Some(value) = value {
        parse(value, known, errors)
    } else {
        errors.spanned(
            &key,
            format!(
                "`{}` needs a value; write `{}`",
                known.name(),
                known.example()
            ),
        );
        None
    };
    *slot = Some(Arg { key, value });
}

fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, attrs }) if attrs.is_empty() => Some(lit),
        // A `$route:literal` of a `macro_rules!` arrives wrapped in a group.
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

fn parse_str(value: &Expr, key: Key, errors: &mut Errors) -> Option<LitStr> {
    match literal(value) {
        Some(Lit::Str(lit)) if lit.suffix().is_empty() => Some(lit.clone()),
        _ => {
            errors.spanned(
                value,
                format!(
                    "`{}` takes a string literal; write `{}`",
                    key.name(),
                    key.example()
                ),
            );
            None
        }
    }
}

/// The name of a string-valued choice, checked against `options`.
fn parse_choice<T: Copy>(
    value: &Expr,
    key: Key,
    errors: &mut Errors,
    what: &str,
    options: &[(&str, T)],
) -> Option<T> {
    let lit = parse_str(value, key, errors)?;
    let name = lit.value();
    let found = options.iter().find(|(option, _)| *option == name);
    if found.is_none() {
        let expected = options
            .iter()
            .map(|(option, _)| format!("`{option}`"))
            .collect::<Vec<_>>()
            .join(", ");
        errors.spanned(
            &lit,
            format!("unknown {what} `{name}`; expected one of {expected}"),
        );
    }
    found.map(|(_, value)| *value)
}

fn parse_route(value: &Expr, key: Key, errors: &mut Errors) -> Option<Route> {
    let literal = parse_str(value, key, errors)?;
    match PathTemplate::parse(&literal.value()) {
        Ok(template) => Some(Route { literal, template }),
        Err(message) => {
            errors.spanned(&literal, message);
            None
        }
    }
}

fn parse_protocols(value: &Expr, key: Key, errors: &mut Errors) -> Option<Vec<LitStr>> {
    let Some(list) = array(value) else {
        errors.spanned(
            value,
            format!(
                "`{}` takes a list of string literals; write `{}`",
                key.name(),
                key.example()
            ),
        );
        return None;
    };
    if list.elems.is_empty() {
        errors.spanned(
            list,
            format!(
                "`{}` needs at least one subprotocol; write `protocols = [\"chat.v1\"]` or \
                 remove the argument",
                key.name()
            ),
        );
        return None;
    }
    let mut protocols: Vec<LitStr> = Vec::with_capacity(list.elems.len());
    let mut valid = true;
    for elem in &list.elems {
        let lit = match literal(elem) {
            Some(Lit::Str(lit)) if lit.suffix().is_empty() => lit,
            _ => {
                errors.spanned(
                    elem,
                    format!(
                        "`{}` takes string literals; write `{}`",
                        key.name(),
                        key.example()
                    ),
                );
                valid = false;
                continue;
            }
        };
        let protocol = lit.value();
        if !http::is_token(&protocol) {
            let problem = if protocol.is_empty() {
                "a subprotocol cannot be empty".to_owned()
            } else {
                format!(
                    "`{protocol}` is not a valid subprotocol: it is sent in \
                     `Sec-WebSocket-Protocol`, so it must be an HTTP token without spaces, \
                     commas or other separators"
                )
            };
            errors.spanned(lit, format!("{problem}; write a word like `\"chat.v1\"`"));
            valid = false;
        } else if protocols.iter().any(|seen| seen.value() == protocol) {
            errors.spanned(
                lit,
                format!("duplicate subprotocol `{protocol}`; list it once"),
            );
            valid = false;
        } else {
            protocols.push(lit.clone());
        }
    }
    valid.then_some(protocols)
}

/// The `[...]` of a list argument.
fn array(value: &Expr) -> Option<&ExprArray> {
    match value {
        Expr::Array(array) if array.attrs.is_empty() => Some(array),
        // A `$list:expr` of a `macro_rules!` arrives wrapped in a group.
        Expr::Group(group) => array(&group.expr),
        _ => None,
    }
}

/// The type of `user = AppUser`. Rules about it that involve the auth scheme
/// or the fields live in `model`.
fn parse_user(value: &Value, key: Key, errors: &mut Errors) -> Option<Type> {
    match value {
        Value::Type(ty) => Some(ty.clone()),
        Value::Expr(expr) => {
            // A string that holds a type: suggest the type itself.
            let written = match literal(expr) {
                Some(Lit::Str(lit)) if lit.parse::<Type>().is_ok() => {
                    format!("{} = {}", key.name(), lit.value().trim())
                }
                _ => key.example().to_owned(),
            };
            errors.spanned(
                expr,
                format!(
                    "`{}` takes a type, not a string; write `{written}`",
                    key.name()
                ),
            );
            None
        }
    }
}

/// `auth = "token"`, or a stack of schemes, `auth = ["session", "token"]`,
/// whose order is their precedence. Every bad entry of a stack is reported.
fn parse_auth(value: &Expr, key: Key, errors: &mut Errors) -> Option<Auth> {
    let schemes: Vec<(&str, &'static AuthScheme)> = AuthScheme::ALL
        .iter()
        .map(|scheme| (scheme.name, scheme))
        .collect();
    let Some(list) = array(value) else {
        let scheme = parse_choice(value, key, errors, "auth scheme", &schemes)?;
        return Some(Auth {
            schemes: vec![scheme],
        });
    };
    const EXAMPLE: &str = r#"auth = ["session", "token"]"#;
    match list.elems.len() {
        0 => {
            errors.spanned(
                list,
                format!(
                    "an auth stack needs at least two schemes; write `{EXAMPLE}`, or \
                     `auth = \"none\"` for a consumer without auth"
                ),
            );
            return None;
        }
        1 => {
            // The one scheme as a plain string, when it is one.
            let fix = match literal(&list.elems[0]) {
                Some(Lit::Str(lit)) if lit.suffix().is_empty() => {
                    format!("auth = {}", lit.token())
                }
                _ => key.example().to_owned(),
            };
            errors.spanned(
                list,
                format!(
                    "an auth stack needs at least two schemes; for one scheme write `{fix}`, \
                     without the brackets"
                ),
            );
            return None;
        }
        _ => {}
    }
    let mut stack: Vec<&'static AuthScheme> = Vec::with_capacity(list.elems.len());
    let mut valid = true;
    for elem in &list.elems {
        let lit = match literal(elem) {
            Some(Lit::Str(lit)) if lit.suffix().is_empty() => lit,
            _ => {
                errors.spanned(
                    elem,
                    format!("`auth` takes string literals; write `{EXAMPLE}`"),
                );
                valid = false;
                continue;
            }
        };
        let name = lit.value();
        let Some(&(_, scheme)) = schemes.iter().find(|(option, _)| *option == name) else {
            // The message of `auth = "..."`, listing every scheme.
            parse_choice(elem, key, errors, "auth scheme", &schemes);
            valid = false;
            continue;
        };
        if !scheme.authenticates() {
            errors.spanned(
                lit,
                format!(
                    "`{name}` cannot be stacked: a stack lists the credentials a client may \
                     authenticate with, and `#[requires_auth]` decides whether clients without \
                     any get in; remove `\"{name}\"` from the list"
                ),
            );
            valid = false;
        } else if stack.iter().any(|seen| seen.name == name) {
            errors.spanned(lit, format!("duplicate auth scheme `{name}`; list it once"));
            valid = false;
        } else if let Some(reader) = stack
            .iter()
            .find(|seen| seen.reads_tokens && scheme.reads_tokens)
        {
            errors.spanned(
                lit,
                format!(
                    "`{name}` and `{}` cannot be stacked: both read the token carriers \
                     (`Authorization`, the subprotocol marker, `?token=`), so every token would \
                     be checked by both and refused by one; keep one of them",
                    reader.name
                ),
            );
            valid = false;
        } else {
            stack.push(scheme);
        }
    }
    valid.then_some(Auth { schemes: stack })
}

fn parse_reject(value: &Expr, key: Key, errors: &mut Errors) -> Option<Reject> {
    parse_choice(value, key, errors, "reject mode", Reject::ALL)
}

fn parse_bool(value: &Expr, key: Key, errors: &mut Errors) -> Option<bool> {
    if let Some(Lit::Bool(lit)) = literal(value) {
        return Some(lit.value);
    }
    errors.spanned(
        value,
        format!(
            "`{}` takes `true` or `false`; write `{}`",
            key.name(),
            key.example()
        ),
    );
    None
}

fn parse_token_protocol(value: &Expr, key: Key, errors: &mut Errors) -> Option<LitStr> {
    let lit = parse_str(value, key, errors)?;
    if http::is_token(&lit.value()) {
        return Some(lit);
    }
    errors.spanned(
        &lit,
        "`token_protocol` is sent in `Sec-WebSocket-Protocol`, so it must be an HTTP token \
         without spaces, commas or other separators; write a word like `\"bearer\"`",
    );
    None
}

/// Which page origins may open the socket.
#[derive(Debug, Clone)]
pub(crate) enum OriginsArg {
    /// `"same-host"`.
    SameHost,
    /// `"any"`: no check, spelled out.
    Any,
    /// Exactly these; each entry is checked when the consumer's `Spec` is
    /// evaluated, at the entry's span.
    List(Vec<LitStr>),
}

fn parse_origins(value: &Expr, key: Key, errors: &mut Errors) -> Option<OriginsArg> {
    if let Some(list) = array(value) {
        let mut entries = Vec::with_capacity(list.elems.len());
        for elem in &list.elems {
            match literal(elem) {
                Some(Lit::Str(lit)) if lit.suffix().is_empty() => entries.push(lit.clone()),
                _ => {
                    errors.spanned(
                        elem,
                        format!(
                            "`{}` takes string literals; write `{}`",
                            key.name(),
                            key.example()
                        ),
                    );
                    return None;
                }
            }
        }
        return Some(OriginsArg::List(entries));
    }
    let options = [
        ("same-host", OriginsArg::SameHost),
        ("any", OriginsArg::Any),
    ];
    let lit = parse_str(value, key, errors)?;
    let name = lit.value();
    match options.into_iter().find(|(option, _)| *option == name) {
        Some((_, origins)) => Some(origins),
        None => {
            errors.spanned(
                &lit,
                format!(
                    "unknown origin policy `{name}`; write `origins = \"same-host\"`, \
                     `origins = \"any\"` (no check) or a list of origins like `{}`",
                    key.example()
                ),
            );
            None
        }
    }
}

/// What a handshake without `Origin` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissingOriginArg {
    Allow,
    Refuse,
}

fn parse_missing_origin(value: &Expr, key: Key, errors: &mut Errors) -> Option<MissingOriginArg> {
    let options = [
        ("allow", MissingOriginArg::Allow),
        ("refuse", MissingOriginArg::Refuse),
    ];
    parse_choice(value, key, errors, "missing-origin policy", &options)
}

/// What a connection with a full inbox does (`overflow = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Close 1013 (the runtime's default).
    Close,
    /// Drop the oldest event and count it.
    DropOldest,
}

fn parse_overflow(value: &Expr, key: Key, errors: &mut Errors) -> Option<Overflow> {
    let options = [
        ("close", Overflow::Close),
        ("drop-oldest", Overflow::DropOldest),
    ];
    parse_choice(value, key, errors, "overflow policy", &options)
}

/// A positive count.
fn parse_count(value: &Expr, key: Key, errors: &mut Errors) -> Option<u64> {
    let Some(Lit::Int(lit)) = literal(value) else {
        errors.spanned(
            value,
            format!(
                "`{}` takes an integer literal; write `{}`",
                key.name(),
                key.example()
            ),
        );
        return None;
    };
    match lit.base10_parse::<u32>() {
        Ok(0) => errors.spanned(
            lit,
            format!(
                "`{}` must be at least 1; write `{}`",
                key.name(),
                key.example()
            ),
        ),
        Ok(count) => return Some(count.into()),
        Err(_) => errors.spanned(
            lit,
            format!(
                "`{}` must fit in a `u32`; write `{}`",
                key.name(),
                key.example()
            ),
        ),
    }
    None
}

/// A cap: a positive count, or `"unlimited"` (`None`).
fn parse_cap(value: &Expr, key: Key, errors: &mut Errors) -> Option<Option<u64>> {
    match literal(value) {
        Some(Lit::Str(lit)) if lit.value() == "unlimited" => Some(None),
        Some(Lit::Str(lit)) => {
            errors.spanned(
                lit,
                format!(
                    "`{}` takes a number or `\"unlimited\"`; write `{}`",
                    key.name(),
                    key.example()
                ),
            );
            None
        }
        _ => parse_count(value, key, errors).map(Some),
    }
}

/// One entry of `groups = [...]`: literal text and `{field}` placeholders.
#[derive(Debug, Clone)]
pub(crate) struct GroupName {
    /// The literal as written, for spans.
    pub(crate) literal: LitStr,
    /// The parts, in order.
    pub(crate) parts: Vec<GroupPart>,
}

/// A piece of a group name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupPart {
    /// Text taken as it is.
    Text(String),
    /// `{name}`: the value of the field `name`.
    Field(String),
}

fn parse_groups(value: &Expr, key: Key, errors: &mut Errors) -> Option<Vec<GroupName>> {
    let Some(list) = array(value) else {
        errors.spanned(
            value,
            format!(
                "`{}` takes a list of string literals; write `{}`",
                key.name(),
                key.example()
            ),
        );
        return None;
    };
    let mut groups = Vec::with_capacity(list.elems.len());
    let mut valid = true;
    for elem in &list.elems {
        let Some(Lit::Str(lit)) = literal(elem) else {
            errors.spanned(
                elem,
                format!(
                    "`{}` takes string literals; write `{}`",
                    key.name(),
                    key.example()
                ),
            );
            valid = false;
            continue;
        };
        match parse_group_name(&lit.value()) {
            Ok(parts) => groups.push(GroupName {
                literal: lit.clone(),
                parts,
            }),
            Err(message) => {
                errors.spanned(lit, message);
                valid = false;
            }
        }
    }
    valid.then_some(groups)
}

/// Splits `"room:{room}"` into text and placeholders; `{{` and `}}` stand
/// for braces.
pub(crate) fn parse_group_name(text: &str) -> Result<Vec<GroupPart>, String> {
    if text.is_empty() {
        return Err("a group name cannot be empty; write a name like `\"lobby\"`".to_owned());
    }
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(format!(
                        "unclosed `{{{name}` in a group name; write `{{{name}}}`, or `{{{{` for a \
                         literal brace"
                    ));
                }
                let is_ident = name
                    .chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_alphabetic())
                    && name.chars().all(|c| c == '_' || c.is_alphanumeric());
                if !is_ident {
                    return Err(format!(
                        "`{{{name}` is not a field placeholder; write `{{field}}` with the name \
                         of one of the consumer's fields, or `{{{{` for a literal brace"
                    ));
                }
                if !literal.is_empty() {
                    parts.push(GroupPart::Text(std::mem::take(&mut literal)));
                }
                parts.push(GroupPart::Field(name));
            }
            '}' => {
                return Err(
                    "unmatched `}` in a group name; write `}}` for a literal brace".to_owned(),
                );
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(GroupPart::Text(literal));
    }
    Ok(parts)
}

fn parse_size(value: &Expr, key: Key, errors: &mut Errors) -> Option<u64> {
    let Some(Lit::Int(lit)) = literal(value) else {
        errors.spanned(
            value,
            format!(
                "`{}` takes an integer literal, in bytes; write `{}`",
                key.name(),
                key.example()
            ),
        );
        return None;
    };
    if !matches!(lit.suffix(), "" | "usize") {
        errors.spanned(
            lit,
            format!(
                "`{}` is a `usize`; remove the `{}` suffix",
                key.name(),
                lit.suffix()
            ),
        );
        return None;
    }
    match lit.base10_parse::<u64>() {
        Ok(0) => errors.spanned(
            lit,
            format!(
                "`{}` must be at least 1 byte; write `{}`",
                key.name(),
                key.example()
            ),
        ),
        Ok(bytes) => return Some(bytes),
        Err(error) => errors.push(error),
    }
    None
}

fn parse_timeout(value: &Expr, key: Key, errors: &mut Errors) -> Option<u64> {
    let lit = parse_str(value, key, errors)?;
    match parse_duration_ms(&lit.value()).and_then(nonzero) {
        Ok(millis) => Some(millis),
        Err(message) => {
            errors.spanned(&lit, format!("`{}` {message}", key.name()));
            None
        }
    }
}

/// Like [`parse_timeout`], but zero is allowed: it turns the timer off.
fn parse_interval(value: &Expr, key: Key, errors: &mut Errors) -> Option<u64> {
    let lit = parse_str(value, key, errors)?;
    match parse_duration_ms(&lit.value()) {
        Ok(millis) => Some(millis),
        Err(message) => {
            errors.spanned(&lit, format!("`{}` {message}", key.name()));
            None
        }
    }
}

/// How to write a duration, for error messages.
const HOW: &str =
    "write a whole number of `ms`, `s`, `m` or `h`, like `\"500ms\"`, `\"5s\"` or `\"5m\"`";

/// Refuses a zero duration.
fn nonzero(millis: u64) -> Result<u64, String> {
    match millis {
        0 => Err(format!("must be longer than zero; {HOW}")),
        millis => Ok(millis),
    }
}

/// Parses `"500ms"`, `"5s"`, `"5m"` or `"1h"` into milliseconds; zero is
/// allowed here. The error completes a sentence that starts with the
/// argument's name.
fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let per_unit = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60 * 1000,
        "h" => 60 * 60 * 1000,
        _ => return Err(format!("cannot read `{text}` as a duration; {HOW}")),
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(per_unit));
    match millis {
        None => Err(format!("cannot read `{text}` as a duration; {HOW}")),
        Some(millis) => Ok(millis),
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthScheme, ConsumerArgs, Reject, parse, parse_duration_ms};
    use crate::errors::Errors;
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::LitStr;

    fn parse_ok(tokens: TokenStream) -> ConsumerArgs {
        let mut errors = Errors::new();
        let args = parse(tokens, &mut errors);
        assert_eq!(errors.messages(), Vec::<String>::new());
        args
    }

    fn messages(tokens: TokenStream) -> Vec<String> {
        let mut errors = Errors::new();
        parse(tokens, &mut errors);
        errors.messages()
    }

    #[test]
    fn parses_every_argument() {
        let args = parse_ok(quote! {
            path = "/ws/chat/{room}",
            protocols = ["chat.v2", "chat.v1"],
            auth = "token",
            user = crate::users::AppUser,
            reject = "close",
            query_token = true,
            token_protocol = "jwt",
            max_message_size = 65_536,
            auth_timeout = "5s",
            ping_interval = "0s",
            pong_timeout = "1m",
            idle_timeout = "2h",
        });
        let route = args.path.unwrap().value.unwrap();
        assert_eq!(route.literal.value(), "/ws/chat/{room}");
        assert!(route.template.capture("room").is_some());
        let protocols: Vec<String> = args
            .protocols
            .unwrap()
            .value
            .unwrap()
            .iter()
            .map(LitStr::value)
            .collect();
        assert_eq!(protocols, ["chat.v2", "chat.v1"]);
        assert_eq!(
            args.auth.unwrap().value.unwrap().written(),
            r#"auth = "token""#
        );
        let user = args.user.unwrap().value.unwrap();
        assert_eq!(quote!(#user).to_string(), "crate :: users :: AppUser");
        assert_eq!(args.reject.unwrap().value, Some(Reject::Close));
        assert_eq!(args.query_token.unwrap().value, Some(true));
        assert_eq!(args.token_protocol.unwrap().value.unwrap().value(), "jwt");
        assert_eq!(args.max_message_size.unwrap().value, Some(65_536));
        assert_eq!(args.auth_timeout_ms.unwrap().value, Some(5_000));
        assert_eq!(args.ping_interval_ms.unwrap().value, Some(0));
        assert_eq!(args.pong_timeout_ms.unwrap().value, Some(60_000));
        assert_eq!(args.idle_timeout_ms.unwrap().value, Some(7_200_000));
        assert!(!args.incomplete);
    }

    #[test]
    fn literals_from_macro_rules_are_grouped() {
        let route = proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!("/ws"));
        let args = parse_ok(quote!(path = #route));
        assert_eq!(args.path.unwrap().value.unwrap().literal.value(), "/ws");
    }

    #[test]
    fn absent_arguments_stay_none() {
        let args = parse_ok(quote!(path = "/"));
        assert!(args.auth.is_none() && args.reject.is_none() && args.query_token.is_none());
        assert!(parse_ok(quote!()).path.is_none());
    }

    #[test]
    fn default_scheme_is_none() {
        assert_eq!(AuthScheme::DEFAULT.name, "none");
        assert!(!AuthScheme::DEFAULT.authenticates());
    }

    /// The schemes of `auth = [...]`, by name, in order.
    fn stack(tokens: TokenStream) -> Vec<&'static str> {
        let args = parse_ok(tokens);
        let auth = args.auth.unwrap().value.unwrap();
        auth.schemes.iter().map(|scheme| scheme.name).collect()
    }

    #[test]
    fn auth_stacks() {
        assert_eq!(
            stack(quote!(auth = ["session", "token"])),
            ["session", "token"]
        );
        assert_eq!(
            stack(quote!(auth = ["token", "session",])),
            ["token", "session"]
        );
        assert_eq!(stack(quote!(auth = ["jwt", "session"])), ["jwt", "session"]);
        let auth = parse_ok(quote!(auth = ["session", "jwt"]))
            .auth
            .unwrap()
            .value
            .unwrap();
        assert_eq!(auth.written(), r#"auth = ["session", "jwt"]"#);
        assert!(auth.authenticates() && auth.reads_tokens() && !auth.always_session());
        let list =
            proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!(["session", "token"]));
        assert_eq!(stack(quote!(auth = #list)), ["session", "token"]);
        let session = parse_ok(quote!(auth = "session"))
            .auth
            .unwrap()
            .value
            .unwrap();
        assert!(session.always_session() && !session.reads_tokens());
    }

    #[test]
    fn auth_stack_mistakes() {
        assert_eq!(
            messages(quote!(auth = [])),
            [
                "an auth stack needs at least two schemes; write `auth = [\"session\", \"token\"]`, \
                 or `auth = \"none\"` for a consumer without auth"
            ]
        );
        assert_eq!(
            messages(quote!(auth = ["token"])),
            [
                "an auth stack needs at least two schemes; for one scheme write \
                 `auth = \"token\"`, without the brackets"
            ]
        );
        assert_eq!(
            messages(quote!(auth = ["session", "session"])),
            ["duplicate auth scheme `session`; list it once"]
        );
        assert_eq!(
            messages(quote!(auth = ["none", "token"])),
            [
                "`none` cannot be stacked: a stack lists the credentials a client may \
                 authenticate with, and `#[requires_auth]` decides whether clients without any \
                 get in; remove `\"none\"` from the list"
            ]
        );
        assert_eq!(
            messages(quote!(auth = ["session", "cookie"])),
            ["unknown auth scheme `cookie`; expected one of `none`, `token`, `jwt`, `session`"]
        );
        assert_eq!(
            messages(quote!(auth = ["token", "session", "jwt"])),
            [
                "`jwt` and `token` cannot be stacked: both read the token carriers \
                 (`Authorization`, the subprotocol marker, `?token=`), so every token would be \
                 checked by both and refused by one; keep one of them"
            ]
        );
        // Every bad entry, each at its own literal; the list is not used.
        let mut errors = Errors::new();
        let args = parse(
            quote!(auth = [session, "tokn", "none", "token"]),
            &mut errors,
        );
        let messages = errors.messages();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("`auth` takes string literals"));
        assert!(messages[1].starts_with("unknown auth scheme `tokn`"));
        assert!(messages[2].starts_with("`none` cannot be stacked"));
        assert!(args.auth.unwrap().value.is_none());
    }

    #[test]
    fn unknown_argument_lists_the_valid_ones() {
        assert_eq!(
            messages(quote!(pth = "/ws")),
            [
                "unknown consumer argument `pth`; expected one of `path`, `protocols`, `auth`, \
              `user`, `reject`, `query_token`, `token_protocol`, `max_message_size`, \
              `auth_timeout`, `ping_interval`, `pong_timeout`, `idle_timeout`, `groups`, `outbox`, `overflow`, `max_per_user`, `max_per_peer`, `origins`, `missing_origin`, `revalidate`, `messages_per_second`"
            ]
        );
    }

    #[test]
    fn duplicate_argument_keeps_the_first() {
        let mut errors = Errors::new();
        let args = parse(quote!(path = "/a", path = "/b"), &mut errors);
        assert_eq!(
            errors.messages(),
            ["duplicate consumer argument `path`; give it once"]
        );
        assert_eq!(args.path.unwrap().value.unwrap().literal.value(), "/a");
    }

    #[test]
    fn collects_every_independent_error() {
        assert_eq!(
            messages(quote!(pth = "/", auth = "tokn", reject = 1, path = "ws")),
            [
                "unknown consumer argument `pth`; expected one of `path`, `protocols`, `auth`, \
                 `user`, `reject`, `query_token`, `token_protocol`, `max_message_size`, \
                 `auth_timeout`, `ping_interval`, `pong_timeout`, `idle_timeout`, `groups`, `outbox`, `overflow`, `max_per_user`, `max_per_peer`, `origins`, `missing_origin`, `revalidate`, `messages_per_second`",
                "unknown auth scheme `tokn`; expected one of `none`, `token`, `jwt`, `session`",
                "`reject` takes a string literal; write `reject = \"close\"`",
                "a route must start with `/`; write `\"/ws\"`",
            ]
        );
    }

    #[test]
    fn wrong_literal_kinds() {
        assert_eq!(
            messages(quote!(path = 5)),
            ["`path` takes a string literal; write `path = \"/ws/chat/{room}\"`"]
        );
        assert_eq!(
            messages(quote!(query_token = "yes")),
            ["`query_token` takes `true` or `false`; write `query_token = true`"]
        );
        assert_eq!(
            messages(quote!(max_message_size = "1k")),
            [
                "`max_message_size` takes an integer literal, in bytes; write `max_message_size = 65536`"
            ]
        );
        assert_eq!(
            messages(quote!(auth = token)),
            ["`auth` takes a string literal; write `auth = \"token\"`"]
        );
    }

    #[test]
    fn missing_values() {
        assert_eq!(
            messages(quote!(query_token)),
            ["`query_token` needs a value; write `query_token = true`"]
        );
        assert_eq!(
            messages(quote!(auth("token"), path = "/")),
            ["`auth` needs a value; write `auth = \"token\"`"]
        );
    }

    #[test]
    fn unknown_choices() {
        assert_eq!(
            messages(quote!(reject = "404")),
            ["unknown reject mode `404`; expected one of `http`, `close`"]
        );
    }

    #[test]
    fn invalid_values() {
        assert_eq!(
            messages(quote!(max_message_size = 0)),
            ["`max_message_size` must be at least 1 byte; write `max_message_size = 65536`"]
        );
        assert_eq!(
            messages(quote!(max_message_size = 10u8)),
            ["`max_message_size` is a `usize`; remove the `u8` suffix"]
        );
        assert!(messages(quote!(max_message_size = 10usize)).is_empty());
        assert!(
            messages(quote!(token_protocol = "a b"))[0].starts_with("`token_protocol` is sent")
        );
        assert!(messages(quote!(token_protocol = ""))[0].starts_with("`token_protocol` is sent"));
        assert_eq!(
            messages(quote!(auth_timeout = "0s")),
            [
                "`auth_timeout` must be longer than zero; write a whole number of `ms`, `s`, \
                 `m` or `h`, like `\"500ms\"`, `\"5s\"` or `\"5m\"`"
            ]
        );
        // Zero turns the optional timers off (pings, the idle timeout,
        // revalidation); the others must be longer.
        for key in [
            quote!(ping_interval),
            quote!(idle_timeout),
            quote!(revalidate),
        ] {
            assert!(messages(quote!(#key = "0ms")).is_empty());
        }
        for key in [quote!(pong_timeout), quote!(auth_timeout)] {
            let message = &messages(quote!(#key = "0s"))[0];
            assert!(message.ends_with("must be longer than zero; write a whole number of `ms`, `s`, `m` or `h`, like `\"500ms\"`, `\"5s\"` or `\"5m\"`"), "{message}");
        }
        assert!(
            messages(quote!(ping_interval = "20"))[0]
                .starts_with("`ping_interval` cannot read `20`")
        );
        assert!(messages(quote!(idle_timeout = 300))[0].starts_with("`idle_timeout`"));
    }

    #[test]
    fn syntax_errors_mark_the_arguments_incomplete() {
        let mut errors = Errors::new();
        let args = parse(quote!(auth = "token" path = "/"), &mut errors);
        assert!(args.incomplete);
        assert_eq!(errors.messages(), ["expected `,`"]);

        let mut errors = Errors::new();
        let args = parse(quote!("/ws/chat"), &mut errors);
        assert!(args.incomplete);
        assert_eq!(
            errors.messages(),
            ["name the route argument: write `path = \"/ws/chat\"`"]
        );
    }

    #[test]
    fn protocols() {
        let example = "write `protocols = [\"chat.v2\", \"chat.v1\"]`";
        assert_eq!(
            messages(quote!(protocols = "chat.v1")),
            [format!(
                "`protocols` takes a list of string literals; {example}"
            )]
        );
        assert_eq!(
            messages(quote!(protocols = [])),
            [
                "`protocols` needs at least one subprotocol; write `protocols = [\"chat.v1\"]` \
                 or remove the argument"
            ]
        );
        // Every bad entry is reported, each at its literal.
        assert_eq!(
            messages(quote!(protocols = ["chat v1", chat, "", "a", "a", "b"s])),
            [
                "`chat v1` is not a valid subprotocol: it is sent in `Sec-WebSocket-Protocol`, \
                 so it must be an HTTP token without spaces, commas or other separators; write \
                 a word like `\"chat.v1\"`"
                    .to_owned(),
                format!("`protocols` takes string literals; {example}"),
                "a subprotocol cannot be empty; write a word like `\"chat.v1\"`".to_owned(),
                "duplicate subprotocol `a`; list it once".to_owned(),
                format!("`protocols` takes string literals; {example}"),
            ]
        );
        let mut errors = Errors::new();
        let args = parse(quote!(protocols = ["a", "b b"]), &mut errors);
        assert_eq!(errors.messages().len(), 1);
        assert!(
            args.protocols.unwrap().value.is_none(),
            "a list with a bad entry is not used"
        );
        // Trailing commas and lists from a `macro_rules!` `$list:expr`.
        assert!(messages(quote!(protocols = ["a",])).is_empty());
        let list = proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!(["a"]));
        assert!(messages(quote!(protocols = #list)).is_empty());
    }

    #[test]
    fn user_takes_a_type() {
        for ty in [
            quote!(AppUser),
            quote!(crate::User),
            quote!(Vec<u8>),
            quote!(<X as Y>::User),
        ] {
            let args = parse_ok(quote!(user = #ty, path = "/"));
            assert!(args.user.unwrap().value.is_some(), "{ty}");
        }
        assert_eq!(
            messages(quote!(user = "AppUser", path = "/")),
            ["`user` takes a type, not a string; write `user = AppUser`"]
        );
        assert_eq!(
            messages(quote!(user = "not a type")),
            ["`user` takes a type, not a string; write `user = AppUser`"]
        );
        assert_eq!(
            messages(quote!(user)),
            ["`user` needs a value; write `user = AppUser`"]
        );
        assert_eq!(
            messages(quote!(user = A, user = B)),
            ["duplicate consumer argument `user`; give it once"]
        );
        // Anything else after `user =` is a syntax error.
        let mut errors = Errors::new();
        let args = parse(quote!(user = 5), &mut errors);
        assert!(args.incomplete);
        assert_eq!(errors.messages().len(), 1);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("5s"), Ok(5_000));
        assert_eq!(parse_duration_ms("1ms"), Ok(1));
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
        for bad in [
            "",
            "5",
            "ms",
            "5 s",
            "5min",
            "5M",
            "1.5s",
            "-1s",
            "5sec",
            "99999999999999999999s",
        ] {
            assert!(
                parse_duration_ms(bad)
                    .unwrap_err()
                    .starts_with("cannot read"),
                "{bad}"
            );
        }
        assert!(super::nonzero(0).unwrap_err().starts_with("must be longer"));
        assert!(
            parse_duration_ms("18446744073709552s")
                .unwrap_err()
                .starts_with("cannot read")
        );
    }
}
