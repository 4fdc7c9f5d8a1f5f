//! Every client operation against the fake Odoo, over both protocols (Odoo 19 JSON-RPC and
//! JSON-2) and over JSON-RPC on a pre-19 server.
#![cfg(feature = "testkit")]

use std::time::Duration;

use futures_util::TryStreamExt;
use odoo_connect::odoo::models::{Partner, Project, SaleOrder, Timesheet};
use odoo_connect::odoo::{
    Command, Context, Domain, Error, OdooCall, OdooClient, OdooErrorKind, Protocol, RecordId,
    RetryPolicy, Values,
};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
enum Setup {
    Json2On19,
    JsonRpcOn19,
    JsonRpcOn17,
}

const SETUPS: [Setup; 3] = [Setup::Json2On19, Setup::JsonRpcOn19, Setup::JsonRpcOn17];

async fn start(setup: Setup) -> (FakeOdoo, OdooClient) {
    let fake = match setup {
        Setup::JsonRpcOn17 => FakeOdoo::builder().version(17).start().await,
        _ => FakeOdoo::start().await,
    };
    let protocol = match setup {
        Setup::Json2On19 => Protocol::Json2,
        _ => Protocol::JsonRpc,
    };
    let odoo = OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .protocol(protocol)
        .retry(
            RetryPolicy::default()
                .initial_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    (fake, odoo)
}

#[tokio::test]
async fn reads_search_count_and_typed_records() {
    for setup in SETUPS {
        let (_fake, odoo) = start(setup).await;
        let partners = odoo.model::<Partner>();
        let companies = Domain::new().eq("is_company", true);
        let n = partners.search_count(companies.clone()).await.unwrap();
        assert!(n >= 3, "{setup:?}: {n}");
        let ids = partners
            .search(companies.clone())
            .order("id")
            .await
            .unwrap();
        assert_eq!(ids.len() as i64, n);
        let page = partners
            .search(companies.clone())
            .order("id")
            .offset(1)
            .limit(2)
            .await
            .unwrap();
        assert_eq!(page, ids[1..3].to_vec(), "{setup:?}");
        let typed: Vec<Partner> = partners
            .search_read(companies.clone())
            .order("id")
            .limit(5)
            .await
            .unwrap();
        assert_eq!(typed.len(), 5.min(n as usize));
        assert!(typed.iter().all(|p| p.is_company));
        let read: Vec<Partner> = partners.read([ids[0], RecordId(999_999)]).await.unwrap();
        assert_eq!(read.len(), 1, "missing ids are dropped: {setup:?}");
        assert_eq!(read[0].id, ids[0]);
        // Version-gated fields decode on every version.
        let projects: Vec<Project> = odoo
            .model::<Project>()
            .search_read(Domain::new())
            .await
            .unwrap();
        assert!(!projects.is_empty());
        let orders: Vec<SaleOrder> = odoo
            .model::<SaleOrder>()
            .search_read(Domain::new())
            .await
            .unwrap();
        assert!(
            orders
                .iter()
                .any(|o| o.amount_total > rust_decimal::Decimal::ZERO),
            "{setup:?}"
        );
    }
}

#[tokio::test]
async fn writes_create_batch_write_unlink_and_x2many() {
    for setup in SETUPS {
        let (fake, odoo) = start(setup).await;
        let h = odoo.model::<Partner>();
        let before = fake.count("res.partner");
        let one = h
            .create(
                &Values::new()
                    .set("name", "Solo Ltd")
                    .set("is_company", true),
            )
            .await
            .unwrap();
        let many = h
            .create_many(&[
                Values::new().set("name", "Batch A"),
                Values::new().set("name", "Batch B"),
                Values::new().set("name", "Batch C"),
            ])
            .await
            .unwrap();
        assert_eq!(many.len(), 3);
        assert_eq!(fake.count("res.partner"), before + 4, "{setup:?}");
        assert!(
            h.write(&[one], &Values::new().set("email", "solo@example.com"))
                .await
                .unwrap()
        );
        let back: Vec<Partner> = h.read([one]).await.unwrap();
        assert_eq!(back[0].email.as_deref(), Some("solo@example.com"));
        // x2many: link contacts as children with commands.
        h.write(
            &[one],
            &Values::new().x2many(
                "child_ids",
                [
                    Command::link(many[0]),
                    Command::create(json!({"name": "New child"})),
                ],
            ),
        )
        .await
        .unwrap();
        let back: Vec<Partner> = h.read([one]).await.unwrap();
        assert_eq!(back[0].child_ids.len(), 2, "{setup:?}");
        assert!(h.unlink(&many[1..]).await.unwrap());
        assert!(h.read(many[1..].to_vec()).await.unwrap().is_empty());
        let e = h.unlink(&[RecordId(999_999)]).await.unwrap_err();
        assert_eq!(
            e.odoo_kind(),
            Some(OdooErrorKind::MissingError),
            "{setup:?}"
        );
        // Batches in chunks with requests in flight keep the input order.
        let vals: Vec<Values> = (0..25)
            .map(|i| Values::new().set("name", format!("Chunk {i}")))
            .collect();
        let ids = h.create_chunked(&vals, 10, 3).await.unwrap();
        assert_eq!(ids.len(), 25);
        let names: Vec<Partner> = h.read(ids.clone()).await.unwrap();
        let mut by_id: Vec<(RecordId, String)> = names
            .into_iter()
            .map(|p| (p.id, p.name.unwrap_or_default()))
            .collect();
        by_id.sort();
        assert_eq!(by_id[0].1, "Chunk 0");
        assert_eq!(by_id[24].1, "Chunk 24");
    }
}

#[tokio::test]
async fn name_search_fields_get_grouping_and_load() {
    for setup in SETUPS {
        let (_fake, odoo) = start(setup).await;
        let partners = odoo.model_named::<Value>("res.partner");
        let found = partners
            .name_search("a")
            .domain(Domain::new().eq("is_company", true))
            .limit(3)
            .await
            .unwrap();
        assert!(!found.is_empty() && found.len() <= 3, "{setup:?}");
        let fields = partners.fields_get(&[]).await.unwrap();
        assert_eq!(fields["name"].field_type, "char");
        assert_eq!(
            fields["country_id"].relation.as_deref(),
            Some("res.country")
        );
        let groups = odoo
            .model::<Timesheet>()
            .read_group(
                Domain::new().ne("project_id", false),
                &["project_id"],
                &["unit_amount:sum"],
            )
            .await
            .unwrap();
        assert!(!groups.is_empty(), "{setup:?}");
        assert!(
            groups.iter().all(|g| g.groups.contains_key("project_id")
                && g.aggregates.contains_key("unit_amount:sum")
                && g.count.unwrap_or(0) > 0),
            "{setup:?}: {groups:?}"
        );
        // load: create, then update through the same external id.
        let first = partners
            .load(
                &["id", "name", "email"],
                vec![vec![
                    json!("__sync__.client_load"),
                    json!("Load Co"),
                    json!("a@x.com"),
                ]],
            )
            .await
            .unwrap();
        let ids = first.into_ids().unwrap();
        let again = partners
            .load(
                &["id", "name", "email"],
                vec![vec![
                    json!("__sync__.client_load"),
                    json!("Load Co"),
                    json!("b@x.com"),
                ]],
            )
            .await
            .unwrap();
        assert_eq!(again.into_ids().unwrap(), ids, "{setup:?}");
        let bad = partners
            .load(
                &["id", "name", "country_id"],
                vec![
                    vec![json!("__sync__.ok"), json!("Ok"), json!("Belgium")],
                    vec![json!("__sync__.ko"), json!("Ko"), json!("Nowhereland")],
                ],
            )
            .await
            .unwrap();
        assert!(bad.ids.is_none());
        let err = bad.into_ids().unwrap_err();
        assert!(err.to_string().contains("Nowhereland"), "{err}");
    }
}

#[tokio::test]
async fn streaming_pages_by_id_with_bounded_pages() {
    for setup in SETUPS {
        let (fake, odoo) = start(setup).await;
        let h = odoo.model_named::<Value>("res.partner");
        let vals: Vec<Values> = (0..230)
            .map(|i| Values::new().set("name", format!("Stream {i:03}")))
            .collect();
        h.create_chunked(&vals, 100, 2).await.unwrap();
        fake.clear_requests();
        let rows: Vec<Value> = h
            .search_read_stream(Domain::new().eq_like("name", "Stream %"))
            .page_size(50)
            .fields(["name"])
            .try_collect()
            .await
            .unwrap();
        assert_eq!(rows.len(), 230, "{setup:?}");
        let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "in id order, no repeat"
        );
        // 5 pages: 50, 50, 50, 50, 30; keyset paging, never offset.
        let reads: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method_name() == Some("search_read"))
            .collect();
        assert_eq!(reads.len(), 5, "{setup:?}");
        for r in &reads {
            assert!(!r.body.to_string().contains("offset"), "{}", r.body);
        }
        // Typed streaming.
        let typed: Vec<Partner> = odoo
            .model::<Partner>()
            .search_read_stream(Domain::new().eq_like("name", "Stream %"))
            .page_size(100)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(typed.len(), 230);
    }
}

#[tokio::test]
async fn workflow_methods_and_context() {
    for setup in SETUPS {
        let (_fake, odoo) = start(setup).await;
        let orders = odoo.model::<SaleOrder>();
        let partner = odoo
            .model::<Partner>()
            .search(Domain::new().eq("is_company", true))
            .limit(1)
            .await
            .unwrap()[0];
        let product = odoo
            .model_named::<Value>("product.product")
            .search(Domain::new().eq("type", "service"))
            .limit(1)
            .await;
        let product = match product {
            Ok(p) if !p.is_empty() => p[0],
            _ => odoo
                .model_named::<Value>("product.product")
                .search(Domain::new())
                .limit(1)
                .await
                .unwrap()[0],
        };
        let order = orders
            .create(&Values::new().many2one("partner_id", Some(partner)).x2many(
                "order_line",
                [Command::create(json!({"product_id": product.get(), "product_uom_qty": 3, "price_unit": 1234.5}))],
            ))
            .await
            .unwrap();
        let confirmed: Value = odoo
            .call(&OdooCall::new("sale.order", "action_confirm").ids([order]))
            .await
            .unwrap();
        assert_eq!(confirmed, json!(true), "{setup:?}");
        let o: Vec<SaleOrder> = orders.read([order]).await.unwrap();
        assert_eq!(o[0].state.as_ref().map(|s| s.as_str()), Some("sale"));
        assert_eq!(o[0].amount_untaxed.to_string(), "3703.5", "{setup:?}");
        // Private methods cannot be called.
        let e = odoo
            .call::<Value>(&OdooCall::new("sale.order", "_create_invoices").ids([order]))
            .await
            .unwrap_err();
        assert_eq!(e.odoo_kind(), Some(OdooErrorKind::AccessError), "{setup:?}");
        // Context: only company 2's journals, archived records with active_test false.
        let journals = odoo.model_named::<Value>("account.journal");
        let all = journals.search_count(Domain::new()).await.unwrap();
        let only2 = journals
            .clone()
            .with_context(Context::new().allowed_company_ids([2]))
            .search_count(Domain::new())
            .await
            .unwrap();
        assert!(only2 > 0 && only2 < all, "{setup:?}: {only2} of {all}");
        let e = journals
            .with_context(Context::new().allowed_company_ids([999]))
            .search_count(Domain::new())
            .await
            .unwrap_err();
        assert_eq!(e.odoo_kind(), Some(OdooErrorKind::AccessError));
        let h = odoo.model_named::<Value>("res.partner");
        let id = h
            .create(&Values::new().set("name", "Archived One"))
            .await
            .unwrap();
        h.write(&[id], &Values::new().set("active", false))
            .await
            .unwrap();
        let d = Domain::new().eq("name", "Archived One");
        assert_eq!(h.search_count(d.clone()).await.unwrap(), 0);
        let with_archived = h
            .search(d)
            .context(Context::new().active_test(false))
            .await
            .unwrap();
        assert_eq!(with_archived, vec![id], "{setup:?}");
    }
}

#[tokio::test]
async fn errors_are_typed_on_every_protocol() {
    for setup in SETUPS {
        let (fake, odoo) = start(setup).await;
        // Missing required field.
        let e = odoo
            .model::<SaleOrder>()
            .create(&Values::new())
            .await
            .unwrap_err();
        assert_eq!(
            e.odoo_kind(),
            Some(OdooErrorKind::ValidationError),
            "{setup:?}: {e}"
        );
        // Unknown model and method.
        let e = odoo
            .call::<Value>(&OdooCall::new("no.such.model", "search").arg("domain", json!([])))
            .await
            .unwrap_err();
        assert!(e.as_odoo().is_some(), "{setup:?}: {e}");
        // Restricted user.
        let demo = OdooClient::builder(fake.url())
            .database(fake.database())
            .api_key("demo", fake.demo_api_key())
            .build()
            .unwrap();
        let e = demo
            .model_named::<Value>("ir.config_parameter")
            .search_read(Domain::new())
            .await
            .unwrap_err();
        assert_eq!(
            e.odoo_kind(),
            Some(OdooErrorKind::AccessError),
            "{setup:?}: {e}"
        );
        // Wrong key.
        let bad = OdooClient::builder(fake.url())
            .database(fake.database())
            .api_key("admin", "not-the-key")
            .build()
            .unwrap();
        let e = bad
            .model_named::<Value>("res.partner")
            .search(Domain::new())
            .await
            .unwrap_err();
        assert!(e.is_access_denied(), "{setup:?}: {e:?}");
    }
}

#[tokio::test]
async fn faults_reads_retry_writes_do_not() {
    for setup in SETUPS {
        let (fake, odoo) = start(setup).await;
        odoo.session().await.unwrap();
        let h = odoo.model_named::<Value>("res.partner");
        fake.fail_next(2);
        assert!(
            h.search_count(Domain::new()).await.unwrap() > 0,
            "{setup:?}: a read survives two 502s"
        );
        let before = fake.count("res.partner");
        fake.fail_next(1);
        let e = h
            .create(&Values::new().set("name", "Not retried"))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(502), "{setup:?}");
        assert_eq!(
            fake.count("res.partner"),
            before,
            "the 502 executed nothing"
        );
        // Committed but the reply was lost: the client reports it and does not create twice.
        fake.drop_reply_after_commit(1);
        let e = h
            .create(&Values::new().set("name", "Lost reply"))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Transport { sent: true, .. }),
            "{setup:?}: {e:?}"
        );
        assert_eq!(
            fake.count_where("res.partner", json!([["name", "=", "Lost reply"]])),
            1
        );
        // 429 with Retry-After on a read.
        fake.fail_next_with(1, 429, Some(0));
        assert!(h.search_count(Domain::new()).await.is_ok());
    }
}
