// Every consumer's connections live in the app's hub: a router state that
// does not provide one fails where the consumer is mounted.
use axum::Router;
use sockwarden::prelude::*;

#[derive(Clone)]
struct AppState;

#[consumer(path = "/ws/echo")]
pub struct Echo;

impl Consumer for Echo {
    type In = sockwarden::Frame;
    async fn receive(&mut self, _: &mut Cx<Self>, _: sockwarden::Frame) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _app: Router = Router::new().consumer::<Echo>().with_state(AppState);
}
