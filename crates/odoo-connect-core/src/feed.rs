//! Where messages come from and go to, as the pipeline sees it: a [`Feed`] it pulls pages from,
//! a [`Deliver`] target a pushing receiver hands items to, and [`ToEnvelope`], how an item
//! becomes a queued message.
//!
//! The connectors implement [`Feed`] for their sources and [`ToEnvelope`] for their changes; the
//! sync pipeline implements [`Deliver`]. Neither crate depends on the other.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;

use crate::envelope::{EnvelopeError, JsonEnvelope};
use crate::page::{Cursor, Page, Rejected};
use crate::retry::Retryable;

/// A paged source a pipeline pulls from its checkpoint.
#[async_trait]
pub trait Feed: Send + Sync {
    /// What a page holds.
    type Item: Send;
    /// Why a page could not be read.
    type Error: StdError + Retryable + Send + Sync + 'static;

    /// The system read (`hubspot`), for logs and metrics.
    fn system(&self) -> String;

    /// Up to `limit` items from `cursor` (from the start when `None`).
    async fn page(
        &self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Self::Item>, Self::Error>;

    /// Called once a page's items are queued and its cursor committed.
    fn on_page(&self, _page: &Page<Self::Item>) {}
}

/// How an item becomes the message queued for it, with a message id and an idempotency key the
/// item determines (so the same item read or pushed again is recognised by the queue).
pub trait ToEnvelope {
    /// The message of this item.
    fn to_envelope(&self) -> Result<JsonEnvelope, EnvelopeError>;
}

/// Why a [`Deliver`] target could not keep what it was handed; a pushing receiver answers so
/// that the sender retries.
#[derive(Debug)]
pub struct DeliverError {
    what: &'static str,
    source: Box<dyn StdError + Send + Sync>,
}

impl DeliverError {
    /// An error of the target while doing `what` (`"queue the pushed changes"`).
    pub fn new(what: &'static str, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        DeliverError {
            what,
            source: source.into(),
        }
    }
}

impl fmt::Display for DeliverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {}", self.what)
    }
}

impl StdError for DeliverError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

impl Retryable for DeliverError {
    /// A target that could not keep the items is asked again: the sender's retry is the retry.
    fn is_retryable(&self) -> bool {
        true
    }
}

/// Where a pushing receiver (a webhook) hands what it verified: a durable queue. An error answers
/// so that the sender retries.
#[async_trait]
pub trait Deliver<T: Send + 'static>: Send + Sync + 'static {
    /// Stores the items; return only once they are safe.
    async fn deliver(&self, items: Vec<T>) -> Result<(), DeliverError>;

    /// Records an item set aside by `system` (a business hold, or values that cannot be read) for
    /// a person to act on; return only once it is safe. By default it is logged (its location and
    /// reason, not its content) and dropped: a durable implementation parks it in a dead-letter
    /// store.
    async fn set_aside(&self, system: &str, rejected: Rejected) -> Result<(), DeliverError> {
        tracing::warn!(
            system,
            location = %rejected.location,
            reason = %rejected.reason,
            business = rejected.is_business(),
            "a pushed item was set aside"
        );
        Ok(())
    }
}

#[async_trait]
impl<T: Send + 'static, D: Deliver<T> + ?Sized> Deliver<T> for std::sync::Arc<D> {
    async fn deliver(&self, items: Vec<T>) -> Result<(), DeliverError> {
        (**self).deliver(items).await
    }

    async fn set_aside(&self, system: &str, rejected: Rejected) -> Result<(), DeliverError> {
        (**self).set_aside(system, rejected).await
    }
}
