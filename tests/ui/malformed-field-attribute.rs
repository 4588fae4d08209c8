// A field attribute with an argument of the wrong kind is reported at the attribute.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {
    #[path(1)]
    room: String,
}

fn main() {}
