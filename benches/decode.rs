//! Decoding a 10,000-record `search_read` reply into typed `Partner`s, against decoding it into
//! `serde_json::Value` (the floor). Target: typed within 1.5x of the floor.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use odoo_connect::odoo::jsonrpc;
use odoo_connect::odoo::models::Partner;
use serde_json::{Value, json};

/// A reply shaped like the recorded `search_read` of res.partner (Odoo 19), 10,000 records.
fn reply(n: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "id": i + 1,
                "display_name": format!("Customer {i}"),
                "name": format!("Customer {i}"),
                "is_company": i % 3 == 0,
                "type": "contact",
                "email": if i % 5 == 0 { json!(false) } else { json!(format!("c{i}@example.com")) },
                "phone": if i % 2 == 0 { json!("+1 555 0100") } else { json!(false) },
                "vat": false,
                "ref": format!("C{i:05}"),
                "street": "1 Main Street",
                "city": "Springfield",
                "zip": "12345",
                "state_id": false,
                "country_id": [233, "United States"],
                "parent_id": if i % 3 == 0 { json!(false) } else { json!([i / 3 * 3 + 1, "Parent"]) },
                "commercial_partner_id": [i + 1, format!("Customer {i}")],
                "company_id": false,
                "child_ids": [],
                "category_id": [4, 5],
                "customer_rank": 1,
                "supplier_rank": 0,
                "active": true,
                "write_date": "2026-11-23 00:39:57",
            })
        })
        .collect();
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": records})).unwrap()
}

fn bench(c: &mut Criterion) {
    let n = 10_000;
    let body = reply(n);
    let mut g = c.benchmark_group("decode_search_read");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    g.bench_function(BenchmarkId::new("value_floor", n), |b| {
        b.iter(|| {
            let v: Vec<Value> = jsonrpc::decode_reply(
                200,
                std::hint::black_box(&body),
                ("res.partner", "search_read"),
            )
            .unwrap();
            assert_eq!(v.len(), n);
        })
    });
    g.bench_function(BenchmarkId::new("typed_partner", n), |b| {
        b.iter(|| {
            let v: Vec<Partner> = jsonrpc::decode_reply(
                200,
                std::hint::black_box(&body),
                ("res.partner", "search_read"),
            )
            .unwrap();
            assert_eq!(v.len(), n);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
