//! Effects in Odoo that happen exactly once, across retries, lost replies and crashes.
//!
//! Odoo has no idempotency keys and runs each call in its own transaction. So creation goes
//! through an external id derived from the idempotency key, with Odoo's own `load`: it creates the
//! record and its `ir.model.data` row in one transaction, and the same call again updates the same
//! record instead of creating another. The intent is recorded in the ledger before the call and
//! the outcome after it:
//!
//! 1. `begin` in the ledger: done already → the recorded id; claimed by another worker → retry later;
//! 2. `load` with the external id `__sync__.<key>`: whether this is the first attempt or an attempt
//!    after a reply that was lost after Odoo committed, exactly one record exists afterwards;
//! 3. `complete` in the ledger with the id.
//!
//! Effects that are not creations (posting an invoice, registering a payment) check the target's
//! state before acting: see [`ensure`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::envelope::IdempotencyKey;
use crate::step::{Outcome, StepContext};
use crate::store::{AuditEvent, AuditKind, Begin};
use odoo_client::{OdooClient, RecordId};

/// The module of the external ids the sync creates.
pub const EXTERNAL_ID_MODULE: &str = "__sync__";

/// The external id (`__sync__.<name>`) of the record an idempotency key creates.
pub fn external_id(key: &IdempotencyKey) -> String {
    format!("{EXTERNAL_ID_MODULE}.{}", key.to_external_id_name())
}

/// One record to import with `load`: every value is sent as text, the way Odoo's importer
/// expects it.
///
/// ```
/// use odoo_connect_sync::effect::ImportRow;
/// use odoo_client::RecordId;
/// let row = ImportRow::new()
///     .text("name", "Acme Consulting")
///     .boolean("is_company", true)
///     .many2one("country_id", RecordId(21))
///     .number("credit_limit", 5000.5);
/// let (fields, values) = row.columns();
/// assert_eq!(fields, ["name", "is_company", "country_id/.id", "credit_limit"]);
/// assert_eq!(values, ["Acme Consulting", "True", "21", "5000.5"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRow {
    cells: Vec<(String, String)>,
}

impl ImportRow {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// A text, selection, date (`YYYY-MM-DD`) or datetime value.
    pub fn text(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.cells.push((field.into(), value.into()));
        self
    }

    /// A number (integer, float or monetary).
    pub fn number(self, field: impl Into<String>, value: impl std::fmt::Display) -> Self {
        let v = value.to_string();
        self.text(field, v)
    }

    /// A boolean.
    pub fn boolean(self, field: impl Into<String>, value: bool) -> Self {
        self.text(field, if value { "True" } else { "False" })
    }

    /// A many2one by database id (the `field/.id` column).
    pub fn many2one(self, field: impl Into<String>, id: RecordId) -> Self {
        let f = format!("{}/.id", field.into());
        self.text(f, id.to_string())
    }

    /// A many2one by external id (the `field/id` column), e.g. a record created by another effect.
    pub fn many2one_xmlid(self, field: impl Into<String>, xmlid: impl Into<String>) -> Self {
        let f = format!("{}/id", field.into());
        self.text(f, xmlid)
    }

    /// The columns and values, in the order set.
    pub fn columns(&self) -> (Vec<String>, Vec<String>) {
        self.cells.iter().cloned().unzip()
    }
}

/// Creates a record of `model` exactly once for `key`, and returns its id.
///
/// Safe to call again after any failure, including a reply lost after Odoo committed: the
/// ledger and the external id make sure one record exists. `Err` carries the outcome the step
/// should return (retry later, or failed for good).
pub async fn create_once(
    cx: &mut StepContext,
    odoo: &OdooClient,
    model: &str,
    key: &IdempotencyKey,
    row: &ImportRow,
) -> Result<RecordId, Outcome> {
    let xmlid = external_id(key);
    let intent = json!({"op": "create", "model": model, "external_id": xmlid});
    let claim = match cx
        .ledger
        .begin(key, &intent, cx.claim_for)
        .await
        .map_err(store_outcome)?
    {
        Begin::Done { outcome } => {
            return outcome
                .get("id")
                .and_then(Value::as_i64)
                .map(RecordId)
                .ok_or_else(|| {
                    Outcome::failed(format!("the ledger holds no record id for `{key}`"), None)
                });
        }
        Begin::InFlight { claimed_until, .. } => {
            let wait = (claimed_until - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::from_secs(1))
                .clamp(Duration::from_secs(1), Duration::from_secs(300));
            return Err(Outcome::Retry {
                after: Some(wait),
                error: format!("`{key}` is being applied by another worker"),
            });
        }
        Begin::New(claim) | Begin::Resumed { claim, .. } => claim,
    };
    let (mut fields, mut values) = row.columns();
    fields.insert(0, "id".to_owned());
    values.insert(0, xmlid.clone());
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let rows = vec![values.into_iter().map(Value::String).collect()];
    let result = odoo
        .model_named::<Value>(model)
        .load(&field_refs, rows)
        .await;
    match result {
        Ok(load) => match load.into_ids() {
            Ok(ids) if ids.len() == 1 => {
                let id = ids[0];
                let outcome = json!({"model": model, "id": id, "external_id": xmlid});
                cx.ledger
                    .complete(&claim, &outcome)
                    .await
                    .map_err(store_outcome)?;
                cx.audit(
                    AuditEvent::new(AuditKind::Other("effect_applied".to_owned())).details(outcome),
                );
                Ok(id)
            }
            Ok(ids) => {
                let _ = cx
                    .ledger
                    .fail(&claim, "load returned an unexpected id count")
                    .await;
                Err(Outcome::failed(
                    format!("load of {model} returned {} ids for one row", ids.len()),
                    None,
                ))
            }
            Err(e) => {
                // Odoo refused the row (bad value, missing record): a data problem.
                let _ = cx.ledger.fail(&claim, &e.to_string()).await;
                Err(Outcome::failed(
                    format!("Odoo refused the {model} record: {e}"),
                    Some(&e),
                ))
            }
        },
        Err(e) => {
            if e.is_retryable() {
                // The reply may be lost after a commit: release the claim; the next attempt
                // loads the same external id again and finds the same record.
                let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
            } else {
                let _ = cx.ledger.fail(&claim, &e.to_string()).await;
            }
            Err(Outcome::from_odoo_error(&e))
        }
    }
}

/// Runs a state-changing call (`action_post`, `action_confirm`, registering a payment) only when
/// the target is not already in the wanted state.
///
/// `is_done` reads the target and says whether the effect is already there; `act` performs it.
/// After `act`, the target is read again to confirm. With the ledger entry for `key`, a retry
/// after a lost reply finds the effect done and does not repeat it.
pub async fn ensure<C, CF, A, AF>(
    cx: &StepContext,
    key: &IdempotencyKey,
    mut is_done: C,
    act: A,
) -> Result<Value, Outcome>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = odoo_client::Result<Option<Value>>>,
    A: FnOnce() -> AF,
    AF: std::future::Future<Output = odoo_client::Result<Value>>,
{
    let claim = match cx
        .ledger
        .begin(key, &json!({"op": "ensure"}), cx.claim_for)
        .await
        .map_err(store_outcome)?
    {
        Begin::Done { outcome } => return Ok(outcome),
        Begin::InFlight { .. } => {
            return Err(Outcome::retry(format!(
                "`{key}` is being applied by another worker"
            )));
        }
        Begin::New(claim) | Begin::Resumed { claim, .. } => claim,
    };
    let fail = |e: odoo_client::Error| Outcome::from_odoo_error(&e);
    let already = match is_done().await {
        Ok(v) => v,
        Err(e) => {
            let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
            return Err(fail(e));
        }
    };
    let outcome = match already {
        Some(v) => v,
        None => {
            if let Err(e) = act().await {
                let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
                return Err(fail(e));
            }
            match is_done().await {
                Ok(Some(v)) => v,
                Ok(None) => {
                    let _ = cx
                        .ledger
                        .fail(&claim, "the effect is not visible after the call")
                        .await;
                    return Err(Outcome::failed(
                        format!("`{key}`: the call succeeded but the target did not change"),
                        None,
                    ));
                }
                Err(e) => {
                    let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
                    return Err(fail(e));
                }
            }
        }
    };
    cx.ledger
        .complete(&claim, &outcome)
        .await
        .map_err(store_outcome)?;
    Ok(outcome)
}

fn store_outcome(e: crate::store::StoreError) -> Outcome {
    if e.is_retryable() {
        Outcome::retry(format!("state store: {e}"))
    } else {
        Outcome::failed(format!("state store: {e}"), Some(&e))
    }
}
