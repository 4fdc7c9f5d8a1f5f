//! Alerts: thresholds over the state store and the operations report, sent once per condition
//! to Slack, Microsoft Teams, email and Jira Cloud (feature `alerts`).
//!
//! [`AlertRules`] says what fires: open dead letters above a count, business holds waiting
//! longer than a duration, too many stuck contracts per legal entity, a checkpoint that has not
//! moved, the oldest queued message older than a duration, unbilled value above an amount (per
//! legal entity and per currency: amounts in different currencies are never added together).
//! [`AlertEngine::check`] evaluates them at a given time and sends what has to be sent to every
//! [`Notifier`]: [`SlackWebhook`], [`TeamsWebhook`], [`EmailSmtp`], [`JiraCloud`], or a firm's
//! own.
//!
//! # One notice per condition, durably
//!
//! Each condition has a stable key (`dead_letters`, `holds:<entity>`,
//! `unbilled:<entity>:<currency>`, ...). For every key and every channel the engine keeps a
//! small state in the store's [`Checkpoints`] (connector `odoo-connect-alerts`, legal entity
//! `alerts`, the stream being `<key>@<channel>`): firing since, notified or not, last sent,
//! cleared at. A notice is sent only by the evaluator whose compare-and-set
//! ([`Checkpoints::commit_checkpoint`]) moved that state from "not notified" to "notified":
//! two runs, or two workers on one store, racing on the same condition send it once; the loser
//! sees a conflict and sends nothing. When the send fails, the claim is given back (the state
//! is put back to "not notified"), so the next evaluation tries again; a process that dies
//! between the claim and the send loses that one notice (at most once per claim).
//!
//! - A condition that starts firing sends one firing notice per channel.
//! - While it keeps firing, nothing more is sent.
//! - When it clears, one resolved notice per channel that was told it fired.
//! - When it fires again within the quiet period ([`AlertRulesBuilder::quiet_period`], counted
//!   from the last notice on that channel), nothing is sent; if it still fires once the quiet
//!   period is over, the firing notice goes out then.
//!
//! The keys ever seen are listed in one more checkpoint (stream `index`), so a condition whose
//! legal entity disappeared from the report still clears.
//!
//! ```
//! use std::time::Duration;
//! use odoo_connect_ops::alerts::AlertRules;
//!
//! let rules = AlertRules::builder()
//!     .dead_letters_above(0)
//!     .holds_older_than(Duration::from_secs(24 * 3600))
//!     .queue_older_than(Duration::from_secs(30 * 60))
//!     .quiet_period(Duration::from_secs(3600))
//!     .report_url("https://ops.example.com/report.html")
//!     .build()?;
//! assert_eq!(rules.quiet_period(), Duration::from_secs(3600));
//! # Ok::<(), odoo_connect_ops::alerts::AlertError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use odoo_connect_canonical::{Currency, Money};
use odoo_connect_sync::async_trait;
use odoo_connect_sync::key::LegalEntityKey;
use odoo_connect_sync::store::{
    CheckpointKey, Checkpoints, DeadLetterFilter, DeadLetters, StateStore, StoreError, WorkQueue,
};

use crate::Report;

mod channels;
mod smtp;

pub use channels::{JiraCloud, JiraCloudBuilder, SlackWebhook, TeamsWebhook};
pub use smtp::{EmailSmtp, EmailSmtpBuilder};

/// The connector name the alert states are kept under in [`Checkpoints`].
pub const STATE_CONNECTOR: &str = "odoo-connect-alerts";
/// The legal entity the alert states are kept under in [`Checkpoints`].
pub const STATE_ENTITY: &str = "alerts";
const INDEX_STREAM: &str = "index";
const CAS_ATTEMPTS: usize = 8;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Condition {
    /// Open (not replayed) dead letters above the threshold.
    DeadLetters,
    /// Business holds (stuck contracts) waiting longer than the threshold.
    HoldWaiting,
    /// More stuck contracts in one legal entity than the threshold.
    StuckContracts,
    /// A checkpoint that has not moved for longer than the threshold.
    CheckpointStale,
    /// The oldest unfinished queued message older than the threshold.
    QueueLag,
    /// Unbilled value of one legal entity above the threshold in one currency.
    Unbilled,
}

impl Condition {
    /// The condition's name, as in alert keys (`dead_letters`, `hold_waiting`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::DeadLetters => "dead_letters",
            Condition::HoldWaiting => "hold_waiting",
            Condition::StuckContracts => "stuck_contracts",
            Condition::CheckpointStale => "checkpoint_stale",
            Condition::QueueLag => "queue_lag",
            Condition::Unbilled => "unbilled",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Someone should look today.
    Warning,
    /// Money or data is stuck now.
    Critical,
}

impl Severity {
    /// `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One value an alert saw, with its label (`open dead letters` = `3`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// What was measured.
    pub label: String,
    /// What was seen, formatted.
    pub value: String,
}

impl Observed {
    fn new(label: impl Into<String>, value: impl Into<String>) -> Observed {
        Observed {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// A condition found firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Alert {
    /// The stable key of the condition (`dead_letters`, `holds:firm-eu`,
    /// `unbilled:firm-eu:EUR`, ...): one alert per key until it clears.
    pub key: String,
    /// What it is about.
    pub condition: Condition,
    /// The legal entity, when the condition belongs to one.
    pub legal_entity: Option<String>,
    /// How urgent.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub summary: String,
    /// The values seen, against the threshold.
    pub observed: Vec<Observed>,
    /// The operations report ([`AlertRulesBuilder::report_url`]).
    pub report_url: Option<String>,
    /// The correlation id of the message this is about, when there is one.
    pub correlation_id: Option<String>,
    /// The trace of that message in the operations report, when both are known.
    pub trace_url: Option<String>,
}

/// Whether a notice says a condition fires or cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The condition fires.
    Firing,
    /// The condition cleared.
    Resolved,
}

/// What a [`Notifier`] is asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notice {
    /// Firing or resolved.
    pub kind: NoticeKind,
    /// The alert (for a resolved notice: as it was when last seen firing).
    pub alert: Alert,
    /// When the condition started firing.
    pub since: DateTime<Utc>,
    /// When the notice was made.
    pub at: DateTime<Utc>,
    /// For a resolved notice, what this channel returned for the firing one (the Jira issue
    /// key, for example).
    pub reference: Option<String>,
}

impl Notice {
    /// A notice (for firms testing their own [`Notifier`]).
    pub fn new(kind: NoticeKind, alert: Alert, since: DateTime<Utc>, at: DateTime<Utc>) -> Notice {
        Notice {
            kind,
            alert,
            since,
            at,
            reference: None,
        }
    }

    /// With the channel's reference of the firing notice.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Notice {
        self.reference = Some(reference.into());
        self
    }

    /// The title every channel shows: `[CRITICAL] 3 open dead letters` or
    /// `[RESOLVED] 3 open dead letters`.
    pub fn title(&self) -> String {
        let tag = match self.kind {
            NoticeKind::Firing => self.alert.severity.as_str().to_ascii_uppercase(),
            NoticeKind::Resolved => "RESOLVED".to_owned(),
        };
        format!("[{tag}] {}", self.alert.summary)
    }

    /// The notice as plain text lines (title, entity, values, since, links), for email and
    /// fallbacks.
    pub fn text_lines(&self) -> Vec<String> {
        let mut lines = vec![self.title()];
        if let Some(entity) = &self.alert.legal_entity {
            lines.push(format!("Legal entity: {entity}"));
        }
        for o in &self.alert.observed {
            lines.push(format!("{}: {}", o.label, o.value));
        }
        lines.push(format!("Firing since: {}", self.since.to_rfc3339()));
        if self.kind == NoticeKind::Resolved {
            lines.push(format!("Resolved at: {}", self.at.to_rfc3339()));
        }
        if let Some(url) = &self.alert.report_url {
            lines.push(format!("Operations report: {url}"));
        }
        if let Some(url) = &self.alert.trace_url {
            lines.push(format!("Trace: {url}"));
        }
        lines
    }
}

/// Why a notice could not be sent. Never holds a secret (webhook URLs and credentials stay out
/// of every message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The request could not be made or its reply read (the URL is not repeated).
    #[error("{channel}: the request failed")]
    Transport {
        /// The channel.
        channel: String,
        /// The cause, without its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with an error status.
    #[error("{channel}: the service answered {status}")]
    Status {
        /// The channel.
        channel: String,
        /// The HTTP status.
        status: u16,
        /// The start of the reply body (services do not echo credentials).
        body: String,
    },
    /// The service's reply could not be understood.
    #[error("{channel}: unexpected reply: {detail}")]
    Reply {
        /// The channel.
        channel: String,
        /// What was wrong.
        detail: String,
    },
    /// The SMTP server refused a command.
    #[error("smtp: the server answered {code} to {command}: {text}")]
    Smtp {
        /// The command (`EHLO`, `MAIL FROM`, ...), never its arguments' secrets.
        command: &'static str,
        /// The reply code.
        code: u16,
        /// The reply text.
        text: String,
    },
    /// A socket error talking to the SMTP server.
    #[error("smtp: connection failed")]
    Io(#[source] std::io::Error),
    /// The exchange took longer than allowed.
    #[error("{channel}: timed out")]
    Timeout {
        /// The channel.
        channel: String,
    },
    /// A firm's own notifier failed.
    #[error("{channel}: {source}")]
    Other {
        /// The channel.
        channel: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A channel alerts are sent to. Implement it to add a firm's own; the built-in ones are
/// [`SlackWebhook`], [`TeamsWebhook`], [`EmailSmtp`] and [`JiraCloud`].
///
/// `name` must be unique among the notifiers of one engine and stable across runs: the state
/// of each condition is kept per channel name.
#[async_trait]
pub trait Notifier: Send + Sync + fmt::Debug {
    /// The channel's stable name (`slack`, `teams`, `email`, `jira`, ...).
    fn name(&self) -> &str;

    /// Sends one notice. What it returns for a firing notice (an issue key, a message id) is
    /// kept and given back in [`Notice::reference`] of the resolved one.
    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError>;
}

#[async_trait]
impl<N: Notifier + ?Sized> Notifier for Arc<N> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        (**self).notify(notice).await
    }
}

#[async_trait]
impl<N: Notifier + ?Sized> Notifier for Box<N> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        (**self).notify(notice).await
    }
}

/// Why alerts could not be configured or evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// A rule or channel setting is invalid.
    #[error("invalid alert configuration: {0}")]
    Config(String),
    /// The state store failed.
    #[error("the state store failed while evaluating alerts")]
    Store(#[source] StoreError),
    /// A stored alert state could not be read back.
    #[error("the stored state of alert {key:?} could not be read")]
    State {
        /// The alert key.
        key: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl From<StoreError> for AlertError {
    fn from(e: StoreError) -> Self {
        AlertError::Store(e)
    }
}

/// The thresholds, the quiet period and the links of the alerts. Build with
/// [`AlertRules::builder`].
#[derive(Debug, Clone)]
pub struct AlertRules {
    dead_letters_above: Option<u64>,
    holds_older_than: Option<Duration>,
    stuck_contracts_above: Option<usize>,
    checkpoints: Vec<(CheckpointKey, Duration)>,
    queue_older_than: Option<Duration>,
    unbilled_above: BTreeMap<Currency, Money>,
    quiet_period: Duration,
    report_url: Option<String>,
}

impl AlertRules {
    /// A builder with no rule and a quiet period of one hour.
    pub fn builder() -> AlertRulesBuilder {
        AlertRulesBuilder {
            rules: AlertRules {
                dead_letters_above: None,
                holds_older_than: None,
                stuck_contracts_above: None,
                checkpoints: Vec::new(),
                queue_older_than: None,
                unbilled_above: BTreeMap::new(),
                quiet_period: Duration::from_secs(3600),
                report_url: None,
            },
            problems: Vec::new(),
        }
    }

    /// The quiet period.
    pub fn quiet_period(&self) -> Duration {
        self.quiet_period
    }

    /// The operations report's address, if set.
    pub fn report_url(&self) -> Option<&str> {
        self.report_url.as_deref()
    }

    /// Whether any rule needs the report (holds, stuck contracts, unbilled value).
    pub fn needs_report(&self) -> bool {
        self.holds_older_than.is_some()
            || self.stuck_contracts_above.is_some()
            || !self.unbilled_above.is_empty()
    }

    fn trace_url(&self, correlation_id: Option<&str>) -> Option<String> {
        let base = self.report_url.as_deref()?;
        let cid = correlation_id?;
        let base = base.split('#').next().unwrap_or(base);
        Some(format!("{base}#{}", crate::render::anchor(cid)))
    }
}

/// Builds [`AlertRules`].
#[derive(Debug, Clone)]
pub struct AlertRulesBuilder {
    rules: AlertRules,
    problems: Vec<String>,
}

impl AlertRulesBuilder {
    /// Fires when more than `n` dead letters are open (not replayed): `0` fires on the first.
    pub fn dead_letters_above(mut self, n: u64) -> Self {
        self.rules.dead_letters_above = Some(n);
        self
    }

    /// Fires, per legal entity, when a business hold (a stuck contract) has waited longer than
    /// `age`.
    pub fn holds_older_than(mut self, age: Duration) -> Self {
        self.rules.holds_older_than = Some(age);
        self
    }

    /// Fires, per legal entity, when more than `n` contracts are stuck.
    pub fn stuck_contracts_above(mut self, n: usize) -> Self {
        self.rules.stuck_contracts_above = Some(n);
        self
    }

    /// Fires when the checkpoint `key` has not moved for longer than `age` (a checkpoint never
    /// committed does not fire: there is nothing to lag behind yet).
    pub fn checkpoint_stale(mut self, key: CheckpointKey, age: Duration) -> Self {
        self.rules.checkpoints.push((key, age));
        self
    }

    /// Fires when the oldest unfinished queued message is older than `age`.
    pub fn queue_older_than(mut self, age: Duration) -> Self {
        self.rules.queue_older_than = Some(age);
        self
    }

    /// Fires, per legal entity, when its unbilled value in `threshold`'s currency is above
    /// `threshold`. One threshold per currency; other currencies are not compared with it.
    pub fn unbilled_above(mut self, threshold: Money) -> Self {
        if threshold.is_negative() {
            self.problems
                .push(format!("unbilled threshold {threshold:?} is negative"));
        }
        if self
            .rules
            .unbilled_above
            .insert(threshold.currency, threshold)
            .is_some()
        {
            self.problems
                .push(format!("two unbilled thresholds in {}", threshold.currency));
        }
        self
    }

    /// How long a condition that cleared stays quiet if it fires again (default one hour).
    pub fn quiet_period(mut self, period: Duration) -> Self {
        self.rules.quiet_period = period;
        self
    }

    /// The address the operations report is published at; alerts link to it, and to
    /// `<report_url>#trace-<correlation id>` for the trace of a message.
    pub fn report_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        match reqwest::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https" | "file") => {
                self.rules.report_url = Some(url);
            }
            _ => self
                .problems
                .push("the report URL is not an http(s) or file URL".to_owned()),
        }
        self
    }

    /// The rules, or the first problem found.
    pub fn build(self) -> Result<AlertRules, AlertError> {
        match self.problems.into_iter().next() {
            Some(p) => Err(AlertError::Config(p)),
            None => Ok(self.rules),
        }
    }
}

/// A notice that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// The channel.
    pub channel: String,
    /// The alert key.
    pub key: String,
    /// Firing or resolved.
    pub kind: NoticeKind,
}

/// A notice that could not go out; it is tried again at the next evaluation.
#[derive(Debug)]
#[non_exhaustive]
pub struct Failed {
    /// The channel.
    pub channel: String,
    /// The alert key.
    pub key: String,
    /// Firing or resolved.
    pub kind: NoticeKind,
    /// Why.
    pub error: NotifyError,
}

/// What one evaluation found and did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CheckOutcome {
    /// The conditions firing now.
    pub firing: Vec<Alert>,
    /// The notices this evaluation sent.
    pub sent: Vec<Sent>,
    /// The notices that failed (kept for the next evaluation).
    pub failed: Vec<Failed>,
}

/// The state of one alert key on one channel, kept as a checkpoint's cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ChannelState {
    firing: bool,
    notified: bool,
    since: Option<DateTime<Utc>>,
    last_sent: Option<DateTime<Utc>>,
    cleared_at: Option<DateTime<Utc>>,
    reference: Option<String>,
    alert: Option<Alert>,
}

/// Evaluates [`AlertRules`] against a state store (and a report) and sends to its notifiers.
/// Cheap to clone.
#[derive(Clone)]
pub struct AlertEngine {
    rules: Arc<AlertRules>,
    store: Arc<dyn StateStore>,
    notifiers: Vec<Arc<dyn Notifier>>,
}

impl fmt::Debug for AlertEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertEngine")
            .field("rules", &self.rules)
            .field("notifiers", &self.notifiers)
            .finish_non_exhaustive()
    }
}

impl AlertEngine {
    /// An engine over `store`, with no notifier yet.
    pub fn new(rules: AlertRules, store: Arc<dyn StateStore>) -> AlertEngine {
        AlertEngine {
            rules: Arc::new(rules),
            store,
            notifiers: Vec::new(),
        }
    }

    /// Adds a channel. Its [`Notifier::name`] must be unique in this engine.
    pub fn notifier(
        mut self,
        notifier: impl Notifier + 'static,
    ) -> Result<AlertEngine, AlertError> {
        if self.notifiers.iter().any(|n| n.name() == notifier.name()) {
            return Err(AlertError::Config(format!(
                "two notifiers named {:?}",
                notifier.name()
            )));
        }
        self.notifiers.push(Arc::new(notifier));
        Ok(self)
    }

    /// The rules.
    pub fn rules(&self) -> &AlertRules {
        &self.rules
    }

    /// The conditions firing at `now`, without sending anything. `report` feeds the rules on
    /// holds, stuck contracts and unbilled value; without it those rules see nothing.
    pub async fn evaluate(
        &self,
        report: Option<&Report>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>, AlertError> {
        let rules = &*self.rules;
        let mut alerts = Vec::new();
        let store: &dyn StateStore = &*self.store;

        if let Some(n) = rules.dead_letters_above {
            let counts = DeadLetters::count_by_reason(store).await?;
            let total: u64 = counts.iter().map(|c| c.count).sum();
            if total > n {
                let oldest = DeadLetters::list_dead_letters(
                    store,
                    &DeadLetterFilter::all().replayed(false).limit(1),
                )
                .await?;
                let oldest = oldest.first();
                let mut by_reason = counts.clone();
                by_reason.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
                let mut observed = vec![
                    Observed::new("Open dead letters", total.to_string()),
                    Observed::new("Threshold", format!("more than {n}")),
                ];
                for c in by_reason.iter().take(3) {
                    observed.push(Observed::new(
                        format!("Reason ({})", c.class.as_str()),
                        format!("{} ({})", c.reason, c.count),
                    ));
                }
                if let Some(dl) = oldest {
                    observed.push(Observed::new("Oldest parked at", dl.parked_at.to_rfc3339()));
                }
                let cid = oldest.map(|d| d.envelope.correlation_id.as_str().to_owned());
                alerts.push(self.alert(
                    "dead_letters".to_owned(),
                    Condition::DeadLetters,
                    None,
                    Severity::Critical,
                    format!("{total} open dead letters"),
                    observed,
                    cid,
                ));
            }
        }

        if let Some(age) = rules.queue_older_than {
            let stats = WorkQueue::stats(store).await?;
            let oldest = stats.oldest_age(now);
            if stats.depth > 0 && oldest > age {
                alerts.push(self.alert(
                    "queue_lag".to_owned(),
                    Condition::QueueLag,
                    None,
                    Severity::Warning,
                    format!("oldest queued message waiting {}", human_duration(oldest)),
                    vec![
                        Observed::new("Oldest message age", human_duration(oldest)),
                        Observed::new("Threshold", human_duration(age)),
                        Observed::new("Queue depth", stats.depth.to_string()),
                    ],
                    None,
                ));
            }
        }

        for (key, age) in &rules.checkpoints {
            if let Some(cp) = Checkpoints::checkpoint(store, key).await? {
                let idle = (now - cp.updated_at).to_std().unwrap_or_default();
                if cp.version > 0 && idle > *age {
                    alerts.push(self.alert(
                        format!(
                            "checkpoint:{}/{}/{}",
                            key.connector, key.stream, key.legal_entity
                        ),
                        Condition::CheckpointStale,
                        Some(key.legal_entity.as_str().to_owned()),
                        Severity::Warning,
                        format!(
                            "{} {} has not moved for {}",
                            key.connector,
                            key.stream,
                            human_duration(idle)
                        ),
                        vec![
                            Observed::new("Last moved", cp.updated_at.to_rfc3339()),
                            Observed::new("Idle for", human_duration(idle)),
                            Observed::new("Threshold", human_duration(*age)),
                        ],
                        None,
                    ));
                }
            }
        }

        if let Some(report) = report {
            self.evaluate_report(report, now, &mut alerts);
        }
        alerts.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(alerts)
    }

    fn evaluate_report(&self, report: &Report, now: DateTime<Utc>, alerts: &mut Vec<Alert>) {
        let rules = &*self.rules;
        let mut by_entity: BTreeMap<&str, Vec<&crate::StuckContract>> = BTreeMap::new();
        for s in &report.stuck_contracts.items {
            by_entity
                .entry(s.legal_entity.as_str())
                .or_default()
                .push(s);
        }
        if let Some(age) = rules.holds_older_than {
            for (entity, items) in &by_entity {
                let mut old: Vec<_> = items
                    .iter()
                    .filter(|s| (now - s.since).to_std().is_ok_and(|waited| waited > age))
                    .collect();
                if old.is_empty() {
                    continue;
                }
                old.sort_by_key(|s| s.since);
                let oldest = old[0];
                let waited = (now - oldest.since).to_std().unwrap_or_default();
                let mut observed = vec![
                    Observed::new("Holds past threshold", old.len().to_string()),
                    Observed::new("Threshold", human_duration(age)),
                    Observed::new(
                        "Oldest",
                        format!("{} waiting {}", oldest.contract, human_duration(waited)),
                    ),
                ];
                if !oldest.reasons.is_empty() {
                    observed.push(Observed::new("Reasons", oldest.reasons.join("; ")));
                }
                alerts.push(self.alert(
                    format!("holds:{entity}"),
                    Condition::HoldWaiting,
                    Some((*entity).to_owned()),
                    Severity::Warning,
                    format!(
                        "{} business hold(s) in {entity} waiting longer than {}",
                        old.len(),
                        human_duration(age)
                    ),
                    observed,
                    oldest.correlation_id.clone(),
                ));
            }
        }
        if let Some(n) = rules.stuck_contracts_above {
            for (entity, items) in &by_entity {
                if items.len() > n {
                    let oldest = items.iter().min_by_key(|s| s.since);
                    alerts.push(self.alert(
                        format!("stuck_contracts:{entity}"),
                        Condition::StuckContracts,
                        Some((*entity).to_owned()),
                        Severity::Warning,
                        format!("{} stuck contracts in {entity}", items.len()),
                        vec![
                            Observed::new("Stuck contracts", items.len().to_string()),
                            Observed::new("Threshold", format!("more than {n}")),
                        ],
                        oldest.and_then(|s| s.correlation_id.clone()),
                    ));
                }
            }
        }
        for entity in &report.unbilled.totals.by_legal_entity {
            for amount in &entity.amounts {
                let Some(threshold) = rules.unbilled_above.get(&amount.currency) else {
                    continue;
                };
                if amount.amount > threshold.amount {
                    let e = &entity.legal_entity;
                    alerts.push(self.alert(
                        format!("unbilled:{e}:{}", amount.currency),
                        Condition::Unbilled,
                        Some(e.clone()),
                        Severity::Warning,
                        format!("unbilled value in {e} is {}", crate::format_money(amount)),
                        vec![
                            Observed::new("Unbilled", crate::format_money(amount)),
                            Observed::new("Threshold", crate::format_money(threshold)),
                        ],
                        None,
                    ));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        key: String,
        condition: Condition,
        legal_entity: Option<String>,
        severity: Severity,
        summary: String,
        observed: Vec<Observed>,
        correlation_id: Option<String>,
    ) -> Alert {
        Alert {
            key,
            condition,
            legal_entity,
            severity,
            summary,
            observed,
            report_url: self.rules.report_url.clone(),
            trace_url: self.rules.trace_url(correlation_id.as_deref()),
            correlation_id,
        }
    }

    /// Evaluates at `now` and sends what has to be sent: a firing notice per channel for each
    /// condition newly firing, a resolved notice per channel for each that cleared, nothing
    /// else (see the [module docs](self) for the quiet period and the exactly-one-sender
    /// guarantee). Failed notices are in [`CheckOutcome::failed`] and tried again next time.
    pub async fn check(
        &self,
        report: Option<&Report>,
        now: DateTime<Utc>,
    ) -> Result<CheckOutcome, AlertError> {
        let firing = self.evaluate(report, now).await?;
        let firing_keys: BTreeSet<String> = firing.iter().map(|a| a.key.clone()).collect();
        let known = self.add_to_index(&firing_keys).await?;
        let mut outcome = CheckOutcome::default();
        for alert in &firing {
            for notifier in &self.notifiers {
                self.on_firing(alert, &**notifier, now, &mut outcome)
                    .await?;
            }
        }
        for key in known.difference(&firing_keys) {
            for notifier in &self.notifiers {
                self.on_clear(key, &**notifier, now, &mut outcome).await?;
            }
        }
        outcome.firing = firing;
        Ok(outcome)
    }

    fn state_key(stream: String) -> Result<CheckpointKey, AlertError> {
        let entity =
            LegalEntityKey::new(STATE_ENTITY).map_err(|e| AlertError::Config(e.to_string()))?;
        Ok(CheckpointKey::new(STATE_CONNECTOR, stream, entity))
    }

    /// Adds `keys` to the index of keys ever seen; returns the whole index.
    async fn add_to_index(&self, keys: &BTreeSet<String>) -> Result<BTreeSet<String>, AlertError> {
        let cp_key = Self::state_key(INDEX_STREAM.to_owned())?;
        for _ in 0..CAS_ATTEMPTS {
            let cp = self.store.checkpoint(&cp_key).await?;
            let (version, mut known): (u64, BTreeSet<String>) = match &cp {
                Some(cp) => (
                    cp.version,
                    match &cp.cursor {
                        Some(v) => serde_json::from_value(v.clone()).map_err(|source| {
                            AlertError::State {
                                key: INDEX_STREAM.to_owned(),
                                source,
                            }
                        })?,
                        None => BTreeSet::new(),
                    },
                ),
                None => (0, BTreeSet::new()),
            };
            if keys.is_subset(&known) {
                return Ok(known);
            }
            known.extend(keys.iter().cloned());
            let cursor = serde_json::to_value(&known).map_err(|source| AlertError::State {
                key: INDEX_STREAM.to_owned(),
                source,
            })?;
            match self
                .store
                .commit_checkpoint(&cp_key, version, &cursor)
                .await
            {
                Ok(_) => return Ok(known),
                Err(StoreError::CheckpointConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AlertError::Config(
            "the alert index kept changing under concurrent evaluators".to_owned(),
        ))
    }

    async fn read_state(&self, cp_key: &CheckpointKey) -> Result<(u64, ChannelState), AlertError> {
        match self.store.checkpoint(cp_key).await? {
            None => Ok((0, ChannelState::default())),
            Some(cp) => {
                let state = match cp.cursor {
                    Some(v) => serde_json::from_value(v).map_err(|source| AlertError::State {
                        key: cp_key.stream.clone(),
                        source,
                    })?,
                    None => ChannelState::default(),
                };
                Ok((cp.version, state))
            }
        }
    }

    /// Commits `state` over `version`; `Ok(None)` when another evaluator moved it first.
    async fn write_state(
        &self,
        cp_key: &CheckpointKey,
        version: u64,
        state: &ChannelState,
    ) -> Result<Option<u64>, AlertError> {
        let cursor: Value = serde_json::to_value(state).map_err(|source| AlertError::State {
            key: cp_key.stream.clone(),
            source,
        })?;
        match self.store.commit_checkpoint(cp_key, version, &cursor).await {
            Ok(cp) => Ok(Some(cp.version)),
            Err(StoreError::CheckpointConflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn quiet(&self, state: &ChannelState, now: DateTime<Utc>) -> bool {
        state.last_sent.is_some_and(|sent| {
            (now - sent)
                .to_std()
                .map_or(true, |elapsed| elapsed < self.rules.quiet_period)
        })
    }

    async fn on_firing(
        &self,
        alert: &Alert,
        notifier: &dyn Notifier,
        now: DateTime<Utc>,
        outcome: &mut CheckOutcome,
    ) -> Result<(), AlertError> {
        let cp_key = Self::state_key(format!("{}@{}", alert.key, notifier.name()))?;
        let (version, state) = self.read_state(&cp_key).await?;
        if state.firing && state.notified {
            return Ok(());
        }
        let since = if state.firing {
            state.since.unwrap_or(now)
        } else {
            now
        };
        if self.quiet(&state, now) {
            if !state.firing {
                let quiet = ChannelState {
                    firing: true,
                    notified: false,
                    since: Some(since),
                    alert: Some(alert.clone()),
                    ..state
                };
                self.write_state(&cp_key, version, &quiet).await?;
            }
            return Ok(());
        }
        let claimed = ChannelState {
            firing: true,
            notified: true,
            since: Some(since),
            last_sent: Some(now),
            cleared_at: state.cleared_at,
            reference: None,
            alert: Some(alert.clone()),
        };
        let Some(claimed_version) = self.write_state(&cp_key, version, &claimed).await? else {
            return Ok(());
        };
        let notice = Notice::new(NoticeKind::Firing, alert.clone(), since, now);
        match notifier.notify(&notice).await {
            Ok(reference) => {
                if reference.is_some() {
                    let with_ref = ChannelState {
                        reference,
                        ..claimed
                    };
                    self.write_state(&cp_key, claimed_version, &with_ref)
                        .await?;
                }
                tracing::info!(channel = notifier.name(), key = %alert.key, "alert sent");
                outcome.sent.push(Sent {
                    channel: notifier.name().to_owned(),
                    key: alert.key.clone(),
                    kind: NoticeKind::Firing,
                });
            }
            Err(error) => {
                tracing::warn!(channel = notifier.name(), key = %alert.key, %error, "alert not sent");
                let back = ChannelState {
                    firing: true,
                    notified: false,
                    since: Some(since),
                    alert: Some(alert.clone()),
                    ..state
                };
                self.write_state(&cp_key, claimed_version, &back).await?;
                outcome.failed.push(Failed {
                    channel: notifier.name().to_owned(),
                    key: alert.key.clone(),
                    kind: NoticeKind::Firing,
                    error,
                });
            }
        }
        Ok(())
    }

    async fn on_clear(
        &self,
        key: &str,
        notifier: &dyn Notifier,
        now: DateTime<Utc>,
        outcome: &mut CheckOutcome,
    ) -> Result<(), AlertError> {
        let cp_key = Self::state_key(format!("{key}@{}", notifier.name()))?;
        let (version, state) = self.read_state(&cp_key).await?;
        if !state.firing {
            return Ok(());
        }
        let cleared = ChannelState {
            firing: false,
            notified: false,
            since: None,
            last_sent: if state.notified {
                Some(now)
            } else {
                state.last_sent
            },
            cleared_at: Some(now),
            reference: None,
            alert: state.alert.clone(),
        };
        let Some(cleared_version) = self.write_state(&cp_key, version, &cleared).await? else {
            return Ok(());
        };
        let (true, Some(alert)) = (state.notified, state.alert.clone()) else {
            return Ok(());
        };
        let mut notice = Notice::new(NoticeKind::Resolved, alert, state.since.unwrap_or(now), now);
        notice.reference = state.reference.clone();
        match notifier.notify(&notice).await {
            Ok(_) => outcome.sent.push(Sent {
                channel: notifier.name().to_owned(),
                key: key.to_owned(),
                kind: NoticeKind::Resolved,
            }),
            Err(error) => {
                tracing::warn!(channel = notifier.name(), key, %error, "resolved notice not sent");
                // Back to "firing, notified": the next evaluation that sees it clear tries again.
                self.write_state(&cp_key, cleared_version, &state).await?;
                outcome.failed.push(Failed {
                    channel: notifier.name().to_owned(),
                    key: key.to_owned(),
                    kind: NoticeKind::Resolved,
                    error,
                });
            }
        }
        Ok(())
    }
}

/// `3d 4h`, `2h 5m`, `45m`, `12s`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{AgeBucket, StuckContract, Unbilled, UnbilledItem, WorkKind};
    use odoo_connect_sync::envelope::{Envelope, IdempotencyKey};
    use odoo_connect_sync::store::memory::MemoryStore;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn stuck(contract: &str, entity: &str, since: DateTime<Utc>) -> StuckContract {
        StuckContract {
            contract: contract.to_owned(),
            client: None,
            legal_entity: entity.to_owned(),
            reasons: vec!["contract cap reached".to_owned()],
            since,
            age_days: 0,
            value: None,
            correlation_id: Some(format!("cid-{contract}")),
            odoo: None,
            crm: None,
        }
    }

    fn unbilled(entity: &str, value: Money, date: chrono::NaiveDate) -> UnbilledItem {
        UnbilledItem {
            kind: WorkKind::Time,
            entry: format!("{entity}-{}", value.amount),
            contract: None,
            legal_entity: entity.to_owned(),
            date,
            age_days: 1,
            bucket: AgeBucket::of_days(1),
            hours: None,
            value: Some(value),
            reason: None,
            correlation_id: None,
            odoo: None,
        }
    }

    #[tokio::test]
    async fn report_conditions_fire_per_entity_and_per_currency() -> TestResult {
        let now = Utc::now();
        let hours = |h: i64| now - chrono::Duration::hours(h);
        let mut report = Report::empty(now, now.date_naive());
        report.stuck_contracts = crate::Section::new(vec![
            stuck("c1", "firm-eu", hours(30)),
            stuck("c2", "firm-eu", hours(2)),
            stuck("c3", "firm-us", hours(5)),
            stuck("c4", "firm-us", hours(6)),
        ]);
        let day = now.date_naive();
        report.unbilled = Unbilled::new(vec![
            unbilled("firm-eu", Money::from_minor(600_000, Currency::EUR), day),
            unbilled("firm-eu", Money::from_minor(900_000, Currency::USD), day),
            unbilled("firm-us", Money::from_minor(400_000, Currency::USD), day),
        ]);
        let rules = AlertRules::builder()
            .holds_older_than(Duration::from_secs(24 * 3600))
            .stuck_contracts_above(1)
            .unbilled_above(Money::from_minor(500_000, Currency::EUR))
            .unbilled_above(Money::from_minor(500_000, Currency::USD))
            .report_url("https://ops.example.com/r.html")
            .build()?;
        assert!(rules.needs_report());
        let engine = AlertEngine::new(rules, Arc::new(MemoryStore::new()));
        let alerts = engine.evaluate(Some(&report), now).await?;
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "holds:firm-eu",
                "stuck_contracts:firm-eu",
                "stuck_contracts:firm-us",
                "unbilled:firm-eu:EUR",
                "unbilled:firm-eu:USD",
            ]
        );
        let hold = &alerts[0];
        assert_eq!(hold.condition, Condition::HoldWaiting);
        assert_eq!(hold.legal_entity.as_deref(), Some("firm-eu"));
        assert_eq!(hold.correlation_id.as_deref(), Some("cid-c1"));
        assert_eq!(
            hold.trace_url.as_deref(),
            Some("https://ops.example.com/r.html#trace-cid-c1")
        );
        // Each currency against its own threshold, never summed.
        let eur = &alerts[3];
        assert_eq!(
            eur.observed[0].value,
            crate::format_money(&Money::from_minor(600_000, Currency::EUR))
        );
        // Without the report, those rules see nothing.
        assert!(engine.evaluate(None, now).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn sync_lag_fires_on_a_still_checkpoint_and_an_old_queue() -> TestResult {
        let store = Arc::new(MemoryStore::new());
        let key = CheckpointKey::new("hubspot", "deals", LegalEntityKey::new("firm-eu")?);
        store
            .commit_checkpoint(&key, 0, &serde_json::json!({"after": 1}))
            .await?;
        let envelope = Envelope::builder(IdempotencyKey::new("hubspot:deal:1")?, Value::Null)
            .source("hubspot")
            .legal_entity(LegalEntityKey::new("firm-eu")?)
            .build()?;
        store.enqueue(&envelope).await?;
        let rules = AlertRules::builder()
            .checkpoint_stale(key, Duration::from_secs(15 * 60))
            .queue_older_than(Duration::from_secs(30 * 60))
            .build()?;
        let engine = AlertEngine::new(rules, store.clone());
        let now = Utc::now();
        assert!(engine.evaluate(None, now).await?.is_empty());
        let later = now + chrono::Duration::minutes(20);
        let keys: Vec<String> = engine
            .evaluate(None, later)
            .await?
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(keys, ["checkpoint:hubspot/deals/firm-eu"]);
        let much_later = now + chrono::Duration::minutes(45);
        let alerts = engine.evaluate(None, much_later).await?;
        let keys: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["checkpoint:hubspot/deals/firm-eu", "queue_lag"]);
        assert_eq!(alerts[1].observed[2].value, "1");
        Ok(())
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12s");
        assert_eq!(human_duration(Duration::from_secs(45 * 60)), "45m");
        assert_eq!(human_duration(Duration::from_secs(2 * 3600 + 300)), "2h 5m");
        assert_eq!(
            human_duration(Duration::from_secs(3 * 86_400 + 4 * 3600)),
            "3d 4h"
        );
    }

    #[test]
    fn bad_rules_are_refused() {
        let eur = |a: i64| Money::from_minor(a, Currency::EUR);
        assert!(
            AlertRules::builder()
                .report_url("not a url")
                .build()
                .is_err()
        );
        assert!(
            AlertRules::builder()
                .unbilled_above(eur(100))
                .unbilled_above(eur(200))
                .build()
                .is_err()
        );
        assert!(
            AlertRules::builder()
                .unbilled_above(eur(-1))
                .build()
                .is_err()
        );
    }

    #[test]
    fn trace_links_use_the_report_anchor() {
        let rules = AlertRules::builder()
            .report_url("https://ops.example.com/report.html#top")
            .build()
            .ok();
        let url = rules.and_then(|r| r.trace_url(Some("deal 7")));
        assert_eq!(
            url.as_deref(),
            Some("https://ops.example.com/report.html#trace-deal.207")
        );
    }
}
