//! What the examples and the end-to-end tests share: the commercial terms given to each won deal,
//! and a fake Odoo with the flows connected to it.
#![allow(dead_code)]

use std::str::FromStr;

use odoo_connect::canonical::{BillingLine, Contract, Milestone, Money, Rate};
use odoo_connect::flows::{FlowSettings, Flows};
use odoo_connect::odoo::{OdooClient, RetryPolicy};
use odoo_connect::testkit::FakeOdoo;
use rust_decimal::Decimal;

/// The statement of work of every sample deal: two fixed-fee milestones and consulting time at
/// 150 an hour, capped at 3,000.
pub fn terms(contract: &mut Contract) {
    let cur = contract.currency;
    let money = |s: &str| Money::new(Decimal::from_str(s).unwrap_or_default(), cur);
    let (Ok(ff), Ok(tm), Ok(m1), Ok(m2), Ok(role)) = (
        "fixed".parse(),
        "consulting".parse(),
        format!("{}-design", contract.key).parse(),
        format!("{}-go-live", contract.key).parse(),
        "consultant".parse(),
    ) else {
        return;
    };
    contract.billing_lines = vec![
        BillingLine::fixed_fee(
            ff,
            "Implementation",
            vec![
                Milestone::new(m1, "Solution design signed off", money("8000")),
                Milestone::new(m2, "Go-live", money("12000")),
            ],
        ),
        BillingLine::time_and_materials(
            tm,
            "Consulting",
            vec![Rate::new(role, money("150"))],
            Some(money("3000")),
        ),
    ];
}

/// An Odoo client for the fake, without transport retries (the pipeline retries).
pub fn odoo_client(fake: &FakeOdoo) -> Result<OdooClient, odoo_connect::odoo::Error> {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
        .build()
}

/// The flows against `odoo`, for the firm's company 1.
pub async fn flows(odoo: OdooClient) -> Result<Flows, odoo_connect::flows::FlowError> {
    let entity = "firm-eu"
        .parse()
        .map_err(|e: odoo_connect::canonical::KeyError| {
            odoo_connect::flows::FlowError::Setup(e.to_string())
        })?;
    Flows::connect(odoo, FlowSettings::new(entity, 1)).await
}
