//! What the library logs about handshakes: never a credential, and exactly
//! one accept or refuse event per handshake, with its fields.
//!
//! The tests capture every event at TRACE, for every target, as JSON lines.
//! Integration tests share one process and run concurrently, so the
//! subscriber is the thread's default (`set_default`), never the global one;
//! on a `current_thread` runtime the server, the tasks hyper spawns per
//! connection and the connection tasks the handler spawns all run on the
//! test's thread, so their events are captured, and other tests' are not.
//! (Records of the `log` crate, which tungstenite uses, would need a global
//! `LogTracer` and are not captured.)

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sockwarden::Tokens;
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden_tests::{TokenApp, User, WAIT, Ws, connect, echo, next_close, next_json, serve};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::apps::{Echo, EchoClose, Open, Raw};

const HEADER_TOKEN: &str = "sekrit-header-7f3a";
const PROTO_TOKEN: &str = "sekrit-proto-91c2";
const QUERY_TOKEN: &str = "sekrit-query-c0de";
/// Belongs to `user3`, whom `/ws/open` refuses from `connect`.
const BANNED_TOKEN: &str = "sekrit-banned-3b3b";

/// A handshake's extra request headers.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter<'_> for Capture {
    type Writer = Capture;

    fn make_writer(&self) -> Capture {
        self.clone()
    }
}

impl Capture {
    /// Makes a JSON subscriber at TRACE for every target, writing here, this
    /// thread's default until the guard drops.
    fn install(&self) -> DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(EnvFilter::new("trace"))
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// All of it, as text.
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every captured event, parsed.
    fn events(&self) -> Vec<Value> {
        parse(&self.text())
    }
}

/// Parses JSON lines; every line the subscriber writes must be one object.
fn parse(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// An event's message.
fn message(event: &Value) -> &str {
    event["fields"]["message"].as_str().unwrap_or_default()
}

/// Whether the event is the handshake's accept or refuse event.
fn is_handshake(event: &Value) -> bool {
    matches!(message(event), "websocket accepted" | "websocket refused")
}

/// The test tokens; `tok`-style names would not show a leak as clearly.
fn tokens() -> Tokens<User> {
    let store = MemoryTokenStore::new();
    store.insert(HEADER_TOKEN, User::named("alice"));
    store.insert(PROTO_TOKEN, User::named("bob"));
    store.insert(QUERY_TOKEN, User::named("carol"));
    store.insert(BANNED_TOKEN, User::named("user3"));
    Tokens::new(store)
}

/// The consumers of `apps.rs` this file needs, on [`tokens`].
fn router() -> Router {
    Router::new()
        .consumer::<Echo>()
        .consumer::<EchoClose>()
        .consumer::<Open>()
        .consumer::<Raw>()
        .with_state(TokenApp::new(tokens()))
}

/// Closes from the client side and waits (bounded) until the server has
/// answered and the connection has ended, so the server's connection task
/// has run to its end too.
async fn goodbye(mut ws: Ws) {
    ws.close(None).await.expect("send a close frame");
    drain(&mut ws).await;
}

/// Reads until the connection ends, bounded in time.
async fn drain(ws: &mut Ws) {
    let ended = tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = ws.next().await {} });
    ended.await.expect("the connection ends");
}

/// Expects a `reject = "close"` refusal: 101, an error frame, a close.
async fn refused_by_close(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) {
    let (mut ws, _) = connect(addr, path, headers).await.accepted();
    let frame = next_json(&mut ws).await;
    assert_eq!(frame["type"], "error", "{path} {headers:?}");
    let (code, _) = next_close(&mut ws).await;
    assert_eq!(code, frame["code"].as_u64().unwrap() as u16);
    drain(&mut ws).await;
}

#[tokio::test(flavor = "current_thread")]
async fn credentials_never_reach_the_logs() {
    let capture = Capture::default();
    let _guard = capture.install();
    let addr = serve(router()).await;

    let header = format!("Token {HEADER_TOKEN}");
    let bearer = format!("Bearer {HEADER_TOKEN}");
    let proto = format!("bearer, {PROTO_TOKEN}");
    let oversized = format!("Token sekrit-{}", "x".repeat(5000));
    let mut accepted = 0;
    let mut refused = 0;

    for path in ["/ws/echo", "/ws/echo-close"] {
        // Every carrier, with a valid token: echo once, then close.
        let query = format!("{path}?token={QUERY_TOKEN}");
        let valid: [(&str, Headers, &str); 4] = [
            (path, &[("authorization", &header)], "alice"),
            (path, &[("authorization", &bearer)], "alice"),
            (path, &[("sec-websocket-protocol", &proto)], "bob"),
            (&query, &[], "carol"),
        ];
        for (seq, (path, headers, user)) in (1..).zip(valid) {
            let (mut ws, _) = connect(addr, path, headers).await.accepted();
            assert_eq!(echo(&mut ws, seq, "hi").await["user"], user);
            goodbye(ws).await;
            accepted += 1;
        }

        // Every carrier, with a credential that is unknown or malformed.
        let queries = [
            format!("{path}?token=sekrit-bad-query-b00b"),
            format!("{path}?token=sekrit-pct%2Dquery"),
            format!("{path}?token=sekrit-rep-q1&token=sekrit-rep-q2"),
        ];
        let mut invalid: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (path, vec![]),
            (
                path,
                vec![("authorization", "Token sekrit-bad-header-4e1d")],
            ),
            (
                path,
                vec![("authorization", "Bearer sekrit-bad-header-4e1d")],
            ),
            (
                path,
                vec![("authorization", "Token sekrit-mal-a sekrit-mal-b")],
            ),
            (path, vec![("authorization", "Basic sekrit-basic-9d9d")]),
            (path, vec![("authorization", &oversized)]),
            (
                path,
                vec![
                    ("authorization", "Token sekrit-rep-h1"),
                    ("authorization", "Token sekrit-rep-h2"),
                ],
            ),
            (
                path,
                vec![("sec-websocket-protocol", "bearer, sekrit-bad-proto-5a5a")],
            ),
            (path, vec![("sec-websocket-protocol", "bearer")]),
        ];
        invalid.extend(queries.iter().map(|query| (query.as_str(), vec![])));
        if path == "/ws/echo" {
            // Not a credential (no marker): anonymous, refused. In close
            // mode the 101 selects no subprotocol, which the client refuses.
            invalid.push((path, vec![("sec-websocket-protocol", "sekrit-lone-proto")]));
        }
        for (path, headers) in &invalid {
            if path.starts_with("/ws/echo-close") {
                refused_by_close(addr, path, headers).await;
            } else {
                let (status, _, body) = connect(addr, path, headers).await.refused();
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {headers:?}");
                assert!(
                    !body.contains("sekrit"),
                    "the body quotes a credential: {body}"
                );
            }
            refused += 1;
        }
    }

    // `/ws/open`: a known token, a banned user refused by `connect`, an
    // unknown token.
    let (mut ws, _) = connect(addr, "/ws/open", &[("authorization", &header)])
        .await
        .accepted();
    assert_eq!(next_json(&mut ws).await["user"], "alice");
    goodbye(ws).await;
    accepted += 1;
    let banned = format!("Token {BANNED_TOKEN}");
    let (status, _, _) = connect(addr, "/ws/open", &[("authorization", &banned)])
        .await
        .refused();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let unknown = [("authorization", "Token sekrit-bad-open-1a1a")];
    let (status, _, _) = connect(addr, "/ws/open", &unknown).await.refused();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused += 2;

    let text = capture.text();
    let events = parse(&text);
    let count = |what: &str| events.iter().filter(|e| message(e) == what).count();
    // Capture works: a test that captured nothing would pass the leak check.
    assert_eq!(count("websocket accepted"), accepted, "{text}");
    assert_eq!(count("websocket refused"), refused, "{text}");

    for secret in [
        HEADER_TOKEN,
        PROTO_TOKEN,
        QUERY_TOKEN,
        BANNED_TOKEN,
        "sekrit",
    ] {
        let leaks: Vec<&str> = text.lines().filter(|line| line.contains(secret)).collect();
        assert!(leaks.is_empty(), "{secret} is logged: {leaks:#?}");
    }
}

/// What one handshake's event must say.
#[derive(Debug)]
struct Expected {
    consumer: &'static str,
    carrier: Option<&'static str>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// "websocket accepted", with the user's id (none when anonymous).
    Accepted(Option<&'static str>),
    /// "websocket refused", with the rejection kind's name.
    Refused(&'static str),
}

/// Reads the events logged since the last call.
struct Tail {
    capture: Capture,
    seen: usize,
}

impl Tail {
    fn new_events(&mut self) -> Vec<Value> {
        let text = self.capture.text();
        // Whole lines only.
        let end = text.rfind('\n').map_or(self.seen, |at| at + 1);
        let fresh = parse(&text[self.seen..end]);
        self.seen = end;
        fresh
    }

    /// Asserts that exactly one accept or refuse event was logged since the
    /// last call, and that it says what `expected` says. Returns it.
    fn one_event(&mut self, expected: &Expected) -> Value {
        let events: Vec<Value> = self.new_events().into_iter().filter(is_handshake).collect();
        let [event] = events.as_slice() else {
            panic!("{expected:?}: expected one handshake event, got {events:#?}");
        };
        let fields = &event["fields"];
        let context = format!("{expected:?}: {event}");
        assert_eq!(event["level"], "INFO", "{context}");
        assert_eq!(fields["consumer"], expected.consumer, "{context}");
        assert_eq!(fields["scheme"], "token", "{context}");
        assert_eq!(fields["carrier"].as_str(), expected.carrier, "{context}");
        match expected.outcome {
            Outcome::Accepted(user) => {
                assert_eq!(message(event), "websocket accepted", "{context}");
                assert_eq!(fields["user"].as_str(), user, "{context}");
                let conn = fields["conn"].as_str().unwrap_or_default();
                assert!(conn.starts_with('c') && conn.len() > 1, "{context}");
                assert!(fields.get("reason").is_none(), "{context}");
            }
            Outcome::Refused(reason) => {
                assert_eq!(message(event), "websocket refused", "{context}");
                assert_eq!(fields["reason"], reason, "{context}");
                assert!(fields.get("user").is_none(), "{context}");
                assert!(fields.get("conn").is_none(), "{context}");
            }
        }
        event.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_event_per_handshake_with_its_fields() {
    use Outcome::{Accepted, Refused};

    let capture = Capture::default();
    let _guard = capture.install();
    let addr = serve(router()).await;
    let mut tail = Tail {
        capture: capture.clone(),
        seen: 0,
    };
    let mut conns = Vec::new();

    // One accepted handshake per carrier, in each mode.
    let header = format!("Token {HEADER_TOKEN}");
    let proto = format!("bearer, {PROTO_TOKEN}");
    for (path, consumer) in [("/ws/echo", "Echo"), ("/ws/echo-close", "EchoClose")] {
        let query = format!("{path}?token={QUERY_TOKEN}");
        let cases: [(&str, Headers, &str, &str); 3] = [
            (path, &[("authorization", &header)], "header", "alice"),
            (
                path,
                &[("sec-websocket-protocol", &proto)],
                "subprotocol",
                "bob",
            ),
            (&query, &[], "query", "carol"),
        ];
        for (path, headers, carrier, user) in cases {
            let (mut ws, _) = connect(addr, path, headers).await.accepted();
            let expected = Expected {
                consumer,
                carrier: Some(carrier),
                outcome: Accepted(Some(user)),
            };
            let event = tail.one_event(&expected);
            conns.push(event["fields"]["conn"].as_str().unwrap().to_owned());
            assert_eq!(echo(&mut ws, 1, "hi").await["user"], user);
            goodbye(ws).await;
        }
    }
    // Anonymous, where the consumer allows it: no carrier, no user.
    let (mut ws, _) = connect(addr, "/ws/open", &[]).await.accepted();
    let event = tail.one_event(&Expected {
        consumer: "Open",
        carrier: None,
        outcome: Accepted(None),
    });
    conns.push(event["fields"]["conn"].as_str().unwrap().to_owned());
    assert_eq!(next_json(&mut ws).await["user"], "anonymous");
    goodbye(ws).await;

    let distinct: std::collections::HashSet<_> = conns.iter().collect();
    assert_eq!(distinct.len(), conns.len(), "{conns:?}");

    // One refused handshake per refusal kind, in each mode.
    for (path, consumer) in [("/ws/echo", "Echo"), ("/ws/echo-close", "EchoClose")] {
        let query = format!("{path}?token=sekrit-bad-query-b00b");
        let cases: [(&str, Headers, Option<&str>); 7] = [
            (path, &[], None),
            (path, &[("authorization", "Token nope")], Some("header")),
            (path, &[("authorization", "Token a b")], Some("header")),
            (&query, &[], Some("query")),
            (
                path,
                &[("sec-websocket-protocol", "bearer, nope")],
                Some("subprotocol"),
            ),
            (
                path,
                &[("sec-websocket-protocol", "bearer")],
                Some("subprotocol"),
            ),
            (
                path,
                &[
                    ("authorization", "Token nope"),
                    ("authorization", "Token no"),
                ],
                Some("header"),
            ),
        ];
        for (path, headers, carrier) in cases {
            if consumer == "EchoClose" {
                refused_by_close(addr, path, headers).await;
            } else {
                let (status, _, _) = connect(addr, path, headers).await.refused();
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
            tail.one_event(&Expected {
                consumer,
                carrier,
                outcome: Refused("not_authenticated"),
            });
        }
    }
    // Refused by `connect`, after a good credential: the carrier is logged.
    let banned = format!("Token {BANNED_TOKEN}");
    let refused = connect(addr, "/ws/open", &[("authorization", &banned)]).await;
    assert_eq!(refused.refused().0, StatusCode::FORBIDDEN);
    tail.one_event(&Expected {
        consumer: "Open",
        carrier: Some("header"),
        outcome: Refused("forbidden"),
    });
    // An unknown token where anonymous clients are welcome.
    let refused = connect(addr, "/ws/open", &[("authorization", "Token nope")]).await;
    assert_eq!(refused.refused().0, StatusCode::UNAUTHORIZED);
    tail.one_event(&Expected {
        consumer: "Open",
        carrier: Some("header"),
        outcome: Refused("not_authenticated"),
    });

    // Events from the connection task, which the handler spawns after the
    // 101, are captured too: a consumer error is logged there, with the
    // connection's id from the accept event.
    let (mut ws, _) = connect(addr, "/ws/raw", &[("authorization", &header)])
        .await
        .accepted();
    let accepted = tail.one_event(&Expected {
        consumer: "Raw",
        carrier: Some("header"),
        outcome: Accepted(Some("alice")),
    });
    ws.send(Message::text("fail")).await.expect("send");
    let (code, _) = next_close(&mut ws).await;
    assert_eq!(code, 1011);
    drain(&mut ws).await;
    let failed: Vec<Value> = tail
        .new_events()
        .into_iter()
        .filter(|event| message(event) == "consumer failed")
        .collect();
    let [failed] = failed.as_slice() else {
        panic!("expected one \"consumer failed\" event, got {failed:#?}");
    };
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["fields"]["consumer"], "Raw");
    assert_eq!(failed["fields"]["conn"], accepted["fields"]["conn"]);

    // Nothing else in the whole capture is a handshake event: every
    // handshake above was accounted for, one event each.
    let total = capture.events().iter().filter(|e| is_handshake(e)).count();
    assert_eq!(total, conns.len() + 2 * 7 + 2 + 1);
}
