// `auth = "token"` needs a `#[user]` field to know the user type: reported at the struct's name.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", auth = "token")]
#[requires_auth]
pub struct Chat {}

fn main() {}
