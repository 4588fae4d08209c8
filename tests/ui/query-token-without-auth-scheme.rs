// A token carrier without an auth scheme is reported at its key, with the argument to add.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", query_token = true)]
pub struct Chat {}

fn main() {}
