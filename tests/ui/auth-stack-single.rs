// A stack of one scheme is that scheme: written as a plain string.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User;
impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/feed", auth = ["token"])]
#[requires_auth]
pub struct Feed {
    #[user]
    user: User,
}

fn main() {}
