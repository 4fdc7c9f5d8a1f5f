//! Contracts: lifecycle, billing lines and milestones.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::currency::Currency;
use super::key::{
    BillingLineId, ChangeOrderKey, ClientKey, ContractKey, ExternalRefs, InvoiceKey,
    LegalEntityKey, MilestoneKey, Role,
};
use super::money::Money;
use super::period::{PeriodAnchor, Recurrence};
use super::schema::SchemaVersion;
use super::validate::{Checker, ProblemCode, impl_validate};

/// Where a contract is in its life.
///
/// ```text
/// Draft ──sign──▶ Signed ──activate──▶ Active ◀──resume── Suspended
///   │               │                    │ └────suspend────▶ │
///   └──close──▶ Closed ◀──close──────────┴───────close───────┘
/// ```
/// A draft or signed contract can be closed without ever being active (abandoned); nothing leaves
/// `Closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContractStatus {
    /// Being negotiated.
    Draft,
    /// Signed by both sides, work not started.
    Signed,
    /// Work under way: the only status in which it is invoiced.
    Active,
    /// Paused (client request, unpaid invoices).
    Suspended,
    /// Finished or abandoned.
    Closed,
}

impl ContractStatus {
    /// Whether a contract in this status may move to `next`.
    pub fn can_become(self, next: ContractStatus) -> bool {
        use ContractStatus::*;
        matches!(
            (self, next),
            (Draft, Signed)
                | (Draft, Closed)
                | (Signed, Active)
                | (Signed, Closed)
                | (Active, Suspended)
                | (Active, Closed)
                | (Suspended, Active)
                | (Suspended, Closed)
        )
    }

    /// Whether work under a contract in this status may be invoiced.
    pub fn is_invoiceable(self) -> bool {
        self == ContractStatus::Active
    }

    /// The status as written in JSON: `"active"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Draft => "draft",
            ContractStatus::Signed => "signed",
            ContractStatus::Active => "active",
            ContractStatus::Suspended => "suspended",
            ContractStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for ContractStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a contract could not change status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The lifecycle has no such step.
    #[error("a {from} contract cannot become {to}")]
    NotAllowed {
        /// The current status.
        from: ContractStatus,
        /// The status asked for.
        to: ContractStatus,
    },
    /// The contract is already in that status.
    #[error("the contract is already {0}")]
    AlreadyIn(ContractStatus),
    /// Signing needs the date of signature: use [`Contract::sign`].
    #[error("a contract becomes signed with its date of signature: use Contract::sign")]
    SignatureDateMissing,
}

/// Whether the client accepted a milestone's deliverable. In JSON: `{"status": "accepted", "on": "2025-03-31"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Acceptance {
    /// Not delivered yet.
    Pending,
    /// Delivered, awaiting the client's acceptance.
    Delivered {
        /// Date of delivery.
        on: NaiveDate,
    },
    /// Accepted by the client: may be invoiced.
    Accepted {
        /// Date of acceptance.
        on: NaiveDate,
    },
    /// Refused by the client; to be reworked and delivered again.
    Rejected {
        /// Date of refusal.
        on: NaiveDate,
        /// The client's reason.
        reason: String,
    },
}

impl Acceptance {
    /// The date of acceptance, if accepted.
    pub fn accepted_on(&self) -> Option<NaiveDate> {
        match self {
            Acceptance::Accepted { on } => Some(*on),
            _ => None,
        }
    }
}

/// A fixed-fee milestone: a deliverable, its price and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Milestone {
    /// Stable canonical key, unique in the contract.
    pub key: MilestoneKey,
    /// Ids in other systems (the Odoo project milestone, the PSA's).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// What is delivered.
    pub name: String,
    /// Its price, in the contract currency.
    pub amount: Money,
    /// When it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// The client's acceptance.
    pub acceptance: Acceptance,
    /// The invoice that billed it, once invoiced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced: Option<InvoiceKey>,
}

impl Milestone {
    /// A pending, not invoiced milestone.
    pub fn new(key: MilestoneKey, name: impl Into<String>, amount: Money) -> Milestone {
        Milestone {
            key,
            refs: ExternalRefs::new(),
            name: name.into(),
            amount,
            due_date: None,
            acceptance: Acceptance::Pending,
            invoiced: None,
        }
    }

    /// Whether an invoice has billed it.
    pub fn is_invoiced(&self) -> bool {
        self.invoiced.is_some()
    }

    pub(crate) fn check(&self, c: &mut Checker, currency: Currency) {
        c.refs(&self.refs);
        c.text("name", &self.name, 256);
        c.positive_money("amount", &self.amount, currency);
        if let Some(d) = self.due_date {
            c.date("due_date", d);
        }
        c.field("acceptance", |c| match &self.acceptance {
            Acceptance::Pending => {}
            Acceptance::Delivered { on } | Acceptance::Accepted { on } => c.date("on", *on),
            Acceptance::Rejected { on, reason } => {
                c.date("on", *on);
                c.text("reason", reason, 1024);
            }
        });
        if self.invoiced.is_some() && self.acceptance.accepted_on().is_none() {
            c.report_at(
                "invoiced",
                ProblemCode::Inconsistent,
                "invoiced but not accepted",
            );
        }
    }
}

/// How a fixed fee is recognised as revenue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FixedFeeRecognition {
    /// Each milestone's amount when the client accepts it.
    #[default]
    OnAcceptance,
    /// The line's value times the percentage of completion reported over time.
    PercentageOfCompletion,
}

/// Fixed-fee work billed milestone by milestone on acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct FixedFeeMilestones {
    /// Id of the line in its contract.
    pub id: BillingLineId,
    /// What the line sells.
    pub description: String,
    /// The milestones, in delivery order.
    pub milestones: Vec<Milestone>,
    /// How the fee is recognised as revenue.
    #[serde(default)]
    pub recognition: FixedFeeRecognition,
}

/// An hourly rate for a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Rate {
    /// The role.
    pub role: Role,
    /// Price of one hour, in the contract currency.
    pub rate: Money,
}

impl Rate {
    /// An hourly rate for a role.
    pub fn new(role: Role, rate: Money) -> Rate {
        Rate { role, rate }
    }
}

/// Time and materials: hours billed at the rate of their role, optionally up to a not-to-exceed cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TimeAndMaterials {
    /// Id of the line in its contract.
    pub id: BillingLineId,
    /// What the line sells.
    pub description: String,
    /// Hourly rate per role; a role appears once.
    pub rate_card: Vec<Rate>,
    /// The most the line may ever invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_to_exceed: Option<Money>,
}

impl TimeAndMaterials {
    /// The hourly rate of `role`.
    pub fn rate_for(&self, role: &Role) -> Option<&Money> {
        self.rate_card
            .iter()
            .find(|r| &r.role == role)
            .map(|r| &r.rate)
    }
}

/// When and by how much a retainer is topped up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct TopUp {
    /// Amount invoiced at each top-up.
    pub amount: Money,
    /// The balance at or below which a top-up is invoiced.
    pub when_balance_below: Money,
}

/// A prepaid retainer: invoiced in advance, then consumed by the work delivered.
///
/// The prepaid total is `amount + topped_up`; the balance is that total less `consumed`. The initial
/// amount is invoiced first; once the balance falls to the top-up threshold a top-up is invoiced
/// (when configured), the caller adding it to `topped_up` once invoiced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Retainer {
    /// Id of the line in its contract.
    pub id: BillingLineId,
    /// What the line sells.
    pub description: String,
    /// The initial prepaid amount.
    pub amount: Money,
    /// Top-ups added since, in total.
    pub topped_up: Money,
    /// Value of the work delivered against the retainer so far.
    pub consumed: Money,
    /// Automatic top-up, if agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_up: Option<TopUp>,
}

impl Retainer {
    /// `amount + topped_up`.
    pub fn prepaid(&self) -> Result<Money, super::MoneyError> {
        self.amount.checked_add(&self.topped_up)
    }

    /// What is left: `amount + topped_up - consumed` (negative when overdrawn).
    pub fn balance(&self) -> Result<Money, super::MoneyError> {
        self.prepaid()?.checked_sub(&self.consumed)
    }
}

/// Expenses re-invoiced to the client at cost plus a markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PassThroughExpenses {
    /// Id of the line in its contract.
    pub id: BillingLineId,
    /// What the line sells.
    pub description: String,
    /// Markup as a fraction: `0.10` adds 10 %; from 0 to 10.
    pub markup: Decimal,
    /// Whether an expense must be approved before it is invoiced.
    pub approval_required: bool,
}

/// A managed service billed every period, in advance, from `start` to `end`.
///
/// `end` is the last day of service, included; a last period cut short by it is billed pro rata of
/// its days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RecurringService {
    /// Id of the line in its contract.
    pub id: BillingLineId,
    /// What the line sells.
    pub description: String,
    /// How often it is billed.
    pub period: Recurrence,
    /// Price of one full period.
    pub amount: Money,
    /// First day of service.
    pub start: NaiveDate,
    /// Last day of service, if agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// Where its periods begin: counted from `start` (the default) or calendar periods, the
    /// first prorated.
    #[serde(default, skip_serializing_if = "is_service_start")]
    pub anchor: PeriodAnchor,
}

fn is_service_start(anchor: &PeriodAnchor) -> bool {
    *anchor == PeriodAnchor::ServiceStart
}

impl RecurringService {
    /// Its service periods, stopping after the one that contains `until` (see
    /// [`anchored_periods`](crate::anchored_periods)).
    pub fn periods(&self, until: NaiveDate) -> impl Iterator<Item = crate::ServicePeriod> + use<> {
        crate::anchored_periods(self.period, self.anchor, self.start, self.end, until)
    }

    /// The same service with periods anchored at `anchor`.
    pub fn anchored(mut self, anchor: PeriodAnchor) -> RecurringService {
        self.anchor = anchor;
        self
    }
}

/// The kind of a billing line, without its terms.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BillingKind {
    /// [`FixedFeeMilestones`].
    FixedFeeMilestones,
    /// [`TimeAndMaterials`].
    TimeAndMaterials,
    /// [`Retainer`].
    Retainer,
    /// [`PassThroughExpenses`].
    PassThroughExpenses,
    /// [`RecurringService`].
    RecurringService,
}

impl fmt::Display for BillingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BillingKind::FixedFeeMilestones => "fixed_fee_milestones",
            BillingKind::TimeAndMaterials => "time_and_materials",
            BillingKind::Retainer => "retainer",
            BillingKind::PassThroughExpenses => "pass_through_expenses",
            BillingKind::RecurringService => "recurring_service",
        })
    }
}

/// One way a contract bills; a contract mixes several. In JSON the terms carry a `kind` field:
/// `{"kind": "time_and_materials", "id": "tm", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BillingLine {
    /// Fixed fee by milestone.
    FixedFeeMilestones(FixedFeeMilestones),
    /// Time and materials.
    TimeAndMaterials(TimeAndMaterials),
    /// Prepaid retainer.
    Retainer(Retainer),
    /// Pass-through expenses.
    PassThroughExpenses(PassThroughExpenses),
    /// Recurring managed service.
    RecurringService(RecurringService),
}

impl BillingLine {
    /// The line's id.
    pub fn id(&self) -> &BillingLineId {
        match self {
            BillingLine::FixedFeeMilestones(l) => &l.id,
            BillingLine::TimeAndMaterials(l) => &l.id,
            BillingLine::Retainer(l) => &l.id,
            BillingLine::PassThroughExpenses(l) => &l.id,
            BillingLine::RecurringService(l) => &l.id,
        }
    }

    /// The line's description.
    pub fn description(&self) -> &str {
        match self {
            BillingLine::FixedFeeMilestones(l) => &l.description,
            BillingLine::TimeAndMaterials(l) => &l.description,
            BillingLine::Retainer(l) => &l.description,
            BillingLine::PassThroughExpenses(l) => &l.description,
            BillingLine::RecurringService(l) => &l.description,
        }
    }

    /// The line's kind.
    pub fn kind(&self) -> BillingKind {
        match self {
            BillingLine::FixedFeeMilestones(_) => BillingKind::FixedFeeMilestones,
            BillingLine::TimeAndMaterials(_) => BillingKind::TimeAndMaterials,
            BillingLine::Retainer(_) => BillingKind::Retainer,
            BillingLine::PassThroughExpenses(_) => BillingKind::PassThroughExpenses,
            BillingLine::RecurringService(_) => BillingKind::RecurringService,
        }
    }

    /// A fixed-fee line with its milestones, recognised on acceptance.
    pub fn fixed_fee(
        id: BillingLineId,
        description: impl Into<String>,
        milestones: Vec<Milestone>,
    ) -> BillingLine {
        BillingLine::FixedFeeMilestones(FixedFeeMilestones {
            id,
            description: description.into(),
            milestones,
            recognition: FixedFeeRecognition::OnAcceptance,
        })
    }

    /// A time-and-materials line.
    pub fn time_and_materials(
        id: BillingLineId,
        description: impl Into<String>,
        rate_card: Vec<Rate>,
        not_to_exceed: Option<Money>,
    ) -> BillingLine {
        BillingLine::TimeAndMaterials(TimeAndMaterials {
            id,
            description: description.into(),
            rate_card,
            not_to_exceed,
        })
    }

    /// A retainer line, nothing consumed or topped up yet.
    pub fn retainer(
        id: BillingLineId,
        description: impl Into<String>,
        amount: Money,
        top_up: Option<TopUp>,
    ) -> BillingLine {
        BillingLine::Retainer(Retainer {
            id,
            description: description.into(),
            amount,
            topped_up: Money::zero(amount.currency),
            consumed: Money::zero(amount.currency),
            top_up,
        })
    }

    /// A pass-through expenses line.
    pub fn pass_through(
        id: BillingLineId,
        description: impl Into<String>,
        markup: Decimal,
        approval_required: bool,
    ) -> BillingLine {
        BillingLine::PassThroughExpenses(PassThroughExpenses {
            id,
            description: description.into(),
            markup,
            approval_required,
        })
    }

    /// A recurring service line.
    pub fn recurring(
        id: BillingLineId,
        description: impl Into<String>,
        period: Recurrence,
        amount: Money,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> BillingLine {
        BillingLine::RecurringService(RecurringService {
            id,
            description: description.into(),
            period,
            amount,
            start,
            end,
            anchor: PeriodAnchor::ServiceStart,
        })
    }

    /// The line's milestones (empty for other kinds).
    pub fn milestones(&self) -> &[Milestone] {
        match self {
            BillingLine::FixedFeeMilestones(l) => &l.milestones,
            _ => &[],
        }
    }

    fn check(&self, c: &mut Checker, contract: &Contract) {
        let currency = contract.currency;
        c.text("description", self.description(), 256);
        match self {
            BillingLine::FixedFeeMilestones(l) => {
                if l.milestones.is_empty() {
                    c.report_at(
                        "milestones",
                        ProblemCode::Required,
                        "needs at least one milestone",
                    );
                }
                c.each("milestones", &l.milestones, |c, m| m.check(c, currency));
            }
            BillingLine::TimeAndMaterials(l) => {
                if l.rate_card.is_empty() {
                    c.report_at(
                        "rate_card",
                        ProblemCode::Required,
                        "needs at least one rate",
                    );
                }
                let mut roles = BTreeSet::new();
                c.each("rate_card", &l.rate_card, |c, r| {
                    if !roles.insert(&r.role) {
                        c.report_at(
                            "role",
                            ProblemCode::Duplicate,
                            format!("role {} appears twice", r.role),
                        );
                    }
                    c.positive_money("rate", &r.rate, currency);
                });
                if let Some(cap) = &l.not_to_exceed {
                    c.positive_money("not_to_exceed", cap, currency);
                }
            }
            BillingLine::Retainer(l) => {
                c.positive_money("amount", &l.amount, currency);
                c.non_negative_money("topped_up", &l.topped_up, currency);
                c.non_negative_money("consumed", &l.consumed, currency);
                if let Some(t) = &l.top_up {
                    c.field("top_up", |c| {
                        c.positive_money("amount", &t.amount, currency);
                        c.non_negative_money("when_balance_below", &t.when_balance_below, currency);
                    });
                }
            }
            BillingLine::PassThroughExpenses(l) => {
                c.decimal_range("markup", l.markup, Decimal::ZERO, Decimal::TEN);
            }
            BillingLine::RecurringService(l) => {
                c.positive_money("amount", &l.amount, currency);
                c.date("start", l.start);
                c.date_order(
                    contract.start_date,
                    "start",
                    l.start,
                    "the contract's start",
                );
                if let Some(end) = l.end {
                    c.date("end", end);
                    c.date_order(l.start, "end", end, "the line's start");
                    if let Some(contract_end) = contract.end_date.filter(|ce| *ce < end) {
                        c.report_at(
                            "end",
                            ProblemCode::DateOrder,
                            format!("{end} is after the contract's end {contract_end}"),
                        );
                    }
                } else if let Some(contract_end) = contract.end_date {
                    c.report_at(
                        "end",
                        ProblemCode::Required,
                        format!("the contract ends on {contract_end}: the service needs an end"),
                    );
                }
            }
        }
    }
}

/// A change order once applied: kept in the contract's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppliedChangeOrder {
    /// The contract version it produced.
    pub version: u32,
    /// The change order's key.
    pub change_order: ChangeOrderKey,
    /// The day it took effect.
    pub effective_date: NaiveDate,
}

/// An engagement with a client: its lifecycle status, its version and its billing lines.
///
/// `version` starts at 1 and each applied [`ChangeOrder`](super::ChangeOrder) raises it by one,
/// recording itself in `amendments`. All amounts are in the contract `currency`.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{BillingLine, Contract, ContractStatus, Currency, Money, Rate, Validate};
/// use rust_decimal::Decimal;
///
/// let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let mut contract = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Audit", Currency::EUR, start);
/// contract.billing_lines.push(BillingLine::time_and_materials(
///     "tm".parse()?, "Advisory", vec![Rate::new("partner".parse()?, Money::new(Decimal::new(400, 0), Currency::EUR))], None,
/// ));
/// contract.sign(start)?;
/// contract.activate()?;
/// assert_eq!(contract.status, ContractStatus::Active);
/// assert!(contract.close().is_ok());
/// assert!(contract.activate().is_err());
/// assert!(contract.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Contract {
    /// Version of this JSON form.
    pub schema_version: SchemaVersion,
    /// Stable canonical key.
    pub key: ContractKey,
    /// Ids in other systems (CRM deal, e-signature envelope, Odoo sale order).
    #[serde(default)]
    pub refs: ExternalRefs,
    /// The client.
    pub client: ClientKey,
    /// The firm's legal entity that signs and bills.
    pub legal_entity: LegalEntityKey,
    /// Title of the engagement.
    pub title: String,
    /// Currency of every amount in the contract.
    pub currency: Currency,
    /// Lifecycle status.
    pub status: ContractStatus,
    /// Date of signature, once signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_on: Option<NaiveDate>,
    /// First day of the engagement.
    pub start_date: NaiveDate,
    /// Last day of the engagement, if agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// Contract version: 1, then one more per change order applied.
    pub version: u32,
    /// The change orders applied, in order.
    #[serde(default)]
    pub amendments: Vec<AppliedChangeOrder>,
    /// How the contract bills.
    pub billing_lines: Vec<BillingLine>,
    /// The commercial value of the deal as the CRM gave it (in the contract's currency), kept for
    /// reporting; `None` when the deal carries no amount (never zero for "unknown").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
}

impl Contract {
    /// A draft contract, version 1, with no billing lines yet.
    pub fn new(
        key: ContractKey,
        client: ClientKey,
        legal_entity: LegalEntityKey,
        title: impl Into<String>,
        currency: Currency,
        start_date: NaiveDate,
    ) -> Contract {
        Contract {
            schema_version: SchemaVersion,
            key,
            refs: ExternalRefs::new(),
            client,
            legal_entity,
            title: title.into(),
            currency,
            status: ContractStatus::Draft,
            signed_on: None,
            start_date,
            end_date: None,
            version: 1,
            amendments: Vec::new(),
            billing_lines: Vec::new(),
            value: None,
        }
    }

    /// The billing line with this id.
    pub fn line(&self, id: &BillingLineId) -> Option<&BillingLine> {
        self.billing_lines.iter().find(|l| l.id() == id)
    }

    /// The billing line with this id, to change it.
    pub fn line_mut(&mut self, id: &BillingLineId) -> Option<&mut BillingLine> {
        self.billing_lines.iter_mut().find(|l| l.id() == id)
    }

    /// The milestone with this key and the id of its line.
    pub fn milestone(&self, key: &MilestoneKey) -> Option<(&BillingLineId, &Milestone)> {
        self.billing_lines.iter().find_map(|l| {
            l.milestones()
                .iter()
                .find(|m| &m.key == key)
                .map(|m| (l.id(), m))
        })
    }

    /// The milestone with this key, to record its acceptance or invoice.
    pub fn milestone_mut(&mut self, key: &MilestoneKey) -> Option<&mut Milestone> {
        self.billing_lines.iter_mut().find_map(|l| match l {
            BillingLine::FixedFeeMilestones(f) => f.milestones.iter_mut().find(|m| &m.key == key),
            _ => None,
        })
    }

    /// Moves the contract to `to`, if the lifecycle allows; returns the previous status.
    /// Signing goes through [`Contract::sign`], which records the date.
    pub fn transition(&mut self, to: ContractStatus) -> Result<ContractStatus, TransitionError> {
        let from = self.status;
        if from == to {
            return Err(TransitionError::AlreadyIn(to));
        }
        if !from.can_become(to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        if to == ContractStatus::Signed && self.signed_on.is_none() {
            return Err(TransitionError::SignatureDateMissing);
        }
        self.status = to;
        Ok(from)
    }

    /// Draft → signed, on the date of signature.
    pub fn sign(&mut self, on: NaiveDate) -> Result<(), TransitionError> {
        let from = self.status;
        if from == ContractStatus::Signed {
            return Err(TransitionError::AlreadyIn(from));
        }
        if !from.can_become(ContractStatus::Signed) {
            return Err(TransitionError::NotAllowed {
                from,
                to: ContractStatus::Signed,
            });
        }
        self.signed_on = Some(on);
        self.status = ContractStatus::Signed;
        Ok(())
    }

    /// Signed (or suspended) → active.
    pub fn activate(&mut self) -> Result<(), TransitionError> {
        self.transition(ContractStatus::Active).map(drop)
    }

    /// Active → suspended.
    pub fn suspend(&mut self) -> Result<(), TransitionError> {
        self.transition(ContractStatus::Suspended).map(drop)
    }

    /// Suspended → active.
    pub fn resume(&mut self) -> Result<(), TransitionError> {
        if self.status != ContractStatus::Suspended {
            return Err(TransitionError::NotAllowed {
                from: self.status,
                to: ContractStatus::Active,
            });
        }
        self.transition(ContractStatus::Active).map(drop)
    }

    /// Any status but closed → closed.
    pub fn close(&mut self) -> Result<(), TransitionError> {
        self.transition(ContractStatus::Closed).map(drop)
    }

    fn check(&self, c: &mut Checker) {
        c.refs(&self.refs);
        c.text("title", &self.title, 256);
        if let Some(value) = &self.value {
            c.non_negative_money("value", value, self.currency);
        }
        c.date("start_date", self.start_date);
        if let Some(end) = self.end_date {
            c.date("end_date", end);
            c.date_order(self.start_date, "end_date", end, "the start");
        }
        match (self.status, self.signed_on) {
            (ContractStatus::Draft, Some(_)) => c.report_at(
                "signed_on",
                ProblemCode::Inconsistent,
                "a draft contract is not signed yet",
            ),
            (ContractStatus::Draft, None) => {}
            (_, None) if self.status != ContractStatus::Closed => c.report_at(
                "signed_on",
                ProblemCode::Required,
                format!("a {} contract has a date of signature", self.status),
            ),
            (_, Some(d)) => c.date("signed_on", d),
            _ => {}
        }
        let expected = u32::try_from(self.amendments.len()).map(|n| n.saturating_add(1));
        if expected != Ok(self.version) {
            c.report_at(
                "version",
                ProblemCode::Inconsistent,
                format!(
                    "version {} does not match {} amendments",
                    self.version,
                    self.amendments.len()
                ),
            );
        }
        let mut previous: Option<NaiveDate> = None;
        let mut keys = BTreeSet::new();
        c.each("amendments", &self.amendments, |c, a| {
            if !keys.insert(&a.change_order) {
                c.report_at(
                    "change_order",
                    ProblemCode::Duplicate,
                    "change order applied twice",
                );
            }
            c.date("effective_date", a.effective_date);
            if let Some(p) = previous {
                c.date_order(
                    p,
                    "effective_date",
                    a.effective_date,
                    "the previous amendment's",
                );
            }
            previous = Some(a.effective_date);
        });
        let in_order = self
            .amendments
            .iter()
            .enumerate()
            .all(|(i, a)| u32::try_from(i).map(|i| i.saturating_add(2)) == Ok(a.version));
        if !in_order {
            c.report_at(
                "amendments",
                ProblemCode::Inconsistent,
                "amendment versions must run 2, 3, ... in order",
            );
        }
        if self.billing_lines.is_empty() && self.status != ContractStatus::Draft {
            c.report_at(
                "billing_lines",
                ProblemCode::Required,
                "a signed contract has billing lines",
            );
        }
        let mut ids = BTreeSet::new();
        let mut milestones = BTreeSet::new();
        c.each("billing_lines", &self.billing_lines, |c, line| {
            if !ids.insert(line.id()) {
                c.report_at(
                    "id",
                    ProblemCode::Duplicate,
                    format!("line id {} appears twice", line.id()),
                );
            }
            line.check(c, self);
            c.each("milestones", line.milestones(), |c, m| {
                if !milestones.insert(&m.key) {
                    c.report_at(
                        "key",
                        ProblemCode::Duplicate,
                        format!("milestone {} appears twice", m.key),
                    );
                }
            });
        });
    }
}

impl_validate!(Contract);
