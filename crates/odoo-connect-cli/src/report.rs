//! `odoo-connect report`: the operations report as text or JSON, and as one HTML page.

use std::io::Write;
use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::Args;
use odoo_connect::ops::{CollectOptions, Report, collect};

use crate::state::{CliError, Odoo, OdooArgs, StateArgs, Store};

/// The options of `report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Also write the report as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The day ages and due dates are counted from (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<NaiveDate>,
    /// The CRM's URL of a deal, with `{id}` where the deal's id goes
    /// (`https://app.hubspot.com/contacts/123/deal/{id}`).
    #[arg(long, env = "CRM_DEAL_URL", value_name = "TEMPLATE", value_parser = deal_url_template)]
    crm_deal_url: Option<String>,
    /// Where the sync state is.
    #[command(flatten)]
    state: StateArgs,
    /// How to reach Odoo (optional).
    #[command(flatten)]
    odoo: OdooArgs,
}

/// A CRM deal URL template must say where the id goes.
fn deal_url_template(s: &str) -> Result<String, String> {
    if s.contains("{id}") {
        Ok(s.to_owned())
    } else {
        Err("the template must contain {id}, where the deal's id goes".to_owned())
    }
}

/// Collects the report and prints or writes it.
pub(crate) async fn run(args: ReportArgs) -> Result<(), CliError> {
    let store = Store::open(&args.state).await?;
    let result = report(&args, &store).await;
    store.close().await;
    let report = result?;

    if let Some(path) = &args.html {
        std::fs::write(path, report.to_html()).map_err(|source| CliError::WriteHtml {
            path: path.clone(),
            source,
        })?;
    }
    let mut out = if args.json {
        report.to_json().map_err(CliError::Json)?
    } else {
        report.to_text()
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(CliError::Stdout(e));
        }
        _ => {}
    }
    if let Some(path) = &args.html {
        eprintln!("odoo-connect: wrote the HTML report to {}", path.display());
    }
    Ok(())
}

async fn report(args: &ReportArgs, store: &Store) -> Result<Report, CliError> {
    let now = Utc::now();
    let as_of = args.as_of.unwrap_or_else(|| now.date_naive());
    let odoo = Odoo::connect(&args.odoo).await?;
    let mut options = CollectOptions::new(as_of).now(now);
    if let Some(odoo) = &odoo {
        options = options.odoo_links(odoo.links.clone());
    }
    if let Some(template) = &args.crm_deal_url {
        options = options.crm_deal_url(template.clone());
    }
    collect(store.as_state(), odoo.as_ref().map(|o| &o.client), &options)
        .await
        .map_err(|e| CliError::Collect(Box::new(e)))
}
