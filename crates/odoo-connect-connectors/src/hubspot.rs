//! HubSpot CRM (v3 objects API): closed-won deals in, invoice and payment status back out.
//!
//! **Source.** Deals whose `dealstage` is a won stage (`closedwon` by default) are searched in
//! ascending `hs_lastmodifieddate` (`POST /crm/v3/objects/deals/search`). Each becomes two changes:
//! a [`Contract`] (key `hubspot-deal-<id>`, titled with `dealname`, in `deal_currency_code`, starting
//! on `closedate`) and the [`Client`] it is with, read from the deal's primary company
//! (`POST /crm/v4/associations/deals/companies/batch/read`, then
//! `POST /crm/v3/objects/companies/batch/read`). A deal that cannot be mapped (no company, no
//! address, an unknown currency) goes to [`Page::rejected`] with the deal's JSON.
//!
//! The cursor is a keyset on `hs_lastmodifieddate`: the time of the last deal read and the ids
//! already read at that very millisecond. The search API's `after` token is an offset into a result
//! set that moves as deals are edited (an edited deal jumps to the end and shifts the others, so an
//! offset can step over one) and stops at 10,000 results; it is followed only while a page's deals
//! all share one millisecond, where nothing else can move the keyset forward.
//!
//! **Sink.** An [`InvoiceEvent`] or a [`Payment`] change whose `external` is a HubSpot deal is
//! written to that deal's properties (`PATCH /crm/v3/objects/deals/{id}`), after reading them: when
//! the deal already holds the values nothing is written ([`ApplyOutcome::AlreadyApplied`]), so
//! `hs_lastmodifieddate` does not move and the change does not come back as an echo. The property
//! names are set with [`HubSpotBuilder::invoice_properties`] and
//! [`HubSpotBuilder::payment_properties`]; they must exist in the portal (custom deal properties).
//!
//! **Auth and limits.** A private-app access token, sent as a bearer token; it never appears in
//! `Debug` output or errors. A 429 is [`ConnectorError::RateLimited`] with the `Retry-After` the
//! API gave.
//!
//! ```
//! use odoo_connect_connectors::hubspot::HubSpot;
//! use odoo_connect_connectors::Connector;
//!
//! let hubspot = HubSpot::builder("pat-na1-0000")
//!     .legal_entity("firm-us".parse()?)
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
    ApplyOutcome, Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Location,
    Page, RateLimit, Record, RecordKind, Rejected, Sink, Source,
};
use odoo_connect_canonical::{
    Address, Client, ClientKey, Contract, ContractKey, CountryCode, Currency, ExternalRef,
    InvoiceEvent, LegalEntityKey, Money, Payment,
};

/// The system name in [`ExternalRef`]s: `hubspot`.
pub const SYSTEM: &str = "hubspot";

/// Largest `limit` the search API takes.
const MAX_SEARCH_LIMIT: usize = 200;

const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "deal_currency_code",
    "closedate",
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

    /// The country of a company whose `country` is not a two-letter code (default: none, the deal
    /// is rejected).
    pub fn default_country(mut self, country: CountryCode) -> Self {
        self.default_country = Some(country);
        self
    }

    /// The deal stages that count as won (default `closedwon`; a custom pipeline has its own ids).
    pub fn won_stages<I, S>(mut self, stages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.won_stages = stages.into_iter().map(Into::into).collect();
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

    /// The connector; fails without a legal entity or with a bad URL.
    pub fn build(self) -> Result<HubSpot, ConnectorError> {
        let legal_entity = self.legal_entity.ok_or_else(|| ConnectorError::Internal {
            message: "HubSpot needs a legal entity: call .legal_entity(...)".into(),
        })?;
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

/// Where the deal search resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// `hs_lastmodifieddate` of the last deal read, in ms since the epoch.
    since: i64,
    /// Ids of the deals already read at `since`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    seen: BTreeSet<String>,
    /// The search's `after` token, while a page's deals all share `since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
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
    next: Option<NextPage>,
}

#[derive(Debug, Deserialize)]
struct NextPage {
    after: String,
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

#[derive(Debug, Deserialize)]
struct BatchReply<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Association {
    from: AssociationFrom,
    #[serde(default)]
    to: Vec<AssociationTo>,
}

#[derive(Debug, Deserialize)]
struct AssociationFrom {
    id: String,
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
    label: Option<String>,
    #[serde(default, rename = "typeId")]
    type_id: Option<i64>,
}

/// HubSpot's `deal_to_company` primary association type.
const PRIMARY_DEAL_TO_COMPANY: i64 = 5;

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

fn hubspot_message(reply: &Reply) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        category: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(ErrorBody {
            message: Some(m),
            category: Some(c),
        }) => format!("{c}: {m}"),
        Ok(ErrorBody {
            message: Some(m), ..
        }) => m,
        _ => reply.text(),
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
        } else {
            Err(http::status_error(&reply, hubspot_message(&reply), what))
        }
    }

    async fn search_deals(
        &self,
        state: &State,
        limit: usize,
    ) -> Result<SearchReply, ConnectorError> {
        let mut body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": "dealstage", "operator": "IN", "values": self.inner.won_stages},
                {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": state.since.to_string()},
            ]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": DEAL_PROPERTIES,
            "limit": limit,
        });
        if let (Some(after), Some(obj)) = (&state.after, body.as_object_mut()) {
            obj.insert("after".into(), Value::String(after.clone()));
        }
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

    /// The primary company of each deal.
    async fn companies_of(
        &self,
        deal_ids: &[String],
    ) -> Result<BTreeMap<String, String>, ConnectorError> {
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
        let batch: BatchReply<Association> = http::decode(&reply, "association reply")?;
        let mut out = BTreeMap::new();
        for a in batch.results {
            let is_primary = |t: &AssociationTo| {
                t.association_types.iter().any(|k| {
                    k.type_id == Some(PRIMARY_DEAL_TO_COMPANY)
                        || k.label.as_deref() == Some("Primary")
                })
            };
            let chosen = a.to.iter().find(|t| is_primary(t)).or(a.to.first());
            if let Some(t) = chosen {
                let id = match &t.to_object_id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(a.from.id, id);
            }
        }
        Ok(out)
    }

    async fn read_companies(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, Object>, ConnectorError> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
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
        let batch: BatchReply<Object> = http::decode(&reply, "company batch reply")?;
        Ok(batch
            .results
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }

    fn country(&self, company: &Object) -> Option<CountryCode> {
        company
            .prop("country")
            .and_then(|c| CountryCode::new(&c.to_ascii_uppercase()).ok())
            .or(self.inner.default_country)
    }

    /// The client and contract of a won deal, or why not.
    fn map_deal(
        &self,
        deal: &Object,
        modified: DateTime<Utc>,
        company: Option<&Object>,
    ) -> Result<[Change; 2], (Location, String)> {
        let at = |field: &str| Location::record(deal.id.clone()).field(field);
        let company = company.ok_or_else(|| {
            (
                at("associations.companies"),
                "the deal has no associated company".to_owned(),
            )
        })?;
        let company_at =
            |field: &str| Location::record(format!("company {}", company.id)).field(field);
        let title = deal
            .prop("dealname")
            .ok_or_else(|| (at("dealname"), "the deal has no name".to_owned()))?;
        let currency = match deal.prop("deal_currency_code") {
            Some(code) => {
                Currency::from_str(code).map_err(|e| (at("deal_currency_code"), e.to_string()))?
            }
            None => self.inner.default_currency,
        };
        let start = match deal.prop("closedate") {
            Some(d) => {
                parse_date(d).ok_or_else(|| (at("closedate"), format!("`{d}` is not a date")))?
            }
            None => modified.date_naive(),
        };
        let name = company
            .prop("name")
            .ok_or_else(|| (company_at("name"), "the company has no name".to_owned()))?;
        let country = self.country(company).ok_or_else(|| {
            (
                company_at("country"),
                format!(
                    "`{}` is not a two-letter country code and no default country is set",
                    company.prop("country").unwrap_or("")
                ),
            )
        })?;
        let lines: Vec<String> = ["address", "address2"]
            .iter()
            .filter_map(|p| company.prop(p).map(str::to_owned))
            .collect();
        if lines.is_empty() {
            return Err((
                company_at("address"),
                "the company has no street address".into(),
            ));
        }
        let city = company
            .prop("city")
            .ok_or_else(|| (company_at("city"), "the company has no city".to_owned()))?;
        let mut address = Address::new(lines, city, country);
        address.postal_code = company.prop("zip").map(str::to_owned);
        address.region = company.prop("state").map(str::to_owned);

        let client_key = ClientKey::new(format!("hubspot-company-{}", company.id))
            .map_err(|e| (company_at("id"), e.to_string()))?;
        let contract_key = ContractKey::new(format!("hubspot-deal-{}", deal.id))
            .map_err(|e| (at("id"), e.to_string()))?;

        let mut client = Client::new(
            client_key.clone(),
            name,
            country,
            address,
            currency,
            self.inner.legal_entity.clone(),
        );
        client.refs.insert(SYSTEM, company.id.clone());
        let mut contract = Contract::new(
            contract_key,
            client_key,
            self.inner.legal_entity.clone(),
            title,
            currency,
            start,
        );
        contract.refs.insert(SYSTEM, deal.id.clone());

        let deal_ref = ExternalRef::new(SYSTEM, deal.id.clone());
        let company_ref = ExternalRef::new(SYSTEM, company.id.clone());
        let deal_version = modified.timestamp_millis().to_string();
        let company_version = format!(
            "{}/deal-{}/{}",
            company.modified().map_or(0, |t| t.timestamp_millis()),
            deal.id,
            deal_version
        );
        Ok([
            Change::new(
                ChangeId::of(&company_ref, RecordKind::Client, &company_version),
                company_ref,
                company.modified().unwrap_or(modified).max(modified),
                Record::from(client),
            ),
            Change::new(
                ChangeId::of(&deal_ref, RecordKind::Contract, &deal_version),
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
            None => State::default(),
        };
        let limit = page_size.clamp(1, MAX_SEARCH_LIMIT);
        let reply = self.search_deals(&state, limit).await?;
        let has_more = reply
            .paging
            .as_ref()
            .and_then(|p| p.next.as_ref())
            .is_some();

        let mut rejected = Vec::new();
        let mut deals = Vec::new();
        let mut last = (state.since, Vec::<String>::new());
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
            if ms > last.0 {
                last = (ms, Vec::new());
            }
            if ms == last.0 {
                last.1.push(deal.id.clone());
            }
            if ms == state.since && state.seen.contains(&deal.id) {
                continue;
            }
            deals.push((deal, modified, raw));
        }

        let next = if last.0 == state.since {
            let mut seen = state.seen.clone();
            seen.extend(last.1);
            State {
                since: state.since,
                seen,
                after: reply
                    .paging
                    .and_then(|p| p.next)
                    .map(|n| n.after)
                    .filter(|_| has_more),
            }
        } else {
            State {
                since: last.0,
                seen: last.1.into_iter().collect(),
                after: None,
            }
        };

        let deal_ids: Vec<String> = deals.iter().map(|(d, _, _)| d.id.clone()).collect();
        let company_of = self.companies_of(&deal_ids).await?;
        let wanted: BTreeSet<String> = company_of.values().cloned().collect();
        let companies = self.read_companies(&wanted).await?;

        let mut items = Vec::with_capacity(deals.len() * 2);
        for (deal, modified, raw) in deals {
            let company = company_of.get(&deal.id).and_then(|id| companies.get(id));
            match self.map_deal(&deal, modified, company) {
                Ok(changes) => items.extend(changes),
                Err((location, reason)) => {
                    rejected.push(Rejected::new(location, reason, raw.to_string()))
                }
            }
        }
        Ok(Page::new(items, Some(Cursor::from_state(&next)?), has_more).with_rejected(rejected))
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
}
