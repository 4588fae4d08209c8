//! `#[state]` fields: a consumer's own stores come from the router state,
//! as axum handlers get theirs.

use axum::Router;
use axum::extract::FromRef;
use serde_json::json;
use sockwarden::prelude::*;
use sockwarden::store::MemoryTokenStore;
use sockwarden::{Frame, Tokens};
use sockwarden_tests::{User, connect_with_token, next_json, serve};

/// Something the app shares with its consumers.
#[derive(Clone)]
struct Motd(&'static str);

#[derive(Clone)]
struct AppState {
    tokens: Tokens<User>,
    motd: Motd,
    hub: sockwarden::Hub,
}

impl FromRef<AppState> for sockwarden::Hub {
    fn from_ref(state: &AppState) -> Self {
        state.hub.clone()
    }
}

impl FromRef<AppState> for Tokens<User> {
    fn from_ref(state: &AppState) -> Self {
        state.tokens.clone()
    }
}

impl FromRef<AppState> for Motd {
    fn from_ref(state: &AppState) -> Self {
        state.motd.clone()
    }
}

#[consumer(path = "/ws/motd", auth = "token")]
#[requires_auth]
struct Greeted {
    #[user]
    user: User,
    #[state]
    motd: Motd,
}

impl Consumer for Greeted {
    type In = Frame;

    async fn connect(&mut self, cx: &mut Cx<Self>) -> Connect {
        match cx
            .send(&json!({ "to": self.user.name, "motd": self.motd.0 }))
            .await
        {
            Ok(()) => Connect::Accept,
            Err(_) => Connect::Reject(Rejection::server_error("could not greet")),
        }
    }

    async fn receive(&mut self, _: &mut Cx<Self>, _: Frame) -> Result<(), Error> {
        Ok(())
    }
}

#[tokio::test]
async fn state_fields_come_from_the_router_state() {
    let store = MemoryTokenStore::new();
    store.insert("tok-1", User::named("user1"));
    let state = AppState {
        tokens: Tokens::new(store),
        motd: Motd("be kind"),
        hub: sockwarden::Hub::new(),
    };
    let addr = serve(Router::new().consumer::<Greeted>().with_state(state)).await;
    let mut ws = connect_with_token(addr, "/ws/motd", "tok-1").await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({ "to": "user1", "motd": "be kind" })
    );
}
