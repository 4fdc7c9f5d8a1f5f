//! Time to invoice: an approved-time export becomes timesheets on each contract's order in Odoo,
//! billed only within the contract's cap, and the month's release invoices what the orders
//! delivered, with Odoo's own invoicing; time over a cap is held as a business exception and listed, and
//! rows that cannot be read go to the dead letters.
//!
//! ```sh
//! cargo run --example time_to_invoice --all-features
//! ```
//!
//! Without environment everything runs in-process. Set `TIME_CSV` to read another export, and
//! `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for
//! real systems; `STATE_DIR` keeps the sync state.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use odoo_connect::flows::FlowMessage;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("time-to-invoice").await?;
    d.book_deals(false).await?;
    println!(
        "{} contracts are booked; reading the approved-time export.",
        d.flows.book().all().len()
    );
    let (entries, bad, skipped) = d.bill_time(true).await?;
    println!(
        "{entries} approved entries read, {skipped} not approved yet (left out), {bad} unreadable.\n"
    );
    // The month is released: Odoo invoices what each order delivered (billed time, reached
    // milestones) with its own wizard, and the invoices are posted.
    d.release_invoices(true).await?;
    let odoo = d.flows.odoo();
    println!();
    for b in d.flows.book().all() {
        let moves: Vec<Value> = odoo
            .model_named::<Value>("account.move")
            .search_read(
                odoo_connect::odoo::Domain::new()
                    .eq("invoice_origin", b.order_name.as_str())
                    .eq("move_type", "out_invoice"),
            )
            .fields([
                "name",
                "state",
                "amount_untaxed",
                "invoice_line_ids",
                "currency_id",
            ])
            .await?;
        if moves.is_empty() {
            println!("  {}: nothing delivered to invoice yet", b.contract.title);
        }
        for m in moves {
            println!(
                "  {}: invoice {} ({}) from order {} with {} line(s), {} before tax",
                b.contract.title,
                m["name"].as_str().unwrap_or("?"),
                m["state"].as_str().unwrap_or("?"),
                b.order_name,
                m["invoice_line_ids"].as_array().map_or(0, Vec::len),
                demo::money_of(&m, "amount_untaxed"),
            );
        }
    }
    let held = d
        .store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await?;
    println!("\nHeld for a decision ({}):", held.len());
    for h in &held {
        let detail = h
            .failure
            .context
            .get("detail")
            .cloned()
            .unwrap_or(Value::Null);
        let Ok(FlowMessage::ApprovedTime { entry }) =
            h.envelope.clone().decode().map(|e| e.payload)
        else {
            continue;
        };
        let held_amount = detail["amount_held"]
            .as_str()
            .and_then(|a| a.split_once(' '))
            .map(|(a, c)| {
                demo::money(
                    &Value::String(a.to_owned()),
                    c.parse().unwrap_or(odoo_connect::canonical::Currency::EUR),
                )
            })
            .unwrap_or_else(|| "the rest".to_owned());
        println!(
            "  {}: {} of {} h over the contract cap ({}); {held_amount} not invoiced",
            entry.key,
            detail["hours_held"].as_str().unwrap_or("?"),
            entry.hours,
            h.failure.reason,
        );
    }
    let bad = d
        .store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Technical))
        .await?;
    println!("\nRows to correct in the export ({}):", bad.len());
    for b in &bad {
        let location = match b.envelope.clone().decode().map(|e| e.payload) {
            Ok(FlowMessage::Rejected { location, .. }) => location,
            _ => "?".to_owned(),
        };
        println!("  {location}: {}", b.failure.reason);
    }
    Ok(())
}
