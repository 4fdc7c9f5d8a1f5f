//! Business rules as pure functions: what may be invoiced now, the revenue schedule, amendments,
//! and whether a tax id is well formed ([`tax_id`]).
//!
//! Each rule takes plain canonical values and returns plain values: no I/O, no clock (the date is an
//! input), so a rule gives the same answer on every replay.

mod amendments;
mod invoiceable;
mod revenue;
pub mod tax_id;

pub use amendments::{Amended, ChangeOrderFailed, apply_change_order, apply_change_orders};
pub use invoiceable::{
    Held, HoldReason, InvoiceableInput, InvoiceablePlan, InvoicedToDate, PlanLine, invoiceable_now,
};
pub use revenue::{
    Drawdown, LineRevenue, PeriodRevenue, Progress, RevenueInput, RevenueSchedule, revenue_schedule,
};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::contract::{BillingKind, Contract};
use super::key::BillingLineId;
use super::money::MoneyError;
use super::period::YearMonth;
use super::validate::ValidationErrors;

/// Why a rule could not run on its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The contract does not validate; the rules rely on its invariants (one currency, rounded amounts).
    #[error("the contract is invalid")]
    InvalidContract(#[source] ValidationErrors),
    /// Arithmetic on amounts failed (overflow, or an input in another currency).
    #[error("amount arithmetic failed")]
    Money(#[from] MoneyError),
    /// The schedule's first month is after its last.
    #[error("the schedule runs from {from} to {to}: the first month is after the last")]
    InvalidHorizon {
        /// First month.
        from: YearMonth,
        /// Last month.
        to: YearMonth,
    },
    /// A percentage of completion outside 0 to 100.
    #[error("progress {percent} % on line {line} at {as_of} is outside 0..=100")]
    InvalidProgress {
        /// The line.
        line: BillingLineId,
        /// The date reported.
        as_of: NaiveDate,
        /// The percentage.
        percent: Decimal,
    },
}

/// The contract's only line of the kinds `kind` accepts, if exactly one.
fn only_line(contract: &Contract, kind: impl Fn(BillingKind) -> bool) -> Option<&BillingLineId> {
    let mut matching = contract.billing_lines.iter().filter(|l| kind(l.kind()));
    match (matching.next(), matching.next()) {
        (Some(l), None) => Some(l.id()),
        _ => None,
    }
}

/// The line time entries without a billing line go to: the only time-and-materials or retainer line.
fn default_time_line(contract: &Contract) -> Option<&BillingLineId> {
    only_line(contract, |k| {
        matches!(k, BillingKind::TimeAndMaterials | BillingKind::Retainer)
    })
}
