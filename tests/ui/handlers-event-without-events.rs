// `#[event]` handlers need the event enum named in `#[handlers(events = …)]`.
use sockwarden::prelude::*;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    Say { body: String },
    Leave,
}

#[consumer(path = "/ws/chat")]
pub struct Chat;

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent {
    Said { body: String },
}

#[handlers]
impl Consumer for Chat {
    type In = ChatIn;

    async fn say(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }

    async fn leave(&mut self, _cx: &mut Cx<Self>) -> Result<(), Error> {
        Ok(())
    }

    #[event]
    async fn said(&mut self, cx: &mut Cx<Self>, body: String) -> Result<(), Error> {
        cx.send_text(body).await
    }
}

fn main() {}
