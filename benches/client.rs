//! Client overhead per call: small `search_read`s against the fake Odoo through the client, and
//! the same requests sent with bare reqwest + serde_json. Target: within 1.2x.

use criterion::{Criterion, criterion_group, criterion_main};
use odoo_connect::odoo::{Domain, OdooClient, RetryPolicy};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake = rt.block_on(FakeOdoo::start());
    let key = fake.admin_api_key();
    let odoo = OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", key.clone())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    rt.block_on(odoo.session()).unwrap();
    let bare = reqwest::Client::new();
    let url = format!("{}/json/2/res.partner/search_read", fake.url());
    let body =
        json!({"domain": [["is_company", "=", true]], "fields": ["name", "email"], "limit": 5});

    let mut g = c.benchmark_group("call_overhead_1000_search_reads");
    g.sample_size(10);
    g.bench_function("bare_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            for _ in 0..1000 {
                let resp = bare
                    .post(&url)
                    .header("Authorization", format!("bearer {key}"))
                    .header("X-Odoo-Database", fake.database())
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&body).unwrap())
                    .send()
                    .await
                    .unwrap();
                let bytes = resp.bytes().await.unwrap();
                let v: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
                assert!(!v.is_empty());
            }
        })
    });
    g.bench_function("odoo_connect_client", |b| {
        b.to_async(&rt).iter(|| async {
            let h = odoo.model_named::<Value>("res.partner");
            for _ in 0..1000 {
                let v = h
                    .search_read(Domain::new().eq("is_company", true))
                    .fields(["name", "email"])
                    .limit(5)
                    .await
                    .unwrap();
                assert!(!v.is_empty());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
