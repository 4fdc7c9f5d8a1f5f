//! Milestones: a fixed-fee milestone reached or accepted (in the delivery tool, or ticked
//! "reached" in Odoo) releases that milestone's invoice, once, and nothing else.
//!
//! Odoo's `sale_project` delivers an order line sold "delivered by milestones"
//! (`qty_delivered_method = 'milestones'`) as the sum of the `quantity_percentage` of its
//! reached milestones (`reached_milestones_ids`, the line's milestones with `is_reached`) times
//! the line's `product_uom_qty` (`SaleOrderLine._compute_qty_delivered` in
//! `addons/sale_project/models/sale_order_line.py`). The flows give each milestone its own
//! order line (one milestone per line, `quantity_percentage = 1`), so reaching a milestone
//! makes exactly its line invoiceable.
//!
//! The invoice is then made of that line only. Odoo's own "Create Invoice" wizard
//! (`sale.advance.payment.inv`, `advance_payment_method = 'delivered'`) invoices every
//! invoiceable line of the order (`sale.order._get_invoiceable_lines` has no filter), so it
//! would sweep delivered time into the milestone's invoice; `sale.order._create_invoices` is
//! private (not callable remotely). What `_create_invoices` does is public, though: it creates
//! an `account.move` with the order's `_prepare_invoice` values and one line per order line
//! invoiced, each linked back through `sale_line_ids` (`sale.order.line._prepare_invoice_line`),
//! and that link is what makes the line's `qty_invoiced` and the order's `invoice_ids` follow.
//! [`invoice`] creates the same invoice for the one line, with the same values.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BookedContract, Flows, key};
use crate::mapping::LinePart;
use odoo_connect_canonical::{Acceptance, ContractKey, MilestoneKey};
use odoo_connect_client::models::account::MoveType;
use odoo_connect_client::models::{
    AccountMove, AccountMoveLine, InvoiceLineValues, InvoiceValues, Milestone as OdooMilestone,
    MilestoneValues, SaleOrderLine,
};
use odoo_connect_client::{Command, Domain, Many2one, RecordId};
use odoo_connect_sync::effect::ensure;
use odoo_connect_sync::step::{StepContext, StepResult, Stop};
use odoo_connect_sync::store::AuditEvent;

/// Where a milestone event comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MilestoneOrigin {
    /// Odoo: the milestone (`project.milestone`) was ticked reached there.
    Odoo {
        /// The milestone in Odoo.
        milestone_id: RecordId,
    },
    /// A delivery tool (a PSA, the client portal): the flows mark the milestone reached in Odoo.
    Delivery {
        /// The tool's name (`psa`, `jira`).
        system: String,
    },
}

/// Milestone `milestone` of contract `contract` reached, delivered or accepted: the message of
/// [`FlowMessage::MilestoneReached`](crate::FlowMessage::MilestoneReached).
///
/// The `acceptance` says what may happen: [`Acceptance::Accepted`] releases the milestone's
/// invoice; [`Acceptance::Delivered`] (awaiting the client's acceptance) and
/// [`Acceptance::Rejected`] are business holds; [`Acceptance::Pending`] (not delivered) is
/// skipped.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_flows::{MilestoneOrigin, MilestoneReached};
/// let on = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
/// let m = MilestoneReached::accepted(
///     "hubspot-deal-1001".parse()?,
///     "hubspot-deal-1001-design".parse()?,
///     on,
///     MilestoneOrigin::Delivery { system: "psa".into() },
/// );
/// assert_eq!(m.acceptance.accepted_on(), Some(on));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MilestoneReached {
    /// The contract.
    pub contract: ContractKey,
    /// The milestone, by its key in the contract.
    pub milestone: MilestoneKey,
    /// Where it stands with the client.
    pub acceptance: Acceptance,
    /// Who says so.
    pub origin: MilestoneOrigin,
}

impl MilestoneReached {
    /// A milestone in the state `acceptance`, as `origin` says.
    pub fn new(
        contract: ContractKey,
        milestone: MilestoneKey,
        acceptance: Acceptance,
        origin: MilestoneOrigin,
    ) -> MilestoneReached {
        MilestoneReached {
            contract,
            milestone,
            acceptance,
            origin,
        }
    }

    /// A milestone accepted by the client on `on`: its invoice may be released.
    pub fn accepted(
        contract: ContractKey,
        milestone: MilestoneKey,
        on: NaiveDate,
        origin: MilestoneOrigin,
    ) -> MilestoneReached {
        MilestoneReached::new(contract, milestone, Acceptance::Accepted { on }, origin)
    }

    /// The version part of the message's idempotency key: one message per milestone and state
    /// (a milestone delivered, then accepted, gives two messages; the same state twice, one).
    pub(crate) fn version(&self) -> String {
        match &self.acceptance {
            Acceptance::Pending => "pending".to_owned(),
            Acceptance::Delivered { on } => format!("delivered-{on}"),
            Acceptance::Accepted { .. } => "accepted".to_owned(),
            Acceptance::Rejected { on, .. } => format!("rejected-{on}"),
            _ => "other".to_owned(),
        }
    }
}

/// What `milestone.reach` hands to `milestone.invoice`: the milestone reached in Odoo and the
/// order line it delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MilestoneMarked {
    /// The milestone (`project.milestone`).
    pub milestone_id: RecordId,
    /// The order line it delivers (`sale.order.line`).
    pub sale_line_id: RecordId,
}

/// The order line of `milestone` in the booking.
fn milestone_line(b: &BookedContract, milestone: &MilestoneKey) -> Option<RecordId> {
    let part = LinePart::Milestone(milestone.clone());
    b.sale_lines
        .iter()
        .find(|(r, _)| r.part == part)
        .map(|(_, id)| *id)
}

async fn booked(f: &Flows, cx: &StepContext, m: &MilestoneReached) -> StepResult<BookedContract> {
    super::recall(f, cx, Some(&m.contract), None)
        .await?
        .ok_or_else(|| {
            Stop::failed(
                format!(
                    "no contract `{}` is booked: book the deal first",
                    m.contract
                ),
                None,
            )
        })
}

fn detail(m: &MilestoneReached) -> Value {
    json!({"contract": m.contract.as_str(), "milestone": m.milestone.as_str()})
}

/// `milestone.reach`: an accepted milestone reached in Odoo, once. A milestone delivered and
/// awaiting acceptance is held (`milestone_acceptance_pending`), a refused one too
/// (`milestone_rejected`), and neither is marked reached (that would make its line invoiceable
/// by any release). From a delivery tool, the milestone is ticked reached (read first: a
/// milestone already reached is left alone); from Odoo, it is checked to be still reached.
pub(super) async fn reach(f: &Flows, cx: &mut StepContext, m: &MilestoneReached) -> StepResult {
    match &m.acceptance {
        Acceptance::Pending => return Err(Stop::skipped("the milestone is not delivered yet")),
        Acceptance::Delivered { on } => {
            let mut d = detail(m);
            d["delivered_on"] = json!(on.to_string());
            return Err(Stop::held(
                format!(
                    "milestone_acceptance_pending: milestone `{}` was delivered on {on} and awaits the client's acceptance",
                    m.milestone
                ),
                d,
            ));
        }
        Acceptance::Rejected { on, reason } => {
            let mut d = detail(m);
            d["rejected_on"] = json!(on.to_string());
            d["reason"] = json!(reason);
            return Err(Stop::held(
                format!(
                    "milestone_rejected: milestone `{}` was refused on {on}: {reason}",
                    m.milestone
                ),
                d,
            ));
        }
        Acceptance::Accepted { .. } => {}
        _ => {
            return Err(Stop::skipped(
                "the milestone's acceptance is not known to these flows",
            ));
        }
    }
    let b = booked(f, cx, m).await?;
    let Some(line) = milestone_line(&b, &m.milestone) else {
        return Err(Stop::failed(
            format!(
                "contract `{}` has no order line for milestone `{}`",
                m.contract, m.milestone
            ),
            None,
        ));
    };
    let odoo = f.odoo_for(crate::FlowPath::Time);
    let found: Vec<OdooMilestone> = odoo
        .model::<OdooMilestone>()
        .search_read(Domain::new().eq("sale_line_id", line.get()))
        .fields(["id", "is_reached", "sale_line_id"])
        .order("id")
        .await?;
    let milestone_id = match &m.origin {
        MilestoneOrigin::Odoo { milestone_id } => *milestone_id,
        MilestoneOrigin::Delivery { .. } => match found.first() {
            Some(r) => r.id,
            None => {
                return Err(Stop::failed(
                    format!("no milestone in Odoo delivers order line {line}"),
                    None,
                ));
            }
        },
    };
    if !found.iter().any(|r| r.id == milestone_id) {
        return Err(Stop::failed(
            format!("milestone {milestone_id} in Odoo does not deliver order line {line}"),
            None,
        ));
    }
    let k = key(
        "milestone",
        &format!("{}/{}", m.contract, m.milestone),
        "1",
        "reach",
    )?;
    let is_done = || async move {
        let r: Vec<OdooMilestone> = odoo
            .model::<OdooMilestone>()
            .read([milestone_id])
            .fields(["is_reached", "reached_date"])
            .await?;
        Ok(r.into_iter().next().filter(|r| r.is_reached).map(|r| {
            json!({"milestone": milestone_id.get(), "reached_date": r.reached_date.map(|d| d.to_string())})
        }))
    };
    match &m.origin {
        MilestoneOrigin::Delivery { .. } => {
            let act = || async move {
                let mut values = MilestoneValues::new();
                values.is_reached = Some(true);
                odoo.model::<OdooMilestone>()
                    .write_values(&[milestone_id], &values)
                    .await?;
                Ok(Value::Null)
            };
            ensure(cx, &k, is_done, act).await?;
        }
        MilestoneOrigin::Odoo { .. } => {
            // Reached in Odoo by a person: nothing to write; unticked since, nothing to bill.
            if is_done().await?.is_none() {
                return Err(Stop::skipped(format!(
                    "milestone {milestone_id} is no longer reached in Odoo"
                )));
            }
        }
    }
    cx.state.insert(MilestoneMarked {
        milestone_id,
        sale_line_id: line,
    });
    Ok(())
}

/// The order as its invoice needs it (`sale.order._prepare_invoice`).
#[derive(Debug, Clone, Deserialize, odoo_connect_client::Model)]
#[odoo(model = "sale.order")]
pub(crate) struct OrderToInvoice {
    #[allow(dead_code)] // a Model reads the id
    id: RecordId,
    #[serde(default)]
    name: String,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    client_order_ref: Option<String>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    partner_invoice_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    currency_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    company_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    fiscal_position_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    payment_term_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    user_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    team_id: Option<Many2one>,
}

/// The customer invoices (not cancelled) with a line invoicing order line `line`.
pub(crate) async fn invoices_of_line(
    f: &Flows,
    line: RecordId,
) -> odoo_connect_client::Result<Vec<i64>> {
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let lines: Vec<AccountMoveLine> = odoo
        .model::<AccountMoveLine>()
        .search_read(Domain::new().is_in("sale_line_ids", vec![line.get()]))
        .fields(["move_id", "parent_state"])
        .await?;
    let mut moves: Vec<i64> = lines
        .iter()
        .filter(|l| l.parent_state != Some(odoo_connect_client::models::account::MoveState::Cancel))
        .filter_map(|l| l.move_id.as_ref().map(|m| m.id.get()))
        .collect();
    moves.sort_unstable();
    moves.dedup();
    if moves.is_empty() {
        return Ok(moves);
    }
    let invoices: Vec<RecordId> = odoo
        .model::<AccountMove>()
        .search(
            Domain::new()
                .is_in("id", moves)
                .eq("move_type", "out_invoice"),
        )
        .order("id")
        .await?;
    Ok(invoices.into_iter().map(|id| id.get()).collect())
}

/// The order line, as its invoice line needs it.
pub(crate) async fn read_line(
    f: &Flows,
    line: RecordId,
) -> odoo_connect_client::Result<Option<SaleOrderLine>> {
    Ok(f.odoo_for(crate::FlowPath::Release)
        .model::<SaleOrderLine>()
        .read([line])
        .fields([
            "name",
            "sequence",
            "product_id",
            "product_uom_id",
            "product_uom_qty",
            "qty_delivered",
            "qty_invoiced",
            "qty_to_invoice",
            "price_unit",
            "discount",
            "tax_ids",
            "order_id",
        ])
        .await?
        .into_iter()
        .next())
}

/// `milestone.invoice`: after the checks before billing, the milestone's order line invoiced
/// on an invoice of its own (see the [module](self) documentation), once, and posted once.
/// What else the order delivered (time) is left to the release.
pub(super) async fn invoice(f: &Flows, cx: &mut StepContext, m: &MilestoneReached) -> StepResult {
    let marked = *cx.state.require::<MilestoneMarked>()?;
    let b = booked(f, cx, m).await?;
    let line = marked.sale_line_id;
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let Some(sol) = read_line(f, line).await? else {
        return Err(Stop::failed(format!("order line {line} is gone"), None));
    };
    let already = invoices_of_line(f, line).await?;
    let pending = sol.qty_to_invoice.is_sign_positive() && !sol.qty_to_invoice.is_zero();
    if !pending && already.is_empty() {
        return Err(Stop::failed(
            format!(
                "milestone `{}` is reached but order line {line} has nothing to invoice (delivered {}, invoiced {})",
                m.milestone, sol.qty_delivered, sol.qty_invoiced
            ),
            None,
        ));
    }
    if pending {
        crate::checks::before_billing(f, cx, &b).await?;
    }
    let k = key(
        "milestone",
        &format!("{}/{}", m.contract, m.milestone),
        "1",
        "invoice",
    )?;
    // Done when the line has nothing left to invoice and an invoice of it exists.
    let is_done = || async move {
        let Some(sol) = read_line(f, line).await? else {
            return Ok(None);
        };
        if sol.qty_to_invoice.is_sign_positive() && !sol.qty_to_invoice.is_zero() {
            return Ok(None);
        }
        let invoices = invoices_of_line(f, line).await?;
        Ok((!invoices.is_empty()).then(|| json!({"line": line.get(), "invoices": invoices})))
    };
    let order = b.order_id;
    let act = || async move {
        let Some(sol) = read_line(f, line).await? else {
            return Ok(Value::Null);
        };
        let Some(so) = read_order(f, order).await? else {
            return Ok(Value::Null);
        };
        let values = invoice_values(&so, &sol);
        let id = odoo.model::<AccountMove>().create_values(&values).await?;
        Ok(json!(id.get()))
    };
    let done = ensure(cx, &k, is_done, act).await?;
    let invoices: Vec<RecordId> = done
        .get("invoices")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).map(RecordId).collect())
        .unwrap_or_default();
    let mut posted = Vec::new();
    for id in invoices {
        posted.push(crate::time::post_once(f, cx, id).await?);
    }
    cx.audit(
        AuditEvent::new(crate::FlowEvent::MilestoneInvoiced.into())
            .step("milestone.invoice")
            .details(json!({
                "contract": m.contract.as_str(), "milestone": m.milestone.as_str(),
                "order": b.order_name, "line": line.get(), "invoices": posted,
            })),
    );
    Ok(())
}

/// Order `order`, as its invoice needs it.
pub(crate) async fn read_order(
    f: &Flows,
    order: RecordId,
) -> odoo_connect_client::Result<Option<OrderToInvoice>> {
    Ok(f.odoo_for(crate::FlowPath::Release)
        .model::<OrderToInvoice>()
        .read([order])
        .fields([
            "name",
            "client_order_ref",
            "partner_invoice_id",
            "currency_id",
            "company_id",
            "fiscal_position_id",
            "payment_term_id",
            "user_id",
            "team_id",
        ])
        .await?
        .into_iter()
        .next())
}

/// The invoice of order line `sol` alone, with the values Odoo's `_prepare_invoice` and
/// `_prepare_invoice_line` give (quantity: what the line has to invoice).
pub(crate) fn invoice_values(so: &OrderToInvoice, sol: &SaleOrderLine) -> InvoiceValues {
    let id = |m: &Option<Many2one>| m.as_ref().map(|m| m.id);
    let mut line = InvoiceLineValues::new();
    line.sequence = i32::try_from(sol.sequence).ok();
    line.name = Some(sol.name.clone());
    line.product_id = Some(id(&sol.product_id));
    line.product_uom_id = Some(id(&sol.product_uom_id));
    line.quantity = Some(sol.qty_to_invoice);
    line.price_unit = Some(sol.price_unit);
    line.discount = Some(sol.discount);
    line.tax_ids = vec![Command::Set(sol.tax_ids.clone())];
    line.sale_line_ids = vec![Command::Link(sol.id)];
    let mut inv = InvoiceValues::new();
    inv.move_type = Some(MoveType::OutInvoice);
    inv.partner_id = id(&so.partner_invoice_id);
    inv.company_id = id(&so.company_id);
    inv.currency_id = id(&so.currency_id);
    inv.invoice_origin = Some(so.name.clone());
    inv.reference = Some(Some(
        so.client_order_ref
            .clone()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| so.name.clone()),
    ));
    inv.fiscal_position_id = Some(id(&so.fiscal_position_id));
    inv.invoice_payment_term_id = Some(id(&so.payment_term_id));
    inv.invoice_user_id = Some(id(&so.user_id));
    inv.team_id = Some(id(&so.team_id));
    inv.invoice_line_ids.0.push(line);
    inv
}

/// The milestones of the booked contracts `booked` that are reached in Odoo, as accepted
/// milestone messages from Odoo (accepted on the day Odoo says they were reached): what a poll
/// of Odoo turns into [`FlowMessage::MilestoneReached`](crate::FlowMessage::MilestoneReached).
/// A milestone already invoiced is found again; its message changes nothing.
pub(super) async fn reached_in_odoo(
    f: &Flows,
    booked: &[BookedContract],
) -> Result<Vec<MilestoneReached>, odoo_connect_client::Error> {
    let mut by_line = std::collections::BTreeMap::new();
    for b in booked {
        for line in &b.contract.billing_lines {
            for ms in line.milestones() {
                if let Some(id) = milestone_line(b, &ms.key) {
                    by_line.insert(id.get(), (b.contract.key.clone(), ms.key.clone()));
                }
            }
        }
    }
    if by_line.is_empty() {
        return Ok(Vec::new());
    }
    let reached: Vec<OdooMilestone> = f
        .odoo_for(crate::FlowPath::Time)
        .model::<OdooMilestone>()
        .search_read(
            Domain::new()
                .eq("is_reached", true)
                .is_in("sale_line_id", by_line.keys().copied().collect::<Vec<_>>()),
        )
        .fields(["id", "sale_line_id", "reached_date", "write_date"])
        .order("id")
        .await?;
    let today = chrono::Utc::now().date_naive();
    Ok(reached
        .into_iter()
        .filter_map(|r| {
            let line = r.sale_line_id.as_ref()?.id.get();
            let (contract, milestone) = by_line.get(&line)?.clone();
            let on = r
                .reached_date
                .or_else(|| r.write_date.map(|d| d.date_naive()))
                .unwrap_or(today);
            Some(MilestoneReached::accepted(
                contract,
                milestone,
                on,
                MilestoneOrigin::Odoo { milestone_id: r.id },
            ))
        })
        .collect())
}
