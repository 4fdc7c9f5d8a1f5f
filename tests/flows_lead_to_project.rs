//! Lead to project end to end: closed-won HubSpot deals become exactly one client, one confirmed
//! contract and one project with its milestones each in the fake Odoo, through a 502, a reply
//! lost after a commit, a redelivery of every deal, and a webhook with a bad signature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::connector::esign_webhook::EsignWebhook;
use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::connector::{HeaderMap, PushedEvent, pull_all};
use odoo_connect::flows::{Flows, correlation_for, won_deals};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::JsonEnvelope;
use odoo_connect::sync::pipeline::{Pipeline, RunReport, SyncRetryPolicy};
use odoo_connect::sync::store::{AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, WorkQueue};
use odoo_connect::testkit::FakeOdoo;
use serde_json::json;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

fn pipeline(flows: &Flows, store: Arc<SqliteStore>) -> Pipeline<SqliteStore> {
    flows
        .pipeline("contract-to-cash", store)
        .retry(
            SyncRetryPolicy::default()
                .initial_delay(Duration::from_millis(20))
                .max_delay(Duration::from_millis(100))
                .max_attempts(20),
        )
        .lease_for(Duration::from_secs(5))
        .build()
}

async fn drain(p: &Pipeline<SqliteStore>) -> RunReport {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut total = RunReport::default();
    loop {
        let r = p.run_until_idle("w").await.unwrap();
        total.done += r.done;
        total.retried += r.retried;
        total.failed += r.failed;
        total.held += r.held;
        let stats = p.store().stats().await.unwrap();
        if stats.depth == 0 || Instant::now() > deadline {
            return total;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deal_envelopes(flows: &Flows, hubspot_uri: &str) -> Vec<JsonEnvelope> {
    let hubspot = HubSpot::builder(fake_hubspot::TOKEN)
        .base_url(hubspot_uri)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let changes = pull_all(&hubspot, None, 50, 10).await.unwrap();
    let deals = won_deals(&changes.items, flows_setup::terms);
    assert_eq!(deals.len(), 3);
    deals
        .iter()
        .map(|d| flows.deal_envelope(d).unwrap())
        .collect()
}

#[tokio::test]
async fn won_deals_become_one_client_contract_and_project_each_through_faults() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows_setup::flows(flows_setup::odoo_client(&fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = pipeline(&flows, store.clone());
    let partners_before = fake.count("res.partner");
    let orders_before = fake.count("sale.order");
    let projects_before = fake.count("project.project");
    let milestones_before = fake.count("project.milestone");

    let envelopes = deal_envelopes(&flows, &hub.uri()).await;
    p.submit_batch(&envelopes).await.unwrap();
    // A 502 from Odoo, then two writes that commit but whose replies are lost.
    fake.fail_next(1);
    fake.drop_reply_after_commit(2);
    let report = drain(&p).await;
    assert_eq!(report.done, 3, "{report:?}");
    assert!(report.retried >= 3, "the faults were retried: {report:?}");

    // Every record exactly once: two companies (deals 1001 and 1003 share one), three orders.
    assert_eq!(fake.count("res.partner") - partners_before, 2);
    assert_eq!(
        fake.count_where("res.partner", json!([["name", "=", "Acme Industries SA"]])),
        1
    );
    assert_eq!(fake.count("sale.order") - orders_before, 3);
    for deal in ["1001", "1002", "1003"] {
        let origin = format!("hubspot-deal-{deal}");
        assert_eq!(
            fake.count_where(
                "sale.order",
                json!([["origin", "=", origin], ["state", "=", "sale"]])
            ),
            1,
            "deal {deal} has one confirmed order"
        );
        let booked = flows.book().get(&origin.parse().unwrap()).unwrap();
        // A section, two milestones and one role: four lines.
        assert_eq!(
            fake.count_where(
                "sale.order.line",
                json!([["order_id", "=", booked.order_id.get()]])
            ),
            4
        );
        assert_eq!(
            fake.count_where(
                "project.milestone",
                json!([["project_id", "=", booked.project_id.get()]])
            ),
            2
        );
        // The deal's path is traceable by its correlation id.
        let trace = p
            .trace(&correlation_for(&origin.parse().unwrap()))
            .await
            .unwrap();
        assert!(
            trace
                .iter()
                .any(|r| r.event.kind.as_str() == "project_ready"),
            "{deal}"
        );
    }
    assert_eq!(fake.count("project.project") - projects_before, 3);
    assert_eq!(fake.count("project.milestone") - milestones_before, 6);
    assert!(
        store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap()
            .is_empty()
    );

    // The CRM delivers every deal again: nothing new in Odoo.
    let again: Vec<JsonEnvelope> = deal_envelopes(&flows, &hub.uri())
        .await
        .iter()
        .map(|e| e.for_replay())
        .collect();
    p.submit_batch(&again).await.unwrap();
    assert_eq!(drain(&p).await.done, 3);
    assert_eq!(fake.count("res.partner") - partners_before, 2);
    assert_eq!(fake.count("sale.order") - orders_before, 3);
    assert_eq!(fake.count("project.project") - projects_before, 3);
    assert_eq!(fake.count("project.milestone") - milestones_before, 6);
}

#[tokio::test]
async fn a_webhook_with_a_bad_signature_is_refused_and_audited() {
    let fake = FakeOdoo::start().await;
    let flows = flows_setup::flows(flows_setup::odoo_client(&fake).unwrap())
        .await
        .unwrap();
    let store = SqliteStore::open_in_memory().await.unwrap();
    let webhook = EsignWebhook::builder("whsec-right-key").build().unwrap();
    let mut headers = HeaderMap::new();
    let now = chrono::Utc::now().timestamp().to_string();
    let body = br#"{"event":"envelope-completed","data":{}}"#.to_vec();
    let forged =
        odoo_connect::connector::esign_webhook::sign(&"whsec-wrong-key".into(), &now, &body);
    headers.insert(
        webhook
            .signature_header()
            .parse::<reqwest::header::HeaderName>()
            .unwrap(),
        forged.parse().unwrap(),
    );
    headers.insert("x-esign-timestamp", now.parse().unwrap());
    let event = PushedEvent::new(headers, body);
    let err = flows
        .receive_event(&webhook, &event, &store)
        .await
        .unwrap_err();
    assert!(err.rejection().is_some(), "{err}");
    let audit = store.query_audit(&AuditQuery::all()).await.unwrap();
    let rejected: Vec<_> = audit
        .iter()
        .filter(|r| r.event.kind.as_str() == "event_rejected")
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        fake.count_where("sale.order", json!([["origin", "=like", "hubspot-deal-%"]])),
        0
    );
}
