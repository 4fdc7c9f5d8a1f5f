//! The pipeline on the in-memory store: per-lane order, retries with backoff on tokio's paused
//! clock, poison messages, holds, dead letters and replay, the audit trail, metrics, pulls with
//! checkpoints, routing.
#![cfg(feature = "testkit")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use odoo_connect::odoo::{OdooClient, RecordId};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::{CorrelationId, Envelope, IdempotencyKey, JsonEnvelope, Lane};
use odoo_connect::sync::pipeline::{Cursor, Page, Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::{Route, RouteStep, Router, Stop, from_fn, transform, validate};
use odoo_connect::sync::store::{
    AuditKind, CheckpointKey, Checkpoints, Clock, DeadLetterFilter, DeadLetters, FailureClass,
    StoreOptions,
};
use serde_json::{Value, json};

/// A store clock that follows tokio's (pausable) clock.
#[derive(Debug)]
struct TokioClock {
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> Self {
        TokioClock {
            start: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let d = chrono::Duration::from_std(self.origin.elapsed()).unwrap();
        odoo_connect::sync::store::truncate_to_micros(self.start + d)
    }
}

fn envelope(lane: &str, n: u32, payload: Value) -> JsonEnvelope {
    let key = IdempotencyKey::for_effect("test", lane, &n.to_string(), "apply").unwrap();
    Envelope::builder(key, payload)
        .source("crm")
        .legal_entity("BE".parse().unwrap())
        .lane(Lane::new(lane).unwrap())
        .correlation_id(CorrelationId::new(format!("deal-{lane}")).unwrap())
        .build()
        .unwrap()
        .to_json()
        .unwrap()
}

#[tokio::test]
async fn per_lane_order_and_parallel_lanes() {
    let seen: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let log = seen.clone();
    let pipeline = Pipeline::builder("order", Arc::new(MemoryStore::new()))
        .step(from_fn("apply", move |cx| {
            let log = log.clone();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let n = cx.envelope.payload["n"].as_u64().unwrap();
                log.lock()
                    .unwrap()
                    .push((cx.envelope.lane.as_str().to_owned(), n));
                Ok(())
            })
        }))
        .concurrency(4)
        .build();
    let mut batch = Vec::new();
    for n in 0..20u32 {
        for lane in ["contract:1", "contract:2", "contract:3"] {
            batch.push(envelope(lane, n, json!({"n": n})));
        }
    }
    assert_eq!(pipeline.submit_batch(&batch).await.unwrap(), 60);
    let report = pipeline.run_until_idle("w1").await.unwrap();
    assert_eq!(report.done, 60);
    let seen = seen.lock().unwrap();
    for lane in ["contract:1", "contract:2", "contract:3"] {
        let order: Vec<u64> = seen
            .iter()
            .filter(|(l, _)| l == lane)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(order, (0..20).collect::<Vec<u64>>(), "{lane}");
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_exponential_backoff() {
    let clock = Arc::new(TokioClock::new());
    let store = Arc::new(MemoryStore::with_options(
        StoreOptions::default().with_clock(clock.clone()),
    ));
    let attempts: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let log = attempts.clone();
    let origin = tokio::time::Instant::now();
    let pipeline = Pipeline::builder("retry", store.clone())
        .step(from_fn("flaky", move |_cx| {
            let log = log.clone();
            Box::pin(async move {
                let mut a = log.lock().unwrap();
                a.push(origin.elapsed());
                if a.len() < 4 {
                    Err(Stop::retry("502 from Odoo"))
                } else {
                    Ok(())
                }
            })
        }))
        .retry(
            SyncRetryPolicy::default()
                .initial_delay(Duration::from_secs(10))
                .max_delay(Duration::from_secs(25))
                .jitter(false)
                .max_attempts(6),
        )
        .idle_wait(Duration::from_secs(1))
        .clock(clock)
        .build();
    pipeline
        .submit(&envelope("c:1", 1, json!({})).decode::<Value>().unwrap())
        .await
        .unwrap();
    let report = pipeline
        .run("w1", tokio::time::sleep(Duration::from_secs(120)))
        .await
        .unwrap();
    assert_eq!(report.done, 1);
    assert_eq!(report.retried, 3);
    let times: Vec<u64> = attempts
        .lock()
        .unwrap()
        .iter()
        .map(|d| d.as_secs())
        .collect();
    // Delays of 10, 20, then 25 (capped) seconds, give or take the 1 s idle poll.
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps.len(), 3, "{times:?}");
    for (gap, want) in gaps.iter().zip([10u64, 20, 25]) {
        assert!(*gap >= want && *gap <= want + 1, "gaps {gaps:?}");
    }
}

#[tokio::test]
async fn a_poison_message_ends_in_the_dead_letters_without_blocking_the_rest() {
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("poison", store.clone())
        .step(from_fn("apply", |cx| {
            Box::pin(async move {
                if cx.envelope.payload["poison"] == true {
                    Err(Stop::retry("always fails"))
                } else {
                    Ok(())
                }
            })
        }))
        .retry(
            SyncRetryPolicy::default()
                .initial_delay(Duration::ZERO)
                .max_delay(Duration::ZERO)
                .max_attempts(3),
        )
        .build();
    let batch = vec![
        envelope("c:1", 1, json!({"poison": true})),
        envelope("c:1", 2, json!({})),
        envelope("c:2", 1, json!({})),
    ];
    pipeline.submit_batch(&batch).await.unwrap();
    let report = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(report.done, 2, "{report:?}");
    assert_eq!(report.failed, 1);
    assert_eq!(report.retried, 2);
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].failure.class, FailureClass::Technical);
    assert!(
        dead[0].failure.reason.contains("gave up after 3 attempts"),
        "{}",
        dead[0].failure.reason
    );
    assert_eq!(dead[0].envelope.payload["poison"], true);
}

/// The mapped values a transform hands to the apply step.
struct Values(Value);

#[tokio::test]
async fn holds_are_business_exceptions_that_can_be_replayed_corrected() {
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("hold", store.clone())
        .step(validate("cap", |env| {
            let hours = env.payload["hours"].as_f64().unwrap_or(0.0);
            if hours > 40.0 {
                Err(Stop::held(
                    "cap_reached",
                    json!({"hours": hours, "cap": 40}),
                ))
            } else {
                Ok(())
            }
        }))
        .step(transform("map", |env| {
            Ok(Values(json!({"unit_amount": env.payload["hours"]})))
        }))
        .step(from_fn("apply", |cx| {
            Box::pin(async move {
                // The transform's output, read by type.
                let values = cx.state.require::<Values>()?;
                if values.0["unit_amount"].is_null() {
                    return Err(Stop::failed("the transform lost the hours", None));
                }
                Ok(())
            })
        }))
        .build();
    let env = envelope("c:9", 1, json!({"hours": 50}));
    pipeline
        .submit_batch(std::slice::from_ref(&env))
        .await
        .unwrap();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(r.held, 1);
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].failure.reason, "cap_reached");
    let counts = store.count_by_reason().await.unwrap();
    assert_eq!(counts.len(), 1);

    let new_id = pipeline
        .replay(dead[0].id, Some(json!({"hours": 38})), "anna@firm")
        .await
        .unwrap();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!(r.done, 1);
    let dl = store.dead_letter_by_id(dead[0].id).await.unwrap().unwrap();
    assert!(dl.replay.is_some(), "marked replayed");
    assert!(
        pipeline
            .replay_matching(&DeadLetterFilter::all(), "x")
            .await
            .unwrap()
            .is_empty()
    );

    let trail = pipeline.trace(&env.correlation_id).await.unwrap();
    let kinds: Vec<String> = trail
        .iter()
        .map(|r| r.event.kind.as_str().to_owned())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("message_received"));
    assert!(kinds.contains(&"dead_lettered".to_owned()));
    let replay = trail
        .iter()
        .find(|r| r.event.kind == AuditKind::ManualReplay)
        .unwrap();
    assert_eq!(replay.event.actor.as_deref(), Some("anna@firm"));
    assert_eq!(replay.event.message_id, Some(new_id));
    // The replayed message kept the idempotency key of the original.
    assert_eq!(
        replay.event.idempotency_key.as_ref(),
        Some(&env.idempotency_key)
    );
}

#[test]
fn metrics_count_outcomes() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("metrics", store)
        .step(from_fn("apply", |cx| {
            Box::pin(async move {
                if cx.envelope.payload["hold"] == true {
                    Err(Stop::held("milestone_not_accepted", Value::Null))
                } else {
                    Ok(())
                }
            })
        }))
        .build();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            pipeline
                .submit_batch(&[
                    envelope("a", 1, json!({})),
                    envelope("b", 1, json!({"hold": true})),
                ])
                .await
                .unwrap();
            pipeline.run_until_idle("w").await.unwrap();
        });
    });
    let snap = snapshotter.snapshot().into_vec();
    let find = |name: &str, label: (&str, &str)| {
        snap.iter().find(|(k, _, _, _)| {
            k.key().name() == name
                && k.key()
                    .labels()
                    .any(|l| l.key() == label.0 && l.value() == label.1)
        })
    };
    use metrics_util::debugging::DebugValue;
    match find("odoo_connect_sync_messages_total", ("outcome", "done")) {
        Some((_, _, _, DebugValue::Counter(n))) => assert_eq!(*n, 1),
        other => panic!("missing done counter: {other:?}"),
    }
    match find(
        "odoo_connect_sync_held_total",
        ("reason", "milestone_not_accepted"),
    ) {
        Some((_, _, _, DebugValue::Counter(n))) => assert_eq!(*n, 1),
        other => panic!("missing held counter: {other:?}"),
    }
    assert!(
        find(
            "odoo_connect_sync_dead_letters",
            ("reason", "milestone_not_accepted")
        )
        .is_some()
    );
    assert!(find("odoo_connect_sync_queue_depth", ("pipeline", "metrics")).is_some());
}

#[derive(Debug, thiserror::Error)]
#[error("source down")]
struct SourceDown;

#[tokio::test]
async fn pulls_resume_from_the_checkpoint_and_full_refresh_adds_no_duplicate() {
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("pull", store.clone())
        .step(from_fn("apply", |_| Box::pin(async { Ok(()) })))
        .build();
    // A source of 30 changes read 10 at a time; message ids derive from the change.
    let changes: Vec<JsonEnvelope> = (0..30u32)
        .map(|n| envelope(&format!("d:{n}"), n, json!({"n": n})))
        .collect();
    let key = CheckpointKey::new("crm", "deals", "BE".parse().unwrap());
    let fail_at = Arc::new(Mutex::new(Some(2u64)));
    let seen_cursors: Arc<Mutex<Vec<Option<Cursor>>>> = Arc::default();
    let fetch = |cursor: Option<Cursor>| {
        let changes = changes.clone();
        let fail_at = fail_at.clone();
        let seen = seen_cursors.clone();
        async move {
            seen.lock().unwrap().push(cursor.clone());
            let start = cursor
                .and_then(|c| c.as_str().parse::<u64>().ok())
                .unwrap_or(0);
            if fail_at
                .lock()
                .unwrap()
                .take_if(|f| *f * 10 == start)
                .is_some()
            {
                return Err(SourceDown);
            }
            let end = (start + 10).min(30);
            Ok(Page::new(
                changes[start as usize..end as usize].to_vec(),
                Some(Cursor::new(end.to_string())),
                end < 30,
            ))
        }
    };
    assert!(
        pipeline.pull(&key, fetch).await.is_err(),
        "the source failed on the third page"
    );
    let cp = store.checkpoint(&key).await.unwrap().unwrap();
    assert_eq!(cp.cursor, Some(json!("20")));
    let r = pipeline.pull(&key, fetch).await.unwrap();
    assert_eq!((r.pages, r.enqueued), (1, 10));
    assert_eq!(
        seen_cursors.lock().unwrap().last().unwrap(),
        &Some(Cursor::new("20"))
    );
    // A full refresh reads everything again; the queue knows every message already.
    pipeline.full_refresh(&key).await.unwrap();
    let r = pipeline.pull(&key, fetch).await.unwrap();
    assert_eq!((r.pages, r.enqueued), (3, 0));
    assert_eq!(pipeline.run_until_idle("w").await.unwrap().done, 30);
}

#[tokio::test]
async fn routing_picks_the_flow_credentials_and_audits_them() {
    let store = Arc::new(MemoryStore::new());
    let client = |label: &str| {
        OdooClient::builder(format!("https://{label}.example.com"))
            .api_key(label, "k")
            .build()
            .unwrap()
    };
    let router = Arc::new(
        Router::new()
            .route(Route {
                legal_entity: "BE".parse().unwrap(),
                flow: "contract".into(),
                company_id: RecordId(1),
                journal_id: None,
                credential_label: "be-contracts".into(),
                odoo: client("a"),
            })
            .route(Route {
                legal_entity: "BE".parse().unwrap(),
                flow: "invoice".into(),
                company_id: RecordId(1),
                journal_id: Some(RecordId(5)),
                credential_label: "be-invoicing".into(),
                odoo: client("b"),
            }),
    );
    let pipeline = Pipeline::builder("route", store.clone())
        .step(RouteStep::new(router.clone(), "invoice"))
        .step(from_fn("apply", |cx| {
            Box::pin(async move {
                match cx.require_route() {
                    Ok(r) if r.journal_id == Some(RecordId(5)) => Ok(()),
                    Ok(_) => Err(Stop::failed("wrong route", None)),
                    Err(o) => Err(o),
                }
            })
        }))
        .build();
    let ok = envelope("r:1", 1, json!({}));
    let mut other = envelope("r:2", 1, json!({}));
    other.legal_entity = "FR".parse().unwrap();
    pipeline.submit_batch(&[ok.clone(), other]).await.unwrap();
    let r = pipeline.run_until_idle("w").await.unwrap();
    assert_eq!((r.done, r.failed), (1, 1));
    let trail = pipeline.trace(&ok.correlation_id).await.unwrap();
    let used = trail
        .iter()
        .find(|r| r.event.kind == AuditKind::CredentialUsed)
        .unwrap();
    assert_eq!(used.event.credential_label.as_deref(), Some("be-invoicing"));
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    assert!(
        dead[0]
            .failure
            .reason
            .contains("no route for legal entity `FR`")
    );
}
