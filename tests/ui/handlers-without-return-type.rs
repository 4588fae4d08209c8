// A handler returns `Result<(), Error>`: without a return type, the error is
// at the signature.
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

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) {
        let _ = cx.send_text(body).await;
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
