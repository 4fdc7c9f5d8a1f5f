//! Credentials that change while the client runs: an expired session logs in again once and
//! the call is retried once; a rotated key is used from the provider without a restart; a
//! revoked key ends with the typed error after one new attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use odoo_connect_client::credentials::{CredentialProvider, Credentials, SharedCredentials};
use odoo_connect_client::{
    Domain, Error, OdooClient, OdooErrorKind, Protocol, RetryPolicy, Values,
};
use odoo_connect_fake::FakeOdoo;
use serde_json::Value;

fn calls(fake: &FakeOdoo, name: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.call.as_deref() == Some(name))
        .count()
}

fn client(fake: &FakeOdoo, protocol: Protocol) -> odoo_connect_client::OdooClientBuilder {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .protocol(protocol)
        .retry(RetryPolicy::none())
}

async fn companies(odoo: &OdooClient) -> odoo_connect_client::Result<i64> {
    odoo.model_named::<Value>("res.partner")
        .search_count(Domain::new().eq("is_company", true))
        .await
}

#[tokio::test]
async fn expired_session_logs_in_again_and_retries_once() {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::JsonRpc)
        .password(FakeOdoo::ADMIN_LOGIN, FakeOdoo::ADMIN_PASSWORD)
        .build()
        .unwrap();
    let before = companies(&odoo).await.unwrap();
    assert_eq!(calls(&fake, "common.authenticate"), 1);

    fake.expire_sessions();
    assert_eq!(companies(&odoo).await.unwrap(), before);
    assert_eq!(calls(&fake, "common.authenticate"), 2, "one new login");
    assert_eq!(
        calls(&fake, "res.partner.search_count"),
        3,
        "first call, the refused one, its retry"
    );

    // A write refused for the session never ran: it is sent again and happens once.
    let partners = fake.count("res.partner");
    fake.expire_sessions();
    let id = odoo
        .model_named::<Value>("res.partner")
        .create(&Values::new().set("name", "Acme Renewals"))
        .await
        .unwrap();
    assert_eq!(fake.count("res.partner"), partners + 1);
    assert!(fake.record("res.partner", id.0).is_some());
    assert_eq!(calls(&fake, "common.authenticate"), 3);
}

#[tokio::test]
async fn concurrent_refusals_log_in_once() {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::JsonRpc)
        .api_key(FakeOdoo::ADMIN_LOGIN, fake.admin_api_key())
        .build()
        .unwrap();
    companies(&odoo).await.unwrap();
    fake.expire_sessions();
    let all = futures_join(&odoo, 8).await;
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    assert_eq!(calls(&fake, "common.authenticate"), 2, "one login for all");
}

async fn futures_join(odoo: &OdooClient, n: usize) -> Vec<odoo_connect_client::Result<i64>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let odoo = odoo.clone();
        tasks.push(tokio::spawn(async move { companies(&odoo).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn rotated_key_is_taken_from_the_provider_without_a_refusal() {
    for protocol in [Protocol::JsonRpc, Protocol::Json2] {
        let fake = FakeOdoo::start().await;
        let keys = SharedCredentials::new(Credentials::api_key("admin", fake.admin_api_key()));
        let odoo = client(&fake, protocol)
            .credential_provider(keys.clone())
            .build()
            .unwrap();
        companies(&odoo).await.unwrap();

        assert!(fake.set_api_key("admin", "rotated-key-2026-12"));
        keys.replace(Credentials::api_key("admin", "rotated-key-2026-12"));
        fake.clear_requests();
        companies(&odoo).await.unwrap();
        let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
        assert!(
            statuses.iter().all(|s| *s == Some(200)),
            "{protocol}: no refused request: {statuses:?}"
        );
        let logins = calls(&fake, "common.authenticate");
        assert_eq!(
            logins,
            usize::from(protocol == Protocol::JsonRpc),
            "{protocol}: JSON-RPC logs the new key in, JSON-2 just sends it"
        );
    }
}

/// Serves the key it last fetched; `refresh` fetches the current one from the "vault".
#[derive(Debug)]
struct VaultKey {
    vault: SharedCredentials,
    cached: SharedCredentials,
    refreshes: AtomicUsize,
}

#[async_trait]
impl CredentialProvider for VaultKey {
    async fn credentials(&self) -> odoo_connect_client::Result<Credentials> {
        Ok(self.cached.current())
    }

    async fn refresh(&self) -> odoo_connect_client::Result<Credentials> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let fresh = self.vault.current();
        self.cached.replace(fresh.clone());
        Ok(fresh)
    }
}

#[tokio::test]
async fn refused_key_is_refreshed_once_and_the_call_retried() {
    for protocol in [Protocol::JsonRpc, Protocol::Json2] {
        let fake = FakeOdoo::start().await;
        let start = Credentials::api_key("admin", fake.admin_api_key());
        let provider = Arc::new(VaultKey {
            vault: SharedCredentials::new(start.clone()),
            cached: SharedCredentials::new(start),
            refreshes: AtomicUsize::new(0),
        });
        let odoo = client(&fake, protocol)
            .credential_provider(provider.clone())
            .build()
            .unwrap();
        let before = companies(&odoo).await.unwrap();

        // The key is rotated in Odoo and in the vault; the provider still serves the old one.
        fake.set_api_key("admin", "rotated-in-the-vault");
        provider
            .vault
            .replace(Credentials::api_key("admin", "rotated-in-the-vault"));
        fake.clear_requests();
        assert_eq!(companies(&odoo).await.unwrap(), before, "{protocol}");
        assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1, "{protocol}");
        let seen: Vec<_> = fake
            .requests()
            .iter()
            .map(|r| (r.call.clone().unwrap_or_default(), r.status))
            .collect();
        let expected: Vec<(String, Option<u16>)> = match protocol {
            Protocol::Json2 => vec![
                ("res.partner.search_count".into(), Some(401)),
                ("res.partner.search_count".into(), Some(200)),
            ],
            // JSON-RPC answers AccessDenied with HTTP 200, before naming the model method.
            _ => vec![
                ("object.execute_kw".into(), Some(200)),
                ("common.authenticate".into(), Some(200)),
                ("res.partner.search_count".into(), Some(200)),
            ],
        };
        assert_eq!(seen, expected, "{protocol}");
        // The next call uses the refreshed key directly.
        fake.clear_requests();
        companies(&odoo).await.unwrap();
        assert_eq!(fake.requests().len(), 1, "{protocol}");
        assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn revoked_key_is_the_typed_error_after_one_new_attempt() {
    // JSON-2: the call is refused (401), the provider gives the same key, the retry is
    // refused again: AccessDenied with the 401.
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::Json2)
        .api_key("admin", fake.admin_api_key())
        .build()
        .unwrap();
    companies(&odoo).await.unwrap();
    fake.set_api_key("admin", "somebody-else-has-it");
    fake.clear_requests();
    let e = companies(&odoo).await.unwrap_err();
    assert!(e.is_access_denied(), "{e:?}");
    assert_eq!(e.status(), Some(401));
    let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(401), Some(401)]);

    // JSON-RPC: execute_kw is refused, the new login is refused: AccessDenied, no third call.
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::JsonRpc)
        .api_key("admin", fake.admin_api_key())
        .build()
        .unwrap();
    companies(&odoo).await.unwrap();
    fake.set_api_key("admin", "somebody-else-has-it");
    fake.clear_requests();
    let e = companies(&odoo).await.unwrap_err();
    assert_eq!(e.odoo_kind(), Some(OdooErrorKind::AccessDenied), "{e:?}");
    let names: Vec<_> = fake
        .requests()
        .iter()
        .map(|r| r.call.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["object.execute_kw", "common.authenticate"]);
}

/// A provider whose vault is unreachable.
#[derive(Debug)]
struct Unreachable;

#[async_trait]
impl CredentialProvider for Unreachable {
    async fn credentials(&self) -> odoo_connect_client::Result<Credentials> {
        Err(Error::credentials(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "vault unreachable",
        )))
    }
}

#[tokio::test]
async fn a_failing_provider_is_a_typed_error() {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake, Protocol::Auto)
        .credential_provider(Unreachable)
        .build()
        .unwrap();
    let e = companies(&odoo).await.unwrap_err();
    assert!(matches!(e, Error::Credentials { .. }), "{e:?}");
    assert!(
        std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("vault unreachable"))
    );
}

#[test]
fn provider_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let keys = SharedCredentials::new(Credentials::password("a", "b"));
    send(keys.credentials());
    send(keys.refresh());
}
