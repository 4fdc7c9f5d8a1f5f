//! Salesforce (REST API): won opportunities and their accounts in, invoice and payment status out.
//!
//! **Source.** Opportunities with `IsWon = true` are read by SOQL
//! (`GET /services/data/vXX.X/query?q=...`) in ascending `SystemModstamp`, with their account's
//! fields through the `Account` relationship. Each becomes a [`Client`] (key
//! `salesforce-account-<Id>`, from the account's name and billing address) and a [`Contract`] (key
//! `salesforce-opportunity-<Id>`, titled with the opportunity's `Name`, starting on `CloseDate`).
//! An opportunity that cannot be mapped (no account, no billing street) goes to
//! [`Page::rejected`] with its JSON.
//!
//! Pages follow the query's `nextRecordsUrl` (batch size set with the `Sforce-Query-Options`
//! header, 200 to 2,000). The cursor also keeps a keyset, the last `SystemModstamp` read and the ids
//! read at that instant, so a query locator that has expired (`INVALID_QUERY_LOCATOR`, after about
//! 15 minutes) is replaced by a new query from the keyset, and the next incremental pull asks only
//! for what changed since.
//!
//! **Sink.** An invoice or payment change whose `external` is an opportunity is written to its
//! fields (`PATCH /services/data/vXX.X/sobjects/Opportunity/<Id>`) after reading them; nothing is
//! written when they already hold the values. The field names are set with
//! [`SalesforceBuilder::invoice_fields`] and [`SalesforceBuilder::payment_fields`] (custom fields,
//! `__c`).
//!
//! **Auth and limits.** An OAuth 2.0 access token, sent as a bearer token (obtaining and refreshing
//! it is the caller's: any OAuth flow Salesforce supports gives one); it never appears in `Debug`
//! output or errors. An expired session (`INVALID_SESSION_ID`, 401) is [`ConnectorError::Auth`]; the
//! daily API limit (`REQUEST_LIMIT_EXCEEDED`, 403) is [`ConnectorError::RateLimited`].
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
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::http::{self, Reply};
use super::{
    ApplyOutcome, Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Location,
    Page, Record, RecordKind, Rejected, Sink, Source,
};
use odoo_connect_canonical::{
    Address, Client, ClientKey, Contract, ContractKey, CountryCode, Currency, ExternalRef,
    LegalEntityKey,
};

/// The system name in [`ExternalRef`]s: `salesforce`.
pub const SYSTEM: &str = "salesforce";

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
    token: SecretString,
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

    /// The country of an account whose `BillingCountry` is not a two-letter code.
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
                token: self.token,
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
    token: SecretString,
    legal_entity: LegalEntityKey,
    default_currency: Currency,
    default_country: Option<CountryCode>,
    multi_currency: bool,
    invoice: InvoiceFields,
    payment: PaymentFields,
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
    name: Option<String>,
    close_date: Option<String>,
    system_modstamp: String,
    #[serde(default)]
    currency_iso_code: Option<String>,
    #[serde(default)]
    account: Option<Account>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Account {
    id: String,
    name: Option<String>,
    billing_street: Option<String>,
    billing_city: Option<String>,
    billing_postal_code: Option<String>,
    billing_state: Option<String>,
    billing_country: Option<String>,
    #[serde(default)]
    system_modstamp: Option<String>,
}

/// Salesforce's `2024-03-02T10:00:00.000+0000`, or RFC 3339.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A SOQL datetime literal: `2024-03-02T10:00:00.000Z`.
fn soql_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn is_sf_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

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

impl Salesforce {
    /// A builder for the org at `instance_url` (`https://<domain>.my.salesforce.com`) with an OAuth
    /// access token.
    pub fn builder(
        instance_url: impl Into<String>,
        access_token: impl Into<SecretString>,
    ) -> SalesforceBuilder {
        SalesforceBuilder {
            instance_url: instance_url.into(),
            token: access_token.into(),
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
        let mut request = self
            .inner
            .http
            .request(method, url)
            .bearer_auth(self.inner.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        for (k, v) in headers {
            request = request.header(*k, v);
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
            return Ok(reply);
        }
        let (code, message) = sf_message(&reply);
        Err(match code.as_str() {
            "REQUEST_LIMIT_EXCEEDED" => ConnectorError::RateLimited {
                retry_after: http::retry_after(&reply.headers, Utc::now()),
            },
            "INVALID_QUERY_LOCATOR" => ConnectorError::BadCursor {
                cursor: path.to_owned(),
            },
            _ => http::status_error(&reply, message, what),
        })
    }

    fn soql(&self, state: &State) -> String {
        let mut fields = vec![
            "Id",
            "Name",
            "StageName",
            "IsWon",
            "Amount",
            "CloseDate",
            "SystemModstamp",
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
        let mut q = format!(
            "SELECT {} FROM Opportunity WHERE IsWon = true",
            fields.join(", ")
        );
        if let Some(since) = state.since {
            q.push_str(&format!(" AND SystemModstamp >= {}", soql_time(since)));
        }
        q.push_str(" ORDER BY SystemModstamp ASC, Id ASC");
        q
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

    fn map(
        &self,
        opp: &Opportunity,
        modified: DateTime<Utc>,
    ) -> Result<[Change; 2], (Location, String)> {
        let at = |field: &str| Location::record(opp.id.clone()).field(field);
        let account = opp
            .account
            .as_ref()
            .ok_or_else(|| (at("Account"), "the opportunity has no account".to_owned()))?;
        let acc_at = |field: &str| Location::record(account.id.clone()).field(field);
        let title = text(&opp.name).ok_or_else(|| (at("Name"), "no name".to_owned()))?;
        let currency = match text(&opp.currency_iso_code) {
            Some(c) => Currency::from_str(c).map_err(|e| (at("CurrencyIsoCode"), e.to_string()))?,
            None => self.inner.default_currency,
        };
        let start = match text(&opp.close_date) {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|e| (at("CloseDate"), format!("`{d}`: {e}")))?,
            None => modified.date_naive(),
        };
        let name = text(&account.name).ok_or_else(|| (acc_at("Name"), "no name".to_owned()))?;
        let country = text(&account.billing_country)
            .and_then(|c| CountryCode::new(&c.to_ascii_uppercase()).ok())
            .or(self.inner.default_country)
            .ok_or_else(|| {
                (
                    acc_at("BillingCountry"),
                    format!(
                        "`{}` is not a two-letter country code and no default country is set",
                        text(&account.billing_country).unwrap_or("")
                    ),
                )
            })?;
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
            return Err((
                acc_at("BillingStreet"),
                "the account has no billing street".into(),
            ));
        }
        let city = text(&account.billing_city).ok_or_else(|| {
            (
                acc_at("BillingCity"),
                "the account has no billing city".to_owned(),
            )
        })?;
        let mut address = Address::new(lines, city, country);
        address.postal_code = text(&account.billing_postal_code).map(str::to_owned);
        address.region = text(&account.billing_state).map(str::to_owned);
        let client_key = ClientKey::new(format!("salesforce-account-{}", account.id))
            .map_err(|e| (acc_at("Id"), e.to_string()))?;
        let contract_key = ContractKey::new(format!("salesforce-opportunity-{}", opp.id))
            .map_err(|e| (at("Id"), e.to_string()))?;
        let mut client = Client::new(
            client_key.clone(),
            name,
            country,
            address,
            currency,
            self.inner.legal_entity.clone(),
        );
        client.refs.insert(SYSTEM, account.id.clone());
        let mut contract = Contract::new(
            contract_key,
            client_key,
            self.inner.legal_entity.clone(),
            title,
            currency,
            start,
        );
        contract.refs.insert(SYSTEM, opp.id.clone());
        let opp_ref = ExternalRef::new(SYSTEM, opp.id.clone());
        let acc_ref = ExternalRef::new(SYSTEM, account.id.clone());
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
        let mut since = state.since;
        let mut seen = state.seen.clone();
        let mut items = Vec::new();
        let mut rejected = Vec::new();
        for raw in reply.records {
            let opp: Opportunity = match serde_json::from_value(raw.clone()) {
                Ok(o) => o,
                Err(e) => {
                    rejected.push(Rejected::new(
                        Location::unknown().field("records"),
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
            if Some(ms) == state.since && state.seen.contains(&opp.id) {
                continue;
            }
            if since.is_none_or(|s| ms > s) {
                since = Some(ms);
                seen.clear();
            }
            seen.insert(opp.id.clone());
            match self.map(&opp, modified) {
                Ok(changes) => items.extend(changes),
                Err((location, reason)) => {
                    rejected.push(Rejected::new(location, reason, raw.to_string()))
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_times_and_literals() {
        let t = parse_time("2024-03-02T10:00:00.000+0000").unwrap();
        assert_eq!(soql_time(t.timestamp_millis()), "2024-03-02T10:00:00.000Z");
        assert!(is_sf_id("0065g00000AbCdEAAV"));
        assert!(!is_sf_id("../Account/001"));
        assert!(same(
            Some(&serde_json::json!(1125.0)),
            &serde_json::json!(1125.00)
        ));
    }
}
