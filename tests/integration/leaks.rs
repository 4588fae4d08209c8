//! Abandoned connections leave nothing behind (being written).
