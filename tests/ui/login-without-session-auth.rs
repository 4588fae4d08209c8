// `cx.login` on a consumer whose scheme keeps no session: a token client
// logs in by getting a new token and reconnecting.
use sockwarden::prelude::*;

#[derive(Clone)]
struct User {
    id: u64,
}

impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        self.id
    }
}

#[consumer(path = "/ws/chat", auth = "token")]
struct Chat {
    #[user]
    user: Option<User>,
}

impl Consumer for Chat {
    type In = serde_json::Value;
    async fn receive(&mut self, cx: &mut Cx<Self>, _: serde_json::Value) -> Result<(), Error> {
        let handoff = cx.login(&User { id: 1 }).await?;
        let _ = handoff;
        cx.logout().await
    }
}

fn main() {}
