//! Layer 3: connectors, the traits an external system implements to exchange canonical records.
//!
//! A connector translates one external system (a CRM, an e-signature service, a PSA tool, a bank)
//! to and from the [`canonical`](odoo_connect_canonical) model. It implements some of four traits:
//!
//! - [`Connector`]: its name and [`Capabilities`] (page size, rate limit, webhooks, idempotency, the
//!   [`RecordKind`]s it produces and consumes). Every other trait requires it.
//! - [`Source`]: changes pulled since a [`Cursor`], one [`Page`] at a time. A page carries the
//!   changes, the rows it could not read ([`Rejected`], for a dead-letter store), the cursor to resume
//!   from and whether more pages follow.
//! - [`EventSource`]: a pushed event (a webhook's headers and body, [`PushedEvent`]) turned into
//!   verified changes, or refused with a typed [`Rejection`] (unsigned, bad signature, stale,
//!   malformed).
//! - [`Sink`]: a canonical change applied to the external system, for instance an invoice's status
//!   written back to the CRM deal; it says whether the write happened or the system already held it
//!   ([`ApplyOutcome`]).
//!
//! Every [`Change`] carries a stable [`ChangeId`]: the same version of the same record always has
//! the same id, so a sync can use it as an idempotency key and drop a change it has seen before
//! (a page read twice after a crash, a webhook delivered twice).
//!
//! The traits use [`async_trait`](mod@async_trait), so their futures are `Send` and they can be held as generics or
//! as `Arc<dyn Source>`; `Box<T>` and `Arc<T>` implement them when `T` does.
//!
//! # Contracts an implementation keeps
//!
//! - **Cursors resume exactly.** Pulling every page from `None`, then pulling again from any cursor
//!   a page returned, gives exactly the changes after that page: none repeated, none missing.
//! - **Change ids are stable and unique**: one id per record version.
//! - **Bad data does not stop the stream.** A record or row that cannot be read goes to
//!   [`Page::rejected`] with its location and raw text; the good ones go on. Only a failure of the
//!   whole pull (transport, auth, rate limit) is an `Err`.
//! - **Errors say whether to retry** ([`ConnectorError::is_retryable`], [`ConnectorError::retry_after`]).
//! - **Sinks are idempotent**: applying the same change twice writes once.
//! - **Secrets never show** in `Debug` output or errors.
//!
//! The conformance kit (`connector_conformance` in `odoo-connect-testkit`) checks these on an implementation.
//!
//! # Reference connectors
//!
//! | feature | module | what it does |
//! |---------|--------|--------------|
//! | `hubspot` | `hubspot` | HubSpot CRM v3: closed-won deals become clients and contracts; invoice and payment status written back to the deal |
//! | `salesforce` | `salesforce` | Salesforce REST: won opportunities and their accounts by SOQL on `SystemModstamp`; status written back |
//! | `timesheet-csv` | `timesheet_csv` | time and expense entries from a PSA's CSV export (Harvest and Toggl Track presets, any tool by column mapping), approval, billing and invoicing kept as data, streamed, with line-numbered rejects |
//! | `esign-webhook` | `esign_webhook` | "envelope completed" webhooks verified by HMAC-SHA256 within a replay window |
//! | `camt053` | `camt053` | booked credits of an ISO 20022 camt.053 statement (balances checked, whole file or nothing) as payments, matched to open invoices; reversals held for review |
//!
//! # Example: a source in a few lines
//!
//! ```
//! use async_trait::async_trait;
//! use chrono::{DateTime, NaiveDate, Utc};
//! use odoo_connect_canonical::{ExternalRef, Project};
//! use odoo_connect_connectors::{
//!     Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Page, Record, RecordKind,
//!     Source,
//! };
//!
//! /// Projects from a PSA tool that returns them by id.
//! struct Psa(Vec<(u32, Project)>);
//!
//! impl Connector for Psa {
//!     fn capabilities(&self) -> Capabilities {
//!         Capabilities::new("psa").produces([RecordKind::Project])
//!     }
//! }
//!
//! #[async_trait]
//! impl Source for Psa {
//!     async fn pull(&self, cursor: Option<&Cursor>, page_size: usize) -> Result<Page<Change>, ConnectorError> {
//!         let after: u32 = match cursor {
//!             Some(c) => c.as_str().parse().map_err(|_| ConnectorError::bad_cursor(c))?,
//!             None => 0,
//!         };
//!         let rest: Vec<_> = self.0.iter().filter(|(id, _)| *id > after).collect();
//!         let page: Vec<_> = rest.iter().take(page_size.max(1)).collect();
//!         let last = page.last().map_or(after, |(id, _)| *id);
//!         let at = DateTime::<Utc>::UNIX_EPOCH;
//!         let items = page
//!             .iter()
//!             .map(|(id, p)| {
//!                 let ext = ExternalRef::new("psa", id.to_string());
//!                 Change::new(ChangeId::of(&ext, RecordKind::Project, "1"), ext, at, Record::from(p.clone()))
//!             })
//!             .collect();
//!         Ok(Page::new(items, Some(Cursor::new(last.to_string())), rest.len() > page.len()))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let psa = Psa(vec![(1, Project::new("p1".parse()?, "Audit", "acme".parse()?))]);
//! let page = psa.pull(None, 10).await?;
//! assert_eq!(page.items.len(), 1);
//! assert!(!page.has_more);
//! # Ok(()) }
//! ```
//!
//! ## Third-party types in the API
//!
//! On purpose: [`HeaderMap`] (the `http` crate's, re-exported: the headers of a
//! [`PushedEvent`], which a web framework hands over as they are), `axum` and `tower` under the
//! `esign-webhook` feature (re-exported by [`esign_webhook`] so the receiver mounts in your own
//! router), `reqwest::Client` (the HTTP client a reference connector can be given),
//! `secrecy::SecretString` (credentials), `serde_json::Value`, `chrono` and `rust_decimal` (the
//! canonical model's types). The pages, cursors and the delivery traits are
//! `odoo-connect-core`'s, re-exported here.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use odoo_connect_canonical::{
    Client, Contract, ContractKey, Currency, Expense, ExternalRef, InvoiceEvent, LegalEntityKey,
    Payment, Project, TimeEntry, Validate, ValidationErrors,
};

/// The header map of a pushed event (the `http` crate's, as re-exported by `reqwest`).
pub use reqwest::header::HeaderMap;

use odoo_connect_core::envelope::{
    Effect, Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope, MessageId, Subject,
};
pub use odoo_connect_core::feed::{Deliver, DeliverError, Delivered, Feed, ToEnvelope};
pub use odoo_connect_core::page::{Cursor, CursorError, Location, Page, RejectKind, Rejected};
use odoo_connect_core::retry::Retryable;

pub mod auth;
#[cfg(feature = "camt053")]
pub mod camt053;
#[cfg(feature = "esign-webhook")]
pub mod esign_webhook;
#[cfg(any(feature = "hubspot", feature = "salesforce"))]
mod http;
#[cfg(feature = "hubspot")]
pub mod hubspot;
#[cfg(feature = "salesforce")]
pub mod salesforce;
#[cfg(feature = "timesheet-csv")]
pub mod timesheet_csv;

// ---------------------------------------------------------------------------------------------
// Records and changes
// ---------------------------------------------------------------------------------------------

/// The kinds of canonical record a connector produces or consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordKind {
    /// [`Client`].
    Client,
    /// [`Contract`].
    Contract,
    /// [`Project`].
    Project,
    /// [`TimeEntry`].
    TimeEntry,
    /// [`Expense`].
    Expense,
    /// [`InvoiceEvent`].
    Invoice,
    /// [`Payment`].
    Payment,
}

impl RecordKind {
    /// The kind as written in JSON and in change ids: `"time_entry"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Client => "client",
            RecordKind::Contract => "contract",
            RecordKind::Project => "project",
            RecordKind::TimeEntry => "time_entry",
            RecordKind::Expense => "expense",
            RecordKind::Invoice => "invoice",
            RecordKind::Payment => "payment",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A canonical record carried by a [`Change`]. In JSON: `{"kind": "client", "record": {...}}`.
///
/// The records are boxed so a `Change` stays small whatever it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// A customer.
    Client(Box<Client>),
    /// A contract.
    Contract(Box<Contract>),
    /// A project.
    Project(Box<Project>),
    /// A time entry.
    TimeEntry(Box<TimeEntry>),
    /// An expense.
    Expense(Box<Expense>),
    /// An invoice as observed.
    Invoice(Box<InvoiceEvent>),
    /// A payment received.
    Payment(Box<Payment>),
    /// A contract signed that names its deal in the CRM but not its client (what an
    /// e-signature tool's CRM integration sends): booked from the CRM record. Its kind is
    /// [`RecordKind::Contract`].
    Signature(Box<ContractSignature>),
}

/// A contract signed in an e-signature tool that names only its deal in the CRM (an envelope
/// sent from DocuSign for Salesforce or HubSpot carries the opportunity, not the account). The
/// flows find the contract booked from that deal, or book it from the CRM record through a
/// [`CrmLookup`].
///
/// ```
/// use odoo_connect_connectors::ContractSignature;
/// use odoo_connect_canonical::ExternalRef;
/// let signed = ContractSignature::new(
///     "hubspot-deal-2002".parse()?,
///     ExternalRef::new("hubspot", "2002"),
///     ExternalRef::new("docusign", "4f2c9e1a"),
///     chrono::NaiveDate::from_ymd_opt(2025, 6, 12).unwrap(),
/// );
/// assert_eq!(signed.crm.system, "hubspot");
/// assert!(signed.legal_entity.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContractSignature {
    /// The contract's key: the one the CRM connector gives the deal (`hubspot-deal-2002`,
    /// `salesforce-opportunity-006...`), or the envelope's own.
    pub contract: ContractKey,
    /// The deal or opportunity in the CRM.
    pub crm: ExternalRef,
    /// The signed envelope in the e-signature tool.
    pub envelope: ExternalRef,
    /// The day the last party signed.
    pub signed_on: NaiveDate,
    /// The legal entity the envelope names, over the CRM's.
    #[serde(default)]
    pub legal_entity: Option<LegalEntityKey>,
    /// The currency the envelope names, over the CRM's.
    #[serde(default)]
    pub currency: Option<Currency>,
    /// The start date the envelope names, over the CRM's.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// The title the envelope names, over the CRM's.
    #[serde(default)]
    pub title: Option<String>,
}

impl ContractSignature {
    /// A signature of `contract`, the deal `crm`, signed in `envelope` on `signed_on`.
    pub fn new(
        contract: ContractKey,
        crm: ExternalRef,
        envelope: ExternalRef,
        signed_on: NaiveDate,
    ) -> ContractSignature {
        ContractSignature {
            contract,
            crm,
            envelope,
            signed_on,
            legal_entity: None,
            currency: None,
            start_date: None,
            title: None,
        }
    }

    /// Applies what the envelope named (legal entity, currency, start date, title) to the
    /// contract read from the CRM, and signs it on the signature's day.
    pub fn apply_to(&self, contract: &mut Contract) {
        if let Some(e) = &self.legal_entity {
            contract.legal_entity = e.clone();
        }
        if let Some(c) = self.currency {
            contract.currency = c;
        }
        if let Some(d) = self.start_date {
            contract.start_date = d;
        }
        if let Some(t) = &self.title {
            contract.title = t.clone();
        }
        contract
            .refs
            .insert(self.envelope.system.clone(), self.envelope.id.clone());
        if contract.status == odoo_connect_canonical::ContractStatus::Draft {
            let _ = contract.sign(self.signed_on);
        }
    }
}

impl Validate for ContractSignature {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

/// What a CRM says of a deal looked up by id ([`CrmLookup::won_deal`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CrmDeal {
    /// The deal is won: its client (the company or account) and contract, as the connector's
    /// source maps them.
    Won {
        /// The customer.
        client: Box<Client>,
        /// The contract.
        contract: Box<Contract>,
    },
    /// The deal exists but cannot be booked: not won (open or lost), or its client cannot be
    /// read (no company, several and none primary); the reason says which.
    NotBookable {
        /// Why, starting with a short code (`not_won`, `no_client`).
        reason: String,
    },
    /// The CRM has no such deal (deleted, or an id of another portal or org).
    NotFound,
}

/// Reads one deal and its client from a CRM by the deal's id: how a signature that names only
/// the CRM deal ([`ContractSignature`]) is booked. Implemented by the HubSpot and Salesforce
/// connectors.
#[async_trait]
pub trait CrmLookup: Send + Sync {
    /// The CRM's name in [`ExternalRef`]s (`hubspot`): the deals this lookup can read.
    fn crm_system(&self) -> String;

    /// The deal `id` and its client.
    async fn won_deal(&self, id: &str) -> Result<CrmDeal, ConnectorError>;
}

#[async_trait]
impl<T: CrmLookup + ?Sized> CrmLookup for Arc<T> {
    fn crm_system(&self) -> String {
        (**self).crm_system()
    }

    async fn won_deal(&self, id: &str) -> Result<CrmDeal, ConnectorError> {
        (**self).won_deal(id).await
    }
}

#[async_trait]
impl<T: CrmLookup + ?Sized> CrmLookup for Box<T> {
    fn crm_system(&self) -> String {
        (**self).crm_system()
    }

    async fn won_deal(&self, id: &str) -> Result<CrmDeal, ConnectorError> {
        (**self).won_deal(id).await
    }
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Client(_) => RecordKind::Client,
            Record::Contract(_) => RecordKind::Contract,
            Record::Project(_) => RecordKind::Project,
            Record::TimeEntry(_) => RecordKind::TimeEntry,
            Record::Expense(_) => RecordKind::Expense,
            Record::Invoice(_) => RecordKind::Invoice,
            Record::Payment(_) => RecordKind::Payment,
            Record::Signature(_) => RecordKind::Contract,
        }
    }

    /// The record's canonical key, as text.
    pub fn key(&self) -> &str {
        match self {
            Record::Client(r) => r.key.as_str(),
            Record::Contract(r) => r.key.as_str(),
            Record::Project(r) => r.key.as_str(),
            Record::TimeEntry(r) => r.key.as_str(),
            Record::Expense(r) => r.key.as_str(),
            Record::Invoice(r) => r.key.as_str(),
            Record::Payment(r) => r.key.as_str(),
            Record::Signature(r) => r.contract.as_str(),
        }
    }

    /// The legal entity the record names, for the records that name one (customers, contracts,
    /// invoices, payments).
    pub fn legal_entity(&self) -> Option<&LegalEntityKey> {
        match self {
            Record::Client(c) => Some(&c.legal_entity),
            Record::Contract(c) => Some(&c.legal_entity),
            Record::Invoice(i) => Some(&i.legal_entity),
            Record::Payment(p) => Some(&p.legal_entity),
            Record::Signature(s) => s.legal_entity.as_ref(),
            _ => None,
        }
    }

    /// Validates the record (see [`Validate`]).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            Record::Client(r) => r.validate(),
            Record::Contract(r) => r.validate(),
            Record::Project(r) => r.validate(),
            Record::TimeEntry(r) => r.validate(),
            Record::Expense(r) => r.validate(),
            Record::Invoice(r) => r.validate(),
            Record::Payment(r) => r.validate(),
            Record::Signature(r) => r.validate(),
        }
    }
}

macro_rules! record_from {
    ($($variant:ident($t:ty)),* $(,)?) => {
        $(
            impl From<$t> for Record {
                fn from(r: $t) -> Record {
                    Record::$variant(Box::new(r))
                }
            }
        )*
    };
}

record_from!(
    Client(Client),
    Contract(Contract),
    Project(Project),
    TimeEntry(TimeEntry),
    Expense(Expense),
    Invoice(InvoiceEvent),
    Payment(Payment),
    Signature(ContractSignature),
);

/// Longest change id accepted, in bytes (the length of a sync idempotency key).
pub const MAX_CHANGE_ID_LEN: usize = 256;

/// The stable id of one version of one record in one system: the same version read twice has the
/// same id, so a sync drops what it has already seen.
///
/// Between 1 and [`MAX_CHANGE_ID_LEN`] bytes, no whitespace or control characters; usable as a sync
/// idempotency key as it is. [`ChangeId::of`] builds the usual form,
/// `system:kind:id:version` (a `:`, `%` or whitespace inside a part is percent-encoded).
///
/// ```
/// use odoo_connect_canonical::ExternalRef;
/// use odoo_connect_connectors::{ChangeId, RecordKind};
///
/// let id = ChangeId::of(&ExternalRef::new("hubspot", "8812"), RecordKind::Contract, "1700000000000");
/// assert_eq!(id.as_str(), "hubspot:contract:8812:1700000000000");
/// assert!(ChangeId::new("has space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ChangeId(String);

/// Why a text was refused as a [`ChangeId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a change id: {reason}")]
pub struct ChangeIdError {
    /// What is wrong.
    pub reason: &'static str,
}

fn escape_part(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        if c == ':' || c == '%' || c.is_whitespace() || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl ChangeId {
    /// Checks and wraps a change id.
    pub fn new(id: impl Into<String>) -> Result<ChangeId, ChangeIdError> {
        let id = id.into();
        let reason = if id.is_empty() {
            "empty"
        } else if id.len() > MAX_CHANGE_ID_LEN {
            "longer than 256 bytes"
        } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            "contains whitespace or a control character"
        } else {
            return Ok(ChangeId(id));
        };
        Err(ChangeIdError { reason })
    }

    /// `system:kind:id:version`, for the record `external` of `kind` at `version` (a revision
    /// number or a modification timestamp). An id too long to fit keeps its start and ends with a
    /// stable 64-bit hash of the whole.
    pub fn of(external: &ExternalRef, kind: RecordKind, version: &str) -> ChangeId {
        let text = [
            escape_part(&external.system),
            kind.as_str().to_owned(),
            escape_part(&external.id),
            escape_part(version),
        ]
        .join(":");
        ChangeId(shorten(text))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

pub(crate) use odoo_connect_core::hash::fnv1a64 as fnv1a;

fn shorten(text: String) -> String {
    if text.len() <= MAX_CHANGE_ID_LEN {
        return text;
    }
    let mut cut = MAX_CHANGE_ID_LEN - 17;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{:016x}", &text[..cut], fnv1a(text.as_bytes()))
}

impl fmt::Debug for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChangeId({:?})", self.0)
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChangeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ChangeId::new(text).map_err(serde::de::Error::custom)
    }
}

/// One version of one record, as a connector read or received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Change {
    /// Stable id of this version of the record (for deduplication and idempotency).
    pub id: ChangeId,
    /// The record's id in the system it came from (for a [`Sink`]: the record to write to).
    pub external: ExternalRef,
    /// When the system last changed the record.
    pub updated_at: DateTime<Utc>,
    /// The canonical record.
    pub record: Record,
}

impl Change {
    /// A change.
    pub fn new(
        id: ChangeId,
        external: ExternalRef,
        updated_at: DateTime<Utc>,
        record: Record,
    ) -> Change {
        Change {
            id,
            external,
            updated_at,
            record,
        }
    }

    /// The kind of the record carried.
    pub fn kind(&self) -> RecordKind {
        self.record.kind()
    }
}

// ---------------------------------------------------------------------------------------------
// Cursors and pages
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

/// A rate limit: at most `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed in a window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
}

impl RateLimit {
    /// `requests` per `per`.
    pub const fn new(requests: u32, per: Duration) -> RateLimit {
        RateLimit { requests, per }
    }
}

/// What a connector can do, for a sync to plan its calls.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_connectors::{Capabilities, RateLimit, RecordKind};
///
/// let caps = Capabilities::new("crm")
///     .page_size(100, 200)
///     .rate_limit(RateLimit::new(100, Duration::from_secs(10)))
///     .produces([RecordKind::Client, RecordKind::Contract])
///     .consumes([RecordKind::Invoice]);
/// assert!(caps.produces.contains(&RecordKind::Client));
/// assert_eq!(caps.clamp_page_size(1000), 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// The system's name, as in [`ExternalRef::system`] (`hubspot`, `salesforce`, ...).
    pub system: String,
    /// Page size used when the caller has no preference.
    pub default_page_size: usize,
    /// Largest page the system serves.
    pub max_page_size: usize,
    /// The system's documented rate limit, if any.
    pub rate_limit: Option<RateLimit>,
    /// Whether the system pushes events ([`EventSource`]).
    pub webhooks: bool,
    /// Whether the system itself makes a repeated write harmless (an idempotency key, an upsert by
    /// external id); when `false`, a [`Sink`] compares before it writes.
    pub idempotent_writes: bool,
    /// Kinds its [`Source`] or [`EventSource`] produces.
    pub produces: BTreeSet<RecordKind>,
    /// Kinds its [`Sink`] accepts.
    pub consumes: BTreeSet<RecordKind>,
}

impl Capabilities {
    /// Capabilities of `system`: pages of 100, no known rate limit, no webhooks, no own
    /// idempotency, producing and consuming nothing yet.
    pub fn new(system: impl Into<String>) -> Capabilities {
        Capabilities {
            system: system.into(),
            default_page_size: 100,
            max_page_size: 100,
            rate_limit: None,
            webhooks: false,
            idempotent_writes: false,
            produces: BTreeSet::new(),
            consumes: BTreeSet::new(),
        }
    }

    /// Sets the default and largest page sizes.
    pub fn page_size(mut self, default: usize, max: usize) -> Capabilities {
        self.max_page_size = max.max(1);
        self.default_page_size = default.clamp(1, self.max_page_size);
        self
    }

    /// Sets the rate limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Capabilities {
        self.rate_limit = Some(limit);
        self
    }

    /// Sets whether the system pushes events.
    pub fn webhooks(mut self, yes: bool) -> Capabilities {
        self.webhooks = yes;
        self
    }

    /// Sets whether the system's writes are idempotent by themselves.
    pub fn idempotent_writes(mut self, yes: bool) -> Capabilities {
        self.idempotent_writes = yes;
        self
    }

    /// Adds kinds produced.
    pub fn produces(mut self, kinds: impl IntoIterator<Item = RecordKind>) -> Capabilities {
        self.produces.extend(kinds);
        self
    }

    /// Adds kinds consumed.
    pub fn consumes(mut self, kinds: impl IntoIterator<Item = RecordKind>) -> Capabilities {
        self.consumes.extend(kinds);
        self
    }

    /// `requested` brought within 1 and the largest page size.
    pub fn clamp_page_size(&self, requested: usize) -> usize {
        requested.clamp(1, self.max_page_size.max(1))
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a pushed event was refused; the HTTP status to answer with is [`Rejection::status_code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The signature header is missing.
    #[error("the request is not signed (no {header} header)")]
    Unsigned {
        /// The header expected.
        header: String,
    },
    /// The signature does not match the body.
    #[error("the signature does not match the request")]
    BadSignature,
    /// The timestamp header is missing or unreadable.
    #[error("the request has no readable timestamp ({header})")]
    NoTimestamp {
        /// The header expected.
        header: String,
    },
    /// The request was signed too long ago (or too far in the future): a replay.
    #[error(
        "the request is outside the replay window: signed {age_secs} s from now, {window_secs} s allowed"
    )]
    Stale {
        /// Seconds between the signature's time and its reception (negative when in the future).
        age_secs: i64,
        /// The window allowed, in seconds.
        window_secs: u64,
    },
    /// The body is signed but cannot be read.
    #[error("the request body is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// A well-formed event of a kind the connector does not turn into changes.
    #[error("event ignored: {reason}")]
    Ignored {
        /// Which event.
        reason: String,
    },
}

impl Rejection {
    /// The HTTP status to answer with: 401 for signature and replay failures, 400 for a malformed
    /// body, 202 for an event deliberately ignored (so the sender does not retry it).
    pub fn status_code(&self) -> u16 {
        match self {
            Rejection::Unsigned { .. }
            | Rejection::BadSignature
            | Rejection::NoTimestamp { .. }
            | Rejection::Stale { .. } => 401,
            Rejection::Malformed { .. } => 400,
            Rejection::Ignored { .. } => 202,
        }
    }
}

/// The broad class of a [`ConnectorError`], for programs to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`ConnectorError::RateLimited`].
    RateLimited,
    /// [`ConnectorError::Quota`].
    Quota,
    /// [`ConnectorError::Auth`].
    Auth,
    /// [`ConnectorError::BadData`].
    BadData,
    /// [`ConnectorError::BadCursor`].
    BadCursor,
    /// [`ConnectorError::Transport`].
    Transport,
    /// [`ConnectorError::Http`].
    Http,
    /// [`ConnectorError::NotFound`].
    NotFound,
    /// [`ConnectorError::Unsupported`].
    Unsupported,
    /// [`ConnectorError::Rejected`].
    Rejected,
    /// [`ConnectorError::Internal`].
    Internal,
}

/// What went wrong in a connector.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_connectors::{ConnectorError, ErrorKind};
///
/// let e = ConnectorError::RateLimited { retry_after: Some(Duration::from_secs(10)) };
/// assert!(e.is_retryable());
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(10)));
/// let e = ConnectorError::Auth { status: Some(401), message: "expired token".into() };
/// assert!(!e.is_retryable());
/// assert_eq!(e.kind(), ErrorKind::Auth);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The system asked to slow down (HTTP 429, or a daily limit reached); retry after the delay
    /// when one was given.
    #[error("rate limited{}", match retry_after { Some(d) => format!(", retry after {} s", d.as_secs()), None => String::new() })]
    RateLimited {
        /// How long the system asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// A quota of the account is used up (a daily API limit, an org's request allowance): unlike
    /// a short rate limit, retrying soon fails the same way. Retryable once the window frees when
    /// the system says when (`resets_after`); without it, a person must act.
    #[error("quota exhausted: {message}{}", match usage { Some(u) => format!(" (usage {u})"), None => String::new() })]
    Quota {
        /// The system's explanation (the policy or limit name).
        message: String,
        /// The usage the system reported (`api-usage=15000/15000`), if any.
        usage: Option<String>,
        /// How long until the quota frees, when the system says.
        resets_after: Option<Duration>,
    },
    /// The credentials were refused or lack a permission. Not retryable: a person must act.
    #[error("authentication failed{}: {message}", match status { Some(s) => format!(" (HTTP {s})"), None => String::new() })]
    Auth {
        /// HTTP status, when over HTTP.
        status: Option<u16>,
        /// The system's explanation (never a credential).
        message: String,
    },
    /// The data read cannot be turned into canonical records. Not retryable: the same data fails
    /// the same way.
    #[error("bad data at {location}: {message}")]
    BadData {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A cursor this connector did not make, or from an incompatible version.
    #[error("cursor {cursor:?} is not one this connector made")]
    BadCursor {
        /// The cursor's text.
        cursor: String,
    },
    /// The request did not complete: connection refused or reset, timeout, unreadable reply.
    /// Retryable.
    #[error("transport error: {message}")]
    Transport {
        /// What happened.
        message: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
    /// The system answered with an HTTP error not covered by another variant; 5xx, 408 and 409 are
    /// retryable.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status.
        status: u16,
        /// The system's message.
        message: String,
    },
    /// The record to write to does not exist in the system.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The connector does not handle this (a kind it does not consume, an operation it lacks).
    #[error("not supported: {what}")]
    Unsupported {
        /// What was asked.
        what: String,
    },
    /// A pushed event was refused.
    #[error("event rejected")]
    Rejected(#[from] Rejection),
    /// A bug or an impossible state in the connector.
    #[error("internal connector error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

impl ConnectorError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConnectorError::RateLimited { .. } => ErrorKind::RateLimited,
            ConnectorError::Quota { .. } => ErrorKind::Quota,
            ConnectorError::Auth { .. } => ErrorKind::Auth,
            ConnectorError::BadData { .. } => ErrorKind::BadData,
            ConnectorError::BadCursor { .. } => ErrorKind::BadCursor,
            ConnectorError::Transport { .. } => ErrorKind::Transport,
            ConnectorError::Http { .. } => ErrorKind::Http,
            ConnectorError::NotFound { .. } => ErrorKind::NotFound,
            ConnectorError::Unsupported { .. } => ErrorKind::Unsupported,
            ConnectorError::Rejected(_) => ErrorKind::Rejected,
            ConnectorError::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether the same call may succeed later: rate limits, transport failures, HTTP 408, 409,
    /// 425 and 5xx, and a quota whose window the system said frees at a known time (retried
    /// after [`retry_after`](Self::retry_after), the end of the window).
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectorError::RateLimited { .. } | ConnectorError::Transport { .. } => true,
            ConnectorError::Quota { resets_after, .. } => resets_after.is_some(),
            ConnectorError::Http { status, .. } => {
                matches!(status, 408 | 409 | 425) || (500..600).contains(status)
            }
            _ => false,
        }
    }

    /// How long the system asked to wait before retrying, if it said (for a [`Quota`](Self::Quota),
    /// when the quota frees).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::RateLimited { retry_after } => *retry_after,
            ConnectorError::Quota { resets_after, .. } => *resets_after,
            _ => None,
        }
    }

    /// The rejection, for an event refused.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            ConnectorError::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// Bad data at `location`.
    pub fn bad_data(location: Location, message: impl Into<String>) -> ConnectorError {
        ConnectorError::BadData {
            location,
            message: message.into(),
        }
    }

    /// A cursor that was not made by this connector.
    pub fn bad_cursor(cursor: &Cursor) -> ConnectorError {
        ConnectorError::BadCursor {
            cursor: cursor.as_str().to_owned(),
        }
    }

    /// A transport failure with its cause.
    pub fn transport(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> ConnectorError {
        ConnectorError::Transport {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

impl Retryable for ConnectorError {
    /// See [`ConnectorError::is_retryable`].
    fn is_retryable(&self) -> bool {
        ConnectorError::is_retryable(self)
    }
    /// See [`ConnectorError::retry_after`].
    fn retry_after(&self) -> Option<Duration> {
        ConnectorError::retry_after(self)
    }
}

impl From<CursorError> for ConnectorError {
    /// A cursor another source made is [`ConnectorError::BadCursor`]; one that cannot be encoded
    /// is [`ConnectorError::Internal`].
    fn from(e: CursorError) -> Self {
        match e {
            CursorError::Foreign { cursor } => ConnectorError::BadCursor { cursor },
            other => ConnectorError::Internal {
                message: format!(
                    "cannot encode a cursor: {}",
                    odoo_connect_core::error::chain_text(&other)
                ),
            },
        }
    }
}

impl From<&Rejected> for ConnectorError {
    /// The same rejection as a [`ConnectorError::BadData`].
    fn from(r: &Rejected) -> Self {
        ConnectorError::BadData {
            location: r.location.clone(),
            message: r.reason.clone(),
        }
    }
}

/// A [`Source`] as the [`Feed`] a pipeline pulls from its checkpoint
/// (`pipeline.pull_from(&SourceFeed::new(&hubspot), ...)`).
#[derive(Debug)]
pub struct SourceFeed<'a, S: ?Sized>(&'a S);

impl<'a, S: Source + ?Sized> SourceFeed<'a, S> {
    /// The feed of `source`.
    pub fn new(source: &'a S) -> Self {
        SourceFeed(source)
    }
}

#[async_trait]
impl<S: Source + ?Sized> Feed for SourceFeed<'_, S> {
    type Item = Change;
    type Error = ConnectorError;

    fn system(&self) -> String {
        self.0.system()
    }

    async fn page(
        &self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        self.0.pull(cursor, limit).await
    }

    fn on_page(&self, page: &Page<Change>) {
        self.0.on_page(page);
    }
}

impl ToEnvelope for Change {
    /// [`change_envelope`].
    fn to_envelope(&self) -> Result<JsonEnvelope, EnvelopeError> {
        change_envelope(self)
    }
}

/// The default message of a connector change: payload `{"change": <the change>}`, message id
/// [`MessageId::derived`] from the change id and idempotency key `change:<id>:1:deliver` (a change
/// read or pushed again is recognised by the queue), from the change's system, at the time the
/// record changed, in the legal entity the record names (customers, contracts, invoices,
/// payments).
///
/// A record that names no legal entity (projects, time entries, expenses) is an
/// [`EnvelopeError::MissingField`]`("legal_entity")`: give the pipeline a mapping of your own for
/// those.
pub fn change_envelope(change: &Change) -> Result<JsonEnvelope, EnvelopeError> {
    let key = change_key(&change.id)?;
    let payload = serde_json::json!({ "change": change });
    let mut builder = Envelope::builder(key, payload)
        .id(MessageId::derived(change.id.as_str()))
        .source(change.external.system.as_str())
        .occurred_at(change.updated_at);
    if let Some(entity) = change.record.legal_entity() {
        builder = builder.legal_entity(entity.clone());
    }
    builder.build()
}

/// The idempotency key of delivering a change: `change:<id>:1:deliver`.
pub fn change_key(id: &ChangeId) -> Result<IdempotencyKey, EnvelopeError> {
    IdempotencyKey::of(
        Subject::new("change", id.as_str()),
        1u64,
        Effect::new("deliver"),
    )
}

// ---------------------------------------------------------------------------------------------
// Traits
// ---------------------------------------------------------------------------------------------

/// What every connector says about itself. The other traits require it.
#[async_trait]
pub trait Connector: Send + Sync {
    /// What the connector can do.
    fn capabilities(&self) -> Capabilities;

    /// The system's name (by default [`Capabilities::system`]).
    fn system(&self) -> String {
        self.capabilities().system
    }

    /// Checks that the system answers and the credentials work; by default, does nothing.
    async fn health_check(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// A system changes are pulled from, page by page, since a cursor.
///
/// See the module's contracts: cursors resume exactly, change ids are stable, bad records go to
/// [`Page::rejected`].
#[async_trait]
pub trait Source: Connector {
    /// The changes after `cursor` (from the start when `None`), at most about `page_size` source
    /// records (a connector that makes several changes from one record may return more changes).
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError>;

    /// Called after each page is read and before it is returned by the helpers that drive a source;
    /// by default, does nothing. A place for metrics or logging.
    fn on_page(&self, page: &Page<Change>) {
        let _ = page;
    }
}

/// A request pushed by a system (a webhook call): its headers, its raw body and when it arrived.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushedEvent {
    /// The request headers.
    pub headers: HeaderMap,
    /// The body, as received (signatures are computed over these bytes).
    pub body: Vec<u8>,
    /// When it was received (the replay window is measured from here).
    pub received_at: DateTime<Utc>,
}

impl PushedEvent {
    /// An event received now.
    pub fn new(headers: HeaderMap, body: impl Into<Vec<u8>>) -> PushedEvent {
        PushedEvent::received_at(headers, body, Utc::now())
    }

    /// An event received at `at`.
    pub fn received_at(
        headers: HeaderMap,
        body: impl Into<Vec<u8>>,
        at: DateTime<Utc>,
    ) -> PushedEvent {
        PushedEvent {
            headers,
            body: body.into(),
            received_at: at,
        }
    }

    /// A header's value as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A system that pushes events (webhooks), turned into verified changes.
#[async_trait]
pub trait EventSource: Connector {
    /// Verifies the event (signature, replay window) and reads its changes. A refusal is
    /// [`ConnectorError::Rejected`]; the same event received twice gives the same change ids.
    async fn receive(&self, event: &PushedEvent) -> Result<Vec<Change>, ConnectorError>;
}

/// What [`Sink::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApplyOutcome {
    /// The system was changed.
    Applied,
    /// The system already held the change: nothing was written.
    AlreadyApplied,
}

/// A system canonical changes are written to.
#[async_trait]
pub trait Sink: Connector {
    /// Applies `change` to the record `change.external` in the system. Applying the same change
    /// twice writes at most once; the second call returns [`ApplyOutcome::AlreadyApplied`].
    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, ConnectorError>;

    /// Whether the sink takes records of `kind` (by default, whether its capabilities say it
    /// consumes them).
    fn accepts(&self, kind: RecordKind) -> bool {
        self.capabilities().consumes.contains(&kind)
    }
}

macro_rules! forward_impls {
    ($($ptr:ident),*) => {
        $(
            #[async_trait]
            impl<T: Connector + ?Sized> Connector for $ptr<T> {
                fn capabilities(&self) -> Capabilities {
                    (**self).capabilities()
                }

                fn system(&self) -> String {
                    (**self).system()
                }

                async fn health_check(&self) -> Result<(), ConnectorError> {
                    (**self).health_check().await
                }
            }

            #[async_trait]
            impl<T: Source + ?Sized> Source for $ptr<T> {
                async fn pull(
                    &self,
                    cursor: Option<&Cursor>,
                    page_size: usize,
                ) -> Result<Page<Change>, ConnectorError> {
                    (**self).pull(cursor, page_size).await
                }

                fn on_page(&self, page: &Page<Change>) {
                    (**self).on_page(page)
                }
            }

            #[async_trait]
            impl<T: EventSource + ?Sized> EventSource for $ptr<T> {
                async fn receive(&self, event: &PushedEvent) -> Result<Vec<Change>, ConnectorError> {
                    (**self).receive(event).await
                }
            }

            #[async_trait]
            impl<T: Sink + ?Sized> Sink for $ptr<T> {
                async fn apply(&self, change: &Change) -> Result<ApplyOutcome, ConnectorError> {
                    (**self).apply(change).await
                }

                fn accepts(&self, kind: RecordKind) -> bool {
                    (**self).accepts(kind)
                }
            }
        )*
    };
}

forward_impls!(Box, Arc);

/// Pulls every page from `cursor` until the source says no more follow (at most `max_pages`), and
/// returns the changes, the rejects and the last cursor, calling [`Source::on_page`] on each page.
///
/// For small sources and tests; a sync stores the cursor after each page instead.
pub async fn pull_all<S: Source + ?Sized>(
    source: &S,
    cursor: Option<&Cursor>,
    page_size: usize,
    max_pages: usize,
) -> Result<Page<Change>, ConnectorError> {
    let mut all = Page::new(Vec::new(), cursor.cloned(), true);
    for _ in 0..max_pages {
        let page = source.pull(all.cursor.as_ref(), page_size).await?;
        source.on_page(&page);
        all.items.extend(page.items);
        all.rejected.extend(page.rejected);
        if page.cursor.is_some() {
            all.cursor = page.cursor;
        }
        all.has_more = page.has_more;
        if !all.has_more {
            break;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Keeps the futures of every trait `Send`, through `dyn`, `Box` and `Arc`, so connectors can
    /// be driven from `tokio::spawn`. A change that drops `Send` fails to compile here.
    #[allow(dead_code)]
    fn futures_stay_send(
        s: &dyn Source,
        e: &dyn EventSource,
        k: &dyn Sink,
        boxed: Box<dyn Source>,
        shared: Arc<dyn Sink>,
        change: &Change,
        event: &PushedEvent,
    ) {
        assert_send(&s.pull(None, 10));
        assert_send(&s.health_check());
        assert_send(&e.receive(event));
        assert_send(&k.apply(change));
        assert_send(&boxed.pull(None, 10));
        assert_send(&shared.apply(change));
        assert_send(&pull_all(s, None, 10, 10));
        fn spawnable<S: Source + 'static>(s: Arc<S>) {
            drop(tokio::spawn(async move {
                s.pull(None, 1).await.map(|p| p.items.len())
            }));
        }
        let _ = spawnable::<Box<dyn Source>>;
    }

    #[test]
    fn change_ids_escape_and_shorten() {
        let ext = ExternalRef::new("bank", "CH93 0076:2011");
        let id = ChangeId::of(&ext, RecordKind::Payment, "1");
        assert_eq!(id.as_str(), "bank:payment:CH93%200076%3A2011:1");
        assert!(ChangeId::new(id.as_str()).is_ok());
        let long = ExternalRef::new("x", "y".repeat(400));
        let a = ChangeId::of(&long, RecordKind::Client, "1");
        let b = ChangeId::of(&long, RecordKind::Client, "2");
        assert!(a.as_str().len() <= MAX_CHANGE_ID_LEN);
        assert_ne!(a, b);
        assert!(ChangeId::new(a.as_str()).is_ok());
        assert!(ChangeId::new("").is_err());
        assert!(serde_json::from_str::<ChangeId>("\"a\\nb\"").is_err());
    }

    #[test]
    fn errors_are_classified() {
        let http = |status| ConnectorError::Http {
            status,
            message: String::new(),
        };
        assert!(http(503).is_retryable());
        assert!(http(409).is_retryable());
        assert!(!http(400).is_retryable());
        assert!(!ConnectorError::bad_data(Location::line(3), "bad hours").is_retryable());
        assert_eq!(
            ConnectorError::bad_data(Location::line(3).field("hours"), "bad").to_string(),
            "bad data at line 3, field hours: bad"
        );
        let r = ConnectorError::from(Rejection::Stale {
            age_secs: 900,
            window_secs: 300,
        });
        assert_eq!(r.rejection().map(Rejection::status_code), Some(401));
        assert!(!r.is_retryable());
    }

    #[test]
    fn changes_round_trip_through_json() {
        let project = Project::new("p1".parse().unwrap(), "Audit", "acme".parse().unwrap());
        let ext = ExternalRef::new("psa", "17");
        let change = Change::new(
            ChangeId::of(&ext, RecordKind::Project, "3"),
            ext,
            DateTime::<Utc>::UNIX_EPOCH,
            Record::from(project),
        );
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["id"], "psa:project:17:3");
        assert_eq!(json["record"]["kind"], "project");
        assert_eq!(json["record"]["record"]["key"], "p1");
        let back: Change = serde_json::from_value(json).unwrap();
        assert_eq!(back, change);
    }

    #[test]
    fn cursors_hold_state() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct S {
            since: i64,
        }
        let c = Cursor::from_state(&S { since: 5 }).unwrap();
        assert_eq!(c.state::<S>().unwrap(), S { since: 5 });
        assert_eq!(
            ConnectorError::from(Cursor::new("nope").state::<S>().unwrap_err()).kind(),
            ErrorKind::BadCursor
        );
    }
}
