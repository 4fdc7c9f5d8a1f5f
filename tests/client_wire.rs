//! The exact requests each protocol sends, and how the client reacts to what comes back,
//! checked against a wiremock server answering with recorded Odoo replies.

use std::time::Duration;

use odoo_connect::odoo::{
    Context, Domain, Error, OdooCall, OdooClient, OdooErrorKind, Protocol, RecordId, RetryPolicy,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(rel: &str) -> Option<Value> {
    let p = format!(
        "{}/tests/fixtures/odoo-fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(p)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
}

fn version_reply(major: u32) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "result": {
        "server_version": format!("{major}.0"),
        "server_version_info": [major, 0, 0, "final", 0, ""],
        "server_serie": format!("{major}.0"), "protocol_version": 1}})
}

async fn mount_version(server: &MockServer, major: u32) {
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "version"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(version_reply(major)))
        .mount(server)
        .await;
}

async fn mount_authenticate(server: &MockServer, uid: Value) {
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "authenticate"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":2,"result": uid})),
        )
        .mount(server)
        .await;
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .jitter(false)
        .max_attempts(3)
}

fn json2_client(server: &MockServer) -> OdooClient {
    OdooClient::builder(server.uri())
        .database("ps")
        .api_key("admin", "test-key-123")
        .retry(fast_retry())
        .build()
        .unwrap()
}

fn rpc_client(server: &MockServer) -> OdooClient {
    OdooClient::builder(server.uri())
        .database("ps")
        .password("admin", "admin")
        .retry(fast_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn auto_picks_json2_on_19_with_an_api_key_and_sends_named_arguments() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    let recorded = fixture("odoo-19.0/json2/search_read_partner_companies.json");
    let reply = recorded
        .as_ref()
        .map(|f| f["response"]["body"].clone())
        .unwrap_or(json!([{"id": 1, "name": "YourCompany"}]));
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_read"))
        .and(header("authorization", "bearer test-key-123"))
        .and(header("x-odoo-database", "ps"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "domain": [["is_company", "=", true]],
            "fields": ["name", "email"],
            "limit": 5,
            "order": "id asc",
            "context": {"lang": "en_US"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = json2_client(&server);
    let rows: Vec<Value> = odoo
        .model_named::<Value>("res.partner")
        .search_read(Domain::new().eq("is_company", true))
        .fields(["name", "email"])
        .limit(5)
        .order("id asc")
        .context(Context::new().lang("en_US"))
        .await
        .unwrap();
    assert_eq!(rows, reply.as_array().cloned().unwrap());
    assert_eq!(odoo.protocol().await.unwrap(), Protocol::Json2);
}

#[tokio::test]
async fn auto_picks_jsonrpc_with_a_password_and_caches_the_uid() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "authenticate",
            "args": ["ps", "admin", "admin", {}]}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":2,"result":2})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"method": "call", "params": {"service": "object", "method": "execute_kw",
            "args": ["ps", 2, "admin", "res.partner", "search_count", [[["is_company", "=", true]]], {}]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":3,"result":12})))
        .expect(2)
        .mount(&server)
        .await;
    let odoo = rpc_client(&server);
    let handle = odoo.model_named::<Value>("res.partner");
    assert_eq!(
        handle
            .search_count(Domain::new().eq("is_company", true))
            .await
            .unwrap(),
        12
    );
    assert_eq!(
        handle
            .search_count(Domain::new().eq("is_company", true))
            .await
            .unwrap(),
        12
    );
    assert_eq!(odoo.protocol().await.unwrap(), Protocol::JsonRpc);
    assert_eq!(odoo.uid().await.unwrap(), 2);
}

#[tokio::test]
async fn jsonrpc_create_sends_values_positionally_and_accepts_an_id_or_a_list() {
    let server = MockServer::start().await;
    mount_version(&server, 18).await;
    mount_authenticate(&server, json!(2)).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"method": "execute_kw",
            "args": ["ps", 2, "admin", "res.partner", "create", [[{"name": "A"}, {"name": "B"}]], {}]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":3,"result":[7, 8]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"method": "execute_kw",
            "args": ["ps", 2, "admin", "res.partner", "create", [[{"name": "C"}]], {}]}})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":4,"result":9})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let odoo = rpc_client(&server);
    let h = odoo.model_named::<Value>("res.partner");
    let ids = h
        .create_many(&[json!({"name": "A"}), json!({"name": "B"})])
        .await
        .unwrap();
    assert_eq!(ids, vec![RecordId(7), RecordId(8)]);
    assert_eq!(h.create(&json!({"name": "C"})).await.unwrap(), RecordId(9));
}

#[tokio::test]
async fn name_search_and_grouping_follow_the_version() {
    // Odoo 18 over JSON-RPC: name_search positional; read_group.
    let server = MockServer::start().await;
    mount_version(&server, 18).await;
    mount_authenticate(&server, json!(2)).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"method": "execute_kw",
            "args": ["ps", 2, "admin", "res.partner", "name_search", ["azure", [], "ilike", 5], {}]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":3,"result":[[9, "Azure Interior"]]})))
        .expect(1)
        .mount(&server)
        .await;
    let rg = fixture("odoo-19.0/jsonrpc/read_group_timesheets_by_project.json")
        .map(|f| f["response"]["body"].clone())
        .unwrap_or(json!({"jsonrpc":"2.0","id":1,"result":[{"project_id": [11, "AGR"], "project_id_count": 140, "unit_amount": 285.0, "__domain": []}]}));
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"method": "execute_kw",
            "args": ["ps", 2, "admin", "account.analytic.line", "read_group",
                     [[["project_id", "!=", false]], ["unit_amount:sum"], ["project_id"]], {"lazy": false}]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(rg))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = rpc_client(&server);
    let found = odoo
        .model_named::<Value>("res.partner")
        .name_search("azure")
        .limit(5)
        .await
        .unwrap();
    assert_eq!(found, vec![(RecordId(9), "Azure Interior".to_owned())]);
    let rows = odoo
        .model_named::<Value>("account.analytic.line")
        .read_group(
            Domain::new().ne("project_id", false),
            &["project_id"],
            &["unit_amount:sum"],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].groups["project_id"][0], 11);
    assert_eq!(rows[0].aggregates["unit_amount:sum"], 285.0);
    assert_eq!(rows[0].count, Some(140));
}

#[tokio::test]
async fn formatted_read_group_on_19_gives_the_same_rows() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    let frg = fixture("odoo-19.0/jsonrpc/formatted_read_group_timesheets_by_project.json")
        .map(|f| f["response"]["body"]["result"].clone())
        .unwrap_or(
            json!([{"project_id": [11, "AGR"], "__extra_domain": [], "unit_amount:sum": 285.0}]),
        );
    let mut rows_with_count = frg.clone();
    for r in rows_with_count.as_array_mut().unwrap() {
        r["__count"] = json!(140);
    }
    Mock::given(method("POST"))
        .and(path("/json/2/account.analytic.line/formatted_read_group"))
        .and(body_json(
            json!({"domain": [["project_id", "!=", false]], "groupby": ["project_id"],
            "aggregates": ["unit_amount:sum", "__count"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(rows_with_count))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = json2_client(&server);
    let rows = odoo
        .model_named::<Value>("account.analytic.line")
        .read_group(
            Domain::new().ne("project_id", false),
            &["project_id"],
            &["unit_amount:sum"],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].groups["project_id"][0], 11);
    assert_eq!(rows[0].aggregates["unit_amount:sum"], 285.0);
    assert_eq!(rows[0].count, Some(140));
}

#[tokio::test]
async fn reads_are_retried_after_502_but_writes_are_not() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_count"))
        .respond_with(ResponseTemplate::new(502).set_body_string(html))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_count"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(5)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/create"))
        .respond_with(ResponseTemplate::new(502).set_body_string(html))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = json2_client(&server);
    let h = odoo.model_named::<Value>("res.partner");
    assert_eq!(h.search_count(Domain::new()).await.unwrap(), 5);
    let err = h.create(&json!({"name": "x"})).await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.is_retryable(), "a 502 is transient");
    assert!(!err.is_unsent(), "but the request reached a server");
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([1, 2])))
        .mount(&server)
        .await;
    let odoo = OdooClient::builder(server.uri())
        .database("ps")
        .api_key("admin", "k")
        .retry(fast_retry().max_delay(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let ids = odoo
        .model_named::<Value>("res.partner")
        .search(Domain::new())
        .await
        .unwrap();
    assert_eq!(ids, vec![RecordId(1), RecordId(2)]);
    // Retry-After of one second, not the 1 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Without retries the error carries the delay.
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "k")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    server.reset().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    let e = odoo
        .model_named::<Value>("res.partner")
        .search(Domain::new())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn json2_errors_are_typed_by_status() {
    let cases = [
        (
            401,
            "werkzeug.exceptions.Unauthorized",
            OdooErrorKind::AccessDenied,
        ),
        (
            403,
            "odoo.exceptions.AccessError",
            OdooErrorKind::AccessError,
        ),
        (
            404,
            "odoo.exceptions.MissingError",
            OdooErrorKind::MissingError,
        ),
        (
            409,
            "psycopg2.errors.LockNotAvailable",
            OdooErrorKind::Conflict,
        ),
        (
            422,
            "odoo.exceptions.ValidationError",
            OdooErrorKind::ValidationError,
        ),
        (422, "odoo.exceptions.UserError", OdooErrorKind::UserError),
        (500, "builtins.ValueError", OdooErrorKind::Other),
    ];
    for (status, name, kind) in cases {
        let server = MockServer::start().await;
        mount_version(&server, 19).await;
        Mock::given(method("POST"))
            .and(path("/json/2/res.partner/write"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "name": name, "message": "the message", "arguments": ["the message"],
                "context": {}, "debug": "Traceback (most recent call last): SECRET-TRACE"})))
            .mount(&server)
            .await;
        let odoo = json2_client(&server);
        let e = odoo
            .model_named::<Value>("res.partner")
            .write(&[RecordId(1)], &json!({"name": "x"}))
            .await
            .unwrap_err();
        assert_eq!(e.odoo_kind(), Some(kind), "{status} {name}");
        assert_eq!(e.odoo_exception(), Some(name));
        assert_eq!(e.status(), Some(status));
        assert!(e.to_string().contains("the message"));
        assert!(!e.to_string().contains("SECRET-TRACE"));
        assert_eq!(e.is_retryable(), status == 409, "{status}");
        assert!(
            e.as_odoo()
                .unwrap()
                .debug
                .as_deref()
                .unwrap()
                .contains("SECRET-TRACE")
        );
    }
}

#[tokio::test]
async fn jsonrpc_recorded_errors_are_typed() {
    let files = [
        (
            "odoo-19.0/jsonrpc/error_missing_required_field.json",
            OdooErrorKind::ValidationError,
        ),
        (
            "odoo-19.0/jsonrpc/error_user_error_unlink_confirmed_so.json",
            OdooErrorKind::UserError,
        ),
        (
            "odoo-19.0/jsonrpc/error_missing_record_write.json",
            OdooErrorKind::MissingError,
        ),
        (
            "odoo-19.0/jsonrpc/error_private_method.json",
            OdooErrorKind::AccessError,
        ),
        (
            "odoo-19.0/jsonrpc/error_wrong_password.json",
            OdooErrorKind::AccessDenied,
        ),
        (
            "odoo-18.0/jsonrpc/error_wrong_password.json",
            OdooErrorKind::AccessDenied,
        ),
        (
            "odoo-19.0/jsonrpc/error_unknown_model.json",
            OdooErrorKind::UserError,
        ),
        (
            "odoo-19.0/jsonrpc/error_unknown_method.json",
            OdooErrorKind::Other,
        ),
    ];
    for (file, kind) in files {
        let Some(f) = fixture(file) else {
            panic!("the recorded exchange {file} is missing from tests/fixtures/odoo-fixtures");
        };
        let server = MockServer::start().await;
        mount_version(&server, 18).await;
        mount_authenticate(&server, json!(2)).await;
        Mock::given(method("POST"))
            .and(path("/jsonrpc"))
            .and(body_partial_json(json!({"params": {"service": "object"}})))
            .respond_with(ResponseTemplate::new(200).set_body_json(f["response"]["body"].clone()))
            .mount(&server)
            .await;
        let odoo = rpc_client(&server);
        let e = odoo
            .call::<Value>(&OdooCall::new("res.partner", "whatever"))
            .await
            .unwrap_err();
        assert_eq!(e.odoo_kind(), Some(kind), "{file}");
        let expected = f["response"]["body"]["error"]["data"]["message"]
            .as_str()
            .unwrap();
        assert!(e.to_string().contains(expected), "{file}: {e}");
        assert!(!e.to_string().contains("Traceback"));
    }
}

#[tokio::test]
async fn wrong_credentials_give_access_denied() {
    let server = MockServer::start().await;
    mount_version(&server, 18).await;
    mount_authenticate(&server, json!(false)).await;
    let odoo = rpc_client(&server);
    let e = odoo
        .model_named::<Value>("res.partner")
        .search(Domain::new())
        .await
        .unwrap_err();
    assert!(e.is_access_denied(), "{e}");
}

#[tokio::test]
async fn replies_that_are_not_odoo_replies_give_clear_errors() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/json/2/a.b/html"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<html><body>Proxy login</body></html>"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/a.b/truncated"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[{\"id\": 1, \"name\": \"x"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/a.b/big"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("[{}]", "1,".repeat(5000) + "1")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/a.b/notfound"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string("<!DOCTYPE html><html>404: Not Found</html>"),
        )
        .mount(&server)
        .await;
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "k")
        .max_response_bytes(4096)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let call = |m: &'static str| {
        let odoo = odoo.clone();
        async move { odoo.call::<Value>(&OdooCall::new("a.b", m)).await }
    };
    let e = call("html").await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidReply { .. }) && e.to_string().contains("not JSON"),
        "{e}"
    );
    let e = call("truncated").await.unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = call("big").await.unwrap_err();
    assert!(matches!(e, Error::BodyTooLarge { limit: 4096 }), "{e}");
    let e = call("notfound").await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert!(e.to_string().contains("404: Not Found"));
}

#[tokio::test]
async fn decode_errors_name_the_field() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct P {
        id: i64,
        name: String,
    }
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_read"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": 1, "name": "a"}, {"id": 2, "name": false}])),
        )
        .mount(&server)
        .await;
    let odoo = json2_client(&server);
    let e = odoo
        .model_named::<P>("res.partner")
        .search_read(Domain::new())
        .await
        .unwrap_err();
    match &e {
        Error::Decode { path, model, .. } => {
            assert_eq!(path, "[1].name");
            assert_eq!(model, "res.partner");
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn connection_refused_is_unsent_and_retryable() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let odoo = OdooClient::builder(format!("http://127.0.0.1:{port}"))
        .api_key("admin", "k")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = odoo.version().await.unwrap_err();
    assert!(e.is_retryable() && e.is_unsent(), "{e:?}");
}

#[tokio::test]
async fn timeouts_are_reported() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "k")
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = odoo
        .model_named::<Value>("res.partner")
        .search(Domain::new())
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
}

#[tokio::test]
async fn json2_refuses_positional_arguments_and_pre_19_servers() {
    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    let odoo = json2_client(&server);
    let e = odoo
        .execute_kw::<Value>("res.partner", "search", vec![json!([])], Default::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Encode { .. }), "{e}");

    let server = MockServer::start().await;
    mount_version(&server, 17).await;
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "k")
        .protocol(Protocol::Json2)
        .build()
        .unwrap();
    let e = odoo.session().await.unwrap_err();
    assert!(
        matches!(e, Error::Config { .. }) && e.to_string().contains("17.0"),
        "{e}"
    );
}

#[tokio::test]
async fn database_is_found_when_the_server_has_one() {
    let server = MockServer::start().await;
    mount_version(&server, 17).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "db", "method": "list"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc":"2.0","id":1,"result":["only"]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"service": "common", "method": "authenticate", "args": ["only", "admin", "k", {}]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"jsonrpc":"2.0","id":2,"result":2})))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "k")
        .build()
        .unwrap();
    let s = odoo.session().await.unwrap();
    assert_eq!(s.database.as_deref(), Some("only"));
    assert_eq!(s.protocol, Protocol::JsonRpc, "17 has no JSON-2");
}
