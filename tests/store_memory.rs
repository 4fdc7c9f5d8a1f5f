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
