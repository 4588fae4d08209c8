// The overflow policy is `"close"` or `"drop-oldest"`.
use sockwarden::prelude::*;

#[consumer(path = "/ws/ticker", overflow = "drop-newest")]
pub struct Ticker {}

fn main() {}
