// A parameter that names no field of the variant is an error at it.
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

    async fn say(&mut self, cx: &mut Cx<Self>, text: String) -> Result<(), Error> {
        cx.send_text(text).await
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
