//! The signed-contract webhook: verification, rejections and the HTTP receiver.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use odoo_connect::canonical::ContractStatus;
use odoo_connect::connector::conformance::{EventCheck, check_event_source, check_secrets_hidden};
use odoo_connect::connector::esign_webhook::{EsignWebhook, MAX_BODY_BYTES, serve, sign};
use odoo_connect::connector::{EventSource, HeaderMap, PushedEvent, Record, Rejection};
use secrecy::SecretString;
use serde_json::Value;

const KEY: &str = "whsec_9f86d081884c7d659a2feaa0c55ad015";
const NEXT_KEY: &str = "whsec_2c26b46b68ffc68ff99b453c1d304134";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/connectors/esign_webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-06T14:51:44Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn signed(body: &[u8], key: &str, ts: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-esign-timestamp", ts.parse().unwrap());
    headers.insert(
        "x-esign-signature",
        sign(&SecretString::from(key), ts, body).parse().unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    headers
}

fn event(body: &[u8]) -> PushedEvent {
    let ts = at().timestamp().to_string();
    PushedEvent::received_at(signed(body, KEY, &ts), body.to_vec(), at())
}

fn webhook() -> EsignWebhook {
    EsignWebhook::builder(KEY)
        .replay_window(Duration::from_secs(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    let webhook = webhook();
    let report = check_event_source(
        &webhook,
        &EventCheck::new(event(&fixture("envelope_completed.json")))
            .signature_header("x-esign-signature")
            .replay_window(webhook.replay_window()),
    )
    .await;
    println!("{report}");
    report.assert_passed();
    check_secrets_hidden(&webhook, &[KEY]).assert_passed();
}

#[tokio::test]
async fn a_completed_envelope_is_a_signed_contract() {
    let changes = webhook()
        .receive(&event(&fixture("envelope_completed.json")))
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(
        change.id.as_str(),
        "docusign:contract:93be49ab-afa0-4adf-933c-f752070d71ec:completed"
    );
    let Record::Contract(contract) = &change.record else {
        panic!("not a contract")
    };
    assert_eq!(contract.key.as_str(), "hubspot-deal-1001");
    assert_eq!(contract.client.as_str(), "hubspot-company-501");
    assert_eq!(contract.title, "ERP roll-out phase 1");
    assert_eq!(contract.status, ContractStatus::Signed);
    assert_eq!(contract.signed_on, NaiveDate::from_ymd_opt(2024, 3, 6));
    assert_eq!(
        contract.start_date,
        NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
    );
    assert_eq!(
        contract.refs.get("docusign"),
        Some("93be49ab-afa0-4adf-933c-f752070d71ec")
    );
}

fn rejection(
    result: Result<Vec<odoo_connect::connector::Change>, odoo_connect::connector::ConnectorError>,
) -> Rejection {
    result.unwrap_err().rejection().cloned().unwrap()
}

#[tokio::test]
async fn refusals_are_typed() {
    let webhook = webhook();
    let body = fixture("envelope_completed.json");
    let ts = at().timestamp().to_string();

    // Unsigned.
    let mut headers = HeaderMap::new();
    headers.insert("x-esign-timestamp", ts.parse().unwrap());
    let r = rejection(
        webhook
            .receive(&PushedEvent::received_at(headers, body.clone(), at()))
            .await,
    );
    assert!(matches!(r, Rejection::Unsigned { .. }));
    assert_eq!(r.status_code(), 401);

    // Signed with another key.
    let e = PushedEvent::received_at(signed(&body, "someone-else", &ts), body.clone(), at());
    assert_eq!(
        rejection(webhook.receive(&e).await),
        Rejection::BadSignature
    );

    // The timestamp changed after signing.
    let mut headers = signed(&body, KEY, &ts);
    headers.insert(
        "x-esign-timestamp",
        (at().timestamp() + 1).to_string().parse().unwrap(),
    );
    let e = PushedEvent::received_at(headers, body.clone(), at());
    assert_eq!(
        rejection(webhook.receive(&e).await),
        Rejection::BadSignature
    );

    // No timestamp.
    let mut headers = signed(&body, KEY, &ts);
    headers.remove("x-esign-timestamp");
    let e = PushedEvent::received_at(headers, body.clone(), at());
    assert!(matches!(
        rejection(webhook.receive(&e).await),
        Rejection::NoTimestamp { .. }
    ));

    // Stale, and too far in the future.
    for late in [301, -301] {
        let e = PushedEvent::received_at(
            signed(&body, KEY, &ts),
            body.clone(),
            at() + chrono::Duration::seconds(late),
        );
        let r = rejection(webhook.receive(&e).await);
        assert!(
            matches!(
                r,
                Rejection::Stale {
                    window_secs: 300,
                    ..
                }
            ),
            "{r}"
        );
        assert_eq!(r.status_code(), 401);
    }

    // Signed, but not an envelope event: 400.
    let r = rejection(webhook.receive(&event(b"<xml/>")).await);
    assert!(matches!(r, Rejection::Malformed { .. }));
    assert_eq!(r.status_code(), 400);

    // Signed, but the contract's custom fields are missing: 400 naming the field.
    let mut json: Value = serde_json::from_slice(&body).unwrap();
    json["data"]["envelopeSummary"]["customFields"]["textCustomFields"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["name"] != "currency");
    let r = rejection(
        webhook
            .receive(&event(&serde_json::to_vec(&json).unwrap()))
            .await,
    );
    assert!(r.to_string().contains("currency"), "{r}");
    assert_eq!(r.status_code(), 400);

    // Another event kind is acknowledged and ignored.
    let r = rejection(
        webhook
            .receive(&event(&fixture("envelope_sent.json")))
            .await,
    );
    assert_eq!(r.status_code(), 202);
}

#[tokio::test]
async fn a_rotated_key_and_hex_signatures_verify() {
    let webhook = EsignWebhook::builder(KEY)
        .add_key(NEXT_KEY)
        .build()
        .unwrap();
    let body = fixture("envelope_completed.json");
    let ts = "2024-03-06T14:51:43Z";
    let e = PushedEvent::received_at(signed(&body, NEXT_KEY, ts), body.clone(), at());
    assert_eq!(webhook.receive(&e).await.unwrap().len(), 1);

    let b64 = sign(&SecretString::from(KEY), ts, &body);
    let raw = base64_decode(&b64);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut headers = signed(&body, KEY, ts);
    headers.insert(
        "x-esign-signature",
        format!("sha256={hex}").parse().unwrap(),
    );
    let e = PushedEvent::received_at(headers, body, at());
    assert_eq!(webhook.receive(&e).await.unwrap().len(), 1);
    assert!(EsignWebhook::builder("").build().is_err());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn the_http_receiver_answers_and_delivers() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, webhook(), tx, "/webhooks/esign"));
    let url = format!("http://{addr}/webhooks/esign");
    let http = reqwest::Client::new();
    let body = fixture("envelope_completed.json");

    let post = |headers: HeaderMap, body: Vec<u8>| {
        let request = http.post(&url).headers(headers).body(body);
        async move {
            let reply = request.send().await.unwrap();
            let status = reply.status().as_u16();
            let json: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
            (status, json)
        }
    };
    let now = Utc::now().timestamp().to_string();

    let (status, json) = post(signed(&body, KEY, &now), body.clone()).await;
    assert_eq!((status, json["status"].as_str()), (200, Some("accepted")));
    let first = rx.recv().await.unwrap();
    // Delivered twice (a sender's retry): the same change id, for the sync to drop.
    let (status, _) = post(signed(&body, KEY, &now), body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(rx.recv().await.unwrap().id, first.id);

    let (status, json) = post(HeaderMap::new(), body.clone()).await;
    assert_eq!(status, 401);
    assert!(json["reason"].as_str().unwrap().contains("not signed"));
    let old = (Utc::now().timestamp() - 3600).to_string();
    let (status, json) = post(signed(&body, KEY, &old), body.clone()).await;
    assert_eq!(status, 401);
    assert!(json["reason"].as_str().unwrap().contains("replay window"));
    let (status, _) = post(signed(b"{", KEY, &now), b"{".to_vec()).await;
    assert_eq!(status, 400);

    let (status, _) = post(signed(&body, KEY, &now), vec![b' '; MAX_BODY_BYTES + 1]).await;
    assert_eq!(status, 413);
    let reply = http.get(&url).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 405);
    let reply = http
        .post(format!("http://{addr}/elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 404);

    // The queue is gone: 503, so the sender tries again later.
    drop(rx);
    let (status, _) = post(signed(&body, KEY, &now), body.clone()).await;
    assert_eq!(status, 503);
    server.abort();
}
