//! The contract-to-cash flows on an Odoo that holds Odoo's demo data and nothing of ours, as a
//! freshly installed database does: `Setup` finds or creates what the flows need, Odoo's own
//! automation makes the projects, milestones and tasks and the invoices, and a second run of
//! everything creates nothing. The same run on the testkit's richer seed, and on Odoo 18 and 17,
//! gives the same counts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use odoo_connect::canonical::{BillingKind, Currency};
use odoo_connect::flows::{FlowError, Flows, PlanAction, Setup};
use odoo_connect::odoo::OdooClient;
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::JsonEnvelope;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

/// The models whose records the flows create.
const MODELS: &[&str] = &[
    "res.partner",
    "sale.order",
    "sale.order.line",
    "project.project",
    "project.task",
    "project.milestone",
    "account.analytic.line",
    "account.move",
    "account.payment",
    "product.product",
    "product.pricelist",
];

fn counts(fake: &FakeOdoo) -> BTreeMap<&'static str, usize> {
    MODELS.iter().map(|m| (*m, fake.count(m))).collect()
}

fn delta(
    after: &BTreeMap<&'static str, usize>,
    before: &BTreeMap<&'static str, usize>,
) -> BTreeMap<&'static str, usize> {
    after
        .iter()
        .map(|(m, n)| (*m, n - before.get(m).copied().unwrap_or(0)))
        .collect()
}

fn client(fake: &FakeOdoo) -> OdooClient {
    flows_setup::odoo_connect_client(fake).unwrap()
}

async fn drain(p: &Pipeline<MemoryStore>) {
    flows_setup::drain(p, Duration::from_secs(30))
        .await
        .unwrap();
}

/// Every message of one contract-to-cash run: the won deals, the approved time, the month's
/// release and, once the invoices are posted, a statement paying each in full.
struct Run {
    deals: Vec<JsonEnvelope>,
    time: Vec<JsonEnvelope>,
    release: Vec<JsonEnvelope>,
    payments: Vec<JsonEnvelope>,
}

async fn run_everything(
    flows: &Flows,
    p: &Pipeline<MemoryStore>,
    store: &MemoryStore,
    hub: &str,
) -> Run {
    let deals = flows_setup::won_deals(hub, fake_hubspot::TOKEN)
        .await
        .unwrap();
    let deals: Vec<JsonEnvelope> = deals
        .iter()
        .map(|d| flows.deal_envelope(d).unwrap())
        .collect();
    p.submit_batch(&deals).await.unwrap();
    drain(p).await;

    let (entries, rejected, _) =
        flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    for r in &rejected {
        flows.park_rejected(store, "psa", r).await.unwrap();
    }
    let time: Vec<JsonEnvelope> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&time).await.unwrap();
    drain(p).await;

    let release: Vec<JsonEnvelope> = flows
        .book()
        .all()
        .iter()
        .map(|b| flows.release_envelope(&b.contract.key, "2025-03").unwrap())
        .collect();
    p.submit_batch(&release).await.unwrap();
    drain(p).await;

    let open = flows.open_invoices().await.unwrap();
    let credits: Vec<(String, String, String, String)> = open
        .iter()
        .enumerate()
        .map(|(i, inv)| {
            (
                format!("BNK-{}", i + 1),
                inv.amount_due.amount.to_string(),
                inv.currency.to_string(),
                inv.number.clone().unwrap_or_default(),
            )
        })
        .collect();
    let xml = flows_setup::camt053(&credits);
    let (payments, _) = flows_setup::statement_payments(flows, &xml).await.unwrap();
    let payments: Vec<JsonEnvelope> = payments
        .iter()
        .map(|(pay, c)| flows.payment_envelope(pay, c.as_ref(), "bank").unwrap())
        .collect();
    p.submit_batch(&payments).await.unwrap();
    drain(p).await;
    Run {
        deals,
        time,
        release,
        payments,
    }
}

/// The whole run on `fake`, checked; returns what it created.
async fn contract_to_cash(fake: &FakeOdoo) -> BTreeMap<&'static str, usize> {
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let odoo = client(fake);
    let setup = flows_setup::setup().unwrap();
    let settings = setup.apply(&odoo).await.unwrap();
    // Running the setup again changes nothing.
    let again = setup.plan(&odoo).await.unwrap();
    assert!(again.is_noop(), "{again}");
    assert!(again.is_ready(), "{again}");

    let flows = Flows::connect(odoo, settings).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    let before = counts(fake);
    let run = run_everything(&flows, &p, &store, &hub.uri()).await;
    let made = delta(&counts(fake), &before);

    let booked = flows.book().all();
    let letters = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    let reasons: Vec<&str> = letters.iter().map(|l| l.failure.reason.as_str()).collect();
    assert_eq!(booked.len(), 3, "dead letters: {reasons:#?}");
    for b in &booked {
        // Odoo's sale_project made the project on confirmation: one per order, one milestone per
        // contract milestone, linked to its order line.
        let milestones = fake.count_where(
            "project.milestone",
            json!([["project_id", "=", b.project_id.get()]]),
        );
        let wanted: usize = b
            .contract
            .billing_lines
            .iter()
            .map(|l| l.milestones().len())
            .sum();
        assert_eq!(milestones, wanted, "{}", b.contract.key);
        assert_eq!(
            fake.count_where(
                "project.project",
                json!([["sale_order_id", "=", b.order_id.get()]])
            ),
            1
        );
        // One invoice per release, made from the order and posted, then paid exactly once.
        let invoices: Vec<Value> = fake
            .records("account.move")
            .into_iter()
            .filter(|m| {
                m["invoice_origin"] == json!(b.order_name) && m["move_type"] == "out_invoice"
            })
            .collect();
        assert_eq!(invoices.len(), 1, "{}: {invoices:?}", b.contract.key);
        assert_eq!(invoices[0]["state"], "posted");
        assert!(
            matches!(
                invoices[0]["payment_state"].as_str(),
                Some("paid" | "in_payment")
            ),
            "{}; dead letters: {reasons:#?}",
            invoices[0]
        );
        // The invoice is in the contract's currency, through the order's pricelist.
        let currency = &invoices[0]["currency_id"];
        let eur = fake
            .records("res.currency")
            .into_iter()
            .find(|c| c["name"] == "EUR")
            .unwrap()["id"]
            .clone();
        assert_eq!(currency, &eur);
    }
    // Three orders, three projects, six milestones, one payment per invoice.
    assert_eq!(made["sale.order"], 3, "{made:?}");
    assert_eq!(made["project.project"], 3, "{made:?}");
    assert_eq!(made["project.milestone"], 6, "{made:?}");
    assert_eq!(
        made["account.payment"], 3,
        "one payment per invoice: {made:?}"
    );
    let held = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Business))
        .await
        .unwrap();
    assert_eq!(
        held.len(),
        1,
        "only the time over the cap is held: {held:?}"
    );

    // Every message again, as a scheduler or a replay would send it: nothing new in Odoo.
    let after_first = counts(fake);
    for batch in [&run.deals, &run.time, &run.release, &run.payments] {
        let replay: Vec<JsonEnvelope> = batch.iter().map(|e| e.for_replay()).collect();
        p.submit_batch(&replay).await.unwrap();
        drain(&p).await;
    }
    assert_eq!(counts(fake), after_first, "a second run created something");
    made
}

#[tokio::test]
async fn every_flow_runs_on_odoo_demo_data_alone_and_creates_nothing_twice() {
    let demo = FakeOdoo::builder().demo_data_only().start().await;
    // Nothing of ours in the catalogue.
    assert_eq!(
        demo.count_where(
            "product.product",
            json!([["default_code", "=like", "PS-%"]])
        ),
        0
    );
    let plan = flows_setup::setup()
        .unwrap()
        .plan(&client(&demo))
        .await
        .unwrap();
    assert!(plan.is_ready(), "{plan}");
    let created: Vec<String> = plan
        .changes()
        .filter_map(|i| match &i.action {
            PlanAction::Create { external_id, .. } => Some(external_id.clone()),
            _ => None,
        })
        .collect();
    for xmlid in [
        "odoo_connect.product_fixed_fee_milestones",
        "odoo_connect.product_time_and_materials",
        "odoo_connect.pricelist_eur_company_1",
    ] {
        assert!(created.iter().any(|c| c == xmlid), "{xmlid}: {plan}");
    }
    let on_demo = contract_to_cash(&demo).await;
    // The products the setup made are tracked the way the flows need.
    let mil = demo
        .records("product.product")
        .into_iter()
        .find(|p| p["default_code"] == "PS-MIL")
        .unwrap();
    let mil = demo
        .record("product.template", mil["product_tmpl_id"].as_i64().unwrap())
        .unwrap_or(mil);
    assert_eq!(mil["service_tracking"], "project_only", "{mil}");

    // The same run on the richer seed creates the same business records.
    let seeded = FakeOdoo::start().await;
    let on_seed = contract_to_cash(&seeded).await;
    for model in [
        "res.partner",
        "sale.order",
        "sale.order.line",
        "project.project",
        "project.milestone",
        "account.analytic.line",
        "account.move",
        "account.payment",
    ] {
        assert_eq!(on_demo[model], on_seed[model], "{model}");
    }
}

#[tokio::test]
async fn the_flows_run_the_same_on_odoo_18_and_17() {
    for version in [18, 17] {
        let fake = FakeOdoo::builder()
            .version(version)
            .database("ps18")
            .demo_data_only()
            .start()
            .await;
        let made = contract_to_cash(&fake).await;
        assert_eq!(made["project.milestone"], 6, "Odoo {version}: {made:?}");
    }
}

#[tokio::test]
async fn a_missing_module_is_named_and_nothing_is_created() {
    let fake = FakeOdoo::builder()
        .demo_data_only()
        .without_modules(&["sale_timesheet"])
        .start()
        .await;
    let products = fake.count("product.product");
    let err = flows_setup::setup()
        .unwrap()
        .apply(&client(&fake))
        .await
        .unwrap_err();
    match &err {
        FlowError::NotReady(plan) => {
            assert_eq!(plan.missing_modules, ["sale_timesheet"]);
        }
        other => panic!("expected NotReady, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("module sale_timesheet is not installed"),
        "{err}"
    );
    assert_eq!(fake.count("product.product"), products);
}

/// A company the API user does not belong to is a problem of the plan, named, not an access
/// error out of the first call made in it.
#[tokio::test]
async fn a_company_the_user_may_not_work_in_is_reported() {
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let odoo = client(&fake);
    let created: Value = odoo
        .call(
            &odoo_connect::odoo::OdooCall::new("res.company", "create")
                .arg("vals_list", json!([{"name": "Elsewhere"}])),
        )
        .await
        .unwrap();
    let other = created[0]
        .as_i64()
        .unwrap_or_else(|| created.as_i64().unwrap());
    // The administrator keeps the two demo companies only.
    let uid = odoo.uid().await.unwrap();
    odoo.model_named::<Value>("res.users")
        .write(
            &[odoo_connect::odoo::RecordId(uid)],
            &json!({"company_ids": [[6, 0, [1, 2]]], "company_id": 1}),
        )
        .await
        .unwrap();
    let plan = Setup::new("firm-x".parse().unwrap())
        .company(other)
        .plan(&odoo)
        .await
        .unwrap();
    assert!(!plan.is_ready());
    assert!(
        plan.problems
            .iter()
            .any(|p| p.contains("may not work in company Elsewhere")),
        "{plan}"
    );
}

#[tokio::test]
async fn a_catalogue_product_is_used_and_a_missing_one_is_reported() {
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let odoo = client(&fake);
    // A product of the firm's own catalogue that does not exist: reported, nothing created.
    let plan = Setup::new("firm-eu".parse().unwrap())
        .product(BillingKind::Retainer, "SRV-RET")
        .plan(&odoo)
        .await
        .unwrap();
    assert!(!plan.is_ready());
    assert!(
        plan.problems
            .iter()
            .any(|p| p.contains("`SRV-RET`") && p.contains("retainer")),
        "{plan}"
    );
    // With it in the catalogue, the setup uses it and does not create the retainer product.
    let created: Value = odoo
        .model_named::<Value>("product.product")
        .create(&json!({"name": "Retainer (ours)", "default_code": "SRV-RET", "type": "service"}))
        .await
        .map(|id| json!(id.get()))
        .unwrap();
    let settings = Setup::new("firm-eu".parse().unwrap())
        .product(BillingKind::Retainer, "SRV-RET")
        .currency(Currency::EUR)
        .apply(&odoo)
        .await
        .unwrap();
    assert!(
        settings
            .products
            .contains(&(BillingKind::Retainer, "SRV-RET".to_owned()))
    );
    assert!(created.as_i64().is_some());
    assert_eq!(
        fake.count_where("product.product", json!([["default_code", "=", "PS-SUP"]])),
        1,
        "recurring services still get the flows' own product"
    );
}
