//! What the tests of Odoo as a source share: a CRM that records what it is told, and the scenario
//! "the flows book deals and post their invoices, then someone registers a payment by hand in
//! Odoo", on FakeOdoo or a real Odoo.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use odoo_connect::canonical::{ContractKey, InvoiceStatus};
use odoo_connect::connector::{
    ApplyOutcome, Capabilities, Change, Connector, ConnectorError, Record, RecordKind, Sink,
};
use odoo_connect::flows::odoo_source::OdooChanges;
use odoo_connect::flows::{FlowEvent, Flows, correlation_for};
use odoo_connect::odoo::models::AccountMove;
use odoo_connect::odoo::{Context, Domain, OdooCall, OdooClient, RecordId};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::sync::pipeline::{Pipeline, PullReport};
use odoo_connect::sync::store::{AuditKind, CheckpointKey};
use serde_json::{Value, json};

use crate::{fake_hubspot, flows_setup};

/// One write the CRM received: the deal, the kind of record and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub deal: String,
    pub kind: RecordKind,
    /// An invoice's status, or a payment's amount.
    pub what: String,
}

/// A CRM that records the changes applied to it, each once.
#[derive(Debug, Clone, Default)]
pub struct RecordingCrm {
    applied: Arc<Mutex<Vec<(String, Written)>>>,
}

impl RecordingCrm {
    pub fn written(&self) -> Vec<Written> {
        self.applied
            .lock()
            .unwrap()
            .iter()
            .map(|(_, w)| w.clone())
            .collect()
    }

    pub fn written_to(&self, deal: &str) -> Vec<Written> {
        self.written()
            .into_iter()
            .filter(|w| w.deal == deal)
            .collect()
    }
}

#[async_trait]
impl Connector for RecordingCrm {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new("hubspot").consumes([RecordKind::Invoice, RecordKind::Payment])
    }
}

#[async_trait]
impl Sink for RecordingCrm {
    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, ConnectorError> {
        let mut applied = self.applied.lock().unwrap();
        if applied.iter().any(|(id, _)| id == change.id.as_str()) {
            return Ok(ApplyOutcome::AlreadyApplied);
        }
        let what = match &change.record {
            Record::Invoice(i) => i.status.to_string(),
            Record::Payment(p) => p.amount.to_string(),
            other => other.kind().to_string(),
        };
        applied.push((
            change.id.as_str().to_owned(),
            Written {
                deal: change.external.id.clone(),
                kind: change.record.kind(),
                what,
            },
        ));
        Ok(ApplyOutcome::Applied)
    }
}

/// The scenario's state: the flows writing to the recording CRM, their pipeline and the feed.
pub struct Run {
    pub flows: Flows,
    pub crm: RecordingCrm,
    pub store: Arc<MemoryStore>,
    pub pipeline: Pipeline<MemoryStore>,
    pub feed: OdooChanges,
    pub checkpoint: CheckpointKey,
}

impl Run {
    /// Pulls the Odoo changes once and runs the pipeline until its queue is empty.
    pub async fn poll(&self) -> PullReport {
        let flows = self.flows.clone();
        let report = self
            .pipeline
            .pull_from(&self.feed, &self.checkpoint, |c| {
                flows.odoo_change_envelope(c)
            })
            .await
            .expect("pull");
        flows_setup::drain(&self.pipeline, Duration::from_secs(120))
            .await
            .expect("drain");
        report
    }
}

/// Books `deals`, records the approved time of `csv` and posts the invoices, with `odoo`; the
/// feed starts at the first of the contracts' posted invoices.
pub async fn book_and_invoice(odoo: OdooClient, deals: &[fake_hubspot::Deal], csv: &str) -> Run {
    let hub = fake_hubspot::FakeHubSpot::start(deals).await;
    let crm = RecordingCrm::default();
    let flows = flows_setup::flows(odoo)
        .await
        .expect("flows")
        .with_sink(Arc::new(crm.clone()));
    let store = Arc::new(MemoryStore::new());
    let pipeline = flows_setup::pipeline(&flows, store.clone());
    let won = flows_setup::won_deals(&hub.uri(), fake_hubspot::TOKEN)
        .await
        .expect("deals");
    flows_setup::book_deals(&flows, &pipeline, &won)
        .await
        .expect("book");
    let (entries, _, _) = flows_setup::read_time_csv(csv).expect("csv");
    let time: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    pipeline.submit_batch(&time).await.unwrap();
    flows_setup::drain(&pipeline, Duration::from_secs(120))
        .await
        .unwrap();
    flows_setup::submit_releases(&flows, &pipeline, "2025-03")
        .await
        .unwrap();
    flows_setup::drain(&pipeline, Duration::from_secs(120))
        .await
        .unwrap();
    let first = invoices(&flows)
        .await
        .into_iter()
        .filter_map(|(_, m)| m.write_date)
        .min()
        .expect("posted invoices");
    let feed = OdooChanges::new(&flows)
        .with_facts(store.clone())
        .since(first);
    let checkpoint = feed.checkpoint_key();
    Run {
        flows,
        crm,
        store,
        pipeline,
        feed,
        checkpoint,
    }
}

/// The posted customer invoices of the booked contracts, with their contract.
pub async fn invoices(flows: &Flows) -> Vec<(ContractKey, AccountMove)> {
    let mut out = Vec::new();
    for b in flows.book().all() {
        let moves: Vec<AccountMove> = flows
            .odoo()
            .model::<AccountMove>()
            .search_read(
                Domain::new()
                    .eq("invoice_origin", b.order_name.as_str())
                    .eq("move_type", "out_invoice")
                    .eq("state", "posted"),
            )
            .order("id")
            .await
            .expect("invoices");
        out.extend(moves.into_iter().map(|m| (b.contract.key.clone(), m)));
    }
    out
}

/// A payment of the whole of `invoice` registered "by hand": Odoo's own wizard, as the
/// accountant's "Register payment" button calls it.
pub async fn register_by_hand(odoo: &OdooClient, invoice: RecordId) {
    let ctx = Context::new()
        .with("active_model", "account.move")
        .with("active_ids", json!([invoice.get()]));
    let created: Value = odoo
        .call(
            &OdooCall::new("account.payment.register", "create")
                .arg("vals_list", json!([{}]))
                .context(ctx.clone()),
        )
        .await
        .expect("the wizard");
    let wizard = created
        .as_i64()
        .or_else(|| created.get(0).and_then(Value::as_i64))
        .expect("a wizard id");
    let _: Value = odoo
        .call(
            &OdooCall::new("account.payment.register", "action_create_payments")
                .ids([RecordId(wizard)])
                .context(ctx),
        )
        .await
        .expect("the payment");
}

/// The scenario: the posted invoices reach the CRM once; a payment registered by hand in Odoo
/// reaches it once (the invoice paid, the payment received), and the trace of the deal shows
/// it; a poll after that writes nothing.
pub async fn payment_by_hand_reaches_the_crm_once(run: &Run) {
    let first = run.poll().await;
    assert!(first.enqueued >= 1, "{first:?}");
    let posted = invoices(&run.flows).await;
    let (contract, invoice) = posted.first().cloned().expect("an invoice");
    let deal = run
        .flows
        .book()
        .get(&contract)
        .and_then(|b| b.crm)
        .expect("the deal")
        .id;
    let before = run.crm.written_to(&deal);
    assert!(
        before
            .iter()
            .any(|w| w.kind == RecordKind::Invoice && w.what == InvoiceStatus::Posted.to_string()),
        "{before:?}"
    );
    let again = run.poll().await;
    assert_eq!(run.crm.written_to(&deal), before, "{again:?}");

    register_by_hand(run.flows.odoo(), invoice.id).await;
    let report = run.poll().await;
    assert!(
        report.enqueued >= 2,
        "the invoice and the payment: {report:?}"
    );
    let after = run.crm.written_to(&deal);
    let new: Vec<&Written> = after.iter().skip(before.len()).collect();
    let payments: Vec<&&Written> = new
        .iter()
        .filter(|w| w.kind == RecordKind::Payment)
        .collect();
    assert_eq!(payments.len(), 1, "{new:?}");
    assert!(
        payments[0]
            .what
            .starts_with(&invoice.amount_total.normalize().to_string())
            || payments[0]
                .what
                .starts_with(&format!("{:.2}", invoice.amount_total)),
        "{new:?} for {}",
        invoice.amount_total
    );
    assert!(
        new.iter()
            .any(|w| w.kind == RecordKind::Invoice && w.what == InvoiceStatus::Paid.to_string()),
        "{new:?}"
    );

    // Nothing new: nothing more written.
    let last = run.poll().await;
    assert_eq!(run.crm.written_to(&deal), after, "{last:?}");

    // The deal's trace shows the payment made in Odoo.
    let trace = run
        .pipeline
        .trace(&correlation_for(&contract))
        .await
        .unwrap();
    let seen: Vec<&Value> = trace
        .iter()
        .filter(|r| r.event.kind == AuditKind::from(FlowEvent::OdooChanged))
        .map(|r| &r.event.details)
        .collect();
    assert!(
        seen.iter()
            .any(|d| d["model"] == "account.payment" && d["record"]["payment"].is_string()),
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|d| d["model"] == "account.move" && d["status"] == "paid"),
        "{seen:#?}"
    );
}

/// After [`payment_by_hand_reaches_the_crm_once`]: the accountant cancels that payment (reset to
/// draft, then cancelled, as from its form); the CRM hears that the invoice is owed again, no
/// payment is written for it, and the trace shows the payment cancelled.
pub async fn cancelled_payment_reaches_the_crm(run: &Run) {
    let (contract, invoice) = invoices(&run.flows)
        .await
        .into_iter()
        .next()
        .expect("an invoice");
    let deal = run
        .flows
        .book()
        .get(&contract)
        .and_then(|b| b.crm)
        .expect("the deal")
        .id;
    let memo = odoo_connect::mapping::payment::memo_field(&run.flows.mapping_context().version);
    let payments: Vec<RecordId> = run
        .flows
        .odoo()
        .model_named::<Value>("account.payment")
        .search(
            Domain::new()
                .eq(memo, invoice.name.clone().unwrap_or_default())
                .not_in("state", ["draft", "cancel", "canceled"]),
        )
        .await
        .expect("the payment");
    assert_eq!(payments.len(), 1, "{payments:?}");
    for method in ["action_draft", "action_cancel"] {
        let _: Value = run
            .flows
            .odoo()
            .call(&OdooCall::new("account.payment", method).ids(payments.clone()))
            .await
            .expect(method);
    }
    let before = run.crm.written_to(&deal);
    run.poll().await;
    let after = run.crm.written_to(&deal);
    let new: Vec<&Written> = after.iter().skip(before.len()).collect();
    assert!(
        new.iter()
            .any(|w| w.kind == RecordKind::Invoice && w.what == InvoiceStatus::Posted.to_string()),
        "the invoice is owed again: {new:?}"
    );
    assert!(
        new.iter().all(|w| w.kind != RecordKind::Payment),
        "a cancelled payment is not money received: {new:?}"
    );
    let trace = run
        .pipeline
        .trace(&correlation_for(&contract))
        .await
        .unwrap();
    assert!(
        trace
            .iter()
            .any(|r| r.event.kind == AuditKind::from(FlowEvent::OdooChanged)
                && r.event.details["model"] == "account.payment"
                && r.event.details["status"] == "cancelled"),
        "the trace shows the payment cancelled"
    );
}
