//! The customer.

use chrono::{Datelike, Days, Months, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::address::{Address, CountryCode};
use super::currency::Currency;
use super::key::{ClientKey, ExternalRefs, LegalEntityKey};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// When an invoice falls due. In JSON: `{"kind": "net", "days": 30}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentTerms {
    /// Due on the invoice date.
    Immediate,
    /// Due `days` after the invoice date.
    Net {
        /// Days after the invoice date.
        days: u16,
    },
    /// Due `days` after the end of the invoice's month.
    EndOfMonth {
        /// Days after the end of the month.
        days: u16,
    },
}

impl PaymentTerms {
    /// The due date of an invoice issued on `issued`, or `None` past the calendar's end.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use odoo_connect_canonical::PaymentTerms;
    ///
    /// let issued = NaiveDate::from_ymd_opt(2025, 1, 20).unwrap();
    /// assert_eq!(PaymentTerms::Net { days: 30 }.due_date(issued), NaiveDate::from_ymd_opt(2025, 2, 19));
    /// assert_eq!(PaymentTerms::EndOfMonth { days: 10 }.due_date(issued), NaiveDate::from_ymd_opt(2025, 2, 10));
    /// ```
    pub fn due_date(&self, issued: NaiveDate) -> Option<NaiveDate> {
        match *self {
            PaymentTerms::Immediate => Some(issued),
            PaymentTerms::Net { days } => issued.checked_add_days(Days::new(u64::from(days))),
            PaymentTerms::EndOfMonth { days } => {
                let first = issued.with_day(1)?;
                let end = first.checked_add_months(Months::new(1))?.pred_opt()?;
                end.checked_add_days(Days::new(u64::from(days)))
            }
        }
    }
}

/// A customer of the firm (maps to an Odoo partner).
///
/// `parent` groups subsidiaries under their group; `legal_entity` is the firm's company that bills
/// this client.
///
/// ```
/// use odoo_connect_canonical::{Address, Client, Currency, Validate};
///
/// let be = "BE".parse()?;
/// let address = Address::new(vec!["Rue Neuve 1".into()], "Brussels", be);
/// let mut client = Client::new("acme".parse()?, "ACME SA", be, address, Currency::EUR, "firm-be".parse()?);
/// client.parent = Some("acme".parse()?);
/// let errors = client.validate().unwrap_err();
/// assert_eq!(errors.problems()[0].path, "parent");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Client {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: ClientKey,
    /// Ids in other systems (CRM, e-signature, Odoo, ...).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Registered legal name.
    pub legal_name: String,
    /// Tax registration number (VAT, EIN, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Country of registration.
    pub country: CountryCode,
    /// Where invoices are addressed.
    pub billing_address: Address,
    /// Currency the client is invoiced in.
    pub currency: Currency,
    /// Payment terms of its invoices.
    pub payment_terms: PaymentTerms,
    /// The group the client belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ClientKey>,
    /// The firm's legal entity that bills the client.
    pub legal_entity: LegalEntityKey,
}

impl Client {
    /// A client with net-30 payment terms and no tax id, parent or references yet.
    pub fn new(
        key: ClientKey,
        legal_name: impl Into<String>,
        country: CountryCode,
        billing_address: Address,
        currency: Currency,
        legal_entity: LegalEntityKey,
    ) -> Client {
        Client {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            legal_name: legal_name.into(),
            tax_id: None,
            country,
            billing_address,
            currency,
            payment_terms: PaymentTerms::Net { days: 30 },
            parent: None,
            legal_entity,
        }
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.text("legal_name", &self.legal_name, 256);
        if let Some(id) = &self.tax_id {
            c.text("tax_id", id, 32);
        }
        c.field("billing_address", |c| self.billing_address.check(c));
        match self.payment_terms {
            PaymentTerms::Net { days } | PaymentTerms::EndOfMonth { days } if days > 365 => {
                c.report_at("payment_terms", ProblemCode::OutOfRange, "at most 365 days");
            }
            _ => {}
        }
        if self.parent.as_ref() == Some(&self.key) {
            c.report_at(
                "parent",
                ProblemCode::Inconsistent,
                "a client cannot be its own parent",
            );
        }
    }
}

impl_validate!(Client);
