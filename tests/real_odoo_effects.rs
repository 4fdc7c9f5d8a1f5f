//! The exactly-once effects against a real Odoo, with several workers at once: every effect
//! (`create_once`, `create_once_many`, `BatchedCreate`, `ensure`) under concurrent writers of the
//! same task (whose stored hours each timesheet line recomputes, so PostgreSQL rolls some of the
//! concurrent transactions back), four workers applying 2,000 messages, and a reply lost after
//! Odoo committed. Every record is counted by the run's own tag: exactly once, no dead letter.
#![cfg(feature = "testkit")]

#[path = "support/timesheets.rs"]
mod timesheets;

mod real_odoo;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use odoo_connect::odoo::{Domain, OdooCall, OdooClient, Protocol, RecordId};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::effect::{
    BatchOptions, BatchedCreate, ImportRow, create_once, create_once_many, ensure,
};
use odoo_connect::sync::envelope::{IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::{StepContext, Stop, from_fn};
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters};
use odoo_connect::testkit::{Fault, FaultPlan, FaultProxy};
use serde_json::{Value, json};

const LINE: &str = "account.analytic.line";

/// A project and a task of this test's own, and an employee of the demo data.
struct Target {
    project: RecordId,
    task: RecordId,
    employee: RecordId,
}

async fn target(odoo: &OdooClient, what: &str) -> Target {
    let tag = real_odoo::run_tag();
    let project = odoo
        .model_named::<Value>("project.project")
        .create(&json!({"name": format!("{tag} {what}"), "allow_timesheets": true}))
        .await
        .unwrap();
    let task = odoo
        .model_named::<Value>("project.task")
        .create(&json!({"name": format!("{tag} {what} task"), "project_id": project.0}))
        .await
        .unwrap();
    let employee = odoo
        .model_named::<Value>("hr.employee")
        .search(Domain::new().eq("company_id", 1))
        .limit(1)
        .await
        .unwrap()[0];
    Target {
        project,
        task,
        employee,
    }
}

/// The line of item `i`, named `<tag> <what> <i>`, on the task (each one recomputes its hours).
fn line(t: &Target, what: &str, i: usize) -> ImportRow {
    ImportRow::new()
        .text("name", format!("{} {what} {i}", real_odoo::run_tag()))
        .many2one("project_id", t.project)
        .many2one("task_id", t.task)
        .many2one("employee_id", t.employee)
        .text("date", "2026-01-15")
        .number("unit_amount", rust_decimal::Decimal::new(25, 2))
}

fn key(what: &str, i: usize) -> IdempotencyKey {
    IdempotencyKey::for_effect(
        "real-odoo",
        &format!("{}-{what}-{i}", real_odoo::run_tag()),
        "v1",
        "timesheet",
    )
    .unwrap()
}

/// Lines of this run named `<tag> <what> ...`.
async fn count(odoo: &OdooClient, what: &str) -> i64 {
    odoo.model_named::<Value>(LINE)
        .search_count(Domain::new().eq_like("name", format!("{} {what} %", real_odoo::run_tag())))
        .await
        .unwrap()
}

fn messages(what: &str, n: usize) -> Vec<JsonEnvelope> {
    timesheets::numbered(n, "real-odoo", |i| key(what, i), |i| json!({"i": i}))
}

fn context(store: &Arc<MemoryStore>, what: &str) -> StepContext {
    StepContext::new(messages(what, 1).remove(0), 1, store.clone(), store.clone())
}

fn retries() -> SyncRetryPolicy {
    SyncRetryPolicy::default()
        .initial_delay(Duration::from_millis(200))
        .max_delay(Duration::from_secs(2))
        .max_attempts(12)
}

/// Runs `workers` workers on the pipeline until `n` messages are done; the done count.
async fn drain(pipeline: &Pipeline<MemoryStore>, workers: usize, n: u64) -> u64 {
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let pipeline = pipeline.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..600 {
                let r = pipeline.run_until_idle(&format!("w{w}")).await.unwrap();
                let total = done.fetch_add(r.done as usize, Ordering::SeqCst) + r.done as usize;
                if total as u64 >= n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::SeqCst) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn create_once_by_eight_steps_at_once_creates_each_line_once_and_dead_letters_none() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin_no_retry();
    let t = Arc::new(target(&odoo, "single").await);
    let store = Arc::new(MemoryStore::new());
    let (o, tt) = (odoo.clone(), t.clone());
    let pipeline = Pipeline::builder("single", store.clone())
        .batch_size(8)
        .concurrency(8)
        .retry(retries())
        .idle_wait(Duration::from_millis(50))
        .step(from_fn("timesheet", move |cx| {
            let (odoo, t) = (o.clone(), tt.clone());
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                create_once(cx, &odoo, LINE, &key, &line(&t, "single", i)).await?;
                Ok(())
            })
        }))
        .build();
    pipeline
        .submit_batch(&messages("single", 100))
        .await
        .unwrap();
    assert_eq!(drain(&pipeline, 1, 100).await, 100);
    assert_eq!(count(&odoo, "single").await, 100);
    let dead = store.list_dead_letters(&DeadLetterFilter::all()).await;
    assert!(dead.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn create_once_many_by_four_callers_at_once_creates_each_line_once() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Json2);
    let t = Arc::new(target(&odoo, "many").await);
    let store = Arc::new(MemoryStore::new());
    // Four callers with overlapping keys: 0..60, 20..80, 40..100, 0..100.
    let ranges = [(0, 60), (20, 80), (40, 100), (0, 100)];
    let mut calls = Vec::new();
    for (from, to) in ranges {
        let (odoo, t, store) = (odoo.clone(), t.clone(), store.clone());
        calls.push(async move {
            let items: Vec<_> = (from..to)
                .map(|i| (key("many", i), line(&t, "many", i)))
                .collect();
            let options = BatchOptions::default().max_rows(20);
            let mut left = items.clone();
            let mut last = String::new();
            for _ in 0..60 {
                let out = create_once_many(&*store, &odoo, LINE, &left, &options).await;
                let mut again = Vec::new();
                for (item, r) in left.into_iter().zip(out) {
                    match r {
                        Ok(_) => {}
                        Err(Stop::Retry { error, .. }) => {
                            last = error;
                            again.push(item)
                        }
                        Err(other) => panic!("{}: {other}", item.0),
                    }
                }
                if again.is_empty() {
                    return;
                }
                left = again;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            panic!("rows still retried after 60 rounds: {last}");
        });
    }
    // Polled together (four loads under way at once); `create_once_many` borrows its inputs.
    futures_util::future::join_all(calls).await;
    assert_eq!(count(&odoo, "many").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn four_workers_apply_two_thousand_messages_exactly_once_with_no_dead_letter() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin_no_retry();
    let t = Arc::new(target(&odoo, "bulk").await);
    let store = Arc::new(MemoryStore::new());
    let lines = BatchedCreate::new(odoo.clone(), LINE, BatchOptions::default().max_rows(100));
    let tt = t.clone();
    let pipeline = Pipeline::builder("bulk", store.clone())
        .batch_size(200)
        .concurrency(200)
        .retry(retries())
        .idle_wait(Duration::from_millis(50))
        .step(from_fn("timesheet", move |cx| {
            let (lines, t) = (lines.clone(), tt.clone());
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                lines.create_once(cx, &key, &line(&t, "bulk", i)).await?;
                Ok(())
            })
        }))
        .build();
    pipeline
        .submit_batch(&messages("bulk", 2000))
        .await
        .unwrap();
    assert_eq!(drain(&pipeline, 4, 2000).await, 2000);
    assert_eq!(count(&odoo, "bulk").await, 2000, "every line exactly once");
    let dead = store.list_dead_letters(&DeadLetterFilter::all()).await;
    assert!(dead.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn ensure_by_four_workers_on_one_key_applies_once() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Json2);
    let t = target(&odoo, "ensure").await;
    let store = Arc::new(MemoryStore::new());
    let acts = Arc::new(AtomicUsize::new(0));
    let k = key("ensure", 0);
    let mut workers = Vec::new();
    for w in 0..4 {
        let (odoo, store, acts, k) = (odoo.clone(), store.clone(), acts.clone(), k.clone());
        let task = t.task;
        workers.push(tokio::spawn(async move {
            let cx = context(&store, &format!("ensure-cx-{w}"));
            for _ in 0..40 {
                let is_done = || {
                    let odoo = odoo.clone();
                    async move {
                        let rows: Vec<Value> = odoo
                            .call(
                                &OdooCall::new("project.task", "read")
                                    .ids([task.0])
                                    .arg("fields", json!(["priority"])),
                            )
                            .await?;
                        Ok((rows[0]["priority"] == json!("1")).then(|| json!({"priority": "1"})))
                    }
                };
                let act = || {
                    let (odoo, acts) = (odoo.clone(), acts.clone());
                    async move {
                        acts.fetch_add(1, Ordering::SeqCst);
                        odoo.model_named::<Value>("project.task")
                            .write(&[task], &json!({"priority": "1"}))
                            .await
                            .map(|ok| json!(ok))
                    }
                };
                match ensure(&cx, &k, is_done, act).await {
                    Ok(v) => return v,
                    Err(Stop::Retry { .. }) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(other) => panic!("{other}"),
                }
            }
            panic!("still retried");
        }));
    }
    for w in workers {
        assert_eq!(w.await.unwrap(), json!({"priority": "1"}));
    }
    assert_eq!(acts.load(Ordering::SeqCst), 1, "the write ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_load_whose_reply_is_cut_after_the_commit_is_retried_without_a_second_record() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let proxy = FaultProxy::start(&real.url, FaultPlan::none())
        .await
        .unwrap();
    let odoo = OdooClient::builder(proxy.url())
        .database(real.db.clone())
        .api_key(real.login.clone(), real.api_key.clone())
        .protocol(Protocol::Json2)
        .retry(odoo_connect::odoo::RetryPolicy::none())
        .build()
        .unwrap();
    let t = target(&odoo, "lost").await;
    let store = Arc::new(MemoryStore::new());
    let items: Vec<_> = (0..30)
        .map(|i| (key("lost", i), line(&t, "lost", i)))
        .collect();
    // The next load is executed and committed by Odoo, then its reply is cut.
    proxy.set_plan(
        FaultPlan::none()
            .probability(Fault::ResetAfterForward, 1.0)
            .except(Fault::ResetAfterForward, "ir.model.data.search_read")
            .limit(1),
    );
    let out = create_once_many(&*store, &odoo, LINE, &items, &BatchOptions::default()).await;
    assert!(
        out.iter().all(|r| matches!(r, Err(Stop::Retry { .. }))),
        "{out:?}"
    );
    assert_eq!(count(&odoo, "lost").await, 30, "the cut load did commit");
    let out = create_once_many(&*store, &odoo, LINE, &items, &BatchOptions::default()).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(
        count(&odoo, "lost").await,
        30,
        "the retry created none again"
    );

    // The same for create_once.
    let mut cx = context(&store, "lost-one");
    let k = key("lost", 100);
    proxy.set_plan(
        FaultPlan::none()
            .probability(Fault::ResetAfterForward, 1.0)
            .except(Fault::ResetAfterForward, "ir.model.data.search_read")
            .limit(1),
    );
    let out = create_once(&mut cx, &odoo, LINE, &k, &line(&t, "lost", 100)).await;
    assert!(matches!(out, Err(Stop::Retry { .. })), "{out:?}");
    let id = create_once(&mut cx, &odoo, LINE, &k, &line(&t, "lost", 100))
        .await
        .unwrap();
    assert!(id.0 > 0);
    assert_eq!(count(&odoo, "lost").await, 31);
}
