//! Odoo as a source, on FakeOdoo: the invoices and payments changed in Odoo by whoever changed
//! them are read by `write_date` and id, each change once (records written in the same second
//! included, pages ending between them), and reach the CRM deal of their contract and its trace.

use std::collections::BTreeMap;

use odoo_connect::core::feed::Feed;
use odoo_connect::flows::odoo_source::{ChangedModel, OdooChanges, OdooEvent};
use odoo_connect::odoo::{Domain, OdooCall};
use odoo_connect::testkit::FakeOdoo;
use serde_json::{Value, json};

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;
#[path = "support/odoo_source.rs"]
mod odoo_source;

#[tokio::test]
async fn a_payment_registered_by_hand_reaches_the_crm_and_the_trace_once() {
    let fake = FakeOdoo::start().await;
    let run = odoo_source::book_and_invoice(
        flows_setup::odoo_connect_client(&fake).unwrap(),
        &fake_hubspot::sample_deals(),
        flows_setup::APPROVED_TIME_CSV,
    )
    .await;
    odoo_source::payment_by_hand_reaches_the_crm_once(&run).await;
    odoo_source::cancelled_payment_reaches_the_crm(&run).await;
    // On the fake nothing else writes: the last poll queued nothing.
    assert_eq!(run.poll().await.enqueued, 0);
}

/// Every change of a feed, page by page with `limit`, until a page says no more follow.
async fn poll(
    feed: &OdooChanges,
    cursor: &mut Option<odoo_connect::core::page::Cursor>,
    limit: usize,
) -> Vec<(ChangedModel, i64, String)> {
    let mut out = Vec::new();
    loop {
        let page = feed.page(cursor.as_ref(), limit).await.expect("page");
        assert!(page.rejected.is_empty(), "{:?}", page.rejected);
        out.extend(page.items.iter().map(|c| {
            let status = match &c.event {
                OdooEvent::Invoice { invoice } => invoice.status.to_string(),
                OdooEvent::Payment { status, .. } => status.as_str().to_owned(),
                _ => String::new(),
            };
            (c.model, c.id.get(), status)
        }));
        *cursor = page.cursor.clone();
        if !page.has_more {
            return out;
        }
    }
}

#[tokio::test]
async fn records_written_in_one_second_are_read_once_whatever_the_page_size() {
    let fake = FakeOdoo::start().await;
    let odoo = flows_setup::odoo_connect_client(&fake).unwrap();
    let flows = flows_setup::flows(odoo.clone()).await.unwrap();
    let since = chrono::Utc::now()
        .with_timezone(&chrono::Utc)
        .checked_sub_signed(chrono::Duration::days(3650))
        .unwrap();
    let feed = OdooChanges::new(&flows).since(since);
    let mut cursor = None;
    // The posted customer invoices and the payments Odoo holds for the company, once each.
    let first = poll(&feed, &mut cursor, 2).await;
    let ids: Vec<(ChangedModel, i64)> = first.iter().map(|(m, id, _)| (*m, *id)).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "{first:?}");
    let expected = fake.count_where(
        "account.move",
        json!([
            ["move_type", "in", ["out_invoice", "out_refund"]],
            ["state", "in", ["posted", "cancel"]],
            [
                "company_id",
                "=",
                flows
                    .mapping_context()
                    .companies
                    .iter()
                    .next()
                    .map(|(id, _)| id.get())
                    .unwrap_or(1)
            ]
        ]),
    );
    assert_eq!(
        first
            .iter()
            .filter(|(m, _, _)| *m == ChangedModel::Invoice)
            .count(),
        expected
    );
    assert!(expected >= 3, "the fake holds posted invoices: {expected}");
    // Nothing changed: nothing read.
    assert_eq!(poll(&feed, &mut cursor, 2).await, vec![]);

    // One call writes them all: one write_date for every one of them.
    let moves: Vec<i64> = first
        .iter()
        .filter(|(m, _, _)| *m == ChangedModel::Invoice)
        .map(|(_, id, _)| *id)
        .collect();
    let _: Value = odoo
        .call(
            &OdooCall::new("account.move", "write")
                .ids(moves.iter().copied().map(odoo_connect::odoo::RecordId))
                .arg("vals", json!({"ref": "checked by the accountant"})),
        )
        .await
        .unwrap();
    let dates: Vec<Value> = odoo
        .model_named::<Value>("account.move")
        .search_read(Domain::new().is_in("id", moves.clone()))
        .fields(["write_date"])
        .await
        .unwrap();
    let mut stamps: Vec<&str> = dates
        .iter()
        .filter_map(|d| d["write_date"].as_str())
        .collect();
    stamps.dedup();
    assert_eq!(stamps.len(), 1, "one second for all: {stamps:?}");
    // Pages of 2 end between them: each is read once, and once only.
    let second = poll(&feed, &mut cursor, 2).await;
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, id, _) in &second {
        *counts.entry(*id).or_default() += 1;
    }
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), {
        let mut m = moves.clone();
        m.sort();
        m
    });
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(poll(&feed, &mut cursor, 3).await, vec![]);
}
