//! Invoice to cash end to end: a camt.053 statement becomes exactly one payment per matched
//! credit in the fake Odoo, through a 502 and a lost reply; the deal in the CRM gets the payment;
//! a credit no invoice matches is held for a person.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;
use serde_json::json;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

#[tokio::test]
async fn a_statement_becomes_payments_once_and_the_crm_hears_of_them() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let hubspot = HubSpot::builder(fake_hubspot::TOKEN)
        .base_url(hub.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap()
        .with_sink(Arc::new(hubspot));
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    let deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    flows_setup::book_deals(&flows, &p, &deals).await.unwrap();
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let time: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&time).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    let r = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(r.done, 3, "{r:?}");

    let open = flows.open_invoices().await.unwrap();
    assert_eq!(open.len(), 3);
    let inv = |deal: &str| {
        open.iter()
            .find(|i| i.contract.as_ref().map(|c| c.as_str()) == Some(deal))
            .unwrap()
            .clone()
    };
    let (a, b) = (inv("hubspot-deal-1001"), inv("hubspot-deal-1002"));
    let half = (b.amount_due.amount / rust_decimal::Decimal::TWO).round_dp(2);
    let xml = flows_setup::camt053(&[
        (
            "BNK-1".into(),
            a.amount_due.amount.to_string(),
            a.currency.to_string(),
            a.number.clone().unwrap(),
        ),
        (
            "BNK-2".into(),
            half.to_string(),
            b.currency.to_string(),
            b.number.clone().unwrap(),
        ),
        (
            "BNK-3".into(),
            "77.70".into(),
            a.currency.to_string(),
            "no idea".into(),
        ),
    ]);
    let (payments, report) = flows_setup::statement_payments(&flows, &xml).await.unwrap();
    assert_eq!(
        (
            report.matched.len(),
            report.partial.len(),
            report.unmatched.len()
        ),
        (1, 1, 1)
    );
    let envelopes: Vec<_> = payments
        .iter()
        .map(|(pay, c)| flows.payment_envelope(pay, c.as_ref(), "bank").unwrap())
        .collect();
    let payments_before = fake.count("account.payment");
    p.submit_batch(&envelopes).await.unwrap();
    fake.fail_next(1);
    fake.drop_reply_after_commit(1);
    let r = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((r.done, r.held, r.failed), (2, 1, 0), "{r:?}");
    assert!(r.retried >= 2, "{r:?}");

    // One payment per matched credit.
    assert_eq!(fake.count("account.payment") - payments_before, 2);
    let state = |id: i64| fake.record("account.move", id).unwrap()["payment_state"].clone();
    let id_of = |k: &odoo_connect::canonical::InvoiceKey| {
        k.as_str()
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert!(
        matches!(state(id_of(&a.key)).as_str(), Some("paid" | "in_payment")),
        "{:?}",
        state(id_of(&a.key))
    );
    assert_eq!(state(id_of(&b.key)), json!("partial"));
    // The CRM deals know of their payments.
    assert_eq!(
        hub.properties("1001")["odoo_last_payment_reference"],
        json!(a.number.clone().unwrap())
    );
    assert_eq!(
        hub.properties("1002")["odoo_last_payment_amount"],
        json!(half.to_string())
    );
    // The unknown credit waits for a person.
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert!(
        held.iter()
            .any(|d| d.failure.reason.contains("unmatched_payment")),
        "{held:?}"
    );

    // The statement read again: no second payment.
    let again: Vec<_> = envelopes.iter().map(|e| e.for_replay()).collect();
    p.submit_batch(&again).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(fake.count("account.payment") - payments_before, 2);
}
