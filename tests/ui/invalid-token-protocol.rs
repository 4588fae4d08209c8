// A subprotocol marker that is not an HTTP token is reported at its literal.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/chat", auth = "token", token_protocol = "bearer, v1")]
#[requires_auth]
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
