//! [`TimeEntry`] ↔ `account.analytic.line` (a timesheet line).
//!
//! The hours are the line's `unit_amount`; Odoo values them at the employee's hourly cost
//! (`amount`) and books them on the project's analytic account itself. A billable entry is billed
//! on the sale order line of its billing line and role (`so_line`); without a billing line Odoo
//! takes the line of the task or the project; a non-billable entry has no `so_line`. Odoo
//! Community has no approval of timesheets: a line counts once it is recorded.

use odoo_connect_canonical::{ApprovalState, TimeEntry};
use odoo_connect_client::models::Timesheet;
use odoo_connect_client::models::TimesheetValues;
use odoo_connect_client::models::timesheet::TimesheetInvoiceType;

use super::{
    LinePart, Mapped, MappingContext, MappingError, UnsupportedField, derived_key, key_or_derived,
    refs_with_odoo,
};

const MODEL: &str = "account.analytic.line";

/// The `account.analytic.line` values of a time entry.
///
/// Needs the employee, the project, the task when it has one and, for a billable entry with a
/// billing line, the sale order line of that line (the line of its role on a rate card, else the
/// line's whole). The role is held only by a role's order line, and the approval not at all:
/// both are reported otherwise.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{ApprovalState, TimeEntry};
/// use odoo_connect_flows::mapping::{LinePart, MappingContext, SaleLineRef, time};
/// use odoo_connect_client::ServerVersion;
/// use rust_decimal::Decimal;
///
/// let mut entry = TimeEntry::new("te-1".parse()?, "jane".parse()?, "prj-1".parse()?, "partner".parse()?,
///     NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), Decimal::new(75, 1), "Workshop");
/// entry.billing_line = Some("tm".parse()?);
/// entry.approval = ApprovalState::Approved;
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.employees.insert("jane".parse()?, 7);
/// ctx.projects.insert("prj-1".parse()?, 8);
/// ctx.sale_lines.insert(SaleLineRef::new("c-1".parse()?, "tm".parse()?, LinePart::Role("partner".parse()?)), 72);
/// let mapped = time::to_odoo(&entry, &ctx)?;
/// assert!(mapped.is_complete());
/// assert_eq!(mapped.values.unit_amount, Some(Decimal::new(75, 1)));
/// assert_eq!(mapped.to_values().get("so_line"), Some(&72.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    entry: &TimeEntry,
    ctx: &MappingContext,
) -> Result<Mapped<TimesheetValues>, MappingError> {
    let mut unsupported = Vec::new();
    let employee = ctx.employees.id(&entry.employee).ok_or_else(|| {
        MappingError::missing_id("employee", format!("hr.employee {}", entry.employee))
    })?;
    let project = ctx.projects.id(&entry.project).ok_or_else(|| {
        MappingError::missing_id("project", format!("project.project {}", entry.project))
    })?;
    let mut values = TimesheetValues::new();
    values.name = Some(entry.description.clone());
    values.date = Some(entry.date);
    values.employee_id = Some(employee);
    values.project_id = Some(project);
    values.unit_amount = Some(entry.hours);
    values.task_id = match &entry.task {
        Some(task) => {
            let id = ctx
                .tasks
                .id(task)
                .ok_or_else(|| MappingError::missing_id("task", format!("project.task {task}")))?;
            Some(Some(id))
        }
        None => Some(None),
    };
    let role_part = LinePart::Role(entry.role.clone());
    let mut role_held = false;
    match (&entry.billing_line, entry.billable) {
        (line, false) => {
            values.so_line = Some(None);
            if line.is_some() {
                unsupported.push(UnsupportedField::new(
                    "billing_line",
                    "a non-billable timesheet line has no sale order line",
                ));
            }
        }
        (Some(line), true) => {
            let by_role = ctx.sale_line(None, line, &role_part);
            role_held = by_role.is_some();
            let id = by_role
                .or_else(|| ctx.sale_line(None, line, &LinePart::Whole))
                .or_else(|| ctx.sale_lines.find(|r| &r.line == line))
                .ok_or_else(|| {
                    MappingError::missing_id(
                        "billing_line",
                        format!("sale.order.line of billing line {line}"),
                    )
                })?;
            values.so_line = Some(Some(id));
        }
        (None, true) => {}
    }
    if !role_held {
        unsupported.push(UnsupportedField::new(
            "role",
            "held only by the sale order line of the role; read back from the employee's usual \
             role",
        ));
    }
    if entry.approval != ApprovalState::Approved {
        unsupported.push(UnsupportedField::new(
            "approval",
            "Odoo Community timesheets have no approval: the line counts once recorded",
        ));
    }
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}

/// Reads a time entry back from its timesheet line.
///
/// The billing line and role come from the line's sale order line; without a role's order line
/// the role is the employee's usual one ([`MappingContext::employee_roles`]). A line is billable
/// when it has a sale order line and Odoo does not class it as non-billable; it is approved (Odoo
/// Community has no approval).
///
/// ```
/// use odoo_connect_canonical::Role;
/// use odoo_connect_flows::mapping::{MappingContext, time};
/// use odoo_connect_client::{ServerVersion, models::Timesheet};
///
/// let line: Timesheet = serde_json::from_str(
///     r#"{"id": 1, "name": "Requirements analysis", "date": "2026-11-22",
///         "employee_id": [1, "Mitchell Admin"], "project_id": [2, "Research & Development"],
///         "task_id": false, "unit_amount": 2.0, "so_line": false, "timesheet_invoice_type": "non_billable"}"#,
/// )?;
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.employees.insert("mitchell".parse()?, 1);
/// ctx.employee_roles.insert("mitchell".parse()?, "cto".parse()?);
/// let entry = time::from_odoo(&line, &ctx)?;
/// assert_eq!(entry.hours.to_string(), "2.0");
/// assert_eq!(entry.role.as_str(), "cto");
/// assert!(!entry.billable);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(line: &Timesheet, ctx: &MappingContext) -> Result<TimeEntry, MappingError> {
    let key = key_or_derived(&ctx.time_entries, MODEL, line.id)?;
    let project = line
        .project_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "project_id"))?;
    let project = key_or_derived(&ctx.projects, "project.project", project.id)?;
    let employee = line
        .employee_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "employee_id"))?;
    let employee = key_or_derived(&ctx.employees, "hr.employee", employee.id)?;
    let task = line
        .task_id
        .as_ref()
        .map(|t| key_or_derived(&ctx.tasks, "project.task", t.id))
        .transpose()?;
    let date = line
        .date
        .ok_or_else(|| MappingError::missing_field(MODEL, "date"))?;
    let sale_line = line
        .so_line
        .as_ref()
        .map(|l| (l.id, ctx.sale_lines.key(l.id)));
    let billing_line = match sale_line {
        Some((_, Some(r))) => Some(r.line.clone()),
        Some((id, None)) => Some(derived_key("sale.order.line", id)?),
        None => None,
    };
    let role = match sale_line {
        Some((
            _,
            Some(super::SaleLineRef {
                part: LinePart::Role(role),
                ..
            }),
        )) => role.clone(),
        _ => ctx.employee_roles.get(&employee).cloned().ok_or_else(|| {
            MappingError::missing_id(
                "role",
                format!("the usual role of employee {employee} (MappingContext::employee_roles)"),
            )
        })?,
    };
    let billable = line.so_line.is_some()
        && line.timesheet_invoice_type != Some(TimesheetInvoiceType::NonBillable);
    let mut entry = TimeEntry::new(
        key,
        employee,
        project,
        role,
        date,
        line.unit_amount,
        line.name.clone(),
    );
    entry.refs = refs_with_odoo(MODEL, line.id);
    entry.task = task;
    entry.billing_line = billing_line;
    entry.billable = billable;
    entry.approval = ApprovalState::Approved;
    entry.invoiced = line.timesheet_invoice_id.is_some();
    Ok(entry)
}
