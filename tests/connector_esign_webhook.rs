//! The signed-contract webhook: DocuSign Connect (HMAC of the body in `X-DocuSign-Signature-<n>`,
//! accepted whatever its age, JSON SIM events), the generic profile, and the receiver as an axum
//! router / tower service.
//!
//! The DocuSign fixtures (tests/fixtures/connectors/docusign/) follow the documented JSON SIM
//! message shape: `event`, `apiVersion`, `uri`, `retryCount`, `configurationId`,
//! `generatedDateTime`, `data.accountId`, `data.envelopeId` and `data.envelopeSummary` with its
//! `customFields.textCustomFields` / `listCustomFields`.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use odoo_connect::canonical::{ContractStatus, Currency, ExternalRef};
use odoo_connect::connector::conformance::{EventCheck, check_event_source, check_secrets_hidden};
use odoo_connect::connector::esign_webhook::tower::ServiceExt;
use odoo_connect::connector::esign_webhook::{
    EsignWebhook, FieldNames, MAX_BODY_BYTES, ManualClock, Profile, Received, axum, serve, sign,
    sign_docusign,
};
use odoo_connect::connector::{
    Change, ConnectorError, Deliver, DeliverError, Delivered, EventSource, HeaderMap, PushedEvent,
    Record, RecordKind, Rejected, Rejection,
};
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "dsk_4b1f0c6e2a9d4e7b8c3a5f1e0d2b7c9a";
const NEXT_KEY: &str = "dsk_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/connectors/{dir}/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn docusign_fixture(name: &str) -> Vec<u8> {
    fixture("docusign", name)
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A few seconds after the completed fixture's `generatedDateTime`.
fn at() -> DateTime<Utc> {
    time("2025-06-12T09:30:18Z")
}

/// DocuSign's headers: one `X-DocuSign-Signature-<n>` per key.
fn docusign_headers(body: &[u8], keys: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (i, key) in keys.iter().enumerate() {
        let name = format!("x-docusign-signature-{}", i + 1);
        let value = sign_docusign(&SecretString::from(*key), body);
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    headers.insert("x-authorization-digest", "HMACSHA256".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    headers
}

fn docusign_event(body: &[u8], at: DateTime<Utc>) -> PushedEvent {
    PushedEvent::received_at(docusign_headers(body, &[KEY]), body.to_vec(), at)
}

fn docusign() -> EsignWebhook {
    EsignWebhook::docusign(KEY).build().unwrap()
}

fn rejection(result: Result<Vec<Change>, ConnectorError>) -> Rejection {
    result.unwrap_err().rejection().cloned().unwrap()
}

fn read(webhook: &EsignWebhook, event: &PushedEvent) -> Received {
    webhook.read(event).unwrap()
}

// ---------------------------------------------------------------------------------------------
// DocuSign profile
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn docusign_passes_the_conformance_kit() {
    let webhook = EsignWebhook::docusign(KEY)
        .add_key(NEXT_KEY)
        .build()
        .unwrap();
    let body = docusign_fixture("envelope_completed.json");
    let report = check_event_source(
        &webhook,
        // No replay window: a signed DocuSign delivery is accepted whatever its age.
        &EventCheck::new(docusign_event(&body, at())).signature_header("x-docusign-signature-1"),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    check_secrets_hidden(&webhook, &[KEY, NEXT_KEY]).assert_passed();
    assert_eq!(webhook.profile(), Profile::DocuSign);
    assert_eq!(webhook.replay_window(), None);
    assert_eq!(webhook.signature_header(), "x-docusign-signature-1");
}

#[tokio::test]
async fn a_completed_envelope_is_a_signed_contract_linked_to_its_deal() {
    let body = docusign_fixture("envelope_completed.json");
    let changes = docusign()
        .receive(&docusign_event(&body, at()))
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    // accountId + envelopeId + event: JSON SIM messages have no event id.
    assert_eq!(
        change.id.as_str(),
        "docusign:contract:c3f1a2b4-5d6e-4f70-8192-a3b4c5d6e7f8/4f2c9e1a-7b3d-4e5f-a6b7-c8d9e0f1a2b3:envelope-completed"
    );
    assert_eq!(change.external.id, "4f2c9e1a-7b3d-4e5f-a6b7-c8d9e0f1a2b3");
    assert_eq!(change.updated_at, time("2025-06-12T09:30:11.74Z"));
    let Record::Contract(contract) = &change.record else {
        panic!("not a contract")
    };
    // The CRM link: crm_system + crm_opportunity_id (text custom fields).
    assert_eq!(contract.key.as_str(), "hubspot-deal-2002");
    assert_eq!(contract.refs.get("hubspot"), Some("2002"));
    assert_eq!(
        contract.refs.get("docusign"),
        Some("4f2c9e1a-7b3d-4e5f-a6b7-c8d9e0f1a2b3")
    );
    assert_eq!(contract.client.as_str(), "hubspot-company-777");
    // Legal entity and currency come from list custom fields.
    assert_eq!(contract.legal_entity.as_str(), "firm-eu");
    assert_eq!(contract.currency, Currency::EUR);
    assert_eq!(contract.title, "Data platform migration");
    assert_eq!(contract.status, ContractStatus::Signed);
    assert_eq!(contract.signed_on, NaiveDate::from_ymd_opt(2025, 6, 12));
    assert_eq!(
        contract.start_date,
        NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
    );
}

#[tokio::test]
async fn custom_field_names_and_defaults_are_configurable() {
    let mut json: Value =
        serde_json::from_slice(&docusign_fixture("envelope_completed.json")).unwrap();
    let summary = &mut json["data"]["envelopeSummary"]["customFields"];
    for f in summary["textCustomFields"].as_array_mut().unwrap() {
        if f["name"] == "crm_opportunity_id" {
            f["name"] = "SF Opportunity".into();
            f["value"] = "0065g00000AbCdE".into();
        }
    }
    summary["textCustomFields"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["name"] != "crm_system");
    summary["listCustomFields"] = Value::Array(vec![]);
    let body = serde_json::to_vec(&json).unwrap();
    let webhook = EsignWebhook::docusign(KEY)
        .fields(
            FieldNames::default()
                .crm("CRM", "SF Opportunity")
                .default_crm_system("salesforce"),
        )
        .legal_entity("firm-uk".parse().unwrap())
        .currency(Currency::GBP)
        .build()
        .unwrap();
    let changes = webhook.receive(&docusign_event(&body, at())).await.unwrap();
    let Record::Contract(contract) = &changes[0].record else {
        panic!("not a contract")
    };
    assert_eq!(
        contract.key.as_str(),
        "salesforce-opportunity-0065g00000AbCdE"
    );
    assert_eq!(contract.client.as_str(), "salesforce-account-777");
    assert_eq!(contract.legal_entity.as_str(), "firm-uk");
    assert_eq!(contract.currency, Currency::GBP);
}

#[tokio::test]
async fn any_active_key_verifies_so_rotation_works() {
    let body = docusign_fixture("envelope_completed.json");
    let rotating = EsignWebhook::docusign(KEY)
        .add_key(NEXT_KEY)
        .build()
        .unwrap();
    // DocuSign signs with the new key only (the old one deleted there first).
    let e = PushedEvent::received_at(docusign_headers(&body, &[NEXT_KEY]), body.clone(), at());
    assert_eq!(rotating.receive(&e).await.unwrap().len(), 1);
    // Two headers, the first from a key we do not know: the second is enough.
    let e = PushedEvent::received_at(
        docusign_headers(&body, &["dsk_someone_else", KEY]),
        body.clone(),
        at(),
    );
    assert_eq!(docusign().receive(&e).await.unwrap().len(), 1);
    // A receiver that does not know the new key refuses.
    let e = PushedEvent::received_at(docusign_headers(&body, &[NEXT_KEY]), body.clone(), at());
    assert_eq!(
        rejection(docusign().receive(&e).await),
        Rejection::BadSignature
    );
    assert!(EsignWebhook::docusign("").build().is_err());
}

/// DocuSign for HubSpot (or Salesforce) sends the deal and nothing of the client: a signature to
/// book from the CRM record, not a hold. This one was republished three days after completion.
#[tokio::test]
async fn an_envelope_naming_only_the_crm_deal_is_a_signature_to_book_from_the_crm() {
    let webhook = EsignWebhook::docusign(KEY)
        .legal_entity("firm-uk".parse().unwrap())
        .currency(Currency::GBP)
        .build()
        .unwrap();
    let body = docusign_fixture("envelope_completed_crm_only.json");
    let changes = webhook
        .receive(&docusign_event(&body, time("2025-06-15T11:02:49Z")))
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(
        change.id.as_str(),
        "docusign:contract:c3f1a2b4-5d6e-4f70-8192-a3b4c5d6e7f8/7a1e3c5b-9d2f-4b6a-8c0e-1f3a5b7c9d2e:envelope-completed"
    );
    assert_eq!(change.kind(), RecordKind::Contract);
    let Record::Signature(signed) = &change.record else {
        panic!("not a signature: {:?}", change.record)
    };
    assert_eq!(signed.contract.as_str(), "hubspot-deal-1002");
    assert_eq!(signed.crm, ExternalRef::new("hubspot", "1002"));
    assert_eq!(
        signed.envelope,
        ExternalRef::new("docusign", "7a1e3c5b-9d2f-4b6a-8c0e-1f3a5b7c9d2e")
    );
    assert_eq!(
        signed.signed_on,
        NaiveDate::from_ymd_opt(2025, 6, 12).unwrap()
    );
    // The envelope names nothing else, and the builder's defaults do not apply: the CRM decides.
    assert_eq!(signed.legal_entity, None);
    assert_eq!(signed.currency, None);
    assert_eq!(signed.start_date, None);
    assert_eq!(signed.title, None);
    assert_eq!(change.record.key(), "hubspot-deal-1002");
}

#[tokio::test]
async fn a_redelivery_has_the_same_change_id() {
    let webhook = docusign();
    let first = webhook
        .receive(&docusign_event(
            &docusign_fixture("envelope_completed.json"),
            at(),
        ))
        .await
        .unwrap();
    // DocuSign retried: retryCount 2, generated ten minutes later.
    let retry = docusign_fixture("envelope_completed_retry.json");
    let again = webhook
        .receive(&docusign_event(&retry, time("2025-06-12T09:41:05Z")))
        .await
        .unwrap();
    assert_eq!(first[0].id, again[0].id);
    assert_eq!(first[0].record, again[0].record);
}

#[tokio::test]
async fn a_completion_without_crm_reference_is_a_business_hold() {
    let webhook = docusign();
    let body = docusign_fixture("envelope_completed_no_crm.json");
    let Received::SetAside(held) = read(&webhook, &docusign_event(&body, at())) else {
        panic!("not set aside")
    };
    assert!(held.is_business(), "{held:?}");
    assert!(
        held.reason.starts_with("no_crm_reference"),
        "{}",
        held.reason
    );
    assert_eq!(
        held.location.to_string(),
        "record 9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a"
    );
    assert_eq!(held.raw.as_bytes(), &body[..]);
    // Through the EventSource trait: acknowledged (not retried), with the reason.
    let r = rejection(webhook.receive(&docusign_event(&body, at())).await);
    assert!(
        matches!(&r, Rejection::Ignored { reason } if reason.starts_with("held: no_crm_reference")),
        "{r}"
    );
}

#[tokio::test]
async fn a_missing_client_or_an_unreadable_value_is_set_aside() {
    let base: Value = serde_json::from_slice(&docusign_fixture("envelope_completed.json")).unwrap();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut json = base.clone();
        f(&mut json["data"]["envelopeSummary"]["customFields"]);
        serde_json::to_vec(&json).unwrap()
    };
    let webhook = docusign();

    // No client and no CRM deal to read it from (a contract key only): no_client.
    let no_client = edit(&|c| {
        c["textCustomFields"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["name"] != "crm_account_id" && f["name"] != "crm_opportunity_id");
        c["textCustomFields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "contract_key", "value": "msa-2025-17"}));
    });
    let Received::SetAside(r) = read(&webhook, &docusign_event(&no_client, at())) else {
        panic!("not set aside")
    };
    assert!(
        r.is_business() && r.reason.starts_with("no_client"),
        "{r:?}"
    );
    // A value of a signature that names only the CRM deal cannot be read: set aside too.
    let bad_date = edit(&|c| {
        c["textCustomFields"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["name"] != "crm_account_id");
        c["textCustomFields"][2]["value"] = "next week".into();
    });
    let Received::SetAside(r) = read(&webhook, &docusign_event(&bad_date, at())) else {
        panic!("not set aside")
    };
    assert!(!r.is_business() && r.reason.contains("start_date"), "{r:?}");

    let no_currency = edit(&|c| {
        c["listCustomFields"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["name"] != "currency")
    });
    let Received::SetAside(r) = read(&webhook, &docusign_event(&no_currency, at())) else {
        panic!("not set aside")
    };
    assert!(
        r.is_business() && r.reason.starts_with("no_currency"),
        "{r:?}"
    );

    let bad_currency = edit(&|c| c["listCustomFields"][1]["value"] = "EURO".into());
    let Received::SetAside(r) = read(&webhook, &docusign_event(&bad_currency, at())) else {
        panic!("not set aside")
    };
    assert!(!r.is_business() && r.reason.contains("currency"), "{r:?}");
    let r = rejection(webhook.receive(&docusign_event(&bad_currency, at())).await);
    assert_eq!(r.status_code(), 400);
}

#[tokio::test]
async fn other_events_are_acknowledged_and_ignored() {
    let body = docusign_fixture("envelope_sent.json");
    let e = docusign_event(&body, time("2025-06-10T15:04:04Z"));
    assert_eq!(
        read(&docusign(), &e),
        Received::Ignored {
            event: "envelope-sent".into()
        }
    );
    assert_eq!(docusign().ack_status(), 200);
}

/// DocuSign retries a failed delivery (at least 24 hours apart after the second failure, up to ten
/// times) and an administrator can republish failures later still
/// (`PUT .../connect/envelopes/retry_queue`): a signed delivery is accepted whatever its age.
#[tokio::test]
async fn freshness_never_refuses_a_correctly_signed_delivery() {
    let webhook = docusign();
    let body = docusign_fixture("envelope_completed.json");
    // Republished three days after it was generated.
    let late = time("2025-06-15T09:30:16Z");
    let changes = webhook.receive(&docusign_event(&body, late)).await.unwrap();
    assert_eq!(changes.len(), 1);
    // The same change id as the first delivery would have had.
    let first = webhook.receive(&docusign_event(&body, at())).await.unwrap();
    assert_eq!(changes[0].id, first[0].id);
    // DocuSign's own retry (retryCount 2), nine days on.
    let retry = docusign_fixture("envelope_completed_retry.json");
    let e = docusign_event(&retry, time("2025-06-21T10:00:00Z"));
    assert_eq!(webhook.receive(&e).await.unwrap()[0].id, first[0].id);
    // A window set on the builder does not apply to DocuSign.
    let windowed = EsignWebhook::docusign(KEY)
        .replay_window(Duration::from_secs(600))
        .build()
        .unwrap();
    assert_eq!(windowed.replay_window(), None);
    assert_eq!(
        windowed
            .receive(&docusign_event(&body, late))
            .await
            .unwrap()
            .len(),
        1
    );
    // A generatedDateTime ahead of the receiver's clock, or none at all: still accepted.
    let early = time("2025-06-12T09:20:00Z");
    assert!(webhook.receive(&docusign_event(&body, early)).await.is_ok());
    let mut json: Value = serde_json::from_slice(&body).unwrap();
    json.as_object_mut().unwrap().remove("generatedDateTime");
    let no_time = serde_json::to_vec(&json).unwrap();
    assert!(
        webhook
            .receive(&docusign_event(&no_time, at()))
            .await
            .is_ok()
    );

    // Another event, ten days old: acknowledged (200) and ignored, not refused.
    let sent = docusign_fixture("envelope_sent.json");
    let e = docusign_event(&sent, time("2025-06-20T15:04:04Z"));
    assert_eq!(
        read(&webhook, &e),
        Received::Ignored {
            event: "envelope-sent".into()
        }
    );

    // Only the signature decides: an old delivery signed by someone else is still 401.
    let forged = PushedEvent::received_at(
        docusign_headers(&body, &["dsk_someone_else"]),
        body.clone(),
        late,
    );
    let r = rejection(webhook.receive(&forged).await);
    assert_eq!(r, Rejection::BadSignature);
    assert_eq!(r.status_code(), 401);
    let unsigned = PushedEvent::received_at(HeaderMap::new(), body.clone(), late);
    assert!(matches!(
        rejection(webhook.receive(&unsigned).await),
        Rejection::Unsigned { .. }
    ));
}

#[tokio::test]
async fn refusals_are_typed() {
    let webhook = docusign();
    let body = docusign_fixture("envelope_completed.json");

    // Unsigned (HMAC not enabled on the Connect configuration).
    let r = rejection(
        webhook
            .receive(&PushedEvent::received_at(
                HeaderMap::new(),
                body.clone(),
                at(),
            ))
            .await,
    );
    assert!(matches!(r, Rejection::Unsigned { .. }), "{r}");
    assert_eq!(r.status_code(), 401);

    // Tampered: one byte of the body changed after signing.
    let mut tampered = body.clone();
    let i = tampered.iter().position(|&b| b == b'2').unwrap();
    tampered[i] = b'3';
    let e = PushedEvent::received_at(docusign_headers(&body, &[KEY]), tampered, at());
    assert_eq!(
        rejection(webhook.receive(&e).await),
        Rejection::BadSignature
    );

    // A signature that is not base64.
    let mut headers = docusign_headers(&body, &[KEY]);
    headers.insert("x-docusign-signature-1", "not a signature".parse().unwrap());
    let e = PushedEvent::received_at(headers, body.clone(), at());
    assert_eq!(
        rejection(webhook.receive(&e).await),
        Rejection::BadSignature
    );

    // Signed, but not JSON: 400, and the reason does not repeat the body.
    let r = rejection(
        webhook
            .receive(&docusign_event(b"<xml>secret</xml>", at()))
            .await,
    );
    assert!(matches!(r, Rejection::Malformed { .. }), "{r}");
    assert_eq!(r.status_code(), 400);
    assert!(!r.to_string().contains("secret"), "{r}");
}

// ---------------------------------------------------------------------------------------------
// The router (a tower service)
// ---------------------------------------------------------------------------------------------

async fn call(
    router: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (u16, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post(headers: &HeaderMap, body: Vec<u8>) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::post("/")
        .body(axum::body::Body::from(body))
        .unwrap();
    *request.headers_mut() = headers.clone();
    request
}

/// Keeps what it was given once (by change id, as the queue does), counting the replays; fails
/// while `fail` is set.
#[derive(Default)]
struct Recorder {
    changes: std::sync::Mutex<Vec<Change>>,
    replays: std::sync::Mutex<Vec<Change>>,
    held: std::sync::Mutex<Vec<Rejected>>,
    fail: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Deliver<Change> for Recorder {
    async fn deliver(&self, changes: Vec<Change>) -> Result<(), DeliverError> {
        self.deliver_counted(changes).await.map(|_| ())
    }

    async fn deliver_counted(&self, changes: Vec<Change>) -> Result<Delivered, DeliverError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliverError::new("store the changes", "store down"));
        }
        let mut kept = self.changes.lock().unwrap();
        let (mut added, mut known) = (0, 0);
        for change in changes {
            if kept.iter().any(|c| c.id == change.id) {
                known += 1;
                self.replays.lock().unwrap().push(change);
            } else {
                added += 1;
                kept.push(change);
            }
        }
        Ok(Delivered::new(added, known))
    }

    async fn set_aside(&self, _system: &str, rejected: Rejected) -> Result<(), DeliverError> {
        self.held.lock().unwrap().push(rejected);
        Ok(())
    }
}

#[tokio::test]
async fn the_router_delivers_before_answering() {
    let recorder = std::sync::Arc::new(Recorder::default());
    let webhook = EsignWebhook::docusign(KEY)
        .clock(ManualClock::new(at()))
        .max_body_bytes(64 * 1024)
        .build()
        .unwrap();
    let router = webhook.router(recorder.clone());
    let body = docusign_fixture("envelope_completed.json");

    let (status, json) = call(
        &router,
        post(&docusign_headers(&body, &[KEY]), body.clone()),
    )
    .await;
    assert_eq!((status, json["status"].as_str()), (200, Some("accepted")));
    assert_eq!(
        (json["changes"].as_u64(), json["replayed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(recorder.changes.lock().unwrap().len(), 1);

    // Delivered again, byte for byte, and DocuSign's retry (retryCount 2): the target already
    // holds the change, so it is answered 200 "replayed" (DocuSign stops retrying) and counted.
    for again in [
        body.clone(),
        docusign_fixture("envelope_completed_retry.json"),
    ] {
        let (status, json) = call(&router, post(&docusign_headers(&again, &[KEY]), again)).await;
        assert_eq!(
            (status, json["status"].as_str()),
            (200, Some("replayed")),
            "{json}"
        );
        assert_eq!(json["replayed"].as_u64(), Some(1));
    }
    {
        let changes = recorder.changes.lock().unwrap();
        let replays = recorder.replays.lock().unwrap();
        assert_eq!((changes.len(), replays.len()), (1, 2));
        assert_eq!(changes[0].id, replays[1].id);
    }

    // Tampered: 401, nothing delivered, and the answer does not repeat the body.
    let mut tampered = body.clone();
    let i = tampered.iter().position(|&b| b == b'2').unwrap();
    tampered[i] = b'3';
    let (status, json) = call(&router, post(&docusign_headers(&body, &[KEY]), tampered)).await;
    assert_eq!(status, 401);
    assert!(!json.to_string().contains("hubspot"), "{json}");
    assert_eq!(recorder.changes.lock().unwrap().len(), 1);

    // Not JSON: 400.
    let (status, _) = call(
        &router,
        post(&docusign_headers(b"{", &[KEY]), b"{".to_vec()),
    )
    .await;
    assert_eq!(status, 400);

    // envelope-sent: 200, ignored, although its generatedDateTime is two days before the clock.
    let sent = docusign_fixture("envelope_sent.json");
    let (status, json) = call(&router, post(&docusign_headers(&sent, &[KEY]), sent)).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("ignored")));

    // No CRM reference: 200 "held", and set aside with its reason.
    let no_crm = docusign_fixture("envelope_completed_no_crm.json");
    let (status, json) = call(&router, post(&docusign_headers(&no_crm, &[KEY]), no_crm)).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("held")));
    assert!(
        recorder.held.lock().unwrap()[0]
            .reason
            .starts_with("no_crm_reference")
    );

    // Too large: 413. Another method: 405.
    let (status, _) = call(&router, post(&HeaderMap::new(), vec![b' '; 64 * 1024 + 1])).await;
    assert_eq!(status, 413);
    let get = axum::http::Request::get("/")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(call(&router, get).await.0, 405);

    // The queue fails: 503, so that DocuSign retries.
    recorder
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, json) = call(
        &router,
        post(&docusign_headers(&body, &[KEY]), body.clone()),
    )
    .await;
    assert_eq!(
        (status, json["status"].as_str()),
        (503, Some("unavailable"))
    );
}

#[tokio::test]
async fn the_router_acknowledges_other_events_with_200() {
    let sent = docusign_fixture("envelope_sent.json");
    let webhook = EsignWebhook::docusign(KEY)
        .clock(ManualClock::new(time("2025-06-10T15:04:05Z")))
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Change>(4);
    let router = webhook.router(tx);
    let (status, json) = call(&router, post(&docusign_headers(&sent, &[KEY]), sent)).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("ignored")));
    assert!(rx.try_recv().is_err(), "nothing delivered");
}

// ---------------------------------------------------------------------------------------------
// Generic profile (timestamp header, signature of `<timestamp>.<body>`)
// ---------------------------------------------------------------------------------------------

fn generic_headers(body: &[u8], key: &str, ts: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-esign-timestamp", ts.parse().unwrap());
    headers.insert(
        "x-esign-signature",
        sign(&SecretString::from(key), ts, body).parse().unwrap(),
    );
    headers
}

fn generic_at() -> DateTime<Utc> {
    time("2024-03-06T14:51:44Z")
}

fn generic_event(body: &[u8]) -> PushedEvent {
    let ts = generic_at().timestamp().to_string();
    PushedEvent::received_at(generic_headers(body, KEY, &ts), body.to_vec(), generic_at())
}

#[tokio::test]
async fn the_generic_profile_still_verifies_timestamped_signatures() {
    let webhook = EsignWebhook::generic(KEY)
        .add_key(NEXT_KEY)
        .build()
        .unwrap();
    assert_eq!(webhook.profile(), Profile::Generic);
    let body = fixture("esign_webhook", "envelope_completed.json");
    let report = check_event_source(
        &webhook,
        &EventCheck::new(generic_event(&body))
            .signature_header("x-esign-signature")
            .replay_window(webhook.replay_window().unwrap()),
    )
    .await;
    report.assert_passed();

    let changes = webhook.receive(&generic_event(&body)).await.unwrap();
    // The generic profile keeps its earlier change ids.
    assert_eq!(
        changes[0].id.as_str(),
        "docusign:contract:93be49ab-afa0-4adf-933c-f752070d71ec:completed"
    );
    let Record::Contract(contract) = &changes[0].record else {
        panic!("not a contract")
    };
    assert_eq!(contract.key.as_str(), "hubspot-deal-1001");
    assert_eq!(contract.client.as_str(), "hubspot-company-501");

    // Rotated key, hex signature.
    let ts = "2024-03-06T14:51:43Z";
    let e = PushedEvent::received_at(
        generic_headers(&body, NEXT_KEY, ts),
        body.clone(),
        generic_at(),
    );
    assert_eq!(webhook.receive(&e).await.unwrap().len(), 1);
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sign(&SecretString::from(KEY), ts, &body))
        .unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut headers = generic_headers(&body, KEY, ts);
    headers.insert(
        "x-esign-signature",
        format!("sha256={hex}").parse().unwrap(),
    );
    let e = PushedEvent::received_at(headers, body.clone(), generic_at());
    assert_eq!(webhook.receive(&e).await.unwrap().len(), 1);

    // The timestamp changed after signing; no timestamp; too far in the future.
    let mut headers = generic_headers(&body, KEY, ts);
    headers.insert("x-esign-timestamp", "1709736704".parse().unwrap());
    let e = PushedEvent::received_at(headers, body.clone(), generic_at());
    assert_eq!(
        rejection(webhook.receive(&e).await),
        Rejection::BadSignature
    );
    let mut headers = generic_headers(&body, KEY, ts);
    headers.remove("x-esign-timestamp");
    let e = PushedEvent::received_at(headers, body.clone(), generic_at());
    assert!(matches!(
        rejection(webhook.receive(&e).await),
        Rejection::NoTimestamp { .. }
    ));
    let e = PushedEvent::received_at(
        generic_headers(&body, KEY, ts),
        body.clone(),
        generic_at() - chrono::Duration::seconds(302),
    );
    assert!(matches!(
        rejection(webhook.receive(&e).await),
        Rejection::Stale { .. }
    ));

    // Ignored events are 202 in this profile.
    let sent = fixture("esign_webhook", "envelope_sent.json");
    let r = rejection(webhook.receive(&generic_event(&sent)).await);
    assert_eq!(r.status_code(), 202);
    assert_eq!(webhook.ack_status(), 202);
}

#[tokio::test]
async fn serve_mounts_the_router_at_a_path() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, docusign(), tx, "/webhooks/docusign"));
    let url = format!("http://{addr}/webhooks/docusign");
    let http = reqwest::Client::new();
    // A message generated now, so that the system clock finds it fresh.
    let mut json: Value =
        serde_json::from_slice(&docusign_fixture("envelope_completed.json")).unwrap();
    json["generatedDateTime"] = Utc::now().to_rfc3339().into();
    let body = serde_json::to_vec(&json).unwrap();

    let reply = http
        .post(&url)
        .headers(docusign_headers(&body, &[KEY]))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert!(rx.recv().await.is_some());
    let reply = http
        .post(&url)
        .body(vec![b' '; MAX_BODY_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 413);
    let reply = http.get(&url).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 405);
    let reply = http
        .post(format!("http://{addr}/elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 404);
    server.abort();
}

/// A writer that keeps everything logged.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_from_a_refused_body_is_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let webhook = EsignWebhook::docusign(KEY)
        .clock(ManualClock::new(at()))
        .build()
        .unwrap();
    let router = webhook.router(std::sync::Arc::new(Recorder::default()));
    let body = docusign_fixture("envelope_completed.json");
    // Signed by someone else, and tampered.
    let forged = docusign_headers(&body, &["dsk_someone_else"]);
    assert_eq!(call(&router, post(&forged, body.clone())).await.0, 401);
    let mut tampered = body.clone();
    let i = tampered.iter().position(|&b| b == b'2').unwrap();
    tampered[i] = b'3';
    assert_eq!(
        call(&router, post(&docusign_headers(&body, &[KEY]), tampered))
            .await
            .0,
        401
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("webhook refused"),
        "the refusals are logged: {logs}"
    );
    for content in [
        "Ana Ferreira",
        "4f2c9e1a-7b3d-4e5f-a6b7-c8d9e0f1a2b3",
        "hubspot",
        "Data platform migration",
    ] {
        assert!(!logs.contains(content), "{content} in the logs: {logs}");
    }
}
