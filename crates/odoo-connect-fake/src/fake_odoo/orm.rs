//! The generic ORM: reading values (stored, computed, inverse relations), formatting them as
//! `read` does, searching, ordering, creating, writing, unlinking and x2many commands.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::compute;
use super::domain::Domain;
use super::errors::{OdooError, OdooResult, py_str};
use super::models::{self, ModelMeta};
use super::schema::{Field, FieldType, ModelSchema, Schema};
use super::store::{Db, Row, fmt_datetime, parse_date, parse_datetime};

/// Uid of the superuser (OdooBot).
pub(crate) const SUPERUSER: i64 = 1;
/// Uid of the administrator.
pub(crate) const ADMIN_UID: i64 = 2;

/// The caller and its context.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) uid: i64,
    pub(crate) context: Map<String, Value>,
    pub(crate) lang: String,
    pub(crate) active_test: bool,
    /// Allowed companies, the current one first.
    pub(crate) companies: Vec<i64>,
    /// Bypasses access rights and record rules (internal business logic).
    pub(crate) sudo: bool,
}

/// How many2one values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Load {
    /// `[id, display_name]`.
    Classic,
    /// Bare id (`load=None`).
    Raw,
}

/// Kinds of access checked by [`Orm::check_access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    Create,
    Unlink,
}

/// An x2many change to apply once the owning record exists.
#[derive(Debug, Clone)]
pub(crate) struct PendingX2many {
    field: &'static Field,
    value: Value,
}

/// The ORM on a database, for one caller.
#[derive(Debug)]
pub(crate) struct Orm<'a> {
    pub(crate) db: &'a mut Db,
    pub(crate) schema: &'static Schema,
    pub(crate) ctx: Ctx,
}

/// `Value` as an id (integers, or floats with no fraction).
pub(crate) fn as_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        _ => None,
    }
}

/// Ids from an `ids` argument: a list of ints or a single int.
pub(crate) fn ids_of(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Array(items) => items.iter().map(as_id).collect(),
        Value::Null | Value::Bool(false) => Some(Vec::new()),
        other => as_id(other).map(|id| vec![id]),
    }
}

/// Whether a raw value is empty (Odoo's falsy values in the database).
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A float as Odoo sends it (always a JSON float).
pub(crate) fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Odoo's `float_round` (half away from zero, tolerant to binary representation errors).
pub(crate) fn round_to(value: f64, precision: f64) -> f64 {
    if precision <= 0.0 || value == 0.0 {
        return value;
    }
    let normalized = value / precision;
    let magnitude = normalized.abs().log2();
    let epsilon = 2f64.powf(magnitude - 52.0);
    let nudged = normalized + normalized.signum() * epsilon;
    let rounded = nudged.round() * precision;
    // Clean up float noise so the JSON text is the shortest representation.
    let digits = (-precision.log10()).ceil().max(0.0) as i32;
    let scale = 10f64.powi(digits);
    (rounded * scale).round() / scale
}

/// Money rounding to the cent.
pub(crate) fn money(value: f64) -> f64 {
    round_to(value, 0.01)
}

pub(crate) fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(true) => 1.0,
        _ => 0.0,
    }
}

/// Sort key of one value.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Null,
    Num(f64),
    Text(String),
}

impl Key {
    fn cmp_present(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            (Key::Num(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Num(_)) => Ordering::Greater,
            _ => Ordering::Equal,
        }
    }
}

/// One term of an `order` clause.
#[derive(Debug, Clone)]
pub(crate) struct OrderTerm {
    pub(crate) field: String,
    pub(crate) desc: bool,
    pub(crate) nulls_first: Option<bool>,
}

/// Parses `"name desc, id"`.
pub(crate) fn parse_order(order: &str) -> Vec<OrderTerm> {
    order
        .split(',')
        .filter_map(|term| {
            let words: Vec<String> = term.split_whitespace().map(str::to_lowercase).collect();
            let raw: Vec<&str> = term.split_whitespace().collect();
            let field = (*raw.first()?).to_string();
            let desc = words.get(1).is_some_and(|w| w == "desc");
            let nulls_first = match (words.get(words.len().saturating_sub(2)), words.last()) {
                (Some(n), Some(w)) if n == "nulls" && w == "first" => Some(true),
                (Some(n), Some(w)) if n == "nulls" && w == "last" => Some(false),
                _ => None,
            };
            Some(OrderTerm {
                field,
                desc,
                nulls_first,
            })
        })
        .collect()
}

impl<'a> Orm<'a> {
    pub(crate) fn new(db: &'a mut Db, schema: &'static Schema, ctx: Ctx) -> Orm<'a> {
        Orm { db, schema, ctx }
    }

    pub(crate) fn version(&self) -> u8 {
        self.schema.version
    }

    /// The schema of a model the fake serves.
    pub(crate) fn model(&self, model: &str) -> Option<&'static ModelSchema> {
        models::model_meta(model)?;
        self.schema.model(model)
    }

    pub(crate) fn meta(&self, model: &str) -> Option<&'static ModelMeta> {
        models::model_meta(model)
    }

    /// A field by API name.
    pub(crate) fn field(&self, model: &str, name: &str) -> Option<&'static Field> {
        self.model(model).and_then(|m| m.field(name))
    }

    /// A field by storage name.
    pub(crate) fn sfield(&self, model: &str, storage: &str) -> Option<&'static Field> {
        self.model(model).and_then(|m| m.by_storage(storage))
    }

    pub(crate) fn has_field(&self, model: &str, storage: &str) -> bool {
        self.sfield(model, storage).is_some()
    }

    /// `ValueError` for an unknown field name, worded per version.
    pub(crate) fn invalid_field(&self, model: &str, name: &str) -> OdooError {
        if self.version() >= 19 {
            OdooError::value(format!(
                "Invalid field {} on {}",
                py_str(name),
                py_str(model)
            ))
        } else {
            OdooError::value(format!(
                "Invalid field {} on model {}",
                py_str(name),
                py_str(model)
            ))
        }
    }

    /// Runs `f` with access rights and record rules bypassed.
    pub(crate) fn sudo<T>(&mut self, f: impl FnOnce(&mut Orm<'_>) -> T) -> T {
        let previous = self.ctx.sudo;
        self.ctx.sudo = true;
        let out = f(self);
        self.ctx.sudo = previous;
        out
    }

    // ------------------------------------------------------------------ access

    pub(crate) fn is_admin(&self) -> bool {
        self.ctx.sudo || self.ctx.uid == ADMIN_UID || self.ctx.uid == SUPERUSER
    }

    /// Model access rights: the administrator may do everything; other users cannot see
    /// `ir.config_parameter` and only read the configuration models.
    pub(crate) fn check_access(&self, model: &str, access: Access) -> OdooResult<()> {
        if self.is_admin() {
            return Ok(());
        }
        let settings_only = model == "ir.config_parameter";
        let read_only = matches!(
            model,
            "res.company"
                | "res.users"
                | "res.currency"
                | "res.country"
                | "res.lang"
                | "account.journal"
                | "account.tax"
                | "account.payment.term"
                | "account.payment.method.line"
                | "uom.uom"
                | "ir.model.data"
                | "base.language.install"
                | "resource.calendar"
                | "account.analytic.plan"
                | "ir.module.module"
                | "product.pricelist"
        );
        let denied = settings_only || (read_only && access != Access::Read);
        if !denied {
            return Ok(());
        }
        let verb = match access {
            Access::Read => "access",
            Access::Write => "modify",
            Access::Create => "create",
            Access::Unlink => "delete",
        };
        let description = self.meta(model).map_or(model, |m| m.description);
        let group = match (settings_only, self.version() >= 19) {
            (true, true) => "Role / Administrator",
            (true, false) => "Administration/Settings",
            (false, true) => "Access Rights",
            (false, false) => "Administration/Access Rights",
        };
        Err(OdooError::access(format!(
            "You are not allowed to {verb} '{description}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- {group}\n\nContact your administrator to request access if necessary."
        )))
    }

    /// The record rule of multi-company models.
    pub(crate) fn rule_allows(&self, model: &str, id: i64) -> bool {
        if self.ctx.sudo {
            return true;
        }
        let Some(meta) = self.meta(model) else {
            return true;
        };
        if !meta.company_rule || !self.has_field(model, "company_id") {
            return true;
        }
        match as_id(&self.get(model, id, "company_id")) {
            None => true,
            Some(c) => self.ctx.companies.contains(&c),
        }
    }

    // ------------------------------------------------------------------ values

    pub(crate) fn row(&self, model: &str, id: i64) -> Option<&Row> {
        self.db.row(model, id)
    }

    pub(crate) fn exists(&self, model: &str, id: i64) -> bool {
        self.db.exists(model, id)
    }

    /// The stored value, `null` when absent.
    pub(crate) fn stored(&self, model: &str, id: i64, storage: &str) -> Value {
        self.row(model, id)
            .and_then(|r| r.get(storage))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The value of a field (storage name) in its raw form: many2one as an id or `null`,
    /// x2many as an id list, other empty values as `null`.
    pub(crate) fn get(&self, model: &str, id: i64, storage: &str) -> Value {
        if storage == "id" {
            return json!(id);
        }
        if !self.exists(model, id) {
            return Value::Null;
        }
        if let Some(v) = compute::computed(self, model, id, storage) {
            return v;
        }
        if model == "product.product"
            && compute::delegated_to_template(storage)
            && let Some(t) = as_id(&self.stored(model, id, "product_tmpl_id"))
        {
            return self.get("product.template", t, storage);
        }
        let Some(field) = self.sfield(model, storage) else {
            return self.stored(model, id, storage);
        };
        match field.ftype {
            FieldType::One2many => {
                let comodel = field.relation.as_deref().unwrap_or_default();
                match models::one2many_inverse(model, storage) {
                    Some(inverse) => {
                        let ids = self.children(comodel, inverse, id);
                        self.visible_sorted(comodel, ids)
                    }
                    None => self.stored_ids(comodel, model, id, storage),
                }
            }
            FieldType::Many2many => {
                let comodel = field.relation.as_deref().unwrap_or_default();
                match models::many2many_inverse(model, storage) {
                    Some(inverse) => {
                        let ids: Vec<i64> = self
                            .db
                            .table(comodel)
                            .map(|t| {
                                t.rows
                                    .iter()
                                    .filter(|(_, row)| {
                                        row.get(inverse)
                                            .and_then(Value::as_array)
                                            .is_some_and(|a| a.iter().any(|x| as_id(x) == Some(id)))
                                    })
                                    .map(|(k, _)| *k)
                                    .collect()
                            })
                            .unwrap_or_default();
                        self.visible_sorted(comodel, ids)
                    }
                    None => self.stored_ids(comodel, model, id, storage),
                }
            }
            _ => self.stored(model, id, storage),
        }
    }

    fn stored_ids(&self, comodel: &str, model: &str, id: i64, storage: &str) -> Value {
        let ids: Vec<i64> = self
            .stored(model, id, storage)
            .as_array()
            .map(|a| a.iter().filter_map(as_id).collect())
            .unwrap_or_default();
        if self.model(comodel).is_none() {
            return json!(ids);
        }
        self.visible_sorted(comodel, ids)
    }

    /// Ids of `comodel` whose many2one `inverse` is `id`.
    pub(crate) fn children(&self, comodel: &str, inverse: &str, id: i64) -> Vec<i64> {
        self.db
            .table(comodel)
            .map(|t| {
                t.rows
                    .iter()
                    .filter(|(_, row)| row.get(inverse).and_then(as_id) == Some(id))
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Existing, active (when `active_test`) ids of `comodel`, in its default order.
    pub(crate) fn visible_sorted(&self, comodel: &str, ids: Vec<i64>) -> Value {
        let mut ids: Vec<i64> = ids
            .into_iter()
            .filter(|&i| self.exists(comodel, i))
            .filter(|&i| !self.ctx.active_test || self.is_active(comodel, i))
            .collect();
        let mut seen = BTreeSet::new();
        ids.retain(|i| seen.insert(*i));
        let order = self.meta(comodel).map_or("id", |m| m.order);
        self.sort_ids(comodel, &mut ids, order);
        json!(ids)
    }

    pub(crate) fn is_active(&self, model: &str, id: i64) -> bool {
        if !self.has_field(model, "active") {
            return true;
        }
        // A record without a stored value has the field's default, which is true.
        !matches!(self.get(model, id, "active"), Value::Bool(false))
    }

    /// The display name of a record.
    pub(crate) fn display_name(&self, model: &str, id: i64) -> String {
        compute::display_name(self, model, id)
    }

    /// A many2one value as `read` gives it.
    pub(crate) fn m2o(&self, comodel: &str, id: Option<i64>, load: Load) -> Value {
        match id {
            Some(i) if self.exists(comodel, i) || self.model(comodel).is_none() => match load {
                Load::Raw => json!(i),
                Load::Classic => {
                    if self.model(comodel).is_none() {
                        json!([i, format!("{comodel},{i}")])
                    } else {
                        json!([i, self.display_name(comodel, i)])
                    }
                }
            },
            _ => Value::Bool(false),
        }
    }

    /// A field value as `read` gives it.
    pub(crate) fn read_value(&self, model: &str, id: i64, field: &Field, load: Load) -> Value {
        let raw = if field.storage == "display_name" {
            json!(self.display_name(model, id))
        } else {
            self.get(model, id, &field.storage)
        };
        self.format(field, raw, load)
    }

    /// Formats a raw value of `field` for the wire.
    pub(crate) fn format(&self, field: &Field, raw: Value, load: Load) -> Value {
        match field.ftype {
            FieldType::Many2one => {
                let comodel = field.relation.as_deref().unwrap_or_default();
                self.m2o(comodel, as_id(&raw), load)
            }
            FieldType::One2many | FieldType::Many2many => match raw {
                Value::Array(a) => Value::Array(a),
                _ => json!([]),
            },
            FieldType::Integer => match raw {
                Value::Null | Value::Bool(false) => json!(0),
                Value::Number(n) => json!(
                    n.as_i64()
                        .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64)
                ),
                other => other,
            },
            FieldType::Float | FieldType::Monetary => match raw {
                Value::Null | Value::Bool(false) => float(0.0),
                Value::Number(n) => float(n.as_f64().unwrap_or(0.0)),
                other => other,
            },
            FieldType::Boolean => Value::Bool(matches!(raw, Value::Bool(true))),
            FieldType::Many2oneReference => match raw {
                Value::Null => json!(0),
                other => other,
            },
            _ => match raw {
                Value::Null => Value::Bool(false),
                Value::String(s) if s.is_empty() && field.ftype != FieldType::Char => {
                    Value::Bool(false)
                }
                other => other,
            },
        }
    }

    // ------------------------------------------------------------------ ordering

    fn sort_key(&self, model: &str, id: i64, field: &str) -> Key {
        if field == "id" {
            return Key::Num(id as f64);
        }
        let Some(f) = self
            .field(model, field)
            .or_else(|| self.sfield(model, field))
        else {
            return Key::Null;
        };
        let raw = if f.storage == "display_name" {
            json!(self.display_name(model, id))
        } else {
            self.get(model, id, &f.storage)
        };
        match f.ftype {
            FieldType::Many2one => match as_id(&raw) {
                Some(i) => {
                    let comodel = f.relation.as_deref().unwrap_or_default();
                    Key::Text(self.display_name(comodel, i))
                }
                None => Key::Null,
            },
            FieldType::Boolean => match raw {
                Value::Bool(b) => Key::Num(if b { 1.0 } else { 0.0 }),
                _ => Key::Null,
            },
            _ => match raw {
                Value::Null => Key::Null,
                Value::Number(n) => Key::Num(n.as_f64().unwrap_or(0.0)),
                Value::String(s) => Key::Text(s),
                Value::Bool(b) => Key::Num(if b { 1.0 } else { 0.0 }),
                _ => Key::Null,
            },
        }
    }

    /// Sorts ids by an order clause; unknown fields are ignored here (they are rejected by
    /// [`Orm::check_order`]).
    pub(crate) fn sort_ids(&self, model: &str, ids: &mut [i64], order: &str) {
        let terms = parse_order(order);
        let mut keyed: Vec<(Vec<Key>, i64)> = ids
            .iter()
            .map(|&id| {
                (
                    terms
                        .iter()
                        .map(|t| self.sort_key(model, id, &t.field))
                        .collect(),
                    id,
                )
            })
            .collect();
        keyed.sort_by(|(ka, ia), (kb, ib)| {
            for (i, t) in terms.iter().enumerate() {
                let (a, b) = (&ka[i], &kb[i]);
                let nulls_first = t.nulls_first.unwrap_or(t.desc);
                let ord = match (a == &Key::Null, b == &Key::Null) {
                    (true, true) => Ordering::Equal,
                    (true, false) => {
                        if nulls_first {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (false, true) => {
                        if nulls_first {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (false, false) => {
                        let o = a.cmp_present(b);
                        if t.desc { o.reverse() } else { o }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            ia.cmp(ib)
        });
        for (slot, (_, id)) in ids.iter_mut().zip(keyed) {
            *slot = id;
        }
    }

    /// Rejects order clauses naming unknown fields.
    pub(crate) fn check_order(&self, model: &str, order: &str) -> OdooResult<()> {
        for term in parse_order(order) {
            if term.field != "id" && self.field(model, &term.field).is_none() {
                return Err(OdooError::value(format!(
                    "Invalid field {} on model {}",
                    py_str(&term.field),
                    py_str(model)
                )));
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ search

    /// Ids matching a domain, with `active_test` and record rules applied.
    pub(crate) fn search(
        &self,
        model: &str,
        domain: &Value,
        order: Option<&str>,
        offset: usize,
        limit: Option<usize>,
    ) -> OdooResult<Vec<i64>> {
        let parsed = Domain::parse(self, model, domain)?;
        let check_active = self.ctx.active_test
            && self.has_field(model, "active")
            && !parsed.mentions_field("active");
        let mut ids = Vec::new();
        for id in self.db.ids(model) {
            if check_active && !self.is_active(model, id) {
                continue;
            }
            if !self.rule_allows(model, id) {
                continue;
            }
            if parsed.matches(self, model, id)? {
                ids.push(id);
            }
        }
        let order = match order {
            Some(o) if !o.trim().is_empty() => {
                self.check_order(model, o)?;
                o
            }
            _ => self.meta(model).map_or("id", |m| m.order),
        };
        self.sort_ids(model, &mut ids, order);
        let ids: Vec<i64> = ids.into_iter().skip(offset).collect();
        Ok(match limit {
            Some(l) => ids.into_iter().take(l).collect(),
            None => ids,
        })
    }

    // ------------------------------------------------------------------ writing

    /// Converts an incoming value of `field` to its stored form.
    pub(crate) fn convert_in(
        &self,
        model: &str,
        field: &Field,
        value: &Value,
    ) -> OdooResult<Value> {
        let empty = matches!(value, Value::Null | Value::Bool(false));
        Ok(match field.ftype {
            FieldType::Boolean => Value::Bool(match value {
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
                Value::String(s) => !s.is_empty(),
                Value::Null => false,
                _ => true,
            }),
            _ if empty => Value::Null,
            FieldType::Integer => match value {
                Value::Number(n) => {
                    json!(
                        n.as_i64()
                            .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64)
                    )
                }
                Value::Bool(true) => json!(1),
                Value::String(s) => json!(s.trim().parse::<i64>().map_err(|_| {
                    OdooError::value(format!(
                        "invalid literal for int() with base 10: {}",
                        py_str(s)
                    ))
                })?),
                _ => return Err(self.wrong_value(model, field, value)),
            },
            FieldType::Float | FieldType::Monetary => match value {
                Value::Number(n) => float(n.as_f64().unwrap_or(0.0)),
                Value::String(s) => float(s.trim().parse::<f64>().map_err(|_| {
                    OdooError::value(format!("could not convert string to float: {}", py_str(s)))
                })?),
                Value::Bool(true) => float(1.0),
                _ => return Err(self.wrong_value(model, field, value)),
            },
            FieldType::Date => match value {
                Value::String(s) => match parse_date(s) {
                    Some(d) => json!(d.format("%Y-%m-%d").to_string()),
                    None => {
                        return Err(OdooError::value(format!(
                            "time data {} does not match format '%Y-%m-%d'",
                            py_str(s)
                        )));
                    }
                },
                _ => return Err(self.wrong_value(model, field, value)),
            },
            FieldType::Datetime => match value {
                Value::String(s) => match parse_datetime(s) {
                    Some(d) => json!(fmt_datetime(d)),
                    None => {
                        return Err(OdooError::value(format!(
                            "time data {} does not match format '%Y-%m-%d %H:%M:%S'",
                            py_str(s)
                        )));
                    }
                },
                _ => return Err(self.wrong_value(model, field, value)),
            },
            FieldType::Selection => {
                let allowed = if field.storage == "lang" {
                    compute::active_langs(self)
                        .iter()
                        .any(|l| value.as_str() == Some(l))
                } else {
                    field.selection_allows(value)
                };
                if !allowed {
                    return Err(self.wrong_value(model, field, value));
                }
                value.clone()
            }
            FieldType::Many2one => {
                let id = match value {
                    Value::Array(pair) => pair.first().and_then(as_id),
                    other => as_id(other),
                };
                let Some(id) = id else {
                    return Err(self.wrong_value(model, field, value));
                };
                let comodel = field.relation.as_deref().unwrap_or_default();
                if self.model(comodel).is_some() && !self.exists(comodel, id) {
                    return Err(OdooError::validation(format!(
                        "The operation cannot be completed: the value {id} of '{}' ({}) is not an existing {} record.",
                        field.string, field.name, comodel
                    )));
                }
                json!(id)
            }
            FieldType::Char | FieldType::Text | FieldType::Html => match value {
                Value::String(_) => value.clone(),
                Value::Number(n) => json!(n.to_string()),
                _ => return Err(self.wrong_value(model, field, value)),
            },
            _ => value.clone(),
        })
    }

    fn wrong_value(&self, model: &str, field: &Field, value: &Value) -> OdooError {
        OdooError::value(format!(
            "Wrong value for {model}.{}: {}",
            field.name,
            super::errors::py_repr(value)
        ))
    }

    /// Splits incoming values into stored values and pending x2many commands.
    fn prepare_vals(
        &self,
        model: &str,
        vals: &Map<String, Value>,
    ) -> OdooResult<(Row, Vec<PendingX2many>)> {
        let schema = self
            .model(model)
            .ok_or_else(|| self.invalid_field(model, ""))?;
        let mut row = Row::new();
        let mut pending = Vec::new();
        for (name, value) in vals {
            let Some(field) = schema.field(name) else {
                return Err(self.invalid_field(model, name));
            };
            if field.storage == "id" || compute::is_computed(model, &field.storage) {
                continue;
            }
            if field.ftype.is_x2many() {
                pending.push(PendingX2many {
                    field,
                    value: value.clone(),
                });
                continue;
            }
            let stored = self.convert_in(model, field, value)?;
            row.insert(field.storage.clone(), stored);
        }
        Ok((row, pending))
    }

    /// Creates one record.
    pub(crate) fn create(&mut self, model: &str, vals: &Map<String, Value>) -> OdooResult<i64> {
        self.check_access(model, Access::Create)?;
        self.db.records_touched += 1;
        if self.model(model).is_none() {
            return Err(OdooError::user(format!("Object {model} doesn't exist")));
        }
        let mut vals = vals.clone();
        // Context defaults, as `default_<field>` keys.
        let defaults: Vec<(String, Value)> = self
            .ctx
            .context
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("default_")
                    .map(|f| (f.to_string(), v.clone()))
            })
            .filter(|(f, _)| self.field(model, f).is_some())
            .collect();
        for (f, v) in defaults {
            vals.entry(f).or_insert(v);
        }
        let (mut row, pending) = self.prepare_vals(model, &vals)?;
        compute::defaults(self, model, &mut row)?;
        // The id is taken at INSERT time: a NOT NULL violation consumes it, as in PostgreSQL.
        let id = self.db.next_id(model);
        self.check_required(model, &row)?;
        let now = self.db.now_text();
        let uid = json!(self.ctx.uid);
        for (k, v) in [
            ("create_uid", uid.clone()),
            ("write_uid", uid),
            ("create_date", json!(now.clone())),
            ("write_date", json!(now)),
        ] {
            if self.has_field(model, k) {
                row.entry(k.to_string()).or_insert(v);
            }
        }
        self.db.insert(model, id, row);
        for p in pending {
            self.apply_x2many(model, id, p.field, &p.value)?;
        }
        compute::after_create(self, model, id)?;
        compute::check_constraints(self, model, &[id])?;
        self.check_company(model, &[id], None)?;
        Ok(id)
    }

    // ------------------------------------------------------------------ companies

    /// The company of a record (storage `company_id`, computed ones included), `None` when the
    /// record is shared or the model has no company.
    pub(crate) fn company_of(&self, model: &str, id: i64) -> Option<i64> {
        if model == "account.payment.method.line" {
            let journal = as_id(&self.get(model, id, "journal_id"))?;
            return self.company_of("account.journal", journal);
        }
        as_id(&self.get(model, id, "company_id"))
    }

    /// Whether a record of `comodel` may be linked from a record of `company` (Odoo's
    /// `_check_company_domain`: its company is `company` or none; with no company, only shared
    /// records). Models without a company are always compatible.
    fn company_compatible(&self, comodel: &str, id: i64, company: Option<i64>) -> bool {
        if self.has_field(comodel, "company_id") || comodel == "account.payment.method.line" {
            return match self.company_of(comodel, id) {
                None => true,
                Some(c) => Some(c) == company,
            };
        }
        if self.has_field(comodel, "company_ids") {
            let companies: Vec<i64> = self
                .stored(comodel, id, "company_ids")
                .as_array()
                .map(|a| a.iter().filter_map(as_id).collect())
                .unwrap_or_default();
            return companies.is_empty() || company.is_some_and(|c| companies.contains(&c));
        }
        true
    }

    /// Odoo's `_check_company` on the models with `_check_company_auto`: the values of their
    /// `check_company=True` fields (all of them, or those `written` when the company itself was
    /// not written) must belong to the record's company or to none, else the `UserError` Odoo
    /// raises, listing up to five inconsistencies.
    pub(crate) fn check_company(
        &self,
        model: &str,
        ids: &[i64],
        written: Option<&[&str]>,
    ) -> OdooResult<()> {
        let Some(fields) = models::check_company_fields(model) else {
            return Ok(());
        };
        let all =
            written.is_none_or(|w| w.iter().any(|f| matches!(*f, "company_id" | "company_ids")));
        let fields: Vec<&'static Field> = fields
            .iter()
            .filter(|f| all || written.is_some_and(|w| w.contains(f)))
            .filter_map(|f| self.sfield(model, f))
            .filter(|f| f.ftype.is_relational())
            .collect();
        if fields.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for &id in ids {
            let company = self.company_of(model, id);
            for field in &fields {
                let comodel = field.relation.as_deref().unwrap_or_default();
                if self.model(comodel).is_none() {
                    continue;
                }
                let corecords: Vec<i64> = match self.get(model, id, &field.storage) {
                    Value::Array(items) => items.iter().filter_map(as_id).collect(),
                    other => as_id(&other).into_iter().collect(),
                };
                let corecords: Vec<i64> = corecords
                    .into_iter()
                    .filter(|&c| self.exists(comodel, c))
                    .collect();
                if corecords
                    .iter()
                    .all(|&c| self.company_compatible(comodel, c, company))
                {
                    continue;
                }
                let companies = company
                    .map(|c| self.display_name("res.company", c))
                    .unwrap_or_default();
                let values: Vec<String> = corecords
                    .iter()
                    .map(|&c| py_str(&self.display_name(comodel, c)))
                    .collect();
                lines.push(format!(
                    "- \u{201c}{}\u{201d} belongs to company \u{201c}{companies}\u{201d} while \u{201c}{}\u{201d} ({}: {}) belongs to another company.",
                    self.display_name(model, id),
                    field.string,
                    field.name,
                    values.join(", ")
                ));
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        lines.truncate(5);
        Err(OdooError::user(format!(
            "Uh-oh! You\u{2019}ve got some company inconsistencies here:\n{}\nTo avoid a mess, no company crossover is allowed!",
            lines.join("\n")
        )))
    }

    fn check_required(&self, model: &str, row: &Row) -> OdooResult<()> {
        let Some(meta) = self.meta(model) else {
            return Ok(());
        };
        for &name in meta.required {
            if row.get(name).is_none_or(is_empty) {
                let label = self
                    .sfield(model, name)
                    .map_or(name.to_string(), |f| f.string.clone());
                let api = self.sfield(model, name).map_or(name, |f| f.name.as_str());
                return Err(self.missing_required(meta, &label, api));
            }
        }
        Ok(())
    }

    /// The `ValidationError` of a NOT NULL violation.
    pub(crate) fn missing_required(&self, meta: &ModelMeta, label: &str, field: &str) -> OdooError {
        let model = meta.name;
        let description = meta.description;
        if self.version() >= 19 {
            OdooError::validation(format!(
                "The operation cannot be completed: Missing required value for the field '{label}' ({field}).\nModel: '{description}' ({model})\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n"
            ))
        } else {
            OdooError::validation(format!(
                "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: {description} ({model})\nField: {label} ({field})\n"
            ))
        }
    }

    /// Fails with `MissingError` when some ids do not exist.
    pub(crate) fn ensure_exist(&self, model: &str, ids: &[i64]) -> OdooResult<()> {
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|&i| !self.exists(model, i))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(OdooError::missing(model, &missing, self.ctx.uid))
        }
    }

    /// Writes values on records.
    pub(crate) fn write(
        &mut self,
        model: &str,
        ids: &[i64],
        vals: &Map<String, Value>,
    ) -> OdooResult<()> {
        self.check_access(model, Access::Write)?;
        self.ensure_exist(model, ids)?;
        self.db.records_touched += ids.len() as u64;
        let (row_vals, pending) = self.prepare_vals(model, vals)?;
        compute::before_write(self, model, ids, &row_vals)?;
        let now = json!(self.db.now_text());
        let uid = json!(self.ctx.uid);
        let has_meta = self.has_field(model, "write_date");
        for &id in ids {
            let delegated: Vec<(String, Value)> = if model == "product.product" {
                row_vals
                    .iter()
                    .filter(|(k, _)| compute::delegated_to_template(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            if let Some(row) = self.db.row_mut(model, id) {
                for (k, v) in &row_vals {
                    if model == "product.product" && compute::delegated_to_template(k) {
                        continue;
                    }
                    row.insert(k.clone(), v.clone());
                }
                if has_meta {
                    row.insert("write_date".into(), now.clone());
                    row.insert("write_uid".into(), uid.clone());
                }
            }
            if !delegated.is_empty()
                && let Some(t) = as_id(&self.stored(model, id, "product_tmpl_id"))
                && let Some(trow) = self.db.row_mut("product.template", t)
            {
                for (k, v) in delegated {
                    trow.insert(k, v);
                }
            }
            for p in &pending {
                self.apply_x2many(model, id, p.field, &p.value)?;
            }
        }
        compute::after_write(self, model, ids, &row_vals)?;
        compute::check_constraints(self, model, ids)?;
        let written: Vec<&str> = vals
            .keys()
            .filter_map(|k| self.field(model, k))
            .map(|f| f.storage.as_str())
            .collect();
        self.check_company(model, ids, Some(&written))?;
        Ok(())
    }

    /// Marks records as written now (after business changes).
    pub(crate) fn touch(&mut self, model: &str, id: i64) {
        let now = json!(self.db.now_text());
        let uid = json!(self.ctx.uid);
        if let Some(row) = self.db.row_mut(model, id) {
            row.insert("write_date".into(), now);
            row.insert("write_uid".into(), uid);
        }
    }

    /// Sets stored values directly (business logic), touching `write_date`.
    pub(crate) fn set(&mut self, model: &str, id: i64, values: &[(&str, Value)]) {
        if let Some(row) = self.db.row_mut(model, id) {
            for (k, v) in values {
                row.insert((*k).to_string(), v.clone());
            }
        }
        self.touch(model, id);
    }

    /// Deletes records.
    pub(crate) fn unlink(&mut self, model: &str, ids: &[i64]) -> OdooResult<()> {
        self.check_access(model, Access::Unlink)?;
        self.ensure_exist(model, ids)?;
        compute::before_unlink(self, model, ids)?;
        for &id in ids {
            self.remove(model, id);
        }
        Ok(())
    }

    /// Removes a record and, through cascading one2many inverses, its lines.
    pub(crate) fn remove(&mut self, model: &str, id: i64) {
        self.db.remove(model, id);
        let cascading: Vec<(String, &'static str)> = self
            .model(model)
            .map(|m| {
                m.fields
                    .iter()
                    .filter(|f| f.ftype == FieldType::One2many)
                    .filter_map(|f| {
                        let comodel = f.relation.clone()?;
                        let inverse = models::one2many_inverse(model, &f.storage)?;
                        models::cascades(&comodel, inverse).then_some((comodel, inverse))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (comodel, inverse) in cascading {
            for child in self.children(&comodel, inverse, id) {
                self.remove(&comodel, child);
            }
        }
    }

    // ------------------------------------------------------------------ x2many

    /// Applies x2many commands (or a plain id list) to one record.
    pub(crate) fn apply_x2many(
        &mut self,
        model: &str,
        id: i64,
        field: &Field,
        value: &Value,
    ) -> OdooResult<()> {
        let comodel = field.relation.clone().unwrap_or_default();
        let inverse = if field.ftype == FieldType::One2many {
            models::one2many_inverse(model, &field.storage)
        } else {
            None
        };
        let commands: Vec<Value> = match value {
            Value::Array(items)
                if items.iter().all(|i| as_id(i).is_some()) && !items.is_empty() =>
            {
                vec![json!([6, 0, items])]
            }
            Value::Array(items) => items.clone(),
            Value::Null | Value::Bool(false) => vec![json!([5])],
            _ => return Err(self.wrong_value(model, field, value)),
        };
        let bad = || {
            OdooError::value(format!(
                "Invalid command for {model}.{}: {}",
                field.name,
                super::errors::py_repr(value)
            ))
        };
        for command in commands {
            let Some(parts) = command.as_array() else {
                return Err(bad());
            };
            let code = parts.first().and_then(as_id).ok_or_else(bad)?;
            let target = parts.get(1).and_then(as_id);
            match code {
                0 => {
                    let mut vals = parts
                        .get(2)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if let Some(inv) = inverse {
                        let inv_api = self
                            .sfield(&comodel, inv)
                            .map_or(inv.to_string(), |f| f.name.clone());
                        vals.insert(inv_api, json!(id));
                    }
                    let child = self.create(&comodel, &vals)?;
                    if inverse.is_none() {
                        self.link(model, id, &field.storage, &[child]);
                    }
                }
                1 => {
                    let child = target.ok_or_else(bad)?;
                    let vals = parts
                        .get(2)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    self.write(&comodel, &[child], &vals)?;
                }
                2 => {
                    let child = target.ok_or_else(bad)?;
                    self.unlink_relation(model, id, field, &comodel, inverse, child);
                    self.unlink(&comodel, &[child])?;
                }
                3 => {
                    let child = target.ok_or_else(bad)?;
                    self.unlink_relation(model, id, field, &comodel, inverse, child);
                    if let Some(inv) = inverse
                        && models::cascades(&comodel, inv)
                    {
                        self.unlink(&comodel, &[child])?;
                    }
                }
                4 => {
                    let child = target.ok_or_else(bad)?;
                    self.ensure_exist(&comodel, &[child])?;
                    match inverse {
                        Some(inv) => self.set(&comodel, child, &[(inv, json!(id))]),
                        None => self.link(model, id, &field.storage, &[child]),
                    }
                }
                5 => {
                    let current: Vec<i64> =
                        self.current_x2many(model, id, field, inverse, &comodel);
                    for child in current {
                        self.unlink_relation(model, id, field, &comodel, inverse, child);
                        if let Some(inv) = inverse
                            && models::cascades(&comodel, inv)
                        {
                            self.unlink(&comodel, &[child])?;
                        }
                    }
                }
                6 => {
                    let wanted: Vec<i64> = parts
                        .get(2)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(as_id).collect())
                        .unwrap_or_default();
                    self.ensure_exist(&comodel, &wanted)?;
                    let current = self.current_x2many(model, id, field, inverse, &comodel);
                    for child in current.iter().filter(|c| !wanted.contains(c)) {
                        self.unlink_relation(model, id, field, &comodel, inverse, *child);
                        if let Some(inv) = inverse
                            && models::cascades(&comodel, inv)
                        {
                            self.unlink(&comodel, &[*child])?;
                        }
                    }
                    match inverse {
                        Some(inv) => {
                            for child in &wanted {
                                self.set(&comodel, *child, &[(inv, json!(id))]);
                            }
                        }
                        None => {
                            if let Some(row) = self.db.row_mut(model, id) {
                                row.insert(field.storage.clone(), json!([]));
                            }
                            self.link(model, id, &field.storage, &wanted);
                        }
                    }
                }
                _ => return Err(bad()),
            }
        }
        Ok(())
    }

    fn current_x2many(
        &self,
        model: &str,
        id: i64,
        field: &Field,
        inverse: Option<&str>,
        comodel: &str,
    ) -> Vec<i64> {
        match inverse {
            Some(inv) => self.children(comodel, inv, id),
            None => self
                .stored(model, id, &field.storage)
                .as_array()
                .map(|a| a.iter().filter_map(as_id).collect())
                .unwrap_or_default(),
        }
    }

    fn link(&mut self, model: &str, id: i64, storage: &str, children: &[i64]) {
        if let Some(row) = self.db.row_mut(model, id) {
            let mut current: Vec<Value> = row
                .get(storage)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for c in children {
                if !current.iter().any(|x| as_id(x) == Some(*c)) {
                    current.push(json!(c));
                }
            }
            row.insert(storage.to_string(), Value::Array(current));
        }
    }

    fn unlink_relation(
        &mut self,
        model: &str,
        id: i64,
        field: &Field,
        comodel: &str,
        inverse: Option<&str>,
        child: i64,
    ) {
        match inverse {
            Some(inv) => {
                if self.stored(comodel, child, inv).as_i64() == Some(id)
                    && !models::cascades(comodel, inv)
                {
                    self.set(comodel, child, &[(inv, Value::Null)]);
                }
            }
            None => {
                if let Some(row) = self.db.row_mut(model, id)
                    && let Some(Value::Array(a)) = row.get_mut(&field.storage)
                {
                    a.retain(|x| as_id(x) != Some(child));
                }
            }
        }
    }

    // ------------------------------------------------------------------ read helpers

    /// Resolves the fields asked for in `read`/`search_read` (all fields when empty).
    pub(crate) fn fields_to_read(
        &self,
        model: &str,
        fields: &Value,
    ) -> OdooResult<Vec<&'static Field>> {
        let schema = self
            .model(model)
            .ok_or_else(|| OdooError::user(format!("Object {model} doesn't exist")))?;
        let names: Vec<String> = match fields {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        };
        if names.is_empty() {
            return Ok(schema.fields.iter().filter(|f| f.standard_attrs).collect());
        }
        let mut out = Vec::new();
        for name in names {
            match schema.field(&name) {
                Some(f) => {
                    if f.name != "id" {
                        out.push(f);
                    }
                }
                None => return Err(self.invalid_field(model, &name)),
            }
        }
        Ok(out)
    }

    /// `read` of records that exist (missing ids are dropped).
    pub(crate) fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: &[&'static Field],
        load: Load,
    ) -> Vec<Value> {
        let mut seen = BTreeSet::new();
        ids.iter()
            .filter(|&&id| self.exists(model, id) && seen.insert(id))
            .map(|&id| {
                let mut rec = Map::new();
                rec.insert("id".into(), json!(id));
                for f in fields {
                    rec.insert(f.name.clone(), self.read_value(model, id, f, load));
                }
                Value::Object(rec)
            })
            .collect()
    }
}

/// Reads `domain` as a list, `[]` when absent.
pub(crate) fn domain_arg(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        _ => json!([]),
    }
}
