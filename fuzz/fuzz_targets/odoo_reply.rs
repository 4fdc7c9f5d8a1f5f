//! Odoo reply decoding: JSON-RPC and JSON-2 envelopes into every typed model and the handle
//! types, with any HTTP status. The first byte picks the status and the type; the rest is the
//! body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_connect_client::models::{
    AccountMove, AccountMoveLine, Company, Currency, Employee, Journal, Milestone, Partner,
    Payment, Product, Project, SaleOrder, SaleOrderLine, Task, Timesheet, User,
};
use odoo_connect_client::{FieldInfo, GroupRow, LoadResult, OdooException, ServerVersion, json2, jsonrpc};
use serde::de::DeserializeOwned;

const STATUSES: [u16; 8] = [200, 200, 200, 200, 401, 404, 422, 500];
const WHAT: (&str, &str) = ("res.partner", "read");

fn both<T: DeserializeOwned>(status: u16, body: &[u8]) {
    // Errors are fine; only a panic fails the target. Every error must render.
    if let Err(e) = jsonrpc::decode_reply::<T>(status, body, WHAT) {
        let _ = e.to_string();
        let _ = e.is_retryable();
    }
    if let Err(e) = json2::decode_reply::<T>(status, body, None, WHAT) {
        let _ = e.to_string();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector & 7)];
    match selector >> 3 {
        0 => both::<Vec<Partner>>(status, body),
        1 => both::<Vec<Company>>(status, body),
        2 => both::<Vec<Currency>>(status, body),
        3 => both::<Vec<User>>(status, body),
        4 => both::<Vec<Employee>>(status, body),
        5 => both::<Vec<Product>>(status, body),
        6 => both::<Vec<SaleOrder>>(status, body),
        7 => both::<Vec<SaleOrderLine>>(status, body),
        8 => both::<Vec<Project>>(status, body),
        9 => both::<Vec<Task>>(status, body),
        10 => both::<Vec<Milestone>>(status, body),
        11 => both::<Vec<Timesheet>>(status, body),
        12 => both::<Vec<AccountMove>>(status, body),
        13 => both::<Vec<AccountMoveLine>>(status, body),
        14 => both::<Vec<Payment>>(status, body),
        15 => both::<Vec<Journal>>(status, body),
        16 => both::<Vec<GroupRow>>(status, body),
        17 => both::<LoadResult>(status, body),
        18 => both::<std::collections::BTreeMap<String, FieldInfo>>(status, body),
        19 => both::<Vec<serde_json::Value>>(status, body),
        20 => both::<i64>(status, body),
        21 => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                let _ = ServerVersion::from_reply(&v);
                let e = OdooException::from_data(&v, Some(200), Some(status));
                let _ = e.to_string();
            }
        }
        22 => {
            if let Ok(text) = std::str::from_utf8(body) {
                let _ = ServerVersion::parse(text);
            }
        }
        _ => both::<serde_json::Value>(status, body),
    }
});
