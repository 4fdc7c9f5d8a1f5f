//! Expenses incurred for a client.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::{BillingLineId, EmployeeKey, ExpenseKey, ExternalRefs, ProjectKey};
use super::money::Money;
use super::schema::SchemaVersion;
use super::time::ApprovalState;
use super::validate::{Checker, impl_validate};

/// An expense incurred on a project (travel, software, subcontracting), re-invoiced through a
/// pass-through expenses line when billable.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Expense, Money, Validate};
/// use rust_decimal::Decimal;
///
/// let expense = Expense::new(
///     "ex-1".parse()?, "jane".parse()?, "prj-1".parse()?,
///     NaiveDate::from_ymd_opt(2025, 3, 4).unwrap(), "travel", "Train to Lyon",
///     Money::new(Decimal::new(8940, 2), Currency::EUR),
/// );
/// assert!(expense.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Expense {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: ExpenseKey,
    /// Ids in other systems.
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Who incurred it.
    pub employee: EmployeeKey,
    /// For which project.
    pub project: ProjectKey,
    /// The pass-through line it bills to, when not the project's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_line: Option<BillingLineId>,
    /// The day incurred.
    pub date: NaiveDate,
    /// Category (`travel`, `lodging`, `software`, ...).
    pub category: String,
    /// What it was.
    pub description: String,
    /// Amount paid, taxes included.
    pub amount: Money,
    /// Whether the client is billed for it.
    pub billable: bool,
    /// Approval.
    pub approval: ApprovalState,
}

impl Expense {
    /// A billable draft expense.
    pub fn new(
        key: ExpenseKey,
        employee: EmployeeKey,
        project: ProjectKey,
        date: NaiveDate,
        category: impl Into<String>,
        description: impl Into<String>,
        amount: Money,
    ) -> Expense {
        Expense {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            employee,
            project,
            billing_line: None,
            date,
            category: category.into(),
            description: description.into(),
            amount,
            billable: true,
            approval: ApprovalState::Draft,
        }
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.date("date", self.date);
        c.text("category", &self.category, 64);
        c.text("description", &self.description, 1024);
        c.positive_money("amount", &self.amount, self.amount.currency);
    }
}

impl_validate!(Expense);
