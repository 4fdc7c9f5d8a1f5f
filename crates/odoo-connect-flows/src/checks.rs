//! Checks before billing: what must hold before any invoice of a contract is released (by the
//! release of delivered quantities and by a milestone's invoice). A check that fails is a
//! business hold ([`Stop::held`]) with a stable reason and its detail, and nothing is invoiced.
//!
//! What is checked is read from Odoo at the time of billing, on the customer's commercial
//! partner (the company that is invoiced):
//! - the tax id (`res.partner.vat`) for its country (`country_id`), with the check digits of
//!   [`tax_id`](odoo_connect_canonical::rules::tax_id);
//! - the invoice currency (the order's, `sale.order.currency_id`) against the contract's;
//! - the credit status as Odoo's `account` addon computes it for its credit-limit warning
//!   (`account.move._build_credit_warning_message`): `credit` (receivable, what the customer owes
//!   on posted entries) plus `credit_to_invoice` (confirmed orders not invoiced yet) against
//!   `credit_limit` (the partner's own when `use_partner_credit_limit`, else the company's
//!   default); a limit of zero is no limit.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{BookedContract, Flows};
use odoo_connect_canonical::rules::tax_id;
use odoo_connect_client::models::SaleOrder;
use odoo_connect_client::{Many2one, RecordId};
use odoo_connect_sync::step::{StepContext, StepResult, Stop};

/// What is asked of a customer's tax id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TaxIdRule {
    /// Not checked.
    Off,
    /// Checked when the customer has one (for the countries
    /// [`tax_id`](odoo_connect_canonical::rules::tax_id) knows); none is no hold. The default:
    /// CRMs such as HubSpot carry no tax id, so a customer booked from them has none.
    #[default]
    WhenGiven,
    /// Required, and checked.
    Required,
}

/// The checks before billing that run (see [`FlowSettings::billing_checks`](crate::FlowSettings)).
///
/// ```
/// use odoo_connect_flows::{BillingChecks, TaxIdRule};
/// let c = BillingChecks::default();
/// assert_eq!((c.tax_id, c.currency, c.credit_limit), (TaxIdRule::WhenGiven, true, true));
/// assert_eq!(BillingChecks::strict().tax_id, TaxIdRule::Required);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillingChecks {
    /// The customer's tax id.
    pub tax_id: TaxIdRule,
    /// The invoice currency is the contract's.
    pub currency: bool,
    /// The customer's credit limit is not exceeded.
    pub credit_limit: bool,
}

impl Default for BillingChecks {
    fn default() -> Self {
        BillingChecks {
            tax_id: TaxIdRule::WhenGiven,
            currency: true,
            credit_limit: true,
        }
    }
}

impl BillingChecks {
    /// Every check, the tax id required.
    pub fn strict() -> BillingChecks {
        BillingChecks {
            tax_id: TaxIdRule::Required,
            ..BillingChecks::default()
        }
    }

    /// No check.
    pub fn none() -> BillingChecks {
        BillingChecks {
            tax_id: TaxIdRule::Off,
            currency: false,
            credit_limit: false,
        }
    }

    /// With `rule` for the tax id.
    pub fn tax_id(mut self, rule: TaxIdRule) -> BillingChecks {
        self.tax_id = rule;
        self
    }

    /// The holds `standing` calls for, in the order tax id, currency, credit.
    pub fn evaluate(&self, standing: &CustomerStanding) -> Vec<BillingHold> {
        let mut holds = Vec::new();
        let vat = standing
            .vat
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        match (self.tax_id, vat) {
            (TaxIdRule::Off, _) => {}
            (TaxIdRule::Required, None) => holds.push(BillingHold::TaxIdMissing {
                country: standing.country.clone(),
            }),
            (TaxIdRule::WhenGiven, None) => {}
            (_, Some(vat)) => {
                if let Some(country) = standing.country.as_deref()
                    && let Err(e) = tax_id::validate(country, vat)
                {
                    holds.push(BillingHold::TaxIdInvalid {
                        tax_id: vat.to_owned(),
                        country: country.to_owned(),
                        error: e,
                    });
                }
            }
        }
        if self.currency
            && let Some(invoice) = &standing.invoice_currency
            && !invoice.eq_ignore_ascii_case(&standing.contract_currency)
        {
            holds.push(BillingHold::CurrencyMismatch {
                contract: standing.contract_currency.clone(),
                invoice: invoice.clone(),
            });
        }
        if self.credit_limit && standing.credit_limit > Decimal::ZERO {
            let exposure = standing.credit + standing.credit_to_invoice;
            if exposure > standing.credit_limit {
                holds.push(BillingHold::CreditLimitExceeded {
                    credit_limit: standing.credit_limit,
                    credit: standing.credit,
                    credit_to_invoice: standing.credit_to_invoice,
                });
            }
        }
        holds
    }
}

/// What the checks read about a customer and the invoice to release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CustomerStanding {
    /// The tax id (`vat`), as Odoo holds it.
    pub vat: Option<String>,
    /// The customer's country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// The contract's currency (ISO 4217).
    pub contract_currency: String,
    /// The currency the invoice would be in (the order's).
    pub invoice_currency: Option<String>,
    /// What the customer owes on posted entries (`credit`).
    pub credit: Decimal,
    /// Confirmed orders not invoiced yet (`credit_to_invoice`).
    pub credit_to_invoice: Decimal,
    /// The credit limit (`credit_limit`; zero: none).
    pub credit_limit: Decimal,
}

impl CustomerStanding {
    /// A standing for a contract in `contract_currency`, with nothing else known.
    pub fn new(contract_currency: impl Into<String>) -> CustomerStanding {
        CustomerStanding {
            contract_currency: contract_currency.into(),
            ..CustomerStanding::default()
        }
    }
}

/// Why an invoice is not released: a business hold, with a stable [reason](BillingHold::reason)
/// and its [detail](BillingHold::detail).
///
/// ```
/// use odoo_connect_flows::{BillingChecks, CustomerStanding};
/// let mut s = CustomerStanding::new("EUR");
/// s.vat = Some("BE0431150351".into());
/// s.country = Some("BE".into());
/// s.invoice_currency = Some("USD".into());
/// let holds = BillingChecks::default().evaluate(&s);
/// let reasons: Vec<_> = holds.iter().map(|h| h.reason()).collect();
/// assert_eq!(reasons, ["tax_id_invalid", "currency_mismatch"]);
/// assert_eq!(holds[0].detail()["error"], "checksum");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillingHold {
    /// `tax_id_missing`: the customer has no tax id and one is required.
    TaxIdMissing {
        /// The customer's country, when known.
        country: Option<String>,
    },
    /// `tax_id_invalid`: the tax id is not well formed for the customer's country.
    TaxIdInvalid {
        /// The tax id.
        tax_id: String,
        /// The country it was checked for.
        country: String,
        /// What is wrong.
        error: tax_id::TaxIdError,
    },
    /// `currency_mismatch`: the invoice would not be in the contract's currency.
    CurrencyMismatch {
        /// The contract's currency.
        contract: String,
        /// The invoice's.
        invoice: String,
    },
    /// `credit_limit_exceeded`: what the customer owes and has ordered is over its credit limit.
    CreditLimitExceeded {
        /// The limit.
        credit_limit: Decimal,
        /// Owed on posted entries.
        credit: Decimal,
        /// Ordered, not invoiced.
        credit_to_invoice: Decimal,
    },
}

impl BillingHold {
    /// The stable reason (`tax_id_missing`, `tax_id_invalid`, `currency_mismatch`,
    /// `credit_limit_exceeded`).
    pub fn reason(&self) -> &'static str {
        match self {
            BillingHold::TaxIdMissing { .. } => "tax_id_missing",
            BillingHold::TaxIdInvalid { .. } => "tax_id_invalid",
            BillingHold::CurrencyMismatch { .. } => "currency_mismatch",
            BillingHold::CreditLimitExceeded { .. } => "credit_limit_exceeded",
        }
    }

    /// What a person needs to decide, as JSON.
    pub fn detail(&self) -> Value {
        match self {
            BillingHold::TaxIdMissing { country } => json!({"country": country}),
            BillingHold::TaxIdInvalid {
                tax_id,
                country,
                error,
            } => json!({"tax_id": tax_id, "country": country, "error": error.name()}),
            BillingHold::CurrencyMismatch { contract, invoice } => {
                json!({"contract_currency": contract, "invoice_currency": invoice})
            }
            BillingHold::CreditLimitExceeded {
                credit_limit,
                credit,
                credit_to_invoice,
            } => json!({
                "credit_limit": credit_limit.normalize().to_string(),
                "credit": credit.normalize().to_string(),
                "credit_to_invoice": credit_to_invoice.normalize().to_string(),
                "exposure": (*credit + *credit_to_invoice).normalize().to_string(),
            }),
        }
    }

    /// A message for a person.
    pub fn message(&self) -> String {
        match self {
            BillingHold::TaxIdMissing { .. } => "the customer has no tax id".into(),
            BillingHold::TaxIdInvalid {
                tax_id,
                country,
                error,
            } => format!("tax id `{tax_id}` is not valid for {country}: {error}"),
            BillingHold::CurrencyMismatch { contract, invoice } => {
                format!("the invoice would be in {invoice}, the contract is in {contract}")
            }
            BillingHold::CreditLimitExceeded {
                credit_limit,
                credit,
                credit_to_invoice,
            } => format!(
                "the customer owes {credit} and has {credit_to_invoice} ordered to invoice, over its credit limit of {credit_limit}"
            ),
        }
    }
}

/// The customer's commercial partner, as the checks read it.
#[derive(Debug, Clone, Deserialize, odoo_connect_client::Model)]
#[odoo(model = "res.partner")]
struct PartnerStanding {
    #[allow(dead_code)] // a Model reads the id
    id: RecordId,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    vat: Option<String>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    country_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::opt")]
    commercial_partner_id: Option<Many2one>,
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    credit: Option<Decimal>,
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    credit_to_invoice: Option<Decimal>,
    #[serde(default, with = "odoo_connect_client::value::decimal::option")]
    credit_limit: Option<Decimal>,
}

/// `res.country` by its code.
#[derive(Debug, Clone, Deserialize, odoo_connect_client::Model)]
#[odoo(model = "res.country")]
struct Country {
    #[allow(dead_code)] // a Model reads the id
    id: RecordId,
    #[serde(default)]
    code: String,
}

async fn partner(f: &Flows, id: RecordId) -> odoo_connect_client::Result<Option<PartnerStanding>> {
    Ok(f.odoo_for(crate::FlowPath::Release)
        .model::<PartnerStanding>()
        .read([id])
        .fields([
            "vat",
            "country_id",
            "commercial_partner_id",
            "credit",
            "credit_to_invoice",
            "credit_limit",
        ])
        .await?
        .into_iter()
        .next())
}

/// What the checks need, read from Odoo for contract `b`.
async fn standing(f: &Flows, b: &BookedContract) -> odoo_connect_client::Result<CustomerStanding> {
    let odoo = f.odoo_for(crate::FlowPath::Release);
    let mut s = CustomerStanding::new(b.contract.currency.to_string());
    let order: Vec<SaleOrder> = odoo
        .model::<SaleOrder>()
        .read([b.order_id])
        .fields(["currency_id", "partner_invoice_id"])
        .await?;
    let order = order.into_iter().next();
    s.invoice_currency = order
        .as_ref()
        .and_then(|o| o.currency_id.as_ref())
        .and_then(|c| c.name.clone());
    let invoiced = order
        .as_ref()
        .and_then(|o| o.partner_invoice_id.as_ref())
        .map_or(b.partner_id, |p| p.id);
    let Some(mut p) = partner(f, invoiced).await? else {
        return Ok(s);
    };
    if let Some(c) = p.commercial_partner_id.as_ref().map(|c| c.id)
        && c != invoiced
        && let Some(commercial) = partner(f, c).await?
    {
        p = commercial;
    }
    s.vat = p.vat;
    s.credit = p.credit.unwrap_or_default();
    s.credit_to_invoice = p.credit_to_invoice.unwrap_or_default();
    s.credit_limit = p.credit_limit.unwrap_or_default();
    if let Some(country) = p.country_id {
        let c: Vec<Country> = odoo
            .model::<Country>()
            .read([country.id])
            .fields(["code"])
            .await?;
        s.country = c
            .into_iter()
            .next()
            .map(|c| c.code)
            .filter(|c| !c.is_empty());
    }
    Ok(s)
}

/// Runs the checks before billing of the flows' settings for contract `b`: the first failing
/// check is a business hold, its reason `<reason>: <message>`, its detail the hold's with the
/// contract and every other failing check.
pub(super) async fn before_billing(f: &Flows, _cx: &StepContext, b: &BookedContract) -> StepResult {
    let checks = f.inner.settings.billing_checks;
    if checks == BillingChecks::none() {
        return Ok(());
    }
    let s = standing(f, b).await?;
    let holds = checks.evaluate(&s);
    let Some(first) = holds.first() else {
        return Ok(());
    };
    let mut detail = first.detail();
    detail["contract"] = json!(b.contract.key.as_str());
    detail["order"] = json!(b.order_name);
    detail["checks_failed"] = json!(holds.iter().map(BillingHold::reason).collect::<Vec<_>>());
    Err(Stop::held(
        format!("{}: {}", first.reason(), first.message()),
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing() -> CustomerStanding {
        let mut s = CustomerStanding::new("EUR");
        s.invoice_currency = Some("EUR".into());
        s.country = Some("BE".into());
        s
    }

    #[test]
    fn a_customer_in_good_standing_passes_every_check() {
        let mut s = standing();
        s.vat = Some("BE0403019261".into());
        s.credit = Decimal::new(5000, 0);
        s.credit_limit = Decimal::new(10000, 0);
        assert!(BillingChecks::strict().evaluate(&s).is_empty());
    }

    #[test]
    fn each_failed_check_is_a_hold_with_its_reason() {
        let s = standing();
        assert!(BillingChecks::default().evaluate(&s).is_empty());
        let holds = BillingChecks::strict().evaluate(&s);
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].reason(), "tax_id_missing");

        let mut s = standing();
        s.vat = Some("BE 0431.150.351".into());
        let holds = BillingChecks::default().evaluate(&s);
        assert_eq!(holds[0].reason(), "tax_id_invalid");
        assert_eq!(holds[0].detail()["error"], "checksum");

        let mut s = standing();
        s.invoice_currency = Some("USD".into());
        assert_eq!(
            BillingChecks::default().evaluate(&s)[0].reason(),
            "currency_mismatch"
        );

        let mut s = standing();
        s.credit = Decimal::new(8000, 0);
        s.credit_to_invoice = Decimal::new(4000, 0);
        s.credit_limit = Decimal::new(10000, 0);
        let holds = BillingChecks::default().evaluate(&s);
        assert_eq!(holds[0].reason(), "credit_limit_exceeded");
        assert_eq!(holds[0].detail()["exposure"], "12000");
        // No limit set: no hold; checks off: none.
        s.credit_limit = Decimal::ZERO;
        assert!(BillingChecks::default().evaluate(&s).is_empty());
        s.credit_limit = Decimal::ONE;
        assert!(BillingChecks::none().evaluate(&s).is_empty());
    }
}
