//! `auth = "token"`: a token in a carrier, looked up in the app's token store.

use std::marker::PhantomData;

use axum::extract::FromRef;
use axum::http::request::Parts;

use super::{AuthState, AuthUser, Authenticate, Credential, Identity, find_token};
use crate::endpoint::Spec;
use crate::hub::Hub;
use crate::reject::Rejection;
use crate::store::{Tokens, token_digest};

/// The scheme of `auth = "token"`: the token is read from the first present
/// carrier and looked up in the [`Tokens`] that the router state provides.
///
/// An unknown token is refused (401 / 4401) whether or not the consumer
/// requires auth: a client that presents a credential means to be someone.
#[derive(Debug)]
pub struct TokenAuth<U>(PhantomData<fn() -> U>);

impl<U: AuthUser> Authenticate for TokenAuth<U> {
    type User = U;
    type State = Tokens<U>;
    const SCHEME: &'static str = "token";
    const TOKEN_CARRIERS: bool = true;

    async fn authenticate(
        tokens: &Tokens<U>,
        request: &Parts,
        spec: &Spec,
    ) -> Result<Identity<U>, Rejection> {
        let Some((token, carrier)) = find_token(request, spec)? else {
            return Ok(Identity::Anonymous);
        };
        match tokens.lookup(token).await {
            Ok(Some(user)) => Ok(Identity::User {
                user,
                carrier,
                credential: Credential::Token(token_digest(token)),
            }),
            Ok(None) => Err(Rejection::not_authenticated(format!(
                "unknown token in the {carrier} carrier"
            ))
            .with_challenge(r#"Bearer realm="websocket", error="invalid_token""#)
            .with_carrier(carrier)),
            Err(error) => {
                tracing::error!(%error, "token store failed");
                Err(Rejection::unavailable("the token store is unavailable").with_carrier(carrier))
            }
        }
    }

    fn link(tokens: &Tokens<U>, hub: &Hub) {
        tokens.link(hub);
    }
}

impl<S, U: AuthUser> AuthState<S> for TokenAuth<U>
where
    Tokens<U>: FromRef<S>,
{
    fn state(state: &S) -> Tokens<U> {
        Tokens::from_ref(state)
    }
}
