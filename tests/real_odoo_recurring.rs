//! Recurring managed services on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): a contract with
//! a monthly fee ordered for three months (an `ordered_prepaid` order line of quantity 3) is
//! booked; a month-end run for March, then one for May (April's was skipped) give three posted
//! invoices, one per month, each linked to the order line (which Odoo then counts invoiced three
//! times over: `qty_invoiced` 3, nothing left to invoice); the same runs again, and with a state
//! store that knows nothing, change nothing.
//!
//! The run works on data of its own (deal and client names carry a tag unique to the run), so it
//! depends neither on other tests nor on a reset.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use odoo_connect::canonical::{BillingLine, Currency, Money, Recurrence};
use odoo_connect::flows::{Flows, Setup};
use odoo_connect::odoo::{Domain, OdooClient, Protocol};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::store::{DeadLetters, StateStore};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Digits unique to the run (HubSpot ids are digits).
fn unique_number() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default()
        * 10
        + 3
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).unwrap()
}

async fn invoices_of(odoo: &OdooClient, order_name: &str) -> Vec<Value> {
    odoo.model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .eq("invoice_origin", order_name)
                .eq("move_type", "out_invoice"),
        )
        .fields(["state", "amount_untaxed", "invoice_line_ids", "write_date"])
        .order("id")
        .await
        .expect("invoices")
}

/// The month-end run of `as_of`; how many periods were due.
async fn month_end<S: StateStore + ?Sized + 'static>(
    flows: &Flows,
    p: &odoo_connect::sync::pipeline::Pipeline<S>,
    as_of: NaiveDate,
    contract: &str,
) -> usize {
    let due: Vec<_> = flows
        .recurring_due(as_of)
        .await
        .expect("due")
        .into_iter()
        .filter(|d| d.contract.as_str() == contract)
        .collect();
    for d in &due {
        p.submit(&flows.recurring_envelope(d, "month-end").unwrap())
            .await
            .unwrap();
    }
    let report = flows_setup::drain(p, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!((report.held, report.failed), (0, 0), "{report:?}");
    due.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn three_months_of_a_fee_give_three_invoices_once_on_the_real_server() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    let n = unique_number();
    let mut deals = fake_hubspot::sample_deals();
    deals.truncate(1);
    let deal_id = leak(format!("{n}"));
    deals[0].id = deal_id;
    deals[0].company.id = leak(format!("{n}1"));
    deals[0].company.name = leak(format!("{} {n}", deals[0].company.name));
    let hub = fake_hubspot::FakeHubSpot::start(&deals).await;

    let settings = Setup::new("firm-eu".parse().unwrap())
        .currency(Currency::EUR)
        .apply(&odoo)
        .await
        .expect("setup");
    let flows = Flows::connect(odoo.clone(), settings)
        .await
        .expect("connect");
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    let mut won = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .expect("deals");
    assert_eq!(won.len(), 1);
    let cur = won[0].contract.currency;
    won[0].contract.billing_lines = vec![BillingLine::recurring(
        "support".parse().unwrap(),
        "Managed support",
        Recurrence::Monthly,
        Money::new(Decimal::new(3000, 0), cur),
        day(3, 1),
        Some(day(5, 31)),
    )];
    let booked_count = flows_setup::book_deals(&flows, &p, &won)
        .await
        .expect("book");
    let dead = store
        .list_dead_letters(&odoo_connect::sync::store::DeadLetterFilter::all())
        .await
        .unwrap();
    assert_eq!(booked_count, 1, "{dead:#?}");
    let report = flows_setup::drain(&p, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!((report.held, report.failed), (0, 0), "{report:?}");
    let contract = format!("hubspot-deal-{deal_id}");
    let b = flows
        .book()
        .get(&contract.parse().unwrap())
        .unwrap_or_else(|| {
            panic!(
                "not booked: {:?} {report:?}",
                flows
                    .book()
                    .all()
                    .iter()
                    .map(|b| b.contract.key.clone())
                    .collect::<Vec<_>>()
            )
        });
    let scoped = flows.odoo().clone();
    assert!(invoices_of(&scoped, &b.order_name).await.is_empty());

    // March's run, April's skipped, May's catching up.
    assert_eq!(month_end(&flows, &p, day(3, 31), &contract).await, 1);
    assert_eq!(month_end(&flows, &p, day(5, 31), &contract).await, 2);

    let first = invoices_of(&scoped, &b.order_name).await;
    assert_eq!(first.len(), 3, "{first:#?}");
    let mut names = Vec::new();
    for inv in &first {
        assert_eq!(inv["state"], "posted", "{inv}");
        assert_eq!(inv["amount_untaxed"].as_f64(), Some(3000.0), "{inv}");
        let lines: Vec<Value> = scoped
            .model_named::<Value>("account.move.line")
            .search_read(
                Domain::new()
                    .eq("move_id", inv["id"].as_i64().unwrap())
                    .eq("display_type", "product"),
            )
            .fields(["name", "quantity", "sale_line_ids"])
            .await
            .unwrap();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0]["quantity"].as_f64(), Some(1.0));
        assert_eq!(lines[0]["sale_line_ids"], json!([b.sale_lines[0].1.get()]));
        names.push(lines[0]["name"].as_str().unwrap_or_default().to_owned());
    }
    for period in [
        "2025-03-01 to 2025-03-31",
        "2025-04-01 to 2025-04-30",
        "2025-05-01 to 2025-05-31",
    ] {
        assert_eq!(
            names.iter().filter(|n| n.contains(period)).count(),
            1,
            "{names:?}"
        );
    }
    // Odoo accepts the line invoiced once per period and counts the three.
    let rows: Vec<Value> = scoped
        .model_named::<Value>("sale.order.line")
        .read([b.sale_lines[0].1])
        .fields([
            "product_uom_qty",
            "qty_invoiced",
            "qty_to_invoice",
            "invoice_status",
        ])
        .await
        .unwrap();
    assert_eq!(
        rows[0]["product_uom_qty"].as_f64(),
        Some(3.0),
        "{}",
        rows[0]
    );
    assert_eq!(rows[0]["qty_invoiced"].as_f64(), Some(3.0), "{}", rows[0]);
    assert_eq!(rows[0]["qty_to_invoice"].as_f64(), Some(0.0), "{}", rows[0]);
    assert_eq!(rows[0]["invoice_status"], "invoiced", "{}", rows[0]);

    // Twice: the same runs, then with a state store that knows nothing. Nothing due, nothing
    // written.
    assert_eq!(month_end(&flows, &p, day(5, 31), &contract).await, 0);
    let fresh = Arc::new(MemoryStore::new());
    let p2 = flows_setup::pipeline(&flows, fresh);
    assert_eq!(month_end(&flows, &p2, day(6, 30), &contract).await, 0);
    // A period said again with a fresh store: the step finds its invoice in Odoo.
    let march = odoo_connect::flows::RecurringPeriod::new(
        contract.parse().unwrap(),
        "support".parse().unwrap(),
        day(3, 1),
        day(3, 31),
        Decimal::ONE,
        Money::new(Decimal::new(3000, 0), cur),
    );
    p2.submit(&flows.recurring_envelope(&march, "manual").unwrap())
        .await
        .unwrap();
    let report = flows_setup::drain(&p2, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!(
        (report.done, report.held, report.failed),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        invoices_of(&scoped, &b.order_name).await,
        first,
        "the second run wrote to Odoo"
    );
}
