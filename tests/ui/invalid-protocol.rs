// A subprotocol that is not an HTTP token is reported at its literal.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", protocols = ["chat.v2", "chat v1"])]
pub struct Chat;

fn main() {}
