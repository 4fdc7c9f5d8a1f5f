//! `odoo-connect alerts check` as a process: a dead letter in a SQLite state sends one Slack
//! message (to a local fake webhook), a second check sends nothing, and neither the webhook's
//! token nor anything secret reaches the output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::{CorrelationId, Envelope, IdempotencyKey};
use odoo_connect::sync::store::{DeadLetters, Failure, FailureClass};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_odoo-connect");
const HOOK: &str = "/services/T000/B000/TOKENSECRET123";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-alerts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

fn check(state: &Path, webhook: &str) -> Output {
    let mut c = Command::new(BIN);
    for var in ["DATABASE_URL", "ODOO_URL", "USER"] {
        c.env_remove(var);
    }
    c.env("ALERT_SLACK_WEBHOOK_URL", webhook)
        .args(["alerts", "check", "--dead-letters-above", "0", "--state"])
        .arg(state)
        .args(["--report-url", "https://ops.example.com/report.html"])
        .output()
        .expect("run the binary")
}

#[tokio::test]
async fn a_dead_letter_is_sent_to_slack_once() {
    let dir = scratch("once");
    let state = dir.join("state.sqlite");
    let store = SqliteStore::open(&state).await.expect("open");
    let envelope = Envelope::builder(
        IdempotencyKey::new("hubspot:deal:4712").expect("key"),
        json!({"deal": 4712}),
    )
    .source("hubspot")
    .legal_entity("BE".parse().expect("entity"))
    .correlation_id(CorrelationId::new("deal:4712").expect("cid"))
    .build()
    .expect("envelope");
    store
        .park(
            &envelope,
            Failure::new(FailureClass::Business, "contract cap reached"),
            1,
        )
        .await
        .expect("park");
    store.close().await;
    // The same state before any alert was sent, for the refused webhook below.
    let dir2 = scratch("refused");
    let state2 = dir2.join("state.sqlite");
    std::fs::copy(&state, &state2).expect("copy");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let webhook = format!("{}{HOOK}", server.uri());

    let out = check(&state, &webhook);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("firing dead_letters [critical] 1 open dead letters"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sent firing dead_letters to slack"),
        "{stdout}"
    );
    assert!(!stdout.contains("TOKENSECRET") && !stderr.contains("TOKENSECRET"));

    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body["text"], "[CRITICAL] 1 open dead letters");
    assert_eq!(body["blocks"][0]["type"], "header");

    let out = check(&state, &webhook);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sent "));
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1);

    // A refused webhook: exit 1, the token never printed.
    let bad = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .env(
            "ALERT_SLACK_WEBHOOK_URL",
            "http://127.0.0.1:9/services/T/B/TOKENSECRET999",
        )
        .args(["alerts", "check", "--dead-letters-above", "0", "--state"])
        .arg(&state2)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not be sent"), "{stderr}");
    assert!(!stderr.contains("TOKENSECRET"), "{stderr}");
}

/// On the real Odoo (skipped without `ODOO_URL`): the unbilled-value alerts fire for exactly the
/// legal entities and currencies whose unbilled total in the report is above the threshold, one
/// per currency.
#[tokio::test]
async fn unbilled_alerts_match_the_report_on_the_real_odoo() {
    let Some(url) = std::env::var("ODOO_URL").ok().filter(|u| !u.is_empty()) else {
        println!("skipped: ODOO_URL not set");
        return;
    };
    let dir = scratch("odoo");
    let state = dir.join("state.sqlite");
    SqliteStore::open(&state).await.expect("open").close().await;
    let odoo = |c: &mut Command| {
        c.env_remove("DATABASE_URL").env("ODOO_URL", &url);
        for var in ["ODOO_DB", "ODOO_LOGIN", "ODOO_API_KEY", "ODOO_PASSWORD"] {
            if let Ok(v) = std::env::var(var) {
                c.env(var, v);
            }
        }
    };
    let mut report = Command::new(BIN);
    odoo(&mut report);
    let out = report
        .args(["report", "--json", "--state"])
        .arg(&state)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut expected = Vec::new();
    for entity in report["unbilled"]["totals"]["by_legal_entity"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for amount in entity["amounts"].as_array().into_iter().flatten() {
            let currency = amount["currency"].as_str().unwrap_or_default();
            let value: f64 = amount["amount"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .or_else(|| amount["amount"].as_f64())
                .unwrap_or_default();
            if matches!(currency, "EUR" | "USD") && value > 0.01 {
                expected.push(format!(
                    "unbilled:{}:{currency}",
                    entity["legal_entity"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    expected.sort();

    let mut check = Command::new(BIN);
    odoo(&mut check);
    let out = check
        .args([
            "alerts",
            "check",
            "--dry-run",
            "--unbilled-above",
            "EUR:0.01",
        ])
        .args(["--unbilled-above", "USD:0.01", "--state"])
        .arg(&state)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fired: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("firing "))
        .filter_map(|l| l.split(" [").next())
        .map(str::to_owned)
        .collect();
    fired.sort();
    assert_eq!(fired, expected, "{stdout}");
    println!("unbilled alerts on the real Odoo: {fired:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
