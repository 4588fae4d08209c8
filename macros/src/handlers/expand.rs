//! The code `#[handlers]` expands to: the trait impl as written, plus a
//! `receive` and an `event` that are each one `match` calling a handler per
//! arm; and an inherent impl holding the handlers. The behaviour behind the
//! arms (the auth guard, decoding and forwarding events) is the runtime's.

use super::model::{Arm, Dispatch, Route};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, ImplItem, ImplItemFn, ItemImpl};

/// The trait impl with the generated methods, and the handlers' impl.
pub(crate) fn handlers(
    mut input: ItemImpl,
    handlers: Vec<ImplItemFn>,
    dispatch: &Dispatch,
) -> TokenStream {
    if let Some(route) = &dispatch.messages {
        input.items.push(ImplItem::Verbatim(receive(route)));
    }
    if let Some(route) = &dispatch.events {
        input.items.push(ImplItem::Verbatim(event(route)));
    }
    let inherent = inherent(&input, handlers);
    quote!(#input #inherent)
}

/// `receive`: the message's variant chooses the handler. A variant without
/// a handler makes the match non-exhaustive, reported at `type In = …`.
fn receive(route: &Route) -> TokenStream {
    let (cx, msg) = (local("__cx"), local("__msg"));
    // Located at `type In = …`, where a variant without a handler is reported.
    let scrutinee = Ident::new("__msg", Span::mixed_site().located_at(route.ty.span()));
    let arms = route.arms.iter().map(|arm| {
        let pattern = pattern(route, arm);
        let call = call(arm);
        let cfgs = &arm.cfgs;
        let guard = arm.requires_auth.as_ref().map(|(span, name)| {
            // The consumer type comes from `cx`: an unmet bound on it is
            // reported at the argument, here at `#[requires_auth]`.
            let cx = Ident::new("__cx", Span::mixed_site().located_at(*span));
            let span = Span::call_site().located_at(*span);
            quote_spanned!(span=> ::sockwarden::__private::require_user(#cx, #name)?;)
        });
        quote! {
            #(#cfgs)*
            #pattern => {
                #guard
                #call
            }
        }
    });
    // Never taken, and ignored by the exhaustiveness check as it has a
    // guard: from another syntax context than the handlers' arms, it keeps
    // rustc from suggesting a match arm, which the user cannot write, when a
    // variant has no handler.
    let no_suggestion = quote_spanned!(Span::mixed_site()=> _ if false => ::core::unreachable!(),);
    quote! {
        async fn receive(
            &mut self,
            #cx: &mut ::sockwarden::__private::Cx<Self>,
            #msg: <Self as ::sockwarden::__private::Consumer>::In,
        ) -> ::core::result::Result<(), ::sockwarden::__private::Error> {
            match #scrutinee {
                #(#arms)*
                #no_suggestion
            }
        }
    }
}

/// `event`: an event that decodes as the event enum goes to its variant's
/// handler; any other event, and a variant without a handler, goes to the
/// client unchanged, as `Consumer::event` does by default.
fn event(route: &Route) -> TokenStream {
    let ty = &route.ty;
    let span = Span::call_site().located_at(ty.span());
    let (cx, event) = (local("__cx"), local("__event"));
    let decode = quote_spanned!(span=> ::sockwarden::__private::decode_event::<#ty>(&#event));
    let arms = route.arms.iter().map(|arm| {
        let pattern = pattern(route, arm);
        let call = call(arm);
        let cfgs = &arm.cfgs;
        quote! {
            #(#cfgs)*
            ::core::option::Option::Some(#pattern) => #call,
        }
    });
    quote! {
        async fn event(
            &mut self,
            #cx: &mut ::sockwarden::__private::Cx<Self>,
            #event: ::sockwarden::__private::Event,
        ) -> ::core::result::Result<(), ::sockwarden::__private::Error> {
            match #decode {
                #(#arms)*
                _ => ::sockwarden::__private::forward_event(#cx, #event).await,
            }
        }
    }
}

/// `Enum::Variant { field, .. }`: fields the handler does not take are
/// ignored, and the pattern also matches a unit variant. The variant is
/// located where it was chosen, so that one the enum lacks is reported at
/// the handler.
fn pattern(route: &Route, arm: &Arm) -> TokenStream {
    let (path, variant, fields) = (&route.path, &arm.variant, &arm.fields);
    quote!(#path::#variant { #(#fields,)* .. })
}

/// `self.handler(cx, field, …).await`, located at the handler's return
/// type, so that a wrong one is reported there.
fn call(arm: &Arm) -> TokenStream {
    let (method, fields, cx) = (&arm.method, &arm.fields, local("__cx"));
    let span = Span::call_site().located_at(arm.output);
    quote_spanned!(span=> self.#method(#cx #(, #fields)*).await)
}

/// A local variable of the generated code, which no binding of the user's
/// (a field named `__cx`) can shadow.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// `impl Chat { handlers }`, with the generics of the trait impl.
fn inherent(input: &ItemImpl, handlers: Vec<ImplItemFn>) -> TokenStream {
    if handlers.is_empty() {
        return TokenStream::new();
    }
    let (generics, self_ty) = (&input.generics, &input.self_ty);
    let where_clause = &generics.where_clause;
    quote! {
        impl #generics #self_ty #where_clause {
            #(#handlers)*
        }
    }
}

/// The block and the handlers as written (minus our attributes), and the
/// errors. A missing `receive` is stubbed, so that the compiler does not add
/// an error of its own about it.
pub(crate) fn fallback(
    mut input: ItemImpl,
    handlers: Vec<ImplItemFn>,
    wrote_receive: bool,
    errors: TokenStream,
) -> TokenStream {
    if input.trait_.is_none() {
        // Not a trait impl: the handlers go back where they were.
        input.items.extend(handlers.into_iter().map(ImplItem::Fn));
        return quote!(#input #errors);
    }
    if !wrote_receive {
        input.items.push(ImplItem::Verbatim(quote! {
            async fn receive(
                &mut self,
                _: &mut ::sockwarden::__private::Cx<Self>,
                _: <Self as ::sockwarden::__private::Consumer>::In,
            ) -> ::core::result::Result<(), ::sockwarden::__private::Error> {
                ::core::unreachable!()
            }
        }));
    }
    let inherent = inherent(&input, handlers);
    quote!(#input #inherent #errors)
}
