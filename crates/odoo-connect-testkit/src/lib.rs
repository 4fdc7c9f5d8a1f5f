//! The test kit of odoo-connect, a dev-dependency.
//!
//! - [`FakeOdoo`]: an in-process HTTP server that behaves like a real Odoo 19, 18 or 17 over
//!   `/jsonrpc` and JSON-2, with seeded business data, a stateful ORM and fault knobs (latency,
//!   failing replies, replies lost after commit), re-exported from `odoo-connect-fake`, which
//!   depends on no other odoo-connect crate (the client's own tests use it directly).
//! - [`FaultProxy`]: an HTTP proxy between the SDK and a fake that injects connection resets,
//!   replies cut mid-body, stalls, 502/503/504 pages, 429s and duplicated deliveries on a seeded
//!   schedule ([`FaultPlan`]), and counts them ([`FaultStats`]).
//! - [`store_conformance`]: the suite every state store (the traits of `odoo_connect_sync::store`)
//!   must pass; a new backend is correct when it passes it.
//! - [`connector_conformance`]: the checks a connector author runs on their `Source`,
//!   `EventSource` and `Sink` implementations.
//!
//! Through the `odoo-connect` facade (feature `testkit`) these are `odoo_connect::testkit`,
//! `odoo_connect::store::conformance` and `odoo_connect::connector::conformance`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod connector_conformance;
pub mod store_conformance;

#[doc(inline)]
pub use odoo_connect_fake::{FakeOdoo, FakeOdooBuilder, RecordedRequest, fake_odoo};
#[doc(inline)]
pub use odoo_connect_fake::{Fault, FaultPlan, FaultProxy, FaultStats, fault_proxy};
