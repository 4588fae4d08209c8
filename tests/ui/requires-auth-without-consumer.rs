// `#[requires_auth]` alone says it needs `#[consumer(...)]`.
use sockwarden::prelude::*;

#[requires_auth]
pub struct Chat {}

fn main() {}
