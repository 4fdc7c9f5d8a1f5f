//! `odoo-connect`: the operator command line of the odoo-connect SDK (`cargo install odoo-connect-cli`).
//!
//! ```sh
//! odoo-connect status --sqlite state.sqlite                   # queue depth, lag, dead letters
//! odoo-connect dead-letters list --sqlite state.sqlite
//! odoo-connect dead-letters replay ID --corrected fixed.json --operator ann --sqlite state.sqlite
//! odoo-connect trace 4711 --sqlite state.sqlite               # deal 4711's audit trail
//! odoo-connect queue list --state ready --older-than 1h --sqlite state.sqlite
//! odoo-connect purge --dry-run --sqlite state.sqlite
//! odoo-connect report --state state.sqlite                    # the text report
//! odoo-connect report --state state.sqlite --json             # the same as JSON
//! odoo-connect report --state state.sqlite --html report.html # and the page, one file
//! DATABASE_URL=postgres://... odoo-connect report --schema odoo_connect
//! ALERT_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... \
//!   odoo-connect alerts check --dead-letters-above 0 --queue-older-than 30m --state state.sqlite
//! ```
//!
//! The state is an existing SQLite file (`--state`) or a PostgreSQL database (`--database-url`,
//! else `DATABASE_URL`). With `ODOO_URL` (and `ODOO_DB`, `ODOO_LOGIN`, and `ODOO_API_KEY`,
//! `ODOO_API_KEY_FILE`, `ODOO_VAULT_SECRET` with `VAULT_ADDR`, or `ODOO_PASSWORD`) the report
//! also asks Odoo for overdue invoices and posted revenue, and links rows to that server. Exit status: 0 when done, 1 when the report could not be made (the error
//! and its causes on standard error), 2 on bad usage.
//!
//! Each subcommand is a variant of [`Command`] with a module of its own; they share how the
//! state and Odoo are reached ([`state`]).

mod admin;
mod alerts;
mod report;
mod state;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "odoo-connect",
    version,
    about = "Operator command line of odoo-connect: status, dead letters, traces, the queue, retention and reports on the sync state",
    propagate_version = true
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// The operations report: stuck contracts, unbilled work, failed releases, overdue
    /// invoices, unmatched credits, revenue mismatches, dead letters and sync lag.
    Report(report::ReportArgs),
    /// Queue depth by state, lag, and the open dead letters by reason.
    Status(admin::StatusArgs),
    /// List, show and replay dead letters.
    DeadLetters(admin::DeadLettersArgs),
    /// The audit trail of one chain of events (a correlation id or a CRM deal id).
    Trace(admin::TraceArgs),
    /// List the queue by state, flow, lane and age.
    Queue(admin::QueueArgs),
    /// Delete what the retention policy no longer keeps (`--dry-run` to count only).
    Purge(admin::PurgeArgs),
    /// Alert thresholds: `check` evaluates them and sends what is due to Slack, Teams, email
    /// and Jira (channels from `ALERT_*` variables).
    Alerts(alerts::AlertsArgs),
}

fn main() -> ExitCode {
    // Bad usage exits 2 with clap's message; `--help` and `--version` exit 0.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&state::CliError::Runtime(e)),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Report(args) => report::run(args).await,
            Command::Status(args) => admin::status(args).await,
            Command::DeadLetters(args) => admin::dead_letters(args).await,
            Command::Trace(args) => admin::trace(args).await,
            Command::Queue(args) => admin::queue(args).await,
            Command::Purge(args) => admin::purge(args).await,
            Command::Alerts(args) => alerts::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints the error and its causes on standard error and gives exit status 1.
fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("odoo-connect: error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::FAILURE
}
