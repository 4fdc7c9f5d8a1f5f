//! The version of the canonical JSON form, and the JSON Schemas exported for each type.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of the canonical JSON form this build writes and reads.
///
/// Every top-level canonical document carries it as `"schema_version": 1`. The whole canonical model is
/// versioned together: a change that a reader of the previous form could misread raises it.
pub const SCHEMA_VERSION: u32 = 1;

/// The `schema_version` field of a canonical document: serialises as [`SCHEMA_VERSION`] and refuses,
/// when read, any other version with a clear message.
///
/// ```
/// use odoo_connect_canonical::SchemaVersion;
///
/// assert_eq!(serde_json::to_string(&SchemaVersion).unwrap(), "1");
/// let err = serde_json::from_str::<SchemaVersion>("2").unwrap_err();
/// assert!(err.to_string().contains("newer than this build"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SchemaVersion;

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(SCHEMA_VERSION)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(deserializer)?;
        match v {
            v if v == u64::from(SCHEMA_VERSION) => Ok(SchemaVersion),
            v if v > u64::from(SCHEMA_VERSION) => Err(serde::de::Error::custom(format!(
                "schema_version {v} is newer than this build of odoo-connect reads ({SCHEMA_VERSION}); upgrade the reader"
            ))),
            v => Err(serde::de::Error::custom(format!(
                "schema_version {v} is not a canonical schema version (this build reads {SCHEMA_VERSION})"
            ))),
        }
    }
}

impl JsonSchema for SchemaVersion {
    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Version of the canonical JSON form.",
            "type": "integer",
            "const": SCHEMA_VERSION
        })
    }
}

/// The JSON Schema of `T` in the form odoo-connect writes (amounts as strings).
///
/// Descriptions come from the Rust documentation, without its code examples and link syntax.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(tidy_description))
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

fn tidy_description(schema: &mut Schema) {
    let Some(serde_json::Value::String(text)) = schema.get_mut("description") else {
        return;
    };
    let mut text = strip_doc_links(text.split("```").next().unwrap_or_default());
    text.truncate(text.trim_end().len());
    if text.is_empty() {
        schema.remove("description");
    } else {
        schema.insert("description".to_owned(), serde_json::Value::String(text));
    }
}

/// Turns rustdoc links, ``[`Name`]`` and ``[`Name`](path)``, into `` `Name` ``.
fn strip_doc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("[`") {
        let Some(close) = rest[open..].find("`]").map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close + 1]);
        rest = &rest[close + 2..];
        if rest.starts_with('(')
            && let Some(end) = rest.find(')')
        {
            rest = &rest[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The JSON Schemas of the canonical documents, each with the file name it has under `docs/schema/`
/// (without `.json`): `client`, `contract`, `time_entry`, ...
///
/// ```
/// let schemas = odoo_connect_canonical::json_schemas();
/// assert!(schemas.iter().any(|(name, _)| *name == "contract"));
/// ```
pub fn json_schemas() -> Vec<(&'static str, serde_json::Value)> {
    use super::*;
    vec![
        ("money", schema_of::<Money>()),
        ("legal_entity", schema_of::<LegalEntity>()),
        ("client", schema_of::<Client>()),
        ("contract", schema_of::<Contract>()),
        ("change_order", schema_of::<ChangeOrder>()),
        ("contract_diff", schema_of::<ContractDiff>()),
        ("project", schema_of::<Project>()),
        ("milestone", schema_of::<Milestone>()),
        ("time_entry", schema_of::<TimeEntry>()),
        ("expense", schema_of::<Expense>()),
        ("invoice_event", schema_of::<InvoiceEvent>()),
        ("payment", schema_of::<Payment>()),
        ("validation_errors", schema_of::<ValidationErrors>()),
        ("invoiceable_plan", schema_of::<rules::InvoiceablePlan>()),
        ("revenue_schedule", schema_of::<rules::RevenueSchedule>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_links_become_code() {
        assert_eq!(
            strip_doc_links("see [`Money`] and [`Milestone::invoiced`](crate::X), not [this]"),
            "see `Money` and `Milestone::invoiced`, not [this]"
        );
    }
}
