// A `#[path]` field whose type cannot be read from the scope is reported at that type.
use sockwarden::prelude::*;

struct Room;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {
    #[path]
    room: Room,
}

fn main() {}
