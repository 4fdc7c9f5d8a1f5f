//! What may be invoiced now, line by line, and what is held and why.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RuleError;
use crate::contract::{
    Acceptance, BillingKind, BillingLine, Contract, ContractStatus, FixedFeeMilestones,
    PassThroughExpenses, RecurringService, Retainer, TimeAndMaterials,
};
use crate::currency::Currency;
use crate::expense::Expense;
use crate::invoice::LineSource;
use crate::key::{BillingLineId, ContractKey, ExpenseKey, Role, TimeEntryKey};
use crate::money::Money;
use crate::schema::SchemaVersion;
use crate::time::{ApprovalState, TimeEntry};
use crate::validate::Validate;

/// What was invoiced already on a contract, net of credit notes: the memory `invoiceable_now` needs
/// so that nothing is invoiced twice.
///
/// After invoicing a plan, [`InvoicedToDate::record`] adds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InvoicedToDate {
    /// Amount invoiced per billing line.
    #[serde(default)]
    pub lines: BTreeMap<BillingLineId, Money>,
    /// Amount invoiced per time entry (an entry billed in part under a cap has the part billed).
    #[serde(default)]
    pub time_entries: BTreeMap<TimeEntryKey, Money>,
    /// Expenses invoiced.
    #[serde(default)]
    pub expenses: BTreeSet<ExpenseKey>,
    /// Recurring periods invoiced, by line, by the period's first day.
    #[serde(default)]
    pub recurring_periods: BTreeMap<BillingLineId, BTreeSet<NaiveDate>>,
}

impl InvoicedToDate {
    /// Nothing invoiced yet.
    pub fn new() -> InvoicedToDate {
        InvoicedToDate::default()
    }

    /// The amount invoiced on a line, zero if none.
    pub fn on_line(&self, line: &BillingLineId, currency: Currency) -> Money {
        self.lines
            .get(line)
            .copied()
            .unwrap_or(Money::zero(currency))
    }

    /// Adds the lines of a plan once they are invoiced. Milestones are recorded on the contract
    /// itself ([`Milestone::invoiced`](crate::Milestone::invoiced)), and retainer top-ups in
    /// [`Retainer::topped_up`].
    pub fn record(&mut self, plan: &InvoiceablePlan) -> Result<(), RuleError> {
        for line in &plan.lines {
            let before = self.on_line(&line.billing_line, line.amount.currency);
            self.lines
                .insert(line.billing_line.clone(), before.checked_add(&line.amount)?);
            match &line.source {
                LineSource::Time { entry } => {
                    let before = self
                        .time_entries
                        .get(entry)
                        .copied()
                        .unwrap_or(Money::zero(line.amount.currency));
                    self.time_entries
                        .insert(entry.clone(), before.checked_add(&line.amount)?);
                }
                LineSource::Expense { expense } => {
                    self.expenses.insert(expense.clone());
                }
                LineSource::RecurringPeriod { start, .. } => {
                    self.recurring_periods
                        .entry(line.billing_line.clone())
                        .or_default()
                        .insert(*start);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The input of [`invoiceable_now`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct InvoiceableInput<'a> {
    /// The contract, at its current version (milestone acceptance and invoicing recorded on it).
    pub contract: &'a Contract,
    /// The day of invoicing: recurring periods starting on or before it are due.
    pub as_of: NaiveDate,
    /// Time entries of the contract's projects, any approval state.
    pub time_entries: &'a [TimeEntry],
    /// Expenses of the contract's projects, any approval state.
    pub expenses: &'a [Expense],
    /// What was invoiced already.
    pub invoiced: &'a InvoicedToDate,
}

impl<'a> InvoiceableInput<'a> {
    /// An input with no time entries or expenses.
    pub fn new(
        contract: &'a Contract,
        as_of: NaiveDate,
        invoiced: &'a InvoicedToDate,
    ) -> InvoiceableInput<'a> {
        InvoiceableInput {
            contract,
            as_of,
            time_entries: &[],
            expenses: &[],
            invoiced,
        }
    }

    /// The same input with these time entries.
    pub fn with_time_entries(mut self, time_entries: &'a [TimeEntry]) -> InvoiceableInput<'a> {
        self.time_entries = time_entries;
        self
    }

    /// The same input with these expenses.
    pub fn with_expenses(mut self, expenses: &'a [Expense]) -> InvoiceableInput<'a> {
        self.expenses = expenses;
        self
    }
}

/// A line that may be invoiced now.
///
/// `amount` is what to invoice. It equals `quantity × unit_price` rounded, except for a time entry
/// billed in part (under a cap, or after an earlier part), where `amount` is exact and `quantity` is
/// the matching share of hours rounded to 4 decimals; `partial` is then `true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PlanLine {
    /// The contract line billed.
    pub billing_line: BillingLineId,
    /// Its kind.
    pub kind: BillingKind,
    /// What is billed.
    pub source: LineSource,
    /// Text for the invoice line.
    pub description: String,
    /// Quantity: hours, periods, units.
    pub quantity: Decimal,
    /// Price of one unit.
    pub unit_price: Money,
    /// The amount to invoice.
    pub amount: Money,
    /// Whether only part of the source is billed.
    pub partial: bool,
}

/// Why something is not invoiced now. In JSON: `{"reason": "cap_reached", "cap": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldReason {
    /// The contract is not active: everything that would be invoiced waits.
    ContractNotActive {
        /// Its status.
        status: ContractStatus,
    },
    /// The time-and-materials line reached its not-to-exceed cap; what is over it waits for a change
    /// order.
    CapReached {
        /// The cap.
        cap: Money,
    },
    /// The milestone is not accepted by the client.
    MilestoneNotAccepted {
        /// Where its acceptance stands.
        acceptance: Acceptance,
    },
    /// The time entry is not approved.
    TimeNotApproved {
        /// Its approval state.
        approval: ApprovalState,
    },
    /// The expense is not approved (or was rejected).
    ExpenseNotApproved {
        /// Its approval state.
        approval: ApprovalState,
    },
    /// The retainer is used up and has no top-up: work beyond it waits for a change order.
    RetainerExhausted {
        /// The balance (zero or negative).
        balance: Money,
    },
    /// The rate card has no rate for the entry's role.
    NoRateForRole {
        /// The role.
        role: Role,
    },
    /// The expense is in another currency than the contract.
    CurrencyMismatch {
        /// The contract currency.
        expected: Currency,
        /// The expense's.
        found: Currency,
    },
    /// The entry names no billing line of a kind that bills it, and the contract has no single line
    /// to default to.
    NoBillingLine {
        /// The line named, if any.
        line: Option<BillingLineId>,
    },
    /// The entry is dated outside the contract's period.
    OutsideContractPeriod {
        /// Its date.
        date: NaiveDate,
    },
}

impl HoldReason {
    /// The reason's name, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            HoldReason::ContractNotActive { .. } => "contract_not_active",
            HoldReason::CapReached { .. } => "cap_reached",
            HoldReason::MilestoneNotAccepted { .. } => "milestone_not_accepted",
            HoldReason::TimeNotApproved { .. } => "time_not_approved",
            HoldReason::ExpenseNotApproved { .. } => "expense_not_approved",
            HoldReason::RetainerExhausted { .. } => "retainer_exhausted",
            HoldReason::NoRateForRole { .. } => "no_rate_for_role",
            HoldReason::CurrencyMismatch { .. } => "currency_mismatch",
            HoldReason::NoBillingLine { .. } => "no_billing_line",
            HoldReason::OutsideContractPeriod { .. } => "outside_contract_period",
        }
    }
}

/// Something that would be invoiced but is held, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Held {
    /// The contract line, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_line: Option<BillingLineId>,
    /// What is held.
    pub source: LineSource,
    /// Why.
    #[serde(flatten)]
    pub reason: HoldReason,
    /// The amount held, when it can be priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// The answer of [`invoiceable_now`]: the lines to invoice and what is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct InvoiceablePlan {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// The contract.
    pub contract: ContractKey,
    /// Its version.
    pub contract_version: u32,
    /// The day of invoicing.
    pub as_of: NaiveDate,
    /// The contract currency.
    pub currency: Currency,
    /// What may be invoiced now, line by line.
    pub lines: Vec<PlanLine>,
    /// What is held and why.
    pub held: Vec<Held>,
    /// Sum of the lines.
    pub total: Money,
}

impl InvoiceablePlan {
    /// The lines of one billing line.
    pub fn lines_of<'a>(
        &'a self,
        line: &BillingLineId,
    ) -> impl Iterator<Item = &'a PlanLine> + use<'a> {
        let line = line.clone();
        self.lines.iter().filter(move |l| l.billing_line == line)
    }

    /// The sum of the lines of one billing line.
    pub fn total_of(&self, line: &BillingLineId) -> Result<Money, RuleError> {
        Ok(Money::sum(
            self.currency,
            self.lines_of(line).map(|l| &l.amount),
        )?)
    }

    /// Whether something is held for this reason name (see [`HoldReason::name`]).
    pub fn is_held_for(&self, reason: &str) -> bool {
        self.held.iter().any(|h| h.reason.name() == reason)
    }
}

/// What may be invoiced now on a contract, line by line, and what must be held and why.
///
/// Per billing kind:
/// - **Fixed-fee milestones**: each accepted milestone not yet invoiced; others are held
///   ([`HoldReason::MilestoneNotAccepted`]).
/// - **Time and materials**: each billable time entry of the line, priced at its role's rate and
///   rounded, less what was invoiced of it. Unapproved entries are held, and so is what would take
///   the line over its not-to-exceed cap: entries are taken by date then key, and the one crossing the
///   cap is billed in part up to the cap exactly, the rest held ([`HoldReason::CapReached`]).
/// - **Retainer**: the prepaid amount not yet invoiced; then, once the balance falls to the top-up
///   threshold, as many top-ups as bring it back above it. Without a top-up, a used-up retainer is
///   held ([`HoldReason::RetainerExhausted`]). Time booked to a retainer line is consumption, not billed.
/// - **Pass-through expenses**: each billable expense not yet invoiced, plus the markup, rounded;
///   held when not approved (if the line requires it, and always when rejected) or in another currency.
/// - **Recurring service**: each period starting on or before `as_of` not yet invoiced, in advance, a
///   last period cut short by the end date pro rata of its days.
///
/// Time entries and expenses without a billing line go to the contract's only line of a kind that
/// bills them. Non-billable ones, and those dated after `as_of` (within the contract's period), are
/// left out. When the contract is not active, every line is moved to
/// `held` with [`HoldReason::ContractNotActive`].
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::rules::{invoiceable_now, InvoiceableInput, InvoicedToDate};
/// use odoo_connect_canonical::{ApprovalState, BillingLine, Contract, Currency, Money, Rate, TimeEntry};
/// use rust_decimal::Decimal;
///
/// let day = |d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap();
/// let eur = |units| Money::new(Decimal::new(units, 0), Currency::EUR);
/// let mut contract = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Advisory", Currency::EUR, day(1));
/// contract.billing_lines.push(BillingLine::time_and_materials(
///     "tm".parse()?, "Advisory", vec![Rate::new("partner".parse()?, eur(400))], Some(eur(1000)),
/// ));
/// contract.sign(day(1))?;
/// contract.activate()?;
///
/// let mut entries = Vec::new();
/// for (i, hours) in [2, 2].iter().enumerate() {
///     let mut e = TimeEntry::new(format!("te-{i}").parse()?, "jane".parse()?, "prj".parse()?,
///         "partner".parse()?, day(3 + i as u32), Decimal::new(*hours, 0), "Work");
///     e.approval = ApprovalState::Approved;
///     entries.push(e);
/// }
/// let invoiced = InvoicedToDate::new();
/// let plan = invoiceable_now(&InvoiceableInput::new(&contract, day(31), &invoiced).with_time_entries(&entries))?;
/// assert_eq!(plan.total, eur(1000)); // 1600 of work, capped at 1000
/// assert!(plan.is_held_for("cap_reached"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn invoiceable_now(input: &InvoiceableInput<'_>) -> Result<InvoiceablePlan, RuleError> {
    let contract = input.contract;
    contract.validate().map_err(RuleError::InvalidContract)?;
    let currency = contract.currency;
    let mut plan = Planner {
        lines: Vec::new(),
        held: Vec::new(),
    };

    let default_time_line = super::default_time_line(contract);
    let default_expense_line =
        super::only_line(contract, |k| k == BillingKind::PassThroughExpenses);

    let mut time_by_line: BTreeMap<&BillingLineId, Vec<&TimeEntry>> = BTreeMap::new();
    for entry in input.time_entries.iter().filter(|e| e.billable) {
        let line = entry.billing_line.as_ref().or(default_time_line);
        let target = line.and_then(|id| contract.line(id));
        match (line, target) {
            (Some(id), Some(BillingLine::TimeAndMaterials(_))) => {
                time_by_line.entry(id).or_default().push(entry)
            }
            (Some(_), Some(BillingLine::Retainer(_))) => {}
            _ => plan.hold(
                entry.billing_line.clone(),
                LineSource::Time {
                    entry: entry.key.clone(),
                },
                HoldReason::NoBillingLine {
                    line: entry.billing_line.clone(),
                },
                None,
            ),
        }
    }
    let mut expenses_by_line: BTreeMap<&BillingLineId, Vec<&Expense>> = BTreeMap::new();
    for expense in input.expenses.iter().filter(|e| e.billable) {
        let line = expense.billing_line.as_ref().or(default_expense_line);
        match line.and_then(|id| contract.line(id)) {
            Some(BillingLine::PassThroughExpenses(l)) => {
                expenses_by_line.entry(&l.id).or_default().push(expense)
            }
            _ => plan.hold(
                expense.billing_line.clone(),
                LineSource::Expense {
                    expense: expense.key.clone(),
                },
                HoldReason::NoBillingLine {
                    line: expense.billing_line.clone(),
                },
                None,
            ),
        }
    }

    for line in &contract.billing_lines {
        match line {
            BillingLine::FixedFeeMilestones(l) => plan.milestones(l),
            BillingLine::TimeAndMaterials(l) => {
                let entries = time_by_line.remove(&l.id).unwrap_or_default();
                plan.time_and_materials(contract, l, entries, input.invoiced, input.as_of)?;
            }
            BillingLine::Retainer(l) => plan.retainer(l, input.invoiced)?,
            BillingLine::PassThroughExpenses(l) => {
                let expenses = expenses_by_line.remove(&l.id).unwrap_or_default();
                plan.expenses(contract, l, expenses, input.invoiced, input.as_of)?;
            }
            BillingLine::RecurringService(l) => plan.recurring(l, input.as_of, input.invoiced)?,
        }
    }

    if !contract.status.is_invoiceable() {
        let status = contract.status;
        let lines = std::mem::take(&mut plan.lines);
        plan.held.extend(lines.into_iter().map(|l| Held {
            billing_line: Some(l.billing_line),
            source: l.source,
            reason: HoldReason::ContractNotActive { status },
            amount: Some(l.amount),
        }));
    }

    let total = Money::sum(currency, plan.lines.iter().map(|l| &l.amount))?;
    Ok(InvoiceablePlan {
        schema_version: SchemaVersion,
        contract: contract.key.clone(),
        contract_version: contract.version,
        as_of: input.as_of,
        currency,
        lines: plan.lines,
        held: plan.held,
        total,
    })
}

fn outside(contract: &Contract, date: NaiveDate) -> bool {
    date < contract.start_date || contract.end_date.is_some_and(|e| date > e)
}

struct Planner {
    lines: Vec<PlanLine>,
    held: Vec<Held>,
}

impl Planner {
    fn hold(
        &mut self,
        billing_line: Option<BillingLineId>,
        source: LineSource,
        reason: HoldReason,
        amount: Option<Money>,
    ) {
        self.held.push(Held {
            billing_line,
            source,
            reason,
            amount,
        });
    }

    fn milestones(&mut self, l: &FixedFeeMilestones) {
        for m in l.milestones.iter().filter(|m| !m.is_invoiced()) {
            let source = LineSource::Milestone {
                milestone: m.key.clone(),
            };
            if m.acceptance.accepted_on().is_some() {
                self.lines.push(PlanLine {
                    billing_line: l.id.clone(),
                    kind: BillingKind::FixedFeeMilestones,
                    source,
                    description: m.name.clone(),
                    quantity: Decimal::ONE,
                    unit_price: m.amount,
                    amount: m.amount,
                    partial: false,
                });
            } else {
                self.hold(
                    Some(l.id.clone()),
                    source,
                    HoldReason::MilestoneNotAccepted {
                        acceptance: m.acceptance.clone(),
                    },
                    Some(m.amount),
                );
            }
        }
    }

    fn time_and_materials(
        &mut self,
        contract: &Contract,
        l: &TimeAndMaterials,
        mut entries: Vec<&TimeEntry>,
        invoiced: &InvoicedToDate,
        as_of: NaiveDate,
    ) -> Result<(), RuleError> {
        let currency = contract.currency;
        entries.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
        // Room left under the cap; `None` when uncapped.
        let mut room = match &l.not_to_exceed {
            Some(cap) => {
                let left = cap.checked_sub(&invoiced.on_line(&l.id, currency))?;
                Some(if left.is_negative() {
                    Money::zero(currency)
                } else {
                    left
                })
            }
            None => None,
        };
        for entry in entries {
            let source = LineSource::Time {
                entry: entry.key.clone(),
            };
            let hold_line = Some(l.id.clone());
            let Some(rate) = l.rate_for(&entry.role) else {
                self.hold(
                    hold_line,
                    source,
                    HoldReason::NoRateForRole {
                        role: entry.role.clone(),
                    },
                    None,
                );
                continue;
            };
            let value = rate.mul_round(entry.hours)?;
            if outside(contract, entry.date) {
                let reason = HoldReason::OutsideContractPeriod { date: entry.date };
                self.hold(hold_line, source, reason, Some(value));
                continue;
            }
            if entry.date > as_of {
                // Not yet worked as of the invoicing date.
                continue;
            }
            if !entry.approval.is_approved() {
                let reason = HoldReason::TimeNotApproved {
                    approval: entry.approval,
                };
                self.hold(hold_line, source, reason, Some(value));
                continue;
            }
            let already = invoiced
                .time_entries
                .get(&entry.key)
                .copied()
                .unwrap_or(Money::zero(currency));
            let remaining = value.checked_sub(&already)?;
            if !remaining.is_positive() {
                continue;
            }
            let (amount, over) = match room {
                None => (remaining, None),
                Some(r) if r.checked_cmp(&remaining)?.is_ge() => {
                    room = Some(r.checked_sub(&remaining)?);
                    (remaining, None)
                }
                Some(r) => {
                    room = Some(Money::zero(currency));
                    (r, Some(remaining.checked_sub(&r)?))
                }
            };
            if amount.is_positive() {
                let partial = amount != value;
                let quantity = if partial {
                    share_of_hours(entry.hours, &amount, &value)
                } else {
                    entry.hours
                };
                self.lines.push(PlanLine {
                    billing_line: l.id.clone(),
                    kind: BillingKind::TimeAndMaterials,
                    source: source.clone(),
                    description: entry.description.clone(),
                    quantity,
                    unit_price: *rate,
                    amount,
                    partial,
                });
            }
            if let (Some(over), Some(cap)) = (over, l.not_to_exceed) {
                self.hold(
                    hold_line,
                    source,
                    HoldReason::CapReached { cap },
                    Some(over),
                );
            }
        }
        Ok(())
    }

    fn retainer(&mut self, l: &Retainer, invoiced: &InvoicedToDate) -> Result<(), RuleError> {
        let currency = l.amount.currency;
        let prepaid = l.prepaid()?;
        let billed = invoiced.on_line(&l.id, currency);
        if billed.checked_cmp(&prepaid)?.is_lt() {
            let amount = prepaid.checked_sub(&billed)?;
            self.lines.push(PlanLine {
                billing_line: l.id.clone(),
                kind: BillingKind::Retainer,
                source: LineSource::RetainerPrepayment,
                description: l.description.clone(),
                quantity: Decimal::ONE,
                unit_price: amount,
                amount,
                partial: false,
            });
            return Ok(());
        }
        // Everything prepaid is billed; invoices beyond it are top-ups not yet recorded on the line.
        let balance = billed.checked_sub(&l.consumed)?;
        match &l.top_up {
            Some(t) if balance.checked_cmp(&t.when_balance_below)?.is_le() => {
                // Enough top-ups to bring the balance back above the threshold.
                let gap = t.when_balance_below.checked_sub(&balance)?;
                let count = gap
                    .amount
                    .checked_div(t.amount.amount)
                    .and_then(|q| q.floor().checked_add(Decimal::ONE))
                    .ok_or(crate::MoneyError::Overflow { operation: "div" })?;
                let amount = t.amount.checked_mul(count)?;
                self.lines.push(PlanLine {
                    billing_line: l.id.clone(),
                    kind: BillingKind::Retainer,
                    source: LineSource::RetainerTopUp,
                    description: l.description.clone(),
                    quantity: count,
                    unit_price: t.amount,
                    amount,
                    partial: false,
                });
            }
            None if !balance.is_positive() => {
                let over = balance.negate();
                self.hold(
                    Some(l.id.clone()),
                    LineSource::RetainerTopUp,
                    HoldReason::RetainerExhausted { balance },
                    Some(if over.is_negative() {
                        Money::zero(currency)
                    } else {
                        over
                    }),
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn expenses(
        &mut self,
        contract: &Contract,
        l: &PassThroughExpenses,
        mut expenses: Vec<&Expense>,
        invoiced: &InvoicedToDate,
        as_of: NaiveDate,
    ) -> Result<(), RuleError> {
        expenses.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
        let factor = Decimal::ONE
            .checked_add(l.markup)
            .ok_or(crate::MoneyError::Overflow { operation: "add" })?;
        for e in expenses
            .into_iter()
            .filter(|e| !invoiced.expenses.contains(&e.key))
        {
            let source = LineSource::Expense {
                expense: e.key.clone(),
            };
            let line = Some(l.id.clone());
            if e.amount.currency != contract.currency {
                let reason = HoldReason::CurrencyMismatch {
                    expected: contract.currency,
                    found: e.amount.currency,
                };
                self.hold(line, source, reason, Some(e.amount));
                continue;
            }
            let amount = e.amount.mul_round(factor)?;
            if outside(contract, e.date) {
                self.hold(
                    line,
                    source,
                    HoldReason::OutsideContractPeriod { date: e.date },
                    Some(amount),
                );
                continue;
            }
            if e.date > as_of {
                continue;
            }
            if e.approval == ApprovalState::Rejected
                || (l.approval_required && !e.approval.is_approved())
            {
                let reason = HoldReason::ExpenseNotApproved {
                    approval: e.approval,
                };
                self.hold(line, source, reason, Some(amount));
                continue;
            }
            self.lines.push(PlanLine {
                billing_line: l.id.clone(),
                kind: BillingKind::PassThroughExpenses,
                source,
                description: e.description.clone(),
                quantity: Decimal::ONE,
                unit_price: amount,
                amount,
                partial: false,
            });
        }
        Ok(())
    }

    fn recurring(
        &mut self,
        l: &RecurringService,
        as_of: NaiveDate,
        invoiced: &InvoicedToDate,
    ) -> Result<(), RuleError> {
        let done = invoiced.recurring_periods.get(&l.id);
        for p in l.periods(as_of) {
            if done.is_some_and(|d| d.contains(&p.start)) {
                continue;
            }
            let (quantity, amount) = if p.is_partial() {
                let share = Decimal::from(p.covered_days) / Decimal::from(p.full_days);
                (round4(share), l.amount.mul_round(share)?)
            } else {
                (Decimal::ONE, l.amount)
            };
            self.lines.push(PlanLine {
                billing_line: l.id.clone(),
                kind: BillingKind::RecurringService,
                source: LineSource::RecurringPeriod {
                    start: p.start,
                    end: p.end,
                },
                description: format!("{} {} to {}", l.description, p.start, p.end),
                quantity,
                unit_price: l.amount,
                amount,
                partial: p.is_partial(),
            });
        }
        Ok(())
    }
}

fn round4(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// `hours × part / whole`, to 4 decimals.
fn share_of_hours(hours: Decimal, part: &Money, whole: &Money) -> Decimal {
    part.amount
        .checked_div(whole.amount)
        .and_then(|r| r.checked_mul(hours))
        .map(round4)
        .unwrap_or(Decimal::ZERO)
}
