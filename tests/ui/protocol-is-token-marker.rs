// A subprotocol that is the token marker of the auth scheme is reported at its literal.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct AppUser;

impl AuthUser for AppUser {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[consumer(path = "/ws/chat", auth = "token", user = AppUser, protocols = ["chat.v1", "bearer"])]
pub struct Chat;

fn main() {}
