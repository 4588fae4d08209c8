// `origins` is "same-host", "any" or a list of origins.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", origins = "same-origin")]
pub struct Chat {}

fn main() {}
