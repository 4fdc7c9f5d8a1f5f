//! Access tokens for the HTTP connectors: where a bearer token comes from and how it is renewed.
//!
//! A connector asks its [`AccessTokenProvider`] for a token before each request. When the system
//! refuses the token as expired (HTTP 401), the connector asks the provider to
//! [`refresh`](AccessTokenProvider::refresh) it once and retries the request once; a second refusal
//! is a [`ConnectorError::Auth`]. [`StaticToken`] serves a token obtained elsewhere and cannot be
//! refreshed; a connector may offer an OAuth implementation of its own (for Salesforce,
//! `salesforce::SalesforceOAuth`).
//!
//! Tokens are [`SecretString`]s: they never appear in `Debug` output or in errors.
//!
//! The Odoo client takes its credentials the same way: `odoo_connect_client::CredentialProvider` has the
//! same two methods (the secret now, a new one after a refusal), the same `Arc` blanket impl and
//! the same once-then-typed-error retry. The two traits stay apart because what they hand out
//! differs (a bearer token here; a login with a password or an API key there, which JSON-RPC
//! logs in with) and so do their errors ([`ConnectorError`] here, the Odoo client's `Error`
//! there): one trait generic over both would make every implementation name both.
//!
//! ```
//! use odoo_connect_connectors::auth::{AccessTokenProvider, StaticToken};
//! use secrecy::ExposeSecret;
//!
//! # tokio_test_block(async {
//! let token = StaticToken::new("00D000000000001!AQ4AQ");
//! assert_eq!(token.token().await?.expose_secret(), "00D000000000001!AQ4AQ");
//! assert!(token.refresh().await.is_err());
//! assert!(!format!("{token:?}").contains("AQ4AQ"));
//! # Ok::<(), odoo_connect_connectors::ConnectorError>(())
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use super::ConnectorError;

/// Gives the bearer token of a connector's requests, and a new one when the system refuses it.
#[async_trait]
pub trait AccessTokenProvider: Send + Sync {
    /// The token to send now (a cached one when the provider keeps one).
    async fn token(&self) -> Result<SecretString, ConnectorError>;

    /// A new token, after the system refused the last one as expired or invalid. An error here
    /// (a revoked refresh token, a token that cannot be renewed) ends the request with it.
    async fn refresh(&self) -> Result<SecretString, ConnectorError>;
}

#[async_trait]
impl<T: AccessTokenProvider + ?Sized> AccessTokenProvider for Arc<T> {
    async fn token(&self) -> Result<SecretString, ConnectorError> {
        (**self).token().await
    }

    async fn refresh(&self) -> Result<SecretString, ConnectorError> {
        (**self).refresh().await
    }
}

/// A token obtained elsewhere (by any OAuth flow, or a long-lived key). It cannot be refreshed:
/// when the system refuses it, the request fails with [`ConnectorError::Auth`].
#[derive(Clone)]
pub struct StaticToken(SecretString);

impl StaticToken {
    /// Serves `token`.
    pub fn new(token: impl Into<SecretString>) -> StaticToken {
        StaticToken(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(** redacted **)")
    }
}

#[async_trait]
impl AccessTokenProvider for StaticToken {
    async fn token(&self) -> Result<SecretString, ConnectorError> {
        Ok(self.0.clone())
    }

    async fn refresh(&self) -> Result<SecretString, ConnectorError> {
        Err(ConnectorError::Auth {
            status: None,
            message: "the access token was refused and a static token cannot be refreshed".into(),
        })
    }
}
