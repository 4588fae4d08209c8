//! Fairness of a connection's read loop: a client that floods its socket
//! does not starve its own credential clock nor the group events sent to
//! it, and a flood of group events does not starve the client's messages.
//!
//! Each flood is built so that the starved side is never ready first: the
//! handlers await a short timer per message or event, so the flooding side
//! always has something waiting when the loop polls (the server handles a
//! message or an event a millisecond at best, and the flood is far
//! faster), and every handler yields to the runtime, so tokio's cooperative
//! budget never runs out and never makes the busy side look idle by
//! accident. A loop that always polled the flooded side first would
//! therefore never see the other: every wait here is bounded, and these
//! tests fail on it instead of hanging.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::session::{MemoryStore, SessionStore, Sessions};
use sockwarden::{Event, Hub};
use sockwarden_tests::{WAIT, Ws, connect, echo, next_json, serve};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// What each handler awaits before it answers: long enough that any flood
/// outpaces the server, short enough that the fair loop answers fast.
const HANDLER_DELAY: Duration = Duration::from_millis(1);

/// How many requests must wait unanswered for the flood to count as one:
/// the server's socket then has a frame ready on every read.
const BACKLOG: u64 = 100;

/// An echo request of the benchmark protocol (`sockwarden_tests::echo`).
#[derive(Deserialize)]
struct EchoIn {
    seq: u64,
    body: String,
}

/// Answers an echo request after [`HANDLER_DELAY`], as a handler that
/// waits on a database would.
async fn slow_echo<C: Consumer>(cx: &mut Cx<C>, msg: EchoIn) -> Result<(), Error> {
    tokio::time::sleep(HANDLER_DELAY).await;
    cx.send(&json!({ "type": "echo", "seq": msg.seq, "body": msg.body }))
        .await
}

/// A session user: sessions store it whole, so it is serialisable (the
/// shared `sockwarden_tests::User` is not).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Member {
    id: u64,
}

impl AuthUser for Member {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

/// Re-reads its session every 100 ms. Token auth would not do here: its
/// `revalidate` keeps every connection (`Tokens::revoke` closes them
/// through the mailbox instead, a path checked on every turn, which would
/// not exercise the timer).
#[consumer(
    path = "/ws/fair/watched",
    auth = "session",
    revalidate = "100ms",
    messages_per_second = "unlimited"
)]
#[requires_auth]
struct Watched {
    #[user]
    user: Member,
}

impl Consumer for Watched {
    type In = EchoIn;
    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        let _ = cx
            .send(&json!({ "type": "hello", "user": self.user.id }))
            .await;
        Connect::Accept
    }
    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        slow_echo(cx, msg).await
    }
}

/// A member of `room:{room}` whose event handler takes [`HANDLER_DELAY`]
/// too; drops the oldest events when they pile up, so that a flood of
/// events keeps it open (and full).
#[consumer(
    path = "/ws/fair/room/{room}",
    groups = ["room:{room}"],
    overflow = "drop-oldest",
    messages_per_second = "unlimited"
)]
struct Room {
    #[path]
    room: String,
}

impl Consumer for Room {
    type In = EchoIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: EchoIn) -> Result<(), Error> {
        slow_echo(cx, msg).await
    }

    async fn event(&mut self, cx: &mut Cx<Self>, event: Event) -> Result<(), Error> {
        tokio::time::sleep(HANDLER_DELAY).await;
        cx.send_text(event.into_text()).await
    }
}

/// A client that floods its socket: a task writes echo requests back to
/// back, never waiting for a reply, while the test reads what comes back
/// (a client that stopped reading would block the server's writes, and
/// starve everything for another reason).
struct Flood {
    stream: SplitStream<Ws>,
    writer: JoinHandle<()>,
    sent: Arc<AtomicU64>,
    echoed: u64,
}

impl Flood {
    fn start(ws: Ws) -> Flood {
        let (mut sink, stream) = ws.split();
        let sent = Arc::new(AtomicU64::new(0));
        let writer = tokio::spawn({
            let sent = Arc::clone(&sent);
            async move {
                for seq in 1.. {
                    let request = json!({ "type": "echo", "seq": seq, "body": "flood" });
                    if sink.send(Message::text(request.to_string())).await.is_err() {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Flood {
            stream,
            writer,
            sent,
            echoed: 0,
        }
    }

    /// Requests written and not answered yet.
    fn backlog(&self) -> u64 {
        self.sent
            .load(Ordering::Relaxed)
            .saturating_sub(self.echoed)
    }

    /// The next frame, failing the test at `deadline`.
    async fn frame(&mut self, deadline: Instant, waiting_for: &str) -> Message {
        match tokio::time::timeout_at(deadline, self.stream.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(other) => panic!("waiting for {waiting_for}, the connection ended: {other:?}"),
            Err(_) => panic!(
                "no {waiting_for} within {WAIT:?}, while {} echoes came back \
                 and {} requests waited",
                self.echoed,
                self.backlog()
            ),
        }
    }

    /// Reads echoes until [`BACKLOG`] requests wait unanswered.
    async fn build_up(&mut self) {
        let deadline = Instant::now() + WAIT;
        while self.backlog() < BACKLOG {
            let frame = self.frame(deadline, "backlog").await;
            assert!(is_echo(&frame), "expected an echo, got {frame:?}");
            self.echoed += 1;
        }
    }

    /// The next frame that is not an echo, counting the echoes on the way.
    async fn next_other(&mut self, waiting_for: &str) -> Message {
        let deadline = Instant::now() + WAIT;
        loop {
            let frame = self.frame(deadline, waiting_for).await;
            if !is_echo(&frame) {
                return frame;
            }
            self.echoed += 1;
        }
    }

    /// The flood was still on: the writer still writes, and the server
    /// still had a backlog to read.
    fn assert_still_flooding(&self, when: &str) {
        assert!(!self.writer.is_finished(), "{when}: the flood had stopped");
        assert!(
            self.backlog() >= BACKLOG,
            "{when}: only {} requests waited; the socket may have gone idle",
            self.backlog()
        );
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

fn is_echo(frame: &Message) -> bool {
    match frame {
        Message::Text(text) => {
            serde_json::from_str::<Value>(text).is_ok_and(|reply| reply["type"] == "echo")
        }
        _ => false,
    }
}

fn json_of(frame: &Message) -> Value {
    match frame {
        Message::Text(text) => serde_json::from_str(text).expect("a JSON text frame"),
        other => panic!("expected a JSON text frame, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_floods_is_still_revalidated() {
    // The app's store, also reached around `Sessions`, so that deleting the
    // session tells no socket: only revalidation can notice.
    let store = MemoryStore::default();
    let sessions: Sessions<Member> = Sessions::new(store.clone()).with_cookie_name("sid");
    let sid = sessions
        .create_session(&Member { id: 1 })
        .await
        .expect("a session");
    let app = Router::new()
        .consumer::<Watched>()
        .with_state(sessions.clone());
    let addr = serve(app).await;
    let (mut ws, _) = connect(
        addr,
        "/ws/fair/watched",
        &[
            ("cookie", &format!("sid={sid}")),
            ("origin", &format!("http://{addr}")),
        ],
    )
    .await
    .accepted();
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "type": "hello", "user": 1 })
    );
    assert_eq!(echo(&mut ws, 0, "hello").await["seq"], 0);

    let mut flood = Flood::start(ws);
    flood.build_up().await;
    store.delete(&sid).await.expect("delete the session");
    let deleted = Instant::now();

    let frame = flood.next_other("close frame").await;
    let took = deleted.elapsed();
    // Not whether the writer still runs: a close frame read ends it.
    assert!(
        flood.backlog() >= BACKLOG,
        "only {} requests waited when the close frame came: the socket may have gone idle",
        flood.backlog()
    );
    let Message::Close(Some(close)) = frame else {
        panic!("expected a close frame, got {frame:?}");
    };
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4401, "credential revoked")
    );
    eprintln!(
        "closed {took:?} after the session was deleted; {} echoes read, {} requests waiting",
        flood.echoed,
        flood.backlog()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_floods_still_gets_group_events() {
    let hub = Hub::new();
    let addr = serve(Router::new().consumer::<Room>().with_state(hub.clone())).await;
    let (mut ws, _) = connect(addr, "/ws/fair/room/loud", &[]).await.accepted();
    // Answered after `connect`: the declared group is joined.
    assert_eq!(echo(&mut ws, 0, "hello").await["seq"], 0);

    let mut flood = Flood::start(ws);
    flood.build_up().await;
    let mut slowest = Duration::ZERO;
    for seq in 0..5 {
        let news = json!({ "type": "news", "seq": seq });
        let sent = Instant::now();
        hub.group("room:loud")
            .send(&news)
            .await
            .expect("local send");
        let frame = flood.next_other("group event").await;
        slowest = slowest.max(sent.elapsed());
        flood.assert_still_flooding("when the event came");
        assert_eq!(json_of(&frame), news);
    }
    eprintln!(
        "5 events through a flood, the slowest in {slowest:?}; {} echoes read, {} requests waiting",
        flood.echoed,
        flood.backlog()
    );
}

/// The news events' seqs as they come: a jump means the mailbox was full
/// and dropped the oldest events, so it had events ready at every turn.
#[derive(Default)]
struct Seqs {
    last: Option<u64>,
    read: u64,
    gaps: u64,
}

impl Seqs {
    /// Takes the next frame: `None` for a news event, else its JSON.
    fn take(&mut self, frame: &Message) -> Option<Value> {
        let value = json_of(frame);
        if value["type"] != "news" {
            return Some(value);
        }
        let seq = value["seq"].as_u64().expect("a seq");
        if self.last.is_some_and(|last| seq > last + 1) {
            self.gaps += 1;
        }
        self.last = Some(seq);
        self.read += 1;
        None
    }

    /// Reads news events until some were dropped before one of them.
    async fn until_dropped(&mut self, ws: &mut Ws, when: &str) {
        let deadline = Instant::now() + WAIT;
        let gaps = self.gaps;
        while self.gaps == gaps {
            let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(other) => panic!("{when}: the connection ended: {other:?}"),
                Err(_) => panic!(
                    "{when}: no event dropped within {WAIT:?} ({} read): the mailbox never filled",
                    self.read
                ),
            };
            if let Some(value) = self.take(&frame) {
                panic!("{when}: expected only events, got {value}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_group_events_does_not_starve_the_client() {
    let hub = Hub::new();
    let addr = serve(Router::new().consumer::<Room>().with_state(hub.clone())).await;
    let (mut ws, _) = connect(addr, "/ws/fair/room/busy", &[]).await.accepted();
    assert_eq!(echo(&mut ws, 0, "hello").await["seq"], 0);

    let flooder = tokio::spawn({
        let hub = hub.clone();
        async move {
            for seq in 0u64.. {
                let news = json!({ "type": "news", "seq": seq });
                hub.group("room:busy")
                    .send(&news)
                    .await
                    .expect("local send");
                tokio::task::yield_now().await;
            }
        }
    });
    let mut seqs = Seqs::default();
    seqs.until_dropped(&mut ws, "before the request").await;

    let request = json!({ "type": "echo", "seq": 1, "body": "me first" });
    let asked = Instant::now();
    ws.send(Message::text(request.to_string()))
        .await
        .expect("send");
    let read_before = seqs.read;
    let reply = loop {
        let frame = match tokio::time::timeout_at(asked + WAIT, ws.next()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(other) => panic!("the connection ended: {other:?}"),
            Err(_) => panic!(
                "no reply within {WAIT:?}, while {} events came",
                seqs.read - read_before
            ),
        };
        if let Some(value) = seqs.take(&frame) {
            break value;
        }
    };
    let took = asked.elapsed();
    let during = seqs.read - read_before;
    assert_eq!(reply, request);
    // Still overflowing after the reply: the mailbox had events ready all
    // the while the request waited.
    seqs.until_dropped(&mut ws, "after the reply").await;
    assert!(!flooder.is_finished(), "the flooder stopped");
    flooder.abort();
    eprintln!(
        "answered in {took:?} through a flood of events ({during} events meanwhile, {} dropped runs seen)",
        seqs.gaps
    );
}
