//! Rendering of the operations report: aligned plain text for a terminal, pretty JSON, and one
//! self-contained HTML page (maud templates, inline CSS, inline SVG charts, no script and no
//! external resource).
//!
//! Every string that comes from data is escaped by maud in the HTML page, and control characters
//! are made visible in the text output, so that neither a browser nor a terminal interprets them.
//! Links from data are only emitted as `href` when they are `http://` or `https://` URLs; any
//! other scheme (such as `javascript:`) shows the label alone.

// The helpers below serve the HTML page too; without it some are unused.
#![cfg_attr(not(feature = "html"), allow(dead_code, unused_imports))]

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
#[cfg(feature = "html")]
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{
    AgeBucket, BucketTotal, DeadLetterGroup, Link, Report, SyncPoint, Totals, Trace, WorkKind,
};
use odoo_connect_canonical::{Currency, Money};

/// An amount for people: thousands separators, exactly the currency's minor units (rounded half
/// away from zero), then the currency code.
///
/// ```
/// use odoo_connect_canonical::{Currency, Money};
/// use odoo_connect_ops::format_money;
/// use rust_decimal::Decimal;
///
/// assert_eq!(format_money(&Money::new(Decimal::new(20_000, 0), Currency::EUR)), "20,000.00 EUR");
/// assert_eq!(format_money(&Money::new(Decimal::new(-123_450, 2), Currency::USD)), "-1,234.50 USD");
/// assert_eq!(format_money(&Money::zero(Currency::JPY)), "0 JPY");
/// ```
pub fn format_money(m: &Money) -> String {
    m.formatted()
}

/// Appends the digits `int` with a comma every three digits from the right.
fn push_grouped(out: &mut String, int: &str) {
    let len = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

/// `1,234.5` for a decimal quantity such as hours.
fn format_decimal(d: &Decimal) -> String {
    let s = d.normalize().abs().to_string();
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    let mut out = String::new();
    if d.is_sign_negative() && !d.is_zero() {
        out.push('-');
    }
    push_grouped(&mut out, int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// `1,234` for a count.
fn format_count(n: u64) -> String {
    let mut out = String::new();
    push_grouped(&mut out, &n.to_string());
    out
}

/// `1 entry`, `2 entries`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        format_count(n as u64),
        if n == 1 { one } else { many }
    )
}

/// `45 s`, `12 min`, `2 h 05 min`, `3 d 4 h`.
fn format_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min", secs / 60),
        3_600..86_400 => format!("{} h {:02} min", secs / 3_600, secs % 3_600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3_600),
    }
}

fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn format_seconds(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn format_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Amounts in several currencies, which are never added together: `1.00 EUR · 2.00 USD`.
fn join_money(amounts: &[Money]) -> String {
    amounts
        .iter()
        .map(format_money)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `"2 posted, 1 draft"`, or `"-"` when there is nothing to count.
fn tally_text(counts: &[(&str, usize)]) -> String {
    if counts.is_empty() {
        return "-".to_owned();
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_label(kind: WorkKind) -> &'static str {
    match kind {
        WorkKind::Time => "time",
        WorkKind::Expense => "expense",
    }
}

/// The fragment of a trace on the page: ASCII letters, digits, `-` and `_` as they are, every
/// other byte as `.XX` (hex), so that any correlation id gives a distinct, safe id.
pub(crate) fn anchor(correlation_id: &str) -> String {
    let mut out = String::with_capacity(correlation_id.len() + 6);
    out.push_str("trace-");
    for b in correlation_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, ".{b:02X}");
        }
    }
    out
}

/// The URL of a link when it is safe to follow from the page (`http`/`https`).
fn safe_url(link: &Link) -> Option<&str> {
    let url = link.url.as_deref()?.trim();
    let scheme = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (scheme.starts_with("https://") || scheme.starts_with("http://")).then_some(url)
}

/// Unbilled value or count per age bucket, every bucket present, youngest first (from the
/// report's buckets, or counted from the rows when a bucket is missing).
fn buckets_of(report: &Report) -> Vec<BucketTotal> {
    AgeBucket::ALL
        .iter()
        .map(|b| {
            report
                .unbilled
                .buckets
                .iter()
                .find(|t| t.bucket == *b)
                .cloned()
                .unwrap_or_else(|| {
                    let rows: Vec<_> = report
                        .unbilled
                        .items
                        .iter()
                        .filter(|i| i.bucket == *b)
                        .collect();
                    BucketTotal {
                        bucket: *b,
                        count: rows.len(),
                        value: Totals::of(rows.iter().filter_map(|i| {
                            i.value.as_ref().map(|v| (i.legal_entity.as_str(), v))
                        }))
                        .by_currency,
                    }
                })
        })
        .collect()
}

/// The currencies of the unbilled buckets, in code order.
fn bucket_currencies(buckets: &[BucketTotal]) -> Vec<Currency> {
    let mut out: Vec<Currency> = Vec::new();
    for m in buckets.iter().flat_map(|b| &b.value) {
        if !out.contains(&m.currency) {
            out.push(m.currency);
        }
    }
    out.sort_by(|a, b| a.code().cmp(b.code()));
    out
}

fn dead_letter_total(groups: &[DeadLetterGroup]) -> u64 {
    groups.iter().fold(0u64, |n, g| n.saturating_add(g.count))
}

fn unbilled_hours(report: &Report) -> Decimal {
    report
        .unbilled
        .items
        .iter()
        .filter_map(|i| i.hours)
        .fold(Decimal::ZERO, |sum, h| sum.checked_add(h).unwrap_or(sum))
}

impl Report {
    /// The report as aligned plain text for a terminal: each section's title, its rows, its
    /// totals per currency and per legal entity, and "none" for an empty section.
    ///
    /// ```
    /// use odoo_connect_ops::Report;
    /// let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default();
    /// let text = Report::empty(chrono::Utc::now(), day).to_text();
    /// assert!(text.contains("STUCK CONTRACTS\n  none"));
    /// ```
    pub fn to_text(&self) -> String {
        text::render(self)
    }

    /// The report as pretty-printed JSON (reads back with `serde_json::from_str::<Report>`).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The report as one self-contained HTML5 page: inline CSS and SVG charts, no script and no
    /// external resource; it prints on A4 and reads at phone width.
    ///
    /// Each section is a `<section>` with a stable id (`stuck-contracts`, `unbilled`,
    /// `failed-releases`, `overdue-invoices`, `unmatched-credits`, `revenue-mismatches`,
    /// `contracts-in-odoo`, `dead-letters`, `sync`, `traces`); each trace is at `#trace-<correlation id>`.
    ///
    /// ```
    /// use odoo_connect_ops::Report;
    /// let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default();
    /// let page = Report::empty(chrono::Utc::now(), day).to_html();
    /// assert!(page.starts_with("<!DOCTYPE html>"));
    /// assert!(page.contains(r#"<section id="stuck-contracts""#));
    /// ```
    #[cfg(feature = "html")]
    #[cfg_attr(docsrs, doc(cfg(feature = "html")))]
    pub fn to_html(&self) -> String {
        html::page(self).into_string()
    }
}

/// Plain text.
mod text {
    use super::*;

    /// A control character in data is shown escaped (`\u{1b}`), never sent to the terminal.
    fn clean(s: &str) -> String {
        if s.chars().any(char::is_control) {
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            s.to_owned()
        }
    }

    fn opt(s: Option<&str>) -> String {
        s.map(clean).unwrap_or_else(|| "-".to_owned())
    }

    fn link(l: Option<&Link>) -> String {
        opt(l.map(|l| l.label.as_str()))
    }

    fn money(m: Option<&Money>) -> String {
        m.map(format_money).unwrap_or_else(|| "-".to_owned())
    }

    /// Columns aligned on their widest cell; numbers on the right.
    struct Table {
        headers: &'static [&'static str],
        right: &'static [bool],
        rows: Vec<Vec<String>>,
    }

    impl Table {
        fn new(headers: &'static [&'static str], right: &'static [bool]) -> Table {
            Table {
                headers,
                right,
                rows: Vec::new(),
            }
        }

        fn row(&mut self, cells: Vec<String>) {
            self.rows.push(cells);
        }

        fn write(&self, out: &mut String) {
            let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
            for row in &self.rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let headers: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
            self.line(out, &headers, &widths);
            for row in &self.rows {
                self.line(out, row, &widths);
            }
        }

        fn line(&self, out: &mut String, cells: &[String], widths: &[usize]) {
            let mut line = String::from("  ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = w.saturating_sub(cell.chars().count());
                if self.right.get(i).copied().unwrap_or(false) {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }

    fn title(out: &mut String, title: &str, count: usize) {
        if count == 0 {
            let _ = writeln!(out, "{title}");
        } else {
            let _ = writeln!(out, "{title} ({})", format_count(count as u64));
        }
    }

    fn none(out: &mut String) {
        out.push_str("  none\n");
    }

    fn totals(out: &mut String, label: &str, totals: &Totals) {
        if totals.by_currency.is_empty() {
            let _ = writeln!(out, "  {label}: no amount known");
            return;
        }
        let _ = writeln!(out, "  {label}: {}", join_money(&totals.by_currency));
        if !totals.by_legal_entity.is_empty() {
            out.push_str("  By legal entity:\n");
            let width = totals
                .by_legal_entity
                .iter()
                .map(|e| clean(&e.legal_entity).chars().count())
                .max()
                .unwrap_or(0);
            for e in &totals.by_legal_entity {
                let name = clean(&e.legal_entity);
                let pad = width.saturating_sub(name.chars().count());
                let _ = writeln!(
                    out,
                    "    {name}{}  {}",
                    " ".repeat(pad),
                    join_money(&e.amounts)
                );
            }
        }
    }

    /// The events of a trace shown in text, the latest ones.
    const TEXT_TRACE_EVENTS: usize = 12;

    pub(super) fn render(r: &Report) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "OPERATIONS REPORT as of {} (generated {})\n",
            format_date(&r.as_of),
            format_time(&r.generated_at)
        );

        title(&mut out, "STUCK CONTRACTS", r.stuck_contracts.items.len());
        if r.stuck_contracts.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &[
                    "Contract",
                    "Client",
                    "Entity",
                    "Age",
                    "Value",
                    "Odoo",
                    "CRM",
                    "Reasons",
                    "Correlation",
                ],
                &[false, false, false, true, true],
            );
            for s in &r.stuck_contracts.items {
                t.row(vec![
                    clean(&s.contract),
                    opt(s.client.as_deref()),
                    clean(&s.legal_entity),
                    format!("{} d", s.age_days),
                    money(s.value.as_ref()),
                    link(s.odoo.as_ref()),
                    link(s.crm.as_ref()),
                    clean(&s.reasons.join("; ")),
                    opt(s.correlation_id.as_deref()),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Total value", &r.stuck_contracts.totals);
        }
        out.push('\n');

        title(
            &mut out,
            "UNBILLED TIME AND EXPENSES",
            r.unbilled.items.len(),
        );
        if r.unbilled.is_empty() {
            none(&mut out);
        } else {
            out.push_str("  By age:\n");
            let mut b = Table::new(&["  Age", "Entries", "Value"], &[false, true, true]);
            for bucket in buckets_of(r) {
                b.row(vec![
                    format!("  {}", bucket.bucket.label()),
                    format_count(bucket.count as u64),
                    if bucket.value.is_empty() {
                        "-".to_owned()
                    } else {
                        join_money(&bucket.value)
                    },
                ]);
            }
            b.write(&mut out);
            let mut t = Table::new(
                &[
                    "Kind",
                    "Entry",
                    "Contract",
                    "Entity",
                    "Date",
                    "Age",
                    "Hours",
                    "Value",
                    "Odoo",
                    "Reason",
                    "Correlation",
                ],
                &[false, false, false, false, false, true, true, true],
            );
            for i in &r.unbilled.items {
                t.row(vec![
                    kind_label(i.kind).to_owned(),
                    clean(&i.entry),
                    opt(i.contract.as_deref()),
                    clean(&i.legal_entity),
                    format_date(&i.date),
                    format!("{} d", i.age_days),
                    i.hours
                        .as_ref()
                        .map(format_decimal)
                        .unwrap_or_else(|| "-".to_owned()),
                    money(i.value.as_ref()),
                    link(i.odoo.as_ref()),
                    opt(i.reason.as_deref()),
                    opt(i.correlation_id.as_deref()),
                ]);
            }
            t.write(&mut out);
            let hours = unbilled_hours(r);
            if !hours.is_zero() {
                let _ = writeln!(out, "  Total hours: {}", format_decimal(&hours));
            }
            totals(&mut out, "Total value", &r.unbilled.totals);
        }
        out.push('\n');

        title(
            &mut out,
            "FAILED INVOICE RELEASES",
            r.failed_releases.items.len(),
        );
        if r.failed_releases.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &[
                    "Contract",
                    "Entity",
                    "Class",
                    "Age",
                    "Value",
                    "Odoo",
                    "Reason",
                    "Correlation",
                ],
                &[false, false, false, true, true],
            );
            for f in &r.failed_releases.items {
                t.row(vec![
                    clean(&f.contract),
                    clean(&f.legal_entity),
                    clean(&f.class),
                    format!("{} d", f.age_days),
                    money(f.value.as_ref()),
                    link(f.odoo.as_ref()),
                    clean(&f.reason),
                    opt(f.correlation_id.as_deref()),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Total to release", &r.failed_releases.totals);
        }
        out.push('\n');

        title(&mut out, "OVERDUE INVOICES", r.overdue_invoices.items.len());
        if r.overdue_invoices.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &[
                    "Invoice",
                    "Client",
                    "Entity",
                    "Due",
                    "Overdue",
                    "Amount due",
                    "CRM",
                    "Correlation",
                ],
                &[false, false, false, false, true, true],
            );
            for o in &r.overdue_invoices.items {
                let number = o
                    .odoo
                    .as_ref()
                    .map(|l| l.label.as_str())
                    .filter(|l| !l.is_empty())
                    .unwrap_or(&o.number);
                t.row(vec![
                    clean(number),
                    clean(&o.client),
                    clean(&o.legal_entity),
                    format_date(&o.due_date),
                    format!("{} d", o.days_overdue),
                    format_money(&o.amount_due),
                    link(o.crm.as_ref()),
                    opt(o.correlation_id.as_deref()),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Total due", &r.overdue_invoices.totals);
        }
        out.push('\n');

        title(
            &mut out,
            "UNMATCHED BANK CREDITS",
            r.unmatched_credits.items.len(),
        );
        if r.unmatched_credits.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &["Reference", "Entity", "Booked", "Age", "Amount", "Reason"],
                &[false, false, false, true, true],
            );
            for c in &r.unmatched_credits.items {
                t.row(vec![
                    clean(&c.reference),
                    clean(&c.legal_entity),
                    format_date(&c.booked_on),
                    format!("{} d", c.age_days),
                    format_money(&c.amount),
                    clean(&c.reason),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Total unmatched", &r.unmatched_credits.totals);
        }
        out.push('\n');

        title(
            &mut out,
            "REVENUE MISMATCHES",
            r.revenue_mismatches.items.len(),
        );
        if r.revenue_mismatches.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &[
                    "Contract",
                    "Entity",
                    "Posted",
                    "Expected",
                    "Difference",
                    "Odoo",
                    "Correlation",
                ],
                &[false, false, true, true, true],
            );
            for m in &r.revenue_mismatches.items {
                t.row(vec![
                    clean(&m.contract),
                    clean(&m.legal_entity),
                    format_money(&m.posted),
                    format_money(&m.expected),
                    format_money(&m.difference),
                    link(m.odoo.as_ref()),
                    opt(m.correlation_id.as_deref()),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Net difference", &r.revenue_mismatches.totals);
        }
        out.push('\n');

        title(
            &mut out,
            "CONTRACTS IN ODOO",
            r.contracts_in_odoo.items.len(),
        );
        if !r.odoo_read {
            out.push_str("  none: Odoo was not read\n");
        } else if r.contracts_in_odoo.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &[
                    "Contract",
                    "Order",
                    "State",
                    "Currency",
                    "Company",
                    "Untaxed",
                    "Invoices",
                    "Invoice states",
                    "Payment",
                    "Due",
                ],
                &[
                    false, false, false, false, false, true, true, false, false, true,
                ],
            );
            for c in &r.contracts_in_odoo.items {
                t.row(vec![
                    clean(&c.contract),
                    link(c.order.as_ref()),
                    opt(c.order_state.as_deref()),
                    opt(c.currency.as_ref().map(Currency::code)),
                    opt(c.company.as_deref()),
                    money(c.amount_untaxed.as_ref()),
                    format_count(c.invoices.len() as u64),
                    clean(&tally_text(&c.invoice_states())),
                    clean(&tally_text(&c.payment_states())),
                    clean(&join_money(&c.amount_due)),
                ]);
            }
            t.write(&mut out);
            totals(&mut out, "Total due", &r.contracts_in_odoo.totals);
        }
        out.push('\n');

        title(&mut out, "DEAD LETTERS", r.dead_letters.len());
        if r.dead_letters.is_empty() {
            none(&mut out);
        } else {
            let mut t = Table::new(
                &["Reason", "Class", "Count", "Oldest"],
                &[false, false, true],
            );
            for g in &r.dead_letters {
                t.row(vec![
                    clean(&g.reason),
                    clean(&g.class),
                    format_count(g.count),
                    g.oldest
                        .as_ref()
                        .map(format_time)
                        .unwrap_or_else(|| "-".to_owned()),
                ]);
            }
            t.write(&mut out);
            let _ = writeln!(
                out,
                "  Total: {} dead letters",
                format_count(dead_letter_total(&r.dead_letters))
            );
        }
        out.push('\n');

        out.push_str("SYNC\n");
        let _ = writeln!(
            out,
            "  Queue depth: {} messages; lag: {}; last activity: {}",
            format_count(r.sync.depth),
            format_duration(r.sync.lag_seconds),
            r.sync
                .last_activity
                .as_ref()
                .map(format_time)
                .unwrap_or_else(|| "none".to_owned())
        );
        if r.sync.history.is_empty() {
            out.push_str("  Last 24 h: none recorded\n");
        } else {
            let max_depth = r.sync.history.iter().map(|p| p.depth).max().unwrap_or(0);
            let max_lag = r
                .sync
                .history
                .iter()
                .map(|p| p.lag_seconds)
                .max()
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "  Last 24 h: {} points, peak depth {}, peak lag {}",
                r.sync.history.len(),
                format_count(max_depth),
                format_duration(max_lag)
            );
        }
        out.push('\n');

        title(&mut out, "TRACES", r.traces.len());
        if r.traces.is_empty() {
            none(&mut out);
        } else {
            for t in &r.traces {
                let _ = writeln!(out, "  {}", clean(&t.correlation_id));
                if t.events.is_empty() {
                    out.push_str("    none\n");
                }
                // A terminal shows the latest steps; the page and the JSON have them all.
                let skipped = t.events.len().saturating_sub(TEXT_TRACE_EVENTS);
                if skipped > 0 {
                    let _ = writeln!(out, "    ({} earlier events)", format_count(skipped as u64));
                }
                for e in &t.events[skipped..] {
                    let mut line = format!("    {}  {}", format_seconds(&e.at), clean(&e.kind));
                    if let Some(step) = &e.step {
                        let _ = write!(line, "  {}", clean(step));
                    }
                    if let Some(outcome) = &e.outcome {
                        let _ = write!(line, " -> {}", clean(outcome));
                    }
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// The HTML page.
#[cfg(feature = "html")]
mod html {
    use super::*;

    const CSS: &str = r#"
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d7dce2; --bg: #ffffff; --soft: #f4f6f8;
  --accent: #1f5fa8; --warn: #a33b00; --ok: #1d6b3a; --bar: #1f5fa8; --lag: #a33b00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 20px 40px; color: var(--ink);
  background: var(--bg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
header { border-bottom: 2px solid var(--ink); margin-bottom: 12px; padding-bottom: 8px; }
h1 { font-size: 1.6em; margin: 0 0 2px; }
h2 { font-size: 1.2em; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 14px 0 6px; }
.meta, .note, .muted { color: var(--muted); }
.count { color: var(--muted); font-weight: normal; }
a { color: var(--accent); }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px;
  margin: 12px 0 4px; padding: 0; list-style: none; }
.summary li { border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 4px;
  padding: 6px 10px; background: var(--soft); }
.summary li.alert { border-left-color: var(--warn); }
.summary a { color: inherit; text-decoration: none; display: block; }
.summary .label { display: block; font-size: 0.85em; color: var(--muted); }
.summary .figure { display: block; font-size: 1.25em; font-weight: 600; }
.summary .detail { display: block; font-size: 0.85em; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.93em; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--soft); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
.totals { margin: 8px 0; }
.totals table { width: auto; min-width: 40%; }
.totals th[scope=row] { font-weight: 600; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: 0.9em; padding: 2px 0; }
p.none { color: var(--ok); font-style: italic; margin: 6px 0; }
.figures { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 6px 0; }
.figures div { min-width: 140px; }
.figures dt { font-size: 0.85em; color: var(--muted); }
.figures dd { margin: 0; font-weight: 600; }
svg.chart { display: block; width: 100%; max-width: 760px; height: auto; margin: 8px 0; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .bar { fill: var(--bar); }
svg.chart .line-depth { fill: none; stroke: var(--bar); stroke-width: 2.5; }
svg.chart .line-lag { fill: none; stroke: var(--lag); stroke-width: 2.5; stroke-dasharray: 6 4; }
svg.chart .dot-depth { fill: var(--bar); }
svg.chart .dot-lag { fill: var(--lag); }
svg.chart .small { font-size: 11px; fill: var(--muted); }
.trace { border: 1px solid var(--line); border-radius: 4px; padding: 4px 12px; margin: 8px 0; }
.trace:target { border-color: var(--accent); box-shadow: 0 0 0 2px var(--accent); }
.trace ol { margin: 4px 0 8px; padding-left: 22px; }
footer { margin-top: 32px; font-size: 0.85em; color: var(--muted); }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  a { color: inherit; text-decoration: none; }
  .summary li { background: none; }
  .table-wrap { overflow: visible; }
  thead { display: table-header-group; }
  tr, li, .trace, svg.chart, .totals, .summary { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .trace:target { box-shadow: none; }
}
@media (max-width: 600px) {
  body { padding: 10px 10px 28px; font-size: 13px; }
  h1 { font-size: 1.3em; }
  .summary { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  th, td { padding: 3px 6px; }
  .table-wrap table { min-width: 560px; }
  .totals table { width: 100%; min-width: 0; }
  .table-wrap td { white-space: nowrap; }
  svg.chart text { font-size: 16px; }
  svg.chart .small { font-size: 14px; }
}
"#;

    /// The page.
    pub(super) fn page(r: &Report) -> Markup {
        let trace_ids: HashSet<&str> = r.traces.iter().map(|t| t.correlation_id.as_str()).collect();
        let ctx = Ctx { traces: trace_ids };
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta http-equiv="Content-Security-Policy"
                        content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                    title { "Operations report, " (format_date(&r.as_of)) }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    header {
                        h1 { "Operations report" }
                        p.meta {
                            "As of " time datetime=(format_date(&r.as_of)) { (format_date(&r.as_of)) }
                            " · generated "
                            time datetime=(r.generated_at.to_rfc3339()) { (format_time(&r.generated_at)) }
                        }
                        (summary(r))
                    }
                    main {
                        (stuck_contracts(r, &ctx))
                        (unbilled(r, &ctx))
                        (failed_releases(r, &ctx))
                        (overdue_invoices(r, &ctx))
                        (unmatched_credits(r))
                        (revenue_mismatches(r, &ctx))
                        (contracts_in_odoo(r))
                        (dead_letters(r))
                        (sync(r))
                        (traces(&r.traces))
                    }
                    footer {
                        "Amounts are never added across currencies. Ages are counted in days to "
                        (format_date(&r.as_of)) "."
                    }
                }
            }
        }
    }

    /// What rows need to render their links.
    struct Ctx<'a> {
        traces: HashSet<&'a str>,
    }

    impl Ctx<'_> {
        /// The correlation id, linked to its trace on the page when the page has it.
        fn correlation(&self, id: Option<&str>) -> Markup {
            let Some(id) = id else {
                return dash();
            };
            let short: String = if id.chars().count() > 24 {
                id.chars().take(8).chain(std::iter::once('…')).collect()
            } else {
                id.to_owned()
            };
            html! {
                @if self.traces.contains(id) {
                    a.corr href={ "#" (anchor(id)) } title=(id) { code { (short) } }
                } @else {
                    code title=(id) { (short) }
                }
            }
        }
    }

    fn dash() -> Markup {
        html! { span.muted { "—" } }
    }

    fn link(l: Option<&Link>) -> Markup {
        match l {
            None => dash(),
            Some(l) => html! {
                @if let Some(url) = safe_url(l) {
                    a href=(url) rel="noreferrer" { (l.label) }
                } @else {
                    (l.label)
                }
            },
        }
    }

    fn money(m: Option<&Money>) -> Markup {
        match m {
            Some(m) => html! { (format_money(m)) },
            None => dash(),
        }
    }

    fn opt(s: Option<&str>) -> Markup {
        match s {
            Some(s) => html! { (s) },
            None => dash(),
        }
    }

    fn none(text: &str) -> Markup {
        html! { p.none { (text) } }
    }

    fn heading(title: &str, count: usize) -> Markup {
        html! {
            h2 {
                (title)
                @if count > 0 { " " span.count { "(" (format_count(count as u64)) ")" } }
            }
        }
    }

    /// The totals of a section: per currency, then per legal entity.
    fn totals(label: &str, t: &Totals) -> Markup {
        html! {
            div.totals {
                @if t.by_currency.is_empty() {
                    p.note { (label) ": no amount known." }
                } @else {
                    p { strong { (label) ": " } (join_money(&t.by_currency)) }
                    @if !t.by_legal_entity.is_empty() {
                        div.table-wrap {
                            table.by-entity {
                                caption { (label) " by legal entity" }
                                thead { tr {
                                    th scope="col" { "Legal entity" }
                                    th.num scope="col" { "Amount" }
                                } }
                                tbody {
                                    @for e in &t.by_legal_entity {
                                        tr {
                                            th scope="row" { (e.legal_entity) }
                                            td.num { (join_money(&e.amounts)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn summary(r: &Report) -> Markup {
        struct Card {
            href: &'static str,
            label: &'static str,
            figure: String,
            detail: String,
            alert: bool,
        }
        let money_or = |t: &Totals, none: &str| {
            if t.by_currency.is_empty() {
                none.to_owned()
            } else {
                join_money(&t.by_currency)
            }
        };
        let n = |c: usize| format_count(c as u64);
        let hours = unbilled_hours(r);
        let dead = dead_letter_total(&r.dead_letters);
        let cards = [
            Card {
                href: "#stuck-contracts",
                label: "Stuck contracts",
                figure: n(r.stuck_contracts.items.len()),
                detail: if r.stuck_contracts.is_empty() {
                    "none".to_owned()
                } else {
                    money_or(&r.stuck_contracts.totals, "no value known")
                },
                alert: !r.stuck_contracts.is_empty(),
            },
            Card {
                href: "#unbilled",
                label: "Unbilled time and expenses",
                figure: money_or(&r.unbilled.totals, "none"),
                detail: if hours.is_zero() {
                    plural(r.unbilled.items.len(), "entry", "entries")
                } else {
                    format!(
                        "{}, {} h",
                        plural(r.unbilled.items.len(), "entry", "entries"),
                        format_decimal(&hours)
                    )
                },
                alert: !r.unbilled.is_empty(),
            },
            Card {
                href: "#failed-releases",
                label: "Failed invoice releases",
                figure: n(r.failed_releases.items.len()),
                detail: if r.failed_releases.is_empty() {
                    "none".to_owned()
                } else {
                    money_or(&r.failed_releases.totals, "no value known")
                },
                alert: !r.failed_releases.is_empty(),
            },
            Card {
                href: "#overdue-invoices",
                label: "Overdue invoices",
                figure: money_or(&r.overdue_invoices.totals, "none"),
                detail: plural(r.overdue_invoices.items.len(), "invoice", "invoices"),
                alert: !r.overdue_invoices.is_empty(),
            },
            Card {
                href: "#unmatched-credits",
                label: "Unmatched bank credits",
                figure: money_or(&r.unmatched_credits.totals, "none"),
                detail: plural(r.unmatched_credits.items.len(), "credit", "credits"),
                alert: !r.unmatched_credits.is_empty(),
            },
            Card {
                href: "#revenue-mismatches",
                label: "Revenue mismatches",
                figure: n(r.revenue_mismatches.items.len()),
                detail: if r.revenue_mismatches.is_empty() {
                    "none".to_owned()
                } else {
                    money_or(&r.revenue_mismatches.totals, "no difference known")
                },
                alert: !r.revenue_mismatches.is_empty(),
            },
            Card {
                href: "#dead-letters",
                label: "Dead letters",
                figure: format_count(dead),
                detail: plural(r.dead_letters.len(), "reason", "reasons"),
                alert: dead > 0,
            },
            Card {
                href: "#sync",
                label: "Sync queue",
                figure: format!("{} waiting", format_count(r.sync.depth)),
                detail: format!("lag {}", format_duration(r.sync.lag_seconds)),
                alert: r.sync.depth > 0,
            },
        ];
        html! {
            ul.summary aria-label="Key figures" {
                @for c in &cards {
                    li class=[c.alert.then_some("alert")] {
                        a href=(c.href) {
                            span.label { (c.label) }
                            span.figure { (c.figure) }
                            span.detail { (c.detail) }
                        }
                    }
                }
            }
        }
    }

    fn stuck_contracts(r: &Report, ctx: &Ctx<'_>) -> Markup {
        let s = &r.stuck_contracts;
        html! {
            section id="stuck-contracts" {
                (heading("Stuck contracts", s.items.len()))
                @if s.is_empty() {
                    (none("No stuck contracts."))
                } @else {
                    p.note { "Contracts with a message waiting for a person, most urgent first." }
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Contract" }
                            th scope="col" { "Client" }
                            th scope="col" { "Legal entity" }
                            th scope="col" { "Reason" }
                            th.num scope="col" { "Age (days)" }
                            th.num scope="col" { "Value" }
                            th scope="col" { "Odoo" }
                            th scope="col" { "CRM" }
                            th scope="col" { "Trace" }
                        } }
                        tbody {
                            @for c in &s.items {
                                tr {
                                    td { (c.contract) }
                                    td { (opt(c.client.as_deref())) }
                                    td { (c.legal_entity) }
                                    td {
                                        @for (i, reason) in c.reasons.iter().enumerate() {
                                            @if i > 0 { br; }
                                            (reason)
                                        }
                                    }
                                    td.num title={ "since " (format_time(&c.since)) } { (c.age_days) }
                                    td.num { (money(c.value.as_ref())) }
                                    td { (link(c.odoo.as_ref())) }
                                    td { (link(c.crm.as_ref())) }
                                    td { (ctx.correlation(c.correlation_id.as_deref())) }
                                }
                            }
                        }
                    } }
                    (totals("Total value", &s.totals))
                }
            }
        }
    }

    fn unbilled(r: &Report, ctx: &Ctx<'_>) -> Markup {
        let u = &r.unbilled;
        let buckets = buckets_of(r);
        let unvalued = u.items.iter().filter(|i| i.value.is_none()).count();
        html! {
            section id="unbilled" {
                (heading("Unbilled time and expenses", u.items.len()))
                @if u.is_empty() {
                    (none("No unbilled time or expenses."))
                } @else {
                    p.note { "Approved time and expenses not invoiced yet, by age." }
                    (age_chart(r, &buckets))
                    @if unvalued > 0 {
                        p.note { (format_count(unvalued as u64)) " of "
                            (format_count(u.items.len() as u64)) " entries have no known value." }
                    }
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Kind" }
                            th scope="col" { "Entry" }
                            th scope="col" { "Contract" }
                            th scope="col" { "Legal entity" }
                            th scope="col" { "Date" }
                            th.num scope="col" { "Age (days)" }
                            th.num scope="col" { "Hours" }
                            th.num scope="col" { "Value" }
                            th scope="col" { "Reason" }
                            th scope="col" { "Odoo" }
                            th scope="col" { "Trace" }
                        } }
                        tbody {
                            @for i in &u.items {
                                tr {
                                    td { (kind_label(i.kind)) }
                                    td { (i.entry) }
                                    td { (opt(i.contract.as_deref())) }
                                    td { (i.legal_entity) }
                                    td { time datetime=(format_date(&i.date)) { (format_date(&i.date)) } }
                                    td.num { (i.age_days) }
                                    td.num { @if let Some(h) = &i.hours { (format_decimal(h)) } @else { (dash()) } }
                                    td.num { (money(i.value.as_ref())) }
                                    td { (opt(i.reason.as_deref())) }
                                    td { (link(i.odoo.as_ref())) }
                                    td { (ctx.correlation(i.correlation_id.as_deref())) }
                                }
                            }
                        }
                    } }
                    (totals("Total unbilled", &u.totals))
                }
            }
        }
    }

    /// One bar (with its value) per age bucket.
    struct Bar {
        bucket: AgeBucket,
        count: usize,
        magnitude: Decimal,
        label: String,
    }

    /// One panel of the age chart: a currency's bars, or the counts when no value is known.
    struct Panel {
        title: String,
        currency: Option<Currency>,
        bars: Vec<Bar>,
    }

    /// The bar chart of unbilled work by age: one `svg.chart-age`, with one panel of four bars
    /// per currency (amounts in different currencies are neither added nor drawn to one
    /// scale), or one panel of counts when no value is known.
    fn age_chart(r: &Report, buckets: &[BucketTotal]) -> Markup {
        let currencies = bucket_currencies(buckets);
        let panels: Vec<Panel> = if currencies.is_empty() {
            vec![Panel {
                title: "Unbilled entries by age".to_owned(),
                currency: None,
                bars: buckets
                    .iter()
                    .map(|b| Bar {
                        bucket: b.bucket,
                        count: b.count,
                        magnitude: Decimal::from(b.count as u64),
                        label: plural(b.count, "entry", "entries"),
                    })
                    .collect(),
            }]
        } else {
            currencies
                .iter()
                .map(|cur| Panel {
                    title: format!("Unbilled value in {} by age", cur.code()),
                    currency: Some(*cur),
                    bars: buckets
                        .iter()
                        .map(|b| {
                            let m = b
                                .value
                                .iter()
                                .find(|m| m.currency == *cur)
                                .copied()
                                .unwrap_or(Money::zero(*cur));
                            // The entries of this bucket valued in this currency.
                            let count = r
                                .unbilled
                                .items
                                .iter()
                                .filter(|i| {
                                    i.bucket == b.bucket
                                        && i.value.is_some_and(|v| v.currency == *cur)
                                })
                                .count();
                            Bar {
                                bucket: b.bucket,
                                count,
                                magnitude: m.amount,
                                label: format_money(&m),
                            }
                        })
                        .collect(),
                })
                .collect()
        };
        bar_chart(&panels)
    }

    fn bucket_key(b: AgeBucket) -> &'static str {
        match b {
            AgeBucket::UpTo7 => "0-7",
            AgeBucket::From8To30 => "8-30",
            AgeBucket::From31To90 => "31-90",
            AgeBucket::Over90 => "90+",
        }
    }

    /// Panels of bars stacked in one SVG, each to its own scale.
    fn bar_chart(panels: &[Panel]) -> Markup {
        const W: f64 = 640.0;
        const PANEL_H: f64 = 250.0;
        const LEFT: f64 = 20.0;
        const TOP: f64 = 34.0;
        const BASE: f64 = 196.0;
        let h = PANEL_H * panels.len().max(1) as f64;
        let aria = panels
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p.title,
                    p.bars
                        .iter()
                        .map(|b| format!("{} {}", b.bucket.label(), b.label))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })
            .collect::<Vec<_>>()
            .join(". ");
        html! {
            svg class="chart chart-age" viewBox={ "0 0 " (W) " " (h) } role="img"
                aria-label=(aria) xmlns="http://www.w3.org/2000/svg" {
                title { (aria) }
                @for (p, panel) in panels.iter().enumerate() {
                    @let max = panel.bars.iter()
                        .map(|b| b.magnitude.to_f64().unwrap_or(0.0).max(0.0))
                        .fold(0.0f64, f64::max);
                    @let slot = (W - 2.0 * LEFT) / panel.bars.len().max(1) as f64;
                    @let bar_w = slot * 0.56;
                    g.panel data-currency=[panel.currency.map(|c| c.code().to_owned())]
                        transform={ "translate(0 " (px(PANEL_H * p as f64)) ")" } {
                        text x=(LEFT) y="18" font-weight="600" { (panel.title) }
                        line.axis x1=(LEFT) y1=(BASE) x2=(W - LEFT) y2=(BASE) {}
                        @for (i, bar) in panel.bars.iter().enumerate() {
                            @let v = bar.magnitude.to_f64().unwrap_or(0.0).max(0.0);
                            @let bh = if max > 0.0 { v / max * (BASE - TOP - 14.0) } else { 0.0 };
                            @let bh = if v > 0.0 { bh.max(1.5) } else { 0.0 };
                            @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                            @let cx = LEFT + slot * (i as f64 + 0.5);
                            rect.bar data-bucket=(bucket_key(bar.bucket))
                                data-value=(bar.magnitude.to_string())
                                x=(px(x)) y=(px(BASE - bh)) width=(px(bar_w)) height=(px(bh)) {
                                title { (bar.bucket.label()) ": " (bar.label) }
                            }
                            text.value x=(px(cx)) y=(px(BASE - bh - 5.0)) text-anchor="middle" {
                                (bar.label)
                            }
                            text x=(px(cx)) y=(px(BASE + 18.0)) text-anchor="middle" {
                                (bar.bucket.label())
                            }
                            text.small x=(px(cx)) y=(px(BASE + 34.0)) text-anchor="middle" {
                                (plural(bar.count, "entry", "entries"))
                            }
                        }
                    }
                }
            }
        }
    }

    /// A coordinate with one decimal.
    fn px(v: f64) -> String {
        format!("{v:.1}")
    }

    fn failed_releases(r: &Report, ctx: &Ctx<'_>) -> Markup {
        let s = &r.failed_releases;
        html! {
            section id="failed-releases" {
                (heading("Failed invoice releases", s.items.len()))
                @if s.is_empty() {
                    (none("No failed invoice releases."))
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Contract" }
                            th scope="col" { "Legal entity" }
                            th scope="col" { "Reason" }
                            th scope="col" { "Class" }
                            th.num scope="col" { "Age (days)" }
                            th.num scope="col" { "Value" }
                            th scope="col" { "Odoo" }
                            th scope="col" { "Trace" }
                        } }
                        tbody {
                            @for f in &s.items {
                                tr {
                                    td { (f.contract) }
                                    td { (f.legal_entity) }
                                    td { (f.reason) }
                                    td { (f.class) }
                                    td.num title={ "since " (format_time(&f.since)) } { (f.age_days) }
                                    td.num { (money(f.value.as_ref())) }
                                    td { (link(f.odoo.as_ref())) }
                                    td { (ctx.correlation(f.correlation_id.as_deref())) }
                                }
                            }
                        }
                    } }
                    (totals("Total to release", &s.totals))
                }
            }
        }
    }

    fn overdue_invoices(r: &Report, ctx: &Ctx<'_>) -> Markup {
        let s = &r.overdue_invoices;
        html! {
            section id="overdue-invoices" {
                (heading("Overdue invoices", s.items.len()))
                @if s.is_empty() {
                    (none("No invoices unpaid past due."))
                } @else {
                    p.note { "Invoices posted in Odoo and unpaid past their due date." }
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Invoice" }
                            th scope="col" { "Client" }
                            th scope="col" { "Legal entity" }
                            th scope="col" { "Due" }
                            th.num scope="col" { "Days overdue" }
                            th.num scope="col" { "Amount due" }
                            th scope="col" { "CRM" }
                            th scope="col" { "Trace" }
                        } }
                        tbody {
                            @for o in &s.items {
                                tr {
                                    td {
                                        @match &o.odoo {
                                            Some(l) if safe_url(l).is_some() => {
                                                a href=[safe_url(l)] rel="noreferrer" { (o.number) }
                                            }
                                            _ => { (o.number) }
                                        }
                                    }
                                    td { (o.client) }
                                    td { (o.legal_entity) }
                                    td { time datetime=(format_date(&o.due_date)) { (format_date(&o.due_date)) } }
                                    td.num { (o.days_overdue) }
                                    td.num { (format_money(&o.amount_due)) }
                                    td { (link(o.crm.as_ref())) }
                                    td { (ctx.correlation(o.correlation_id.as_deref())) }
                                }
                            }
                        }
                    } }
                    (totals("Total due", &s.totals))
                }
            }
        }
    }

    fn unmatched_credits(r: &Report) -> Markup {
        let s = &r.unmatched_credits;
        html! {
            section id="unmatched-credits" {
                (heading("Unmatched bank credits", s.items.len()))
                @if s.is_empty() {
                    (none("No unmatched bank credits."))
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Reference" }
                            th scope="col" { "Legal entity" }
                            th scope="col" { "Booked" }
                            th.num scope="col" { "Age (days)" }
                            th.num scope="col" { "Amount" }
                            th scope="col" { "Reason" }
                        } }
                        tbody {
                            @for c in &s.items {
                                tr {
                                    td { code { (c.reference) } }
                                    td { (c.legal_entity) }
                                    td { time datetime=(format_date(&c.booked_on)) { (format_date(&c.booked_on)) } }
                                    td.num { (c.age_days) }
                                    td.num { (format_money(&c.amount)) }
                                    td { (c.reason) }
                                }
                            }
                        }
                    } }
                    (totals("Total unmatched", &s.totals))
                }
            }
        }
    }

    fn revenue_mismatches(r: &Report, ctx: &Ctx<'_>) -> Markup {
        let s = &r.revenue_mismatches;
        html! {
            section id="revenue-mismatches" {
                (heading("Revenue mismatches", s.items.len()))
                @if s.is_empty() {
                    (none("No revenue mismatches."))
                } @else {
                    p.note { "Revenue posted in Odoo against the canonical revenue schedule, per contract." }
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Contract" }
                            th scope="col" { "Legal entity" }
                            th.num scope="col" { "Posted in Odoo" }
                            th.num scope="col" { "Expected" }
                            th.num scope="col" { "Difference" }
                            th scope="col" { "Odoo" }
                            th scope="col" { "Trace" }
                        } }
                        tbody {
                            @for m in &s.items {
                                tr {
                                    td { (m.contract) }
                                    td { (m.legal_entity) }
                                    td.num { (format_money(&m.posted)) }
                                    td.num { (format_money(&m.expected)) }
                                    td.num { (format_money(&m.difference)) }
                                    td { (link(m.odoo.as_ref())) }
                                    td { (ctx.correlation(m.correlation_id.as_deref())) }
                                }
                            }
                        }
                    } }
                    (totals("Net difference", &s.totals))
                }
            }
        }
    }

    fn contracts_in_odoo(r: &Report) -> Markup {
        let s = &r.contracts_in_odoo;
        html! {
            section id="contracts-in-odoo" {
                (heading("Contracts in Odoo", s.items.len()))
                @if !r.odoo_read {
                    (none("Odoo was not read: nothing is known of the contracts in Odoo."))
                } @else if s.is_empty() {
                    (none("No booked contracts."))
                } @else {
                    p.note { "Each booked contract's sale order and customer invoices as Odoo holds them now." }
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Contract" }
                            th scope="col" { "Sale order" }
                            th scope="col" { "State" }
                            th scope="col" { "Currency" }
                            th scope="col" { "Company" }
                            th.num scope="col" { "Untaxed" }
                            th.num scope="col" { "Invoices" }
                            th scope="col" { "Invoice states" }
                            th scope="col" { "Payment" }
                            th.num scope="col" { "Amount due" }
                        } }
                        tbody {
                            @for c in &s.items {
                                tr {
                                    td { (c.contract) }
                                    td { (link(c.order.as_ref())) }
                                    td { (opt(c.order_state.as_deref())) }
                                    td { (opt(c.currency.as_ref().map(Currency::code))) }
                                    td { (opt(c.company.as_deref())) }
                                    td.num { (money(c.amount_untaxed.as_ref())) }
                                    td.num { (c.invoices.len()) }
                                    td { (tally_text(&c.invoice_states())) }
                                    td { (tally_text(&c.payment_states())) }
                                    td.num {
                                        @if c.amount_due.is_empty() { (dash()) }
                                        @else { (join_money(&c.amount_due)) }
                                    }
                                }
                            }
                        }
                    } }
                    (totals("Total due", &s.totals))
                }
            }
        }
    }

    fn dead_letters(r: &Report) -> Markup {
        let groups = &r.dead_letters;
        let mut classes: Vec<(&str, u64)> = Vec::new();
        for g in groups {
            match classes.iter_mut().find(|(c, _)| *c == g.class) {
                Some((_, n)) => *n = n.saturating_add(g.count),
                None => classes.push((g.class.as_str(), g.count)),
            }
        }
        classes.sort();
        html! {
            section id="dead-letters" {
                (heading("Dead letters", groups.len()))
                @if groups.is_empty() {
                    (none("No dead letters."))
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Reason" }
                            th scope="col" { "Class" }
                            th.num scope="col" { "Count" }
                            th scope="col" { "Oldest" }
                        } }
                        tbody {
                            @for g in groups {
                                tr {
                                    td { code { (g.reason) } }
                                    td { (g.class) }
                                    td.num { (format_count(g.count)) }
                                    td { @if let Some(t) = &g.oldest {
                                        time datetime=(t.to_rfc3339()) { (format_time(t)) }
                                    } @else { (dash()) } }
                                }
                            }
                        }
                    } }
                    div.totals {
                        p {
                            strong { "Total: " } (format_count(dead_letter_total(groups))) " dead letters"
                            @for (i, (class, n)) in classes.iter().enumerate() {
                                @if i == 0 { " (" } @else { ", " }
                                (format_count(*n)) " " (class)
                                @if i + 1 == classes.len() { ")" }
                            }
                        }
                    }
                }
            }
        }
    }

    fn sync(r: &Report) -> Markup {
        let s = &r.sync;
        html! {
            section id="sync" {
                (heading("Sync lag and queue depth", 0))
                dl.figures {
                    div { dt { "Queue depth" } dd { (format_count(s.depth)) " messages" } }
                    div { dt { "Lag (oldest waiting)" } dd { (format_duration(s.lag_seconds)) } }
                    div { dt { "Last activity" } dd {
                        @if let Some(t) = &s.last_activity {
                            time datetime=(t.to_rfc3339()) { (format_time(t)) }
                        } @else { "none" }
                    } }
                }
                @if s.depth == 0 {
                    p.none { "Nothing waiting in the queue." }
                }
                @if s.history.is_empty() {
                    p.none.no-history { "No sync history over the last 24 hours." }
                } @else {
                    (line_chart(&s.history))
                }
            }
        }
    }

    /// Queue depth (left axis) and lag (right axis) per hour.
    fn line_chart(points: &[SyncPoint]) -> Markup {
        const W: f64 = 640.0;
        const H: f64 = 280.0;
        const LEFT: f64 = 56.0;
        const RIGHT: f64 = 560.0;
        const TOP: f64 = 62.0;
        const BOTTOM: f64 = 226.0;
        let n = points.len();
        let max_depth = points.iter().map(|p| p.depth).max().unwrap_or(0).max(1);
        let max_lag = points
            .iter()
            .map(|p| p.lag_seconds)
            .max()
            .unwrap_or(0)
            .max(1);
        let x = |i: usize| {
            if n <= 1 {
                (LEFT + RIGHT) / 2.0
            } else {
                LEFT + (RIGHT - LEFT) * i as f64 / (n - 1) as f64
            }
        };
        let y = |v: u64, max: u64| BOTTOM - (BOTTOM - TOP) * (v as f64 / max as f64);
        let poly = |f: &dyn Fn(&SyncPoint) -> f64| {
            points
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{},{}", px(x(i)), px(f(p))))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let depth_points = poly(&|p| y(p.depth, max_depth));
        let lag_points = poly(&|p| y(p.lag_seconds, max_lag));
        let first = points
            .first()
            .map(|p| format_time(&p.at))
            .unwrap_or_default();
        let last = points
            .last()
            .map(|p| format_time(&p.at))
            .unwrap_or_default();
        let peak_depth = points.iter().map(|p| p.depth).max().unwrap_or(0);
        let peak_lag = points.iter().map(|p| p.lag_seconds).max().unwrap_or(0);
        let aria = format!(
            "Queue depth and lag per hour from {first} to {last}: peak depth {} messages, peak lag {}",
            format_count(peak_depth),
            format_duration(peak_lag)
        );
        let step = n.div_ceil(6).max(1);
        html! {
            svg class="chart chart-sync" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(aria)
                xmlns="http://www.w3.org/2000/svg" {
                title { (aria) }
                // Legend.
                line.line-depth x1=(LEFT) y1="16" x2=(LEFT + 28.0) y2="16" {}
                text x=(LEFT + 34.0) y="20" { "Queue depth (messages, left axis)" }
                line.line-lag x1=(LEFT) y1="38" x2=(LEFT + 28.0) y2="38" {}
                text x=(LEFT + 34.0) y="42" { "Lag of the oldest waiting message (right axis)" }
                // Grid and axes.
                @for k in 0..=4u32 {
                    @let gy = BOTTOM - (BOTTOM - TOP) * f64::from(k) / 4.0;
                    line.grid x1=(LEFT) y1=(px(gy)) x2=(RIGHT) y2=(px(gy)) {}
                }
                line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(BOTTOM) {}
                line.axis x1=(RIGHT) y1=(TOP) x2=(RIGHT) y2=(BOTTOM) {}
                line.axis x1=(LEFT) y1=(BOTTOM) x2=(RIGHT) y2=(BOTTOM) {}
                text.small x=(LEFT - 6.0) y=(px(TOP + 4.0)) text-anchor="end" { (format_count(max_depth)) }
                text.small x=(LEFT - 6.0) y=(px(BOTTOM + 4.0)) text-anchor="end" { "0" }
                text.small x=(RIGHT + 6.0) y=(px(TOP + 4.0)) { (format_duration(max_lag)) }
                text.small x=(RIGHT + 6.0) y=(px(BOTTOM + 4.0)) { "0 s" }
                text.small x="14" y=(px((TOP + BOTTOM) / 2.0)) text-anchor="middle"
                    transform={ "rotate(-90 14 " (px((TOP + BOTTOM) / 2.0)) ")" } { "Messages" }
                text.small x="630" y=(px((TOP + BOTTOM) / 2.0)) text-anchor="middle"
                    transform={ "rotate(90 630 " (px((TOP + BOTTOM) / 2.0)) ")" } { "Lag" }
                @for (i, p) in points.iter().enumerate() {
                    @if i % step == 0 || i + 1 == n {
                        text.small x=(px(x(i))) y=(px(BOTTOM + 16.0)) text-anchor="middle" {
                            (p.at.format("%H:%M").to_string())
                        }
                    }
                }
                text.small x=(px((LEFT + RIGHT) / 2.0)) y=(px(H - 8.0)) text-anchor="middle" {
                    "Hour (UTC), " (first) " to " (last)
                }
                // The series.
                polyline.line-depth data-series="depth" points=(depth_points) {}
                polyline.line-lag data-series="lag" points=(lag_points) {}
                @for (i, p) in points.iter().enumerate() {
                    circle.dot-depth cx=(px(x(i))) cy=(px(y(p.depth, max_depth))) r="2.5" {
                        title { (format_time(&p.at)) ": " (format_count(p.depth)) " messages" }
                    }
                    circle.dot-lag cx=(px(x(i))) cy=(px(y(p.lag_seconds, max_lag))) r="2.5" {
                        title { (format_time(&p.at)) ": lag " (format_duration(p.lag_seconds)) }
                    }
                }
            }
        }
    }

    fn traces(traces: &[Trace]) -> Markup {
        html! {
            section id="traces" {
                (heading("Traces", traces.len()))
                @if traces.is_empty() {
                    (none("No traces."))
                } @else {
                    p.note { "The path of each deal a row above points to, by correlation id." }
                    @for t in traces {
                        article.trace id=(anchor(&t.correlation_id)) {
                            h3 { "Correlation " code { (t.correlation_id) } }
                            @if t.events.is_empty() {
                                p.none { "No events recorded." }
                            } @else {
                                ol {
                                    @for e in &t.events {
                                        li {
                                            time datetime=(e.at.to_rfc3339()) { (format_seconds(&e.at)) }
                                            " " strong { (e.kind) }
                                            @if let Some(step) = &e.step { " · " (step) }
                                            @if let Some(outcome) = &e.outcome { " → " (outcome) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "html"))]
mod tests {
    use super::super::{
        ContractInOdoo, FailedRelease, InvoiceInOdoo, OdooLinks, OverdueInvoice, RevenueMismatch,
        Section, StuckContract, SyncHealth, TraceEvent, Unbilled, UnbilledItem, UnmatchedCredit,
    };
    use super::*;
    use chrono::{Duration, TimeZone};
    use std::str::FromStr;

    const CID: &str = "01890f6e-7c1a-7b2e-9d3f-000000000001";

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn eur(s: &str) -> Money {
        Money::new(d(s), Currency::EUR)
    }

    fn usd(s: &str) -> Money {
        Money::new(d(s), Currency::USD)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, 18, 0, 0).unwrap()
    }

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
    }

    fn empty() -> Report {
        Report::empty(now(), as_of())
    }

    fn unbilled(entry: &str, entity: &str, age: i64, value: Option<Money>) -> UnbilledItem {
        UnbilledItem {
            kind: WorkKind::Time,
            entry: entry.to_owned(),
            contract: Some("hubspot:deal-1".to_owned()),
            legal_entity: entity.to_owned(),
            date: as_of() - Duration::days(age),
            age_days: age,
            bucket: AgeBucket::of_days(age),
            hours: Some(d("7.5")),
            value,
            reason: None,
            correlation_id: Some(CID.to_owned()),
            odoo: None,
        }
    }

    /// Several currencies, two legal entities, links, traces and 24 hours of history.
    fn sample() -> Report {
        let odoo = OdooLinks::new("https://erp.example.com", 19);
        let mut r = empty();
        r.stuck_contracts = Section::new(vec![
            StuckContract {
                contract: "hubspot:deal-1".to_owned(),
                client: Some("Acme SA".to_owned()),
                legal_entity: "firm-fr".to_owned(),
                reasons: vec!["hold: <script>alert(1)</script>".to_owned()],
                since: now() - Duration::days(12),
                age_days: 12,
                value: Some(eur("20000")),
                correlation_id: Some(CID.to_owned()),
                odoo: Some(odoo.link("S00042", "sale.order", 42)),
                crm: Some(Link::new(
                    "Deal 1",
                    "https://app.hubspot.com/contacts/1/deal/1",
                )),
            },
            StuckContract {
                contract: "hubspot:deal-2".to_owned(),
                client: None,
                legal_entity: "firm-us".to_owned(),
                reasons: vec!["hold: no_client".to_owned()],
                since: now() - Duration::days(3),
                age_days: 3,
                value: Some(usd("1234.5")),
                correlation_id: Some("no trace for this one".to_owned()),
                odoo: Some(Link::new("S00043", "javascript:alert(1)")),
                crm: Some(Link::text("Deal 2")),
            },
        ]);
        r.unbilled = Unbilled::new(vec![
            unbilled("psa:te-1", "firm-fr", 2, Some(eur("750"))),
            unbilled("psa:te-2", "firm-fr", 20, Some(eur("1500"))),
            unbilled("psa:te-3", "firm-fr", 45, Some(eur("3000"))),
            unbilled("psa:te-4", "firm-fr", 120, Some(eur("6000"))),
            unbilled("psa:te-5", "firm-us", 9, None),
        ]);
        r.failed_releases = Section::new(vec![FailedRelease {
            contract: "hubspot:deal-3".to_owned(),
            legal_entity: "firm-fr".to_owned(),
            reason: "odoo: access denied".to_owned(),
            class: "technical".to_owned(),
            since: now() - Duration::days(1),
            age_days: 1,
            value: Some(eur("5000")),
            correlation_id: Some(CID.to_owned()),
            odoo: Some(odoo.link("S00044", "sale.order", 44)),
        }]);
        r.overdue_invoices = Section::new(vec![OverdueInvoice {
            number: "INV/2026/00012".to_owned(),
            client: "Acme SA".to_owned(),
            legal_entity: "firm-fr".to_owned(),
            due_date: as_of() - Duration::days(15),
            days_overdue: 15,
            amount_due: eur("12000"),
            correlation_id: Some(CID.to_owned()),
            odoo: Some(odoo.link("INV/2026/00012", "account.move", 7)),
            crm: None,
        }]);
        r.unmatched_credits = Section::new(vec![UnmatchedCredit {
            reference: "NTRF-991".to_owned(),
            booked_on: as_of() - Duration::days(4),
            age_days: 4,
            amount: Money::new(d("150000"), Currency::JPY),
            legal_entity: "firm-us".to_owned(),
            reason: "no open invoice of this amount".to_owned(),
        }]);
        r.revenue_mismatches = Section::new(vec![RevenueMismatch {
            contract: "hubspot:deal-1".to_owned(),
            legal_entity: "firm-fr".to_owned(),
            posted: eur("8000"),
            expected: eur("10000"),
            difference: eur("-2000"),
            correlation_id: Some(CID.to_owned()),
            odoo: Some(odoo.link("S00042", "sale.order", 42)),
        }]);
        r.odoo_read = true;
        let invoice = |number: &str, state: &str, paid: Option<&str>, due: Money| InvoiceInOdoo {
            number: number.to_owned(),
            state: state.to_owned(),
            payment_state: paid.map(str::to_owned),
            amount_due: Some(due),
            odoo: Some(odoo.link(number, "account.move", 7)),
        };
        r.contracts_in_odoo = Section::of_contracts(vec![
            ContractInOdoo {
                contract: "hubspot:deal-1".to_owned(),
                legal_entity: "firm-fr".to_owned(),
                order: Some(odoo.link("S00042", "sale.order", 42)),
                order_state: Some("sale".to_owned()),
                currency: Some(Currency::EUR),
                company: Some("firm-fr".to_owned()),
                amount_untaxed: Some(eur("10000")),
                invoices: vec![
                    invoice("INV/2026/00012", "posted", Some("partial"), eur("1500")),
                    invoice("INV/2026/00013", "posted", Some("paid"), eur("0")),
                    invoice("invoice 9", "draft", Some("not_paid"), eur("500")),
                ],
                amount_due: vec![eur("2000")],
            },
            ContractInOdoo {
                contract: "hubspot:deal-2".to_owned(),
                legal_entity: "firm-us".to_owned(),
                order: None,
                order_state: None,
                currency: None,
                company: None,
                amount_untaxed: None,
                invoices: vec![invoice(
                    "INV/2026/00014",
                    "posted",
                    Some("not_paid"),
                    usd("250"),
                )],
                amount_due: vec![usd("250")],
            },
        ]);
        r.dead_letters = vec![
            DeadLetterGroup {
                reason: "hold: no_client".to_owned(),
                class: "business".to_owned(),
                count: 3,
                oldest: Some(now() - Duration::days(3)),
            },
            DeadLetterGroup {
                reason: "odoo: access denied".to_owned(),
                class: "technical".to_owned(),
                count: 1,
                oldest: None,
            },
        ];
        r.sync = SyncHealth {
            depth: 4,
            lag_seconds: 5_400,
            last_activity: Some(now() - Duration::minutes(5)),
            history: (0..24u64)
                .map(|h| SyncPoint {
                    at: now() - Duration::hours(23 - h as i64),
                    depth: h % 5,
                    lag_seconds: h * 300,
                })
                .collect(),
        };
        r.traces = vec![Trace {
            correlation_id: CID.to_owned(),
            events: vec![
                TraceEvent {
                    at: now() - Duration::days(12),
                    kind: "message_received".to_owned(),
                    step: None,
                    outcome: None,
                },
                TraceEvent {
                    at: now() - Duration::days(12),
                    kind: "step_outcome".to_owned(),
                    step: Some("route".to_owned()),
                    outcome: Some("hold".to_owned()),
                },
            ],
        }];
        r
    }

    const IDS: [&str; 10] = [
        "stuck-contracts",
        "unbilled",
        "failed-releases",
        "overdue-invoices",
        "unmatched-credits",
        "revenue-mismatches",
        "contracts-in-odoo",
        "dead-letters",
        "sync",
        "traces",
    ];

    /// The HTML of one `<section id="...">`.
    fn section<'a>(page: &'a str, id: &str) -> &'a str {
        let open = format!("<section id=\"{id}\">");
        let start = page
            .find(&open)
            .unwrap_or_else(|| panic!("no section {id}"));
        let end = page[start..].find("</section>").unwrap() + start;
        &page[start..end]
    }

    /// Every `<svg ...>...</svg>` with this class.
    fn svgs<'a>(page: &'a str, class: &str) -> Vec<&'a str> {
        let open = format!("<svg class=\"{class}\"");
        page.match_indices(&open)
            .map(|(start, _)| {
                let end = page[start..].find("</svg>").unwrap() + start;
                &page[start..end]
            })
            .collect()
    }

    #[test]
    fn format_money_groups_thousands_and_shows_minor_units() {
        assert_eq!(format_money(&eur("20000")), "20,000.00 EUR");
        assert_eq!(format_money(&usd("-1234.5")), "-1,234.50 USD");
        assert_eq!(format_money(&Money::zero(Currency::JPY)), "0 JPY");
        assert_eq!(
            format_money(&Money::new(d("1234567"), Currency::JPY)),
            "1,234,567 JPY"
        );
        assert_eq!(
            format_money(&Money::new(d("1234.5675"), Currency::KWD)),
            "1,234.568 KWD"
        );
        assert_eq!(format_money(&eur("999.995")), "1,000.00 EUR");
        assert_eq!(format_money(&eur("-0.001")), "0.00 EUR");
        assert_eq!(format_money(&eur("0.5")), "0.50 EUR");
        assert_eq!(format_money(&eur("100")), "100.00 EUR");
        assert_eq!(format_money(&eur("-123456.78")), "-123,456.78 EUR");
        // The largest amount a decimal holds renders without panicking.
        assert_eq!(
            format_money(&Money::new(Decimal::MAX, Currency::EUR)),
            "79,228,162,514,264,337,593,543,950,335.00 EUR"
        );
    }

    #[test]
    fn empty_report_says_none_in_every_section_without_tables() {
        let page = empty().to_html();
        for id in IDS {
            let s = section(&page, id);
            assert!(s.contains("class=\"none\""), "{id} does not say none: {s}");
            assert!(!s.contains("<table"), "{id} has a table: {s}");
            assert!(!s.contains("<svg"), "{id} has a chart: {s}");
        }
        assert!(page.contains("No stuck contracts."));
        assert!(page.contains("No unbilled time or expenses."));
        assert!(page.contains("No sync history over the last 24 hours."));
        assert!(!page.contains("<table"));
    }

    #[test]
    fn page_is_self_contained_and_fits_print_and_phone() {
        let page = sample().to_html();
        assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        assert!(!page.contains("<script"), "no script at all");
        assert!(!page.contains("<link"));
        assert!(!page.contains("src="));
        assert!(!page.contains("url("));
        assert!(page.contains("@page { size: A4;"));
        assert!(page.contains("@media print"));
        assert!(page.contains("@media (max-width: 600px)"));
        assert!(page.contains("name=\"viewport\""));
        assert!(page.contains("<th scope=\"col\">"));
    }

    #[test]
    fn populated_report_has_sections_totals_links_and_traces() {
        let page = sample().to_html();
        for id in IDS {
            let s = section(&page, id);
            assert!(!s.contains("class=\"none\""), "{id} says none: {s}");
        }
        let stuck = section(&page, "stuck-contracts");
        // Totals per currency and per legal entity.
        assert!(stuck.contains("20,000.00 EUR · 1,234.50 USD"), "{stuck}");
        assert!(
            stuck.contains("<th scope=\"row\">firm-fr</th><td class=\"num\">20,000.00 EUR</td>")
        );
        assert!(
            stuck.contains("<th scope=\"row\">firm-us</th><td class=\"num\">1,234.50 USD</td>")
        );
        // Links to Odoo and the CRM, and none for a URL that is not http(s).
        assert!(stuck.contains(
            "<a href=\"https://erp.example.com/odoo/sale.order/42\" rel=\"noreferrer\">S00042</a>"
        ));
        assert!(stuck.contains("href=\"https://app.hubspot.com/contacts/1/deal/1\""));
        assert!(!page.contains("javascript:"));
        assert!(stuck.contains("S00043"));
        // The correlation id links to its trace on the page; an id without a trace does not link.
        let href = format!("href=\"#trace-{CID}\"");
        assert!(stuck.contains(&href), "{stuck}");
        assert!(!page.contains("href=\"#trace-no"));
        let traces = section(&page, "traces");
        assert!(traces.contains(&format!("id=\"trace-{CID}\"")));
        assert!(traces.contains("step_outcome"));
        // The overdue invoice links its number to Odoo 19's route.
        let overdue = section(&page, "overdue-invoices");
        assert!(overdue.contains(
            "<a href=\"https://erp.example.com/odoo/account.move/7\" rel=\"noreferrer\">INV/2026/00012</a>"
        ));
        assert!(section(&page, "unmatched-credits").contains("150,000 JPY"));
        assert!(section(&page, "revenue-mismatches").contains("-2,000.00 EUR"));
        let in_odoo = section(&page, "contracts-in-odoo");
        assert!(in_odoo.contains("<td>2 posted, 1 draft</td>"), "{in_odoo}");
        assert!(in_odoo.contains("<td>1 partial, 1 paid, 1 not_paid</td>"));
        assert!(in_odoo.contains("<strong>Total due: </strong>2,000.00 EUR · 250.00 USD"));
        assert!(in_odoo.contains("<td class=\"num\">10,000.00 EUR</td>"));
        let dead = section(&page, "dead-letters");
        assert!(
            dead.contains("<strong>Total: </strong>4 dead letters"),
            "{dead}"
        );
        assert!(dead.contains("3 business, 1 technical"));
        // The summary shows money at a glance.
        assert!(page.contains("<span class=\"figure\">11,250.00 EUR</span>"));
        assert!(page.contains("<span class=\"figure\">12,000.00 EUR</span>"));
    }

    #[test]
    fn data_is_escaped() {
        let page = sample().to_html();
        assert!(!page.contains("<script>alert(1)</script>"));
        assert!(page.contains("hold: &lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn trace_ids_are_encoded_consistently() {
        let mut r = sample();
        let odd = "deal \"1\" <x>/é";
        r.stuck_contracts.items[0].correlation_id = Some(odd.to_owned());
        r.traces[0].correlation_id = odd.to_owned();
        let page = r.to_html();
        let id = anchor(odd);
        assert_eq!(id, "trace-deal.20.221.22.20.3Cx.3E.2F.C3.A9");
        assert!(page.contains(&format!("href=\"#{id}\"")));
        assert!(page.contains(&format!("id=\"{id}\"")));
        assert_ne!(anchor("a.b"), anchor("a.2Eb"));
        assert_ne!(anchor("a b"), anchor("a_b"));
    }

    #[test]
    fn age_chart_has_one_bar_per_bucket_with_its_value() {
        let page = sample().to_html();
        let charts = svgs(&page, "chart chart-age");
        assert_eq!(charts.len(), 1, "one currency, one chart");
        let chart = charts[0];
        assert!(chart.contains("role=\"img\""));
        assert!(chart.contains("<title>"));
        assert_eq!(chart.matches("<rect class=\"bar\"").count(), 4);
        for (bucket, value) in [
            ("0-7", "750.00 EUR"),
            ("8-30", "1,500.00 EUR"),
            ("31-90", "3,000.00 EUR"),
            ("90+", "6,000.00 EUR"),
        ] {
            assert!(
                chart.contains(&format!("data-bucket=\"{bucket}\"")),
                "{bucket}"
            );
            assert!(chart.contains(&format!(">{value}</text>")), "{value}");
        }
        for label in ["0-7 days", "8-30 days", "31-90 days", "90+ days"] {
            assert!(chart.contains(&format!(">{label}</text>")), "{label}");
        }
        // The oldest bucket holds the most, so it has the tallest bar.
        let heights: Vec<f64> = chart
            .match_indices("height=\"")
            .filter_map(|(i, m)| {
                let rest = &chart[i + m.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect();
        assert_eq!(heights.len(), 4);
        assert!(heights.windows(2).all(|w| w[0] < w[1]), "{heights:?}");
    }

    #[test]
    fn age_chart_counts_entries_when_no_value_is_known() {
        let mut r = empty();
        r.unbilled = Unbilled::new(vec![
            unbilled("psa:te-1", "firm-fr", 1, None),
            unbilled("psa:te-2", "firm-fr", 2, None),
            unbilled("psa:te-3", "firm-fr", 100, None),
        ]);
        let page = r.to_html();
        let charts = svgs(&page, "chart chart-age");
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].matches("<rect class=\"bar\"").count(), 4);
        assert!(charts[0].contains(">2 entries</text>"));
        assert!(charts[0].contains("Unbilled entries by age"));
    }

    #[test]
    fn age_chart_never_adds_currencies() {
        let mut r = empty();
        r.unbilled = Unbilled::new(vec![
            unbilled("psa:te-1", "firm-fr", 1, Some(eur("100"))),
            unbilled("psa:te-2", "firm-us", 40, Some(usd("200"))),
        ]);
        let page = r.to_html();
        let charts = svgs(&page, "chart chart-age");
        assert_eq!(charts.len(), 1, "one chart, one panel per currency");
        let chart = charts[0];
        assert_eq!(chart.matches("<rect class=\"bar\"").count(), 8);
        let eur_at = chart.find("data-currency=\"EUR\"").unwrap();
        let usd_at = chart.find("data-currency=\"USD\"").unwrap();
        assert!(eur_at < usd_at);
        let (eur_panel, usd_panel) = (&chart[eur_at..usd_at], &chart[usd_at..]);
        assert!(eur_panel.contains(">100.00 EUR</text>"));
        assert!(!eur_panel.contains("USD</text>"));
        assert!(usd_panel.contains(">200.00 USD</text>"));
        assert!(usd_panel.contains(">0.00 USD</text>"));
        // Each panel counts the entries in its currency.
        assert_eq!(eur_panel.matches(">1 entry</text>").count(), 1);
        assert_eq!(eur_panel.matches(">0 entries</text>").count(), 3);
        assert_eq!(usd_panel.matches(">1 entry</text>").count(), 1);
        assert!(!page.contains("300.00"), "nothing adds EUR and USD");
    }

    #[test]
    fn sync_chart_has_two_lines_of_24_points_with_legend_and_axes() {
        let page = sample().to_html();
        let charts = svgs(&page, "chart chart-sync");
        assert_eq!(charts.len(), 1);
        let chart = charts[0];
        for series in ["depth", "lag"] {
            let start = chart
                .find(&format!("data-series=\"{series}\" points=\""))
                .unwrap_or_else(|| panic!("no {series} line"));
            let rest = &chart[start..];
            let points = &rest[rest.find("points=\"").unwrap() + 8..];
            let points = &points[..points.find('"').unwrap()];
            assert_eq!(points.split(' ').count(), 24, "{series}: {points}");
        }
        assert!(chart.contains("Queue depth (messages, left axis)"));
        assert!(chart.contains("Lag of the oldest waiting message (right axis)"));
        assert!(chart.contains("Hour (UTC)"));
        assert!(chart.contains("aria-label=\"Queue depth and lag per hour"));
        // The highest lag is 23 x 300 s.
        assert!(chart.contains(">1 h 55 min</text>"));
    }

    #[test]
    fn text_says_none_for_empty_sections_and_totals_otherwise() {
        let text = empty().to_text();
        for title in [
            "STUCK CONTRACTS\n  none",
            "UNBILLED TIME AND EXPENSES\n  none",
            "FAILED INVOICE RELEASES\n  none",
            "OVERDUE INVOICES\n  none",
            "UNMATCHED BANK CREDITS\n  none",
            "REVENUE MISMATCHES\n  none",
            "CONTRACTS IN ODOO\n  none: Odoo was not read",
            "DEAD LETTERS\n  none",
            "TRACES\n  none",
            "Last 24 h: none recorded",
        ] {
            assert!(text.contains(title), "{title} in {text}");
        }

        let text = sample().to_text();
        assert!(text.contains("STUCK CONTRACTS (2)"));
        assert!(text.contains("  Total value: 20,000.00 EUR · 1,234.50 USD"));
        assert!(text.contains("    firm-fr  20,000.00 EUR\n    firm-us  1,234.50 USD\n"));
        assert!(text.contains("  Total hours: 37.5"));
        assert!(text.contains("  Total due: 12,000.00 EUR"));
        assert!(text.contains("CONTRACTS IN ODOO (2)"));
        assert!(text.contains("2 posted, 1 draft"));
        assert!(text.contains("  Total due: 2,000.00 EUR · 250.00 USD"));
        assert!(text.contains("  Total: 4 dead letters"));
        assert!(text.contains("Queue depth: 4 messages; lag: 1 h 30 min"));
        assert!(!text.contains("STUCK CONTRACTS\n  none"));
    }

    #[test]
    fn text_columns_are_aligned_and_control_characters_shown() {
        let mut r = sample();
        r.stuck_contracts.items[1].contract = "evil\u{1b}[2J".to_owned();
        let text = r.to_text();
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("evil\\u{1b}[2J"));
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("STUCK CONTRACTS"))
            .skip(1)
            .take(3)
            .collect();
        // The Value column ends at the same column on every line (right-aligned).
        let end = |l: &str, needle: &str| l.find(needle).map(|i| i + needle.len());
        assert_eq!(
            end(lines[1], "20,000.00 EUR"),
            end(lines[2], "1,234.50 USD")
        );
        assert_eq!(end(lines[0], "Value"), end(lines[1], "20,000.00 EUR"));
    }

    #[test]
    fn text_shows_the_latest_trace_events() {
        let mut r = sample();
        let first = r.traces[0].events[0].clone();
        r.traces[0].events = (0..20)
            .map(|i| {
                let mut e = first.clone();
                e.kind = format!("event_{i:02}");
                e
            })
            .collect();
        let text = r.to_text();
        assert!(text.contains("    (8 earlier events)\n"));
        assert!(!text.contains("event_07"));
        assert!(text.contains("event_08") && text.contains("event_19"));
        assert!(text.contains("2026-03-19 18:00:00 UTC  event_19"));
        // The page keeps them all.
        assert!(r.to_html().contains("event_00"));
    }

    #[test]
    fn json_round_trips() {
        for r in [empty(), sample()] {
            let json = r.to_json().unwrap();
            let back: Report = serde_json::from_str(&json).unwrap();
            assert_eq!(back, r);
        }
        assert!(
            sample()
                .to_json()
                .unwrap()
                .contains("\n  \"stuck_contracts\": {")
        );
    }

    #[test]
    fn totals_with_no_amount_say_so() {
        let mut r = empty();
        let mut item = sample().stuck_contracts.items[0].clone();
        item.value = None;
        r.stuck_contracts = Section::new(vec![item]);
        assert!(r.to_text().contains("Total value: no amount known"));
        assert!(section(&r.to_html(), "stuck-contracts").contains("Total value: no amount known."));
    }
}
