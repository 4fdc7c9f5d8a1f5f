//! Change orders: amendments to a contract, and the diff they produce.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contract::{BillingKind, BillingLine, Contract, ContractStatus, Milestone, TopUp};
use super::currency::Currency;
use super::key::{
    BillingLineId, ChangeOrderKey, ContractKey, ExternalRefs, InvoiceKey, MilestoneKey, Role,
};
use super::money::{Money, MoneyError};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, ValidationErrors, impl_validate};

/// One change an amendment makes. In JSON the change carries an `op` field:
/// `{"op": "set_rate", "line": "tm", "role": "partner", "rate": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Sets or removes the not-to-exceed cap of a time-and-materials line.
    SetNotToExceed {
        /// The line.
        line: BillingLineId,
        /// The new cap; `None` removes it.
        cap: Option<Money>,
    },
    /// Sets the hourly rate of a role on a time-and-materials line (adds the role if new).
    SetRate {
        /// The line.
        line: BillingLineId,
        /// The role.
        role: Role,
        /// The new hourly rate.
        rate: Money,
    },
    /// Removes a role from a time-and-materials line's rate card.
    RemoveRate {
        /// The line.
        line: BillingLineId,
        /// The role.
        role: Role,
    },
    /// Adds a milestone to a fixed-fee line.
    AddMilestone {
        /// The line.
        line: BillingLineId,
        /// The new milestone.
        milestone: Milestone,
    },
    /// Removes a milestone not yet invoiced.
    RemoveMilestone {
        /// The line.
        line: BillingLineId,
        /// The milestone.
        milestone: MilestoneKey,
    },
    /// Changes the amount of a milestone not yet invoiced.
    SetMilestoneAmount {
        /// The line.
        line: BillingLineId,
        /// The milestone.
        milestone: MilestoneKey,
        /// The new amount.
        amount: Money,
    },
    /// Changes the due date of a milestone.
    SetMilestoneDueDate {
        /// The line.
        line: BillingLineId,
        /// The milestone.
        milestone: MilestoneKey,
        /// The new due date.
        due_date: Option<NaiveDate>,
    },
    /// Changes the initial amount of a retainer.
    SetRetainerAmount {
        /// The line.
        line: BillingLineId,
        /// The new amount.
        amount: Money,
    },
    /// Sets or removes a retainer's automatic top-up.
    SetTopUp {
        /// The line.
        line: BillingLineId,
        /// The new top-up; `None` removes it.
        top_up: Option<TopUp>,
    },
    /// Changes the markup of a pass-through expenses line.
    SetMarkup {
        /// The line.
        line: BillingLineId,
        /// The new markup, as a fraction.
        markup: Decimal,
    },
    /// Changes the price per period of a recurring service.
    SetRecurringAmount {
        /// The line.
        line: BillingLineId,
        /// The new price of one period.
        amount: Money,
    },
    /// Changes the last day of a recurring service.
    SetRecurringEnd {
        /// The line.
        line: BillingLineId,
        /// The new last day; `None` for no end.
        end: Option<NaiveDate>,
    },
    /// Adds a billing line.
    AddLine {
        /// The new line.
        billing_line: BillingLine,
    },
    /// Removes a billing line that has nothing invoiced or consumed on it.
    RemoveLine {
        /// The line.
        line: BillingLineId,
    },
    /// Changes the contract's last day.
    SetEndDate {
        /// The new last day; `None` for no end.
        end_date: Option<NaiveDate>,
    },
}

impl Change {
    /// The name of the operation, as in JSON's `op`.
    pub fn op(&self) -> &'static str {
        match self {
            Change::SetNotToExceed { .. } => "set_not_to_exceed",
            Change::SetRate { .. } => "set_rate",
            Change::RemoveRate { .. } => "remove_rate",
            Change::AddMilestone { .. } => "add_milestone",
            Change::RemoveMilestone { .. } => "remove_milestone",
            Change::SetMilestoneAmount { .. } => "set_milestone_amount",
            Change::SetMilestoneDueDate { .. } => "set_milestone_due_date",
            Change::SetRetainerAmount { .. } => "set_retainer_amount",
            Change::SetTopUp { .. } => "set_top_up",
            Change::SetMarkup { .. } => "set_markup",
            Change::SetRecurringAmount { .. } => "set_recurring_amount",
            Change::SetRecurringEnd { .. } => "set_recurring_end",
            Change::AddLine { .. } => "add_line",
            Change::RemoveLine { .. } => "remove_line",
            Change::SetEndDate { .. } => "set_end_date",
        }
    }

    fn check(&self, c: &mut Checker) {
        let rounded =
            |c: &mut Checker, name: &'static str, m: &Money| c.positive_money(name, m, m.currency);
        match self {
            Change::SetNotToExceed { cap: Some(m), .. } => rounded(c, "cap", m),
            Change::SetRate { rate, .. } => rounded(c, "rate", rate),
            Change::SetMilestoneAmount { amount, .. }
            | Change::SetRetainerAmount { amount, .. }
            | Change::SetRecurringAmount { amount, .. } => rounded(c, "amount", amount),
            Change::AddMilestone { milestone, .. } => {
                c.field("milestone", |c| {
                    milestone.check(c, milestone.amount.currency)
                });
                if milestone.is_invoiced() {
                    c.report_at(
                        "milestone",
                        ProblemCode::Inconsistent,
                        "a new milestone cannot be invoiced already",
                    );
                }
            }
            Change::SetMarkup { markup, .. } => {
                c.decimal_range("markup", *markup, Decimal::ZERO, Decimal::TEN)
            }
            _ => {}
        }
    }
}

/// An amendment to a contract: a numbered version, the day it takes effect and its changes.
///
/// `version` is the contract version the change order produces: applied to a contract at version
/// *n*, it must be *n + 1*. Applying one twice is refused ([`AmendmentError::AlreadyApplied`]), and
/// [`apply_change_orders`](super::rules::apply_change_orders) skips it as a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ChangeOrder {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: ChangeOrderKey,
    /// Ids in other systems (the signed amendment's envelope, ...).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// The contract amended.
    pub contract: ContractKey,
    /// The contract version it produces (2 for the first amendment).
    pub version: u32,
    /// The day the changes take effect.
    pub effective_date: NaiveDate,
    /// What the amendment is about.
    pub description: String,
    /// The changes, applied in order.
    pub changes: Vec<Change>,
}

impl ChangeOrder {
    /// A change order.
    pub fn new(
        key: ChangeOrderKey,
        contract: ContractKey,
        version: u32,
        effective_date: NaiveDate,
        description: impl Into<String>,
        changes: Vec<Change>,
    ) -> ChangeOrder {
        ChangeOrder {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            contract,
            version,
            effective_date,
            description: description.into(),
            changes,
        }
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        if self.version < 2 {
            c.report_at(
                "version",
                ProblemCode::OutOfRange,
                "the first amendment produces version 2",
            );
        }
        c.date("effective_date", self.effective_date);
        c.text("description", &self.description, 1024);
        if self.changes.is_empty() {
            c.report_at(
                "changes",
                ProblemCode::Required,
                "a change order changes something",
            );
        }
        c.each("changes", &self.changes, |c, ch| ch.check(c));
    }
}

impl_validate!(ChangeOrder);

/// One field changed by an amendment: its path, and its JSON value before and after (`None` where it
/// did not exist).
///
/// Paths name list items by their id in brackets: `billing_lines[tm].rate_card[partner]`,
/// `billing_lines[ff].milestones[m2]`, `end_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiffEntry {
    /// What changed.
    pub path: String,
    /// The value before.
    pub before: Option<serde_json::Value>,
    /// The value after.
    pub after: Option<serde_json::Value>,
}

/// What a change order changed in a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ContractDiff {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// The contract.
    pub contract: ContractKey,
    /// The change order applied.
    pub change_order: ChangeOrderKey,
    /// Version before.
    pub from_version: u32,
    /// Version after.
    pub to_version: u32,
    /// The day the changes take effect.
    pub effective_date: NaiveDate,
    /// The fields changed; a change that set a value to what it was leaves no entry.
    pub entries: Vec<DiffEntry>,
}

impl ContractDiff {
    /// Whether no field changed (only the version did).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for a path.
    pub fn entry(&self, path: &str) -> Option<&DiffEntry> {
        self.entries.iter().find(|e| e.path == path)
    }
}

/// Why a change order could not be applied. Nothing is changed when it is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AmendmentError {
    /// The change order amends another contract.
    #[error("change order for contract {found} applied to contract {expected}")]
    WrongContract {
        /// The contract given.
        expected: ContractKey,
        /// The contract the change order names.
        found: ContractKey,
    },
    /// This change order already produced this version.
    #[error("change order {change_order} (version {version}) is already applied")]
    AlreadyApplied {
        /// Its version.
        version: u32,
        /// Its key.
        change_order: ChangeOrderKey,
    },
    /// Another change order already produced this version.
    #[error("version {version} was produced by change order {applied}, not {change_order}")]
    VersionConflict {
        /// The version.
        version: u32,
        /// The change order that produced it.
        applied: ChangeOrderKey,
        /// The change order refused.
        change_order: ChangeOrderKey,
    },
    /// The change order skips versions: an earlier amendment is missing.
    #[error(
        "the contract is at version {current}: the next change order produces {expected}, not {found}"
    )]
    VersionGap {
        /// The contract's version.
        current: u32,
        /// The version expected.
        expected: u32,
        /// The version of the change order.
        found: u32,
    },
    /// A closed contract is not amended.
    #[error("contract is {0}: it cannot be amended")]
    NotAmendable(ContractStatus),
    /// The change order takes effect before the previous one.
    #[error("effective date {effective_date} is before the previous amendment's {previous}")]
    EffectiveDateOutOfOrder {
        /// Its effective date.
        effective_date: NaiveDate,
        /// The previous amendment's.
        previous: NaiveDate,
    },
    /// The change order changes nothing.
    #[error("the change order has no changes")]
    NoChanges,
    /// No billing line has this id.
    #[error("no billing line {0}")]
    LineNotFound(BillingLineId),
    /// A billing line with this id exists already.
    #[error("billing line {0} exists already")]
    DuplicateLine(BillingLineId),
    /// The change does not apply to this kind of line.
    #[error("{op} does not apply to line {line}, a {kind} line")]
    WrongLineKind {
        /// The line.
        line: BillingLineId,
        /// Its kind.
        kind: BillingKind,
        /// The change.
        op: &'static str,
    },
    /// The line has no such role.
    #[error("line {line} has no rate for {role}")]
    RateNotFound {
        /// The line.
        line: BillingLineId,
        /// The role.
        role: Role,
    },
    /// The line has no such milestone.
    #[error("line {line} has no milestone {milestone}")]
    MilestoneNotFound {
        /// The line.
        line: BillingLineId,
        /// The milestone.
        milestone: MilestoneKey,
    },
    /// A milestone with this key exists already in the contract.
    #[error("milestone {0} exists already")]
    DuplicateMilestone(MilestoneKey),
    /// The milestone was invoiced: it can no longer be removed or repriced.
    #[error("milestone {milestone} was invoiced by {invoice}: it cannot be removed or repriced")]
    MilestoneInvoiced {
        /// The milestone.
        milestone: MilestoneKey,
        /// The invoice that billed it.
        invoice: InvoiceKey,
    },
    /// The line has work consumed or billed against it and cannot be removed.
    #[error("line {0} has invoiced or consumed amounts: it cannot be removed")]
    LineInUse(BillingLineId),
    /// An amount is not in the contract currency.
    #[error("amount in {found}, the contract is in {expected}")]
    CurrencyMismatch {
        /// The contract currency.
        expected: Currency,
        /// The amount's.
        found: Currency,
    },
    /// Arithmetic on the amounts failed.
    #[error("amount arithmetic failed")]
    Money(#[from] MoneyError),
    /// The change order itself does not validate.
    #[error("the change order is invalid")]
    InvalidChangeOrder(#[source] ValidationErrors),
    /// The amended contract would not be valid.
    #[error("the amended contract would be invalid")]
    Invalid(#[source] ValidationErrors),
}

impl Contract {
    /// Applies a change order, giving the new contract version and what changed; `self` is left as it
    /// was. See [`apply_change_order`](super::rules::apply_change_order) for the rules.
    pub fn apply(
        &self,
        change_order: &ChangeOrder,
    ) -> Result<(Contract, ContractDiff), AmendmentError> {
        super::rules::apply_change_order(self, change_order)
    }
}
