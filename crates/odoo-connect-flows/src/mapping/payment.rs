//! [`Payment`] ↔ `account.payment`, and its registration against invoices.
//!
//! A payment that settles invoices is made by Odoo's payment wizard, which reconciles it with
//! them: `account.payment.register`, created with the context `active_model: account.move`,
//! `active_ids: [invoices]`, then `action_create_payments` ([`registration`]). A payment that
//! settles nothing yet (an advance) is created directly ([`to_odoo`]).
//!
//! The payment's reference is `memo` from Odoo 18 and `ref` up to 17. Its state is the journal
//! entry's up to 17 (`posted`) and its own from 18 (`in_process`, `paid`); a cancelled or
//! rejected payment is not read back as received.

use rust_decimal::Decimal;
use serde_json::Value;

use odoo_connect_canonical::{Money, Payment, PaymentAllocation, PaymentMethod};
use odoo_connect_client::models::account::{PaymentPartnerType, PaymentState, PaymentType};
use odoo_connect_client::models::{Payment as OdooPayment, PaymentValues};
use odoo_connect_client::{Context, OdooCall, RecordId, ServerVersion, Values};

use super::{
    Mapped, MappingContext, MappingError, UnsupportedField, currency_of, key_or_derived,
    legal_entity_of, other_selection, refs_with_odoo,
};

const MODEL: &str = "account.payment";
const WIZARD: &str = "account.payment.register";

fn common(
    payment: &Payment,
    ctx: &MappingContext,
    unsupported: &mut Vec<UnsupportedField>,
) -> Result<(RecordId, RecordId, Option<RecordId>), MappingError> {
    let currency = ctx.currencies.id(&payment.amount.currency).ok_or_else(|| {
        MappingError::missing_id(
            "amount.currency",
            format!("res.currency {}", payment.amount.currency),
        )
    })?;
    let journal = ctx
        .payment_journal
        .ok_or_else(|| MappingError::missing_id("method", "the account.journal of payments"))?;
    let method = ctx.payment_methods.id(&payment.method);
    if method.is_none() {
        unsupported.push(UnsupportedField::new(
            "method",
            "no account.payment.method.line resolved for the method: the journal's first applies",
        ));
    }
    Ok((currency, journal, method))
}

/// The `account.payment` values of a customer payment, to create it on its own.
///
/// Needs the partner of the client, the company of the legal entity, the currency and the payment
/// journal; the method's payment method line is written when the context has it. Allocations
/// are not values of a payment: they are reported (register the payment against its invoices
/// with [`registration`]).
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Money, Payment, PaymentMethod};
/// use odoo_connect_flows::mapping::{MappingContext, payment};
/// use odoo_connect_client::ServerVersion;
///
/// let p = Payment::new("pay-1".parse()?, "acme".parse()?, "firm".parse()?,
///     Money::from_minor(425_903, Currency::USD), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
///     "INV/2026/00010", PaymentMethod::BankTransfer);
/// let mut ctx = MappingContext::new(ServerVersion::new(17, 0));
/// ctx.clients.insert("acme".parse()?, 15);
/// ctx.companies.insert("firm".parse()?, 1);
/// ctx.currencies.insert(Currency::USD, 1);
/// ctx.payment_journal = Some(6.into());
/// ctx.payment_methods.insert(PaymentMethod::BankTransfer, 1);
/// let v17 = payment::to_odoo(&p, &ctx)?.to_values();
/// assert_eq!(v17.get("ref"), Some(&"INV/2026/00010".into()));
/// let v18 = payment::to_odoo(&p, &ctx.for_version(ServerVersion::new(18, 0)))?.to_values();
/// assert_eq!(v18.get("memo"), Some(&"INV/2026/00010".into()));
/// assert_eq!(v18.get("amount"), Some(&4259.03.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    payment: &Payment,
    ctx: &MappingContext,
) -> Result<Mapped<PaymentValues>, MappingError> {
    let mut unsupported = Vec::new();
    let partner = ctx.clients.id(&payment.client).ok_or_else(|| {
        MappingError::missing_id(
            "client",
            format!("res.partner of client {}", payment.client),
        )
    })?;
    let company = ctx.companies.id(&payment.legal_entity).ok_or_else(|| {
        MappingError::missing_id(
            "legal_entity",
            format!("res.company of legal entity {}", payment.legal_entity),
        )
    })?;
    let (currency, journal, method) = common(payment, ctx, &mut unsupported)?;
    let mut values = PaymentValues::new();
    values.payment_type = Some(PaymentType::Inbound);
    values.partner_type = Some(PaymentPartnerType::Customer);
    values.partner_id = Some(partner);
    values.company_id = Some(company);
    values.amount = Some(payment.amount.amount);
    values.currency_id = Some(currency);
    values.date = Some(payment.date);
    values.memo = Some(payment.reference.clone());
    values.journal_id = Some(journal);
    values.payment_method_line_id = method;
    if !payment.allocations.is_empty() {
        unsupported.push(UnsupportedField::new(
            "allocations",
            "a payment settles invoices when registered against them (account.payment.register)",
        ));
    }
    Ok(Mapped::finish(values, unsupported, &ctx.version))
}

/// A payment registered against its invoices with Odoo's payment wizard.
///
/// Send [`Registration::create_call`], then [`Registration::confirm_call`] with the id it
/// returns; the reply of the second is a window action whose `res_id` is the payment. Before
/// sending, check the invoices are not paid already (the wizard refuses invoices with nothing
/// left to pay).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Registration {
    /// The invoices settled (`account.move`), in the order of the allocations.
    pub invoice_ids: Vec<RecordId>,
    /// The wizard's context: `active_model` `account.move` and `active_ids`.
    pub context: Context,
    /// The wizard's values (`account.payment.register`).
    pub values: Values,
    /// Canonical fields the registration does not hold.
    pub unsupported: Vec<UnsupportedField>,
}

impl Registration {
    /// `account.payment.register.create([values])` in the invoices' context.
    pub fn create_call(&self) -> OdooCall {
        OdooCall::new(WIZARD, "create")
            .arg("vals_list", Value::Array(vec![self.values.clone().into()]))
            .context(self.context.clone())
    }

    /// `account.payment.register.action_create_payments()` on the wizard `wizard`.
    pub fn confirm_call(&self, wizard: RecordId) -> OdooCall {
        OdooCall::new(WIZARD, "action_create_payments")
            .ids([wizard])
            .context(self.context.clone())
    }
}

/// The registration of a payment against the invoices of its allocations.
///
/// Needs the invoice of each allocation, the currency and the payment journal. The wizard takes
/// the whole amount: what the invoices do not take stays open on the customer's account
/// (`payment_difference_handling` `open`). Odoo spreads one payment over several invoices by due
/// date, so the split between allocations is reported when there are several.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Currency, Money, Payment, PaymentAllocation, PaymentMethod};
/// use odoo_connect_flows::mapping::{MappingContext, payment};
/// use odoo_connect_client::{RecordId, ServerVersion};
///
/// let mut p = Payment::new("pay-1".parse()?, "acme".parse()?, "firm".parse()?,
///     Money::from_minor(425_903, Currency::USD), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
///     "INV/2026/00010", PaymentMethod::BankTransfer);
/// p.allocations.push(PaymentAllocation { invoice: "inv-10".parse()?, amount: p.amount });
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.invoices.insert("inv-10".parse()?, 57);
/// ctx.currencies.insert(Currency::USD, 1);
/// ctx.payment_journal = Some(6.into());
/// let r = payment::registration(&p, &ctx)?;
/// assert_eq!(r.context.get("active_ids"), Some(&serde_json::json!([57])));
/// assert_eq!(r.create_call().to_string(), "account.payment.register.create(vals_list)");
/// assert_eq!(r.confirm_call(RecordId(1)).to_string(), "account.payment.register.action_create_payments(ids=[1])");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn registration(payment: &Payment, ctx: &MappingContext) -> Result<Registration, MappingError> {
    let mut unsupported = Vec::new();
    if payment.allocations.is_empty() {
        return Err(MappingError::invalid(
            "allocations",
            "a payment is registered against the invoices it settles: it has none",
        ));
    }
    let invoice_ids = payment
        .allocations
        .iter()
        .enumerate()
        .map(|(i, a)| {
            ctx.invoices.id(&a.invoice).ok_or_else(|| {
                MappingError::missing_id(
                    format!("allocations[{i}].invoice"),
                    format!("account.move of invoice {}", a.invoice),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (currency, journal, method) = common(payment, ctx, &mut unsupported)?;
    let mut values = Values::new()
        .decimal("amount", payment.amount.amount)
        .many2one("currency_id", Some(currency))
        .date("payment_date", payment.date)
        .set("communication", payment.reference.as_str())
        .many2one("journal_id", Some(journal))
        .set("group_payment", true)
        .set("payment_difference_handling", "open");
    if let Some(m) = method {
        values = values.many2one("payment_method_line_id", Some(m));
    }
    if payment.allocations.len() > 1 {
        unsupported.push(UnsupportedField::new(
            "allocations",
            "Odoo spreads one payment over its invoices by due date: the split between them is \
             not held",
        ));
    }
    let ids: Vec<Value> = invoice_ids.iter().map(|id| Value::from(id.get())).collect();
    let context = Context::new()
        .with("active_model", "account.move")
        .with("active_ids", ids);
    unsupported.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Registration {
        invoice_ids,
        context,
        values,
        unsupported,
    })
}

/// Reads a customer payment back from its `account.payment`.
///
/// The allocations are the invoices the payment is reconciled with; with one invoice it takes the
/// whole amount, with several give each invoice's share with [`from_odoo_with_shares`] (Odoo keeps
/// them on the partial reconciliations). The method is the context's for the payment method line,
/// else [`PaymentMethod::Other`].
///
/// ```
/// use odoo_connect_flows::mapping::{MappingContext, payment};
/// use odoo_connect_client::{ServerVersion, models::Payment};
///
/// let p: Payment = serde_json::from_str(
///     r#"{"id": 1, "name": "PBNK1/2026/00001", "state": "paid", "payment_type": "inbound",
///         "partner_type": "customer", "amount": 4259.03, "currency_id": [1, "USD"], "date": "2026-11-23",
///         "partner_id": [15, "Azure Interior"], "company_id": [1, "YourCompany"],
///         "memo": "INV/2026/00010", "reconciled_invoice_ids": [57]}"#,
/// )?;
/// let ctx = MappingContext::new(ServerVersion::new(19, 0));
/// let received = payment::from_odoo(&p, &ctx)?;
/// assert_eq!(received.amount.to_string(), "4259.03 USD");
/// assert_eq!(received.allocations[0].invoice.as_str(), "odoo:account.move:57");
/// assert_eq!(received.reference, "INV/2026/00010");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_odoo(payment: &OdooPayment, ctx: &MappingContext) -> Result<Payment, MappingError> {
    from_odoo_with_shares(payment, &[], ctx)
}

/// [`from_odoo`], with the amount set against each reconciled invoice (`(invoice id, amount)`).
pub fn from_odoo_with_shares(
    payment: &OdooPayment,
    shares: &[(RecordId, Decimal)],
    ctx: &MappingContext,
) -> Result<Payment, MappingError> {
    match &payment.payment_type {
        Some(PaymentType::Inbound) | None => {}
        Some(other) => {
            return Err(MappingError::Unexpected {
                path: format!("{MODEL}.payment_type"),
                found: other.as_str().to_owned(),
                expected: "money received (inbound)".into(),
            });
        }
    }
    match &payment.partner_type {
        Some(PaymentPartnerType::Customer) | None => {}
        Some(other) => {
            return Err(MappingError::Unexpected {
                path: format!("{MODEL}.partner_type"),
                found: other.as_str().to_owned(),
                expected: "a customer payment".into(),
            });
        }
    }
    match &payment.state {
        Some(PaymentState::Cancel | PaymentState::Canceled | PaymentState::Rejected) => {
            return Err(MappingError::Unexpected {
                path: format!("{MODEL}.state"),
                found: payment
                    .state
                    .as_ref()
                    .map(|s| s.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                expected: "a payment that was not cancelled or rejected".into(),
            });
        }
        Some(PaymentState::Other(v)) => return Err(other_selection(MODEL, "state", v)),
        _ => {}
    }
    let key = key_or_derived(&ctx.payments, MODEL, payment.id)?;
    let partner = payment
        .partner_id
        .as_ref()
        .ok_or_else(|| MappingError::missing_field(MODEL, "partner_id"))?;
    let client = key_or_derived(&ctx.clients, "res.partner", partner.id)?;
    let legal_entity = legal_entity_of(payment.company_id.as_ref(), ctx, MODEL)?;
    let currency = currency_of(
        payment.currency_id.as_ref(),
        ctx,
        &format!("{MODEL}.currency_id"),
    )?;
    let date = payment
        .date
        .ok_or_else(|| MappingError::missing_field(MODEL, "date"))?;
    let method = payment
        .payment_method_line_id
        .as_ref()
        .and_then(|m| ctx.payment_methods.key(m.id).copied())
        .unwrap_or(PaymentMethod::Other);
    let invoices = &payment.reconciled_invoice_ids;
    let allocations = invoices
        .iter()
        .map(|id| {
            let amount = match shares.iter().find(|(i, _)| i == id) {
                Some((_, a)) => *a,
                None if invoices.len() == 1 => payment.amount,
                None => {
                    return Err(MappingError::invalid(
                        format!("{MODEL}.reconciled_invoice_ids"),
                        format!(
                            "the payment settles {} invoices: give the share of invoice {id}",
                            invoices.len()
                        ),
                    ));
                }
            };
            Ok(PaymentAllocation {
                invoice: key_or_derived(&ctx.invoices, "account.move", *id)?,
                amount: Money::new(amount, currency),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut canonical = Payment::new(
        key,
        client,
        legal_entity,
        Money::new(payment.amount, currency),
        date,
        payment.memo.clone().unwrap_or_default(),
        method,
    );
    canonical.refs = refs_with_odoo(MODEL, payment.id);
    canonical.allocations = allocations;
    Ok(canonical)
}

/// The `account.payment` field that holds the payer's reference on this version: `memo` from
/// Odoo 18, `ref` up to 17 (to find a payment already registered).
///
/// ```
/// use odoo_connect_client::ServerVersion;
/// use odoo_connect_flows::mapping::payment::memo_field;
/// assert_eq!(memo_field(&ServerVersion::new(19, 0)), "memo");
/// assert_eq!(memo_field(&ServerVersion::new(17, 0)), "ref");
/// ```
pub fn memo_field(version: &ServerVersion) -> &'static str {
    super::fields::payment_memo(version)
}
