//! Retainers: the prepaid amount invoiced up front, once; approved time drawn against it; what is
//! left tracked; an alert when it runs low; time past it held rather than billed.
//!
//! A retainer is ordered as an `ordered_prepaid` order line of 1 × its amount (see
//! [`mapping::contract`](crate::mapping::contract)): with invoice policy `order`, Odoo makes the
//! whole amount invoiceable as soon as the order is confirmed (`qty_to_invoice =
//! product_uom_qty - qty_invoiced`, `addons/sale/models/sale_order_line.py`), and
//! [`FlowMessage::RetainerInvoice`](crate::FlowMessage::RetainerInvoice) invoices that line alone,
//! once, as a milestone's is invoiced.
//!
//! Approved time booked to the retainer (the entry's billing line, or the contract's only line
//! that takes time) is recorded by `time.timesheet` as timesheets on the retainer's order line;
//! Odoo invoices nothing more for them (the line is invoiced on order). Each draw is valued at the
//! rate of its role on the contract's rate card, and the role is written in the timesheet's name
//! (`[entry] (role) description`), so that what is left is read back from Odoo's timesheets on the
//! line ([`Flows::retainer_balance`](crate::Flows::retainer_balance)): the prepaid amount
//! (`amount + topped_up`) less the value drawn. A draw that takes the balance below the
//! retainer's top-up threshold ([`TopUp::when_balance_below`](odoo_connect_canonical::TopUp)) is
//! recorded as `retainer_low` in the audit trail (Odoo has no automatic top-up: a person decides);
//! the hours past the balance are recorded on no order line and held as `retainer_exhausted`, for
//! a change order or a top-up, never billed silently.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BookedContract, Flows, TimesheetsRecorded, key};
use crate::mapping::LinePart;
use odoo_connect_canonical::{
    BillingLine, BillingLineId, Contract, ContractKey, Money, Retainer, Role, TimeEntry,
    TimeEntryKey,
};
use odoo_connect_client::models::{Timesheet, TimesheetValues};
use odoo_connect_client::{Domain, RecordId};
use odoo_connect_sync::effect::{ImportRow, ensure};
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

/// What is left of a retainer: the answer of
/// [`Flows::retainer_balance`](crate::Flows::retainer_balance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RetainerBalance {
    /// The contract.
    pub contract: ContractKey,
    /// The retainer line.
    pub line: BillingLineId,
    /// The order line it is sold on (`sale.order.line`).
    pub sale_line_id: RecordId,
    /// What was prepaid: the amount and the top-ups so far.
    pub prepaid: Money,
    /// The value of the time drawn against it, from Odoo's timesheets on its order line.
    pub consumed: Money,
    /// The hours drawn.
    pub hours: Decimal,
    /// What is left (zero when used up; the time past it is held, not drawn).
    pub balance: Money,
    /// The balance below which the retainer is low (its top-up threshold), if agreed.
    pub low_below: Option<Money>,
}

impl RetainerBalance {
    /// Whether the balance is at or below the top-up threshold.
    pub fn is_low(&self) -> bool {
        self.low_below
            .as_ref()
            .is_some_and(|t| self.balance.checked_cmp(t).is_ok_and(|o| o.is_le()))
    }

    /// Whether nothing is left.
    pub fn is_exhausted(&self) -> bool {
        !self.balance.is_positive()
    }
}

/// The hourly rate of `role` on the contract's rate card (its first time-and-materials line that
/// has the role).
fn rate_for(contract: &Contract, role: &Role) -> Option<Money> {
    contract.billing_lines.iter().find_map(|l| match l {
        BillingLine::TimeAndMaterials(t) => {
            t.rate_card.iter().find(|r| &r.role == role).map(|r| r.rate)
        }
        _ => None,
    })
}

/// A draw's timesheet name: `[entry] (role) description`.
fn draw_name(entry: &TimeEntry) -> String {
    if entry.description.is_empty() {
        format!("[{}] ({})", entry.key, entry.role)
    } else {
        format!("[{}] ({}) {}", entry.key, entry.role, entry.description)
    }
}

/// The entry key and role a draw's timesheet name carries.
fn parse_name(name: &str) -> Option<(TimeEntryKey, Role)> {
    let (k, rest) = name.strip_prefix('[')?.split_once(']')?;
    let (role, _) = rest.trim_start().strip_prefix('(')?.split_once(')')?;
    Some((TimeEntryKey::new(k).ok()?, role.parse().ok()?))
}

/// The value and hours drawn on retainer order line `sale_line` of `b`, from Odoo's timesheets
/// (those of `except`, an earlier attempt of the entry at hand, left out).
async fn drawn(
    f: &Flows,
    b: &BookedContract,
    sale_line: RecordId,
    except: Option<&TimeEntryKey>,
) -> Result<(Money, Decimal), odoo_connect_client::Error> {
    let c = &b.contract;
    let sheets: Vec<Timesheet> = f
        .odoo_for(crate::FlowPath::Time)
        .model::<Timesheet>()
        .search_read(Domain::new().eq("so_line", sale_line.get()))
        .fields(["name", "unit_amount"])
        .await?;
    let mut value = Money::zero(c.currency);
    let mut hours = Decimal::ZERO;
    for s in &sheets {
        let parsed = parse_name(&s.name);
        if except.is_some() && parsed.as_ref().map(|(k, _)| k) == except {
            continue;
        }
        hours += s.unit_amount;
        // A timesheet put on the line by hand, without a role, is counted in hours only.
        let rate = parsed.and_then(|(_, role)| rate_for(c, &role));
        if let Some(rate) = rate {
            let v = Money::new((s.unit_amount * rate.amount).round_dp(2), c.currency);
            value = value.checked_add(&v).unwrap_or(value);
        }
    }
    Ok((value, hours))
}

/// The balance of retainer `r` of `b`.
async fn balance_of(
    f: &Flows,
    b: &BookedContract,
    r: &Retainer,
) -> Result<Option<RetainerBalance>, odoo_connect_client::Error> {
    let Some(sale_line) = b.sale_line(&r.id, &LinePart::Whole) else {
        return Ok(None);
    };
    let Ok(prepaid) = r.prepaid() else {
        return Ok(None);
    };
    let (consumed, hours) = drawn(f, b, sale_line, None).await?;
    let left = prepaid.checked_sub(&consumed).unwrap_or(prepaid);
    let balance = if left.is_positive() {
        left
    } else {
        Money::zero(prepaid.currency)
    };
    Ok(Some(RetainerBalance {
        contract: b.contract.key.clone(),
        line: r.id.clone(),
        sale_line_id: sale_line,
        prepaid,
        consumed,
        hours,
        balance,
        low_below: r.top_up.as_ref().map(|t| t.when_balance_below),
    }))
}

/// The balances of the retainers of `b`.
pub(super) async fn balances(
    f: &Flows,
    b: &BookedContract,
) -> Result<Vec<RetainerBalance>, odoo_connect_client::Error> {
    let mut out = Vec::new();
    for line in &b.contract.billing_lines {
        if let BillingLine::Retainer(r) = line {
            out.extend(balance_of(f, b, r).await?);
        }
    }
    Ok(out)
}

/// Approved, billable `entry` drawn against retainer `r` of `b` (from `time.timesheet`): the
/// hours the balance covers as timesheets on the retainer's order line, the rest on none and held
/// (`retainer_exhausted`); a draw that takes the balance below the top-up threshold audited
/// `retainer_low`.
pub(super) async fn draw(
    f: &Flows,
    cx: &mut StepContext,
    b: &BookedContract,
    r: &Retainer,
    entry: &TimeEntry,
    employee: RecordId,
) -> StepResult {
    let c = &b.contract;
    let Some(sale_line) = b.sale_line(&r.id, &LinePart::Whole) else {
        return Err(Stop::failed(
            format!(
                "contract `{}` has no order line for retainer `{}`",
                c.key, r.id
            ),
            None,
        ));
    };
    let Some(rate) = rate_for(c, &entry.role) else {
        return Err(Stop::held(
            format!(
                "no_rate_for_role: contract `{}` has no rate for role `{}` to value time drawn against retainer `{}`",
                c.key, entry.role, r.id
            ),
            json!({"contract": c.key.as_str(), "entry": entry.key.as_str(), "role": entry.role.as_str()}),
        ));
    };
    let prepaid = r
        .prepaid()
        .map_err(|e| Stop::bad_data("the retainer's amount cannot be summed", &e))?;
    let (consumed, _) = drawn(f, b, sale_line, Some(&entry.key)).await?;
    let before = prepaid
        .checked_sub(&consumed)
        .map_err(|e| Stop::bad_data("the retainer's balance cannot be computed", &e))?;
    let value = Money::new((entry.hours * rate.amount).round_dp(2), c.currency);
    let covered = if !before.is_positive() || rate.amount.is_zero() {
        Decimal::ZERO
    } else if value.checked_cmp(&before).is_ok_and(|o| o.is_le()) {
        entry.hours
    } else {
        (before.amount / rate.amount)
            .round_dp_with_strategy(2, RoundingStrategy::ToZero)
            .min(entry.hours)
    };
    let rest = (entry.hours - covered).max(Decimal::ZERO);
    let name = draw_name(entry);
    let version = &f.inner.ctx.version;
    let row = |hours: Decimal, name: String, so_line: Option<RecordId>| {
        let mut line = TimesheetValues::new();
        line.name = Some(name);
        line.project_id = Some(b.project_id);
        line.employee_id = Some(employee);
        line.date = Some(entry.date);
        line.unit_amount = Some(hours);
        line.so_line = Some(so_line);
        ImportRow::from_values(&line, version)
    };
    let mut rows = Vec::new();
    if !covered.is_zero() {
        let k = key("time_entry", entry.key.as_str(), "1", "timesheet")?;
        rows.push((k, row(covered, name.clone(), Some(sale_line))?));
    }
    if !rest.is_zero() {
        let (effect, label) = if covered.is_zero() {
            ("timesheet", name.clone())
        } else {
            (
                "timesheet-over-retainer",
                format!("{name} (past the retainer)"),
            )
        };
        let k = key("time_entry", entry.key.as_str(), "1", effect)?;
        rows.push((k, row(rest, label, None)?));
    }
    let ids = f
        .inner
        .timesheets
        .create_all(cx, &rows)
        .await
        .into_iter()
        .collect::<StepResult<Vec<_>>>()?;
    cx.state.insert(TimesheetsRecorded { ids });
    let drawn_value = rate
        .checked_mul(covered)
        .map(|m| m.round())
        .unwrap_or(Money::zero(c.currency));
    let after = before.checked_sub(&drawn_value).unwrap_or(before).round();
    if let Some(t) = &r.top_up {
        let below = |m: &Money| {
            m.checked_cmp(&t.when_balance_below)
                .is_ok_and(|o| o.is_le())
        };
        if below(&after) && !below(&before) {
            cx.audit(
                AuditEvent::new(crate::FlowEvent::RetainerLow.into())
                    .step("time.timesheet")
                    .details(json!({
                        "contract": c.key.as_str(), "line": r.id.as_str(),
                        "entry": entry.key.as_str(),
                        "balance": after, "threshold": t.when_balance_below,
                        "top_up": t.amount,
                    })),
            );
        }
    }
    if !rest.is_zero() {
        return Err(Stop::held(
            format!(
                "retainer_exhausted: retainer `{}` of contract `{}` covers {} of the {} hours of entry `{}`; the rest awaits a top-up or a change order",
                r.id,
                c.key,
                covered.normalize(),
                entry.hours.normalize(),
                entry.key
            ),
            json!({
                "contract": c.key.as_str(), "line": r.id.as_str(),
                "entry": entry.key.as_str(),
                "hours": entry.hours.normalize().to_string(),
                "hours_drawn": covered.normalize().to_string(),
                "hours_held": rest.normalize().to_string(),
                "balance_before": before,
                "amount_held": rate.checked_mul(rest).map(|m| m.round()).ok(),
            }),
        ));
    }
    Ok(())
}

/// `retainer.invoice`: the prepaid amount of retainer `line` of `contract` invoiced up front on
/// an invoice of its own (the retainer's order line alone, linked through `sale_line_ids`), after
/// the checks before billing, once, and posted once.
pub(super) async fn invoice(
    f: &Flows,
    cx: &mut StepContext,
    contract: &ContractKey,
    line: &BillingLineId,
) -> StepResult {
    let b = super::recall(f, cx, Some(contract), None)
        .await?
        .ok_or_else(|| {
            Stop::failed(
                format!("no contract `{contract}` is booked: book the deal first"),
                None,
            )
        })?;
    if !matches!(b.contract.line(line), Some(BillingLine::Retainer(_))) {
        return Err(Stop::held(
            format!("not_a_retainer: contract `{contract}` has no retainer line `{line}`"),
            json!({"contract": contract.as_str(), "line": line.as_str()}),
        ));
    }
    let Some(sale_line) = b.sale_line(line, &LinePart::Whole) else {
        return Err(Stop::failed(
            format!("contract `{contract}` has no order line for retainer `{line}`"),
            None,
        ));
    };
    let already = crate::milestone::invoices_of_line(f, sale_line).await?;
    if already.is_empty() {
        crate::checks::before_billing(f, cx, &b).await?;
    }
    let k = key("retainer", &format!("{contract}/{line}"), "1", "invoice")?;
    let is_done = || async move {
        let invoices = crate::milestone::invoices_of_line(f, sale_line).await?;
        Ok(invoices.first().map(|id| json!({"invoice": id})))
    };
    let order = b.order_id;
    let act = || async move {
        let Some(sol) = crate::milestone::read_line(f, sale_line).await? else {
            return Ok(Value::Null);
        };
        let Some(so) = crate::milestone::read_order(f, order).await? else {
            return Ok(Value::Null);
        };
        if !sol.qty_to_invoice.is_sign_positive() || sol.qty_to_invoice.is_zero() {
            return Ok(Value::Null);
        }
        let values = crate::milestone::invoice_values(&so, &sol);
        let id = f
            .odoo_for(crate::FlowPath::Release)
            .model::<odoo_connect_client::models::AccountMove>()
            .create_values(&values)
            .await?;
        Ok(json!({"invoice": id.get()}))
    };
    let done = ensure(cx, &k, is_done, act).await?;
    let Some(invoice) = done.get("invoice").and_then(Value::as_i64).map(RecordId) else {
        return Err(Stop::failed(
            format!("retainer `{line}`'s order line {sale_line} has nothing to invoice"),
            None,
        ));
    };
    let posted = crate::time::post_once(f, cx, invoice).await?;
    cx.audit(
        AuditEvent::new(crate::FlowEvent::RetainerInvoiced.into())
            .step("retainer.invoice")
            .details(json!({
                "contract": contract.as_str(), "line": line.as_str(),
                "order": b.order_name, "sale_line": sale_line.get(),
                "invoice": invoice.get(), "posted": posted,
            })),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_names_carry_the_entry_and_role() {
        let (k, role) = parse_name("[T-1] (consultant) Workshop").unwrap();
        assert_eq!((k.as_str(), role.as_str()), ("T-1", "consultant"));
        assert!(parse_name("[T-1] Workshop").is_none());
        assert!(parse_name("Workshop").is_none());
    }
}
