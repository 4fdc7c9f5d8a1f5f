//! Lead to project end to end: closed-won HubSpot deals become exactly one client, one confirmed
//! contract and one project with its milestones each in the fake Odoo, through a 502, a reply
//! lost after a commit, a redelivery of every deal, and a webhook with a bad signature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use odoo_connect::connector::esign_webhook::tower::ServiceExt;
use odoo_connect::connector::esign_webhook::{EsignWebhook, axum, sign_docusign};
use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::connector::{HeaderMap, PushedEvent, pull_all};
use odoo_connect::flows::{Flows, QueueDeliver, correlation_for, won_deals};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::JsonEnvelope;
use odoo_connect::sync::pipeline::{Pipeline, RunReport, SyncRetryPolicy};
use odoo_connect::sync::store::{
    AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, FailureClass, WorkQueue,
};
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
        total += &r;
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
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
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
    // The twelve order lines went in batches, not in a call each.
    let line_loads = fake
        .requests()
        .iter()
        .filter(|r| r.call.as_deref() == Some("sale.order.line.load"))
        .count();
    assert!((1..12).contains(&line_loads), "{line_loads} loads");
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
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let store = SqliteStore::open_in_memory().await.unwrap();
    // DocuSign Connect: HMAC of the body in X-DocuSign-Signature-1, here under another key.
    let webhook = EsignWebhook::docusign("whsec-right-key").build().unwrap();
    let mut headers = HeaderMap::new();
    let body = format!(
        r#"{{"event":"envelope-completed","generatedDateTime":"{}","data":{{"envelopeId":"e-1"}}}}"#,
        chrono::Utc::now().to_rfc3339()
    )
    .into_bytes();
    let forged = sign_docusign(&"whsec-wrong-key".into(), &body);
    headers.insert(
        webhook
            .signature_header()
            .parse::<reqwest::header::HeaderName>()
            .unwrap(),
        forged.parse().unwrap(),
    );
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

/// A signed DocuSign Connect completion for deal 1001, generated at `at`.
fn signed_completion(
    key: &str,
    at: chrono::DateTime<chrono::Utc>,
    retry: u32,
) -> (Vec<u8>, String) {
    let body = json!({
        "event": "envelope-completed",
        "apiVersion": "v2.1",
        "uri": "/restapi/v2.1/accounts/acc-1/envelopes/env-1001",
        "retryCount": retry,
        "configurationId": 501,
        "generatedDateTime": at.to_rfc3339(),
        "data": {
            "accountId": "acc-1",
            "envelopeId": "env-1001",
            "envelopeSummary": {
                "status": "completed",
                "emailSubject": "Complete with Docusign: ERP roll-out",
                "completedDateTime": at.to_rfc3339(),
                "customFields": {
                    "textCustomFields": [
                        {"name": "crm_system", "value": "hubspot"},
                        {"name": "crm_opportunity_id", "value": "1001"},
                        {"name": "crm_account_id", "value": "501"}
                    ],
                    "listCustomFields": [
                        {"name": "legal_entity", "value": "firm-eu"},
                        {"name": "currency", "value": "EUR"}
                    ]
                }
            }
        }
    })
    .to_string()
    .into_bytes();
    let signature = sign_docusign(&key.to_owned().into(), &body);
    (body, signature)
}

#[tokio::test]
async fn a_signed_webhook_is_queued_durably_before_the_answer_and_once() {
    let fake = FakeOdoo::start().await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let at = chrono::Utc::now();
    let webhook = EsignWebhook::docusign("whsec-right-key")
        .clock(odoo_connect::core::clock::ManualClock::new(at))
        .build()
        .unwrap();
    let app = axum::Router::new().nest(
        "/webhooks/docusign",
        webhook.router(QueueDeliver::new(flows.clone(), store.clone())),
    );
    let post = |body: Vec<u8>, signature: String| {
        axum::http::Request::post("/webhooks/docusign")
            .header("x-docusign-signature-1", signature)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };

    let (body, signature) = signed_completion("whsec-right-key", at, 0);
    let reply = app.clone().oneshot(post(body, signature)).await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        store.stats().await.unwrap().depth,
        1,
        "queued before the 200"
    );

    // DocuSign retries two days later (retryCount raised, generated again): 200 "replayed",
    // nothing new in the queue, and the replay recorded.
    let later = at + chrono::Duration::days(2);
    let (body, signature) = signed_completion("whsec-right-key", later, 1);
    let reply = app.clone().oneshot(post(body, signature)).await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX)
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["status"], "replayed", "{answer}");
    assert_eq!(
        store.stats().await.unwrap().depth,
        1,
        "a redelivery adds nothing"
    );
    let replays = store
        .query_audit(&AuditQuery::all())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind.as_str() == "event_replayed")
        .count();
    assert_eq!(replays, 1);

    // A forged one: 401, nothing queued.
    let (body, signature) = signed_completion("whsec-wrong-key", at, 0);
    let reply = app.clone().oneshot(post(body, signature)).await.unwrap();
    assert_eq!(reply.status().as_u16(), 401);
    assert_eq!(store.stats().await.unwrap().depth, 1);

    // The queued envelope is the flows' message of deal 1001's contract.
    let leased = store
        .lease("peek", 10, Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    let envelope = &leased[0].envelope;
    assert_eq!(envelope.payload["flow"], "signed_contract");
    assert_eq!(envelope.source, "docusign");
    assert_eq!(envelope.legal_entity.as_str(), "firm-eu");
    assert_eq!(
        envelope.correlation_id,
        correlation_for(&"hubspot-deal-1001".parse().unwrap())
    );
    assert_eq!(
        envelope.payload["change"]["record"]["record"]["key"], "hubspot-deal-1001",
        "{}",
        envelope.payload
    );

    // The flows' pipeline passes it through: done, not dead-lettered, nothing booked from it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let p = pipeline(&flows, store.clone());
    let report = drain(&p).await;
    assert_eq!(report.done, 1, "{report:?}");
    assert!(
        store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        fake.count_where("sale.order", json!([["origin", "=", "hubspot-deal-1001"]])),
        0
    );
}

#[tokio::test]
async fn a_signed_completion_without_crm_link_is_held_and_answered_200() {
    let fake = FakeOdoo::start().await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let at = chrono::Utc::now();
    let webhook = EsignWebhook::docusign("whsec-right-key")
        .clock(odoo_connect::core::clock::ManualClock::new(at))
        .build()
        .unwrap();
    let app = webhook.router(QueueDeliver::new(flows, store.clone()));
    let body = json!({
        "event": "envelope-completed",
        "generatedDateTime": at.to_rfc3339(),
        "retryCount": 0,
        "data": {"accountId": "acc-1", "envelopeId": "env-7", "envelopeSummary": {
            "status": "completed", "completedDateTime": at.to_rfc3339(),
            "customFields": {"textCustomFields": [], "listCustomFields": []}}}
    })
    .to_string()
    .into_bytes();
    let signature = sign_docusign(&"whsec-right-key".into(), &body);
    let request = axum::http::Request::post("/")
        .header("x-docusign-signature-1", signature)
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = app.oneshot(request).await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let letters = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].failure.class, FailureClass::Business);
    assert!(
        letters[0].failure.reason.starts_with("no_crm_reference"),
        "{:?}",
        letters[0]
    );
    assert_eq!(store.stats().await.unwrap().depth, 0);
}

// ---------------------------------------------------------------------------------------------
// Signed contracts booked from the CRM record
// ---------------------------------------------------------------------------------------------

const DOCUSIGN_KEY: &str = "whsec-right-key";

/// A signed DocuSign Connect completion sent from DocuSign for HubSpot: the deal
/// (`crm_system` + `crm_opportunity_id`) and nothing of the client, completed at `completed` and
/// generated (delivered or republished) at `generated`. `extra` adds text custom fields.
fn crm_only_completion(
    deal: &str,
    envelope: &str,
    completed: chrono::DateTime<chrono::Utc>,
    generated: chrono::DateTime<chrono::Utc>,
    extra: &[(&str, &str)],
) -> (Vec<u8>, String) {
    let mut fields = vec![
        json!({"name": "crm_system", "value": "hubspot"}),
        json!({"name": "crm_opportunity_id", "value": deal}),
    ];
    fields.extend(extra.iter().map(|(n, v)| json!({"name": n, "value": v})));
    let body = json!({
        "event": "envelope-completed",
        "apiVersion": "v2.1",
        "uri": format!("/restapi/v2.1/accounts/acc-1/envelopes/{envelope}"),
        "retryCount": 0,
        "configurationId": 501,
        "generatedDateTime": generated.to_rfc3339(),
        "data": {
            "accountId": "acc-1",
            "envelopeId": envelope,
            "envelopeSummary": {
                "status": "completed",
                "emailSubject": "Complete with Docusign: statement of work",
                "completedDateTime": completed.to_rfc3339(),
                "customFields": {"textCustomFields": fields, "listCustomFields": []}
            }
        }
    })
    .to_string()
    .into_bytes();
    let signature = sign_docusign(&DOCUSIGN_KEY.to_owned().into(), &body);
    (body, signature)
}

/// Posts a signed body to the router; the status and the JSON answer.
async fn post_signed(
    app: &axum::Router,
    body: Vec<u8>,
    signature: String,
) -> (u16, serde_json::Value) {
    let request = axum::http::Request::post("/")
        .header("x-docusign-signature-1", signature)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = app.clone().oneshot(request).await.unwrap();
    let status = reply.status().as_u16();
    let bytes = axum::body::to_bytes(reply.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// The `contract_signed` audit rows' outcomes, in order.
async fn signed_outcomes(store: &SqliteStore) -> Vec<String> {
    store
        .query_audit(&AuditQuery::all())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind.as_str() == "contract_signed")
        .map(|r| r.event.details["outcome"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn hubspot_lookup(uri: &str) -> Arc<HubSpot> {
    Arc::new(
        HubSpot::builder(fake_hubspot::TOKEN)
            .base_url(uri)
            .legal_entity("firm-eu".parse().unwrap())
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn a_signature_naming_only_the_hubspot_deal_books_it_from_the_crm_record() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap()
        .with_crm_lookup(hubspot_lookup(&hub.uri()), flows_setup::terms);
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let now = chrono::Utc::now();
    let webhook = EsignWebhook::docusign(DOCUSIGN_KEY)
        .clock(odoo_connect::core::clock::ManualClock::new(now))
        .build()
        .unwrap();
    let app = webhook.router(QueueDeliver::new(flows.clone(), store.clone()));
    let (partners, orders, projects) = (
        fake.count("res.partner"),
        fake.count("sale.order"),
        fake.count("project.project"),
    );

    // Completed three days ago; the failed delivery republished now.
    let completed = now - chrono::Duration::days(3);
    let (body, signature) = crm_only_completion("1002", "env-1002", completed, now, &[]);
    let (status, answer) = post_signed(&app, body, signature).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let p = pipeline(&flows, store.clone());
    let report = drain(&p).await;
    assert_eq!(report.done, 1, "{report:?}");
    assert!(
        store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap()
            .is_empty()
    );

    // Booked from HubSpot's deal 1002 and its company 502: one partner, order and project.
    assert_eq!(fake.count("res.partner") - partners, 1);
    assert_eq!(fake.count("sale.order") - orders, 1);
    assert_eq!(fake.count("project.project") - projects, 1);
    assert_eq!(
        fake.count_where(
            "sale.order",
            json!([["origin", "=", "hubspot-deal-1002"], ["state", "=", "sale"]])
        ),
        1
    );
    assert_eq!(
        fake.count_where("res.partner", json!([["ref", "=", "hubspot-company-502"]])),
        1
    );
    let crm = odoo_connect::canonical::ExternalRef::new("hubspot", "1002");
    let booked = flows.book().by_crm(&crm).expect("booked from the CRM deal");
    assert_eq!(booked.contract.key.as_str(), "hubspot-deal-1002");
    assert_eq!(booked.contract.title, "Finance transformation");
    assert_eq!(booked.contract.signed_on, Some(completed.date_naive()));
    assert_eq!(
        booked.contract.status,
        odoo_connect::canonical::ContractStatus::Active
    );
    assert_eq!(booked.contract.refs.get("docusign"), Some("env-1002"));
    assert_eq!(signed_outcomes(&store).await, ["booking_from_crm"]);

    // A second envelope for the same deal (signed again): linked, not booked twice.
    let (body, signature) = crm_only_completion("1002", "env-1002-b", now, now, &[]);
    assert_eq!(post_signed(&app, body, signature).await.0, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(drain(&p).await.done, 1);
    assert_eq!(fake.count("sale.order") - orders, 1);
    assert_eq!(fake.count("res.partner") - partners, 1);
    assert_eq!(
        signed_outcomes(&store).await,
        ["booking_from_crm", "linked"]
    );
}

#[tokio::test]
async fn a_signature_of_a_deal_already_booked_from_the_crm_is_linked_not_booked_twice() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let flows = flows_setup::flows(odoo.clone())
        .await
        .unwrap()
        .with_crm_lookup(hubspot_lookup(&hub.uri()), flows_setup::terms);
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    // The CRM's won deals are booked first.
    let p = pipeline(&flows, store.clone());
    p.submit_batch(&deal_envelopes(&flows, &hub.uri()).await)
        .await
        .unwrap();
    assert_eq!(drain(&p).await.done, 3);
    let orders = fake.count("sale.order");
    let partners = fake.count("res.partner");

    // Another worker (a new process: an empty book) receives the signature of deal 1001, under
    // a contract key of the envelope's own: found by its CRM deal in the facts, and linked.
    let other = flows_setup::flows(odoo)
        .await
        .unwrap()
        .with_crm_lookup(hubspot_lookup(&hub.uri()), flows_setup::terms);
    let now = chrono::Utc::now();
    let webhook = EsignWebhook::docusign(DOCUSIGN_KEY)
        .clock(odoo_connect::core::clock::ManualClock::new(now))
        .build()
        .unwrap();
    let app = webhook.router(QueueDeliver::new(other.clone(), store.clone()));
    let (body, signature) = crm_only_completion(
        "1001",
        "env-1001",
        now,
        now,
        &[("contract_key", "msa-acme-2025")],
    );
    assert_eq!(post_signed(&app, body, signature).await.0, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let report = drain(&pipeline(&other, store.clone())).await;
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(fake.count("sale.order"), orders, "not booked twice");
    assert_eq!(fake.count("res.partner"), partners);
    assert_eq!(
        fake.count_where("sale.order", json!([["origin", "=", "msa-acme-2025"]])),
        0
    );
    assert_eq!(signed_outcomes(&store).await, ["linked"]);
    let linked = store
        .query_audit(&AuditQuery::all())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.event.kind.as_str() == "contract_signed")
        .unwrap();
    assert_eq!(linked.event.details["contract"], "hubspot-deal-1001");
    assert_eq!(linked.event.details["envelope"], "docusign:env-1001");
}

#[tokio::test]
async fn a_signature_that_cannot_be_booked_from_the_crm_is_held_with_its_reason() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let plain = flows_setup::flows(flows_setup::odoo_connect_client(&fake).unwrap())
        .await
        .unwrap();
    let with_lookup = plain
        .clone()
        .with_crm_lookup(hubspot_lookup(&hub.uri()), flows_setup::terms);
    let now = chrono::Utc::now();
    let orders = fake.count("sale.order");
    for (flows, deal, reason) in [
        (&plain, "1002", "no_crm_lookup"),
        (&with_lookup, "9999", "crm_deal_not_found"),
    ] {
        let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        let webhook = EsignWebhook::docusign(DOCUSIGN_KEY)
            .clock(odoo_connect::core::clock::ManualClock::new(now))
            .build()
            .unwrap();
        let app = webhook.router(QueueDeliver::new(flows.clone(), store.clone()));
        let (body, signature) = crm_only_completion(deal, &format!("env-{deal}"), now, now, &[]);
        assert_eq!(post_signed(&app, body, signature).await.0, 200);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let report = drain(&pipeline(flows, store.clone())).await;
        assert_eq!(report.held, 1, "{report:?}");
        let letters = store
            .list_dead_letters(&DeadLetterFilter::all())
            .await
            .unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].failure.class, FailureClass::Business);
        assert_eq!(letters[0].failure.reason, reason, "{:?}", letters[0]);
        assert_ne!(letters[0].failure.reason, "no_client");
    }
    assert_eq!(fake.count("sale.order"), orders);
}
