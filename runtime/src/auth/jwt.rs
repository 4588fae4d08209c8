//! `auth = "jwt"`: a JSON Web Token in a carrier, verified with a key.
//!
//! The token travels like any other (`Authorization: Bearer`, the
//! subprotocol marker, `?token=` when enabled; [`find_token`] decides), and
//! is checked here: its algorithm, signature, audience, issuer, `nbf` and
//! `exp`. The user is the claims object itself, deserialised into the
//! consumer's user type. [`Jwt::verify`] is the one check, used by the
//! handshake and by the in-band refresh of an open connection alike.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRef;
use axum::http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{AuthState, AuthUser, Authenticate, Carrier, Credential, Identity, find_token};
use crate::endpoint::{Limits, Spec};
use crate::reject::Rejection;

/// The `WWW-Authenticate` challenge of an invalid token (RFC 6750 §3.1).
const INVALID: &str = r#"Bearer realm="websocket", error="invalid_token""#;
/// The challenge of an expired one: the same error, and a description that
/// tells a client to fetch a fresh token rather than log in again.
const EXPIRED: &str =
    r#"Bearer realm="websocket", error="invalid_token", error_description="expired""#;
/// The shortest HS256 secret accepted: 256 bits, as RFC 7518 §3.2 requires.
const MIN_HS256_SECRET: usize = 32;

/// The keys and checks of `auth = "jwt"`, and the verifier of its tokens.
///
/// Put one in the router state (or make it reachable with axum's
/// `FromRef`), and consumers declared with `auth = "jwt"` check their
/// handshakes with it. Cloning is cheap: the keys are shared.
///
/// # What is checked
///
/// Every token must pass, in this order: its length (the consumer's
/// `max_credential_len`), its header (a known algorithm, no `crit`
/// extensions), the algorithm (exactly the configured one, so `alg: none`
/// and HS256-signed-with-the-public-key tricks fail), the signature, the
/// audience and the issuer (see [`Jwt::audience`] and [`Jwt::issuer`]),
/// `nbf` (not before), then `exp` (required, see [`Jwt::allow_no_exp`]).
/// Each failure refuses with 401 / close 4401 and a reason that names the
/// check, except an expired token: 401 / close 4408, the code that tells a
/// client to fetch a fresh token. The reason never quotes the token.
///
/// # The user
///
/// The user is the claims object, deserialised with serde into the
/// consumer's `#[user]` type, so a claims struct that implements
/// [`AuthUser`] is all it takes: no lookup, no mapping code. Registered
/// claims (`exp`, `aud`, …) are in the object too; name the ones you want
/// as fields and serde ignores the rest (unless the type denies unknown
/// fields). Claims that do not deserialise refuse the token (401 / 4401).
///
/// ```
/// use serde::Deserialize;
/// use sockwarden::{AuthUser, Jwt};
///
/// #[derive(Clone, Deserialize)]
/// struct User { sub: String, name: String }
///
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.sub.clone() }
/// }
///
/// let jwt: Jwt<User> = Jwt::hs256(b"a secret of at least thirty-two bytes").audience("chat");
///
/// let in_ten_minutes = std::time::SystemTime::now()
///     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
/// let token = jwt.sign(&serde_json::json!({
///     "sub": "u-1", "name": "Ada", "aud": "chat", "exp": in_ten_minutes,
/// }));
///
/// let (user, credential) = jwt.verify(&token).unwrap();
/// assert_eq!((user.id(), user.name.as_str()), ("u-1".to_owned(), "Ada"));
/// assert!(credential.expires_at().is_some());
/// ```
pub struct Jwt<U> {
    inner: Arc<Inner>,
    user: PhantomData<fn() -> U>,
}

/// What a [`Jwt`] shares between its clones.
#[derive(Clone)]
struct Inner {
    key: DecodingKey,
    algorithm: Algorithm,
    /// The HS256 secret again, for [`Jwt::sign`]; `None` for other keys.
    signing: Option<EncodingKey>,
    /// The algorithm, audience and issuer checks, run by jsonwebtoken.
    /// Its own `exp` and `nbf` checks are off: they are done here, on the
    /// same clock and leeway as the expiry of an open connection.
    validation: Validation,
    leeway: Duration,
    require_exp: bool,
}

impl<U> Clone for Jwt<U> {
    fn clone(&self) -> Self {
        Jwt {
            inner: Arc::clone(&self.inner),
            user: PhantomData,
        }
    }
}

impl<U> fmt::Debug for Jwt<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Jwt")
            .field("algorithm", &inner.algorithm)
            .field("audience", &inner.validation.aud)
            .field("issuer", &inner.validation.iss)
            .field("leeway", &inner.leeway)
            .field("require_exp", &inner.require_exp)
            .finish_non_exhaustive()
    }
}

impl<U> Jwt<U> {
    /// Tokens signed with HMAC-SHA256 and `secret`, the secret shared with
    /// whoever issues them. The secret must be at least 32 bytes (256 bits,
    /// RFC 7518 §3.2): a shorter one can be brute-forced from one token.
    ///
    /// A `Jwt` built this way can also [`sign`](Jwt::sign) tokens.
    ///
    /// # Panics
    ///
    /// If `secret` is shorter than 32 bytes.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let secret = std::env::var("JWT_SECRET").unwrap_or_else(|_| "x".repeat(32));
    /// let jwt: Jwt<User> = Jwt::hs256(secret.as_bytes());
    /// ```
    pub fn hs256(secret: &[u8]) -> Jwt<U> {
        assert!(
            secret.len() >= MIN_HS256_SECRET,
            "Jwt::hs256: the secret is {} bytes; HS256 needs at least {MIN_HS256_SECRET} \
             (RFC 7518 §3.2), or tokens can be forged by guessing it",
            secret.len(),
        );
        let mut jwt = Jwt::new(DecodingKey::from_secret(secret), Algorithm::HS256);
        Arc::make_mut(&mut jwt.inner).signing = Some(EncodingKey::from_secret(secret));
        jwt
    }

    /// Tokens signed with `algorithm`, checked with `key`: an RSA, ECDSA or
    /// Ed25519 public key (or an HMAC secret), built with jsonwebtoken's
    /// `DecodingKey` constructors (from DER, from a JWK, from components).
    ///
    /// Only `algorithm` is accepted, whatever a token's header says: one
    /// key, one algorithm, so no token can choose how it is checked.
    ///
    /// # Panics
    ///
    /// If `key` is not a key for `algorithm` (an RSA key with ES256…).
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use jsonwebtoken::{Algorithm, DecodingKey};
    /// use sockwarden::Jwt;
    ///
    /// // The identity provider's Ed25519 public key, `x` of its JWK.
    /// let key = DecodingKey::from_ed_components("h9wFRZtuh79QGdkQIIwsCU-6gt1--FiysWf3NCKCHsg").unwrap();
    /// let jwt: Jwt<User> = Jwt::new(key, Algorithm::EdDSA)
    ///     .issuer("https://id.example.com")
    ///     .audience("chat");
    /// ```
    pub fn new(key: DecodingKey, algorithm: Algorithm) -> Jwt<U> {
        assert!(
            key.family() == algorithm.family(),
            "Jwt::new: the key is a {:?} key, it cannot check {algorithm:?} signatures",
            key.family(),
        );
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        validation.leeway = 0;
        Jwt {
            inner: Arc::new(Inner {
                key,
                algorithm,
                signing: None,
                validation,
                leeway: Duration::ZERO,
                require_exp: true,
            }),
            user: PhantomData,
        }
    }

    /// Accepts tokens for `audience` (the `aud` claim, a string or an array
    /// naming it); call again to accept several. Once an audience is set, a
    /// token without `aud` is refused too.
    ///
    /// Without any, a token that names an audience is refused: RFC 7519
    /// §4.1.3 says a recipient not named in `aud` must refuse it, and a
    /// token meant for another service must not open this one.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]).audience("chat").audience("chat-beta");
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Jwt<U> {
        let inner = Arc::make_mut(&mut self.inner);
        inner
            .validation
            .aud
            .get_or_insert_with(Default::default)
            .insert(audience.into());
        inner.validation.required_spec_claims.insert("aud".into());
        self
    }

    /// Accepts tokens issued by `issuer` (the `iss` claim); call again to
    /// accept several. Once an issuer is set, a token without `iss` is
    /// refused. Without any, `iss` is not looked at.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]).issuer("https://id.example.com");
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Jwt<U> {
        let inner = Arc::make_mut(&mut self.inner);
        inner
            .validation
            .iss
            .get_or_insert_with(Default::default)
            .insert(issuer.into());
        inner.validation.required_spec_claims.insert("iss".into());
        self
    }

    /// Tolerates clocks that disagree by up to `secs` seconds: a token is
    /// accepted from `nbf - secs` and until `exp + secs`. None by default.
    ///
    /// The leeway is part of the expiry: [`Credential::Jwt`]'s `expires_at`
    /// is `exp + secs`, so an open connection is closed when the handshake
    /// would start refusing the token, not before.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]).leeway(30);
    /// ```
    pub fn leeway(mut self, secs: u64) -> Jwt<U> {
        Arc::make_mut(&mut self.inner).leeway = Duration::from_secs(secs);
        self
    }

    /// Accepts tokens without `exp`; their connections never expire.
    ///
    /// By default a token without `exp` is refused (401 / 4401): such a
    /// token is valid forever, so a leaked one opens sockets forever and an
    /// open connection is never asked for a fresh one; only changing the
    /// key revokes it. Accept them only from an issuer you trust to mint
    /// them on purpose. A token that has `exp` is still checked.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]).allow_no_exp();
    /// let (_, credential) = jwt.verify(&jwt.sign(&serde_json::json!({ "sub": "u-1" }))).unwrap();
    /// assert_eq!(credential.expires_at(), None);
    /// ```
    pub fn allow_no_exp(mut self) -> Jwt<U> {
        Arc::make_mut(&mut self.inner).require_exp = false;
        self
    }

    /// Signs `claims` into a token with this `Jwt`'s HS256 secret: for
    /// tests, examples and demos. A real app's tokens come from its login
    /// endpoint or identity provider; nothing here adds `exp` or any other
    /// claim for you.
    ///
    /// # Panics
    ///
    /// If this `Jwt` was not built with [`Jwt::hs256`] (it holds no secret
    /// to sign with), or if `claims` does not serialise to JSON.
    ///
    /// ```
    /// # #[derive(Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::Jwt;
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]);
    /// let token = jwt.sign(&serde_json::json!({ "sub": "u-1", "exp": 4_102_444_800u64 }));
    /// assert_eq!(token.split('.').count(), 3);
    /// ```
    pub fn sign(&self, claims: &impl Serialize) -> String {
        let key =
            self.inner.signing.as_ref().expect(
                "Jwt::sign needs the HS256 secret: only a Jwt built with Jwt::hs256 can sign",
            );
        jsonwebtoken::encode(&Header::new(self.inner.algorithm), claims, key)
            .expect("Jwt::sign: the claims do not serialise to JSON")
    }
}

impl<U: AuthUser + DeserializeOwned> Jwt<U> {
    /// Checks `token` now and returns its user and its credential,
    /// [`Credential::Jwt`] with `expires_at` = `exp` (plus the leeway), or
    /// `None` for a token without `exp` when [`Jwt::allow_no_exp`] allows one.
    ///
    /// The handshake of `auth = "jwt"` calls it on the carrier's token; call
    /// it on a fresh token sent over an open connection too. Tokens longer
    /// than [`Limits::DEFAULT`]'s `max_credential_len` are refused unread.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] whose reason names the failed check, never quoting
    /// the token: [`RejectKind::CredentialExpired`](crate::RejectKind) (401
    /// / 4408) for an expired token, `NotAuthenticated` (401 / 4401) for
    /// any other failure, `ServerError` if the key itself cannot check
    /// signatures.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Deserialize)] struct User { sub: String }
    /// # impl sockwarden::AuthUser for User { type Id = String; fn id(&self) -> String { self.sub.clone() } }
    /// use sockwarden::{Jwt, RejectKind};
    ///
    /// let jwt: Jwt<User> = Jwt::hs256(&[7; 32]);
    /// let expired = jwt.sign(&serde_json::json!({ "sub": "u-1", "exp": 1_000_000_000 }));
    /// let refused = jwt.verify(&expired).unwrap_err();
    /// assert_eq!(refused.kind(), RejectKind::CredentialExpired);
    /// assert_eq!(refused.kind().close_code(), 4408);
    /// assert_eq!(refused.reason(), "expired JWT");
    ///
    /// let forged = Jwt::<User>::hs256(&[8; 32]).sign(&serde_json::json!({ "sub": "u-1" }));
    /// assert_eq!(jwt.verify(&forged).unwrap_err().reason(), "JWT with a bad signature");
    /// ```
    pub fn verify(&self, token: &str) -> Result<(U, Credential), Rejection> {
        self.check(token, Limits::DEFAULT.max_credential_len, SystemTime::now())
            .map_err(|failure| failure.rejection(None))
    }

    /// [`Jwt::verify`] at `now`, with the length bound of the caller.
    fn check(
        &self,
        token: &str,
        max_len: usize,
        now: SystemTime,
    ) -> Result<(U, Credential), Failure> {
        let inner = &*self.inner;
        if token.len() > max_len {
            return Err(Failure::Oversized);
        }
        // The header alone first: an unknown algorithm (`none` among them)
        // or critical extensions we do not implement (RFC 7515 §4.1.11).
        let header = jsonwebtoken::decode_header(token).map_err(|error| match error.kind() {
            ErrorKind::Json(json) if json.is_data() => Failure::UnsupportedHeader,
            _ => Failure::Malformed,
        })?;
        if header.crit.is_some() {
            return Err(Failure::UnsupportedHeader);
        }
        let claims = jsonwebtoken::decode::<Value>(token, &inner.key, &inner.validation)
            .map_err(Failure::from_decode)?
            .claims;
        if !claims.is_object() {
            return Err(Failure::Malformed);
        }
        // jsonwebtoken lets an `aud` that is neither a string nor an array
        // of strings through when no audience is set; any `aud` is refused.
        if inner.validation.aud.is_none() && claims.get("aud").is_some() {
            return Err(Failure::Audience);
        }

        let not_before = numeric_date(&claims, "nbf")?;
        let expires = numeric_date(&claims, "exp")?;
        if let Some(not_before) = not_before
            && now
                .checked_add(inner.leeway)
                .is_some_and(|late| late < not_before)
        {
            return Err(Failure::NotYetValid);
        }
        let expires_at = match expires {
            Some(exp) => Some(
                exp.checked_add(inner.leeway)
                    .ok_or(Failure::InvalidClaim("exp"))?,
            ),
            None if inner.require_exp => return Err(Failure::MissingClaim("exp")),
            None => None,
        };
        if expires_at.is_some_and(|expires_at| now >= expires_at) {
            return Err(Failure::Expired);
        }

        let user = serde_json::from_value(claims).map_err(|_| Failure::NotAUser)?;
        Ok((user, Credential::Jwt { expires_at }))
    }
}

/// A NumericDate claim (RFC 7519 §2: seconds since the epoch, possibly
/// fractional) as a time; `None` when absent.
fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<SystemTime>, Failure> {
    let invalid = Failure::InvalidClaim(name);
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let Value::Number(number) = value else {
        return Err(invalid);
    };
    let since_epoch = match number.as_u64() {
        Some(secs) => Duration::from_secs(secs),
        None => number
            .as_f64()
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .ok_or(invalid)?,
    };
    UNIX_EPOCH.checked_add(since_epoch).map(Some).ok_or(invalid)
}

/// Why a token was refused; its reason names the check, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Oversized,
    Malformed,
    UnsupportedHeader,
    Algorithm,
    Signature,
    Audience,
    Issuer,
    MissingClaim(&'static str),
    InvalidClaim(&'static str),
    NotYetValid,
    Expired,
    NotAUser,
    /// The configured key cannot check signatures: the server's fault.
    Key,
}

impl Failure {
    /// Sorts jsonwebtoken's errors. Header errors were caught before, so a
    /// JSON error here is about the claims.
    fn from_decode(error: jsonwebtoken::errors::Error) -> Failure {
        let claim = |name: &str| match name {
            "aud" => Some("aud"),
            "iss" => Some("iss"),
            "sub" => Some("sub"),
            "exp" => Some("exp"),
            "nbf" => Some("nbf"),
            _ => None,
        };
        match error.kind() {
            ErrorKind::InvalidAlgorithm
            | ErrorKind::MissingAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm => Failure::Algorithm,
            ErrorKind::InvalidSignature => Failure::Signature,
            ErrorKind::InvalidAudience => Failure::Audience,
            ErrorKind::InvalidIssuer => Failure::Issuer,
            ErrorKind::MissingRequiredClaim(name) => {
                claim(name).map_or(Failure::Malformed, Failure::MissingClaim)
            }
            ErrorKind::InvalidClaimFormat(name) => {
                claim(name).map_or(Failure::Malformed, Failure::InvalidClaim)
            }
            ErrorKind::ExpiredSignature => Failure::Expired,
            ErrorKind::ImmatureSignature => Failure::NotYetValid,
            ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::Provider(_) => {
                tracing::error!(%error, "the JWT key cannot check signatures");
                Failure::Key
            }
            _ => Failure::Malformed,
        }
    }

    /// The reason, without the carrier.
    fn what(self) -> Cow<'static, str> {
        match self {
            Failure::Oversized => "oversized JWT".into(),
            Failure::Malformed => "malformed JWT".into(),
            Failure::UnsupportedHeader => "JWT with an unsupported algorithm or header".into(),
            Failure::Algorithm => "JWT signed with a disallowed algorithm".into(),
            Failure::Signature => "JWT with a bad signature".into(),
            Failure::Audience => "JWT for another audience".into(),
            Failure::Issuer => "JWT from another issuer".into(),
            Failure::MissingClaim(name) => format!("JWT without the `{name}` claim").into(),
            Failure::InvalidClaim(name) => format!("JWT with an invalid `{name}` claim").into(),
            Failure::NotYetValid => "JWT not yet valid (`nbf`)".into(),
            Failure::Expired => "expired JWT".into(),
            Failure::NotAUser => "JWT whose claims are not a user".into(),
            Failure::Key => "the JWT key cannot check signatures".into(),
        }
    }

    /// The refusal, naming the carrier the token came in when known.
    fn rejection(self, carrier: Option<Carrier>) -> Rejection {
        let what = self.what();
        let reason = match carrier {
            Some(carrier) if self != Failure::Key => {
                format!("{what} in the {carrier} carrier").into()
            }
            _ => what,
        };
        let rejection = match self {
            Failure::Expired => Rejection::credential_expired(reason).with_challenge(EXPIRED),
            Failure::Key => Rejection::server_error(reason),
            _ => Rejection::not_authenticated(reason).with_challenge(INVALID),
        };
        match carrier {
            Some(carrier) => rejection.with_carrier(carrier),
            None => rejection,
        }
    }
}

/// The scheme of `auth = "jwt"`: the token is read from the first present
/// carrier, as for `auth = "token"`, and checked by the [`Jwt`] that the
/// router state provides. The `#[user]` field is filled from its claims.
///
/// A token that fails a check is refused whether or not the consumer
/// requires auth: a client that presents a credential means to be someone.
///
/// ```
/// use axum::Router;
/// use axum::extract::FromRef;
/// use serde::Deserialize;
/// use sockwarden::prelude::*;
/// use sockwarden::{Hub, Jwt};
///
/// /// The user is the token's claims.
/// #[derive(Clone, Deserialize)]
/// struct User { sub: String, name: String }
///
/// impl AuthUser for User {
///     type Id = String;
///     fn id(&self) -> String { self.sub.clone() }
/// }
///
/// #[consumer(path = "/ws/feed", auth = "jwt", reject = "close")]
/// #[requires_auth]
/// struct Feed {
///     #[user] user: User,
/// }
///
/// impl Consumer for Feed {
///     type In = serde_json::Value;
///
///     async fn receive(&mut self, cx: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
///         cx.send(&serde_json::json!({ "hello": self.user.name })).await
///     }
/// }
///
/// #[derive(Clone)]
/// struct App { hub: Hub, jwt: Jwt<User> }
///
/// impl FromRef<App> for Hub {
///     fn from_ref(app: &App) -> Hub { app.hub.clone() }
/// }
/// impl FromRef<App> for Jwt<User> {
///     fn from_ref(app: &App) -> Jwt<User> { app.jwt.clone() }
/// }
///
/// let jwt = Jwt::hs256(b"a secret of at least thirty-two bytes")
///     .issuer("https://id.example.com")
///     .audience("feed");
/// let app: Router = Router::new()
///     .consumer::<Feed>()
///     .with_state(App { hub: Hub::new(), jwt });
/// # let _ = app;
/// ```
#[derive(Debug)]
pub struct JwtAuth<U>(PhantomData<fn() -> U>);

impl<U: AuthUser + DeserializeOwned> Authenticate for JwtAuth<U> {
    type User = U;
    type State = Jwt<U>;
    const SCHEME: &'static str = "jwt";
    const TOKEN_CARRIERS: bool = true;

    async fn authenticate(
        jwt: &Jwt<U>,
        request: &Parts,
        spec: &Spec,
    ) -> Result<Identity<U>, Rejection> {
        let Some((token, carrier)) = find_token(request, spec)? else {
            return Ok(Identity::Anonymous);
        };
        match jwt.check(token, spec.limits.max_credential_len, SystemTime::now()) {
            Ok((user, credential)) => Ok(Identity::User {
                user,
                carrier,
                credential,
            }),
            Err(failure) => Err(failure.rejection(Some(carrier))),
        }
    }

    fn present_carrier(_: &Jwt<U>, request: &Parts, spec: &Spec) -> Option<Carrier> {
        super::token::token_carrier(request, spec)
    }

    fn issues(credential: &Credential) -> bool {
        matches!(credential, Credential::Jwt { .. })
    }

    /// A fresh token sent in-band, `{"type":"auth","token":"…"}`, checked
    /// as at the handshake; the connection then keeps it only if it names
    /// the same user (another user's token closes it with 4403).
    fn refresh(jwt: &Jwt<U>, token: &str) -> Option<Result<(U, Credential), Rejection>> {
        Some(jwt.verify(token))
    }
}

impl<S, U: AuthUser + DeserializeOwned> AuthState<S> for JwtAuth<U>
where
    Jwt<U>: FromRef<S>,
{
    fn state(state: &S) -> Jwt<U> {
        Jwt::from_ref(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectKind;
    use axum::http::Request;
    use jsonwebtoken::DecodingKeyKind;
    use serde::Deserialize;
    use serde_json::json;

    const SECRET: &[u8] = b"the unit tests' secret, 32 bytes or more";

    /// An RSA public key (2048 bits), as a JWK's `n` and `e`.
    const RSA_N: &str = "reXHe1AcYqjMSkTSGmwSqytGE9rFYJyIvVf1uy70CzGgKlcYn40SzoZp74FjucNPDnZnJHLbKOXZzJ9A7aDkHEsHHtUDpVVfQN83BbaNzOwZ7BsnbXXrezMguLJUnKRCx68FNYiRmO2fUEQgWuzfwtsz9H8u3A1218fJl9AgBjVVkHChW2Of_hG3IVQtD6lgWICW33QZt7AQsw6MH3SCV_8IEbyeU5YBQY3dcuyI_PSDYT-w5uAPYENdvFZrSIA87Ypjc8KRvG6J_Z8T9IaZyHxiVJE0_7UiYrLYjZN4QyXYMRKgSC8fzLn0b6tCN5UFTJxQWPuL53IvMO7mLe_WgQ";
    const RSA_E: &str = "AQAB";

    /// An Ed25519 key pair: the private key as PKCS#8 DER, the public `x`.
    const ED_PRIVATE: [u8; 48] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20, 0x36, 0x90, 0xd1, 0x8d, 0x31, 0xa2, 0x71, 0xb1, 0xcb, 0xbf, 0x29, 0x9f, 0x92, 0x25,
        0xdc, 0xb5, 0xe0, 0x92, 0xbe, 0x26, 0x28, 0x4f, 0xd7, 0xe0, 0x19, 0x1c, 0x9b, 0x1a, 0xaf,
        0x15, 0x0a, 0xdd,
    ];
    const ED_PUBLIC_X: &str = "h9wFRZtuh79QGdkQIIwsCU-6gt1--FiysWf3NCKCHsg";

    #[derive(Debug, Clone, PartialEq, Deserialize)]
    struct User {
        sub: String,
        name: String,
    }

    impl AuthUser for User {
        type Id = String;
        fn id(&self) -> String {
            self.sub.clone()
        }
    }

    fn jwt() -> Jwt<User> {
        Jwt::hs256(SECRET)
    }

    fn now_secs() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// Ada's claims, valid for an hour, with `extra` merged in (a `null`
    /// removes a claim).
    fn claims(extra: Value) -> Value {
        let mut claims = json!({ "sub": "u-1", "name": "Ada", "exp": now_secs() + 3600 });
        for (key, value) in extra.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        claims
    }

    /// Unpadded base64url, to forge tokens by hand.
    fn b64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }

    /// A token with this header and these claims, and no valid signature.
    fn forged(header: &Value, claims: &Value, signature: &str) -> String {
        format!(
            "{}.{}.{signature}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    /// `message` with a valid HS256 signature, whatever it holds.
    fn signed_message(message: &str) -> String {
        let key = EncodingKey::from_secret(SECRET);
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    }

    /// Asserts a refusal of `kind`, with `reason`, that does not quote the
    /// token.
    #[track_caller]
    fn refused(
        result: Result<(User, Credential), Rejection>,
        token: &str,
        kind: RejectKind,
        reason: &str,
    ) {
        let rejection = result.expect_err("the token should be refused");
        assert_eq!(rejection.kind(), kind, "{rejection}");
        assert_eq!(rejection.reason(), reason);
        for part in token.split('.').filter(|part| part.len() > 3) {
            assert!(!rejection.reason().contains(part));
        }
    }

    #[test]
    fn a_valid_token_gives_the_user_and_its_expiry() {
        let exp = now_secs() + 600;
        let jwt = jwt();
        let (user, credential) = jwt
            .verify(&jwt.sign(&claims(json!({ "exp": exp }))))
            .unwrap();
        assert_eq!(
            user,
            User {
                sub: "u-1".into(),
                name: "Ada".into()
            }
        );
        assert_eq!(
            credential,
            Credential::Jwt {
                expires_at: Some(UNIX_EPOCH + Duration::from_secs(exp))
            }
        );
    }

    #[test]
    fn the_signature_is_checked() {
        let token =
            Jwt::<User>::hs256(b"another secret that is long enough!").sign(&claims(json!({})));
        refused(
            jwt().verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT with a bad signature",
        );

        // A payload swapped under a valid signature.
        let jwt = jwt();
        let good = jwt.sign(&claims(json!({})));
        let mut parts: Vec<&str> = good.split('.').collect();
        let admin = b64(claims(json!({ "sub": "admin" })).to_string().as_bytes());
        parts[1] = &admin;
        let tampered = parts.join(".");
        refused(
            jwt.verify(&tampered),
            &tampered,
            RejectKind::NotAuthenticated,
            "JWT with a bad signature",
        );
    }

    #[test]
    fn an_expired_token_is_refused_with_4408() {
        let jwt = jwt();
        let token = jwt.sign(&claims(json!({ "exp": now_secs() - 10 })));
        let rejection = jwt.verify(&token).unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::CredentialExpired);
        assert_eq!(rejection.kind().status(), 401);
        assert_eq!(rejection.kind().close_code(), 4408);
        assert_eq!(rejection.reason(), "expired JWT");
    }

    #[test]
    fn a_token_expires_at_its_exp_exactly() {
        let jwt = jwt();
        let exp = now_secs() + 100;
        let token = jwt.sign(&claims(json!({ "exp": exp })));
        let at = UNIX_EPOCH + Duration::from_secs(exp);
        let max = Limits::DEFAULT.max_credential_len;
        assert!(
            jwt.check(&token, max, at - Duration::from_millis(1))
                .is_ok()
        );
        assert_eq!(jwt.check(&token, max, at).unwrap_err(), Failure::Expired);

        // A fractional `exp` keeps its fraction.
        let token = jwt.sign(&claims(json!({ "exp": exp as f64 + 0.5 })));
        let (_, credential) = jwt.check(&token, max, at).unwrap();
        assert_eq!(
            credential.expires_at(),
            Some(at + Duration::from_millis(500))
        );
    }

    #[test]
    fn nbf_is_checked() {
        let jwt = jwt();
        let early = jwt.sign(&claims(json!({ "nbf": now_secs() + 60 })));
        refused(
            jwt.verify(&early),
            &early,
            RejectKind::NotAuthenticated,
            "JWT not yet valid (`nbf`)",
        );
        let started = jwt.sign(&claims(json!({ "nbf": now_secs() - 1 })));
        assert!(jwt.verify(&started).is_ok());
        let bad = jwt.sign(&claims(json!({ "nbf": "soon" })));
        refused(
            jwt.verify(&bad),
            &bad,
            RejectKind::NotAuthenticated,
            "JWT with an invalid `nbf` claim",
        );
    }

    #[test]
    fn the_audience_is_checked() {
        let jwt = jwt().audience("chat").audience("chat-beta");
        let ok = [json!("chat"), json!("chat-beta"), json!(["other", "chat"])];
        for aud in ok {
            assert!(
                jwt.verify(&jwt.sign(&claims(json!({ "aud": aud }))))
                    .is_ok()
            );
        }
        let other = jwt.sign(&claims(json!({ "aud": "billing" })));
        refused(
            jwt.verify(&other),
            &other,
            RejectKind::NotAuthenticated,
            "JWT for another audience",
        );
        let none = jwt.sign(&claims(json!({})));
        refused(
            jwt.verify(&none),
            &none,
            RejectKind::NotAuthenticated,
            "JWT without the `aud` claim",
        );

        // Without an audience of ours, a token meant for someone is refused.
        let plain = self::jwt();
        for aud in [json!("chat"), json!([]), json!(42), json!(null)] {
            // Set by hand: `claims` takes a null for "remove".
            let mut with_aud = claims(json!({}));
            with_aud["aud"] = aud;
            let token = plain.sign(&with_aud);
            refused(
                plain.verify(&token),
                &token,
                RejectKind::NotAuthenticated,
                "JWT for another audience",
            );
        }
    }

    #[test]
    fn the_issuer_is_checked() {
        let jwt = jwt().issuer("https://id.example.com");
        assert!(
            jwt.verify(&jwt.sign(&claims(json!({ "iss": "https://id.example.com" }))))
                .is_ok()
        );
        let other = jwt.sign(&claims(json!({ "iss": "https://evil.example.com" })));
        refused(
            jwt.verify(&other),
            &other,
            RejectKind::NotAuthenticated,
            "JWT from another issuer",
        );
        let none = jwt.sign(&claims(json!({})));
        refused(
            jwt.verify(&none),
            &none,
            RejectKind::NotAuthenticated,
            "JWT without the `iss` claim",
        );
        // Without an issuer of ours, `iss` is not looked at.
        let plain = self::jwt();
        assert!(
            plain
                .verify(&plain.sign(&claims(json!({ "iss": "anyone" }))))
                .is_ok()
        );
    }

    #[test]
    fn the_leeway_extends_both_ends_and_the_expiry() {
        let jwt = jwt().leeway(60);
        let exp = now_secs() - 30;
        let (_, credential) = jwt
            .verify(&jwt.sign(&claims(json!({ "exp": exp }))))
            .unwrap();
        assert_eq!(
            credential.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(exp + 60))
        );
        assert!(
            jwt.verify(&jwt.sign(&claims(json!({ "nbf": now_secs() + 30 }))))
                .is_ok()
        );

        let long_gone = jwt.sign(&claims(json!({ "exp": now_secs() - 90 })));
        assert_eq!(
            jwt.verify(&long_gone).unwrap_err().kind(),
            RejectKind::CredentialExpired
        );
        let far_off = jwt.sign(&claims(json!({ "nbf": now_secs() + 90 })));
        assert_eq!(
            jwt.verify(&far_off).unwrap_err().kind(),
            RejectKind::NotAuthenticated
        );
    }

    #[test]
    fn exp_is_required_unless_allowed() {
        let jwt = jwt();
        let token = jwt.sign(&claims(json!({ "exp": null })));
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT without the `exp` claim",
        );

        let lenient = self::jwt().allow_no_exp();
        let (_, credential) = lenient.verify(&token).unwrap();
        assert_eq!(credential, Credential::Jwt { expires_at: None });
        // A token that has `exp` is still checked.
        let expired = lenient.sign(&claims(json!({ "exp": now_secs() - 10 })));
        assert_eq!(
            lenient.verify(&expired).unwrap_err().kind(),
            RejectKind::CredentialExpired
        );
    }

    #[test]
    fn invalid_exp_claims_are_refused() {
        let jwt = jwt().allow_no_exp();
        for exp in [
            json!("tomorrow"),
            json!(-5),
            json!(-0.5),
            json!(null),
            json!(u64::MAX),
            json!(1e300),
        ] {
            let token = jwt.sign(&json!({ "sub": "u-1", "name": "Ada", "exp": exp }));
            refused(
                jwt.verify(&token),
                &token,
                RejectKind::NotAuthenticated,
                "JWT with an invalid `exp` claim",
            );
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let jwt = jwt();
        let header = json!({ "alg": "HS256", "typ": "JWT" });
        let cases = [
            "garbage".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "..".to_owned(),
            "!!!.###.$$$".to_owned(),
            signed_message(&format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(b"not json")
            )),
            format!("{}.{}", b64(b"{\"alg\":"), b64(b"{}")) + ".x",
        ];
        for token in cases {
            refused(
                jwt.verify(&token),
                &token,
                RejectKind::NotAuthenticated,
                "malformed JWT",
            );
        }
        // Claims that are valid JSON but not an object, correctly signed.
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!([1, 2]),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "malformed JWT",
        );
    }

    #[test]
    fn claims_that_are_not_a_user_are_refused() {
        let jwt = jwt();
        let token = jwt.sign(&claims(json!({ "name": null })));
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT whose claims are not a user",
        );
        let token = jwt.sign(&claims(json!({ "name": 42 })));
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT whose claims are not a user",
        );
    }

    #[test]
    fn oversized_tokens_are_refused_unread() {
        let jwt = jwt();
        let padding = "x".repeat(Limits::DEFAULT.max_credential_len);
        let token = jwt.sign(&claims(json!({ "padding": padding })));
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "oversized JWT",
        );
        // The caller's bound, for the handshake.
        let small = jwt.sign(&claims(json!({})));
        assert_eq!(
            jwt.check(&small, small.len() - 1, SystemTime::now())
                .unwrap_err(),
            Failure::Oversized
        );
        assert!(jwt.check(&small, small.len(), SystemTime::now()).is_ok());
    }

    #[test]
    fn alg_none_and_unknown_algorithms_are_refused() {
        let jwt = jwt().allow_no_exp();
        let claims = claims(json!({}));
        for header in [
            json!({ "alg": "none" }),
            json!({ "alg": "None", "typ": "JWT" }),
            json!({ "alg": "HS1024" }),
            json!({ "typ": "JWT" }),
        ] {
            for signature in ["", "AAAA"] {
                let token = forged(&header, &claims, signature);
                refused(
                    jwt.verify(&token),
                    &token,
                    RejectKind::NotAuthenticated,
                    "JWT with an unsupported algorithm or header",
                );
            }
        }
    }

    #[test]
    fn critical_header_extensions_are_refused() {
        let jwt = jwt();
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["b64".into()]);
        let token = jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        refused(
            jwt.verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT with an unsupported algorithm or header",
        );
    }

    #[test]
    fn only_the_configured_algorithm_is_accepted() {
        // HS512 with the right secret, against HS256.
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(json!({})),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        refused(
            jwt().verify(&token),
            &token,
            RejectKind::NotAuthenticated,
            "JWT signed with a disallowed algorithm",
        );
    }

    #[test]
    fn an_hs256_token_against_an_rs256_key_is_refused() {
        // Algorithm confusion: HMAC "signed" with the RSA public key, the
        // one thing an attacker knows of it.
        let jwt: Jwt<User> = Jwt::new(
            DecodingKey::from_rsa_components(RSA_N, RSA_E).unwrap(),
            Algorithm::RS256,
        );
        let public_key = DecodingKey::from_rsa_components(RSA_N, RSA_E).unwrap();
        let DecodingKeyKind::RsaModulusExponent { n, .. } = public_key.kind() else {
            unreachable!()
        };
        for secret in [n.as_slice(), RSA_N.as_bytes(), SECRET] {
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims(json!({})),
                &EncodingKey::from_secret(secret),
            )
            .unwrap();
            refused(
                jwt.verify(&token),
                &token,
                RejectKind::NotAuthenticated,
                "JWT signed with a disallowed algorithm",
            );
        }
    }

    #[test]
    fn asymmetric_keys_verify() {
        let jwt: Jwt<User> = Jwt::new(
            DecodingKey::from_ed_components(ED_PUBLIC_X).unwrap(),
            Algorithm::EdDSA,
        );
        let signing = EncodingKey::from_ed_der(&ED_PRIVATE);
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims(json!({})), &signing)
                .unwrap();
        assert_eq!(jwt.verify(&token).unwrap().0.name, "Ada");
        // Another Ed25519 key's signature does not verify.
        let other: Jwt<User> = Jwt::new(
            DecodingKey::from_ed_components(&b64(&[9; 32])).unwrap(),
            Algorithm::EdDSA,
        );
        let rejection = other.verify(&token).unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::NotAuthenticated);
    }

    #[test]
    #[should_panic(expected = "at least 32")]
    fn a_short_hs256_secret_is_refused() {
        let _: Jwt<User> = Jwt::hs256(b"secret");
    }

    #[test]
    #[should_panic(expected = "cannot check ES256 signatures")]
    fn a_key_for_another_algorithm_is_refused() {
        let _: Jwt<User> = Jwt::new(
            DecodingKey::from_rsa_components(RSA_N, RSA_E).unwrap(),
            Algorithm::ES256,
        );
    }

    #[test]
    #[should_panic(expected = "only a Jwt built with Jwt::hs256 can sign")]
    fn only_an_hs256_jwt_signs() {
        let jwt: Jwt<User> = Jwt::new(
            DecodingKey::from_ed_components(ED_PUBLIC_X).unwrap(),
            Algorithm::EdDSA,
        );
        jwt.sign(&claims(json!({})));
    }

    #[test]
    fn debug_shows_the_checks_not_the_key() {
        let jwt = jwt().audience("chat").leeway(5);
        let debug = format!("{jwt:?}");
        assert!(debug.contains("HS256") && debug.contains("chat"), "{debug}");
        assert!(!debug.contains("unit tests"), "{debug}");
    }

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const SPEC: Spec = Spec::new("T", "/ws").query_token();

    #[tokio::test]
    async fn the_handshake_reads_every_carrier() {
        let jwt = jwt();
        let token = jwt.sign(&claims(json!({})));
        let cases = [
            (
                parts("/ws", &[("authorization", &format!("Bearer {token}"))]),
                Carrier::Header,
            ),
            (
                parts(
                    "/ws",
                    &[("sec-websocket-protocol", &format!("bearer, {token}"))],
                ),
                Carrier::Subprotocol,
            ),
            (parts(&format!("/ws?token={token}"), &[]), Carrier::Query),
        ];
        for (request, expected) in cases {
            match JwtAuth::<User>::authenticate(&jwt, &request, &SPEC)
                .await
                .unwrap()
            {
                Identity::User {
                    user,
                    carrier,
                    credential,
                } => {
                    assert_eq!(user.name, "Ada");
                    assert_eq!(carrier, expected);
                    assert!(matches!(
                        credential,
                        Credential::Jwt {
                            expires_at: Some(_)
                        }
                    ));
                }
                Identity::Anonymous => panic!("anonymous"),
            }
        }
        let anonymous = JwtAuth::<User>::authenticate(&jwt, &parts("/ws", &[]), &SPEC)
            .await
            .unwrap();
        assert_eq!(anonymous, Identity::Anonymous);
    }

    #[tokio::test]
    async fn the_handshake_refuses_naming_the_check_and_the_carrier() {
        let jwt = jwt().audience("chat");
        let expired = jwt.sign(&claims(json!({ "aud": "chat", "exp": now_secs() - 10 })));
        let rejection = JwtAuth::<User>::authenticate(
            &jwt,
            &parts("/ws", &[("authorization", &format!("Bearer {expired}"))]),
            &SPEC,
        )
        .await
        .unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::CredentialExpired);
        assert_eq!(rejection.reason(), "expired JWT in the header carrier");
        assert_eq!(rejection.carrier(), Some(Carrier::Header));

        let elsewhere = jwt.sign(&claims(json!({ "aud": "billing" })));
        let rejection = JwtAuth::<User>::authenticate(
            &jwt,
            &parts(&format!("/ws?token={elsewhere}"), &[]),
            &SPEC,
        )
        .await
        .unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::NotAuthenticated);
        assert_eq!(
            rejection.reason(),
            "JWT for another audience in the query carrier"
        );

        // A bad header token never falls back to a good query token.
        let good = jwt.sign(&claims(json!({ "aud": "chat" })));
        let request = parts(
            &format!("/ws?token={good}"),
            &[("authorization", &format!("Bearer {elsewhere}"))],
        );
        assert!(
            JwtAuth::<User>::authenticate(&jwt, &request, &SPEC)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_handshake_bounds_the_token_by_the_spec() {
        let jwt = jwt();
        let token = jwt.sign(&claims(json!({})));
        let mut spec = SPEC;
        spec.limits.max_credential_len = token.len() - 1;
        let request = parts("/ws", &[("authorization", &format!("Bearer {token}"))]);
        let rejection = JwtAuth::<User>::authenticate(&jwt, &request, &spec)
            .await
            .unwrap_err();
        assert_eq!(rejection.kind(), RejectKind::NotAuthenticated);
        assert!(!rejection.reason().contains(&token));
    }

    #[test]
    fn the_http_form_carries_a_challenge() {
        let expired = Failure::Expired.rejection(Some(Carrier::Header));
        let response = axum::response::IntoResponse::into_response(expired);
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], EXPIRED);
        let key = Failure::Key.rejection(Some(Carrier::Header));
        assert_eq!(key.kind(), RejectKind::ServerError);
        assert_eq!(key.reason(), "the JWT key cannot check signatures");
    }
}
