//! Typed records for the models of the contract-to-cash flow.
//!
//! One Rust type per Odoo model, each implementing [`Model`](super::Model): customers and
//! contacts ([`Partner`]), companies and currencies, users and employees, service products, sale
//! orders and their lines, projects, tasks and milestones, timesheets, invoices and their lines,
//! payments and journals.
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
//! # Serialisation
//! The types also implement `Serialize`, producing the shape `read` returns with `load=None`:
//! many2one fields as bare ids, x2many fields as id lists, `None` as `false`. That shape decodes
//! back into the same record (less the many2one display names). It is not a `write` payload:
//! x2many fields are written with [`Command`](super::Command)s and computed fields are read-only;
//! build writes with [`Values`](super::Values).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use super::value::RecordId;
use super::version::ServerVersion;

pub mod account;
pub mod company;
pub mod partner;
pub mod product;
pub mod project;
pub mod sale;
pub mod timesheet;
pub mod users;

pub use account::{AccountMove, AccountMoveLine, Journal, Payment};
pub use company::{Company, Currency};
pub use partner::Partner;
pub use product::Product;
pub use project::{Milestone, Project, Task};
pub use sale::{SaleOrder, SaleOrderLine};
pub use timesheet::Timesheet;
pub use users::{Employee, User};

/// x2many fields (`one2many`, `many2many`) as a list of ids; `false` or `null` is the empty list.
///
/// Each entry may be a bare id (`read`, `search_read`) or a record object with an `id` key
/// (`web_read` with a sub-specification); the other keys of such an object are dropped.
///
/// Use it with `#[serde(default, deserialize_with = "odoo_connect::odoo::models::x2many::deserialize")]`
/// on a `Vec<RecordId>`.
///
/// ```
/// use odoo_connect::odoo::RecordId;
/// #[derive(serde::Deserialize)]
/// struct Order {
///     #[serde(default, deserialize_with = "odoo_connect::odoo::models::x2many::deserialize")]
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
///     #[serde(default, with = "odoo_connect::odoo::models::date_or_datetime")]
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

    use crate::odoo::value::{date, datetime, opt};

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

/// A field to read, with the Odoo major versions that have it (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSpec {
    name: &'static str,
    since: u32,
    until: u32,
}

impl FieldSpec {
    /// A field every supported version has.
    pub(crate) const fn all(name: &'static str) -> Self {
        FieldSpec {
            name,
            since: 0,
            until: u32::MAX,
        }
    }

    /// A field that appeared in `major`.
    pub(crate) const fn since(major: u32, name: &'static str) -> Self {
        FieldSpec {
            name,
            since: major,
            until: u32::MAX,
        }
    }

    /// A field that was removed or renamed after `major` (the last version that has it).
    pub(crate) const fn until(major: u32, name: &'static str) -> Self {
        FieldSpec {
            name,
            since: 0,
            until: major,
        }
    }

    fn applies(&self, version: &ServerVersion) -> bool {
        (self.since..=self.until).contains(&version.major)
    }
}

/// The names of the fields a server of this version has.
pub(crate) fn select(fields: &[FieldSpec], version: &ServerVersion) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|f| f.applies(version))
        .map(|f| f.name)
        .collect()
}

/// `true`, for `#[serde(default = ...)]` on `active` fields (a record not read as archived is active).
pub(crate) fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

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
