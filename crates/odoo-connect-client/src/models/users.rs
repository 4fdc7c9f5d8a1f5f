//! `res.users` (logins) and `hr.employee` (the people who log time).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, datetime, decimal, opt};

/// A `res.users` record.
///
/// ```
/// use odoo_connect_client::models::User;
/// let u: User = serde_json::from_str(
///     r#"{"id": 2, "name": "Mitchell Admin", "login": "admin", "company_ids": [1, 2], "share": false}"#,
/// ).unwrap();
/// assert_eq!(u.login, "admin");
/// assert_eq!(u.company_ids.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "res.users")]
#[non_exhaustive]
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

impl User {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        User {
            id,
            display_name: None,
            name: None,
            login: String::new(),
            email: None,
            partner_id: None,
            company_id: None,
            company_ids: Vec::new(),
            share: false,
            active: true,
            write_date: None,
        }
    }
}

/// An `hr.employee` record.
///
/// ```
/// use odoo_connect_client::models::Employee;
/// let e: Employee = serde_json::from_str(
///     r#"{"id": 3, "name": "Marc Demo", "user_id": [5, "Marc Demo"], "hourly_cost": 75.0}"#,
/// ).unwrap();
/// assert_eq!(e.hourly_cost.to_string(), "75.0");
/// assert_eq!(e.user_id.unwrap().id.get(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "hr.employee")]
#[non_exhaustive]
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
    #[odoo(since = 17)]
    #[serde(default, with = "opt")]
    pub work_contact_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Hourly cost, in the company currency (used to value timesheets).
    ///
    /// Only HR officers read it: for other users Odoo serves `hr.employee` reads from the
    /// public profiles and refuses this field (and others of this type) with an `AccessError`.
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

impl Employee {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Employee {
            id,
            display_name: None,
            name: None,
            job_title: None,
            work_email: None,
            work_phone: None,
            department_id: None,
            parent_id: None,
            coach_id: None,
            user_id: None,
            work_contact_id: None,
            company_id: None,
            hourly_cost: Decimal::ZERO,
            resource_calendar_id: None,
            active: true,
            write_date: None,
        }
    }
}
