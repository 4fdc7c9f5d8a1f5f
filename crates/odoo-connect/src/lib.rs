//! odoo-connect: connect Odoo with the other systems a professional-services firm runs (CRM,
//! e-signature, PSA and timesheets, payroll, banking).
//!
//! This crate only re-exports the crates of the SDK under one set of module paths, with their
//! features:
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `odoo-connect-core` | envelopes, message ids, idempotency keys, cursors and pages, the clock, retry classification; no I/O |
//! | [`odoo`] | `odoo-connect-client` | the typed Odoo client: JSON-RPC and JSON-2, models, domains, x2many commands, typed errors |
//! | [`canonical`] | `odoo-connect-canonical` | money, clients, contracts, projects, time, expenses, invoices, payments, legal entities, and their rules; no I/O |
//! | [`connector`] | `odoo-connect-connectors` | the connector traits and the reference connectors (features `hubspot`, `salesforce`, `timesheet-csv`, `esign-webhook`, `camt053`) |
//! | [`sync`], [`store`] | `odoo-connect-sync` | the pipeline, steps, exactly-once effects, state stores (memory, `sqlite`, `postgres`; sealed at rest with `encryption`) |
//! | [`flows`], [`mapping`] | `odoo-connect-flows` | the contract-to-cash flows and the mapping of canonical documents to Odoo |
//! | [`ops`] | `odoo-connect-ops` | the operations report (HTML with feature `html`); alerts to Slack, Teams, email and Jira (feature `alerts`) |
//! | `testkit` | `odoo-connect-testkit` | FakeOdoo, the fault proxy and the conformance suites (feature `testkit`) |
//!
//! Third-party types in the public API, re-exported on purpose so that a caller names the same
//! versions: [`chrono`] (dates and times), [`rust_decimal`] (amounts and quantities).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

/// The vocabulary every crate shares (the `odoo-connect-core` crate).
#[doc(inline)]
pub use odoo_connect_core as core;

/// Layer 1: the typed Odoo client (the `odoo-connect-client` crate).
#[doc(inline)]
pub use odoo_connect_client as odoo;

/// Layer 2: the canonical professional-services model and its rules (the `odoo-connect-canonical` crate).
#[doc(inline)]
pub use odoo_connect_canonical as canonical;

/// Canonical documents to Odoo values and back, per Odoo version (`odoo_connect_flows::mapping`).
#[doc(inline)]
pub use odoo_connect_flows::mapping;

pub mod connector {
    //! Layer 3: connector traits and reference connectors (the `odoo-connect-connectors` crate),
    //! with the conformance kit under the `testkit` feature.
    #[doc(inline)]
    pub use odoo_connect_connectors::*;

    #[cfg(feature = "testkit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
    #[doc(inline)]
    pub use odoo_connect_testkit::connector_conformance as conformance;
}

/// Layer 4: sync primitives (the `odoo-connect-sync` crate).
#[doc(inline)]
pub use odoo_connect_sync as sync;

pub mod store {
    //! The state stores behind the traits of [`sync::store`](crate::sync::store): in memory,
    //! SQLite (feature `sqlite`, the default) and PostgreSQL (feature `postgres`), with the
    //! conformance suite every backend passes under the `testkit` feature; any of them with its
    //! payloads, audit details and facts sealed at rest (`encrypted`, feature `encryption`).
    #[doc(inline)]
    pub use odoo_connect_sync::store::*;

    #[cfg(feature = "testkit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
    #[doc(inline)]
    pub use odoo_connect_testkit::store_conformance as conformance;
}

/// The contract-to-cash flows (the `odoo-connect-flows` crate).
#[doc(inline)]
pub use odoo_connect_flows as flows;

/// The operations report (the `odoo-connect-ops` crate).
#[doc(inline)]
pub use odoo_connect_ops as ops;

/// Test helpers: `FakeOdoo`, the fault proxy and the conformance suites (the
/// `odoo-connect-testkit` crate, feature `testkit`).
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
#[doc(inline)]
pub use odoo_connect_testkit as testkit;

pub use odoo_connect_client::odoo_selection;

pub use chrono;
pub use rust_decimal;
