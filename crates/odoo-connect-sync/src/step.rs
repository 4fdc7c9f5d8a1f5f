//! Steps and their outcomes: validate (policy gates), transform (canonical mapping), route (legal
//! entity to Odoo company, credentials and journal) and apply (the effect).
//!
//! A step returns a [`StepResult`]: `Ok(())` when it did its part, or a [`Stop`] that ends the
//! message's attempt and says what happens to it (skipped, held for a person, retried, failed).
//! Errors of the Odoo client, the connectors and the stores convert into the right [`Stop`] with
//! `?`, and steps hand values to later steps through the typed [`State`]. The pipeline records
//! each step's [`Outcome`] in the audit trail.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::JsonEnvelope;
use crate::store::{AuditEvent, AuditKind, AuditLog, Facts, IdempotencyLedger};
use odoo_connect_client::{OdooClient, RecordId};
use odoo_connect_core::key::LegalEntityKey;
use odoo_connect_core::retry::Retryable;

/// Why a step ends a message's attempt: the error side of [`StepResult`].
///
/// A step returns `Ok(())` when it did its part (the next step runs; after the last, the message
/// is done) and `Err(Stop)` to end the attempt, saying what happens to the message. Errors of the
/// Odoo client, the connectors and the state store convert into the right stop with `?`: a
/// transient failure (a timeout, HTTP 503, a rate limit with its `Retry-After`) into
/// [`Stop::Retry`], anything another attempt will not fix into [`Stop::Failed`] with its cause
/// chain.
///
/// ```
/// use odoo_connect_sync::step::{Stop, StepResult};
///
/// fn check(hours: f64) -> StepResult {
///     if hours > 24.0 {
///         return Err(Stop::held("too_many_hours", serde_json::json!({"hours": hours})));
///     }
///     Ok(())
/// }
/// assert!(check(8.0).is_ok());
/// assert_eq!(check(30.0).unwrap_err().label(), "held");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stop {
    /// Nothing (more) to do, for a reason (already applied, not relevant); the message is done.
    Skipped {
        /// Why.
        reason: String,
    },
    /// A business exception: the message is parked for a person to decide
    /// (for example "contract cap reached"). Counted apart from technical failures.
    Held {
        /// A short, stable reason used to group held messages (`cap_reached`).
        reason: String,
        /// What the rule saw.
        #[serde(default)]
        detail: Value,
    },
    /// A transient failure: try again after a delay (the pipeline's backoff, or at least `after`).
    Retry {
        /// The delay the remote side asked for (`Retry-After`), if any.
        #[serde(default)]
        after: Option<Duration>,
        /// What failed.
        error: String,
        /// The error itself, when the stop was made from one (see [`Stop::error`]); not stored.
        #[serde(skip)]
        source: StopSource,
    },
    /// A technical failure that another attempt will not fix: the message goes to the dead letters.
    Failed {
        /// A short reason.
        reason: String,
        /// The error chain, outermost first.
        #[serde(default)]
        errors: Vec<String>,
        /// The error itself, when the stop was made from one (see [`Stop::error`]); not stored.
        #[serde(skip)]
        source: StopSource,
    },
}

/// The error a [`Stop`] was made from, kept whole so that a caller can inspect it
/// ([`Stop::error`], [`Stop::downcast_ref`]); empty for a stop made otherwise.
///
/// It lives as long as the stop in memory: the stored form of a stop (dead letters, the audit
/// trail) keeps the chain as text. Two stops that differ only by it are equal.
#[derive(Clone, Default)]
pub struct StopSource(Option<Arc<dyn std::error::Error + Send + Sync + 'static>>);

impl StopSource {
    /// Keeps `error`.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StopSource(Some(Arc::new(error)))
    }

    /// None kept.
    pub fn none() -> Self {
        StopSource(None)
    }

    /// The error, when one is kept.
    pub fn get(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.0.as_deref()
    }
}

impl fmt::Debug for StopSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(e) => fmt::Debug::fmt(&**e, f),
            None => f.write_str("None"),
        }
    }
}

impl PartialEq for StopSource {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// What a step returns: `Ok(())` when it did its part, `Err(`[`Stop`]`)` to end the message's
/// attempt. Helpers that produce a value for the step use `StepResult<T>`.
pub type StepResult<T = ()> = Result<T, Stop>;

impl Stop {
    /// A skip: the message is done, with nothing (more) to do.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Stop::Skipped {
            reason: reason.into(),
        }
    }

    /// A business hold.
    pub fn held(reason: impl Into<String>, detail: Value) -> Self {
        Stop::Held {
            reason: reason.into(),
            detail,
        }
    }

    /// A transient failure, retried after the pipeline's backoff.
    pub fn retry(error: impl fmt::Display) -> Self {
        Stop::Retry {
            after: None,
            error: error.to_string(),
            source: StopSource::none(),
        }
    }

    /// A transient failure, retried no sooner than `after`.
    pub fn retry_after(after: Duration, error: impl fmt::Display) -> Self {
        Stop::Retry {
            after: Some(after),
            error: error.to_string(),
            source: StopSource::none(),
        }
    }

    /// A terminal failure with its cause chain.
    pub fn failed(
        reason: impl Into<String>,
        error: Option<&(dyn std::error::Error + 'static)>,
    ) -> Self {
        let errors = error
            .into_iter()
            .flat_map(odoo_connect_core::error::chain)
            .map(ToString::to_string)
            .collect();
        Stop::Failed {
            reason: reason.into(),
            errors,
            source: StopSource::none(),
        }
    }

    /// A terminal failure whose cause chain is known only as text, outermost first (an error
    /// reported by a remote system, a chain read back from storage).
    pub fn failed_with_chain(reason: impl Into<String>, errors: Vec<String>) -> Self {
        Stop::Failed {
            reason: reason.into(),
            errors,
            source: StopSource::none(),
        }
    }

    /// A terminal failure for bad data: `"{what}: {error}"`, with the error's cause chain.
    ///
    /// ```
    /// use odoo_connect_sync::step::Stop;
    /// let e = "x".parse::<i32>().unwrap_err();
    /// let stop = Stop::bad_data("the hours are not a number", &e);
    /// assert!(stop.to_string().starts_with("failed: the hours are not a number: "));
    /// ```
    pub fn bad_data(what: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        Stop::failed(format!("{what}: {error}"), Some(error))
    }

    /// The stop an error calls for, by its [`Retryable`] classification (the same as
    /// `Stop::from(error)`, by reference): a retry when it is transient (honouring
    /// [`Retryable::retry_after`]), a terminal failure with its cause chain otherwise.
    pub fn from_error<E>(e: &E) -> Self
    where
        E: Retryable + std::error::Error + 'static,
    {
        if e.is_retryable() {
            Stop::Retry {
                after: e.retry_after(),
                error: odoo_connect_core::error::chain_text(e),
                source: StopSource::none(),
            }
        } else {
            Stop::failed(e.to_string(), Some(e))
        }
    }

    /// The same stop, keeping `error` whole ([`Stop::error`]); a skip or a hold is returned as
    /// it is. `Stop::from(error)` does this for the error it converts.
    pub fn with_source(mut self, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        match &mut self {
            Stop::Retry { source, .. } | Stop::Failed { source, .. } => {
                *source = StopSource::new(error);
            }
            Stop::Skipped { .. } | Stop::Held { .. } => {}
        }
        self
    }

    /// The error this stop was made from, when it was made from one and kept it (a stop made with
    /// `?` or `Stop::from(error)`, or [`Stop::with_source`]); a stop read back from storage has
    /// only the text of its chain.
    ///
    /// ```
    /// use odoo_connect_sync::step::Stop;
    /// use odoo_connect_client::{Error, OdooErrorKind};
    ///
    /// fn step() -> Result<(), Stop> {
    ///     Err(Error::Timeout { elapsed: std::time::Duration::from_secs(30), sent: true })?
    /// }
    /// let stop = step().unwrap_err();
    /// assert_eq!(stop.label(), "retry");
    /// let odoo = stop.downcast_ref::<Error>().expect("kept");
    /// assert!(odoo.is_timeout());
    /// ```
    pub fn error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Stop::Retry { source, .. } | Stop::Failed { source, .. } => source.get(),
            Stop::Skipped { .. } | Stop::Held { .. } => None,
        }
    }

    /// The error this stop was made from, as a `T`, when it is one (see [`Stop::error`]).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error().and_then(|e| e.downcast_ref::<T>())
    }

    /// The stop an Odoo error calls for; see [`Stop::from_error`].
    pub fn from_odoo_error(e: &odoo_connect_client::Error) -> Self {
        Stop::from_error(e)
    }

    /// A short label for metrics and the audit trail (`skipped`, `held`, `retry`, `failed`).
    pub fn label(&self) -> &'static str {
        match self {
            Stop::Skipped { .. } => "skipped",
            Stop::Held { .. } => "held",
            Stop::Retry { .. } => "retry",
            Stop::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Skipped { reason } => write!(f, "skipped: {reason}"),
            Stop::Held { reason, .. } => write!(f, "held: {reason}"),
            Stop::Retry {
                after: Some(after),
                error,
                ..
            } => write!(f, "retry after {} s: {error}", after.as_secs()),
            Stop::Retry {
                after: None, error, ..
            } => write!(f, "retry: {error}"),
            Stop::Failed { reason, .. } => write!(f, "failed: {reason}"),
        }
    }
}

/// A stop's message holds its error's text already, so it has no `source()` (which would print
/// the same cause twice); [`Stop::error`] gives the error itself.
impl std::error::Error for Stop {}

impl<E> From<E> for Stop
where
    E: Retryable + std::error::Error + Send + Sync + 'static,
{
    /// Any layer's error, by its [`Retryable`] classification: a transient failure (a timeout,
    /// HTTP 503, a rate limit, a busy store, a quota that frees at a known time) is
    /// [`Stop::Retry`] after the delay the remote side asked for; anything another attempt will
    /// not fix is [`Stop::Failed`] with the whole cause chain. The Odoo client's, the connectors'
    /// and the stores' errors all implement [`Retryable`], and so can a step's own.
    fn from(e: E) -> Self {
        Stop::from_error(&e).with_source(e)
    }
}

/// What a step run came to, as the pipeline records it in the audit trail and its report: done,
/// or the [`Stop`] that ended the attempt.
///
/// In JSON it is the stop's own form, or `{"outcome": "done"}`:
///
/// ```
/// use odoo_connect_sync::step::{Outcome, Stop};
/// let held = Outcome::from(Stop::held("cap_reached", serde_json::json!({"cap": 40})));
/// assert_eq!(held.label(), "held");
/// let json = serde_json::to_value(&held)?;
/// assert_eq!(json["outcome"], "held");
/// assert_eq!(serde_json::from_value::<Outcome>(json)?, held);
/// assert_eq!(serde_json::to_value(Outcome::Done)?, serde_json::json!({"outcome": "done"}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The step did its part (the next step runs; after the last, the message is done).
    Done,
    /// The step ended the attempt.
    Stopped(Stop),
}

impl Outcome {
    /// A short label for metrics and the audit trail (`done`, or the stop's).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Stopped(stop) => stop.label(),
        }
    }

    /// The outcome as a step's result: `Ok(())` for [`Outcome::Done`], the stop otherwise.
    pub fn into_result(self) -> StepResult {
        match self {
            Outcome::Done => Ok(()),
            Outcome::Stopped(stop) => Err(stop),
        }
    }

    /// The stop, unless the step was done.
    pub fn stop(&self) -> Option<&Stop> {
        match self {
            Outcome::Done => None,
            Outcome::Stopped(stop) => Some(stop),
        }
    }
}

impl From<Stop> for Outcome {
    fn from(stop: Stop) -> Self {
        Outcome::Stopped(stop)
    }
}

impl<T> From<StepResult<T>> for Outcome {
    fn from(r: StepResult<T>) -> Self {
        match r {
            Ok(_) => Outcome::Done,
            Err(stop) => Outcome::Stopped(stop),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Outcome::Done => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("outcome", "done")?;
                map.end()
            }
            Outcome::Stopped(stop) => stop.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.get("outcome").and_then(Value::as_str) == Some("done") {
            return Ok(Outcome::Done);
        }
        Stop::deserialize(value)
            .map(Outcome::Stopped)
            .map_err(serde::de::Error::custom)
    }
}

/// Values passed from step to step, one per type: a transform's output for the apply step, the
/// record a step created for the next one. Keyed by type, so a step reads what an earlier step
/// wrote with no string key to mistype and no JSON to decode:
///
/// ```
/// use odoo_connect_sync::step::State;
///
/// #[derive(Debug, PartialEq)]
/// struct PartnerId(i64);
///
/// let mut state = State::default();
/// state.insert(PartnerId(7));
/// assert_eq!(state.get::<PartnerId>(), Some(&PartnerId(7)));
/// assert_eq!(state.take::<PartnerId>(), Some(PartnerId(7)));
/// assert!(state.require::<PartnerId>().is_err());
/// ```
#[derive(Default)]
pub struct State {
    values: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.values.values().map(|(name, _)| name))
            .finish()
    }
}

impl State {
    /// Stores a value, returning the one of the same type it replaces.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.values
            .insert(
                TypeId::of::<T>(),
                (std::any::type_name::<T>(), Box::new(value)),
            )
            .and_then(|(_, old)| old.downcast::<T>().ok().map(|b| *b))
    }

    /// The value of type `T`, if a step stored one.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast_ref::<T>())
    }

    /// The value of type `T`, mutably.
    pub fn get_mut<T: Send + Sync + 'static>(&mut self) -> Option<&mut T> {
        self.values
            .get_mut(&TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast_mut::<T>())
    }

    /// Takes the value of type `T` out.
    pub fn take<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        self.values
            .remove(&TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast::<T>().ok().map(|b| *b))
    }

    /// The value of type `T`, or a terminal failure naming the type when no earlier step stored
    /// one (a pipeline assembled in the wrong order).
    pub fn require<T: Send + Sync + 'static>(&self) -> StepResult<&T> {
        self.get::<T>().ok_or_else(|| {
            Stop::failed(
                format!(
                    "no `{}` in the step state: add the step that makes it before this one",
                    std::any::type_name::<T>()
                ),
                None,
            )
        })
    }

    /// Whether a value of type `T` is stored.
    pub fn contains<T: Send + Sync + 'static>(&self) -> bool {
        self.values.contains_key(&TypeId::of::<T>())
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Where a message goes in Odoo: the company of its legal entity, the journal, and the client
/// holding the credentials of its flow.
///
/// Flows get their own credentials (contract creation and invoice release never share one), and
/// the credential's label is written to the audit trail each time it is used.
#[derive(Clone)]
pub struct Route {
    /// The legal entity.
    pub legal_entity: LegalEntityKey,
    /// The flow (`contract`, `invoice`, `payment`...).
    pub flow: String,
    /// The Odoo company of the legal entity.
    pub company_id: RecordId,
    /// The journal to use, when the flow needs one.
    pub journal_id: Option<RecordId>,
    /// A label naming the credential (never the secret itself).
    pub credential_label: String,
    /// The client authenticated with that credential.
    pub odoo: OdooClient,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("legal_entity", &self.legal_entity)
            .field("flow", &self.flow)
            .field("company_id", &self.company_id)
            .field("journal_id", &self.journal_id)
            .field("credential_label", &self.credential_label)
            .finish()
    }
}

impl Route {
    /// The context for Odoo calls of this route: the company as the active one.
    pub fn context(&self) -> odoo_connect_client::Context {
        odoo_connect_client::Context::new().allowed_company_ids([self.company_id])
    }
}

/// Routes by (legal entity, flow).
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// The routes of each legal entity, by flow.
    routes: HashMap<LegalEntityKey, HashMap<String, Route>>,
}

impl Router {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route for its legal entity and flow.
    pub fn route(mut self, route: Route) -> Self {
        self.routes
            .entry(route.legal_entity.clone())
            .or_default()
            .insert(route.flow.clone(), route);
        self
    }

    /// The route of a legal entity's flow.
    pub fn get(&self, legal_entity: &LegalEntityKey, flow: &str) -> Option<&Route> {
        self.routes.get(legal_entity)?.get(flow)
    }
}

/// What a step sees and may change: the message, values passed between steps, the route, and
/// the stores for idempotent effects, the audit trail and facts.
pub struct StepContext {
    /// The message.
    pub envelope: JsonEnvelope,
    /// Failed attempts before this one.
    pub attempt: u32,
    /// Values passed from step to step, one per type (a transform's output for the apply step).
    pub state: State,
    /// The route, once a routing step set it.
    pub route: Option<Route>,
    /// How long an effect's ledger claim lasts before another attempt may take it over
    /// (the pipeline sets it to its lease duration).
    pub claim_for: std::time::Duration,
    pub(crate) pending_audit: Vec<AuditEvent>,
    pub(crate) ledger: Arc<dyn IdempotencyLedger>,
    pub(crate) audit: Arc<dyn AuditLog>,
    pub(crate) facts: Arc<dyn Facts>,
}

impl fmt::Debug for StepContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepContext")
            .field("message", &self.envelope.id)
            .field("attempt", &self.attempt)
            .field("route", &self.route)
            .finish()
    }
}

/// The facts of a context built without any: every call is refused as unsupported.
struct NoFacts;

#[async_trait]
impl Facts for NoFacts {
    async fn record_fact(
        &self,
        _key: &crate::store::FactKey,
        _aliases: &[crate::store::FactSubject],
        _value: &Value,
    ) -> crate::store::StoreResult<crate::store::Recorded> {
        Err(NO_FACTS)
    }

    async fn fact(
        &self,
        _key: &crate::store::FactKey,
    ) -> crate::store::StoreResult<Option<crate::store::StoredFact>> {
        Err(NO_FACTS)
    }

    async fn list_facts(
        &self,
        _filter: &crate::store::FactFilter,
    ) -> crate::store::StoreResult<crate::store::FactPage> {
        Err(NO_FACTS)
    }
}

const NO_FACTS: crate::store::StoreError = crate::store::StoreError::Unsupported {
    what: "facts in a step context built without them (StepContext::with_facts)",
};

impl StepContext {
    /// A context for a message (used by pipelines, and by tests of single steps). It has no
    /// facts store until [`StepContext::with_facts`] gives it one: until then
    /// [`StepContext::facts`] answers [`StoreError::Unsupported`](crate::store::StoreError::Unsupported).
    /// A pipeline's contexts have their store's facts.
    pub fn new(
        envelope: JsonEnvelope,
        attempt: u32,
        ledger: Arc<dyn IdempotencyLedger>,
        audit: Arc<dyn AuditLog>,
    ) -> Self {
        StepContext {
            envelope,
            attempt,
            state: State::default(),
            route: None,
            claim_for: std::time::Duration::from_secs(300),
            pending_audit: Vec::new(),
            ledger,
            audit,
            facts: Arc::new(NoFacts),
        }
    }

    /// Gives the context the facts store `facts`.
    pub fn with_facts(mut self, facts: Arc<dyn Facts>) -> Self {
        self.facts = facts;
        self
    }

    /// The idempotency ledger.
    pub fn ledger(&self) -> &Arc<dyn IdempotencyLedger> {
        &self.ledger
    }

    /// The facts store: what is known about the world, never purged (read and write typed
    /// facts through [`FactsExt`](crate::store::FactsExt)).
    pub fn facts(&self) -> &Arc<dyn Facts> {
        &self.facts
    }

    /// Adds an event about this message to the audit trail. The pipeline writes a batch's events
    /// together, before it settles the batch's messages.
    pub fn audit(&mut self, event: AuditEvent) {
        let event = event.for_envelope(&self.envelope);
        self.pending_audit.push(event);
    }

    /// Writes the events added with [`StepContext::audit`] now (failures are logged, not raised:
    /// the audit never stops the effect it describes). Pipelines do this for you.
    pub async fn flush_audit(&mut self) {
        let events = std::mem::take(&mut self.pending_audit);
        if let Err(e) = self.audit.append_many(events).await {
            tracing::warn!(error = %e, "could not write to the audit trail");
        }
    }

    /// Takes the events added with [`StepContext::audit`] and not written yet.
    pub fn take_audit(&mut self) -> Vec<AuditEvent> {
        std::mem::take(&mut self.pending_audit)
    }

    /// The route, or a terminal failure when no routing step ran.
    pub fn require_route(&self) -> StepResult<&Route> {
        self.route
            .as_ref()
            .ok_or_else(|| Stop::failed("no route: add a routing step before this one", None))
    }
}

/// One step of a pipeline.
///
/// Contract: a step may run more than once for the same message (after a crash, a lost reply or
/// a retry), so its effects must be idempotent: create through [`crate::effect`], and check
/// the target's state before acting on it.
#[async_trait]
pub trait Step: Send + Sync {
    /// The step's name, for traces, metrics and the audit trail.
    fn name(&self) -> &str;

    /// Runs the step: `Ok(())` when it did its part, a [`Stop`] to end the message's attempt.
    /// Errors of the Odoo client, the connectors and the stores convert with `?`.
    async fn run(&self, cx: &mut StepContext) -> StepResult;
}

#[async_trait]
impl<S: Step + ?Sized> Step for Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        (**self).run(cx).await
    }
}

#[async_trait]
impl<S: Step + ?Sized> Step for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        (**self).run(cx).await
    }
}

/// The future a closure step returns.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + Send + 'a>>;

/// A step made of a closure; see [`from_fn`].
pub struct FnStep<F> {
    name: String,
    f: F,
}

impl<F> fmt::Debug for FnStep<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnStep").field("name", &self.name).finish()
    }
}

#[async_trait]
impl<F> Step for FnStep<F>
where
    F: for<'a> Fn(&'a mut StepContext) -> StepFuture<'a> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        (self.f)(cx).await
    }
}

/// A step from an async closure over the context.
///
/// The closure returns its future boxed (`Box::pin(async move { ... })`): the future borrows the
/// context, and a closure cannot yet promise on stable Rust that such a future is `Send` for
/// every borrow. A step that does not need the context is
/// [`step_with`](crate::typed::step_with) (no box, no clone); one that does is clearer as a
/// [`TypedStep`](crate::typed::TypedStep).
///
/// ```
/// use odoo_connect_sync::step::{from_fn, Step};
/// let step = from_fn("log", |cx| Box::pin(async move {
///     tracing::info!(message = %cx.envelope.id, "seen");
///     Ok(())
/// }));
/// assert_eq!(step.name(), "log");
/// ```
pub fn from_fn<F>(name: impl Into<String>, f: F) -> FnStep<F>
where
    F: for<'a> Fn(&'a mut StepContext) -> StepFuture<'a> + Send + Sync,
{
    FnStep {
        name: name.into(),
        f,
    }
}

/// A policy gate: a synchronous check of the message that holds it when the rule says no.
pub struct Validate<F> {
    name: String,
    check: F,
}

impl<F> fmt::Debug for Validate<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validate")
            .field("name", &self.name)
            .finish()
    }
}

/// A policy gate from a function: `Ok(())` lets the message through, `Err(stop)` stops it
/// (usually [`Stop::held`]).
pub fn validate<F>(name: impl Into<String>, check: F) -> Validate<F>
where
    F: Fn(&JsonEnvelope) -> StepResult + Send + Sync,
{
    Validate {
        name: name.into(),
        check,
    }
}

#[async_trait]
impl<F> Step for Validate<F>
where
    F: Fn(&JsonEnvelope) -> StepResult + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        (self.check)(&cx.envelope)
    }
}

/// A transform: computes a typed value from the message (a canonical mapping) and stores it in
/// the context's [`State`] for the steps after it.
pub struct Transform<F, T> {
    name: String,
    f: F,
    _output: std::marker::PhantomData<fn() -> T>,
}

impl<F, T> fmt::Debug for Transform<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transform")
            .field("name", &self.name)
            .field("output", &std::any::type_name::<T>())
            .finish()
    }
}

/// A transform from a function; its output is stored in the step state, where later steps read
/// it by type.
///
/// ```
/// use odoo_connect_sync::step::{Stop, transform};
///
/// #[derive(Debug)]
/// struct Hours(f64);
///
/// let step = transform("hours", |env| {
///     env.payload["hours"]
///         .as_f64()
///         .map(Hours)
///         .ok_or_else(|| Stop::failed("no hours in the message", None))
/// });
/// // Later steps: `let hours = cx.state.require::<Hours>()?;`
/// # let _ = step;
/// ```
pub fn transform<F, T>(name: impl Into<String>, f: F) -> Transform<F, T>
where
    F: Fn(&JsonEnvelope) -> StepResult<T> + Send + Sync,
    T: Send + Sync + 'static,
{
    Transform {
        name: name.into(),
        f,
        _output: std::marker::PhantomData,
    }
}

#[async_trait]
impl<F, T> Step for Transform<F, T>
where
    F: Fn(&JsonEnvelope) -> StepResult<T> + Send + Sync,
    T: Send + Sync + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let value = (self.f)(&cx.envelope)?;
        cx.state.insert(value);
        Ok(())
    }
}

/// The routing step: picks the route of the message's legal entity for a flow and records the
/// credential used in the audit trail.
#[derive(Debug, Clone)]
pub struct RouteStep {
    router: Arc<Router>,
    flow: String,
}

impl RouteStep {
    /// Routes messages of `flow` with `router`.
    pub fn new(router: Arc<Router>, flow: impl Into<String>) -> Self {
        RouteStep {
            router,
            flow: flow.into(),
        }
    }
}

#[async_trait]
impl Step for RouteStep {
    fn name(&self) -> &str {
        "route"
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let Some(route) = self.router.get(&cx.envelope.legal_entity, &self.flow) else {
            return Err(Stop::failed(
                format!(
                    "no route for legal entity `{}` and flow `{}`",
                    cx.envelope.legal_entity, self.flow
                ),
                None,
            ));
        };
        let route = route.clone();
        cx.audit(
            AuditEvent::new(AuditKind::CredentialUsed)
                .step("route")
                .credential_label(route.credential_label.clone())
                .details(serde_json::json!({
                    "flow": route.flow,
                    "company_id": route.company_id,
                    "journal_id": route.journal_id,
                })),
        );
        cx.route = Some(route);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error of a layer the crate does not know, classified by [`Retryable`].
    #[derive(Debug, thiserror::Error)]
    enum VendorError {
        #[error("daily quota used up")]
        Quota { resets_after: Option<Duration> },
        #[error("expired token")]
        Auth,
    }

    impl Retryable for VendorError {
        fn is_retryable(&self) -> bool {
            matches!(
                self,
                VendorError::Quota {
                    resets_after: Some(_)
                }
            )
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                VendorError::Quota { resets_after } => *resets_after,
                VendorError::Auth => None,
            }
        }
    }

    /// A step body written with `?` over the errors of the client, the connectors and the stores.
    fn step_body(e: odoo_connect_client::Error) -> StepResult<u32> {
        Err(e)?;
        Ok(1)
    }

    #[test]
    fn odoo_errors_become_retries_or_failures() {
        let busy = odoo_connect_client::Error::Http {
            status: 503,
            snippet: "<html>busy</html>".into(),
            retry_after: Some(Duration::from_secs(7)),
        };
        match step_body(busy) {
            Err(Stop::Retry { after, error, .. }) => {
                assert_eq!(after, Some(Duration::from_secs(7)));
                assert!(error.contains("503"), "{error}");
            }
            other => panic!("expected a retry, got {other:?}"),
        }
        let refused = odoo_connect_client::Error::Http {
            status: 400,
            snippet: "bad request".into(),
            retry_after: None,
        };
        match step_body(refused) {
            Err(Stop::Failed { reason, errors, .. }) => {
                assert!(reason.contains("400"), "{reason}");
                assert!(!errors.is_empty());
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn any_retryable_error_keeps_its_retry_after() {
        fn body(e: VendorError) -> StepResult {
            Err(e)?;
            Ok(())
        }
        assert_eq!(
            body(VendorError::Quota {
                resets_after: Some(Duration::from_secs(3600))
            }),
            Err(Stop::retry_after(
                Duration::from_secs(3600),
                "daily quota used up"
            ))
        );
        assert_eq!(
            body(VendorError::Quota { resets_after: None }).map_err(|s| s.label()),
            Err("failed")
        );
        assert_eq!(
            body(VendorError::Auth).map_err(|s| s.label()),
            Err("failed")
        );
    }

    #[test]
    fn store_errors_are_retried_only_when_the_store_says_so() {
        let busy = crate::store::StoreError::Backend {
            op: "lease",
            retryable: true,
            source: "database is locked".into(),
        };
        assert_eq!(Stop::from(busy).label(), "retry");
        let broken = crate::store::StoreError::Backend {
            op: "lease",
            retryable: false,
            source: "no such table".into(),
        };
        match Stop::from(broken) {
            Stop::Failed { errors, .. } => {
                assert!(
                    errors.iter().any(|e| e.contains("no such table")),
                    "{errors:?}"
                );
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn outcomes_and_stops_convert_both_ways() {
        let stops = [
            Stop::skipped("already there"),
            Stop::held("cap_reached", serde_json::json!({"cap": 40})),
            Stop::retry_after(Duration::from_secs(3), "busy"),
            Stop::failed("broken", None),
        ];
        for stop in stops {
            let outcome = Outcome::from(stop.clone());
            assert_eq!(outcome.label(), stop.label());
            assert_eq!(outcome.clone().into_result(), Err(stop.clone()));
            // Both serialise alike: audit rows written before and after read the same.
            assert_eq!(
                serde_json::to_value(&outcome).ok(),
                serde_json::to_value(&stop).ok()
            );
        }
        assert_eq!(Outcome::from(Ok::<(), Stop>(())), Outcome::Done);
        assert_eq!(Outcome::Done.into_result(), Ok(()));
    }

    #[test]
    fn typed_state_is_keyed_by_type() {
        #[derive(Debug, PartialEq)]
        struct Order(i64);
        #[derive(Debug, PartialEq)]
        struct Partner(i64);
        let mut state = State::default();
        assert!(state.is_empty());
        assert_eq!(state.insert(Order(1)), None);
        assert_eq!(state.insert(Order(2)), Some(Order(1)));
        state.insert(Partner(9));
        assert_eq!(state.len(), 2);
        if let Some(o) = state.get_mut::<Order>() {
            o.0 += 1;
        }
        assert_eq!(state.get::<Order>(), Some(&Order(3)));
        assert_eq!(state.take::<Partner>(), Some(Partner(9)));
        assert!(!state.contains::<Partner>());
        match state.require::<Partner>() {
            Err(Stop::Failed { reason, .. }) => assert!(reason.contains("Partner"), "{reason}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(format!("{state:?}").contains("Order"));
    }
}
