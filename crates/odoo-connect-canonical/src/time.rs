//! Time entries and their pre-mapping form.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::{
    BillingLineId, EmployeeKey, ExternalRefs, ProjectKey, Role, TaskKey, TimeEntryKey,
};
use super::money::Money;
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, Validate, ValidationErrors, impl_validate};

/// Where a time entry or expense is in its approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalState {
    /// Being written.
    Draft,
    /// Waiting for approval.
    Submitted,
    /// Approved: may be invoiced.
    Approved,
    /// Refused.
    Rejected,
}

impl ApprovalState {
    /// Whether approved.
    pub fn is_approved(self) -> bool {
        self == ApprovalState::Approved
    }
}

/// Most hours one entry may hold.
const MAX_HOURS: Decimal = Decimal::from_parts(24, 0, 0, false, 0);
/// Hours are recorded to the ten-thousandth (0.0001 h is a third of a second).
const MAX_HOURS_SCALE: u32 = 4;

/// Hours worked by one person on one day for one project.
///
/// `hours` is a decimal above 0 and at most 24, with at most 4 decimals. `role` prices it on a
/// time-and-materials rate card; `billing_line` names the contract line it bills to (the project's
/// default when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TimeEntry {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: TimeEntryKey,
    /// Ids in other systems (the PSA's time entry, Odoo's analytic line).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Who worked.
    pub employee: EmployeeKey,
    /// On which project.
    pub project: ProjectKey,
    /// On which task, if tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskKey>,
    /// The contract billing line it bills to, when not the project's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_line: Option<BillingLineId>,
    /// The role worked in.
    pub role: Role,
    /// The day worked.
    pub date: NaiveDate,
    /// Hours worked.
    pub hours: Decimal,
    /// What was done (an export's notes or description).
    pub description: String,
    /// Whether the client is billed for it.
    pub billable: bool,
    /// Approval.
    pub approval: ApprovalState,
    /// The exact duration in seconds, when the source records it to the second (a timer's
    /// `hh:mm:ss`); `hours` is then this duration in hours, rounded to 4 decimals, and never
    /// rounded to zero for a short entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
    /// Whether the source has already invoiced it (data, not a filter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invoiced: bool,
    /// The hourly rate the source bills at, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_rate: Option<Money>,
    /// The billable amount the source computed, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_amount: Option<Money>,
    /// The hourly cost rate, when the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_rate: Option<Money>,
    /// The cost amount, when the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_amount: Option<Money>,
    /// A link to the item the time was spent on in another tool (an issue, a ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
}

impl TimeEntry {
    /// A billable draft entry.
    pub fn new(
        key: TimeEntryKey,
        employee: EmployeeKey,
        project: ProjectKey,
        role: Role,
        date: NaiveDate,
        hours: Decimal,
        description: impl Into<String>,
    ) -> TimeEntry {
        TimeEntry {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            employee,
            project,
            task: None,
            billing_line: None,
            role,
            date,
            hours,
            description: description.into(),
            billable: true,
            approval: ApprovalState::Draft,
            duration_seconds: None,
            invoiced: false,
            billable_rate: None,
            billable_amount: None,
            cost_rate: None,
            cost_amount: None,
            external_url: None,
        }
    }

    /// Hours for an exact duration in seconds: rounded half away from zero to 4 decimals (a third
    /// of a second), and at least 0.0001 for any duration above zero, so a short entry is kept.
    ///
    /// ```
    /// use odoo_connect_canonical::TimeEntry;
    /// use rust_decimal::Decimal;
    /// assert_eq!(TimeEntry::hours_of_seconds(5400), Decimal::new(15, 1));
    /// assert_eq!(TimeEntry::hours_of_seconds(1), Decimal::new(3, 4));
    /// assert_eq!(TimeEntry::hours_of_seconds(0), Decimal::ZERO);
    /// ```
    pub fn hours_of_seconds(seconds: u32) -> Decimal {
        if seconds == 0 {
            return Decimal::ZERO;
        }
        let hours = (Decimal::from(seconds) / Decimal::from(3600u32)).round_dp_with_strategy(
            MAX_HOURS_SCALE,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        );
        hours.max(Decimal::new(1, MAX_HOURS_SCALE))
    }

    /// The values the mapping to a timesheet needs, borrowed from the entry (no allocation).
    pub fn timesheet_values(&self) -> TimesheetValues<'_> {
        TimesheetValues {
            key: self.key.as_str(),
            date: self.date,
            employee: self.employee.as_str(),
            project: self.project.as_str(),
            task: self.task.as_ref().map(TaskKey::as_str),
            billing_line: self.billing_line.as_ref().map(BillingLineId::as_str),
            role: self.role.as_str(),
            name: &self.description,
            unit_amount: self.hours,
            billable: self.billable,
            approved: self.approval.is_approved(),
        }
    }

    /// Validates the entry, then gives its timesheet values: the pre-mapping step of a sync.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use odoo_connect_canonical::TimeEntry;
    /// use rust_decimal::Decimal;
    ///
    /// let entry = TimeEntry::new(
    ///     "te-1".parse()?, "jane".parse()?, "prj-1".parse()?, "consultant".parse()?,
    ///     NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), Decimal::new(75, 1), "Workshop",
    /// );
    /// let values = entry.to_timesheet()?;
    /// assert_eq!(values.unit_amount, Decimal::new(75, 1));
    /// assert_eq!(values.name, "Workshop");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_timesheet(&self) -> Result<TimesheetValues<'_>, ValidationErrors> {
        self.validate()?;
        Ok(self.timesheet_values())
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.date("date", self.date);
        if self.hours <= Decimal::ZERO || self.hours > MAX_HOURS {
            c.report_at(
                "hours",
                ProblemCode::OutOfRange,
                format!("{} hours is outside (0, 24]", self.hours),
            );
        }
        if self.hours.scale() > MAX_HOURS_SCALE && self.hours.normalize().scale() > MAX_HOURS_SCALE
        {
            c.report_at("hours", ProblemCode::Format, "at most 4 decimals");
        }
        c.text("description", &self.description, 1024);
        if let Some(seconds) = self.duration_seconds
            && TimeEntry::hours_of_seconds(seconds) != self.hours
        {
            c.report_at(
                "hours",
                ProblemCode::Inconsistent,
                format!(
                    "{} hours is not the duration of {seconds} s ({} h)",
                    self.hours,
                    TimeEntry::hours_of_seconds(seconds)
                ),
            );
        }
        let rate_currency = [
            &self.billable_rate,
            &self.billable_amount,
            &self.cost_rate,
            &self.cost_amount,
        ]
        .into_iter()
        .flatten()
        .map(|m| m.currency)
        .next();
        if let Some(currency) = rate_currency {
            // Amounts are in minor units; rates may carry more decimals (a rate card's 123.456).
            for (name, m) in [
                ("billable_amount", &self.billable_amount),
                ("cost_amount", &self.cost_amount),
            ] {
                if let Some(m) = m {
                    c.non_negative_money(name, m, currency);
                }
            }
            for (name, m) in [
                ("billable_rate", &self.billable_rate),
                ("cost_rate", &self.cost_rate),
            ] {
                match m {
                    Some(m) if m.currency != currency => c.report_at(
                        name,
                        ProblemCode::CurrencyMismatch,
                        format!("is in {}, expected {currency}", m.currency),
                    ),
                    Some(m) if m.is_negative() => {
                        c.report_at(name, ProblemCode::Negative, "must not be below zero")
                    }
                    _ => {}
                }
            }
        }
        if let Some(url) = &self.external_url {
            c.text("external_url", url, 2048);
        }
    }
}

impl_validate!(TimeEntry);

/// The fields of a [`TimeEntry`] that a timesheet line needs, borrowed: the compact, JSON-ready form
/// that the mapping to a target system starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimesheetValues<'a> {
    /// The entry's canonical key (for the external id).
    pub key: &'a str,
    /// The day worked.
    pub date: NaiveDate,
    /// Employee key.
    pub employee: &'a str,
    /// Project key.
    pub project: &'a str,
    /// Task key.
    pub task: Option<&'a str>,
    /// Billing line id.
    pub billing_line: Option<&'a str>,
    /// Role.
    pub role: &'a str,
    /// Description.
    pub name: &'a str,
    /// Hours.
    pub unit_amount: Decimal,
    /// Billable.
    pub billable: bool,
    /// Approved.
    pub approved: bool,
}
