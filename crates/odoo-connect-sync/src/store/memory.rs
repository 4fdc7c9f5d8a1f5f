//! An in-memory state store, for tests and examples. Nothing survives the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::envelope::IdempotencyKey;
use crate::envelope::{JsonEnvelope, Lane, MessageId};
use crate::store::{
    AuditEvent, AuditLog, AuditQuery, AuditRecord, Begin, Checkpoint, CheckpointKey, Checkpoints,
    Claim, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, FactFilter, FactKey, FactKind,
    FactPage, FactSubject, Facts, Failure, IdempotencyLedger, Lease, LeasedMessage, LedgerEntry,
    LedgerState, MessageState, PurgeMode, QueueEntry, QueueFilter, QueuePage, QueueStats,
    QueuedMessage, ReasonCount, Recorded, Replay, StoreError, StoreOptions, StoreResult,
    StoredFact, WorkQueue, add_duration,
};

/// An in-memory state store. Cheap to clone: clones share the same state.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::envelope::{Envelope, IdempotencyKey};
/// use odoo_connect_sync::store::WorkQueue;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project")?;
/// let msg = Envelope::builder(key, serde_json::json!({})).source("crm").legal_entity("be".parse()?).build()?;
/// store.enqueue(&msg).await?;
/// let leased = store.lease("worker-1", 10, Duration::from_secs(30)).await?;
/// assert_eq!(leased.len(), 1);
/// store.ack_one(&leased[0].lease).await?;
/// assert_eq!(store.stats().await?.depth, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    options: StoreOptions,
}

#[derive(Debug)]
enum RowState {
    Active,
    Done(DateTime<Utc>),
    Dead(DateTime<Utc>),
}

#[derive(Debug)]
struct Row {
    seq: u64,
    envelope: JsonEnvelope,
    state: RowState,
    attempts: u32,
    deliveries: u32,
    enqueued_at: DateTime<Utc>,
    not_before: DateTime<Utc>,
    lease: Option<(Uuid, String, DateTime<Utc>)>,
    last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    rows: HashMap<MessageId, Row>,
    /// Active messages by sequence.
    active: BTreeMap<u64, MessageId>,
    /// Active sequences per lane.
    lanes: HashMap<Lane, BTreeSet<u64>>,
    /// The head (oldest active sequence) of every lane, by when it may be leased.
    heads: Heads,
    ledger: HashMap<IdempotencyKey, LedgerRow>,
    checkpoints: HashMap<CheckpointKey, Checkpoint>,
    dead: Vec<DeadLetter>,
    dead_index: HashMap<DeadLetterId, usize>,
    audit: Vec<AuditRecord>,
    /// The last audit sequence number given (records may have been purged since).
    audit_seq: u64,
    /// Every key of every fact (subjects and aliases), per kind.
    fact_keys: HashMap<(FactKind, FactSubject), FactSlot>,
    /// The facts of each kind, by position.
    facts: BTreeMap<(FactKind, u64), StoredFact>,
    /// The last fact position given.
    fact_seq: u64,
}

/// What a fact key names: a fact (at its position) or, as an alias, the fact of a subject.
#[derive(Debug, Clone)]
enum FactSlot {
    Fact(u64),
    Alias(FactSubject),
}

#[derive(Debug, Clone)]
struct LedgerRow {
    entry: LedgerEntry,
    token: Uuid,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_options(StoreOptions::default())
    }

    /// An empty store with `options` (clock, redactor).
    pub fn with_options(options: StoreOptions) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            options,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        self.options.clock.now()
    }
}

/// The heads of the lanes (the only messages that may be leased), split by whether they may be
/// leased now, so that a lease does not walk past every message under way to find free ones.
#[derive(Debug, Default)]
struct Heads {
    /// Heads that were due when last looked at, by sequence (oldest first).
    ready: BTreeSet<u64>,
    /// Heads leased or retried until a time, by that time.
    later: BTreeSet<(DateTime<Utc>, u64)>,
    /// The time of each head in `later`.
    due: HashMap<u64, DateTime<Utc>>,
}

impl Heads {
    fn contains(&self, seq: u64) -> bool {
        self.ready.contains(&seq) || self.due.contains_key(&seq)
    }

    /// Adds or moves a head: it may be leased from `at` on.
    fn set(&mut self, seq: u64, at: DateTime<Utc>) {
        self.remove(seq);
        self.later.insert((at, seq));
        self.due.insert(seq, at);
    }

    fn remove(&mut self, seq: u64) -> bool {
        if self.ready.remove(&seq) {
            return true;
        }
        match self.due.remove(&seq) {
            Some(at) => self.later.remove(&(at, seq)),
            None => false,
        }
    }

    /// Moves the heads due at `now` to `ready`.
    fn wake(&mut self, now: DateTime<Utc>) {
        while let Some(&(at, seq)) = self.later.first() {
            if at > now {
                break;
            }
            self.later.pop_first();
            self.due.remove(&seq);
            self.ready.insert(seq);
        }
    }
}

/// When a row may be leased: after its lease and its retry delay.
fn free_at(row: &Row) -> DateTime<Utc> {
    match &row.lease {
        Some((_, _, exp)) => row.not_before.max(*exp),
        None => row.not_before,
    }
}

impl Inner {
    fn finish(&mut self, id: MessageId, state: RowState) {
        let Some(row) = self.rows.get_mut(&id) else {
            return;
        };
        row.state = state;
        row.lease = None;
        let seq = row.seq;
        let lane = row.envelope.lane.clone();
        self.active.remove(&seq);
        if self.heads.remove(seq) {
            if let Some(set) = self.lanes.get_mut(&lane) {
                set.remove(&seq);
                match set.first() {
                    Some(&next) => {
                        let at = self
                            .active
                            .get(&next)
                            .and_then(|id| self.rows.get(id))
                            .map(free_at)
                            .unwrap_or_default();
                        self.heads.set(next, at);
                    }
                    None => {
                        self.lanes.remove(&lane);
                    }
                }
            }
        } else if let Some(set) = self.lanes.get_mut(&lane) {
            set.remove(&seq);
        }
    }

    /// The active row held by `lease`, if the lease is still the row's.
    fn held(&mut self, lease: &Lease) -> Option<&mut Row> {
        self.rows.get_mut(&lease.message_id).filter(|r| {
            matches!(r.state, RowState::Active)
                && r.lease.as_ref().is_some_and(|(t, _, _)| *t == lease.token)
        })
    }

    fn park(
        &mut self,
        envelope: JsonEnvelope,
        failure: Failure,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> DeadLetterId {
        let id = DeadLetterId::new();
        self.dead_index.insert(id, self.dead.len());
        self.dead.push(DeadLetter {
            id,
            envelope,
            failure,
            attempts,
            parked_at: at,
            replay: None,
            raw: None,
        });
        id
    }
}

fn queued(row: &Row, now: DateTime<Utc>) -> QueuedMessage {
    QueuedMessage {
        envelope: row.envelope.clone(),
        state: state_of(row, now),
        attempts: row.attempts,
        deliveries: row.deliveries,
        enqueued_at: row.enqueued_at,
        last_error: row.last_error.clone(),
    }
}

fn state_of(row: &Row, now: DateTime<Utc>) -> MessageState {
    match row.state {
        RowState::Done(at) => MessageState::Done { at },
        RowState::Dead(at) => MessageState::DeadLettered { at },
        RowState::Active => match &row.lease {
            Some((_, owner, exp)) if *exp > now => MessageState::Leased {
                owner: owner.clone(),
                expires_at: *exp,
            },
            _ if row.not_before > now => MessageState::Scheduled {
                not_before: row.not_before,
            },
            _ => MessageState::Ready,
        },
    }
}

#[async_trait]
impl WorkQueue for MemoryStore {
    async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
        let now = self.now();
        let mut inner = self.lock();
        let mut added = 0;
        for m in messages {
            if inner.rows.contains_key(&m.id) {
                continue;
            }
            inner.next_seq += 1;
            let seq = inner.next_seq;
            inner.rows.insert(
                m.id,
                Row {
                    seq,
                    envelope: m.clone(),
                    state: RowState::Active,
                    attempts: 0,
                    deliveries: 0,
                    enqueued_at: now,
                    not_before: now,
                    lease: None,
                    last_error: None,
                },
            );
            inner.active.insert(seq, m.id);
            let lane = inner.lanes.entry(m.lane.clone()).or_default();
            let first = lane.is_empty();
            lane.insert(seq);
            if first {
                inner.heads.set(seq, now);
            }
            added += 1;
        }
        Ok(added)
    }

    async fn lease(
        &self,
        worker: &str,
        max: usize,
        lease_for: Duration,
    ) -> StoreResult<Vec<LeasedMessage>> {
        let now = self.now();
        let expires_at = add_duration(now, lease_for)?;
        let token = Uuid::new_v4();
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.heads.wake(now);
        let mut out = Vec::with_capacity(max.min(inner.heads.ready.len()));
        let mut taken = Vec::with_capacity(out.capacity());
        for &seq in &inner.heads.ready {
            if out.len() >= max {
                break;
            }
            let Some(id) = inner.active.get(&seq) else {
                continue;
            };
            let Some(row) = inner.rows.get_mut(id) else {
                continue;
            };
            let leased = row.lease.as_ref().is_some_and(|(_, _, exp)| *exp > now);
            if leased || row.not_before > now {
                // Not free after all: put back in time order below.
                taken.push((seq, free_at(row)));
                continue;
            }
            taken.push((seq, expires_at));
            row.lease = Some((token, worker.to_owned(), expires_at));
            row.deliveries += 1;
            out.push(LeasedMessage {
                envelope: row.envelope.clone(),
                lease: Lease {
                    message_id: row.envelope.id,
                    token,
                    expires_at,
                },
                attempts: row.attempts,
                deliveries: row.deliveries,
                enqueued_at: row.enqueued_at,
                last_error: row.last_error.clone(),
            });
        }
        for (seq, at) in taken {
            inner.heads.set(seq, at);
        }
        Ok(out)
    }

    async fn heartbeat(&self, leases: &[Lease], extend_for: Duration) -> StoreResult<Vec<Lease>> {
        let now = self.now();
        let expires_at = add_duration(now, extend_for)?;
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(leases.len());
        for lease in leases {
            if let Some(row) = inner.held(lease) {
                if let Some(l) = row.lease.as_mut() {
                    l.2 = expires_at;
                }
                let (seq, at) = (row.seq, free_at(row));
                if inner.heads.contains(seq) {
                    inner.heads.set(seq, at);
                }
                out.push(Lease {
                    expires_at,
                    ..lease.clone()
                });
            }
        }
        Ok(out)
    }

    async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        let now = self.now();
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(leases.len());
        for lease in leases {
            if inner.held(lease).is_some() {
                inner.finish(lease.message_id, RowState::Done(now));
                out.push(lease.message_id);
            }
        }
        Ok(out)
    }

    async fn retry_later(&self, lease: &Lease, delay: Duration, error: &str) -> StoreResult<()> {
        let now = self.now();
        let not_before = add_duration(now, delay)?;
        let mut inner = self.lock();
        let row = inner.held(lease).ok_or(StoreError::LeaseLost {
            message_id: lease.message_id,
        })?;
        row.lease = None;
        row.not_before = not_before;
        row.attempts += 1;
        row.last_error = Some(error.to_owned());
        let seq = row.seq;
        if inner.heads.contains(seq) {
            inner.heads.set(seq, not_before);
        }
        Ok(())
    }

    async fn dead_letter(&self, lease: &Lease, failure: Failure) -> StoreResult<DeadLetterId> {
        let now = self.now();
        let mut inner = self.lock();
        let row = inner.held(lease).ok_or(StoreError::LeaseLost {
            message_id: lease.message_id,
        })?;
        let envelope = row.envelope.clone();
        let attempts = row.attempts + 1;
        inner.finish(lease.message_id, RowState::Dead(now));
        Ok(inner.park(envelope, failure, attempts, now))
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
        let now = self.now();
        let inner = self.lock();
        Ok(inner.rows.get(&id).map(|row| queued(row, now)))
    }

    async fn release(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(leases.len());
        for lease in leases {
            if let Some(row) = inner.held(lease) {
                row.lease = None;
                let (seq, at) = (row.seq, row.not_before);
                if inner.heads.contains(seq) {
                    inner.heads.set(seq, at);
                }
                out.push(lease.message_id);
            }
        }
        Ok(out)
    }

    async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
        let now = self.now();
        let inner = self.lock();
        let after = filter.after.unwrap_or(0);
        let mut rows: Vec<&Row> = inner
            .rows
            .values()
            .filter(|r| r.seq > after && filter.matches_envelope(&r.envelope, r.enqueued_at))
            .filter(|r| filter.state.is_none_or(|st| st.matches(&state_of(r, now))))
            .collect();
        rows.sort_by_key(|r| r.seq);
        let limit = filter.effective_limit();
        let items = rows
            .into_iter()
            .take(limit)
            .map(|r| QueueEntry {
                position: r.seq,
                message: queued(r, now),
            })
            .collect();
        Ok(QueuePage::new(items, limit))
    }

    async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let mut inner = self.lock();
        let old: Vec<MessageId> = inner
            .rows
            .iter()
            .filter(|(_, r)| match r.state {
                RowState::Done(at) | RowState::Dead(at) => at < before,
                RowState::Active => false,
            })
            .map(|(id, _)| *id)
            .collect();
        if !mode.is_dry_run() {
            for id in &old {
                inner.rows.remove(id);
            }
        }
        Ok(old.len() as u64)
    }

    async fn stats(&self) -> StoreResult<QueueStats> {
        let now = self.now();
        let inner = self.lock();
        let mut stats = QueueStats {
            depth: inner.active.len() as u64,
            ..QueueStats::default()
        };
        for id in inner.active.values() {
            let Some(row) = inner.rows.get(id) else {
                continue;
            };
            if stats.oldest_enqueued_at.is_none() {
                stats.oldest_enqueued_at = Some(row.enqueued_at);
            }
            match state_of(row, now) {
                MessageState::Leased { .. } => stats.in_flight += 1,
                MessageState::Scheduled { .. } => stats.scheduled += 1,
                _ => {}
            }
        }
        Ok(stats)
    }
}

#[async_trait]
impl IdempotencyLedger for MemoryStore {
    fn now(&self) -> DateTime<Utc> {
        self.options.clock.now()
    }

    async fn begin(
        &self,
        key: &IdempotencyKey,
        intent: &Value,
        claim_for: Duration,
    ) -> StoreResult<Begin> {
        let now = self.now();
        let claimed_until = add_duration(now, claim_for)?;
        let mut inner = self.lock();
        Ok(inner.begin(key, intent, now, claimed_until))
    }

    /// All the claims under one lock, with one clock reading.
    async fn begin_many(
        &self,
        requests: &[(IdempotencyKey, Value)],
        claim_for: Duration,
    ) -> StoreResult<Vec<Begin>> {
        let now = self.now();
        let claimed_until = add_duration(now, claim_for)?;
        let mut inner = self.lock();
        Ok(requests
            .iter()
            .map(|(key, intent)| inner.begin(key, intent, now, claimed_until))
            .collect())
    }

    async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
        let now = self.now();
        self.lock().complete(claim, outcome, now)
    }

    /// All the completions under one lock. As on the SQL backends, a claim that is no longer
    /// there fails the call; the completions before it stay recorded.
    async fn complete_many(&self, completions: &[(Claim, Value)]) -> StoreResult<()> {
        let now = self.now();
        let mut inner = self.lock();
        for (claim, outcome) in completions {
            inner.complete(claim, outcome, now)?;
        }
        Ok(())
    }

    async fn abandon(&self, claim: &Claim, reason: Option<&str>) -> StoreResult<()> {
        self.release(claim, LedgerState::Abandoned, reason)
    }

    async fn fail(&self, claim: &Claim, error: &str) -> StoreResult<()> {
        self.release(claim, LedgerState::Failed, Some(error))
    }

    async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        Ok(self.lock().ledger.get(key).map(|r| r.entry.clone()))
    }

    async fn purge_ledger(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let mut inner = self.lock();
        let old = |r: &LedgerRow| r.entry.state == LedgerState::Done && r.entry.updated_at < before;
        let n = inner.ledger.values().filter(|r| old(r)).count() as u64;
        if !mode.is_dry_run() {
            inner.ledger.retain(|_, r| !old(r));
        }
        Ok(n)
    }
}

impl Inner {
    /// [`IdempotencyLedger::begin`] of one key.
    fn begin(
        &mut self,
        key: &IdempotencyKey,
        intent: &Value,
        now: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
    ) -> Begin {
        let token = Uuid::new_v4();
        let Some(row) = self.ledger.get_mut(key) else {
            let claim = Claim {
                key: key.clone(),
                token,
                attempts: 1,
                claimed_until,
            };
            self.ledger.insert(
                key.clone(),
                LedgerRow {
                    entry: LedgerEntry {
                        key: key.clone(),
                        state: LedgerState::InFlight,
                        intent: intent.clone(),
                        outcome: None,
                        attempts: 1,
                        last_error: None,
                        claimed_until,
                        updated_at: now,
                    },
                    token,
                },
            );
            return Begin::New(claim);
        };
        let e = &mut row.entry;
        match e.state {
            LedgerState::Done => Begin::Done {
                outcome: e.outcome.clone().unwrap_or(Value::Null),
            },
            LedgerState::InFlight if e.claimed_until > now => Begin::InFlight {
                attempts: e.attempts,
                claimed_until: e.claimed_until,
            },
            _ => {
                e.state = LedgerState::InFlight;
                e.attempts += 1;
                e.intent = intent.clone();
                e.claimed_until = claimed_until;
                e.updated_at = now;
                row.token = token;
                Begin::Resumed {
                    claim: Claim {
                        key: key.clone(),
                        token,
                        attempts: e.attempts,
                        claimed_until,
                    },
                    last_error: e.last_error.clone(),
                }
            }
        }
    }

    /// [`IdempotencyLedger::complete`] of one claim.
    fn complete(&mut self, claim: &Claim, outcome: &Value, now: DateTime<Utc>) -> StoreResult<()> {
        let row = self
            .ledger
            .get_mut(&claim.key)
            .ok_or_else(|| StoreError::ClaimLost {
                key: claim.key.clone(),
            })?;
        if row.entry.state != LedgerState::Done {
            row.entry.state = LedgerState::Done;
            row.entry.outcome = Some(outcome.clone());
            row.entry.updated_at = now;
        }
        Ok(())
    }
}

impl MemoryStore {
    fn release(&self, claim: &Claim, state: LedgerState, error: Option<&str>) -> StoreResult<()> {
        let now = self.now();
        let mut inner = self.lock();
        let row = inner
            .ledger
            .get_mut(&claim.key)
            .filter(|r| r.token == claim.token && r.entry.state == LedgerState::InFlight)
            .ok_or_else(|| StoreError::ClaimLost {
                key: claim.key.clone(),
            })?;
        row.entry.state = state;
        if let Some(e) = error {
            row.entry.last_error = Some(e.to_owned());
        }
        row.entry.updated_at = now;
        Ok(())
    }
}

#[async_trait]
impl Checkpoints for MemoryStore {
    async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
        Ok(self.lock().checkpoints.get(key).cloned())
    }

    async fn commit_checkpoint(
        &self,
        key: &CheckpointKey,
        expected_version: u64,
        cursor: &Value,
    ) -> StoreResult<Checkpoint> {
        let now = self.now();
        let mut inner = self.lock();
        let actual = inner.checkpoints.get(key).map_or(0, |c| c.version);
        if actual != expected_version {
            return Err(StoreError::CheckpointConflict {
                expected: expected_version,
                actual,
            });
        }
        let cp = Checkpoint {
            cursor: Some(cursor.clone()),
            version: actual + 1,
            updated_at: now,
        };
        inner.checkpoints.insert(key.clone(), cp.clone());
        Ok(cp)
    }

    async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint> {
        let now = self.now();
        let mut inner = self.lock();
        let version = inner.checkpoints.get(key).map_or(0, |c| c.version) + 1;
        let cp = Checkpoint {
            cursor: None,
            version,
            updated_at: now,
        };
        inner.checkpoints.insert(key.clone(), cp.clone());
        Ok(cp)
    }
}

#[async_trait]
impl DeadLetters for MemoryStore {
    async fn park(
        &self,
        envelope: &JsonEnvelope,
        failure: Failure,
        attempts: u32,
    ) -> StoreResult<DeadLetterId> {
        let now = self.now();
        Ok(self.lock().park(envelope.clone(), failure, attempts, now))
    }

    async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        let inner = self.lock();
        Ok(inner
            .dead_index
            .get(&id)
            .and_then(|i| inner.dead.get(*i))
            .cloned())
    }

    async fn list_dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        let inner = self.lock();
        Ok(inner
            .dead
            .iter()
            .filter(|d| filter.matches(d))
            .take(filter.effective_limit())
            .cloned()
            .collect())
    }

    async fn mark_replayed(
        &self,
        id: DeadLetterId,
        actor: &str,
        message_id: Option<MessageId>,
    ) -> StoreResult<()> {
        let now = self.now();
        let mut inner = self.lock();
        let inner = &mut *inner;
        let dl = inner
            .dead_index
            .get(&id)
            .and_then(|i| inner.dead.get_mut(*i))
            .ok_or_else(|| StoreError::NotFound {
                what: "dead letter",
                id: id.to_string(),
            })?;
        dl.replay = Some(Replay {
            by: actor.to_owned(),
            at: now,
            message_id,
        });
        Ok(())
    }

    async fn purge_dead_letters(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let mut inner = self.lock();
        let old = |d: &DeadLetter| d.replay.as_ref().is_some_and(|r| r.at < before);
        let n = inner.dead.iter().filter(|d| old(d)).count() as u64;
        if !mode.is_dry_run() && n > 0 {
            let inner = &mut *inner;
            inner.dead.retain(|d| !old(d));
            inner.dead_index = inner
                .dead
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id, i))
                .collect();
        }
        Ok(n)
    }

    async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
        let inner = self.lock();
        let mut counts: HashMap<(crate::store::FailureClass, String), u64> = HashMap::new();
        for d in inner.dead.iter().filter(|d| d.replay.is_none()) {
            *counts
                .entry((d.failure.class, d.failure.reason.clone()))
                .or_default() += 1;
        }
        let mut out: Vec<ReasonCount> = counts
            .into_iter()
            .map(|((class, reason), count)| ReasonCount {
                class,
                reason,
                count,
            })
            .collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.reason.cmp(&b.reason))
                .then_with(|| a.class.as_str().cmp(b.class.as_str()))
        });
        Ok(out)
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append(&self, mut event: AuditEvent) -> StoreResult<u64> {
        let now = self.now();
        self.options.redactor.redact(&mut event.details);
        let mut inner = self.lock();
        inner.audit_seq += 1;
        let seq = inner.audit_seq;
        inner.audit.push(AuditRecord {
            seq,
            at: now,
            event,
        });
        Ok(seq)
    }

    async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        let now = self.now();
        let mut inner = self.lock();
        for mut event in events {
            self.options.redactor.redact(&mut event.details);
            inner.audit_seq += 1;
            let seq = inner.audit_seq;
            inner.audit.push(AuditRecord {
                seq,
                at: now,
                event,
            });
        }
        Ok(())
    }

    async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        let mut inner = self.lock();
        let n = inner.audit.iter().filter(|r| r.at < before).count() as u64;
        if !mode.is_dry_run() {
            inner.audit.retain(|r| r.at >= before);
        }
        Ok(n)
    }

    async fn query_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        let inner = self.lock();
        Ok(inner
            .audit
            .iter()
            .filter(|r| query.matches(r))
            .take(query.effective_limit())
            .cloned()
            .collect())
    }
}

impl Inner {
    /// The fact a key names, following an alias.
    fn fact(&self, key: &FactKey) -> Option<&StoredFact> {
        let position = match self
            .fact_keys
            .get(&(key.kind.clone(), key.subject.clone()))?
        {
            FactSlot::Fact(p) => *p,
            FactSlot::Alias(subject) => {
                match self.fact_keys.get(&(key.kind.clone(), subject.clone()))? {
                    FactSlot::Fact(p) => *p,
                    FactSlot::Alias(_) => return None,
                }
            }
        };
        self.facts.get(&(key.kind.clone(), position))
    }
}

#[async_trait]
impl Facts for MemoryStore {
    async fn record_fact(
        &self,
        key: &FactKey,
        aliases: &[FactSubject],
        value: &Value,
    ) -> StoreResult<Recorded> {
        let now = self.now();
        let mut inner = self.lock();
        if let Some(known) = inner.fact(key) {
            return Ok(Recorded::Existing(known.clone()));
        }
        if inner
            .fact_keys
            .contains_key(&(key.kind.clone(), key.subject.clone()))
        {
            return Err(StoreError::Corrupt {
                what: format!("fact {key}: an alias of a missing fact"),
                source: None,
            });
        }
        inner.fact_seq += 1;
        let position = inner.fact_seq;
        let fact = StoredFact {
            kind: key.kind.clone(),
            subject: key.subject.clone(),
            value: value.clone(),
            recorded_at: now,
            position,
        };
        inner.fact_keys.insert(
            (key.kind.clone(), key.subject.clone()),
            FactSlot::Fact(position),
        );
        for alias in aliases {
            inner
                .fact_keys
                .entry((key.kind.clone(), alias.clone()))
                .or_insert_with(|| FactSlot::Alias(key.subject.clone()));
        }
        inner
            .facts
            .insert((key.kind.clone(), position), fact.clone());
        Ok(Recorded::New(fact))
    }

    async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
        Ok(self.lock().fact(key).cloned())
    }

    async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
        let inner = self.lock();
        let from = filter.after.map_or(0, |p| p.saturating_add(1));
        let limit = filter.effective_limit();
        let items = inner
            .facts
            .range((filter.kind.clone(), from)..)
            .take_while(|((kind, _), _)| kind == &filter.kind)
            .take(limit)
            .map(|(_, f)| f.clone())
            .collect();
        Ok(FactPage::new(items, limit))
    }
}
