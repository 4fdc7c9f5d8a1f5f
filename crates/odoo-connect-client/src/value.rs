//! Odoo's value conventions, hidden behind types.
//!
//! Odoo sends `false` for every empty value, whatever the field type; many2one fields as
//! `[id, "display name"]` (or a bare id with `load=None`, or `{id, display_name}` from `web_read`);
//! x2many fields as id lists and, on writes, as command lists; dates as `YYYY-MM-DD` and
//! datetimes as naive UTC `YYYY-MM-DD HH:MM:SS`; monetary amounts as JSON floats.
//!
//! This module turns those into Rust types: `false` becomes `None` at the type boundary
//! ([`opt`]), many2one becomes [`Many2one`], x2many writes become [`Command`]s, dates and
//! datetimes become `chrono` types ([`date`], [`datetime`]) and amounts become
//! [`rust_decimal::Decimal`] decoded from the JSON number's text, never through `f64`
//! ([`decimal`]).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The id of an Odoo record (`i64`, as Odoo's ids are PostgreSQL integers that may grow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub i64);

impl RecordId {
    /// Wraps a raw id.
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw id.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<i64> for RecordId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl From<RecordId> for i64 {
    fn from(id: RecordId) -> Self {
        id.0
    }
}

impl From<RecordId> for Value {
    fn from(id: RecordId) -> Self {
        Value::from(id.0)
    }
}

/// A many2one value: the id of the related record and, when Odoo sent it, its display name.
///
/// Decodes from every shape Odoo uses: `[id, "name"]` (`read`, `search_read`), a bare id
/// (`read` with `load=None`) and `{"id": .., "display_name": ..}` (`web_read`). An empty
/// many2one is `false`: read it as `Option<Many2one>` with [`opt`].
/// It serialises as the bare id, which is what `create` and `write` expect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Many2one {
    /// The related record's id.
    pub id: RecordId,
    /// The related record's display name, when the server sent it.
    pub name: Option<String>,
}

impl Many2one {
    /// A many2one pointing at `id`, without a display name.
    pub fn new(id: impl Into<RecordId>) -> Self {
        Self {
            id: id.into(),
            name: None,
        }
    }

    /// The display name, or `""` when the server did not send one.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

impl Serialize for Many2one {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.id.0)
    }
}

impl<'de> Deserialize<'de> for Many2one {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct M2oVisitor;
        impl<'de> Visitor<'de> for M2oVisitor {
            type Value = Many2one;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a many2one: [id, name], an id or {id, display_name}")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Many2one, E> {
                Ok(Many2one::new(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Many2one, E> {
                i64::try_from(v)
                    .map(Many2one::new)
                    .map_err(|_| E::custom("record id out of range"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Many2one, A::Error> {
                let id: i64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let name: Option<NameOrFalse> = seq.next_element()?;
                // Tolerate (and drop) anything after the name rather than fail a whole read.
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Many2one {
                    id: RecordId(id),
                    name: name.and_then(|n| n.0),
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Many2one, A::Error> {
                let mut id = None;
                let mut name = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "id" => id = Some(map.next_value::<i64>()?),
                        "display_name" | "name" => {
                            name = map.next_value::<NameOrFalse>()?.0;
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
                Ok(Many2one {
                    id: RecordId(id),
                    name,
                })
            }
        }
        deserializer.deserialize_any(M2oVisitor)
    }
}

/// A string that Odoo may send as `false`.
struct NameOrFalse(Option<String>);

impl<'de> Deserialize<'de> for NameOrFalse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        opt::deserialize(deserializer).map(NameOrFalse)
    }
}

/// An x2many write command (`one2many` and `many2many` fields).
///
/// Serialises to Odoo's command triples: `[0, 0, vals]` create, `[1, id, vals]` update,
/// `[2, id, 0]` delete, `[3, id, 0]` unlink, `[4, id, 0]` link, `[5, 0, 0]` clear,
/// `[6, 0, ids]` set.
///
/// ```
/// use odoo_connect_client::{Command, RecordId};
/// let cmds = vec![Command::link(7), Command::set([4, 5]), Command::create(serde_json::json!({"name": "x"}))];
/// assert_eq!(
///     serde_json::to_value(&cmds).unwrap(),
///     serde_json::json!([[4, 7, 0], [6, 0, [4, 5]], [0, 0, {"name": "x"}]])
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Create a new record with these values and link it.
    Create(Map<String, Value>),
    /// Update the linked record `id` with these values.
    Update(RecordId, Map<String, Value>),
    /// Remove the record `id` from the relation and delete it from the database.
    Delete(RecordId),
    /// Remove the record `id` from the relation; the record itself stays.
    Unlink(RecordId),
    /// Add the existing record `id` to the relation.
    Link(RecordId),
    /// Remove every record from the relation (the records stay).
    Clear,
    /// Replace the relation with exactly these records.
    Set(Vec<RecordId>),
}

impl Command {
    /// `[0, 0, vals]`. Values that are not a JSON object are sent as an empty object.
    pub fn create(vals: impl Into<Value>) -> Self {
        Command::Create(into_map(vals.into()))
    }
    /// `[1, id, vals]`.
    pub fn update(id: impl Into<RecordId>, vals: impl Into<Value>) -> Self {
        Command::Update(id.into(), into_map(vals.into()))
    }
    /// `[2, id, 0]`.
    pub fn delete(id: impl Into<RecordId>) -> Self {
        Command::Delete(id.into())
    }
    /// `[3, id, 0]`.
    pub fn unlink(id: impl Into<RecordId>) -> Self {
        Command::Unlink(id.into())
    }
    /// `[4, id, 0]`.
    pub fn link(id: impl Into<RecordId>) -> Self {
        Command::Link(id.into())
    }
    /// `[5, 0, 0]`.
    pub fn clear() -> Self {
        Command::Clear
    }
    /// `[6, 0, ids]`.
    pub fn set<I, T>(ids: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<RecordId>,
    {
        Command::Set(ids.into_iter().map(Into::into).collect())
    }

    /// The command as the JSON value Odoo expects.
    pub fn to_value(&self) -> Value {
        match self {
            Command::Create(v) => Value::Array(vec![0.into(), 0.into(), Value::Object(v.clone())]),
            Command::Update(id, v) => {
                Value::Array(vec![1.into(), id.0.into(), Value::Object(v.clone())])
            }
            Command::Delete(id) => Value::Array(vec![2.into(), id.0.into(), 0.into()]),
            Command::Unlink(id) => Value::Array(vec![3.into(), id.0.into(), 0.into()]),
            Command::Link(id) => Value::Array(vec![4.into(), id.0.into(), 0.into()]),
            Command::Clear => Value::Array(vec![5.into(), 0.into(), 0.into()]),
            Command::Set(ids) => Value::Array(vec![
                6.into(),
                0.into(),
                Value::Array(ids.iter().map(|i| Value::from(i.0)).collect()),
            ]),
        }
    }
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(3))?;
        match self {
            Command::Create(v) => {
                seq.serialize_element(&0)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(v)?;
            }
            Command::Update(id, v) => {
                seq.serialize_element(&1)?;
                seq.serialize_element(&id.0)?;
                seq.serialize_element(v)?;
            }
            Command::Delete(id) | Command::Unlink(id) | Command::Link(id) => {
                let code = match self {
                    Command::Delete(_) => 2,
                    Command::Unlink(_) => 3,
                    _ => 4,
                };
                seq.serialize_element(&code)?;
                seq.serialize_element(&id.0)?;
                seq.serialize_element(&0)?;
            }
            Command::Clear => {
                seq.serialize_element(&5)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(&0)?;
            }
            Command::Set(ids) => {
                seq.serialize_element(&6)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(ids)?;
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items: Vec<Value> = Vec::deserialize(deserializer)?;
        let code = items
            .first()
            .and_then(Value::as_i64)
            .ok_or_else(|| de::Error::custom("x2many command: missing command code"))?;
        let id = || {
            items
                .get(1)
                .and_then(Value::as_i64)
                .map(RecordId)
                .ok_or_else(|| de::Error::custom("x2many command: missing record id"))
        };
        let vals = || match items.get(2) {
            Some(Value::Object(m)) => Ok(m.clone()),
            _ => Err(de::Error::custom("x2many command: missing values")),
        };
        Ok(match code {
            0 => Command::Create(vals()?),
            1 => Command::Update(id()?, vals()?),
            2 => Command::Delete(id()?),
            3 => Command::Unlink(id()?),
            4 => Command::Link(id()?),
            5 => Command::Clear,
            6 => Command::Set(match items.get(2) {
                Some(Value::Array(ids)) => ids
                    .iter()
                    .map(|v| {
                        v.as_i64()
                            .map(RecordId)
                            .ok_or_else(|| de::Error::custom("x2many set: ids must be integers"))
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(de::Error::custom("x2many set: missing id list")),
            }),
            other => {
                return Err(de::Error::custom(format_args!(
                    "unknown x2many command code {other}"
                )));
            }
        })
    }
}

/// `false` (or `null`, or a missing key with `#[serde(default)]`) as `None`, anything else as `Some(T)`.
///
/// Use it on every optional field of a model: `#[serde(default, with = "odoo_connect_client::value::opt")]`.
/// It does not buffer the value, so it composes with every `T` whose `Deserialize` accepts the
/// JSON form (strings, numbers, lists, objects, [`Many2one`]).
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Partner {
///     #[serde(default, with = "odoo_connect_client::value::opt")]
///     email: Option<String>,
/// }
/// let p: Partner = serde_json::from_str(r#"{"email": false}"#).unwrap();
/// assert_eq!(p.email, None);
/// ```
pub mod opt {
    use super::*;

    /// Deserialises `false`/`null` as `None`.
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        deserializer.deserialize_any(FalseOr(std::marker::PhantomData))
    }

    /// Serialises `None` as `false`, which is how Odoo clears a field on `write`.
    pub fn serialize<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        match value {
            Some(v) => v.serialize(serializer),
            None => serializer.serialize_bool(false),
        }
    }

    struct FalseOr<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for FalseOr<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            if v {
                T::deserialize(v.into_deserializer()).map(Some)
            } else {
                Ok(None)
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            deserialize(d)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            T::deserialize(de::value::StrDeserializer::<E>::new(v)).map(Some)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            T::deserialize(de::value::BorrowedStrDeserializer::<E>::new(v)).map(Some)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            T::deserialize(de::value::StringDeserializer::<E>::new(v)).map(Some)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Some)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
}

/// Monetary and other decimal amounts, decoded from the JSON number's text.
///
/// Odoo sends amounts as JSON floats (`4259.03`). This module reads the number's exact text
/// (through [`serde_json::value::RawValue`]) and parses it as a [`Decimal`], so no amount ever
/// passes through `f64` on the way in. It also accepts a decimal string (`"4259.03"`).
///
/// ```
/// use rust_decimal::Decimal;
/// #[derive(serde::Deserialize)]
/// struct Line {
///     #[serde(with = "odoo_connect_client::value::decimal")]
///     price_unit: Decimal,
///     #[serde(default, with = "odoo_connect_client::value::decimal::option")]
///     discount: Option<Decimal>,
/// }
/// let l: Line = serde_json::from_str(r#"{"price_unit": 1234.5, "discount": false}"#).unwrap();
/// assert_eq!(l.price_unit.to_string(), "1234.5");
/// assert_eq!(l.discount, None);
/// ```
pub mod decimal {
    use super::*;

    /// Deserialises an amount; `false` is refused (use [`option`] for optional amounts).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        option::deserialize(deserializer)?
            .ok_or_else(|| de::Error::custom("expected an amount, found false"))
    }

    /// Serialises an amount as a JSON number (Odoo parses it as a Python float).
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(to_f64(value))
    }

    /// Optional amounts: `false` or `null` is `None`.
    pub mod option {
        use super::*;

        /// Deserialises `false`/`null` as `None` and a number as its exact decimal value.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Decimal>, D::Error> {
            let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
            parse_raw(raw.get()).map_err(de::Error::custom)
        }

        /// Serialises `None` as `false`.
        pub fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.serialize_f64(to_f64(v)),
                None => serializer.serialize_bool(false),
            }
        }
    }

    /// Parses the raw JSON text of an amount.
    pub(crate) fn parse_raw(text: &str) -> Result<Option<Decimal>, String> {
        let t = text.trim();
        match t {
            "false" | "null" => return Ok(None),
            _ => {}
        }
        let t = t
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(t);
        parse_decimal_text(t).map(Some)
    }

    /// Parses `1234.5`, `-0.0`, `1e+16` or `1.5E-3` as an exact decimal.
    pub fn parse_decimal_text(t: &str) -> Result<Decimal, String> {
        if t.contains(['e', 'E']) {
            Decimal::from_scientific(t).map_err(|e| format!("invalid amount `{t}`: {e}"))
        } else {
            Decimal::from_str_exact(t)
                .or_else(|_| Decimal::from_str(t))
                .map_err(|e| format!("invalid amount `{t}`: {e}"))
        }
    }

    fn to_f64(value: &Decimal) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        value.to_f64().unwrap_or(0.0)
    }
}

/// Reads a JSON value's amount exactly: numbers by their text, `false` as `None`.
///
/// For a [`serde_json::Value`] built from an Odoo reply; numbers in a `Value` are `f64` already,
/// and are converted through their shortest round-trip text (the same text Odoo printed).
pub fn decimal_from_value(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => decimal::parse_decimal_text(&n.to_string()).ok(),
        Value::String(s) => decimal::parse_decimal_text(s).ok(),
        _ => None,
    }
}

/// Odoo dates (`YYYY-MM-DD`) as [`chrono::NaiveDate`].
pub mod date {
    use super::*;
    use chrono::NaiveDate;

    /// The format Odoo uses for dates.
    pub const FORMAT: &str = "%Y-%m-%d";

    /// Deserialises `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        option::deserialize(deserializer)?
            .ok_or_else(|| de::Error::custom("expected a date, found false"))
    }

    /// Serialises as `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(value: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.format(FORMAT))
    }

    /// Optional dates: `false` is `None`.
    pub mod option {
        use super::*;

        /// Deserialises `false` as `None` and `YYYY-MM-DD` as a date.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<NaiveDate>, D::Error> {
            let s: Option<std::borrow::Cow<'de, str>> = opt::deserialize(deserializer)?;
            s.map(|s| {
                NaiveDate::parse_from_str(&s, FORMAT)
                    .map_err(|e| de::Error::custom(format_args!("invalid date `{s}`: {e}")))
            })
            .transpose()
        }

        /// Serialises `None` as `false`.
        pub fn serialize<S: Serializer>(
            value: &Option<NaiveDate>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.collect_str(&v.format(FORMAT)),
                None => serializer.serialize_bool(false),
            }
        }
    }
}

/// Odoo datetimes (naive UTC `YYYY-MM-DD HH:MM:SS`) as [`chrono::DateTime<Utc>`](chrono::DateTime).
///
/// The `tz` key of the context never changes how Odoo sends datetimes: they are always UTC.
pub mod datetime {
    use super::*;
    use chrono::{DateTime, NaiveDateTime, Utc};

    /// The format Odoo uses for datetimes.
    pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

    /// Parses Odoo's datetime text (fractional seconds tolerated).
    pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
        NaiveDateTime::parse_from_str(s, FORMAT)
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
            .map(|n| n.and_utc())
            .map_err(|e| format!("invalid datetime `{s}`: {e}"))
    }

    /// Formats a datetime the way Odoo expects it.
    pub fn format(value: &DateTime<Utc>) -> String {
        value.format(FORMAT).to_string()
    }

    /// Deserialises `YYYY-MM-DD HH:MM:SS` (UTC).
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        option::deserialize(deserializer)?
            .ok_or_else(|| de::Error::custom("expected a datetime, found false"))
    }

    /// Serialises as `YYYY-MM-DD HH:MM:SS` (UTC).
    pub fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.format(FORMAT))
    }

    /// Optional datetimes: `false` is `None`.
    pub mod option {
        use super::*;

        /// Deserialises `false` as `None`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let s: Option<std::borrow::Cow<'de, str>> = opt::deserialize(deserializer)?;
            s.map(|s| parse(&s).map_err(de::Error::custom)).transpose()
        }

        /// Serialises `None` as `false`.
        pub fn serialize<S: Serializer>(
            value: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.collect_str(&v.format(FORMAT)),
                None => serializer.serialize_bool(false),
            }
        }
    }
}

/// Binary fields: base64 text in JSON, bytes in Rust; `false` when empty.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Binary(pub Vec<u8>);

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Binary({} bytes)", self.0.len())
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Binary)
            .map_err(|e| de::Error::custom(format_args!("invalid base64: {e}")))
    }
}

/// Defines a selection-field enum that keeps unknown values instead of failing.
///
/// Selection values change between Odoo versions (`sale.order.state` lost `done` in 17;
/// `account.payment.state` gained `in_process` in 18); a model that refused unknown values would
/// break an integration on upgrade. The generated enum has one variant per known value and an
/// `Other(String)` variant for the rest, serialises to and from the technical value, and offers
/// `as_str()`.
///
/// ```
/// odoo_connect_client::odoo_selection! {
///     /// Invoice payment state.
///     pub enum PaymentState {
///         /// Not paid.
///         NotPaid = "not_paid",
///         /// Paid.
///         Paid = "paid",
///     }
/// }
/// let s: PaymentState = serde_json::from_str("\"paid\"").unwrap();
/// assert_eq!(s, PaymentState::Paid);
/// let s: PaymentState = serde_json::from_str("\"blocked\"").unwrap();
/// assert_eq!(s.as_str(), "blocked");
/// ```
#[macro_export]
macro_rules! odoo_selection {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know (kept as sent).
            Other(::std::string::String),
        }

        impl $name {
            /// The technical value Odoo uses.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Other(s) => s.as_str(),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(match s {
                    $( $value => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::write::ToFieldValue for $name {
            fn to_field_value(
                &self,
                _: &$crate::ServerVersion,
            ) -> ::std::option::Option<$crate::write::FieldValue> {
                ::std::option::Option::Some($crate::write::FieldValue::Text(self.as_str().to_owned()))
            }
        }

        impl $crate::write::FieldType for $name {}

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(s.parse().unwrap_or_else(|never: ::std::convert::Infallible| match never {}))
            }
        }
    };
}

/// A values map for `create` and `write`, with setters that speak Odoo's conventions.
///
/// ```
/// use odoo_connect_client::{Values, Command};
/// let vals = Values::new()
///     .set("name", "Acme Consulting")
///     .set("is_company", true)
///     .many2one("country_id", Some(233))
///     .x2many("category_id", [Command::link(4)])
///     .clear("email");
/// assert_eq!(vals.get("email"), Some(&serde_json::Value::Bool(false)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Values(pub Map<String, Value>);

impl Values {
    /// An empty values map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field to any JSON-convertible value.
    pub fn set(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(field.into(), value.into());
        self
    }

    /// Sets a field to a serialisable value; values that cannot be serialised are skipped and
    /// reported as an error.
    pub fn try_set<T: Serialize>(
        mut self,
        field: impl Into<String>,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        self.0.insert(field.into(), serde_json::to_value(value)?);
        Ok(self)
    }

    /// Sets a many2one (`None` clears it with `false`).
    pub fn many2one(self, field: impl Into<String>, id: Option<impl Into<RecordId>>) -> Self {
        match id {
            Some(id) => self.set(field, id.into().0),
            None => self.set(field, false),
        }
    }

    /// Sets an x2many field with commands.
    pub fn x2many(
        self,
        field: impl Into<String>,
        commands: impl IntoIterator<Item = Command>,
    ) -> Self {
        let cmds: Vec<Value> = commands.into_iter().map(|c| c.to_value()).collect();
        self.set(field, Value::Array(cmds))
    }

    /// Sets a decimal amount (sent as a JSON number).
    pub fn decimal(self, field: impl Into<String>, amount: Decimal) -> Self {
        use rust_decimal::prelude::ToPrimitive;
        let v = amount
            .to_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Bool(false));
        self.set(field, v)
    }

    /// Sets a date (`YYYY-MM-DD`).
    pub fn date(self, field: impl Into<String>, d: chrono::NaiveDate) -> Self {
        self.set(field, d.format(date::FORMAT).to_string())
    }

    /// Sets a datetime (UTC `YYYY-MM-DD HH:MM:SS`).
    pub fn datetime(self, field: impl Into<String>, d: chrono::DateTime<chrono::Utc>) -> Self {
        self.set(field, datetime::format(&d))
    }

    /// Clears a field (Odoo's `false`).
    pub fn clear(self, field: impl Into<String>) -> Self {
        self.set(field, false)
    }

    /// Reads a value back.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values as a JSON object.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl From<Values> for Value {
    fn from(v: Values) -> Self {
        Value::Object(v.0)
    }
}

impl From<Map<String, Value>> for Values {
    fn from(m: Map<String, Value>) -> Self {
        Values(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Rec {
        #[serde(default, with = "opt")]
        parent_id: Option<Many2one>,
        #[serde(default, with = "opt")]
        email: Option<String>,
        #[serde(default, with = "opt")]
        child_ids: Option<Vec<RecordId>>,
        #[serde(default, with = "decimal::option")]
        amount: Option<Decimal>,
        #[serde(default, with = "date::option")]
        date: Option<chrono::NaiveDate>,
        #[serde(default, with = "datetime::option")]
        write_date: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(default, with = "opt")]
        image: Option<Binary>,
    }

    #[test]
    fn false_is_none_for_every_type() {
        let r: Rec = serde_json::from_str(
            r#"{"parent_id": false, "email": false, "child_ids": false, "amount": false,
                "date": false, "write_date": false, "image": false}"#,
        )
        .unwrap();
        assert!(r.parent_id.is_none() && r.email.is_none() && r.child_ids.is_none());
        assert!(r.amount.is_none() && r.date.is_none() && r.write_date.is_none());
        assert!(r.image.is_none());
        let r: Rec = serde_json::from_str("{}").unwrap();
        assert!(r.parent_id.is_none());
    }

    #[test]
    fn many2one_shapes() {
        for (text, name) in [
            (r#"[9, "Azure Interior"]"#, Some("Azure Interior")),
            ("9", None),
            (
                r#"{"id": 9, "display_name": "Azure Interior"}"#,
                Some("Azure Interior"),
            ),
            (r#"[9, false]"#, None),
        ] {
            let m: Many2one = serde_json::from_str(text).unwrap();
            assert_eq!(m.id, RecordId(9));
            assert_eq!(m.name.as_deref(), name);
        }
        assert!(serde_json::from_str::<Many2one>("\"x\"").is_err());
        assert_eq!(serde_json::to_string(&Many2one::new(3)).unwrap(), "3");
    }

    #[test]
    fn amounts_keep_their_text() {
        let r: Rec = serde_json::from_str(r#"{"amount": 4259.03}"#).unwrap();
        assert_eq!(r.amount.unwrap().to_string(), "4259.03");
        let r: Rec = serde_json::from_str(r#"{"amount": 0.1}"#).unwrap();
        assert_eq!(r.amount.unwrap(), Decimal::new(1, 1));
        let r: Rec = serde_json::from_str(r#"{"amount": 1e+16}"#).unwrap();
        assert_eq!(r.amount.unwrap(), Decimal::from(10_000_000_000_000_000_i64));
        // More digits than an f64 holds survive exactly.
        let r: Rec = serde_json::from_str(r#"{"amount": 12345678901234567.89}"#).unwrap();
        assert_eq!(r.amount.unwrap().to_string(), "12345678901234567.89");
        // From a Value too.
        let r: Rec = serde_json::from_value(json!({"amount": 3703.5})).unwrap();
        assert_eq!(r.amount.unwrap().to_string(), "3703.5");
        assert!(serde_json::from_str::<Rec>(r#"{"amount": "abc"}"#).is_err());
    }

    #[test]
    fn dates_and_datetimes_are_utc_text() {
        let r: Rec =
            serde_json::from_str(r#"{"date": "2026-11-23", "write_date": "2026-11-23 10:15:00"}"#)
                .unwrap();
        assert_eq!(r.date.unwrap().to_string(), "2026-11-23");
        assert_eq!(
            datetime::format(&r.write_date.unwrap()),
            "2026-11-23 10:15:00"
        );
        assert!(serde_json::from_str::<Rec>(r#"{"date": "23/11/2026"}"#).is_err());
    }

    #[test]
    fn binary_is_base64() {
        let r: Rec = serde_json::from_str(r#"{"image": "aGVsbG8="}"#).unwrap();
        assert_eq!(r.image.unwrap().0, b"hello");
        assert!(serde_json::from_str::<Rec>(r#"{"image": "***"}"#).is_err());
    }

    #[test]
    fn commands_round_trip() {
        let cmds = vec![
            Command::create(json!({"name": "a"})),
            Command::update(3, json!({"name": "b"})),
            Command::delete(4),
            Command::unlink(5),
            Command::link(6),
            Command::clear(),
            Command::set([1, 2]),
        ];
        let v = serde_json::to_value(&cmds).unwrap();
        assert_eq!(
            v,
            json!([[0,0,{"name":"a"}],[1,3,{"name":"b"}],[2,4,0],[3,5,0],[4,6,0],[5,0,0],[6,0,[1,2]]])
        );
        let back: Vec<Command> = serde_json::from_value(v).unwrap();
        assert_eq!(back, cmds);
        for c in &cmds {
            assert_eq!(c.to_value(), serde_json::to_value(c).unwrap());
        }
        assert!(serde_json::from_value::<Command>(json!([9, 0, 0])).is_err());
    }

    #[test]
    fn records_ids_list() {
        let r: Rec = serde_json::from_str(r#"{"child_ids": [1, 2, 3]}"#).unwrap();
        assert_eq!(
            r.child_ids.unwrap(),
            vec![RecordId(1), RecordId(2), RecordId(3)]
        );
    }
}
