//! The login handoff: how a session made on a socket reaches the page's
//! cookie jar.
//!
//! A consumer that logs its user in ([`Cx::login`](crate::Cx::login))
//! makes a fresh session in the app's store, but the session cookie is
//! `HttpOnly` and only an HTTP response can set it. So the login also stores
//! a **one-time code** that names the new session, and the consumer sends
//! the code to its page; the page posts it to the app's handoff route
//! ([`Sessions::handoff_route`]), whose answer sets the cookie. The session
//! id itself never travels over the socket or through page script.
//!
//! - The code is 256 bits from the operating system's random source, sent
//!   as 64 hex digits. It lives [`Sessions::with_handoff_ttl`] (60 s by
//!   default) and is good for one redeem.
//! - It is stored in the app's own session store, as a short-lived record
//!   of its own: any process sharing the store can redeem it. The record
//!   is keyed by half of the code's SHA-256 digest, never by the code, so
//!   a reader of the store cannot redeem what it reads.
//! - Single use: the first redeem claims the code by *creating* a claim
//!   record keyed by the digest's other half; a store's `create` never
//!   overwrites (it moves a colliding record to a fresh id), so of two
//!   redeems only one can claim it. The claim is exact within one process
//!   for every store (redeems of one code are also serialised in the
//!   [`Sessions`]), and across processes wherever the store's `create` is an
//!   atomic insert-if-absent: Redis (`SET NX`), SQLite (one writer at a
//!   time), [`MemoryStore`](super::MemoryStore). tower-sessions' PostgreSQL
//!   store checks then upserts in a read-committed transaction: two
//!   processes redeeming one code within the same few milliseconds could
//!   both get the cookie (of a session that the code's holder owns anyway).
//!   The code record is deleted on the first redeem.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower_sessions::cookie::Cookie;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, Session, SessionStore};

use super::sessions::Sessions;
use crate::auth::AuthUser;
use crate::origin::{MissingOrigin, OriginPolicy};
use crate::store::StoreError;

/// The key of a handoff record's one value: the session it names.
const HANDOFF_KEY: &str = "sockwarden.handoff";
/// The key of a claim record's one value.
const CLAIM_KEY: &str = "sockwarden.handoff.claimed";
/// How many random bytes a code is made of.
const CODE_BYTES: usize = 32;
/// The largest body the handoff route reads: `{"code":"<64 hex digits>"}`
/// and some room.
const MAX_BODY: usize = 1024;

/// A one-time code that hands a session made on a socket to its page: what
/// [`Cx::login`](crate::Cx::login) returns, and
/// [`Sessions::create_handoff`] makes.
///
/// Send [`code`](Handoff::code) to the page; the page posts it, as JSON
/// `{"code": "…"}`, to the app's [handoff route](Sessions::handoff_route)
/// before [`expires_at`](Handoff::expires_at), and the answer sets its
/// session cookie. The code is a credential until then: it is not printed
/// by `Debug`, and should not be logged.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// # struct User { id: u64 }
/// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
/// use sockwarden::session::{MemoryStore, Sessions};
///
/// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
/// let id = sessions.create_session(&User { id: 1 }).await?;
/// let handoff = sessions.create_handoff(&id).await?;
/// assert_eq!(handoff.code().len(), 64);
/// assert!(!format!("{handoff:?}").contains(handoff.code()));
/// assert_eq!(sessions.redeem(handoff.code()).await?, id);
/// assert!(sessions.redeem(handoff.code()).await.is_err()); // once only
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Handoff {
    code: String,
    expires_at: SystemTime,
}

impl Handoff {
    /// The code, 64 hex digits, for the page to redeem.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// When the code stops being redeemable.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a handoff code was not redeemed; as an HTTP answer (its
/// `IntoResponse`), a status and a JSON body
/// `{"type":"error","error":"…","reason":"…"}`.
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::IntoResponse;
/// use sockwarden::session::HandoffError;
///
/// assert_eq!(HandoffError::Invalid.into_response().status(), StatusCode::BAD_REQUEST);
/// assert_eq!(HandoffError::Used.into_response().status(), StatusCode::GONE);
/// assert_eq!(HandoffError::Used.name(), "code_used");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HandoffError {
    /// Not a code, or one that this store never issued or that expired:
    /// 400 `invalid_code`. The cases are not told apart.
    Invalid,
    /// Redeemed already: 410 `code_used`.
    Used,
    /// The code was good, but the session it names has ended since (a
    /// logout came first): 410 `session_ended`.
    SessionEnded,
    /// The store failed: 503 `unavailable`. The code is not used up.
    Store(StoreError),
}

impl HandoffError {
    /// The `error` field of the JSON answer.
    pub fn name(&self) -> &'static str {
        match self {
            HandoffError::Invalid => "invalid_code",
            HandoffError::Used => "code_used",
            HandoffError::SessionEnded => "session_ended",
            HandoffError::Store(_) => "unavailable",
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            HandoffError::Invalid => StatusCode::BAD_REQUEST,
            HandoffError::Used | HandoffError::SessionEnded => StatusCode::GONE,
            HandoffError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffError::Invalid => f.write_str("unknown or expired code"),
            HandoffError::Used => f.write_str("this code was used already"),
            HandoffError::SessionEnded => f.write_str("the session has ended"),
            HandoffError::Store(_) => f.write_str("the session store is unavailable"),
        }
    }
}

impl std::error::Error for HandoffError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandoffError::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl IntoResponse for HandoffError {
    fn into_response(self) -> Response {
        if let HandoffError::Store(error) = &self {
            tracing::error!(%error, "session store failed while redeeming a handoff code");
        }
        refusal(self.status(), self.name(), &self.to_string())
    }
}

/// A JSON error answer, shaped as the crate's handshake refusals.
fn refusal(status: StatusCode, error: &'static str, reason: &str) -> Response {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        r#type: &'static str,
        error: &'static str,
        reason: &'a str,
    }
    let body = Body {
        r#type: "error",
        error,
        reason,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The codes being redeemed in this process, so that two redeems of one
/// code never run at once whatever the store.
#[derive(Debug, Default)]
pub(super) struct Redeeming(Mutex<HashSet<Id>>);

impl Redeeming {
    /// Marks `id` as being redeemed until the guard drops; `None` when it
    /// already is.
    fn enter(&self, id: Id) -> Option<RedeemGuard<'_>> {
        let fresh = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        // Made only when fresh: a guard dropped here would unmark the
        // redeem in progress.
        fresh.then(|| RedeemGuard { set: self, id })
    }
}

struct RedeemGuard<'a> {
    set: &'a Redeeming,
    id: Id,
}

impl Drop for RedeemGuard<'_> {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// The ids of a code's two records: its handoff record and its claim, each
/// one half of the code's SHA-256 digest.
fn record_ids(code: &[u8; CODE_BYTES]) -> (Id, Id) {
    let digest: [u8; 32] = Sha256::digest(code).into();
    let mut handoff = [0u8; 16];
    let mut claim = [0u8; 16];
    handoff.copy_from_slice(&digest[..16]);
    claim.copy_from_slice(&digest[16..]);
    (
        Id(i128::from_le_bytes(handoff)),
        Id(i128::from_le_bytes(claim)),
    )
}

fn encode(bytes: &[u8; CODE_BYTES]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(CODE_BYTES * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

/// The code's bytes; `None` unless `text` is exactly 64 hex digits.
fn decode(text: &str) -> Option<[u8; CODE_BYTES]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != CODE_BYTES * 2 {
        return None;
    }
    let mut bytes = [0u8; CODE_BYTES];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

fn store_error(error: tower_sessions::session_store::Error) -> StoreError {
    StoreError::new(error)
}

impl<U: AuthUser> Sessions<U> {
    /// How long a login handoff code may wait to be redeemed; 60 s unless
    /// set (at least one second).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use std::time::Duration;
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> =
    ///     Sessions::new(MemoryStore::default()).with_handoff_ttl(Duration::from_secs(30));
    /// # let _ = sessions;
    /// ```
    #[must_use]
    pub fn with_handoff_ttl(mut self, ttl: Duration) -> Sessions<U> {
        let ttl = tower_sessions::cookie::time::Duration::try_from(ttl.max(Duration::from_secs(1)))
            .unwrap_or(tower_sessions::cookie::time::Duration::DAY);
        std::sync::Arc::make_mut(&mut self.config).handoff_ttl = ttl;
        self
    }

    /// Stores a one-time code that hands the session `id` to whoever
    /// redeems it first, within the handoff TTL ([`Sessions::redeem`], or
    /// the [handoff route](Sessions::handoff_route)). What
    /// [`Cx::login`](crate::Cx::login) does after making the session; call
    /// it directly to hand a session made by
    /// [`create_session`](Sessions::create_session) to a browser (a native
    /// app opening a web view, a login link).
    ///
    /// # Errors
    ///
    /// When the store fails, or the system has no random source.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let id = sessions.create_session(&User { id: 1 }).await?;
    /// let handoff = sessions.create_handoff(&id).await?;
    /// let link = format!("https://app.example.com/welcome#code={}", handoff.code());
    /// # let _ = link;
    /// # Ok(()) }
    /// ```
    pub async fn create_handoff(&self, id: &Id) -> Result<Handoff, StoreError> {
        let store = self.store.inner();
        let ttl = self.config.handoff_ttl;
        let expiry_date = OffsetDateTime::now_utc().saturating_add(ttl);
        // A collision with any record is a 2^-128 event; a fresh code is
        // the answer to it, as the store's own answer would be a record
        // under an id that the code does not name.
        for _ in 0..3 {
            let mut code = [0u8; CODE_BYTES];
            getrandom::fill(&mut code).map_err(|error| {
                StoreError::new(format!("no random source for a handoff code: {error}"))
            })?;
            let (handoff, _claim) = record_ids(&code);
            let mut record = Record {
                id: handoff,
                data: HashMap::from([(HANDOFF_KEY.to_owned(), Value::String(id.to_string()))]),
                expiry_date,
            };
            store.create(&mut record).await.map_err(store_error)?;
            if record.id == handoff {
                let left = Duration::try_from(ttl).unwrap_or_default();
                return Ok(Handoff {
                    code: encode(&code),
                    expires_at: SystemTime::now() + left,
                });
            }
            let _ = store.delete(&record.id).await;
        }
        Err(StoreError::new(
            "the store keeps moving new handoff records",
        ))
    }

    /// Redeems a handoff code: the session it names, once. The route of
    /// [`Sessions::handoff_route`] calls it; call it from a handler of your
    /// own to answer differently (and set the cookie with
    /// [`session_cookie`](Sessions::session_cookie)).
    ///
    /// The first redeem uses the code up, even when the session it names
    /// has ended since ([`HandoffError::SessionEnded`]); a store failure
    /// does not. See the [`Handoff`] type for the single-use guarantee.
    ///
    /// # Errors
    ///
    /// [`HandoffError::Invalid`] for a code that is malformed, unknown or
    /// expired, [`HandoffError::Used`] for one redeemed already,
    /// [`HandoffError::SessionEnded`], [`HandoffError::Store`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{HandoffError, MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let id = sessions.create_session(&User { id: 1 }).await?;
    /// let handoff = sessions.create_handoff(&id).await?;
    /// assert_eq!(sessions.redeem(handoff.code()).await?, id);
    /// assert!(matches!(sessions.redeem(handoff.code()).await, Err(HandoffError::Used)));
    /// assert!(matches!(sessions.redeem("not a code").await, Err(HandoffError::Invalid)));
    /// # Ok(()) }
    /// ```
    pub async fn redeem(&self, code: &str) -> Result<Id, HandoffError> {
        let code = decode(code.trim()).ok_or(HandoffError::Invalid)?;
        let (handoff, claim_id) = record_ids(&code);
        let Some(_redeeming) = self.redeeming.enter(handoff) else {
            return Err(HandoffError::Used);
        };
        let store = self.store.inner();
        let now = OffsetDateTime::now_utc();
        let record = store
            .load(&handoff)
            .await
            .map_err(|error| HandoffError::Store(store_error(error)))?;
        let Some(record) = record.filter(|record| record.expiry_date > now) else {
            // Gone: used up (its claim is still there), or never issued,
            // or expired.
            let claim = store
                .load(&claim_id)
                .await
                .map_err(|error| HandoffError::Store(store_error(error)))?;
            return match claim {
                Some(claim) if claim.expiry_date > now && claim.data.contains_key(CLAIM_KEY) => {
                    Err(HandoffError::Used)
                }
                _ => Err(HandoffError::Invalid),
            };
        };
        let session = record
            .data
            .get(HANDOFF_KEY)
            .and_then(Value::as_str)
            .and_then(|id| id.parse::<Id>().ok())
            .ok_or(HandoffError::Invalid)?;

        // The claim lives as long as the code would have: a late redeem
        // that loaded the code before it was deleted still finds it.
        let mut claim = Record {
            id: claim_id,
            data: HashMap::from([(CLAIM_KEY.to_owned(), Value::Bool(true))]),
            expiry_date: record.expiry_date,
        };
        store
            .create(&mut claim)
            .await
            .map_err(|error| HandoffError::Store(store_error(error)))?;
        if claim.id != claim_id {
            // Claimed before us: the store put our claim under a fresh id.
            if let Err(error) = store.delete(&claim.id).await {
                tracing::warn!(%error, "a stray handoff claim was not deleted; it expires with the code");
            }
            return Err(HandoffError::Used);
        }
        if let Err(error) = store.delete(&handoff).await {
            // The claim already makes the code single-use.
            tracing::warn!(%error, "a used handoff code was not deleted; it expires on its own");
        }
        let live = self
            .store
            .load(&session)
            .await
            .map_err(|error| HandoffError::Store(store_error(error)))?;
        match live {
            Some(live) if live.expiry_date > now => Ok(session),
            _ => Err(HandoffError::SessionEnded),
        }
    }

    /// The session cookie for the session `id`, exactly as the layer of
    /// [`Sessions::layer`] sets it: name, `HttpOnly`, `Secure`, `SameSite`,
    /// path, domain, and `Max-Age` from the expiry.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Clone, Serialize, Deserialize)]
    /// # struct User { id: u64 }
    /// # impl sockwarden::AuthUser for User { type Id = u64; fn id(&self) -> u64 { self.id } }
    /// use sockwarden::session::{Id, MemoryStore, Sessions};
    ///
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    /// let id = Id::default();
    /// let cookie = sessions.session_cookie(&id).to_string();
    /// assert!(cookie.starts_with(&format!("sid={id}")));
    /// assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    /// ```
    pub fn session_cookie(&self, id: &Id) -> Cookie<'static> {
        let config = &self.config;
        let mut cookie = Cookie::build((config.name.clone(), id.to_string()))
            .http_only(true)
            .same_site(config.same_site)
            .secure(config.secure)
            .path(config.path.clone());
        // As tower-sessions' layer writes it.
        cookie = match config.expiry {
            Some(Expiry::OnInactivity(life)) => cookie.max_age(life),
            Some(Expiry::AtDateTime(at)) => cookie.max_age(at - OffsetDateTime::now_utc()),
            Some(Expiry::OnSessionEnd) | None => cookie,
        };
        if let Some(domain) = &config.domain {
            cookie = cookie.domain(domain.clone());
        }
        cookie.build()
    }

    /// The route at which a page redeems a login handoff code for its
    /// session cookie: `POST path` with `Content-Type: application/json`
    /// and `{"code": "…"}`.
    ///
    /// | Outcome | Answer |
    /// |---|---|
    /// | redeemed | 204, `Set-Cookie` with the session cookie |
    /// | malformed, unknown or expired code | 400 `invalid_code` |
    /// | a code used already | 410 `code_used` |
    /// | the session ended before the redeem | 410 `session_ended` |
    /// | a body that is not `{"code": "…"}` | 400 `bad_request` |
    /// | another content type | 415 `unsupported_media_type` |
    /// | a page of another site | 403 `forbidden` |
    /// | any other method | 405 |
    /// | the store failed | 503 `unavailable` |
    ///
    /// Errors have a JSON body `{"type":"error","error":…,"reason":…}`.
    ///
    /// **Cross-site requests are refused** (login CSRF: a page of another
    /// site that redeemed a code of its own would log the visitor in as
    /// someone else). The request must be a POST with a JSON body, which a
    /// cross-site form cannot send and a cross-site `fetch` cannot send
    /// without a CORS preflight that this route does not answer; an
    /// `Origin` header must name this host (as the `Host` header does), and
    /// a `Sec-Fetch-Site` header must say `same-origin`. A GET is refused,
    /// so that no link, image or prefetch redeems a code.
    ///
    /// **Mount it outside the session layer**: merge it after
    /// `.layer(sessions.layer())`. Under the layer, the layer's own answer
    /// (removing a malformed cookie, or re-saving the old session with
    /// `with_always_save`) would come after this route's cookie and undo
    /// it; the route refuses to run there (500, and an error in the log),
    /// so that the mistake shows at once, not for some visitors only.
    ///
    /// The page, once it has the code from its socket:
    ///
    /// ```js
    /// const answer = await fetch("/session/handoff", {
    ///   method: "POST",
    ///   headers: { "Content-Type": "application/json" },
    ///   body: JSON.stringify({ code }),
    /// });
    /// if (answer.status === 204) { /* the cookie is set: reconnect, reload… */ }
    /// ```
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
    /// let sessions: Sessions<User> = Sessions::new(MemoryStore::default());
    /// let app: Router = Router::new()
    ///     // .route("/login", post(login)) … .consumer::<Lobby>()
    ///     .layer(sessions.layer())
    ///     .merge(sessions.handoff_route("/session/handoff"))
    ///     .with_state(sessions);
    /// # let _ = app;
    /// ```
    pub fn handoff_route<S>(&self, path: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let sessions = self.clone();
        Router::new().route(
            path,
            post(move |request: Request| {
                let sessions = sessions.clone();
                async move { sessions.handoff(request).await }
            }),
        )
    }

    /// Answers one request of the handoff route.
    async fn handoff(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        if parts.extensions.get::<Session>().is_some() {
            tracing::error!(
                path = %parts.uri.path(),
                "the handoff route runs under a session layer, which would overwrite the \
                 cookie it sets: merge `sessions.handoff_route(…)` after `.layer(sessions.layer())`"
            );
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            );
        }
        if let Err(reason) = same_site(&parts) {
            return refusal(StatusCode::FORBIDDEN, "forbidden", &reason);
        }
        if !is_json(&parts.headers) {
            return refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the code as application/json",
            );
        }
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
            return refusal(StatusCode::BAD_REQUEST, "bad_request", "body too large");
        };
        #[derive(serde::Deserialize)]
        struct Redeem {
            code: String,
        }
        let Ok(Redeem { code }) = serde_json::from_slice::<Redeem>(&body) else {
            return refusal(
                StatusCode::BAD_REQUEST,
                "bad_request",
                r#"expected {"code": "…"}"#,
            );
        };
        match self.redeem(&code).await {
            Ok(id) => {
                let cookie = self.session_cookie(&id).to_string();
                let Ok(cookie) = HeaderValue::try_from(cookie) else {
                    return refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "internal error",
                    );
                };
                let mut response = StatusCode::NO_CONTENT.into_response();
                let headers = response.headers_mut();
                headers.insert(SET_COOKIE, cookie);
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(error) => error.into_response(),
        }
    }
}

/// Refuses a request made by a page of another site.
fn same_site(parts: &axum::http::request::Parts) -> Result<(), String> {
    // Browsers send it on every fetch; a client that is not a browser
    // cannot be made to post by another site, so its absence is fine.
    match parts
        .headers
        .get("sec-fetch-site")
        .map(HeaderValue::as_bytes)
    {
        None | Some(b"same-origin") => {}
        Some(_) => return Err("a page of another site may not redeem a code".to_owned()),
    }
    OriginPolicy::same_host()
        .missing_origin(MissingOrigin::Allow)
        .check(parts, true)
        .map_err(|rejection| rejection.reason().to_owned())
}

/// Whether the body is declared as JSON (`application/json`, parameters
/// allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

impl<U: AuthUser> Sessions<U> {
    /// A login on a socket: a new session for `user` (a fresh id, so a
    /// session id known before the login is worth nothing after it),
    /// written as [`Sessions::login`] writes it, and a handoff code for it.
    ///
    /// The data of the connection's `previous` session carries over when it
    /// names the same user, as [`Sessions::login`] keeps it; another user's
    /// session starts empty. The previous session is not deleted here: the
    /// caller first moves its connection off it, so that the deletion
    /// closes only the others.
    pub(crate) async fn login_session(
        &self,
        user: &U,
        previous: Option<&Id>,
    ) -> Result<(Id, Handoff), StoreError> {
        let stamp = self.reader.stamp(user)?;
        let mut data = HashMap::new();
        if let Some(previous) = previous
            && let Some(record) = self.store.load(previous).await.map_err(store_error)?
            && record
                .data
                .get(self.key)
                .is_none_or(|held| self.reader.names(held, user))
        {
            data = record.data;
        }
        data.insert(self.key.to_owned(), stamp);
        let mut record = Record {
            id: Id::default(),
            data,
            expiry_date: self.config.record_expiry(),
        };
        self.store.create(&mut record).await.map_err(store_error)?;
        match self.create_handoff(&record.id).await {
            Ok(handoff) => Ok((record.id, handoff)),
            Err(error) => {
                // No socket is on it yet: deleting closes nothing.
                let _ = self.store.delete(&record.id).await;
                Err(error)
            }
        }
    }

    /// Deletes a session made by [`login_session`](Self::login_session)
    /// that its connection could not take, and its code.
    pub(crate) async fn abandon(&self, id: &Id, handoff: &Handoff) {
        if let Some(code) = decode(handoff.code()) {
            let _ = self.store.inner().delete(&record_ids(&code).0).await;
        }
        let _ = self.store.delete(id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::session::MemoryStore;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct User {
        id: u64,
    }

    impl AuthUser for User {
        type Id = u64;
        fn id(&self) -> u64 {
            self.id
        }
    }

    fn sessions() -> Sessions<User> {
        Sessions::new(MemoryStore::default())
    }

    #[test]
    fn codes_round_trip_and_nothing_else_decodes() {
        let mut bytes = [0u8; CODE_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = (i * 37) as u8;
        }
        let text = encode(&bytes);
        assert_eq!(text.len(), 64);
        assert_eq!(decode(&text), Some(bytes));
        assert_eq!(decode(&text.to_uppercase()), Some(bytes));
        assert_eq!(decode(&text[..63]), None);
        assert_eq!(decode(&format!("{text}0")), None);
        assert_eq!(decode(&format!("{}g", &text[..63])), None);
        assert_eq!(decode(""), None);
        // Multi-byte text of the right byte length is not hex either.
        assert_eq!(decode(&"é".repeat(32)), None);
    }

    #[test]
    fn the_two_records_of_a_code_differ_and_depend_on_every_byte() {
        let code = [7u8; CODE_BYTES];
        let (handoff, claim) = record_ids(&code);
        assert_ne!(handoff, claim);
        let mut other = code;
        other[31] ^= 1;
        assert_ne!(record_ids(&other).0, handoff);
    }

    #[tokio::test]
    async fn a_code_names_its_session_once() {
        let sessions = sessions();
        let id = sessions.create_session(&User { id: 1 }).await.unwrap();
        let handoff = sessions.create_handoff(&id).await.unwrap();
        let left = handoff
            .expires_at()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left > Duration::from_secs(55) && left <= Duration::from_secs(60));
        assert_eq!(sessions.redeem(handoff.code()).await.unwrap(), id);
        assert!(matches!(
            sessions.redeem(handoff.code()).await,
            Err(HandoffError::Used)
        ));
        // The code's record is gone from the store: only the claim is left.
        let code = decode(handoff.code()).unwrap();
        let (record, claim) = record_ids(&code);
        let store = sessions.store.inner();
        assert!(store.load(&record).await.unwrap().is_none());
        assert!(store.load(&claim).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn codes_are_unique_and_unknown_ones_fail() {
        let sessions = sessions();
        let id = sessions.create_session(&User { id: 1 }).await.unwrap();
        let a = sessions.create_handoff(&id).await.unwrap();
        let b = sessions.create_handoff(&id).await.unwrap();
        assert_ne!(a.code(), b.code());
        let mut forged = decode(a.code()).unwrap();
        forged[0] ^= 0x80;
        for wrong in [encode(&forged), "0".repeat(64), "nope".into()] {
            assert!(matches!(
                sessions.redeem(&wrong).await,
                Err(HandoffError::Invalid)
            ));
        }
        // The wrong tries used nothing up.
        assert_eq!(sessions.redeem(a.code()).await.unwrap(), id);
        assert_eq!(sessions.redeem(b.code()).await.unwrap(), id);
    }

    #[tokio::test]
    async fn an_expired_code_fails() {
        let sessions = sessions();
        let id = sessions.create_session(&User { id: 1 }).await.unwrap();
        let handoff = sessions.create_handoff(&id).await.unwrap();
        // Age the record in the store.
        let code = decode(handoff.code()).unwrap();
        let store = sessions.store.inner();
        let mut record = store.load(&record_ids(&code).0).await.unwrap().unwrap();
        record.expiry_date =
            OffsetDateTime::now_utc() - tower_sessions::cookie::time::Duration::SECOND;
        store.save(&record).await.unwrap();
        assert!(matches!(
            sessions.redeem(handoff.code()).await,
            Err(HandoffError::Invalid)
        ));
    }

    #[tokio::test]
    async fn a_code_for_an_ended_session_is_used_up_and_says_so() {
        let sessions = sessions();
        let id = sessions.create_session(&User { id: 1 }).await.unwrap();
        let handoff = sessions.create_handoff(&id).await.unwrap();
        sessions.delete_session(&id).await.unwrap();
        assert!(matches!(
            sessions.redeem(handoff.code()).await,
            Err(HandoffError::SessionEnded)
        ));
        assert!(matches!(
            sessions.redeem(handoff.code()).await,
            Err(HandoffError::Used)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_concurrent_redeems_exactly_one_wins() {
        let sessions = sessions();
        let id = sessions.create_session(&User { id: 1 }).await.unwrap();
        for _ in 0..20 {
            let handoff = sessions.create_handoff(&id).await.unwrap();
            let tries: Vec<_> = (0..8)
                .map(|_| {
                    let sessions = sessions.clone();
                    let code = handoff.code().to_owned();
                    tokio::spawn(async move { sessions.redeem(&code).await })
                })
                .collect();
            let mut won = 0;
            for attempt in tries {
                match attempt.await.unwrap() {
                    Ok(got) => {
                        assert_eq!(got, id);
                        won += 1;
                    }
                    Err(HandoffError::Used) => {}
                    Err(other) => panic!("{other:?}"),
                }
            }
            assert_eq!(won, 1);
        }
    }

    #[tokio::test]
    async fn the_claim_alone_stops_a_second_redeem() {
        // Two processes on one store: the second loaded the code before the
        // first deleted it, so only the claim can stop it.
        let store = MemoryStore::default();
        let (a, b): (Sessions<User>, Sessions<User>) =
            (Sessions::new(store.clone()), Sessions::new(store));
        let id = a.create_session(&User { id: 1 }).await.unwrap();
        let handoff = a.create_handoff(&id).await.unwrap();
        let code = decode(handoff.code()).unwrap();
        let record = a
            .store
            .inner()
            .load(&record_ids(&code).0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.redeem(handoff.code()).await.unwrap(), id);
        // Put the code back, as if b's load had come first.
        b.store.inner().save(&record).await.unwrap();
        assert!(matches!(
            b.redeem(handoff.code()).await,
            Err(HandoffError::Used)
        ));
    }

    #[tokio::test]
    async fn a_login_rotates_and_carries_the_same_users_data_only() {
        let sessions = sessions();
        let alice = User { id: 1 };
        let (first, _) = sessions.login_session(&alice, None).await.unwrap();
        let mut record = sessions.store.load(&first).await.unwrap().unwrap();
        record.data.insert("cart".into(), Value::from(3));
        sessions.store.save(&record).await.unwrap();

        let (second, handoff) = sessions.login_session(&alice, Some(&first)).await.unwrap();
        assert_ne!(second, first);
        assert_eq!(sessions.load_user(&second).await.unwrap(), Some(alice));
        let kept = sessions.store.load(&second).await.unwrap().unwrap();
        assert_eq!(kept.data.get("cart"), Some(&Value::from(3)));
        assert_eq!(sessions.redeem(handoff.code()).await.unwrap(), second);

        let bob = User { id: 2 };
        let (third, _) = sessions.login_session(&bob, Some(&second)).await.unwrap();
        let fresh = sessions.store.load(&third).await.unwrap().unwrap();
        assert_eq!(fresh.data.get("cart"), None);
        assert_eq!(sessions.load_user(&third).await.unwrap(), Some(bob));
    }

    #[test]
    fn the_cookie_is_the_layers() {
        use tower_sessions::cookie::SameSite;
        let sessions = sessions()
            .with_cookie_name("sid")
            .with_expiry(Expiry::OnInactivity(
                tower_sessions::cookie::time::Duration::hours(1),
            ))
            .with_same_site(SameSite::Lax)
            .with_domain("example.com")
            .with_path("/app");
        let id = Id::default();
        let cookie = sessions.session_cookie(&id);
        assert_eq!(cookie.name(), "sid");
        assert_eq!(cookie.value(), id.to_string());
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/app"));
        assert_eq!(cookie.domain(), Some("example.com"));
        assert_eq!(
            cookie.max_age(),
            Some(tower_sessions::cookie::time::Duration::hours(1))
        );
    }
}
