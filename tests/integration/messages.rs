//! After the upgrade: typed JSON, raw frames, error frames, and the close
//! code for each way a connection ends.

use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use futures_util::SinkExt;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden::{Frame, Tokens};
use sockwarden_tests::{
    TokenApp, User, connect_with_token, echo, next, next_close, next_json, send_json, serve,
};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::apps::{app, token_store};

#[tokio::test]
async fn text_that_is_not_the_expected_json_gets_an_error_frame_and_the_connection_stays_open() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/echo", "tok-1").await;
    for bad in [
        "not json",
        "{\"type\":\"other\"}",
        "{\"type\":\"echo\",\"seq\":\"x\"}",
        "",
    ] {
        ws.send(Message::text(bad)).await.unwrap();
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["type"], "error", "for {bad:?}");
        assert!(
            frame["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid message"),
            "{frame}"
        );
    }
    assert_eq!(echo(&mut ws, 1, "still here").await["body"], "still here");
}

#[tokio::test]
async fn a_binary_frame_to_a_json_consumer_closes_with_1003() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/echo", "tok-1").await;
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    let (code, reason) = next_close(&mut ws).await;
    assert_eq!(code, 1003);
    assert!(reason.contains("binary"), "{reason}");
}

#[tokio::test]
async fn raw_consumers_get_text_and_binary_unchanged() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/raw", "tok-1").await;
    ws.send(Message::text("plain text, not JSON"))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::text("plain text, not JSON"));
    ws.send(Message::binary(vec![0, 159, 146, 150]))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0, 159, 146, 150]));
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/raw", "tok-1").await;
    ws.send(Message::text("x".repeat(1024))).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::text("x".repeat(1024)),
        "exactly the limit passes"
    );
    ws.send(Message::text("x".repeat(1025))).await.unwrap();
    assert_eq!(next_close(&mut ws).await.0, 1009);
}

#[tokio::test]
async fn handler_errors_reply_close_or_fail_with_their_codes() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/raw", "tok-1").await;
    ws.send(Message::text("bad request")).await.unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "type": "error", "error": "that was a bad request" })
    );

    ws.send(Message::text("close please")).await.unwrap();
    assert_eq!(next_close(&mut ws).await, (4000, "as you wish".to_owned()));

    let mut ws = connect_with_token(addr, "/ws/raw", "tok-1").await;
    ws.send(Message::text("fail")).await.unwrap();
    let (code, reason) = next_close(&mut ws).await;
    assert_eq!(code, 1011);
    assert!(
        !reason.contains("disk"),
        "internal errors are not shown to clients: {reason}"
    );
}

static ENDINGS: Mutex<Vec<(String, Disconnect)>> = Mutex::new(Vec::new());

/// Records how each connection ended, under the name it connected with.
#[consumer(path = "/ws/recorded/{name}", auth = "token")]
#[requires_auth]
struct Recorded {
    #[path]
    name: String,
    #[user]
    _user: User,
}

impl Consumer for Recorded {
    type In = String;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: String) -> Result<(), Error> {
        if msg == "bye" {
            cx.close(CloseCode::NORMAL, "bye to you");
        }
        Ok(())
    }

    async fn disconnect(&mut self, _: &mut Cx<Self>, why: Disconnect) {
        ENDINGS.lock().unwrap().push((self.name.clone(), why));
    }
}

async fn ending(name: &str) -> Disconnect {
    for _ in 0..100 {
        if let Some((_, why)) = ENDINGS.lock().unwrap().iter().find(|(n, _)| n == name) {
            return why.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("disconnect never ran for {name}");
}

#[tokio::test]
async fn disconnect_runs_once_with_the_reason() {
    let app = Router::new()
        .consumer::<Recorded>()
        .with_state(TokenApp::new(Tokens::new(token_store())));
    let addr = serve(app).await;

    let mut ws = connect_with_token(addr, "/ws/recorded/client-closed", "tok-1").await;
    ws.close(Some(CloseFrame {
        code: 4321.into(),
        reason: "leaving".into(),
    }))
    .await
    .unwrap();
    assert!(
        matches!(next(&mut ws).await, Message::Close(_)),
        "the server answers the close"
    );
    assert_eq!(
        ending("client-closed").await,
        Disconnect::Client {
            code: 4321,
            reason: "leaving".into()
        }
    );

    let mut ws = connect_with_token(addr, "/ws/recorded/server-closed", "tok-1").await;
    send_json(&mut ws, &json!("bye")).await;
    assert_eq!(next_close(&mut ws).await, (1000, "bye to you".to_owned()));
    assert_eq!(
        ending("server-closed").await,
        Disconnect::Server {
            code: 1000,
            reason: "bye to you".into()
        }
    );

    let ws = connect_with_token(addr, "/ws/recorded/dropped", "tok-1").await;
    drop(ws);
    assert_eq!(ending("dropped").await, Disconnect::Lost);

    let endings = ENDINGS.lock().unwrap();
    for name in ["client-closed", "server-closed", "dropped"] {
        assert_eq!(
            endings.iter().filter(|(n, _)| n == name).count(),
            1,
            "{name}"
        );
    }
}

/// Sends from `connect`, before the upgrade exists.
#[consumer(path = "/ws/greeter")]
struct Greeter {}

impl Consumer for Greeter {
    type In = Frame;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        for n in 1..=3 {
            if cx.send(&json!({ "greeting": n })).await.is_err() {
                return Connect::Reject(Rejection::server_error("could not greet"));
            }
        }
        Connect::Accept
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: Frame) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::test]
async fn messages_sent_in_connect_arrive_first_and_in_order() {
    let addr = serve(Router::new().consumer::<Greeter>()).await;
    let (mut ws, _) = sockwarden_tests::connect(addr, "/ws/greeter", &[])
        .await
        .accepted();
    for n in 1..=3 {
        assert_eq!(next_json(&mut ws).await, json!({ "greeting": n }));
    }
}
