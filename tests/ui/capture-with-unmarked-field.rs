// A route parameter whose namesake field lacks `#[path]` says to mark that field.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {
    room: String,
}

fn main() {}
