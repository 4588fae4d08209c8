//! Adversarial clients, table by table: tokens of every size and shape, in
//! every carrier and both rejection modes; conflicting carriers; forged
//! cookies; look-alike origins; frames that break the protocol or the size
//! limit; floods of messages and pings; a client that never reads.
//!
//! Every test serves its own app and opens a legitimate client (the
//! *bystander*) before the first attack. Each case asserts its exact
//! outcome (the HTTP status and JSON `error` before the upgrade, or the
//! error frame and close code after it) and then that the bystander still
//! gets its echo: an attack that ends only its own connection, on a server
//! that keeps serving everyone else, is the property under test.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::store::{MemoryTokenStore, SqliteTokenStore};
use sockwarden::{AuthUser, Frame, Tokens};
use sockwarden_tests::raw::{client_frame, raw_upgrade, read_more, server_frame, write_all};
use sockwarden_tests::{
    Handshake, TokenApp, User, WAIT, Ws, connect, connect_with_token, echo, next, next_close,
    next_json, serve,
};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::apps::{Echo, EchoClose, EchoIn, token_store};

// ---------------------------------------------------------------------------
// The consumers under attack, besides `apps::Echo` (refusals as HTTP status)
// and `apps::EchoClose` (refusals as error frame and close code).
// ---------------------------------------------------------------------------

/// The echo of the benchmark protocol, naming the user.
async fn answer<C: Consumer>(cx: &mut Cx<C>, msg: EchoIn, user: &str) -> Result<(), Error> {
    let EchoIn::Echo { seq, body } = msg;
    cx.send(&json!({ "type": "echo", "seq": seq, "body": body, "user": user }))
        .await
}

/// Admits pages of one origin only; refusals as HTTP 403.
#[consumer(path = "/ws/origin", auth = "token", origins = ["https://app.example.com"])]
#[requires_auth]
struct OriginEcho {
    #[user]
    user: User,
}

/// The same, refusing by close frame (1008).
#[consumer(
    path = "/ws/origin-close",
    auth = "token",
    reject = "close",
    origins = ["https://app.example.com"]
)]
#[requires_auth]
struct OriginEchoClose {
    #[user]
    user: User,
}

/// The same list, and a handshake without `Origin` refused too.
#[consumer(
    path = "/ws/origin-strict",
    auth = "token",
    origins = ["https://app.example.com"],
    missing_origin = "refuse"
)]
#[requires_auth]
struct OriginStrict {
    #[user]
    user: User,
}

impl Consumer for OriginEcho {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.name).await
    }
}

impl Consumer for OriginEchoClose {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.name).await
    }
}

impl Consumer for OriginStrict {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.name).await
    }
}

/// Raw text and binary echoed unchanged, under a 64 KiB message limit.
#[consumer(
    path = "/ws/big",
    auth = "token",
    query_token = true,
    max_message_size = 65_536
)]
#[requires_auth]
struct Big {
    #[user]
    _user: User,
}

impl Consumer for Big {
    type In = Frame;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: Frame) -> Result<(), Error> {
        match msg {
            Frame::Text(text) => cx.send_text(text).await,
            Frame::Binary(bytes) => cx.send_binary(bytes).await,
        }
    }
}

/// Reads two cookies into typed fields and reports them on connect.
#[consumer(path = "/ws/cookies", auth = "token")]
#[requires_auth]
struct Cookied {
    #[user]
    user: User,
    #[cookie("theme")]
    theme: Option<String>,
    #[cookie("visits")]
    visits: Option<u32>,
}

impl Consumer for Cookied {
    type In = EchoIn;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let hello = json!({ "type": "hello", "theme": self.theme, "visits": self.visits });
        match cx.send(&hello).await {
            Ok(()) => Connect::Accept,
            Err(_) => Connect::Reject(Rejection::server_error("could not greet")),
        }
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.name).await
    }
}

/// The echo with the message rate limit lifted, to see a flood through.
#[consumer(
    path = "/ws/unlimited",
    auth = "token",
    messages_per_second = "unlimited"
)]
#[requires_auth]
struct Unlimited {
    #[user]
    user: User,
}

impl Consumer for Unlimited {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.name).await
    }
}

/// Every consumer above, on the demo store (`tok-N` is `userN`).
fn app() -> Router {
    Router::new()
        .consumer::<Echo>()
        .consumer::<EchoClose>()
        .consumer::<OriginEcho>()
        .consumer::<OriginEchoClose>()
        .consumer::<OriginStrict>()
        .consumer::<Big>()
        .consumer::<Cookied>()
        .consumer::<Unlimited>()
        .with_state(TokenApp::new(Tokens::new(token_store())))
}

// ---------------------------------------------------------------------------
// The bystander, and what a case expects.
// ---------------------------------------------------------------------------

/// A legitimate client, connected before the attacks and asked for an echo
/// after each one.
struct Bystander {
    ws: Ws,
    seq: u64,
    path: &'static str,
    user: &'static str,
}

impl Bystander {
    /// `user0` on `/ws/echo`.
    async fn join(addr: std::net::SocketAddr) -> Bystander {
        Bystander::join_as(addr, "/ws/echo", "tok-0", "user0").await
    }

    async fn join_as(
        addr: std::net::SocketAddr,
        path: &'static str,
        token: &str,
        user: &'static str,
    ) -> Bystander {
        let auth = format!("Token {token}");
        Bystander::join_with(addr, path, &[("authorization", &auth)], user).await
    }

    async fn join_with(
        addr: std::net::SocketAddr,
        path: &'static str,
        headers: &[(&str, &str)],
        user: &'static str,
    ) -> Bystander {
        let mut bystander = Bystander {
            ws: connect(addr, path, headers).await.accepted().0,
            seq: 0,
            path,
            user,
        };
        bystander.still_echoes("joining").await;
        bystander
    }

    /// One echo round trip, exact, naming the case it follows.
    async fn still_echoes(&mut self, after: &str) {
        self.seq += 1;
        let reply = echo(&mut self.ws, self.seq, after).await;
        assert_eq!(
            reply,
            json!({ "type": "echo", "seq": self.seq, "body": after, "user": self.user }),
            "the bystander on {} after: {after}",
            self.path
        );
    }
}

/// The outcome a handshake must come to.
#[derive(Debug, Clone)]
enum Expect {
    /// 101, and the echo names this user.
    Admitted(&'static str),
    /// Refused by the runtime: in `reject = "http"` mode this status with a
    /// JSON body; in `reject = "close"` mode a 101, the error frame, then
    /// this close code. Both carry the same `error` and `reason`.
    Refused {
        status: u16,
        code: u16,
        error: &'static str,
        reason: String,
    },
    /// Refused by hyper before the app runs: this status, no JSON (the app
    /// never saw the request), whatever the consumer's rejection mode.
    Hyper(u16),
}

/// 401 / 4401 with this reason.
fn unauthenticated(reason: impl Into<String>) -> Expect {
    Expect::Refused {
        status: 401,
        code: 4401,
        error: "not_authenticated",
        reason: reason.into(),
    }
}

/// 403 / 1008 (an origin refusal) with this reason.
fn policy(reason: impl Into<String>) -> Expect {
    Expect::Refused {
        status: 403,
        code: 1008,
        error: "policy_violation",
        reason: reason.into(),
    }
}

/// 400 / 4400 with this reason.
fn bad_request(reason: impl Into<String>) -> Expect {
    Expect::Refused {
        status: 400,
        code: 4400,
        error: "bad_request",
        reason: reason.into(),
    }
}

/// One handshake of a table: a label, the request target and its headers.
struct Case {
    label: String,
    target: String,
    headers: Vec<(&'static str, String)>,
    expect: Expect,
}

impl Case {
    fn new(label: impl Into<String>, target: impl Into<String>, expect: Expect) -> Case {
        Case {
            label: label.into(),
            target: target.into(),
            headers: Vec::new(),
            expect,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.headers.push((name, value.into()));
        self
    }

    fn token(self, token: &str) -> Case {
        self.header("authorization", format!("Token {token}"))
    }
}

/// Runs each case, asserting its outcome and then the bystander's echo.
///
/// The client library refuses to send what some cases need (a header that
/// is not ASCII, a URI over the `http` crate's 64 KiB), so those go through
/// the hand-written handshake, byte for byte; the others through the
/// library, which also checks the 101 as a browser would.
async fn run(addr: std::net::SocketAddr, bystander: &mut Bystander, cases: &[Case]) {
    for case in cases {
        let library_sends_it =
            case.target.len() < 60_000 && case.headers.iter().all(|(_, value)| value.is_ascii());
        if library_sends_it {
            let headers: Vec<(&str, &str)> = case
                .headers
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            let handshake = connect(addr, &case.target, &headers).await;
            check(handshake, &case.expect, &case.label).await;
        } else {
            let lines: String = case
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}\r\n"))
                .collect();
            let answer = raw_handshake(addr, case.target.as_bytes(), lines.as_bytes()).await;
            check_raw(answer, &case.expect, &case.label).await;
        }
        bystander.still_echoes(&case.label).await;
    }
}

/// Asserts what a handshake came to.
async fn check(handshake: Handshake, expect: &Expect, label: &str) {
    match (expect, handshake) {
        (Expect::Admitted(user), Handshake::Accepted(ws, _)) => {
            let mut ws = *ws;
            let reply = echo(&mut ws, 1, "admitted").await;
            assert_eq!(reply["type"], "echo", "{label}: {reply}");
            assert_eq!(reply["user"], *user, "{label}");
            let _ = ws.close(None).await;
        }
        (
            Expect::Refused {
                status,
                error,
                reason,
                ..
            },
            Handshake::Refused(got, headers, body),
        ) => {
            assert_eq!(got.as_u16(), *status, "{label}: {body}");
            assert_eq!(headers["content-type"], "application/json", "{label}");
            let body: Value = serde_json::from_str(&body).expect("a JSON body");
            assert_eq!(
                body,
                json!({ "type": "error", "error": error, "reason": reason }),
                "{label}"
            );
        }
        (
            Expect::Refused {
                code,
                error,
                reason,
                ..
            },
            Handshake::Accepted(ws, _),
        ) => {
            let mut ws = *ws;
            let frame = next_json(&mut ws).await;
            assert_eq!(
                frame,
                json!({ "type": "error", "error": error, "reason": reason, "code": code }),
                "{label}"
            );
            assert_eq!(
                next_close(&mut ws).await,
                (*code, reason.clone()),
                "{label}"
            );
        }
        (Expect::Hyper(status), Handshake::Refused(got, headers, body)) => {
            assert_eq!(got.as_u16(), *status, "{label}: {body}");
            assert!(
                headers.get("content-type").is_none(),
                "{label}: hyper's own refusal, not the app's: {headers:?}"
            );
        }
        (expect, Handshake::Accepted(..)) => panic!("{label}: expected {expect:?}, got 101"),
        (expect, Handshake::Refused(status, _, body)) => {
            panic!("{label}: expected {expect:?}, got {status}: {body}")
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens: sizes, in every carrier, in both rejection modes.
// ---------------------------------------------------------------------------

/// 4 KiB, `Limits::DEFAULT.max_credential_len`.
const MAX_CREDENTIAL: usize = 4096;

/// The size table for one consumer path (`/ws/echo` or `/ws/echo-close`,
/// which both read the header, subprotocol and query carriers).
fn size_cases(path: &str) -> Vec<Case> {
    let at_limit = "x".repeat(MAX_CREDENTIAL);
    let over_limit = "x".repeat(MAX_CREDENTIAL + 1);
    let eight_kib = "x".repeat(8 * 1024);
    let huge = "x".repeat(300_000);
    let oversized =
        |carrier: &str| unauthenticated(format!("oversized token in the {carrier} carrier"));
    let unknown =
        |carrier: &str| unauthenticated(format!("unknown token in the {carrier} carrier"));
    vec![
        // `Token ` with nothing after it: present, so refused, never anonymous.
        Case::new(
            "empty header token",
            path,
            unauthenticated("empty token in the header carrier"),
        )
        .header("authorization", "Token "),
        Case::new("1-byte header token", path, unknown("header")).token("x"),
        // The limit is inclusive: a 4 KiB token is looked up (and unknown).
        Case::new("4 KiB header token", path, unknown("header")).token(&at_limit),
        Case::new("4 KiB + 1 header token", path, oversized("header")).token(&over_limit),
        Case::new("8 KiB header token", path, oversized("header")).token(&eight_kib),
        // hyper reads request heads up to ~408 KiB (8 KiB + 100 * 4 KiB,
        // `DEFAULT_MAX_BUFFER_SIZE`), so a 300 KB header reaches the app,
        // whose length check refuses it unread, without a store lookup.
        Case::new("300 KB header token", path, oversized("header")).token(&huge),
        // Past hyper's buffer the head is refused by hyper itself: 431.
        Case::new("500 KB header token", path, Expect::Hyper(431)).token(&"x".repeat(500_000)),
        Case::new(
            "empty subprotocol token",
            path,
            unauthenticated("marker without a token in the subprotocol carrier"),
        )
        .header("sec-websocket-protocol", "bearer,"),
        Case::new("1-byte subprotocol token", path, unknown("subprotocol"))
            .header("sec-websocket-protocol", "bearer, x"),
        Case::new("8 KiB subprotocol token", path, oversized("subprotocol"))
            .header("sec-websocket-protocol", format!("bearer, {eight_kib}")),
        Case::new("300 KB subprotocol token", path, oversized("subprotocol"))
            .header("sec-websocket-protocol", format!("bearer, {huge}")),
        Case::new(
            "empty query token",
            format!("{path}?token="),
            unauthenticated("empty token in the query carrier"),
        ),
        Case::new(
            "1-byte query token",
            format!("{path}?token=x"),
            unknown("query"),
        ),
        Case::new(
            "8 KiB query token",
            format!("{path}?token={eight_kib}"),
            oversized("query"),
        ),
        // The `http` crate caps a URI at 64 KiB; hyper answers a longer
        // request target with 414 before routing.
        Case::new(
            "300 KB query token",
            format!("{path}?token={huge}"),
            Expect::Hyper(414),
        ),
        Case::new(
            "a valid token, for contrast",
            path,
            Expect::Admitted("user1"),
        )
        .token("tok-1"),
    ]
}

#[tokio::test]
async fn tokens_of_every_size_get_an_exact_answer_in_http_mode() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    run(addr, &mut bystander, &size_cases("/ws/echo")).await;
}

#[tokio::test]
async fn tokens_of_every_size_get_an_exact_answer_in_close_mode() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    run(addr, &mut bystander, &size_cases("/ws/echo-close")).await;
}

// ---------------------------------------------------------------------------
// Tokens with control characters, sent byte-exact: a client library refuses
// to put NUL, CR or LF in a header, so these handshakes are written by hand.
// ---------------------------------------------------------------------------

/// What a hand-written handshake came to.
enum RawAnswer {
    /// 101: the stream and the bytes read after the response head.
    Upgraded(TcpStream, Vec<u8>),
    /// Any other status, with the response head and body.
    Refused(u16, String, Vec<u8>),
}

/// Sends an upgrade request for `target` with `extra` header lines (each
/// ending in CRLF), byte for byte, and reads the answer.
async fn raw_handshake(addr: std::net::SocketAddr, target: &[u8], extra: &[u8]) -> RawAnswer {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        )
        .as_bytes(),
    );
    request.extend_from_slice(extra);
    request.extend_from_slice(b"\r\n");
    write_all(&stream, &request).await;
    let mut buf = Vec::new();
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        read_more(&stream, &mut buf).await;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status: u16 = head
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head}"));
    let rest = buf.split_off(end);
    if status == 101 {
        return RawAnswer::Upgraded(stream, rest);
    }
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = rest;
    while body.len() < length {
        read_more(&stream, &mut body).await;
    }
    RawAnswer::Refused(status, head, body)
}

/// Asserts what a hand-written handshake came to.
async fn check_raw(answer: RawAnswer, expect: &Expect, label: &str) {
    match (expect, answer) {
        (
            Expect::Refused {
                status,
                error,
                reason,
                ..
            },
            RawAnswer::Refused(got, head, body),
        ) => {
            assert_eq!(got, *status, "{label}: {head}");
            let body: Value = serde_json::from_slice(&body).expect("a JSON body");
            assert_eq!(
                body,
                json!({ "type": "error", "error": error, "reason": reason }),
                "{label}"
            );
        }
        (
            Expect::Refused {
                code,
                error,
                reason,
                ..
            },
            RawAnswer::Upgraded(stream, mut buf),
        ) => {
            let (opcode, payload) = server_frame(&stream, &mut buf).await;
            assert_eq!(opcode, 0x1, "{label}: the error frame first");
            let frame: Value = serde_json::from_slice(&payload).expect("a JSON frame");
            assert_eq!(
                frame,
                json!({ "type": "error", "error": error, "reason": reason, "code": code }),
                "{label}"
            );
            assert_eq!(
                close_of(server_frame(&stream, &mut buf).await),
                (*code, reason.clone()),
                "{label}"
            );
        }
        (Expect::Hyper(status), RawAnswer::Refused(got, head, body)) => {
            assert_eq!(got, *status, "{label}: {head}");
            assert!(
                !head.to_ascii_lowercase().contains("application/json"),
                "{label}: hyper's own refusal, not the app's: {head} {body:?}"
            );
        }
        (Expect::Admitted(user), RawAnswer::Upgraded(stream, mut buf)) => {
            let request = br#"{"type":"echo","seq":1,"body":"raw"}"#;
            write_all(&stream, &client_frame(0x81, request)).await;
            let (opcode, payload) = server_frame(&stream, &mut buf).await;
            assert_eq!(opcode, 0x1, "{label}");
            let reply: Value = serde_json::from_slice(&payload).expect("a JSON frame");
            assert_eq!(reply["user"], *user, "{label}");
        }
        (expect, RawAnswer::Upgraded(..)) => panic!("{label}: expected {expect:?}, got 101"),
        (expect, RawAnswer::Refused(status, head, _)) => {
            panic!("{label}: expected {expect:?}, got {status}: {head}")
        }
    }
}

/// A close frame's code and reason.
fn close_of((opcode, payload): (u8, Vec<u8>)) -> (u16, String) {
    assert_eq!(opcode, 0x8, "a close frame, got payload {payload:?}");
    assert!(payload.len() >= 2, "a close frame with a code");
    let reason = String::from_utf8(payload[2..].to_vec()).expect("a UTF-8 reason");
    (u16::from_be_bytes([payload[0], payload[1]]), reason)
}

/// (label, request target after the path, header lines, outcome).
type RawCase = (&'static str, &'static [u8], &'static [u8], Expect);

fn control_character_cases() -> Vec<RawCase> {
    // hyper parses request heads with httparse, which admits only tab,
    // space, visible ASCII and obs-text (0x80-0xff) in a header value:
    // NUL, a bare CR, a vertical tab, a line folded onto the next
    // (obs-fold, refused in requests) all end the request with 400 before
    // any application code runs, so a smuggled byte never reaches a carrier.
    let malformed =
        |carrier: &str| unauthenticated(format!("malformed token in the {carrier} carrier"));
    vec![
        (
            "NUL inside",
            b"",
            b"Authorization: Token tok\x00-1\r\n",
            Expect::Hyper(400),
        ),
        (
            "NUL at the end",
            b"",
            b"Authorization: Token tok-1\x00\r\n",
            Expect::Hyper(400),
        ),
        (
            "bare CR",
            b"",
            b"Authorization: Token tok\r-1\r\n",
            Expect::Hyper(400),
        ),
        (
            "vertical tab",
            b"",
            b"Authorization: Token tok\x0b-1\r\n",
            Expect::Hyper(400),
        ),
        (
            "obs-fold continuation",
            b"",
            b"Authorization: Token nope\r\n tok-1\r\n",
            Expect::Hyper(400),
        ),
        // A bare LF ends the line (httparse accepts LF line endings), so
        // `-1` becomes a header line without a colon: 400.
        (
            "bare LF",
            b"",
            b"Authorization: Token tok\n-1\r\n",
            Expect::Hyper(400),
        ),
        // CRLF inside a "token" is two header lines: a second Authorization
        // header, which the header carrier refuses as ambiguous.
        (
            "CRLF injecting a second Authorization",
            b"",
            b"Authorization: Token nope\r\nAuthorization: Token tok-1\r\n",
            unauthenticated("repeated Authorization header in the header carrier"),
        ),
        // A tab is legal in a header value, but not in a token.
        (
            "tab inside",
            b"",
            b"Authorization: Token tok\t-1\r\n",
            malformed("header"),
        ),
        (
            "raw UTF-8 look-alike",
            b"",
            "Authorization: Token t\u{043e}k-1\r\n".as_bytes(),
            malformed("header"),
        ),
        (
            "obs-text byte",
            b"",
            b"Authorization: Token tok-\xff\r\n",
            malformed("header"),
        ),
        (
            "NUL in a subprotocol token",
            b"",
            b"Sec-WebSocket-Protocol: bearer, tok\x00\r\n",
            Expect::Hyper(400),
        ),
        (
            "obs-text in a subprotocol token",
            b"",
            b"Sec-WebSocket-Protocol: bearer, tok-\xff\r\n",
            malformed("subprotocol"),
        ),
        // Percent-encoded control characters decode to an owned string,
        // which the query carrier refuses whatever it holds.
        (
            "%00 in the query",
            b"?token=tok%00-1",
            b"",
            unauthenticated("percent-encoded token in the query carrier"),
        ),
        (
            "%0D%0A in the query",
            b"?token=tok%0D%0A-1",
            b"",
            unauthenticated("percent-encoded token in the query carrier"),
        ),
        // A raw NUL in the request line is not HTTP.
        (
            "raw NUL in the query",
            b"?token=tok\x00-1",
            b"",
            Expect::Hyper(400),
        ),
    ]
}

async fn control_characters_in(path: &str) {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    for (label, query, extra, expect) in control_character_cases() {
        let mut target = path.as_bytes().to_vec();
        target.extend_from_slice(query);
        let answer = raw_handshake(addr, &target, extra).await;
        check_raw(answer, &expect, label).await;
        bystander.still_echoes(label).await;
    }
    // The hand-written client is sound: a clean request gets in.
    let answer = raw_handshake(addr, path.as_bytes(), b"Authorization: Token tok-1\r\n").await;
    check_raw(answer, &Expect::Admitted("user1"), "a clean raw handshake").await;
}

#[tokio::test]
async fn control_characters_in_tokens_are_refused_in_http_mode() {
    control_characters_in("/ws/echo").await;
}

#[tokio::test]
async fn control_characters_in_tokens_are_refused_in_close_mode() {
    control_characters_in("/ws/echo-close").await;
}

// ---------------------------------------------------------------------------
// Look-alike and SQL-like tokens, against the memory and the SQLite store.
// ---------------------------------------------------------------------------

/// A user the SQLite store can keep (it stores users as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Person {
    id: String,
}

impl AuthUser for Person {
    type Id = String;
    fn id(&self) -> String {
        self.id.clone()
    }
}

#[consumer(path = "/ws/person", auth = "token", query_token = true)]
#[requires_auth]
struct PersonEcho {
    #[user]
    user: Person,
}

impl Consumer for PersonEcho {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.id).await
    }
}

fn person_app(tokens: Tokens<Person>) -> Router {
    Router::new()
        .consumer::<PersonEcho>()
        .with_state(TokenApp::new(tokens))
}

fn trick_cases() -> Vec<Case> {
    const P: &str = "/ws/person";
    let unknown =
        |carrier: &str| unauthenticated(format!("unknown token in the {carrier} carrier"));
    let malformed =
        |carrier: &str| unauthenticated(format!("malformed token in the {carrier} carrier"));
    vec![
        // Cyrillic о (U+043E) for the Latin o: not ASCII, refused before
        // any lookup, so no store can be fooled by a normalising collation.
        Case::new("Cyrillic look-alike in the header", P, malformed("header"))
            .token("t\u{043e}k-1"),
        Case::new(
            "Cyrillic look-alike in the subprotocol",
            P,
            malformed("subprotocol"),
        )
        .header("sec-websocket-protocol", "bearer, t\u{043e}k-1"),
        Case::new(
            "Cyrillic look-alike in the query",
            format!("{P}?token=t%D0%BEk-1"),
            unauthenticated("percent-encoded token in the query carrier"),
        ),
        // ASCII look-alikes do reach the store, which must match exactly.
        Case::new("upper case", P, unknown("header")).token("TOK-1"),
        Case::new("l for 1", P, unknown("header")).token("tok-l"),
        Case::new("a trailing dot", P, unknown("header")).token("tok-1."),
        Case::new("quoted", P, unknown("header")).token("\"tok-1\""),
        // SQL with spaces is not a token (visible ASCII only).
        Case::new("' OR 1=1 -- in the header", P, malformed("header")).token("' OR 1=1 --"),
        Case::new(
            "' OR 1=1 -- in the subprotocol",
            P,
            malformed("subprotocol"),
        )
        .header("sec-websocket-protocol", "bearer, ' OR 1=1 --"),
        Case::new(
            "' OR 1=1 -- in the query",
            format!("{P}?token=%27%20OR%201%3D1%20--"),
            unauthenticated("percent-encoded token in the query carrier"),
        ),
        // SQL without spaces is a well-formed token: it is looked up (as a
        // SHA-256 digest bound as a parameter) and found nowhere.
        Case::new("'OR'1'='1'--", P, unknown("header")).token("'OR'1'='1'--"),
        Case::new("tok-1'--", P, unknown("header")).token("tok-1'--"),
        Case::new("tok-1'OR'1'='1", P, unknown("header")).token("tok-1'OR'1'='1"),
        Case::new("LIKE wildcards", P, unknown("header")).token("tok-%"),
        Case::new("a single wildcard", P, unknown("header")).token("%"),
        Case::new("a statement", P, unknown("header"))
            .token("x';DROP/**/TABLE/**/sockwarden_tokens;--"),
        Case::new("SQL in the subprotocol", P, unknown("subprotocol"))
            .header("sec-websocket-protocol", "bearer, 'OR'1'='1'--"),
        Case::new(
            "SQL in the query",
            format!("{P}?token='OR'1'='1'--"),
            unknown("query"),
        ),
        // And after all that, the real token still works.
        Case::new("the real token", P, Expect::Admitted("alice")).token("tok-1"),
    ]
}

#[tokio::test]
async fn look_alike_and_sql_like_tokens_are_refused_by_the_memory_store() {
    let store = MemoryTokenStore::new();
    store.insert("tok-1", Person { id: "alice".into() });
    store.insert("tok-2", Person { id: "bob".into() });
    let addr = serve(person_app(Tokens::new(store))).await;
    let mut bystander = Bystander::join_as(addr, "/ws/person", "tok-2", "bob").await;
    run(addr, &mut bystander, &trick_cases()).await;
}

#[tokio::test]
async fn look_alike_and_sql_like_tokens_are_refused_by_the_sqlite_store() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    store
        .insert("tok-1", &Person { id: "alice".into() })
        .await
        .unwrap();
    store
        .insert("tok-2", &Person { id: "bob".into() })
        .await
        .unwrap();
    let addr = serve(person_app(Tokens::new(store.clone()))).await;
    let mut bystander = Bystander::join_as(addr, "/ws/person", "tok-2", "bob").await;
    run(addr, &mut bystander, &trick_cases()).await;
    // The table is intact: both rows still resolve to their users, and the
    // SQL that would match every row matches none.
    use sockwarden::store::TokenStore;
    let alice = Some(Person { id: "alice".into() });
    assert_eq!(store.lookup("tok-1").await.unwrap(), alice);
    assert_eq!(
        store.lookup("tok-2").await.unwrap(),
        Some(Person { id: "bob".into() })
    );
    assert_eq!(store.lookup("'OR'1'='1'--").await.unwrap(), None);
}

// ---------------------------------------------------------------------------
// Conflicting credentials: the first present carrier decides.
// ---------------------------------------------------------------------------

fn conflict_cases(path: &str) -> Vec<Case> {
    let invalid =
        |carrier: &str| unauthenticated(format!("unknown token in the {carrier} carrier"));
    vec![
        // Header before subprotocol: the header is read, the subprotocol's
        // token is not even looked at.
        Case::new(
            "valid header, invalid subprotocol",
            path,
            Expect::Admitted("user1"),
        )
        .token("tok-1")
        .header("sec-websocket-protocol", "bearer, nope"),
        Case::new("invalid header, valid subprotocol", path, invalid("header"))
            .token("nope")
            .header("sec-websocket-protocol", "bearer, tok-1"),
        Case::new(
            "two valid users: the header's wins",
            path,
            Expect::Admitted("user1"),
        )
        .token("tok-1")
        .header("sec-websocket-protocol", "bearer, tok-2"),
        Case::new(
            "malformed header, valid subprotocol",
            path,
            unauthenticated("unsupported authorization scheme in the header carrier"),
        )
        .header("authorization", "Basic dG9rLTE6")
        .header("sec-websocket-protocol", "bearer, tok-1"),
        // Subprotocol before query.
        Case::new(
            "valid subprotocol, invalid query",
            format!("{path}?token=nope"),
            Expect::Admitted("user2"),
        )
        .header("sec-websocket-protocol", "bearer, tok-2"),
        Case::new(
            "invalid subprotocol, valid query",
            format!("{path}?token=tok-1"),
            invalid("subprotocol"),
        )
        .header("sec-websocket-protocol", "bearer, nope"),
        Case::new(
            "invalid header, valid query",
            format!("{path}?token=tok-1"),
            invalid("header"),
        )
        .token("nope"),
        // Two values in one carrier are ambiguous: refused, whichever is valid.
        Case::new(
            "valid and invalid Authorization headers",
            path,
            unauthenticated("repeated Authorization header in the header carrier"),
        )
        .token("tok-1")
        .token("nope"),
        Case::new(
            "valid and invalid query tokens",
            format!("{path}?token=tok-1&token=nope"),
            unauthenticated("repeated token parameter in the query carrier"),
        ),
    ]
}

#[tokio::test]
async fn conflicting_carriers_follow_the_precedence_in_http_mode() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    run(addr, &mut bystander, &conflict_cases("/ws/echo")).await;
}

#[tokio::test]
async fn conflicting_carriers_follow_the_precedence_in_close_mode() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    run(addr, &mut bystander, &conflict_cases("/ws/echo-close")).await;
}

// ---------------------------------------------------------------------------
// Forged cookies, on a consumer with `#[cookie]` fields.
// ---------------------------------------------------------------------------

/// The cookies a handshake carried, as `Cookied::connect` reports them.
async fn hello_of(handshake: Handshake, label: &str) -> Value {
    let (mut ws, _) = handshake.accepted();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{label}");
    assert_eq!(echo(&mut ws, 1, label).await["user"], "user1", "{label}");
    let _ = ws.close(None).await;
    hello
}

#[tokio::test]
async fn forged_cookies_get_a_clear_outcome() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let auth = ("authorization", "Token tok-1");
    let big = "d".repeat(100_000);
    let bigger = "d".repeat(300_000);
    // (label, Cookie header values, the fields the consumer sees).
    let admitted: Vec<(&str, Vec<String>, Value)> = vec![
        ("no cookie", vec![], json!([null, null])),
        (
            "well formed",
            vec!["theme=dark; visits=3".into()],
            json!(["dark", 3]),
        ),
        (
            "quoted",
            vec!["theme=\"dark\"".into()],
            json!(["dark", null]),
        ),
        // Garbage pairs are skipped, never an error: a browser sends every
        // cookie of the domain, including other apps' odd ones.
        (
            "garbage",
            vec!["=;;;=; ;theme; ===".into()],
            json!([null, null]),
        ),
        // A repeated name: the first occurrence is read, in one header or
        // across several (HTTP/2 sends one header per cookie).
        (
            "repeated in one header",
            vec!["theme=a; theme=b".into()],
            json!(["a", null]),
        ),
        (
            "repeated across headers",
            vec!["theme=a".into(), "theme=b".into()],
            json!(["a", null]),
        ),
        (
            "valid first, garbage second",
            vec!["visits=3; visits=abc".into()],
            json!([null, 3]),
        ),
        // A cookie is not a credential for token auth: `token=` is just a
        // cookie the consumer does not read.
        (
            "a forged token cookie",
            vec!["token=tok-2; session=forged".into()],
            json!([null, null]),
        ),
        (
            "UTF-8 value",
            vec!["theme=т\u{0451}мная".into()],
            json!(["тёмная", null]),
        ),
        // Values are not capped by the runtime; hyper's head limit is the cap.
        (
            "100 KB value",
            vec![format!("theme={big}")],
            json!([big, null]),
        ),
        (
            "300 KB value",
            vec![format!("theme={bigger}")],
            json!([bigger, null]),
        ),
    ];
    for (label, cookies, expected) in admitted {
        let mut headers = vec![auth];
        headers.extend(cookies.iter().map(|cookie| ("cookie", cookie.as_str())));
        let hello = hello_of(connect(addr, "/ws/cookies", &headers).await, label).await;
        assert_eq!(
            json!([hello["theme"], hello["visits"]]),
            expected,
            "{label}"
        );
        bystander.still_echoes(label).await;
    }

    // A typed field whose cookie does not parse refuses the handshake with
    // 400, naming the cookie and not quoting it.
    let refused = [
        ("not a number", "visits=abc"),
        ("over u32", "visits=4294967296"),
        ("negative", "visits=-1"),
        ("garbage first, valid second", "visits=abc; visits=3"),
    ];
    for (label, cookie) in refused {
        let handshake = connect(addr, "/ws/cookies", &[auth, ("cookie", cookie)]).await;
        check(handshake, &bad_request("invalid cookie `visits`"), label).await;
        bystander.still_echoes(label).await;
    }

    // The cookie carries no credential: without a token the handshake is
    // anonymous, and `#[requires_auth]` refuses it.
    let handshake = connect(addr, "/ws/cookies", &[("cookie", "token=tok-1")]).await;
    let expect = unauthenticated("authentication required");
    check(handshake, &expect, "a token in a cookie only").await;
    bystander.still_echoes("a token in a cookie only").await;

    // Over hyper's ~408 KiB head limit: 431 from hyper.
    let huge = format!("theme={}", "d".repeat(500_000));
    let handshake = connect(addr, "/ws/cookies", &[auth, ("cookie", &huge)]).await;
    check(handshake, &Expect::Hyper(431), "500 KB cookie").await;
    bystander.still_echoes("500 KB cookie").await;

    // Bytes a client library will not send. A pair that is not UTF-8 is
    // skipped, the others still read; NUL ends the request in hyper.
    let raw = raw_handshake(
        addr,
        b"/ws/cookies",
        b"Authorization: Token tok-1\r\nCookie: theme=\xff\xfe; visits=7\r\n",
    )
    .await;
    let RawAnswer::Upgraded(stream, mut buf) = raw else {
        panic!("a cookie that is not UTF-8 refused the handshake");
    };
    let (opcode, payload) = server_frame(&stream, &mut buf).await;
    assert_eq!(opcode, 0x1);
    let hello: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(json!([hello["theme"], hello["visits"]]), json!([null, 7]));
    drop(stream);
    bystander.still_echoes("a cookie that is not UTF-8").await;

    let raw = raw_handshake(
        addr,
        b"/ws/cookies",
        b"Authorization: Token tok-1\r\nCookie: theme=a\x00b\r\n",
    )
    .await;
    check_raw(raw, &Expect::Hyper(400), "NUL in a cookie").await;
    bystander.still_echoes("NUL in a cookie").await;
}

// ---------------------------------------------------------------------------
// Forged session cookies, on a consumer with `auth = "session"`.
// ---------------------------------------------------------------------------

#[consumer(path = "/ws/session", auth = "session")]
#[requires_auth]
struct SessionEcho {
    #[user]
    user: Person,
}

impl Consumer for SessionEcho {
    type In = EchoIn;
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        answer(cx, msg, &self.user.id).await
    }
}

#[tokio::test]
async fn forged_and_duplicated_session_cookies_get_a_clear_outcome() {
    use sockwarden::session::{MemoryStore, Sessions};
    let sessions: Sessions<Person> = Sessions::new(MemoryStore::default()).with_cookie_name("sid");
    let alice = sessions
        .create_session(&Person { id: "alice".into() })
        .await
        .unwrap()
        .to_string();
    let bob = sessions
        .create_session(&Person { id: "bob".into() })
        .await
        .unwrap()
        .to_string();
    let app = Router::new()
        .consumer::<SessionEcho>()
        .with_state(sessions.clone());
    let addr = serve(app).await;
    // A session consumer admits pages of its own host only (`Host` is what
    // the client library sends: 127.0.0.1:port).
    let origin = format!("http://{addr}");
    let bob_cookie = format!("sid={bob}");
    let mut bystander = Bystander::join_with(
        addr,
        "/ws/session",
        &[("origin", &origin), ("cookie", &bob_cookie)],
        "bob",
    )
    .await;

    const P: &str = "/ws/session";
    // Every session that names nobody is anonymous, refused alike.
    let anonymous = || unauthenticated("authentication required");
    let from = |page: &str, label: &str, cookies: &[String], expect: Expect| {
        cookies.iter().fold(
            Case::new(label, P, expect).header("origin", page),
            |case, cookie| case.header("cookie", cookie.clone()),
        )
    };
    let with =
        |label: &str, cookies: &[String], expect: Expect| from(&origin, label, cookies, expect);
    // The first character of alice's id, percent-encoded.
    let encoded = format!("sid=%{:02X}{}", alice.as_bytes()[0], &alice[1..]);
    let cases = [
        with(
            "the real session",
            &[format!("sid={alice}")],
            Expect::Admitted("alice"),
        ),
        with("no cookie", &[], anonymous()),
        with("a forged id", &["sid=forged".into()], anonymous()),
        with(
            "a well-formed unknown id",
            &["sid=AAAAAAAAAAAAAAAAAAAAAA".into()],
            anonymous(),
        ),
        with(
            "a 300 KB id",
            &[format!("sid={}", "A".repeat(300_000))],
            anonymous(),
        ),
        with("garbage", &["=;;sid;sid==;;".into()], anonymous()),
        with("quoted", &[format!("sid=\"{alice}\"")], anonymous()),
        with(
            "a look-alike name",
            &[format!("SID={alice}; xsid={alice}")],
            anonymous(),
        ),
        // Percent-decoded, as tower-cookies decodes the HTTP side's cookie.
        with("percent-encoded", &[encoded], Expect::Admitted("alice")),
        // Of two cookies named `sid` the last wins, as on the HTTP side
        // (tower-cookies): the socket and the page name the same session,
        // whichever a sibling subdomain tossed in.
        with(
            "forged, then real",
            &[format!("sid=forged; sid={alice}")],
            Expect::Admitted("alice"),
        ),
        with(
            "real, then forged",
            &[format!("sid={alice}; sid=forged")],
            anonymous(),
        ),
        with(
            "real, then another user's in a second header",
            &[format!("sid={alice}"), format!("sid={bob}")],
            Expect::Admitted("bob"),
        ),
        // A page on another site cannot ride the cookie: refused before the
        // session is read.
        from(
            "https://evil.example",
            "a cross-site page",
            &[format!("sid={alice}")],
            policy("origin https://evil.example is not this host"),
        ),
    ];
    run(addr, &mut bystander, &cases).await;

    let lines = format!("Origin: {origin}\r\nCookie: sid={alice}\x00\r\n");
    let raw = raw_handshake(addr, P.as_bytes(), lines.as_bytes()).await;
    check_raw(raw, &Expect::Hyper(400), "NUL after a real session id").await;
    bystander.still_echoes("NUL after a real session id").await;
}

// ---------------------------------------------------------------------------
// Origins: missing, null and look-alikes against
// `origins = ["https://app.example.com"]`.
// ---------------------------------------------------------------------------

/// (label, Origin header values, outcome); every handshake carries a valid
/// token, so a refusal is the origin's.
fn origin_cases() -> Vec<(&'static str, Vec<&'static str>, Expect)> {
    let not_allowed = |origin: &str| policy(format!("origin {origin} is not allowed"));
    vec![
        (
            "the listed origin",
            vec!["https://app.example.com"],
            Expect::Admitted("user1"),
        ),
        (
            "its default port",
            vec!["https://app.example.com:443"],
            Expect::Admitted("user1"),
        ),
        (
            "upper case",
            vec!["HTTPS://APP.EXAMPLE.COM"],
            Expect::Admitted("user1"),
        ),
        // A token is not sent by the browser on its own, so a handshake
        // without Origin (a non-browser client) is admitted unless the
        // consumer says `missing_origin = "refuse"` (see below).
        ("no Origin", vec![], Expect::Admitted("user1")),
        (
            "null",
            vec!["null"],
            policy("the Origin is null (a sandboxed frame, a file:// page or a redirect)"),
        ),
        (
            "the apex as a prefix of another domain",
            vec!["https://example.com.evil.net"],
            not_allowed("https://example.com.evil.net"),
        ),
        (
            "the origin as a prefix of another domain",
            vec!["https://app.example.com.evil.net"],
            not_allowed("https://app.example.com.evil.net"),
        ),
        (
            "http instead of https",
            vec!["http://app.example.com"],
            not_allowed("http://app.example.com"),
        ),
        (
            "another port",
            vec!["https://app.example.com:8443"],
            not_allowed("https://app.example.com:8443"),
        ),
        (
            "the apex",
            vec!["https://example.com"],
            not_allowed("https://example.com"),
        ),
        (
            "a sibling",
            vec!["https://evil.example.com"],
            not_allowed("https://evil.example.com"),
        ),
        (
            "a suffix",
            vec!["https://evilapp.example.com"],
            not_allowed("https://evilapp.example.com"),
        ),
        (
            "a hyphen for a dot",
            vec!["https://app-example.com"],
            not_allowed("https://app-example.com"),
        ),
        (
            "Cyrillic а in the host",
            vec!["https://\u{0430}pp.example.com"],
            policy("the Origin header is not ASCII (browsers send hosts in punycode)"),
        ),
        (
            "a trailing slash",
            vec!["https://app.example.com/"],
            policy("the Origin header has a path, query or fragment"),
        ),
        (
            "a trailing dot",
            vec!["https://app.example.com."],
            policy("the Origin's host ends with a dot"),
        ),
        (
            "userinfo",
            vec!["https://app.example.com@evil.net"],
            policy("the Origin header has userinfo"),
        ),
        (
            "a WebSocket scheme",
            vec!["wss://app.example.com"],
            policy("the Origin header has a ws:// or wss:// scheme"),
        ),
        ("empty", vec![""], policy("the Origin header is empty")),
        (
            "two Origin headers",
            vec!["https://app.example.com", "https://evil.example"],
            policy("more than one Origin header"),
        ),
    ]
}

async fn origins_against(path: &str) {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let cases: Vec<Case> = origin_cases()
        .into_iter()
        .map(|(label, origins, expect)| {
            let case = Case::new(label, path, expect).token("tok-1");
            origins
                .into_iter()
                .fold(case, |case, origin| case.header("origin", origin))
        })
        .collect();
    run(addr, &mut bystander, &cases).await;
}

#[tokio::test]
async fn origins_are_matched_exactly_in_http_mode() {
    origins_against("/ws/origin").await;
}

#[tokio::test]
async fn origins_are_matched_exactly_in_close_mode() {
    origins_against("/ws/origin-close").await;
}

#[tokio::test]
async fn a_missing_origin_is_refused_where_the_consumer_says_so() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let cases = [
        Case::new("no Origin", "/ws/origin-strict", policy("no Origin header")).token("tok-1"),
        Case::new(
            "the listed origin",
            "/ws/origin-strict",
            Expect::Admitted("user1"),
        )
        .token("tok-1")
        .header("origin", "https://app.example.com"),
        // The origin is checked before the credential is read: a foreign
        // page learns nothing about the token it made a browser send.
        Case::new(
            "a foreign origin with an invalid token",
            "/ws/origin-strict",
            policy("origin https://evil.example is not allowed"),
        )
        .token("nope")
        .header("origin", "https://evil.example"),
    ];
    run(addr, &mut bystander, &cases).await;
}

// ---------------------------------------------------------------------------
// Frames: over the size limit, and against the protocol.
// ---------------------------------------------------------------------------

/// A masked client frame of any length (16- and 64-bit lengths included).
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = frame_head(first, payload.len() as u64);
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The head of a masked client frame announcing `len` payload bytes.
fn frame_head(first: u8, len: u64) -> Vec<u8> {
    let mut head = vec![first];
    match len {
        0..=125 => head.push(0x80 | len as u8),
        126..=0xffff => {
            head.push(0x80 | 126);
            head.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            head.push(0x80 | 127);
            head.extend_from_slice(&len.to_be_bytes());
        }
    }
    head.extend_from_slice(&[0x37, 0xfa, 0x21, 0x3d]);
    head
}

#[tokio::test]
async fn messages_over_the_limit_close_with_1009() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    const LIMIT: usize = 65_536;

    // At the limit: echoed whole.
    let mut ws = connect_with_token(addr, "/ws/big", "tok-1").await;
    let exact = "a".repeat(LIMIT);
    ws.send(Message::text(exact.clone())).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::text(exact));
    bystander.still_echoes("a message at the limit").await;

    // One byte over, as text and as binary, from a client library.
    for (label, message) in [
        ("65,537-byte text", Message::text("a".repeat(LIMIT + 1))),
        ("65,537-byte binary", Message::binary(vec![7u8; LIMIT + 1])),
    ] {
        let mut ws = connect_with_token(addr, "/ws/big", "tok-1").await;
        ws.send(message).await.unwrap();
        assert_eq!(
            next_close(&mut ws).await,
            (1009, "message too big".to_owned()),
            "{label}"
        );
        bystander.still_echoes(label).await;
    }

    // By hand: a head announcing 2^62 bytes is refused on the head alone,
    // before a byte of payload (nothing is allocated for it, nothing waited
    // for); fragments under the limit that add up over it are refused too
    // (RFC 6455 §10.4: "an endless fragmented message").
    let huge_head = frame_head(0x82, 1 << 62);
    let mut two_fragments = frame(0x01, &[b'a'; 40_000]);
    two_fragments.extend(frame(0x80, &[b'a'; 40_000]));
    let many_fragments: Vec<u8> = (0..65)
        .flat_map(|i| frame(if i == 0 { 0x02 } else { 0x00 }, &[0u8; 1024]))
        .collect();
    for (label, bytes) in [
        ("a head announcing 2^62 bytes", huge_head),
        ("two 40,000-byte fragments", two_fragments),
        ("65 fragments of 1 KiB, never finished", many_fragments),
    ] {
        let (stream, mut buf) = raw_upgrade(addr, "/ws/big?token=tok-1").await;
        write_all(&stream, &bytes).await;
        assert_eq!(
            close_of(server_frame(&stream, &mut buf).await),
            (1009, "message too big".to_owned()),
            "{label}"
        );
        bystander.still_echoes(label).await;
    }
}

/// (label, bytes sent after the upgrade, close code, close reason or
/// `None` where the reason is tungstenite's wording).
type FrameCase = (&'static str, Vec<u8>, u16, Option<&'static str>);

fn protocol_cases() -> Vec<FrameCase> {
    let close_with = |code: u16, reason: &[u8]| {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason);
        client_frame(0x88, &payload)
    };
    let unmasked_text = {
        let payload = br#"{"type":"echo","seq":1,"body":"x"}"#;
        let mut frame = vec![0x81, payload.len() as u8];
        frame.extend_from_slice(payload);
        frame
    };
    let mut interleaved = client_frame(0x01, b"{\"type\":");
    interleaved.extend(client_frame(0x81, b"\"x\""));
    let utf8 = Some("invalid UTF-8 in a text message");
    vec![
        (
            "invalid UTF-8",
            client_frame(0x81, &[0xff, 0xfe]),
            1007,
            utf8,
        ),
        (
            "a truncated UTF-8 sequence",
            client_frame(0x81, &[b'"', 0xc3]),
            1007,
            utf8,
        ),
        (
            "an overlong encoding of '/'",
            client_frame(0x81, &[b'"', 0xc0, 0xaf, b'"']),
            1007,
            utf8,
        ),
        (
            "a reserved data opcode",
            client_frame(0x83, b"hi"),
            1002,
            None,
        ),
        (
            "a reserved control opcode",
            client_frame(0x8b, b""),
            1002,
            None,
        ),
        (
            "RSV1 without an extension",
            client_frame(0xc1, b"\"hi\""),
            1002,
            None,
        ),
        ("an unmasked client frame", unmasked_text, 1002, None),
        ("a fragmented ping", client_frame(0x09, b"p"), 1002, None),
        ("a 126-byte ping", frame(0x89, &[0u8; 126]), 1002, None),
        (
            "a continuation with nothing to continue",
            client_frame(0x80, b"x"),
            1002,
            None,
        ),
        (
            "a new message inside a fragmented one",
            interleaved,
            1002,
            None,
        ),
        (
            "a close with a one-byte payload",
            client_frame(0x88, &[0x03]),
            1002,
            None,
        ),
        // Codes a peer may never send (1005, 1006 are reserved; below 1000
        // unassigned): tungstenite answers "Protocol violation".
        (
            "close code 1005",
            close_with(1005, b""),
            1002,
            Some("Protocol violation"),
        ),
        (
            "close code 999",
            close_with(999, b""),
            1002,
            Some("Protocol violation"),
        ),
        (
            "a close reason that is not UTF-8",
            close_with(1000, &[0xff]),
            1007,
            utf8,
        ),
        // Binary to a JSON consumer: unsupported data.
        (
            "binary to a JSON consumer",
            client_frame(0x82, b"\x00\x01"),
            1003,
            Some("this consumer does not take binary messages"),
        ),
    ]
}

#[tokio::test]
async fn broken_frames_close_with_the_code_that_says_why() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    for (label, bytes, code, reason) in protocol_cases() {
        let (stream, mut buf) = raw_upgrade(addr, "/ws/echo?token=tok-2").await;
        write_all(&stream, &bytes).await;
        let (got, why) = close_of(server_frame(&stream, &mut buf).await);
        assert_eq!(got, code, "{label}: {why}");
        match reason {
            Some(reason) => assert_eq!(why, reason, "{label}"),
            None => assert!(why.starts_with("protocol error: "), "{label}: {why}"),
        }
        bystander.still_echoes(label).await;
    }
}

/// Drops the TCP connection in the middle of a frame: the server sees the
/// peer vanish, ends that connection alone, and frees its slot in the hub.
#[tokio::test]
async fn an_abrupt_close_mid_message_ends_only_that_connection() {
    let state = TokenApp::new(Tokens::new(token_store()));
    let hub = state.hub.clone();
    let addr = serve(Router::new().consumer::<Echo>().with_state(state)).await;
    let mut bystander = Bystander::join(addr).await;
    assert_eq!(hub.connections(), 1);
    for cut in [1usize, 2, 6, 20] {
        let (stream, _) = raw_upgrade(addr, "/ws/echo?token=tok-2").await;
        // A 40-byte text frame: 2 head bytes, 4 mask bytes, payload.
        let whole = client_frame(0x81, br#"{"type":"echo","seq":9,"body":"cut"}  "#);
        write_all(&stream, &whole[..cut]).await;
        drop(stream);
        let deadline = Instant::now() + WAIT;
        while hub.connections() != 1 {
            assert!(
                Instant::now() < deadline,
                "cut after {cut} bytes: {} connections still open",
                hub.connections()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bystander
            .still_echoes(&format!("a frame cut after {cut} bytes"))
            .await;
    }
}

// ---------------------------------------------------------------------------
// Floods and a slow reader.
// ---------------------------------------------------------------------------

/// An echo request of the benchmark protocol, as a text message.
fn request(seq: u64, body: &str) -> Message {
    Message::text(json!({ "type": "echo", "seq": seq, "body": body }).to_string())
}

/// The bystander echoes `rounds` times, concurrently with an attack.
async fn keep_echoing(bystander: &mut Bystander, rounds: usize, during: &str) {
    for _ in 0..rounds {
        bystander.still_echoes(during).await;
    }
}

/// 10,000 small messages from one client, sent without waiting: the default
/// rate (200 a second, bursts of 200) answers the burst in order, warns
/// once, and closes with 1008 on the next message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_messages_is_warned_then_closed_with_1008() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let mut flood = connect_with_token(addr, "/ws/echo", "tok-1").await;
    let attack = async {
        for seq in 0..10_000u64 {
            flood.feed(request(seq, "x")).await.expect("feed");
        }
        // The server closes after about 200 and then drains the rest, so
        // the flush completes.
        flood.flush().await.expect("flush");
        let mut answered = 0u64;
        let warning = loop {
            let frame = next_json(&mut flood).await;
            if frame["type"] != "echo" {
                break frame;
            }
            assert_eq!(frame["seq"], answered, "in order");
            answered += 1;
        };
        // The burst of 200, plus what the bucket refills (200 a second)
        // while the server works through it; 1,000 would mean the burst
        // took 4 s.
        assert!((200..1000).contains(&answered), "{answered} answered");
        assert_eq!(
            warning,
            json!({
                "type": "error",
                "error": "too many messages: at most 200 a second; this one was dropped"
            })
        );
        assert_eq!(
            next_close(&mut flood).await,
            (1008, "message rate limit exceeded".to_owned())
        );
    };
    tokio::join!(attack, keep_echoing(&mut bystander, 20, "a message flood"));
    bystander.still_echoes("after a message flood").await;
}

/// The same flood to a consumer without a rate limit: all 10,000 are
/// echoed, in order, and the bystander is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_without_a_rate_limit_is_echoed_in_order() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let flood = connect_with_token(addr, "/ws/unlimited", "tok-1").await;
    let (mut sink, mut stream) = flood.split();
    const N: u64 = 10_000;
    let send = async {
        for seq in 0..N {
            sink.feed(request(seq, "x")).await.expect("feed");
        }
        sink.flush().await.expect("flush");
    };
    let receive = async {
        for seq in 0..N {
            let message = tokio::time::timeout(WAIT, stream.next())
                .await
                .expect("an echo in time")
                .expect("open")
                .expect("read");
            let reply: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
            assert_eq!(
                reply,
                json!({ "type": "echo", "seq": seq, "body": "x", "user": "user1" })
            );
        }
    };
    tokio::join!(
        send,
        receive,
        keep_echoing(&mut bystander, 20, "an unlimited flood")
    );
    bystander.still_echoes("after an unlimited flood").await;
}

/// A client that sends large requests and never reads their answers: the
/// server's write blocks, so it stops reading that client, whose own writes
/// then stall. The bytes it got in are bounded by the sockets' buffers, not
/// by the server's memory, and the bystander is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_stalls_alone() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let mut slow = connect_with_token(addr, "/ws/echo", "tok-1").await;
    // 256 KiB bodies (under the 1 MiB message limit) fill the buffers in a
    // few dozen messages, well inside the rate limit's burst of 200.
    let body = "s".repeat(256 * 1024);
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let sent = sent.clone();
        async move {
            for seq in 0.. {
                let message = request(seq, &body);
                let len = message.len();
                if slow.send(message).await.is_err() {
                    break;
                }
                sent.fetch_add(len, Ordering::Relaxed);
            }
        }
    });

    // Stalled: no write got through for 500 ms. There is no event for "a
    // write is blocked", so progress is sampled, bounded by 20 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stalled_at = loop {
        let before = sent.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = sent.load(Ordering::Relaxed);
        if after == before && after > 0 {
            break after;
        }
        assert!(
            Instant::now() < deadline,
            "the slow reader was never stalled: {after} bytes written"
        );
    };
    assert!(!writer.is_finished(), "the slow reader was disconnected");
    // Loopback socket buffers are a few MiB each way; a server that kept
    // reading into memory would take everything.
    assert!(
        stalled_at < 64 << 20,
        "{stalled_at} bytes accepted from a client that does not read"
    );

    // Meanwhile everyone else is served, and the slow reader stays stuck.
    keep_echoing(&mut bystander, 50, "a slow reader").await;
    let mut fresh = connect_with_token(addr, "/ws/echo", "tok-2").await;
    assert_eq!(echo(&mut fresh, 1, "a new client").await["user"], "user2");
    assert_eq!(
        sent.load(Ordering::Relaxed),
        stalled_at,
        "the stalled client made no progress"
    );
    writer.abort();
    let _ = writer.await;
    bystander.still_echoes("after the slow reader left").await;
}

/// 10,000 Pings over the raw socket, then an echo request: the server
/// answers with Pongs (RFC 6455 §5.5.3 lets it answer only the latest of
/// several it has not answered yet), in order, the last for the last Ping,
/// then the echo; the bystander is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_pings_is_answered_and_the_server_stays_responsive() {
    let addr = serve(app()).await;
    let mut bystander = Bystander::join(addr).await;
    let (stream, mut buf) = raw_upgrade(addr, "/ws/echo?token=tok-2").await;
    const PINGS: u16 = 10_000;
    let mut bytes: Vec<u8> = (0..PINGS)
        .flat_map(|seq| client_frame(0x89, &seq.to_be_bytes()))
        .collect();
    bytes.extend(client_frame(
        0x81,
        br#"{"type":"echo","seq":1,"body":"after the pings"}"#,
    ));
    let read = async {
        let mut pongs = Vec::new();
        loop {
            let (opcode, payload) = server_frame(&stream, &mut buf).await;
            match opcode {
                0xA => pongs.push(u16::from_be_bytes([payload[0], payload[1]])),
                0x1 => break (pongs, payload),
                other => panic!("unexpected opcode {other:#x}: {payload:?}"),
            }
        }
    };
    let ((pongs, reply), (), ()) = tokio::join!(
        read,
        write_all(&stream, &bytes),
        keep_echoing(&mut bystander, 20, "a ping flood")
    );
    assert!(!pongs.is_empty() && pongs.len() <= usize::from(PINGS));
    assert!(
        pongs.windows(2).all(|pair| pair[0] < pair[1]),
        "pongs in order, each for a distinct ping"
    );
    assert_eq!(
        pongs.last(),
        Some(&(PINGS - 1)),
        "the last ping is answered"
    );
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(
        reply,
        json!({ "type": "echo", "seq": 1, "body": "after the pings", "user": "user2" })
    );
    bystander.still_echoes("after a ping flood").await;
}
