//! Transient PostgreSQL conflicts (serialisation failures, deadlocks, locks not obtained) are
//! retried, never dead-lettered: how the client classifies the replies recorded from a real Odoo
//! 19 (`tests/fixtures/conflicts/`), that the fake answers the same, and that every effect
//! (`create_once`, `create_once_many`, `BatchedCreate`, `ensure`) and the pipeline retry them.
#![cfg(feature = "testkit")]

#[path = "support/timesheets.rs"]
mod timesheets;

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::odoo::{
    Error, OdooCall, OdooClient, OdooErrorKind, Protocol, RecordId, RetryPolicy,
};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::effect::{
    BatchOptions, BatchedCreate, ImportRow, create_once, create_once_many, ensure,
};
use odoo_connect::sync::envelope::{IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::{StepContext, Stop, from_fn};
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, IdempotencyLedger, LedgerState};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LINE: &str = "account.analytic.line";

fn fixture(name: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/conflicts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn client(fake: &FakeOdoo, protocol: Protocol) -> OdooClient {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .protocol(protocol)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn start() -> (FakeOdoo, OdooClient, RecordId, RecordId) {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::JsonRpc);
    let (project, employee) = timesheets::project_and_employee(&odoo).await;
    (fake, odoo, project, employee)
}

fn key(prefix: &str, i: usize) -> IdempotencyKey {
    IdempotencyKey::for_effect("time", &format!("{prefix}{i}"), "approved", "timesheet").unwrap()
}

fn line(i: usize, project: RecordId, employee: RecordId) -> ImportRow {
    ImportRow::new()
        .text("name", format!("Conflict test {i}"))
        .many2one("project_id", project)
        .many2one("employee_id", employee)
        .text("date", "2026-11-20")
        .number("unit_amount", rust_decimal::Decimal::new(5, 1))
}

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

fn created(fake: &FakeOdoo) -> usize {
    fake.count_where(LINE, json!([["name", "=like", "Conflict test%"]]))
}

fn loads(fake: &FakeOdoo) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.call.as_deref() == Some("account.analytic.line.load"))
        .count()
}

// --- The recorded replies, through the client -------------------------------------------------

async fn mount_version(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "version"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "jsonrpc": "2.0", "id": 1, "result": {"server_version": "19.0",
            "server_version_info": [19, 0, 0, "final", 0, ""], "server_serie": "19.0",
            "protocol_version": 1}})))
        .mount(server)
        .await;
}

fn wire_client(server: &MockServer, protocol: Protocol) -> OdooClient {
    OdooClient::builder(server.uri())
        .database("odoo190")
        .api_key("admin", "test-key-123")
        .protocol(protocol)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn recorded_load_replies_are_transient_and_recorded_errors_are_conflicts() {
    let server = MockServer::start().await;
    mount_version(&server).await;
    for login in ["login", "authenticate"] {
        Mock::given(method("POST"))
            .and(path("/jsonrpc"))
            .and(body_partial_json(
                json!({"params": {"service": "common", "method": login}}),
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"jsonrpc": "2.0", "id": 2, "result": 2})),
            )
            .mount(&server)
            .await;
    }
    for (name, protocol) in [
        (
            "jsonrpc_load_serialization_failure_1_rows",
            Protocol::JsonRpc,
        ),
        (
            "jsonrpc_load_serialization_failure_12_rows",
            Protocol::JsonRpc,
        ),
        ("json2_load_serialization_failure_1_rows", Protocol::Json2),
        ("json2_load_serialization_failure_12_rows", Protocol::Json2),
        ("jsonrpc_write_serialization_failure", Protocol::JsonRpc),
        ("json2_write_serialization_failure", Protocol::Json2),
    ] {
        let recorded = fixture(name);
        let route = match protocol {
            Protocol::Json2 => recorded["request"]["path"].as_str().unwrap().to_owned(),
            _ => "/jsonrpc".to_owned(),
        };
        let mut mock = Mock::given(method("POST")).and(path(route.as_str()));
        if protocol == Protocol::JsonRpc {
            mock = mock.and(body_partial_json(json!({"params": {"service": "object"}})));
        }
        let guard = mock
            .respond_with(
                ResponseTemplate::new(recorded["response"]["status"].as_u64().unwrap() as u16)
                    .set_body_json(recorded["response"]["body"].clone()),
            )
            .mount_as_scoped(&server)
            .await;
        let odoo = wire_client(&server, protocol);
        if name.contains("load") {
            let result = odoo
                .model_named::<Value>(LINE)
                .load(&["id", "name"], vec![vec![json!("__sync__.x"), json!("x")]])
                .await
                .unwrap();
            assert!(result.is_transient(), "{name}: {result:?}");
            let e = result.into_ids().unwrap_err();
            assert!(e.is_transient(), "{name}");
            assert!(
                e.messages
                    .iter()
                    .filter(|m| m.is_error())
                    .all(|m| m.is_conflict())
            );
            assert!(e.to_string().contains("concurrent transaction"), "{e}");
        } else {
            let e: Error = odoo
                .call::<Value>(&OdooCall::new("project.task", "write").arg("vals", json!({})))
                .await
                .unwrap_err();
            assert_eq!(e.odoo_kind(), Some(OdooErrorKind::Conflict), "{name}: {e}");
            assert!(e.is_conflict() && e.is_retryable(), "{name}");
            assert!(matches!(Stop::from(e), Stop::Retry { .. }), "{name}");
        }
        drop(guard);
    }
}

/// Posts JSON (with a bearer key, for JSON-2) and gives the status and the JSON reply.
async fn post(
    http: &reqwest::Client,
    url: String,
    bearer: Option<String>,
    body: &Value,
) -> (u16, Value) {
    let mut request = http
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(key) = bearer {
        request = request.bearer_auth(key);
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    (
        status,
        serde_json::from_str(&reply.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn the_fake_answers_a_conflict_as_the_recorded_server_does() {
    let fake = FakeOdoo::start().await;
    let http = reqwest::Client::new();
    for rows in [1usize, 12] {
        let recorded = fixture(&format!("jsonrpc_load_serialization_failure_{rows}_rows"));
        let fields = recorded["request"]["body"]["params"]["args"][5][0].clone();
        let data = recorded["request"]["body"]["params"]["args"][5][1].clone();
        fake.fail_with_serialization(1);
        let body = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw", "args": [
                fake.database(), FakeOdoo::ADMIN_UID, fake.admin_api_key(), LINE, "load",
                [fields, data]]}});
        let reply = post(&http, format!("{}/jsonrpc", fake.url()), None, &body)
            .await
            .1;
        assert_eq!(
            reply["result"], recorded["response"]["body"]["result"],
            "{rows} rows"
        );
    }
    // create and write: the recorded error class and message, code 0 and HTTP 500 on JSON-2.
    let recorded = fixture("jsonrpc_write_serialization_failure");
    fake.fail_with_serialization(1);
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw", "args": [
            fake.database(), FakeOdoo::ADMIN_UID, fake.admin_api_key(), "res.partner", "write",
            [[1], {"name": "x"}]]}});
    let reply = post(&http, format!("{}/jsonrpc", fake.url()), None, &body)
        .await
        .1;
    let want = &recorded["response"]["body"]["error"];
    assert_eq!(reply["error"]["code"], want["code"]);
    assert_eq!(reply["error"]["data"]["name"], want["data"]["name"]);
    assert_eq!(reply["error"]["data"]["message"], want["data"]["message"]);
    let recorded = fixture("json2_write_serialization_failure");
    fake.fail_with_serialization(1);
    let (status, body) = post(
        &http,
        format!("{}/json/2/res.partner/create", fake.url()),
        Some(fake.admin_api_key()),
        &json!({"vals_list": [{"name": "x"}]}),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(body["name"], recorded["response"]["body"]["name"]);
    assert_eq!(fake.remaining_serialization_failures(), 0);
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "x"]])),
        0
    );
}

// --- Plain calls -----------------------------------------------------------------------------

#[tokio::test]
async fn plain_create_and_write_conflicts_are_retryable_on_both_protocols() {
    let fake = FakeOdoo::start().await;
    for protocol in [Protocol::JsonRpc, Protocol::Json2] {
        let odoo = client(&fake, protocol);
        fake.fail_with_serialization(2);
        let e = odoo
            .model_named::<Value>("res.partner")
            .create(&json!({"name": "Conflicted"}))
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{protocol:?}: {e}");
        assert_eq!(
            e.odoo_exception(),
            Some("psycopg2.errors.SerializationFailure")
        );
        assert!(matches!(Stop::from(e), Stop::Retry { .. }));
        let e = odoo
            .model_named::<Value>("res.partner")
            .write(&[RecordId(1)], &json!({"name": "Conflicted"}))
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{protocol:?}: {e}");
        if protocol == Protocol::Json2 {
            assert_eq!(e.status(), Some(500));
        }
    }
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "Conflicted"]])),
        0
    );
}

/// With its retry policy, the client sends a create or write that Odoo rolled back again itself:
/// one record, written once, no error.
#[tokio::test]
async fn the_client_sends_a_rolled_back_create_and_write_again() {
    let fake = FakeOdoo::start().await;
    for protocol in [Protocol::JsonRpc, Protocol::Json2] {
        let odoo = OdooClient::builder(fake.url())
            .database(fake.database())
            .api_key("admin", fake.admin_api_key())
            .protocol(protocol)
            .retry(
                RetryPolicy::default()
                    .initial_delay(std::time::Duration::from_millis(1))
                    .max_attempts(4),
            )
            .build()
            .unwrap();
        let name = format!("Rolled back {protocol:?}");
        fake.fail_with_serialization(2);
        let id = odoo
            .model_named::<Value>("res.partner")
            .create(&json!({"name": name}))
            .await
            .unwrap();
        assert_eq!(fake.remaining_serialization_failures(), 0);
        assert_eq!(
            fake.count_where("res.partner", json!([["name", "=", name]])),
            1
        );
        fake.fail_with_serialization(1);
        odoo.model_named::<Value>("res.partner")
            .write(&[id], &json!({"comment": "written once"}))
            .await
            .unwrap();
        assert_eq!(fake.remaining_serialization_failures(), 0);
    }
}

// --- Effects ---------------------------------------------------------------------------------

fn context(store: &Arc<MemoryStore>) -> StepContext {
    let envelope = messages("cx-", 1).remove(0);
    StepContext::new(envelope, 1, store.clone(), store.clone())
}

#[tokio::test]
async fn create_once_loads_again_after_conflicts_and_hands_a_lasting_one_back_as_a_retry() {
    let (fake, odoo, project, employee) = start().await;
    let store = Arc::new(MemoryStore::new());
    let mut cx = context(&store);
    // Two conflicts: loaded again at once, created once.
    fake.fail_with_serialization(2);
    let id = create_once(
        &mut cx,
        &odoo,
        LINE,
        &key("o-", 0),
        &line(0, project, employee),
    )
    .await
    .unwrap();
    assert!(id.0 > 0);
    assert_eq!(created(&fake), 1);

    // A conflict that lasts longer than the effect's own tries: a retry, the claim released.
    fake.fail_with_serialization(100);
    let k = key("o-", 1);
    let out = create_once(&mut cx, &odoo, LINE, &k, &line(1, project, employee)).await;
    assert!(matches!(out, Err(Stop::Retry { .. })), "{out:?}");
    let entry = store.entry(&k).await.unwrap().unwrap();
    assert_eq!(entry.state, LedgerState::Abandoned);
    fake.fail_with_serialization(0);
    create_once(&mut cx, &odoo, LINE, &k, &line(1, project, employee))
        .await
        .unwrap();
    assert_eq!(created(&fake), 2);
}

#[tokio::test]
async fn create_once_many_loads_a_conflicted_batch_again_and_fails_no_row() {
    let (fake, odoo, project, employee) = start().await;
    let store = MemoryStore::new();
    let items = items_of("m-", 25, project, employee);
    let options = BatchOptions::default().max_rows(10).concurrent_batches(1);
    fake.clear_requests();
    fake.fail_with_serialization(3);
    let out = create_once_many(&store, &odoo, LINE, &items, &options).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(created(&fake), 25);
    assert_eq!(loads(&fake), 3 + 3, "three batches, three loaded again");

    // Without tries of its own, a conflicted batch is handed back whole, and nothing fails.
    let items = items_of("n-", 12, project, employee);
    fake.fail_with_serialization(1);
    let at_once = options.clone().max_rows(12).conflict_retries(0);
    let out = create_once_many(&store, &odoo, LINE, &items, &at_once).await;
    assert!(
        out.iter()
            .all(|r| matches!(r, Err(Stop::Retry { after: Some(_), .. }))),
        "{out:?}"
    );
    for (k, _) in &items {
        let entry = store.entry(k).await.unwrap().unwrap();
        assert_eq!(entry.state, LedgerState::Abandoned);
    }
    let out = create_once_many(&store, &odoo, LINE, &items, &options).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(created(&fake), 37);
}

#[tokio::test]
async fn ensure_turns_a_conflict_into_a_retry() {
    let (fake, odoo, _, _) = start().await;
    let store = Arc::new(MemoryStore::new());
    let cx = context(&store);
    let k = key("e-", 0);
    let rename = |odoo: OdooClient| async move {
        odoo.model_named::<Value>("res.partner")
            .write(&[RecordId(9)], &json!({"ref": "ENSURED"}))
            .await
            .map(|ok| json!(ok))
    };
    let is_done = |odoo: OdooClient| async move {
        let rows: Vec<Value> = odoo
            .call(
                &OdooCall::new("res.partner", "read")
                    .ids([9])
                    .arg("fields", json!(["ref"])),
            )
            .await?;
        Ok((rows[0]["ref"] == json!("ENSURED")).then(|| json!({"ref": "ENSURED"})))
    };
    fake.fail_with_serialization(1);
    let out = ensure(&cx, &k, || is_done(odoo.clone()), || rename(odoo.clone())).await;
    assert!(matches!(out, Err(Stop::Retry { .. })), "{out:?}");
    assert_eq!(
        store.entry(&k).await.unwrap().unwrap().state,
        LedgerState::Abandoned
    );
    let out = ensure(&cx, &k, || is_done(odoo.clone()), || rename(odoo.clone())).await;
    assert_eq!(out.unwrap(), json!({"ref": "ENSURED"}));
}

fn messages(prefix: &str, n: usize) -> Vec<JsonEnvelope> {
    timesheets::numbered(n, "time", |i| key(prefix, i), |i| json!({"i": i}))
}

/// Runs the pipeline until `n` messages are done (or a bounded number of rounds).
async fn drain(pipeline: &Pipeline<MemoryStore>, n: u64) -> u64 {
    let mut done = 0;
    for _ in 0..200 {
        done += pipeline.run_until_idle("w").await.unwrap().done;
        if done >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done
}

fn quick_retries() -> SyncRetryPolicy {
    SyncRetryPolicy::default()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .max_attempts(4)
}

#[tokio::test]
async fn through_the_pipeline_conflicts_dead_letter_nothing() {
    let (fake, odoo, project, employee) = start().await;
    // `create_once`, 8 at a time, as in the report of 79 of 100 dead-lettered messages.
    let store = Arc::new(MemoryStore::new());
    let o = odoo.clone();
    let pipeline = Pipeline::builder("single", store.clone())
        .batch_size(8)
        .concurrency(8)
        .retry(quick_retries())
        .idle_wait(Duration::from_millis(20))
        .step(from_fn("timesheet", move |cx| {
            let odoo = o.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                create_once(cx, &odoo, LINE, &key, &line(i, project, employee)).await?;
                Ok(())
            })
        }))
        .build();
    pipeline.submit_batch(&messages("s-", 100)).await.unwrap();
    // More conflicts than one message's own tries: some messages go back to the queue.
    fake.fail_with_serialization(60);
    assert_eq!(drain(&pipeline, 100).await, 100);
    assert_eq!(fake.remaining_serialization_failures(), 0);
    assert_eq!(created(&fake), 100);
    let dead = store.list_dead_letters(&DeadLetterFilter::all()).await;
    assert!(dead.unwrap().is_empty());

    // `BatchedCreate`: the same with batches.
    let store = Arc::new(MemoryStore::new());
    let lines = BatchedCreate::new(
        odoo,
        LINE,
        BatchOptions::default().max_rows(20).conflict_retries(1),
    );
    let pipeline = Pipeline::builder("batched", store.clone())
        .batch_size(40)
        .concurrency(40)
        .retry(quick_retries())
        .idle_wait(Duration::from_millis(20))
        .step(from_fn("timesheet", move |cx| {
            let lines = lines.clone();
            Box::pin(async move {
                let i = cx.envelope.payload["i"].as_u64().unwrap_or_default() as usize;
                let key = cx.envelope.idempotency_key.clone();
                lines
                    .create_once(cx, &key, &line(1000 + i, project, employee))
                    .await?;
                Ok(())
            })
        }))
        .build();
    pipeline.submit_batch(&messages("t-", 100)).await.unwrap();
    fake.fail_with_serialization(8);
    assert_eq!(drain(&pipeline, 100).await, 100);
    assert_eq!(fake.remaining_serialization_failures(), 0);
    assert_eq!(created(&fake), 200);
    let dead = store.list_dead_letters(&DeadLetterFilter::all()).await;
    assert!(dead.unwrap().is_empty());
}
