// A `{*rest}` wildcard before the end of the route is reported at the literal.
use sockwarden::prelude::*;

#[consumer(path = "/files/{*rest}/raw")]
pub struct Files {
    #[path]
    rest: String,
}

fn main() {}
