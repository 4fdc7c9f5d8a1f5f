//! Least privilege on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): four users of the run's
//! own, each with only the groups of its path ([`FlowPath::required_groups`]), created through
//! Odoo's API, run the lead-to-project, time-to-invoice and invoice-to-cash flows; nothing needs
//! the administrator but the setup (products, pricelists, the run's employees). With its
//! invoicing group taken away, the billing user's release fails naming the path, the user and the
//! right; and the flows refuse to start when release and booking share a login.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::flows::{FlowCredentials, FlowError, FlowMessage, FlowPath, Flows, Setup};
use odoo_connect::odoo::{Context, Domain, OdooCall, OdooClient, Protocol, RecordId, RetryPolicy};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, FailureClass};
use serde_json::{Value, json};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Digits unique to the run (HubSpot ids are digits).
fn unique_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default();
    base * 100 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100
}

/// The sample deals, time and employees, renamed for this run.
struct Scenario {
    deals: Vec<fake_hubspot::Deal>,
    csv: String,
    employees: Vec<String>,
}

fn scenario() -> Scenario {
    let n = unique_number();
    let mut deals = fake_hubspot::sample_deals();
    let mut ids = Vec::new();
    let mut companies = std::collections::BTreeMap::new();
    for (i, d) in deals.iter_mut().enumerate() {
        d.id = leak(format!("{n}{i}"));
        ids.push(d.id.to_owned());
        let next = companies.len();
        d.company.id = companies
            .entry(d.company.id)
            .or_insert_with(|| leak(format!("{n}{}", 5 + next)));
        d.company.name = leak(format!("{} {n}", d.company.name));
    }
    let names = [
        "abigail.peterson39",
        "keith.byrd52",
        "walter.horton80",
        "jennie.fletcher76",
    ];
    let mut csv = flows_setup::APPROVED_TIME_CSV.to_owned();
    for (i, old) in ["1001", "1002", "1003"].iter().enumerate() {
        csv = csv.replace(
            &format!("prj-hubspot-deal-{old}"),
            &format!("prj-hubspot-deal-{}", ids[i]),
        );
    }
    let mut employees = Vec::new();
    for e in names {
        let new = format!("{e}.{n}@example.com");
        csv = csv.replace(&format!("{e}@example.com"), &new);
        employees.push(new);
    }
    csv = csv.replace("T-100", &format!("T-{n}-"));
    Scenario {
        deals,
        csv,
        employees,
    }
}

/// The id of the record of xml id `module.name`.
async fn xml_id(admin: &OdooClient, xml_id: &str) -> i64 {
    let (module, name) = xml_id.split_once('.').expect("module.name");
    let rows: Vec<Value> = admin
        .model_named::<Value>("ir.model.data")
        .search_read(Domain::new().eq("module", module).eq("name", name))
        .fields(["res_id"])
        .await
        .expect("ir.model.data");
    rows.first()
        .and_then(|r| r["res_id"].as_i64())
        .unwrap_or_else(|| panic!("no {xml_id}"))
}

/// A user of the run's own in company 1 with only `groups` (and the internal user's), logging in
/// with a password over JSON-RPC. Returns its id and a client.
async fn path_user(
    real: &real_odoo::RealOdoo,
    admin: &OdooClient,
    login: &str,
    groups: &[&str],
) -> (i64, OdooClient) {
    let mut ids = vec![xml_id(admin, "base.group_user").await];
    for g in groups {
        ids.push(xml_id(admin, g).await);
    }
    let password = format!("pw-{login}-{}", unique_number());
    let created: Value = admin
        .call(&OdooCall::new("res.users", "create").arg(
            "vals_list",
            json!([{
                "name": login, "login": login, "password": password,
                "company_id": 1, "company_ids": [[6, 0, [1]]],
                "group_ids": [[6, 0, ids]],
            }]),
        ))
        .await
        .expect("user");
    let uid = created
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_i64)
        .or_else(|| created.as_i64())
        .expect("user id");
    let client = OdooClient::builder(real.url.clone())
        .database(real.db.clone())
        .password(login, password)
        .protocol(Protocol::JsonRpc)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    (uid, client)
}

struct Users {
    booking: OdooClient,
    time: OdooClient,
    release: OdooClient,
    release_uid: i64,
    release_login: String,
    cash: OdooClient,
}

/// The login of `path`'s user in test `test` of this run.
fn login_of(path: FlowPath, test: &str) -> String {
    format!("{}-bot-{}-{test}", path.name(), real_odoo::run_tag())
}

async fn users(real: &real_odoo::RealOdoo, admin: &OdooClient, test: &str) -> Users {
    let login = |p: FlowPath| login_of(p, test);
    let (_, booking) = path_user(
        real,
        admin,
        &login(FlowPath::Booking),
        FlowPath::Booking.required_groups(),
    )
    .await;
    let (_, time) = path_user(
        real,
        admin,
        &login(FlowPath::Time),
        FlowPath::Time.required_groups(),
    )
    .await;
    let (release_uid, release) = path_user(
        real,
        admin,
        &login(FlowPath::Release),
        FlowPath::Release.required_groups(),
    )
    .await;
    let (_, cash) = path_user(
        real,
        admin,
        &login(FlowPath::Cash),
        FlowPath::Cash.required_groups(),
    )
    .await;
    Users {
        booking,
        time,
        release,
        release_uid,
        release_login: login(FlowPath::Release),
        cash,
    }
}

fn credentials(u: &Users) -> FlowCredentials {
    FlowCredentials::new("odoo-sales", u.booking.clone())
        .path(FlowPath::Time, "odoo-time", u.time.clone())
        .path(FlowPath::Release, "odoo-billing", u.release.clone())
        .path(FlowPath::Cash, "odoo-cash", u.cash.clone())
}

/// EUR active, the run's employees in company 1, and the setup applied (the administrator's
/// task): the settings.
async fn prepare(admin: &OdooClient, sc: &Scenario) -> odoo_connect::flows::FlowSettings {
    let eur: Vec<Value> = admin
        .model_named::<Value>("res.currency")
        .search_read(Domain::new().eq("name", "EUR"))
        .fields(["id"])
        .context(Context::new().active_test(false))
        .await
        .unwrap();
    let eur_id = eur[0]["id"].as_i64().unwrap();
    admin
        .model_named::<Value>("res.currency")
        .write(&[RecordId(eur_id)], &json!({"active": true}))
        .await
        .unwrap();
    let rows: Vec<Value> = sc
        .employees
        .iter()
        .map(
            |m| json!({"name": m.split('@').next().unwrap_or(m), "work_email": m, "company_id": 1}),
        )
        .collect();
    let _: Value = admin
        .with_company(1)
        .call(&OdooCall::new("hr.employee", "create").arg("vals_list", Value::Array(rows)))
        .await
        .expect("employees");
    Setup::new("firm-eu".parse().unwrap())
        .currency(odoo_connect::canonical::Currency::EUR)
        .company(1)
        .apply(admin)
        .await
        .expect("setup")
}

async fn drain(p: &Pipeline<MemoryStore>) {
    flows_setup::drain(p, Duration::from_secs(300))
        .await
        .expect("drain");
}

/// The dead letters of the run: (class, reason).
async fn parked(store: &MemoryStore) -> Vec<(String, String)> {
    store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            let class = match d.failure.class {
                FailureClass::Business => "business",
                _ => "technical",
            };
            let reason = match d
                .envelope
                .clone()
                .decode::<FlowMessage>()
                .map(|e| e.payload)
            {
                Ok(FlowMessage::Rejected { .. }) => "unreadable_row".to_owned(),
                _ => d.failure.reason.clone(),
            };
            (class.to_owned(), reason)
        })
        .collect()
}

/// Books the deals and records the time as the booking and time users.
async fn book_and_record(
    flows: &Flows,
    p: &Pipeline<MemoryStore>,
    store: &MemoryStore,
    sc: &Scenario,
    hub: &str,
) {
    let deals = flows_setup::won_deals(hub, fake_hubspot::TOKEN)
        .await
        .expect("deals");
    let env: Vec<_> = deals
        .iter()
        .map(|d| flows.deal_envelope(d).unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(p).await;
    assert_eq!(flows.book().all().len(), 3, "{:#?}", parked(store).await);
    let (entries, rejected, _) = flows_setup::read_time_csv(&sc.csv).unwrap();
    for r in &rejected {
        flows.park_rejected(store, "psa", r).await.unwrap();
    }
    let env: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&env).await.unwrap();
    drain(p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn every_flow_runs_with_its_own_non_admin_user() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let admin = real.admin(Protocol::Auto);
    let sc = scenario();
    let settings = prepare(&admin, &sc).await;
    let u = users(&real, &admin, "all").await;
    let flows = Flows::connect_with(credentials(&u), settings)
        .await
        .expect("connect as the path users");
    let hub = fake_hubspot::FakeHubSpot::start(&sc.deals).await;
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    book_and_record(&flows, &p, &store, &sc, &hub.uri()).await;
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    drain(&p).await;

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

    let mut parked = parked(&store).await;
    parked.sort();
    let codes: Vec<(String, String)> = parked
        .iter()
        .map(|(c, r)| {
            (
                c.clone(),
                r.split(':').next().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("business".to_owned(), "cap_reached".to_owned()),
            ("business".to_owned(), "unmatched_payment".to_owned()),
            ("technical".to_owned(), "unreadable_row".to_owned()),
        ],
        "{parked:#?}"
    );
    // Read back as the administrator: three posted invoices, one paid,
    // one in part.
    let orders: Vec<String> = flows
        .book()
        .all()
        .iter()
        .map(|b| b.order_name.clone())
        .collect();
    let invoices: Vec<Value> = admin
        .model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .is_in("invoice_origin", orders)
                .eq("move_type", "out_invoice"),
        )
        .fields(["state", "payment_state"])
        .await
        .unwrap();
    assert_eq!(invoices.len(), 3, "{invoices:#?}");
    assert!(
        invoices.iter().all(|i| i["state"] == "posted"),
        "{invoices:#?}"
    );
    let states: Vec<&str> = invoices
        .iter()
        .filter_map(|i| i["payment_state"].as_str())
        .collect();
    assert!(
        states.contains(&"partial") && states.iter().any(|s| matches!(*s, "paid" | "in_payment")),
        "{states:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn without_its_invoicing_group_the_release_fails_naming_path_user_and_right() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let admin = real.admin(Protocol::Auto);
    let sc = scenario();
    let settings = prepare(&admin, &sc).await;
    let u = users(&real, &admin, "revoked").await;
    let flows = Flows::connect_with(credentials(&u), settings)
        .await
        .expect("connect as the path users");
    let hub = fake_hubspot::FakeHubSpot::start(&sc.deals).await;
    let store = Arc::new(MemoryStore::new());
    let p = flows_setup::pipeline(&flows, store.clone());
    book_and_record(&flows, &p, &store, &sc, &hub.uri()).await;

    // The billing user loses Accounting / Invoicing.
    let invoicing = xml_id(&admin, "account.group_account_invoice").await;
    admin
        .model_named::<Value>("res.users")
        .write(
            &[RecordId(u.release_uid)],
            &json!({"group_ids": [[3, invoicing]]}),
        )
        .await
        .expect("take the group away");
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    drain(&p).await;
    let refused: Vec<(String, String)> = parked(&store)
        .await
        .into_iter()
        .filter(|(_, r)| r.contains("may not"))
        .collect();
    assert_eq!(refused.len(), 3, "{:#?}", parked(&store).await);
    let expected = format!("the release path (user {}) may not ", u.release_login);
    for (class, reason) in &refused {
        assert_eq!(class, "technical");
        // Without Accounting / Invoicing, Odoo already refuses the checks before billing their
        // read of the customer's credit (a field of that group), before any invoice is made.
        assert!(
            reason.starts_with(&format!("{expected}read res.partner: Odoo said "))
                && reason.contains("\"credit\""),
            "{reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn the_flows_refuse_to_start_when_release_and_booking_share_a_login() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let admin = real.admin(Protocol::Auto);
    let sc = scenario();
    let settings = prepare(&admin, &sc).await;
    let u = users(&real, &admin, "shared").await;
    let shared = credentials(&u).path(FlowPath::Release, "odoo-billing", u.booking.clone());
    let e = Flows::connect_with(shared, settings.clone())
        .await
        .unwrap_err();
    let FlowError::SharedCredential(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((v.first, v.second), (FlowPath::Booking, FlowPath::Release));
    assert_eq!(v.login, login_of(FlowPath::Booking, "shared"));
    assert!(!e.to_string().contains("pw-"), "{e}");
    // The administrator's API key and its password are one user too.
    let creds = credentials(&u)
        .path(FlowPath::Booking, "odoo-admin", admin.clone())
        .path(FlowPath::Cash, "odoo-admin-password", real.admin_password());
    assert!(matches!(
        Flows::connect_with(creds, settings).await,
        Err(FlowError::SharedCredential(v)) if (v.first, v.second) == (FlowPath::Booking, FlowPath::Cash)
    ));
}
