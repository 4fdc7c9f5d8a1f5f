//! Ops report: what finance, delivery and operations leads look for at month-end, with money,
//! age and trend: stuck contracts (reason, age, deal value), unbilled approved time (value and age
//! buckets), failed invoice releases, invoices unpaid past due, unmatched bank credits, revenue
//! posted against the revenue schedule, dead letters by reason and class, and sync lag with its
//! last 24 hours; each row linked to Odoo and the CRM, each deal to its trace.
//!
//! ```sh
//! cargo run --example ops_report --all-features -- [report.html] [--json] [--as-of YYYY-MM-DD]
//! ```
//!
//! It prints the report as text (or as JSON with `--json`) and writes it as one self-contained
//! HTML page (inline CSS and SVG charts, no network) to the path given, or to `ops_report.html`
//! in the state folder. The report is as of today unless `--as-of` says otherwise. Without
//! environment the whole contract-to-cash run happens in-process first (FakeOdoo, a fake HubSpot,
//! SQLite). Set `STATE_DIR` to keep the state, and `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`,
//! `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for real systems; `HUBSPOT_PORTAL` makes the
//! deals link to `app.hubspot.com`.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use chrono::{NaiveDate, Utc};
use odoo_connect::ops::{CollectOptions, collect};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

async fn run() -> demo::Result<()> {
    let mut path = None;
    let mut json = false;
    let mut as_of = Utc::now().date_naive();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--as-of" => {
                let day = args.next().ok_or("--as-of needs a date (YYYY-MM-DD)")?;
                as_of = day
                    .parse::<NaiveDate>()
                    .map_err(|e| format!("--as-of {day}: {e}"))?;
            }
            other => path = Some(std::path::PathBuf::from(other)),
        }
    }

    let d = demo::Demo::start("ops-report").await?;
    d.book_deals(false).await?;
    d.bill_time(false).await?;
    d.release_invoices(false).await?;
    d.collect(false).await?;

    // The approved time recognised as revenue: the same export the run billed.
    let csv = match std::env::var("TIME_CSV") {
        Ok(p) => std::fs::read_to_string(p)?,
        Err(_) => flows_setup::APPROVED_TIME_CSV.to_owned(),
    };
    let (entries, _, _) = flows_setup::read_time_csv(&csv)?;
    let crm_url = match std::env::var("HUBSPOT_PORTAL") {
        Ok(portal) => format!("https://app.hubspot.com/contacts/{portal}/record/0-3/{{id}}"),
        // The fake HubSpot serves its deals at the v3 objects route.
        Err(_) => format!("{}/crm/v3/objects/deals/{{id}}", d.hub_url),
    };
    let options = CollectOptions::new(as_of)
        .booked(d.flows.book().all())
        .time_entries(entries)
        .crm_deal_url(crm_url)
        .company(1, "firm-eu".parse()?);
    let started = std::time::Instant::now();
    let report = collect(d.store.as_ref(), Some(d.flows.odoo()), &options).await?;
    let collected = started.elapsed();

    if json {
        println!("{}", report.to_json()?);
    } else {
        print!("{}", report.to_text());
    }
    let html = report.to_html();
    let path = path.unwrap_or_else(|| d.state_dir.join("ops_report.html"));
    std::fs::write(&path, html)?;
    if !json {
        println!(
            "\nCollected in {} ms. The same report as a web page: {}",
            collected.as_millis(),
            path.display()
        );
    } else {
        eprintln!("The same report as a web page: {}", path.display());
    }
    Ok(())
}
