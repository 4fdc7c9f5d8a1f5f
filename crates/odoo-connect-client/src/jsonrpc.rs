//! The JSON-RPC codec (`POST /jsonrpc`): encodes calls and decodes replies, without I/O.
//!
//! Works on Odoo 14 to 21 (deprecated from 19, scheduled for removal in 22; the `db` service is
//! gone from 20, so name the database there). Every application error comes back with HTTP 200
//! and an `error` object whose `data` names the Python exception.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::call::OdooCall;
use super::context::Context;
use super::error::{Error, OdooException, Result, snippet};

/// The path of the JSON-RPC endpoint.
pub const PATH: &str = "/jsonrpc";

/// Encodes a `service.method(args)` request body.
pub fn encode_service(service: &str, method: &str, args: Vec<Value>, id: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": args},
        "id": id,
    })
}

/// Encodes `object.execute_kw(db, uid, secret, model, method, args, kwargs)`.
///
/// `ids` go first among the positional arguments; the merged context goes in `kwargs.context`.
/// The secret is written into the body and nowhere else: the body must never be logged.
pub fn encode_execute_kw(
    db: &str,
    uid: i64,
    secret: &str,
    call: &OdooCall,
    context: &Context,
    id: u64,
) -> Value {
    let mut args: Vec<Value> = Vec::with_capacity(call.args.len() + 1);
    if let Some(ids) = &call.ids {
        args.push(Value::Array(ids.iter().map(|i| Value::from(i.0)).collect()));
    }
    args.extend(call.args.iter().map(|a| a.value.clone()));
    let mut kwargs: Map<String, Value> = call.kwargs.clone();
    if !context.is_empty() {
        kwargs.insert("context".to_owned(), context.to_value());
    }
    encode_service(
        "object",
        "execute_kw",
        vec![
            Value::from(db),
            Value::from(uid),
            Value::from(secret),
            Value::from(call.model.as_str()),
            Value::from(call.method.as_str()),
            Value::Array(args),
            Value::Object(kwargs),
        ],
        id,
    )
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default = "none")]
    result: Option<T>,
    #[serde(default)]
    error: Option<RpcError>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Deserialize)]
struct RpcError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

/// Decodes a JSON-RPC reply body into `T`, or into the error it carries.
///
/// `what` names the call for decode errors (`model`, `method`).
pub fn decode_reply<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    what: (&str, &str),
) -> Result<T> {
    if status != 200 {
        return Err(super::json2::http_error(status, body, None));
    }
    let envelope: Envelope<T> = match decode_json(body) {
        Ok(e) => e,
        Err((path, inner)) => return Err(classify_json_error(inner, path, body, what)),
    };
    if let Some(err) = envelope.error {
        let data = err.data.unwrap_or_else(
            || json!({"name": "", "message": err.message.clone().unwrap_or_default()}),
        );
        let mut exc = OdooException::from_data(&data, err.code, None);
        if exc.message.is_empty() {
            exc.message = err.message.unwrap_or_default();
        }
        return Err(exc.into());
    }
    match envelope.result {
        Some(v) => Ok(v),
        // `"result": null` (a method returning None): decode T from null.
        None => T::deserialize(Value::Null).map_err(|e| Error::InvalidReply {
            reason: format!(
                "the {}.{} reply has neither a result nor an error",
                what.0, what.1
            ),
            snippet: snippet(body, 200),
            source: Some(e),
        }),
    }
}

/// Decodes JSON text into `T`. The happy path is plain serde_json; only when decoding fails is
/// the text decoded again with path tracking, to name the field that failed.
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
) -> Result<T, (String, serde_json::Error)> {
    match serde_json::from_slice::<T>(body) {
        Ok(v) => Ok(v),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            let mut de = serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(pe) => Err((pe.path().to_string(), pe.into_inner())),
                Ok(_) => Err((String::new(), e)),
            }
        }
        Err(e) => Err((String::new(), e)),
    }
}

/// Turns a serde_json failure on a reply into the right error: not JSON, truncated, or a field
/// that does not decode.
pub(crate) fn classify_json_error(
    e: serde_json::Error,
    path: String,
    body: &[u8],
    what: (&str, &str),
) -> Error {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => Error::InvalidReply {
            reason: "the reply is truncated".to_owned(),
            snippet: snippet(body, 200),
            source: Some(e),
        },
        Category::Syntax | Category::Io => Error::InvalidReply {
            reason: "the reply is not JSON".to_owned(),
            snippet: snippet(body, 200),
            source: Some(e),
        },
        Category::Data => Error::Decode {
            model: what.0.to_owned(),
            method: what.1.to_owned(),
            path,
            source: e,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OdooErrorKind;

    #[test]
    fn execute_kw_puts_ids_first_and_context_in_kwargs() {
        let call = OdooCall::new("sale.order", "action_confirm").ids([7]);
        let body = encode_execute_kw("ps", 2, "k", &call, &Context::new().lang("en_US"), 5);
        assert_eq!(
            body["params"]["args"],
            json!(["ps", 2, "k", "sale.order", "action_confirm", [[7]], {"context": {"lang": "en_US"}}])
        );
    }

    #[test]
    fn decodes_recorded_error() {
        let body = br#"{"jsonrpc":"2.0","id":98,"error":{"code":0,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied","message":"Access Denied","arguments":["Access Denied"],"context":{},"debug":"tb"}}}"#;
        let e = decode_reply::<Value>(200, body, ("res.partner", "search_count")).unwrap_err();
        assert_eq!(e.odoo_kind(), Some(OdooErrorKind::AccessDenied));
        assert_eq!(e.as_odoo().unwrap().code, Some(0));
    }

    #[test]
    fn non_json_and_truncated() {
        let e = decode_reply::<Value>(200, b"<html>oops</html>", ("m", "x")).unwrap_err();
        assert!(matches!(e, Error::InvalidReply { .. }), "{e}");
        let e = decode_reply::<Value>(200, br#"{"jsonrpc":"2.0","id":1,"result":[1,2"#, ("m", "x"))
            .unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = decode_reply::<Value>(502, b"<html>Bad Gateway</html>", ("m", "x")).unwrap_err();
        assert_eq!(e.status(), Some(502));
        assert!(e.is_retryable());
    }

    #[test]
    fn decode_error_names_the_path() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct R {
            id: i64,
            name: String,
        }
        let body = br#"{"jsonrpc":"2.0","id":1,"result":[{"id":1,"name":"a"},{"id":2,"name":7}]}"#;
        let e = decode_reply::<Vec<R>>(200, body, ("res.partner", "search_read")).unwrap_err();
        match e {
            Error::Decode { path, .. } => assert_eq!(path, "result[1].name"),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn null_result() {
        let v: Option<i64> = decode_reply(
            200,
            br#"{"jsonrpc":"2.0","id":1,"result":null}"#,
            ("m", "x"),
        )
        .unwrap();
        assert_eq!(v, None);
    }
}
