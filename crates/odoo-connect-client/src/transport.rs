//! HTTP transport: one reqwest pool per client, timeouts, a concurrency limit, a size limit on
//! replies, and the retry policy for calls that are safe to repeat.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use url::Url;

use super::error::{ConfigReason, Error, Result};

/// When and how the client retries a call.
///
/// Reads are retried on transient failures (connection refused, timeouts, 502/503/504, 429 with
/// `Retry-After`, lock conflicts); a write is retried only when the request provably never
/// reached the server. Delays grow exponentially with jitter, capped by `max_delay`, and stop
/// after `max_attempts` or `max_elapsed`, whichever comes first.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: usize,
    /// The first delay.
    pub initial_delay: Duration,
    /// The largest delay between two attempts (a longer `Retry-After` is honoured up to this).
    pub max_delay: Duration,
    /// The total time spent waiting between attempts.
    pub max_elapsed: Duration,
    /// Whether delays are randomised (spreads retries of many clients).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (the first included).
    pub fn max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first delay.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// Sets the largest delay.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets the total waiting budget.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Turns jitter on or off.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    pub(crate) fn backoff(&self) -> backon::ExponentialBuilder {
        let b = backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1))
            .with_total_delay(Some(self.max_elapsed));
        if self.jitter { b.with_jitter() } else { b }
    }
}

/// A reply as received.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

/// Sends requests; cheap to share.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    base: Url,
    permits: Arc<Semaphore>,
    max_body: usize,
    timeout: Duration,
}

/// Settings of the transport.
pub(crate) struct TransportSettings {
    pub(crate) base: Url,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_concurrent: usize,
    pub(crate) max_body: usize,
    pub(crate) user_agent: String,
    /// A client of the user's, used as it is (its TLS, proxy and pool settings).
    pub(crate) http: Option<reqwest::Client>,
    /// Root certificates trusted on top of the built-in ones.
    pub(crate) root_certs: Vec<reqwest::Certificate>,
}

impl Transport {
    pub(crate) fn new(s: TransportSettings) -> Result<Self> {
        let http = match s.http {
            Some(http) if s.root_certs.is_empty() => http,
            Some(_) => return Err(ConfigReason::RootCertificatesWithHttpClient.into()),
            None => {
                let mut b = reqwest::Client::builder()
                    .timeout(s.timeout)
                    .connect_timeout(s.connect_timeout)
                    .pool_idle_timeout(Duration::from_secs(60))
                    .tcp_keepalive(Duration::from_secs(60))
                    .gzip(true)
                    .user_agent(s.user_agent);
                for cert in s.root_certs {
                    b = b.add_root_certificate(cert);
                }
                b.build()
                    .map_err(|e| Error::config_caused_by(ConfigReason::HttpClient, e))?
            }
        };
        Ok(Transport {
            http,
            base: s.base,
            permits: Arc::new(Semaphore::new(s.max_concurrent.max(1))),
            max_body: s.max_body,
            timeout: s.timeout,
        })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path.trim_start_matches('/')).map_err(|e| {
            Error::config_caused_by(
                ConfigReason::InvalidPath {
                    path: path.to_owned(),
                },
                e,
            )
        })
    }

    /// POSTs a JSON body.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: Vec<u8>,
        bearer: Option<&SecretString>,
        database: Option<&str>,
    ) -> Result<HttpReply> {
        let url = self.url(path)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = bearer {
            headers.insert(AUTHORIZATION, bearer_header(key)?);
        }
        if let Some(db) = database {
            let v = HeaderValue::from_str(db)
                .map_err(|e| Error::config_caused_by(ConfigReason::InvalidDatabaseName, e))?;
            headers.insert("X-Odoo-Database", v);
        }
        let req = self.http.post(url).headers(headers).body(body);
        self.send(req).await
    }

    /// GETs a path.
    pub(crate) async fn get(&self, path: &str, bearer: Option<&SecretString>) -> Result<HttpReply> {
        let url = self.url(path)?;
        let mut req = self.http.get(url);
        if let Some(key) = bearer {
            req = req.header(AUTHORIZATION, bearer_header(key)?);
        }
        self.send(req).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<HttpReply> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::from(ConfigReason::ShutDown))?;
        let started = Instant::now();
        // The request timeout also holds with a client of the user's.
        let resp = req
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| map_reqwest(e, started, self.timeout))?;
        let status = resp.status().as_u16();
        let retry_after = crate::support::retry_after(resp.headers(), chrono::Utc::now());
        if let Some(len) = resp.content_length()
            && len > self.max_body as u64
        {
            return Err(Error::BodyTooLarge {
                limit: self.max_body,
            });
        }
        let body = read_limited(resp, self.max_body, started, self.timeout).await?;
        Ok(HttpReply {
            status,
            retry_after,
            body,
        })
    }
}

/// The `Authorization: bearer <key>` value, marked sensitive. The error of a key that a header
/// cannot carry is kept as the source: it never shows the value.
fn bearer_header(key: &SecretString) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("bearer {}", key.expose_secret()))
        .map_err(|e| Error::config_caused_by(ConfigReason::InvalidApiKey, e))?;
    v.set_sensitive(true);
    Ok(v)
}

async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
    started: Instant,
    timeout: Duration,
) -> Result<Vec<u8>> {
    let mut body =
        Vec::with_capacity(resp.content_length().unwrap_or(0).min(limit as u64) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| map_reqwest(e, started, timeout))?
    {
        if body.len() + chunk.len() > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn map_reqwest(e: reqwest::Error, started: Instant, timeout: Duration) -> Error {
    if e.is_timeout() {
        let sent = !e.is_connect();
        return Error::Timeout {
            elapsed: started.elapsed().min(timeout.max(started.elapsed())),
            sent,
        };
    }
    if e.is_connect() && is_tls_failure(&e) {
        return Error::Tls {
            source: Box::new(e),
        };
    }
    let sent = !(e.is_connect() || e.is_builder());
    Error::Transport {
        sent,
        source: Box::new(e),
    }
}

/// Whether a connection failed in the TLS handshake: rustls reported it (its error travels
/// inside an `io::Error` of kind `InvalidData`, which a plain TCP connect never gives).
fn is_tls_failure(e: &reqwest::Error) -> bool {
    chain_has_tls(Some(e), 0)
}

fn chain_has_tls(mut cur: Option<&(dyn std::error::Error + 'static)>, depth: usize) -> bool {
    while let Some(err) = cur {
        if depth > 16 {
            return false;
        }
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
            // `io::Error::source` skips the wrapped error itself: look into it.
            let inner = io
                .get_ref()
                .map(|i| i as &(dyn std::error::Error + 'static));
            return chain_has_tls(inner, depth + 1);
        }
        cur = err.source();
    }
    false
}
