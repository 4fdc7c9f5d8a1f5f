//! The contract-to-cash run the examples share: fakes (or real systems from the environment),
//! the flows, a pipeline on SQLite in a temporary folder, and the three flows one after another.
//!
//! Environment (all optional; without them everything runs in-process):
//! - `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`: a real Odoo;
//! - `HUBSPOT_URL` (default `https://api.hubapi.com`), `HUBSPOT_TOKEN`: a real HubSpot portal;
//! - `TIME_CSV`: an approved-time export to read instead of `examples/data/approved_time.csv`;
//! - `CAMT053`: a bank statement to read instead of one made for the open invoices;
//! - `STATE_DIR`: where the SQLite state goes (a temporary folder by default).
#![allow(dead_code)]

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::flows::{Flows, WonDeal};
use odoo_connect::odoo::OdooClient;
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::pipeline::{Pipeline, RunReport};
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;

use crate::fake_hubspot::{self, FakeHubSpot};
use crate::flows_setup;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Everything a run holds.
pub struct Demo {
    pub fake: Option<FakeOdoo>,
    pub hub: Option<FakeHubSpot>,
    pub hub_url: String,
    pub hub_token: String,
    pub flows: Flows,
    pub store: Arc<SqliteStore>,
    pub pipeline: Pipeline<SqliteStore>,
    pub state_dir: PathBuf,
}

/// A text progress bar on one line.
pub fn progress(label: &str, done: usize, total: usize) {
    let width = 24;
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    print!(
        "\r  {label} [{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let _ = std::io::stdout().flush();
    if done >= total {
        println!();
    }
}

impl Demo {
    /// Starts the fakes (or connects to the systems the environment names).
    pub async fn start(name: &str) -> Result<Demo> {
        Demo::start_with(name, true).await
    }

    /// Starts the fakes whatever the environment names (for tests written for the fakes).
    pub async fn start_on_fakes(name: &str) -> Result<Demo> {
        Demo::start_with(name, false).await
    }

    async fn start_with(name: &str, from_env: bool) -> Result<Demo> {
        let env = |k: &str| {
            if from_env {
                std::env::var(k)
            } else {
                Err(std::env::VarError::NotPresent)
            }
        };
        let (odoo, fake) = match env("ODOO_URL") {
            Ok(url) => {
                let odoo = OdooClient::builder(url.clone())
                    .database(std::env::var("ODOO_DB").unwrap_or_default())
                    .api_key(
                        std::env::var("ODOO_LOGIN").unwrap_or_else(|_| "admin".into()),
                        std::env::var("ODOO_API_KEY")?,
                    )
                    .build()?;
                println!("Odoo: {url}");
                (odoo, None)
            }
            Err(_) => {
                // A freshly installed Odoo with its demo data and nothing of ours
                // (`FAKE_ODOO_SEED=full` starts from the testkit's richer seed instead).
                let fake = match std::env::var("FAKE_ODOO_SEED").as_deref() {
                    Ok("full") => FakeOdoo::start().await,
                    _ => FakeOdoo::builder().demo_data_only().start().await,
                };
                println!(
                    "Odoo: no ODOO_URL set, using an in-process Odoo 19 with demo data at {}",
                    fake.url()
                );
                (flows_setup::odoo_connect_client(&fake)?, Some(fake))
            }
        };
        // What the flows need in Odoo: `--dry-run` prints the plan and stops.
        let setup = flows_setup::setup()?;
        let plan = setup.plan(&odoo).await?;
        if std::env::args().any(|a| a == "--dry-run") {
            println!("Setup plan:\n{plan}");
            std::process::exit(if plan.is_ready() { 0 } else { 1 });
        }
        let changes = plan.changes().count();
        if changes > 0 {
            println!(
                "Setup: {changes} thing(s) to create in Odoo (run with --dry-run to see them)"
            );
        }
        let (hub, hub_url, hub_token) = match env("HUBSPOT_TOKEN") {
            Ok(token) => {
                let url = std::env::var("HUBSPOT_URL")
                    .unwrap_or_else(|_| "https://api.hubapi.com".into());
                println!("CRM: HubSpot at {url}");
                (None, url, token)
            }
            Err(_) => {
                let hub = FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
                println!(
                    "CRM: no HUBSPOT_TOKEN set, using an in-process HubSpot at {}",
                    hub.uri()
                );
                let url = hub.uri();
                (Some(hub), url, fake_hubspot::TOKEN.to_owned())
            }
        };
        let state_dir = match env("STATE_DIR") {
            Ok(d) => PathBuf::from(d),
            Err(_) => {
                std::env::temp_dir().join(format!("odoo-connect-{name}-{}", std::process::id()))
            }
        };
        std::fs::create_dir_all(&state_dir)?;
        let store = Arc::new(SqliteStore::open(state_dir.join("state.sqlite")).await?);
        println!("State: {}\n", state_dir.join("state.sqlite").display());
        let crm = HubSpot::builder(hub_token.clone())
            .base_url(hub_url.clone())
            .legal_entity("firm-eu".parse()?)
            .build()?;
        let flows = flows_setup::flows(odoo).await?.with_sink(Arc::new(crm));
        let pipeline = flows_setup::pipeline(&flows, store.clone());
        Ok(Demo {
            fake,
            hub,
            hub_url,
            hub_token,
            flows,
            store,
            pipeline,
            state_dir,
        })
    }

    /// Lead to project: pulls the won deals and books them.
    pub async fn book_deals(&self, say: bool) -> Result<Vec<WonDeal>> {
        let deals = flows_setup::won_deals(&self.hub_url, &self.hub_token).await?;
        if say {
            println!("{} deals are closed-won in the CRM:", deals.len());
            for d in &deals {
                println!("  {:<28} for {}", d.contract.title, d.client.legal_name);
            }
        }
        let envelopes = deals
            .iter()
            .map(|d| self.flows.deal_envelope(d))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.pipeline.submit_batch(&envelopes).await?;
        self.run(say, "Booking deals", envelopes.len()).await?;
        Ok(deals)
    }

    /// Time to invoice: reads the approved-time export and bills it.
    pub async fn bill_time(&self, say: bool) -> Result<(usize, usize, usize)> {
        let text = match std::env::var("TIME_CSV") {
            Ok(path) => std::fs::read_to_string(path)?,
            Err(_) => flows_setup::APPROVED_TIME_CSV.to_owned(),
        };
        let (entries, rejected, skipped) = flows_setup::read_time_csv(&text)?;
        for r in &rejected {
            self.flows
                .park_rejected(self.store.as_ref(), "psa", r)
                .await?;
        }
        let envelopes = entries
            .iter()
            .map(|e| self.flows.time_envelope(e, "psa"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.pipeline.submit_batch(&envelopes).await?;
        self.run(say, "Billing time", envelopes.len()).await?;
        Ok((entries.len(), rejected.len(), skipped))
    }

    /// Posts the draft invoices of every contract.
    pub async fn release_invoices(&self, say: bool) -> Result<()> {
        let envelopes = self
            .flows
            .book()
            .all()
            .iter()
            .map(|b| self.flows.release_envelope(&b.contract.key, "2025-03"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.pipeline.submit_batch(&envelopes).await?;
        self.run(say, "Releasing invoices", envelopes.len()).await?;
        Ok(())
    }

    /// Invoice to cash: the bank statement's credits as payments; returns what the matcher
    /// reported of the credits not registered before, and how many were (left out).
    pub async fn collect(
        &self,
        say: bool,
    ) -> Result<(odoo_connect::connector::camt053::MatchReport, usize)> {
        let xml = match std::env::var("CAMT053") {
            Ok(path) => std::fs::read_to_string(path)?,
            Err(_) => {
                let xml = flows_setup::sample_statement(&self.flows).await?;
                std::fs::write(self.state_dir.join("statement.camt053.xml"), &xml)?;
                xml
            }
        };
        let (payments, report) = flows_setup::statement_payments(&self.flows, &xml).await?;
        let (payments, known) = flows_setup::split_registered(&self.flows, payments).await?;
        if say {
            for (p, name) in &known {
                println!(
                    "  {} \"{}\" is already registered in Odoo as {name}",
                    p.amount.formatted(),
                    p.reference
                );
            }
        }
        let envelopes = payments
            .iter()
            .map(|(p, c)| self.flows.payment_envelope(p, c.as_ref(), "bank"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.pipeline.submit_batch(&envelopes).await?;
        self.run(say, "Registering payments", envelopes.len())
            .await?;
        // What the matcher says of the credits not registered before.
        let old: Vec<&str> = known
            .iter()
            .filter_map(|(p, _)| p.refs.get("bank"))
            .collect();
        let mut report = report;
        report
            .matched
            .retain(|m| !old.contains(&m.credit.id.as_str()));
        report
            .partial
            .retain(|m| !old.contains(&m.credit.id.as_str()));
        report
            .unmatched
            .retain(|u| !old.contains(&u.credit.id.as_str()));
        Ok((report, known.len()))
    }

    /// Odoo as a source: pulls the invoices and payments changed in Odoo since the contracts
    /// were booked (by whoever changed them) from the checkpoint, and runs the queue, which
    /// writes their status to the CRM deals. Returns how many changes were new.
    pub async fn odoo_changes(&self, say: bool) -> Result<u64> {
        use odoo_connect::odoo::{Domain, value::datetime};
        let orders: Vec<String> = self
            .flows
            .book()
            .all()
            .into_iter()
            .map(|b| b.order_name)
            .collect();
        let created: Vec<serde_json::Value> = self
            .flows
            .odoo()
            .model_named::<serde_json::Value>("sale.order")
            .search_read(Domain::new().is_in("name", orders))
            .fields(["create_date"])
            .await?;
        let since = created
            .iter()
            .filter_map(|o| datetime::parse(o["create_date"].as_str()?).ok())
            .min();
        let mut feed = self.flows.odoo_changes().with_facts(self.store.clone());
        if let Some(since) = since {
            feed = feed.since(since);
        }
        let report = self
            .pipeline
            .pull_from(&feed, &feed.checkpoint_key(), |c| {
                self.flows.odoo_change_envelope(c)
            })
            .await?;
        self.run(say, "Changes from Odoo", report.enqueued as usize)
            .await?;
        Ok(report.enqueued)
    }

    /// Runs the queue until it is empty, with a progress bar, then lists every dead letter and
    /// hold this run produced, with its reason.
    pub async fn run(&self, say: bool, label: &str, total: usize) -> Result<RunReport> {
        let started = chrono::Utc::now();
        let mut sum = RunReport::default();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let r = self.pipeline.process_batch("worker-1").await?;
            sum += &r;
            let settled = (sum.done + sum.skipped + sum.held + sum.failed) as usize;
            if say {
                progress(label, settled.min(total), total);
            }
            let depth = odoo_connect::sync::store::WorkQueue::stats(self.store.as_ref())
                .await?
                .depth;
            if depth == 0 || std::time::Instant::now() > deadline {
                if say && settled < total {
                    println!();
                }
                if depth > 0 {
                    println!("  {label}: {depth} message(s) still queued after two minutes");
                }
                break;
            }
            if r.leased == 0 {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        // Whatever the run parked, said now rather than left in a report nobody reads.
        let parked = self
            .store
            .list_dead_letters(&DeadLetterFilter::all().parked_between(started, chrono::Utc::now()))
            .await?;
        if !parked.is_empty() {
            println!("  {label}: {} message(s) parked:", parked.len());
            for d in &parked {
                let kind = match d.failure.class {
                    FailureClass::Business => "held",
                    _ => "dead letter",
                };
                println!(
                    "    {kind} {}: {}{}",
                    d.envelope.idempotency_key,
                    d.failure.reason,
                    d.failure
                        .errors
                        .first()
                        .filter(|e| !d.failure.reason.contains(e.as_str()))
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
        }
        Ok(sum)
    }
}

/// An Odoo amount (a JSON number) in `currency`, as people read it (`20,000.00 EUR`).
pub fn money(v: &serde_json::Value, currency: odoo_connect::canonical::Currency) -> String {
    odoo_connect::odoo::value::decimal_from_value(v)
        .map(|d| odoo_connect::canonical::Money::new(d, currency).formatted())
        .unwrap_or_else(|| format!("? {currency}"))
}

/// An Odoo amount with the currency of its record (`currency_id` read as `[id, "EUR"]`).
pub fn money_of(record: &serde_json::Value, field: &str) -> String {
    let currency = record["currency_id"]
        .get(1)
        .and_then(serde_json::Value::as_str)
        .and_then(|c| c.parse().ok())
        .unwrap_or(odoo_connect::canonical::Currency::USD);
    money(&record[field], currency)
}

/// Runs `body`, printing the error chain on failure.
pub fn exit(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("failed: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
