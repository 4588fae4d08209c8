// A capture sharing its segment with text is reported at the route literal.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat-{room}")]
pub struct Chat {
    #[path]
    room: String,
}

fn main() {}
