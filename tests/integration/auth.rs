//! Token carriers and every refusal, in both rejection modes, as the client
//! sees them on the wire.

use serde_json::Value;
use sockwarden_tests::{Handshake, connect, echo, next_close, next_json, serve};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::apps::app;

#[tokio::test]
async fn every_carrier_is_accepted() {
    let addr = serve(app()).await;

    let (mut ws, _) = connect(addr, "/ws/echo", &[("authorization", "Token tok-1")])
        .await
        .accepted();
    assert_eq!(echo(&mut ws, 1, "header").await["user"], "user1");

    let (mut ws, _) = connect(addr, "/ws/echo", &[("authorization", "bearer tok-2")])
        .await
        .accepted();
    assert_eq!(echo(&mut ws, 2, "bearer, any case").await["user"], "user2");

    let (mut ws, headers) = connect(
        addr,
        "/ws/echo",
        &[("sec-websocket-protocol", "bearer, tok-3")],
    )
    .await
    .accepted();
    assert_eq!(
        headers["sec-websocket-protocol"], "bearer",
        "only the marker is echoed"
    );
    assert_eq!(echo(&mut ws, 3, "subprotocol").await["user"], "user3");

    let (mut ws, _) = connect(addr, "/ws/echo?token=tok-0", &[]).await.accepted();
    assert_eq!(echo(&mut ws, 4, "query").await["user"], "user0");
}

#[tokio::test]
async fn the_echo_answers_the_benchmark_protocol() {
    let addr = serve(app()).await;
    let (mut ws, _) = connect(addr, "/ws/echo", &[("authorization", "Token tok-1")])
        .await
        .accepted();
    let reply = echo(&mut ws, 42, "hé 🦀").await;
    assert_eq!(
        reply,
        serde_json::json!({ "type": "echo", "seq": 42, "body": "hé 🦀", "user": "user1" })
    );
}

/// Asserts an HTTP refusal: status, JSON error body, challenge.
fn assert_refused(handshake: Handshake, status: StatusCode, error: &str) -> Value {
    let (got, headers, body) = handshake.refused();
    assert_eq!(got, status, "body: {body}");
    assert_eq!(headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"], error);
    if status == StatusCode::UNAUTHORIZED {
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    }
    body
}

#[tokio::test]
async fn bad_credentials_are_refused_with_401_before_the_upgrade() {
    let addr = serve(app()).await;
    let long = format!("Token {}", "x".repeat(5000));
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("/ws/echo", &[]),
        ("/ws/echo", &[("authorization", "Token nope")]),
        ("/ws/echo", &[("authorization", "Token ")]),
        ("/ws/echo", &[("authorization", "Basic dXNlcjpwdw==")]),
        ("/ws/echo", &[("authorization", "Token tok-1 extra")]),
        ("/ws/echo", &[("authorization", &long)]),
        ("/ws/echo", &[("sec-websocket-protocol", "tok-1")]),
        ("/ws/echo", &[("sec-websocket-protocol", "bearer")]),
        ("/ws/echo", &[("sec-websocket-protocol", "bearer, nope")]),
        ("/ws/echo?token=", &[]),
        ("/ws/echo?token=nope", &[]),
        // A bad credential in a present carrier never falls back to a later one.
        ("/ws/echo?token=tok-1", &[("authorization", "Token nope")]),
        (
            "/ws/echo?token=tok-1",
            &[("sec-websocket-protocol", "bearer, nope")],
        ),
        (
            "/ws/echo",
            &[
                ("authorization", "Token nope"),
                ("sec-websocket-protocol", "bearer, tok-1"),
            ],
        ),
    ];
    for (path, headers) in cases {
        let body = assert_refused(
            connect(addr, path, headers).await,
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
        );
        let reason = body["reason"].as_str().unwrap();
        assert!(
            !reason.contains("nope") && !reason.contains("xxx"),
            "the reason quotes the credential: {reason}"
        );
    }
}

#[tokio::test]
async fn the_query_carrier_is_off_unless_the_consumer_enables_it() {
    let addr = serve(app()).await;
    // `/ws/open` admits anonymous users and does not read `?token=`.
    let (mut ws, _) = connect(addr, "/ws/open?token=tok-1", &[]).await.accepted();
    assert_eq!(next_json(&mut ws).await["user"], "anonymous");
}

#[tokio::test]
async fn without_requires_auth_anonymous_gets_in_and_invalid_does_not() {
    let addr = serve(app()).await;
    let (mut ws, _) = connect(addr, "/ws/open", &[]).await.accepted();
    assert_eq!(next_json(&mut ws).await["user"], "anonymous");

    let (mut ws, _) = connect(addr, "/ws/open", &[("authorization", "Token tok-2")])
        .await
        .accepted();
    assert_eq!(next_json(&mut ws).await["user"], "user2");

    let refused = connect(addr, "/ws/open", &[("authorization", "Token forged")]).await;
    assert_refused(refused, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn close_mode_accepts_then_sends_an_error_frame_and_4401() {
    let addr = serve(app()).await;
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("/ws/echo-close", &[]),
        ("/ws/echo-close", &[("authorization", "Token nope")]),
        ("/ws/echo-close?token=", &[]),
        (
            "/ws/echo-close",
            &[("sec-websocket-protocol", "bearer, nope")],
        ),
    ];
    for (path, headers) in cases {
        let (mut ws, response) = connect(addr, path, headers).await.accepted();
        if headers
            .iter()
            .any(|(name, _)| *name == "sec-websocket-protocol")
        {
            assert_eq!(response["sec-websocket-protocol"], "bearer");
        }
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["error"], "not_authenticated");
        assert_eq!(frame["code"], 4401);
        let (code, reason) = next_close(&mut ws).await;
        assert_eq!(code, 4401);
        assert_eq!(reason, frame["reason"].as_str().unwrap());
    }
    let (mut ws, _) = connect(addr, "/ws/echo-close", &[("authorization", "Token tok-1")])
        .await
        .accepted();
    assert_eq!(echo(&mut ws, 7, "in").await["user"], "user1");
}

#[tokio::test]
async fn connect_rejects_by_value_in_the_declared_mode() {
    let addr = serve(app()).await;
    let refused = connect(addr, "/ws/open", &[("authorization", "Token tok-3")]).await;
    let body = assert_refused(refused, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(body["reason"], "user3 is banned");

    let (mut ws, _) = connect(addr, "/ws/scope/secret/1", &[]).await.accepted();
    let frame = next_json(&mut ws).await;
    assert_eq!(
        (frame["error"].as_str(), frame["code"].as_u64()),
        (Some("forbidden"), Some(4403))
    );
    assert_eq!(
        next_close(&mut ws).await,
        (4403, "this room is private".to_owned())
    );
}

#[tokio::test]
async fn unknown_paths_and_non_upgrades_are_refused_at_the_handshake() {
    let addr = serve(app()).await;
    let (status, _, _) = connect(addr, "/ws/nowhere", &[("authorization", "Token tok-1")])
        .await
        .refused();
    assert_eq!(status, StatusCode::NOT_FOUND);

    let client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let response = plain_get(client, "/ws/echo").await;
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
}

/// Sends a plain HTTP GET (no upgrade) and returns the raw response head.
async fn plain_get(mut stream: tokio::net::TcpStream, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token tok-1\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(sockwarden_tests::WAIT, stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

#[tokio::test]
async fn the_token_is_never_echoed_whatever_else_is_offered() {
    let addr = serve(app()).await;
    let (mut ws, headers) = connect(
        addr,
        "/ws/echo",
        &[("sec-websocket-protocol", "chat.v1, bearer, tok-2")],
    )
    .await
    .accepted();
    assert_eq!(headers["sec-websocket-protocol"], "bearer");
    assert!(
        headers
            .values()
            .all(|value| !value.as_bytes().windows(5).any(|w| w == b"tok-2"))
    );
    assert_eq!(echo(&mut ws, 1, "x").await["user"], "user2");
}
