// `revalidate` re-reads sessions; on a token consumer it would promise a
// check that never runs. Reported at the key.
use sockwarden::prelude::*;

#[derive(Clone)]
pub struct User {
    name: String,
}
impl AuthUser for User {
    type Id = String;
    fn id(&self) -> String {
        self.name.clone()
    }
}

#[consumer(path = "/ws/feed", auth = "token", revalidate = "30s")]
#[requires_auth]
pub struct Feed {
    #[user]
    user: User,
}

fn main() {}
