//! Reconciliation: what a connector holds against what Odoo holds, for a set of keys.
//!
//! The result is data ([`ReconcileReport`], serde) and a readable table (its `Display`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How two values of a field are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum Compare {
    /// Equal JSON values.
    #[default]
    Exact,
    /// Strings equal once trimmed and case-folded.
    Text,
    /// Numbers (or numeric strings) equal as decimals: `1234.5` = `"1234.50"`.
    Decimal,
    /// Odoo's `false` and `null` and `""` count as the same empty value; otherwise exact.
    EmptyAsFalse,
}

/// A field compared, with the name it has on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    /// The name in the report.
    pub name: String,
    /// The field name on the connector's side.
    pub source_field: String,
    /// The field name on Odoo's side.
    pub odoo_field: String,
    /// How the values are compared.
    pub compare: Compare,
}

impl FieldRule {
    /// A field with the same name on both sides.
    pub fn same(name: impl Into<String>, compare: Compare) -> Self {
        let n = name.into();
        FieldRule {
            name: n.clone(),
            source_field: n.clone(),
            odoo_field: n,
            compare,
        }
    }

    /// A field named differently on each side.
    pub fn mapped(
        name: impl Into<String>,
        source_field: impl Into<String>,
        odoo_field: impl Into<String>,
        compare: Compare,
    ) -> Self {
        FieldRule {
            name: name.into(),
            source_field: source_field.into(),
            odoo_field: odoo_field.into(),
            compare,
        }
    }
}

/// A field whose values differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The record's key.
    pub key: String,
    /// The field (its report name).
    pub field: String,
    /// The connector's value.
    pub source: Value,
    /// Odoo's value.
    pub odoo: Value,
}

/// The differences between two systems over a set of keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// The name of the connector's system.
    pub source_system: String,
    /// Keys both sides hold with every compared field equal.
    pub matched: usize,
    /// Keys the connector holds and Odoo lacks.
    pub missing_in_odoo: Vec<String>,
    /// Keys Odoo holds and the connector lacks.
    pub missing_in_source: Vec<String>,
    /// Fields that differ.
    pub mismatched: Vec<Mismatch>,
}

impl ReconcileReport {
    /// Whether both sides agree entirely.
    pub fn is_clean(&self) -> bool {
        self.missing_in_odoo.is_empty()
            && self.missing_in_source.is_empty()
            && self.mismatched.is_empty()
    }
}

/// Compares the records of both sides, keyed alike (e.g. by the CRM id).
///
/// ```
/// use std::collections::BTreeMap;
/// use odoo_connect_sync::reconcile::{reconcile, Compare, FieldRule};
/// use serde_json::json;
/// let crm = BTreeMap::from([("D1".to_string(), json!({"amount": "1000.00"}).as_object().unwrap().clone())]);
/// let odoo = BTreeMap::from([("D1".to_string(), json!({"amount_total": 1000.0}).as_object().unwrap().clone())]);
/// let report = reconcile("crm", &crm, &odoo, &[FieldRule::mapped("amount", "amount", "amount_total", Compare::Decimal)]);
/// assert!(report.is_clean());
/// ```
pub fn reconcile(
    source_system: &str,
    source: &BTreeMap<String, Map<String, Value>>,
    odoo: &BTreeMap<String, Map<String, Value>>,
    rules: &[FieldRule],
) -> ReconcileReport {
    let mut report = ReconcileReport {
        source_system: source_system.to_owned(),
        ..Default::default()
    };
    for (key, s) in source {
        let Some(o) = odoo.get(key) else {
            report.missing_in_odoo.push(key.clone());
            continue;
        };
        let mut clean = true;
        for rule in rules {
            let sv = s.get(&rule.source_field).cloned().unwrap_or(Value::Null);
            let ov = o.get(&rule.odoo_field).cloned().unwrap_or(Value::Null);
            if !equal(&sv, &ov, rule.compare) {
                clean = false;
                report.mismatched.push(Mismatch {
                    key: key.clone(),
                    field: rule.name.clone(),
                    source: sv,
                    odoo: ov,
                });
            }
        }
        if clean {
            report.matched += 1;
        }
    }
    for key in odoo.keys() {
        if !source.contains_key(key) {
            report.missing_in_source.push(key.clone());
        }
    }
    report
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false)) || v.as_str() == Some("")
}

fn equal(a: &Value, b: &Value, how: Compare) -> bool {
    match how {
        Compare::Exact => a == b,
        Compare::EmptyAsFalse => (is_empty(a) && is_empty(b)) || a == b,
        Compare::Text => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x.trim().to_lowercase() == y.trim().to_lowercase(),
            _ => (is_empty(a) && is_empty(b)) || a == b,
        },
        Compare::Decimal => {
            let d = |v: &Value| {
                odoo_connect_client::value::decimal_from_value(v).map(|d| d.normalize())
            };
            match (d(a), d(b)) {
                (Some(x), Some(y)) => x == y,
                _ => (is_empty(a) && is_empty(b)) || a == b,
            }
        }
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_owned(),
        Value::Bool(false) => "(empty)".to_owned(),
        other => other.to_string(),
    }
}

impl fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Reconciliation {} vs Odoo: {} matched, {} missing in Odoo, {} missing in {}, {} field differences",
            self.source_system,
            self.matched,
            self.missing_in_odoo.len(),
            self.missing_in_source.len(),
            self.source_system,
            self.mismatched.len()
        )?;
        let mut rows: Vec<[String; 4]> = Vec::new();
        for k in &self.missing_in_odoo {
            rows.push([
                k.clone(),
                "(record)".into(),
                "present".into(),
                "MISSING".into(),
            ]);
        }
        for k in &self.missing_in_source {
            rows.push([
                k.clone(),
                "(record)".into(),
                "MISSING".into(),
                "present".into(),
            ]);
        }
        for m in &self.mismatched {
            rows.push([
                m.key.clone(),
                m.field.clone(),
                cell(&m.source),
                cell(&m.odoo),
            ]);
        }
        if rows.is_empty() {
            return Ok(());
        }
        let header = [
            "key".to_owned(),
            "field".to_owned(),
            self.source_system.clone(),
            "odoo".to_owned(),
        ];
        let mut widths = header.clone().map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count()).min(40);
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, r: &[String; 4]| -> fmt::Result {
            for (i, (c, w)) in r.iter().zip(widths.iter()).enumerate() {
                let text: String = c.chars().take(*w).collect();
                if i > 0 {
                    f.write_str(" | ")?;
                }
                write!(f, "{text:<w$}", w = *w)?;
            }
            writeln!(f)
        };
        line(f, &header)?;
        let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(f, "{}", sep.join("-+-"))?;
        for r in &rows {
            line(f, r)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn side(v: Value) -> BTreeMap<String, Map<String, Value>> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_object().unwrap().clone()))
            .collect()
    }

    #[test]
    fn finds_every_kind_of_difference() {
        let crm = side(json!({
            "D1": {"name": "Acme", "amount": "100.00", "email": ""},
            "D2": {"name": "Beta", "amount": "50"},
            "D3": {"name": "Gamma", "amount": "1"},
        }));
        let odoo = side(json!({
            "D1": {"name": " acme ", "amount_total": 100.0, "email": false},
            "D2": {"name": "Beta", "amount_total": 55.0},
            "D4": {"name": "Delta", "amount_total": 1.0},
        }));
        let rules = [
            FieldRule::same("name", Compare::Text),
            FieldRule::mapped("amount", "amount", "amount_total", Compare::Decimal),
            FieldRule::same("email", Compare::EmptyAsFalse),
        ];
        let r = reconcile("crm", &crm, &odoo, &rules);
        assert_eq!(r.matched, 1);
        assert_eq!(r.missing_in_odoo, vec!["D3"]);
        assert_eq!(r.missing_in_source, vec!["D4"]);
        assert_eq!(r.mismatched.len(), 1);
        assert_eq!(r.mismatched[0].field, "amount");
        let table = r.to_string();
        assert!(
            table.contains("D3") && table.contains("MISSING") && table.contains("55.0"),
            "{table}"
        );
        let back: ReconcileReport =
            serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
