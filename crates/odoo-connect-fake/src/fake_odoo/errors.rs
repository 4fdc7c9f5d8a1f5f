//! Odoo's error replies: exception class, message, arguments and the HTTP status JSON-2 gives
//! each class.

use serde_json::{Value, json};

/// An exception as Odoo reports it (`error.data` over JSON-RPC, the body over JSON-2).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OdooError {
    /// Python class, e.g. `odoo.exceptions.AccessError`.
    pub(crate) name: String,
    pub(crate) message: String,
    pub(crate) arguments: Vec<Value>,
    /// Status of the JSON-2 reply.
    pub(crate) status: u16,
    /// JSON-RPC `error.code` override (100 for an expired session), `None` for the default.
    pub(crate) rpc_code: Option<i64>,
    /// JSON-RPC `error.message` override.
    pub(crate) rpc_message: Option<&'static str>,
}

impl OdooError {
    fn new(name: &str, message: impl Into<String>, status: u16) -> OdooError {
        let message = message.into();
        OdooError {
            name: name.to_string(),
            arguments: vec![Value::String(message.clone())],
            message,
            status,
            rpc_code: None,
            rpc_message: None,
        }
    }

    pub(crate) fn user(message: impl Into<String>) -> OdooError {
        OdooError::new("odoo.exceptions.UserError", message, 422)
    }

    pub(crate) fn validation(message: impl Into<String>) -> OdooError {
        OdooError::new("odoo.exceptions.ValidationError", message, 422)
    }

    pub(crate) fn access(message: impl Into<String>) -> OdooError {
        OdooError::new("odoo.exceptions.AccessError", message, 403)
    }

    pub(crate) fn access_denied() -> OdooError {
        OdooError::new("odoo.exceptions.AccessDenied", "Access Denied", 401)
    }

    pub(crate) fn missing(model: &str, ids: &[i64], uid: i64) -> OdooError {
        OdooError::new(
            "odoo.exceptions.MissingError",
            format!(
                "Record does not exist or has been deleted.\n(Record: {model}{}, User: {uid})",
                py_ids(ids)
            ),
            404,
        )
    }

    pub(crate) fn value(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.ValueError", message, 500)
    }

    pub(crate) fn type_error(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.TypeError", message, 500)
    }

    pub(crate) fn index(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.IndexError", message, 500)
    }

    pub(crate) fn attribute(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.AttributeError", message, 500)
    }

    pub(crate) fn key(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.KeyError", message, 500)
    }

    pub(crate) fn exception(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.Exception", message, 500)
    }

    pub(crate) fn operational(message: impl Into<String>) -> OdooError {
        OdooError::new("psycopg2.OperationalError", message, 500)
    }

    /// PostgreSQL's serialisation failure once Odoo's own tries are spent: JSON-RPC error code 0,
    /// JSON-2 HTTP 500 (as recorded in `tests/fixtures/conflicts/`).
    pub(crate) fn serialization_failure() -> OdooError {
        OdooError::new(
            "psycopg2.errors.SerializationFailure",
            SERIALIZATION_FAILURE,
            500,
        )
    }

    /// A werkzeug HTTP exception: the status is part of `arguments`.
    pub(crate) fn http(class: &str, status: u16, message: impl Into<String>) -> OdooError {
        let mut e = OdooError::new(&format!("werkzeug.exceptions.{class}"), message, status);
        e.arguments.push(json!(status));
        e
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> OdooError {
        OdooError::http("Unauthorized", 401, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> OdooError {
        OdooError::http("NotFound", 404, message)
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> OdooError {
        OdooError::http("UnprocessableEntity", 422, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> OdooError {
        OdooError::http("BadRequest", 400, message)
    }

    pub(crate) fn session_expired() -> OdooError {
        let mut e = OdooError::new("odoo.http.SessionExpiredException", "Session expired", 403);
        e.rpc_code = Some(100);
        e.rpc_message = Some("Odoo Session Expired");
        e
    }

    /// `{name, message, arguments, context, debug}`.
    pub(crate) fn data(&self) -> Value {
        json!({
            "name": self.name,
            "message": self.message,
            "arguments": self.arguments,
            "context": {},
            "debug": self.debug(),
        })
    }

    /// A short traceback in Odoo's format.
    fn debug(&self) -> String {
        format!(
            "Traceback (most recent call last):\n  File \"odoo_connect/testkit/fake_odoo\", line 0, in dispatch\n{}: {}\n",
            self.name, self.message
        )
    }
}

/// PostgreSQL's text of a serialisation failure, as Odoo passes it on.
pub(crate) const SERIALIZATION_FAILURE: &str =
    "could not serialize access due to concurrent update\n";

/// Result of an ORM or service call.
pub(crate) type OdooResult<T> = Result<T, OdooError>;

/// Python's `repr` of a tuple of ids: `(5,)`, `(1, 2)`.
pub(crate) fn py_ids(ids: &[i64]) -> String {
    match ids {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr` of a JSON value (as Odoo prints domain conditions in its errors).
pub(crate) fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr` of a string.
pub(crate) fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A domain condition as Odoo prints it: `('name', '~~', 'x')`.
pub(crate) fn py_condition(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(py_repr).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs() {
        assert_eq!(py_ids(&[999999]), "(999999,)");
        assert_eq!(py_ids(&[1, 2]), "(1, 2)");
        assert_eq!(
            py_condition(&[json!("name"), json!("~~"), json!("x")]),
            "('name', '~~', 'x')"
        );
        assert_eq!(py_repr(&json!([true, null, 1.5])), "[True, None, 1.5]");
        assert_eq!(py_str("it's"), "\"it's\"");
    }

    #[test]
    fn werkzeug_errors_carry_their_status() {
        let e = OdooError::unprocessable("got an unexpected keyword argument 'x'");
        assert_eq!(e.status, 422);
        assert_eq!(e.arguments.len(), 2);
        assert_eq!(e.data()["name"], "werkzeug.exceptions.UnprocessableEntity");
    }
}
