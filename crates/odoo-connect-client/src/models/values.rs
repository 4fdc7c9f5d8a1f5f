//! Typed writes of the shipped models: what a `create` or `write` sets (see
//! [`write`](crate::write)).
//!
//! Each type implements [`ModelValues`] for the record type it writes. A
//! field left `None` is not written; a field of type `Option<Option<T>>` can also be emptied with
//! `Some(None)`. Field names follow the server's version, as the record types do for reads. The
//! types are `#[non_exhaustive]`: start from `new()` (nothing written) and set the fields.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::ModelValues;
use crate::value::{Command, RecordId};
use crate::write::Create;

use super::account::{
    AccountMove, AccountMoveLine, MoveType, Payment, PaymentPartnerType, PaymentType,
};
use super::company::Company;
use super::partner::{Partner, PartnerAddressType};
use super::product::{
    InvoicePolicy, Product, ProductType, ServicePolicy, ServiceTracking, ServiceType,
};
use super::project::{Milestone, Project, ProjectStatus};
use super::sale::{SaleLineDisplayType, SaleOrder, SaleOrderLine};
use super::timesheet::Timesheet;

macro_rules! new_values {
    ($($t:ident),*) => {$(
        impl $t {
            /// Values that write nothing yet.
            pub fn new() -> Self {
                Self::default()
            }
        }
    )*};
}

new_values!(
    PartnerValues,
    CompanyValues,
    SaleOrderValues,
    SaleOrderLineValues,
    ProductValues,
    ProjectValues,
    MilestoneValues,
    TimesheetValues,
    PaymentValues,
    InvoiceValues,
    InvoiceLineValues
);

/// `res.partner`: a customer or a contact.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Partner)]
#[non_exhaustive]
pub struct PartnerValues {
    /// `name`.
    pub name: Option<String>,
    /// `is_company`.
    pub is_company: Option<bool>,
    /// `customer_rank` (1 or more: a customer).
    pub customer_rank: Option<i32>,
    /// `company_id` (`None` inside: shared by every company).
    pub company_id: Option<Option<RecordId>>,
    /// `ref`, the partner's reference.
    #[odoo(name = "ref")]
    pub reference: Option<Option<String>>,
    /// `vat`, the tax id.
    pub vat: Option<Option<String>>,
    /// `email`.
    pub email: Option<Option<String>>,
    /// `phone`.
    pub phone: Option<Option<String>>,
    /// `street`.
    pub street: Option<Option<String>>,
    /// `street2`.
    pub street2: Option<Option<String>>,
    /// `city`.
    pub city: Option<Option<String>>,
    /// `zip`.
    pub zip: Option<Option<String>>,
    /// `state_id`.
    pub state_id: Option<Option<RecordId>>,
    /// `country_id`.
    pub country_id: Option<Option<RecordId>>,
    /// `parent_id`, the company a contact works for.
    pub parent_id: Option<Option<RecordId>>,
    /// `type`, what kind of address a contact is (invoice, delivery...).
    #[odoo(name = "type")]
    pub address_type: Option<PartnerAddressType>,
    /// `credit_limit` (with `account`).
    pub credit_limit: Option<Decimal>,
    /// `property_payment_term_id`.
    pub property_payment_term_id: Option<Option<RecordId>>,
    /// `property_product_pricelist`.
    pub property_product_pricelist: Option<Option<RecordId>>,
}

/// `res.company`: a legal entity.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Company)]
#[non_exhaustive]
pub struct CompanyValues {
    /// `name`.
    pub name: Option<String>,
    /// `currency_id`.
    pub currency_id: Option<RecordId>,
    /// `country_id`.
    pub country_id: Option<Option<RecordId>>,
    /// `vat`.
    pub vat: Option<Option<String>>,
    /// `street`.
    pub street: Option<Option<String>>,
    /// `street2`.
    pub street2: Option<Option<String>>,
    /// `city`.
    pub city: Option<Option<String>>,
    /// `zip`.
    pub zip: Option<Option<String>>,
    /// `state_id`.
    pub state_id: Option<Option<RecordId>>,
}

/// `sale.order`: a quotation or sales order, with the lines created with it.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = SaleOrder)]
#[non_exhaustive]
pub struct SaleOrderValues {
    /// `partner_id`, the customer.
    pub partner_id: Option<RecordId>,
    /// `company_id`.
    pub company_id: Option<RecordId>,
    /// `pricelist_id` (it gives the order its currency).
    pub pricelist_id: Option<RecordId>,
    /// `origin`, the source document.
    pub origin: Option<String>,
    /// `client_order_ref`, the customer's reference.
    pub client_order_ref: Option<String>,
    /// `date_order`.
    pub date_order: Option<DateTime<Utc>>,
    /// `order_line`: lines created with the order.
    pub order_line: Create<SaleOrderLineValues>,
}

/// `sale.order.line`: a product, section or note line of an order.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = SaleOrderLine)]
#[non_exhaustive]
pub struct SaleOrderLineValues {
    /// `order_id` (set by Odoo for lines created with their order).
    pub order_id: Option<RecordId>,
    /// `sequence`.
    pub sequence: Option<i32>,
    /// `display_type`: a section or note instead of a product.
    pub display_type: Option<SaleLineDisplayType>,
    /// `name`, the description.
    pub name: Option<String>,
    /// `product_id`.
    pub product_id: Option<RecordId>,
    /// `product_uom_qty`, the quantity ordered.
    pub product_uom_qty: Option<Decimal>,
    /// `price_unit`.
    pub price_unit: Option<Decimal>,
    /// `product_uom_id` (`product_uom` up to Odoo 18).
    #[odoo(since = 19, formerly = "product_uom")]
    pub product_uom_id: Option<RecordId>,
    /// `tax_ids` (`tax_id` up to Odoo 18).
    #[odoo(since = 19, formerly = "tax_id")]
    pub tax_ids: Vec<Command>,
}

/// `product.product`: a product, here a service the firm sells.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Product)]
#[non_exhaustive]
pub struct ProductValues {
    /// `name`.
    pub name: Option<String>,
    /// `default_code`, the internal reference.
    pub default_code: Option<Option<String>>,
    /// `type` (`detailed_type` up to Odoo 17).
    #[odoo(name = "type", since = 18, formerly = "detailed_type")]
    pub product_type: Option<ProductType>,
    /// `sale_ok`.
    pub sale_ok: Option<bool>,
    /// `service_policy` (`sale_project`).
    pub service_policy: Option<ServicePolicy>,
    /// `invoice_policy`.
    pub invoice_policy: Option<InvoicePolicy>,
    /// `service_type` (`sale_timesheet`: by timesheets or by hand).
    pub service_type: Option<ServiceType>,
    /// `service_tracking` (`sale_project`: what confirming an order makes).
    pub service_tracking: Option<ServiceTracking>,
    /// `expense_policy` (`no`, `cost` or `sales_price`).
    pub expense_policy: Option<String>,
    /// `uom_id`.
    pub uom_id: Option<RecordId>,
    /// `uom_po_id`, the purchase unit (up to Odoo 18).
    #[odoo(until = 18)]
    pub uom_po_id: Option<RecordId>,
}

/// `project.project`.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Project)]
#[non_exhaustive]
pub struct ProjectValues {
    /// `name`.
    pub name: Option<String>,
    /// `partner_id`, the customer.
    pub partner_id: Option<Option<RecordId>>,
    /// `allow_timesheets`.
    pub allow_timesheets: Option<bool>,
    /// `allow_billable`.
    pub allow_billable: Option<bool>,
    /// `allow_milestones`.
    pub allow_milestones: Option<bool>,
    /// `account_id`, the analytic account (`analytic_account_id` up to Odoo 17).
    #[odoo(since = 18, formerly = "analytic_account_id")]
    pub account_id: Option<RecordId>,
    /// `sale_line_id`, the order line the project bills.
    pub sale_line_id: Option<Option<RecordId>>,
    /// `sale_order_id`.
    pub sale_order_id: Option<RecordId>,
    /// `company_id` (a project of no company is shared; Odoo refuses one whose customer belongs
    /// to a company).
    pub company_id: Option<Option<RecordId>>,
    /// `user_id`, the project manager.
    pub user_id: Option<Option<RecordId>>,
    /// `date_start`.
    pub date_start: Option<Option<NaiveDate>>,
    /// `date`, the end date.
    pub date: Option<Option<NaiveDate>>,
    /// `allocated_hours`.
    pub allocated_hours: Option<Decimal>,
    /// `last_update_status`.
    pub last_update_status: Option<ProjectStatus>,
    /// `active` (archived when `false`).
    pub active: Option<bool>,
}

/// `project.milestone`.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Milestone)]
#[non_exhaustive]
pub struct MilestoneValues {
    /// `name`.
    pub name: Option<String>,
    /// `project_id`.
    pub project_id: Option<RecordId>,
    /// `is_reached`.
    pub is_reached: Option<bool>,
    /// `deadline`.
    pub deadline: Option<Option<NaiveDate>>,
    /// `sale_line_id`, the order line the milestone delivers.
    pub sale_line_id: Option<Option<RecordId>>,
    /// `product_uom_qty`, the quantity of the line delivered (from Odoo 18).
    #[odoo(since = 18)]
    pub product_uom_qty: Option<Decimal>,
    /// `quantity_percentage`, the share of the line delivered (written up to Odoo 17).
    #[odoo(until = 17)]
    pub quantity_percentage: Option<Decimal>,
}

/// `account.analytic.line` as a timesheet line.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Timesheet)]
#[non_exhaustive]
pub struct TimesheetValues {
    /// `name`, the description.
    pub name: Option<String>,
    /// `date`.
    pub date: Option<NaiveDate>,
    /// `employee_id`.
    pub employee_id: Option<RecordId>,
    /// `project_id`.
    pub project_id: Option<RecordId>,
    /// `task_id`.
    pub task_id: Option<Option<RecordId>>,
    /// `unit_amount`, the hours.
    pub unit_amount: Option<Decimal>,
    /// `so_line`, the order line billed (`Some(None)`: billed on none).
    pub so_line: Option<Option<RecordId>>,
}

/// `account.payment`.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = Payment)]
#[non_exhaustive]
pub struct PaymentValues {
    /// `payment_type`.
    pub payment_type: Option<PaymentType>,
    /// `partner_type`.
    pub partner_type: Option<PaymentPartnerType>,
    /// `partner_id`.
    pub partner_id: Option<RecordId>,
    /// `company_id`.
    pub company_id: Option<RecordId>,
    /// `amount`.
    pub amount: Option<Decimal>,
    /// `currency_id`.
    pub currency_id: Option<RecordId>,
    /// `date`.
    pub date: Option<NaiveDate>,
    /// `memo` (`ref` up to Odoo 17).
    #[odoo(since = 18, formerly = "ref")]
    pub memo: Option<String>,
    /// `journal_id`.
    pub journal_id: Option<RecordId>,
    /// `payment_method_line_id`.
    pub payment_method_line_id: Option<RecordId>,
}

/// `account.move` as a customer invoice, created with its lines (as Odoo's own
/// `sale.order._create_invoices` creates it: the order's `_prepare_invoice` values and one
/// line per order line invoiced).
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = AccountMove)]
#[non_exhaustive]
pub struct InvoiceValues {
    /// `move_type` (`out_invoice` for a customer invoice).
    pub move_type: Option<MoveType>,
    /// `partner_id`, the customer invoiced (the order's invoice address).
    pub partner_id: Option<RecordId>,
    /// `company_id`.
    pub company_id: Option<RecordId>,
    /// `currency_id`.
    pub currency_id: Option<RecordId>,
    /// `invoice_origin`, the sale order's number.
    pub invoice_origin: Option<String>,
    /// `ref`, the customer's reference.
    #[odoo(name = "ref")]
    pub reference: Option<Option<String>>,
    /// `fiscal_position_id`.
    pub fiscal_position_id: Option<Option<RecordId>>,
    /// `invoice_payment_term_id`.
    pub invoice_payment_term_id: Option<Option<RecordId>>,
    /// `invoice_user_id`, the salesperson.
    pub invoice_user_id: Option<Option<RecordId>>,
    /// `team_id`, the sales team.
    pub team_id: Option<Option<RecordId>>,
    /// `invoice_line_ids`, the lines, created with the invoice.
    pub invoice_line_ids: Create<InvoiceLineValues>,
}

/// `account.move.line` as a product line of a customer invoice.
#[derive(Debug, Clone, Default, PartialEq, ModelValues)]
#[odoo(record = AccountMoveLine)]
#[non_exhaustive]
pub struct InvoiceLineValues {
    /// `sequence`.
    pub sequence: Option<i32>,
    /// `name`, the label.
    pub name: Option<String>,
    /// `product_id`.
    pub product_id: Option<Option<RecordId>>,
    /// `product_uom_id`.
    pub product_uom_id: Option<Option<RecordId>>,
    /// `quantity`.
    pub quantity: Option<Decimal>,
    /// `price_unit`.
    pub price_unit: Option<Decimal>,
    /// `discount`, in percent.
    pub discount: Option<Decimal>,
    /// `tax_ids`, as commands (`Command::Set`).
    pub tax_ids: Vec<Command>,
    /// `sale_line_ids`, the order lines this line invoices (`Command::Set` or `Command::Link`):
    /// what makes Odoo count it in the order line's `qty_invoiced`.
    pub sale_line_ids: Vec<Command>,
}
