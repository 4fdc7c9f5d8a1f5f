//! Signed-contract webhook: e-signature "envelope completed" events, verified, as signed contracts.
//!
//! The events are JSON in the shape of DocuSign Connect's (`event`, `generatedDateTime`,
//! `data.envelopeId`, `data.envelopeSummary` with `status`, `emailSubject`, `completedDateTime` and
//! `customFields.textCustomFields`). An `envelope-completed` event becomes one change: a
//! [`Contract`] signed on the completion date, its key, client, legal entity, currency and start
//! date read from the envelope's text custom fields (`contract_key`, `client_key`,
//! `legal_entity`, `currency`, `start_date`; the title is `contract_title` or the e-mail subject).
//! Other events are acknowledged and ignored ([`Rejection::Ignored`], HTTP 202).
//!
//! **Verification.** Every request carries a timestamp header (default `X-Esign-Timestamp`, Unix
//! seconds or RFC 3339) and a signature header (default `X-Esign-Signature`): the HMAC-SHA256 of
//! `<timestamp>.<body>` under a shared key, in base64 or hex, optionally prefixed `sha256=`. The
//! signature is compared in constant time against each configured key (two during a key
//! rotation); the timestamp must be within the replay window of the time the request was
//! received (default 5 minutes). Signing the timestamp with the body is what makes the window
//! hold: a replayed request cannot be given a fresh time. (DocuSign's own Connect HMAC covers the
//! body only; put the connector behind a relay that adds the timestamp, or rely on the stable
//! change id, which makes a replay harmless anyway.)
//!
//! Refusals are typed ([`Rejection`]): unsigned, bad signature, no timestamp and stale are 401;
//! a signed body that cannot be read is 400. The same event delivered twice gives the same change
//! id (`<system>:contract:<envelopeId>:completed`).
//!
//! [`handle`] answers a request with those statuses and hands verified changes to a [`Deliver`] (a
//! durable queue; a failure answers 503 so the sender retries): call it from any HTTP framework.
//! [`serve`] is a small hyper server around it.
//!
//! ```
//! use odoo_connect_connectors::esign_webhook::{EsignWebhook, sign};
//! use odoo_connect_connectors::{EventSource, HeaderMap, PushedEvent};
//! use secrecy::SecretString;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SecretString::from("whsec-test");
//! let webhook = EsignWebhook::builder(key.clone()).build()?;
//! let body = br#"{"event":"envelope-sent","data":{"envelopeId":"e-1"}}"#;
//! let now = chrono::Utc::now();
//! let ts = now.timestamp().to_string();
//! let mut headers = HeaderMap::new();
//! headers.insert("x-esign-timestamp", ts.parse()?);
//! headers.insert("x-esign-signature", sign(&key, &ts, body).parse()?);
//! let err = webhook.receive(&PushedEvent::received_at(headers, body.to_vec(), now)).await.unwrap_err();
//! assert_eq!(err.rejection().map(|r| r.status_code()), Some(202)); // verified, but not a completion
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full, Limited};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, EventSource, PushedEvent, Record,
    RecordKind, Rejection,
};
use odoo_connect_canonical::{
    ClientKey, Contract, ContractKey, Currency, ExternalRef, LegalEntityKey,
};

type HmacSha256 = Hmac<Sha256>;

/// Default signature header.
pub const SIGNATURE_HEADER: &str = "x-esign-signature";
/// Default timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-esign-timestamp";

/// The signature of `body` sent at `timestamp` under `key`: base64 of
/// HMAC-SHA256(`<timestamp>.<body>`). For senders, relays and tests.
pub fn sign(key: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let mac = mac(key, timestamp, body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn mac(key: &SecretString, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Builds an [`EsignWebhook`].
pub struct EsignWebhookBuilder {
    keys: Vec<SecretString>,
    system: String,
    signature_header: String,
    timestamp_header: String,
    window: Duration,
}

impl fmt::Debug for EsignWebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EsignWebhookBuilder")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("system", &self.system)
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

    /// The header carrying the signature.
    pub fn signature_header(mut self, name: impl Into<String>) -> Self {
        self.signature_header = name.into().to_ascii_lowercase();
        self
    }

    /// The header carrying the timestamp.
    pub fn timestamp_header(mut self, name: impl Into<String>) -> Self {
        self.timestamp_header = name.into().to_ascii_lowercase();
        self
    }

    /// How far the timestamp may be from the time of reception, either way (default 5 minutes).
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.window = window;
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
            .field("signature_header", &self.inner.signature_header)
            .field("timestamp_header", &self.inner.timestamp_header)
            .field("replay_window", &self.inner.window)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    event: String,
    data: EnvelopeData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeData {
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomFields {
    #[serde(default)]
    text_custom_fields: Vec<TextField>,
}

#[derive(Debug, Deserialize)]
struct TextField {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

fn malformed(reason: impl Into<String>) -> ConnectorError {
    Rejection::Malformed {
        reason: reason.into(),
    }
    .into()
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

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Utc.timestamp_opt(secs, 0).single();
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl EsignWebhook {
    /// A builder verifying with `key`.
    pub fn builder(key: impl Into<SecretString>) -> EsignWebhookBuilder {
        EsignWebhookBuilder {
            keys: vec![key.into()],
            system: "docusign".into(),
            signature_header: SIGNATURE_HEADER.into(),
            timestamp_header: TIMESTAMP_HEADER.into(),
            window: Duration::from_secs(300),
        }
    }

    /// The replay window.
    pub fn replay_window(&self) -> Duration {
        self.inner.window
    }

    /// The signature header's name (lower case).
    pub fn signature_header(&self) -> &str {
        &self.inner.signature_header
    }

    /// Checks the signature and the replay window; `Ok` when the request is authentic and fresh.
    pub fn verify(&self, event: &PushedEvent) -> Result<(), Rejection> {
        let inner = &self.inner;
        let signature =
            event
                .header(&inner.signature_header)
                .ok_or_else(|| Rejection::Unsigned {
                    header: inner.signature_header.clone(),
                })?;
        let ts_text =
            event
                .header(&inner.timestamp_header)
                .ok_or_else(|| Rejection::NoTimestamp {
                    header: inner.timestamp_header.clone(),
                })?;
        let signed_at = parse_timestamp(ts_text).ok_or_else(|| Rejection::NoTimestamp {
            header: inner.timestamp_header.clone(),
        })?;
        let given = decode_signature(signature).ok_or(Rejection::BadSignature)?;
        let authentic = inner
            .keys
            .iter()
            .any(|key| mac(key, ts_text, &event.body).verify_slice(&given).is_ok());
        if !authentic {
            return Err(Rejection::BadSignature);
        }
        let age = event.received_at.signed_duration_since(signed_at);
        let window = i64::try_from(inner.window.as_secs()).unwrap_or(i64::MAX);
        if age.num_seconds().abs() > window {
            return Err(Rejection::Stale {
                age_secs: age.num_seconds(),
                window_secs: inner.window.as_secs(),
            });
        }
        Ok(())
    }

    fn contract(&self, envelope: Envelope) -> Result<Change, ConnectorError> {
        if envelope.event != "envelope-completed" {
            return Err(Rejection::Ignored {
                reason: format!("event {}", envelope.event),
            }
            .into());
        }
        let id = envelope.data.envelope_id;
        let summary = envelope
            .data
            .envelope_summary
            .ok_or_else(|| malformed("data.envelopeSummary is missing"))?;
        if summary.status.as_deref() != Some("completed") {
            return Err(malformed(format!(
                "an envelope-completed event with status {:?}",
                summary.status
            )));
        }
        let fields: Vec<TextField> = summary
            .custom_fields
            .map(|c| c.text_custom_fields)
            .unwrap_or_default();
        let field = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.value.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let required = |name: &str| {
            field(name).ok_or_else(|| malformed(format!("custom field {name} is missing")))
        };
        let bad = |name: &str, e: &dyn fmt::Display| malformed(format!("custom field {name}: {e}"));
        let key =
            ContractKey::new(required("contract_key")?).map_err(|e| bad("contract_key", &e))?;
        let client = ClientKey::new(required("client_key")?).map_err(|e| bad("client_key", &e))?;
        let legal_entity =
            LegalEntityKey::new(required("legal_entity")?).map_err(|e| bad("legal_entity", &e))?;
        let currency =
            Currency::from_str(required("currency")?).map_err(|e| bad("currency", &e))?;
        let completed_text = summary
            .completed_date_time
            .ok_or_else(|| malformed("completedDateTime is missing"))?;
        let completed = DateTime::parse_from_rfc3339(&completed_text)
            .map_err(|e| malformed(format!("completedDateTime: {e}")))?
            .with_timezone(&Utc);
        let start = match field("start_date") {
            Some(d) => {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| bad("start_date", &e))?
            }
            None => completed.date_naive(),
        };
        let title = field("contract_title")
            .map(str::to_owned)
            .or(summary.email_subject)
            .unwrap_or_else(|| format!("Envelope {id}"));
        let mut contract = Contract::new(key, client, legal_entity, title, currency, start);
        contract
            .sign(completed.date_naive())
            .map_err(|e| malformed(e.to_string()))?;
        contract.refs.insert(self.inner.system.clone(), id.clone());
        let external = ExternalRef::new(self.inner.system.clone(), id);
        Ok(Change::new(
            ChangeId::of(&external, RecordKind::Contract, "completed"),
            external,
            completed,
            Record::from(contract),
        ))
    }
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
    async fn receive(&self, event: &PushedEvent) -> Result<Vec<Change>, ConnectorError> {
        self.verify(event)?;
        let envelope: Envelope = serde_json::from_slice(&event.body)
            .map_err(|e| malformed(format!("not an envelope event: {e}")))?;
        Ok(vec![self.contract(envelope)?])
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP receiver
// ---------------------------------------------------------------------------------------------

/// Where verified changes go: a durable queue. An error answers 503, so the sender retries.
#[async_trait]
pub trait Deliver: Send + Sync + 'static {
    /// Stores the changes; return only once they are safe.
    async fn deliver(&self, changes: Vec<Change>) -> Result<(), ConnectorError>;
}

#[async_trait]
impl Deliver for tokio::sync::mpsc::Sender<Change> {
    async fn deliver(&self, changes: Vec<Change>) -> Result<(), ConnectorError> {
        for change in changes {
            self.send(change)
                .await
                .map_err(|_| ConnectorError::Internal {
                    message: "the change queue is closed".into(),
                })?;
        }
        Ok(())
    }
}

/// The status and JSON body to answer a request with, once handled.
///
/// `{"status": "accepted", "changes": 1}`; `{"status": "rejected", "reason": "..."}` with 401 or
/// 400; `{"status": "ignored", ...}` with 202; `{"status": "unavailable", ...}` with 503.
pub async fn handle<D: Deliver + ?Sized>(
    webhook: &EsignWebhook,
    deliver: &D,
    event: &PushedEvent,
) -> (u16, serde_json::Value) {
    match webhook.receive(event).await {
        Ok(changes) => {
            let n = changes.len();
            match deliver.deliver(changes).await {
                Ok(()) => (200, serde_json::json!({"status": "accepted", "changes": n})),
                Err(e) => {
                    tracing::warn!(error = %e, "verified webhook could not be delivered");
                    (
                        503,
                        serde_json::json!({"status": "unavailable", "reason": "try again later"}),
                    )
                }
            }
        }
        Err(ConnectorError::Rejected(r)) => {
            let status = r.status_code();
            let word = if status == 202 { "ignored" } else { "rejected" };
            tracing::info!(status, reason = %r, "webhook refused");
            (
                status,
                serde_json::json!({"status": word, "reason": r.to_string()}),
            )
        }
        Err(e) => (
            500,
            serde_json::json!({"status": "error", "reason": e.to_string()}),
        ),
    }
}

/// Largest request body the server reads; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

fn json_response(status: u16, json: &serde_json::Value) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(json.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn answer<D: Deliver + ?Sized>(
    webhook: &EsignWebhook,
    deliver: &D,
    path: &str,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    if request.uri().path() != path {
        return json_response(404, &serde_json::json!({"status": "not_found"}));
    }
    if request.method() != hyper::Method::POST {
        return json_response(405, &serde_json::json!({"status": "method_not_allowed"}));
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return json_response(
                413,
                &serde_json::json!({"status": "rejected", "reason": "body too large or cut short"}),
            );
        }
    };
    let event = PushedEvent::new(parts.headers, body.to_vec());
    let (status, json) = handle(webhook, deliver, &event).await;
    json_response(status, &json)
}

/// A small HTTP/1 server for the receiver: `POST <path>` is answered by [`handle`], other paths
/// with 404, other methods with 405, bodies over [`MAX_BODY_BYTES`] with 413. Runs until the task
/// running it is dropped or aborted; put TLS in front of it (a load balancer, a proxy).
pub async fn serve<D: Deliver>(
    listener: tokio::net::TcpListener,
    webhook: EsignWebhook,
    deliver: D,
    path: impl Into<String>,
) {
    let state = Arc::new((webhook, deliver, path.into()));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait, then accept again.
                tracing::warn!(error = %e, "webhook server cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        answer(&state.0, &state.1, &state.2, request).await,
                    )
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "webhook connection ended with an error");
            }
        });
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
}
