//! Search domains: parsing (prefix `&`, `|`, `!`, implicit AND, true/false leaves), validation
//! with Odoo's error messages, and evaluation against stored records.

use std::collections::BTreeSet;

use serde_json::Value;

use super::errors::{OdooError, OdooResult, py_condition, py_repr};
use super::orm::{Orm, as_id, is_empty};
use super::schema::{Field, FieldType};

const OPERATORS: &[&str] = &[
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
    "any",
    "not any",
    "any!",
    "not any!",
];

#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Const(bool),
    Leaf(Box<Leaf>),
}

#[derive(Debug, Clone)]
struct Leaf {
    /// Fields along the path, the last one being compared.
    path: Vec<&'static Field>,
    /// Model of each path element.
    models: Vec<String>,
    op: String,
    value: Value,
    /// Ids resolved for `child_of`/`parent_of`.
    hierarchy: Option<BTreeSet<i64>>,
    /// Sub-domain of `any`/`not any`.
    sub: Option<Box<Domain>>,
}

/// A parsed domain.
#[derive(Debug, Clone)]
pub(crate) struct Domain {
    root: Node,
}

fn is_negative(op: &str) -> bool {
    matches!(op, "!=" | "not in" | "not like" | "not ilike")
}

fn positive(op: &str) -> &str {
    match op {
        "!=" => "=",
        "not in" => "in",
        "not like" => "like",
        "not ilike" => "ilike",
        other => other,
    }
}

/// SQL `LIKE` matching with `%` and `_`.
pub(crate) fn like(text: &str, pattern: &str, insensitive: bool) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = if insensitive {
        (
            text.to_lowercase().chars().collect(),
            pattern.to_lowercase().chars().collect(),
        )
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    // Iterative matching with backtracking on the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '\\' && pi + 1 < p.len() && p[pi + 1] == t[ti] {
            ti += 1;
            pi += 2;
        } else if pi < p.len() && (p[pi] == '_' || (p[pi] == t[ti] && p[pi] != '%')) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Bool(y)) | (Value::Bool(y), Value::Number(x)) => {
            (x.as_f64() != Some(0.0)) == *y
        }
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("True".into()),
        _ => None,
    }
}

/// Compares a scalar value with an operator and operand.
fn scalar_matches(v: &Value, op: &str, target: &Value) -> bool {
    let empty_target = matches!(target, Value::Null | Value::Bool(false));
    match op {
        "=" => {
            if empty_target && !matches!(v, Value::Bool(_)) {
                is_empty(v)
            } else if empty_target {
                !matches!(v, Value::Bool(true))
            } else {
                values_equal(v, target)
            }
        }
        "!=" => !scalar_matches(v, "=", target),
        "=?" => empty_target || scalar_matches(v, "=", target),
        "<" | "<=" | ">" | ">=" => {
            if matches!(v, Value::Null) {
                return false;
            }
            match compare(v, target) {
                Some(o) => match op {
                    "<" => o.is_lt(),
                    "<=" => o.is_le(),
                    ">" => o.is_gt(),
                    _ => o.is_ge(),
                },
                None => false,
            }
        }
        "in" => {
            let items = match target {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            items.iter().any(|t| {
                if matches!(t, Value::Null | Value::Bool(false)) {
                    matches!(v, Value::Null) || v == &Value::Bool(false)
                } else {
                    values_equal(v, t)
                }
            })
        }
        "not in" => !scalar_matches(v, "in", target),
        "like" | "ilike" | "=like" | "=ilike" => {
            let pattern = text_of(target).unwrap_or_default();
            let Some(text) = text_of(v) else {
                // An empty `like` pattern matches everything, empty values included.
                return pattern.is_empty() && !op.starts_with('=');
            };
            let full = if op.starts_with('=') {
                pattern
            } else {
                format!("%{pattern}%")
            };
            like(&text, &full, op.ends_with("ilike"))
        }
        "not like" | "not ilike" => !scalar_matches(v, positive(op), target),
        _ => false,
    }
}

impl Domain {
    /// Parses and validates a domain on `model`.
    pub(crate) fn parse(orm: &Orm<'_>, model: &str, domain: &Value) -> OdooResult<Domain> {
        let items: Vec<Value> = match domain {
            Value::Array(items) => items.clone(),
            Value::Null | Value::Bool(false) => Vec::new(),
            other => {
                return Err(OdooError::value(format!(
                    "Invalid domain: {}",
                    py_repr(other)
                )));
            }
        };
        let malformed = || OdooError::value(format!("Invalid domain: {}", py_repr(domain)));
        let mut stack: Vec<Node> = Vec::new();
        for item in items.iter().rev() {
            match item {
                Value::String(op) if op == "&" || op == "|" => {
                    let a = stack.pop().ok_or_else(malformed)?;
                    let b = stack.pop().ok_or_else(malformed)?;
                    stack.push(if op == "&" {
                        Node::And(vec![a, b])
                    } else {
                        Node::Or(vec![a, b])
                    });
                }
                Value::String(op) if op == "!" => {
                    let a = stack.pop().ok_or_else(malformed)?;
                    stack.push(Node::Not(Box::new(a)));
                }
                Value::Array(parts) => stack.push(parse_leaf(orm, model, parts)?),
                Value::Bool(b) => stack.push(Node::Const(*b)),
                _ => return Err(malformed()),
            }
        }
        stack.reverse();
        Ok(Domain {
            root: Node::And(stack),
        })
    }

    /// Whether a leaf on `field` appears anywhere (used for the implicit `active` filter).
    pub(crate) fn mentions_field(&self, field: &str) -> bool {
        fn walk(node: &Node, field: &str) -> bool {
            match node {
                Node::And(v) | Node::Or(v) => v.iter().any(|n| walk(n, field)),
                Node::Not(n) => walk(n, field),
                Node::Const(_) => false,
                Node::Leaf(l) => l.path.first().is_some_and(|f| f.name == field),
            }
        }
        walk(&self.root, field)
    }

    /// Whether record `id` of `model` matches.
    pub(crate) fn matches(&self, orm: &Orm<'_>, model: &str, id: i64) -> OdooResult<bool> {
        eval(orm, model, id, &self.root)
    }
}

fn parse_leaf(orm: &Orm<'_>, model: &str, parts: &[Value]) -> OdooResult<Node> {
    let condition = py_condition(parts);
    let v19 = orm.version() >= 19;
    let invalid_leaf = || {
        if v19 {
            OdooError::value(format!("Invalid condition {condition}"))
        } else {
            OdooError::value(format!("Invalid leaf {condition}"))
        }
    };
    if parts.len() != 3 {
        return Err(invalid_leaf());
    }
    let op_raw = parts[1].as_str().ok_or_else(invalid_leaf)?;
    let mut op = op_raw.to_lowercase();
    if op == "<>" {
        op = "!=".into();
    }
    if op == "==" {
        op = "=".into();
    }
    // (1, '=', 1) and (0, '=', 1)
    if let Some(n) = as_id(&parts[0]) {
        if op == "=" && as_id(&parts[2]) == Some(1) && (n == 0 || n == 1) {
            return Ok(Node::Const(n == 1));
        }
        return Err(invalid_leaf());
    }
    let path_text = parts[0].as_str().ok_or_else(invalid_leaf)?;
    if !OPERATORS.contains(&op.as_str()) {
        return Err(if v19 {
            OdooError::value(format!("Invalid operator in condition {condition}"))
        } else {
            OdooError::value(format!("Invalid leaf {condition}"))
        });
    }
    let mut path = Vec::new();
    let mut models = Vec::new();
    let mut current = model.to_string();
    let segments: Vec<&str> = path_text.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let field = match orm.field(&current, seg) {
            Some(f) => f,
            None => {
                return Err(if v19 {
                    OdooError::value(format!(
                        "Invalid field {current}.{seg} in condition {condition}"
                    ))
                } else {
                    OdooError::value(format!("Invalid field {current}.{seg} in leaf {condition}"))
                });
            }
        };
        path.push(field);
        models.push(current.clone());
        if i + 1 < segments.len() {
            match (&field.relation, field.ftype) {
                (Some(rel), FieldType::Many2one | FieldType::One2many | FieldType::Many2many) => {
                    current = rel.clone();
                }
                _ => return Err(invalid_leaf()),
            }
        }
    }
    let op = op.trim_end_matches('!').to_string();
    let last = path.last().copied().ok_or_else(invalid_leaf)?;
    let last_model = models.last().cloned().unwrap_or_default();
    let mut leaf = Leaf {
        path,
        models,
        op: op.clone(),
        value: parts[2].clone(),
        hierarchy: None,
        sub: None,
    };
    if op == "child_of" || op == "parent_of" {
        let target = if last.name == "id" {
            last_model.clone()
        } else {
            last.relation.clone().unwrap_or_else(|| last_model.clone())
        };
        leaf.hierarchy = Some(hierarchy(orm, &target, &parts[2], op == "child_of"));
    }
    if op == "any" || op == "not any" {
        let comodel = last.relation.clone().ok_or_else(invalid_leaf)?;
        leaf.sub = Some(Box::new(Domain::parse(orm, &comodel, &parts[2])?));
    }
    Ok(Node::Leaf(Box::new(leaf)))
}

/// `child_of`: the given records and their descendants; `parent_of`: and their ancestors.
fn hierarchy(orm: &Orm<'_>, model: &str, value: &Value, down: bool) -> BTreeSet<i64> {
    let parent = orm
        .meta(model)
        .and_then(|m| m.parent)
        .unwrap_or("parent_id");
    let mut start: BTreeSet<i64> = match value {
        Value::Array(a) => a.iter().filter_map(as_id).collect(),
        Value::String(name) => orm
            .db
            .ids(model)
            .into_iter()
            .filter(|&i| like(&orm.display_name(model, i), &format!("%{name}%"), true))
            .collect(),
        other => as_id(other).into_iter().collect(),
    };
    let mut frontier: Vec<i64> = start.iter().copied().collect();
    while let Some(id) = frontier.pop() {
        let next: Vec<i64> = if down {
            orm.children(model, parent, id)
        } else {
            as_id(&orm.stored(model, id, parent)).into_iter().collect()
        };
        for n in next {
            if start.insert(n) {
                frontier.push(n);
            }
        }
    }
    start
}

fn eval(orm: &Orm<'_>, model: &str, id: i64, node: &Node) -> OdooResult<bool> {
    Ok(match node {
        Node::And(items) => {
            for n in items {
                if !eval(orm, model, id, n)? {
                    return Ok(false);
                }
            }
            true
        }
        Node::Or(items) => {
            for n in items {
                if eval(orm, model, id, n)? {
                    return Ok(true);
                }
            }
            false
        }
        Node::Not(n) => !eval(orm, model, id, n)?,
        Node::Const(b) => *b,
        Node::Leaf(leaf) => eval_path(orm, model, id, leaf, 0, &leaf.op)?,
    })
}

fn related_ids(orm: &Orm<'_>, model: &str, id: i64, field: &Field) -> Vec<i64> {
    let raw = orm.get(model, id, &field.storage);
    match raw {
        Value::Array(a) => a.iter().filter_map(as_id).collect(),
        other => as_id(&other).into_iter().collect(),
    }
}

fn eval_path(
    orm: &Orm<'_>,
    model: &str,
    id: i64,
    leaf: &Leaf,
    depth: usize,
    op: &str,
) -> OdooResult<bool> {
    let field = leaf.path[depth];
    if depth + 1 < leaf.path.len() {
        let comodel = leaf.models[depth + 1].clone();
        let related = related_ids(orm, model, id, field);
        let negative = is_negative(op);
        let inner_op = positive(op);
        let mut any = false;
        for r in related {
            if eval_path(orm, &comodel, r, leaf, depth + 1, inner_op)? {
                any = true;
                break;
            }
        }
        return Ok(if negative { !any } else { any });
    }
    eval_field(orm, model, id, field, op, leaf)
}

fn eval_field(
    orm: &Orm<'_>,
    model: &str,
    id: i64,
    field: &Field,
    op: &str,
    leaf: &Leaf,
) -> OdooResult<bool> {
    let value = &leaf.value;
    if let Some(set) = &leaf.hierarchy {
        if field.name == "id" {
            return Ok(set.contains(&id));
        }
        return Ok(related_ids(orm, model, id, field)
            .iter()
            .any(|r| set.contains(r)));
    }
    if let Some(sub) = &leaf.sub {
        let comodel = field.relation.clone().unwrap_or_default();
        let mut any = false;
        for r in related_ids(orm, model, id, field) {
            if sub.matches(orm, &comodel, r)? {
                any = true;
                break;
            }
        }
        return Ok(if op == "any" { any } else { !any });
    }
    match field.ftype {
        FieldType::Many2one | FieldType::One2many | FieldType::Many2many if field.name != "id" => {
            let comodel = field.relation.clone().unwrap_or_default();
            let related = related_ids(orm, model, id, field);
            let texts = || -> Vec<Value> {
                related
                    .iter()
                    .map(|r| Value::String(orm.display_name(&comodel, *r)))
                    .collect()
            };
            let text_target = match value {
                Value::String(_) => true,
                Value::Array(a) => a.iter().any(Value::is_string),
                _ => false,
            };
            if text_target || op.contains("like") {
                let candidates = texts();
                let pos = positive(op);
                let hit = if candidates.is_empty() {
                    scalar_matches(&Value::Null, pos, value)
                } else {
                    candidates.iter().any(|c| scalar_matches(c, pos, value))
                };
                return Ok(if is_negative(op) { !hit } else { hit });
            }
            let ids: Vec<Value> = related.iter().map(|r| Value::from(*r)).collect();
            let empty_target = matches!(value, Value::Null | Value::Bool(false));
            let pos = positive(op);
            let hit = match pos {
                "=" if empty_target => ids.is_empty(),
                "=" => ids.iter().any(|i| values_equal(i, value)),
                "in" => {
                    let items = match value {
                        Value::Array(a) => a.clone(),
                        other => vec![other.clone()],
                    };
                    let wants_empty = items
                        .iter()
                        .any(|t| matches!(t, Value::Null | Value::Bool(false)));
                    (wants_empty && ids.is_empty())
                        || ids.iter().any(|i| items.iter().any(|t| values_equal(i, t)))
                }
                "=?" => empty_target || ids.iter().any(|i| values_equal(i, value)),
                other => ids.iter().any(|i| scalar_matches(i, other, value)),
            };
            Ok(if is_negative(op) { !hit } else { hit })
        }
        _ => {
            let v = if field.name == "id" {
                Value::from(id)
            } else if field.storage == "display_name" {
                Value::String(orm.display_name(model, id))
            } else {
                orm.get(model, id, &field.storage)
            };
            Ok(scalar_matches(&v, op, value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_patterns() {
        assert!(like("Deco Addict", "%deco%", true));
        assert!(!like("Deco Addict", "%deco%", false));
        assert!(like("abc", "a_c", false));
        assert!(like("abc", "%", false));
        assert!(!like("abc", "b%", false));
        assert!(like("a%b", "a\\%b", false));
    }

    #[test]
    fn scalar_operators() {
        assert!(scalar_matches(&json!(3), "in", &json!([1, 3])));
        assert!(scalar_matches(&Value::Null, "!=", &json!("x")));
        assert!(!scalar_matches(&Value::Null, "<", &json!(1)));
        assert!(scalar_matches(
            &json!("2026-11-02"),
            ">=",
            &json!("2026-11-01")
        ));
        assert!(scalar_matches(&Value::Null, "not ilike", &json!("a")));
        assert!(scalar_matches(&json!(1.0), "=", &json!(1)));
        assert!(scalar_matches(&Value::Null, "=", &json!(false)));
    }
}
