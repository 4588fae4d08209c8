// A cap of zero would refuse everyone; "unlimited" turns a cap off.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat", max_per_peer = 0, max_per_user = "none")]
pub struct Chat {}

fn main() {}
