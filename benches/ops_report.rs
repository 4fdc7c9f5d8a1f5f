//! Rendering the operations report: 10,000 stuck contracts (with values in two currencies over
//! three legal entities, Odoo and CRM links and correlation ids) to HTML and to text.
//!
//! `cargo bench --all-features --bench ops_report -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use odoo_connect::ops::{Report, Section, StuckContract};
use serde_json::json;

const STUCK: usize = 10_000;

/// A report of `STUCK` stuck contracts. The rows are built as JSON and read back, the way a
/// report saved with `to_json` is, since the row types are `#[non_exhaustive]`.
fn report() -> Report {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 31, 18, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default();
    let reasons = [
        "hold: no_client",
        "hold: rate_card_missing",
        "hold: contract_not_signed",
        "bad_row: negative hours",
    ];
    let entities = ["firm-fr", "firm-de", "firm-us"];
    let rows: Vec<serde_json::Value> = (0..STUCK)
        .map(|i| {
            let age = (i % 120) as i64;
            let entity = entities[i % entities.len()];
            let currency = if entity == "firm-us" { "USD" } else { "EUR" };
            json!({
                "contract": format!("hubspot:deal-{i:06}"),
                "client": format!("Client {} & Partners <{}>", i % 800, i % 7),
                "legal_entity": entity,
                "reasons": [reasons[i % reasons.len()], reasons[(i + 1) % reasons.len()]],
                "since": now - Duration::days(age),
                "age_days": age,
                "value": { "amount": format!("{}.{:02}", 1_000 + i * 37, i % 100), "currency": currency },
                "correlation_id": format!("01890f6e-7c1a-7b2e-9d3f-{i:012}"),
                "odoo": { "label": format!("S{i:05}"), "url": format!("https://erp.example.com/odoo/sale.order/{i}") },
                "crm": { "label": format!("Deal {i}"), "url": format!("https://app.hubspot.com/contacts/1/deal/{i}") },
            })
        })
        .collect();
    let items: Vec<StuckContract> = match serde_json::from_value(serde_json::Value::Array(rows)) {
        Ok(items) => items,
        Err(e) => panic!("the bench's rows do not read as stuck contracts: {e}"),
    };
    let mut report = Report::empty(now, as_of);
    report.stuck_contracts = Section::new(items);
    report
}

fn render(c: &mut Criterion) {
    let report = report();
    let html = report.to_html();
    println!(
        "10,000 stuck contracts: HTML {} KiB, text {} KiB",
        html.len() / 1024,
        report.to_text().len() / 1024
    );
    let mut group = c.benchmark_group("ops_report_10k_stuck");
    group.sample_size(20);
    group.bench_function("to_html", |b| b.iter(|| black_box(&report).to_html()));
    group.bench_function("to_text", |b| b.iter(|| black_box(&report).to_text()));
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
