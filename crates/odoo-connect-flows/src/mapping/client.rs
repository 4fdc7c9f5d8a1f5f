//! [`Client`] ↔ `res.partner`.
//!
//! A client is a company partner (`is_company`), a customer (`customer_rank` 1) restricted to the
//! company of its legal entity (`company_id`). Its billing address is the partner's address; its
//! payment terms and currency are the partner's `property_payment_term_id` and
//! `property_product_pricelist`, both resolved through the [`MappingContext`]. A parent client
//! becomes the partner's `parent_id`: a company partner stays its own commercial entity, so a
//! subsidiary keeps its own invoices.

use odoo_connect_canonical::{Address, Client, ExternalRefs, PaymentTerms};
use odoo_connect_client::RecordId;
use odoo_connect_client::models::{Partner, PartnerValues};

use super::{
    Mapped, MappingContext, MappingError, UnsupportedField, key_or_derived, legal_entity_of,
    refs_with_odoo, text,
};

const MODEL: &str = "res.partner";

/// The `res.partner` values of a client.
///
/// Needs the company of the client's legal entity, its country and, when it has one, its parent.
/// Payment terms, the pricelist of its currency and its region are written when the context
/// resolves them and reported otherwise; street lines past the second are reported.
///
/// ```
/// use odoo_connect_canonical::{Address, Client, Currency, PaymentTerms};
/// use odoo_connect_flows::mapping::{MappingContext, client};
/// use odoo_connect_client::ServerVersion;
///
/// let address = Address::new(vec!["Rue Neuve 1".into()], "Brussels", "BE".parse()?);
/// let mut acme = Client::new("acme".parse()?, "ACME SA", "BE".parse()?, address, Currency::EUR, "firm-be".parse()?);
/// acme.tax_id = Some("BE0477472701".into());
/// let mut ctx = MappingContext::new(ServerVersion::new(17, 0));
/// ctx.companies.insert("firm-be".parse()?, 3);
/// ctx.countries.insert("BE".parse()?, 20);
/// ctx.payment_terms.insert(PaymentTerms::Net { days: 30 }, 4);
/// ctx.pricelists.insert(Currency::EUR, 2);
/// let mapped = client::to_odoo(&acme, &ctx)?;
/// assert!(mapped.is_complete());
/// assert_eq!(mapped.values.vat, Some(Some("BE0477472701".into())));
/// assert_eq!(mapped.to_values().get("property_payment_term_id"), Some(&4.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    client: &Client,
    ctx: &MappingContext,
) -> Result<Mapped<PartnerValues>, MappingError> {
    let mut unsupported = Vec::new();
    let company = ctx.companies.id(&client.legal_entity).ok_or_else(|| {
        MappingError::missing_id(
            "legal_entity",
            format!("res.company of legal entity {}", client.legal_entity),
        )
    })?;
    let address = &client.billing_address;
    let country = ctx.countries.id(&address.country).ok_or_else(|| {
        MappingError::missing_id(
            "billing_address.country",
            format!("res.country {}", address.country),
        )
    })?;
    let mut values = PartnerValues::new();
    values.name = Some(client.legal_name.clone());
    values.is_company = Some(true);
    values.customer_rank = Some(1);
    values.company_id = Some(Some(company));
    values.vat = text(client.tax_id.as_deref());
    values.country_id = Some(Some(country));
    let a = address_values(address, "billing_address", ctx, &mut unsupported);
    (
        values.street,
        values.street2,
        values.city,
        values.zip,
        values.state_id,
    ) = (a.street, a.street2, a.city, a.zip, a.state_id);
    if client.country != address.country {
        unsupported.push(UnsupportedField::new(
            "country",
            format!(
                "a partner has one country: the billing address's ({}) is written, not the \
                 country of registration ({})",
                address.country, client.country
            ),
        ));
    }
    match ctx.payment_terms.id(&client.payment_terms) {
        Some(id) => values.property_payment_term_id = Some(Some(id)),
        None => unsupported.push(UnsupportedField::new(
            "payment_terms",
            format!(
                "no account.payment.term resolved for {}: the company's default terms apply",
                terms_text(&client.payment_terms)
            ),
        )),
    }
    match ctx.pricelists.id(&client.currency) {
        Some(id) => values.property_product_pricelist = Some(Some(id)),
        None => unsupported.push(UnsupportedField::new(
            "currency",
            format!(
                "a partner has no currency of its own: no product.pricelist in {} resolved, the \
                 default pricelist applies",
                client.currency
            ),
        )),
    }
    values.parent_id = match &client.parent {
        Some(parent) => {
            let id = ctx.clients.id(parent).ok_or_else(|| {
                MappingError::missing_id("parent", format!("res.partner of client {parent}"))
            })?;
            Some(Some(id))
        }
        None => Some(None),
    };
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}

/// The address fields of a partner or a company, each set or emptied.
pub(crate) struct AddressFields {
    pub(crate) street: Option<Option<String>>,
    pub(crate) street2: Option<Option<String>>,
    pub(crate) city: Option<Option<String>>,
    pub(crate) zip: Option<Option<String>>,
    pub(crate) state_id: Option<Option<RecordId>>,
}

/// Street lines, city, postal code, region: shared by partners and companies.
pub(crate) fn address_values(
    address: &Address,
    path: &str,
    ctx: &MappingContext,
    unsupported: &mut Vec<UnsupportedField>,
) -> AddressFields {
    let line = |i: usize| text(address.lines.get(i).map(String::as_str));
    for i in 2..address.lines.len() {
        unsupported.push(UnsupportedField::new(
            format!("{path}.lines[{i}]"),
            "Odoo addresses have two street lines (street, street2)",
        ));
    }
    let state_id = match &address.region {
        Some(region) => match ctx.regions.id(region) {
            Some(id) => Some(Some(id)),
            None => {
                unsupported.push(UnsupportedField::new(
                    format!("{path}.region"),
                    format!("no res.country.state resolved for `{region}`"),
                ));
                None
            }
        },
        None => Some(None),
    };
    AddressFields {
        street: line(0),
        street2: line(1),
        city: Some(Some(address.city.clone())),
        zip: text(address.postal_code.as_deref()),
        state_id,
    }
}

fn terms_text(terms: &PaymentTerms) -> String {
    match terms {
        PaymentTerms::Immediate => "immediate payment".to_owned(),
        PaymentTerms::Net { days } => format!("net {days} days"),
        PaymentTerms::EndOfMonth { days } => format!("{days} days after the end of the month"),
        // Terms added to the canonical model after this mapping: only used in a report message,
        // so name them by their debug form rather than guess a wording.
        other => format!("payment terms {other:?}"),
    }
}

/// Reads a client back from its `res.partner`.
///
/// The key is the context's for the partner, or `odoo:res.partner:<id>`. The legal entity is the
/// partner's company, or [`MappingContext::default_legal_entity`] for a partner shared by all
/// companies. The currency is
/// [`MappingContext::default_currency`] (the typed partner does not read its pricelist); no
/// payment terms read as [`PaymentTerms::Immediate`] (Odoo makes such invoices due at once).
///
/// ```
/// use odoo_connect_canonical::{ClientKey, Currency, PaymentTerms};
/// use odoo_connect_flows::mapping::{MappingContext, client};
/// use odoo_connect_client::{ServerVersion, models::Partner};
///
/// let partner: Partner = serde_json::from_str(
///     r#"{"id": 15, "name": "Azure Interior", "is_company": true, "vat": false,
///         "street": "4557 De Silva St", "city": "Fremont", "zip": "94538",
///         "country_id": [233, "United States"], "company_id": [1, "YourCompany"],
///         "property_payment_term_id": [4, "30 Days"]}"#,
/// )?;
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.countries.insert("US".parse()?, 233);
/// ctx.companies.insert("firm-us".parse()?, 1);
/// ctx.payment_terms.insert(PaymentTerms::Net { days: 30 }, 4);
/// ctx.default_currency = Some(Currency::USD);
/// let azure = client::from_odoo(&partner, &ctx)?;
/// assert_eq!(azure.key.as_str(), "odoo:res.partner:15");
/// assert_eq!(azure.legal_name, "Azure Interior");
/// assert_eq!(azure.billing_address.postal_code.as_deref(), Some("94538"));
/// assert_eq!(azure.payment_terms, PaymentTerms::Net { days: 30 });
/// assert_eq!(azure.refs.get("odoo"), Some("res.partner,15"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(partner: &Partner, ctx: &MappingContext) -> Result<Client, MappingError> {
    let key = key_or_derived(&ctx.clients, MODEL, partner.id)?;
    let legal_name = partner
        .name
        .clone()
        .ok_or_else(|| MappingError::missing_field(MODEL, "name"))?;
    let country_m2o = partner
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
    let region = match &partner.state_id {
        Some(s) => Some(
            ctx.regions
                .key(s.id)
                .cloned()
                .or_else(|| s.name.clone())
                .ok_or_else(|| MappingError::UnknownId {
                    path: format!("{MODEL}.state_id"),
                    model: "res.country.state",
                    id: s.id,
                })?,
        ),
        None => None,
    };
    let lines: Vec<String> = [&partner.street, &partner.street2]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut billing_address =
        Address::new(lines, partner.city.clone().unwrap_or_default(), country);
    billing_address.postal_code = partner.zip.clone();
    billing_address.region = region;
    let currency = ctx
        .default_currency
        .ok_or_else(|| MappingError::missing_id("currency", "MappingContext::default_currency"))?;
    let payment_terms = match &partner.property_payment_term_id {
        Some(t) => *ctx
            .payment_terms
            .key(t.id)
            .ok_or_else(|| MappingError::UnknownId {
                path: format!("{MODEL}.property_payment_term_id"),
                model: "account.payment.term",
                id: t.id,
            })?,
        None => PaymentTerms::Immediate,
    };
    let parent = partner
        .parent_id
        .as_ref()
        .map(|p| key_or_derived(&ctx.clients, MODEL, p.id))
        .transpose()?;
    let legal_entity = legal_entity_of(partner.company_id.as_ref(), ctx, MODEL)?;
    let refs: ExternalRefs = refs_with_odoo(MODEL, partner.id);
    let mut client = Client::new(
        key,
        legal_name,
        country,
        billing_address,
        currency,
        legal_entity,
    );
    client.refs = refs;
    client.tax_id = partner.vat.clone();
    client.payment_terms = payment_terms;
    client.parent = parent;
    Ok(client)
}
