//! `auth = "jwt"` at the handshake, over loopback: every carrier, the user
//! filled from the claims, and each refusal as the client sees it in both
//! rejection modes.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::FromRef;
use serde::Deserialize;
use serde_json::{Value, json};
use sockwarden::prelude::*;
use sockwarden::{Hub, Jwt};
use sockwarden_tests::{connect, next_close, next_json, serve};
use tokio_tungstenite::tungstenite::http::StatusCode;

const SECRET: &[u8] = b"the integration tests' JWT secret, long enough";
const AUDIENCE: &str = "chat";
const ISSUER: &str = "https://id.example.com";

/// The user is the token's claims.
#[derive(Debug, Clone, Deserialize)]
struct Member {
    sub: String,
    name: String,
    #[serde(default)]
    role: Option<String>,
}

impl AuthUser for Member {
    type Id = String;
    fn id(&self) -> String {
        self.sub.clone()
    }
}

/// Greets with who the claims say the user is.
async fn hello<C: Consumer>(cx: &mut Cx<C>, member: &Member) -> Connect {
    let hello =
        json!({ "type": "hello", "sub": member.sub, "name": member.name, "role": member.role });
    match cx.send(&hello).await {
        Ok(()) => Connect::Accept,
        Err(_) => Connect::Reject(Rejection::server_error("could not greet")),
    }
}

#[consumer(path = "/ws/jwt", auth = "jwt", query_token = true)]
#[requires_auth]
struct Greet {
    #[user]
    member: Member,
}

impl Consumer for Greet {
    type In = Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        hello(cx, &self.member).await
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        Ok(())
    }
}

#[consumer(
    path = "/ws/jwt-close",
    auth = "jwt",
    reject = "close",
    query_token = true
)]
#[requires_auth]
struct GreetClose {
    #[user]
    member: Member,
}

impl Consumer for GreetClose {
    type In = Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        hello(cx, &self.member).await
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        Ok(())
    }
}

/// No `query_token`: `?token=` is not a carrier here.
#[consumer(path = "/ws/jwt-no-query", auth = "jwt")]
#[requires_auth]
struct GreetNoQuery {
    #[user]
    member: Member,
}

impl Consumer for GreetNoQuery {
    type In = Value;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        hello(cx, &self.member).await
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: Value) -> Result<(), Error> {
        Ok(())
    }
}

#[derive(Clone)]
struct JwtApp {
    hub: Hub,
    jwt: Jwt<Member>,
}

impl FromRef<JwtApp> for Hub {
    fn from_ref(app: &JwtApp) -> Hub {
        app.hub.clone()
    }
}

impl FromRef<JwtApp> for Jwt<Member> {
    fn from_ref(app: &JwtApp) -> Jwt<Member> {
        app.jwt.clone()
    }
}

fn jwt() -> Jwt<Member> {
    Jwt::hs256(SECRET).audience(AUDIENCE).issuer(ISSUER)
}

fn app() -> Router {
    Router::new()
        .consumer::<Greet>()
        .consumer::<GreetClose>()
        .consumer::<GreetNoQuery>()
        .with_state(JwtApp {
            hub: Hub::new(),
            jwt: jwt(),
        })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
}

/// Ada's token, valid for an hour, with `extra` merged into the claims (a
/// `null` removes a claim).
fn token(extra: Value) -> String {
    token_with(&jwt(), extra)
}

fn token_with(jwt: &Jwt<Member>, extra: Value) -> String {
    let mut claims = json!({
        "sub": "u-1", "name": "Ada", "role": "admin",
        "aud": AUDIENCE, "iss": ISSUER, "exp": now() + 3600,
    });
    for (key, value) in extra.as_object().expect("an object") {
        match value {
            Value::Null => drop(claims.as_object_mut().expect("an object").remove(key)),
            value => claims[key] = value.clone(),
        }
    }
    jwt.sign(&claims)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Asserts the greeting of Ada, filled from her claims.
async fn greeted_as_ada(ws: &mut sockwarden_tests::Ws) {
    let hello = next_json(ws).await;
    assert_eq!(
        hello,
        json!({ "type": "hello", "sub": "u-1", "name": "Ada", "role": "admin" })
    );
}

#[tokio::test]
async fn a_valid_token_is_accepted_in_every_carrier() {
    let addr = serve(app()).await;
    let token = token(json!({}));

    let (mut ws, _) = connect(addr, "/ws/jwt", &[("authorization", &bearer(&token))])
        .await
        .accepted();
    greeted_as_ada(&mut ws).await;

    let (mut ws, headers) = connect(
        addr,
        "/ws/jwt",
        &[("sec-websocket-protocol", &format!("bearer, {token}"))],
    )
    .await
    .accepted();
    assert_eq!(
        headers["sec-websocket-protocol"], "bearer",
        "only the marker is echoed"
    );
    greeted_as_ada(&mut ws).await;

    let (mut ws, _) = connect(addr, &format!("/ws/jwt?token={token}"), &[])
        .await
        .accepted();
    greeted_as_ada(&mut ws).await;
}

#[tokio::test]
async fn the_user_field_is_filled_from_the_claims() {
    let addr = serve(app()).await;
    let token = token(json!({ "sub": "u-2", "name": "Grace", "role": null, "extra": [1, 2] }));
    let (mut ws, _) = connect(addr, "/ws/jwt", &[("authorization", &bearer(&token))])
        .await
        .accepted();
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "type": "hello", "sub": "u-2", "name": "Grace", "role": null })
    );
}

#[tokio::test]
async fn the_query_carrier_is_off_unless_enabled() {
    let addr = serve(app()).await;
    let token = token(json!({}));
    let (status, _, body) = connect(addr, &format!("/ws/jwt-no-query?token={token}"), &[])
        .await
        .refused();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body["reason"], "authentication required");
}

/// Asserts an HTTP refusal with its JSON body and challenge; returns the
/// reason, checked not to quote the token.
fn refused_with_401(handshake: sockwarden_tests::Handshake, error: &str, token: &str) -> String {
    let (status, headers, body) = handshake.refused();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "body: {body}");
    let challenge = headers["www-authenticate"].to_str().expect("ASCII");
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"], error, "{body}");
    let reason = body["reason"].as_str().expect("a reason").to_owned();
    for part in token.split('.').filter(|part| part.len() > 3) {
        assert!(
            !reason.contains(part),
            "the reason quotes the token: {reason}"
        );
    }
    reason
}

#[tokio::test]
async fn an_expired_token_is_refused_with_401_credential_expired() {
    let addr = serve(app()).await;
    let token = token(json!({ "exp": now() - 10 }));
    let handshake = connect(addr, "/ws/jwt", &[("authorization", &bearer(&token))]).await;
    let reason = refused_with_401(handshake, "credential_expired", &token);
    assert_eq!(reason, "expired JWT in the header carrier");
}

#[tokio::test]
async fn an_expired_token_is_closed_with_4408_in_close_mode() {
    let addr = serve(app()).await;
    let token = token(json!({ "exp": now() - 10 }));
    let (mut ws, headers) = connect(
        addr,
        "/ws/jwt-close",
        &[("sec-websocket-protocol", &format!("bearer, {token}"))],
    )
    .await
    .accepted();
    assert_eq!(headers["sec-websocket-protocol"], "bearer");
    let frame = next_json(&mut ws).await;
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["error"], "credential_expired");
    assert_eq!(frame["code"], 4408);
    assert_eq!(frame["reason"], "expired JWT in the subprotocol carrier");
    assert_eq!(
        next_close(&mut ws).await,
        (4408, "expired JWT in the subprotocol carrier".to_owned())
    );
}

#[tokio::test]
async fn every_failed_check_is_refused_with_401_naming_it() {
    let addr = serve(app()).await;
    let other_key = Jwt::hs256(b"somebody else's secret, just as long as ours");
    let cases = [
        (
            token(json!({ "aud": "billing" })),
            "JWT for another audience",
        ),
        (token(json!({ "aud": null })), "JWT without the `aud` claim"),
        (
            token(json!({ "iss": "https://evil.example.com" })),
            "JWT from another issuer",
        ),
        (token(json!({ "exp": null })), "JWT without the `exp` claim"),
        (
            token(json!({ "nbf": now() + 600 })),
            "JWT not yet valid (`nbf`)",
        ),
        (
            token(json!({ "name": null })),
            "JWT whose claims are not a user",
        ),
        (
            token_with(&other_key, json!({})),
            "JWT with a bad signature",
        ),
        ("not-a.jwt-at.all".to_owned(), "malformed JWT"),
    ];
    for (token, check) in cases {
        let handshake = connect(addr, "/ws/jwt", &[("authorization", &bearer(&token))]).await;
        let reason = refused_with_401(handshake, "not_authenticated", &token);
        assert_eq!(reason, format!("{check} in the header carrier"));
    }
}

#[tokio::test]
async fn a_wrong_audience_is_closed_with_4401_in_close_mode() {
    let addr = serve(app()).await;
    let token = token(json!({ "aud": "billing" }));
    let (mut ws, _) = connect(addr, &format!("/ws/jwt-close?token={token}"), &[])
        .await
        .accepted();
    let frame = next_json(&mut ws).await;
    assert_eq!(
        (frame["error"].as_str(), frame["code"].as_u64()),
        (Some("not_authenticated"), Some(4401))
    );
    assert_eq!(
        next_close(&mut ws).await,
        (
            4401,
            "JWT for another audience in the query carrier".to_owned()
        )
    );
}

/// Now, in fractional seconds, for tokens that expire within the test.
fn now_exact() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64()
}

async fn open_until(exp: f64) -> sockwarden_tests::Ws {
    let addr = serve(app()).await;
    let token = token(json!({ "exp": exp }));
    let (mut ws, _) = connect(addr, "/ws/jwt", &[("authorization", &bearer(&token))])
        .await
        .accepted();
    greeted_as_ada(&mut ws).await;
    ws
}

async fn nothing_for(ws: &mut sockwarden_tests::Ws, wait: std::time::Duration) {
    use futures_util::StreamExt;
    if let Ok(Some(message)) = tokio::time::timeout(wait, ws.next()).await {
        panic!("expected nothing, got {message:?}");
    }
}

#[tokio::test]
async fn an_open_connection_is_closed_4408_when_its_token_expires() {
    let mut ws = open_until(now_exact() + 0.8).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "type": "error", "error": "credential expired" })
    );
    assert_eq!(
        next_close(&mut ws).await,
        (4408, "credential expired".to_owned())
    );
}

#[tokio::test]
async fn a_fresh_token_for_the_same_user_keeps_the_connection() {
    let mut ws = open_until(now_exact() + 0.8).await;
    let fresh = token(json!({ "exp": now() + 3600 }));
    sockwarden_tests::send_json(&mut ws, &json!({ "type": "auth", "token": fresh })).await;
    assert_eq!(next_json(&mut ws).await, json!({ "type": "auth.ok" }));
    nothing_for(&mut ws, std::time::Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn another_users_token_in_band_closes_4403() {
    let mut ws = open_until(now_exact() + 60.0).await;
    let grace = token(json!({ "sub": "u-2", "name": "Grace" }));
    sockwarden_tests::send_json(&mut ws, &json!({ "type": "auth", "token": grace })).await;
    assert_eq!(
        next_close(&mut ws).await,
        (4403, "the token names another user".to_owned())
    );
}

#[tokio::test]
async fn an_invalid_token_in_band_is_answered_and_changes_nothing() {
    let mut ws = open_until(now_exact() + 1.0).await;
    let forged = token_with(
        &Jwt::hs256(b"another secret, also long enough!!"),
        json!({}),
    );
    sockwarden_tests::send_json(&mut ws, &json!({ "type": "auth", "token": forged })).await;
    let answer = next_json(&mut ws).await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert!(!answer["error"].as_str().unwrap().contains(&forged));
    // The connection still ends when the token it opened with expires.
    assert_eq!(next_json(&mut ws).await["error"], "credential expired");
    assert_eq!(next_close(&mut ws).await.0, 4408);
}
