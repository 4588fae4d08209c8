//! The code a consumer expands to: the struct as written (minus our
//! attributes), an `Endpoint` impl holding data, and a `FromHandshake` impl
//! with one runtime call per field. Every behaviour behind those calls lives
//! in the runtime.

use super::args::{MissingOriginArg, OriginsArg, Overflow, Reject};
use super::fields::Source;
use super::model::{Consumer, Part};
use crate::errors::Errors;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemStruct;
use syn::spanned::Spanned as _;

/// The struct and its `Endpoint` and `FromHandshake` impls.
pub(crate) fn consumer(input: &ItemStruct, model: &Consumer) -> TokenStream {
    let ident = &model.ident;
    let name = super::fields::unraw(ident);
    let route = &model.route;

    // A user type that is not a user is reported at the `#[user]` field.
    let runtime_types: Option<Vec<&str>> = model
        .auth
        .schemes
        .iter()
        .map(|scheme| scheme.runtime_type)
        .collect();
    let (user, auth) = match (&model.user, runtime_types) {
        (Some(user), Some(runtime_types)) => {
            let span = Span::call_site().located_at(user.span());
            // `[a, b, c]` is `Stack<A, Stack<B, C>>`: the precedence is the
            // runtime's, read from the left.
            let scheme = runtime_types
                .iter()
                .rev()
                .map(|runtime_type| {
                    let runtime_type = format_ident!("{runtime_type}");
                    quote_spanned!(span=> ::sockwarden::__private::#runtime_type<Self::User>)
                })
                .reduce(|stacked, scheme| {
                    quote_spanned!(span=> ::sockwarden::__private::Stack<#scheme, #stacked>)
                })
                .expect("an auth declaration names at least one scheme");
            (
                quote_spanned!(span=> type User = #user;),
                quote_spanned!(span=> type Auth = #scheme;),
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
    if let Some(protocols) = &model.protocols {
        spec.extend(quote!(.protocols(&[#(#protocols),*])));
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
    if let Some(millis) = model.ping_interval_ms {
        let millis = Literal::u64_unsuffixed(millis);
        spec.extend(quote!(.ping_interval_ms(#millis)));
    }
    if let Some(millis) = model.pong_timeout_ms {
        let millis = Literal::u64_unsuffixed(millis);
        spec.extend(quote!(.pong_timeout_ms(#millis)));
    }
    if let Some(millis) = model.idle_timeout_ms {
        let millis = Literal::u64_unsuffixed(millis);
        spec.extend(quote!(.idle_timeout_ms(#millis)));
    }
    if let Some(limit) = model.messages_per_second {
        let limit = cap_tokens(limit);
        spec.extend(quote!(.messages_per_second(#limit)));
    }
    if let Some(millis) = model.revalidate_ms {
        let millis = Literal::u64_unsuffixed(millis);
        spec.extend(quote!(.revalidate_ms(#millis)));
    }
    if let Some(events) = model.outbox {
        let events = Literal::u64_unsuffixed(events);
        spec.extend(quote!(.outbox(#events)));
    }
    // Declared even when it is the runtime's default, so that an app-wide
    // default does not override what the consumer wrote.
    match model.overflow {
        Some(Overflow::DropOldest) => spec.extend(quote!(.drop_oldest())),
        Some(Overflow::Close) => spec.extend(quote!(.close_on_overflow())),
        None => {}
    }
    if let Some(cap) = model.max_per_user {
        let cap = cap_tokens(cap);
        spec.extend(quote!(.max_per_user(#cap)));
    }
    if let Some(cap) = model.max_per_peer {
        let cap = cap_tokens(cap);
        spec.extend(quote!(.max_per_peer(#cap)));
    }
    let mut checks = TokenStream::new();
    match &model.origins {
        None => {}
        Some(OriginsArg::SameHost) => {
            spec.extend(quote!(.origins(::sockwarden::__private::OriginPolicy::same_host())));
        }
        Some(OriginsArg::Any) => {
            spec.extend(quote!(.origins(::sockwarden::__private::OriginPolicy::any())));
        }
        Some(OriginsArg::List(entries)) => {
            spec.extend(
                quote!(.origins(::sockwarden::__private::OriginPolicy::list(&[#(#entries),*]))),
            );
            // Evaluated at compile time, reported at the entry at fault.
            for entry in entries {
                checks.extend(quote_spanned!(entry.span()=>
                    const _: () = ::sockwarden::__private::origin_entry(#entry);
                ));
            }
        }
    }
    match model.missing_origin {
        None => {}
        Some(MissingOriginArg::Allow) => {
            spec.extend(quote!(.missing_origin(::sockwarden::__private::MissingOrigin::Allow)))
        }
        Some(MissingOriginArg::Refuse) => {
            spec.extend(quote!(.missing_origin(::sockwarden::__private::MissingOrigin::Refuse)))
        }
    }
    let groups = declared_groups(model);

    // One bound per `#[state]` field, located at the field's type: a router
    // state that lacks it fails where the consumer is mounted, with a note
    // pointing at the field. The bound's self type is the state, not the
    // field's type: with `Db: FromRef<__S>` rustc would pick `__S = Db` from
    // axum's blanket `impl FromRef<T> for T` and report a type mismatch.
    let bounds: Vec<TokenStream> = model
        .fields
        .iter()
        .filter(|field| matches!(field.source, Source::State))
        .map(|field| {
            let ty = &field.ty;
            let span = Span::call_site().located_at(ty.span());
            quote_spanned!(span=> __S: ::sockwarden::__private::StateProvides<#ty>)
        })
        .collect();
    let where_clause = if bounds.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#bounds,)*)
    };

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
            Source::State => quote_spanned!(span=>
                <__S as ::sockwarden::__private::StateProvides<#ty>>::provide(__state)
            ),
            Source::Default => quote_spanned!(span=> ::core::default::Default::default()),
            Source::Malformed => unreachable!("a malformed attribute is an error"),
        };
        quote!(#(#cfgs)* #ident: #value)
    });

    let endpoint = quote! {
        #user
        #auth
        const SPEC: ::sockwarden::__private::Spec = #spec;
        #groups
    };
    let build = quote!(::core::result::Result::Ok(Self { #(#inits,)* }));
    let mut tokens = with_impls(input, &endpoint, &where_clause, &build);
    tokens.extend(checks);
    tokens
}

/// `Some(8)` or `None`, for a cap or a rate.
fn cap_tokens(cap: Option<u64>) -> TokenStream {
    match cap {
        Some(cap) => {
            let cap = Literal::u64_unsuffixed(cap);
            quote!(::core::option::Option::Some(#cap))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// `fn groups`, when the consumer declares any: one `String` per group,
/// built from its fields.
fn declared_groups(model: &Consumer) -> TokenStream {
    if model.groups.is_empty() {
        return TokenStream::new();
    }
    let names = model.groups.iter().map(|group| {
        let span = group.literal.span();
        let pushes = group.parts.iter().map(|part| match part {
            Part::Text(text) => quote_spanned!(span=> __name.push_str(#text);),
            Part::Field(field) => quote_spanned!(span=>
                ::core::fmt::Write::write_fmt(&mut __name, ::core::format_args!("{}", self.#field))
                    .expect("a String takes any text");
            ),
            Part::SessionId => quote_spanned!(span=>
                __name.push_str(__session.unwrap_or_default());
            ),
            Part::UserId(field) => quote_spanned!(span=>
                ::core::fmt::Write::write_fmt(
                    &mut __name,
                    ::core::format_args!("{}", ::sockwarden::__private::AuthUser::id(&self.#field)),
                )
                .expect("a String takes any text");
            ),
        });
        quote!({
            let mut __name = ::std::string::String::new();
            #(#pushes)*
            __name
        })
    });
    quote! {
        fn groups(
            &self,
            __session: ::core::option::Option<&str>,
        ) -> ::std::vec::Vec<::std::string::String> {
            ::std::vec![#(#names),*]
        }
    }
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
    };
    let mut tokens = with_impls(
        input,
        &stub,
        &TokenStream::new(),
        &quote!(::core::unreachable!()),
    );
    tokens.extend(errors);
    tokens
}

/// The struct, then `Endpoint` with `endpoint` as its body, and
/// `FromHandshake` for any router state that meets `where_clause`, whose
/// constructor returns `build`.
fn with_impls(
    input: &ItemStruct,
    endpoint: &TokenStream,
    where_clause: &TokenStream,
    build: &TokenStream,
) -> TokenStream {
    let ident = &input.ident;
    quote! {
        #input

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::sockwarden::__private::Endpoint for #ident {
                #endpoint
            }

            #[automatically_derived]
            impl<__S> ::sockwarden::__private::FromHandshake<__S> for #ident #where_clause {
                fn from_handshake(
                    __scope: &mut ::sockwarden::__private::Scope<<Self as ::sockwarden::__private::Endpoint>::User>,
                    __state: &__S,
                ) -> ::core::result::Result<Self, ::sockwarden::__private::Rejection> {
                    #build
                }
            }
        };
    }
}
