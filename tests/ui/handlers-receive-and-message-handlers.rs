// A `receive` written beside message handlers would leave them unused.
use sockwarden::prelude::*;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    Say { body: String },
    Leave,
}

#[consumer(path = "/ws/chat")]
pub struct Chat;

#[handlers]
impl Consumer for Chat {
    type In = ChatIn;

    async fn receive(&mut self, _cx: &mut Cx<Self>, _msg: ChatIn) -> Result<(), Error> {
        Ok(())
    }

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }
}

fn main() {}
