//! A small in-process server shaped like the HubSpot CRM v3 API: the deal search, the deal to
//! company associations, the company batch read, and reading and updating one deal's properties.
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
            "deal_currency_code": "EUR"
        },
        "createdAt": "2025-01-15T08:00:00.000Z", "updatedAt": "2025-03-01T09:00:00.000Z",
        "archived": false
    })
}

struct Search(Arc<Mutex<BTreeMap<String, Value>>>);
impl Respond for Search {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let deals: Vec<Value> = self
            .0
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({"total": deals.len(), "results": deals}))
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
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}]}]}))
            .collect();
        let companies: Vec<Value> = deals
            .iter()
            .map(|d| {
                let c = &d.company;
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
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "COMPLETE", "results": assoc})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/crm/v3/objects/companies/batch/read"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "COMPLETE", "results": companies})),
            )
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
