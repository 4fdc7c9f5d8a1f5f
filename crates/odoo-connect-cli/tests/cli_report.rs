//! The `odoo-connect` binary's `report` command, run as a process against SQLite states made
//! here: exit codes, the text and JSON outputs, the HTML page and the error messages.

#[path = "../../../examples/data/demo.rs"]
mod demo;
#[path = "../../../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../../../examples/data/flows_setup.rs"]
mod flows_setup;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use odoo_connect::ops::{CollectOptions, Report, collect};
use odoo_connect::store::sqlite::SqliteStore;

const BIN: &str = env!("CARGO_BIN_EXE_odoo-connect");

/// Every section id of the HTML page.
const SECTION_IDS: [&str; 9] = [
    "stuck-contracts",
    "unbilled",
    "failed-releases",
    "overdue-invoices",
    "unmatched-credits",
    "revenue-mismatches",
    "dead-letters",
    "sync",
    "traces",
];

/// The binary, with none of the environment it reads inherited from the test run.
fn cli() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "DATABASE_URL",
        "ODOO_URL",
        "ODOO_DB",
        "ODOO_LOGIN",
        "ODOO_API_KEY",
        "ODOO_PASSWORD",
        "CRM_DEAL_URL",
    ] {
        c.env_remove(var);
    }
    c
}

fn run(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run {BIN}: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder under the target's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test folder");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_on_a_populated_state_prints_text_json_and_writes_the_page() {
    // The whole contract-to-cash run on FakeOdoo and a fake HubSpot, as the examples do it.
    let d = demo::Demo::start_on_fakes("cli-report-test")
        .await
        .expect("start");
    d.book_deals(false).await.expect("book deals");
    d.bill_time(false).await.expect("bill time");
    d.release_invoices(false).await.expect("release invoices");
    d.collect(false).await.expect("collect payments");
    d.store.close().await;
    let state = d.state_dir.join("state.sqlite");
    let dir = scratch("populated");
    let html = dir.join("report.html");
    let as_of = "2025-04-30";

    // Text.
    let out = run(cli()
        .args(["report", "--as-of", as_of, "--state"])
        .arg(&state));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let printed = text(&out.stdout).to_lowercase();
    for words in [
        "stuck",
        "unbilled",
        "release",
        "overdue",
        "unmatched",
        "revenue",
        "dead letter",
        "sync",
    ] {
        assert!(
            printed.contains(words),
            "the text report has no {words:?} section:\n{printed}"
        );
    }

    // JSON and the page from the same run: the page is `Report::to_html` of that report.
    let out = run(cli()
        .args(["report", "--json", "--as-of", as_of, "--state"])
        .arg(&state)
        .arg("--html")
        .arg(&html));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let report: Report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json is not a Report: {e}\n{}", text(&out.stdout)));
    assert_eq!(
        report.as_of,
        NaiveDate::from_ymd_opt(2025, 4, 30).expect("date")
    );
    assert!(
        !report.dead_letters.is_empty(),
        "the run parks messages: the report should show dead letters"
    );
    let page = std::fs::read_to_string(&html).expect("--html wrote the page");
    assert_eq!(
        page,
        report.to_html(),
        "the page differs from Report::to_html"
    );
    for id in SECTION_IDS {
        assert!(
            page.contains(&format!("id=\"{id}\"")),
            "the page has no section {id}"
        );
    }
    assert!(
        text(&out.stderr).contains(&html.display().to_string()),
        "the command says where the page went"
    );

    // The binary reports what the library collects from the same state.
    let store = SqliteStore::open(&state).await.expect("reopen the state");
    let options = CollectOptions::new(report.as_of).now(report.generated_at);
    let expected = collect(&store, None, &options).await.expect("collect");
    store.close().await;
    assert_eq!(
        report, expected,
        "the CLI's report differs from ops::collect"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_empty_state_says_none() {
    let dir = scratch("empty");
    let state = dir.join("state.sqlite");
    SqliteStore::open(&state)
        .await
        .expect("create")
        .close()
        .await;
    let out = run(cli().arg("report").arg("--state").arg(&state));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).to_lowercase().contains("none"),
        "empty sections say none:\n{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_state_file_exits_1_naming_it_and_creates_nothing() {
    let dir = scratch("missing");
    let state = dir.join("no-such-state.sqlite");
    let out = run(cli().arg("report").arg("--state").arg(&state));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(out.stdout.is_empty());
    assert!(!state.exists(), "the report created a state file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_a_sqlite_state_exits_1() {
    let dir = scratch("not-sqlite");
    let state = dir.join("notes.txt");
    std::fs::write(&state, "not a database, just some text").expect("write");
    let out = run(cli().arg("report").arg("--state").arg(&state));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("not an odoo-connect SQLite state"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&state).expect("read"),
        "not a database, just some text"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_state_at_all_exits_1_saying_how_to_give_one() {
    let out = run(cli().arg("report"));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--state") && err.contains("DATABASE_URL"),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = run(cli().args(["report", "--no-such-flag"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--no-such-flag"));

    let out = run(cli().args(["report", "--state", "x.sqlite", "--as-of", "30/04/2025"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = run(cli().args([
        "report",
        "--state",
        "x.sqlite",
        "--crm-deal-url",
        "https://crm.example.com/deal/",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("{id}"));

    let out = run(cli().args(["report", "--state", "a", "--database-url", "postgres://x/y"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = run(cli().arg("no-such-command"));
    assert_eq!(out.status.code(), Some(2));

    let out = run(cli().arg("--help"));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("report"));
}

#[tokio::test]
async fn an_unreachable_odoo_exits_1_without_showing_secrets() {
    let dir = scratch("odoo-down");
    let state = dir.join("state.sqlite");
    SqliteStore::open(&state)
        .await
        .expect("create")
        .close()
        .await;
    // Nothing listens on port 1.
    let out = run(cli()
        .arg("report")
        .arg("--state")
        .arg(&state)
        .env("ODOO_URL", "http://admin:url-secret-42@127.0.0.1:1")
        .env("ODOO_DB", "ps")
        .env("ODOO_API_KEY", "key-secret-4242"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("Odoo"), "{err}");
    assert!(
        !err.contains("key-secret-4242"),
        "the API key leaked: {err}"
    );
    assert!(
        !err.contains("url-secret-42"),
        "the URL's password leaked: {err}"
    );

    // A URL without a key is refused before any request.
    let out = run(cli()
        .arg("report")
        .arg("--state")
        .arg(&state)
        .env("ODOO_URL", "http://127.0.0.1:1"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("ODOO_API_KEY"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --ignored (CI does)"]
async fn a_postgres_state_from_database_url_and_schema() {
    use odoo_connect::store::postgres::PostgresStore;
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("DATABASE_URL must be set to run this test");
    let schema = format!(
        "oc_cli_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let store = PostgresStore::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .expect("create the schema");

    // From DATABASE_URL, with --schema.
    let out = run(cli()
        .args(["report", "--json", "--schema", &schema])
        .env("DATABASE_URL", &url));
    // From --database-url.
    let flag = run(cli().args(["report", "--schema", &schema, "--database-url", &url]));
    // A schema name the store refuses.
    let bad = run(cli().args(["report", "--schema", "Not-A-Schema", "--database-url", &url]));
    store.drop_schema().await.expect("drop the schema");
    store.close().await;

    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let report: Report = serde_json::from_slice(&out.stdout).expect("--json is a Report");
    assert!(report.dead_letters.is_empty());
    assert_eq!(
        flag.status.code(),
        Some(0),
        "stderr: {}",
        text(&flag.stderr)
    );
    assert!(text(&flag.stdout).to_lowercase().contains("none"));
    assert_eq!(bad.status.code(), Some(1));
    let err = text(&bad.stderr);
    assert!(
        err.contains("PostgreSQL") && err.contains("Not-A-Schema"),
        "{err}"
    );
    assert!(!err.contains(&url), "the URL is not shown: {err}");
}
