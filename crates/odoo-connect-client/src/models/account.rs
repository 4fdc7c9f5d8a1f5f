//! Accounting: `account.move` (invoices and journal entries), `account.move.line`,
//! `account.payment` and `account.journal`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Model;
use crate::value::{Many2one, RecordId, date, datetime, decimal, opt};

crate::odoo_selection! {
    /// `account.move.move_type`.
    pub enum MoveType {
        /// Journal entry (`entry`).
        Entry = "entry",
        /// Customer invoice (`out_invoice`).
        OutInvoice = "out_invoice",
        /// Customer credit note (`out_refund`).
        OutRefund = "out_refund",
        /// Vendor bill (`in_invoice`).
        InInvoice = "in_invoice",
        /// Vendor credit note (`in_refund`).
        InRefund = "in_refund",
        /// Sales receipt (`out_receipt`).
        OutReceipt = "out_receipt",
        /// Purchase receipt (`in_receipt`).
        InReceipt = "in_receipt",
    }
}

crate::odoo_selection! {
    /// `account.move.state` (also `account.move.line.parent_state`).
    pub enum MoveState {
        /// Draft (`draft`).
        Draft = "draft",
        /// Posted (`posted`).
        Posted = "posted",
        /// Cancelled (`cancel`).
        Cancel = "cancel",
    }
}

crate::odoo_selection! {
    /// `account.move.payment_state`.
    pub enum MovePaymentState {
        /// Not paid (`not_paid`).
        NotPaid = "not_paid",
        /// Paid, the payment not yet reconciled with the bank (`in_payment`).
        InPayment = "in_payment",
        /// Paid (`paid`).
        Paid = "paid",
        /// Partially paid (`partial`).
        Partial = "partial",
        /// Reversed by a credit note (`reversed`).
        Reversed = "reversed",
        /// Payment blocked (`blocked`, from Odoo 18).
        Blocked = "blocked",
        /// Paid before the accounting app was installed (`invoicing_legacy`).
        InvoicingLegacy = "invoicing_legacy",
    }
}

/// An `account.move` record: a customer invoice or credit note, a vendor bill, or a journal entry.
///
/// ```
/// use odoo_connect_client::models::{AccountMove, account::{MovePaymentState, MoveState, MoveType}};
/// let m: AccountMove = serde_json::from_str(
///     r#"{"id": 57, "name": "INV/2026/00010", "move_type": "out_invoice", "state": "posted",
///         "payment_state": "not_paid", "invoice_date": "2026-11-23", "amount_total": 4259.03,
///         "amount_residual": 4259.03, "invoice_origin": "S00029", "ref": false}"#,
/// ).unwrap();
/// assert_eq!(m.move_type, Some(MoveType::OutInvoice));
/// assert_eq!(m.state, Some(MoveState::Posted));
/// assert_eq!(m.payment_state, Some(MovePaymentState::NotPaid));
/// assert_eq!(m.amount_residual.to_string(), "4259.03");
/// assert_eq!(m.reference, None);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "account.move")]
#[non_exhaustive]
pub struct AccountMove {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Number (`INV/2026/00010`); `None` (or `"/"`) while a draft has no number.
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// Type.
    #[serde(default, with = "opt")]
    pub move_type: Option<MoveType>,
    /// Status.
    #[serde(default, with = "opt")]
    pub state: Option<MoveState>,
    /// Payment status.
    #[serde(default, with = "opt")]
    pub payment_state: Option<MovePaymentState>,
    /// Partner (`res.partner`).
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Commercial entity of the partner.
    #[serde(default, with = "opt")]
    pub commercial_partner_id: Option<Many2one>,
    /// Invoice date; `None` until posted.
    #[serde(default, with = "date::option")]
    pub invoice_date: Option<NaiveDate>,
    /// Due date.
    #[serde(default, with = "date::option")]
    pub invoice_date_due: Option<NaiveDate>,
    /// Accounting date.
    #[serde(default, with = "date::option")]
    pub date: Option<NaiveDate>,
    /// Currency.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Untaxed amount.
    #[serde(default, with = "decimal")]
    pub amount_untaxed: Decimal,
    /// Taxes.
    #[serde(default, with = "decimal")]
    pub amount_tax: Decimal,
    /// Total.
    #[serde(default, with = "decimal")]
    pub amount_total: Decimal,
    /// Amount still due.
    #[serde(default, with = "decimal")]
    pub amount_residual: Decimal,
    /// Total in the company currency, signed (negative for credit notes).
    #[serde(default, with = "decimal")]
    pub amount_total_signed: Decimal,
    /// Amount due in the company currency, signed.
    #[serde(default, with = "decimal")]
    pub amount_residual_signed: Decimal,
    /// Source document (`invoice_origin`, e.g. the sales order number).
    #[serde(default, with = "opt")]
    pub invoice_origin: Option<String>,
    /// Reference (`ref`).
    #[serde(default, rename = "ref", with = "opt")]
    pub reference: Option<String>,
    /// Payment reference to communicate to the customer.
    #[serde(default, with = "opt")]
    pub payment_reference: Option<String>,
    /// All journal items (`account.move.line`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub line_ids: Vec<RecordId>,
    /// Invoice lines only (product, section and note lines).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub invoice_line_ids: Vec<RecordId>,
    /// Journal.
    #[serde(default, with = "opt")]
    pub journal_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Payment terms.
    #[serde(default, with = "opt")]
    pub invoice_payment_term_id: Option<Many2one>,
    /// Salesperson (`res.users`).
    #[serde(default, with = "opt")]
    pub invoice_user_id: Option<Many2one>,
    /// The move this one reverses (for a credit note).
    #[serde(default, with = "opt")]
    pub reversed_entry_id: Option<Many2one>,
    /// Payments matched with the invoice (`matched_payment_ids`, read from Odoo 18).
    ///
    /// Reading it needs read access to `account.payment`: a user without it (a salesperson)
    /// gets an `AccessError` for the whole read, so read invoices as such a user with
    /// `.fields(...)` leaving this field out.
    #[odoo(since = 18)]
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub matched_payment_ids: Vec<RecordId>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl AccountMove {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        AccountMove {
            id,
            display_name: None,
            name: None,
            move_type: None,
            state: None,
            payment_state: None,
            partner_id: None,
            commercial_partner_id: None,
            invoice_date: None,
            invoice_date_due: None,
            date: None,
            currency_id: None,
            amount_untaxed: Decimal::ZERO,
            amount_tax: Decimal::ZERO,
            amount_total: Decimal::ZERO,
            amount_residual: Decimal::ZERO,
            amount_total_signed: Decimal::ZERO,
            amount_residual_signed: Decimal::ZERO,
            invoice_origin: None,
            reference: None,
            payment_reference: None,
            line_ids: Vec::new(),
            invoice_line_ids: Vec::new(),
            journal_id: None,
            company_id: None,
            invoice_payment_term_id: None,
            invoice_user_id: None,
            reversed_entry_id: None,
            matched_payment_ids: Vec::new(),
            write_date: None,
        }
    }

    /// Whether this is a customer invoice or credit note (`out_invoice`, `out_refund`).
    pub fn is_customer_document(&self) -> bool {
        matches!(
            self.move_type,
            Some(MoveType::OutInvoice | MoveType::OutRefund)
        )
    }
}

crate::odoo_selection! {
    /// `account.move.line.display_type`: what a journal item stands for.
    pub enum MoveLineDisplayType {
        /// A product line (`product`).
        Product = "product",
        /// Cost of goods sold (`cogs`).
        Cogs = "cogs",
        /// A tax line (`tax`).
        Tax = "tax",
        /// A discount line (`discount`).
        Discount = "discount",
        /// A cash rounding line (`rounding`).
        Rounding = "rounding",
        /// The receivable or payable line of a payment term (`payment_term`).
        PaymentTerm = "payment_term",
        /// Section title (`line_section`).
        LineSection = "line_section",
        /// Subsection title (`line_subsection`, from Odoo 19).
        LineSubsection = "line_subsection",
        /// Note (`line_note`).
        LineNote = "line_note",
        /// Early payment discount (`epd`).
        Epd = "epd",
    }
}

/// An `account.move.line` record: a journal item (an invoice line, a tax line, the receivable line, ...).
///
/// ```
/// use odoo_connect_client::models::{AccountMoveLine, account::MoveLineDisplayType};
/// let l: AccountMoveLine = serde_json::from_str(
///     r#"{"id": 149, "move_id": [57, "INV/2026/00010"], "display_type": "product",
///         "quantity": 3.0, "price_unit": 1234.5, "price_subtotal": 3703.5, "credit": 3703.5,
///         "debit": 0.0, "tax_ids": [1], "sale_line_ids": [72]}"#,
/// ).unwrap();
/// assert_eq!(l.display_type, Some(MoveLineDisplayType::Product));
/// assert_eq!(l.price_subtotal.to_string(), "3703.5");
/// assert_eq!(l.sale_line_ids[0].get(), 72);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "account.move.line")]
#[non_exhaustive]
pub struct AccountMoveLine {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// The journal entry (`account.move`).
    #[serde(default, with = "opt")]
    pub move_id: Option<Many2one>,
    /// Number of the journal entry.
    #[serde(default, with = "opt")]
    pub move_name: Option<String>,
    /// Label.
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// What the line stands for.
    #[serde(default, with = "opt")]
    pub display_type: Option<MoveLineDisplayType>,
    /// Status of the journal entry.
    #[serde(default, with = "opt")]
    pub parent_state: Option<MoveState>,
    /// Accounting date.
    #[serde(default, with = "date::option")]
    pub date: Option<NaiveDate>,
    /// Due date (receivable and payable lines).
    #[serde(default, with = "date::option")]
    pub date_maturity: Option<NaiveDate>,
    /// Partner.
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Product.
    #[serde(default, with = "opt")]
    pub product_id: Option<Many2one>,
    /// Account (`account.account`).
    #[serde(default, with = "opt")]
    pub account_id: Option<Many2one>,
    /// Journal.
    #[serde(default, with = "opt")]
    pub journal_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Currency of the line.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Quantity.
    #[serde(default, with = "decimal")]
    pub quantity: Decimal,
    /// Unit of measure.
    #[serde(default, with = "opt")]
    pub product_uom_id: Option<Many2one>,
    /// Unit price.
    #[serde(default, with = "decimal")]
    pub price_unit: Decimal,
    /// Discount (%).
    #[serde(default, with = "decimal")]
    pub discount: Decimal,
    /// Subtotal without taxes.
    #[serde(default, with = "decimal")]
    pub price_subtotal: Decimal,
    /// Total with taxes.
    #[serde(default, with = "decimal")]
    pub price_total: Decimal,
    /// Debit, in the company currency.
    #[serde(default, with = "decimal")]
    pub debit: Decimal,
    /// Credit, in the company currency.
    #[serde(default, with = "decimal")]
    pub credit: Decimal,
    /// Balance (debit - credit).
    #[serde(default, with = "decimal")]
    pub balance: Decimal,
    /// Amount in the line's currency, signed.
    #[serde(default, with = "decimal")]
    pub amount_currency: Decimal,
    /// Amount left to reconcile, in the company currency.
    #[serde(default, with = "decimal")]
    pub amount_residual: Decimal,
    /// Taxes applied (`account.tax`).
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub tax_ids: Vec<RecordId>,
    /// The tax a tax line comes from.
    #[serde(default, with = "opt")]
    pub tax_line_id: Option<Many2one>,
    /// Sales order lines invoiced by this line.
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub sale_line_ids: Vec<RecordId>,
    /// Analytic distribution: analytic account ids (comma-joined from 17) to percentages.
    #[serde(default, with = "opt")]
    pub analytic_distribution: Option<serde_json::Value>,
    /// Whether the line is fully reconciled.
    #[serde(default)]
    pub reconciled: bool,
    /// Reconciliation reference shared by matched lines.
    #[serde(default, with = "opt")]
    pub matching_number: Option<String>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl AccountMoveLine {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        AccountMoveLine {
            id,
            display_name: None,
            move_id: None,
            move_name: None,
            name: None,
            display_type: None,
            parent_state: None,
            date: None,
            date_maturity: None,
            partner_id: None,
            product_id: None,
            account_id: None,
            journal_id: None,
            company_id: None,
            currency_id: None,
            quantity: Decimal::ZERO,
            product_uom_id: None,
            price_unit: Decimal::ZERO,
            discount: Decimal::ZERO,
            price_subtotal: Decimal::ZERO,
            price_total: Decimal::ZERO,
            debit: Decimal::ZERO,
            credit: Decimal::ZERO,
            balance: Decimal::ZERO,
            amount_currency: Decimal::ZERO,
            amount_residual: Decimal::ZERO,
            tax_ids: Vec::new(),
            tax_line_id: None,
            sale_line_ids: Vec::new(),
            analytic_distribution: None,
            reconciled: false,
            matching_number: None,
            write_date: None,
        }
    }
}

crate::odoo_selection! {
    /// `account.payment.state`. Odoo 18 gave payments their own states (a payment no longer
    /// needs a journal entry); up to 17 the state was the journal entry's.
    pub enum PaymentState {
        /// Draft (`draft`).
        Draft = "draft",
        /// Waiting for the bank (`in_process`, from Odoo 18).
        InProcess = "in_process",
        /// Paid (`paid`, from Odoo 18).
        Paid = "paid",
        /// Cancelled (`canceled`, from Odoo 18).
        Canceled = "canceled",
        /// Rejected by the bank (`rejected`, from Odoo 18).
        Rejected = "rejected",
        /// Posted (`posted`, up to Odoo 17).
        Posted = "posted",
        /// Cancelled (`cancel`, up to Odoo 17).
        Cancel = "cancel",
    }
}

crate::odoo_selection! {
    /// `account.payment.payment_type`: money in or out.
    pub enum PaymentType {
        /// Money received (`inbound`).
        Inbound = "inbound",
        /// Money sent (`outbound`).
        Outbound = "outbound",
    }
}

crate::odoo_selection! {
    /// `account.payment.partner_type`.
    pub enum PaymentPartnerType {
        /// A customer payment (`customer`).
        Customer = "customer",
        /// A vendor payment (`supplier`).
        Supplier = "supplier",
    }
}

/// An `account.payment` record.
///
/// The payment's reference is `memo` from Odoo 18 and `ref` up to 17; both decode into
/// [`Payment::memo`].
///
/// ```
/// use odoo_connect_client::models::{Payment, account::PaymentState};
/// let v19: Payment = serde_json::from_str(
///     r#"{"id": 1, "name": "PBNK1/2026/00001", "state": "paid", "amount": 4259.03,
///         "memo": "INV/2026/00010", "reconciled_invoice_ids": [57]}"#,
/// ).unwrap();
/// assert_eq!(v19.state, Some(PaymentState::Paid));
/// assert_eq!(v19.amount.to_string(), "4259.03");
/// let v17: Payment = serde_json::from_str(
///     r#"{"id": 1, "name": "BNK1/2023/00001", "state": "posted", "amount": 10.5, "ref": "INV/2023/00003"}"#,
/// ).unwrap();
/// assert_eq!(v17.memo.as_deref(), Some("INV/2023/00003"));
/// assert_eq!(v17.state, Some(PaymentState::Posted));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "account.payment")]
#[non_exhaustive]
pub struct Payment {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Number (`PBNK1/2026/00001`).
    #[serde(default, with = "opt")]
    pub name: Option<String>,
    /// Amount, in the payment currency.
    #[serde(default, with = "decimal")]
    pub amount: Decimal,
    /// Payment date.
    #[serde(default, with = "date::option")]
    pub date: Option<NaiveDate>,
    /// Reference, usually the invoice number (`memo` from Odoo 18, `ref` up to 17).
    #[odoo(since = 18, formerly = "ref")]
    #[serde(default, alias = "ref", with = "opt")]
    pub memo: Option<String>,
    /// Status.
    #[serde(default, with = "opt")]
    pub state: Option<PaymentState>,
    /// Money in or out.
    #[serde(default, with = "opt")]
    pub payment_type: Option<PaymentType>,
    /// Customer or vendor payment.
    #[serde(default, with = "opt")]
    pub partner_type: Option<PaymentPartnerType>,
    /// Partner.
    #[serde(default, with = "opt")]
    pub partner_id: Option<Many2one>,
    /// Journal (bank or cash).
    #[serde(default, with = "opt")]
    pub journal_id: Option<Many2one>,
    /// Currency.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Payment method.
    #[serde(default, with = "opt")]
    pub payment_method_line_id: Option<Many2one>,
    /// Whether the payment is fully reconciled with invoices.
    #[serde(default)]
    pub is_reconciled: bool,
    /// Whether the payment is matched with a bank statement line.
    #[serde(default)]
    pub is_matched: bool,
    /// Invoices the payment is reconciled with.
    #[serde(default, deserialize_with = "super::x2many::deserialize")]
    pub reconciled_invoice_ids: Vec<RecordId>,
    /// The payment's journal entry; from Odoo 18 it may have none.
    #[serde(default, with = "opt")]
    pub move_id: Option<Many2one>,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Payment {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero.
    pub fn new(id: RecordId) -> Self {
        Payment {
            id,
            display_name: None,
            name: None,
            amount: Decimal::ZERO,
            date: None,
            memo: None,
            state: None,
            payment_type: None,
            partner_type: None,
            partner_id: None,
            journal_id: None,
            currency_id: None,
            company_id: None,
            payment_method_line_id: None,
            is_reconciled: false,
            is_matched: false,
            reconciled_invoice_ids: Vec::new(),
            move_id: None,
            write_date: None,
        }
    }

    /// Whether the payment is done, whatever the version (`paid` from 18, `posted` up to 17).
    pub fn is_done(&self) -> bool {
        matches!(self.state, Some(PaymentState::Paid | PaymentState::Posted))
    }
}

crate::odoo_selection! {
    /// `account.journal.type`.
    pub enum JournalType {
        /// Sales (`sale`).
        Sale = "sale",
        /// Purchase (`purchase`).
        Purchase = "purchase",
        /// Cash (`cash`).
        Cash = "cash",
        /// Bank (`bank`).
        Bank = "bank",
        /// Credit card (`credit`).
        Credit = "credit",
        /// Miscellaneous (`general`).
        General = "general",
    }
}

/// An `account.journal` record.
///
/// ```
/// use odoo_connect_client::models::{Journal, account::JournalType};
/// let j: Journal = serde_json::from_str(
///     r#"{"id": 6, "name": "Bank", "code": "BNK1", "type": "bank", "company_id": [1, "YourCompany"]}"#,
/// ).unwrap();
/// assert_eq!(j.journal_type, Some(JournalType::Bank));
/// assert_eq!(j.code, "BNK1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[odoo(model = "account.journal")]
#[non_exhaustive]
pub struct Journal {
    /// Record id.
    pub id: RecordId,
    /// Display name.
    #[serde(default, with = "opt")]
    pub display_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Short code (`BNK1`), the prefix of entry numbers.
    #[serde(default)]
    pub code: String,
    /// Type (`type`).
    #[serde(default, rename = "type", with = "opt")]
    pub journal_type: Option<JournalType>,
    /// Company.
    #[serde(default, with = "opt")]
    pub company_id: Option<Many2one>,
    /// Currency, when not the company's.
    #[serde(default, with = "opt")]
    pub currency_id: Option<Many2one>,
    /// Default account (`account.account`).
    #[serde(default, with = "opt")]
    pub default_account_id: Option<Many2one>,
    /// Position in lists.
    #[serde(default)]
    pub sequence: i64,
    /// Whether the journal is active.
    #[serde(default = "super::default_true")]
    pub active: bool,
    /// Last modification (UTC).
    #[serde(default, with = "datetime::option")]
    pub write_date: Option<DateTime<Utc>>,
}

impl Journal {
    /// A record with this id and nothing else, as a `read` that returned only the id decodes
    /// it: the other fields are `None`, empty, `false` or zero, but `active` is `true`.
    pub fn new(id: RecordId) -> Self {
        Journal {
            id,
            display_name: None,
            name: String::new(),
            code: String::new(),
            journal_type: None,
            company_id: None,
            currency_id: None,
            default_account_id: None,
            sequence: 0,
            active: true,
            write_date: None,
        }
    }
}
