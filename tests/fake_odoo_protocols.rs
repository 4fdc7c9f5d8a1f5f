//! HTTP and protocol behaviour of `FakeOdoo`: JSON-RPC and JSON-2 envelopes, authentication
//! failures, content types, routes, and the differences of Odoo 17 and 18.

#![cfg(feature = "testkit")]

use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

struct Reply {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

async fn send(builder: reqwest::RequestBuilder) -> Reply {
    let r = builder.send().await.expect("the fake answers");
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
        text,
    }
}

async fn jsonrpc(fake: &FakeOdoo, service: &str, method: &str, args: Value) -> Reply {
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 7,
        "params": {"service": service, "method": method, "args": args}});
    send(
        client()
            .post(format!("{}/jsonrpc", fake.url()))
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn execute_kw(
    fake: &FakeOdoo,
    model: &str,
    method: &str,
    args: Value,
    kwargs: Value,
) -> Value {
    let r = jsonrpc(
        fake,
        "object",
        "execute_kw",
        json!([
            fake.database(),
            FakeOdoo::ADMIN_UID,
            FakeOdoo::ADMIN_PASSWORD,
            model,
            method,
            args,
            kwargs
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    r.body
}

async fn json2(
    fake: &FakeOdoo,
    key: Option<&str>,
    model: &str,
    method: &str,
    body: Value,
) -> Reply {
    let mut b = client()
        .post(format!("{}/json/2/{model}/{method}", fake.url()))
        .header("Content-Type", "application/json")
        .header("X-Odoo-Database", fake.database())
        .body(body.to_string());
    if let Some(k) = key {
        b = b.header("Authorization", format!("bearer {k}"));
    }
    send(b).await
}

#[tokio::test]
async fn jsonrpc_services_and_envelopes() {
    let fake = FakeOdoo::start().await;
    let v = jsonrpc(&fake, "common", "version", json!([])).await;
    assert_eq!(v.content_type, "application/json; charset=utf-8");
    assert_eq!(v.body["id"], 7);
    assert_eq!(v.body["result"]["server_version"], "19.0");
    let key = fake.admin_api_key();
    for (login, password, expected) in [
        ("admin", "admin", json!(2)),
        ("admin", key.as_str(), json!(2)),
        ("demo", "demo", json!(5)),
        ("admin", "wrong", json!(false)),
    ] {
        let r = jsonrpc(
            &fake,
            "common",
            "login",
            json!([fake.database(), login, password]),
        )
        .await;
        assert_eq!(r.body["result"], expected, "{login}/{password}");
        let r = jsonrpc(
            &fake,
            "common",
            "authenticate",
            json!([fake.database(), login, password, {}]),
        )
        .await;
        assert_eq!(r.body["result"], expected);
    }
    assert_eq!(
        jsonrpc(&fake, "db", "list", json!([])).await.body["result"],
        json!(["ps"])
    );
    assert_eq!(
        jsonrpc(&fake, "db", "server_version", json!([])).await.body["result"],
        "19.0"
    );
    let e = jsonrpc(&fake, "nope", "version", json!([])).await.body;
    assert_eq!(e["error"]["code"], 0);
    assert_eq!(e["error"]["message"], "Odoo Server Error");
    assert_eq!(e["error"]["data"]["name"], "builtins.KeyError");
    assert!(
        e["error"]["data"]["debug"]
            .as_str()
            .is_some_and(|d| d.starts_with("Traceback"))
    );
    let e = jsonrpc(
        &fake,
        "object",
        "execute_kw",
        json!(["ps", 2, "wrong", "res.partner", "search_count", [[]]]),
    )
    .await
    .body;
    assert_eq!(e["error"]["data"]["name"], "odoo.exceptions.AccessDenied");
    let e = jsonrpc(
        &fake,
        "object",
        "execute_kw",
        json!(["other", 2, "admin", "res.partner", "search_count", [[]]]),
    )
    .await
    .body;
    assert_eq!(e["error"]["data"]["name"], "psycopg2.OperationalError");
    let e = jsonrpc(
        &fake,
        "object",
        "execute_kw",
        json!(["ps", 999, "admin", "res.partner", "search_count", [[]]]),
    )
    .await
    .body;
    assert_eq!(e["error"]["data"]["name"], "odoo.exceptions.MissingError");
    let e = execute_kw(
        &fake,
        "no.such.model",
        "search_count",
        json!([[]]),
        json!({}),
    )
    .await;
    assert_eq!(
        e["error"]["data"]["message"],
        "Object no.such.model doesn't exist"
    );
    let e = execute_kw(&fake, "res.partner", "nope", json!([[9]]), json!({})).await;
    assert_eq!(e["error"]["data"]["name"], "builtins.AttributeError");
    // create: one dict gives an id, a list gives a list.
    assert!(
        execute_kw(
            &fake,
            "res.partner",
            "create",
            json!([{"name": "One"}]),
            json!({})
        )
        .await["result"]
            .is_i64()
    );
    assert!(
        execute_kw(
            &fake,
            "res.partner",
            "create",
            json!([[{"name": "Two"}]]),
            json!({})
        )
        .await["result"]
            .is_array()
    );
    let ctx = execute_kw(&fake, "res.users", "context_get", json!([]), json!({})).await;
    assert_eq!(
        ctx["result"],
        json!({"lang": "en_US", "tz": "Europe/Brussels", "uid": 2})
    );
}

#[tokio::test]
async fn http_level_errors() {
    let fake = FakeOdoo::start().await;
    let r = send(
        client()
            .post(format!("{}/jsonrpc", fake.url()))
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 415);
    assert!(r.content_type.starts_with("text/html"));
    let r = send(
        client()
            .post(format!("{}/jsonrpc", fake.url()))
            .header("Content-Type", "application/json")
            .body("{\"id\": 1,"),
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (400, "Invalid JSON data"));
    let r = send(client().get(format!("{}/no/such/route", fake.url()))).await;
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("text/html") && r.text.contains("<html"));
    let r = send(client().get(format!("{}/web/version", fake.url()))).await;
    assert_eq!(
        r.body,
        json!({"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"})
    );
    let r = send(client().get(format!("{}/json/version", fake.url()))).await;
    assert_eq!(r.body["version"], "19.0");
    let r = send(client().get(format!("{}/web/health", fake.url()))).await;
    assert_eq!(r.body, json!({"status": "pass"}));
    let r = send(
        client()
            .post(format!("{}/json/3/res.partner/search", fake.url()))
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 303);
    let r = send(
        client()
            .post(format!("{}/web/dataset/call_kw", fake.url()))
            .header("Content-Type", "application/json")
            .body("{\"id\": 3}"),
    )
    .await;
    assert_eq!(r.body["error"]["code"], 100);
    assert_eq!(r.body["id"], Value::Null);
}

#[tokio::test]
async fn json2_authentication_and_errors() {
    let fake = FakeOdoo::start().await;
    let admin = fake.admin_api_key();
    let ok = json2(
        &fake,
        Some(&admin),
        "res.partner",
        "search_count",
        json!({"domain": [["is_company", "=", true]]}),
    )
    .await;
    assert_eq!((ok.status, ok.body.clone()), (200, json!(11)));
    let r = json2(
        &fake,
        None,
        "res.partner",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["name"], "werkzeug.exceptions.Unauthorized");
    assert_eq!(
        r.body["message"],
        "User not authenticated, use an API Key with a Bearer Authorization header."
    );
    assert_eq!(r.body["arguments"][1], 401);
    let r = json2(
        &fake,
        Some("0000"),
        "res.partner",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (401, json!("Invalid apikey"))
    );
    let r = json2(
        &fake,
        Some("admin"),
        "res.partner",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(r.status, 401, "passwords are not bearer tokens");
    let r = send(
        client()
            .post(format!("{}/json/2/res.partner/search_count", fake.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("bearer {admin}"))
            .header("X-Odoo-Database", "other")
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("text/html"));
    let r = send(
        client()
            .post(format!("{}/json/2/res.partner/search_count", fake.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("bearer {admin}"))
            .body(r#"{"domain": []}"#),
    )
    .await;
    assert_eq!(
        r.status, 200,
        "X-Odoo-Database is optional with one database"
    );
    let r = send(
        client()
            .post(format!("{}/json/2/res.partner/search_count", fake.url()))
            .header("Content-Type", "text/plain")
            .header("Authorization", format!("bearer {admin}"))
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(
        client()
            .post(format!("{}/json/2/res.partner/search_count", fake.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("bearer {admin}"))
            .body("{\"domain\": ["),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["name"], "werkzeug.exceptions.BadRequest");
    let cases = [
        (
            "no.such.model",
            "search_count",
            json!({"domain": []}),
            404,
            "werkzeug.exceptions.NotFound",
        ),
        (
            "res.partner",
            "no_such_method",
            json!({"ids": [9]}),
            404,
            "werkzeug.exceptions.NotFound",
        ),
        (
            "res.partner",
            "_private",
            json!({"ids": [9]}),
            403,
            "odoo.exceptions.AccessError",
        ),
        (
            "res.partner",
            "search",
            json!({"ids": [9], "domain": []}),
            422,
            "werkzeug.exceptions.UnprocessableEntity",
        ),
        (
            "res.partner",
            "search_count",
            json!({"domain": [], "x": 1}),
            422,
            "werkzeug.exceptions.UnprocessableEntity",
        ),
        (
            "res.partner",
            "search_count",
            json!([[]]),
            422,
            "werkzeug.exceptions.UnprocessableEntity",
        ),
        (
            "res.partner",
            "search_read",
            json!({"domain": [], "x": 1}),
            500,
            "builtins.TypeError",
        ),
        (
            "res.partner",
            "write",
            json!({"ids": [999999], "vals": {"name": "x"}}),
            404,
            "odoo.exceptions.MissingError",
        ),
        (
            "sale.order",
            "create",
            json!({"vals_list": [{}]}),
            422,
            "odoo.exceptions.ValidationError",
        ),
        (
            "res.partner",
            "read",
            json!({"ids": [9], "context": {"lang": "xx_XX"}}),
            422,
            "odoo.exceptions.UserError",
        ),
        (
            "res.partner",
            "search",
            json!({"domain": [["x", "=", 1]]}),
            500,
            "builtins.ValueError",
        ),
    ];
    for (model, method, body, status, name) in cases {
        let r = json2(&fake, Some(&admin), model, method, body.clone()).await;
        assert_eq!(
            (r.status, r.body["name"].as_str()),
            (status, Some(name)),
            "{model}.{method} {body}"
        );
        assert!(r.body["debug"].is_string());
    }
    let demo = json2(
        &fake,
        Some(&fake.demo_api_key()),
        "ir.config_parameter",
        "search_read",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(demo.status, 403);
    let ctx = json2(
        &fake,
        Some(&fake.demo_api_key()),
        "res.users",
        "context_get",
        json!({}),
    )
    .await;
    assert_eq!(ctx.body["uid"], 5);
    let created = json2(
        &fake,
        Some(&admin),
        "res.partner",
        "create",
        json!({"vals_list": {"name": "Dict"}}),
    )
    .await;
    assert!(
        created.body.as_array().is_some_and(|a| a.len() == 1),
        "JSON-2 create answers a list"
    );
    let r = send(
        client()
            .get(format!("{}/json/2/res.partner/search_count", fake.url()))
            .header("Authorization", format!("bearer {admin}")),
    )
    .await;
    assert_eq!(
        (r.status, r.body["message"].clone()),
        (404, json!("Did you mean POST /json/2/<model>/<method>?"))
    );
}

#[tokio::test]
async fn api_documentation_route() {
    let fake = FakeOdoo::start().await;
    let r = send(
        client()
            .get(format!("{}/doc-bearer/sale.order.json", fake.url()))
            .header("Authorization", format!("bearer {}", fake.admin_api_key())),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["model"], "sale.order");
    assert_eq!(r.body["fields"]["partner_id"]["relation"], "res.partner");
    assert_eq!(
        r.body["methods"]["action_confirm"]["api"],
        json!(["records"])
    );
    assert_eq!(
        r.body["methods"]["search"]["parameters"][0],
        json!({"name": "domain", "required": true})
    );
    let r = send(client().get(format!("{}/doc-bearer/sale.order.json", fake.url()))).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn odoo_18_differences() {
    let fake = FakeOdoo::builder()
        .version(18)
        .database("ps18")
        .start()
        .await;
    assert_eq!(fake.version(), 18);
    let v = jsonrpc(&fake, "common", "version", json!([])).await;
    assert_eq!(
        v.body["result"]["server_version_info"],
        json!([18, 0, 0, "final", 0, ""])
    );
    let e = execute_kw(
        &fake,
        "res.partner",
        "name_search",
        json!([]),
        json!({"name": "Deco", "domain": []}),
    )
    .await;
    assert_eq!(
        e["error"]["code"], 200,
        "pre-19 JSON-RPC errors have code 200"
    );
    assert_eq!(
        e["error"]["data"]["message"],
        "BaseModel.name_search() got an unexpected keyword argument 'domain'"
    );
    let ok = execute_kw(
        &fake,
        "res.partner",
        "name_search",
        json!([]),
        json!({"name": "Deco", "args": [["is_company", "=", true]]}),
    )
    .await;
    assert_eq!(ok["result"], json!([[9, "Deco Addict"]]));
    let e = execute_kw(
        &fake,
        "account.analytic.line",
        "formatted_read_group",
        json!([[]]),
        json!({"groupby": ["project_id"]}),
    )
    .await;
    assert_eq!(e["error"]["data"]["name"], "builtins.AttributeError");
    let lines = execute_kw(
        &fake,
        "sale.order.line",
        "read",
        json!([[8], ["product_uom", "tax_id"]]),
        json!({}),
    )
    .await;
    assert_eq!(lines["result"][0]["product_uom"], json!([4, "Hours"]));
    assert_eq!(lines["result"][0]["tax_id"], json!([3]));
    let e = execute_kw(
        &fake,
        "sale.order.line",
        "read",
        json!([[8], ["product_uom_id"]]),
        json!({}),
    )
    .await;
    assert_eq!(
        e["error"]["data"]["message"],
        "Invalid field 'product_uom_id' on model 'sale.order.line'"
    );
    let e = execute_kw(
        &fake,
        "res.partner",
        "search",
        json!([[["name", "~~", "x"]]]),
        json!({}),
    )
    .await;
    assert_eq!(
        e["error"]["data"]["message"],
        "Invalid leaf ('name', '~~', 'x')"
    );
    let e = execute_kw(&fake, "sale.order", "create", json!([{}]), json!({})).await;
    assert!(
        e["error"]["data"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("Field: Customer (partner_id)\n"))
    );
    let r = json2(
        &fake,
        Some(&fake.admin_api_key()),
        "res.partner",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    assert_eq!(r.status, 303, "no JSON-2 before 19");
    assert_eq!(
        send(client().get(format!("{}/web/version", fake.url())))
            .await
            .status,
        404
    );
    assert_eq!(
        send(client().get(format!("{}/json/version", fake.url())))
            .await
            .status,
        303
    );
    let r = send(
        client()
            .post(format!("{}/jsonrpc", fake.url()))
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        jsonrpc(&fake, "db", "list", json!([])).await.body["result"],
        json!(["ps18"])
    );
    // read_group stays.
    let g = execute_kw(
        &fake,
        "account.analytic.line",
        "read_group",
        json!([[], ["unit_amount:sum"], ["project_id"]]),
        json!({"lazy": false}),
    )
    .await;
    assert!(g["result"][0]["__count"].is_i64());
}

#[tokio::test]
async fn odoo_17_field_names() {
    let fake = FakeOdoo::builder().version(17).start().await;
    let r = execute_kw(
        &fake,
        "project.project",
        "read",
        json!([[1], ["analytic_account_id"]]),
        json!({}),
    )
    .await;
    assert_eq!(
        r["result"][0]["analytic_account_id"],
        json!([24, "Office Design"])
    );
    let e = execute_kw(
        &fake,
        "project.project",
        "read",
        json!([[1], ["account_id"]]),
        json!({}),
    )
    .await;
    assert_eq!(e["error"]["data"]["name"], "builtins.ValueError");
    let r = execute_kw(
        &fake,
        "account.payment",
        "search_read",
        json!([[["id", "=", 1]]]),
        json!({"fields": ["ref"]}),
    )
    .await;
    assert_eq!(r["result"][0]["ref"], "INV/2026/00004");
    let e = execute_kw(
        &fake,
        "account.payment",
        "search_read",
        json!([[]]),
        json!({"fields": ["memo"]}),
    )
    .await;
    assert_eq!(e["error"]["data"]["name"], "builtins.ValueError");
    let r = execute_kw(
        &fake,
        "product.template",
        "read",
        json!([[56], ["detailed_type", "type"]]),
        json!({}),
    )
    .await;
    assert_eq!(
        r["result"][0],
        json!({"id": 56, "detailed_type": "service", "type": "service"})
    );
    let f = execute_kw(
        &fake,
        "product.product",
        "fields_get",
        json!([["detailed_type"]]),
        json!({"attributes": ["type", "selection"]}),
    )
    .await;
    assert_eq!(
        f["result"]["detailed_type"]["selection"][2],
        json!(["product", "Storable Product"])
    );
    let e = execute_kw(&fake, "res.partner", "nope", json!([[1]]), json!({})).await;
    assert_eq!(e["error"]["code"], 200);
    let v = jsonrpc(&fake, "common", "version", json!([])).await;
    assert_eq!(v.body["result"]["server_version"], "17.0");
}

#[tokio::test]
async fn unsupported_versions_are_refused() {
    let err = FakeOdoo::builder().version(16).try_start().await;
    assert!(err.is_err());
}
