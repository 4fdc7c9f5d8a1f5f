//! What the examples and the end-to-end tests share: the commercial terms given to each won deal,
//! and a fake Odoo with the flows connected to it.
#![allow(dead_code)]

use std::str::FromStr;

use odoo_connect::canonical::{BillingLine, Contract, Milestone, Money, Rate};
use odoo_connect::flows::{Flows, Setup};
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
pub fn odoo_connect_client(fake: &FakeOdoo) -> Result<OdooClient, odoo_connect::odoo::Error> {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
        .build()
}

/// What the flows need in Odoo for the sample deals (sold in EUR), found or created.
pub fn setup() -> Result<Setup, odoo_connect::flows::FlowError> {
    let entity = "firm-eu"
        .parse()
        .map_err(|e: odoo_connect::canonical::KeyError| {
            odoo_connect::flows::FlowError::setup_caused_by("the legal entity key", e)
        })?;
    Ok(Setup::new(entity).currency(odoo_connect::canonical::Currency::EUR))
}

/// The flows against `odoo`, after [`setup`] found or created what they need.
pub async fn flows(odoo: OdooClient) -> Result<Flows, odoo_connect::flows::FlowError> {
    let settings = setup()?.apply(&odoo).await?;
    Flows::connect(odoo, settings).await
}

/// Runs the pipeline until its queue is empty (retries included), at most `limit`.
pub async fn drain<S>(
    p: &odoo_connect::sync::pipeline::Pipeline<S>,
    limit: std::time::Duration,
) -> Result<odoo_connect::sync::pipeline::RunReport, odoo_connect::sync::pipeline::SyncError>
where
    S: odoo_connect::sync::store::StateStore + ?Sized + 'static,
{
    let deadline = std::time::Instant::now() + limit;
    let mut total = odoo_connect::sync::pipeline::RunReport::default();
    loop {
        let r = p.run_until_idle("worker-1").await?;
        total += &r;
        let stats = p.store().stats().await?;
        if stats.depth == 0 || std::time::Instant::now() > deadline {
            return Ok(total);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A pipeline for the flows with short retry delays, for demonstrations and tests.
pub fn pipeline<S>(
    flows: &Flows,
    store: std::sync::Arc<S>,
) -> odoo_connect::sync::pipeline::Pipeline<S>
where
    S: odoo_connect::sync::store::StateStore + ?Sized + 'static,
{
    use std::time::Duration;
    flows
        .pipeline("contract-to-cash", store)
        .retry(
            odoo_connect::sync::pipeline::SyncRetryPolicy::default()
                .initial_delay(Duration::from_millis(20))
                .max_delay(Duration::from_millis(100))
                .max_attempts(20),
        )
        .lease_for(Duration::from_secs(5))
        .idle_wait(Duration::from_millis(20))
        .build()
}

/// Pulls the won deals from HubSpot at `base_url` and gives them the sample terms.
pub async fn won_deals(
    base_url: &str,
    token: &str,
) -> Result<Vec<odoo_connect::flows::WonDeal>, Box<dyn std::error::Error>> {
    let hubspot = odoo_connect::connector::hubspot::HubSpot::builder(token.to_owned())
        .base_url(base_url)
        .legal_entity("firm-eu".parse()?)
        .build()?;
    let changes = odoo_connect::connector::pull_all(&hubspot, None, 50, 100).await?;
    Ok(odoo_connect::flows::won_deals(&changes.items, terms))
}

/// Books the won deals through the pipeline; returns how many were booked.
pub async fn book_deals<S>(
    flows: &Flows,
    p: &odoo_connect::sync::pipeline::Pipeline<S>,
    deals: &[odoo_connect::flows::WonDeal],
) -> Result<u64, Box<dyn std::error::Error>>
where
    S: odoo_connect::sync::store::StateStore + ?Sized + 'static,
{
    let envelopes = deals
        .iter()
        .map(|d| flows.deal_envelope(d))
        .collect::<Result<Vec<_>, _>>()?;
    p.submit_batch(&envelopes).await?;
    Ok(drain(p, std::time::Duration::from_secs(20)).await?.done)
}

/// The rows of an approved-time CSV: the entries, the rows that could not be read, and how many
/// were left out (not approved).
pub fn read_time_csv(
    text: &str,
) -> Result<
    (
        Vec<odoo_connect::canonical::TimeEntry>,
        Vec<odoo_connect::connector::Rejected>,
        usize,
    ),
    odoo_connect::connector::ConnectorError,
> {
    use odoo_connect::connector::Record;
    use odoo_connect::connector::timesheet_csv::{CsvConfig, CsvRows, Row};
    let mut entries = Vec::new();
    let mut rejected = Vec::new();
    let mut skipped = 0;
    for row in CsvRows::new(text.as_bytes(), CsvConfig::new("psa"))? {
        match row? {
            Row::Change(c) => {
                if let Record::TimeEntry(t) = c.record {
                    // Unapproved entries are read as data; this sample leaves them out.
                    if t.approval.is_approved() {
                        entries.push(*t);
                    } else {
                        skipped += 1;
                    }
                }
            }
            Row::Rejected(r) => rejected.push(r),
            _ => {}
        }
    }
    Ok((entries, rejected, skipped))
}

/// The sample approved-time export.
pub const APPROVED_TIME_CSV: &str = include_str!("approved_time.csv");

/// A camt.053 statement of booked credits: `(bank reference, amount, currency, remittance text)`,
/// with the opening (10000.00 per currency) and closing balances a bank gives, so that it balances.
pub fn camt053(credits: &[(String, String, String, String)]) -> String {
    let mut totals: std::collections::BTreeMap<&str, rust_decimal::Decimal> =
        std::collections::BTreeMap::new();
    for (_, amount, currency, _) in credits {
        *totals.entry(currency.as_str()).or_default() +=
            amount.parse::<rust_decimal::Decimal>().unwrap_or_default();
    }
    let mut balances = String::new();
    for (currency, total) in totals {
        let opening = rust_decimal::Decimal::new(1_000_000, 2);
        for (code, amount, day) in [
            ("OPBD", opening, "2025-04-01"),
            ("CLBD", opening + total, "2025-04-02"),
        ] {
            balances.push_str(&format!(
                "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{amount}</Amt>\
                 <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n"
            ));
        }
    }
    let mut entries = balances;
    for (id, amount, currency, text) in credits {
        entries.push_str(&format!(
            "<Ntry><Amt Ccy=\"{currency}\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>2025-04-02</Dt></BookgDt><ValDt><Dt>2025-04-02</Dt></ValDt><AcctSvcrRef>{id}</AcctSvcrRef>\
             <NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>STMT-2025-04-02</MsgId><CreDtTm>2025-04-02T18:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S-2025-04-02</Id><Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>\n{entries}</Stmt></BkToCstmrStmt></Document>\n"
    )
}

/// The payments of a camt.053 statement matched against the open invoices, each with the
/// contract of its first invoice, and what the matcher reported.
pub async fn statement_payments(
    flows: &Flows,
    xml: &str,
) -> Result<
    (
        Vec<(
            odoo_connect::canonical::Payment,
            Option<odoo_connect::canonical::ContractKey>,
        )>,
        odoo_connect::connector::camt053::MatchReport,
    ),
    Box<dyn std::error::Error>,
> {
    use odoo_connect::connector::Record;
    use odoo_connect::connector::camt053::{Camt053Config, Camt053Statement};
    let open = flows.open_invoices().await?;
    let config = Camt053Config::new("firm-eu".parse()?, "unidentified-payer".parse()?);
    let statement = Camt053Statement::new(xml.as_bytes(), &open, config)?;
    let page = odoo_connect::connector::pull_all(&statement, None, 100, 100).await?;
    let mut out = Vec::new();
    for c in page.items {
        if let Record::Payment(p) = c.record {
            let contract = p.allocations.first().and_then(|a| {
                open.iter()
                    .find(|i| i.key == a.invoice)
                    .and_then(|i| i.contract.clone())
            });
            out.push((*p, contract));
        }
    }
    Ok((out, statement.report().clone()))
}

/// Queues the invoice release of every contract `flows` booked, for `period`; how many.
pub async fn submit_releases<S>(
    flows: &Flows,
    p: &odoo_connect::sync::pipeline::Pipeline<S>,
    period: &str,
) -> Result<usize, Box<dyn std::error::Error>>
where
    S: odoo_connect::sync::store::StateStore + ?Sized + 'static,
{
    let release = flows
        .book()
        .all()
        .iter()
        .map(|b| flows.release_envelope(&b.contract.key, period))
        .collect::<Result<Vec<_>, _>>()?;
    p.submit_batch(&release).await?;
    Ok(release.len())
}

/// The posted customer invoices of the contracts `flows` booked, by contract: `(number, total,
/// currency)`, read from Odoo whatever their payment state.
pub async fn posted_invoices(
    flows: &Flows,
) -> Result<Vec<(String, rust_decimal::Decimal, String)>, Box<dyn std::error::Error>> {
    use odoo_connect::odoo::Domain;
    use serde_json::Value;
    let mut out = Vec::new();
    for b in flows.book().all() {
        let moves: Vec<Value> = flows
            .odoo_for(odoo_connect::flows::FlowPath::Cash)
            .model_named::<Value>("account.move")
            .search_read(
                Domain::new()
                    .eq("invoice_origin", b.order_name.as_str())
                    .eq("move_type", "out_invoice")
                    .eq("state", "posted"),
            )
            .fields(["name", "amount_total", "currency_id"])
            .order("id")
            .await?;
        for m in moves {
            let total = odoo_connect::odoo::value::decimal_from_value(&m["amount_total"])
                .unwrap_or_default();
            out.push((
                m["name"].as_str().unwrap_or_default().to_owned(),
                total,
                m["currency_id"][1].as_str().unwrap_or("EUR").to_owned(),
            ));
        }
    }
    Ok(out)
}

/// The Odoo payment already registered for `payment` (same reference, date and amount, not
/// cancelled), by name: a statement read a second time.
pub async fn registered_payment(
    flows: &Flows,
    payment: &odoo_connect::canonical::Payment,
) -> Result<Option<String>, Box<dyn std::error::Error>> {
    use odoo_connect::odoo::Domain;
    use serde_json::Value;
    if payment.reference.is_empty() {
        return Ok(None);
    }
    let found: Vec<Value> = flows
        .odoo_for(odoo_connect::flows::FlowPath::Cash)
        .model_named::<Value>("account.payment")
        .search_read(
            Domain::new()
                .eq(
                    odoo_connect::mapping::payment::memo_field(&flows.mapping_context().version),
                    payment.reference.as_str(),
                )
                .eq("date", payment.date.to_string())
                .not_in("state", ["draft", "canceled"]),
        )
        .fields(["name", "amount"])
        .await?;
    Ok(found
        .into_iter()
        .find(|p| {
            odoo_connect::odoo::value::decimal_from_value(&p["amount"])
                .is_some_and(|a| a == payment.amount.amount)
        })
        .and_then(|p| p["name"].as_str().map(str::to_owned)))
}

/// A sample statement of what Odoo holds: the customer of the first contract pays its invoice in
/// full, the second half of its invoice, and one payer (77.70) cannot be identified. Made from
/// every posted invoice of the contracts, paid or not, so a second run reads the same statement.
pub async fn sample_statement(flows: &Flows) -> Result<String, Box<dyn std::error::Error>> {
    let invoices = posted_invoices(flows).await?;
    let mut credits = Vec::new();
    for (i, (number, total, currency)) in invoices.iter().take(2).enumerate() {
        let amount = if i == 0 {
            *total
        } else {
            (*total / rust_decimal::Decimal::TWO).round_dp(2)
        };
        credits.push((
            format!("BNK-{}", i + 1),
            amount.to_string(),
            currency.clone(),
            number.clone(),
        ));
    }
    let cur = invoices
        .first()
        .map(|(_, _, c)| c.clone())
        .unwrap_or_else(|| "EUR".into());
    credits.push(("BNK-9".into(), "77.70".into(), cur, "Thank you".into()));
    Ok(camt053(&credits))
}

/// The statement's payments split into those to register and those Odoo already holds (a
/// statement read again), each of the latter with its Odoo name.
#[allow(clippy::type_complexity)]
pub async fn split_registered(
    flows: &Flows,
    payments: Vec<(
        odoo_connect::canonical::Payment,
        Option<odoo_connect::canonical::ContractKey>,
    )>,
) -> Result<
    (
        Vec<(
            odoo_connect::canonical::Payment,
            Option<odoo_connect::canonical::ContractKey>,
        )>,
        Vec<(odoo_connect::canonical::Payment, String)>,
    ),
    Box<dyn std::error::Error>,
> {
    let mut fresh = Vec::new();
    let mut known = Vec::new();
    for (p, c) in payments {
        match registered_payment(flows, &p).await? {
            Some(name) => known.push((p, name)),
            None => fresh.push((p, c)),
        }
    }
    Ok((fresh, known))
}
