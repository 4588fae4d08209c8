// An empty auth stack is reported at the brackets, with what to write.
use sockwarden::prelude::*;

#[consumer(path = "/ws/feed", auth = [])]
pub struct Feed {}

fn main() {}
