//! The conformance suite's factories, sealed: every store they make is wrapped in an
//! `EncryptedStore`, and `write_marker` writes a marker through every path that holds business
//! data, for a search of the raw storage.

use std::sync::Arc;

use odoo_connect::store::conformance::StoreFactory;
use odoo_connect::store::encrypted::{EncryptedStore, Keyring};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, MessageId};
use odoo_connect::sync::store::{
    AuditEvent, AuditKind, FactKey, FactKind, FactSubject, Failure, FailureClass, StateStore,
    StoreOptions, StoreResult,
};

/// What `write_marker` writes; a raw search of the storage must not find it.
pub const MARKER: &str = "Acme-Confidential-BE0477472701";

/// The suite's keyring: a current key and an older one.
pub fn keyring() -> Keyring {
    Keyring::single("k2", [7; 32]).with_previous("k1", [3; 32])
}

/// `F`'s stores, sealed with [`keyring`].
pub struct Encrypted<F>(pub F);

#[async_trait::async_trait]
impl<F: StoreFactory> StoreFactory for Encrypted<F> {
    type Store = EncryptedStore<F::Store>;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<Self::Store> {
        let redactor = options.redactor.clone();
        let inner = self.0.fresh(options).await?;
        Ok(EncryptedStore::new(inner, Arc::new(keyring()), redactor))
    }

    async fn reopen(
        &self,
        store: &Self::Store,
        options: StoreOptions,
    ) -> StoreResult<Option<Self::Store>> {
        let redactor = options.redactor.clone();
        Ok(self
            .0
            .reopen(store.inner(), options)
            .await?
            .map(|inner| EncryptedStore::new(inner, Arc::new(keyring()), redactor)))
    }

    async fn corrupt_message(
        &self,
        store: &Self::Store,
        id: MessageId,
        raw: &[u8],
    ) -> StoreResult<bool> {
        self.0.corrupt_message(store.inner(), id, raw).await
    }
}

/// Writes [`MARKER`] through the queue, the dead letters, the audit trail and the facts.
pub async fn write_marker<S: StateStore>(store: &S) {
    let env = |n: u32| {
        let key = IdempotencyKey::new(format!("client:{n}:v1:partner")).expect("a key");
        Envelope::builder(key, serde_json::json!({"name": MARKER, "n": n}))
            .source("crm")
            .legal_entity("firm-be".parse().expect("a legal entity"))
            .build()
            .expect("an envelope")
    };
    store.enqueue(&env(1)).await.expect("queued");
    store
        .park(
            &env(2),
            Failure::new(FailureClass::Business, "held for a person"),
            1,
        )
        .await
        .expect("parked");
    store
        .append(
            AuditEvent::new(AuditKind::EffectApplied)
                .details(serde_json::json!({"partner": MARKER})),
        )
        .await
        .expect("audited");
    const BOOKING: FactKind = FactKind::named("booking");
    let key = FactKey::new(
        BOOKING,
        FactSubject::new("contract:c-1").expect("a subject"),
    );
    store
        .record_fact(&key, &[], &serde_json::json!({"client": MARKER}))
        .await
        .expect("recorded");
    // Read back through the wrapper: plain.
    let leased = store
        .lease("w", 10, std::time::Duration::from_secs(60))
        .await
        .expect("leased");
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].envelope.payload["name"], MARKER);
    let fact = store.fact(&key).await.expect("read").expect("a fact");
    assert_eq!(fact.value["client"], MARKER);
}
