//! Property tests of every parser of data the SDK does not control: any bytes give a value or a
//! typed error, never a panic; valid values read back as written.
//!
//! The same parsers are fuzzed with libFuzzer under `fuzz/` (see `fuzz/README.md`); these run
//! with `cargo test` and keep the case count small.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use odoo_connect::canonical::{Currency, Money};
use odoo_connect::connector::camt053::parse_statement;
use odoo_connect::connector::esign_webhook::{EsignWebhook, Received, sign_docusign};
use odoo_connect::connector::hubspot::HubSpot;
use odoo_connect::connector::salesforce::Salesforce;
use odoo_connect::connector::timesheet_csv::{CsvRows, Row, TimeExport};
use odoo_connect::connector::{Cursor, HeaderMap, PushedEvent, Record};
use odoo_connect::odoo::models::{AccountMove, Partner, SaleOrderLine, Timesheet};
use odoo_connect::odoo::value::{datetime, decimal};
use odoo_connect::odoo::{Domain, Op, json2, jsonrpc};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use proptest::prelude::*;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are reported with their minimal input; nothing is written next to the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that are often JSON-ish or XML-ish, so that the parsers get past their first check.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "[\\[\\]{}\",:0-9a-z.eE+\\- ]{0,128}".prop_map(String::into_bytes),
        "<[A-Za-z]{1,8}>[ -~]{0,64}</[A-Za-z]{1,8}>".prop_map(String::into_bytes),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!("&")),
        Just(json!("|")),
        Just(json!("!")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn hubspot() -> HubSpot {
    HubSpot::builder("props-token")
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

fn salesforce() -> Salesforce {
    Salesforce::builder("https://props.my.salesforce.com", "props-token")
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap()
}

/// A domain tree the builder makes.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(String, Op, i64),
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = (
        "[a-z_]{1,10}",
        prop::sample::select(Op::ALL.to_vec()),
        any::<i64>(),
    )
        .prop_map(|(f, op, v)| Tree::Leaf(f, op, v));
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::And),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Or),
            inner.prop_map(|t| Tree::Not(Box::new(t))),
        ]
    })
}

fn to_domain(t: &Tree) -> Domain {
    match t {
        Tree::Leaf(f, op, v) => Domain::leaf(f.clone(), *op, *v),
        Tree::And(items) => items
            .iter()
            .fold(Domain::new(), |acc, i| acc.and(to_domain(i))),
        Tree::Or(items) => Domain::any_of(items.iter().map(to_domain)),
        Tree::Not(inner) => to_domain(inner).not(),
    }
}

/// A field of a CSV line, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

const HARVEST_HEADER: &str = "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,\
Billable?,Invoiced?,Approved?,First Name,Last Name,Roles,Employee?,Billable Rate,Billable Amount,\
Cost Rate,Cost Amount,Currency,External Reference URL";

/// One valid Harvest row: its day, its hours in hundredths, and its notes.
#[derive(Debug, Clone)]
struct TimeRow {
    date: NaiveDate,
    centi_hours: i64,
    notes: String,
}

fn time_row() -> impl Strategy<Value = TimeRow> {
    (0u32..3650, 1i64..2400, "[ -~]{0,20}(\n[ -~]{0,10})?").prop_map(|(day, centi_hours, notes)| {
        TimeRow {
            date: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(day.into()),
            centi_hours,
            notes,
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn odoo_replies_never_panic(body in hostile_bytes(), status in prop::sample::select(vec![200u16, 401, 404, 422, 500, 502])) {
        let what = ("res.partner", "read");
        let _ = jsonrpc::decode_reply::<Vec<Partner>>(status, &body, what).map_err(|e| e.to_string());
        let _ = jsonrpc::decode_reply::<Vec<AccountMove>>(status, &body, what).map_err(|e| e.to_string());
        let _ = json2::decode_reply::<Vec<SaleOrderLine>>(status, &body, None, what).map_err(|e| e.to_string());
        let _ = json2::decode_reply::<Vec<Timesheet>>(status, &body, None, what).map_err(|e| e.to_string());
    }

    #[test]
    fn odoo_records_of_any_json_decode_or_fail(record in any_json()) {
        let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": [record]})).unwrap();
        let what = ("res.partner", "read");
        let _ = jsonrpc::decode_reply::<Vec<Partner>>(200, &body, what);
        let _ = jsonrpc::decode_reply::<Vec<AccountMove>>(200, &body, what);
        let _ = jsonrpc::decode_reply::<Vec<SaleOrderLine>>(200, &body, what);
        let _ = jsonrpc::decode_reply::<Vec<Timesheet>>(200, &body, what);
    }

    #[test]
    fn raw_domains_never_panic_and_keep_their_terms(value in any_json()) {
        match Domain::raw(value.clone()) {
            Ok(d) => {
                let Value::Array(items) = value else { panic!("only lists are domains") };
                let out = d.clone().or(Domain::leaf("a", Op::Eq, 1)).not().to_value();
                prop_assert!(out.is_array());
                let Value::Array(alone) = d.to_value() else { panic!("a domain is a list") };
                prop_assert!(alone.ends_with(&items));
            }
            Err(_) => prop_assert!(!value.is_array()),
        }
    }

    #[test]
    fn built_domains_round_trip_through_json(t in tree()) {
        let value = to_domain(&t).to_value();
        let text = serde_json::to_string(&value).unwrap();
        let back = Domain::raw(serde_json::from_str(&text).unwrap()).unwrap();
        prop_assert_eq!(back.to_value(), value);
    }

    #[test]
    fn decimal_text_round_trips(mantissa in any::<i64>(), scale in 0u32..12) {
        let d = Decimal::new(mantissa, scale);
        prop_assert_eq!(decimal::parse_decimal_text(&d.to_string()).unwrap(), d);
        // As Odoo writes an amount: a bare JSON number, read from its text, not through a float.
        #[derive(serde::Deserialize)]
        struct Line {
            #[serde(with = "odoo_connect::odoo::value::decimal::option")]
            amount: Option<Decimal>,
        }
        let line: Line = serde_json::from_str(&format!("{{\"amount\": {d}}}")).unwrap();
        prop_assert_eq!(line.amount, Some(d));
    }

    #[test]
    fn decimal_text_never_panics(text in "[0-9eE+\\-.]{0,40}|\\PC{0,20}") {
        let _ = decimal::parse_decimal_text(&text);
    }

    #[test]
    fn money_round_trips(mantissa in any::<i64>(), scale in 0u32..4, currency in prop::sample::select(vec![Currency::EUR, Currency::USD, Currency::CHF, Currency::JPY])) {
        let money = Money::new(Decimal::new(mantissa, scale), currency);
        let back: Money = serde_json::from_str(&serde_json::to_string(&money).unwrap()).unwrap();
        prop_assert_eq!(back, money);
    }

    #[test]
    fn dates_and_datetimes_round_trip(secs in -62_135_596_800i64..253_402_300_799) {
        let at: DateTime<Utc> = Utc.timestamp_opt(secs, 0).unwrap();
        prop_assert_eq!(datetime::parse(&datetime::format(&at)).unwrap(), at);
        #[derive(serde::Deserialize)]
        struct Day {
            #[serde(with = "odoo_connect::odoo::value::date")]
            date: NaiveDate,
        }
        let day = at.date_naive();
        let text = format!("{{\"date\": \"{}\"}}", day.format("%Y-%m-%d"));
        let read: Day = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(read.date, day);
    }

    #[test]
    fn datetime_text_never_panics(text in "\\PC{0,32}|[0-9: .\\-]{0,32}") {
        let _ = datetime::parse(&text);
    }

    #[test]
    fn envelopes_round_trip(
        parts in prop::collection::vec("[!-~]([ -~]{0,10}[!-~])?", 4),
        payload in any_json(),
        source in "[a-z\\-]{1,12}",
        secs in 0i64..4_102_444_800,
    ) {
        let key = IdempotencyKey::for_effect(&parts[0], &parts[1], &parts[2], &parts[3]).unwrap();
        let envelope = Envelope::builder(key, payload)
            .source(source)
            .legal_entity("acme-be".parse().unwrap())
            .occurred_at(Utc.timestamp_opt(secs, 0).unwrap())
            .build()
            .unwrap();
        let text = serde_json::to_string(&envelope).unwrap();
        let back: JsonEnvelope = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &envelope);
        let value: JsonEnvelope = serde_json::from_value(serde_json::to_value(&envelope).unwrap()).unwrap();
        prop_assert_eq!(value, envelope);
    }

    #[test]
    fn stored_envelopes_of_any_bytes_decode_or_fail(body in hostile_bytes(), value in any_json()) {
        let _ = serde_json::from_slice::<JsonEnvelope>(&body);
        let _ = serde_json::from_value::<JsonEnvelope>(value);
        if let Ok(text) = std::str::from_utf8(&body) {
            let _ = IdempotencyKey::new(text);
        }
    }

    #[test]
    fn csv_exports_never_panic(body in hostile_bytes(), preset in 0usize..4) {
        let config = match preset {
            0 => TimeExport::harvest(),
            1 => TimeExport::toggl(),
            2 => TimeExport::new("psa"),
            _ => TimeExport::new("psa").delimiter(b';').decimal_comma(true),
        };
        if let Ok(rows) = CsvRows::new(&body[..], config) {
            for row in rows.take(1000) {
                let _ = row.map_err(|e| e.to_string());
            }
        }
    }

    #[test]
    fn generated_harvest_exports_read_back(rows in prop::collection::vec(time_row(), 1..12)) {
        let mut csv = format!("{HARVEST_HEADER}\n");
        for r in &rows {
            let hours = Decimal::new(r.centi_hours, 2);
            csv.push_str(&format!(
                "{},Acme GmbH,ERP Rollout,ACME-ERP,Design,{},{hours},{hours},Yes,No,Yes,Jane,Doe,Senior Consultant,Yes,150.00,,80.00,,Euro - EUR,\n",
                r.date.format("%Y-%m-%d"),
                csv_field(&r.notes),
            ));
        }
        let read: Vec<Row> = CsvRows::new(csv.as_bytes(), TimeExport::harvest())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(read.len(), rows.len());
        for (row, want) in read.iter().zip(&rows) {
            let Row::Change(change) = row else { panic!("{row:?} for {want:?}") };
            let Record::TimeEntry(entry) = &change.record else { panic!("{change:?}") };
            prop_assert_eq!(entry.date, want.date);
            prop_assert_eq!(entry.hours, Decimal::new(want.centi_hours, 2));
        }
    }

    #[test]
    fn camt053_never_panics(body in hostile_bytes()) {
        let _ = parse_statement(&body).map_err(|e| e.to_string());
    }

    #[test]
    fn camt053_of_a_mangled_statement_never_panics(cut in 0usize..4096, byte in any::<u8>()) {
        let mut xml = include_bytes!("fixtures/connectors/camt053/statement_001_08.xml").to_vec();
        let at = cut % xml.len();
        xml[at] = byte;
        let _ = parse_statement(&xml);
        xml.truncate(at);
        let _ = parse_statement(&xml);
    }

    #[test]
    fn webhook_bodies_never_panic(body in hostile_bytes(), value in any_json()) {
        let key = SecretString::from("props-key");
        let now = Utc.with_ymd_and_hms(2025, 6, 12, 9, 31, 0).unwrap();
        let webhook = EsignWebhook::docusign("props-key")
            .clock(odoo_connect::core::clock::ManualClock::new(now))
            .replay_window(Duration::MAX)
            .build()
            .unwrap();
        let value_body = serde_json::to_vec(&json!({"event": "envelope-completed", "generatedDateTime": "2025-06-12T09:30:00Z", "data": value})).unwrap();
        for body in [body, value_body] {
            let mut headers = HeaderMap::new();
            headers.insert("x-docusign-signature-1", sign_docusign(&key, &body).parse().unwrap());
            let event = PushedEvent::received_at(headers, body, now);
            prop_assert!(webhook.verify(&event).is_ok());
            if let Ok(Received::Changes(changes)) = webhook.read(&event) {
                prop_assert!(!changes.is_empty());
            }
        }
    }

    #[test]
    fn hubspot_pages_never_panic(search in hostile_bytes(), results in prop::collection::vec(any_json(), 0..4)) {
        let hubspot = hubspot();
        let _ = hubspot.decode_company_list(&search);
        let _ = hubspot.decode_deal_page(None, 10, &search, b"{}", b"{}");
        let body = serde_json::to_vec(&json!({"results": results})).unwrap();
        let _ = hubspot.decode_company_list(&body);
        let _ = hubspot.decode_deal_page(Some(&Cursor::new("{\"since\":0}")), 10, &body, &body, &body);
    }

    #[test]
    fn salesforce_pages_never_panic(body in hostile_bytes(), records in prop::collection::vec(any_json(), 0..4)) {
        let sf = salesforce();
        let _ = sf.decode_query_page(None, &body);
        let body = serde_json::to_vec(&json!({"done": true, "records": records})).unwrap();
        let _ = sf.decode_query_page(None, &body);
    }
}

#[test]
fn recorded_vendor_pages_decode() {
    let fixture = |p: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/connectors/{p}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let page = hubspot()
        .decode_company_list(&fixture("hubspot/companies_list_page_1.json"))
        .unwrap();
    assert!(!page.clients.is_empty() || !page.rejected.is_empty());
    // The fixtures hold the records; the replies carry them in `results` and `records`.
    let results = |p: &str| {
        let records: Value = serde_json::from_slice(&fixture(p)).unwrap();
        serde_json::to_vec(&json!({ "results": records })).unwrap()
    };
    let deals = hubspot()
        .decode_deal_page(
            None,
            100,
            &results("hubspot/deals.json"),
            &fixture("hubspot/associations.json"),
            &results("hubspot/companies.json"),
        )
        .unwrap();
    assert!(!deals.items.is_empty());
    assert_eq!(deals.items.len() % 2, 0);
    let opportunities: Value =
        serde_json::from_slice(&fixture("salesforce/opportunities.json")).unwrap();
    let reply = json!({"totalSize": 1, "done": true, "records": opportunities});
    let sf = salesforce()
        .decode_query_page(None, &serde_json::to_vec(&reply).unwrap())
        .unwrap();
    assert!(!sf.items.is_empty());
    assert!(
        salesforce()
            .decode_query_page(None, b"{\"done\": 1}")
            .is_err()
    );
}

/// Found by `envelopes_round_trip`: without serde_json's `float_roundtrip`, a float in a stored
/// payload could read back one unit in the last place off.
#[test]
fn stored_floats_read_back_to_the_bit() {
    for f in [
        -9.238082316493584e119,
        0.1 + 0.2,
        1e-300,
        123_456.789_012_345_67,
    ] {
        let payload = json!([f]);
        let text = serde_json::to_string(&payload).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, payload, "{text}");
    }
}
