// `user = Type` next to a `#[user]` field is reported at the argument.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/chat", auth = "token", user = AppUser)]
#[requires_auth]
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
