//! No secret leaks: the contract-to-cash run every example makes (`examples/data/demo.rs`), a
//! signed-contract webhook with its HMAC key, a Salesforce OAuth refresh with its client secret
//! and refresh token, Odoo over JSON-RPC (the key in the request body) through replies cut,
//! refused and failing, the example binaries already built under `target/debug/examples` (run
//! with their secrets in the environment; skipped when not built) and the `odoo-connect` CLI
//! (secrets in its environment), all with tracing at trace level (the `log` records of the HTTP
//! stack included) captured to a buffer. Every output, log line, dead letter, audit row, error,
//! `Debug` of a client and the bytes of the state file are searched for each secret, as is and
//! in its base64 and URL-encoded forms: none may appear.
//!
//! `cargo test --features cli,testkit,hubspot,salesforce,timesheet-csv,camt053,esign-webhook --test secrets_never_leak -- --nocapture`

#[path = "../../../examples/data/demo.rs"]
mod demo;
#[path = "../../../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../../../examples/data/flows_setup.rs"]
mod flows_setup;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use odoo_connect::connector::esign_webhook::{EsignWebhook, sign_docusign};
use odoo_connect::connector::salesforce::{Salesforce, SalesforceOAuth};
use odoo_connect::connector::{HeaderMap, PushedEvent, pull_all};
use odoo_connect::odoo::{OdooCall, OdooClient, RetryPolicy};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{AuditLog, AuditQuery, DeadLetterFilter, DeadLetters};
use odoo_connect::testkit::FakeOdoo;
use odoo_connect::testkit::fault_proxy::{Fault, FaultPlan, FaultProxy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_odoo-connect");

const WEBHOOK_KEY: &str = "whsec-Hm4c-K3y-8c1f2e77a0";
const SF_CLIENT_SECRET: &str = "sf-cs-7D2A9F41C0E3B5";
const SF_REFRESH_TOKEN: &str = "5Aep861-rEfReSh-T0ken-99x";
const SF_ACCESS_TOKEN: &str = "00D5g-acc3ss-T0k3n!QAoAQ";
const CLI_API_KEY: &str = "cli-odoo-api-key-3f9c2d";
const CLI_PASSWORD: &str = "cli-odoo-p4ss-w0rd-71";
const PG_PASSWORD: &str = "pg-p4ss-Secr3t-55";
const FILE_API_KEY: &str = "file-odoo-api-key-b81e4a";
const VAULT_SECRET_ID: &str = "vault-s3cret-id-2c7f90";
const VAULT_TOKEN: &str = "hvs.vault-t0ken-6d1e33";

/// Everything written by tracing (and by the `log` crate, bridged), at trace level.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        use tracing_subscriber::util::SubscriberInitExt;
        subscriber
            .try_init()
            .expect("the only subscriber of this test binary");
        buffer
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A secret and the forms it could leak in.
fn forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let url: String = b
        .iter()
        .map(|&c| {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let mut out = vec![
        secret.to_owned(),
        url,
        base64::engine::general_purpose::STANDARD.encode(b),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
    ];
    // Inside a longer base64 text (a Basic header `login:secret`), at each of the three
    // alignments: the middle of the encoding is stable.
    for pad in ["", "x", "xx"] {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{pad}{secret}"));
        let skip = (pad.len() * 4).div_ceil(3) + 1;
        if enc.len() > skip + 8 {
            out.push(enc[skip..enc.len() - 4].to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every secret of `secrets` found in `text`, with its form.
fn leaks(what: &str, text: &str, secrets: &[(&str, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, secret) in secrets {
        for form in forms(secret) {
            if text.contains(&form) {
                found.push(format!("{what}: {name} as `{form}`"));
            }
        }
    }
    found
}

/// Runs `cmd` to its end (killed after two minutes); stdout and stderr together.
fn run_to_end(mut cmd: Command) -> (Option<i32>, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (None, format!("cannot run: {e}")),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    while !waiter.is_finished() {
        if Instant::now() > deadline {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match waiter.join() {
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.code(), text)
        }
        _ => (None, String::new()),
    }
}

/// The environment variables the examples and the CLI read, none inherited.
fn clean(mut cmd: Command) -> Command {
    for var in [
        "DATABASE_URL",
        "ODOO_URL",
        "ODOO_DB",
        "ODOO_LOGIN",
        "ODOO_API_KEY",
        "ODOO_API_KEY_FILE",
        "ODOO_VAULT_SECRET",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_TOKEN_FILE",
        "VAULT_ROLE_ID",
        "VAULT_SECRET_ID",
        "ODOO_PASSWORD",
        "HUBSPOT_URL",
        "HUBSPOT_TOKEN",
        "TIME_CSV",
        "CAMT053",
        "STATE_DIR",
        "FAKE_ODOO_SEED",
        "CRM_DEAL_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "trace");
    cmd
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("secrets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_outputs_logs_letters_audit_or_state() {
    let logs = logs();
    let mut texts: Vec<(String, String)> = Vec::new();

    // 1. The contract-to-cash run of the examples, on the fakes, to a SQLite state.
    let state_dir = scratch("demo");
    let d = demo::Demo::start_on_fakes("secrets-test")
        .await
        .expect("start");
    let fake_key = d
        .fake
        .as_ref()
        .map(FakeOdoo::admin_api_key)
        .expect("the demo runs on the fake");
    d.book_deals(false).await.expect("book deals");
    d.bill_time(false).await.expect("bill time");
    d.release_invoices(false).await.expect("release invoices");
    d.collect(false).await.expect("collect payments");
    texts.push(("Debug of the flows".into(), format!("{:?}", d.flows)));
    texts.push((
        "Debug of the Odoo client".into(),
        format!("{:?}", d.flows.odoo()),
    ));

    // 2. A signed-contract webhook: signed, forged, and the receiver's Debug.
    let store = SqliteStore::open(state_dir.join("webhook.sqlite"))
        .await
        .unwrap();
    let webhook = EsignWebhook::docusign(WEBHOOK_KEY).build().unwrap();
    for key in [WEBHOOK_KEY, "whsec-wrong"] {
        let body = json!({"event": "envelope-completed",
            "generatedDateTime": chrono::Utc::now().to_rfc3339(),
            "data": {"envelopeId": "e-1", "envelopeSummary": {"status": "completed",
            "customFields": {"textCustomFields": [], "listCustomFields": []}}}})
        .to_string()
        .into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert(
            webhook
                .signature_header()
                .parse::<reqwest::header::HeaderName>()
                .unwrap(),
            sign_docusign(&key.to_owned().into(), &body)
                .parse()
                .unwrap(),
        );
        let r = d
            .flows
            .receive_event(&webhook, &PushedEvent::new(headers, body), &store)
            .await;
        texts.push(("webhook outcome".into(), format!("{r:?}")));
    }
    texts.push(("Debug of the webhook".into(), format!("{webhook:?}")));

    // 3. Salesforce: a refresh refused, then an access token refused by the API.
    let sf = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
        ))
        .mount(&sf)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
        ))
        .mount(&sf)
        .await;
    let oauth = SalesforceOAuth::new(&sf.uri(), "3MVG9-consumer-key", SF_REFRESH_TOKEN)
        .unwrap()
        .client_secret(SF_CLIENT_SECRET);
    texts.push(("Debug of the OAuth flow".into(), format!("{oauth:?}")));
    let refreshing = Salesforce::with_token_provider(sf.uri(), oauth)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let r = pull_all(&refreshing, None, 50, 2).await;
    texts.push(("Salesforce pull, refresh refused".into(), format!("{r:?}")));
    if let Err(e) = &r {
        texts.push(("Salesforce error".into(), e.to_string()));
    }
    let oauth = SalesforceOAuth::new(&sf.uri(), "3MVG9-consumer-key", SF_REFRESH_TOKEN)
        .unwrap()
        .client_secret(SF_CLIENT_SECRET)
        .access_token(SF_ACCESS_TOKEN);
    let with_token = Salesforce::with_token_provider(sf.uri(), oauth)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    texts.push(("Debug of Salesforce".into(), format!("{with_token:?}")));
    let r = pull_all(&with_token, None, 50, 2).await;
    texts.push(("Salesforce pull, token refused".into(), format!("{r:?}")));
    let static_token = Salesforce::builder(sf.uri(), SF_ACCESS_TOKEN)
        .legal_entity("firm-eu".parse().unwrap())
        .build()
        .unwrap();
    let r = pull_all(&static_token, None, 50, 2).await;
    texts.push(("Salesforce pull, static token".into(), format!("{r:?}")));

    // 4. Odoo 17 over JSON-RPC (the key travels in the body) through a proxy that cuts,
    // refuses and stalls replies, and a call Odoo refuses.
    let fake17 = FakeOdoo::builder().version(17).start().await;
    let key17 = fake17.admin_api_key();
    let proxy = FaultProxy::start(
        &fake17.url(),
        // Requests 0 and 1 open the session (`common.version`, `common.authenticate`).
        FaultPlan::script([
            (2, Fault::CutMidBody),
            (3, Fault::BadGateway),
            (4, Fault::ResetAfterForward),
            (5, Fault::TooManyRequestsRetryAfter),
        ]),
    )
    .await
    .unwrap();
    let odoo17 = OdooClient::builder(proxy.url())
        .database(fake17.database())
        .api_key("admin", key17.clone())
        .timeout(Duration::from_secs(5))
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap();
    for call in [
        OdooCall::new("res.partner", "search_count")
            .arg("domain", json!([]))
            .read_only(),
        OdooCall::new("res.partner", "write")
            .ids([1])
            .arg("vals", json!({"name": "x"})),
        OdooCall::new("res.partner", "search_count")
            .arg("domain", json!([]))
            .read_only(),
        OdooCall::new("no.such.model", "search_read").arg("domain", json!([])),
        OdooCall::new("res.partner", "read")
            .ids([1])
            .arg("fields", json!(["name"])),
    ] {
        let r = odoo17.call::<serde_json::Value>(&call).await;
        match r {
            Ok(v) => texts.push(("Odoo 17 reply".into(), v.to_string())),
            Err(e) => {
                texts.push(("Odoo 17 error".into(), format!("{e} / {e:?}")));
            }
        }
    }
    texts.push(("Debug of the Odoo 17 client".into(), format!("{odoo17:?}")));

    // 5. The example binaries, when built, with the secrets in their environment.
    let examples = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("debug").join("examples"))
        .unwrap_or_default();
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let fake19 = FakeOdoo::builder().demo_data_only().start().await;
    let mut ran = Vec::new();
    for name in [
        "quickstart",
        "lead_to_project",
        "time_to_invoice",
        "invoice_to_cash",
        "reconcile",
        "trace",
        "ops_report",
    ] {
        let bin = examples.join(name);
        if !bin.is_file() {
            println!(
                "example `{name}`: not built, skipped (cargo build --examples --all-features)"
            );
            continue;
        }
        let mut cmd = clean(Command::new(&bin));
        cmd.env("ODOO_URL", fake19.url())
            .env("ODOO_DB", fake19.database())
            .env("ODOO_API_KEY", fake19.admin_api_key())
            .env("HUBSPOT_URL", hub.uri())
            .env("HUBSPOT_TOKEN", fake_hubspot::TOKEN)
            .env("STATE_DIR", scratch(name));
        let (code, out) = tokio::task::spawn_blocking(move || run_to_end(cmd))
            .await
            .unwrap();
        println!(
            "example `{name}`: exit {code:?}, {} bytes of output",
            out.len()
        );
        ran.push(name);
        texts.push((format!("example `{name}` output"), out));
    }

    // 6. What the stores kept: dead letters and audit rows (the state files' bytes below).
    for (name, s) in [("demo", &*d.store), ("webhook", &store)] {
        let letters = s.list_dead_letters(&DeadLetterFilter::all()).await.unwrap();
        texts.push((format!("{name} dead letters"), format!("{letters:?}")));
        let mut after = 0;
        loop {
            let page = s
                .query_audit(&AuditQuery::all().after_seq(after).limit(1000))
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = last.seq;
            texts.push((format!("{name} audit rows"), format!("{page:?}")));
        }
    }
    // 7. The CLI: a report with Odoo credentials in its environment, an Odoo it cannot reach
    // (password, then key), and a PostgreSQL URL with a password it cannot reach.
    d.store.close().await;
    let state = d.state_dir.join("state.sqlite");
    let fake_url = d.fake.as_ref().map(FakeOdoo::url).unwrap_or_default();
    let fake_db = d
        .fake
        .as_ref()
        .map(|f| f.database().to_owned())
        .unwrap_or_default();
    let runs: Vec<(&str, Command)> = vec![
        ("report with an Odoo key", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env("ODOO_URL", &fake_url)
                .env("ODOO_DB", &fake_db)
                .env("ODOO_API_KEY", &fake_key);
            c
        }),
        ("report as JSON with an Odoo key", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--json", "--state"])
                .arg(&state)
                .env("ODOO_URL", &fake_url)
                .env("ODOO_API_KEY", &fake_key);
            c
        }),
        ("unreachable Odoo, password", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env(
                    "ODOO_URL",
                    format!("http://admin:{CLI_PASSWORD}@127.0.0.1:1"),
                )
                .env("ODOO_PASSWORD", CLI_PASSWORD);
            c
        }),
        ("unreachable Odoo, key", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env("ODOO_URL", "http://127.0.0.1:1")
                .env("ODOO_API_KEY", CLI_API_KEY);
            c
        }),
        ("Odoo key from a file that Odoo refuses", {
            let key_file = scratch("key-file").join("odoo-api-key");
            std::fs::write(&key_file, format!("{FILE_API_KEY}\n")).expect("the key file");
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env("ODOO_URL", &fake_url)
                .env("ODOO_DB", &fake_db)
                .env("ODOO_API_KEY_FILE", &key_file);
            c
        }),
        ("Odoo key from an unreachable Vault, AppRole", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env("ODOO_URL", &fake_url)
                .env("ODOO_DB", &fake_db)
                .env("ODOO_VAULT_SECRET", "secret/odoo/sync-bot")
                .env("VAULT_ADDR", "http://127.0.0.1:1")
                .env("VAULT_ROLE_ID", "role-1")
                .env("VAULT_SECRET_ID", VAULT_SECRET_ID);
            c
        }),
        ("Odoo key from an unreachable Vault, token", {
            let mut c = clean(Command::new(BIN));
            c.args(["report", "--state"])
                .arg(&state)
                .env("ODOO_URL", &fake_url)
                .env("ODOO_DB", &fake_db)
                .env("ODOO_VAULT_SECRET", "secret/odoo/sync-bot")
                .env("VAULT_ADDR", "http://127.0.0.1:1")
                .env("VAULT_TOKEN", VAULT_TOKEN);
            c
        }),
        ("unreachable PostgreSQL", {
            let mut c = clean(Command::new(BIN));
            c.arg("report").env(
                "DATABASE_URL",
                format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:1/test"),
            );
            c
        }),
    ];
    for (what, cmd) in runs {
        let (code, out) = tokio::task::spawn_blocking(move || run_to_end(cmd))
            .await
            .unwrap();
        println!("CLI {what}: exit {code:?}");
        texts.push((format!("CLI {what}"), out));
    }

    store.close().await;
    for file in [state.clone(), state_dir.join("webhook.sqlite")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        texts.push((
            format!("state file {}", file.display()),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let captured = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    // The logs are real: the run was traced, the HTTP stack's records included.
    assert!(captured.contains("odoo.call"), "no trace of the Odoo calls");
    assert!(
        captured.lines().count() > 100,
        "{} log lines",
        captured.lines().count()
    );
    texts.push(("trace logs".into(), captured.clone()));

    let secrets: Vec<(&str, String)> = vec![
        ("the Odoo API key (JSON-2)", fake_key.clone()),
        ("the Odoo API key (JSON-RPC)", key17),
        ("the HubSpot token", fake_hubspot::TOKEN.to_owned()),
        ("the webhook HMAC key", WEBHOOK_KEY.to_owned()),
        ("the Salesforce client secret", SF_CLIENT_SECRET.to_owned()),
        ("the Salesforce refresh token", SF_REFRESH_TOKEN.to_owned()),
        ("the Salesforce access token", SF_ACCESS_TOKEN.to_owned()),
        ("the CLI's Odoo API key", CLI_API_KEY.to_owned()),
        ("the CLI's Odoo password", CLI_PASSWORD.to_owned()),
        ("the PostgreSQL password", PG_PASSWORD.to_owned()),
        ("the Odoo API key of a file", FILE_API_KEY.to_owned()),
        ("the Vault secret id", VAULT_SECRET_ID.to_owned()),
        ("the Vault token", VAULT_TOKEN.to_owned()),
    ];
    let found: Vec<String> = texts
        .iter()
        .flat_map(|(what, text)| leaks(what, text, &secrets))
        .collect();
    let searched: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "Searched {} texts ({searched} bytes, {} log lines) for {} secrets in {} forms each; \
         examples run: {ran:?}",
        texts.len(),
        captured.lines().count(),
        secrets.len(),
        forms(WEBHOOK_KEY).len()
    );
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
}

#[test]
fn the_search_finds_a_secret_in_each_form() {
    let secrets = vec![("key", "s3cr3t/key+value=".to_owned())];
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for text in [
        "... s3cr3t/key+value= ...".to_owned(),
        "url?key=s3cr3t%2Fkey%2Bvalue%3D&x".to_owned(),
        format!("x {} x", b64("s3cr3t/key+value=")),
        format!("Authorization: Basic {}", b64("admin:s3cr3t/key+value=")),
        format!("Authorization: Basic {}", b64("ad:s3cr3t/key+value=")),
        format!("Authorization: Basic {}", b64("adm:s3cr3t/key+value=")),
        format!(
            "x {} x",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("s3cr3t/key+value=")
        ),
    ] {
        assert!(!leaks("t", &text, &secrets).is_empty(), "{text}");
    }
    assert!(leaks("t", "s3cr3t/key+valu", &secrets).is_empty());
}
