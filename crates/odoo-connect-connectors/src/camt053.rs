//! Bank statements in ISO 20022 camt.053 XML: booked credits as payments, matched to open invoices.
//!
//! [`parse_statement`] reads a `BkToCstmrStmt` document (versions `camt.053.001.02` to `.13`: the
//! status is read from `Sts` or `Sts/Cd`) and gives, for every booked credit entry
//! (`CdtDbtInd` = `CRDT`, status `BOOK`, not a reversal), one [`BankCredit`] per transaction
//! (`NtryDtls/TxDtls`; the entry itself when it has no details): amount and currency as
//! [`Decimal`] read from the text (never a binary float), booking and value dates, end-to-end id,
//! unstructured and structured remittance information, debtor name and account. Debits and
//! pending entries are left out; an entry that cannot be read (no amount, a bad date) is a
//! [`Rejected`] with its XML, and the others go on.
//!
//! [`match_credits`] sets credits against open invoices (canonical [`InvoiceEvent`]s) by reference
//! (the invoice number found in the remittance information or the end-to-end id, ignoring case
//! and punctuation) and then, for credits without a reference, by an amount equal to exactly one
//! invoice's amount due. The [`MatchReport`] lists the credits matched in full, the partial
//! payments, and the unmatched ones with the reason; each match carries the [`Payment`] with its
//! allocations.
//!
//! [`Camt053Statement`] is a [`Source`] over one statement: payments of the matched credits for
//! their invoices' clients, the unmatched ones for a suspense client
//! ([`Camt053Config::unidentified_client`]) until someone allocates them.
//!
//! ```
//! use odoo_connect_connectors::camt053::parse_statement;
//!
//! let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
//!   <Stmt><Id>S-1</Id><Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>
//!     <Ntry><Amt Ccy="EUR">1125.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
//!       <BookgDt><Dt>2024-03-08</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef>
//!       <NtryDtls><TxDtls><RmtInf><Ustrd>INV/2024/0042</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
//!   </Stmt></BkToCstmrStmt></Document>"#;
//! let statement = parse_statement(xml.as_bytes())?;
//! assert_eq!(statement.credits[0].amount.to_string(), "1125.00 EUR");
//! assert_eq!(statement.credits[0].remittance, ["INV/2024/0042"]);
//! # Ok::<(), odoo_connect_connectors::ConnectorError>(())
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime};
use quick_xml::events::Event;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Location, Page, Record,
    RecordKind, Rejected, Source,
};
use odoo_connect_canonical::{
    ClientKey, Currency, ExternalRef, InvoiceEvent, InvoiceKey, InvoiceStatus, LegalEntityKey,
    Money, Payment, PaymentAllocation, PaymentKey, PaymentMethod,
};

/// A booked credit: one transaction of a credit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BankCredit {
    /// A stable id: the bank's reference for the transaction or entry, or
    /// `<statement>/<entry>/<transaction>` when it gave none.
    pub id: String,
    /// The account credited (IBAN or other id).
    pub account: Option<String>,
    /// The amount received.
    pub amount: Money,
    /// The booking date.
    pub booking_date: NaiveDate,
    /// The value date, if given.
    pub value_date: Option<NaiveDate>,
    /// The payer's end-to-end id (`NOTPROVIDED` left out).
    pub end_to_end_id: Option<String>,
    /// Unstructured remittance lines.
    pub remittance: Vec<String>,
    /// Structured creditor references (`Strd/CdtrRefInf/Ref`, such as an RF reference).
    pub creditor_refs: Vec<String>,
    /// The payer's name.
    pub debtor: Option<String>,
    /// The payer's account.
    pub debtor_account: Option<String>,
}

impl BankCredit {
    /// The references a payer may have put the invoice number in, best first.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        self.creditor_refs
            .iter()
            .chain(&self.remittance)
            .chain(&self.end_to_end_id)
            .map(String::as_str)
    }

    /// The references as one line, for the payment's `reference`.
    pub fn reference_text(&self) -> String {
        let text = self.references().collect::<Vec<_>>().join(" ");
        text.chars().take(256).collect()
    }
}

/// What a statement held.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statement {
    /// The statement's id (`Stmt/Id`; the ids joined by `+` when a document holds several).
    pub id: String,
    /// Booked credits, in document order.
    pub credits: Vec<BankCredit>,
    /// Entries that could not be read.
    pub rejected: Vec<Rejected>,
    /// Entries left out: debits, pending or reversed.
    pub skipped: usize,
}

#[derive(Debug, Default)]
struct Tx {
    amount: Option<(String, String)>,
    end_to_end: Option<String>,
    account_ref: Option<String>,
    remittance: Vec<String>,
    creditor_refs: Vec<String>,
    debtor: Option<String>,
    debtor_account: Option<String>,
}

#[derive(Debug, Default)]
struct Entry {
    amount: Option<(String, String)>,
    indicator: Option<String>,
    status: Option<String>,
    reversal: bool,
    booking: Option<String>,
    value: Option<String>,
    entry_ref: Option<String>,
    account_ref: Option<String>,
    txs: Vec<Tx>,
}

fn bad_entry(
    location: &Location,
    message: impl Into<String>,
) -> Result<Vec<BankCredit>, (Location, String)> {
    Err((location.clone(), message.into()))
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text.trim())
                .ok()
                .map(|t| t.date_naive())
        })
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.date())
        })
}

fn money(pair: &(String, String), location: &Location) -> Result<Money, (Location, String)> {
    let (text, ccy) = pair;
    let amount = Decimal::from_str(text.trim()).map_err(|_| {
        (
            location.clone().field("Amt"),
            format!("`{text}` is not an amount"),
        )
    })?;
    let currency = Currency::from_str(ccy.trim())
        .map_err(|e| (location.clone().field("Amt/@Ccy"), e.to_string()))?;
    if amount <= Decimal::ZERO {
        return Err((
            location.clone().field("Amt"),
            format!("{amount} is not above zero"),
        ));
    }
    Ok(Money::new(amount, currency))
}

impl Entry {
    /// `Ok(empty)` for an entry left out on purpose.
    fn credits(
        self,
        statement: &str,
        index: usize,
        account: &Option<String>,
        location: &Location,
    ) -> Result<Vec<BankCredit>, (Location, String)> {
        match self.indicator.as_deref() {
            Some("CRDT") => {}
            Some("DBIT") => return Ok(Vec::new()),
            other => {
                return bad_entry(
                    &location.clone().field("CdtDbtInd"),
                    format!("{other:?} is not CRDT or DBIT"),
                );
            }
        }
        if self.status.as_deref() != Some("BOOK") || self.reversal {
            return Ok(Vec::new());
        }
        let Some(amount) = &self.amount else {
            return bad_entry(&location.clone().field("Amt"), "the entry has no amount");
        };
        let entry_amount = money(amount, location)?;
        let Some(booking) = self.booking.as_deref().and_then(parse_date) else {
            return bad_entry(
                &location.clone().field("BookgDt"),
                format!("no readable booking date ({:?})", self.booking),
            );
        };
        let value_date = self.value.as_deref().and_then(parse_date);
        let txs = if self.txs.is_empty() {
            vec![Tx::default()]
        } else {
            self.txs
        };
        let single = txs.len() == 1;
        let mut out = Vec::with_capacity(txs.len());
        let mut total = Money::zero(entry_amount.currency);
        for (t, tx) in txs.into_iter().enumerate() {
            let amount = match &tx.amount {
                Some(a) => money(a, &location.clone().field(format!("TxDtls[{}]", t + 1)))?,
                None if single => entry_amount,
                None => {
                    return bad_entry(
                        &location.clone().field(format!("TxDtls[{}]/AmtDtls", t + 1)),
                        "a batch entry's transaction has no amount",
                    );
                }
            };
            total = total
                .checked_add(&amount)
                .map_err(|e| (location.clone().field("TxDtls"), e.to_string()))?;
            let id = tx
                .account_ref
                .clone()
                .or_else(|| {
                    if single {
                        self.account_ref.clone()
                    } else {
                        None
                    }
                })
                .or_else(|| self.account_ref.as_ref().map(|r| format!("{r}/{}", t + 1)))
                .or_else(|| self.entry_ref.as_ref().map(|r| format!("{r}/{}", t + 1)))
                .unwrap_or_else(|| format!("{statement}/{}/{}", index + 1, t + 1));
            out.push(BankCredit {
                id,
                account: account.clone(),
                amount,
                booking_date: booking,
                value_date,
                end_to_end_id: tx.end_to_end.filter(|e| e != "NOTPROVIDED"),
                remittance: tx.remittance,
                creditor_refs: tx.creditor_refs,
                debtor: tx.debtor,
                debtor_account: tx.debtor_account,
            });
        }
        if total != entry_amount {
            return bad_entry(
                &location.clone().field("NtryDtls"),
                format!("the transactions add up to {total}, the entry is {entry_amount}"),
            );
        }
        Ok(out)
    }
}

fn xml_error(position: u64, e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::bad_data(
        Location::unknown().field(format!("byte {position}")),
        format!("not well-formed XML: {e}"),
    )
}

/// Reads a camt.053 document. A document that is not well-formed XML, or not a
/// `BkToCstmrStmt`, is an error; a bad entry is a reject and the others go on.
pub fn parse_statement(xml: &[u8]) -> Result<Statement, ConnectorError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    // Text is trimmed per value, not per event: an entity splits a text into several events.
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut ccy = String::new();
    let mut ids: Vec<String> = Vec::new();
    let mut account: Option<String> = None;
    let mut entry: Option<(Entry, usize, u64)> = None;
    let mut entries = 0usize;
    let mut statement = Statement {
        id: String::new(),
        credits: Vec::new(),
        rejected: Vec::new(),
        skipped: 0,
    };
    let mut saw_root = false;
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_error(reader.error_position(), e))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "BkToCstmrStmt" {
                    saw_root = true;
                }
                if name == "Stmt" {
                    account = None;
                }
                if name == "Ntry" && path.last().is_some_and(|p| p == "Stmt") {
                    entry = Some((Entry::default(), entries, before));
                    entries += 1;
                }
                if name == "TxDtls" {
                    if let Some((en, _, _)) = entry.as_mut() {
                        en.txs.push(Tx::default());
                    }
                }
                if name == "Amt" {
                    ccy = e
                        .try_get_attribute("Ccy")
                        .ok()
                        .flatten()
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .unwrap_or_default();
                }
                text.clear();
                path.push(name);
            }
            Event::Empty(_) => {}
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| xml_error(reader.buffer_position(), e))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| xml_error(reader.buffer_position(), e))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    }
                } else {
                    let name = r
                        .decode()
                        .map_err(|e| xml_error(reader.buffer_position(), e))?;
                    text.push(match name.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => '?',
                    });
                }
            }
            Event::End(_) => {
                let value = std::mem::take(&mut text);
                let rel: Vec<&str> = path.iter().map(String::as_str).collect();
                let closing = path.last().cloned().unwrap_or_default();
                record_value(
                    &rel,
                    value,
                    &ccy,
                    &mut ids,
                    &mut account,
                    entry.as_mut().map(|e| &mut e.0),
                );
                if closing == "Ntry" && rel.len() >= 2 && rel[rel.len() - 2] == "Stmt" {
                    if let Some((en, index, start)) = entry.take() {
                        let stmt = ids.last().cloned().unwrap_or_default();
                        let location = Location::record(format!("{stmt}/Ntry[{}]", index + 1));
                        let end = reader.buffer_position();
                        let raw = xml
                            .get(start as usize..end as usize)
                            .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                            .unwrap_or_default();
                        match en.credits(&stmt, index, &account, &location) {
                            Ok(c) if c.is_empty() => statement.skipped += 1,
                            Ok(c) => statement.credits.extend(c),
                            Err((loc, why)) => {
                                statement.rejected.push(Rejected::new(loc, why, raw))
                            }
                        }
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(ConnectorError::bad_data(
            Location::unknown().field("Document"),
            "not a camt.053 statement: no BkToCstmrStmt element",
        ));
    }
    statement.id = ids.join("+");
    Ok(statement)
}

fn ends_with(path: &[&str], tail: &[&str]) -> bool {
    path.len() >= tail.len() && path[path.len() - tail.len()..] == *tail
}

fn record_value(
    path: &[&str],
    value: String,
    ccy: &str,
    ids: &mut Vec<String>,
    account: &mut Option<String>,
    entry: Option<&mut Entry>,
) {
    let in_stmt = |tail: &[&str]| {
        path.len() == tail.len() + 3
            && ends_with(path, tail)
            && path[path.len() - tail.len() - 1] == "Stmt"
    };
    let value_trim = value.trim().to_owned();
    if value_trim.is_empty() {
        // A parent's closing tag (`</Sts>` after `<Cd>BOOK</Cd>`) carries no value of its own.
        return;
    }
    if in_stmt(&["Id"]) {
        ids.push(value_trim);
        return;
    }
    if in_stmt(&["Acct", "Id", "IBAN"])
        || (in_stmt(&["Acct", "Id", "Othr", "Id"]) && account.is_none())
    {
        *account = Some(value_trim);
        return;
    }
    let Some(entry) = entry else { return };
    let Some(n) = path.iter().rposition(|p| *p == "Ntry") else {
        return;
    };
    let rel = &path[n + 1..];
    match rel {
        ["Amt"] => entry.amount = Some((value_trim, ccy.to_owned())),
        ["CdtDbtInd"] => entry.indicator = Some(value_trim),
        ["Sts"] | ["Sts", "Cd"] => entry.status = Some(value_trim),
        ["RvslInd"] => entry.reversal = value_trim == "true",
        ["BookgDt", "Dt"] | ["BookgDt", "DtTm"] => entry.booking = Some(value_trim),
        ["ValDt", "Dt"] | ["ValDt", "DtTm"] => entry.value = Some(value_trim),
        ["NtryRef"] => entry.entry_ref = Some(value_trim),
        ["AcctSvcrRef"] => entry.account_ref = Some(value_trim),
        ["NtryDtls", "TxDtls", rest @ ..] => {
            let Some(tx) = entry.txs.last_mut() else {
                return;
            };
            match rest {
                ["Refs", "EndToEndId"] => tx.end_to_end = Some(value_trim),
                ["Refs", "AcctSvcrRef"] => tx.account_ref = Some(value_trim),
                ["AmtDtls", "TxAmt", "Amt"] | ["Amt"] => {
                    tx.amount = Some((value_trim, ccy.to_owned()))
                }
                ["RmtInf", "Ustrd"] => tx.remittance.push(value_trim),
                ["RmtInf", "Strd", "CdtrRefInf", "Ref"] => tx.creditor_refs.push(value_trim),
                ["RltdPties", "Dbtr", "Nm"] | ["RltdPties", "Dbtr", "Pty", "Nm"] => {
                    tx.debtor = Some(value_trim)
                }
                ["RltdPties", "DbtrAcct", "Id", "IBAN"] => tx.debtor_account = Some(value_trim),
                _ => {}
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// How a credit was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchBasis {
    /// The invoice number was in the payer's references.
    Reference,
    /// No reference, but exactly one open invoice was due for exactly that amount.
    Amount,
}

/// A credit set against one or more invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Matched {
    /// The credit.
    pub credit: BankCredit,
    /// The payment, its client that of the (first) invoice, allocated to the invoices.
    pub payment: Payment,
    /// How.
    pub basis: MatchBasis,
    /// What the invoices still have due after this payment, in total.
    pub still_due: Money,
}

/// A credit not matched, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unmatched {
    /// The credit.
    pub credit: BankCredit,
    /// Why no invoice was chosen.
    pub reason: String,
}

/// What [`match_credits`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchReport {
    /// Credits that settle their invoices in full (any excess stays unallocated on the payment).
    pub matched: Vec<Matched>,
    /// Credits that pay part of their invoices.
    pub partial: Vec<Matched>,
    /// Credits no invoice could be chosen for.
    pub unmatched: Vec<Unmatched>,
}

fn squash(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn is_open(invoice: &InvoiceEvent) -> bool {
    matches!(
        invoice.status,
        InvoiceStatus::Posted | InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid
    ) && invoice.amount_due.is_positive()
}

fn payment_key(credit: &BankCredit) -> Result<PaymentKey, ConnectorError> {
    let safe: String = credit
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@' | '+') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let text = format!("bank-{safe}");
    let text = if text.len() > odoo_connect_canonical::MAX_KEY_LEN {
        format!("bank-{:016x}", super::fnv1a(credit.id.as_bytes()))
    } else {
        text
    };
    PaymentKey::new(text)
        .map_err(|e| ConnectorError::bad_data(Location::record(credit.id.clone()), e.to_string()))
}

/// Sets `credits` against `open_invoices` (see the [module](self)); invoices that are not posted
/// or have nothing due are ignored, and what a credit pays is taken off its invoice's amount due
/// before the next credit is matched.
pub fn match_credits(
    credits: &[BankCredit],
    open_invoices: &[InvoiceEvent],
    legal_entity: &LegalEntityKey,
) -> Result<MatchReport, ConnectorError> {
    let mut due: BTreeMap<InvoiceKey, Money> = open_invoices
        .iter()
        .filter(|i| is_open(i))
        .map(|i| (i.key.clone(), i.amount_due))
        .collect();
    let invoices: Vec<&InvoiceEvent> = open_invoices.iter().filter(|i| is_open(i)).collect();
    let mut report = MatchReport::default();
    for credit in credits {
        let refs: Vec<String> = credit.references().map(squash).collect();
        let by_ref: Vec<&InvoiceEvent> = invoices
            .iter()
            .copied()
            .filter(|i| i.currency == credit.amount.currency)
            .filter(|i| due.get(&i.key).is_some_and(Money::is_positive))
            .filter(|i| {
                let number = i.number.as_deref().map(squash).unwrap_or_default();
                number.len() >= 4 && refs.iter().any(|r| r.contains(&number))
            })
            .collect();
        let (chosen, basis) = if !by_ref.is_empty() {
            (by_ref, MatchBasis::Reference)
        } else {
            let by_amount: Vec<&InvoiceEvent> = invoices
                .iter()
                .copied()
                .filter(|i| due.get(&i.key) == Some(&credit.amount))
                .collect();
            match by_amount.len() {
                1 => (by_amount, MatchBasis::Amount),
                0 => {
                    report.unmatched.push(Unmatched {
                        credit: credit.clone(),
                        reason: "no open invoice's number is in the references and none is due for this amount".into(),
                    });
                    continue;
                }
                n => {
                    report.unmatched.push(Unmatched {
                        credit: credit.clone(),
                        reason: format!(
                            "no reference, and {n} open invoices are due for this amount"
                        ),
                    });
                    continue;
                }
            }
        };
        let first = chosen[0];
        let mut payment = Payment::new(
            payment_key(credit)?,
            first.client.clone(),
            legal_entity.clone(),
            credit.amount,
            credit.value_date.unwrap_or(credit.booking_date),
            credit.reference_text(),
            PaymentMethod::BankTransfer,
        );
        payment.refs.insert("bank", credit.id.clone());
        let mut left = credit.amount;
        let mut still_due = Money::zero(credit.amount.currency);
        for invoice in &chosen {
            let owed = due
                .get(&invoice.key)
                .copied()
                .unwrap_or(Money::zero(left.currency));
            let part = left
                .checked_min(&owed)
                .map_err(|e| ConnectorError::Internal {
                    message: e.to_string(),
                })?;
            if part.is_positive() {
                payment.allocations.push(PaymentAllocation {
                    invoice: invoice.key.clone(),
                    amount: part,
                });
            }
            let rest = owed
                .checked_sub(&part)
                .map_err(|e| ConnectorError::Internal {
                    message: e.to_string(),
                })?;
            due.insert(invoice.key.clone(), rest);
            still_due = still_due
                .checked_add(&rest)
                .map_err(|e| ConnectorError::Internal {
                    message: e.to_string(),
                })?;
            left = left
                .checked_sub(&part)
                .map_err(|e| ConnectorError::Internal {
                    message: e.to_string(),
                })?;
        }
        let m = Matched {
            credit: credit.clone(),
            payment,
            basis,
            still_due,
        };
        if still_due.is_zero() {
            report.matched.push(m);
        } else {
            report.partial.push(m);
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// The statement source
// ---------------------------------------------------------------------------------------------

/// How a statement becomes payments.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Camt053Config {
    /// The system's name in references (default `bank`).
    pub system: String,
    /// The firm's legal entity that holds the account.
    pub legal_entity: LegalEntityKey,
    /// The client unmatched payments are booked to until allocated (a suspense account).
    pub unidentified_client: ClientKey,
}

impl Camt053Config {
    /// Payments received by `legal_entity`, unmatched ones for `unidentified_client`.
    pub fn new(legal_entity: LegalEntityKey, unidentified_client: ClientKey) -> Camt053Config {
        Camt053Config {
            system: "bank".into(),
            legal_entity,
            unidentified_client,
        }
    }
}

/// A [`Source`] of the payments of one statement, matched against open invoices. The cursor is the
/// number of credits already given.
#[derive(Debug, Clone)]
pub struct Camt053Statement {
    config: Camt053Config,
    payments: Vec<(BankCredit, Payment)>,
    rejected: Vec<Rejected>,
    report: MatchReport,
}

impl Camt053Statement {
    /// Reads `xml` and matches its credits against `open_invoices`.
    pub fn new(
        xml: &[u8],
        open_invoices: &[InvoiceEvent],
        config: Camt053Config,
    ) -> Result<Camt053Statement, ConnectorError> {
        let statement = parse_statement(xml)?;
        let report = match_credits(&statement.credits, open_invoices, &config.legal_entity)?;
        let mut by_id: BTreeMap<String, Payment> = BTreeMap::new();
        for m in report.matched.iter().chain(&report.partial) {
            by_id.insert(m.credit.id.clone(), m.payment.clone());
        }
        let mut payments = Vec::with_capacity(statement.credits.len());
        for credit in statement.credits {
            let payment = match by_id.remove(&credit.id) {
                Some(p) => p,
                None => {
                    let mut p = Payment::new(
                        payment_key(&credit)?,
                        config.unidentified_client.clone(),
                        config.legal_entity.clone(),
                        credit.amount,
                        credit.value_date.unwrap_or(credit.booking_date),
                        credit.reference_text(),
                        PaymentMethod::BankTransfer,
                    );
                    p.refs.insert(config.system.clone(), credit.id.clone());
                    p
                }
            };
            payments.push((credit, payment));
        }
        Ok(Camt053Statement {
            config,
            payments,
            rejected: statement.rejected,
            report,
        })
    }

    /// What the matcher found.
    pub fn report(&self) -> &MatchReport {
        &self.report
    }
}

#[derive(Serialize, Deserialize)]
struct Offset {
    given: usize,
    rejects_given: bool,
}

impl Connector for Camt053Statement {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(self.config.system.clone())
            .page_size(100, 10_000)
            .produces([RecordKind::Payment])
    }
}

#[async_trait]
impl Source for Camt053Statement {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        let at: Offset = match cursor {
            Some(c) => c.state()?,
            None => Offset {
                given: 0,
                rejects_given: false,
            },
        };
        let end = (at.given + page_size.max(1)).min(self.payments.len());
        let items = self
            .payments
            .get(at.given..end)
            .unwrap_or_default()
            .iter()
            .map(|(credit, payment)| {
                let external = ExternalRef::new(self.config.system.clone(), credit.id.clone());
                Change::new(
                    ChangeId::of(&external, RecordKind::Payment, "booked"),
                    external,
                    credit.booking_date.and_time(NaiveTime::MIN).and_utc(),
                    Record::from(payment.clone()),
                )
            })
            .collect();
        // The statement's rejects come with its first page.
        let rejected = if at.rejects_given {
            Vec::new()
        } else {
            self.rejected.clone()
        };
        let next = Offset {
            given: end.max(at.given),
            rejects_given: true,
        };
        Ok(Page::new(
            items,
            Some(Cursor::from_state(&next)?),
            end < self.payments.len(),
        )
        .with_rejected(rejected))
    }
}
