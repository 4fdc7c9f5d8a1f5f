//! Applying change orders to contracts.

use serde::Serialize;
use serde_json::Value;

use crate::change_order::{AmendmentError, Change, ChangeOrder, ContractDiff, DiffEntry};
use crate::contract::{
    AppliedChangeOrder, BillingLine, Contract, ContractStatus, FixedFeeMilestones,
    PassThroughExpenses, RecurringService, Retainer, TimeAndMaterials,
};
use crate::currency::Currency;
use crate::key::{BillingLineId, ChangeOrderKey};
use crate::money::Money;
use crate::schema::SchemaVersion;
use crate::validate::Validate;

/// The result of [`apply_change_orders`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Amended {
    /// The contract after every change order.
    pub contract: Contract,
    /// What each change order applied changed, in version order.
    pub diffs: Vec<ContractDiff>,
    /// Change orders skipped because the contract already had them.
    pub skipped: Vec<ChangeOrderKey>,
}

/// A change order of a batch was refused; none of the batch was applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("change order {change_order} (version {version}) was refused")]
#[non_exhaustive]
pub struct ChangeOrderFailed {
    /// The change order refused.
    pub change_order: ChangeOrderKey,
    /// Its version.
    pub version: u32,
    /// Why.
    #[source]
    pub error: AmendmentError,
}

/// Applies one change order to a contract: the new contract version and what changed.
///
/// Refused, with the contract untouched, when the change order:
/// - names another contract, or the contract is closed;
/// - is already applied ([`AmendmentError::AlreadyApplied`]), or another one produced its version;
/// - does not produce the next version (`contract.version + 1`), takes effect before the previous
///   amendment, or has no changes;
/// - changes a line or milestone that does not exist, or of the wrong kind;
/// - removes or reprices a milestone already invoiced ([`AmendmentError::MilestoneInvoiced`]), or
///   removes a line with invoiced or consumed amounts;
/// - would leave an invalid contract (an amount in another currency, a T&M line with no rates, ...).
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{AmendmentError, BillingLine, Change, ChangeOrder, Contract, Currency, Money, Rate};
/// use rust_decimal::Decimal;
///
/// let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let eur = |units| Money::new(Decimal::new(units, 0), Currency::EUR);
/// let mut contract = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Advisory", Currency::EUR, day);
/// contract.billing_lines.push(BillingLine::time_and_materials(
///     "tm".parse()?, "Advisory", vec![Rate::new("partner".parse()?, eur(400))], Some(eur(10_000)),
/// ));
/// let raise_cap = ChangeOrder::new("co-1".parse()?, "c-1".parse()?, 2, day, "More budget",
///     vec![Change::SetNotToExceed { line: "tm".parse()?, cap: Some(eur(15_000)) }]);
///
/// let (v2, diff) = contract.apply(&raise_cap)?;
/// assert_eq!(v2.version, 2);
/// assert!(diff.entry("billing_lines[tm].not_to_exceed").is_some());
/// assert!(matches!(v2.apply(&raise_cap), Err(AmendmentError::AlreadyApplied { version: 2, .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply_change_order(
    contract: &Contract,
    co: &ChangeOrder,
) -> Result<(Contract, ContractDiff), AmendmentError> {
    if co.contract != contract.key {
        return Err(AmendmentError::WrongContract {
            expected: contract.key.clone(),
            found: co.contract.clone(),
        });
    }
    if let Some(applied) = contract
        .amendments
        .iter()
        .find(|a| a.version == co.version || a.change_order == co.key)
    {
        return Err(if applied.change_order == co.key {
            AmendmentError::AlreadyApplied {
                version: applied.version,
                change_order: co.key.clone(),
            }
        } else {
            AmendmentError::VersionConflict {
                version: co.version,
                applied: applied.change_order.clone(),
                change_order: co.key.clone(),
            }
        });
    }
    if contract.status == ContractStatus::Closed {
        return Err(AmendmentError::NotAmendable(contract.status));
    }
    let expected = contract.version.saturating_add(1);
    if co.version != expected {
        return Err(AmendmentError::VersionGap {
            current: contract.version,
            expected,
            found: co.version,
        });
    }
    if co.changes.is_empty() {
        return Err(AmendmentError::NoChanges);
    }
    co.validate().map_err(AmendmentError::InvalidChangeOrder)?;
    if let Some(previous) = contract.amendments.last().map(|a| a.effective_date)
        && co.effective_date < previous
    {
        return Err(AmendmentError::EffectiveDateOutOfOrder {
            effective_date: co.effective_date,
            previous,
        });
    }

    let mut next = contract.clone();
    let mut diff = Diff::default();
    for change in &co.changes {
        apply_one(&mut next, change, &mut diff)?;
    }
    next.version = expected;
    next.amendments.push(AppliedChangeOrder {
        version: expected,
        change_order: co.key.clone(),
        effective_date: co.effective_date,
    });
    next.validate().map_err(AmendmentError::Invalid)?;
    let diff = ContractDiff {
        schema_version: SchemaVersion,
        contract: contract.key.clone(),
        change_order: co.key.clone(),
        from_version: contract.version,
        to_version: expected,
        effective_date: co.effective_date,
        entries: diff.entries,
    };
    Ok((next, diff))
}

/// Applies change orders in version order, skipping those the contract already has (so a replayed
/// batch is a no-op); all or nothing: on the first refusal nothing is applied.
pub fn apply_change_orders(
    contract: &Contract,
    orders: &[ChangeOrder],
) -> Result<Amended, ChangeOrderFailed> {
    let mut sorted: Vec<&ChangeOrder> = orders.iter().collect();
    sorted.sort_by_key(|co| co.version);
    let mut current = contract.clone();
    let mut diffs = Vec::new();
    let mut skipped = Vec::new();
    for co in sorted {
        let known = current
            .amendments
            .iter()
            .any(|a| a.version == co.version && a.change_order == co.key);
        if known && co.contract == current.key {
            skipped.push(co.key.clone());
            continue;
        }
        match apply_change_order(&current, co) {
            Ok((next, diff)) => {
                current = next;
                diffs.push(diff);
            }
            Err(error) => {
                return Err(ChangeOrderFailed {
                    change_order: co.key.clone(),
                    version: co.version,
                    error,
                });
            }
        }
    }
    Ok(Amended {
        contract: current,
        diffs,
        skipped,
    })
}

#[derive(Default)]
struct Diff {
    entries: Vec<DiffEntry>,
}

impl Diff {
    fn record<T: Serialize>(&mut self, path: String, before: Option<&T>, after: Option<&T>) {
        let before = before
            .and_then(|v| serde_json::to_value(v).ok())
            .filter(|v| !v.is_null());
        let after = after
            .and_then(|v| serde_json::to_value(v).ok())
            .filter(|v| !v.is_null());
        if before != after {
            self.entries.push(DiffEntry {
                path,
                before,
                after,
            });
        }
    }

    fn record_values(&mut self, path: String, before: Option<Value>, after: Option<Value>) {
        if before != after {
            self.entries.push(DiffEntry {
                path,
                before,
                after,
            });
        }
    }
}

macro_rules! line_of_kind {
    ($name:ident, $variant:ident, $ty:ty) => {
        fn $name<'a>(
            c: &'a mut Contract,
            id: &BillingLineId,
            op: &'static str,
        ) -> Result<&'a mut $ty, AmendmentError> {
            match c.line_mut(id) {
                Some(BillingLine::$variant(l)) => Ok(l),
                Some(other) => Err(AmendmentError::WrongLineKind {
                    line: id.clone(),
                    kind: other.kind(),
                    op,
                }),
                None => Err(AmendmentError::LineNotFound(id.clone())),
            }
        }
    };
}

line_of_kind!(fixed_fee, FixedFeeMilestones, FixedFeeMilestones);
line_of_kind!(time_and_materials, TimeAndMaterials, TimeAndMaterials);
line_of_kind!(retainer, Retainer, Retainer);
line_of_kind!(pass_through, PassThroughExpenses, PassThroughExpenses);
line_of_kind!(recurring, RecurringService, RecurringService);

fn in_currency(expected: Currency, m: &Money) -> Result<(), AmendmentError> {
    if m.currency == expected {
        Ok(())
    } else {
        Err(AmendmentError::CurrencyMismatch {
            expected,
            found: m.currency,
        })
    }
}

fn apply_one(c: &mut Contract, change: &Change, diff: &mut Diff) -> Result<(), AmendmentError> {
    let cur = c.currency;
    let op = change.op();
    match change {
        Change::SetNotToExceed { line, cap } => {
            if let Some(m) = cap {
                in_currency(cur, m)?;
            }
            let l = time_and_materials(c, line, op)?;
            let before = std::mem::replace(&mut l.not_to_exceed, *cap);
            diff.record(
                format!("billing_lines[{line}].not_to_exceed"),
                before.as_ref(),
                cap.as_ref(),
            );
        }
        Change::SetRate { line, role, rate } => {
            in_currency(cur, rate)?;
            let l = time_and_materials(c, line, op)?;
            let before = match l.rate_card.iter_mut().find(|r| &r.role == role) {
                Some(r) => Some(std::mem::replace(&mut r.rate, *rate)),
                None => {
                    l.rate_card.push(crate::Rate::new(role.clone(), *rate));
                    None
                }
            };
            diff.record(
                format!("billing_lines[{line}].rate_card[{role}]"),
                before.as_ref(),
                Some(rate),
            );
        }
        Change::RemoveRate { line, role } => {
            let l = time_and_materials(c, line, op)?;
            let at = l
                .rate_card
                .iter()
                .position(|r| &r.role == role)
                .ok_or_else(|| AmendmentError::RateNotFound {
                    line: line.clone(),
                    role: role.clone(),
                })?;
            let removed = l.rate_card.remove(at);
            diff.record(
                format!("billing_lines[{line}].rate_card[{role}]"),
                Some(&removed.rate),
                None,
            );
        }
        Change::AddMilestone { line, milestone } => {
            in_currency(cur, &milestone.amount)?;
            if c.milestone(&milestone.key).is_some() {
                return Err(AmendmentError::DuplicateMilestone(milestone.key.clone()));
            }
            fixed_fee(c, line, op)?.milestones.push(milestone.clone());
            diff.record(
                format!("billing_lines[{line}].milestones[{}]", milestone.key),
                None,
                Some(milestone),
            );
        }
        Change::RemoveMilestone { line, milestone } => {
            let l = fixed_fee(c, line, op)?;
            let at = l
                .milestones
                .iter()
                .position(|m| &m.key == milestone)
                .ok_or_else(|| AmendmentError::MilestoneNotFound {
                    line: line.clone(),
                    milestone: milestone.clone(),
                })?;
            if let Some(invoice) = &l.milestones[at].invoiced {
                return Err(AmendmentError::MilestoneInvoiced {
                    milestone: milestone.clone(),
                    invoice: invoice.clone(),
                });
            }
            let removed = l.milestones.remove(at);
            diff.record(
                format!("billing_lines[{line}].milestones[{milestone}]"),
                Some(&removed),
                None,
            );
        }
        Change::SetMilestoneAmount {
            line,
            milestone,
            amount,
        } => {
            in_currency(cur, amount)?;
            let l = fixed_fee(c, line, op)?;
            let m = l
                .milestones
                .iter_mut()
                .find(|m| &m.key == milestone)
                .ok_or_else(|| AmendmentError::MilestoneNotFound {
                    line: line.clone(),
                    milestone: milestone.clone(),
                })?;
            if let Some(invoice) = &m.invoiced
                && m.amount != *amount
            {
                return Err(AmendmentError::MilestoneInvoiced {
                    milestone: milestone.clone(),
                    invoice: invoice.clone(),
                });
            }
            let before = std::mem::replace(&mut m.amount, *amount);
            diff.record(
                format!("billing_lines[{line}].milestones[{milestone}].amount"),
                Some(&before),
                Some(amount),
            );
        }
        Change::SetMilestoneDueDate {
            line,
            milestone,
            due_date,
        } => {
            let l = fixed_fee(c, line, op)?;
            let m = l
                .milestones
                .iter_mut()
                .find(|m| &m.key == milestone)
                .ok_or_else(|| AmendmentError::MilestoneNotFound {
                    line: line.clone(),
                    milestone: milestone.clone(),
                })?;
            let before = std::mem::replace(&mut m.due_date, *due_date);
            diff.record(
                format!("billing_lines[{line}].milestones[{milestone}].due_date"),
                before.as_ref(),
                due_date.as_ref(),
            );
        }
        Change::SetRetainerAmount { line, amount } => {
            in_currency(cur, amount)?;
            let l = retainer(c, line, op)?;
            let before = std::mem::replace(&mut l.amount, *amount);
            diff.record(
                format!("billing_lines[{line}].amount"),
                Some(&before),
                Some(amount),
            );
        }
        Change::SetTopUp { line, top_up } => {
            if let Some(t) = top_up {
                in_currency(cur, &t.amount)?;
                in_currency(cur, &t.when_balance_below)?;
            }
            let l = retainer(c, line, op)?;
            let before = std::mem::replace(&mut l.top_up, *top_up);
            diff.record(
                format!("billing_lines[{line}].top_up"),
                before.as_ref(),
                top_up.as_ref(),
            );
        }
        Change::SetMarkup { line, markup } => {
            let l = pass_through(c, line, op)?;
            let before = std::mem::replace(&mut l.markup, *markup);
            diff.record(
                format!("billing_lines[{line}].markup"),
                Some(&before),
                Some(markup),
            );
        }
        Change::SetRecurringAmount { line, amount } => {
            in_currency(cur, amount)?;
            let l = recurring(c, line, op)?;
            let before = std::mem::replace(&mut l.amount, *amount);
            diff.record(
                format!("billing_lines[{line}].amount"),
                Some(&before),
                Some(amount),
            );
        }
        Change::SetRecurringEnd { line, end } => {
            let l = recurring(c, line, op)?;
            let before = std::mem::replace(&mut l.end, *end);
            diff.record(
                format!("billing_lines[{line}].end"),
                before.as_ref(),
                end.as_ref(),
            );
        }
        Change::AddLine { billing_line } => {
            let id = billing_line.id();
            if c.line(id).is_some() {
                return Err(AmendmentError::DuplicateLine(id.clone()));
            }
            if let Some(m) = billing_line
                .milestones()
                .iter()
                .find(|m| c.milestone(&m.key).is_some())
            {
                return Err(AmendmentError::DuplicateMilestone(m.key.clone()));
            }
            c.billing_lines.push(billing_line.clone());
            diff.record(format!("billing_lines[{id}]"), None, Some(billing_line));
        }
        Change::RemoveLine { line } => {
            let at = c
                .billing_lines
                .iter()
                .position(|l| l.id() == line)
                .ok_or_else(|| AmendmentError::LineNotFound(line.clone()))?;
            match &c.billing_lines[at] {
                BillingLine::FixedFeeMilestones(l) => {
                    if let Some((m, invoice)) = l
                        .milestones
                        .iter()
                        .find_map(|m| m.invoiced.as_ref().map(|i| (m, i)))
                    {
                        return Err(AmendmentError::MilestoneInvoiced {
                            milestone: m.key.clone(),
                            invoice: invoice.clone(),
                        });
                    }
                }
                BillingLine::Retainer(l) if !l.consumed.is_zero() || !l.topped_up.is_zero() => {
                    return Err(AmendmentError::LineInUse(line.clone()));
                }
                _ => {}
            }
            let removed = c.billing_lines.remove(at);
            let before = serde_json::to_value(&removed).ok();
            diff.record_values(format!("billing_lines[{line}]"), before, None);
        }
        Change::SetEndDate { end_date } => {
            let before = std::mem::replace(&mut c.end_date, *end_date);
            diff.record("end_date".to_owned(), before.as_ref(), end_date.as_ref());
        }
    }
    Ok(())
}
