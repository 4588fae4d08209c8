// A misspelt argument is reported at its key, with the list of valid ones.
use sockwarden::prelude::*;

#[consumer(pth = "/ws/chat")]
pub struct Chat {}

fn main() {}
