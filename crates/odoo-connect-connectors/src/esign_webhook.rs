//! Signed-contract webhook: e-signature "envelope completed" events, verified, as signed contracts.
//!
//! Two verification profiles ([`Profile`]):
//!
//! - **DocuSign Connect** ([`EsignWebhook::docusign`]). DocuSign signs the raw request body, and
//!   only the body, with HMAC-SHA256 under each active Connect key and sends the base64 digests in
//!   `X-DocuSign-Signature-1`, `X-DocuSign-Signature-2`, ... (one header per active key, up to
//!   100). A request is authentic when any one of them matches any configured key, so a key
//!   rotation (two keys active in DocuSign, two keys configured here) loses nothing. The digests
//!   are compared in constant time. **Freshness never refuses a correctly signed delivery**:
//!   DocuSign sends no timestamp header, retries a failed delivery for days, and an administrator
//!   can republish failures later still (`connect/envelopes/retry_queue`), so a signed delivery
//!   is accepted whatever the age of its `generatedDateTime` (a delivery more than a day old is
//!   logged with its age). The signature proves it authentic and the change id (below) makes a
//!   replay harmless: the queue recognises it, [`handle`] answers it 200 as `replayed` so that
//!   DocuSign stops retrying, and the [`Deliver`] target records it
//!   ([`Deliver::deliver_counted`]).
//! - **Generic** ([`EsignWebhook::generic`], also [`EsignWebhook::builder`]): a timestamp header
//!   (default `X-Esign-Timestamp`, Unix seconds or RFC 3339) and a signature header (default
//!   `X-Esign-Signature`) holding the HMAC-SHA256 of `<timestamp>.<body>`, in base64 or hex,
//!   optionally prefixed `sha256=` (see [`sign`]); the timestamp must be within the window
//!   (default 5 minutes, [`EsignWebhookBuilder::replay_window`]), measured at the time of
//!   reception from the receiver's [`Clock`] (settable in tests with
//!   [`EsignWebhookBuilder::clock`]). For relays and other e-signature vendors that sign a time.
//!
//! **Events.** The body is a DocuSign Connect JSON SIM message: `event`, `generatedDateTime`,
//! `retryCount`, `data.accountId`, `data.envelopeId` and, when the Connect configuration includes
//! it, `data.envelopeSummary`. Only `envelope-completed` becomes a change; every other event
//! (`envelope-sent`, `recipient-completed`, ...) is acknowledged and ignored (HTTP 200 for
//! DocuSign, 202 in the generic profile). JSON SIM messages carry no event id; an envelope
//! completes once, so the change id is built from `accountId`, `envelopeId` and `event`
//! (`docusign:contract:<accountId>/<envelopeId>:envelope-completed`): a redelivery, byte for byte
//! or with `retryCount` raised, gives the same change id and the sync drops it. (The generic
//! profile keeps its earlier ids, `<system>:contract:<envelopeId>:completed`.)
//!
//! **Mapping.** A completed envelope becomes a [`Contract`] signed on `completedDateTime`, read
//! from the envelope's custom fields (`envelopeSummary.customFields.textCustomFields` and
//! `listCustomFields`, each `{name, value}`; the names are set with [`FieldNames`]):
//!
//! | contract | custom field (default name) | when absent |
//! |---|---|---|
//! | CRM link (`refs`) | `crm_system` + `crm_opportunity_id` | `crm_system` falls back to [`FieldNames::default_crm_system`]; no CRM id and no `contract_key`: business hold `no_crm_reference` |
//! | `key` | `contract_key` | `hubspot-deal-<id>`, `salesforce-opportunity-<id>`, or `<system>-<id>` from the CRM link |
//! | `client` | `client_key`, else `crm_account_id` | `hubspot-company-<id>` / `salesforce-account-<id>` / `<system>-account-<id>` from `crm_account_id`; neither, with a CRM link: a [`ContractSignature`] (below); neither and no CRM link: business hold `no_client` |
//! | `legal_entity` | `legal_entity` | the builder's [`EsignWebhookBuilder::legal_entity`], else business hold `no_legal_entity` |
//! | `currency` | `currency` | the builder's [`EsignWebhookBuilder::currency`], else business hold `no_currency` |
//! | `start_date` | `start_date` (`YYYY-MM-DD`) | the completion date |
//! | `title` | `contract_title` | `emailSubject`, else `Envelope <id>` |
//! | `refs[<system>]` | `data.envelopeId` | |
//!
//! **Signed from the CRM.** DocuSign's CRM integrations (DocuSign for Salesforce, for HubSpot)
//! send the opportunity and nothing of the client: an envelope with `crm_system` +
//! `crm_opportunity_id` and neither `client_key` nor `crm_account_id` becomes a change of a
//! [`ContractSignature`] ([`Record::Signature`], kind contract, the same change id): the contract
//! key (`hubspot-deal-<id>`), the CRM deal, the envelope, the day it was signed, and the legal
//! entity, currency, start date and title only where the envelope names them (the builder's
//! defaults do not apply: the CRM record has its own). The flows book it from the CRM record
//! (`odoo_connect_flows`, step `contract.signed`) or link it to the deal already booked.
//!
//! A completed envelope that lacks what the contract needs is a business exception
//! ([`Rejected::business`], reason `no_crm_reference: ...` and so on): it is authentic and well
//! formed, so it is answered 200 (DocuSign must not retry it forever) and handed to
//! [`Deliver::set_aside`] to be recorded as a business hold; a value that cannot be read (a
//! currency `EURO`, a date `next week`) is set aside the same way as bad data
//! ([`Rejected::new`]). Through the [`EventSource`] trait, which has no room for either, a hold
//! is [`Rejection::Ignored`] with reason `held: ...` and bad data [`Rejection::Malformed`].
//!
//! Refusals are typed ([`Rejection`]): unsigned and bad signature are 401 (and, in the generic
//! profile, no time and stale); a signed body that is not a JSON event is 400. Nothing from a
//! refused body is logged.
//!
//! **Receiving.** [`EsignWebhook::router`] is an axum [`Router`](axum::Router) (a
//! [`tower::Service`]) to mount in your own server; it hands verified changes to a [`Deliver`]
//! (a durable queue) before answering 200, and answers 503 when delivery fails, so that DocuSign
//! retries. [`handle`] does the same for any other framework, and [`serve`] is a small server
//! around the router.
//!
//! ```
//! use odoo_connect_connectors::esign_webhook::{EsignWebhook, sign_docusign};
//! use odoo_connect_connectors::{EventSource, HeaderMap, PushedEvent};
//! use secrecy::SecretString;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SecretString::from("connect-hmac-key");
//! let webhook = EsignWebhook::docusign(key.clone()).build()?;
//! let now = chrono::Utc::now();
//! let body = format!(
//!     r#"{{"event":"envelope-sent","generatedDateTime":"{}","data":{{"envelopeId":"e-1"}}}}"#,
//!     now.to_rfc3339()
//! );
//! let mut headers = HeaderMap::new();
//! headers.insert("x-docusign-signature-1", sign_docusign(&key, body.as_bytes()).parse()?);
//! let err = webhook.receive(&PushedEvent::received_at(headers, body, now)).await.unwrap_err();
//! // Verified, but not a completion: acknowledged and ignored.
//! assert!(matches!(err.rejection(), Some(odoo_connect_connectors::Rejection::Ignored { .. })));
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, ContractSignature, Deliver,
    DeliverError, EventSource, HeaderMap, Location, PushedEvent, Record, RecordKind, Rejected,
    Rejection,
};
use odoo_connect_canonical::{
    ClientKey, Contract, ContractKey, Currency, ExternalRef, LegalEntityKey,
};

/// The axum version the [router](EsignWebhook::router) is built with.
pub use axum;
/// The tower version the router implements [`tower::Service`] of.
pub use tower;

type HmacSha256 = Hmac<Sha256>;

/// Default signature header of the generic profile.
pub const SIGNATURE_HEADER: &str = "x-esign-signature";
/// Default timestamp header of the generic profile.
pub const TIMESTAMP_HEADER: &str = "x-esign-timestamp";
/// DocuSign's signature headers are this prefix followed by 1, 2, ... (one per active key).
pub const DOCUSIGN_SIGNATURE_PREFIX: &str = "x-docusign-signature-";
/// How many DocuSign signature headers are read at most (DocuSign allows 100 keys).
pub const DOCUSIGN_MAX_SIGNATURES: usize = 100;
/// The replay window the DocuSign profile used to apply to `generatedDateTime` (24 hours).
#[deprecated(
    since = "0.3.0",
    note = "the DocuSign profile no longer refuses signed deliveries by age: the signature proves \
            them authentic and the change id makes a replay harmless"
)]
pub const DOCUSIGN_REPLAY_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// A signed DocuSign delivery older than this at reception is logged with its age (and accepted).
pub const DOCUSIGN_LATE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Default replay window of the generic profile, measured against the timestamp header.
pub const GENERIC_REPLAY_WINDOW: Duration = Duration::from_secs(300);
/// Largest request body the router reads by default; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest body kept as the raw text of a record set aside; a larger one is summarised.
const MAX_RAW_KEPT: usize = 256 * 1024;
/// How far in the future a signed time may be (clock skew), at most.
const MAX_SKEW: Duration = Duration::from_secs(300);

/// The generic profile's signature of `body` sent at `timestamp` under `key`: base64 of
/// HMAC-SHA256(`<timestamp>.<body>`). For senders, relays and tests.
pub fn sign(key: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let mut mac = new_mac(key);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// DocuSign Connect's signature of `body` under `key`: base64 of HMAC-SHA256 over the raw body
/// bytes, as sent in `X-DocuSign-Signature-<n>`. For tests and relays.
pub fn sign_docusign(key: &SecretString, body: &[u8]) -> String {
    let mut mac = new_mac(key);
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn new_mac(key: &SecretString) -> HmacSha256 {
    // HMAC takes keys of any length, so this never fails.
    <HmacSha256 as Mac>::new_from_slice(key.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// How requests are signed and how their freshness is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// DocuSign Connect: HMAC of the body in `X-DocuSign-Signature-<n>`, accepted whatever its
    /// age, ignored events answered 200.
    DocuSign,
    /// A timestamp header and an HMAC of `<timestamp>.<body>` in a signature header; ignored
    /// events answered 202.
    Generic,
}

pub use odoo_connect_core::clock::{Clock, ManualClock, SystemClock};

/// The names of the envelope custom fields the contract is read from (see the
/// [module](self) for the mapping).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldNames {
    /// The CRM's name (`hubspot`, `salesforce`); default `crm_system`.
    pub crm_system: String,
    /// The deal's or opportunity's id in the CRM; default `crm_opportunity_id`.
    pub crm_id: String,
    /// The client's company or account id in the CRM; default `crm_account_id`.
    pub crm_account_id: String,
    /// The CRM when the envelope does not name one (`None` by default).
    pub default_crm_system: Option<String>,
    /// The contract key; default `contract_key`.
    pub contract_key: String,
    /// The client key; default `client_key`.
    pub client_key: String,
    /// The legal entity; default `legal_entity`.
    pub legal_entity: String,
    /// The ISO 4217 currency; default `currency`.
    pub currency: String,
    /// The start date (`YYYY-MM-DD`); default `start_date`.
    pub start_date: String,
    /// The title; default `contract_title`.
    pub title: String,
}

impl Default for FieldNames {
    fn default() -> FieldNames {
        FieldNames {
            crm_system: "crm_system".into(),
            crm_id: "crm_opportunity_id".into(),
            crm_account_id: "crm_account_id".into(),
            default_crm_system: None,
            contract_key: "contract_key".into(),
            client_key: "client_key".into(),
            legal_entity: "legal_entity".into(),
            currency: "currency".into(),
            start_date: "start_date".into(),
            title: "contract_title".into(),
        }
    }
}

impl FieldNames {
    /// The CRM link read from `system_field` and `id_field`.
    pub fn crm(mut self, system_field: impl Into<String>, id_field: impl Into<String>) -> Self {
        self.crm_system = system_field.into();
        self.crm_id = id_field.into();
        self
    }

    /// The CRM to assume when the envelope names none (for a firm with one CRM).
    pub fn default_crm_system(mut self, system: impl Into<String>) -> Self {
        self.default_crm_system = Some(system.into());
        self
    }

    /// The client's CRM account id read from `field`.
    pub fn crm_account_id(mut self, field: impl Into<String>) -> Self {
        self.crm_account_id = field.into();
        self
    }
}

/// Builds an [`EsignWebhook`].
pub struct EsignWebhookBuilder {
    keys: Vec<SecretString>,
    system: String,
    profile: Profile,
    signature_header: String,
    timestamp_header: String,
    window: Option<Duration>,
    clock: Arc<dyn Clock>,
    fields: FieldNames,
    legal_entity: Option<LegalEntityKey>,
    currency: Option<Currency>,
    max_body_bytes: usize,
}

impl fmt::Debug for EsignWebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EsignWebhookBuilder")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("system", &self.system)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl EsignWebhookBuilder {
    /// Also accepts signatures under `key` (during a rotation).
    pub fn add_key(mut self, key: impl Into<SecretString>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// The system's name in references and change ids (default `docusign`).
    pub fn system(mut self, name: impl Into<String>) -> Self {
        self.system = name.into();
        self
    }

    /// The verification profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The header carrying the signature (generic profile).
    pub fn signature_header(mut self, name: impl Into<String>) -> Self {
        self.signature_header = name.into().to_ascii_lowercase();
        self
    }

    /// The header carrying the timestamp (generic profile).
    pub fn timestamp_header(mut self, name: impl Into<String>) -> Self {
        self.timestamp_header = name.into().to_ascii_lowercase();
        self
    }

    /// How old the timestamp header may be at reception in the generic profile (default
    /// [`GENERIC_REPLAY_WINDOW`]); a time in the future is allowed up to the smaller of this and
    /// 5 minutes of clock skew. The DocuSign profile has no window and ignores it (a signed
    /// delivery is accepted whatever its age).
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.window = Some(window);
        self
    }

    /// The clock giving the time of reception in [`EsignWebhook::router`] and [`serve`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The custom field names the contract is read from.
    pub fn fields(mut self, fields: FieldNames) -> Self {
        self.fields = fields;
        self
    }

    /// The legal entity of envelopes that name none.
    pub fn legal_entity(mut self, entity: LegalEntityKey) -> Self {
        self.legal_entity = Some(entity);
        self
    }

    /// The currency of envelopes that name none.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// The largest body the router reads (default [`MAX_BODY_BYTES`]; raise it when the Connect
    /// configuration includes documents).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The receiver; fails when a key is empty.
    pub fn build(self) -> Result<EsignWebhook, ConnectorError> {
        if self.keys.iter().any(|k| k.expose_secret().is_empty()) {
            return Err(ConnectorError::Internal {
                message: "an empty webhook key verifies nothing".into(),
            });
        }
        Ok(EsignWebhook {
            inner: Arc::new(self),
        })
    }
}

/// The signed-contract webhook receiver, an [`EventSource`]. Cheap to clone.
#[derive(Clone)]
pub struct EsignWebhook {
    inner: Arc<EsignWebhookBuilder>,
}

impl fmt::Debug for EsignWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EsignWebhook")
            .field(
                "keys",
                &format_args!("[{} redacted]", self.inner.keys.len()),
            )
            .field("system", &self.inner.system)
            .field("profile", &self.inner.profile)
            .field("signature_header", &self.signature_header())
            .field("replay_window", &self.replay_window())
            .field("fields", &self.inner.fields)
            .finish_non_exhaustive()
    }
}

/// What a verified request holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Received {
    /// Changes to deliver (a completed envelope).
    Changes(Vec<Change>),
    /// An event acknowledged and ignored (`envelope-sent` and the like).
    Ignored {
        /// The event's name.
        event: String,
    },
    /// A completed envelope set aside: a business hold, or values that cannot be read.
    SetAside(Rejected),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    event: String,
    #[serde(default)]
    generated_date_time: Option<String>,
    data: EnvelopeData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeData {
    #[serde(default)]
    account_id: Option<String>,
    envelope_id: String,
    #[serde(default)]
    envelope_summary: Option<Summary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    email_subject: Option<String>,
    #[serde(default)]
    completed_date_time: Option<String>,
    #[serde(default)]
    custom_fields: Option<CustomFields>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomFields {
    #[serde(default)]
    text_custom_fields: Vec<CustomField>,
    #[serde(default)]
    list_custom_fields: Vec<CustomField>,
}

#[derive(Debug, Deserialize)]
struct CustomField {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

fn malformed(reason: impl Into<String>) -> Rejection {
    Rejection::Malformed {
        reason: reason.into(),
    }
}

fn decode_signature(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let text = text.strip_prefix("sha256=").unwrap_or(text);
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..32)
            .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .filter(|b| b.len() == 32)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Utc.timestamp_opt(secs, 0).single();
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The DocuSign signatures of a request, in header order (`-1`, `-2`, ...).
fn docusign_signatures(headers: &HeaderMap) -> Vec<&str> {
    let mut found: Vec<(u32, &str)> = headers
        .iter()
        .filter_map(|(name, value)| {
            let n = name.as_str().strip_prefix(DOCUSIGN_SIGNATURE_PREFIX)?;
            let n: u32 = n.parse().ok()?;
            Some((n, value.to_str().ok()?))
        })
        .collect();
    found.sort_by_key(|(n, _)| *n);
    found
        .into_iter()
        .take(DOCUSIGN_MAX_SIGNATURES)
        .map(|(_, v)| v)
        .collect()
}

/// The contract key of a deal in a CRM, as the CRM connectors make it.
fn contract_key_for(system: &str, id: &str) -> String {
    match system {
        "hubspot" => format!("hubspot-deal-{id}"),
        "salesforce" => format!("salesforce-opportunity-{id}"),
        _ => format!("{system}-{id}"),
    }
}

/// The client key of a company or account in a CRM, as the CRM connectors make it.
fn client_key_for(system: &str, id: &str) -> String {
    match system {
        "hubspot" => format!("hubspot-company-{id}"),
        "salesforce" => format!("salesforce-account-{id}"),
        _ => format!("{system}-account-{id}"),
    }
}

impl EsignWebhook {
    /// A builder of the generic profile verifying with `key` (kept for compatibility; prefer
    /// [`EsignWebhook::docusign`] or [`EsignWebhook::generic`]).
    pub fn builder(key: impl Into<SecretString>) -> EsignWebhookBuilder {
        EsignWebhook::generic(key)
    }

    /// A builder of the DocuSign Connect profile verifying with the Connect HMAC `key`.
    pub fn docusign(key: impl Into<SecretString>) -> EsignWebhookBuilder {
        EsignWebhook::generic(key).profile(Profile::DocuSign)
    }

    /// A builder of the generic profile (timestamp header, signature of `<timestamp>.<body>`).
    pub fn generic(key: impl Into<SecretString>) -> EsignWebhookBuilder {
        EsignWebhookBuilder {
            keys: vec![key.into()],
            system: "docusign".into(),
            profile: Profile::Generic,
            signature_header: SIGNATURE_HEADER.into(),
            timestamp_header: TIMESTAMP_HEADER.into(),
            window: None,
            clock: Arc::new(SystemClock),
            fields: FieldNames::default(),
            legal_entity: None,
            currency: None,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.inner.profile
    }

    /// The replay window of the generic profile; `None` for DocuSign, which accepts a signed
    /// delivery whatever its age.
    pub fn replay_window(&self) -> Option<Duration> {
        match self.inner.profile {
            Profile::DocuSign => None,
            Profile::Generic => Some(self.inner.window.unwrap_or(GENERIC_REPLAY_WINDOW)),
        }
    }

    /// The (first) signature header's name, lower case: `x-docusign-signature-1` for DocuSign.
    pub fn signature_header(&self) -> &str {
        match self.inner.profile {
            Profile::DocuSign => "x-docusign-signature-1",
            Profile::Generic => &self.inner.signature_header,
        }
    }

    /// Now, by the receiver's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The largest body the router reads.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The status an ignored or set-aside event is answered with: 200 for DocuSign (which counts
    /// anything else as a failed delivery), 202 in the generic profile.
    pub fn ack_status(&self) -> u16 {
        match self.inner.profile {
            Profile::DocuSign => 200,
            Profile::Generic => 202,
        }
    }

    fn check_window(
        &self,
        signed_at: DateTime<Utc>,
        received_at: DateTime<Utc>,
    ) -> Result<(), Rejection> {
        let Some(window) = self.replay_window() else {
            return Ok(());
        };
        let age = received_at.signed_duration_since(signed_at).num_seconds();
        let max_age = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        let max_skew = i64::try_from(window.min(MAX_SKEW).as_secs()).unwrap_or(i64::MAX);
        if age > max_age || age < -max_skew {
            return Err(Rejection::Stale {
                age_secs: age,
                window_secs: window.as_secs(),
            });
        }
        Ok(())
    }

    fn authentic(&self, signatures: &[&str], signed: &[&[u8]]) -> bool {
        let given: Vec<Vec<u8>> = signatures
            .iter()
            .filter_map(|s| decode_signature(s))
            .collect();
        self.inner.keys.iter().any(|key| {
            let mut mac = new_mac(key);
            for part in signed {
                mac.update(part);
            }
            // `verify_slice` compares in constant time.
            given.iter().any(|g| mac.clone().verify_slice(g).is_ok())
        })
    }

    /// Checks the signature and, in the generic profile, the replay window of the timestamp
    /// header. (The DocuSign profile checks the signature only.)
    pub fn verify(&self, event: &PushedEvent) -> Result<(), Rejection> {
        match self.inner.profile {
            Profile::DocuSign => {
                let signatures = docusign_signatures(&event.headers);
                if signatures.is_empty() {
                    return Err(Rejection::Unsigned {
                        header: "X-DocuSign-Signature-1".into(),
                    });
                }
                if !self.authentic(&signatures, &[&event.body]) {
                    return Err(Rejection::BadSignature);
                }
                Ok(())
            }
            Profile::Generic => {
                let inner = &self.inner;
                let signature =
                    event
                        .header(&inner.signature_header)
                        .ok_or_else(|| Rejection::Unsigned {
                            header: inner.signature_header.clone(),
                        })?;
                let no_time = || Rejection::NoTimestamp {
                    header: inner.timestamp_header.clone(),
                };
                let ts_text = event.header(&inner.timestamp_header).ok_or_else(no_time)?;
                let signed_at = parse_time(ts_text).ok_or_else(no_time)?;
                if !self.authentic(&[signature], &[ts_text.as_bytes(), b".", &event.body]) {
                    return Err(Rejection::BadSignature);
                }
                self.check_window(signed_at, event.received_at)
            }
        }
    }

    /// Verifies a request and reads it: its changes, an event ignored, or a completed envelope
    /// set aside (a business hold or unreadable values). A refusal is a [`Rejection`].
    pub fn read(&self, event: &PushedEvent) -> Result<Received, Rejection> {
        self.verify(event)?;
        let message: Message = serde_json::from_slice(&event.body)
            .map_err(|e| malformed(format!("not an e-signature event: {e}")))?;
        if self.inner.profile == Profile::DocuSign
            && let Some(generated) = message.generated_date_time.as_deref().and_then(parse_time)
        {
            // Authentic, so accepted whatever its age: a retry or a republished failure.
            let age = event.received_at.signed_duration_since(generated);
            if age.num_seconds() > i64::try_from(DOCUSIGN_LATE_AFTER.as_secs()).unwrap_or(i64::MAX)
            {
                tracing::info!(
                    age_secs = age.num_seconds(),
                    event = %message.event,
                    "a late signed delivery accepted"
                );
            }
        }
        if message.event != "envelope-completed" {
            return Ok(Received::Ignored {
                event: message.event,
            });
        }
        let raw = raw_text(&event.body, &message);
        let location = Location::record(message.data.envelope_id.clone());
        Ok(match self.contract(message) {
            Ok(change) => Received::Changes(vec![change]),
            Err(Hold::Business(reason)) => {
                Received::SetAside(Rejected::business(location, reason, raw))
            }
            Err(Hold::BadData(reason)) => Received::SetAside(Rejected::new(location, reason, raw)),
        })
    }

    fn contract(&self, message: Message) -> Result<Change, Hold> {
        let inner = &self.inner;
        let names = &inner.fields;
        let data = message.data;
        let id = data.envelope_id;
        let summary = data.envelope_summary.ok_or_else(|| {
            Hold::Business(
                "no_envelope_summary: the message has no data.envelopeSummary; include the envelope \
                 summary and custom fields in the Connect configuration"
                    .into(),
            )
        })?;
        if let Some(status) = summary.status.as_deref()
            && status != "completed"
        {
            return Err(Hold::BadData(format!(
                "an envelope-completed event with status {status:?}"
            )));
        }
        let custom = summary.custom_fields.unwrap_or_default();
        let fields: Vec<&CustomField> = custom
            .text_custom_fields
            .iter()
            .chain(custom.list_custom_fields.iter())
            .collect();
        let field = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.value.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let bad =
            |name: &str, e: &dyn fmt::Display| Hold::BadData(format!("custom field {name}: {e}"));

        let crm_system = field(&names.crm_system).or(names.default_crm_system.as_deref());
        let crm = match (crm_system, field(&names.crm_id)) {
            (Some(system), Some(crm_id)) => Some(ExternalRef::new(system, crm_id)),
            _ => None,
        };
        let key = match (field(&names.contract_key), &crm) {
            (Some(k), _) => k.to_owned(),
            (None, Some(r)) => contract_key_for(&r.system, &r.id),
            (None, None) => {
                return Err(Hold::Business(format!(
                    "no_crm_reference: the envelope has no custom field {} (with {}) nor {}",
                    names.crm_id, names.crm_system, names.contract_key
                )));
            }
        };
        let key = ContractKey::new(key).map_err(|e| bad(&names.contract_key, &e))?;
        let completed_text = summary
            .completed_date_time
            .clone()
            .ok_or_else(|| Hold::BadData("completedDateTime is missing".into()))?;
        let completed = parse_time(&completed_text).ok_or_else(|| {
            Hold::BadData(format!(
                "completedDateTime {completed_text:?} is not a time"
            ))
        })?;
        let change_id = self.change_id(data.account_id.as_deref(), &id, &message.event);
        let client = match (field(&names.client_key), field(&names.crm_account_id), &crm) {
            (Some(c), _, _) => c.to_owned(),
            (None, Some(account), Some(r)) => client_key_for(&r.system, account),
            (None, Some(account), None) => match crm_system {
                Some(system) => client_key_for(system, account),
                None => account.to_owned(),
            },
            (None, None, Some(r)) => {
                // Only the CRM deal (DocuSign's CRM integrations): a signature to book from the
                // CRM record. What the envelope names goes over the CRM's; defaults do not.
                let mut signed = ContractSignature::new(
                    key,
                    r.clone(),
                    ExternalRef::new(inner.system.clone(), id.clone()),
                    completed.date_naive(),
                );
                signed.legal_entity = field(&names.legal_entity)
                    .map(|v| LegalEntityKey::new(v).map_err(|e| bad(&names.legal_entity, &e)))
                    .transpose()?;
                signed.currency = field(&names.currency)
                    .map(|v| Currency::from_str(v).map_err(|e| bad(&names.currency, &e)))
                    .transpose()?;
                signed.start_date = field(&names.start_date)
                    .map(|d| {
                        NaiveDate::parse_from_str(d, "%Y-%m-%d")
                            .map_err(|e| bad(&names.start_date, &e))
                    })
                    .transpose()?;
                signed.title = field(&names.title).map(str::to_owned);
                return Ok(Change::new(
                    change_id,
                    ExternalRef::new(inner.system.clone(), id),
                    completed,
                    Record::from(signed),
                ));
            }
            (None, None, None) => {
                return Err(Hold::Business(format!(
                    "no_client: the envelope has no custom field {} nor {}, and no CRM deal to \
                     read the client from",
                    names.client_key, names.crm_account_id
                )));
            }
        };
        let client = ClientKey::new(client).map_err(|e| bad(&names.client_key, &e))?;
        let legal_entity = match field(&names.legal_entity) {
            Some(v) => LegalEntityKey::new(v).map_err(|e| bad(&names.legal_entity, &e))?,
            None => inner.legal_entity.clone().ok_or_else(|| {
                Hold::Business(format!(
                    "no_legal_entity: the envelope has no custom field {} and no default is set",
                    names.legal_entity
                ))
            })?,
        };
        let currency = match field(&names.currency) {
            Some(v) => Currency::from_str(v).map_err(|e| bad(&names.currency, &e))?,
            None => inner.currency.ok_or_else(|| {
                Hold::Business(format!(
                    "no_currency: the envelope has no custom field {} and no default is set",
                    names.currency
                ))
            })?,
        };
        let start = match field(&names.start_date) {
            Some(d) => {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| bad(&names.start_date, &e))?
            }
            None => completed.date_naive(),
        };
        let title = field(&names.title)
            .map(str::to_owned)
            .or(summary.email_subject)
            .unwrap_or_else(|| format!("Envelope {id}"));
        let mut contract = Contract::new(key, client, legal_entity, title, currency, start);
        contract
            .sign(completed.date_naive())
            .map_err(|e| Hold::BadData(e.to_string()))?;
        contract.refs.insert(inner.system.clone(), id.clone());
        if let Some(r) = &crm {
            contract.refs.insert(r.system.clone(), r.id.clone());
        }
        Ok(Change::new(
            change_id,
            ExternalRef::new(inner.system.clone(), id),
            completed,
            Record::from(contract),
        ))
    }
}

impl EsignWebhook {
    /// The change id of an envelope's event: the same for every delivery of that event.
    fn change_id(&self, account: Option<&str>, id: &str, event: &str) -> ChangeId {
        let inner = &self.inner;
        match (inner.profile, account) {
            (Profile::DocuSign, Some(account)) => ChangeId::of(
                &ExternalRef::new(inner.system.clone(), format!("{account}/{id}")),
                RecordKind::Contract,
                event,
            ),
            (Profile::DocuSign, None) => ChangeId::of(
                &ExternalRef::new(inner.system.clone(), id),
                RecordKind::Contract,
                event,
            ),
            _ => ChangeId::of(
                &ExternalRef::new(inner.system.clone(), id),
                RecordKind::Contract,
                "completed",
            ),
        }
    }
}

enum Hold {
    Business(String),
    BadData(String),
}

/// The body as the raw text of a record set aside, or a summary when it is too large (a Connect
/// configuration may include the documents).
fn raw_text(body: &[u8], message: &Message) -> String {
    if body.len() <= MAX_RAW_KEPT
        && let Ok(text) = std::str::from_utf8(body)
    {
        return text.to_owned();
    }
    serde_json::json!({
        "event": message.event,
        "accountId": message.data.account_id,
        "envelopeId": message.data.envelope_id,
        "note": format!("body of {} bytes not kept", body.len()),
    })
    .to_string()
}

impl Connector for EsignWebhook {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(self.inner.system.clone())
            .webhooks(true)
            .produces([RecordKind::Contract])
    }
}

#[async_trait]
impl EventSource for EsignWebhook {
    /// Through this trait, an event ignored is [`Rejection::Ignored`], a business hold is
    /// [`Rejection::Ignored`] with reason `held: ...`, and values that cannot be read are
    /// [`Rejection::Malformed`]; [`EsignWebhook::read`] tells them apart with the record to keep.
    async fn receive(&self, event: &PushedEvent) -> Result<Vec<Change>, ConnectorError> {
        match self.read(event)? {
            Received::Changes(changes) => Ok(changes),
            Received::Ignored { event } => Err(Rejection::Ignored {
                reason: format!("event {event}"),
            }
            .into()),
            Received::SetAside(r) if r.is_business() => Err(Rejection::Ignored {
                reason: format!("held: {}", r.reason),
            }
            .into()),
            Received::SetAside(r) => Err(malformed(r.reason).into()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP receiver
// ---------------------------------------------------------------------------------------------

#[async_trait]
impl Deliver<Change> for tokio::sync::mpsc::Sender<Change> {
    async fn deliver(&self, changes: Vec<Change>) -> Result<(), DeliverError> {
        for change in changes {
            self.send(change)
                .await
                .map_err(|e| DeliverError::new("send to the change channel", e.to_string()))?;
        }
        Ok(())
    }
}

fn unavailable(e: &DeliverError) -> (u16, serde_json::Value) {
    tracing::warn!(error = %e, cause = ?std::error::Error::source(e).map(ToString::to_string), "a verified webhook could not be delivered");
    (
        503,
        serde_json::json!({"status": "unavailable", "reason": "try again later"}),
    )
}

/// The status and JSON body to answer a request with, once handled.
///
/// `{"status": "accepted", "changes": 1, "replayed": 0}` with 200; `{"status": "replayed",
/// "changes": 0, "replayed": 1}` with 200 when the [`Deliver`] target already held every change
/// (a redelivery: answered as success so that the sender stops retrying, and counted by
/// [`Deliver::deliver_counted`]); `{"status": "held", "reason": "..."}` (a
/// business hold) or `{"status": "set_aside", ...}` (unreadable values) with 200 (DocuSign) or
/// 202 (generic) once [`Deliver::set_aside`] has it; `{"status": "ignored", ...}` with 200 or
/// 202; `{"status": "rejected", "reason": "..."}` with 401 or 400; `{"status": "unavailable",
/// ...}` with 503 when delivery fails.
pub async fn handle<D: Deliver<Change> + ?Sized>(
    webhook: &EsignWebhook,
    deliver: &D,
    event: &PushedEvent,
) -> (u16, serde_json::Value) {
    let ack = webhook.ack_status();
    match webhook.read(event) {
        Ok(Received::Changes(changes)) => match deliver.deliver_counted(changes).await {
            Ok(d) if d.is_replay() => {
                // Already delivered: answered as success so that the sender stops retrying.
                tracing::info!(replayed = d.known(), "a replayed delivery acknowledged");
                (
                    200,
                    serde_json::json!({"status": "replayed", "changes": 0, "replayed": d.known()}),
                )
            }
            Ok(d) => (
                200,
                serde_json::json!({"status": "accepted", "changes": d.added(), "replayed": d.known()}),
            ),
            Err(e) => unavailable(&e),
        },
        Ok(Received::Ignored { event }) => (
            ack,
            serde_json::json!({"status": "ignored", "event": event}),
        ),
        Ok(Received::SetAside(rejected)) => {
            let word = if rejected.is_business() {
                "held"
            } else {
                "set_aside"
            };
            let reason = rejected.reason.clone();
            match deliver.set_aside(&webhook.system(), rejected).await {
                Ok(()) => (ack, serde_json::json!({"status": word, "reason": reason})),
                Err(e) => unavailable(&e),
            }
        }
        Err(r) => {
            let status = r.status_code();
            // The reason names what failed, never the body's content.
            tracing::info!(status, reason = %r, "webhook refused");
            (
                status,
                serde_json::json!({"status": "rejected", "reason": r.to_string()}),
            )
        }
    }
}

fn json_response(status: u16, json: &serde_json::Value) -> axum::response::Response {
    let mut response = axum::response::Response::new(axum::body::Body::from(json.to_string()));
    *response.status_mut() = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

struct Shared<D> {
    webhook: EsignWebhook,
    deliver: D,
}

async fn answer<D: Deliver<Change>>(
    axum::extract::State(shared): axum::extract::State<Arc<Shared<D>>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> axum::response::Response {
    let webhook = &shared.webhook;
    let body = match axum::body::to_bytes(body, webhook.max_body_bytes()).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return json_response(
                413,
                &serde_json::json!({"status": "rejected", "reason": "body too large or cut short"}),
            );
        }
    };
    let event = PushedEvent::received_at(headers, body.to_vec(), webhook.now());
    let (status, json) = handle(webhook, &shared.deliver, &event).await;
    json_response(status, &json)
}

impl EsignWebhook {
    /// An axum router answering `POST /` with [`handle`] (other methods 405), the time of
    /// reception taken from the receiver's [`Clock`] and bodies over
    /// [`EsignWebhookBuilder::max_body_bytes`] answered 413. It is a [`tower::Service`]; mount it
    /// under your path:
    ///
    /// ```
    /// use odoo_connect_connectors::Change;
    /// use odoo_connect_connectors::esign_webhook::{EsignWebhook, axum};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let webhook = EsignWebhook::docusign("connect-hmac-key").build()?;
    /// let (queue, _changes) = tokio::sync::mpsc::channel::<Change>(64);
    /// let app: axum::Router = axum::Router::new().nest("/webhooks/docusign", webhook.router(queue));
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn router<D: Deliver<Change>>(&self, deliver: D) -> axum::Router {
        let shared = Arc::new(Shared {
            webhook: self.clone(),
            deliver,
        });
        axum::Router::new()
            .route(
                "/",
                axum::routing::post(answer::<D>).fallback(|| async {
                    json_response(405, &serde_json::json!({"status": "method_not_allowed"}))
                }),
            )
            .with_state(shared)
    }
}

/// A small HTTP/1 server for the receiver: the [router](EsignWebhook::router) at `path`, other
/// paths answered 404. Runs until the task running it is dropped or aborted; put TLS in front of
/// it (a load balancer, a proxy).
pub async fn serve<D: Deliver<Change>>(
    listener: tokio::net::TcpListener,
    webhook: EsignWebhook,
    deliver: D,
    path: impl Into<String>,
) {
    let path = path.into();
    let router = webhook.router(deliver);
    let app = if path.trim_matches('/').is_empty() {
        router
    } else {
        let path = format!("/{}", path.trim_matches('/'));
        axum::Router::new().nest(&path, router)
    };
    let app =
        app.fallback(|| async { json_response(404, &serde_json::json!({"status": "not_found"})) });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "the webhook server stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_in_base64_or_hex() {
        let key = SecretString::from("k");
        let b64 = sign(&key, "1", b"{}");
        let raw = decode_signature(&b64).unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(decode_signature(&format!("sha256={hex}")), Some(raw));
        assert_eq!(decode_signature("not base64!"), None);
        assert_eq!(decode_signature("c2hvcnQ="), None);
    }

    #[test]
    fn docusign_headers_are_read_in_order_and_bounded() {
        let mut headers = HeaderMap::new();
        headers.insert("x-docusign-signature-2", "b".parse().unwrap());
        headers.insert("x-docusign-signature-1", "a".parse().unwrap());
        headers.insert("x-docusign-signature-x", "no".parse().unwrap());
        headers.insert("x-docusign-signature", "no".parse().unwrap());
        assert_eq!(docusign_signatures(&headers), vec!["a", "b"]);
    }

    #[test]
    fn docusign_times_with_seven_decimals_parse() {
        let t = parse_time("2024-03-06T14:51:43.6040000Z").unwrap();
        assert_eq!(t.timestamp(), 1_709_736_703);
    }

    #[test]
    fn crm_keys_follow_the_crm_connectors() {
        assert_eq!(contract_key_for("hubspot", "1001"), "hubspot-deal-1001");
        assert_eq!(
            contract_key_for("salesforce", "006A"),
            "salesforce-opportunity-006A"
        );
        assert_eq!(client_key_for("hubspot", "501"), "hubspot-company-501");
        assert_eq!(client_key_for("pipedrive", "9"), "pipedrive-account-9");
    }
}
