//! The floor of the benchmark's echo scenario: what a WebSocket echo costs
//! with nothing around it. Each binary accepts connections with a bare
//! WebSocket library (no HTTP framework, no router, no token store: the
//! user's name is read off the token's text), answers
//! `{"type":"echo","seq":S,"body":B}` with the same plus `"user"`, and
//! does nothing else. They speak only enough of the protocol for `echo`,
//! and are driven only in that scenario: what separates their cost from a
//! full server's is the framework, and what they cost is mostly the
//! kernel's, which no server can avoid.

use std::borrow::Cow;
use std::future::Future;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};

/// A client's echo request; the body is borrowed unless it has escapes.
#[derive(Deserialize)]
struct EchoIn<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    seq: i64,
    #[serde(borrow)]
    body: Cow<'a, str>,
}

#[derive(Serialize)]
struct EchoOut<'a> {
    r#type: &'static str,
    seq: i64,
    body: &'a str,
    user: &'a str,
}

/// The user a token names, `tok-N` → `userN`, without a lookup.
pub fn user_of(authorization: Option<&str>) -> String {
    let n = authorization
        .and_then(|value| value.strip_prefix("Token tok-"))
        .unwrap_or("0");
    format!("user{n}")
}

/// The answer to one text message, if it is an echo request.
pub fn answer(text: &str, user: &str) -> Option<String> {
    let request: EchoIn<'_> = serde_json::from_str(text).ok()?;
    (request.kind == "echo").then_some(())?;
    serde_json::to_string(&EchoOut {
        r#type: "echo",
        seq: request.seq,
        body: &request.body,
        user,
    })
    .ok()
}

/// Accepts connections on 127.0.0.1:`PORT` (8106 by default), with
/// `TCP_NODELAY` as the other servers set it, one task each.
pub async fn serve<F>(connection: fn(TcpStream) -> F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8106);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_with_the_user_the_token_names() {
        let user = user_of(Some("Token tok-42"));
        assert_eq!(user, "user42");
        let reply = answer(r#"{"type":"echo","seq":7,"body":"h\"i"}"#, &user).unwrap();
        assert_eq!(
            reply,
            r#"{"type":"echo","seq":7,"body":"h\"i","user":"user42"}"#
        );
        assert_eq!(answer(r#"{"type":"say","seq":7,"body":"x"}"#, &user), None);
        assert_eq!(answer("not json", &user), None);
    }
}
