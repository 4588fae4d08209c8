//! Who is on the other end: users, auth schemes and credential carriers.
//!
//! An auth scheme ([`Authenticate`]) looks at the handshake and answers with
//! a user, with nobody (anonymous), or with a rejection when a credential is
//! present but invalid: it fails closed, never falling back to anonymous.
//! Whether anonymous users get in is the consumer's choice
//! (`#[requires_auth]`), not the scheme's.

mod carrier;
mod credential;
#[cfg(feature = "jwt")]
mod jwt;
mod none;
pub mod session;
mod stack;
mod token;

use std::fmt;
use std::future::Future;
use std::hash::Hash;

use axum::http::request::Parts;

pub use carrier::Carrier;
pub(crate) use carrier::{QUERY_TOKEN, find_token, offered_protocols};
pub use credential::Credential;
#[cfg(feature = "jwt")]
pub use jwt::{Jwt, JwtAuth};
pub use none::{Anonymous, NoAuth, NoState};
pub use session::{SessionAuth, Sessions};
pub use stack::{Stack, StackUser};
pub use token::TokenAuth;

use crate::endpoint::Spec;
use crate::hub::Hub;
use crate::reject::Rejection;

/// A user that can own connections.
///
/// ```
/// use sockwarden::AuthUser;
///
/// #[derive(Clone)]
/// struct User { id: u64, name: String }
///
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a user type",
    label = "the `#[user]` field's type must implement `sockwarden::AuthUser`",
    note = "implement `AuthUser` for `{Self}`: `impl AuthUser for {Self} {{ type Id = …; fn id(&self) -> Self::Id {{ … }} }}`"
)]
pub trait AuthUser: Clone + Send + Sync + 'static {
    /// What identifies the user: in logs, and to find its connections.
    type Id: Clone + Eq + Hash + fmt::Display + Send + Sync + 'static;

    /// The user's id.
    fn id(&self) -> Self::Id;
}

/// What an auth scheme found on a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity<U> {
    /// No credential at all.
    Anonymous,
    /// A valid credential for this user.
    User {
        /// The user.
        user: U,
        /// Where the credential came from.
        carrier: Carrier,
        /// The credential itself, by what revokes it.
        credential: Credential,
    },
}

/// An auth scheme: `auth = "token"` names [`TokenAuth`], `auth = "none"`
/// names [`NoAuth`], `auth = ["session", "token"]` names a [`Stack`] of
/// schemes.
///
/// A scheme takes what it needs from the router's state as
/// [`Authenticate::State`] (for token auth, the app's [`Tokens`](crate::Tokens)),
/// so a consumer whose app forgot to provide it does not compile.
pub trait Authenticate: Send + Sync + 'static {
    /// The user type.
    type User: AuthUser;
    /// What the scheme needs from the router state (see [`AuthState`]).
    type State: Clone + Send + Sync + 'static;
    /// The scheme's name in logs: `"token"`, `"none"`.
    const SCHEME: &'static str;
    /// Whether the scheme reads tokens from the carriers (and so the
    /// subprotocol marker is its, to echo and to hide from the scope).
    const TOKEN_CARRIERS: bool = false;
    /// Whether the scheme authenticates by cookie, which the browser sends
    /// whichever page opens the socket: the consumer's origin policy then
    /// defaults to same host, and is checked before the cookie is read.
    const COOKIES: bool = false;

    /// Decides who the handshake is.
    ///
    /// # Errors
    ///
    /// A credential that is present but malformed, unknown or expired is a
    /// [`Rejection`]; so is a store that fails.
    fn authenticate(
        state: &Self::State,
        request: &Parts,
        spec: &Spec,
    ) -> impl Future<Output = Result<Identity<Self::User>, Rejection>> + Send;

    /// Where this scheme's credential travels on `request`, if the client
    /// sent one at all, valid or not: the header, subprotocol or query
    /// carrier a token scheme would read, a session scheme's cookie.
    ///
    /// A [`Stack`] asks it of a scheme that answered
    /// [`Identity::Anonymous`]: a credential that is present but names no
    /// one (a stale session cookie) must refuse a handshake that another
    /// scheme of the stack identifies, or a leftover credential would be
    /// silently ignored. The default, `None`, suits schemes that refuse
    /// every present credential they cannot use instead of answering
    /// anonymous.
    fn present_carrier(state: &Self::State, request: &Parts, spec: &Spec) -> Option<Carrier> {
        let _ = (state, request, spec);
        None
    }

    /// Whether `credential` is of the kind this scheme lets connections in
    /// with ([`Credential::Token`] for [`TokenAuth`], …), so that a
    /// [`Stack`] hands a connection's [`revalidate`](Authenticate::revalidate)
    /// to the scheme that let it in. The default claims none: a custom
    /// scheme that is stacked and revalidates must say which are its own.
    fn issues(credential: &Credential) -> bool {
        let _ = credential;
        false
    }

    /// Tells the scheme's state which hub holds the connections it let in,
    /// so that revoking a credential in the state's store closes them. The
    /// router calls it on each accepted handshake; it must be cheap.
    fn link(state: &Self::State, hub: &Hub) {
        let _ = (state, hub);
    }

    /// Re-reads a live connection's credential from its store, never from
    /// a cache, for consumers that ask for periodic revalidation
    /// (`revalidate = "30s"`): `Ok(true)` while it is still valid and still
    /// names `user`. The default keeps every connection.
    ///
    /// # Errors
    ///
    /// When the store cannot answer; the connection is kept and the check
    /// runs again at the next period (a store outage must not log everyone
    /// out).
    fn revalidate(
        state: &Self::State,
        user: &Self::User,
        credential: &Credential,
    ) -> impl Future<Output = Result<bool, Rejection>> + Send {
        let _ = (state, user, credential);
        async { Ok(true) }
    }

    /// Checks a fresh credential that a client sent on its open connection
    /// (`{"type":"auth","token":"…"}`), for schemes whose credentials
    /// expire on their own; `None` when the scheme takes none in-band (the
    /// message is then the consumer's like any other).
    fn refresh(
        state: &Self::State,
        token: &str,
    ) -> Option<Result<(Self::User, Credential), Rejection>> {
        let _ = (state, token);
        None
    }
}

/// Takes what an auth scheme needs out of the router state `S`.
///
/// For `auth = "token"` that is [`Tokens<User>`](crate::Tokens): put one in
/// the state, or implement axum's `FromRef<YourState>` for it. A state that
/// lacks it fails to compile where the consumer is mounted.
#[diagnostic::on_unimplemented(
    message = "the router state `{S}` does not provide what `{Self}` needs",
    note = "for `auth = \"token\"`, use `sockwarden::Tokens<YourUser>` as the state or implement `FromRef<{S}>` for it"
)]
pub trait AuthState<S>: Authenticate {
    /// The scheme's state, from the router's.
    fn state(state: &S) -> Self::State;
}
