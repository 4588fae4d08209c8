//! Typed handler dispatch (being written).
