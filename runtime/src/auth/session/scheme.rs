//! The scheme of `auth = "session"`.

use std::marker::PhantomData;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::request::Parts;
use tower_sessions::session::Id;

use super::sessions::Sessions;
use crate::auth::{AuthState, AuthUser, Authenticate, Carrier, Credential, Identity};
use crate::endpoint::Spec;
use crate::hub::Hub;
use crate::reject::Rejection;

/// How long a revalidation may wait for the store: past it the connection
/// is kept and checked again at the next period, as for a store error.
const REVALIDATE_TIMEOUT: Duration = Duration::from_secs(5);

/// The scheme of `auth = "session"`: the user of the app's HTTP session,
/// read from the [`Sessions`] that the router state provides.
///
/// The session cookie is read only once the handshake's `Origin` has passed
/// the consumer's origin policy (same host unless declared), since the
/// browser sends the cookie whichever page opens the socket. A missing,
/// malformed, unknown or expired session, a user that is gone or a stale
/// auth hash are all anonymous (`#[requires_auth]` answers 401 / 4401); a
/// store that fails is 503 / 1013.
///
/// ```
/// use axum::Router;
/// use serde::{Deserialize, Serialize};
/// use sockwarden::prelude::*;
/// use sockwarden::session::{MemoryStore, Sessions};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct User { id: u64 }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
///
/// // `auth = "session"` is `SessionAuth<User>`, which needs a `Sessions<User>`.
/// #[consumer(path = "/ws/feed", auth = "session", revalidate = "30s")]
/// #[requires_auth]
/// struct Feed { #[user] user: User }
///
/// impl Consumer for Feed {
///     type In = serde_json::Value;
///     async fn receive(&mut self, _: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
///         Ok(())
///     }
/// }
///
/// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
/// let app: Router = Router::new()
///     .consumer::<Feed>()
///     .layer(sessions.layer())
///     .with_state(sessions);
/// # let _ = app;
/// assert_eq!(<sockwarden::SessionAuth<User> as sockwarden::Authenticate>::SCHEME, "session");
/// ```
#[derive(Debug)]
pub struct SessionAuth<U>(PhantomData<fn() -> U>);

impl<U: AuthUser> Authenticate for SessionAuth<U> {
    type User = U;
    type State = Sessions<U>;
    const SCHEME: &'static str = "session";
    const TOKEN_CARRIERS: bool = false;
    const COOKIES: bool = true;

    async fn authenticate(
        sessions: &Sessions<U>,
        request: &Parts,
        _spec: &Spec,
    ) -> Result<Identity<U>, Rejection> {
        sessions.identify(&request.headers).await
    }

    fn link(sessions: &Sessions<U>, hub: &Hub) {
        sessions.link(hub);
    }

    /// The cookie, whenever one of the session's name is sent: forged,
    /// unknown and expired sessions are anonymous here, yet present.
    fn present_carrier(sessions: &Sessions<U>, request: &Parts, _spec: &Spec) -> Option<Carrier> {
        let cookie = super::cookie::session_cookie(&request.headers, sessions.cookie_name());
        (cookie != super::cookie::SessionCookie::Absent).then_some(Carrier::Cookie)
    }

    fn issues(credential: &Credential) -> bool {
        matches!(credential, Credential::Session(_))
    }

    /// Reloads the session from the store: still there, unexpired, and
    /// naming the same user (for axum-login: the user still exists and its
    /// hash still matches).
    async fn revalidate(
        sessions: &Sessions<U>,
        user: &U,
        credential: &Credential,
    ) -> Result<bool, Rejection> {
        let Credential::Session(id) = credential else {
            return Ok(false);
        };
        let Ok(id) = id.parse::<Id>() else {
            return Ok(false);
        };
        let unavailable = || {
            Rejection::unavailable("the session store is unavailable").with_carrier(Carrier::Cookie)
        };
        match tokio::time::timeout(REVALIDATE_TIMEOUT, sessions.load_user(&id)).await {
            Ok(Ok(Some(current))) => Ok(current.id() == user.id()),
            Ok(Ok(None)) => Ok(false),
            Ok(Err(error)) => {
                tracing::warn!(%error, "session store failed while revalidating");
                Err(unavailable())
            }
            Err(_elapsed) => Err(unavailable()),
        }
    }
}

/// An auth scheme whose connections may log in and out on their own, with
/// [`Cx::login`](crate::Cx::login) and [`Cx::logout`](crate::Cx::logout):
/// `auth = "session"` ([`SessionAuth`]), whose users live in the app's
/// [`Sessions`].
///
/// A token or JWT consumer has no session to rotate or end, so calling
/// `cx.login` on one does not compile:
///
/// ```compile_fail
/// use sockwarden::prelude::*;
///
/// #[derive(Clone)]
/// struct User { id: u64 }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
///
/// #[consumer(path = "/ws/chat", auth = "token")]
/// struct Chat { #[user] user: Option<User> }
///
/// impl Consumer for Chat {
///     type In = serde_json::Value;
///     async fn receive(&mut self, cx: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
///         let _ = cx.login(&User { id: 1 }).await?; // error: needs `auth = "session"`
///         Ok(())
///     }
/// }
/// ```
///
/// ```
/// fn logs_in<A: sockwarden::session::SessionLogin>() {}
/// # #[derive(Clone)] struct User;
/// # impl sockwarden::AuthUser for User { type Id = u8; fn id(&self) -> u8 { 0 } }
/// logs_in::<sockwarden::SessionAuth<User>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`cx.login` and `cx.logout` need a consumer declared with `auth = \"session\"`",
    label = "`{Self}` keeps no session to log in to or out of",
    note = "declare the consumer with `#[consumer(..., auth = \"session\")]`; a token or JWT client logs in by getting a new credential and reconnecting"
)]
pub trait SessionLogin: Authenticate {
    /// The sessions the scheme's state holds.
    fn sessions(state: &Self::State) -> &Sessions<Self::User>;
}

impl<U: AuthUser> SessionLogin for SessionAuth<U> {
    fn sessions(state: &Sessions<U>) -> &Sessions<U> {
        state
    }
}

impl<S, U: AuthUser> AuthState<S> for SessionAuth<U>
where
    Sessions<U>: FromRef<S>,
{
    fn state(state: &S) -> Sessions<U> {
        Sessions::from_ref(state)
    }
}
