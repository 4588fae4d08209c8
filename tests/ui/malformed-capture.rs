// An unclosed capture is reported at the route literal.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat/{room")]
pub struct Chat {}

fn main() {}
