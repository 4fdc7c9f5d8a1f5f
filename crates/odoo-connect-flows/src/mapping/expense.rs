//! [`Expense`] → `hr.expense`.
//!
//! An expense is one unit of its category's expense product at its amount, taxes included
//! (`total_amount_currency` from Odoo 17, `total_amount` in 16), paid by the employee and booked
//! on the analytic account of its project. A billable expense names the sale order it is
//! re-invoiced on (`sale_order_id`, from the `sale_expense` module); how it is re-invoiced (at
//! cost or at the sales price) is the product's `expense_policy`.

use odoo_connect_canonical::{ApprovalState, BillingKind, Expense};
use odoo_connect_client::Values;

use super::{
    Mapped, MappingContext, MappingError, UnsupportedField, analytic_distribution, fields,
};

/// The `hr.expense` values of an expense.
///
/// Needs the employee, the currency and an expense product (the category's in
/// [`MappingContext::expense_products`], else the pass-through product). The project's analytic
/// account, and the order of a billable expense (found through the sale order lines of its
/// billing line), are written when the context has them and reported otherwise. An expense is
/// created as a draft: its approval is Odoo's workflow, reported when not a draft. Before Odoo 16
/// (no analytic distributions) the mapping refuses with [`MappingError::Unsupported`].
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{BillingKind, Currency, Expense, Money};
/// use odoo_connect_flows::mapping::{MappingContext, expense};
/// use odoo_connect_client::ServerVersion;
/// use rust_decimal::Decimal;
///
/// let mut e = Expense::new("ex-1".parse()?, "jane".parse()?, "prj-1".parse()?,
///     NaiveDate::from_ymd_opt(2025, 3, 4).unwrap(), "travel", "Train to Lyon",
///     Money::new(Decimal::new(8940, 2), Currency::EUR));
/// e.billable = false;
/// let mut ctx = MappingContext::new(ServerVersion::new(17, 0));
/// ctx.employees.insert("jane".parse()?, 7);
/// ctx.currencies.insert(Currency::EUR, 125);
/// ctx.expense_products.insert("travel".into(), 12.into());
/// ctx.analytic_accounts.insert("prj-1".parse()?, 24);
/// let mapped = expense::to_odoo(&e, &ctx)?;
/// assert!(mapped.is_complete());
/// assert_eq!(mapped.values.get("total_amount_currency"), Some(&89.4.into()));
/// assert_eq!(mapped.values.get("analytic_distribution"), Some(&serde_json::json!({"24": 100})));
/// let v15 = expense::to_odoo(&e, &ctx.for_version(ServerVersion::new(15, 0)));
/// assert_eq!(v15.unwrap_err().path(), "project");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(expense: &Expense, ctx: &MappingContext) -> Result<Mapped, MappingError> {
    let mut unsupported = Vec::new();
    let version = &ctx.version;
    if version.major < 16 {
        return Err(MappingError::Unsupported {
            path: "project".into(),
            version: version.to_string(),
            reason: "an expense is booked on its project through an analytic distribution, which \
                     Odoo has from 16"
                .into(),
        });
    }
    let employee = ctx.employees.id(&expense.employee).ok_or_else(|| {
        MappingError::missing_id("employee", format!("hr.employee {}", expense.employee))
    })?;
    let currency = ctx.currencies.id(&expense.amount.currency).ok_or_else(|| {
        MappingError::missing_id(
            "amount.currency",
            format!("res.currency {}", expense.amount.currency),
        )
    })?;
    let product = match ctx.expense_products.get(&expense.category) {
        Some(p) => *p,
        None => {
            let p = ctx
                .products
                .get(&BillingKind::PassThroughExpenses)
                .copied()
                .ok_or_else(|| {
                    MappingError::missing_id(
                        "category",
                        format!("an expense product for `{}`", expense.category),
                    )
                })?;
            unsupported.push(UnsupportedField::new(
                "category",
                format!(
                    "no expense product for `{}`: booked on the pass-through product",
                    expense.category
                ),
            ));
            p
        }
    };
    let mut values = Values::new()
        .set("name", expense.description.as_str())
        .many2one("employee_id", Some(employee))
        .many2one("product_id", Some(product))
        .date("date", expense.date)
        .decimal("quantity", rust_decimal::Decimal::ONE)
        .decimal(fields::expense_total(version), expense.amount.amount)
        .many2one("currency_id", Some(currency))
        .set("payment_mode", "own_account");
    match ctx.analytic_accounts.id(&expense.project) {
        Some(account) => {
            let mut accounts = vec![account];
            accounts.extend(ctx.extra_analytic_accounts.iter().copied());
            let (distribution, dropped) = analytic_distribution(&accounts, version);
            if let Some(d) = distribution {
                values = values.set("analytic_distribution", d);
            }
            if !dropped.is_empty() {
                let ids: Vec<String> = dropped.iter().map(ToString::to_string).collect();
                unsupported.push(UnsupportedField::new(
                    "project",
                    format!(
                        "an Odoo {} distribution key holds one account: other plans' accounts \
                         ({}) are not held",
                        version.major,
                        ids.join(", ")
                    ),
                ));
            }
        }
        None => unsupported.push(UnsupportedField::new(
            "project",
            format!(
                "no analytic account resolved for project {}: the expense is not booked on it",
                expense.project
            ),
        )),
    }
    if expense.billable {
        let order = expense
            .billing_line
            .as_ref()
            .and_then(|line| {
                ctx.sale_lines
                    .iter()
                    .find(|(_, r)| &r.line == line)
                    .map(|(_, r)| r.contract.clone())
            })
            .and_then(|contract| ctx.orders.id(&contract));
        match order {
            Some(o) => values = values.many2one("sale_order_id", Some(o)),
            None => unsupported.push(UnsupportedField::new(
                "billable",
                "no sale order resolved for the expense's billing line: it is not re-invoiced",
            )),
        }
    }
    if expense.approval != ApprovalState::Draft {
        unsupported.push(UnsupportedField::new(
            "approval",
            "an expense is created as a draft; its approval is Odoo's workflow",
        ));
    }
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}
