//! [`LegalEntity`] ↔ `res.company`.
//!
//! Odoo has no field for a tax regime: it follows from the fiscal country and the taxes
//! configured. Reading a company back derives the regime from its country and VAT number
//! ([`derived_tax_regime`]); writing one reports the regime when that derivation would not give it
//! back.

use odoo_connect_canonical::{Address, CountryCode, LegalEntity, TaxRegime};
use odoo_connect_client::models::{Company, CompanyValues};

use super::client::address_values;
use super::{
    Mapped, MappingContext, MappingError, UnsupportedField, currency_of, key_or_derived,
    refs_with_odoo, text,
};

const MODEL: &str = "res.company";

/// Countries whose indirect tax is a goods and services tax.
const GST_COUNTRIES: &[&str] = &["AU", "CA", "IN", "MY", "NZ", "SG"];

/// The tax regime read from a company's country and tax id: sales tax in the United States, GST
/// where the tax is called so and the company has a number, VAT elsewhere with a number, none
/// without.
///
/// ```
/// use odoo_connect_canonical::TaxRegime;
/// use odoo_connect_flows::mapping::legal_entity::derived_tax_regime;
/// assert_eq!(derived_tax_regime("US".parse()?, None), TaxRegime::SalesTax);
/// assert_eq!(derived_tax_regime("FR".parse()?, Some("FR40303265045")), TaxRegime::Vat);
/// assert_eq!(derived_tax_regime("AU".parse()?, Some("51824753556")), TaxRegime::Gst);
/// assert_eq!(derived_tax_regime("FR".parse()?, None), TaxRegime::NotRegistered);
/// # Ok::<(), odoo_connect_canonical::CountryCodeError>(())
/// ```
pub fn derived_tax_regime(country: CountryCode, tax_id: Option<&str>) -> TaxRegime {
    match (country.as_str(), tax_id) {
        ("US", _) => TaxRegime::SalesTax,
        (c, Some(_)) if GST_COUNTRIES.contains(&c) => TaxRegime::Gst,
        (_, Some(_)) => TaxRegime::Vat,
        (_, None) => TaxRegime::NotRegistered,
    }
}

/// The `res.company` values of a legal entity.
///
/// Needs its currency and country. The address is the company's (kept on its partner by Odoo);
/// without an address only the country is written.
///
/// ```
/// use odoo_connect_canonical::{Currency, LegalEntity, TaxRegime};
/// use odoo_connect_flows::mapping::{MappingContext, legal_entity};
/// use odoo_connect_client::ServerVersion;
///
/// let mut firm = LegalEntity::new("firm-fr".parse()?, "Firm SAS", "FR".parse()?, Currency::EUR, TaxRegime::Vat);
/// firm.tax_id = Some("FR40303265045".into());
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.currencies.insert(Currency::EUR, 125);
/// ctx.countries.insert("FR".parse()?, 75);
/// let mapped = legal_entity::to_odoo(&firm, &ctx)?;
/// assert!(mapped.is_complete());
/// assert_eq!(mapped.values.currency_id, Some(125.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    entity: &LegalEntity,
    ctx: &MappingContext,
) -> Result<Mapped<CompanyValues>, MappingError> {
    let mut unsupported = Vec::new();
    let currency = ctx.currencies.id(&entity.currency).ok_or_else(|| {
        MappingError::missing_id("currency", format!("res.currency {}", entity.currency))
    })?;
    let country = ctx.countries.id(&entity.country).ok_or_else(|| {
        MappingError::missing_id("country", format!("res.country {}", entity.country))
    })?;
    let mut values = CompanyValues::new();
    values.name = Some(entity.name.clone());
    values.currency_id = Some(currency);
    values.country_id = Some(Some(country));
    values.vat = text(entity.tax_id.as_deref());
    if let Some(address) = &entity.address {
        let a = address_values(address, "address", ctx, &mut unsupported);
        (
            values.street,
            values.street2,
            values.city,
            values.zip,
            values.state_id,
        ) = (a.street, a.street2, a.city, a.zip, a.state_id);
        if address.country != entity.country {
            unsupported.push(UnsupportedField::new(
                "address.country",
                format!(
                    "a company has one country: the country of registration ({}) is written",
                    entity.country
                ),
            ));
        }
    }
    let derived = derived_tax_regime(entity.country, entity.tax_id.as_deref());
    if derived != entity.tax_regime {
        unsupported.push(UnsupportedField::new(
            "tax_regime",
            format!(
                "Odoo has no tax regime field; read back from the country and tax id it is {}",
                regime_text(derived)
            ),
        ));
    }
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}

fn regime_text(regime: TaxRegime) -> &'static str {
    match regime {
        TaxRegime::Vat => "vat",
        TaxRegime::Gst => "gst",
        TaxRegime::SalesTax => "sales_tax",
        TaxRegime::NotRegistered => "not_registered",
        // Regimes added to the canonical model after this mapping: `derived_tax_regime` never
        // gives one, and the text only goes into a report message.
        _ => "another regime",
    }
}

/// Reads a legal entity back from its `res.company`.
///
/// The tax regime is [`derived_tax_regime`]. The address has the company's street, city and
/// postal code (the typed company reads neither `street2` nor `state_id`); a company without
/// street or city has no address.
///
/// ```
/// use odoo_connect_canonical::{Currency, TaxRegime};
/// use odoo_connect_flows::mapping::{MappingContext, legal_entity};
/// use odoo_connect_client::{ServerVersion, models::Company};
///
/// let company: Company = serde_json::from_str(
///     r#"{"id": 2, "name": "My US Company", "currency_id": [1, "USD"], "country_id": [233, "United States"],
///         "vat": false, "street": "1 Main St", "city": "Springfield", "zip": false}"#,
/// )?;
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.countries.insert("US".parse()?, 233);
/// let entity = legal_entity::from_odoo(&company, &ctx)?;
/// assert_eq!(entity.currency, Currency::USD);
/// assert_eq!(entity.tax_regime, TaxRegime::SalesTax);
/// assert_eq!(entity.address.unwrap().lines, ["1 Main St"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(company: &Company, ctx: &MappingContext) -> Result<LegalEntity, MappingError> {
    let key = key_or_derived(&ctx.companies, MODEL, company.id)?;
    let country_m2o = company
        .country_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "country_id"))?;
    let country = *ctx
        .countries
        .key(country_m2o.id)
        .ok_or_else(|| MappingError::UnknownId {
            path: format!("{MODEL}.country_id"),
            model: "res.country",
            id: country_m2o.id,
        })?;
    let currency_m2o = company
        .currency_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "currency_id"))?;
    let currency = currency_of(Some(currency_m2o), ctx, &format!("{MODEL}.currency_id"))?;
    let address = match (&company.street, &company.city) {
        (None, None) => None,
        (street, city) => {
            let mut address = Address::new(
                street.iter().cloned().collect(),
                city.clone().unwrap_or_default(),
                country,
            );
            address.postal_code = company.zip.clone();
            Some(address)
        }
    };
    let mut entity = LegalEntity::new(
        key,
        company.name.clone(),
        country,
        currency,
        derived_tax_regime(country, company.vat.as_deref()),
    );
    entity.refs = refs_with_odoo(MODEL, company.id);
    entity.tax_id = company.vat.clone();
    entity.address = address;
    Ok(entity)
}
