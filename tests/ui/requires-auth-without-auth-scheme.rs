// `#[requires_auth]` on a consumer without an auth scheme is reported at `#[requires_auth]`.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat")]
#[requires_auth]
pub struct Chat {}

fn main() {}
