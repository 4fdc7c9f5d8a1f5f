//! Connectors wired into the pipeline: `Pipeline::pull_from` resumes a connector source from the
//! committed cursor after a stop between pages, and the e-signature webhook receiver delivers
//! into a pipeline's durable queue before it answers.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_connect::canonical::{ExternalRef, Project};
use odoo_connect::connector::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Page, Record, RecordKind,
    Source, SourceFeed,
};
use odoo_connect::store::memory::MemoryStore;
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::envelope::{Envelope, EnvelopeError, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::step::from_fn;
use odoo_connect::sync::store::{CheckpointKey, Checkpoints, StateStore, WorkQueue};
use serde_json::json;
use tokio::sync::Notify;

const PAGES: usize = 7;
const PER_PAGE: usize = 3;
const CHANGES: usize = PAGES * PER_PAGE;

/// A source of `CHANGES` projects, `PER_PAGE` a page; the cursor is the index of the next one.
/// When `stall_on` is set, the pull of that page (counted from 1 since the source was made)
/// never answers and `stalled` is notified: the test drops the pull there.
struct Numbers {
    stall_on: Option<usize>,
    pulls: Mutex<usize>,
    stalled: Arc<Notify>,
    cursors: Mutex<Vec<Option<Cursor>>>,
}

impl Numbers {
    fn new(stall_on: Option<usize>) -> Numbers {
        Numbers {
            stall_on,
            pulls: Mutex::new(0),
            stalled: Arc::new(Notify::new()),
            cursors: Mutex::new(Vec::new()),
        }
    }
}

impl Connector for Numbers {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new("numbers").produces([RecordKind::Project])
    }
}

#[async_trait]
impl Source for Numbers {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        _page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        self.cursors.lock().unwrap().push(cursor.cloned());
        let pull = {
            let mut pulls = self.pulls.lock().unwrap();
            *pulls += 1;
            *pulls
        };
        if self.stall_on == Some(pull) {
            self.stalled.notify_one();
            std::future::pending::<()>().await;
        }
        let start: usize = match cursor {
            None => 0,
            Some(c) => c
                .as_str()
                .parse()
                .map_err(|_| ConnectorError::bad_cursor(c))?,
        };
        let end = (start + PER_PAGE).min(CHANGES);
        let items = (start..end)
            .map(|i| {
                let ext = ExternalRef::new("numbers", i.to_string());
                let project = Project::new(
                    format!("p{i}").parse().unwrap(),
                    format!("Project {i}"),
                    "acme".parse().unwrap(),
                );
                Change::new(
                    ChangeId::of(&ext, RecordKind::Project, "1"),
                    ext,
                    DateTime::<Utc>::UNIX_EPOCH,
                    Record::from(project),
                )
            })
            .collect();
        Ok(Page::new(
            items,
            Some(Cursor::new(end.to_string())),
            end < CHANGES,
        ))
    }
}

/// The test's mapping: the message id comes from the change id (through the key), the payload
/// carries the project's number.
fn to_envelope(change: &Change) -> Result<JsonEnvelope, EnvelopeError> {
    let n: u64 = change.external.id.as_str().parse().unwrap();
    let key = IdempotencyKey::for_effect("project", change.id.as_str(), "1", "sync")?;
    let id = odoo_connect::sync::envelope::MessageId::from_uuid(uuid::Uuid::from_u64_pair(
        0x1234_5678_9abc_4def,
        0x8000_0000_0000_0000 | n,
    ));
    Envelope::builder(key, json!({"n": n}))
        .id(id)
        .source("numbers")
        .legal_entity("BE".parse().unwrap())
        .build()
}

fn pipeline<S: StateStore + ?Sized + 'static>(
    store: Arc<S>,
    applied: Arc<Mutex<Vec<u64>>>,
) -> Pipeline<S> {
    Pipeline::builder("pull", store)
        .step(from_fn("apply", move |cx| {
            let applied = applied.clone();
            Box::pin(async move {
                let n = cx.envelope.payload["n"].as_u64().unwrap();
                applied.lock().unwrap().push(n);
                Ok(())
            })
        }))
        .build()
}

/// A new pipeline and source over `store` pull from the committed checkpoint of `key`, which
/// must name `cursor`.
async fn resume<S: StateStore + ?Sized + 'static>(
    store: Arc<S>,
    applied: Arc<Mutex<Vec<u64>>>,
    key: &CheckpointKey,
    cursor: &str,
) -> (Pipeline<S>, odoo_connect::sync::pipeline::PullReport) {
    let pipeline = pipeline(store, applied);
    let source = Numbers::new(None);
    let report = pipeline
        .pull_from(&SourceFeed::new(&source), key, to_envelope)
        .await
        .unwrap();
    assert_eq!(
        source.cursors.lock().unwrap().first().cloned().flatten(),
        Some(Cursor::new(cursor)),
        "resumed from the committed cursor"
    );
    (pipeline, report)
}

async fn stop_between_pages_and_resume<S: StateStore + ?Sized + 'static>(store: Arc<S>) {
    let key = CheckpointKey::new("numbers", "projects", "BE".parse().unwrap());
    let applied: Arc<Mutex<Vec<u64>>> = Arc::default();

    // First run: three pages go through, the fourth pull never answers and the pull is dropped
    // there, as when the process is stopped.
    {
        let pipeline = pipeline(store.clone(), applied.clone());
        let source = Numbers::new(Some(4));
        let stalled = source.stalled.clone();
        let feed = SourceFeed::new(&source);
        tokio::select! {
            r = pipeline.pull_from(&feed, &key, to_envelope) => panic!("the pull ended: {r:?}"),
            () = stalled.notified() => {}
        }
    }
    let cp = store.checkpoint(&key).await.unwrap().unwrap();
    assert_eq!(cp.cursor, Some(json!("9")), "three pages committed");
    assert_eq!(store.stats().await.unwrap().depth, 9);

    // A crash between the enqueue of the third page and the commit of its cursor: the
    // checkpoint still names the second page's end.
    store
        .commit_checkpoint(&key, cp.version, &json!("6"))
        .await
        .unwrap();

    // Second run, a new pipeline and source over the same store: it resumes from the committed
    // cursor, reads the third page again without enqueueing it twice, and reads on to the end.
    let (pipeline, report) = resume(store.clone(), applied.clone(), &key, "6").await;
    assert_eq!((report.pages, report.enqueued), (5, 12));
    assert_eq!(
        store.checkpoint(&key).await.unwrap().unwrap().cursor,
        Some(json!(CHANGES.to_string()))
    );

    // Every change once: no gap, no repeat.
    assert_eq!(
        pipeline.run_until_idle("w").await.unwrap().done,
        CHANGES as u64
    );
    let mut applied = applied.lock().unwrap().clone();
    applied.sort_unstable();
    assert_eq!(applied, (0..CHANGES as u64).collect::<Vec<_>>());

    // Pulling again at the end reads one page from the end cursor and adds nothing.
    let report = pipeline
        .pull_from(&SourceFeed::new(&Numbers::new(None)), &key, to_envelope)
        .await
        .unwrap();
    assert_eq!((report.pages, report.enqueued), (1, 0));
}

#[tokio::test]
async fn a_pull_stopped_between_pages_resumes_from_the_committed_cursor_memory() {
    stop_between_pages_and_resume(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn a_pull_stopped_between_pages_resumes_from_the_committed_cursor_sqlite() {
    let dir = std::env::temp_dir().join(format!("pull-from-{}.db", uuid::Uuid::new_v4()));
    let store = Arc::new(SqliteStore::open(&dir).await.unwrap());
    stop_between_pages_and_resume(store).await;
    let _ = std::fs::remove_file(&dir);
}

/// Set in the child process of the test below: the SQLite file it pulls into.
const CHILD_ENV: &str = "ODOO_CONNECT_TEST_PULL_CHILD";
const CHILD_STALLED: &str = "child: stalled on the fourth page";
const KILL_TEST: &str =
    "a_pull_killed_between_pages_resumes_from_the_committed_cursor_in_a_new_process";

/// The real thing: a child process (this test binary, run again for this one test) pulls into a
/// SQLite file until the fourth page, which never answers, and is killed there (`SIGKILL`, no
/// chance to clean up). This process opens the file and resumes from the committed cursor.
#[tokio::test]
async fn a_pull_killed_between_pages_resumes_from_the_committed_cursor_in_a_new_process() {
    use std::io::{BufRead, Write};
    let key = CheckpointKey::new("numbers", "projects", "BE".parse().unwrap());
    if let Ok(path) = std::env::var(CHILD_ENV) {
        let store = SqliteStore::open(&path)
            .await
            .expect("the parent's SQLite file opens");
        let pipeline = pipeline(Arc::new(store), Arc::default());
        let source = Numbers::new(Some(4));
        let stalled = source.stalled.clone();
        let feed = SourceFeed::new(&source);
        tokio::select! {
            r = pipeline.pull_from(&feed, &key, to_envelope) => panic!("the pull ended: {r:?}"),
            () = stalled.notified() => {}
        }
        println!("{CHILD_STALLED}");
        std::io::stdout().flush().expect("stdout");
        std::future::pending::<()>().await;
        return;
    }
    let path = std::env::temp_dir().join(format!("pull-killed-{}.db", uuid::Uuid::new_v4()));
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = std::process::Command::new(exe)
        .args([
            KILL_TEST,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the child process starts");
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    // Reads until the child says it stalled (or its output ends: it died before).
    let stalled = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains(CHILD_STALLED))
    });
    let stalled = tokio::time::timeout(std::time::Duration::from_secs(60), stalled).await;
    let _ = child.kill(); // SIGKILL (it may have died already)
    let status = child.wait().expect("the child is reaped");
    if !matches!(stalled, Ok(Ok(true))) {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        panic!("the child did not reach the fourth page ({status}):\n{stderr}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "killed there, not ended: {status}"
        );
    }

    // This process: the same file, a new store, pipeline and source.
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let cp = store.checkpoint(&key).await.unwrap().unwrap();
    assert_eq!(cp.cursor, Some(json!("9")), "three pages committed");
    assert_eq!(store.stats().await.unwrap().depth, 9);
    let applied: Arc<Mutex<Vec<u64>>> = Arc::default();
    let (pipeline, report) = resume(store.clone(), applied.clone(), &key, "9").await;
    assert_eq!(report.enqueued, 12);
    assert_eq!(
        pipeline.run_until_idle("w").await.unwrap().done,
        CHANGES as u64
    );
    let mut applied = applied.lock().unwrap().clone();
    applied.sort_unstable();
    assert_eq!(
        applied,
        (0..CHANGES as u64).collect::<Vec<_>>(),
        "no gap, no repeat"
    );
    drop(pipeline);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn a_source_error_leaves_the_checkpoint_and_names_the_source() {
    struct Down;
    impl Connector for Down {
        fn capabilities(&self) -> Capabilities {
            Capabilities::new("down")
        }
    }
    #[async_trait]
    impl Source for Down {
        async fn pull(&self, _: Option<&Cursor>, _: usize) -> Result<Page<Change>, ConnectorError> {
            Err(ConnectorError::Internal {
                message: "unreachable".into(),
            })
        }
    }
    let store = Arc::new(MemoryStore::new());
    let pipeline = pipeline(store.clone(), Arc::default());
    let key = CheckpointKey::new("down", "projects", "BE".parse().unwrap());
    let err = pipeline
        .pull_from(&SourceFeed::new(&Down), &key, to_envelope)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("down"), "{err}");
    assert!(store.checkpoint(&key).await.unwrap().is_none());
}

/// The future of `pull_from` can be spawned.
#[allow(dead_code)]
fn pull_from_is_send(pipeline: Pipeline<MemoryStore>, source: Numbers, key: CheckpointKey) {
    fn send<T: Send>(_: T) {}
    send(async move {
        pipeline
            .pull_from(&SourceFeed::new(&source), &key, to_envelope)
            .await
    });
}

#[cfg(feature = "esign-webhook")]
mod webhook {
    use super::*;
    use odoo_connect::connector::HeaderMap;
    use odoo_connect::connector::esign_webhook::tower::ServiceExt;
    use odoo_connect::connector::esign_webhook::{EsignWebhook, axum, sign_docusign};
    use secrecy::SecretString;
    use serde_json::Value;

    const KEY: &str = "dsk_4b1f0c6e2a9d4e7b8c3a5f1e0d2b7c9a";

    fn fixture() -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/connectors/docusign/envelope_completed.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-12T09:30:18Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn post(body: &[u8]) -> axum::http::Request<axum::body::Body> {
        let mut headers = HeaderMap::new();
        let signature = sign_docusign(&SecretString::from(KEY), body);
        headers.insert("x-docusign-signature-1", signature.parse().unwrap());
        headers.insert("x-authorization-digest", "HMACSHA256".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let mut request = axum::http::Request::post("/")
            .body(axum::body::Body::from(body.to_vec()))
            .unwrap();
        *request.headers_mut() = headers;
        request
    }

    #[tokio::test]
    async fn a_posted_webhook_is_in_the_pipeline_queue_before_the_answer() {
        let store = Arc::new(MemoryStore::new());
        let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
        let pipeline = {
            let seen = seen.clone();
            Pipeline::builder("signed", store.clone())
                .step(from_fn("apply", move |cx| {
                    let seen = seen.clone();
                    Box::pin(async move {
                        seen.lock().unwrap().push(cx.envelope.payload.clone());
                        Ok(())
                    })
                }))
                .build()
        };
        let webhook = EsignWebhook::docusign(KEY)
            .clock(odoo_connect::core::clock::ManualClock::new(at()))
            .build()
            .unwrap();
        let router = webhook.router(pipeline.clone());
        let body = fixture();

        let response = router.clone().oneshot(post(&body)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        // In the durable queue as the answer comes back.
        assert_eq!(store.stats().await.unwrap().depth, 1);

        // A redelivery is answered 200 and adds nothing.
        let response = router.clone().oneshot(post(&body)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(store.stats().await.unwrap().depth, 1);

        assert_eq!(pipeline.run_until_idle("w").await.unwrap().done, 1);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0]["change"]["record"]["kind"],
            json!("contract"),
            "{}",
            seen[0]
        );
    }
}
