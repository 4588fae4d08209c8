//! The code a consumer expands to: the struct as written (minus our
//! attributes) and one `Endpoint` impl holding data and one runtime call per
//! field. Every behaviour behind those calls lives in the runtime.

use super::args::Reject;
use super::fields::Source;
use super::model::Consumer;
use crate::errors::Errors;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemStruct;
use syn::spanned::Spanned as _;

/// The struct and its `Endpoint` impl.
pub(crate) fn consumer(input: &ItemStruct, model: &Consumer) -> TokenStream {
    let ident = &model.ident;
    let name = super::fields::unraw(ident);
    let route = &model.route;

    // A user type that is not a user is reported at the `#[user]` field.
    let (user, auth) = match (&model.user, model.auth.runtime_type) {
        (Some(user), Some(runtime_type)) => {
            let span = Span::call_site().located_at(user.span());
            let runtime_type = format_ident!("{runtime_type}");
            (
                quote_spanned!(span=> type User = #user;),
                quote_spanned!(span=> type Auth = ::sockwarden::__private::#runtime_type<Self::User>;),
            )
        }
        _ => (
            quote! { type User = ::sockwarden::__private::Anonymous; },
            quote! { type Auth = ::sockwarden::__private::NoAuth; },
        ),
    };

    let mut spec = quote!(::sockwarden::__private::Spec::new(#name, #route));
    if model.requires_auth {
        spec.extend(quote!(.requires_auth()));
    }
    if model.reject == Reject::Close {
        spec.extend(quote!(.reject_with_close()));
    }
    if model.query_token {
        spec.extend(quote!(.query_token()));
    }
    if let Some(marker) = &model.token_protocol {
        spec.extend(quote!(.token_protocol(#marker)));
    }
    if let Some(bytes) = model.max_message_size {
        let bytes = Literal::u64_unsuffixed(bytes);
        spec.extend(quote!(.max_message_size(#bytes)));
    }
    if let Some(millis) = model.auth_timeout_ms {
        let millis = Literal::u64_unsuffixed(millis);
        spec.extend(quote!(.auth_timeout_ms(#millis)));
    }

    let inits = model.fields.iter().map(|field| {
        let (ident, ty, cfgs) = (&field.ident, &field.ty, &field.cfgs);
        // Resolved like the rest of the expansion, so `__scope` is found even
        // when a `macro_rules!` wrote the field; reported at the field's type,
        // so a type that cannot be read from the scope is an error there.
        let span = Span::call_site().located_at(ty.span());
        let value = match &field.source {
            Source::Path { name, .. } => {
                quote_spanned!(span=> __scope.path_param::<#ty>(#name)?)
            }
            Source::Query(name) => quote_spanned!(span=> __scope.query_param::<#ty>(#name)?),
            Source::Header(name) => quote_spanned!(span=> __scope.header_param::<#ty>(#name)?),
            Source::Cookie(name) => quote_spanned!(span=> __scope.cookie_param::<#ty>(#name)?),
            Source::User if model.requires_auth => quote_spanned!(span=> __scope.user_required()?),
            Source::User => quote_spanned!(span=> __scope.user_optional()),
            Source::Default => quote_spanned!(span=> ::core::default::Default::default()),
            Source::Malformed => unreachable!("a malformed attribute is an error"),
        };
        quote!(#(#cfgs)* #ident: #value)
    });

    let endpoint = quote! {
        #user
        #auth
        const SPEC: ::sockwarden::__private::Spec = #spec;
        fn from_scope(
            __scope: &mut ::sockwarden::__private::Scope<<Self as ::sockwarden::__private::Endpoint>::User>,
        ) -> ::core::result::Result<Self, ::sockwarden::__private::Rejection> {
            ::core::result::Result::Ok(Self { #(#inits,)* })
        }
    };
    with_impl(input, &endpoint)
}

/// The struct, the errors, and when the struct allows it a stub impl, so that
/// code using the consumer elsewhere does not add errors of its own.
pub(crate) fn fallback(input: &ItemStruct, errors: Errors) -> TokenStream {
    let errors = errors.into_compile_errors();
    // A stub for a generic struct would itself fail: it lacks the parameters.
    if !input.generics.params.is_empty() {
        return quote!(#input #errors);
    }
    let name = super::fields::unraw(&input.ident);
    let stub = quote! {
        type User = ::sockwarden::__private::Anonymous;
        type Auth = ::sockwarden::__private::NoAuth;
        const SPEC: ::sockwarden::__private::Spec = ::sockwarden::__private::Spec::new(#name, "/");
        fn from_scope(
            __scope: &mut ::sockwarden::__private::Scope<<Self as ::sockwarden::__private::Endpoint>::User>,
        ) -> ::core::result::Result<Self, ::sockwarden::__private::Rejection> {
            ::core::unreachable!()
        }
    };
    let mut tokens = with_impl(input, &stub);
    tokens.extend(errors);
    tokens
}

fn with_impl(input: &ItemStruct, body: &TokenStream) -> TokenStream {
    let ident = &input.ident;
    quote! {
        #input

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::sockwarden::__private::Endpoint for #ident {
                #body
            }
        };
    }
}
