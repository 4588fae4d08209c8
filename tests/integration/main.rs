//! One test binary for every integration test: one link, faster runs.
