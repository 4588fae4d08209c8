// A value of the wrong kind is reported at the value, with an example of the right one.
use sockwarden::prelude::*;

#[consumer(path = 5)]
pub struct Chat {}

fn main() {}
