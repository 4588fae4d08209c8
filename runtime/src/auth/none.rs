//! `auth = "none"`: every connection is anonymous.

use axum::http::request::Parts;

use super::{AuthState, AuthUser, Authenticate, Identity};
use crate::endpoint::Spec;
use crate::reject::Rejection;

/// The user type of a consumer without auth: there is no such user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anonymous {}

impl AuthUser for Anonymous {
    type Id = String;

    fn id(&self) -> String {
        match *self {}
    }
}

/// The scheme of `auth = "none"`: nobody is authenticated.
#[derive(Debug, Clone, Copy)]
pub struct NoAuth;

/// What [`NoAuth`] needs from the router state: nothing, so any state has it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoState;

impl<S> AuthState<S> for NoAuth {
    fn state(_: &S) -> NoState {
        NoState
    }
}

impl Authenticate for NoAuth {
    type User = Anonymous;
    type State = NoState;
    const SCHEME: &'static str = "none";

    async fn authenticate(
        _: &NoState,
        _: &Parts,
        _: &Spec,
    ) -> Result<Identity<Anonymous>, Rejection> {
        Ok(Identity::Anonymous)
    }
}
