//! The conformance suite every state store must pass (feature `testkit`).
//!
//! A backend is correct when [`run_all`] passes for it. Implement [`StoreFactory`] for your
//! backend and call it from a test:
//!
//! ```
//! use odoo_connect_testkit::store_conformance::{StoreFactory, run_all};
//! use odoo_connect_sync::store::memory::MemoryStore;
//! use odoo_connect_sync::store::{StoreOptions, StoreResult};
//!
//! struct Memory;
//!
//! #[async_trait::async_trait]
//! impl StoreFactory for Memory {
//!     type Store = MemoryStore;
//!     async fn fresh(&self, options: StoreOptions) -> StoreResult<MemoryStore> {
//!         Ok(MemoryStore::with_options(options))
//!     }
//! }
//!
//! # #[tokio::main]
//! # async fn main() {
//! let report = run_all(&Memory).await;
//! report.assert_passed();
//! # }
//! ```
//!
//! Every property uses a [`ManualClock`], so expiry and retry delays are checked without
//! sleeping; every property creates its own fresh store.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use odoo_connect_sync::envelope::{
    CorrelationId, Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope, Lane, MessageId,
};
use odoo_connect_sync::key::LegalEntityKey;
use odoo_connect_sync::store::{
    AuditEvent, AuditKind, AuditLog, AuditQuery, Begin, CheckpointKey, Checkpoints, Claim, Clock,
    DeadLetterFilter, DeadLetters, FactFilter, FactKey, FactKind, FactPage, FactSubject, Facts,
    Failure, FailureClass, IdempotencyLedger, LedgerState, ManualClock, MessageState, PurgeMode,
    PurgeReport, QueueFilter, QueueState, REDACTED, Redactor, RetentionPolicy, StateStore,
    StoreError, StoreOptions, StoreResult, WorkQueue,
};

/// Makes stores for the suite.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// The store under test.
    type Store: StateStore + Clone + 'static;

    /// A new, empty store with `options`; each call must be isolated from the others.
    async fn fresh(&self, options: StoreOptions) -> StoreResult<Self::Store>;

    /// A second, independent instance over the same storage as `store` (a new connection to the
    /// same file or schema), or `None` when the backend keeps nothing (then the reopen property is
    /// skipped).
    async fn reopen(
        &self,
        store: &Self::Store,
        options: StoreOptions,
    ) -> StoreResult<Option<Self::Store>> {
        let _ = (store, options);
        Ok(None)
    }

    /// Overwrites the stored envelope of message `id` with `raw`, as a faulty writer or a bad
    /// migration would, bypassing the store's API (raw SQL); `Ok(false)` when the backend cannot
    /// hold such a row (then the quarantine property is skipped). `raw` is valid JSON that is
    /// not an envelope, so that JSON columns accept it.
    async fn corrupt_message(
        &self,
        store: &Self::Store,
        id: MessageId,
        raw: &[u8],
    ) -> StoreResult<bool> {
        let _ = (store, id, raw);
        Ok(false)
    }
}

/// Why a property failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure(String);

impl CheckFailure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for CheckFailure {
    fn from(e: StoreError) -> Self {
        let mut text = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(s) = cur {
            text.push_str(": ");
            text.push_str(&s.to_string());
            cur = s.source();
        }
        Self(format!("store error: {text}"))
    }
}

impl From<EnvelopeError> for CheckFailure {
    fn from(e: EnvelopeError) -> Self {
        Self(format!("envelope error: {e}"))
    }
}

/// The result of one property.
pub type CheckResult = Result<Outcome, CheckFailure>;

/// A property that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It held.
    Passed,
    /// It does not apply to this backend.
    Skipped(&'static str),
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(CheckFailure::new(format!("{}:{}: {}", file!(), line!(), format!($($arg)+))));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($arg:tt)+) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(CheckFailure::new(format!(
                "{}:{}: {}: got {:?}, expected {:?}", file!(), line!(), format!($($arg)+), l, r)));
        }
    }};
}

/// The report of [`run_all`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Each property's name and result.
    pub results: Vec<(&'static str, Result<Outcome, CheckFailure>)>,
}

impl Report {
    /// The properties that failed.
    pub fn failures(&self) -> Vec<(&'static str, &CheckFailure)> {
        self.results
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|e| (*n, e)))
            .collect()
    }

    /// Panics with every failure when one property failed (for use in tests).
    pub fn assert_passed(&self) {
        let failures = self.failures();
        assert!(failures.is_empty(), "conformance failures:\n{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, r) in &self.results {
            match r {
                Ok(Outcome::Passed) => writeln!(f, "passed  {name}")?,
                Ok(Outcome::Skipped(why)) => writeln!(f, "skipped {name}: {why}")?,
                Err(e) => writeln!(f, "FAILED  {name}: {e}")?,
            }
        }
        Ok(())
    }
}

/// Runs every property and collects the results (it does not stop at the first failure).
pub async fn run_all<F: StoreFactory>(factory: &F) -> Report {
    let mut report = Report::default();
    macro_rules! run {
        ($($prop:ident),* $(,)?) => {
            $( report.results.push((stringify!($prop), $prop(factory).await)); )*
        };
    }
    run!(
        enqueue_lease_ack,
        lease_expiry_and_heartbeat,
        retry_later_respects_not_before,
        per_lane_order,
        concurrent_workers_keep_lane_order,
        dead_letter_park_list_replay,
        ledger_lifecycle,
        ledger_concurrent_begin,
        ledger_batches,
        checkpoint_compare_and_set,
        audit_order_and_redaction,
        reopen_keeps_state,
        poison_rows_are_quarantined,
        release_gives_leases_back,
        queue_listing_filters_and_pages,
        retention_purges_only_what_it_may,
        facts_first_write_wins,
        facts_listing_pages,
        facts_survive_every_purge,
        facts_concurrent_record,
    );
    report
}

/// The time every property starts at.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 8, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// The options the suite uses: a manual clock and a redactor for `/secret` and
/// `/cards/*/number`.
pub fn suite_options(clock: &ManualClock) -> StoreResult<StoreOptions> {
    Ok(StoreOptions::default()
        .with_clock(Arc::new(clock.clone()))
        .with_redactor(Redactor::new().path("/secret")?.path("/cards/*/number")?))
}

async fn fresh<F: StoreFactory>(f: &F) -> Result<(F::Store, ManualClock), CheckFailure> {
    let clock = ManualClock::new(start_time());
    let store = f.fresh(suite_options(&clock)?).await?;
    Ok((store, clock))
}

/// The legal entity of the suite's messages and checkpoints.
fn legal_entity(key: &str) -> Result<LegalEntityKey, EnvelopeError> {
    Ok(LegalEntityKey::new(key)?)
}

/// A message of record `entity:id`, version `n`.
pub fn message(entity: &str, id: &str, n: u32) -> Result<JsonEnvelope, EnvelopeError> {
    let key = IdempotencyKey::for_effect(entity, id, &format!("v{n}"), "apply")?;
    Envelope::builder(key, json!({"entity": entity, "id": id, "n": n}))
        .source("crm")
        .legal_entity(legal_entity("acme-be")?)
        .occurred_at(start_time())
        .build()
}

const MIN: Duration = Duration::from_secs(60);

/// Enqueue (one, batch, duplicates ignored), lease oldest first, ack, stale ack refused, stats.
pub async fn enqueue_lease_ack<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let a = message("contract", "1", 1)?;
    let b = message("contract", "2", 1)?;
    let c = message("contract", "3", 1)?;
    ensure!(s.enqueue(&a).await?, "first enqueue must add the message");
    ensure!(!s.enqueue(&a).await?, "a duplicate id must be ignored");
    ensure_eq!(
        s.enqueue_batch(&[b.clone(), a.clone(), c.clone(), b.clone()])
            .await?,
        2,
        "batch enqueue counts only new ids"
    );
    let st = s.stats().await?;
    ensure_eq!(st.depth, 3, "depth after enqueue");
    ensure_eq!(st.in_flight, 0, "in flight after enqueue");
    ensure_eq!(
        st.oldest_enqueued_at,
        Some(start_time()),
        "oldest enqueue time"
    );
    clock.advance(Duration::from_secs(5));
    ensure_eq!(
        st.oldest_age(clock.now()),
        Duration::from_secs(5),
        "oldest age"
    );

    let leased = s.lease("w1", 2, MIN).await?;
    let ids: Vec<MessageId> = leased.iter().map(|m| m.envelope.id).collect();
    ensure_eq!(
        ids,
        vec![a.id, b.id],
        "lease returns the oldest first, up to max"
    );
    ensure_eq!(
        leased[0].envelope,
        a,
        "the envelope survives the queue unchanged"
    );
    ensure_eq!(leased[0].deliveries, 1, "first delivery");
    ensure_eq!(leased[0].attempts, 0, "no failed attempt yet");
    ensure!(
        leased[0].lease.expires_at == clock.now() + chrono::Duration::seconds(60),
        "lease expiry is now + lease duration, got {}",
        leased[0].lease.expires_at
    );
    let st = s.stats().await?;
    ensure_eq!(
        (st.depth, st.in_flight),
        (3, 2),
        "depth and in flight while leased"
    );
    match s.get(a.id).await?.map(|m| m.state) {
        Some(MessageState::Leased { owner, .. }) => ensure_eq!(owner, "w1", "lease owner"),
        other => ensure!(false, "leased message state: {other:?}"),
    }

    let leases: Vec<_> = leased.iter().map(|m| m.lease.clone()).collect();
    let mut acked = s.ack(&leases).await?;
    acked.sort();
    let mut want = vec![a.id, b.id];
    want.sort();
    ensure_eq!(acked, want, "ack returns the acked ids");
    ensure!(
        s.ack(&leases).await?.is_empty(),
        "a second ack must do nothing"
    );
    match s.ack_one(&leases[0]).await {
        Err(e) if e.is_lost() => {}
        other => ensure!(
            false,
            "ack_one of a settled message must be LeaseLost: {other:?}"
        ),
    }
    ensure!(
        matches!(
            s.get(a.id).await?.map(|m| m.state),
            Some(MessageState::Done { .. })
        ),
        "acked message is done"
    );
    ensure!(!s.enqueue(&a).await?, "a done message's id is still known");
    ensure!(s.get(MessageId::new()).await?.is_none(), "unknown id");

    let rest = s.lease("w2", 10, MIN).await?;
    ensure_eq!(rest.len(), 1, "one message left");
    ensure_eq!(rest[0].envelope.id, c.id, "the remaining message");
    s.ack_one(&rest[0].lease).await?;
    let st = s.stats().await?;
    ensure_eq!(
        (st.depth, st.oldest_enqueued_at),
        (0, None),
        "empty queue stats"
    );
    ensure!(
        s.lease("w2", 10, MIN).await?.is_empty(),
        "nothing left to lease"
    );
    Ok(Outcome::Passed)
}

/// An expired lease returns the message; a heartbeat keeps it; a stale holder cannot settle.
pub async fn lease_expiry_and_heartbeat<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let m = message("contract", "1", 1)?;
    s.enqueue(&m).await?;
    let first = s.lease("w1", 1, Duration::from_secs(30)).await?;
    ensure_eq!(first.len(), 1, "leased");
    ensure!(
        s.lease("w2", 1, MIN).await?.is_empty(),
        "a leased message is not leased twice"
    );
    clock.advance(Duration::from_secs(20));
    let hb = s
        .heartbeat(&[first[0].lease.clone()], Duration::from_secs(30))
        .await?;
    ensure_eq!(hb.len(), 1, "heartbeat keeps a held lease");
    ensure_eq!(
        hb[0].expires_at,
        clock.now() + chrono::Duration::seconds(30),
        "heartbeat sets the new expiry"
    );
    clock.advance(Duration::from_secs(20)); // past the first expiry, before the extended one
    ensure!(
        s.lease("w2", 1, MIN).await?.is_empty(),
        "an extended lease is still held"
    );
    ensure_eq!(s.stats().await?.in_flight, 1, "in flight while extended");
    clock.advance(Duration::from_secs(11));
    ensure_eq!(
        s.stats().await?.in_flight,
        0,
        "expired lease is not in flight"
    );
    let second = s.lease("w2", 1, MIN).await?;
    ensure_eq!(second.len(), 1, "an expired lease returns the message");
    ensure_eq!(second[0].deliveries, 2, "second delivery counted");
    ensure!(
        second[0].lease.token != first[0].lease.token,
        "a new lease has a new token"
    );
    ensure!(
        s.heartbeat(&[first[0].lease.clone()], MIN)
            .await?
            .is_empty(),
        "a stale lease cannot be extended"
    );
    ensure!(
        s.ack(&[first[0].lease.clone()]).await?.is_empty(),
        "a stale lease cannot ack"
    );
    ensure!(
        s.retry_later(&first[0].lease, MIN, "x")
            .await
            .is_err_and(|e| e.is_lost()),
        "a stale lease cannot retry"
    );
    ensure!(
        s.dead_letter(&first[0].lease, Failure::new(FailureClass::Technical, "x"))
            .await
            .is_err_and(|e| e.is_lost()),
        "a stale lease cannot dead-letter"
    );
    s.ack_one(&second[0].lease).await?;

    // An expired lease that nobody took again may still be acked by its holder.
    let n = message("contract", "2", 1)?;
    s.enqueue(&n).await?;
    let l = s.lease("w1", 1, Duration::from_secs(1)).await?;
    ensure_eq!(l.len(), 1, "leased");
    clock.advance(Duration::from_secs(5));
    s.ack_one(&l[0].lease).await?;
    Ok(Outcome::Passed)
}

/// `retry_later` hides the message until its delay passes and counts the attempt.
pub async fn retry_later_respects_not_before<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let m = message("invoice", "7", 1)?;
    s.enqueue(&m).await?;
    let l = s.lease("w1", 1, MIN).await?;
    ensure_eq!(l.len(), 1, "leased");
    s.retry_later(&l[0].lease, Duration::from_secs(60), "odoo timed out")
        .await?;
    let got = s.get(m.id).await?;
    let want_not_before = clock.now() + chrono::Duration::seconds(60);
    ensure_eq!(
        got.as_ref().map(|g| g.state.clone()),
        Some(MessageState::Scheduled {
            not_before: want_not_before
        }),
        "state after retry_later"
    );
    ensure_eq!(got.map(|g| g.attempts), Some(1), "attempt counted");
    let st = s.stats().await?;
    ensure_eq!(
        (st.depth, st.scheduled, st.in_flight),
        (1, 1, 0),
        "stats while scheduled"
    );
    ensure!(
        s.lease("w1", 1, MIN).await?.is_empty(),
        "not before its time"
    );
    clock.advance(Duration::from_secs(59));
    ensure!(
        s.lease("w1", 1, MIN).await?.is_empty(),
        "still not before its time"
    );
    clock.advance(Duration::from_secs(1));
    let again = s.lease("w1", 1, MIN).await?;
    ensure_eq!(again.len(), 1, "leased again once due");
    ensure_eq!(again[0].attempts, 1, "attempts carried");
    ensure_eq!(
        again[0].last_error.as_deref(),
        Some("odoo timed out"),
        "last error"
    );
    s.retry_later(&again[0].lease, Duration::ZERO, "again")
        .await?;
    let third = s.lease("w1", 1, MIN).await?;
    ensure_eq!(
        third.first().map(|m| m.attempts),
        Some(2),
        "second attempt counted"
    );
    Ok(Outcome::Passed)
}

/// Only the oldest unfinished message of a lane is leased; other lanes are not held up.
pub async fn per_lane_order<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let a1 = message("contract", "A", 1)?;
    let a2 = message("contract", "A", 2)?;
    let a3 = message("contract", "A", 3)?;
    let b1 = message("contract", "B", 1)?;
    s.enqueue_batch(&[a1.clone(), a2.clone(), a3.clone(), b1.clone()])
        .await?;
    let first = s.lease("w1", 10, MIN).await?;
    let ids: Vec<_> = first.iter().map(|m| m.envelope.id).collect();
    ensure_eq!(ids, vec![a1.id, b1.id], "one message per lane, the oldest");
    ensure!(
        s.lease("w2", 10, MIN).await?.is_empty(),
        "nothing behind a leased head"
    );
    s.ack_one(&first[0].lease).await?;
    s.ack_one(&first[1].lease).await?;
    let second = s.lease("w2", 10, MIN).await?;
    ensure_eq!(
        second.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![a2.id],
        "the next of the lane once the head is done"
    );
    s.retry_later(&second[0].lease, MIN, "later").await?;
    ensure!(
        s.lease("w2", 10, MIN).await?.is_empty(),
        "a message waiting for a retry holds its lane"
    );
    clock.advance(MIN);
    let third = s.lease("w2", 10, MIN).await?;
    ensure_eq!(
        third.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![a2.id],
        "the retried message comes back first"
    );
    clock.advance(MIN + Duration::from_secs(1));
    let fourth = s.lease("w3", 10, MIN).await?;
    ensure_eq!(
        fourth.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![a2.id],
        "an expired head is leased again before the rest of its lane"
    );
    s.dead_letter(
        &fourth[0].lease,
        Failure::new(FailureClass::Technical, "poison"),
    )
    .await?;
    let fifth = s.lease("w3", 10, MIN).await?;
    ensure_eq!(
        fifth.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![a3.id],
        "a dead-lettered message does not block its lane"
    );
    // Messages enqueued later on a lane that emptied start a new head.
    s.ack_one(&fifth[0].lease).await?;
    let a4 = message("contract", "A", 4)?;
    s.enqueue(&a4).await?;
    let sixth = s.lease("w3", 10, MIN).await?;
    ensure_eq!(
        sixth.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![a4.id],
        "new message on an emptied lane"
    );
    Ok(Outcome::Passed)
}

/// Four concurrent workers drain 300 messages over 12 lanes: each acked once, lanes in order,
/// never two messages of one lane in flight together.
pub async fn concurrent_workers_keep_lane_order<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, _clock) = fresh(f).await?;
    let lanes = 12;
    let per_lane = 25;
    let mut batch = Vec::new();
    for n in 0..per_lane {
        for l in 0..lanes {
            batch.push(message("lane", &l.to_string(), n)?);
        }
    }
    ensure_eq!(s.enqueue_batch(&batch).await?, batch.len(), "all enqueued");
    let state = Arc::new(std::sync::Mutex::new(DrainState::default()));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            drain(&s, &format!("w{w}"), 7, &state).await
        }));
    }
    for t in tasks {
        match t.await {
            Ok(r) => r?,
            Err(e) => return Err(CheckFailure::new(format!("worker task failed: {e}"))),
        }
    }
    let st = std::mem::take(
        &mut *state
            .lock()
            .map_err(|_| CheckFailure::new("drain state poisoned"))?,
    );
    if let Some(e) = &st.error {
        return Err(CheckFailure::new(e.clone()));
    }
    ensure_eq!(st.acked.len(), batch.len(), "every message acked");
    for l in 0..lanes {
        let seen = st.order.get(&l.to_string()).cloned().unwrap_or_default();
        ensure_eq!(
            seen,
            (0..per_lane).collect::<Vec<_>>(),
            "lane {l} processed in order"
        );
    }
    ensure_eq!(s.stats().await?.depth, 0, "queue drained");
    Ok(Outcome::Passed)
}

#[derive(Default)]
struct DrainState {
    in_flight: HashSet<String>,
    order: HashMap<String, Vec<u32>>,
    acked: HashSet<MessageId>,
    error: Option<String>,
}

async fn drain<S: StateStore>(
    s: &S,
    worker: &str,
    batch: usize,
    state: &std::sync::Mutex<DrainState>,
) -> Result<(), CheckFailure> {
    let mut idle = 0;
    while idle < 50 {
        let leased = s.lease(worker, batch, MIN).await?;
        if leased.is_empty() {
            idle += 1;
            tokio::task::yield_now().await;
            continue;
        }
        idle = 0;
        {
            let mut st = state
                .lock()
                .map_err(|_| CheckFailure::new("drain state poisoned"))?;
            for m in &leased {
                let lane = m.envelope.payload["id"].as_str().unwrap_or("").to_owned();
                let n = m.envelope.payload["n"].as_u64().unwrap_or(u64::MAX) as u32;
                if !st.in_flight.insert(lane.clone()) {
                    st.error = Some(format!("lane {lane} had two messages in flight"));
                }
                st.order.entry(lane).or_default().push(n);
            }
        }
        tokio::task::yield_now().await;
        {
            let mut st = state
                .lock()
                .map_err(|_| CheckFailure::new("drain state poisoned"))?;
            for m in &leased {
                let lane = m.envelope.payload["id"].as_str().unwrap_or("");
                st.in_flight.remove(lane);
            }
        }
        let leases: Vec<_> = leased.iter().map(|m| m.lease.clone()).collect();
        let acked = s.ack(&leases).await?;
        let mut st = state
            .lock()
            .map_err(|_| CheckFailure::new("drain state poisoned"))?;
        if acked.len() != leased.len() {
            st.error = Some(format!(
                "{worker}: acked {} of {}",
                acked.len(),
                leased.len()
            ));
        }
        for id in acked {
            if !st.acked.insert(id) {
                st.error = Some(format!("message {id} acked twice"));
            }
        }
    }
    Ok(())
}

/// Dead letters: parked from the queue or directly, listed by every filter, replay recorded,
/// counted by reason.
pub async fn dead_letter_park_list_replay<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let m = message("contract", "9", 3)?;
    s.enqueue(&m).await?;
    let l = s.lease("w1", 1, MIN).await?;
    ensure_eq!(l.len(), 1, "leased");
    s.retry_later(&l[0].lease, Duration::ZERO, "first try")
        .await?;
    let l = s.lease("w1", 1, MIN).await?;
    ensure_eq!(l.len(), 1, "leased again");
    let failure = Failure::new(FailureClass::Business, "Contract cap reached")
        .with_errors(vec!["cap reached".into(), "limit 10000 EUR".into()])
        .with_context(json!({"step": "validate", "cap": 10000}));
    let id = s.dead_letter(&l[0].lease, failure.clone()).await?;
    ensure!(
        matches!(
            s.get(m.id).await?.map(|g| g.state),
            Some(MessageState::DeadLettered { .. })
        ),
        "message state is dead-lettered"
    );
    ensure_eq!(s.stats().await?.depth, 0, "a dead letter leaves the queue");
    let dl = s.dead_letter_by_id(id).await?;
    let Some(dl) = dl else {
        return Err(CheckFailure::new("dead letter not found by id"));
    };
    ensure_eq!(dl.envelope, m, "payload kept");
    ensure_eq!(dl.failure, failure, "failure kept");
    ensure_eq!(dl.attempts, 2, "attempts include the last one");
    ensure_eq!(dl.parked_at, clock.now(), "parked at");
    ensure!(dl.replay.is_none(), "not replayed yet");

    clock.advance(Duration::from_secs(3600));
    let other = Envelope::builder(
        IdempotencyKey::for_effect("payment", "p1", "1", "register")?,
        json!({"amount": "12.50"}),
    )
    .source("bank")
    .legal_entity(legal_entity("acme-nl")?)
    .build()?;
    let id2 = s
        .park(
            &other,
            Failure::new(FailureClass::Technical, "100%_done odoo timeout"),
            5,
        )
        .await?;
    let id3 = s
        .park(
            &other,
            Failure::new(FailureClass::Technical, "100%_done odoo timeout"),
            1,
        )
        .await?;

    let ids = |v: Vec<odoo_connect_sync::store::DeadLetter>| {
        v.into_iter().map(|d| d.id).collect::<Vec<_>>()
    };
    ensure_eq!(
        ids(s.list_dead_letters(&DeadLetterFilter::all()).await?),
        vec![id, id2, id3],
        "all, oldest first"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().source("bank"))
            .await?),
        vec![id2, id3],
        "by source"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().reason_contains("CAP reach"))
            .await?),
        vec![id],
        "by reason text, case ignored"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().reason_contains("0%_d"))
            .await?),
        vec![id2, id3],
        "reason text with LIKE wildcards matched literally"
    );
    ensure!(
        s.list_dead_letters(&DeadLetterFilter::all().reason_contains("0%%d"))
            .await?
            .is_empty(),
        "wildcards are not wildcards"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().lane(m.lane.clone()))
            .await?),
        vec![id],
        "by lane"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(
                &DeadLetterFilter::all().idempotency_key(other.idempotency_key.clone())
            )
            .await?),
        vec![id2, id3],
        "by key"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
            .await?),
        vec![id],
        "by class"
    );
    let t0 = start_time();
    ensure_eq!(
        ids(s
            .list_dead_letters(
                &DeadLetterFilter::all().parked_between(t0, t0 + chrono::Duration::seconds(1))
            )
            .await?),
        vec![id],
        "by time range"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(
                &DeadLetterFilter::all()
                    .parked_between(t0 + chrono::Duration::seconds(1), clock.now())
            )
            .await?),
        Vec::<odoo_connect_sync::store::DeadLetterId>::new(),
        "time range end is exclusive"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().limit(1))
            .await?),
        vec![id],
        "limit"
    );
    ensure!(
        s.list_dead_letters(&DeadLetterFilter::all().lane(Lane::new("nope")?))
            .await?
            .is_empty(),
        "no match"
    );

    let counts = s.count_by_reason().await?;
    ensure_eq!(
        counts
            .iter()
            .map(|c| (c.class, c.reason.as_str(), c.count))
            .collect::<Vec<_>>(),
        vec![
            (FailureClass::Technical, "100%_done odoo timeout", 2),
            (FailureClass::Business, "Contract cap reached", 1)
        ],
        "count by reason"
    );

    clock.advance(Duration::from_secs(10));
    let replay_msg = m.for_replay();
    s.mark_replayed(id, "alice@acme", Some(replay_msg.id))
        .await?;
    let dl = s.dead_letter_by_id(id).await?;
    let replay = dl.and_then(|d| d.replay);
    ensure_eq!(
        replay.as_ref().map(|r| (r.by.as_str(), r.at, r.message_id)),
        Some(("alice@acme", clock.now(), Some(replay_msg.id))),
        "replay recorded and record kept"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().replayed(true))
            .await?),
        vec![id],
        "replayed"
    );
    ensure_eq!(
        ids(s
            .list_dead_letters(&DeadLetterFilter::all().replayed(false))
            .await?),
        vec![id2, id3],
        "not replayed"
    );
    ensure_eq!(
        s.count_by_reason().await?.len(),
        1,
        "replayed letters are not counted as open"
    );
    ensure!(
        s.mark_replayed(odoo_connect_sync::store::DeadLetterId::new(), "bob", None)
            .await
            .is_err_and(|e| e.is_not_found()),
        "unknown dead letter"
    );
    // The replayed message is a new delivery of the same effect: the queue accepts it.
    ensure!(
        s.enqueue(&replay_msg).await?,
        "replay enqueued under a new id"
    );
    Ok(Outcome::Passed)
}

fn claim_of(b: &Begin) -> Option<&Claim> {
    match b {
        Begin::New(c) | Begin::Resumed { claim: c, .. } => Some(c),
        _ => None,
    }
}

/// begin / complete / abandon / fail / expiry of claims.
pub async fn ledger_lifecycle<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project")?;
    let intent = json!({"model": "project.project", "xmlid": key.to_external_id_name()});
    ensure!(s.entry(&key).await?.is_none(), "no entry yet");
    let b = s.begin(&key, &intent, MIN).await?;
    let Begin::New(claim) = b else {
        return Err(CheckFailure::new(format!(
            "first begin must be New, got {b:?}"
        )));
    };
    ensure_eq!(claim.attempts, 1, "first attempt");
    let e = s.entry(&key).await?;
    ensure_eq!(
        e.as_ref().map(|e| (e.state, e.intent.clone(), e.attempts)),
        Some((LedgerState::InFlight, intent.clone(), 1)),
        "intent recorded before the effect"
    );
    ensure_eq!(
        s.begin(&key, &intent, MIN).await?,
        Begin::InFlight {
            attempts: 1,
            claimed_until: claim.claimed_until
        },
        "a held claim is reported in flight"
    );
    s.complete(&claim, &json!({"id": 7})).await?;
    ensure_eq!(
        s.begin(&key, &intent, MIN).await?,
        Begin::Done {
            outcome: json!({"id": 7})
        },
        "done with its outcome"
    );
    s.complete(&claim, &json!({"id": 8})).await?;
    ensure_eq!(
        s.entry(&key).await?.and_then(|e| e.outcome),
        Some(json!({"id": 7})),
        "the first outcome is kept"
    );
    ensure!(
        s.abandon(&claim, None).await.is_err_and(|e| e.is_lost()),
        "a done claim cannot be abandoned"
    );

    // Abandon, then fail: each lets the next begin resume.
    let k2 = IdempotencyKey::for_effect("invoice", "5", "1", "post")?;
    let c1 = s.begin(&k2, &json!({}), MIN).await?;
    let Some(c1) = claim_of(&c1).cloned() else {
        return Err(CheckFailure::new("new claim expected"));
    };
    s.abandon(&c1, Some("rate limited")).await?;
    let b2 = s.begin(&k2, &json!({"try": 2}), MIN).await?;
    let Begin::Resumed {
        claim: c2,
        last_error,
    } = b2
    else {
        return Err(CheckFailure::new(format!("resume expected, got {b2:?}")));
    };
    ensure_eq!(
        (c2.attempts, last_error.as_deref()),
        (2, Some("rate limited")),
        "resumed after abandon"
    );
    ensure!(c2.token != c1.token, "new claim token");
    ensure!(
        s.abandon(&c1, None).await.is_err_and(|e| e.is_lost()),
        "an old claim cannot release a new one"
    );
    s.fail(&c2, "validation error").await?;
    ensure_eq!(
        s.entry(&k2).await?.map(|e| (e.state, e.last_error)),
        Some((LedgerState::Failed, Some("validation error".to_owned()))),
        "failure recorded"
    );
    let b3 = s.begin(&k2, &json!({}), MIN).await?;
    ensure!(
        matches!(&b3, Begin::Resumed { claim, last_error } if claim.attempts == 3 && last_error.as_deref() == Some("validation error")),
        "a failed effect may be tried again (replay): {b3:?}"
    );

    // A claim that expires (its holder crashed) is resumed by the next begin.
    let k3 = IdempotencyKey::for_effect("project", "p", "1", "create")?;
    let b = s.begin(&k3, &json!({}), Duration::from_secs(30)).await?;
    ensure!(matches!(b, Begin::New(_)), "new");
    clock.advance(Duration::from_secs(29));
    ensure!(
        matches!(s.begin(&k3, &json!({}), MIN).await?, Begin::InFlight { .. }),
        "claim held until it expires"
    );
    clock.advance(Duration::from_secs(1));
    let b = s.begin(&k3, &json!({}), MIN).await?;
    ensure!(
        matches!(&b, Begin::Resumed { claim, .. } if claim.attempts == 2),
        "expired claim resumed: {b:?}"
    );
    Ok(Outcome::Passed)
}

/// Of many concurrent `begin`s for one key, exactly one gets the claim.
pub async fn ledger_concurrent_begin<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let second = f.reopen(&s, suite_options(&clock)?).await?;
    for k in 0..5 {
        let key = IdempotencyKey::for_effect("contract", &k.to_string(), "1", "create")?;
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store_a = s.clone();
            let store_b = second.clone();
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let intent = json!({"worker": i});
                match (i % 2, store_b) {
                    (1, Some(b)) => b.begin(&key, &intent, MIN).await,
                    _ => store_a.begin(&key, &intent, MIN).await,
                }
            }));
        }
        let mut new = 0;
        let mut in_flight = 0;
        for t in tasks {
            match t.await {
                Ok(Ok(Begin::New(_))) => new += 1,
                Ok(Ok(Begin::InFlight { attempts: 1, .. })) => in_flight += 1,
                Ok(Ok(other)) => {
                    return Err(CheckFailure::new(format!("unexpected begin: {other:?}")));
                }
                Ok(Err(e)) => return Err(e.into()),
                Err(e) => return Err(CheckFailure::new(format!("task failed: {e}"))),
            }
        }
        ensure_eq!((new, in_flight), (1, 15), "exactly one New for key {k}");
    }
    Ok(Outcome::Passed)
}

/// `begin_many` and `complete_many` answer like their single forms, in request order; of
/// concurrent overlapping batches, exactly one gets each key.
pub async fn ledger_batches<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let k = |n: u32| IdempotencyKey::for_effect("invoice", &n.to_string(), "1", "post");
    let (k1, k2, k3) = (k(1)?, k(2)?, k(3)?);
    let answers = s
        .begin_many(
            &[
                (k2.clone(), json!("intent as a JSON string")),
                (k1.clone(), json!({"i": 1})),
                (k2.clone(), json!({"dup": true})),
            ],
            MIN,
        )
        .await?;
    ensure_eq!(answers.len(), 3, "one answer per request");
    let (Begin::New(c2), Begin::New(c1)) = (&answers[0], &answers[1]) else {
        return Err(CheckFailure::new(format!("two New expected: {answers:?}")));
    };
    ensure!(
        matches!(answers[2], Begin::InFlight { attempts: 1, .. }),
        "a key repeated in one batch is in flight the second time: {:?}",
        answers[2]
    );
    ensure_eq!(
        s.entry(&k2).await?.map(|e| e.intent),
        Some(json!("intent as a JSON string")),
        "intent stored as JSON"
    );
    s.complete_many(&[(c1.clone(), json!({"id": 1})), (c2.clone(), json!("two"))])
        .await?;
    let answers = s
        .begin_many(
            &[
                (k1.clone(), json!({})),
                (k3.clone(), json!({})),
                (k2.clone(), json!({})),
            ],
            MIN,
        )
        .await?;
    ensure_eq!(
        answers[0],
        Begin::Done {
            outcome: json!({"id": 1})
        },
        "k1 done"
    );
    ensure_eq!(
        answers[2],
        Begin::Done {
            outcome: json!("two")
        },
        "k2 done"
    );
    let Begin::New(c3) = &answers[1] else {
        return Err(CheckFailure::new(format!(
            "k3 new expected: {:?}",
            answers[1]
        )));
    };
    s.abandon(c3, Some("later")).await?;
    clock.advance(Duration::from_secs(1));
    let again = s.begin_many(&[(k3.clone(), json!({}))], MIN).await?;
    ensure!(
        matches!(&again[..], [Begin::Resumed { claim, last_error }] if claim.attempts == 2 && last_error.as_deref() == Some("later")),
        "resumed in a batch: {again:?}"
    );
    let stranger = Claim {
        key: k(99)?,
        token: uuid::Uuid::new_v4(),
        attempts: 1,
        claimed_until: clock.now(),
    };
    ensure!(
        s.complete_many(&[(stranger, json!({}))])
            .await
            .is_err_and(|e| e.is_lost()),
        "completing a key that was never begun is refused"
    );

    // Overlapping batches in different orders, concurrently.
    let keys: Vec<IdempotencyKey> = (100..120).map(k).collect::<Result<_, _>>()?;
    let mut tasks = Vec::new();
    for t in 0..6_usize {
        let s = s.clone();
        let mut mine: Vec<(IdempotencyKey, Value)> = keys
            .iter()
            .map(|k| (k.clone(), json!({"task": t})))
            .collect();
        mine.rotate_left(t * 3);
        if t % 2 == 1 {
            mine.reverse();
        }
        tasks.push(tokio::spawn(async move {
            s.begin_many(&mine, MIN).await.map(|a| (mine, a))
        }));
    }
    let mut winners: HashMap<IdempotencyKey, u32> = HashMap::new();
    for t in tasks {
        let (reqs, answers) = match t.await {
            Ok(r) => r?,
            Err(e) => return Err(CheckFailure::new(format!("task failed: {e}"))),
        };
        for ((key, _), a) in reqs.iter().zip(&answers) {
            match a {
                Begin::New(_) => *winners.entry(key.clone()).or_default() += 1,
                Begin::InFlight { .. } => {}
                other => return Err(CheckFailure::new(format!("unexpected {other:?}"))),
            }
        }
    }
    ensure_eq!(winners.len(), keys.len(), "every key won once");
    ensure!(
        winners.values().all(|n| *n == 1),
        "exactly one New per key: {winners:?}"
    );
    Ok(Outcome::Passed)
}

/// Checkpoints move by compare-and-set; reset clears the cursor and still bumps the version.
pub async fn checkpoint_compare_and_set<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let key = CheckpointKey::new("hubspot", "deals", legal_entity("acme-be")?);
    let other = CheckpointKey::new("hubspot", "deals", legal_entity("acme-nl")?);
    ensure!(s.checkpoint(&key).await?.is_none(), "no checkpoint yet");
    let c1 = s
        .commit_checkpoint(&key, 0, &json!({"updated_at": "2025-01-01T00:00:00Z"}))
        .await?;
    ensure_eq!(c1.version, 1, "first version");
    ensure!(
        matches!(
            s.commit_checkpoint(&key, 0, &json!("x")).await,
            Err(StoreError::CheckpointConflict {
                expected: 0,
                actual: 1
            })
        ),
        "a second first commit conflicts"
    );
    ensure!(
        s.commit_checkpoint(&other, 5, &json!("x"))
            .await
            .is_err_and(|e| e.is_conflict()),
        "expecting a version that does not exist conflicts"
    );
    clock.advance(Duration::from_secs(1));
    let c2 = s.commit_checkpoint(&key, 1, &json!({"page": 2})).await?;
    ensure_eq!(
        (c2.version, c2.updated_at),
        (2, clock.now()),
        "second version"
    );
    ensure!(
        matches!(
            s.commit_checkpoint(&key, 1, &json!({"page": 1})).await,
            Err(StoreError::CheckpointConflict {
                expected: 1,
                actual: 2
            })
        ),
        "a stale worker cannot move the cursor back"
    );
    let got = s.checkpoint(&key).await?;
    ensure_eq!(
        got.map(|c| (c.cursor, c.version)),
        Some((Some(json!({"page": 2})), 2)),
        "stored cursor"
    );
    ensure!(
        s.checkpoint(&other).await?.is_none(),
        "keys are independent"
    );
    let r = s.reset_checkpoint(&key).await?;
    ensure_eq!(
        (r.cursor, r.version),
        (None, 3),
        "reset clears the cursor, bumps the version"
    );
    ensure!(
        s.commit_checkpoint(&key, 2, &json!("old"))
            .await
            .is_err_and(|e| e.is_conflict()),
        "a worker from before the reset cannot commit"
    );
    let c4 = s.commit_checkpoint(&key, 3, &json!({"page": 1})).await?;
    ensure_eq!(c4.version, 4, "commit after reset");
    let r = s.reset_checkpoint(&other).await?;
    ensure_eq!(
        (r.cursor, r.version),
        (None, 1),
        "reset of a missing checkpoint"
    );
    Ok(Outcome::Passed)
}

/// Audit records come back in append order, filtered, with sensitive fields redacted.
pub async fn audit_order_and_redaction<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let m1 = message("opportunity", "X", 1)?;
    let m2 = message("opportunity", "Y", 1)?;
    let deal = CorrelationId::new("deal-X")?;
    let mut seqs = Vec::new();
    seqs.push(
        s.append(
            AuditEvent::new(AuditKind::MessageReceived)
                .for_envelope(&m1)
                .correlation_id(deal.clone()),
        )
        .await?,
    );
    clock.advance(Duration::from_secs(1));
    seqs.push(
        s.append(AuditEvent::new(AuditKind::MessageReceived).for_envelope(&m2))
            .await?,
    );
    clock.advance(Duration::from_secs(1));
    seqs.push(
        s.append(
            AuditEvent::new(AuditKind::CredentialUsed)
                .for_envelope(&m1)
                .correlation_id(deal.clone())
                .credential_label("odoo-contracts")
                .step("apply")
                .details(json!({"secret": "hunter2", "user": "svc",
                                "cards": [{"number": "4111"}, {"number": "5500", "exp": "12/29"}]})),
        )
        .await?,
    );
    clock.advance(Duration::from_secs(1));
    seqs.push(
        s.append(
            AuditEvent::new(AuditKind::ManualReplay)
                .correlation_id(deal.clone())
                .actor("alice@acme")
                .outcome("replayed"),
        )
        .await?,
    );
    ensure!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers grow: {seqs:?}"
    );

    let by_deal = s
        .query_audit(&AuditQuery::all().correlation_id(deal.clone()))
        .await?;
    ensure_eq!(
        by_deal.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![seqs[0], seqs[2], seqs[3]],
        "by correlation id, in order"
    );
    ensure_eq!(
        by_deal
            .iter()
            .map(|r| r.event.kind.clone())
            .collect::<Vec<_>>(),
        vec![
            AuditKind::MessageReceived,
            AuditKind::CredentialUsed,
            AuditKind::ManualReplay
        ],
        "kinds"
    );
    let cred = &by_deal[1];
    ensure_eq!(
        cred.event.details,
        json!({"secret": REDACTED, "user": "svc",
               "cards": [{"number": REDACTED}, {"number": REDACTED, "exp": "12/29"}]}),
        "sensitive fields redacted before storing"
    );
    ensure_eq!(
        cred.event.credential_label.as_deref(),
        Some("odoo-contracts"),
        "credential label"
    );
    ensure_eq!(cred.event.message_id, Some(m1.id), "message id");
    ensure_eq!(
        cred.at,
        start_time() + chrono::Duration::seconds(2),
        "time recorded"
    );
    ensure_eq!(
        by_deal[2].event.actor.as_deref(),
        Some("alice@acme"),
        "actor"
    );
    ensure_eq!(
        s.query_audit(&AuditQuery::all().idempotency_key(m2.idempotency_key.clone()))
            .await?
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![seqs[1]],
        "by idempotency key"
    );
    ensure_eq!(
        s.query_audit(&AuditQuery::all().message_id(m1.id))
            .await?
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![seqs[0], seqs[2]],
        "by message id"
    );
    let t0 = start_time();
    ensure_eq!(
        s.query_audit(&AuditQuery::all().between(
            t0 + chrono::Duration::seconds(1),
            t0 + chrono::Duration::seconds(3)
        ))
        .await?
        .iter()
        .map(|r| r.seq)
        .collect::<Vec<_>>(),
        vec![seqs[1], seqs[2]],
        "by time range, end exclusive"
    );
    ensure_eq!(
        s.query_audit(&AuditQuery::all().after_seq(seqs[1]).limit(1))
            .await?
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![seqs[2]],
        "paging"
    );
    Ok(Outcome::Passed)
}

/// A new instance over the same storage sees everything: queue (leases included), ledger,
/// checkpoints, dead letters, audit.
pub async fn reopen_keeps_state<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let m1 = message("contract", "1", 1)?;
    let m2 = message("contract", "2", 1)?;
    let m3 = message("contract", "3", 1)?;
    s.enqueue_batch(&[m1.clone(), m2.clone(), m3.clone()])
        .await?;
    let leased = s.lease("w1", 2, MIN).await?;
    ensure_eq!(leased.len(), 2, "leased");
    s.ack_one(&leased[0].lease).await?;
    let key = m1.idempotency_key.clone();
    let b = s.begin(&key, &json!({"i": 1}), MIN).await?;
    let Some(claim) = claim_of(&b).cloned() else {
        return Err(CheckFailure::new("claim expected"));
    };
    s.complete(&claim, &json!({"id": 1})).await?;
    let ck = CheckpointKey::new("crm", "deals", legal_entity("acme-be")?);
    s.commit_checkpoint(&ck, 0, &json!("cursor-1")).await?;
    let dl = s
        .park(&m3, Failure::new(FailureClass::Technical, "boom"), 1)
        .await?;
    let seq = s
        .append(AuditEvent::new(AuditKind::MessageReceived).for_envelope(&m1))
        .await?;

    let Some(r) = f.reopen(&s, suite_options(&clock)?).await? else {
        return Ok(Outcome::Skipped(
            "the backend keeps nothing across instances",
        ));
    };
    drop(s);
    ensure_eq!(r.stats().await?.depth, 2, "queue depth survives");
    ensure!(
        matches!(
            r.get(m1.id).await?.map(|g| g.state),
            Some(MessageState::Done { .. })
        ),
        "done survives"
    );
    ensure!(
        r.lease("w2", 10, MIN)
            .await?
            .iter()
            .all(|m| m.envelope.id != m2.id),
        "lease survives"
    );
    r.ack_one(&leased[1].lease).await?;
    ensure_eq!(
        r.begin(&key, &json!({}), MIN).await?,
        Begin::Done {
            outcome: json!({"id": 1})
        },
        "ledger survives"
    );
    ensure_eq!(
        r.checkpoint(&ck).await?.map(|c| (c.cursor, c.version)),
        Some((Some(json!("cursor-1")), 1)),
        "checkpoint survives"
    );
    ensure!(
        r.dead_letter_by_id(dl).await?.is_some(),
        "dead letter survives"
    );
    let audit = r.query_audit(&AuditQuery::all()).await?;
    ensure_eq!(
        audit.iter().map(|a| a.seq).collect::<Vec<_>>(),
        vec![seq],
        "audit survives"
    );
    let next = r.append(AuditEvent::new(AuditKind::StepOutcome)).await?;
    ensure!(next > seq, "audit sequence keeps growing after reopen");
    ensure_eq!(
        r.query_audit(&AuditQuery::all()).await?.len(),
        2,
        "appended after reopen"
    );
    let _ = Value::Null;
    Ok(Outcome::Passed)
}

/// A message in lane `lane`, number `n`, tagged with `flow` in its payload when given.
fn flow_message(lane: &str, n: u32, flow: Option<&str>) -> Result<JsonEnvelope, EnvelopeError> {
    let key = IdempotencyKey::for_effect("record", lane, &format!("v{n}"), "apply")?;
    let payload = match flow {
        Some(f) => json!({"flow": f, "n": n}),
        None => json!({"n": n}),
    };
    Envelope::builder(key, payload)
        .source("crm")
        .legal_entity(legal_entity("acme-be")?)
        .lane(Lane::new(lane)?)
        .occurred_at(start_time())
        .build()
}

/// A row the store cannot decode is parked with its raw bytes, its lane is freed, and the rest
/// is leased; leasing never fails because of it.
pub async fn poison_rows_are_quarantined<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, _clock) = fresh(f).await?;
    let bad = flow_message("x", 1, None)?;
    let behind = flow_message("x", 2, None)?;
    let other = flow_message("y", 1, None)?;
    s.enqueue_batch(&[bad.clone(), behind.clone(), other.clone()])
        .await?;
    let raw = br#"{"not": "an envelope"}"#;
    if !f.corrupt_message(&s, bad.id, raw).await? {
        return Ok(Outcome::Skipped(
            "the backend cannot hold an undecodable row",
        ));
    }
    let first = s.lease("w1", 10, MIN).await?;
    ensure_eq!(
        first.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![other.id],
        "the good message is leased, the bad one is not"
    );
    let letters = s.list_dead_letters(&DeadLetterFilter::all()).await?;
    ensure_eq!(letters.len(), 1, "one quarantined row");
    let dl = &letters[0];
    ensure!(dl.is_quarantined(), "the dead letter keeps the raw row");
    let kept: Value = serde_json::from_slice(dl.raw.as_deref().unwrap_or_default())
        .map_err(|e| CheckFailure::new(format!("raw bytes are not the stored JSON: {e}")))?;
    ensure_eq!(kept, json!({"not": "an envelope"}), "raw bytes");
    ensure_eq!(dl.failure.class, FailureClass::Technical, "class");
    ensure!(
        dl.failure.reason.starts_with("undecodable: "),
        "reason {:?}",
        dl.failure.reason
    );
    ensure_eq!(dl.envelope.id, bad.id, "the stand-in keeps the message id");
    ensure_eq!(
        dl.envelope.lane.as_str(),
        "x",
        "the stand-in keeps the lane"
    );
    ensure!(
        matches!(
            s.get(bad.id).await?.map(|m| m.state),
            Some(MessageState::DeadLettered { .. })
        ),
        "the row is finished"
    );
    let counts = s.count_by_reason().await?;
    ensure!(
        counts.iter().any(|c| c.reason.starts_with("undecodable")),
        "counted by reason: {counts:?}"
    );
    // The lane is free: the message behind the bad one comes next.
    let second = s.lease("w1", 10, MIN).await?;
    ensure_eq!(
        second.iter().map(|m| m.envelope.id).collect::<Vec<_>>(),
        vec![behind.id],
        "the lane goes on"
    );
    Ok(Outcome::Passed)
}

/// `release` gives a lease back at once, without counting a failed attempt; a stale lease is
/// left out.
pub async fn release_gives_leases_back<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let a = message("contract", "1", 1)?;
    s.enqueue(&a).await?;
    let leased = s.lease("w1", 1, MIN).await?;
    ensure_eq!(leased.len(), 1, "leased");
    let released = s.release(&[leased[0].lease.clone()]).await?;
    ensure_eq!(released, vec![a.id], "released");
    let m = s.get(a.id).await?;
    ensure_eq!(
        m.as_ref().map(|m| m.state.clone()),
        Some(MessageState::Ready),
        "ready"
    );
    ensure_eq!(m.map(|m| m.attempts), Some(0), "no attempt counted");
    ensure_eq!(s.stats().await?.in_flight, 0, "nothing in flight");
    let again = s.lease("w2", 1, MIN).await?;
    ensure_eq!(again.len(), 1, "leased again at once");
    ensure!(
        s.release(&[leased[0].lease.clone()]).await?.is_empty(),
        "the first, stale lease releases nothing"
    );
    clock.advance(Duration::from_secs(1));
    ensure!(
        matches!(
            s.get(a.id).await?.map(|m| m.state),
            Some(MessageState::Leased { .. })
        ),
        "the second lease holds"
    );
    Ok(Outcome::Passed)
}

/// Listing by state, flow (payload `flow` tag or source), lane and age, oldest first, in pages.
pub async fn queue_listing_filters_and_pages<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let p1a = flow_message("p:1", 1, None)?;
    let p1b = flow_message("p:1", 2, Some("time"))?;
    let p2 = flow_message("p:2", 1, None)?;
    s.enqueue_batch(&[p1a.clone(), p1b.clone(), p2.clone()])
        .await?;
    clock.advance(MIN);
    let middle = clock.now();
    let p3 = flow_message("p:3", 1, Some("time"))?;
    let p4 = flow_message("p:4", 1, None)?;
    s.enqueue_batch(&[p3.clone(), p4.clone()]).await?;
    let all = [p1a.id, p1b.id, p2.id, p3.id, p4.id];

    let first = match s.list_messages(&QueueFilter::all()).await {
        Err(StoreError::Unsupported { .. }) => {
            return Ok(Outcome::Skipped("the backend does not list its queue"));
        }
        other => other?,
    };
    ensure_eq!(
        first
            .items
            .iter()
            .map(|e| e.message.envelope.id)
            .collect::<Vec<_>>(),
        all.to_vec(),
        "everything, oldest first"
    );
    ensure_eq!(first.next, None, "one page");

    let leased = s.lease("w1", 10, MIN).await?;
    let lease_of = |id| {
        leased
            .iter()
            .find(|m| m.envelope.id == id)
            .map(|m| m.lease.clone())
            .ok_or_else(|| CheckFailure::new("not leased"))
    };
    s.ack(&[lease_of(p2.id)?]).await?;
    s.retry_later(&lease_of(p3.id)?, MIN, "later").await?;
    s.release(&[lease_of(p1a.id)?]).await?;
    // p4 stays leased.

    let ids = |state: Option<QueueState>| {
        let mut filter = QueueFilter::all();
        filter.state = state;
        let s = &s;
        async move {
            Ok::<_, CheckFailure>(
                s.list_messages(&filter)
                    .await?
                    .items
                    .into_iter()
                    .map(|e| e.message.envelope.id)
                    .collect::<Vec<_>>(),
            )
        }
    };
    ensure_eq!(
        ids(Some(QueueState::Ready)).await?,
        vec![p1a.id, p1b.id],
        "ready"
    );
    ensure_eq!(ids(Some(QueueState::Leased)).await?, vec![p4.id], "leased");
    ensure_eq!(
        ids(Some(QueueState::Scheduled)).await?,
        vec![p3.id],
        "scheduled"
    );
    ensure_eq!(ids(Some(QueueState::Done)).await?, vec![p2.id], "done");
    ensure_eq!(
        ids(Some(QueueState::DeadLettered)).await?,
        Vec::<MessageId>::new(),
        "dead"
    );
    ensure_eq!(
        ids(Some(QueueState::Unfinished)).await?,
        vec![p1a.id, p1b.id, p3.id, p4.id],
        "unfinished"
    );

    let list = |filter: QueueFilter| {
        let s = &s;
        async move {
            Ok::<_, CheckFailure>(
                s.list_messages(&filter)
                    .await?
                    .items
                    .into_iter()
                    .map(|e| e.message.envelope.id)
                    .collect::<Vec<_>>(),
            )
        }
    };
    ensure_eq!(
        list(QueueFilter::all().flow("time")).await?,
        vec![p1b.id, p3.id],
        "flow by payload tag"
    );
    ensure_eq!(
        list(QueueFilter::all().flow("crm")).await?,
        vec![p1a.id, p2.id, p4.id],
        "flow by source when there is no tag"
    );
    ensure_eq!(
        list(QueueFilter::all().lane(Lane::new("p:1")?)).await?,
        vec![p1a.id, p1b.id],
        "lane"
    );
    ensure_eq!(
        list(QueueFilter::all().enqueued_before(middle)).await?,
        vec![p1a.id, p1b.id, p2.id],
        "older than"
    );
    ensure_eq!(
        list(
            QueueFilter::all()
                .state(QueueState::Unfinished)
                .flow("time")
                .enqueued_before(middle)
        )
        .await?,
        vec![p1b.id],
        "filters combine"
    );

    // Pages of two.
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..5 {
        let mut filter = QueueFilter::all().limit(2);
        filter.after = cursor;
        let page = s.list_messages(&filter).await?;
        ensure!(page.items.len() <= 2, "page size");
        seen.extend(page.items.iter().map(|e| e.message.envelope.id));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    ensure_eq!(
        seen,
        all.to_vec(),
        "paging visits every message once, in order"
    );
    Ok(Outcome::Passed)
}

/// Retention deletes finished rows, done ledger entries, replayed dead letters and audit records
/// older than their periods, and keeps unfinished messages, open dead letters, unfinished ledger
/// entries and everything recent; a dry run counts the same and deletes nothing.
pub async fn retention_purges_only_what_it_may<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let day = Duration::from_secs(24 * 3600);
    let done = flow_message("r:1", 1, None)?;
    let dead = flow_message("r:2", 1, None)?;
    let retrying = flow_message("r:3", 1, None)?;
    let leased_msg = flow_message("r:4", 1, None)?;
    s.enqueue_batch(&[
        done.clone(),
        dead.clone(),
        retrying.clone(),
        leased_msg.clone(),
    ])
    .await?;
    let leased = s.lease("w1", 10, MIN).await?;
    let lease_of = |id| {
        leased
            .iter()
            .find(|m| m.envelope.id == id)
            .map(|m| m.lease.clone())
            .ok_or_else(|| CheckFailure::new("not leased"))
    };
    s.ack(&[lease_of(done.id)?]).await?;
    let open_dl = s
        .dead_letter(
            &lease_of(dead.id)?,
            Failure::new(FailureClass::Business, "cap reached"),
        )
        .await?;
    s.retry_later(&lease_of(retrying.id)?, 60 * day, "down")
        .await?;

    let key = |n: &str| IdempotencyKey::for_effect("effect", n, "v1", "apply");
    let (k_done, k_flight, k_failed) = (key("done")?, key("flight")?, key("failed")?);
    if let Begin::New(c) = s.begin(&k_done, &json!({}), MIN).await? {
        s.complete(&c, &json!({"id": 1})).await?;
    }
    s.begin(&k_flight, &json!({}), 365 * day).await?;
    if let Begin::New(c) = s.begin(&k_failed, &json!({}), MIN).await? {
        s.fail(&c, "boom").await?;
    }
    let replayed_dl = s
        .park(
            &message("contract", "9", 1)?,
            Failure::new(FailureClass::Technical, "x"),
            1,
        )
        .await?;
    s.mark_replayed(replayed_dl, "ann", None).await?;
    let old_seq = s.append(AuditEvent::new(AuditKind::StepOutcome)).await?;

    clock.advance(30 * day);
    let recent_seq = s.append(AuditEvent::new(AuditKind::StepOutcome)).await?;
    let recent = flow_message("r:5", 1, None)?;
    s.enqueue(&recent).await?;
    let l = s.lease("w1", 10, MIN).await?;
    let recent_lease = l
        .iter()
        .find(|m| m.envelope.id == recent.id)
        .map(|m| m.lease.clone())
        .ok_or_else(|| CheckFailure::new("recent not leased"))?;
    s.ack(&[recent_lease]).await?;
    if let Begin::New(c) = s.begin(&key("recent")?, &json!({}), MIN).await? {
        s.complete(&c, &json!({"id": 2})).await?;
    }

    let policy = RetentionPolicy::default()
        .ledger(20 * day)
        .replayed_dead_letters(20 * day)
        .audit(20 * day);
    let expected = PurgeReport {
        messages: 2,
        ledger: 1,
        dead_letters: 1,
        audit: 1,
        dry_run: true,
    };
    let dry = policy.purge(&s, clock.now(), PurgeMode::DryRun).await?;
    ensure_eq!(dry, expected, "dry run counts");
    ensure!(s.get(done.id).await?.is_some(), "a dry run deletes nothing");
    ensure!(
        s.entry(&k_done).await?.is_some(),
        "a dry run deletes nothing"
    );

    let report = policy.purge(&s, clock.now(), PurgeMode::Delete).await?;
    ensure_eq!(
        report,
        PurgeReport {
            dry_run: false,
            ..expected
        },
        "purge counts"
    );
    ensure!(s.get(done.id).await?.is_none(), "old done message purged");
    ensure!(
        s.get(dead.id).await?.is_none(),
        "old dead-lettered row purged"
    );
    ensure!(
        s.get(retrying.id).await?.is_some(),
        "unfinished message kept"
    );
    ensure!(s.get(leased_msg.id).await?.is_some(), "leased message kept");
    ensure!(
        s.get(recent.id).await?.is_some(),
        "recent done message kept"
    );
    ensure!(
        s.entry(&k_done).await?.is_none(),
        "old done ledger entry purged"
    );
    ensure!(s.entry(&k_flight).await?.is_some(), "in-flight claim kept");
    ensure!(s.entry(&k_failed).await?.is_some(), "failed entry kept");
    ensure!(
        s.entry(&key("recent")?).await?.is_some(),
        "recent entry kept"
    );
    ensure!(
        s.dead_letter_by_id(open_dl).await?.is_some(),
        "open dead letter kept"
    );
    ensure!(
        s.dead_letter_by_id(replayed_dl).await?.is_none(),
        "old replayed dead letter purged"
    );
    let audit: Vec<u64> = s
        .query_audit(&AuditQuery::all())
        .await?
        .iter()
        .map(|r| r.seq)
        .collect();
    ensure_eq!(
        audit,
        vec![recent_seq],
        "only the recent audit record is kept"
    );
    ensure!(recent_seq > old_seq, "sequence");
    let next = s.append(AuditEvent::new(AuditKind::StepOutcome)).await?;
    ensure!(
        next > recent_seq,
        "audit sequence keeps growing after a purge"
    );

    let again = policy.purge(&s, clock.now(), PurgeMode::Delete).await?;
    ensure_eq!(
        again,
        PurgeReport::default(),
        "a second purge finds nothing"
    );
    Ok(Outcome::Passed)
}

const BOOKING: FactKind = FactKind::named("booking");
const OTHER: FactKind = FactKind::named("other");

fn subject(entity: &'static str, id: &str) -> Result<FactSubject, CheckFailure> {
    Ok(FactSubject::for_record(entity, id)?)
}

fn booking(entity: &'static str, id: &str) -> Result<FactKey, CheckFailure> {
    Ok(FactKey::new(BOOKING, subject(entity, id)?))
}

/// A fact is written once: the first write wins, a later write of the same key (or of one of
/// its aliases) returns the fact kept, an absent key is `None`; an alias finds the fact itself,
/// and an alias already taken stays with its first fact; kinds do not meet.
pub async fn facts_first_write_wins<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let key = booking("contract", "42")?;
    let (by_project, by_order) = (subject("project", "p-42")?, subject("sale_order", "S1")?);
    ensure!(
        s.fact(&key).await?.is_none(),
        "absent before it is recorded"
    );

    let first = s
        .record_fact(
            &key,
            &[by_project.clone(), by_order.clone(), key.subject.clone()],
            &json!({"order": 7}),
        )
        .await?;
    ensure!(first.is_new(), "first write is new: {first:?}");
    ensure_eq!(first.fact().value, json!({"order": 7}), "value");
    ensure_eq!(first.fact().subject, key.subject, "subject");
    ensure_eq!(first.fact().recorded_at, clock.now(), "recorded at");

    clock.advance(MIN);
    let again = s.record_fact(&key, &[], &json!({"order": 8})).await?;
    ensure!(!again.is_new(), "a second write is not new: {again:?}");
    ensure_eq!(again.fact(), first.fact(), "the first write wins");
    let read = s.fact(&key).await?;
    ensure_eq!(read.as_ref(), Some(first.fact()), "read back");

    for alias in [&by_project, &by_order] {
        let by_alias = s.fact(&FactKey::new(BOOKING, alias.clone())).await?;
        ensure_eq!(
            by_alias.as_ref(),
            Some(first.fact()),
            "read by alias {alias}"
        );
    }
    let via_alias = s
        .record_fact(
            &FactKey::new(BOOKING, by_order.clone()),
            &[],
            &json!({"order": 9}),
        )
        .await?;
    ensure!(!via_alias.is_new(), "an alias is a key of its fact");
    ensure_eq!(via_alias.fact(), first.fact(), "recorded under an alias");

    let other = booking("contract", "43")?;
    let second = s
        .record_fact(
            &other,
            &[by_project.clone(), subject("sale_order", "S2")?],
            &json!({"order": 10}),
        )
        .await?;
    ensure!(second.is_new(), "another contract is new");
    ensure_eq!(
        s.fact(&FactKey::new(BOOKING, by_project.clone()))
            .await?
            .map(|f| f.subject),
        Some(key.subject.clone()),
        "an alias taken stays with its first fact"
    );
    ensure_eq!(
        s.fact(&booking("sale_order", "S2")?)
            .await?
            .map(|f| f.value),
        Some(json!({"order": 10})),
        "the free alias of the second fact"
    );

    ensure!(
        s.fact(&FactKey::new(OTHER, key.subject.clone()))
            .await?
            .is_none(),
        "kinds do not meet"
    );
    let other_kind = s
        .record_fact(&FactKey::new(OTHER, key.subject.clone()), &[], &json!(1))
        .await?;
    ensure!(
        other_kind.is_new(),
        "the same subject in another kind is new"
    );
    ensure!(
        s.fact(&booking("contract", "44")?).await?.is_none(),
        "absent is None"
    );
    Ok(Outcome::Passed)
}

/// Facts of a kind are listed once each (not once per alias), in recording order, in pages.
pub async fn facts_listing_pages<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let mut recorded = Vec::new();
    for n in 0..5 {
        let key = booking("contract", &format!("c{n}"))?;
        let r = s
            .record_fact(
                &key,
                &[subject("project", &format!("p{n}"))?],
                &json!({ "n": n }),
            )
            .await?;
        recorded.push(r.into_fact());
        s.record_fact(
            &FactKey::new(OTHER, subject("x", &n.to_string())?),
            &[],
            &json!(n),
        )
        .await?;
        clock.advance(MIN);
    }
    let mut seen = Vec::new();
    let mut filter = FactFilter::kind(BOOKING).limit(2);
    let mut pages = 0;
    loop {
        let page = s.list_facts(&filter).await?;
        pages += 1;
        ensure!(page.items.len() <= 2, "a page holds at most the limit");
        ensure!(
            page.items.iter().all(|f| f.kind == BOOKING),
            "only the kind asked for"
        );
        seen.extend(page.items);
        match page.next {
            Some(next) => filter = filter.after(next),
            None => break,
        }
        ensure!(pages < 10, "paging ends");
    }
    ensure_eq!(seen, recorded, "every fact once, in recording order");
    let positions: Vec<u64> = seen.iter().map(|f| f.position).collect();
    ensure!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions grow: {positions:?}"
    );
    let other = s.list_facts(&FactFilter::kind(OTHER)).await?;
    ensure_eq!(other.items.len(), 5, "the other kind");
    ensure_eq!(other.next, None, "a page not full is the last");
    let none = s
        .list_facts(&FactFilter::kind(FactKind::named("nothing")))
        .await?;
    ensure_eq!(none, FactPage::default(), "an unknown kind lists nothing");
    Ok(Outcome::Passed)
}

/// No purge touches facts: every retention mode, every period down to zero, a dry run and a
/// delete, long after they were recorded; and facts survive a reopen.
pub async fn facts_survive_every_purge<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let key = booking("contract", "42")?;
    let alias = FactKey::new(BOOKING, subject("project", "p-42")?);
    let recorded = s
        .record_fact(
            &key,
            std::slice::from_ref(&alias.subject),
            &json!({"order": 7}),
        )
        .await?
        .into_fact();
    let effect = IdempotencyKey::for_effect("contract", "42", "won", "sale-order")?;
    if let Begin::New(c) = s.begin(&effect, &json!({}), MIN).await? {
        s.complete(&c, &json!({"id": 7})).await?;
    }

    clock.advance(Duration::from_secs(1000 * 24 * 3600));
    let everything = RetentionPolicy::uniform(Duration::ZERO);
    for mode in [PurgeMode::DryRun, PurgeMode::Delete] {
        everything.purge(&s, clock.now(), mode).await?;
        RetentionPolicy::default()
            .purge(&s, clock.now(), mode)
            .await?;
        let end = clock.now() + chrono::Duration::days(1);
        s.purge_finished(end, mode).await?;
        s.purge_ledger(end, mode).await?;
        s.purge_dead_letters(end, mode).await?;
        s.purge_audit(end, mode).await?;
        let (by_key, by_alias) = (s.fact(&key).await?, s.fact(&alias).await?);
        ensure_eq!(
            by_key.as_ref(),
            Some(&recorded),
            "kept by a purge ({mode:?})"
        );
        ensure_eq!(
            by_alias.as_ref(),
            Some(&recorded),
            "its alias kept by a purge ({mode:?})"
        );
    }
    ensure!(
        s.entry(&effect).await?.is_none(),
        "the ledger entry beside it was purged"
    );
    ensure_eq!(
        s.list_facts(&FactFilter::kind(BOOKING)).await?.items,
        vec![recorded.clone()],
        "listed after the purges"
    );
    if let Some(r) = f.reopen(&s, suite_options(&clock)?).await? {
        drop(s);
        ensure_eq!(
            r.fact(&alias).await?,
            Some(recorded),
            "a fact survives a reopen"
        );
    }
    Ok(Outcome::Passed)
}

/// Of concurrent writers of the same key (on two instances where the backend has them), exactly
/// one records its value, and every writer gets that value back.
pub async fn facts_concurrent_record<F: StoreFactory>(f: &F) -> CheckResult {
    let (s, clock) = fresh(f).await?;
    let second = f.reopen(&s, suite_options(&clock)?).await?;
    for k in 0..5 {
        let key = booking("contract", &k.to_string())?;
        let alias = subject("project", &k.to_string())?;
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store_a = s.clone();
            let store_b = second.clone();
            let (key, aliases) = (key.clone(), [alias.clone()]);
            tasks.push(tokio::spawn(async move {
                let value = json!({ "writer": i });
                match (i % 2, store_b) {
                    (1, Some(b)) => b.record_fact(&key, &aliases, &value).await,
                    _ => store_a.record_fact(&key, &aliases, &value).await,
                }
            }));
        }
        let mut new = Vec::new();
        let mut values = HashSet::new();
        for t in tasks {
            match t.await {
                Ok(Ok(r)) => {
                    values.insert(r.fact().value.to_string());
                    if r.is_new() {
                        new.push(r.into_fact());
                    }
                }
                Ok(Err(e)) => return Err(e.into()),
                Err(e) => return Err(CheckFailure::new(format!("task failed: {e}"))),
            }
        }
        ensure_eq!(new.len(), 1, "exactly one new record of key {k}");
        ensure_eq!(values.len(), 1, "every writer sees one value for key {k}");
        let stored = s.fact(&FactKey::new(BOOKING, alias)).await?;
        ensure_eq!(stored.as_ref(), new.first(), "the stored value of key {k}");
    }
    ensure_eq!(
        s.list_facts(&FactFilter::kind(BOOKING)).await?.items.len(),
        5,
        "one fact per key"
    );
    Ok(Outcome::Passed)
}
