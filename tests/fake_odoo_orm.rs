//! ORM behaviour of `FakeOdoo`: domains, ordering, x2many commands, `load`, validation and
//! access errors, grouping, multi-company rules, languages and the order-to-cash workflow.

#![cfg(feature = "testkit")]

use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

/// A bare JSON-RPC caller.
struct Rpc<'a> {
    fake: &'a FakeOdoo,
    http: reqwest::Client,
    uid: i64,
    password: String,
}

impl<'a> Rpc<'a> {
    fn admin(fake: &'a FakeOdoo) -> Self {
        Rpc {
            fake,
            http: reqwest::Client::new(),
            uid: FakeOdoo::ADMIN_UID,
            password: fake.admin_api_key(),
        }
    }

    fn demo(fake: &'a FakeOdoo) -> Self {
        Rpc {
            fake,
            http: reqwest::Client::new(),
            uid: FakeOdoo::DEMO_UID,
            password: FakeOdoo::DEMO_PASSWORD.to_string(),
        }
    }

    /// The whole envelope.
    async fn call(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        let body = json!({
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": "object", "method": "execute_kw", "args": [
                self.fake.database(), self.uid, self.password, model, method, args, kwargs
            ]}
        });
        let reply = self
            .http
            .post(format!("{}/jsonrpc", self.fake.url()))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the fake answers");
        assert_eq!(reply.status(), 200);
        serde_json::from_str(&reply.text().await.expect("a body")).expect("JSON")
    }

    async fn ok(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        let v = self.call(model, method, args, kwargs).await;
        assert!(
            v.get("error").is_none(),
            "{model}.{method}: {}",
            v["error"]["data"]["message"]
        );
        v["result"].clone()
    }

    /// `(exception class, message)` of a failing call.
    async fn err(&self, model: &str, method: &str, args: Value, kwargs: Value) -> (String, String) {
        let v = self.call(model, method, args, kwargs).await;
        let data = &v["error"]["data"];
        assert!(data.is_object(), "{model}.{method} should fail: {v}");
        (
            data["name"].as_str().unwrap_or_default().to_string(),
            data["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    async fn ids(&self, model: &str, domain: Value) -> Vec<i64> {
        let v = self
            .ok(model, "search", json!([domain]), json!({"order": "id"}))
            .await;
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn domain_operators() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let p = "res.partner";
    assert_eq!(rpc.ids(p, json!([["id", "=", 9]])).await, vec![9]);
    assert!(!rpc.ids(p, json!([["id", "!=", 9]])).await.contains(&9));
    assert_eq!(
        rpc.ids(p, json!([["id", "in", [9, 10, 999]]])).await,
        vec![9, 10]
    );
    assert!(
        !rpc.ids(p, json!([["id", "not in", [9, 10]]]))
            .await
            .contains(&10)
    );
    assert_eq!(
        rpc.ids(p, json!([["id", "<", 3], ["id", ">", 0]])).await,
        vec![1]
    );
    assert_eq!(
        rpc.ids(p, json!([["id", "<=", 8], ["id", ">=", 8]])).await,
        vec![8]
    );
    assert_eq!(
        rpc.ids(
            p,
            json!([["name", "like", "Deco Add"], ["is_company", "=", true]])
        )
        .await,
        vec![9]
    );
    assert_eq!(
        rpc.ids(p, json!([["name", "like", "deco add"]])).await,
        Vec::<i64>::new(),
        "like is case sensitive"
    );
    assert_eq!(
        rpc.ids(p, json!([["name", "ilike", "deco add"]])).await,
        vec![9]
    );
    assert!(
        !rpc.ids(
            p,
            json!([["name", "not ilike", "a"], ["is_company", "=", true]])
        )
        .await
        .contains(&9)
    );
    assert!(
        rpc.ids(
            p,
            json!([["name", "not like", "Deco"], ["is_company", "=", true]])
        )
        .await
        .contains(&8)
    );
    assert_eq!(
        rpc.ids(p, json!([["name", "=like", "Wood%"]])).await,
        vec![8]
    );
    assert_eq!(
        rpc.ids(p, json!([["name", "=ilike", "wood corner"]])).await,
        vec![8]
    );
    // Prefix operators and true/false leaves.
    assert_eq!(
        rpc.ids(p, json!(["|", ["id", "=", 8], ["id", "=", 9]]))
            .await,
        vec![8, 9]
    );
    assert_eq!(
        rpc.ids(p, json!(["&", ["id", "in", [8, 9]], "!", ["id", "=", 8]]))
            .await,
        vec![9]
    );
    assert_eq!(rpc.ids(p, json!([[0, "=", 1]])).await, Vec::<i64>::new());
    assert_eq!(
        rpc.ids(p, json!([[1, "=", 1]])).await.len(),
        fake.count_where(p, json!([["active", "=", true]]))
    );
    // Hierarchy and relations.
    assert_eq!(
        rpc.ids(p, json!([["id", "child_of", 9]])).await,
        vec![9, 19, 20, 36]
    );
    assert_eq!(
        rpc.ids(p, json!([["id", "parent_of", 19]])).await,
        vec![9, 19]
    );
    assert_eq!(
        rpc.ids(p, json!([["parent_id", "child_of", 9]])).await,
        vec![19, 20, 36]
    );
    assert_eq!(
        rpc.ids(p, json!([["parent_id.name", "=", "Deco Addict"]]))
            .await,
        vec![19, 20, 36]
    );
    assert_eq!(
        rpc.ids(p, json!([["parent_id", "=", "Deco Addict"]])).await,
        vec![19, 20, 36]
    );
    assert_eq!(
        rpc.ids(
            p,
            json!([["child_ids", "any", [["name", "=", "Addison Olson"]]]])
        )
        .await,
        vec![9]
    );
    let without = rpc
        .ids(
            p,
            json!([["is_company", "=", true], ["child_ids", "not any", []]]),
        )
        .await;
    assert_eq!(without, vec![13, 42]);
    assert_eq!(
        rpc.ids(
            p,
            json!([["category_id", "in", [4]], ["is_company", "=", true]])
        )
        .await,
        vec![10, 15]
    );
    assert_eq!(
        rpc.ids(p, json!([["category_id.name", "=", "Consulting Services"]]))
            .await,
        vec![10, 15]
    );
    assert!(
        rpc.ids(
            p,
            json!([["parent_id", "=", false], ["is_company", "=", false]])
        )
        .await
        .contains(&3)
    );
    assert!(rpc.ids(p, json!([["vat", "!=", false]])).await.contains(&9));
    assert_eq!(
        rpc.ids(
            "sale.order.line",
            json!([["order_id.state", "=", "sale"], ["order_id", "=", 4]])
        )
        .await,
        vec![8, 9, 10, 11]
    );
    assert_eq!(
        rpc.ids(
            "sale.order",
            json!([["amount_total", ">", 2000], ["id", "in", [4, 6, 7]]])
        )
        .await,
        vec![4]
    );
    // Errors.
    let (name, message) = rpc
        .err(p, "search", json!([[["name", "~~", "x"]]]), json!({}))
        .await;
    assert_eq!(name, "builtins.ValueError");
    assert_eq!(message, "Invalid operator in condition ('name', '~~', 'x')");
    let (name, message) = rpc
        .err(p, "search", json!([[["nope", "=", 1]]]), json!({}))
        .await;
    assert_eq!(name, "builtins.ValueError");
    assert_eq!(
        message,
        "Invalid field res.partner.nope in condition ('nope', '=', 1)"
    );
}

#[tokio::test]
async fn order_offset_limit_and_archived_records() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let names = rpc
        .ok(
            "res.partner",
            "search_read",
            json!([[["is_company", "=", true]]]),
            json!({"fields": ["name"], "order": "name desc, id", "limit": 3, "offset": 1}),
        )
        .await;
    let names: Vec<&str> = names
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Wood Corner", "The Jackson Group", "Ready Mat"]);
    let id = rpc
        .ok(
            "res.partner",
            "create",
            json!([{"name": "Archived Ltd"}]),
            json!({}),
        )
        .await;
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"active": false}]),
        json!({}),
    )
    .await;
    assert!(
        rpc.ids("res.partner", json!([["name", "=", "Archived Ltd"]]))
            .await
            .is_empty()
    );
    let all = rpc
        .ok(
            "res.partner",
            "search",
            json!([[["name", "=", "Archived Ltd"]]]),
            json!({"context": {"active_test": false}}),
        )
        .await;
    assert_eq!(all, json!([id]));
    assert_eq!(
        rpc.ids(
            "res.partner",
            json!([["name", "=", "Archived Ltd"], ["active", "=", false]])
        )
        .await,
        vec![id.as_i64().unwrap_or(0)]
    );
    let (name, _) = rpc
        .err(
            "res.partner",
            "search",
            json!([[]]),
            json!({"order": "nope desc"}),
        )
        .await;
    assert_eq!(name, "builtins.ValueError");
}

#[tokio::test]
async fn x2many_commands() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let read = |id: i64| {
        let rpc = &rpc;
        async move {
            let v = rpc
                .ok(
                    "res.partner",
                    "read",
                    json!([[id], ["category_id", "child_ids"]]),
                    json!({}),
                )
                .await;
            (v[0]["category_id"].clone(), v[0]["child_ids"].clone())
        }
    };
    let id = rpc
        .ok(
            "res.partner",
            "create",
            json!([{
                "name": "Commands Inc", "is_company": true,
                "category_id": [[6, 0, [4, 5]]],
                "child_ids": [[0, 0, {"name": "Zed"}], [0, 0, {"name": "Amy"}]]
            }]),
            json!({}),
        )
        .await
        .as_i64()
        .unwrap_or(0);
    let (cats, children) = read(id).await;
    assert_eq!(cats, json!([4, 5]));
    let children: Vec<i64> = children
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(children.len(), 2);
    let (amy, zed) = (children[0], children[1]);
    let names = rpc
        .ok(
            "res.partner",
            "read",
            json!([[amy, zed], ["display_name"]]),
            json!({}),
        )
        .await;
    assert_eq!(
        names[0]["display_name"], "Commands Inc, Amy",
        "children come in name order"
    );
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"category_id": [[4, 7]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await.0, json!([4, 7, 5]));
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"category_id": [[3, 4]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await.0, json!([7, 5]));
    assert_eq!(
        fake.count_where("res.partner.category", json!([["id", "=", 4]])),
        1,
        "3 keeps the record"
    );
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"category_id": [[5]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await.0, json!([]));
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"child_ids": [[1, zed, {"name": "Zed Updated"}]]}]),
        json!({}),
    )
    .await;
    let zed_row = rpc
        .ok(
            "res.partner",
            "read",
            json!([[zed], ["name", "parent_id"]]),
            json!({}),
        )
        .await;
    assert_eq!(zed_row[0]["name"], "Zed Updated");
    assert_eq!(zed_row[0]["parent_id"], json!([id, "Commands Inc"]));
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"child_ids": [[2, amy]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await.1, json!([zed]));
    assert_eq!(
        fake.count_where("res.partner", json!([["id", "=", amy]])),
        0,
        "2 deletes"
    );
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"child_ids": [[3, zed]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await.1, json!([]));
    assert_eq!(
        fake.count_where(
            "res.partner",
            json!([["id", "=", zed], ["parent_id", "=", false]])
        ),
        1
    );
    rpc.ok(
        "res.partner",
        "write",
        json!([[id], {"child_ids": [[4, zed]], "category_id": [[6, 0, [1, 2]]]}]),
        json!({}),
    )
    .await;
    assert_eq!(read(id).await, (json!([2, 1]), json!([zed])));
}

#[tokio::test]
async fn load_creates_updates_and_rolls_back() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let created = rpc
        .ok(
            "res.partner",
            "load",
            json!([
                ["id", "name", "email", "country_id", "category_id/id"],
                [["sync.acme", "Acme", "a@x.com", "Belgium", ""]]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(created["messages"], json!([]));
    let id = created["ids"][0].as_i64().unwrap_or(0);
    assert_eq!(created, json!({"ids": [id], "messages": [], "nextrow": 0}));
    let again = rpc
        .ok(
            "res.partner",
            "load",
            json!([
                ["id", "name", "email", "parent_id/id"],
                [["sync.acme", "Acme", "b@x.com", "base.res_partner_2"]]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(again["ids"], json!([id]), "same external id, same record");
    let row = rpc
        .ok(
            "res.partner",
            "read",
            json!([[id], ["email", "country_id", "parent_id"]]),
            json!({}),
        )
        .await;
    assert_eq!(row[0]["email"], "b@x.com");
    assert_eq!(row[0]["country_id"], json!([21, "Belgium"]));
    assert_eq!(row[0]["parent_id"], json!([9, "Deco Addict"]));
    let xmlid = rpc
        .ok(
            "ir.model.data",
            "search_read",
            json!([[["module", "=", "sync"], ["name", "=", "acme"]]]),
            json!({"fields": ["model", "res_id"]}),
        )
        .await;
    assert_eq!(xmlid[0]["model"], "res.partner");
    assert_eq!(xmlid[0]["res_id"], id);
    let before = fake.count("res.partner");
    let failed = rpc
        .ok(
            "res.partner",
            "load",
            json!([
                ["id", "name", "country_id"],
                [
                    ["sync.ok", "Fine", "France"],
                    ["sync.ko", "Broken", "Atlantis"]
                ]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(failed["ids"], json!(false));
    assert_eq!(failed["messages"][0]["record"], 1);
    assert_eq!(failed["messages"][0]["field"], "country_id");
    assert_eq!(
        failed["messages"][0]["message"],
        "No matching record found for name 'Atlantis' in field 'Country'"
    );
    assert_eq!(
        fake.count("res.partner"),
        before,
        "the whole batch is rolled back"
    );
    assert_eq!(
        fake.count_where("ir.model.data", json!([["module", "=", "sync"]])),
        1
    );
    let (name, message) = rpc
        .err(
            "res.partner",
            "load",
            json!([["name", "nope"], [["x", "y"]]]),
            json!({}),
        )
        .await;
    assert_eq!(
        (name.as_str(), message.as_str()),
        ("builtins.ValueError", "Invalid field name 'nope'")
    );
}

#[tokio::test]
async fn validation_errors() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let (name, message) = rpc
        .err(
            "sale.order",
            "create",
            json!([{"client_order_ref": "x"}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.ValidationError");
    assert!(
        message.contains("Missing required value for the field 'Customer' (partner_id)"),
        "{message}"
    );
    let (name, message) = rpc
        .err(
            "res.partner",
            "write",
            json!([[9], {"type": "nonsense"}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "builtins.ValueError");
    assert_eq!(message, "Wrong value for res.partner.type: 'nonsense'");
    let (name, message) = rpc
        .err("res.partner", "write", json!([[9], {"nope": 1}]), json!({}))
        .await;
    assert_eq!(
        (name.as_str(), message.as_str()),
        (
            "builtins.ValueError",
            "Invalid field 'nope' on 'res.partner'"
        )
    );
    let (name, _) = rpc
        .err(
            "res.partner",
            "write",
            json!([[9], {"parent_id": 36}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.ValidationError");
    let (name, _) = rpc
        .err(
            "res.partner",
            "write",
            json!([[999999], {"name": "x"}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.MissingError");
    let (name, message) = rpc
        .err("res.partner", "unlink", json!([[999999]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.MissingError");
    assert!(message.contains("res.partner(999999,)"), "{message}");
    assert_eq!(
        rpc.ok(
            "res.partner",
            "read",
            json!([[9, 999999], ["name"]]),
            json!({})
        )
        .await
        .as_array()
        .map(Vec::len),
        Some(1)
    );
    let (name, _) = rpc
        .err(
            "res.users",
            "create",
            json!([{"name": "Dup", "login": "demo"}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.ValidationError");
    let (name, _) = rpc
        .err("sale.order", "unlink", json!([[4]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.UserError");
    let (name, message) = rpc
        .err("res.partner", "_private", json!([[9]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.AccessError");
    assert!(message.starts_with("Private methods"), "{message}");
    let (name, _) = rpc
        .err(
            "res.partner",
            "create",
            json!([]),
            json!({"vals_list": [{"name": "kw"}]}),
        )
        .await;
    assert_eq!(name, "builtins.IndexError");
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "kw"]])),
        0
    );
}

#[tokio::test]
async fn access_rights_and_companies() {
    let fake = FakeOdoo::start().await;
    let demo = Rpc::demo(&fake);
    let (name, message) = demo
        .err(
            "ir.config_parameter",
            "search_read",
            json!([[]]),
            json!({"fields": ["key"]}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.AccessError");
    assert!(
        message.starts_with(
            "You are not allowed to access 'System Parameter' (ir.config_parameter) records."
        ),
        "{message}"
    );
    let (name, message) = demo
        .err(
            "res.company",
            "write",
            json!([[1], {"name": "Hacked"}]),
            json!({}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.AccessError");
    assert!(
        message.contains("modify 'Companies' (res.company)"),
        "{message}"
    );
    assert_eq!(
        demo.ok("res.company", "read", json!([[1], ["name"]]), json!({}))
            .await[0]["name"],
        "YourCompany"
    );
    assert!(
        demo.ok(
            "res.partner",
            "create",
            json!([{"name": "By demo"}]),
            json!({})
        )
        .await
        .is_i64()
    );
    // allowed_company_ids filters company-bound records.
    let admin = Rpc::admin(&fake);
    let journals = |ctx: Value| {
        let admin = &admin;
        async move {
            let v = admin
                .ok(
                    "account.journal",
                    "search",
                    json!([[["type", "=", "bank"]]]),
                    json!({"context": ctx, "order": "id"}),
                )
                .await;
            v.as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect::<Vec<_>>())
                .unwrap_or_default()
        }
    };
    assert_eq!(journals(json!({})).await, vec![6, 12]);
    assert_eq!(
        journals(json!({"allowed_company_ids": [2]})).await,
        vec![12]
    );
    let (name, message) = admin
        .err(
            "account.journal",
            "search",
            json!([[]]),
            json!({"context": {"allowed_company_ids": [999]}}),
        )
        .await;
    assert_eq!(
        (name.as_str(), message.as_str()),
        (
            "odoo.exceptions.AccessError",
            "Access to unauthorized or invalid companies."
        )
    );
    // As in Odoo's demo data, the demo user belongs to both companies, but to no other.
    let in_2 = demo
        .ok(
            "account.journal",
            "search",
            json!([[["type", "=", "bank"]]]),
            json!({"context": {"allowed_company_ids": [2]}}),
        )
        .await;
    assert_eq!(in_2, json!([12]));
    let (name, _) = demo
        .err(
            "account.journal",
            "search",
            json!([[]]),
            json!({"context": {"allowed_company_ids": [2, 3]}}),
        )
        .await;
    assert_eq!(
        name, "odoo.exceptions.AccessError",
        "company 3 does not exist"
    );
    // Creating in company 2 puts the record there.
    let order = admin
        .ok(
            "sale.order",
            "create",
            json!([{"partner_id": 14}]),
            json!({"context": {"allowed_company_ids": [2, 1]}}),
        )
        .await;
    let row = admin
        .ok(
            "sale.order",
            "read",
            json!([[order], ["company_id"]]),
            json!({}),
        )
        .await;
    assert_eq!(row[0]["company_id"], json!([2, "My US Company"]));
}

#[tokio::test]
async fn languages_and_dates() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let (name, message) = rpc
        .err(
            "res.partner",
            "read",
            json!([[9], ["country_id"]]),
            json!({"context": {"lang": "zh_CN"}}),
        )
        .await;
    assert_eq!(
        (name.as_str(), message.as_str()),
        ("odoo.exceptions.UserError", "Invalid language code: zh_CN")
    );
    let wizard = rpc
        .ok(
            "base.language.install",
            "create",
            json!([{"lang_ids": [[6, 0, [12]]]}]),
            json!({}),
        )
        .await;
    rpc.ok(
        "base.language.install",
        "lang_install",
        json!([[wizard]]),
        json!({}),
    )
    .await;
    let row = rpc
        .ok(
            "res.partner",
            "read",
            json!([[9], ["country_id"]]),
            json!({"context": {"lang": "zh_CN"}}),
        )
        .await;
    assert_eq!(row[0]["country_id"], json!([233, "美国"]));
    // write_date strictly increases, one second per writing call.
    let a = rpc
        .ok(
            "res.partner",
            "create",
            json!([{"name": "First"}]),
            json!({}),
        )
        .await;
    let b = rpc
        .ok(
            "res.partner",
            "create",
            json!([{"name": "Second"}]),
            json!({}),
        )
        .await;
    let rows = rpc
        .ok(
            "res.partner",
            "read",
            json!([[a, b], ["write_date", "create_date", "create_uid"]]),
            json!({}),
        )
        .await;
    let (wa, wb) = (
        rows[0]["write_date"].as_str().unwrap_or_default(),
        rows[1]["write_date"].as_str().unwrap_or_default(),
    );
    assert!(wa < wb, "{wa} < {wb}");
    assert_eq!(rows[0]["create_uid"], json!([2, "Mitchell Admin"]));
    assert_eq!(wa.len(), "2026-11-23 10:00:00".len());
    rpc.ok(
        "res.partner",
        "write",
        json!([[a], {"phone": "1"}]),
        json!({}),
    )
    .await;
    let later = rpc
        .ok(
            "res.partner",
            "read",
            json!([[a], ["write_date"]]),
            json!({}),
        )
        .await;
    assert!(later[0]["write_date"].as_str().unwrap_or_default() > wb);
    let synced = fake.count_where("res.partner", json!([["write_date", ">", wb]]));
    assert_eq!(synced, 1, "incremental sync sees exactly the later write");
    fake.advance_clock(std::time::Duration::from_secs(86_400));
    assert_eq!(fake.now().format("%Y-%m-%d").to_string(), "2026-11-24");
}

#[tokio::test]
async fn grouping() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let rows = rpc
        .ok(
            "account.analytic.line",
            "formatted_read_group",
            json!([[["project_id", "!=", false]]]),
            json!({"groupby": ["project_id"], "aggregates": ["unit_amount:sum", "__count"]}),
        )
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    let total: f64 = rows
        .iter()
        .map(|r| r["unit_amount:sum"].as_f64().unwrap_or(0.0))
        .sum();
    let hours: f64 = fake
        .records("account.analytic.line")
        .iter()
        .filter(|r| r.get("project_id").is_some_and(|p| !p.is_null()))
        .map(|r| r["unit_amount"].as_f64().unwrap_or(0.0))
        .sum();
    assert!((total - hours).abs() < 1e-6, "{total} vs {hours}");
    let first = &rows[0];
    assert_eq!(
        first["project_id"][1], "AGR - S00023 - Sales Order",
        "groups in the project order"
    );
    assert_eq!(first["__extra_domain"], json!([["project_id", "=", 11]]));
    assert!(first["__count"].is_i64());
    let months = rpc
        .ok("account.analytic.line", "formatted_read_group", json!([[]]), json!({"groupby": ["date:month"], "aggregates": ["amount:sum"], "order": "date:month desc"}))
        .await;
    assert_eq!(
        months[0]["date:month"],
        json!(["2026-11-01", "November 2026"])
    );
    assert_eq!(
        months[0]["__extra_domain"],
        json!([
            "&",
            ["date", ">=", "2026-11-01"],
            ["date", "<", "2026-12-01"]
        ])
    );
    let legacy = rpc
        .ok(
            "account.analytic.line",
            "read_group",
            json!([
                [["project_id", "!=", false]],
                ["unit_amount:sum"],
                ["project_id", "date:month"]
            ]),
            json!({}),
        )
        .await;
    assert!(legacy[0]["project_id_count"].is_i64());
    assert_eq!(legacy[0]["__context"], json!({"group_by": ["date:month"]}));
    assert!(legacy[0]["unit_amount"].is_f64());
    let by_day = rpc
        .ok("sale.order", "formatted_read_group", json!([[["id", "=", 21]]]), json!({"groupby": ["date_order:day"], "aggregates": ["__count"], "context": {"tz": "America/New_York"}}))
        .await;
    assert_eq!(
        by_day[0]["date_order:day"],
        json!(["2026-11-16 05:00:00", "16 Nov 2026"])
    );
}

#[tokio::test]
async fn order_to_cash_flow() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    // A milestone-invoiced implementation and time and material, for Lumber Inc.
    let order = rpc
        .ok(
            "sale.order",
            "create",
            json!([{"partner_id": 16, "order_line": [
                [0, 0, {"product_id": 58, "product_uom_qty": 1}],
                [0, 0, {"product_id": 61, "product_uom_qty": 2, "price_unit": 1000.0}]
            ]}]),
            json!({}),
        )
        .await
        .as_i64()
        .unwrap_or(0);
    assert_eq!(order, 29);
    assert_eq!(
        rpc.ok("sale.order", "action_confirm", json!([[order]]), json!({}))
            .await,
        json!(true)
    );
    let so = rpc
        .ok(
            "sale.order",
            "read",
            json!([
                [order],
                [
                    "name",
                    "state",
                    "project_ids",
                    "amount_untaxed",
                    "amount_total",
                    "invoice_status"
                ]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(so[0]["name"], "S00029");
    assert_eq!(so[0]["state"], "sale");
    assert_eq!(so[0]["amount_untaxed"], json!(26000.0));
    assert_eq!(so[0]["amount_total"], json!(29900.0));
    assert_eq!(
        so[0]["invoice_status"], "to invoice",
        "the retainer is invoiced on order"
    );
    let project = so[0]["project_ids"][0].as_i64().unwrap_or(0);
    assert!(project > 0, "a project for the milestone product");
    let (name, _) = rpc
        .err("sale.order", "action_confirm", json!([[order]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.UserError");
    let ctx = json!({"active_model": "sale.order", "active_ids": [order], "active_id": order});
    let wizard = rpc
        .ok(
            "sale.advance.payment.inv",
            "create",
            json!([{"advance_payment_method": "delivered"}]),
            json!({"context": ctx}),
        )
        .await;
    let action = rpc
        .ok(
            "sale.advance.payment.inv",
            "create_invoices",
            json!([[wizard]]),
            json!({"context": ctx}),
        )
        .await;
    assert_eq!(action["res_model"], "account.move");
    let invoice = action["res_id"].as_i64().unwrap_or(0);
    let inv = rpc
        .ok(
            "account.move",
            "read",
            json!([
                [invoice],
                [
                    "name",
                    "state",
                    "amount_untaxed",
                    "invoice_line_ids",
                    "invoice_origin"
                ]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(inv[0]["name"], json!(false));
    assert_eq!(
        inv[0]["amount_untaxed"],
        json!(2000.0),
        "only the retainer: nothing delivered yet"
    );
    assert_eq!(inv[0]["invoice_origin"], "S00029");
    assert_eq!(
        rpc.ok("account.move", "action_post", json!([[invoice]]), json!({}))
            .await,
        json!(false)
    );
    let posted = rpc
        .ok(
            "account.move",
            "read",
            json!([
                [invoice],
                ["name", "state", "amount_residual", "payment_state"]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(posted[0]["name"], "INV/2026/00010");
    assert_eq!(posted[0]["amount_residual"], json!(2300.0));
    // Reach the first milestone of the new project: 30% of the implementation becomes invoiceable.
    let line = rpc
        .ids(
            "sale.order.line",
            json!([["order_id", "=", order], ["product_id", "=", 58]]),
        )
        .await[0];
    let milestone = rpc
        .ok("project.milestone", "create", json!([{"name": "Design", "project_id": project, "sale_line_id": line, "quantity_percentage": 0.3}]), json!({}))
        .await;
    rpc.ok(
        "project.milestone",
        "write",
        json!([[milestone], {"is_reached": true}]),
        json!({}),
    )
    .await;
    let sol = rpc
        .ok(
            "sale.order.line",
            "read",
            json!([
                [line],
                ["qty_delivered", "qty_to_invoice", "qty_delivered_method"]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(sol[0]["qty_delivered_method"], "milestones");
    assert_eq!(sol[0]["qty_delivered"], json!(0.3));
    assert_eq!(sol[0]["qty_to_invoice"], json!(0.3));
    // Pay the retainer invoice.
    let pctx = json!({"active_model": "account.move", "active_ids": [invoice]});
    let register = rpc
        .ok(
            "account.payment.register",
            "create",
            json!([{}]),
            json!({"context": pctx}),
        )
        .await;
    let pay = rpc
        .ok(
            "account.payment.register",
            "action_create_payments",
            json!([[register]]),
            json!({"context": pctx}),
        )
        .await;
    let payment = pay["res_id"].as_i64().unwrap_or(0);
    let paid = rpc
        .ok(
            "account.move",
            "read",
            json!([
                [invoice],
                ["payment_state", "amount_residual", "matched_payment_ids"]
            ]),
            json!({}),
        )
        .await;
    assert_eq!(paid[0]["payment_state"], "paid");
    assert_eq!(paid[0]["amount_residual"], json!(0.0));
    assert_eq!(paid[0]["matched_payment_ids"], json!([payment]));
    let p = rpc
        .ok(
            "account.payment",
            "read",
            json!([[payment], ["memo", "amount", "state", "name"]]),
            json!({}),
        )
        .await;
    assert_eq!(p[0]["memo"], "INV/2026/00010");
    assert_eq!(p[0]["amount"], json!(2300.0));
    assert_eq!(p[0]["name"], "PBNK1/2026/00001");
    let (name, _) = rpc
        .err(
            "account.payment.register",
            "create",
            json!([{}]),
            json!({"context": pctx}),
        )
        .await;
    assert_eq!(name, "odoo.exceptions.UserError", "nothing left to pay");
    let (name, _) = rpc
        .err("account.move", "unlink", json!([[invoice]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.UserError");
    // Timesheets on a time-and-material line are delivered quantities.
    let tm = rpc
        .ok(
            "sale.order.line",
            "read",
            json!([[64], ["qty_delivered", "qty_delivered_method"]]),
            json!({}),
        )
        .await;
    assert_eq!(tm[0]["qty_delivered_method"], "timesheet");
    let before = tm[0]["qty_delivered"].as_f64().unwrap_or(0.0);
    rpc.ok("account.analytic.line", "create", json!([{"name": "Extra", "project_id": 13, "task_id": 15, "unit_amount": 2.5, "employee_id": 6}]), json!({})).await;
    let tm = rpc
        .ok(
            "sale.order.line",
            "read",
            json!([[64], ["qty_delivered"]]),
            json!({}),
        )
        .await;
    assert_eq!(tm[0]["qty_delivered"].as_f64(), Some(before + 2.5));
    // Expenses exist in the fake.
    let expense = rpc
        .ok(
            "hr.expense",
            "create",
            json!([{"name": "Train", "employee_id": 6, "price_unit": 80.0, "quantity": 2}]),
            json!({}),
        )
        .await;
    let e = rpc
        .ok(
            "hr.expense",
            "read",
            json!([[expense], ["total_amount", "state", "currency_id"]]),
            json!({}),
        )
        .await;
    assert_eq!(e[0]["total_amount"], json!(160.0));
    assert_eq!(e[0]["state"], "draft");
}

#[tokio::test]
async fn web_read_and_name_search() {
    let fake = FakeOdoo::start().await;
    let rpc = Rpc::admin(&fake);
    let recs = rpc
        .ok("res.partner", "web_read", json!([[9]]), json!({"specification": {"name": {}, "country_id": {"fields": {"display_name": {}}}, "parent_id": {}, "child_ids": {"fields": {"name": {}}, "limit": 1, "order": "name desc"}}}))
        .await;
    assert_eq!(
        recs[0]["country_id"],
        json!({"id": 233, "display_name": "United States"})
    );
    assert_eq!(recs[0]["parent_id"], json!(false));
    assert_eq!(
        recs[0]["child_ids"],
        json!([{"id": 20, "name": "Floyd Steward"}, {"id": 19}, {"id": 36}])
    );
    let found = rpc
        .ok(
            "res.partner",
            "name_search",
            json!(["Ready"]),
            json!({"limit": 2}),
        )
        .await;
    assert_eq!(
        found,
        json!([[11, "Ready Mat"], [22, "Ready Mat, Billy Fox"]])
    );
    let created = rpc
        .ok(
            "res.partner.category",
            "name_create",
            json!(["Key account"]),
            json!({}),
        )
        .await;
    assert_eq!(created[1], "Key account");
    let defaults = rpc
        .ok(
            "sale.order",
            "default_get",
            json!([["state", "company_id", "user_id"]]),
            json!({}),
        )
        .await;
    assert_eq!(
        defaults,
        json!({"state": "draft", "company_id": 1, "user_id": 2})
    );
}
