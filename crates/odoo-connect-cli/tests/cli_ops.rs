//! The `odoo-connect` binary's operator commands (`status`, `dead-letters`, `trace`, `queue`,
//! `purge`), run as a process against a SQLite state made here: outputs, JSON, exit codes, and
//! what a replay records.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::{CorrelationId, Envelope, IdempotencyKey, JsonEnvelope, Lane};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::step::{Stop, from_fn};
use odoo_connect::sync::store::{
    AuditKind, AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, WorkQueue,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_odoo-connect");

fn cli() -> Command {
    let mut c = Command::new(BIN);
    for var in ["DATABASE_URL", "ODOO_URL", "USER"] {
        c.env_remove(var);
    }
    c
}

fn run(args: &[&str]) -> Output {
    cli().args(args).output().expect("run the binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

fn deal_message(deal: &str, n: u32, hold: bool) -> JsonEnvelope {
    let key = IdempotencyKey::for_effect("deal", deal, &format!("v{n}"), "book").expect("key");
    Envelope::builder(
        key,
        json!({"flow": "lead_to_project", "hold": hold, "n": n}),
    )
    .source("hubspot")
    .legal_entity("BE".parse().unwrap())
    .lane(Lane::new(format!("deal:{deal}")).expect("lane"))
    .correlation_id(CorrelationId::new(format!("deal:{deal}")).expect("correlation"))
    .build()
    .expect("envelope")
    .to_json()
    .expect("json")
}

/// A state with deal 4711 booked, deal 4712 held (a dead letter) and two messages waiting.
async fn populated(dir: &Path) -> PathBuf {
    let path = dir.join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&path).await.expect("open"));
    let pipeline = Pipeline::builder("cli", store.clone())
        .step(from_fn("book", |cx| {
            let hold = cx.envelope.payload["hold"] == json!(true);
            Box::pin(async move {
                if hold {
                    Err(Stop::held("contract cap reached", json!({"cap": 100})))
                } else {
                    Ok(())
                }
            })
        }))
        .build();
    pipeline
        .submit_batch(&[
            deal_message("4711", 1, false),
            deal_message("4712", 1, true),
        ])
        .await
        .expect("submit");
    pipeline.run_until_idle("w").await.expect("run");
    store
        .enqueue_batch(&[
            deal_message("4713", 1, false),
            deal_message("4714", 1, false),
        ])
        .await
        .expect("enqueue");
    store.close().await;
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_queue_trace_dead_letters_and_purge() {
    let dir = scratch("all");
    let state = populated(&dir).await;
    let db = state.to_str().expect("utf-8 path");

    // status, as a table and as JSON.
    let out = run(&["status", "--sqlite", db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("ready"), "{table}");
    assert!(table.contains("contract cap reached"), "{table}");
    let status = ok_json(&["status", "--sqlite", db, "--json"]);
    assert_eq!(status["queue"]["depth"], 2);
    assert_eq!(status["queue"]["ready"], 2);
    assert_eq!(status["dead_letters"][0]["reason"], "contract cap reached");
    assert_eq!(status["dead_letters"][0]["count"], 1);

    // queue list with filters.
    let ready = ok_json(&[
        "queue", "list", "--state", "ready", "--sqlite", db, "--json",
    ]);
    assert_eq!(ready["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(ready["messages"][0]["flow"], "lead_to_project");
    let done = ok_json(&["queue", "list", "--state", "done", "--json", "--sqlite", db]);
    assert_eq!(done["messages"].as_array().map(Vec::len), Some(1));
    let lane = ok_json(&[
        "queue",
        "list",
        "--lane",
        "deal:4713",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(lane["messages"].as_array().map(Vec::len), Some(1));
    let old = ok_json(&[
        "queue",
        "list",
        "--older-than",
        "1d",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(old["messages"].as_array().map(Vec::len), Some(0));
    let paged = ok_json(&["queue", "list", "--limit", "2", "--sqlite", db, "--json"]);
    assert!(paged["next"].is_u64(), "{paged}");
    let bad = run(&["queue", "list", "--state", "sleeping", "--sqlite", db]);
    assert_eq!(bad.status.code(), Some(2), "bad usage");

    // trace by CRM id, with or without `deal:`.
    let trace = ok_json(&["trace", "4711", "--sqlite", db, "--json"]);
    assert_eq!(trace["correlation_id"], "deal:4711");
    let kinds: Vec<&str> = trace["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"message_received"), "{kinds:?}");
    assert!(kinds.contains(&"step_outcome"), "{kinds:?}");
    let same = ok_json(&["trace", "deal:4711", "--sqlite", db, "--json"]);
    assert_eq!(same["events"], trace["events"]);
    let none = run(&["trace", "9999", "--sqlite", db]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no audit trail for 9999"));

    // dead letters: list, show, replay with a corrected payload, audited with the name.
    let letters = ok_json(&["dead-letters", "list", "--sqlite", db, "--json"]);
    let id = letters[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(letters.as_array().map(Vec::len), Some(1));
    let shown = run(&["dead-letters", "show", &id, "--sqlite", db]);
    assert!(text(&shown.stdout).contains("contract cap reached"));
    let fixed = dir.join("fixed.json");
    std::fs::write(
        &fixed,
        r#"{"flow": "lead_to_project", "hold": false, "n": 1}"#,
    )
    .expect("write");
    let no_name = run(&["dead-letters", "replay", &id, "--sqlite", db]);
    assert_eq!(
        no_name.status.code(),
        Some(2),
        "the operator's name is required"
    );
    let replayed = ok_json(&[
        "dead-letters",
        "replay",
        &id,
        "--corrected",
        fixed.to_str().expect("path"),
        "--operator",
        "ann",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(replayed["operator"], "ann");
    let again = cli()
        .args(["dead-letters", "replay", &id, "--sqlite", db])
        .env("USER", "bob")
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("replayed already"));
    let unknown = run(&[
        "dead-letters",
        "show",
        "0190f0f0-0000-7000-8000-000000000000",
        "--sqlite",
        db,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    {
        let store = SqliteStore::open(&state).await.expect("open");
        let open = store
            .list_dead_letters(&DeadLetterFilter::all().replayed(false))
            .await
            .expect("list");
        assert!(open.is_empty(), "the letter is replayed");
        let replays = store
            .query_audit(&AuditQuery::all())
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.event.kind == AuditKind::ManualReplay)
            .collect::<Vec<_>>();
        assert_eq!(replays.len(), 1);
        assert_eq!(replays[0].event.actor.as_deref(), Some("ann"));
        assert_eq!(replays[0].event.details["corrected_payload"], true);
        assert_eq!(
            store.stats().await.expect("stats").depth,
            3,
            "the replay is queued"
        );
        store.close().await;
    }

    // purge: a dry run counts and keeps, then the purge deletes.
    let dry = ok_json(&[
        "purge",
        "--older-than",
        "0s",
        "--dry-run",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["messages"], 2, "{dry}");
    assert_eq!(dry["audit"], 0, "audit is kept 400 days unless told: {dry}");
    let still = ok_json(&["queue", "list", "--state", "done", "--sqlite", db, "--json"]);
    assert_eq!(still["messages"].as_array().map(Vec::len), Some(1));
    let purged = ok_json(&[
        "purge",
        "--older-than",
        "0s",
        "--keep-audit",
        "0s",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(purged["dry_run"], false);
    assert_eq!(purged["messages"], 2);
    assert_eq!(purged["dead_letters"], 1, "the replayed letter: {purged}");
    assert!(purged["audit"].as_u64().unwrap_or(0) > 0);
    let after = ok_json(&["status", "--sqlite", db, "--json"]);
    assert_eq!(after["queue"]["depth"], 3, "unfinished messages are kept");
}

#[test]
fn a_missing_state_is_a_typed_error() {
    let out = run(&["status", "--sqlite", "/nonexistent/state.sqlite"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    let none = run(&["status"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("no state given"));
}

/// A state sealed with a keyring: the operator commands open it with the same keys
/// (`ODOO_CONNECT_STATE_KEYS`), and without them show the payload sealed, never in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_state_is_read_with_its_keys_and_replayed() {
    use odoo_connect::store::encrypted::{EncryptedStore, Keyring, is_sealed};
    let dir = scratch("sealed");
    let path = dir.join("state.sqlite");
    let keys = format!("k1:{}", Keyring::generate_key());
    let inner = SqliteStore::open(&path).await.expect("open");
    let store = Arc::new(EncryptedStore::new(
        inner.clone(),
        Arc::new(Keyring::parse(&keys).expect("a keyring")),
        Default::default(),
    ));
    let pipeline = Pipeline::builder("cli", store.clone())
        .step(from_fn("book", |cx| {
            let hold = cx.envelope.payload["hold"] == json!(true);
            Box::pin(async move {
                if hold {
                    Err(Stop::held("contract cap reached", json!({"cap": 100})))
                } else {
                    Ok(())
                }
            })
        }))
        .build();
    pipeline
        .submit(&deal_message("4812", 1, true))
        .await
        .expect("submit");
    pipeline.run_until_idle("w").await.expect("run");
    inner.close().await;
    let db = path.to_str().expect("utf-8 path");

    let with_keys = |args: &[&str]| {
        let out = cli()
            .args(args)
            .env("ODOO_CONNECT_STATE_KEYS", &keys)
            .output()
            .expect("run the binary");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON on stdout")
    };
    let letters = with_keys(&["dead-letters", "list", "--sqlite", db, "--json"]);
    assert_eq!(letters[0]["payload"]["hold"], true, "{letters}");
    let id = letters[0]["id"].as_str().expect("id").to_owned();
    // Without the keys: listed, but sealed.
    let sealed = ok_json(&["dead-letters", "list", "--sqlite", db, "--json"]);
    assert!(is_sealed(&sealed[0]["payload"]), "{sealed}");
    assert!(!sealed.to_string().contains("\"hold\""));
    // A wrong keyring is refused with a typed message that shows no key.
    let bad = cli()
        .args(["status", "--sqlite", db])
        .env("ODOO_CONNECT_STATE_KEYS", "k1:not-base64")
        .output()
        .expect("run the binary");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("ODOO_CONNECT_STATE_KEYS is not a keyring"));
    // A replay with the keys: the new message is sealed too.
    let fixed = dir.join("fixed.json");
    std::fs::write(
        &fixed,
        r#"{"flow": "lead_to_project", "hold": false, "n": 1}"#,
    )
    .expect("write");
    let replayed = with_keys(&[
        "dead-letters",
        "replay",
        &id,
        "--corrected",
        fixed.to_str().expect("path"),
        "--operator",
        "ann",
        "--sqlite",
        db,
        "--json",
    ]);
    assert_eq!(replayed["operator"], "ann");
    let raw = SqliteStore::open(&path).await.expect("open");
    let queued = raw
        .list_messages(&odoo_connect::sync::store::QueueFilter::all())
        .await
        .expect("listed");
    assert!(
        queued
            .items
            .iter()
            .all(|e| is_sealed(&e.message.envelope.payload)),
        "{queued:?}"
    );
    raw.close().await;
}
