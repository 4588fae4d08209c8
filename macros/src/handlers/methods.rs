//! The items of the `impl Consumer` block: the trait's own items, which stay
//! where they are, and the handlers, which `#[handlers]` takes out along
//! with their method attributes `#[on]`, `#[event]` and `#[requires_auth]`.
//!
//! An attribute macro cannot declare helper attributes the way a derive does,
//! so these are removed here, before the compiler sees them.

use crate::errors::Errors;
use crate::requires_auth;
use syn::ext::IdentExt as _;
use syn::{Attribute, Ident, ImplItem, ImplItemFn, ItemImpl, Meta, Type};

/// The methods of `Consumer`: a method with one of these names is the
/// trait's, unless it is marked as a handler.
pub(crate) const TRAIT_METHODS: [&str; 4] = ["connect", "receive", "event", "disconnect"];

/// What a handler takes: a client message or a group event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Message,
    Event,
}

/// A method of the block that is a handler, taken out of the block.
pub(crate) struct Method {
    /// The method as written, minus our attributes.
    pub(crate) item: ImplItemFn,
    /// A message or an event handler.
    pub(crate) kind: Kind,
    /// The `#[on]` / `#[event]` attribute, when given.
    pub(crate) mark: Option<Attribute>,
    /// The variant named in `#[on(Variant)]` / `#[event(Variant)]`.
    pub(crate) variant: Option<Ident>,
    /// `#[requires_auth]`, when given.
    pub(crate) requires_auth: Option<Attribute>,
}

/// The block, split.
pub(crate) struct Block {
    /// The type of `type In = …;`, when written.
    pub(crate) inbound: Option<Type>,
    /// The name of a `receive` the user wrote.
    pub(crate) receive: Option<Ident>,
    /// The name of an `event` the user wrote.
    pub(crate) event: Option<Ident>,
    /// The handlers, in order.
    pub(crate) methods: Vec<Method>,
}

/// Takes the handlers out of `input` and strips our attributes from every
/// method, recording malformed attributes in `errors`. What stays in
/// `input` is the trait impl as the user wrote it.
pub(crate) fn split(input: &mut ItemImpl, errors: &mut Errors) -> Block {
    let mut block = Block {
        inbound: None,
        receive: None,
        event: None,
        methods: Vec::new(),
    };
    let items = std::mem::take(&mut input.items);
    for item in items {
        match item {
            ImplItem::Type(ty) if ty.ident == "In" => {
                block.inbound = Some(ty.ty.clone());
                input.items.push(ImplItem::Type(ty));
            }
            ImplItem::Fn(mut item) => {
                let marks = take_marks(&mut item.attrs, errors);
                let name = item.sig.ident.unraw().to_string();
                let trait_method = TRAIT_METHODS.contains(&name.as_str());
                if trait_method && marks.mark.is_none() {
                    if let Some(attr) = &marks.requires_auth {
                        errors.spanned(
                            attr,
                            format!(
                                "`#[requires_auth]` guards a handler, and `{name}` is a method \
                                 of `Consumer`; to refuse anonymous clients before `connect`, \
                                 put `#[requires_auth]` on the struct beside `#[consumer(...)]`"
                            ),
                        );
                    }
                    match name.as_str() {
                        "receive" => block.receive = Some(item.sig.ident.clone()),
                        "event" => block.event = Some(item.sig.ident.clone()),
                        _ => {}
                    }
                    input.items.push(ImplItem::Fn(item));
                    continue;
                }
                if trait_method {
                    let mark = marks.mark.as_ref().map(|attr| attr.path().clone());
                    errors.spanned(
                        &item.sig.ident,
                        format!(
                            "`{name}` is a method of `Consumer`, so it cannot be a handler; name \
                             the handler otherwise and keep `#[{}(…)]` to choose its variant",
                            mark.and_then(|path| path.get_ident().cloned())
                                .map_or_else(|| "on".to_owned(), |ident| ident.to_string())
                        ),
                    );
                }
                block.methods.push(Method {
                    item,
                    kind: marks.kind,
                    mark: marks.mark,
                    variant: marks.variant,
                    requires_auth: marks.requires_auth,
                });
            }
            other => input.items.push(other),
        }
    }
    block
}

/// Our attributes on one method.
struct Marks {
    kind: Kind,
    mark: Option<Attribute>,
    variant: Option<Ident>,
    requires_auth: Option<Attribute>,
}

/// Removes `#[on]`, `#[event]` and `#[requires_auth]` from `attrs`.
fn take_marks(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Marks {
    let mut marks = Marks {
        kind: Kind::Message,
        mark: None,
        variant: None,
        requires_auth: None,
    };
    attrs.retain(|attr| {
        if requires_auth::is_marker(attr) {
            if marks.requires_auth.is_some() {
                errors.spanned(attr, "duplicate `#[requires_auth]`; give it once");
            } else {
                if !matches!(attr.meta, Meta::Path(_)) {
                    errors.spanned(
                        attr,
                        "`#[requires_auth]` takes no arguments; write `#[requires_auth]`",
                    );
                }
                marks.requires_auth = Some(attr.clone());
            }
            return false;
        }
        let kind = if attr.path().is_ident("on") {
            Kind::Message
        } else if attr.path().is_ident("event") {
            Kind::Event
        } else {
            return true;
        };
        if marks.mark.is_some() {
            let message = if marks.kind == kind {
                format!("duplicate `#[{}]`; give it once", name(kind))
            } else {
                "a handler takes a client message (`#[on]`) or a group event (`#[event]`), \
                 not both; remove one of them"
                    .to_owned()
            };
            errors.spanned(attr, message);
            return false;
        }
        marks.kind = kind;
        marks.variant = variant(attr, kind, errors);
        marks.mark = Some(attr.clone());
        false
    });
    marks
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "on",
        Kind::Event => "event",
    }
}

/// The variant of `#[on(Variant)]` or `#[event(Variant)]`; `None` for a
/// bare `#[event]`, or when malformed (recorded).
fn variant(attr: &Attribute, kind: Kind, errors: &mut Errors) -> Option<Ident> {
    let usage = match kind {
        Kind::Message => "`#[on(ChatMessage)]`",
        Kind::Event => "`#[event]`, or `#[event(Said)]` to choose the variant",
    };
    match &attr.meta {
        Meta::Path(_) if kind == Kind::Event => None,
        Meta::Path(_) => {
            errors.spanned(
                attr,
                "`#[on]` names the variant that the handler takes; write `#[on(ChatMessage)]`, \
                 or leave `#[on]` out to take the variant named after the method",
            );
            None
        }
        Meta::List(list) => match list.parse_args::<syn::Path>() {
            Ok(path) => match path.get_ident() {
                Some(ident) => Some(ident.clone()),
                None => {
                    let last = path
                        .segments
                        .last()
                        .map_or_else(|| "Variant".to_owned(), |s| s.ident.to_string());
                    errors.spanned(
                        &path,
                        format!(
                            "name the variant alone, without its enum: write `#[{}({last})]`",
                            name(kind)
                        ),
                    );
                    None
                }
            },
            Err(_) => {
                errors.spanned(
                    &list.tokens,
                    format!("malformed `#[{}]`; write {usage}", name(kind)),
                );
                None
            }
        },
        Meta::NameValue(_) => {
            errors.spanned(
                attr,
                format!("malformed `#[{}]`; write {usage}", name(kind)),
            );
            None
        }
    }
}
