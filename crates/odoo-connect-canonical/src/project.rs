//! Projects: where the work of a contract is delivered.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::{
    BillingLineId, ClientKey, ContractKey, EmployeeKey, ExternalRefs, MilestoneKey, ProjectKey,
};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// Where a project is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProjectStatus {
    /// Work can be recorded.
    Open,
    /// Paused.
    OnHold,
    /// Finished.
    Closed,
}

/// A project delivering (part of) a contract (maps to an Odoo project with its analytic account).
///
/// ```
/// use odoo_connect_canonical::{Project, Validate};
///
/// let mut project = Project::new("prj-1".parse()?, "ERP roll-out", "acme".parse()?);
/// project.contract = Some("c-1".parse()?);
/// assert!(project.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Project {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: ProjectKey,
    /// Ids in other systems (PSA project, Odoo project).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Name.
    pub name: String,
    /// The client it is delivered to.
    pub client: ClientKey,
    /// The contract it delivers, if billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractKey>,
    /// The contract's billing line its time is billed to by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_line: Option<BillingLineId>,
    /// The project manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<EmployeeKey>,
    /// Status.
    pub status: ProjectStatus,
    /// Planned start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Planned end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// The contract milestones this project delivers.
    #[serde(default)]
    pub milestones: Vec<MilestoneKey>,
    /// Hours budgeted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_hours: Option<Decimal>,
}

impl Project {
    /// An open project with no contract, dates or milestones yet.
    pub fn new(key: ProjectKey, name: impl Into<String>, client: ClientKey) -> Project {
        Project {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            name: name.into(),
            client,
            contract: None,
            billing_line: None,
            manager: None,
            status: ProjectStatus::Open,
            start_date: None,
            end_date: None,
            milestones: Vec::new(),
            budget_hours: None,
        }
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.text("name", &self.name, 256);
        if let Some(s) = self.start_date {
            c.date("start_date", s);
        }
        if let Some(e) = self.end_date {
            c.date("end_date", e);
            if let Some(s) = self.start_date {
                c.date_order(s, "end_date", e, "the start");
            }
        }
        if self.billing_line.is_some() && self.contract.is_none() {
            c.report_at(
                "billing_line",
                ProblemCode::Inconsistent,
                "a billing line needs its contract",
            );
        }
        if let Some(h) = self.budget_hours
            && h <= Decimal::ZERO
        {
            c.report_at(
                "budget_hours",
                ProblemCode::NotPositive,
                "must be above zero",
            );
        }
        let mut seen = BTreeSet::new();
        c.each("milestones", &self.milestones, |c, m| {
            if !seen.insert(m) {
                c.report(
                    ProblemCode::Duplicate,
                    format!("milestone {m} appears twice"),
                );
            }
        });
    }
}

impl_validate!(Project);
