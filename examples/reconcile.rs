//! Reconcile: what differs between the CRM and Odoo, deal by deal: deals missing in Odoo, orders
//! Odoo has that the CRM does not, and fields that disagree.
//!
//! ```sh
//! cargo run --example reconcile --all-features
//! ```
//!
//! Without environment everything runs in-process: two of the three won deals are booked, and
//! someone renames a customer in Odoo by hand. Set `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`,
//! `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) to compare real systems (nothing is written
//! then); `STATE_DIR` keeps the sync state.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use std::collections::BTreeMap;

use odoo_connect::odoo::{Domain, Values};
use odoo_connect::sync::reconcile::{Compare, FieldRule, reconcile};
use serde_json::{Map, Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

fn row(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("reconcile").await?;
    let deals = flows_setup::won_deals(&d.hub_url, &d.hub_token).await?;
    let odoo = d.flows.odoo();
    if d.fake.is_some() {
        // Book two deals of three, then a customer is renamed in Odoo by hand.
        let first_two: Vec<_> = deals.iter().take(2).cloned().collect();
        let envs = first_two
            .iter()
            .map(|x| d.flows.deal_envelope(x))
            .collect::<Result<Vec<_>, _>>()?;
        d.pipeline.submit_batch(&envs).await?;
        d.run(false, "", envs.len()).await?;
        if let Some(b) = d
            .flows
            .book()
            .all()
            .into_iter()
            .find(|b| b.contract.key.as_str().ends_with("1002"))
        {
            odoo.model_named::<Value>("res.partner")
                .write(
                    &[b.partner_id],
                    &Values::new().set("name", "Globex (do not use)"),
                )
                .await?;
        }
    }
    let crm: BTreeMap<String, Map<String, Value>> = deals
        .iter()
        .map(|x| {
            (
                x.contract.key.to_string(),
                row(&[
                    ("client", json!(x.client.legal_name)),
                    ("status", json!("confirmed")),
                ]),
            )
        })
        .collect();
    let orders: Vec<Value> = odoo
        .model_named::<Value>("sale.order")
        .search_read(Domain::new().eq_like("origin", "hubspot-deal-%"))
        .fields(["origin", "partner_id", "state"])
        .await?;
    let erp: BTreeMap<String, Map<String, Value>> = orders
        .iter()
        .filter_map(|o| {
            let state = if o["state"] == "sale" {
                "confirmed"
            } else {
                "quotation"
            };
            Some((
                o["origin"].as_str()?.to_owned(),
                row(&[
                    ("client", o["partner_id"][1].clone()),
                    ("status", json!(state)),
                ]),
            ))
        })
        .collect();
    let report = reconcile(
        "hubspot",
        &crm,
        &erp,
        &[
            FieldRule::same("client", Compare::Text),
            FieldRule::same("status", Compare::Exact),
        ],
    );
    println!("CRM deals against Odoo sale orders:\n");
    println!("  in both and the same: {}", report.matched);
    for k in &report.missing_in_odoo {
        println!("  won in the CRM, no contract in Odoo: {k}");
    }
    for k in &report.missing_in_source {
        println!("  a contract in Odoo the CRM does not know: {k}");
    }
    for m in &report.mismatched {
        println!(
            "  {}: the {} is {} in the CRM but {} in Odoo",
            m.key, m.field, m.source, m.odoo
        );
    }
    println!("\n{report}");
    Ok(())
}
