//! The billing company.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::address::{Address, CountryCode};
use super::currency::Currency;
use super::key::{ExternalRefs, LegalEntityKey};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// The tax regime a legal entity invoices under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaxRegime {
    /// Value added tax (EU, UK, ...): invoices carry VAT and the entity has a VAT number.
    Vat,
    /// Goods and services tax (Australia, India, Canada, Singapore, ...): the entity has a GST number.
    Gst,
    /// Sales tax levied by state or locality (United States).
    SalesTax,
    /// Not registered for indirect tax: invoices carry none.
    NotRegistered,
}

impl TaxRegime {
    /// Whether the regime needs the entity's tax registration number.
    pub fn needs_tax_id(&self) -> bool {
        matches!(self, TaxRegime::Vat | TaxRegime::Gst)
    }
}

/// The company of the firm that signs contracts and issues invoices (maps to an Odoo company).
///
/// ```
/// use odoo_connect_canonical::{Currency, LegalEntity, TaxRegime, Validate};
///
/// let mut entity = LegalEntity::new("firm-fr".parse()?, "Firm SAS", "FR".parse()?, Currency::EUR, TaxRegime::Vat);
/// assert!(entity.validate().is_err()); // a VAT-registered entity needs its VAT number
/// entity.tax_id = Some("FR40303265045".into());
/// assert!(entity.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct LegalEntity {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: LegalEntityKey,
    /// Ids in other systems.
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Registered name.
    pub name: String,
    /// Country of registration.
    pub country: CountryCode,
    /// Accounting currency.
    pub currency: Currency,
    /// Tax regime.
    pub tax_regime: TaxRegime,
    /// Tax registration number (VAT, GST, EIN), required by [`TaxRegime::needs_tax_id`] regimes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Registered address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl LegalEntity {
    /// A legal entity with no references, tax id or address yet.
    pub fn new(
        key: LegalEntityKey,
        name: impl Into<String>,
        country: CountryCode,
        currency: Currency,
        tax_regime: TaxRegime,
    ) -> LegalEntity {
        LegalEntity {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            name: name.into(),
            country,
            currency,
            tax_regime,
            tax_id: None,
            address: None,
        }
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.text("name", &self.name, 256);
        match &self.tax_id {
            Some(id) => c.text("tax_id", id, 32),
            None if self.tax_regime.needs_tax_id() => c.report_at(
                "tax_id",
                ProblemCode::Required,
                "the tax regime needs a tax registration number",
            ),
            None => {}
        }
        if let Some(a) = &self.address {
            c.field("address", |c| a.check(c));
        }
    }
}

impl_validate!(LegalEntity);
