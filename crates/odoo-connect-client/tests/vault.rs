//! The Vault KV v2 credential provider against a local server that answers as Vault's HTTP API
//! documents: `GET /v1/<mount>/data/<path>` with `X-Vault-Token`, `POST /v1/auth/approle/login`,
//! `{"errors": [...]}` bodies with 403 and 404.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use odoo_connect_client::credentials::{
    CredentialProvider, SecretSourceError, VaultAuth, VaultKv2,
};
use odoo_connect_client::{Credentials, Error};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Default)]
struct Vault {
    version: u64,
    key: String,
    tokens: HashSet<String>,
    logins: u32,
    reads: u32,
}

/// Serves `vault` on a local port; returns its address.
async fn serve(vault: Arc<Mutex<Vault>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let vault = vault.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.trim()
                                .eq_ignore_ascii_case(name)
                                .then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let length: usize = header("content-length").parse().unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
                let line = head.lines().next().unwrap_or_default().to_owned();
                let (status, reply) = {
                    let mut v = vault.lock().expect("the vault");
                    if line.starts_with("POST /v1/auth/approle/login ") {
                        if body["role_id"] == "role-1" && body["secret_id"] == "secret-id-1" {
                            v.logins += 1;
                            let token = format!("hvs.token-{}", v.logins);
                            v.tokens.insert(token.clone());
                            (
                                200,
                                json!({"auth": {"client_token": token, "lease_duration": 3600, "renewable": true}}),
                            )
                        } else {
                            (400, json!({"errors": ["invalid role or secret ID"]}))
                        }
                    } else if line.starts_with("GET /v1/secret/data/odoo/sync-bot ") {
                        if !v.tokens.contains(&header("x-vault-token")) {
                            (403, json!({"errors": ["permission denied"]}))
                        } else {
                            v.reads += 1;
                            (
                                200,
                                json!({
                                    "request_id": "5a1c", "lease_id": "", "renewable": false, "lease_duration": 0,
                                    "data": {
                                        "data": {"login": "sync-bot", "api_key": v.key},
                                        "metadata": {"created_time": "2026-12-07T10:00:00Z", "custom_metadata": null,
                                                      "deletion_time": "", "destroyed": false, "version": v.version}
                                    },
                                    "wrap_info": null, "warnings": null, "auth": null
                                }),
                            )
                        }
                    } else {
                        (404, json!({"errors": []}))
                    }
                };
                let text = reply.to_string();
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    address
}

fn approle() -> VaultAuth {
    VaultAuth::AppRole {
        mount: "approle".into(),
        role_id: "role-1".into(),
        secret_id: "secret-id-1".to_owned().into(),
    }
}

fn key_of(c: &Credentials) -> String {
    c.secret().expose_secret().to_owned()
}

#[tokio::test]
async fn a_key_rotated_in_vault_is_read_after_a_refusal_and_the_token_is_renewed() {
    let vault = Arc::new(Mutex::new(Vault {
        version: 1,
        key: "key-v1".into(),
        ..Vault::default()
    }));
    let address = serve(vault.clone()).await;
    let keys = VaultKv2::builder(&address, "secret", "/odoo/sync-bot/")
        .auth(approle())
        .build()
        .expect("a provider");
    let c = keys.credentials().await.expect("credentials");
    assert_eq!((c.login(), key_of(&c).as_str()), ("sync-bot", "key-v1"));
    assert_eq!(keys.version().await, Some(1));
    // Served from memory: the client asks before every request.
    keys.credentials().await.expect("credentials");
    assert_eq!(vault.lock().expect("the vault").reads, 1);

    // The key is rotated in Vault; the client sees it after Odoo refuses the old one.
    {
        let mut v = vault.lock().expect("the vault");
        v.version = 2;
        v.key = "key-v2".into();
    }
    assert_eq!(key_of(&keys.credentials().await.expect("cached")), "key-v1");
    assert_eq!(key_of(&keys.refresh().await.expect("refreshed")), "key-v2");
    assert_eq!(keys.version().await, Some(2));

    // The token is revoked (its lease ended early): the provider logs in again, once.
    vault.lock().expect("the vault").tokens.clear();
    assert_eq!(
        key_of(&keys.refresh().await.expect("after a new login")),
        "key-v2"
    );
    assert_eq!(vault.lock().expect("the vault").logins, 2);
    // Nothing secret in Debug.
    let debug = format!("{keys:?}");
    assert!(
        !debug.contains("secret-id-1") && !debug.contains("key-v"),
        "{debug}"
    );
}

#[tokio::test]
async fn refusals_are_typed_and_never_hold_a_secret() {
    let vault = Arc::new(Mutex::new(Vault {
        version: 1,
        key: "key-v1".into(),
        ..Vault::default()
    }));
    let address = serve(vault.clone()).await;
    // A token without the right: 403, not retryable, named.
    let keys = VaultKv2::builder(&address, "secret", "odoo/sync-bot")
        .auth(VaultAuth::Token("hvs.not-allowed".to_owned().into()))
        .build()
        .expect("a provider");
    let e = keys.credentials().await.expect_err("refused");
    let source = match &e {
        Error::Credentials { source } => source.downcast_ref::<SecretSourceError>(),
        _ => None,
    };
    assert!(
        source.is_some_and(SecretSourceError::is_permission_denied),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(!format!("{e:?} {e}").contains("hvs.not-allowed"));
    // A wrong secret id: the login is refused with Vault's own message.
    let keys = VaultKv2::builder(&address, "secret", "odoo/sync-bot")
        .auth(VaultAuth::AppRole {
            mount: "approle".into(),
            role_id: "role-1".into(),
            secret_id: "wrong-secret-id".to_owned().into(),
        })
        .build()
        .expect("a provider");
    let e = keys.credentials().await.expect_err("refused");
    let text = odoo_connect_client::Error::to_string(&e);
    let chain = format!("{e:?}");
    assert!(chain.contains("invalid role or secret ID"), "{chain}");
    assert!(!chain.contains("wrong-secret-id") && !text.contains("wrong-secret-id"));
    // A secret that does not exist: 404.
    let keys = VaultKv2::builder(&address, "secret", "odoo/nobody")
        .auth(approle())
        .build()
        .expect("a provider");
    let e = keys.credentials().await.expect_err("missing");
    assert!(format!("{e:?}").contains("404"), "{e:?}");
}

#[tokio::test]
async fn an_unreachable_vault_is_retryable() {
    // A port nothing listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        l.local_addr().expect("an address").port()
    };
    let keys = VaultKv2::builder(
        format!("http://127.0.0.1:{port}"),
        "secret",
        "odoo/sync-bot",
    )
    .auth(approle())
    .build()
    .expect("a provider");
    let e = keys.credentials().await.expect_err("unreachable");
    assert!(e.is_retryable(), "{e:?}");
}

#[test]
fn a_bad_address_or_no_token_is_a_configuration_error() {
    let e = VaultKv2::builder("ftp://vault", "secret", "x")
        .auth(approle())
        .build()
        .expect_err("refused");
    assert!(e.is_config(), "{e:?}");
    let e = VaultKv2::builder("https://user:pw@vault", "secret", "x")
        .auth(approle())
        .build()
        .expect_err("refused");
    assert!(e.is_config(), "{e:?}");
}
