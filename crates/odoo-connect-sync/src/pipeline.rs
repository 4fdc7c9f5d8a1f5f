//! [`Pipeline`]: the opinionated whole built from the primitives: a durable queue with per-lane
//! order, steps, retries with backoff, dead letters and replay, the audit trail, metrics and
//! tracing.
//!
//! Scheduled incremental syncs ([`Pipeline::pull`]) and pushed events ([`Pipeline::submit`])
//! enter the same queue and go through the same steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::{HashMap, VecDeque};

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
/// Cancels a running worker ([`Pipeline::run_until_cancelled`]); from `tokio-util`.
pub use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::envelope::{CorrelationId, Envelope, EnvelopeError, JsonEnvelope, MessageId};
use crate::step::{Outcome, Step, StepContext, Stop};
use crate::store::{
    AuditEvent, AuditKind, AuditQuery, AuditRecord, CheckpointKey, DeadLetterFilter, DeadLetterId,
    Failure, FailureClass, Lease, LeasedMessage, SharedClock, StateStore, StoreError, SystemClock,
};

/// What can go wrong running a pipeline (outcomes of steps are not errors: they are recorded).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The state store failed.
    #[error("the state store failed")]
    Store(#[from] StoreError),
    /// A message could not be encoded or decoded.
    #[error("a message could not be encoded or decoded")]
    Envelope(#[from] EnvelopeError),
    /// A dead letter or message does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A source of changes failed.
    #[error("the source `{source_name}` failed")]
    Source {
        /// The source.
        source_name: String,
        /// Its error.
        #[source]
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl odoo_connect_core::retry::Retryable for SyncError {
    /// See [`SyncError::is_retryable`].
    fn is_retryable(&self) -> bool {
        SyncError::is_retryable(self)
    }
}

impl SyncError {
    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Store(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// How messages that failed transiently are retried.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncRetryPolicy {
    /// Attempts in all before the message goes to the dead letters.
    pub max_attempts: u32,
    /// The first delay.
    pub initial_delay: Duration,
    /// The largest delay.
    pub max_delay: Duration,
    /// The longest a message may keep retrying, from its first delivery.
    pub max_elapsed: Duration,
    /// Whether delays are randomised.
    pub jitter: bool,
}

impl Default for SyncRetryPolicy {
    fn default() -> Self {
        SyncRetryPolicy {
            max_attempts: 8,
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            max_elapsed: Duration::from_secs(24 * 3600),
            jitter: true,
        }
    }
}

impl SyncRetryPolicy {
    /// Sets the attempts.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Sets the first delay.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }
    /// Sets the largest delay.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// Sets the longest time spent retrying.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
    /// Turns jitter on or off.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The delay before attempt `failed + 1`, after `failed` failed attempts (from 1), computed by
    /// backon's exponential backoff; `None` when the attempts are used up.
    pub fn delay_after(&self, failed: u32) -> Option<Duration> {
        use backon::BackoffBuilder;
        if failed >= self.max_attempts {
            return None;
        }
        let mut b = backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts as usize);
        if self.jitter {
            b = b.with_jitter();
        }
        b.build().nth(failed.saturating_sub(1) as usize)
    }
}

/// Counts of one batch or run. Reports add up: `total += &report` (or `+`, or `.sum()` over
/// reports), every count included.
///
/// ```
/// use odoo_connect_sync::pipeline::RunReport;
/// let mut total = RunReport::default();
/// let mut one = RunReport::default();
/// one.done = 2;
/// one.held = 1;
/// total += &one;
/// total += &one;
/// assert_eq!((total.done, total.held), (4, 2));
/// assert_eq!([one.clone(), one].into_iter().sum::<RunReport>().done, 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunReport {
    /// Messages leased.
    pub leased: u64,
    /// Applied (every step done).
    pub done: u64,
    /// Skipped by a step.
    pub skipped: u64,
    /// Held as business exceptions (dead letters of class business).
    pub held: u64,
    /// Scheduled for a retry.
    pub retried: u64,
    /// Failed for good (dead letters of class technical).
    pub failed: u64,
    /// Leases lost before settling (another worker took over after expiry).
    pub lost: u64,
    /// Given back to the queue unfinished by a stopping worker (leased again later, not lost).
    pub released: u64,
}

impl std::ops::AddAssign<&RunReport> for RunReport {
    fn add_assign(&mut self, other: &RunReport) {
        self.add(other);
    }
}

impl std::ops::AddAssign for RunReport {
    fn add_assign(&mut self, other: RunReport) {
        self.add(&other);
    }
}

impl std::ops::Add for RunReport {
    type Output = RunReport;
    fn add(mut self, other: RunReport) -> RunReport {
        RunReport::add(&mut self, &other);
        self
    }
}

impl std::iter::Sum for RunReport {
    fn sum<I: Iterator<Item = RunReport>>(iter: I) -> RunReport {
        iter.fold(RunReport::default(), |a, b| a + b)
    }
}

impl RunReport {
    fn add(&mut self, other: &RunReport) {
        self.leased += other.leased;
        self.done += other.done;
        self.skipped += other.skipped;
        self.held += other.held;
        self.retried += other.retried;
        self.failed += other.failed;
        self.lost += other.lost;
        self.released += other.released;
    }
}

/// The leases a worker holds, kept alive by its heartbeat.
type Held = Arc<std::sync::Mutex<HashMap<MessageId, crate::store::Lease>>>;

/// How long [`Pipeline::drive`] goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One lease, then stop.
    OneBatch,
    /// Until a lease finds nothing and nothing is under way.
    UntilIdle,
    /// Until cancelled.
    Forever,
}

/// Aborts a task when dropped: the lease heartbeat stops however its worker ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// When a worker acks the messages it finished; see [`PipelineBuilder::acks`].
///
/// Acking writes to the store, and on a store that commits to disk each write has a fixed cost:
/// finished messages are therefore acked in groups, one write per group, while the others go on.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_sync::pipeline::AckPolicy;
///
/// // The default: groups of up to a batch, written at the latest 50 ms after their first message
/// // finished, or at once when nothing else is under way.
/// let per_message = AckPolicy::per_message();
/// assert_eq!(per_message.linger_time(), Some(Duration::from_millis(50)));
/// // Fresher acks, more writes.
/// let eager = AckPolicy::per_message().max_group(16).linger(Duration::from_millis(5));
/// assert_eq!(eager.max_group_size(), Some(16));
/// // The whole batch at once: the fewest writes, but a slow message holds back its batch.
/// assert_eq!(AckPolicy::whole_batch().linger_time(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckPolicy {
    whole_batch: bool,
    max_group: Option<usize>,
    linger: Duration,
}

impl Default for AckPolicy {
    fn default() -> Self {
        AckPolicy::per_message()
    }
}

impl AckPolicy {
    /// The default linger of [`AckPolicy::per_message`].
    pub const DEFAULT_LINGER: Duration = Duration::from_millis(50);

    /// Each message is acked as it finishes, without waiting for the others of its batch (one
    /// slow message holds back only its own lane), in groups: a group is written when it holds
    /// [`AckPolicy::max_group`] messages (default: the batch size), when its first message has
    /// waited [`AckPolicy::linger`] (default 50 ms), when nothing else is under way, or before
    /// the worker leases more messages. The default.
    pub fn per_message() -> Self {
        AckPolicy {
            whole_batch: false,
            max_group: None,
            linger: Self::DEFAULT_LINGER,
        }
    }

    /// A worker leases a batch, runs all of it, acks it in one write, and only then leases the
    /// next: the fewest writes, but one slow message holds back the acks of its whole batch, and
    /// the lanes of its batch with them.
    pub fn whole_batch() -> Self {
        AckPolicy {
            whole_batch: true,
            max_group: None,
            linger: Duration::ZERO,
        }
    }

    /// Writes a group once it holds `n` messages (at least 1; default: the batch size). Only for
    /// [`AckPolicy::per_message`].
    pub fn max_group(mut self, n: usize) -> Self {
        self.max_group = Some(n.max(1));
        self
    }

    /// The longest a finished message waits for its ack while other messages are under way
    /// (default 50 ms); shorter gives fresher acks and more writes. Only for
    /// [`AckPolicy::per_message`].
    pub fn linger(mut self, d: Duration) -> Self {
        self.linger = d;
        self
    }

    /// Whether the whole batch is acked at once ([`AckPolicy::whole_batch`]).
    pub fn is_whole_batch(&self) -> bool {
        self.whole_batch
    }

    /// The largest group, when set; `None`: the batch size (per message) or the whole batch.
    pub fn max_group_size(&self) -> Option<usize> {
        if self.whole_batch {
            None
        } else {
            self.max_group
        }
    }

    /// The longest a finished message waits for its ack; `None` for the whole batch.
    pub fn linger_time(&self) -> Option<Duration> {
        (!self.whole_batch).then_some(self.linger)
    }
}

/// Finished messages waiting to be acked together, with their audit events.
struct AckGroup {
    /// Written when it holds this many leases.
    max: usize,
    /// Written at the latest this long after its first content; `None`: only when idle.
    linger: Option<Duration>,
    leases: Vec<crate::store::Lease>,
    events: Vec<AuditEvent>,
    since: Option<tokio::time::Instant>,
    retries: u32,
}

impl AckGroup {
    fn new(policy: AckPolicy, batch_size: usize) -> Self {
        AckGroup {
            max: if policy.whole_batch {
                usize::MAX
            } else {
                policy.max_group.unwrap_or(batch_size).max(1)
            },
            linger: policy.linger_time(),
            leases: Vec::new(),
            events: Vec::new(),
            since: None,
            retries: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.leases.is_empty() && self.events.is_empty()
    }

    /// Adds a settled message's audit events and, when it is to be acked, its lease.
    fn add(&mut self, events: Vec<AuditEvent>, lease: Option<crate::store::Lease>) {
        if events.is_empty() && lease.is_none() {
            return;
        }
        self.since.get_or_insert_with(tokio::time::Instant::now);
        self.events.extend(events);
        self.leases.extend(lease);
    }

    /// Whether to write now: nothing else is under way (`idle`), or the group is full.
    fn due(&self, idle: bool) -> bool {
        !self.is_empty() && (idle || self.leases.len() >= self.max)
    }

    /// When the group must be written at the latest.
    fn flush_at(&self) -> Option<tokio::time::Instant> {
        self.since.zip(self.linger).map(|(t, d)| t + d)
    }

    /// Emptied by a write.
    fn written(&mut self) {
        self.leases.clear();
        self.since = None;
        self.retries = 0;
    }
}

/// Runs `fut` while the messages under way go on; those that finish meanwhile go to `done`.
async fn alongside<F: std::future::Future, G: std::future::Future>(
    fut: F,
    inflight: &mut FuturesUnordered<G>,
    done: &mut Vec<G::Output>,
) -> F::Output {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            Some(p) = inflight.next(), if !inflight.is_empty() => done.push(p),
        }
    }
}

/// The cursor a stored checkpoint holds: its text (checkpoints written before cursors were text
/// hold other JSON, read as its JSON text).
fn cursor_of_value(value: Value) -> Cursor {
    match value {
        Value::String(text) => Cursor::new(text),
        other => Cursor::new(other.to_string()),
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// What processing one message produced: its settlement, its audit events, and the lease to
/// ack with the batch.
struct Processed {
    id: MessageId,
    settled: Result<RunReport, SyncError>,
    events: Vec<AuditEvent>,
    ack: Option<crate::store::Lease>,
}

/// A page of a source, for [`Pipeline::pull`]: the connectors' page type, here holding
/// envelopes (`Page<JsonEnvelope>`); [`Pipeline::pull_from`] reads a connector
/// [`Feed`](odoo_connect_core::feed::Feed)'s pages directly.
pub use odoo_connect_core::page::{Cursor, Page};

/// What [`Pipeline::pull`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullReport {
    /// Pages read.
    pub pages: u64,
    /// Changes enqueued (duplicates of messages already known are not counted).
    pub enqueued: u64,
    /// Source records that could not be read ([`Page::rejected`]), for
    /// [`Pipeline::pull_from`].
    #[serde(default)]
    pub rejected: u64,
}

/// Builds a [`Pipeline`].
pub struct PipelineBuilder<S: ?Sized> {
    name: String,
    store: Arc<S>,
    steps: Vec<Arc<dyn Step>>,
    layers: Vec<Arc<dyn crate::layer::Layer>>,
    retry: SyncRetryPolicy,
    lease_for: Duration,
    batch_size: usize,
    concurrency: usize,
    idle_wait: Duration,
    shutdown_grace: Duration,
    acks: AckPolicy,
    clock: SharedClock,
}

impl<S: ?Sized> std::fmt::Debug for PipelineBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("name", &self.name)
            .field(
                "steps",
                &self
                    .steps
                    .iter()
                    .map(|s| s.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<S: StateStore + ?Sized + 'static> PipelineBuilder<S> {
    /// Adds a step (steps run in the order added).
    pub fn step(mut self, step: impl Step + 'static) -> Self {
        self.steps.push(Arc::new(step));
        self
    }

    /// Adds a shared step.
    pub fn step_arc(mut self, step: Arc<dyn Step>) -> Self {
        self.steps.push(step);
        self
    }

    /// Wraps every step of the pipeline (those added before and after) in `layer`; the first
    /// layer added is the outermost. See [`crate::layer`].
    pub fn layer(mut self, layer: impl crate::layer::Layer + 'static) -> Self {
        self.layers.push(Arc::new(layer));
        self
    }

    /// The retry policy (default: 8 attempts, 2 s doubling up to 10 min, with jitter).
    pub fn retry(mut self, policy: SyncRetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long a worker holds a message before another may take it (default 60 s; extended by a
    /// heartbeat while the worker runs).
    pub fn lease_for(mut self, d: Duration) -> Self {
        self.lease_for = d;
        self
    }

    /// Messages leased at once (default 64).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Messages processed at once by one worker (default 8; one per lane at most).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long [`Pipeline::run`] waits when the queue is empty (default 500 ms).
    pub fn idle_wait(mut self, d: Duration) -> Self {
        self.idle_wait = d;
        self
    }

    /// How long a stopping worker lets the messages under way finish before it gives them back
    /// to the queue (default 30 s); see [`Pipeline::run_until_cancelled`].
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// When finished messages are acked (default [`AckPolicy::per_message`]: as each finishes,
    /// in groups of up to a batch written at the latest 50 ms after their first message
    /// finished). [`AckPolicy::whole_batch`] acks a leased batch once all of it has finished, in
    /// one write, and leases the next only then.
    pub fn acks(mut self, policy: AckPolicy) -> Self {
        self.acks = policy;
        self
    }

    /// The clock used to measure how long a message has been retrying; give it the store's
    /// clock when the store does not use the system clock (tests with a manual clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The pipeline.
    pub fn build(self) -> Pipeline<S> {
        Pipeline {
            inner: Arc::new(Inner {
                label: metrics::SharedString::from_shared(Arc::<str>::from(self.name.as_str())),
                name: self.name,
                ledger: as_ledger(self.store.clone()),
                audit: as_audit(self.store.clone()),
                facts: as_facts(self.store.clone()),
                store: self.store,
                steps: self
                    .steps
                    .into_iter()
                    .map(|step| crate::layer::apply(&self.layers, step))
                    .collect(),
                retry: self.retry,
                lease_for: self.lease_for,
                batch_size: self.batch_size,
                concurrency: self.concurrency,
                idle_wait: self.idle_wait,
                shutdown_grace: self.shutdown_grace,
                acks: self.acks,
                clock: self.clock,
                gauges_at: std::sync::Mutex::new(None),
            }),
        }
    }
}

struct Inner<S: ?Sized> {
    name: String,
    /// The name as the metrics' `pipeline` label (shared, not copied per message).
    label: metrics::SharedString,
    store: Arc<S>,
    steps: Vec<Arc<dyn Step>>,
    retry: SyncRetryPolicy,
    lease_for: Duration,
    batch_size: usize,
    concurrency: usize,
    idle_wait: Duration,
    shutdown_grace: Duration,
    acks: AckPolicy,
    /// The store lent as the steps' ledger and audit log: one of each per pipeline, so that
    /// effects batched across its messages (`BatchedCreate`) see one ledger.
    ledger: Arc<dyn crate::store::IdempotencyLedger>,
    audit: Arc<dyn crate::store::AuditLog>,
    facts: Arc<dyn crate::store::Facts>,
    clock: SharedClock,
    gauges_at: std::sync::Mutex<Option<Instant>>,
}

/// A sync pipeline over a state store; cheap to clone, and shareable by many workers.
///
/// ```
/// use std::sync::Arc;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::envelope::{Envelope, IdempotencyKey};
/// use odoo_connect_sync::pipeline::Pipeline;
/// use odoo_connect_sync::step::from_fn;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pipeline = Pipeline::builder("demo", Arc::new(MemoryStore::new()))
///     .step(from_fn("apply", |_cx| Box::pin(async { Ok(()) })))
///     .build();
/// let key = IdempotencyKey::for_effect("deal", "D-1", "won", "create-client")?;
/// let env = Envelope::builder(key, serde_json::json!({"deal": "D-1"}))
///     .source("crm")
///     .legal_entity("BE".parse()?)
///     .build()?;
/// pipeline.submit(&env).await?;
/// let report = pipeline.run_until_idle("worker-1").await?;
/// assert_eq!(report.done, 1);
/// # Ok(()) }
/// ```
pub struct Pipeline<S: ?Sized> {
    inner: Arc<Inner<S>>,
}

impl<S: ?Sized> Clone for Pipeline<S> {
    fn clone(&self) -> Self {
        Pipeline {
            inner: self.inner.clone(),
        }
    }
}

impl<S: ?Sized> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.inner.name)
            .field(
                "steps",
                &self
                    .inner
                    .steps
                    .iter()
                    .map(|s| s.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

const METRIC_MESSAGES: &str = "odoo_connect_sync_messages_total";
const METRIC_RETRIED: &str = "odoo_connect_sync_retries_total";
const METRIC_HELD: &str = "odoo_connect_sync_held_total";
const METRIC_FAILED: &str = "odoo_connect_sync_failed_total";
const METRIC_LATENCY: &str = "odoo_connect_sync_message_seconds";
const METRIC_DEAD_LETTERS: &str = "odoo_connect_sync_dead_letters";
const METRIC_DEPTH: &str = "odoo_connect_sync_queue_depth";
const METRIC_LAG: &str = "odoo_connect_sync_lag_seconds";

impl<S: StateStore + ?Sized + 'static> Pipeline<S> {
    /// Starts a pipeline named `name` (the name labels metrics and traces).
    pub fn builder(name: impl Into<String>, store: Arc<S>) -> PipelineBuilder<S> {
        PipelineBuilder {
            name: name.into(),
            store,
            steps: Vec::new(),
            layers: Vec::new(),
            retry: SyncRetryPolicy::default(),
            lease_for: Duration::from_secs(60),
            batch_size: 64,
            concurrency: 8,
            idle_wait: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(30),
            acks: AckPolicy::per_message(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The state store.
    pub fn store(&self) -> &Arc<S> {
        &self.inner.store
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Enqueues an event (a webhook, a change found by a scheduled sync) and records its arrival
    /// in the audit trail. `false` when the same message id was already received.
    pub async fn submit<T: Serialize>(&self, envelope: &Envelope<T>) -> Result<bool, SyncError> {
        let json = envelope.to_json()?;
        Ok(self.submit_batch(std::slice::from_ref(&json)).await? == 1)
    }

    /// Enqueues several events in one transaction; returns how many were new.
    pub async fn submit_batch(&self, envelopes: &[JsonEnvelope]) -> Result<usize, SyncError> {
        let added = self.inner.store.enqueue_batch(envelopes).await?;
        let events = envelopes
            .iter()
            .map(|env| {
                AuditEvent::new(AuditKind::MessageReceived)
                    .for_envelope(env)
                    .details(
                        json!({"source": env.source, "legal_entity": env.legal_entity,
                                    "lane": env.lane.as_str(), "pipeline": self.inner.name}),
                    )
            })
            .collect();
        self.audit_many(events).await;
        Ok(added)
    }

    /// Reads a source page by page from its checkpoint, enqueues each page and then moves the
    /// checkpoint past it, so that after a crash the sync resumes where it was and nothing read
    /// is lost. `fetch` gets the stored cursor (`None` at first or after a reset). A page without
    /// a cursor (nothing read yet) leaves the checkpoint where it is.
    ///
    /// Enqueueing is idempotent by message id: a crash between the enqueue of a page and the
    /// commit of its cursor reads the page again and adds nothing twice.
    pub async fn pull<F, Fut, E>(
        &self,
        key: &CheckpointKey,
        mut fetch: F,
    ) -> Result<PullReport, SyncError>
    where
        F: FnMut(Option<Cursor>) -> Fut,
        Fut: std::future::Future<Output = Result<Page<JsonEnvelope>, E>>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut report = PullReport::default();
        loop {
            let cp = self.inner.store.checkpoint(key).await?;
            let (cursor, version) = match cp {
                Some(c) => (c.cursor.map(cursor_of_value), c.version),
                None => (None, 0),
            };
            let page = fetch(cursor).await.map_err(|e| SyncError::Source {
                source_name: key.connector.clone(),
                error: Box::new(e),
            })?;
            report.pages += 1;
            report.enqueued += self.submit_batch(&page.items).await? as u64;
            // The page is durable in the queue: the cursor may move past it.
            if let Some(cursor) = &page.cursor {
                self.inner
                    .store
                    .commit_checkpoint(key, version, &Value::String(cursor.as_str().to_owned()))
                    .await?;
            }
            if !page.has_more {
                break;
            }
        }
        Ok(report)
    }

    /// Forgets a checkpoint, so the next pull reads the source from the beginning (idempotency
    /// keys keep the effects of the messages read again from happening twice).
    pub async fn full_refresh(&self, key: &CheckpointKey) -> Result<(), SyncError> {
        self.inner.store.reset_checkpoint(key).await?;
        Ok(())
    }

    /// Leases one batch and processes it; returns what happened.
    pub async fn process_batch(&self, worker: &str) -> Result<RunReport, SyncError> {
        self.drive(worker, None, Mode::OneBatch).await
    }

    /// Processes messages until the queue has nothing ready.
    pub async fn run_until_idle(&self, worker: &str) -> Result<RunReport, SyncError> {
        self.drive(worker, None, Mode::UntilIdle).await
    }

    /// Runs a worker until `shutdown` completes, then stops as
    /// [`Pipeline::run_until_cancelled`] does.
    pub async fn run<F>(&self, worker: &str, shutdown: F) -> Result<RunReport, SyncError>
    where
        F: std::future::Future<Output = ()>,
    {
        let cancel = CancellationToken::new();
        let work = self.run_until_cancelled(worker, &cancel);
        tokio::pin!(work, shutdown);
        tokio::select! {
            r = &mut work => r,
            () = &mut shutdown => {
                cancel.cancel();
                work.await
            }
        }
    }

    /// Runs a worker until `cancel` is cancelled: leases messages as lanes free up, runs up to
    /// [`PipelineBuilder::concurrency`] at once, acks finished messages as
    /// [`PipelineBuilder::acks`] says (by default as they finish, in groups), and waits a little
    /// when the queue is empty.
    ///
    /// On cancel it stops leasing, gives back the messages leased but not started, lets the
    /// messages under way finish for up to [`PipelineBuilder::shutdown_grace`], then gives back
    /// the unfinished ones (their steps are dropped where they stand; effects are idempotent, so
    /// the next worker completes them), acks what finished and returns the report. The lease
    /// heartbeat stops on every path, a dropped future or a panic included. A store failure that
    /// retrying cannot fix stops the worker the same way and is returned.
    pub async fn run_until_cancelled(
        &self,
        worker: &str,
        cancel: &CancellationToken,
    ) -> Result<RunReport, SyncError> {
        self.drive(worker, Some(cancel), Mode::Forever).await
    }

    async fn drive(
        &self,
        worker: &str,
        cancel: Option<&CancellationToken>,
        mode: Mode,
    ) -> Result<RunReport, SyncError> {
        let inner = &self.inner;
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        let held: Held = Arc::new(std::sync::Mutex::new(HashMap::new()));
        let mut heartbeat: Option<AbortOnDrop> = None;
        let mut report = RunReport::default();
        let mut pending: VecDeque<LeasedMessage> = VecDeque::new();
        // The messages under way are polled in this task, also while the worker waits on a store
        // call of its own (see `alongside`): a message holding a pooled connection always gets
        // on. Dropping the set drops them where they stand.
        let mut inflight = FuturesUnordered::new();
        let mut finished: Vec<Processed> = Vec::new();
        let mut acks = AckGroup::new(inner.acks, inner.batch_size);
        let whole_batch = inner.acks.is_whole_batch();
        let mut leases_done = 0u32;
        let mut lease_again_at: Option<tokio::time::Instant> = None;
        let mut stop_at: Option<tokio::time::Instant> = None;
        let mut failure: Option<SyncError> = None;
        loop {
            if stop_at.is_none() && cancel.is_cancelled() {
                stop_at = Some(tokio::time::Instant::now() + inner.shutdown_grace);
                let leases: Vec<Lease> = pending.drain(..).map(|m| m.lease).collect();
                report.released +=
                    alongside(self.release(&held, leases), &mut inflight, &mut finished).await;
            }
            let stopping = stop_at.is_some();
            while !stopping && inflight.len() < inner.concurrency {
                let Some(m) = pending.pop_front() else { break };
                inflight.push(self.process_one(worker, m));
            }
            let may_lease = !stopping
                && pending.is_empty()
                && inflight.len() < inner.concurrency
                && (!whole_batch || inflight.is_empty())
                && lease_again_at.is_none_or(|t| t <= tokio::time::Instant::now())
                && !(mode == Mode::OneBatch && leases_done > 0);
            if may_lease {
                // Settle what finished first: acks free lanes for the lease.
                alongside(
                    self.flush(&mut acks, &mut report),
                    &mut inflight,
                    &mut finished,
                )
                .await;
                let want = inner.batch_size.saturating_sub(inflight.len()).max(1);
                let leased = alongside(
                    inner.store.lease(worker, want, inner.lease_for),
                    &mut inflight,
                    &mut finished,
                )
                .await;
                for p in finished.drain(..) {
                    self.settled(p, &held, &mut acks, &mut report);
                }
                match leased {
                    Ok(leased) => {
                        leases_done += 1;
                        report.leased += leased.len() as u64;
                        if leased.is_empty() {
                            // Messages that finished during the lease free their lanes once
                            // acked: then lease again at once.
                            let just_finished = !acks.leases.is_empty();
                            if inflight.is_empty() && !just_finished && mode != Mode::Forever {
                                break;
                            }
                            lease_again_at = (!just_finished)
                                .then(|| tokio::time::Instant::now() + inner.idle_wait);
                        } else {
                            lease_again_at = None;
                            if let Ok(mut h) = held.lock() {
                                h.extend(
                                    leased.iter().map(|m| (m.lease.message_id, m.lease.clone())),
                                );
                            }
                            if heartbeat.is_none() {
                                heartbeat = Some(self.start_heartbeat(held.clone()));
                            }
                            pending.extend(leased);
                        }
                        continue;
                    }
                    Err(e) if e.is_retryable() && mode == Mode::Forever => {
                        tracing::warn!(error = %e, "worker: transient store failure");
                        lease_again_at = Some(tokio::time::Instant::now() + inner.idle_wait);
                    }
                    Err(e) => {
                        if inflight.is_empty() {
                            self.flush(&mut acks, &mut report).await;
                            drop(heartbeat);
                            return Err(e.into());
                        }
                        failure = Some(e.into());
                        stop_at = Some(tokio::time::Instant::now() + inner.shutdown_grace);
                    }
                }
            }
            if inflight.is_empty() && pending.is_empty() {
                if stopping || mode == Mode::OneBatch {
                    break;
                }
                if mode == Mode::UntilIdle && lease_again_at.is_some() {
                    break;
                }
            }
            if acks.due(pending.is_empty() && inflight.is_empty()) {
                alongside(
                    self.flush(&mut acks, &mut report),
                    &mut inflight,
                    &mut finished,
                )
                .await;
                for p in finished.drain(..) {
                    self.settled(p, &held, &mut acks, &mut report);
                }
                // The messages under way may all have finished during the write: start the
                // next ones before waiting (else the worker sleeps until the next ack is due).
                continue;
            }
            let wake_at = match (stop_at, lease_again_at) {
                (Some(t), _) => Some(t),
                (None, Some(t)) if inflight.len() < inner.concurrency => Some(t),
                _ => None,
            };
            let flush_at = acks.flush_at();
            tokio::select! {
                biased;
                () = cancel.cancelled(), if !stopping => {}
                Some(p) = inflight.next(), if !inflight.is_empty() => {
                    // A finished message may free its lane's next one: lease again soon.
                    lease_again_at = None;
                    self.settled(p, &held, &mut acks, &mut report);
                    // Take everything else that finished too, so the acks go in one write.
                    while let Some(Some(p)) = inflight.next().now_or_never() {
                        self.settled(p, &held, &mut acks, &mut report);
                    }
                }
                () = sleep_until_opt(wake_at), if wake_at.is_some() => {
                    if stop_at.is_some_and(|t| t <= tokio::time::Instant::now()) {
                        break;
                    }
                }
                () = sleep_until_opt(flush_at), if flush_at.is_some() => {
                    alongside(
                        self.flush(&mut acks, &mut report),
                        &mut inflight,
                        &mut finished,
                    )
                    .await;
                    for p in finished.drain(..) {
                        self.settled(p, &held, &mut acks, &mut report);
                    }
                }
            }
        }
        // Whatever is still under way after the grace period is dropped and given back, not
        // lost.
        drop(inflight);
        for p in finished.drain(..) {
            self.settled(p, &held, &mut acks, &mut report);
        }
        let unfinished: Vec<Lease> = held
            .lock()
            .map(|mut h| h.drain().map(|(_, l)| l).collect())
            .unwrap_or_default();
        if !unfinished.is_empty() {
            report.released += self.release_leases(&unfinished).await;
        }
        drop(heartbeat);
        self.flush(&mut acks, &mut report).await;
        if mode == Mode::OneBatch {
            self.maybe_record_gauges().await;
        } else {
            self.record_gauges().await;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Records one settled message.
    fn settled(&self, p: Processed, held: &Held, acks: &mut AckGroup, report: &mut RunReport) {
        if let Ok(mut h) = held.lock() {
            h.remove(&p.id);
        }
        acks.add(p.events, p.ack);
        match p.settled {
            Ok(r) => report.add(&r),
            Err(e) => {
                // The message stays leased until its lease runs out; then it is processed again
                // (its effects are idempotent).
                tracing::error!(error = %e, "settling a message failed");
            }
        }
    }

    /// Writes the group's audit events, then acks its messages, each in one write.
    async fn flush(&self, acks: &mut AckGroup, report: &mut RunReport) {
        if acks.is_empty() {
            return;
        }
        let events = std::mem::take(&mut acks.events);
        self.audit_many(events).await;
        if acks.leases.is_empty() {
            acks.written();
            self.maybe_record_gauges().await;
            return;
        }
        match self.inner.store.ack(&acks.leases).await {
            Ok(acked) => {
                let lost = acks.leases.len().saturating_sub(acked.len()) as u64;
                if lost > 0 {
                    // Another worker took these after our leases expired; their effects are
                    // idempotent, so it will settle them.
                    report.lost += lost;
                    report.done = report.done.saturating_sub(lost);
                }
                acks.written();
                self.maybe_record_gauges().await;
            }
            Err(e) if e.is_retryable() && acks.retries < 3 => {
                // Kept for the next flush, a linger from now at the earliest.
                acks.retries += 1;
                acks.since = Some(tokio::time::Instant::now());
                tracing::warn!(error = %e, "acking finished messages failed; will try again");
            }
            Err(e) => {
                // Their leases run out and the messages are processed again (idempotently).
                tracing::error!(error = %e, "acking finished messages failed");
                acks.written();
            }
        }
    }

    /// Gives leased messages back to the queue; returns how many.
    async fn release(&self, held: &Held, leases: Vec<Lease>) -> u64 {
        if leases.is_empty() {
            return 0;
        }
        if let Ok(mut h) = held.lock() {
            for l in &leases {
                h.remove(&l.message_id);
            }
        }
        self.release_leases(&leases).await
    }

    async fn release_leases(&self, leases: &[Lease]) -> u64 {
        match self.inner.store.release(leases).await {
            Ok(ids) => ids.len() as u64,
            Err(e) => {
                // Their leases run out and the messages are leased again.
                tracing::warn!(error = %e, "giving messages back failed");
                0
            }
        }
    }

    /// Extends the leases in `held` every third of the lease time until the guard is dropped.
    fn start_heartbeat(&self, held: Held) -> AbortOnDrop {
        let store = self.inner.store.clone();
        let lease_for = self.inner.lease_for;
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease_for / 3).await;
                let leases: Vec<Lease> = held
                    .lock()
                    .map(|h| h.values().cloned().collect())
                    .unwrap_or_default();
                if leases.is_empty() {
                    continue;
                }
                if let Err(e) = store.heartbeat(&leases, lease_for).await {
                    tracing::warn!(error = %e, "lease heartbeat failed");
                }
            }
        }))
    }

    async fn process_one(&self, worker: &str, msg: LeasedMessage) -> Processed {
        let inner = &self.inner;
        let env = &msg.envelope;
        let span = tracing::info_span!(
            "sync.message",
            pipeline = %inner.name,
            worker = %worker,
            message_id = %env.id,
            correlation_id = %env.correlation_id,
            idempotency_key = %env.idempotency_key,
            lane = %env.lane.as_str(),
            attempt = msg.attempts + 1,
            outcome = tracing::field::Empty,
        );
        let started = Instant::now();
        let ledger = inner.ledger.clone();
        let audit = inner.audit.clone();
        let LeasedMessage {
            envelope,
            lease,
            attempts,
            enqueued_at,
            ..
        } = msg;
        // The step owns the envelope; the settling below reads it back from the context.
        let mut cx =
            StepContext::new(envelope, attempts, ledger, audit).with_facts(inner.facts.clone());
        cx.claim_for = inner.lease_for;
        let mut final_outcome = Outcome::Done;
        let mut last_step: &str = "";
        async {
            for step in &inner.steps {
                let step_span = tracing::info_span!("sync.step", step = %step.name(), outcome = tracing::field::Empty);
                let outcome: Outcome = step.run(&mut cx).instrument(step_span.clone()).await.into();
                step_span.record("outcome", outcome.label());
                let details = match &outcome {
                    Outcome::Done => Value::Null,
                    other => serde_json::to_value(other).unwrap_or(Value::Null),
                };
                cx.audit(
                    AuditEvent::new(AuditKind::StepOutcome)
                        .step(step.name())
                        .outcome(outcome.label())
                        .details(details),
                );
                last_step = step.name();
                if outcome != Outcome::Done {
                    final_outcome = outcome;
                    break;
                }
            }
        }
        .instrument(span.clone())
        .await;
        span.record("outcome", final_outcome.label());
        let mut report = RunReport::default();
        let mut events = cx.take_audit();
        let mut ack = None;
        let labels = [("pipeline", inner.label.clone())];
        let settle: Result<(), StoreError> = match &final_outcome {
            Outcome::Done | Outcome::Stopped(Stop::Skipped { .. }) => {
                if matches!(final_outcome, Outcome::Done) {
                    report.done = 1;
                } else {
                    report.skipped = 1;
                }
                ack = Some(lease.clone());
                Ok(())
            }
            Outcome::Stopped(Stop::Held { reason, detail }) => {
                report.held = 1;
                metrics::counter!(METRIC_HELD, "pipeline" => inner.label.clone(), "reason" => reason.clone()).increment(1);
                let failure = Failure::new(FailureClass::Business, reason.clone())
                    .with_context(json!({"step": last_step, "detail": detail}));
                self.dead_letter(&cx.envelope, &lease, failure, &mut events)
                    .await
            }
            Outcome::Stopped(Stop::Retry { after, error, .. }) => {
                let failed = attempts + 1;
                let elapsed = (inner.clock.now() - enqueued_at)
                    .to_std()
                    .unwrap_or_default();
                match inner.retry.delay_after(failed) {
                    Some(d) if elapsed < inner.retry.max_elapsed => {
                        report.retried = 1;
                        metrics::counter!(METRIC_RETRIED, &labels).increment(1);
                        let delay = after.map_or(d, |a| a.max(d));
                        inner.store.retry_later(&lease, delay, error).await
                    }
                    _ => {
                        report.failed = 1;
                        metrics::counter!(METRIC_FAILED, "pipeline" => inner.label.clone(), "class" => "exhausted").increment(1);
                        let failure = Failure::new(
                            FailureClass::Technical,
                            format!("gave up after {failed} attempts: {error}"),
                        )
                        .with_errors(vec![error.clone()])
                        .with_context(json!({"step": last_step}));
                        self.dead_letter(&cx.envelope, &lease, failure, &mut events)
                            .await
                    }
                }
            }
            Outcome::Stopped(Stop::Failed { reason, errors, .. }) => {
                report.failed = 1;
                metrics::counter!(METRIC_FAILED, "pipeline" => inner.label.clone(), "class" => "terminal").increment(1);
                let failure = Failure::new(FailureClass::Technical, reason.clone())
                    .with_errors(errors.clone())
                    .with_context(json!({"step": last_step}));
                self.dead_letter(&cx.envelope, &lease, failure, &mut events)
                    .await
            }
        };
        metrics::counter!(METRIC_MESSAGES, "pipeline" => inner.label.clone(), "outcome" => final_outcome.label()).increment(1);
        metrics::histogram!(METRIC_LATENCY, &labels).record(started.elapsed().as_secs_f64());
        let settled = match settle {
            Ok(()) => Ok(report),
            Err(StoreError::LeaseLost { .. }) => {
                // Another worker took the message after our lease expired; its effects are
                // idempotent, so it will settle it.
                Ok(RunReport {
                    lost: 1,
                    ..Default::default()
                })
            }
            Err(e) => Err(e.into()),
        };
        Processed {
            id: lease.message_id,
            settled,
            events,
            ack,
        }
    }

    async fn dead_letter(
        &self,
        envelope: &JsonEnvelope,
        lease: &Lease,
        failure: Failure,
        events: &mut Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        let class = failure.class;
        let reason = failure.reason.clone();
        let id = self.inner.store.dead_letter(lease, failure).await?;
        events.push(
            AuditEvent::new(AuditKind::DeadLettered)
                .for_envelope(envelope)
                .outcome(class.as_str())
                .details(json!({"dead_letter": id, "reason": reason})),
        );
        Ok(())
    }

    async fn audit(&self, event: AuditEvent) {
        self.audit_many(vec![event]).await;
    }

    async fn audit_many(&self, events: Vec<AuditEvent>) {
        if events.is_empty() {
            return;
        }
        if let Err(e) = self.inner.store.append_many(events).await {
            tracing::warn!(error = %e, "could not write to the audit trail");
        }
    }

    /// Publishes the gauges at most once a second (reading them scans the queue).
    async fn maybe_record_gauges(&self) {
        let due = {
            let mut last = self
                .inner
                .gauges_at
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.record_gauges().await;
        }
    }

    /// Publishes the gauges: dead letters by reason, queue depth, lag of the oldest message.
    pub async fn record_gauges(&self) {
        let name = self.inner.name.clone();
        if let Ok(stats) = self.inner.store.stats().await {
            metrics::gauge!(METRIC_DEPTH, "pipeline" => name.clone()).set(stats.depth as f64);
            metrics::gauge!(METRIC_LAG, "pipeline" => name.clone())
                .set(stats.oldest_age(self.inner.clock.now()).as_secs_f64());
        }
        if let Ok(counts) = self.inner.store.count_by_reason().await {
            for c in counts {
                metrics::gauge!(METRIC_DEAD_LETTERS, "pipeline" => name.clone(), "reason" => c.reason.clone())
                    .set(c.count as f64);
            }
        }
    }

    /// Puts a dead letter back in the queue, optionally with a corrected payload, under the same
    /// idempotency key (so an effect that did happen is not repeated); records who did it.
    pub async fn replay(
        &self,
        id: DeadLetterId,
        corrected_payload: Option<Value>,
        actor: &str,
    ) -> Result<MessageId, SyncError> {
        let dl = self
            .inner
            .store
            .dead_letter_by_id(id)
            .await?
            .ok_or_else(|| SyncError::NotFound(format!("dead letter {id}")))?;
        let mut env = dl.envelope.for_replay();
        let corrected = corrected_payload.is_some();
        if let Some(p) = corrected_payload {
            env.payload = p;
        }
        self.inner.store.enqueue(&env).await?;
        self.inner
            .store
            .mark_replayed(id, actor, Some(env.id))
            .await?;
        self.audit(
            AuditEvent::new(AuditKind::ManualReplay)
                .for_envelope(&env)
                .actor(actor)
                .details(json!({"dead_letter": id, "corrected_payload": corrected,
                                "previous_failure": dl.failure.reason})),
        )
        .await;
        Ok(env.id)
    }

    /// Replays every dead letter the filter selects (not replayed already); returns the new
    /// message ids.
    pub async fn replay_matching(
        &self,
        filter: &DeadLetterFilter,
        actor: &str,
    ) -> Result<Vec<MessageId>, SyncError> {
        let filter = filter.clone().replayed(false);
        let letters = self.inner.store.list_dead_letters(&filter).await?;
        let mut ids = Vec::with_capacity(letters.len());
        for dl in letters {
            ids.push(self.replay(dl.id, None, actor).await?);
        }
        Ok(ids)
    }

    /// The whole path of one chain of events, in order: what happened to opportunity X.
    pub async fn trace(
        &self,
        correlation_id: &CorrelationId,
    ) -> Result<Vec<AuditRecord>, SyncError> {
        Ok(self
            .inner
            .store
            .query_audit(&AuditQuery::all().correlation_id(correlation_id.clone()))
            .await?)
    }
}

fn as_ledger<S: StateStore + ?Sized + 'static>(
    s: Arc<S>,
) -> Arc<dyn crate::store::IdempotencyLedger> {
    Arc::new(LedgerRef(s))
}

fn as_audit<S: StateStore + ?Sized + 'static>(s: Arc<S>) -> Arc<dyn crate::store::AuditLog> {
    Arc::new(AuditRef(s))
}

fn as_facts<S: StateStore + ?Sized + 'static>(s: Arc<S>) -> Arc<dyn crate::store::Facts> {
    Arc::new(FactsRef(s))
}

/// Lends a store's ledger as a trait object (a `dyn StateStore` cannot be upcast on older Rust).
struct LedgerRef<S: ?Sized>(Arc<S>);
struct AuditRef<S: ?Sized>(Arc<S>);
struct FactsRef<S: ?Sized>(Arc<S>);

#[async_trait::async_trait]
impl<S: StateStore + ?Sized> crate::store::Facts for FactsRef<S> {
    async fn record_fact(
        &self,
        key: &crate::store::FactKey,
        aliases: &[crate::store::FactSubject],
        value: &Value,
    ) -> crate::store::StoreResult<crate::store::Recorded> {
        self.0.record_fact(key, aliases, value).await
    }
    async fn fact(
        &self,
        key: &crate::store::FactKey,
    ) -> crate::store::StoreResult<Option<crate::store::StoredFact>> {
        self.0.fact(key).await
    }
    async fn list_facts(
        &self,
        filter: &crate::store::FactFilter,
    ) -> crate::store::StoreResult<crate::store::FactPage> {
        self.0.list_facts(filter).await
    }
}

#[async_trait::async_trait]
impl<S: StateStore + ?Sized> crate::store::IdempotencyLedger for LedgerRef<S> {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        crate::store::IdempotencyLedger::now(&*self.0)
    }
    async fn begin(
        &self,
        key: &crate::envelope::IdempotencyKey,
        intent: &Value,
        claim_for: Duration,
    ) -> crate::store::StoreResult<crate::store::Begin> {
        self.0.begin(key, intent, claim_for).await
    }
    // Every method is forwarded, those with a default too: a store's batched `begin_many` is
    // one round trip where the default is one per key.
    async fn begin_many(
        &self,
        requests: &[(crate::envelope::IdempotencyKey, Value)],
        claim_for: Duration,
    ) -> crate::store::StoreResult<Vec<crate::store::Begin>> {
        self.0.begin_many(requests, claim_for).await
    }
    async fn complete(
        &self,
        claim: &crate::store::Claim,
        outcome: &Value,
    ) -> crate::store::StoreResult<()> {
        self.0.complete(claim, outcome).await
    }
    async fn complete_many(
        &self,
        completions: &[(crate::store::Claim, Value)],
    ) -> crate::store::StoreResult<()> {
        self.0.complete_many(completions).await
    }
    async fn abandon(
        &self,
        claim: &crate::store::Claim,
        reason: Option<&str>,
    ) -> crate::store::StoreResult<()> {
        self.0.abandon(claim, reason).await
    }
    async fn fail(
        &self,
        claim: &crate::store::Claim,
        error: &str,
    ) -> crate::store::StoreResult<()> {
        self.0.fail(claim, error).await
    }
    async fn entry(
        &self,
        key: &crate::envelope::IdempotencyKey,
    ) -> crate::store::StoreResult<Option<crate::store::LedgerEntry>> {
        self.0.entry(key).await
    }
    async fn purge_ledger(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        mode: crate::store::PurgeMode,
    ) -> crate::store::StoreResult<u64> {
        self.0.purge_ledger(before, mode).await
    }
}

#[async_trait::async_trait]
impl<S: StateStore + ?Sized> crate::store::AuditLog for AuditRef<S> {
    async fn append(&self, event: AuditEvent) -> crate::store::StoreResult<u64> {
        self.0.append(event).await
    }
    async fn append_many(&self, events: Vec<AuditEvent>) -> crate::store::StoreResult<()> {
        self.0.append_many(events).await
    }
    async fn query_audit(&self, query: &AuditQuery) -> crate::store::StoreResult<Vec<AuditRecord>> {
        self.0.query_audit(query).await
    }
    async fn purge_audit(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        mode: crate::store::PurgeMode,
    ) -> crate::store::StoreResult<u64> {
        self.0.purge_audit(before, mode).await
    }
}
