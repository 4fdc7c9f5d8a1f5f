//! The HTTP side: accept loop, routing, Odoo's non-JSON replies (HTML pages, redirects) and the
//! injected faults.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::RecordedRequest;
use super::errors::OdooError;
use super::rpc::{self, CallInfo, ServerInfo};
use super::store::Db;

/// Faults armed by the test.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) latency: Duration,
    /// Time the server takes per record a call creates or writes.
    pub(crate) record_cost: Duration,
    /// Remaining failures and their reply.
    pub(crate) fail: Option<(usize, u16, Option<u64>)>,
    /// Remaining writing calls whose reply is dropped after commit.
    pub(crate) drop_after_commit: usize,
    /// Model calls over `/jsonrpc` answer "session expired" until the next successful
    /// `common.authenticate` or `common.login`.
    pub(crate) session_expired: bool,
}

impl super::FakeOdoo {
    /// Expires the session: from now on, model calls over `/jsonrpc` (`object.execute_kw`)
    /// answer Odoo's session-expired error (JSON-RPC code 100,
    /// `odoo.http.SessionExpiredException`, as recorded from `/web/dataset/call_kw`) without
    /// running, until a client logs in again with `common.authenticate` or `common.login`.
    pub fn expire_sessions(&self) {
        let mut f = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        f.session_expired = true;
    }

    /// Rotates the API key of the user `login`: `key` works from now on, the old key is refused
    /// (JSON-RPC `AccessDenied`, JSON-2 HTTP 401 "Invalid apikey"). Returns whether the user
    /// exists.
    pub fn set_api_key(&self, login: &str, key: impl Into<String>) -> bool {
        let key = key.into();
        let mut db = self.shared.db.lock().unwrap_or_else(|e| e.into_inner());
        match db.credentials.iter_mut().find(|c| c.login == login) {
            Some(c) => {
                c.api_key = key;
                true
            }
            None => false,
        }
    }
}

/// State shared by the handle and the connections.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) db: Mutex<Db>,
    pub(crate) info: ServerInfo,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) log: Mutex<Vec<RecordedRequest>>,
    pub(crate) count: AtomicUsize,
    /// Requests being answered now, and the most there were at once.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) peak_in_flight: AtomicUsize,
}

/// Counts a request as being answered until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_reply(status: u16, body: &Value) -> Reply {
    reply(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset=\"utf-8\"/>\n        <title>Odoo</title>\n    </head>\n    <body>\n        <div id=\"wrap\">\n            <div class=\"container\">\n                <h1>404: Page not found</h1>\n                <p>The page you were looking for could not be found; it is possible you have typed the address incorrectly, but it has most probably been removed due to the recent website reorganisation.</p>\n            </div>\n        </div>\n    </body>\n</html>\n";

fn not_found_page() -> Reply {
    reply(404, "text/html;charset=utf-8", NOT_FOUND_PAGE)
}

fn wrong_content_type(version: u8, route: &str, kind: &str) -> Reply {
    if version >= 19 {
        reply(
            415,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;{route}&#39; is type=&#39;{kind}&#39;.<br><br>Please verify the Content-Type request header and try again.</p>\n"
            ),
        )
    } else {
        reply(
            400,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;{route}&#39; is type=&#39;json&#39;.</p>\n"
            ),
        )
    }
}

fn url_quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn login_redirect(path: &str) -> Reply {
    let target = format!("/web/login?redirect={}", url_quote(&format!("{path}?")));
    let mut r = reply(
        303,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{target}\">{target}</a>. If not, click the link.\n"
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&target) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn fault_page(status: u16, retry_after: Option<u64>) -> Reply {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let mut r = reply(
        code.as_u16(),
        "text/html",
        format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        ),
    );
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(RETRY_AFTER, v);
    }
    r
}

fn is_json_content_type(req: &Request<()>) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "application/json" || v == "application/json-rpc")
}

fn bearer(req: &Request<()>) -> Option<String> {
    let value = req
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Python's `json` error text for a body that does not parse.
fn json_error_text(body: &[u8], e: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(body);
    if e.is_eof() {
        let char_pos = text.chars().count();
        let line = text.matches('\n').count() + 1;
        let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("Expecting value: line {line} column {col} (char {char_pos})")
    } else {
        let col = e.column().max(1);
        format!(
            "Expecting value: line {} column {col} (char {})",
            e.line(),
            col - 1
        )
    }
}

struct Outcome {
    reply: Reply,
    call: CallInfo,
    body: Value,
}

fn handle_jsonrpc(shared: &Shared, is_json: bool, body: &[u8]) -> Outcome {
    let parsed = serde_json::from_slice::<Value>(body);
    let logged = parsed
        .as_ref()
        .cloned()
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    let mut call = CallInfo::default();
    if !is_json {
        return Outcome {
            reply: wrong_content_type(shared.info.version, "/jsonrpc", "jsonrpc"),
            call,
            body: logged,
        };
    }
    let Ok(value) = parsed else {
        return Outcome {
            reply: reply(400, "text/html; charset=utf-8", "Invalid JSON data"),
            call,
            body: logged,
        };
    };
    let params = value.get("params");
    let service = params
        .and_then(|p| p.get("service"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rpc_method = params
        .and_then(|p| p.get("method"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expired = service == "object"
        && shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .session_expired;
    if expired {
        let args = params.and_then(|p| p.get("args")).and_then(Value::as_array);
        let arg = |i: usize| {
            args.and_then(|a| a.get(i))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        call.name = Some(format!("{}.{}", arg(3), arg(4)));
        return Outcome {
            reply: json_reply(
                200,
                &shared
                    .info
                    .rpc_error(&Value::Null, &OdooError::session_expired()),
            ),
            call,
            body: logged,
        };
    }
    let envelope = {
        let mut db = shared.db.lock().unwrap_or_else(|e| e.into_inner());
        rpc::jsonrpc(&mut db, &shared.info, &value, &mut call)
    };
    if service == "common"
        && matches!(rpc_method, "authenticate" | "login")
        && envelope
            .get("result")
            .and_then(Value::as_i64)
            .is_some_and(|uid| uid > 0)
    {
        shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .session_expired = false;
    }
    Outcome {
        reply: json_reply(200, &envelope),
        call,
        body: logged,
    }
}

fn handle_json2(shared: &Shared, req: &Request<()>, path: &str, body: &[u8]) -> Outcome {
    let logged = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    let mut call = CallInfo::default();
    let rest = path.trim_start_matches("/json/2/");
    let mut parts = rest.splitn(2, '/');
    let model = parts.next().unwrap_or_default().to_string();
    let method = parts.next().unwrap_or_default().to_string();
    let done = |reply: Reply, call: CallInfo, body: Value| Outcome { reply, call, body };
    if req.method() != Method::POST || model.is_empty() || method.is_empty() || method.contains('/')
    {
        let e = OdooError::not_found("Did you mean POST /json/2/<model>/<method>?");
        return done(json_reply(e.status, &e.data()), call, logged);
    }
    if !is_json_content_type(req) {
        return done(
            wrong_content_type(
                shared.info.version,
                "/json/2/&lt;__model__&gt;/&lt;__method__&gt;",
                "json2",
            ),
            call,
            logged,
        );
    }
    if let Some(dbname) = req
        .headers()
        .get("x-odoo-database")
        .and_then(|v| v.to_str().ok())
        && dbname != shared.info.database
    {
        return done(
            reply(
                404,
                "text/html; charset=utf-8",
                "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n",
            ),
            call,
            logged,
        );
    }
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => v,
            Err(e) => {
                let err = OdooError::bad_request(format!(
                    "could not parse the body as json: {}",
                    json_error_text(body, &e)
                ));
                return done(json_reply(err.status, &err.data()), call, logged);
            }
        }
    };
    let token = bearer(req);
    let result = {
        let mut db = shared.db.lock().unwrap_or_else(|e| e.into_inner());
        let before = db.records_touched;
        let result = rpc::json2(
            &mut db,
            &shared.info,
            token.as_deref(),
            &model,
            &method,
            &value,
            &mut call,
        );
        call.records = db.records_touched - before;
        result
    };
    done(json_reply(result.status, &result.body), call, logged)
}

fn handle_api_doc(shared: &Shared, req: &Request<()>, path: &str) -> Reply {
    let model = path
        .trim_start_matches("/doc-bearer/")
        .trim_end_matches(".json")
        .to_string();
    let mut db = shared.db.lock().unwrap_or_else(|e| e.into_inner());
    let uid = match bearer(req) {
        None => {
            let e = OdooError::unauthorized(
                "User not authenticated, use an API Key with a Bearer Authorization header.",
            );
            return json_reply(e.status, &e.data());
        }
        Some(key) => match rpc::uid_of_key(&db, &key) {
            Some(uid) => uid,
            None => {
                let e = OdooError::unauthorized("Invalid apikey");
                return json_reply(e.status, &e.data());
            }
        },
    };
    let r = rpc::api_doc(&mut db, &shared.info, uid, &model);
    json_reply(r.status, &r.body)
}

fn route(shared: &Shared, req: &Request<()>, body: &[u8]) -> Outcome {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let v19 = shared.info.version >= 19;
    let logged = || {
        serde_json::from_slice::<Value>(body).unwrap_or_else(|_| {
            if body.is_empty() {
                Value::Null
            } else {
                Value::String(String::from_utf8_lossy(body).into_owned())
            }
        })
    };
    let simple = |reply: Reply| Outcome {
        reply,
        call: CallInfo::default(),
        body: logged(),
    };
    let envelope = |result: Value| {
        let id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Value::Null);
        json_reply(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
    };
    match (method.as_str(), path.as_str()) {
        ("POST", "/jsonrpc") => handle_jsonrpc(shared, is_json_content_type(req), body),
        (_, p) if p.starts_with("/json/2/") && v19 => handle_json2(shared, req, p, body),
        ("GET", "/web/version") | ("GET", "/json/version") if v19 => simple(json_reply(
            200,
            &json!({"version_info": shared.info.version_info(), "version": shared.info.version_string()}),
        )),
        ("GET", "/web/health") => simple(reply(200, "application/json", "{\"status\": \"pass\"}")),
        ("POST", "/web/webclient/version_info") => simple(envelope(shared.info.common_version())),
        ("POST", "/web/database/list") => simple(envelope(json!([shared.info.database]))),
        ("POST", p) if p == "/web/dataset/call_kw" || p.starts_with("/web/dataset/call_kw/") => {
            simple(json_reply(
                200,
                &shared
                    .info
                    .rpc_error(&Value::Null, &OdooError::session_expired()),
            ))
        }
        ("GET", p) if v19 && p.starts_with("/doc-bearer/") && p.ends_with(".json") => {
            simple(handle_api_doc(shared, req, p))
        }
        (_, p) if p.starts_with("/json/") || p == "/json" => simple(login_redirect(p)),
        _ => simple(not_found_page()),
    }
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let http_method = req.method().to_string();
    let path = req.uri().path().to_string();
    let (parts, incoming) = req.into_parts();
    let body = match incoming.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let req = Request::from_parts(parts, ());
    shared.count.fetch_add(1, Ordering::SeqCst);
    let _answering = InFlight::enter(&shared);
    let (latency, fail) = {
        let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        let fail = match f.fail.take() {
            Some((n, status, retry)) if n > 0 => {
                if n > 1 {
                    f.fail = Some((n - 1, status, retry));
                }
                Some((status, retry))
            }
            _ => None,
        };
        (f.latency, fail)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let log = |call: Option<String>, body: Value, status: Option<u16>| {
        shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(RecordedRequest {
                http_method: http_method.clone(),
                path: path.clone(),
                body,
                call,
                status,
            });
    };
    let parsed_body = || {
        serde_json::from_slice::<Value>(&body).unwrap_or_else(|_| {
            if body.is_empty() {
                Value::Null
            } else {
                Value::String(String::from_utf8_lossy(&body).into_owned())
            }
        })
    };
    if let Some((status, retry)) = fail {
        log(None, parsed_body(), Some(status));
        return Ok(fault_page(status, retry));
    }
    let outcome = route(&shared, &req, &body);
    // The server's own work on the records, as a real Odoo spends it on its ORM (defaults,
    // computed fields, constraints) in a worker process of its own: the database is not held
    // meanwhile, so calls on other connections go on.
    let record_cost = shared
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .record_cost;
    if !record_cost.is_zero() && outcome.call.records > 0 {
        let records = u32::try_from(outcome.call.records).unwrap_or(u32::MAX);
        tokio::time::sleep(record_cost.saturating_mul(records)).await;
    }
    let drop_reply = outcome.call.writing && outcome.call.ok && {
        let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        if f.drop_after_commit > 0 {
            f.drop_after_commit -= 1;
            true
        } else {
            false
        }
    };
    if drop_reply {
        log(outcome.call.name.clone(), outcome.body.clone(), None);
        kill.notify_one();
        std::future::pending::<()>().await;
    }
    log(
        outcome.call.name,
        outcome.body,
        Some(outcome.reply.status().as_u16()),
    );
    Ok(outcome.reply)
}

/// Serves connections until `stop` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let kill = Arc::new(Notify::new());
                    let service_kill = kill.clone();
                    let service = hyper::service::service_fn(move |req| {
                        handle(shared.clone(), service_kill.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        () = kill.notified() => {}
                    }
                });
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}
