//! Compile-fail cases of `#[consumer]` and `#[requires_auth]`, one mistake
//! per file in `ui/`, each with the `.stderr` that the user should see.
//!
//! The `.stderr` files were produced by rustc 1.95.0 (`rustc -V`). The
//! messages the macros write do not depend on the compiler, but their
//! rendering and the compiler's own errors (E0277 …) do, so a new rustc can
//! change them. Re-bless with
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p sockwarden-tests --test ui
//! ```
//!
//! then read every hunk of the diff: each error must still point at the
//! token at fault and say what to write instead. Run one case with
//! `cargo test -p sockwarden-tests --test ui -- ui trybuild=tuple-struct.rs`.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}
