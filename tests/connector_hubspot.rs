//! The HubSpot connector against a wiremock server answering as the v3 and v4 CRM APIs do: the
//! deal search (filter groups, ascending sort, `limit`, `after` in the body), the v4 deal-to-company
//! associations, the company batch read (`207 Multi-Status` for ids it does not have), the company
//! list, and HubSpot's 429 policies.

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
    ApplyOutcome, Change, ChangeId, ConnectorError, Cursor, ErrorKind, Record, RecordKind, Sink,
    Source, pull_all,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/connectors/hubspot/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn modified_ms(deal: &Value) -> i64 {
    let text = deal["properties"]["hs_lastmodifieddate"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// HubSpot's `after` tokens are opaque strings; this fake's hide an offset.
fn token(offset: usize) -> String {
    format!("c2VhcmNo{offset}%3D")
}

fn offset(token: &str) -> usize {
    token
        .strip_prefix("c2VhcmNo")
        .and_then(|t| t.strip_suffix("%3D"))
        .expect("an `after` this fake did not give")
        .parse()
        .unwrap()
}

/// Whether a deal matches one search filter (the operators the connector uses).
fn matches(deal: &Value, filter: &Value) -> bool {
    let name = filter["propertyName"].as_str().unwrap();
    let value = &deal["properties"][name];
    match filter["operator"].as_str().unwrap() {
        "IN" => filter["values"].as_array().unwrap().contains(value),
        "EQ" => value == &filter["value"],
        "GTE" if name == "hs_lastmodifieddate" => {
            modified_ms(deal) >= filter["value"].as_str().unwrap().parse::<i64>().unwrap()
        }
        other => panic!("operator {other} not served by this fake"),
    }
}

/// Answers the deal search as HubSpot does: filter groups (OR of ANDs), ascending sort, `limit`,
/// and `after` from the body; keeps each request body.
#[derive(Clone)]
struct Search {
    deals: Arc<Mutex<Vec<Value>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Respond for Search {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        self.bodies.lock().unwrap().push(body.clone());
        let groups = body["filterGroups"].as_array().unwrap();
        assert!(
            groups.len() <= 5,
            "HubSpot takes at most five filter groups"
        );
        assert_eq!(body["sorts"][0]["propertyName"], "hs_lastmodifieddate");
        assert_eq!(body["sorts"][0]["direction"], "ASCENDING");
        let limit = body["limit"].as_u64().unwrap() as usize;
        assert!(limit <= 200, "HubSpot refuses a limit above 200");
        let start = body["after"].as_str().map_or(0, offset);
        let mut hits: Vec<Value> = self
            .deals
            .lock()
            .unwrap()
            .iter()
            .filter(|d| {
                groups.iter().any(|g| {
                    g["filters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|f| matches(d, f))
                })
            })
            .cloned()
            .collect();
        hits.sort_by_key(|d| (modified_ms(d), d["id"].as_str().unwrap().to_owned()));
        let page: Vec<Value> = hits.iter().skip(start).take(limit).cloned().collect();
        let mut reply = json!({"total": hits.len(), "results": page});
        if start + limit < hits.len() {
            let after = token(start + limit);
            reply["paging"] = json!({"next": {
                "after": after,
                "link": format!("https://api.hubapi.com/crm/v3/objects/deals/search?after={after}")
            }});
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

/// Answers a batch read with the fixture's entries for the ids asked; with `multi_status`, the
/// ids it does not have are `errors` of a 207, as the objects batch read does.
struct Batch {
    results: Vec<Value>,
    id: fn(&Value) -> String,
    multi_status: bool,
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
        // Not in the order asked: the connector must match by id.
        let mut results: Vec<Value> = self
            .results
            .iter()
            .filter(|r| wanted.contains(&(self.id)(r)))
            .cloned()
            .collect();
        results.reverse();
        let found: BTreeSet<String> = results.iter().map(|r| (self.id)(r)).collect();
        let missing: Vec<&String> = wanted.difference(&found).collect();
        let mut reply = json!({
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2024-03-05T09:00:00.000Z",
            "completedAt": "2024-03-05T09:00:00.120Z"
        });
        if self.multi_status && !missing.is_empty() {
            reply["numErrors"] = json!(1);
            reply["errors"] = json!([{
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some COMPANY objects, they may be deleted or not exist.",
                "context": {"ids": missing}
            }]);
            return ResponseTemplate::new(207).set_body_json(reply);
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

struct Fake {
    server: MockServer,
    deals: Arc<Mutex<Vec<Value>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn fake_hubspot() -> Fake {
    let server = MockServer::start().await;
    let deals = Arc::new(Mutex::new(
        fixture("deals.json").as_array().unwrap().clone(),
    ));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(Search {
            deals: deals.clone(),
            bodies: bodies.clone(),
        })
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
            multi_status: false,
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
            multi_status: true,
        })
        .mount(&server)
        .await;
    Fake {
        server,
        deals,
        bodies,
    }
}

fn connector(server: &MockServer) -> HubSpot {
    HubSpot::builder(TOKEN)
        .base_url(server.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

fn contracts(items: &[Change]) -> Vec<(&Change, &odoo_connect::canonical::Contract)> {
    items
        .iter()
        .filter_map(|c| match &c.record {
            Record::Contract(k) => Some((c, &**k)),
            _ => None,
        })
        .collect()
}

fn client<'a>(items: &'a [Change], key: &str) -> &'a odoo_connect::canonical::Client {
    items
        .iter()
        .find_map(|c| match &c.record {
            Record::Client(k) if k.key.as_str() == key => Some(&**k),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no client {key}"))
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    // Seven won deals map to a client and a contract each (one in a custom pipeline, found by
    // `hs_is_closed_won`); four are held; one is open and one lost.
    for page_size in [1, 2, 3, 100] {
        let report = check_source(
            &hubspot,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(14)
                .expect_rejected(4),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
    check_secrets_hidden(&hubspot, &[TOKEN]).assert_passed();
}

#[tokio::test]
async fn won_deals_become_clients_and_contracts() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    let all = pull_all(&hubspot, None, 2, 100).await.unwrap();
    assert!(!all.has_more);

    let contracts = contracts(&all.items);
    let keys: Vec<_> = contracts.iter().map(|(_, k)| k.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "hubspot-deal-1001",
            "hubspot-deal-1002",
            "hubspot-deal-1003",
            "hubspot-deal-1004",
            "hubspot-deal-1008",
            "hubspot-deal-1009",
            "hubspot-deal-1011"
        ]
    );
    let (change, us) = contracts[4];
    assert_eq!(us.title, "US tax advisory");
    assert_eq!(us.currency, Currency::USD);
    assert_eq!(us.client.as_str(), "hubspot-company-505");
    assert_eq!(us.start_date, NaiveDate::from_ymd_opt(2024, 3, 3).unwrap());
    assert_eq!(us.refs.get("hubspot"), Some("1008"));
    assert_eq!(change.external, ExternalRef::new("hubspot", "1008"));
    assert_eq!(change.id.as_str(), "hubspot:contract:1008:closed-won");
    // Amounts are exact decimals in the deal's currency; null and "" are no amount, never zero.
    let value = |i: usize| contracts[i].1.value;
    assert_eq!(
        value(0),
        Some(Money::new(Decimal::new(12_000_000, 2), Currency::EUR))
    );
    assert_eq!(
        value(4),
        Some(Money::new(Decimal::new(4_000_050, 2), Currency::USD))
    );
    assert_eq!(value(4).unwrap().amount.to_string(), "40000.50");
    assert_eq!(value(2), None, "an empty amount is no amount");
    assert_eq!(value(3), None, "a null amount is no amount");
    assert_eq!(
        value(6),
        Some(Money::new(Decimal::new(150_005, 1), Currency::NOK))
    );
    // The owner is kept; an empty owner is no owner.
    assert_eq!(contracts[0].1.refs.get("hubspot-owner"), Some("52550153"));
    assert_eq!(contracts[1].1.refs.get("hubspot-owner"), None);
    assert_eq!(contracts[3].1.refs.get("hubspot-owner"), None);
    // No close date: the contract starts on the day the deal last changed.
    assert_eq!(
        contracts[3].1.start_date,
        NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
    );

    let hooli = client(&all.items, "hubspot-company-505");
    assert_eq!(hooli.legal_name, "Hooli Inc.");
    assert_eq!(hooli.billing_address.city, "Mountain View");
    assert_eq!(hooli.billing_address.region.as_deref(), Some("CA"));
    // Countries are free text in HubSpot.
    assert_eq!(hooli.country.as_str(), "US");
    assert_eq!(
        client(&all.items, "hubspot-company-502").country.as_str(),
        "DE"
    );
    assert_eq!(
        client(&all.items, "hubspot-company-506").country.as_str(),
        "NO"
    );
    assert_eq!(
        client(&all.items, "hubspot-company-503").country.as_str(),
        "FR"
    );
    assert_eq!(hooli.legal_entity.as_str(), "firm-eu");
    // Deal 1009 has a secondary company first and its primary company twice (primary and
    // unlabeled links): the primary one is the client, once.
    assert_eq!(contracts[5].1.client.as_str(), "hubspot-company-501");
    let for_1009 = all
        .items
        .iter()
        .filter(|c| c.id.as_str().contains("deal-1009"))
        .count();
    assert_eq!(for_1009, 1);

    // The holds say where and why, and keep the deal as HubSpot sent it.
    let rejected: Vec<_> = all
        .rejected
        .iter()
        .map(|r| {
            (
                r.location.record.clone().unwrap_or_default(),
                r.location.field.clone().unwrap_or_default(),
                r.is_business(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("1005".into(), "associations.companies".into(), true),
            ("company 504".into(), "address".into(), true),
            ("company 507".into(), "country".into(), true),
            ("company 599".into(), "id".into(), true),
        ]
    );
    assert!(all.rejected[0].reason.contains("no_client"));
    assert!(all.rejected[2].reason.contains("Atlantis"));
    assert!(
        all.rejected[3].reason.contains("OBJECT_NOT_FOUND"),
        "{}",
        all.rejected[3].reason
    );
    let raw: Value = serde_json::from_str(&all.rejected[0].raw).unwrap();
    assert_eq!(raw["properties"]["dealname"], "Orphan deal");
}

#[tokio::test]
async fn the_next_search_request_carries_after_from_the_reply() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    let first = hubspot.pull(None, 2).await.unwrap();
    assert!(first.has_more);
    hubspot.pull(first.cursor.as_ref(), 2).await.unwrap();
    let bodies = fake.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[0].get("after").is_none());
    assert_eq!(bodies[1]["after"], json!(token(2)));
    // Same query: the same checkpoint, the same filters.
    assert_eq!(bodies[0]["filterGroups"], bodies[1]["filterGroups"]);
    let filters = &bodies[0]["filterGroups"];
    assert_eq!(
        filters[0]["filters"][0],
        json!({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon"]})
    );
    assert_eq!(
        filters[1]["filters"][0],
        json!({"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"})
    );
    assert_eq!(
        filters[0]["filters"][1],
        json!({"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"})
    );
    for p in [
        "hs_is_closed_won",
        "hs_is_closed",
        "amount",
        "hubspot_owner_id",
    ] {
        assert!(
            bodies[0]["properties"]
                .as_array()
                .unwrap()
                .contains(&json!(p))
        );
    }
}

#[tokio::test]
async fn a_sync_can_start_from_a_given_time() {
    let fake = fake_hubspot().await;
    let hubspot = HubSpot::builder(TOKEN)
        .base_url(fake.server.uri())
        .legal_entity("firm-eu".parse().unwrap())
        .start_from("2024-03-03T12:00:00Z".parse().unwrap())
        .build()
        .unwrap();
    let all = pull_all(&hubspot, None, 100, 10).await.unwrap();
    let keys: Vec<_> = contracts(&all.items)
        .iter()
        .map(|(_, k)| k.key.to_string())
        .collect();
    // GTE: the deal modified at exactly that time is in.
    assert_eq!(
        keys,
        [
            "hubspot-deal-1008",
            "hubspot-deal-1009",
            "hubspot-deal-1011"
        ]
    );
    let body = &fake.bodies.lock().unwrap()[0];
    assert_eq!(
        body["filterGroups"][0]["filters"][1]["value"],
        json!("1709467200000")
    );
}

#[tokio::test]
async fn deals_at_the_checkpoint_time_are_neither_lost_nor_repeated() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    // 1002, 1003 and 1004 share one millisecond; pages of one split them.
    let mut cursor = None;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let page = hubspot.pull(cursor.as_ref(), 1).await.unwrap();
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        cursor = page.cursor;
    }
    let all = pull_all(&hubspot, cursor.as_ref(), 1, 100).await.unwrap();
    let rest: BTreeSet<_> = all.items.iter().map(|c| c.id.clone()).collect();
    assert!(seen.iter().all(|id| !rest.contains(id)));
    assert_eq!(seen.len() + rest.len(), 14);

    // A new deal at the very millisecond of the checkpoint comes, and only it.
    let caught_up = all.cursor.clone().unwrap();
    let mut late = fake.deals.lock().unwrap()[0].clone();
    late["id"] = json!("1014");
    late["properties"]["hs_object_id"] = json!("1014");
    late["properties"]["hs_lastmodifieddate"] = json!("2024-03-05T07:30:00.000Z");
    fake.deals.lock().unwrap().push(late);
    let next = hubspot.pull(Some(&caught_up), 10).await.unwrap();
    // 1013, read before at that millisecond, does not come again; 1014 (with no company in this
    // fake) is read and held.
    assert!(next.items.is_empty(), "{:?}", next.items);
    let held: Vec<_> = next
        .rejected
        .iter()
        .map(|r| r.location.record.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(held, ["1014"]);
}

#[tokio::test]
async fn a_won_deal_is_one_event_however_often_it_is_edited() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    let first = pull_all(&hubspot, None, 3, 100).await.unwrap();
    let cursor = first.cursor.clone().unwrap();
    let quiet = hubspot.pull(Some(&cursor), 3).await.unwrap();
    assert!(quiet.items.is_empty() && !quiet.has_more);

    fake.deals.lock().unwrap()[0]["properties"]["hs_lastmodifieddate"] =
        json!("2024-03-06T08:00:00.000Z");
    fake.deals.lock().unwrap()[0]["properties"]["amount"] = json!("125000");
    let next = hubspot.pull(Some(&cursor), 3).await.unwrap();
    let ids: Vec<&str> = next.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "hubspot:client:501:closed-won/deal-1001",
            "hubspot:contract:1001:closed-won"
        ]
    );
    let before: BTreeSet<&ChangeId> = first.items.iter().map(|c| &c.id).collect();
    assert!(next.items.iter().all(|c| before.contains(&c.id)));
    // Re-read from the start: the same ids again.
    let again = pull_all(&hubspot, None, 100, 10).await.unwrap();
    let again: BTreeSet<&ChangeId> = again.items.iter().map(|c| &c.id).collect();
    assert_eq!(again, before);
}

#[tokio::test]
async fn deals_the_search_returns_but_that_are_not_won_are_passed_over() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("search_not_won.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/deals/companies/batch/read"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "COMPLETE", "results": []})),
        )
        .expect(0)
        .mount(&server)
        .await;
    let page = connector(&server).pull(None, 10).await.unwrap();
    assert!(page.items.is_empty() && page.rejected.is_empty());
    assert!(!page.has_more);
    // The checkpoint still moves past them.
    let again = connector(&server)
        .pull(page.cursor.as_ref(), 10)
        .await
        .unwrap();
    assert!(again.items.is_empty());

    // A flag that is not `true` or `false` is bad data, not a guess.
    let server = MockServer::start().await;
    let mut deal = fixture("deals.json")[0].clone();
    deal["properties"]["hs_is_closed_won"] = json!("yes");
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 1, "results": [deal]})),
        )
        .mount(&server)
        .await;
    let page = connector(&server).pull(None, 10).await.unwrap();
    assert_eq!(page.rejected.len(), 1);
    assert!(!page.rejected[0].is_business());
    assert_eq!(
        page.rejected[0].location.field.as_deref(),
        Some("hs_is_closed_won")
    );
}

#[tokio::test]
async fn a_multi_status_company_read_imports_the_found_and_holds_the_missing() {
    let server = MockServer::start().await;
    let deals: Vec<Value> = fixture("deals.json")
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| ["1001", "1008", "1013"].contains(&d["id"].as_str().unwrap()))
        .cloned()
        .collect();
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 3, "results": deals})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/deals/companies/batch/read"))
        .respond_with(Batch {
            results: fixture("associations.json")["results"]
                .as_array()
                .unwrap()
                .clone(),
            id: |r| r["from"]["id"].as_str().unwrap().to_owned(),
            multi_status: false,
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/companies/batch/read"))
        .and(body_partial_json(
            json!({"inputs": [{"id": "501"}, {"id": "505"}, {"id": "599"}]}),
        ))
        .respond_with(ResponseTemplate::new(207).set_body_json(fixture("companies_batch_207.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = connector(&server).pull(None, 10).await.unwrap();
    assert_eq!(page.items.len(), 4);
    assert_eq!(
        client(&page.items, "hubspot-company-505").legal_name,
        "Hooli Inc."
    );
    assert_eq!(
        client(&page.items, "hubspot-company-501").legal_name,
        "Acme Industries SA"
    );
    assert_eq!(page.rejected.len(), 1);
    let held = &page.rejected[0];
    assert!(held.is_business());
    assert_eq!(held.location.record.as_deref(), Some("company 599"));
    assert!(held.reason.contains("599") && held.reason.contains("OBJECT_NOT_FOUND"));
    let raw: Value = serde_json::from_str(&held.raw).unwrap();
    assert_eq!(raw["id"], "1013");
}

#[tokio::test]
async fn companies_are_listed_with_the_opaque_after_verbatim() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/companies"))
        .and(query_param("after", "NTAx%3D%3D"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("companies_list_page_2.json")),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/companies"))
        .and(query_param("limit", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("companies_list_page_1.json")),
        )
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let hubspot = connector(&server);
    let first = hubspot.list_companies(None, 2).await.unwrap();
    let names: Vec<_> = first
        .clients
        .iter()
        .map(|c| c.legal_name.as_str())
        .collect();
    assert_eq!(names, ["Hooli Inc.", "Acme Industries SA"]);
    assert_eq!(first.after.as_deref(), Some("NTAx%3D%3D"));
    let second = hubspot
        .list_companies(first.after.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(second.clients.len(), 1);
    assert_eq!(second.clients[0].country.as_str(), "NO");
    assert_eq!(second.rejected.len(), 1);
    assert!(second.rejected[0].is_business());
    assert_eq!(second.after, None);
}

#[tokio::test]
async fn a_cursor_from_elsewhere_is_refused() {
    let fake = fake_hubspot().await;
    let hubspot = connector(&fake.server);
    check_error(
        &hubspot,
        Some(&Cursor::new("01gD0000002HU6KIAW-2000")),
        10,
        &ExpectedError::new(ErrorKind::BadCursor, false),
    )
    .await
    .assert_passed();
}

async fn failing_with(reply: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals/search"))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

async fn failing(status: u16, body: Value, retry_after: Option<&str>) -> MockServer {
    let mut reply = ResponseTemplate::new(status).set_body_json(body);
    if let Some(after) = retry_after {
        reply = reply.insert_header("Retry-After", after);
    }
    failing_with(reply).await
}

#[tokio::test]
async fn rate_limits_follow_hubspot_policies() {
    // SECONDLY with Retry-After.
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

    // TEN_SECONDLY_ROLLING without Retry-After: the interval header says how long.
    let server = failing_with(
        ResponseTemplate::new(429)
            .set_body_json(fixture("error_429_ten_secondly.json"))
            .insert_header("X-HubSpot-RateLimit-Interval-Milliseconds", "2500")
            .insert_header("X-HubSpot-RateLimit-Max", "100")
            .insert_header("X-HubSpot-RateLimit-Remaining", "0"),
    )
    .await;
    let err = connector(&server).pull(None, 10).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_millis(2500)));

    // Retry-After wins over the interval.
    let server = failing_with(
        ResponseTemplate::new(429)
            .set_body_json(fixture("error_429_ten_secondly.json"))
            .insert_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
            .insert_header("Retry-After", "3"),
    )
    .await;
    let err = connector(&server).pull(None, 10).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));

    // No policy named, no header: retryable, no wait known.
    let server = failing(
        429,
        json!({"status": "error", "message": "Too many requests"}),
        None,
    )
    .await;
    let err = connector(&server).pull(None, 10).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), None);

    // DAILY: a quota used up, not retryable now, and it says so.
    let server = failing_with(
        ResponseTemplate::new(429)
            .set_body_json(fixture("error_429_daily.json"))
            .insert_header("X-HubSpot-RateLimit-Daily", "250000")
            .insert_header("X-HubSpot-RateLimit-Daily-Remaining", "0"),
    )
    .await;
    let hubspot = connector(&server);
    check_error(
        &hubspot,
        None,
        10,
        &ExpectedError::new(ErrorKind::Quota, false).hiding(TOKEN),
    )
    .await
    .assert_passed();
    match hubspot.pull(None, 10).await.unwrap_err() {
        ConnectorError::Quota { message, usage, .. } => {
            assert!(message.contains("DAILY"), "{message}");
            assert!(message.contains("midnight"), "{message}");
            assert_eq!(usage.as_deref(), Some("daily 250000/250000, 0 remaining"));
        }
        other => panic!("not a quota: {other}"),
    }
}

#[tokio::test]
async fn errors_are_classified() {
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

// ---------------------------------------------------------------------------------------------
// CRM lookup: one deal by id (a signature that names only the deal)
// ---------------------------------------------------------------------------------------------

/// `GET /crm/v3/objects/deals/{dealId}` as HubSpot answers it: the deal object, or a 404
/// `OBJECT_NOT_FOUND`.
async fn mount_deal_by_id(server: &MockServer, id: &str, status: u16, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/crm/v3/objects/deals/{id}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(query_param(
            "properties",
            "dealname,dealstage,pipeline,amount,deal_currency_code,closedate,hs_is_closed_won,hs_is_closed,hubspot_owner_id,hs_lastmodifieddate",
        ))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_deal_is_looked_up_by_id_with_its_primary_company() {
    use odoo_connect::connector::{CrmDeal, CrmLookup};
    let fake = fake_hubspot().await;
    mount_deal_by_id(&fake.server, "1001", 200, fixture("deal_1001_by_id.json")).await;
    mount_deal_by_id(
        &fake.server,
        "1002",
        200,
        fixture("deal_1002_lost_by_id.json"),
    )
    .await;
    mount_deal_by_id(&fake.server, "9999", 404, fixture("error_404_deal.json")).await;
    let hubspot = connector(&fake.server);
    assert_eq!(hubspot.crm_system(), "hubspot");

    // The same client and contract the source gives for the won deal.
    let CrmDeal::Won { client, contract } = hubspot.won_deal("1001").await.unwrap() else {
        panic!("not won")
    };
    let pulled = pull_all(&hubspot, None, 100, 10).await.unwrap();
    let (_, from_source) = contracts(&pulled.items)
        .into_iter()
        .find(|(_, c)| c.key.as_str() == "hubspot-deal-1001")
        .unwrap();
    assert_eq!(&*contract, from_source);
    assert_eq!(&*client, self::client(&pulled.items, "hubspot-company-501"));

    // Lost: not bookable, with the reason; unknown: not found; not an id: not found, no call.
    let lost = hubspot.won_deal("1002").await.unwrap();
    assert!(
        matches!(&lost, CrmDeal::NotBookable { reason } if reason.starts_with("not_won")),
        "{lost:?}"
    );
    assert_eq!(hubspot.won_deal("9999").await.unwrap(), CrmDeal::NotFound);
    assert_eq!(
        hubspot.won_deal("../companies/1").await.unwrap(),
        CrmDeal::NotFound
    );
}
