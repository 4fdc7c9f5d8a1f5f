//! [`FaultProxy`]: a small HTTP proxy on `127.0.0.1:0` between the SDK and a server (a
//! [`FakeOdoo`](crate::FakeOdoo), a connector's fake) that injects the failures of a bad hour on
//! the network, on a seeded schedule.
//!
//! | [`Fault`] | what the client sees | did the server execute the request? |
//! |---|---|---|
//! | [`ResetBeforeForward`](Fault::ResetBeforeForward) | the connection reset, no reply | no |
//! | [`ResetAfterForward`](Fault::ResetAfterForward) | the connection reset, no reply | yes: the reply is lost |
//! | [`CutMidBody`](Fault::CutMidBody) | the status and headers, half the body, then a reset | yes |
//! | [`Stall`](Fault::Stall) | nothing until [`FaultPlan::stall_for`] (past the client's timeout) | yes |
//! | [`BadGateway`](Fault::BadGateway), [`ServiceUnavailable`](Fault::ServiceUnavailable), [`GatewayTimeout`](Fault::GatewayTimeout) | 502 / 503 / 504 with an HTML page, as a reverse proxy answers | no |
//! | [`TooManyRequests`](Fault::TooManyRequests) | 429 without `Retry-After` | no |
//! | [`TooManyRequestsRetryAfter`](Fault::TooManyRequestsRetryAfter) | 429 with `Retry-After` ([`FaultPlan::retry_after_secs`]) | no |
//! | [`Duplicate`](Fault::Duplicate) | the reply of the first delivery | twice |
//!
//! Which request gets which fault is decided by a [`FaultPlan`]: a probability per fault drawn
//! from a small deterministic generator seeded by the plan's seed and the request's index (the
//! same seed gives the same fault to the same request index, whatever the timing), and/or an
//! explicit script of faults by request index. Every fault injected is counted by kind
//! ([`FaultProxy::stats`]) and listed with the call it hit ([`FaultProxy::injected`]); the proxy
//! can be switched to pass-through ([`FaultProxy::set_pass_through`]), for instance while a
//! client opens its session.
//!
//! ```
//! use odoo_connect_fake::FakeOdoo;
//! use odoo_connect_fake::fault_proxy::{Fault, FaultPlan, FaultProxy};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fake = FakeOdoo::start().await;
//! // The first request is answered 503; then one request in five fails at random.
//! let plan = FaultPlan::seeded(7)
//!     .spread(0.2, &[Fault::BadGateway, Fault::ResetAfterForward, Fault::Duplicate])
//!     .at(0, Fault::ServiceUnavailable);
//! let proxy = FaultProxy::start(&fake.url(), plan).await?;
//! let reply = reqwest::get(format!("{}/web/health", proxy.url())).await;
//! assert_eq!(reply.map(|r| r.status().as_u16()).ok(), Some(503));
//! assert_eq!(proxy.stats().get(Fault::ServiceUnavailable), 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};

/// A failure the proxy injects into one request; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The connection is reset before the request is forwarded: the server never sees it.
    ResetBeforeForward,
    /// The request is forwarded and executed, then the connection is reset: the reply is lost.
    ResetAfterForward,
    /// The reply's status, headers (with the full `Content-Length`) and half of its body are sent,
    /// then the connection is reset.
    CutMidBody,
    /// The request is forwarded and executed; the reply is held for [`FaultPlan::stall_for`],
    /// longer than the client waits.
    Stall,
    /// `502 Bad Gateway` with an HTML page; not forwarded.
    BadGateway,
    /// `503 Service Unavailable` with an HTML page; not forwarded.
    ServiceUnavailable,
    /// `504 Gateway Timeout` with an HTML page; not forwarded.
    GatewayTimeout,
    /// `429 Too Many Requests` without `Retry-After`; not forwarded.
    TooManyRequests,
    /// `429 Too Many Requests` with `Retry-After` ([`FaultPlan::retry_after_secs`]); not forwarded.
    TooManyRequestsRetryAfter,
    /// The request is forwarded twice (a redelivery); the client gets the first reply.
    Duplicate,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 10] = [
        Fault::ResetBeforeForward,
        Fault::ResetAfterForward,
        Fault::CutMidBody,
        Fault::Stall,
        Fault::BadGateway,
        Fault::ServiceUnavailable,
        Fault::GatewayTimeout,
        Fault::TooManyRequests,
        Fault::TooManyRequestsRetryAfter,
        Fault::Duplicate,
    ];

    /// A short stable name (`reset_before`, `cut_body`, `http_502`...).
    pub fn name(self) -> &'static str {
        match self {
            Fault::ResetBeforeForward => "reset_before",
            Fault::ResetAfterForward => "reset_after",
            Fault::CutMidBody => "cut_body",
            Fault::Stall => "stall",
            Fault::BadGateway => "http_502",
            Fault::ServiceUnavailable => "http_503",
            Fault::GatewayTimeout => "http_504",
            Fault::TooManyRequests => "http_429",
            Fault::TooManyRequestsRetryAfter => "http_429_ra",
            Fault::Duplicate => "duplicate",
        }
    }

    /// Whether the client sees the call fail (every fault but [`Fault::Duplicate`], whose client
    /// gets a normal reply).
    pub fn fails_the_call(self) -> bool {
        !matches!(self, Fault::Duplicate)
    }

    /// Whether the server executes the request (once, or twice for [`Fault::Duplicate`]).
    pub fn reaches_upstream(self) -> bool {
        matches!(
            self,
            Fault::ResetAfterForward | Fault::CutMidBody | Fault::Stall | Fault::Duplicate
        )
    }

    fn status(self) -> Option<u16> {
        match self {
            Fault::BadGateway => Some(502),
            Fault::ServiceUnavailable => Some(503),
            Fault::GatewayTimeout => Some(504),
            Fault::TooManyRequests | Fault::TooManyRequestsRetryAfter => Some(429),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which request gets which fault: probabilities drawn per request index from a seed, and an
/// explicit script by request index (the script wins). The request index counts the requests
/// the proxy received since the plan was set, from 0.
///
/// ```
/// use odoo_connect_fake::fault_proxy::{Fault, FaultPlan};
/// let plan = FaultPlan::seeded(42).probability(Fault::Stall, 0.5).at(3, Fault::Duplicate);
/// assert_eq!(plan.fault_for(3), Some(Fault::Duplicate));
/// // Deterministic: the same seed gives the same schedule.
/// let again = FaultPlan::seeded(42).probability(Fault::Stall, 0.5);
/// assert_eq!(plan.fault_for(10), again.fault_for(10));
/// let stalls = (0..1000).filter(|&i| plan.fault_for(i) == Some(Fault::Stall)).count();
/// assert!((400..600).contains(&stalls), "{stalls}");
/// assert_eq!(FaultPlan::none().fault_for(0), None);
/// ```
#[derive(Debug, Clone)]
pub struct FaultPlan {
    seed: u64,
    weights: Vec<(Fault, f64)>,
    script: BTreeMap<u64, Fault>,
    exceptions: Vec<(Fault, String)>,
    stall_for: Duration,
    retry_after_secs: u64,
    limit: Option<u64>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::none()
    }
}

impl FaultPlan {
    /// No faults: every request passes.
    pub fn none() -> FaultPlan {
        FaultPlan::seeded(0)
    }

    /// A plan drawing its random faults from `seed` (add them with [`FaultPlan::probability`]
    /// or [`FaultPlan::spread`]).
    pub fn seeded(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            weights: Vec::new(),
            script: BTreeMap::new(),
            exceptions: Vec::new(),
            stall_for: Duration::from_secs(2),
            retry_after_secs: 1,
            limit: None,
        }
    }

    /// A plan of exactly these faults at these request indexes, and no random ones.
    pub fn script(faults: impl IntoIterator<Item = (u64, Fault)>) -> FaultPlan {
        faults
            .into_iter()
            .fold(FaultPlan::none(), |p, (i, f)| p.at(i, f))
    }

    /// Gives each request the probability `p` (0 to 1) of getting `fault`. The probabilities of
    /// all faults add up to at most 1 (those past 1 are never drawn).
    pub fn probability(mut self, fault: Fault, p: f64) -> FaultPlan {
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.weights.retain(|(f, _)| *f != fault);
        if p > 0.0 {
            self.weights.push((fault, p));
        }
        self
    }

    /// Gives each request the probability `total` of getting one of `faults`, each equally
    /// likely.
    pub fn spread(self, total: f64, faults: &[Fault]) -> FaultPlan {
        if faults.is_empty() {
            return self;
        }
        let each = total / faults.len() as f64;
        faults
            .iter()
            .fold(self, |plan, f| plan.probability(*f, each))
    }

    /// Gives the request of index `index` the fault `fault`, whatever the probabilities.
    pub fn at(mut self, index: u64, fault: Fault) -> FaultPlan {
        self.script.insert(index, fault);
        self
    }

    /// Never injects `fault` into the call `call` (`model.method`, as in
    /// [`InjectedFault::call`]): a request drawn for it passes instead. For a known weakness
    /// that another test covers, so that the rest of a schedule stays meaningful.
    pub fn except(mut self, fault: Fault, call: impl Into<String>) -> FaultPlan {
        self.exceptions.push((fault, call.into()));
        self
    }

    fn is_excepted(&self, fault: Fault, call: &str) -> bool {
        self.exceptions
            .iter()
            .any(|(f, c)| *f == fault && c == call)
    }

    /// How long a [`Fault::Stall`] holds the reply (2 s unless set): make it longer than the
    /// client's timeout.
    pub fn stall_for(mut self, d: Duration) -> FaultPlan {
        self.stall_for = d;
        self
    }

    /// The `Retry-After` of [`Fault::TooManyRequestsRetryAfter`], in seconds (1 unless set).
    pub fn retry_after_secs(mut self, secs: u64) -> FaultPlan {
        self.retry_after_secs = secs;
        self
    }

    /// Injects at most `n` faults under this plan; later requests pass.
    pub fn limit(mut self, n: u64) -> FaultPlan {
        self.limit = Some(n);
        self
    }

    /// The fault the request of index `index` gets, if any (the [`limit`](FaultPlan::limit)
    /// aside).
    pub fn fault_for(&self, index: u64) -> Option<Fault> {
        if let Some(f) = self.script.get(&index) {
            return Some(*f);
        }
        if self.weights.is_empty() {
            return None;
        }
        let draw = unit(splitmix64(
            self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let mut acc = 0.0;
        for (fault, p) in &self.weights {
            acc += p;
            if draw < acc {
                return Some(*fault);
            }
        }
        None
    }
}

/// SplitMix64: a small, well-mixed generator; one step per draw is enough here.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `[0, 1)` from 53 random bits.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// What the proxy did, counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultStats {
    /// Requests received.
    pub requests: u64,
    /// Requests delivered to the server (a duplicated request counts twice).
    pub forwarded: u64,
    /// Requests that passed without a fault.
    pub passed: u64,
    /// Requests the server could not be reached for (answered 502, not counted as faults).
    pub upstream_errors: u64,
    by_fault: BTreeMap<Fault, u64>,
}

impl FaultStats {
    /// Faults of kind `fault` injected.
    pub fn get(&self, fault: Fault) -> u64 {
        self.by_fault.get(&fault).copied().unwrap_or(0)
    }

    /// Faults injected, of every kind.
    pub fn total(&self) -> u64 {
        self.by_fault.values().sum()
    }

    /// Faults the client saw as a failed call (every kind but [`Fault::Duplicate`]).
    pub fn failed_calls(&self) -> u64 {
        self.by_fault
            .iter()
            .filter(|(f, _)| f.fails_the_call())
            .map(|(_, n)| n)
            .sum()
    }

    /// Every kind with its count (zero included), in the order of [`Fault::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (Fault, u64)> + '_ {
        Fault::ALL.into_iter().map(|f| (f, self.get(f)))
    }

    /// What happened between `earlier` (a snapshot of the same proxy) and `self`.
    pub fn since(&self, earlier: &FaultStats) -> FaultStats {
        FaultStats {
            requests: self.requests.saturating_sub(earlier.requests),
            forwarded: self.forwarded.saturating_sub(earlier.forwarded),
            passed: self.passed.saturating_sub(earlier.passed),
            upstream_errors: self.upstream_errors.saturating_sub(earlier.upstream_errors),
            by_fault: Fault::ALL
                .into_iter()
                .map(|f| (f, self.get(f).saturating_sub(earlier.get(f))))
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }
}

impl fmt::Display for FaultStats {
    /// `requests=12 forwarded=11 reset_before=1 http_502=2`: the counters and each fault
    /// injected at least once.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "requests={} forwarded={}", self.requests, self.forwarded)?;
        for (fault, n) in self.iter().filter(|(_, n)| *n > 0) {
            write!(f, " {fault}={n}")?;
        }
        Ok(())
    }
}

/// One fault injected: the request's index under its plan, the fault, and the call it hit
/// (`model.method` for Odoo's JSON-RPC and JSON-2, else `METHOD /path`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InjectedFault {
    /// The request's index under the plan that was in force.
    pub index: u64,
    /// The fault.
    pub fault: Fault,
    /// The call it hit.
    pub call: String,
}

#[derive(Debug)]
struct Shared {
    upstream: reqwest::Url,
    http: reqwest::Client,
    plan: Mutex<FaultPlan>,
    pass_through: AtomicBool,
    index: AtomicU64,
    plan_faults: AtomicU64,
    stats: Mutex<FaultStats>,
    injected: Mutex<Vec<InjectedFault>>,
}

impl Shared {
    fn count(&self, f: impl FnOnce(&mut FaultStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The fault proxy; see the [module documentation](self).
///
/// It runs on the tokio runtime that started it until [`FaultProxy::shutdown`] or until the
/// handle is dropped. Its knobs take `&self` and act on the running proxy.
#[derive(Debug)]
pub struct FaultProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream` (a base URL such as
    /// `http://127.0.0.1:8069`) with `plan`.
    pub async fn start(upstream: &str, plan: FaultPlan) -> io::Result<FaultProxy> {
        let upstream = reqwest::Url::parse(upstream).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad upstream URL `{upstream}`: {e}"),
            )
        })?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .no_gzip()
            .build()
            .map_err(io::Error::other)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            http,
            plan: Mutex::new(plan),
            pass_through: AtomicBool::new(false),
            index: AtomicU64::new(0),
            plan_faults: AtomicU64::new(0),
            stats: Mutex::new(FaultStats::default()),
            injected: Mutex::new(Vec::new()),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, shared.clone(), stop_rx));
        Ok(FaultProxy {
            shared,
            addr,
            stop,
            task: Some(task),
        })
    }

    /// Base URL of the proxy, `http://127.0.0.1:PORT`: give it to the client instead of the
    /// server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the plan; request indexes count from 0 again.
    pub fn set_plan(&self, plan: FaultPlan) {
        *self.shared.plan.lock().unwrap_or_else(|e| e.into_inner()) = plan;
        self.shared.index.store(0, Ordering::SeqCst);
        self.shared.plan_faults.store(0, Ordering::SeqCst);
    }

    /// Switches pass-through on (every request forwarded untouched, no request index used) or
    /// off (the plan applies again).
    pub fn set_pass_through(&self, on: bool) {
        self.shared.pass_through.store(on, Ordering::SeqCst);
    }

    /// Whether the proxy passes every request through.
    pub fn is_pass_through(&self) -> bool {
        self.shared.pass_through.load(Ordering::SeqCst)
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> FaultStats {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every fault injected so far, in order.
    pub fn injected(&self) -> Vec<InjectedFault> {
        self.shared
            .injected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the proxy and waits for it to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A client connection that can be closed with a reset (`SO_LINGER` 0) rather than a FIN.
struct Conn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// How a connection is torn down by a reset fault.
#[derive(Clone)]
struct Killer {
    reset: Arc<AtomicBool>,
    kill: Arc<Notify>,
}

impl Killer {
    /// Resets the connection; never completes (the connection's task drops the request).
    async fn reset(&self) -> Result<Reply, Infallible> {
        self.reset.store(true, Ordering::SeqCst);
        self.kill.notify_one();
        std::future::pending().await
    }
}

/// The body of a reply: whole, or cut after its first half.
enum ProxyBody {
    Full(Option<Bytes>),
    Cut {
        head: Option<Bytes>,
        full_len: u64,
        pause: Pin<Box<tokio::time::Sleep>>,
    },
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ProxyBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ProxyBody::Cut { head, pause, .. } => {
                if let Some(h) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(h))));
                }
                // Let the first half reach the client before the reset.
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "reply cut by the fault proxy",
                    )))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ProxyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ProxyBody::Full(None) => SizeHint::with_exact(0),
            ProxyBody::Cut { full_len, .. } => SizeHint::with_exact(*full_len),
        }
    }
}

type Reply = Response<ProxyBody>;

/// A reply received from the server.
struct Upstream {
    status: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Upstream {
    fn into_reply(self, cut: Option<Duration>) -> Reply {
        let full_len = self.body.len() as u64;
        let body = match cut {
            None => ProxyBody::Full(Some(self.body)),
            Some(pause) => ProxyBody::Cut {
                head: Some(self.body.slice(..self.body.len() / 2)),
                full_len,
                pause: Box::pin(tokio::time::sleep(pause)),
            },
        };
        let mut r = Response::new(body);
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        for (k, v) in self.headers {
            r.headers_mut().append(k, v);
        }
        r.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(full_len));
        r
    }
}

/// Headers that belong to one connection, not to the message.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn page(status: u16, retry_after: Option<u64>) -> Reply {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let html = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut r = Response::new(ProxyBody::Full(Some(Bytes::from(html))));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    if let Some(secs) = retry_after {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// `model.method` of an Odoo call (JSON-2 path, JSON-RPC `execute_kw` or service call), else
/// `METHOD /path`.
fn call_name(method: &str, path: &str, body: &[u8]) -> String {
    if let Some(rest) = path.strip_prefix("/json/2/") {
        return rest.replacen('/', ".", 1);
    }
    if path == "/jsonrpc"
        && let Ok(v) = serde_json::from_slice::<Value>(body)
    {
        let params = &v["params"];
        let m = params["method"].as_str().unwrap_or_default();
        if m == "execute_kw" || m == "execute" {
            let model = params["args"][3].as_str().unwrap_or_default();
            let call = params["args"][4].as_str().unwrap_or_default();
            return format!("{model}.{call}");
        }
        let service = params["service"].as_str().unwrap_or_default();
        return format!("{service}.{m}");
    }
    format!("{method} {path}")
}

async fn forward(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
) -> Result<Upstream, reqwest::Error> {
    let mut url = shared.upstream.clone();
    url.set_path(parts.uri.path());
    url.set_query(parts.uri.query());
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &parts.headers {
        if !hop_by_hop(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    shared.count(|s| s.forwarded += 1);
    let reply = shared
        .http
        .request(parts.method.clone(), url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await?;
    let status = reply.status().as_u16();
    let headers = reply
        .headers()
        .iter()
        .filter(|(k, _)| !hop_by_hop(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = reply.bytes().await?;
    Ok(Upstream {
        status,
        headers,
        body,
    })
}

fn unreachable_upstream(shared: &Shared, e: &reqwest::Error) -> Reply {
    shared.count(|s| s.upstream_errors += 1);
    let mut r = Response::new(ProxyBody::Full(Some(Bytes::from(format!(
        "fault proxy: the upstream cannot be reached: {e}"
    )))));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

async fn handle(
    shared: Arc<Shared>,
    killer: Killer,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let (parts, incoming) = req.into_parts();
    let body = match incoming.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    shared.count(|s| s.requests += 1);
    let fault = if shared.pass_through.load(Ordering::SeqCst) {
        None
    } else {
        let index = shared.index.fetch_add(1, Ordering::SeqCst);
        let plan = shared
            .plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let call = call_name(parts.method.as_str(), parts.uri.path(), &body);
        let fault = plan
            .fault_for(index)
            .filter(|f| !plan.is_excepted(*f, &call));
        let fault = fault.filter(|_| {
            let injected = shared.plan_faults.fetch_add(1, Ordering::SeqCst);
            let within = plan.limit.is_none_or(|n| injected < n);
            if !within {
                shared.plan_faults.fetch_sub(1, Ordering::SeqCst);
            }
            within
        });
        match fault {
            Some(fault) => {
                shared.count(|s| *s.by_fault.entry(fault).or_insert(0) += 1);
                shared
                    .injected
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(InjectedFault { index, fault, call });
                Some((fault, plan))
            }
            None => None,
        }
    };
    let Some((fault, plan)) = fault else {
        shared.count(|s| s.passed += 1);
        return Ok(match forward(&shared, &parts, &body).await {
            Ok(up) => up.into_reply(None),
            Err(e) => unreachable_upstream(&shared, &e),
        });
    };
    if let Some(status) = fault.status() {
        let retry_after =
            (fault == Fault::TooManyRequestsRetryAfter).then_some(plan.retry_after_secs);
        return Ok(page(status, retry_after));
    }
    match fault {
        Fault::ResetBeforeForward => killer.reset().await,
        Fault::ResetAfterForward => {
            let _ = forward(&shared, &parts, &body).await;
            killer.reset().await
        }
        Fault::CutMidBody => Ok(match forward(&shared, &parts, &body).await {
            Ok(up) => up.into_reply(Some(Duration::from_millis(20))),
            Err(e) => unreachable_upstream(&shared, &e),
        }),
        Fault::Stall => {
            let up = forward(&shared, &parts, &body).await;
            tokio::time::sleep(plan.stall_for).await;
            Ok(match up {
                Ok(up) => up.into_reply(None),
                Err(e) => unreachable_upstream(&shared, &e),
            })
        }
        Fault::Duplicate => {
            let first = forward(&shared, &parts, &body).await;
            let _second = forward(&shared, &parts, &body).await;
            Ok(match first {
                Ok(up) => up.into_reply(None),
                Err(e) => unreachable_upstream(&shared, &e),
            })
        }
        // The status faults were answered above.
        _ => Ok(page(502, None)),
    }
}

/// Serves connections until `stop` flips.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                connections.spawn(async move {
                    let killer = Killer {
                        reset: Arc::new(AtomicBool::new(false)),
                        kill: Arc::new(Notify::new()),
                    };
                    let conn = Conn { stream, reset: killer.reset.clone() };
                    let kill = killer.kill.clone();
                    let service = hyper::service::service_fn(move |req| {
                        handle(shared.clone(), killer.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(conn), service);
                    tokio::select! {
                        _ = conn => {}
                        () = kill.notified() => {}
                    }
                });
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_a_function_of_seed_and_index() {
        let a = FaultPlan::seeded(1).spread(0.3, &Fault::ALL);
        let b = FaultPlan::seeded(1).spread(0.3, &Fault::ALL);
        let c = FaultPlan::seeded(2).spread(0.3, &Fault::ALL);
        let sa: Vec<_> = (0..200).map(|i| a.fault_for(i)).collect();
        let sb: Vec<_> = (0..200).map(|i| b.fault_for(i)).collect();
        let sc: Vec<_> = (0..200).map(|i| c.fault_for(i)).collect();
        assert_eq!(sa, sb);
        assert_ne!(sa, sc);
        let hit = sa.iter().filter(|f| f.is_some()).count();
        assert!((30..=90).contains(&hit), "{hit}");
        for f in Fault::ALL {
            let n = (0..20_000).filter(|&i| a.fault_for(i) == Some(f)).count();
            assert!((400..=800).contains(&n), "{f}: {n}");
        }
    }

    #[test]
    fn the_script_wins_and_probabilities_past_one_are_never_drawn() {
        let plan = FaultPlan::seeded(9)
            .probability(Fault::Stall, 1.0)
            .probability(Fault::Duplicate, 0.5)
            .at(5, Fault::CutMidBody);
        assert_eq!(plan.fault_for(5), Some(Fault::CutMidBody));
        assert!(
            (0..100)
                .filter(|&i| i != 5)
                .all(|i| plan.fault_for(i) == Some(Fault::Stall))
        );
        let plan = plan.probability(Fault::Stall, 0.0);
        assert!((0..100).any(|i| plan.fault_for(i).is_none()));
        assert_eq!(
            FaultPlan::script([(0, Fault::BadGateway)]).fault_for(1),
            None
        );
    }

    #[test]
    fn stats_subtract_and_print() {
        let mut later = FaultStats {
            requests: 10,
            forwarded: 9,
            passed: 7,
            ..FaultStats::default()
        };
        later.by_fault.insert(Fault::BadGateway, 2);
        later.by_fault.insert(Fault::Duplicate, 1);
        let mut earlier = FaultStats {
            requests: 4,
            forwarded: 4,
            passed: 3,
            ..FaultStats::default()
        };
        earlier.by_fault.insert(Fault::BadGateway, 1);
        let d = later.since(&earlier);
        assert_eq!((d.requests, d.forwarded, d.passed), (6, 5, 4));
        assert_eq!(d.get(Fault::BadGateway), 1);
        assert_eq!(d.total(), 2);
        assert_eq!(d.failed_calls(), 1);
        assert_eq!(
            d.to_string(),
            "requests=6 forwarded=5 http_502=1 duplicate=1"
        );
    }

    #[test]
    fn call_names() {
        let rpc = br#"{"jsonrpc":"2.0","method":"call","params":{"service":"object","method":"execute_kw","args":["db",2,"k","res.partner","load",[]]}}"#;
        assert_eq!(call_name("POST", "/jsonrpc", rpc), "res.partner.load");
        let common = br#"{"params":{"service":"common","method":"version","args":[]}}"#;
        assert_eq!(call_name("POST", "/jsonrpc", common), "common.version");
        assert_eq!(
            call_name("POST", "/json/2/sale.order/action_confirm", b"{}"),
            "sale.order.action_confirm"
        );
        assert_eq!(call_name("GET", "/web/health", b""), "GET /web/health");
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handle_is_send_and_sync() {
        assert_send_sync::<FaultProxy>();
        assert_send_sync::<FaultPlan>();
    }
}
