// `#[requires_auth]` on a method needs `#[handlers]` on its impl block.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u8;
    fn id(&self) -> u8 {
        0
    }
}

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatIn {
    Delete { id: u64 },
}

#[consumer(path = "/ws/chat", auth = "token")]
pub struct Chat {
    #[user]
    user: Option<AppUser>,
}

impl Chat {
    #[requires_auth]
    async fn delete(&mut self, cx: &mut Cx<Self>, id: u64) -> Result<(), Error> {
        let _ = &self.user;
        cx.send_text(format!("deleted {id}")).await
    }
}

impl Consumer for Chat {
    type In = ChatIn;

    async fn receive(&mut self, cx: &mut Cx<Self>, msg: ChatIn) -> Result<(), Error> {
        match msg {
            ChatIn::Delete { id } => self.delete(cx, id).await,
        }
    }
}

fn main() {}
