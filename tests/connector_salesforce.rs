//! The Salesforce connector against a wiremock server answering as the REST API does.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use odoo_connect::canonical::{
    Client, Contract, Currency, ExternalRef, InvoiceEvent, InvoiceLine, InvoiceStatus, Money,
};
use odoo_connect::connector::auth::AccessTokenProvider;
use odoo_connect::connector::conformance::{
    ExpectedError, SourceCheck, check_error, check_secrets_hidden, check_sink, check_source,
};
use odoo_connect::connector::salesforce::{Salesforce, SalesforceOAuth};
use odoo_connect::connector::{
    Change, ChangeId, ConnectorError, ErrorKind, Record, RecordKind, Source, pull_all,
};
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use wiremock::matchers::{
    body_json, body_string_contains, header, method, path, path_regex, query_param,
};
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
    /// The SOQL of every new query, in order.
    queries: Arc<Mutex<Vec<String>>>,
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
        ResponseTemplate::new(200)
            .insert_header("Sforce-Limit-Info", "api-usage=18/15000")
            .set_body_json(reply)
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
        self.queries.lock().unwrap().push(q.clone());
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
    fake_salesforce_with(opportunities(bulk)).await
}

async fn fake_salesforce_with(data: Vec<Value>) -> (MockServer, FakeQuery) {
    let server = MockServer::start().await;
    let fake = FakeQuery {
        data: Arc::new(Mutex::new(data)),
        queries: Default::default(),
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
    // 459 won opportunities over three batches of 200; three are held.
    let (server, _) = fake_salesforce(450).await;
    let sf = connector(&server);
    for page_size in [200, 2] {
        let report = check_source(
            &sf,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(2 * 456)
                .expect_rejected(3),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
    check_secrets_hidden(&sf, &[TOKEN]).assert_passed();
}

fn contract<'a>(items: &'a [Change], key: &str) -> &'a Contract {
    items
        .iter()
        .find_map(|c| match &c.record {
            Record::Contract(k) if k.key.as_str() == key => Some(k),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no contract {key}"))
}

fn client<'a>(items: &'a [Change], key: &str) -> &'a Client {
    items
        .iter()
        .find_map(|c| match &c.record {
            Record::Client(k) if k.key.as_str() == key => Some(k),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no client {key}"))
}

#[tokio::test]
async fn won_opportunities_become_clients_and_contracts() {
    let (server, _) = fake_salesforce(0).await;
    let sf = connector(&server);
    let all = pull_all(&sf, None, 200, 10).await.unwrap();
    assert_eq!(all.items.len(), 12);
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
    // `+0000` timestamps: 2024-03-01T09:00:00.000+0000.
    assert_eq!(
        all.items[1].id.as_str(),
        "salesforce:contract:0065g00000Opp01AAB:1709283600000"
    );
    // Amount and CurrencyIsoCode.
    assert_eq!(
        c.value,
        Some(Money::new(Decimal::new(120000, 0), Currency::EUR))
    );
    let audit = contract(&all.items, "salesforce-opportunity-0065g00000Opp03AAB");
    assert_eq!(
        audit.value,
        Some(Money::new(Decimal::new(240005, 1), Currency::EUR))
    );
    let us = contract(&all.items, "salesforce-opportunity-0065g00000Opp09AAB");
    assert_eq!(us.currency, Currency::USD);
    assert_eq!(
        us.value,
        Some(Money::new(Decimal::new(5000025, 2), Currency::USD))
    );
    // A null Amount is no value, not zero.
    let retainer = contract(&all.items, "salesforce-opportunity-0065g00000Opp07AAB");
    assert_eq!(retainer.value, None);
    // Free-text BillingCountry; an Account without BillingPostalCode / BillingState keys.
    let hansa = client(&all.items, "salesforce-account-0015g00000Hnsa7AAB");
    assert_eq!(hansa.country.as_str(), "DE");
    assert_eq!(hansa.billing_address.postal_code, None);
    let initech = client(&all.items, "salesforce-account-0015g00000Init9AAB");
    assert_eq!(initech.country.as_str(), "US");
    assert_eq!(initech.billing_address.region.as_deref(), Some("TX"));

    let rejected: Vec<_> = all
        .rejected
        .iter()
        .map(|r| {
            (
                r.location.record.clone().unwrap(),
                r.location.field.clone().unwrap(),
                r.is_business(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (
                "0065g00000Opp04AAB".to_owned(),
                "AccountId".to_owned(),
                true
            ),
            (
                "0015g00000NoAdrAAB".to_owned(),
                "BillingStreet".to_owned(),
                true
            ),
            (
                "0015g00000Atlt8AAB".to_owned(),
                "BillingCountry".to_owned(),
                true
            ),
        ]
    );
    assert!(all.rejected[0].reason.contains("no account"));
    assert!(all.rejected[2].reason.contains("Atlantis"));
    let raw: Value = serde_json::from_str(&all.rejected[0].raw).unwrap();
    assert_eq!(raw["Id"], "0065g00000Opp04AAB", "the raw record is kept");
    // Every reply's Sforce-Limit-Info is kept.
    assert_eq!(sf.api_usage().as_deref(), Some("api-usage=18/15000"));
}

/// An opportunity as Salesforce returns it, with a good account.
fn opportunity(id: &str, stamp: &str) -> Value {
    json!({
        "attributes": {"type": "Opportunity", "url": format!("{API}/sobjects/Opportunity/{id}")},
        "Id": id, "Name": format!("Engagement {id}"), "StageName": "Closed Won",
        "IsWon": true, "IsClosed": true, "Amount": 1000.0, "CloseDate": "2024-03-01",
        "SystemModstamp": stamp, "AccountId": "0015g00000Acme1AAB",
        "Account": {
            "attributes": {"type": "Account", "url": format!("{API}/sobjects/Account/0015g00000Acme1AAB")},
            "Id": "0015g00000Acme1AAB", "Name": "Acme Industries SA", "BillingStreet": "Rue Neuve 1",
            "BillingCity": "Brussels", "BillingCountry": "Belgium"
        }
    })
}

fn contract_keys(items: &[Change]) -> Vec<&str> {
    items
        .iter()
        .filter(|c| c.kind() == RecordKind::Contract)
        .map(|c| c.record.key())
        .collect()
}

#[tokio::test]
async fn opportunities_tied_on_system_modstamp_are_neither_lost_nor_repeated() {
    let t = "2024-03-01T10:00:00.000+0000";
    let (server, fake) = fake_salesforce_with(vec![
        opportunity("0065g00000Tie01AAB", "2024-03-01T09:59:59.000+0000"),
        opportunity("0065g00000Tie02AAB", t),
    ])
    .await;
    let sf = connector(&server);
    let first = pull_all(&sf, None, 200, 10).await.unwrap();
    assert_eq!(
        contract_keys(&first.items),
        [
            "salesforce-opportunity-0065g00000Tie01AAB",
            "salesforce-opportunity-0065g00000Tie02AAB"
        ]
    );
    // A third opportunity committed in the same second, after the read.
    fake.data
        .lock()
        .unwrap()
        .push(opportunity("0065g00000Tie03AAB", t));
    let cursor = first.cursor.unwrap();
    let next = sf.pull(Some(&cursor), 200).await.unwrap();
    assert_eq!(
        contract_keys(&next.items),
        ["salesforce-opportunity-0065g00000Tie03AAB"]
    );
    let queries = fake.queries.lock().unwrap().clone();
    assert!(!queries[0].contains("SystemModstamp >="), "{}", queries[0]);
    assert!(
        queries[1]
            .contains("WHERE IsWon = true AND SystemModstamp >= 2024-03-01T10:00:00Z ORDER BY"),
        "{}",
        queries[1]
    );
    // Caught up: asked again, nothing new.
    let again = sf.pull(next.cursor.as_ref(), 200).await.unwrap();
    assert!(again.items.is_empty());
    assert!(fake.queries.lock().unwrap()[2].contains("SystemModstamp >= 2024-03-01T10:00:00Z"));
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
    // The new query starts at the second of the last opportunity read.
    let last = first
        .items
        .iter()
        .filter(|c| c.kind() == RecordKind::Contract)
        .map(|c| c.updated_at)
        .max()
        .unwrap();
    let queries = fake.queries.lock().unwrap().clone();
    let literal = last.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(
        queries[1].contains(&format!("SystemModstamp >= {literal} ORDER BY")),
        "{queries:?}"
    );
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
    // A static token cannot be refreshed: the 401 is an auth failure.
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

    // The org's daily allowance is used up: a quota, with the usage Salesforce reported.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("Sforce-Limit-Info", "api-usage=15000/15000")
                .set_body_json(fixture("error_request_limit.json")),
        )
        .mount(&server)
        .await;
    let sf = connector(&server);
    check_error(
        &sf,
        None,
        200,
        &ExpectedError::new(ErrorKind::Quota, false).hiding(TOKEN),
    )
    .await
    .assert_passed();
    match sf.pull(None, 200).await.unwrap_err() {
        ConnectorError::Quota { message, usage, .. } => {
            assert!(message.contains("REQUEST_LIMIT_EXCEEDED"), "{message}");
            assert_eq!(usage.as_deref(), Some("api-usage=15000/15000"));
        }
        other => panic!("not a quota: {other:?}"),
    }

    // Too many long requests at once is short-lived: a retryable rate limit.
    let server = failing(403, fixture("error_concurrent_limit.json")).await;
    check_error(
        &connector(&server),
        None,
        200,
        &ExpectedError::new(ErrorKind::RateLimited, true),
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

const REFRESH_TOKEN: &str = "5Aep861FakeRefreshTokenValue.9876543210";
const CLIENT_SECRET: &str = "F4KEC0NSUMERSECRET1234567890";

fn new_token() -> String {
    fixture("token_refreshed.json")["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
/// A token endpoint answering `reply` to a well-formed refresh-token request, once at most.
async fn token_endpoint(server: &MockServer, status: u16, reply: Value) {
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("client_id=3MVG9FakeConsumerKey"))
        .and(body_string_contains(
            format!("client_secret={CLIENT_SECRET}").as_str(),
        ))
        .and(body_string_contains(
            format!("refresh_token={REFRESH_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(status).set_body_json(reply))
        .expect(1)
        .mount(server)
        .await;
}

fn oauth(server: &MockServer) -> SalesforceOAuth {
    SalesforceOAuth::new(&server.uri(), "3MVG9FakeConsumerKey", REFRESH_TOKEN)
        .unwrap()
        .client_secret(CLIENT_SECRET)
        .access_token(TOKEN)
}

fn oauth_connector(server: &MockServer, provider: Arc<SalesforceOAuth>) -> Salesforce {
    Salesforce::with_token_provider(server.uri(), provider)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

fn authorizations(requests: &[Request], path_prefix: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.url.path().starts_with(path_prefix))
        .map(|r| {
            r.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once_and_the_request_sent_again() {
    let server = MockServer::start().await;
    let new = format!("Bearer {}", new_token());
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error_invalid_session.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .and(header("authorization", new.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [opportunity("0065g00000Opp01AAB", "2024-01-15T10:30:00.000+0000")]
        })))
        .expect(2)
        .mount(&server)
        .await;
    token_endpoint(&server, 200, fixture("token_refreshed.json")).await;
    let provider = Arc::new(oauth(&server));
    let sf = oauth_connector(&server, provider.clone());
    let page = sf.pull(None, 200).await.unwrap();
    assert_eq!(page.items.len(), 2);
    // The new token is kept: the next request goes with it, without another refresh.
    sf.pull(None, 200).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        authorizations(&requests, API),
        [format!("Bearer {TOKEN}"), new.clone(), new]
    );
    assert_eq!(
        provider.instance_url().as_deref(),
        Some("https://acme.my.salesforce.com")
    );
    assert_eq!(
        provider.issued_at(),
        DateTime::from_timestamp_millis(1_705_314_600_000)
    );
    check_secrets_hidden(
        &*provider,
        &[TOKEN, REFRESH_TOKEN, CLIENT_SECRET, new_token().as_str()],
    )
    .assert_passed();
    check_secrets_hidden(&sf, &[TOKEN, new_token().as_str()]).assert_passed();
}

#[tokio::test]
async fn a_second_refusal_after_a_refresh_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error_invalid_session.json")),
        )
        .expect(2)
        .mount(&server)
        .await;
    token_endpoint(&server, 200, fixture("token_refreshed.json")).await;
    let sf = oauth_connector(&server, Arc::new(oauth(&server)));
    let err = sf.pull(None, 200).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("INVALID_SESSION_ID"), "{err}");
    let shown = format!("{err} {err:?}");
    for secret in [TOKEN, REFRESH_TOKEN, CLIENT_SECRET, new_token().as_str()] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        authorizations(&requests, API),
        [format!("Bearer {TOKEN}"), format!("Bearer {}", new_token())]
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error_invalid_session.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    token_endpoint(&server, 400, fixture("token_invalid_grant.json")).await;
    let sf = oauth_connector(&server, Arc::new(oauth(&server)));
    check_error(
        &sf,
        None,
        200,
        &ExpectedError::new(ErrorKind::Auth, false)
            .hiding(TOKEN)
            .hiding(REFRESH_TOKEN)
            .hiding(CLIENT_SECRET),
    )
    .await
    .assert_passed();
}

#[tokio::test]
async fn the_first_token_is_fetched_when_none_is_held() {
    let server = MockServer::start().await;
    token_endpoint(&server, 200, fixture("token_refreshed.json")).await;
    let provider = SalesforceOAuth::new(&server.uri(), "3MVG9FakeConsumerKey", REFRESH_TOKEN)
        .unwrap()
        .client_secret(CLIENT_SECRET);
    assert_eq!(provider.token().await.unwrap().expose_secret(), new_token());
    // Cached: the endpoint is called once (checked by `expect(1)`).
    assert_eq!(provider.token().await.unwrap().expose_secret(), new_token());
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

// ---------------------------------------------------------------------------------------------
// CRM lookup: one opportunity by id with its account
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_opportunity_is_looked_up_by_id_with_its_account() {
    use odoo_connect::connector::{CrmDeal, CrmLookup};
    let server = MockServer::start().await;
    // The SOQL query endpoint, `WHERE Id = '<id>'`: one record, or none.
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(query_param_contains("q", "WHERE Id = '0065g00000Opp01AAB'"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("opportunity_by_id.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/query")))
        .and(query_param_contains("q", "WHERE Id = '0065g00000Gone9AAB'"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("opportunity_by_id_none.json")),
        )
        .mount(&server)
        .await;
    let salesforce = connector(&server);
    assert_eq!(salesforce.crm_system(), "salesforce");
    let CrmDeal::Won { client, contract } =
        salesforce.won_deal("0065g00000Opp01AAB").await.unwrap()
    else {
        panic!("not won")
    };
    assert_eq!(
        contract.key.as_str(),
        "salesforce-opportunity-0065g00000Opp01AAB"
    );
    assert_eq!(client.key.as_str(), "salesforce-account-0015g00000Acme1AAB");
    assert_eq!(contract.client, client.key);
    assert_eq!(client.legal_name, "Acme Industries SA");
    assert_eq!(
        salesforce.won_deal("0065g00000Gone9AAB").await.unwrap(),
        CrmDeal::NotFound
    );
    // Not a Salesforce id: nothing is asked (no SOQL built from it).
    assert_eq!(
        salesforce.won_deal("x' OR Name != '").await.unwrap(),
        CrmDeal::NotFound
    );
    let asked = server.received_requests().await.unwrap();
    assert_eq!(asked.len(), 2);
}

/// A query parameter that contains `needle` (SOQL is long; the test names the part it checks).
fn query_param_contains(name: &'static str, needle: &'static str) -> impl wiremock::Match {
    move |request: &Request| {
        request
            .url
            .query_pairs()
            .any(|(k, v)| k == name && v.contains(needle))
    }
}
