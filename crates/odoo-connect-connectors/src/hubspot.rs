//! HubSpot CRM (v3 objects API): closed-won deals in, invoice and payment status back out.
//!
//! **Source.** Deals are searched in ascending `hs_lastmodifieddate`
//! (`POST /crm/v3/objects/deals/search`): those in a won stage (`closedwon` by default, see
//! [`HubSpotBuilder::won_stages`]) or whose `hs_is_closed_won` is `true` (a won stage of any
//! pipeline). The search is only a pre-selection: each deal read is classified again from its own
//! `hs_is_closed_won` and `hs_is_closed` (the strings `"true"` and `"false"`), falling back on its
//! `dealstage` when HubSpot leaves them out, and only won deals go on; lost and open ones are
//! passed over (the search index can lag behind an edit).
//!
//! Each won deal becomes two changes: a [`Contract`] (key `hubspot-deal-<id>`, titled with
//! `dealname`, in `deal_currency_code`, starting on `closedate`, its [`Contract::value`] the deal's
//! `amount` as an exact decimal, or `None` when the amount is `null` or empty) and the [`Client`]
//! it is with: the deal's primary company (association type 5, `HUBSPOT_DEFINED`), read through
//! `POST /crm/v4/associations/deals/companies/batch/read` (the paired primary and unlabeled
//! links to one company count once) and `POST /crm/v3/objects/companies/batch/read` (matched by
//! id, never by position; a `207 Multi-Status` reply gives the companies found and an `errors`
//! list for the others). A deal owner (`hubspot_owner_id`, empty for none) is kept as the
//! contract's `hubspot-owner` reference. The company's `country` is free text (`"Norway"`,
//! `"United States"`, `"Deutschland"`, `"BE"`), read by [`CountryCode::from_name`].
//!
//! Both changes of a won deal have ids that do not depend on when the deal was modified: the
//! deal is won once, and re-reading it after a later edit gives the same changes again, which a
//! sync recognises as already done.
//!
//! **Rejects.** A deal that reads well but cannot go on without a person is a business hold
//! ([`Rejected::business`]): no associated company (no client), several companies and none
//! primary, a company HubSpot no longer has, a country no one recognises, a company without a
//! name, street or city. A deal that cannot be read (a bad currency code, an amount that is not
//! a number, a close date that is not a date) is bad data ([`Rejected::new`]). Both keep the
//! deal's JSON.
//!
//! **Cursor.** The search is paged as HubSpot documents it: the next request carries the
//! `paging.next.after` of the previous reply in its body, for the same query. A query ends on its
//! last page (or before the 10,000 results the search serves); the next one starts at the latest
//! `hs_lastmodifieddate` read with a `GTE` filter, skipping the ids already read at that very
//! millisecond, so that deals sharing the checkpoint's time are neither lost nor repeated.
//! [`HubSpotBuilder::start_from`] sets where the first query starts. A deal edited while a query
//! is being paged moves to its end (and is read there again); the offset behind `after` then
//! shifts, and a deal can be stepped over: a full re-read from [`HubSpotBuilder::start_from`]
//! catches it, harmlessly, since won deals keep their change ids.
//!
//! **Lookup.** As a [`CrmLookup`], one deal is read by id (`GET /crm/v3/objects/deals/{dealId}`
//! with the same properties), its company through the same association and company reads, and
//! both mapped as above: how a contract signed with only the deal's id is booked.
//!
//! **Sink.** An [`InvoiceEvent`] or a [`Payment`] change whose `external` is a HubSpot deal is
//! written to that deal's properties (`PATCH /crm/v3/objects/deals/{id}`), after reading them: when
//! the deal already holds the values nothing is written ([`ApplyOutcome::AlreadyApplied`]), so
//! `hs_lastmodifieddate` does not move and the change does not come back as an echo. The property
//! names are set with [`HubSpotBuilder::invoice_properties`] and
//! [`HubSpotBuilder::payment_properties`]; they must exist in the portal (custom deal properties).
//!
//! **Auth and limits.** A private-app access token, sent as a bearer token; it never appears in
//! `Debug` output or errors. A 429 whose `policyName` is `SECONDLY` or `TEN_SECONDLY_ROLLING` (or
//! that names none) is [`ConnectorError::RateLimited`], retryable after the `Retry-After` the API
//! gave or else after `X-HubSpot-RateLimit-Interval-Milliseconds`. A 429 for the `DAILY` policy is
//! [`ConnectorError::Quota`]: not retryable now, the daily allowance resets at midnight in the
//! account's time zone.
//!
//! ```
//! use odoo_connect_connectors::hubspot::HubSpot;
//! use odoo_connect_connectors::Connector;
//!
//! let hubspot = HubSpot::builder("pat-na1-0000")
//!     .legal_entity("firm-us".parse()?)
//!     .start_from("2024-01-01T00:00:00Z".parse()?)
//!     .build()?;
//! assert_eq!(hubspot.system(), "hubspot");
//! assert!(!format!("{hubspot:?}").contains("pat-na1-0000"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::http::{self, Reply};
use super::{
    ApplyOutcome, Capabilities, Change, ChangeId, Connector, ConnectorError, CrmDeal, CrmLookup,
    Cursor, Location, Page, RateLimit, Record, RecordKind, Rejected, Sink, Source,
};
use odoo_connect_canonical::{
    Address, Client, ClientKey, Contract, ContractKey, CountryCode, Currency, ExternalRef,
    InvoiceEvent, LegalEntityKey, Money, Payment,
};

/// The system name in [`ExternalRef`]s: `hubspot`.
pub const SYSTEM: &str = "hubspot";

/// The system name of a deal owner's reference on a contract: `hubspot-owner`.
pub const OWNER_SYSTEM: &str = "hubspot-owner";

/// Largest `limit` the search API takes.
const MAX_SEARCH_LIMIT: usize = 200;

/// Largest `limit` the list endpoints take.
const MAX_LIST_LIMIT: usize = 100;

/// The search serves at most this many results of one query.
const MAX_SEARCH_RESULTS: u64 = 10_000;

const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "deal_currency_code",
    "closedate",
    "hs_is_closed_won",
    "hs_is_closed",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
];

const COMPANY_PROPERTIES: &[&str] = &[
    "name",
    "address",
    "address2",
    "city",
    "zip",
    "state",
    "country",
    "hs_lastmodifieddate",
];

/// Deal properties the invoice status is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvoiceProperties {
    /// The invoice number (default `odoo_invoice_number`).
    pub number: String,
    /// The status: `draft`, `posted`, `sent`, `partially_paid`, `paid`, `cancelled`
    /// (default `odoo_invoice_status`).
    pub status: String,
    /// The amount still due, as a decimal (default `odoo_invoice_amount_due`).
    pub amount_due: String,
}

impl Default for InvoiceProperties {
    fn default() -> Self {
        InvoiceProperties {
            number: "odoo_invoice_number".into(),
            status: "odoo_invoice_status".into(),
            amount_due: "odoo_invoice_amount_due".into(),
        }
    }
}

/// Deal properties the last payment is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentProperties {
    /// Its value date, `YYYY-MM-DD` (default `odoo_last_payment_date`).
    pub date: String,
    /// Its amount, as a decimal (default `odoo_last_payment_amount`).
    pub amount: String,
    /// The payer's reference (default `odoo_last_payment_reference`).
    pub reference: String,
}

impl Default for PaymentProperties {
    fn default() -> Self {
        PaymentProperties {
            date: "odoo_last_payment_date".into(),
            amount: "odoo_last_payment_amount".into(),
            reference: "odoo_last_payment_reference".into(),
        }
    }
}

/// Builds a [`HubSpot`] connector.
pub struct HubSpotBuilder {
    token: SecretString,
    base_url: String,
    legal_entity: Option<LegalEntityKey>,
    default_currency: Currency,
    default_country: Option<CountryCode>,
    won_stages: Vec<String>,
    start_from: Option<DateTime<Utc>>,
    invoice: InvoiceProperties,
    payment: PaymentProperties,
    timeout: Duration,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for HubSpotBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpotBuilder")
            .field("token", &"** redacted **")
            .field("base_url", &self.base_url)
            .field("legal_entity", &self.legal_entity)
            .finish_non_exhaustive()
    }
}

impl HubSpotBuilder {
    /// The API's address (default `https://api.hubapi.com`; a test server's in tests).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The firm's legal entity the clients and contracts belong to (required).
    pub fn legal_entity(mut self, key: LegalEntityKey) -> Self {
        self.legal_entity = Some(key);
        self
    }

    /// The currency of a deal without `deal_currency_code` (default EUR).
    pub fn default_currency(mut self, currency: Currency) -> Self {
        self.default_currency = currency;
        self
    }

    /// The country of a company whose `country` is empty (default: none, the deal is held). A
    /// country HubSpot gives but no one recognises is held whatever this says.
    pub fn default_country(mut self, country: CountryCode) -> Self {
        self.default_country = Some(country);
        self
    }

    /// The deal stages that count as won when a deal does not say itself with `hs_is_closed_won`
    /// (default `closedwon`; a custom pipeline has its own stage ids).
    pub fn won_stages<I, S>(mut self, stages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.won_stages = stages.into_iter().map(Into::into).collect();
        self
    }

    /// Where a sync without a cursor starts: deals last modified at or after this time (default:
    /// from the beginning).
    pub fn start_from(mut self, time: DateTime<Utc>) -> Self {
        self.start_from = Some(time);
        self
    }

    /// The deal properties invoice status is written to.
    pub fn invoice_properties(mut self, properties: InvoiceProperties) -> Self {
        self.invoice = properties;
        self
    }

    /// The deal properties the last payment is written to.
    pub fn payment_properties(mut self, properties: PaymentProperties) -> Self {
        self.payment = properties;
        self
    }

    /// Timeout of each request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses this HTTP client (its own timeout then applies).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The connector; fails without a legal entity, with a bad URL or with no won stage.
    pub fn build(self) -> Result<HubSpot, ConnectorError> {
        let legal_entity = self.legal_entity.ok_or_else(|| ConnectorError::Internal {
            message: "HubSpot needs a legal entity: call .legal_entity(...)".into(),
        })?;
        if self.won_stages.iter().all(|s| s.trim().is_empty()) {
            return Err(ConnectorError::Internal {
                message: "HubSpot needs at least one won stage".into(),
            });
        }
        let mut base = Url::parse(&self.base_url).map_err(|e| ConnectorError::Internal {
            message: format!("bad HubSpot base URL: {e}"),
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| ConnectorError::transport("cannot build the HTTP client", e))?,
        };
        Ok(HubSpot {
            inner: Arc::new(Inner {
                http,
                base,
                token: self.token,
                legal_entity,
                default_currency: self.default_currency,
                default_country: self.default_country,
                won_stages: self.won_stages,
                start_from: self.start_from.map_or(0, |t| t.timestamp_millis()),
                invoice: self.invoice,
                payment: self.payment,
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    legal_entity: LegalEntityKey,
    default_currency: Currency,
    default_country: Option<CountryCode>,
    won_stages: Vec<String>,
    start_from: i64,
    invoice: InvoiceProperties,
    payment: PaymentProperties,
}

/// The HubSpot connector: a [`Source`] of clients and contracts from won deals and a [`Sink`] of
/// invoice and payment status. Cheap to clone.
#[derive(Clone)]
pub struct HubSpot {
    inner: Arc<Inner>,
}

impl fmt::Debug for HubSpot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpot")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &"** redacted **")
            .field("legal_entity", &self.inner.legal_entity)
            .field("won_stages", &self.inner.won_stages)
            .finish_non_exhaustive()
    }
}

/// One page of [`HubSpot::list_companies`]: the companies read as clients, those that could not
/// be, and the token of the next page.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompanyPage {
    /// The companies, as clients in the default currency.
    pub clients: Vec<Client>,
    /// The companies that could not be read or are held (no name, no address, unknown country).
    pub rejected: Vec<Rejected>,
    /// HubSpot's opaque `paging.next.after`, to give back verbatim for the next page; `None` on
    /// the last page.
    pub after: Option<String>,
}
/// Where the deal search resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// The `GTE` bound of the current query on `hs_lastmodifieddate`, in ms since the epoch.
    since: i64,
    /// Ids of the deals read at `since` by earlier queries: skipped.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    seen: BTreeSet<String>,
    /// The current query's `paging.next.after`, while it has more pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// The latest `hs_lastmodifieddate` read by the current query (the next checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<i64>,
    /// Ids read at `last` by the current query.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    at_last: BTreeSet<String>,
    /// How many results the current query gave so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    read: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl State {
    fn start(since: i64) -> State {
        State {
            since,
            ..State::default()
        }
    }

    /// Notes a deal read at `ms`.
    fn saw(&mut self, id: &str, ms: i64) {
        match self.last {
            Some(last) if ms < last => {}
            Some(last) if ms == last => {
                self.at_last.insert(id.to_owned());
            }
            _ => {
                self.last = Some(ms);
                self.at_last = BTreeSet::from([id.to_owned()]);
            }
        }
    }

    /// The first query after this one: from the latest time read, skipping the ids read at it.
    fn next_query(self) -> State {
        match self.last {
            Some(last) if last > self.since => State {
                since: last,
                seen: self.at_last,
                ..State::default()
            },
            _ => {
                let mut seen = self.seen;
                seen.extend(self.at_last);
                State {
                    since: self.since,
                    seen,
                    ..State::default()
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct SearchReply {
    #[serde(default)]
    results: Vec<Value>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<NextPage>,
}

#[derive(Debug, Deserialize)]
struct NextPage {
    after: String,
}

fn next_after(paging: Option<Paging>) -> Option<String> {
    paging
        .and_then(|p| p.next)
        .map(|n| n.after)
        .filter(|a| !a.is_empty())
}

#[derive(Debug, Clone, Deserialize)]
struct Object {
    id: String,
    #[serde(default)]
    properties: BTreeMap<String, Option<String>>,
    #[serde(default, rename = "updatedAt")]
    updated_at: Option<String>,
}

impl Object {
    fn prop(&self, name: &str) -> Option<&str> {
        self.properties
            .get(name)
            .and_then(|v| v.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn modified(&self) -> Option<DateTime<Utc>> {
        self.prop("hs_lastmodifieddate")
            .or(self.updated_at.as_deref())
            .and_then(parse_time)
    }
}

/// A batch reply: `results`, and with `207 Multi-Status` the `errors` of the inputs that failed.
#[derive(Debug, Deserialize)]
struct BatchReply<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
    #[serde(default)]
    errors: Vec<BatchError>,
}

#[derive(Debug, Deserialize)]
struct BatchError {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, Vec<String>>,
}

impl BatchError {
    fn about(&self, id: &str) -> bool {
        self.context
            .get("ids")
            .is_some_and(|ids| ids.iter().any(|i| i == id))
    }

    fn text(&self) -> String {
        match (&self.category, &self.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "no reason given".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Association {
    from: AssociationFrom,
    #[serde(default)]
    to: Vec<AssociationTo>,
}

#[derive(Debug, Deserialize)]
struct AssociationFrom {
    id: Value,
}

#[derive(Debug, Deserialize)]
struct AssociationTo {
    #[serde(rename = "toObjectId")]
    to_object_id: Value,
    #[serde(default, rename = "associationTypes")]
    association_types: Vec<AssociationType>,
}

#[derive(Debug, Deserialize)]
struct AssociationType {
    #[serde(default)]
    category: Option<String>,
    #[serde(default, rename = "typeId")]
    type_id: Option<i64>,
}

impl AssociationType {
    /// HubSpot's own primary deal-to-company association (type 5, `HUBSPOT_DEFINED`); a
    /// user-defined label with the same number is another association.
    fn is_primary(&self) -> bool {
        self.type_id == Some(PRIMARY_DEAL_TO_COMPANY)
            && self
                .category
                .as_deref()
                .is_none_or(|c| c == "HUBSPOT_DEFINED")
    }
}

/// HubSpot's `deal_to_company` primary association type.
const PRIMARY_DEAL_TO_COMPANY: i64 = 5;

/// An id as HubSpot writes it: a string, or a number in the v4 associations API.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The company a deal is with, from its associations.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ClientLink {
    /// The primary company, or the only one.
    One(String),
    /// Several companies, none primary.
    Ambiguous(Vec<String>),
}

/// The client company of each deal: links to one company (a primary and an unlabeled one, in one
/// entry or two) count once; the primary company wins; a single company is the client even
/// unlabeled.
fn client_links(associations: Vec<Association>) -> BTreeMap<String, ClientLink> {
    let mut out = BTreeMap::new();
    for a in associations {
        let Some(deal) = id_text(&a.from.id) else {
            continue;
        };
        // Company id -> whether any of its links is the primary one, in first-seen order.
        let mut companies: Vec<(String, bool)> = Vec::new();
        for t in &a.to {
            let Some(id) = id_text(&t.to_object_id) else {
                continue;
            };
            let primary = t.association_types.iter().any(AssociationType::is_primary);
            match companies.iter_mut().find(|(c, _)| *c == id) {
                Some(entry) => entry.1 |= primary,
                None => companies.push((id, primary)),
            }
        }
        let primary: Vec<&String> = companies
            .iter()
            .filter(|(_, p)| *p)
            .map(|(c, _)| c)
            .collect();
        let link = match (primary.as_slice(), companies.as_slice()) {
            ([one], _) => ClientLink::One((*one).clone()),
            ([], [(only, _)]) => ClientLink::One(only.clone()),
            ([], []) => continue,
            _ => ClientLink::Ambiguous(companies.into_iter().map(|(c, _)| c).collect()),
        };
        out.insert(deal, link);
    }
    out
}

/// The companies read, by id, and why each company asked for and not read is missing.
type CompanyBatch = (BTreeMap<String, Object>, BTreeMap<String, String>);
/// The client company of each deal, from a v4 associations batch reply.
fn links_from(body: &[u8]) -> Result<BTreeMap<String, ClientLink>, ConnectorError> {
    // A deal without companies is absent from `results` (with 207, in `errors`).
    let batch: BatchReply<Association> = http::decode_body(body, "association reply")?;
    Ok(client_links(batch.results))
}

/// The companies of a batch read reply, by id, and why each of `ids` missing is missing.
fn companies_from(ids: &BTreeSet<String>, body: &[u8]) -> Result<CompanyBatch, ConnectorError> {
    let batch: BatchReply<Object> = http::decode_body(body, "company batch reply")?;
    let found: BTreeMap<String, Object> = batch
        .results
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let missing = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .map(|id| {
            let why = batch
                .errors
                .iter()
                .find(|e| e.about(id))
                .or(batch.errors.first())
                .map_or_else(|| "not in HubSpot's reply".to_owned(), BatchError::text);
            (id.clone(), why)
        })
        .collect();
    Ok((found, missing))
}

/// Where a deal stands, from its own properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DealStatus {
    Won,
    Lost,
    Open,
}

/// A HubSpot boolean property: the strings `true` and `false`.
fn flag(deal: &Object, name: &str) -> Result<Option<bool>, Problem> {
    match deal.prop(name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(Problem::bad(
            Location::record(deal.id.clone()).field(name),
            format!("`{v}` is not `true` or `false`"),
        )),
    }
}

/// Why a deal did not become changes, and whether a person must act (a business hold) or the
/// data is unreadable.
#[derive(Debug)]
struct Problem {
    location: Location,
    reason: String,
    business: bool,
}

impl Problem {
    fn bad(location: Location, reason: impl Into<String>) -> Problem {
        Problem {
            location,
            reason: reason.into(),
            business: false,
        }
    }

    fn hold(location: Location, reason: impl Into<String>) -> Problem {
        Problem {
            location,
            reason: reason.into(),
            business: true,
        }
    }

    fn reject(self, raw: String) -> Rejected {
        if self.business {
            Rejected::business(self.location, self.reason, raw)
        } else {
            Rejected::new(self.location, self.reason, raw)
        }
    }
}

/// An ISO 8601 time, or milliseconds since the epoch, as HubSpot writes them.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    text.parse::<i64>()
        .ok()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_time(text)
        .map(|t| t.date_naive())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

/// A number property as HubSpot sends it (a string such as `"40000.50"`), exactly.
fn parse_amount(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, rename = "policyName")]
    policy_name: Option<String>,
}

fn hubspot_message(reply: &Reply) -> String {
    match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(ErrorBody {
            message: Some(m),
            category: Some(c),
            ..
        }) => format!("{c}: {m}"),
        Ok(ErrorBody {
            message: Some(m), ..
        }) => m,
        _ => reply.text(),
    }
}

fn header_text<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The error of a 429: `DAILY` is a quota used up for the day; the ten-second and one-second
/// policies (or none named) are short rate limits, waited out per `Retry-After`, else per
/// `X-HubSpot-RateLimit-Interval-Milliseconds`, else per the policy's own window.
fn rate_limit_error(reply: &Reply) -> ConnectorError {
    let body: ErrorBody = serde_json::from_slice(&reply.body).unwrap_or_default();
    let retry_after = http::retry_after(&reply.headers, Utc::now());
    let policy = body.policy_name.as_deref().map(str::trim).unwrap_or("");
    if policy.eq_ignore_ascii_case("DAILY") {
        let usage = match (
            header_text(reply, "X-HubSpot-RateLimit-Daily").and_then(|v| v.parse::<u64>().ok()),
            header_text(reply, "X-HubSpot-RateLimit-Daily-Remaining")
                .and_then(|v| v.parse::<u64>().ok()),
        ) {
            (Some(max), Some(left)) => Some(format!(
                "daily {}/{max}, {left} remaining",
                max.saturating_sub(left)
            )),
            (Some(max), None) => Some(format!("daily limit {max}")),
            (None, Some(left)) => Some(format!("{left} remaining today")),
            (None, None) => None,
        };
        return ConnectorError::Quota {
            message: format!(
                "HubSpot's DAILY API limit is reached ({}); retrying today fails the same way, it \
                 resets at midnight in the account's time zone",
                body.message
                    .as_deref()
                    .unwrap_or("You have reached your daily limit.")
            ),
            usage,
            resets_after: retry_after,
        };
    }
    let interval = header_text(reply, "X-HubSpot-RateLimit-Interval-Milliseconds")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis);
    let window = if policy.eq_ignore_ascii_case("TEN_SECONDLY_ROLLING") {
        Some(Duration::from_secs(10))
    } else if policy.eq_ignore_ascii_case("SECONDLY") {
        Some(Duration::from_secs(1))
    } else {
        None
    };
    ConnectorError::RateLimited {
        retry_after: retry_after.or(interval).or(window),
    }
}
impl HubSpot {
    /// A builder for a connector authenticating with a private-app access token.
    pub fn builder(token: impl Into<SecretString>) -> HubSpotBuilder {
        HubSpotBuilder {
            token: token.into(),
            base_url: "https://api.hubapi.com".into(),
            legal_entity: None,
            default_currency: Currency::EUR,
            default_country: None,
            won_stages: vec!["closedwon".into()],
            start_from: None,
            invoice: InvoiceProperties::default(),
            payment: PaymentProperties::default(),
            timeout: Duration::from_secs(30),
            http: None,
        }
    }

    fn url(&self, path: &str) -> Result<Url, ConnectorError> {
        self.inner
            .base
            .join(path)
            .map_err(|e| ConnectorError::Internal {
                message: format!("bad HubSpot path {path}: {e}"),
            })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Reply, ConnectorError> {
        let mut request = self
            .inner
            .http
            .request(method, self.url(path)?)
            .bearer_auth(self.inner.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| ConnectorError::Internal {
                message: format!("cannot encode a request: {e}"),
            })?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let reply = http::send(request).await?;
        if reply.status.is_success() {
            Ok(reply)
        } else if reply.status.as_u16() == 429 {
            Err(rate_limit_error(&reply))
        } else {
            Err(http::status_error(&reply, hubspot_message(&reply), what))
        }
    }

    /// The search body of `state`'s query: won by stage or by `hs_is_closed_won`, modified at or
    /// after `since`, oldest first, with the query's `after`.
    fn search_body(&self, state: &State, limit: usize) -> Value {
        let since = json!({
            "propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": state.since.to_string()
        });
        let mut body = json!({
            "filterGroups": [
                {"filters": [
                    {"propertyName": "dealstage", "operator": "IN", "values": self.inner.won_stages},
                    since.clone(),
                ]},
                {"filters": [
                    {"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"},
                    since,
                ]},
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": DEAL_PROPERTIES,
            "limit": limit,
        });
        if let (Some(after), Some(obj)) = (&state.after, body.as_object_mut()) {
            obj.insert("after".into(), Value::String(after.clone()));
        }
        body
    }

    async fn search_deals(
        &self,
        state: &State,
        limit: usize,
    ) -> Result<SearchReply, ConnectorError> {
        let body = self.search_body(state, limit);
        let reply = self
            .call(
                Method::POST,
                "crm/v3/objects/deals/search",
                &[],
                Some(&body),
                "deal search",
            )
            .await?;
        http::decode(&reply, "deal search reply")
    }

    /// The client company of each deal.
    async fn companies_of(
        &self,
        deal_ids: &[String],
    ) -> Result<BTreeMap<String, ClientLink>, ConnectorError> {
        if deal_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let inputs: Vec<Value> = deal_ids.iter().map(|id| json!({"id": id})).collect();
        let reply = self
            .call(
                Method::POST,
                "crm/v4/associations/deals/companies/batch/read",
                &[],
                Some(&json!({"inputs": inputs})),
                "deal associations",
            )
            .await?;
        links_from(&reply.body)
    }

    /// The companies found, by id, and why each missing one is missing.
    async fn read_companies(&self, ids: &BTreeSet<String>) -> Result<CompanyBatch, ConnectorError> {
        if ids.is_empty() {
            return Ok((BTreeMap::new(), BTreeMap::new()));
        }
        let inputs: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
        let reply = self
            .call(
                Method::POST,
                "crm/v3/objects/companies/batch/read",
                &[],
                Some(&json!({"properties": COMPANY_PROPERTIES, "inputs": inputs})),
                "companies",
            )
            .await?;
        companies_from(ids, &reply.body)
    }

    /// One page of all companies (`GET /crm/v3/objects/companies`), as clients in the default
    /// currency. `after` is the previous page's [`CompanyPage::after`], sent back verbatim.
    ///
    /// ```no_run
    /// # async fn run(hubspot: odoo_connect_connectors::hubspot::HubSpot) -> Result<(), odoo_connect_connectors::ConnectorError> {
    /// let mut after = None;
    /// loop {
    ///     let page = hubspot.list_companies(after.as_deref(), 100).await?;
    ///     println!("{} clients, {} set aside", page.clients.len(), page.rejected.len());
    ///     match page.after {
    ///         Some(next) => after = Some(next),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_companies(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<CompanyPage, ConnectorError> {
        let mut query = vec![
            ("limit", limit.clamp(1, MAX_LIST_LIMIT).to_string()),
            ("properties", COMPANY_PROPERTIES.join(",")),
            ("archived", "false".to_owned()),
        ];
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        let reply = self
            .call(
                Method::GET,
                "crm/v3/objects/companies",
                &query,
                None,
                "companies",
            )
            .await?;
        let list: SearchReply = http::decode(&reply, "company list")?;
        Ok(self.company_page(list))
    }

    /// Reads one company list reply body the way [`HubSpot::list_companies`] does, without any
    /// request.
    ///
    /// Unstable: an entry point for the fuzz targets and parser property tests, not part of the
    /// API; it may change or go in any release.
    #[doc(hidden)]
    pub fn decode_company_list(&self, body: &[u8]) -> Result<CompanyPage, ConnectorError> {
        let list: SearchReply = http::decode_body(body, "company list")?;
        Ok(self.company_page(list))
    }

    /// The page of a company list reply.
    fn company_page(&self, list: SearchReply) -> CompanyPage {
        let mut page = CompanyPage {
            clients: Vec::new(),
            rejected: Vec::new(),
            after: next_after(list.paging),
        };
        for raw in list.results {
            let company: Object = match serde_json::from_value(raw.clone()) {
                Ok(c) => c,
                Err(e) => {
                    page.rejected.push(Rejected::new(
                        Location::unknown().field("results"),
                        format!("unreadable company: {e}"),
                        raw.to_string(),
                    ));
                    continue;
                }
            };
            match self.client_of(&company, self.inner.default_currency) {
                Ok(client) => page.clients.push(client),
                Err(p) => page.rejected.push(p.reject(raw.to_string())),
            }
        }
        page
    }

    /// The country of a company: its free-text `country`, or the default when it is empty.
    fn country(&self, company: &Object) -> Result<CountryCode, Problem> {
        let at = Location::record(format!("company {}", company.id)).field("country");
        match company.prop("country") {
            Some(text) => CountryCode::from_name(text).ok_or_else(|| {
                Problem::hold(
                    at,
                    format!("unknown_country: `{text}` names no country HubSpot's data can be matched to"),
                )
            }),
            None => self.inner.default_country.ok_or_else(|| {
                Problem::hold(
                    at,
                    "unknown_country: the company has no country and no default country is set",
                )
            }),
        }
    }

    /// A company as a client billed in `currency`.
    fn client_of(&self, company: &Object, currency: Currency) -> Result<Client, Problem> {
        let at = |field: &str| Location::record(format!("company {}", company.id)).field(field);
        let name = company.prop("name").ok_or_else(|| {
            Problem::hold(at("name"), "incomplete_client: the company has no name")
        })?;
        let country = self.country(company)?;
        let lines: Vec<String> = ["address", "address2"]
            .iter()
            .filter_map(|p| company.prop(p).map(str::to_owned))
            .collect();
        if lines.is_empty() {
            return Err(Problem::hold(
                at("address"),
                "incomplete_client: the company has no street address",
            ));
        }
        let city = company.prop("city").ok_or_else(|| {
            Problem::hold(at("city"), "incomplete_client: the company has no city")
        })?;
        let mut address = Address::new(lines, city, country);
        address.postal_code = company.prop("zip").map(str::to_owned);
        address.region = company.prop("state").map(str::to_owned);
        let key = ClientKey::new(format!("hubspot-company-{}", company.id))
            .map_err(|e| Problem::bad(at("id"), e.to_string()))?;
        let mut client = Client::new(
            key,
            name,
            country,
            address,
            currency,
            self.inner.legal_entity.clone(),
        );
        client.refs.insert(SYSTEM, company.id.clone());
        Ok(client)
    }

    /// Where the deal stands: its own `hs_is_closed_won` and `hs_is_closed`, else its stage.
    fn status(&self, deal: &Object) -> Result<DealStatus, Problem> {
        let won = flag(deal, "hs_is_closed_won")?;
        let closed = flag(deal, "hs_is_closed")?;
        let stage = deal.prop("dealstage");
        Ok(match (won, closed) {
            (Some(true), _) => DealStatus::Won,
            (Some(false), Some(true)) => DealStatus::Lost,
            (Some(false), _) => DealStatus::Open,
            (None, _) if stage.is_some_and(|s| self.inner.won_stages.iter().any(|w| w == s)) => {
                DealStatus::Won
            }
            (None, Some(true)) => DealStatus::Lost,
            (None, _) if stage == Some("closedlost") => DealStatus::Lost,
            (None, _) => DealStatus::Open,
        })
    }

    /// The contract of a won deal, without its client yet.
    fn contract_of(
        &self,
        deal: &Object,
        modified: DateTime<Utc>,
        client: &ClientKey,
    ) -> Result<Contract, Problem> {
        let at = |field: &str| Location::record(deal.id.clone()).field(field);
        let title = deal
            .prop("dealname")
            .ok_or_else(|| Problem::bad(at("dealname"), "the deal has no name"))?;
        let currency = match deal.prop("deal_currency_code") {
            Some(code) => Currency::from_str(code)
                .map_err(|e| Problem::bad(at("deal_currency_code"), e.to_string()))?,
            None => self.inner.default_currency,
        };
        let value = match deal.prop("amount") {
            None => None,
            Some(text) => {
                let amount = parse_amount(text).ok_or_else(|| {
                    Problem::bad(at("amount"), format!("`{text}` is not a number"))
                })?;
                if amount.is_sign_negative() && !amount.is_zero() {
                    return Err(Problem::bad(
                        at("amount"),
                        format!("the deal's amount `{text}` is negative"),
                    ));
                }
                Some(Money::new(amount, currency))
            }
        };
        let start = match deal.prop("closedate") {
            Some(d) => parse_date(d)
                .ok_or_else(|| Problem::bad(at("closedate"), format!("`{d}` is not a date")))?,
            None => modified.date_naive(),
        };
        let key = ContractKey::new(format!("hubspot-deal-{}", deal.id))
            .map_err(|e| Problem::bad(at("id"), e.to_string()))?;
        let mut contract = Contract::new(
            key,
            client.clone(),
            self.inner.legal_entity.clone(),
            title,
            currency,
            start,
        );
        contract.value = value;
        contract.refs.insert(SYSTEM, deal.id.clone());
        if let Some(owner) = deal.prop("hubspot_owner_id") {
            contract.refs.insert(OWNER_SYSTEM, owner.to_owned());
        }
        Ok(contract)
    }

    /// The client and contract changes of a won deal, or why not.
    fn map_deal(
        &self,
        deal: &Object,
        modified: DateTime<Utc>,
        link: Option<&ClientLink>,
        companies: &BTreeMap<String, Object>,
        missing: &BTreeMap<String, String>,
    ) -> Result<[Change; 2], Problem> {
        let at = |field: &str| Location::record(deal.id.clone()).field(field);
        let company_id = match link {
            None => {
                return Err(Problem::hold(
                    at("associations.companies"),
                    "no_client: the won deal has no associated company",
                ));
            }
            Some(ClientLink::Ambiguous(ids)) => {
                return Err(Problem::hold(
                    at("associations.companies"),
                    format!(
                        "no_client: the won deal is with companies {} and none is primary",
                        ids.join(", ")
                    ),
                ));
            }
            Some(ClientLink::One(id)) => id,
        };
        let Some(company) = companies.get(company_id) else {
            let why = missing
                .get(company_id)
                .map_or("not in HubSpot's reply", String::as_str);
            return Err(Problem::hold(
                Location::record(format!("company {company_id}")).field("id"),
                format!(
                    "no_client: company {company_id} of deal {} cannot be read ({why})",
                    deal.id
                ),
            ));
        };
        // The contract's currency is the client's billing currency.
        let provisional = ClientKey::new(format!("hubspot-company-{}", company.id))
            .map_err(|e| Problem::bad(at("associations.companies"), e.to_string()))?;
        let contract = self.contract_of(deal, modified, &provisional)?;
        let client = self.client_of(company, contract.currency)?;

        let deal_ref = ExternalRef::new(SYSTEM, deal.id.clone());
        let company_ref = ExternalRef::new(SYSTEM, company.id.clone());
        // Won once: the ids do not depend on later edits of the deal or the company.
        Ok([
            Change::new(
                ChangeId::of(
                    &company_ref,
                    RecordKind::Client,
                    &format!("closed-won/deal-{}", deal.id),
                ),
                company_ref,
                modified,
                Record::from(client),
            ),
            Change::new(
                ChangeId::of(&deal_ref, RecordKind::Contract, "closed-won"),
                deal_ref,
                modified,
                Record::from(contract),
            ),
        ])
    }

    fn write_back(&self, record: &Record) -> Result<Vec<(String, String)>, ConnectorError> {
        match record {
            Record::Invoice(inv) => Ok(invoice_values(&self.inner.invoice, inv)),
            Record::Payment(p) => Ok(payment_values(&self.inner.payment, p)),
            other => Err(ConnectorError::Unsupported {
                what: format!("writing a {} to a HubSpot deal", other.kind()),
            }),
        }
    }
}

fn invoice_values(props: &InvoiceProperties, inv: &InvoiceEvent) -> Vec<(String, String)> {
    vec![
        (props.number.clone(), inv.number.clone().unwrap_or_default()),
        (props.status.clone(), inv.status.to_string()),
        (props.amount_due.clone(), amount_text(&inv.amount_due)),
    ]
}

fn payment_values(props: &PaymentProperties, p: &Payment) -> Vec<(String, String)> {
    vec![
        (props.date.clone(), p.date.format("%Y-%m-%d").to_string()),
        (props.amount.clone(), amount_text(&p.amount)),
        (props.reference.clone(), p.reference.clone()),
    ]
}

/// An amount with at least its currency's decimals: `1125.00`.
fn amount_text(money: &Money) -> String {
    let mut amount = money.amount;
    if amount.scale() < money.currency.minor_units() {
        amount.rescale(money.currency.minor_units());
    }
    amount.to_string()
}

/// Whether HubSpot's stored value is the one to write: numbers compare as decimals, dates by day.
fn same_value(stored: Option<&str>, wanted: &str) -> bool {
    let stored = stored.unwrap_or("").trim();
    if stored == wanted {
        return true;
    }
    if let (Ok(a), Ok(b)) = (Decimal::from_str(stored), Decimal::from_str(wanted)) {
        return a == b;
    }
    if let (Some(a), Ok(b)) = (
        parse_date(stored),
        NaiveDate::parse_from_str(wanted, "%Y-%m-%d"),
    ) {
        return a == b;
    }
    false
}

impl Connector for HubSpot {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(SYSTEM)
            .page_size(100, MAX_SEARCH_LIMIT)
            // The search endpoints allow five requests a second per account.
            .rate_limit(RateLimit::new(5, Duration::from_secs(1)))
            .idempotent_writes(true)
            .produces([RecordKind::Client, RecordKind::Contract])
            .consumes([RecordKind::Invoice, RecordKind::Payment])
    }
}

#[async_trait]
impl Source for HubSpot {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        let state: State = match cursor {
            Some(c) => c.state()?,
            None => State::start(self.inner.start_from),
        };
        let limit = page_size.clamp(1, MAX_SEARCH_LIMIT);
        let reply = self.search_deals(&state, limit).await?;
        let read = self.read_deals(&state, reply, limit);
        let links = self.companies_of(&read.deal_ids()).await?;
        let (companies, missing) = self.read_companies(&wanted_companies(&links)).await?;
        self.deal_page(read, &links, &companies, &missing)
    }
}

/// The deals of one search reply: the won ones to map, those set aside, and where the next pull
/// starts.
struct DealsRead {
    deals: Vec<(Object, DateTime<Utc>, Value)>,
    rejected: Vec<Rejected>,
    next: State,
    has_more: bool,
}

impl DealsRead {
    fn deal_ids(&self) -> Vec<String> {
        self.deals.iter().map(|(d, _, _)| d.id.clone()).collect()
    }
}

/// The companies to read: those of the deals linked to one company.
fn wanted_companies(links: &BTreeMap<String, ClientLink>) -> BTreeSet<String> {
    links
        .values()
        .filter_map(|l| match l {
            ClientLink::One(id) => Some(id.clone()),
            ClientLink::Ambiguous(_) => None,
        })
        .collect()
}

impl HubSpot {
    /// Reads one deal search the way [`Source::pull`] does, without any request: `search` is the
    /// reply to the deal search, `associations` the reply to the deal-to-company associations
    /// read and `companies` the reply to the company batch read (each read only when `pull`
    /// would send the request).
    ///
    /// Unstable: an entry point for the fuzz targets and parser property tests, not part of the
    /// API; it may change or go in any release.
    #[doc(hidden)]
    pub fn decode_deal_page(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
        search: &[u8],
        associations: &[u8],
        companies: &[u8],
    ) -> Result<Page<Change>, ConnectorError> {
        let state: State = match cursor {
            Some(c) => c.state()?,
            None => State::start(self.inner.start_from),
        };
        let limit = page_size.clamp(1, MAX_SEARCH_LIMIT);
        let reply: SearchReply = http::decode_body(search, "deal search reply")?;
        let read = self.read_deals(&state, reply, limit);
        let links = if read.deals.is_empty() {
            BTreeMap::new()
        } else {
            links_from(associations)?
        };
        let wanted = wanted_companies(&links);
        let (found, missing) = if wanted.is_empty() {
            (BTreeMap::new(), BTreeMap::new())
        } else {
            companies_from(&wanted, companies)?
        };
        self.deal_page(read, &links, &found, &missing)
    }

    /// The deals of a search reply read from `state`.
    fn read_deals(&self, state: &State, reply: SearchReply, limit: usize) -> DealsRead {
        let after = next_after(reply.paging);

        let mut next = state.clone();
        next.read = next.read.saturating_add(reply.results.len() as u64);
        let mut rejected = Vec::new();
        let mut deals = Vec::new();
        for raw in reply.results {
            let deal: Object = match serde_json::from_value(raw.clone()) {
                Ok(d) => d,
                Err(e) => {
                    rejected.push(Rejected::new(
                        Location::unknown().field("results"),
                        format!("unreadable deal: {e}"),
                        raw.to_string(),
                    ));
                    continue;
                }
            };
            let Some(modified) = deal.modified() else {
                rejected.push(Rejected::new(
                    Location::record(deal.id.clone()).field("hs_lastmodifieddate"),
                    "the deal has no readable modification time",
                    raw.to_string(),
                ));
                continue;
            };
            let ms = modified.timestamp_millis();
            next.saw(&deal.id, ms);
            if ms == state.since && state.seen.contains(&deal.id) {
                continue;
            }
            match self.status(&deal) {
                Ok(DealStatus::Won) => deals.push((deal, modified, raw)),
                Ok(DealStatus::Lost | DealStatus::Open) => {}
                Err(p) => rejected.push(p.reject(raw.to_string())),
            }
        }

        // Follow the query's `after` while it has pages HubSpot serves; else the next query.
        let (next, has_more) = match after {
            Some(token) if next.read.saturating_add(limit as u64) <= MAX_SEARCH_RESULTS => {
                next.after = Some(token);
                (next, true)
            }
            Some(_) => {
                let next = next.next_query();
                // All 10,000 results at one millisecond cannot move the checkpoint.
                let stuck = next.since == state.since && next.seen == state.seen;
                (next, !stuck)
            }
            None => (next.next_query(), false),
        };
        DealsRead {
            deals,
            rejected,
            next,
            has_more,
        }
    }

    /// The page of the deals read, with their companies.
    fn deal_page(
        &self,
        read: DealsRead,
        links: &BTreeMap<String, ClientLink>,
        companies: &BTreeMap<String, Object>,
        missing: &BTreeMap<String, String>,
    ) -> Result<Page<Change>, ConnectorError> {
        let DealsRead {
            deals,
            mut rejected,
            next,
            has_more,
        } = read;
        let mut items = Vec::with_capacity(deals.len() * 2);
        for (deal, modified, raw) in deals {
            match self.map_deal(&deal, modified, links.get(&deal.id), companies, missing) {
                Ok(changes) => items.extend(changes),
                Err(p) => rejected.push(p.reject(raw.to_string())),
            }
        }
        Ok(Page::new(items, Some(Cursor::from_state(&next)?), has_more).with_rejected(rejected))
    }
}

#[async_trait]
impl CrmLookup for HubSpot {
    fn crm_system(&self) -> String {
        SYSTEM.to_owned()
    }

    /// The deal by id (`GET /crm/v3/objects/deals/{dealId}` with the source's properties), its
    /// primary company through the same association and company reads as [`Source::pull`], and
    /// both mapped as the source maps them: [`CrmDeal::Won`], or [`CrmDeal::NotBookable`] (not
    /// won, or a hold of the source such as `no_client`), or [`CrmDeal::NotFound`] (404, or an id
    /// that is not a HubSpot record id).
    async fn won_deal(&self, id: &str) -> Result<CrmDeal, ConnectorError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(CrmDeal::NotFound);
        }
        let reply = match self
            .call(
                Method::GET,
                &format!("crm/v3/objects/deals/{id}"),
                &[("properties", DEAL_PROPERTIES.join(","))],
                None,
                "deal",
            )
            .await
        {
            Ok(reply) => reply,
            Err(ConnectorError::NotFound { .. }) => return Ok(CrmDeal::NotFound),
            Err(e) => return Err(e),
        };
        let deal: Object = http::decode(&reply, "deal")?;
        let modified = deal.modified().ok_or_else(|| {
            ConnectorError::bad_data(
                Location::record(deal.id.clone()).field("hs_lastmodifieddate"),
                "the deal has no readable modification time",
            )
        })?;
        match self.status(&deal) {
            Ok(DealStatus::Won) => {}
            Ok(status) => {
                return Ok(CrmDeal::NotBookable {
                    reason: format!(
                        "not_won: HubSpot deal {} is {} (stage {:?})",
                        deal.id,
                        if status == DealStatus::Lost {
                            "lost"
                        } else {
                            "open"
                        },
                        deal.prop("dealstage").unwrap_or("")
                    ),
                });
            }
            Err(p) => return Ok(CrmDeal::NotBookable { reason: p.reason }),
        }
        let links = self.companies_of(std::slice::from_ref(&deal.id)).await?;
        let wanted = wanted_companies(&links);
        let (found, missing) = self.read_companies(&wanted).await?;
        match self.map_deal(&deal, modified, links.get(&deal.id), &found, &missing) {
            Ok([client, contract]) => match (client.record, contract.record) {
                (Record::Client(client), Record::Contract(contract)) => {
                    Ok(CrmDeal::Won { client, contract })
                }
                _ => Err(ConnectorError::Internal {
                    message: "a won deal did not map to a client and a contract".into(),
                }),
            },
            Err(p) => Ok(CrmDeal::NotBookable { reason: p.reason }),
        }
    }
}

#[async_trait]
impl Sink for HubSpot {
    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, ConnectorError> {
        if change.external.system != SYSTEM {
            return Err(ConnectorError::Unsupported {
                what: format!(
                    "a change for system {:?} given to HubSpot",
                    change.external.system
                ),
            });
        }
        let values = self.write_back(&change.record)?;
        let id = &change.external.id;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConnectorError::bad_data(
                Location::record(id.clone()),
                "not a HubSpot deal id",
            ));
        }
        let path = format!("crm/v3/objects/deals/{id}");
        let names: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
        let what = format!("HubSpot deal {id}");
        let reply = self
            .call(
                Method::GET,
                &path,
                &[("properties", names.join(","))],
                None,
                &what,
            )
            .await?;
        let current: Object = http::decode(&reply, "deal")?;
        if values
            .iter()
            .all(|(k, v)| same_value(current.properties.get(k).and_then(|x| x.as_deref()), v))
        {
            return Ok(ApplyOutcome::AlreadyApplied);
        }
        let properties: serde_json::Map<String, Value> = values
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        self.call(
            Method::PATCH,
            &path,
            &[],
            Some(&json!({ "properties": properties })),
            &what,
        )
        .await?;
        Ok(ApplyOutcome::Applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_hubspot_stores_them() {
        assert!(same_value(Some("1250.00"), "1250.0"));
        assert!(same_value(Some("2025-04-02T00:00:00Z"), "2025-04-02"));
        assert!(same_value(None, ""));
        assert!(!same_value(Some("posted"), "paid"));
    }

    #[test]
    fn times_as_iso_or_milliseconds() {
        let a = parse_time("2024-03-04T10:00:00.000Z").unwrap();
        let b = parse_time("1709546400000").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn amounts_are_exact() {
        assert_eq!(parse_amount("40000.50"), Some(Decimal::new(4_000_050, 2)));
        assert_eq!(parse_amount("0.1"), Some(Decimal::new(1, 1)));
        assert_eq!(parse_amount("1e3"), Some(Decimal::new(1000, 0)));
        assert_eq!(parse_amount("12,5"), None);
    }

    #[test]
    fn the_checkpoint_moves_to_the_latest_time_read() {
        let mut s = State::start(100);
        s.seen.insert("a".into());
        s.saw("b", 100);
        let same = s.clone().next_query();
        assert_eq!(same.since, 100);
        assert_eq!(same.seen, BTreeSet::from(["a".to_owned(), "b".to_owned()]));
        s.saw("c", 200);
        s.saw("d", 200);
        s.saw("e", 150);
        let moved = s.next_query();
        assert_eq!(moved.since, 200);
        assert_eq!(moved.seen, BTreeSet::from(["c".to_owned(), "d".to_owned()]));
        assert_eq!(moved.after, None);
    }

    #[test]
    fn paired_links_to_one_company_count_once() {
        let links: Vec<Association> = serde_json::from_value(json!([
            {"from": {"id": "1"}, "to": [
                {"toObjectId": 7, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 341, "label": null}]},
                {"toObjectId": 7, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}]}
            ]},
            {"from": {"id": "2"}, "to": [
                {"toObjectId": 8, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 341}]},
                {"toObjectId": 9, "associationTypes": [{"category": "USER_DEFINED", "typeId": 5, "label": "Primary"}]}
            ]},
            {"from": {"id": "3"}, "to": [
                {"toObjectId": 8, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 341}]}
            ]}
        ]))
        .unwrap();
        let links = client_links(links);
        assert_eq!(links["1"], ClientLink::One("7".into()));
        assert_eq!(
            links["2"],
            ClientLink::Ambiguous(vec!["8".into(), "9".into()])
        );
        assert_eq!(links["3"], ClientLink::One("8".into()));
    }
}
