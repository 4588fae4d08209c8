//! Channel layers across hubs (being written).
