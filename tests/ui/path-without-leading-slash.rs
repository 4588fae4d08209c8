// A route without its leading `/` is reported at the literal, with the fixed route.
use sockwarden::prelude::*;

#[consumer(path = "ws/chat")]
pub struct Chat {}

fn main() {}
