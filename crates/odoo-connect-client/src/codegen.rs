//! Rust model types from Odoo's own description of a model's fields.
//!
//! [`generate_model`] turns a `fields_get` reply (or the document `GET /doc-bearer/<model>.json`
//! serves from Odoo 19) into the Rust source of a record type like the ones in
//! [`models`](super::models): a struct deriving `Deserialize` with the right serde helper on each
//! field, selection enums made with [`odoo_selection!`](crate::odoo_selection), and
//! `#[derive(Model)]` with the model's name, so that the fields read are the struct's (see
//! [`Model`](super::Model)). This is a pure function: fetching the description is the caller's
//! business (`examples/codegen.rs` reads it from a file).
//!
//! # Type mapping
//! | Odoo type | Rust type (not required) | serde helper |
//! |---|---|---|
//! | `char`, `text`, `html` | `Option<String>` | `opt` |
//! | `selection` | `Option<Enum>` (an `odoo_selection!` enum), or `Option<String>` | `opt` |
//! | `boolean` | `bool` | `default` |
//! | `integer` | `Option<i64>` | `opt` |
//! | `float` | `Option<f64>`; `Option<Decimal>` when the field has `digits` | `opt` / `decimal::option` |
//! | `monetary` | `Option<Decimal>` | `decimal::option` |
//! | `date` | `Option<NaiveDate>` | `date::option` |
//! | `datetime` | `Option<DateTime<Utc>>` | `datetime::option` |
//! | `many2one` | `Option<Many2one>` | `opt` |
//! | `one2many`, `many2many` | `Vec<RecordId>` | `models::x2many` |
//! | `binary` | `Option<Binary>` | `opt` |
//! | `json`, `properties`, `properties_definition` | `Option<serde_json::Value>` | `opt` |
//! | `many2one_reference` | `Option<i64>` (the id; the model is in another field) | `opt` |
//! | `reference` | `Option<String>` (`"model,id"`) | `opt` |
//! | anything else | `serde_json::Value`, with a comment | `default` |
//!
//! `id` is always a bare [`RecordId`](super::RecordId).
//!
//! # Required fields
//! Odoo checks `required` when records are created and written, not when they are read: a field
//! made required by a module upgrade still reads as `false` on older rows, and a `read` of some
//! fields leaves the others out. So by default every field (but `id` and booleans) is an
//! `Option`, and a record decodes whatever the database holds.
//! [`CodegenOptions::strict_required`] maps required fields to the bare type instead.
//!
//! # What the generated code needs
//! It names `odoo_connect_client` (see [`CodegenOptions::crate_path`] for code that reaches it through
//! `odoo_connect::odoo`), `serde`, and, when such fields exist, `rust_decimal`, `chrono` and
//! `serde_json`, so the crate that includes it depends on them.
//!
//! ```
//! use odoo_connect_client::codegen::{generate_model, CodegenOptions};
//! let fields = serde_json::json!({
//!     "id": {"type": "integer", "string": "ID"},
//!     "name": {"type": "char", "string": "Name", "required": true},
//!     "partner_id": {"type": "many2one", "string": "Customer", "relation": "res.partner"},
//!     "amount_total": {"type": "monetary", "string": "Total"},
//! });
//! let code = generate_model("sale.order", &fields, &CodegenOptions::default()).unwrap();
//! assert!(code.contains("pub struct SaleOrder {"));
//! assert!(code.contains("pub partner_id: Option<odoo_connect_client::Many2one>,"));
//! assert!(code.contains("#[odoo(model = \"sale.order\")]"));
//! assert!(code.contains("serde::Deserialize, odoo_connect_client::Model)]"));
//!
//! // Through the odoo-connect facade.
//! let opts = CodegenOptions::default().crate_path("odoo_connect::odoo");
//! let code = generate_model("sale.order", &fields, &opts).unwrap();
//! assert!(code.contains("#[odoo(model = \"sale.order\", crate = \"odoo_connect::odoo\")]"));
//! assert!(code.contains("pub partner_id: Option<odoo_connect::odoo::Many2one>,"));
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// How [`generate_model`] writes the type.
///
/// ```
/// use odoo_connect_client::codegen::CodegenOptions;
/// let opts = CodegenOptions::default()
///     .type_name("Customer")
///     .include_non_stored(false)
///     .skip_field("image_1920");
/// assert_eq!(opts.type_name.as_deref(), Some("Customer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodegenOptions {
    /// The struct's name; by default made from the model name (`sale.order.line` gives
    /// `SaleOrderLine`).
    pub type_name: Option<String>,
    /// Whether to include fields that are not stored (computed or related on the fly).
    /// Default `true`; reading them costs the server a computation per record.
    pub include_non_stored: bool,
    /// Whether to include `binary` fields (images, attachments). Default `true`; they can make
    /// every read of the model heavy.
    pub include_binary: bool,
    /// Whether to write an enum for each selection field whose values are listed. Default `true`;
    /// otherwise selections are strings.
    pub selection_enums: bool,
    /// Selections with more values than this stay strings (time zones, languages). Default 64.
    pub max_selection_values: usize,
    /// Map required fields to the bare type instead of an `Option` (see the module docs).
    /// Default `false`.
    pub strict_required: bool,
    /// Decode every `float` field as a `Decimal`, not only those with `digits`. Default `false`.
    pub float_as_decimal: bool,
    /// Also derive `serde::Serialize`. Default `true`.
    pub derive_serialize: bool,
    /// Fields to leave out, by technical name.
    pub skip_fields: Vec<String>,
    /// The path under which the generated code finds this crate: `odoo_connect_client` (default),
    /// `odoo_connect::odoo` for a crate that depends on the `odoo-connect` facade only, or `crate`
    /// for code that lives inside odoo-connect-client itself. Unless it is the default, the struct also
    /// gets `#[odoo(crate = "...")]`, which tells `#[derive(Model)]` the same path.
    pub crate_path: String,
}

/// The default [`CodegenOptions::crate_path`].
const DEFAULT_CRATE_PATH: &str = "odoo_connect_client";

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            type_name: None,
            include_non_stored: true,
            include_binary: true,
            selection_enums: true,
            max_selection_values: 64,
            strict_required: false,
            float_as_decimal: false,
            derive_serialize: true,
            skip_fields: Vec::new(),
            crate_path: DEFAULT_CRATE_PATH.to_owned(),
        }
    }
}

impl CodegenOptions {
    /// Sets the struct's name.
    pub fn type_name(mut self, name: impl Into<String>) -> Self {
        self.type_name = Some(name.into());
        self
    }

    /// Includes or leaves out non-stored fields.
    pub fn include_non_stored(mut self, yes: bool) -> Self {
        self.include_non_stored = yes;
        self
    }

    /// Includes or leaves out binary fields.
    pub fn include_binary(mut self, yes: bool) -> Self {
        self.include_binary = yes;
        self
    }

    /// Writes selection enums, or strings.
    pub fn selection_enums(mut self, yes: bool) -> Self {
        self.selection_enums = yes;
        self
    }

    /// Sets the largest selection that becomes an enum.
    pub fn max_selection_values(mut self, max: usize) -> Self {
        self.max_selection_values = max;
        self
    }

    /// Maps required fields to bare types.
    pub fn strict_required(mut self, yes: bool) -> Self {
        self.strict_required = yes;
        self
    }

    /// Decodes every float as a `Decimal`.
    pub fn float_as_decimal(mut self, yes: bool) -> Self {
        self.float_as_decimal = yes;
        self
    }

    /// Derives `Serialize` too, or not.
    pub fn derive_serialize(mut self, yes: bool) -> Self {
        self.derive_serialize = yes;
        self
    }

    /// Leaves a field out.
    pub fn skip_field(mut self, name: impl Into<String>) -> Self {
        self.skip_fields.push(name.into());
        self
    }

    /// Sets the path of this crate in the generated code.
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.crate_path = path.into();
        self
    }
}

/// Why no code could be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// The model name is not a technical model name (`sale.order.line`).
    #[error("invalid model name `{0}`: expected a technical name such as `sale.order.line`")]
    InvalidModelName(String),
    /// The requested struct name or crate path is not a Rust path.
    #[error("invalid Rust name `{0}`")]
    InvalidRustName(String),
    /// The JSON holds no field descriptions.
    #[error(
        "no field descriptions found: expected a fields_get reply (each field with its `type`), \
         a /doc-bearer/<model>.json document, or either inside a JSON-RPC reply"
    )]
    NoFields,
    /// The description is of another model.
    #[error("the document describes `{found}`, not `{expected}`")]
    ModelMismatch {
        /// The model asked for.
        expected: String,
        /// The model the document describes.
        found: String,
    },
}

/// The Rust source of a model type for `model`, from its field descriptions.
///
/// `fields` is a `fields_get` reply (`{"name": {"type": "char", ...}, ...}`), a 19+
/// `/doc-bearer/<model>.json` document (`{"model": ..., "fields": {...}}`), or either wrapped in
/// a JSON-RPC reply (`{"result": ...}`). The more attributes the description has, the better the
/// output: `type` is needed; `string` and `help` become doc comments, `required`, `store`,
/// `selection`, `relation` and `digits` shape the types.
///
/// Fields come in alphabetical order after `id`, so the output is stable.
pub fn generate_model(
    model: &str,
    fields: &Value,
    opts: &CodegenOptions,
) -> Result<String, CodegenError> {
    if !is_model_name(model) {
        return Err(CodegenError::InvalidModelName(model.to_owned()));
    }
    let doc = find_fields(fields).ok_or(CodegenError::NoFields)?;
    if let Some(found) = doc.model
        && found != model
    {
        return Err(CodegenError::ModelMismatch {
            expected: model.to_owned(),
            found: found.to_owned(),
        });
    }
    let krate = opts.crate_path.as_str();
    if !is_rust_path(krate) {
        return Err(CodegenError::InvalidRustName(krate.to_owned()));
    }
    let type_name = match &opts.type_name {
        Some(name) if is_type_ident(name) => name.clone(),
        Some(name) => return Err(CodegenError::InvalidRustName(name.clone())),
        None => model_type_name(model),
    };

    let mut names: Vec<&String> = doc.fields.keys().filter(|n| n.as_str() != "id").collect();
    names.sort();

    let mut used_idents = BTreeSet::from(["id".to_owned()]);
    let mut used_types = BTreeSet::from([type_name.clone()]);
    let mut plans = Vec::new();
    for name in names {
        let meta = &doc.fields[name.as_str()];
        if opts.skip_fields.iter().any(|s| s == name) {
            continue;
        }
        if !opts.include_non_stored && meta.get("store") == Some(&Value::Bool(false)) {
            continue;
        }
        if !opts.include_binary && field_type(meta) == "binary" {
            continue;
        }
        let ident = unique(rust_ident(name), &mut used_idents);
        plans.push(plan_field(
            &type_name,
            name,
            ident,
            meta,
            opts,
            &mut used_types,
        ));
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "// The Odoo model `{model}` as a Rust type, written by odoo-connect's codegen from the"
    );
    let _ = writeln!(
        out,
        "// server's field descriptions. Regenerate it rather than edit it."
    );
    for plan in &plans {
        if let Some(e) = &plan.selection_enum {
            out.push('\n');
            write_enum(&mut out, krate, model, plan, e);
        }
    }

    out.push('\n');
    match doc.description {
        Some(title) => {
            let _ = writeln!(out, "/// {} (`{model}`).", doc_text(title));
        }
        None => {
            let _ = writeln!(out, "/// A `{model}` record.");
        }
    }
    let serialize = if opts.derive_serialize {
        " serde::Serialize,"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq,{serialize} serde::Deserialize, {krate}::Model)]"
    );
    if krate == DEFAULT_CRATE_PATH {
        let _ = writeln!(out, "#[odoo(model = {model:?})]");
    } else {
        // The derive looks for `odoo-connect-client` and `odoo-connect` among the dependencies; the path
        // the code was generated for is the surer guide.
        let _ = writeln!(out, "#[odoo(model = {model:?}, crate = {krate:?})]");
    }
    let _ = writeln!(out, "pub struct {type_name} {{");
    let _ = writeln!(out, "    /// Record id (`id`).");
    let _ = writeln!(out, "    pub id: {krate}::RecordId,");
    for plan in &plans {
        for line in &plan.docs {
            if line.is_empty() {
                let _ = writeln!(out, "    ///");
            } else {
                let _ = writeln!(out, "    /// {line}");
            }
        }
        if let Some(comment) = &plan.comment {
            let _ = writeln!(out, "    // {comment}");
        }
        let mut attrs = Vec::new();
        if plan.ident.trim_start_matches("r#") != plan.name {
            attrs.push(format!("rename = {:?}", plan.name));
        }
        attrs.extend(plan.serde.iter().cloned());
        if !attrs.is_empty() {
            let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
        }
        let _ = writeln!(out, "    pub {}: {},", plan.ident, plan.rust_type);
    }
    let _ = writeln!(out, "}}");
    Ok(out)
}

/// The struct name for a model: `sale.order.line` gives `SaleOrderLine`.
///
/// ```
/// use odoo_connect_client::codegen::model_type_name;
/// assert_eq!(model_type_name("sale.order.line"), "SaleOrderLine");
/// assert_eq!(model_type_name("x_studio_machine"), "XStudioMachine");
/// ```
pub fn model_type_name(model: &str) -> String {
    let name = pascal_case(model);
    match name.chars().next() {
        None => "Model".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("M{name}"),
        Some(_) => name,
    }
}

/// The Rust identifier for a field name: keywords become raw identifiers (`type` gives
/// `r#type`), or get a `_` suffix where Rust allows no raw form (`self_`); anything that is not
/// a lowercase identifier is made one (the generated code then renames it back).
///
/// ```
/// use odoo_connect_client::codegen::rust_ident;
/// assert_eq!(rust_ident("partner_id"), "partner_id");
/// assert_eq!(rust_ident("type"), "r#type");
/// assert_eq!(rust_ident("self"), "self_");
/// assert_eq!(rust_ident("x_Studio Field"), "x_studio_field");
/// assert_eq!(rust_ident("2fa"), "f_2fa");
/// ```
pub fn rust_ident(name: &str) -> String {
    let mut ident: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if ident.is_empty() || ident.chars().all(|c| c == '_') {
        ident = format!("field{ident}");
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("f_{ident}");
    }
    if NON_RAW_KEYWORDS.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// Keywords of Rust 2024 that can be used as raw identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that have no raw form.
const NON_RAW_KEYWORDS: &[&str] = &["crate", "self", "super"];

/// The field descriptions found in a JSON document, and what the document says of the model.
struct FieldsDoc<'a> {
    fields: &'a Map<String, Value>,
    model: Option<&'a str>,
    description: Option<&'a str>,
}

/// Finds the field descriptions: a `fields_get` reply, a `/doc-bearer` document, either inside
/// a JSON-RPC reply (`result`) or a recorded exchange (`response.body`).
fn find_fields(value: &Value) -> Option<FieldsDoc<'_>> {
    let obj = value.as_object()?;
    if is_fields_map(obj) {
        return Some(FieldsDoc {
            fields: obj,
            model: None,
            description: None,
        });
    }
    if let Some(fields) = obj.get("fields").and_then(Value::as_object)
        && is_fields_map(fields)
    {
        return Some(FieldsDoc {
            fields,
            model: obj.get("model").and_then(Value::as_str),
            description: obj.get("name").and_then(Value::as_str),
        });
    }
    if let Some(result) = obj.get("result") {
        return find_fields(result);
    }
    obj.get("response")
        .and_then(|r| r.get("body"))
        .and_then(find_fields)
}

fn is_fields_map(obj: &Map<String, Value>) -> bool {
    !obj.is_empty()
        && obj
            .values()
            .all(|f| f.get("type").and_then(Value::as_str).is_some())
}

fn field_type(meta: &Value) -> &str {
    meta.get("type").and_then(Value::as_str).unwrap_or("")
}

/// How one field is written.
#[derive(Debug)]
struct FieldPlan {
    name: String,
    ident: String,
    rust_type: String,
    serde: Vec<String>,
    docs: Vec<String>,
    comment: Option<String>,
    selection_enum: Option<EnumPlan>,
}

/// A selection enum to write.
#[derive(Debug)]
struct EnumPlan {
    name: String,
    variants: Vec<(String, String, String)>, // (variant, value, label)
}

fn plan_field(
    type_name: &str,
    name: &str,
    ident: String,
    meta: &Value,
    opts: &CodegenOptions,
    used_types: &mut BTreeSet<String>,
) -> FieldPlan {
    let krate = opts.crate_path.as_str();
    let ty = field_type(meta);
    let required = opts.strict_required && meta.get("required") == Some(&Value::Bool(true));
    let value_mod = format!("{krate}::value");

    // (bare type, optional type, helper for the bare type, helper for the optional type)
    let mut selection_enum = None;
    let mut comment = None;
    let (bare, helper, opt_helper): (String, Option<String>, String) = match ty {
        "char" | "text" | "html" | "reference" => {
            ("String".to_owned(), None, format!("{value_mod}::opt"))
        }
        "selection" => match selection_plan(type_name, name, meta, opts, used_types) {
            SelectionKind::Enum(e) => {
                let name = e.name.clone();
                selection_enum = Some(e);
                (name, None, format!("{value_mod}::opt"))
            }
            SelectionKind::Text => ("String".to_owned(), None, format!("{value_mod}::opt")),
            SelectionKind::Json => (
                "serde_json::Value".to_owned(),
                None,
                format!("{value_mod}::opt"),
            ),
        },
        "integer" | "many2one_reference" => ("i64".to_owned(), None, format!("{value_mod}::opt")),
        "float" if opts.float_as_decimal || has_digits(meta) => (
            "rust_decimal::Decimal".to_owned(),
            Some(format!("{value_mod}::decimal")),
            format!("{value_mod}::decimal::option"),
        ),
        "float" => ("f64".to_owned(), None, format!("{value_mod}::opt")),
        "monetary" => (
            "rust_decimal::Decimal".to_owned(),
            Some(format!("{value_mod}::decimal")),
            format!("{value_mod}::decimal::option"),
        ),
        "date" => (
            "chrono::NaiveDate".to_owned(),
            Some(format!("{value_mod}::date")),
            format!("{value_mod}::date::option"),
        ),
        "datetime" => (
            "chrono::DateTime<chrono::Utc>".to_owned(),
            Some(format!("{value_mod}::datetime")),
            format!("{value_mod}::datetime::option"),
        ),
        "many2one" => (
            format!("{krate}::Many2one"),
            None,
            format!("{value_mod}::opt"),
        ),
        "binary" => (
            format!("{krate}::Binary"),
            None,
            format!("{value_mod}::opt"),
        ),
        "json" | "properties" | "properties_definition" => (
            "serde_json::Value".to_owned(),
            None,
            format!("{value_mod}::opt"),
        ),
        "boolean" | "one2many" | "many2many" => (String::new(), None, String::new()),
        other => {
            comment = Some(format!(
                "Odoo field type `{other}` has no dedicated mapping: kept as JSON."
            ));
            (String::new(), None, String::new())
        }
    };

    let (rust_type, serde) = match ty {
        "boolean" => ("bool".to_owned(), vec!["default".to_owned()]),
        "one2many" | "many2many" => (
            format!("Vec<{krate}::RecordId>"),
            vec![
                "default".to_owned(),
                format!("deserialize_with = \"{krate}::models::x2many::deserialize\""),
            ],
        ),
        _ if comment.is_some() => ("serde_json::Value".to_owned(), vec!["default".to_owned()]),
        _ if required => (
            bare,
            helper
                .map(|h| vec![format!("with = \"{h}\"")])
                .unwrap_or_default(),
        ),
        _ => (
            format!("Option<{bare}>"),
            vec!["default".to_owned(), format!("with = \"{opt_helper}\"")],
        ),
    };

    FieldPlan {
        name: name.to_owned(),
        ident,
        rust_type,
        serde,
        docs: field_docs(name, meta),
        comment,
        selection_enum,
    }
}

enum SelectionKind {
    Enum(EnumPlan),
    Text,
    Json,
}

fn selection_plan(
    type_name: &str,
    name: &str,
    meta: &Value,
    opts: &CodegenOptions,
    used_types: &mut BTreeSet<String>,
) -> SelectionKind {
    let Some(pairs) = meta.get("selection").and_then(Value::as_array) else {
        return SelectionKind::Text;
    };
    let mut values = Vec::new();
    for pair in pairs {
        match pair.get(0) {
            Some(Value::String(v)) => {
                let label = pair.get(1).and_then(Value::as_str).unwrap_or("");
                if !values.iter().any(|(existing, _)| existing == v) {
                    values.push((v.clone(), label.to_owned()));
                }
            }
            // Integer (or other) keys: the enums only read strings.
            Some(_) => return SelectionKind::Json,
            None => {}
        }
    }
    if !opts.selection_enums || values.is_empty() || values.len() > opts.max_selection_values {
        return SelectionKind::Text;
    }
    let enum_name = unique_type(format!("{type_name}{}", pascal_case(name)), used_types);
    let mut used = BTreeSet::from(["Other".to_owned(), "Self".to_owned()]);
    let variants = values
        .into_iter()
        .map(|(value, label)| {
            let variant = unique_variant(variant_name(&value), &mut used);
            (variant, value, label)
        })
        .collect();
    SelectionKind::Enum(EnumPlan {
        name: enum_name,
        variants,
    })
}

fn write_enum(out: &mut String, krate: &str, model: &str, plan: &FieldPlan, e: &EnumPlan) {
    let _ = writeln!(out, "{krate}::odoo_selection! {{");
    let label = plan.docs.first().map(String::as_str).unwrap_or("");
    let _ = writeln!(out, "    /// `{model}.{}`: {label}", plan.name);
    let _ = writeln!(out, "    pub enum {} {{", e.name);
    for (variant, value, label) in &e.variants {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("{} ", doc_text(label))
        };
        let _ = writeln!(out, "        /// {label}(`{}`).", doc_code(value));
        let _ = writeln!(out, "        {variant} = {value:?},");
    }
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "}}");
}

/// The doc comment lines of a field: its label, its help, and a technical line.
fn field_docs(name: &str, meta: &Value) -> Vec<String> {
    let mut docs = Vec::new();
    let label = meta
        .get("string")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(name);
    docs.push(format!("{}.", doc_text(label.trim()).trim_end_matches('.')));
    if let Some(help) = meta.get("help").and_then(Value::as_str) {
        let help = help.trim();
        if !help.is_empty() {
            docs.push(String::new());
            docs.extend(help.lines().map(|l| doc_text(l.trim_end())));
        }
    }
    let mut tech = format!("`{name}`: {}", field_type(meta));
    if let Some(rel) = meta.get("relation").and_then(Value::as_str)
        && !rel.is_empty()
    {
        let _ = write!(tech, " of `{}`", doc_code(rel));
    }
    let flag = |key: &str| meta.get(key) == Some(&Value::Bool(true));
    if flag("required") {
        tech.push_str(", required");
    }
    if meta.get("store") == Some(&Value::Bool(false)) {
        tech.push_str(", not stored");
    }
    if flag("readonly") {
        tech.push_str(", read-only");
    }
    if flag("company_dependent") {
        tech.push_str(", company dependent");
    }
    tech.push('.');
    docs.push(String::new());
    docs.push(tech);
    docs
}

/// Text for a doc comment: characters rustdoc would read as HTML or links are escaped.
fn doc_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '`' => out.push('\''),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside backticks in a doc comment.
fn doc_code(text: &str) -> String {
    text.chars()
        .map(|c| if c == '`' || c.is_control() { '\'' } else { c })
        .collect()
}

fn has_digits(meta: &Value) -> bool {
    match meta.get("digits") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// `sale.order_line x` gives `SaleOrderLineX`.
fn pascal_case(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn variant_name(value: &str) -> String {
    let name = pascal_case(value);
    match name.chars().next() {
        None => "Empty".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("V{name}"),
        Some(_) => name,
    }
}

fn unique(ident: String, used: &mut BTreeSet<String>) -> String {
    let mut candidate = ident.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{}_{n}", ident.trim_start_matches("r#"));
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

fn unique_type(name: String, used: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

fn unique_variant(name: String, used: &mut BTreeSet<String>) -> String {
    let base = if used.contains(&name) && (name == "Other" || name == "Self") {
        format!("{name}Value")
    } else {
        name
    };
    unique_type(base, used)
}

fn is_model_name(model: &str) -> bool {
    !model.is_empty()
        && !model.starts_with('.')
        && !model.ends_with('.')
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn is_type_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "Self"
}

fn is_rust_path(path: &str) -> bool {
    !path.is_empty()
        && path.split("::").all(|seg| {
            seg.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V: &str = "odoo_connect_client::value";

    fn plan(meta: Value, opts: &CodegenOptions) -> FieldPlan {
        let mut used = BTreeSet::new();
        plan_field("ResPartner", "f", "f".to_owned(), &meta, opts, &mut used)
    }

    fn lenient(meta: Value) -> (String, Vec<String>) {
        let p = plan(meta, &CodegenOptions::default());
        (p.rust_type, p.serde)
    }

    fn strict(mut meta: Value) -> (String, Vec<String>) {
        meta["required"] = json!(true);
        let p = plan(meta, &CodegenOptions::default().strict_required(true));
        (p.rust_type, p.serde)
    }

    fn opt_attrs(helper: &str) -> Vec<String> {
        vec!["default".to_owned(), format!("with = \"{V}::{helper}\"")]
    }

    #[test]
    fn text_types() {
        for ty in ["char", "text", "html"] {
            assert_eq!(
                lenient(json!({"type": ty})),
                ("Option<String>".to_owned(), opt_attrs("opt"))
            );
            assert_eq!(strict(json!({"type": ty})), ("String".to_owned(), vec![]));
        }
    }

    #[test]
    fn reference_is_model_comma_id_text() {
        assert_eq!(
            lenient(json!({"type": "reference", "selection": [["res.partner", "Contact"]]})),
            ("Option<String>".to_owned(), opt_attrs("opt"))
        );
    }

    #[test]
    fn boolean_is_never_optional() {
        let expected = ("bool".to_owned(), vec!["default".to_owned()]);
        assert_eq!(lenient(json!({"type": "boolean"})), expected);
        assert_eq!(strict(json!({"type": "boolean"})), expected);
    }

    #[test]
    fn integers() {
        assert_eq!(
            lenient(json!({"type": "integer"})),
            ("Option<i64>".to_owned(), opt_attrs("opt"))
        );
        assert_eq!(
            strict(json!({"type": "integer"})),
            ("i64".to_owned(), vec![])
        );
        assert_eq!(
            lenient(json!({"type": "many2one_reference", "model_field": "res_model"})),
            ("Option<i64>".to_owned(), opt_attrs("opt"))
        );
    }

    #[test]
    fn floats_are_f64_unless_digits_or_asked() {
        assert_eq!(
            lenient(json!({"type": "float"})),
            ("Option<f64>".to_owned(), opt_attrs("opt"))
        );
        assert_eq!(strict(json!({"type": "float"})), ("f64".to_owned(), vec![]));
        assert_eq!(
            lenient(json!({"type": "float", "digits": [16, 2]})),
            (
                "Option<rust_decimal::Decimal>".to_owned(),
                opt_attrs("decimal::option")
            )
        );
        assert_eq!(
            lenient(json!({"type": "float", "digits": false})),
            ("Option<f64>".to_owned(), opt_attrs("opt"))
        );
        let p = plan(
            json!({"type": "float"}),
            &CodegenOptions::default().float_as_decimal(true),
        );
        assert_eq!(p.rust_type, "Option<rust_decimal::Decimal>");
        assert_eq!(
            strict(json!({"type": "float", "digits": [16, 2]})),
            (
                "rust_decimal::Decimal".to_owned(),
                vec![format!("with = \"{V}::decimal\"")]
            )
        );
    }

    #[test]
    fn monetary_is_decimal() {
        assert_eq!(
            lenient(json!({"type": "monetary", "currency_field": "currency_id"})),
            (
                "Option<rust_decimal::Decimal>".to_owned(),
                opt_attrs("decimal::option")
            )
        );
        assert_eq!(
            strict(json!({"type": "monetary"})),
            (
                "rust_decimal::Decimal".to_owned(),
                vec![format!("with = \"{V}::decimal\"")]
            )
        );
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(
            lenient(json!({"type": "date"})),
            (
                "Option<chrono::NaiveDate>".to_owned(),
                opt_attrs("date::option")
            )
        );
        assert_eq!(
            strict(json!({"type": "date"})),
            (
                "chrono::NaiveDate".to_owned(),
                vec![format!("with = \"{V}::date\"")]
            )
        );
        assert_eq!(
            lenient(json!({"type": "datetime"})),
            (
                "Option<chrono::DateTime<chrono::Utc>>".to_owned(),
                opt_attrs("datetime::option")
            )
        );
        assert_eq!(
            strict(json!({"type": "datetime"})),
            (
                "chrono::DateTime<chrono::Utc>".to_owned(),
                vec![format!("with = \"{V}::datetime\"")]
            )
        );
    }

    #[test]
    fn relations() {
        assert_eq!(
            lenient(json!({"type": "many2one", "relation": "res.country"})),
            (
                "Option<odoo_connect_client::Many2one>".to_owned(),
                opt_attrs("opt")
            )
        );
        assert_eq!(
            strict(json!({"type": "many2one", "relation": "res.company"})),
            ("odoo_connect_client::Many2one".to_owned(), vec![])
        );
        for ty in ["one2many", "many2many"] {
            let expected = (
                "Vec<odoo_connect_client::RecordId>".to_owned(),
                vec![
                    "default".to_owned(),
                    "deserialize_with = \"odoo_connect_client::models::x2many::deserialize\""
                        .to_owned(),
                ],
            );
            assert_eq!(
                lenient(json!({"type": ty, "relation": "res.partner"})),
                expected
            );
            assert_eq!(strict(json!({"type": ty})), expected);
        }
    }

    #[test]
    fn binary_and_json_types() {
        assert_eq!(
            lenient(json!({"type": "binary"})),
            (
                "Option<odoo_connect_client::Binary>".to_owned(),
                opt_attrs("opt")
            )
        );
        assert_eq!(
            strict(json!({"type": "binary"})),
            ("odoo_connect_client::Binary".to_owned(), vec![])
        );
        for ty in ["json", "properties", "properties_definition"] {
            assert_eq!(
                lenient(json!({"type": ty})),
                ("Option<serde_json::Value>".to_owned(), opt_attrs("opt"))
            );
        }
    }

    #[test]
    fn unknown_types_are_json_with_a_comment() {
        let p = plan(json!({"type": "geo_point"}), &CodegenOptions::default());
        assert_eq!(p.rust_type, "serde_json::Value");
        assert_eq!(p.serde, vec!["default".to_owned()]);
        assert!(p.comment.unwrap().contains("`geo_point`"));
    }

    #[test]
    fn selections() {
        let meta = json!({"type": "selection", "string": "Status",
            "selection": [["draft", "Quotation"], ["to invoice", "To Invoice"], ["01_new", "New"],
                          ["other", "Other"], ["", "Empty"]]});
        let p = plan(meta.clone(), &CodegenOptions::default());
        assert_eq!(p.rust_type, "Option<ResPartnerF>");
        assert_eq!(p.serde, opt_attrs("opt"));
        let e = p.selection_enum.unwrap();
        let variants: Vec<&str> = e.variants.iter().map(|(v, _, _)| v.as_str()).collect();
        assert_eq!(
            variants,
            ["Draft", "ToInvoice", "V01New", "OtherValue", "Empty"]
        );
        // Strings when asked, when too many values, when none are listed.
        let p = plan(meta, &CodegenOptions::default().selection_enums(false));
        assert_eq!(p.rust_type, "Option<String>");
        let many: Vec<Value> = (0..100).map(|i| json!([format!("v{i}"), "x"])).collect();
        let p = plan(
            json!({"type": "selection", "selection": many}),
            &CodegenOptions::default(),
        );
        assert_eq!(p.rust_type, "Option<String>");
        let p = plan(
            json!({"type": "selection", "selection": [["a", "A"], ["b", "B"]]}),
            &CodegenOptions::default().max_selection_values(1),
        );
        assert_eq!(p.rust_type, "Option<String>");
        let p = plan(
            json!({"type": "selection", "selection": []}),
            &CodegenOptions::default(),
        );
        assert_eq!(p.rust_type, "Option<String>");
        // Integer keys cannot be read by the enums: JSON.
        let p = plan(
            json!({"type": "selection", "selection": [[1, "One"], [2, "Two"]]}),
            &CodegenOptions::default(),
        );
        assert_eq!(p.rust_type, "Option<serde_json::Value>");
        // Required, strict.
        let (ty, serde) = strict(json!({"type": "selection", "selection": [["a", "A"]]}));
        assert_eq!((ty.as_str(), serde.len()), ("ResPartnerF", 0));
    }

    #[test]
    fn identifiers() {
        assert_eq!(rust_ident("name"), "name");
        assert_eq!(rust_ident("type"), "r#type");
        assert_eq!(rust_ident("ref"), "r#ref");
        assert_eq!(rust_ident("move"), "r#move");
        assert_eq!(rust_ident("gen"), "r#gen");
        assert_eq!(rust_ident("super"), "super_");
        assert_eq!(rust_ident("crate"), "crate_");
        assert_eq!(rust_ident("__last_update"), "__last_update");
        assert_eq!(rust_ident("x_Name"), "x_name");
        assert_eq!(rust_ident("a-b.c"), "a_b_c");
        assert_eq!(rust_ident("_"), "field_");
        assert_eq!(rust_ident("9lives"), "f_9lives");
        assert_eq!(model_type_name("res.partner"), "ResPartner");
        assert_eq!(
            model_type_name("account.analytic.line"),
            "AccountAnalyticLine"
        );
        assert_eq!(model_type_name("3d.model"), "M3dModel");
        assert_eq!(variant_name("to invoice"), "ToInvoice");
        assert_eq!(variant_name("1_done"), "V1Done");
    }

    #[test]
    fn whole_model() {
        let fields = json!({
            "id": {"type": "integer", "string": "ID"},
            "type": {"type": "selection", "string": "Address Type",
                     "selection": [["contact", "Contact"], ["other", "Other"]]},
            "self": {"type": "char", "string": "Self <ref>", "help": "Line one [a]\nLine two"},
            "X_Custom": {"type": "char", "string": "Custom"},
            "x_custom": {"type": "integer", "string": "Custom too"},
            "image_1920": {"type": "binary", "string": "Image"},
            "display_name": {"type": "char", "string": "Display Name", "store": false},
            "country_id": {"type": "many2one", "relation": "res.country", "string": "Country",
                           "required": true, "company_dependent": true, "readonly": true},
        });
        let code = generate_model("res.partner", &fields, &CodegenOptions::default()).unwrap();
        assert!(
            code.contains("odoo_connect_client::odoo_selection! {"),
            "{code}"
        );
        assert!(code.contains("    pub enum ResPartnerType {"), "{code}");
        assert!(code.contains("        OtherValue = \"other\","), "{code}");
        assert!(
            code.contains("pub r#type: Option<ResPartnerType>,"),
            "{code}"
        );
        assert!(
            code.contains("#[serde(rename = \"self\", default, with = "),
            "{code}"
        );
        assert!(code.contains("pub self_: Option<String>,"), "{code}");
        assert!(code.contains("/// Self &lt;ref&gt;."), "{code}");
        assert!(
            code.contains("/// Line one \\[a\\]\n    /// Line two"),
            "{code}"
        );
        // Two fields that give the same identifier.
        assert!(code.contains("#[serde(rename = \"X_Custom\""), "{code}");
        assert!(code.contains("pub x_custom_2: Option<i64>,"), "{code}");
        assert!(code.contains("/// `country_id`: many2one of `res.country`, required, read-only, company dependent."), "{code}");
        assert!(code.contains("pub country_id: Option<odoo_connect_client::Many2one>,"));
        assert!(
            code.contains(
                "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, \
                 odoo_connect_client::Model)]\n#[odoo(model = \"res.partner\")]\npub struct ResPartner {\n"
            ),
            "{code}"
        );
        assert!(!code.contains("impl "), "{code}");
        // The derive reads the fields in the order of the struct: `id`, then by name.
        let at = |needle: &str| {
            code.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {code}"))
        };
        let order = [
            "pub id: odoo_connect_client::RecordId,",
            "rename = \"X_Custom\"",
            "pub country_id: ",
            "pub display_name: ",
            "pub image_1920: ",
            "rename = \"self\"",
            "pub r#type: ",
            "pub x_custom_2: ",
        ];
        assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{code}");

        let opts = CodegenOptions::default()
            .include_non_stored(false)
            .include_binary(false)
            .skip_field("self")
            .derive_serialize(false)
            .type_name("Contact")
            .crate_path("crate");
        let code = generate_model("res.partner", &fields, &opts).unwrap();
        assert!(!code.contains("display_name"));
        assert!(!code.contains("image_1920"));
        assert!(!code.contains("self_"));
        assert!(code.contains("pub struct Contact {"));
        assert!(code.contains("crate::odoo_selection!"));
        assert!(code.contains("pub id: crate::RecordId,"));
        assert!(
            code.contains(
                "#[derive(Debug, Clone, PartialEq, serde::Deserialize, crate::Model)]\n\
                 #[odoo(model = \"res.partner\", crate = \"crate\")]\n"
            ),
            "{code}"
        );

        // Through the facade: every path, and the derive, are told where the client is.
        let opts = CodegenOptions::default().crate_path("odoo_connect::odoo");
        let code = generate_model("res.partner", &fields, &opts).unwrap();
        assert!(
            code.contains("odoo_connect::odoo::odoo_selection! {"),
            "{code}"
        );
        assert!(
            code.contains("pub id: odoo_connect::odoo::RecordId,"),
            "{code}"
        );
        assert!(
            code.contains("with = \"odoo_connect::odoo::value::opt\""),
            "{code}"
        );
        assert!(
            code.contains(
                "serde::Deserialize, odoo_connect::odoo::Model)]\n\
                 #[odoo(model = \"res.partner\", crate = \"odoo_connect::odoo\")]\n"
            ),
            "{code}"
        );
        assert!(!code.contains("odoo_connect_client"), "{code}");
    }

    #[test]
    fn accepted_shapes() {
        let fields = json!({"id": {"type": "integer"}, "name": {"type": "char", "string": "Name"}});
        let opts = CodegenOptions::default();
        let direct = generate_model("res.partner", &fields, &opts).unwrap();
        let doc = json!({"model": "res.partner", "name": "Contact", "doc": null,
                         "fields": fields, "methods": {}});
        let from_doc = generate_model("res.partner", &doc, &opts).unwrap();
        assert!(from_doc.contains("/// Contact (`res.partner`)."));
        assert_eq!(
            from_doc.replace(
                "/// Contact (`res.partner`).",
                "/// A `res.partner` record."
            ),
            direct
        );
        let rpc = json!({"jsonrpc": "2.0", "id": 1, "result": fields});
        assert_eq!(generate_model("res.partner", &rpc, &opts).unwrap(), direct);
        let exchange = json!({"request": {}, "response": {"status": 200, "body": rpc}});
        assert_eq!(
            generate_model("res.partner", &exchange, &opts).unwrap(),
            direct
        );
        // A model field called `fields` does not confuse the detection.
        let odd = json!({"id": {"type": "integer"}, "fields": {"type": "char"}});
        assert!(
            generate_model("x.odd", &odd, &opts)
                .unwrap()
                .contains("pub fields: ")
        );
    }

    #[test]
    fn errors() {
        let opts = CodegenOptions::default();
        let fields = json!({"id": {"type": "integer"}});
        assert_eq!(
            generate_model("sale order", &fields, &opts),
            Err(CodegenError::InvalidModelName("sale order".to_owned()))
        );
        assert_eq!(
            generate_model("", &fields, &opts),
            Err(CodegenError::InvalidModelName(String::new()))
        );
        assert_eq!(
            generate_model("res.partner", &json!([]), &opts),
            Err(CodegenError::NoFields)
        );
        assert_eq!(
            generate_model("res.partner", &json!({"name": {"string": "Name"}}), &opts),
            Err(CodegenError::NoFields)
        );
        assert_eq!(
            generate_model(
                "res.partner",
                &json!({"model": "res.users", "fields": fields}),
                &opts
            ),
            Err(CodegenError::ModelMismatch {
                expected: "res.partner".to_owned(),
                found: "res.users".to_owned()
            })
        );
        assert_eq!(
            generate_model("res.partner", &fields, &opts.clone().type_name("1st")),
            Err(CodegenError::InvalidRustName("1st".to_owned()))
        );
        assert_eq!(
            generate_model("res.partner", &fields, &opts.clone().crate_path("a b")),
            Err(CodegenError::InvalidRustName("a b".to_owned()))
        );
        assert!(CodegenError::NoFields.to_string().contains("fields_get"));
    }
}
