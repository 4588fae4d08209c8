//! Close codes, and why a connection ended.

use std::fmt;

/// A close code a server may send: 1000–1003, 1007–1014, or 3000–4999.
///
/// ```
/// use sockwarden::CloseCode;
///
/// assert_eq!(CloseCode::new(4000).map(CloseCode::get), Some(4000));
/// assert_eq!(CloseCode::new(1006), None); // reserved: never sent on the wire
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: done.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the server is going away (shutdown).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL: CloseCode = CloseCode(1002);
    /// 1003: a kind of message the consumer does not take.
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1007: a text message that is not UTF-8.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a policy was violated.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: a message over the size limit.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: the server failed.
    pub const SERVER_ERROR: CloseCode = CloseCode(1011);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 4401: not authenticated.
    pub const NOT_AUTHENTICATED: CloseCode = CloseCode(4401);
    /// 4403: forbidden.
    pub const FORBIDDEN: CloseCode = CloseCode(4403);
    /// 4408: the credential expired.
    pub const CREDENTIAL_EXPIRED: CloseCode = CloseCode(4408);

    /// A code, if a server may send it.
    pub const fn new(code: u16) -> Option<CloseCode> {
        match code {
            1000..=1003 | 1007..=1014 | 3000..=4999 => Some(CloseCode(code)),
            _ => None,
        }
    }

    /// The number.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a connection ended, as `disconnect` learns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// The client sent a close frame.
    Client {
        /// Its code; 1005 when the frame had none.
        code: u16,
        /// Its reason.
        reason: String,
    },
    /// The server closed: the consumer, a limit (1009), bad input (1003,
    /// 1007, 1002) or a failure (1011).
    Server {
        /// The code sent.
        code: u16,
        /// The reason sent.
        reason: String,
    },
    /// The connection dropped without a close frame (the client sees 1006).
    Lost,
    /// The client sent nothing, not even a Pong, within `pong_timeout` of a
    /// keepalive Ping: a dead or half-open peer. The server sent close 1011
    /// `keepalive timeout` best-effort and dropped the connection without
    /// waiting for a close handshake; [`code`](Disconnect::code) is 1011.
    /// Also when a message sent to the client was not taken within
    /// `pong_timeout` (it stopped reading); no close frame is sent then.
    TimedOut,
}

impl Disconnect {
    /// The close code, as the RFC numbers it: 1006 for a lost connection,
    /// 1011 (the code sent) for a keepalive timeout.
    pub fn code(&self) -> u16 {
        match self {
            Disconnect::Client { code, .. } | Disconnect::Server { code, .. } => *code,
            Disconnect::Lost => 1006,
            Disconnect::TimedOut => 1011,
        }
    }
}
