//! The Odoo value types on their own: `Many2one`, x2many lists and commands, dates, datetimes,
//! decimals (as JSON and as text), binaries and selections, each from any JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_connect_client::value::{self, datetime, decimal};
use odoo_connect_client::{Binary, Command, Many2one, RecordId};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Fields {
    #[serde(default)]
    m2o: Option<Many2one>,
    #[serde(default, with = "value::opt")]
    m2o_or_false: Option<Many2one>,
    #[serde(default, deserialize_with = "odoo_connect_client::models::x2many::deserialize")]
    x2many: Vec<RecordId>,
    #[serde(default)]
    commands: Vec<Command>,
    #[serde(default, with = "decimal::option")]
    amount: Option<rust_decimal::Decimal>,
    #[serde(default, with = "value::date::option")]
    date: Option<chrono::NaiveDate>,
    #[serde(default, with = "datetime::option")]
    at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, with = "odoo_connect_client::models::date_or_datetime")]
    date_or_datetime: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    binary: Option<Binary>,
    #[serde(default)]
    state: Option<odoo_connect_client::models::account::MoveState>,
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Ok(f) = serde_json::from_slice::<Fields>(rest) {
                for c in &f.commands {
                    let _ = c.to_value();
                }
                let _ = f.m2o.as_ref().map(Many2one::name);
            }
        }
        1 => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(rest) {
                let _ = value::decimal_from_value(&v);
                let _ = serde_json::from_value::<Many2one>(v.clone());
                let _ = serde_json::from_value::<Command>(v.clone());
                let _ = serde_json::from_value::<Binary>(v);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                if let Ok(d) = decimal::parse_decimal_text(text) {
                    let _ = d.to_string();
                }
                if let Ok(t) = datetime::parse(text) {
                    let _ = datetime::format(&t);
                }
            }
        }
    }
});
