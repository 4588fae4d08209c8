//! The errors `#[handlers]` reports, and what it expands to.

use super::analyze;
use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;

/// The errors `#[handlers(args)]` reports on `item`, which must be an impl.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let mut input = syn::parse2(item).unwrap();
    let mut errors = Errors::new();
    let (dispatch, _) = analyze(args, &mut input, &mut errors);
    let messages = errors.messages();
    assert_eq!(dispatch.is_some(), messages.is_empty());
    messages
}

#[test]
fn placeholder() {
    assert!(errors(quote!(), quote!(impl Consumer for Chat { type In = ChatIn; async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> { Ok(()) } })).is_empty());
}
