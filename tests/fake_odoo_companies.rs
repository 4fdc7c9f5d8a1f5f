//! `FakeOdoo` answers as a real Odoo 19 does about companies: the active company
//! (`allowed_company_ids`, first one) gives new records their company, an id the user lacks is
//! an `AccessError`, `_check_company` refuses links across companies with Odoo's `UserError`,
//! and `demo_data_only()` holds the companies, journals, payment methods, currencies and
//! (no) pricelists of a fresh demo database.
//!
//! The same scenarios run over JSON-2 against the fake and, when `ODOO_URL` is set, against the
//! real server, on records of their own; their answers are compared.

#![cfg(feature = "testkit")]

mod real_odoo;

use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

/// A JSON-2 caller, for the fake and the real server alike.
struct Server {
    http: reqwest::Client,
    url: String,
    db: String,
    key: String,
}

/// An error reply: the exception's class and message.
#[derive(Debug, Clone, PartialEq)]
struct Refusal {
    name: String,
    message: String,
}

impl Server {
    fn fake(fake: &FakeOdoo) -> Server {
        Server {
            http: reqwest::Client::new(),
            url: fake.url(),
            db: fake.database().to_string(),
            key: fake.admin_api_key(),
        }
    }

    fn real() -> Option<Server> {
        let real = real_odoo::real()?;
        Some(Server {
            http: reqwest::Client::new(),
            url: real.url,
            db: real.db,
            key: real.api_key,
        })
    }

    async fn call(&self, model: &str, method: &str, body: Value) -> Result<Value, Refusal> {
        let reply = self
            .http
            .post(format!("{}/json/2/{model}/{method}", self.url))
            .header("Authorization", format!("bearer {}", self.key))
            .header("X-Odoo-Database", &self.db)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the server answers");
        let ok = reply.status().is_success();
        let text = reply.text().await.expect("a body");
        let value: Value = serde_json::from_str(&text).expect("a JSON body");
        if ok {
            Ok(value)
        } else {
            Err(Refusal {
                name: value["name"].as_str().unwrap_or_default().to_string(),
                message: value["message"].as_str().unwrap_or_default().to_string(),
            })
        }
    }

    async fn ok(&self, model: &str, method: &str, body: Value) -> Value {
        match self.call(model, method, body).await {
            Ok(v) => v,
            Err(e) => panic!("{model}.{method}: {}: {}", e.name, e.message),
        }
    }

    async fn refused(&self, model: &str, method: &str, body: Value) -> Refusal {
        match self.call(model, method, body).await {
            Ok(v) => panic!("{model}.{method} should fail, got {v}"),
            Err(e) => e,
        }
    }

    async fn create(&self, model: &str, vals: Value, context: Value) -> i64 {
        let ids = self
            .ok(
                model,
                "create",
                json!({"vals_list": [vals], "context": context}),
            )
            .await;
        ids[0].as_i64().expect("an id")
    }

    async fn read(&self, model: &str, id: i64, fields: &[&str]) -> Value {
        let rows = self
            .ok(model, "read", json!({"ids": [id], "fields": fields}))
            .await;
        rows[0].clone()
    }

    async fn display_name(&self, model: &str, id: i64) -> String {
        self.read(model, id, &["display_name"]).await["display_name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn search(&self, model: &str, domain: Value, context: Value) -> Vec<i64> {
        self.ok(
            model,
            "search",
            json!({"domain": domain, "order": "id", "context": context}),
        )
        .await
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
    }
}

fn id_of(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.get(0).and_then(Value::as_i64))
}

/// Odoo's `_check_company` message for one inconsistency.
fn crossover(record: &str, company: &str, field: &str, fname: &str, values: &str) -> String {
    format!(
        "Uh-oh! You\u{2019}ve got some company inconsistencies here:\n- \u{201c}{record}\u{201d} belongs to company \u{201c}{company}\u{201d} while \u{201c}{field}\u{201d} ({fname}: '{values}') belongs to another company.\nTo avoid a mess, no company crossover is allowed!"
    )
}

async fn demo_fake() -> FakeOdoo {
    FakeOdoo::builder().demo_data_only().start().await
}

// ------------------------------------------------------------------ scenarios

/// What a scenario saw, to compare the fake's answers with the real server's.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    /// Company of an order made with `allowed_company_ids: [2, 1]`, and its currency.
    order_in_2: (Option<i64>, Option<i64>),
    /// Company of an order made without `allowed_company_ids`.
    order_default: Option<i64>,
    /// The refusal of `allowed_company_ids: [1, 999]`.
    unknown_company: Refusal,
    /// A line of a company-1 order taxed with a company-2 tax: refusal, and the message
    /// expected from the line's display name.
    taxed_across: (Refusal, String),
    /// A company-2 sales journal written on a company-1 order.
    journal_across: (Refusal, String),
    /// The payment wizard of a company-2 invoice: its company, journal and payment method.
    wizard: (Option<i64>, Option<i64>, Option<i64>),
    /// The wizard given the company-1 bank journal, its message with the wizard's number
    /// masked.
    wizard_across: (String, String),
}

/// Runs every company scenario on `server`, on records named with `tag`.
async fn scenarios(server: &Server, tag: &str) -> Seen {
    let in_2 = json!({"allowed_company_ids": [2, 1]});
    let partner = server
        .create(
            "res.partner",
            json!({"name": format!("Cust {tag}")}),
            json!({}),
        )
        .await;
    let product = server
        .create(
            "product.product",
            json!({"name": format!("Svc {tag}"), "type": "service", "list_price": 100.0}),
            json!({}),
        )
        .await;

    // The active company gives new orders their company, and the currency with it.
    let order_2 = server
        .create("sale.order", json!({"partner_id": partner}), in_2.clone())
        .await;
    let read = server
        .read("sale.order", order_2, &["company_id", "currency_id"])
        .await;
    let order_in_2 = (id_of(&read["company_id"]), id_of(&read["currency_id"]));
    let order_1 = server
        .create("sale.order", json!({"partner_id": partner}), json!({}))
        .await;
    let order_default =
        id_of(&server.read("sale.order", order_1, &["company_id"]).await["company_id"]);

    let unknown = server
        .refused(
            "res.partner",
            "search",
            json!({"domain": [], "limit": 1, "context": {"allowed_company_ids": [1, 999]}}),
        )
        .await;

    // A tax of company 2 on a line of a company-1 order.
    let tax_2 = server
        .search(
            "account.tax",
            json!([["type_tax_use", "=", "sale"], ["company_id", "=", 2]]),
            in_2.clone(),
        )
        .await[0];
    let line = server
        .create(
            "sale.order.line",
            json!({"order_id": order_1, "product_id": product, "tax_ids": [[6, 0, []]]}),
            json!({}),
        )
        .await;
    let taxed = server
        .refused(
            "sale.order.line",
            "write",
            json!({"ids": [line], "vals": {"tax_ids": [[6, 0, [tax_2]]]}}),
        )
        .await;
    let expected_taxed = crossover(
        &server.display_name("sale.order.line", line).await,
        "YourCompany",
        "Taxes",
        "tax_ids",
        &server.display_name("account.tax", tax_2).await,
    );

    // The sales journal of company 2 on an order of company 1.
    let journal_2 = server
        .search(
            "account.journal",
            json!([["type", "=", "sale"], ["company_id", "=", 2]]),
            in_2.clone(),
        )
        .await[0];
    let journal_across = server
        .refused(
            "sale.order",
            "write",
            json!({"ids": [order_1], "vals": {"journal_id": journal_2}}),
        )
        .await;
    let expected_journal = crossover(
        &server.display_name("sale.order", order_1).await,
        "YourCompany",
        "Invoicing Journal",
        "journal_id",
        "Sales",
    );

    // An invoice of company 2, posted, paid through the wizard.
    let invoice = server
        .create(
            "account.move",
            json!({"move_type": "out_invoice", "partner_id": partner,
                   "invoice_line_ids": [[0, 0, {"product_id": product, "price_unit": 50.0,
                                                "tax_ids": [[6, 0, []]]}]]}),
            in_2.clone(),
        )
        .await;
    server
        .ok(
            "account.move",
            "action_post",
            json!({"ids": [invoice], "context": in_2}),
        )
        .await;
    let active = json!({"active_model": "account.move", "active_ids": [invoice]});
    let wizard = server
        .create("account.payment.register", json!({}), active.clone())
        .await;
    let read = server
        .ok(
            "account.payment.register",
            "read",
            json!({"ids": [wizard], "fields": ["company_id", "journal_id", "payment_method_line_id"],
                   "context": active}),
        )
        .await;
    let wizard_seen = (
        id_of(&read[0]["company_id"]),
        id_of(&read[0]["journal_id"]),
        id_of(&read[0]["payment_method_line_id"]),
    );
    let bank_1 = server
        .search(
            "account.journal",
            json!([["type", "=", "bank"], ["company_id", "=", 1]]),
            json!({}),
        )
        .await[0];
    let across = server
        .refused(
            "account.payment.register",
            "create",
            json!({"vals_list": [{"journal_id": bank_1}], "context": active}),
        )
        .await;
    // "account.payment.register,N": the wizard's number depends on the server's history.
    let masked = {
        let prefix = "account.payment.register,";
        match across.message.find(prefix) {
            Some(at) => {
                let start = at + prefix.len();
                let digits = across.message[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .count();
                format!(
                    "{}N{}",
                    &across.message[..start],
                    &across.message[start + digits..]
                )
            }
            None => across.message.clone(),
        }
    };
    Seen {
        order_in_2,
        order_default,
        unknown_company: unknown,
        taxed_across: (taxed, expected_taxed),
        journal_across: (journal_across, expected_journal),
        wizard: wizard_seen,
        wizard_across: (across.name, masked),
    }
}

fn assert_like_odoo(seen: &Seen) {
    assert_eq!(seen.order_in_2, (Some(2), Some(1)));
    assert_eq!(seen.order_default, Some(1));
    assert_eq!(
        seen.unknown_company,
        Refusal {
            name: "odoo.exceptions.AccessError".into(),
            message: "Access to unauthorized or invalid companies.".into(),
        }
    );
    let (taxed, expected) = &seen.taxed_across;
    assert_eq!(taxed.name, "odoo.exceptions.UserError");
    assert_eq!(&taxed.message, expected);
    let (journal, expected) = &seen.journal_across;
    assert_eq!(journal.name, "odoo.exceptions.UserError");
    assert_eq!(&journal.message, expected);
    assert_eq!(seen.wizard, (Some(2), Some(13), Some(3)));
    assert_eq!(
        seen.wizard_across,
        (
            "odoo.exceptions.UserError".to_string(),
            crossover(
                "account.payment.register,N",
                "My US Company",
                "Journal",
                "journal_id",
                "Bank"
            )
        )
    );
}

// ------------------------------------------------------------------ the fake

#[tokio::test]
async fn the_fake_answers_as_odoo_about_companies() {
    let fake = demo_fake().await;
    let seen = scenarios(&Server::fake(&fake), "fake").await;
    assert_like_odoo(&seen);
    fake.shutdown().await;
}

#[tokio::test]
async fn demo_data_holds_two_companies_their_journals_and_no_pricelist() {
    let fake = demo_fake().await;
    let server = Server::fake(&fake);
    let all = json!({"active_test": false});
    let companies = server
        .ok(
            "res.company",
            "search_read",
            json!({"domain": [], "fields": ["name", "sequence", "currency_id"], "order": "id"}),
        )
        .await;
    assert_eq!(
        companies,
        json!([
            {"id": 1, "name": "YourCompany", "sequence": 0, "currency_id": [1, "USD"]},
            {"id": 2, "name": "My US Company", "sequence": 10, "currency_id": [1, "USD"]},
        ])
    );
    assert!(
        server
            .search("product.pricelist", json!([]), all.clone())
            .await
            .is_empty()
    );
    let currencies = server
        .ok(
            "res.currency",
            "search_read",
            json!({"domain": [["name", "in", ["EUR", "USD"]]], "fields": ["name", "active"],
                   "order": "id", "context": all}),
        )
        .await;
    assert_eq!(
        currencies,
        json!([
            {"id": 1, "name": "USD", "active": true},
            {"id": 125, "name": "EUR", "active": false},
        ])
    );
    for (jtype, company, expected) in [
        ("sale", 1, 1),
        ("sale", 2, 8),
        ("bank", 1, 6),
        ("bank", 2, 13),
    ] {
        let found = server
            .search(
                "account.journal",
                json!([["type", "=", jtype], ["company_id", "=", company]]),
                json!({}),
            )
            .await;
        assert_eq!(found, [expected], "{jtype} journal of company {company}");
    }
    for (journal, inbound) in [(6, 1), (13, 3)] {
        let lines = server
            .search(
                "account.payment.method.line",
                json!([
                    ["journal_id", "=", journal],
                    ["payment_type", "=", "inbound"]
                ]),
                json!({}),
            )
            .await;
        assert_eq!(lines, [inbound], "inbound methods of journal {journal}");
    }
    let users = server
        .ok(
            "res.users",
            "search_read",
            json!({"domain": [["login", "in", ["admin", "demo"]]],
                   "fields": ["login", "company_id", "company_ids"], "order": "id"}),
        )
        .await;
    for user in users.as_array().expect("users") {
        assert_eq!(user["company_id"], json!([1, "YourCompany"]), "{user}");
        let mut companies: Vec<i64> = user["company_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        companies.sort_unstable();
        assert_eq!(companies, [1, 2], "{user}");
    }
    fake.shutdown().await;
}

#[tokio::test]
async fn orders_without_pricelist_take_their_companys_currency() {
    let fake = demo_fake().await;
    let server = Server::fake(&fake);
    let order = server
        .create(
            "sale.order",
            json!({"partner_id": 9}),
            json!({"allowed_company_ids": [2]}),
        )
        .await;
    let read = server
        .read(
            "sale.order",
            order,
            &["company_id", "pricelist_id", "currency_id"],
        )
        .await;
    assert_eq!(read["company_id"], json!([2, "My US Company"]));
    assert_eq!(read["pricelist_id"], json!(false));
    assert_eq!(read["currency_id"], json!([1, "USD"]));

    // A pricelist belongs to the company it is made in; an order takes its currency, and a
    // pricelist of another company is refused.
    server
        .ok(
            "res.currency",
            "write",
            json!({"ids": [125], "vals": {"active": true}}),
        )
        .await;
    let eur_1 = server
        .create(
            "product.pricelist",
            json!({"name": "Euro", "currency_id": 125}),
            json!({}),
        )
        .await;
    let list = server
        .read("product.pricelist", eur_1, &["company_id", "sequence"])
        .await;
    assert_eq!(list["company_id"], json!([1, "YourCompany"]));
    assert_eq!(list["sequence"], 16);
    let refused = server
        .refused(
            "sale.order",
            "write",
            json!({"ids": [order], "vals": {"pricelist_id": eur_1}}),
        )
        .await;
    let name = server.display_name("sale.order", order).await;
    assert_eq!(
        refused.message,
        crossover(
            &name,
            "My US Company",
            "Pricelist",
            "pricelist_id",
            "Euro (EUR)"
        )
    );
    let order_1 = server
        .create(
            "sale.order",
            json!({"partner_id": 9, "pricelist_id": eur_1}),
            json!({}),
        )
        .await;
    let read = server
        .read("sale.order", order_1, &["company_id", "currency_id"])
        .await;
    assert_eq!(read["company_id"], json!([1, "YourCompany"]));
    assert_eq!(read["currency_id"], json!([125, "EUR"]));
    fake.shutdown().await;
}

#[tokio::test]
async fn entries_and_payments_take_their_journals_company() {
    let fake = demo_fake().await;
    let server = Server::fake(&fake);
    // Without allowed_company_ids, the journal decides the company.
    let invoice = server
        .create(
            "account.move",
            json!({"move_type": "out_invoice", "partner_id": 9, "journal_id": 8}),
            json!({}),
        )
        .await;
    let read = server.read("account.move", invoice, &["company_id"]).await;
    assert_eq!(read["company_id"], json!([2, "My US Company"]));
    let payment = server
        .create(
            "account.payment",
            json!({"amount": 5.0, "partner_id": 9, "journal_id": 13}),
            json!({}),
        )
        .await;
    let read = server
        .read(
            "account.payment",
            payment,
            &["company_id", "payment_method_line_id"],
        )
        .await;
    assert_eq!(read["company_id"], json!([2, "My US Company"]));
    assert_eq!(id_of(&read["payment_method_line_id"]), Some(3));
    // Both given and apart: refused.
    let refused = server
        .refused(
            "account.move",
            "create",
            json!({"vals_list": [{"move_type": "out_invoice", "partner_id": 9,
                                  "journal_id": 8, "company_id": 1}]}),
        )
        .await;
    assert_eq!(refused.name, "odoo.exceptions.UserError");
    assert_eq!(
        refused.message,
        crossover(
            "Draft Invoice",
            "YourCompany",
            "Journal",
            "journal_id",
            "Sales"
        )
    );
    // Shared records (no company) go anywhere.
    let shared = server
        .create("res.partner", json!({"name": "Shared"}), json!({}))
        .await;
    server
        .create(
            "sale.order",
            json!({"partner_id": shared}),
            json!({"allowed_company_ids": [2]}),
        )
        .await;
    fake.shutdown().await;
}

// ------------------------------------------------------------------ against the real server

#[tokio::test]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn the_fake_and_the_real_server_agree_about_companies() {
    let Some(real) = Server::real() else {
        return;
    };
    let fake = demo_fake().await;
    let tag = real_odoo::run_tag();
    let on_real = scenarios(&real, tag).await;
    let on_fake = scenarios(&Server::fake(&fake), tag).await;
    assert_like_odoo(&on_real);
    assert_eq!(on_fake.order_in_2, on_real.order_in_2);
    assert_eq!(on_fake.order_default, on_real.order_default);
    assert_eq!(on_fake.unknown_company, on_real.unknown_company);
    assert_eq!(on_fake.wizard, on_real.wizard);
    assert_eq!(on_fake.wizard_across, on_real.wizard_across);
    assert_eq!(on_fake.taxed_across.0.name, on_real.taxed_across.0.name);
    assert_eq!(on_fake.journal_across.0.name, on_real.journal_across.0.name);
    fake.shutdown().await;
}
