//! The session cookie's settings, kept in one place: the HTTP layer sets the
//! cookie with them, and the handshake looks for the cookie by the same
//! name.

use std::borrow::Cow;

use tower_sessions::Expiry;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};

use super::revoking::RevokingStore;
use super::sessions::SessionLayer;

/// How long a record lives when no expiry is configured (or the cookie is
/// a browser-session cookie): tower-sessions' own default, so that records
/// made by [`Sessions::create_session`](super::Sessions::create_session) and
/// by the layer agree.
const DEFAULT_RECORD_LIFE: Duration = Duration::weeks(2);

/// How long a login handoff code lives unless set: long enough for a page
/// on a slow network to post it back, short enough that a code copied out of
/// a log or a screen is stale.
const DEFAULT_HANDOFF_TTL: Duration = Duration::seconds(60);

/// The cookie and expiry settings of a [`Sessions`](super::Sessions).
#[derive(Debug, Clone)]
pub(super) struct CookieConfig {
    pub(super) name: Cow<'static, str>,
    pub(super) expiry: Option<Expiry>,
    pub(super) secure: bool,
    pub(super) same_site: SameSite,
    pub(super) path: Cow<'static, str>,
    pub(super) domain: Option<Cow<'static, str>>,
    pub(super) always_save: bool,
    /// How long a login handoff code may wait to be redeemed.
    pub(super) handoff_ttl: Duration,
}

impl Default for CookieConfig {
    /// tower-sessions' defaults: cookie `id`, `HttpOnly`, `Secure`,
    /// `SameSite=Strict`, `Path=/`, a browser-session cookie.
    fn default() -> CookieConfig {
        CookieConfig {
            name: Cow::Borrowed("id"),
            expiry: None,
            secure: true,
            same_site: SameSite::Strict,
            path: Cow::Borrowed("/"),
            domain: None,
            always_save: false,
            handoff_ttl: DEFAULT_HANDOFF_TTL,
        }
    }
}

impl CookieConfig {
    /// The tower-sessions layer that sets this cookie, on `store`.
    pub(super) fn layer(&self, store: RevokingStore) -> SessionLayer {
        let mut layer = tower_sessions::SessionManagerLayer::new(store)
            .with_name(self.name.clone())
            .with_http_only(true)
            .with_secure(self.secure)
            .with_same_site(self.same_site)
            .with_path(self.path.clone())
            .with_always_save(self.always_save);
        if let Some(expiry) = self.expiry {
            layer = layer.with_expiry(expiry);
        }
        if let Some(domain) = &self.domain {
            layer = layer.with_domain(domain.clone());
        }
        layer
    }

    /// When a record written now expires, as the layer computes it.
    pub(super) fn record_expiry(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        match self.expiry {
            Some(Expiry::OnInactivity(life)) => now.saturating_add(life),
            Some(Expiry::AtDateTime(at)) => at,
            Some(Expiry::OnSessionEnd) | None => now.saturating_add(DEFAULT_RECORD_LIFE),
        }
    }
}

/// Whether `name` can be a cookie name (an RFC 6265 token): a name that
/// cannot be would never come back from a browser.
pub(super) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                        | b'{'
                        | b'}'
                )
        })
}
