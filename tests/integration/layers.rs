//! Channel layers: two servers, each with its own hub, stand for two
//! processes of one app. A group send or a close made on one reaches the
//! sockets of the other, through an in-memory layer, through the Redis at
//! `REDIS_URL`, and through a redis-server this file starts, stops and
//! restarts itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use serde::Deserialize;
use serde_json::{Value, json};
use sockwarden::layer::{ChannelLayer, MemoryLayer, RedisLayer};
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Hub, Recipients, Tokens};
use sockwarden_tests::{
    TokenApp, User, WAIT, Ws, connect_with_token, next, next_close, send_json, serve, service_url,
};
use tokio_tungstenite::tungstenite::Message;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum MemberIn {
    Join { group: String },
    Leave { group: String },
}

/// Joins and leaves the groups its client asks for, acknowledging each,
/// so a test knows the hub has the membership.
#[consumer(path = "/ws/member", auth = "token")]
#[requires_auth]
struct Member {
    #[user]
    user: User,
}

impl Consumer for Member {
    type In = MemberIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: MemberIn) -> Result<(), Error> {
        match msg {
            MemberIn::Join { group } => {
                cx.join(&group);
                let ack = json!({"type": "joined", "group": group, "user": self.user.name});
                cx.send(&ack).await
            }
            MemberIn::Leave { group } => {
                cx.leave(&group);
                cx.send(&json!({"type": "left", "group": group})).await
            }
        }
    }
}

/// One "process": an app on a loopback port and its hub.
struct Server {
    addr: SocketAddr,
    hub: Hub,
}

async fn server(layer: impl ChannelLayer) -> Server {
    let store = MemoryTokenStore::new();
    for name in ["alice", "bob", "carol", "dave"] {
        store.insert(&format!("tok-{name}"), User::named(name));
    }
    let app = TokenApp {
        hub: Hub::with_layer(layer),
        tokens: Tokens::new(store),
    };
    let hub = app.hub.clone();
    let router = Router::new().consumer::<Member>().with_state(app);
    Server {
        addr: serve(router).await,
        hub,
    }
}

impl Server {
    /// A socket of `user`, member of `groups` once this returns.
    async fn member(&self, user: &str, groups: &[&str]) -> Ws {
        let mut ws = connect_with_token(self.addr, "/ws/member", &format!("tok-{user}")).await;
        for group in groups {
            join(&mut ws, group).await;
        }
        ws
    }
}

async fn join(ws: &mut Ws, group: &str) {
    send_json(ws, &json!({"type": "join", "group": group})).await;
    let ack = next_event(ws).await;
    assert_eq!(
        (&ack["type"], &ack["group"]),
        (&json!("joined"), &json!(group))
    );
}

async fn leave(ws: &mut Ws, group: &str) {
    send_json(ws, &json!({"type": "leave", "group": group})).await;
    assert_eq!(
        next_event(ws).await,
        json!({"type": "left", "group": group})
    );
}

/// Whom a probe is for.
#[derive(Clone, Copy)]
enum To<'a> {
    Group(&'a str),
    User(&'a str),
}

impl To<'_> {
    fn on<'h>(self, hub: &'h Hub) -> Recipients<'h> {
        match self {
            To::Group(name) => hub.group(name),
            To::User(id) => hub.user(id),
        }
    }
}

const PROBE: &str = "probe";

/// Sends probes from `hub` until one reaches `ws`, within `within`.
///
/// A Redis subscription is made in the background after a join (or a
/// reconnect), and pub/sub keeps nothing for a channel no one listens to
/// yet: a test that sends once right after a join could lose its event.
/// Each call's probes carry an id of their own, so that a probe another
/// call left behind (delivered locally, say) proves nothing here; stray
/// probes are skipped by [`next_event`].
async fn reached(hub: &Hub, to: To<'_>, ws: &mut Ws, within: Duration) {
    use futures_util::StreamExt;
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let id = PROBES.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        // Fails while Redis is away; the next probe tries again.
        let _ = to.on(hub).send(&json!({"type": PROBE, "id": id})).await;
        let wait = Instant::now() + Duration::from_millis(100);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(wait.into(), ws.next()).await {
            match message {
                Message::Text(text) => {
                    let value = json_of(&text);
                    if value["type"] != PROBE {
                        panic!("expected a probe, got {text}");
                    }
                    if value["id"] == id {
                        return;
                    }
                }
                Message::Close(frame) => panic!("closed while probing: {frame:?}"),
                _ => {}
            }
        }
    }
    panic!("no probe got through within {within:?}");
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON text frame")
}

/// The next JSON frame that is not a probe.
async fn next_event(ws: &mut Ws) -> Value {
    loop {
        match next(ws).await {
            Message::Text(text) => {
                let value = json_of(&text);
                if value["type"] != PROBE {
                    return value;
                }
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a JSON text frame, got {other:?}"),
        }
    }
}

/// Asserts that nothing but probes arrives within a short while.
async fn silent(ws: &mut Ws) {
    use futures_util::StreamExt;
    let until = Instant::now() + Duration::from_millis(300);
    while let Ok(Some(message)) = tokio::time::timeout_at(until.into(), ws.next()).await {
        match message {
            Ok(Message::Text(text)) if json_of(&text)["type"] == PROBE => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }
}

// Scenarios, run on each layer.

/// A member on `a` receives a group send made on `b`, and the reverse;
/// the other group's member hears nothing.
async fn group_send_crosses_hubs(a: &Server, b: &Server) {
    let mut alice = a.member("alice", &["room:lobby"]).await;
    let mut bob = b.member("bob", &["room:lobby"]).await;
    let mut carol = a.member("carol", &["room:kitchen"]).await;
    reached(&b.hub, To::Group("room:lobby"), &mut alice, WAIT).await;
    reached(&a.hub, To::Group("room:lobby"), &mut bob, WAIT).await;

    let news = json!({"type": "news", "body": "from b"});
    b.hub.group("room:lobby").send(&news).await.unwrap();
    assert_eq!(next_event(&mut alice).await, news, "across the layer");
    assert_eq!(next_event(&mut bob).await, news, "locally");

    let reply = json!({"type": "news", "body": "from a"});
    a.hub.group("room:lobby").send(&reply).await.unwrap();
    assert_eq!(next_event(&mut bob).await, reply);
    assert_eq!(next_event(&mut alice).await, reply);
    silent(&mut carol).await;
}

/// `b.user("alice").close(4401)` closes alice's sockets on both servers,
/// and no one else's.
async fn user_close_crosses_hubs(a: &Server, b: &Server) {
    let mut alice_a = a.member("alice", &[]).await;
    let mut alice_b = b.member("alice", &[]).await;
    let mut bob = a.member("bob", &["room:lobby"]).await;

    b.hub
        .user("alice")
        .close(CloseCode::NOT_AUTHENTICATED, "logged out everywhere")
        .await
        .unwrap();
    for ws in [&mut alice_a, &mut alice_b] {
        assert_eq!(
            next_close(ws).await,
            (4401, "logged out everywhere".to_owned())
        );
    }
    reached(&b.hub, To::Group("room:lobby"), &mut bob, WAIT).await;
}

// The in-memory layer.

async fn memory_pair() -> (Server, Server) {
    let layer = MemoryLayer::new();
    (server(layer.clone()).await, server(layer).await)
}

#[tokio::test]
async fn memory_a_group_send_on_one_hub_reaches_members_on_the_other() {
    let (a, b) = memory_pair().await;
    group_send_crosses_hubs(&a, &b).await;
}

#[tokio::test]
async fn memory_closing_a_user_on_one_hub_closes_its_sockets_on_the_other() {
    let (a, b) = memory_pair().await;
    user_close_crosses_hubs(&a, &b).await;
}

// The Redis at REDIS_URL, each test under a prefix of its own.

fn unique_prefix(test: &str) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "sockwarden-test:{}:{nanos}:{}:{test}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

async fn redis_layer(url: &str, prefix: &str) -> RedisLayer {
    RedisLayer::builder(url)
        .prefix(prefix)
        .connect()
        .await
        .unwrap_or_else(|error| panic!("REDIS_URL is set but Redis does not answer: {error}"))
}

/// Two servers on the Redis at `REDIS_URL`, or `None` (skipped) when unset.
async fn redis_pair(test: &str) -> Option<(Server, Server, String, String)> {
    let url = service_url("REDIS_URL", test)?;
    let prefix = unique_prefix(test);
    let a = server(redis_layer(&url, &prefix).await).await;
    let b = server(redis_layer(&url, &prefix).await).await;
    Some((a, b, url, prefix))
}

#[tokio::test]
async fn redis_a_group_send_on_one_hub_reaches_members_on_the_other() {
    let Some((a, b, ..)) =
        redis_pair("redis_a_group_send_on_one_hub_reaches_members_on_the_other").await
    else {
        return;
    };
    group_send_crosses_hubs(&a, &b).await;
}

#[tokio::test]
async fn redis_closing_a_user_on_one_hub_closes_its_sockets_on_the_other() {
    let Some((a, b, ..)) =
        redis_pair("redis_closing_a_user_on_one_hub_closes_its_sockets_on_the_other").await
    else {
        return;
    };
    user_close_crosses_hubs(&a, &b).await;
}

#[tokio::test]
async fn redis_group_names_are_taken_verbatim_not_as_patterns() {
    let Some((a, b, ..)) = redis_pair("redis_group_names_are_taken_verbatim_not_as_patterns").await
    else {
        return;
    };
    // Pairs that a pattern subscription or a careless escaping would mix.
    let names = [
        "a",
        "a:b",
        "room*",
        "roomX",
        "with space",
        "żółw 🐢",
        "all",
        "g:all",
        "",
    ];
    let mut members = Vec::new();
    for name in names {
        let mut ws = a.member("alice", &[name]).await;
        reached(&b.hub, To::Group(name), &mut ws, WAIT).await;
        members.push(ws);
    }
    for name in names {
        b.hub
            .group(name)
            .send(&json!({"type": "news", "group": name}))
            .await
            .unwrap();
    }
    for (name, ws) in names.iter().zip(&mut members) {
        assert_eq!(
            next_event(ws).await,
            json!({"type": "news", "group": name}),
            "the member of {name:?}"
        );
        silent(ws).await;
    }
}

#[tokio::test]
async fn redis_a_process_subscribes_to_a_group_only_while_it_has_members() {
    let Some((a, _b, url, prefix)) =
        redis_pair("redis_a_process_subscribes_to_a_group_only_while_it_has_members").await
    else {
        return;
    };
    let redis = RawRedis::new(&url);
    let channel = format!("{prefix}:g:room:lobby");
    assert_eq!(redis.numsub(&format!("{prefix}:all")).await, 2, "both hubs");
    assert_eq!(redis.numsub(&channel).await, 0);

    let mut alice = a.member("alice", &["room:lobby"]).await;
    let mut bob = a.member("bob", &["room:lobby"]).await;
    redis.until_numsub(&channel, 1).await;
    leave(&mut alice, "room:lobby").await;
    // Bob is still a member here: still subscribed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(redis.numsub(&channel).await, 1);
    leave(&mut bob, "room:lobby").await;
    redis.until_numsub(&channel, 0).await;
    join(&mut bob, "room:lobby").await;
    redis.until_numsub(&channel, 1).await;
    drop(bob);
    redis.until_numsub(&channel, 0).await;
}

#[tokio::test]
async fn redis_a_message_that_is_not_an_envelope_is_ignored() {
    let Some((a, b, url, prefix)) =
        redis_pair("redis_a_message_that_is_not_an_envelope_is_ignored").await
    else {
        return;
    };
    let mut alice = a.member("alice", &["room:lobby"]).await;
    reached(&b.hub, To::Group("room:lobby"), &mut alice, WAIT).await;
    let redis = RawRedis::new(&url);
    for channel in [format!("{prefix}:all"), format!("{prefix}:g:room:lobby")] {
        for junk in [
            "not json",
            "{}",
            r#"{"from":1,"to":{"to":"all"},"body":{"do":"close","code":1005,"reason":""}}"#,
            r#"{"from":1,"to":{"to":"token","name":"zz"},"body":{"do":"event","event":"1"}}"#,
            "\u{0}\u{ff}",
        ] {
            redis.command(&["PUBLISH", &channel, junk]).await;
        }
    }
    let news = json!({"type": "news"});
    b.hub.group("room:lobby").send(&news).await.unwrap();
    assert_eq!(next_event(&mut alice).await, news);
    b.hub.user("alice").send(&news).await.unwrap();
    assert_eq!(next_event(&mut alice).await, news);
}

// Redis stopping and coming back, on a redis-server of this test's own.

/// Counts the panics on this thread (a current-thread runtime runs the
/// servers, the layers and fred's tasks all on the test's thread).
fn count_panics_on_this_thread() -> &'static AtomicUsize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    let name = std::thread::current().name().map(str::to_owned);
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name().map(str::to_owned) == name {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
    &PANICS
}

#[tokio::test(flavor = "current_thread")]
async fn redis_stopping_fails_sends_fast_keeps_local_delivery_and_restores_groups() {
    const TEST: &str = "redis_stopping_fails_sends_fast_keeps_local_delivery_and_restores_groups";
    let panics = count_panics_on_this_thread();
    let port = spare_port();
    let Some(mut redis) = RedisServer::start(port, TEST) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let prefix = unique_prefix("faults");
    let a = server(redis_layer(&url, &prefix).await).await;
    let b = server(redis_layer(&url, &prefix).await).await;

    let mut alice = a.member("alice", &["room:lobby"]).await;
    let mut carol = a.member("carol", &[]).await;
    let mut bob = b.member("bob", &["room:lobby"]).await;
    reached(&b.hub, To::Group("room:lobby"), &mut alice, WAIT).await;
    reached(&a.hub, To::Group("room:lobby"), &mut bob, WAIT).await;

    redis.stop();
    // The default publish timeout is 2 s; the error comes within it, at
    // once the connection is known to be gone, and local members are
    // served all the same.
    let bound = Duration::from_secs(2) + Duration::from_millis(500);
    for attempt in 0..2 {
        let lost = json!({"type": "lost", "attempt": attempt});
        let started = Instant::now();
        let sent = a.hub.group("room:lobby").send(&lost).await;
        let took = started.elapsed();
        let error = sent
            .expect_err("a send without Redis must fail")
            .to_string();
        assert!(took < bound, "the send failed after {took:?}");
        assert!(error.contains("unreachable"), "{error}");
        assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
        eprintln!("attempt {attempt}: failed in {took:?}: {error}");
        assert_eq!(next_event(&mut alice).await, lost, "local delivery");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A group joined while Redis is away, on both sides.
    let mut dave = a.member("dave", &["room:late"]).await;
    join(&mut bob, "room:late").await;
    // Closing carol reaches her here, not across.
    let refused = b
        .hub
        .user("carol")
        .close(CloseCode::NOT_AUTHENTICATED, "while away")
        .await;
    assert!(refused.is_err());

    redis.start_again();
    let within = Duration::from_secs(10);
    reached(&b.hub, To::Group("room:late"), &mut dave, within).await;
    reached(&a.hub, To::Group("room:late"), &mut bob, within).await;
    reached(&b.hub, To::Group("room:lobby"), &mut alice, within).await;
    reached(&b.hub, To::User("carol"), &mut carol, within).await;

    // What was published while Redis was away is not delivered late: bob's
    // next event is the one sent now.
    let back = json!({"type": "back"});
    a.hub.group("room:lobby").send(&back).await.unwrap();
    assert_eq!(next_event(&mut bob).await, back);
    assert_eq!(next_event(&mut alice).await, back);
    b.hub
        .user("carol")
        .close(CloseCode::NOT_AUTHENTICATED, "after")
        .await
        .unwrap();
    assert_eq!(next_close(&mut carol).await, (4401, "after".to_owned()));

    assert_eq!(panics.load(Ordering::SeqCst), 0, "something panicked");
}

fn spare_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a spare port");
    listener.local_addr().expect("local address").port()
}

/// A redis-server child on a port of its own; killed when dropped, however
/// the test ends.
struct RedisServer {
    port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// Starts it, or `None` with a notice when redis-server is not
    /// installed.
    fn start(port: u16, test: &str) -> Option<RedisServer> {
        let mut server = RedisServer { port, child: None };
        match server.spawn() {
            Ok(()) => Some(server),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("{test}: skipped: redis-server is not installed");
                None
            }
            Err(error) => panic!("cannot start redis-server: {error}"),
        }
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let port = self.port.to_string();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        // Ready once it accepts connections.
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn start_again(&mut self) {
        self.spawn().expect("restart redis-server");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Just enough of a Redis client to look at, and meddle with, the layer
/// from outside: one RESP command per connection.
struct RawRedis {
    addr: String,
    password: Option<(String, String)>,
}

impl RawRedis {
    /// From `redis://[user[:password]@]host[:port][/db]`.
    fn new(url: &str) -> RawRedis {
        let rest = url
            .strip_prefix("redis://")
            .expect("a redis:// URL in REDIS_URL");
        let rest = rest.split('/').next().unwrap_or(rest);
        let (auth, host) = match rest.rsplit_once('@') {
            Some((auth, host)) => (Some(auth), host),
            None => (None, rest),
        };
        let addr = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:6379")
        };
        let password = auth.and_then(|auth| match auth.split_once(':') {
            Some((user, password)) => Some((user.to_owned(), password.to_owned())),
            None if auth.is_empty() => None,
            None => Some((String::new(), auth.to_owned())),
        });
        RawRedis { addr, password }
    }

    async fn command(&self, args: &[&str]) -> Resp {
        use tokio::io::{AsyncWriteExt, BufReader};
        let work = async {
            let stream = tokio::net::TcpStream::connect(&self.addr).await.unwrap();
            let mut stream = BufReader::new(stream);
            if let Some((user, password)) = &self.password {
                let auth: Vec<&str> = if user.is_empty() {
                    vec!["AUTH", password]
                } else {
                    vec!["AUTH", user, password]
                };
                stream.write_all(&encode(&auth)).await.unwrap();
                Resp::read(&mut stream).await;
            }
            stream.write_all(&encode(args)).await.unwrap();
            Resp::read(&mut stream).await
        };
        tokio::time::timeout(WAIT, work)
            .await
            .expect("Redis answers")
    }

    /// How many connections are subscribed to `channel`.
    async fn numsub(&self, channel: &str) -> i64 {
        match self.command(&["PUBSUB", "NUMSUB", channel]).await {
            Resp::Array(items) => match items.as_slice() {
                [_, Resp::Int(n)] => *n,
                other => panic!("unexpected NUMSUB reply {other:?}"),
            },
            other => panic!("unexpected NUMSUB reply {other:?}"),
        }
    }

    async fn until_numsub(&self, channel: &str, n: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.numsub(channel).await;
            if now == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{channel} has {now} subscribers, not {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A reply; only what the tests look at is kept.
#[derive(Debug)]
enum Resp {
    Simple,
    Int(i64),
    Bulk,
    Array(Vec<Resp>),
}

impl Resp {
    fn read<'a>(
        stream: &'a mut tokio::io::BufReader<tokio::net::TcpStream>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Resp> + 'a>> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        Box::pin(async move {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            let (kind, rest) = line.split_at(1);
            match kind {
                "+" => Resp::Simple,
                "-" => panic!("Redis error: {rest}"),
                ":" => Resp::Int(rest.parse().unwrap()),
                "$" => {
                    let len: i64 = rest.parse().unwrap();
                    if let Ok(len) = usize::try_from(len) {
                        let mut bytes = vec![0; len + 2];
                        stream.read_exact(&mut bytes).await.unwrap();
                    }
                    Resp::Bulk
                }
                "*" => {
                    let len: usize = rest.parse().unwrap();
                    let mut items = Vec::with_capacity(len);
                    for _ in 0..len {
                        items.push(Resp::read(stream).await);
                    }
                    Resp::Array(items)
                }
                other => panic!("unexpected RESP type {other:?}"),
            }
        })
    }
}
