// `{session}` names a group after the connection's session: only
// `auth = "session"` with `#[requires_auth]` has one.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User(String);

impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.0.clone()
    }
}

#[consumer(path = "/ws/inbox", auth = "token", groups = ["tab:{session}"])]
#[requires_auth]
pub struct Inbox {
    #[user]
    user: User,
}

fn main() {}
