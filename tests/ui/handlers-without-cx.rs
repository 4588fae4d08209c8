// The second parameter of a handler is the connection: missing, or of the
// wrong type, it is an error at the parameter.
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

    async fn say(&mut self, body: String) -> Result<(), Error> {
        println!("{body}");
        Ok(())
    }

    async fn leave(&mut self, cx: Cx<Self>) -> Result<(), Error> {
        let _ = cx;
        Ok(())
    }
}

fn main() {}
