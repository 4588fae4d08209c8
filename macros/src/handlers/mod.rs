//! `#[handlers]`: parse the consumer's `impl Consumer` block into the trait's
//! own items and the handlers, validate the handlers, then emit the block
//! with a generated `receive` (and `event`) that routes each variant to its
//! handler, and an inherent impl holding the handlers.

mod args;
mod expand;
mod methods;
mod model;
mod signature;

use crate::errors::Errors;
use crate::item;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{ImplItemFn, Item, ItemImpl};

const NOT_AN_IMPL: &str =
    "`#[handlers]` goes on the consumer's `impl Consumer for Chat { … }` block";

/// Expands `#[handlers(args)]` on `item`.
///
/// The output always contains the block and the handlers, so that one
/// mistake gives one error rather than a cascade of "no method named …".
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    let parsed = syn::parse2::<Item>(item.clone());
    let mut input = match parsed {
        Ok(Item::Impl(input)) => input,
        Ok(other) => {
            errors.push(item::misplaced(&other, NOT_AN_IMPL));
            let errors = errors.into_compile_errors();
            return quote!(#item #errors);
        }
        Err(_) => {
            errors.at(Span::call_site(), NOT_AN_IMPL);
            let errors = errors.into_compile_errors();
            return quote!(#item #errors);
        }
    };
    let (dispatch, block) = analyze(args, &mut input, &mut errors);
    let handlers: Vec<ImplItemFn> = block.methods.into_iter().map(|m| m.item).collect();
    match dispatch {
        Some(dispatch) => expand::handlers(input, handlers, &dispatch),
        None => expand::fallback(
            input,
            handlers,
            block.receive.is_some(),
            errors.into_compile_errors(),
        ),
    }
}

/// Parses and validates the block, taking the handlers and our attributes
/// out of `input` whatever the outcome. Returns the dispatch only when
/// nothing is wrong.
fn analyze(
    args: TokenStream,
    input: &mut ItemImpl,
    errors: &mut Errors,
) -> (Option<model::Dispatch>, methods::Block) {
    let args = args::parse(args, errors);
    let block = methods::split(input, errors);
    let dispatch = model::validate(input, &args, &block, errors);
    (dispatch, block)
}

#[cfg(test)]
mod tests;
