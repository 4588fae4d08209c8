// A handler for a variant that `In` lacks is an error at the handler's name.
use sockwarden::prelude::*;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    Say { body: String },
}

#[consumer(path = "/ws/chat")]
pub struct Chat;

#[handlers]
impl Consumer for Chat {
    type In = ChatIn;

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }

    async fn shout(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body.to_uppercase()).await
    }
}

fn main() {}
