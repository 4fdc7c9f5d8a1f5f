//! [`InvoiceEvent`] ← `account.move` (customer invoices and credit notes) and its lines.
//!
//! | `state` | `payment_state` | status |
//! |---|---|---|
//! | `draft` | any | draft |
//! | `cancel` | any | cancelled |
//! | `posted` | `not_paid`, `blocked` | posted |
//! | `posted` | `partial` | partially paid |
//! | `posted` | `in_payment`, `paid`, `invoicing_legacy` | paid |
//! | `posted` | `reversed` | cancelled (settled by a credit note, not by a payment) |
//!
//! Odoo's `is_move_sent` is not read by the typed record, so an invoice is never `sent` here.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use odoo_connect_canonical::{
    InvoiceEvent, InvoiceKind, InvoiceLine, InvoiceStatus, LineSource, Money, TaxAmount,
};
use odoo_connect_client::RecordId;
use odoo_connect_client::models::account::{
    MoveLineDisplayType, MovePaymentState, MoveState, MoveType,
};
use odoo_connect_client::models::{AccountMove, AccountMoveLine};

use super::{
    LinePart, MappingContext, MappingError, checked_mul, currency_of, derived_key, key_or_derived,
    legal_entity_of, other_selection, refs_with_odoo,
};

const MODEL: &str = "account.move";

/// The canonical status of a customer invoice or credit note.
///
/// ```
/// use odoo_connect_canonical::InvoiceStatus;
/// use odoo_connect_flows::mapping::invoice::status;
/// use odoo_connect_client::models::account::{MovePaymentState, MoveState};
/// assert_eq!(status(&MoveState::Posted, Some(&MovePaymentState::InPayment))?, InvoiceStatus::Paid);
/// assert_eq!(status(&MoveState::Posted, Some(&MovePaymentState::Partial))?, InvoiceStatus::PartiallyPaid);
/// assert!(status(&MoveState::Posted, Some(&MovePaymentState::Other("frozen".into()))).is_err());
/// # Ok::<(), odoo_connect_flows::mapping::MappingError>(())
/// ```
pub fn status(
    state: &MoveState,
    payment_state: Option<&MovePaymentState>,
) -> Result<InvoiceStatus, MappingError> {
    Ok(match state {
        MoveState::Draft => InvoiceStatus::Draft,
        MoveState::Cancel => InvoiceStatus::Cancelled,
        MoveState::Posted => match payment_state {
            None | Some(MovePaymentState::NotPaid | MovePaymentState::Blocked) => {
                InvoiceStatus::Posted
            }
            Some(MovePaymentState::Partial) => InvoiceStatus::PartiallyPaid,
            Some(
                MovePaymentState::InPayment
                | MovePaymentState::Paid
                | MovePaymentState::InvoicingLegacy,
            ) => InvoiceStatus::Paid,
            Some(MovePaymentState::Reversed) => InvoiceStatus::Cancelled,
            Some(other) => return Err(other_selection(MODEL, "payment_state", other.as_str())),
        },
        other => return Err(other_selection(MODEL, "state", other.as_str())),
    })
}

/// Reads an invoice or credit note back from its `account.move` and its journal items.
///
/// `lines` are the move's `account.move.line` records (its `line_ids`; lines of other moves are
/// left out): product lines become invoice lines, with the billing line and source of their sale
/// order line when the context knows it; tax lines become taxes (their amount in the move's
/// currency, else their balance), their rate from
/// [`MappingContext::tax_rates`] or else from the amount and base. Amounts are those of the move,
/// in its currency; the client is the commercial partner. Only customer invoices and credit
/// notes (`out_invoice`, `out_refund`) are taken.
///
/// ```
/// use odoo_connect_canonical::{InvoiceKind, InvoiceStatus};
/// use odoo_connect_flows::mapping::{MappingContext, invoice};
/// use odoo_connect_client::{ServerVersion, models::{AccountMove, AccountMoveLine}};
///
/// let mv: AccountMove = serde_json::from_str(
///     r#"{"id": 57, "name": "INV/2026/00010", "move_type": "out_invoice", "state": "posted",
///         "payment_state": "not_paid", "partner_id": [15, "Azure Interior"], "company_id": [1, "YourCompany"],
///         "invoice_date": "2026-11-23", "invoice_date_due": "2026-12-31", "currency_id": [1, "USD"],
///         "amount_untaxed": 3703.5, "amount_tax": 555.53, "amount_total": 4259.03, "amount_residual": 4259.03,
///         "line_ids": [149, 150]}"#,
/// )?;
/// let lines: Vec<AccountMoveLine> = serde_json::from_str(
///     r#"[{"id": 149, "move_id": [57, "INV/2026/00010"], "display_type": "product", "name": "Campaign",
///          "quantity": 3.0, "price_unit": 1234.5, "price_subtotal": 3703.5, "tax_ids": [1]},
///         {"id": 150, "move_id": [57, "INV/2026/00010"], "display_type": "tax", "name": "15%",
///          "tax_line_id": [1, "15%"], "amount_currency": -555.53}]"#,
/// )?;
/// let ctx = MappingContext::new(ServerVersion::new(19, 0));
/// let inv = invoice::from_odoo(&mv, &lines, &ctx)?;
/// assert_eq!(inv.kind, InvoiceKind::Invoice);
/// assert_eq!(inv.status, InvoiceStatus::Posted);
/// assert_eq!(inv.number.as_deref(), Some("INV/2026/00010"));
/// assert_eq!(inv.total.to_string(), "4259.03 USD");
/// assert_eq!(inv.taxes[0].rate.to_string(), "15.00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(
    mv: &AccountMove,
    lines: &[AccountMoveLine],
    ctx: &MappingContext,
) -> Result<InvoiceEvent, MappingError> {
    let kind = match &mv.move_type {
        Some(MoveType::OutInvoice) => InvoiceKind::Invoice,
        Some(MoveType::OutRefund) => InvoiceKind::CreditNote,
        Some(MoveType::Other(v)) => return Err(other_selection(MODEL, "move_type", v)),
        Some(other) => {
            return Err(MappingError::Unexpected {
                path: format!("{MODEL}.move_type"),
                found: other.as_str().to_owned(),
                expected: "a customer invoice or credit note (out_invoice, out_refund)".into(),
            });
        }
        None => return Err(MappingError::missing_field(MODEL, "move_type")),
    };
    let state = mv
        .state
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "state"))?;
    let status = status(state, mv.payment_state.as_ref())?;
    let key = key_or_derived(&ctx.invoices, MODEL, mv.id)?;
    let number = mv.name.clone().filter(|n| !n.is_empty() && n != "/");
    let legal_entity = legal_entity_of(mv.company_id.as_ref(), ctx, MODEL)?;
    let partner = mv
        .commercial_partner_id
        .as_ref()
        .or(mv.partner_id.as_ref())
        .ok_or_else(|| MappingError::missing_field(MODEL, "partner_id"))?;
    let client = key_or_derived(&ctx.clients, "res.partner", partner.id)?;
    let currency = currency_of(
        mv.currency_id.as_ref(),
        ctx,
        &format!("{MODEL}.currency_id"),
    )?;
    let issue_date = mv
        .invoice_date
        .or(mv.date)
        .ok_or_else(|| MappingError::missing_field(MODEL, "invoice_date"))?;
    let due_date = mv.invoice_date_due.unwrap_or(issue_date);
    let money = |amount: Decimal| Money::new(amount, currency);

    let own: Vec<&AccountMoveLine> = lines
        .iter()
        .filter(|l| l.move_id.as_ref().is_none_or(|m| m.id == mv.id))
        .collect();
    let mut contract = None;
    let mut invoice_lines = Vec::new();
    let mut bases: BTreeMap<RecordId, Decimal> = BTreeMap::new();
    for l in own
        .iter()
        .filter(|l| l.display_type == Some(MoveLineDisplayType::Product))
        .filter(|l| l.tax_line_id.is_none())
    {
        let (billing_line, source) = match l.sale_line_ids.first() {
            Some(id) => match ctx.sale_lines.key(*id) {
                Some(r) => {
                    contract.get_or_insert_with(|| r.contract.clone());
                    let source = match &r.part {
                        LinePart::Milestone(m) => Some(LineSource::Milestone {
                            milestone: m.clone(),
                        }),
                        LinePart::TopUps => Some(LineSource::RetainerTopUp),
                        _ => None,
                    };
                    (Some(r.line.clone()), source)
                }
                None => (Some(derived_key("sale.order.line", *id)?), None),
            },
            None => (None, None),
        };
        for t in &l.tax_ids {
            let base = bases.entry(*t).or_default();
            *base = base.checked_add(l.price_subtotal).ok_or_else(|| {
                MappingError::invalid("account.move.line.price_subtotal", "the sum overflows")
            })?;
        }
        let mut line = InvoiceLine::new(
            l.name.clone().unwrap_or_default(),
            l.quantity,
            money(l.price_unit),
        )
        .ok_or_else(|| {
            MappingError::invalid(
                "account.move.line.price_unit",
                "quantity × unit price overflows",
            )
        })?;
        // Odoo's subtotal, not the one `InvoiceLine::new` computes.
        line.subtotal = money(l.price_subtotal);
        line.billing_line = billing_line;
        line.source = source;
        invoice_lines.push(line);
    }
    let mut taxes = Vec::new();
    for l in own.iter().filter(|l| l.tax_line_id.is_some()) {
        let Some(tax) = &l.tax_line_id else { continue };
        // In the move's currency; a line in the company currency may leave `amount_currency`
        // empty, its balance then being the amount.
        let amount = if l.amount_currency.is_zero() {
            l.balance.abs()
        } else {
            l.amount_currency.abs()
        };
        let base = bases.get(&tax.id).copied().unwrap_or_default();
        let rate = match ctx.tax_rates.get(&tax.id) {
            Some(r) => *r,
            None if base.is_zero() => Decimal::ZERO,
            None => checked_mul(
                amount,
                Decimal::ONE_HUNDRED,
                "account.move.line.amount_currency",
            )?
            .checked_div(base)
            .map(|r| r.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
            .unwrap_or_default(),
        };
        taxes.push(TaxAmount {
            name: tax
                .name
                .clone()
                .or_else(|| l.name.clone())
                .unwrap_or_default(),
            rate,
            base: money(base),
            amount: money(amount),
        });
    }
    let reverses = mv
        .reversed_entry_id
        .as_ref()
        .map(|r| key_or_derived(&ctx.invoices, MODEL, r.id))
        .transpose()?;
    // `draft` is the only constructor; given no lines it cannot fail (their sum is zero). The
    // lines and every amount are then Odoo's, not recomputed.
    let mut event = InvoiceEvent::draft(
        key,
        legal_entity,
        client,
        currency,
        issue_date,
        due_date,
        Vec::new(),
    )
    .ok_or_else(|| MappingError::invalid(MODEL, "the invoice's totals overflow"))?;
    event.refs = refs_with_odoo(MODEL, mv.id);
    event.kind = kind;
    event.status = status;
    event.number = number;
    event.contract = contract;
    event.lines = invoice_lines;
    event.taxes = taxes;
    event.untaxed = money(mv.amount_untaxed);
    event.tax = money(mv.amount_tax);
    event.total = money(mv.amount_total);
    event.amount_due = money(mv.amount_residual);
    event.reverses = reverses;
    Ok(event)
}
