//! `sale.order` and `sale.order.line`: quotations and sales orders.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, date, datetime, decimal, opt};

crate::odoo_selection! {
    /// `sale.order.state` (also on each line).
    ///
    /// Odoo 17 removed `done`: a locked order stays `sale` with
    /// [`SaleOrder::locked`] set.
    pub enum SaleOrderState {
        /// Quotation (`draft`).
        Draft = "draft",
        /// Quotation sent (`sent`).
        Sent = "sent",
        /// Sales order (`sale`).
        Sale = "sale",
        /// Locked sales order (`done`, up to Odoo 16).
        Done = "done",
        /// Cancelled (`cancel`).
        Cancel = "cancel",
    }
}

crate::odoo_selection! {
    /// `invoice_status` of an order or a line.
    pub enum InvoiceStatus {
        /// Upselling opportunity: more delivered than ordered (`upselling`).
        Upselling = "upselling",
        /// Fully invoiced (`invoiced`).
        Invoiced = "invoiced",
        /// Something to invoice (`to invoice`).
        ToInvoice = "to invoice",
        /// Nothing to invoice (`no`).
        No = "no",
    }
}

crate::odoo_selection! {
    /// `sale.order.line.qty_delivered_method`: where the delivered quantity comes from.
    pub enum QtyDeliveredMethod {
        /// Set by hand (`manual`).
        Manual = "manual",
        /// From analytic lines of expenses (`analytic`).
        Analytic = "analytic",
        /// From reached milestones (`milestones`).
        Milestones = "milestones",
        /// From timesheets (`timesheet`).
        Timesheet = "timesheet",
        /// From stock moves (`stock_move`, with the stock app).
        StockMove = "stock_move",
    }
}

crate::odoo_selection! {
    /// `sale.order.line.display_type`: a section or note line instead of a product line.
    pub enum SaleLineDisplayType {
        /// Section title (`line_section`).
        LineSection = "line_section",
        /// Subsection title (`line_subsection`, from Odoo 19).
        LineSubsection = "line_subsection",
        /// Note (`line_note`).
        LineNote = "line_note",
    }
}

/// A `sale.order` record: a quotation or a sales order.
///
/// ```
/// use odoo_connect_client::models::{SaleOrder, sale::{SaleOrderState, InvoiceStatus}};
/// let o: SaleOrder = serde_json::from_str(
///     r#"{"id": 29, "name": "S00029", "state": "sale", "amount_total": 4259.03,
///         "currency_id": [1, "USD"], "invoice_status": "to invoice", "project_ids": [14],
///         "date_order": "2026-11-23 00:41:01"}"#,
/// ).unwrap();
/// assert_eq!(o.state, Some(SaleOrderState::Sale));
/// assert_eq!(o.amount_total.to_string(), "4259.03");
/// assert_eq!(o.invoice_status, Some(InvoiceStatus::ToInvoice));
/// assert_eq!(o.project_ids[0].get(), 14);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "sale.order")]
#[non_exhaustive]
pub struct SaleOrder {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Order reference (`S00029`).
    #[serde(default)]
    pub name: String,
    /// Status.
    #[serde(default, with = "opt")]
    pub state: Option<SaleOrderState>,
    /// Whether the order is locked (`locked`, from Odoo 17; up to 16 a locked order is `done`).
    #[odoo(since = 17)]
    #[serde(default)]
    pub locked: bool,
    /// Customer (`res.partner`).
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Invoice address.
    #[serde(default, with = "opt")]
    pub partner_invoice_id: Option<Many2one>,
    /// Delivery address.
    #[serde(default, with = "opt")]
    pub partner_shipping_id: Option<Many2one>,
    /// Customer's reference (`client_order_ref`, e.g. their purchase order number).
    #[serde(default, with = "opt")]
    pub client_order_ref: Option<String>,
    /// Source document.
    #[serde(default, with = "opt")]
    pub origin: Option<String>,
    /// Order date (UTC): the quotation date, then the confirmation date.
    #[serde(default, with = "datetime::option")]
    pub date_order: Option<DateTime<Utc>>,
    /// Quotation expiry date (`validity_date`).
    #[serde(default, with = "date::option")]
    pub validity_date: Option<NaiveDate>,
    /// Promised delivery date (`commitment_date`, UTC).
    #[serde(default, with = "datetime::option")]
    pub commitment_date: Option<DateTime<Utc>>,
    /// Currency.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Pricelist.
    #[serde(default, with = "opt")]
    pub pricelist_id: Option<Many2one>,
    /// Payment terms.
    #[serde(default, with = "opt")]
    pub payment_term_id: Option<Many2one>,
    /// Untaxed amount.
    #[serde(default, with = "decimal")]
    pub amount_untaxed: Decimal,
    /// Taxes.
    #[serde(default, with = "decimal")]
    pub amount_tax: Decimal,
    /// Total.
    #[serde(default, with = "decimal")]
    pub amount_total: Decimal,
    /// Order lines (`sale.order.line`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub order_line: Vec<RecordId>,
    /// Invoice status.
    #[serde(default, with = "opt")]
    pub invoice_status: Option<InvoiceStatus>,
    /// Invoices and credit notes of the order (`account.move`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub invoice_ids: Vec<RecordId>,
    /// Projects linked to the order (`project_ids`, computed from its lines).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub project_ids: Vec<RecordId>,
    /// Project set on the order (`project_id`), in which its services create tasks.
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Salesperson (`res.users`).
    #[serde(default, with = "opt")]
    pub user_id: Option<Many2one>,
    /// Sales team (`crm.team`).
    #[serde(default, with = "opt")]
    pub team_id: Option<Many2one>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl SaleOrder {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        SaleOrder {
            id,
            display_name: None,
            name: String::new(),
            state: None,
            locked: false,
            partner_id: None,
            partner_invoice_id: None,
            partner_shipping_id: None,
            client_order_ref: None,
            origin: None,
            date_order: None,
            validity_date: None,
            commitment_date: None,
            currency_id: None,
            pricelist_id: None,
            payment_term_id: None,
            amount_untaxed: Decimal::ZERO,
            amount_tax: Decimal::ZERO,
            amount_total: Decimal::ZERO,
            order_line: Vec::new(),
            invoice_status: None,
            invoice_ids: Vec::new(),
            project_ids: Vec::new(),
            project_id: None,
            company_id: None,
            user_id: None,
            team_id: None,
            write_date: None,
        }
    }

    /// Whether the order is locked, whatever the version (`locked` from 17, `done` up to 16).
    pub fn is_locked(&self) -> bool {
        self.locked || self.state == Some(SaleOrderState::Done)
    }
}

/// A `sale.order.line` record.
///
/// The unit of measure and the taxes were renamed in Odoo 19 (`product_uom_id`, `tax_ids`; up to
/// 18 `product_uom`, `tax_id`): [`SaleOrderLine::fields`](Model::fields) asks for the name the
/// server knows and both decode into the same field.
///
/// ```
/// use odoo_connect_client::models::SaleOrderLine;
/// let v19: SaleOrderLine = serde_json::from_str(
///     r#"{"id": 8, "name": "Virtual Interior Design", "product_uom_id": [4, "Hours"],
///         "tax_ids": [3], "product_uom_qty": 16.0, "price_unit": 75.0}"#,
/// ).unwrap();
/// let v18: SaleOrderLine = serde_json::from_str(
///     r#"{"id": 8, "name": "Virtual Interior Design", "product_uom": [4, "Hours"],
///         "tax_id": [3], "product_uom_qty": 16.0, "price_unit": 75.0}"#,
/// ).unwrap();
/// assert_eq!(v19, v18);
/// assert_eq!(v18.product_uom_id.unwrap().name(), "Hours");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "sale.order.line")]
#[non_exhaustive]
pub struct SaleOrderLine {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// The order (`sale.order`).
    #[serde(default, with = "opt")]
    pub order_id: Option<Many2one>,
    /// Position in the order.
    #[serde(default)]
    pub sequence: i64,
    /// Section or note line (`display_type`); `None` for a product line.
    #[serde(default, with = "opt")]
    pub display_type: Option<SaleLineDisplayType>,
    /// Description.
    #[serde(default)]
    pub name: String,
    /// Product (`product.product`).
    #[serde(default, with = "opt")]
    pub product_id: Option<Many2one>,
    /// Ordered quantity.
    #[serde(default, with = "decimal")]
    pub product_uom_qty: Decimal,
    /// Unit of measure (`product_uom_id` from Odoo 19, `product_uom` up to 18).
    #[odoo(since = 19, formerly = "product_uom")]
    #[serde(default, alias = "product_uom", with = "opt")]
    pub product_uom_id: Option<Many2one>,
    /// Delivered quantity.
    #[serde(default, with = "decimal")]
    pub qty_delivered: Decimal,
    /// Where the delivered quantity comes from.
    #[serde(default, with = "opt")]
    pub qty_delivered_method: Option<QtyDeliveredMethod>,
    /// Invoiced quantity.
    #[serde(default, with = "decimal")]
    pub qty_invoiced: Decimal,
    /// Quantity to invoice.
    #[serde(default, with = "decimal")]
    pub qty_to_invoice: Decimal,
    /// Unit price.
    #[serde(default, with = "decimal")]
    pub price_unit: Decimal,
    /// Discount (%).
    #[serde(default, with = "decimal")]
    pub discount: Decimal,
    /// Subtotal without taxes.
    #[serde(default, with = "decimal")]
    pub price_subtotal: Decimal,
    /// Taxes.
    #[serde(default, with = "decimal")]
    pub price_tax: Decimal,
    /// Total with taxes.
    #[serde(default, with = "decimal")]
    pub price_total: Decimal,
    /// Taxes (`tax_ids` from Odoo 19, `tax_id` up to 18; `account.tax`).
    #[odoo(since = 19, formerly = "tax_id")]
    #[serde(
        default,
        alias = "tax_id",
        deserialize_with = "super::x2many::deserialize"
    )]
    pub tax_ids: Vec<RecordId>,
    /// Currency.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Invoice status.
    #[serde(default, with = "opt")]
    pub invoice_status: Option<InvoiceStatus>,
    /// Untaxed amount invoiced.
    #[serde(default, with = "decimal")]
    pub untaxed_amount_invoiced: Decimal,
    /// Untaxed amount still to invoice.
    #[serde(default, with = "decimal")]
    pub untaxed_amount_to_invoice: Decimal,
    /// Status of the order.
    #[serde(default, with = "opt")]
    pub state: Option<SaleOrderState>,
    /// Whether the product is a service.
    #[serde(default)]
    pub is_service: bool,
    /// Whether this is a down payment line.
    #[serde(default)]
    pub is_downpayment: bool,
    /// Project the line created or is linked to.
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Task the line created or is linked to.
    #[serde(default, with = "opt")]
    pub task_id: Option<Many2one>,
    /// Milestones reached for this line (`reached_milestones_ids`, read from Odoo 18).
    #[odoo(since = 18)]
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub reached_milestones_ids: Vec<RecordId>,
    /// Analytic distribution: analytic account ids (comma-joined from 17) to percentages.
    #[serde(default, with = "opt")]
    pub analytic_distribution: Option<serde_json::Value>,
    /// Customer of the order.
    #[serde(default, with = "opt")]
    pub order_partner_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl SaleOrderLine {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        SaleOrderLine {
            id,
            display_name: None,
            order_id: None,
            sequence: 0,
            display_type: None,
            name: String::new(),
            product_id: None,
            product_uom_qty: Decimal::ZERO,
            product_uom_id: None,
            qty_delivered: Decimal::ZERO,
            qty_delivered_method: None,
            qty_invoiced: Decimal::ZERO,
            qty_to_invoice: Decimal::ZERO,
            price_unit: Decimal::ZERO,
            discount: Decimal::ZERO,
            price_subtotal: Decimal::ZERO,
            price_tax: Decimal::ZERO,
            price_total: Decimal::ZERO,
            tax_ids: Vec::new(),
            currency_id: None,
            invoice_status: None,
            untaxed_amount_invoiced: Decimal::ZERO,
            untaxed_amount_to_invoice: Decimal::ZERO,
            state: None,
            is_service: false,
            is_downpayment: false,
            project_id: None,
            task_id: None,
            reached_milestones_ids: Vec::new(),
            analytic_distribution: None,
            order_partner_id: None,
            company_id: None,
            write_date: None,
        }
    }
}
