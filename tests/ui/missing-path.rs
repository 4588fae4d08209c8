// A consumer without a route is reported at the attribute.
use sockwarden::prelude::*;

#[consumer(auth = "none")]
pub struct Chat {}

fn main() {}
