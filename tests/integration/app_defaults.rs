//! App-wide defaults on the hub, over real loopback TCP: limits and the
//! origin policy that consumers inherit unless they set their own, and the
//! client address behind a trusted reverse proxy.

use std::net::{IpAddr, Ipv4Addr};

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use futures_util::SinkExt;
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::session::{MemoryStore, Sessions};
use sockwarden::{AppDefaults, Hub, OriginPolicy, ProxyHeader};
use sockwarden_tests::{Ws, connect, next_close, next_json, serve};
use tokio_tungstenite::tungstenite::Message;

/// Echoes JSON; says on connect which peer address it sees. Sets no limit
/// and no origin policy of its own.
#[consumer(path = "/ws/plain")]
struct Plain;

/// The same, with its own message size and origin policy.
#[consumer(path = "/ws/own", max_message_size = 65536, origins = "any")]
struct Own;

/// Same-host origin check, no auth.
#[consumer(path = "/ws/same-host", origins = "same-host")]
struct SameHost;

/// A cookie consumer that declares no origin policy and admits anonymous
/// users: only the origin check can refuse it.
#[consumer(path = "/ws/cookie", auth = "session")]
struct Cookie {
    #[user]
    _user: Option<User>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct User {
    id: u64,
}

impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

async fn hello<C: Consumer>(cx: &mut Cx<C>) -> Connect {
    let peer = cx.scope().peer_addr().map(|peer| peer.ip().to_string());
    let _ = cx.send(&json!({ "peer": peer })).await;
    Connect::Accept
}

macro_rules! echo_consumer {
    ($($name:ident),*) => {$(
        impl Consumer for $name {
            type In = Value;
            async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
                hello(cx).await
            }
            async fn receive(&mut self, cx: &mut Cx<Self>, msg: Value) -> Result<(), Error> {
                cx.send(&msg).await
            }
        }
    )*};
}

echo_consumer!(Plain, Own, SameHost, Cookie);

/// The app's state: a hub with `defaults`, and the session store the
/// cookie consumer reads.
#[derive(Clone)]
struct App {
    hub: Hub,
    sessions: Sessions<User>,
}

impl FromRef<App> for Hub {
    fn from_ref(app: &App) -> Hub {
        app.hub.clone()
    }
}

impl FromRef<App> for Sessions<User> {
    fn from_ref(app: &App) -> Sessions<User> {
        app.sessions.clone()
    }
}

/// Every consumer above, on a hub with `defaults`.
async fn serve_with(defaults: AppDefaults) -> std::net::SocketAddr {
    let sessions = Sessions::new(MemoryStore::default());
    let app = Router::new()
        .consumer::<Plain>()
        .consumer::<Own>()
        .consumer::<SameHost>()
        .consumer::<Cookie>()
        .layer(sessions.layer())
        .with_state(App {
            hub: Hub::new().with_defaults(defaults),
            sessions,
        });
    serve(app).await
}

/// Opens `path` with `headers`, expecting 101; returns the socket and the
/// peer address the consumer saw.
async fn open(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> (Ws, String) {
    let (mut ws, _) = connect(addr, path, headers).await.accepted();
    let hello = next_json(&mut ws).await;
    let peer = hello["peer"].as_str().expect("a peer address").to_owned();
    (ws, peer)
}

/// The status of a handshake expected to be refused.
async fn refused(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    connect(addr, path, headers).await.refused().0
}

fn loopback() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// A message of about `len` bytes.
fn message(len: usize) -> String {
    json!({ "body": "x".repeat(len) }).to_string()
}

#[tokio::test]
async fn an_app_message_size_closes_1009_unless_the_consumer_set_its_own() {
    let addr = serve_with(AppDefaults::new().max_message_size(1024)).await;

    // Under the app's limit: echoed.
    let (mut plain, _) = open(addr, "/ws/plain", &[]).await;
    plain.send(Message::text(message(500))).await.unwrap();
    assert_eq!(
        next_json(&mut plain).await["body"].as_str().unwrap().len(),
        500
    );
    // Over it: 1009, though the built-in default is 1 MiB.
    plain.send(Message::text(message(2000))).await.unwrap();
    assert_eq!(next_close(&mut plain).await.0, 1009);

    // `max_message_size = 65536` on the consumer wins over the app's 1024.
    let (mut own, _) = open(addr, "/ws/own", &[]).await;
    own.send(Message::text(message(2000))).await.unwrap();
    assert_eq!(
        next_json(&mut own).await["body"].as_str().unwrap().len(),
        2000
    );
    own.send(Message::text(message(70_000))).await.unwrap();
    assert_eq!(next_close(&mut own).await.0, 1009);
}

#[tokio::test]
async fn an_app_origin_allow_list_applies_to_consumers_without_their_own() {
    const APP_ORIGIN: &str = "https://app.example.com";
    let defaults = AppDefaults::new().origins(OriginPolicy::list(&[APP_ORIGIN]));
    let addr = serve_with(defaults).await;
    let own_host = format!("http://{addr}");

    // A cookie consumer: the list replaces same-host, both ways.
    let (_ws, _) = open(addr, "/ws/cookie", &[("origin", APP_ORIGIN)]).await;
    let status = refused(addr, "/ws/cookie", &[("origin", &own_host)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused(addr, "/ws/cookie", &[]).await,
        StatusCode::FORBIDDEN,
        "a cookie consumer still refuses a missing Origin"
    );

    // A consumer without auth, unchecked by default, is now checked.
    let (_ws, _) = open(addr, "/ws/plain", &[("origin", APP_ORIGIN)]).await;
    let status = refused(addr, "/ws/plain", &[("origin", "https://evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Non-browser clients (no Origin) are still admitted to it.
    let (_ws, _) = open(addr, "/ws/plain", &[]).await;

    // `origins = "any"` on the consumer wins.
    let (_ws, _) = open(addr, "/ws/own", &[("origin", "https://evil.example")]).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_peer_cap() {
    let defaults = AppDefaults::new()
        .max_per_peer(Some(1))
        .trust_proxy(loopback());
    let addr = serve_with(defaults).await;

    let (_a, peer_a) = open(addr, "/ws/plain", &[("x-forwarded-for", "203.0.113.1")]).await;
    assert_eq!(peer_a, "203.0.113.1");
    // Another client behind the same proxy: its own cap.
    let (_b, peer_b) = open(
        addr,
        "/ws/plain",
        &[("x-forwarded-for", "198.51.100.9, 203.0.113.2")],
    )
    .await;
    assert_eq!(peer_b, "203.0.113.2", "the rightmost untrusted hop");
    // The first client again: over its cap of 1.
    let status = refused(addr, "/ws/plain", &[("x-forwarded-for", "203.0.113.1")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A malformed header counts as the proxy itself, which has room.
    let (_c, peer_c) = open(addr, "/ws/plain", &[("x-forwarded-for", "not an address")]).await;
    assert_eq!(peer_c, "127.0.0.1");
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let defaults = AppDefaults::new()
        .max_per_peer(Some(1))
        .trust_proxy(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        .proxy_header(ProxyHeader::Forwarded);
    let addr = serve_with(defaults).await;

    let (_a, peer_a) = open(
        addr,
        "/ws/plain",
        &[
            ("x-forwarded-for", "203.0.113.1"),
            ("forwarded", "for=203.0.113.1"),
        ],
    )
    .await;
    assert_eq!(peer_a, "127.0.0.1");
    // A different claimed address does not buy a second slot.
    let status = refused(
        addr,
        "/ws/plain",
        &[
            ("x-forwarded-for", "203.0.113.2"),
            ("forwarded", "for=203.0.113.2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_rfc_7239_header_when_the_app_says_its_proxies_write_it() {
    let defaults = AppDefaults::new()
        .trust_proxy(loopback())
        .proxy_header(ProxyHeader::Forwarded);
    let addr = serve_with(defaults).await;
    let (_ws, peer) = open(
        addr,
        "/ws/plain",
        &[
            (
                "forwarded",
                r#"for=192.0.2.1, for="[2001:db8::7]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "203.0.113.1"),
        ],
    )
    .await;
    assert_eq!(peer, "2001:db8::7");
}

#[tokio::test]
async fn same_host_behind_a_trusted_proxy_compares_the_forwarded_host() {
    const PUBLIC: &str = "https://app.example.com";
    let forwarded = [("origin", PUBLIC), ("x-forwarded-host", "app.example.com")];

    // The proxy rewrote Host to the upstream's address; it forwards the
    // public host.
    let trusted = serve_with(AppDefaults::new().trust_proxy(loopback())).await;
    let (_ws, _) = open(trusted, "/ws/same-host", &forwarded).await;
    let status = refused(
        trusted,
        "/ws/same-host",
        &[("origin", PUBLIC), ("x-forwarded-host", "evil.example")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // From a peer that is not a trusted proxy the header means nothing.
    let untrusted = serve_with(AppDefaults::new()).await;
    let status = refused(untrusted, "/ws/same-host", &forwarded).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
