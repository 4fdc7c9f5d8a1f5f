//! Fakes of the servers odoo-connect talks to, for tests; no other odoo-connect crate is needed.
//!
//! - [`FakeOdoo`]: an in-process HTTP server that behaves like a real Odoo 19, 18 or 17 over
//!   `/jsonrpc` and JSON-2, with seeded business data, a stateful ORM and fault knobs (latency,
//!   failing replies, replies lost after commit, serialisation conflicts). Where it and a real
//!   server disagree, the server is right: the fake is checked against a real Odoo 19 in the
//!   workspace's real-server suite.
//! - [`FaultProxy`]: an HTTP proxy between the SDK and a server (the fake or a real Odoo) that
//!   injects connection resets, replies cut mid-body, stalls, 502/503/504 pages, 429s and
//!   duplicated deliveries on a seeded schedule ([`FaultPlan`]), and counts them ([`FaultStats`]).
//!
//! Through the `odoo-connect` facade (feature `testkit`) these are `odoo_connect::testkit`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod fake_odoo;
pub mod fault_proxy;

pub use fake_odoo::{FakeOdoo, FakeOdooBuilder, RecordedRequest};
pub use fault_proxy::{Fault, FaultPlan, FaultProxy, FaultStats};
