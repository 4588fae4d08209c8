//! Session auth (being written).
