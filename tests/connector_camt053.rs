//! camt.053 statements: booked credits as payments, matched to open invoices; whole files
//! checked (balances, transaction summaries, versions) and refused whole when unsound.

use chrono::NaiveDate;
use odoo_connect::canonical::{
    Currency, InvoiceEvent, InvoiceLine, InvoiceStatus, Money, Validate,
};
use odoo_connect::connector::camt053::{
    Camt053Config, Camt053Statement, Direction, MatchBasis, SUPPORTED_VERSIONS, match_credits,
    parse_statement, parse_statement_file, parse_statement_named,
};
use odoo_connect::connector::conformance::{SourceCheck, check_source};
use odoo_connect::connector::{ErrorKind, Record, pull_all};
use rust_decimal::Decimal;

fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/connectors/camt053/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

fn eur(text: &str) -> Money {
    Money::new(text.parse().unwrap(), Currency::EUR)
}

fn money(text: &str, currency: Currency) -> Money {
    Money::new(text.parse().unwrap(), currency)
}

fn invoice(key: &str, number: &str, client: &str, amount: &str) -> InvoiceEvent {
    invoice_in(key, number, client, money(amount, Currency::EUR))
}

fn invoice_in(key: &str, number: &str, client: &str, amount: Money) -> InvoiceEvent {
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let line = InvoiceLine::new("Services", Decimal::ONE, amount).unwrap();
    let mut inv = InvoiceEvent::draft(
        key.parse().unwrap(),
        "firm-eu".parse().unwrap(),
        client.parse().unwrap(),
        amount.currency,
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
            (
                "0352C5320240308182211/Ntry[7]".to_owned(),
                "NtryDtls".to_owned()
            ),
            (
                "0352C5320240308182211/Ntry[8]".to_owned(),
                "BookgDt".to_owned()
            ),
        ]
    );
    assert!(statement.rejected[0].reason.contains("12.50 EUR"));
    assert!(statement.rejected[0].raw.starts_with("<Ntry>"));
    assert!(statement.rejected[0].raw.contains("Refund A"));
    assert!(statement.rejected[0].raw.ends_with("</Ntry>"));

    // The balances were checked: 15230.40 + 5557.49 - 25.00 = 20762.89.
    assert_eq!(statement.version, 2);
    assert_eq!(statement.statements.len(), 1);
    let checked = &statement.statements[0];
    assert_eq!(checked.entries, 9);
    assert!(checked.summary_checked);
    let bal = &checked.balances[0];
    assert_eq!(bal.opening, eur("15230.40"));
    assert_eq!(bal.opening_type, "OPBD");
    assert_eq!(bal.credits, eur("5557.49"));
    assert_eq!(bal.debits, eur("25.00"));
    assert_eq!(bal.closing, eur("20762.89"));
    assert_eq!(bal.closing_available, Some(eur("20722.89")));
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
    let err = parse_statement(
        b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><Stmt></Document>",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("XML"), "{err}");
    let err = parse_statement(b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
}

#[test]
fn statements_of_one_file_are_kept_apart_and_each_balanced() {
    let file = parse_statement(&fixture("two_statements_001_08.xml")).unwrap();
    assert_eq!(file.version, 8);
    assert_eq!(file.id, "DE-STMT-2024-04-03+CH-STMT-2024-04-03");
    let seen: Vec<(&str, Option<&str>, usize)> = file
        .statements
        .iter()
        .map(|s| (s.id.as_str(), s.account.as_deref(), s.entries))
        .collect();
    assert_eq!(
        seen,
        [
            ("DE-STMT-2024-04-03", Some("DE89370400440532013000"), 4),
            ("CH-STMT-2024-04-03", Some("CH9300762011623852957"), 2),
        ]
    );
    let de = &file.statements[0];
    assert!(de.summary_checked);
    assert_eq!(de.balances.len(), 1);
    assert_eq!(de.balances[0].opening_type, "OPBD");
    assert_eq!(de.balances[0].credits, eur("2045.00"));
    // The reversal (a debit) moves the balance: 10000 + 2045 - 580 = 11465.
    assert_eq!(de.balances[0].debits, eur("580.00"));
    assert_eq!(de.balances[0].closing, eur("11465.00"));
    let ch = &file.statements[1];
    assert!(!ch.summary_checked);
    let chf = &ch.balances[0];
    assert_eq!(chf.currency, Currency::CHF);
    assert_eq!(chf.opening_type, "PRCD", "PRCD opens when there is no OPBD");
    assert_eq!(chf.opening, money("2500.00", Currency::CHF));
    assert_eq!(chf.closing, money("2150.00", Currency::CHF));
    assert_eq!(chf.closing_available, Some(money("2100.00", Currency::CHF)));

    // Each credit knows its statement and account.
    let credits: Vec<(&str, &str, Option<&str>)> = file
        .credits
        .iter()
        .map(|c| (c.id.as_str(), c.statement.as_str(), c.account.as_deref()))
        .collect();
    assert_eq!(
        credits,
        [
            (
                "DE-20240403-0001",
                "DE-STMT-2024-04-03",
                Some("DE89370400440532013000")
            ),
            (
                "DE-20240403-0002",
                "DE-STMT-2024-04-03",
                Some("DE89370400440532013000")
            ),
            (
                "CH-20240403-0001",
                "CH-STMT-2024-04-03",
                Some("CH9300762011623852957")
            ),
        ]
    );
    assert_eq!(
        file.credits[2].creditor_refs,
        ["210000000003139471430009017"]
    );
    assert_eq!(file.skipped, 2, "the fee and the rent");
}

#[test]
fn a_statement_that_does_not_balance_refuses_the_file() {
    let err = parse_statement(&fixture("unbalanced_001_02.xml")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    let text = err.to_string();
    assert!(text.contains("UNBAL-2024-04-05"), "{text}");
    assert!(text.contains("BE68539007547034"), "{text}");
    assert!(
        text.contains("1250.00") && text.contains("1260.00"),
        "{text}"
    );

    // One statement off in a file of two: the whole file is refused, naming that statement.
    let good = String::from_utf8(fixture("two_statements_001_08.xml")).unwrap();
    let bad = good.replace(
        "<Amt Ccy=\"CHF\">2150.00</Amt>",
        "<Amt Ccy=\"CHF\">2150.05</Amt>",
    );
    assert_ne!(good, bad);
    let err = parse_statement(bad.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("CH-STMT-2024-04-03"), "{err}");
    assert!(err.to_string().contains("CHF"), "{err}");

    // A debit closing balance is negative: the same file with the sign flipped does not balance.
    let flipped = good.replacen(
        "<Amt Ccy=\"CHF\">2500.00</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>",
        "<Amt Ccy=\"CHF\">2500.00</Amt>\n        <CdtDbtInd>DBIT</CdtDbtInd>",
        1,
    );
    assert_ne!(good, flipped);
    assert!(parse_statement(flipped.as_bytes()).is_err());

    // No closing balance at all.
    let no_close = good.replace("<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>");
    let err = parse_statement(no_close.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("CLBD"), "{err}");
}

#[test]
fn a_transaction_summary_that_disagrees_refuses_the_file() {
    let err = parse_statement(&fixture("summary_mismatch_001_08.xml")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    let text = err.to_string();
    assert!(text.contains("SUMM-2024-04-05"), "{text}");
    assert!(text.contains("TtlCdtNtries/Sum"), "{text}");
    assert!(text.contains("300.00") && text.contains("250.00"), "{text}");

    // Counts are checked too.
    let good = String::from_utf8(fixture("two_statements_001_08.xml")).unwrap();
    let bad = good.replace(
        "<TtlDbtNtries><NbOfNtries>2</NbOfNtries>",
        "<TtlDbtNtries><NbOfNtries>3</NbOfNtries>",
    );
    assert_ne!(good, bad);
    let err = parse_statement(bad.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("TtlDbtNtries/NbOfNtries"), "{err}");
    // And the net amount, in the camt.053.001.02 form.
    let old = String::from_utf8(fixture("statement_001_02.xml")).unwrap();
    let bad = old.replace(
        "<TtlNetNtryAmt>5532.49</TtlNetNtryAmt><CdtDbtInd>CRDT</CdtDbtInd>",
        "<TtlNetNtryAmt>5532.49</TtlNetNtryAmt><CdtDbtInd>DBIT</CdtDbtInd>",
    );
    assert_ne!(old, bad);
    let err = parse_statement(bad.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("TtlNtries/TtlNetNtry"), "{err}");
}

#[test]
fn a_eur_credit_instructed_in_usd_settles_a_usd_invoice() {
    let file = parse_statement(&fixture("two_statements_001_08.xml")).unwrap();
    let fx = &file.credits[0];
    assert_eq!(fx.amount, eur("920.00"));
    assert_eq!(fx.instructed, Some(money("1000.00", Currency::USD)));
    let x = fx.exchange.as_ref().unwrap();
    assert_eq!(
        (x.source, x.target, x.unit, x.rate.to_string().as_str()),
        (
            Currency::USD,
            Some(Currency::EUR),
            Some(Currency::USD),
            "0.92"
        )
    );
    assert_eq!(
        fx.amount_in(Currency::USD),
        Some(money("1000.00", Currency::USD))
    );
    assert_eq!(fx.amount_in(Currency::CHF), None);
    assert_eq!(file.credits[1].instructed, None);

    let usd = invoice_in(
        "inv-50",
        "INV/2024/0050",
        "hooli",
        money("1000.00", Currency::USD),
    );
    let mut invoices = open_invoices();
    invoices.push(usd.clone());
    let report = match_credits(&file.credits, &invoices, &"firm-eu".parse().unwrap()).unwrap();
    let m = report
        .matched
        .iter()
        .find(|m| m.credit.id == "DE-20240403-0001")
        .expect("the USD invoice is settled");
    assert_eq!(m.basis, MatchBasis::Reference);
    assert_eq!(m.payment.client.as_str(), "hooli");
    assert_eq!(m.payment.amount, money("1000.00", Currency::USD));
    assert_eq!(m.payment.allocations.len(), 1);
    assert_eq!(m.payment.allocations[0].invoice.as_str(), "inv-50");
    assert_eq!(
        m.payment.allocations[0].amount,
        money("1000.00", Currency::USD)
    );
    assert!(m.still_due.is_zero());
    assert!(m.payment.validate().is_ok());

    // Without a reference, the instructed amount still finds the one invoice due for it.
    let mut anonymous = fx.clone();
    anonymous.remittance.clear();
    anonymous.end_to_end_id = None;
    let report = match_credits(&[anonymous], &[usd], &"firm-eu".parse().unwrap()).unwrap();
    assert_eq!(report.matched.len(), 1);
    assert_eq!(report.matched[0].basis, MatchBasis::Amount);
}

#[tokio::test]
async fn a_reversal_is_held_for_review_with_its_return_reason() {
    let file = parse_statement(&fixture("two_statements_001_08.xml")).unwrap();
    assert!(
        file.credits.iter().all(|c| c.id != "DE-20240403-0003"),
        "a reversal is no payment"
    );
    assert_eq!(file.reversals.len(), 1);
    let r = &file.reversals[0];
    assert_eq!(r.id, "DE-20240403-0003");
    assert_eq!(r.statement, "DE-STMT-2024-04-03");
    assert!(r.reversal);
    assert_eq!(r.direction, Direction::Debit);
    assert_eq!(r.amount, eur("500.00"));
    assert_eq!(r.return_reason.as_deref(), Some("DUPL"));
    assert_eq!(
        r.references,
        [
            "DE-20240403-0003",
            "DE-20240308-0500",
            "INV-2024-0043",
            "INV/2024/0043 part payment"
        ]
    );
    assert!(r.info.iter().any(|i| i.contains("sent twice")));
    assert!(r.raw.contains("<RvslInd>true</RvslInd>"));

    // Through the source: a business hold, not a payment.
    let source = Camt053Statement::new(
        &fixture("two_statements_001_08.xml"),
        &open_invoices(),
        config(),
    )
    .unwrap();
    assert_eq!(source.reversals().len(), 1);
    let all = pull_all(&source, None, 100, 10).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(all.rejected.len(), 1);
    let hold = &all.rejected[0];
    assert!(hold.is_business());
    assert!(hold.reason.contains("DUPL"), "{}", hold.reason);
    assert!(hold.reason.contains("INV-2024-0043"), "{}", hold.reason);
    assert!(hold.reason.contains("500.00 EUR"), "{}", hold.reason);

    // A booked return without RvslInd (a returned direct debit, reason MD06) is held too.
    let good = String::from_utf8(fixture("two_statements_001_08.xml")).unwrap();
    let ret = good
        .replace("<RvslInd>true</RvslInd>\n", "")
        .replace("<Cd>DUPL</Cd>", "<Cd>MD06</Cd>");
    let file = parse_statement(ret.as_bytes()).unwrap();
    assert_eq!(file.reversals.len(), 1);
    assert!(!file.reversals[0].reversal);
    assert_eq!(file.reversals[0].return_reason.as_deref(), Some("MD06"));
}

#[test]
fn a_truncated_file_is_refused_whole() {
    let err = parse_statement(&fixture("truncated_001_08.xml")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("refused whole"), "{err}");

    // Cut anywhere before its end, a good file is never half-read.
    let good = fixture("two_statements_001_08.xml");
    let end = String::from_utf8_lossy(&good).rfind("</Document>").unwrap();
    for cut in (0..end + "</Document>".len()).step_by(37) {
        assert!(
            parse_statement(&good[..cut]).is_err(),
            "a file cut at byte {cut} was read"
        );
    }
    assert!(parse_statement(&good[..end + "</Document>".len()]).is_ok());
}

#[test]
fn an_unreadable_amount_refuses_the_file() {
    let good = String::from_utf8(fixture("statement_001_02.xml")).unwrap();
    let bad = good.replace(
        "<Amt Ccy=\"EUR\">12.50</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>",
        "<Amt Ccy=\"EUR\">12,50</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>",
    );
    assert_ne!(good, bad);
    let err = parse_statement(bad.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("12,50"), "{err}");
    assert!(err.to_string().contains("entry 7"), "{err}");
    let bad = good.replacen(
        "<CdtDbtInd>DBIT</CdtDbtInd>",
        "<CdtDbtInd>DEBIT</CdtDbtInd>",
        1,
    );
    assert_ne!(good, bad);
    assert!(parse_statement(bad.as_bytes()).is_err());
}

#[test]
fn an_unknown_version_is_refused_with_its_name() {
    let err = parse_statement(&fixture("unknown_namespace_001_14.xml")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let text = err.to_string();
    assert!(
        text.contains("urn:iso:std:iso:20022:tech:xsd:camt.053.001.14"),
        "{text}"
    );
    assert!(
        text.contains("camt.053.001.02 to camt.053.001.13"),
        "{text}"
    );
    assert_eq!(SUPPORTED_VERSIONS, 2..=13);

    // The same file in a version read is fine; a notification's namespace or none is not.
    let xml = String::from_utf8(fixture("unknown_namespace_001_14.xml")).unwrap();
    for v in ["02", "04", "10", "13"] {
        let ok = xml.replace("camt.053.001.14", &format!("camt.053.001.{v}"));
        assert!(parse_statement(ok.as_bytes()).is_ok(), "version {v}");
    }
    for ns in ["camt.053.001.01", "camt.054.001.08", "camt.053.001.2"] {
        let other = xml.replace("camt.053.001.14", ns);
        let err = parse_statement(other.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(err.to_string().contains(ns), "{err}");
    }
    let none = xml.replace(
        " xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.14\"",
        "",
    );
    let err = parse_statement(none.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("without a namespace"), "{err}");
    // A prefixed namespace is read like a default one.
    let prefixed = xml
        .replace("camt.053.001.14", "camt.053.001.08")
        .replace("xmlns=", "xmlns:c=")
        .replace("<", "<c:")
        .replace("<c:/", "</c:")
        .replace("<c:?xml", "<?xml")
        .replace("<c:!--", "<!--");
    let file = parse_statement(prefixed.as_bytes()).unwrap();
    assert_eq!(file.version, 8);
    assert_eq!(file.credits.len(), 1);
}

#[test]
fn errors_name_the_file() {
    let path = fixture_path("unbalanced_001_02.xml");
    let err = parse_statement_file(&path).unwrap_err();
    assert!(err.to_string().contains("unbalanced_001_02.xml"), "{err}");
    let err = Camt053Statement::from_path(&path, &open_invoices(), config()).unwrap_err();
    assert!(err.to_string().contains("unbalanced_001_02.xml"), "{err}");
    let err = parse_statement_named(&fixture("truncated_001_08.xml"), "april.xml").unwrap_err();
    assert!(err.to_string().contains("april.xml"), "{err}");
    let err =
        parse_statement_named(&fixture("unknown_namespace_001_14.xml"), "may.xml").unwrap_err();
    assert!(err.to_string().contains("may.xml"), "{err}");
    let err = Camt053Statement::new(
        &fixture("summary_mismatch_001_08.xml"),
        &open_invoices(),
        config().with_file_name("june.xml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("june.xml"), "{err}");
    let err = parse_statement_file(fixture_path("no_such_file.xml")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("no_such_file.xml"), "{err}");

    // A good file read by path knows its name.
    let file = parse_statement_file(fixture_path("statement_001_08.xml")).unwrap();
    assert!(file.file.unwrap().ends_with("statement_001_08.xml"));
}

#[tokio::test]
async fn a_file_of_two_statements_passes_the_conformance_kit() {
    let source = Camt053Statement::from_path(
        fixture_path("two_statements_001_08.xml"),
        &open_invoices(),
        config(),
    )
    .unwrap();
    assert_eq!(source.statements().len(), 2);
    for page_size in [1, 2, 100] {
        let report = check_source(
            &source,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(3)
                .expect_rejected(1),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
}
