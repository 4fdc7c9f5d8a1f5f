//! What the real-Odoo suite shares: the server from the environment (`ODOO_URL`, `ODOO_DB`,
//! `ODOO_LOGIN`, `ODOO_PASSWORD`, `ODOO_API_KEY`, `ODOO_DEMO_API_KEY`, as
//! `eval "$(../shared/odoo/serve env)"` sets them), clients for it, and names of a run's own data.
//!
//! The suite never depends on the order of its tests nor on a reset between them: each test
//! works on records of its own, named with [`run_tag`], on a server that may hold earlier runs'.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use odoo_connect::odoo::{OdooClient, Protocol, RetryPolicy};

/// The server the environment names.
#[derive(Clone)]
pub struct RealOdoo {
    pub url: String,
    pub db: String,
    pub login: String,
    pub password: String,
    pub api_key: String,
    pub demo_api_key: Option<String>,
}

impl std::fmt::Debug for RealOdoo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealOdoo")
            .field("url", &self.url)
            .field("db", &self.db)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// The server, or `None` (the test returns; without `ODOO_URL` it is marked ignored anyway).
pub fn real() -> Option<RealOdoo> {
    let url = std::env::var("ODOO_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(RealOdoo {
        url,
        db: var("ODOO_DB").unwrap_or_default(),
        login: var("ODOO_LOGIN").unwrap_or_else(|| "admin".into()),
        password: var("ODOO_PASSWORD").unwrap_or_else(|| "admin".into()),
        api_key: var("ODOO_API_KEY").expect("ODOO_API_KEY is set with ODOO_URL"),
        demo_api_key: var("ODOO_DEMO_API_KEY"),
    })
}

impl RealOdoo {
    /// A client as the administrator with the API key, on `protocol`.
    pub fn admin(&self, protocol: Protocol) -> OdooClient {
        OdooClient::builder(self.url.clone())
            .database(self.db.clone())
            .api_key(self.login.clone(), self.api_key.clone())
            .protocol(protocol)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client")
    }

    /// A client as the administrator with the password (JSON-RPC only).
    pub fn admin_password(&self) -> OdooClient {
        OdooClient::builder(self.url.clone())
            .database(self.db.clone())
            .password(self.login.clone(), self.password.clone())
            .protocol(Protocol::JsonRpc)
            .build()
            .expect("client")
    }

    /// A client as the demo user (`demo`), with its API key, on `protocol`.
    pub fn demo(&self, protocol: Protocol) -> Option<OdooClient> {
        let key = self.demo_api_key.clone()?;
        Some(
            OdooClient::builder(self.url.clone())
                .database(self.db.clone())
                .api_key("demo", key)
                .protocol(protocol)
                .build()
                .expect("client"),
        )
    }

    /// A client as the administrator without transport retries (the pipeline retries).
    pub fn admin_no_retry(&self) -> OdooClient {
        OdooClient::builder(self.url.clone())
            .database(self.db.clone())
            .api_key(self.login.clone(), self.api_key.clone())
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client")
    }
}

/// A tag unique to this run of this test binary, for names and keys of the run's own records.
pub fn run_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("r{:x}{:x}", std::process::id(), nanos % 0xffff_ffff)
    })
}
