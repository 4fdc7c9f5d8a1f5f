//! Salesforce (REST API): won opportunities and their accounts in, invoice and payment status out.
//!
//! **Source.** Won opportunities (`IsWon = true`) are read by SOQL
//! (`GET /services/data/vXX.X/query?q=...`) in ascending `SystemModstamp`, with their account's
//! fields through the `Account` relationship. Each becomes a [`Client`] (key
//! `salesforce-account-<Id>`, from the account's name and billing address) and a [`Contract`] (key
//! `salesforce-opportunity-<Id>`, titled with the opportunity's `Name`, starting on `CloseDate`,
//! valued at `Amount` in `CurrencyIsoCode`: [`Contract::value`] is `None` when `Amount` is null).
//! Won and closed are read from `IsWon` and `IsClosed`, never from the stage's label. Times are
//! Salesforce's `2024-01-15T10:30:00.000+0000`.
//!
//! What cannot go on goes to [`Page::rejected`] with its JSON, and nothing is lost:
//! - a **business hold** ([`Rejected::business`]) when the opportunity reads well but a person
//!   must act: a won opportunity with no account (`AccountId` null), an account that cannot be
//!   read, a `BillingCountry` no one recognises (free text is read with
//!   [`CountryCode::from_name`]: `Deutschland`, `United States`, `FRA`...), an account with no
//!   billing street or city;
//! - **bad data** ([`Rejected::new`]) when it cannot be read: a `SystemModstamp` that is not a
//!   time, an unknown currency code, an `Amount` that is not a number.
//!
//! **Checkpoints.** Pages follow the query's `nextRecordsUrl` (batch size set with the
//! `Sforce-Query-Options` header, 200 to 2,000). The cursor also keeps a keyset: the last
//! `SystemModstamp` read and the ids read at that instant. A new query asks for
//! `SystemModstamp >= <that second>` and skips what the keyset says was read, so opportunities
//! sharing a timestamp are neither lost nor repeated. A query locator that has expired
//! (`INVALID_QUERY_LOCATOR`, after about 15 minutes) is replaced by a new query from the keyset.
//!
//! **Lookup.** As a [`CrmLookup`], one opportunity is read by its `Id` with its account through
//! the same query (`... FROM Opportunity WHERE Id = '<Id>'`, the id checked to be a Salesforce id
//! first) and mapped as above: how a contract signed with only the opportunity's id is booked.
//!
//! **Sink.** An invoice or payment change whose `external` is an opportunity is written to its
//! fields (`PATCH /services/data/vXX.X/sobjects/Opportunity/<Id>`) after reading them; nothing is
//! written when they already hold the values. The field names are set with
//! [`SalesforceBuilder::invoice_fields`] and [`SalesforceBuilder::payment_fields`] (custom fields,
//! `__c`).
//!
//! **Auth and limits.** An OAuth 2.0 access token, sent as a bearer token, from an
//! [`AccessTokenProvider`]: a [`StaticToken`] ([`Salesforce::builder`]) or [`SalesforceOAuth`],
//! the refresh-token flow (`POST /services/oauth2/token`, `grant_type=refresh_token`). A request
//! refused with 401 (`INVALID_SESSION_ID`) gets a new token once and is sent again once; a second
//! refusal, or a token that cannot be renewed, is [`ConnectorError::Auth`]. Tokens never appear in
//! `Debug` output or errors. The org's API allowance used up (`REQUEST_LIMIT_EXCEEDED`, 403) is
//! [`ConnectorError::Quota`], with the `Sforce-Limit-Info` usage (`api-usage=15000/15000`); too
//! many concurrent long requests (`ConcurrentPerOrgLongTxn`) is a retryable
//! [`ConnectorError::RateLimited`]. [`Salesforce::api_usage`] gives the last usage reported.
//!
//! ```
//! use odoo_connect_connectors::salesforce::Salesforce;
//! use odoo_connect_connectors::Connector;
//!
//! let sf = Salesforce::builder("https://acme.my.salesforce.com", "00D000000000001!AQ4AQ")
//!     .legal_entity("firm-eu".parse()?)
//!     .build()?;
//! assert_eq!(sf.system(), "salesforce");
//! assert!(!format!("{sf:?}").contains("AQ4AQ"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::auth::{AccessTokenProvider, StaticToken};
use super::http::{self, Reply};
use super::{
    ApplyOutcome, Capabilities, Change, ChangeId, Connector, ConnectorError, CrmDeal, CrmLookup,
    Cursor, Location, Page, Record, RecordKind, Rejected, Sink, Source,
};
use odoo_connect_canonical::{
    Address, Client, ClientKey, Contract, ContractKey, CountryCode, Currency, ExternalRef,
    LegalEntityKey, Money,
};

/// The system name in [`ExternalRef`]s: `salesforce`.
pub const SYSTEM: &str = "salesforce";

/// The response header in which Salesforce reports the org's API usage.
pub const LIMIT_INFO_HEADER: &str = "sforce-limit-info";
/// Opportunity fields the invoice status is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvoiceFields {
    /// The invoice number (default `Odoo_Invoice_Number__c`).
    pub number: String,
    /// The status (default `Odoo_Invoice_Status__c`).
    pub status: String,
    /// The amount due (default `Odoo_Amount_Due__c`).
    pub amount_due: String,
}

impl Default for InvoiceFields {
    fn default() -> Self {
        InvoiceFields {
            number: "Odoo_Invoice_Number__c".into(),
            status: "Odoo_Invoice_Status__c".into(),
            amount_due: "Odoo_Amount_Due__c".into(),
        }
    }
}

/// Opportunity fields the last payment is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentFields {
    /// The value date (default `Odoo_Last_Payment_Date__c`).
    pub date: String,
    /// The amount (default `Odoo_Last_Payment_Amount__c`).
    pub amount: String,
    /// The payer's reference (default `Odoo_Last_Payment_Reference__c`).
    pub reference: String,
}

impl Default for PaymentFields {
    fn default() -> Self {
        PaymentFields {
            date: "Odoo_Last_Payment_Date__c".into(),
            amount: "Odoo_Last_Payment_Amount__c".into(),
            reference: "Odoo_Last_Payment_Reference__c".into(),
        }
    }
}

/// Builds a [`Salesforce`] connector.
pub struct SalesforceBuilder {
    instance_url: String,
    auth: Arc<dyn AccessTokenProvider>,
    api_version: String,
    legal_entity: Option<LegalEntityKey>,
    default_currency: Currency,
    default_country: Option<CountryCode>,
    multi_currency: bool,
    invoice: InvoiceFields,
    payment: PaymentFields,
    timeout: Duration,
}

impl fmt::Debug for SalesforceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceBuilder")
            .field("instance_url", &self.instance_url)
            .field("token", &"** redacted **")
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl SalesforceBuilder {
    /// The REST API version (default `v60.0`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The firm's legal entity the clients and contracts belong to (required).
    pub fn legal_entity(mut self, key: LegalEntityKey) -> Self {
        self.legal_entity = Some(key);
        self
    }

    /// The currency of the contracts (default EUR; see [`SalesforceBuilder::multi_currency`]).
    pub fn default_currency(mut self, currency: Currency) -> Self {
        self.default_currency = currency;
        self
    }

    /// The country of an account whose `BillingCountry` is empty. A `BillingCountry` that is
    /// filled in but not recognised is a business hold, never replaced by this default.
    pub fn default_country(mut self, country: CountryCode) -> Self {
        self.default_country = Some(country);
        self
    }

    /// Reads `CurrencyIsoCode` (only orgs with multiple currencies have the field).
    pub fn multi_currency(mut self, yes: bool) -> Self {
        self.multi_currency = yes;
        self
    }

    /// The opportunity fields invoice status is written to.
    pub fn invoice_fields(mut self, fields: InvoiceFields) -> Self {
        self.invoice = fields;
        self
    }

    /// The opportunity fields the last payment is written to.
    pub fn payment_fields(mut self, fields: PaymentFields) -> Self {
        self.payment = fields;
        self
    }

    /// Timeout of each request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connector; fails without a legal entity or with a bad URL or version.
    pub fn build(self) -> Result<Salesforce, ConnectorError> {
        let internal = |message: String| ConnectorError::Internal { message };
        let legal_entity = self.legal_entity.ok_or_else(|| {
            internal("Salesforce needs a legal entity: call .legal_entity(...)".into())
        })?;
        let instance = Url::parse(&self.instance_url)
            .map_err(|e| internal(format!("bad Salesforce instance URL: {e}")))?;
        let version = self.api_version.trim_start_matches('v');
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(internal(format!("bad API version {:?}", self.api_version)));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| ConnectorError::transport("cannot build the HTTP client", e))?;
        Ok(Salesforce {
            inner: Arc::new(Inner {
                http,
                instance,
                data_path: format!("/services/data/v{version}/"),
                auth: self.auth,
                api_usage: Mutex::new(None),
                legal_entity,
                default_currency: self.default_currency,
                default_country: self.default_country,
                multi_currency: self.multi_currency,
                invoice: self.invoice,
                payment: self.payment,
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    instance: Url,
    data_path: String,
    auth: Arc<dyn AccessTokenProvider>,
    legal_entity: LegalEntityKey,
    default_currency: Currency,
    default_country: Option<CountryCode>,
    multi_currency: bool,
    invoice: InvoiceFields,
    payment: PaymentFields,
    api_usage: Mutex<Option<String>>,
}

/// The Salesforce connector: a [`Source`] of clients and contracts from won opportunities and a
/// [`Sink`] of invoice and payment status. Cheap to clone.
#[derive(Clone)]
pub struct Salesforce {
    inner: Arc<Inner>,
}

impl fmt::Debug for Salesforce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Salesforce")
            .field("instance_url", &self.inner.instance.as_str())
            .field("api", &self.inner.data_path)
            .field("token", &"** redacted **")
            .field("legal_entity", &self.inner.legal_entity)
            .finish_non_exhaustive()
    }
}

/// Where the query resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// `SystemModstamp` of the last opportunity read, in ms since the epoch (`None`: from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    /// Ids read at `since`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    seen: BTreeSet<String>,
    /// The query's `nextRecordsUrl`, while it has more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

impl State {
    /// Whether an opportunity modified at `ms` was already given from this checkpoint: anything
    /// before `since` (the query is in `SystemModstamp` order), and the ids read at `since`.
    fn already_read(&self, ms: i64, id: &str) -> bool {
        match self.since {
            Some(since) => ms < since || (ms == since && self.seen.contains(id)),
            None => false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryReply {
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    #[serde(default)]
    records: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Opportunity {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    is_won: Option<bool>,
    #[serde(default)]
    is_closed: Option<bool>,
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    close_date: Option<String>,
    system_modstamp: String,
    #[serde(default)]
    currency_iso_code: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    account: Option<Account>,
}

/// The `Account` relationship: every field may be missing (not queried, not visible).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Account {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    billing_street: Option<String>,
    #[serde(default)]
    billing_city: Option<String>,
    #[serde(default)]
    billing_postal_code: Option<String>,
    #[serde(default)]
    billing_state: Option<String>,
    #[serde(default)]
    billing_country: Option<String>,
    #[serde(default)]
    system_modstamp: Option<String>,
}

/// Why an opportunity was set aside.
enum Hold {
    /// It cannot be read.
    BadData(Location, String),
    /// It reads well; a person must act.
    Business(Location, String),
}

impl Hold {
    fn into_rejected(self, raw: &Value) -> Rejected {
        match self {
            Hold::BadData(at, why) => Rejected::new(at, why, raw.to_string()),
            Hold::Business(at, why) => Rejected::business(at, why, raw.to_string()),
        }
    }
}

/// Salesforce's `2024-03-02T10:00:00.000+0000`, or RFC 3339.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A SOQL datetime literal in the documented `YYYY-MM-DDThh:mm:ssZ` form, at the second that
/// holds `ms` (earlier milliseconds of that second are skipped by the keyset).
fn soql_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn is_sf_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A JSON number (or numeric text) as a decimal, without going through a float.
fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// The first error's code and all errors' messages of Salesforce's `[{"message", "errorCode"}]`.
fn sf_message(reply: &Reply) -> (String, String) {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SfError {
        message: Option<String>,
        error_code: Option<String>,
    }
    match serde_json::from_slice::<Vec<SfError>>(&reply.body) {
        Ok(errors) if !errors.is_empty() => {
            let code = errors[0].error_code.clone().unwrap_or_default();
            let message = errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.error_code.as_deref().unwrap_or("ERROR"),
                        e.message.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            (code, message)
        }
        _ => (String::new(), reply.text()),
    }
}

/// The `api-usage=used/limit` part of a `Sforce-Limit-Info` header (the whole value when the
/// part is missing), if the reply has the header.
fn limit_info(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(LIMIT_INFO_HEADER)?.to_str().ok()?.trim();
    if value.is_empty() {
        return None;
    }
    let usage = value
        .split(';')
        .map(str::trim)
        .find(|part| part.starts_with("api-usage="))
        .unwrap_or(value);
    Some(usage.chars().take(200).collect())
}

/// A request, kept whole so that it can be sent again with a new token.
struct Call<'a> {
    method: Method,
    url: Url,
    query: &'a [(&'a str, String)],
    body: Option<Vec<u8>>,
    headers: &'a [(&'a str, String)],
}

impl Salesforce {
    /// A builder for the org at `instance_url` (`https://<domain>.my.salesforce.com`) with an OAuth
    /// access token obtained elsewhere (a [`StaticToken`]: when it expires, requests fail with
    /// [`ConnectorError::Auth`]; use [`Salesforce::with_token_provider`] to renew it).
    pub fn builder(
        instance_url: impl Into<String>,
        access_token: impl Into<SecretString>,
    ) -> SalesforceBuilder {
        Salesforce::with_token_provider(instance_url, StaticToken::new(access_token))
    }

    /// A builder for the org at `instance_url` whose tokens come from `provider` (for instance a
    /// [`SalesforceOAuth`]), refreshed once when Salesforce refuses one.
    pub fn with_token_provider(
        instance_url: impl Into<String>,
        provider: impl AccessTokenProvider + 'static,
    ) -> SalesforceBuilder {
        SalesforceBuilder {
            instance_url: instance_url.into(),
            auth: Arc::new(provider),
            api_version: "v60.0".into(),
            legal_entity: None,
            default_currency: Currency::EUR,
            default_country: None,
            multi_currency: false,
            invoice: InvoiceFields::default(),
            payment: PaymentFields::default(),
            timeout: Duration::from_secs(30),
        }
    }

    /// The org's API usage as Salesforce last reported it in `Sforce-Limit-Info`
    /// (`api-usage=18/15000`), if a reply carried it.
    pub fn api_usage(&self) -> Option<String> {
        self.inner
            .api_usage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn send(&self, call: &Call<'_>, token: &SecretString) -> Result<Reply, ConnectorError> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(call.query);
        }
        for (k, v) in call.headers {
            request = request.header(*k, v);
        }
        if let Some(body) = &call.body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let reply = http::send(request).await?;
        if let Some(usage) = limit_info(&reply.headers) {
            *self
                .inner
                .api_usage
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(usage);
        }
        Ok(reply)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
        what: &str,
    ) -> Result<Reply, ConnectorError> {
        let url = self
            .inner
            .instance
            .join(path)
            .map_err(|e| ConnectorError::Internal {
                message: format!("bad Salesforce path: {e}"),
            })?;
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|e| ConnectorError::Internal {
                    message: format!("cannot encode a request: {e}"),
                })?;
        let call = Call {
            method,
            url,
            query,
            body,
            headers,
        };
        let token = self.inner.auth.token().await?;
        let mut reply = self.send(&call, &token).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            // The session expired (INVALID_SESSION_ID): one new token, one more try.
            let (_, message) = sf_message(&reply);
            let token = match self.inner.auth.refresh().await {
                Ok(token) => token,
                Err(e) => {
                    return Err(ConnectorError::Auth {
                        status: Some(401),
                        message: format!("{message} (no new token: {e})"),
                    });
                }
            };
            tracing::info!("Salesforce refused the access token; sending again with a new one");
            reply = self.send(&call, &token).await?;
        }
        if reply.status.is_success() {
            return Ok(reply);
        }
        let (code, message) = sf_message(&reply);
        Err(match code.as_str() {
            "REQUEST_LIMIT_EXCEEDED" if message.contains("ConcurrentPerOrgLongTxn") => {
                ConnectorError::RateLimited {
                    retry_after: http::retry_after(&reply.headers, Utc::now()),
                }
            }
            "REQUEST_LIMIT_EXCEEDED" => ConnectorError::Quota {
                message,
                usage: limit_info(&reply.headers),
                resets_after: http::retry_after(&reply.headers, Utc::now()),
            },
            "INVALID_QUERY_LOCATOR" => ConnectorError::BadCursor {
                cursor: path.to_owned(),
            },
            _ if reply.status == StatusCode::UNAUTHORIZED => ConnectorError::Auth {
                status: Some(401),
                message: format!("{message} (refused again after a new token)"),
            },
            _ => http::status_error(&reply, message, what),
        })
    }

    fn soql(&self, state: &State) -> String {
        let mut q = format!("{} WHERE IsWon = true", self.select());
        if let Some(since) = state.since {
            q.push_str(&format!(" AND SystemModstamp >= {}", soql_time(since)));
        }
        q.push_str(" ORDER BY SystemModstamp ASC, Id ASC");
        q
    }

    /// `SELECT <the fields mapped> FROM Opportunity`, with the account's through the relationship.
    fn select(&self) -> String {
        let mut fields = vec![
            "Id",
            "Name",
            "StageName",
            "IsWon",
            "IsClosed",
            "Amount",
            "CloseDate",
            "SystemModstamp",
            "AccountId",
            "Account.Id",
            "Account.Name",
            "Account.BillingStreet",
            "Account.BillingCity",
            "Account.BillingPostalCode",
            "Account.BillingState",
            "Account.BillingCountry",
            "Account.SystemModstamp",
        ];
        if self.inner.multi_currency {
            fields.push("CurrencyIsoCode");
        }
        format!("SELECT {} FROM Opportunity", fields.join(", "))
    }

    async fn fetch(&self, state: &State, page_size: usize) -> Result<QueryReply, ConnectorError> {
        let batch = page_size.clamp(200, 2000);
        let options = [("Sforce-Query-Options", format!("batchSize={batch}"))];
        if let Some(next) = &state.next {
            if !next.starts_with(&self.inner.data_path) || next.contains("..") {
                return Err(ConnectorError::BadCursor {
                    cursor: next.clone(),
                });
            }
            match self
                .call(Method::GET, next, &[], None, &options, "query page")
                .await
            {
                Ok(reply) => return http::decode(&reply, "query reply"),
                // The locator expired: ask again from the keyset.
                Err(ConnectorError::BadCursor { .. }) => {
                    tracing::info!(
                        "Salesforce query locator expired; querying again from the cursor"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        let path = format!("{}query", self.inner.data_path);
        let reply = self
            .call(
                Method::GET,
                &path,
                &[("q", self.soql(state))],
                None,
                &options,
                "query",
            )
            .await?;
        http::decode(&reply, "query reply")
    }

    /// The client and contract of a won opportunity, or why it is held.
    fn map(&self, opp: &Opportunity, modified: DateTime<Utc>) -> Result<[Change; 2], Hold> {
        let at = |field: &str| Location::record(opp.id.clone()).field(field);
        if opp.is_won == Some(true) && opp.is_closed == Some(false) {
            return Err(Hold::BadData(
                at("IsClosed"),
                "the opportunity is won but not closed".into(),
            ));
        }
        let currency = match text(&opp.currency_iso_code) {
            Some(c) => Currency::from_str(c)
                .map_err(|e| Hold::BadData(at("CurrencyIsoCode"), format!("`{c}`: {e}")))?,
            None => self.inner.default_currency,
        };
        let value = match &opp.amount {
            None | Some(Value::Null) => None,
            Some(v) => Some(Money::new(
                decimal(v).ok_or_else(|| {
                    Hold::BadData(at("Amount"), format!("`{v}` is not an amount"))
                })?,
                currency,
            )),
        };
        let start = match text(&opp.close_date) {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|e| Hold::BadData(at("CloseDate"), format!("`{d}`: {e}")))?,
            None => modified.date_naive(),
        };
        let title = text(&opp.name)
            .ok_or_else(|| Hold::Business(at("Name"), "the opportunity has no name".into()))?;
        let account_id = opp
            .account
            .as_ref()
            .and_then(|a| text(&a.id))
            .or(text(&opp.account_id))
            .ok_or_else(|| {
                Hold::Business(
                    at("AccountId"),
                    "no_client: the won opportunity has no account".into(),
                )
            })?
            .to_owned();
        let account = opp.account.as_ref().ok_or_else(|| {
            Hold::Business(
                at("Account"),
                format!("the account {account_id} cannot be read (no access to it?)"),
            )
        })?;
        let acc_at = |field: &str| Location::record(account_id.clone()).field(field);
        let name = text(&account.name)
            .ok_or_else(|| Hold::Business(acc_at("Name"), "the account has no name".into()))?;
        let country = match text(&account.billing_country) {
            Some(c) => CountryCode::from_name(c).ok_or_else(|| {
                Hold::Business(
                    acc_at("BillingCountry"),
                    format!("unknown_country: `{c}` is not a country this SDK recognises"),
                )
            })?,
            None => self.inner.default_country.ok_or_else(|| {
                Hold::Business(
                    acc_at("BillingCountry"),
                    "the account has no billing country and no default country is set".into(),
                )
            })?,
        };
        let lines: Vec<String> = text(&account.billing_street)
            .map(|s| {
                s.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if lines.is_empty() {
            return Err(Hold::Business(
                acc_at("BillingStreet"),
                "the account has no billing street".into(),
            ));
        }
        let city = text(&account.billing_city).ok_or_else(|| {
            Hold::Business(
                acc_at("BillingCity"),
                "the account has no billing city".into(),
            )
        })?;
        let mut address = Address::new(lines, city, country);
        address.postal_code = text(&account.billing_postal_code).map(str::to_owned);
        address.region = text(&account.billing_state).map(str::to_owned);
        let client_key = ClientKey::new(format!("salesforce-account-{account_id}"))
            .map_err(|e| Hold::BadData(acc_at("Id"), e.to_string()))?;
        let contract_key = ContractKey::new(format!("salesforce-opportunity-{}", opp.id))
            .map_err(|e| Hold::BadData(at("Id"), e.to_string()))?;
        let mut client = Client::new(
            client_key.clone(),
            name,
            country,
            address,
            currency,
            self.inner.legal_entity.clone(),
        );
        client.refs.insert(SYSTEM, account_id.clone());
        let mut contract = Contract::new(
            contract_key,
            client_key,
            self.inner.legal_entity.clone(),
            title,
            currency,
            start,
        );
        contract.value = value;
        contract.refs.insert(SYSTEM, opp.id.clone());
        let opp_ref = ExternalRef::new(SYSTEM, opp.id.clone());
        let acc_ref = ExternalRef::new(SYSTEM, account_id.clone());
        let version = modified.timestamp_millis().to_string();
        let acc_modified = account.system_modstamp.as_deref().and_then(parse_time);
        let acc_version = format!(
            "{}/opportunity-{}/{version}",
            acc_modified.map_or(0, |t| t.timestamp_millis()),
            opp.id
        );
        Ok([
            Change::new(
                ChangeId::of(&acc_ref, RecordKind::Client, &acc_version),
                acc_ref,
                acc_modified.unwrap_or(modified).max(modified),
                Record::from(client),
            ),
            Change::new(
                ChangeId::of(&opp_ref, RecordKind::Contract, &version),
                opp_ref,
                modified,
                Record::from(contract),
            ),
        ])
    }

    fn values(&self, record: &Record) -> Result<Vec<(String, Value)>, ConnectorError> {
        let number = |d: Decimal| {
            serde_json::Number::from_str(&d.to_string())
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(d.to_string()))
        };
        match record {
            Record::Invoice(inv) => {
                let f = &self.inner.invoice;
                Ok(vec![
                    (
                        f.number.clone(),
                        inv.number.clone().map_or(Value::Null, Value::String),
                    ),
                    (f.status.clone(), Value::String(inv.status.to_string())),
                    (f.amount_due.clone(), number(inv.amount_due.amount)),
                ])
            }
            Record::Payment(p) => {
                let f = &self.inner.payment;
                Ok(vec![
                    (
                        f.date.clone(),
                        Value::String(p.date.format("%Y-%m-%d").to_string()),
                    ),
                    (f.amount.clone(), number(p.amount.amount)),
                    (f.reference.clone(), Value::String(p.reference.clone())),
                ])
            }
            other => Err(ConnectorError::Unsupported {
                what: format!("writing a {} to a Salesforce opportunity", other.kind()),
            }),
        }
    }
}

/// Whether a stored field value is the one to write (numbers compare as decimals).
fn same(stored: Option<&Value>, wanted: &Value) -> bool {
    let stored = stored.unwrap_or(&Value::Null);
    if stored == wanted {
        return true;
    }
    let as_decimal = |v: &Value| match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    };
    matches!((as_decimal(stored), as_decimal(wanted)), (Some(a), Some(b)) if a == b)
}

impl Connector for Salesforce {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(SYSTEM)
            .page_size(2000, 2000)
            .idempotent_writes(true)
            .produces([RecordKind::Client, RecordKind::Contract])
            .consumes([RecordKind::Invoice, RecordKind::Payment])
    }
}

#[async_trait]
impl Source for Salesforce {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        let state: State = match cursor {
            Some(c) => c.state()?,
            None => State::default(),
        };
        let reply = self.fetch(&state, page_size).await?;
        self.page_of(&state, reply)
    }
}

impl Salesforce {
    /// Reads one SOQL query reply body the way [`Source::pull`] does, without any request: the
    /// page `pull` would return for `cursor` had Salesforce answered `body`.
    ///
    /// Unstable: an entry point for the fuzz targets and parser property tests, not part of the
    /// API; it may change or go in any release.
    #[doc(hidden)]
    pub fn decode_query_page(
        &self,
        cursor: Option<&Cursor>,
        body: &[u8],
    ) -> Result<Page<Change>, ConnectorError> {
        let state: State = match cursor {
            Some(c) => c.state()?,
            None => State::default(),
        };
        let reply: QueryReply = http::decode_body(body, "query reply")?;
        self.page_of(&state, reply)
    }

    /// The page of a query reply read from `state`.
    fn page_of(&self, state: &State, reply: QueryReply) -> Result<Page<Change>, ConnectorError> {
        let mut since = state.since;
        let mut seen = state.seen.clone();
        let mut items = Vec::new();
        let mut rejected = Vec::new();
        for raw in reply.records {
            let opp: Opportunity = match serde_json::from_value(raw.clone()) {
                Ok(o) => o,
                Err(e) => {
                    let location = match raw.get("Id").and_then(Value::as_str) {
                        Some(id) => Location::record(id),
                        None => Location::unknown().field("records"),
                    };
                    rejected.push(Rejected::new(
                        location,
                        format!("unreadable opportunity: {e}"),
                        raw.to_string(),
                    ));
                    continue;
                }
            };
            let Some(modified) = parse_time(&opp.system_modstamp) else {
                rejected.push(Rejected::new(
                    Location::record(opp.id.clone()).field("SystemModstamp"),
                    format!("`{}` is not a time", opp.system_modstamp),
                    raw.to_string(),
                ));
                continue;
            };
            let ms = modified.timestamp_millis();
            if state.already_read(ms, &opp.id) {
                continue;
            }
            if since.is_none_or(|s| ms > s) {
                since = Some(ms);
                seen.clear();
            }
            seen.insert(opp.id.clone());
            if opp.is_won == Some(false) {
                // Not won (the query asks for won ones only): nothing to bring in.
                continue;
            }
            match self.map(&opp, modified) {
                Ok(changes) => items.extend(changes),
                Err(hold) => rejected.push(hold.into_rejected(&raw)),
            }
        }
        let has_more = !reply.done && reply.next_records_url.is_some();
        let next = State {
            since,
            seen,
            next: if has_more {
                reply.next_records_url
            } else {
                None
            },
        };
        Ok(Page::new(items, Some(Cursor::from_state(&next)?), has_more).with_rejected(rejected))
    }
}

#[async_trait]
impl CrmLookup for Salesforce {
    fn crm_system(&self) -> String {
        SYSTEM.to_owned()
    }

    /// The opportunity by `Id` with its `Account`, through the same SOQL query endpoint and
    /// fields as [`Source::pull`] (`SELECT ... FROM Opportunity WHERE Id = '<id>'`), mapped as
    /// the source maps it: [`CrmDeal::Won`], [`CrmDeal::NotBookable`] (not won, or a hold of the
    /// source such as `no_client`), or [`CrmDeal::NotFound`] (no such record, or an id that is
    /// not a Salesforce id).
    async fn won_deal(&self, id: &str) -> Result<CrmDeal, ConnectorError> {
        if !is_sf_id(id) {
            return Ok(CrmDeal::NotFound);
        }
        // An id is 15 or 18 letters and digits (checked above): safe inside the literal.
        let q = format!("{} WHERE Id = '{id}' LIMIT 1", self.select());
        let path = format!("{}query", self.inner.data_path);
        let reply = self
            .call(Method::GET, &path, &[("q", q)], None, &[], "opportunity")
            .await?;
        let reply: QueryReply = http::decode(&reply, "opportunity query reply")?;
        let Some(raw) = reply.records.into_iter().next() else {
            return Ok(CrmDeal::NotFound);
        };
        let opp: Opportunity = serde_json::from_value(raw).map_err(|e| {
            ConnectorError::bad_data(Location::record(id), format!("unreadable opportunity: {e}"))
        })?;
        let modified = parse_time(&opp.system_modstamp).ok_or_else(|| {
            ConnectorError::bad_data(
                Location::record(opp.id.clone()).field("SystemModstamp"),
                format!("`{}` is not a time", opp.system_modstamp),
            )
        })?;
        if opp.is_won != Some(true) {
            let state = if opp.is_closed == Some(true) {
                "lost"
            } else {
                "open"
            };
            return Ok(CrmDeal::NotBookable {
                reason: format!("not_won: Salesforce opportunity {} is {state}", opp.id),
            });
        }
        match self.map(&opp, modified) {
            Ok([client, contract]) => match (client.record, contract.record) {
                (Record::Client(client), Record::Contract(contract)) => {
                    Ok(CrmDeal::Won { client, contract })
                }
                _ => Err(ConnectorError::Internal {
                    message: "a won opportunity did not map to a client and a contract".into(),
                }),
            },
            Err(Hold::Business(_, reason) | Hold::BadData(_, reason)) => {
                Ok(CrmDeal::NotBookable { reason })
            }
        }
    }
}

#[async_trait]
impl Sink for Salesforce {
    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, ConnectorError> {
        if change.external.system != SYSTEM {
            return Err(ConnectorError::Unsupported {
                what: format!(
                    "a change for system {:?} given to Salesforce",
                    change.external.system
                ),
            });
        }
        let id = &change.external.id;
        if !is_sf_id(id) {
            return Err(ConnectorError::bad_data(
                Location::record(id.clone()),
                "not a Salesforce record id",
            ));
        }
        let values = self.values(&change.record)?;
        let path = format!("{}sobjects/Opportunity/{id}", self.inner.data_path);
        let what = format!("Salesforce opportunity {id}");
        let names: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
        let reply = self
            .call(
                Method::GET,
                &path,
                &[("fields", names.join(","))],
                None,
                &[],
                &what,
            )
            .await?;
        let current: Map<String, Value> = http::decode(&reply, "opportunity")?;
        if values.iter().all(|(k, v)| same(current.get(k), v)) {
            return Ok(ApplyOutcome::AlreadyApplied);
        }
        let body: Map<String, Value> = values.into_iter().collect();
        self.call(
            Method::PATCH,
            &path,
            &[],
            Some(&Value::Object(body)),
            &[],
            &what,
        )
        .await?;
        Ok(ApplyOutcome::Applied)
    }
}

/// The OAuth 2.0 refresh-token flow of Salesforce: an [`AccessTokenProvider`] that gets a new
/// access token with `POST <login>/services/oauth2/token` (`grant_type=refresh_token`,
/// `client_id`, `client_secret` when the connected app requires it, `refresh_token`), and keeps it
/// until Salesforce refuses it. A refresh token Salesforce rotates (a `refresh_token` in the
/// reply) replaces the old one. An `invalid_grant` (revoked or expired refresh token) is
/// [`ConnectorError::Auth`]: a person must authorise the app again.
///
/// ```
/// use odoo_connect_connectors::salesforce::{Salesforce, SalesforceOAuth};
///
/// let oauth = SalesforceOAuth::new("https://login.salesforce.com", "3MVG9-consumer-key", "5Aep-refresh")?
///     .client_secret("consumer-secret");
/// assert!(!format!("{oauth:?}").contains("5Aep-refresh"));
/// let sf = Salesforce::with_token_provider("https://acme.my.salesforce.com", oauth)
///     .legal_entity("firm-eu".parse()?)
///     .build()?;
/// # let _ = sf;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SalesforceOAuth {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    client_secret: Option<SecretString>,
    refresh_token: Mutex<SecretString>,
    current: Mutex<Option<SecretString>>,
    instance_url: Mutex<Option<String>>,
    issued_at: Mutex<Option<DateTime<Utc>>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for SalesforceOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceOAuth")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"** redacted **")
            .field("refresh_token", &"** redacted **")
            .field("access_token", &"** redacted **")
            .finish_non_exhaustive()
    }
}

/// The token endpoint's reply (`access_token`, `instance_url`, `issued_at`...).
#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    instance_url: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The token endpoint's error (`{"error": "invalid_grant", "error_description": "..."}`).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SalesforceOAuth {
    /// The flow against the login host (`https://login.salesforce.com`,
    /// `https://test.salesforce.com` for sandboxes, or the org's My Domain URL) for the connected
    /// app `client_id` (its consumer key), with a refresh token it was given. Fails on a bad URL.
    pub fn new(
        login_url: &str,
        client_id: impl Into<String>,
        refresh_token: impl Into<SecretString>,
    ) -> Result<SalesforceOAuth, ConnectorError> {
        let internal = |message: String| ConnectorError::Internal { message };
        let login = Url::parse(login_url)
            .map_err(|e| internal(format!("bad Salesforce login URL: {e}")))?;
        let token_url = login
            .join("/services/oauth2/token")
            .map_err(|e| internal(format!("bad Salesforce login URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConnectorError::transport("cannot build the HTTP client", e))?;
        Ok(SalesforceOAuth {
            http,
            token_url,
            client_id: client_id.into(),
            client_secret: None,
            refresh_token: Mutex::new(refresh_token.into()),
            current: Mutex::new(None),
            instance_url: Mutex::new(None),
            issued_at: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// The connected app's consumer secret (needed unless the app does without it).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> SalesforceOAuth {
        self.client_secret = Some(secret.into());
        self
    }

    /// An access token already held, used until Salesforce refuses it.
    pub fn access_token(self, token: impl Into<SecretString>) -> SalesforceOAuth {
        *lock(&self.current) = Some(token.into());
        self
    }

    /// The `instance_url` of the last token reply: where the org's API is.
    pub fn instance_url(&self) -> Option<String> {
        lock(&self.instance_url).clone()
    }

    /// When the last token was issued (`issued_at`, ms since the epoch).
    pub fn issued_at(&self) -> Option<DateTime<Utc>> {
        *lock(&self.issued_at)
    }

    async fn request_token(&self) -> Result<SecretString, ConnectorError> {
        let refresh_token = lock(&self.refresh_token).clone();
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("client_id", &self.client_id);
            if let Some(secret) = &self.client_secret {
                form.append_pair("client_secret", secret.expose_secret());
            }
            form.append_pair("refresh_token", refresh_token.expose_secret());
            form.finish()
        };
        let request = self
            .http
            .post(self.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let reply = http::send(request).await?;
        if !reply.status.is_success() {
            let status = reply.status.as_u16();
            return Err(match serde_json::from_slice::<TokenError>(&reply.body) {
                Ok(e) if matches!(status, 400 | 401 | 403) => ConnectorError::Auth {
                    status: Some(status),
                    message: format!(
                        "Salesforce token refresh refused: {}: {}",
                        e.error,
                        e.error_description.unwrap_or_default()
                    ),
                },
                _ => http::status_error(&reply, reply.text(), "Salesforce token endpoint"),
            });
        }
        let token: TokenReply = http::decode(&reply, "token reply")?;
        if token.access_token.trim().is_empty() {
            return Err(ConnectorError::bad_data(
                Location::unknown().field("access_token"),
                "the token reply has an empty access token",
            ));
        }
        let issued = token
            .issued_at
            .as_deref()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .and_then(DateTime::<Utc>::from_timestamp_millis);
        *lock(&self.issued_at) = issued;
        if let Some(url) = token.instance_url {
            *lock(&self.instance_url) = Some(url);
        }
        if let Some(rotated) = token.refresh_token.filter(|t| !t.trim().is_empty()) {
            *lock(&self.refresh_token) = SecretString::from(rotated);
        }
        let access = SecretString::from(token.access_token);
        *lock(&self.current) = Some(access.clone());
        Ok(access)
    }
}

#[async_trait]
impl AccessTokenProvider for SalesforceOAuth {
    async fn token(&self) -> Result<SecretString, ConnectorError> {
        if let Some(token) = lock(&self.current).clone() {
            return Ok(token);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(token) = lock(&self.current).clone() {
            return Ok(token);
        }
        self.request_token().await
    }

    async fn refresh(&self) -> Result<SecretString, ConnectorError> {
        let _one_at_a_time = self.refreshing.lock().await;
        *lock(&self.current) = None;
        self.request_token().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_times_and_literals() {
        let t = parse_time("2024-03-02T10:00:00.000+0000").unwrap();
        assert_eq!(soql_time(t.timestamp_millis()), "2024-03-02T10:00:00Z");
        let t = parse_time("2024-01-15T10:30:00.750+0000").unwrap();
        assert_eq!(soql_time(t.timestamp_millis()), "2024-01-15T10:30:00Z");
        let state = State {
            since: Some(t.timestamp_millis()),
            seen: ["a".to_owned()].into(),
            next: None,
        };
        assert!(state.already_read(t.timestamp_millis() - 1, "z"));
        assert!(state.already_read(t.timestamp_millis(), "a"));
        assert!(!state.already_read(t.timestamp_millis(), "b"));
        assert!(!state.already_read(t.timestamp_millis() + 1, "a"));
        assert!(is_sf_id("0065g00000AbCdEAAV"));
        assert!(!is_sf_id("../Account/001"));
        assert!(same(
            Some(&serde_json::json!(1125.0)),
            &serde_json::json!(1125.00)
        ));
    }
}
