//! The HubSpot connector against a wiremock server answering as the v3 and v4 CRM APIs do.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use odoo_connect::canonical::{
    Currency, ExternalRef, InvoiceEvent, InvoiceLine, InvoiceStatus, Money, Payment, PaymentMethod,
};
use odoo_connect::connector::conformance::{
    ExpectedError, SourceCheck, check_error, check_secrets_hidden, check_sink, check_source,
};
use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::connector::{
    ApplyOutcome, Change, ChangeId, Cursor, ErrorKind, Record, RecordKind, Sink, Source, pull_all,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/connectors/hubspot/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Answers the deal search as HubSpot does: filters, ascending sort, `limit` and `after`.
#[derive(Clone)]
struct Search(Arc<Mutex<Vec<Value>>>);

fn modified_ms(deal: &Value) -> i64 {
    let text = deal["properties"]["hs_lastmodifieddate"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let filters = body["filterGroups"][0]["filters"].as_array().unwrap();
        let stages: Vec<&str> = filters
            .iter()
            .find(|f| f["propertyName"] == "dealstage")
            .map(|f| {
                f["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let since: i64 = filters
            .iter()
            .find(|f| f["propertyName"] == "hs_lastmodifieddate" && f["operator"] == "GTE")
            .map(|f| f["value"].as_str().unwrap().parse().unwrap())
            .unwrap_or(0);
        assert_eq!(body["sorts"][0]["direction"], "ASCENDING");
        let limit = body["limit"].as_u64().unwrap() as usize;
        assert!(limit <= 200, "HubSpot refuses a limit above 200");
        let offset: usize = body["after"].as_str().map_or(0, |a| a.parse().unwrap());
        let mut hits: Vec<Value> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|d| stages.contains(&d["properties"]["dealstage"].as_str().unwrap()))
            .filter(|d| modified_ms(d) >= since)
            .cloned()
            .collect();
        hits.sort_by_key(|d| (modified_ms(d), d["id"].as_str().unwrap().to_owned()));
        let page: Vec<Value> = hits.iter().skip(offset).take(limit).cloned().collect();
        let mut reply = json!({"total": hits.len(), "results": page});
        if offset + limit < hits.len() {
            let after = (offset + limit).to_string();
            reply["paging"] = json!({"next": {
                "after": after,
                "link": format!("https://api.hubapi.com/crm/v3/objects/deals/search?after={after}")
            }});
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

/// Answers a batch read with the fixture's entries for the ids asked.
struct Batch {
    results: Vec<Value>,
    id: fn(&Value) -> String,
}

impl Respond for Batch {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let wanted: BTreeSet<String> = body["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        let results: Vec<Value> = self
            .results
            .iter()
            .filter(|r| wanted.contains(&(self.id)(r)))
            .cloned()
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2024-03-05T09:00:00.000Z",
            "completedAt": "2024-03-05T09:00:00.120Z"
        }))
    }
}

async fn fake_hubspot() -> (MockServer, Arc<Mutex<Vec<Value>>>) {
    let server = MockServer::start().await;
    let deals = Arc::new(Mutex::new(
        fixture("deals.json").as_array().unwrap().clone(),
    ));
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(Search(deals.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/deals/companies/batch/read"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(Batch {
            results: fixture("associations.json")["results"]
                .as_array()
                .unwrap()
                .clone(),
            id: |r| r["from"]["id"].as_str().unwrap().to_owned(),
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/companies/batch/read"))
        .and(header("authorization", bearer.as_str()))
        .and(body_partial_json(json!({"properties": ["name", "address", "address2", "city", "zip", "state", "country", "hs_lastmodifieddate"]})))
        .respond_with(Batch {
            results: fixture("companies.json").as_array().unwrap().clone(),
            id: |r| r["id"].as_str().unwrap().to_owned(),
        })
        .mount(&server)
        .await;
    (server, deals)
}

fn connector(server: &MockServer) -> HubSpot {
    HubSpot::builder(TOKEN)
        .base_url(server.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    let (server, _) = fake_hubspot().await;
    let hubspot = connector(&server);
    // Six won deals map to a client and a contract each; two are rejected; one is not won.
    for page_size in [1, 2, 3, 100] {
        let report = check_source(
            &hubspot,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(12)
                .expect_rejected(2),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
    check_secrets_hidden(&hubspot, &[TOKEN]).assert_passed();
}

#[tokio::test]
async fn won_deals_become_clients_and_contracts() {
    let (server, _) = fake_hubspot().await;
    let hubspot = connector(&server);
    let all = pull_all(&hubspot, None, 2, 100).await.unwrap();
    assert!(!all.has_more);

    let contracts: Vec<_> = all
        .items
        .iter()
        .filter_map(|c| match &c.record {
            Record::Contract(k) => Some((c, k)),
            _ => None,
        })
        .collect();
    let keys: Vec<_> = contracts.iter().map(|(_, k)| k.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "hubspot-deal-1001",
            "hubspot-deal-1002",
            "hubspot-deal-1003",
            "hubspot-deal-1004",
            "hubspot-deal-1008",
            "hubspot-deal-1009"
        ]
    );
    let (change, us) = contracts[4];
    assert_eq!(us.title, "US tax advisory");
    assert_eq!(us.currency, Currency::USD);
    assert_eq!(us.client.as_str(), "hubspot-company-505");
    assert_eq!(us.start_date, NaiveDate::from_ymd_opt(2024, 3, 3).unwrap());
    assert_eq!(us.refs.get("hubspot"), Some("1008"));
    assert_eq!(change.external, ExternalRef::new("hubspot", "1008"));
    assert_eq!(change.id.as_str(), "hubspot:contract:1008:1709467200000");
    // No close date: the contract starts on the day the deal last changed.
    assert_eq!(
        contracts[3].1.start_date,
        NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
    );

    let client = all
        .items
        .iter()
        .find_map(|c| match &c.record {
            Record::Client(k) if k.key.as_str() == "hubspot-company-505" => Some(k),
            _ => None,
        })
        .unwrap();
    assert_eq!(client.legal_name, "Hooli Inc.");
    assert_eq!(client.billing_address.city, "Mountain View");
    assert_eq!(client.billing_address.region.as_deref(), Some("CA"));
    assert_eq!(client.country.as_str(), "US");
    assert_eq!(client.legal_entity.as_str(), "firm-eu");
    // Deal 1009 has a secondary company first; the primary one is chosen.
    let last_contract = contracts[5].1;
    assert_eq!(last_contract.client.as_str(), "hubspot-company-501");

    // The rejects say where and keep the deal as HubSpot sent it.
    let rejected: Vec<_> = all
        .rejected
        .iter()
        .map(|r| (r.location.record.clone(), r.location.field.clone()))
        .collect();
    assert_eq!(
        rejected,
        [
            (Some("1005".into()), Some("associations.companies".into())),
            (Some("company 504".into()), Some("address".into())),
        ]
    );
    let raw: Value = serde_json::from_str(&all.rejected[0].raw).unwrap();
    assert_eq!(raw["properties"]["dealname"], "Orphan deal");
}

#[tokio::test]
async fn an_edited_deal_comes_back_with_a_new_change_id() {
    let (server, deals) = fake_hubspot().await;
    let hubspot = connector(&server);
    let first = pull_all(&hubspot, None, 3, 100).await.unwrap();
    let cursor = first.cursor.clone().unwrap();
    let quiet = hubspot.pull(Some(&cursor), 3).await.unwrap();
    assert!(quiet.items.is_empty() && !quiet.has_more);

    deals.lock().unwrap()[0]["properties"]["hs_lastmodifieddate"] =
        json!("2024-03-05T08:00:00.000Z");
    let next = hubspot.pull(Some(&cursor), 3).await.unwrap();
    let ids: Vec<&str> = next.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"hubspot:contract:1001:1709625600000"));
    let before: BTreeSet<&ChangeId> = first.items.iter().map(|c| &c.id).collect();
    assert!(next.items.iter().all(|c| !before.contains(&c.id)));
}

#[tokio::test]
async fn a_cursor_from_elsewhere_is_refused() {
    let (server, _) = fake_hubspot().await;
    let hubspot = connector(&server);
    check_error(
        &hubspot,
        Some(&Cursor::new("01gD0000002HU6KIAW-2000")),
        10,
        &ExpectedError::new(ErrorKind::BadCursor, false),
    )
    .await
    .assert_passed();
}

async fn failing(status: u16, body: Value, retry_after: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let mut reply = ResponseTemplate::new(status).set_body_json(body);
    if let Some(after) = retry_after {
        reply = reply.insert_header("Retry-After", after);
    }
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn errors_are_classified() {
    let server = failing(429, fixture("error_429.json"), Some("10")).await;
    let report = check_error(
        &connector(&server),
        None,
        10,
        &ExpectedError::rate_limited(Duration::from_secs(10)).hiding(TOKEN),
    )
    .await;
    println!("{report}");
    report.assert_passed();

    let server = failing(401, fixture("error_401.json"), None).await;
    let hubspot = connector(&server);
    check_error(
        &hubspot,
        None,
        10,
        &ExpectedError::new(ErrorKind::Auth, false).hiding(TOKEN),
    )
    .await
    .assert_passed();
    let err = hubspot.pull(None, 10).await.unwrap_err();
    assert!(err.to_string().contains("INVALID_AUTHENTICATION"), "{err}");

    let server = failing(
        502,
        json!({"status": "error", "message": "Bad Gateway"}),
        None,
    )
    .await;
    check_error(
        &connector(&server),
        None,
        10,
        &ExpectedError::new(ErrorKind::Http, true),
    )
    .await
    .assert_passed();

    // Nothing listening: a transport failure, retryable.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let hubspot = HubSpot::builder(TOKEN)
        .base_url(gone)
        .legal_entity("firm-eu".parse().unwrap())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    check_error(
        &hubspot,
        None,
        10,
        &ExpectedError::new(ErrorKind::Transport, true).hiding(TOKEN),
    )
    .await
    .assert_passed();

    // A reply that is not HubSpot's shape is bad data naming the field.
    let server = failing(200, json!({"results": "nope"}), None).await;
    let err = connector(&server).pull(None, 10).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("results"), "{err}");
}

fn invoice_change(deal: &str) -> Change {
    let day = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
    let line = InvoiceLine::new(
        "Advisory",
        Decimal::new(75, 1),
        Money::new(Decimal::new(150, 0), Currency::EUR),
    )
    .unwrap();
    let mut invoice = InvoiceEvent::draft(
        "inv-42".parse().unwrap(),
        "firm-eu".parse().unwrap(),
        "hubspot-company-501".parse().unwrap(),
        Currency::EUR,
        day,
        day,
        vec![line],
    )
    .unwrap();
    invoice.status = InvoiceStatus::Posted;
    invoice.number = Some("INV/2024/0042".into());
    let external = ExternalRef::new("hubspot", deal);
    Change::new(
        ChangeId::of(&external, RecordKind::Invoice, "posted"),
        external,
        chrono::Utc::now(),
        Record::from(invoice),
    )
}

#[tokio::test]
async fn invoice_status_is_written_back_once() {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals/1001"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("deal_1001_before.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals/1001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("deal_1001_after.json")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/crm/v3/objects/deals/1001"))
        .and(header("authorization", bearer.as_str()))
        .and(body_partial_json(json!({"properties": {
            "odoo_invoice_number": "INV/2024/0042",
            "odoo_invoice_status": "posted",
            "odoo_invoice_amount_due": "1125.00"
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("deal_1001_after.json")))
        .expect(1)
        .mount(&server)
        .await;
    let hubspot = connector(&server);
    let report = check_sink(&hubspot, &invoice_change("1001")).await;
    println!("{report}");
    report.assert_passed();
}

#[tokio::test]
async fn payments_and_refusals_of_the_sink() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals/1002"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "1002", "properties": {"odoo_last_payment_date": null}, "archived": false
        })))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/crm/v3/objects/deals/1002"))
        .and(body_partial_json(json!({"properties": {
            "odoo_last_payment_date": "2024-04-02",
            "odoo_last_payment_amount": "1125.00",
            "odoo_last_payment_reference": "INV/2024/0042"
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1002"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals/999"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"
        })))
        .mount(&server)
        .await;
    let hubspot = connector(&server);
    let payment = Payment::new(
        "pay-1".parse().unwrap(),
        "hubspot-company-502".parse().unwrap(),
        "firm-eu".parse().unwrap(),
        Money::from_minor(112_500, Currency::EUR),
        NaiveDate::from_ymd_opt(2024, 4, 2).unwrap(),
        "INV/2024/0042",
        PaymentMethod::BankTransfer,
    );
    let external = ExternalRef::new("hubspot", "1002");
    let change = Change::new(
        ChangeId::of(&external, RecordKind::Payment, "1"),
        external,
        chrono::Utc::now(),
        Record::from(payment),
    );
    assert_eq!(hubspot.apply(&change).await.unwrap(), ApplyOutcome::Applied);

    let err = hubspot.apply(&invoice_change("999")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.is_retryable());

    let mut other = invoice_change("1001");
    other.external = ExternalRef::new("salesforce", "006000000000001");
    assert_eq!(
        hubspot.apply(&other).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let mut bad = invoice_change("../contacts/1");
    bad.external.id = "../contacts/1".into();
    assert_eq!(
        hubspot.apply(&bad).await.unwrap_err().kind(),
        ErrorKind::BadData
    );
}
