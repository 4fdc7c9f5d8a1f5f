//! Retainers on FakeOdoo: the prepaid amount is invoiced up front once; approved time booked to
//! the retainer is drawn against it (timesheets on its order line, nothing more invoiced), what is
//! left is read back from Odoo, a draw to the top-up threshold is audited `retainer_low`, and the
//! hours past the balance are recorded unbilled and held as `retainer_exhausted`.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::canonical::{BillingLine, Money, Rate, TopUp};
use odoo_connect::flows::{FlowEvent, Flows, WonDeal};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{
    AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, FailureClass,
};
use odoo_connect::testkit::FakeOdoo;
use rust_decimal::Decimal;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

fn eur(units: i64) -> Money {
    Money::new(
        Decimal::new(units, 0),
        odoo_connect::canonical::Currency::EUR,
    )
}

/// One sample deal booked with a retainer of 3,000 (top-up threshold 1,000) and a consultant's
/// rate of 150 an hour.
async fn booked(fake: &FakeOdoo) -> (Flows, Pipeline<SqliteStore>, Arc<SqliteStore>, WonDeal) {
    let mut deals = fake_hubspot::sample_deals();
    deals.truncate(1);
    let hub = fake_hubspot::FakeHubSpot::start(&deals).await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    let mut won = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    won[0].contract.billing_lines = vec![
        BillingLine::retainer(
            "retainer".parse().unwrap(),
            "Advisory retainer",
            eur(3000),
            Some(TopUp {
                amount: eur(3000),
                when_balance_below: eur(1000),
            }),
        ),
        BillingLine::time_and_materials(
            "consulting".parse().unwrap(),
            "Consulting",
            vec![Rate::new("consultant".parse().unwrap(), eur(150))],
            None,
        ),
    ];
    flows_setup::book_deals(&flows, &p, &won).await.unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    (flows, p, store, won.remove(0))
}

fn invoices(fake: &FakeOdoo, flows: &Flows, deal: &WonDeal) -> Vec<Value> {
    let b = flows.book().get(&deal.contract.key).unwrap();
    fake.records("account.move")
        .into_iter()
        .filter(|m| m["invoice_origin"] == json!(b.order_name) && m["move_type"] == "out_invoice")
        .collect()
}

#[tokio::test]
async fn a_retainer_is_prepaid_once_drawn_down_and_held_past_its_end() {
    let fake = FakeOdoo::start().await;
    let (flows, p, store, deal) = booked(&fake).await;
    let key = deal.contract.key.clone();
    let line = "retainer".parse().unwrap();

    // The prepaid amount, up front, once, however often it is asked.
    for _ in 0..2 {
        p.submit(&flows.retainer_envelope(&key, &line).unwrap().for_replay())
            .await
            .unwrap();
        let report = flows_setup::drain(&p, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!((report.failed, report.held), (0, 0), "{report:?}");
    }
    let inv = invoices(&fake, &flows, &deal);
    assert_eq!(inv.len(), 1, "{inv:#?}");
    assert_eq!(inv[0]["state"], "posted");
    let full = flows.retainer_balance(&key).await.unwrap().unwrap();
    assert_eq!(full.len(), 1);
    assert_eq!(full[0].balance, eur(3000));
    assert!(!full[0].is_low());

    // 8 h, 8 h and 6 h at 150, booked to the retainer: 1,200 + 1,200 leave 600 (low), then 4 of
    // the 6 hours use it up and 2 are held.
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let mut env = Vec::new();
    for mut e in entries
        .into_iter()
        .filter(|e| e.project.as_str() == "prj-hubspot-deal-1001")
    {
        e.billing_line = Some(line.clone());
        env.push(flows.time_envelope(&e, "psa").unwrap());
    }
    assert_eq!(env.len(), 3);
    // One after the other, as a day's time arrives.
    let mut held = 0;
    for e in &env {
        p.submit(e).await.unwrap();
        let report = flows_setup::drain(&p, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
        held += report.held;
    }
    assert_eq!(held, 1);

    let left = flows.retainer_balance(&key).await.unwrap().unwrap();
    assert_eq!(left[0].consumed, eur(3000), "{left:?}");
    assert_eq!(left[0].hours, Decimal::new(20, 0));
    assert_eq!(left[0].balance, eur(0));
    assert!(left[0].is_low() && left[0].is_exhausted());

    // The timesheets: 20 h on the retainer's order line, 2 h on none.
    let b = flows.book().get(&key).unwrap();
    let retainer_line = b.sale_lines[0].1.get();
    let sheets = fake.records("account.analytic.line");
    let on = |so: Value| -> f64 {
        sheets
            .iter()
            .filter(|t| t["project_id"] == json!(b.project_id.get()))
            .filter(|t| t["so_line"] == so || (so == json!(false) && t["so_line"].is_null()))
            .map(|t| t["unit_amount"].as_f64().unwrap_or_default())
            .sum()
    };
    assert_eq!(on(json!(retainer_line)), 20.0);
    assert_eq!(on(json!(false)), 2.0, "{sheets:#?}");
    // Nothing more invoiced.
    assert_eq!(invoices(&fake, &flows, &deal).len(), 1);

    // The alert and the hold.
    let audit = store.query_audit(&AuditQuery::all()).await.unwrap();
    let low: Vec<_> = audit
        .iter()
        .map(|a| &a.event)
        .filter(|a| FlowEvent::of(&a.kind) == Some(FlowEvent::RetainerLow))
        .collect();
    assert_eq!(low.len(), 1, "{low:#?}");
    let balance: Money = serde_json::from_value(low[0].details["balance"].clone()).unwrap();
    assert_eq!(balance, eur(600), "{:?}", low[0].details);
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert!(
        dead[0].failure.reason.starts_with("retainer_exhausted"),
        "{}",
        dead[0].failure.reason
    );
    assert_eq!(
        dead[0].failure.context["detail"]["hours_held"],
        json!("2"),
        "{}",
        dead[0].failure.context
    );
}
