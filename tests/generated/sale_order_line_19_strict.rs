// The Odoo model `sale.order.line` as a Rust type, written by odoo-connect's codegen from the
// server's field descriptions. Regenerate it rather than edit it.

odoo_connect_client::odoo_selection! {
    /// `sale.order.line.display_type`: Display Type.
    pub enum SaleOrderLineDisplayType {
        /// Section (`line_section`).
        LineSection = "line_section",
        /// Subsection (`line_subsection`).
        LineSubsection = "line_subsection",
        /// Note (`line_note`).
        LineNote = "line_note",
    }
}

odoo_connect_client::odoo_selection! {
    /// `sale.order.line.invoice_status`: Invoice Status.
    pub enum SaleOrderLineInvoiceStatus {
        /// Upselling Opportunity (`upselling`).
        Upselling = "upselling",
        /// Fully Invoiced (`invoiced`).
        Invoiced = "invoiced",
        /// To Invoice (`to invoice`).
        ToInvoice = "to invoice",
        /// Nothing to Invoice (`no`).
        No = "no",
    }
}

odoo_connect_client::odoo_selection! {
    /// `sale.order.line.qty_delivered_method`: Method to update delivered qty.
    pub enum SaleOrderLineQtyDeliveredMethod {
        /// Manual (`manual`).
        Manual = "manual",
        /// Analytic From Expenses (`analytic`).
        Analytic = "analytic",
        /// Milestones (`milestones`).
        Milestones = "milestones",
        /// Timesheets (`timesheet`).
        Timesheet = "timesheet",
    }
}

odoo_connect_client::odoo_selection! {
    /// `sale.order.line.state`: Order Status.
    pub enum SaleOrderLineState {
        /// Quotation (`draft`).
        Draft = "draft",
        /// Quotation Sent (`sent`).
        Sent = "sent",
        /// Sales Order (`sale`).
        Sale = "sale",
        /// Cancelled (`cancel`).
        Cancel = "cancel",
    }
}

/// A `sale.order.line` record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, odoo_connect_client::Model)]
#[odoo(model = "sale.order.line")]
pub struct SaleOrderLine {
    /// Record id (`id`).
    pub id: odoo_connect_client::RecordId,
    /// Analytic Distribution.
    ///
    /// `analytic_distribution`: json.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub analytic_distribution: Option<serde_json::Value>,
    /// Analytic lines.
    ///
    /// `analytic_line_ids`: one2many of `account.analytic.line`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub analytic_line_ids: Vec<odoo_connect_client::RecordId>,
    /// Collapse Composition.
    ///
    /// `collapse_composition`: boolean.
    #[serde(default)]
    pub collapse_composition: bool,
    /// Collapse Prices.
    ///
    /// `collapse_prices`: boolean.
    #[serde(default)]
    pub collapse_prices: bool,
    /// Combo Item.
    ///
    /// `combo_item_id`: many2one of `product.combo.item`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub combo_item_id: Option<odoo_connect_client::Many2one>,
    /// Company.
    ///
    /// `company_id`: many2one of `res.company`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub company_id: Option<odoo_connect_client::Many2one>,
    /// Created on.
    ///
    /// `create_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect_client::value::datetime::option")]
    pub create_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Created by.
    ///
    /// `create_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub create_uid: Option<odoo_connect_client::Many2one>,
    /// Currency.
    ///
    /// `currency_id`: many2one of `res.currency`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub currency_id: Option<odoo_connect_client::Many2one>,
    /// Lead Time.
    ///
    /// `customer_lead`: float, required.
    pub customer_lead: f64,
    /// Discount (%).
    ///
    /// `discount`: float.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub discount: Option<f64>,
    /// Display Type.
    ///
    /// `display_type`: selection.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub display_type: Option<SaleOrderLineDisplayType>,
    /// Extra Tax Data.
    ///
    /// `extra_tax_data`: json.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub extra_tax_data: Option<serde_json::Value>,
    /// Has Displayed Warning Upsell.
    ///
    /// `has_displayed_warning_upsell`: boolean.
    #[serde(default)]
    pub has_displayed_warning_upsell: bool,
    /// Invoice Lines.
    ///
    /// `invoice_lines`: many2many of `account.move.line`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub invoice_lines: Vec<odoo_connect_client::RecordId>,
    /// Invoice Status.
    ///
    /// `invoice_status`: selection, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub invoice_status: Option<SaleOrderLineInvoiceStatus>,
    /// Is a down payment.
    ///
    /// `is_downpayment`: boolean.
    #[serde(default)]
    pub is_downpayment: bool,
    /// Is expense.
    ///
    /// `is_expense`: boolean.
    #[serde(default)]
    pub is_expense: bool,
    /// Optional Line.
    ///
    /// `is_optional`: boolean.
    #[serde(default)]
    pub is_optional: bool,
    /// Is a Service.
    ///
    /// `is_service`: boolean, read-only.
    #[serde(default)]
    pub is_service: bool,
    /// Linked Order Line.
    ///
    /// `linked_line_id`: many2one of `sale.order.line`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub linked_line_id: Option<odoo_connect_client::Many2one>,
    /// Linked Order Lines.
    ///
    /// `linked_line_ids`: one2many of `sale.order.line`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub linked_line_ids: Vec<odoo_connect_client::RecordId>,
    /// Linked Virtual.
    ///
    /// `linked_virtual_id`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub linked_virtual_id: Option<String>,
    /// Description.
    ///
    /// `name`: text, required.
    pub name: String,
    /// Order Reference.
    ///
    /// `order_id`: many2one of `sale.order`, required.
    pub order_id: odoo_connect_client::Many2one,
    /// Customer.
    ///
    /// `order_partner_id`: many2one of `res.partner`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub order_partner_id: Option<odoo_connect_client::Many2one>,
    /// Price Reduce Tax excl.
    ///
    /// `price_reduce_taxexcl`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub price_reduce_taxexcl: Option<rust_decimal::Decimal>,
    /// Price Reduce Tax incl.
    ///
    /// `price_reduce_taxinc`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub price_reduce_taxinc: Option<rust_decimal::Decimal>,
    /// Subtotal.
    ///
    /// `price_subtotal`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub price_subtotal: Option<rust_decimal::Decimal>,
    /// Total Tax.
    ///
    /// `price_tax`: float, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub price_tax: Option<f64>,
    /// Total.
    ///
    /// `price_total`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub price_total: Option<rust_decimal::Decimal>,
    /// Unit Price.
    ///
    /// `price_unit`: float, required.
    pub price_unit: f64,
    /// Custom Values.
    ///
    /// `product_custom_attribute_value_ids`: one2many of `product.attribute.custom.value`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub product_custom_attribute_value_ids: Vec<odoo_connect_client::RecordId>,
    /// Product Documents.
    ///
    /// `product_document_ids`: many2many of `product.document`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub product_document_ids: Vec<odoo_connect_client::RecordId>,
    /// Product.
    ///
    /// `product_id`: many2one of `product.product`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub product_id: Option<odoo_connect_client::Many2one>,
    /// Extra Values.
    ///
    /// `product_no_variant_attribute_value_ids`: many2many of `product.template.attribute.value`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub product_no_variant_attribute_value_ids: Vec<odoo_connect_client::RecordId>,
    /// Unit.
    ///
    /// `product_uom_id`: many2one of `uom.uom`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub product_uom_id: Option<odoo_connect_client::Many2one>,
    /// Quantity.
    ///
    /// `product_uom_qty`: float, required.
    pub product_uom_qty: f64,
    /// Generated Project.
    ///
    /// `project_id`: many2one of `project.project`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub project_id: Option<odoo_connect_client::Many2one>,
    /// Delivery Quantity.
    ///
    /// `qty_delivered`: float.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub qty_delivered: Option<f64>,
    /// Method to update delivered qty.
    ///
    /// `qty_delivered_method`: selection, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub qty_delivered_method: Option<SaleOrderLineQtyDeliveredMethod>,
    /// Invoiced Quantity.
    ///
    /// `qty_invoiced`: float, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub qty_invoiced: Option<f64>,
    /// Quantity To Invoice.
    ///
    /// `qty_to_invoice`: float, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub qty_to_invoice: Option<f64>,
    /// Reached Milestones.
    ///
    /// `reached_milestones_ids`: one2many of `project.milestone`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub reached_milestones_ids: Vec<odoo_connect_client::RecordId>,
    /// Time Remaining on SO.
    ///
    /// `remaining_hours`: float, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub remaining_hours: Option<f64>,
    /// Salesperson.
    ///
    /// `salesman_id`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub salesman_id: Option<odoo_connect_client::Many2one>,
    /// Sequence.
    ///
    /// `sequence`: integer.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub sequence: Option<i64>,
    /// Order Status.
    ///
    /// `state`: selection, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub state: Option<SaleOrderLineState>,
    /// Generated Task.
    ///
    /// `task_id`: many2one of `project.task`.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub task_id: Option<odoo_connect_client::Many2one>,
    /// Taxes.
    ///
    /// `tax_ids`: many2many of `account.tax`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub tax_ids: Vec<odoo_connect_client::RecordId>,
    /// Technical Price Unit.
    ///
    /// `technical_price_unit`: float.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub technical_price_unit: Option<f64>,
    /// Timesheets.
    ///
    /// `timesheet_ids`: one2many of `account.analytic.line`.
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    pub timesheet_ids: Vec<odoo_connect_client::RecordId>,
    /// Untaxed Invoiced Amount.
    ///
    /// `untaxed_amount_invoiced`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub untaxed_amount_invoiced: Option<rust_decimal::Decimal>,
    /// Untaxed Amount To Invoice.
    ///
    /// `untaxed_amount_to_invoice`: monetary, read-only.
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    pub untaxed_amount_to_invoice: Option<rust_decimal::Decimal>,
    /// Virtual.
    ///
    /// `virtual_id`: char.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub virtual_id: Option<String>,
    /// Last Updated on.
    ///
    /// `write_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect_client::value::datetime::option")]
    pub write_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Last Updated by.
    ///
    /// `write_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect_client::value::opt")]
    pub write_uid: Option<odoo_connect_client::Many2one>,
}
