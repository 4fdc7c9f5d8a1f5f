//! Invoices and credit notes as observed in the accounting system.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::currency::Currency;
use super::key::{
    BillingLineId, ClientKey, ContractKey, ExpenseKey, ExternalRefs, InvoiceKey, LegalEntityKey,
    MilestoneKey, TimeEntryKey,
};
use super::money::Money;
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// Invoice or credit note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvoiceKind {
    /// A customer invoice.
    Invoice,
    /// A credit note (refund) to a customer, its amounts positive.
    CreditNote,
}

/// Where an invoice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvoiceStatus {
    /// Not posted yet: can change.
    Draft,
    /// Posted to the ledger, numbered.
    Posted,
    /// Posted and sent to the client.
    Sent,
    /// Part of it paid.
    PartiallyPaid,
    /// Paid in full.
    Paid,
    /// Cancelled.
    Cancelled,
}

impl InvoiceStatus {
    /// Whether the invoice is in the ledger (posted, sent, partially paid or paid).
    pub fn is_posted(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Posted
                | InvoiceStatus::Sent
                | InvoiceStatus::PartiallyPaid
                | InvoiceStatus::Paid
        )
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Posted => "posted",
            InvoiceStatus::Sent => "sent",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Cancelled => "cancelled",
        })
    }
}

/// What an invoice line bills. In JSON: `{"source": "milestone", "milestone": "m1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LineSource {
    /// A fixed-fee milestone.
    Milestone {
        /// The milestone.
        milestone: MilestoneKey,
    },
    /// A time entry (all of it, or the part that fits under a cap).
    Time {
        /// The entry.
        entry: TimeEntryKey,
    },
    /// An expense, with its markup.
    Expense {
        /// The expense.
        expense: ExpenseKey,
    },
    /// The prepaid amount of a retainer not yet invoiced.
    RetainerPrepayment,
    /// A retainer top-up.
    RetainerTopUp,
    /// One period of a recurring service.
    RecurringPeriod {
        /// First day of the period.
        start: NaiveDate,
        /// Last day billed.
        end: NaiveDate,
    },
}

/// A tax on an invoice: its name, rate in percent, the base it applies to and its amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaxAmount {
    /// Name, such as `VAT 20%`.
    pub name: String,
    /// Rate in percent (20 for 20 %).
    pub rate: Decimal,
    /// The amount taxed.
    pub base: Money,
    /// The tax.
    pub amount: Money,
}

/// A line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct InvoiceLine {
    /// Text of the line.
    pub description: String,
    /// Quantity (hours, units).
    pub quantity: Decimal,
    /// Price of one unit (may carry more decimals than the currency).
    pub unit_price: Money,
    /// Amount before tax, rounded: `quantity × unit_price` rounded.
    pub subtotal: Money,
    /// The contract line billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_line: Option<BillingLineId>,
    /// What is billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LineSource>,
}

impl InvoiceLine {
    /// A line whose subtotal is `quantity × unit_price` rounded, or `None` on overflow.
    pub fn new(
        description: impl Into<String>,
        quantity: Decimal,
        unit_price: Money,
    ) -> Option<InvoiceLine> {
        let subtotal = unit_price.mul_round(quantity).ok()?;
        Some(InvoiceLine {
            description: description.into(),
            quantity,
            unit_price,
            subtotal,
            billing_line: None,
            source: None,
        })
    }
}

/// An invoice or credit note as observed at one moment of its life: status, lines, totals, taxes,
/// due date and what is still due (maps from an Odoo journal entry of a customer).
///
/// Totals must agree: `untaxed` is the sum of the line subtotals, `tax` the sum of the taxes, `total`
/// their sum, and `amount_due` is between zero and `total` as the status says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct InvoiceEvent {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key of the invoice.
    pub key: InvoiceKey,
    /// Ids in other systems.
    #[serde(default)]
    pub refs: ExternalRefs,
    /// Invoice or credit note.
    pub kind: InvoiceKind,
    /// Status.
    pub status: InvoiceStatus,
    /// Number given when posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The issuing legal entity.
    pub legal_entity: LegalEntityKey,
    /// The client billed.
    pub client: ClientKey,
    /// The contract billed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractKey>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Date of the invoice.
    pub issue_date: NaiveDate,
    /// Date payment is due.
    pub due_date: NaiveDate,
    /// The lines.
    pub lines: Vec<InvoiceLine>,
    /// The taxes, one per rate.
    #[serde(default)]
    pub taxes: Vec<TaxAmount>,
    /// Total before tax.
    pub untaxed: Money,
    /// Total tax.
    pub tax: Money,
    /// Total with tax.
    pub total: Money,
    /// What is still to be paid.
    pub amount_due: Money,
    /// For a credit note: the invoice it reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<InvoiceKey>,
}

impl InvoiceEvent {
    /// A draft invoice with these lines, untaxed, totals computed from the lines (`None` on overflow).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use odoo_connect_canonical::{Currency, InvoiceEvent, InvoiceLine, Money, Validate};
    /// use rust_decimal::Decimal;
    ///
    /// let day = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
    /// let line = InvoiceLine::new("Advisory", Decimal::new(75, 1), Money::new(Decimal::new(150, 0), Currency::EUR)).unwrap();
    /// let invoice = InvoiceEvent::draft("inv-1".parse()?, "firm".parse()?, "acme".parse()?, Currency::EUR, day, day, vec![line]).unwrap();
    /// assert_eq!(invoice.total.to_string(), "1125.00 EUR");
    /// assert!(invoice.validate().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn draft(
        key: InvoiceKey,
        legal_entity: LegalEntityKey,
        client: ClientKey,
        currency: Currency,
        issue_date: NaiveDate,
        due_date: NaiveDate,
        lines: Vec<InvoiceLine>,
    ) -> Option<InvoiceEvent> {
        let untaxed = Money::sum(currency, lines.iter().map(|l| &l.subtotal)).ok()?;
        Some(InvoiceEvent {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            kind: InvoiceKind::Invoice,
            status: InvoiceStatus::Draft,
            number: None,
            legal_entity,
            client,
            contract: None,
            currency,
            issue_date,
            due_date,
            lines,
            taxes: Vec::new(),
            untaxed,
            tax: Money::zero(currency),
            total: untaxed,
            amount_due: untaxed,
            reverses: None,
        })
    }

    fn check(&self, c: &mut Checker) {
        let cur = self.currency;
        c.refs(&self.refs);
        match &self.number {
            Some(n) => c.text("number", n, 64),
            None if self.status.is_posted() => c.report_at(
                "number",
                ProblemCode::Required,
                format!("a {} invoice has a number", self.status),
            ),
            None => {}
        }
        c.date("issue_date", self.issue_date);
        c.date("due_date", self.due_date);
        c.date_order(self.issue_date, "due_date", self.due_date, "the issue date");
        if self.lines.is_empty() && self.status != InvoiceStatus::Draft {
            c.report_at("lines", ProblemCode::Required, "needs at least one line");
        }
        c.each("lines", &self.lines, |c, l| {
            c.text("description", &l.description, 1024);
            if l.unit_price.currency != cur {
                c.report_at(
                    "unit_price",
                    ProblemCode::CurrencyMismatch,
                    format!("expected {cur}"),
                );
            }
            c.money("subtotal", &l.subtotal, cur);
            if l.quantity.is_zero() {
                c.report_at("quantity", ProblemCode::NotPositive, "must not be zero");
            }
            if let Ok(expected) = l.unit_price.mul_round(l.quantity)
                && expected.amount != l.subtotal.amount
            {
                c.report_at(
                    "subtotal",
                    ProblemCode::Inconsistent,
                    format!("quantity × unit price is {}", expected.amount),
                );
            }
        });
        c.each("taxes", &self.taxes, |c, t| {
            c.text("name", &t.name, 64);
            c.decimal_range("rate", t.rate, Decimal::ZERO, Decimal::ONE_HUNDRED);
            c.money("base", &t.base, cur);
            c.money("amount", &t.amount, cur);
        });
        for (name, m) in [
            ("untaxed", &self.untaxed),
            ("tax", &self.tax),
            ("total", &self.total),
        ] {
            c.non_negative_money(name, m, cur);
        }
        c.non_negative_money("amount_due", &self.amount_due, cur);
        let amounts_agree =
            self.untaxed.currency == cur && self.tax.currency == cur && self.total.currency == cur;
        if amounts_agree {
            let lines = Money::sum(
                cur,
                self.lines
                    .iter()
                    .filter(|l| l.subtotal.currency == cur)
                    .map(|l| &l.subtotal),
            );
            if lines
                .as_ref()
                .is_ok_and(|s| s.amount != self.untaxed.amount)
            {
                c.report_at(
                    "untaxed",
                    ProblemCode::Inconsistent,
                    "differs from the sum of the line subtotals",
                );
            }
            let taxes = Money::sum(
                cur,
                self.taxes
                    .iter()
                    .filter(|t| t.amount.currency == cur)
                    .map(|t| &t.amount),
            );
            if taxes.as_ref().is_ok_and(|s| s.amount != self.tax.amount) {
                c.report_at(
                    "tax",
                    ProblemCode::Inconsistent,
                    "differs from the sum of the taxes",
                );
            }
            if self
                .untaxed
                .checked_add(&self.tax)
                .is_ok_and(|s| s.amount != self.total.amount)
            {
                c.report_at(
                    "total",
                    ProblemCode::Inconsistent,
                    "differs from untaxed + tax",
                );
            }
        }
        if self.amount_due.currency == cur && self.total.currency == cur {
            let due = self.amount_due.amount;
            let total = self.total.amount;
            let ok = match self.status {
                InvoiceStatus::Paid => due.is_zero(),
                InvoiceStatus::PartiallyPaid => due > Decimal::ZERO && due < total,
                InvoiceStatus::Draft | InvoiceStatus::Posted | InvoiceStatus::Sent => due == total,
                InvoiceStatus::Cancelled => true,
            };
            if !ok {
                c.report_at(
                    "amount_due",
                    ProblemCode::Inconsistent,
                    format!(
                        "{due} due does not fit a {} invoice of {total}",
                        self.status
                    ),
                );
            }
        }
        if self.reverses.is_some() && self.kind != InvoiceKind::CreditNote {
            c.report_at(
                "reverses",
                ProblemCode::Inconsistent,
                "only a credit note reverses an invoice",
            );
        }
    }
}

impl_validate!(InvoiceEvent);
