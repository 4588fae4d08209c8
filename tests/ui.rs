//! Compile-fail cases; see `ui/`.
