//! Field ownership: which system is the record of truth for each field, and echo suppression.
//!
//! An update that touches a field its source does not own is cut down to the fields the source
//! owns; the dropped fields are reported, never silently lost. Changes written by the sync carry
//! a fingerprint ([`EchoGuard`]) so that when the target system reports them back as a change of
//! its own, they are recognised and not sent around again.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which system owns which field of which entity.
///
/// ```
/// use odoo_connect_sync::ownership::FieldOwnership;
/// use serde_json::json;
/// let rules = FieldOwnership::new()
///     .default_owner("client", "crm")
///     .owner("client", "payment_terms", "odoo");
/// let change = json!({"legal_name": "Acme SA", "payment_terms": "30 days"});
/// let decision = rules.filter("client", "crm", change.as_object().unwrap().clone());
/// assert!(decision.accepted.contains_key("legal_name"));
/// assert_eq!(decision.dropped[0].field, "payment_terms");
/// assert_eq!(decision.dropped[0].owner, "odoo");
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FieldOwnership {
    defaults: BTreeMap<String, String>,
    fields: BTreeMap<String, BTreeMap<String, String>>,
}

/// A field dropped from an update because its source does not own it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedField {
    /// The entity (`client`, `contract`).
    pub entity: String,
    /// The field.
    pub field: String,
    /// The system that sent the change.
    pub source: String,
    /// The system that owns the field (`None` when nobody was declared owner).
    pub owner: String,
}

/// What [`FieldOwnership::filter`] kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnershipDecision {
    /// The fields the source owns, to apply.
    pub accepted: Map<String, Value>,
    /// The fields dropped, to report.
    pub dropped: Vec<DroppedField>,
}

impl OwnershipDecision {
    /// Whether nothing is left to apply.
    pub fn is_empty(&self) -> bool {
        self.accepted.is_empty()
    }
}

impl FieldOwnership {
    /// No rules: every source owns every field.
    pub fn new() -> Self {
        Self::default()
    }

    /// The owner of every field of `entity` without a rule of its own.
    pub fn default_owner(mut self, entity: impl Into<String>, system: impl Into<String>) -> Self {
        self.defaults.insert(entity.into(), system.into());
        self
    }

    /// The owner of one field.
    pub fn owner(
        mut self,
        entity: impl Into<String>,
        field: impl Into<String>,
        system: impl Into<String>,
    ) -> Self {
        self.fields
            .entry(entity.into())
            .or_default()
            .insert(field.into(), system.into());
        self
    }

    /// The owner of `entity.field`, if any rule names one.
    pub fn owner_of(&self, entity: &str, field: &str) -> Option<&str> {
        self.fields
            .get(entity)
            .and_then(|f| f.get(field))
            .or_else(|| self.defaults.get(entity))
            .map(String::as_str)
    }

    /// Whether `source` may change `entity.field` (true when no rule names an owner).
    pub fn may_write(&self, entity: &str, field: &str, source: &str) -> bool {
        self.owner_of(entity, field).is_none_or(|o| o == source)
    }

    /// Splits a change into the fields `source` owns and the ones it does not.
    pub fn filter(
        &self,
        entity: &str,
        source: &str,
        changes: Map<String, Value>,
    ) -> OwnershipDecision {
        let mut decision = OwnershipDecision::default();
        for (field, value) in changes {
            match self.owner_of(entity, &field) {
                Some(owner) if owner != source => decision.dropped.push(DroppedField {
                    entity: entity.to_owned(),
                    field,
                    source: source.to_owned(),
                    owner: owner.to_owned(),
                }),
                _ => {
                    decision.accepted.insert(field, value);
                }
            }
        }
        decision
    }
}

/// Recognises changes that the sync itself wrote, when the target reports them back.
///
/// Before writing `values` to `system` for `record`, call [`EchoGuard::remember`]; when a change
/// for the same record comes back from that system, [`EchoGuard::is_echo`] tells whether it only
/// repeats what was written. Bounded: the oldest fingerprints are forgotten first.
#[derive(Debug)]
pub struct EchoGuard {
    inner: Mutex<EchoInner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct EchoInner {
    written: HashMap<(String, String), u64>,
    order: VecDeque<(String, String)>,
}

impl Default for EchoGuard {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl EchoGuard {
    /// A guard remembering at most `capacity` records.
    pub fn new(capacity: usize) -> Self {
        EchoGuard {
            inner: Mutex::new(EchoInner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Notes that `values` are being written to `system` for `record`.
    pub fn remember(&self, system: &str, record: &str, values: &Map<String, Value>) {
        let key = (system.to_owned(), record.to_owned());
        let fp = fingerprint(values);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.written.insert(key.clone(), fp).is_none() {
            g.order.push_back(key);
            while g.order.len() > self.capacity {
                if let Some(old) = g.order.pop_front() {
                    g.written.remove(&old);
                }
            }
        }
    }

    /// Whether a change reported by `system` for `record` only repeats what the sync wrote there.
    /// Only the fields written are compared; a change with other fields too is not an echo.
    pub fn is_echo(&self, system: &str, record: &str, changes: &Map<String, Value>) -> bool {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.written
            .get(&(system.to_owned(), record.to_owned()))
            .is_some_and(|fp| *fp == fingerprint(changes))
    }
}

/// A stable hash of a JSON object (keys sorted by serde_json's map order).
fn fingerprint(values: &Map<String, Value>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut sorted: Vec<(&String, &Value)> = values.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (k, v) in sorted {
        k.hash(&mut h);
        v.to_string().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn no_rule_means_anyone_writes() {
        let r = FieldOwnership::new();
        let d = r.filter("client", "crm", map(json!({"a": 1})));
        assert_eq!(d.accepted.len(), 1);
        assert!(d.dropped.is_empty());
        assert!(r.may_write("client", "a", "bank"));
    }

    #[test]
    fn field_rule_beats_default() {
        let r = FieldOwnership::new().default_owner("client", "crm").owner(
            "client",
            "credit_limit",
            "odoo",
        );
        assert!(r.may_write("client", "name", "crm"));
        assert!(!r.may_write("client", "name", "odoo"));
        assert!(r.may_write("client", "credit_limit", "odoo"));
        let d = r.filter(
            "client",
            "odoo",
            map(json!({"name": "x", "credit_limit": 5})),
        );
        assert_eq!(d.accepted, map(json!({"credit_limit": 5})));
        assert_eq!(d.dropped.len(), 1);
        assert_eq!(d.dropped[0].owner, "crm");
    }

    #[test]
    fn echoes_are_recognised() {
        let g = EchoGuard::new(2);
        g.remember(
            "crm",
            "deal:1",
            &map(json!({"stage": "paid", "amount": 10})),
        );
        assert!(g.is_echo(
            "crm",
            "deal:1",
            &map(json!({"amount": 10, "stage": "paid"}))
        ));
        assert!(!g.is_echo("crm", "deal:1", &map(json!({"stage": "paid"}))));
        assert!(!g.is_echo(
            "crm",
            "deal:2",
            &map(json!({"stage": "paid", "amount": 10}))
        ));
        g.remember("crm", "deal:2", &map(json!({})));
        g.remember("crm", "deal:3", &map(json!({})));
        assert!(!g.is_echo(
            "crm",
            "deal:1",
            &map(json!({"amount": 10, "stage": "paid"}))
        ));
    }
}
