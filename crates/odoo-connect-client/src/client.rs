//! [`OdooClient`]: the handle that talks to one Odoo database as one user.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use backon::Retryable;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, OnceCell};
use tracing::Instrument;
use url::Url;

use super::call::OdooCall;
use super::context::Context;
use super::error::{ConfigReason, Error, OdooErrorKind, OdooException, Result};
use super::transport::{HttpReply, RetryPolicy, Transport, TransportSettings};
use super::version::ServerVersion;
use super::{json2, jsonrpc};

/// Which of Odoo's external APIs the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// Ask the server its version once; JSON-2 on 19+ when an API key is configured,
    /// JSON-RPC otherwise.
    #[default]
    Auto,
    /// `POST /jsonrpc` (Odoo 14 to 21; deprecated from 19, removal planned for 22).
    JsonRpc,
    /// `POST /json/2/<model>/<method>` with a bearer API key (Odoo 19+).
    Json2,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Auto => "auto",
            Protocol::JsonRpc => "json-rpc",
            Protocol::Json2 => "json-2",
        })
    }
}

pub use super::credentials::Credentials;
use super::credentials::{CredentialProvider, StaticCredentials};

/// The client's settings, as the builder collected them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The server's base URL (never holds credentials).
    pub url: Url,
    /// The database; found with `db.list` when the server has a single one.
    pub database: Option<String>,
    /// The credentials set with `api_key` or `password` (`Debug` shows `[redacted]`); `None`
    /// when a [`CredentialProvider`] gives them.
    pub credentials: Option<Credentials>,
    /// The protocol wanted.
    pub protocol: Protocol,
    /// Timeout of a whole request, reply included.
    pub timeout: Duration,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Requests in flight at once per client.
    pub max_concurrent_requests: usize,
    /// Largest reply accepted, in bytes.
    pub max_response_bytes: usize,
    /// Retry policy of calls that are safe to repeat.
    pub retry: RetryPolicy,
    /// The context sent with every call (each call may override keys).
    pub context: Context,
}

/// Builds an [`OdooClient`]; see [`OdooClient::builder`].
pub struct OdooClientBuilder {
    url: String,
    database: Option<String>,
    credentials: Option<Credentials>,
    provider: Option<Arc<dyn CredentialProvider>>,
    http: Option<reqwest::Client>,
    root_certs: Vec<reqwest::Certificate>,
    root_pems: Vec<Vec<u8>>,
    protocol: Protocol,
    timeout: Duration,
    connect_timeout: Duration,
    max_concurrent_requests: usize,
    max_response_bytes: usize,
    retry: RetryPolicy,
    context: Context,
}

impl fmt::Debug for OdooClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooClientBuilder")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("credentials", &self.credentials)
            .field("credential_provider", &self.provider.is_some())
            .field("http_client", &self.http.is_some())
            .field(
                "root_certificates",
                &(self.root_certs.len() + self.root_pems.len()),
            )
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OdooClientBuilder {
    /// Sets the database.
    pub fn database(mut self, db: impl Into<String>) -> Self {
        self.database = Some(db.into());
        self
    }

    /// Authenticates with a login and an API key (preferred: works over both protocols).
    pub fn api_key(mut self, login: impl Into<String>, key: impl Into<SecretString>) -> Self {
        self.credentials = Some(Credentials::api_key(login, key));
        self.provider = None;
        self
    }

    /// Authenticates with a login and a password (JSON-RPC only).
    pub fn password(mut self, login: impl Into<String>, password: impl Into<SecretString>) -> Self {
        self.credentials = Some(Credentials::password(login, password));
        self.provider = None;
        self
    }

    /// Takes the credentials from `provider`, asked before each request, so that a rotated key
    /// is used without a restart (replaces [`api_key`](Self::api_key) and
    /// [`password`](Self::password)). See [`crate::credentials`].
    pub fn credential_provider(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self.credentials = None;
        self
    }

    /// Sends the requests with this `reqwest::Client` (your proxy, TLS and pool settings).
    ///
    /// Its own settings win over [`connect_timeout`](Self::connect_timeout); the request
    /// [`timeout`](Self::timeout), the concurrency limit and the reply size limit still apply.
    /// Root certificates must then be added to it; [`build`](Self::build) refuses
    /// [`add_root_certificate`](Self::add_root_certificate) together with this.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Trusts `cert` as a root certificate authority, on top of the built-in ones: for a
    /// self-hosted Odoo whose certificate a private CA signed.
    pub fn add_root_certificate(mut self, cert: reqwest::Certificate) -> Self {
        self.root_certs.push(cert);
        self
    }

    /// Trusts the root certificates of a PEM file's text (one or more `CERTIFICATE` blocks);
    /// [`build`](Self::build) reports a PEM that does not parse.
    pub fn add_root_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.root_pems.push(pem.as_ref().to_vec());
        self
    }

    /// Chooses the protocol (default [`Protocol::Auto`]).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Timeout of a whole request (default 120 s, below Odoo's usual `limit_time_real`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout of establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Requests in flight at once (default 8).
    pub fn max_concurrent_requests(mut self, n: usize) -> Self {
        self.max_concurrent_requests = n.max(1);
        self
    }

    /// Largest reply accepted (default 256 MiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// The retry policy of calls that are safe to repeat.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The context sent with every call.
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Checks the settings and builds the client. No request is sent: the server's version is
    /// asked on the first call.
    pub fn build(self) -> Result<OdooClient> {
        let url = parse_base_url(&self.url)?;
        if self.protocol == Protocol::Json2
            && self.provider.is_none()
            && !self
                .credentials
                .as_ref()
                .map(Credentials::is_api_key)
                .unwrap_or(false)
        {
            return Err(ConfigReason::ApiKeyRequired.into());
        }
        if self.timeout.is_zero() {
            return Err(ConfigReason::ZeroTimeout.into());
        }
        let mut root_certs = self.root_certs;
        for pem in &self.root_pems {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config_caused_by(ConfigReason::InvalidRootCertificate, e))?;
            if certs.is_empty() {
                return Err(ConfigReason::NoRootCertificate.into());
            }
            root_certs.extend(certs);
        }
        let transport = Transport::new(TransportSettings {
            base: url.clone(),
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_concurrent: self.max_concurrent_requests,
            max_body: self.max_response_bytes,
            user_agent: format!("odoo-connect/{}", env!("CARGO_PKG_VERSION")),
            http: self.http,
            root_certs,
        })?;
        let provider: Option<Arc<dyn CredentialProvider>> = self.provider.or_else(|| {
            self.credentials
                .clone()
                .map(|c| Arc::new(StaticCredentials::new(c)) as Arc<dyn CredentialProvider>)
        });
        let config = ClientConfig {
            url,
            database: self.database,
            credentials: self.credentials,
            protocol: self.protocol,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_concurrent_requests: self.max_concurrent_requests,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            context: self.context,
        };
        Ok(OdooClient {
            inner: Arc::new(Inner {
                config,
                transport,
                session: OnceCell::new(),
                next_id: AtomicU64::new(1),
                provider,
                auth: RwLock::new(None),
                reauth: Mutex::new(()),
            }),
            context: None,
        })
    }
}

/// Parses the base URL, refusing embedded credentials without echoing them.
fn parse_base_url(raw: &str) -> Result<Url> {
    // The parse error never contains the input text.
    let mut url =
        Url::parse(raw.trim()).map_err(|e| Error::config_caused_by(ConfigReason::InvalidUrl, e))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigReason::UrlWithCredentials.into());
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ConfigReason::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        }
        .into());
    }
    if url.host_str().is_none() {
        return Err(ConfigReason::UrlWithoutHost.into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigReason::UrlWithQueryOrFragment.into());
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// What the client learned from the server on its first call.
#[derive(Debug, Clone)]
pub struct Session {
    /// The server's version.
    pub version: ServerVersion,
    /// The protocol in use.
    pub protocol: Protocol,
    /// The database in use (`None` on JSON-2 when the server picks it).
    pub database: Option<String>,
    /// The user's id at the first authentication (known after `common.authenticate` on
    /// JSON-RPC); [`OdooClient::uid`] gives the current one.
    pub uid: Option<i64>,
}

/// The credentials in use, and the uid they authenticated as (JSON-RPC).
struct AuthState {
    /// Grows by one at each (re)authentication.
    generation: u64,
    creds: Credentials,
    uid: Option<i64>,
}

struct Inner {
    config: ClientConfig,
    transport: Transport,
    session: OnceCell<Session>,
    next_id: AtomicU64,
    provider: Option<Arc<dyn CredentialProvider>>,
    auth: RwLock<Option<Arc<AuthState>>>,
    /// Held while (re)authenticating, so that concurrent refusals log in once.
    reauth: Mutex<()>,
}

/// A client of one Odoo database, as one user.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`; clones share the connection pool, the
/// concurrency limit and what was learned from the server.
///
/// ```no_run
/// # async fn run() -> odoo_connect_client::Result<()> {
/// use odoo_connect_client::{Domain, OdooClient, models::Partner};
/// let odoo = OdooClient::builder("https://erp.example.com")
///     .database("ps")
///     .api_key("admin", std::env::var("ODOO_API_KEY").unwrap_or_default())
///     .build()?;
/// let customers: Vec<Partner> = odoo
///     .model::<Partner>()
///     .search_read(Domain::new().eq("is_company", true).ilike("name", "acme"))
///     .limit(50)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OdooClient {
    inner: Arc<Inner>,
    /// The default context of this handle when [`OdooClient::with_context`] replaced the
    /// builder's (shared by its clones).
    context: Option<Arc<Context>>,
}

impl fmt::Debug for OdooClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooClient")
            .field("url", &self.inner.config.url.as_str())
            .field("database", &self.inner.config.database)
            .field("credentials", &self.inner.config.credentials)
            .field("protocol", &self.inner.config.protocol)
            .field("session", &self.inner.session.get())
            .finish()
    }
}

impl OdooClient {
    /// Starts building a client of the server at `url` (`https://erp.example.com`).
    pub fn builder(url: impl Into<String>) -> OdooClientBuilder {
        OdooClientBuilder {
            url: url.into(),
            database: None,
            credentials: None,
            provider: None,
            http: None,
            root_certs: Vec::new(),
            root_pems: Vec::new(),
            protocol: Protocol::Auto,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            max_concurrent_requests: 8,
            max_response_bytes: 256 * 1024 * 1024,
            retry: RetryPolicy::default(),
            context: Context::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The client's default context: the builder's, or the one [`OdooClient::with_context`]
    /// gave this handle.
    pub fn default_context(&self) -> &Context {
        self.context
            .as_deref()
            .unwrap_or(&self.inner.config.context)
    }

    /// A handle on the same connection, session and concurrency limit whose calls carry
    /// `context` over this client's default one (a call's own context still wins). Cheap: nothing
    /// is sent and the session is shared.
    ///
    /// ```
    /// use odoo_connect_client::{Context, OdooClient};
    /// let odoo = OdooClient::builder("https://erp.example.com").build()?;
    /// let us = odoo.with_context(Context::new().allowed_company_ids([2]));
    /// assert_eq!(us.default_context().get("allowed_company_ids"), Some(&serde_json::json!([2])));
    /// assert!(odoo.default_context().get("allowed_company_ids").is_none());
    /// # Ok::<(), odoo_connect_client::Error>(())
    /// ```
    pub fn with_context(&self, context: Context) -> OdooClient {
        OdooClient {
            inner: self.inner.clone(),
            context: Some(Arc::new(context.merged_over(self.default_context()))),
        }
    }

    /// A handle whose calls work in company `company_id` (`res.company`): its id first in
    /// `allowed_company_ids`, so that Odoo's `env.company` is that company whichever company
    /// the user is currently in, and new records default to it. The user must belong to the
    /// company (Odoo answers `AccessError` otherwise).
    pub fn with_company(&self, company_id: i64) -> OdooClient {
        self.with_context(Context::new().allowed_company_ids([company_id]))
    }

    /// The active company the default context names (first of `allowed_company_ids`).
    pub fn company(&self) -> Option<i64> {
        self.default_context()
            .get("allowed_company_ids")
            .and_then(|v| v.get(0))
            .and_then(serde_json::Value::as_i64)
    }

    /// Connects (once): asks the version, picks the protocol, authenticates on JSON-RPC.
    pub async fn session(&self) -> Result<&Session> {
        self.inner
            .session
            .get_or_try_init(|| self.open_session())
            .await
    }

    /// The server's version.
    pub async fn version(&self) -> Result<ServerVersion> {
        Ok(self.session().await?.version.clone())
    }

    /// The protocol in use ([`Protocol::JsonRpc`] or [`Protocol::Json2`]).
    pub async fn protocol(&self) -> Result<Protocol> {
        Ok(self.session().await?.protocol)
    }

    /// The user's id (as last authenticated on JSON-RPC; asked with
    /// `res.users.context_get` on JSON-2).
    pub async fn uid(&self) -> Result<i64> {
        let session = self.session().await?;
        let auth = self.current_auth(session).await?;
        if let Some(uid) = auth.uid {
            return Ok(uid);
        }
        let ctx: Value = self
            .call(&OdooCall::new("res.users", "context_get").read_only())
            .await?;
        ctx.get("uid")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::InvalidReply {
                reason: "res.users.context_get has no uid".to_owned(),
                snippet: String::new(),
                source: None,
            })
    }

    /// The user's context as the server sees it (`res.users.context_get`).
    pub async fn context_get(&self) -> Result<Map<String, Value>> {
        self.call(&OdooCall::new("res.users", "context_get").read_only())
            .await
    }

    /// `common.version` over JSON-RPC (no authentication needed).
    pub async fn server_version_info(&self) -> Result<Value> {
        self.rpc_service("common", "version", vec![], true).await
    }

    fn provider(&self) -> Result<&Arc<dyn CredentialProvider>> {
        self.inner
            .provider
            .as_ref()
            .ok_or_else(|| ConfigReason::MissingCredentials.into())
    }

    async fn open_session(&self) -> Result<Session> {
        let cfg = &self.inner.config;
        let version = self.fetch_version().await?;
        let creds = self.provider()?.credentials().await?;
        let has_key = creds.is_api_key();
        let protocol = match cfg.protocol {
            Protocol::Auto if version.has_json2() && has_key => Protocol::Json2,
            Protocol::Auto | Protocol::JsonRpc if !version.has_jsonrpc() => {
                return Err(ConfigReason::JsonRpcUnavailable { version }.into());
            }
            Protocol::Auto | Protocol::JsonRpc => Protocol::JsonRpc,
            Protocol::Json2 => {
                if !version.has_json2() {
                    return Err(ConfigReason::Json2Unavailable { version }.into());
                }
                if !has_key {
                    return Err(ConfigReason::ApiKeyRequired.into());
                }
                Protocol::Json2
            }
        };
        let mut database = cfg.database.clone();
        let mut uid = None;
        if protocol == Protocol::JsonRpc {
            if database.is_none() {
                database = Some(self.single_database().await?);
            }
            uid = Some(
                self.authenticate(database.as_deref().unwrap_or_default(), &creds)
                    .await
                    .map_err(|e| match e {
                        // A server that answers the version but not the login over /jsonrpc
                        // has switched the deprecated services off (possible from Odoo 20).
                        e @ Error::Http { status: 404, .. } if version.jsonrpc_deprecated() => {
                            Error::config_caused_by(
                                ConfigReason::JsonRpcLoginsDisabled {
                                    version: version.clone(),
                                },
                                e,
                            )
                        }
                        e => e,
                    })?,
            );
        }
        self.store_auth(creds, uid);
        tracing::debug!(%version, %protocol, "odoo session opened");
        Ok(Session {
            version,
            protocol,
            database,
            uid,
        })
    }

    /// `common.authenticate`: the uid of the credentials, or `AccessDenied`.
    async fn authenticate(&self, db: &str, creds: &Credentials) -> Result<i64> {
        let reply: Value = self
            .rpc_service(
                "common",
                "authenticate",
                vec![
                    Value::from(db),
                    Value::from(creds.login()),
                    Value::from(creds.secret().expose_secret()),
                    Value::Object(Map::new()),
                ],
                true,
            )
            .await?;
        match reply.as_i64() {
            Some(id) if id > 0 => Ok(id),
            _ => Err(OdooException {
                kind: OdooErrorKind::AccessDenied,
                name: "odoo.exceptions.AccessDenied".to_owned(),
                message: "Access Denied: wrong login, password or API key".to_owned(),
                arguments: Value::Null,
                context: Value::Null,
                debug: None,
                code: None,
                http_status: None,
            }
            .into()),
        }
    }

    fn auth_now(&self) -> Option<Arc<AuthState>> {
        self.inner
            .auth
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn store_auth(&self, creds: Credentials, uid: Option<i64>) -> Arc<AuthState> {
        let mut slot = self.inner.auth.write().unwrap_or_else(|e| e.into_inner());
        let generation = slot.as_ref().map_or(1, |a| a.generation + 1);
        let state = Arc::new(AuthState {
            generation,
            creds,
            uid,
        });
        *slot = Some(state.clone());
        state
    }

    /// Installs `creds` as the ones in use: on JSON-RPC, authenticates them first.
    async fn install(&self, session: &Session, creds: Credentials) -> Result<Arc<AuthState>> {
        match session.protocol {
            Protocol::Json2 => {
                if !creds.is_api_key() {
                    return Err(ConfigReason::ApiKeyRequired.into());
                }
                Ok(self.store_auth(creds, None))
            }
            _ => {
                let db = session.database.as_deref().unwrap_or_default();
                let uid = self.authenticate(db, &creds).await?;
                Ok(self.store_auth(creds, Some(uid)))
            }
        }
    }

    /// The credentials to send now: the provider's, authenticated again on JSON-RPC when they
    /// changed since the last request.
    async fn current_auth(&self, session: &Session) -> Result<Arc<AuthState>> {
        let fresh = self.provider()?.credentials().await?;
        if let Some(auth) = self.auth_now()
            && auth.creds.same_as(&fresh)
        {
            return Ok(auth);
        }
        let _guard = self.inner.reauth.lock().await;
        if let Some(auth) = self.auth_now()
            && auth.creds.same_as(&fresh)
        {
            return Ok(auth);
        }
        tracing::info!("odoo credentials changed; using the new ones");
        self.install(session, fresh).await
    }

    /// After Odoo refused the credentials of generation `refused`: asks the provider for new
    /// ones and logs in again, unless a concurrent call already did.
    async fn reauthenticate(&self, session: &Session, refused: u64) -> Result<Arc<AuthState>> {
        let _guard = self.inner.reauth.lock().await;
        if let Some(auth) = self.auth_now()
            && auth.generation != refused
        {
            return Ok(auth);
        }
        let creds = self.provider()?.refresh().await?;
        self.install(session, creds).await
    }

    /// Whether `e` says the credentials were refused or the session expired, before the method
    /// ran (so that the call may be sent again after a new login).
    fn is_auth_refusal(e: &Error, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Json2 => {
                e.is_session_expired() || (e.is_access_denied() && e.status() == Some(401))
            }
            _ => e.is_session_expired() || e.is_access_denied(),
        }
    }

    async fn single_database(&self) -> Result<String> {
        let dbs: Vec<String> = self
            .rpc_service("db", "list", vec![], true)
            .await
            .map_err(|e| Error::config_caused_by(ConfigReason::DatabaseNotListed, e))?;
        match dbs.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ConfigReason::NoDatabase.into()),
            _ => Err(ConfigReason::SeveralDatabases { count: dbs.len() }.into()),
        }
    }

    async fn fetch_version(&self) -> Result<ServerVersion> {
        match self
            .rpc_service::<Value>("common", "version", vec![], true)
            .await
        {
            Ok(v) => ServerVersion::from_reply(&v).ok_or_else(|| Error::InvalidReply {
                reason: "common.version did not give a version".to_owned(),
                snippet: super::error::snippet(v.to_string().as_bytes(), 200),
                source: None,
            }),
            // Servers without /jsonrpc (Odoo 22+) still answer /json/version.
            Err(Error::Http { status: 404, .. }) => {
                let reply = self.inner.transport.get("/json/version", None).await?;
                let v: Value =
                    json2::decode_reply(reply.status, &reply.body, None, ("", "version"))?;
                let v = serde_json::json!({
                    "server_version": v.get("version").cloned().unwrap_or(Value::Null),
                    "server_version_info": v.get("version_info").cloned().unwrap_or(Value::Null),
                });
                ServerVersion::from_reply(&v).ok_or_else(|| Error::InvalidReply {
                    reason: "/json/version did not give a version".to_owned(),
                    snippet: String::new(),
                    source: None,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Calls a JSON-RPC service method (`common.version`, `db.list`) directly.
    async fn rpc_service<R: DeserializeOwned>(
        &self,
        service: &str,
        method: &str,
        args: Vec<Value>,
        read: bool,
    ) -> Result<R> {
        let op = || async {
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let body = jsonrpc::encode_service(service, method, args.clone(), id);
            let bytes = serde_json::to_vec(&body).map_err(|e| Error::Encode {
                model: service.to_owned(),
                method: method.to_owned(),
                reason: "the arguments do not serialise to JSON".to_owned(),
                source: Some(e),
            })?;
            let reply = self
                .inner
                .transport
                .post_json(jsonrpc::PATH, bytes, None, None)
                .await?;
            jsonrpc::decode_reply(reply.status, &reply.body, (service, method))
        };
        self.with_retry(op, read).await
    }

    async fn with_retry<R, F, Fut>(&self, op: F, read: bool) -> Result<R>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<R>>,
    {
        let policy = &self.inner.config.retry;
        op.retry(policy.backoff())
            .sleep(tokio::time::sleep)
            // A read, a request that never left, or any call Odoo rolled back because of a
            // concurrent transaction (its conflict is reported after the rollback): safe again.
            .when(|e: &Error| e.is_retryable() && (read || e.is_unsent() || e.is_conflict()))
            .adjust(|e: &Error, d| match (e.retry_after(), d) {
                (Some(ra), Some(_)) => Some(ra.min(policy.max_delay)),
                (_, d) => d,
            })
            .notify(|e: &Error, d: Duration| {
                tracing::warn!(error = %e, delay_ms = d.as_millis() as u64, "odoo call failed; retrying");
            })
            .await
    }

    /// Calls any model method and decodes its result into `R` (use `serde_json::Value` for
    /// anything).
    ///
    /// The call is retried on transient failures when it is marked as a read
    /// ([`OdooCall::read_only`]), when the request provably never reached the server, or when
    /// Odoo reports a conflict with a concurrent transaction ([`Error::is_conflict`]: Odoo rolled
    /// the call back, so even a `create` may go again).
    ///
    /// ```no_run
    /// # async fn run(odoo: odoo_connect_client::OdooClient) -> odoo_connect_client::Result<()> {
    /// use odoo_connect_client::OdooCall;
    /// let confirmed: bool = odoo.call(&OdooCall::new("sale.order", "action_confirm").ids([42])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<R: DeserializeOwned>(&self, call: &OdooCall) -> Result<R> {
        let session = self.session().await?;
        let protocol = session.protocol;
        let span = tracing::debug_span!(
            "odoo.call",
            model = %call.model,
            method = %call.method,
            protocol = %protocol,
            duration_ms = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let started = Instant::now();
        let context = call.context.merged_over(self.default_context());
        let result = async {
            let mut auth = self.current_auth(session).await?;
            let mut renewed = false;
            loop {
                let result = self
                    .with_retry(
                        || self.send_once::<R>(session, &auth, call, &context),
                        call.is_read(),
                    )
                    .await;
                match result {
                    // The credentials are checked before the method runs: nothing happened, so
                    // even a write may be sent again, once, after a new login.
                    Err(e) if !renewed && Self::is_auth_refusal(&e, protocol) => {
                        renewed = true;
                        tracing::info!(error = %e, "odoo refused the credentials; authenticating again");
                        auth = self.reauthenticate(session, auth.generation).await?;
                    }
                    other => return other,
                }
            }
        }
        .instrument(span.clone())
        .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        span.record("status", if result.is_ok() { "ok" } else { "error" });
        result
    }

    async fn send_once<R: DeserializeOwned>(
        &self,
        session: &Session,
        auth: &AuthState,
        call: &OdooCall,
        context: &Context,
    ) -> Result<R> {
        let what = (call.model.as_str(), call.method.as_str());
        let creds = &auth.creds;
        let encode_err = |e: serde_json::Error| Error::Encode {
            model: call.model.clone(),
            method: call.method.clone(),
            reason: "the call does not serialise to JSON".to_owned(),
            source: Some(e),
        };
        let reply: HttpReply = match session.protocol {
            Protocol::Json2 => {
                let body = json2::encode_body(call, context)?;
                let bytes = serde_json::to_vec(&body).map_err(encode_err)?;
                self.inner
                    .transport
                    .post_json(
                        &json2::path(&call.model, &call.method),
                        bytes,
                        Some(creds.secret()),
                        session.database.as_deref(),
                    )
                    .await?
            }
            _ => {
                let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
                let body = jsonrpc::encode_execute_kw(
                    session.database.as_deref().unwrap_or_default(),
                    auth.uid.or(session.uid).unwrap_or_default(),
                    creds.secret().expose_secret(),
                    call,
                    context,
                    id,
                );
                let bytes = serde_json::to_vec(&body).map_err(encode_err)?;
                self.inner
                    .transport
                    .post_json(jsonrpc::PATH, bytes, None, None)
                    .await?
            }
        };
        tracing::Span::current().record("status", reply.status);
        match session.protocol {
            Protocol::Json2 => {
                json2::decode_reply(reply.status, &reply.body, reply.retry_after, what)
            }
            _ => match jsonrpc::decode_reply(reply.status, &reply.body, what) {
                Err(Error::Http {
                    status, snippet, ..
                }) => Err(Error::Http {
                    status,
                    snippet,
                    retry_after: reply.retry_after,
                }),
                other => other,
            },
        }
    }

    /// `execute_kw(model, method, args, kwargs)` with positional arguments, as over JSON-RPC.
    ///
    /// Positional arguments have no names, so on JSON-2 this fails with [`Error::Encode`]: build
    /// an [`OdooCall`] with named arguments ([`OdooCall::arg`]) to reach both protocols.
    pub async fn execute_kw<R: DeserializeOwned>(
        &self,
        model: &str,
        method: &str,
        args: Vec<Value>,
        kwargs: Map<String, Value>,
    ) -> Result<R> {
        let mut call = OdooCall::new(model, method);
        for a in args {
            call = call.positional(a);
        }
        call.kwargs = kwargs;
        self.call(&call).await
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        self.inner.transport.base()
    }

    /// GETs `/doc-bearer/<model>.json` (Odoo 19+ with `api_doc`): fields and public methods.
    pub async fn model_doc(&self, model: &str) -> Result<Value> {
        let creds = match &self.inner.provider {
            Some(p) => Some(p.credentials().await?),
            None => None,
        };
        let reply = self
            .inner
            .transport
            .get(
                &format!("/doc-bearer/{model}.json"),
                creds
                    .as_ref()
                    .filter(|c| c.is_api_key())
                    .map(|c| c.secret()),
            )
            .await?;
        json2::decode_reply(reply.status, &reply.body, reply.retry_after, (model, "doc"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_credentials_is_refused_without_echo() {
        let e = OdooClient::builder("https://bob:hunter2@erp.example.com")
            .build()
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("hunter2") && !text.contains("bob"), "{text}");
        assert_eq!(e.config_reason(), Some(&ConfigReason::UrlWithCredentials));
    }

    #[test]
    fn bad_urls() {
        for u in [
            "not a url",
            "ftp://erp.example.com",
            "https://erp.example.com/?db=x",
        ] {
            assert!(OdooClient::builder(u).build().is_err(), "{u}");
        }
        let c = OdooClient::builder("https://erp.example.com/odoo")
            .build()
            .unwrap();
        assert_eq!(c.url().as_str(), "https://erp.example.com/odoo/");
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = OdooClient::builder("https://erp.example.com")
            .database("ps")
            .api_key("admin", "sk-very-secret")
            .build()
            .unwrap();
        let d = format!("{c:?} {:?}", c.config());
        assert!(!d.contains("sk-very-secret"), "{d}");
        assert!(d.contains("[redacted]"));
        let c = OdooClient::builder("https://erp.example.com")
            .password("admin", "pw-very-secret")
            .build()
            .unwrap();
        assert!(!format!("{c:?}").contains("pw-very-secret"));
    }

    #[test]
    fn json2_needs_a_key() {
        let e = OdooClient::builder("https://erp.example.com")
            .password("admin", "x")
            .protocol(Protocol::Json2)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("API key"));
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<OdooClient>();
    }
}
