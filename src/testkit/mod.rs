//! Test helpers, behind the `testkit` feature.
//!
//! [`FakeOdoo`] is an in-process HTTP server that behaves like a real Odoo 19, 18 or 17
//! over `/jsonrpc` and JSON-2, with seeded business data, a stateful ORM and fault knobs
//! (latency, failing replies, replies lost after commit). It depends on nothing else in the
//! crate, so the client can be tested against it.

pub mod fake_odoo;

pub use fake_odoo::{FakeOdoo, FakeOdooBuilder, RecordedRequest};
