// The schemes of a hand-written `Stack` must have one user type; the error
// names the scheme whose user type differs.
use sockwarden::{AuthUser, Authenticate, SessionAuth, Stack, TokenAuth};

#[derive(Clone)]
pub struct Member;
impl AuthUser for Member {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

#[derive(Clone)]
pub struct ApiClient;
impl AuthUser for ApiClient {
    type Id = u64;
    fn id(&self) -> u64 {
        0
    }
}

fn scheme<A: Authenticate>() {}

fn main() {
    scheme::<Stack<SessionAuth<Member>, TokenAuth<ApiClient>>>();
}
