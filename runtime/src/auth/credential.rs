//! What a connection was let in with, kept for as long as it lives so that
//! revoking that credential can find the connection.

use std::time::SystemTime;

/// The credential behind an authenticated connection.
///
/// The live-connection registry indexes connections by it: deleting a token
/// closes the sockets opened with that token, ending a session closes that
/// session's sockets, and a JWT's expiry is watched on the open connection.
///
/// ```
/// use sockwarden::Credential;
/// use sockwarden::store::token_digest;
///
/// let credential = Credential::Token(token_digest("tok-1"));
/// assert_eq!(credential.expires_at(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// Nothing to revoke by: the scheme keeps no credential.
    Opaque,
    /// A stored token, by the SHA-256 digest the token stores key it by
    /// (never the token itself).
    Token([u8; 32]),
    /// An HTTP session, by its session id.
    Session(String),
    /// A JSON Web Token, valid until `expires_at` (its `exp` claim).
    Jwt {
        /// When the token stops being valid; `None` for a token without `exp`.
        expires_at: Option<SystemTime>,
    },
}

impl Credential {
    /// When the credential stops being valid by itself, if it does.
    pub fn expires_at(&self) -> Option<SystemTime> {
        match self {
            Credential::Jwt { expires_at } => *expires_at,
            _ => None,
        }
    }
}
