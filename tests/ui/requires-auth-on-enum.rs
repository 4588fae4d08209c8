// `#[requires_auth]` on an enum says it goes on a consumer struct.
use sockwarden::prelude::*;

#[requires_auth]
pub enum Chat {}

fn main() {}
