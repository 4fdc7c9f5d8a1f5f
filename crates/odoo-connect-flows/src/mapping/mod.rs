//! Canonical documents to Odoo values and Odoo records to canonical documents, per Odoo version.
//!
//! This module (feature `odoo`) depends on [`odoo_connect_client`] and the canonical model; neither
//! depends on it. Every mapping is a pure function:
//!
//! - `to_odoo(&document, &MappingContext) -> Result<Mapped, MappingError>` gives the values of a
//!   `create` (or `write`) and the canonical fields the target version cannot hold
//!   ([`Mapped::unsupported`]): a field that one Odoo version lacks is reported, never silently
//!   dropped.
//! - `from_odoo(&typed_record, ..., &MappingContext) -> Result<Document, MappingError>` reads a
//!   typed record of [`odoo::models`](odoo_connect_client::models) back into the canonical document.
//!
//! The [`MappingContext`] carries the server version and the Odoo ids resolved beforehand (the
//! company of a legal entity, the partner of a client, the product of each billing kind, currency
//! ids, units of measure, the payment journal...). Amounts stay [`Decimal`](rust_decimal::Decimal)
//! from end to end and are written with [`Values::decimal`].
//!
//! | canonical | Odoo | module |
//! |---|---|---|
//! | [`Client`](odoo_connect_canonical::Client) | `res.partner` (both ways) | [`client`] |
//! | [`LegalEntity`](odoo_connect_canonical::LegalEntity) | `res.company` (both ways) | [`legal_entity`] |
//! | [`Contract`](odoo_connect_canonical::Contract) | `sale.order` with its lines; service products | [`contract`] |
//! | [`Project`](odoo_connect_canonical::Project) | `project.project` (both ways) | [`project`] |
//! | [`Milestone`](odoo_connect_canonical::Milestone) | `project.milestone` (both ways) | [`project`] |
//! | [`TimeEntry`](odoo_connect_canonical::TimeEntry) | `account.analytic.line` (both ways) | [`time`] |
//! | [`Expense`](odoo_connect_canonical::Expense) | `hr.expense` | [`expense`] |
//! | [`InvoiceEvent`](odoo_connect_canonical::InvoiceEvent) | from `account.move` and its lines | [`invoice`] |
//! | [`Payment`](odoo_connect_canonical::Payment) | `account.payment` (both ways); `account.payment.register` | [`payment`] |
//!
//! # Versions
//! The values follow the field names and selection values of the target version (16 to 20):
//! product `detailed_type` (up to 17) or `type` (from 18); `sale.order.line` `product_uom` and
//! `tax_id` (up to 18) or `product_uom_id` and `tax_ids` (19); `project.project`
//! `analytic_account_id` (up to 17) or `account_id` (from 18); `account.payment` `ref` (up to 17)
//! or `memo` (from 18); `analytic_distribution` keys of one
//! account (16) or of one account per plan joined by commas (from 17); `hr.expense`
//! `total_amount` (16) or `total_amount_currency` (from 17); milestone quantities as a
//! `quantity_percentage` (up to 17) or a `product_uom_qty` (from 18); sale order locking by the
//! `done` state (16) or the `locked` flag (from 17); project status `done` (from 17, archived
//! before); payment states `posted` (up to 17) or `paid`/`in_process` (from 18). Odoo 20 takes
//! 19's names: no rename of these fields was found in its public sources (read, not run).
//!
//! # Example
//!
//! ```
//! use odoo_connect_canonical::{Address, Client, Currency};
//! use odoo_connect_flows::mapping::{MappingContext, client};
//! use odoo_connect_client::ServerVersion;
//!
//! let address = Address::new(vec!["1 Main Street".into()], "Springfield", "US".parse()?);
//! let acme = Client::new("acme".parse()?, "ACME Inc.", "US".parse()?, address, Currency::USD, "firm-us".parse()?);
//!
//! let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
//! ctx.companies.insert("firm-us".parse()?, 1);
//! ctx.countries.insert("US".parse()?, 233);
//! let mapped = client::to_odoo(&acme, &ctx)?;
//! assert_eq!(mapped.values.name.as_deref(), Some("ACME Inc."));
//! assert_eq!(mapped.to_values().get("country_id"), Some(&233.into()));
//! // No payment term or pricelist was resolved: reported, not dropped.
//! let paths: Vec<&str> = mapped.unsupported.iter().map(|u| u.path.as_str()).collect();
//! assert_eq!(paths, ["currency", "payment_terms"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};

use odoo_connect_canonical::{Currency, ExternalRefs};
use odoo_connect_client::{Many2one, ModelValues, RecordId, ServerVersion, Values, models};

mod context;
mod error;

pub mod client;
pub mod contract;
pub mod expense;
pub mod invoice;
pub mod legal_entity;
pub mod payment;
pub mod project;
pub mod time;

pub use context::{IdMap, LinePart, MappingContext, SaleLineRef};
pub use error::MappingError;

/// The name of Odoo in [`ExternalRefs`]: canonical documents read from Odoo carry
/// `{"system": "odoo", "id": "<model>,<id>"}`.
pub const ODOO_SYSTEM: &str = "odoo";

/// A canonical field that the target Odoo version cannot hold, and what was done instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UnsupportedField {
    /// The canonical field (`billing_lines[1].not_to_exceed`).
    pub path: String,
    /// Why it is not held, and what the values do instead.
    pub reason: String,
}

impl UnsupportedField {
    /// A report for `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> UnsupportedField {
        UnsupportedField {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// The Odoo values of a canonical document, and the canonical fields they do not hold.
///
/// The values are typed (`V` is one of the [`models`]' values
/// types, such as [`PartnerValues`](odoo_connect_client::models::PartnerValues)), for the
/// server version they were mapped for; [`Mapped::to_values`] gives them as an untyped map
/// under that version's field names.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Mapped<V = Values> {
    /// The values for `create` or `write`.
    pub values: V,
    /// Canonical fields the values do not hold, sorted by path.
    pub unsupported: Vec<UnsupportedField>,
    /// The server version the values were mapped for.
    pub version: ServerVersion,
}

impl<V> Mapped<V> {
    /// Values with nothing left out.
    pub fn new(values: V, version: ServerVersion) -> Mapped<V> {
        Mapped {
            values,
            unsupported: Vec::new(),
            version,
        }
    }

    /// Whether every canonical field is held.
    pub fn is_complete(&self) -> bool {
        self.unsupported.is_empty()
    }

    /// The values, dropping the reports.
    pub fn into_values(self) -> V {
        self.values
    }

    fn finish(
        values: V,
        mut unsupported: Vec<UnsupportedField>,
        version: &ServerVersion,
    ) -> Mapped<V> {
        unsupported.sort_by(|a, b| a.path.cmp(&b.path));
        Mapped {
            values,
            unsupported,
            version: version.clone(),
        }
    }
}

impl<V: ModelValues> Mapped<V> {
    /// The values as an untyped map, under the field names of [`Mapped::version`].
    pub fn to_values(&self) -> Values {
        self.values.to_values(&self.version)
    }
}

/// The values a [`Mapped`] can hold: the typed values of the shipped models and, where no typed
/// values exist (`hr.expense`), an untyped [`Values`] map. Sealed: implemented here only.
pub trait AsValues: sealed::Sealed {
    /// The values as the JSON map a server of `version` receives.
    fn as_values(&self, version: &ServerVersion) -> Values;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for Values {}
impl AsValues for Values {
    fn as_values(&self, _: &ServerVersion) -> Values {
        self.clone()
    }
}

macro_rules! typed_as_values {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl AsValues for $t {
            fn as_values(&self, version: &ServerVersion) -> Values {
                self.to_values(version)
            }
        }
    )*};
}

typed_as_values!(
    models::PartnerValues,
    models::CompanyValues,
    models::SaleOrderValues,
    models::ProductValues,
    models::ProjectValues,
    models::MilestoneValues,
    models::TimesheetValues,
    models::PaymentValues
);

/// `{"values": {...}, "unsupported": [...]}`: the values as Odoo receives them on
/// [`Mapped::version`].
impl<V> Serialize for Mapped<V>
where
    V: AsValues,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("Mapped", 2)?;
        st.serialize_field("values", &self.values.as_values(&self.version))?;
        st.serialize_field("unsupported", &self.unsupported)?;
        st.end()
    }
}

/// `"<model>,<id>"`: the id of an Odoo record in [`ExternalRefs`].
///
/// ```
/// use odoo_connect_flows::mapping::{odoo_ref, odoo_id};
/// use odoo_connect_canonical::ExternalRefs;
/// use odoo_connect_client::RecordId;
/// assert_eq!(odoo_ref("res.partner", RecordId(42)), "res.partner,42");
/// let refs = ExternalRefs::new().with("odoo", "res.partner,42");
/// assert_eq!(odoo_id(&refs, "res.partner"), Some(RecordId(42)));
/// assert_eq!(odoo_id(&refs, "res.company"), None);
/// ```
pub fn odoo_ref(model: &str, id: RecordId) -> String {
    format!("{model},{id}")
}

/// The id of the `model` record a canonical document has in Odoo, from its references.
pub fn odoo_id(refs: &ExternalRefs, model: &str) -> Option<RecordId> {
    refs.in_system(ODOO_SYSTEM).find_map(|r| {
        let (m, id) = r.split_once(',')?;
        (m == model).then(|| id.parse().ok().map(RecordId))?
    })
}

/// The analytic distribution that puts 100 % on `accounts`, as this version writes it.
///
/// Odoo 16 keys a distribution by one account (`{"12": 100}`; several keys split the amount);
/// from 17 a key combines one account per plan (`{"12,34": 100}`). On 16 only the first account
/// is kept and the others are returned as not held.
///
/// ```
/// use odoo_connect_flows::mapping::analytic_distribution;
/// use odoo_connect_client::{RecordId, ServerVersion};
/// let accounts = [RecordId(12), RecordId(34)];
/// let (v17, dropped) = analytic_distribution(&accounts, &ServerVersion::new(17, 0));
/// assert_eq!(v17, Some(serde_json::json!({"12,34": 100})));
/// assert!(dropped.is_empty());
/// let (v16, dropped) = analytic_distribution(&accounts, &ServerVersion::new(16, 0));
/// assert_eq!(v16, Some(serde_json::json!({"12": 100})));
/// assert_eq!(dropped, [RecordId(34)]);
/// ```
pub fn analytic_distribution(
    accounts: &[RecordId],
    version: &ServerVersion,
) -> (Option<Value>, Vec<RecordId>) {
    let Some(first) = accounts.first() else {
        return (None, Vec::new());
    };
    let (key, dropped) = if version.major >= 17 {
        let ids: Vec<String> = accounts.iter().map(RecordId::to_string).collect();
        (ids.join(","), Vec::new())
    } else {
        (first.to_string(), accounts[1..].to_vec())
    };
    let mut map = Map::new();
    map.insert(key, Value::from(100));
    (Some(Value::Object(map)), dropped)
}

/// Field names that changed between versions.
pub(crate) mod fields {
    use odoo_connect_client::ServerVersion;

    /// `account.payment` reference: `memo` from 18, `ref` up to 17.
    pub(crate) fn payment_memo(v: &ServerVersion) -> &'static str {
        if v.major >= 18 { "memo" } else { "ref" }
    }

    /// `hr.expense` total in the expense currency: `total_amount_currency` from 17,
    /// `total_amount` in 16.
    pub(crate) fn expense_total(v: &ServerVersion) -> &'static str {
        if v.major >= 17 {
            "total_amount_currency"
        } else {
            "total_amount"
        }
    }
}

/// A key derived from an Odoo id, for records the context does not know: `odoo:<model>:<id>`.
pub(crate) fn derived_key<K: FromStr>(model: &str, id: RecordId) -> Result<K, MappingError>
where
    K::Err: std::fmt::Display,
{
    let text = format!("odoo:{model}:{id}");
    text.parse()
        .map_err(|e: K::Err| MappingError::invalid(model.to_owned(), e.to_string()))
}

/// The key of a related record: the context's, or one derived from its id.
pub(crate) fn key_or_derived<K>(
    map: &IdMap<K>,
    model: &str,
    id: RecordId,
) -> Result<K, MappingError>
where
    K: FromStr + Clone + Eq + std::hash::Hash,
    K::Err: std::fmt::Display,
{
    match map.key(id) {
        Some(k) => Ok(k.clone()),
        None => derived_key(model, id),
    }
}

/// References holding the Odoo id of a record read back.
pub(crate) fn refs_with_odoo(model: &str, id: RecordId) -> ExternalRefs {
    ExternalRefs::new().with(ODOO_SYSTEM, odoo_ref(model, id))
}

/// The currency of a many2one to `res.currency`: the context's, or its display name as an ISO
/// code (Odoo names currencies by their code).
pub(crate) fn currency_of(
    m2o: Option<&Many2one>,
    ctx: &MappingContext,
    path: &str,
) -> Result<Currency, MappingError> {
    let Some(m) = m2o else {
        return ctx
            .default_currency
            .ok_or_else(|| MappingError::MissingField {
                path: path.to_owned(),
            });
    };
    if let Some(c) = ctx.currencies.key(m.id) {
        return Ok(*c);
    }
    match m.name.as_deref().map(Currency::from_code) {
        Some(Ok(c)) => Ok(c),
        _ => Err(MappingError::UnknownId {
            path: path.to_owned(),
            model: "res.currency",
            id: m.id,
        }),
    }
}

/// `a × b`, or an error naming `path` when it overflows.
pub(crate) fn checked_mul(
    a: rust_decimal::Decimal,
    b: rust_decimal::Decimal,
    path: &str,
) -> Result<rust_decimal::Decimal, MappingError> {
    a.checked_mul(b)
        .ok_or_else(|| MappingError::invalid(path.to_owned(), "the amount overflows"))
}

/// A text value, or `false` to clear the field.
pub(crate) fn text(value: Option<&str>) -> Option<Option<String>> {
    Some(value.map(str::to_owned))
}

/// The legal entity of a many2one to `res.company`: the context's key, a derived one, or the
/// context's default when the record names no company.
pub(crate) fn legal_entity_of(
    m2o: Option<&Many2one>,
    ctx: &MappingContext,
    model: &str,
) -> Result<odoo_connect_canonical::LegalEntityKey, MappingError> {
    match m2o {
        Some(c) => key_or_derived(&ctx.companies, "res.company", c.id),
        None => ctx
            .default_legal_entity
            .clone()
            .ok_or_else(|| MappingError::missing_field(model, "company_id")),
    }
}

/// The unknown-selection error for a selection enum's `Other` value.
pub(crate) fn other_selection(model: &str, field: &str, value: &str) -> MappingError {
    MappingError::unknown_selection(model, field, value)
}

#[cfg(test)]
mod version_names {
    use super::fields;
    use odoo_connect_client::models::{
        PaymentValues, ProductValues, ProjectValues, SaleOrderLineValues,
    };
    use odoo_connect_client::{ModelValues, RecordId, ServerVersion};

    #[test]
    fn twenty_keeps_the_names_of_nineteen() {
        let names = |v: &ServerVersion| {
            let mut product = ProductValues::new();
            product.product_type = Some(odoo_connect_client::models::product::ProductType::Service);
            let mut line = SaleOrderLineValues::new();
            line.product_uom_id = Some(RecordId(1));
            line.tax_ids = vec![odoo_connect_client::Command::set([RecordId(2)])];
            let mut project = ProjectValues::new();
            project.account_id = Some(RecordId(3));
            let mut payment = PaymentValues::new();
            payment.memo = Some("INV/1".into());
            let mut names: Vec<&str> = Vec::new();
            names.extend(product.field_values(v).iter().map(|(n, _)| *n));
            names.extend(line.field_values(v).iter().map(|(n, _)| *n));
            names.extend(project.field_values(v).iter().map(|(n, _)| *n));
            names.extend(payment.field_values(v).iter().map(|(n, _)| *n));
            names.push(fields::payment_memo(v));
            names.push(fields::expense_total(v));
            names
        };
        let nineteen = names(&ServerVersion::new(19, 0));
        assert_eq!(
            nineteen,
            [
                "type",
                "product_uom_id",
                "tax_ids",
                "account_id",
                "memo",
                "memo",
                "total_amount_currency"
            ]
        );
        assert_eq!(names(&ServerVersion::new(20, 0)), nineteen);
        assert_eq!(
            names(&ServerVersion::parse("saas~19.4").unwrap_or(ServerVersion::new(19, 4))),
            nineteen
        );
        assert_eq!(
            names(&ServerVersion::new(18, 0)),
            [
                "type",
                "product_uom",
                "tax_id",
                "account_id",
                "memo",
                "memo",
                "total_amount_currency"
            ]
        );
        assert_eq!(
            names(&ServerVersion::new(17, 0)),
            [
                "detailed_type",
                "product_uom",
                "tax_id",
                "analytic_account_id",
                "ref",
                "ref",
                "total_amount_currency"
            ]
        );
    }
}
