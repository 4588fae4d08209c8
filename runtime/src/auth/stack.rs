//! `auth = ["session", "token"]`: several schemes on one consumer, in a
//! declared precedence, failing closed.

use std::fmt;
use std::marker::PhantomData;

use axum::http::request::Parts;

use super::{AuthState, AuthUser, Authenticate, Carrier, Credential, Identity};
use crate::endpoint::Spec;
use crate::hub::Hub;
use crate::reject::Rejection;

/// Two auth schemes on one consumer: `auth = ["session", "token"]` is
/// `Stack<SessionAuth<User>, TokenAuth<User>>`. Stacks nest, for three
/// schemes or more: `Stack<A, Stack<B, C>>` (with a scheme of your own, see
/// [`StackUser`]).
///
/// A stack lets each kind of client use its own credential (browsers their
/// session cookie, API clients a token) and fails closed: a credential that
/// is present is always checked, and never skipped because another one
/// would do.
///
/// # Who the handshake is
///
/// Every scheme of the stack reads the handshake, in the declared order:
///
/// | The schemes find | The handshake |
/// |---|---|
/// | one refuses its credential (unknown token, expired JWT, store down) | refused as that scheme refuses it (401 / 4401, 4408, 503…), whatever the others find |
/// | one user | is that user |
/// | the same user, by several credentials | is that user, by the credential of the first scheme in the list |
/// | different users | refused, 401 / 4401 `credentials of different users in the … and … carriers` |
/// | a user, and a credential that names no one (a cookie of an unknown, expired or forged session) | refused, 401 / 4401 `invalid credential in the cookie carrier` |
/// | no credential, or only credentials that name no one | anonymous (`#[requires_auth]` refuses it, 401 / 4401) |
///
/// "The first scheme in the list" matters for what the connection keeps:
/// its [`Credential`], through which it is revoked (deleting a token closes
/// the sockets opened with that token, ending a session those of that
/// session), revalidated and, for a JWT, refreshed and expired. The
/// connection's log lines name the carrier that let it in; the scheme they
/// name is `"stack"`.
///
/// # Origins
///
/// A stack that contains `session` reads a cookie, so it is checked against
/// the consumer's origin policy (same host unless declared) **before** any
/// credential is read, exactly like `auth = "session"`: a page of another
/// site is refused 403 / 1008 even when it also sends a valid token.
/// That default also refuses a handshake without `Origin`, which is what
/// API clients send (browsers always send one): declare
/// `missing_origin = "allow"` on a stack that serves them.
///
/// # Rules
///
/// The schemes of a stack have the same user type (the consumer's), and at
/// most one of them reads tokens: `token` and `jwt` read the same carriers,
/// so a stack of both would check every token twice and refuse it once.
/// `#[consumer]` reports both mistakes at compile time; so does `Stack`
/// itself (the second where the consumer is mounted).
///
/// The router state provides what each scheme needs: [`Sessions`] and
/// [`Tokens`] for a session and token stack, through axum's `FromRef`.
///
/// [`Sessions`]: crate::Sessions
/// [`Tokens`]: crate::Tokens
///
/// ```
/// use axum::Router;
/// use axum::extract::FromRef;
/// use serde::{Deserialize, Serialize};
/// use sockwarden::prelude::*;
/// use sockwarden::session::{MemoryStore, Sessions};
/// use sockwarden::store::MemoryTokenStore;
/// use sockwarden::{Authenticate, Hub, SessionAuth, Stack, TokenAuth, Tokens};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct User { id: u64 }
/// impl AuthUser for User {
///     type Id = u64;
///     fn id(&self) -> u64 { self.id }
/// }
///
/// // Browsers by their session, API clients by their token; the session
/// // first, so a client that sends both is revoked with its session.
/// #[consumer(path = "/ws/feed", auth = ["session", "token"], missing_origin = "allow")]
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
/// #[derive(Clone)]
/// struct App { sessions: Sessions<User>, tokens: Tokens<User>, hub: Hub }
/// impl FromRef<App> for Sessions<User> {
///     fn from_ref(app: &App) -> Self { app.sessions.clone() }
/// }
/// impl FromRef<App> for Tokens<User> {
///     fn from_ref(app: &App) -> Self { app.tokens.clone() }
/// }
/// impl FromRef<App> for Hub {
///     fn from_ref(app: &App) -> Self { app.hub.clone() }
/// }
///
/// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
/// let tokens = MemoryTokenStore::new();
/// tokens.insert("tok-1", User { id: 1 });
/// let app: Router = Router::new()
///     .consumer::<Feed>()
///     .layer(sessions.layer())
///     .with_state(App { sessions, tokens: Tokens::new(tokens), hub: Hub::new() });
/// # let _ = app;
///
/// type Declared = Stack<SessionAuth<User>, TokenAuth<User>>;
/// assert_eq!(<Declared as Authenticate>::SCHEME, "stack");
/// assert!(<Declared as Authenticate>::COOKIES && <Declared as Authenticate>::TOKEN_CARRIERS);
/// ```
///
/// Two schemes that read tokens do not build:
///
/// ```compile_fail
/// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
/// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
/// use sockwarden::{Authenticate, JwtAuth, Stack, TokenAuth};
///
/// // error: a `Stack` may hold one scheme that reads tokens
/// let _ = <Stack<TokenAuth<User>, JwtAuth<User>> as Authenticate>::TOKEN_CARRIERS;
/// ```
pub struct Stack<A, B>(PhantomData<fn() -> (A, B)>);

impl<A, B> fmt::Debug for Stack<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stack")
    }
}

impl<A: Authenticate, B: Authenticate> Stack<A, B> {
    /// Fails the build, where the stack is used, when both schemes read
    /// tokens.
    const ONE_TOKEN_SCHEME: () = assert!(
        !(A::TOKEN_CARRIERS && B::TOKEN_CARRIERS),
        "a `Stack` may hold one scheme that reads tokens: `token` and `jwt` read the same \
         carriers, so every token would be checked by both and refused by one; stack one of \
         them with `session`"
    );
}

/// A scheme that can be stacked on schemes whose user type is `U`: the
/// bound on the second scheme of a [`Stack`], which says so when the user
/// types differ.
///
/// The schemes of this crate implement it for their own user type. A scheme
/// of your own is stacked once it does too, and says which credentials are
/// its own ([`Authenticate::issues`]) and where its credential travels
/// ([`Authenticate::present_carrier`]):
///
/// ```
/// # use axum::http::request::Parts;
/// # use sockwarden::{AuthUser, Authenticate, Identity, NoState, Rejection, Spec, StackUser};
/// # #[derive(Clone)] struct User;
/// # impl AuthUser for User { type Id = u8; fn id(&self) -> u8 { 0 } }
/// struct ApiKey;
/// # impl Authenticate for ApiKey {
/// #     type User = User;
/// #     type State = NoState;
/// #     const SCHEME: &'static str = "api-key";
/// #     async fn authenticate(_: &NoState, _: &Parts, _: &Spec) -> Result<Identity<User>, Rejection> {
/// #         Ok(Identity::Anonymous)
/// #     }
/// # }
/// impl StackUser<User> for ApiKey {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stacked on a scheme whose user type is `{U}`",
    label = "the schemes of a `Stack` must have one user type, `{U}`",
    note = "write every scheme of the stack with the consumer's user type: `Stack<SessionAuth<User>, TokenAuth<User>>`",
    note = "a scheme of your own is stacked once it implements `StackUser<{U}>`"
)]
pub trait StackUser<U>: Authenticate<User = U> {}

impl<U: AuthUser> StackUser<U> for super::TokenAuth<U> {}

impl<U: AuthUser> StackUser<U> for super::SessionAuth<U> {}

#[cfg(feature = "jwt")]
impl<U: AuthUser + serde::de::DeserializeOwned> StackUser<U> for super::JwtAuth<U> {}

impl<U, A: StackUser<U>, B: StackUser<U>> StackUser<U> for Stack<A, B> {}

impl<A, B> Authenticate for Stack<A, B>
where
    A: Authenticate,
    B: StackUser<A::User>,
{
    type User = A::User;
    type State = (A::State, B::State);
    const SCHEME: &'static str = "stack";
    const TOKEN_CARRIERS: bool = {
        let () = Self::ONE_TOKEN_SCHEME;
        A::TOKEN_CARRIERS || B::TOKEN_CARRIERS
    };
    const COOKIES: bool = A::COOKIES || B::COOKIES;

    async fn authenticate(
        (first, second): &(A::State, B::State),
        request: &Parts,
        spec: &Spec,
    ) -> Result<Identity<A::User>, Rejection> {
        // Named here so that two token schemes fail the build wherever the
        // stack authenticates, even if nothing reads `TOKEN_CARRIERS`.
        let () = Self::ONE_TOKEN_SCHEME;
        // In the declared order, and a refusal ends the handshake: the
        // schemes after it have nothing to add.
        let found = A::authenticate(first, request, spec).await?;
        let other = B::authenticate(second, request, spec).await?;
        match (found, other) {
            (Identity::Anonymous, Identity::Anonymous) => Ok(Identity::Anonymous),
            (found @ Identity::User { .. }, Identity::Anonymous) => {
                match B::present_carrier(second, request, spec) {
                    Some(carrier) => Err(nobody(carrier)),
                    None => Ok(found),
                }
            }
            (Identity::Anonymous, other @ Identity::User { .. }) => {
                match A::present_carrier(first, request, spec) {
                    Some(carrier) => Err(nobody(carrier)),
                    None => Ok(other),
                }
            }
            (
                Identity::User {
                    user,
                    carrier,
                    credential,
                },
                Identity::User {
                    user: other_user,
                    carrier: other_carrier,
                    ..
                },
            ) => {
                if user.id() == other_user.id() {
                    Ok(Identity::User {
                        user,
                        carrier,
                        credential,
                    })
                } else {
                    Err(Rejection::not_authenticated(format!(
                        "credentials of different users in the {carrier} and {other_carrier} \
                         carriers"
                    ))
                    .with_carrier(other_carrier))
                }
            }
        }
    }

    fn present_carrier(
        (first, second): &(A::State, B::State),
        request: &Parts,
        spec: &Spec,
    ) -> Option<Carrier> {
        A::present_carrier(first, request, spec)
            .or_else(|| B::present_carrier(second, request, spec))
    }

    fn issues(credential: &Credential) -> bool {
        A::issues(credential) || B::issues(credential)
    }

    fn link((first, second): &(A::State, B::State), hub: &Hub) {
        A::link(first, hub);
        B::link(second, hub);
    }

    /// Re-read by the scheme that let the connection in, known by its
    /// credential; a credential that no scheme of the stack claims is not
    /// valid any more.
    async fn revalidate(
        (first, second): &(A::State, B::State),
        user: &A::User,
        credential: &Credential,
    ) -> Result<bool, Rejection> {
        if A::issues(credential) {
            A::revalidate(first, user, credential).await
        } else if B::issues(credential) {
            B::revalidate(second, user, credential).await
        } else {
            Ok(false)
        }
    }

    /// The first scheme, in the declared order, that takes credentials
    /// in-band.
    fn refresh(
        (first, second): &(A::State, B::State),
        token: &str,
    ) -> Option<Result<(A::User, Credential), Rejection>> {
        A::refresh(first, token).or_else(|| B::refresh(second, token))
    }
}

impl<S, A, B> AuthState<S> for Stack<A, B>
where
    A: AuthState<S>,
    B: AuthState<S> + StackUser<A::User>,
{
    fn state(state: &S) -> (A::State, B::State) {
        (A::state(state), B::state(state))
    }
}

/// The refusal of a present credential that names no one, beside one
/// that names a user: it is not silently ignored.
fn nobody(carrier: Carrier) -> Rejection {
    let rejection =
        Rejection::not_authenticated(format!("invalid credential in the {carrier} carrier"))
            .with_carrier(carrier);
    match carrier {
        Carrier::Cookie => rejection,
        _ => rejection.with_challenge(r#"Bearer realm="websocket", error="invalid_token""#),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use serde::{Deserialize, Serialize};
    use tower_sessions::MemoryStore;
    use tower_sessions::session::Id;

    use super::*;
    use crate::auth::{NoState, SessionAuth, Sessions, TokenAuth};
    use crate::reject::RejectKind;
    use crate::store::{MemoryTokenStore, Tokens, token_digest};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct User {
        id: u64,
        name: String,
    }

    impl AuthUser for User {
        type Id = u64;
        fn id(&self) -> u64 {
            self.id
        }
    }

    fn alice() -> User {
        User {
            id: 1,
            name: "alice".into(),
        }
    }

    fn bob() -> User {
        User {
            id: 2,
            name: "bob".into(),
        }
    }

    type SessionFirst = Stack<SessionAuth<User>, TokenAuth<User>>;
    type TokenFirst = Stack<TokenAuth<User>, SessionAuth<User>>;

    /// Alice's and Bob's tokens, a session of each, and the states of both
    /// orders of the stack.
    struct Fixture {
        sessions: Sessions<User>,
        store: MemoryTokenStore<User>,
        tokens: Tokens<User>,
        alice: Id,
        bob: Id,
    }

    impl Fixture {
        async fn new() -> Fixture {
            let sessions: Sessions<User> =
                Sessions::new(MemoryStore::default()).with_cookie_name("sid");
            let store = MemoryTokenStore::new();
            store.insert("tok-alice", alice());
            store.insert("tok-bob", bob());
            let alice = sessions.create_session(&alice()).await.unwrap();
            let bob = sessions.create_session(&bob()).await.unwrap();
            Fixture {
                tokens: Tokens::new(store.clone()),
                sessions,
                store,
                alice,
                bob,
            }
        }

        fn session_first(&self) -> (Sessions<User>, Tokens<User>) {
            (self.sessions.clone(), self.tokens.clone())
        }

        fn token_first(&self) -> (Tokens<User>, Sessions<User>) {
            (self.tokens.clone(), self.sessions.clone())
        }
    }

    /// A handshake with a session cookie and an `Authorization` header,
    /// each when given.
    fn handshake(sid: Option<&str>, authorization: Option<&str>) -> Parts {
        let mut request = Request::get("/ws");
        if let Some(sid) = sid {
            request = request.header("cookie", format!("theme=dark; sid={sid}"));
        }
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.body(()).unwrap().into_parts().0
    }

    const SPEC: Spec = Spec::new("T", "/ws");

    async fn session_first(
        fixture: &Fixture,
        sid: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<Identity<User>, Rejection> {
        let parts = handshake(sid, authorization);
        SessionFirst::authenticate(&fixture.session_first(), &parts, &SPEC).await
    }

    fn user_of(identity: Identity<User>) -> (User, Carrier, Credential) {
        match identity {
            Identity::User {
                user,
                carrier,
                credential,
            } => (user, carrier, credential),
            Identity::Anonymous => panic!("expected a user, got anonymous"),
        }
    }

    #[tokio::test]
    async fn each_kind_of_client_is_its_user() {
        let fixture = Fixture::new().await;
        let sid = fixture.alice.to_string();
        let browser = session_first(&fixture, Some(&sid), None).await.unwrap();
        assert_eq!(
            user_of(browser),
            (alice(), Carrier::Cookie, Credential::Session(sid))
        );
        let api = session_first(&fixture, None, Some("Token tok-bob"))
            .await
            .unwrap();
        assert_eq!(
            user_of(api),
            (
                bob(),
                Carrier::Header,
                Credential::Token(token_digest("tok-bob"))
            )
        );
    }

    #[tokio::test]
    async fn the_first_scheme_that_identifies_the_user_gives_the_credential() {
        let fixture = Fixture::new().await;
        let sid = fixture.alice.to_string();
        let parts = handshake(Some(&sid), Some("Bearer tok-alice"));
        let by_session = SessionFirst::authenticate(&fixture.session_first(), &parts, &SPEC)
            .await
            .unwrap();
        assert_eq!(
            user_of(by_session),
            (alice(), Carrier::Cookie, Credential::Session(sid))
        );
        let by_token = TokenFirst::authenticate(&fixture.token_first(), &parts, &SPEC)
            .await
            .unwrap();
        assert_eq!(
            user_of(by_token),
            (
                alice(),
                Carrier::Header,
                Credential::Token(token_digest("tok-alice"))
            )
        );
    }

    #[tokio::test]
    async fn credentials_of_different_users_are_refused() {
        let fixture = Fixture::new().await;
        let refused = session_first(
            &fixture,
            Some(&fixture.alice.to_string()),
            Some("Token tok-bob"),
        )
        .await
        .unwrap_err();
        assert_eq!(refused.kind(), RejectKind::NotAuthenticated);
        assert_eq!(
            refused.reason(),
            "credentials of different users in the cookie and header carriers"
        );
        // Whichever order they are declared in.
        let parts = handshake(Some(&fixture.bob.to_string()), Some("Token tok-alice"));
        let refused = TokenFirst::authenticate(&fixture.token_first(), &parts, &SPEC)
            .await
            .unwrap_err();
        assert_eq!(
            refused.reason(),
            "credentials of different users in the header and cookie carriers"
        );
    }

    #[tokio::test]
    async fn a_cookie_that_names_no_session_refuses_a_valid_token() {
        let fixture = Fixture::new().await;
        let deleted = fixture.sessions.create_session(&alice()).await.unwrap();
        fixture.sessions.delete_session(&deleted).await.unwrap();
        let stale = [
            "forged".to_owned(),
            Id::default().to_string(),
            deleted.to_string(),
        ];
        for sid in &stale {
            for order in [true, false] {
                let parts = handshake(Some(sid), Some("Token tok-alice"));
                let refused = if order {
                    SessionFirst::authenticate(&fixture.session_first(), &parts, &SPEC).await
                } else {
                    TokenFirst::authenticate(&fixture.token_first(), &parts, &SPEC).await
                }
                .unwrap_err();
                assert_eq!(refused.kind(), RejectKind::NotAuthenticated, "{sid}");
                assert_eq!(refused.reason(), "invalid credential in the cookie carrier");
                assert_eq!(refused.carrier(), Some(Carrier::Cookie));
            }
            // Alone, the same cookie is anonymous, as with `auth = "session"`.
            assert_eq!(
                session_first(&fixture, Some(sid), None).await.unwrap(),
                Identity::Anonymous
            );
        }
    }

    #[tokio::test]
    async fn a_token_that_is_refused_refuses_a_valid_session() {
        let fixture = Fixture::new().await;
        let sid = fixture.alice.to_string();
        for authorization in ["Token tok-nobody", "Basic YWxpY2U6cHc=", "Token "] {
            let refused = session_first(&fixture, Some(&sid), Some(authorization))
                .await
                .unwrap_err();
            assert_eq!(
                refused.kind(),
                RejectKind::NotAuthenticated,
                "{authorization}"
            );
            assert_eq!(refused.carrier(), Some(Carrier::Header));
        }
        // A token revoked in the store is refused from then on.
        fixture.store.revoke("tok-alice");
        let refused = session_first(&fixture, Some(&sid), Some("Token tok-alice"))
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "unknown token in the header carrier");
    }

    #[tokio::test]
    async fn no_credential_is_anonymous() {
        let fixture = Fixture::new().await;
        assert_eq!(
            session_first(&fixture, None, None).await.unwrap(),
            Identity::Anonymous
        );
    }

    #[tokio::test]
    async fn carriers_and_credentials_are_those_of_either_scheme() {
        let fixture = Fixture::new().await;
        let state = fixture.session_first();
        let present = |sid, authorization| {
            SessionFirst::present_carrier(&state, &handshake(sid, authorization), &SPEC)
        };
        assert_eq!(present(None, None), None);
        assert_eq!(present(Some("forged"), None), Some(Carrier::Cookie));
        assert_eq!(present(None, Some("Token x")), Some(Carrier::Header));
        assert_eq!(present(None, Some("Basic x")), Some(Carrier::Header));
        // The first scheme's carrier when both are there.
        assert_eq!(
            present(Some("forged"), Some("Token x")),
            Some(Carrier::Cookie)
        );

        assert!(SessionFirst::issues(&Credential::Session("s".into())));
        assert!(SessionFirst::issues(&Credential::Token([0; 32])));
        assert!(!SessionFirst::issues(&Credential::Opaque));
        assert!(!SessionFirst::issues(&Credential::Jwt { expires_at: None }));

        assert_eq!(SessionFirst::SCHEME, "stack");
        const { assert!(SessionFirst::COOKIES && TokenFirst::COOKIES) };
        const { assert!(SessionFirst::TOKEN_CARRIERS && TokenFirst::TOKEN_CARRIERS) };
    }

    #[tokio::test]
    async fn revalidation_goes_to_the_scheme_that_let_the_connection_in() {
        let fixture = Fixture::new().await;
        let state = fixture.session_first();
        let session = Credential::Session(fixture.alice.to_string());
        assert!(
            SessionFirst::revalidate(&state, &alice(), &session)
                .await
                .unwrap()
        );
        // The session names Alice, not Bob: the session scheme answered.
        assert!(
            !SessionFirst::revalidate(&state, &bob(), &session)
                .await
                .unwrap()
        );
        fixture
            .sessions
            .delete_session(&fixture.alice)
            .await
            .unwrap();
        assert!(
            !SessionFirst::revalidate(&state, &alice(), &session)
                .await
                .unwrap()
        );

        // Token auth keeps its connections (revocation closes them instead),
        // where the session scheme would have refused a token credential.
        let token = Credential::Token(token_digest("tok-bob"));
        assert!(
            SessionFirst::revalidate(&state, &bob(), &token)
                .await
                .unwrap()
        );
        assert!(
            TokenFirst::revalidate(&fixture.token_first(), &bob(), &token)
                .await
                .unwrap()
        );
        // A credential neither scheme issues is not valid here.
        assert!(
            !SessionFirst::revalidate(&state, &bob(), &Credential::Opaque)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn neither_session_nor_token_takes_credentials_in_band() {
        let fixture = Fixture::new().await;
        assert!(SessionFirst::refresh(&fixture.session_first(), "tok-alice").is_none());
    }

    #[tokio::test]
    async fn the_state_is_each_scheme_s_own() {
        let fixture = Fixture::new().await;
        #[derive(Clone)]
        struct App(Sessions<User>, Tokens<User>);
        impl axum::extract::FromRef<App> for Sessions<User> {
            fn from_ref(app: &App) -> Self {
                app.0.clone()
            }
        }
        impl axum::extract::FromRef<App> for Tokens<User> {
            fn from_ref(app: &App) -> Self {
                app.1.clone()
            }
        }
        let app = App(fixture.sessions.clone(), fixture.tokens.clone());
        let state = <TokenFirst as AuthState<App>>::state(&app);
        let parts = handshake(None, Some("Token tok-bob"));
        let (user, ..) = user_of(
            TokenFirst::authenticate(&state, &parts, &SPEC)
                .await
                .unwrap(),
        );
        assert_eq!(user, bob());
    }

    /// A scheme of the tests: `x-user: <name>` is that user, `ghost` a
    /// present credential that names no one, `bad` a refused one.
    struct Named;

    impl StackUser<User> for Named {}

    impl Authenticate for Named {
        type User = User;
        type State = NoState;
        const SCHEME: &'static str = "named";

        async fn authenticate(
            _: &NoState,
            request: &Parts,
            _: &Spec,
        ) -> Result<Identity<User>, Rejection> {
            let Some(name) = request.headers.get("x-user") else {
                return Ok(Identity::Anonymous);
            };
            match name.to_str().unwrap() {
                "alice" => Ok(Identity::User {
                    user: alice(),
                    carrier: Carrier::Query,
                    credential: Credential::Opaque,
                }),
                "bob" => Ok(Identity::User {
                    user: bob(),
                    carrier: Carrier::Query,
                    credential: Credential::Opaque,
                }),
                "ghost" => Ok(Identity::Anonymous),
                _ => Err(Rejection::not_authenticated("bad name")),
            }
        }

        fn present_carrier(_: &NoState, request: &Parts, _: &Spec) -> Option<Carrier> {
            request
                .headers
                .contains_key("x-user")
                .then_some(Carrier::Query)
        }
    }

    #[tokio::test]
    async fn stacks_nest_and_every_present_credential_counts() {
        type Three = Stack<SessionAuth<User>, Stack<Named, TokenAuth<User>>>;
        let fixture = Fixture::new().await;
        let state = (fixture.sessions.clone(), (NoState, fixture.tokens.clone()));
        let sid = fixture.alice.to_string();
        let run = |sid: Option<&str>, name: Option<&str>, token: Option<&str>| {
            let mut parts = handshake(sid, token);
            if let Some(name) = name {
                parts.headers.insert("x-user", name.parse().unwrap());
            }
            let state = state.clone();
            async move { Three::authenticate(&state, &parts, &SPEC).await }
        };
        // Three credentials of Alice: hers, by the session, the first.
        let (user, carrier, _) = user_of(
            run(Some(&sid), Some("alice"), Some("Token tok-alice"))
                .await
                .unwrap(),
        );
        assert_eq!((user, carrier), (alice(), Carrier::Cookie));
        // The middle scheme alone.
        let (user, carrier, _) = user_of(run(None, Some("bob"), None).await.unwrap());
        assert_eq!((user, carrier), (bob(), Carrier::Query));
        // Its ghost beside a token, or a session: refused.
        let refused = run(None, Some("ghost"), Some("Token tok-bob"))
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "invalid credential in the query carrier");
        let refused = run(Some(&sid), Some("ghost"), None).await.unwrap_err();
        assert_eq!(refused.reason(), "invalid credential in the query carrier");
        // Its refusal wins over two valid credentials.
        let refused = run(Some(&sid), Some("bad"), Some("Token tok-alice"))
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "bad name");
        // The last scheme disagrees with the first.
        let refused = run(Some(&sid), None, Some("Token tok-bob"))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), RejectKind::NotAuthenticated);
        // Only ghosts: anonymous.
        assert_eq!(
            run(Some("forged"), Some("ghost"), None).await.unwrap(),
            Identity::Anonymous
        );
    }

    #[cfg(feature = "jwt")]
    #[tokio::test]
    async fn a_jwt_is_refreshed_in_band_and_revalidated_by_its_own_scheme() {
        use crate::auth::{Jwt, JwtAuth};

        type WithJwt = Stack<SessionAuth<User>, JwtAuth<User>>;
        let fixture = Fixture::new().await;
        let jwt: Jwt<User> = Jwt::hs256(&[7; 32]).allow_no_exp();
        let state = (fixture.sessions.clone(), jwt.clone());
        let token = jwt.sign(&serde_json::json!({ "id": 1, "name": "alice" }));
        let (user, credential) = WithJwt::refresh(&state, &token).unwrap().unwrap();
        assert_eq!(user, alice());
        assert!(WithJwt::issues(&credential));
        assert!(
            WithJwt::revalidate(&state, &alice(), &credential)
                .await
                .unwrap()
        );
        const { assert!(WithJwt::TOKEN_CARRIERS && WithJwt::COOKIES) };

        let parts = handshake(
            Some(&fixture.alice.to_string()),
            Some(&format!("Bearer {token}")),
        );
        let (user, carrier, _) =
            user_of(WithJwt::authenticate(&state, &parts, &SPEC).await.unwrap());
        assert_eq!((user, carrier), (alice(), Carrier::Cookie));
    }
}
