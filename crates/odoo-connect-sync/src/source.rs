//! Sources wired into the pipeline: [`Pipeline::pull_from`] reads a [`Feed`] (a connector's
//! source, through `odoo_connect_connectors::SourceFeed`) from its committed checkpoint, and a
//! [`Pipeline`] is a [`Deliver`] target of a pushing receiver (the e-signature webhook), so a
//! pushed event is in the durable queue before it is answered 2xx.
//!
//! Both go through [`ToEnvelope`] or a mapping of the caller's, so a change gets the same message
//! id whichever way it arrives (the connectors derive it with
//! [`MessageId::derived`](crate::envelope::MessageId::derived)).

use async_trait::async_trait;
use odoo_connect_core::feed::{Deliver, DeliverError, Delivered, Feed, ToEnvelope};
use odoo_connect_core::page::{Cursor, Page};

use crate::envelope::{EnvelopeError, JsonEnvelope};
use crate::pipeline::{Pipeline, PullReport, SyncError};
use crate::store::{CheckpointKey, StateStore};

/// The source records asked for per page by [`Pipeline::pull_from`].
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl<S: StateStore + ?Sized + 'static> Pipeline<S> {
    /// Pulls `feed` page by page from the checkpoint committed under `checkpoint_key`: each
    /// page's items become envelopes through `to_envelope` (for connector changes,
    /// `odoo_connect_connectors::change_envelope`), are enqueued, and only then is the page's
    /// cursor committed as the checkpoint. Stops after the page that says no more follow.
    ///
    /// Enqueueing is idempotent by message id, so a stop or crash between the enqueue of a page
    /// and the commit of its cursor reads that page again and adds nothing twice; a stop before
    /// the enqueue loses nothing, as the checkpoint has not moved. `to_envelope` must therefore
    /// give an item the same message id every time (derive it from the item's stable id with
    /// [`MessageId::derived`](crate::envelope::MessageId::derived)).
    ///
    /// The records the source could not read ([`Page::rejected`]) are logged with their location
    /// and reason and counted in [`PullReport::rejected`].
    pub async fn pull_from<Src, F>(
        &self,
        feed: &Src,
        checkpoint_key: &CheckpointKey,
        mut to_envelope: F,
    ) -> Result<PullReport, SyncError>
    where
        Src: Feed + ?Sized,
        F: FnMut(&Src::Item) -> Result<JsonEnvelope, EnvelopeError>,
    {
        let system = feed.system();
        // Shared by the pages' futures; each lock is held only between awaits.
        let state = std::sync::Mutex::new((&mut to_envelope, 0u64));
        let state = &state;
        let mut report = self
            .pull(checkpoint_key, |cursor: Option<Cursor>| {
                let system = system.as_str();
                async move {
                    let page = feed
                        .page(cursor.as_ref(), DEFAULT_PAGE_SIZE)
                        .await
                        .map_err(|e| PullError::Source(Box::new(e)))?;
                    feed.on_page(&page);
                    for r in &page.rejected {
                        tracing::warn!(system, location = %r.location, reason = %r.reason,
                            "a source record could not be read");
                    }
                    let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
                    let (to_envelope, rejected) = &mut *guard;
                    *rejected += page.rejected.len() as u64;
                    let items = page
                        .items
                        .iter()
                        .map(|c| (*to_envelope)(c))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(PullError::Envelope)?;
                    drop(guard);
                    Ok::<_, PullError>(Page::new(items, page.cursor, page.has_more))
                }
            })
            .await?;
        let rejected = state.lock().unwrap_or_else(|p| p.into_inner()).1;
        report.rejected += rejected;
        Ok(report)
    }
}

/// Why a page of [`Pipeline::pull_from`] could not be enqueued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The source failed.
    #[error("the source failed")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An item could not become an envelope.
    #[error("an item could not become an envelope")]
    Envelope(#[source] EnvelopeError),
}

#[async_trait]
impl<S, T> Deliver<T> for Pipeline<S>
where
    S: StateStore + ?Sized + 'static,
    T: ToEnvelope + Send + Sync + 'static,
{
    /// Enqueues the items' envelopes ([`ToEnvelope`]) in one transaction before the receiver
    /// answers; a redelivery adds nothing. A store failure answers so that the sender retries.
    async fn deliver(&self, items: Vec<T>) -> Result<(), DeliverError> {
        let envelopes = items
            .iter()
            .map(ToEnvelope::to_envelope)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DeliverError::new("make the pushed items' messages", e))?;
        self.submit_batch(&envelopes)
            .await
            .map_err(|e| DeliverError::new("queue the pushed items", e))?;
        Ok(())
    }

    /// As [`Deliver::deliver`], counting the items the queue already knew (by message id).
    async fn deliver_counted(&self, items: Vec<T>) -> Result<Delivered, DeliverError> {
        let envelopes = items
            .iter()
            .map(ToEnvelope::to_envelope)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DeliverError::new("make the pushed items' messages", e))?;
        let added = self
            .submit_batch(&envelopes)
            .await
            .map_err(|e| DeliverError::new("queue the pushed items", e))?;
        Ok(Delivered::new(added, envelopes.len().saturating_sub(added)))
    }
}
