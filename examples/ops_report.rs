//! Ops report: the numbers leaders ask for, as text and as a self-contained HTML page: stuck
//! contracts, unbilled approved time and its age, failed invoice releases, dead letters by
//! reason, and sync lag.
//!
//! ```sh
//! cargo run --example ops_report --all-features -- [report.html]
//! ```
//!
//! The page goes to the path given, or to the state folder. Without environment the whole
//! contract-to-cash run happens in-process first. Set `STATE_DIR` to report on an existing state,
//! and `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`, `HUBSPOT_TOKEN` (`HUBSPOT_URL`) for real
//! systems.

#[path = "data/demo.rs"]
mod demo;
#[path = "data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "data/flows_setup.rs"]
mod flows_setup;

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{NaiveDate, Utc};
use odoo_connect::sync::store::{
    AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, FailureClass, WorkQueue,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    demo::exit(run().await)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn run() -> demo::Result<()> {
    let d = demo::Demo::start("ops-report").await?;
    d.book_deals(false).await?;
    d.bill_time(false).await?;
    d.release_invoices(false).await?;
    d.collect(false).await?;

    let letters = d
        .store
        .list_dead_letters(&DeadLetterFilter::all().replayed(false))
        .await?;
    let today = Utc::now().date_naive();
    // Stuck contracts: every contract with a message waiting for a person.
    let mut stuck: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unbilled: Vec<(String, String, i64)> = Vec::new();
    let mut failed_releases = Vec::new();
    for dl in &letters {
        let lane = dl.envelope.lane.as_str().to_owned();
        let p = &dl.envelope.payload;
        match p["flow"].as_str() {
            Some("approved_time") => {
                let date = p["entry"]["date"]
                    .as_str()
                    .and_then(|t| t.parse::<NaiveDate>().ok());
                let age = date.map_or(0, |dt| (today - dt).num_days());
                unbilled.push((
                    p["entry"]["key"].as_str().unwrap_or("?").to_owned(),
                    p["entry"]["hours"].as_str().unwrap_or("?").to_owned(),
                    age,
                ));
            }
            Some("release_invoices") => {
                failed_releases.push(format!("{lane}: {}", dl.failure.reason))
            }
            _ => {}
        }
        let contract_flow = matches!(
            p["flow"].as_str(),
            Some("won_deal" | "approved_time" | "release_invoices")
        );
        if contract_flow && dl.failure.class == FailureClass::Business {
            stuck
                .entry(lane.trim_start_matches("contract:").to_owned())
                .or_default()
                .push(dl.failure.reason.clone());
        }
    }
    let reasons = d.store.count_by_reason().await?;
    let stats = d.store.stats().await?;
    let lag = stats
        .oldest_enqueued_at
        .map_or(0, |t| (Utc::now() - t).num_seconds().max(0));
    let last = d
        .store
        .query_audit(&AuditQuery::all())
        .await?
        .last()
        .map(|r| r.at);

    let mut text = String::new();
    writeln!(
        text,
        "Contract-to-cash operations report, {}",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    )?;
    writeln!(text, "\nStuck contracts ({}):", stuck.len())?;
    for (c, why) in &stuck {
        writeln!(text, "  {c}: {}", why.join("; "))?;
    }
    let hours: f64 = unbilled
        .iter()
        .filter_map(|(_, h, _)| h.parse::<f64>().ok())
        .sum();
    let oldest = unbilled.iter().map(|(_, _, a)| *a).max().unwrap_or(0);
    writeln!(
        text,
        "\nUnbilled approved time: {hours} h in {} entries, the oldest {oldest} days old",
        unbilled.len()
    )?;
    for (k, h, a) in &unbilled {
        writeln!(text, "  {k}: {h} h, {a} days")?;
    }
    writeln!(text, "\nFailed invoice releases: {}", failed_releases.len())?;
    for f in &failed_releases {
        writeln!(text, "  {f}")?;
    }
    writeln!(text, "\nDead letters by reason:")?;
    for r in &reasons {
        writeln!(
            text,
            "  {:>3} × {} ({})",
            r.count,
            r.reason,
            r.class.as_str()
        )?;
    }
    writeln!(
        text,
        "\nSync lag: {} message(s) waiting, the oldest for {lag} s; last activity {}",
        stats.depth,
        last.map_or("never".to_owned(), |t| t.format("%H:%M:%S").to_string())
    )?;
    print!("{text}");

    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Contract-to-cash operations</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}\
         td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}th{background:#f3f3f3}.n{text-align:right}</style></head><body>",
    );
    write!(
        html,
        "<h1>Contract-to-cash operations</h1><p>{}</p>",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    )?;
    write!(
        html,
        "<h2>Stuck contracts ({})</h2><table><tr><th>Contract</th><th>Why</th></tr>",
        stuck.len()
    )?;
    for (c, why) in &stuck {
        write!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(c),
            esc(&why.join("; "))
        )?;
    }
    write!(
        html,
        "</table><h2>Unbilled approved time ({hours} h)</h2><table><tr><th>Entry</th><th class=n>Hours</th><th class=n>Age (days)</th></tr>"
    )?;
    for (k, h, a) in &unbilled {
        write!(
            html,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{a}</td></tr>",
            esc(k),
            esc(h)
        )?;
    }
    write!(
        html,
        "</table><h2>Failed invoice releases ({})</h2><table><tr><th>Contract</th></tr>",
        failed_releases.len()
    )?;
    for f in &failed_releases {
        write!(html, "<tr><td>{}</td></tr>", esc(f))?;
    }
    write!(
        html,
        "</table><h2>Dead letters by reason</h2><table><tr><th>Reason</th><th>Class</th><th class=n>Count</th></tr>"
    )?;
    for r in &reasons {
        write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td></tr>",
            esc(&r.reason),
            r.class.as_str(),
            r.count
        )?;
    }
    write!(
        html,
        "</table><h2>Sync lag</h2><p>{} message(s) waiting, the oldest for {lag} s.</p></body></html>",
        stats.depth
    )?;
    let path = match std::env::args().nth(1) {
        Some(p) => std::path::PathBuf::from(p),
        None => d.state_dir.join("ops_report.html"),
    };
    std::fs::write(&path, html)?;
    println!("\nThe same report as a web page: {}", path.display());
    Ok(())
}
