//! `load(fields, data)`: Odoo's import, with external ids (`id` column as `module.name`,
//! `field/id` columns resolved through `ir.model.data`), per-row messages, and the whole batch
//! rolled back (`ids: false`) as soon as one row fails.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::errors::{OdooError, OdooResult, py_str};
use super::orm::{Orm, as_id};
use super::schema::{Field, FieldType};
use super::store::Row;

const IR_MODEL_DATA: &str = "ir.model.data";

/// One column of the import.
#[derive(Debug, Clone)]
enum Column {
    /// `id`: external id of the record.
    XmlId,
    /// `.id`: database id of the record.
    DbId,
    /// A field, with how relational values are given.
    Field { field: &'static Field, by: Ref },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ref {
    Name,
    XmlId,
    DbId,
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "1".into(),
        other => other.to_string(),
    }
}

/// Splits `module.name`; a bare name belongs to `__import__`.
pub(crate) fn split_xmlid(xmlid: &str) -> (String, String) {
    match xmlid.split_once('.') {
        Some((m, n)) => (m.to_string(), n.to_string()),
        None => ("__import__".to_string(), xmlid.to_string()),
    }
}

/// `ir.model.data` row of an external id.
pub(crate) fn find_xmlid(orm: &Orm<'_>, xmlid: &str) -> Option<i64> {
    let (module, name) = split_xmlid(xmlid);
    orm.db.xmlid_row(&module, &name)
}

/// Record id an external id points to, when it is of `model` and exists.
pub(crate) fn resolve_xmlid(orm: &Orm<'_>, xmlid: &str, model: &str) -> Option<i64> {
    xmlid_target(orm, find_xmlid(orm, xmlid)?, model)
}

/// Record id the `ir.model.data` row `row` points to, when it is of `model` and exists.
fn xmlid_target(orm: &Orm<'_>, row: i64, model: &str) -> Option<i64> {
    if orm.stored("ir.model.data", row, "model").as_str() != Some(model) {
        return None;
    }
    let id = as_id(&orm.stored("ir.model.data", row, "res_id"))?;
    orm.exists(model, id).then_some(id)
}

struct RowError {
    field: String,
    label: String,
    message: String,
    moreinfo: Option<Value>,
}

fn moreinfo(res_model: &str, domain: Option<Value>) -> Value {
    let mut info = json!({
        "name": "Possible Values",
        "type": "ir.actions.act_window",
        "target": "new",
        "view_mode": "list,form",
        "views": [[false, "list"], [false, "form"]],
        "context": {"create": false},
        "help": "See all possible values",
        "res_model": res_model,
    });
    if let (Some(d), Some(obj)) = (domain, info.as_object_mut()) {
        obj.insert("domain".into(), d);
    }
    info
}

/// Records found by name in one `load` call, by comodel and lower-cased name: a column of
/// names repeats the same few values on every row, and each search reads the whole comodel.
type NameCache = HashMap<(String, String), Option<i64>>;

fn convert(
    orm: &Orm<'_>,
    field: &'static Field,
    by: Ref,
    raw: &Value,
    names: &RefCell<NameCache>,
) -> Result<Value, RowError> {
    let text = cell_text(raw);
    let err = |message: String, info: Option<Value>| RowError {
        field: field.name.clone(),
        label: field.string.clone(),
        message,
        moreinfo: info,
    };
    if text.is_empty() {
        return Ok(if field.ftype.is_x2many() {
            json!([[6, 0, []]])
        } else {
            Value::Bool(false)
        });
    }
    let comodel = field.relation.clone().unwrap_or_default();
    let resolve_one = |item: &str| -> Result<i64, RowError> {
        match by {
            Ref::XmlId => resolve_xmlid(orm, item, &comodel).ok_or_else(|| {
                err(
                    format!(
                        "No matching record found for external id '{item}' in field '{}'",
                        field.string
                    ),
                    Some(moreinfo(
                        "ir.model.data",
                        Some(json!([["model", "=", comodel]])),
                    )),
                )
            }),
            Ref::DbId => item
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|&i| orm.exists(&comodel, i))
                .ok_or_else(|| {
                    err(
                        format!(
                            "No matching record found for database id '{item}' in field '{}'",
                            field.string
                        ),
                        Some(moreinfo(&comodel, None)),
                    )
                }),
            Ref::Name => {
                let wanted = item.trim().to_lowercase();
                let cache_key = (comodel.clone(), wanted);
                let cached = names.borrow().get(&cache_key).copied();
                let found = match cached {
                    // A record this call found may have been deleted since by another row.
                    Some(hit) => hit.filter(|&i| orm.exists(&comodel, i)),
                    None => {
                        let wanted = &cache_key.1;
                        let hit = orm.db.ids(&comodel).into_iter().find(|&i| {
                            orm.display_name(&comodel, i).to_lowercase() == *wanted
                                || orm
                                    .stored(&comodel, i, "name")
                                    .as_str()
                                    .is_some_and(|n| n.to_lowercase() == *wanted)
                        });
                        // Misses are not kept: a later row may create the record.
                        if hit.is_some() {
                            names.borrow_mut().insert(cache_key.clone(), hit);
                        }
                        hit
                    }
                };
                found.ok_or_else(|| {
                    err(
                        format!(
                            "No matching record found for name '{item}' in field '{}'",
                            field.string
                        ),
                        Some(moreinfo(&comodel, None)),
                    )
                })
            }
        }
    };
    match field.ftype {
        FieldType::Many2one => Ok(json!(resolve_one(&text)?)),
        FieldType::Many2many | FieldType::One2many => {
            let mut ids = Vec::new();
            for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                ids.push(resolve_one(item)?);
            }
            Ok(json!([[6, 0, ids]]))
        }
        FieldType::Boolean => Ok(json!(!matches!(
            text.trim().to_lowercase().as_str(),
            "0" | "false" | "no" | "off" | ""
        ))),
        FieldType::Integer => text.trim().parse::<i64>().map(|n| json!(n)).map_err(|_| {
            err(
                format!(
                    "'{text}' does not seem to be an integer for field '{}'",
                    field.string
                ),
                None,
            )
        }),
        FieldType::Float | FieldType::Monetary => text
            .trim()
            .parse::<f64>()
            .map(super::orm::float)
            .map_err(|_| {
                err(
                    format!(
                        "'{text}' does not seem to be a number for field '{}'",
                        field.string
                    ),
                    None,
                )
            }),
        FieldType::Selection => {
            let items = field
                .selection
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let lower = text.to_lowercase();
            items
                .iter()
                .filter_map(Value::as_array)
                .find(|pair| {
                    pair.first().and_then(Value::as_str) == Some(text.as_str())
                        || pair
                            .get(1)
                            .and_then(Value::as_str)
                            .is_some_and(|l| l.to_lowercase() == lower)
                })
                .and_then(|pair| pair.first().cloned())
                .ok_or_else(|| {
                    err(
                        format!(
                            "Value '{text}' not found in selection field '{}'",
                            field.string
                        ),
                        None,
                    )
                })
        }
        _ => Ok(json!(text)),
    }
}

/// Runs `load`.
pub(crate) fn load(
    orm: &mut Orm<'_>,
    model: &str,
    fields: &Value,
    data: &Value,
) -> OdooResult<Value> {
    let names: Vec<String> = fields
        .as_array()
        .map(|a| a.iter().map(cell_text).collect())
        .unwrap_or_default();
    let mut columns = Vec::new();
    for name in &names {
        let column = match name.as_str() {
            "id" => Column::XmlId,
            ".id" => Column::DbId,
            other => {
                let (base, by) = if let Some(b) = other.strip_suffix("/.id") {
                    (b, Ref::DbId)
                } else if let Some(b) = other.strip_suffix("/id") {
                    (b, Ref::XmlId)
                } else {
                    (other, Ref::Name)
                };
                let field = orm
                    .field(model, base)
                    .filter(|f| f.name != "id")
                    .ok_or_else(|| {
                        OdooError::value(format!("Invalid field name {}", py_str(base)))
                    })?;
                Column::Field { field, by }
            }
        };
        columns.push(column);
    }
    let no_cells: Vec<Value> = Vec::new();
    let rows: Vec<&Vec<Value>> = data
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r.as_array().unwrap_or(&no_cells))
                .collect()
        })
        .unwrap_or_default();
    // Inside the call's transaction: a refused row takes back the rows before it too.
    let savepoint = orm.db.savepoint();
    let names_found = RefCell::new(NameCache::new());
    let mut ids = Vec::new();
    let mut messages = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let mut vals = Map::new();
        let mut xmlid: Option<String> = None;
        let mut db_id: Option<i64> = None;
        for (column, cell) in columns.iter().zip(row.iter()) {
            match column {
                Column::XmlId => {
                    let t = cell_text(cell);
                    if !t.is_empty() {
                        xmlid = Some(t);
                    }
                }
                Column::DbId => db_id = cell_text(cell).trim().parse().ok(),
                Column::Field { field, by } => match convert(orm, field, *by, cell, &names_found) {
                    Ok(v) => {
                        vals.insert(field.name.clone(), v);
                    }
                    Err(e) => {
                        let mut m = json!({
                            "rows": {"from": index, "to": index},
                            "type": "error",
                            "record": index,
                            "field": e.field,
                            "message": e.message,
                            "field_name": e.label,
                        });
                        if let (Some(info), Some(obj)) = (e.moreinfo, m.as_object_mut()) {
                            obj.insert("moreinfo".into(), info);
                        }
                        messages.push(m);
                    }
                },
            }
        }
        // The `ir.model.data` row of the external id, looked up once for both uses.
        let xmlid_row = xmlid.as_deref().and_then(|x| find_xmlid(orm, x));
        let target = match (xmlid_row, db_id) {
            (_, Some(i)) if orm.exists(model, i) => Some(i),
            (Some(r), _) => xmlid_target(orm, r, model),
            _ => None,
        };
        let outcome = match target {
            Some(id) => orm.write(model, &[id], &vals).map(|()| id),
            None => orm.create(model, &vals),
        };
        match outcome {
            Ok(id) => {
                ids.push(id);
                if let Some(x) = &xmlid {
                    upsert_xmlid(orm, x, xmlid_row, model, id)?;
                }
            }
            Err(e) => messages.push(json!({
                "rows": {"from": index, "to": index},
                "type": "error",
                "record": index,
                "message": e.message,
            })),
        }
    }
    if messages.iter().any(|m| m["type"] == "error") {
        orm.db.rollback_to(savepoint);
        return Ok(json!({"ids": false, "messages": messages, "nextrow": 0}));
    }
    Ok(json!({"ids": ids, "messages": messages, "nextrow": 0}))
}

/// Creates or updates the `ir.model.data` row of an external id. An update takes a sequence
/// value too, as PostgreSQL's `INSERT ... ON CONFLICT DO UPDATE` does.
fn upsert_xmlid(
    orm: &mut Orm<'_>,
    xmlid: &str,
    row: Option<i64>,
    model: &str,
    id: i64,
) -> OdooResult<()> {
    let (module, name) = split_xmlid(xmlid);
    // Looked up before the record was written: see whether that row is still there.
    let row = match row {
        Some(r) if orm.exists(IR_MODEL_DATA, r) => Some(r),
        Some(_) => find_xmlid(orm, xmlid),
        None => None,
    };
    match row {
        Some(row) => {
            orm.db.next_id("ir.model.data");
            orm.set(
                "ir.model.data",
                row,
                &[("model", json!(model)), ("res_id", json!(id))],
            );
        }
        None => {
            // Odoo writes the external ids of an import with one SQL `INSERT` into
            // `ir_model_data` (`_update_xmlids`), not through the ORM; the name is known to be
            // free (looked up above), which is all the ORM's constraint would check.
            let now = json!(orm.db.now_text());
            let uid = json!(orm.ctx.uid);
            let row: Row = [
                ("module", json!(module)),
                ("name", json!(name)),
                ("model", json!(model)),
                ("res_id", json!(id)),
                ("noupdate", json!(false)),
                ("create_uid", uid.clone()),
                ("write_uid", uid),
                ("create_date", now.clone()),
                ("write_date", now),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let row_id = orm.db.next_id(IR_MODEL_DATA);
            orm.db.insert(IR_MODEL_DATA, row_id, row);
        }
    }
    Ok(())
}
