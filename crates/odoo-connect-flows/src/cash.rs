//! Invoice to cash: payments registered against their invoices, and the status written back to
//! the CRM.

use chrono::Utc;
use serde_json::{Value, json};

use super::{FlowError, Flows, PaymentRegistered, key};
use crate::mapping::{invoice as invoice_map, payment as payment_map};
use odoo_connect_canonical::{ContractKey, InvoiceEvent, InvoiceKey, Payment};
use odoo_connect_client::models::account::MovePaymentState;
use odoo_connect_client::models::{AccountMove, AccountMoveLine, Payment as OdooPayment};
use odoo_connect_client::{Domain, OdooCall, RecordId};
use odoo_connect_connectors::{Change, ChangeId, Record, RecordKind};
use odoo_connect_sync::effect::ensure;
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

const INVOICE_KEY_PREFIX: &str = "odoo:account.move:";

/// The `account.move` id of an invoice read by [`Flows::open_invoices`].
fn invoice_id(key: &InvoiceKey) -> Option<RecordId> {
    key.as_str()
        .strip_prefix(INVOICE_KEY_PREFIX)?
        .parse()
        .ok()
        .map(RecordId)
}

pub(super) async fn open_invoices(f: &Flows) -> Result<Vec<InvoiceEvent>, FlowError> {
    let odoo = f.odoo_for(crate::FlowPath::Cash);
    let orders: Vec<String> = f
        .inner
        .book
        .all()
        .iter()
        .map(|b| b.order_name.clone())
        .filter(|n| !n.is_empty())
        .collect();
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let moves: Vec<AccountMove> = odoo
        .model::<AccountMove>()
        .search_read(
            Domain::new()
                .is_in("invoice_origin", orders)
                .eq("move_type", "out_invoice")
                .eq("state", "posted")
                .is_in("payment_state", ["not_paid", "partial"]),
        )
        .order("id")
        .await?;
    let mut out = Vec::with_capacity(moves.len());
    for mv in moves {
        let lines: Vec<AccountMoveLine> = odoo
            .model::<AccountMoveLine>()
            .search_read(Domain::new().eq("move_id", mv.id.get()))
            .order("id")
            .await?;
        let Ok(mut inv) = invoice_map::from_odoo(&mv, &lines, &f.inner.ctx) else {
            continue;
        };
        if let Ok(k) = InvoiceKey::new(format!("{INVOICE_KEY_PREFIX}{}", mv.id.get())) {
            inv.key = k;
        }
        inv.contract = mv
            .invoice_origin
            .as_deref()
            .and_then(|o| f.inner.book.by_order_name(o))
            .map(|b| b.contract.key);
        out.push(inv);
    }
    Ok(out)
}

/// `cash.register`: the payment registered against its invoices with Odoo's wizard, once: the
/// invoices' `payment_state` and the payments already made are read first.
pub(super) async fn register(f: &Flows, cx: &mut StepContext, payment: &Payment) -> StepResult {
    if payment.allocations.is_empty() {
        return Err(Stop::held(
            "unmatched_payment",
            json!({"payment": payment.key.as_str(), "amount": payment.amount.to_string(),
                   "reference": payment.reference}),
        ));
    }
    let odoo = f.odoo_for(crate::FlowPath::Cash);
    let mut ctx = f.inner.ctx.clone();
    let mut ids = Vec::new();
    for a in &payment.allocations {
        match invoice_id(&a.invoice) {
            Some(id) => {
                ctx.invoices.insert(a.invoice.clone(), id);
                ids.push(id);
            }
            None => {
                return Err(Stop::failed(
                    format!("invoice `{}` is not an Odoo invoice", a.invoice),
                    None,
                ));
            }
        }
    }
    let reg = payment_map::registration(payment, &ctx)
        .map_err(|e| Stop::bad_data("the payment cannot be registered", &e))?;
    let invoices: Vec<AccountMove> = odoo
        .model::<AccountMove>()
        .read(ids.clone())
        .fields(["invoice_origin", "name"])
        .await?;
    // The contracts paid: an invoice's origin is its sale order (booked by this worker or,
    // found in the ledger, by another).
    let mut contracts: Vec<ContractKey> = Vec::new();
    for origin in invoices.iter().filter_map(|m| m.invoice_origin.as_deref()) {
        if let Some(b) = super::recall_by_order(f, cx, origin).await?
            && !contracts.contains(&b.contract.key)
        {
            contracts.push(b.contract.key);
        }
    }
    let k = key("payment", payment.key.as_str(), "1", "register")?;
    let reference = payment.reference.clone();
    let amount = payment.amount.amount;
    let date = payment.date.to_string();
    let memo = payment_map::memo_field(&f.inner.ctx.version);
    let is_done = || {
        let (ids, reference, date) = (ids.clone(), reference.clone(), date.clone());
        async move {
            let states: Vec<AccountMove> = odoo
                .model::<AccountMove>()
                .read(ids)
                .fields(["payment_state"])
                .await?;
            let all_paid = states.iter().all(|m| {
                matches!(
                    m.payment_state,
                    Some(MovePaymentState::Paid | MovePaymentState::InPayment)
                )
            });
            let made: Vec<OdooPayment> = odoo
                .model::<OdooPayment>()
                .search_read(
                    Domain::new()
                        .eq(memo, reference.as_str())
                        .eq("date", date.as_str()),
                )
                .fields(["id", "amount", "name"])
                .await?;
            let mine = made.into_iter().find(|p| p.amount == amount);
            Ok(match mine {
                Some(p) => Some(json!({"payment": p.id.get(), "name": p.name})),
                None if all_paid => Some(json!({"payment": null, "already_paid": true})),
                None => None,
            })
        }
    };
    let act = || async move {
        let created: Value = odoo.call(&reg.create_call()).await?;
        let wizard = created
            .as_i64()
            .or_else(|| created.get(0).and_then(Value::as_i64))
            .unwrap_or_default();
        odoo.call::<Value>(&reg.confirm_call(RecordId(wizard)))
            .await
    };
    let v = ensure(cx, &k, is_done, act).await?;
    // Odoo's wizard has no idempotency key: a confirmation delivered twice by the network
    // (a proxy retrying the request) registers a part payment twice. Any payment beyond
    // the first with this reference, date and amount is reset and cancelled, which
    // unreconciles it (each such call is checked first, so a retry does no harm).
    cancel_duplicates(f, payment, memo).await?;
    cx.audit(
        AuditEvent::new(crate::FlowEvent::PaymentRegistered.into())
            .step("cash.register")
            .details(json!({"payment": payment.key.as_str(),
                            "amount": payment.amount.to_string(), "odoo": v})),
    );
    cx.state.insert(PaymentRegistered {
        payment_id: v.get("payment").and_then(Value::as_i64).map(RecordId),
        already_paid: v
            .get("already_paid")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        contracts,
    });
    Ok(())
}

/// Cancels the payments registered more than once for `payment` (same reference, date and amount),
/// keeping the first; returns how many were cancelled.
async fn cancel_duplicates(
    f: &Flows,
    payment: &Payment,
    memo: &str,
) -> odoo_connect_client::Result<usize> {
    if payment.reference.is_empty() {
        return Ok(0);
    }
    let odoo = f.odoo_for(crate::FlowPath::Cash);
    let made: Vec<OdooPayment> = odoo
        .model::<OdooPayment>()
        .search_read(
            Domain::new()
                .eq(memo, payment.reference.as_str())
                .eq("date", payment.date.to_string())
                .not_in("state", ["draft", "cancel", "canceled"]),
        )
        .fields(["id", "amount"])
        .order("id")
        .await?;
    let ids: Vec<RecordId> = made
        .iter()
        .filter(|p| p.amount == payment.amount.amount)
        .map(|p| p.id)
        .collect();
    let extra = ids.get(1..).unwrap_or_default().to_vec();
    for id in &extra {
        odoo.call::<Value>(&OdooCall::new("account.payment", "action_draft").ids([*id]))
            .await?;
        odoo.call::<Value>(&OdooCall::new("account.payment", "action_cancel").ids([*id]))
            .await?;
        tracing::warn!(payment = id.get(), reference = %payment.reference,
            "a payment registered twice was cancelled");
    }
    Ok(extra.len())
}

/// `cash.write-back`: the payment written to the CRM deal of each contract it pays.
pub(super) async fn write_back(f: &Flows, cx: &mut StepContext, payment: &Payment) -> StepResult {
    let Some(sink) = &f.inner.sink else {
        return Ok(());
    };
    let contracts = cx.state.require::<PaymentRegistered>()?.contracts.clone();
    let mut written = Vec::new();
    for k in contracts {
        let booked = super::recall(f, cx, Some(&k), None).await?;
        let Some(crm) = booked.and_then(|b| b.crm) else {
            continue;
        };
        let change = Change::new(
            ChangeId::of(&crm, RecordKind::Payment, payment.key.as_str()),
            crm.clone(),
            Utc::now(),
            Record::from(payment.clone()),
        );
        let outcome = sink.apply(&change).await?;
        written.push(json!({"deal": crm.id, "outcome": outcome}));
    }
    cx.audit(
        AuditEvent::new(crate::FlowEvent::CrmUpdated.into())
            .step("cash.write-back")
            .details(json!({"payment": payment.key.as_str(), "deals": written})),
    );
    Ok(())
}
