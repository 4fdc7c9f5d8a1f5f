//! The contract-to-cash flows, ready to run: pipeline steps built from the [`sync`](odoo_connect_sync)
//! primitives, for a firm that sells professional services from a CRM and bills them from Odoo.
//!
//! | flow | message | steps | what happens in Odoo |
//! |---|---|---|---|
//! | signed contract | [`FlowMessage::SignedContract`] | `contract.signed`, then `deal.client`, `deal.contract`, `deal.project` when it books | the contract already booked from the envelope's CRM deal is found and the signature linked to it (audited `contract_signed`); a signature that names only the CRM deal ([`ContractSignature`](odoo_connect_connectors::ContractSignature)) and finds no booking is booked from the CRM record read through a [`CrmLookup`] ([`Flows::with_crm_lookup`]), by the lead-to-project steps; no lookup for its CRM, or a deal the CRM does not have or that is not won: a business hold |
//! | lead to project | [`FlowMessage::WonDeal`] | `deal.client`, `deal.contract`, `deal.project` | the client (`res.partner`), the contract (`sale.order` with a service line per part of each billing line, confirmed: Odoo's `sale_project` makes the project, a milestone per milestone line and a task per role), the project and milestones found (made only where Odoo did not) |
//! | time to invoice | [`FlowMessage::ApprovedTime`] | `time.timesheet` | a timesheet (`account.analytic.line`) per approved entry on the order line of its role, only within the contract's caps (Odoo's `sale_timesheet` delivers it on the order); time over a cap is recorded unbilled and held (`cap_reached`) |
//! | release | [`FlowMessage::ReleaseInvoices`] | `invoice.release` | after the checks before billing, the order's delivered, uninvoiced quantities invoiced with Odoo's own wizard (`sale.advance.payment.inv`), and posted |
//! | milestone | [`FlowMessage::MilestoneReached`] | `milestone.reach`, `milestone.invoice` | an accepted milestone ticked reached (`project.milestone.is_reached`, which makes Odoo's `sale_project` deliver its order line), then, after the checks before billing, that line alone invoiced (an `account.move` linked to it through `sale_line_ids`) and posted; a milestone awaiting acceptance, or refused, is held |
//! | recurring fee | [`FlowMessage::RecurringFee`] | `recurring.invoice` | one period of a recurring service (`ordered_prepaid` line ordered for its periods) invoiced alone, after the checks before billing: an `account.move` linked to the order line through `sale_line_ids`, its share of a period as quantity and the period in the line's name, posted; [`Flows::recurring_due`] gives the periods due and not invoiced |
//! | retainer | [`FlowMessage::RetainerInvoice`], then [`FlowMessage::ApprovedTime`] | `retainer.invoice`, `time.timesheet` | the prepaid amount (an `ordered_prepaid` line, 1 × the amount) invoiced up front alone and posted, once; approved time booked to the retainer drawn against it as timesheets on that line (valued at the role's rate), what is left read back by [`Flows::retainer_balance`]; a draw below the top-up threshold audited `retainer_low`, time past the balance recorded on no order line and held (`retainer_exhausted`) |
//! | invoice to cash | [`FlowMessage::Payment`] | `cash.register`, `cash.write-back` | the payment registered against its invoices (`account.payment.register`), and its status written back to the CRM deal through a [`Sink`] |
//! | Odoo to CRM | [`FlowMessage::OdooChange`] | `odoo.write-back` | nothing: a change made in Odoo (an invoice posted, cancelled or reversed, a payment registered or cancelled, by whoever made it), read by [`odoo_source::OdooChanges`], has its invoice or payment status written to the CRM deal of its contract |
//!
//! Every effect is idempotent: creations go through [`create_once`](odoo_connect_sync::effect::create_once)
//! (an external id per effect, so a lost reply or a replay never creates twice) and state changes
//! (confirming an order, posting an invoice, registering a payment) through
//! [`ensure`](odoo_connect_sync::effect::ensure), which reads the target first. Every message of a deal
//! carries the deal's correlation id ([`correlation_for`]), so
//! [`Pipeline::trace`](odoo_connect_sync::pipeline::Pipeline::trace) shows its whole path.
//!
//! The flows share one [`Flows`] value: the Odoo client of each path ([`FlowCredentials`]: an
//! Odoo user per [`FlowPath`], booking, time, release and cash, with the duties a [`DutyPolicy`]
//! keeps apart; see `docs/security.md` for the groups each needs), the ids resolved once (company,
//! currencies, countries, service products, units, bank journal, employees) and the
//! [`ContractBook`] of contracts booked, which time and payments are matched against. One
//! pipeline runs all of them: each step passes the messages of other flows through.
//!
//! ```
//! use odoo_connect_flows::{FlowMessage, correlation_for};
//! let id = correlation_for(&"hubspot-deal-1001".parse()?);
//! assert_eq!(id.as_str(), "deal:hubspot-deal-1001");
//! let msg: FlowMessage = serde_json::from_value(serde_json::json!({
//!     "flow": "release_invoices", "contract": "hubspot-deal-1001"
//! }))?;
//! assert_eq!(msg.flow_name(), "release_invoices");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod mapping;
pub mod odoo_source;

mod cash;
mod checks;
mod deal;
mod milestone;
mod odoo_ids;
mod paths;
mod recurring;
mod retainer;
mod setup;
mod time;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::mapping::{MappingContext, SaleLineRef};
use odoo_connect_canonical::{
    ContractKey, ExternalRef, LegalEntityKey, Payment, ProjectKey, TimeEntry,
};
use odoo_connect_client::{OdooClient, RecordId};
#[cfg(feature = "esign-webhook")]
use odoo_connect_connectors::{Change, Deliver, DeliverError, Delivered};
use odoo_connect_connectors::{CrmLookup, Sink};
use odoo_connect_sync::effect::{BatchOptions, BatchedCreate};
use odoo_connect_sync::envelope::MessageId;
use odoo_connect_sync::envelope::{
    CorrelationId, Effect, Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope, Lane, Subject,
};
use odoo_connect_sync::pipeline::{Pipeline, PipelineBuilder};
use odoo_connect_sync::step::{Step, StepContext, StepResult, Stop};
use odoo_connect_sync::store::{FactKind, FactSubject, FactsExt, StateStore, StoreError};

pub use checks::{BillingChecks, BillingHold, CustomerStanding, TaxIdRule};
pub use deal::{WonDeal, won_deals};
pub use milestone::{MilestoneMarked, MilestoneOrigin, MilestoneReached};
pub use odoo_ids::FlowSettings;
pub use paths::{DutyPolicy, DutyViolation, FlowCredentials, FlowPath, PathClient};
pub use recurring::RecurringPeriod;
pub use retainer::RetainerBalance;
pub use setup::{
    PlanAction, PlanItem, ProductSource, REQUIRED_MODULES, SETUP_MODULE, Setup, SetupPlan,
};

/// What can go wrong setting the flows up or building their messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// Odoo could not be read.
    #[error("Odoo could not be read")]
    Odoo(#[from] odoo_connect_client::Error),
    /// A message could not be built.
    #[error("a message could not be built")]
    Envelope(#[from] odoo_connect_sync::envelope::EnvelopeError),
    /// The state store failed.
    #[error("the state store failed")]
    Store(#[from] odoo_connect_sync::store::StoreError),
    /// Odoo lacks something the flows need (a company, a product), or refused what the setup
    /// made; the cause, when there is one, is the source.
    #[error("setup: {what}")]
    Setup {
        /// What is missing or failed.
        what: String,
        /// Why, when another error said.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// [`Setup::apply`] found modules missing or things to fix by hand; nothing was changed.
    #[error("Odoo is not ready for the flows:\n{0}")]
    NotReady(Box<SetupPlan>),
    /// Two paths the [`DutyPolicy`] keeps apart share an Odoo user: the flows did not start.
    #[error(transparent)]
    SharedCredential(#[from] DutyViolation),
}

impl FlowError {
    /// A [`FlowError::Setup`] with no other cause.
    pub fn setup(what: impl Into<String>) -> Self {
        FlowError::Setup {
            what: what.into(),
            source: None,
        }
    }

    /// A [`FlowError::Setup`] caused by `source`.
    pub fn setup_caused_by(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        FlowError::Setup {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

/// One message of the flows, as it travels in the queue (`{"flow": "...", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FlowMessage {
    /// A closed-won deal to book as client, contract and project.
    WonDeal {
        /// The deal.
        deal: Box<WonDeal>,
    },
    /// An approved time entry to record and invoice within the contract's caps.
    ApprovedTime {
        /// The entry.
        entry: Box<TimeEntry>,
    },
    /// Post the draft invoices of a contract.
    ReleaseInvoices {
        /// The contract.
        contract: ContractKey,
    },
    /// A milestone of a contract reached, delivered or accepted ([`Flows::milestone_envelope`];
    /// [`Flows::reached_milestones`] reads those reached in Odoo).
    MilestoneReached {
        /// The milestone and where it stands.
        milestone: Box<MilestoneReached>,
    },
    /// One period of a recurring service to invoice, once ([`Flows::recurring_due`] gives the
    /// periods due, [`Flows::recurring_envelope`] their messages).
    RecurringFee {
        /// The period.
        period: Box<RecurringPeriod>,
    },
    /// The prepaid amount of a retainer to invoice up front, once
    /// ([`Flows::retainer_envelope`]).
    RetainerInvoice {
        /// The contract.
        contract: ContractKey,
        /// The retainer line.
        line: odoo_connect_canonical::BillingLineId,
    },
    /// A payment received, allocated to invoices.
    Payment {
        /// The payment.
        payment: Box<Payment>,
    },
    /// A contract signed, as the e-signature webhook delivered it ([`QueueDeliver`] queues it).
    /// `contract.signed` links it to the contract booked from its CRM deal; a signature that
    /// names only the CRM deal ([`Record::Signature`](odoo_connect_connectors::Record::Signature))
    /// and finds no booking is booked from the CRM record ([`Flows::with_crm_lookup`]) or held.
    /// A full contract not booked yet passes through (the CRM's won deal books it).
    SignedContract {
        /// The change the receiver read.
        change: Box<odoo_connect_connectors::Change>,
    },
    /// A change made in Odoo (by a person or another program), read by
    /// [`odoo_source::OdooChanges`]: its status goes to the CRM deal of its contract.
    OdooChange {
        /// The change.
        change: Box<odoo_source::OdooChange>,
    },
    /// A record a source could not turn into a change, parked for a person by
    /// [`Flows::park_rejected`]: corrected, it is read again from its source.
    Rejected {
        /// The system it came from.
        source: String,
        /// Where it is in that system's data (a line, a record, a field).
        location: String,
        /// Why it was set aside.
        reason: String,
        /// The record as the system sent it.
        raw: String,
    },
}

impl FlowMessage {
    /// The flow's name, as in the JSON tag.
    pub fn flow_name(&self) -> &'static str {
        match self {
            FlowMessage::WonDeal { .. } => "won_deal",
            FlowMessage::ApprovedTime { .. } => "approved_time",
            FlowMessage::ReleaseInvoices { .. } => "release_invoices",
            FlowMessage::MilestoneReached { .. } => "milestone_reached",
            FlowMessage::RecurringFee { .. } => "recurring_fee",
            FlowMessage::RetainerInvoice { .. } => "retainer_invoice",
            FlowMessage::Payment { .. } => "payment",
            FlowMessage::SignedContract { .. } => "signed_contract",
            FlowMessage::OdooChange { .. } => "odoo_change",
            FlowMessage::Rejected { .. } => "rejected",
        }
    }
}

/// The effects of the flows' messages, the last part of their idempotency keys.
const LEAD_TO_PROJECT: Effect = Effect::new("lead-to-project");
const BILL: Effect = Effect::new("bill");
const RELEASE: Effect = Effect::new("release");
const MILESTONE: Effect = Effect::new("milestone");
const RECUR: Effect = Effect::new("recurring");
const PREPAY: Effect = Effect::new("prepay");
const REGISTER: Effect = Effect::new("register");
const READ: Effect = Effect::new("read");

/// The audit events of the flows (beside the pipeline's own, such as each step's outcome and
/// each effect applied), stored as [`AuditKind::Other`](odoo_connect_sync::store::AuditKind::Other)
/// with their [`name`](FlowEvent::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlowEvent {
    /// A won deal's sale order was confirmed.
    ContractConfirmed,
    /// A won deal's project and milestones are in Odoo.
    ProjectReady,
    /// A contract's invoices were posted.
    InvoicesReleased,
    /// A milestone's invoice was made and posted.
    MilestoneInvoiced,
    /// A period of a recurring service was invoiced and posted.
    RecurringInvoiced,
    /// A retainer's prepaid amount was invoiced and posted.
    RetainerInvoiced,
    /// Time drawn against a retainer took its balance to or below its top-up threshold.
    RetainerLow,
    /// A payment was registered against its invoices.
    PaymentRegistered,
    /// A payment's status was written back to the CRM.
    CrmUpdated,
    /// A pushed event was set aside (a business hold, or values that cannot be read).
    EventRejected,
    /// A change made in Odoo was read (an invoice posted, cancelled or paid, a payment
    /// registered or cancelled) and its status written to the CRM deal when it has one.
    OdooChanged,
    /// A pushed event was delivered again (a sender's retry or a republished failure) and the
    /// queue already held it: acknowledged, nothing queued.
    EventReplayed,
    /// A signed contract was linked to its booking, or booked from its CRM deal.
    ContractSigned,
}

impl FlowEvent {
    /// Every event.
    pub const ALL: &'static [FlowEvent] = &[
        FlowEvent::ContractConfirmed,
        FlowEvent::ProjectReady,
        FlowEvent::InvoicesReleased,
        FlowEvent::MilestoneInvoiced,
        FlowEvent::RecurringInvoiced,
        FlowEvent::RetainerInvoiced,
        FlowEvent::RetainerLow,
        FlowEvent::PaymentRegistered,
        FlowEvent::CrmUpdated,
        FlowEvent::EventRejected,
        FlowEvent::OdooChanged,
        FlowEvent::EventReplayed,
        FlowEvent::ContractSigned,
    ];

    /// The stored name (`contract_confirmed`).
    pub fn name(self) -> &'static str {
        match self {
            FlowEvent::ContractConfirmed => "contract_confirmed",
            FlowEvent::ProjectReady => "project_ready",
            FlowEvent::InvoicesReleased => "invoices_released",
            FlowEvent::MilestoneInvoiced => "milestone_invoiced",
            FlowEvent::RecurringInvoiced => "recurring_invoiced",
            FlowEvent::RetainerInvoiced => "retainer_invoiced",
            FlowEvent::RetainerLow => "retainer_low",
            FlowEvent::PaymentRegistered => "payment_registered",
            FlowEvent::CrmUpdated => "crm_updated",
            FlowEvent::EventRejected => "event_rejected",
            FlowEvent::OdooChanged => "odoo_changed",
            FlowEvent::EventReplayed => "event_replayed",
            FlowEvent::ContractSigned => "contract_signed",
        }
    }

    /// The flow event an audit kind stands for, if any.
    ///
    /// ```
    /// use odoo_connect_flows::FlowEvent;
    /// use odoo_connect_sync::store::AuditKind;
    /// let kind = AuditKind::from(FlowEvent::ProjectReady);
    /// assert_eq!(kind.as_str(), "project_ready");
    /// assert_eq!(FlowEvent::of(&AuditKind::parse("project_ready")), Some(FlowEvent::ProjectReady));
    /// assert_eq!(FlowEvent::of(&AuditKind::StepOutcome), None);
    /// ```
    pub fn of(kind: &odoo_connect_sync::store::AuditKind) -> Option<FlowEvent> {
        FlowEvent::ALL
            .iter()
            .copied()
            .find(|e| e.name() == kind.as_str())
    }
}

impl From<FlowEvent> for odoo_connect_sync::store::AuditKind {
    fn from(event: FlowEvent) -> Self {
        odoo_connect_sync::store::AuditKind::Other(event.name().to_owned())
    }
}

/// One step of the flows, by identity: a value of this type cannot be misspelt, and every step
/// has exactly one body (see [`Flows::step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FlowStep {
    /// `contract.signed`: a signed contract linked to its booking, or booked from its CRM deal
    /// (by the `deal.*` steps that follow).
    ContractSigned,
    /// `deal.client`: the customer (`res.partner`) of a won deal.
    DealClient,
    /// `deal.contract`: the confirmed sale order of a won deal.
    DealContract,
    /// `deal.project`: the project and milestones of a won deal.
    DealProject,
    /// `time.timesheet`: a timesheet line per approved entry, within the contract's caps.
    TimeTimesheet,
    /// `invoice.release`: the contract's delivered, uninvoiced quantities invoiced and posted.
    InvoiceRelease,
    /// `milestone.reach`: an accepted milestone reached in Odoo (awaiting acceptance or refused:
    /// held).
    MilestoneReach,
    /// `milestone.invoice`: the reached milestone's order line invoiced alone, and posted.
    MilestoneInvoice,
    /// `recurring.invoice`: one period of a recurring service invoiced alone, and posted.
    RecurringInvoice,
    /// `retainer.invoice`: a retainer's prepaid amount invoiced alone, and posted.
    RetainerInvoice,
    /// `cash.register`: a payment registered against its invoices.
    CashRegister,
    /// `cash.write-back`: the payment's status written back to the CRM deal.
    CashWriteBack,
    /// `odoo.write-back`: a change made in Odoo written to the CRM deal of its contract.
    OdooWriteBack,
}

impl FlowStep {
    /// Every step of every flow, in the order a pipeline runs them.
    pub const ALL: &'static [FlowStep] = &[
        FlowStep::ContractSigned,
        FlowStep::DealClient,
        FlowStep::DealContract,
        FlowStep::DealProject,
        FlowStep::TimeTimesheet,
        FlowStep::InvoiceRelease,
        FlowStep::MilestoneReach,
        FlowStep::MilestoneInvoice,
        FlowStep::RecurringInvoice,
        FlowStep::RetainerInvoice,
        FlowStep::CashRegister,
        FlowStep::CashWriteBack,
        FlowStep::OdooWriteBack,
    ];

    /// The step's name in traces, metrics and the audit trail (`deal.client`).
    pub fn name(self) -> &'static str {
        match self {
            FlowStep::ContractSigned => "contract.signed",
            FlowStep::DealClient => "deal.client",
            FlowStep::DealContract => "deal.contract",
            FlowStep::DealProject => "deal.project",
            FlowStep::TimeTimesheet => "time.timesheet",
            FlowStep::InvoiceRelease => "invoice.release",
            FlowStep::MilestoneReach => "milestone.reach",
            FlowStep::MilestoneInvoice => "milestone.invoice",
            FlowStep::RecurringInvoice => "recurring.invoice",
            FlowStep::RetainerInvoice => "retainer.invoice",
            FlowStep::CashRegister => "cash.register",
            FlowStep::CashWriteBack => "cash.write-back",
            FlowStep::OdooWriteBack => "odoo.write-back",
        }
    }
}

impl std::fmt::Display for FlowStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The correlation id of every message that follows the deal of `contract`.
pub fn correlation_for(contract: &ContractKey) -> CorrelationId {
    CorrelationId::new(format!("deal:{}", contract.as_str()))
        .unwrap_or_else(|_| CorrelationId::random())
}

/// A contract booked in Odoo, with what the other flows need to find it.
///
/// The lead-to-project flow records it in the state store's facts too (kind `booking`, by
/// contract, project and sale order number), so that any worker (another process of a
/// PostgreSQL deployment, or this one after a restart) finds it, however long after: facts are
/// never purged by retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BookedContract {
    /// The contract as booked (signed, active, with its billing lines and caps).
    pub contract: odoo_connect_canonical::Contract,
    /// The project that delivers it.
    pub project: ProjectKey,
    /// The deal in the CRM the status goes back to.
    pub crm: Option<ExternalRef>,
    /// The customer (`res.partner`).
    pub partner_id: RecordId,
    /// The sale order.
    pub order_id: RecordId,
    /// The sale order's number (`S00042`): its invoices' `invoice_origin`.
    #[serde(default)]
    pub order_name: String,
    /// The project (`project.project`).
    pub project_id: RecordId,
    /// The order lines and what each sells.
    pub sale_lines: Vec<(SaleLineRef, RecordId)>,
    /// The tasks Odoo made for order lines (time and materials roles), by what the line sells.
    #[serde(default)]
    pub tasks: Vec<(SaleLineRef, RecordId)>,
}

/// What the `deal.client` step hands to the steps after it (in the step
/// [`State`](odoo_connect_sync::step::State), read by type): the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientBooked {
    /// The customer (`res.partner`).
    pub partner_id: RecordId,
}

/// What `deal.contract` hands on: the confirmed sale order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderBooked {
    /// The sale order.
    pub order_id: RecordId,
}

/// What `time.timesheet` hands on: the timesheets recorded for the entry (billed, then unbilled).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TimesheetsRecorded {
    /// The timesheets (`account.analytic.line`).
    pub ids: Vec<RecordId>,
}

/// What `cash.register` hands on: the payment registered and the contracts it pays, which
/// `cash.write-back` reports to the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentRegistered {
    /// The payment (`account.payment`), when this message registered or found one.
    pub payment_id: Option<RecordId>,
    /// The invoices were paid already (by someone else) and no payment was registered.
    pub already_paid: bool,
    /// The contracts whose invoices it pays.
    pub contracts: Vec<ContractKey>,
}

impl odoo_connect_sync::store::Fact for BookedContract {
    /// `booking`: one per contract, found by its contract, its project and its sale order.
    const KIND: FactKind = FactKind::named("booking");
}

/// The subject of a booking by its contract.
fn contract_subject(contract: &ContractKey) -> Result<FactSubject, StoreError> {
    FactSubject::for_record("contract", contract.as_str())
}

/// The subject of a booking by its project.
fn project_subject(project: &ProjectKey) -> Result<FactSubject, StoreError> {
    FactSubject::for_record("project", project.as_str())
}

/// The subject of a booking by the CRM deal it was booked from (`hubspot` / `2002`).
fn crm_subject(crm: &ExternalRef) -> Result<FactSubject, StoreError> {
    FactSubject::for_record("crm_deal", &format!("{}/{}", crm.system, crm.id))
}

/// The subject of a booking by its sale order's number (an invoice's `invoice_origin`).
fn order_subject(order_name: &str) -> Result<FactSubject, StoreError> {
    FactSubject::for_record("sale_order", order_name)
}

/// Records `booked` as a fact of the step's state store, under its contract, with its project,
/// its sale order number and its CRM deal as aliases (once: a later booking of the same contract
/// keeps the first record). Facts are never purged, so time and payments find the booking however late
/// they come.
pub(crate) async fn remember(cx: &StepContext, booked: &BookedContract) -> StepResult {
    let subject = contract_subject(&booked.contract.key)?;
    let mut aliases = vec![project_subject(&booked.project)?];
    if !booked.order_name.is_empty() {
        aliases.push(order_subject(&booked.order_name)?);
    }
    if let Some(crm) = &booked.crm {
        aliases.push(crm_subject(crm)?);
    }
    cx.facts().remember(&subject, &aliases, booked).await?;
    Ok(())
}

/// A booked contract by contract key or by project, from this process's book or, when another
/// worker booked it, from the facts (then kept in the book).
pub(crate) async fn recall(
    f: &Flows,
    cx: &StepContext,
    contract: Option<&ContractKey>,
    project: Option<&ProjectKey>,
) -> StepResult<Option<BookedContract>> {
    if let Some(b) = contract.and_then(|c| f.inner.book.get(c)) {
        return Ok(Some(b));
    }
    if let Some(b) = project.and_then(|p| f.inner.book.by_project(p)) {
        return Ok(Some(b));
    }
    // A key that cannot be a subject names no booking.
    let subjects = [
        contract.and_then(|c| contract_subject(c).ok()),
        project.and_then(|p| project_subject(p).ok()),
    ];
    if let Some(b) = recall_from_facts(f, cx, subjects.into_iter().flatten()).await? {
        return Ok(Some(b));
    }
    let legacy = [
        contract.map(|c| ("contract", c.as_str())),
        project.map(|p| ("project", p.as_str())),
    ];
    recall_from_legacy_ledger(f, cx, legacy.into_iter().flatten()).await
}

/// A booked contract by the CRM deal it was booked from, from this process's book or the facts.
pub(crate) async fn recall_by_crm(
    f: &Flows,
    cx: &StepContext,
    crm: &ExternalRef,
) -> StepResult<Option<BookedContract>> {
    if let Some(b) = f.inner.book.by_crm(crm) {
        return Ok(Some(b));
    }
    recall_from_facts(f, cx, crm_subject(crm).ok()).await
}

/// A booked contract by its sale order's number (an invoice's `invoice_origin`), from this
/// process's book or the facts.
pub(crate) async fn recall_by_order(
    f: &Flows,
    cx: &StepContext,
    order_name: &str,
) -> StepResult<Option<BookedContract>> {
    if let Some(b) = f.inner.book.by_order_name(order_name) {
        return Ok(Some(b));
    }
    if let Some(b) = recall_from_facts(f, cx, order_subject(order_name).ok()).await? {
        return Ok(Some(b));
    }
    recall_from_legacy_ledger(f, cx, [("sale_order", order_name)]).await
}

async fn recall_from_facts(
    f: &Flows,
    cx: &StepContext,
    subjects: impl IntoIterator<Item = FactSubject>,
) -> StepResult<Option<BookedContract>> {
    for subject in subjects {
        if let Some(b) = cx.facts().recall::<BookedContract>(&subject).await? {
            f.inner.book.insert(b.clone());
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// A booking recorded by a release before facts, as a done ledger entry keyed
/// `<entity>:<id>:booked:remember`, until retention purges it: recorded as a fact when found, so
/// that it outlives that entry. Read only; nothing writes these keys any more.
async fn recall_from_legacy_ledger(
    f: &Flows,
    cx: &StepContext,
    keys: impl IntoIterator<Item = (&'static str, &str)>,
) -> StepResult<Option<BookedContract>> {
    for (entity, id) in keys {
        let Ok(k) = IdempotencyKey::for_effect(entity, id, "booked", "remember") else {
            continue;
        };
        let Some(value) = cx.ledger().entry(&k).await?.and_then(|e| e.outcome) else {
            continue;
        };
        let b = serde_json::from_value::<BookedContract>(value).map_err(|e| {
            Stop::bad_data(&format!("the recorded booking of `{k}` cannot be read"), &e)
        })?;
        remember(cx, &b).await?;
        f.inner.book.insert(b.clone());
        return Ok(Some(b));
    }
    Ok(None)
}

impl BookedContract {
    /// The order line selling `part` of billing line `line`.
    pub fn sale_line(
        &self,
        line: &odoo_connect_canonical::BillingLineId,
        part: &crate::mapping::LinePart,
    ) -> Option<RecordId> {
        self.sale_lines
            .iter()
            .find(|(r, _)| &r.line == line && &r.part == part)
            .map(|(_, id)| *id)
    }

    /// The task Odoo made for the order line selling `part` of billing line `line`.
    pub fn task(
        &self,
        line: &odoo_connect_canonical::BillingLineId,
        part: &crate::mapping::LinePart,
    ) -> Option<RecordId> {
        self.tasks
            .iter()
            .find(|(r, _)| &r.line == line && &r.part == part)
            .map(|(_, id)| *id)
    }
}

/// The contracts booked, by contract and by project: what time entries and payments are matched
/// against. The lead-to-project flow adds every contract it books; add others with
/// [`ContractBook::insert`]. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ContractBook {
    inner: Arc<Mutex<BTreeMap<ContractKey, BookedContract>>>,
}

impl ContractBook {
    /// An empty book.
    pub fn new() -> ContractBook {
        ContractBook::default()
    }

    /// Adds or replaces a contract.
    pub fn insert(&self, booked: BookedContract) {
        if let Ok(mut map) = self.inner.lock() {
            map.insert(booked.contract.key.clone(), booked);
        }
    }

    /// A contract by key.
    pub fn get(&self, key: &ContractKey) -> Option<BookedContract> {
        self.inner.lock().ok()?.get(key).cloned()
    }

    /// The contract a project delivers.
    pub fn by_project(&self, project: &ProjectKey) -> Option<BookedContract> {
        self.inner
            .lock()
            .ok()?
            .values()
            .find(|b| &b.project == project)
            .cloned()
    }

    /// The contract whose sale order is `order_name` (an invoice's `invoice_origin`).
    pub fn by_order_name(&self, order_name: &str) -> Option<BookedContract> {
        self.inner
            .lock()
            .ok()?
            .values()
            .find(|b| b.order_name == order_name)
            .cloned()
    }

    /// The contract booked from the CRM deal `crm`.
    pub fn by_crm(&self, crm: &ExternalRef) -> Option<BookedContract> {
        self.inner
            .lock()
            .ok()?
            .values()
            .find(|b| b.crm.as_ref() == Some(crm))
            .cloned()
    }

    /// Every contract, by key.
    pub fn all(&self) -> Vec<BookedContract> {
        self.inner
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// A CRM a signature is booked from, with the terms its contracts take.
#[derive(Clone)]
pub(crate) struct CrmSource {
    pub(crate) lookup: Arc<dyn CrmLookup>,
    pub(crate) terms: Arc<dyn Fn(&mut odoo_connect_canonical::Contract) + Send + Sync>,
}

impl Inner {
    /// The same settings, for a builder method to change one.
    fn copy(&self) -> Inner {
        Inner {
            creds: self.creds.clone(),
            ctx: self.ctx.clone(),
            settings: self.settings.clone(),
            book: self.book.clone(),
            sink: self.sink.clone(),
            lookups: self.lookups.clone(),
            timesheets: self.timesheets.clone(),
            order_lines: self.order_lines.clone(),
        }
    }
}

/// The flows, sharing an Odoo client, the ids resolved once, the [`ContractBook`] and the CRM
/// [`Sink`] the status goes back to. Cheap to clone.
#[derive(Clone)]
pub struct Flows {
    inner: Arc<Inner>,
}

struct Inner {
    /// The client of each path.
    creds: FlowCredentials,
    ctx: MappingContext,
    settings: FlowSettings,
    book: ContractBook,
    sink: Option<Arc<dyn Sink>>,
    /// The CRMs a signature naming only its deal is booked from.
    lookups: Vec<CrmSource>,
    /// Approved time of many messages goes to Odoo in batches (one ledger round trip and one
    /// `load` per batch): timesheets are independent records.
    timesheets: BatchedCreate,
    /// The lines of the orders being booked, the same way.
    order_lines: BatchedCreate,
}

impl std::fmt::Debug for Flows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flows")
            .field("credentials", &self.inner.creds)
            .field("settings", &self.inner.settings)
            .field("sink", &self.inner.sink.as_ref().map(|s| s.system()))
            .field(
                "crm_lookups",
                &self
                    .inner
                    .lookups
                    .iter()
                    .map(|l| l.lookup.crm_system())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Flows {
    /// Resolves what the flows need in Odoo (see [`FlowSettings`]) and returns them ready.
    ///
    /// Every call the flows make works in the legal entity's company
    /// ([`FlowSettings::company_id`], first in `allowed_company_ids`), whichever company the API
    /// user is currently in: what they create defaults to that company, and what they look up
    /// (pricelists, journals, payment methods) is that company's or shared.
    pub async fn connect(odoo: OdooClient, settings: FlowSettings) -> Result<Flows, FlowError> {
        Flows::connect_with(FlowCredentials::single(odoo), settings).await
    }

    /// [`Flows::connect`] with a client (an Odoo user) per path: each step calls Odoo as its
    /// path's user ([`FlowPath::of`]) and records the credential's label in the audit trail
    /// (`credential_used`). Refuses to start ([`FlowError::SharedCredential`]) when two paths
    /// the credentials' [`DutyPolicy`] keeps apart share a user.
    ///
    /// What the flows resolve once is read by the path that uses it: products, pricelists,
    /// currencies, countries and units by booking, employees by time, the bank journal by cash.
    pub async fn connect_with(
        credentials: FlowCredentials,
        settings: FlowSettings,
    ) -> Result<Flows, FlowError> {
        credentials.check()?;
        let creds = credentials.with_company(settings.company_id);
        creds.check_connected().await?;
        let ctx = odoo_ids::resolve(&creds, &settings).await?;
        let timesheets = BatchedCreate::new(
            creds.client(FlowPath::Time).odoo().clone(),
            "account.analytic.line",
            BatchOptions::default(),
        );
        let order_lines = BatchedCreate::new(
            creds.client(FlowPath::Booking).odoo().clone(),
            "sale.order.line",
            BatchOptions::default(),
        );
        Ok(Flows {
            inner: Arc::new(Inner {
                creds,
                ctx,
                settings,
                book: ContractBook::new(),
                sink: None,
                lookups: Vec::new(),
                timesheets,
                order_lines,
            }),
        })
    }

    /// The same flows writing payment status back to `sink` (the CRM).
    pub fn with_sink(self, sink: Arc<dyn Sink>) -> Flows {
        let mut inner = self.inner.copy();
        inner.sink = Some(sink);
        Flows {
            inner: Arc::new(inner),
        }
    }

    /// The same flows booking a signed contract that names only its CRM deal
    /// ([`ContractSignature`](odoo_connect_connectors::ContractSignature)) from that deal, read
    /// through `lookup` (the HubSpot or Salesforce connector) for the deals of its
    /// [`crm_system`](CrmLookup::crm_system). `terms` sets the commercial terms of the contract
    /// read (its billing lines), as for [`won_deals`]. A second lookup for the same CRM replaces
    /// the first.
    pub fn with_crm_lookup(
        self,
        lookup: Arc<dyn CrmLookup>,
        terms: impl Fn(&mut odoo_connect_canonical::Contract) + Send + Sync + 'static,
    ) -> Flows {
        let mut inner = self.inner.copy();
        let system = lookup.crm_system();
        inner.lookups.retain(|l| l.lookup.crm_system() != system);
        inner.lookups.push(CrmSource {
            lookup,
            terms: Arc::new(terms),
        });
        Flows {
            inner: Arc::new(inner),
        }
    }

    /// The CRM lookup for deals of `system`, if one is set.
    pub(crate) fn crm_source(&self, system: &str) -> Option<&CrmSource> {
        self.inner
            .lookups
            .iter()
            .find(|l| l.lookup.crm_system() == system)
    }

    /// The contracts booked.
    pub fn book(&self) -> &ContractBook {
        &self.inner.book
    }

    /// The booking path's Odoo client (the only one, with [`Flows::connect`]), working in the
    /// legal entity's company.
    pub fn odoo(&self) -> &OdooClient {
        self.odoo_for(FlowPath::Booking)
    }

    /// The Odoo client of `path`, working in the legal entity's company.
    pub fn odoo_for(&self, path: FlowPath) -> &OdooClient {
        self.inner.creds.client(path).odoo()
    }

    /// The client of each path and the duties kept apart.
    pub fn credentials(&self) -> &FlowCredentials {
        &self.inner.creds
    }

    /// The ids resolved in Odoo.
    pub fn mapping_context(&self) -> &MappingContext {
        &self.inner.ctx
    }

    /// Every step of every flow, in order (each passes other flows' messages through).
    pub fn steps(&self) -> Vec<Arc<dyn Step>> {
        FlowStep::ALL
            .iter()
            .copied()
            .map(|s| self.step(s))
            .collect()
    }

    /// One step of the flows, as a pipeline step: it runs its part for the messages of its flow
    /// and passes the others through.
    pub fn step(&self, step: FlowStep) -> Arc<dyn Step> {
        Arc::new(FlowStepRunner {
            step,
            flows: self.clone(),
        })
    }

    /// A pipeline builder named `name` with every step added.
    pub fn pipeline<S: StateStore + ?Sized + 'static>(
        &self,
        name: &str,
        store: Arc<S>,
    ) -> PipelineBuilder<S> {
        self.steps()
            .into_iter()
            .fold(Pipeline::builder(name, store), |b, s| b.step_arc(s))
    }

    /// The message of a won deal: one effect per contract, with the deal's correlation, on the
    /// lane of its client (deals of one client are booked one after the other).
    pub fn deal_envelope(&self, deal: &WonDeal) -> Result<JsonEnvelope, FlowError> {
        let key = deal.contract.key.clone();
        let msg = FlowMessage::WonDeal {
            deal: Box::new(deal.clone()),
        };
        let source = deal.crm.as_ref().map_or("crm", |r| r.system.as_str());
        envelope(
            IdempotencyKey::of(
                Subject::new("contract", key.as_str()),
                "won",
                LEAD_TO_PROJECT,
            )?,
            &key,
            source,
            &deal.contract.legal_entity,
            msg,
        )
    }

    /// The message of an approved time entry, correlated with the deal of its project's contract
    /// (or with the project alone when no contract delivers it: the step then fails it).
    pub fn time_envelope(
        &self,
        entry: &TimeEntry,
        source: &str,
    ) -> Result<JsonEnvelope, FlowError> {
        let key = IdempotencyKey::of(Subject::new("time_entry", entry.key.as_str()), 1u64, BILL)?;
        let booked = self.inner.book.by_project(&entry.project);
        let (contract, entity) = match &booked {
            Some(b) => (b.contract.key.clone(), b.contract.legal_entity.clone()),
            None => (
                ContractKey::new(format!("project-{}", entry.project.as_str())).map_err(|e| {
                    FlowError::setup_caused_by("no contract key for the entry's project", e)
                })?,
                self.inner.settings.legal_entity.clone(),
            ),
        };
        let msg = FlowMessage::ApprovedTime {
            entry: Box::new(entry.clone()),
        };
        envelope(key, &contract, source, &entity, msg)
    }

    /// The message that posts the draft invoices of `contract` (one per contract and `batch`,
    /// for instance the month).
    pub fn release_envelope(
        &self,
        contract: &ContractKey,
        batch: &str,
    ) -> Result<JsonEnvelope, FlowError> {
        let key = IdempotencyKey::of(Subject::new("contract", contract.as_str()), batch, RELEASE)?;
        let msg = FlowMessage::ReleaseInvoices {
            contract: contract.clone(),
        };
        envelope(
            key,
            contract,
            "odoo",
            &self.inner.settings.legal_entity,
            msg,
        )
    }

    /// The message of milestone `event` (one per milestone and state: a milestone delivered, then
    /// accepted, gives two messages; the same state said twice, by the delivery tool and by a
    /// poll of Odoo, one), from `source`, correlated with the deal of its contract.
    pub fn milestone_envelope(
        &self,
        event: &MilestoneReached,
        source: &str,
    ) -> Result<JsonEnvelope, FlowError> {
        let id = format!("{}/{}", event.contract.as_str(), event.milestone.as_str());
        let key = IdempotencyKey::of(
            Subject::new("milestone", &id),
            event.version().as_str(),
            MILESTONE,
        )?;
        let entity = self
            .inner
            .book
            .get(&event.contract)
            .map(|b| b.contract.legal_entity)
            .unwrap_or_else(|| self.inner.settings.legal_entity.clone());
        let msg = FlowMessage::MilestoneReached {
            milestone: Box::new(event.clone()),
        };
        envelope(key, &event.contract, source, &entity, msg)
    }

    /// The milestones of the contracts booked ([`Flows::book`]) that are reached in Odoo
    /// (`project.milestone.is_reached`), as accepted milestones from Odoo, on the day Odoo
    /// says they were reached: a poll turns them into messages with
    /// [`Flows::milestone_envelope`] (a milestone seen again gives the same message, which the
    /// queue and the steps recognise).
    pub async fn reached_milestones(&self) -> Result<Vec<MilestoneReached>, FlowError> {
        Ok(milestone::reached_in_odoo(self, &self.inner.book.all()).await?)
    }

    /// The periods of the recurring services of the contracts booked ([`Flows::book`]) that are
    /// due by `as_of` (a period is due from its first day, billed in advance) and not invoiced in
    /// Odoo yet, by the canonical rules (a period cut short by the service's start or end is
    /// prorated): what a month-end run turns into messages with [`Flows::recurring_envelope`]. A
    /// run that was skipped is caught up by the next, and a period given again (by a run that
    /// overlaps another) has the same message, which the queue and the step recognise.
    pub async fn recurring_due(&self, as_of: NaiveDate) -> Result<Vec<RecurringPeriod>, FlowError> {
        let mut due = Vec::new();
        for b in self.inner.book.all() {
            due.extend(recurring::due(self, &b, as_of).await?);
        }
        Ok(due)
    }

    /// The message of recurring period `period`: one per contract, line and period start, from
    /// `source`, correlated with the deal of its contract.
    pub fn recurring_envelope(
        &self,
        period: &RecurringPeriod,
        source: &str,
    ) -> Result<JsonEnvelope, FlowError> {
        let key = IdempotencyKey::of(Subject::new("recurring", &period.id()), 1u64, RECUR)?;
        let entity = self
            .inner
            .book
            .get(&period.contract)
            .map(|b| b.contract.legal_entity)
            .unwrap_or_else(|| self.inner.settings.legal_entity.clone());
        let msg = FlowMessage::RecurringFee {
            period: Box::new(period.clone()),
        };
        envelope(key, &period.contract, source, &entity, msg)
    }

    /// The message that invoices the prepaid amount of retainer `line` of `contract` up front:
    /// one per contract and line, correlated with the deal of its contract.
    pub fn retainer_envelope(
        &self,
        contract: &ContractKey,
        line: &odoo_connect_canonical::BillingLineId,
    ) -> Result<JsonEnvelope, FlowError> {
        let id = format!("{contract}/{line}");
        let key = IdempotencyKey::of(Subject::new("retainer", &id), 1u64, PREPAY)?;
        let entity = self
            .inner
            .book
            .get(contract)
            .map(|b| b.contract.legal_entity)
            .unwrap_or_else(|| self.inner.settings.legal_entity.clone());
        let msg = FlowMessage::RetainerInvoice {
            contract: contract.clone(),
            line: line.clone(),
        };
        envelope(key, contract, "odoo", &entity, msg)
    }

    /// What is left of each retainer of `contract` (booked, in [`Flows::book`]), read from
    /// Odoo's timesheets on the retainer's order line, each valued at its role's rate: the
    /// prepaid amount less the value drawn, and whether it is below the retainer's top-up
    /// threshold. Empty when the contract has no retainer; `None` when it is not booked.
    pub async fn retainer_balance(
        &self,
        contract: &ContractKey,
    ) -> Result<Option<Vec<RetainerBalance>>, FlowError> {
        let Some(b) = self.inner.book.get(contract) else {
            return Ok(None);
        };
        Ok(Some(retainer::balances(self, &b).await?))
    }

    /// The message of a payment received, correlated with the deal of the contract of its
    /// first invoice (`contract_of` says which contract an invoice belongs to).
    pub fn payment_envelope(
        &self,
        payment: &Payment,
        contract: Option<&ContractKey>,
        source: &str,
    ) -> Result<JsonEnvelope, FlowError> {
        let key = IdempotencyKey::of(
            Subject::new("payment", payment.key.as_str()),
            1u64,
            REGISTER,
        )?;
        let fallback = ContractKey::new(format!("payment-{}", payment.key.as_str()))
            .map_err(|e| FlowError::setup_caused_by("no contract key for the payment", e))?;
        let contract = contract.unwrap_or(&fallback);
        let msg = FlowMessage::Payment {
            payment: Box::new(payment.clone()),
        };
        envelope(key, contract, source, &payment.legal_entity, msg)
    }

    /// Verifies a pushed event (a signed-contract webhook) and returns its changes; a refused
    /// event (unsigned, bad signature, stale) is recorded in the audit trail as `event_rejected`
    /// before the error is returned, so that no refusal goes unseen.
    pub async fn receive_event<E, S>(
        &self,
        source: &E,
        event: &odoo_connect_connectors::PushedEvent,
        store: &S,
    ) -> Result<Vec<odoo_connect_connectors::Change>, odoo_connect_connectors::ConnectorError>
    where
        E: odoo_connect_connectors::EventSource + ?Sized,
        S: StateStore + ?Sized,
    {
        match source.receive(event).await {
            Ok(changes) => Ok(changes),
            Err(e) => {
                let details = serde_json::json!({
                    "system": source.system(),
                    "error": e.to_string(),
                    "status": e.rejection().map(|r| r.status_code()),
                });
                let audit =
                    odoo_connect_sync::store::AuditEvent::new(FlowEvent::EventRejected.into())
                        .actor(source.system())
                        .details(details);
                if let Err(err) = store.append(audit).await {
                    tracing::warn!(error = %err, "could not record a rejected event");
                }
                Err(e)
            }
        }
    }

    /// Parks a record a source set aside in the dead letters, with its location and raw text, so
    /// that someone can correct and replay it ([`FlowMessage::Rejected`]): a record it could not
    /// read (a malformed CSV row, an unreadable bank entry) as a technical letter, a business
    /// exception (a won deal with no client) as a business hold, each with the source's reason.
    pub async fn park_rejected<S: StateStore + ?Sized>(
        &self,
        store: &S,
        source: &str,
        rejected: &odoo_connect_connectors::Rejected,
    ) -> Result<odoo_connect_sync::store::DeadLetterId, FlowError> {
        let at = rejected.location.to_string();
        let key = IdempotencyKey::of(Subject::new("rejected", source), at.as_str(), READ)?;
        let payload = FlowMessage::Rejected {
            source: source.to_owned(),
            location: at.clone(),
            reason: rejected.reason.clone(),
            raw: rejected.raw.clone(),
        };
        let id = MessageId::derived(key.as_str());
        let env = Envelope::builder(key, payload)
            .id(id)
            .source(source)
            .legal_entity(self.inner.settings.legal_entity.clone())
            .build()?
            .to_json()?;
        // The class says hold or bad data; the reason is the source's own.
        let class = if rejected.is_business() {
            odoo_connect_sync::store::FailureClass::Business
        } else {
            odoo_connect_sync::store::FailureClass::Technical
        };
        let failure = odoo_connect_sync::store::Failure::new(class, rejected.reason.clone())
            .with_context(serde_json::json!({"location": at, "raw": rejected.raw}));
        store.park(&env, failure, 0).await.map_err(FlowError::from)
    }

    /// The open (posted, not fully paid) customer invoices of the contracts booked, as the
    /// canonical documents a bank matcher takes, with the contract each belongs to.
    pub async fn open_invoices(
        &self,
    ) -> Result<Vec<odoo_connect_canonical::InvoiceEvent>, FlowError> {
        cash::open_invoices(self).await
    }
}

/// The `flow` tag of the messages [`QueueDeliver`] enqueues ([`FlowMessage::SignedContract`]):
/// `{"flow": "signed_contract", "change": <the change>}`.
pub const SIGNED_CONTRACT_FLOW: &str = "signed_contract";

/// Delivers the changes of a webhook receiver (the e-signature
/// [router](odoo_connect_connectors::esign_webhook::EsignWebhook::router)) into the durable queue of a
/// state store, so that a pushed event is safe before it is answered 200; a store failure answers
/// 503 and the sender retries.
///
/// Each change becomes one envelope ([`QueueDeliver::envelope`]) whose message id and idempotency
/// key come from the change id: a redelivery of the same event adds nothing to the queue, is
/// counted as known ([`Deliver::deliver_counted`], so the receiver answers it 200 as `replayed`)
/// and is recorded in the audit trail as `event_replayed` (with the change ids). A
/// completed envelope set aside (a business hold such as `no_crm_reference`, or values that
/// cannot be read) is parked with [`Flows::park_rejected`].
///
/// ```no_run
/// # async fn run(flows: odoo_connect_flows::Flows) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use odoo_connect_connectors::esign_webhook::{EsignWebhook, axum};
/// use odoo_connect_flows::QueueDeliver;
/// use odoo_connect_sync::store::sqlite::SqliteStore;
///
/// let store = Arc::new(SqliteStore::open_in_memory().await?);
/// let webhook = EsignWebhook::docusign("connect-hmac-key").build()?;
/// let app = axum::Router::new()
///     .nest("/webhooks/docusign", webhook.router(QueueDeliver::new(flows, store)));
/// # let _ = app; Ok(()) }
/// ```
#[cfg(feature = "esign-webhook")]
pub struct QueueDeliver<S: ?Sized> {
    flows: Flows,
    store: Arc<S>,
}

#[cfg(feature = "esign-webhook")]
impl<S: ?Sized> std::fmt::Debug for QueueDeliver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueDeliver")
            .field("flows", &self.flows)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "esign-webhook")]
impl<S: StateStore + ?Sized + 'static> QueueDeliver<S> {
    /// Delivers into `store`'s queue, with the conventions of `flows`.
    pub fn new(flows: Flows, store: Arc<S>) -> QueueDeliver<S> {
        QueueDeliver { flows, store }
    }

    /// The envelope of `change`: `{"flow": "signed_contract", "change": ...}`, its message id
    /// and idempotency key derived from the change id, from the change's system, and for a
    /// contract with its deal's correlation, its legal entity and on its contract's lane.
    pub fn envelope(&self, change: &Change) -> Result<JsonEnvelope, FlowError> {
        // The one derivation of a change's message id and key, as every other path takes them
        // (`odoo_connect_connectors::change_envelope`): the queue recognises a redelivery.
        let key = odoo_connect_connectors::change_key(&change.id)?;
        let message_id = MessageId::derived(change.id.as_str());
        let payload = serde_json::to_value(FlowMessage::SignedContract {
            change: Box::new(change.clone()),
        })
        .map_err(EnvelopeError::Payload)?;
        let mut builder = Envelope::builder(key, payload)
            .id(message_id)
            .source(change.external.system.as_str())
            .occurred_at(change.updated_at);
        builder = match &change.record {
            odoo_connect_connectors::Record::Contract(contract) => builder
                .correlation_id(correlation_for(&contract.key))
                .legal_entity(contract.legal_entity.clone())
                .lane(Lane::for_record("contract", contract.key.as_str())?),
            // Signed, named by its CRM deal only: the entity the envelope named, else the flows'.
            odoo_connect_connectors::Record::Signature(signed) => builder
                .correlation_id(correlation_for(&signed.contract))
                .legal_entity(
                    signed
                        .legal_entity
                        .clone()
                        .unwrap_or_else(|| self.flows.inner.settings.legal_entity.clone()),
                )
                .lane(Lane::for_record("contract", signed.contract.as_str())?),
            _ => builder.legal_entity(self.flows.inner.settings.legal_entity.clone()),
        };
        Ok(builder.build()?)
    }
}

#[cfg(feature = "esign-webhook")]
#[async_trait::async_trait]
impl<S: StateStore + ?Sized + 'static> Deliver<Change> for QueueDeliver<S> {
    async fn deliver(&self, changes: Vec<Change>) -> Result<(), DeliverError> {
        self.deliver_counted(changes).await.map(|_| ())
    }

    async fn deliver_counted(&self, changes: Vec<Change>) -> Result<Delivered, DeliverError> {
        let envelopes = changes
            .iter()
            .map(|c| self.envelope(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DeliverError::new("make the webhook's messages", e))?;
        let added = self
            .store
            .enqueue_batch(&envelopes)
            .await
            .map_err(|e| DeliverError::new("queue the webhook's changes", e))?;
        let delivered = Delivered::new(added, envelopes.len().saturating_sub(added));
        if delivered.known() > 0 {
            // A replay: recorded, so that an operator can count them.
            let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
            let system = changes
                .first()
                .map_or("webhook", |c| c.external.system.as_str());
            let audit = odoo_connect_sync::store::AuditEvent::new(FlowEvent::EventReplayed.into())
                .actor(system)
                .details(serde_json::json!({
                    "system": system, "changes": ids,
                    "added": delivered.added(), "known": delivered.known(),
                }));
            if let Err(e) = self.store.append(audit).await {
                tracing::warn!(error = %e, "could not record a replayed event");
            }
        }
        Ok(delivered)
    }

    async fn set_aside(
        &self,
        system: &str,
        rejected: odoo_connect_connectors::Rejected,
    ) -> Result<(), DeliverError> {
        self.flows
            .park_rejected(&*self.store, system, &rejected)
            .await
            .map(|_| ())
            .map_err(|e| DeliverError::new("park the envelope set aside", e))
    }
}

fn envelope(
    key: IdempotencyKey,
    contract: &ContractKey,
    source: &str,
    legal_entity: &LegalEntityKey,
    msg: FlowMessage,
) -> Result<JsonEnvelope, FlowError> {
    // Deals of one client share its customer record: they go one after the other.
    let lane = match &msg {
        FlowMessage::WonDeal { deal } => Lane::for_record("client", deal.client.key.as_str())?,
        _ => Lane::for_record("contract", contract.as_str())?,
    };
    let payload = serde_json::to_value(&msg).map_err(EnvelopeError::Payload)?;
    Ok(Envelope::builder(key, payload)
        .correlation_id(correlation_for(contract))
        .source(source)
        .legal_entity(legal_entity.clone())
        .lane(lane)
        .build()?)
}

/// One step of the flows as a pipeline step: runs its part for messages of its flow and passes
/// the others on.
struct FlowStepRunner {
    step: FlowStep,
    flows: Flows,
}

#[async_trait::async_trait]
impl Step for FlowStepRunner {
    fn name(&self) -> &str {
        self.step.name()
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let path = FlowPath::of(self.step);
        // Decoded once per attempt, by the first step, and shared with the others.
        let msg = odoo_connect_sync::typed::message::<FlowMessage>(cx)?;
        if !acts_on(self.step, &msg, cx) {
            return Ok(());
        }
        let result = self.run_step(cx).await;
        let client = self.flows.inner.creds.client(path);
        // The label names the credential; the login, the user (never the secret).
        cx.audit(
            odoo_connect_sync::store::AuditEvent::new(
                odoo_connect_sync::store::AuditKind::CredentialUsed,
            )
            .step(self.step.name())
            .credential_label(client.label())
            .details(serde_json::json!({"path": path.name(), "login": client.login()})),
        );
        let user = client.login().unwrap_or(client.label());
        result.map_err(|stop| paths::access_refused(stop, path, user))
    }
}

/// Whether `step` acts on `msg` (the others pass it through, calling nothing).
fn acts_on(step: FlowStep, msg: &FlowMessage, cx: &StepContext) -> bool {
    use FlowMessage as M;
    use FlowStep as S;
    match (step, msg) {
        (S::ContractSigned, M::SignedContract { .. })
        | (S::DealClient | S::DealContract | S::DealProject, M::WonDeal { .. })
        | (S::TimeTimesheet, M::ApprovedTime { .. })
        | (S::InvoiceRelease, M::ReleaseInvoices { .. })
        | (S::MilestoneReach | S::MilestoneInvoice, M::MilestoneReached { .. })
        | (S::RecurringInvoice, M::RecurringFee { .. })
        | (S::RetainerInvoice, M::RetainerInvoice { .. })
        | (S::CashRegister | S::CashWriteBack, M::Payment { .. })
        | (S::OdooWriteBack, M::OdooChange { .. }) => true,
        (S::DealClient | S::DealContract | S::DealProject, M::SignedContract { .. }) => {
            cx.state.contains::<deal::DealFromSignature>()
        }
        _ => false,
    }
}

impl FlowStepRunner {
    /// The step's part.
    async fn run_step(&self, cx: &mut StepContext) -> StepResult {
        let msg = odoo_connect_sync::typed::message::<FlowMessage>(cx)?;
        let f = &self.flows;
        // Each step names the one message kind it acts on; the others pass through.
        // A signature `contract.signed` books from the CRM goes through the deal steps too.
        let from_signature = |cx: &StepContext| {
            cx.state
                .get::<deal::DealFromSignature>()
                .map(|d| d.0.clone())
        };
        match self.step {
            FlowStep::ContractSigned => match &*msg {
                FlowMessage::SignedContract { change } => deal::signed(f, cx, change).await,
                _ => Ok(()),
            },
            FlowStep::DealClient => match &*msg {
                FlowMessage::WonDeal { deal } => deal::client(f, cx, deal).await,
                FlowMessage::SignedContract { .. } => match from_signature(cx) {
                    Some(deal) => deal::client(f, cx, &deal).await,
                    None => Ok(()),
                },
                _ => Ok(()),
            },
            FlowStep::DealContract => match &*msg {
                FlowMessage::WonDeal { deal } => deal::contract(f, cx, deal).await,
                FlowMessage::SignedContract { .. } => match from_signature(cx) {
                    Some(deal) => deal::contract(f, cx, &deal).await,
                    None => Ok(()),
                },
                _ => Ok(()),
            },
            FlowStep::DealProject => match &*msg {
                FlowMessage::WonDeal { deal } => deal::project(f, cx, deal).await,
                FlowMessage::SignedContract { .. } => match from_signature(cx) {
                    Some(deal) => deal::project(f, cx, &deal).await,
                    None => Ok(()),
                },
                _ => Ok(()),
            },
            FlowStep::TimeTimesheet => match &*msg {
                FlowMessage::ApprovedTime { entry } => time::timesheet(f, cx, entry).await,
                _ => Ok(()),
            },
            FlowStep::InvoiceRelease => match &*msg {
                FlowMessage::ReleaseInvoices { contract } => time::release(f, cx, contract).await,
                _ => Ok(()),
            },
            FlowStep::MilestoneReach => match &*msg {
                FlowMessage::MilestoneReached { milestone } => {
                    milestone::reach(f, cx, milestone).await
                }
                _ => Ok(()),
            },
            FlowStep::MilestoneInvoice => match &*msg {
                FlowMessage::MilestoneReached { milestone } => {
                    milestone::invoice(f, cx, milestone).await
                }
                _ => Ok(()),
            },
            FlowStep::RecurringInvoice => match &*msg {
                FlowMessage::RecurringFee { period } => recurring::invoice(f, cx, period).await,
                _ => Ok(()),
            },
            FlowStep::RetainerInvoice => match &*msg {
                FlowMessage::RetainerInvoice { contract, line } => {
                    retainer::invoice(f, cx, contract, line).await
                }
                _ => Ok(()),
            },
            FlowStep::CashRegister => match &*msg {
                FlowMessage::Payment { payment } => cash::register(f, cx, payment).await,
                _ => Ok(()),
            },
            FlowStep::CashWriteBack => match &*msg {
                FlowMessage::Payment { payment } => cash::write_back(f, cx, payment).await,
                _ => Ok(()),
            },
            FlowStep::OdooWriteBack => match &*msg {
                FlowMessage::OdooChange { change } => odoo_source::write_back(f, cx, change).await,
                _ => Ok(()),
            },
        }
    }
}

/// An idempotency key for a sub-effect, or the failure to return.
pub(crate) fn key(
    entity: &str,
    id: &str,
    version: &str,
    effect: &str,
) -> StepResult<IdempotencyKey> {
    IdempotencyKey::for_effect(entity, id, version, effect)
        .map_err(|e| Stop::bad_data("bad idempotency key", &e))
}
