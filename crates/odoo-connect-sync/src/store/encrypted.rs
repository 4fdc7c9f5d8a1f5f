//! A state store whose payloads are kept encrypted at rest (feature `encryption`).
//!
//! [`EncryptedStore`] wraps any [`StateStore`](super::StateStore) (SQLite, PostgreSQL, memory, one of your own) and
//! seals, with ChaCha20-Poly1305 (an AEAD), what holds business data before it reaches the
//! store: the payload of every queued and parked message, the details of every audit event
//! (after the [`Redactor`] ran on them), and the value of every fact. It opens them again on the
//! way out, so pipelines, the conformance suite and the operator CLI see plain values. What the
//! store needs to work (ids, keys, lanes, states, times, the ledger's record ids, checkpoints)
//! stays in clear.
//!
//! A sealed value is a JSON object `{"$sealed": 1, "kid": "<key id>", "data": "<base64>"}`,
//! where `data` is a random 96-bit nonce followed by the ciphertext and its tag (a message's
//! payload keeps its `flow` tag beside them, a routing label the queue listing filters on). The associated
//! data binds it to where it belongs (the message id, the fact's kind and subject), so a sealed
//! payload copied onto another row does not open.
//!
//! Keys come from a [`KeyProvider`]; [`Keyring`] holds 256-bit keys by id, one of them the
//! current one. Rotation needs no mass re-encryption: new values are sealed with the current
//! key, old ones open with the key named in them for as long as the keyring keeps it.
//!
//! A message whose payload does not open (its key was dropped from the keyring, or the row was
//! tampered with) is not handed to a worker: it goes to the dead letters, still sealed, with the
//! reason `undecryptable`, and the worker gets the others.
//!
//! ```
//! use std::sync::Arc;
//! use odoo_connect_sync::store::encrypted::{EncryptedStore, Keyring};
//! use odoo_connect_sync::store::memory::MemoryStore;
//! use odoo_connect_sync::store::{Redactor, WorkQueue};
//! use odoo_connect_sync::envelope::{Envelope, IdempotencyKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Keyring::parse("k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//! let inner = MemoryStore::new();
//! let store = EncryptedStore::new(inner.clone(), Arc::new(keys), Redactor::default());
//! let env = Envelope::builder(IdempotencyKey::new("client:1:v1:partner")?, serde_json::json!({"vat": "BE0477472701"}))
//!     .source("crm")
//!     .legal_entity("firm-be".parse()?)
//!     .build()?;
//! store.enqueue(&env).await?;
//! // The store itself holds only the sealed form...
//! let raw = inner.get(env.id).await?.map(|m| m.envelope.payload.to_string()).unwrap_or_default();
//! assert!(!raw.contains("BE0477472701") && raw.contains("$sealed"));
//! // ...and the wrapper opens it.
//! let opened = store.get(env.id).await?.map(|m| m.envelope.payload).unwrap_or_default();
//! assert_eq!(opened["vat"], "BE0477472701");
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    AuditEvent, AuditLog, AuditQuery, AuditRecord, Begin, Checkpoint, CheckpointKey, Checkpoints,
    Claim, DeadLetter, DeadLetterFilter, DeadLetterId, DeadLetters, FactFilter, FactKey, FactPage,
    FactSubject, Facts, Failure, FailureClass, IdempotencyLedger, Lease, LeasedMessage,
    LedgerEntry, PurgeMode, QueueFilter, QueuePage, QueueStats, QueuedMessage, ReasonCount,
    Recorded, Redactor, StoreError, StoreResult, StoredFact, WorkQueue,
};
use crate::envelope::{IdempotencyKey, JsonEnvelope, MessageId};

/// The id of a key in a [`Keyring`] (written in every value sealed with it).
pub type KeyId = String;

/// Where an [`EncryptedStore`] gets its keys.
pub trait KeyProvider: Send + Sync {
    /// The key new values are sealed with, and its id.
    fn current(&self) -> (KeyId, Arc<Key>);

    /// The key of id `id`, to open a value sealed with it, if it is still kept.
    fn key(&self, id: &str) -> Option<Arc<Key>>;
}

/// 256-bit keys by id, one of them the current one. `Debug` shows the ids only.
#[derive(Clone)]
pub struct Keyring {
    current: KeyId,
    keys: HashMap<KeyId, Arc<Key>>,
}

/// Why a keyring or a sealed value was refused. Never holds a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A keyring entry is not `id:base64-of-32-bytes`.
    #[error("keyring entry {index} is not <id>:<base64 of 32 bytes>")]
    BadKeyEntry {
        /// Its position, from 0.
        index: usize,
    },
    /// A keyring with no key.
    #[error("the keyring has no key")]
    NoKey,
    /// A value sealed with a key the keyring no longer has.
    #[error("no key `{kid}` in the keyring")]
    UnknownKey {
        /// The key id written in the value.
        kid: String,
    },
    /// A sealed value that is not in the sealed form.
    #[error("the sealed value is malformed")]
    Malformed,
    /// The ciphertext does not open with its key and associated data (tampered with, or
    /// moved from another row).
    #[error("the sealed value does not open with key `{kid}`")]
    Tampered {
        /// The key id written in the value.
        kid: String,
    },
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("ids", &ids)
            .finish()
    }
}

impl Keyring {
    /// A keyring of one key, the current one.
    pub fn single(id: impl Into<KeyId>, key: [u8; 32]) -> Self {
        let id = id.into();
        let mut keys = HashMap::new();
        keys.insert(id.clone(), Arc::new(Key::from(key)));
        Keyring { current: id, keys }
    }

    /// Adds an older key (still opened, no longer used to seal).
    pub fn with_previous(mut self, id: impl Into<KeyId>, key: [u8; 32]) -> Self {
        self.keys.insert(id.into(), Arc::new(Key::from(key)));
        self
    }

    /// Parses `id:base64,id:base64,...` (standard base64 of 32 bytes each); the first is the
    /// current key. This is the form of an environment variable or a mounted secret file.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let mut ring: Option<Keyring> = None;
        for (index, entry) in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let bad = || SealError::BadKeyEntry { index };
            let (id, b64) = entry.split_once(':').ok_or_else(bad)?;
            let bytes = B64.decode(b64.trim()).map_err(|_| bad())?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
            let id = id.trim();
            if id.is_empty() {
                return Err(bad());
            }
            ring = Some(match ring {
                None => Keyring::single(id, key),
                Some(r) => r.with_previous(id, key),
            });
        }
        ring.ok_or(SealError::NoKey)
    }

    /// A new random 256-bit key, as standard base64 (for `Keyring::parse`).
    pub fn generate_key() -> String {
        B64.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }
}

impl KeyProvider for Keyring {
    fn current(&self) -> (KeyId, Arc<Key>) {
        let key = self
            .keys
            .get(&self.current)
            .cloned()
            .unwrap_or_else(|| Arc::new(Key::default()));
        (self.current.clone(), key)
    }

    fn key(&self, id: &str) -> Option<Arc<Key>> {
        self.keys.get(id).cloned()
    }
}

const SEALED: &str = "$sealed";

/// Seals `value` with the provider's current key, bound to `aad`.
fn seal(keys: &dyn KeyProvider, aad: &str, value: &Value) -> StoreResult<Value> {
    let (kid, key) = keys.current();
    let plain = serde_json::to_vec(value).map_err(|source| StoreError::Encode {
        what: "a value to seal",
        source,
    })?;
    let cipher = ChaCha20Poly1305::new(&key);
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| StoreError::InvalidArgument {
            reason: "the value could not be sealed".into(),
        })?;
    let mut data = nonce.to_vec();
    data.extend_from_slice(&sealed);
    Ok(json!({SEALED: 1, "kid": kid, "data": B64.encode(data)}))
}

/// Whether `value` is in the sealed form.
pub fn is_sealed(value: &Value) -> bool {
    value.get(SEALED).is_some()
}

/// Opens a sealed value (a value not in the sealed form, written before encryption was turned
/// on, is returned as it is).
fn open(keys: &dyn KeyProvider, aad: &str, value: &Value) -> Result<Value, SealError> {
    if !is_sealed(value) {
        return Ok(value.clone());
    }
    let kid = value
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(SealError::Malformed)?;
    let data = value
        .get("data")
        .and_then(Value::as_str)
        .and_then(|d| B64.decode(d).ok())
        .filter(|d| d.len() > 12)
        .ok_or(SealError::Malformed)?;
    let key = keys.key(kid).ok_or_else(|| SealError::UnknownKey {
        kid: kid.to_owned(),
    })?;
    let (nonce, sealed) = data.split_at(12);
    let plain = ChaCha20Poly1305::new(&key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SealError::Tampered {
            kid: kid.to_owned(),
        })?;
    serde_json::from_slice(&plain).map_err(|_| SealError::Malformed)
}

fn corrupt(what: String, e: SealError) -> StoreError {
    StoreError::Corrupt {
        what,
        source: Some(Box::new(e)),
    }
}

fn message_aad(id: MessageId) -> String {
    format!("message:{id}")
}

fn fact_aad(key: &FactKey) -> String {
    format!("fact:{}:{}", key.kind.as_str(), key.subject.as_str())
}

const AUDIT_AAD: &str = "audit";

/// A [`StateStore`](super::StateStore) that keeps payloads, audit details and facts sealed in
/// `S`; see the [module](self) documentation. Cheap to clone when `S` is.
#[derive(Clone)]
pub struct EncryptedStore<S> {
    inner: S,
    keys: Arc<dyn KeyProvider>,
    redactor: Redactor,
}

impl<S> fmt::Debug for EncryptedStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedStore").finish_non_exhaustive()
    }
}

impl<S> EncryptedStore<S> {
    /// Wraps `inner`. `redactor` runs on audit details before they are sealed (the inner store's
    /// own redactor sees only sealed details): give it the one the inner store was opened with.
    pub fn new(inner: S, keys: Arc<dyn KeyProvider>, redactor: Redactor) -> Self {
        EncryptedStore {
            inner,
            keys,
            redactor,
        }
    }

    /// The wrapped store (which holds the sealed values).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn seal_envelope(&self, env: &JsonEnvelope) -> StoreResult<JsonEnvelope> {
        let mut sealed = env.clone();
        sealed.payload = seal(&*self.keys, &message_aad(env.id), &env.payload)?;
        // The payload's `flow` tag (a routing label such as `time`, never business data) stays
        // readable, so the store can still list a flow's messages (`QueueFilter::flow`).
        if let (Some(flow), Some(obj)) = (
            env.payload.get("flow").filter(|f| f.is_string()),
            sealed.payload.as_object_mut(),
        ) {
            obj.insert("flow".into(), flow.clone());
        }
        Ok(sealed)
    }

    fn open_envelope(&self, env: &mut JsonEnvelope) -> Result<(), SealError> {
        env.payload = open(&*self.keys, &message_aad(env.id), &env.payload)?;
        Ok(())
    }

    fn open_fact(&self, mut fact: StoredFact) -> StoreResult<StoredFact> {
        let key = FactKey::new(fact.kind.clone(), fact.subject.clone());
        fact.value = open(&*self.keys, &fact_aad(&key), &fact.value)
            .map_err(|e| corrupt(format!("fact {}", fact_aad(&key)), e))?;
        Ok(fact)
    }
}

#[async_trait]
impl<S: WorkQueue + DeadLetters> WorkQueue for EncryptedStore<S> {
    async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
        let sealed = messages
            .iter()
            .map(|m| self.seal_envelope(m))
            .collect::<StoreResult<Vec<_>>>()?;
        self.inner.enqueue_batch(&sealed).await
    }

    async fn lease(
        &self,
        worker: &str,
        max: usize,
        lease_for: Duration,
    ) -> StoreResult<Vec<LeasedMessage>> {
        let leased = self.inner.lease(worker, max, lease_for).await?;
        let mut out = Vec::with_capacity(leased.len());
        for mut m in leased {
            match self.open_envelope(&mut m.envelope) {
                Ok(()) => out.push(m),
                Err(e) => {
                    // Never handed to a worker: parked, still sealed, for a person.
                    let failure = Failure::new(FailureClass::Technical, "undecryptable")
                        .with_errors(vec![e.to_string()]);
                    self.inner.dead_letter(&m.lease, failure).await?;
                }
            }
        }
        Ok(out)
    }

    async fn heartbeat(&self, leases: &[Lease], extend_for: Duration) -> StoreResult<Vec<Lease>> {
        self.inner.heartbeat(leases, extend_for).await
    }

    async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        self.inner.ack(leases).await
    }

    async fn retry_later(&self, lease: &Lease, delay: Duration, error: &str) -> StoreResult<()> {
        self.inner.retry_later(lease, delay, error).await
    }

    async fn dead_letter(&self, lease: &Lease, failure: Failure) -> StoreResult<DeadLetterId> {
        self.inner.dead_letter(lease, failure).await
    }

    async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
        match self.inner.get(id).await? {
            Some(mut m) => {
                self.open_envelope(&mut m.envelope)
                    .map_err(|e| corrupt(format!("payload of message {id}"), e))?;
                Ok(Some(m))
            }
            None => Ok(None),
        }
    }

    async fn stats(&self) -> StoreResult<QueueStats> {
        self.inner.stats().await
    }

    async fn release(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
        self.inner.release(leases).await
    }

    async fn list_messages(&self, filter: &QueueFilter) -> StoreResult<QueuePage> {
        let mut page = self.inner.list_messages(filter).await?;
        for entry in &mut page.items {
            // One that does not open is listed sealed: the operator sees which key it needs.
            let _ = self.open_envelope(&mut entry.message.envelope);
        }
        Ok(page)
    }

    async fn purge_finished(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.inner.purge_finished(before, mode).await
    }
}

#[async_trait]
impl<S: IdempotencyLedger> IdempotencyLedger for EncryptedStore<S> {
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    async fn begin(
        &self,
        key: &IdempotencyKey,
        intent: &Value,
        claim_for: Duration,
    ) -> StoreResult<Begin> {
        self.inner.begin(key, intent, claim_for).await
    }

    async fn begin_many(
        &self,
        requests: &[(IdempotencyKey, Value)],
        claim_for: Duration,
    ) -> StoreResult<Vec<Begin>> {
        self.inner.begin_many(requests, claim_for).await
    }

    async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
        self.inner.complete(claim, outcome).await
    }

    async fn complete_many(&self, completions: &[(Claim, Value)]) -> StoreResult<()> {
        self.inner.complete_many(completions).await
    }

    async fn abandon(&self, claim: &Claim, reason: Option<&str>) -> StoreResult<()> {
        self.inner.abandon(claim, reason).await
    }

    async fn fail(&self, claim: &Claim, error: &str) -> StoreResult<()> {
        self.inner.fail(claim, error).await
    }

    async fn entry(&self, key: &IdempotencyKey) -> StoreResult<Option<LedgerEntry>> {
        self.inner.entry(key).await
    }

    async fn purge_ledger(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.inner.purge_ledger(before, mode).await
    }
}

#[async_trait]
impl<S: Checkpoints> Checkpoints for EncryptedStore<S> {
    async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
        self.inner.checkpoint(key).await
    }

    async fn commit_checkpoint(
        &self,
        key: &CheckpointKey,
        expected_version: u64,
        cursor: &Value,
    ) -> StoreResult<Checkpoint> {
        self.inner
            .commit_checkpoint(key, expected_version, cursor)
            .await
    }

    async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint> {
        self.inner.reset_checkpoint(key).await
    }
}

#[async_trait]
impl<S: DeadLetters> DeadLetters for EncryptedStore<S> {
    async fn park(
        &self,
        envelope: &JsonEnvelope,
        failure: Failure,
        attempts: u32,
    ) -> StoreResult<DeadLetterId> {
        let sealed = self.seal_envelope(envelope)?;
        self.inner.park(&sealed, failure, attempts).await
    }

    async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        let mut letter = self.inner.dead_letter_by_id(id).await?;
        if let Some(l) = &mut letter {
            // A letter parked because it does not open stays sealed for the operator to see.
            let _ = self.open_envelope(&mut l.envelope);
        }
        Ok(letter)
    }

    async fn list_dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        let mut letters = self.inner.list_dead_letters(filter).await?;
        for l in &mut letters {
            let _ = self.open_envelope(&mut l.envelope);
        }
        Ok(letters)
    }

    async fn mark_replayed(
        &self,
        id: DeadLetterId,
        actor: &str,
        message_id: Option<MessageId>,
    ) -> StoreResult<()> {
        self.inner.mark_replayed(id, actor, message_id).await
    }

    async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
        self.inner.count_by_reason().await
    }

    async fn purge_dead_letters(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.inner.purge_dead_letters(before, mode).await
    }
}

#[async_trait]
impl<S: AuditLog> AuditLog for EncryptedStore<S> {
    async fn append(&self, mut event: AuditEvent) -> StoreResult<u64> {
        self.redactor.redact(&mut event.details);
        event.details = seal(&*self.keys, AUDIT_AAD, &event.details)?;
        self.inner.append(event).await
    }

    async fn append_many(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        let mut sealed = Vec::with_capacity(events.len());
        for mut event in events {
            self.redactor.redact(&mut event.details);
            event.details = seal(&*self.keys, AUDIT_AAD, &event.details)?;
            sealed.push(event);
        }
        self.inner.append_many(sealed).await
    }

    async fn query_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        let mut records = self.inner.query_audit(query).await?;
        for r in &mut records {
            r.event.details = open(&*self.keys, AUDIT_AAD, &r.event.details)
                .map_err(|e| corrupt(format!("details of audit record {}", r.seq), e))?;
        }
        Ok(records)
    }

    async fn purge_audit(&self, before: DateTime<Utc>, mode: PurgeMode) -> StoreResult<u64> {
        self.inner.purge_audit(before, mode).await
    }
}

#[async_trait]
impl<S: Facts> Facts for EncryptedStore<S> {
    async fn record_fact(
        &self,
        key: &FactKey,
        aliases: &[FactSubject],
        value: &Value,
    ) -> StoreResult<Recorded> {
        let sealed = seal(&*self.keys, &fact_aad(key), value)?;
        Ok(match self.inner.record_fact(key, aliases, &sealed).await? {
            Recorded::New(f) => Recorded::New(self.open_fact(f)?),
            Recorded::Existing(f) => Recorded::Existing(self.open_fact(f)?),
        })
    }

    async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
        match self.inner.fact(key).await? {
            Some(f) => Ok(Some(self.open_fact(f)?)),
            None => Ok(None),
        }
    }

    async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
        let mut page = self.inner.list_facts(filter).await?;
        page.items = page
            .items
            .into_iter()
            .map(|f| self.open_fact(f))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(page)
    }
}
