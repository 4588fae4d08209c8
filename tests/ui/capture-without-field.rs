// A route parameter without a `#[path]` field names the field to add.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room}")]
pub struct Chat {}

fn main() {}
