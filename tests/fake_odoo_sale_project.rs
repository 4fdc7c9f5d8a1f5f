//! `FakeOdoo` behaves as Odoo's sale_project and sale_timesheet do: confirming an order creates
//! the project, tasks and milestones of its service lines (once), delivered quantities follow
//! reached milestones and timesheets, invoices take exactly what was delivered and not yet
//! invoiced; it knows its modules and pricelists, and starts from Odoo's demo data only when
//! asked. Each scenario runs on 19, 18 and 17.

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

    async fn err(&self, model: &str, method: &str, args: Value, kwargs: Value) -> (String, String) {
        let v = self.call(model, method, args, kwargs).await;
        let data = &v["error"]["data"];
        assert!(data.is_object(), "{model}.{method} should fail: {v}");
        (
            data["name"].as_str().unwrap_or_default().to_string(),
            data["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    async fn create(&self, model: &str, values: Value) -> i64 {
        self.ok(model, "create", json!([values]), json!({}))
            .await
            .as_i64()
            .expect("an id")
    }

    async fn write(&self, model: &str, ids: &[i64], values: Value) {
        self.ok(model, "write", json!([ids, values]), json!({}))
            .await;
    }

    async fn search_read(&self, model: &str, domain: Value, fields: &[&str]) -> Vec<Value> {
        self.ok(
            model,
            "search_read",
            json!([domain]),
            json!({"fields": fields, "order": "id"}),
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    async fn read_one(&self, model: &str, id: i64, fields: &[&str]) -> Value {
        let rows = self
            .ok(model, "read", json!([[id]]), json!({"fields": fields}))
            .await;
        rows[0].clone()
    }

    /// Loads one product by external id and returns its `product.product` id.
    #[allow(clippy::too_many_arguments)]
    async fn load_product(
        &self,
        xmlid: &str,
        name: &str,
        code: &str,
        tracking: &str,
        policy: (&str, &str, &str),
        uom: i64,
        price: f64,
    ) -> i64 {
        let type_field = if self.fake.version() >= 18 {
            "type"
        } else {
            "detailed_type"
        };
        let (service_policy, invoice_policy, service_type) = policy;
        let reply = self
            .ok(
                "product.product",
                "load",
                json!([
                    [
                        "id",
                        "name",
                        type_field,
                        "service_tracking",
                        "service_policy",
                        "invoice_policy",
                        "service_type",
                        "uom_id/.id",
                        "list_price",
                        "default_code",
                        "sale_ok"
                    ],
                    [[
                        xmlid,
                        name,
                        "service",
                        tracking,
                        service_policy,
                        invoice_policy,
                        service_type,
                        uom.to_string(),
                        price.to_string(),
                        code,
                        "True"
                    ]]
                ]),
                json!({}),
            )
            .await;
        assert_eq!(reply["messages"], json!([]), "load {xmlid}: {reply}");
        reply["ids"][0].as_i64().expect("a loaded id")
    }

    /// Runs `sale.advance.payment.inv` (`delivered`) on an order; the invoices' ids.
    async fn invoice_delivered(&self, order: i64) -> Result<Vec<i64>, (String, String)> {
        let context =
            json!({"active_model": "sale.order", "active_ids": [order], "active_id": order});
        let wizard = self
            .ok(
                "sale.advance.payment.inv",
                "create",
                json!([{"advance_payment_method": "delivered"}]),
                json!({"context": context}),
            )
            .await;
        let wizard = wizard.as_i64().expect("a wizard");
        let v = self
            .call(
                "sale.advance.payment.inv",
                "create_invoices",
                json!([[wizard]]),
                json!({"context": context}),
            )
            .await;
        if v.get("error").is_some() {
            let data = &v["error"]["data"];
            return Err((
                data["name"].as_str().unwrap_or_default().to_string(),
                data["message"].as_str().unwrap_or_default().to_string(),
            ));
        }
        let action = &v["result"];
        if let Some(id) = action["res_id"].as_i64() {
            return Ok(vec![id]);
        }
        Ok(action["domain"][0][2]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default())
    }
}

fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Array(a) => a.first().and_then(Value::as_i64),
        other => other.as_i64(),
    }
}

const MILESTONES: (&str, &str, &str) = ("delivered_milestones", "delivery", "milestones");
const TIMESHEETS: (&str, &str, &str) = ("delivered_timesheet", "delivery", "timesheet");
const FIXED: (&str, &str, &str) = ("ordered_prepaid", "order", "manual");

struct Catalog {
    /// project_only, delivered by milestones.
    milestones: i64,
    /// task_in_project, delivered by milestones.
    milestones_task: i64,
    /// task_in_project, delivered by timesheets (hours).
    time: i64,
    /// task_in_project, fixed price.
    fixed: i64,
}

async fn catalog(rpc: &Rpc<'_>) -> Catalog {
    Catalog {
        milestones: rpc
            .load_product(
                "odoo_connect.product_milestones",
                "Implementation",
                "X-MIL",
                "project_only",
                MILESTONES,
                1,
                24000.0,
            )
            .await,
        milestones_task: rpc
            .load_product(
                "odoo_connect.product_milestones_task",
                "Rollout",
                "",
                "task_in_project",
                MILESTONES,
                1,
                9000.0,
            )
            .await,
        time: rpc
            .load_product(
                "odoo_connect.product_time",
                "Consulting",
                "X-TM",
                "task_in_project",
                TIMESHEETS,
                4,
                150.0,
            )
            .await,
        fixed: rpc
            .load_product(
                "odoo_connect.product_fixed",
                "Workshop",
                "X-FIX",
                "task_in_project",
                FIXED,
                1,
                4500.0,
            )
            .await,
    }
}

async fn order(rpc: &Rpc<'_>, partner: i64, lines: &[(i64, f64)]) -> i64 {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!([0, 0, {"product_id": p, "product_uom_qty": q}]))
        .collect();
    rpc.create(
        "sale.order",
        json!({"partner_id": partner, "order_line": lines}),
    )
    .await
}

async fn lines_of(rpc: &Rpc<'_>, order: i64) -> Vec<Value> {
    rpc.search_read(
        "sale.order.line",
        json!([["order_id", "=", order]]),
        &[
            "name",
            "product_id",
            "project_id",
            "task_id",
            "qty_delivered",
            "qty_invoiced",
            "qty_to_invoice",
        ],
    )
    .await
}

fn line_with(lines: &[Value], product: i64) -> Value {
    lines
        .iter()
        .find(|l| id_of(&l["product_id"]) == Some(product))
        .cloned()
        .expect("a line of the product")
}

// ------------------------------------------------------------------ 1. confirmation

async fn confirmation_generates_projects_tasks_and_milestones(version: u8) {
    let fake = FakeOdoo::builder()
        .version(version)
        .demo_data_only()
        .start()
        .await;
    let rpc = Rpc::admin(&fake);
    let cat = catalog(&rpc).await;

    // Two lines tracked in a project: one project named after the order.
    let so = order(&rpc, 9, &[(cat.milestones, 1.0), (cat.fixed, 1.0)]).await;
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    let so_name = rpc.read_one("sale.order", so, &["name"]).await["name"].clone();
    let projects = rpc
        .search_read(
            "project.project",
            json!([["sale_order_id", "=", so]]),
            &["name", "sale_line_id", "partner_id", "allow_billable"],
        )
        .await;
    assert_eq!(projects.len(), 1, "{projects:?}");
    let project = projects[0]["id"].as_i64().unwrap();
    assert_eq!(projects[0]["name"], so_name);
    assert_eq!(id_of(&projects[0]["partner_id"]), Some(9));
    assert_eq!(projects[0]["allow_billable"], true);
    let lines = lines_of(&rpc, so).await;
    let mil_line = line_with(&lines, cat.milestones);
    let fix_line = line_with(&lines, cat.fixed);
    let mil_id = mil_line["id"].as_i64().unwrap();
    assert_eq!(id_of(&mil_line["project_id"]), Some(project));
    assert_eq!(id_of(&fix_line["project_id"]), Some(project));
    assert_eq!(mil_line["task_id"], false, "project_only makes no task");
    let milestones = rpc
        .search_read(
            "project.milestone",
            json!([["project_id", "=", project]]),
            &["name", "sale_line_id", "quantity_percentage", "is_reached"],
        )
        .await;
    assert_eq!(milestones.len(), 1, "{milestones:?}");
    assert_eq!(milestones[0]["name"], mil_line["name"]);
    assert_eq!(id_of(&milestones[0]["sale_line_id"]), Some(mil_id));
    assert_eq!(milestones[0]["quantity_percentage"], 1.0);
    assert_eq!(milestones[0]["is_reached"], false);
    // The task of the fixed-price line, named after the line (the project is the line's).
    let task = id_of(&fix_line["task_id"]).expect("a task");
    let task = rpc
        .read_one(
            "project.task",
            task,
            &["name", "project_id", "sale_line_id", "milestone_id"],
        )
        .await;
    assert_eq!(task["name"], "[X-FIX] Workshop");
    assert_eq!(id_of(&task["project_id"]), Some(project));
    assert_eq!(id_of(&task["sale_line_id"]), fix_line["id"].as_i64());
    assert_eq!(task["milestone_id"], false);

    // One line tracked in a project: the product is appended to the project name; the
    // milestone of a task_in_project line is set on its task.
    let single = order(&rpc, 10, &[(cat.milestones_task, 2.0)]).await;
    rpc.ok("sale.order", "action_confirm", json!([[single]]), json!({}))
        .await;
    let single_name = rpc.read_one("sale.order", single, &["name"]).await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let line = lines_of(&rpc, single).await[0].clone();
    let p = rpc
        .read_one(
            "project.project",
            id_of(&line["project_id"]).expect("a project"),
            &["name"],
        )
        .await;
    assert_eq!(p["name"], format!("{single_name} - Rollout"));
    let task = rpc
        .read_one(
            "project.task",
            id_of(&line["task_id"]).expect("a task"),
            &["name", "milestone_id"],
        )
        .await;
    assert_eq!(task["name"], "Rollout");
    let milestone = rpc
        .search_read(
            "project.milestone",
            json!([["sale_line_id", "=", line["id"]]]),
            &["name"],
        )
        .await;
    assert_eq!(milestone.len(), 1);
    assert_eq!(id_of(&task["milestone_id"]), milestone[0]["id"].as_i64());
    let single_code = order(&rpc, 11, &[(cat.time, 4.0)]).await;
    rpc.ok(
        "sale.order",
        "action_confirm",
        json!([[single_code]]),
        json!({}),
    )
    .await;
    let code_name = rpc.read_one("sale.order", single_code, &["name"]).await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let projects = rpc
        .search_read(
            "project.project",
            json!([["sale_order_id", "=", single_code]]),
            &["name"],
        )
        .await;
    assert_eq!(
        projects[0]["name"],
        format!("{code_name} - [X-TM] Consulting")
    );

    // Cancel, back to draft, confirm again: nothing new.
    let counts = |fake: &FakeOdoo| {
        (
            fake.count("project.project"),
            fake.count("project.task"),
            fake.count("project.milestone"),
        )
    };
    let before = counts(&fake);
    rpc.ok("sale.order", "action_cancel", json!([[so]]), json!({}))
        .await;
    rpc.ok("sale.order", "action_draft", json!([[so]]), json!({}))
        .await;
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    assert_eq!(counts(&fake), before);

    // A line added to the confirmed order gets its milestone in the order's project.
    let added = rpc
        .create(
            "sale.order.line",
            json!({"order_id": so, "product_id": cat.milestones, "product_uom_qty": 1.0}),
        )
        .await;
    let added_line = rpc
        .read_one("sale.order.line", added, &["project_id", "name"])
        .await;
    assert_eq!(id_of(&added_line["project_id"]), Some(project));
    let added_milestones = rpc
        .search_read(
            "project.milestone",
            json!([["sale_line_id", "=", added]]),
            &["project_id", "quantity_percentage"],
        )
        .await;
    assert_eq!(added_milestones.len(), 1);
    assert_eq!(id_of(&added_milestones[0]["project_id"]), Some(project));
    assert_eq!(fake.count("project.project"), before.0);
    fake.shutdown().await;
}

#[tokio::test]
async fn confirmation_generates_projects_tasks_and_milestones_19() {
    confirmation_generates_projects_tasks_and_milestones(19).await;
}

#[tokio::test]
async fn confirmation_generates_projects_tasks_and_milestones_18() {
    confirmation_generates_projects_tasks_and_milestones(18).await;
}

#[tokio::test]
async fn confirmation_generates_projects_tasks_and_milestones_17() {
    confirmation_generates_projects_tasks_and_milestones(17).await;
}

#[tokio::test]
async fn project_templates_are_copied_with_their_tasks_and_milestones() {
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let rpc = Rpc::admin(&fake);
    let template = rpc
        .create(
            "project.project",
            json!({"name": "Implementation template", "allow_milestones": true}),
        )
        .await;
    for name in ["Kick-off", "Go-live"] {
        rpc.create(
            "project.task",
            json!({"name": name, "project_id": template}),
        )
        .await;
        rpc.create(
            "project.milestone",
            json!({"name": name, "project_id": template}),
        )
        .await;
    }
    let product = rpc
        .load_product(
            "odoo_connect.product_templated",
            "Templated implementation",
            "X-TPL",
            "project_only",
            MILESTONES,
            1,
            10000.0,
        )
        .await;
    rpc.write(
        "product.product",
        &[product],
        json!({"project_template_id": template}),
    )
    .await;
    let so = order(&rpc, 9, &[(product, 2.0)]).await;
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    let so_name = rpc.read_one("sale.order", so, &["name"]).await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let line = lines_of(&rpc, so).await[0].clone();
    let project = id_of(&line["project_id"]).expect("a project");
    assert_ne!(project, template);
    let p = rpc.read_one("project.project", project, &["name"]).await;
    assert_eq!(p["name"], format!("{so_name} - Implementation template"));
    let tasks = rpc
        .search_read(
            "project.task",
            json!([["project_id", "=", project]]),
            &["name", "sale_line_id"],
        )
        .await;
    let names: Vec<&str> = tasks.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["Kick-off", "Go-live"]);
    assert!(
        tasks
            .iter()
            .all(|t| id_of(&t["sale_line_id"]) == line["id"].as_i64())
    );
    let milestones = rpc
        .search_read(
            "project.milestone",
            json!([["project_id", "=", project]]),
            &["name", "sale_line_id", "quantity_percentage"],
        )
        .await;
    assert_eq!(milestones.len(), 2, "the template's, no extra one");
    for m in &milestones {
        assert_eq!(id_of(&m["sale_line_id"]), line["id"].as_i64());
        assert_eq!(m["quantity_percentage"], 0.5);
    }
    // The template keeps its own milestones unlinked.
    let own = rpc
        .search_read(
            "project.milestone",
            json!([["project_id", "=", template], ["sale_line_id", "=", false]]),
            &["name"],
        )
        .await;
    assert_eq!(own.len(), 2);
    rpc.write(
        "project.milestone",
        &[milestones[0]["id"].as_i64().unwrap()],
        json!({"is_reached": true}),
    )
    .await;
    let line = rpc
        .read_one(
            "sale.order.line",
            line["id"].as_i64().unwrap(),
            &["qty_delivered"],
        )
        .await;
    assert_eq!(line["qty_delivered"], 1.0);
    fake.shutdown().await;
}

// ------------------------------------------------------------------ 2. modules

#[tokio::test]
async fn installed_modules_are_listed() {
    let fake = FakeOdoo::start().await;
    let fields = [
        "name",
        "shortdesc",
        "state",
        "latest_version",
        "application",
    ];
    let domain = json!([[
        "name",
        "in",
        ["sale_timesheet", "sale_project", "hr_expense", "crm"]
    ]]);
    let rows = Rpc::demo(&fake)
        .search_read("ir.module.module", domain.clone(), &fields)
        .await;
    let state = |rows: &[Value], name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["state"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(rows.len(), 4);
    assert_eq!(state(&rows, "sale_timesheet"), "installed");
    assert_eq!(state(&rows, "sale_project"), "installed");
    assert_eq!(state(&rows, "hr_expense"), "uninstalled");
    assert_eq!(state(&rows, "crm"), "uninstalled");
    let sale_project = rows.iter().find(|r| r["name"] == "sale_project").unwrap();
    assert_eq!(sale_project["latest_version"], "19.0.1.0");
    assert_eq!(sale_project["shortdesc"], "Sales - Project");
    let (class, _) = Rpc::demo(&fake)
        .err(
            "ir.module.module",
            "write",
            json!([[sale_project["id"]], {"state": "uninstalled"}]),
            json!({}),
        )
        .await;
    assert_eq!(class, "odoo.exceptions.AccessError");
    let installed = Rpc::admin(&fake)
        .search_read(
            "ir.module.module",
            json!([["state", "=", "installed"]]),
            &["name"],
        )
        .await;
    let names: Vec<&str> = installed
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for m in [
        "base",
        "web",
        "contacts",
        "sale",
        "sale_management",
        "project",
        "sale_project",
        "sale_timesheet",
        "hr_timesheet",
        "hr",
        "account",
        "account_payment",
        "analytic",
        "product",
        "uom",
        "mail",
        "l10n_us",
    ] {
        assert!(names.contains(&m), "{m} is installed");
    }
    fake.shutdown().await;

    let fake = FakeOdoo::builder()
        .version(18)
        .without_modules(&["sale_timesheet"])
        .start()
        .await;
    let rows = Rpc::admin(&fake)
        .search_read("ir.module.module", domain, &fields)
        .await;
    assert_eq!(state(&rows, "sale_timesheet"), "uninstalled");
    assert_eq!(state(&rows, "sale_project"), "installed");
    let sale_project = rows.iter().find(|r| r["name"] == "sale_project").unwrap();
    assert_eq!(sale_project["latest_version"], "18.0.1.0");
    fake.shutdown().await;
}

// ------------------------------------------------------------------ 3. pricelists

async fn orders_take_the_currency_of_their_pricelist(version: u8) {
    let fake = FakeOdoo::builder()
        .version(version)
        .demo_data_only()
        .start()
        .await;
    let rpc = Rpc::admin(&fake);
    // A fresh Odoo 19 demo database has no pricelist: an order has none and is in its
    // company's currency.
    let lists = rpc
        .search_read(
            "product.pricelist",
            json!([["active", "in", [true, false]]]),
            &["name"],
        )
        .await;
    assert!(lists.is_empty(), "{lists:?}");
    let partner = rpc
        .read_one("res.partner", 9, &["property_product_pricelist"])
        .await;
    assert_eq!(partner["property_product_pricelist"], json!(false));
    let bare = rpc.create("sale.order", json!({"partner_id": 9})).await;
    let bare = rpc
        .read_one("sale.order", bare, &["pricelist_id", "currency_id"])
        .await;
    assert_eq!(bare["pricelist_id"], json!(false));
    assert_eq!(bare["currency_id"], json!([1, "USD"]));
    // The company's default pricelist, as enabling pricelists creates it.
    let default = rpc
        .create(
            "product.pricelist",
            json!({"name": "Default", "sequence": 10}),
        )
        .await;
    let lists = rpc
        .search_read(
            "product.pricelist",
            json!([]),
            &[
                "name",
                "currency_id",
                "display_name",
                "active",
                "company_id",
            ],
        )
        .await;
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0]["id"], default);
    assert_eq!(lists[0]["display_name"], "Default (USD)");
    assert_eq!(lists[0]["currency_id"], json!([1, "USD"]));
    assert_eq!(lists[0]["company_id"], json!([1, "YourCompany"]));
    let partner = rpc
        .read_one("res.partner", 9, &["property_product_pricelist"])
        .await;
    assert_eq!(
        partner["property_product_pricelist"],
        json!([default, "Default (USD)"])
    );

    // EUR is archived in the seed; activating it works.
    assert!(
        rpc.search_read("res.currency", json!([["name", "=", "EUR"]]), &["name"])
            .await
            .is_empty()
    );
    rpc.write("res.currency", &[125], json!({"active": true}))
        .await;
    let eur = rpc
        .search_read("res.currency", json!([["name", "=", "EUR"]]), &["name"])
        .await;
    assert_eq!(eur.len(), 1);
    let eur_list = rpc
        .create(
            "product.pricelist",
            json!({"name": "Euro", "currency_id": 125}),
        )
        .await;
    let list = rpc
        .read_one("product.pricelist", eur_list, &["display_name"])
        .await;
    assert_eq!(list["display_name"], "Euro (EUR)");

    let cat = catalog(&rpc).await;
    let usd = order(&rpc, 9, &[(cat.fixed, 1.0)]).await;
    let usd = rpc
        .read_one("sale.order", usd, &["pricelist_id", "currency_id"])
        .await;
    assert_eq!(id_of(&usd["pricelist_id"]), Some(default));
    assert_eq!(id_of(&usd["currency_id"]), Some(1));

    let so = rpc
        .create(
            "sale.order",
            json!({"partner_id": 9, "pricelist_id": eur_list,
                   "order_line": [[0, 0, {"product_id": cat.fixed}]]}),
        )
        .await;
    let read = rpc.read_one("sale.order", so, &["currency_id"]).await;
    assert_eq!(read["currency_id"], json!([125, "EUR"]));
    rpc.write("sale.order", &[so], json!({"pricelist_id": default}))
        .await;
    let read = rpc.read_one("sale.order", so, &["currency_id"]).await;
    assert_eq!(id_of(&read["currency_id"]), Some(1));
    rpc.write("sale.order", &[so], json!({"pricelist_id": eur_list}))
        .await;
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    let invoices = rpc.invoice_delivered(so).await.expect("an invoice");
    assert_eq!(invoices.len(), 1);
    let invoice = rpc
        .read_one(
            "account.move",
            invoices[0],
            &["currency_id", "amount_untaxed"],
        )
        .await;
    assert_eq!(invoice["currency_id"], json!([125, "EUR"]));
    assert_eq!(invoice["amount_untaxed"], 4500.0);
    fake.shutdown().await;
}

#[tokio::test]
async fn orders_take_the_currency_of_their_pricelist_19() {
    orders_take_the_currency_of_their_pricelist(19).await;
}

#[tokio::test]
async fn orders_take_the_currency_of_their_pricelist_17() {
    orders_take_the_currency_of_their_pricelist(17).await;
}

// ------------------------------------------------------------------ 4. demo data only

#[tokio::test]
async fn demo_data_only_leaves_out_the_firms_own_records() {
    let full = FakeOdoo::start().await;
    let demo = FakeOdoo::builder().demo_data_only().start().await;
    for fake in [&full, &demo] {
        let rpc = Rpc::admin(fake);
        let own = rpc
            .search_read(
                "product.product",
                json!([["default_code", "=like", "PS-%"]]),
                &["default_code"],
            )
            .await;
        if std::ptr::eq(fake, &full) {
            assert_eq!(own.len(), 5, "the default seed keeps its own products");
            assert_eq!(full.count("sale.order"), 28);
        } else {
            assert!(own.is_empty(), "{own:?}");
        }
    }
    for model in [
        "sale.order",
        "sale.order.line",
        "account.move",
        "account.move.line",
        "account.payment",
        "project.project",
        "project.task",
        "project.milestone",
        "account.analytic.line",
        "account.analytic.account",
    ] {
        assert_eq!(demo.count(model), 0, "{model}");
    }
    let mut products: Vec<i64> = demo
        .records("product.product")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    products.sort_unstable();
    assert_eq!(products, [1, 2, 3, 4, 6, 7, 41, 56]);
    assert_eq!(demo.count("project.task.type"), 4);
    assert_eq!(demo.count("account.journal"), 13);
    assert!(demo.count("account.tax") >= 5);
    assert_eq!(demo.count("account.payment.method.line"), 4);
    assert_eq!(demo.count("product.pricelist"), 0);
    let rpc = Rpc::admin(&demo);
    let employees = rpc
        .search_read(
            "hr.employee",
            json!([["work_email", "=", "abigail.peterson39@example.com"]]),
            &["name"],
        )
        .await;
    assert_eq!(employees.len(), 1);

    // Fresh ids, and the whole contract-to-cash path works.
    let partner = rpc.create("res.partner", json!({"name": "Acme"})).await;
    assert_eq!(partner, 67);
    let so = order(&rpc, partner, &[(4, 3.0), (56, 2.0)]).await;
    assert_eq!(so, 29);
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    assert_eq!(demo.count("project.project"), 1);
    let invoices = rpc.invoice_delivered(so).await.expect("an invoice");
    assert_eq!(invoices.len(), 1);
    rpc.ok(
        "account.move",
        "action_post",
        json!([invoices.clone()]),
        json!({}),
    )
    .await;
    let context = json!({"active_model": "account.move", "active_ids": invoices});
    let wizard = rpc
        .ok(
            "account.payment.register",
            "create",
            json!([{}]),
            json!({"context": context}),
        )
        .await;
    rpc.ok(
        "account.payment.register",
        "action_create_payments",
        json!([[wizard]]),
        json!({"context": context}),
    )
    .await;
    let invoice = rpc
        .read_one(
            "account.move",
            invoices[0],
            &["state", "payment_state", "amount_residual", "name"],
        )
        .await;
    assert_eq!(invoice["state"], "posted");
    assert_eq!(invoice["payment_state"], "paid");
    assert_eq!(invoice["amount_residual"], 0.0);
    assert_eq!(demo.count("account.payment"), 1);
    full.shutdown().await;
    demo.shutdown().await;
}

// ------------------------------------------------------------------ 5. load

#[tokio::test]
async fn loading_a_product_twice_updates_the_same_record() {
    for version in [19, 18, 17] {
        let fake = FakeOdoo::builder()
            .version(version)
            .demo_data_only()
            .start()
            .await;
        let rpc = Rpc::admin(&fake);
        let templates = fake.count("product.template");
        let first = rpc
            .load_product(
                "odoo_connect.product_x",
                "Implementation",
                "X-MIL",
                "project_only",
                MILESTONES,
                1,
                24000.0,
            )
            .await;
        let second = rpc
            .load_product(
                "odoo_connect.product_x",
                "Implementation",
                "X-MIL",
                "project_only",
                MILESTONES,
                1,
                25000.0,
            )
            .await;
        assert_eq!(first, second, "{version}");
        assert_eq!(fake.count("product.template"), templates + 1);
        let type_field = if version >= 18 {
            "type"
        } else {
            "detailed_type"
        };
        let product = rpc
            .read_one(
                "product.product",
                first,
                &[
                    "name",
                    type_field,
                    "service_tracking",
                    "service_policy",
                    "invoice_policy",
                    "service_type",
                    "list_price",
                    "default_code",
                    "uom_id",
                    "product_tmpl_id",
                ],
            )
            .await;
        assert_eq!(product[type_field], "service");
        assert_eq!(product["service_tracking"], "project_only");
        assert_eq!(product["service_policy"], "delivered_milestones");
        assert_eq!(product["invoice_policy"], "delivery");
        assert_eq!(product["service_type"], "milestones");
        assert_eq!(product["list_price"], 25000.0);
        assert_eq!(product["default_code"], "X-MIL");
        assert_eq!(id_of(&product["uom_id"]), Some(1));
        assert!(id_of(&product["product_tmpl_id"]).is_some());
        let xmlids = rpc
            .search_read(
                "ir.model.data",
                json!([["module", "=", "odoo_connect"], ["name", "=", "product_x"]]),
                &["model", "res_id"],
            )
            .await;
        assert_eq!(xmlids.len(), 1);
        assert_eq!(xmlids[0]["model"], "product.product");
        assert_eq!(xmlids[0]["res_id"], first);
        fake.shutdown().await;
    }
}

// ------------------------------------------------------------------ 6. delivered quantities

async fn delivered_quantities_drive_invoicing(version: u8) {
    let fake = FakeOdoo::builder()
        .version(version)
        .demo_data_only()
        .start()
        .await;
    let rpc = Rpc::admin(&fake);
    let cat = catalog(&rpc).await;
    let so = order(
        &rpc,
        15,
        &[(cat.milestones, 1.0), (cat.time, 10.0), (cat.fixed, 1.0)],
    )
    .await;
    rpc.ok("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    let lines = lines_of(&rpc, so).await;
    let mil = line_with(&lines, cat.milestones);
    let time = line_with(&lines, cat.time);
    let mil_id = mil["id"].as_i64().unwrap();
    let time_id = time["id"].as_i64().unwrap();
    assert_eq!(mil["qty_delivered"], 0.0);
    assert_eq!(time["qty_delivered"], 0.0);
    let project = id_of(&time["project_id"]).expect("a project");
    let task = id_of(&time["task_id"]).expect("a task");

    // Milestones: reaching the milestone delivers the line.
    let milestone = rpc
        .search_read(
            "project.milestone",
            json!([["sale_line_id", "=", mil_id]]),
            &["name"],
        )
        .await[0]["id"]
        .as_i64()
        .unwrap();
    rpc.write(
        "project.milestone",
        &[milestone],
        json!({"is_reached": true}),
    )
    .await;
    let line = rpc
        .read_one(
            "sale.order.line",
            mil_id,
            &["qty_delivered", "qty_to_invoice"],
        )
        .await;
    assert_eq!(line["qty_delivered"], 1.0);
    assert_eq!(line["qty_to_invoice"], 1.0);

    // Timesheets: on the task (so_line from the task), with an explicit so_line, and one
    // explicitly not billable.
    let on_task = rpc
        .create(
            "account.analytic.line",
            json!({"name": "Analysis", "project_id": project, "task_id": task,
                   "employee_id": 6, "unit_amount": 3.0}),
        )
        .await;
    let explicit = rpc
        .create(
            "account.analytic.line",
            json!({"name": "Workshop", "project_id": project, "so_line": time_id,
                   "employee_id": 6, "unit_amount": 2.0}),
        )
        .await;
    let internal = rpc
        .create(
            "account.analytic.line",
            json!({"name": "Internal", "project_id": project, "task_id": task,
                   "so_line": false, "employee_id": 6, "unit_amount": 4.0}),
        )
        .await;
    for (id, line) in [
        (on_task, Some(time_id)),
        (explicit, Some(time_id)),
        (internal, None),
    ] {
        let t = rpc
            .read_one(
                "account.analytic.line",
                id,
                &["so_line", "timesheet_invoice_type"],
            )
            .await;
        assert_eq!(id_of(&t["so_line"]), line, "timesheet {id}");
        let kind = if line.is_some() {
            "billable_time"
        } else {
            "non_billable"
        };
        assert_eq!(t["timesheet_invoice_type"], kind);
    }
    let line = rpc
        .read_one("sale.order.line", time_id, &["qty_delivered"])
        .await;
    assert_eq!(line["qty_delivered"], 5.0);

    // The wizard invoices exactly what was delivered and not invoiced.
    let invoices = rpc.invoice_delivered(so).await.expect("an invoice");
    assert_eq!(invoices.len(), 1);
    let invoice_lines = rpc
        .search_read(
            "account.move.line",
            json!([
                ["move_id", "=", invoices[0]],
                ["display_type", "=", "product"]
            ]),
            &["product_id", "quantity", "sale_line_ids"],
        )
        .await;
    let qty = |product: i64| {
        invoice_lines
            .iter()
            .find(|l| id_of(&l["product_id"]) == Some(product))
            .map(|l| l["quantity"].clone())
    };
    assert_eq!(invoice_lines.len(), 3, "{invoice_lines:?}");
    assert_eq!(qty(cat.milestones), Some(json!(1.0)));
    assert_eq!(qty(cat.time), Some(json!(5.0)));
    assert_eq!(qty(cat.fixed), Some(json!(1.0)));
    let (class, message) = rpc
        .invoice_delivered(so)
        .await
        .expect_err("nothing left to invoice");
    assert_eq!(class, "odoo.exceptions.UserError");
    assert!(
        message.starts_with("Cannot create an invoice. No items are available to invoice."),
        "{message}"
    );

    // More time: only the new hours are invoiced next.
    rpc.create(
        "account.analytic.line",
        json!({"name": "Follow-up", "project_id": project, "task_id": task,
               "employee_id": 6, "unit_amount": 1.5}),
    )
    .await;
    let next = rpc.invoice_delivered(so).await.expect("a second invoice");
    let next_lines = rpc
        .search_read(
            "account.move.line",
            json!([["move_id", "=", next[0]], ["display_type", "=", "product"]]),
            &["product_id", "quantity"],
        )
        .await;
    assert_eq!(next_lines.len(), 1);
    assert_eq!(id_of(&next_lines[0]["product_id"]), Some(cat.time));
    assert_eq!(next_lines[0]["quantity"], 1.5);
    let line = rpc
        .read_one(
            "sale.order.line",
            time_id,
            &["qty_delivered", "qty_invoiced", "qty_to_invoice"],
        )
        .await;
    assert_eq!(line["qty_delivered"], 6.5);
    assert_eq!(line["qty_invoiced"], 6.5);
    assert_eq!(line["qty_to_invoice"], 0.0);
    fake.shutdown().await;
}

#[tokio::test]
async fn delivered_quantities_drive_invoicing_19() {
    delivered_quantities_drive_invoicing(19).await;
}

#[tokio::test]
async fn delivered_quantities_drive_invoicing_18() {
    delivered_quantities_drive_invoicing(18).await;
}

#[tokio::test]
async fn delivered_quantities_drive_invoicing_17() {
    delivered_quantities_drive_invoicing(17).await;
}
