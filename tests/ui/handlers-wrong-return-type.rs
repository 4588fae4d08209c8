// A handler returns `Result<(), Error>`: another return type is an error at
// that type.
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

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<usize, Error> {
        let len = body.len();
        cx.send_text(body).await?;
        Ok(len)
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
