//! Milestones on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): a fixed-fee milestone contract
//! is booked with its time recorded, one milestone is accepted, and Odoo holds exactly one
//! posted invoice for exactly that milestone's amount, its line linked to the milestone's order
//! line (which Odoo then counts invoiced) and nothing of the delivered time; the same message
//! again, a poll of Odoo's reached milestones, and a run with a state store that knows nothing
//! change nothing.
//!
//! The run works on data of its own (deal, client and employee names carry a tag unique to the
//! run), so it depends neither on other tests nor on a reset.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use odoo_connect::canonical::Currency;
use odoo_connect::flows::{Flows, MilestoneOrigin, MilestoneReached, Setup};
use odoo_connect::odoo::{Domain, OdooCall, OdooClient, Protocol};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
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
        + 7
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

async fn product_lines(odoo: &OdooClient, invoice: i64) -> Vec<Value> {
    odoo.model_named::<Value>("account.move.line")
        .search_read(
            Domain::new()
                .eq("move_id", invoice)
                .eq("display_type", "product"),
        )
        .fields(["quantity", "price_unit", "sale_line_ids"])
        .await
        .expect("lines")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_reached_milestone_is_invoiced_alone_once_on_the_real_server() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    let n = unique_number();
    // One sample deal of the run's own, with its client, and employees of the run's own.
    let mut deals = fake_hubspot::sample_deals();
    deals.truncate(1);
    let deal_id = leak(format!("{n}"));
    deals[0].id = deal_id;
    deals[0].company.id = leak(format!("{n}1"));
    deals[0].company.name = leak(format!("{} {n}", deals[0].company.name));
    let mut csv = flows_setup::APPROVED_TIME_CSV.to_owned();
    csv = csv.replace(
        "prj-hubspot-deal-1001",
        &format!("prj-hubspot-deal-{deal_id}"),
    );
    csv = csv.replace("T-100", &format!("T-{n}-"));
    let mut employees = Vec::new();
    for e in [
        "abigail.peterson39",
        "keith.byrd52",
        "walter.horton80",
        "jennie.fletcher76",
    ] {
        let mail = format!("{e}.{n}@example.com");
        csv = csv.replace(&format!("{e}@example.com"), &mail);
        employees.push(json!({"name": format!("{e} {n}"), "work_email": mail}));
    }
    let _: Value = odoo
        .call(&OdooCall::new("hr.employee", "create").arg("vals_list", Value::Array(employees)))
        .await
        .expect("employees");
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
    let won = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .expect("deals");
    assert_eq!(won.len(), 1);
    flows_setup::book_deals(&flows, &p, &won)
        .await
        .expect("book");
    let (entries, _, _) = flows_setup::read_time_csv(&csv).unwrap();
    let env: Vec<_> = entries
        .iter()
        .filter(|e| e.project.as_str() == format!("prj-hubspot-deal-{deal_id}"))
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    assert!(!env.is_empty());
    p.submit_batch(&env).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(300))
        .await
        .expect("drain");

    let contract = format!("hubspot-deal-{deal_id}");
    let b = flows
        .book()
        .get(&contract.parse().unwrap())
        .expect("booked");
    let scoped = flows.odoo().clone();
    assert!(invoices_of(&scoped, &b.order_name).await.is_empty());

    // The design milestone accepted in the delivery tool.
    let design = MilestoneReached::accepted(
        contract.parse().unwrap(),
        format!("{contract}-design").parse().unwrap(),
        NaiveDate::from_ymd_opt(2025, 3, 14).unwrap(),
        MilestoneOrigin::Delivery {
            system: "psa".into(),
        },
    );
    let env = flows.milestone_envelope(&design, "psa").unwrap();
    p.submit(&env).await.unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!(
        (report.done, report.held, report.failed),
        (1, 0, 0),
        "{report:?}"
    );

    let first = invoices_of(&scoped, &b.order_name).await;
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0]["state"], "posted", "{}", first[0]);
    assert_eq!(
        first[0]["amount_untaxed"].as_f64(),
        Some(8000.0),
        "{}",
        first[0]
    );
    let invoice = first[0]["id"].as_i64().unwrap();
    let lines = product_lines(&scoped, invoice).await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let design_line = lines[0]["sale_line_ids"][0].as_i64().unwrap();
    // Odoo counts the milestone's line invoiced, and only it: the time is still to invoice.
    let rows: Vec<Value> = scoped
        .model_named::<Value>("sale.order.line")
        .search_read(Domain::new().eq("order_id", b.order_id.get()))
        .fields([
            "qty_delivered",
            "qty_invoiced",
            "qty_to_invoice",
            "display_type",
        ])
        .await
        .unwrap();
    for r in rows.iter().filter(|r| r["display_type"] == json!(false)) {
        let invoiced = r["qty_invoiced"].as_f64().unwrap();
        if r["id"].as_i64() == Some(design_line) {
            assert_eq!(
                (r["qty_delivered"].as_f64(), invoiced),
                (Some(1.0), 1.0),
                "{r}"
            );
        } else {
            assert_eq!(invoiced, 0.0, "{r}");
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["qty_to_invoice"].as_f64().unwrap_or_default() > 0.0),
        "the delivered time is left to the release: {rows:#?}"
    );
    let reached: Vec<Value> = scoped
        .model_named::<Value>("project.milestone")
        .search_read(Domain::new().eq("sale_line_id", design_line))
        .fields(["is_reached"])
        .await
        .unwrap();
    assert_eq!(reached.len(), 1);
    assert_eq!(reached[0]["is_reached"], json!(true));

    // Again: the same message, then what a poll of Odoo finds, with a state store that knows
    // nothing. No second invoice, nothing written.
    p.submit(&env.for_replay()).await.unwrap();
    flows_setup::drain(&p, Duration::from_secs(300))
        .await
        .expect("drain");
    let polled = flows.reached_milestones().await.expect("poll");
    let polled: Vec<_> = polled
        .into_iter()
        .filter(|m| m.contract.as_str() == contract)
        .collect();
    assert_eq!(polled.len(), 1, "{polled:?}");
    let fresh = Arc::new(MemoryStore::new());
    let p2 = flows_setup::pipeline(&flows, fresh);
    for m in polled.iter().chain([design.clone()].iter()) {
        p2.submit(&flows.milestone_envelope(m, "odoo").unwrap())
            .await
            .unwrap();
    }
    let report = flows_setup::drain(&p2, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!((report.held, report.failed), (0, 0), "{report:?}");
    let second = invoices_of(&scoped, &b.order_name).await;
    assert_eq!(second, first, "the second run wrote to Odoo");

    // The customer over a credit limit set in Odoo: the go-live milestone is held before any
    // invoice (Odoo's `credit` and `credit_to_invoice` against `credit_limit`).
    let _: Value = scoped
        .call(
            &OdooCall::new("res.partner", "write")
                .ids([b.partner_id])
                .arg("vals", json!({"credit_limit": 1000.0})),
        )
        .await
        .expect("credit limit");
    let go_live = MilestoneReached::accepted(
        contract.parse().unwrap(),
        format!("{contract}-go-live").parse().unwrap(),
        NaiveDate::from_ymd_opt(2025, 4, 30).unwrap(),
        MilestoneOrigin::Delivery {
            system: "psa".into(),
        },
    );
    p.submit(&flows.milestone_envelope(&go_live, "psa").unwrap())
        .await
        .unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(300))
        .await
        .expect("drain");
    assert_eq!((report.held, report.failed), (1, 0), "{report:?}");
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert!(
        held.iter()
            .any(|d| d.failure.reason.starts_with("credit_limit_exceeded")),
        "{held:#?}"
    );
    assert_eq!(invoices_of(&scoped, &b.order_name).await, first);
}
