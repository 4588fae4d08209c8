//! The runnable examples of `sockwarden`; this library is empty.
//!
//! Each example is one self-contained file, so that it reads top to bottom:
//!
//! - `chat.rs`: a token-authenticated chat consumer, the place to start
//!   (`cargo run --example chat`).
//! - `bench_server.rs`: the server that the benchmark drives; it speaks
//!   `shared/bench/PROTOCOL.md` (`cargo run --release --example bench_server`).
