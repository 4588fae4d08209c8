// An unknown reject mode is reported at its literal, with the valid modes.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", reject = "silent")]
pub struct Chat {}

fn main() {}
