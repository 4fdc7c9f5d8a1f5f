//! Where the client's credentials come from, so that a key can be rotated without a restart.
//!
//! The client asks its [`CredentialProvider`] for the [`Credentials`] before each request (a
//! provider answers from memory, so this is cheap when nothing changed). When Odoo refuses them
//! (JSON-RPC `AccessDenied` or an expired session, JSON-2 HTTP 401), the client asks the provider
//! to [`refresh`](CredentialProvider::refresh) once, authenticates again and retries the call
//! once; a second refusal is the typed error ([`Error::is_access_denied`]). A refused call never
//! ran in Odoo (the credentials are checked before the method), so retrying it is safe even for a
//! write.
//!
//! This is the shape of the connectors' `AccessTokenProvider`: the current secret, and a new one
//! after a refusal. [`StaticCredentials`] is what [`OdooClientBuilder::api_key`] and
//! [`OdooClientBuilder::password`] install; [`SharedCredentials`] is a handle whose credentials
//! can be replaced while the client runs (from a secrets watcher, an admin endpoint, a test).
//!
//! Secrets kept elsewhere have providers of their own, each reading the secret again when it
//! changed or after a refusal, so a rotation needs no restart: [`EnvCredentials`] (environment
//! variables), [`FileCredentials`] (mounted secret files: a Kubernetes or Docker secret, a Vault
//! Agent's output) and [`VaultKv2`] (HashiCorp Vault's KV version 2 engine, with a token, a
//! token file or AppRole). Their failures are [`SecretSourceError`]s inside
//! [`Error::Credentials`], which never hold a secret; a vault that cannot be reached is
//! retryable ([`Error::is_retryable`]).
//!
//! ```
//! use odoo_connect_client::credentials::{CredentialProvider, SharedCredentials};
//! use odoo_connect_client::{Credentials, OdooClient};
//!
//! # fn main() -> odoo_connect_client::Result<()> {
//! let keys = SharedCredentials::new(Credentials::api_key("admin", "key-of-monday"));
//! let odoo = OdooClient::builder("https://erp.example.com")
//!     .database("ps")
//!     .credential_provider(keys.clone())
//!     .build()?;
//! // Later, when the key was rotated: the next request uses the new key.
//! keys.replace(Credentials::api_key("admin", "key-of-tuesday"));
//! # let _ = odoo;
//! # Ok(()) }
//! ```
//!
//! [`OdooClientBuilder::api_key`]: crate::OdooClientBuilder::api_key
//! [`OdooClientBuilder::password`]: crate::OdooClientBuilder::password

use std::fmt;
use std::sync::{Arc, RwLock};

mod sources;
mod vault;

pub use sources::{EnvCredentials, FileCredentials, SecretSourceError};
pub use vault::{VaultAuth, VaultKv2, VaultKv2Builder};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::error::Result;

#[cfg(doc)]
use super::error::Error;

/// How the client proves who it is.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A login and its password (JSON-RPC only).
    Password {
        /// The user's login.
        login: String,
        /// The password.
        secret: SecretString,
    },
    /// A login and one of its API keys (JSON-RPC, where it stands in for the password, and JSON-2).
    ApiKey {
        /// The user's login.
        login: String,
        /// The API key.
        secret: SecretString,
    },
}

impl Credentials {
    /// A login and one of its API keys.
    pub fn api_key(login: impl Into<String>, key: impl Into<SecretString>) -> Self {
        Credentials::ApiKey {
            login: login.into(),
            secret: key.into(),
        }
    }

    /// A login and its password.
    pub fn password(login: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Credentials::Password {
            login: login.into(),
            secret: password.into(),
        }
    }

    /// The login.
    pub fn login(&self) -> &str {
        match self {
            Credentials::Password { login, .. } | Credentials::ApiKey { login, .. } => login,
        }
    }

    /// The password or API key.
    pub fn secret(&self) -> &SecretString {
        match self {
            Credentials::Password { secret, .. } | Credentials::ApiKey { secret, .. } => secret,
        }
    }

    /// Whether the secret is an API key (JSON-2 accepts nothing else).
    pub fn is_api_key(&self) -> bool {
        matches!(self, Credentials::ApiKey { .. })
    }

    /// Whether both hold the same kind, login and secret (compares the secrets, never shows them).
    pub fn same_as(&self, other: &Credentials) -> bool {
        self.is_api_key() == other.is_api_key()
            && self.login() == other.login()
            && self.secret().expose_secret() == other.secret().expose_secret()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, login) = match self {
            Credentials::Password { login, .. } => ("Password", login),
            Credentials::ApiKey { login, .. } => ("ApiKey", login),
        };
        f.debug_struct(kind)
            .field("login", login)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Gives the client its credentials, and new ones when Odoo refuses them.
///
/// Implementations must answer [`credentials`](CredentialProvider::credentials) quickly (from
/// memory): the client asks before every request. Fetching from a vault belongs in
/// [`refresh`](CredentialProvider::refresh), or in a background task that updates what
/// `credentials` returns.
#[async_trait]
pub trait CredentialProvider: Send + Sync {
    /// The credentials to use now.
    async fn credentials(&self) -> Result<Credentials>;

    /// Credentials to try after Odoo refused the current ones or the session expired. The
    /// default answers [`credentials`](CredentialProvider::credentials) again: a new login with
    /// the same secret is what an expired session needs. An error here ends the call with it.
    async fn refresh(&self) -> Result<Credentials> {
        self.credentials().await
    }
}

#[async_trait]
impl<T: CredentialProvider + ?Sized> CredentialProvider for Arc<T> {
    async fn credentials(&self) -> Result<Credentials> {
        (**self).credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        (**self).refresh().await
    }
}

#[async_trait]
impl<T: CredentialProvider + ?Sized> CredentialProvider for Box<T> {
    async fn credentials(&self) -> Result<Credentials> {
        (**self).credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        (**self).refresh().await
    }
}

/// Credentials that never change (what [`OdooClientBuilder::api_key`] and
/// [`OdooClientBuilder::password`] set). After a refusal the client logs in again with the
/// same ones, which fixes an expired session and nothing else.
///
/// [`OdooClientBuilder::api_key`]: crate::OdooClientBuilder::api_key
/// [`OdooClientBuilder::password`]: crate::OdooClientBuilder::password
#[derive(Clone, Debug)]
pub struct StaticCredentials(Credentials);

impl StaticCredentials {
    /// Serves `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        StaticCredentials(credentials)
    }
}

#[async_trait]
impl CredentialProvider for StaticCredentials {
    async fn credentials(&self) -> Result<Credentials> {
        Ok(self.0.clone())
    }
}

/// Credentials that can be replaced while clients use them; clones share them.
///
/// ```
/// use odoo_connect_client::credentials::SharedCredentials;
/// use odoo_connect_client::Credentials;
/// let keys = SharedCredentials::new(Credentials::api_key("admin", "old"));
/// let seen_by_client = keys.clone();
/// keys.replace(Credentials::api_key("admin", "new"));
/// assert!(seen_by_client.current().same_as(&Credentials::api_key("admin", "new")));
/// assert!(!format!("{keys:?}").contains("new"));
/// ```
#[derive(Clone)]
pub struct SharedCredentials(Arc<RwLock<Credentials>>);

impl SharedCredentials {
    /// Starts with `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        SharedCredentials(Arc::new(RwLock::new(credentials)))
    }

    /// Replaces the credentials; the next request of every client sharing them uses the new ones.
    pub fn replace(&self, credentials: Credentials) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = credentials;
    }

    /// The credentials now.
    pub fn current(&self) -> Credentials {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl fmt::Debug for SharedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedCredentials")
            .field(&self.current())
            .finish()
    }
}

#[async_trait]
impl CredentialProvider for SharedCredentials {
    async fn credentials(&self) -> Result<Credentials> {
        Ok(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_compares_kind_login_and_secret() {
        let a = Credentials::api_key("admin", "k1");
        assert!(a.same_as(&Credentials::api_key("admin", "k1")));
        assert!(!a.same_as(&Credentials::api_key("admin", "k2")));
        assert!(!a.same_as(&Credentials::api_key("demo", "k1")));
        assert!(!a.same_as(&Credentials::password("admin", "k1")));
    }

    #[test]
    fn providers_are_object_safe_and_send() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Arc<dyn CredentialProvider>>();
        check::<SharedCredentials>();
        let _: Arc<dyn CredentialProvider> =
            Arc::new(StaticCredentials::new(Credentials::password("a", "b")));
    }
}
