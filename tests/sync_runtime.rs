//! The worker at runtime: a graceful stop in the middle of a batch (nothing lost, nothing done
//! twice, no lease left held), the lease heartbeat stopping on every path, and acks per message
//! so that one slow message holds back only its own lane. On the in-memory and SQLite stores.
#![cfg(feature = "sqlite")]

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope, Lane, MessageId};
use odoo_connect::sync::pipeline::{AckPolicy, CancellationToken, Pipeline, RunReport, SyncError};
use odoo_connect::sync::step::{StepResult, from_fn};
use odoo_connect::sync::store::{ManualClock, MessageState, StateStore, StoreOptions, WorkQueue};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

fn envelope(lane: &str, n: u32, stall: bool) -> JsonEnvelope {
    let key = IdempotencyKey::for_effect("test", lane, &n.to_string(), "apply").unwrap();
    Envelope::builder(key, json!({"n": n, "stall": stall}))
        .source("crm")
        .legal_entity("BE".parse().unwrap())
        .lane(Lane::new(lane).unwrap())
        .build()
        .unwrap()
        .to_json()
        .unwrap()
}

/// What the step saw: messages started, messages whose effect was applied (with how often).
#[derive(Default)]
struct Effects {
    started: Mutex<Vec<MessageId>>,
    applied: Mutex<HashMap<String, u32>>,
    started_signal: Notify,
}

impl Effects {
    fn started(&self) -> usize {
        self.started.lock().unwrap().len()
    }
    fn applied(&self) -> HashMap<String, u32> {
        self.applied.lock().unwrap().clone()
    }
}

/// A step that records its start, waits for a permit of `gate`, stalls for ever when the payload
/// says so and `stalling` is on, then applies the effect (keyed by idempotency key).
fn pipeline<S: StateStore + ?Sized + 'static>(
    store: Arc<S>,
    effects: Arc<Effects>,
    gate: Arc<Semaphore>,
    stalling: Arc<AtomicBool>,
) -> odoo_connect::sync::pipeline::PipelineBuilder<S> {
    Pipeline::builder("runtime", store).step(from_fn("apply", move |cx| {
        let effects = effects.clone();
        let gate = gate.clone();
        let stalling = stalling.clone();
        Box::pin(async move {
            effects.started.lock().unwrap().push(cx.envelope.id);
            effects.started_signal.notify_waiters();
            if cx.envelope.payload["stall"] == json!(true) && stalling.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            let permit = gate.acquire().await.unwrap();
            permit.forget();
            *effects
                .applied
                .lock()
                .unwrap()
                .entry(cx.envelope.idempotency_key.as_str().to_owned())
                .or_default() += 1;
            Ok(())
        })
    }))
}

/// Waits (without a deadline on the outcome) until `cond` holds, polling.
/// Runs `p` as worker `w1` until the returned token is cancelled.
fn spawn_worker<S: StateStore + ?Sized + 'static>(
    p: &Pipeline<S>,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<RunReport, SyncError>>,
) {
    let cancel = CancellationToken::new();
    let worker = {
        let (p, cancel) = (p.clone(), cancel.clone());
        tokio::spawn(async move { p.run_until_cancelled("w1", &cancel).await })
    };
    (cancel, worker)
}

async fn until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    for _ in 0..4000 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

/// A lease or an ack the worker made, with the messages it leased or acked.
#[derive(Debug, Clone, PartialEq)]
enum QueueCall {
    Leased(BTreeSet<MessageId>),
    Acked(BTreeSet<MessageId>),
}

/// A store that logs its leases and acks in the order they were made (each once it returned),
/// and otherwise is the store it wraps.
struct Logged<S: ?Sized> {
    calls: Mutex<Vec<QueueCall>>,
    inner: Arc<S>,
}

impl<S: ?Sized> Logged<S> {
    fn new(inner: Arc<S>) -> Self {
        Logged {
            calls: Mutex::new(Vec::new()),
            inner,
        }
    }

    fn calls(&self) -> Vec<QueueCall> {
        self.calls.lock().unwrap().clone()
    }
}

async fn shutdown_mid_batch<S: StateStore + ?Sized + 'static>(store: Arc<S>) {
    let effects = Arc::new(Effects::default());
    let gate = Arc::new(Semaphore::new(0));
    let stalling = Arc::new(AtomicBool::new(true));
    // 40 lanes; the first message stalls for ever.
    let batch: Vec<JsonEnvelope> = (0..40)
        .map(|i| envelope(&format!("c:{i}"), 1, i == 0))
        .collect();
    assert_eq!(store.enqueue_batch(&batch).await.unwrap(), 40);
    let p = pipeline(
        store.clone(),
        effects.clone(),
        gate.clone(),
        stalling.clone(),
    )
    .batch_size(16)
    .concurrency(8)
    .shutdown_grace(Duration::from_millis(200))
    .build();
    let (cancel, worker) = spawn_worker(&p);
    // Eight messages under way (one stalled, seven waiting at the gate), eight more leased.
    until("eight messages started", async || effects.started() == 8).await;
    cancel.cancel();
    // The seven under way may now finish; the stalled one never does.
    gate.add_permits(1000);
    let report = worker.await.unwrap().unwrap();

    assert_eq!(report.leased, 16, "{report:?}");
    assert_eq!(
        report.done, 7,
        "the messages under way finished: {report:?}"
    );
    assert_eq!(
        report.released, 9,
        "8 never started + 1 stalled: {report:?}"
    );
    assert_eq!(effects.applied().len(), 7);
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.in_flight, 0, "no lease is left held: {stats:?}");
    assert_eq!(stats.depth, 33, "{stats:?}");
    // The stalled message is ready again at once, not waiting for a lease to run out.
    let stalled = store.get(batch[0].id).await.unwrap().unwrap();
    assert_eq!(stalled.state, MessageState::Ready);
    assert_eq!(stalled.attempts, 0, "a release is not a failed attempt");

    // A second worker finishes the rest: every effect once, none twice, none lost.
    stalling.store(false, Ordering::SeqCst);
    let report = p.run_until_idle("w2").await.unwrap();
    assert_eq!(report.done, 33, "{report:?}");
    let applied = effects.applied();
    assert_eq!(applied.len(), 40);
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.depth, stats.in_flight), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_batch_loses_and_duplicates_nothing_on_memory() {
    shutdown_mid_batch(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_batch_loses_and_duplicates_nothing_on_sqlite() {
    shutdown_mid_batch(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_shutdown_future_stops_gracefully_too() {
    let store = Arc::new(MemoryStore::new());
    let effects = Arc::new(Effects::default());
    let gate = Arc::new(Semaphore::new(0));
    let batch: Vec<JsonEnvelope> = (0..4)
        .map(|i| envelope(&format!("c:{i}"), 1, false))
        .collect();
    store.enqueue_batch(&batch).await.unwrap();
    let p = pipeline(store.clone(), effects.clone(), gate.clone(), Arc::default())
        .concurrency(4)
        .build();
    let stop = Arc::new(Notify::new());
    let worker = {
        let (p, stop) = (p.clone(), stop.clone());
        tokio::spawn(async move { p.run("w1", async move { stop.notified().await }).await })
    };
    until("four started", async || effects.started() == 4).await;
    stop.notify_one();
    gate.add_permits(4);
    let report = worker.await.unwrap().unwrap();
    // Before, the shutdown future dropped the batch: nothing acked, leases kept alive.
    assert_eq!(report.done, 4, "{report:?}");
    assert_eq!(store.stats().await.unwrap().depth, 0);
}

/// The expiry of the lease on `id`.
async fn lease_expiry(store: &MemoryStore, id: MessageId) -> chrono::DateTime<chrono::Utc> {
    match store.get(id).await.unwrap().unwrap().state {
        MessageState::Leased { expires_at, .. } => expires_at,
        other => panic!("not leased: {other:?}"),
    }
}

async fn heartbeat_stops_when_the_worker_ends(panics: bool) {
    let clock = ManualClock::new(chrono::Utc::now());
    let store =
        MemoryStore::with_options(StoreOptions::default().with_clock(Arc::new(clock.clone())));
    let msg = envelope("c:1", 1, true);
    store.enqueue(&msg).await.unwrap();
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let p = Pipeline::builder("hb", Arc::new(store.clone()))
        .step(from_fn("stall", move |_cx| {
            let signal = signal.clone();
            Box::pin(async move {
                signal.notify_one();
                if panics {
                    // Give the test time to check the heartbeat first.
                    tokio::time::sleep(Duration::from_secs(100)).await;
                    panic!("step bug");
                }
                std::future::pending::<StepResult>().await
            })
        }))
        .lease_for(Duration::from_secs(30))
        .build();
    let (_cancel, worker) = spawn_worker(&p);
    started.notified().await;
    // While the worker runs, the heartbeat moves the lease forward (the test can tell).
    let before = lease_expiry(&store, msg.id).await;
    clock.advance(Duration::from_secs(5));
    tokio::time::sleep(Duration::from_secs(25)).await;
    let extended = lease_expiry(&store, msg.id).await;
    assert!(
        extended > before,
        "the heartbeat runs while the worker does"
    );

    if panics {
        tokio::time::sleep(Duration::from_secs(100)).await;
        let err = worker.await.unwrap_err();
        assert!(err.is_panic());
    } else {
        // The worker's future is dropped, as a `select!` or a task abort does.
        worker.abort();
        assert!(worker.await.unwrap_err().is_cancelled());
    }
    let after_end = lease_expiry(&store, msg.id).await;
    clock.advance(Duration::from_secs(5));
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        lease_expiry(&store, msg.id).await,
        after_end,
        "no heartbeat after the worker ended"
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeat_stops_when_the_worker_future_is_dropped() {
    heartbeat_stops_when_the_worker_ends(false).await;
}

#[tokio::test(start_paused = true)]
async fn heartbeat_stops_when_a_step_panics() {
    heartbeat_stops_when_the_worker_ends(true).await;
}

async fn slow_message_blocks_only_its_lane<S: StateStore + ?Sized + 'static>(store: Arc<S>) {
    let effects = Arc::new(Effects::default());
    let gate = Arc::new(Semaphore::new(1000));
    let stalling = Arc::new(AtomicBool::new(true));
    let slow = envelope("a", 1, true);
    let behind = envelope("a", 2, false);
    let mut batch = vec![slow.clone(), behind.clone()];
    batch.extend((0..10).map(|i| envelope(&format!("b:{i}"), 1, false)));
    store.enqueue_batch(&batch).await.unwrap();
    let p = pipeline(
        store.clone(),
        effects.clone(),
        gate.clone(),
        stalling.clone(),
    )
    .batch_size(64)
    .concurrency(4)
    .idle_wait(Duration::from_millis(20))
    .shutdown_grace(Duration::from_millis(100))
    .build();
    let (cancel, worker) = spawn_worker(&p);
    // Every other lane is acked while the slow message is still under way.
    until("the other lanes acked", async || {
        store.stats().await.unwrap().depth == 2
    })
    .await;
    for m in &batch[2..] {
        let state = store.get(m.id).await.unwrap().unwrap().state;
        assert!(matches!(state, MessageState::Done { .. }), "{state:?}");
    }
    let slow_state = store.get(slow.id).await.unwrap().unwrap().state;
    assert!(
        matches!(slow_state, MessageState::Leased { .. }),
        "{slow_state:?}"
    );
    // Its own lane waits behind it.
    assert!(!effects.started.lock().unwrap().contains(&behind.id));
    // New work in other lanes does not wait for the slow message either.
    let later: Vec<JsonEnvelope> = (0..3)
        .map(|i| envelope(&format!("c:{i}"), 1, false))
        .collect();
    store.enqueue_batch(&later).await.unwrap();
    until("the later messages acked", async || {
        let mut all = true;
        for m in &later {
            all &= matches!(
                store.get(m.id).await.unwrap().unwrap().state,
                MessageState::Done { .. }
            );
        }
        all
    })
    .await;
    cancel.cancel();
    let report = worker.await.unwrap().unwrap();
    assert_eq!(report.done, 13, "{report:?}");
    assert_eq!(report.released, 1, "{report:?}");
    // The lane goes on in order once the slow message is through.
    stalling.store(false, Ordering::SeqCst);
    let report = p.run_until_idle("w2").await.unwrap();
    assert_eq!(report.done, 2);
    let started = effects.started.lock().unwrap().clone();
    let pos = |id| started.iter().rposition(|s| *s == id).unwrap();
    assert!(pos(slow.id) < pos(behind.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_message_blocks_only_its_lane_on_memory() {
    slow_message_blocks_only_its_lane(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_message_blocks_only_its_lane_on_sqlite() {
    slow_message_blocks_only_its_lane(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await;
}

/// Finished messages are acked once they have waited the linger, while the worker is still busy
/// with others and has more leased waiting to start: no idle moment, no lease, a group far from
/// full.
async fn linger_acks_while_busy<S: StateStore + ?Sized + 'static>(store: Arc<S>) {
    let effects = Arc::new(Effects::default());
    // Three messages may finish; the next ones wait at the gate.
    let gate = Arc::new(Semaphore::new(3));
    let batch: Vec<JsonEnvelope> = (0..10)
        .map(|i| envelope(&format!("c:{i}"), 1, false))
        .collect();
    store.enqueue_batch(&batch).await.unwrap();
    let p = pipeline(store.clone(), effects.clone(), gate.clone(), Arc::default())
        .batch_size(64)
        .concurrency(2)
        .acks(AckPolicy::per_message().linger(Duration::from_millis(20)))
        .build();
    let (cancel, worker) = spawn_worker(&p);
    until("the three finished messages acked", async || {
        store.stats().await.unwrap().depth == 7
    })
    .await;
    // Acked while two were still under way and five leased waiting to start.
    assert_eq!(effects.applied().len(), 3);
    assert_eq!(effects.started(), 5);
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.in_flight, 7, "{stats:?}");
    gate.add_permits(1000);
    until("all acked", async || {
        store.stats().await.unwrap().depth == 0
    })
    .await;
    cancel.cancel();
    let report = worker.await.unwrap().unwrap();
    assert_eq!((report.leased, report.done), (10, 10), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_messages_are_acked_after_the_linger_on_memory() {
    linger_acks_while_busy(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_messages_are_acked_after_the_linger_on_sqlite() {
    linger_acks_while_busy(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await;
}

/// With whole-batch acks nothing of a batch is acked, and nothing more leased, until all of it
/// has finished; then the batch is acked at once. Told by the order of the worker's queue calls,
/// which does not depend on how long any of them took.
async fn whole_batch_waits_for_the_batch<S: StateStore + ?Sized + 'static>(store: Arc<S>) {
    let store = Arc::new(Logged::new(store));
    let effects = Arc::new(Effects::default());
    let gate = Arc::new(Semaphore::new(3));
    let batch: Vec<JsonEnvelope> = (0..4)
        .map(|i| envelope(&format!("c:{i}"), 1, false))
        .collect();
    store.enqueue_batch(&batch).await.unwrap();
    let p = pipeline(store.clone(), effects.clone(), gate.clone(), Arc::default())
        .batch_size(4)
        .concurrency(4)
        .idle_wait(Duration::from_millis(10))
        .acks(AckPolicy::whole_batch())
        .build();
    let (cancel, worker) = spawn_worker(&p);
    until("three of the batch applied", async || {
        effects.applied().len() == 3
    })
    .await;
    // A message the worker could lease while the last of the batch is under way.
    let later = envelope("d:0", 1, false);
    store.enqueue(&later).await.unwrap();
    // The last of the batch finishes: the batch is acked, then the later message leased.
    gate.add_permits(1000);
    until("all acked", async || {
        store.stats().await.unwrap().depth == 0
    })
    .await;
    cancel.cancel();
    let report = worker.await.unwrap().unwrap();
    assert_eq!((report.leased, report.done), (5, 5), "{report:?}");
    let batch: BTreeSet<MessageId> = batch.iter().map(|m| m.id).collect();
    let later: BTreeSet<MessageId> = [later.id].into();
    let calls = store.calls();
    assert_eq!(
        calls.get(..3),
        Some(
            &[
                QueueCall::Leased(batch.clone()),
                QueueCall::Acked(batch),
                QueueCall::Leased(later.clone()),
            ][..]
        ),
        "the batch leased, then acked in one call, nothing leased or acked between, then the \
         later message leased: {calls:?}"
    );
    assert!(calls[3..].contains(&QueueCall::Acked(later)), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_batch_acks_wait_for_the_whole_batch_on_memory() {
    whole_batch_waits_for_the_batch(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_batch_acks_wait_for_the_whole_batch_on_sqlite() {
    whole_batch_waits_for_the_batch(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await;
}

/// A group written because it is full, while more messages wait to start, does not leave the
/// worker waiting for the linger: the next messages start at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_ack_group_does_not_stall_the_worker() {
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let effects = Arc::new(Effects::default());
    let gate = Arc::new(Semaphore::new(1000));
    let batch: Vec<JsonEnvelope> = (0..20)
        .map(|i| envelope(&format!("c:{i}"), 1, false))
        .collect();
    store.enqueue_batch(&batch).await.unwrap();
    // Groups of two, and a linger far longer than the test may take.
    let p = pipeline(store.clone(), effects.clone(), gate, Arc::default())
        .batch_size(20)
        .concurrency(2)
        .acks(
            AckPolicy::per_message()
                .max_group(2)
                .linger(Duration::from_secs(3600)),
        )
        .build();
    let (cancel, worker) = spawn_worker(&p);
    until("all acked", async || {
        store.stats().await.unwrap().depth == 0
    })
    .await;
    cancel.cancel();
    let report = worker.await.unwrap().unwrap();
    assert_eq!((report.leased, report.done), (20, 20), "{report:?}");
    assert_eq!(effects.applied().len(), 20);
}

/// The store traits of [`Logged`]: the calls of its wrapped store, leases and acks logged.
mod logged {
    use super::*;
    use chrono::{DateTime, Utc};
    use odoo_connect::sync::store::{
        AuditEvent, AuditLog, AuditQuery, AuditRecord, Begin, Checkpoint, CheckpointKey,
        Checkpoints, Claim, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, FactFilter,
        FactKey, FactPage, FactSubject, Facts, Failure, IdempotencyLedger, Lease, LeasedMessage,
        LedgerEntry, PurgeMode, QueueFilter, QueuePage, QueueStats, QueuedMessage, ReasonCount,
        Recorded, StoreResult, StoredFact,
    };
    use serde_json::Value;

    #[async_trait]
    impl<S: StateStore + ?Sized> WorkQueue for Logged<S> {
        async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
            self.inner.enqueue_batch(messages).await
        }
        async fn enqueue(&self, message: &JsonEnvelope) -> StoreResult<bool> {
            self.inner.enqueue(message).await
        }
        async fn lease(&self, w: &str, max: usize, d: Duration) -> StoreResult<Vec<LeasedMessage>> {
            let leased = self.inner.lease(w, max, d).await?;
            let ids = leased.iter().map(|m| m.lease.message_id).collect();
            self.calls.lock().unwrap().push(QueueCall::Leased(ids));
            Ok(leased)
        }
        async fn heartbeat(&self, leases: &[Lease], d: Duration) -> StoreResult<Vec<Lease>> {
            self.inner.heartbeat(leases, d).await
        }
        async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
            let acked = self.inner.ack(leases).await?;
            let ids = acked.iter().copied().collect();
            self.calls.lock().unwrap().push(QueueCall::Acked(ids));
            Ok(acked)
        }
        async fn ack_one(&self, lease: &Lease) -> StoreResult<()> {
            self.inner.ack_one(lease).await?;
            let ids = [lease.message_id].into();
            self.calls.lock().unwrap().push(QueueCall::Acked(ids));
            Ok(())
        }
        async fn retry_later(&self, lease: &Lease, d: Duration, e: &str) -> StoreResult<()> {
            self.inner.retry_later(lease, d, e).await
        }
        async fn dead_letter(&self, lease: &Lease, f: Failure) -> StoreResult<DeadLetterId> {
            self.inner.dead_letter(lease, f).await
        }
        async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
            self.inner.get(id).await
        }
        async fn stats(&self) -> StoreResult<QueueStats> {
            self.inner.stats().await
        }
        async fn release(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
            self.inner.release(leases).await
        }
        async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
            self.inner.list_messages(filter).await
        }
        async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
            self.inner.purge_finished(before, mode).await
        }
    }

    #[async_trait]
    impl<S: StateStore + ?Sized> IdempotencyLedger for Logged<S> {
        async fn begin(
            &self,
            key: &IdempotencyKey,
            intent: &Value,
            d: Duration,
        ) -> StoreResult<Begin> {
            self.inner.begin(key, intent, d).await
        }
        async fn begin_many(
            &self,
            requests: &[(IdempotencyKey, Value)],
            d: Duration,
        ) -> StoreResult<Vec<Begin>> {
            self.inner.begin_many(requests, d).await
        }
        async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
            self.inner.complete(claim, outcome).await
        }
        async fn complete_many(&self, completions: &[(Claim, Value)]) -> StoreResult<()> {
            self.inner.complete_many(completions).await
        }
        async fn abandon(&self, claim: &Claim, reason: Option<&str>) -> StoreResult<()> {
            self.inner.abandon(claim, reason).await
        }
        async fn fail(&self, claim: &Claim, error: &str) -> StoreResult<()> {
            self.inner.fail(claim, error).await
        }
        async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
            self.inner.entry(key).await
        }
        async fn purge_ledger(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
            self.inner.purge_ledger(before, mode).await
        }
    }

    #[async_trait]
    impl<S: StateStore + ?Sized> Checkpoints for Logged<S> {
        async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
            self.inner.checkpoint(key).await
        }
        async fn commit_checkpoint(
            &self,
            key: &CheckpointKey,
            expected_version: u64,
            cursor: &Value,
        ) -> StoreResult<Checkpoint> {
            self.inner
                .commit_checkpoint(key, expected_version, cursor)
                .await
        }
        async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint> {
            self.inner.reset_checkpoint(key).await
        }
    }

    #[async_trait]
    impl<S: StateStore + ?Sized> DeadLetters for Logged<S> {
        async fn park(
            &self,
            envelope: &JsonEnvelope,
            failure: Failure,
            attempts: u32,
        ) -> StoreResult<DeadLetterId> {
            self.inner.park(envelope, failure, attempts).await
        }
        async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
            self.inner.dead_letter_by_id(id).await
        }
        async fn list_dead_letters(&self, f: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
            self.inner.list_dead_letters(f).await
        }
        async fn mark_replayed(
            &self,
            id: DeadLetterId,
            actor: &str,
            message_id: Option<MessageId>,
        ) -> StoreResult<()> {
            self.inner.mark_replayed(id, actor, message_id).await
        }
        async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
            self.inner.count_by_reason().await
        }
        async fn purge_dead_letters(
            &self,
            before: DateTime<Utc>,
            mode: PurgeMode,
        ) -> StoreResult<u64> {
            self.inner.purge_dead_letters(before, mode).await
        }
    }

    #[async_trait]
    impl<S: StateStore + ?Sized> Facts for Logged<S> {
        async fn record_fact(
            &self,
            key: &FactKey,
            aliases: &[FactSubject],
            value: &Value,
        ) -> StoreResult<Recorded> {
            self.inner.record_fact(key, aliases, value).await
        }
        async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
            self.inner.fact(key).await
        }
        async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
            self.inner.list_facts(filter).await
        }
    }

    #[async_trait]
    impl<S: StateStore + ?Sized> AuditLog for Logged<S> {
        async fn append(&self, event: AuditEvent) -> StoreResult<u64> {
            self.inner.append(event).await
        }
        async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
            self.inner.append_many(events).await
        }
        async fn query_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
            self.inner.query_audit(q).await
        }
        async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
            self.inner.purge_audit(before, mode).await
        }
    }
}
