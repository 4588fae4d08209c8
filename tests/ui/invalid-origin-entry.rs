// An allow-listed origin is `scheme://host[:port]`: the build fails at the
// entry that is not, with what to write instead.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", origins = ["https://app.example.com", "app.example.com/chat"])]
pub struct Chat {}

fn main() {}
