//! Recurring managed services on FakeOdoo: each period of a monthly fee is invoiced once, on an
//! invoice of its own linked to the service's order line; a month-end run that was skipped is
//! caught up by the next without doubling a period, and a run again invoices nothing; a service
//! starting mid-month is prorated for its first month.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use odoo_connect::canonical::{BillingLine, Money, PeriodAnchor, Recurrence};
use odoo_connect::flows::{Flows, WonDeal};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::testkit::FakeOdoo;
use rust_decimal::Decimal;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).unwrap()
}

/// One sample deal booked with a recurring support fee of 3,000 a month as its only line.
async fn booked(
    fake: &FakeOdoo,
    start: NaiveDate,
    end: Option<NaiveDate>,
    anchor: PeriodAnchor,
) -> (Flows, Pipeline<SqliteStore>, WonDeal) {
    let mut deals = fake_hubspot::sample_deals();
    deals.truncate(1);
    let hub = fake_hubspot::FakeHubSpot::start(&deals).await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store);
    let mut won = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    let deal = &mut won[0];
    let cur = deal.contract.currency;
    let mut line = BillingLine::recurring(
        "support".parse().unwrap(),
        "Managed support",
        Recurrence::Monthly,
        Money::new(Decimal::new(3000, 0), cur),
        start,
        end,
    );
    if let BillingLine::RecurringService(l) = &mut line {
        l.anchor = anchor;
    }
    deal.contract.billing_lines = vec![line];
    flows_setup::book_deals(&flows, &p, &won).await.unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    (flows, p, won.remove(0))
}

/// The month-end run of `as_of`: the periods due submitted and worked; how many were due.
async fn month_end(flows: &Flows, p: &Pipeline<SqliteStore>, as_of: NaiveDate) -> usize {
    let due = flows.recurring_due(as_of).await.unwrap();
    let env: Vec<_> = due
        .iter()
        .map(|d| flows.recurring_envelope(d, "month-end").unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    let report = flows_setup::drain(p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.failed, report.held), (0, 0), "{report:?}");
    due.len()
}

/// The posted customer invoices of the deal's order, with their product lines.
fn invoices(fake: &FakeOdoo, flows: &Flows, deal: &WonDeal) -> Vec<(Value, Vec<Value>)> {
    let b = flows.book().get(&deal.contract.key).unwrap();
    fake.records("account.move")
        .into_iter()
        .filter(|m| m["invoice_origin"] == json!(b.order_name) && m["move_type"] == "out_invoice")
        .map(|m| {
            let lines = fake
                .records("account.move.line")
                .into_iter()
                .filter(|l| l["move_id"] == m["id"] && l["display_type"] == "product")
                .collect();
            (m, lines)
        })
        .collect()
}

/// The service's order line as Odoo computes it.
async fn service_line(flows: &Flows, deal: &WonDeal) -> Value {
    let b = flows.book().get(&deal.contract.key).unwrap();
    let lines: Vec<Value> = flows
        .odoo()
        .model_named::<Value>("sale.order.line")
        .read([b.sale_lines[0].1])
        .fields(["product_uom_qty", "qty_invoiced", "qty_to_invoice"])
        .await
        .unwrap();
    lines.into_iter().next().unwrap()
}

#[tokio::test]
async fn three_months_give_three_invoices_after_a_skipped_run_and_none_again() {
    let fake = FakeOdoo::start().await;
    let (flows, p, deal) =
        booked(&fake, day(3, 1), Some(day(5, 31)), PeriodAnchor::default()).await;
    // Ordered for its three periods.
    assert_eq!(
        service_line(&flows, &deal).await["product_uom_qty"],
        json!(3.0)
    );

    // March's run.
    assert_eq!(month_end(&flows, &p, day(3, 31)).await, 1);
    assert_eq!(invoices(&fake, &flows, &deal).len(), 1);
    // April's run is skipped; May's catches April up and bills May.
    assert_eq!(month_end(&flows, &p, day(5, 31)).await, 2);
    let inv = invoices(&fake, &flows, &deal);
    assert_eq!(inv.len(), 3, "{inv:#?}");
    let b = flows.book().get(&deal.contract.key).unwrap();
    let sol = json!({"id": b.sale_lines[0].1.get()});
    let mut names = Vec::new();
    for (m, lines) in &inv {
        assert_eq!(m["state"], "posted", "{m}");
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0]["quantity"], json!(1.0));
        assert_eq!(lines[0]["price_unit"], json!(3000.0));
        assert_eq!(lines[0]["sale_line_ids"], json!([sol["id"]]));
        names.push(lines[0]["name"].as_str().unwrap().to_owned());
    }
    for period in [
        "period 2025-03-01 to 2025-03-31",
        "period 2025-04-01 to 2025-04-30",
        "period 2025-05-01 to 2025-05-31",
    ] {
        assert_eq!(
            names.iter().filter(|n| n.contains(period)).count(),
            1,
            "{names:?}"
        );
    }
    // Odoo counts the three periods invoiced: nothing left to invoice on the line.
    let sol = service_line(&flows, &deal).await;
    assert_eq!(sol["qty_invoiced"], json!(3.0), "{sol}");
    assert_eq!(sol["qty_to_invoice"], json!(0.0), "{sol}");

    // A second run, and a later one past the service's end: nothing due, nothing made.
    assert_eq!(month_end(&flows, &p, day(5, 31)).await, 0);
    assert_eq!(month_end(&flows, &p, day(8, 31)).await, 0);
    assert_eq!(invoices(&fake, &flows, &deal).len(), 3);
}

#[tokio::test]
async fn a_period_said_twice_is_invoiced_once() {
    let fake = FakeOdoo::start().await;
    let (flows, p, deal) =
        booked(&fake, day(3, 1), Some(day(5, 31)), PeriodAnchor::default()).await;
    let due = flows.recurring_due(day(3, 31)).await.unwrap();
    assert_eq!(due.len(), 1);
    let env = flows.recurring_envelope(&due[0], "month-end").unwrap();
    p.submit(&env).await.unwrap();
    // A lost reply after Odoo committed: the retry finds the invoice and makes no second one.
    fake.drop_reply_after_commit(1);
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    // The same period from another run, with a state store that forgot nothing but a new
    // message id: the step finds the invoice in Odoo.
    let again = flows.recurring_envelope(&due[0], "manual").unwrap();
    p.submit(&again).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(invoices(&fake, &flows, &deal).len(), 1);
}

#[tokio::test]
async fn a_mid_month_start_is_prorated_for_its_first_month() {
    let fake = FakeOdoo::start().await;
    let (flows, p, deal) =
        booked(&fake, day(3, 15), Some(day(5, 31)), PeriodAnchor::Calendar).await;
    // Ordered as 17/31 + 2 periods.
    assert_eq!(
        service_line(&flows, &deal).await["product_uom_qty"],
        json!(2.55)
    );

    let due = flows.recurring_due(day(4, 30)).await.unwrap();
    let spans: Vec<_> = due.iter().map(|d| (d.start, d.end)).collect();
    assert_eq!(spans, [(day(3, 15), day(3, 31)), (day(4, 1), day(4, 30))]);
    // The canonical price of 17 days of 31.
    assert_eq!(due[0].amount.amount, Decimal::new(164516, 2));
    assert_eq!(month_end(&flows, &p, day(4, 30)).await, 2);
    let inv = invoices(&fake, &flows, &deal);
    assert_eq!(inv.len(), 2);
    let march = inv
        .iter()
        .find(|(_, l)| {
            l[0]["name"]
                .as_str()
                .unwrap()
                .contains("2025-03-15 to 2025-03-31")
        })
        .unwrap();
    assert_eq!(march.1[0]["quantity"], json!(0.55));
    // 17/31 of 3,000 to the cent: 0.55 × 2,991.20.
    assert_eq!(march.1[0]["price_unit"], json!(2991.2));
    let april = inv
        .iter()
        .find(|(_, l)| {
            l[0]["name"]
                .as_str()
                .unwrap()
                .contains("2025-04-01 to 2025-04-30")
        })
        .unwrap();
    assert_eq!(april.1[0]["quantity"], json!(1.0));
    assert_eq!(month_end(&flows, &p, day(5, 31)).await, 1);
    assert_eq!(
        service_line(&flows, &deal).await["qty_to_invoice"],
        json!(0.0)
    );
}

/// The bulk release (Odoo's "invoice what is delivered" wizard) leaves a recurring service to its
/// own flow: before, it swept the three ordered periods into one invoice, to be invoiced again
/// period by period.
#[tokio::test]
async fn the_bulk_release_leaves_recurring_periods_to_their_flow() {
    let fake = FakeOdoo::start().await;
    let (flows, p, deal) =
        booked(&fake, day(3, 1), Some(day(5, 31)), PeriodAnchor::default()).await;
    assert_eq!(
        flows_setup::submit_releases(&flows, &p, "2025-03")
            .await
            .unwrap(),
        1
    );
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.failed, report.held), (0, 0), "{report:?}");
    assert!(invoices(&fake, &flows, &deal).is_empty());
    assert_eq!(
        service_line(&flows, &deal).await["qty_invoiced"],
        json!(0.0)
    );
    // The month-end run then invoices March alone.
    assert_eq!(month_end(&flows, &p, day(3, 31)).await, 1);
    let inv = invoices(&fake, &flows, &deal);
    assert_eq!(inv.len(), 1, "{inv:#?}");
    assert_eq!(inv[0].1.len(), 1);
}
