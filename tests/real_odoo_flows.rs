//! The contract-to-cash flows end to end on a real Odoo (`ODOO_URL`, see `tests/real_odoo`), in
//! each demo company and in a EUR company of the run's own: won deals become EUR orders through
//! a pricelist of the company, approved time becomes posted EUR invoices, a bank statement pays
//! one invoice in full and one in part, and every record belongs to the company whichever company
//! the API user is in. A second run with a fresh state store changes nothing in Odoo, and a
//! second setup plan is empty. The same scenario on FakeOdoo gives the same record counts,
//! currencies and states.
//!
//! Each test works on data of its own (deal, client, employee and company names carry a tag
//! unique to the run), so the tests neither depend on their order nor on a reset.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use odoo_connect::canonical::Currency;
use odoo_connect::flows::{FlowMessage, Flows, Setup};
use odoo_connect::odoo::{Context, Domain, OdooClient, Protocol};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

/// A scenario of its own: three won deals of two clients, the approved time of their projects
/// by employees of its own, in `company`.
struct Scenario {
    /// The contracts' currency.
    currency: Currency,
    deals: Vec<fake_hubspot::Deal>,
    csv: String,
    employees: Vec<String>,
    deal_ids: Vec<String>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Numbers unique to this run, for CRM ids (HubSpot ids are digits).
fn unique_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default();
    base * 100 + NEXT.fetch_add(1, Ordering::Relaxed) % 100
}

fn scenario() -> Scenario {
    let n = unique_number();
    let mut deals = fake_hubspot::sample_deals();
    let mut deal_ids = Vec::new();
    let mut company_ids = BTreeMap::new();
    for (i, d) in deals.iter_mut().enumerate() {
        d.id = leak(format!("{n}{i}"));
        deal_ids.push(d.id.to_owned());
        let next = company_ids.len();
        let cid = *company_ids
            .entry(d.company.id)
            .or_insert_with(|| leak(format!("{n}{}", 5 + next)));
        d.company.id = cid;
        d.company.name = leak(format!("{} {n}", d.company.name));
    }
    let employees: Vec<String> = [
        "abigail.peterson39",
        "keith.byrd52",
        "walter.horton80",
        "jennie.fletcher76",
    ]
    .iter()
    .map(|e| format!("{e}.{n}@example.com"))
    .collect();
    let mut csv = flows_setup::APPROVED_TIME_CSV.to_owned();
    for (i, old) in ["1001", "1002", "1003"].iter().enumerate() {
        csv = csv.replace(
            &format!("prj-hubspot-deal-{old}"),
            &format!("prj-hubspot-deal-{}", deal_ids[i]),
        );
    }
    for (e, new) in [
        "abigail.peterson39",
        "keith.byrd52",
        "walter.horton80",
        "jennie.fletcher76",
    ]
    .iter()
    .zip(&employees)
    {
        csv = csv.replace(&format!("{e}@example.com"), new);
    }
    csv = csv.replace("T-100", &format!("T-{n}-"));
    Scenario {
        currency: Currency::EUR,
        deals,
        csv,
        employees,
        deal_ids,
    }
}

/// What a run left in Odoo, read back from Odoo.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    /// Per model, how many records of the scenario.
    counts: BTreeMap<&'static str, usize>,
    /// Orders: (company, currency, state).
    orders: Vec<(i64, String, String)>,
    /// Invoices: (company, currency, state, payment state).
    invoices: Vec<(i64, String, String, String)>,
    /// Dead letters and holds of the run: (class, reason).
    parked: Vec<(String, String)>,
    /// The latest write to any record of the scenario.
    last_write: String,
}

fn many2one_id(v: &Value) -> i64 {
    v.get(0).and_then(Value::as_i64).unwrap_or(0)
}

fn many2one_name(v: &Value) -> String {
    v.get(1).and_then(Value::as_str).unwrap_or("").to_owned()
}

async fn search(odoo: &OdooClient, model: &str, domain: Domain, fields: &[&str]) -> Vec<Value> {
    let mut f: Vec<&str> = fields.to_vec();
    f.push("write_date");
    odoo.model_named::<Value>(model)
        .search_read(domain)
        .fields(f)
        .order("id")
        .context(Context::new().active_test(false))
        .await
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// Reads back what the scenario made, in `odoo`'s company.
async fn outcome(odoo: &OdooClient, sc: &Scenario, parked: Vec<(String, String)>) -> Outcome {
    let origins: Vec<String> = sc
        .deal_ids
        .iter()
        .map(|d| format!("hubspot-deal-{d}"))
        .collect();
    let orders = search(
        odoo,
        "sale.order",
        Domain::new().is_in("origin", origins.clone()),
        &["name", "company_id", "currency_id", "state"],
    )
    .await;
    let order_ids: Vec<i64> = orders.iter().filter_map(|o| o["id"].as_i64()).collect();
    let names: Vec<String> = orders
        .iter()
        .filter_map(|o| o["name"].as_str().map(str::to_owned))
        .collect();
    let lines = search(
        odoo,
        "sale.order.line",
        Domain::new().is_in("order_id", order_ids.clone()),
        &["id"],
    )
    .await;
    let projects = search(
        odoo,
        "project.project",
        Domain::new().is_in("sale_order_id", order_ids.clone()),
        &["id"],
    )
    .await;
    let project_ids: Vec<i64> = projects.iter().filter_map(|p| p["id"].as_i64()).collect();
    let milestones = search(
        odoo,
        "project.milestone",
        Domain::new().is_in("project_id", project_ids.clone()),
        &["id"],
    )
    .await;
    let timesheets = search(
        odoo,
        "account.analytic.line",
        Domain::new().is_in("project_id", project_ids.clone()),
        &["id"],
    )
    .await;
    let invoices = search(
        odoo,
        "account.move",
        Domain::new()
            .is_in("invoice_origin", names)
            .eq("move_type", "out_invoice"),
        &[
            "name",
            "company_id",
            "currency_id",
            "state",
            "payment_state",
        ],
    )
    .await;
    let invoice_names: Vec<String> = invoices
        .iter()
        .filter_map(|m| m["name"].as_str().map(str::to_owned))
        .collect();
    let payments = search(
        odoo,
        "account.payment",
        Domain::new().is_in("memo", invoice_names),
        &["id"],
    )
    .await;
    let partners = search(
        odoo,
        "res.partner",
        Domain::new().is_in(
            "name",
            sc.deals
                .iter()
                .map(|d| d.company.name.to_owned())
                .collect::<Vec<_>>(),
        ),
        &["id"],
    )
    .await;
    let mut last_write = String::new();
    let mut counts = BTreeMap::new();
    for (model, rows) in [
        ("res.partner", &partners),
        ("sale.order", &orders),
        ("sale.order.line", &lines),
        ("project.project", &projects),
        ("project.milestone", &milestones),
        ("account.analytic.line", &timesheets),
        ("account.move", &invoices),
        ("account.payment", &payments),
    ] {
        counts.insert(model, rows.len());
        for r in rows.iter() {
            if let Some(w) = r["write_date"].as_str()
                && w > last_write.as_str()
            {
                last_write = w.to_owned();
            }
        }
    }
    let mut orders: Vec<(i64, String, String)> = orders
        .iter()
        .map(|o| {
            (
                many2one_id(&o["company_id"]),
                many2one_name(&o["currency_id"]),
                o["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    orders.sort();
    let mut invoices: Vec<(i64, String, String, String)> = invoices
        .iter()
        .map(|m| {
            (
                many2one_id(&m["company_id"]),
                many2one_name(&m["currency_id"]),
                m["state"].as_str().unwrap_or("").to_owned(),
                m["payment_state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    invoices.sort();
    Outcome {
        counts,
        orders,
        invoices,
        parked,
        last_write,
    }
}

async fn drain(p: &Pipeline<MemoryStore>) {
    flows_setup::drain(p, Duration::from_secs(300))
        .await
        .expect("drain");
}

/// Runs the whole scenario once (a fresh state store) against `odoo` in `company`; returns the
/// flows and what the run parked.
async fn run_once(
    odoo: &OdooClient,
    company: Option<i64>,
    hub_url: &str,
    sc: &Scenario,
) -> (Flows, Vec<(String, String)>) {
    let mut setup = Setup::new("firm-eu".parse().unwrap()).currency(sc.currency);
    if let Some(c) = company {
        setup = setup.company(c);
    }
    let settings = setup.apply(odoo).await.expect("setup");
    let plan = setup.plan(odoo).await.expect("plan");
    assert!(
        plan.is_noop(),
        "a second plan after apply is empty:\n{plan}"
    );
    let flows = Flows::connect(odoo.clone(), settings)
        .await
        .expect("connect");
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);

    let deals = flows_setup::won_deals(hub_url, fake_hubspot::TOKEN)
        .await
        .expect("deals");
    assert_eq!(deals.len(), 3);
    assert!(deals.iter().all(|d| d.contract.currency == sc.currency));
    let env: Vec<_> = deals
        .iter()
        .map(|d| flows.deal_envelope(d).unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(&p).await;

    let (entries, rejected, _) = flows_setup::read_time_csv(&sc.csv).unwrap();
    for r in &rejected {
        flows.park_rejected(store.as_ref(), "psa", r).await.unwrap();
    }
    let env: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(&p).await;
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    drain(&p).await;

    // The statement: the first contract's invoice paid in full, the second's half, and a
    // credit nobody can be matched to.
    let xml = flows_setup::sample_statement(&flows).await.unwrap();
    let (payments, _) = flows_setup::statement_payments(&flows, &xml).await.unwrap();
    let (payments, _) = flows_setup::split_registered(&flows, payments)
        .await
        .unwrap();
    let env: Vec<_> = payments
        .iter()
        .map(|(pay, c)| flows.payment_envelope(pay, c.as_ref(), "bank").unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(&p).await;

    let parked = store
        .list_dead_letters(&DeadLetterFilter::all().parked_between(started, chrono::Utc::now()))
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            let class = match d.failure.class {
                FailureClass::Business => "business",
                _ => "technical",
            };
            // A row the source could not read is parked as it is; a step's hold or failure by
            // its reason's code, without the detail after it.
            let code = match d
                .envelope
                .clone()
                .decode::<FlowMessage>()
                .map(|e| e.payload)
            {
                Ok(FlowMessage::Rejected { .. }) => "unreadable_row",
                _ => d.failure.reason.split(':').next().unwrap_or_default(),
            };
            (class.to_owned(), code.to_owned())
        })
        .collect();
    (flows, parked)
}

/// Employees of the scenario in `company`, so that its time can be recorded there.
async fn employees(odoo: &OdooClient, company: i64, sc: &Scenario) {
    let rows: Vec<Value> = sc
        .employees
        .iter()
        .map(|mail| json!({"name": mail.split('@').next().unwrap_or(mail), "work_email": mail, "company_id": company}))
        .collect();
    let _: Value = odoo
        .call(
            &odoo_connect::odoo::OdooCall::new("hr.employee", "create")
                .arg("vals_list", Value::Array(rows)),
        )
        .await
        .expect("employees");
}

/// The whole scenario in `company`, twice; checks the first run and that the second changed
/// nothing. Returns the first run's outcome.
async fn scenario_in_company(odoo: &OdooClient, company: i64) -> Outcome {
    scenario_in(odoo, company, scenario()).await
}

async fn scenario_in(odoo: &OdooClient, company: i64, sc: Scenario) -> Outcome {
    let cur = sc.currency.to_string();
    let scoped = odoo.with_company(company);
    employees(&scoped, company, &sc).await;
    let hub = fake_hubspot::FakeHubSpot::start(&sc.deals).await;
    let (flows, parked) = run_once(odoo, Some(company), &hub.uri(), &sc).await;
    assert_eq!(flows.odoo().company(), Some(company));
    let first = outcome(&scoped, &sc, parked).await;
    assert_eq!(
        first.orders,
        vec![(company, cur.clone(), "sale".into()); 3],
        "{cur} orders, confirmed, in company {company}: {first:#?}"
    );
    assert_eq!(first.invoices.len(), 3, "{first:#?}");
    for inv in &first.invoices {
        assert_eq!(
            (inv.0, inv.1.as_str(), inv.2.as_str()),
            (company, cur.as_str(), "posted"),
            "{first:#?}"
        );
    }
    let states: Vec<&str> = first.invoices.iter().map(|i| i.3.as_str()).collect();
    assert!(
        states
            .iter()
            .filter(|s| matches!(**s, "paid" | "in_payment"))
            .count()
            == 1
            && states.contains(&"partial")
            && states.contains(&"not_paid"),
        "one invoice paid, one partly, one not: {states:?}"
    );
    // Nothing but the business holds the scenario expects: the hours over the cap and the
    // credit nobody can be matched to; the unreadable row is a technical dead letter.
    let mut parked = first.parked.clone();
    parked.sort();
    assert_eq!(
        parked,
        vec![
            ("business".to_owned(), "cap_reached".to_owned()),
            ("business".to_owned(), "unmatched_payment".to_owned()),
            ("technical".to_owned(), "unreadable_row".to_owned()),
        ],
        "{first:#?}"
    );
    // Again, with a state store that knows nothing: Odoo's records are found, none is written.
    let (_, parked) = run_once(odoo, Some(company), &hub.uri(), &sc).await;
    let second = outcome(&scoped, &sc, parked).await;
    assert_eq!(second.counts, first.counts);
    assert_eq!(second.orders, first.orders);
    assert_eq!(second.invoices, first.invoices);
    assert_eq!(
        second.last_write, first.last_write,
        "the second run wrote to Odoo"
    );
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn flows_in_your_company_give_eur_orders_invoices_and_payments_once() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    scenario_in_company(&real.admin(Protocol::Auto), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn flows_in_my_us_company_stay_in_it_although_the_user_is_in_another() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    let odoo = real.admin(Protocol::Auto);
    // The admin's current company is YourCompany (1); the flows work in My US Company (2).
    let me: Vec<Value> = odoo
        .model_named::<Value>("res.users")
        .read([odoo_connect::odoo::RecordId(odoo.uid().await.unwrap())])
        .fields(["company_id"])
        .await
        .unwrap();
    assert_eq!(many2one_id(&me[0]["company_id"]), 1);
    scenario_in_company(&odoo, 2).await;
}

/// A company of the run's own in EUR, with Odoo's generic chart of accounts (journals,
/// accounts, taxes); the API user is added to it as its creator.
async fn eur_company(odoo: &OdooClient) -> i64 {
    let eur: Vec<Value> = odoo
        .model_named::<Value>("res.currency")
        .search_read(Domain::new().eq("name", "EUR"))
        .fields(["id", "active"])
        .context(Context::new().active_test(false))
        .await
        .unwrap();
    let eur_id = eur[0]["id"].as_i64().unwrap();
    odoo.model_named::<Value>("res.currency")
        .write(
            &[odoo_connect::odoo::RecordId(eur_id)],
            &json!({"active": true}),
        )
        .await
        .unwrap();
    let name = format!("EU Firm {}", unique_number());
    let created: Value = odoo
        .call(
            &odoo_connect::odoo::OdooCall::new("res.company", "create")
                .arg("vals_list", json!([{"name": name, "currency_id": eur_id}])),
        )
        .await
        .unwrap();
    let company = created[0].as_i64().unwrap();
    let _: Value = odoo
        .call(
            &odoo_connect::odoo::OdooCall::new("account.chart.template", "try_loading")
                .arg("template_code", "generic_coa")
                .arg("company", company),
        )
        .await
        .unwrap();
    // The generic chart is the USD one: the company goes back to EUR (it has no entries yet).
    odoo.model_named::<Value>("res.company")
        .write(
            &[odoo_connect::odoo::RecordId(company)],
            &json!({"currency_id": eur_id}),
        )
        .await
        .unwrap();
    let read: Vec<Value> = odoo
        .model_named::<Value>("res.company")
        .read([odoo_connect::odoo::RecordId(company)])
        .fields(["currency_id"])
        .await
        .unwrap();
    assert_eq!(many2one_name(&read[0]["currency_id"]), "EUR");
    company
}

/// The companies this run makes for itself, made once before any scenario starts: Odoo caches
/// a user's companies for the whole server, so a company created while another test works could
/// be named to it before it is committed (`MissingError` on `res.company`).
#[derive(Clone, Copy)]
struct OwnCompanies {
    /// A EUR company.
    eur: i64,
    /// A EUR company with USD rates of its own: 1.10 in 2025, 1.25 from 2026.
    with_rates: i64,
}

async fn own_companies(odoo: &OdooClient) -> OwnCompanies {
    static OWN: tokio::sync::OnceCell<OwnCompanies> = tokio::sync::OnceCell::const_new();
    *OWN.get_or_init(|| async {
        let eur = eur_company(odoo).await;
        let company = eur_company(odoo).await;
    let usd: Vec<Value> = odoo
            .model_named::<Value>("res.currency")
            .search_read(Domain::new().eq("name", "USD"))
            .fields(["id"])
            .await
            .unwrap();
        let usd_id = usd[0]["id"].as_i64().unwrap();
        // USD per EUR in this company: 1.10 when the bank paid (2025), 1.25 when invoiced (today).
        let _: Value = odoo
            .with_company(company)
            .call(
                &odoo_connect::odoo::OdooCall::new("res.currency.rate", "create").arg(
                    "vals_list",
                    json!([
                        {"name": "2025-01-01", "rate": 1.10, "currency_id": usd_id, "company_id": company},
                        {"name": "2026-01-01", "rate": 1.25, "currency_id": usd_id, "company_id": company},
                    ]),
                ),
            )
            .await
            .unwrap();
        OwnCompanies {
            eur,
            with_rates: company,
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn flows_in_a_eur_company_of_its_own() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    let odoo = real.admin(Protocol::Auto);
    let company = own_companies(&odoo).await.eur;
    // EUR orders, invoices and payments of the company (asserted in the scenario); in a EUR
    // company they need no pricelist of their own.
    scenario_in_company(&odoo, company).await;
}

/// USD contracts of a EUR company, paid in USD on a day the rate differs from the invoice's:
/// the payment is registered in USD for the USD amount, and the difference in euros is Odoo's
/// own exchange difference entry, not a conversion of ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_payment_at_another_rate_leaves_the_exchange_difference_to_odoo() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    let odoo = real.admin(Protocol::Auto);
    let company = own_companies(&odoo).await.with_rates;
    let mut sc = scenario();
    sc.currency = Currency::USD;
    for d in &mut sc.deals {
        d.currency = "USD";
    }
    scenario_in(&odoo, company, sc).await;
    let journal: Vec<Value> = odoo
        .model_named::<Value>("res.company")
        .read([odoo_connect::odoo::RecordId(company)])
        .fields(["currency_exchange_journal_id"])
        .await
        .unwrap();
    let journal = many2one_id(&journal[0]["currency_exchange_journal_id"]);
    let exchange: Vec<Value> = odoo
        .with_company(company)
        .model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .eq("journal_id", journal)
                .eq("state", "posted")
                .eq("company_id", company),
        )
        .fields(["name", "amount_total"])
        .await
        .unwrap();
    // One per reconciliation at another rate (the payment in full and the part payment).
    assert!(
        !exchange.is_empty(),
        "Odoo booked the exchange difference: {exchange:?}"
    );
}

/// The same scenario on FakeOdoo (a fresh demo database) and on the real server gives the same
/// counts, currencies and states.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn the_fake_and_the_real_server_agree_on_the_scenario() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    let on_real = scenario_in_company(&real.admin(Protocol::Auto), 1).await;
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let on_fake = scenario_in_company(&odoo, 1).await;
    assert_eq!(on_fake.counts, on_real.counts, "records per model");
    assert_eq!(on_fake.orders, on_real.orders, "orders");
    assert_eq!(on_fake.invoices, on_real.invoices, "invoices");
    assert_eq!(on_fake.parked, on_real.parked, "dead letters and holds");
}

/// A client that two legal entities sell to (one CRM company, deals booked by each): a partner
/// in each entity's company, and each entity's orders with its own partner, not a company
/// crossover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_client_of_two_legal_entities_has_a_partner_in_each_company() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    // Before any scenario: the run's own companies.
    own_companies(&real.admin(Protocol::Auto)).await;
    let odoo = real.admin(Protocol::Auto);
    let first = scenario();
    let hub = fake_hubspot::FakeHubSpot::start(&first.deals).await;
    employees(&odoo.with_company(1), 1, &first).await;
    run_once(&odoo, Some(1), &hub.uri(), &first).await;
    // The same clients, new deals, booked by the US entity in My US Company.
    let mut second = scenario();
    for (d, same) in second.deals.iter_mut().zip(&first.deals) {
        d.company = same.company.clone();
    }
    let hub = fake_hubspot::FakeHubSpot::start(&second.deals).await;
    let entity: odoo_connect::canonical::LegalEntityKey = "firm-us".parse().unwrap();
    let settings = Setup::new(entity.clone())
        .company(2)
        .currency(Currency::EUR)
        .apply(&odoo)
        .await
        .unwrap();
    let flows = Flows::connect(odoo.clone(), settings).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    let mut deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    for d in &mut deals {
        d.client.legal_entity = entity.clone();
        d.contract.legal_entity = entity.clone();
    }
    let env: Vec<_> = deals
        .iter()
        .map(|d| flows.deal_envelope(d).unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(&p).await;
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "{:?}",
        dead.iter().map(|d| &d.failure).collect::<Vec<_>>()
    );
    let names: Vec<String> = first
        .deals
        .iter()
        .map(|d| d.company.name.to_owned())
        .collect();
    let all = odoo.with_context(Context::new().allowed_company_ids([1, 2]));
    let partners = search(
        &all,
        "res.partner",
        Domain::new().is_in("name", names).eq("is_company", true),
        &["company_id"],
    )
    .await;
    let mut companies: Vec<i64> = partners
        .iter()
        .map(|p| many2one_id(&p["company_id"]))
        .collect();
    companies.sort();
    assert_eq!(
        companies,
        vec![1, 1, 2, 2],
        "a partner per client and company"
    );
    let orders = search(
        &all,
        "sale.order",
        Domain::new().is_in(
            "origin",
            second
                .deal_ids
                .iter()
                .map(|d| format!("hubspot-deal-{d}"))
                .collect::<Vec<_>>(),
        ),
        &["company_id", "partner_id"],
    )
    .await;
    assert_eq!(orders.len(), 3);
    for o in &orders {
        assert_eq!(many2one_id(&o["company_id"]), 2);
        let partner = many2one_id(&o["partner_id"]);
        let p = partners.iter().find(|p| p["id"].as_i64() == Some(partner));
        assert_eq!(p.map(|p| many2one_id(&p["company_id"])), Some(2), "{o}");
    }
}

/// A DocuSign completion sent from DocuSign for HubSpot (the deal, nothing of the client),
/// signed with `key`.
fn crm_only_completion(
    key: &str,
    deal: &str,
    envelope: &str,
    completed: chrono::DateTime<chrono::Utc>,
) -> (Vec<u8>, String) {
    let body = json!({
        "event": "envelope-completed",
        "apiVersion": "v2.1",
        "uri": format!("/restapi/v2.1/accounts/acc-1/envelopes/{envelope}"),
        "retryCount": 0,
        "configurationId": 501,
        "generatedDateTime": chrono::Utc::now().to_rfc3339(),
        "data": {
            "accountId": "acc-1",
            "envelopeId": envelope,
            "envelopeSummary": {
                "status": "completed",
                "completedDateTime": completed.to_rfc3339(),
                "customFields": {"textCustomFields": [
                    {"name": "crm_system", "value": "hubspot"},
                    {"name": "crm_opportunity_id", "value": deal}
                ], "listCustomFields": []}
            }
        }
    })
    .to_string()
    .into_bytes();
    let signature =
        odoo_connect::connector::esign_webhook::sign_docusign(&key.to_owned().into(), &body);
    (body, signature)
}

/// One signature, through the webhook's router into `store`'s queue, then the pipeline.
async fn sign_and_run(
    flows: &Flows,
    store: &Arc<MemoryStore>,
    body: Vec<u8>,
    signature: String,
) -> Vec<(String, String)> {
    use odoo_connect::connector::esign_webhook::{EsignWebhook, axum, tower::ServiceExt};
    let webhook = EsignWebhook::docusign("whsec-real-odoo").build().unwrap();
    let app = webhook.router(odoo_connect::flows::QueueDeliver::new(
        flows.clone(),
        store.clone(),
    ));
    let request = axum::http::Request::post("/")
        .header("x-docusign-signature-1", signature)
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = app.oneshot(request).await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    drain(&flows_setup::pipeline(flows, store.clone())).await;
    store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.failure.reason.clone(), format!("{:?}", d.failure.context)))
        .collect()
}

/// A completed envelope that names only the HubSpot deal books the contract on the real Odoo
/// from HubSpot's deal and company (read through the connector's lookup); a second envelope of
/// the same deal is linked to it; and a second run with a state store that knows nothing books
/// nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_signature_naming_only_the_crm_deal_books_it_from_the_crm_record() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    let sc = scenario();
    let hub = fake_hubspot::FakeHubSpot::start(&sc.deals).await;
    let deal = &sc.deals[0];
    let settings = Setup::new("firm-eu".parse().unwrap())
        .company(1)
        .currency(sc.currency)
        .apply(&odoo)
        .await
        .expect("setup");
    let connect = || async {
        let hubspot = odoo_connect::connector::hubspot::HubSpot::builder(fake_hubspot::TOKEN)
            .base_url(hub.uri())
            .legal_entity("firm-eu".parse().unwrap())
            .build()
            .unwrap();
        Flows::connect(odoo.clone(), settings.clone())
            .await
            .expect("connect")
            .with_crm_lookup(Arc::new(hubspot), flows_setup::terms)
    };
    let flows = connect().await;
    let store = Arc::new(MemoryStore::new());
    let completed = chrono::Utc::now() - chrono::Duration::days(2);
    let key = "whsec-real-odoo";
    let origin = format!("hubspot-deal-{}", deal.id);
    let scoped = odoo.with_company(1);
    let orders_of = |fields: &'static [&'static str]| {
        let scoped = scoped.clone();
        let origin = origin.clone();
        async move {
            search(
                &scoped,
                "sale.order",
                Domain::new().eq("origin", origin),
                fields,
            )
            .await
        }
    };

    let (body, signature) =
        crm_only_completion(key, deal.id, &format!("env-{}", deal.id), completed);
    let parked = sign_and_run(&flows, &store, body, signature).await;
    assert!(parked.is_empty(), "{parked:?}");
    let orders = orders_of(&["state", "company_id", "partner_id", "currency_id"]).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order = &orders[0];
    assert_eq!(order["state"], "sale");
    assert_eq!(many2one_id(&order["company_id"]), 1);
    assert_eq!(many2one_name(&order["currency_id"]), "EUR");
    // The customer is HubSpot's company of the deal, read from the CRM.
    assert_eq!(many2one_name(&order["partner_id"]), deal.company.name);
    // Signed on the envelope's completion day (in the booking: Odoo's confirmation sets the
    // order's `date_order` to the time of confirmation, `_prepare_confirmation_values`).
    let crm = odoo_connect::canonical::ExternalRef::new("hubspot", deal.id);
    let booked = flows.book().by_crm(&crm).expect("booked from the CRM deal");
    assert_eq!(booked.contract.signed_on, Some(completed.date_naive()));
    assert_eq!(booked.order_id.get(), order["id"].as_i64().unwrap());
    let projects = search(
        &scoped,
        "project.project",
        Domain::new().eq("sale_order_id", order["id"].as_i64().unwrap()),
        &["id"],
    )
    .await;
    assert_eq!(projects.len(), 1);

    // Another envelope of the same deal: linked, nothing new in Odoo.
    let (body, signature) =
        crm_only_completion(key, deal.id, &format!("env-{}-b", deal.id), completed);
    assert!(
        sign_and_run(&flows, &store, body, signature)
            .await
            .is_empty()
    );
    assert_eq!(orders_of(&["id"]).await.len(), 1);

    // Again from nothing (a new process, a fresh store): Odoo's records are found, not doubled.
    let again = connect().await;
    let fresh = Arc::new(MemoryStore::new());
    let (body, signature) =
        crm_only_completion(key, deal.id, &format!("env-{}", deal.id), completed);
    assert!(
        sign_and_run(&again, &fresh, body, signature)
            .await
            .is_empty()
    );
    assert_eq!(orders_of(&["id"]).await.len(), 1);
    let partners = search(
        &scoped,
        "res.partner",
        Domain::new()
            .eq("name", deal.company.name)
            .eq("is_company", true),
        &["id"],
    )
    .await;
    assert_eq!(partners.len(), 1, "{partners:?}");
}
