//! Trace: give it an opportunity (deal) id and it prints the deal's path: contract, project,
//! timesheets, invoices and payments, with times, and the step holding it when it is stuck.
//!
//! ```sh
//! cargo run --example trace --all-features -- 1001
//! ```
//!
//! Without environment the whole contract-to-cash run happens in-process first. Set `STATE_DIR`
//! to trace from an existing state, and `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`,
//! `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for real systems.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use odoo_connect::flows::{FlowEvent, correlation_for};
use odoo_connect::sync::store::AuditKind;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

fn describe(
    kind: &AuditKind,
    step: Option<&str>,
    outcome: Option<&str>,
    d: &Value,
) -> Option<String> {
    if let Some(event) = FlowEvent::of(kind) {
        return Some(match event {
            FlowEvent::ContractConfirmed => {
                format!("contract confirmed in Odoo (sale order #{})", d["order"])
            }
            FlowEvent::ProjectReady => format!(
                "project #{} ready: {} milestone(s) made by Odoo on confirmation, {} added",
                d["project"], d["milestones_found"], d["milestones_created"]
            ),
            FlowEvent::InvoicesReleased => format!("invoices posted: {}", d["invoices"]),
            FlowEvent::PaymentRegistered => format!(
                "payment of {} registered",
                d["amount"]
                    .as_str()
                    .and_then(|a| a.split_once(' '))
                    .and_then(|(a, c)| Some(odoo_connect::canonical::Money::new(
                        a.parse().ok()?,
                        c.parse().ok()?
                    )))
                    .map_or_else(|| "?".to_owned(), |m| m.formatted())
            ),
            FlowEvent::CrmUpdated => "payment written back to the CRM deal".to_owned(),
            FlowEvent::OdooChanged => {
                let what = match d["model"].as_str() {
                    Some("account.payment") => format!(
                        "payment of {} {}",
                        d["record"]["amount"].as_str().unwrap_or("?"),
                        d["status"].as_str().unwrap_or("?")
                    ),
                    _ => format!(
                        "invoice {} {}",
                        d["record"]["number"].as_str().unwrap_or("?"),
                        d["status"].as_str().unwrap_or("?")
                    ),
                };
                let crm = if d["deals"].as_array().is_some_and(|a| !a.is_empty()) {
                    ", written to the CRM deal"
                } else {
                    ""
                };
                format!("seen in Odoo: {what}{crm}")
            }
            FlowEvent::EventRejected => format!(
                "a pushed event was set aside: {}",
                d["reason"].as_str().unwrap_or("?")
            ),
            _ => return None,
        });
    }
    Some(match (kind, outcome) {
        (AuditKind::MessageReceived, _) => {
            format!("received from {}", d["source"].as_str().unwrap_or("?"))
        }
        (AuditKind::EffectApplied, _) => format!(
            "created {} #{}",
            d["model"].as_str().unwrap_or("?"),
            d["id"]
        ),
        (AuditKind::StepOutcome, Some(o)) if o != "done" => format!(
            "step {}: {o} {}",
            step.unwrap_or("?"),
            d.get("reason")
                .or(d.get("error"))
                .map(|v| v.to_string())
                .unwrap_or_default()
        ),
        (AuditKind::DeadLettered, _) => format!(
            "parked for a person: {}",
            d["reason"].as_str().unwrap_or("?")
        ),
        _ => return None,
    })
}

async fn run() -> demo::Result<()> {
    let deal = std::env::args().nth(1).unwrap_or_else(|| "1001".to_owned());
    let d = demo::Demo::start("trace").await?;
    d.book_deals(false).await?;
    d.bill_time(false).await?;
    d.release_invoices(false).await?;
    d.collect(false).await?;
    // What Odoo holds now, whoever changed it (a payment registered by hand shows here too).
    d.odoo_changes(false).await?;
    let contract = format!("hubspot-deal-{deal}").parse()?;
    let records = d.pipeline.trace(&correlation_for(&contract)).await?;
    if records.is_empty() {
        println!("Nothing is known of opportunity {deal}.");
        return Ok(());
    }
    println!("Opportunity {deal}: {} events\n", records.len());
    let mut last_step = std::collections::BTreeMap::new();
    let mut waiting = Vec::new();
    for r in &records {
        let e = &r.event;
        if let Some(text) = describe(&e.kind, e.step.as_deref(), e.outcome.as_deref(), &e.details) {
            println!("  {}  {text}", r.at.format("%H:%M:%S%.3f"));
        }
        let msg = e.message_id.map(|m| m.to_string()).unwrap_or_default();
        match e.kind {
            AuditKind::StepOutcome => {
                last_step.insert(msg, e.step.clone().unwrap_or_default());
            }
            AuditKind::DeadLettered => waiting.push((
                last_step.get(&msg).cloned().unwrap_or_default(),
                e.details
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
            )),
            _ => {}
        }
    }
    if waiting.is_empty() {
        println!("\nNothing is waiting on this opportunity.");
    }
    for (step, reason) in waiting {
        println!("\nWaiting for a person at step {step}: {reason}");
    }
    Ok(())
}
