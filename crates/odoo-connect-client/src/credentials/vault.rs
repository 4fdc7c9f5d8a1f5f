//! Credentials from HashiCorp Vault's KV version 2 secrets engine.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use super::sources::{SecretSourceError, secret_text};
use super::{CredentialProvider, Credentials};
use crate::error::{ConfigReason, Error, Result};

/// How a [`VaultKv2`] provider authenticates to Vault.
#[derive(Clone)]
#[non_exhaustive]
pub enum VaultAuth {
    /// A token given once (its renewal is its issuer's business).
    Token(SecretString),
    /// A token read from a file at each read of the secret (the sink of a Vault Agent, which
    /// renews and rewrites it).
    TokenFile(PathBuf),
    /// AppRole: the provider logs in (`POST /v1/auth/<mount>/login`), keeps the token it is given
    /// while its lease lasts, and logs in again before the lease ends or when Vault refuses the
    /// token (HTTP 403).
    AppRole {
        /// Where the AppRole auth method is mounted (`approle` by default).
        mount: String,
        /// The role id.
        role_id: String,
        /// The secret id.
        secret_id: SecretString,
    },
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultAuth::Token(_) => f.write_str("Token([redacted])"),
            VaultAuth::TokenFile(path) => f.debug_tuple("TokenFile").field(path).finish(),
            VaultAuth::AppRole { mount, role_id, .. } => f
                .debug_struct("AppRole")
                .field("mount", mount)
                .field("role_id", role_id)
                .field("secret_id", &"[redacted]")
                .finish(),
        }
    }
}

/// Odoo credentials kept in Vault's KV version 2 secrets engine
/// (`GET /v1/<mount>/data/<path>`), under two fields of the secret (by default `login` and
/// `api_key`).
///
/// The secret is read on first use and kept in memory (the client asks before every request);
/// after Odoo refuses it ([`CredentialProvider::refresh`]) it is read again, so a key rotated in
/// Vault (a new version of the secret) is used without a restart. The token's lifecycle is
/// handled as [`VaultAuth`] says. Nothing secret is in `Debug` or in an error: a failure is a
/// [`SecretSourceError`] (unreachable and 5xx are retryable, 403 is
/// [`is_permission_denied`](SecretSourceError::is_permission_denied)).
///
/// ```
/// use odoo_connect_client::credentials::{VaultAuth, VaultKv2};
/// # fn main() -> odoo_connect_client::Result<()> {
/// let keys = VaultKv2::builder("https://vault.example.com:8200", "secret", "odoo/sync-bot")
///     .auth(VaultAuth::AppRole {
///         mount: "approle".into(),
///         role_id: "3c3a2b4e".into(),
///         secret_id: "s.secret".to_owned().into(),
///     })
///     .build()?;
/// assert!(!format!("{keys:?}").contains("s.secret"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct VaultKv2 {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    address: Url,
    mount: String,
    path: String,
    namespace: Option<String>,
    login_field: String,
    secret_field: String,
    api_key: bool,
    auth: VaultAuth,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The AppRole token and when its lease ends.
    token: Option<(SecretString, Option<Instant>)>,
    /// The credentials read last, and the secret's version they came from.
    credentials: Option<(Credentials, Option<u64>)>,
}

impl fmt::Debug for VaultKv2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKv2")
            .field("address", &self.inner.address.as_str())
            .field("mount", &self.inner.mount)
            .field("path", &self.inner.path)
            .field("namespace", &self.inner.namespace)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Builds a [`VaultKv2`]; see [`VaultKv2::builder`].
#[derive(Debug)]
#[must_use]
pub struct VaultKv2Builder {
    address: String,
    mount: String,
    path: String,
    namespace: Option<String>,
    login_field: String,
    secret_field: String,
    api_key: bool,
    auth: Option<VaultAuth>,
    http: Option<reqwest::Client>,
}

impl VaultKv2 {
    /// A provider reading the secret `path` of the KV v2 engine mounted at `mount` of the Vault
    /// at `address`. The token comes from [`VaultKv2Builder::auth`]; without it, from the
    /// `VAULT_TOKEN` environment variable when built.
    pub fn builder(
        address: impl Into<String>,
        mount: impl Into<String>,
        path: impl Into<String>,
    ) -> VaultKv2Builder {
        VaultKv2Builder {
            address: address.into(),
            mount: mount.into(),
            path: path.into(),
            namespace: None,
            login_field: "login".into(),
            secret_field: "api_key".into(),
            api_key: true,
            auth: None,
            http: None,
        }
    }

    /// The version of the secret the credentials in use were read from, once read.
    pub async fn version(&self) -> Option<u64> {
        self.inner
            .state
            .lock()
            .await
            .credentials
            .as_ref()
            .and_then(|c| c.1)
    }
}

impl VaultKv2Builder {
    /// How to authenticate to Vault.
    pub fn auth(mut self, auth: VaultAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The Vault Enterprise namespace (`X-Vault-Namespace`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The secret's fields holding the login and the key (default `login` and `api_key`).
    pub fn fields(mut self, login: impl Into<String>, secret: impl Into<String>) -> Self {
        self.login_field = login.into();
        self.secret_field = secret.into();
        self
    }

    /// The secret holds a password rather than an API key.
    pub fn password(mut self) -> Self {
        self.api_key = false;
        self
    }

    /// Sends the requests with this `reqwest::Client` (your proxy, TLS and CA settings).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the address and builds the provider (no request is made).
    pub fn build(self) -> Result<VaultKv2> {
        let config = |reason: ConfigReason| Error::Config {
            reason,
            source: None,
        };
        let mut address = Url::parse(&self.address).map_err(|e| Error::Config {
            reason: ConfigReason::InvalidUrl,
            source: Some(Box::new(e)),
        })?;
        if !matches!(address.scheme(), "http" | "https") {
            return Err(config(ConfigReason::UnsupportedScheme {
                scheme: address.scheme().to_owned(),
            }));
        }
        if !address.username().is_empty() || address.password().is_some() {
            return Err(config(ConfigReason::UrlWithCredentials));
        }
        if !address.path().ends_with('/') {
            let path = format!("{}/", address.path());
            address.set_path(&path);
        }
        let auth = match self.auth {
            Some(auth) => auth,
            None => match std::env::var("VAULT_TOKEN") {
                Ok(t) if !t.trim().is_empty() => VaultAuth::Token(t.trim().to_owned().into()),
                _ => return Err(config(ConfigReason::MissingCredentials)),
            },
        };
        let trim = |s: String| s.trim_matches('/').to_owned();
        Ok(VaultKv2 {
            inner: Arc::new(Inner {
                http: self.http.unwrap_or_default(),
                address,
                mount: trim(self.mount),
                path: trim(self.path),
                namespace: self.namespace,
                login_field: self.login_field,
                secret_field: self.secret_field,
                api_key: self.api_key,
                auth,
                state: tokio::sync::Mutex::new(State::default()),
            }),
        })
    }
}

/// A lease ending this close is renewed by logging in again first.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

impl Inner {
    fn url(&self, path: &str) -> Result<Url> {
        self.address.join(path).map_err(|e| Error::Config {
            reason: ConfigReason::InvalidUrl,
            source: Some(Box::new(e)),
        })
    }

    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> std::result::Result<Value, SecretSourceError> {
        let request = match &self.namespace {
            Some(ns) => request.header("X-Vault-Namespace", ns),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| SecretSourceError::Unreachable {
                address: self.address.to_string(),
                source: Box::new(e),
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| SecretSourceError::Unreachable {
                address: self.address.to_string(),
                source: Box::new(e),
            })?;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            // Vault's error body: {"errors": ["permission denied"]}; never a secret.
            let errors = json
                .get("errors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            return Err(SecretSourceError::Vault {
                what: what.to_owned(),
                status,
                errors,
            });
        }
        if json.is_null() {
            return Err(SecretSourceError::Malformed {
                what: what.to_owned(),
                reason: "the reply is not JSON".into(),
            });
        }
        Ok(json)
    }

    /// The token to send, logging in (AppRole) when there is none or its lease is about to end.
    async fn token(&self, state: &mut State, fresh: bool) -> Result<SecretString> {
        match &self.auth {
            VaultAuth::Token(t) => Ok(t.clone()),
            VaultAuth::TokenFile(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| SecretSourceError::File {
                        path: path.clone(),
                        source,
                    })?;
                secret_text(text, || format!("token file {}", path.display()))
            }
            VaultAuth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                if let Some((token, ends)) = &state.token
                    && !fresh
                    && ends.is_none_or(|e| Instant::now() + LEASE_MARGIN < e)
                {
                    return Ok(token.clone());
                }
                let what = format!("approle login at auth/{mount}");
                let url = self.url(&format!("v1/auth/{}/login", mount.trim_matches('/')))?;
                let body = json!({"role_id": role_id, "secret_id": secret_id.expose_secret()});
                let reply = self
                    .send(&what, self.http.post(url).body(body.to_string()))
                    .await?;
                let auth = reply.get("auth");
                let token = auth
                    .and_then(|a| a.get("client_token"))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| SecretSourceError::Malformed {
                        what: what.clone(),
                        reason: "no auth.client_token".into(),
                    })?;
                let lease = auth
                    .and_then(|a| a.get("lease_duration"))
                    .and_then(Value::as_u64)
                    .filter(|s| *s > 0)
                    .map(|s| Instant::now() + Duration::from_secs(s));
                let token = SecretString::from(token.to_owned());
                state.token = Some((token.clone(), lease));
                Ok(token)
            }
        }
    }

    async fn read(&self, state: &mut State) -> Result<Credentials> {
        let what = format!("read {}/data/{}", self.mount, self.path);
        let url = self.url(&format!("v1/{}/data/{}", self.mount, self.path))?;
        let mut fresh = false;
        let reply = loop {
            let token = self.token(state, fresh).await?;
            let request = self
                .http
                .get(url.clone())
                .header("X-Vault-Token", token.expose_secret());
            match self.send(&what, request).await {
                // A token refused (expired, revoked): an AppRole logs in again, once.
                Err(e)
                    if e.is_permission_denied()
                        && !fresh
                        && matches!(self.auth, VaultAuth::AppRole { .. }) =>
                {
                    fresh = true;
                }
                Err(e) => return Err(e.into()),
                Ok(reply) => break reply,
            }
        };
        let data = reply
            .get("data")
            .ok_or_else(|| SecretSourceError::Malformed {
                what: what.clone(),
                reason: "no data (is the engine KV version 2?)".into(),
            })?;
        let fields = data.get("data").and_then(Value::as_object).ok_or_else(|| {
            SecretSourceError::Malformed {
                what: what.clone(),
                reason: "no data.data (a deleted or destroyed version?)".into(),
            }
        })?;
        let field = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| SecretSourceError::Malformed {
                    what: what.clone(),
                    reason: format!("the secret has no text field `{name}`"),
                })
        };
        let login = field(&self.login_field)?;
        if login.trim().is_empty() {
            return Err(SecretSourceError::Empty {
                what: format!("field {} of {}", self.login_field, self.path),
            }
            .into());
        }
        let secret = secret_text(field(&self.secret_field)?, || {
            format!("field {} of {}", self.secret_field, self.path)
        })?;
        let version = data
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_u64);
        let credentials = if self.api_key {
            Credentials::api_key(login.trim(), secret)
        } else {
            Credentials::password(login.trim(), secret)
        };
        state.credentials = Some((credentials.clone(), version));
        Ok(credentials)
    }
}

#[async_trait]
impl CredentialProvider for VaultKv2 {
    async fn credentials(&self) -> Result<Credentials> {
        let mut state = self.inner.state.lock().await;
        if let Some((c, _)) = &state.credentials {
            return Ok(c.clone());
        }
        self.inner.read(&mut state).await
    }

    async fn refresh(&self) -> Result<Credentials> {
        let mut state = self.inner.state.lock().await;
        self.inner.read(&mut state).await
    }
}
