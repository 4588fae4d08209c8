// An argument given twice is reported at the second key.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", path = "/ws/talk")]
pub struct Chat {}

fn main() {}
