//! camt.053 statements: booked credits as payments, matched to open invoices.

use chrono::NaiveDate;
use odoo_connect::canonical::{
    Currency, InvoiceEvent, InvoiceLine, InvoiceStatus, Money, Validate,
};
use odoo_connect::connector::camt053::{
    Camt053Config, Camt053Statement, MatchBasis, match_credits, parse_statement,
};
use odoo_connect::connector::conformance::{SourceCheck, check_source};
use odoo_connect::connector::{ErrorKind, Record, pull_all};
use rust_decimal::Decimal;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/connectors/camt053/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn eur(text: &str) -> Money {
    Money::new(text.parse().unwrap(), Currency::EUR)
}

fn invoice(key: &str, number: &str, client: &str, amount: &str) -> InvoiceEvent {
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let line = InvoiceLine::new("Services", Decimal::ONE, eur(amount)).unwrap();
    let mut inv = InvoiceEvent::draft(
        key.parse().unwrap(),
        "firm-eu".parse().unwrap(),
        client.parse().unwrap(),
        Currency::EUR,
        day,
        day,
        vec![line],
    )
    .unwrap();
    inv.status = InvoiceStatus::Posted;
    inv.number = Some(number.into());
    assert!(inv.validate().is_ok());
    inv
}

fn open_invoices() -> Vec<InvoiceEvent> {
    let mut draft = invoice("inv-48", "INV/2024/0048", "acme", "780.00");
    draft.status = InvoiceStatus::Draft; // not open: never matched
    vec![
        invoice("inv-42", "INV/2024/0042", "acme", "1125.00"),
        invoice("inv-43", "INV/2024/0043", "globex", "2000.00"),
        invoice("inv-44", "INV/2024/0044", "initech", "780.00"),
        invoice("inv-45", "INV/2024/0045", "hooli", "1000.00"),
        invoice("inv-46", "INV/2024/0046", "acme", "50.00"),
        invoice("inv-47", "INV/2024/0047", "acme", "49.99"),
        draft,
    ]
}

/// A credit's id, how it matched, and its allocations.
type Seen<'a> = (&'a str, MatchBasis, Vec<(&'a str, Money)>);

fn config() -> Camt053Config {
    Camt053Config::new("firm-eu".parse().unwrap(), "unidentified".parse().unwrap())
}

#[test]
fn booked_credits_are_read_and_the_rest_left_out() {
    let statement = parse_statement(&fixture("statement_001_02.xml")).unwrap();
    assert_eq!(statement.id, "0352C5320240308182211");
    let ids: Vec<&str> = statement.credits.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "2024030800001125",
            "2024030800000500",
            "2024030800000780",
            "2024030800003000-1",
            "2024030800003000-2",
            "2024030800000099"
        ]
    );
    assert_eq!(statement.skipped, 2); // the debit and the pending credit
    let first = &statement.credits[0];
    assert_eq!(first.amount, eur("1125.00"));
    assert_eq!(
        first.amount.amount.scale(),
        2,
        "read from the text, not a float"
    );
    assert_eq!(first.remittance, ["Invoice INV/2024/0042 ACME & Co"]);
    assert_eq!(first.end_to_end_id, None, "NOTPROVIDED is no reference");
    assert_eq!(first.debtor.as_deref(), Some("Acme Industries SA"));
    assert_eq!(first.debtor_account.as_deref(), Some("BE71096123456769"));
    assert_eq!(first.account.as_deref(), Some("BE68539007547034"));
    assert_eq!(
        statement.credits[1].value_date,
        NaiveDate::from_ymd_opt(2024, 3, 7)
    );
    assert_eq!(statement.credits[3].creditor_refs, ["RF18INV20240045"]);
    assert_eq!(statement.credits[4].amount, eur("2000.00"));

    let rejected: Vec<_> = statement
        .rejected
        .iter()
        .map(|r| {
            (
                r.location.record.clone().unwrap(),
                r.location.field.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("0352C5320240308182211/Ntry[7]".to_owned(), "Amt".to_owned()),
            (
                "0352C5320240308182211/Ntry[8]".to_owned(),
                "BookgDt".to_owned()
            ),
        ]
    );
    assert!(statement.rejected[0].raw.starts_with("<Ntry>"));
    assert!(statement.rejected[0].raw.contains("12,50"));
    assert!(statement.rejected[0].raw.ends_with("</Ntry>"));
}

#[test]
fn credits_are_matched_by_reference_then_amount() {
    let statement = parse_statement(&fixture("statement_001_02.xml")).unwrap();
    let report = match_credits(
        &statement.credits,
        &open_invoices(),
        &"firm-eu".parse().unwrap(),
    )
    .unwrap();

    let matched: Vec<Seen> = report
        .matched
        .iter()
        .map(|m| {
            (
                m.credit.id.as_str(),
                m.basis,
                m.payment
                    .allocations
                    .iter()
                    .map(|a| (a.invoice.as_str(), a.amount))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            (
                "2024030800001125",
                MatchBasis::Reference,
                vec![("inv-42", eur("1125.00"))]
            ),
            (
                "2024030800000780",
                MatchBasis::Amount,
                vec![("inv-44", eur("780.00"))]
            ),
            (
                "2024030800003000-1",
                MatchBasis::Reference,
                vec![("inv-45", eur("1000.00"))]
            ),
            (
                "2024030800000099",
                MatchBasis::Reference,
                vec![("inv-46", eur("50.00")), ("inv-47", eur("49.99"))]
            ),
        ]
    );
    assert_eq!(report.matched[0].payment.client.as_str(), "acme");
    assert!(report.matched.iter().all(|m| m.payment.validate().is_ok()));

    assert_eq!(report.partial.len(), 1);
    let partial = &report.partial[0];
    assert_eq!(partial.payment.allocations[0].invoice.as_str(), "inv-43");
    assert_eq!(partial.still_due, eur("1500.00"));
    assert_eq!(
        partial.payment.date,
        NaiveDate::from_ymd_opt(2024, 3, 7).unwrap()
    );

    assert_eq!(report.unmatched.len(), 1);
    assert_eq!(report.unmatched[0].credit.id, "2024030800003000-2");
    assert!(report.unmatched[0].reason.contains("no open invoice"));
}

#[test]
fn a_later_statement_settles_the_rest() {
    let mut credits = parse_statement(&fixture("statement_001_02.xml"))
        .unwrap()
        .credits;
    let later = parse_statement(&fixture("statement_001_08.xml")).unwrap();
    assert_eq!(
        later.credits.len(),
        1,
        "Sts/Cd and BookgDt/DtTm of camt.053.001.08"
    );
    assert_eq!(later.credits[0].debtor.as_deref(), Some("Globex GmbH"));
    credits.extend(later.credits);
    let report = match_credits(&credits, &open_invoices(), &"firm-eu".parse().unwrap()).unwrap();
    let last = report.matched.last().unwrap();
    assert_eq!(last.credit.id, "DE-20240311-0001");
    // 1500 were still due: 500 of the 2000 stay unallocated on the payment.
    assert_eq!(last.payment.allocations[0].amount, eur("1500.00"));
    assert_eq!(last.payment.unallocated().unwrap(), eur("500.00"));
    assert!(last.still_due.is_zero());

    // Two invoices due for the same amount and no reference: not guessed.
    let mut twins = open_invoices();
    twins.push(invoice("inv-49", "INV/2024/0049", "globex", "780.00"));
    let report = match_credits(&credits, &twins, &"firm-eu".parse().unwrap()).unwrap();
    assert!(
        report
            .unmatched
            .iter()
            .any(|u| u.credit.id == "2024030800000780" && u.reason.contains("2 open invoices"))
    );
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    let source =
        Camt053Statement::new(&fixture("statement_001_02.xml"), &open_invoices(), config())
            .unwrap();
    for page_size in [1, 2, 4, 100] {
        let report = check_source(
            &source,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(6)
                .expect_rejected(2),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
    let all = pull_all(&source, None, 4, 10).await.unwrap();
    let clients: Vec<&str> = all
        .items
        .iter()
        .map(|c| match &c.record {
            Record::Payment(p) => p.client.as_str(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        clients,
        ["acme", "globex", "initech", "hooli", "unidentified", "acme"]
    );
    assert_eq!(
        all.items[0].id.as_str(),
        "bank:payment:2024030800001125:booked"
    );
}

#[test]
fn a_document_that_is_not_a_statement_is_refused() {
    let err = parse_statement(b"<Document><BkToCstmrDbtCdtNtfctn/></Document>").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    let err = parse_statement(b"<Document><BkToCstmrStmt><Stmt></Document>").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("XML"), "{err}");
}
