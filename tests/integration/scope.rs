//! Scope extraction: path, query, header and cookie fields, and what a
//! field that cannot be read does to the handshake.

use serde_json::json;
use sockwarden_tests::{connect, next_close, next_json, send_json, serve};

use crate::apps::app;

#[tokio::test]
async fn fields_are_filled_from_the_handshake() {
    let addr = serve(app()).await;
    let headers = [
        ("x-client", "cli/2"),
        ("cookie", "session=abc; theme=dark"),
        ("origin", "https://chat.example"),
        ("sec-websocket-protocol", "chat.v3, chat.v2, chat.v1"),
        ("user-agent", "tests"),
    ];
    let path = "/ws/scope/lobby%20one/42?page=3&q=hello%20world&token=should-stay-hidden";
    let (mut ws, response) = connect(addr, path, &headers).await.accepted();
    assert_eq!(
        response["sec-websocket-protocol"], "chat.v2",
        "the first offered that the consumer speaks"
    );
    let report = next_json(&mut ws).await;
    assert_eq!(
        report,
        json!({
            "room": "lobby one", "n": 42, "page": 3, "q": "hello world", "client": "cli/2",
            "theme": "dark", "counted": 0, "origin": "https://chat.example",
            "protocols": ["chat.v3", "chat.v2", "chat.v1"], "selected": "chat.v2",
            "peer_is_loopback": true, "user_agent": "tests",
        })
    );
    send_json(&mut ws, &json!({})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "counted": 1 }),
        "unmarked fields are consumer state"
    );
}

#[tokio::test]
async fn optional_fields_may_be_absent() {
    let addr = serve(app()).await;
    let (mut ws, _) = connect(addr, "/ws/scope/lobby/1", &[]).await.accepted();
    let report = next_json(&mut ws).await;
    for field in ["page", "q", "client", "theme", "origin"] {
        assert!(report[field].is_null(), "{field}: {report}");
    }
}

#[tokio::test]
async fn a_field_that_does_not_parse_refuses_the_handshake() {
    let addr = serve(app()).await;
    for path in [
        "/ws/scope/lobby/not-a-number",
        "/ws/scope/lobby/1?page=many",
    ] {
        let (mut ws, _) = connect(addr, path, &[]).await.accepted();
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["error"], "bad_request", "{path}");
        assert_eq!(next_close(&mut ws).await.0, 4400, "{path}");
    }
}
