// A `#[state]` field whose type the router state cannot give fails where the consumer is mounted.
use axum::Router;
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct Db;

#[consumer(path = "/ws/chat")]
pub struct Chat {
    #[state]
    db: Db,
}

impl Consumer for Chat {
    type In = sockwarden::Frame;

    async fn receive(&mut self, _: &mut Cx<Self>, _: Self::In) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _app: Router = Router::new().consumer::<Chat>().with_state(());
}
