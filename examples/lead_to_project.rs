//! Lead to project: closed-won deals in the CRM become clients, confirmed contracts and projects
//! with their milestones in Odoo, each exactly once.
//!
//! ```sh
//! cargo run --example lead_to_project --all-features
//! ```
//!
//! Without environment everything runs in-process (a fake Odoo and a fake HubSpot). Against real
//! systems set `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`, `HUBSPOT_TOKEN` (and
//! `HUBSPOT_URL`); `STATE_DIR` keeps the sync state between runs.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use odoo_connect::odoo::Domain;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("lead-to-project").await?;
    d.book_deals(true).await?;
    // Run again, as a scheduler would: nothing is created twice.
    d.book_deals(false).await?;
    let odoo = d.flows.odoo();
    println!("\nWhat is now in Odoo:");
    for b in d.flows.book().all() {
        let order: Vec<Value> = odoo
            .model_named::<Value>("sale.order")
            .read([b.order_id])
            .fields([
                "name",
                "state",
                "amount_untaxed",
                "currency_id",
                "company_id",
            ])
            .await?;
        let milestones: Vec<Value> = odoo
            .model_named::<Value>("project.milestone")
            .search_read(Domain::new().eq("project_id", b.project_id.get()))
            .fields(["name"])
            .await?;
        let o = order.first().cloned().unwrap_or(Value::Null);
        println!(
            "  {} for client #{}: contract {} ({}) in {}, {} plus time and materials, project #{} with {} milestones: {}",
            b.contract.title,
            b.partner_id,
            o["name"].as_str().unwrap_or("?"),
            if o["state"] == "sale" {
                "confirmed"
            } else {
                "not confirmed"
            },
            o["company_id"][1].as_str().unwrap_or("?"),
            demo::money_of(&o, "amount_untaxed"),
            b.project_id,
            milestones.len(),
            milestones
                .iter()
                .filter_map(|m| m["name"].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if let Some(fake) = &d.fake {
        println!(
            "\nChecked after running twice: {} new customers, {} contracts, {} projects (one per deal; two deals share a client).",
            fake.count_where(
                "res.partner",
                serde_json::json!([["ref", "=like", "hubspot-company-%"]])
            ),
            fake.count_where(
                "sale.order",
                serde_json::json!([["origin", "=like", "hubspot-deal-%"]])
            ),
            d.flows.book().all().len(),
        );
    }
    Ok(())
}
