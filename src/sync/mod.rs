//! Layer 4: sync primitives.

pub mod ownership;
pub mod reconcile;
