//! Bank statements in ISO 20022 camt.053 XML: booked credits as payments, matched to open invoices.
//!
//! # Reading a file
//!
//! [`parse_statement`] (or [`parse_statement_named`], [`parse_statement_file`], which name the
//! file in their errors) reads a `BkToCstmrStmt` document in the namespaces
//! `urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` to `…camt.053.001.13`
//! ([`SUPPORTED_VERSIONS`]); another namespace, or none, is refused with its name
//! ([`ConnectorError::Unsupported`]). The status is read from `Sts` (`.02` to `.07`) or `Sts/Cd`.
//!
//! A file is taken whole or not at all: a file that is not well-formed XML (truncated in the
//! middle of an element, say), an entry whose `Amt`, `CdtDbtInd` or `Sts` cannot be read, or a
//! statement that does not add up is a [`ConnectorError::BadData`] naming the file (when given)
//! and the statement, and nothing of the file is used. Each statement (`Stmt`) of the file is
//! checked on its own and reported in [`Statement::statements`] with its id and account:
//!
//! * balances, per currency: the opening balance (`OPBD`, or `PRCD` when there is no `OPBD`)
//!   plus the booked credits minus the booked debits must equal the closing balance (`CLBD`);
//!   `CLAV` is kept for information. A balance with `CdtDbtInd` `DBIT` is negative. A statement
//!   without any `Bal` (the schema requires one) is read unchecked, its
//!   [`AccountStatement::balances`] empty.
//! * `TxsSummry`, when present: `TtlNtries`, `TtlCdtNtries` and `TtlDbtNtries` (`NbOfNtries`,
//!   `Sum`) and the net amount (`TtlNetNtryAmt` of `.02`, `TtlNetNtry` later) must agree with the
//!   statement's entries (all of them, or the booked ones only).
//!
//! Booked entries move the balance by their `CdtDbtInd`, reversals included (ISO 20022: a
//! reversal of a debit is a credit with `RvslInd` true).
//!
//! # What comes out
//!
//! For every booked credit entry (`CdtDbtInd` = `CRDT`, status `BOOK`, not a reversal or
//! return), one [`BankCredit`] per transaction (`NtryDtls/TxDtls`; the entry itself when it has
//! no details): amount and currency as [`Decimal`] read from the text (never a binary float),
//! booking and value dates, end-to-end id, unstructured and structured remittance information,
//! debtor name and account, and the instructed amount with its currency exchange
//! (`AmtDtls/InstdAmt`, `CcyXchg`) when the payer paid in another currency. A booked entry
//! that is a reversal (`RvslInd` true) or carries return information (`TxDtls/RtrInf`) is no
//! payment: it is a [`Reversal`] for a person to review, with its references and return reason
//! (`RtrInf/Rsn/Cd`). Debits and entries not booked are counted in [`Statement::skipped`]. A
//! credit whose details cannot be used (no booking date, transactions that do not add up to
//! their entry) is a [`Rejected`] with its XML, and the others go on.
//!
//! [`match_credits`] sets credits against open invoices (canonical [`InvoiceEvent`]s) by reference
//! (the invoice number found in the remittance information or the end-to-end id, ignoring case
//! and punctuation) and then, for credits without a reference, by an amount equal to exactly one
//! invoice's amount due. A credit booked in another currency than the invoice's is matched on
//! its instructed amount when that is in the invoice's currency ([`BankCredit::amount_in`]). The
//! [`MatchReport`] lists the credits matched in full, the partial payments, and the unmatched
//! ones with the reason; each match carries the [`Payment`] with its allocations.
//!
//! [`Camt053Statement`] is a [`Source`] over one file: payments of the matched credits for
//! their invoices' clients, the unmatched ones for a suspense client
//! ([`Camt053Config::unidentified_client`]) until someone allocates them; the reversals come as
//! business holds ([`Rejected::business`]) and the unusable credits as rejects.
//!
//! ```
//! use odoo_connect_connectors::camt053::{parse_statement, parse_statement_named};
//!
//! let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
//!   <Stmt><Id>S-1</Id><Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>
//!     <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>
//!       <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-07</Dt></Dt></Bal>
//!     <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1225.00</Amt>
//!       <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-03-08</Dt></Dt></Bal>
//!     <Ntry><Amt Ccy="EUR">1125.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
//!       <BookgDt><Dt>2024-03-08</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef>
//!       <NtryDtls><TxDtls><RmtInf><Ustrd>INV/2024/0042</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
//!   </Stmt></BkToCstmrStmt></Document>"#;
//! let statement = parse_statement(xml.as_bytes())?;
//! assert_eq!(statement.credits[0].amount.to_string(), "1125.00 EUR");
//! assert_eq!(statement.credits[0].remittance, ["INV/2024/0042"]);
//! assert_eq!(statement.statements[0].balances[0].closing.to_string(), "1225.00 EUR");
//!
//! // The same statement closing on another balance is refused whole.
//! let wrong = xml.replace("1225.00", "1200.00");
//! let err = parse_statement_named(wrong.as_bytes(), "march.xml").unwrap_err();
//! assert!(err.to_string().contains("march.xml"));
//! assert!(err.to_string().contains("S-1"));
//! # Ok::<(), odoo_connect_connectors::ConnectorError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime};
use quick_xml::events::{BytesStart, Event};
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

/// The versions of `camt.053.001.NN` read: `02` to `13`. They share the parts read here (the
/// status moved from `Sts` to `Sts/Cd` in `.08`, the net total from `TtlNetNtryAmt` to
/// `TtlNetNtry` in `.03`; both forms are read).
pub const SUPPORTED_VERSIONS: RangeInclusive<u32> = 2..=13;

const NAMESPACE_STEM: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";

/// A currency exchange reported by the bank (`CcyXchg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CurrencyExchange {
    /// The currency exchanged from (`SrcCcy`).
    pub source: Currency,
    /// The currency exchanged to (`TrgtCcy`), if given.
    pub target: Option<Currency>,
    /// The currency the rate is expressed in (`UnitCcy`), if given.
    pub unit: Option<Currency>,
    /// The rate (`XchgRate`), as written.
    pub rate: Decimal,
}

/// A booked credit: one transaction of a credit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BankCredit {
    /// A stable id: the bank's reference for the transaction or entry, or
    /// `<statement>/<entry>/<transaction>` when it gave none.
    pub id: String,
    /// The statement (`Stmt/Id`) it was booked on.
    #[serde(default)]
    pub statement: String,
    /// The account credited (IBAN or other id).
    pub account: Option<String>,
    /// The amount received, in the account's currency.
    pub amount: Money,
    /// What the payer instructed (`AmtDtls/InstdAmt/Amt`), when the bank reports it: in another
    /// currency than [`amount`](Self::amount) for a payment exchanged on the way.
    #[serde(default)]
    pub instructed: Option<Money>,
    /// The exchange the bank applied, if it reports one.
    #[serde(default)]
    pub exchange: Option<CurrencyExchange>,
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

    /// What this credit pays in `currency`: the booked amount in its own currency, the
    /// instructed amount in the instructed currency (a EUR credit for a USD payment settles
    /// USD), nothing in another.
    pub fn amount_in(&self, currency: Currency) -> Option<Money> {
        if self.amount.currency == currency {
            Some(self.amount)
        } else {
            self.instructed.filter(|m| m.currency == currency)
        }
    }
}

/// Which way an entry moved the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Direction {
    /// `CRDT`: money in.
    Credit,
    /// `DBIT`: money out.
    Debit,
}

/// A booked reversal (`RvslInd` true) or return (`RtrInf`): no payment, but something a person
/// must look at (a payment received earlier taken back, a transfer that came back).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reversal {
    /// The bank's reference for the entry, or `<statement>/<entry>`.
    pub id: String,
    /// The statement it was booked on.
    pub statement: String,
    /// The account.
    pub account: Option<String>,
    /// The amount booked.
    pub amount: Money,
    /// How it moved the account (a reversal of a credit is a debit).
    pub direction: Direction,
    /// `RvslInd` was true (otherwise the entry is a return, with return information).
    pub reversal: bool,
    /// The booking date, if readable.
    pub booking_date: Option<NaiveDate>,
    /// The references given: the bank's, the end-to-end, instruction, transaction and mandate
    /// ids, the remittance information, in document order.
    pub references: Vec<String>,
    /// The return reason code (`RtrInf/Rsn/Cd`, or `Prtry`), such as `AC04` or `MD06`.
    pub return_reason: Option<String>,
    /// Free text about the return (`RtrInf/AddtlInf`, `AddtlNtryInf`).
    pub info: Vec<String>,
    /// The entry's XML.
    pub raw: String,
}

impl Reversal {
    /// The reversal as a business hold, for review.
    pub fn to_rejected(&self) -> Rejected {
        let what = match (self.reversal, self.direction) {
            (true, Direction::Debit) => "reversal of a credit",
            (true, Direction::Credit) => "reversal of a debit",
            (false, Direction::Debit) => "returned debit",
            (false, Direction::Credit) => "returned credit",
        };
        let mut reason = format!("{what} of {} to review", self.amount);
        if let Some(r) = &self.return_reason {
            reason.push_str(&format!(", return reason {r}"));
        }
        if !self.references.is_empty() {
            reason.push_str(&format!(", references {}", self.references.join(" ")));
        }
        Rejected::business(
            Location::record(self.id.clone()).field("RvslInd"),
            reason,
            self.raw.clone(),
        )
    }
}

/// One currency's balances of a statement, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BalanceCheck {
    /// The currency.
    pub currency: Currency,
    /// The opening balance (negative when `DBIT`).
    pub opening: Money,
    /// `OPBD` or `PRCD`: which balance was taken as the opening one.
    pub opening_type: String,
    /// The booked credits.
    pub credits: Money,
    /// The booked debits.
    pub debits: Money,
    /// The closing booked balance (`CLBD`): opening + credits - debits.
    pub closing: Money,
    /// The closing available balance (`CLAV`), for information.
    pub closing_available: Option<Money>,
}

/// One statement (`Stmt`) of a file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountStatement {
    /// `Stmt/Id`.
    pub id: String,
    /// The account (IBAN or other id).
    pub account: Option<String>,
    /// Its entries, of any status.
    pub entries: usize,
    /// Its balances per currency, checked; empty when the statement gives none.
    pub balances: Vec<BalanceCheck>,
    /// Whether it had a `TxsSummry` (and so it was checked).
    pub summary_checked: bool,
}

/// What a statement file held.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statement {
    /// The statement's id (`Stmt/Id`; the ids joined by `+` when a document holds several).
    pub id: String,
    /// The file's name, when given.
    pub file: Option<String>,
    /// The camt.053 version, `NN` of `camt.053.001.NN`.
    pub version: u32,
    /// Each statement of the file, in document order.
    pub statements: Vec<AccountStatement>,
    /// Booked credits, in document order.
    pub credits: Vec<BankCredit>,
    /// Booked reversals and returns, for review.
    pub reversals: Vec<Reversal>,
    /// Credits that could not be used.
    pub rejected: Vec<Rejected>,
    /// Entries left out: debits and entries not booked.
    pub skipped: usize,
}

#[derive(Debug, Default)]
struct Xchg {
    source: Option<String>,
    target: Option<String>,
    unit: Option<String>,
    rate: Option<String>,
}

impl Xchg {
    fn is_empty(&self) -> bool {
        self.source.is_none() && self.rate.is_none()
    }

    fn read(&self) -> Result<Option<CurrencyExchange>, String> {
        if self.is_empty() {
            return Ok(None);
        }
        let ccy = |c: &Option<String>, what: &str| -> Result<Option<Currency>, String> {
            c.as_deref()
                .map(|c| Currency::from_str(c).map_err(|e| format!("CcyXchg/{what}: {e}")))
                .transpose()
        };
        let source = ccy(&self.source, "SrcCcy")?.ok_or("CcyXchg has no SrcCcy")?;
        let rate = self.rate.as_deref().ok_or("CcyXchg has no XchgRate")?;
        let rate = Decimal::from_str(rate)
            .map_err(|_| format!("CcyXchg/XchgRate `{rate}` is not a rate"))?;
        Ok(Some(CurrencyExchange {
            source,
            target: ccy(&self.target, "TrgtCcy")?,
            unit: ccy(&self.unit, "UnitCcy")?,
            rate,
        }))
    }
}

#[derive(Debug, Default)]
struct Tx {
    amount: Option<(String, String)>,
    instructed: Option<(String, String)>,
    exchange: Xchg,
    end_to_end: Option<String>,
    account_ref: Option<String>,
    other_refs: Vec<String>,
    remittance: Vec<String>,
    creditor_refs: Vec<String>,
    debtor: Option<String>,
    debtor_account: Option<String>,
    return_reason: Option<String>,
    return_info: Vec<String>,
    has_return: bool,
}

#[derive(Debug, Default)]
struct Entry {
    amount: Option<(String, String)>,
    instructed: Option<(String, String)>,
    exchange: Xchg,
    indicator: Option<String>,
    status: Option<String>,
    reversal: bool,
    booking: Option<String>,
    value: Option<String>,
    entry_ref: Option<String>,
    account_ref: Option<String>,
    info: Vec<String>,
    txs: Vec<Tx>,
}

/// What a booked or unbooked entry counts for in the balances and totals.
#[derive(Debug, Clone, Copy)]
struct Fact {
    amount: Money,
    credit: bool,
    booked: bool,
}

#[derive(Debug, Default)]
struct RawBalance {
    code: Option<String>,
    amount: Option<(String, String)>,
    indicator: Option<String>,
}

#[derive(Debug, Default)]
struct Stmt {
    id: Option<String>,
    account: Option<String>,
    balances: Vec<RawBalance>,
    summary: BTreeMap<String, String>,
    facts: Vec<Fact>,
    entries: usize,
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

/// An amount as the schema writes it: a decimal, at least zero, with a currency code.
fn read_amount(pair: &(String, String)) -> Result<Money, String> {
    let (text, ccy) = pair;
    let amount = Decimal::from_str(text.trim())
        .map_err(|_| format!("`{text}` is not an amount (a decimal with a point)"))?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("{amount} is negative"));
    }
    let currency = Currency::from_str(ccy.trim())
        .map_err(|e| format!("the currency `{ccy}` is not one: {e}"))?;
    Ok(Money::new(amount, currency))
}

fn money(pair: &(String, String), location: &Location) -> Result<Money, (Location, String)> {
    let m = read_amount(pair).map_err(|e| (location.clone().field("Amt"), e))?;
    if !m.is_positive() {
        return Err((
            location.clone().field("Amt"),
            format!("{} is not above zero", m.amount),
        ));
    }
    Ok(m)
}

/// Where errors are: the file, when named.
#[derive(Debug, Clone, Copy)]
struct Ctx<'a> {
    file: Option<&'a str>,
}

impl Ctx<'_> {
    fn message(&self, message: impl Into<String>) -> String {
        match self.file {
            Some(f) => format!("{f}: {}", message.into()),
            None => message.into(),
        }
    }

    fn bad(&self, location: Location, message: impl Into<String>) -> ConnectorError {
        ConnectorError::bad_data(location, self.message(message))
    }

    fn xml(&self, position: u64, e: impl std::fmt::Display) -> ConnectorError {
        self.bad(
            Location::unknown().field(format!("byte {position}")),
            format!("not well-formed XML, the file is refused whole: {e}"),
        )
    }

    fn statement_error(&self, stmt: &Stmt, message: impl std::fmt::Display) -> ConnectorError {
        let id = stmt.id.as_deref().unwrap_or("?");
        let account = stmt
            .account
            .as_deref()
            .map(|a| format!(" (account {a})"))
            .unwrap_or_default();
        self.bad(
            Location::record(id),
            format!("statement {id}{account}: {message}; the file is refused whole"),
        )
    }
}

impl Entry {
    /// The entry's amount, direction and status, which the balances depend on: an error for the
    /// whole file when unreadable.
    fn fact(&self) -> Result<Fact, (&'static str, String)> {
        let Some(amount) = &self.amount else {
            return Err(("Amt", "the entry has no amount".into()));
        };
        let amount = read_amount(amount).map_err(|e| ("Amt", e))?;
        let credit = match self.indicator.as_deref() {
            Some("CRDT") => true,
            Some("DBIT") => false,
            other => {
                return Err(("CdtDbtInd", format!("{other:?} is not CRDT or DBIT")));
            }
        };
        let Some(status) = self.status.as_deref() else {
            return Err(("Sts", "the entry has no status".into()));
        };
        Ok(Fact {
            amount,
            credit,
            booked: status == "BOOK",
        })
    }

    fn is_reversal(&self) -> bool {
        self.reversal || self.txs.iter().any(|t| t.has_return)
    }

    fn into_reversal(
        self,
        fact: Fact,
        statement: &str,
        index: usize,
        account: &Option<String>,
        raw: String,
    ) -> Reversal {
        let mut references: Vec<String> = Vec::new();
        let mut push = |r: &String| {
            if r != "NOTPROVIDED" && !references.contains(r) {
                references.push(r.clone());
            }
        };
        self.account_ref.iter().for_each(&mut push);
        let mut return_reason = None;
        let mut info = self.info.clone();
        for tx in &self.txs {
            tx.account_ref.iter().for_each(&mut push);
            tx.end_to_end.iter().for_each(&mut push);
            tx.other_refs.iter().for_each(&mut push);
            tx.creditor_refs.iter().for_each(&mut push);
            tx.remittance.iter().for_each(&mut push);
            if return_reason.is_none() {
                return_reason = tx.return_reason.clone();
            }
            info.extend(tx.return_info.iter().cloned());
        }
        Reversal {
            id: self
                .account_ref
                .clone()
                .or_else(|| self.entry_ref.clone())
                .unwrap_or_else(|| format!("{statement}/{}", index + 1)),
            statement: statement.to_owned(),
            account: account.clone(),
            amount: fact.amount,
            direction: if fact.credit {
                Direction::Credit
            } else {
                Direction::Debit
            },
            reversal: self.reversal,
            booking_date: self.booking.as_deref().and_then(parse_date),
            references,
            return_reason,
            info,
            raw,
        }
    }

    /// The credits of a booked credit entry; an error is a reject of this entry.
    fn credits(
        self,
        entry_amount: Money,
        statement: &str,
        index: usize,
        account: &Option<String>,
        location: &Location,
    ) -> Result<Vec<BankCredit>, (Location, String)> {
        if !entry_amount.is_positive() {
            return Err((
                location.clone().field("Amt"),
                format!("{} is not above zero", entry_amount.amount),
            ));
        }
        let Some(booking) = self.booking.as_deref().and_then(parse_date) else {
            return Err((
                location.clone().field("BookgDt"),
                format!("no readable booking date ({:?})", self.booking),
            ));
        };
        let value_date = self.value.as_deref().and_then(parse_date);
        let txs = if self.txs.is_empty() {
            vec![Tx::default()]
        } else {
            self.txs
        };
        let single = txs.len() == 1;
        let entry_instructed = match (&self.instructed, single) {
            (Some(i), true) => Some(money(i, &location.clone().field("AmtDtls/InstdAmt"))?),
            _ => None,
        };
        let entry_exchange = if single {
            self.exchange
                .read()
                .map_err(|e| (location.clone().field("AmtDtls"), e))?
        } else {
            None
        };
        let mut out = Vec::with_capacity(txs.len());
        let mut total = Money::zero(entry_amount.currency);
        for (t, tx) in txs.into_iter().enumerate() {
            let at = location.clone().field(format!("TxDtls[{}]", t + 1));
            let amount = match &tx.amount {
                Some(a) => money(a, &at)?,
                None if single => entry_amount,
                None => {
                    return Err((
                        location.clone().field(format!("TxDtls[{}]/AmtDtls", t + 1)),
                        "a batch entry's transaction has no amount".into(),
                    ));
                }
            };
            let instructed = match &tx.instructed {
                Some(i) => Some(money(i, &at)?),
                None => entry_instructed,
            };
            let exchange = match tx.exchange.read().map_err(|e| (at.clone(), e))? {
                Some(x) => Some(x),
                None => entry_exchange.clone(),
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
                statement: statement.to_owned(),
                account: account.clone(),
                amount,
                instructed,
                exchange,
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
            return Err((
                location.clone().field("NtryDtls"),
                format!("the transactions add up to {total}, the entry is {entry_amount}"),
            ));
        }
        Ok(out)
    }
}

fn sum_of(currency: Currency, facts: &[&Fact]) -> Result<Money, String> {
    Money::sum(currency, facts.iter().map(|f| &f.amount)).map_err(|e| e.to_string())
}

impl Stmt {
    /// Checks the balances and the summary: an error for the whole file.
    fn finish(self, ctx: Ctx<'_>) -> Result<AccountStatement, ConnectorError> {
        let balances = self
            .check_balances()
            .map_err(|e| ctx.statement_error(&self, e))?;
        let summary_checked = !self.summary.is_empty();
        if summary_checked {
            self.check_summary()
                .map_err(|e| ctx.statement_error(&self, e))?;
        }
        Ok(AccountStatement {
            id: self.id.unwrap_or_default(),
            account: self.account,
            entries: self.entries,
            balances,
            summary_checked,
        })
    }

    fn check_balances(&self) -> Result<Vec<BalanceCheck>, String> {
        if self.balances.is_empty() {
            return Ok(Vec::new());
        }
        // (type, signed amount), in document order.
        let mut read: Vec<(String, Money)> = Vec::new();
        for (i, b) in self.balances.iter().enumerate() {
            let at = format!("Bal[{}]", i + 1);
            let code = b
                .code
                .clone()
                .ok_or_else(|| format!("{at} has no type (Tp/CdOrPrtry/Cd)"))?;
            let amount = b
                .amount
                .as_ref()
                .ok_or_else(|| format!("{at} ({code}) has no amount"))?;
            let amount = read_amount(amount).map_err(|e| format!("{at} ({code}): {e}"))?;
            let amount = match b.indicator.as_deref() {
                Some("CRDT") => amount,
                Some("DBIT") => amount.negate(),
                other => {
                    return Err(format!(
                        "{at} ({code}): CdtDbtInd {other:?} is not CRDT or DBIT"
                    ));
                }
            };
            read.push((code, amount));
        }
        let find = |code: &str, ccy: Currency| {
            read.iter()
                .find(|(c, m)| c == code && m.currency == ccy)
                .map(|(_, m)| *m)
        };
        let booked: Vec<&Fact> = self.facts.iter().filter(|f| f.booked).collect();
        let currencies: BTreeSet<Currency> = read
            .iter()
            .filter(|(c, _)| matches!(c.as_str(), "OPBD" | "PRCD" | "CLBD"))
            .map(|(_, m)| m.currency)
            .chain(booked.iter().map(|f| f.amount.currency))
            .collect();
        let mut out = Vec::new();
        for ccy in currencies {
            let (opening, opening_type) = match (find("OPBD", ccy), find("PRCD", ccy)) {
                (Some(m), _) => (m, "OPBD"),
                (None, Some(m)) => (m, "PRCD"),
                (None, None) => {
                    return Err(format!("no opening balance (OPBD or PRCD) in {ccy}"));
                }
            };
            let closing =
                find("CLBD", ccy).ok_or_else(|| format!("no closing balance (CLBD) in {ccy}"))?;
            let of = |credit: bool| -> Vec<&Fact> {
                booked
                    .iter()
                    .copied()
                    .filter(|f| f.credit == credit && f.amount.currency == ccy)
                    .collect()
            };
            let credits = sum_of(ccy, &of(true))?;
            let debits = sum_of(ccy, &of(false))?;
            let expected = opening
                .checked_add(&credits)
                .and_then(|m| m.checked_sub(&debits))
                .map_err(|e| e.to_string())?;
            if expected != closing {
                return Err(format!(
                    "does not balance in {ccy}: opening {opening} ({opening_type}) + credits {} - debits {} = {}, but the closing balance (CLBD) is {}",
                    credits.amount, debits.amount, expected.amount, closing.amount
                ));
            }
            out.push(BalanceCheck {
                currency: ccy,
                opening,
                opening_type: opening_type.to_owned(),
                credits,
                debits,
                closing,
                closing_available: find("CLAV", ccy),
            });
        }
        Ok(out)
    }

    fn check_summary(&self) -> Result<(), String> {
        let number = |key: &str| -> Result<Option<u64>, String> {
            self.summary
                .get(key)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("TxsSummry/{key} `{v}` is not a number"))
                })
                .transpose()
        };
        let decimal = |key: &str| -> Result<Option<Decimal>, String> {
            self.summary
                .get(key)
                .map(|v| {
                    Decimal::from_str(v)
                        .map_err(|_| format!("TxsSummry/{key} `{v}` is not an amount"))
                })
                .transpose()
        };
        let net_indicator = self
            .summary
            .get("TtlNtries/CdtDbtInd")
            .or_else(|| self.summary.get("TtlNtries/TtlNetNtry/CdtDbtInd"));
        let net = match (
            decimal("TtlNtries/TtlNetNtryAmt")?.or(decimal("TtlNtries/TtlNetNtry/Amt")?),
            net_indicator.map(String::as_str),
        ) {
            (Some(n), Some("DBIT")) => Some(-n),
            (Some(n), _) => Some(n),
            (None, _) => None,
        };
        let expected: [(&str, Option<Decimal>); 7] = [
            (
                "TtlNtries/NbOfNtries",
                number("TtlNtries/NbOfNtries")?.map(Decimal::from),
            ),
            ("TtlNtries/Sum", decimal("TtlNtries/Sum")?),
            ("TtlNtries/TtlNetNtry", net),
            (
                "TtlCdtNtries/NbOfNtries",
                number("TtlCdtNtries/NbOfNtries")?.map(Decimal::from),
            ),
            ("TtlCdtNtries/Sum", decimal("TtlCdtNtries/Sum")?),
            (
                "TtlDbtNtries/NbOfNtries",
                number("TtlDbtNtries/NbOfNtries")?.map(Decimal::from),
            ),
            ("TtlDbtNtries/Sum", decimal("TtlDbtNtries/Sum")?),
        ];
        let actual = |facts: &[&Fact]| -> [Decimal; 7] {
            let sum = |credit: Option<bool>| -> (Decimal, Decimal) {
                let picked = facts
                    .iter()
                    .filter(|f| credit.is_none_or(|c| f.credit == c));
                (
                    Decimal::from(picked.clone().count()),
                    picked.map(|f| f.amount.amount).sum(),
                )
            };
            let (n, s) = sum(None);
            let (nc, sc) = sum(Some(true));
            let (nd, sd) = sum(Some(false));
            [n, s, sc - sd, nc, sc, nd, sd]
        };
        let all: Vec<&Fact> = self.facts.iter().collect();
        let booked: Vec<&Fact> = self.facts.iter().filter(|f| f.booked).collect();
        let mismatch = |got: [Decimal; 7]| {
            expected
                .iter()
                .zip(got)
                .find(|((_, want), got)| want.is_some_and(|w| w != *got))
                .map(|((key, want), got)| (*key, want.unwrap_or_default(), got))
        };
        match (mismatch(actual(&booked)), mismatch(actual(&all))) {
            (None, _) | (_, None) => Ok(()),
            (Some((key, want, got)), Some(_)) => Err(format!(
                "the transaction summary says {key} = {want}, the booked entries give {got}"
            )),
        }
    }
}

fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// Reads a camt.053 document (see the [module](self)): the whole file, or an error.
pub fn parse_statement(xml: &[u8]) -> Result<Statement, ConnectorError> {
    parse(xml, Ctx { file: None })
}

/// Reads a camt.053 document, naming `file_name` in its errors and in [`Statement::file`].
pub fn parse_statement_named(xml: &[u8], file_name: &str) -> Result<Statement, ConnectorError> {
    parse(
        xml,
        Ctx {
            file: Some(file_name),
        },
    )
}

fn read_file(path: &Path) -> Result<Vec<u8>, ConnectorError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ConnectorError::NotFound {
            what: format!("camt.053 file {}", path.display()),
        },
        _ => ConnectorError::transport(format!("cannot read {}", path.display()), e),
    })
}

/// Reads the camt.053 file at `path`; errors name it. A missing file is
/// [`ConnectorError::NotFound`].
pub fn parse_statement_file(path: impl AsRef<Path>) -> Result<Statement, ConnectorError> {
    let path = path.as_ref();
    let xml = read_file(path)?;
    parse_statement_named(&xml, &path.display().to_string())
}

fn version_of(namespace: Option<&str>, ctx: Ctx<'_>) -> Result<u32, ConnectorError> {
    let supported = format!(
        "camt.053.001.{:02} to camt.053.001.{:02} are read",
        SUPPORTED_VERSIONS.start(),
        SUPPORTED_VERSIONS.end()
    );
    let Some(ns) = namespace else {
        return Err(ConnectorError::Unsupported {
            what: ctx.message(format!("a BkToCstmrStmt without a namespace ({supported})")),
        });
    };
    ns.strip_prefix(NAMESPACE_STEM)
        .filter(|v| v.len() == 2)
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| SUPPORTED_VERSIONS.contains(v))
        .ok_or_else(|| ConnectorError::Unsupported {
            what: ctx.message(format!("the namespace `{ns}` ({supported})")),
        })
}

fn parse(xml: &[u8], ctx: Ctx<'_>) -> Result<Statement, ConnectorError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    // Text is trimmed per value, not per event: an entity splits a text into several events.
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut ccy = String::new();
    // Namespace declarations seen, by prefix ("" for the default one).
    let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
    let mut version: Option<u32> = None;
    let mut stmt: Option<Stmt> = None;
    let mut entry: Option<(Entry, usize, u64)> = None;
    let mut statement = Statement {
        id: String::new(),
        file: ctx.file.map(str::to_owned),
        version: 0,
        statements: Vec::new(),
        credits: Vec::new(),
        reversals: Vec::new(),
        rejected: Vec::new(),
        skipped: 0,
    };
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ctx.xml(reader.error_position(), e))?;
        match event {
            Event::Start(e) => {
                for a in e.attributes() {
                    let a = a.map_err(|err| ctx.xml(reader.buffer_position(), err))?;
                    let key = a.key.as_ref();
                    let prefix = if key == b"xmlns" {
                        Some(String::new())
                    } else {
                        key.strip_prefix(b"xmlns:")
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                    };
                    if let Some(prefix) = prefix {
                        namespaces.insert(prefix, String::from_utf8_lossy(&a.value).into_owned());
                    }
                }
                let name = local_name(&e);
                let parent = path.last().map(String::as_str);
                if name == "BkToCstmrStmt" && version.is_none() {
                    let prefix = e
                        .name()
                        .prefix()
                        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                        .unwrap_or_default();
                    version = Some(version_of(
                        namespaces.get(&prefix).map(String::as_str),
                        ctx,
                    )?);
                }
                if name == "Stmt" && parent == Some("BkToCstmrStmt") {
                    stmt = Some(Stmt::default());
                }
                if name == "Bal"
                    && parent == Some("Stmt")
                    && let Some(s) = stmt.as_mut()
                {
                    s.balances.push(RawBalance::default());
                }
                if name == "Ntry"
                    && parent == Some("Stmt")
                    && let Some(s) = stmt.as_mut()
                {
                    entry = Some((Entry::default(), s.entries, before));
                    s.entries += 1;
                }
                if name == "TxDtls"
                    && let Some((en, _, _)) = entry.as_mut()
                {
                    en.txs.push(Tx::default());
                }
                if name == "RtrInf"
                    && let Some(tx) = entry.as_mut().and_then(|(en, _, _)| en.txs.last_mut())
                {
                    tx.has_return = true;
                }
                if name == "Amt" || name == "InstdAmt" {
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
                    .map_err(|e| ctx.xml(reader.buffer_position(), e))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| ctx.xml(reader.buffer_position(), e))?;
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
                        .map_err(|e| ctx.xml(reader.buffer_position(), e))?;
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
                let parent = rel.len().checked_sub(2).and_then(|i| rel.get(i)).copied();
                if let Some(s) = stmt.as_mut() {
                    record_value(&rel, value, &ccy, s, entry.as_mut().map(|e| &mut e.0));
                }
                if closing == "Ntry"
                    && parent == Some("Stmt")
                    && let (Some((en, index, start)), Some(s)) = (entry.take(), stmt.as_mut())
                {
                    let id = s.id.clone().unwrap_or_default();
                    let location = Location::record(format!("{id}/Ntry[{}]", index + 1));
                    let end = reader.buffer_position();
                    let raw = xml
                        .get(start as usize..end as usize)
                        .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                        .unwrap_or_default();
                    let fact = en.fact().map_err(|(field, why)| {
                        ctx.bad(
                            location.clone().field(field),
                            format!(
                                "statement {id}, entry {}: {why}; the file is refused whole",
                                index + 1
                            ),
                        )
                    })?;
                    s.facts.push(fact);
                    if !fact.booked {
                        statement.skipped += 1;
                    } else if en.is_reversal() {
                        statement
                            .reversals
                            .push(en.into_reversal(fact, &id, index, &s.account, raw));
                    } else if !fact.credit {
                        statement.skipped += 1;
                    } else {
                        match en.credits(fact.amount, &id, index, &s.account, &location) {
                            Ok(c) => statement.credits.extend(c),
                            Err((loc, why)) => {
                                statement.rejected.push(Rejected::new(loc, why, raw))
                            }
                        }
                    }
                }
                if closing == "Stmt"
                    && parent == Some("BkToCstmrStmt")
                    && let Some(s) = stmt.take()
                {
                    statement.statements.push(s.finish(ctx)?);
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(ctx.bad(
            Location::unknown().field(path.join("/")),
            format!("the file ends inside <{open}>: truncated, refused whole"),
        ));
    }
    let Some(version) = version else {
        return Err(ctx.bad(
            Location::unknown().field("Document"),
            "not a camt.053 statement: no BkToCstmrStmt element",
        ));
    };
    statement.version = version;
    statement.id = statement
        .statements
        .iter()
        .map(|s| s.id.as_str())
        .collect::<Vec<_>>()
        .join("+");
    Ok(statement)
}

fn ends_with(path: &[&str], tail: &[&str]) -> bool {
    path.len() >= tail.len() && path[path.len() - tail.len()..] == *tail
}

fn record_value(
    path: &[&str],
    value: String,
    ccy: &str,
    stmt: &mut Stmt,
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
        stmt.id = Some(value_trim);
        return;
    }
    if in_stmt(&["Acct", "Id", "IBAN"])
        || (in_stmt(&["Acct", "Id", "Othr", "Id"]) && stmt.account.is_none())
    {
        stmt.account = Some(value_trim);
        return;
    }
    if path.len() > 4 && path[3] == "Bal" {
        let Some(b) = stmt.balances.last_mut() else {
            return;
        };
        match &path[4..] {
            ["Tp", "CdOrPrtry", "Cd"] | ["Tp", "CdOrPrtry", "Prtry"] => b.code = Some(value_trim),
            ["Amt"] => b.amount = Some((value_trim, ccy.to_owned())),
            ["CdtDbtInd"] => b.indicator = Some(value_trim),
            _ => {}
        }
        return;
    }
    if path.len() > 4 && path[3] == "TxsSummry" {
        stmt.summary.insert(path[4..].join("/"), value_trim);
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
        ["RvslInd"] => entry.reversal = value_trim == "true" || value_trim == "1",
        ["BookgDt", "Dt"] | ["BookgDt", "DtTm"] => entry.booking = Some(value_trim),
        ["ValDt", "Dt"] | ["ValDt", "DtTm"] => entry.value = Some(value_trim),
        ["NtryRef"] => entry.entry_ref = Some(value_trim),
        ["AcctSvcrRef"] => entry.account_ref = Some(value_trim),
        ["AddtlNtryInf"] => entry.info.push(value_trim),
        ["AmtDtls", "InstdAmt", "Amt"] => entry.instructed = Some((value_trim, ccy.to_owned())),
        ["AmtDtls", "InstdAmt" | "TxAmt", "CcyXchg", field] => {
            set_exchange(&mut entry.exchange, field, value_trim)
        }
        ["NtryDtls", "TxDtls", rest @ ..] => {
            let Some(tx) = entry.txs.last_mut() else {
                return;
            };
            match rest {
                ["Refs", "EndToEndId"] => tx.end_to_end = Some(value_trim),
                ["Refs", "AcctSvcrRef"] => tx.account_ref = Some(value_trim),
                ["Refs", "InstrId" | "TxId" | "MndtId" | "PmtInfId" | "UETR"] => {
                    tx.other_refs.push(value_trim)
                }
                ["AmtDtls", "TxAmt", "Amt"] | ["Amt"] => {
                    tx.amount = Some((value_trim, ccy.to_owned()))
                }
                ["AmtDtls", "InstdAmt", "Amt"] => {
                    tx.instructed = Some((value_trim, ccy.to_owned()))
                }
                ["AmtDtls", "InstdAmt" | "TxAmt", "CcyXchg", field] => {
                    set_exchange(&mut tx.exchange, field, value_trim)
                }
                ["RmtInf", "Ustrd"] => tx.remittance.push(value_trim),
                ["RmtInf", "Strd", "CdtrRefInf", "Ref"] => tx.creditor_refs.push(value_trim),
                ["RltdPties", "Dbtr", "Nm"] | ["RltdPties", "Dbtr", "Pty", "Nm"] => {
                    tx.debtor = Some(value_trim)
                }
                ["RltdPties", "DbtrAcct", "Id", "IBAN"] => tx.debtor_account = Some(value_trim),
                ["RtrInf", "Rsn", "Cd" | "Prtry"] => tx.return_reason = Some(value_trim),
                ["RtrInf", "AddtlInf"] => tx.return_info.push(value_trim),
                _ => {}
            }
        }
        _ => {}
    }
}

fn set_exchange(x: &mut Xchg, field: &str, value: String) {
    match field {
        "SrcCcy" => x.source = Some(value),
        "TrgtCcy" => x.target = Some(value),
        "UnitCcy" => x.unit = Some(value),
        "XchgRate" => x.rate = Some(value),
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
/// before the next credit is matched. A credit is matched to invoices in its booked currency or,
/// through its instructed amount, in the instructed currency ([`BankCredit::amount_in`]); its
/// payment is then in that currency, for that amount.
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
            .filter(|i| credit.amount_in(i.currency).is_some())
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
                .filter(|i| {
                    credit
                        .amount_in(i.currency)
                        .is_some_and(|paid| due.get(&i.key) == Some(&paid))
                })
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
        // Settled in the first invoice's currency: the booked amount, or the instructed one
        // for a payment exchanged on the way (invoices in another currency are left).
        let Some(paid) = credit.amount_in(first.currency) else {
            continue;
        };
        let chosen: Vec<&InvoiceEvent> = chosen
            .into_iter()
            .filter(|i| i.currency == paid.currency)
            .collect();
        let mut payment = Payment::new(
            payment_key(credit)?,
            first.client.clone(),
            legal_entity.clone(),
            paid,
            credit.value_date.unwrap_or(credit.booking_date),
            credit.reference_text(),
            PaymentMethod::BankTransfer,
        );
        payment.refs.insert("bank", credit.id.clone());
        let mut left = paid;
        let mut still_due = Money::zero(paid.currency);
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
    /// The statement file's name, for errors ([`Camt053Statement::from_path`] sets it).
    pub file_name: Option<String>,
}

impl Camt053Config {
    /// Payments received by `legal_entity`, unmatched ones for `unidentified_client`.
    pub fn new(legal_entity: LegalEntityKey, unidentified_client: ClientKey) -> Camt053Config {
        Camt053Config {
            system: "bank".into(),
            legal_entity,
            unidentified_client,
            file_name: None,
        }
    }

    /// The same configuration, naming the statement file in errors.
    pub fn with_file_name(mut self, file_name: impl Into<String>) -> Camt053Config {
        self.file_name = Some(file_name.into());
        self
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
    statements: Vec<AccountStatement>,
    reversals: Vec<Reversal>,
}

impl Camt053Statement {
    /// Reads `xml` (refused whole when it is not a sound statement: see the [module](self)) and
    /// matches its credits against `open_invoices`.
    pub fn new(
        xml: &[u8],
        open_invoices: &[InvoiceEvent],
        config: Camt053Config,
    ) -> Result<Camt053Statement, ConnectorError> {
        let statement = match &config.file_name {
            Some(name) => parse_statement_named(xml, name)?,
            None => parse_statement(xml)?,
        };
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
        // Unusable credits, then the reversals held for review.
        let mut rejected = statement.rejected;
        rejected.extend(statement.reversals.iter().map(Reversal::to_rejected));
        Ok(Camt053Statement {
            config,
            payments,
            rejected,
            report,
            statements: statement.statements,
            reversals: statement.reversals,
        })
    }

    /// Reads the statement file at `path` (its name in errors and in the config) and matches its
    /// credits against `open_invoices`. A missing file is [`ConnectorError::NotFound`].
    pub fn from_path(
        path: impl AsRef<Path>,
        open_invoices: &[InvoiceEvent],
        config: Camt053Config,
    ) -> Result<Camt053Statement, ConnectorError> {
        let path = path.as_ref();
        let xml = read_file(path)?;
        let config = config.with_file_name(path.display().to_string());
        Camt053Statement::new(&xml, open_invoices, config)
    }

    /// What the matcher found.
    pub fn report(&self) -> &MatchReport {
        &self.report
    }

    /// The statements of the file, with their checked balances.
    pub fn statements(&self) -> &[AccountStatement] {
        &self.statements
    }

    /// The reversals and returns booked, held for review (they also come as business holds
    /// with the first page).
    pub fn reversals(&self) -> &[Reversal] {
        &self.reversals
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
        // The statement's rejects and business holds come with its first page.
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
