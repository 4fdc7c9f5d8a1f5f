//! # odoo-connect
//!
//! Connect [Odoo](https://www.odoo.com) with the other systems a professional-services firm runs
//! (CRM, e-signature, PSA and timesheets, payroll, banking), so that each business event (a deal
//! won, a contract signed, time approved, an invoice posted, a payment received) reaches every
//! system exactly once, checked against policy and traced end to end.
//!
//! ## Layers
//!
//! Arrows only point downward; each layer is usable on its own.
//!
//! 1. [`odoo`]: a typed Odoo client. JSON-RPC (`/jsonrpc`, Odoo 14 to 20) and JSON-2
//!    (`/json/2/<model>/<method>`, Odoo 19+) behind one API; calls as values ([`odoo::OdooCall`]);
//!    typed records ([`odoo::Model`]), search domains ([`odoo::Domain`]), x2many commands, typed
//!    errors, batching, streaming, retries and timeouts; secrets kept secret.
//! 2. [`canonical`]: the professional-services model every connector translates to: [`canonical::Money`]
//!    (decimal, per-currency rounding, allocation to the cent), legal entities, clients, contracts
//!    with their billing kinds and change orders, projects, time, expenses, invoices and payments;
//!    validation that reports every problem with its field path; a stable JSON form with a
//!    `schema_version` and exported JSON Schemas; and the business rules (what may be invoiced now,
//!    revenue schedules, amendments) as pure functions.
//!
//! 3. [`connector`]: the traits connector authors implement for external systems ([`connector::Source`]
//!    of changes pulled since a cursor, [`connector::EventSource`] for pushed events,
//!    [`connector::Sink`] applying canonical changes, [`connector::Capabilities`]), a conformance
//!    kit, and reference connectors (HubSpot, Salesforce, time-export CSV, signed-contract webhook,
//!    camt.053 bank statements), each behind its feature.
//! 4. [`sync`]: composable sync primitives: [`sync::envelope::Envelope`]s with idempotency keys and
//!    correlation ids; steps (validate, transform, route, apply) and their outcomes; exactly-once
//!    effects in Odoo through the idempotency ledger and external ids ([`sync::effect`]); retries
//!    with backoff, dead letters and replay, checkpointed pulls, per-key order, field ownership,
//!    reconciliation, an audit trail, metrics and tracing; and [`sync::pipeline::Pipeline`], the
//!    whole built from them. The durable state lives behind the traits of [`sync::store`], with
//!    backends in [`store`]: in memory, SQLite (the embedded default) and PostgreSQL.
//!
//! Between layers 1 and 2, [`mapping`] turns canonical documents into Odoo values and typed Odoo
//! records back into canonical documents, per Odoo version (16 to 19), reporting what a version
//! cannot hold.
//!
//! On top, [`flows`] puts the contract-to-cash flows together from the sync primitives (lead to
//! project, time to invoice, invoice to cash) as pipeline steps to take whole; always on, it needs
//! no feature of its own.
//!
//! ## Crates
//!
//! This crate is a facade: each layer is a crate of its own, re-exported here under the module
//! paths above, so a program can depend on `odoo-connect` alone, or on only the crates it uses.
//!
//! | crate | module here | what it holds | I/O |
//! |-------|-------------|---------------|-----|
//! | [`odoo-client`](odoo_client) | [`odoo`] | the typed Odoo client, models, `#[derive(Model)]`, codegen | HTTP |
//! | [`odoo-connect-canonical`](odoo_connect_canonical) | [`canonical`], [`mapping`] | the canonical model and rules; with its `odoo` feature, the mapping to Odoo | none |
//! | [`odoo-connect-connectors`](odoo_connect_connectors) | [`connector`] | connector traits; each reference connector behind its feature | HTTP |
//! | [`odoo-connect-sync`](odoo_connect_sync) | [`sync`], [`store`] | pipeline, exactly-once effects, state stores (`sqlite`, `postgres`) | database |
//! | `odoo-connect-testkit` | `testkit` | FakeOdoo, the store and connector conformance suites (a dev-dependency) | HTTP |
//! | `odoo-connect` (this one) | [`flows`] | the contract-to-cash flows, re-exports of the others | |
//!
//! ## Feature flags
//!
//! Features are additive.
//!
//! | flag | default | what it adds |
//! |------|---------|--------------|
//! | `sqlite` | yes | [`store::sqlite::SqliteStore`], the embedded state store (one file, WAL) |
//! | `postgres` | no | `store::postgres::PostgresStore`, for many workers on many machines (`FOR UPDATE SKIP LOCKED` leases) |
//! | `testkit` | no | `testkit::FakeOdoo` (an in-process fake Odoo), the store conformance suite and the connector conformance kit |
//! | `hubspot` | no | `connector::hubspot`: HubSpot CRM v3 companies and deals, status written back to deals |
//! | `salesforce` | no | `connector::salesforce`: Salesforce Accounts and Opportunities by SOQL, status written back |
//! | `timesheet-csv` | no | `connector::timesheet_csv`: time and expenses from CSV exports (Harvest, Toggl Track, any PSA by column mapping), streamed |
//! | `esign-webhook` | no | `connector::esign_webhook`: signed-contract webhook receiver with HMAC verification |
//! | `camt053` | no | `connector::camt053`: ISO 20022 camt.053 statements and matching of payments to invoices |
//! | `cli` | no | the `odoo-connect` binary: `report [--html FILE] [--json]` on a SQLite or PostgreSQL state (with `sqlite` and `postgres`) |
//!
//! ## Example
//!
//! ```no_run
//! # async fn run() -> odoo_connect::odoo::Result<()> {
//! use odoo_connect::odoo::{Domain, OdooClient};
//! let odoo = OdooClient::builder("https://erp.example.com")
//!     .database("ps")
//!     .api_key("admin", std::env::var("ODOO_API_KEY").unwrap_or_default())
//!     .build()?;
//! let companies = odoo
//!     .model_named::<serde_json::Value>("res.company")
//!     .search_read(Domain::new())
//!     .fields(["name", "currency_id"])
//!     .await?;
//! println!("{} companies on Odoo {}", companies.len(), odoo.version().await?);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

/// Layer 1: the typed Odoo client (the `odoo-client` crate).
#[doc(inline)]
pub use odoo_client as odoo;

/// Layer 2: the canonical professional-services model and its rules (the `odoo-connect-canonical` crate).
#[doc(inline)]
pub use odoo_connect_canonical as canonical;

/// Canonical documents to Odoo values and back, per Odoo version (`odoo_connect_canonical::mapping`).
#[doc(inline)]
pub use odoo_connect_canonical::mapping;

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
    //! conformance suite every backend passes under the `testkit` feature.
    #[doc(inline)]
    pub use odoo_connect_sync::store::*;

    #[cfg(feature = "testkit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
    #[doc(inline)]
    pub use odoo_connect_testkit::store_conformance as conformance;
}

/// Test helpers: [`FakeOdoo`](testkit::FakeOdoo) and the conformance suites (the
/// `odoo-connect-testkit` crate, feature `testkit`).
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
#[doc(inline)]
pub use odoo_connect_testkit as testkit;

pub mod flows;

// Documented by its own `//!` header: an outer doc comment here would make rustdoc resolve the
// module's intra-doc links from the crate root, where `Report`, `Money`... are not in scope.
pub mod ops;

pub use odoo_client::odoo_selection;

pub use chrono;
pub use rust_decimal;

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
