//! The operations report: what finance, delivery and operations leads look for at month-end (money,
//! age and trend at a glance, then the one stuck item), as data first.
//!
//! A [`Report`] is plain serde data: built by [`collect`] from the sync state (dead letters, queue,
//! audit trail) and Odoo (overdue invoices, posted revenue), then rendered as text
//! ([`Report::to_text`]), JSON ([`Report::to_json`]) or one self-contained HTML page
//! ([`Report::to_html`]: inline CSS and SVG charts, no network, prints on A4 and reads on a phone).
//!
//! Every amount is [`Money`], totalled per currency and per legal entity ([`Totals`]); never a
//! float. Every row carries [`Link`]s to the record in Odoo (`/odoo/<model>/<id>` from Odoo 18,
//! `/web#id=<id>&model=<model>` before, see [`OdooLinks`]) and in the CRM when the connector knows
//! the URL, and its correlation id, which the HTML page links to the trace of that deal on the same
//! page.
//!
//! With the feature `alerts`, [`alerts`] turns thresholds over the state store and the report
//! (dead letters, holds, stuck contracts, sync lag, unbilled value per currency) into notices
//! sent once per condition, until it clears, to Slack, Microsoft Teams, email (SMTP) and Jira
//! Cloud, or to a firm's own [`alerts::Notifier`].
//!
//! # Features
//!
//! - `flows` (default): [`collect`] for the contract-to-cash flows' messages.
//! - `html`: [`Report::to_html`].
//! - `alerts`: the [`alerts`] module (adds reqwest, tokio's sockets, secrecy and base64).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use odoo_connect_canonical::{Currency, Money};

#[cfg(feature = "alerts")]
#[cfg_attr(docsrs, doc(cfg(feature = "alerts")))]
pub mod alerts;
mod collect;
mod message;
mod render;

#[cfg(feature = "flows")]
pub use collect::collect;
pub use collect::{CollectOptions, OpsError, collect_messages};
pub use message::{KnownContract, ReportedMessage, Work};
pub use render::format_money;

/// The operations report, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The day ages and due dates are counted from.
    pub as_of: NaiveDate,
    /// Contracts with a message waiting for a person (a business hold on the deal, its time or
    /// its invoices).
    pub stuck_contracts: Section<StuckContract>,
    /// Approved time and expenses not invoiced yet, with their value and age.
    pub unbilled: Unbilled,
    /// Invoice releases that failed and wait in the dead letters.
    pub failed_releases: Section<FailedRelease>,
    /// Invoices posted but unpaid past their due date.
    pub overdue_invoices: Section<OverdueInvoice>,
    /// Bank credits no open invoice matched.
    pub unmatched_credits: Section<UnmatchedCredit>,
    /// Contracts whose revenue posted in Odoo differs from the canonical revenue schedule.
    pub revenue_mismatches: Section<RevenueMismatch>,
    /// Each booked contract as Odoo holds it now (its sale order and customer invoices, read back
    /// from Odoo, not what the flows meant to write), totalled on the amounts still due.
    #[serde(default)]
    pub contracts_in_odoo: Section<ContractInOdoo>,
    /// Whether Odoo was read: when it was not, the sections only Odoo fills are empty because
    /// nothing was read, not because Odoo holds nothing.
    #[serde(default)]
    pub odoo_read: bool,
    /// Dead letters not replayed yet, by reason and class.
    pub dead_letters: Vec<DeadLetterGroup>,
    /// Queue depth and lag now and over the last 24 hours.
    pub sync: SyncHealth,
    /// The path of each deal a row above points to, by correlation id.
    pub traces: Vec<Trace>,
}

impl Report {
    /// An empty report for `as_of`, made at `generated_at`: every section says "none".
    pub fn empty(generated_at: DateTime<Utc>, as_of: NaiveDate) -> Report {
        Report {
            generated_at,
            as_of,
            stuck_contracts: Section::default(),
            unbilled: Unbilled::default(),
            failed_releases: Section::default(),
            overdue_invoices: Section::default(),
            unmatched_credits: Section::default(),
            revenue_mismatches: Section::default(),
            contracts_in_odoo: Section::default(),
            odoo_read: false,
            dead_letters: Vec::new(),
            sync: SyncHealth::default(),
            traces: Vec::new(),
        }
    }
}

/// A list of rows with their totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Section<T> {
    /// The rows, most urgent first.
    pub items: Vec<T>,
    /// The rows' amounts, per currency and per legal entity.
    pub totals: Totals,
}

impl<T> Default for Section<T> {
    fn default() -> Self {
        Section {
            items: Vec::new(),
            totals: Totals::default(),
        }
    }
}

impl<T: Valued> Section<T> {
    /// A section of these rows, totalled.
    pub fn new(items: Vec<T>) -> Section<T> {
        let totals = Totals::of(items.iter().filter_map(|i| i.valued()));
        Section { items, totals }
    }
}

impl<T> Section<T> {
    /// Whether the section has no row.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A row with an amount that counts in its section's totals.
pub trait Valued {
    /// The legal entity and the amount, when the row has one.
    fn valued(&self) -> Option<(&str, &Money)>;
}

/// Sums per currency, and per legal entity and currency. Amounts in different currencies are
/// never added together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Totals {
    /// One sum per currency, in currency code order.
    pub by_currency: Vec<Money>,
    /// One entry per legal entity, in key order, each with its sums per currency.
    pub by_legal_entity: Vec<EntityTotal>,
}

/// The sums of one legal entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityTotal {
    /// The legal entity's key.
    pub legal_entity: String,
    /// One sum per currency.
    pub amounts: Vec<Money>,
}

impl Totals {
    /// The totals of these `(legal entity, amount)` pairs. A sum that would overflow keeps the
    /// largest value a decimal holds rather than failing the report.
    pub fn of<'a>(rows: impl IntoIterator<Item = (&'a str, &'a Money)>) -> Totals {
        use std::collections::BTreeMap;
        let mut by_currency: BTreeMap<String, Money> = BTreeMap::new();
        let mut by_entity: BTreeMap<&str, BTreeMap<String, Money>> = BTreeMap::new();
        for (entity, m) in rows {
            add(&mut by_currency, m);
            add(by_entity.entry(entity).or_default(), m);
        }
        Totals {
            by_currency: by_currency.into_values().collect(),
            by_legal_entity: by_entity
                .into_iter()
                .map(|(e, sums)| EntityTotal {
                    legal_entity: e.to_owned(),
                    amounts: sums.into_values().collect(),
                })
                .collect(),
        }
    }

    /// The sum in one currency, if any row is in it.
    pub fn in_currency(&self, currency: Currency) -> Option<&Money> {
        self.by_currency.iter().find(|m| m.currency == currency)
    }
}

fn add(sums: &mut std::collections::BTreeMap<String, Money>, m: &Money) {
    let entry = sums
        .entry(m.currency.code().to_owned())
        .or_insert_with(|| Money::zero(m.currency));
    let sum = entry
        .amount
        .checked_add(m.amount)
        .unwrap_or(if m.amount.is_sign_negative() {
            Decimal::MIN
        } else {
            Decimal::MAX
        });
    *entry = Money::new(sum, m.currency);
}

/// A link to a record in another system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// What to show: the record's name or number.
    pub label: String,
    /// Where it is, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Link {
    /// A link with a URL.
    pub fn new(label: impl Into<String>, url: impl Into<String>) -> Link {
        Link {
            label: label.into(),
            url: Some(url.into()),
        }
    }

    /// A label with no URL.
    pub fn text(label: impl Into<String>) -> Link {
        Link {
            label: label.into(),
            url: None,
        }
    }
}

/// How to link to records of one Odoo server.
///
/// ```
/// use odoo_connect_ops::OdooLinks;
/// let odoo19 = OdooLinks::new("https://erp.example.com/", 19);
/// assert_eq!(odoo19.record("sale.order", 42), "https://erp.example.com/odoo/sale.order/42");
/// let odoo17 = OdooLinks::new("https://erp.example.com", 17);
/// assert_eq!(odoo17.record("account.move", 7), "https://erp.example.com/web#id=7&model=account.move&view_type=form");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OdooLinks {
    /// The server's base URL, without a trailing slash.
    pub base_url: String,
    /// The server's major version.
    pub major: u32,
}

impl OdooLinks {
    /// Links to the server at `base_url`, of major version `major`.
    pub fn new(base_url: impl Into<String>, major: u32) -> OdooLinks {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        OdooLinks { base_url, major }
    }

    /// The URL of one record's form: `/odoo/<model>/<id>` from Odoo 18 (the web client's routes
    /// since 17.2), `/web#id=<id>&model=<model>&view_type=form` before.
    pub fn record(&self, model: &str, id: i64) -> String {
        if self.major >= 18 {
            format!("{}/odoo/{model}/{id}", self.base_url)
        } else {
            format!("{}/web#id={id}&model={model}&view_type=form", self.base_url)
        }
    }

    /// A [`Link`] to one record.
    pub fn link(&self, label: impl Into<String>, model: &str, id: i64) -> Link {
        Link::new(label, self.record(model, id))
    }
}

/// A contract with a message waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StuckContract {
    /// The contract's key.
    pub contract: String,
    /// The client, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The legal entity that bills it.
    pub legal_entity: String,
    /// Why it waits (the hold reasons, most recent first).
    pub reasons: Vec<String>,
    /// Since when it waits.
    pub since: DateTime<Utc>,
    /// Days it has waited, as of the report's day.
    pub age_days: i64,
    /// The deal's value, when the CRM gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
    /// The deal's correlation id (links to its trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The sale order in Odoo, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
    /// The deal in the CRM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<Link>,
}

impl Valued for StuckContract {
    fn valued(&self) -> Option<(&str, &Money)> {
        self.value.as_ref().map(|v| (self.legal_entity.as_str(), v))
    }
}

/// How old unbilled work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgeBucket {
    /// 0 to 7 days.
    UpTo7,
    /// 8 to 30 days.
    From8To30,
    /// 31 to 90 days.
    From31To90,
    /// More than 90 days.
    Over90,
}

impl AgeBucket {
    /// Every bucket, youngest first.
    pub const ALL: [AgeBucket; 4] = [
        AgeBucket::UpTo7,
        AgeBucket::From8To30,
        AgeBucket::From31To90,
        AgeBucket::Over90,
    ];

    /// The bucket of an age in days (a negative age, a date in the future, is the youngest).
    pub fn of_days(days: i64) -> AgeBucket {
        match days {
            i64::MIN..=7 => AgeBucket::UpTo7,
            8..=30 => AgeBucket::From8To30,
            31..=90 => AgeBucket::From31To90,
            _ => AgeBucket::Over90,
        }
    }

    /// `"0-7 days"`, `"8-30 days"`, `"31-90 days"`, `"90+ days"`.
    pub fn label(self) -> &'static str {
        match self {
            AgeBucket::UpTo7 => "0-7 days",
            AgeBucket::From8To30 => "8-30 days",
            AgeBucket::From31To90 => "31-90 days",
            AgeBucket::Over90 => "90+ days",
        }
    }
}

/// Whether unbilled work is time or an expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkKind {
    /// Approved time.
    Time,
    /// An approved expense.
    Expense,
}

/// One approved time entry or expense not invoiced yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnbilledItem {
    /// Time or expense.
    pub kind: WorkKind,
    /// The entry's key.
    pub entry: String,
    /// The contract it bills to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The legal entity that bills it.
    pub legal_entity: String,
    /// The day worked or spent.
    pub date: NaiveDate,
    /// Days since, as of the report's day.
    pub age_days: i64,
    /// Its age bucket.
    pub bucket: AgeBucket,
    /// Hours (time only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Decimal>,
    /// What it is worth at the contract's rate (or the export's billable amount), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
    /// Why it is not billed yet, when held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deal's correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The record in Odoo, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
}

impl Valued for UnbilledItem {
    fn valued(&self) -> Option<(&str, &Money)> {
        self.value.as_ref().map(|v| (self.legal_entity.as_str(), v))
    }
}

/// The totals of one age bucket, for the bar chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BucketTotal {
    /// The bucket.
    pub bucket: AgeBucket,
    /// How many entries.
    pub count: usize,
    /// Their value per currency.
    pub value: Vec<Money>,
}

/// Unbilled approved time and expenses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unbilled {
    /// The entries, oldest first.
    pub items: Vec<UnbilledItem>,
    /// Their value per currency and legal entity.
    pub totals: Totals,
    /// Count and value per age bucket, every bucket present, youngest first.
    pub buckets: Vec<BucketTotal>,
}

impl Unbilled {
    /// These entries, totalled and bucketed.
    pub fn new(items: Vec<UnbilledItem>) -> Unbilled {
        let totals = Totals::of(items.iter().filter_map(Valued::valued));
        let buckets = AgeBucket::ALL
            .iter()
            .map(|b| {
                let rows: Vec<&UnbilledItem> = items.iter().filter(|i| i.bucket == *b).collect();
                BucketTotal {
                    bucket: *b,
                    count: rows.len(),
                    value: Totals::of(rows.iter().filter_map(|i| i.valued())).by_currency,
                }
            })
            .collect();
        Unbilled {
            items,
            totals,
            buckets,
        }
    }

    /// Whether there is nothing unbilled.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// An invoice release that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailedRelease {
    /// The contract's key.
    pub contract: String,
    /// The legal entity.
    pub legal_entity: String,
    /// Why it failed.
    pub reason: String,
    /// Business hold or technical failure.
    pub class: String,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Days since, as of the report's day.
    pub age_days: i64,
    /// What the release would invoice, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
    /// The deal's correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The sale order in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
}

impl Valued for FailedRelease {
    fn valued(&self) -> Option<(&str, &Money)> {
        self.value.as_ref().map(|v| (self.legal_entity.as_str(), v))
    }
}

/// An invoice posted but unpaid past its due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OverdueInvoice {
    /// The invoice number (`INV/2026/00012`).
    pub number: String,
    /// The client.
    pub client: String,
    /// The legal entity that issued it.
    pub legal_entity: String,
    /// The due date.
    pub due_date: NaiveDate,
    /// Days past due, as of the report's day.
    pub days_overdue: i64,
    /// What is still due.
    pub amount_due: Money,
    /// The deal's correlation id, when the invoice belongs to a synced contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The invoice in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
    /// The deal in the CRM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<Link>,
}

impl Valued for OverdueInvoice {
    fn valued(&self) -> Option<(&str, &Money)> {
        Some((self.legal_entity.as_str(), &self.amount_due))
    }
}

/// A bank credit no open invoice matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnmatchedCredit {
    /// The bank's reference of the entry.
    pub reference: String,
    /// The day it was booked.
    pub booked_on: NaiveDate,
    /// Days since, as of the report's day.
    pub age_days: i64,
    /// The amount credited.
    pub amount: Money,
    /// The legal entity whose account it is.
    pub legal_entity: String,
    /// Why it was not matched.
    pub reason: String,
}

impl Valued for UnmatchedCredit {
    fn valued(&self) -> Option<(&str, &Money)> {
        Some((self.legal_entity.as_str(), &self.amount))
    }
}

/// A contract whose revenue posted in Odoo differs from the canonical revenue schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RevenueMismatch {
    /// The contract's key.
    pub contract: String,
    /// The legal entity.
    pub legal_entity: String,
    /// Revenue posted in Odoo (invoices net of credit notes, untaxed).
    pub posted: Money,
    /// Revenue the schedule recognises up to the report's day.
    pub expected: Money,
    /// `posted - expected`.
    pub difference: Money,
    /// The deal's correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The sale order in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
}

impl Valued for RevenueMismatch {
    fn valued(&self) -> Option<(&str, &Money)> {
        Some((self.legal_entity.as_str(), &self.difference))
    }
}

/// A booked contract as Odoo holds it now: its sale order and its customer invoices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContractInOdoo {
    /// The contract's key.
    pub contract: String,
    /// The legal entity the contract was booked for.
    pub legal_entity: String,
    /// The sale order (its number), or `None` when Odoo no longer has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Link>,
    /// The order's state in Odoo (`draft`, `sent`, `sale`, `cancel`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_state: Option<String>,
    /// The order's currency in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The order's company in Odoo: its legal entity key when the collect options map it, else
    /// its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The order's untaxed amount, in the order's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_untaxed: Option<Money>,
    /// The customer invoices of the order (`invoice_origin` its number or the contract's key),
    /// oldest first.
    pub invoices: Vec<InvoiceInOdoo>,
    /// What the invoices still ask for, one sum per currency (never added across currencies).
    pub amount_due: Vec<Money>,
}

impl ContractInOdoo {
    /// How many invoices of each state, in the order states first appear
    /// (`[("posted", 2), ("draft", 1)]`).
    pub fn invoice_states(&self) -> Vec<(&str, usize)> {
        tally(self.invoices.iter().map(|i| i.state.as_str()))
    }

    /// How many invoices of each payment state, in the order they first appear; an invoice
    /// without one is left out.
    pub fn payment_states(&self) -> Vec<(&str, usize)> {
        tally(
            self.invoices
                .iter()
                .filter_map(|i| i.payment_state.as_deref()),
        )
    }
}

fn tally<'a>(values: impl Iterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for v in values {
        match out.iter_mut().find(|(s, _)| *s == v) {
            Some((_, n)) => *n += 1,
            None => out.push((v, 1)),
        }
    }
    out
}

impl Section<ContractInOdoo> {
    /// A section of these contracts, totalled on their amounts due per currency and per legal
    /// entity.
    pub fn of_contracts(items: Vec<ContractInOdoo>) -> Section<ContractInOdoo> {
        let totals = Totals::of(items.iter().flat_map(|c| {
            c.amount_due
                .iter()
                .map(move |m| (c.legal_entity.as_str(), m))
        }));
        Section { items, totals }
    }
}

/// A customer invoice as Odoo holds it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvoiceInOdoo {
    /// The invoice number (`INV/2026/00012`, or `invoice <id>` for a draft without one).
    pub number: String,
    /// Its state (`draft`, `posted`, `cancel`).
    pub state: String,
    /// Its payment state (`not_paid`, `partial`, `in_payment`, `paid`, ...), when Odoo gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_state: Option<String>,
    /// What is still due (Odoo's `amount_residual`) in the invoice's currency, when the currency
    /// is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_due: Option<Money>,
    /// The invoice in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo: Option<Link>,
}

/// Dead letters of one reason and class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeadLetterGroup {
    /// The reason (`no_client: the deal has no company`).
    pub reason: String,
    /// `business` or `technical`.
    pub class: String,
    /// How many.
    pub count: u64,
    /// Since when the oldest waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<DateTime<Utc>>,
}

/// Queue depth and lag at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncPoint {
    /// The moment (the end of an hour).
    pub at: DateTime<Utc>,
    /// Messages received and not finished at that moment.
    pub depth: u64,
    /// How long the oldest of them had waited, in seconds.
    pub lag_seconds: u64,
}

/// The sync's health now and over the last 24 hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncHealth {
    /// Messages waiting now.
    pub depth: u64,
    /// How long the oldest waiting message has waited, in seconds.
    pub lag_seconds: u64,
    /// The last activity in the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<DateTime<Utc>>,
    /// One point per hour over the last 24 hours, oldest first (from the audit trail).
    pub history: Vec<SyncPoint>,
}

/// The path of one deal across systems, for the trace view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Trace {
    /// The correlation id.
    pub correlation_id: String,
    /// What happened, oldest first.
    pub events: Vec<TraceEvent>,
}

/// One step of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// What (`message_received`, `step_outcome`, `dead_lettered`, ...).
    pub kind: String,
    /// The step, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}
