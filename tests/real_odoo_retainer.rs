//! Retainers on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): a retainer of 3,000 is invoiced
//! up front once; 8, 8 and 6 hours at 150 booked to it are recorded as timesheets on its
//! `ordered_prepaid` order line (Odoo keeps them there and invoices nothing more), what is left is
//! read back from Odoo (nothing), and the 2 hours past it are recorded on no order line and held
//! as `retainer_exhausted`; the same messages again change nothing.
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
use odoo_connect::canonical::{
    ApprovalState, BillingLine, Currency, Money, Rate, TimeEntry, TopUp,
};
use odoo_connect::flows::{Flows, Setup};
use odoo_connect::odoo::{Domain, OdooCall, OdooClient, Protocol};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn unique_number() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default()
        * 10
        + 5
}

fn eur(units: i64) -> Money {
    Money::new(Decimal::new(units, 0), Currency::EUR)
}

async fn invoices_of(odoo: &OdooClient, order_name: &str) -> Vec<Value> {
    odoo.model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .eq("invoice_origin", order_name)
                .eq("move_type", "out_invoice"),
        )
        .fields(["state", "amount_untaxed", "write_date"])
        .order("id")
        .await
        .expect("invoices")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_retainer_is_drawn_down_and_held_past_its_end_on_the_real_server() {
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
    let mail = format!("retainer.{n}@example.com");
    let _: Value = odoo
        .call(&OdooCall::new("hr.employee", "create").arg(
            "vals_list",
            json!([{"name": format!("Retainer {n}"), "work_email": mail}]),
        ))
        .await
        .expect("employee");
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
    assert_eq!(
        flows_setup::book_deals(&flows, &p, &won)
            .await
            .expect("book"),
        1
    );
    let key = won[0].contract.key.clone();
    let b = flows.book().get(&key).expect("booked");
    let line = "retainer".parse().unwrap();
    let scoped = flows.odoo().clone();

    let prepay = flows.retainer_envelope(&key, &line).unwrap();
    let entries: Vec<TimeEntry> = [(3, 8), (4, 8), (5, 6)]
        .into_iter()
        .map(|(d, h)| {
            let mut e = TimeEntry::new(
                format!("R-{n}-{d}").parse().unwrap(),
                mail.parse().unwrap(),
                won[0].project.key.clone(),
                "consultant".parse().unwrap(),
                NaiveDate::from_ymd_opt(2025, 3, d).unwrap(),
                Decimal::new(h, 0),
                "Advice",
            );
            e.approval = ApprovalState::Approved;
            e.billing_line = Some("retainer".parse().unwrap());
            e
        })
        .collect();
    for round in 0..2 {
        p.submit(&prepay.for_replay()).await.unwrap();
        for e in &entries {
            p.submit(&flows.time_envelope(e, "psa").unwrap().for_replay())
                .await
                .unwrap();
            flows_setup::drain(&p, Duration::from_secs(300))
                .await
                .expect("drain");
        }
        let inv = invoices_of(&scoped, &b.order_name).await;
        assert_eq!(inv.len(), 1, "round {round}: {inv:#?}");
        assert_eq!(inv[0]["state"], "posted");
        assert_eq!(inv[0]["amount_untaxed"].as_f64(), Some(3000.0));
    }
    let left = flows.retainer_balance(&key).await.unwrap().unwrap();
    assert_eq!(left[0].consumed, eur(3000), "{left:?}");
    assert_eq!(left[0].hours, Decimal::new(20, 0));
    assert!(left[0].is_exhausted());
    let sheets: Vec<Value> = scoped
        .model_named::<Value>("account.analytic.line")
        .search_read(Domain::new().eq("project_id", b.project_id.get()))
        .fields(["unit_amount", "so_line"])
        .await
        .unwrap();
    let on = |so: Value| -> f64 {
        sheets
            .iter()
            .filter(|t| match &t["so_line"] {
                Value::Array(a) => a.first() == Some(&so),
                other => *other == so,
            })
            .map(|t| t["unit_amount"].as_f64().unwrap_or_default())
            .sum()
    };
    assert_eq!(on(json!(b.sale_lines[0].1.get())), 20.0, "{sheets:#?}");
    assert_eq!(on(json!(false)), 2.0, "{sheets:#?}");
    let rows: Vec<Value> = scoped
        .model_named::<Value>("sale.order.line")
        .read([b.sale_lines[0].1])
        .fields(["qty_invoiced", "qty_to_invoice"])
        .await
        .unwrap();
    assert_eq!(rows[0]["qty_invoiced"].as_f64(), Some(1.0), "{}", rows[0]);
    assert_eq!(rows[0]["qty_to_invoice"].as_f64(), Some(0.0), "{}", rows[0]);
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert!(
        held.iter()
            .any(|d| d.failure.reason.starts_with("retainer_exhausted")),
        "{held:#?}"
    );
}
