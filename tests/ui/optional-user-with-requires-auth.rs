// Under `#[requires_auth]` the user is never missing: `Option<User>` is reported at the field's type.
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
    user: Option<AppUser>,
}

fn main() {}
