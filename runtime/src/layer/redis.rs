//! The Redis channel layer (being written).

/// A channel layer on Redis pub/sub (being written).
#[derive(Debug)]
pub struct RedisLayer;
