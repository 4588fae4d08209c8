//! Per-connection limits that need a client misbehaving on purpose.

use futures_util::SinkExt;
use serde_json::json;
use sockwarden_tests::{connect_with_token, next_close, next_json, serve};
use tokio_tungstenite::tungstenite::Message;

use sockwarden::prelude::*;

use crate::apps::{Echo, app, token_store};

/// 200 messages a second is the default: a client that sends 300 at once
/// gets about the first 200 answered, one warning for the first message
/// over, and close 1008 for the next.
#[tokio::test]
async fn a_client_over_the_message_rate_is_warned_then_closed_1008() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/echo", "tok-1").await;
    for seq in 0..300u64 {
        let echo = json!({ "type": "echo", "seq": seq, "body": "x" }).to_string();
        // Fed without flushing, so they leave at once.
        ws.feed(Message::text(echo)).await.expect("feed");
    }
    ws.flush().await.expect("flush");
    // The bucket refills while the server works through the burst, so a
    // few more than 200 may be answered; every answer is in order.
    let mut answered = 0u64;
    let warning = loop {
        let frame = next_json(&mut ws).await;
        if frame["type"] != "echo" {
            break frame;
        }
        assert_eq!(frame["seq"], answered);
        answered += 1;
    };
    assert!((200..300).contains(&answered), "{answered} answered");
    assert_eq!(warning["type"], "error");
    assert_eq!(
        warning["error"],
        "too many messages: at most 200 a second; this one was dropped"
    );
    assert_eq!(
        next_close(&mut ws).await,
        (1008, "message rate limit exceeded".to_owned())
    );
}

/// A client that keeps under the rate is never warned, however long it
/// goes on.
#[tokio::test]
async fn a_client_under_the_rate_is_never_warned() {
    let addr = serve(app()).await;
    let mut ws = connect_with_token(addr, "/ws/echo", "tok-1").await;
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(10));
    for seq in 0..150u64 {
        ticker.tick().await;
        let reply = sockwarden_tests::echo(&mut ws, seq, "steady").await;
        assert_eq!(reply["seq"], seq, "{reply}");
    }
}

/// `sockwarden::serve` bounds the request head: a client that sends its
/// upgrade request one byte at a time is cut off (`axum::serve` has no such
/// deadline and would hold the connection forever).
#[tokio::test]
async fn a_request_head_sent_byte_by_byte_is_cut_off() {
    use std::future::IntoFuture;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = sockwarden::serve(listener, app()).header_timeout(Duration::from_millis(500));
    tokio::spawn(server.into_future());

    let request = format!(
        "GET /ws/echo HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Authorization: Token tok-1\r\n\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let mut sent = 0;
    for byte in request.as_bytes() {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        let mut peek = [0u8; 64];
        // Anything the server says (a 408, or the end of the stream) ends it.
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut peek)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                let head = String::from_utf8_lossy(&peek[..n]);
                assert!(
                    head.starts_with("HTTP/1.1 408"),
                    "unexpected answer: {head}"
                );
                break;
            }
            Err(_) => {}
        }
    }
    assert!(
        sent < request.len(),
        "the whole request got through at a byte per 100 ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off after {:?}",
        started.elapsed()
    );
}

/// `serve(..).with_graceful_shutdown(hub, signal)`: open sockets get 1001,
/// then serving returns.
#[tokio::test]
async fn serve_drains_the_sockets_on_its_shutdown_signal() {
    use std::future::IntoFuture;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = sockwarden_tests::TokenApp::new(sockwarden::Tokens::new(token_store()));
    let hub = state.hub.clone();
    let app = axum::Router::new().consumer::<Echo>().with_state(state);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = sockwarden::serve(listener, app).with_graceful_shutdown(hub.clone(), async move {
        let _ = stopped.await;
    });
    let serving = tokio::spawn(server.into_future());
    let mut ws = connect_with_token(addr, "/ws/echo", "tok-1").await;
    assert_eq!(sockwarden_tests::echo(&mut ws, 1, "before").await["seq"], 1);
    stop.send(()).unwrap();
    let (code, _) = next_close(&mut ws).await;
    assert_eq!(code, 1001);
    tokio::time::timeout(sockwarden_tests::WAIT, serving)
        .await
        .expect("serving returned")
        .unwrap()
        .unwrap();
}
