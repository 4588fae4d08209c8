// Braces in a group name are placeholders; a literal brace is doubled.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", groups = ["room:{lobby"])]
pub struct Chat {}

fn main() {}
