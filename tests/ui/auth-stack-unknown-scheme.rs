// A misspelt scheme in a stack is reported at its literal, with the list of
// valid schemes, as for `auth = "..."`.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User;
impl AuthUser for User {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/feed", auth = ["sesion", "token"])]
#[requires_auth]
pub struct Feed {
    #[user]
    user: User,
}

fn main() {}
