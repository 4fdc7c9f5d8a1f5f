//! A self-hosted Odoo behind a private certificate authority: a CA and a server certificate made
//! with rcgen, TLS served locally by rustls in front of the fake Odoo. Without the CA the client
//! fails with [`Error::Tls`]; with it (added to the builder, or in a `reqwest::Client` of the
//! caller's) calls go through.

use std::sync::Arc;

use odoo_connect_client::error::ConfigReason;
use odoo_connect_client::{Domain, Error, OdooClient, RetryPolicy};
use odoo_connect_fake::FakeOdoo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A private CA and a certificate it signed for `127.0.0.1`.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Example Private Root CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "erp.internal");
    let server = params.signed_by(&server_key, &ca, &ca_key).unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_chain: vec![server.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
    }
}

/// Terminates TLS on a local port and forwards the bytes to `upstream` (the fake Odoo), as a
/// reverse proxy in front of Odoo would.
async fn tls_front(pki: &Pki, upstream: std::net::SocketAddr) -> std::net::SocketAddr {
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake ends here: the client reports it.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut odoo) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut odoo).await;
            });
        }
    });
    addr
}

fn builder(addr: std::net::SocketAddr, fake: &FakeOdoo) -> odoo_connect_client::OdooClientBuilder {
    OdooClient::builder(format!("https://127.0.0.1:{}", addr.port()))
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .retry(RetryPolicy::none())
}

#[tokio::test]
async fn private_ca_is_refused_until_trusted() {
    let fake = FakeOdoo::start().await;
    let pki = pki();
    let addr = tls_front(&pki, fake.addr()).await;

    // Without the CA: the certificate is not trusted, a typed TLS error, nothing sent.
    let untrusting = builder(addr, &fake).build().unwrap();
    let e = untrusting.version().await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(e.is_tls() && e.is_unsent() && !e.is_retryable(), "{e}");
    // The message names the failure; the certificate problem is in the chain of sources, once.
    let source = std::error::Error::source(&e).expect("the TLS error keeps its cause");
    assert!(!e.to_string().contains(&source.to_string()), "{e}");
    assert_eq!(fake.request_count(), 0, "nothing reached Odoo");

    // With the CA's PEM: the same calls go through the TLS front to Odoo.
    let trusting = builder(addr, &fake)
        .add_root_certificate_pem(&pki.ca_pem)
        .build()
        .unwrap();
    assert_eq!(trusting.version().await.unwrap().major, 19);
    let n: i64 = trusting
        .model_named::<Value>("res.partner")
        .search_count(Domain::new().eq("is_company", true))
        .await
        .unwrap();
    assert!(n > 0);

    // As a reqwest::Certificate.
    let cert = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let also = builder(addr, &fake)
        .add_root_certificate(cert)
        .build()
        .unwrap();
    assert_eq!(
        also.protocol().await.unwrap(),
        odoo_connect_client::Protocol::Json2
    );
}

#[tokio::test]
async fn a_reqwest_client_of_the_callers_is_used_as_it_is() {
    let fake = FakeOdoo::start().await;
    let pki = pki();
    let addr = tls_front(&pki, fake.addr()).await;
    let cert = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(cert.clone())
        .user_agent("acme-sync/2.0")
        .build()
        .unwrap();
    let odoo = builder(addr, &fake).http_client(http).build().unwrap();
    let n: i64 = odoo
        .model_named::<Value>("res.partner")
        .search_count(Domain::new())
        .await
        .unwrap();
    assert!(n > 0);

    // A client without the CA fails the handshake, whoever built it.
    let plain = reqwest::Client::builder().build().unwrap();
    let e = builder(addr, &fake)
        .http_client(plain)
        .build()
        .unwrap()
        .version()
        .await
        .unwrap_err();
    assert!(e.is_tls(), "{e:?}");

    // Root certificates cannot be added to a client that is already built.
    let e = builder(addr, &fake)
        .http_client(reqwest::Client::new())
        .add_root_certificate(cert)
        .build()
        .unwrap_err();
    assert_eq!(
        e.config_reason(),
        Some(&ConfigReason::RootCertificatesWithHttpClient),
        "{e}"
    );
}

#[test]
fn a_pem_without_certificates_is_a_configuration_error() {
    let e = OdooClient::builder("https://erp.example.com")
        .add_root_certificate_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(e.is_config(), "{e}");
    assert_eq!(
        e.config_reason(),
        Some(&ConfigReason::NoRootCertificate),
        "{e}"
    );
}
