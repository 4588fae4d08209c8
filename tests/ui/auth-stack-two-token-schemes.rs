// `token` and `jwt` read the same carriers: a stack of both would refuse
// every token. Reported at the second of them.
use sockwarden::prelude::*;

#[derive(Clone, serde::Deserialize)]
pub struct User {
    sub: String,
}
impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.sub.clone()
    }
}

#[consumer(path = "/ws/feed", auth = ["token", "session", "jwt"])]
#[requires_auth]
pub struct Feed {
    #[user]
    user: User,
}

fn main() {}
