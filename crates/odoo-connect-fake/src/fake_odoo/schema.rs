//! Field definitions per model and per Odoo version.
//!
//! The field lists of the recorded models come from the `fields_get` answers of real Odoo 19.0 and
//! 18.0 Community servers (`schema/fields_19.json`, `schema/fields_18.json`; long selections shared
//! through `schema/selections.json`). Models that were not recorded are described by hand in
//! `schema/fields_extra.json`. Odoo 17 is derived from 18 with the renames listed in
//! [`Schema::load`].
//!
//! Every field has an API name (what clients send for this version) and a storage name (the 19.0
//! name), so that the seed data and the business rules are written once.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

const FIELDS_19: &str = include_str!("schema/fields_19.json");
const FIELDS_18: &str = include_str!("schema/fields_18.json");
const FIELDS_EXTRA: &str = include_str!("schema/fields_extra.json");
const SELECTIONS: &str = include_str!("schema/selections.json");

/// The Odoo field types the fake knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Char,
    Text,
    Html,
    Integer,
    Float,
    Monetary,
    Boolean,
    Date,
    Datetime,
    Selection,
    Many2one,
    One2many,
    Many2many,
    Binary,
    Json,
    Properties,
    PropertiesDefinition,
    Many2oneReference,
    Reference,
}

impl FieldType {
    fn parse(s: &str) -> FieldType {
        match s {
            "char" => FieldType::Char,
            "text" => FieldType::Text,
            "html" => FieldType::Html,
            "integer" => FieldType::Integer,
            "float" => FieldType::Float,
            "monetary" => FieldType::Monetary,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" => FieldType::Datetime,
            "selection" => FieldType::Selection,
            "many2one" => FieldType::Many2one,
            "one2many" => FieldType::One2many,
            "many2many" => FieldType::Many2many,
            "binary" => FieldType::Binary,
            "json" => FieldType::Json,
            "properties" => FieldType::Properties,
            "properties_definition" => FieldType::PropertiesDefinition,
            "many2one_reference" => FieldType::Many2oneReference,
            "reference" => FieldType::Reference,
            _ => FieldType::Char,
        }
    }

    /// The name Odoo gives the type in `fields_get`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FieldType::Char => "char",
            FieldType::Text => "text",
            FieldType::Html => "html",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Monetary => "monetary",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Selection => "selection",
            FieldType::Many2one => "many2one",
            FieldType::One2many => "one2many",
            FieldType::Many2many => "many2many",
            FieldType::Binary => "binary",
            FieldType::Json => "json",
            FieldType::Properties => "properties",
            FieldType::PropertiesDefinition => "properties_definition",
            FieldType::Many2oneReference => "many2one_reference",
            FieldType::Reference => "reference",
        }
    }

    pub(crate) fn is_x2many(self) -> bool {
        matches!(self, FieldType::One2many | FieldType::Many2many)
    }

    /// Many2one, one2many or many2many.
    pub(crate) fn is_relational(self) -> bool {
        self == FieldType::Many2one || self.is_x2many()
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Float | FieldType::Monetary
        )
    }
}

/// One field of a model.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// Name on the wire for this version.
    pub(crate) name: String,
    /// Name of the value in stored rows (the 19.0 name).
    pub(crate) storage: String,
    pub(crate) ftype: FieldType,
    pub(crate) string: String,
    pub(crate) required: bool,
    pub(crate) readonly: bool,
    pub(crate) store: bool,
    pub(crate) company_dependent: bool,
    /// False for the few recorded pseudo-fields that only carry `type`/`string`/extras.
    pub(crate) standard_attrs: bool,
    pub(crate) relation: Option<String>,
    pub(crate) selection: Option<Value>,
    pub(crate) extra: Option<Map<String, Value>>,
}

impl Field {
    /// Whether `value` is one of the selection keys (selection fields only).
    pub(crate) fn selection_allows(&self, value: &Value) -> bool {
        match &self.selection {
            Some(Value::Array(items)) => items.iter().any(|item| {
                item.as_array()
                    .and_then(|pair| pair.first())
                    .is_some_and(|key| key == value)
            }),
            _ => true,
        }
    }
}

/// The fields of one model, in `fields_get` order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelSchema {
    pub(crate) fields: Vec<Field>,
    by_name: HashMap<String, usize>,
    by_storage: HashMap<String, usize>,
}

impl ModelSchema {
    /// Field by its API name.
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.by_name.get(name).map(|&i| &self.fields[i])
    }

    /// Field by its storage name.
    pub(crate) fn by_storage(&self, storage: &str) -> Option<&Field> {
        self.by_storage.get(storage).map(|&i| &self.fields[i])
    }

    fn reindex(&mut self) {
        self.by_name = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        self.by_storage.clear();
        for (i, f) in self.fields.iter().enumerate() {
            self.by_storage.entry(f.storage.clone()).or_insert(i);
        }
    }
}

/// All models of one Odoo version.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) version: u8,
    models: HashMap<String, ModelSchema>,
}

fn parse_table(text: &str, selections: &Map<String, Value>) -> Vec<(String, ModelSchema)> {
    let mut out = Vec::new();
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return out;
    };
    for (model, rows) in map {
        let mut schema = ModelSchema::default();
        for row in rows.as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(cells) = row.as_array() else {
                continue;
            };
            let text_at = |i: usize| cells.get(i).and_then(Value::as_str).unwrap_or_default();
            let name = text_at(0).to_string();
            let flags = text_at(3);
            let selection = match cells.get(5) {
                Some(Value::String(key)) if key.starts_with('@') => {
                    selections.get(&key[1..]).cloned()
                }
                Some(Value::Null) | None => None,
                Some(other) => Some(other.clone()),
            };
            schema.fields.push(Field {
                storage: name.clone(),
                name,
                ftype: FieldType::parse(text_at(1)),
                string: text_at(2).to_string(),
                required: flags.contains('q'),
                readonly: flags.contains('r'),
                store: flags.contains('s'),
                company_dependent: flags.contains('c'),
                standard_attrs: flags != "-",
                relation: cells.get(4).and_then(Value::as_str).map(str::to_string),
                selection,
                extra: cells.get(6).and_then(Value::as_object).cloned(),
            });
        }
        schema.reindex();
        out.push((model, schema));
    }
    out
}

impl Schema {
    /// The schema of `version` (17, 18 or 19), parsed once per process.
    pub(crate) fn get(version: u8) -> &'static Schema {
        static S17: OnceLock<Schema> = OnceLock::new();
        static S18: OnceLock<Schema> = OnceLock::new();
        static S19: OnceLock<Schema> = OnceLock::new();
        match version {
            17 => S17.get_or_init(|| Schema::load(17)),
            18 => S18.get_or_init(|| Schema::load(18)),
            _ => S19.get_or_init(|| Schema::load(19)),
        }
    }

    /// Builds the schema of a version.
    ///
    /// Differences handled here besides the recorded field lists:
    /// * 18 and 17: `sale.order.line.product_uom`/`tax_id` are stored as the 19.0
    ///   `product_uom_id`/`tax_ids`.
    /// * 17: `project.project.analytic_account_id` (18+: `account_id`), `account.payment.ref`
    ///   (18+: `memo`), `product.template.detailed_type` / `product.product.detailed_type` (a
    ///   second name of `type`, with the 17.0 values `consu`/`service`/`product`).
    fn load(version: u8) -> Schema {
        let selections = match serde_json::from_str::<Value>(SELECTIONS) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let recorded = if version >= 19 { FIELDS_19 } else { FIELDS_18 };
        let mut models: HashMap<String, ModelSchema> = HashMap::new();
        for (name, schema) in parse_table(FIELDS_EXTRA, &selections) {
            models.insert(name, schema);
        }
        for (name, schema) in parse_table(recorded, &selections) {
            models.insert(name, schema);
        }
        let rename =
            |models: &mut HashMap<String, ModelSchema>, model: &str, api: &str, storage: &str| {
                if let Some(m) = models.get_mut(model) {
                    for f in &mut m.fields {
                        if f.name == api || f.storage == storage {
                            f.name = api.to_string();
                            f.storage = storage.to_string();
                        }
                    }
                    m.reindex();
                }
            };
        if version < 19 {
            rename(
                &mut models,
                "sale.order.line",
                "product_uom",
                "product_uom_id",
            );
            rename(&mut models, "sale.order.line", "tax_id", "tax_ids");
        }
        if version < 18 {
            rename(
                &mut models,
                "project.project",
                "analytic_account_id",
                "account_id",
            );
            rename(&mut models, "account.payment", "ref", "memo");
            for model in ["product.template", "product.product"] {
                if let Some(m) = models.get_mut(model) {
                    let selection = serde_json::json!([
                        ["consu", "Consumable"],
                        ["service", "Service"],
                        ["product", "Storable Product"]
                    ]);
                    for f in &mut m.fields {
                        if f.name == "type" {
                            f.selection = Some(selection.clone());
                        }
                    }
                    if let Some(pos) = m.fields.iter().position(|f| f.name == "type") {
                        let mut detailed = m.fields[pos].clone();
                        detailed.name = "detailed_type".to_string();
                        detailed.string = "Product Type".to_string();
                        m.fields.insert(pos + 1, detailed);
                    }
                    m.reindex();
                }
            }
        }
        Schema { version, models }
    }

    /// The model, if the fake knows it.
    pub(crate) fn model(&self, name: &str) -> Option<&ModelSchema> {
        self.models.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_models_are_loaded_per_version() {
        let s19 = Schema::get(19);
        let line = s19.model("sale.order.line");
        assert!(line.and_then(|m| m.field("product_uom_id")).is_some());
        assert!(line.and_then(|m| m.field("product_uom")).is_none());
        let s18 = Schema::get(18);
        let line18 = s18.model("sale.order.line");
        let uom = line18.and_then(|m| m.field("product_uom"));
        assert_eq!(uom.map(|f| f.storage.as_str()), Some("product_uom_id"));
        let s17 = Schema::get(17);
        let project = s17.model("project.project");
        assert!(
            project
                .and_then(|m| m.field("analytic_account_id"))
                .is_some()
        );
        assert!(project.and_then(|m| m.field("account_id")).is_none());
        let tz = s19.model("res.partner").and_then(|m| m.field("tz"));
        assert!(tz.and_then(|f| f.selection.as_ref()).is_some());
        assert!(s19.model("hr.expense").is_some());
    }
}
