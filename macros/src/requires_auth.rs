//! `#[requires_auth]`: a flag read by `#[consumer]`.
//!
//! Attributes expand outermost first, and the ones below reach the macro as
//! tokens. Below `#[consumer]`, this attribute is therefore only a marker that
//! `#[consumer]` removes; above it, this macro runs first and moves itself
//! below, so that both orders end in the same place.
//!
//! On a handler, the method of an `impl` block under `#[handlers]`, it is
//! also a marker: `#[handlers]` expands first and takes it off. This macro
//! therefore only runs on a method whose block lacks `#[handlers]`, and says
//! so.

use crate::errors::Errors;
use crate::item;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Ident, Item};

/// Whether `attr` is `#[requires_auth]`, however the user imported it.
pub(crate) fn is_marker(attr: &Attribute) -> bool {
    item::names(attr.path(), "requires_auth")
}

/// Expands `#[requires_auth(args)]` on `item`.
pub(crate) fn expand(args: &TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    if !args.is_empty() {
        errors.spanned(
            args,
            "`#[requires_auth]` takes no arguments; write `#[requires_auth]`",
        );
    }
    let Ok(mut parsed) = syn::parse2::<Item>(item.clone()) else {
        errors.at(Span::call_site(), MISPLACED);
        let errors = errors.into_compile_errors();
        return quote!(#item #errors);
    };
    let attrs = item::attrs_mut(&mut parsed);
    if let Some(attrs) = attrs.filter(|attrs| {
        attrs
            .iter()
            .any(|attr| item::names(attr.path(), "consumer"))
    }) {
        // `#[consumer]`, below, decides what is wrong with the item, if
        // anything, and reports it once.
        attrs.push(marker());
        let errors = errors.into_compile_errors();
        return quote!(#parsed #errors);
    }
    match &parsed {
        // A method: `#[handlers]` on its block would have taken the marker
        // off before it expanded, so the block has none.
        Item::Fn(method) if method.sig.receiver().is_some() => errors.push(item::misplaced(
            &parsed,
            format!(
                "`#[requires_auth]` on a method guards the message type of a handler, which \
                 needs `#[handlers]` on its block: write `#[handlers]` above `impl Consumer for \
                 …`, and put `{}` in that block",
                method.sig.ident
            ),
        )),
        Item::Struct(_) => errors.at(
            Span::call_site(),
            "`#[requires_auth]` needs `#[consumer(...)]` on the same struct",
        ),
        _ => errors.push(item::misplaced(&parsed, MISPLACED)),
    }
    let errors = errors.into_compile_errors();
    quote!(#item #errors)
}

const MISPLACED: &str = "`#[requires_auth]` goes on a `#[consumer(...)]` struct";

/// The marker that `#[consumer]` reads, located at this attribute so that
/// errors about it point at what the user wrote.
fn marker() -> Attribute {
    let ident = Ident::new("requires_auth", Span::call_site());
    syn::parse_quote!(#[#ident])
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn expanded(args: &TokenStream, item: TokenStream) -> String {
        expand(args, item).to_string()
    }

    #[test]
    fn moves_below_consumer() {
        let output = expanded(
            &quote!(),
            quote!(
                #[doc = "x"]
                #[sockwarden::consumer(path = "/")]
                struct Chat {}
            ),
        );
        assert_eq!(
            output,
            "# [doc = \"x\"] # [sockwarden :: consumer (path = \"/\")] # [requires_auth] struct Chat { }"
        );
    }

    #[test]
    fn leaves_a_wrong_item_to_consumer() {
        let output = expanded(
            &quote!(),
            quote!(
                #[consumer(path = "/")]
                enum Chat {}
            ),
        );
        assert_eq!(
            output,
            "# [consumer (path = \"/\")] # [requires_auth] enum Chat { }"
        );
    }

    #[test]
    fn needs_a_consumer() {
        let output = expanded(
            &quote!(),
            quote!(
                struct Chat {}
            ),
        );
        assert!(output.starts_with("struct Chat { }"), "{output}");
        assert!(output.contains("needs `#[consumer(...)]` on the same struct"));
        let output = expanded(
            &quote!(),
            quote!(
                fn chat() {}
            ),
        );
        assert!(output.starts_with("fn chat () { }"), "{output}");
        assert!(output.contains("goes on a `#[consumer(...)]` struct"));
    }

    #[test]
    fn a_method_needs_handlers_on_its_block() {
        let output = expanded(
            &quote!(),
            quote!(
                async fn delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
                    Ok(())
                }
            ),
        );
        assert!(output.starts_with("async fn delete"), "{output}");
        assert!(
            output.contains("needs `#[handlers]` on its block"),
            "{output}"
        );
    }

    #[test]
    fn takes_no_arguments() {
        let output = expanded(
            &quote!(admin),
            quote!(
                #[consumer(path = "/")]
                struct Chat {}
            ),
        );
        assert!(output.contains("# [requires_auth] struct Chat"), "{output}");
        assert!(output.contains("takes no arguments"));
    }
}
