//! `auth = "token"`: a token in a carrier, looked up in the app's token store.

use std::marker::PhantomData;

use axum::extract::FromRef;
use axum::http::request::Parts;

use super::{AuthState, AuthUser, Authenticate, Carrier, Credential, Identity, find_token};
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

    fn present_carrier(_: &Tokens<U>, request: &Parts, spec: &Spec) -> Option<Carrier> {
        token_carrier(request, spec)
    }

    fn issues(credential: &Credential) -> bool {
        matches!(credential, Credential::Token(_))
    }

    fn link(tokens: &Tokens<U>, hub: &Hub) {
        tokens.link(hub);
    }
}

/// The carrier of the token a handshake presents, malformed or not: the
/// carrier [`find_token`] reads, or the one it refuses.
pub(super) fn token_carrier(request: &Parts, spec: &Spec) -> Option<Carrier> {
    match find_token(request, spec) {
        Ok(found) => found.map(|(_, carrier)| carrier),
        // Every refusal of `find_token` names its carrier; a refusal is a
        // present credential all the same.
        Err(rejection) => Some(rejection.carrier().unwrap_or(Carrier::Header)),
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
