//! Adversarial input (being written).
