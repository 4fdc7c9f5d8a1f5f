//! A small in-process server shaped like the HubSpot CRM v3 API: the deal search, the deal to
//! company associations, the company batch read, and reading and updating one deal's properties.
//! It answers as HubSpot documents: the search honours its filter groups, sorts by
//! `hs_lastmodifieddate` and pages with an opaque `after`; deals carry `hs_is_closed_won` and
//! `hs_is_closed` as strings; a deal's primary company comes with its unlabeled twin link; the
//! company batch read answers `207 Multi-Status` for ids it does not have.
//! Shared by the examples and the end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The token the fake accepts.
pub const TOKEN: &str = "pat-na1-00000000-0000-0000-0000-000000000000";

/// A won deal and its company.
#[derive(Debug, Clone)]
pub struct Deal {
    pub id: &'static str,
    pub name: &'static str,
    pub amount: &'static str,
    pub close_date: &'static str,
    /// The deal's currency (`deal_currency_code`).
    pub currency: &'static str,
    pub company: Company,
}

/// A company.
#[derive(Debug, Clone)]
pub struct Company {
    pub id: &'static str,
    pub name: &'static str,
    pub street: &'static str,
    pub city: &'static str,
    pub zip: &'static str,
    pub country: &'static str,
}

/// The fake and the deals' properties as they are now (write-backs included).
pub struct FakeHubSpot {
    pub server: MockServer,
    deals: Arc<Mutex<BTreeMap<String, Value>>>,
}

fn deal_json(d: &Deal) -> Value {
    json!({
        "id": d.id,
        "properties": {
            "amount": d.amount, "closedate": format!("{}T00:00:00.000Z", d.close_date),
            "dealname": d.name, "dealstage": "closedwon", "pipeline": "default",
            "hs_lastmodifieddate": "2025-03-01T09:00:00.000Z", "hs_object_id": d.id,
            "deal_currency_code": d.currency, "hs_is_closed_won": "true", "hs_is_closed": "true",
            "hubspot_owner_id": ""
        },
        "createdAt": "2025-01-15T08:00:00.000Z", "updatedAt": "2025-03-01T09:00:00.000Z",
        "archived": false
    })
}

/// Whether a deal matches one search filter (`IN`, `EQ`, and `GTE` on a time in ms).
fn matches(deal: &Value, filter: &Value) -> bool {
    let name = filter["propertyName"].as_str().unwrap_or_default();
    let value = &deal["properties"][name];
    match filter["operator"].as_str().unwrap_or_default() {
        "IN" => filter["values"]
            .as_array()
            .is_some_and(|vs| vs.contains(value)),
        "EQ" => value == &filter["value"],
        "GTE" => {
            let bound = filter["value"]
                .as_str()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            modified_ms(deal) >= bound
        }
        _ => false,
    }
}

fn modified_ms(deal: &Value) -> i64 {
    deal["properties"]["hs_lastmodifieddate"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp_millis())
}

/// The deal search: filter groups (OR of ANDs), ascending `hs_lastmodifieddate`, `limit`, and the
/// opaque `after` of the previous reply's `paging.next.after`, in the body.
struct Search(Arc<Mutex<BTreeMap<String, Value>>>);
impl Respond for Search {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return ResponseTemplate::new(400).set_body_json(
                json!({"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"}),
            );
        };
        let groups = body["filterGroups"].as_array().cloned().unwrap_or_default();
        let limit = body["limit"].as_u64().unwrap_or(10).clamp(1, 200) as usize;
        let start = body["after"]
            .as_str()
            .and_then(|a| a.strip_prefix("ZmFrZQ"))
            .and_then(|a| a.parse::<usize>().ok())
            .unwrap_or(0);
        let mut hits: Vec<Value> = self
            .0
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
        hits.retain(|d| {
            groups.is_empty()
                || groups.iter().any(|g| {
                    g["filters"]
                        .as_array()
                        .is_some_and(|fs| fs.iter().all(|f| matches(d, f)))
                })
        });
        hits.sort_by_key(|d| {
            (
                modified_ms(d),
                d["id"].as_str().unwrap_or_default().to_owned(),
            )
        });
        let page: Vec<Value> = hits.iter().skip(start).take(limit).cloned().collect();
        let mut reply = json!({"total": hits.len(), "results": page});
        if start + limit < hits.len() {
            let after = format!("ZmFrZQ{}", start + limit);
            reply["paging"] = json!({"next": {"after": after, "link": format!("?after={after}")}});
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

/// A batch read: the entries for the ids asked, matched by `id_field`; with `multi_status`, the
/// ids it does not have are the `errors` of a `207 Multi-Status`.
struct BatchRead {
    entries: Vec<Value>,
    id_field: fn(&Value) -> Option<String>,
    multi_status: bool,
}
impl Respond for BatchRead {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let wanted: Vec<String> = body["inputs"]
            .as_array()
            .map(|is| {
                is.iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let results: Vec<Value> = self
            .entries
            .iter()
            .filter(|e| (self.id_field)(e).is_some_and(|id| wanted.contains(&id)))
            .cloned()
            .collect();
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|w| {
                !results
                    .iter()
                    .any(|r| (self.id_field)(r).as_ref() == Some(*w))
            })
            .collect();
        let mut reply = json!({"status": "COMPLETE", "results": results,
            "startedAt": "2025-03-01T09:00:00.000Z", "completedAt": "2025-03-01T09:00:00.050Z"});
        if self.multi_status && !missing.is_empty() {
            reply["numErrors"] = json!(1);
            reply["errors"] = json!([{"status": "error", "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some COMPANY objects, they may be deleted or not exist.",
                "context": {"ids": missing}}]);
            return ResponseTemplate::new(207).set_body_json(reply);
        }
        ResponseTemplate::new(200).set_body_json(reply)
    }
}

struct GetDeal(Arc<Mutex<BTreeMap<String, Value>>>);
impl Respond for GetDeal {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let Ok(mut deals) = self.0.lock() else {
            return ResponseTemplate::new(500);
        };
        let Some(deal) = deals.get_mut(&id) else {
            return ResponseTemplate::new(404)
                .set_body_json(json!({"status": "error", "message": "Object not found"}));
        };
        if req.method.as_str() == "PATCH" {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if let (Some(props), Some(new)) = (
                deal["properties"].as_object_mut(),
                body["properties"].as_object(),
            ) {
                for (k, v) in new {
                    props.insert(k.clone(), v.clone());
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(deal.clone())
    }
}

impl FakeHubSpot {
    /// Starts the fake with these won deals.
    pub async fn start(deals: &[Deal]) -> FakeHubSpot {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(
            deals
                .iter()
                .map(|d| (d.id.to_owned(), deal_json(d)))
                .collect::<BTreeMap<_, _>>(),
        ));
        let assoc: Vec<Value> = deals
            .iter()
            .map(|d| json!({"from": {"id": d.id}, "to": [{"toObjectId": d.company.id.parse::<i64>().unwrap_or(0),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                    {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": null}]}]}))
            .collect();
        // One entry per company, however many deals it has.
        let mut by_id = BTreeMap::new();
        for d in deals {
            by_id.entry(d.company.id).or_insert(&d.company);
        }
        let companies: Vec<Value> = by_id
            .values()
            .map(|c| {
                json!({"id": c.id, "properties": {"name": c.name, "address": c.street, "address2": null,
                    "city": c.city, "zip": c.zip, "state": null, "country": c.country,
                    "hs_lastmodifieddate": "2025-02-20T10:00:00.000Z", "hs_object_id": c.id},
                    "createdAt": "2024-11-02T14:00:00.000Z", "updatedAt": "2025-02-20T10:00:00.000Z", "archived": false})
            })
            .collect();
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/deals/search"))
            .respond_with(Search(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/crm/v4/associations/deals/companies/batch/read"))
            .respond_with(BatchRead {
                entries: assoc,
                id_field: |e| e["from"]["id"].as_str().map(str::to_owned),
                multi_status: false,
            })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/companies/batch/read"))
            .respond_with(BatchRead {
                entries: companies,
                id_field: |e| e["id"].as_str().map(str::to_owned),
                multi_status: true,
            })
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/crm/v3/objects/deals/[0-9]+$"))
            .respond_with(GetDeal(state.clone()))
            .mount(&server)
            .await;
        FakeHubSpot {
            server,
            deals: state,
        }
    }

    /// The fake's base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A deal's properties now.
    pub fn properties(&self, id: &str) -> Value {
        self.deals
            .lock()
            .ok()
            .and_then(|d| d.get(id).map(|v| v["properties"].clone()))
            .unwrap_or(Value::Null)
    }
}

/// The sample deals the examples and tests use.
pub fn sample_deals() -> Vec<Deal> {
    vec![
        Deal {
            id: "1001",
            name: "ERP roll-out",
            amount: "60000",
            close_date: "2025-02-28",
            currency: "EUR",
            company: Company {
                id: "501",
                name: "Acme Industries SA",
                street: "Rue Neuve 1",
                city: "Brussels",
                zip: "1000",
                country: "BE",
            },
        },
        Deal {
            id: "1002",
            name: "Finance transformation",
            amount: "40000",
            close_date: "2025-03-01",
            currency: "EUR",
            company: Company {
                id: "502",
                name: "Globex Benelux BV",
                street: "Kerkstraat 5",
                city: "Antwerp",
                zip: "2000",
                country: "BE",
            },
        },
        Deal {
            id: "1003",
            name: "Audit readiness",
            amount: "12000",
            close_date: "2025-03-02",
            currency: "EUR",
            company: Company {
                id: "501",
                name: "Acme Industries SA",
                street: "Rue Neuve 1",
                city: "Brussels",
                zip: "1000",
                country: "BE",
            },
        },
    ]
}
