//! Backends for the state traits of [`crate::sync::store`].
//!
//! | backend | feature | for |
//! | --- | --- | --- |
//! | [`memory::MemoryStore`] | always | tests, examples |
//! | `sqlite::SqliteStore` | `sqlite` (default) | one process: one file in WAL mode |
//! | `postgres::PostgresStore` | `postgres` | many workers on many machines |
//!
//! The SQL backends create and migrate their tables themselves and record the schema version in
//! a table of their own. Every backend passes the same conformance suite, `conformance`
//! (feature `testkit`); a new backend is correct when it passes it too.

pub mod memory;

#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "testkit")]
pub mod conformance;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

pub use crate::sync::store::{StoreError, StoreOptions, StoreResult};
