//! Milestones on FakeOdoo: an accepted milestone is reached in Odoo and invoiced on an invoice of
//! its own (that milestone's order line only, not the time the order delivered), once, however
//! often it is said and whoever says it; a milestone awaiting acceptance is held and left
//! unreached.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use odoo_connect::canonical::Acceptance;
use odoo_connect::flows::{Flows, MilestoneOrigin, MilestoneReached};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

const DEAL: &str = "hubspot-deal-1001";

/// The sample deals booked and their approved time recorded (delivered on the orders).
async fn booked(fake: &FakeOdoo) -> (Flows, Pipeline<SqliteStore>, Arc<SqliteStore>) {
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    let deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    flows_setup::book_deals(&flows, &p, &deals).await.unwrap();
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let env: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    (flows, p, store)
}

fn on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()
}

fn accepted(milestone: &str) -> MilestoneReached {
    MilestoneReached::accepted(
        DEAL.parse().unwrap(),
        format!("{DEAL}-{milestone}").parse().unwrap(),
        on(),
        MilestoneOrigin::Delivery {
            system: "psa".into(),
        },
    )
}

/// The customer invoices of the deal's order.
fn invoices(fake: &FakeOdoo, flows: &Flows) -> Vec<Value> {
    let b = flows.book().get(&DEAL.parse().unwrap()).unwrap();
    fake.records("account.move")
        .into_iter()
        .filter(|m| m["invoice_origin"] == json!(b.order_name) && m["move_type"] == "out_invoice")
        .collect()
}

fn product_lines(fake: &FakeOdoo, invoice: i64) -> Vec<Value> {
    fake.records("account.move.line")
        .into_iter()
        .filter(|l| l["move_id"] == json!(invoice) && l["display_type"] == "product")
        .collect()
}

/// The deal's milestone in Odoo delivering `milestone`'s order line.
fn odoo_milestone(fake: &FakeOdoo, flows: &Flows, milestone: &str) -> Value {
    let b = flows.book().get(&DEAL.parse().unwrap()).unwrap();
    let key = format!("{DEAL}-{milestone}");
    let line = b
        .sale_lines
        .iter()
        .find(|(r, _)| format!("{:?}", r.part).contains(&key))
        .map(|(_, id)| id.get())
        .unwrap();
    fake.records("project.milestone")
        .into_iter()
        .find(|m| m["sale_line_id"] == json!(line))
        .unwrap()
}

#[tokio::test]
async fn an_accepted_milestone_is_invoiced_alone_once() {
    let fake = FakeOdoo::start().await;
    let (flows, p, _store) = booked(&fake).await;
    assert!(invoices(&fake, &flows).is_empty());
    assert_eq!(
        odoo_milestone(&fake, &flows, "design")["is_reached"],
        json!(false)
    );

    let env = flows
        .milestone_envelope(&accepted("design"), "psa")
        .unwrap();
    p.submit(&env).await.unwrap();
    // A lost reply after Odoo committed: the retry finds the effect and makes no second one.
    fake.drop_reply_after_commit(1);
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        (report.done, report.held, report.failed),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        odoo_milestone(&fake, &flows, "design")["is_reached"],
        json!(true)
    );

    // One posted invoice with one line: the design milestone's 8,000, not the delivered time.
    let inv = invoices(&fake, &flows);
    assert_eq!(inv.len(), 1, "{inv:#?}");
    assert_eq!(inv[0]["state"], "posted", "{}", inv[0]);
    let amounts: Vec<Value> = flows
        .odoo()
        .model_named::<Value>("account.move")
        .read([odoo_connect::odoo::RecordId(inv[0]["id"].as_i64().unwrap())])
        .fields(["amount_untaxed"])
        .await
        .unwrap();
    assert_eq!(
        amounts[0]["amount_untaxed"].as_f64(),
        Some(8000.0),
        "{}",
        amounts[0]
    );
    let lines = product_lines(&fake, inv[0]["id"].as_i64().unwrap());
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["quantity"].as_f64(), Some(1.0));
    let design_line = lines[0]["sale_line_ids"][0].as_i64().unwrap();
    let b = flows.book().get(&DEAL.parse().unwrap()).unwrap();
    let rows: Vec<Value> = flows
        .odoo()
        .model_named::<Value>("sale.order.line")
        .search_read(odoo_connect::odoo::Domain::new().eq("order_id", b.order_id.get()))
        .fields(["qty_delivered", "qty_invoiced", "qty_to_invoice"])
        .await
        .unwrap();
    for r in &rows {
        let id = r["id"].as_i64().unwrap();
        let invoiced = r["qty_invoiced"].as_f64().unwrap();
        if id == design_line {
            assert_eq!(invoiced, 1.0, "{r}");
        } else {
            // The delivered time and the other milestone stay to be invoiced by the release.
            assert_eq!(invoiced, 0.0, "{r}");
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["qty_to_invoice"].as_f64().unwrap_or_default() > 0.0),
        "the time is still to invoice: {rows:#?}"
    );

    // Said again by the tool (a replay), then found by a poll of Odoo and run with a state store
    // that knows nothing: no second invoice.
    p.submit(&env.for_replay()).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    let polled = flows.reached_milestones().await.unwrap();
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0].milestone.as_str(), format!("{DEAL}-design"));
    assert!(matches!(polled[0].origin, MilestoneOrigin::Odoo { .. }));
    let fresh = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p2 = flows_setup::pipeline(&flows, fresh.clone());
    for m in polled.iter().chain([accepted("design")].iter()) {
        p2.submit(&flows.milestone_envelope(m, "odoo").unwrap())
            .await
            .unwrap();
    }
    let report = flows_setup::drain(&p2, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.held, report.failed), (0, 0), "{report:?}");
    let again = invoices(&fake, &flows);
    assert_eq!(again.len(), 1, "{again:#?}");
    assert_eq!(
        product_lines(&fake, again[0]["id"].as_i64().unwrap()).len(),
        1
    );
}

#[tokio::test]
async fn a_milestone_awaiting_acceptance_or_refused_is_held_and_not_reached() {
    let fake = FakeOdoo::start().await;
    let (flows, p, store) = booked(&fake).await;
    let delivered = MilestoneReached::new(
        DEAL.parse().unwrap(),
        format!("{DEAL}-go-live").parse().unwrap(),
        Acceptance::Delivered { on: on() },
        MilestoneOrigin::Delivery {
            system: "psa".into(),
        },
    );
    let rejected = MilestoneReached::new(
        DEAL.parse().unwrap(),
        format!("{DEAL}-design").parse().unwrap(),
        Acceptance::Rejected {
            on: on(),
            reason: "the design misses the reporting module".into(),
        },
        MilestoneOrigin::Delivery {
            system: "psa".into(),
        },
    );
    for m in [&delivered, &rejected] {
        p.submit(&flows.milestone_envelope(m, "psa").unwrap())
            .await
            .unwrap();
    }
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.held, report.failed), (2, 0), "{report:?}");
    let mut reasons: Vec<String> = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            d.failure
                .reason
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    reasons.sort();
    // Beside the time over the cap held when the time was recorded.
    assert_eq!(
        reasons,
        [
            "cap_reached",
            "milestone_acceptance_pending",
            "milestone_rejected"
        ]
    );
    for m in ["go-live", "design"] {
        assert_eq!(
            odoo_milestone(&fake, &flows, m)["is_reached"],
            json!(false),
            "{m}"
        );
    }
    assert!(invoices(&fake, &flows).is_empty());
}

/// Sets `values` on the deal's customer, as a person would in Odoo.
async fn write_customer(flows: &Flows, values: Value) {
    let b = flows.book().get(&DEAL.parse().unwrap()).unwrap();
    let _: Value = flows
        .odoo()
        .call(
            &odoo_connect::odoo::OdooCall::new("res.partner", "write")
                .ids([b.partner_id])
                .arg("vals", values),
        )
        .await
        .unwrap();
}

async fn held_reasons(store: &SqliteStore) -> Vec<String> {
    let mut r: Vec<String> = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            d.failure
                .reason
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|r| r != "cap_reached")
        .collect();
    r.sort();
    r
}

#[tokio::test]
async fn a_customer_over_its_credit_limit_is_held_before_any_invoice() {
    let fake = FakeOdoo::start().await;
    let (flows, p, store) = booked(&fake).await;
    // The order is confirmed, not invoiced: 20,000 of milestones and the time ordered.
    write_customer(&flows, json!({"credit_limit": 1000.0})).await;
    p.submit(
        &flows
            .milestone_envelope(&accepted("design"), "psa")
            .unwrap(),
    )
    .await
    .unwrap();
    p.submit(
        &flows
            .release_envelope(&DEAL.parse().unwrap(), "2025-03")
            .unwrap(),
    )
    .await
    .unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.held, report.failed), (2, 0), "{report:?}");
    assert_eq!(
        held_reasons(&store).await,
        ["credit_limit_exceeded", "credit_limit_exceeded"]
    );
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    let detail = held
        .iter()
        .find(|d| d.failure.reason.starts_with("credit_limit_exceeded"))
        .map(|d| d.failure.context.clone())
        .unwrap_or_default();
    assert!(
        detail.to_string().contains("\"credit_limit\":\"1000\""),
        "{detail}"
    );
    assert!(invoices(&fake, &flows).is_empty());
}

#[tokio::test]
async fn an_invalid_tax_id_is_held_before_any_invoice() {
    let fake = FakeOdoo::start().await;
    let (flows, p, store) = booked(&fake).await;
    // The sample customers are Belgian; this number fails the Belgian check digits.
    write_customer(&flows, json!({"vat": "BE0431150351"})).await;
    p.submit(
        &flows
            .milestone_envelope(&accepted("design"), "psa")
            .unwrap(),
    )
    .await
    .unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.held, report.failed), (1, 0), "{report:?}");
    assert_eq!(held_reasons(&store).await, ["tax_id_invalid"]);
    assert!(invoices(&fake, &flows).is_empty());
    // Corrected in Odoo, the milestone is invoiced.
    write_customer(&flows, json!({"vat": "BE0403019261"})).await;
    p.submit(
        &flows
            .milestone_envelope(&accepted("design"), "psa")
            .unwrap()
            .for_replay(),
    )
    .await
    .unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(invoices(&fake, &flows).len(), 1);
}
