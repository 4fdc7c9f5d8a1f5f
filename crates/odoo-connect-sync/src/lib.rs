//! Layer 4: sync primitives.
//!
//! - [`envelope`]: the message that carries a business event, with its idempotency key,
//!   correlation id and lane.
//! - [`store`]: the durable state behind traits (work queue with per-lane order, idempotency
//!   ledger, checkpoints, dead letters, audit log), implemented by the backends in
//!   [`crate::store`].
//! - [`ownership`]: which system owns which field; echo suppression.
//! - [`reconcile`]: what differs between a connector and Odoo.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod effect;
pub mod envelope;
pub mod ownership;
pub mod pipeline;
pub mod reconcile;
pub mod source;
pub mod step;
pub mod store;
