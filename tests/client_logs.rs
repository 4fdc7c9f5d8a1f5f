//! No secret and no record content ever reaches the logs. In a test binary of its own so that
//! no other test's thread races the subscriber's callsite cache.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use odoo_connect::odoo::{Domain, OdooClient, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .jitter(false)
        .max_attempts(3)
}

async fn mount_version(server: &MockServer, major: u32) {
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "version"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jsonrpc": "2.0", "id": 1, "result": {
            "server_version": format!("{major}.0"),
            "server_version_info": [major, 0, 0, "final", 0, ""]}}),
        ))
        .mount(server)
        .await;
}

/// A writer that keeps everything logged, to check that no secret ever reaches the logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_and_record_contents_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    mount_version(&server, 19).await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/create"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_read"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "name": "PRIVATE-NAME"}])),
        )
        .mount(&server)
        .await;
    let odoo = OdooClient::builder(server.uri())
        .api_key("admin", "SUPER-SECRET-KEY")
        .retry(fast_retry())
        .build()
        .unwrap();
    let h = odoo.model_named::<Value>("res.partner");
    let _ = h.create(&json!({"name": "PRIVATE-NAME"})).await;
    let _ = h.search_read(Domain::new()).await.unwrap();
    let _ = format!("{odoo:?}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("odoo.call"), "spans are logged: {logs}");
    assert!(!logs.contains("SUPER-SECRET-KEY"), "{logs}");
    assert!(!logs.contains("PRIVATE-NAME"), "{logs}");
    // Requests received carry the key only in the Authorization header.
    let requests: Vec<Request> = server.received_requests().await.unwrap();
    for r in requests {
        assert!(!String::from_utf8_lossy(&r.body).contains("SUPER-SECRET-KEY"));
    }
}
