//! Flow state is durable: a worker that never saw a deal booked (another process sharing the
//! store, or this one after a restart) bills its time, releases its invoices and registers its
//! payments, finding the booking in the store's facts, even after retention purged the whole
//! ledger. On SQLite (one file, two handles) and on PostgreSQL (two connection pools on one
//! schema) when `DATABASE_URL` is set at build time; and with a real second OS process (this test
//! binary run again for one test) on both stores.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::flows::Flows;
use odoo_connect::sync::pipeline::{Pipeline, RunReport};
use odoo_connect::sync::store::{
    DeadLetterFilter, FailureClass, PurgeMode, RetentionPolicy, StateStore,
};
use odoo_connect::testkit::FakeOdoo;
use serde_json::json;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

/// A fake Odoo with demo data only and a fake HubSpot; the sample deals booked through `store`.
async fn book_sample_deals<S>(store: Arc<S>) -> (FakeOdoo, fake_hubspot::FakeHubSpot, Flows)
where
    S: StateStore + ?Sized + 'static,
{
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let a = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let pa = flows_setup::pipeline(&a, store);
    let deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    assert_eq!(flows_setup::book_deals(&a, &pa, &deals).await.unwrap(), 3);
    (fake, hub, a)
}

/// Every contract `flows` booked has exactly one posted invoice.
fn one_posted_invoice_each(fake: &FakeOdoo, flows: &Flows) {
    for booked in flows.book().all() {
        assert_eq!(
            fake.count_where(
                "account.move",
                json!([
                    ["invoice_origin", "=", booked.order_name],
                    ["state", "=", "posted"]
                ])
            ),
            1,
            "{}",
            booked.contract.key
        );
    }
}

/// Submits the sample's approved time to `p` and drains it.
async fn bill_time<S>(flows: &Flows, p: &Pipeline<S>) -> RunReport
where
    S: StateStore + ?Sized + 'static,
{
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let time: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&time).await.unwrap();
    flows_setup::drain(p, Duration::from_secs(30))
        .await
        .unwrap()
}

/// Books the sample deals with `first`, then (with `purge`) purges everything retention may
/// (every period zero, long after), then runs the time, release and payment flows with a
/// `second` worker whose `Flows` never booked anything; checks what it made in Odoo.
async fn second_worker_finds_the_bookings<S>(first: Arc<S>, second: Arc<S>, purge: bool)
where
    S: StateStore + ?Sized + 'static,
{
    let (fake, hub, _a) = book_sample_deals(first.clone()).await;
    if purge {
        let later = chrono::Utc::now() + chrono::Duration::days(1000);
        let purged = RetentionPolicy::uniform(Duration::ZERO)
            .purge(&*first, later, PurgeMode::Delete)
            .await
            .unwrap();
        assert!(
            purged.ledger > 0,
            "the booking's effects were purged: {purged:?}"
        );
    }

    // Another process: its own Odoo client, flows and store handle; an empty book.
    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let settings = flows_setup::setup().unwrap().apply(&odoo).await.unwrap();
    let b = Flows::connect(odoo, settings).await.unwrap();
    assert!(b.book().all().is_empty());
    let pb = flows_setup::pipeline(&b, second.clone());
    let r = bill_time(&b, &pb).await;
    let technical = second
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Technical))
        .await
        .unwrap();
    assert!(
        technical.is_empty(),
        "no \"book the deal first\": {:?}",
        technical
            .iter()
            .map(|l| l.failure.reason.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!((r.done, r.held), (4, 1), "{r:?}");
    assert_eq!(
        fake.count_where("account.analytic.line", json!([["so_line", "!=", false]])),
        5
    );
    // It learnt the bookings from the store, and releases each contract's invoice.
    assert_eq!(b.book().all().len(), 3);
    flows_setup::submit_releases(&b, &pb, "2025-03")
        .await
        .unwrap();
    flows_setup::drain(&pb, Duration::from_secs(30))
        .await
        .unwrap();
    one_posted_invoice_each(&fake, &b);

    // A third process, writing to the CRM and with an empty book, registers a payment and
    // reports it on the deal: it finds the contract paid from the invoice's origin (the sale
    // order's number) in the facts.
    let hubspot = HubSpot::builder(fake_hubspot::TOKEN)
        .base_url(hub.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let settings = flows_setup::setup().unwrap().apply(&odoo).await.unwrap();
    let c = Flows::connect(odoo, settings)
        .await
        .unwrap()
        .with_sink(Arc::new(hubspot));
    assert!(c.book().all().is_empty());
    let open = b.open_invoices().await.unwrap();
    let inv = open
        .iter()
        .find(|i| i.contract.as_ref().map(|c| c.as_str()) == Some("hubspot-deal-1001"))
        .expect("the invoice of deal 1001");
    let xml = flows_setup::camt053(&[(
        "BNK-9".into(),
        inv.amount_due.amount.to_string(),
        inv.currency.to_string(),
        inv.number.clone().unwrap(),
    )]);
    let (payments, _) = flows_setup::statement_payments(&b, &xml).await.unwrap();
    assert_eq!(payments.len(), 1);
    let pc = flows_setup::pipeline(&c, second.clone());
    let envelopes: Vec<_> = payments
        .iter()
        .map(|(pay, k)| c.payment_envelope(pay, k.as_ref(), "bank").unwrap())
        .collect();
    pc.submit_batch(&envelopes).await.unwrap();
    let r = flows_setup::drain(&pc, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!((r.done, r.failed, r.held), (1, 0, 0), "{r:?}");
    assert_eq!(
        hub.properties("1001")["odoo_last_payment_reference"],
        json!(inv.number.clone().unwrap())
    );
    assert_eq!(c.book().all().len(), 1, "learnt from the facts");
}

#[tokio::test]
async fn a_second_process_on_sqlite_bills_time_it_never_saw_booked() {
    use odoo_connect::store::sqlite::SqliteStore;
    let dir = std::env::temp_dir().join(format!("oc-durable-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    second_worker_finds_the_bookings(first, second, false).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The point of facts: retention purges the ledger (here all of it), and time and payments
/// that come later still find their booking.
#[tokio::test]
async fn bookings_survive_a_purge_of_the_whole_ledger() {
    use odoo_connect::store::sqlite::SqliteStore;
    let dir = std::env::temp_dir().join(format!("oc-purged-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    second_worker_finds_the_bookings(first, second, true).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
#[tokio::test]
#[cfg_attr(no_database, ignore = "skipped: DATABASE_URL not set")]
async fn a_second_process_on_postgres_bills_time_it_never_saw_booked() {
    use odoo_connect::store::postgres::PostgresStore;
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let schema = format!(
        "oc_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let open = || {
        PostgresStore::builder(&url)
            .schema(&schema)
            .max_connections(4)
            .connect()
    };
    let first = Arc::new(open().await.unwrap());
    let second = Arc::new(open().await.unwrap());
    second_worker_finds_the_bookings(first, second, true).await;
    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

/// Set in the child process of the tests below: where its store is (`sqlite:PATH` or
/// `postgres:SCHEMA`), and the fake Odoo's address, database and key.
const CHILD_STORE: &str = "ODOO_CONNECT_TEST_FLOWS_CHILD_STORE";
const CHILD_ODOO: &str = "ODOO_CONNECT_TEST_FLOWS_CHILD_ODOO";
const CHILD_REPORT: &str = "child-report: ";

/// The child process: a worker that never saw the deals booked runs the approved time and the
/// release of every contract, then prints what it did as one JSON line.
async fn child_worker<S>(store: Arc<S>, odoo: &str) -> serde_json::Value
where
    S: StateStore + ?Sized + 'static,
{
    let mut parts = odoo.splitn(3, '|');
    let (Some(url), Some(db), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{CHILD_ODOO} is not URL|DATABASE|KEY: {odoo:?}");
    };
    let odoo = odoo_connect::odoo::OdooClient::builder(url)
        .database(db)
        .api_key("admin", key.to_owned())
        .retry(odoo_connect::odoo::RetryPolicy::none())
        .build()
        .expect("a client of the parent's fake Odoo");
    let settings = flows_setup::setup().unwrap().apply(&odoo).await.unwrap();
    let flows = Flows::connect(odoo, settings).await.unwrap();
    let booked_before = flows.book().all().len();
    let p = flows_setup::pipeline(&flows, store.clone());
    let t = bill_time(&flows, &p).await;
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    let r = flows_setup::drain(&p, Duration::from_secs(30))
        .await
        .unwrap();
    let technical = store
        .list_dead_letters(&DeadLetterFilter::all().class(FailureClass::Technical))
        .await
        .unwrap()
        .len();
    json!({
        "booked_before": booked_before,
        "learnt": flows.book().all().len(),
        "time_done": t.done, "time_held": t.held,
        "released": r.done, "technical": technical,
    })
}

/// Runs this test binary again, for `test` only (the test calling this), as the child worker;
/// returns its report. The child must end with success, after printing its report.
fn run_child(test: &str, store: &str, fake: &FakeOdoo) -> serde_json::Value {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args([
            test,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STORE, store)
        .env(
            CHILD_ODOO,
            format!(
                "{}|{}|{}",
                fake.url(),
                fake.database(),
                fake.admin_api_key()
            ),
        )
        .output()
        .expect("the child process runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout
        .lines()
        .find_map(|l| l.split_once(CHILD_REPORT).map(|(_, report)| report));
    let (true, Some(report)) = (out.status.success(), report) else {
        panic!(
            "the child (`{test}` run again) failed or printed no report ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    };
    serde_json::from_str(report).expect("the child's report is JSON")
}

/// Books the sample deals in this process, then has another OS process bill the time and
/// release the invoices from the shared store; checks the child's report and Odoo.
async fn an_os_process_continues<S>(test: &str, store: Arc<S>, child_store: &str)
where
    S: StateStore + ?Sized + 'static,
{
    let (fake, _hub, a) = book_sample_deals(store).await;
    // The child runs on a thread of its own: this runtime keeps serving the fake Odoo.
    let (test, child_store) = (test.to_owned(), child_store.to_owned());
    let fake_ref = &fake;
    let report = std::thread::scope(|s| {
        s.spawn(|| run_child(&test, &child_store, fake_ref))
            .join()
            .unwrap()
    });
    assert_eq!(
        report,
        json!({"booked_before": 0, "learnt": 3, "time_done": 4, "time_held": 1,
               "released": 3, "technical": 0}),
    );
    assert_eq!(
        fake.count_where("account.analytic.line", json!([["so_line", "!=", false]])),
        5
    );
    one_posted_invoice_each(&fake, &a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_os_process_on_sqlite_bills_and_releases_what_this_one_booked() {
    use odoo_connect::store::sqlite::SqliteStore;
    const TEST: &str = "another_os_process_on_sqlite_bills_and_releases_what_this_one_booked";
    if let (Ok(store), Ok(odoo)) = (std::env::var(CHILD_STORE), std::env::var(CHILD_ODOO)) {
        let path = store
            .strip_prefix("sqlite:")
            .expect("the parent gives a SQLite store");
        let store = SqliteStore::open(path)
            .await
            .expect("the parent's SQLite file opens");
        println!(
            "{CHILD_REPORT}{}",
            child_worker(Arc::new(store), &odoo).await
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("oc-os-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    an_os_process_continues(TEST, store, &format!("sqlite:{}", path.display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "skipped: DATABASE_URL not set")]
async fn another_os_process_on_postgres_bills_and_releases_what_this_one_booked() {
    use odoo_connect::store::postgres::PostgresStore;
    const TEST: &str = "another_os_process_on_postgres_bills_and_releases_what_this_one_booked";
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL not set");
        return;
    };
    let open = |schema: String| {
        let url = url.clone();
        async move {
            PostgresStore::builder(&url)
                .schema(&schema)
                .max_connections(4)
                .connect()
                .await
                .expect("the PostgreSQL schema opens")
        }
    };
    if let (Ok(store), Ok(odoo)) = (std::env::var(CHILD_STORE), std::env::var(CHILD_ODOO)) {
        let schema = store
            .strip_prefix("postgres:")
            .expect("the parent gives a PostgreSQL store")
            .to_owned();
        let store = Arc::new(open(schema).await);
        println!("{CHILD_REPORT}{}", child_worker(store, &odoo).await);
        return;
    }
    let schema = format!(
        "oc_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let store = Arc::new(open(schema.clone()).await);
    an_os_process_continues(TEST, store, &format!("postgres:{schema}")).await;
    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&pool)
            .await;
    }
}

/// A store upgraded from a release that kept the bookings as done ledger entries: a worker with
/// an empty book finds them there, bills the time, and records them as facts.
#[tokio::test]
async fn bookings_left_in_the_ledger_by_an_earlier_release_are_found_and_become_facts() {
    use odoo_connect::store::memory::MemoryStore;
    use odoo_connect::sync::envelope::IdempotencyKey;
    use odoo_connect::sync::store::{Begin, FactFilter, FactKind, Facts, IdempotencyLedger};

    let booked_on = Arc::new(MemoryStore::new());
    let (fake, _hub, a) = book_sample_deals(booked_on.clone()).await;
    // What an earlier release wrote instead of facts.
    let upgraded = Arc::new(MemoryStore::new());
    for b in a.book().all() {
        let value = serde_json::to_value(&b).unwrap();
        for (entity, id) in [
            ("contract", b.contract.key.as_str()),
            ("project", b.project.as_str()),
            ("sale_order", b.order_name.as_str()),
        ] {
            let key = IdempotencyKey::for_effect(entity, id, "booked", "remember").unwrap();
            let Begin::New(claim) = upgraded
                .begin(&key, &json!({"op": "remember"}), Duration::from_secs(60))
                .await
                .unwrap()
            else {
                panic!("a new claim");
            };
            upgraded.complete(&claim, &value).await.unwrap();
        }
    }
    let bookings = FactFilter::kind(FactKind::named("booking"));
    assert!(
        upgraded
            .list_facts(&bookings)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let settings = flows_setup::setup().unwrap().apply(&odoo).await.unwrap();
    let b = Flows::connect(odoo, settings).await.unwrap();
    let pb = flows_setup::pipeline(&b, upgraded.clone());
    let r = bill_time(&b, &pb).await;
    assert_eq!((r.done, r.held), (4, 1), "{r:?}");
    assert_eq!(b.book().all().len(), 3, "learnt from the ledger");
    assert_eq!(
        upgraded.list_facts(&bookings).await.unwrap().items.len(),
        3,
        "recorded as facts"
    );
}
