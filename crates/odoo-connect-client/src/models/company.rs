//! `res.company` (legal entities) and `res.currency`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, datetime, decimal, opt};

/// A `res.company` record: one legal entity of a multi-company database.
///
/// ```
/// use odoo_connect_client::models::Company;
/// let c: Company = serde_json::from_str(
///     r#"{"id": 2, "name": "My US Company", "currency_id": [1, "USD"], "parent_id": false}"#,
/// ).unwrap();
/// assert_eq!(c.name, "My US Company");
/// assert_eq!(c.currency_id.unwrap().name(), "USD");
/// assert_eq!(c.parent_id, None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "res.company")]
#[non_exhaustive]
pub struct Company {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Company name.
    #[serde(default)]
    pub name: String,
    /// The company's own partner (`res.partner`), holding its address.
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Accounting currency (`res.currency`).
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Parent company (branches).
    #[serde(default, with = "opt")]
    pub parent_id: Option<Many2one>,
    /// Country (`res.country`).
    #[serde(default, with = "opt")]
    pub country_id: Option<Many2one>,
    /// Tax id (`vat`).
    #[serde(default, with = "opt")]
    pub vat: Option<String>,
    /// Company registry number.
    #[serde(default, with = "opt")]
    pub company_registry: Option<String>,
    /// Email.
    #[serde(default, with = "opt")]
    pub email: Option<String>,
    /// Phone.
    #[serde(default, with = "opt")]
    pub phone: Option<String>,
    /// Street.
    #[serde(default, with = "opt")]
    pub street: Option<String>,
    /// City.
    #[serde(default, with = "opt")]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, with = "opt")]
    pub zip: Option<String>,
    /// Website.
    #[serde(default, with = "opt")]
    pub website: Option<String>,
    /// Whether the company is active (not archived).
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Company {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Company {
            id,
            display_name: None,
            name: String::new(),
            partner_id: None,
            currency_id: None,
            parent_id: None,
            country_id: None,
            vat: None,
            company_registry: None,
            email: None,
            phone: None,
            street: None,
            city: None,
            zip: None,
            website: None,
            active: true,
            write_date: None,
        }
    }
}

crate::odoo_selection! {
    /// `res.currency.position`: where the symbol goes.
    pub enum CurrencyPosition {
        /// After the amount (`after`).
        After = "after",
        /// Before the amount (`before`).
        Before = "before",
    }
}

/// A `res.currency` record.
///
/// ```
/// use odoo_connect_client::models::{Currency, company::CurrencyPosition};
/// let c: Currency = serde_json::from_str(
///     r#"{"id": 1, "name": "USD", "symbol": "$", "rounding": 0.01, "decimal_places": 2,
///         "position": "before", "rate": 1.0}"#,
/// ).unwrap();
/// assert_eq!(c.rounding.to_string(), "0.01");
/// assert_eq!(c.position, Some(CurrencyPosition::Before));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "res.currency")]
#[non_exhaustive]
pub struct Currency {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// ISO 4217 code (`USD`).
    #[serde(default)]
    pub name: String,
    /// Full name (`United States dollar`).
    #[serde(default, with = "opt")]
    pub full_name: Option<String>,
    /// Symbol (`$`).
    #[serde(default)]
    pub symbol: String,
    /// Rounding factor (`0.01`).
    #[serde(default, with = "decimal")]
    pub rounding: Decimal,
    /// Decimal places (`2`).
    #[serde(default)]
    pub decimal_places: i64,
    /// Symbol position.
    #[serde(default, with = "opt")]
    pub position: Option<CurrencyPosition>,
    /// Current rate against the company currency (computed for the active company and date).
    #[serde(default, with = "decimal::option")]
    pub rate: Option<Decimal>,
    /// Name of the unit (`Dollars`).
    #[serde(default, with = "opt")]
    pub currency_unit_label: Option<String>,
    /// Name of the subunit (`Cents`).
    #[serde(default, with = "opt")]
    pub currency_subunit_label: Option<String>,
    /// Whether the currency is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Currency {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Currency {
            id,
            display_name: None,
            name: String::new(),
            full_name: None,
            symbol: String::new(),
            rounding: Decimal::ZERO,
            decimal_places: 0,
            position: None,
            rate: None,
            currency_unit_label: None,
            currency_subunit_label: None,
            active: true,
            write_date: None,
        }
    }
}
