//! Odoo to CRM: what an accountant does in Odoo (registering a payment, cancelling an invoice)
//! reaches the CRM deal of the contract, read from Odoo by `write_date` and id from a committed
//! checkpoint, each change once.
//!
//! ```sh
//! cargo run --example odoo_to_crm --all-features
//! ```
//!
//! Without environment everything runs in-process: the contracts are booked, billed and
//! invoiced first, then a payment is registered by hand on one invoice (Odoo's own "Register
//! payment" wizard) and another invoice is reset to draft and cancelled. Set `ODOO_URL`,
//! `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for real systems;
//! `STATE_DIR` keeps the state (and the checkpoint: a second run reads only what changed since).
//! On a real Odoo the example acts as the accountant would, on the sample contracts' invoices:
//! each run pays one more open invoice and cancels another, so run it on a test database.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use odoo_connect::flows::{FlowEvent, correlation_for};
use odoo_connect::odoo::models::AccountMove;
use odoo_connect::odoo::{Context, Domain, OdooCall, RecordId};
use odoo_connect::sync::store::AuditKind;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

/// The posted, unpaid customer invoices of the booked contracts: (deal, invoice).
async fn open_invoices(d: &demo::Demo) -> demo::Result<Vec<(String, AccountMove)>> {
    let mut out = Vec::new();
    for b in d.flows.book().all() {
        let Some(deal) = b.crm.as_ref().map(|c| c.id.clone()) else {
            continue;
        };
        let moves: Vec<AccountMove> = d
            .flows
            .odoo()
            .model::<AccountMove>()
            .search_read(
                Domain::new()
                    .eq("invoice_origin", b.order_name.as_str())
                    .eq("move_type", "out_invoice")
                    .eq("state", "posted")
                    .eq("payment_state", "not_paid"),
            )
            .order("id")
            .await?;
        out.extend(moves.into_iter().map(|m| (deal.clone(), m)));
    }
    Ok(out)
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("odoo-to-crm").await?;
    d.book_deals(false).await?;
    d.bill_time(false).await?;
    d.release_invoices(false).await?;
    let n = d.odoo_changes(false).await?;
    println!(
        "Read from Odoo since the contracts were booked: {n} change(s), the CRM deals updated."
    );

    let open = open_invoices(&d).await?;
    let odoo = d.flows.odoo();
    let mut touched = Vec::new();
    if let Some((deal, inv)) = open.first() {
        // The accountant's "Register payment" button: Odoo's own wizard, in full.
        let ctx = Context::new()
            .with("active_model", "account.move")
            .with("active_ids", json!([inv.id.get()]));
        let created: Value = odoo
            .call(
                &OdooCall::new("account.payment.register", "create")
                    .arg("vals_list", json!([{}]))
                    .context(ctx.clone()),
            )
            .await?;
        let wizard = created
            .as_i64()
            .or_else(|| created.get(0).and_then(Value::as_i64))
            .unwrap_or_default();
        let _: Value = odoo
            .call(
                &OdooCall::new("account.payment.register", "action_create_payments")
                    .ids([RecordId(wizard)])
                    .context(ctx),
            )
            .await?;
        println!(
            "\nIn Odoo, by hand: a payment of {:.2} registered on {} (deal {deal})",
            inv.amount_total,
            inv.name.as_deref().unwrap_or("?")
        );
        touched.push(deal.clone());
    }
    if let Some((deal, inv)) = open.get(1) {
        // Reset to draft and cancelled, as from the invoice's form.
        for method in ["button_draft", "button_cancel"] {
            let _: Value = odoo
                .call(&OdooCall::new("account.move", method).ids([inv.id]))
                .await?;
        }
        println!(
            "In Odoo, by hand: {} reset to draft and cancelled (deal {deal})",
            inv.name.as_deref().unwrap_or("?")
        );
        touched.push(deal.clone());
    }

    let n = d.odoo_changes(false).await?;
    println!("\nRead from Odoo: {n} new change(s).");
    for deal in &touched {
        let contract = format!("hubspot-deal-{deal}").parse()?;
        let trace = d.pipeline.trace(&correlation_for(&contract)).await?;
        println!("\nDeal {deal}, as the trace shows Odoo's changes:");
        for r in trace
            .iter()
            .filter(|r| r.event.kind == AuditKind::from(FlowEvent::OdooChanged))
        {
            let e = &r.event.details;
            let what = match e["model"].as_str() {
                Some("account.payment") => format!(
                    "payment of {} {}",
                    e["record"]["amount"].as_str().unwrap_or("?"),
                    e["status"].as_str().unwrap_or("?")
                ),
                _ => format!(
                    "invoice {} {}, {} due",
                    e["record"]["number"].as_str().unwrap_or("?"),
                    e["status"].as_str().unwrap_or("?"),
                    e["record"]["amount_due"].as_str().unwrap_or("?")
                ),
            };
            let crm = if e["deals"].as_array().is_some_and(|a| !a.is_empty()) {
                "written to the CRM"
            } else {
                "nothing new for the CRM"
            };
            println!("  {}  {what}: {crm}", r.at.format("%H:%M:%S%.3f"));
        }
        if let Some(hub) = &d.hub {
            let p = hub.properties(deal);
            println!(
                "  the deal in the CRM now: invoice {} {}, {} due; last payment {} on {}",
                p["odoo_invoice_number"].as_str().unwrap_or("-"),
                p["odoo_invoice_status"].as_str().unwrap_or("-"),
                p["odoo_invoice_amount_due"].as_str().unwrap_or("-"),
                p["odoo_last_payment_amount"].as_str().unwrap_or("-"),
                p["odoo_last_payment_date"].as_str().unwrap_or("-"),
            );
        }
    }

    let n = d.odoo_changes(false).await?;
    println!("\nRead from Odoo once more: {n} new change(s).");
    Ok(())
}
