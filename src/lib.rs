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
//! Between the two, [`mapping`] turns canonical documents into Odoo values and typed Odoo records
//! back into canonical documents, per Odoo version (16 to 19), reporting what a version cannot hold.
//!
//! On top, [`flows`] puts the contract-to-cash flows together from the sync primitives (lead to
//! project, time to invoice, invoice to cash) as pipeline steps to take whole; always on, it needs
//! no feature of its own.
//!
//! ## Feature flags
//!
//! | flag | default | what it adds |
//! |------|---------|--------------|
//! | `testkit` | no | `testkit::FakeOdoo`, an in-process fake Odoo server, and test helpers |
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
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod canonical;
pub mod connector;
pub mod flows;
pub mod mapping;
pub mod odoo;
pub mod store;
pub mod sync;
#[cfg(feature = "testkit")]
pub mod testkit;
