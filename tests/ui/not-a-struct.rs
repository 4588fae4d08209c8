// `#[consumer]` on an enum says where it belongs and hands the enum back.
use sockwarden::prelude::*;

#[consumer(path = "/ws/chat")]
pub enum Chat {}

fn main() {}
