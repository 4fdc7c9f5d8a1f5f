//! Countries and postal addresses.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::validate::{Checker, ProblemCode};

/// An ISO 3166-1 alpha-2 country code, such as `"FR"`. In JSON: the code as a string.
///
/// Only the form is checked (two upper-case ASCII letters), so that a country added to the standard
/// does not need a new release.
///
/// ```
/// use odoo_connect_canonical::CountryCode;
///
/// let be: CountryCode = "BE".parse()?;
/// assert_eq!(be.as_str(), "BE");
/// assert!("be".parse::<CountryCode>().is_err());
/// # Ok::<(), odoo_connect_canonical::CountryCodeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

/// Why a text was refused as a country code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 3166-1 alpha-2 country code (two upper-case letters)")]
#[non_exhaustive]
pub struct CountryCodeError(pub String);

impl CountryCode {
    /// Checks and makes a country code.
    pub fn new(code: &str) -> Result<CountryCode, CountryCodeError> {
        let b = code.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(CountryCode([b[0], b[1]]))
        } else {
            Err(CountryCodeError(code.to_owned()))
        }
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = CountryCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CountryCode::new(s)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        CountryCode::new(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for CountryCode {
    fn schema_name() -> Cow<'static, str> {
        "CountryCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "ISO 3166-1 alpha-2 country code.",
            "type": "string",
            "pattern": "^[A-Z]{2}$"
        })
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Address {
    /// Street lines, first to last (one or two usually).
    pub lines: Vec<String>,
    /// City or town.
    pub city: String,
    /// Postal code, when the country has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// State, province or region, when relevant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Country.
    pub country: CountryCode,
}

impl Address {
    /// An address with street lines, city and country.
    pub fn new(lines: Vec<String>, city: impl Into<String>, country: CountryCode) -> Address {
        Address {
            lines,
            city: city.into(),
            postal_code: None,
            region: None,
            country,
        }
    }

    pub(crate) fn check(&self, c: &mut Checker) {
        if self.lines.is_empty() {
            c.report_at(
                "lines",
                ProblemCode::Required,
                "needs at least one street line",
            );
        }
        if self.lines.len() > 4 {
            c.report_at("lines", ProblemCode::TooLong, "at most 4 street lines");
        }
        c.each("lines", &self.lines, |c, line| {
            if line.trim().is_empty() {
                c.report(ProblemCode::Required, "must not be blank");
            } else if line.chars().count() > 128 {
                c.report(ProblemCode::TooLong, "at most 128 characters");
            }
        });
        c.text("city", &self.city, 128);
        if let Some(p) = &self.postal_code {
            c.text("postal_code", p, 16);
        }
        if let Some(r) = &self.region {
            c.text("region", r, 64);
        }
    }
}
