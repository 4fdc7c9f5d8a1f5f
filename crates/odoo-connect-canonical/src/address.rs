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

    /// The country a free-text name stands for, as CRMs and exports write it: an alpha-2 or
    /// alpha-3 code in any case (`"no"`, `"NOR"`), an English name or alias (`"Norway"`, `"United
    /// States"`, `"USA"`, `"The Netherlands"`, `"UK"`), or a common name in the country's own
    /// language (`"Deutschland"`, `"Österreich"`, `"España"`). Case, spaces, punctuation and accents
    /// do not matter. `None` when the text names no country (hold the record for a person to fix).
    ///
    /// Names and codes come from ISO 3166-1 as the `celes` crate keeps it, with a table of
    /// endonyms on top.
    ///
    /// ```
    /// use odoo_connect_canonical::CountryCode;
    /// assert_eq!(CountryCode::from_name("Norway").map(|c| c.to_string()), Some("NO".into()));
    /// assert_eq!(CountryCode::from_name("United States").map(|c| c.to_string()), Some("US".into()));
    /// assert_eq!(CountryCode::from_name("Deutschland").map(|c| c.to_string()), Some("DE".into()));
    /// assert_eq!(CountryCode::from_name("fra").map(|c| c.to_string()), Some("FR".into()));
    /// assert_eq!(CountryCode::from_name("Atlantis"), None);
    /// ```
    pub fn from_name(text: &str) -> Option<CountryCode> {
        let key = fold(text);
        if key.is_empty() {
            return None;
        }
        let key = key
            .strip_prefix("the")
            .filter(|k| k.len() > 3)
            .unwrap_or(&key);
        let found = match key.len() {
            2 => celes::Country::from_alpha2(key).ok(),
            3 => celes::Country::from_alpha3(key)
                .ok()
                .or_else(|| celes::Country::from_alias(key).ok()),
            _ => None,
        }
        .or_else(|| celes::Country::from_name(key).ok())
        .or_else(|| celes::Country::from_alias(key).ok())
        .map(|c| c.alpha2)
        .or_else(|| {
            ENDONYMS
                .iter()
                .find(|(name, _)| *name == key)
                .map(|(_, code)| *code)
        })?;
        CountryCode::new(&found.to_ascii_uppercase()).ok()
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

/// Country names in their own languages (folded as [`fold`] does) that English tables lack.
const ENDONYMS: &[(&str, &str)] = &[
    ("deutschland", "de"),
    ("bundesrepublikdeutschland", "de"),
    ("osterreich", "at"),
    ("schweiz", "ch"),
    ("suisse", "ch"),
    ("svizzera", "ch"),
    ("espana", "es"),
    ("italia", "it"),
    ("nederland", "nl"),
    ("belgie", "be"),
    ("belgique", "be"),
    ("luxemburg", "lu"),
    ("danmark", "dk"),
    ("norge", "no"),
    ("noreg", "no"),
    ("sverige", "se"),
    ("suomi", "fi"),
    ("island", "is"),
    ("eire", "ie"),
    ("polska", "pl"),
    ("cesko", "cz"),
    ("ceskarepublika", "cz"),
    ("slovensko", "sk"),
    ("magyarorszag", "hu"),
    ("hrvatska", "hr"),
    ("slovenija", "si"),
    ("romania", "ro"),
    ("bulgaria", "bg"),
    ("ellada", "gr"),
    ("hellas", "gr"),
    ("turkiye", "tr"),
    ("portugal", "pt"),
    ("brasil", "br"),
    ("mexico", "mx"),
    ("peru", "pe"),
    ("argentina", "ar"),
    ("nippon", "jp"),
    ("nihon", "jp"),
    ("zhongguo", "cn"),
    ("bharat", "in"),
    ("eesti", "ee"),
    ("latvija", "lv"),
    ("lietuva", "lt"),
    ("england", "gb"),
    ("scotland", "gb"),
    ("wales", "gb"),
    ("greatbritain", "gb"),
    ("uk", "gb"),
    ("unitedstates", "us"),
    ("us", "us"),
    ("uae", "ae"),
    ("southkorea", "kr"),
    ("korea", "kr"),
    ("russia", "ru"),
    ("czechia", "cz"),
    ("czechrepublic", "cz"),
    ("vietnam", "vn"),
    ("ivorycoast", "ci"),
];

/// Lower-case ASCII letters and digits only, Latin accents folded (`"Österreich"` is
/// `"osterreich"`, `"United States"` is `"unitedstates"`).
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.trim().chars().flat_map(char::to_lowercase) {
        let base = match ch {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ł' => 'l',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' | 'ș' => 's',
            'ť' | 'ţ' | 'ț' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            'æ' => {
                out.push_str("ae");
                continue;
            }
            c if c.is_ascii_alphanumeric() => c,
            _ => continue,
        };
        out.push(base);
    }
    out
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

#[cfg(test)]
mod name_tests {
    use super::CountryCode;

    fn code(text: &str) -> Option<String> {
        CountryCode::from_name(text).map(|c| c.to_string())
    }

    #[test]
    fn names_as_crms_write_them() {
        for (text, expected) in [
            ("Norway", "NO"),
            ("norway ", "NO"),
            ("United States", "US"),
            ("United States of America", "US"),
            ("USA", "US"),
            ("U.S.A.", "US"),
            ("US", "US"),
            ("Deutschland", "DE"),
            ("Germany", "DE"),
            ("DEU", "DE"),
            ("Österreich", "AT"),
            ("España", "ES"),
            ("The Netherlands", "NL"),
            ("Holland", "NL"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("Great Britain", "GB"),
            ("Schweiz", "CH"),
            ("Switzerland", "CH"),
            ("Côte d'Ivoire", "CI"),
            ("fr", "FR"),
            ("Türkiye", "TR"),
        ] {
            assert_eq!(code(text).as_deref(), Some(expected), "{text}");
        }
        for text in ["", "  ", "Atlantis", "Narnia", "ZZ", "123", "the"] {
            assert_eq!(code(text), None, "{text}");
        }
    }
}
