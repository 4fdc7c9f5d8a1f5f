//! Steps over a message type of your own.
//!
//! The queue keeps every message as JSON ([`JsonEnvelope`]), so that a store, a dead-letter list
//! or an operator tool needs no payload type. A step does not have to dig in that JSON: give the
//! pipeline a [`TypedStep<M>`] (through [`typed`]), and it receives the message decoded as `M`,
//! once per attempt, with the [`StepContext`] for effects, state and audit. A payload that is not an
//! `M` fails the message with the path of the field that did not decode (it goes to the dead
//! letters, where it can be corrected and replayed), never a default value.
//!
//! Policy gates and transforms that only read the message are plain functions of `&M`
//! ([`validate_message`], [`transform_message`]). Async work over shared dependencies (an Odoo
//! client, a connector) and the message, without the context, is an async closure with no clone
//! and no `Box::pin`: [`step_with`], and [`transform_with`] whose output the steps after it read
//! from the step state.
//!
//! ```
//! use std::sync::Arc;
//! use odoo_connect_sync::async_trait;
//! use odoo_connect_sync::pipeline::Pipeline;
//! use odoo_connect_sync::step::{StepContext, StepResult, Stop};
//! use odoo_connect_sync::store::memory::MemoryStore;
//! use odoo_connect_sync::typed::{TypedStep, typed, validate_message};
//! use rust_decimal::Decimal;
//! use serde::{Deserialize, Serialize};
//!
//! /// The message of this pipeline.
//! #[derive(Debug, Serialize, Deserialize)]
//! struct ApprovedTime {
//!     hours: Decimal,
//!     description: String,
//! }
//!
//! /// A step of its own type: its name is the type's, so it cannot be misspelt.
//! struct Record;
//!
//! #[async_trait]
//! impl TypedStep<ApprovedTime> for Record {
//!     async fn run(&self, time: &ApprovedTime, _cx: &mut StepContext) -> StepResult {
//!         tracing::info!(hours = %time.hours, "recorded");
//!         Ok(())
//!     }
//! }
//!
//! let pipeline = Pipeline::builder("approved-time", Arc::new(MemoryStore::new()))
//!     .step(validate_message("at-most-a-day", |time: &ApprovedTime| {
//!         if time.hours > Decimal::from(24) {
//!             return Err(Stop::held("too_many_hours", serde_json::json!({"hours": time.hours})));
//!         }
//!         Ok(())
//!     }))
//!     .step(typed(Record))
//!     .build();
//! # let _ = pipeline;
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::envelope::JsonEnvelope;
use crate::step::{Step, StepContext, StepResult, Stop};

/// A step over messages of type `M`: it receives the message decoded, and the context.
///
/// Like every [`Step`], it may run more than once for the same message (after a crash, a lost
/// reply or a retry): create through [`crate::effect`], and check the target's state before
/// acting on it.
#[async_trait]
pub trait TypedStep<M>: Send + Sync {
    /// The step's name, for traces, metrics and the audit trail: by default the name of the
    /// step's type (without its module path).
    fn name(&self) -> &str {
        short_type_name::<Self>()
    }

    /// Runs the step on `message`: `Ok(())` when it did its part, a [`Stop`] to end the attempt.
    async fn run(&self, message: &M, cx: &mut StepContext) -> StepResult;
}

/// The name of a type without its module path (`Record` for `my_app::steps::Record`).
fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// A [`TypedStep`] as a pipeline [`Step`]; see [`typed`].
pub struct Typed<M, T> {
    step: T,
    _message: PhantomData<fn() -> M>,
}

impl<M, T> fmt::Debug for Typed<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Typed")
            .field("step", &short_type_name::<T>())
            .field("message", &short_type_name::<M>())
            .finish()
    }
}

/// Runs `step` on each message decoded as `M` (decoded once per attempt, shared by every typed
/// step of the attempt).
pub fn typed<M, T>(step: T) -> Typed<M, T>
where
    M: DeserializeOwned + Send + Sync + 'static,
    T: TypedStep<M>,
{
    Typed {
        step,
        _message: PhantomData,
    }
}

/// The message of an attempt decoded as `M`, kept in the state so that the steps after the first
/// do not decode it again.
struct Decoded<M>(Arc<M>);

/// The message of `cx` as `M`: decoded once per attempt (kept in the context's state), or a
/// terminal failure naming the field that did not decode.
///
/// ```
/// use odoo_connect_sync::step::StepResult;
/// # fn f(cx: &mut odoo_connect_sync::step::StepContext) -> StepResult {
/// #[derive(serde::Deserialize)]
/// struct ApprovedTime { hours: rust_decimal::Decimal }
/// let time = odoo_connect_sync::typed::message::<ApprovedTime>(cx)?;
/// # let _ = time; Ok(()) }
/// ```
pub fn message<M>(cx: &mut StepContext) -> StepResult<Arc<M>>
where
    M: DeserializeOwned + Send + Sync + 'static,
{
    if let Some(Decoded(m)) = cx.state.get::<Decoded<M>>() {
        return Ok(Arc::clone(m));
    }
    let m = Arc::new(decode::<M>(&cx.envelope)?);
    cx.state.insert(Decoded(Arc::clone(&m)));
    Ok(m)
}

/// The payload of `envelope` as `M`, or the failure that sends it to the dead letters.
fn decode<M: DeserializeOwned>(envelope: &JsonEnvelope) -> StepResult<M> {
    serde_path_to_error::deserialize::<_, M>(&envelope.payload).map_err(|e| {
        Stop::bad_data(
            &format!(
                "the message is not a {} (at `{}`)",
                short_type_name::<M>(),
                e.path()
            ),
            e.inner(),
        )
    })
}

#[async_trait]
impl<M, T> Step for Typed<M, T>
where
    M: DeserializeOwned + Send + Sync + 'static,
    T: TypedStep<M>,
{
    fn name(&self) -> &str {
        self.step.name()
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let m = message::<M>(cx)?;
        self.step.run(&m, cx).await
    }
}

/// A policy gate over `&M`; see [`validate_message`].
pub struct ValidateMessage<M, F> {
    name: String,
    check: F,
    _message: PhantomData<fn() -> M>,
}

impl<M, F> fmt::Debug for ValidateMessage<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidateMessage")
            .field("name", &self.name)
            .finish()
    }
}

/// A policy gate from a function of the decoded message: `Ok(())` lets it through, `Err(stop)`
/// stops it (usually [`Stop::held`]).
pub fn validate_message<M, F>(name: impl Into<String>, check: F) -> ValidateMessage<M, F>
where
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&M) -> StepResult + Send + Sync,
{
    ValidateMessage {
        name: name.into(),
        check,
        _message: PhantomData,
    }
}

#[async_trait]
impl<M, F> Step for ValidateMessage<M, F>
where
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&M) -> StepResult + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let m = message::<M>(cx)?;
        (self.check)(&m)
    }
}

/// A transform over `&M`; see [`transform_message`].
pub struct TransformMessage<M, F, T> {
    name: String,
    f: F,
    _types: PhantomData<fn(M) -> T>,
}

impl<M, F, T> fmt::Debug for TransformMessage<M, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransformMessage")
            .field("name", &self.name)
            .field("output", &short_type_name::<T>())
            .finish()
    }
}

/// A transform from a function of the decoded message; its output is stored in the step state,
/// where later steps read it by type (`cx.state.require::<T>()?`).
pub fn transform_message<M, F, T>(name: impl Into<String>, f: F) -> TransformMessage<M, F, T>
where
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&M) -> StepResult<T> + Send + Sync,
    T: Send + Sync + 'static,
{
    TransformMessage {
        name: name.into(),
        f,
        _types: PhantomData,
    }
}

#[async_trait]
impl<M, F, T> Step for TransformMessage<M, F, T>
where
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(&M) -> StepResult<T> + Send + Sync,
    T: Send + Sync + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let m = message::<M>(cx)?;
        let value = (self.f)(&m)?;
        cx.state.insert(value);
        Ok(())
    }
}

/// A step from an async closure over shared dependencies and the decoded message; see
/// [`step_with`].
pub struct StepWith<D, M, F> {
    name: String,
    deps: Arc<D>,
    f: F,
    _message: PhantomData<fn() -> M>,
}

impl<D, M, F> fmt::Debug for StepWith<D, M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepWith")
            .field("name", &self.name)
            .field("message", &short_type_name::<M>())
            .finish()
    }
}

/// A step from an async closure that receives the step's dependencies (`deps`, shared: an Odoo
/// client, a connector) and the message decoded as `M`, both as [`Arc`]s it may keep: no clone
/// before the `async` block and no `Box::pin`. For a step that needs the context too (an
/// exactly-once effect, the state), implement [`TypedStep`].
///
/// ```
/// use std::sync::Arc;
/// use odoo_connect_sync::pipeline::Pipeline;
/// use odoo_connect_sync::step::Stop;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::typed::step_with;
///
/// #[derive(serde::Deserialize)]
/// struct ApprovedTime { project: String }
///
/// /// What the step needs (an Odoo client, a connector...).
/// struct Projects { open: Vec<String> }
///
/// let projects = Projects { open: vec!["internal".into()] };
/// let pipeline = Pipeline::builder("approved-time", Arc::new(MemoryStore::new()))
///     .step(step_with("open-project", projects, |projects, time: Arc<ApprovedTime>| async move {
///         if !projects.open.contains(&time.project) {
///             return Err(Stop::held("project_closed", serde_json::json!({"project": time.project})));
///         }
///         Ok(())
///     }))
///     .build();
/// # let _ = pipeline;
/// ```
pub fn step_with<D, M, F, Fut>(name: impl Into<String>, deps: D, f: F) -> StepWith<D, M, F>
where
    D: Send + Sync + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(Arc<D>, Arc<M>) -> Fut + Send + Sync,
    Fut: Future<Output = StepResult> + Send + 'static,
{
    StepWith {
        name: name.into(),
        deps: Arc::new(deps),
        f,
        _message: PhantomData,
    }
}

#[async_trait]
impl<D, M, F, Fut> Step for StepWith<D, M, F>
where
    D: Send + Sync + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    F: Fn(Arc<D>, Arc<M>) -> Fut + Send + Sync,
    Fut: Future<Output = StepResult> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let m = message::<M>(cx)?;
        (self.f)(Arc::clone(&self.deps), m).await
    }
}

/// A step that produces a value for the steps after it from an async closure over shared
/// dependencies and the decoded message; see [`transform_with`].
pub struct TransformWith<D, M, T, F> {
    name: String,
    deps: Arc<D>,
    f: F,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<D, M, T, F> fmt::Debug for TransformWith<D, M, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransformWith")
            .field("name", &self.name)
            .field("message", &short_type_name::<M>())
            .field("output", &short_type_name::<T>())
            .finish()
    }
}

/// The async form of [`transform_message`]: a closure over shared dependencies (an Odoo client,
/// a connector) and the decoded message whose output is stored in the step state by its type,
/// for the steps after it (`cx.state.require::<T>()`). No clone before the `async` block, no
/// `Box::pin`, and no context to borrow.
///
/// ```
/// use std::sync::Arc;
/// use odoo_connect_sync::pipeline::Pipeline;
/// use odoo_connect_sync::step::Stop;
/// use odoo_connect_sync::store::memory::MemoryStore;
/// use odoo_connect_sync::typed::transform_with;
///
/// #[derive(serde::Deserialize)]
/// struct ApprovedTime { employee: String }
///
/// /// The Odoo employee of a time entry, for the step that records it.
/// struct EmployeeId(i64);
///
/// /// A directory the step asks (in real life, an Odoo client or an HR connector).
/// struct Directory { ids: std::collections::HashMap<String, i64> }
///
/// let directory = Directory { ids: [("jane".to_owned(), 7)].into() };
/// let pipeline = Pipeline::builder("approved-time", Arc::new(MemoryStore::new()))
///     .step(transform_with("employee", directory, |dir, time: Arc<ApprovedTime>| async move {
///         match dir.ids.get(&time.employee) {
///             Some(id) => Ok(EmployeeId(*id)),
///             None => Err(Stop::held("unknown_employee", serde_json::json!({"employee": time.employee}))),
///         }
///     }))
///     .build();
/// # let _ = pipeline;
/// ```
pub fn transform_with<D, M, T, F, Fut>(
    name: impl Into<String>,
    deps: D,
    f: F,
) -> TransformWith<D, M, T, F>
where
    D: Send + Sync + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    T: Send + Sync + 'static,
    F: Fn(Arc<D>, Arc<M>) -> Fut + Send + Sync,
    Fut: Future<Output = StepResult<T>> + Send + 'static,
{
    TransformWith {
        name: name.into(),
        deps: Arc::new(deps),
        f,
        _types: PhantomData,
    }
}

#[async_trait]
impl<D, M, T, F, Fut> Step for TransformWith<D, M, T, F>
where
    D: Send + Sync + 'static,
    M: DeserializeOwned + Send + Sync + 'static,
    T: Send + Sync + 'static,
    F: Fn(Arc<D>, Arc<M>) -> Fut + Send + Sync,
    Fut: Future<Output = StepResult<T>> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        let m = message::<M>(cx)?;
        let value = (self.f)(Arc::clone(&self.deps), m).await?;
        cx.state.insert(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Envelope, IdempotencyKey};
    use crate::pipeline::Pipeline;
    use crate::store::memory::MemoryStore;

    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct Time {
        hours: rust_decimal::Decimal,
    }

    async fn run(payload: serde_json::Value) -> crate::pipeline::RunReport {
        let store = Arc::new(MemoryStore::new());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let pipeline = Pipeline::builder("typed", store)
            .step(validate_message("at-most-a-day", |t: &Time| {
                if t.hours > rust_decimal::Decimal::from(24) {
                    return Err(Stop::held("too_many_hours", serde_json::json!({})));
                }
                Ok(())
            }))
            .step(step_with(
                "record",
                seen.clone(),
                |seen, t: Arc<Time>| async move {
                    seen.lock()
                        .map_err(|_| Stop::retry("poisoned"))?
                        .push(t.hours);
                    Ok(())
                },
            ))
            .build();
        let key = IdempotencyKey::new("time:1").expect("a key");
        let env = Envelope::builder(key, payload)
            .source("test")
            .legal_entity("firm-eu".parse().expect("a legal entity"))
            .build()
            .expect("an envelope");
        pipeline.submit(&env).await.expect("queued");
        let report = pipeline.run_until_idle("w").await.expect("runs");
        let recorded = seen.lock().map(|s| s.len()).unwrap_or(0);
        assert_eq!(recorded as u64, report.done);
        report
    }

    #[tokio::test]
    async fn an_async_transform_hands_its_output_to_the_next_step() {
        struct Doubled(rust_decimal::Decimal);
        let store = Arc::new(MemoryStore::new());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen_by_step = seen.clone();
        let pipeline = Pipeline::builder("transform-with", store)
            .step(transform_with(
                "double",
                rust_decimal::Decimal::from(2),
                |factor, t: Arc<Time>| async move { Ok(Doubled(t.hours * *factor)) },
            ))
            .step(crate::step::from_fn("record", move |cx| {
                let seen = seen_by_step.clone();
                Box::pin(async move {
                    let doubled = cx.state.require::<Doubled>()?.0;
                    seen.lock()
                        .map_err(|_| Stop::retry("poisoned"))?
                        .push(doubled);
                    Ok(())
                })
            }))
            .build();
        let key = IdempotencyKey::new("time:2").expect("a key");
        let env = Envelope::builder(key, serde_json::json!({"hours": "3.5"}))
            .source("test")
            .legal_entity("firm-eu".parse().expect("a legal entity"))
            .build()
            .expect("an envelope");
        pipeline.submit(&env).await.expect("queued");
        let report = pipeline.run_until_idle("w").await.expect("runs");
        assert_eq!(report.done, 1);
        let recorded = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(recorded, [rust_decimal::Decimal::new(70, 1)]);
    }

    #[tokio::test]
    async fn typed_steps_see_the_decoded_message() {
        let r = run(serde_json::json!({"hours": "7.5"})).await;
        assert_eq!((r.done, r.held, r.failed), (1, 0, 0));
        let r = run(serde_json::json!({"hours": "30"})).await;
        assert_eq!((r.done, r.held, r.failed), (0, 1, 0));
    }

    #[tokio::test]
    async fn a_payload_that_does_not_decode_fails_with_its_path() {
        let store = Arc::new(MemoryStore::new());
        let pipeline = Pipeline::builder("typed", store.clone())
            .step(validate_message("any", |_t: &Time| Ok(())))
            .build();
        let env = Envelope::builder(
            IdempotencyKey::new("time:2").expect("a key"),
            serde_json::json!({"hours": "many"}),
        )
        .source("test")
        .legal_entity("firm-eu".parse().expect("a legal entity"))
        .build()
        .expect("an envelope");
        pipeline.submit(&env).await.expect("queued");
        let report = pipeline.run_until_idle("w").await.expect("runs");
        assert_eq!(report.failed, 1);
        let letters = crate::store::DeadLetters::list_dead_letters(
            store.as_ref(),
            &crate::store::DeadLetterFilter::all(),
        )
        .await
        .expect("letters");
        let reason = &letters[0].failure.reason;
        assert!(
            reason.contains("not a Time") && reason.contains("`hours`"),
            "{reason}"
        );
    }
}
