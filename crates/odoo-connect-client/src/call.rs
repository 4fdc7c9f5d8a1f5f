//! An ORM call as a value: model, method, ids, arguments, context.
//!
//! A call is built once and encoded by either protocol ([`crate::jsonrpc`],
//! [`crate::json2`]); it can be logged (without its values), stored in a dead-letter record
//! and replayed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::Context;
use super::value::RecordId;

/// A positional argument with the parameter name JSON-2 needs for it.
///
/// JSON-RPC sends arguments positionally; JSON-2 accepts named arguments only. Giving each
/// positional argument its name lets one call value be sent over both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arg {
    /// The method's parameter name (`None` when unknown: such a call cannot go over JSON-2).
    pub name: Option<String>,
    /// The value.
    pub value: Value,
}

/// Whether a call may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum Safety {
    /// Reads: repeating them is harmless, so the client retries them on transient failures.
    Read,
    /// Anything that may change data: retried only when the request provably never reached the
    /// server.
    #[default]
    Write,
}

/// One call of a model method.
///
/// ```
/// use odoo_connect_client::{OdooCall, Context};
/// let call = OdooCall::new("sale.order", "action_confirm").ids([42]);
/// assert_eq!(call.to_string(), "sale.order.action_confirm(ids=[42])");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OdooCall {
    /// The model (`res.partner`).
    pub model: String,
    /// The method (`search_read`, `action_post`).
    pub method: String,
    /// The records the method runs on (`ids` over JSON-2, first positional argument over JSON-RPC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<RecordId>>,
    /// Positional arguments, each with its parameter name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
    /// Keyword arguments.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub kwargs: Map<String, Value>,
    /// The call's own context, laid over the client's default.
    #[serde(default, skip_serializing_if = "Context::is_empty")]
    pub context: Context,
    /// Whether the call may be repeated.
    #[serde(default)]
    pub safety: Safety,
}

impl OdooCall {
    /// A call of `model.method` with no arguments; treated as a write until marked
    /// [`OdooCall::read_only`].
    pub fn new(model: impl Into<String>, method: impl Into<String>) -> Self {
        OdooCall {
            model: model.into(),
            method: method.into(),
            ids: None,
            args: Vec::new(),
            kwargs: Map::new(),
            context: Context::new(),
            safety: Safety::Write,
        }
    }

    /// Runs the method on these records.
    pub fn ids<I, T>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<RecordId>,
    {
        self.ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a positional argument with its parameter name (needed by JSON-2).
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.args.push(Arg {
            name: Some(name.into()),
            value: value.into(),
        });
        self
    }

    /// Adds a positional argument without a name (JSON-RPC only).
    pub fn positional(mut self, value: impl Into<Value>) -> Self {
        self.args.push(Arg {
            name: None,
            value: value.into(),
        });
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.kwargs.insert(name.into(), value.into());
        self
    }

    /// Sets the call's context (laid over the client's default).
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Marks the call as a read, which the client may retry.
    pub fn read_only(mut self) -> Self {
        self.safety = Safety::Read;
        self
    }

    /// Whether the client may retry the call after a failure that may have reached the server.
    pub fn is_read(&self) -> bool {
        self.safety == Safety::Read
    }
}

/// Shows the call without argument values (safe to log: no record contents).
impl std::fmt::Display for OdooCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}(", self.model, self.method)?;
        let mut first = true;
        if let Some(ids) = &self.ids {
            if ids.len() <= 5 {
                let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                write!(f, "ids=[{}]", list.join(", "))?;
            } else {
                write!(f, "ids=<{} ids>", ids.len())?;
            }
            first = false;
        }
        for a in &self.args {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(a.name.as_deref().unwrap_or("_"))?;
        }
        for k in self.kwargs.keys() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(k)?;
        }
        f.write_str(")")
    }
}
