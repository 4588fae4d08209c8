// A zero message size limit is reported at the literal.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", max_message_size = 0)]
pub struct Chat {}

fn main() {}
