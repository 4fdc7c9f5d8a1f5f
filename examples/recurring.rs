//! Recurring managed services: each won deal gets a monthly support fee of 2,500 from mid-March
//! to the end of June, its months calendar months (March prorated); month-end runs for March and
//! May (April's skipped) invoice each month once, on an invoice of its own, and a run again
//! invoices nothing. What is printed is read back from Odoo.
//!
//! ```sh
//! cargo run --example recurring --all-features
//! ```
//!
//! Without environment everything runs in-process on the fakes. Set `ODOO_URL`, `ODOO_DB`,
//! `ODOO_LOGIN`, `ODOO_API_KEY` (and `HUBSPOT_TOKEN`) for real systems; `STATE_DIR` keeps the
//! sync state.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use chrono::NaiveDate;
use odoo_connect::canonical::{BillingLine, Money, PeriodAnchor, Recurrence};
use odoo_connect::odoo::Domain;
use rust_decimal::Decimal;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

fn day(m: u32, d: u32) -> demo::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2025, m, d).ok_or_else(|| "bad date".into())
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("recurring").await?;
    let mut deals = flows_setup::won_deals(&d.hub_url, &d.hub_token).await?;
    for deal in &mut deals {
        let mut line = BillingLine::recurring(
            "support".parse()?,
            "Managed support",
            Recurrence::Monthly,
            Money::new(Decimal::new(2500, 0), deal.contract.currency),
            day(3, 15)?,
            Some(day(6, 30)?),
        );
        if let BillingLine::RecurringService(l) = &mut line {
            l.anchor = PeriodAnchor::Calendar;
        }
        deal.contract.billing_lines = vec![line];
    }
    let envelopes = deals
        .iter()
        .map(|deal| d.flows.deal_envelope(deal))
        .collect::<Result<Vec<_>, _>>()?;
    d.pipeline.submit_batch(&envelopes).await?;
    d.run(true, "Booking deals", envelopes.len()).await?;

    for (label, as_of) in [
        ("March", day(3, 31)?),
        ("May (April's run was skipped)", day(5, 31)?),
        ("May, again", day(5, 31)?),
    ] {
        let due = d.flows.recurring_due(as_of).await?;
        println!("\nMonth-end run for {label}: {} period(s) due.", due.len());
        let envelopes = due
            .iter()
            .map(|p| d.flows.recurring_envelope(p, "month-end"))
            .collect::<Result<Vec<_>, _>>()?;
        d.pipeline.submit_batch(&envelopes).await?;
        d.run(true, "Invoicing periods", envelopes.len()).await?;
    }

    let odoo = d.flows.odoo();
    println!();
    for b in d.flows.book().all() {
        let lines: Vec<Value> = odoo
            .model_named::<Value>("account.move.line")
            .search_read(Domain::new().is_in("sale_line_ids", vec![b.sale_lines[0].1.get()]))
            .fields([
                "name",
                "quantity",
                "price_subtotal",
                "currency_id",
                "parent_state",
            ])
            .order("id")
            .await?;
        println!("{} ({}):", b.contract.title, b.order_name);
        for l in &lines {
            println!(
                "  {:<60} qty {:>5}  {:>10}  {}",
                l["name"].as_str().unwrap_or_default(),
                l["quantity"],
                demo::money_of(l, "price_subtotal"),
                l["parent_state"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}
