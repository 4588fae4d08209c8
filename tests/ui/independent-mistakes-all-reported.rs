// Independent mistakes in one attribute are all reported in one build, each at its token.
use sockwarden::prelude::*;

#[consumer(
    pth = "/ws",
    path = "/ws/chat",
    auth = "tokn",
    reject = 1,
    reject = "close"
)]
pub struct Chat {}

fn main() {}
