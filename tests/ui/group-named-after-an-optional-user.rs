// A group named after the user needs `#[requires_auth]`: an anonymous
// connection has no user to name it by.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User(String);

impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.0.clone()
    }
}

#[consumer(path = "/ws/inbox", auth = "token", groups = ["inbox:{user}"])]
pub struct Inbox {
    #[user]
    user: Option<User>,
}

fn main() {}
