//! Salesforce page decoding: a SOQL query reply (opportunities with their accounts), read the
//! way the connector reads it, from any cursor. The input is the reply, then optionally a NUL
//! byte and the cursor text; the first byte picks the connector's settings.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use odoo_connect_canonical::{CountryCode, LegalEntityKey};
use odoo_connect_connectors::Cursor;
use odoo_connect_connectors::salesforce::Salesforce;

fn connectors() -> &'static [Salesforce] {
    static CONNECTORS: OnceLock<Vec<Salesforce>> = OnceLock::new();
    CONNECTORS.get_or_init(|| {
        let url = "https://fuzz.my.salesforce.com";
        let mut out = Vec::new();
        let Ok(entity) = "firm-eu".parse::<LegalEntityKey>() else {
            return out;
        };
        if let Ok(sf) = Salesforce::builder(url, "fuzz-token")
            .legal_entity(entity.clone())
            .build()
        {
            out.push(sf);
        }
        if let Ok(country) = "BE".parse::<CountryCode>() {
            if let Ok(sf) = Salesforce::builder(url, "fuzz-token")
                .legal_entity(entity)
                .multi_currency(true)
                .default_country(country)
                .build()
            {
                out.push(sf);
            }
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let all = connectors();
    assert_eq!(all.len(), 2, "the connectors are set up");
    let Some(sf) = all.get(usize::from(mode) % all.len().max(1)) else {
        return;
    };
    let mut parts = rest.splitn(2, |&b| b == 0);
    let body = parts.next().unwrap_or_default();
    let cursor = parts
        .next()
        .and_then(|c| std::str::from_utf8(c).ok())
        .map(Cursor::new);
    match sf.decode_query_page(cursor.as_ref(), body) {
        Ok(page) => {
            assert!(
                page.items.len() % 2 == 0,
                "a won opportunity gives a client and a contract"
            );
            for change in &page.items {
                let _ = change.record.validate();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
