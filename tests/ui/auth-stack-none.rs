// `none` in a stack is reported at its literal: anonymous clients are
// `#[requires_auth]`'s business, not a scheme to stack.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User;
impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/feed", auth = ["session", "none"])]
pub struct Feed {
    #[user]
    user: Option<User>,
}

fn main() {}
