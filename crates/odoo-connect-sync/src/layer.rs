//! Cross-cutting behaviour around steps, as composable layers in the style of tower: a
//! [`Layer`] wraps a step in another step. The pipeline applies its layers to every step
//! ([`PipelineBuilder::layer`](crate::pipeline::PipelineBuilder::layer)); [`Layered`] applies
//! them to one.
//!
//! - [`TimeoutLayer`]: a step that does not finish in time is stopped and the message retried
//!   (steps are idempotent, so the next attempt finishes what this one started);
//! - [`RateLimitLayer`]: at most `n` step runs per period across every step it wraps and every
//!   worker of the pipeline in this process (one budget shared by its clones), for a target system's
//!   request allowance;
//! - [`GateLayer`]: a policy gate checked before the step runs (a business hold, a skip);
//! - [`layer_fn`]: a layer from a function, for behaviour of your own.
//!
//! The pipeline's own tracing span per step (`sync.step`, with its outcome) and the audit of every
//! outcome stay in the worker: they are what makes a run explainable, not an option.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use odoo_connect_sync::layer::{GateLayer, RateLimitLayer, TimeoutLayer};
//! use odoo_connect_sync::pipeline::Pipeline;
//! use odoo_connect_sync::step::{Stop, from_fn};
//! use odoo_connect_sync::store::memory::MemoryStore;
//!
//! let pipeline = Pipeline::builder("approved-time", Arc::new(MemoryStore::new()))
//!     // Outermost first: the gate, then the rate limit, then the timeout around each step.
//!     .layer(GateLayer::new(|env| {
//!         if env.legal_entity.as_str() == "firm-frozen" {
//!             return Err(Stop::held("entity_frozen", serde_json::json!({})));
//!         }
//!         Ok(())
//!     }))
//!     .layer(RateLimitLayer::new(10, Duration::from_secs(1)))
//!     .layer(TimeoutLayer::new(Duration::from_secs(30)))
//!     .step(from_fn("apply", |_cx| Box::pin(async { Ok(()) })))
//!     .build();
//! # let _ = pipeline;
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::envelope::JsonEnvelope;
use crate::step::{Step, StepContext, StepResult, Stop};

/// Wraps a step in another step.
pub trait Layer: Send + Sync {
    /// The step `inner` with this layer's behaviour around it.
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step>;
}

impl<L: Layer + ?Sized> Layer for Arc<L> {
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step> {
        (**self).layer(inner)
    }
}

/// A step with layers around it: `Layered::new(step).layer(a).layer(b)` runs `a` outside `b`
/// outside the step.
pub struct Layered {
    step: Arc<dyn Step>,
    layers: Vec<Arc<dyn Layer>>,
}

impl fmt::Debug for Layered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layered")
            .field("step", &self.step.name())
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Layered {
    /// `step` with no layer yet.
    pub fn new(step: impl Step + 'static) -> Self {
        Layered {
            step: Arc::new(step),
            layers: Vec::new(),
        }
    }

    /// Adds a layer inside the ones added before.
    pub fn layer(mut self, layer: impl Layer + 'static) -> Self {
        self.layers.push(Arc::new(layer));
        self
    }

    /// The step with its layers applied.
    pub fn into_step(self) -> Arc<dyn Step> {
        apply(&self.layers, self.step)
    }
}

/// `step` inside `layers`, the first the outermost.
pub(crate) fn apply(layers: &[Arc<dyn Layer>], step: Arc<dyn Step>) -> Arc<dyn Step> {
    layers
        .iter()
        .rev()
        .fold(step, |inner, layer| layer.layer(inner))
}

// ---------------------------------------------------------------------------------------------
// Timeout
// ---------------------------------------------------------------------------------------------

/// Stops a step that runs longer than a limit, as [`Stop::Retry`]; see the [module](self).
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    after: Duration,
}

impl TimeoutLayer {
    /// Each step has `after` to finish.
    pub fn new(after: Duration) -> Self {
        TimeoutLayer { after }
    }
}

impl Layer for TimeoutLayer {
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step> {
        Arc::new(Timeout {
            inner,
            after: self.after,
        })
    }
}

struct Timeout {
    inner: Arc<dyn Step>,
    after: Duration,
}

#[async_trait]
impl Step for Timeout {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        match tokio::time::timeout(self.after, self.inner.run(cx)).await {
            Ok(result) => result,
            Err(_) => Err(Stop::retry(format!(
                "the step {} did not finish within {} ms",
                self.inner.name(),
                self.after.as_millis()
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limit
// ---------------------------------------------------------------------------------------------

/// At most `n` step runs per period, evenly spaced, shared by every step the layer (and its
/// clones) wraps; a run over the budget waits for its turn. See the [module](self).
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    every: Duration,
    next: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

impl RateLimitLayer {
    /// `n` runs per `period` (`n` of 0 is taken as 1).
    pub fn new(n: u32, period: Duration) -> Self {
        RateLimitLayer {
            every: period / n.max(1),
            next: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// Waits for the next slot and takes it.
    async fn acquire(&self) {
        let wait_until = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(at) if at > now => at,
                _ => now,
            };
            *next = Some(slot + self.every);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }
}

impl Layer for RateLimitLayer {
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step> {
        Arc::new(RateLimited {
            inner,
            limit: self.clone(),
        })
    }
}

struct RateLimited {
    inner: Arc<dyn Step>,
    limit: RateLimitLayer,
}

#[async_trait]
impl Step for RateLimited {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        self.limit.acquire().await;
        self.inner.run(cx).await
    }
}

// ---------------------------------------------------------------------------------------------
// Gate
// ---------------------------------------------------------------------------------------------

/// A policy checked before the step: `Ok(())` runs it, a [`Stop`] ends the attempt instead
/// (usually [`Stop::held`]). See the [module](self).
pub struct GateLayer<F> {
    check: Arc<F>,
}

impl<F> fmt::Debug for GateLayer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateLayer").finish_non_exhaustive()
    }
}

impl<F> Clone for GateLayer<F> {
    fn clone(&self) -> Self {
        GateLayer {
            check: Arc::clone(&self.check),
        }
    }
}

impl<F> GateLayer<F>
where
    F: Fn(&JsonEnvelope) -> StepResult + Send + Sync + 'static,
{
    /// A gate from a check of the message.
    pub fn new(check: F) -> Self {
        GateLayer {
            check: Arc::new(check),
        }
    }
}

impl<F> Layer for GateLayer<F>
where
    F: Fn(&JsonEnvelope) -> StepResult + Send + Sync + 'static,
{
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step> {
        Arc::new(Gated {
            inner,
            check: Arc::clone(&self.check),
        })
    }
}

struct Gated<F> {
    inner: Arc<dyn Step>,
    check: Arc<F>,
}

#[async_trait]
impl<F> Step for Gated<F>
where
    F: Fn(&JsonEnvelope) -> StepResult + Send + Sync + 'static,
{
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn run(&self, cx: &mut StepContext) -> StepResult {
        (self.check)(&cx.envelope)?;
        self.inner.run(cx).await
    }
}

// ---------------------------------------------------------------------------------------------
// From a function
// ---------------------------------------------------------------------------------------------

/// A layer from a function of the inner step; see [`layer_fn`].
pub struct LayerFn<F>(F);

impl<F> fmt::Debug for LayerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerFn").finish_non_exhaustive()
    }
}

/// A layer from a function that wraps a step in a step of your own.
pub fn layer_fn<F>(f: F) -> LayerFn<F>
where
    F: Fn(Arc<dyn Step>) -> Arc<dyn Step> + Send + Sync,
{
    LayerFn(f)
}

impl<F> Layer for LayerFn<F>
where
    F: Fn(Arc<dyn Step>) -> Arc<dyn Step> + Send + Sync,
{
    fn layer(&self, inner: Arc<dyn Step>) -> Arc<dyn Step> {
        (self.0)(inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::from_fn;
    use crate::store::memory::MemoryStore;
    use crate::store::{AuditLog, IdempotencyLedger};

    fn cx() -> StepContext {
        let store = Arc::new(MemoryStore::new());
        let env = crate::envelope::Envelope::builder(
            crate::envelope::IdempotencyKey::new("k").expect("a key"),
            serde_json::json!({}),
        )
        .source("test")
        .legal_entity("firm-eu".parse().expect("a legal entity"))
        .build()
        .expect("an envelope");
        let ledger: Arc<dyn IdempotencyLedger> = store.clone();
        let audit: Arc<dyn AuditLog> = store;
        StepContext::new(env, 0, ledger, audit)
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_over_its_time_is_retried() {
        let slow = Layered::new(from_fn("slow", |_cx| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
        }))
        .layer(TimeoutLayer::new(Duration::from_secs(5)))
        .into_step();
        let result = slow.run(&mut cx()).await;
        assert_eq!(result.map_err(|s| s.label()), Err("retry"));
        assert_eq!(slow.name(), "slow");
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_spaces_runs_across_steps() {
        let limit = RateLimitLayer::new(2, Duration::from_secs(1));
        let a = limit.layer(Arc::new(from_fn("a", |_cx| Box::pin(async { Ok(()) }))));
        let b = limit.layer(Arc::new(from_fn("b", |_cx| Box::pin(async { Ok(()) }))));
        let start = Instant::now();
        for step in [&a, &b, &a, &b, &a] {
            step.run(&mut cx()).await.expect("runs");
        }
        // Five runs at two per second share one budget: the fifth starts at 2 s.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_gate_stops_before_the_step_runs() {
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = ran.clone();
        let step = Layered::new(from_fn("apply", move |_cx| {
            let seen = seen.clone();
            Box::pin(async move {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
        }))
        .layer(GateLayer::new(|env: &JsonEnvelope| {
            if env.legal_entity.as_str() == "firm-eu" {
                return Err(Stop::held("entity_frozen", serde_json::json!({})));
            }
            Ok(())
        }))
        .into_step();
        let result = step.run(&mut cx()).await;
        assert_eq!(result.map_err(|s| s.label()), Err("held"));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
