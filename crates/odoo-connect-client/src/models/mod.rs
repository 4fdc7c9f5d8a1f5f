//! Typed records for the models of the contract-to-cash flow.
//!
//! One Rust type per Odoo model, each deriving [`Model`](super::Model): customers and
//! contacts ([`Partner`]), companies and currencies, users and employees, service products, sale
//! orders and their lines, projects, tasks and milestones, timesheets, invoices and their lines,
//! payments and journals. The fields each type reads, and the Odoo versions that have them, come
//! from its struct and its `#[odoo(...)]` attributes (see [`Model`](super::Model)).
//!
//! # Versions
//! The types read Odoo 16, 17, 18 and 19. [`Model::fields`](super::Model::fields) names, for the
//! server's version, only fields that version has; where Odoo renamed a field the type reads the
//! name the server knows and decodes both names into one Rust field (for instance
//! `sale.order.line.product_uom` up to 18 and `product_uom_id` from 19 into
//! [`SaleOrderLine::product_uom_id`]). A field that a version lacks decodes to `None`. Selection
//! fields are enums made with [`odoo_selection!`](crate::odoo_selection) that keep values
//! they do not know in an `Other` variant, so a new state in a future Odoo is never a decode
//! failure. An Odoo Online release `saas~X.Y` is read as `X.0`: a rename that reached Odoo
//! Online before the next major release is followed from that major release only.
//!
//! # Empty and missing values
//! Odoo sends `false` for an empty value of any type; these types decode it as `None` (or an
//! empty list for x2many fields). Apart from `id`, a field that the reply does not carry at all
//! (a `read` of fewer fields) decodes to its empty value too: `None`, an empty list, `false`,
//! zero for amounts and quantities, an empty string for a required name. Booleans are plain
//! `bool`, as Odoo's `false` is a value there.
//!
//! # Installed applications
//! The fields read assume the applications of the professional-services flow are installed:
//! `contacts`, `sale_management`, `sale_project`, `sale_timesheet`, `hr_timesheet`, `project`,
//! `hr` and `account`. On a database without one of them, define a smaller type of your own
//! (or generate one with [`codegen`](super::codegen)).
//!
//! # Building records
//! The types are `#[non_exhaustive]`, so that a field can be added when Odoo grows one. Build a
//! record with `new(id)`, which gives what a `read` that returned only the id decodes, and set
//! the fields you need:
//!
//! ```
//! use odoo_connect_client::{Many2one, RecordId, models::SaleOrderLine};
//! let mut line = SaleOrderLine::new(RecordId(8));
//! line.name = "Virtual Interior Design".to_owned();
//! line.product_id = Some(Many2one::new(3));
//! assert!(line.tax_ids.is_empty());
//! ```
//!
//! # Serialisation
//! The types also implement `Serialize`, producing the shape `read` returns with `load=None`:
//! many2one fields as bare ids, x2many fields as id lists, `None` as `false`. That shape decodes
//! back into the same record (less the many2one display names). It is not a `write` payload:
//! x2many fields are written with [`Command`](super::Command)s and computed fields are read-only;
//! build writes with the typed values of [`values`] (`PartnerValues`, `SaleOrderValues`, ...,
//! see [`write`](crate::write)), or with an untyped [`Values`](super::Values) map for a model or
//! field they do not cover.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use super::value::RecordId;

pub mod account;
pub mod company;
pub mod partner;
pub mod product;
pub mod project;
pub mod sale;
pub mod timesheet;
pub mod users;
pub mod values;

pub use account::{AccountMove, AccountMoveLine, Journal, Payment};
pub use company::{Company, Currency};
pub use partner::Partner;
pub use product::Product;
pub use project::{Milestone, Project, Task};
pub use sale::{SaleOrder, SaleOrderLine};
pub use timesheet::Timesheet;
pub use users::{Employee, User};
pub use values::{
    CompanyValues, InvoiceLineValues, InvoiceValues, MilestoneValues, PartnerValues, PaymentValues,
    ProductValues, ProjectValues, SaleOrderLineValues, SaleOrderValues, TimesheetValues,
};

/// x2many fields (`one2many`, `many2many`) as a list of ids; `false` or `null` is the empty list.
///
/// Each entry may be a bare id (`read`, `search_read`) or a record object with an `id` key
/// (`web_read` with a sub-specification); the other keys of such an object are dropped.
///
/// Use it with `#[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]`
/// on a `Vec<RecordId>`.
///
/// ```
/// use odoo_connect_client::RecordId;
/// #[derive(serde::Deserialize)]
/// struct Order {
///     #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
///     order_line: Vec<RecordId>,
/// }
/// let o: Order = serde_json::from_str(r#"{"order_line": [8, 9]}"#).unwrap();
/// assert_eq!(o.order_line, vec![RecordId(8), RecordId(9)]);
/// let o: Order = serde_json::from_str(r#"{"order_line": false}"#).unwrap();
/// assert!(o.order_line.is_empty());
/// ```
pub mod x2many {
    use super::*;

    /// Deserialises an id list; `false` and `null` give an empty list.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<RecordId>, D::Error> {
        deserializer.deserialize_any(IdsVisitor)
    }

    struct IdsVisitor;

    impl<'de> Visitor<'de> for IdsVisitor {
        type Value = Vec<RecordId>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of record ids or false")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            if v {
                Err(E::invalid_value(de::Unexpected::Bool(true), &self))
            } else {
                Ok(Vec::new())
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            deserialize(d)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut ids = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(IdEntry(id)) = seq.next_element::<IdEntry>()? {
                ids.push(id);
            }
            Ok(ids)
        }
    }

    /// One entry of an id list: a bare id, or a record object with an `id` key (`web_read`).
    struct IdEntry(RecordId);

    impl<'de> serde::Deserialize<'de> for IdEntry {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(IdEntryVisitor)
        }
    }

    struct IdEntryVisitor;

    impl<'de> Visitor<'de> for IdEntryVisitor {
        type Value = IdEntry;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a record id or a record with an id")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdEntry, E> {
            Ok(IdEntry(RecordId(v)))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdEntry, E> {
            i64::try_from(v)
                .map(|v| IdEntry(RecordId(v)))
                .map_err(|_| E::custom("record id out of range"))
        }

        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<IdEntry, A::Error> {
            let mut id = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "id" {
                    id = Some(map.next_value::<i64>()?);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            id.map(|id| IdEntry(RecordId(id)))
                .ok_or_else(|| de::Error::missing_field("id"))
        }
    }
}

/// Fields that are a date in some Odoo versions and a datetime in others, as a UTC datetime.
///
/// `project.task.date_deadline` is a date up to Odoo 16 and a datetime from 17: this reads
/// `YYYY-MM-DD` as midnight UTC and `YYYY-MM-DD HH:MM:SS` as is; `false` is `None`. It
/// serialises as a datetime.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Task {
///     #[serde(default, with = "odoo_connect_client::models::date_or_datetime")]
///     date_deadline: Option<chrono::DateTime<chrono::Utc>>,
/// }
/// let t: Task = serde_json::from_str(r#"{"date_deadline": "2026-11-24"}"#).unwrap();
/// assert_eq!(t.date_deadline.unwrap().to_string(), "2026-11-24 00:00:00 UTC");
/// let t: Task = serde_json::from_str(r#"{"date_deadline": "2026-11-24 09:30:00"}"#).unwrap();
/// assert_eq!(t.date_deadline.unwrap().to_string(), "2026-11-24 09:30:00 UTC");
/// let t: Task = serde_json::from_str(r#"{"date_deadline": false}"#).unwrap();
/// assert!(t.date_deadline.is_none());
/// ```
pub mod date_or_datetime {
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::{Deserializer, Serializer, de};

    use crate::value::{date, datetime, opt};

    /// Deserialises a date or a datetime; `false` is `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<std::borrow::Cow<'de, str>> = opt::deserialize(deserializer)?;
        s.map(|s| parse(&s).map_err(de::Error::custom)).transpose()
    }

    /// Serialises as an Odoo datetime; `None` as `false`.
    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        datetime::option::serialize(value, serializer)
    }

    fn parse(s: &str) -> Result<DateTime<Utc>, String> {
        if s.len() == 10 {
            NaiveDate::parse_from_str(s, date::FORMAT)
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                .map_err(|e| format!("invalid date `{s}`: {e}"))
        } else {
            datetime::parse(s)
        }
    }
}

/// `true`, for `#[serde(default = ...)]` on `active` fields (a record not read as archived is active).
pub(crate) fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldSpec;
    use crate::version::ServerVersion;

    fn select(fields: &[FieldSpec], version: &ServerVersion) -> Vec<&'static str> {
        FieldSpec::select(fields, version)
    }

    #[test]
    fn field_specs_follow_the_version() {
        const F: &[FieldSpec] = &[
            FieldSpec::all("id"),
            FieldSpec::since(19, "tax_ids"),
            FieldSpec::until(18, "tax_id"),
            FieldSpec::until(17, "detailed_type"),
        ];
        assert_eq!(select(F, &ServerVersion::new(19, 0)), vec!["id", "tax_ids"]);
        assert_eq!(select(F, &ServerVersion::new(18, 0)), vec!["id", "tax_id"]);
        assert_eq!(
            select(F, &ServerVersion::new(17, 0)),
            vec!["id", "tax_id", "detailed_type"]
        );
        assert_eq!(select(F, &ServerVersion::new(20, 0)), vec!["id", "tax_ids"]);
    }

    #[test]
    fn x2many_tolerates_false() {
        #[derive(serde::Deserialize)]
        struct R {
            #[serde(default, deserialize_with = "x2many::deserialize")]
            ids: Vec<RecordId>,
        }
        let r: R = serde_json::from_str(r#"{"ids": [1, 2]}"#).unwrap();
        assert_eq!(r.ids, vec![RecordId(1), RecordId(2)]);
        let r: R = serde_json::from_str(r#"{"ids": false}"#).unwrap();
        assert!(r.ids.is_empty());
        let r: R = serde_json::from_str(r#"{"ids": null}"#).unwrap();
        assert!(r.ids.is_empty());
        let r: R = serde_json::from_str("{}").unwrap();
        assert!(r.ids.is_empty());
        let r: R = serde_json::from_value(serde_json::json!({"ids": [3]})).unwrap();
        assert_eq!(r.ids, vec![RecordId(3)]);
        let r: R =
            serde_json::from_str(r#"{"ids": [{"id": 36, "name": "Addison Olson"}, {"id": 20}]}"#)
                .unwrap();
        assert_eq!(r.ids, vec![RecordId(36), RecordId(20)]);
        assert!(serde_json::from_str::<R>(r#"{"ids": [{"name": "x"}]}"#).is_err());
        assert!(serde_json::from_str::<R>(r#"{"ids": true}"#).is_err());
        assert!(serde_json::from_str::<R>(r#"{"ids": ["a"]}"#).is_err());
    }
}

/// The field lists the models kept by hand before `#[derive(Model)]` read them from the structs:
/// the derived [`Model::fields`](super::Model::fields) must give the same names, in the same
/// order, for every version.
#[cfg(test)]
mod hand_kept_field_lists {
    use super::*;
    use crate::model::Model;
    use crate::version::ServerVersion;

    /// A field of a hand-kept list: its name and the first and last Odoo major versions that
    /// have it.
    type Spec = (&'static str, u32, u32);

    const fn all(name: &'static str) -> Spec {
        (name, 0, u32::MAX)
    }

    const fn since(major: u32, name: &'static str) -> Spec {
        (name, major, u32::MAX)
    }

    const fn until(major: u32, name: &'static str) -> Spec {
        (name, 0, major)
    }

    /// `Partner` before `#[derive(Model)]` (copied from its hand-kept list).
    const PARTNER: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("is_company"),
        all("type"),
        all("email"),
        all("phone"),
        until(18, "mobile"),
        all("vat"),
        all("ref"),
        all("street"),
        all("street2"),
        all("city"),
        all("zip"),
        all("state_id"),
        all("country_id"),
        all("parent_id"),
        all("commercial_partner_id"),
        all("company_id"),
        all("child_ids"),
        all("category_id"),
        all("customer_rank"),
        all("supplier_rank"),
        all("property_payment_term_id"),
        all("lang"),
        all("active"),
        all("write_date"),
    ];

    /// `Company` before `#[derive(Model)]` (copied from its hand-kept list).
    const COMPANY: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("partner_id"),
        all("currency_id"),
        all("parent_id"),
        all("country_id"),
        all("vat"),
        all("company_registry"),
        all("email"),
        all("phone"),
        all("street"),
        all("city"),
        all("zip"),
        all("website"),
        all("active"),
        all("write_date"),
    ];

    /// `Currency` before `#[derive(Model)]` (copied from its hand-kept list).
    const CURRENCY: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("full_name"),
        all("symbol"),
        all("rounding"),
        all("decimal_places"),
        all("position"),
        all("rate"),
        all("currency_unit_label"),
        all("currency_subunit_label"),
        all("active"),
        all("write_date"),
    ];

    /// `Product` before `#[derive(Model)]` (copied from its hand-kept list).
    const PRODUCT: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("default_code"),
        all("barcode"),
        all("type"),
        until(17, "detailed_type"),
        all("service_tracking"),
        all("invoice_policy"),
        all("service_policy"),
        all("service_type"),
        all("list_price"),
        all("lst_price"),
        all("standard_price"),
        all("currency_id"),
        all("uom_id"),
        all("taxes_id"),
        all("categ_id"),
        all("product_tmpl_id"),
        all("project_id"),
        all("project_template_id"),
        all("sale_ok"),
        all("purchase_ok"),
        all("company_id"),
        all("active"),
        all("write_date"),
    ];

    /// `Project` before `#[derive(Model)]` (copied from its hand-kept list).
    const PROJECT: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("partner_id"),
        since(18, "account_id"),
        until(17, "analytic_account_id"),
        all("sale_line_id"),
        all("sale_order_id"),
        all("allow_billable"),
        all("allow_timesheets"),
        all("allow_milestones"),
        all("company_id"),
        all("user_id"),
        all("date_start"),
        all("date"),
        all("privacy_visibility"),
        all("last_update_status"),
        all("task_count"),
        all("active"),
        all("write_date"),
    ];

    /// `Task` before `#[derive(Model)]` (copied from its hand-kept list).
    const TASK: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("project_id"),
        all("parent_id"),
        all("user_ids"),
        all("stage_id"),
        since(17, "state"),
        all("priority"),
        all("sale_line_id"),
        all("sale_order_id"),
        all("partner_id"),
        all("milestone_id"),
        since(17, "allocated_hours"),
        until(16, "planned_hours"),
        all("effective_hours"),
        all("remaining_hours"),
        all("date_deadline"),
        all("tag_ids"),
        all("company_id"),
        all("active"),
        all("write_date"),
    ];

    /// `Milestone` before `#[derive(Model)]` (copied from its hand-kept list).
    const MILESTONE: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("project_id"),
        all("deadline"),
        all("is_reached"),
        all("reached_date"),
        all("sale_line_id"),
        all("quantity_percentage"),
        since(18, "product_uom_qty"),
        all("write_date"),
    ];

    /// `SaleOrder` before `#[derive(Model)]` (copied from its hand-kept list).
    const SALE_ORDER: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("state"),
        since(17, "locked"),
        all("partner_id"),
        all("partner_invoice_id"),
        all("partner_shipping_id"),
        all("client_order_ref"),
        all("origin"),
        all("date_order"),
        all("validity_date"),
        all("commitment_date"),
        all("currency_id"),
        all("pricelist_id"),
        all("payment_term_id"),
        all("amount_untaxed"),
        all("amount_tax"),
        all("amount_total"),
        all("order_line"),
        all("invoice_status"),
        all("invoice_ids"),
        all("project_ids"),
        all("project_id"),
        all("company_id"),
        all("user_id"),
        all("team_id"),
        all("write_date"),
    ];

    /// `SaleOrderLine` before `#[derive(Model)]` (copied from its hand-kept list).
    const SALE_ORDER_LINE: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("order_id"),
        all("sequence"),
        all("display_type"),
        all("name"),
        all("product_id"),
        all("product_uom_qty"),
        since(19, "product_uom_id"),
        until(18, "product_uom"),
        all("qty_delivered"),
        all("qty_delivered_method"),
        all("qty_invoiced"),
        all("qty_to_invoice"),
        all("price_unit"),
        all("discount"),
        all("price_subtotal"),
        all("price_tax"),
        all("price_total"),
        since(19, "tax_ids"),
        until(18, "tax_id"),
        all("currency_id"),
        all("invoice_status"),
        all("untaxed_amount_invoiced"),
        all("untaxed_amount_to_invoice"),
        all("state"),
        all("is_service"),
        all("is_downpayment"),
        all("project_id"),
        all("task_id"),
        since(18, "reached_milestones_ids"),
        all("analytic_distribution"),
        all("order_partner_id"),
        all("company_id"),
        all("write_date"),
    ];

    /// `Timesheet` before `#[derive(Model)]` (copied from its hand-kept list).
    const TIMESHEET: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("date"),
        all("employee_id"),
        all("user_id"),
        all("project_id"),
        all("task_id"),
        all("unit_amount"),
        all("product_uom_id"),
        all("amount"),
        all("currency_id"),
        all("so_line"),
        all("timesheet_invoice_type"),
        all("timesheet_invoice_id"),
        all("partner_id"),
        all("account_id"),
        all("company_id"),
        all("write_date"),
    ];

    /// `User` before `#[derive(Model)]` (copied from its hand-kept list).
    const USER: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("login"),
        all("email"),
        all("partner_id"),
        all("company_id"),
        all("company_ids"),
        all("share"),
        all("active"),
        all("write_date"),
    ];

    /// `Employee` before `#[derive(Model)]` (copied from its hand-kept list).
    const EMPLOYEE: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("job_title"),
        all("work_email"),
        all("work_phone"),
        all("department_id"),
        all("parent_id"),
        all("coach_id"),
        all("user_id"),
        since(17, "work_contact_id"),
        all("company_id"),
        all("hourly_cost"),
        all("resource_calendar_id"),
        all("active"),
        all("write_date"),
    ];

    /// `AccountMove` before `#[derive(Model)]` (copied from its hand-kept list).
    const ACCOUNT_MOVE: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("move_type"),
        all("state"),
        all("payment_state"),
        all("partner_id"),
        all("commercial_partner_id"),
        all("invoice_date"),
        all("invoice_date_due"),
        all("date"),
        all("currency_id"),
        all("amount_untaxed"),
        all("amount_tax"),
        all("amount_total"),
        all("amount_residual"),
        all("amount_total_signed"),
        all("amount_residual_signed"),
        all("invoice_origin"),
        all("ref"),
        all("payment_reference"),
        all("line_ids"),
        all("invoice_line_ids"),
        all("journal_id"),
        all("company_id"),
        all("invoice_payment_term_id"),
        all("invoice_user_id"),
        all("reversed_entry_id"),
        since(18, "matched_payment_ids"),
        all("write_date"),
    ];

    /// `AccountMoveLine` before `#[derive(Model)]` (copied from its hand-kept list).
    const ACCOUNT_MOVE_LINE: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("move_id"),
        all("move_name"),
        all("name"),
        all("display_type"),
        all("parent_state"),
        all("date"),
        all("date_maturity"),
        all("partner_id"),
        all("product_id"),
        all("account_id"),
        all("journal_id"),
        all("company_id"),
        all("currency_id"),
        all("quantity"),
        all("product_uom_id"),
        all("price_unit"),
        all("discount"),
        all("price_subtotal"),
        all("price_total"),
        all("debit"),
        all("credit"),
        all("balance"),
        all("amount_currency"),
        all("amount_residual"),
        all("tax_ids"),
        all("tax_line_id"),
        all("sale_line_ids"),
        all("analytic_distribution"),
        all("reconciled"),
        all("matching_number"),
        all("write_date"),
    ];

    /// `Payment` before `#[derive(Model)]` (copied from its hand-kept list).
    const PAYMENT: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("amount"),
        all("date"),
        since(18, "memo"),
        until(17, "ref"),
        all("state"),
        all("payment_type"),
        all("partner_type"),
        all("partner_id"),
        all("journal_id"),
        all("currency_id"),
        all("company_id"),
        all("payment_method_line_id"),
        all("is_reconciled"),
        all("is_matched"),
        all("reconciled_invoice_ids"),
        all("move_id"),
        all("write_date"),
    ];

    /// `Journal` before `#[derive(Model)]` (copied from its hand-kept list).
    const JOURNAL: &[Spec] = &[
        all("id"),
        all("display_name"),
        all("name"),
        all("code"),
        all("type"),
        all("company_id"),
        all("currency_id"),
        all("default_account_id"),
        all("sequence"),
        all("active"),
        all("write_date"),
    ];

    fn check<T: Model>(list: &[Spec]) {
        for major in 14..=20 {
            let expected: Vec<&str> = list
                .iter()
                .filter(|(_, since, until)| (*since..=*until).contains(&major))
                .map(|(name, _, _)| *name)
                .collect();
            assert_eq!(
                T::fields(&ServerVersion::new(major, 0)),
                expected,
                "{} on Odoo {major}.0",
                T::MODEL
            );
        }
    }

    #[test]
    fn derived_fields_are_the_hand_kept_lists() {
        check::<Partner>(PARTNER);
        check::<Company>(COMPANY);
        check::<Currency>(CURRENCY);
        check::<Product>(PRODUCT);
        check::<Project>(PROJECT);
        check::<Task>(TASK);
        check::<Milestone>(MILESTONE);
        check::<SaleOrder>(SALE_ORDER);
        check::<SaleOrderLine>(SALE_ORDER_LINE);
        check::<Timesheet>(TIMESHEET);
        check::<User>(USER);
        check::<Employee>(EMPLOYEE);
        check::<AccountMove>(ACCOUNT_MOVE);
        check::<AccountMoveLine>(ACCOUNT_MOVE_LINE);
        check::<Payment>(PAYMENT);
        check::<Journal>(JOURNAL);
    }
}

/// `new(id)` of each model builds what a `read` that returned only the id decodes.
#[cfg(test)]
mod constructors {
    use super::*;

    macro_rules! new_is_a_read_of_the_id_only {
        ($($test:ident: $model:ident,)+) => {$(
            #[test]
            fn $test() {
                for id in [1, 42, i64::MAX] {
                    let decoded: $model =
                        serde_json::from_value(serde_json::json!({"id": id})).unwrap();
                    assert_eq!($model::new(RecordId(id)), decoded);
                }
            }
        )+};
    }

    new_is_a_read_of_the_id_only! {
        partner: Partner,
        company: Company,
        currency: Currency,
        product: Product,
        project: Project,
        task: Task,
        milestone: Milestone,
        sale_order: SaleOrder,
        sale_order_line: SaleOrderLine,
        timesheet: Timesheet,
        user: User,
        employee: Employee,
        account_move: AccountMove,
        account_move_line: AccountMoveLine,
        payment: Payment,
        journal: Journal,
    }

    #[test]
    fn active_records_are_active() {
        assert!(Partner::new(RecordId(1)).active);
        assert!(Journal::new(RecordId(1)).active);
        assert!(!SaleOrder::new(RecordId(1)).locked);
    }
}
