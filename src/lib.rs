//! odoo-connect
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod odoo;
pub mod store;
pub mod sync;
