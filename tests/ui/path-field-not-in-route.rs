// A `#[path]` field that the route does not capture is reported at the field, listing the captures.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {
    #[path]
    room: String,
    #[path]
    topic: String,
}

fn main() {}
