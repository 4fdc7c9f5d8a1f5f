//! The fault proxy injects each fault as documented: what the client sees, and whether the
//! server behind it executed the request.

use std::time::Duration;

use odoo_connect_fake::FakeOdoo;
use odoo_connect_fake::fault_proxy::{Fault, FaultPlan, FaultProxy};

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn get(
    c: &reqwest::Client,
    proxy: &FaultProxy,
) -> Result<(u16, Option<String>, String), reqwest::Error> {
    let r = c.get(format!("{}/web/health", proxy.url())).send().await?;
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.text().await?;
    Ok((status, retry_after, body))
}

#[tokio::test]
async fn each_fault_does_what_it_says() {
    let fake = FakeOdoo::start().await;
    let script = [
        (0, Fault::ResetBeforeForward),
        (1, Fault::ResetAfterForward),
        (2, Fault::CutMidBody),
        (3, Fault::Stall),
        (4, Fault::BadGateway),
        (5, Fault::ServiceUnavailable),
        (6, Fault::GatewayTimeout),
        (7, Fault::TooManyRequests),
        (8, Fault::TooManyRequestsRetryAfter),
        (9, Fault::Duplicate),
    ];
    let plan = FaultPlan::script(script)
        .stall_for(Duration::from_millis(600))
        .retry_after_secs(3);
    let proxy = FaultProxy::start(&fake.url(), plan).await.unwrap();
    let c = client(Duration::from_millis(250));

    // 0: reset before forwarding: an error, and the server saw nothing.
    let before = fake.request_count();
    let e = get(&c, &proxy).await.unwrap_err();
    assert!(!e.is_timeout(), "{e:?}");
    assert_eq!(fake.request_count(), before);

    // 1: reset after forwarding: an error, and the server executed it.
    let e = get(&c, &proxy).await.unwrap_err();
    assert!(!e.is_timeout(), "{e:?}");
    assert_eq!(fake.request_count(), before + 1);

    // 2: cut mid-body: the status arrives, the body fails.
    let r = c
        .get(format!("{}/web/health", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.is_err());
    assert_eq!(fake.request_count(), before + 2);

    // 3: stall: the client times out, the server executed it.
    let e = get(&c, &proxy).await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(fake.request_count(), before + 3);

    // 4-8: status pages, not forwarded.
    for (status, retry_after) in [
        (502, None),
        (503, None),
        (504, None),
        (429, None),
        (429, Some("3".to_owned())),
    ] {
        let (s, ra, body) = get(&c, &proxy).await.unwrap();
        assert_eq!((s, ra), (status, retry_after));
        assert!(body.contains("<html>"), "{body}");
    }
    assert_eq!(fake.request_count(), before + 3);

    // 9: duplicated: one reply, two deliveries.
    let (s, _, body) = get(&c, &proxy).await.unwrap();
    assert_eq!(s, 200);
    assert!(body.contains("pass"), "{body}");
    assert_eq!(fake.request_count(), before + 5);

    // 10: nothing scripted: passes.
    let (s, _, _) = get(&c, &proxy).await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(fake.request_count(), before + 6);

    let stats = proxy.stats();
    for (_, f) in script {
        assert_eq!(stats.get(f), 1, "{f}");
    }
    assert_eq!(stats.total(), 10);
    assert_eq!(stats.failed_calls(), 9);
    assert_eq!(stats.requests, 11);
    assert_eq!(stats.passed, 1);
    assert_eq!(stats.forwarded, 6);
    let injected = proxy.injected();
    assert_eq!(injected.len(), 10);
    assert_eq!(injected[9].fault, Fault::Duplicate);
    assert_eq!(injected[9].call, "GET /web/health");
}

#[tokio::test]
async fn pass_through_and_a_new_plan() {
    let fake = FakeOdoo::start().await;
    let plan = FaultPlan::seeded(3).probability(Fault::BadGateway, 1.0);
    let proxy = FaultProxy::start(&fake.url(), plan).await.unwrap();
    let c = client(Duration::from_secs(5));
    assert_eq!(get(&c, &proxy).await.unwrap().0, 502);
    proxy.set_pass_through(true);
    assert!(proxy.is_pass_through());
    assert_eq!(get(&c, &proxy).await.unwrap().0, 200);
    proxy.set_pass_through(false);
    // Indexes count from 0 under a new plan.
    proxy.set_plan(FaultPlan::script([(1, Fault::GatewayTimeout)]));
    assert_eq!(get(&c, &proxy).await.unwrap().0, 200);
    assert_eq!(get(&c, &proxy).await.unwrap().0, 504);
    assert_eq!(get(&c, &proxy).await.unwrap().0, 200);
    // A limit caps the faults injected in all.
    proxy.set_plan(
        FaultPlan::seeded(1)
            .probability(Fault::ServiceUnavailable, 1.0)
            .limit(3),
    );
    for _ in 0..3 {
        assert_eq!(get(&c, &proxy).await.unwrap().0, 503);
    }
    assert_eq!(get(&c, &proxy).await.unwrap().0, 200);
    // An exception spares one call.
    proxy.set_plan(
        FaultPlan::seeded(1)
            .probability(Fault::ServiceUnavailable, 1.0)
            .except(Fault::ServiceUnavailable, "GET /web/health"),
    );
    assert_eq!(get(&c, &proxy).await.unwrap().0, 200);
    let stats = proxy.stats();
    assert_eq!(stats.total(), 5);
    assert_eq!(stats.get(Fault::ServiceUnavailable), 3);
    assert_eq!(stats.requests, 10);
    proxy.shutdown().await;
}

#[tokio::test]
async fn an_odoo_connect_client_call_through_the_proxy_reaches_the_fake() {
    let fake = FakeOdoo::start().await;
    let proxy = FaultProxy::start(&fake.url(), FaultPlan::none())
        .await
        .unwrap();
    // JSON-RPC through the proxy: the body, headers and reply pass untouched.
    let body = serde_json::json!({
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"service": "common", "method": "version", "args": []}
    });
    let r = client(Duration::from_secs(5))
        .post(format!("{}/jsonrpc", proxy.url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&r).unwrap();
    assert!(r["result"]["server_version"].is_string(), "{r}");
    assert_eq!(proxy.stats().passed, 1);
}
