// A consumer with a mistake still defines the struct and an `Endpoint`: code using it adds no error.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", reject = "silent")]
pub struct Chat {}

impl Consumer for Chat {
    type In = sockwarden::Frame;

    async fn receive(&mut self, _: &mut Cx<Self>, _: Self::In) -> Result<(), Error> {
        Ok(())
    }
}

pub fn mount(router: axum::Router) -> axum::Router {
    router.consumer::<Chat>()
}

fn main() {}
