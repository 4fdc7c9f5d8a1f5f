//! Invoice to cash: a camt.053 bank statement becomes payments registered against the invoices
//! in Odoo, exactly once, and each payment goes back to its deal in the CRM.
//!
//! ```sh
//! cargo run --example invoice_to_cash --all-features
//! ```
//!
//! Without environment everything runs in-process, with a statement made for the open invoices.
//! Set `CAMT053` to read a real statement, and `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`,
//! `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for real systems; `STATE_DIR` keeps the state.

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
    let d = demo::Demo::start("invoice-to-cash").await?;
    d.book_deals(false).await?;
    d.bill_time(false).await?;
    d.release_invoices(false).await?;
    let open = d.flows.open_invoices().await?;
    println!("{} invoices are open:", open.len());
    for i in &open {
        println!(
            "  {} due {}",
            i.number.as_deref().unwrap_or("?"),
            i.amount_due.formatted()
        );
    }
    let (report, known) = d.collect(true).await?;
    println!(
        "\nThe statement: {} credit(s) paid an invoice in full, {} in part, {} could not be matched, {known} already registered.",
        report.matched.len(),
        report.partial.len(),
        report.unmatched.len(),
    );
    let odoo = d.flows.odoo();
    let ids: Vec<i64> = open
        .iter()
        .filter_map(|i| i.key.as_str().rsplit(':').next()?.parse().ok())
        .collect();
    let now: Vec<Value> = odoo
        .model_named::<Value>("account.move")
        .read(
            ids.into_iter()
                .map(odoo_connect::odoo::RecordId)
                .collect::<Vec<_>>(),
        )
        .fields([
            "name",
            "payment_state",
            "amount_residual",
            "invoice_origin",
            "currency_id",
        ])
        .await?;
    println!("\nIn Odoo now:");
    for m in &now {
        println!(
            "  {}: {} ({} still due)",
            m["name"].as_str().unwrap_or("?"),
            m["payment_state"].as_str().unwrap_or("?").replace('_', " "),
            demo::money_of(m, "amount_residual")
        );
    }
    if let Some(hub) = &d.hub {
        println!("\nIn the CRM:");
        for deal in ["1001", "1002", "1003"] {
            let p = hub.properties(deal);
            match p["odoo_last_payment_amount"].as_str() {
                Some(a) => println!(
                    "  deal {deal}: last payment {} on {} ({})",
                    demo::money(
                        &serde_json::Value::String(a.to_owned()),
                        odoo_connect::canonical::Currency::EUR
                    ),
                    p["odoo_last_payment_date"].as_str().unwrap_or("?"),
                    p["odoo_last_payment_reference"].as_str().unwrap_or("")
                ),
                None => println!("  deal {deal}: no payment yet"),
            }
        }
    }
    let held = d
        .store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await?;
    for h in held
        .iter()
        .filter(|h| h.failure.reason.contains("unmatched"))
    {
        let Ok(FlowMessage::Payment { payment }) = h.envelope.clone().decode().map(|e| e.payload)
        else {
            continue;
        };
        println!(
            "\nTo allocate by hand: {} received with reference \"{}\"",
            payment.amount.formatted(),
            payment.reference
        );
    }
    Ok(())
}
