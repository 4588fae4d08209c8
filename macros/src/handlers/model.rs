//! The validated dispatch: which handler takes which variant, of which enum,
//! and the rules that relate the handlers to each other and to the block.
//!
//! The variants themselves are the compiler's to check: the macro cannot see
//! the enums. It emits each match arm at the token that chose the variant,
//! so that a variant the enum lacks is reported there, and a variant
//! without a handler is a non-exhaustive match at `type In = …`.

use super::args::HandlersArgs;
use super::methods::{Block, Kind, Method};
use super::signature;
use crate::errors::Errors;
use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{Attribute, Ident, ImplItemFn, ItemImpl, Path, PathArguments, Type};

/// What `#[handlers]` generates, once every check passed.
pub(crate) struct Dispatch {
    /// The generated `receive`, unless the user wrote one.
    pub(crate) messages: Option<Route>,
    /// The generated `event`, when there are `#[event]` handlers.
    pub(crate) events: Option<Route>,
}

/// One `match`: the enum and an arm per handler.
pub(crate) struct Route {
    /// The enum as written (`type In = …` or `events = …`).
    pub(crate) ty: Type,
    /// The enum as a path that patterns can start with (`Enum::<T>`).
    pub(crate) path: Path,
    /// The arms, in the order of the handlers.
    pub(crate) arms: Vec<Arm>,
}

/// One handler's arm.
pub(crate) struct Arm {
    /// The variant, located where it was chosen: the `#[on(…)]` argument,
    /// or the method's name.
    pub(crate) variant: Ident,
    /// The method.
    pub(crate) method: Ident,
    /// The fields the handler takes, by name.
    pub(crate) fields: Vec<Ident>,
    /// `#[requires_auth]`: its span, for an error about the scheme, and the
    /// name the error frame gives.
    pub(crate) requires_auth: Option<(Span, String)>,
    /// The method's `#[cfg]`s: a handler configured out has no arm.
    pub(crate) cfgs: Vec<Attribute>,
    /// The method's return type, where a wrong one is reported.
    pub(crate) output: Span,
}

/// Checks the handlers of `block` against each other and against the
/// block, recording every violation. Returns the dispatch only when nothing
/// at all is wrong, including errors recorded before this call.
pub(crate) fn validate(
    input: &ItemImpl,
    args: &HandlersArgs,
    block: &Block,
    errors: &mut Errors,
) -> Option<Dispatch> {
    let header = header(input);
    if input.trait_.is_none() {
        errors.spanned(
            &header,
            format!(
                "`#[handlers]` goes on the consumer's trait impl; write `#[handlers] impl \
                 Consumer for {} {{ type In = …; … }}`",
                signature::show(&input.self_ty)
            ),
        );
        return None;
    }

    let mut messages = Vec::new();
    let mut events = Vec::new();
    for method in &block.methods {
        let fields = signature::fields(&method.item.sig, errors);
        let variant = variant_of(method, errors);
        if method.kind == Kind::Event
            && let Some(attr) = &method.requires_auth
        {
            errors.spanned(
                attr,
                format!(
                    "`#[requires_auth]` guards a client message, and `{}` handles a group event, \
                     which the server sends; remove `#[requires_auth]` and choose who gets the \
                     event when sending it",
                    method.item.sig.ident.unraw()
                ),
            );
        }
        let (Some(fields), Some(variant)) = (fields, variant) else {
            continue;
        };
        let handled = match method.kind {
            Kind::Message => &mut messages,
            Kind::Event => &mut events,
        };
        if let Some(first) = handled.iter().find(|arm: &&Arm| arm.variant == variant) {
            errors.spanned(
                &variant,
                format!(
                    "`{variant}` already has a handler, `{}`; remove one of them, or point this \
                     one at another variant with `#[{}(Variant)]`",
                    first.method.unraw(),
                    match method.kind {
                        Kind::Message => "on",
                        Kind::Event => "event",
                    }
                ),
            );
            continue;
        }
        handled.push(arm(
            &method.item,
            variant,
            fields,
            method.requires_auth.as_ref(),
        ));
    }

    let message_handlers = block.methods.iter().filter(|m| m.kind == Kind::Message);
    let event_handlers: Vec<&Method> = block
        .methods
        .iter()
        .filter(|m| m.kind == Kind::Event)
        .collect();

    let mut message_route = None;
    match &block.receive {
        Some(receive) => {
            let names: Vec<String> = message_handlers
                .map(|m| format!("`{}`", m.item.sig.ident.unraw()))
                .collect();
            if !names.is_empty() {
                errors.spanned(
                    receive,
                    format!(
                        "this `receive` takes every client message, so the handler{} {} would \
                         never run; remove `receive` to route messages by their type, or move \
                         the handlers to an `impl {} {{ … }}` block and call them from `receive`",
                        if names.len() == 1 { "" } else { "s" },
                        names.join(", "),
                        signature::show(&input.self_ty)
                    ),
                );
            }
        }
        None if block.methods.iter().all(|m| m.kind == Kind::Event) => {
            errors.spanned(
                &header,
                format!(
                    "`#[handlers]` found no handler for client messages and no `receive`; add \
                     an `async fn` per variant of {}, named after it (`chat_message` takes \
                     `ChatMessage`), or write `receive`",
                    block.inbound.as_ref().map_or_else(
                        || "`In`".to_owned(),
                        |ty| format!("`{}`", signature::show(ty))
                    )
                ),
            );
        }
        None => match &block.inbound {
            None => errors.spanned(
                &header,
                "`#[handlers]` routes client messages by the variants of `In`; add \
                 `type In = ChatIn;` naming the enum of the messages",
            ),
            Some(ty) => {
                if let Some(path) = enum_path(ty, "`type In`", errors) {
                    message_route = Some(Route {
                        ty: ty.clone(),
                        path,
                        arms: messages,
                    });
                }
            }
        },
    }

    let mut event_route = None;
    match (&args.events, event_handlers.first()) {
        (Some((_, ty)), Some(_)) => {
            if let Some(event) = &block.event {
                let names: Vec<String> = event_handlers
                    .iter()
                    .map(|m| format!("`{}`", m.item.sig.ident.unraw()))
                    .collect();
                errors.spanned(
                    event,
                    format!(
                        "this `event` takes every group event, so the `#[event]` handler{} {} \
                         would never run; remove `event` to route events by their type",
                        if names.len() == 1 { "" } else { "s" },
                        names.join(", ")
                    ),
                );
            } else if let Some(path) = enum_path(ty, "`events`", errors) {
                event_route = Some(Route {
                    ty: ty.clone(),
                    path,
                    arms: events,
                });
            }
        }
        (Some((key, ty)), None) => errors.spanned(
            quote!(#key = #ty),
            format!(
                "`events = {}` names the events of `#[event]` handlers, and there are none; \
                 mark a handler with `#[event]`, or remove `events`",
                signature::show(ty)
            ),
        ),
        (None, Some(first)) if !args.incomplete => {
            if let Some(mark) = &first.mark {
                errors.spanned(
                    mark,
                    "`#[event]` handlers take the variants of an event enum; name it: \
                     `#[handlers(events = RoomEvent)]`",
                );
            }
        }
        (None, _) => {}
    }

    if !errors.is_empty() {
        return None;
    }
    Some(Dispatch {
        messages: message_route,
        events: event_route,
    })
}

/// `impl Consumer for Chat`, where errors about the block as a whole go.
fn header(input: &ItemImpl) -> proc_macro2::TokenStream {
    let (impl_token, self_ty) = (&input.impl_token, &input.self_ty);
    match &input.trait_ {
        Some((path, for_token)) => quote!(#impl_token #path #for_token #self_ty),
        None => quote!(#impl_token #self_ty),
    }
}

/// The variant a handler takes: `#[on(Variant)]`, or the method's name in
/// UpperCamelCase, located at the method's name.
fn variant_of(method: &Method, errors: &mut Errors) -> Option<Ident> {
    if let Some(variant) = &method.variant {
        return Some(variant.clone());
    }
    if method.mark.is_some() && method.kind == Kind::Message {
        // A malformed `#[on]`, reported already.
        return None;
    }
    let ident = &method.item.sig.ident;
    let camel = upper_camel(&ident.unraw().to_string());
    match syn::parse_str::<Ident>(&camel) {
        Ok(variant) => Some(Ident::new(&variant.to_string(), ident.span())),
        Err(_) => {
            errors.spanned(
                ident,
                format!(
                    "no variant name can be made from `{}`; name the variant with \
                     `#[{}(Variant)]`",
                    ident.unraw(),
                    if method.kind == Kind::Message {
                        "on"
                    } else {
                        "event"
                    }
                ),
            );
            None
        }
    }
}

/// `chat_message` → `ChatMessage`, as serde's `rename_all = "snake_case"`
/// reads it the other way.
pub(crate) fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

fn arm(
    item: &ImplItemFn,
    variant: Ident,
    fields: Vec<Ident>,
    requires_auth: Option<&Attribute>,
) -> Arm {
    let output = match &item.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => item.sig.ident.span(),
    };
    Arm {
        variant,
        method: item.sig.ident.clone(),
        fields,
        // The attribute's name: a span covers one token on stable Rust.
        requires_auth: requires_auth.map(|attr| {
            let span = attr
                .path()
                .segments
                .last()
                .map_or_else(|| attr.span(), |segment| segment.ident.span());
            (span, item.sig.ident.unraw().to_string())
        }),
        cfgs: item
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .cloned()
            .collect(),
        output,
    }
}

/// The enum `ty` as the start of a pattern path: generic arguments need a
/// turbofish there (`Enum::<T>::Variant`).
fn enum_path(ty: &Type, what: &str, errors: &mut Errors) -> Option<Path> {
    match ty {
        Type::Group(group) => enum_path(&group.elem, what, errors),
        Type::Paren(paren) => enum_path(&paren.elem, what, errors),
        Type::Path(path) if path.qself.is_none() => {
            let mut path = path.path.clone();
            for segment in &mut path.segments {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    args.colon2_token.get_or_insert_with(Default::default);
                }
            }
            Some(path)
        }
        _ => {
            errors.spanned(
                ty,
                format!(
                    "handlers take the variants of an enum, and {what} is `{}`; name an enum \
                     here, like `ChatIn`",
                    ty.to_token_stream()
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::upper_camel;

    #[test]
    fn snake_to_upper_camel() {
        assert_eq!(upper_camel("chat_message"), "ChatMessage");
        assert_eq!(upper_camel("say"), "Say");
        assert_eq!(upper_camel("who_am_i"), "WhoAmI");
        assert_eq!(upper_camel("v2_hello"), "V2Hello");
        assert_eq!(upper_camel("_leading__double_"), "LeadingDouble");
        assert_eq!(upper_camel("type"), "Type");
    }
}
