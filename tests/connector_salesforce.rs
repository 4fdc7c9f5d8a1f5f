//! The Salesforce connector against a wiremock server answering as the REST API does.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use odoo_connect::canonical::{
    Currency, ExternalRef, InvoiceEvent, InvoiceLine, InvoiceStatus, Money,
};
use odoo_connect::connector::conformance::{
    ExpectedError, SourceCheck, check_error, check_secrets_hidden, check_sink, check_source,
};
use odoo_connect::connector::salesforce::Salesforce;
use odoo_connect::connector::{Change, ChangeId, ErrorKind, Record, RecordKind, Source, pull_all};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "00D5g000004ABCD!AQ4AQFakeAccessTokenValue.abcdefghijklmnop";
const API: &str = "/services/data/v60.0";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/connectors/salesforce/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn modstamp(record: &Value) -> DateTime<Utc> {
    DateTime::parse_from_str(
        record["SystemModstamp"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f%z",
    )
    .unwrap()
    .with_timezone(&Utc)
}

/// The fixture's opportunities plus `bulk` more, three to a millisecond.
fn opportunities(bulk: usize) -> Vec<Value> {
    let mut all = fixture("opportunities.json").as_array().unwrap().clone();
    let base = DateTime::parse_from_rfc3339("2024-03-05T00:00:00Z").unwrap();
    for i in 0..bulk {
        let ts = base + chrono::Duration::milliseconds((i / 3) as i64 * 250);
        let id = format!("0065g0000B{i:06}AAB");
        let acc = format!("0015g0000B{:06}AAB", i % 40);
        all.push(json!({
            "attributes": {"type": "Opportunity", "url": format!("{API}/sobjects/Opportunity/{id}")},
            "Id": id, "Name": format!("Bulk engagement {i}"), "StageName": "Closed Won", "IsWon": true,
            "Amount": 1000.0 + i as f64, "CloseDate": "2024-03-05",
            "SystemModstamp": ts.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
            "Account": {
                "attributes": {"type": "Account", "url": format!("{API}/sobjects/Account/{acc}")},
                "Id": acc, "Name": format!("Client {}", i % 40), "BillingStreet": "1 Main Street",
                "BillingCity": "Dublin", "BillingPostalCode": "D01", "BillingState": null,
                "BillingCountry": "IE", "SystemModstamp": "2024-01-01T00:00:00.000+0000"
            }
        }));
    }
    all
}

fn batch_size(request: &Request) -> usize {
    request
        .headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("batchSize="))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(2000)
        .clamp(200, 2000)
}

/// Runs the connector's SOQL over the data set and serves it in batches with query locators.
#[derive(Clone)]
struct FakeQuery {
    data: Arc<Mutex<Vec<Value>>>,
    locators: Arc<Mutex<Vec<Vec<Value>>>>,
    expired: Arc<AtomicBool>,
}

impl FakeQuery {
    fn batch(&self, locator: usize, offset: usize, size: usize) -> ResponseTemplate {
        let results = self.locators.lock().unwrap()[locator].clone();
        let records: Vec<Value> = results.iter().skip(offset).take(size).cloned().collect();
        let done = offset + size >= results.len();
        let mut reply = json!({"totalSize": results.len(), "done": done, "records": records});
        if !done {
            reply["nextRecordsUrl"] = json!(format!(
                "{API}/query/01gD0000000FAKE{locator}-{}",
                offset + size
            ));
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

impl Respond for FakeQuery {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let size = batch_size(request);
        if let Some(rest) = request.url.path().strip_prefix(&format!("{API}/query/")) {
            if self.expired.load(Ordering::SeqCst) {
                return ResponseTemplate::new(400)
                    .set_body_json(fixture("error_invalid_query_locator.json"));
            }
            let (loc, offset) = rest
                .trim_start_matches("01gD0000000FAKE")
                .split_once('-')
                .unwrap();
            return self.batch(loc.parse().unwrap(), offset.parse().unwrap(), size);
        }
        let q = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "q")
            .unwrap()
            .1
            .into_owned();
        assert!(q.starts_with("SELECT Id, Name, StageName, IsWon"), "{q}");
        assert!(q.contains("FROM Opportunity WHERE IsWon = true"), "{q}");
        assert!(q.ends_with("ORDER BY SystemModstamp ASC, Id ASC"), "{q}");
        let since = q.split_once("SystemModstamp >= ").map(|(_, rest)| {
            let literal = rest.split(' ').next().unwrap();
            DateTime::parse_from_rfc3339(literal)
                .unwrap()
                .with_timezone(&Utc)
        });
        let mut hits: Vec<Value> = self
            .data
            .lock()
            .unwrap()
            .iter()
            .filter(|r| since.is_none_or(|s| modstamp(r) >= s))
            .cloned()
            .collect();
        hits.sort_by_key(|r| (modstamp(r), r["Id"].as_str().unwrap().to_owned()));
        let locator = {
            let mut locators = self.locators.lock().unwrap();
            locators.push(hits);
            locators.len() - 1
        };
        self.batch(locator, 0, size)
    }
}

async fn fake_salesforce(bulk: usize) -> (MockServer, FakeQuery) {
    let server = MockServer::start().await;
    let fake = FakeQuery {
        data: Arc::new(Mutex::new(opportunities(bulk))),
        locators: Default::default(),
        expired: Default::default(),
    };
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/services/data/v60\.0/query(/01g[A-Za-z0-9]+-\d+)?$",
        ))
        .and(header("authorization", bearer.as_str()))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

fn connector(server: &MockServer) -> Salesforce {
    Salesforce::builder(server.uri(), TOKEN)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    // 456 won opportunities over three batches of 200; two cannot be mapped.
    let (server, _) = fake_salesforce(450).await;
    let sf = connector(&server);
    for page_size in [200, 2] {
        let report = check_source(
            &sf,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(2 * 454)
                .expect_rejected(2),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
    check_secrets_hidden(&sf, &[TOKEN]).assert_passed();
}

#[tokio::test]
async fn won_opportunities_become_clients_and_contracts() {
    let (server, _) = fake_salesforce(0).await;
    let all = pull_all(&connector(&server), None, 200, 10).await.unwrap();
    assert_eq!(all.items.len(), 8);
    let Record::Client(acme) = &all.items[0].record else {
        panic!("not a client")
    };
    assert_eq!(acme.key.as_str(), "salesforce-account-0015g00000Acme1AAB");
    assert_eq!(acme.billing_address.lines, ["Rue Neuve 1", "Building B"]);
    assert_eq!(acme.country.as_str(), "BE");
    let Record::Contract(c) = &all.items[1].record else {
        panic!("not a contract")
    };
    assert_eq!(c.key.as_str(), "salesforce-opportunity-0065g00000Opp01AAB");
    assert_eq!(c.title, "ERP roll-out phase 1");
    assert_eq!(c.currency, Currency::EUR);
    assert_eq!(c.start_date, NaiveDate::from_ymd_opt(2024, 2, 28).unwrap());
    assert_eq!(
        all.items[1].id.as_str(),
        "salesforce:contract:0065g00000Opp01AAB:1709283600000"
    );
    let rejected: Vec<_> = all
        .rejected
        .iter()
        .map(|r| {
            (
                r.location.record.clone().unwrap(),
                r.location.field.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("0065g00000Opp04AAB".to_owned(), "Account".to_owned()),
            ("0015g00000NoAdrAAB".to_owned(), "BillingStreet".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_expired_query_locator_is_replaced_by_the_keyset() {
    let (server, fake) = fake_salesforce(450).await;
    let sf = connector(&server);
    let first = sf.pull(None, 200).await.unwrap();
    assert!(first.has_more);
    let rest_expected = pull_all(&sf, first.cursor.as_ref(), 200, 10).await.unwrap();

    fake.expired.store(true, Ordering::SeqCst);
    let rest = pull_all(&sf, first.cursor.as_ref(), 200, 10).await.unwrap();
    let a: BTreeSet<&ChangeId> = rest_expected.items.iter().map(|c| &c.id).collect();
    let b: BTreeSet<&ChangeId> = rest.items.iter().map(|c| &c.id).collect();
    assert_eq!(a, b);
    assert_eq!(rest.items.len(), rest_expected.items.len(), "no repeats");
    let before: BTreeSet<&ChangeId> = first.items.iter().map(|c| &c.id).collect();
    assert!(rest.items.iter().all(|c| !before.contains(&c.id)));
}

#[tokio::test]
async fn an_edited_opportunity_comes_back_alone() {
    let (server, fake) = fake_salesforce(10).await;
    let sf = connector(&server);
    let first = pull_all(&sf, None, 200, 10).await.unwrap();
    let cursor = first.cursor.unwrap();
    assert!(sf.pull(Some(&cursor), 200).await.unwrap().items.is_empty());
    fake.data.lock().unwrap()[1]["SystemModstamp"] = json!("2024-03-09T12:00:00.000+0000");
    let next = sf.pull(Some(&cursor), 200).await.unwrap();
    let keys: Vec<&str> = next.items.iter().map(|c| c.record.key()).collect();
    assert_eq!(
        keys,
        [
            "salesforce-account-0015g00000Glbx2AAB",
            "salesforce-opportunity-0065g00000Opp02AAB"
        ]
    );
}

async fn failing(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn errors_are_classified() {
    let server = failing(401, fixture("error_invalid_session.json")).await;
    let sf = connector(&server);
    check_error(
        &sf,
        None,
        200,
        &ExpectedError::new(ErrorKind::Auth, false).hiding(TOKEN),
    )
    .await
    .assert_passed();
    let err = sf.pull(None, 200).await.unwrap_err();
    assert!(err.to_string().contains("INVALID_SESSION_ID"), "{err}");

    let server = failing(403, fixture("error_request_limit.json")).await;
    check_error(
        &connector(&server),
        None,
        200,
        &ExpectedError::new(ErrorKind::RateLimited, true).hiding(TOKEN),
    )
    .await
    .assert_passed();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .set_body_string("Too Many Requests"),
        )
        .mount(&server)
        .await;
    check_error(
        &connector(&server),
        None,
        200,
        &ExpectedError::rate_limited(Duration::from_secs(30)),
    )
    .await
    .assert_passed();

    let server = failing(
        503,
        json!([{"message": "Server Unavailable", "errorCode": "SERVER_UNAVAILABLE"}]),
    )
    .await;
    check_error(
        &connector(&server),
        None,
        200,
        &ExpectedError::new(ErrorKind::Http, true),
    )
    .await
    .assert_passed();
}

fn invoice_change(opportunity: &str) -> Change {
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
        "salesforce-account-0015g00000Acme1AAB".parse().unwrap(),
        Currency::EUR,
        day,
        day,
        vec![line],
    )
    .unwrap();
    invoice.status = InvoiceStatus::Posted;
    invoice.number = Some("INV/2024/0042".into());
    let external = ExternalRef::new("salesforce", opportunity);
    Change::new(
        ChangeId::of(&external, RecordKind::Invoice, "posted"),
        external,
        Utc::now(),
        Record::from(invoice),
    )
}

#[tokio::test]
async fn invoice_status_is_written_back_once() {
    let server = MockServer::start().await;
    let record = format!("{API}/sobjects/Opportunity/0065g00000Opp01AAB");
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path(record.as_str()))
        .and(query_param(
            "fields",
            "Odoo_Invoice_Number__c,Odoo_Invoice_Status__c,Odoo_Amount_Due__c",
        ))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("opportunity_before.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(record.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("opportunity_after.json")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(record.as_str()))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({
            "Odoo_Invoice_Number__c": "INV/2024/0042",
            "Odoo_Invoice_Status__c": "posted",
            "Odoo_Amount_Due__c": 1125.0
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let report = check_sink(&connector(&server), &invoice_change("0065g00000Opp01AAB")).await;
    println!("{report}");
    report.assert_passed();

    use odoo_connect::connector::Sink;
    let sf = connector(&server);
    let err = sf
        .apply(&invoice_change("../../Account/x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
}
