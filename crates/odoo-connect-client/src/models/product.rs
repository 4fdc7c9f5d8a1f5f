//! `product.product`: the products and services that are sold.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, datetime, decimal, opt};

crate::odoo_selection! {
    /// `product.template.type` (from Odoo 18) and `detailed_type` (up to 17).
    ///
    /// From 18 `type` is `consu`, `service` or `combo` (stock tracking moved to `is_storable`);
    /// up to 17 `type` and `detailed_type` also have `product` (storable), and apps add values
    /// to `detailed_type` (`event`, `course`, `booking`), kept in `Other`.
    pub enum ProductType {
        /// Goods (`consu`; "Consumable" up to 17).
        Consu = "consu",
        /// A service (`service`).
        Service = "service",
        /// A combo of products (`combo`, from Odoo 18).
        Combo = "combo",
        /// A storable product (`product`, up to Odoo 17).
        Storable = "product",
    }
}

crate::odoo_selection! {
    /// `service_tracking`: what confirming a sale of the service creates.
    pub enum ServiceTracking {
        /// Nothing (`no`).
        No = "no",
        /// A task in an existing project (`task_global_project`).
        TaskGlobalProject = "task_global_project",
        /// A new project with a task (`task_in_project`).
        TaskInProject = "task_in_project",
        /// A new project only (`project_only`).
        ProjectOnly = "project_only",
    }
}

crate::odoo_selection! {
    /// `invoice_policy`: invoice what was ordered or what was delivered.
    pub enum InvoicePolicy {
        /// Ordered quantities (`order`).
        Order = "order",
        /// Delivered quantities (`delivery`).
        Delivery = "delivery",
    }
}

crate::odoo_selection! {
    /// `service_policy`: how a service is invoiced.
    pub enum ServicePolicy {
        /// Prepaid or fixed price (`ordered_prepaid`).
        OrderedPrepaid = "ordered_prepaid",
        /// On timesheets (`delivered_timesheet`).
        DeliveredTimesheet = "delivered_timesheet",
        /// On milestones (`delivered_milestones`).
        DeliveredMilestones = "delivered_milestones",
        /// On manually set delivered quantities (`delivered_manual`).
        DeliveredManual = "delivered_manual",
    }
}

crate::odoo_selection! {
    /// `service_type`: how delivered quantities of a service are tracked.
    pub enum ServiceType {
        /// Set manually (`manual`).
        Manual = "manual",
        /// From milestones (`milestones`).
        Milestones = "milestones",
        /// From timesheets (`timesheet`).
        Timesheet = "timesheet",
    }
}

/// A `product.product` record (a product variant; most services have exactly one).
///
/// ```
/// use odoo_connect_client::models::{Product, product::{ProductType, ServicePolicy}};
/// let p: Product = serde_json::from_str(
///     r#"{"id": 3, "name": "Virtual Interior Design", "type": "service",
///         "service_policy": "delivered_timesheet", "list_price": 30.75, "default_code": false}"#,
/// ).unwrap();
/// assert_eq!(p.product_type, Some(ProductType::Service));
/// assert_eq!(p.service_policy, Some(ServicePolicy::DeliveredTimesheet));
/// assert_eq!(p.list_price.to_string(), "30.75");
/// assert_eq!(p.default_code, None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "product.product")]
#[non_exhaustive]
pub struct Product {
    /// Record id.
    pub id: RecordId,
    /// Display name (`"[FURN_8888] Office Lamp"`).
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Internal reference (`default_code`).
    #[serde(default, with = "opt")]
    pub default_code: Option<String>,
    /// Barcode.
    #[serde(default, with = "opt")]
    pub barcode: Option<String>,
    /// Product type (`type`).
    #[serde(default, rename = "type", with = "opt")]
    pub product_type: Option<ProductType>,
    /// Detailed type (`detailed_type`, up to Odoo 17; `None` from 18).
    #[odoo(until = 17)]
    #[serde(default, with = "opt")]
    pub detailed_type: Option<ProductType>,
    /// What a confirmed sale of the service creates (`service_tracking`).
    #[serde(default, with = "opt")]
    pub service_tracking: Option<ServiceTracking>,
    /// Invoice ordered or delivered quantities (`invoice_policy`).
    #[serde(default, with = "opt")]
    pub invoice_policy: Option<InvoicePolicy>,
    /// How a service is invoiced (`service_policy`).
    #[serde(default, with = "opt")]
    pub service_policy: Option<ServicePolicy>,
    /// How delivered quantities of a service are tracked (`service_type`).
    #[serde(default, with = "opt")]
    pub service_type: Option<ServiceType>,
    /// Sales price of the template (`list_price`).
    #[serde(default, with = "decimal")]
    pub list_price: Decimal,
    /// Sales price of the variant, extras included (`lst_price`).
    #[serde(default, with = "decimal")]
    pub lst_price: Decimal,
    /// Cost (`standard_price`; company dependent).
    #[serde(default, with = "decimal")]
    pub standard_price: Decimal,
    /// Currency of the prices.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Unit of measure (`uom.uom`).
    #[serde(default, with = "opt")]
    pub uom_id: Option<Many2one>,
    /// Customer taxes (`account.tax`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub taxes_id: Vec<RecordId>,
    /// Product category.
    #[serde(default, with = "opt")]
    pub categ_id: Option<Many2one>,
    /// The product template.
    #[serde(default, with = "opt")]
    pub product_tmpl_id: Option<Many2one>,
    /// Project in which a sale of the service creates tasks (`project_id`).
    #[serde(default, with = "opt")]
    pub project_id: Option<Many2one>,
    /// Project template copied when a sale of the service creates a project.
    #[serde(default, with = "opt")]
    pub project_template_id: Option<Many2one>,
    /// Can be sold.
    #[serde(default)]
    pub sale_ok: bool,
    /// Can be purchased.
    #[serde(default)]
    pub purchase_ok: bool,
    /// Company the product is restricted to; `None` when shared.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Whether the product is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Product {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Product {
            id,
            display_name: None,
            name: String::new(),
            default_code: None,
            barcode: None,
            product_type: None,
            detailed_type: None,
            service_tracking: None,
            invoice_policy: None,
            service_policy: None,
            service_type: None,
            list_price: Decimal::ZERO,
            lst_price: Decimal::ZERO,
            standard_price: Decimal::ZERO,
            currency_id: None,
            uom_id: None,
            taxes_id: Vec::new(),
            categ_id: None,
            product_tmpl_id: None,
            project_id: None,
            project_template_id: None,
            sale_ok: false,
            purchase_ok: false,
            company_id: None,
            active: true,
            write_date: None,
        }
    }
}
