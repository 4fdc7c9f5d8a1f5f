//! [`ModelHandle`]: the ORM operations of one model, typed by its record type.

use std::collections::{BTreeMap, VecDeque};
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::call::OdooCall;
use super::client::OdooClient;
use super::context::Context;
use super::domain::Domain;
use super::error::{Error, Result};
use super::model::Model;
use super::value::RecordId;
use super::version::ServerVersion;

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type FieldsFn = fn(&ServerVersion) -> Vec<&'static str>;

/// The ORM operations of one model, with records decoded as `T`.
///
/// Get one with [`OdooClient::model`] (typed by a [`Model`]) or [`OdooClient::model_named`]
/// (any model, records as `serde_json::Value` or any `Deserialize` type). Cheap to clone.
#[derive(Debug)]
pub struct ModelHandle<T> {
    client: OdooClient,
    model: String,
    fields: Option<FieldsFn>,
    context: Context,
    _record: PhantomData<fn() -> T>,
}

impl<T> Clone for ModelHandle<T> {
    fn clone(&self) -> Self {
        ModelHandle {
            client: self.client.clone(),
            model: self.model.clone(),
            fields: self.fields,
            context: self.context.clone(),
            _record: PhantomData,
        }
    }
}

impl OdooClient {
    /// The operations of the model `T` stands for.
    pub fn model<T: Model>(&self) -> ModelHandle<T> {
        ModelHandle {
            client: self.clone(),
            model: T::MODEL.to_owned(),
            fields: Some(T::fields),
            context: Context::new(),
            _record: PhantomData,
        }
    }

    /// The operations of any model by name; records decode as `T` (`serde_json::Value` reads
    /// them as they come). Without [`SearchRead::fields`], every field is read.
    pub fn model_named<T: DeserializeOwned + Send + 'static>(
        &self,
        model: impl Into<String>,
    ) -> ModelHandle<T> {
        ModelHandle {
            client: self.clone(),
            model: model.into(),
            fields: None,
            context: Context::new(),
            _record: PhantomData,
        }
    }
}

/// A row of a grouped read, the same shape whichever of `read_group` (up to 18) or
/// `formatted_read_group` (19+) answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group's value of each groupby spec (`"project_id"` → `[11, "AGR"]`,
    /// `"date:month"` → `"November 2026"`).
    pub groups: Map<String, Value>,
    /// Each aggregate by its spec (`"unit_amount:sum"` → `285.0`).
    pub aggregates: Map<String, Value>,
    /// The number of records in the group, when known.
    pub count: Option<i64>,
    /// The domain selecting the group's records (relative to the query on 19+).
    pub domain: Value,
}

/// The result of Odoo's `load` (import): ids on success, messages otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    /// The ids of the created or updated records, in row order; `None` when the batch was rolled
    /// back.
    pub ids: Option<Vec<RecordId>>,
    /// Errors and warnings, per row.
    pub messages: Vec<LoadMessage>,
    /// The next row to import when the import stopped early (`0` otherwise).
    pub nextrow: i64,
}

impl LoadResult {
    /// Whether the batch was rolled back only because of transient PostgreSQL conflicts with
    /// concurrent transactions (see [`LoadError::is_transient`]): the same `load` a moment
    /// later may succeed.
    pub fn is_transient(&self) -> bool {
        self.ids.is_none() && is_transient(&self.messages)
    }

    /// The ids, or an error listing the messages when the batch was rolled back.
    pub fn into_ids(self) -> std::result::Result<Vec<RecordId>, LoadError> {
        match self.ids {
            Some(ids) if !self.messages.iter().any(|m| m.kind == "error") => Ok(ids),
            _ => Err(LoadError::new(self.messages)),
        }
    }
}

/// A message of `load` about one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadMessage {
    /// `error` or `warning`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub message: String,
    /// The row index (0-based) it refers to.
    #[serde(default)]
    pub record: Option<i64>,
    /// The field it refers to.
    #[serde(default, with = "super::value::opt")]
    pub field: Option<String>,
}

impl LoadMessage {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.kind == "error"
    }

    /// Whether this error reports a transient PostgreSQL conflict with a concurrent
    /// transaction (`could not serialize access due to concurrent update`, `deadlock
    /// detected`, `could not obtain lock`) rather than a problem with the row: `load` catches
    /// the exception of each row and reports it here, so Odoo's own retry never runs.
    pub fn is_conflict(&self) -> bool {
        self.is_error() && crate::error::is_conflict_message(&self.message)
    }
}

/// Whether the messages hold errors and every one is a conflict.
fn is_transient(messages: &[LoadMessage]) -> bool {
    let mut errors = messages.iter().filter(|m| m.is_error()).peekable();
    errors.peek().is_some() && errors.all(LoadMessage::is_conflict)
}

/// `load` rolled the batch back.
///
/// Either Odoo refused rows (a bad value, a missing record: the messages name them), or a
/// concurrent transaction got in the way ([`LoadError::is_transient`]): `load` catches the
/// serialisation failure or deadlock of each row and reports it as the row's error, so the
/// same rows would have been accepted a moment later.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", if self.is_transient() { "load rolled the batch back on a conflict with a concurrent transaction" } else { "load refused the batch" }, .messages.iter().map(|m| m.message.trim_end()).collect::<Vec<_>>().join("; "))]
#[non_exhaustive]
pub struct LoadError {
    /// Odoo's messages.
    pub messages: Vec<LoadMessage>,
}

impl LoadError {
    /// A rolled-back `load` with these messages.
    pub fn new(messages: Vec<LoadMessage>) -> Self {
        LoadError { messages }
    }

    /// Whether the batch was rolled back only because of transient PostgreSQL conflicts (every
    /// error is one, see [`LoadMessage::is_conflict`]): retry the same rows after a pause
    /// instead of treating them as refused. A batch where some rows were refused for their
    /// data is not transient, even when other rows report a conflict.
    ///
    /// ```
    /// use odoo_connect_client::{LoadError, LoadMessage};
    /// let row = |i: i64, text: &str| LoadMessage {
    ///     kind: "error".into(),
    ///     message: text.into(),
    ///     record: Some(i),
    ///     field: None,
    /// };
    /// let conflict = "could not serialize access due to concurrent update\n";
    /// assert!(LoadError::new(vec![row(0, conflict), row(1, conflict)]).is_transient());
    /// assert!(!LoadError::new(vec![row(0, conflict), row(1, "Missing required value")]).is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        is_transient(&self.messages)
    }
}

/// A field as `fields_get` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// The field type (`char`, `many2one`, `monetary`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// The label.
    #[serde(default)]
    pub string: String,
    /// Whether a value is required.
    #[serde(default)]
    pub required: bool,
    /// Whether the field is read-only.
    #[serde(default)]
    pub readonly: bool,
    /// Whether the field is stored.
    #[serde(default)]
    pub store: Option<bool>,
    /// The related model of relational fields.
    #[serde(default)]
    pub relation: Option<String>,
    /// The `(value, label)` pairs of selection fields.
    #[serde(default)]
    pub selection: Option<Value>,
    /// Every other attribute asked for.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T: DeserializeOwned + Send + 'static> ModelHandle<T> {
    /// The model's technical name.
    pub fn name(&self) -> &str {
        &self.model
    }

    /// The client.
    pub fn client(&self) -> &OdooClient {
        &self.client
    }

    /// Sets a context for every call made through this handle (over the client's default).
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    fn call_of(&self, method: &str) -> OdooCall {
        OdooCall::new(self.model.clone(), method).context(self.context.clone())
    }

    async fn fields_for(&self, explicit: &Option<Vec<String>>) -> Result<Option<Vec<String>>> {
        if let Some(f) = explicit {
            return Ok(Some(f.clone()));
        }
        match self.fields {
            Some(f) => {
                let version = self.client.version().await?;
                Ok(Some(f(&version).into_iter().map(str::to_owned).collect()))
            }
            None => Ok(None),
        }
    }

    /// `search`: the ids of the matching records.
    pub fn search(&self, domain: Domain) -> Search<T> {
        Search {
            handle: self.clone(),
            domain,
            opts: PageOpts::default(),
        }
    }

    /// `search_read`: the matching records, typed.
    pub fn search_read(&self, domain: Domain) -> SearchRead<T> {
        SearchRead {
            handle: self.clone(),
            domain,
            opts: PageOpts::default(),
            fields: None,
        }
    }

    /// Every matching record as a stream, read page by page by id (keyset paging: `id > last`,
    /// never `offset`), so memory stays bounded by the page size however many records match.
    pub fn search_read_stream(&self, domain: Domain) -> RecordStream<T> {
        RecordStream {
            handle: self.clone(),
            domain,
            page_size: 500,
            fields: None,
            context: None,
            inner: None,
        }
    }

    /// `read`: records by id (ids that do not exist are silently left out, as Odoo does).
    pub fn read<I, R>(&self, ids: I) -> Read<T>
    where
        I: IntoIterator<Item = R>,
        R: Into<RecordId>,
    {
        Read {
            handle: self.clone(),
            ids: ids.into_iter().map(Into::into).collect(),
            fields: None,
            context: None,
        }
    }

    /// `search_count`.
    pub async fn search_count(&self, domain: Domain) -> Result<i64> {
        let call = self
            .call_of("search_count")
            .arg("domain", domain.to_value())
            .read_only();
        self.client.call(&call).await
    }

    /// `create` of one record; returns its id. Never retried blindly: a lost reply may have
    /// committed (use `load` with an external id for idempotent creation).
    pub async fn create<V: Serialize + ?Sized>(&self, values: &V) -> Result<RecordId> {
        let ids = self.create_many(std::slice::from_ref(&values)).await?;
        ids.into_iter().next().ok_or_else(|| Error::InvalidReply {
            reason: "create returned no id".to_owned(),
            snippet: String::new(),
            source: None,
        })
    }

    /// `create` of many records in one request (one transaction); ids in the same order.
    pub async fn create_many<V: Serialize>(&self, values: &[V]) -> Result<Vec<RecordId>> {
        let list = serde_json::to_value(values).map_err(|e| Error::Encode {
            model: self.model.clone(),
            method: "create".to_owned(),
            reason: "the values do not serialise to JSON".to_owned(),
            source: Some(e),
        })?;
        let call = self.call_of("create").arg("vals_list", list);
        let reply: IdOrIds = self.client.call(&call).await?;
        Ok(reply.into_vec())
    }

    /// Creates records in chunks of `chunk_size`, with up to `in_flight` requests at once
    /// (bounded further by the client's concurrency limit). Ids come back in input order.
    ///
    /// A failed chunk stops the batch; chunks already created stay created.
    pub async fn create_chunked<V: Serialize + Sync>(
        &self,
        values: &[V],
        chunk_size: usize,
        in_flight: usize,
    ) -> Result<Vec<RecordId>> {
        let chunk_size = chunk_size.max(1);
        let results: Vec<Result<Vec<RecordId>>> = stream::iter(values.chunks(chunk_size))
            .map(|chunk| self.create_many(chunk))
            .buffered(in_flight.max(1))
            .collect()
            .await;
        let mut ids = Vec::with_capacity(values.len());
        for r in results {
            ids.extend(r?);
        }
        Ok(ids)
    }

    /// `write` the same values on every record of `ids`.
    pub async fn write<V: Serialize + ?Sized>(&self, ids: &[RecordId], values: &V) -> Result<bool> {
        let vals = serde_json::to_value(values).map_err(|e| Error::Encode {
            model: self.model.clone(),
            method: "write".to_owned(),
            reason: "the values do not serialise to JSON".to_owned(),
            source: Some(e),
        })?;
        let call = self
            .call_of("write")
            .ids(ids.iter().copied())
            .arg("vals", vals);
        self.client.call(&call).await
    }

    /// `create` of one record from typed values of this model (see [`write`](crate::write)):
    /// the field names follow the server's version.
    pub async fn create_values<V>(&self, values: &V) -> Result<RecordId>
    where
        V: crate::ModelValues<Record = T>,
        T: Model,
    {
        let version = self.client.version().await?;
        self.create(&values.to_values(&version)).await
    }

    /// `write` of typed values of this model to `ids` (see [`write`](crate::write)).
    pub async fn write_values<V>(&self, ids: &[RecordId], values: &V) -> Result<bool>
    where
        V: crate::ModelValues<Record = T>,
        T: Model,
    {
        let version = self.client.version().await?;
        self.write(ids, &values.to_values(&version)).await
    }

    /// `unlink` (delete) records.
    pub async fn unlink(&self, ids: &[RecordId]) -> Result<bool> {
        let call = self.call_of("unlink").ids(ids.iter().copied());
        self.client.call(&call).await
    }

    /// `name_search`: `(id, display name)` pairs whose name matches.
    pub fn name_search(&self, name: impl Into<String>) -> NameSearch<T> {
        NameSearch {
            handle: self.clone(),
            name: name.into(),
            domain: Domain::new(),
            operator: "ilike".to_owned(),
            limit: 100,
        }
    }

    /// `fields_get`: the model's fields and their attributes.
    pub async fn fields_get(&self, attributes: &[&str]) -> Result<BTreeMap<String, FieldInfo>> {
        let mut call = self.call_of("fields_get").read_only();
        let attrs: Vec<&str> = if attributes.is_empty() {
            vec![
                "type",
                "string",
                "required",
                "readonly",
                "relation",
                "selection",
                "store",
            ]
        } else {
            attributes.to_vec()
        };
        if !attrs.contains(&"type") {
            let mut with_type = attrs.clone();
            with_type.push("type");
            call = call.kwarg("attributes", with_type);
        } else {
            call = call.kwarg("attributes", attrs);
        }
        self.client.call(&call).await
    }

    /// A grouped read: `read_group` on Odoo up to 18, `formatted_read_group` from 19, with rows
    /// of one shape either way.
    ///
    /// `groupby` specs are field names, optionally with a date granularity (`"date:month"`);
    /// `aggregates` are `"field:agg"` (`"unit_amount:sum"`); the count of each group is always
    /// asked for.
    pub async fn read_group(
        &self,
        domain: Domain,
        groupby: &[&str],
        aggregates: &[&str],
    ) -> Result<Vec<GroupRow>> {
        let version = self.client.version().await?;
        if version.has_formatted_read_group() {
            let mut aggs: Vec<&str> = aggregates.to_vec();
            if !aggs.contains(&"__count") {
                aggs.push("__count");
            }
            let call = self
                .call_of("formatted_read_group")
                .arg("domain", domain.to_value())
                .arg("groupby", groupby.to_vec())
                .arg("aggregates", aggs)
                .read_only();
            let rows: Vec<Map<String, Value>> = self.client.call(&call).await?;
            Ok(rows
                .into_iter()
                .map(|mut row| {
                    let domain = row.remove("__extra_domain").unwrap_or(Value::Null);
                    let count = row.remove("__count").and_then(|v| v.as_i64());
                    let mut groups = Map::new();
                    for g in groupby {
                        if let Some(v) = row.remove(*g) {
                            groups.insert((*g).to_owned(), v);
                        }
                    }
                    GroupRow {
                        groups,
                        aggregates: row,
                        count,
                        domain,
                    }
                })
                .collect())
        } else {
            let call = self
                .call_of("read_group")
                .arg("domain", domain.to_value())
                .arg("fields", aggregates.to_vec())
                .arg("groupby", groupby.to_vec())
                .kwarg("lazy", false)
                .read_only();
            let rows: Vec<Map<String, Value>> = self.client.call(&call).await?;
            Ok(rows
                .into_iter()
                .map(|mut row| {
                    let domain = row.remove("__domain").unwrap_or(Value::Null);
                    let count = row
                        .remove("__count")
                        .or_else(|| {
                            groupby
                                .first()
                                .and_then(|g| row.remove(&format!("{}_count", base_field(g))))
                        })
                        .and_then(|v| v.as_i64());
                    let mut groups = Map::new();
                    for g in groupby {
                        if let Some(v) = row.remove(*g).or_else(|| row.remove(base_field(g))) {
                            groups.insert((*g).to_owned(), v);
                        }
                    }
                    let mut aggs = Map::new();
                    for a in aggregates {
                        if let Some(v) = row.remove(base_field(a)) {
                            aggs.insert((*a).to_owned(), v);
                        }
                    }
                    GroupRow {
                        groups,
                        aggregates: aggs,
                        count,
                        domain,
                    }
                })
                .collect())
        }
    }

    /// `load`: Odoo's import. Creates or updates the rows in one transaction; a column named
    /// `id` holds external ids (`module.name`), so loading the same row again updates the same
    /// record instead of creating another. A bad row rolls back the whole batch and comes back
    /// in [`LoadResult::messages`].
    pub async fn load(&self, fields: &[&str], rows: Vec<Vec<Value>>) -> Result<LoadResult> {
        let call = self
            .call_of("load")
            .arg("fields", fields.to_vec())
            .arg("data", rows);
        let raw: RawLoad = self.client.call(&call).await?;
        Ok(LoadResult {
            ids: raw.ids.map(|v| v.into_iter().map(RecordId).collect()),
            messages: raw.messages,
            nextrow: raw.nextrow.unwrap_or(0),
        })
    }
}

fn base_field(spec: &str) -> &str {
    spec.split(':').next().unwrap_or(spec)
}

#[derive(Deserialize)]
struct RawLoad {
    #[serde(default, with = "super::value::opt")]
    ids: Option<Vec<i64>>,
    #[serde(default)]
    messages: Vec<LoadMessage>,
    #[serde(default, with = "super::value::opt")]
    nextrow: Option<i64>,
}

/// `create` answers an id for one dict over JSON-RPC, and a list otherwise.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdOrIds {
    One(RecordId),
    Many(Vec<RecordId>),
}

impl IdOrIds {
    fn into_vec(self) -> Vec<RecordId> {
        match self {
            IdOrIds::One(id) => vec![id],
            IdOrIds::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct PageOpts {
    limit: Option<usize>,
    offset: Option<usize>,
    order: Option<String>,
    context: Option<Context>,
}

impl PageOpts {
    fn apply(&self, mut call: OdooCall) -> OdooCall {
        if let Some(o) = self.offset {
            call = call.kwarg("offset", o);
        }
        if let Some(l) = self.limit {
            call = call.kwarg("limit", l);
        }
        if let Some(o) = &self.order {
            call = call.kwarg("order", o.clone());
        }
        if let Some(c) = &self.context {
            call.context = c.merged_over(&call.context);
        }
        call
    }
}

macro_rules! page_setters {
    () => {
        /// At most this many records.
        pub fn limit(mut self, n: usize) -> Self {
            self.opts.limit = Some(n);
            self
        }
        /// Skips this many records first.
        pub fn offset(mut self, n: usize) -> Self {
            self.opts.offset = Some(n);
            self
        }
        /// Sort order, as Odoo writes it (`"name desc, id"`).
        pub fn order(mut self, order: impl Into<String>) -> Self {
            self.opts.order = Some(order.into());
            self
        }
        /// A context for this call (over the handle's and the client's).
        pub fn context(mut self, context: Context) -> Self {
            self.opts.context = Some(context);
            self
        }
    };
}

/// A `search` being built; `.await` it.
#[derive(Debug)]
#[must_use = "a search does nothing until awaited"]
pub struct Search<T> {
    handle: ModelHandle<T>,
    domain: Domain,
    opts: PageOpts,
}

impl<T> Search<T> {
    page_setters!();
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for Search<T> {
    type Output = Result<Vec<RecordId>>;
    type IntoFuture = BoxFut<'static, Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let call = self.opts.apply(
                self.handle
                    .call_of("search")
                    .arg("domain", self.domain.to_value())
                    .read_only(),
            );
            self.handle.client.call(&call).await
        })
    }
}

/// A `search_read` being built; `.await` it.
#[derive(Debug)]
#[must_use = "a search_read does nothing until awaited"]
pub struct SearchRead<T> {
    handle: ModelHandle<T>,
    domain: Domain,
    opts: PageOpts,
    fields: Option<Vec<String>>,
}

impl<T> SearchRead<T> {
    page_setters!();

    /// Reads these fields instead of the model's default list.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for SearchRead<T> {
    type Output = Result<Vec<T>>;
    type IntoFuture = BoxFut<'static, Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let fields = self.handle.fields_for(&self.fields).await?;
            let mut call = self
                .handle
                .call_of("search_read")
                .arg("domain", self.domain.to_value())
                .read_only();
            if let Some(f) = fields {
                call = call.kwarg("fields", f);
            }
            let call = self.opts.apply(call);
            self.handle.client.call(&call).await
        })
    }
}

/// A `read` being built; `.await` it.
#[derive(Debug)]
#[must_use = "a read does nothing until awaited"]
pub struct Read<T> {
    handle: ModelHandle<T>,
    ids: Vec<RecordId>,
    fields: Option<Vec<String>>,
    context: Option<Context>,
}

impl<T> Read<T> {
    /// Reads these fields instead of the model's default list.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// A context for this call.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for Read<T> {
    type Output = Result<Vec<T>>;
    type IntoFuture = BoxFut<'static, Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.ids.is_empty() {
                return Ok(Vec::new());
            }
            let fields = self.handle.fields_for(&self.fields).await?;
            let mut call = self
                .handle
                .call_of("read")
                .ids(self.ids.iter().copied())
                .read_only();
            if let Some(f) = fields {
                call = call.arg("fields", f);
            }
            if let Some(c) = &self.context {
                call.context = c.merged_over(&call.context);
            }
            self.handle.client.call(&call).await
        })
    }
}

/// A `name_search` being built; `.await` it.
#[derive(Debug)]
#[must_use = "a name_search does nothing until awaited"]
pub struct NameSearch<T> {
    handle: ModelHandle<T>,
    name: String,
    domain: Domain,
    operator: String,
    limit: usize,
}

impl<T> NameSearch<T> {
    /// Restricts the candidates.
    pub fn domain(mut self, domain: Domain) -> Self {
        self.domain = domain;
        self
    }
    /// The matching operator (default `ilike`).
    pub fn operator(mut self, op: impl Into<String>) -> Self {
        self.operator = op.into();
        self
    }
    /// At most this many results (default 100).
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for NameSearch<T> {
    type Output = Result<Vec<(RecordId, String)>>;
    type IntoFuture = BoxFut<'static, Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            // The filter parameter is `args` up to 18 and `domain` from 19: sent positionally
            // over JSON-RPC (works on both) and by its 19+ name over JSON-2 (19+ only).
            let call = self
                .handle
                .call_of("name_search")
                .arg("name", self.name)
                .arg("domain", self.domain.to_value())
                .arg("operator", self.operator)
                .arg("limit", self.limit)
                .read_only();
            let rows: Vec<(RecordId, NameText)> = self.handle.client.call(&call).await?;
            Ok(rows.into_iter().map(|(id, n)| (id, n.0)).collect())
        })
    }
}

struct NameText(String);

impl<'de> Deserialize<'de> for NameText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s: Option<String> = super::value::opt::deserialize(d)?;
        Ok(NameText(s.unwrap_or_default()))
    }
}

/// A stream of every matching record, read page by page by id.
///
/// Set the page size with [`RecordStream::page_size`] before polling it; a page is fetched only
/// when the previous one has been consumed.
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<T> {
    handle: ModelHandle<T>,
    domain: Domain,
    page_size: usize,
    fields: Option<Vec<String>>,
    context: Option<Context>,
    inner: Option<BoxStream<'static, Result<T>>>,
}

impl<T> std::fmt::Debug for RecordStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("model", &self.handle.model)
            .field("domain", &self.domain)
            .field("page_size", &self.page_size)
            .field("started", &self.inner.is_some())
            .finish()
    }
}

impl<T> RecordStream<T> {
    /// Records per request (default 500).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Reads these fields (`id` is always added).
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// A context for every page.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: i64,
}

struct PageState<T> {
    handle: ModelHandle<T>,
    domain: Domain,
    page_size: usize,
    fields: Option<Option<Vec<String>>>,
    explicit_fields: Option<Vec<String>>,
    context: Option<Context>,
    last_id: Option<i64>,
    buffer: VecDeque<Box<RawValue>>,
    done: bool,
}

impl<T: DeserializeOwned + Send + 'static> PageState<T> {
    async fn next_page(&mut self) -> Result<()> {
        if self.fields.is_none() {
            let mut f = self.handle.fields_for(&self.explicit_fields).await?;
            if let Some(list) = f.as_mut()
                && !list.iter().any(|x| x == "id")
            {
                list.push("id".to_owned());
            }
            self.fields = Some(f);
        }
        let mut domain = self.domain.clone();
        if let Some(last) = self.last_id {
            domain = domain.and(Domain::new().gt("id", last));
        }
        let mut call = self
            .handle
            .call_of("search_read")
            .arg("domain", domain.to_value())
            .kwarg("limit", self.page_size)
            .kwarg("order", "id asc")
            .read_only();
        if let Some(Some(f)) = &self.fields {
            call = call.kwarg("fields", f.clone());
        }
        if let Some(c) = &self.context {
            call.context = c.merged_over(&call.context);
        }
        let page: Vec<Box<RawValue>> = self.handle.client.call(&call).await?;
        if page.len() < self.page_size {
            self.done = true;
        }
        if let Some(last) = page.last() {
            let id: IdOnly = serde_json::from_str(last.get()).map_err(|e| Error::Decode {
                model: self.handle.model.clone(),
                method: "search_read".to_owned(),
                path: "id".to_owned(),
                source: e,
            })?;
            if Some(id.id) <= self.last_id {
                // The server ignored the order: stop rather than loop forever.
                return Err(Error::InvalidReply {
                    reason: "search_read did not return records in id order".to_owned(),
                    snippet: String::new(),
                    source: None,
                });
            }
            self.last_id = Some(id.id);
        } else {
            self.done = true;
        }
        self.buffer.extend(page);
        Ok(())
    }

    fn decode(&self, raw: &RawValue, index: u64) -> Result<T> {
        super::jsonrpc::decode_json(raw.get().as_bytes()).map_err(|(path, source)| Error::Decode {
            model: self.handle.model.clone(),
            method: "search_read".to_owned(),
            path: format!("[{index}].{path}"),
            source,
        })
    }
}

impl<T: DeserializeOwned + Send + 'static> Stream for RecordStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        if self.inner.is_none() {
            let state = PageState {
                handle: self.handle.clone(),
                domain: self.domain.clone(),
                page_size: self.page_size,
                fields: None,
                explicit_fields: self.fields.clone(),
                context: self.context.clone(),
                last_id: None,
                buffer: VecDeque::new(),
                done: false,
            };
            let s = stream::unfold((state, 0u64, false), |(mut st, n, failed)| async move {
                if failed {
                    return None;
                }
                loop {
                    if let Some(raw) = st.buffer.pop_front() {
                        let item = st.decode(&raw, n);
                        return Some((item, (st, n + 1, false)));
                    }
                    if st.done {
                        return None;
                    }
                    if let Err(e) = st.next_page().await {
                        return Some((Err(e), (st, n, true)));
                    }
                }
            });
            self.inner = Some(Box::pin(s));
        }
        match self.inner.as_mut() {
            Some(s) => s.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}
