//! The arguments of `#[handlers(...)]`: nothing, or `events = RoomEvent`.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Ident, Token, Type};

/// The parsed arguments.
#[derive(Default)]
pub(crate) struct HandlersArgs {
    /// `events = RoomEvent`: the key, where errors about it go, and the type.
    pub(crate) events: Option<(Ident, Type)>,
    /// Whether an argument may hide behind a syntax error or an unknown
    /// key, so that checks about a missing `events` stay quiet.
    pub(crate) incomplete: bool,
}

const USAGE: &str = "write `#[handlers]`, or `#[handlers(events = RoomEvent)]` to route group \
                     events to `#[event]` handlers";

/// Parses `#[handlers(args)]`, recording every mistake in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> HandlersArgs {
    let mut args = HandlersArgs::default();
    let parser = |input: ParseStream<'_>| parse_list(&mut args, input, errors);
    if let Err(error) = parser.parse2(tokens) {
        errors.push(error);
        args.incomplete = true;
    }
    args
}

fn parse_list(
    args: &mut HandlersArgs,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key = input.call(Ident::parse_any)?;
        if key.unraw() != "events" {
            errors.spanned(
                &key,
                format!("unknown `#[handlers]` argument `{key}`; {USAGE}"),
            );
            args.incomplete = true;
            // Skip the rest of this argument.
            while !input.is_empty() && !input.peek(Token![,]) {
                input.parse::<proc_macro2::TokenTree>()?;
            }
        } else if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                "write the event enum as `events = RoomEvent`",
            ));
        } else {
            input.parse::<Token![=]>()?;
            let ty: Type = input.parse()?;
            if args.events.is_some() {
                errors.spanned(&key, "duplicate `events`; give it once");
            } else {
                args.events = Some((key, ty));
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::errors::Errors;
    use proc_macro2::TokenStream;
    use quote::{ToTokens as _, quote};

    fn parsed(tokens: TokenStream) -> (Option<String>, Vec<String>) {
        let mut errors = Errors::new();
        let args = parse(tokens, &mut errors);
        let events = args.events.map(|(_, ty)| ty.to_token_stream().to_string());
        (events, errors.messages())
    }

    #[test]
    fn events_or_nothing() {
        assert_eq!(parsed(quote!()), (None, vec![]));
        assert_eq!(
            parsed(quote!(events = RoomEvent)),
            (Some("RoomEvent".into()), vec![])
        );
        assert_eq!(
            parsed(quote!(events = crate::rooms::RoomEvent,)),
            (Some("crate :: rooms :: RoomEvent".into()), vec![])
        );
    }

    #[test]
    fn mistakes() {
        assert_eq!(
            parsed(quote!(event = RoomEvent)).1,
            [
                "unknown `#[handlers]` argument `event`; write `#[handlers]`, or \
                 `#[handlers(events = RoomEvent)]` to route group events to `#[event]` handlers"
            ]
        );
        assert_eq!(
            parsed(quote!(events(RoomEvent))).1,
            ["write the event enum as `events = RoomEvent`"]
        );
        assert_eq!(
            parsed(quote!(events = A, events = B)),
            (
                Some("A".into()),
                vec!["duplicate `events`; give it once".into()]
            )
        );
    }
}
