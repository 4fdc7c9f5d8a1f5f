//! Recurring managed services: a monthly (or quarterly) fee invoiced exactly once per period.
//!
//! A recurring service is ordered as an `ordered_prepaid` order line whose quantity is the number
//! of periods the contract runs (see [`mapping::contract`](crate::mapping::contract)). With
//! invoice policy `order`, Odoo's `sale.order.line._compute_qty_to_invoice`
//! (`addons/sale/models/sale_order_line.py`) makes `qty_to_invoice = product_uom_qty -
//! qty_invoiced`, and `qty_invoiced` is the sum of the posted invoice lines linked to the order
//! line through `sale_line_ids` (`_compute_qty_invoiced`). Odoo's invoicing wizard would invoice
//! every period ordered at once; each period is invoiced on its own instead: an `account.move`
//! with the order's `_prepare_invoice` values and one line for that period (its share of a
//! period as quantity, the line's price, the period in the line's name), linked to the order
//! line, so that `qty_invoiced` grows by one period per invoice. A period cut short has its
//! share rounded to Odoo's two decimals of quantity and its unit price set so that the line comes
//! to the canonical amount (to the cent).
//!
//! The periods, and the share of a period a start, an end or an amended end cuts short, are the
//! canonical rules' ([`RecurringService::periods`](odoo_connect_canonical::RecurringService::periods),
//! [`invoiceable_now`]): [`Flows::recurring_due`](crate::Flows::recurring_due) gives every
//! period due by a day and not invoiced in Odoo yet, so a month-end run that was skipped catches
//! up, and the idempotency key of each period (contract, line, first day) makes a period said
//! twice invoiced once.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BookedContract, Flows, key};
use crate::mapping::LinePart;
use odoo_connect_canonical::rules::{InvoiceableInput, InvoicedToDate, invoiceable_now};
use odoo_connect_canonical::{
    BillingKind, BillingLine, BillingLineId, ContractKey, LineSource, Money,
};
use odoo_connect_client::models::account::MoveState;
use odoo_connect_client::models::{AccountMove, AccountMoveLine};
use odoo_connect_client::{Domain, RecordId};
use odoo_connect_sync::effect::ensure;
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

/// One period of a recurring service to invoice: the message of
/// [`FlowMessage::RecurringFee`](crate::FlowMessage::RecurringFee).
///
/// [`Flows::recurring_due`](crate::Flows::recurring_due) gives them from the canonical rules;
/// the step checks the period against the booked contract again before invoicing it.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Money};
/// use odoo_connect_flows::RecurringPeriod;
/// use rust_decimal::Decimal;
/// let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
/// let p = RecurringPeriod::new(
///     "c-1".parse()?, "support".parse()?, d(3, 15), d(3, 31),
///     Decimal::new(5484, 4), Money::new(Decimal::new(164516, 2), Currency::EUR),
/// );
/// assert_eq!(p.label(), "2025-03-15 to 2025-03-31");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecurringPeriod {
    /// The contract.
    pub contract: ContractKey,
    /// The recurring billing line.
    pub line: BillingLineId,
    /// The period's first day (with the contract and line, its key).
    pub start: NaiveDate,
    /// The period's last day billed.
    pub end: NaiveDate,
    /// The share of a full period billed (1 for a full period, less for one cut short).
    pub share: Decimal,
    /// What the canonical rules price the period at.
    pub amount: Money,
}

impl RecurringPeriod {
    /// A period of line `line` of `contract`, from `start` to `end`, `share` of a full period,
    /// priced `amount`.
    pub fn new(
        contract: ContractKey,
        line: BillingLineId,
        start: NaiveDate,
        end: NaiveDate,
        share: Decimal,
        amount: Money,
    ) -> RecurringPeriod {
        RecurringPeriod {
            contract,
            line,
            start,
            end,
            share,
            amount,
        }
    }

    /// `2025-03-01 to 2025-03-31`: how the period reads on its invoice line.
    pub fn label(&self) -> String {
        format!("{} to {}", self.start, self.end)
    }

    /// `<contract>/<line>/<start>`: the period's key, in idempotency keys.
    pub(crate) fn id(&self) -> String {
        format!("{}/{}/{}", self.contract, self.line, self.start)
    }
}

/// The text that marks an invoice line as a period's (`period 2025-03-01 to`): found again by it.
fn marker(start: NaiveDate) -> String {
    format!("period {start} to")
}

/// Odoo's quantities on order and invoice lines have two decimals (`Product Unit` precision).
const QTY_DECIMALS: u32 = 2;

/// Odoo's unit prices have two decimals (`Product Price` precision).
const PRICE_DECIMALS: u32 = 2;

/// The periods of the recurring lines of `b` due by `as_of` and not invoiced in Odoo yet, by
/// the canonical rules.
pub(super) async fn due(
    f: &Flows,
    b: &BookedContract,
    as_of: NaiveDate,
) -> Result<Vec<RecurringPeriod>, odoo_connect_client::Error> {
    let mut invoiced = InvoicedToDate::new();
    let mut any = false;
    for line in &b.contract.billing_lines {
        let BillingLine::RecurringService(l) = line else {
            continue;
        };
        let Some(sol) = b.sale_line(&l.id, &LinePart::Whole) else {
            continue;
        };
        any = true;
        let done = invoiced_periods(f, sol).await?;
        let starts = l
            .periods(as_of)
            .map(|p| p.start)
            .filter(|s| done.iter().any(|n| n.contains(&marker(*s))));
        invoiced
            .recurring_periods
            .entry(l.id.clone())
            .or_default()
            .extend(starts);
    }
    if !any {
        return Ok(Vec::new());
    }
    // Only the recurring lines: the rest of the contract is other flows' business.
    let mut contract = b.contract.clone();
    contract
        .billing_lines
        .retain(|l| l.kind() == BillingKind::RecurringService);
    let plan = match invoiceable_now(&InvoiceableInput::new(&contract, as_of, &invoiced)) {
        Ok(plan) => plan,
        Err(e) => {
            tracing::warn!(contract = %b.contract.key, error = %e, "recurring periods cannot be planned");
            return Ok(Vec::new());
        }
    };
    Ok(plan
        .lines
        .into_iter()
        .filter_map(|l| match l.source {
            LineSource::RecurringPeriod { start, end } => Some(RecurringPeriod::new(
                b.contract.key.clone(),
                l.billing_line,
                start,
                end,
                l.quantity,
                l.amount,
            )),
            _ => None,
        })
        .collect())
}

/// The names of the invoice lines (of invoices not cancelled) invoicing order line `line`.
async fn invoiced_periods(f: &Flows, line: RecordId) -> odoo_connect_client::Result<Vec<String>> {
    let lines: Vec<AccountMoveLine> = f
        .odoo_for(crate::FlowPath::Release)
        .model::<AccountMoveLine>()
        .search_read(Domain::new().is_in("sale_line_ids", vec![line.get()]))
        .fields(["name", "parent_state"])
        .await?;
    Ok(lines
        .into_iter()
        .filter(|l| l.parent_state != Some(MoveState::Cancel))
        .filter_map(|l| l.name)
        .collect())
}

/// The invoice (not cancelled) with a line invoicing period `start` of order line `line`.
async fn period_invoice(
    f: &Flows,
    line: RecordId,
    start: NaiveDate,
) -> odoo_connect_client::Result<Option<RecordId>> {
    let lines: Vec<AccountMoveLine> = f
        .odoo_for(crate::FlowPath::Release)
        .model::<AccountMoveLine>()
        .search_read(
            Domain::new()
                .is_in("sale_line_ids", vec![line.get()])
                .ilike("name", marker(start)),
        )
        .fields(["move_id", "parent_state"])
        .order("id")
        .await?;
    Ok(lines
        .into_iter()
        .filter(|l| l.parent_state != Some(MoveState::Cancel))
        .find_map(|l| l.move_id.map(|m| m.id)))
}

/// `recurring.invoice`: one period of a recurring service invoiced on an invoice of its own
/// (see the [module](self) documentation), after the checks before billing, once, and posted
/// once. A period the contract does not have (a start that is no period's, a line that is not
/// recurring) is refused as bad data.
pub(super) async fn invoice(f: &Flows, cx: &mut StepContext, p: &RecurringPeriod) -> StepResult {
    let b = super::recall(f, cx, Some(&p.contract), None)
        .await?
        .ok_or_else(|| {
            Stop::failed(
                format!(
                    "no contract `{}` is booked: book the deal first",
                    p.contract
                ),
                None,
            )
        })?;
    let Some(BillingLine::RecurringService(l)) = b.contract.line(&p.line) else {
        return Err(Stop::held(
            format!(
                "not_recurring: contract `{}` has no recurring line `{}`",
                p.contract, p.line
            ),
            json!({"contract": p.contract.as_str(), "line": p.line.as_str()}),
        ));
    };
    // The period as the contract (at its current version) has it: an end amended since the
    // message was made cuts it short; a period past the end is none.
    let Some(period) = l.periods(p.start).find(|s| s.start == p.start) else {
        return Err(Stop::held(
            format!(
                "no_such_period: line `{}` of contract `{}` has no period starting on {}",
                p.line, p.contract, p.start
            ),
            json!({"contract": p.contract.as_str(), "line": p.line.as_str(), "start": p.start.to_string()}),
        ));
    };
    let share = Decimal::from(period.covered_days) / Decimal::from(period.full_days);
    let quantity =
        share.round_dp_with_strategy(QTY_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    // A period cut short is priced as the canonical rules price it (the full price times the
    // share of days): Odoo's quantity has two decimals, so the unit price makes up the rest.
    let price_unit = if period.is_partial() && !quantity.is_zero() {
        let amount = l
            .amount
            .mul_round(share)
            .map_err(|e| Stop::bad_data("the period's amount cannot be computed", &e))?;
        Some((amount.amount / quantity).round_dp(PRICE_DECIMALS))
    } else {
        None
    };
    let label = format!("{} to {}", period.start, period.end);
    let Some(line) = b.sale_line(&p.line, &LinePart::Whole) else {
        return Err(Stop::failed(
            format!(
                "contract `{}` has no order line for recurring line `{}`",
                p.contract, p.line
            ),
            None,
        ));
    };
    if period_invoice(f, line, p.start).await?.is_none() {
        crate::checks::before_billing(f, cx, &b).await?;
    }
    let k = key("recurring", &p.id(), "1", "invoice")?;
    let is_done = || async move {
        Ok(period_invoice(f, line, p.start)
            .await?
            .map(|id| json!({"invoice": id.get()})))
    };
    let order = b.order_id;
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let label_ref = &label;
    let act = || async move {
        let Some(sol) = crate::milestone::read_line(f, line).await? else {
            return Ok(Value::Null);
        };
        let Some(so) = crate::milestone::read_order(f, order).await? else {
            return Ok(Value::Null);
        };
        let mut values = crate::milestone::invoice_values(&so, &sol);
        if let Some(l) = values.invoice_line_ids.0.first_mut() {
            l.quantity = Some(quantity);
            if price_unit.is_some() {
                l.price_unit = price_unit;
            }
            l.name = Some(format!("{}, period {label_ref}", sol.name));
        }
        let id = odoo.model::<AccountMove>().create_values(&values).await?;
        Ok(json!({"invoice": id.get()}))
    };
    let done = ensure(cx, &k, is_done, act).await?;
    let Some(invoice) = done.get("invoice").and_then(Value::as_i64).map(RecordId) else {
        return Err(Stop::failed(
            format!("order line {line} or its order is gone"),
            None,
        ));
    };
    let posted = crate::time::post_once(f, cx, invoice).await?;
    cx.audit(
        AuditEvent::new(crate::FlowEvent::RecurringInvoiced.into())
            .step("recurring.invoice")
            .details(json!({
                "contract": p.contract.as_str(), "line": p.line.as_str(),
                "period": {"start": period.start.to_string(), "end": period.end.to_string()},
                "share": quantity, "amount": p.amount,
                "order": b.order_name, "sale_line": line.get(),
                "invoice": invoice.get(), "posted": posted,
            })),
    );
    Ok(())
}
