//! camt.053 bank statements: parsing any bytes, then matching the credits read against open
//! invoices, as `Camt053Statement::new` does.
#![no_main]

use std::sync::OnceLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use odoo_connect_canonical::{Currency, InvoiceEvent, InvoiceLine, InvoiceStatus, Money};
use odoo_connect_connectors::camt053::{Camt053Config, Camt053Statement, parse_statement};
use rust_decimal::Decimal;

/// Open invoices in the numbering the seed statements refer to.
fn open_invoices() -> &'static [InvoiceEvent] {
    static INVOICES: OnceLock<Vec<InvoiceEvent>> = OnceLock::new();
    INVOICES.get_or_init(|| {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let mut out = Vec::new();
        for (i, (amount, currency)) in [
            (1125_00, Currency::EUR),
            (2000_00, Currency::EUR),
            (780_00, Currency::EUR),
            (1000_00, Currency::USD),
            (49_99, Currency::CHF),
        ]
        .into_iter()
        .enumerate()
        {
            let money = Money::new(Decimal::new(amount, 2), currency);
            let Some(line) = InvoiceLine::new("Services", Decimal::ONE, money) else {
                continue;
            };
            let (Ok(key), Ok(entity), Ok(client)) = (
                format!("inv-{}", 42 + i).parse(),
                "firm-eu".parse(),
                "acme".parse(),
            ) else {
                continue;
            };
            if let Some(mut inv) =
                InvoiceEvent::draft(key, entity, client, currency, day, day, vec![line])
            {
                inv.status = InvoiceStatus::Posted;
                inv.number = Some(format!("INV/2024/{:04}", 42 + i));
                out.push(inv);
            }
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(open_invoices().len(), 5, "the invoices are set up");
    if let Ok(statement) = parse_statement(data) {
        for credit in &statement.credits {
            let _ = credit.reference_text();
            let _ = credit.amount_in(Currency::EUR);
        }
        for reversal in &statement.reversals {
            let _ = reversal.to_rejected();
        }
    }
    let (Ok(entity), Ok(unidentified)) = ("firm-eu".parse(), "unidentified".parse()) else {
        return;
    };
    let config = Camt053Config::new(entity, unidentified);
    if let Ok(read) = Camt053Statement::new(data, open_invoices(), config) {
        let _ = read.report();
    }
});
