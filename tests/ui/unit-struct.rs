// A unit struct is refused at its name, with the `{}` form to write.
use sockwarden::prelude::*;

#[consumer(path = "/ws/ping")]
pub struct Ping;

fn main() {}
