//! Validating and pre-mapping time entries: the per-entry cost of the canonical step of a timesheet
//! sync. Target: under 2 µs per entry.
//!
//! `cargo bench --bench canonical -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use odoo_connect::canonical::{ApprovalState, TimeEntry, TimesheetValues, Validate};
use rust_decimal::Decimal;

const ENTRIES: usize = 100_000;

fn entries() -> Vec<TimeEntry> {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let roles = ["partner", "senior-consultant", "consultant", "analyst"];
    (0..ENTRIES)
        .map(|i| {
            let key = format!("psa:te-{i:07}").parse().unwrap();
            let employee = format!("emp-{:04}@firm.example", i % 750).parse().unwrap();
            let project = format!("prj-{:05}", i % 4_000).parse().unwrap();
            let role = roles[i % roles.len()].parse().unwrap();
            let date = start
                .checked_add_days(Days::new((i % 365) as u64))
                .unwrap_or(start);
            let hours = Decimal::new(25 + (i % 32) as i64 * 25, 2);
            let mut e = TimeEntry::new(
                key,
                employee,
                project,
                role,
                date,
                hours,
                "Workshop preparation and client call",
            );
            e.approval = ApprovalState::Approved;
            e.task = Some(format!("task-{}", i % 97).parse().unwrap());
            e.refs.insert("psa", i.to_string());
            e
        })
        .collect()
}

/// Validates each entry and maps the valid ones; returns how many were mapped.
fn validate_and_map<'a>(entries: &'a [TimeEntry], out: &mut Vec<TimesheetValues<'a>>) -> usize {
    out.clear();
    for e in entries {
        if e.validate().is_ok() {
            out.push(e.timesheet_values());
        }
    }
    out.len()
}

fn bench(c: &mut Criterion) {
    let entries = entries();
    assert!(entries.iter().all(|e| e.is_valid()));

    let mut group = c.benchmark_group("time_entries");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.bench_function("validate_and_map_100k", |b| {
        let mut out = Vec::with_capacity(ENTRIES);
        b.iter(|| black_box(validate_and_map(black_box(&entries), &mut out)))
    });
    group.finish();

    let mut group = c.benchmark_group("time_entry");
    group.throughput(Throughput::Elements(1));
    group.bench_function("validate_and_map_one", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            let e = black_box(&entries[i]);
            black_box(e.to_timesheet().is_ok())
        })
    });
    group.bench_function("map_to_json_one", |b| {
        let mut i = 0;
        let mut buf = Vec::with_capacity(512);
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            buf.clear();
            black_box(serde_json::to_writer(&mut buf, &entries[i].timesheet_values()).is_ok())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
