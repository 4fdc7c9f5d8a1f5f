//! The vocabulary every odoo-connect crate shares, with no I/O.
//!
//! - [`envelope`]: the [`Envelope`](envelope::Envelope) that carries one business event, its
//!   [`MessageId`](envelope::MessageId) (with the one derivation of a stable id,
//!   [`MessageId::derived`](envelope::MessageId::derived)), [`IdempotencyKey`](envelope::IdempotencyKey)
//!   built from typed parts, correlation ids and lanes;
//! - [`page`]: the [`Cursor`](page::Cursor) a source resumes from and the [`Page`](page::Page) it
//!   returns, with what it [`Rejected`](page::Rejected);
//! - [`feed`]: the [`Feed`](feed::Feed) a pipeline pulls, the [`Deliver`](feed::Deliver) target a
//!   receiver pushes into, and [`ToEnvelope`](feed::ToEnvelope);
//! - [`clock`]: the one [`Clock`](clock::Clock);
//! - [`retry`]: [`Retryable`](retry::Retryable), the classification every layer's error
//!   implements, and the `Retry-After` parser;
//! - [`error`]: an error's chain of causes, walked one way everywhere;
//! - [`key`]: the rules of a stable key ([`check_key`](key::check_key)) and the
//!   [`LegalEntityKey`](key::LegalEntityKey) every message, route and checkpoint names its legal
//!   entity with;
//! - [`hash`]: the stable hash stored names are made with.
//!
//! The connectors (`odoo-connect-connectors`) and the sync layer (`odoo-connect-sync`) both build
//! on this crate and not on each other, so a connector can feed the queue and a pipeline can pull a
//! connector without either knowing the other.
//!
//! # Features
//!
//! - `schemars` (off by default): `JsonSchema` for [`LegalEntityKey`](key::LegalEntityKey), as
//!   the canonical model's JSON Schemas write it.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod clock;
pub mod envelope;
pub mod error;
pub mod feed;
pub mod hash;
pub mod key;
pub mod page;
pub mod retry;

/// What the macros of this crate name by path; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
