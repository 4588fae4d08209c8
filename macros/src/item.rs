//! The item an attribute is attached to: finding sibling attributes, and
//! naming the item in errors.
//!
//! `#[consumer]` and `#[requires_auth]` may be stacked in either order, so each
//! one looks for the other among the attributes still on the item.

use proc_macro2::Span;
use quote::{ToTokens, quote};
use std::fmt::Display;
use syn::{Attribute, Item, Path};

/// Whether `path` names `name`, however it was imported: `requires_auth`,
/// `sockwarden::requires_auth` and `sockwarden::prelude::requires_auth` all do.
pub(crate) fn names(path: &Path, name: &str) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| segment.ident == name)
}

/// The attributes of `item`, for the kinds of item that carry any.
pub(crate) fn attrs_mut(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    Some(match item {
        Item::Const(item) => &mut item.attrs,
        Item::Enum(item) => &mut item.attrs,
        Item::ExternCrate(item) => &mut item.attrs,
        Item::Fn(item) => &mut item.attrs,
        Item::ForeignMod(item) => &mut item.attrs,
        Item::Impl(item) => &mut item.attrs,
        Item::Macro(item) => &mut item.attrs,
        Item::Mod(item) => &mut item.attrs,
        Item::Static(item) => &mut item.attrs,
        Item::Struct(item) => &mut item.attrs,
        Item::Trait(item) => &mut item.attrs,
        Item::TraitAlias(item) => &mut item.attrs,
        Item::Type(item) => &mut item.attrs,
        Item::Union(item) => &mut item.attrs,
        Item::Use(item) => &mut item.attrs,
        _ => return None,
    })
}

/// An error about the kind of `item`, on the tokens that introduce it, such as
/// `enum Chat` or `fn chat`.
pub(crate) fn misplaced(item: &Item, message: impl Display) -> syn::Error {
    let (keyword, name): (&dyn ToTokens, &dyn ToTokens) = match item {
        Item::Enum(item) => (&item.enum_token, &item.ident),
        Item::Union(item) => (&item.union_token, &item.ident),
        Item::Fn(item) => (&item.sig.fn_token, &item.sig.ident),
        Item::Trait(item) => (&item.trait_token, &item.ident),
        Item::Impl(item) => (&item.impl_token, &item.self_ty),
        Item::Mod(item) => (&item.mod_token, &item.ident),
        Item::Type(item) => (&item.type_token, &item.ident),
        Item::Const(item) => (&item.const_token, &item.ident),
        Item::Static(item) => (&item.static_token, &item.ident),
        Item::Struct(item) => (&item.struct_token, &item.ident),
        // The attribute itself is the best place left to point at.
        _ => return syn::Error::new(Span::call_site(), message),
    };
    syn::Error::new_spanned(quote!(#keyword #name), message)
}
