// A parameter whose type is not the field's is an error at it.
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

    async fn say(&mut self, cx: &mut Cx<Self>, body: u64) -> Result<(), Error> {
        cx.send_text(body.to_string()).await
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
