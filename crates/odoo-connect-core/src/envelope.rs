//! Messages: the [`Envelope`] that carries one business event through the sync layer.
//!
//! An envelope wraps a payload with everything the sync layer needs to apply it exactly once and
//! to explain afterwards what happened to it:
//!
//! - a [`MessageId`] naming this delivery (a UUID v7, so ids sort by creation time, or the one
//!   id [derived](MessageId::derived) from a stable name such as a connector change id);
//! - an [`IdempotencyKey`] naming the *business effect* ("contract 42, version 3, creates its
//!   project"), derived deterministically so that every retry and every replay carries the same key;
//! - a [`CorrelationId`] that follows one deal from opportunity to project, invoice and payment;
//! - the source system, the legal entity, the time the event occurred;
//! - a [`Lane`]: messages of one lane are applied one at a time and in order.
//!
//! Envelopes serialise with serde; the stores keep them as [`JsonEnvelope`] (the payload as
//! `serde_json::Value`) so that a queue or a dead-letter store does not need to know payload types.
//!
//! ```
//! use odoo_connect_core::envelope::{Envelope, IdempotencyKey};
//! use odoo_connect_core::key::LegalEntityKey;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project")?;
//! let envelope = Envelope::builder(key, serde_json::json!({"name": "Audit 2025"}))
//!     .source("hubspot")
//!     .legal_entity(LegalEntityKey::new("acme-be")?)
//!     .build()?;
//! assert_eq!(envelope.lane.as_str(), "contract:42");
//! assert_eq!(envelope.idempotency_key.as_str(), "contract:42:v3:create-project");
//!
//! let text = serde_json::to_string(&envelope)?;
//! let back: Envelope<serde_json::Value> = serde_json::from_str(&text)?;
//! assert_eq!(back, envelope);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::key::{KeyError, LegalEntityKey};

/// The stored form of an envelope: the payload as JSON.
pub type JsonEnvelope = Envelope<serde_json::Value>;

/// Longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;
/// Longest correlation id accepted, in bytes.
pub const MAX_CORRELATION_ID_LEN: usize = 128;
/// Longest lane key accepted, in bytes.
pub const MAX_LANE_LEN: usize = 256;
/// Longest text returned by [`IdempotencyKey::to_external_id_name`].
pub const MAX_EXTERNAL_ID_NAME_LEN: usize = 64;

/// Why an envelope or one of its identifiers was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The text is not a valid idempotency key.
    #[error("invalid idempotency key: {reason}")]
    InvalidIdempotencyKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The text is not a valid correlation id.
    #[error("invalid correlation id: {reason}")]
    InvalidCorrelationId {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The text is not a valid lane key.
    #[error("invalid lane: {reason}")]
    InvalidLane {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The text is not a valid legal entity key.
    #[error("invalid legal entity")]
    InvalidLegalEntity(#[source] KeyError),
    /// The text is not a valid message id (a UUID).
    #[error("invalid message id")]
    InvalidMessageId(#[source] uuid::Error),
    /// A required envelope field was not set or is empty.
    #[error("envelope field `{0}` is missing or empty")]
    MissingField(&'static str),
    /// The payload could not be converted to or from JSON.
    #[error("envelope payload could not be converted")]
    Payload(#[source] serde_json::Error),
}

impl From<KeyError> for EnvelopeError {
    /// A legal entity key that was refused: [`EnvelopeError::InvalidLegalEntity`].
    fn from(e: KeyError) -> Self {
        EnvelopeError::InvalidLegalEntity(e)
    }
}

impl crate::retry::Retryable for EnvelopeError {
    /// A message or key that cannot be built is built the same way next time.
    fn is_retryable(&self) -> bool {
        false
    }
}

/// Checks the rules shared by the text identifiers: non-empty, bounded, printable, trimmed.
fn check_text(s: &str, max: usize) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    if s.len() > max {
        return Err("too long");
    }
    if s.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if s.trim() != s {
        return Err("leading or trailing whitespace");
    }
    Ok(())
}

macro_rules! text_newtype_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $ty::new(s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $ty {
            type Err = EnvelopeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = EnvelopeError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $ty::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = EnvelopeError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $ty::new(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Identifies one message (one delivery of a business event): a UUID v7 ([`MessageId::new`]) or
/// the version-8 id [derived](MessageId::derived) from a stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(Uuid);

impl MessageId {
    /// A new, time-ordered id (UUID v7).
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The one message id of a stable name, such as a connector change id: a UUID (version 8,
    /// RFC 9562 variant) made of two stable hashes of it, so the same change gets the same id by
    /// every path it arrives by (pulled from a source, pushed to a webhook, replayed), and the queue
    /// recognises a redelivery.
    ///
    /// ```
    /// use odoo_connect_core::envelope::MessageId;
    /// let id = MessageId::derived("hubspot:contract:8812:1700000000000");
    /// assert_eq!(id, MessageId::derived("hubspot:contract:8812:1700000000000"));
    /// assert_ne!(id, MessageId::derived("hubspot:contract:8812:1700000000001"));
    /// assert_eq!(id.as_uuid().get_version_num(), 8);
    /// assert_eq!(id.as_uuid().get_variant(), uuid::Variant::RFC4122);
    /// ```
    pub fn derived(name: &str) -> Self {
        let (a, b) = (
            fnv1a64(name.as_bytes()),
            fnv1a64(format!("{name}#message").as_bytes()),
        );
        let hi = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000;
        let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        Self(Uuid::from_u64_pair(hi, lo))
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for MessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for MessageId {
    type Err = EnvelopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(EnvelopeError::InvalidMessageId)
    }
}

/// Names one business effect, so that it is applied at most once however often it is retried.
///
/// A key is non-empty, at most [`MAX_IDEMPOTENCY_KEY_LEN`] bytes, has no control characters and no
/// leading or trailing whitespace. Build it from the effect with [`IdempotencyKey::for_effect`], so
/// that every retry, redelivery and replay of the same effect carries the same key; never from a
/// random value or a clock.
///
/// Keys built by `for_effect` have the form `entity:id:version:effect`; a `:` or `%` inside a part
/// is percent-encoded, so the parts can always be told apart. For such a key,
/// [`IdempotencyKey::business_key`] is `entity:id`, which is the default [`Lane`] of an envelope.
///
/// ```
/// use odoo_connect_core::envelope::IdempotencyKey;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project")?;
/// assert_eq!(key.business_key(), Some("contract:42"));
/// // Usable as the name part of an Odoo external id ("module.name"):
/// let name = key.to_external_id_name();
/// assert!(name.starts_with("contract_42_v3_create_project_"));
/// assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
/// assert_eq!(name, key.to_external_id_name()); // deterministic
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a key given as text.
    pub fn new(key: impl Into<String>) -> Result<Self, EnvelopeError> {
        let key = key.into();
        check_text(&key, MAX_IDEMPOTENCY_KEY_LEN)
            .map_err(|reason| EnvelopeError::InvalidIdempotencyKey { reason })?;
        Ok(Self(key))
    }

    /// The key of `effect` on `subject` at `version`, from typed parts: the record's kind and the
    /// effect are names fixed in the code (`&'static str`), so a value read from data cannot take
    /// their place, and a version is a number or a version text. The same text as
    /// [`IdempotencyKey::for_effect`].
    ///
    /// ```
    /// use odoo_connect_core::envelope::{Effect, IdempotencyKey, Subject};
    ///
    /// const CREATE_PROJECT: Effect = Effect::new("create-project");
    /// let contract = String::from("42"); // read from a message
    /// let key = IdempotencyKey::of(Subject::new("contract", &contract), 3u64, CREATE_PROJECT)?;
    /// assert_eq!(key.as_str(), "contract:42:3:create-project");
    /// assert_eq!(key, IdempotencyKey::for_effect("contract", "42", "3", "create-project")?);
    /// # Ok::<(), odoo_connect_core::envelope::EnvelopeError>(())
    /// ```
    pub fn of<'a>(
        subject: Subject<'_>,
        version: impl Into<Version<'a>>,
        effect: Effect,
    ) -> Result<Self, EnvelopeError> {
        let version = match version.into() {
            Version::Number(n) => n.to_string(),
            Version::Text(t) => t.to_owned(),
        };
        Self::for_effect(subject.kind, subject.id, &version, effect.0)
    }

    /// Builds the key of one business effect: which record (`entity`, `id`), which version of it,
    /// and which effect (for example `"contract", "42", "v3", "create-project"`).
    ///
    /// Every part must be non-empty.
    pub fn for_effect(
        entity: &str,
        id: &str,
        version: &str,
        effect: &str,
    ) -> Result<Self, EnvelopeError> {
        let parts = [entity, id, version, effect];
        if parts.iter().any(|p| p.is_empty()) {
            return Err(EnvelopeError::InvalidIdempotencyKey {
                reason: "empty part",
            });
        }
        let text = parts
            .iter()
            .map(|p| escape_part(p))
            .collect::<Vec<_>>()
            .join(":");
        Self::new(text)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `entity:id` when the key has the four-part form built by [`IdempotencyKey::for_effect`].
    pub fn business_key(&self) -> Option<&str> {
        let mut colons = self.0.match_indices(':').map(|(i, _)| i);
        let _first = colons.next()?;
        let second = colons.next()?;
        let _third = colons.next()?;
        if colons.next().is_some() {
            return None;
        }
        Some(&self.0[..second])
    }

    /// A name safe for an Odoo external id (`ir.model.data.name`): only `[a-z0-9_]`, at most
    /// [`MAX_EXTERNAL_ID_NAME_LEN`] characters, deterministic.
    ///
    /// A key that is already such a name is returned as it is; any other key is lowered,
    /// other characters become `_`, the text is cut to fit, and `_` plus 16 hex digits of a stable
    /// 64-bit FNV-1a hash of the full key are appended, so that two keys that read alike
    /// (`contract:42` and `contract_42`) still get different names.
    pub fn to_external_id_name(&self) -> String {
        let safe = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        let already_safe = self.0.len() <= MAX_EXTERNAL_ID_NAME_LEN
            && self.0.chars().all(safe)
            && !looks_hashed(&self.0);
        if already_safe {
            return self.0.clone();
        }
        let mut base = String::with_capacity(MAX_EXTERNAL_ID_NAME_LEN);
        let mut last_underscore = false;
        for c in self.0.chars() {
            let c = c.to_ascii_lowercase();
            let c = if safe(c) { c } else { '_' };
            if c == '_' && last_underscore {
                continue;
            }
            last_underscore = c == '_';
            base.push(c);
        }
        let keep = MAX_EXTERNAL_ID_NAME_LEN - 17;
        base.truncate(keep);
        let base = base.trim_end_matches('_');
        let hash = fnv1a64(self.0.as_bytes());
        if base.is_empty() {
            format!("k_{hash:016x}")
        } else {
            format!("{base}_{hash:016x}")
        }
    }
}

text_newtype_serde!(IdempotencyKey);

fn escape_part(part: &str) -> String {
    part.replace('%', "%25").replace(':', "%3A")
}

fn looks_hashed(s: &str) -> bool {
    match s.len().checked_sub(17) {
        Some(i) => {
            let tail = &s[i..];
            tail.starts_with('_')
                && tail[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        }
        None => false,
    }
}

use crate::hash::fnv1a64;

/// The record an effect is about: its kind, a name fixed in the code (`"contract"`), and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject<'a> {
    kind: &'static str,
    id: &'a str,
}

impl<'a> Subject<'a> {
    /// The record `id` of `kind`.
    pub const fn new(kind: &'static str, id: &'a str) -> Self {
        Subject { kind, id }
    }

    /// The record's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The record's id.
    pub fn id(&self) -> &'a str {
        self.id
    }
}

/// An effect on a record (`"create-project"`), a name fixed in the code: declare each as a
/// constant (`const BOOK: Effect = Effect::new("book");`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Effect(&'static str);

impl Effect {
    /// The effect named `name`.
    pub const fn new(name: &'static str) -> Self {
        Effect(name)
    }

    /// The effect's name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// Which version of a record an effect applies to: a number, or a version text (a revision, a
/// state such as `won`, a batch name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version<'a> {
    /// A version number.
    Number(u64),
    /// A version text.
    Text(&'a str),
}

impl From<u64> for Version<'_> {
    fn from(n: u64) -> Self {
        Version::Number(n)
    }
}

impl From<u32> for Version<'_> {
    fn from(n: u32) -> Self {
        Version::Number(u64::from(n))
    }
}

impl<'a> From<&'a str> for Version<'a> {
    fn from(t: &'a str) -> Self {
        Version::Text(t)
    }
}

impl<'a> From<&'a String> for Version<'a> {
    fn from(t: &'a String) -> Self {
        Version::Text(t.as_str())
    }
}

/// Follows one deal across systems: opportunity, contract, project, invoice, payment.
///
/// Same text rules as [`IdempotencyKey`], at most [`MAX_CORRELATION_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// Validates a correlation id given as text (for example one received from another system).
    pub fn new(id: impl Into<String>) -> Result<Self, EnvelopeError> {
        let id = id.into();
        check_text(&id, MAX_CORRELATION_ID_LEN)
            .map_err(|reason| EnvelopeError::InvalidCorrelationId { reason })?;
        Ok(Self(id))
    }

    /// A new random correlation id, for an event that starts a new chain.
    pub fn random() -> Self {
        Self(Uuid::new_v4().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_newtype_serde!(CorrelationId);

/// The ordering key of a message: messages of one lane are applied one at a time, in the order
/// they were enqueued; different lanes run in parallel.
///
/// Same text rules as [`IdempotencyKey`], at most [`MAX_LANE_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lane(String);

impl Lane {
    /// Validates a lane key.
    pub fn new(lane: impl Into<String>) -> Result<Self, EnvelopeError> {
        let lane = lane.into();
        check_text(&lane, MAX_LANE_LEN).map_err(|reason| EnvelopeError::InvalidLane { reason })?;
        Ok(Self(lane))
    }

    /// The lane of one business record, `entity:id` (for example `contract:42`).
    pub fn for_record(entity: &str, id: &str) -> Result<Self, EnvelopeError> {
        Self::new(format!("{}:{}", escape_part(entity), escape_part(id)))
    }

    /// The default lane of an effect: its business key, or the whole key when it has none.
    pub fn for_key(key: &IdempotencyKey) -> Self {
        Self(key.business_key().unwrap_or(key.as_str()).to_owned())
    }

    /// The lane as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_newtype_serde!(Lane);

/// One business event with the metadata the sync layer needs to apply it exactly once.
///
/// Build one with [`Envelope::builder`]. Fields are public to read; the struct is
/// `#[non_exhaustive]`, so new metadata can be added without breaking callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope<T> {
    /// This message.
    pub id: MessageId,
    /// The business effect; the same on every retry and replay.
    pub idempotency_key: IdempotencyKey,
    /// The chain of events this one belongs to.
    pub correlation_id: CorrelationId,
    /// The system the event came from (for example `hubspot`, `odoo`, `bank-kbc`).
    pub source: String,
    /// The legal entity the event belongs to (in JSON, its key as a plain string).
    pub legal_entity: LegalEntityKey,
    /// When the event occurred in its source system.
    pub occurred_at: DateTime<Utc>,
    /// The ordering key.
    pub lane: Lane,
    /// The event itself.
    pub payload: T,
}

impl<T> Envelope<T> {
    /// Starts an envelope for the effect `key` carrying `payload`.
    pub fn builder(key: IdempotencyKey, payload: T) -> EnvelopeBuilder<T> {
        EnvelopeBuilder {
            id: None,
            key,
            correlation_id: None,
            source: None,
            legal_entity: None,
            occurred_at: None,
            lane: None,
            payload,
        }
    }

    /// The same envelope with its payload changed by `f`.
    pub fn map_payload<U>(self, f: impl FnOnce(T) -> U) -> Envelope<U> {
        Envelope {
            id: self.id,
            idempotency_key: self.idempotency_key,
            correlation_id: self.correlation_id,
            source: self.source,
            legal_entity: self.legal_entity,
            occurred_at: self.occurred_at,
            lane: self.lane,
            payload: f(self.payload),
        }
    }

    /// A copy with a new message id, for a replay: same effect, same correlation, same lane, so the
    /// idempotency guarantee still holds, but a new delivery that a queue will accept.
    pub fn for_replay(&self) -> Self
    where
        T: Clone,
    {
        let mut copy = self.clone();
        copy.id = MessageId::new();
        copy
    }
}

impl<T: Serialize> Envelope<T> {
    /// The stored form, with the payload as JSON.
    pub fn to_json(&self) -> Result<JsonEnvelope, EnvelopeError> {
        let payload = serde_json::to_value(&self.payload).map_err(EnvelopeError::Payload)?;
        Ok(Envelope {
            id: self.id,
            idempotency_key: self.idempotency_key.clone(),
            correlation_id: self.correlation_id.clone(),
            source: self.source.clone(),
            legal_entity: self.legal_entity.clone(),
            occurred_at: self.occurred_at,
            lane: self.lane.clone(),
            payload,
        })
    }
}

impl JsonEnvelope {
    /// Decodes the JSON payload into `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(self) -> Result<Envelope<T>, EnvelopeError> {
        let Envelope {
            id,
            idempotency_key,
            correlation_id,
            source,
            legal_entity,
            occurred_at,
            lane,
            payload,
        } = self;
        let payload = serde_json::from_value(payload).map_err(EnvelopeError::Payload)?;
        Ok(Envelope {
            id,
            idempotency_key,
            correlation_id,
            source,
            legal_entity,
            occurred_at,
            lane,
            payload,
        })
    }
}

/// Builds an [`Envelope`]; see [`Envelope::builder`].
///
/// `source` and `legal_entity` are required. The id defaults to a new [`MessageId`], the
/// correlation id to a new random one, `occurred_at` to now, the lane to
/// [`Lane::for_key`] of the idempotency key.
#[derive(Debug, Clone)]
#[must_use]
pub struct EnvelopeBuilder<T> {
    id: Option<MessageId>,
    key: IdempotencyKey,
    correlation_id: Option<CorrelationId>,
    source: Option<String>,
    legal_entity: Option<LegalEntityKey>,
    occurred_at: Option<DateTime<Utc>>,
    lane: Option<Lane>,
    payload: T,
}

impl<T> EnvelopeBuilder<T> {
    /// Sets the message id (for example one given by the source system's event id).
    pub fn id(mut self, id: MessageId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the correlation id.
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Sets the source system.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets the legal entity.
    pub fn legal_entity(mut self, legal_entity: LegalEntityKey) -> Self {
        self.legal_entity = Some(legal_entity);
        self
    }

    /// Sets when the event occurred.
    pub fn occurred_at(mut self, at: DateTime<Utc>) -> Self {
        self.occurred_at = Some(at);
        self
    }

    /// Sets the lane.
    pub fn lane(mut self, lane: Lane) -> Self {
        self.lane = Some(lane);
        self
    }

    /// Checks the required fields and builds the envelope.
    pub fn build(self) -> Result<Envelope<T>, EnvelopeError> {
        let source = self
            .source
            .filter(|s| !s.trim().is_empty())
            .ok_or(EnvelopeError::MissingField("source"))?;
        let legal_entity = self
            .legal_entity
            .ok_or(EnvelopeError::MissingField("legal_entity"))?;
        let lane = self.lane.unwrap_or_else(|| Lane::for_key(&self.key));
        Ok(Envelope {
            id: self.id.unwrap_or_default(),
            idempotency_key: self.key,
            correlation_id: self.correlation_id.unwrap_or_else(CorrelationId::random),
            source,
            legal_entity,
            occurred_at: self.occurred_at.unwrap_or_else(Utc::now),
            lane,
            payload: self.payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules() {
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new(" a").is_err());
        assert!(IdempotencyKey::new("a\nb").is_err());
        assert!(IdempotencyKey::new("x".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1)).is_err());
        assert!(IdempotencyKey::new("x".repeat(MAX_IDEMPOTENCY_KEY_LEN)).is_ok());
        assert!(IdempotencyKey::for_effect("contract", "", "v1", "x").is_err());
    }

    #[test]
    fn for_effect_escapes_and_names_its_business_key() {
        let key = IdempotencyKey::for_effect("contract", "a:b", "v1", "create").unwrap();
        assert_eq!(key.as_str(), "contract:a%3Ab:v1:create");
        assert_eq!(key.business_key(), Some("contract:a%3Ab"));
        assert_eq!(IdempotencyKey::new("plain").unwrap().business_key(), None);
    }

    #[test]
    fn external_id_names_are_safe_distinct_and_bounded() {
        let a = IdempotencyKey::new("contract:42")
            .unwrap()
            .to_external_id_name();
        let b = IdempotencyKey::new("contract_42")
            .unwrap()
            .to_external_id_name();
        assert_eq!(b, "contract_42");
        assert_ne!(a, b);
        let long = IdempotencyKey::new("É".repeat(100))
            .unwrap()
            .to_external_id_name();
        assert!(long.len() <= MAX_EXTERNAL_ID_NAME_LEN);
        assert!(
            long.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
        // A safe key that looks like a hashed name still gets its own hash.
        let tricky = IdempotencyKey::new("x_0123456789abcdef").unwrap();
        assert_ne!(tricky.to_external_id_name(), "x_0123456789abcdef");
    }

    #[test]
    fn envelope_round_trip_and_defaults() {
        let key = IdempotencyKey::for_effect("contract", "42", "v3", "create-project").unwrap();
        let env = Envelope::builder(key, 7_u32)
            .source("crm")
            .legal_entity(LegalEntityKey::new("be").unwrap())
            .build()
            .unwrap();
        assert_eq!(env.lane.as_str(), "contract:42");
        let json = env.to_json().unwrap();
        let back: JsonEnvelope =
            serde_json::from_str(&serde_json::to_string(&json).unwrap()).unwrap();
        assert_eq!(back, json);
        let typed: Envelope<u32> = back.decode().unwrap();
        assert_eq!(typed, env);
        assert_ne!(env.for_replay().id, env.id);
        assert!(
            Envelope::builder(IdempotencyKey::new("k").unwrap(), ())
                .source("crm")
                .build()
                .is_err()
        );
    }

    #[test]
    fn legal_entity_is_a_plain_string_in_json_and_checked_when_read() {
        let env = Envelope::builder(IdempotencyKey::new("k").unwrap(), ())
            .source("crm")
            .legal_entity(LegalEntityKey::new("firm-eu").unwrap())
            .build()
            .unwrap();
        let mut json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["legal_entity"], "firm-eu");
        json["legal_entity"] = serde_json::json!("firm eu");
        assert!(serde_json::from_value::<Envelope<()>>(json).is_err());
    }

    #[test]
    fn invalid_key_is_rejected_on_deserialize() {
        let r: Result<IdempotencyKey, _> = serde_json::from_str("\"\"");
        assert!(r.is_err());
    }
}
