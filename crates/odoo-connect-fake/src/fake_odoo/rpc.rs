//! The two external APIs over the same ORM: `/jsonrpc` (services `common`, `db`, `object`) and
//! JSON-2 (`/json/2/<model>/<method>`), with the authentication, argument handling and error
//! replies of the recorded servers.

use serde_json::{Map, Value, json};

use super::errors::{OdooError, OdooResult};
use super::methods::{self, Method};
use super::models;
use super::orm::{Ctx, Orm, as_id, ids_of};
use super::schema::Schema;
use super::store::Db;

/// What a call did, for the request log and the fault knobs.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallInfo {
    /// `model.method` or `service.method`.
    pub(crate) name: Option<String>,
    /// A model method that changes data.
    pub(crate) writing: bool,
    /// The call succeeded.
    pub(crate) ok: bool,
    /// Records the call created or wrote through the ORM (rolled back or not).
    pub(crate) records: u64,
}

/// Server identity.
#[derive(Debug, Clone)]
pub(crate) struct ServerInfo {
    pub(crate) version: u8,
    pub(crate) database: String,
}

impl ServerInfo {
    pub(crate) fn version_info(&self) -> Value {
        json!([self.version, 0, 0, "final", 0, ""])
    }

    pub(crate) fn version_string(&self) -> String {
        format!("{}.0", self.version)
    }

    /// `common.version`.
    pub(crate) fn common_version(&self) -> Value {
        json!({
            "server_version": self.version_string(),
            "server_version_info": self.version_info(),
            "server_serie": self.version_string(),
            "protocol_version": 1,
        })
    }

    fn rpc_code(&self) -> i64 {
        if self.version >= 19 { 0 } else { 200 }
    }

    /// JSON-RPC error envelope.
    pub(crate) fn rpc_error(&self, id: &Value, e: &OdooError) -> Value {
        let id = if e.rpc_code == Some(100) {
            Value::Null
        } else {
            id.clone()
        };
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": e.rpc_code.unwrap_or(self.rpc_code()),
                "message": e.rpc_message.unwrap_or("Odoo Server Error"),
                "data": e.data(),
            }
        })
    }

    fn wrong_db(&self, db: &str) -> OdooError {
        OdooError::operational(format!(
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"{db}\" does not exist\n"
        ))
    }

    fn index_error(&self) -> OdooError {
        OdooError::index(if self.version >= 19 {
            "list index out of range"
        } else {
            "tuple index out of range"
        })
    }
}

/// Uid of a login/password (or API key) pair.
pub(crate) fn authenticate(db: &Db, login: &str, password: &str) -> Option<i64> {
    db.credentials
        .iter()
        .find(|c| c.login == login && (c.password == password || c.api_key == password))
        .map(|c| c.uid)
        .filter(|&uid| active_user(db, uid))
}

fn active_user(db: &Db, uid: i64) -> bool {
    db.row("res.users", uid)
        .is_some_and(|r| r.get("active") != Some(&Value::Bool(false)))
}

/// Uid of an API key.
pub(crate) fn uid_of_key(db: &Db, key: &str) -> Option<i64> {
    db.credentials
        .iter()
        .find(|c| c.api_key == key)
        .map(|c| c.uid)
        .filter(|&uid| active_user(db, uid))
}

/// Builds the caller's context, validating `lang` and `allowed_company_ids`.
pub(crate) fn make_ctx(
    db: &mut Db,
    schema: &'static Schema,
    uid: i64,
    context: Map<String, Value>,
) -> OdooResult<Ctx> {
    let user_companies: Vec<i64> = {
        let row = db.row("res.users", uid);
        let main = row.and_then(|r| r.get("company_id")).and_then(as_id);
        let mut all: Vec<i64> = row
            .and_then(|r| r.get("company_ids"))
            .and_then(ids_of)
            .unwrap_or_default();
        if let Some(m) = main {
            all.retain(|&c| c != m);
            all.insert(0, m);
        }
        all
    };
    let companies = match context.get("allowed_company_ids") {
        Some(Value::Array(items)) if !items.is_empty() => {
            let wanted: Vec<i64> = items.iter().filter_map(as_id).collect();
            if wanted.len() != items.len() || wanted.iter().any(|c| !user_companies.contains(c)) {
                return Err(OdooError::access(
                    "Access to unauthorized or invalid companies.",
                ));
            }
            wanted
        }
        _ => user_companies,
    };
    let active_test = !matches!(context.get("active_test"), Some(Value::Bool(false)));
    let mut ctx = Ctx {
        uid,
        context,
        lang: "en_US".into(),
        active_test,
        companies,
        sudo: false,
    };
    if let Some(lang) = ctx
        .context
        .get("lang")
        .and_then(Value::as_str)
        .map(str::to_string)
        && !lang.is_empty()
    {
        let orm = Orm::new(db, schema, ctx.clone());
        let active = super::compute::active_langs(&orm);
        if !active.contains(&lang) {
            return Err(OdooError::user(format!("Invalid language code: {lang}")));
        }
        ctx.lang = lang;
    }
    Ok(ctx)
}

/// A bound model call.
struct Call<'c> {
    model: &'c str,
    method: &'static Method,
    ids: &'c [i64],
    args: &'c Map<String, Value>,
}

/// Runs a model call in one transaction.
fn execute(
    db: &mut Db,
    schema: &'static Schema,
    uid: i64,
    context: Map<String, Value>,
    call: &Call<'_>,
) -> OdooResult<Value> {
    let Call {
        model,
        method: m,
        ids,
        args,
    } = *call;
    if let Some(e) = access_error(db, uid, model, m.name) {
        return Err(e);
    }
    let ctx = make_ctx(db, schema, uid, context)?;
    if models::is_read_only_method(m.name) {
        let mut orm = Orm::new(db, schema, ctx);
        return methods::run(&mut orm, model, m, ids, args);
    }
    db.transaction(|db| {
        db.tick();
        let mut orm = Orm::new(db, schema, ctx);
        methods::run(&mut orm, model, m, ids, args)
    })
}

/// The operation a method needs the right of: reads `read`, `create` and `load` `create`,
/// `unlink` `unlink`, anything else (writes, workflow buttons) `write`.
pub(crate) fn operation_of(method: &str) -> &'static str {
    match method {
        "create" | "load" => "create",
        "unlink" => "unlink",
        m if models::is_read_only_method(m) => "read",
        _ => "write",
    }
}

/// The `AccessError` Odoo 19 raises when the user's groups lack the right a call needs
/// (`ir.model.access._make_access_error`), for a right taken away with
/// [`super::FakeOdoo::deny`].
fn access_error(db: &Db, uid: i64, model: &str, method: &str) -> Option<OdooError> {
    let op = operation_of(method);
    if !db
        .denied
        .iter()
        .any(|(u, m, o)| *u == uid && m == model && *o == op)
    {
        return None;
    }
    let verb = match op {
        "read" => "access",
        "write" => "modify",
        "unlink" => "delete",
        other => other,
    };
    let kind = models::model_meta(model).map_or(model, |m| m.description);
    Some(OdooError::access(format!(
        "You are not allowed to {verb} '{kind}' ({model}) records.\n\n\
         No group currently allows this operation.\n\n\
         Contact your administrator to request access if necessary."
    )))
}

/// A call that a concurrent transaction rolls back ([`super::FakeOdoo::fail_with_serialization`]),
/// as a real Odoo 19 answers it (`tests/fixtures/conflicts/`): `load` catches the failure of
/// each row and returns it in its messages (the first ten rows, then a warning), `create` and
/// `write` raise it once Odoo's own tries are spent. Nothing is executed. `None` when the call
/// goes through.
fn serialization_failure(
    db: &mut Db,
    method: &Method,
    args: &Map<String, Value>,
    call: &mut CallInfo,
) -> Option<OdooResult<Value>> {
    if db.serialization_failures == 0 || !matches!(method.name, "load" | "create" | "write") {
        return None;
    }
    db.serialization_failures -= 1;
    // Nothing was written: the fault knobs that act on writing calls leave it alone.
    call.writing = false;
    if method.name != "load" {
        return Some(Err(OdooError::serialization_failure()));
    }
    let rows = args
        .get("data")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut messages: Vec<Value> = (0..rows.min(10))
        .map(|i| {
            json!({
                "rows": {"from": i, "to": i},
                "record": i,
                "type": "error",
                "message": super::errors::SERIALIZATION_FAILURE,
            })
        })
        .collect();
    if rows >= 10 {
        messages.push(json!({
            "type": "warning",
            "message": "Found more than 10 errors and more than one error per 10 records, interrupted to avoid showing too many errors.",
        }));
    }
    Some(Ok(
        json!({"ids": false, "messages": messages, "nextrow": 0}),
    ))
}

fn private_method(model: &str, method: &str) -> OdooError {
    OdooError::access(format!(
        "Private methods (such as '{model}.{method}') cannot be called remotely."
    ))
}

fn arg_str(args: &[Value], i: usize) -> String {
    match args.get(i) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Handles a parsed `/jsonrpc` body; returns the envelope.
pub(crate) fn jsonrpc(db: &mut Db, info: &ServerInfo, body: &Value, call: &mut CallInfo) -> Value {
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    let params = body.get("params").cloned().unwrap_or(json!({}));
    let service = params
        .get("service")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let method = params
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let args: Vec<Value> = params
        .get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    call.name = Some(format!("{service}.{method}"));
    let before = db.records_touched;
    let result = dispatch_service(db, info, &service, &method, &args, call);
    call.ok = result.is_ok();
    call.records = db.records_touched - before;
    match result {
        Ok(v) => json!({"jsonrpc": "2.0", "id": id, "result": v}),
        Err(e) => info.rpc_error(&id, &e),
    }
}

fn dispatch_service(
    db: &mut Db,
    info: &ServerInfo,
    service: &str,
    method: &str,
    args: &[Value],
    call: &mut CallInfo,
) -> OdooResult<Value> {
    match service {
        "common" => match method {
            "version" => Ok(info.common_version()),
            "login" | "authenticate" => {
                let dbname = arg_str(args, 0);
                if dbname != info.database {
                    return Err(info.wrong_db(&dbname));
                }
                Ok(authenticate(db, &arg_str(args, 1), &arg_str(args, 2))
                    .map_or(Value::Bool(false), |uid| json!(uid)))
            }
            "about" => Ok(json!(format!("See http://openerp.com"))),
            other => Err(OdooError::exception(format!("Method not found: {other}"))),
        },
        "db" => match method {
            "list" => Ok(json!([info.database])),
            "server_version" => Ok(json!(info.version_string())),
            "db_exist" => Ok(json!(arg_str(args, 0) == info.database)),
            other => Err(OdooError::exception(format!("Method not found: {other}"))),
        },
        "object" => match method {
            "execute_kw" | "execute" => object_call(db, info, method == "execute_kw", args, call),
            other => Err(OdooError::exception(format!("Method not found: {other}"))),
        },
        other => Err(OdooError::key(other.to_string())),
    }
}

fn object_call(
    db: &mut Db,
    info: &ServerInfo,
    keyword_form: bool,
    args: &[Value],
    call: &mut CallInfo,
) -> OdooResult<Value> {
    if args.len() < 5 {
        return Err(OdooError::type_error(format!(
            "execute_kw() missing {} required positional arguments",
            5 - args.len()
        )));
    }
    let dbname = arg_str(args, 0);
    if dbname != info.database {
        return Err(info.wrong_db(&dbname));
    }
    let uid = as_id(&args[1]).ok_or_else(OdooError::access_denied)?;
    let password = arg_str(args, 2);
    if db.row("res.users", uid).is_none() {
        return Err(OdooError::missing("res.users", &[uid], uid));
    }
    let login_ok = db
        .credentials
        .iter()
        .any(|c| c.uid == uid && (c.password == password || c.api_key == password));
    if !login_ok || !active_user(db, uid) {
        return Err(OdooError::access_denied());
    }
    let model = arg_str(args, 3);
    let method = arg_str(args, 4);
    call.name = Some(format!("{model}.{method}"));
    let (positional, mut kwargs): (Vec<Value>, Map<String, Value>) = if keyword_form {
        (
            args.get(5)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            args.get(6)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )
    } else {
        (args[5..].to_vec(), Map::new())
    };
    let schema = Schema::get(info.version);
    if models::model_meta(&model).is_none() || schema.model(&model).is_none() {
        return Err(OdooError::user(format!("Object {model} doesn't exist")));
    }
    if method.starts_with('_') {
        return Err(private_method(&model, &method));
    }
    let Some(m) = methods::find(&model, &method, info.version) else {
        return Err(OdooError::attribute(format!(
            "The method '{model}.{method}' does not exist"
        )));
    };
    let context = match kwargs.remove("context") {
        Some(Value::Object(c)) => c,
        _ => Map::new(),
    };
    call.writing = !models::is_read_only_method(m.name);
    let (ids, rest): (Vec<i64>, &[Value]) = if m.api_model {
        (Vec::new(), &positional[..])
    } else {
        let Some(first) = positional.first() else {
            return Err(info.index_error());
        };
        let ids = ids_of(first).ok_or_else(|| {
            OdooError::type_error(format!(
                "unhashable type: '{}'",
                if first.is_object() { "dict" } else { "list" }
            ))
        })?;
        (ids, &positional[1..])
    };
    let bound = methods::bind_python(m, rest, &kwargs)?;
    if let Some(failed) = serialization_failure(db, m, &bound, call) {
        return failed;
    }
    if m.name == "create" {
        let single = matches!(positional.first(), Some(Value::Object(_)));
        let call = Call {
            model: &model,
            method: m,
            ids: &ids,
            args: &bound,
        };
        if positional.is_empty() {
            // The RPC layer runs `create`, then needs `args[0]` to shape the result: the call
            // fails and its transaction is rolled back, the ids stay consumed.
            let rolled_back: Result<(), OdooError> = db.transaction(|db| {
                Err(match execute(db, schema, uid, context, &call) {
                    Ok(_) => info.index_error(),
                    Err(e) => e,
                })
            });
            return Err(match rolled_back {
                Ok(()) => info.index_error(),
                Err(e) => e,
            });
        }
        let created = execute(db, schema, uid, context, &call)?;
        return Ok(if single {
            created
                .as_array()
                .and_then(|a| a.first())
                .cloned()
                .unwrap_or(Value::Bool(false))
        } else {
            created
        });
    }
    execute(
        db,
        schema,
        uid,
        context,
        &Call {
            model: &model,
            method: m,
            ids: &ids,
            args: &bound,
        },
    )
}

/// A JSON-2 reply: status and body.
#[derive(Debug)]
pub(crate) struct Json2Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Json2Reply {
    fn error(e: &OdooError) -> Json2Reply {
        Json2Reply {
            status: e.status,
            body: e.data(),
        }
    }
}

/// Handles `POST /json/2/<model>/<method>` once the route, content type and database are
/// checked. `bearer` is the token of the `Authorization` header, if any.
pub(crate) fn json2(
    db: &mut Db,
    info: &ServerInfo,
    bearer: Option<&str>,
    model: &str,
    method: &str,
    body: &Value,
    call: &mut CallInfo,
) -> Json2Reply {
    call.name = Some(format!("{model}.{method}"));
    let uid = match bearer {
        None => {
            return Json2Reply::error(&OdooError::unauthorized(
                "User not authenticated, use an API Key with a Bearer Authorization header.",
            ));
        }
        Some(key) => match uid_of_key(db, key) {
            Some(uid) => uid,
            None => return Json2Reply::error(&OdooError::unauthorized("Invalid apikey")),
        },
    };
    let schema = Schema::get(info.version);
    if models::model_meta(model).is_none() || schema.model(model).is_none() {
        return Json2Reply::error(&OdooError::not_found(format!(
            "the model '{model}' does not exist"
        )));
    }
    if method.starts_with('_') {
        return Json2Reply::error(&private_method(model, method));
    }
    let Some(m) = methods::find(model, method, info.version) else {
        return Json2Reply::error(&OdooError::not_found(format!(
            "The method '{model}.{method}' does not exist"
        )));
    };
    call.writing = !models::is_read_only_method(m.name);
    let mut named = body.as_object().cloned().unwrap_or_default();
    let ids_value = named.remove("ids");
    let context = match named.remove("context") {
        Some(Value::Object(c)) => c,
        _ => Map::new(),
    };
    let ids = match &ids_value {
        Some(v) => match ids_of(v) {
            Some(ids) => ids,
            None => {
                return Json2Reply::error(&OdooError::unprocessable(
                    "ids must be a list of integers",
                ));
            }
        },
        None => Vec::new(),
    };
    if m.api_model && !ids.is_empty() {
        return Json2Reply::error(&OdooError::unprocessable(format!(
            "cannot call {model}.{method} with ids"
        )));
    }
    let bound = match methods::bind_named(m, &named) {
        Ok(b) => b,
        Err(e) => return Json2Reply::error(&e),
    };
    let result = match serialization_failure(db, m, &bound, call) {
        Some(failed) => failed,
        None => execute(
            db,
            schema,
            uid,
            context,
            &Call {
                model,
                method: m,
                ids: &ids,
                args: &bound,
            },
        ),
    };
    match result {
        Ok(v) => {
            call.ok = true;
            Json2Reply {
                status: 200,
                body: v,
            }
        }
        Err(e) => Json2Reply::error(&e),
    }
}

/// `GET /doc-bearer/<model>.json`: the model's fields (as `fields_get` gives them) and its
/// public methods with their parameters.
pub(crate) fn api_doc(db: &mut Db, info: &ServerInfo, uid: i64, model: &str) -> Json2Reply {
    let schema = Schema::get(info.version);
    if models::model_meta(model).is_none() || schema.model(model).is_none() {
        return Json2Reply::error(&OdooError::not_found(format!(
            "the model '{model}' does not exist"
        )));
    }
    let ctx = match make_ctx(db, schema, uid, Map::new()) {
        Ok(c) => c,
        Err(e) => return Json2Reply::error(&e),
    };
    let orm = Orm::new(db, schema, ctx);
    let fields = methods::fields_get(&orm, model, None, None);
    let mut methods_doc = Map::new();
    for m in methods::public_methods(model, info.version) {
        let params: Vec<Value> = m
            .params
            .iter()
            .map(|p| json!({"name": p.name, "required": p.required}))
            .collect();
        let signature = m
            .params
            .iter()
            .map(|p| {
                if p.required {
                    p.name.to_string()
                } else {
                    format!("{}=None", p.name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        methods_doc.insert(
            m.name.to_string(),
            json!({
                "api": if m.api_model { ["model"] } else { ["records"] },
                "signature": format!("({signature})"),
                "parameters": params,
                "ids": !m.api_model,
            }),
        );
    }
    let description = models::model_meta(model).map_or(model, |m| m.description);
    Json2Reply {
        status: 200,
        body: json!({
            "model": model,
            "name": description,
            "fields": fields,
            "methods": methods_doc,
        }),
    }
}
