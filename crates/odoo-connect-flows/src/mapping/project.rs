//! [`Project`] ↔ `project.project` and [`Milestone`] ↔ `project.milestone`.
//!
//! A project bills the sale order line of its default billing line (`sale_line_id`) and books on
//! its analytic account (`account_id` from Odoo 18, `analytic_account_id` up to 17). Its status is
//! the project's last update status: `on_track` for an open project, `on_hold`, and `done` for a
//! closed one from Odoo 17; Odoo 16 has no `done`, so a closed project is archived there.
//!
//! A fixed-fee milestone is a project milestone of the project that delivers it, linked to its
//! own order line ([`contract`](super::contract) sells each milestone on a line of its own):
//! reaching it delivers the whole line (`quantity_percentage` 1 up to Odoo 17; `product_uom_qty`
//! 1 from 18, where Odoo computes the percentage from it).

use rust_decimal::{Decimal, RoundingStrategy};

use odoo_connect_canonical::{Acceptance, Milestone, Money, Project, ProjectKey, ProjectStatus};
use odoo_connect_client::models::project::ProjectStatus as UpdateStatus;
use odoo_connect_client::models::{
    Milestone as OdooMilestone, Project as OdooProject, SaleOrderLine,
};
use odoo_connect_client::models::{MilestoneValues, ProjectValues};

use super::{
    LinePart, Mapped, MappingContext, MappingError, UnsupportedField, checked_mul, currency_of,
    key_or_derived, other_selection, refs_with_odoo,
};

const MODEL: &str = "project.project";
const MILESTONE_MODEL: &str = "project.milestone";

/// The `project.project` values of a project.
///
/// Needs the partner of its client; when the project bills a billing line, the sale order line of
/// that line (its whole, or its first part: the first role of a rate card); when it has a
/// manager, the manager's user. The analytic account is written when the context has one for the
/// project (otherwise Odoo makes one). Budget hours are the project's `allocated_hours`.
///
/// ```
/// use odoo_connect_canonical::{Project, ProjectStatus};
/// use odoo_connect_flows::mapping::{MappingContext, project};
/// use odoo_connect_client::ServerVersion;
///
/// let mut p = Project::new("prj-1".parse()?, "ERP roll-out", "acme".parse()?);
/// p.status = ProjectStatus::Closed;
/// let mut ctx = MappingContext::new(ServerVersion::new(17, 0));
/// ctx.clients.insert("acme".parse()?, 15);
/// ctx.analytic_accounts.insert("prj-1".parse()?, 24);
/// let v17 = project::to_odoo(&p, &ctx)?.to_values();
/// assert_eq!(v17.get("analytic_account_id"), Some(&24.into()));
/// assert_eq!(v17.get("last_update_status"), Some(&"done".into()));
/// let v16 = project::to_odoo(&p, &ctx.for_version(ServerVersion::new(16, 0)))?.to_values();
/// assert_eq!(v16.get("active"), Some(&false.into()));
/// let v18 = project::to_odoo(&p, &ctx.for_version(ServerVersion::new(18, 0)))?.to_values();
/// assert_eq!(v18.get("account_id"), Some(&24.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    project: &Project,
    ctx: &MappingContext,
) -> Result<Mapped<ProjectValues>, MappingError> {
    let version = &ctx.version;
    let partner = ctx.clients.id(&project.client).ok_or_else(|| {
        MappingError::missing_id(
            "client",
            format!("res.partner of client {}", project.client),
        )
    })?;
    let mut values = ProjectValues::new();
    values.name = Some(project.name.clone());
    values.partner_id = Some(Some(partner));
    values.allow_timesheets = Some(true);
    values.allow_billable = Some(project.contract.is_some());
    values.allow_milestones = Some(!project.milestones.is_empty());
    values.account_id = ctx.analytic_accounts.id(&project.key);
    values.sale_line_id = match &project.billing_line {
        Some(line) => {
            let contract = project.contract.as_ref();
            let id = ctx
                .sale_line(contract, line, &LinePart::Whole)
                .or_else(|| {
                    ctx.sale_lines
                        .find(|r| &r.line == line && contract.is_none_or(|c| &r.contract == c))
                })
                .ok_or_else(|| {
                    MappingError::missing_id(
                        "billing_line",
                        format!("sale.order.line of billing line {line}"),
                    )
                })?;
            Some(Some(id))
        }
        None => Some(None),
    };
    if let Some(manager) = &project.manager {
        let user = ctx.users.id(manager).ok_or_else(|| {
            MappingError::missing_id("manager", format!("res.users of employee {manager}"))
        })?;
        values.user_id = Some(Some(user));
    }
    values.date_start = Some(project.start_date);
    values.date = Some(project.end_date);
    values.allocated_hours = project.budget_hours;
    values.last_update_status = match project.status {
        ProjectStatus::OnHold => Some(UpdateStatus::OnHold),
        ProjectStatus::Closed if version.major < 17 => None,
        ProjectStatus::Closed => Some(UpdateStatus::Done),
        _ => Some(UpdateStatus::OnTrack),
    };
    if version.major < 17 {
        values.active = Some(project.status != ProjectStatus::Closed);
    }
    Ok(Mapped::new(values, version.clone()))
}

/// Reads a project back from its `project.project` and the milestones of the database (those of
/// this project are kept).
///
/// The contract and billing line come from the project's sale order line (or only the contract,
/// from its sale order). An archived project, or one whose last update is `done`, is closed; one
/// `on_hold` is on hold; any other status is open. The budget hours are not read (the typed
/// project does not read `allocated_hours`).
///
/// ```
/// use odoo_connect_canonical::ProjectStatus;
/// use odoo_connect_flows::mapping::{MappingContext, project};
/// use odoo_connect_client::{ServerVersion, models::{Milestone, Project}};
///
/// let p: Project = serde_json::from_str(
///     r#"{"id": 1, "name": "Office Design", "partner_id": [7, "YourCompany, Joel Willis"],
///         "account_id": [24, "Office Design"], "sale_line_id": false, "sale_order_id": false,
///         "user_id": [5, "Marc Demo"], "date_start": "2026-09-21", "date": "2026-12-04",
///         "last_update_status": "on_track"}"#,
/// )?;
/// let m: Vec<Milestone> = serde_json::from_str(
///     r#"[{"id": 1, "name": "First Phase", "project_id": [1, "Office Design"]},
///         {"id": 4, "name": "Other", "project_id": [2, "Research"]}]"#,
/// )?;
/// let ctx = MappingContext::new(ServerVersion::new(19, 0));
/// let office = project::from_odoo(&p, &m, &ctx)?;
/// assert_eq!(office.client.as_str(), "odoo:res.partner:7");
/// assert_eq!(office.status, ProjectStatus::Open);
/// assert_eq!(office.milestones.len(), 1);
/// assert_eq!(office.manager.unwrap().as_str(), "odoo:res.users:5");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(
    project: &OdooProject,
    milestones: &[OdooMilestone],
    ctx: &MappingContext,
) -> Result<Project, MappingError> {
    let key = key_or_derived(&ctx.projects, MODEL, project.id)?;
    let partner = project
        .partner_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "partner_id"))?;
    let client = key_or_derived(&ctx.clients, "res.partner", partner.id)?;
    let (contract, billing_line) = match (&project.sale_line_id, &project.sale_order_id) {
        (Some(line), order) => match ctx.sale_lines.key(line.id) {
            Some(r) => (Some(r.contract.clone()), Some(r.line.clone())),
            None => (
                order
                    .as_ref()
                    .map(|o| key_or_derived(&ctx.orders, "sale.order", o.id))
                    .transpose()?,
                Some(super::derived_key("sale.order.line", line.id)?),
            ),
        },
        (None, Some(order)) => (
            Some(key_or_derived(&ctx.orders, "sale.order", order.id)?),
            None,
        ),
        (None, None) => (None, None),
    };
    let manager = project
        .user_id
        .as_ref()
        .map(|u| key_or_derived(&ctx.users, "res.users", u.id))
        .transpose()?;
    let status = if !project.active {
        ProjectStatus::Closed
    } else {
        match &project.last_update_status {
            Some(UpdateStatus::Done) => ProjectStatus::Closed,
            Some(UpdateStatus::OnHold) => ProjectStatus::OnHold,
            Some(UpdateStatus::Other(v)) => {
                return Err(other_selection(MODEL, "last_update_status", v));
            }
            _ => ProjectStatus::Open,
        }
    };
    let milestones = milestones
        .iter()
        .filter(|m| m.project_id.as_ref().is_some_and(|p| p.id == project.id))
        .map(|m| key_or_derived(&ctx.milestones, MILESTONE_MODEL, m.id))
        .collect::<Result<Vec<_>, _>>()?;
    let mut canonical = Project::new(key, project.name.clone(), client);
    canonical.refs = refs_with_odoo(MODEL, project.id);
    canonical.contract = contract;
    canonical.billing_line = billing_line;
    canonical.manager = manager;
    canonical.status = status;
    canonical.start_date = project.date_start;
    canonical.end_date = project.date;
    canonical.milestones = milestones;
    canonical.budget_hours = None;
    Ok(canonical)
}

/// The `project.milestone` values of a fixed-fee milestone delivered by `project`.
///
/// Needs the project. The milestone's order line is linked when the context has it (a milestone
/// made before its order is reported as delivering nothing). Odoo knows whether a milestone is
/// reached, not whether it was delivered or refused, nor when it was accepted: it stamps the day
/// it is marked reached. Those are reported.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Milestone, Money};
/// use odoo_connect_flows::mapping::{LinePart, MappingContext, SaleLineRef, project};
/// use odoo_connect_client::ServerVersion;
/// use rust_decimal::Decimal;
///
/// let m = Milestone::new("m1".parse()?, "Design", Money::new(Decimal::new(10_000, 0), Currency::EUR));
/// let mut ctx = MappingContext::new(ServerVersion::new(18, 0));
/// ctx.projects.insert("prj-1".parse()?, 8);
/// ctx.sale_lines.insert(SaleLineRef::new("c-1".parse()?, "ff".parse()?, LinePart::Milestone("m1".parse()?)), 71);
/// let v18 = project::milestone_to_odoo(&m, &"prj-1".parse()?, &ctx)?.to_values();
/// assert_eq!(v18.get("sale_line_id"), Some(&71.into()));
/// assert_eq!(v18.get("product_uom_qty"), Some(&1.0.into()));
/// let v17 = project::milestone_to_odoo(&m, &"prj-1".parse()?, &ctx.for_version(ServerVersion::new(17, 0)))?.to_values();
/// assert_eq!(v17.get("quantity_percentage"), Some(&1.0.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn milestone_to_odoo(
    milestone: &Milestone,
    project: &ProjectKey,
    ctx: &MappingContext,
) -> Result<Mapped<MilestoneValues>, MappingError> {
    let mut unsupported = Vec::new();
    let project_id = ctx.projects.id(project).ok_or_else(|| {
        MappingError::missing_id("project", format!("project.project of project {project}"))
    })?;
    let mut values = MilestoneValues::new();
    values.name = Some(milestone.name.clone());
    values.project_id = Some(project_id);
    values.is_reached = Some(matches!(milestone.acceptance, Acceptance::Accepted { .. }));
    values.deadline = Some(milestone.due_date);
    let part = LinePart::Milestone(milestone.key.clone());
    match ctx.sale_lines.find(|r| r.part == part) {
        Some(line) => {
            values.sale_line_id = Some(Some(line));
            // The whole line: a quantity of one from Odoo 18, a share of 100 % before (each
            // field is written only to the versions that have it).
            values.product_uom_qty = Some(Decimal::ONE);
            values.quantity_percentage = Some(Decimal::ONE);
        }
        None => unsupported.push(UnsupportedField::new(
            "amount",
            format!(
                "no sale.order.line resolved for milestone {}: the milestone delivers nothing \
                 until it is linked",
                milestone.key
            ),
        )),
    }
    match &milestone.acceptance {
        Acceptance::Pending => {}
        Acceptance::Accepted { .. } => unsupported.push(UnsupportedField::new(
            "acceptance.on",
            "Odoo stamps a milestone with the day it is marked reached",
        )),
        Acceptance::Delivered { .. } => unsupported.push(UnsupportedField::new(
            "acceptance",
            "Odoo milestones are reached or not: delivered and awaiting acceptance is not reached",
        )),
        Acceptance::Rejected { .. } => unsupported.push(UnsupportedField::new(
            "acceptance",
            "Odoo milestones are reached or not: a refusal is not reached",
        )),
        // An acceptance status added to the canonical model after this mapping: whether it makes
        // the milestone reached is unknown, so refuse rather than guess.
        other => {
            return Err(MappingError::Unsupported {
                path: "acceptance".into(),
                version: ctx.version.to_string(),
                reason: format!("no Odoo milestone state is mapped for {other:?}"),
            });
        }
    }
    if milestone.invoiced.is_some() {
        unsupported.push(UnsupportedField::new(
            "invoiced",
            "Odoo records what is invoiced on the sale order line",
        ));
    }
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}

/// Reads a fixed-fee milestone back from its `project.milestone` and its sale order line.
///
/// The amount is what reaching the milestone delivers of the line: its quantity
/// (`product_uom_qty`, or the line's quantity times `quantity_percentage` where Odoo does not
/// send one) at the line's discounted unit price, rounded to the currency. Without a line the
/// amount is zero in [`MappingContext::default_currency`]. A reached milestone is accepted on the
/// day Odoo marked it reached.
///
/// ```
/// use odoo_connect_canonical::Acceptance;
/// use odoo_connect_flows::mapping::{MappingContext, project};
/// use odoo_connect_client::{ServerVersion, models::{Milestone, SaleOrderLine}};
///
/// let m: Milestone = serde_json::from_str(
///     r#"{"id": 3, "name": "Design", "project_id": [8, "Roll-out"], "is_reached": true,
///         "reached_date": "2026-11-23", "sale_line_id": [71, "S00029 - Design"], "quantity_percentage": 0.5}"#,
/// )?;
/// let line: SaleOrderLine = serde_json::from_str(
///     r#"{"id": 71, "product_uom_qty": 1.0, "price_unit": 12000.0, "currency_id": [1, "USD"]}"#,
/// )?;
/// let ctx = MappingContext::new(ServerVersion::new(17, 0));
/// let design = project::milestone_from_odoo(&m, Some(&line), &ctx)?;
/// assert_eq!(design.amount.to_string(), "6000.00 USD");
/// assert!(matches!(design.acceptance, Acceptance::Accepted { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn milestone_from_odoo(
    milestone: &OdooMilestone,
    line: Option<&SaleOrderLine>,
    ctx: &MappingContext,
) -> Result<Milestone, MappingError> {
    let key = key_or_derived(&ctx.milestones, MILESTONE_MODEL, milestone.id)?;
    if let (Some(l), Some(linked)) = (line, &milestone.sale_line_id)
        && l.id != linked.id
    {
        return Err(MappingError::invalid(
            format!("{MILESTONE_MODEL}.sale_line_id"),
            format!("the milestone is on line {}, not {}", linked.id, l.id),
        ));
    }
    let amount = match line {
        Some(l) => {
            let currency = currency_of(l.currency_id.as_ref(), ctx, "sale.order.line.currency_id")?;
            let path = format!("{MILESTONE_MODEL}.quantity_percentage");
            let quantity = match milestone.product_uom_qty {
                Some(q) => q,
                None => checked_mul(l.product_uom_qty, milestone.quantity_percentage, &path)?,
            };
            let kept = Decimal::ONE_HUNDRED
                .checked_sub(l.discount)
                .and_then(|k| k.checked_div(Decimal::ONE_HUNDRED))
                .ok_or_else(|| MappingError::invalid("sale.order.line.discount", "out of range"))?;
            let price = checked_mul(l.price_unit, kept, "sale.order.line.price_unit")?;
            let amount = checked_mul(price, quantity, &path)?.round_dp_with_strategy(
                currency.minor_units(),
                RoundingStrategy::MidpointAwayFromZero,
            );
            Money::new(amount, currency)
        }
        None => Money::zero(
            ctx.default_currency
                .ok_or_else(|| MappingError::missing_field(MILESTONE_MODEL, "sale_line_id"))?,
        ),
    };
    let acceptance = if milestone.is_reached {
        let on = milestone
            .reached_date
            .ok_or_else(|| MappingError::missing_field(MILESTONE_MODEL, "reached_date"))?;
        Acceptance::Accepted { on }
    } else {
        Acceptance::Pending
    };
    let mut canonical = Milestone::new(key, milestone.name.clone(), amount);
    canonical.refs = refs_with_odoo(MILESTONE_MODEL, milestone.id);
    canonical.due_date = milestone.deadline;
    canonical.acceptance = acceptance;
    canonical.invoiced = None;
    Ok(canonical)
}
