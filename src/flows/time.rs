//! Time to invoice: approved time becomes timesheets, and invoice lines within the contract's
//! caps; and the release (posting) of draft invoices.

use chrono::Datelike;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{BookedContract, Flows, key, odoo_outcome};
use crate::canonical::rules::{InvoiceableInput, InvoicedToDate, invoiceable_now};
use crate::canonical::{
    ApprovalState, BillingKind, BillingLine, ContractKey, LineSource, Money, TimeEntry,
    TimeEntryKey,
};
use crate::odoo::{Domain, OdooCall, RecordId};
use crate::sync::effect::{ImportRow, create_once, ensure};
use crate::sync::step::{Outcome, StepContext};
use crate::sync::store::{AuditEvent, AuditKind};

fn booked(f: &Flows, entry: &TimeEntry) -> Result<BookedContract, Outcome> {
    f.inner.book.by_project(&entry.project).ok_or_else(|| {
        Outcome::failed(
            format!(
                "no contract delivers project `{}`: book the deal first",
                entry.project
            ),
            None,
        )
    })
}

/// `time.timesheet`: one `account.analytic.line` per approved entry.
pub(super) async fn timesheet(f: &Flows, cx: &mut StepContext, entry: &TimeEntry) -> Outcome {
    if entry.approval != ApprovalState::Approved {
        return Outcome::skipped("the entry is not approved");
    }
    let b = match booked(f, entry) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let Some(employee) = f.inner.ctx.employees.id(&entry.employee) else {
        return Outcome::failed(
            format!("no employee in Odoo for `{}`", entry.employee),
            None,
        );
    };
    let name = if entry.description.is_empty() {
        format!("[{}]", entry.key)
    } else {
        format!("[{}] {}", entry.key, entry.description)
    };
    let row = ImportRow::new()
        .text("name", name)
        .many2one("project_id", b.project_id)
        .many2one("employee_id", employee)
        .text("date", entry.date.to_string())
        .number("unit_amount", entry.hours);
    let k = match key("time_entry", entry.key.as_str(), "1", "timesheet") {
        Ok(k) => k,
        Err(o) => return o,
    };
    match create_once(cx, &f.inner.odoo, "account.analytic.line", &k, &row).await {
        Ok(id) => {
            cx.state.insert("timesheet_id".into(), json!(id.get()));
            Outcome::Done
        }
        Err(o) => o,
    }
}

/// The invoices the flows made for a contract (`invoice_origin` is the contract's key).
async fn contract_invoices(f: &Flows, contract: &ContractKey) -> crate::odoo::Result<Vec<Value>> {
    f.inner
        .odoo
        .model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .eq("invoice_origin", contract.as_str())
                .eq("move_type", "out_invoice")
                .ne("state", "cancel"),
        )
        .fields([
            "id",
            "state",
            "name",
            "amount_untaxed",
            "amount_total",
            "amount_residual",
            "payment_state",
            "invoice_date",
            "create_date",
        ])
        .order("id")
        .await
}

fn time_line(b: &BookedContract, entry: &TimeEntry) -> Option<crate::canonical::BillingLineId> {
    entry.billing_line.clone().or_else(|| {
        b.contract.billing_lines.iter().find_map(|l| match l {
            BillingLine::TimeAndMaterials(t) => Some(t.id.clone()),
            _ => None,
        })
    })
}

/// `time.invoice`: the part of the entry the contract's caps allow, as a line of the contract's
/// draft invoice; the rest is held (`cap_reached`).
pub(super) async fn invoice(f: &Flows, cx: &mut StepContext, entry: &TimeEntry) -> Outcome {
    if entry.approval != ApprovalState::Approved || !entry.billable {
        return Outcome::skipped("the entry is not approved billable time");
    }
    let b = match booked(f, entry) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let odoo = &f.inner.odoo;
    let c = &b.contract;
    let invoices = match contract_invoices(f, &c.key).await {
        Ok(v) => v,
        Err(e) => return odoo_outcome(&e),
    };
    let ids: Vec<i64> = invoices
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_i64))
        .collect();
    // What was invoiced already, read back from Odoo: the total on the time line and per entry.
    let mut invoiced = InvoicedToDate::new();
    if let Some(line) = time_line(&b, entry) {
        let lines = if ids.is_empty() {
            Vec::new()
        } else {
            match odoo
                .model_named::<Value>("account.move.line")
                .search_read(
                    Domain::new()
                        .is_in("move_id", ids.clone())
                        .eq("display_type", "product"),
                )
                .fields(["name", "quantity", "price_unit"])
                .await
            {
                Ok(l) => l,
                Err(e) => return odoo_outcome(&e),
            }
        };
        let mut total = Money::zero(c.currency);
        for l in &lines {
            let q = number(l, "quantity");
            let p = number(l, "price_unit");
            let amount = Money::new((q * p).round_dp(2), c.currency);
            total = total.checked_add(&amount).unwrap_or(total);
            let name = l.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(k) = name
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .and_then(|(k, _)| TimeEntryKey::new(k).ok())
            {
                let before = invoiced.time_entries.get(&k).copied();
                let sum = before.map_or(amount, |m| m.checked_add(&amount).unwrap_or(m));
                invoiced.time_entries.insert(k, sum);
            }
        }
        invoiced.lines.insert(line, total);
    }
    let entries = [entry.clone()];
    let input = InvoiceableInput::new(c, entry.date, &invoiced).with_time_entries(&entries);
    let plan = match invoiceable_now(&input) {
        Ok(p) => p,
        Err(e) => return Outcome::failed(format!("the invoicing rules refused: {e}"), Some(&e)),
    };
    let mine = |s: &LineSource| matches!(s, LineSource::Time { entry: k } if *k == entry.key);
    let line = plan.lines.iter().find(|l| mine(&l.source));
    if let Some(pl) = line.filter(|l| l.amount.is_positive()) {
        // The contract's draft invoice: the open one, or a new one.
        let draft = invoices
            .iter()
            .find(|m| m.get("state").and_then(Value::as_str) == Some("draft"))
            .and_then(|m| m.get("id").and_then(Value::as_i64))
            .map(RecordId);
        let move_id = match draft {
            Some(id) => id,
            None => {
                let mut row = ImportRow::new()
                    .text("move_type", "out_invoice")
                    .many2one("partner_id", b.partner_id)
                    .text("invoice_origin", c.key.as_str())
                    .text("ref", c.title.as_str());
                // The invoice is in the contract's currency, not the company's.
                if let Some(currency) = f.mapping_context().currencies.id(&c.currency) {
                    row = row.many2one("currency_id", currency);
                }
                let batch = format!(
                    "{}-{:02}-{}",
                    entry.date.year(),
                    entry.date.month(),
                    ids.len()
                );
                let k = match key("contract", c.key.as_str(), &batch, "draft-invoice") {
                    Ok(k) => k,
                    Err(o) => return o,
                };
                match create_once(cx, odoo, "account.move", &k, &row).await {
                    Ok(id) => id,
                    Err(o) => return o,
                }
            }
        };
        let product = f
            .inner
            .ctx
            .role_products
            .get(&entry.role)
            .or_else(|| f.inner.ctx.products.get(&BillingKind::TimeAndMaterials))
            .copied();
        let mut row = ImportRow::new()
            .many2one("move_id", move_id)
            .text(
                "name",
                format!(
                    "[{}] {} {} h {} on {}",
                    entry.key, entry.role, pl.quantity, entry.employee, entry.date
                ),
            )
            .number("quantity", pl.quantity)
            .number("price_unit", pl.unit_price.amount);
        if let Some(p) = product {
            row = row.many2one("product_id", p);
        }
        let k = match key("time_entry", entry.key.as_str(), "1", "invoice-line") {
            Ok(k) => k,
            Err(o) => return o,
        };
        if let Err(o) = create_once(cx, odoo, "account.move.line", &k, &row).await {
            return o;
        }
        cx.state.insert("invoice_id".into(), json!(move_id.get()));
    }
    if let Some(h) = plan.held.iter().find(|h| mine(&h.source)) {
        let reason = h.reason.name();
        return Outcome::held(
            reason,
            json!({
                "contract": c.key.as_str(),
                "entry": entry.key.as_str(),
                "hours": entry.hours.to_string(),
                "amount_held": h.amount.map(|m| m.to_string()),
                "invoiced_part": line.map(|l| l.amount.to_string()),
                "rule": serde_json::to_value(&h.reason).unwrap_or(Value::Null),
            }),
        );
    }
    Outcome::Done
}

fn number(v: &Value, field: &str) -> Decimal {
    v.get(field)
        .and_then(crate::odoo::value::decimal_from_value)
        .unwrap_or_default()
}

/// `invoice.release`: posts the contract's draft invoices, each once.
pub(super) async fn release(f: &Flows, cx: &mut StepContext, contract: &ContractKey) -> Outcome {
    let odoo = &f.inner.odoo;
    let invoices = match contract_invoices(f, contract).await {
        Ok(v) => v,
        Err(e) => return odoo_outcome(&e),
    };
    let mut posted = Vec::new();
    for m in invoices
        .iter()
        .filter(|m| m.get("state").and_then(Value::as_str) == Some("draft"))
    {
        let Some(id) = m.get("id").and_then(Value::as_i64).map(RecordId) else {
            continue;
        };
        let k = match key("invoice", &id.to_string(), "1", "post") {
            Ok(k) => k,
            Err(o) => return o,
        };
        let is_done = || async move {
            let r = odoo
                .model_named::<Value>("account.move")
                .read([id])
                .fields(["state", "name"])
                .await?;
            Ok(r.into_iter()
                .next()
                .filter(|m| m.get("state").and_then(Value::as_str) == Some("posted")))
        };
        let act = || async move {
            odoo.call::<Value>(&OdooCall::new("account.move", "action_post").ids([id]))
                .await
        };
        match ensure(cx, &k, is_done, act).await {
            Ok(v) => posted.push(v.get("name").cloned().unwrap_or(json!(id.get()))),
            Err(o) => return o,
        }
    }
    cx.audit(
        AuditEvent::new(AuditKind::Other("invoices_released".into()))
            .step("invoice.release")
            .details(json!({"contract": contract.as_str(), "invoices": posted})),
    );
    Outcome::Done
}
