//! Stable canonical keys and the references an object has in other systems.

use std::borrow::Cow;
use std::collections::BTreeSet;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use odoo_connect_core::key::KEY_PATTERN;
pub use odoo_connect_core::key::{KeyError, LegalEntityKey, MAX_KEY_LEN, check_key};

/// Makes a canonical key type ([`odoo_connect_core`]'s key machinery, the same as
/// [`LegalEntityKey`]'s) with its JSON Schema.
macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        odoo_connect_core::__key_type!($(#[$doc])* $name);

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "description": concat!("A stable canonical key (", stringify!($name), ")."),
                    "type": "string",
                    "pattern": KEY_PATTERN
                })
            }
        }
    };
}

key_type!(
    /// The key of a [`Client`](super::Client).
    ClientKey
);
key_type!(
    /// The key of a [`Contract`](super::Contract).
    ContractKey
);
key_type!(
    /// The key of a [`ChangeOrder`](super::ChangeOrder).
    ChangeOrderKey
);
key_type!(
    /// The id of a billing line inside its contract.
    BillingLineId
);
key_type!(
    /// The key of a [`Milestone`](super::Milestone).
    MilestoneKey
);
key_type!(
    /// The key of a [`Project`](super::Project).
    ProjectKey
);
key_type!(
    /// The key of a task inside a project.
    TaskKey
);
key_type!(
    /// The key of an employee or contractor who records time and expenses.
    EmployeeKey
);
key_type!(
    /// A role on a rate card, such as `partner` or `senior-consultant`.
    Role
);
key_type!(
    /// The key of a [`TimeEntry`](super::TimeEntry).
    TimeEntryKey
);
key_type!(
    /// The key of an [`Expense`](super::Expense).
    ExpenseKey
);
key_type!(
    /// The key of an [`InvoiceEvent`](super::InvoiceEvent)'s invoice.
    InvoiceKey
);
key_type!(
    /// The key of a [`Payment`](super::Payment).
    PaymentKey
);

/// The id an object has in one external system: `{"system": "hubspot", "id": "8812"}`.
///
/// `system` names the system (`odoo`, `hubspot`, `docusign`, ...; a key, see [`check_key`]); `id` is
/// that system's id as text (1 to 256 characters, no control characters).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct ExternalRef {
    /// The system's name.
    pub system: String,
    /// The object's id in that system.
    pub id: String,
}

impl ExternalRef {
    /// A reference to `id` in `system`.
    pub fn new(system: impl Into<String>, id: impl Into<String>) -> ExternalRef {
        ExternalRef {
            system: system.into(),
            id: id.into(),
        }
    }
}

/// The set of ids an object has in other systems, so the same object is never created twice.
///
/// In JSON: an array of [`ExternalRef`], sorted by system then id.
///
/// ```
/// use odoo_connect_canonical::ExternalRefs;
///
/// let mut refs = ExternalRefs::new();
/// refs.insert("hubspot", "8812");
/// refs.insert("odoo", "res.partner,42");
/// assert_eq!(refs.get("hubspot"), Some("8812"));
/// assert_eq!(refs.get("docusign"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ExternalRefs(BTreeSet<ExternalRef>);

impl ExternalRefs {
    /// No references.
    pub fn new() -> ExternalRefs {
        ExternalRefs(BTreeSet::new())
    }

    /// Adds a reference; returns whether it was new.
    pub fn insert(&mut self, system: impl Into<String>, id: impl Into<String>) -> bool {
        self.0.insert(ExternalRef::new(system, id))
    }

    /// The same set with one more reference.
    pub fn with(mut self, system: impl Into<String>, id: impl Into<String>) -> ExternalRefs {
        self.insert(system, id);
        self
    }

    /// The first id (in sort order) this object has in `system`.
    pub fn get(&self, system: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|r| r.system == system)
            .map(|r| r.id.as_str())
    }

    /// Every id this object has in `system` (more than one when that system holds duplicates).
    pub fn in_system<'a>(&'a self, system: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |r| r.system == system)
            .map(|r| r.id.as_str())
    }

    /// Whether the set holds this reference.
    pub fn contains(&self, system: &str, id: &str) -> bool {
        self.0.iter().any(|r| r.system == system && r.id == id)
    }

    /// Removes every reference into `system`; returns how many went.
    pub fn remove_system(&mut self, system: &str) -> usize {
        let before = self.0.len();
        self.0.retain(|r| r.system != system);
        before - self.0.len()
    }

    /// Adds every reference of `other`.
    pub fn merge(&mut self, other: &ExternalRefs) {
        self.0.extend(other.0.iter().cloned());
    }

    /// The references, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &ExternalRef> {
        self.0.iter()
    }

    /// How many references there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<ExternalRef> for ExternalRefs {
    fn from_iter<T: IntoIterator<Item = ExternalRef>>(iter: T) -> Self {
        ExternalRefs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(ClientKey::new("acme-corp").is_ok());
        assert!(EmployeeKey::new("jane.doe@firm.example").is_ok());
        assert_eq!(ClientKey::new(""), Err(KeyError::Empty));
        assert_eq!(
            ClientKey::new("a".repeat(129)),
            Err(KeyError::TooLong { len: 129 })
        );
        assert_eq!(
            ClientKey::new("acme corp"),
            Err(KeyError::InvalidChar {
                ch: ' ',
                position: 4
            })
        );
        assert!(matches!(
            ClientKey::new("é"),
            Err(KeyError::InvalidChar { ch: 'é', .. })
        ));
        assert!(serde_json::from_str::<ClientKey>("\"a b\"").is_err());
        assert_eq!(
            serde_json::from_str::<Role>("\"partner\"")
                .unwrap()
                .as_str(),
            "partner"
        );
    }

    #[test]
    fn refs_are_a_sorted_set() {
        let refs = ExternalRefs::new()
            .with("odoo", "7")
            .with("hubspot", "1")
            .with("odoo", "7");
        assert_eq!(refs.len(), 2);
        assert_eq!(
            serde_json::to_string(&refs).unwrap(),
            r#"[{"system":"hubspot","id":"1"},{"system":"odoo","id":"7"}]"#
        );
        assert!(refs.contains("odoo", "7"));
        let mut refs = refs;
        assert_eq!(refs.remove_system("odoo"), 1);
        assert_eq!(refs.get("odoo"), None);
    }
}
