//! The operations report's collection: after the whole demo run (FakeOdoo, fake HubSpot,
//! SQLite), the report holds the contract stuck on its cap with the deal's value and links, the
//! held time with its value and age bucket, the overdue invoices, the unmatched bank credit and
//! the traces of the deals the rows refer to; and the sync history of a hand-made audit trail
//! has the depth and lag counted by hand.

#[path = "../examples/data/demo.rs"]
mod demo;
#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use odoo_connect::canonical::{Currency, Money};
use odoo_connect::ops::{AgeBucket, CollectOptions, OdooLinks, Report, collect};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::MessageId;
use odoo_connect::sync::store::{AuditEvent, AuditKind, AuditLog, ManualClock, StoreOptions};
use rust_decimal::Decimal;

fn eur(s: &str) -> Money {
    Money::new(Decimal::from_str(s).unwrap(), Currency::EUR)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const CRM_URL: &str = "https://app.hubspot.com/contacts/42/record/0-3/{id}";

async fn demo_run(name: &str) -> demo::Demo {
    let d = demo::Demo::start_on_fakes(name).await.unwrap();
    d.book_deals(false).await.unwrap();
    d.bill_time(false).await.unwrap();
    d.release_invoices(false).await.unwrap();
    d.collect(false).await.unwrap();
    d
}

fn options(d: &demo::Demo, as_of: NaiveDate) -> CollectOptions {
    let entries = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV)
        .unwrap()
        .0;
    CollectOptions::new(as_of)
        .booked(d.flows.book().all())
        .time_entries(entries)
        .crm_deal_url(CRM_URL)
        .company(1, "firm-eu".parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_run_reports_stuck_contracts_unbilled_time_credits_and_traces() {
    let d = demo_run("ops-collect-demo").await;
    let odoo = d.flows.odoo().clone();
    let as_of = day(2025, 3, 20);
    let report = collect(d.store.as_ref(), Some(&odoo), &options(&d, as_of))
        .await
        .unwrap();

    // The first deal's consulting time went over its 3,000 cap: the contract is stuck.
    let stuck = &report.stuck_contracts.items;
    assert_eq!(stuck.len(), 1, "{stuck:#?}");
    let s = &stuck[0];
    assert_eq!(s.contract, "hubspot-deal-1001");
    assert_eq!(s.reasons, vec!["cap_reached".to_owned()]);
    assert_eq!(s.legal_entity, "firm-eu");
    assert_eq!(s.value, Some(eur("60000")));
    assert_eq!(s.correlation_id.as_deref(), Some("deal:hubspot-deal-1001"));
    let so = s.odoo.as_ref().unwrap();
    assert!(so.label.starts_with('S'), "{so:?}");
    assert!(
        so.url.as_deref().unwrap().contains("/odoo/sale.order/"),
        "{so:?}"
    );
    assert_eq!(
        s.crm.as_ref().and_then(|l| l.url.as_deref()),
        Some("https://app.hubspot.com/contacts/42/record/0-3/1001")
    );
    assert_eq!(
        report.stuck_contracts.totals.in_currency(Currency::EUR),
        Some(&eur("60000"))
    );

    // The part of T-1003 over the cap is unbilled: 6 h, 300.00 EUR held, 15 days old.
    let items = &report.unbilled.items;
    let held: Vec<_> = items.iter().filter(|i| i.reason.is_some()).collect();
    assert_eq!(held.len(), 1, "{items:#?}");
    let u = held[0];
    assert_eq!(u.entry, "psa-T-1003");
    assert_eq!(u.contract.as_deref(), Some("hubspot-deal-1001"));
    assert_eq!(u.hours, Some(Decimal::from(6)));
    assert_eq!(u.value, Some(eur("300")));
    assert_eq!((u.age_days, u.bucket), (15, AgeBucket::From8To30));
    assert_eq!(u.reason.as_deref(), Some("cap_reached"));
    assert_eq!(u.correlation_id.as_deref(), Some("deal:hubspot-deal-1001"));
    // Time logged in Odoo itself on a contract's order line after the month was invoiced:
    // unbilled, valued at the line's price, linked to the timesheet. The flows' own time was
    // invoiced by the release (Odoo linked it to the invoice) and is not among them.
    let from_odoo: Vec<_> = items.iter().filter(|i| i.reason.is_none()).collect();
    assert!(from_odoo.is_empty(), "{from_odoo:#?}");
    let b = d
        .flows
        .book()
        .get(&"hubspot-deal-1002".parse().unwrap())
        .unwrap();
    let (_, line) = b
        .sale_lines
        .iter()
        .find(|(r, _)| matches!(r.part, odoo_connect::mapping::LinePart::Role(_)))
        .unwrap();
    odoo.model_named::<serde_json::Value>("account.analytic.line")
        .create(&serde_json::json!({
            "name": "Extra workshop", "project_id": b.project_id.get(), "so_line": line.get(),
            "unit_amount": 3.0, "date": "2025-03-18",
        }))
        .await
        .unwrap();
    let report = collect(d.store.as_ref(), Some(&odoo), &options(&d, as_of))
        .await
        .unwrap();
    let from_odoo: Vec<_> = report
        .unbilled
        .items
        .iter()
        .filter(|i| i.reason.is_none())
        .collect();
    assert_eq!(from_odoo.len(), 1, "{from_odoo:#?}");
    let i = from_odoo[0];
    assert!(!i.entry.starts_with("psa-"), "{i:?}");
    assert_eq!(i.value, Some(eur("450")), "{i:?}");
    assert_eq!(i.contract.as_deref(), Some("hubspot-deal-1002"), "{i:?}");
    let link = i.odoo.as_ref().and_then(|l| l.url.as_deref()).unwrap();
    assert!(link.contains("/odoo/account.analytic.line/"), "{link}");
    let items = &report.unbilled.items;
    assert!(items.windows(2).all(|w| w[0].date <= w[1].date));
    // The time logged in Odoo is 2 days old: the 8-30 days bucket is T-1003 alone.
    let b = &report.unbilled.buckets;
    assert_eq!(b.len(), 4);
    assert_eq!((b[1].bucket, b[1].count), (AgeBucket::From8To30, 1));
    assert_eq!(b[1].value, vec![eur("300")]);
    assert_eq!(b.iter().map(|b| b.count).sum::<usize>(), items.len());
    assert!(
        report
            .unbilled
            .totals
            .by_legal_entity
            .iter()
            .any(|e| e.legal_entity == "firm-eu")
    );

    // The credit no invoice matched.
    let credits = &report.unmatched_credits.items;
    assert_eq!(credits.len(), 1, "{credits:#?}");
    assert_eq!(credits[0].amount, eur("77.70"));
    assert_eq!(credits[0].reason, "unmatched_payment");

    // Nothing failed to release; no invoice is due yet on 20 March 2025.
    assert!(report.failed_releases.is_empty());
    assert!(
        report.overdue_invoices.is_empty(),
        "{:#?}",
        report.overdue_invoices
    );

    // Dead letters by reason: the hold, the unmatched payment, the unreadable CSV row.
    let reasons: Vec<(&str, &str, u64)> = report
        .dead_letters
        .iter()
        .map(|g| (g.reason.as_str(), g.class.as_str(), g.count))
        .collect();
    assert!(
        reasons.contains(&("cap_reached", "business", 1)),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("unmatched_payment", "business", 1)),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(r, c, _)| r.contains("is not a duration") && *c == "technical"),
        "{reasons:?}"
    );
    assert!(report.dead_letters.iter().all(|g| g.oldest.is_some()));

    // The trace of the stuck deal, oldest first, from its reception.
    let t = report
        .traces
        .iter()
        .find(|t| t.correlation_id == "deal:hubspot-deal-1001")
        .expect("the stuck deal's trace");
    assert_eq!(t.events[0].kind, "message_received");
    assert!(t.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(t.events.iter().any(|e| e.kind == "dead_lettered"));
    // Every correlation id a row carries has its trace.
    for id in report
        .stuck_contracts
        .items
        .iter()
        .filter_map(|i| i.correlation_id.as_ref())
        .chain(
            report
                .unbilled
                .items
                .iter()
                .filter_map(|i| i.correlation_id.as_ref()),
        )
    {
        assert!(
            report.traces.iter().any(|t| &t.correlation_id == id),
            "{id}"
        );
    }

    // The sync is idle; its history has 24 hourly points, the last at the top of this hour.
    assert_eq!(report.sync.depth, 0);
    assert_eq!(report.sync.history.len(), 24);
    assert!(report.sync.last_activity.is_some());

    // The report is data: JSON and back.
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_past_due_are_overdue_and_links_follow_the_odoo_version() {
    let d = demo_run("ops-collect-overdue").await;
    let odoo = d.flows.odoo().clone();
    let fake = d.fake.as_ref().unwrap();
    // Two months after the invoices were posted, every unpaid one is past due.
    let as_of = fake.now().date() + Duration::days(60);
    let report = collect(d.store.as_ref(), Some(&odoo), &options(&d, as_of))
        .await
        .unwrap();
    let overdue = &report.overdue_invoices.items;
    let mine: Vec<_> = overdue
        .iter()
        .filter(|i| {
            i.correlation_id
                .as_deref()
                .is_some_and(|c| c.starts_with("deal:hubspot-deal-"))
        })
        .collect();
    // The first contract's invoice is paid, the second half paid, the third unpaid.
    assert_eq!(mine.len(), 2, "{overdue:#?}");
    for i in &mine {
        assert!(i.amount_due.is_positive(), "{i:?}");
        assert!(i.days_overdue > 0, "{i:?}");
        assert_eq!(i.legal_entity, "firm-eu");
        assert!(!i.client.is_empty());
        let link = i.odoo.as_ref().and_then(|l| l.url.as_deref()).unwrap();
        assert!(link.contains("/odoo/account.move/"), "{link}");
        assert!(i.crm.as_ref().and_then(|l| l.url.as_deref()).is_some());
    }
    assert!(
        overdue
            .windows(2)
            .all(|w| w[0].days_overdue >= w[1].days_overdue)
    );
    let total = report
        .overdue_invoices
        .totals
        .in_currency(Currency::EUR)
        .unwrap();
    let sum = Money::sum(
        Currency::EUR,
        overdue
            .iter()
            .filter(|i| i.amount_due.currency == Currency::EUR)
            .map(|i| &i.amount_due),
    )
    .unwrap();
    assert_eq!(total, &sum);
    // Months on, the held time is more than 90 days old.
    let held = report
        .unbilled
        .items
        .iter()
        .find(|i| i.entry == "psa-T-1003")
        .unwrap();
    assert_eq!(held.bucket, AgeBucket::Over90);
    assert_eq!(held.age_days, (as_of - day(2025, 3, 5)).num_days());

    // The booked contracts as Odoo holds them: the orders in EUR, one posted invoice each,
    // with what Odoo says is still due (the first paid, the second half paid, the third unpaid).
    assert!(report.odoo_read);
    let in_odoo = &report.contracts_in_odoo.items;
    let keys: Vec<&str> = in_odoo.iter().map(|c| c.contract.as_str()).collect();
    assert_eq!(
        keys,
        [
            "hubspot-deal-1001",
            "hubspot-deal-1002",
            "hubspot-deal-1003"
        ],
        "{in_odoo:#?}"
    );
    for c in in_odoo {
        assert_eq!(c.currency, Some(Currency::EUR), "{c:?}");
        assert_eq!(c.order_state.as_deref(), Some("sale"), "{c:?}");
        assert_eq!(c.company.as_deref(), Some("firm-eu"), "{c:?}");
        assert_eq!(c.legal_entity, "firm-eu");
        assert_eq!(c.amount_untaxed.map(|m| m.currency), Some(Currency::EUR));
        let order = c.order.as_ref().unwrap();
        assert!(order.label.starts_with('S'), "{order:?}");
        assert!(order.url.as_deref().unwrap().contains("/odoo/sale.order/"));
        assert_eq!(c.invoices.len(), 1, "{c:?}");
        assert_eq!(c.invoice_states(), vec![("posted", 1)], "{c:?}");
        // The amount due is Odoo's own `amount_residual`, read back here invoice by invoice.
        for i in &c.invoices {
            let id: i64 = i
                .odoo
                .as_ref()
                .and_then(|l| l.url.as_deref())
                .and_then(|u| u.rsplit('/').next())
                .and_then(|id| id.parse().ok())
                .unwrap();
            let m = odoo
                .model_named::<serde_json::Value>("account.move")
                .read(vec![id])
                .fields(["amount_residual", "payment_state", "invoice_origin"])
                .await
                .unwrap();
            let residual = Decimal::from_str(&m[0]["amount_residual"].to_string()).unwrap();
            assert_eq!(i.amount_due, Some(Money::new(residual, Currency::EUR)));
            assert_eq!(i.payment_state.as_deref(), m[0]["payment_state"].as_str());
            assert_eq!(m[0]["invoice_origin"].as_str(), Some(order.label.as_str()));
        }
    }
    let states: Vec<Vec<(&str, usize)>> = in_odoo.iter().map(|c| c.payment_states()).collect();
    assert_eq!(
        states,
        vec![
            vec![("paid", 1)],
            vec![("partial", 1)],
            vec![("not_paid", 1)]
        ]
    );
    let due: Vec<&[Money]> = in_odoo.iter().map(|c| c.amount_due.as_slice()).collect();
    assert_eq!(
        due,
        vec![&[eur("0")][..], &[eur("375")][..], &[eur("600")][..]]
    );
    assert_eq!(
        report.contracts_in_odoo.totals.in_currency(Currency::EUR),
        Some(&eur("975"))
    );
    let text = report.to_text();
    assert!(text.contains("CONTRACTS IN ODOO (3)"), "{text}");
    assert!(text.contains("1 partial"), "{text}");
    let page = report.to_html();
    assert!(page.contains("<section id=\"contracts-in-odoo\">"));
    assert!(page.contains("<td>1 not_paid</td>"));

    // On an Odoo 17, the same rows link to `/web#`.
    let links17 = OdooLinks::new(odoo.url().as_str(), 17);
    let report17 = collect(
        d.store.as_ref(),
        Some(&odoo),
        &options(&d, as_of).odoo_links(links17),
    )
    .await
    .unwrap();
    let url = report17.stuck_contracts.items[0]
        .odoo
        .as_ref()
        .and_then(|l| l.url.clone())
        .unwrap();
    assert!(
        url.contains("/web#id=") && url.contains("model=sale.order"),
        "{url}"
    );
    let inv = report17.overdue_invoices.items[0]
        .odoo
        .as_ref()
        .and_then(|l| l.url.clone())
        .unwrap();
    assert!(
        inv.contains("/web#id=") && inv.contains("model=account.move"),
        "{inv}"
    );

    // Without Odoo, the sections only Odoo fills are empty, the others are not.
    let bare = collect(d.store.as_ref(), None, &options(&d, as_of))
        .await
        .unwrap();
    assert!(bare.overdue_invoices.is_empty());
    assert!(bare.revenue_mismatches.is_empty());
    assert!(!bare.odoo_read && bare.contracts_in_odoo.is_empty());
    assert!(
        bare.to_text()
            .contains("CONTRACTS IN ODOO\n  none: Odoo was not read")
    );
    assert!(bare.to_html().contains("Odoo was not read"));
    assert_eq!(bare.stuck_contracts.items.len(), 1);
    assert!(bare.stuck_contracts.items[0].odoo.is_some());
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Appends `kind` for message `id` at `when`, with `outcome`.
async fn event(
    store: &MemoryStore,
    clock: &ManualClock,
    when: &str,
    id: MessageId,
    kind: AuditKind,
    outcome: Option<&str>,
) {
    clock.set(at(when));
    let mut e = AuditEvent::new(kind).message_id(id);
    if let Some(o) = outcome {
        e = e.step("s").outcome(o);
    }
    store.append(e).await.unwrap();
}

#[tokio::test]
async fn the_sync_history_counts_what_waits_at_the_end_of_each_hour() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 31, 0, 0, 0).unwrap());
    let store =
        MemoryStore::with_options(StoreOptions::default().with_clock(Arc::new(clock.clone())));
    let [m1, m2, m3, m4, m5, m6] = std::array::from_fn(|_| MessageId::new());
    use AuditKind::{DeadLettered, MessageReceived, StepOutcome};
    // Two days ago, never finished: waits across the whole window.
    event(
        &store,
        &clock,
        "2025-03-30T11:00:00Z",
        m6,
        MessageReceived,
        None,
    )
    .await;
    event(
        &store,
        &clock,
        "2025-03-31T12:30:00Z",
        m6,
        StepOutcome,
        Some("done"),
    )
    .await;
    // Received on the hour, skipped ten minutes later.
    event(
        &store,
        &clock,
        "2025-03-31T20:00:00Z",
        m5,
        MessageReceived,
        None,
    )
    .await;
    event(
        &store,
        &clock,
        "2025-03-31T20:10:00Z",
        m5,
        StepOutcome,
        Some("skipped"),
    )
    .await;
    // Done in the next hour.
    event(
        &store,
        &clock,
        "2025-04-01T09:30:00Z",
        m1,
        MessageReceived,
        None,
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T10:15:00Z",
        m1,
        StepOutcome,
        Some("done"),
    )
    .await;
    // A retry does not finish it; a step done then a later step held does not either.
    event(
        &store,
        &clock,
        "2025-04-01T09:45:00Z",
        m2,
        MessageReceived,
        None,
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T10:05:00Z",
        m2,
        StepOutcome,
        Some("retry"),
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T11:30:00Z",
        m2,
        StepOutcome,
        Some("done"),
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T10:40:00Z",
        m3,
        MessageReceived,
        None,
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T11:10:00Z",
        m3,
        StepOutcome,
        Some("done"),
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T11:10:00Z",
        m3,
        StepOutcome,
        Some("held"),
    )
    .await;
    event(
        &store,
        &clock,
        "2025-04-01T11:10:00Z",
        m3,
        DeadLettered,
        Some("business"),
    )
    .await;
    // Still waiting.
    event(
        &store,
        &clock,
        "2025-04-01T11:50:00Z",
        m4,
        MessageReceived,
        None,
    )
    .await;

    let now = at("2025-04-01T12:20:00Z");
    let report = collect(&store, None, &CollectOptions::new(day(2025, 4, 1)).now(now))
        .await
        .unwrap();
    let h = &report.sync.history;
    assert_eq!(h.len(), 24);
    assert_eq!(h[0].at, at("2025-03-31T13:00:00Z"));
    assert_eq!(h[23].at, at("2025-04-01T12:00:00Z"));
    let points: Vec<(String, u64, u64)> = h
        .iter()
        .filter(|p| p.depth > 0)
        .map(|p| (p.at.format("%d %H:%M").to_string(), p.depth, p.lag_seconds))
        .collect();
    let want: Vec<(String, u64, u64)> = vec![
        ("31 20:00".into(), 1, 0),
        ("01 10:00".into(), 2, 1800),
        ("01 11:00".into(), 2, 4500),
        ("01 12:00".into(), 1, 600),
    ];
    assert_eq!(points, want, "{h:#?}");
    // m6 finished at 12:30 on the 31st, before the first point at 13:00.
    assert_eq!(h[0].depth, 0);
    assert_eq!(report.sync.last_activity, Some(at("2025-04-01T11:50:00Z")));
    // Nothing is in the queue itself, and without Odoo the Odoo sections say none.
    assert_eq!((report.sync.depth, report.sync.lag_seconds), (0, 0));
    assert!(report.overdue_invoices.is_empty() && report.revenue_mismatches.is_empty());
    assert!(report.stuck_contracts.is_empty() && report.traces.is_empty());
}

#[tokio::test]
async fn a_message_waiting_across_the_window_counts_at_every_point() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 30, 0, 0, 0).unwrap());
    let store =
        MemoryStore::with_options(StoreOptions::default().with_clock(Arc::new(clock.clone())));
    let m = MessageId::new();
    event(
        &store,
        &clock,
        "2025-03-30T12:00:00Z",
        m,
        AuditKind::MessageReceived,
        None,
    )
    .await;
    let now = at("2025-04-01T12:00:00Z");
    let report = collect(&store, None, &CollectOptions::new(day(2025, 4, 1)).now(now))
        .await
        .unwrap();
    let h = &report.sync.history;
    assert!(h.iter().all(|p| p.depth == 1), "{h:#?}");
    // At 13:00 on the 31st it had waited 25 hours; at 12:00 on the 1st, 48.
    assert_eq!(h[0].lag_seconds, 25 * 3600);
    assert_eq!(h[23].lag_seconds, 48 * 3600);
    // A lookback shorter than its wait leaves it out.
    let short = collect(
        &store,
        None,
        &CollectOptions::new(day(2025, 4, 1))
            .now(now)
            .history_lookback(Duration::hours(1)),
    )
    .await
    .unwrap();
    assert!(short.sync.history.iter().all(|p| p.depth == 0));
}
