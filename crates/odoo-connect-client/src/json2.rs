//! The JSON-2 codec (`POST /json/2/<model>/<method>`, Odoo 19+): encodes calls and decodes
//! replies, without I/O.
//!
//! Named arguments only (`ids`, `context` and the method's own parameter names); the reply body
//! is the bare result; errors carry their class in the HTTP status (401, 403, 404, 409, 422, 500)
//! with a JSON body `{name, message, arguments, context, debug}`, or an HTML page from the HTTP
//! layer.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::call::OdooCall;
use super::context::Context;
use super::error::{Error, OdooException, Result, snippet};

/// The path of a JSON-2 call.
pub fn path(model: &str, method: &str) -> String {
    format!("/json/2/{model}/{method}")
}

/// Encodes the body of a JSON-2 call: `ids`, `context`, named arguments and keyword arguments.
///
/// Fails when a positional argument has no parameter name, since JSON-2 accepts named arguments
/// only.
pub fn encode_body(call: &OdooCall, context: &Context) -> Result<Value> {
    let mut body: Map<String, Value> = Map::new();
    if let Some(ids) = &call.ids {
        body.insert(
            "ids".to_owned(),
            Value::Array(ids.iter().map(|i| Value::from(i.0)).collect()),
        );
    }
    for arg in &call.args {
        let Some(name) = &arg.name else {
            return Err(Error::Encode {
                model: call.model.clone(),
                method: call.method.clone(),
                reason: "JSON-2 accepts named arguments only; give each positional argument its \
                         parameter name with OdooCall::arg"
                    .to_owned(),
                source: None,
            });
        };
        body.insert(name.clone(), arg.value.clone());
    }
    for (k, v) in &call.kwargs {
        body.insert(k.clone(), v.clone());
    }
    if !context.is_empty() {
        body.insert("context".to_owned(), context.to_value());
    }
    Ok(Value::Object(body))
}

/// Decodes a JSON-2 reply: the bare result on 200, an Odoo exception or an HTTP error otherwise.
pub fn decode_reply<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
    what: (&str, &str),
) -> Result<T> {
    if status != 200 {
        return Err(http_error(status, body, retry_after));
    }
    let value: T = super::jsonrpc::decode_json(body)
        .map_err(|(path, e)| super::jsonrpc::classify_json_error(e, path, body, what))?;
    Ok(value)
}

/// Turns a non-200 reply into an error: an Odoo exception when the body is Odoo's JSON error
/// object, an HTTP error (with a snippet of the body) otherwise.
pub(crate) fn http_error(
    status: u16,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> Error {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body)
        && map.contains_key("name")
        && map.contains_key("message")
    {
        return OdooException::from_data(&Value::Object(map), None, Some(status)).into();
    }
    Error::Http {
        status,
        snippet: snippet(body, 200),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OdooErrorKind;
    use serde_json::json;

    #[test]
    fn body_is_named() {
        let call = OdooCall::new("res.partner", "name_search")
            .arg("name", "a")
            .arg("domain", json!([["is_company", "=", true]]))
            .kwarg("limit", 5);
        let body = encode_body(&call, &Context::new().lang("en_US")).unwrap();
        assert_eq!(
            body,
            json!({"name": "a", "domain": [["is_company", "=", true]], "limit": 5, "context": {"lang": "en_US"}})
        );
        let bad = OdooCall::new("res.partner", "x").positional(1);
        assert!(matches!(
            encode_body(&bad, &Context::new()),
            Err(Error::Encode { .. })
        ));
    }

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"name":"odoo.exceptions.AccessError","message":"nope","arguments":["nope"],"context":{},"debug":"tb"}"#;
        let e = decode_reply::<Value>(403, body, None, ("m", "x")).unwrap_err();
        assert_eq!(e.odoo_kind(), Some(OdooErrorKind::AccessError));
        assert_eq!(e.status(), Some(403));
        let body = br#"{"name":"werkzeug.exceptions.Unauthorized","message":"Invalid apikey","arguments":[],"context":{},"debug":""}"#;
        let e = decode_reply::<Value>(401, body, None, ("m", "x")).unwrap_err();
        assert!(e.is_access_denied());
        let e = decode_reply::<Value>(415, b"<html>415</html>", None, ("m", "x")).unwrap_err();
        assert!(matches!(e, Error::Http { status: 415, .. }));
        assert!(!e.is_retryable());
    }
}
