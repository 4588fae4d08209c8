// A duration without a unit is reported at its literal, with the accepted forms.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/chat", auth = "token", auth_timeout = "5")]
#[requires_auth]
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
