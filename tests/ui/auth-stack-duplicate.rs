// A scheme listed twice in a stack is reported at its second literal.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User;
impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/feed", auth = ["session", "token", "session"])]
#[requires_auth]
pub struct Feed {
    #[user]
    user: User,
}

fn main() {}
