// `#[requires_auth]` takes no arguments.
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
#[requires_auth(admin)]
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
