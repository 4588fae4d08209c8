// `#[header]` needs the header's name: reported at the attribute.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat")]
pub struct Chat {
    #[header]
    client: Option<String>,
}

fn main() {}
