//! Used by the code `#[consumer]` generates. Not public API.

#[cfg(feature = "jwt")]
pub use crate::auth::JwtAuth;
pub use crate::auth::{Anonymous, AuthUser, Authenticate, NoAuth, SessionAuth, Stack, TokenAuth};
pub use crate::consumer::Consumer;
pub use crate::cx::Cx;
pub use crate::dispatch::{Identifies, decode_event, forward_event, require_user};
pub use crate::endpoint::{Endpoint, FromHandshake, Spec};
pub use crate::error::Error;
pub use crate::hub::Event;
pub use crate::origin::{MissingOrigin, OriginPolicy};
/// For the doc tests of `sockwarden-macros`, which have no `serde` of their own.
pub use serde;

/// Fails the build, at the entry, when an `origins = [...]` entry is not
/// an origin; the message says what to write.
pub const fn origin_entry(entry: &str) {
    if let Err(error) = crate::origin::parse_allowed(entry) {
        panic!("{}", error.message());
    }
}
pub use crate::param::FromParam;
pub use crate::reject::Rejection;
pub use crate::scope::Scope;

/// A router state that provides a `#[state]` field's type `T`.
///
/// The same as `T: FromRef<S>`, with the state as the self type: bounds on
/// the state let rustc report a missing `FromRef` impl as such, instead of
/// inferring the state type from the field.
pub trait StateProvides<T> {
    /// The field's value.
    fn provide(&self) -> T;
}

impl<S, T: axum::extract::FromRef<S>> StateProvides<T> for S {
    fn provide(&self) -> T {
        T::from_ref(self)
    }
}
