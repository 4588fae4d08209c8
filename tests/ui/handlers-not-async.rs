// A handler that is not `async` is an error at its `fn`.
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

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }

    fn leave(&mut self, cx: &mut Cx<Self>) -> Result<(), Error> {
        cx.close(CloseCode::NORMAL, "bye");
        Ok(())
    }
}

fn main() {}
