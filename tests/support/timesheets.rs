//! What the tests of batched timesheet creation share: a project and an employee to book on,
//! and numbered messages.
#![allow(dead_code)]

use odoo_connect::odoo::models::{Employee, Project};
use odoo_connect::odoo::{Domain, OdooClient, RecordId};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use serde_json::Value;

/// The first project and the first employee `odoo` can read.
pub async fn project_and_employee(odoo: &OdooClient) -> (RecordId, RecordId) {
    let project = odoo
        .model::<Project>()
        .search(Domain::new())
        .limit(1)
        .await
        .unwrap()[0];
    let employee = odoo
        .model::<Employee>()
        .search(Domain::new())
        .limit(1)
        .await
        .unwrap()[0];
    (project, employee)
}

/// `n` messages from `source`, the `i`-th with key `key(i)` and payload `payload(i)`.
pub fn numbered(
    n: usize,
    source: &str,
    key: impl Fn(usize) -> IdempotencyKey,
    payload: impl Fn(usize) -> Value,
) -> Vec<JsonEnvelope> {
    (0..n)
        .map(|i| {
            Envelope::builder(key(i), payload(i))
                .source(source)
                .legal_entity("BE".parse().unwrap())
                .build()
                .unwrap()
                .to_json()
                .unwrap()
        })
        .collect()
}
