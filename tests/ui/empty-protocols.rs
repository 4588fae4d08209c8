// An empty list of subprotocols is reported at the list.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", protocols = [])]
pub struct Chat;

fn main() {}
