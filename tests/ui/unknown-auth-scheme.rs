// A misspelt auth scheme is reported at its literal, with the list of valid schemes.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", auth = "tokn")]
pub struct Chat {}

fn main() {}
