//! The conformance suite against the in-memory store.
#![cfg(feature = "testkit")]

use odoo_connect::store::conformance::{StoreFactory, run_all};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::store::{StoreOptions, StoreResult};

struct Memory;

#[async_trait::async_trait]
impl StoreFactory for Memory {
    type Store = MemoryStore;

    async fn fresh(&self, options: StoreOptions) -> StoreResult<MemoryStore> {
        Ok(MemoryStore::with_options(options))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_suite() {
    let report = run_all(&Memory).await;
    println!("{report}");
    report.assert_passed();
}

#[cfg(feature = "encryption")]
#[path = "support/encrypted.rs"]
mod encrypted;

#[cfg(feature = "encryption")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_memory_store_passes_the_conformance_suite() {
    let report = run_all(&encrypted::Encrypted(Memory)).await;
    println!("{report}");
    report.assert_passed();
}

#[cfg(feature = "encryption")]
#[tokio::test]
async fn a_payload_sealed_with_a_key_no_longer_kept_is_parked_not_handed_out() {
    use odoo_connect::store::encrypted::{EncryptedStore, Keyring};
    use odoo_connect::sync::store::{DeadLetterFilter, DeadLetters, WorkQueue};
    use std::sync::Arc;
    let inner = MemoryStore::new();
    let old = EncryptedStore::new(
        inner.clone(),
        Arc::new(Keyring::single("k1", [3; 32])),
        Default::default(),
    );
    encrypted::write_marker(&old).await;
    let key = odoo_connect::sync::envelope::IdempotencyKey::new("client:9:v1:partner").unwrap();
    let env = odoo_connect::sync::envelope::Envelope::builder(key, serde_json::json!({"n": 9}))
        .source("crm")
        .legal_entity("firm-be".parse().unwrap())
        .build()
        .unwrap();
    old.enqueue(&env).await.unwrap();
    // Rotated: k2 seals, k1 still opens; a keyring without k1 cannot open what k1 sealed.
    let rotated = EncryptedStore::new(
        inner.clone(),
        Arc::new(Keyring::single("k2", [7; 32]).with_previous("k1", [3; 32])),
        Default::default(),
    );
    assert_eq!(
        rotated.get(env.id).await.unwrap().unwrap().envelope.payload["n"],
        9
    );
    let without_k1 = EncryptedStore::new(
        inner.clone(),
        Arc::new(Keyring::single("k2", [7; 32])),
        Default::default(),
    );
    let leased = without_k1
        .lease("w", 10, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(leased.is_empty(), "{leased:?}");
    let letters = without_k1
        .list_dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(
        letters
            .iter()
            .any(|l| l.envelope.id == env.id && l.failure.reason == "undecryptable"),
        "{letters:?}"
    );
    // Opened by a keyring that has the key again.
    let letters = rotated
        .list_dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(
        letters
            .iter()
            .any(|l| l.envelope.id == env.id && l.envelope.payload["n"] == 9)
    );
}

// ---------------------------------------------------------------------------------------------
// The suite must catch broken stores: each fault below breaks one guarantee of a correct store,
// and the property that guards it must fail.
// ---------------------------------------------------------------------------------------------

mod mutants {
    use std::time::Duration;

    use async_trait::async_trait;
    use odoo_connect::store::conformance::{self, StoreFactory};
    use odoo_connect::store::memory::MemoryStore;
    use odoo_connect::sync::envelope::{IdempotencyKey, JsonEnvelope, Lane, MessageId};
    use odoo_connect::sync::store::*;
    use serde_json::Value;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Fault {
        RetryIgnoresDelay,
        BeginAlwaysNew,
        CheckpointWithoutCas,
        NoRedaction,
        LanesIgnored,
        FilterIgnored,
        FactsAlwaysNew,
    }

    #[derive(Clone, Debug)]
    struct Broken {
        inner: MemoryStore,
        fault: Fault,
    }

    #[async_trait]
    impl WorkQueue for Broken {
        async fn enqueue_batch(&self, messages: &[JsonEnvelope]) -> StoreResult<usize> {
            if self.fault == Fault::LanesIgnored {
                let own_lanes: Vec<JsonEnvelope> = messages
                    .iter()
                    .map(|m| {
                        let mut m = m.clone();
                        m.lane = Lane::new(m.id.to_string()).expect("lane");
                        m
                    })
                    .collect();
                return self.inner.enqueue_batch(&own_lanes).await;
            }
            self.inner.enqueue_batch(messages).await
        }
        async fn lease(
            &self,
            worker: &str,
            max: usize,
            lease_for: Duration,
        ) -> StoreResult<Vec<LeasedMessage>> {
            self.inner.lease(worker, max, lease_for).await
        }
        async fn heartbeat(&self, leases: &[Lease], d: Duration) -> StoreResult<Vec<Lease>> {
            self.inner.heartbeat(leases, d).await
        }
        async fn ack(&self, leases: &[Lease]) -> StoreResult<Vec<MessageId>> {
            self.inner.ack(leases).await
        }
        async fn retry_later(&self, lease: &Lease, delay: Duration, e: &str) -> StoreResult<()> {
            let delay = if self.fault == Fault::RetryIgnoresDelay {
                Duration::ZERO
            } else {
                delay
            };
            self.inner.retry_later(lease, delay, e).await
        }
        async fn dead_letter(&self, lease: &Lease, f: Failure) -> StoreResult<DeadLetterId> {
            self.inner.dead_letter(lease, f).await
        }
        async fn get(&self, id: MessageId) -> StoreResult<Option<QueuedMessage>> {
            self.inner.get(id).await
        }
        async fn stats(&self) -> StoreResult<QueueStats> {
            self.inner.stats().await
        }
    }

    #[async_trait]
    impl IdempotencyLedger for Broken {
        async fn begin(
            &self,
            key: &IdempotencyKey,
            intent: &Value,
            claim_for: Duration,
        ) -> StoreResult<Begin> {
            let b = self.inner.begin(key, intent, claim_for).await?;
            if self.fault == Fault::BeginAlwaysNew
                && let Begin::InFlight {
                    attempts,
                    claimed_until,
                } = b
            {
                // Pretends the claim was free.
                return Ok(Begin::New(Claim {
                    key: key.clone(),
                    token: uuid::Uuid::new_v4(),
                    attempts,
                    claimed_until,
                }));
            }
            Ok(b)
        }
        async fn complete(&self, claim: &Claim, outcome: &Value) -> StoreResult<()> {
            self.inner.complete(claim, outcome).await
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
    }

    #[async_trait]
    impl Checkpoints for Broken {
        async fn checkpoint(&self, key: &CheckpointKey) -> StoreResult<Option<Checkpoint>> {
            self.inner.checkpoint(key).await
        }
        async fn commit_checkpoint(
            &self,
            key: &CheckpointKey,
            expected: u64,
            cursor: &Value,
        ) -> StoreResult<Checkpoint> {
            let expected = if self.fault == Fault::CheckpointWithoutCas {
                self.inner.checkpoint(key).await?.map_or(0, |c| c.version)
            } else {
                expected
            };
            self.inner.commit_checkpoint(key, expected, cursor).await
        }
        async fn reset_checkpoint(&self, key: &CheckpointKey) -> StoreResult<Checkpoint> {
            self.inner.reset_checkpoint(key).await
        }
    }

    #[async_trait]
    impl DeadLetters for Broken {
        async fn park(&self, e: &JsonEnvelope, f: Failure, n: u32) -> StoreResult<DeadLetterId> {
            self.inner.park(e, f, n).await
        }
        async fn dead_letter_by_id(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
            self.inner.dead_letter_by_id(id).await
        }
        async fn list_dead_letters(&self, f: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
            if self.fault == Fault::FilterIgnored {
                return self.inner.list_dead_letters(&DeadLetterFilter::all()).await;
            }
            self.inner.list_dead_letters(f).await
        }
        async fn mark_replayed(
            &self,
            id: DeadLetterId,
            actor: &str,
            m: Option<MessageId>,
        ) -> StoreResult<()> {
            self.inner.mark_replayed(id, actor, m).await
        }
        async fn count_by_reason(&self) -> StoreResult<Vec<ReasonCount>> {
            self.inner.count_by_reason().await
        }
    }

    #[async_trait]
    impl Facts for Broken {
        async fn record_fact(
            &self,
            key: &FactKey,
            aliases: &[FactSubject],
            value: &Value,
        ) -> StoreResult<Recorded> {
            if self.fault == Fault::FactsAlwaysNew {
                // Pretends every write is the first.
                let recorded = self.inner.record_fact(key, aliases, value).await?;
                return Ok(Recorded::New(recorded.into_fact()));
            }
            self.inner.record_fact(key, aliases, value).await
        }
        async fn fact(&self, key: &FactKey) -> StoreResult<Option<StoredFact>> {
            self.inner.fact(key).await
        }
        async fn list_facts(&self, filter: &FactFilter) -> StoreResult<FactPage> {
            self.inner.list_facts(filter).await
        }
    }

    #[async_trait]
    impl AuditLog for Broken {
        async fn append(&self, event: AuditEvent) -> StoreResult<u64> {
            self.inner.append(event).await
        }
        async fn query_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
            self.inner.query_audit(q).await
        }
    }

    struct BrokenFactory(Fault);

    #[async_trait]
    impl StoreFactory for BrokenFactory {
        type Store = Broken;
        async fn fresh(&self, mut options: StoreOptions) -> StoreResult<Broken> {
            if self.0 == Fault::NoRedaction {
                options.redactor = Redactor::new();
            }
            Ok(Broken {
                inner: MemoryStore::with_options(options),
                fault: self.0,
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_suite_catches_broken_stores() {
        let cases: [(Fault, &str); 7] = [
            (Fault::RetryIgnoresDelay, "retry_later_respects_not_before"),
            (Fault::BeginAlwaysNew, "ledger_lifecycle"),
            (Fault::CheckpointWithoutCas, "checkpoint_compare_and_set"),
            (Fault::NoRedaction, "audit_order_and_redaction"),
            (Fault::LanesIgnored, "per_lane_order"),
            (Fault::FilterIgnored, "dead_letter_park_list_replay"),
            (Fault::FactsAlwaysNew, "facts_first_write_wins"),
        ];
        for (fault, property) in cases {
            let report = conformance::run_all(&BrokenFactory(fault)).await;
            let failed: Vec<&str> = report.failures().iter().map(|(n, _)| *n).collect();
            assert!(
                failed.contains(&property),
                "{fault:?} should fail {property}, report:\n{report}"
            );
        }
    }
}
