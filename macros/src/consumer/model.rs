//! The validated consumer: every rule that relates two arguments, or the
//! arguments and the struct, and the model that `expand` turns into code.
//!
//! Checks whose input is already broken (an invalid route, an unknown auth
//! scheme) are skipped, because that input has its own error.

use super::args::{
    Arg, Auth, AuthScheme, ConsumerArgs, GroupName, GroupPart, MissingOriginArg, OriginsArg,
    Overflow, Reject, Route,
};
use super::fields::{ConsumerField, Source, unraw};
use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, GenericArgument, Ident, ItemStruct, LitStr, PathArguments, Type};

/// A consumer that passed every check.
pub(crate) struct Consumer {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The route literal, already checked.
    pub(crate) route: LitStr,
    /// The subprotocols the consumer speaks, when given.
    pub(crate) protocols: Option<Vec<LitStr>>,
    /// The auth scheme, or the stack of them.
    pub(crate) auth: Auth,
    /// The user type; `None` when the scheme does not authenticate.
    pub(crate) user: Option<Type>,
    /// Whether `#[requires_auth]` was given.
    pub(crate) requires_auth: bool,
    /// How auth failures are reported.
    pub(crate) reject: Reject,
    /// Whether `?token=` is a carrier.
    pub(crate) query_token: bool,
    /// The `Sec-WebSocket-Protocol` marker, when given.
    pub(crate) token_protocol: Option<LitStr>,
    /// The message size limit in bytes, when given.
    pub(crate) max_message_size: Option<u64>,
    /// The auth timeout in milliseconds, when given.
    pub(crate) auth_timeout_ms: Option<u64>,
    /// The keepalive ping interval in milliseconds (0: off), when given.
    pub(crate) ping_interval_ms: Option<u64>,
    /// The pong timeout in milliseconds, when given.
    pub(crate) pong_timeout_ms: Option<u64>,
    /// The idle timeout in milliseconds, when given.
    pub(crate) idle_timeout_ms: Option<u64>,
    /// The inbox capacity, when given.
    pub(crate) outbox: Option<u64>,
    /// The overflow policy, when given.
    pub(crate) overflow: Option<Overflow>,
    /// The per-user cap (`Some(None)`: unlimited), when given.
    pub(crate) max_per_user: Option<Option<u64>>,
    /// The per-peer cap (`Some(None)`: unlimited), when given.
    pub(crate) max_per_peer: Option<Option<u64>>,
    /// The declared groups, their placeholders checked against the fields.
    pub(crate) groups: Vec<Group>,
    /// The origin policy, when given.
    pub(crate) origins: Option<OriginsArg>,
    /// The missing-origin policy, when given.
    pub(crate) missing_origin: Option<MissingOriginArg>,
    /// The revalidation period in milliseconds, when given.
    pub(crate) revalidate_ms: Option<u64>,
    /// The message rate limit (`Some(None)`: unlimited), when given.
    pub(crate) messages_per_second: Option<Option<u64>>,
    /// The fields, in declaration order.
    pub(crate) fields: Vec<ConsumerField>,
}

/// Checks the parts of a consumer against each other, recording every
/// violation in `errors`. Returns the model only if nothing at all is wrong,
/// including errors recorded before this call.
pub(crate) fn validate(
    input: &ItemStruct,
    mut args: ConsumerArgs,
    requires_auth: Option<&Attribute>,
    fields: Vec<ConsumerField>,
    errors: &mut Errors,
) -> Option<Consumer> {
    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "a consumer cannot be generic; remove the generic parameters and give the fields \
             concrete types",
        );
    }

    let route = match args.path.take() {
        Some(arg) => arg.value,
        None if args.incomplete => None,
        None => {
            errors.at(
                proc_macro2::Span::call_site(),
                "`#[consumer]` needs a route; add `path = \"/ws/chat\"` to its arguments",
            );
            None
        }
    };
    if let Some(route) = &route {
        check_route_fields(input, route, &fields, errors);
    }

    let auth = match args.auth.take() {
        Some(arg) => arg.value,
        None => Some(Auth::default_scheme()),
    };
    let user = match &auth {
        Some(auth) => check_auth(input, auth, &args, requires_auth, &fields, errors),
        None => None,
    };
    if let Some(auth) = &auth {
        check_protocols(auth, &args, errors);
        check_revalidate(auth, &args, errors);
    }
    let groups = match value(args.groups.take()) {
        Some(groups) => {
            let sessions = auth.as_ref().is_some_and(Auth::always_session);
            check_groups(groups, &fields, requires_auth.is_some(), sessions, errors)
        }
        None => Vec::new(),
    };

    if !errors.is_empty() {
        return None;
    }
    Some(Consumer {
        ident: input.ident.clone(),
        route: route?.literal,
        protocols: value(args.protocols),
        auth: auth?,
        user,
        requires_auth: requires_auth.is_some(),
        reject: value(args.reject).unwrap_or(Reject::Http),
        query_token: value(args.query_token).unwrap_or(false),
        token_protocol: value(args.token_protocol),
        max_message_size: value(args.max_message_size),
        auth_timeout_ms: value(args.auth_timeout_ms),
        ping_interval_ms: value(args.ping_interval_ms),
        pong_timeout_ms: value(args.pong_timeout_ms),
        idle_timeout_ms: value(args.idle_timeout_ms),
        outbox: value(args.outbox),
        overflow: value(args.overflow),
        max_per_user: value(args.max_per_user),
        max_per_peer: value(args.max_per_peer),
        groups,
        origins: value(args.origins),
        missing_origin: value(args.missing_origin),
        revalidate_ms: value(args.revalidate_ms),
        messages_per_second: value(args.messages_per_second),
        fields,
    })
}

/// A declared group: its literal, for spans, and its parts.
pub(crate) struct Group {
    pub(crate) literal: LitStr,
    pub(crate) parts: Vec<Part>,
}

/// A piece of a declared group's name.
pub(crate) enum Part {
    Text(String),
    /// A field's value, by `Display`.
    Field(Ident),
    /// The `#[user]` field, by its user id.
    UserId(Ident),
    /// `{session}`: the id of the session the connection was opened with.
    SessionId,
}

/// Every placeholder names a field; the user's only on a consumer that
/// requires auth (an anonymous connection has no user to name a group by).
fn check_groups(
    groups: Vec<GroupName>,
    fields: &[ConsumerField],
    requires_auth: bool,
    sessions: bool,
    errors: &mut Errors,
) -> Vec<Group> {
    let mut checked = Vec::with_capacity(groups.len());
    for group in groups {
        let mut parts = Vec::with_capacity(group.parts.len());
        for part in group.parts {
            match part {
                GroupPart::Text(text) => parts.push(Part::Text(text)),
                GroupPart::Field(name)
                    if name == "session"
                        && !fields.iter().any(|field| unraw(&field.ident) == name) =>
                {
                    if !sessions || !requires_auth {
                        errors.spanned(
                            &group.literal,
                            "`{session}` names a group after the connection's session, which \
                             only `auth = \"session\"` with `#[requires_auth]` guarantees; use \
                             that scheme, or name the group after a field",
                        );
                    }
                    parts.push(Part::SessionId);
                }
                GroupPart::Field(name) => {
                    let Some(field) = fields.iter().find(|field| unraw(&field.ident) == name)
                    else {
                        let known: Vec<String> = fields
                            .iter()
                            .map(|field| format!("`{}`", unraw(&field.ident)))
                            .collect();
                        let known = if known.is_empty() {
                            "the consumer has no fields".to_owned()
                        } else {
                            format!("its fields are {}", known.join(", "))
                        };
                        errors.spanned(
                            &group.literal,
                            format!(
                                "the group name names `{{{name}}}`, which is not a field of the \
                                 consumer; {known}"
                            ),
                        );
                        continue;
                    };
                    if matches!(field.source, Source::User) {
                        if !requires_auth {
                            errors.spanned(
                                &group.literal,
                                format!(
                                    "the group `{{{name}}}` is named after the user, and an \
                                     anonymous connection has none; add `#[requires_auth]` to \
                                     the consumer, or join it in `connect` when `cx.user()` is \
                                     `Some`"
                                ),
                            );
                        }
                        parts.push(Part::UserId(field.ident.clone()));
                    } else {
                        parts.push(Part::Field(field.ident.clone()));
                    }
                }
            }
        }
        checked.push(Group {
            literal: group.literal,
            parts,
        });
    }
    checked
}

fn value<T>(arg: Option<Arg<T>>) -> Option<T> {
    arg.and_then(|arg| arg.value)
}

/// The scheme suggested when one is missing.
fn suggested_scheme() -> &'static str {
    AuthScheme::ALL
        .iter()
        .find(|scheme| scheme.authenticates())
        .map_or("token", |scheme| scheme.name)
}

/// Every route capture has a `#[path]` field and every `#[path]` field names a
/// capture.
fn check_route_fields(
    input: &ItemStruct,
    route: &Route,
    fields: &[ConsumerField],
    errors: &mut Errors,
) {
    let template = &route.template;
    // A malformed field attribute may have been meant for any capture.
    let malformed = fields
        .iter()
        .any(|field| matches!(field.source, Source::Malformed));
    for capture in template.captures().filter(|_| !malformed) {
        let covered = fields.iter().any(
            |field| matches!(&field.source, Source::Path { name, .. } if *name == capture.name),
        );
        if covered {
            continue;
        }
        let namesake = fields
            .iter()
            .find(|field| unraw(&field.ident) == capture.name);
        let fix = match namesake {
            Some(field) if matches!(field.source, Source::Default) => {
                format!("mark the field `{}` with `#[path]`", capture.name)
            }
            Some(_) => format!(
                "add `#[path(\"{}\")] {}_param: String` to `{}`",
                capture.name,
                capture.name,
                unraw(&input.ident)
            ),
            None => format!(
                "add `{}` to `{}`",
                path_field_for(&capture.name),
                unraw(&input.ident)
            ),
        };
        errors.spanned(
            &route.literal,
            format!("route parameter `{capture}` has no field; {fix}"),
        );
    }

    let listed = template
        .captures()
        .map(|capture| format!("`{capture}`"))
        .collect::<Vec<_>>();
    for field in fields {
        let Source::Path { name, literal } = &field.source else {
            continue;
        };
        if template.capture(name).is_some() {
            continue;
        }
        let route = route.literal.value();
        let message = if listed.is_empty() {
            format!(
                "the route `{route}` has no parameters; add `{{{name}}}` to it or remove `#[path]`"
            )
        } else {
            format!(
                "the route `{route}` has no parameter `{{{name}}}`; its parameters are {}",
                listed.join(", ")
            )
        };
        match literal {
            Some(literal) => errors.spanned(literal, message),
            None => errors.spanned(&field.ident, message),
        }
    }
}

/// A field declaration that fills the capture `name`, as a suggestion.
fn path_field_for(name: &str) -> String {
    if syn::parse_str::<Ident>(name).is_ok() {
        format!("#[path] {name}: String")
    } else if matches!(name, "_" | "self" | "Self" | "super" | "crate") {
        format!(
            "#[path(\"{name}\")] {}_param: String",
            name.trim_start_matches('_')
        )
    } else {
        format!("#[path] r#{name}: String")
    }
}

/// A subprotocol must not be the token marker of a scheme that reads tokens:
/// a client offering it would be taken to send a token next.
/// `revalidate` on a scheme it does nothing for would promise a check
/// that never runs.
fn check_revalidate(auth: &Auth, args: &ConsumerArgs, errors: &mut Errors) {
    // `revalidate = "0s"` turns off an app default: it promises nothing.
    if let Some(arg) = &args.revalidate_ms
        && arg.value.is_some_and(|millis| millis > 0)
        && !auth.revalidates()
    {
        errors.spanned(
            &arg.key,
            format!(
                "`revalidate` re-reads sessions from their store, and {} has none: a token is \
                 revoked with `Tokens::revoke`, which closes its sockets at once, and a JWT's \
                 socket closes at its `exp`; remove `revalidate`, or authenticate with \
                 `auth = \"session\"`",
                auth.written()
            ),
        );
    }
}

fn check_protocols(auth: &Auth, args: &ConsumerArgs, errors: &mut Errors) {
    let Some(protocols) = args.protocols.as_ref().and_then(|arg| arg.value.as_ref()) else {
        return;
    };
    if !auth.reads_tokens() {
        return;
    }
    let (marker, given) = match &args.token_protocol {
        Some(arg) => match &arg.value {
            Some(marker) => (marker.value(), true),
            // An invalid marker has its own error.
            None => return,
        },
        None => (DEFAULT_TOKEN_PROTOCOL.to_owned(), false),
    };
    for protocol in protocols
        .iter()
        .filter(|protocol| protocol.value() == marker)
    {
        let message = if given {
            format!(
                "the subprotocol `{marker}` is also `token_protocol`, the marker a client sends \
                 before its token; rename one of them"
            )
        } else {
            format!(
                "the subprotocol `{marker}` is the default token marker of `{}`, which a \
                 client sends before its token; rename the subprotocol or choose another \
                 marker with `token_protocol = \"jwt\"`",
                auth.written()
            )
        };
        errors.spanned(protocol, message);
    }
}

/// The runtime's `Spec::new` default for `token_protocol`.
const DEFAULT_TOKEN_PROTOCOL: &str = "bearer";

/// The rules that tie the auth scheme, `#[requires_auth]`, the `#[user]`
/// field and `user = Type` together. Returns the user type when the scheme
/// authenticates.
fn check_auth(
    input: &ItemStruct,
    auth: &Auth,
    args: &ConsumerArgs,
    requires_auth: Option<&Attribute>,
    fields: &[ConsumerField],
    errors: &mut Errors,
) -> Option<Type> {
    let scheme = suggested_scheme();
    let users: Vec<&ConsumerField> = fields
        .iter()
        .filter(|field| matches!(field.source, Source::User))
        .collect();
    for extra in users.iter().skip(1) {
        if let Some(attr) = &extra.attr {
            errors.spanned(
                attr,
                "a consumer has one user; remove this second `#[user]`",
            );
        }
    }

    if !auth.authenticates() {
        let auth_only = [
            args.query_token.as_ref().map(|arg| &arg.key),
            args.token_protocol.as_ref().map(|arg| &arg.key),
            args.auth_timeout_ms.as_ref().map(|arg| &arg.key),
        ];
        for key in auth_only.into_iter().flatten() {
            errors.spanned(
                key,
                format!("`{key}` has no effect without an auth scheme; add `auth = \"{scheme}\"`"),
            );
        }
        if let Some(attr) = requires_auth {
            errors.spanned(
                attr,
                format!(
                    "`#[requires_auth]` needs an auth scheme; add `auth = \"{scheme}\"` to \
                     `#[consumer]`"
                ),
            );
        } else if let Some(attr) = users.first().and_then(|user| user.attr.as_ref()) {
            errors.spanned(
                attr,
                format!(
                    "`#[user]` is filled by an auth scheme; add `auth = \"{scheme}\"` to \
                     `#[consumer]` or remove `#[user]`"
                ),
            );
        } else if let Some(arg) = &args.user {
            errors.spanned(
                user_argument(arg),
                format!(
                    "`user` names the user type of an auth scheme; add `auth = \"{scheme}\"` \
                     to `#[consumer]` or remove `{}`",
                    written(arg)
                ),
            );
        }
        return None;
    }

    let Some(user) = users.first() else {
        if let Some(arg) = &args.user {
            // An invalid value has its own error.
            let ty = arg.value.as_ref()?;
            if let Some(inner) = option_inner(ty) {
                errors.spanned(
                    ty,
                    format!(
                        "`user` names the user type itself, even when anonymous users are \
                         admitted; write `user = {}`",
                        show(inner)
                    ),
                );
                return None;
            }
            return Some(ty.clone());
        }
        if fields
            .iter()
            .any(|field| matches!(field.source, Source::Malformed))
        {
            // Perhaps a malformed `#[user(...)]`, reported already.
            return None;
        }
        let field = if requires_auth.is_some() {
            "#[user] user: YourUser"
        } else {
            "#[user] user: Option<YourUser>"
        };
        errors.spanned(
            &input.ident,
            format!(
                "`{}` needs to know the user type; add a `{field}` field or `user = YourUser` \
                 to `#[consumer]`",
                auth.written()
            ),
        );
        return None;
    };
    if let Some(arg) = &args.user {
        errors.spanned(
            user_argument(arg),
            format!(
                "remove `{}`: the `#[user]` field already names the user type",
                written(arg)
            ),
        );
    }
    let name = unraw(&user.ident);
    match (option_inner(&user.ty), requires_auth.is_some()) {
        (Some(inner), false) => Some(inner.clone()),
        (None, true) => Some(user.ty.clone()),
        (None, false) => {
            errors.spanned(
                &user.ty,
                format!(
                    "this consumer admits anonymous users, so `{name}` may be missing; \
                     write `Option<{}>` or add `#[requires_auth]`",
                    show(&user.ty)
                ),
            );
            None
        }
        (Some(inner), true) => {
            errors.spanned(
                &user.ty,
                format!(
                    "`#[requires_auth]` guarantees a user; write `{name}: {}`",
                    show(inner)
                ),
            );
            None
        }
    }
}

/// The tokens of `user = Type`, where errors about the argument as a whole go.
fn user_argument(arg: &Arg<Type>) -> TokenStream {
    let key = &arg.key;
    match &arg.value {
        Some(ty) => quote!(#key = #ty),
        None => quote!(#key),
    }
}

/// `user = Type` as the user wrote it, for messages.
fn written(arg: &Arg<Type>) -> String {
    match &arg.value {
        Some(ty) => format!("user = {}", show(ty)),
        None => "user = ...".to_owned(),
    }
}

/// The `U` of an `Option<U>`, recognised by its last path segment since the
/// macro cannot resolve names.
fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        // A type passed through a `macro_rules!` `$ty:ty` arrives wrapped in a group.
        Type::Group(group) => option_inner(&group.elem),
        Type::Paren(paren) => option_inner(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match (last.ident == "Option", args.args.len(), args.args.first()) {
                (true, 1, Some(GenericArgument::Type(inner))) => Some(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Tokens as a user would write them, for messages: `Option<AppUser>` rather
/// than `Option < AppUser >`.
fn show(tokens: impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let chars: Vec<char> = text.chars().collect();
    let mut shown = String::with_capacity(text.len());
    for (index, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = index.checked_sub(1).map(|i| chars[i]);
            let after = chars.get(index + 1).copied();
            if before.is_some_and(|b| ":<&([".contains(b))
                || after.is_some_and(|a| ":<>,;)]".contains(a))
            {
                continue;
            }
        }
        shown.push(c);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::{option_inner, path_field_for, show};
    use syn::Type;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn recognises_option() {
        for text in [
            "Option<AppUser>",
            "core::option::Option<AppUser>",
            "(Option<AppUser>)",
        ] {
            assert_eq!(show(option_inner(&ty(text)).unwrap()), "AppUser", "{text}");
        }
        for text in [
            "AppUser",
            "Option",
            "Option<A, B>",
            "Vec<AppUser>",
            "<T as X>::Option<A>",
        ] {
            assert!(option_inner(&ty(text)).is_none(), "{text}");
        }
    }

    #[test]
    fn shows_types_as_written() {
        assert_eq!(show(ty("Option<Vec<u8>>")), "Option<Vec<u8>>");
        assert_eq!(show(ty("crate::users::AppUser")), "crate::users::AppUser");
        assert_eq!(show(ty("&'static str")), "&'static str");
        assert_eq!(show(ty("(u8, [u16; 4])")), "(u8, [u16; 4])");
    }

    #[test]
    fn suggests_a_field_for_any_capture() {
        assert_eq!(path_field_for("room"), "#[path] room: String");
        assert_eq!(path_field_for("type"), "#[path] r#type: String");
        assert_eq!(
            path_field_for("self"),
            "#[path(\"self\")] self_param: String"
        );
    }
}
