//! The error accumulator shared by every macro of the crate.
//!
//! Validation goes on after a mistake so that a user sees every independent
//! error of an attribute in one build instead of one per build (serde's
//! `Ctxt`). Checks that depend on a broken step are skipped by their callers,
//! so one mistake still gives one error.

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

/// Every error found so far, folded into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Starts an empty accumulator.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records `error`, keeping every error recorded before it.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records `message` at the span of `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records `message` at `span`.
    pub(crate) fn at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Whether nothing has been recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// The recorded messages, in order.
    #[cfg(test)]
    pub(crate) fn messages(self) -> Vec<String> {
        self.combined
            .into_iter()
            .flatten()
            .map(|error| error.to_string())
            .collect()
    }

    /// The recorded errors as `compile_error!` invocations, empty when there are none.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.combined
            .map(syn::Error::into_compile_error)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Errors;
    use proc_macro2::Span;

    #[test]
    fn keeps_every_error_in_order() {
        let mut errors = Errors::new();
        assert!(errors.is_empty());
        errors.at(Span::call_site(), "first");
        errors.at(Span::call_site(), "second");
        assert_eq!(errors.messages(), ["first", "second"]);
    }

    #[test]
    fn empty_accumulator_finishes_ok() {
        assert!(Errors::new().messages().is_empty());
        assert!(Errors::new().into_compile_errors().is_empty());
    }
}
