// A route that captures the same name twice is reported at the literal.
use sockwarden::prelude::*;

#[consumer(path = "/ws/{room}/{room}")]
pub struct Chat {
    #[path]
    room: String,
}

fn main() {}
