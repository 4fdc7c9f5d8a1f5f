//! Steps and their outcomes: validate (policy gates), transform (canonical mapping), route (legal
//! entity to Odoo company, credentials and journal) and apply (the effect).
//!
//! A pipeline runs its steps in order while each answers [`Outcome::Done`]; any other outcome
//! ends the message's attempt and says what happens to it.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::JsonEnvelope;
use crate::store::{AuditEvent, AuditKind, AuditLog, IdempotencyLedger};
use odoo_client::{OdooClient, RecordId};

/// What a step decided about a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The step did its part (the next step runs; after the last, the message is done).
    Done,
    /// Nothing to do, for a reason (already applied, not relevant); the message is done.
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
    },
    /// A technical failure that another attempt will not fix: the message goes to the dead letters.
    Failed {
        /// A short reason.
        reason: String,
        /// The error chain, outermost first.
        #[serde(default)]
        errors: Vec<String>,
    },
}

impl Outcome {
    /// A skip.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome::Skipped {
            reason: reason.into(),
        }
    }

    /// A business hold.
    pub fn held(reason: impl Into<String>, detail: Value) -> Self {
        Outcome::Held {
            reason: reason.into(),
            detail,
        }
    }

    /// A transient failure.
    pub fn retry(error: impl fmt::Display) -> Self {
        Outcome::Retry {
            after: None,
            error: error.to_string(),
        }
    }

    /// A terminal failure with its cause chain.
    pub fn failed(
        reason: impl Into<String>,
        error: Option<&(dyn std::error::Error + 'static)>,
    ) -> Self {
        let mut errors = Vec::new();
        let mut cur = error;
        while let Some(e) = cur {
            errors.push(e.to_string());
            cur = e.source();
        }
        Outcome::Failed {
            reason: reason.into(),
            errors,
        }
    }

    /// The outcome an Odoo error calls for: a retry when it is transient (honouring
    /// `Retry-After`), a terminal failure otherwise.
    pub fn from_odoo_error(e: &odoo_client::Error) -> Self {
        if e.is_retryable() {
            Outcome::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            }
        } else {
            Outcome::failed(e.to_string(), Some(e))
        }
    }

    /// A short label for metrics and the audit trail.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Held { .. } => "held",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed { .. } => "failed",
        }
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
    pub legal_entity: String,
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
    pub fn context(&self) -> odoo_client::Context {
        odoo_client::Context::new().allowed_company_ids([self.company_id])
    }
}

/// Routes by (legal entity, flow).
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: HashMap<(String, String), Route>,
}

impl Router {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route for its legal entity and flow.
    pub fn route(mut self, route: Route) -> Self {
        self.routes
            .insert((route.legal_entity.clone(), route.flow.clone()), route);
        self
    }

    /// The route of a legal entity's flow.
    pub fn get(&self, legal_entity: &str, flow: &str) -> Option<&Route> {
        self.routes.get(&(legal_entity.to_owned(), flow.to_owned()))
    }
}

/// What a step sees and may change: the message, values passed between steps, the route, and
/// the stores for idempotent effects and the audit trail.
pub struct StepContext {
    /// The message.
    pub envelope: JsonEnvelope,
    /// Failed attempts before this one.
    pub attempt: u32,
    /// Values passed from step to step (a transform's output for the apply step).
    pub state: Map<String, Value>,
    /// The route, once a routing step set it.
    pub route: Option<Route>,
    /// How long an effect's ledger claim lasts before another attempt may take it over
    /// (the pipeline sets it to its lease duration).
    pub claim_for: std::time::Duration,
    pub(crate) pending_audit: Vec<AuditEvent>,
    pub(crate) ledger: Arc<dyn IdempotencyLedger>,
    pub(crate) audit: Arc<dyn AuditLog>,
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

impl StepContext {
    /// A context for a message (used by pipelines, and by tests of single steps).
    pub fn new(
        envelope: JsonEnvelope,
        attempt: u32,
        ledger: Arc<dyn IdempotencyLedger>,
        audit: Arc<dyn AuditLog>,
    ) -> Self {
        StepContext {
            envelope,
            attempt,
            state: Map::new(),
            route: None,
            claim_for: std::time::Duration::from_secs(300),
            pending_audit: Vec::new(),
            ledger,
            audit,
        }
    }

    /// The idempotency ledger.
    pub fn ledger(&self) -> &Arc<dyn IdempotencyLedger> {
        &self.ledger
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
    pub fn require_route(&self) -> Result<&Route, Outcome> {
        self.route
            .as_ref()
            .ok_or_else(|| Outcome::failed("no route: add a routing step before this one", None))
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

    /// Runs the step.
    async fn run(&self, cx: &mut StepContext) -> Outcome;
}

#[async_trait]
impl<S: Step + ?Sized> Step for Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        (**self).run(cx).await
    }
}

#[async_trait]
impl<S: Step + ?Sized> Step for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        (**self).run(cx).await
    }
}

/// The future a closure step returns.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

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
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        (self.f)(cx).await
    }
}

/// A step from an async closure.
///
/// ```
/// use odoo_connect_sync::step::{from_fn, Outcome, Step};
/// let step = from_fn("log", |cx| Box::pin(async move {
///     tracing::info!(message = %cx.envelope.id, "seen");
///     Outcome::Done
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

/// A policy gate from a function: `Ok(())` lets the message through, `Err(outcome)` stops it
/// (usually [`Outcome::held`]).
pub fn validate<F>(name: impl Into<String>, check: F) -> Validate<F>
where
    F: Fn(&JsonEnvelope) -> Result<(), Outcome> + Send + Sync,
{
    Validate {
        name: name.into(),
        check,
    }
}

#[async_trait]
impl<F> Step for Validate<F>
where
    F: Fn(&JsonEnvelope) -> Result<(), Outcome> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        match (self.check)(&cx.envelope) {
            Ok(()) => Outcome::Done,
            Err(o) => o,
        }
    }
}

/// A transform: computes a value from the message (a canonical mapping) and stores it in the
/// context's state under `key` for the steps after it.
pub struct Transform<F> {
    name: String,
    key: String,
    f: F,
}

impl<F> fmt::Debug for Transform<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transform")
            .field("name", &self.name)
            .field("key", &self.key)
            .finish()
    }
}

/// A transform from a function.
pub fn transform<F>(name: impl Into<String>, key: impl Into<String>, f: F) -> Transform<F>
where
    F: Fn(&JsonEnvelope) -> Result<Value, Outcome> + Send + Sync,
{
    Transform {
        name: name.into(),
        key: key.into(),
        f,
    }
}

#[async_trait]
impl<F> Step for Transform<F>
where
    F: Fn(&JsonEnvelope) -> Result<Value, Outcome> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        match (self.f)(&cx.envelope) {
            Ok(v) => {
                cx.state.insert(self.key.clone(), v);
                Outcome::Done
            }
            Err(o) => o,
        }
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
    async fn run(&self, cx: &mut StepContext) -> Outcome {
        let Some(route) = self.router.get(&cx.envelope.legal_entity, &self.flow) else {
            return Outcome::failed(
                format!(
                    "no route for legal entity `{}` and flow `{}`",
                    cx.envelope.legal_entity, self.flow
                ),
                None,
            );
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
        Outcome::Done
    }
}
