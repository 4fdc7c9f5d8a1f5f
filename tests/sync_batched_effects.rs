//! Batched exactly-once creation (`create_once_many`, `BatchedCreate`) against the fake Odoo:
//! one ledger claim round trip and one `load` per batch, rows already done answered from the
//! ledger, a refused row failing alone while the good rows are created, a reply lost after
//! Odoo committed retried without duplicates, and the same through the pipeline.
#![cfg(feature = "testkit")]

#[path = "support/timesheets.rs"]
mod timesheets;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use odoo_connect::odoo::{OdooClient, RecordId, RetryPolicy};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::effect::{
    BatchOptions, BatchedCreate, ImportRow, create_once, create_once_many, external_id,
};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::{StepContext, Stop, from_fn};
use odoo_connect::sync::store::{
    Begin, Claim, DeadLetterFilter, DeadLetters, IdempotencyLedger, LedgerEntry, LedgerState,
    StoreResult,
};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

const LINE: &str = "account.analytic.line";

/// A store that counts its ledger and audit round trips, and otherwise is a `MemoryStore` (its
/// other traits are in `mod store`, below).
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    begins: AtomicUsize,
    begin_manys: AtomicUsize,
    completes: AtomicUsize,
    complete_manys: AtomicUsize,
    appends: AtomicUsize,
    append_manys: AtomicUsize,
    /// Batches claimed and not completed yet, and the most there were at once.
    open: AtomicUsize,
    most_open: AtomicUsize,
}

#[async_trait]
impl IdempotencyLedger for Counting {
    async fn begin(&self, key: &IdempotencyKey, intent: &Value, d: Duration) -> StoreResult<Begin> {
        self.begins.fetch_add(1, Ordering::SeqCst);
        self.inner.begin(key, intent, d).await
    }
    async fn begin_many(
        &self,
        requests: &[(IdempotencyKey, Value)],
        d: Duration,
    ) -> StoreResult<Vec<Begin>> {
        self.begin_manys.fetch_add(1, Ordering::SeqCst);
        let open = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_open.fetch_max(open, Ordering::SeqCst);
        self.inner.begin_many(requests, d).await
    }
    async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
        self.completes.fetch_add(1, Ordering::SeqCst);
        self.inner.complete(claim, outcome).await
    }
    async fn complete_many(&self, c: &[(Claim, Value)]) -> StoreResult<()> {
        self.complete_manys.fetch_add(1, Ordering::SeqCst);
        self.open.fetch_sub(1, Ordering::SeqCst);
        self.inner.complete_many(c).await
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
}

fn client(fake: &FakeOdoo) -> OdooClient {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A fresh fake Odoo, a client of it, and a project and an employee of its seed.
async fn start() -> (FakeOdoo, OdooClient, RecordId, RecordId) {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake);
    let (project, employee) = refs(&odoo).await;
    (fake, odoo, project, employee)
}

/// A project and an employee of the seed.
async fn refs(odoo: &OdooClient) -> (RecordId, RecordId) {
    timesheets::project_and_employee(odoo).await
}

fn key(prefix: &str, i: usize) -> IdempotencyKey {
    IdempotencyKey::for_effect("time", &format!("{prefix}{i}"), "approved", "timesheet").unwrap()
}

/// `n` items: keys `prefix0`, `prefix1`, ... with their lines.
fn items_of(
    prefix: &str,
    n: usize,
    project: RecordId,
    employee: RecordId,
) -> Vec<(IdempotencyKey, ImportRow)> {
    (0..n)
        .map(|i| (key(prefix, i), line(i, project, employee)))
        .collect()
}

fn line(i: usize, project: RecordId, employee: RecordId) -> ImportRow {
    ImportRow::new()
        .text("name", format!("Workshop preparation {i}"))
        .many2one("project_id", project)
        .many2one("employee_id", employee)
        .text("date", "2026-11-20")
        .number(
            "unit_amount",
            rust_decimal::Decimal::new(25 * (1 + (i % 8) as i64), 2),
        )
}

fn loads(fake: &FakeOdoo) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.call.as_deref() == Some("account.analytic.line.load"))
        .count()
}

/// Lines whose name starts with `Workshop preparation`.
fn created(fake: &FakeOdoo) -> usize {
    fake.count_where(LINE, json!([["name", "=like", "Workshop preparation%"]]))
}

#[tokio::test]
async fn one_claim_and_one_load_per_batch_and_done_rows_come_from_the_ledger() {
    let (fake, odoo, project, employee) = start().await;
    let ledger = Counting::default();
    let items = items_of("b-", 25, project, employee);
    let options = BatchOptions::default().max_rows(10);
    fake.clear_requests();

    let first = create_once_many(&ledger, &odoo, LINE, &items, &options).await;
    let ids: Vec<RecordId> = first.into_iter().map(Result::unwrap).collect();
    assert_eq!(created(&fake), 25);
    assert_eq!(loads(&fake), 3, "25 rows in batches of 10");
    assert_eq!(ledger.begin_manys.load(Ordering::SeqCst), 3);
    assert_eq!(ledger.complete_manys.load(Ordering::SeqCst), 3);
    assert_eq!(ledger.begins.load(Ordering::SeqCst), 0, "no per-row claim");
    for ((k, _), id) in items.iter().zip(&ids) {
        let rec = fake.record(LINE, id.0).unwrap();
        assert_eq!(rec["project_id"], json!(project.0));
        let entry = ledger.entry(k).await.unwrap().unwrap();
        assert_eq!(entry.state, LedgerState::Done);
        assert_eq!(entry.outcome.unwrap()["external_id"], json!(external_id(k)));
    }

    // Again, with one new row: the done rows answer from the ledger, only the new one is loaded.
    let mut again = items.clone();
    again.push((key("b-", 25), line(25, project, employee)));
    fake.clear_requests();
    let second = create_once_many(&ledger, &odoo, LINE, &again, &options).await;
    let second: Vec<RecordId> = second.into_iter().map(Result::unwrap).collect();
    assert_eq!(&second[..25], &ids[..]);
    assert_eq!(loads(&fake), 1);
    assert_eq!(created(&fake), 26);
}

#[tokio::test]
async fn batches_under_way_together_create_a_key_of_two_batches_once_and_keep_the_order() {
    let (fake, odoo, project, employee) = start().await;
    let ledger = Counting::default();
    // 12 items, the last one repeating the key of the third: 11 rows, in 3 batches of up to 5
    // sent 3 at a time. The repeat would be in another batch than its first occurrence.
    let mut items = items_of("c-", 11, project, employee);
    items.push((key("c-", 2), line(2, project, employee)));
    let options = BatchOptions::default().max_rows(5).concurrent_batches(3);
    fake.clear_requests();

    let out = create_once_many(&ledger, &odoo, LINE, &items, &options).await;
    let ids: Vec<RecordId> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(created(&fake), 11, "one record per key");
    assert_eq!(loads(&fake), 3);
    assert_eq!(ledger.begin_manys.load(Ordering::SeqCst), 3);
    assert_eq!(
        ids[11], ids[2],
        "the repeated key gets the first one's record"
    );
    for (i, id) in ids.iter().enumerate().take(11) {
        let rec = fake.record(LINE, id.0).unwrap();
        assert_eq!(
            rec["name"],
            json!(format!("Workshop preparation {i}")),
            "results in the order of the items"
        );
    }
    // Sent one batch after the other, the same items find everything done.
    fake.clear_requests();
    let again = create_once_many(
        &ledger,
        &odoo,
        LINE,
        &items,
        &options.clone().concurrent_batches(1),
    )
    .await;
    let again: Vec<RecordId> = again.into_iter().map(Result::unwrap).collect();
    assert_eq!(again, ids);
    assert_eq!(loads(&fake), 0);
}

/// Runs `n` steps at once, each creating one line through `lines`, with `ledger`.
async fn create_through(
    lines: &BatchedCreate,
    ledger: Arc<Counting>,
    n: usize,
    project: RecordId,
    employee: RecordId,
) -> Vec<RecordId> {
    create_spaced(lines, ledger, "slot-", n, Duration::ZERO, project, employee).await
}

/// Starts `n` steps `gap` apart, each creating one line (keys `prefix0`, `prefix1`, ...)
/// through `lines`, with `ledger`, and returns their ids.
async fn create_spaced(
    lines: &BatchedCreate,
    ledger: Arc<Counting>,
    prefix: &'static str,
    n: usize,
    gap: Duration,
    project: RecordId,
    employee: RecordId,
) -> Vec<RecordId> {
    let audit = Arc::new(MemoryStore::new());
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let lines = lines.clone();
        let ledger = ledger.clone();
        let audit = audit.clone();
        tasks.push(tokio::spawn(async move {
            let k = key(prefix, i);
            let envelope = Envelope::builder(k.clone(), json!({"i": i}))
                .source("time")
                .legal_entity("BE".parse().unwrap())
                .build()
                .unwrap()
                .to_json()
                .unwrap();
            let mut cx = StepContext::new(envelope, 0, ledger, audit);
            lines
                .create_once(&mut cx, &k, &line(i, project, employee))
                .await
        }));
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap());
    }
    ids
}

// On tokio's paused clock, as the tests of lingers below: the clock moves only to the next timer
// (a reply's latency, a linger) once every task waits, never with the time the machine takes.
#[tokio::test(start_paused = true)]
async fn a_batcher_keeps_at_most_its_concurrent_batches_under_way() {
    let (fake, odoo, project, employee) = start().await;
    // Every reply takes 40 ms, so full batches would overlap if nothing held them back.
    fake.set_latency(Duration::from_millis(40));
    for (allowed, expected) in [(1, 1), (2, 2)] {
        let ledger = Arc::new(Counting::default());
        let lines = BatchedCreate::new(
            odoo.clone(),
            LINE,
            BatchOptions::default()
                .max_rows(5)
                .concurrent_batches(allowed),
        );
        let before = created(&fake);
        fake.take_peak_concurrent_requests();
        let ids = create_through(&lines, ledger.clone(), 30, project, employee).await;
        assert_eq!(ids.len(), 30);
        assert_eq!(
            fake.take_peak_concurrent_requests(),
            expected,
            "6 full batches, {allowed} loaded at once"
        );
        // The claims are not held back: the next batches are claimed while one is loaded.
        assert!(ledger.most_open.load(Ordering::SeqCst) > expected);
        assert_eq!(ledger.begin_manys.load(Ordering::SeqCst), 6);
        if allowed == 1 {
            assert_eq!(created(&fake) - before, 30);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn rows_that_keep_coming_within_the_linger_go_in_one_batch() {
    let (fake, odoo, project, employee) = start().await;
    let ledger = Arc::new(Counting::default());
    // 24 rows, one every 5 ms: 115 ms in all, far longer than one linger of 40 ms, but never
    // 40 ms without a row, and within the four lingers a batch waits at most.
    let lines = BatchedCreate::new(
        odoo.clone(),
        LINE,
        BatchOptions::default()
            .max_rows(100)
            .linger(Duration::from_millis(40)),
    );
    let gap = Duration::from_millis(5);
    let ids = create_spaced(
        &lines,
        ledger.clone(),
        "trickle-",
        24,
        gap,
        project,
        employee,
    )
    .await;
    assert_eq!(ids.len(), 24);
    assert_eq!(ledger.begin_manys.load(Ordering::SeqCst), 1, "one batch");
    assert_eq!(created(&fake), 24);

    // Rows that stop coming go after one linger (500 ms), not two or four: nothing is claimed
    // just before it ends, and the rows are done before a second one could end.
    let linger = Duration::from_millis(500);
    let lines = BatchedCreate::new(
        odoo.clone(),
        LINE,
        BatchOptions::default().max_rows(100).linger(linger),
    );
    let started = tokio::time::Instant::now();
    let creating = tokio::spawn({
        let ledger = ledger.clone();
        async move { create_through(&lines, ledger, 3, project, employee).await }
    });
    tokio::time::sleep(linger - Duration::from_millis(1)).await;
    assert_eq!(
        ledger.begin_manys.load(Ordering::SeqCst),
        1,
        "no batch before the linger"
    );
    assert_eq!(created(&fake), 24);
    let ids = creating.await.expect("joined");
    assert_eq!(ids.len(), 3);
    assert_eq!(ledger.begin_manys.load(Ordering::SeqCst), 2);
    assert_eq!(created(&fake), 27);
    let took = started.elapsed();
    assert!(took >= linger && took < 2 * linger, "{took:?}");
}

#[tokio::test]
async fn rows_done_by_create_once_and_repeated_keys_are_not_created_again() {
    let (fake, odoo, project, employee) = start().await;
    let store = Arc::new(MemoryStore::new());
    let envelope = Envelope::builder(key("s-", 0), json!({}))
        .source("time")
        .legal_entity("BE".parse().unwrap())
        .build()
        .unwrap()
        .to_json()
        .unwrap();
    let mut cx = StepContext::new(envelope, 0, store.clone(), store.clone());
    let single = create_once(
        &mut cx,
        &odoo,
        LINE,
        &key("s-", 0),
        &line(0, project, employee),
    )
    .await
    .unwrap();

    let items = vec![
        (key("s-", 0), line(0, project, employee)),
        (key("s-", 1), line(1, project, employee)),
        (key("s-", 1), line(1, project, employee)),
    ];
    let out = create_once_many(&*store, &odoo, LINE, &items, &BatchOptions::default()).await;
    let out: Vec<RecordId> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(out[0], single, "done by create_once: its recorded id");
    assert_eq!(out[1], out[2], "a key given twice: one record");
    assert_eq!(created(&fake), 2);
}

#[tokio::test]
async fn a_refused_row_fails_alone_and_the_good_rows_are_created() {
    let (fake, odoo, project, employee) = start().await;
    let store = MemoryStore::new();
    let mut items = items_of("r-", 6, project, employee);
    // Row 2 names a project that does not exist: Odoo's load message points at it.
    items[2].1 = line(2, RecordId(999_999), employee);
    fake.clear_requests();

    let out = create_once_many(&store, &odoo, LINE, &items, &BatchOptions::default()).await;
    for (i, r) in out.iter().enumerate() {
        if i == 2 {
            match r {
                Err(Stop::Failed { reason, errors, .. }) => {
                    assert!(reason.contains("999999"), "{reason}");
                    assert!(!errors.is_empty());
                }
                other => panic!("row 2: {other:?}"),
            }
        } else {
            assert!(r.is_ok(), "row {i}: {r:?}");
        }
    }
    assert_eq!(created(&fake), 5);
    assert_eq!(loads(&fake), 2, "the refused call, then the good rows");
    let entry = store.entry(&items[2].0).await.unwrap().unwrap();
    assert_eq!(entry.state, LedgerState::Failed);

    // Once corrected (a replay), the row is created like the others.
    let fixed = vec![(items[2].0.clone(), line(2, project, employee))];
    let out = create_once_many(&store, &odoo, LINE, &fixed, &BatchOptions::default()).await;
    assert!(out[0].is_ok(), "{:?}", out[0]);
    assert_eq!(created(&fake), 6);
}

#[tokio::test]
async fn an_error_of_every_row_fails_the_batch_without_a_call_per_row() {
    let (fake, odoo, project, employee) = start().await;
    let store = MemoryStore::new();
    // Odoo raises for an unknown column, naming no row.
    let items: Vec<_> = (0..64)
        .map(|i| {
            let row = line(i, project, employee).text("x_no_such_field", "1");
            (key("u-", i), row)
        })
        .collect();
    fake.clear_requests();
    let out = create_once_many(&store, &odoo, LINE, &items, &BatchOptions::default()).await;
    assert!(
        out.iter().all(|r| matches!(r, Err(Stop::Failed { .. }))),
        "{out:?}"
    );
    assert_eq!(created(&fake), 0);
    let calls = loads(&fake);
    assert!(
        calls > 1 && calls <= 31,
        "halvings are bounded: {calls} loads"
    );
}

#[tokio::test]
async fn a_reply_lost_after_the_commit_is_retried_without_duplicates() {
    let (fake, odoo, project, employee) = start().await;
    let store = MemoryStore::new();
    let items = items_of("l-", 12, project, employee);

    // Odoo commits the load, then the connection drops before the reply: a crash after `load`
    // and before `complete`, as far as the ledger knows.
    fake.drop_reply_after_commit(1);
    let out = create_once_many(&store, &odoo, LINE, &items, &BatchOptions::default()).await;
    assert!(
        out.iter().all(|r| matches!(r, Err(Stop::Retry { .. }))),
        "{out:?}"
    );
    assert_eq!(created(&fake), 12, "the lost call did commit");
    let entry = store.entry(&items[0].0).await.unwrap().unwrap();
    assert_eq!(entry.state, LedgerState::Abandoned);

    // The retry loads the same external ids: Odoo finds the 12 records instead of creating 12 more.
    let out = create_once_many(&store, &odoo, LINE, &items, &BatchOptions::default()).await;
    let ids: Vec<RecordId> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(created(&fake), 12, "exactly one record per row");
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 12);
}

fn messages(n: usize, bad: Option<usize>) -> Vec<JsonEnvelope> {
    timesheets::numbered(
        n,
        "time",
        |i| key("p-", i),
        |i| json!({"i": i, "bad": Some(i) == bad}),
    )
}

#[tokio::test]
async fn through_the_pipeline_each_message_creates_one_line_and_a_bad_one_is_dead_lettered() {
    let (fake, odoo, project, employee) = start().await;
    let store = Arc::new(MemoryStore::new());
    let lines = BatchedCreate::new(odoo, LINE, BatchOptions::default().max_rows(20));
    let pipeline = Pipeline::builder("approved-time", store.clone())
        .batch_size(20)
        .concurrency(20)
        .retry(
            SyncRetryPolicy::default()
                .initial_delay(Duration::from_millis(10))
                .max_delay(Duration::from_millis(50))
                .max_attempts(10),
        )
        .idle_wait(Duration::from_millis(20))
        .step(from_fn("timesheet", move |cx| {
            let lines = lines.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let p = if cx.envelope.payload["bad"] == json!(true) {
                    RecordId(999_999)
                } else {
                    project
                };
                let key = cx.envelope.idempotency_key.clone();
                lines.create_once(cx, &key, &line(i, p, employee)).await?;
                Ok(())
            })
        }))
        .build();
    pipeline
        .submit_batch(&messages(50, Some(17)))
        .await
        .unwrap();
    // Half the loads lose their reply after committing.
    fake.drop_reply_after_commit(2);
    let mut done = 0;
    for _ in 0..50 {
        let r = pipeline.run_until_idle("w").await.unwrap();
        done += r.done;
        if done >= 49 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done, 49);
    assert_eq!(created(&fake), 49, "one line per good message, none twice");
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].envelope.idempotency_key, key("p-", 17));
}

#[tokio::test]
async fn the_fake_still_refuses_a_second_record_with_the_same_external_id() {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake);
    let h = odoo.model_named::<Value>("ir.model.data");
    let vals = odoo_connect::odoo::Values::new()
        .set("module", "__sync__")
        .set("name", "twice")
        .set("model", "res.partner")
        .set("res_id", 9);
    h.create(&vals).await.unwrap();
    let e = h.create(&vals).await.unwrap_err();
    assert_eq!(
        e.odoo_kind(),
        Some(odoo_connect::odoo::OdooErrorKind::ValidationError),
        "{e}"
    );
    let other = vals.clone().set("name", "once");
    h.create(&other).await.unwrap();
}

#[tokio::test]
async fn a_step_creating_several_records_sends_them_in_the_batch_of_other_steps() {
    let (fake, odoo, project, employee) = start().await;
    let store = Arc::new(MemoryStore::new());
    let lines = BatchedCreate::new(
        odoo,
        LINE,
        BatchOptions::default()
            .max_rows(100)
            .linger(Duration::from_millis(50)),
    );
    let pipeline = Pipeline::builder("approved-time", store.clone())
        .batch_size(10)
        .concurrency(10)
        .idle_wait(Duration::from_millis(20))
        .step(from_fn("timesheets", move |cx| {
            let lines = lines.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                // Two independent records per message: the billed part and the rest.
                let rows = [
                    (key("billed-", i), line(2 * i, project, employee)),
                    (key("rest-", i), line(2 * i + 1, project, employee)),
                ];
                let ids = lines
                    .create_all(cx, &rows)
                    .await
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()?;
                if ids.len() != 2 || ids[0] == ids[1] {
                    return Err(Stop::failed("two records expected", None));
                }
                Ok(())
            })
        }))
        .build();
    let before = fake.requests().len();
    pipeline.submit_batch(&messages(10, None)).await.unwrap();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(r.done, 10, "{r:?}");
    assert_eq!(created(&fake), 20);
    let loads = fake.requests()[before..]
        .iter()
        .filter(|r| r.call.as_deref() == Some("account.analytic.line.load"))
        .count();
    assert!(
        (1..10).contains(&loads),
        "20 rows of 10 messages in fewer loads than messages: {loads}"
    );
    // Delivered again (new messages, same keys): every row comes from the ledger, Odoo is not
    // called.
    let replays: Vec<JsonEnvelope> = messages(10, None).iter().map(|e| e.for_replay()).collect();
    pipeline.submit_batch(&replays).await.unwrap();
    let again = fake.requests().len();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(r.done, 10, "the steps ran again: {r:?}");
    assert_eq!(created(&fake), 20);
    assert!(
        fake.requests()[again..]
            .iter()
            .all(|r| r.call.as_deref() != Some("account.analytic.line.load"))
    );
}

#[tokio::test]
async fn one_batcher_shared_by_two_stores_claims_each_row_in_its_own_ledger() {
    let (fake, odoo, project, employee) = start().await;
    // A linger long enough for both rows to go in the same batch.
    let lines = BatchedCreate::new(
        odoo,
        LINE,
        BatchOptions::default().linger(Duration::from_millis(100)),
    );
    let (a, b) = (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
    let cx = |store: &Arc<MemoryStore>, i: usize| {
        let envelope = messages(i + 1, None).pop().unwrap();
        StepContext::new(envelope, 0, store.clone(), store.clone())
    };
    let (mut cx_a, mut cx_b) = (cx(&a, 0), cx(&b, 1));
    let (key_a, key_b) = (key("store-a-", 0), key("store-b-", 1));
    let (row_a, row_b) = (line(0, project, employee), line(1, project, employee));
    let (ra, rb) = tokio::join!(
        lines.create_once(&mut cx_a, &key_a, &row_a),
        lines.create_once(&mut cx_b, &key_b, &row_b),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_ne!(ra, rb);
    assert_eq!(created(&fake), 2);
    let done = |e: Option<LedgerEntry>| e.is_some_and(|e| e.state == LedgerState::Done);
    assert!(
        done(a.entry(&key_a).await.unwrap()),
        "A's row in A's ledger"
    );
    assert!(
        done(b.entry(&key_b).await.unwrap()),
        "B's row in B's ledger"
    );
    assert!(a.entry(&key_b).await.unwrap().is_none(), "not B's row in A");
    assert!(b.entry(&key_a).await.unwrap().is_none(), "not A's row in B");
}

mod store {
    use super::*;
    use chrono::{DateTime, Utc};
    use odoo_connect::sync::envelope::MessageId;
    use odoo_connect::sync::store::{
        AuditEvent, AuditLog, AuditQuery, AuditRecord, Checkpoint, CheckpointKey, Checkpoints,
        DeadLetter, DeadLetterId, FactFilter, FactKey, FactPage, FactSubject, Facts, Failure,
        Lease, LeasedMessage, PurgeMode, QueueFilter, QueuePage, QueueStats, QueuedMessage,
        ReasonCount, Recorded, StoredFact, WorkQueue,
    };

    #[async_trait]
    impl WorkQueue for Counting {
        async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
            self.inner.enqueue_batch(messages).await
        }
        async fn lease(&self, w: &str, max: usize, d: Duration) -> StoreResult<Vec<LeasedMessage>> {
            self.inner.lease(w, max, d).await
        }
        async fn heartbeat(&self, leases: &[Lease], d: Duration) -> StoreResult<Vec<Lease>> {
            self.inner.heartbeat(leases, d).await
        }
        async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
            self.inner.ack(leases).await
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
    }

    #[async_trait]
    impl Checkpoints for Counting {
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
    impl DeadLetters for Counting {
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
    }

    #[async_trait]
    impl Facts for Counting {
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
    impl AuditLog for Counting {
        async fn append(&self, event: AuditEvent) -> StoreResult<u64> {
            self.appends.fetch_add(1, Ordering::SeqCst);
            self.inner.append(event).await
        }
        async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
            self.append_manys.fetch_add(1, Ordering::SeqCst);
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

#[tokio::test]
async fn a_pipelines_batched_steps_reach_the_stores_batched_ledger_calls() {
    let (fake, odoo, project, employee) = start().await;
    let store = Arc::new(Counting::default());
    let lines = BatchedCreate::new(odoo, LINE, BatchOptions::default().max_rows(20));
    let pipeline = Pipeline::builder("approved-time", store.clone())
        .batch_size(20)
        .concurrency(20)
        .step(from_fn("timesheet", move |cx| {
            let lines = lines.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                lines
                    .create_once(cx, &key, &line(i, project, employee))
                    .await?;
                // A step that writes its audit events itself, through the step's log.
                cx.flush_audit().await;
                Ok(())
            })
        }))
        .build();
    pipeline.submit_batch(&messages(20, None)).await.unwrap();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(r.done, 20, "{r:?}");
    assert_eq!(created(&fake), 20);
    // The store's own batched calls, not the trait's one-key-at-a-time defaults.
    assert_eq!(store.begins.load(Ordering::SeqCst), 0, "no claim per key");
    assert_eq!(store.completes.load(Ordering::SeqCst), 0);
    assert_eq!(store.begin_manys.load(Ordering::SeqCst), 1);
    assert_eq!(store.complete_manys.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.appends.load(Ordering::SeqCst),
        0,
        "no event appended alone"
    );
    assert!(store.append_manys.load(Ordering::SeqCst) >= 20);
}
