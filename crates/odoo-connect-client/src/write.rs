//! Typed writes: the values of a `create` or `write` as a struct of one model.
//!
//! [`Values`] is a map of field names to JSON, for any model. A struct that implements
//! [`ModelValues`] says instead which model it writes ([`ModelValues::Record`], the
//! [`Model`] read back), which fields it sets, and the Odoo kind of each value ([`FieldValue`]):
//! a many2one is a [`RecordId`], an amount or a quantity a [`Decimal`], a date a
//! [`NaiveDate`]. A field left `None` is not written. The field names follow the server's version,
//! as [`Model`] does for reads: `#[odoo(since = 19, formerly = "product_uom")]` writes
//! `product_uom` to Odoo 18 and `product_uom_id` to Odoo 19.
//!
//! Derive it with `#[derive(ModelValues)]`, or use the shipped types of
//! [`models`](crate::models) (`PartnerValues`, `SaleOrderValues`, `SaleOrderLineValues`,
//! `ProjectValues`, `MilestoneValues`, `TimesheetValues`, `ProductValues`):
//!
//! ```
//! use odoo_connect_client::{ModelValues, RecordId, ServerVersion};
//! use odoo_connect_client::models::{SaleOrderLine, SaleOrderLineValues};
//! use odoo_connect_client::write::FieldValue;
//! use rust_decimal::Decimal;
//!
//! let mut line = SaleOrderLineValues::new();
//! line.product_id = Some(RecordId(3));
//! line.product_uom_qty = Some(Decimal::new(15, 1)); // 1.5, exactly
//! line.product_uom_id = Some(RecordId(4));
//! let v19 = line.field_values(&ServerVersion::new(19, 0));
//! assert!(v19.contains(&("product_uom_id", FieldValue::Many2one(Some(RecordId(4))))));
//! let v18 = line.field_values(&ServerVersion::new(18, 0));
//! assert!(v18.contains(&("product_uom", FieldValue::Many2one(Some(RecordId(4))))));
//! assert!(!v18.iter().any(|(name, _)| *name == "name")); // not set, not written
//!
//! // A handle of the same model takes it; any other model's handle does not compile.
//! # async fn create(odoo: &odoo_connect_client::OdooClient, line: &SaleOrderLineValues)
//! # -> odoo_connect_client::Result<()> {
//! let id = odoo.model::<SaleOrderLine>().create_values(line).await?;
//! # let _ = id; Ok(()) }
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::model::Model;
use crate::value::{Command, Many2one, RecordId, Values, date, datetime};
use crate::version::ServerVersion;

/// One field's value in a write, by its Odoo kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A `char`, `text`, `html` or `selection` value.
    Text(String),
    /// An `integer`.
    Integer(i64),
    /// A `float` or `monetary` value, exactly.
    Decimal(Decimal),
    /// A `boolean`.
    Bool(bool),
    /// A `date`.
    Date(NaiveDate),
    /// A `datetime`, in UTC.
    Datetime(DateTime<Utc>),
    /// A `many2one` by database id; `None` empties it.
    Many2one(Option<RecordId>),
    /// A `one2many` or `many2many`, as commands.
    X2many(Vec<Command>),
    /// Empties a field of any other kind (Odoo's `false`).
    Clear,
}

impl FieldValue {
    /// The value as JSON for `create` and `write` (`false` for an empty many2one or
    /// [`FieldValue::Clear`], dates as Odoo's text, amounts as JSON numbers).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Text(s) => Value::String(s.clone()),
            FieldValue::Integer(i) => Value::from(*i),
            FieldValue::Decimal(d) => Values::new()
                .decimal("v", *d)
                .0
                .remove("v")
                .unwrap_or(Value::Bool(false)),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Date(d) => Value::String(d.format(date::FORMAT).to_string()),
            FieldValue::Datetime(d) => Value::String(d.format(datetime::FORMAT).to_string()),
            FieldValue::Many2one(Some(id)) => Value::from(id.0),
            FieldValue::Many2one(None) | FieldValue::Clear => Value::Bool(false),
            FieldValue::X2many(commands) => {
                Value::Array(commands.iter().map(Command::to_value).collect())
            }
        }
    }
}

/// A Rust value that can be written to an Odoo field; `None` means the field is not written.
///
/// Implemented for text, numbers, [`Decimal`], `bool`, dates, [`RecordId`] and [`Many2one`]
/// (many2one), `Vec<Command>` (x2many), selection enums made with
/// [`odoo_selection!`](crate::odoo_selection), nested [`ModelValues`] lists (created with the
/// record), [`FieldValue`] itself, and `Option` of any of them.
pub trait ToFieldValue {
    /// The value to write on a server of `version`, or `None` to leave the field out.
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue>;
}

impl<T: ToFieldValue + ?Sized> ToFieldValue for &T {
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue> {
        (**self).to_field_value(version)
    }
}

/// The type of a single field's value (not a list), which knows its empty value: written as
/// `Option<T>` (`None`: not written) or, for a field that a write may empty, `Option<Option<T>>`
/// (`Some(None)`: emptied).
pub trait FieldType: ToFieldValue {
    /// The value that empties a field of this type ([`FieldValue::Clear`] unless said otherwise).
    fn empty() -> FieldValue {
        FieldValue::Clear
    }
}

impl<T: FieldType> ToFieldValue for Option<T> {
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue> {
        self.as_ref().and_then(|v| v.to_field_value(version))
    }
}

/// `None`: not written; `Some(None)`: emptied; `Some(Some(v))`: set to `v`.
impl<T: FieldType> ToFieldValue for Option<Option<T>> {
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue> {
        match self {
            None => None,
            Some(None) => Some(T::empty()),
            Some(Some(v)) => v.to_field_value(version),
        }
    }
}

impl ToFieldValue for FieldValue {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(self.clone())
    }
}

impl ToFieldValue for str {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Text(self.to_owned()))
    }
}

impl ToFieldValue for String {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Text(self.clone()))
    }
}

impl FieldType for String {}
impl FieldType for bool {}
impl FieldType for Decimal {}
impl FieldType for NaiveDate {}
impl FieldType for DateTime<Utc> {}
impl FieldType for RecordId {
    fn empty() -> FieldValue {
        FieldValue::Many2one(None)
    }
}
impl FieldType for Many2one {
    fn empty() -> FieldValue {
        FieldValue::Many2one(None)
    }
}

impl ToFieldValue for bool {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Bool(*self))
    }
}

macro_rules! integer_values {
    ($($t:ty),*) => {$(
        impl ToFieldValue for $t {
            fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
                Some(FieldValue::Integer(i64::from(*self)))
            }
        }
        impl FieldType for $t {}
    )*};
}
integer_values!(i8, i16, i32, i64, u8, u16, u32);

impl ToFieldValue for Decimal {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Decimal(*self))
    }
}

impl ToFieldValue for NaiveDate {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Date(*self))
    }
}

impl ToFieldValue for DateTime<Utc> {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Datetime(*self))
    }
}

impl ToFieldValue for RecordId {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Many2one(Some(*self)))
    }
}

impl ToFieldValue for Many2one {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        Some(FieldValue::Many2one(Some(self.id)))
    }
}

/// Commands for an x2many field; an empty list writes nothing.
impl ToFieldValue for [Command] {
    fn to_field_value(&self, _: &ServerVersion) -> Option<FieldValue> {
        (!self.is_empty()).then(|| FieldValue::X2many(self.to_vec()))
    }
}

impl ToFieldValue for Vec<Command> {
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue> {
        self.as_slice().to_field_value(version)
    }
}

/// Records created with their parent (a one2many such as an order's lines): one
/// [`Command::Create`] each; an empty list writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create<V>(pub Vec<V>);

impl<V> Default for Create<V> {
    fn default() -> Self {
        Create(Vec::new())
    }
}

impl<V: ModelValues> ToFieldValue for Create<V> {
    fn to_field_value(&self, version: &ServerVersion) -> Option<FieldValue> {
        (!self.0.is_empty()).then(|| {
            FieldValue::X2many(
                self.0
                    .iter()
                    .map(|v| Command::Create(v.to_values(version).0))
                    .collect(),
            )
        })
    }
}

/// The typed values of a `create` or `write` of one model.
///
/// Derive it with `#[derive(ModelValues)]` and `#[odoo(record = TheModel)]`, where `TheModel`
/// is the [`Model`] type read back; field attributes `name`, `since`, `until`, `formerly` and
/// `skip` mean what they mean for `#[derive(Model)]`. See the [module](self) documentation.
pub trait ModelValues {
    /// The record type of the model written (its [`Model::MODEL`] names the model).
    type Record: Model;

    /// The fields set, with their values, under the names a server of `version` knows, in the
    /// order of the struct.
    fn field_values(&self, version: &ServerVersion) -> Vec<(&'static str, FieldValue)>;

    /// The same as an untyped [`Values`] map.
    fn to_values(&self, version: &ServerVersion) -> Values {
        let mut map = Map::new();
        for (name, value) in self.field_values(version) {
            map.insert(name.to_owned(), value.to_json());
        }
        Values(map)
    }
}

impl<V: ModelValues + ?Sized> ModelValues for &V {
    type Record = V::Record;

    fn field_values(&self, version: &ServerVersion) -> Vec<(&'static str, FieldValue)> {
        (**self).field_values(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{SaleOrderLineValues, SaleOrderValues};

    #[test]
    fn decimals_reach_json_without_binary_noise() {
        let v = FieldValue::Decimal(Decimal::new(3, 1)).to_json();
        assert_eq!(v.to_string(), "0.3");
        assert_eq!(FieldValue::Many2one(None).to_json(), Value::Bool(false));
        assert_eq!(
            FieldValue::Date(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default()).to_json(),
            Value::String("2026-03-01".into())
        );
    }

    #[test]
    fn nested_lines_become_create_commands_under_the_version_names() {
        let mut line = SaleOrderLineValues::new();
        line.name = Some("Design".into());
        line.product_uom_id = Some(RecordId(4));
        let mut order = SaleOrderValues::new();
        order.partner_id = Some(RecordId(7));
        order.order_line = Create(vec![line]);
        let v18 = order.to_values(&ServerVersion::new(18, 0));
        assert_eq!(v18.get("partner_id"), Some(&Value::from(7)));
        let lines = v18.get("order_line").cloned().unwrap_or_default();
        assert_eq!(lines[0][0], 0);
        assert_eq!(lines[0][2]["product_uom"], 4);
        assert_eq!(lines[0][2]["name"], "Design");
        let v19 = order.to_values(&ServerVersion::new(19, 0));
        assert_eq!(
            v19.get("order_line").cloned().unwrap_or_default()[0][2]["product_uom_id"],
            4
        );
        // Nothing set, nothing written.
        assert!(
            SaleOrderValues::new()
                .to_values(&ServerVersion::new(19, 0))
                .0
                .is_empty()
        );
    }
}
