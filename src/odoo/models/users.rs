//! `res.users` (logins) and `hr.employee` (the people who log time).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{FieldSpec, select};
use crate::odoo::model::Model;
use crate::odoo::value::{Many2one, RecordId, datetime, decimal, opt};
use crate::odoo::version::ServerVersion;

/// A `res.users` record.
///
/// ```
/// use odoo_connect::odoo::models::User;
/// let u: User = serde_json::from_str(
///     r#"{"id": 2, "name": "Mitchell Admin", "login": "admin", "company_ids": [1, 2], "share": false}"#,
/// ).unwrap();
/// assert_eq!(u.login, "admin");
/// assert_eq!(u.company_ids.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Record id (the `uid`).
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name (from the user's partner).
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// Login.
    #[serde(default)]
    pub login: String,
    /// Email (from the user's partner).
    #[serde(default, with = "opt")]
    pub email: Option<String>,
    /// The user's partner (`res.partner`).
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Default company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Companies the user may work in.
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub company_ids: Vec<RecordId>,
    /// Whether this is a portal or public user (`share`), not an internal one.
    #[serde(default)]
    pub share: bool,
    /// Whether the user is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

const USER_FIELDS: &[FieldSpec] = &[
    FieldSpec::all("id"),
    FieldSpec::all("display_name"),
    FieldSpec::all("name"),
    FieldSpec::all("login"),
    FieldSpec::all("email"),
    FieldSpec::all("partner_id"),
    FieldSpec::all("company_id"),
    FieldSpec::all("company_ids"),
    FieldSpec::all("share"),
    FieldSpec::all("active"),
    FieldSpec::all("write_date"),
];

impl Model for User {
    const MODEL: &'static str = "res.users";

    fn fields(version: &ServerVersion) -> Vec<&'static str> {
        select(USER_FIELDS, version)
    }
}

/// An `hr.employee` record.
///
/// ```
/// use odoo_connect::odoo::models::Employee;
/// let e: Employee = serde_json::from_str(
///     r#"{"id": 3, "name": "Marc Demo", "user_id": [5, "Marc Demo"], "hourly_cost": 75.0}"#,
/// ).unwrap();
/// assert_eq!(e.hourly_cost.to_string(), "75.0");
/// assert_eq!(e.user_id.unwrap().id.get(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Employee {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name.
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// Job title.
    #[serde(default, with = "opt")]
    pub job_title: Option<String>,
    /// Work email.
    #[serde(default, with = "opt")]
    pub work_email: Option<String>,
    /// Work phone.
    #[serde(default, with = "opt")]
    pub work_phone: Option<String>,
    /// Department (`hr.department`).
    #[serde(default, with = "opt")]
    pub department_id: Option<Many2one>,
    /// Manager (`hr.employee`).
    #[serde(default, with = "opt")]
    pub parent_id: Option<Many2one>,
    /// Coach (`hr.employee`).
    #[serde(default, with = "opt")]
    pub coach_id: Option<Many2one>,
    /// The employee's user (`res.users`), if they log in.
    #[serde(default, with = "opt")]
    pub user_id: Option<Many2one>,
    /// The employee's work contact (`res.partner`; Odoo 17 and later).
    #[serde(default, with = "opt")]
    pub work_contact_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Hourly cost, in the company currency (used to value timesheets).
    #[serde(default, with = "decimal")]
    pub hourly_cost: Decimal,
    /// Working schedule (`resource.calendar`).
    #[serde(default, with = "opt")]
    pub resource_calendar_id: Option<Many2one>,
    /// Whether the employee is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

const EMPLOYEE_FIELDS: &[FieldSpec] = &[
    FieldSpec::all("id"),
    FieldSpec::all("display_name"),
    FieldSpec::all("name"),
    FieldSpec::all("job_title"),
    FieldSpec::all("work_email"),
    FieldSpec::all("work_phone"),
    FieldSpec::all("department_id"),
    FieldSpec::all("parent_id"),
    FieldSpec::all("coach_id"),
    FieldSpec::all("user_id"),
    FieldSpec::since(17, "work_contact_id"),
    FieldSpec::all("company_id"),
    FieldSpec::all("hourly_cost"),
    FieldSpec::all("resource_calendar_id"),
    FieldSpec::all("active"),
    FieldSpec::all("write_date"),
];

impl Model for Employee {
    const MODEL: &'static str = "hr.employee";

    fn fields(version: &ServerVersion) -> Vec<&'static str> {
        select(EMPLOYEE_FIELDS, version)
    }
}
