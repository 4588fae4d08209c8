//! The shape of a handler:
//! `async fn name(&mut self, cx: &mut Cx<Self>, field: Type, …) -> Result<(), Error>`.
//!
//! Only the shape is checked here; the types of the fields and the return
//! type are the compiler's to check, at the tokens the user wrote.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;
use syn::{
    FnArg, GenericArgument, Ident, Pat, PathArguments, ReceiverKind, ReturnType, Signature, Type,
};

/// The parameters after `cx`, by name: the fields of the variant that the
/// handler takes. `None` when the signature is wrong (recorded).
pub(crate) fn fields(sig: &Signature, errors: &mut Errors) -> Option<Vec<Ident>> {
    let mut failed = false;
    let name = sig.ident.unraw();
    let mut fail = |errors: &mut Errors, tokens: &dyn ToTokens, message: String| {
        failed = true;
        errors.spanned(tokens, message);
    };

    if sig.asyncness.is_none() {
        fail(
            errors,
            &sig.fn_token,
            format!(
                "a handler is an `async fn`; write `async fn {name}`, or move `{name}` to an \
                 `impl` block of its own if it handles no message"
            ),
        );
    }
    if !sig.generics.params.is_empty() {
        fail(
            errors,
            &sig.generics,
            format!("a handler cannot be generic; remove the generic parameters of `{name}`"),
        );
    }
    if let Some(abi) = &sig.abi {
        fail(
            errors,
            abi,
            format!("a handler is a plain `async fn`; remove `{}`", show(abi)),
        );
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        fail(
            errors,
            token,
            "a handler is a plain `async fn`; remove `unsafe`".to_owned(),
        );
    }

    let mut inputs = sig.inputs.iter();
    let parens = parens(sig);
    match inputs.next() {
        Some(FnArg::Receiver(receiver)) => {
            let by_mut_ref = matches!(receiver.kind, ReceiverKind::Reference(_, _, Some(_)));
            if !by_mut_ref || receiver.mutability.is_some() {
                fail(
                    errors,
                    receiver,
                    format!(
                        "a handler takes `&mut self`; write `&mut self` instead of `{}`",
                        show(receiver)
                    ),
                );
            }
        }
        first => {
            fail(
                errors,
                &parens,
                format!(
                    "a handler is a method: write `async fn {name}(&mut self, cx: &mut Cx<Self>, \
                     …)`{}",
                    match first {
                        Some(_) => ", `&mut self` first",
                        None => "",
                    }
                ),
            );
            // The rest would be misread without a receiver.
            return None;
        }
    }

    match inputs.next() {
        Some(FnArg::Typed(cx)) if is_cx(&cx.ty) => {}
        Some(FnArg::Typed(other)) => {
            // A connection of the wrong type, or a field where the connection goes.
            let meant_cx = matches!(&*other.pat, Pat::Ident(pat) if pat.ident.unraw().to_string().trim_start_matches('_') == "cx")
                || names_cx(&other.ty);
            fail(
                errors,
                &other.ty,
                format!(
                    "the second parameter of a handler is the connection; write \
                     `cx: &mut Cx<Self>` {} `{}`",
                    if meant_cx { "instead of" } else { "before" },
                    written(other)
                ),
            );
        }
        Some(FnArg::Receiver(_)) | None => fail(
            errors,
            &parens,
            format!(
                "a handler takes the connection after `&mut self`; write \
                 `async fn {name}(&mut self, cx: &mut Cx<Self>, …)`"
            ),
        ),
    }

    let mut fields = Vec::new();
    for input in inputs {
        let FnArg::Typed(param) = input else {
            continue;
        };
        match &*param.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                fields.push(pat.ident.clone());
            }
            Pat::Wild(_) => fail(
                errors,
                &param.pat,
                "a handler's parameters after `cx` take the variant's fields by name, and `_` \
                 names none; leave a field you do not need out: the fields a handler does not \
                 name are ignored"
                    .to_owned(),
            ),
            other => fail(
                errors,
                other,
                format!(
                    "a handler's parameters after `cx` take the variant's fields by name; \
                     name the field here, as in `field: {}`, and destructure it in the body",
                    show(&param.ty)
                ),
            ),
        }
    }

    if let ReturnType::Default = sig.output {
        fail(
            errors,
            sig,
            format!(
                "a handler returns `Result<(), Error>`; add `-> Result<(), Error>` to `{name}`"
            ),
        );
    }

    if failed { None } else { Some(fields) }
}

/// The parentheses of the signature and what they hold, where errors about
/// missing parameters go.
fn parens(sig: &Signature) -> TokenStream {
    let inputs = &sig.inputs;
    let mut tokens = TokenStream::new();
    sig.paren_token
        .surround(&mut tokens, |tokens| inputs.to_tokens(tokens));
    let ident = &sig.ident;
    quote!(#ident #tokens)
}

/// Whether `ty` mentions `Cx`, as in `Cx<Self>` or `&Cx<Self>`.
fn names_cx(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => names_cx(&reference.elem),
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Cx"),
        _ => false,
    }
}

/// Whether `ty` is `&mut Cx<…>`. The type argument is the compiler's to
/// check, as the macro cannot resolve names.
fn is_cx(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    if reference.mutability.is_none() {
        return false;
    }
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    last.ident == "Cx"
        && args.args.len() == 1
        && matches!(args.args.first(), Some(GenericArgument::Type(_)))
}

/// A parameter as a user would write it, for messages: `body: String`.
fn written(param: &syn::PatType) -> String {
    format!("{}: {}", show(&param.pat), show(&param.ty))
}

/// Tokens as a user would write them, for messages.
pub(crate) fn show(tokens: impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let chars: Vec<char> = text.chars().collect();
    let mut shown = String::with_capacity(text.len());
    for (index, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = index.checked_sub(1).map(|i| chars[i]);
            let after = chars.get(index + 1).copied();
            if before.is_some_and(|b| ":<&([".contains(b))
                || after.is_some_and(|a| ":<>,;)]".contains(a))
            {
                continue;
            }
        }
        shown.push(c);
    }
    shown
}
