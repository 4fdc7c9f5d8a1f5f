//! Flow state is durable: a worker that never saw a deal booked (another process sharing the
//! store, or this one after a restart) bills its time, releases its invoices and registers its
//! payments, finding the booking in the store's ledger. On SQLite (one file, two handles) and on
//! PostgreSQL (two connection pools on one schema) when `DATABASE_URL` is set at build time.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::flows::Flows;
use odoo_connect::sync::store::{DeadLetterFilter, FailureClass, StateStore};
use odoo_connect::testkit::FakeOdoo;
use serde_json::json;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

/// Books the sample deals with `first`, then runs the time, release and payment flows with a
/// `second` worker whose `Flows` never booked anything; checks what it made in Odoo.
async fn second_worker_finds_the_bookings<S>(first: Arc<S>, second: Arc<S>)
where
    S: StateStore + ?Sized + 'static,
{
    let fake = FakeOdoo::builder().demo_data_only().start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let a = flows_setup::flows(flows_setup::odoo_client(&fake).unwrap())
        .await
        .unwrap();
    let pa = flows_setup::pipeline(&a, first.clone());
    let deals = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .unwrap();
    assert_eq!(flows_setup::book_deals(&a, &pa, &deals).await.unwrap(), 3);

    // Another process: its own Odoo client, flows and store handle; an empty book.
    let odoo = flows_setup::odoo_client(&fake).unwrap();
    let settings = flows_setup::setup().unwrap().apply(&odoo).await.unwrap();
    let b = Flows::connect(odoo, settings).await.unwrap();
    assert!(b.book().all().is_empty());
    let pb = flows_setup::pipeline(&b, second.clone());
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let time: Vec<_> = entries
        .iter()
        .map(|e| b.time_envelope(e, "psa").unwrap())
        .collect();
    pb.submit_batch(&time).await.unwrap();
    let r = flows_setup::drain(&pb, Duration::from_secs(30))
        .await
        .unwrap();
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
    let release: Vec<_> = deals
        .iter()
        .map(|d| b.release_envelope(&d.contract.key, "2025-03").unwrap())
        .collect();
    pb.submit_batch(&release).await.unwrap();
    flows_setup::drain(&pb, Duration::from_secs(30))
        .await
        .unwrap();
    for booked in b.book().all() {
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

    // A third process, writing to the CRM and with an empty book, registers a payment and
    // reports it on the deal: it finds the contract paid from the invoice's origin (the sale
    // order's number) in the ledger.
    let hubspot = HubSpot::builder(fake_hubspot::TOKEN)
        .base_url(hub.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let odoo = flows_setup::odoo_client(&fake).unwrap();
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
    assert_eq!(c.book().all().len(), 1, "learnt from the ledger");
}

#[tokio::test]
async fn a_second_process_on_sqlite_bills_time_it_never_saw_booked() {
    use odoo_connect::store::sqlite::SqliteStore;
    let dir = std::env::temp_dir().join(format!("oc-durable-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    second_worker_finds_the_bookings(first, second).await;
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
    second_worker_finds_the_bookings(first, second).await;
    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}
