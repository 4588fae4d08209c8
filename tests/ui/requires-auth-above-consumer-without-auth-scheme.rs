// Above `#[consumer]`, `#[requires_auth]` without an auth scheme is still reported at `#[requires_auth]`.
use sockwarden::prelude::*;

#[requires_auth]
#[consumer(path = "/ws/chat")]
pub struct Chat {}

fn main() {}
