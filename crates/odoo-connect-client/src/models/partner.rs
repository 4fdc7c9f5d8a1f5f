//! `res.partner`: customers, suppliers, their contacts and addresses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, datetime, opt};

crate::odoo_selection! {
    /// `res.partner.type`: what kind of address a contact is.
    pub enum PartnerAddressType {
        /// A contact person (`contact`).
        Contact = "contact",
        /// An invoice address (`invoice`).
        Invoice = "invoice",
        /// A delivery address (`delivery`).
        Delivery = "delivery",
        /// Any other address (`other`).
        OtherAddress = "other",
        /// A private address (`private`, up to Odoo 16).
        Private = "private",
    }
}

/// A `res.partner` record: a company or a person, customer or supplier.
///
/// ```
/// use odoo_connect_client::{Model, ServerVersion, models::Partner};
/// let p: Partner = serde_json::from_str(
///     r#"{"id": 15, "name": "Azure Interior", "is_company": true, "email": false,
///         "country_id": [233, "United States"], "child_ids": [26, 33]}"#,
/// ).unwrap();
/// assert_eq!(p.name.as_deref(), Some("Azure Interior"));
/// assert_eq!(p.email, None);
/// assert_eq!(p.country_id.unwrap().name(), "United States");
/// assert!(Partner::fields(&ServerVersion::new(18, 0)).contains(&"mobile"));
/// assert!(!Partner::fields(&ServerVersion::new(19, 0)).contains(&"mobile"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "res.partner")]
#[non_exhaustive]
pub struct Partner {
    /// Record id.
    pub id: RecordId,
    /// Display name (`"Azure Interior, Brandon Freeman"` for a contact of a company).
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name (`name`); Odoo allows a contact address without one.
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// Whether the partner is a company (`is_company`), not a person.
    #[serde(default)]
    pub is_company: bool,
    /// Address type (`type`).
    #[serde(default, rename = "type", with = "opt")]
    pub address_type: Option<PartnerAddressType>,
    /// Email.
    #[serde(default, with = "opt")]
    pub email: Option<String>,
    /// Phone.
    #[serde(default, with = "opt")]
    pub phone: Option<String>,
    /// Mobile phone (`mobile`, up to Odoo 18; removed in 19).
    #[odoo(until = 18)]
    #[serde(default, with = "opt")]
    pub mobile: Option<String>,
    /// Tax id (`vat`).
    #[serde(default, with = "opt")]
    pub vat: Option<String>,
    /// Internal reference (`ref`).
    #[serde(default, rename = "ref", with = "opt")]
    pub reference: Option<String>,
    /// Street (`street`).
    #[serde(default, with = "opt")]
    pub street: Option<String>,
    /// Second street line (`street2`).
    #[serde(default, with = "opt")]
    pub street2: Option<String>,
    /// City.
    #[serde(default, with = "opt")]
    pub city: Option<String>,
    /// Postal code (`zip`).
    #[serde(default, with = "opt")]
    pub zip: Option<String>,
    /// State or province (`state_id`, `res.country.state`).
    #[serde(default, with = "opt")]
    pub state_id: Option<Many2one>,
    /// Country (`country_id`, `res.country`).
    #[serde(default, with = "opt")]
    pub country_id: Option<Many2one>,
    /// Parent company of a contact (`parent_id`).
    #[serde(default, with = "opt")]
    pub parent_id: Option<Many2one>,
    /// The commercial entity (`commercial_partner_id`): the company for its contacts, itself otherwise.
    #[serde(default, with = "opt")]
    pub commercial_partner_id: Option<Many2one>,
    /// Company the partner is restricted to (`company_id`); `None` when shared by all companies.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Contacts and addresses of a company (`child_ids`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub child_ids: Vec<RecordId>,
    /// Tags (`category_id`, `res.partner.category`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub category_id: Vec<RecordId>,
    /// Customer rank (`customer_rank`): above zero once the partner was invoiced or sold to.
    #[serde(default)]
    pub customer_rank: i64,
    /// Supplier rank (`supplier_rank`).
    #[serde(default)]
    pub supplier_rank: i64,
    /// Customer payment terms (`property_payment_term_id`; company dependent).
    #[serde(default, with = "opt")]
    pub property_payment_term_id: Option<Many2one>,
    /// Language code (`lang`, e.g. `en_US`).
    #[serde(default, with = "opt")]
    pub lang: Option<String>,
    /// Whether the partner is active (not archived).
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Partner {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Partner {
            id,
            display_name: None,
            name: None,
            is_company: false,
            address_type: None,
            email: None,
            phone: None,
            mobile: None,
            vat: None,
            reference: None,
            street: None,
            street2: None,
            city: None,
            zip: None,
            state_id: None,
            country_id: None,
            parent_id: None,
            commercial_partner_id: None,
            company_id: None,
            child_ids: Vec::new(),
            category_id: Vec::new(),
            customer_rank: 0,
            supplier_rank: 0,
            property_payment_term_id: None,
            lang: None,
            active: true,
            write_date: None,
        }
    }
}
