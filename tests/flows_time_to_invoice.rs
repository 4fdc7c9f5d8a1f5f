//! Time to invoice end to end: an approved-time CSV becomes exactly one timesheet per approved
//! row and draft invoice lines within the contract's cap, through a 502 and a lost reply; time
//! over the cap is held as `cap_reached` and a malformed row is in the dead letters.

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
async fn approved_time_becomes_timesheets_and_invoice_lines_within_the_cap() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows_setup::flows(flows_setup::odoo_client(&fake).unwrap())
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

    // One timesheet per approved, readable row.
    assert_eq!(fake.count("account.analytic.line") - timesheets_before, 5);
    for key in ["T-1001", "T-1002", "T-1003", "T-1005", "T-1007"] {
        assert_eq!(
            fake.count_where(
                "account.analytic.line",
                json!([["name", "=like", format!("[psa-{key}]%")]])
            ),
            1,
            "{key}"
        );
    }
    // Deal 1001: 22 approved hours at 150 against a 3,000 cap: 20 hours invoiced, on one draft.
    let moves = fake.records("account.move");
    let drafts: Vec<&Value> = moves
        .iter()
        .filter(|m| m["invoice_origin"] == "hubspot-deal-1001")
        .collect();
    assert_eq!(drafts.len(), 1);
    // In the contract's currency, not the company's.
    let eur = fake.records("res.currency");
    let eur = eur.iter().find(|c| c["name"] == "EUR").unwrap()["id"].clone();
    assert_eq!(drafts[0]["currency_id"], eur, "{}", drafts[0]);
    let id = drafts[0]["id"].as_i64().unwrap();
    let lines: Vec<Value> = fake
        .records("account.move.line")
        .into_iter()
        .filter(|l| l["move_id"] == json!(id) && l["display_type"] == "product")
        .collect();
    assert_eq!(lines.len(), 3);
    let hours: f64 = lines.iter().map(|l| l["quantity"].as_f64().unwrap()).sum();
    assert!((hours - 20.0).abs() < 1e-9, "{hours}");
    // One draft each for the other deals.
    for deal in ["hubspot-deal-1002", "hubspot-deal-1003"] {
        assert_eq!(
            moves.iter().filter(|m| m["invoice_origin"] == deal).count(),
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
        bad[0].failure.reason.starts_with("bad_row"),
        "{:?}",
        bad[0].failure
    );

    // The same export read again changes nothing.
    let again: Vec<_> = envelopes.iter().map(|e| e.for_replay()).collect();
    p.submit_batch(&again).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(fake.count("account.analytic.line") - timesheets_before, 5);
    let lines_now = fake
        .records("account.move.line")
        .into_iter()
        .filter(|l| l["move_id"] == json!(id) && l["display_type"] == "product")
        .count();
    assert_eq!(lines_now, 3);
}
