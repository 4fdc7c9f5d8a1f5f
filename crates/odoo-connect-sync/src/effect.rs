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
//!
//! # Batches
//!
//! [`create_once`] costs one `load` per record. Where records are independent of each other
//! (the timesheet lines of approved time, one message each), [`create_once_many`] gives the same
//! guarantee at the server's batched rate: per batch of up to [`BatchOptions::max_rows`] rows,
//! one ledger round trip ([`IdempotencyLedger::begin_many`]), one `load`, and one
//! [`IdempotencyLedger::complete_many`]. Each row gets its own outcome: rows already done return
//! their recorded ids, a row Odoo refuses fails alone (its `load` message names the row) and
//! the good rows are loaded again without it, a lost reply leaves every row to be retried (the
//! retry's `load` finds the rows by their external ids instead of creating them twice).
//! [`BatchedCreate`] gathers the rows of concurrent pipeline steps (one message each) into such
//! batches.
//!
//! # Conflicts with concurrent transactions
//!
//! Concurrent writers of the same rows (timesheet lines of one task update the task's hours)
//! make PostgreSQL roll one of them back: a serialisation failure, a deadlock, a lock that could
//! not be obtained. `load` catches these per row and returns them in its messages as if Odoo
//! had refused the rows ([`LoadError::is_transient`](odoo_connect_client::LoadError::is_transient)
//! tells them apart), and other calls report them as
//! [`OdooErrorKind::Conflict`](odoo_connect_client::OdooErrorKind::Conflict) once Odoo's own tries are
//! spent. Nothing was committed, so the effects here load the same rows again after a short
//! random pause, a few times ([`BatchOptions::conflict_retries`]), and then hand them back to
//! the pipeline as [`Stop::Retry`]: a conflict never fails a row nor sends its message to the
//! dead letters.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::envelope::IdempotencyKey;
use crate::step::{StepContext, Stop};
use crate::store::{AuditEvent, AuditKind, Begin, Claim, IdempotencyLedger};
use odoo_connect_client::{
    FieldValue, LoadMessage, Model, ModelValues, OdooClient, RecordId, ServerVersion,
};

/// The module of the external ids the sync creates.
pub const EXTERNAL_ID_MODULE: &str = "__sync__";

/// The external id (`__sync__.<name>`) of the record an idempotency key creates.
pub fn external_id(key: &IdempotencyKey) -> String {
    format!("{EXTERNAL_ID_MODULE}.{}", key.to_external_id_name())
}

/// The records of `model` that Odoo holds under any of `xmlids` (`module.name`), by external id:
/// one read of `ir.model.data`.
///
/// Only Odoo's *Access Rights* group (`base.group_erp_manager`) may read `ir.model.data`; for
/// any other user Odoo answers `AccessError`, and each external id is then looked up with
/// `ir.model.data.check_object_reference` (public, one call per id), which finds it without
/// that right and answers only for records the user may read.
pub async fn existing_records(
    odoo: &OdooClient,
    model: &str,
    xmlids: &[String],
) -> odoo_connect_client::Result<HashMap<String, RecordId>> {
    let mut by_module: HashMap<&str, Vec<&str>> = HashMap::new();
    for x in xmlids {
        if let Some((module, name)) = x.split_once('.') {
            by_module.entry(module).or_default().push(name);
        }
    }
    let mut found = HashMap::new();
    for (module, names) in by_module {
        let rows: Vec<Value> = match odoo
            .model_named::<Value>("ir.model.data")
            .search_read(
                odoo_connect_client::Domain::new()
                    .eq("module", module)
                    .eq("model", model)
                    .is_in("name", names.clone()),
            )
            .fields(["name", "res_id"])
            .await
        {
            Ok(rows) => rows,
            Err(e) if e.odoo_kind() == Some(odoo_connect_client::OdooErrorKind::AccessError) => {
                for name in names {
                    if let Some(id) = referenced(odoo, model, module, name).await? {
                        found.insert(format!("{module}.{name}"), id);
                    }
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        for r in rows {
            if let (Some(name), Some(id)) = (
                r.get("name").and_then(Value::as_str),
                r.get("res_id").and_then(Value::as_i64),
            ) {
                found.insert(format!("{module}.{name}"), RecordId(id));
            }
        }
    }
    Ok(found)
}

/// The record of `model` external id `module.name` names, by `check_object_reference`: `None`
/// when there is none (Odoo raises `ValueError`), when it names a record of another model, or
/// when the user may not read it.
async fn referenced(
    odoo: &OdooClient,
    model: &str,
    module: &str,
    name: &str,
) -> odoo_connect_client::Result<Option<RecordId>> {
    let call = odoo_connect_client::OdooCall::new("ir.model.data", "check_object_reference")
        .arg("module", module)
        .arg("xml_id", name)
        .read_only();
    match odoo.call::<Value>(&call).await {
        Ok(reply) => Ok(match (reply.get(0).and_then(Value::as_str), reply.get(1)) {
            (Some(m), Some(id)) if m == model => id.as_i64().map(RecordId),
            _ => None,
        }),
        Err(e)
            if e.odoo_exception()
                .is_some_and(|n| n.ends_with("ValueError")) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One record to import with `load`: every value is sent as text, the way Odoo's importer
/// expects it.
///
/// ```
/// use odoo_connect_sync::effect::ImportRow;
/// use odoo_connect_client::RecordId;
/// let row = ImportRow::new()
///     .text("name", "Acme Consulting")
///     .boolean("is_company", true)
///     .many2one("country_id", RecordId(21))
///     .number("credit_limit", rust_decimal::Decimal::new(50005, 1));
/// let (fields, values) = row.columns();
/// assert_eq!(fields, ["name", "is_company", "country_id/.id", "credit_limit"]);
/// assert_eq!(values, ["Acme Consulting", "True", "21", "5000.5"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRow {
    /// Shared, so that a copy handed to a batch costs no allocation.
    cells: Arc<Vec<(String, String)>>,
}

impl ImportRow {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// A text, selection, date (`YYYY-MM-DD`) or datetime value.
    pub fn text(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.cells).push((field.into(), value.into()));
        self
    }

    /// A number (integer, quantity or monetary), as the decimal's exact text: an integer or a
    /// [`Decimal`](rust_decimal::Decimal), never a binary float (whose `0.1 + 0.2` would reach
    /// Odoo as `0.30000000000000004`).
    pub fn number(self, field: impl Into<String>, value: impl Into<rust_decimal::Decimal>) -> Self {
        let v = value.into().normalize().to_string();
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

    /// The row of typed values (see [`odoo_connect_client::write`]) for a server of `version`:
    /// each field by its kind (a many2one by database id, a decimal as its exact text, a date as
    /// `YYYY-MM-DD`, an emptied field as an empty cell), under the name that version knows.
    ///
    /// A many2many given as one [`Command::Set`](odoo_connect_client::Command::Set) goes in its
    /// `field/.id` column, the ids comma-separated. Any other x2many value has no cell in a row
    /// of this shape: it is refused ([`ImportRowError::X2many`]); create such records on their
    /// own, linked to this one.
    ///
    /// ```
    /// use odoo_connect_sync::effect::ImportRow;
    /// use odoo_connect_client::{RecordId, ServerVersion, models::TimesheetValues};
    /// use rust_decimal::Decimal;
    ///
    /// let mut line = TimesheetValues::new();
    /// line.name = Some("Workshop".into());
    /// line.project_id = Some(RecordId(8));
    /// line.unit_amount = Some(Decimal::new(3, 1)); // 0.3 hours, exactly
    /// line.so_line = Some(None); // billed on no order line
    /// let row = ImportRow::from_values(&line, &ServerVersion::new(19, 0))?;
    /// let (fields, values) = row.columns();
    /// assert_eq!(fields, ["name", "project_id/.id", "unit_amount", "so_line/.id"]);
    /// assert_eq!(values, ["Workshop", "8", "0.3", ""]);
    /// # Ok::<(), odoo_connect_sync::effect::ImportRowError>(())
    /// ```
    pub fn from_values<V: ModelValues + ?Sized>(
        values: &V,
        version: &ServerVersion,
    ) -> Result<ImportRow, ImportRowError> {
        let mut row = ImportRow::new();
        for (field, value) in values.field_values(version) {
            row = match value {
                FieldValue::Text(s) => row.text(field, s),
                FieldValue::Integer(i) => row.text(field, i.to_string()),
                FieldValue::Decimal(d) => row.number(field, d),
                FieldValue::Bool(b) => row.boolean(field, b),
                FieldValue::Date(d) => row.text(field, d.format("%Y-%m-%d").to_string()),
                FieldValue::Datetime(d) => {
                    row.text(field, d.format("%Y-%m-%d %H:%M:%S").to_string())
                }
                FieldValue::Many2one(Some(id)) => row.many2one(field, id),
                FieldValue::Many2one(None) => row.text(format!("{field}/.id"), ""),
                FieldValue::Clear => row.text(field, ""),
                // A many2many replaced by a set of records: the ids, comma-separated, in the
                // `field/.id` column (Odoo's importer splits them).
                FieldValue::X2many(commands)
                    if matches!(commands.as_slice(), [odoo_connect_client::Command::Set(_)]) =>
                {
                    let ids = match commands.first() {
                        Some(odoo_connect_client::Command::Set(ids)) => ids
                            .iter()
                            .map(RecordId::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                        _ => String::new(),
                    };
                    row.text(format!("{field}/.id"), ids)
                }
                FieldValue::X2many(_) => {
                    return Err(ImportRowError::X2many {
                        model: <V::Record as Model>::MODEL,
                        field,
                    });
                }
                _ => {
                    return Err(ImportRowError::Unsupported {
                        model: <V::Record as Model>::MODEL,
                        field,
                    });
                }
            };
        }
        Ok(row)
    }
}

/// Why typed values could not become an [`ImportRow`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportRowError {
    /// An x2many value other than one set of records: an import row has no cell for it.
    #[error(
        "{model}.{field} holds x2many commands an import row cannot hold (only one set of records): create its records on their own"
    )]
    X2many {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A kind of value this version of the crate cannot put in a row.
    #[error("{model}.{field} holds a kind of value an import row cannot hold")]
    Unsupported {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl odoo_connect_core::retry::Retryable for ImportRowError {
    fn is_retryable(&self) -> bool {
        false
    }
}

/// [`create_once`] of typed values: the model is the values' record type's, the row is
/// [`ImportRow::from_values`] for the server's version.
///
/// Safe to call again after any failure, as [`create_once`] is.
pub async fn create_values_once<V: ModelValues + ?Sized>(
    cx: &mut StepContext,
    odoo: &OdooClient,
    key: &IdempotencyKey,
    values: &V,
) -> Result<RecordId, Stop> {
    let version = odoo.version().await?;
    let row = ImportRow::from_values(values, &version)?;
    create_once(cx, odoo, <V::Record as Model>::MODEL, key, &row).await
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
) -> Result<RecordId, Stop> {
    let xmlid = external_id(key);
    let intent = json!({"op": "create", "model": model, "external_id": xmlid});
    let claim = match cx.ledger.begin(key, &intent, cx.claim_for).await? {
        Begin::Done { outcome } => return recorded_id(&outcome, key),
        Begin::InFlight { claimed_until, .. } => {
            return Err(in_flight(key, claimed_until, cx.ledger.now()));
        }
        Begin::New(claim) | Begin::Resumed { claim, .. } => claim,
    };
    // A record Odoo already holds under this external id (a state store that was lost or
    // replaced, another deployment) is the record: it is not loaded again, which would write
    // over it (and Odoo refuses writes to confirmed or posted documents).
    match existing_records(odoo, model, std::slice::from_ref(&xmlid)).await {
        Ok(found) => {
            if let Some(id) = found.get(&xmlid).copied() {
                let outcome =
                    json!({"model": model, "id": id, "external_id": xmlid, "found": true});
                cx.ledger.complete(&claim, &outcome).await?;
                return Ok(id);
            }
        }
        Err(e) => {
            let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
            return Err(Stop::from_odoo_error(&e));
        }
    }
    let (mut fields, mut values) = row.columns();
    fields.insert(0, "id".to_owned());
    values.insert(0, xmlid.clone());
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let row: Vec<Value> = values.into_iter().map(Value::String).collect();
    // A conflict with a concurrent transaction rolled the call back: load the row again after
    // a short random pause, a few times, before handing it back to the pipeline.
    let mut conflicts = 0;
    let result = loop {
        let result = odoo
            .model_named::<Value>(model)
            .load(&field_refs, vec![row.clone()])
            .await;
        let conflict = match &result {
            Ok(load) => load.is_transient(),
            Err(e) => e.is_conflict(),
        };
        if !conflict || conflicts >= CONFLICT_RETRIES {
            break result;
        }
        tokio::time::sleep(conflict_pause(conflicts)).await;
        conflicts += 1;
    };
    match result {
        Ok(load) => match load.into_ids() {
            Ok(ids) if ids.len() == 1 => {
                let id = ids[0];
                let outcome = json!({"model": model, "id": id, "external_id": xmlid});
                cx.ledger.complete(&claim, &outcome).await?;
                cx.audit(AuditEvent::new(AuditKind::EffectApplied).details(outcome));
                Ok(id)
            }
            Ok(ids) => {
                let _ = cx
                    .ledger
                    .fail(&claim, "load returned an unexpected id count")
                    .await;
                Err(Stop::failed(
                    format!("load of {model} returned {} ids for one row", ids.len()),
                    None,
                ))
            }
            Err(e) if e.is_transient() => {
                // Still rolled back by concurrent transactions: nothing was committed, the
                // pipeline tries again later.
                let text = conflict_text(&e.messages);
                let _ = cx.ledger.abandon(&claim, Some(&text)).await;
                Err(conflict_stop(&format!("the {model} load"), &text))
            }
            Err(e) => {
                // Odoo refused the row (bad value, missing record): a data problem.
                let _ = cx.ledger.fail(&claim, &e.to_string()).await;
                Err(Stop::failed(
                    format!("Odoo refused the {model} record: {e}"),
                    Some(&e),
                ))
            }
        },
        Err(e) => {
            // (A conflict is retryable too.)
            if e.is_retryable() {
                // The reply may be lost after a commit, or a concurrent transaction rolled the
                // call back: release the claim; the next attempt loads the same external id
                // again and finds the same record.
                let _ = cx.ledger.abandon(&claim, Some(&e.to_string())).await;
                if e.is_conflict() {
                    return Err(conflict_stop(&format!("the {model} load"), &e));
                }
            } else {
                let _ = cx.ledger.fail(&claim, &e.to_string()).await;
            }
            Err(Stop::from_odoo_error(&e))
        }
    }
}

/// How many times an effect loads rows again at once, after a short random pause, when a
/// concurrent transaction rolled its call back ([`BatchOptions::conflict_retries`]'s default).
const CONFLICT_RETRIES: u32 = 4;

/// The pause before the `attempt`-th (from 0) repeat of a call a conflict rolled back: a random
/// time between a half and the whole of 50 ms doubled per attempt, at most 2 s (so 25 to 50 ms,
/// then 50 to 100 ms, ...), so that the writers that collided do not collide again.
fn conflict_pause(attempt: u32) -> Duration {
    let full = Duration::from_millis(50)
        .saturating_mul(1 << attempt.min(6))
        .min(Duration::from_secs(2));
    full / 2 + full.mul_f64(jitter() / 2.0)
}

/// A random number in `[0, 1)`.
fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// The stop of a call that conflicts kept rolling back (`what`: "the res.partner load"): a
/// retry after a random second or two, so that the pipeline's next attempt comes when the
/// concurrent writers are likely done.
fn conflict_stop(what: &str, cause: &dyn fmt::Display) -> Stop {
    Stop::retry_after(
        Duration::from_millis(1000) + Duration::from_millis(1000).mul_f64(jitter()),
        format!("a concurrent transaction rolled back {what} (retried later): {cause}"),
    )
}

/// Settings of batched creation ([`create_once_many`], [`BatchedCreate`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Rows per batch: one ledger round trip and one `load` each (default 500).
    pub max_rows: usize,
    /// How long the ledger claims of a batch last before another attempt may take them over
    /// (default 300 s; [`BatchedCreate`] uses the step's [`StepContext::claim_for`]).
    pub claim_for: Duration,
    /// How long [`BatchedCreate`] waits for more rows before it sends a batch that is not full
    /// (default 5 ms): the batch goes once no row has come for `linger`, or four lingers after
    /// its first row when rows keep trickling in. A full batch goes without waiting.
    pub linger: Duration,
    /// How many `load` calls are under way at once (default 1, at least 1), in
    /// [`create_once_many`] and per [`BatchedCreate`]. The ledger work around them does not
    /// wait for a turn: the next batch is claimed and its request made ready while Odoo works
    /// on the ones before, and a batch's completions are written after its call has made room
    /// for the next one. The client's `max_concurrent_requests` still applies.
    ///
    /// The default is measured on a real Odoo 19 (`benches/sync_odoo_real.rs`, 10,000 timesheet
    /// lines, a 2-core machine): one load at a time created 309 lines/s, two at a time 231
    /// (Odoo's own batched `create`: 370 and 255), because concurrent transactions on the same
    /// rows (a task's or project's stored hours) roll each other back and wait on locks. Raise it
    /// for an Odoo with several workers whose batches touch different records.
    pub concurrent_batches: usize,
    /// How many times a batch that a concurrent transaction rolled back (a serialisation
    /// failure, a deadlock, a lock not obtained: see the [module docs](self)) is loaded again
    /// at once, after a random pause of 25 ms doubling per try, before its rows are handed back
    /// to the pipeline as [`Stop::Retry`] (default 4; 0 hands them back at once). Conflicts
    /// never fail a row.
    pub conflict_retries: u32,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            max_rows: 500,
            claim_for: Duration::from_secs(300),
            linger: Duration::from_millis(5),
            concurrent_batches: 1,
            conflict_retries: CONFLICT_RETRIES,
        }
    }
}

impl BatchOptions {
    /// Sets the rows per batch (at least 1).
    pub fn max_rows(mut self, n: usize) -> Self {
        self.max_rows = n.max(1);
        self
    }

    /// Sets how long a batch's claims last.
    pub fn claim_for(mut self, d: Duration) -> Self {
        self.claim_for = d;
        self
    }

    /// Sets how long [`BatchedCreate`] waits for a batch to fill.
    pub fn linger(mut self, d: Duration) -> Self {
        self.linger = d;
        self
    }

    /// Sets how many batches are under way at once (at least 1; 1 sends them one after the
    /// other).
    pub fn concurrent_batches(mut self, n: usize) -> Self {
        self.concurrent_batches = n.max(1);
        self
    }

    /// Sets how many times a batch rolled back by a conflict is loaded again before its rows
    /// are handed back to the pipeline (0: at once).
    pub fn conflict_retries(mut self, n: u32) -> Self {
        self.conflict_retries = n;
        self
    }
}

/// Creates a record of `model` exactly once for each `(key, row)`, in batches, and returns each
/// row's id or the outcome its message should get, in the order of `items`.
///
/// Per batch of up to `options.max_rows` rows: one [`IdempotencyLedger::begin_many`], one
/// `load` (all rows of a batch with the same columns go in one call), one
/// [`IdempotencyLedger::complete_many`]. Then, per row:
///
/// - done before (by this function or [`create_once`], which share the ledger entries and
///   external ids): `Ok` with the recorded id, and Odoo is not called for it;
/// - claimed by another worker: [`Stop::Retry`];
/// - refused by Odoo (a `load` message names the row): [`Stop::Failed`] with Odoo's
///   messages; the other rows are loaded again without it (Odoo rolls the whole `load` back);
/// - a transient failure or a lost reply: [`Stop::Retry`] for every row of the call; the
///   retry's `load` updates the records the lost call created, through their external ids;
/// - an exception that names no row: the batch is split in halves to find the row, a bounded
///   number of times (an error that every row gets, such as an unknown column, then fails the
///   rest of the batch with it).
///
/// A key given twice gets one record and the same result twice. Up to
/// [`BatchOptions::concurrent_batches`] batches are loaded at once (and one more is claimed
/// meanwhile), so the records of a later batch may get lower ids than those of an earlier one;
/// the results are still in the order of `items`.
///
/// ```no_run
/// use odoo_connect_sync::effect::{BatchOptions, ImportRow, create_once_many};
/// use odoo_connect_sync::envelope::IdempotencyKey;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_client::{OdooClient, RecordId};
///
/// # async fn run(odoo: OdooClient) -> Result<(), Box<dyn std::error::Error>> {
/// let ledger = MemoryStore::new();
/// let items: Vec<(IdempotencyKey, ImportRow)> = (0..3)
///     .map(|i| {
///         let key = IdempotencyKey::for_effect("time", &format!("TE-{i}"), "v1", "timesheet")?;
///         let row = ImportRow::new()
///             .text("name", format!("Design review {i}"))
///             .many2one("project_id", RecordId(3))
///             .text("date", "2026-11-20")
///             .number("unit_amount", rust_decimal::Decimal::new(15, 1));
///         Ok((key, row))
///     })
///     .collect::<Result<_, Box<dyn std::error::Error>>>()?;
/// let results = create_once_many(&ledger, &odoo, "account.analytic.line", &items, &BatchOptions::default()).await;
/// for (item, result) in items.iter().zip(&results) {
///     match result {
///         Ok(id) => println!("{} -> {id}", item.0),
///         Err(outcome) => println!("{} -> {}", item.0, outcome.label()),
///     }
/// }
/// # Ok(()) }
/// ```
pub async fn create_once_many(
    ledger: &dyn IdempotencyLedger,
    odoo: &OdooClient,
    model: &str,
    items: &[(IdempotencyKey, ImportRow)],
    options: &BatchOptions,
) -> Vec<Result<RecordId, Stop>> {
    // A key given twice is claimed and created once, whichever batch it falls in: the later
    // ones take the first one's result.
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut unique: Vec<(&IdempotencyKey, &ImportRow)> = Vec::with_capacity(items.len());
    let mut slots: Vec<usize> = Vec::with_capacity(items.len());
    for (key, row) in items {
        let next = unique.len();
        let slot = *first_of.entry(key.as_str()).or_insert(next);
        if slot == next {
            unique.push((key, row));
        }
        slots.push(slot);
    }
    // `concurrent_batches` loads at once; one batch more is claimed and made ready meanwhile,
    // and a batch's completions are written after its load has made room for the next one.
    let loads = tokio::sync::Semaphore::new(options.concurrent_batches.max(1));
    let batches: Vec<Vec<RowResult>> =
        futures_util::stream::iter(unique.chunks(options.max_rows.max(1)))
            .map(|chunk| {
                apply_batch(
                    ledger,
                    odoo,
                    model,
                    chunk,
                    options.claim_for,
                    options.conflict_retries,
                    Some(&loads),
                )
            })
            .buffered(options.concurrent_batches.max(1) + 1)
            .collect()
            .await;
    let results: Vec<Result<RecordId, Stop>> =
        batches.into_iter().flatten().map(|r| r.result).collect();
    slots
        .into_iter()
        .map(|slot| match results.get(slot) {
            Some(r) => r.clone(),
            None => Err(Stop::failed("the row got no result", None)),
        })
        .collect()
}

/// The result of one row of a batch, and whether this call applied it (for the audit trail).
struct RowResult {
    result: Result<RecordId, Stop>,
    /// The external id of the record this call created; `None` when it created none.
    applied: Option<String>,
}

/// A row of a batch waiting for its `load` (its values are in the batch, by `index`).
struct Member {
    index: usize,
    claim: Claim,
}

async fn apply_batch(
    ledger: &dyn IdempotencyLedger,
    odoo: &OdooClient,
    model: &str,
    chunk: &[(&IdempotencyKey, &ImportRow)],
    claim_for: Duration,
    conflict_retries: u32,
    loads: Option<&tokio::sync::Semaphore>,
) -> Vec<RowResult> {
    // A key given twice is claimed and loaded once.
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut same_as: Vec<Option<usize>> = Vec::with_capacity(chunk.len());
    let mut unique: Vec<usize> = Vec::new();
    for (i, (key, _)) in chunk.iter().enumerate() {
        match first_of.get(key.as_str()) {
            Some(&f) => same_as.push(Some(f)),
            None => {
                first_of.insert(key.as_str(), i);
                same_as.push(None);
                unique.push(i);
            }
        }
    }
    let mut results: Vec<Option<RowResult>> = (0..chunk.len()).map(|_| None).collect();
    // Each row's external id, worked out once for the intent, the `load` and the outcome.
    let mut xmlids: Vec<String> = vec![String::new(); chunk.len()];
    let requests: Vec<(IdempotencyKey, Value)> = unique
        .iter()
        .map(|&i| {
            let key = chunk[i].0;
            let xmlid = external_id(key);
            let intent = json!({"op": "create", "model": model, "external_id": xmlid});
            xmlids[i] = xmlid;
            (key.clone(), intent)
        })
        .collect();
    let begins = match ledger.begin_many(&requests, claim_for).await {
        Ok(b) if b.len() == unique.len() => b,
        Ok(b) => {
            let o = Stop::failed(
                format!(
                    "the ledger answered {} claims for {} keys",
                    b.len(),
                    unique.len()
                ),
                None,
            );
            return fan_out(chunk.len(), &o);
        }
        Err(e) => return fan_out(chunk.len(), &Stop::from(e)),
    };
    // Rows to load, grouped by their columns (one `load` per group).
    let mut groups: Vec<(Vec<String>, Vec<Member>)> = Vec::new();
    for (&i, begin) in unique.iter().zip(begins) {
        let (key, row) = &chunk[i];
        let claim = match begin {
            Begin::Done { outcome } => {
                results[i] = Some(RowResult {
                    result: recorded_id(&outcome, key),
                    applied: None,
                });
                continue;
            }
            Begin::InFlight { claimed_until, .. } => {
                results[i] = Some(RowResult {
                    result: Err(in_flight(key, claimed_until, ledger.now())),
                    applied: None,
                });
                continue;
            }
            Begin::New(claim) | Begin::Resumed { claim, .. } => claim,
        };
        let member = Member { index: i, claim };
        let same_columns = |f: &[String]| {
            f.len() == row.cells.len() + 1
                && f[0] == "id"
                && f[1..]
                    .iter()
                    .zip(row.cells.iter())
                    .all(|(a, (b, _))| a == b)
        };
        match groups.iter_mut().find(|(f, _)| same_columns(f)) {
            Some((_, members)) => members.push(member),
            None => {
                let mut fields = Vec::with_capacity(row.cells.len() + 1);
                fields.push("id".to_owned());
                fields.extend(row.cells.iter().map(|(f, _)| f.clone()));
                groups.push((fields, vec![member]));
            }
        }
    }
    // The ledger's completions, and for each the row and its record.
    let mut completions: Vec<(Claim, Value)> = Vec::new();
    let mut created: Vec<(usize, RecordId, String)> = Vec::new();
    // Records Odoo already holds under their external ids (a state store lost or replaced) are
    // the records: they are not loaded again, which would write over them.
    let wanted: Vec<String> = groups
        .iter()
        .flat_map(|(_, members)| members.iter().map(|m| xmlids[m.index].clone()))
        .collect();
    if !wanted.is_empty() {
        // The read takes a turn like a load: `concurrent_batches` bounds every call under way.
        let turn = match loads {
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        let existing = existing_records(odoo, model, &wanted).await;
        drop(turn);
        match existing {
            Ok(found) if !found.is_empty() => {
                for (_, members) in groups.iter_mut() {
                    let mut keep = Vec::with_capacity(members.len());
                    for m in std::mem::take(members) {
                        match found.get(&xmlids[m.index]).copied() {
                            Some(id) => {
                                let xmlid = std::mem::take(&mut xmlids[m.index]);
                                let outcome = json!({"model": model, "id": id,
                                                     "external_id": xmlid, "found": true});
                                completions.push((m.claim, outcome));
                                results[m.index] = Some(RowResult {
                                    result: Ok(id),
                                    applied: None,
                                });
                            }
                            None => keep.push(m),
                        }
                    }
                    *members = keep;
                }
            }
            Ok(_) => {}
            Err(e) => {
                let o = Stop::from_odoo_error(&e);
                let reason = e.to_string();
                for (_, members) in std::mem::take(&mut groups) {
                    for m in members {
                        let _ = ledger.abandon(&m.claim, Some(&reason)).await;
                        results[m.index] = Some(RowResult {
                            result: Err(o.clone()),
                            applied: None,
                        });
                    }
                }
            }
        }
    }
    for (fields, members) in groups {
        let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        // Enough halvings to find one bad row (two calls per level); an error every row gets
        // (an unknown column) then fails the rest at once instead of costing a call per row.
        let bits = (usize::BITS - members.len().leading_zeros()) as usize;
        let mut splits_left = 2 * bits;
        // Loads of this group that conflicts with concurrent transactions rolled back.
        let mut conflicts = 0;
        let mut work: Vec<Vec<Member>> = vec![members];
        while let Some(live) = work.pop() {
            if live.is_empty() {
                continue;
            }
            let rows: Vec<Vec<Value>> = live
                .iter()
                .map(|m| {
                    let cells = &chunk[m.index].1.cells;
                    let mut values = Vec::with_capacity(cells.len() + 1);
                    values.push(Value::String(xmlids[m.index].clone()));
                    values.extend(cells.iter().map(|(_, v)| Value::String(v.clone())));
                    values
                })
                .collect();
            // Only the call to Odoo takes one of the batches' turns: the claims before and the
            // completions after overlap the other batches' loads.
            let turn = match loads {
                Some(s) => s.acquire().await.ok(),
                None => None,
            };
            let reply = odoo
                .model_named::<Value>(model)
                .load(&field_refs, rows)
                .await;
            drop(turn);
            // Rolled back by a conflict with a concurrent transaction, and no row refused:
            // nothing was committed, the same rows are loaded again.
            let conflict = match &reply {
                Ok(load) => load.is_transient(),
                Err(e) => e.is_conflict(),
            };
            if conflict {
                if conflicts < conflict_retries {
                    tokio::time::sleep(conflict_pause(conflicts)).await;
                    conflicts += 1;
                    work.push(live);
                } else {
                    let text = match &reply {
                        Ok(load) => conflict_text(&load.messages),
                        Err(e) => e.to_string(),
                    };
                    let o = conflict_stop(&format!("the {model} load"), &text);
                    for m in live {
                        let _ = ledger.abandon(&m.claim, Some(&text)).await;
                        results[m.index] = Some(RowResult {
                            result: Err(o.clone()),
                            applied: None,
                        });
                    }
                }
                continue;
            }
            match reply {
                Ok(load) => {
                    let refused = refused_rows(&load.messages, live.len());
                    match load.ids {
                        Some(ids) if refused.is_empty() && ids.len() == live.len() => {
                            for (m, id) in live.into_iter().zip(ids) {
                                let xmlid = std::mem::take(&mut xmlids[m.index]);
                                let outcome =
                                    json!({"model": model, "id": id, "external_id": xmlid});
                                completions.push((m.claim, outcome));
                                created.push((m.index, id, xmlid));
                            }
                        }
                        _ if refused.is_empty() => {
                            // Refused without naming a row: fail the rows alone, one by one.
                            if live.len() > 1 && splits_left > 0 {
                                splits_left -= 1;
                                split_in_halves(live, &mut work);
                            } else {
                                let text = load_text(&load.messages)
                                    .unwrap_or_else(|| "load created no record".to_owned());
                                for m in live {
                                    fail_row(ledger, &mut results, m, model, &text).await;
                                }
                            }
                        }
                        _ => {
                            // Odoo rolled the whole call back: fail the rows it named, load the
                            // others again (those a conflict named too).
                            let mut good = Vec::new();
                            for (pos, m) in live.into_iter().enumerate() {
                                match refused.get(&pos) {
                                    Some(messages) => {
                                        let text = messages.join("; ");
                                        fail_row(ledger, &mut results, m, model, &text).await;
                                    }
                                    None => good.push(m),
                                }
                            }
                            work.push(good);
                        }
                    }
                }
                Err(e) if e.is_retryable() => {
                    // The reply may be lost after Odoo committed: release the claims; the next
                    // attempt loads the same external ids and finds the same records.
                    let o = Stop::from_odoo_error(&e);
                    let reason = e.to_string();
                    for m in live {
                        let _ = ledger.abandon(&m.claim, Some(&reason)).await;
                        results[m.index] = Some(RowResult {
                            result: Err(o.clone()),
                            applied: None,
                        });
                    }
                }
                Err(e) if e.as_odoo().is_some() && live.len() > 1 && splits_left > 0 => {
                    // An exception raised for one row rolls the call back without naming it:
                    // halve the batch to find it.
                    splits_left -= 1;
                    split_in_halves(live, &mut work);
                }
                Err(e) => {
                    let o = Stop::from_odoo_error(&e);
                    let reason = e.to_string();
                    for m in live {
                        let _ = ledger.fail(&m.claim, &reason).await;
                        results[m.index] = Some(RowResult {
                            result: Err(o.clone()),
                            applied: None,
                        });
                    }
                }
            }
        }
    }
    if !completions.is_empty() {
        match ledger.complete_many(&completions).await {
            Ok(()) => {
                for (index, id, xmlid) in created {
                    results[index] = Some(RowResult {
                        result: Ok(id),
                        applied: Some(xmlid),
                    });
                }
            }
            Err(e) => {
                // The records exist but the ledger does not say so: the retry resumes the
                // claims and its `load` finds them by external id.
                let o = Stop::from(e);
                for (index, _, _) in created {
                    results[index] = Some(RowResult {
                        result: Err(o.clone()),
                        applied: None,
                    });
                }
            }
        }
    }
    let mut out: Vec<RowResult> = Vec::with_capacity(chunk.len());
    for (i, r) in results.into_iter().enumerate() {
        let r = match (r, same_as[i]) {
            (Some(r), _) => r,
            (None, Some(f)) => RowResult {
                result: out[f].result.clone(),
                applied: None,
            },
            (None, None) => RowResult {
                result: Err(Stop::failed("the row got no result", None)),
                applied: None,
            },
        };
        out.push(r);
    }
    out
}

fn fan_out(n: usize, outcome: &Stop) -> Vec<RowResult> {
    (0..n)
        .map(|_| RowResult {
            result: Err(outcome.clone()),
            applied: None,
        })
        .collect()
}

fn split_in_halves(mut live: Vec<Member>, work: &mut Vec<Vec<Member>>) {
    let back = live.split_off(live.len() / 2);
    work.push(back);
    work.push(live);
}

/// The error messages of `load` that refuse a row, by row index (of rows `0..rows`); a conflict
/// with a concurrent transaction refuses no row.
fn refused_rows(messages: &[LoadMessage], rows: usize) -> HashMap<usize, Vec<String>> {
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    for m in messages.iter().filter(|m| m.is_error() && !m.is_conflict()) {
        if let Some(r) = m.record.and_then(|r| usize::try_from(r).ok())
            && r < rows
        {
            let text = match &m.field {
                Some(f) if !f.is_empty() => format!("{f}: {}", m.message),
                _ => m.message.clone(),
            };
            out.entry(r).or_default().push(text);
        }
    }
    out
}

/// The conflicts a `load` reported, each text once (Odoo repeats it for each row).
fn conflict_text(messages: &[LoadMessage]) -> String {
    let mut texts: Vec<&str> = Vec::new();
    for m in messages.iter().filter(|m| m.is_conflict()) {
        let t = m.message.trim_end();
        if !texts.contains(&t) {
            texts.push(t);
        }
    }
    texts.join("; ")
}

fn load_text(messages: &[LoadMessage]) -> Option<String> {
    let texts: Vec<&str> = messages.iter().map(|m| m.message.as_str()).collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

async fn fail_row(
    ledger: &dyn IdempotencyLedger,
    results: &mut [Option<RowResult>],
    m: Member,
    model: &str,
    text: &str,
) {
    let _ = ledger.fail(&m.claim, text).await;
    results[m.index] = Some(RowResult {
        result: Err(Stop::failed_with_chain(
            format!("Odoo refused the {model} record: {text}"),
            vec![text.to_owned()],
        )),
        applied: None,
    });
}

fn recorded_id(outcome: &Value, key: &IdempotencyKey) -> Result<RecordId, Stop> {
    outcome
        .get("id")
        .and_then(Value::as_i64)
        .map(RecordId)
        .ok_or_else(|| Stop::failed(format!("the ledger holds no record id for `{key}`"), None))
}

/// The retry of an effect another worker holds: after its claim expires, by the ledger's clock.
fn in_flight(
    key: &IdempotencyKey,
    claimed_until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Stop {
    let wait = (claimed_until - now)
        .to_std()
        .unwrap_or(Duration::from_secs(1))
        .clamp(Duration::from_secs(1), Duration::from_secs(300));
    Stop::retry_after(wait, format!("`{key}` is being applied by another worker"))
}

/// Gathers the rows that concurrent pipeline steps create (one message, one record each) into
/// batches for [`create_once_many`], so that exactly-once creation runs at the server's batched
/// rate. Use one per model and state store: a batch is claimed in the ledger of its first step.
///
/// A step calls [`BatchedCreate::create_once`] as it would [`create_once`]; the call waits until
/// its row's batch is applied. A batch goes as soon as it holds [`BatchOptions::max_rows`]
/// rows: it is claimed at once and loaded when one of the
/// [`BatchOptions::concurrent_batches`] turns is free. A batch that is not full goes once no
/// row has come for [`BatchOptions::linger`] and a turn is free; while every turn is taken,
/// its rows keep gathering, so a slow Odoo gets full batches. Batches fill when the
/// pipeline runs many messages at once: give it a `concurrency` of at least `max_rows` times
/// `concurrent_batches` (one batch's worth more lets the next batch fill while the others are
/// applied), and a `batch_size` of at least `max_rows`. It fits records that do not depend on
/// each other, such as the timesheet lines of approved time; a record that another one of the
/// same batch refers to needs [`create_once`].
///
/// Batches are sent by tasks of their own (`tokio::spawn`), so a step that is cancelled while
/// it waits does not hold back the others; its row is still applied, and the message's next
/// attempt finds it done in the ledger.
///
/// ```no_run
/// use std::sync::Arc;
/// use odoo_connect_sync::effect::{BatchOptions, BatchedCreate, ImportRow};
/// use odoo_connect_sync::pipeline::Pipeline;
/// use odoo_connect_sync::step::from_fn;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_client::{OdooClient, RecordId};
///
/// # fn run(odoo: OdooClient) {
/// let lines = BatchedCreate::new(odoo, "account.analytic.line", BatchOptions::default());
/// let pipeline = Pipeline::builder("approved-time", Arc::new(MemoryStore::new()))
///     .batch_size(500)
///     .concurrency(500)
///     .step(from_fn("timesheet", move |cx| {
///         let lines = lines.clone();
///         Box::pin(async move {
///             let row = ImportRow::new()
///                 .text("name", cx.envelope.payload["description"].as_str().unwrap_or("Time"))
///                 .many2one("project_id", RecordId(3))
///                 .text("date", "2026-11-20")
///                 .number("unit_amount", rust_decimal::Decimal::new(15, 1));
///             let key = cx.envelope.idempotency_key.clone();
///             lines.create_once(cx, &key, &row).await?;
///             Ok(())
///         })
///     }))
///     .build();
/// # let _ = pipeline;
/// # }
/// ```
#[derive(Clone)]
pub struct BatchedCreate {
    inner: Arc<BatcherInner>,
}

struct BatcherInner {
    odoo: OdooClient,
    model: String,
    options: BatchOptions,
    pending: Mutex<Pending>,
    /// One permit per batch that may be under way ([`BatchOptions::concurrent_batches`]).
    slots: Arc<tokio::sync::Semaphore>,
}

#[derive(Default)]
struct Pending {
    rows: Vec<Waiting>,
    /// Grows each time a batch is taken, so that a timer finds out its batch already went.
    epoch: u64,
    /// When the last row came.
    last_row: Option<tokio::time::Instant>,
}

struct Waiting {
    key: IdempotencyKey,
    row: ImportRow,
    ledger: Arc<dyn IdempotencyLedger>,
    claim_for: Duration,
    reply: oneshot::Sender<RowResult>,
}

impl fmt::Debug for BatchedCreate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchedCreate")
            .field("model", &self.inner.model)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl BatchedCreate {
    /// Batches creations of `model` records with `odoo`.
    pub fn new(odoo: OdooClient, model: impl Into<String>, options: BatchOptions) -> Self {
        BatchedCreate {
            inner: Arc::new(BatcherInner {
                odoo,
                model: model.into(),
                slots: Arc::new(tokio::sync::Semaphore::new(
                    options.concurrent_batches.max(1),
                )),
                options,
                pending: Mutex::new(Pending::default()),
            }),
        }
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// Creates the record of `key` exactly once, in a batch with the rows of other steps, and
    /// returns its id; `Err` carries the stop the step should return. Uses the step's ledger
    /// and claim duration, and adds an `effect_applied` event to its audit trail when this call
    /// created the record.
    pub async fn create_once(
        &self,
        cx: &mut StepContext,
        key: &IdempotencyKey,
        row: &ImportRow,
    ) -> Result<RecordId, Stop> {
        let rx = self.enqueue(cx, key, row);
        self.finish(cx, rx.await)
    }

    /// Creates several records of one step exactly once each, all in the batch being filled (they
    /// go in one `load` when they have the same columns), and returns each one's id or stop, in
    /// the order of `items`.
    pub async fn create_all(
        &self,
        cx: &mut StepContext,
        items: &[(IdempotencyKey, ImportRow)],
    ) -> Vec<Result<RecordId, Stop>> {
        let waiting: Vec<_> = items
            .iter()
            .map(|(key, row)| self.enqueue(cx, key, row))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for rx in waiting {
            let done = rx.await;
            out.push(self.finish(cx, done));
        }
        out
    }

    /// Adds a row to the batch being filled: a full batch goes at once, the first row of a
    /// batch starts its linger.
    fn enqueue(
        &self,
        cx: &StepContext,
        key: &IdempotencyKey,
        row: &ImportRow,
    ) -> oneshot::Receiver<RowResult> {
        let (tx, rx) = oneshot::channel();
        let waiting = Waiting {
            key: key.clone(),
            row: row.clone(),
            ledger: cx.ledger().clone(),
            claim_for: cx.claim_for,
            reply: tx,
        };
        let max = self.inner.options.max_rows.max(1);
        let (full, timer) = {
            let mut p = self.inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.rows.push(waiting);
            p.last_row = Some(tokio::time::Instant::now());
            if p.rows.len() >= max {
                p.epoch += 1;
                (Some(std::mem::take(&mut p.rows)), None)
            } else {
                (None, (p.rows.len() == 1).then_some(p.epoch))
            }
        };
        if let Some(rows) = full {
            // Claimed at once; its load waits for a turn.
            let inner = self.inner.clone();
            tokio::spawn(async move { apply(&inner, rows, Some(&inner.slots)).await });
        } else if let Some(epoch) = timer {
            start_timer(self.inner.clone(), epoch);
        }
        rx
    }

    /// A row's result, with its audit event when this batch created it.
    fn finish(
        &self,
        cx: &mut StepContext,
        done: Result<RowResult, oneshot::error::RecvError>,
    ) -> Result<RecordId, Stop> {
        let done = done
            .map_err(|_| Stop::retry("the batch of this record ended before it gave a result"))?;
        let id = done.result?;
        if let Some(external_id) = done.applied {
            cx.audit(AuditEvent::new(AuditKind::EffectApplied).details(json!({
                "model": self.inner.model,
                "id": id,
                "external_id": external_id,
                "batched": true,
            })));
        }
        Ok(id)
    }
}

/// A batch that is not full goes once no row has come for `linger` (or `LINGER_AT_MOST`
/// lingers after its first row, when rows keep trickling in) and a turn is free; while every
/// turn is taken, it keeps filling, and goes as a full batch if it fills.
fn start_timer(inner: Arc<BatcherInner>, epoch: u64) {
    tokio::spawn(async move {
        let linger = inner.options.linger;
        let first = tokio::time::Instant::now();
        if !quiet(&inner, epoch, first, linger).await {
            return;
        }
        let _turn = match inner.slots.clone().try_acquire_owned() {
            Ok(turn) => turn,
            Err(_) => {
                let Ok(turn) = inner.slots.clone().acquire_owned().await else {
                    return;
                };
                // Every turn was taken, maybe for long, and rows may still be coming: give
                // them a linger of their own before taking them.
                if !quiet(&inner, epoch, tokio::time::Instant::now(), linger).await {
                    return;
                }
                turn
            }
        };
        let rows = {
            let mut p = inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.epoch != epoch {
                return;
            }
            p.epoch += 1;
            std::mem::take(&mut p.rows)
        };
        if !rows.is_empty() {
            // The turn is held: its load goes at once.
            apply(&inner, rows, None).await;
        }
    });
}

/// `t` plus `d`, or a time thirty years on when `d` is too long to add (a linger meant as "never").
fn later(t: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(30 * 365 * 86_400)))
        .unwrap_or(t)
}

/// How many lingers a batch that is not full waits at most for rows that keep coming.
const LINGER_AT_MOST: u32 = 4;

/// Waits from `since` until no row has come for `linger` (at most `LINGER_AT_MOST` lingers);
/// `false` when the batch of `epoch` went meanwhile (it filled).
async fn quiet(
    inner: &BatcherInner,
    epoch: u64,
    since: tokio::time::Instant,
    linger: Duration,
) -> bool {
    let until = later(since, linger.saturating_mul(LINGER_AT_MOST));
    let mut at = later(since, linger);
    loop {
        tokio::time::sleep_until(at.min(until)).await;
        let p = inner.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.epoch != epoch || p.rows.is_empty() {
            return false;
        }
        let last = p.last_row.unwrap_or(since);
        let now = tokio::time::Instant::now();
        at = later(last, linger);
        if now >= until || now >= at {
            return true;
        }
    }
}

/// Applies a batch and answers each waiting step. Each `load` takes one of the
/// `concurrent_batches` turns from `turns`; `None` when the caller holds one.
async fn apply(inner: &BatcherInner, rows: Vec<Waiting>, turns: Option<&tokio::sync::Semaphore>) {
    // The rows of steps on different stores (one `BatchedCreate` shared by two pipelines) are
    // claimed each in its own store's ledger: one `load` per store.
    let mut groups: Vec<Vec<Waiting>> = Vec::new();
    for w in rows {
        match groups
            .iter_mut()
            .find(|g| g.first().is_some_and(|f| Arc::ptr_eq(&f.ledger, &w.ledger)))
        {
            Some(g) => g.push(w),
            None => groups.push(vec![w]),
        }
    }
    for rows in groups {
        let Some(first) = rows.first() else {
            continue;
        };
        let ledger = first.ledger.clone();
        let claim_for = rows
            .iter()
            .map(|w| w.claim_for)
            .max()
            .unwrap_or(inner.options.claim_for);
        let items: Vec<(&IdempotencyKey, &ImportRow)> =
            rows.iter().map(|w| (&w.key, &w.row)).collect();
        let results = apply_batch(
            &*ledger,
            &inner.odoo,
            &inner.model,
            &items,
            claim_for,
            inner.options.conflict_retries,
            turns,
        )
        .await;
        for (w, r) in rows.into_iter().zip(results) {
            // A step that stopped waiting finds the row in the ledger on its next attempt.
            let _ = w.reply.send(r);
        }
    }
}

/// Runs a state-changing call (`action_post`, `action_confirm`, registering a payment) only when
/// the target is not already in the wanted state.
///
/// `is_done` reads the target and says whether the effect is already there; `act` performs it.
/// After `act`, the target is read again to confirm. With the ledger entry for `key`, a retry
/// after a lost reply finds the effect done and does not repeat it. A call that a conflict with
/// a concurrent transaction rolled back ([`odoo_connect_client::Error::is_conflict`]) gives
/// [`Stop::Retry`], like any transient failure.
pub async fn ensure<C, CF, A, AF>(
    cx: &StepContext,
    key: &IdempotencyKey,
    mut is_done: C,
    act: A,
) -> Result<Value, Stop>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = odoo_connect_client::Result<Option<Value>>>,
    A: FnOnce() -> AF,
    AF: std::future::Future<Output = odoo_connect_client::Result<Value>>,
{
    let claim = match cx
        .ledger
        .begin(key, &json!({"op": "ensure"}), cx.claim_for)
        .await?
    {
        Begin::Done { outcome } => return Ok(outcome),
        Begin::InFlight { .. } => {
            return Err(Stop::retry(format!(
                "`{key}` is being applied by another worker"
            )));
        }
        Begin::New(claim) | Begin::Resumed { claim, .. } => claim,
    };
    // A conflict with a concurrent transaction rolled the call back: a retry, a little later.
    let fail = |e: odoo_connect_client::Error| {
        if e.is_conflict() {
            conflict_stop("the call", &e)
        } else {
            Stop::from_odoo_error(&e)
        }
    };
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
                    return Err(Stop::failed(
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
    cx.ledger.complete(&claim, &outcome).await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_connect_client::models::{SaleOrderLineValues, SaleOrderValues};
    use odoo_connect_client::write::Create;
    use odoo_connect_client::{Command, ServerVersion};

    #[test]
    fn typed_values_become_cells_by_kind_and_version() {
        let mut line = SaleOrderLineValues::new();
        line.order_id = Some(RecordId(9));
        line.product_uom_qty = Some(rust_decimal::Decimal::new(1005, 1));
        line.product_uom_id = Some(RecordId(4));
        line.tax_ids = vec![Command::set([RecordId(1), RecordId(2)])];
        let row = ImportRow::from_values(&line, &ServerVersion::new(18, 0));
        let (fields, values) = row.map(|r| r.columns()).unwrap_or_default();
        assert_eq!(
            fields,
            [
                "order_id/.id",
                "product_uom_qty",
                "product_uom/.id",
                "tax_id/.id"
            ]
        );
        assert_eq!(values, ["9", "100.5", "4", "1,2"]);
        let (fields, _) = ImportRow::from_values(&line, &ServerVersion::new(19, 0))
            .map(|r| r.columns())
            .unwrap_or_default();
        assert_eq!(fields[2..], ["product_uom_id/.id", "tax_ids/.id"]);
    }

    #[test]
    fn commands_other_than_one_set_are_refused_by_name() {
        let mut order = SaleOrderValues::new();
        order.order_line = Create(vec![SaleOrderLineValues::new()]);
        let refused = ImportRow::from_values(&order, &ServerVersion::new(19, 0));
        assert_eq!(
            refused,
            Err(ImportRowError::X2many {
                model: "sale.order",
                field: "order_line"
            })
        );
        let stop = Stop::from(ImportRowError::X2many {
            model: "sale.order",
            field: "order_line",
        });
        assert_eq!(stop.label(), "failed");
        assert!(stop.downcast_ref::<ImportRowError>().is_some());
    }
}
