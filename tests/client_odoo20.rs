//! The client against an Odoo 20.0 server made of the exchanges in
//! `tests/fixtures/odoo-fixtures/odoo-20.0/`, which were written from Odoo's public sources (no
//! 20.0 server was run; see that folder's README): JSON-2 is chosen with an API key, grouping goes
//! through `formatted_read_group`, and a forced JSON-RPC that the server no longer serves is a
//! clear configuration error instead of an HTTP 404.

use odoo_connect::odoo::models::Partner;
use odoo_connect::odoo::{Domain, Error, OdooClient, Protocol};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn exchange(rel: &str) -> Value {
    let file = format!(
        "{}/tests/fixtures/odoo-fixtures/odoo-20.0/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Serves one fixture: same method and path, and the request body when it has one.
async fn mount(server: &MockServer, rel: &str) {
    let ex = exchange(rel);
    let req = &ex["request"];
    let resp = &ex["response"];
    let status = resp["status"].as_u64().unwrap() as u16;
    let template = match &resp["body"] {
        Value::String(text) => ResponseTemplate::new(status).set_body_raw(
            text.clone(),
            resp["headers"]["Content-Type"].as_str().unwrap(),
        ),
        body => ResponseTemplate::new(status).set_body_json(body.clone()),
    };
    let mut mock = Mock::given(method(req["method"].as_str().unwrap()))
        .and(path(req["path"].as_str().unwrap()));
    if let Some(params) = req["body"].get("params") {
        mock = mock.and(body_partial_json(json!({"params": {
            "service": params["service"], "method": params["method"]}})));
    } else if req["body"].is_object() {
        mock = mock.and(body_json(req["body"].clone()));
    }
    mock.respond_with(template).mount(server).await;
}

async fn twenty() -> MockServer {
    let server = MockServer::start().await;
    mount(&server, "jsonrpc/common_version.json").await;
    mount(&server, "web/json_version.json").await;
    server
}

fn client(server: &MockServer, protocol: Protocol) -> OdooClient {
    OdooClient::builder(server.uri())
        .database("ps")
        .api_key("admin", "k")
        .protocol(protocol)
        .build()
        .unwrap()
}

#[tokio::test]
async fn auto_picks_json2_on_20_and_groups_with_formatted_read_group() {
    let server = twenty().await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/formatted_read_group"))
        .and(header("authorization", "bearer k"))
        .and(body_json(
            exchange("json2/formatted_read_group_by_is_company.json")["request"]["body"].clone(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            exchange("json2/formatted_read_group_by_is_company.json")["response"]["body"].clone(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let odoo = client(&server, Protocol::Auto);
    let session = odoo.session().await.unwrap();
    assert_eq!((session.version.major, session.version.minor), (20, 0));
    assert_eq!(session.protocol, Protocol::Json2);
    assert!(session.version.jsonrpc_deprecated() && !session.version.has_rpc_db_service());
    let mut rows = odoo
        .model::<Partner>()
        .read_group(
            Domain::new().ilike("name", "oc20"),
            &["is_company"],
            &["color:sum"],
        )
        .await
        .unwrap();
    rows.sort_by_key(|r| r.groups["is_company"].as_bool());
    assert_eq!(rows[0].count, Some(3));
    assert_eq!(rows[0].aggregates["color:sum"], 9);
    assert_eq!(rows[1].count, Some(2));
}

#[tokio::test]
async fn forced_json_rpc_where_logins_are_switched_off_is_a_config_error() {
    let server = twenty().await;
    mount(&server, "jsonrpc/error_login_disabled.json").await;
    let e = client(&server, Protocol::JsonRpc)
        .model::<Partner>()
        .search_count(Domain::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("20.0") && text.contains("Protocol::Json2"),
        "{text}"
    );
}

#[tokio::test]
async fn forced_json_rpc_on_a_server_without_it_is_refused_before_any_login() {
    // A 22 server: /jsonrpc is gone, /json/version answers.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("<h1>Not Found</h1>", "text/html"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/json/version"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"version_info": [22, 0, 0, "final", 0, ""], "version": "22.0"}),
            ),
        )
        .mount(&server)
        .await;
    for protocol in [Protocol::JsonRpc, Protocol::Auto] {
        let password = OdooClient::builder(server.uri())
            .database("ps")
            .password("admin", "pw")
            .protocol(protocol)
            .build()
            .unwrap();
        let e = password.session().await.unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{protocol}: {e:?}");
        assert!(e.to_string().contains("no longer serves JSON-RPC"), "{e}");
    }
    // With a key, Auto still works there, over JSON-2.
    let odoo = client(&server, Protocol::Auto);
    assert_eq!(odoo.protocol().await.unwrap(), Protocol::Json2);
}
