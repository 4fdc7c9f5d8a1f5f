//! Connectors wired into the pipeline: [`Pipeline::pull_from`] reads a connector
//! [`Source`] from its committed checkpoint, and (feature `esign-webhook`) a [`Pipeline`] is a
//! [`Deliver`](odoo_connect_connectors::esign_webhook::Deliver) target of the webhook receiver,
//! so a pushed event is in the durable queue before it is answered 2xx.
//!
//! Both use the connectors' one [`Page`]/[`Cursor`] type.

use odoo_client::support::fnv1a64;
use odoo_connect_connectors::{Change, Cursor, Page, Record, Source};

use crate::envelope::{Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope, MessageId};
use crate::pipeline::{Pipeline, PullReport, SyncError};
use crate::store::{CheckpointKey, StateStore};

/// The source records asked for per page by [`Pipeline::pull_from`].
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl<S: StateStore + ?Sized + 'static> Pipeline<S> {
    /// Pulls `source` page by page from the checkpoint committed under `checkpoint_key`: each
    /// page's changes become envelopes through `to_envelope` (for example
    /// [`change_envelope`]), are enqueued, and only then is the page's cursor committed as the
    /// checkpoint. Stops after the page that says no more follow.
    ///
    /// Enqueueing is idempotent by message id, so a stop or crash between the enqueue of a page
    /// and the commit of its cursor reads that page again and adds nothing twice; a stop before
    /// the enqueue loses nothing, as the checkpoint has not moved. `to_envelope` must therefore
    /// give a change the same message id every time (derive it from [`Change::id`]).
    ///
    /// The records the source could not read ([`Page::rejected`]) are logged with their location
    /// and reason and counted in [`PullReport::rejected`].
    pub async fn pull_from<Src, F>(
        &self,
        source: &Src,
        checkpoint_key: &CheckpointKey,
        mut to_envelope: F,
    ) -> Result<PullReport, SyncError>
    where
        Src: Source + ?Sized,
        F: FnMut(&Change) -> Result<JsonEnvelope, EnvelopeError>,
    {
        let system = source.system();
        // Shared by the pages' futures; each lock is held only between awaits.
        let state = std::sync::Mutex::new((&mut to_envelope, 0u64));
        let state = &state;
        let mut report = self
            .pull(checkpoint_key, |cursor: Option<Cursor>| {
                let page = source_page(source, cursor);
                let system = system.as_str();
                async move {
                    let page = page.await.map_err(PullError::Source)?;
                    source.on_page(&page);
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

/// One page of `source` from `cursor`, at [`DEFAULT_PAGE_SIZE`].
async fn source_page<Src: Source + ?Sized>(
    source: &Src,
    cursor: Option<Cursor>,
) -> Result<Page<Change>, odoo_connect_connectors::ConnectorError> {
    source.pull(cursor.as_ref(), DEFAULT_PAGE_SIZE).await
}

/// Why a page of [`Pipeline::pull_from`] could not be enqueued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The source failed.
    #[error("the source failed: {0}")]
    Source(#[source] odoo_connect_connectors::ConnectorError),
    /// A change could not become an envelope.
    #[error("a change could not become an envelope: {0}")]
    Envelope(#[source] EnvelopeError),
}

/// The default envelope of a connector change: payload `{"change": <the change>}`, message id and
/// idempotency key derived from the change id (a change read or pushed again is recognised by
/// the queue), from the change's system, at the time the record changed, in the legal entity the
/// record names (customers, contracts, invoices, payments).
///
/// A record that names no legal entity (projects, time entries, expenses) is an
/// [`EnvelopeError::MissingField`]`("legal_entity")`: give [`Pipeline::pull_from`] a mapping of
/// your own for those.
pub fn change_envelope(change: &Change) -> Result<JsonEnvelope, EnvelopeError> {
    let id = change.id.as_str();
    let key = IdempotencyKey::for_effect("change", id, "1", "deliver")?;
    let payload = serde_json::json!({ "change": change });
    let mut builder = Envelope::builder(key, payload)
        .id(message_id_of(id))
        .source(change.external.system.as_str())
        .occurred_at(change.updated_at);
    if let Some(entity) = legal_entity_of(&change.record) {
        builder = builder.legal_entity(entity);
    }
    builder.build()
}

/// A stable message id for a change id: a UUID made of two hashes of it.
fn message_id_of(change_id: &str) -> MessageId {
    let (a, b) = (
        fnv1a64(change_id.as_bytes()),
        fnv1a64(format!("{change_id}#message").as_bytes()),
    );
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    MessageId::from_uuid(uuid::Uuid::from_u64_pair(hi, lo))
}

fn legal_entity_of(record: &Record) -> Option<&str> {
    match record {
        Record::Client(c) => Some(c.legal_entity.as_str()),
        Record::Contract(c) => Some(c.legal_entity.as_str()),
        Record::Invoice(i) => Some(i.legal_entity.as_str()),
        Record::Payment(p) => Some(p.legal_entity.as_str()),
        _ => None,
    }
}

#[cfg(feature = "esign-webhook")]
#[async_trait::async_trait]
impl<S: StateStore + ?Sized + 'static> odoo_connect_connectors::esign_webhook::Deliver
    for Pipeline<S>
{
    /// Enqueues the changes as [`change_envelope`]s in one transaction before the receiver
    /// answers; a redelivery adds nothing. A store failure answers 503 and the sender retries.
    async fn deliver(
        &self,
        changes: Vec<Change>,
    ) -> Result<(), odoo_connect_connectors::ConnectorError> {
        let internal =
            |e: &dyn std::fmt::Display| odoo_connect_connectors::ConnectorError::Internal {
                message: format!("cannot queue the pushed changes: {e}"),
            };
        let envelopes = changes
            .iter()
            .map(change_envelope)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| internal(&e))?;
        self.submit_batch(&envelopes)
            .await
            .map_err(|e| internal(&e))?;
        Ok(())
    }
}
