//! The durable state of the sync layer, behind traits: a work queue, an idempotency ledger,
//! checkpoints, dead letters, an audit log and facts.
//!
//! The backends are submodules:
//!
//! | backend | feature | for |
//! | --- | --- | --- |
//! | [`memory::MemoryStore`] | always | tests, examples |
//! | `sqlite::SqliteStore` | `sqlite` (default) | one process: one file in WAL mode |
//! | `postgres::PostgresStore` | `postgres` | many workers on many machines |
//!
//! The SQL backends create and migrate their tables themselves and record the schema version in
//! a table of their own. Every backend passes the same conformance suite (`store_conformance` in
//! `odoo-connect-testkit`), which is what "correct" means for a new backend.
//!
//! All traits use [`async_trait`](mod@async_trait), so they can be held as generics or as `Arc<dyn StateStore>`;
//! their futures are `Send`. Time comes from a [`Clock`] given to the store ([`SystemClock`] by
//! default, a [`ManualClock`] in tests), so that lease expiry and retry delays can be tested without
//! sleeping.
//!
//! The records a backend returns ([`LeasedMessage`], [`Claim`], [`Checkpoint`], [`DeadLetter`],
//! ...) are plain structs with public fields, so a backend in another crate can build them; the
//! inputs ([`Failure`], [`AuditEvent`], the filters, [`StoreOptions`]) have constructors and may
//! grow fields.
//!
//! # Contracts
//! - **Queue.** A message is leased to one worker at a time. A lease that is neither acked, retried,
//!   dead-lettered nor extended by [`WorkQueue::heartbeat`] before it expires returns the message to
//!   the queue. Settling a message ([`WorkQueue::ack`], [`WorkQueue::retry_later`],
//!   [`WorkQueue::dead_letter`]) requires the [`Lease`] that leased it: a worker whose lease
//!   expired and whose message was leased again cannot settle it any more.
//! - **Lanes.** Only the oldest unfinished message of a [`Lane`] can be leased: while it is in
//!   flight or waiting for a retry, the messages behind it wait. A message that is done or
//!   dead-lettered no longer holds its lane. Order is enqueue order as the store saw it.
//! - **Ledger.** [`IdempotencyLedger::begin`] grants a [`Claim`] to one caller at a time per key;
//!   a claim that is neither completed nor released expires, and the next `begin` resumes it.
//!   Effects done under a claim must themselves be safe to repeat (an Odoo `load` with an external
//!   id derived from the key, or a state check), because a claim can expire while its holder is
//!   still working.
//! - **Checkpoints** move only by compare-and-set on their version; versions only grow.
//! - **Poison rows.** A queue row the store cannot decode is never handed out and never stops
//!   [`WorkQueue::lease`]: it is quarantined into the dead letters (class technical, reason
//!   `undecodable: ...`) with its raw stored bytes in [`DeadLetter::raw`], its lane is freed, and
//!   the rest is leased.
//! - **Facts** ([`Facts`]) are durable records of what is known about the world (a contract
//!   booked as this sale order and this project), written once under a typed key (a
//!   [`FactKind`] and a [`FactSubject`], with aliases): the first write wins. Keep there what
//!   later messages must find whenever they come; the ledger records effects, not knowledge, and
//!   is purged.
//! - **Retention.** Nothing is deleted except by the `purge_*` methods ([`RetentionPolicy`] runs
//!   them all): finished queue rows, done ledger entries, replayed dead letters and audit records
//!   older than a cutoff. Open dead letters, unfinished messages and ledger entries that are not
//!   done are never purged, and facts are never purged at all: no purge method or policy
//!   touches them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub mod memory;

#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

#[cfg(feature = "encryption")]
#[cfg_attr(docsrs, doc(cfg(feature = "encryption")))]
pub mod encrypted;

use crate::envelope::{CorrelationId, Envelope, IdempotencyKey, JsonEnvelope, Lane, MessageId};
use crate::key::LegalEntityKey;

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A boxed cause kept inside a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a state store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed; `retryable` tells whether the same call may succeed later
    /// (serialisation failure, deadlock, lost connection, `SQLITE_BUSY`).
    #[error("state store: {op} failed")]
    Backend {
        /// The operation that failed.
        op: &'static str,
        /// Whether trying again may succeed.
        retryable: bool,
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// Creating or migrating the store's tables failed.
    #[error("state store: migration to schema version {version} failed")]
    Migration {
        /// The version being applied.
        version: i64,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The database holds a newer schema than this release knows.
    #[error("state store: schema version {found} is newer than the supported {supported}")]
    UnsupportedSchema {
        /// Version found in the database.
        found: i64,
        /// Highest version this release knows.
        supported: i64,
    },
    /// A stored value could not be decoded.
    #[error("state store: stored {what} could not be decoded")]
    Corrupt {
        /// Which value.
        what: String,
        /// The cause, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A value could not be encoded for storage.
    #[error("state store: {what} could not be encoded")]
    Encode {
        /// Which value.
        what: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The lease is no longer held: it expired and the message was leased again, or the message
    /// was already settled.
    #[error("state store: lease on message {message_id} is no longer held")]
    LeaseLost {
        /// The message.
        message_id: MessageId,
    },
    /// The ledger claim is no longer held.
    #[error("state store: claim on idempotency key {key} is no longer held")]
    ClaimLost {
        /// The key.
        key: IdempotencyKey,
    },
    /// A checkpoint commit expected another version: another worker moved it first.
    #[error("state store: checkpoint is at version {actual}, not the expected {expected}")]
    CheckpointConflict {
        /// The version the caller based its commit on.
        expected: u64,
        /// The version stored.
        actual: u64,
    },
    /// No record with this id.
    #[error("state store: no {what} with id {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// An argument was out of range (for example a duration too large to add to a date).
    #[error("state store: invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// The backend does not offer this operation.
    #[error("state store: {what} is not supported by this backend")]
    Unsupported {
        /// The operation.
        what: &'static str,
    },
}

impl odoo_connect_core::retry::Retryable for StoreError {
    /// See [`StoreError::is_retryable`].
    fn is_retryable(&self) -> bool {
        StoreError::is_retryable(self)
    }
}

impl StoreError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Backend {
                retryable: true,
                ..
            }
        )
    }

    /// Whether a checkpoint commit lost a compare-and-set.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::CheckpointConflict { .. })
    }

    /// Whether a lease or a ledger claim was lost.
    pub fn is_lost(&self) -> bool {
        matches!(
            self,
            StoreError::LeaseLost { .. } | StoreError::ClaimLost { .. }
        )
    }

    /// Whether a record was not found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// A [`StoreError::Corrupt`] for `what`, with a cause.
    pub fn corrupt(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

pub use odoo_connect_core::clock::{
    Clock, ManualClock, SharedClock, SystemClock, truncate_to_micros,
};

/// `at + by`, or [`StoreError::InvalidArgument`] when it does not fit.
pub fn add_duration(at: DateTime<Utc>, by: Duration) -> StoreResult<DateTime<Utc>> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .map(truncate_to_micros)
        .ok_or_else(|| StoreError::InvalidArgument {
            reason: format!("duration {by:?} is out of range"),
        })
}

// ---------------------------------------------------------------------------------------------
// Options shared by all backends
// ---------------------------------------------------------------------------------------------

/// Options every backend accepts: the clock and the audit redactor.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Where the store gets the time from.
    pub clock: SharedClock,
    /// Applied to every audit event's details before it is stored.
    pub redactor: Redactor,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            redactor: Redactor::default(),
        }
    }
}

impl StoreOptions {
    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `redactor` for audit events.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

/// The text that replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

type CustomRedaction = Arc<dyn Fn(&mut Value) + Send + Sync>;

/// Blanks sensitive fields of an audit event's details before they are stored.
///
/// Paths are JSON pointers (RFC 6901); a segment `*` matches every key of an object and every
/// element of an array. A matched value is replaced by [`REDACTED`]; a path that matches nothing
/// is ignored. A custom function can be added for what paths cannot say.
///
/// ```
/// use odoo_connect_sync::store::Redactor;
/// use serde_json::json;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redactor = Redactor::new().path("/password")?.path("/accounts/*/iban")?;
/// let mut details = json!({"user": "ann", "password": "s3cret",
///                          "accounts": [{"iban": "BE68539007547034", "bank": "KBC"}]});
/// redactor.redact(&mut details);
/// assert_eq!(details, json!({"user": "ann", "password": "[redacted]",
///                            "accounts": [{"iban": "[redacted]", "bank": "KBC"}]}));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    paths: Vec<Vec<String>>,
    custom: Option<CustomRedaction>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("paths", &self.paths)
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl Redactor {
    /// A redactor that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a JSON pointer path to blank; it must start with `/`.
    pub fn path(mut self, pointer: &str) -> StoreResult<Self> {
        let rest = pointer
            .strip_prefix('/')
            .ok_or_else(|| StoreError::InvalidArgument {
                reason: format!("redaction path {pointer:?} is not a JSON pointer"),
            })?;
        let segments = rest
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        self.paths.push(segments);
        Ok(self)
    }

    /// Adds a function run after the paths are blanked.
    pub fn custom(mut self, f: impl Fn(&mut Value) + Send + Sync + 'static) -> Self {
        self.custom = Some(Arc::new(f));
        self
    }

    /// Blanks the configured paths in `value`.
    pub fn redact(&self, value: &mut Value) {
        for path in &self.paths {
            redact_path(value, path);
        }
        if let Some(f) = &self.custom {
            f(value);
        }
    }
}

fn redact_path(value: &mut Value, path: &[String]) {
    let Some((head, rest)) = path.split_first() else {
        *value = Value::String(REDACTED.to_owned());
        return;
    };
    match value {
        Value::Object(map) => {
            if head == "*" {
                for v in map.values_mut() {
                    redact_path(v, rest);
                }
            } else if let Some(v) = map.get_mut(head.as_str()) {
                redact_path(v, rest);
            }
        }
        Value::Array(items) => {
            if head == "*" {
                for v in items.iter_mut() {
                    redact_path(v, rest);
                }
            } else if let Some(v) = head.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                redact_path(v, rest);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Work queue
// ---------------------------------------------------------------------------------------------

/// Proof that a worker holds a message: needed to settle it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The leased message.
    pub message_id: MessageId,
    /// Changes on every lease, so a stale holder cannot settle a message leased again.
    pub token: Uuid,
    /// When the lease runs out unless extended.
    pub expires_at: DateTime<Utc>,
}

/// A message handed to a worker by [`WorkQueue::lease`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeasedMessage {
    /// The message.
    pub envelope: JsonEnvelope,
    /// The lease to settle it with.
    pub lease: Lease,
    /// Failed attempts so far (calls to [`WorkQueue::retry_later`]).
    pub attempts: u32,
    /// Times the message was leased, this lease included (a lease that expired counts).
    pub deliveries: u32,
    /// When the message was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// The error given with the last [`WorkQueue::retry_later`].
    pub last_error: Option<String>,
}

/// Where a message stands in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageState {
    /// Waiting to be leased (possibly behind an earlier message of its lane).
    Ready,
    /// Leased to a worker until `expires_at`.
    Leased {
        /// The worker.
        owner: String,
        /// When the lease runs out.
        expires_at: DateTime<Utc>,
    },
    /// Waiting for a retry, not before `not_before`.
    Scheduled {
        /// The earliest time it will be leased again.
        not_before: DateTime<Utc>,
    },
    /// Acked.
    Done {
        /// When.
        at: DateTime<Utc>,
    },
    /// Moved to the dead letters.
    DeadLettered {
        /// When.
        at: DateTime<Utc>,
    },
}

/// A message and its queue state, from [`WorkQueue::get`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    /// The message.
    pub envelope: JsonEnvelope,
    /// Its state.
    pub state: MessageState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Times leased.
    pub deliveries: u32,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// The last retry error.
    pub last_error: Option<String>,
}

/// Queue figures for metrics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Unfinished messages: ready, leased or scheduled.
    pub depth: u64,
    /// Messages under an unexpired lease.
    pub in_flight: u64,
    /// Messages waiting for a retry time.
    pub scheduled: u64,
    /// Enqueue time of the oldest unfinished message.
    pub oldest_enqueued_at: Option<DateTime<Utc>>,
}

impl QueueStats {
    /// Age of the oldest unfinished message at `now` (zero when the queue is empty).
    pub fn oldest_age(&self, now: DateTime<Utc>) -> Duration {
        self.oldest_enqueued_at
            .and_then(|t| (now - t).to_std().ok())
            .unwrap_or_default()
    }
}

/// The state a queue listing selects ([`QueueFilter::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum QueueState {
    /// Ready, leased or scheduled: not finished.
    Unfinished,
    /// Waiting to be leased.
    Ready,
    /// Under an unexpired lease.
    Leased,
    /// Waiting for a retry time.
    Scheduled,
    /// Acked.
    Done,
    /// Moved to the dead letters.
    DeadLettered,
}

impl QueueState {
    /// The name used on command lines and in JSON (`ready`, `dead_lettered`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Unfinished => "unfinished",
            QueueState::Ready => "ready",
            QueueState::Leased => "leased",
            QueueState::Scheduled => "scheduled",
            QueueState::Done => "done",
            QueueState::DeadLettered => "dead_lettered",
        }
    }

    /// Reads [`QueueState::as_str`]'s names (`dead-lettered` and `dead` are accepted too).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unfinished" => Some(QueueState::Unfinished),
            "ready" => Some(QueueState::Ready),
            "leased" => Some(QueueState::Leased),
            "scheduled" => Some(QueueState::Scheduled),
            "done" => Some(QueueState::Done),
            "dead_lettered" | "dead-lettered" | "dead" => Some(QueueState::DeadLettered),
            _ => None,
        }
    }

    /// Whether a message in `state` is selected.
    pub fn matches(self, state: &MessageState) -> bool {
        matches!(
            (self, state),
            (
                QueueState::Unfinished,
                MessageState::Ready | MessageState::Leased { .. } | MessageState::Scheduled { .. }
            ) | (QueueState::Ready, MessageState::Ready)
                | (QueueState::Leased, MessageState::Leased { .. })
                | (QueueState::Scheduled, MessageState::Scheduled { .. })
                | (QueueState::Done, MessageState::Done { .. })
                | (QueueState::DeadLettered, MessageState::DeadLettered { .. })
        )
    }
}

/// Selects queue messages for [`WorkQueue::list_messages`]; every set field must match.
/// Oldest (in enqueue order) first, one page at a time.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct QueueFilter {
    /// The state.
    pub state: Option<QueueState>,
    /// The flow: the payload's `flow` tag, or else the envelope's source, equals this.
    pub flow: Option<String>,
    /// The lane, exactly.
    pub lane: Option<Lane>,
    /// Enqueued before this time (messages older than an age).
    pub enqueued_before: Option<DateTime<Utc>>,
    /// Only messages after this cursor ([`QueuePage::next`]).
    pub after: Option<u64>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
}

impl QueueFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only in `state`.
    pub fn state(mut self, state: QueueState) -> Self {
        self.state = Some(state);
        self
    }

    /// Only of `flow` (payload `flow` tag or source).
    pub fn flow(mut self, flow: impl Into<String>) -> Self {
        self.flow = Some(flow.into());
        self
    }

    /// Only of `lane`.
    pub fn lane(mut self, lane: Lane) -> Self {
        self.lane = Some(lane);
        self
    }

    /// Only enqueued before `t`.
    pub fn enqueued_before(mut self, t: DateTime<Utc>) -> Self {
        self.enqueued_before = Some(t);
        self
    }

    /// Only after `cursor` (the [`QueuePage::next`] of the previous page).
    pub fn after(mut self, cursor: u64) -> Self {
        self.after = Some(cursor);
        self
    }

    /// At most `limit`.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit in force.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(100)
    }

    /// Whether a message passes every field but the cursor and the state (the reference
    /// semantics every backend follows).
    pub fn matches_envelope(&self, envelope: &JsonEnvelope, enqueued_at: DateTime<Utc>) -> bool {
        self.flow.as_ref().is_none_or(|f| flow_of(envelope) == f)
            && self.lane.as_ref().is_none_or(|l| &envelope.lane == l)
            && self.enqueued_before.is_none_or(|t| enqueued_at < t)
    }
}

/// The flow a message belongs to: its payload's `flow` tag when it has one, else its source.
pub fn flow_of(envelope: &JsonEnvelope) -> &str {
    envelope
        .payload
        .get("flow")
        .and_then(Value::as_str)
        .unwrap_or(&envelope.source)
}

/// A message of a queue listing.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    /// Its position in enqueue order (what cursors count).
    pub position: u64,
    /// The message and its state.
    pub message: QueuedMessage,
}

/// One page of [`WorkQueue::list_messages`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueuePage {
    /// The messages, oldest first.
    pub items: Vec<QueueEntry>,
    /// The cursor of the next page, when the page is full (there may be more).
    pub next: Option<u64>,
}

impl QueuePage {
    /// A page of `items` for a limit of `limit`.
    pub fn new(items: Vec<QueueEntry>, limit: usize) -> Self {
        let next = if items.len() >= limit && limit > 0 {
            items.last().map(|e| e.position)
        } else {
            None
        };
        Self { items, next }
    }
}

/// Whether a purge deletes or only counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PurgeMode {
    /// Delete, and count what was deleted.
    #[default]
    Delete,
    /// Count what would be deleted; delete nothing.
    DryRun,
}

impl PurgeMode {
    /// Whether nothing is deleted.
    pub fn is_dry_run(self) -> bool {
        self == PurgeMode::DryRun
    }
}

/// How long each kind of record is kept, for [`RetentionPolicy::purge`].
///
/// Open dead letters, unfinished messages and ledger entries that are not done are kept whatever
/// the policy says, and [`Facts`] are never purged. The ledger should be kept longer than a
/// message can be redelivered (a source read again from the start, a replay): it is what makes a
/// repeated effect a no-op. What must be found later, however late, is a fact, not a ledger
/// entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Done and dead-lettered queue rows (default 14 days).
    pub finished_messages: Duration,
    /// Done ledger entries, from their last change (default 90 days).
    pub ledger: Duration,
    /// Replayed dead letters, from their replay (default 90 days).
    pub replayed_dead_letters: Duration,
    /// Audit records (default 400 days).
    pub audit: Duration,
}

const DAY: u64 = 24 * 3600;

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            finished_messages: Duration::from_secs(14 * DAY),
            ledger: Duration::from_secs(90 * DAY),
            replayed_dead_letters: Duration::from_secs(90 * DAY),
            audit: Duration::from_secs(400 * DAY),
        }
    }
}

impl RetentionPolicy {
    /// Keeps finished queue rows for `d`.
    pub fn finished_messages(mut self, d: Duration) -> Self {
        self.finished_messages = d;
        self
    }

    /// Keeps done ledger entries for `d`.
    pub fn ledger(mut self, d: Duration) -> Self {
        self.ledger = d;
        self
    }

    /// Keeps replayed dead letters for `d`.
    pub fn replayed_dead_letters(mut self, d: Duration) -> Self {
        self.replayed_dead_letters = d;
        self
    }

    /// Keeps audit records for `d`.
    pub fn audit(mut self, d: Duration) -> Self {
        self.audit = d;
        self
    }

    /// Every period set to `d` (an operator's `--older-than`).
    pub fn uniform(d: Duration) -> Self {
        Self {
            finished_messages: d,
            ledger: d,
            replayed_dead_letters: d,
            audit: d,
        }
    }

    /// Purges every table of `store` by this policy, as of `now`; returns the counts per table.
    /// Facts are not purged.
    pub async fn purge<S: StateStore + ?Sized>(
        &self,
        store: &S,
        now: DateTime<Utc>,
        mode: PurgeMode,
    ) -> StoreResult<PurgeReport> {
        let cutoff = |d: Duration| {
            chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        Ok(PurgeReport {
            messages: store
                .purge_finished(cutoff(self.finished_messages), mode)
                .await?,
            ledger: store.purge_ledger(cutoff(self.ledger), mode).await?,
            dead_letters: store
                .purge_dead_letters(cutoff(self.replayed_dead_letters), mode)
                .await?,
            audit: store.purge_audit(cutoff(self.audit), mode).await?,
            dry_run: mode.is_dry_run(),
        })
    }
}

/// What [`RetentionPolicy::purge`] deleted (or would delete, in a dry run), per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurgeReport {
    /// Finished queue rows.
    pub messages: u64,
    /// Done ledger entries.
    pub ledger: u64,
    /// Replayed dead letters.
    pub dead_letters: u64,
    /// Audit records.
    pub audit: u64,
    /// Whether nothing was deleted.
    pub dry_run: bool,
}

/// The reason of a quarantined row's dead letter: `undecodable: ` and the decoding error.
pub fn undecodable_reason(error: &(dyn std::error::Error + 'static)) -> String {
    format!(
        "undecodable: {}",
        odoo_connect_core::error::chain_text(error)
    )
}

/// The envelope that stands for a queue row that could not be decoded: the row's id (when it
/// parses) and lane, source `undecodable`, payload `{"undecodable": true}`. The raw row is in
/// the dead letter's [`DeadLetter::raw`].
pub fn quarantine_envelope(id: Option<MessageId>, lane: &str) -> StoreResult<JsonEnvelope> {
    let id = id.unwrap_or_default();
    let text = format!("undecodable:{id}");
    let bad = |e: crate::envelope::EnvelopeError| StoreError::corrupt("quarantined row", e);
    let key = IdempotencyKey::new(text.clone()).map_err(bad)?;
    let lane = Lane::new(lane).unwrap_or_else(|_| Lane::for_key(&key));
    Envelope::builder(key, serde_json::json!({"undecodable": true}))
        .id(id)
        .correlation_id(CorrelationId::new(text).map_err(bad)?)
        .source("undecodable")
        .legal_entity(
            LegalEntityKey::new("unknown")
                .map_err(|e| StoreError::corrupt("quarantined row", e))?,
        )
        .occurred_at(DateTime::<Utc>::UNIX_EPOCH)
        .lane(lane)
        .build()
        .map_err(bad)
}

/// Whether a failure is a business exception or a technical fault; they are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// A business rule refused the message (for example "contract cap reached").
    Business,
    /// Something broke (a remote error, a bug, bad data).
    Technical,
}

impl FailureClass {
    /// `"business"` or `"technical"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Business => "business",
            FailureClass::Technical => "technical",
        }
    }

    /// Parses [`FailureClass::as_str`]'s text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "business" => Some(FailureClass::Business),
            "technical" => Some(FailureClass::Technical),
            _ => None,
        }
    }
}

/// Why a message failed for good.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Failure {
    /// Business or technical.
    pub class: FailureClass,
    /// A short reason, used to group dead letters (for example `"contract cap reached"`).
    pub reason: String,
    /// The error chain, outermost first.
    pub errors: Vec<String>,
    /// What the step knew when it failed (step name, target, call...).
    pub context: Value,
}

impl Failure {
    /// A failure of `class` with a short reason and no error chain.
    pub fn new(class: FailureClass, reason: impl Into<String>) -> Self {
        Self {
            class,
            reason: reason.into(),
            errors: Vec::new(),
            context: Value::Null,
        }
    }

    /// A technical failure whose reason is the error's message and whose chain is the error and
    /// its sources.
    pub fn from_error(class: FailureClass, error: &(dyn std::error::Error + 'static)) -> Self {
        let errors = odoo_connect_core::error::chain(error)
            .map(ToString::to_string)
            .collect();
        Self {
            class,
            reason: error.to_string(),
            errors,
            context: Value::Null,
        }
    }

    /// Sets the error chain.
    pub fn with_errors(mut self, errors: Vec<String>) -> Self {
        self.errors = errors;
        self
    }

    /// Sets the context.
    pub fn with_context(mut self, context: Value) -> Self {
        self.context = context;
        self
    }
}

/// A queue of messages leased to workers, with per-lane ordering.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Adds messages in the order given; a message whose id is already known (in the queue, done
    /// or dead-lettered) is ignored. Returns how many were added.
    async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize>;

    /// Adds one message; `false` when its id was already known.
    async fn enqueue(&self, message: &JsonEnvelope) -> StoreResult<bool> {
        Ok(self.enqueue_batch(std::slice::from_ref(message)).await? == 1)
    }

    /// Leases up to `max` messages to `worker` for `lease_for`, oldest first, at most one per lane
    /// and only the oldest unfinished message of each lane.
    async fn lease(
        &self,
        worker: &str,
        max: usize,
        lease_for: Duration,
    ) -> StoreResult<Vec<LeasedMessage>>;

    /// Extends the given leases by `extend_for` from now; returns the leases still held, with
    /// their new expiry.
    async fn heartbeat(&self, leases: &[Lease], extend_for: Duration) -> StoreResult<Vec<Lease>>;

    /// Marks the messages done; returns the ids acked (a lease no longer held is left out).
    async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>>;

    /// Marks one message done, or fails with [`StoreError::LeaseLost`].
    async fn ack_one(&self, lease: &Lease) -> StoreResult<()> {
        let acked = self.ack(std::slice::from_ref(lease)).await?;
        if acked.contains(&lease.message_id) {
            Ok(())
        } else {
            Err(StoreError::LeaseLost {
                message_id: lease.message_id,
            })
        }
    }

    /// Releases the message for a new attempt after `delay`, counting a failed attempt and keeping
    /// `error`; it keeps its place at the head of its lane.
    async fn retry_later(&self, lease: &Lease, delay: Duration, error: &str) -> StoreResult<()>;

    /// Moves the message to the dead letters (in one transaction) and frees its lane.
    async fn dead_letter(&self, lease: &Lease, failure: Failure) -> StoreResult<DeadLetterId>;

    /// The message and its state, done and dead-lettered messages included.
    async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>>;

    /// Queue figures for metrics.
    async fn stats(&self) -> StoreResult<QueueStats>;

    /// Gives leased messages back without counting a failed attempt (a worker shutting down);
    /// they keep their place at the head of their lanes. Returns the ids released (a lease no
    /// longer held is left out). The default counts an attempt through
    /// [`WorkQueue::retry_later`]; backends override it.
    async fn release(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        let mut out = Vec::with_capacity(leases.len());
        for lease in leases {
            match self
                .retry_later(lease, Duration::ZERO, "released by a stopping worker")
                .await
            {
                Ok(()) => out.push(lease.message_id),
                Err(StoreError::LeaseLost { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// One page of the messages `filter` selects, oldest first.
    async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
        let _ = filter;
        Err(StoreError::Unsupported {
            what: "listing the queue",
        })
    }

    /// Deletes done and dead-lettered messages finished before `before` (the dead letter keeps
    /// the envelope); returns how many (in a dry run, how many would be). A message id purged
    /// here is accepted again by `enqueue`: the ledger, kept longer, keeps its effects from
    /// repeating. The default keeps everything.
    async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let _ = (before, mode);
        Ok(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Idempotency ledger
// ---------------------------------------------------------------------------------------------

/// The right to perform one effect, granted by [`IdempotencyLedger::begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The effect.
    pub key: IdempotencyKey,
    /// Changes on every grant.
    pub token: Uuid,
    /// This attempt's number, from 1.
    pub attempts: u32,
    /// When the claim runs out unless completed or released.
    pub claimed_until: DateTime<Utc>,
}

/// The answer of [`IdempotencyLedger::begin`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Begin {
    /// First attempt: perform the effect, then complete the claim.
    New(Claim),
    /// An earlier attempt was released or its claim expired: it may have applied the effect, so
    /// look the result up (by external id) before creating, then complete the claim.
    Resumed {
        /// The claim.
        claim: Claim,
        /// The error recorded by the earlier attempt, if any.
        last_error: Option<String>,
    },
    /// Another worker holds the claim: do nothing now and try later.
    InFlight {
        /// Attempts so far.
        attempts: u32,
        /// When that claim runs out.
        claimed_until: DateTime<Utc>,
    },
    /// The effect was applied; its recorded outcome.
    Done {
        /// What [`IdempotencyLedger::complete`] recorded.
        outcome: Value,
    },
}

/// State of a ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    /// A claim was granted and not settled.
    InFlight,
    /// The effect was applied.
    Done,
    /// The claim was released to be tried again.
    Abandoned,
    /// The attempt failed; a later `begin` may still try again (for example a replay).
    Failed,
}

/// A ledger entry, for inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// The effect.
    pub key: IdempotencyKey,
    /// Its state.
    pub state: LedgerState,
    /// The intent recorded by the last `begin`.
    pub intent: Value,
    /// The outcome, once done.
    pub outcome: Option<Value>,
    /// Attempts so far.
    pub attempts: u32,
    /// The last recorded error.
    pub last_error: Option<String>,
    /// When the current claim runs out (meaningful while in flight).
    pub claimed_until: DateTime<Utc>,
    /// When the entry was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Records intents before effects and outcomes after, so that each effect happens once.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::envelope::IdempotencyKey;
/// use odoo_connect_sync::store::{Begin, IdempotencyLedger};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project")?;
/// let claim = match store.begin(&key, &json!({"create": "project"}), Duration::from_secs(60)).await? {
///     Begin::New(claim) => claim,
///     other => panic!("unexpected {other:?}"),
/// };
/// // ... create the project in Odoo through an external id derived from the key ...
/// store.complete(&claim, &json!({"project_id": 7})).await?;
/// let again = store.begin(&key, &json!({}), Duration::from_secs(60)).await?;
/// assert_eq!(again, Begin::Done { outcome: json!({"project_id": 7}) });
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait IdempotencyLedger: Send + Sync {
    /// The ledger's time, from the store's [`Clock`] (a claim's expiry is on this clock, so a
    /// wait until it expires is measured on it too). By default the system clock.
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now()
    }

    /// Records the intent to perform the effect `key` and claims it for `claim_for`, unless it is
    /// done or claimed by someone else. Of concurrent callers, exactly one gets a claim.
    async fn begin(
        &self,
        key: &IdempotencyKey,
        intent: &Value,
        claim_for: Duration,
    ) -> StoreResult<Begin>;

    /// [`IdempotencyLedger::begin`] for several effects at once (one round trip and one commit
    /// on the SQL backends); the answers are in the order of `requests`. A key given twice gets
    /// its claim once and [`Begin::InFlight`] the second time.
    async fn begin_many(
        &self,
        requests: &[(IdempotencyKey, Value)],
        claim_for: Duration,
    ) -> StoreResult<Vec<Begin>> {
        let mut out = Vec::with_capacity(requests.len());
        for (key, intent) in requests {
            out.push(self.begin(key, intent, claim_for).await?);
        }
        Ok(out)
    }

    /// Records that the effect was applied with `outcome`. Completing a key that is already done
    /// keeps the first outcome and succeeds.
    async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()>;

    /// [`IdempotencyLedger::complete`] for several claims at once (one statement on the SQL
    /// backends).
    async fn complete_many(&self, completions: &[(Claim, Value)]) -> StoreResult<()> {
        for (claim, outcome) in completions {
            self.complete(claim, outcome).await?;
        }
        Ok(())
    }

    /// Releases the claim so a later `begin` may try again; [`StoreError::ClaimLost`] when the
    /// claim is no longer held.
    async fn abandon(&self, claim: &Claim, reason: Option<&str>) -> StoreResult<()>;

    /// Records a failed attempt and releases the claim ([`LedgerState::Failed`]);
    /// [`StoreError::ClaimLost`] when the claim is no longer held.
    async fn fail(&self, claim: &Claim, error: &str) -> StoreResult<()>;

    /// The entry for `key`.
    async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>>;

    /// Deletes done entries last changed before `before`; entries in flight, abandoned or
    /// failed are kept (their effect may be half done). Returns how many (in a dry run, how
    /// many would be). The default keeps everything.
    async fn purge_ledger(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let _ = (before, mode);
        Ok(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/// Names one cursor: a connector's stream for one legal entity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CheckpointKey {
    /// The connector (for example `hubspot`).
    pub connector: String,
    /// The stream (for example `deals`).
    pub stream: String,
    /// The legal entity.
    pub legal_entity: LegalEntityKey,
}

impl CheckpointKey {
    /// A key.
    pub fn new(
        connector: impl Into<String>,
        stream: impl Into<String>,
        legal_entity: LegalEntityKey,
    ) -> Self {
        Self {
            connector: connector.into(),
            stream: stream.into(),
            legal_entity,
        }
    }
}

/// A stored cursor and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The cursor, opaque to the store; `None` after a reset (start from the beginning).
    pub cursor: Option<Value>,
    /// Grows by one on every commit and reset; 0 means never committed.
    pub version: u64,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Cursors per (connector, stream, legal entity), moved by compare-and-set.
#[async_trait]
pub trait Checkpoints: Send + Sync {
    /// The checkpoint, if one was ever committed or reset.
    async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>>;

    /// Stores `cursor` if the stored version is `expected_version` (0 when there is none yet) and
    /// returns the new checkpoint (version `expected_version + 1`); otherwise fails with
    /// [`StoreError::CheckpointConflict`]. Commit only after the effects before the cursor are
    /// durable.
    async fn commit_checkpoint(
        &self,
        key: &CheckpointKey,
        expected_version: u64,
        cursor: &Value,
    ) -> StoreResult<Checkpoint>;

    /// Clears the cursor for a full refresh; the version still grows, so a worker that read the
    /// old version cannot commit over the reset.
    async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint>;
}

// ---------------------------------------------------------------------------------------------
// Dead letters
// ---------------------------------------------------------------------------------------------

/// Identifies a dead letter (a UUID v7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeadLetterId(Uuid);

impl DeadLetterId {
    /// A new id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps a UUID.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for DeadLetterId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who replayed a dead letter and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The person or process.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The message enqueued for the replay, if any.
    pub message_id: Option<MessageId>,
}

/// A parked message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Its id.
    pub id: DeadLetterId,
    /// The message as it was.
    pub envelope: JsonEnvelope,
    /// Why it failed.
    pub failure: Failure,
    /// Failed attempts, the last one included.
    pub attempts: u32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// The last replay, if it was replayed.
    pub replay: Option<Replay>,
    /// The stored bytes of a queue row that could not be decoded (then `envelope` only stands
    /// for it: see [`quarantine_envelope`]); `None` for every other dead letter.
    pub raw: Option<Vec<u8>>,
}

impl DeadLetter {
    /// Whether this is a quarantined row that could not be decoded.
    pub fn is_quarantined(&self) -> bool {
        self.raw.is_some()
    }
}

/// Selects dead letters; every set field must match. Oldest first.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DeadLetterFilter {
    /// Source system, exactly.
    pub source: Option<String>,
    /// Text the reason contains (ASCII case ignored).
    pub reason_contains: Option<String>,
    /// Parked at or after.
    pub parked_from: Option<DateTime<Utc>>,
    /// Parked before.
    pub parked_until: Option<DateTime<Utc>>,
    /// Lane, exactly.
    pub lane: Option<Lane>,
    /// Idempotency key, exactly.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Failure class.
    pub class: Option<FailureClass>,
    /// `Some(false)`: not yet replayed; `Some(true)`: replayed; `None`: both.
    pub replayed: Option<bool>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
}

impl DeadLetterFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only from `source`.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Only reasons containing `text`.
    pub fn reason_contains(mut self, text: impl Into<String>) -> Self {
        self.reason_contains = Some(text.into());
        self
    }

    /// Only parked in `[from, until)`.
    pub fn parked_between(mut self, from: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.parked_from = Some(from);
        self.parked_until = Some(until);
        self
    }

    /// Only of `lane`.
    pub fn lane(mut self, lane: Lane) -> Self {
        self.lane = Some(lane);
        self
    }

    /// Only of `key`.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Only of `class`.
    pub fn class(mut self, class: FailureClass) -> Self {
        self.class = Some(class);
        self
    }

    /// Only replayed (`true`) or not replayed (`false`).
    pub fn replayed(mut self, replayed: bool) -> Self {
        self.replayed = Some(replayed);
        self
    }

    /// At most `limit`.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit in force.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(100)
    }

    /// Whether `dl` passes the filter (the reference semantics every backend follows).
    pub fn matches(&self, dl: &DeadLetter) -> bool {
        let e = &dl.envelope;
        self.source.as_ref().is_none_or(|s| &e.source == s)
            && self.reason_contains.as_ref().is_none_or(|t| {
                dl.failure
                    .reason
                    .to_ascii_lowercase()
                    .contains(&t.to_ascii_lowercase())
            })
            && self.parked_from.is_none_or(|t| dl.parked_at >= t)
            && self.parked_until.is_none_or(|t| dl.parked_at < t)
            && self.lane.as_ref().is_none_or(|l| &e.lane == l)
            && self
                .idempotency_key
                .as_ref()
                .is_none_or(|k| &e.idempotency_key == k)
            && self.class.is_none_or(|c| dl.failure.class == c)
            && self.replayed.is_none_or(|r| dl.replay.is_some() == r)
    }
}

/// Open (not replayed) dead letters sharing a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// The class.
    pub class: FailureClass,
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: u64,
}

/// Messages that failed for good, kept for inspection and replay.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Parks a message that did not come through the queue (or outside a lease).
    async fn park(
        &self,
        envelope: &JsonEnvelope,
        failure: Failure,
        attempts: u32,
    ) -> StoreResult<DeadLetterId>;

    /// One dead letter.
    async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>>;

    /// Dead letters matching `filter`, oldest first.
    async fn list_dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>>;

    /// Records that the dead letter was replayed by `actor` (as message `message_id` when it was
    /// enqueued again); the record is kept. [`StoreError::NotFound`] for an unknown id.
    async fn mark_replayed(
        &self,
        id: DeadLetterId,
        actor: &str,
        message_id: Option<MessageId>,
    ) -> StoreResult<()>;

    /// Open dead letters counted by class and reason, most frequent first.
    async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>>;

    /// Deletes dead letters replayed before `before`; open dead letters are never deleted.
    /// Returns how many (in a dry run, how many would be). The default keeps everything.
    async fn purge_dead_letters(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let _ = (before, mode);
        Ok(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/// What an audit event records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// A message entered the sync.
    MessageReceived,
    /// A step finished with an outcome.
    StepOutcome,
    /// A credential was used (its label, never its secret).
    CredentialUsed,
    /// A message was parked in the dead letters.
    DeadLettered,
    /// A person replayed a message.
    ManualReplay,
    /// A person overrode a decision.
    ManualOverride,
    /// An exactly-once effect was applied ([`crate::effect`]): the record created or found.
    EffectApplied,
    /// Anything else, named (a pipeline's own events; give them a type of your own that converts
    /// into this, as the contract-to-cash flows do).
    Other(String),
}

impl AuditKind {
    /// The stored name.
    pub fn as_str(&self) -> &str {
        match self {
            AuditKind::MessageReceived => "message_received",
            AuditKind::StepOutcome => "step_outcome",
            AuditKind::CredentialUsed => "credential_used",
            AuditKind::DeadLettered => "dead_lettered",
            AuditKind::ManualReplay => "manual_replay",
            AuditKind::ManualOverride => "manual_override",
            AuditKind::EffectApplied => "effect_applied",
            AuditKind::Other(s) => s,
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Self {
        match s {
            "message_received" => AuditKind::MessageReceived,
            "step_outcome" => AuditKind::StepOutcome,
            "credential_used" => AuditKind::CredentialUsed,
            "dead_lettered" => AuditKind::DeadLettered,
            "manual_replay" => AuditKind::ManualReplay,
            "manual_override" => AuditKind::ManualOverride,
            "effect_applied" => AuditKind::EffectApplied,
            other => AuditKind::Other(other.to_owned()),
        }
    }
}

/// One audit event, before it is stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// The chain it belongs to.
    pub correlation_id: Option<CorrelationId>,
    /// The effect.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The message.
    pub message_id: Option<MessageId>,
    /// The person or process that acted (for manual actions).
    pub actor: Option<String>,
    /// The label of the credential used.
    pub credential_label: Option<String>,
    /// The step.
    pub step: Option<String>,
    /// The step's outcome (for example `done`, `held: contract cap reached`).
    pub outcome: Option<String>,
    /// Anything else; passed through the store's [`Redactor`] before it is stored.
    pub details: Value,
}

impl AuditEvent {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: AuditKind) -> Self {
        Self {
            kind,
            correlation_id: None,
            idempotency_key: None,
            message_id: None,
            actor: None,
            credential_label: None,
            step: None,
            outcome: None,
            details: Value::Null,
        }
    }

    /// Sets the correlation id, idempotency key and message id from an envelope.
    pub fn for_envelope<T>(mut self, envelope: &crate::envelope::Envelope<T>) -> Self {
        self.correlation_id = Some(envelope.correlation_id.clone());
        self.idempotency_key = Some(envelope.idempotency_key.clone());
        self.message_id = Some(envelope.id);
        self
    }

    /// Sets the correlation id.
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Sets the message id.
    pub fn message_id(mut self, id: MessageId) -> Self {
        self.message_id = Some(id);
        self
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Sets the credential label.
    pub fn credential_label(mut self, label: impl Into<String>) -> Self {
        self.credential_label = Some(label.into());
        self
    }

    /// Sets the step.
    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = Some(outcome.into());
        self
    }

    /// Sets the details.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Position in the log; grows with every append.
    pub seq: u64,
    /// When it was appended.
    pub at: DateTime<Utc>,
    /// The event, redacted.
    pub event: AuditEvent,
}

/// Selects audit records; every set field must match. In append order.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Correlation id.
    pub correlation_id: Option<CorrelationId>,
    /// Idempotency key.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Message id.
    pub message_id: Option<MessageId>,
    /// Appended at or after.
    pub from: Option<DateTime<Utc>>,
    /// Appended before.
    pub until: Option<DateTime<Utc>>,
    /// Only records after this sequence number (for paging).
    pub after_seq: Option<u64>,
    /// At most this many (default 1000).
    pub limit: Option<usize>,
}

impl AuditQuery {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only of this correlation id.
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Only of this idempotency key.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Only of this message.
    pub fn message_id(mut self, id: MessageId) -> Self {
        self.message_id = Some(id);
        self
    }

    /// Only appended in `[from, until)`.
    pub fn between(mut self, from: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.from = Some(from);
        self.until = Some(until);
        self
    }

    /// Only after `seq`.
    pub fn after_seq(mut self, seq: u64) -> Self {
        self.after_seq = Some(seq);
        self
    }

    /// At most `limit`.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit in force.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(1000)
    }

    /// Whether `r` passes the query (the reference semantics every backend follows).
    pub fn matches(&self, r: &AuditRecord) -> bool {
        let e = &r.event;
        self.correlation_id
            .as_ref()
            .is_none_or(|c| e.correlation_id.as_ref() == Some(c))
            && self
                .idempotency_key
                .as_ref()
                .is_none_or(|k| e.idempotency_key.as_ref() == Some(k))
            && self.message_id.is_none_or(|m| e.message_id == Some(m))
            && self.from.is_none_or(|t| r.at >= t)
            && self.until.is_none_or(|t| r.at < t)
            && self.after_seq.is_none_or(|s| r.seq > s)
    }
}

/// An append-only log of what happened to messages.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an event (its details redacted first); returns its sequence number.
    async fn append(&self, event: AuditEvent) -> StoreResult<u64>;

    /// Appends several events in order, in one transaction where the backend has them.
    async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        for e in events {
            self.append(e).await?;
        }
        Ok(())
    }

    /// Records matching `query`, in append order.
    async fn query_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;

    /// Deletes records appended before `before` (retention); the only way records leave the
    /// log. Returns how many (in a dry run, how many would be). The default keeps everything.
    async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let _ = (before, mode);
        Ok(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------------

/// Longest [`FactKind`] accepted, in bytes.
pub const MAX_FACT_KIND_LEN: usize = 64;
/// Longest [`FactSubject`] accepted, in bytes.
pub const MAX_FACT_SUBJECT_LEN: usize = 256;

const fn fact_kind_is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > MAX_FACT_KIND_LEN || !b[0].is_ascii_lowercase() {
        return false;
    }
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-' || c == b'.') {
            return false;
        }
        i += 1;
    }
    true
}

/// What a fact records, a name fixed in the code (`booking`): a lowercase ASCII letter, then
/// lowercase letters, digits, `_`, `-` or `.`, at most [`MAX_FACT_KIND_LEN`] bytes.
///
/// Declare each kind as a constant, so that a bad name fails the build:
///
/// ```
/// use odoo_connect_sync::store::FactKind;
///
/// const BOOKING: FactKind = FactKind::named("booking");
/// assert_eq!(BOOKING.as_str(), "booking");
/// assert!(FactKind::parse("Booking").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactKind(Cow<'static, str>);

impl FactKind {
    /// The kind named `name`.
    ///
    /// # Panics
    ///
    /// When `name` breaks the rules; in a `const` (as it is meant to be used) that is a build
    /// error, never a panic at run time. Use [`FactKind::parse`] for a name read from data.
    pub const fn named(name: &'static str) -> Self {
        assert!(
            fact_kind_is_valid(name),
            "a fact kind is [a-z][a-z0-9_.-]*, at most 64 bytes"
        );
        FactKind(Cow::Borrowed(name))
    }

    /// Validates a kind read from data (a command line); [`StoreError::InvalidArgument`] when it
    /// breaks the rules.
    pub fn parse(name: &str) -> StoreResult<Self> {
        if fact_kind_is_valid(name) {
            Ok(FactKind(Cow::Owned(name.to_owned())))
        } else {
            Err(StoreError::InvalidArgument {
                reason: format!(
                    "fact kind {name:?} must match [a-z][a-z0-9_.-]* (at most {MAX_FACT_KIND_LEN} bytes)"
                ),
            })
        }
    }

    /// The kind's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a fact is about, within its kind (`contract:hubspot-deal-1001`): non-empty, at most
/// [`MAX_FACT_SUBJECT_LEN`] bytes, printable, without leading or trailing whitespace, like the
/// other keys of the store.
///
/// ```
/// use odoo_connect_sync::store::FactSubject;
///
/// let s = FactSubject::for_record("sale_order", "S00042")?;
/// assert_eq!(s.as_str(), "sale_order:S00042");
/// // A colon in the id cannot make two records' subjects meet.
/// assert_eq!(FactSubject::for_record("project", "a:b")?.as_str(), "project:a%3Ab");
/// assert!(FactSubject::new(" padded").is_err());
/// # Ok::<(), odoo_connect_sync::store::StoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactSubject(String);

impl FactSubject {
    /// Validates a subject given as text; [`StoreError::InvalidArgument`] when it breaks the
    /// rules.
    pub fn new(subject: impl Into<String>) -> StoreResult<Self> {
        let subject = subject.into();
        let problem = if subject.is_empty() {
            Some("empty")
        } else if subject.len() > MAX_FACT_SUBJECT_LEN {
            Some("too long")
        } else if subject.chars().any(char::is_control) {
            Some("contains a control character")
        } else if subject.trim() != subject {
            Some("leading or trailing whitespace")
        } else {
            None
        };
        match problem {
            None => Ok(FactSubject(subject)),
            Some(reason) => Err(StoreError::InvalidArgument {
                reason: format!("fact subject {subject:?}: {reason}"),
            }),
        }
    }

    /// The subject of record `id` of `entity` (a name fixed in the code): `entity:id`, with `%`
    /// and `:` in either part escaped (`%25`, `%3A`) as in idempotency keys and lanes, so that
    /// the subjects of two records never meet.
    pub fn for_record(entity: &'static str, id: &str) -> StoreResult<Self> {
        let escape = |p: &str| p.replace('%', "%25").replace(':', "%3A");
        Self::new(format!("{}:{}", escape(entity), escape(id)))
    }

    /// The subject as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FactSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names one fact: its kind and its subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactKey {
    /// What the fact records.
    pub kind: FactKind,
    /// What it is about.
    pub subject: FactSubject,
}

impl FactKey {
    /// The key of the fact of `kind` about `subject`.
    pub fn new(kind: FactKind, subject: FactSubject) -> Self {
        Self { kind, subject }
    }
}

impl fmt::Display for FactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.subject)
    }
}

/// A recorded fact, as [`Facts`] returns it: the value as JSON, or typed as `T` by
/// [`FactsExt`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFact<T = Value> {
    /// What the fact records.
    pub kind: FactKind,
    /// The subject it was recorded under (when it was read by an alias, not the alias).
    pub subject: FactSubject,
    /// What is known.
    pub value: T,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Its position in recording order (what [`FactFilter::after`] counts).
    pub position: u64,
}

impl<T> StoredFact<T> {
    /// The same fact with its value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> StoredFact<U> {
        StoredFact {
            kind: self.kind,
            subject: self.subject,
            value: f(self.value),
            recorded_at: self.recorded_at,
            position: self.position,
        }
    }
}

/// The answer of [`Facts::record_fact`]: the fact was new, or one was known under the key and is
/// kept (the first write wins).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Recorded<T = Value> {
    /// The fact was recorded now.
    New(StoredFact<T>),
    /// A fact was already known under the key; it is kept and returned, the new value dropped.
    Existing(StoredFact<T>),
}

impl<T> Recorded<T> {
    /// Whether the fact was recorded by this call.
    pub fn is_new(&self) -> bool {
        matches!(self, Recorded::New(_))
    }

    /// The fact stored under the key (the new one, or the one kept).
    pub fn fact(&self) -> &StoredFact<T> {
        match self {
            Recorded::New(f) | Recorded::Existing(f) => f,
        }
    }

    /// [`Recorded::fact`], by value.
    pub fn into_fact(self) -> StoredFact<T> {
        match self {
            Recorded::New(f) | Recorded::Existing(f) => f,
        }
    }
}

/// Selects the facts of one kind for [`Facts::list_facts`], in recording order, one page at a
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FactFilter {
    /// The kind.
    pub kind: FactKind,
    /// Only facts after this position ([`FactPage::next`]).
    pub after: Option<u64>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
}

impl FactFilter {
    /// Every fact of `kind`.
    pub fn kind(kind: FactKind) -> Self {
        Self {
            kind,
            after: None,
            limit: None,
        }
    }

    /// Only after `position` (the [`FactPage::next`] of the previous page).
    pub fn after(mut self, position: u64) -> Self {
        self.after = Some(position);
        self
    }

    /// At most `limit`.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit in force.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(100)
    }
}

/// One page of [`Facts::list_facts`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactPage<T = Value> {
    /// The facts, in recording order.
    pub items: Vec<StoredFact<T>>,
    /// The cursor of the next page, when the page is full (there may be more).
    pub next: Option<u64>,
}

impl<T> FactPage<T> {
    /// A page of `items` for a limit of `limit`.
    pub fn new(items: Vec<StoredFact<T>>, limit: usize) -> Self {
        let next = if items.len() >= limit && limit > 0 {
            items.last().map(|f| f.position)
        } else {
            None
        };
        Self { items, next }
    }
}

/// Durable records of what is known about the world (a contract was booked as this sale order
/// and this project), for any worker to find later. Unlike the ledger, which records effects and
/// is purged by retention, facts are never purged: no `purge_*` method and no
/// [`RetentionPolicy`] touches them.
///
/// A fact is a JSON value under a [`FactKey`] (a kind and a subject). It is written once: the
/// first write wins and later writes of the same key return the fact kept. It can be found by
/// other subjects of the same kind too, its *aliases* (a booking by its project and by its sale
/// order number as well as by its contract): an alias is another key of the same fact, recorded
/// in the same transaction as the fact, and reading by it returns the fact itself. Subjects and
/// aliases share one namespace per kind: an alias that is already a key (of this fact or of
/// another) is left as it is, first write wins here too.
///
/// [`FactsExt`] reads and writes typed values ([`Fact`]).
///
/// ```
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::store::{FactKey, FactKind, FactSubject, Facts};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// const BOOKING: FactKind = FactKind::named("booking");
/// let store = MemoryStore::new();
/// let key = FactKey::new(BOOKING, FactSubject::for_record("contract", "42")?);
/// let by_order = FactSubject::for_record("sale_order", "S00042")?;
/// let first = store.record_fact(&key, &[by_order.clone()], &json!({"order": 7})).await?;
/// assert!(first.is_new());
/// let again = store.record_fact(&key, &[], &json!({"order": 8})).await?;
/// assert_eq!(again.fact().value, json!({"order": 7})); // the first write wins
/// let found = store.fact(&FactKey::new(BOOKING, by_order)).await?;
/// assert_eq!(found.map(|f| f.subject), Some(key.subject));
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait Facts: Send + Sync {
    /// Records `value` as the fact `key`, with `aliases` (other subjects of the same kind it can
    /// be found by), in one transaction, unless a fact is already known under `key` (as a
    /// subject or an alias): then nothing is written and the fact known is returned. Of
    /// concurrent callers recording the same key, exactly one gets [`Recorded::New`]. An alias
    /// equal to the subject, or already a key, is skipped.
    async fn record_fact(
        &self,
        key: &FactKey,
        aliases: &[FactSubject],
        value: &Value,
    ) -> StoreResult<Recorded>;

    /// The fact known under `key`, by its subject or by one of its aliases.
    async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>>;

    /// One page of the facts of a kind (each once, whatever its aliases), in recording order.
    async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage>;
}

/// A value recorded as a fact: serialised as JSON under its [`Fact::KIND`].
///
/// ```
/// use odoo_connect_sync::store::{Fact, FactKind};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Booking { order_id: i64 }
///
/// impl Fact for Booking {
///     const KIND: FactKind = FactKind::named("booking");
/// }
/// ```
pub trait Fact: Serialize + DeserializeOwned + Send + Sync {
    /// The kind every fact of this type is recorded as.
    const KIND: FactKind;
}

/// What went wrong reading or writing a typed fact ([`FactsExt`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FactError {
    /// The store failed.
    #[error("facts: the state store failed")]
    Store(#[from] StoreError),
    /// The value could not be encoded as JSON.
    #[error("fact {key} could not be encoded")]
    Encode {
        /// The fact.
        key: FactKey,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The stored value no longer decodes as the type asked for (it was recorded by another
    /// version, or changed by hand).
    #[error("fact {key} does not decode as {type_name} (at `{path}`)")]
    Decode {
        /// The fact (its subject, not the alias it was read by).
        key: FactKey,
        /// The type asked for.
        type_name: &'static str,
        /// Where in the value decoding failed.
        path: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl FactError {
    /// Whether a stored fact did not decode.
    pub fn is_undecodable(&self) -> bool {
        matches!(self, FactError::Decode { .. })
    }

    /// Whether the same call may succeed if tried again later (the store was busy).
    pub fn is_retryable(&self) -> bool {
        matches!(self, FactError::Store(e) if e.is_retryable())
    }
}

impl odoo_connect_core::retry::Retryable for FactError {
    /// See [`FactError::is_retryable`].
    fn is_retryable(&self) -> bool {
        FactError::is_retryable(self)
    }
}

fn decode_fact<F: Fact>(fact: StoredFact) -> Result<StoredFact<F>, FactError> {
    let key = FactKey::new(fact.kind.clone(), fact.subject.clone());
    let value = serde_path_to_error::deserialize::<_, F>(&fact.value).map_err(|e| {
        let path = e.path().to_string();
        FactError::Decode {
            key,
            type_name: std::any::type_name::<F>(),
            path,
            source: e.into_inner(),
        }
    })?;
    Ok(fact.map(|_| value))
}

/// Typed facts over any [`Facts`] store: values of a [`Fact`] type, encoded and decoded here, so
/// that callers never handle the JSON.
///
/// ```
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::store::{Fact, FactKind, FactSubject, FactsExt};
///
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Booking { order_id: i64 }
/// impl Fact for Booking {
///     const KIND: FactKind = FactKind::named("booking");
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// let contract = FactSubject::for_record("contract", "42")?;
/// store.remember(&contract, &[], &Booking { order_id: 7 }).await?;
/// assert_eq!(store.recall::<Booking>(&contract).await?, Some(Booking { order_id: 7 }));
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait FactsExt: Facts {
    /// Records `fact` under `subject` (and `aliases`) as [`Facts::record_fact`] does; the fact
    /// known, new or kept, decoded.
    async fn remember<F: Fact>(
        &self,
        subject: &FactSubject,
        aliases: &[FactSubject],
        fact: &F,
    ) -> Result<Recorded<F>, FactError> {
        let key = FactKey::new(F::KIND, subject.clone());
        let value = match serde_json::to_value(fact) {
            Ok(v) => v,
            Err(source) => return Err(FactError::Encode { key, source }),
        };
        Ok(match self.record_fact(&key, aliases, &value).await? {
            Recorded::New(f) => Recorded::New(decode_fact(f)?),
            Recorded::Existing(f) => Recorded::Existing(decode_fact(f)?),
        })
    }

    /// The fact of type `F` known under `subject` (or an alias), decoded.
    async fn recall_fact<F: Fact>(
        &self,
        subject: &FactSubject,
    ) -> Result<Option<StoredFact<F>>, FactError> {
        let key = FactKey::new(F::KIND, subject.clone());
        match self.fact(&key).await? {
            Some(f) => decode_fact(f).map(Some),
            None => Ok(None),
        }
    }

    /// The value of [`FactsExt::recall_fact`].
    async fn recall<F: Fact>(&self, subject: &FactSubject) -> Result<Option<F>, FactError> {
        Ok(self.recall_fact::<F>(subject).await?.map(|f| f.value))
    }

    /// One page of the facts of type `F`, decoded, in recording order; `after` is the
    /// [`FactPage::next`] of the previous page.
    async fn recall_page<F: Fact>(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<FactPage<F>, FactError> {
        let mut filter = FactFilter::kind(F::KIND).limit(limit);
        filter.after = after;
        let page = self.list_facts(&filter).await?;
        Ok(FactPage {
            items: page
                .items
                .into_iter()
                .map(decode_fact)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}

impl<T: Facts + ?Sized> FactsExt for T {}

/// Everything the sync layer keeps: a backend implements the six traits and gets this one.
pub trait StateStore:
    WorkQueue + IdempotencyLedger + Checkpoints + DeadLetters + AuditLog + Facts
{
}

impl<T> StateStore for T where
    T: WorkQueue + IdempotencyLedger + Checkpoints + DeadLetters + AuditLog + Facts
{
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn futures_are_send_and_traits_are_object_safe() {
        let store = crate::store::memory::MemoryStore::new();
        let dyn_store: Arc<dyn StateStore> = Arc::new(store.clone());
        assert_send(&dyn_store.stats());
        assert_send(&store.lease("w", 1, Duration::from_secs(1)));
        let facts: Arc<dyn Facts> = Arc::new(store.clone());
        let subject = FactSubject::new("contract:1").unwrap_or_else(|_| unreachable!());
        assert_send(&facts.recall::<Booking>(&subject));
        assert_send(&dyn_store.list_facts(&FactFilter::kind(Booking::KIND)));
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Booking {
        order_id: i64,
    }

    impl Fact for Booking {
        const KIND: FactKind = FactKind::named("booking");
    }

    #[test]
    fn fact_kinds_and_subjects_are_validated() {
        for good in ["booking", "a", "crm.deal-v2_x"] {
            assert!(FactKind::parse(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_FACT_KIND_LEN + 1);
        for bad in ["", "Booking", "1st", "_x", "a b", "é", long.as_str()] {
            assert!(FactKind::parse(bad).is_err(), "{bad:?}");
        }
        let long = "s".repeat(MAX_FACT_SUBJECT_LEN + 1);
        for bad in ["", " x", "x ", "a\nb", long.as_str()] {
            assert!(FactSubject::new(bad).is_err(), "{bad:?}");
        }
        let s = FactSubject::for_record("contract", "50%:off");
        assert_eq!(
            s.map(|s| s.as_str().to_owned()).ok().as_deref(),
            Some("contract:50%25%3Aoff")
        );
    }

    #[tokio::test]
    async fn a_fact_that_no_longer_decodes_is_a_clear_error()
    -> Result<(), Box<dyn std::error::Error>> {
        let store = crate::store::memory::MemoryStore::new();
        let subject = FactSubject::for_record("contract", "1")?;
        let alias = FactSubject::for_record("project", "p")?;
        store
            .record_fact(
                &FactKey::new(Booking::KIND, subject.clone()),
                std::slice::from_ref(&alias),
                &serde_json::json!({"order_id": "seven"}),
            )
            .await?;
        let Err(e) = store.recall::<Booking>(&alias).await else {
            return Err("a value of the wrong shape decoded".into());
        };
        assert!(e.is_undecodable() && !e.is_retryable(), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("booking `contract:1`") && text.contains("`order_id`"),
            "{text}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let recorded = store
            .remember(&subject, &[], &Booking { order_id: 8 })
            .await;
        assert!(
            matches!(&recorded, Err(e) if e.is_undecodable()),
            "the fact kept is the one that does not decode: {recorded:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn typed_facts_round_trip_and_page() -> Result<(), Box<dyn std::error::Error>> {
        let store = crate::store::memory::MemoryStore::new();
        for n in 0..3 {
            let subject = FactSubject::for_record("contract", &n.to_string())?;
            let r = store
                .remember(&subject, &[], &Booking { order_id: n })
                .await?;
            assert!(r.is_new());
            let again = store
                .remember(&subject, &[], &Booking { order_id: 99 })
                .await?;
            assert_eq!(again.into_fact().value, Booking { order_id: n });
        }
        let first = store.recall_page::<Booking>(None, 2).await?;
        assert_eq!(first.items.len(), 2);
        let rest = store.recall_page::<Booking>(first.next, 2).await?;
        assert_eq!(
            rest.items.into_iter().map(|f| f.value).collect::<Vec<_>>(),
            vec![Booking { order_id: 2 }]
        );
        assert_eq!(rest.next, None);
        Ok(())
    }

    #[test]
    fn redactor_rejects_non_pointer_and_handles_escapes() {
        assert!(Redactor::new().path("a/b").is_err());
        let r = Redactor::new().path("/a~1b").unwrap_or_default();
        let mut v = serde_json::json!({"a/b": 1, "c": 2});
        r.redact(&mut v);
        assert_eq!(v, serde_json::json!({"a/b": REDACTED, "c": 2}));
    }

    #[test]
    fn error_predicates() {
        let e = StoreError::Backend {
            op: "x",
            retryable: true,
            source: "busy".into(),
        };
        assert!(e.is_retryable());
        assert!(
            !StoreError::CheckpointConflict {
                expected: 1,
                actual: 2
            }
            .is_retryable()
        );
    }
}
