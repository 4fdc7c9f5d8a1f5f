// The Odoo model `res.currency` as a Rust type, written by odoo-connect's codegen from the
// server's field descriptions. Regenerate it rather than edit it.

odoo_connect::odoo::odoo_selection! {
    /// `res.currency.position`: Symbol Position.
    pub enum ResCurrencyPosition {
        /// After Amount (`after`).
        After = "after",
        /// Before Amount (`before`).
        Before = "before",
    }
}

/// A `res.currency` record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, odoo_connect::odoo::Model)]
#[odoo(model = "res.currency", crate = "odoo_connect::odoo")]
pub struct ResCurrency {
    /// Record id (`id`).
    pub id: odoo_connect::odoo::RecordId,
    /// Active.
    ///
    /// `active`: boolean.
    #[serde(default)]
    pub active: bool,
    /// Created on.
    ///
    /// `create_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::datetime::option")]
    pub create_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Created by.
    ///
    /// `create_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub create_uid: Option<odoo_connect::odoo::Many2one>,
    /// Currency Subunit.
    ///
    /// `currency_subunit_label`: char.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub currency_subunit_label: Option<String>,
    /// Currency Unit.
    ///
    /// `currency_unit_label`: char.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub currency_unit_label: Option<String>,
    /// Date.
    ///
    /// `date`: date, not stored, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::date::option")]
    pub date: Option<chrono::NaiveDate>,
    /// Decimal Places.
    ///
    /// `decimal_places`: integer, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub decimal_places: Option<i64>,
    /// Display Name.
    ///
    /// `display_name`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub display_name: Option<String>,
    /// Display Rounding Warning.
    ///
    /// `display_rounding_warning`: boolean, not stored, read-only.
    #[serde(default)]
    pub display_rounding_warning: bool,
    /// Fiscal Country Codes.
    ///
    /// `fiscal_country_codes`: char, not stored.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub fiscal_country_codes: Option<String>,
    /// Name.
    ///
    /// `full_name`: char.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub full_name: Option<String>,
    /// Inverse Rate.
    ///
    /// `inverse_rate`: float, not stored, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub inverse_rate: Option<f64>,
    /// Is Current Company Currency.
    ///
    /// `is_current_company_currency`: boolean, not stored, read-only.
    #[serde(default)]
    pub is_current_company_currency: bool,
    /// Currency numeric code.
    ///
    /// `iso_numeric`: integer.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub iso_numeric: Option<i64>,
    /// Currency.
    ///
    /// `name`: char, required.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub name: Option<String>,
    /// Symbol Position.
    ///
    /// `position`: selection.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub position: Option<ResCurrencyPosition>,
    /// Current Rate.
    ///
    /// `rate`: float, not stored, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub rate: Option<f64>,
    /// Rates.
    ///
    /// `rate_ids`: one2many of `res.currency.rate`.
    #[serde(default, deserialize_with = "odoo_connect::odoo::models::x2many::deserialize")]
    pub rate_ids: Vec<odoo_connect::odoo::RecordId>,
    /// Rate String.
    ///
    /// `rate_string`: char, not stored, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub rate_string: Option<String>,
    /// Rounding Factor.
    ///
    /// `rounding`: float.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub rounding: Option<f64>,
    /// Symbol.
    ///
    /// `symbol`: char, required.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub symbol: Option<String>,
    /// Last Updated on.
    ///
    /// `write_date`: datetime, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::datetime::option")]
    pub write_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Last Updated by.
    ///
    /// `write_uid`: many2one of `res.users`, read-only.
    #[serde(default, with = "odoo_connect::odoo::value::opt")]
    pub write_uid: Option<odoo_connect::odoo::Many2one>,
}
