// A tuple struct is refused at its name, with the named-field form to write.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat")]
pub struct Chat(String);

fn main() {}
