//! The examples, integration tests and benchmarks of the odoo-connect workspace live in this
//! package (`examples/`, `tests/`, `benches/`); it is not published. Its library only compiles the
//! Rust code of the README and of the guides under `docs/` as doc tests.
//!
//! A guide whose code needs a feature is compiled when the feature is on (all of them with
//! `cargo test --doc --all-features`), so that a plain `cargo test` passes too.
#![forbid(unsafe_code)]

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The Rust code of `docs/architecture.md`, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/architecture.md")]
struct ArchitectureDoctests;

/// The Rust code of `docs/writing-a-pipeline.md` (the fake Odoo of the test kit, and the SQLite
/// store), compiled as doc tests.
#[cfg(all(doctest, feature = "testkit", feature = "sqlite"))]
#[doc = include_str!("../docs/writing-a-pipeline.md")]
struct WritingAPipelineDoctests;

/// The Rust code of `docs/writing-a-connector.md` (the connector conformance kit of the test
/// kit), compiled as doc tests.
#[cfg(all(doctest, feature = "testkit"))]
#[doc = include_str!("../docs/writing-a-connector.md")]
struct WritingAConnectorDoctests;

/// The Rust code of `docs/operations.md` (the SQLite and PostgreSQL stores), compiled as doc
/// tests.
#[cfg(all(doctest, feature = "sqlite", feature = "postgres"))]
#[doc = include_str!("../docs/operations.md")]
struct OperationsDoctests;

/// The Rust code of `docs/security.md` (the SQLite store), compiled as doc tests.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../docs/security.md")]
struct SecurityDoctests;
