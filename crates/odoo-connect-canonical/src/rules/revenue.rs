//! Recognised and deferred revenue per month, per billing line.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RuleError;
use crate::contract::{
    BillingKind, BillingLine, Contract, FixedFeeMilestones, FixedFeeRecognition, RecurringService,
    Retainer, TimeAndMaterials,
};
use crate::currency::Currency;
use crate::key::{BillingLineId, ContractKey};
use crate::money::Money;
use crate::period::YearMonth;
use crate::schema::SchemaVersion;
use crate::time::TimeEntry;
use crate::validate::Validate;

/// Work delivered against a retainer on a day, at its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Drawdown {
    /// The retainer line.
    pub line: BillingLineId,
    /// The day.
    pub date: NaiveDate,
    /// The value consumed.
    pub amount: Money,
}

/// A percentage of completion reported for a fixed-fee line on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// The fixed-fee line.
    pub line: BillingLineId,
    /// The day reported.
    pub as_of: NaiveDate,
    /// Percent complete, 0 to 100.
    pub percent: Decimal,
}

/// The input of [`revenue_schedule`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RevenueInput<'a> {
    /// The contract.
    pub contract: &'a Contract,
    /// First month of the schedule.
    pub from: YearMonth,
    /// Last month of the schedule.
    pub to: YearMonth,
    /// Time entries (approved billable entries of time-and-materials lines count).
    pub time_entries: &'a [TimeEntry],
    /// Retainer consumption by day.
    pub drawdowns: &'a [Drawdown],
    /// Percentages of completion of fixed-fee lines recognised that way.
    pub progress: &'a [Progress],
}

impl<'a> RevenueInput<'a> {
    /// A schedule input for `from..=to` with no time, drawdowns or progress.
    pub fn new(contract: &'a Contract, from: YearMonth, to: YearMonth) -> RevenueInput<'a> {
        RevenueInput {
            contract,
            from,
            to,
            time_entries: &[],
            drawdowns: &[],
            progress: &[],
        }
    }

    /// The same input with these time entries.
    pub fn with_time_entries(mut self, time_entries: &'a [TimeEntry]) -> RevenueInput<'a> {
        self.time_entries = time_entries;
        self
    }

    /// The same input with these retainer drawdowns.
    pub fn with_drawdowns(mut self, drawdowns: &'a [Drawdown]) -> RevenueInput<'a> {
        self.drawdowns = drawdowns;
        self
    }

    /// The same input with these progress reports.
    pub fn with_progress(mut self, progress: &'a [Progress]) -> RevenueInput<'a> {
        self.progress = progress;
        self
    }
}

/// Revenue of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PeriodRevenue {
    /// The month.
    pub month: YearMonth,
    /// Recognised in the month.
    pub recognised: Money,
    /// Recognised up to the end of the month, months before the schedule included.
    pub cumulative: Money,
    /// The value not yet recognised at the end of the month: `value - cumulative`.
    pub deferred: Money,
}

/// The schedule of one billing line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct LineRevenue {
    /// The line.
    pub billing_line: BillingLineId,
    /// Its kind.
    pub kind: BillingKind,
    /// The value recognised over the line's life, as known at the end of the schedule.
    pub value: Money,
    /// Recognised before the schedule's first month.
    pub recognised_before: Money,
    /// Month by month.
    pub periods: Vec<PeriodRevenue>,
}

impl LineRevenue {
    /// Recognised during the schedule.
    pub fn recognised_in_schedule(&self) -> Result<Money, RuleError> {
        Ok(Money::sum(
            self.value.currency,
            self.periods.iter().map(|p| &p.recognised),
        )?)
    }

    /// Deferred at the end of the schedule.
    pub fn deferred_at_end(&self) -> Money {
        self.periods
            .last()
            .map(|p| p.deferred)
            .unwrap_or(self.value)
    }
}

/// Recognised and deferred revenue per month for each billing line of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RevenueSchedule {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// The contract.
    pub contract: ContractKey,
    /// Its version.
    pub contract_version: u32,
    /// The contract currency, of every amount.
    pub currency: Currency,
    /// First month.
    pub from: YearMonth,
    /// Last month.
    pub to: YearMonth,
    /// Per line.
    pub lines: Vec<LineRevenue>,
    /// All lines together, month by month.
    pub totals: Vec<PeriodRevenue>,
}

impl RevenueSchedule {
    /// The total value of the lines scheduled.
    pub fn value(&self) -> Result<Money, RuleError> {
        Ok(Money::sum(
            self.currency,
            self.lines.iter().map(|l| &l.value),
        )?)
    }

    /// The schedule of one line.
    pub fn line(&self, id: &BillingLineId) -> Option<&LineRevenue> {
        self.lines.iter().find(|l| &l.billing_line == id)
    }
}

/// Recognised and deferred revenue per month, per billing line, in the contract currency.
///
/// Each line has a *value* and dated recognition events; `recognised + deferred = value` holds every
/// month, `deferred` being what is not yet recognised. Per kind:
/// - **Fixed fee, on acceptance**: value is the sum of the milestones; each is recognised on the day
///   it is accepted.
/// - **Fixed fee, percentage of completion**: value as above; by each progress report, the value
///   times the highest percentage reported so far, rounded, is recognised.
/// - **Time and materials**: value is the approved billable time of the line up to the end of the
///   schedule, at its rates, rounded per entry and capped at the not-to-exceed; recognised as
///   delivered.
/// - **Retainer**: value is the prepaid total (`amount + topped_up`); recognised as consumed by the
///   drawdowns, never beyond the prepaid total.
/// - **Recurring service**: value is every period up to its end (or, with no end, the periods that
///   start by the end of the schedule), each prorated as invoiced; each period's amount is spread
///   over its days, straight line, and split between months to the cent.
///
/// Pass-through expense lines are re-invoiced costs, not scheduled.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::rules::{revenue_schedule, RevenueInput};
/// use odoo_connect_canonical::{BillingLine, Contract, Currency, Money, Recurrence, YearMonth};
/// use rust_decimal::Decimal;
///
/// let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
/// let mut contract = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Managed service", Currency::EUR, start);
/// contract.end_date = Some(end);
/// contract.billing_lines.push(BillingLine::recurring(
///     "ms".parse()?, "Support", Recurrence::Quarterly, Money::new(Decimal::new(9000, 0), Currency::EUR), start, Some(end),
/// ));
/// let schedule = revenue_schedule(&RevenueInput::new(&contract, "2025-01".parse()?, "2025-03".parse()?))?;
/// let line = &schedule.lines[0];
/// assert_eq!(line.value.amount, Decimal::new(36000, 0));
/// assert_eq!(line.periods[0].recognised.amount, Decimal::new(3100, 0)); // 31 of the quarter's 90 days
/// assert_eq!(line.periods[1].recognised.amount, Decimal::new(2800, 0));
/// assert_eq!(line.deferred_at_end().amount, Decimal::new(27000, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn revenue_schedule(input: &RevenueInput<'_>) -> Result<RevenueSchedule, RuleError> {
    let contract = input.contract;
    contract.validate().map_err(RuleError::InvalidContract)?;
    if input.from > input.to {
        return Err(RuleError::InvalidHorizon {
            from: input.from,
            to: input.to,
        });
    }
    let currency = contract.currency;
    let horizon_end = input.to.last_day();
    let months: Vec<YearMonth> = input.from.through(input.to).collect();
    let default_time_line = super::default_time_line(contract);

    let mut lines = Vec::new();
    for line in &contract.billing_lines {
        let (value, events) = match line {
            BillingLine::FixedFeeMilestones(l) => fixed_fee(l, input.progress)?,
            BillingLine::TimeAndMaterials(l) => {
                let is_default = default_time_line == Some(&l.id);
                time_and_materials(l, input.time_entries, is_default, horizon_end)?
            }
            BillingLine::Retainer(l) => retainer(l, input.drawdowns)?,
            BillingLine::RecurringService(l) => recurring(l, horizon_end)?,
            BillingLine::PassThroughExpenses(_) => continue,
        };
        lines.push(schedule_line(line, value, &events, input.from, &months)?);
    }

    let mut totals = Vec::with_capacity(months.len());
    for (i, month) in months.iter().enumerate() {
        let mut recognised = Money::zero(currency);
        let mut cumulative = Money::zero(currency);
        let mut deferred = Money::zero(currency);
        for l in &lines {
            if let Some(p) = l.periods.get(i) {
                recognised = recognised.checked_add(&p.recognised)?;
                cumulative = cumulative.checked_add(&p.cumulative)?;
                deferred = deferred.checked_add(&p.deferred)?;
            }
        }
        totals.push(PeriodRevenue {
            month: *month,
            recognised,
            cumulative,
            deferred,
        });
    }

    Ok(RevenueSchedule {
        schema_version: SchemaVersion,
        contract: contract.key.clone(),
        contract_version: contract.version,
        currency,
        from: input.from,
        to: input.to,
        lines,
        totals,
    })
}

type Events = Vec<(NaiveDate, Money)>;

fn schedule_line(
    line: &BillingLine,
    value: Money,
    events: &[(NaiveDate, Money)],
    from: YearMonth,
    months: &[YearMonth],
) -> Result<LineRevenue, RuleError> {
    let currency = value.currency;
    let mut before = Money::zero(currency);
    let mut by_month: BTreeMap<YearMonth, Money> = BTreeMap::new();
    for (date, amount) in events {
        let month = YearMonth::of(*date);
        if month < from {
            before = before.checked_add(amount)?;
        } else {
            let slot = by_month.entry(month).or_insert(Money::zero(currency));
            *slot = slot.checked_add(amount)?;
        }
    }
    let mut cumulative = before;
    let mut periods = Vec::with_capacity(months.len());
    for month in months {
        let recognised = by_month
            .get(month)
            .copied()
            .unwrap_or(Money::zero(currency));
        cumulative = cumulative.checked_add(&recognised)?;
        periods.push(PeriodRevenue {
            month: *month,
            recognised,
            cumulative,
            deferred: value.checked_sub(&cumulative)?,
        });
    }
    Ok(LineRevenue {
        billing_line: line.id().clone(),
        kind: line.kind(),
        value,
        recognised_before: before,
        periods,
    })
}

fn fixed_fee(l: &FixedFeeMilestones, progress: &[Progress]) -> Result<(Money, Events), RuleError> {
    let currency = l
        .milestones
        .first()
        .map(|m| m.amount.currency)
        .ok_or(RuleError::Money(crate::MoneyError::NoWeights))?;
    let value = Money::sum(currency, l.milestones.iter().map(|m| &m.amount))?;
    let mut events = Vec::new();
    match l.recognition {
        FixedFeeRecognition::OnAcceptance => {
            for m in &l.milestones {
                if let Some(on) = m.acceptance.accepted_on() {
                    events.push((on, m.amount));
                }
            }
        }
        FixedFeeRecognition::PercentageOfCompletion => {
            let mut reports: Vec<&Progress> = progress.iter().filter(|p| p.line == l.id).collect();
            reports.sort_by_key(|p| p.as_of);
            let mut highest = Decimal::ZERO;
            let mut recognised = Money::zero(currency);
            for p in reports {
                if p.percent < Decimal::ZERO || p.percent > Decimal::ONE_HUNDRED {
                    return Err(RuleError::InvalidProgress {
                        line: p.line.clone(),
                        as_of: p.as_of,
                        percent: p.percent,
                    });
                }
                if p.percent <= highest {
                    continue;
                }
                highest = p.percent;
                let target = value.mul_round(highest / Decimal::ONE_HUNDRED)?;
                events.push((p.as_of, target.checked_sub(&recognised)?));
                recognised = target;
            }
        }
    }
    Ok((value, events))
}

fn time_and_materials(
    l: &TimeAndMaterials,
    entries: &[TimeEntry],
    is_default: bool,
    horizon_end: NaiveDate,
) -> Result<(Money, Events), RuleError> {
    let currency = match (&l.not_to_exceed, l.rate_card.first()) {
        (Some(cap), _) => cap.currency,
        (None, Some(r)) => r.rate.currency,
        (None, None) => return Err(RuleError::Money(crate::MoneyError::NoWeights)),
    };
    let mut mine: Vec<&TimeEntry> = entries
        .iter()
        .filter(|e| e.billable && e.approval.is_approved() && e.date <= horizon_end)
        .filter(|e| e.billing_line.as_ref().map_or(is_default, |id| id == &l.id))
        .collect();
    mine.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
    let mut value = Money::zero(currency);
    let mut events = Vec::new();
    for e in mine {
        let Some(rate) = l.rate_for(&e.role) else {
            continue;
        };
        let mut amount = rate.mul_round(e.hours)?;
        if let Some(cap) = &l.not_to_exceed {
            let room = cap.checked_sub(&value)?;
            amount = amount.checked_min(&room)?;
        }
        if amount.is_positive() {
            value = value.checked_add(&amount)?;
            events.push((e.date, amount));
        }
    }
    Ok((value, events))
}

fn retainer(l: &Retainer, drawdowns: &[Drawdown]) -> Result<(Money, Events), RuleError> {
    let value = l.prepaid()?;
    let mut mine: Vec<&Drawdown> = drawdowns.iter().filter(|d| d.line == l.id).collect();
    mine.sort_by_key(|d| d.date);
    let mut recognised = Money::zero(value.currency);
    let mut events = Vec::new();
    for d in mine {
        let room = value.checked_sub(&recognised)?;
        let amount = d.amount.checked_min(&room)?;
        if amount.is_positive() {
            recognised = recognised.checked_add(&amount)?;
            events.push((d.date, amount));
        }
    }
    Ok((value, events))
}

fn recurring(l: &RecurringService, horizon_end: NaiveDate) -> Result<(Money, Events), RuleError> {
    let until = l.end.unwrap_or(horizon_end);
    let mut value = Money::zero(l.amount.currency);
    let mut events = Vec::new();
    for p in l.periods(until) {
        let amount = if p.is_partial() {
            l.amount
                .mul_round(Decimal::from(p.covered_days) / Decimal::from(p.full_days))?
        } else {
            l.amount
        };
        value = value.checked_add(&amount)?;
        // Days of the period in each month it spans.
        let mut chunks: Vec<(NaiveDate, Decimal)> = Vec::new();
        let mut month = YearMonth::of(p.start);
        loop {
            let first = month.first_day().max(p.start);
            let last = month.last_day().min(p.end);
            if first > last {
                break;
            }
            chunks.push((first, Decimal::from((last - first).num_days() + 1)));
            match month.next() {
                Some(n) if n.first_day() <= p.end => month = n,
                _ => break,
            }
        }
        let weights: Vec<Decimal> = chunks.iter().map(|(_, w)| *w).collect();
        for ((date, _), part) in chunks.iter().zip(amount.allocate(&weights)?) {
            events.push((*date, part));
        }
    }
    Ok((value, events))
}
