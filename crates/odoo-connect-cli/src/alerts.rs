//! `odoo-connect alerts check`: evaluates the alert thresholds once and sends what has to be
//! sent (see `odoo_connect::ops::alerts`).
//!
//! Thresholds come from flags; channels from the environment, so that webhook URLs, the SMTP
//! password and the Jira token stay out of the process list and of `--help`:
//!
//! | channel | variables |
//! |---|---|
//! | Slack | `ALERT_SLACK_WEBHOOK_URL` |
//! | Microsoft Teams | `ALERT_TEAMS_WEBHOOK_URL` |
//! | email | `ALERT_SMTP_HOST`, `ALERT_SMTP_PORT` (25), `ALERT_EMAIL_FROM`, `ALERT_EMAIL_TO` (comma-separated), `ALERT_SMTP_USER` and `ALERT_SMTP_PASSWORD` (optional) |
//! | Jira Cloud | `ALERT_JIRA_URL`, `ALERT_JIRA_EMAIL`, `ALERT_JIRA_API_TOKEN`, `ALERT_JIRA_PROJECT`, `ALERT_JIRA_ISSUE_TYPE` (Task) |

use std::time::Duration;

use chrono::Utc;
use clap::{Args, Subcommand};
use odoo_connect::canonical::{Currency, Money};
use odoo_connect::ops::alerts::{
    AlertEngine, AlertError, AlertRules, EmailSmtp, JiraCloud, NoticeKind, SlackWebhook,
    TeamsWebhook,
};
use odoo_connect::ops::{CollectOptions, collect};
use rust_decimal::Decimal;

use crate::admin::parse_age;
use crate::state::{CliError, Odoo, OdooArgs, StateArgs, Store};

/// The options of `alerts`.
#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    /// What to do.
    #[command(subcommand)]
    command: AlertsCommand,
}

/// The `alerts` subcommands.
#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// Evaluate the thresholds once and send the notices due (one per condition and channel
    /// until it clears).
    Check(CheckArgs),
}

/// The options of `alerts check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// Alert when more than N dead letters are open.
    #[arg(long, value_name = "N")]
    dead_letters_above: Option<u64>,
    /// Alert when a business hold has waited longer than AGE (per legal entity).
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    holds_older_than: Option<Duration>,
    /// Alert when more than N contracts are stuck in one legal entity.
    #[arg(long, value_name = "N")]
    stuck_contracts_above: Option<usize>,
    /// Alert when the oldest queued message is older than AGE.
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    queue_older_than: Option<Duration>,
    /// Alert when a legal entity's unbilled value in a currency is above AMOUNT (`EUR:5000`;
    /// repeat for other currencies).
    #[arg(long, value_parser = parse_threshold, value_name = "CUR:AMOUNT")]
    unbilled_above: Vec<Money>,
    /// How long a condition that cleared stays quiet if it fires again.
    #[arg(long, value_parser = parse_age, value_name = "AGE", default_value = "1h")]
    quiet_period: Duration,
    /// Where the operations report is published (alerts link to it and to its traces).
    #[arg(long, env = "ALERT_REPORT_URL", value_name = "URL")]
    report_url: Option<String>,
    /// Print what fires, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where the sync state is.
    #[command(flatten)]
    state: StateArgs,
    /// How to reach Odoo (optional; only read when a rule needs the report).
    #[command(flatten)]
    odoo: OdooArgs,
}

/// `EUR:5000` or `EUR:5000.50`.
fn parse_threshold(s: &str) -> Result<Money, String> {
    let (code, amount) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not CUR:AMOUNT (for example EUR:5000)"))?;
    let currency = Currency::from_code(code.trim()).map_err(|e| e.to_string())?;
    let amount: Decimal = amount
        .trim()
        .parse()
        .map_err(|_| format!("{amount:?} is not an amount"))?;
    Ok(Money { amount, currency })
}

/// Runs `alerts`.
pub(crate) async fn run(args: AlertsArgs) -> Result<(), CliError> {
    match args.command {
        AlertsCommand::Check(args) => check(args).await,
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &'static str, channel: &str) -> Result<String, CliError> {
    env(name)
        .ok_or_else(|| CliError::BadArgument(format!("{channel} alerts need {name} to be set")))
}

fn rules(args: &CheckArgs) -> Result<AlertRules, AlertError> {
    let mut b = AlertRules::builder().quiet_period(args.quiet_period);
    if let Some(n) = args.dead_letters_above {
        b = b.dead_letters_above(n);
    }
    if let Some(age) = args.holds_older_than {
        b = b.holds_older_than(age);
    }
    if let Some(n) = args.stuck_contracts_above {
        b = b.stuck_contracts_above(n);
    }
    if let Some(age) = args.queue_older_than {
        b = b.queue_older_than(age);
    }
    for m in &args.unbilled_above {
        b = b.unbilled_above(*m);
    }
    if let Some(url) = &args.report_url {
        b = b.report_url(url.clone());
    }
    b.build()
}

/// The channels the environment configures.
fn channels(mut engine: AlertEngine) -> Result<AlertEngine, CliError> {
    let alert = CliError::Alerts;
    if let Some(url) = env("ALERT_SLACK_WEBHOOK_URL") {
        engine = engine
            .notifier(SlackWebhook::new(url).map_err(alert)?)
            .map_err(alert)?;
    }
    if let Some(url) = env("ALERT_TEAMS_WEBHOOK_URL") {
        engine = engine
            .notifier(TeamsWebhook::new(url).map_err(alert)?)
            .map_err(alert)?;
    }
    if let Some(host) = env("ALERT_SMTP_HOST") {
        let port = match env("ALERT_SMTP_PORT") {
            Some(p) => p
                .parse()
                .map_err(|_| CliError::BadArgument("ALERT_SMTP_PORT is not a port".to_owned()))?,
            None => 25,
        };
        let from = required("ALERT_EMAIL_FROM", "email")?;
        let to = required("ALERT_EMAIL_TO", "email")?;
        let to: Vec<String> = to.split(',').map(|t| t.trim().to_owned()).collect();
        let mut b = EmailSmtp::builder(host, port, from, to);
        if let Some(user) = env("ALERT_SMTP_USER") {
            let password = required("ALERT_SMTP_PASSWORD", "email")?;
            b = b.credentials(user, password);
        }
        engine = engine.notifier(b.build().map_err(alert)?).map_err(alert)?;
    }
    if let Some(url) = env("ALERT_JIRA_URL") {
        let mut b = JiraCloud::builder(
            url,
            required("ALERT_JIRA_EMAIL", "Jira")?,
            required("ALERT_JIRA_API_TOKEN", "Jira")?,
            required("ALERT_JIRA_PROJECT", "Jira")?,
        );
        if let Some(t) = env("ALERT_JIRA_ISSUE_TYPE") {
            b = b.issue_type(t);
        }
        engine = engine.notifier(b.build().map_err(alert)?).map_err(alert)?;
    }
    Ok(engine)
}

async fn check(args: CheckArgs) -> Result<(), CliError> {
    let rules = rules(&args).map_err(CliError::Alerts)?;
    let store = Store::open(&args.state).await?;
    let result = check_on(&args, rules, &store).await;
    store.close().await;
    result
}

async fn check_on(args: &CheckArgs, rules: AlertRules, store: &Store) -> Result<(), CliError> {
    let now = Utc::now();
    let report = if rules.needs_report() {
        let odoo = Odoo::connect(&args.odoo).await?;
        let mut options = CollectOptions::new(now.date_naive()).now(now);
        if let Some(odoo) = &odoo {
            options = options.odoo_links(odoo.links.clone());
        }
        Some(
            collect(store.as_state(), odoo.as_ref().map(|o| &o.client), &options)
                .await
                .map_err(|e| CliError::Collect(Box::new(e)))?,
        )
    } else {
        None
    };
    let engine = AlertEngine::new(rules, store.shared());
    if args.dry_run {
        let firing = engine
            .evaluate(report.as_ref(), now)
            .await
            .map_err(CliError::Alerts)?;
        for a in &firing {
            println!("firing {} [{}] {}", a.key, a.severity.as_str(), a.summary);
        }
        if firing.is_empty() {
            println!("nothing fires");
        }
        return Ok(());
    }
    let engine = channels(engine)?;
    let outcome = engine
        .check(report.as_ref(), now)
        .await
        .map_err(CliError::Alerts)?;
    for a in &outcome.firing {
        println!("firing {} [{}] {}", a.key, a.severity.as_str(), a.summary);
    }
    for s in &outcome.sent {
        let kind = match s.kind {
            NoticeKind::Firing => "firing",
            NoticeKind::Resolved => "resolved",
        };
        println!("sent {kind} {} to {}", s.key, s.channel);
    }
    for f in &outcome.failed {
        eprintln!(
            "odoo-connect: not sent: {} to {}: {}",
            f.key, f.channel, f.error
        );
    }
    if outcome.failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::AlertsNotSent {
            count: outcome.failed.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse() {
        let m = parse_threshold("EUR:5000.50");
        assert!(matches!(m, Ok(Money { currency, .. }) if currency == Currency::EUR));
        assert!(parse_threshold("5000").is_err());
        assert!(parse_threshold("EUR:lots").is_err());
    }
}
