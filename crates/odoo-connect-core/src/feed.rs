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

/// What a [`Deliver`] target did with the items it was handed: how many it added, and how many
/// it already held (a replay: the same event delivered again, recognised by its message id).
///
/// ```
/// use odoo_connect_core::feed::Delivered;
/// let d = Delivered::new(0, 1);
/// assert!(d.is_replay());
/// assert_eq!((d.added(), d.known()), (0, 1));
/// assert!(!Delivered::new(1, 0).is_replay());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Delivered {
    added: usize,
    known: usize,
}

impl Delivered {
    /// `added` items new to the target, `known` it already held.
    pub fn new(added: usize, known: usize) -> Delivered {
        Delivered { added, known }
    }

    /// Items new to the target.
    pub fn added(&self) -> usize {
        self.added
    }

    /// Items the target already held (replays), kept once.
    pub fn known(&self) -> usize {
        self.known
    }

    /// Every item handed over was already held: the whole delivery is a replay.
    pub fn is_replay(&self) -> bool {
        self.added == 0 && self.known > 0
    }
}

/// Where a pushing receiver (a webhook) hands what it verified: a durable queue. An error answers
/// so that the sender retries.
#[async_trait]
pub trait Deliver<T: Send + 'static>: Send + Sync + 'static {
    /// Stores the items; return only once they are safe.
    async fn deliver(&self, items: Vec<T>) -> Result<(), DeliverError>;

    /// Stores the items like [`Deliver::deliver`] and says how many were new and how many it
    /// already held (replays, answered like a first delivery so that the sender stops
    /// retrying). By default every item counts as added: a target that recognises what it
    /// holds (a queue keyed by message id) overrides it.
    async fn deliver_counted(&self, items: Vec<T>) -> Result<Delivered, DeliverError> {
        let n = items.len();
        self.deliver(items).await?;
        Ok(Delivered::new(n, 0))
    }

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

    async fn deliver_counted(&self, items: Vec<T>) -> Result<Delivered, DeliverError> {
        (**self).deliver_counted(items).await
    }

    async fn set_aside(&self, system: &str, rejected: Rejected) -> Result<(), DeliverError> {
        (**self).set_aside(system, rejected).await
    }
}
