//! `Domain::raw` on any JSON, combined with built domains: never a panic, and the raw terms
//! come out unchanged (behind the `&` operators that join them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_connect_client::{Domain, Op};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(raw) = Domain::raw(value.clone()) else {
        assert!(!value.is_array(), "a JSON list is a raw domain");
        return;
    };
    let Value::Array(items) = value else {
        panic!("a raw domain was made from something else than a list");
    };
    let out = raw.to_value();
    let Value::Array(out) = out else {
        panic!("a domain serialises as a list");
    };
    if items.is_empty() {
        assert!(out.is_empty(), "the empty raw domain is the empty domain");
    } else {
        assert!(out.len() >= items.len());
        let (ops, tail) = out.split_at(out.len() - items.len());
        assert_eq!(tail, &items[..], "raw terms are passed as given");
        assert!(
            ops.iter().all(|o| o == "&"),
            "only `&` is added before raw terms"
        );
    }
    let combined = raw
        .clone()
        .and(Domain::leaf("name", Op::ILike, "a"))
        .or(raw.clone().not())
        .and(Domain::any_of([raw.clone(), Domain::none()]));
    assert!(combined.to_value().is_array());
    let _ = serde_json::to_string(&combined);
});
