//! The benchmark's load generator, as a library: `main.rs` is its command
//! line. See `main.rs` for how it is run.

pub mod client;
pub mod procfs;
pub mod proto;
pub mod report;
pub mod results;
pub mod scenarios;
pub mod svg;
pub mod tally;
