// A `{placeholder}` in a declared group must name a field of the consumer.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}", groups = ["room:{rom}"])]
pub struct Chat {
    #[path]
    room: String,
}

fn main() {}
