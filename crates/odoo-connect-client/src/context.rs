//! Odoo's call context: language, time zone, companies, archived records, and any other key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::value::RecordId;

/// The context sent with a call (`lang`, `tz`, `allowed_company_ids`, `active_test`, ...).
///
/// The client holds a default context; each call can add or override keys. Keys set on the call
/// win over the client's ([`Context::merged_over`]).
///
/// ```
/// use odoo_connect_client::Context;
/// let ctx = Context::new().lang("fr_FR").allowed_company_ids([2, 1]).active_test(false);
/// assert_eq!(ctx.get("allowed_company_ids"), Some(&serde_json::json!([2, 1])));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Context(Map<String, Value>);

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `lang` (e.g. `en_US`); Odoo refuses languages that are not installed.
    pub fn lang(self, lang: impl Into<String>) -> Self {
        self.with("lang", lang.into())
    }

    /// Sets `tz` (e.g. `Europe/Paris`). Datetimes are always exchanged in UTC whatever `tz` is;
    /// it changes date grouping and server-side rendering only.
    pub fn tz(self, tz: impl Into<String>) -> Self {
        self.with("tz", tz.into())
    }

    /// Sets `allowed_company_ids`; the first is the active company.
    pub fn allowed_company_ids<I, T>(self, ids: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<RecordId>,
    {
        let ids: Vec<Value> = ids.into_iter().map(|i| Value::from(i.into().0)).collect();
        self.with("allowed_company_ids", ids)
    }

    /// Sets `active_test` (`false` includes archived records).
    pub fn active_test(self, active: bool) -> Self {
        self.with("active_test", active)
    }

    /// Sets any key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Sets any key in place.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// Reads a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This context's keys laid over `base` (this one wins).
    pub fn merged_over(&self, base: &Context) -> Context {
        let mut out = base.0.clone();
        for (k, v) in &self.0 {
            out.insert(k.clone(), v.clone());
        }
        Context(out)
    }

    /// The context as a JSON object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The keys and values.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl From<Map<String, Value>> for Context {
    fn from(m: Map<String, Value>) -> Self {
        Context(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_context_wins() {
        let client = Context::new().lang("en_US").tz("UTC");
        let call = Context::new().lang("fr_FR").active_test(false);
        let m = call.merged_over(&client);
        assert_eq!(m.get("lang").unwrap(), "fr_FR");
        assert_eq!(m.get("tz").unwrap(), "UTC");
        assert_eq!(m.get("active_test").unwrap(), false);
    }
}
