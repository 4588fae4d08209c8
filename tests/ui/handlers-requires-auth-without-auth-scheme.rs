// `#[requires_auth]` on a handler of a consumer without an auth scheme could
// never let the handler run: an error at the attribute.
use sockwarden::prelude::*;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    Say { body: String },
    Delete { id: u64 },
}

#[consumer(path = "/ws/chat")]
pub struct Chat;

#[handlers]
impl Consumer for Chat {
    type In = ChatIn;

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }

    #[requires_auth]
    async fn delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
        cx.send_text(format!("deleted {id}")).await
    }
}

fn main() {}
