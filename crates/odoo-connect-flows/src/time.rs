//! Time to invoice: approved time becomes timesheets on the contract's order lines within its
//! caps, and the release invoices what the order delivered, with Odoo's own invoicing.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{BookedContract, Flows, TimesheetsRecorded, key};
use crate::mapping::LinePart;
use odoo_connect_canonical::rules::{InvoiceableInput, InvoicedToDate, invoiceable_now};
use odoo_connect_canonical::{
    ApprovalState, BillingKind, BillingLine, ContractKey, LineSource, Money, TimeEntry,
    TimeEntryKey,
};
use odoo_connect_client::models::account::MoveState;
use odoo_connect_client::models::{
    AccountMove, AccountMoveLine, SaleOrderLine, Timesheet, TimesheetValues,
};
use odoo_connect_client::{Domain, OdooCall, RecordId};
use odoo_connect_sync::effect::{ImportRow, ensure};
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

async fn booked(f: &Flows, cx: &StepContext, entry: &TimeEntry) -> StepResult<BookedContract> {
    super::recall(f, cx, None, Some(&entry.project))
        .await?
        .ok_or_else(|| {
            Stop::failed(
                format!(
                    "no contract delivers project `{}`: book the deal first",
                    entry.project
                ),
                None,
            )
        })
}

/// The billing line an entry is booked to: its own, or the contract's first time-and-materials
/// line, or its only retainer.
fn time_line(
    b: &BookedContract,
    entry: &TimeEntry,
) -> Option<odoo_connect_canonical::BillingLineId> {
    entry.billing_line.clone().or_else(|| {
        b.contract
            .billing_lines
            .iter()
            .find_map(|l| match l {
                BillingLine::TimeAndMaterials(t) => Some(t.id.clone()),
                _ => None,
            })
            .or_else(|| {
                let mut retainers = b.contract.billing_lines.iter().filter_map(|l| match l {
                    BillingLine::Retainer(r) => Some(r.id.clone()),
                    _ => None,
                });
                match (retainers.next(), retainers.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            })
    })
}

/// `time.timesheet`: the approved entry as timesheets (`account.analytic.line`) on the contract's
/// project, the part the contract's caps allow on the order line of the entry's role (and on the
/// task Odoo made for it), so that Odoo's `sale_timesheet` delivers exactly that on the order;
/// the rest (time over a cap, or time not billable) on no order line. Time over a cap is then held
/// (`cap_reached`) for a decision.
pub(super) async fn timesheet(f: &Flows, cx: &mut StepContext, entry: &TimeEntry) -> StepResult {
    if entry.approval != ApprovalState::Approved {
        return Err(Stop::skipped("the entry is not approved"));
    }
    let b = booked(f, cx, entry).await?;
    let Some(employee) = f.inner.ctx.employees.id(&entry.employee) else {
        return Err(Stop::failed(
            format!("no employee in Odoo for `{}`", entry.employee),
            None,
        ));
    };
    let tm = time_line(&b, entry);
    // Time booked to a retainer is drawn against it, not billed.
    if let (true, Some(BillingLine::Retainer(r))) =
        (entry.billable, tm.as_ref().and_then(|l| b.contract.line(l)))
    {
        return crate::retainer::draw(f, cx, &b, r, entry, employee).await;
    }
    // The order line of the entry's role (or the line's first role) and the task Odoo made for it.
    let role_part = LinePart::Role(entry.role.clone());
    let sale_line = tm.as_ref().and_then(|l| {
        b.sale_line(l, &role_part).or_else(|| {
            b.sale_lines
                .iter()
                .find(|(r, _)| &r.line == l && matches!(r.part, LinePart::Role(_)))
                .map(|(_, id)| *id)
        })
    });
    let task = tm.as_ref().and_then(|l| {
        b.task(l, &role_part).or_else(|| {
            b.tasks
                .iter()
                .find(|(r, _)| &r.line == l && matches!(r.part, LinePart::Role(_)))
                .map(|(_, id)| *id)
        })
    });
    let (billable, held) = match (entry.billable, &tm, sale_line) {
        (true, Some(tm), Some(_)) => within_caps(f, &b, tm, entry).await?,
        _ => (Decimal::ZERO, None),
    };
    let rest = (entry.hours - billable).max(Decimal::ZERO);
    let name = if entry.description.is_empty() {
        format!("[{}]", entry.key)
    } else {
        format!("[{}] {}", entry.key, entry.description)
    };
    let version = &f.inner.ctx.version;
    let row = |hours: Decimal, name: String, so_line: Option<RecordId>| {
        let mut line = TimesheetValues::new();
        line.name = Some(name);
        line.project_id = Some(b.project_id);
        line.employee_id = Some(employee);
        line.date = Some(entry.date);
        line.unit_amount = Some(hours);
        line.task_id = task.map(Some);
        // No order line: recorded as worked, billed on none (emptied, not left to Odoo's default).
        line.so_line = Some(so_line);
        ImportRow::from_values(&line, version)
    };
    let mut rows = Vec::new();
    if billable.is_sign_positive() && !billable.is_zero() {
        let Some(line) = sale_line else {
            return Err(Stop::failed("no order line for the entry's role", None));
        };
        let k = key("time_entry", entry.key.as_str(), "1", "timesheet")?;
        rows.push((k, row(billable, name.clone(), Some(line))?));
    }
    if !rest.is_zero() {
        // Recorded as worked, billed on no order line (Odoo's non-billable time).
        let (effect, label) = if billable.is_zero() {
            ("timesheet", name.clone())
        } else {
            ("timesheet-over-cap", format!("{name} (over the cap)"))
        };
        let k = key("time_entry", entry.key.as_str(), "1", effect)?;
        rows.push((k, row(rest, label, None)?));
    }
    // Independent records: batched with the time of other messages under way (one `load`).
    let ids = f
        .inner
        .timesheets
        .create_all(cx, &rows)
        .await
        .into_iter()
        .collect::<StepResult<Vec<_>>>()?;
    cx.state.insert(TimesheetsRecorded { ids });
    if let Some((reason, amount)) = held {
        return Err(Stop::held(
            reason,
            json!({
                "contract": b.contract.key.as_str(),
                "entry": entry.key.as_str(),
                "hours": entry.hours.to_string(),
                "hours_held": rest.normalize().to_string(),
                "amount_held": amount.map(|m| m.to_string()),
                "billed_hours": billable.normalize().to_string(),
            }),
        ));
    }
    Ok(())
}

/// The hours of `entry` the caps of billing line `tm` allow, and why the rest is held. What was
/// delivered so far is read back from Odoo: the timesheets on the line's order lines, at each
/// role's rate (this entry's own, from an earlier attempt, left out).
async fn within_caps(
    f: &Flows,
    b: &BookedContract,
    tm: &odoo_connect_canonical::BillingLineId,
    entry: &TimeEntry,
) -> StepResult<(Decimal, Option<(&'static str, Option<Money>)>)> {
    let c = &b.contract;
    let rates: Vec<(i64, Decimal)> = b
        .sale_lines
        .iter()
        .filter(|(r, _)| &r.line == tm)
        .filter_map(|(r, id)| {
            let LinePart::Role(role) = &r.part else {
                return None;
            };
            c.billing_lines.iter().find_map(|l| match l {
                BillingLine::TimeAndMaterials(t) if &t.id == tm => t
                    .rate_card
                    .iter()
                    .find(|rate| &rate.role == role)
                    .map(|rate| (id.get(), rate.rate.amount)),
                _ => None,
            })
        })
        .collect();
    let line_ids: Vec<i64> = rates.iter().map(|(id, _)| *id).collect();
    let sheets = if line_ids.is_empty() {
        Vec::new()
    } else {
        f.odoo_for(crate::FlowPath::Time)
            .model::<Timesheet>()
            .search_read(Domain::new().is_in("so_line", line_ids))
            .fields(["name", "unit_amount", "so_line"])
            .await?
    };
    let mut invoiced = InvoicedToDate::new();
    let mut total = Money::zero(c.currency);
    for s in &sheets {
        let key = s
            .name
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .and_then(|(k, _)| TimeEntryKey::new(k).ok());
        if key.as_ref() == Some(&entry.key) {
            continue;
        }
        let line = s.so_line.as_ref().map(|l| l.id.get());
        let rate = rates
            .iter()
            .find(|(id, _)| Some(*id) == line)
            .map_or(Decimal::ZERO, |(_, r)| *r);
        let amount = Money::new((s.unit_amount * rate).round_dp(2), c.currency);
        total = total.checked_add(&amount).unwrap_or(total);
        if let Some(k) = key {
            let before = invoiced.time_entries.get(&k).copied();
            let sum = before.map_or(amount, |m| m.checked_add(&amount).unwrap_or(m));
            invoiced.time_entries.insert(k, sum);
        }
    }
    invoiced.lines.insert(tm.clone(), total);
    let entries = [entry.clone()];
    let input = InvoiceableInput::new(c, entry.date, &invoiced).with_time_entries(&entries);
    let plan =
        invoiceable_now(&input).map_err(|e| Stop::bad_data("the invoicing rules refused", &e))?;
    let mine = |s: &LineSource| matches!(s, LineSource::Time { entry: k } if *k == entry.key);
    let hours = plan
        .lines
        .iter()
        .filter(|l| mine(&l.source) && l.amount.is_positive())
        .map(|l| l.quantity)
        .sum::<Decimal>()
        .min(entry.hours);
    let held = plan
        .held
        .iter()
        .find(|h| mine(&h.source))
        .map(|h| (h.reason.name(), h.amount));
    Ok((hours, held))
}

/// `invoice.release`: invoices what the contract's order has delivered and not invoiced yet
/// (reached milestones, billed time), with Odoo's own wizard (`sale.advance.payment.inv`, as
/// "Create Invoice" on the order does), so that Odoo's invoiced and delivered quantities stay
/// right; then posts the order's draft invoices, each once.
pub(super) async fn release(f: &Flows, cx: &mut StepContext, contract: &ContractKey) -> StepResult {
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let b = super::recall(f, cx, Some(contract), None).await?;
    let Some(b) = b else {
        return Err(Stop::failed(
            format!("no contract `{contract}` is booked: book the deal first"),
            None,
        ));
    };
    crate::checks::before_billing(f, cx, &b).await?;
    let order = b.order_id;
    let batch = format!(
        "{:016x}",
        odoo_connect_core::hash::fnv1a64(cx.envelope.idempotency_key.as_str().as_bytes())
    );
    let k = key("contract", contract.as_str(), &batch, "invoice")?;
    let order_name = b.order_name.clone();
    // Recurring services and retainers are invoiced by their own flows, period by period and up
    // front: Odoo's wizard would sweep their ordered quantities into this invoice.
    let elsewhere = lines_invoiced_elsewhere(&b);
    let elsewhere = &elsewhere;
    let is_done = || {
        let order_name = order_name.clone();
        async move {
            let lines: Vec<SaleOrderLine> = odoo
                .model::<SaleOrderLine>()
                .search_read(Domain::new().eq("order_id", order.get()))
                .fields(["qty_to_invoice", "display_type"])
                .await?;
            let pending = lines
                .iter()
                .filter(|l| !elsewhere.contains(&l.id))
                .any(|l| l.qty_to_invoice.is_sign_positive() && !l.qty_to_invoice.is_zero());
            if pending {
                return Ok(None);
            }
            let drafts = odoo
                .model::<AccountMove>()
                .search(
                    Domain::new()
                        .eq("invoice_origin", order_name.as_str())
                        .eq("move_type", "out_invoice")
                        .eq("state", "draft"),
                )
                .await?;
            Ok(Some(json!({"order": order.get(), "drafts": drafts})))
        }
    };
    let act = || async move {
        let context = odoo_connect_client::Context::new()
            .with("active_model", "sale.order")
            .with("active_ids", json!([order.get()]))
            .with("active_id", order.get());
        let created: Value = odoo
            .call(
                &OdooCall::new("sale.advance.payment.inv", "create")
                    .arg(
                        "vals_list",
                        json!([{"advance_payment_method": "delivered",
                                "sale_order_ids": [[6, 0, [order.get()]]]}]),
                    )
                    .context(context.clone()),
            )
            .await?;
        let wizard = created
            .as_i64()
            .or_else(|| created.get(0).and_then(Value::as_i64))
            .unwrap_or_default();
        odoo.call::<Value>(
            &OdooCall::new("sale.advance.payment.inv", "create_invoices")
                .ids([RecordId(wizard)])
                .context(context),
        )
        .await
    };
    ensure(cx, &k, is_done, act).await?;
    let invoices: Vec<RecordId> = odoo
        .model::<AccountMove>()
        .search(
            Domain::new()
                .eq("invoice_origin", b.order_name.as_str())
                .eq("move_type", "out_invoice")
                .eq("state", "draft"),
        )
        .order("id")
        .await?;
    let invoices = drop_lines_invoiced_elsewhere(f, &invoices, elsewhere).await?;
    let mut posted = Vec::new();
    for id in invoices {
        posted.push(post_once(f, cx, id).await?);
    }
    cx.audit(
        AuditEvent::new(crate::FlowEvent::InvoicesReleased.into())
            .step("invoice.release")
            .details(json!({"contract": contract.as_str(), "order": b.order_name,
                            "invoices": posted})),
    );
    Ok(())
}

/// The order lines of recurring services and retainers, which their own flows invoice.
fn lines_invoiced_elsewhere(b: &BookedContract) -> Vec<RecordId> {
    let elsewhere: Vec<&odoo_connect_canonical::BillingLineId> = b
        .contract
        .billing_lines
        .iter()
        .filter(|l| {
            matches!(
                l.kind(),
                BillingKind::RecurringService | BillingKind::Retainer
            )
        })
        .map(BillingLine::id)
        .collect();
    b.sale_lines
        .iter()
        .filter(|(r, _)| elsewhere.contains(&&r.line))
        .map(|(_, id)| *id)
        .collect()
}

/// Takes the lines of order lines in `elsewhere` out of the draft invoices (Odoo's wizard puts
/// every line with something to invoice on them), and deletes a draft left with no line; returns
/// the drafts that remain. Safe to run again: a line taken out is not found a second time.
async fn drop_lines_invoiced_elsewhere(
    f: &Flows,
    drafts: &[RecordId],
    elsewhere: &[RecordId],
) -> StepResult<Vec<RecordId>> {
    if elsewhere.is_empty() || drafts.is_empty() {
        return Ok(drafts.to_vec());
    }
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let draft_ids: Vec<i64> = drafts.iter().map(|d| d.get()).collect();
    let foreign: Vec<AccountMoveLine> = odoo
        .model::<AccountMoveLine>()
        .search_read(Domain::new().is_in("move_id", draft_ids).is_in(
            "sale_line_ids",
            elsewhere.iter().map(|l| l.get()).collect::<Vec<_>>(),
        ))
        .fields(["move_id"])
        .await?;
    let mut kept = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let lines: Vec<RecordId> = foreign
            .iter()
            .filter(|l| l.move_id.as_ref().map(|m| m.id) == Some(*draft))
            .map(|l| l.id)
            .collect();
        if !lines.is_empty() {
            let mut values = odoo_connect_client::Values::new();
            values = values.x2many(
                "invoice_line_ids",
                lines
                    .iter()
                    .map(|l| odoo_connect_client::Command::Delete(*l)),
            );
            odoo.model::<AccountMove>()
                .write(&[*draft], &values)
                .await?;
        }
        let left: Vec<AccountMove> = odoo
            .model::<AccountMove>()
            .read([*draft])
            .fields(["invoice_line_ids"])
            .await?;
        match left.first() {
            Some(m) if m.invoice_line_ids.is_empty() => {
                odoo.model::<AccountMove>().unlink(&[*draft]).await?;
            }
            Some(_) => kept.push(*draft),
            None => {}
        }
    }
    Ok(kept)
}

/// Posts draft invoice `id` once (its state read first); returns its number (or its id when it
/// has none).
pub(super) async fn post_once(f: &Flows, cx: &StepContext, id: RecordId) -> StepResult<Value> {
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let k = key("invoice", &id.to_string(), "1", "post")?;
    let is_done = || async move {
        let r: Vec<AccountMove> = odoo
            .model::<AccountMove>()
            .read([id])
            .fields(["state", "name"])
            .await?;
        Ok(r.into_iter()
            .next()
            .filter(|m| m.state == Some(MoveState::Posted))
            .map(|m| json!({"id": m.id.get(), "state": "posted", "name": m.name})))
    };
    let act = || async move {
        odoo.call::<Value>(&OdooCall::new("account.move", "action_post").ids([id]))
            .await
    };
    let v = ensure(cx, &k, is_done, act).await?;
    Ok(v.get("name").cloned().unwrap_or(json!(id.get())))
}
