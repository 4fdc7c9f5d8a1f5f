//! Stable keys: the checked text of a key, and the [`LegalEntityKey`] every layer shares.
//!
//! A key is 1 to [`MAX_KEY_LEN`] characters from `A-Z a-z 0-9 . _ - : / @ +` ([`check_key`]). It is
//! checked when made and when read from JSON, where it is a plain string, so a value of a key type
//! is always valid. The canonical model (`odoo-connect-canonical`) makes its other keys
//! (`ClientKey`, `ContractKey`, ...) with the same rules and the same [`KeyError`].
//!
//! ```
//! use odoo_connect_core::key::{KeyError, LegalEntityKey};
//!
//! let key: LegalEntityKey = "firm-eu".parse()?;
//! assert_eq!(key.as_str(), "firm-eu");
//! assert_eq!(serde_json::to_string(&key)?, r#""firm-eu""#);
//! assert_eq!(LegalEntityKey::new(""), Err(KeyError::Empty));
//! assert!(serde_json::from_str::<LegalEntityKey>(r#""firm eu""#).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 128;

/// The rule of [`check_key`] as a regular expression, as the JSON Schemas of keys write it.
pub const KEY_PATTERN: &str = r"^[A-Za-z0-9._:/@+-]{1,128}$";

/// Why a text was refused as a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is empty.
    #[error("a key cannot be empty")]
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    #[error("a key has at most {MAX_KEY_LEN} characters, this one has {len}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The key holds a character outside `A-Z a-z 0-9 . _ - : / @ +`.
    #[error(
        "character {ch:?} at {position} is not allowed in a key (use A-Z a-z 0-9 . _ - : / @ +)"
    )]
    InvalidChar {
        /// The character.
        ch: char,
        /// Its byte position.
        position: usize,
    },
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'/' | b'@' | b'+')
}

/// Checks the text of a key: 1 to 128 characters from `A-Z a-z 0-9 . _ - : / @ +`.
pub fn check_key(text: &str) -> Result<(), KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong { len: text.len() });
    }
    match text.bytes().position(|b| !is_key_byte(b)) {
        None => Ok(()),
        Some(position) => Err(KeyError::InvalidChar {
            ch: text[position..].chars().next().unwrap_or('?'),
            position,
        }),
    }
}

/// Makes a key type: a `String` newtype checked with [`check_key`], with `new`, `as_str`,
/// `into_string`, `Debug`, `Display`, `FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `AsRef<str>`,
/// `Borrow<str>`, and serde as a plain string checked when read.
///
/// Not a public API: it lets the canonical model make its keys exactly as this crate makes
/// [`LegalEntityKey`]. Its JSON Schema is left to the crate that calls it.
#[doc(hidden)]
#[macro_export]
macro_rules! __key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// A stable canonical key: 1 to 128 characters from `A-Z a-z 0-9 . _ - : / @ +`, checked when
        /// made or read from JSON (where it is a plain string). It never changes once given, so other
        /// systems' records and idempotency keys can be derived from it.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(::std::string::String);

        impl $name {
            /// Makes a key, checking its text.
            pub fn new(
                text: impl ::std::convert::Into<::std::string::String>,
            ) -> ::std::result::Result<Self, $crate::key::KeyError> {
                let text = text.into();
                $crate::key::check_key(&text)?;
                ::std::result::Result::Ok(Self(text))
            }

            /// The key's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The key's text, owned.
            pub fn into_string(self) -> ::std::string::String {
                self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::write!(f, "{}({:?})", ::std::stringify!($name), self.0)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::key::KeyError;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $crate::key::KeyError;
            fn try_from(s: &str) -> ::std::result::Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl ::std::convert::TryFrom<::std::string::String> for $name {
            type Error = $crate::key::KeyError;
            fn try_from(s: ::std::string::String) -> ::std::result::Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                Self::new(text).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

__key_type!(
    /// The key of a legal entity: the firm's company a record belongs to (one Odoo company).
    ///
    /// Every message ([`Envelope::legal_entity`](crate::envelope::Envelope::legal_entity)), route
    /// and checkpoint names its legal entity with this type, and the canonical model's
    /// `LegalEntity` is keyed by it (`odoo_connect_canonical::LegalEntityKey` is this type).
    LegalEntityKey
);

#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
impl schemars::JsonSchema for LegalEntityKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LegalEntityKey".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A stable canonical key (LegalEntityKey).",
            "type": "string",
            "pattern": KEY_PATTERN
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(LegalEntityKey::new("firm-eu").is_ok());
        assert!(LegalEntityKey::new("jane.doe@firm.example").is_ok());
        assert_eq!(LegalEntityKey::new(""), Err(KeyError::Empty));
        assert_eq!(
            LegalEntityKey::new("a".repeat(129)),
            Err(KeyError::TooLong { len: 129 })
        );
        assert!(LegalEntityKey::new("a".repeat(128)).is_ok());
        assert_eq!(
            LegalEntityKey::new("firm eu"),
            Err(KeyError::InvalidChar {
                ch: ' ',
                position: 4
            })
        );
        assert!(matches!(
            LegalEntityKey::new("é"),
            Err(KeyError::InvalidChar { ch: 'é', .. })
        ));
    }

    #[test]
    fn keys_are_plain_strings_in_json_and_checked_when_read() {
        let key = LegalEntityKey::new("firm-eu").unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), r#""firm-eu""#);
        assert_eq!(
            serde_json::from_str::<LegalEntityKey>(r#""firm-eu""#).unwrap(),
            key
        );
        assert!(serde_json::from_str::<LegalEntityKey>(r#""firm eu""#).is_err());
        assert!(serde_json::from_str::<LegalEntityKey>(r#""""#).is_err());
        assert_eq!(format!("{key:?}"), r#"LegalEntityKey("firm-eu")"#);
        assert_eq!(key.to_string(), "firm-eu");
        let borrowed: &str = std::borrow::Borrow::borrow(&key);
        assert_eq!(borrowed, "firm-eu");
    }
}
