//! The fault knobs of `FakeOdoo`: failing replies, `Retry-After`, replies lost after commit,
//! latency, and the request log.

#![cfg(feature = "testkit")]

use std::time::Duration;

use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};
use tokio::time::Instant;

fn envelope(fake: &FakeOdoo, model: &str, method: &str, args: Value) -> String {
    json!({
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"service": "object", "method": "execute_kw", "args": [
            fake.database(), FakeOdoo::ADMIN_UID, fake.admin_api_key(), model, method, args, {}
        ]}
    })
    .to_string()
}

async fn post(fake: &FakeOdoo, body: String) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!("{}/jsonrpc", fake.url()))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
}

async fn result(fake: &FakeOdoo, model: &str, method: &str, args: Value) -> Value {
    let reply = post(fake, envelope(fake, model, method, args))
        .await
        .expect("the fake answers");
    result_of(reply).await
}

/// The result of a JSON-RPC reply, which must not be an error.
async fn result_of(reply: reqwest::Response) -> Value {
    assert_eq!(reply.status(), 200);
    let v: Value = serde_json::from_str(&reply.text().await.expect("a body")).expect("JSON");
    assert!(v.get("error").is_none(), "unexpected error: {v}");
    v["result"].clone()
}

/// [`result`] as a task of its own.
fn spawn_result(
    fake: &FakeOdoo,
    model: &str,
    method: &str,
    args: Value,
) -> tokio::task::JoinHandle<Value> {
    let body = envelope(fake, model, method, args);
    let url = format!("{}/jsonrpc", fake.url());
    tokio::spawn(async move {
        let reply = reqwest::Client::new()
            .post(url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the fake answers");
        result_of(reply).await
    })
}

#[tokio::test]
async fn fail_next_answers_502_html_and_executes_nothing() {
    let fake = FakeOdoo::start().await;
    let before = fake.count("res.partner");
    fake.fail_next(2);
    for _ in 0..2 {
        let reply = post(
            &fake,
            envelope(&fake, "res.partner", "create", json!([{"name": "Never"}])),
        )
        .await
        .expect("a reply");
        assert_eq!(reply.status(), 502);
        let ctype = reply.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(ctype.starts_with("text/html"), "{ctype}");
        let text = reply.text().await.unwrap_or_default();
        assert!(text.contains("502 Bad Gateway"), "{text}");
    }
    assert_eq!(fake.count("res.partner"), before, "nothing executed");
    // The third request goes through.
    let id = result(&fake, "res.partner", "create", json!([{"name": "Now"}])).await;
    assert!(id.is_i64());
    assert_eq!(fake.count("res.partner"), before + 1);
    assert_eq!(fake.request_count(), 3);
    let statuses: Vec<Option<u16>> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(502), Some(502), Some(200)]);
}

#[tokio::test]
async fn fail_next_with_sends_the_status_and_retry_after() {
    let fake = FakeOdoo::start().await;
    fake.fail_next_with(1, 429, Some(7));
    let reply = post(
        &fake,
        envelope(&fake, "res.partner", "search_count", json!([[]])),
    )
    .await
    .expect("a reply");
    assert_eq!(reply.status(), 429);
    assert_eq!(reply.headers()["retry-after"], "7");
    fake.fail_next_with(1, 503, None);
    let reply = post(
        &fake,
        envelope(&fake, "res.partner", "search_count", json!([[]])),
    )
    .await
    .expect("a reply");
    assert_eq!(reply.status(), 503);
    assert!(reply.headers().get("retry-after").is_none());
    let count = result(&fake, "res.partner", "search_count", json!([[]])).await;
    assert!(count.as_i64().unwrap_or(0) > 10);
}

#[tokio::test]
async fn dropped_reply_after_commit_commits_and_the_client_sees_a_connection_error() {
    let fake = FakeOdoo::start().await;
    let before = fake.count("res.partner");
    fake.drop_reply_after_commit(1);
    // Reads are not writing calls: they answer normally.
    let n = result(&fake, "res.partner", "search_count", json!([[]])).await;
    assert!(n.is_i64());
    let err = post(
        &fake,
        envelope(
            &fake,
            "res.partner",
            "create",
            json!([{"name": "Lost reply"}]),
        ),
    )
    .await
    .expect_err("the connection is closed without a reply");
    assert!(!err.is_status(), "{err}");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err}"
    );
    assert_eq!(
        fake.count("res.partner"),
        before + 1,
        "the create was committed"
    );
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "Lost reply"]])),
        1
    );
    let last = fake.requests().pop().expect("logged");
    assert_eq!(last.call.as_deref(), Some("res.partner.create"));
    assert_eq!(last.status, None);
    // The knob is spent: the next write answers.
    let id = result(
        &fake,
        "res.partner",
        "create",
        json!([{"name": "Answered"}]),
    )
    .await;
    assert!(id.is_i64());
}

#[tokio::test]
async fn dropped_reply_over_json2_and_workflow_methods() {
    let fake = FakeOdoo::start().await;
    let json2 = |method: &str, body: Value| {
        reqwest::Client::new()
            .post(format!("{}/json/2/sale.order/{method}", fake.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("bearer {}", fake.admin_api_key()))
            .body(body.to_string())
            .send()
    };
    let created = json2("create", json!({"vals_list": [{"partner_id": 9}]}))
        .await
        .expect("answered")
        .text()
        .await
        .unwrap_or_default();
    let order = serde_json::from_str::<Value>(&created).unwrap_or_default()[0]
        .as_i64()
        .unwrap_or(0);
    fake.drop_reply_after_commit(1);
    let lost = json2("action_confirm", json!({"ids": [order]})).await;
    assert!(lost.is_err(), "the confirmation's reply is lost");
    assert_eq!(
        fake.count_where(
            "sale.order",
            json!([["id", "=", order], ["state", "=", "sale"]])
        ),
        1,
        "the confirmation was committed"
    );
}

#[tokio::test]
async fn failing_writes_do_not_consume_the_drop_knob() {
    let fake = FakeOdoo::start().await;
    fake.drop_reply_after_commit(1);
    let reply = post(
        &fake,
        envelope(
            &fake,
            "sale.order",
            "create",
            json!([{"client_order_ref": "x"}]),
        ),
    )
    .await
    .expect("errors are answered");
    let v: Value =
        serde_json::from_str(&reply.text().await.unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        v["error"]["data"]["name"],
        "odoo.exceptions.ValidationError"
    );
    let lost = post(
        &fake,
        envelope(&fake, "res.partner", "write", json!([[9], {"phone": "1"}])),
    )
    .await;
    assert!(lost.is_err(), "the first successful write loses its reply");
}

/// Runs the other tasks until `done` holds, yielding rather than sleeping: the paused clock only
/// moves when every task waits, so it stands still meanwhile and no timer fires (a reply held for
/// its latency or record cost stays held). At most `TURNS` turns, so that a bug fails the test
/// instead of hanging it.
async fn turn_until(what: &str, mut done: impl FnMut() -> bool) {
    const TURNS: usize = 100_000;
    for _ in 0..TURNS {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("not after {TURNS} turns of the runtime: {what}");
}

// The delays below are measured on tokio's paused clock: it moves only to the timers the fake
// sets (its latency and record cost), never with the time the machine takes, so what it shows
// is the delay the fake added and nothing else.

#[tokio::test(start_paused = true)]
async fn latency_delays_replies() {
    let fake = FakeOdoo::start().await;
    fake.set_latency(Duration::from_millis(150));
    let start = Instant::now();
    result(&fake, "res.partner", "search_count", json!([[]])).await;
    assert!(start.elapsed() >= Duration::from_millis(150));
    fake.set_latency(Duration::ZERO);
    let start = Instant::now();
    result(&fake, "res.partner", "search_count", json!([[]])).await;
    assert!(start.elapsed() < Duration::from_millis(150));
}

#[tokio::test(start_paused = true)]
async fn record_cost_delays_a_call_per_record_it_creates_or_writes() {
    let fake = FakeOdoo::start().await;
    fake.set_record_cost(Duration::from_millis(40));
    // Five records created: at least five times the cost.
    let start = Instant::now();
    let ids = result(
        &fake,
        "res.partner",
        "create",
        json!([[{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "D"}, {"name": "E"}]]),
    )
    .await;
    assert_eq!(ids.as_array().map(Vec::len), Some(5));
    assert!(start.elapsed() >= Duration::from_millis(200));
    // A write counts the records written, over JSON-2 too.
    let start = Instant::now();
    let reply = reqwest::Client::new()
        .post(format!("{}/json/2/res.partner/write", fake.url()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("bearer {}", fake.admin_api_key()))
        .body(json!({"ids": ids, "vals": {"phone": "1"}}).to_string())
        .send()
        .await
        .expect("a reply");
    assert_eq!(reply.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(200));
    // A `load` counts its records, not the external ids written beside them: two records
    // take twice the cost, where counting the external ids too would take four times.
    fake.set_record_cost(Duration::from_millis(100));
    let start = Instant::now();
    let loaded = result(
        &fake,
        "res.partner",
        "load",
        json!([
            ["id", "name"],
            [["__test__.cost_a", "A2"], ["__test__.cost_b", "B2"]]
        ]),
    )
    .await;
    assert_eq!(loaded["ids"].as_array().map(Vec::len), Some(2));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(400),
        "{took:?}"
    );
    fake.set_record_cost(Duration::from_millis(40));
    // Reads cost nothing, and the database is not held while a slow call is answered: a read
    // sent during a 25-record create comes back first. The clock stands still from the create's
    // start to the read's reply, so the create's cost cannot run out meanwhile.
    let start = Instant::now();
    let create = spawn_result(
        &fake,
        "res.partner",
        "create",
        json!([(0..25)
            .map(|i| json!({"name": format!("Costly {i}")}))
            .collect::<Vec<_>>()]),
    );
    let created = || fake.count_where("res.partner", json!([["name", "=like", "Costly %"]]));
    turn_until("the create's records are in", || created() == 25).await;
    let read = spawn_result(
        &fake,
        "res.partner",
        "search_count",
        json!([[["name", "=like", "Costly %"]]]),
    );
    turn_until("the read is answered", || read.is_finished()).await;
    assert_eq!(
        read.await.expect("joined"),
        25,
        "the records are in, their reply not yet sent"
    );
    assert!(
        !create.is_finished(),
        "the create's reply waits for its records' cost"
    );
    let ids = create.await.expect("joined");
    assert_eq!(ids.as_array().map(Vec::len), Some(25));
    assert!(start.elapsed() >= Duration::from_millis(25 * 40));
    // Without a cost, a create does not wait.
    fake.set_record_cost(Duration::ZERO);
    let start = Instant::now();
    result(&fake, "res.partner", "create", json!([[{"name": "F"}]])).await;
    assert!(start.elapsed() < Duration::from_millis(40));
}

#[tokio::test]
async fn the_request_log_records_calls_over_both_protocols() {
    let fake = FakeOdoo::start().await;
    result(&fake, "res.partner", "read", json!([[9], ["name"]])).await;
    let reply = reqwest::Client::new()
        .post(format!("{}/json/2/res.partner/search_count", fake.url()))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("bearer {}", fake.admin_api_key()))
        .body(r#"{"domain": []}"#)
        .send()
        .await
        .expect("a reply");
    assert_eq!(reply.status(), 200);
    let log = fake.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path, "/jsonrpc");
    assert_eq!(log[0].method_name(), Some("read"));
    assert_eq!(log[0].model(), Some("res.partner"));
    assert_eq!(log[0].body["params"]["args"][4], "read");
    assert_eq!(log[1].path, "/json/2/res.partner/search_count");
    assert_eq!(log[1].call.as_deref(), Some("res.partner.search_count"));
    assert_eq!(log[1].body, json!({"domain": []}));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_are_served() {
    let fake = std::sync::Arc::new(FakeOdoo::start().await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let fake = fake.clone();
        tasks.push(tokio::spawn(async move {
            result(
                &fake,
                "res.partner",
                "create",
                json!([{"name": format!("Parallel {i}")}]),
            )
            .await
        }));
    }
    for t in tasks {
        assert!(t.await.expect("task").is_i64());
    }
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=like", "Parallel %"]])),
        8
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let fake = FakeOdoo::start().await;
    let url = fake.url();
    fake.shutdown().await;
    let err = reqwest::Client::new()
        .get(format!("{url}/web/version"))
        .send()
        .await;
    assert!(err.is_err());
}
