//! `project.project`, `project.task` and `project.milestone`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, date, datetime, decimal, opt};

crate::odoo_selection! {
    /// `project.project.privacy_visibility`: who sees the project.
    pub enum PrivacyVisibility {
        /// Invited internal users only (`followers`).
        Followers = "followers",
        /// Invited internal and portal users (`invited_users`, from Odoo 19).
        InvitedUsers = "invited_users",
        /// All internal users (`employees`).
        Employees = "employees",
        /// Internal users and invited portal users (`portal`).
        Portal = "portal",
    }
}

crate::odoo_selection! {
    /// `project.project.last_update_status`: the status of the last project update.
    pub enum ProjectStatus {
        /// On track (`on_track`).
        OnTrack = "on_track",
        /// At risk (`at_risk`).
        AtRisk = "at_risk",
        /// Off track (`off_track`).
        OffTrack = "off_track",
        /// On hold (`on_hold`).
        OnHold = "on_hold",
        /// No status set (`to_define`).
        ToDefine = "to_define",
        /// Done (`done`).
        Done = "done",
    }
}

/// A `project.project` record.
///
/// Its analytic account is `account_id` from Odoo 18 and `analytic_account_id` up to 17; both
/// decode into [`Project::account_id`].
///
/// ```
/// use odoo_connect_client::models::Project;
/// let v18: Project = serde_json::from_str(
///     r#"{"id": 1, "name": "Office Design", "account_id": [24, "Office Design"], "allow_billable": true}"#,
/// ).unwrap();
/// let v17: Project = serde_json::from_str(
///     r#"{"id": 1, "name": "Office Design", "analytic_account_id": [24, "Office Design"], "allow_billable": true}"#,
/// ).unwrap();
/// assert_eq!(v18, v17);
/// assert_eq!(v17.account_id.unwrap().id.get(), 24);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "project.project")]
#[non_exhaustive]
pub struct Project {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Customer (`res.partner`).
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Analytic account (`account_id` from Odoo 18, `analytic_account_id` up to 17).
    #[odoo(since = 18, formerly = "analytic_account_id")]
    #[serde(default, alias = "analytic_account_id", with = "opt")]
    pub account_id: Option<Many2one>,
    /// Sales order line the project bills (`sale.order.line`).
    #[serde(default, with = "opt")]
    pub sale_line_id: Option<Many2one>,
    /// Sales order of that line.
    #[serde(default, with = "opt")]
    pub sale_order_id: Option<Many2one>,
    /// Whether time and material can be invoiced (`allow_billable`).
    #[serde(default)]
    pub allow_billable: bool,
    /// Whether timesheets are enabled.
    #[serde(default)]
    pub allow_timesheets: bool,
    /// Whether milestones are enabled.
    #[serde(default)]
    pub allow_milestones: bool,
    /// Company; `None` when the project is shared by all companies.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Project manager (`res.users`).
    #[serde(default, with = "opt")]
    pub user_id: Option<Many2one>,
    /// Start date.
    #[serde(default, with = "date::option")]
    pub date_start: Option<NaiveDate>,
    /// End date (`date`).
    #[serde(default, with = "date::option")]
    pub date: Option<NaiveDate>,
    /// Visibility.
    #[serde(default, with = "opt")]
    pub privacy_visibility: Option<PrivacyVisibility>,
    /// Status of the last project update.
    #[serde(default, with = "opt")]
    pub last_update_status: Option<ProjectStatus>,
    /// Number of tasks.
    #[serde(default)]
    pub task_count: i64,
    /// Whether the project is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Project {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Project {
            id,
            display_name: None,
            name: String::new(),
            partner_id: None,
            account_id: None,
            sale_line_id: None,
            sale_order_id: None,
            allow_billable: false,
            allow_timesheets: false,
            allow_milestones: false,
            company_id: None,
            user_id: None,
            date_start: None,
            date: None,
            privacy_visibility: None,
            last_update_status: None,
            task_count: 0,
            active: true,
            write_date: None,
        }
    }
}

crate::odoo_selection! {
    /// `project.task.state` (from Odoo 17).
    pub enum TaskState {
        /// In progress (`01_in_progress`).
        InProgress = "01_in_progress",
        /// Changes requested (`02_changes_requested`).
        ChangesRequested = "02_changes_requested",
        /// Approved (`03_approved`).
        Approved = "03_approved",
        /// Waiting for another task (`04_waiting_normal`).
        Waiting = "04_waiting_normal",
        /// Done (`1_done`).
        Done = "1_done",
        /// Cancelled (`1_canceled`).
        Canceled = "1_canceled",
    }
}

crate::odoo_selection! {
    /// `project.task.priority`. Its labels changed in Odoo 19 (`0` low, `1` medium, `2` high,
    /// `3` urgent); up to 18 there are only `0` (normal) and `1` (high, starred).
    pub enum TaskPriority {
        /// `0`: normal (up to 18), low (19).
        Low = "0",
        /// `1`: high (up to 18), medium (19).
        Priority1 = "1",
        /// `2`: high (19).
        Priority2 = "2",
        /// `3`: urgent (19).
        Urgent = "3",
    }
}

/// A `project.task` record.
///
/// ```
/// use odoo_connect_client::models::{Task, project::TaskState};
/// let t: Task = serde_json::from_str(
///     r#"{"id": 3, "name": "Noise Reduction", "project_id": [1, "Office Design"],
///         "state": "01_in_progress", "allocated_hours": 10.0, "user_ids": [2],
///         "date_deadline": "2026-11-24 00:00:00", "milestone_id": [2, "Second Phase"]}"#,
/// ).unwrap();
/// assert_eq!(t.state, Some(TaskState::InProgress));
/// assert_eq!(t.allocated_hours.to_string(), "10.0");
/// assert_eq!(t.milestone_id.unwrap().name(), "Second Phase");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "project.task")]
#[non_exhaustive]
pub struct Task {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Title.
    #[serde(default)]
    pub name: String,
    /// Project.
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Parent task.
    #[serde(default, with = "opt")]
    pub parent_id: Option<Many2one>,
    /// Assignees (`res.users`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub user_ids: Vec<RecordId>,
    /// Stage (`project.task.type`).
    #[serde(default, with = "opt")]
    pub stage_id: Option<Many2one>,
    /// State (`state`, from Odoo 17).
    #[odoo(since = 17)]
    #[serde(default, with = "opt")]
    pub state: Option<TaskState>,
    /// Priority.
    #[serde(default, with = "opt")]
    pub priority: Option<TaskPriority>,
    /// Sales order line the task's time is billed on.
    #[serde(default, with = "opt")]
    pub sale_line_id: Option<Many2one>,
    /// Sales order of that line.
    #[serde(default, with = "opt")]
    pub sale_order_id: Option<Many2one>,
    /// Customer.
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Milestone (`project.milestone`).
    #[serde(default, with = "opt")]
    pub milestone_id: Option<Many2one>,
    /// Allocated hours (`allocated_hours` from Odoo 17, `planned_hours` up to 16).
    #[odoo(since = 17, formerly = "planned_hours")]
    #[serde(default, alias = "planned_hours", with = "decimal")]
    pub allocated_hours: Decimal,
    /// Hours spent (from timesheets).
    #[serde(default, with = "decimal")]
    pub effective_hours: Decimal,
    /// Hours remaining (negative when over the allocation).
    #[serde(default, with = "decimal")]
    pub remaining_hours: Decimal,
    /// Deadline (UTC): a datetime from Odoo 17, a date (read as midnight UTC) up to 16.
    #[serde(default, with = "super::date_or_datetime")]
    pub date_deadline: Option<DateTime<Utc>>,
    /// Tags (`project.tags`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub tag_ids: Vec<RecordId>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Whether the task is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Task {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Task {
            id,
            display_name: None,
            name: String::new(),
            project_id: None,
            parent_id: None,
            user_ids: Vec::new(),
            stage_id: None,
            state: None,
            priority: None,
            sale_line_id: None,
            sale_order_id: None,
            partner_id: None,
            milestone_id: None,
            allocated_hours: Decimal::ZERO,
            effective_hours: Decimal::ZERO,
            remaining_hours: Decimal::ZERO,
            date_deadline: None,
            tag_ids: Vec::new(),
            company_id: None,
            active: true,
            write_date: None,
        }
    }
}

/// A `project.milestone` record.
///
/// ```
/// use odoo_connect_client::models::Milestone;
/// let m: Milestone = serde_json::from_str(
///     r#"{"id": 2, "name": "Second Phase", "project_id": [1, "Office Design"],
///         "deadline": "2028-02-15", "is_reached": false, "reached_date": false,
///         "sale_line_id": false, "quantity_percentage": 0.5}"#,
/// ).unwrap();
/// assert_eq!(m.deadline.unwrap().to_string(), "2028-02-15");
/// assert_eq!(m.reached_date, None);
/// assert_eq!(m.quantity_percentage.to_string(), "0.5");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "project.milestone")]
#[non_exhaustive]
pub struct Milestone {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Project.
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Deadline.
    #[serde(default, with = "date::option")]
    pub deadline: Option<NaiveDate>,
    /// Whether the milestone is reached.
    #[serde(default)]
    pub is_reached: bool,
    /// Date it was reached.
    #[serde(default, with = "date::option")]
    pub reached_date: Option<NaiveDate>,
    /// Sales order line the milestone delivers (milestone invoicing).
    #[serde(default, with = "opt")]
    pub sale_line_id: Option<Many2one>,
    /// Share of the line's quantity delivered when reached, as a fraction (`0.5` is 50%).
    #[serde(default, with = "decimal")]
    pub quantity_percentage: Decimal,
    /// That share as a quantity of the line (`product_uom_qty`, read from Odoo 18).
    #[odoo(since = 18)]
    #[serde(default, with = "decimal::option")]
    pub product_uom_qty: Option<Decimal>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Milestone {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        Milestone {
            id,
            display_name: None,
            name: String::new(),
            project_id: None,
            deadline: None,
            is_reached: false,
            reached_date: None,
            sale_line_id: None,
            quantity_percentage: Decimal::ZERO,
            product_uom_qty: None,
            write_date: None,
        }
    }
}
