// A user type without `AuthUser` is reported by the compiler.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

#[consumer(path = "/ws/chat", auth = "token")]
#[requires_auth]
pub struct Chat {
    #[user]
    user: AppUser,
}

fn main() {}
