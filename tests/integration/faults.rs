//! Faults: a consumer that panics, and clients that break the protocol.
//! Each ends only its own connection, with a close code that says why.

use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden_tests::raw::{client_frame, raw_upgrade, server_frame, write_all};
use sockwarden_tests::{WAIT, connect, next, next_close, next_json, send_json, serve};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::StatusCode;

/// How each `Fragile` connection ended, under the name it connected with.
static ENDINGS: Mutex<Vec<(String, Disconnect)>> = Mutex::new(Vec::new());
/// Every message `Fragile::receive` was called with, under the same name.
static RECEIVED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Echoes JSON strings; panics on `"panic"`. No auth, so the raw-frame
/// tests below can upgrade by hand.
#[consumer(path = "/ws/fragile/{name}")]
struct Fragile {
    #[path]
    name: String,
}

impl Consumer for Fragile {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        RECEIVED
            .lock()
            .unwrap()
            .push((self.name.clone(), msg.clone()));
        if msg == "panic" {
            panic!("told to panic");
        }
        cx.send(&msg).await
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

/// How `name`'s connection ended, waiting (bounded) for `disconnect`.
async fn ending(name: &str) -> Disconnect {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Some((_, why)) = ENDINGS.lock().unwrap().iter().find(|(n, _)| n == name) {
            return why.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("disconnect never ran for {name}");
}

fn endings_of(name: &str) -> usize {
    ENDINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == name)
        .count()
}

#[tokio::test]
async fn a_panic_in_receive_closes_only_that_connection_with_1011() {
    let addr = serve(Router::new().consumer::<Fragile>()).await;
    let (mut doomed, _) = connect(addr, "/ws/fragile/doomed", &[]).await.accepted();
    let (mut bystander, _) = connect(addr, "/ws/fragile/bystander", &[]).await.accepted();

    for ws in [&mut doomed, &mut bystander] {
        send_json(ws, &json!("before")).await;
        assert_eq!(next_json(ws).await, json!("before"));
    }

    // A second message right behind the panicking one: it reaches the
    // server, but must never be handed to the panicked consumer.
    send_json(&mut doomed, &json!("panic")).await;
    send_json(&mut doomed, &json!("after the panic")).await;
    assert_eq!(
        next_close(&mut doomed).await,
        (1011, "internal error".to_owned())
    );

    send_json(&mut bystander, &json!("after")).await;
    assert_eq!(
        next_json(&mut bystander).await,
        json!("after"),
        "another connection on the same server is unaffected"
    );

    assert_eq!(
        ending("doomed").await,
        Disconnect::Server {
            code: 1011,
            reason: "internal error".into()
        }
    );
    // Give a second (wrong) `disconnect` or `receive` time to show up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(endings_of("doomed"), 1, "disconnect runs once");
    assert_eq!(endings_of("bystander"), 0, "the bystander is still open");
    let received: Vec<String> = RECEIVED
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == "doomed")
        .map(|(_, msg)| msg.clone())
        .collect();
    assert_eq!(
        received,
        ["before", "panic"],
        "receive is not called after it panicked"
    );

    bystander.close(None).await.unwrap();
    assert!(matches!(next(&mut bystander).await, Message::Close(_)));
}

/// Panics in `connect` for the room `cursed`; echoes otherwise.
#[consumer(path = "/ws/moody/{room}")]
struct Moody {
    #[path]
    room: String,
}

/// The same, refusing by close frame.
#[consumer(path = "/ws/moody-close/{room}", reject = "close")]
struct MoodyClose {
    #[path]
    room: String,
}

impl Consumer for Moody {
    type In = String;

    async fn connect(&mut self, _: &mut Cx<Self>) -> Connect {
        assert_ne!(self.room, "cursed", "connect panicked on purpose");
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }
}

impl Consumer for MoodyClose {
    type In = String;

    async fn connect(&mut self, _: &mut Cx<Self>) -> Connect {
        if self.room == "cursed" {
            // A `String` payload, where `Moody`'s is formatted by `assert`.
            std::panic::panic_any(format!("room {} is cursed", self.room));
        }
        Connect::Accept
    }

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }
}

fn moody_app() -> Router {
    Router::new().consumer::<Moody>().consumer::<MoodyClose>()
}

#[tokio::test]
async fn a_panic_in_connect_is_a_500_in_http_mode() {
    let addr = serve(moody_app()).await;
    let (status, _, body) = connect(addr, "/ws/moody/cursed", &[]).await.refused();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"], "server_error");
    assert!(
        !body.to_string().contains("panicked on purpose"),
        "the panic message is not shown to clients: {body}"
    );

    // The same route, and the same server, still serve other rooms.
    let (mut ws, _) = connect(addr, "/ws/moody/fine", &[]).await.accepted();
    send_json(&mut ws, &json!("hello")).await;
    assert_eq!(next_json(&mut ws).await, json!("hello"));
}

#[tokio::test]
async fn a_panic_in_connect_is_an_error_frame_and_1011_in_close_mode() {
    let addr = serve(moody_app()).await;
    let (mut ws, _) = connect(addr, "/ws/moody-close/cursed", &[])
        .await
        .accepted();
    let frame = next_json(&mut ws).await;
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["error"], "server_error");
    assert_eq!(frame["code"], 1011);
    assert!(!frame.to_string().contains("cursed"), "{frame}");
    assert_eq!(next_close(&mut ws).await.0, 1011);

    let (mut ws, _) = connect(addr, "/ws/moody-close/fine", &[]).await.accepted();
    send_json(&mut ws, &json!("hello")).await;
    assert_eq!(next_json(&mut ws).await, json!("hello"));
}

/// Sends `frame` after a hand-made upgrade to `Fragile` as `name`; returns
/// the close code of the close frame the server answers with.
async fn close_code_for(name: &str, frame: &[u8]) -> u16 {
    let (stream, mut buf) = raw_upgrade(
        serve(Router::new().consumer::<Fragile>()).await,
        &format!("/ws/fragile/{name}"),
    )
    .await;
    write_all(&stream, frame).await;
    let (opcode, payload) = server_frame(&stream, &mut buf).await;
    assert_eq!(opcode, 0x8, "a close frame, got payload {payload:?}");
    assert!(payload.len() >= 2, "a close frame with a code");
    u16::from_be_bytes([payload[0], payload[1]])
}

#[tokio::test]
async fn a_text_frame_with_invalid_utf8_closes_with_1007() {
    // FIN | text, payload 0xff 0xfe: never valid UTF-8.
    let code = close_code_for("bad-utf8", &client_frame(0x80 | 0x1, &[0xff, 0xfe])).await;
    assert_eq!(code, 1007);
    assert_eq!(ending("bad-utf8").await.code(), 1007);
}

#[tokio::test]
async fn a_frame_with_an_unknown_opcode_closes_with_1002() {
    // FIN | opcode 0x3, a reserved non-control opcode.
    let code = close_code_for("bad-opcode", &client_frame(0x80 | 0x3, b"hi")).await;
    assert_eq!(code, 1002);
    assert_eq!(ending("bad-opcode").await.code(), 1002);
}

#[tokio::test]
async fn a_frame_with_reserved_bits_set_closes_with_1002() {
    // FIN | RSV1 | text: RSV1 without a negotiated extension.
    let code = close_code_for("bad-rsv", &client_frame(0x80 | 0x40 | 0x1, b"\"hi\"")).await;
    assert_eq!(code, 1002);
    assert_eq!(ending("bad-rsv").await.code(), 1002);
}

/// A well-formed frame through the same hand-made client is echoed, so the
/// closes above are about the broken frames, not the encoder.
#[tokio::test]
async fn a_valid_raw_frame_is_echoed() {
    let (stream, mut buf) = raw_upgrade(
        serve(Router::new().consumer::<Fragile>()).await,
        "/ws/fragile/raw-ok",
    )
    .await;
    write_all(&stream, &client_frame(0x80 | 0x1, b"\"hi\"")).await;
    assert_eq!(
        server_frame(&stream, &mut buf).await,
        (0x1, b"\"hi\"".to_vec())
    );
}

/// A message type whose `Deserialize` panics on the word `boom`.
struct Touchy;

impl<'de> serde::Deserialize<'de> for Touchy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        assert_ne!(word, "boom", "a user's Deserialize panicked");
        Ok(Touchy)
    }
}

#[consumer(path = "/ws/touchy/{name}")]
struct TouchyConsumer {
    #[path]
    name: String,
}

impl Consumer for TouchyConsumer {
    type In = Touchy;

    async fn receive(&mut self, cx: &mut Cx<Self>, _: Touchy) -> Result<(), Error> {
        cx.send(&"ok").await
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

#[tokio::test]
async fn a_panic_while_decoding_a_message_closes_with_1011() {
    let addr = serve(Router::new().consumer::<TouchyConsumer>()).await;
    let (mut ws, _) = connect(addr, "/ws/touchy/decoded", &[]).await.accepted();
    send_json(&mut ws, &json!("fine")).await;
    assert_eq!(next_json(&mut ws).await, json!("ok"));
    send_json(&mut ws, &json!("boom")).await;
    assert_eq!(
        next_close(&mut ws).await,
        (1011, "internal error".to_owned())
    );
    assert_eq!(
        ending("decoded").await,
        Disconnect::Server {
            code: 1011,
            reason: "internal error".into()
        }
    );
}

/// A path parameter type whose parser panics on `kaboom`.
struct Fussy;

impl sockwarden::FromParam for Fussy {
    fn from_param(raw: Option<&str>) -> Result<Self, sockwarden::ParamError> {
        assert_ne!(raw, Some("kaboom"), "a user's FromParam panicked");
        Ok(Fussy)
    }
}

#[consumer(path = "/ws/fussy/{what}")]
struct FussyConsumer {
    #[path("what")]
    _what: Fussy,
}

impl Consumer for FussyConsumer {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        cx.send(&msg).await
    }
}

#[tokio::test]
async fn a_panic_while_building_the_consumer_is_a_500() {
    let addr = serve(Router::new().consumer::<FussyConsumer>()).await;
    let (status, _, body) = connect(addr, "/ws/fussy/kaboom", &[]).await.refused();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body.contains("server_error") && !body.contains("FromParam"),
        "{body}"
    );
    let (mut ws, _) = connect(addr, "/ws/fussy/fine", &[]).await.accepted();
    send_json(&mut ws, &json!("still serving")).await;
    assert_eq!(next_json(&mut ws).await, json!("still serving"));
}
