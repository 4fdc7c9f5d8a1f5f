//! One message id per change, whichever way it arrives: pulled from a source
//! (`change_envelope`), pushed to a pipeline (`Deliver for Pipeline`), pushed to the flows' queue
//! (`QueueDeliver`), all derived by `MessageId::derived` from the change id. Before, the flows'
//! queue derived its own id, which differed for about half of all change ids, so a change pushed
//! once and pulled once was queued twice.

#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_connect::canonical::ExternalRef;
use odoo_connect::connector::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Deliver, Page, Record,
    RecordKind, Source, SourceFeed, ToEnvelope, change_envelope,
};
use odoo_connect::flows::QueueDeliver;
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::envelope::MessageId;
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{CheckpointKey, WorkQueue};
use odoo_connect::testkit::FakeOdoo;

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-12T09:30:18Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid time")
}

/// A change of a contract's customer (a record that names its legal entity), version `n`.
fn change(n: u32) -> Change {
    let external = ExternalRef::new("crm", format!("acct-{n}"));
    use odoo_connect::canonical::{Address, Client, CountryCode, Currency};
    let be = CountryCode::new("BE").expect("a country");
    let client = Client::new(
        format!("client-{n}").parse().expect("a client key"),
        format!("Client {n}"),
        be,
        Address::new(vec![format!("Rue {n}")], "Brussels", be),
        Currency::EUR,
        "firm-eu".parse().expect("an entity key"),
    );
    Change::new(
        ChangeId::of(&external, RecordKind::Client, &n.to_string()),
        external,
        at(),
        Record::from(client),
    )
}

/// A source that returns the given changes on one page.
struct Fixed(Vec<Change>);

impl Connector for Fixed {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new("crm")
    }
}

#[async_trait]
impl Source for Fixed {
    async fn pull(&self, _: Option<&Cursor>, _: usize) -> Result<Page<Change>, ConnectorError> {
        Ok(Page::new(self.0.clone(), Some(Cursor::new("end")), false))
    }
}

#[test]
fn every_derivation_is_the_one_of_the_core() {
    // Enough ids that both halves of the UUID's variant bits are covered many times.
    for n in 0..512 {
        let c = change(n);
        let expected = MessageId::derived(c.id.as_str());
        assert_eq!(change_envelope(&c).expect("an envelope").id, expected);
        assert_eq!(c.to_envelope().expect("an envelope").id, expected);
        assert_eq!(expected.as_uuid().get_version_num(), 8);
        assert_eq!(expected.as_uuid().get_variant(), uuid::Variant::RFC4122);
    }
}

#[tokio::test]
async fn a_change_pushed_then_pulled_is_queued_once() {
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("changes", store.clone()).build();
    let changes: Vec<Change> = (0..64).map(change).collect();

    pipeline
        .deliver(changes.clone())
        .await
        .expect("the pipeline keeps pushed changes");
    assert_eq!(store.stats().await.expect("stats").depth, 64);

    let key = CheckpointKey::new("crm", "clients", "firm-eu".parse().unwrap());
    let report = pipeline
        .pull_from(&SourceFeed::new(&Fixed(changes)), &key, change_envelope)
        .await
        .expect("the pull");
    assert_eq!(report.enqueued, 0, "every pulled change was already queued");
    assert_eq!(store.stats().await.expect("stats").depth, 64);
}

#[tokio::test]
async fn the_flows_queue_and_the_pipeline_give_a_change_the_same_id() {
    let fake = FakeOdoo::start().await;
    let odoo = flows_setup::odoo_connect_client(&fake).expect("a client");
    let flows = flows_setup::flows(odoo).await.expect("the flows");
    let store = Arc::new(MemoryStore::new());
    let queue = QueueDeliver::new(flows, store.clone());
    for n in 0..128 {
        let c = change(n);
        assert_eq!(
            queue.envelope(&c).expect("the flows' envelope").id,
            change_envelope(&c).expect("the pipeline's envelope").id,
            "change {}",
            c.id
        );
    }
    // Pushed to the flows' queue, then pulled into the same store: nothing twice.
    let changes: Vec<Change> = (0..32).map(change).collect();
    queue
        .deliver(changes.clone())
        .await
        .expect("the queue keeps pushed changes");
    let pipeline = Pipeline::builder("changes", store.clone()).build();
    let key = CheckpointKey::new("crm", "clients", "firm-eu".parse().unwrap());
    let report = pipeline
        .pull_from(&SourceFeed::new(&Fixed(changes)), &key, change_envelope)
        .await
        .expect("the pull");
    assert_eq!(report.enqueued, 0);
    assert_eq!(store.stats().await.expect("stats").depth, 32);
}
