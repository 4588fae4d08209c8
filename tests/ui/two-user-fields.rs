// A second `#[user]` field is reported at its attribute.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/chat", auth = "token")]
#[requires_auth]
pub struct Chat {
    #[user]
    user: AppUser,
    #[user]
    again: AppUser,
}

fn main() {}
