//! Odoo as a source: the accounting changes made in Odoo, by whoever made them (an accountant
//! registering a payment, posting a credit note, cancelling an invoice), read incrementally so
//! that they reach the CRM and the trace like the changes the flows make themselves.
//!
//! [`OdooChanges`] is a core [`Feed`] of [`OdooChange`]s, pulled with
//! [`Pipeline::pull_from`](odoo_connect_sync::pipeline::Pipeline::pull_from) from a committed
//! checkpoint and made into messages with [`Flows::odoo_change_envelope`]; the
//! `odoo.write-back` step ([`FlowStep::OdooWriteBack`](crate::FlowStep::OdooWriteBack)) writes
//! the invoice and payment status to the CRM deal of the contract and records
//! [`FlowEvent::OdooChanged`](crate::FlowEvent::OdooChanged) in the audit trail.
//!
//! # What is read
//!
//! | model | records | a change is |
//! |---|---|---|
//! | `account.move` | customer invoices and credit notes (`out_invoice`, `out_refund`), posted or cancelled | any write: posted, cancelled, reversed, `payment_state` moved (Odoo rewrites the invoice when a payment is reconciled with it or cancelled) |
//! | `account.payment` | customer payments received (`inbound`, `customer`), not drafts | registered (`in_process`, `paid`), cancelled or rejected |
//!
//! Drafts are left out: an invoice reset to draft is seen again when it is posted or cancelled.
//!
//! # The cursor
//!
//! Each model is read in `(write_date, id)` order after a mark: `write_date > t OR (t <=
//! write_date < t + 1s AND id > last_id)`, so records written in the same second are neither
//! lost nor read twice when a page ends between them (the second's range, rather than
//! `write_date = t`, holds even if a database kept sub-second times). Two things make the mark
//! alone unsafe, and the cursor handles both:
//!
//! - **A transaction that commits late.** Odoo stamps `write_date` with the time its transaction
//!   began (`cr.now()`), so a long transaction committing after a poll brings records *older*
//!   than the mark already passed. Every poll therefore starts again
//!   [`DEFAULT_OVERLAP`] (3 minutes) before the newest change seen: Odoo kills a request after
//!   `limit_time_real` (120 s by default, cron jobs included), so a transaction still open that
//!   long ago has been rolled back; raise it with [`OdooChanges::overlap`] when the server's limit
//!   is higher.
//! - **Second precision.** A record written twice in one second keeps the same `write_date`.
//!   The cursor keeps, for the overlap window, the changes delivered as `(id, write_date,
//!   fingerprint)`, the fingerprint being a hash of the fields that make the status (state,
//!   payment state, amounts, reconciled invoices): what is read again unchanged is skipped, a
//!   record whose status moved within the same second is delivered again.
//!
//! A change is thus delivered once by the feed; its message id is derived from the same triple
//! (`MessageId::derived`), so the queue also recognises a page read again after a crash.
//!
//! # Real time
//!
//! Polling every few minutes is enough for a CRM; for sooner, Odoo's automation rules post a
//! notification on each change to a [`webhook::Doorbell`] and [`OdooChanges::watch`] pulls at
//! once, the poll staying as the safety net (see [`webhook`]).

pub mod webhook;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use odoo_connect_canonical::{ContractKey, InvoiceEvent, InvoiceKey, Payment};
use odoo_connect_client::models::account::PaymentState;
use odoo_connect_client::models::{AccountMove, AccountMoveLine, Payment as OdooPayment};
use odoo_connect_client::{Domain, RecordId};
use odoo_connect_core::feed::Feed;
use odoo_connect_core::page::{Cursor, CursorError, Location, Page, Rejected};
use odoo_connect_core::retry::Retryable;
use odoo_connect_sync::envelope::{
    Effect, Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope, Lane, MessageId, Subject,
};
use odoo_connect_sync::store::{CheckpointKey, FactError, Facts, FactsExt, StoreError};

use odoo_connect_connectors::{Change, ChangeId, Record};
use odoo_connect_sync::step::{StepContext, StepResult};
use odoo_connect_sync::store::AuditEvent;
use serde_json::json;

use crate::mapping::{invoice as invoice_map, payment as payment_map};
use crate::{BookedContract, FlowMessage, Flows, correlation_for, order_subject};

/// The system name of the changes read from Odoo (`source` of their messages).
pub const ODOO_SOURCE: &str = "odoo";

/// How far before the newest change seen each poll reads again (see the [module](self)).
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(180);

/// The effect of an Odoo change's message, the last part of its idempotency key.
const SEEN: Effect = Effect::new("odoo-change");

const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// The Odoo model a change was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangedModel {
    /// A customer invoice or credit note (`account.move`).
    Invoice,
    /// A customer payment (`account.payment`).
    Payment,
}

impl ChangedModel {
    /// The Odoo model (`account.move`).
    pub fn odoo_model(self) -> &'static str {
        match self {
            ChangedModel::Invoice => "account.move",
            ChangedModel::Payment => "account.payment",
        }
    }

    /// The model read after this one in a poll, `None` after the last.
    fn next(self) -> Option<ChangedModel> {
        match self {
            ChangedModel::Invoice => Some(ChangedModel::Payment),
            ChangedModel::Payment => None,
        }
    }
}

/// Where a payment read from Odoo stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentStatus {
    /// Registered, not yet matched with the bank (`in_process`; `posted` up to Odoo 17).
    Registered,
    /// Paid: matched with the bank or reconciled (`paid`).
    Paid,
    /// Cancelled or rejected: the money did not come (`canceled`, `cancel`, `rejected`).
    Cancelled,
}

impl PaymentStatus {
    /// The status of Odoo's `state`.
    pub fn of(state: Option<&PaymentState>) -> PaymentStatus {
        match state {
            Some(PaymentState::Paid) => PaymentStatus::Paid,
            Some(PaymentState::Cancel | PaymentState::Canceled | PaymentState::Rejected) => {
                PaymentStatus::Cancelled
            }
            _ => PaymentStatus::Registered,
        }
    }

    /// The name (`paid`).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Registered => "registered",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Cancelled => "cancelled",
        }
    }
}

/// What a change read from Odoo says, in canonical terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OdooEvent {
    /// An invoice or credit note as it now is (its status, what is left to pay).
    Invoice {
        /// The invoice, read with [`mapping::invoice::from_odoo`](crate::mapping::invoice::from_odoo).
        invoice: Box<InvoiceEvent>,
    },
    /// A payment as it now is.
    Payment {
        /// The payment, read with [`mapping::payment::from_odoo`](crate::mapping::payment::from_odoo)
        /// (its allocations only when it settles one invoice: Odoo keeps the shares of several
        /// on the reconciliations).
        payment: Box<Payment>,
        /// Registered, paid or cancelled.
        status: PaymentStatus,
        /// The invoices it is reconciled with.
        invoices: Vec<InvoiceKey>,
    },
}

/// One change read from Odoo: the record, when it was written, what it now says, and the
/// contract it belongs to when one was booked for its sale order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OdooChange {
    /// The model.
    pub model: ChangedModel,
    /// The record's id.
    pub id: RecordId,
    /// Its `write_date`.
    pub write_date: DateTime<Utc>,
    /// A hash of the fields that make its status (see the [module](self)), in hex.
    pub fingerprint: String,
    /// The sale order numbers it concerns (an invoice's `invoice_origin`, the origins of the
    /// invoices a payment is reconciled with).
    #[serde(default)]
    pub orders: Vec<String>,
    /// The booked contract of those orders, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractKey>,
    /// What it says.
    pub event: OdooEvent,
}

impl OdooChange {
    /// The change's stable name, `account.move:57@2026-11-23 10:00:01#<fingerprint>`: the same
    /// however often it is read.
    pub fn stable_id(&self) -> String {
        format!(
            "{}:{}@{}#{}",
            self.model.odoo_model(),
            self.id.get(),
            self.write_date.format(DATETIME),
            self.fingerprint
        )
    }

    /// The version part of the change's keys: `2026-11-23 10:00:01#<fingerprint>`.
    pub fn version(&self) -> String {
        format!("{}#{}", self.write_date.format(DATETIME), self.fingerprint)
    }

    /// The change's message id, derived from [`OdooChange::stable_id`].
    pub fn message_id(&self) -> MessageId {
        MessageId::derived(&format!("{ODOO_SOURCE}:{}", self.stable_id()))
    }

    /// The idempotency key of what the flows do with the change.
    pub fn idempotency_key(&self) -> Result<IdempotencyKey, EnvelopeError> {
        IdempotencyKey::of(
            Subject::new(self.model.odoo_model(), &self.id.get().to_string()),
            self.version().as_str(),
            SEEN,
        )
    }
}

/// What a payment read from Odoo was found to pay, kept as a fact of the state store (kind
/// `odoo_payment`, by the payment's record) by the `odoo.write-back` step: once Odoo undoes the
/// reconciliation (a payment reset to draft, then cancelled, no longer lists its invoices when it
/// has a journal entry), its cancellation still reaches the deal it paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentPaid {
    /// The booked contract.
    pub contract: ContractKey,
    /// The sale order numbers of the invoices it paid.
    pub orders: Vec<String>,
}

impl odoo_connect_sync::store::Fact for PaymentPaid {
    /// `odoo_payment`: one per Odoo payment that paid a booked contract.
    const KIND: odoo_connect_sync::store::FactKind =
        odoo_connect_sync::store::FactKind::named("odoo_payment");
}

/// The subject of what an Odoo payment paid.
fn payment_subject(id: RecordId) -> Result<odoo_connect_sync::store::FactSubject, StoreError> {
    odoo_connect_sync::store::FactSubject::for_record("account.payment", &id.get().to_string())
}

/// Why a page of Odoo changes could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OdooSourceError {
    /// Odoo could not be read.
    #[error("Odoo could not be read")]
    Odoo(#[from] odoo_connect_client::Error),
    /// The bookings could not be read from the facts.
    #[error("the bookings could not be read")]
    Facts(#[from] FactError),
    /// The checkpoint is not a cursor of this feed.
    #[error("the checkpoint is not a cursor of the Odoo changes")]
    Cursor(#[from] CursorError),
}

impl Retryable for OdooSourceError {
    fn is_retryable(&self) -> bool {
        match self {
            OdooSourceError::Odoo(e) => e.is_retryable(),
            OdooSourceError::Facts(e) => e.is_retryable(),
            OdooSourceError::Cursor(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            OdooSourceError::Odoo(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// A point of a model's `(write_date, id)` order: the records after it are read next. `id` 0
/// stands for the start of the second `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Mark {
    #[serde(with = "naive")]
    at: NaiveDateTime,
    id: i64,
}

/// A change delivered, remembered while it may be read again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Seen {
    #[serde(with = "naive")]
    at: NaiveDateTime,
    id: i64,
    fp: String,
}

/// One record as the cursor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: i64,
    at: NaiveDateTime,
    fp: String,
}

/// Where one model's reading stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ModelCursor {
    /// The next read starts after this mark; `None`: from the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<Mark>,
    /// The newest change delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high: Option<Mark>,
    /// The changes delivered within the overlap before `high`.
    #[serde(default)]
    seen: BTreeSet<Seen>,
}

impl ModelCursor {
    /// The records after `from`.
    fn domain(&self) -> Domain {
        match self.from {
            None => Domain::new(),
            Some(Mark { at, id: 0 }) => Domain::new().ge("write_date", fmt(at)),
            Some(Mark { at, id }) => {
                let next = at + chrono::Duration::seconds(1);
                Domain::new().ge("write_date", fmt(next)).or(Domain::new()
                    .ge("write_date", fmt(at))
                    .lt("write_date", fmt(next))
                    .gt("id", id))
            }
        }
    }

    /// Takes a page of `rows` (read after `from`, in order, at most `limit`): returns which of
    /// them are new, and whether the model is read to the end. Read to the end, the cursor goes
    /// back `overlap` before the newest change, for the next poll.
    fn advance(&mut self, rows: &[Row], limit: usize, overlap: Duration) -> (Vec<bool>, bool) {
        let mut fresh = Vec::with_capacity(rows.len());
        for r in rows {
            let seen = Seen {
                at: r.at,
                id: r.id,
                fp: r.fp.clone(),
            };
            let mark = Mark { at: r.at, id: r.id };
            self.from = Some(mark);
            let new = !self.seen.contains(&seen);
            if new {
                self.seen.insert(seen);
                if self.high.is_none_or(|h| mark > h) {
                    self.high = Some(mark);
                }
            }
            fresh.push(new);
        }
        let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX);
        let floor = self
            .high
            .and_then(|h| h.at.checked_sub_signed(overlap))
            .unwrap_or(NaiveDateTime::MIN);
        self.seen.retain(|s| s.at >= floor);
        let done = rows.len() < limit;
        if done && self.high.is_some() {
            self.from = Some(Mark { at: floor, id: 0 });
        }
        (fresh, done)
    }
}

/// The whole feed's position: the model being read and each model's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct FeedState {
    /// The version of this form.
    v: u8,
    /// The model the next page reads (`None`: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reading: Option<ChangedModel>,
    #[serde(default)]
    invoices: ModelCursor,
    #[serde(default)]
    payments: ModelCursor,
}

impl FeedState {
    fn cursor(&mut self, model: ChangedModel) -> &mut ModelCursor {
        match model {
            ChangedModel::Invoice => &mut self.invoices,
            ChangedModel::Payment => &mut self.payments,
        }
    }
}

fn fmt(at: NaiveDateTime) -> String {
    at.format(DATETIME).to_string()
}

mod naive {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::fmt(*at))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveDateTime::parse_from_str(&text, super::DATETIME).map_err(serde::de::Error::custom)
    }
}

fn fingerprint(parts: &[String]) -> String {
    format!(
        "{:016x}",
        odoo_connect_core::hash::fnv1a64(parts.join("\u{1f}").as_bytes())
    )
}

fn move_fingerprint(mv: &AccountMove) -> String {
    fingerprint(&[
        mv.state
            .as_ref()
            .map(|s| s.as_str())
            .unwrap_or_default()
            .to_owned(),
        mv.payment_state
            .as_ref()
            .map(|s| s.as_str())
            .unwrap_or_default()
            .to_owned(),
        mv.name.clone().unwrap_or_default(),
        mv.amount_total.normalize().to_string(),
        mv.amount_residual.normalize().to_string(),
    ])
}

fn payment_fingerprint(p: &OdooPayment) -> String {
    let invoices: Vec<String> = p
        .reconciled_invoice_ids
        .iter()
        .map(|i| i.get().to_string())
        .collect();
    fingerprint(&[
        p.state
            .as_ref()
            .map(|s| s.as_str())
            .unwrap_or_default()
            .to_owned(),
        p.amount.normalize().to_string(),
        p.is_reconciled.to_string(),
        p.is_matched.to_string(),
        invoices.join(","),
    ])
}

/// The accounting changes made in Odoo, as a core [`Feed`] of [`OdooChange`]s (see the
/// [module](self) for what is read and how the cursor keeps ties and late commits).
///
/// It reads with the flows' client (in the legal entity's company) and maps with their
/// [`MappingContext`](crate::mapping::MappingContext); the contract of a change is found by its
/// sale order number in the flows' [`ContractBook`](crate::ContractBook) or, given
/// [`OdooChanges::with_facts`], in the bookings the state store keeps. A record that cannot be
/// read as a canonical document comes back in [`Page::rejected`].
///
/// ```no_run
/// # async fn run(flows: odoo_connect_flows::Flows) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use odoo_connect_flows::odoo_source::OdooChanges;
/// use odoo_connect_sync::store::memory::MemoryStore;
///
/// let store = Arc::new(MemoryStore::new());
/// let pipeline = flows.pipeline("contract-to-cash", store.clone()).build();
/// let changes = OdooChanges::new(&flows).with_facts(store.clone());
/// let report = pipeline
///     .pull_from(&changes, &changes.checkpoint_key(), |c| flows.odoo_change_envelope(c))
///     .await?;
/// println!("{} changes from Odoo", report.enqueued);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OdooChanges {
    flows: Flows,
    facts: Option<Arc<dyn Facts>>,
    overlap: Duration,
    since: Option<NaiveDateTime>,
}

impl std::fmt::Debug for OdooChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdooChanges")
            .field("overlap", &self.overlap)
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

impl OdooChanges {
    /// The changes Odoo holds for the flows' company, from the first record.
    pub fn new(flows: &Flows) -> OdooChanges {
        OdooChanges {
            flows: flows.clone(),
            facts: None,
            overlap: DEFAULT_OVERLAP,
            since: None,
        }
    }

    /// Finds the contracts of changes in the bookings `facts` keeps (the state store the
    /// lead-to-project flow records them in), as well as in the flows' book.
    pub fn with_facts<F: Facts + 'static>(mut self, facts: Arc<F>) -> OdooChanges {
        self.facts = Some(facts);
        self
    }

    /// Reads again this far before the newest change at each poll ([`DEFAULT_OVERLAP`]): at
    /// least the server's `limit_time_real`.
    pub fn overlap(mut self, overlap: Duration) -> OdooChanges {
        self.overlap = overlap;
        self
    }

    /// With no checkpoint yet, starts at the changes written at `since` or later instead of
    /// the first record.
    pub fn since(mut self, since: DateTime<Utc>) -> OdooChanges {
        self.since = Some(since.naive_utc());
        self
    }

    /// The checkpoint this feed's cursor is committed under: `odoo`, `accounting` and the flows'
    /// legal entity.
    pub fn checkpoint_key(&self) -> CheckpointKey {
        CheckpointKey::new(
            ODOO_SOURCE,
            "accounting",
            self.flows.inner.settings.legal_entity.clone(),
        )
    }

    async fn contract_of(&self, orders: &[String]) -> Result<Option<ContractKey>, FactError> {
        for order in orders {
            if let Some(b) = self.flows.inner.book.by_order_name(order) {
                return Ok(Some(b.contract.key));
            }
            let (Some(facts), Ok(subject)) = (&self.facts, order_subject(order)) else {
                continue;
            };
            if let Some(b) = facts.recall::<BookedContract>(&subject).await? {
                let key = b.contract.key.clone();
                self.flows.inner.book.insert(b);
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    async fn invoices(
        &self,
        cursor: &mut ModelCursor,
        limit: usize,
    ) -> Result<(Vec<OdooChange>, Vec<Rejected>, bool), OdooSourceError> {
        let odoo = self.flows.odoo_for(crate::FlowPath::Cash);
        let moves: Vec<AccountMove> = odoo
            .model::<AccountMove>()
            .search_read(
                Domain::new()
                    .is_in("move_type", ["out_invoice", "out_refund"])
                    .is_in("state", ["posted", "cancel"])
                    .and(cursor.domain()),
            )
            .order("write_date asc, id asc")
            .limit(limit)
            .await?;
        let rows = moves
            .iter()
            .map(|m| Row {
                id: m.id.get(),
                at: m.write_date.map(|w| w.naive_utc()).unwrap_or_default(),
                fp: move_fingerprint(m),
            })
            .collect::<Vec<_>>();
        let (fresh, done) = cursor.advance(&rows, limit, self.overlap);
        let moves: Vec<(AccountMove, String)> = moves
            .into_iter()
            .zip(rows)
            .zip(fresh)
            .filter(|(_, new)| *new)
            .map(|((m, r), _)| (m, r.fp))
            .collect();
        let ids: Vec<i64> = moves.iter().map(|(m, _)| m.id.get()).collect();
        let lines: Vec<AccountMoveLine> = if ids.is_empty() {
            Vec::new()
        } else {
            odoo.model::<AccountMoveLine>()
                .search_read(Domain::new().is_in("move_id", ids))
                .order("id")
                .await?
        };
        let mut out = Vec::new();
        let mut rejected = Vec::new();
        for (mv, fp) in moves {
            let own: Vec<AccountMoveLine> = lines
                .iter()
                .filter(|l| l.move_id.as_ref().is_some_and(|m| m.id == mv.id))
                .cloned()
                .collect();
            let invoice = match invoice_map::from_odoo(&mv, &own, &self.flows.inner.ctx) {
                Ok(i) => i,
                Err(e) => {
                    rejected.push(reject(ChangedModel::Invoice, mv.id, &e, &mv));
                    continue;
                }
            };
            let orders: Vec<String> = mv.invoice_origin.iter().cloned().collect();
            let contract = self.contract_of(&orders).await?;
            out.push(OdooChange {
                model: ChangedModel::Invoice,
                id: mv.id,
                write_date: mv.write_date.unwrap_or_default(),
                fingerprint: fp,
                orders,
                contract,
                event: OdooEvent::Invoice {
                    invoice: Box::new(invoice),
                },
            });
        }
        Ok((out, rejected, done))
    }

    async fn payments(
        &self,
        cursor: &mut ModelCursor,
        limit: usize,
    ) -> Result<(Vec<OdooChange>, Vec<Rejected>, bool), OdooSourceError> {
        let odoo = self.flows.odoo_for(crate::FlowPath::Cash);
        let payments: Vec<OdooPayment> = odoo
            .model::<OdooPayment>()
            .search_read(
                Domain::new()
                    .eq("payment_type", "inbound")
                    .eq("partner_type", "customer")
                    .ne("state", "draft")
                    .and(cursor.domain()),
            )
            .order("write_date asc, id asc")
            .limit(limit)
            .await?;
        let rows = payments
            .iter()
            .map(|p| Row {
                id: p.id.get(),
                at: p.write_date.map(|w| w.naive_utc()).unwrap_or_default(),
                fp: payment_fingerprint(p),
            })
            .collect::<Vec<_>>();
        let (fresh, done) = cursor.advance(&rows, limit, self.overlap);
        let payments: Vec<(OdooPayment, String)> = payments
            .into_iter()
            .zip(rows)
            .zip(fresh)
            .filter(|(_, new)| *new)
            .map(|((p, r), _)| (p, r.fp))
            .collect();
        let invoice_ids: BTreeSet<i64> = payments
            .iter()
            .flat_map(|(p, _)| p.reconciled_invoice_ids.iter().map(|i| i.get()))
            .collect();
        let origins: Vec<AccountMove> = if invoice_ids.is_empty() {
            Vec::new()
        } else {
            odoo.model::<AccountMove>()
                .read(
                    invoice_ids
                        .iter()
                        .copied()
                        .map(RecordId)
                        .collect::<Vec<_>>(),
                )
                .fields(["invoice_origin"])
                .await?
        };
        let mut out = Vec::new();
        let mut rejected = Vec::new();
        for (p, fp) in payments {
            let status = PaymentStatus::of(p.state.as_ref());
            // A cancelled payment is read as it was; its status says it was cancelled. Shares
            // of several invoices are not read: the invoices are listed instead.
            let mut readable = p.clone();
            if status == PaymentStatus::Cancelled {
                readable.state = None;
            }
            if readable.reconciled_invoice_ids.len() > 1 {
                readable.reconciled_invoice_ids.clear();
            }
            let payment = match payment_map::from_odoo(&readable, &self.flows.inner.ctx) {
                Ok(pay) => pay,
                Err(e) => {
                    rejected.push(reject(ChangedModel::Payment, p.id, &e, &p));
                    continue;
                }
            };
            let mut orders = Vec::new();
            for o in origins
                .iter()
                .filter(|m| p.reconciled_invoice_ids.contains(&m.id))
                .filter_map(|m| m.invoice_origin.clone())
            {
                if !orders.contains(&o) {
                    orders.push(o);
                }
            }
            let invoices = p
                .reconciled_invoice_ids
                .iter()
                .filter_map(|i| InvoiceKey::new(format!("odoo:account.move:{}", i.get())).ok())
                .collect();
            let mut contract = self.contract_of(&orders).await?;
            if contract.is_none()
                && let (Some(facts), Ok(subject)) = (&self.facts, payment_subject(p.id))
                && let Some(paid) = facts.recall::<PaymentPaid>(&subject).await?
            {
                contract = Some(paid.contract);
                orders = paid.orders;
            }
            out.push(OdooChange {
                model: ChangedModel::Payment,
                id: p.id,
                write_date: p.write_date.unwrap_or_default(),
                fingerprint: fp,
                orders,
                contract,
                event: OdooEvent::Payment {
                    payment: Box::new(payment),
                    status,
                    invoices,
                },
            });
        }
        Ok((out, rejected, done))
    }
}

fn reject<T: Serialize>(
    model: ChangedModel,
    id: RecordId,
    error: &crate::mapping::MappingError,
    raw: &T,
) -> Rejected {
    Rejected::new(
        Location::record(format!("{}:{}", model.odoo_model(), id.get())),
        error.to_string(),
        serde_json::to_string(raw).unwrap_or_default(),
    )
}

#[async_trait]
impl Feed for OdooChanges {
    type Item = OdooChange;
    type Error = OdooSourceError;

    fn system(&self) -> String {
        ODOO_SOURCE.to_owned()
    }

    async fn page(
        &self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<OdooChange>, OdooSourceError> {
        let mut state = match cursor {
            Some(c) => c.state::<FeedState>()?,
            None => {
                let mut s = FeedState::default();
                if let Some(since) = self.since {
                    for m in [ChangedModel::Invoice, ChangedModel::Payment] {
                        s.cursor(m).from = Some(Mark { at: since, id: 0 });
                    }
                }
                s
            }
        };
        let model = state.reading.unwrap_or(ChangedModel::Invoice);
        let limit = limit.max(1);
        let mut mc = std::mem::take(state.cursor(model));
        let (items, rejected, done) = match model {
            ChangedModel::Invoice => self.invoices(&mut mc, limit).await?,
            ChangedModel::Payment => self.payments(&mut mc, limit).await?,
        };
        *state.cursor(model) = mc;
        // The last model read to the end ends the poll; the next one starts again with the first.
        let has_more = !done || model.next().is_some();
        state.reading = if done { model.next() } else { Some(model) };
        let cursor = Cursor::from_state(&state)?;
        Ok(Page::new(items, Some(cursor), has_more).with_rejected(rejected))
    }
}

impl Flows {
    /// The changes Odoo holds for the flows' company ([`OdooChanges`]).
    pub fn odoo_changes(&self) -> OdooChanges {
        OdooChanges::new(self)
    }

    /// The message of a change read from Odoo: its message id and idempotency key derived from
    /// the change's stable id ([`OdooChange::message_id`]), from `odoo`, with the deal's
    /// correlation and on the contract's lane when the change's contract is known, else on the
    /// record's own lane.
    pub fn odoo_change_envelope(&self, change: &OdooChange) -> Result<JsonEnvelope, EnvelopeError> {
        let key = change.idempotency_key()?;
        let legal_entity = match &change.event {
            OdooEvent::Invoice { invoice } => invoice.legal_entity.clone(),
            OdooEvent::Payment { payment, .. } => payment.legal_entity.clone(),
        };
        let payload = serde_json::to_value(FlowMessage::OdooChange {
            change: Box::new(change.clone()),
        })
        .map_err(EnvelopeError::Payload)?;
        let mut builder = Envelope::builder(key, payload)
            .id(change.message_id())
            .source(ODOO_SOURCE)
            .occurred_at(change.write_date)
            .legal_entity(legal_entity);
        builder = match &change.contract {
            Some(c) => builder
                .correlation_id(correlation_for(c))
                .lane(Lane::for_record("contract", c.as_str())?),
            None => builder.lane(Lane::for_record(
                change.model.odoo_model(),
                &change.id.get().to_string(),
            )?),
        };
        builder.build()
    }
}

/// `odoo.write-back`: the status a change made in Odoo gives (an invoice's status and what is
/// left to pay; a payment received) written to the CRM deal of its contract through the flows'
/// [`Sink`](odoo_connect_connectors::Sink), and recorded as
/// [`FlowEvent::OdooChanged`](crate::FlowEvent::OdooChanged) whether or not a deal was found. A
/// cancelled payment is not written as money received: the invoices it paid are read again
/// (Odoo rewrites them on cancellation) and carry their new status. The CRM change id holds the
/// change's version, so a message run again writes nothing twice.
pub(crate) async fn write_back(f: &Flows, cx: &mut StepContext, change: &OdooChange) -> StepResult {
    let mut booked = None;
    if let Some(c) = &change.contract {
        booked = crate::recall(f, cx, Some(c), None).await?;
    }
    for order in &change.orders {
        if booked.is_some() {
            break;
        }
        booked = crate::recall_by_order(f, cx, order).await?;
    }
    if change.model == ChangedModel::Payment {
        let subject = payment_subject(change.id)?;
        match &booked {
            // What it paid, for when Odoo no longer says (see `PaymentPaid`).
            Some(b) if !change.orders.is_empty() => {
                let paid = PaymentPaid {
                    contract: b.contract.key.clone(),
                    orders: change.orders.clone(),
                };
                cx.facts().remember(&subject, &[], &paid).await?;
            }
            Some(_) => {}
            None => {
                if let Some(paid) = cx.facts().recall::<PaymentPaid>(&subject).await? {
                    booked = crate::recall(f, cx, Some(&paid.contract), None).await?;
                }
            }
        }
    }
    let (record, status, detail) = match &change.event {
        OdooEvent::Invoice { invoice } => (
            Some(Record::from((**invoice).clone())),
            invoice.status.to_string(),
            json!({"invoice": invoice.key.as_str(), "number": invoice.number,
                   "kind": invoice.kind, "amount_due": invoice.amount_due.to_string(),
                   "total": invoice.total.to_string()}),
        ),
        OdooEvent::Payment {
            payment,
            status,
            invoices,
        } => (
            (*status != PaymentStatus::Cancelled).then(|| Record::from((**payment).clone())),
            status.as_str().to_owned(),
            json!({"payment": payment.key.as_str(), "amount": payment.amount.to_string(),
                   "reference": payment.reference,
                   "invoices": invoices.iter().map(InvoiceKey::as_str).collect::<Vec<_>>()}),
        ),
    };
    let mut written = Vec::new();
    let crm = booked.as_ref().and_then(|b| b.crm.clone());
    if let (Some(sink), Some(crm), Some(record)) = (&f.inner.sink, &crm, record)
        && sink.accepts(record.kind())
    {
        let id = ChangeId::of(
            crm,
            record.kind(),
            &format!("{}@{}", record.key(), change.version()),
        );
        let outcome = sink
            .apply(&Change::new(id, crm.clone(), change.write_date, record))
            .await?;
        written.push(json!({"deal": crm.id, "outcome": outcome}));
    }
    cx.audit(
        AuditEvent::new(crate::FlowEvent::OdooChanged.into())
            .step(crate::FlowStep::OdooWriteBack.name())
            .actor(ODOO_SOURCE)
            .details(json!({
                "model": change.model.odoo_model(),
                "id": change.id.get(),
                "write_date": change.write_date.format(DATETIME).to_string(),
                "status": status,
                "contract": booked.as_ref().map(|b| b.contract.key.as_str().to_owned()),
                "record": detail,
                "deals": written,
            })),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, DATETIME).unwrap()
    }

    fn row(id: i64, t: &str, fp: &str) -> Row {
        Row {
            id,
            at: at(t),
            fp: fp.to_owned(),
        }
    }

    /// The rows of `table` a read from `cursor` returns: after its mark, in `(write_date, id)`
    /// order, at most `limit` (as the domain of `ModelCursor::domain` selects them).
    fn read(table: &[Row], cursor: &ModelCursor, limit: usize) -> Vec<Row> {
        let mut rows: Vec<Row> = table
            .iter()
            .filter(|r| match cursor.from {
                None => true,
                Some(Mark { at, id: 0 }) => r.at >= at,
                Some(Mark { at, id }) => (r.at, r.id) > (at, id),
            })
            .cloned()
            .collect();
        rows.sort_by_key(|r| (r.at, r.id));
        rows.truncate(limit);
        rows
    }

    /// One poll: pages until the model is read to the end; the ids delivered.
    fn poll(table: &[Row], cursor: &mut ModelCursor, limit: usize, overlap: u64) -> Vec<i64> {
        let mut out = Vec::new();
        loop {
            let rows = read(table, cursor, limit);
            let (fresh, done) = cursor.advance(&rows, limit, Duration::from_secs(overlap));
            out.extend(
                rows.iter()
                    .zip(fresh)
                    .filter(|(_, f)| *f)
                    .map(|(r, _)| r.id),
            );
            if done {
                return out;
            }
            // A cursor that went through JSON reads on the same.
            let json = serde_json::to_string(cursor).unwrap();
            *cursor = serde_json::from_str(&json).unwrap();
        }
    }

    #[test]
    fn ties_on_one_second_are_neither_lost_nor_repeated_across_pages() {
        let t = "2026-11-23 10:00:00";
        let table: Vec<Row> = (1..=7).map(|i| row(i, t, "a")).collect();
        let mut c = ModelCursor::default();
        // Pages of 3 end between records written in the same second.
        assert_eq!(poll(&table, &mut c, 3, 180), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(poll(&table, &mut c, 3, 180), Vec::<i64>::new());
    }

    #[test]
    fn a_late_commit_within_the_overlap_is_read_once() {
        let mut table = vec![
            row(1, "2026-11-23 10:00:00", "a"),
            row(2, "2026-11-23 10:01:00", "a"),
        ];
        let mut c = ModelCursor::default();
        assert_eq!(poll(&table, &mut c, 10, 180), vec![1, 2]);
        // A transaction begun at 10:00:30 commits now, older than the newest change seen.
        table.push(row(3, "2026-11-23 10:00:30", "a"));
        assert_eq!(poll(&table, &mut c, 1, 180), vec![3]);
        assert_eq!(poll(&table, &mut c, 1, 180), Vec::<i64>::new());
        // Without the overlap it would have been lost.
        let mut narrow = ModelCursor::default();
        let table2 = vec![
            row(1, "2026-11-23 10:00:00", "a"),
            row(2, "2026-11-23 10:01:00", "a"),
        ];
        poll(&table2, &mut narrow, 10, 0);
        let mut table3 = table2.clone();
        table3.push(row(3, "2026-11-23 10:00:30", "a"));
        assert_eq!(poll(&table3, &mut narrow, 10, 0), Vec::<i64>::new());
    }

    #[test]
    fn a_status_moved_within_the_same_second_is_delivered_again() {
        let mut table = vec![row(1, "2026-11-23 10:00:00", "posted")];
        let mut c = ModelCursor::default();
        assert_eq!(poll(&table, &mut c, 10, 180), vec![1]);
        table[0].fp = "paid".into();
        assert_eq!(poll(&table, &mut c, 10, 180), vec![1]);
        assert_eq!(poll(&table, &mut c, 10, 180), Vec::<i64>::new());
        // A later write is a new change.
        table[0].at = at("2026-11-23 10:05:00");
        assert_eq!(poll(&table, &mut c, 10, 180), vec![1]);
    }

    #[test]
    fn what_falls_out_of_the_overlap_is_forgotten() {
        let mut table = vec![row(1, "2026-11-23 10:00:00", "a")];
        let mut c = ModelCursor::default();
        poll(&table, &mut c, 10, 60);
        table.push(row(2, "2026-11-23 11:00:00", "a"));
        assert_eq!(poll(&table, &mut c, 10, 60), vec![2]);
        assert_eq!(c.seen.len(), 1, "{c:?}");
        assert_eq!(
            c.from,
            Some(Mark {
                at: at("2026-11-23 10:59:00"),
                id: 0
            })
        );
    }

    #[test]
    fn the_domain_reads_after_the_mark_within_its_second() {
        let c = ModelCursor {
            from: Some(Mark {
                at: at("2026-11-23 10:00:00"),
                id: 42,
            }),
            ..ModelCursor::default()
        };
        assert_eq!(
            c.domain().to_value(),
            serde_json::json!([
                "|",
                ["write_date", ">=", "2026-11-23 10:00:01"],
                "&",
                "&",
                ["write_date", ">=", "2026-11-23 10:00:00"],
                ["write_date", "<", "2026-11-23 10:00:01"],
                ["id", ">", 42]
            ])
        );
    }

    #[test]
    fn payment_status_of_odoo_states() {
        assert_eq!(
            PaymentStatus::of(Some(&PaymentState::Paid)),
            PaymentStatus::Paid
        );
        assert_eq!(
            PaymentStatus::of(Some(&PaymentState::Canceled)),
            PaymentStatus::Cancelled
        );
        assert_eq!(PaymentStatus::of(None), PaymentStatus::Registered);
    }
}
