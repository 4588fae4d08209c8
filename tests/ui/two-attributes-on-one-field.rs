// A field takes its value from one place: a second field attribute is reported.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {
    #[path]
    #[query]
    room: String,
}

fn main() {}
