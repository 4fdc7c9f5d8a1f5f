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
//! - [`hash`]: the stable hash stored names are made with.
//!
//! The connectors (`odoo-connect-connectors`) and the sync layer (`odoo-connect-sync`) both build
//! on this crate and not on each other, so a connector can feed the queue and a pipeline can pull a
//! connector without either knowing the other.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod clock;
pub mod envelope;
pub mod error;
pub mod feed;
pub mod hash;
pub mod page;
pub mod retry;
