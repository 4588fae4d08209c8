// A consumer that admits anonymous users must take `Option<User>`: reported at the field's type.
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
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
