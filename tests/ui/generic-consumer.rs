// A consumer cannot be generic: reported at its generic parameters.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat")]
pub struct Chat<T> {
    state: T,
}

fn main() {}
