//! Layer 4, the sync runtime: a pipeline of steps over a durable queue that applies each
//! message's effects in Odoo exactly once, with retries, dead letters and replay, checkpoints, an
//! audit trail and metrics, on a state store in memory, in SQLite or in PostgreSQL. Through the
//! `odoo-connect` facade it is `odoo_connect::sync`, and its stores `odoo_connect::store`.
//!
//! - [`envelope`]: the message that carries one business event, with its message id, idempotency
//!   key, correlation id and lane (re-exported from `odoo-connect-core`, which the connectors
//!   share).
//! - [`key`]: the [`LegalEntityKey`](key::LegalEntityKey) messages, routes and checkpoints name
//!   their legal entity with (re-exported from `odoo-connect-core`).
//! - [`pipeline`]: the [`Pipeline`](pipeline::Pipeline) and its builder: submit messages, run
//!   workers, retry with backoff, replay dead letters, trace a chain of messages.
//! - [`source`]: sources wired into the pipeline: a connector's feed pulled from its checkpoint
//!   ([`Pipeline::pull_from`](pipeline::Pipeline::pull_from)), and the pipeline as the `Deliver`
//!   target of a pushing receiver.
//! - [`step`]: the [`Step`](step::Step) trait, the [`Stop`](step::Stop)s that end an attempt
//!   (skipped, held, retry, failed), the typed state steps hand on, routing, steps from closures.
//! - [`typed`]: steps over a message type of your own: [`TypedStep`](typed::TypedStep),
//!   [`typed()`](typed::typed), [`validate_message`](typed::validate_message) and
//!   [`transform_message`](typed::transform_message).
//! - [`layer`]: behaviour around every step (timeouts, rate limits, gates), as layers.
//! - [`effect`]: effects in Odoo that happen exactly once across retries, lost replies and
//!   crashes: [`create_once`](effect::create_once), [`BatchedCreate`](effect::BatchedCreate),
//!   [`ensure`](effect::ensure).
//! - [`store`]: the durable state behind traits (work queue with per-lane order, idempotency
//!   ledger, checkpoints, dead letters, audit log, and [facts](store::Facts): what is known about
//!   the world, typed and never purged) and its backends: [`store::memory`], and
//!   `store::sqlite` and `store::postgres` with their features.
//! - [`ownership`]: which system owns which field; echo suppression.
//! - [`reconcile`]: what differs between a connector's records and Odoo's.
//!
//! [`async_trait`](macro@async_trait) is re-exported, so that the implementations of
//! [`Step`](step::Step), [`TypedStep`](typed::TypedStep) and the store traits name the same
//! version as the crate.
//!
//! # Features
//!
//! | feature | adds |
//! |---------|------|
//! | `sqlite` | `store::sqlite::SqliteStore`, the embedded state store |
//! | `postgres` | `store::postgres::PostgresStore`, for many workers sharing one queue |
//!
//! Neither is on by default (the `odoo-connect` facade turns on `sqlite`); the in-memory store
//! is always there.
//!
//! ## Third-party types in the API
//!
//! On purpose, so that a caller names the same version as this crate:
//! [`tokio_util::sync::CancellationToken`](pipeline::CancellationToken) (re-exported: the graceful
//! stop of [`Pipeline::run_until_cancelled`](pipeline::Pipeline::run_until_cancelled), the token
//! the rest of a tokio application already uses), [`async_trait`](macro@async_trait) (re-exported: the attribute
//! [`Step`](step::Step), [`TypedStep`](typed::TypedStep) and the store traits are implemented
//! with), `sqlx::PgPool` (feature `postgres`: `PostgresStore::from_pool` and `PostgresStore::pool`
//! share a pool the application already has), `serde_json::Value` (payloads, details, outcomes),
//! `chrono::DateTime<Utc>` (times) and `rust_decimal::Decimal` (quantities in
//! [`ImportRow::number`](effect::ImportRow::number)). No other crate's type is public.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod effect;
pub use odoo_connect_core::envelope;
pub use odoo_connect_core::key;
pub mod layer;
pub mod ownership;
pub mod pipeline;
pub mod reconcile;
pub mod source;
pub mod step;
pub mod store;
pub mod typed;

/// The attribute [`typed::TypedStep`] and [`step::Step`] implementations are written with,
/// re-exported so that a pipeline's crate names the same version.
pub use async_trait::async_trait;
