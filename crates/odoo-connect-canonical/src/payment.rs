//! Payments received from clients.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::{ClientKey, ExternalRefs, InvoiceKey, LegalEntityKey, PaymentKey};
use super::money::{Money, MoneyError};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentMethod {
    /// Bank transfer (SEPA, ACH, wire).
    BankTransfer,
    /// Direct debit.
    DirectDebit,
    /// Card.
    Card,
    /// Cheque.
    Cheque,
    /// Cash.
    Cash,
    /// Anything else.
    Other,
}

/// The part of a payment that settles one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentAllocation {
    /// The invoice settled.
    pub invoice: InvoiceKey,
    /// The amount set against it.
    pub amount: Money,
}

/// A payment received from a client and the invoices it settles.
///
/// The allocations add up to at most the amount; the rest is unallocated (an advance or an
/// overpayment).
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Money, Payment, PaymentAllocation, PaymentMethod, Validate};
/// use rust_decimal::Decimal;
///
/// let eur = |cents| Money::from_minor(cents, Currency::EUR);
/// let mut payment = Payment::new(
///     "pay-1".parse()?, "acme".parse()?, "firm".parse()?, eur(100_000),
///     NaiveDate::from_ymd_opt(2025, 4, 2).unwrap(), "INV/2025/0042", PaymentMethod::BankTransfer,
/// );
/// payment.allocations.push(PaymentAllocation { invoice: "inv-42".parse()?, amount: eur(80_000) });
/// assert_eq!(payment.unallocated()?, eur(20_000));
/// assert!(payment.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Payment {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: PaymentKey,
    /// Ids in other systems (the bank transaction, Odoo's payment).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Who paid.
    pub client: ClientKey,
    /// The legal entity paid.
    pub legal_entity: LegalEntityKey,
    /// Amount received.
    pub amount: Money,
    /// Value date.
    pub date: NaiveDate,
    /// The payer's reference (remittance information).
    pub reference: String,
    /// How it was paid.
    pub method: PaymentMethod,
    /// The invoices it settles.
    #[serde(default)]
    pub allocations: Vec<PaymentAllocation>,
}

impl Payment {
    /// A payment not yet allocated to invoices.
    pub fn new(
        key: PaymentKey,
        client: ClientKey,
        legal_entity: LegalEntityKey,
        amount: Money,
        date: NaiveDate,
        reference: impl Into<String>,
        method: PaymentMethod,
    ) -> Payment {
        Payment {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            client,
            legal_entity,
            amount,
            date,
            reference: reference.into(),
            method,
            allocations: Vec::new(),
        }
    }

    /// The amount not set against any invoice.
    pub fn unallocated(&self) -> Result<Money, MoneyError> {
        let allocated = Money::sum(
            self.amount.currency,
            self.allocations.iter().map(|a| &a.amount),
        )?;
        self.amount.checked_sub(&allocated)
    }

    fn check(&self, c: &mut Checker) {
        let cur = self.amount.currency;
        c.refs(&self.refs);
        c.positive_money("amount", &self.amount, cur);
        c.date("date", self.date);
        c.optional_text("reference", &self.reference, 256);
        let mut invoices = BTreeSet::new();
        c.each("allocations", &self.allocations, |c, a| {
            if !invoices.insert(&a.invoice) {
                c.report_at(
                    "invoice",
                    ProblemCode::Duplicate,
                    format!("invoice {} appears twice", a.invoice),
                );
            }
            c.positive_money("amount", &a.amount, cur);
        });
        if let Ok(rest) = self.unallocated()
            && rest.is_negative()
        {
            c.report_at(
                "allocations",
                ProblemCode::Inconsistent,
                format!("allocations exceed the amount by {}", rest.negate()),
            );
        }
    }
}

impl_validate!(Payment);
