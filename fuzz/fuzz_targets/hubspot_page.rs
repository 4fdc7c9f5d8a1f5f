//! HubSpot page decoding: a deal search page with its associations and company batch replies,
//! or a company list page, read the way the connector reads HubSpot's replies. The input is the
//! replies separated by NUL bytes (`search \0 associations \0 companies \0 cursor`); the first byte
//! picks the page and the connector's settings.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use odoo_connect_canonical::{CountryCode, LegalEntityKey};
use odoo_connect_connectors::Cursor;
use odoo_connect_connectors::hubspot::HubSpot;

fn connectors() -> &'static [HubSpot] {
    static CONNECTORS: OnceLock<Vec<HubSpot>> = OnceLock::new();
    CONNECTORS.get_or_init(|| {
        let Ok(entity) = "firm-eu".parse::<LegalEntityKey>() else {
            return Vec::new();
        };
        let plain = HubSpot::builder("fuzz-token")
            .legal_entity(entity.clone())
            .build();
        let country = "BE".parse::<CountryCode>().ok().map(|c| {
            HubSpot::builder("fuzz-token")
                .legal_entity(entity)
                .default_country(c)
                .build()
        });
        [Some(plain), country]
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let hubspot = connectors();
    assert_eq!(hubspot.len(), 2, "the connectors are set up");
    let Some(hubspot) = hubspot.get(usize::from(mode >> 1) % hubspot.len().max(1)) else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0);
    let search = parts.next().unwrap_or_default();
    if mode & 1 == 1 {
        if let Ok(page) = hubspot.decode_company_list(search) {
            for r in &page.rejected {
                let _ = r.to_string();
            }
        }
        return;
    }
    let associations = parts.next().unwrap_or_default();
    let companies = parts.next().unwrap_or_default();
    let cursor = parts
        .next()
        .and_then(|c| std::str::from_utf8(c).ok())
        .map(Cursor::new);
    let page_size = usize::from(mode >> 4) * 10;
    match hubspot.decode_deal_page(cursor.as_ref(), page_size, search, associations, companies) {
        Ok(page) => {
            assert!(
                page.items.len() % 2 == 0,
                "a won deal gives a client and a contract"
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
