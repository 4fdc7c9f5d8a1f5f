//! `account.analytic.line` as timesheets.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, date, datetime, decimal, opt};

crate::odoo_selection! {
    /// `timesheet_invoice_type`: how a timesheet line is billed.
    pub enum TimesheetInvoiceType {
        /// Billed on timesheets (`billable_time`).
        BillableTime = "billable_time",
        /// Billed at a fixed price (`billable_fixed`).
        BillableFixed = "billable_fixed",
        /// Billed on milestones (`billable_milestones`).
        BillableMilestones = "billable_milestones",
        /// Billed manually (`billable_manual`).
        BillableManual = "billable_manual",
        /// Not billable (`non_billable`).
        NonBillable = "non_billable",
        /// Timesheet revenues (`timesheet_revenues`).
        TimesheetRevenues = "timesheet_revenues",
        /// Service revenues (`service_revenues`).
        ServiceRevenues = "service_revenues",
        /// Other revenues (`other_revenues`).
        OtherRevenues = "other_revenues",
        /// Other costs (`other_costs`).
        OtherCosts = "other_costs",
    }
}

/// A timesheet line: an `account.analytic.line` with a project.
///
/// Search with `project_id != false` to get timesheets only; other analytic lines (from invoices
/// and bills) share the model.
///
/// ```
/// use odoo_connect_client::models::{Timesheet, timesheet::TimesheetInvoiceType};
/// let t: Timesheet = serde_json::from_str(
///     r#"{"id": 1, "name": "Requirements analysis", "date": "2026-11-22",
///         "employee_id": [1, "Mitchell Admin"], "project_id": [2, "Research & Development"],
///         "task_id": false, "unit_amount": 2.0, "amount": -200.0, "so_line": false,
///         "timesheet_invoice_type": "non_billable"}"#,
/// ).unwrap();
/// assert_eq!(t.unit_amount.to_string(), "2.0");
/// assert_eq!(t.amount.to_string(), "-200.0");
/// assert_eq!(t.task_id, None);
/// assert_eq!(t.timesheet_invoice_type, Some(TimesheetInvoiceType::NonBillable));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "account.analytic.line")]
#[non_exhaustive]
pub struct Timesheet {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub name: String,
    /// Date of the work.
    #[serde(default, with = "date::option")]
    pub date: Option<NaiveDate>,
    /// Employee (`hr.employee`).
    #[serde(default, with = "opt")]
    pub employee_id: Option<Many2one>,
    /// User (`res.users`).
    #[serde(default, with = "opt")]
    pub user_id: Option<Many2one>,
    /// Project.
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Task.
    #[serde(default, with = "opt")]
    pub task_id: Option<Many2one>,
    /// Quantity (`unit_amount`): hours for a timesheet.
    #[serde(default, with = "decimal")]
    pub unit_amount: Decimal,
    /// Unit of measure (hours).
    #[serde(default, with = "opt")]
    pub product_uom_id: Option<Many2one>,
    /// Amount (`amount`): the cost, negative for timesheets (hours x the employee's hourly cost).
    #[serde(default, with = "decimal")]
    pub amount: Decimal,
    /// Currency of the amount.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Sales order line the time is billed on (`so_line`).
    #[serde(default, with = "opt")]
    pub so_line: Option<Many2one>,
    /// How the line is billed.
    #[serde(default, with = "opt")]
    pub timesheet_invoice_type: Option<TimesheetInvoiceType>,
    /// Invoice that billed the line (`account.move`).
    #[serde(default, with = "opt")]
    pub timesheet_invoice_id: Option<Many2one>,
    /// Customer.
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Analytic account (of the project).
    #[serde(default, with = "opt")]
    pub account_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Timesheet {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        Timesheet {
            id,
            display_name: None,
            name: String::new(),
            date: None,
            employee_id: None,
            user_id: None,
            project_id: None,
            task_id: None,
            unit_amount: Decimal::ZERO,
            product_uom_id: None,
            amount: Decimal::ZERO,
            currency_id: None,
            so_line: None,
            timesheet_invoice_type: None,
            timesheet_invoice_id: None,
            partner_id: None,
            account_id: None,
            company_id: None,
            write_date: None,
        }
    }
}
