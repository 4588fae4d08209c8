// The parameters after `cx` take fields by name: a pattern is an error at it.
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

    async fn say(&mut self, cx: &mut Cx<Self>, (body, _): (String, u8)) -> Result<(), Error> {
        cx.send_text(body).await
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>, _: String) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
