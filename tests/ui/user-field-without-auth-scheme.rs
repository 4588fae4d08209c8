// A `#[user]` field on a consumer without an auth scheme is reported at `#[user]`.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

#[consumer(path = "/ws/chat")]
pub struct Chat {
    #[user]
    user: Option<AppUser>,
}

fn main() {}
