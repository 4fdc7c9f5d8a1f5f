//! Time to invoice end to end: an approved-time CSV becomes exactly one billed timesheet per
//! approved row on the order within the contract's cap, through a 502 and a lost reply; time over
//! the cap is recorded unbilled and held as `cap_reached`, a malformed row is in the dead
//! letters; the release invoices the orders with Odoo's own wizard.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

#[tokio::test]
async fn approved_time_becomes_billed_timesheets_within_the_cap_and_one_invoice_per_release() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    let deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    assert_eq!(
        flows_setup::book_deals(&flows, &p, &deals).await.unwrap(),
        3
    );

    let timesheets_before = fake.count("account.analytic.line");
    let (entries, rejected, skipped) =
        flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    assert_eq!((entries.len(), rejected.len(), skipped), (5, 1, 1));
    for r in &rejected {
        flows.park_rejected(store.as_ref(), "psa", r).await.unwrap();
    }
    let envelopes: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&envelopes).await.unwrap();
    fake.fail_next(1);
    fake.drop_reply_after_commit(2);
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        (report.done, report.held, report.failed),
        (4, 1, 0),
        "{report:?}"
    );
    assert!(report.retried >= 3, "{report:?}");

    // One billed timesheet per approved, readable row, on the order line of its role; the part of
    // T-1003 over the cap recorded unbilled (Odoo's non-billable time).
    assert_eq!(fake.count("account.analytic.line") - timesheets_before, 6);
    for key in ["T-1001", "T-1002", "T-1003", "T-1005", "T-1007"] {
        assert_eq!(
            fake.count_where(
                "account.analytic.line",
                json!([
                    ["name", "=like", format!("[psa-{key}]%")],
                    ["so_line", "!=", false]
                ])
            ),
            1,
            "{key}"
        );
    }
    let over = fake.records("account.analytic.line");
    let over: Vec<&Value> = over
        .iter()
        .filter(|l| {
            l["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("[psa-T-1003]") && n.ends_with("(over the cap)"))
        })
        .collect();
    assert_eq!(over.len(), 1);
    assert!(
        over[0]["so_line"].is_null() || over[0]["so_line"] == json!(false),
        "{}",
        over[0]
    );
    // Nothing is invoiced before the release.
    let b1001 = flows
        .book()
        .get(&"hubspot-deal-1001".parse().unwrap())
        .unwrap();
    assert_eq!(
        fake.count_where(
            "account.move",
            json!([["invoice_origin", "=", b1001.order_name]])
        ),
        0
    );

    // The release: Odoo invoices what each order delivered. Deal 1001: 22 approved hours at 150
    // against a 3,000 cap: 20 hours billed, on one invoice.
    let release: Vec<_> = flows
        .book()
        .all()
        .iter()
        .map(|b| flows.release_envelope(&b.contract.key, "2025-03").unwrap())
        .collect();
    p.submit_batch(&release).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    let moves = fake.records("account.move");
    let drafts: Vec<&Value> = moves
        .iter()
        .filter(|m| m["invoice_origin"] == json!(b1001.order_name))
        .collect();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["state"], "posted");
    // In the contract's currency (the order's pricelist), not the company's.
    let eur = fake.records("res.currency");
    let eur = eur.iter().find(|c| c["name"] == "EUR").unwrap()["id"].clone();
    assert_eq!(drafts[0]["currency_id"], eur, "{}", drafts[0]);
    let id = drafts[0]["id"].as_i64().unwrap();
    let lines: Vec<Value> = fake
        .records("account.move.line")
        .into_iter()
        .filter(|l| l["move_id"] == json!(id) && l["display_type"] == "product")
        .collect();
    assert_eq!(lines.len(), 1, "one line: the consultant role's order line");
    let hours: f64 = lines.iter().map(|l| l["quantity"].as_f64().unwrap()).sum();
    assert!((hours - 20.0).abs() < 1e-9, "{hours}");
    // Odoo's own quantities agree: 20 hours delivered and invoiced on the order line.
    let line_id = lines[0]["sale_line_ids"][0].as_i64().unwrap();
    let sol: Vec<Value> = flows
        .odoo()
        .model_named::<Value>("sale.order.line")
        .read([odoo_connect::odoo::RecordId(line_id)])
        .fields(["qty_delivered", "qty_invoiced"])
        .await
        .unwrap();
    let sol = &sol[0];
    assert_eq!(sol["qty_delivered"].as_f64(), Some(20.0), "{sol}");
    assert_eq!(sol["qty_invoiced"].as_f64(), Some(20.0), "{sol}");
    // One invoice each for the other deals.
    for deal in ["hubspot-deal-1002", "hubspot-deal-1003"] {
        let b = flows.book().get(&deal.parse().unwrap()).unwrap();
        assert_eq!(
            moves
                .iter()
                .filter(|m| m["invoice_origin"] == json!(b.order_name))
                .count(),
            1
        );
    }

    // The over-cap time is a business exception; the malformed row a technical one.
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert!(
        held[0].failure.reason.contains("cap_reached"),
        "{:?}",
        held[0].failure
    );
    let bad = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Technical))
        .await
        .unwrap();
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].failure.reason.contains("is not a duration"),
        "{:?}",
        bad[0].failure
    );

    // The same export, and the same release, again change nothing.
    let again: Vec<_> = envelopes
        .iter()
        .chain(release.iter())
        .map(|e| e.for_replay())
        .collect();
    p.submit_batch(&again).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(fake.count("account.analytic.line") - timesheets_before, 6);
    assert_eq!(fake.count("account.move"), moves.len());
    let lines_now = fake
        .records("account.move.line")
        .into_iter()
        .filter(|l| l["move_id"] == json!(id) && l["display_type"] == "product")
        .count();
    assert_eq!(lines_now, 1);
}
