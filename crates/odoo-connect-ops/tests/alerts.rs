//! Alerts end to end: a dead letter past its threshold sends exactly one notice to each
//! channel's local fake (Slack and Teams incoming webhooks, Jira Cloud, an SMTP server), each
//! with the payload its vendor documents; a second evaluation sends nothing; clearing sends one
//! resolved notice; firing again within the quiet period sends nothing; two evaluators racing
//! on one store (SQLite in a temporary file, and PostgreSQL when `DATABASE_URL` is set) send
//! once.
#![cfg(feature = "alerts")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use odoo_connect_ops::alerts::{
    AlertEngine, AlertRules, EmailSmtp, JiraCloud, NoticeKind, Notifier, SlackWebhook, TeamsWebhook,
};
use odoo_connect_sync::envelope::{CorrelationId, Envelope, IdempotencyKey};
use odoo_connect_sync::key::LegalEntityKey;
use odoo_connect_sync::store::postgres::PostgresStore;
use odoo_connect_sync::store::sqlite::SqliteStore;
use odoo_connect_sync::store::{DeadLetterId, Failure, FailureClass, StateStore};

type Error = Box<dyn std::error::Error + Send + Sync>;

const SLACK_PATH: &str = "/services/T000/B000/XXXXSECRETXXXX";
const TEAMS_PATH: &str = "/webhookb2/secret-signature-xyz";
const JIRA_TOKEN: &str = "jira-api-token-secret";
const SMTP_PASSWORD: &str = "smtp-password-secret";
const REPORT: &str = "https://ops.example.com/report.html";

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Http {
    requests: Vec<Request>,
    fail_next: u32,
    issues: u32,
}

/// A local HTTP server answering as the three services do: Slack `200 ok`, Teams `200 1`,
/// Jira `201` with the created issue's `id`, `key` and `self`, `201` for a comment.
async fn serve_http(state: Arc<Mutex<Http>>) -> Result<String, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let state = state.clone();
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
                let mut lines = head.lines();
                let first = lines.next().unwrap_or_default().to_owned();
                let mut parts = first.split(' ');
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        Some((k.trim().to_owned(), v.trim().to_owned()))
                    })
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body: Value = serde_json::from_slice(&buf[head_end..head_end + length])
                    .unwrap_or(Value::Null);
                let (status, reply) = {
                    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                    if s.fail_next > 0 {
                        s.fail_next -= 1;
                        ("500 Internal Server Error", "no_service".to_owned())
                    } else {
                        s.requests.push(Request {
                            method,
                            path: path.clone(),
                            headers,
                            body,
                        });
                        if path == "/rest/api/3/issue" {
                            s.issues += 1;
                            let id = 10_000 + s.issues;
                            (
                                "201 Created",
                                json!({"id": id.to_string(), "key": format!("OPS-{}", s.issues),
                                    "self": format!("https://firm.atlassian.net/rest/api/3/issue/{id}")})
                                .to_string(),
                            )
                        } else if path.starts_with("/rest/api/3/issue/") {
                            ("201 Created", json!({"id": "20000"}).to_string())
                        } else if path.starts_with("/webhookb2/") {
                            ("200 OK", "1".to_owned())
                        } else {
                            ("200 OK", "ok".to_owned())
                        }
                    }
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(address)
}

#[derive(Debug, Default, Clone)]
struct Mail {
    commands: Vec<String>,
    data: String,
}

/// A local SMTP server: greets, offers `AUTH PLAIN`, accepts everything, records each session.
async fn serve_smtp(mails: Arc<Mutex<Vec<Mail>>>) -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let mails = mails.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                let mut mail = Mail::default();
                if write
                    .write_all(b"220 smtp.test ESMTP ready\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                loop {
                    let mut line = String::new();
                    match read.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let line = line.trim_end_matches(['\r', '\n']).to_owned();
                    mail.commands.push(line.clone());
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-smtp.test greets you\r\n250-8BITMIME\r\n250 AUTH LOGIN PLAIN\r\n"
                    } else if upper.starts_with("AUTH PLAIN") {
                        b"235 2.7.0 Authentication successful\r\n"
                    } else if upper == "DATA" {
                        if write
                            .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                            .await
                            .is_err()
                        {
                            return;
                        }
                        loop {
                            let mut l = String::new();
                            match read.read_line(&mut l).await {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                            if l == ".\r\n" {
                                break;
                            }
                            mail.data.push_str(&l);
                        }
                        b"250 2.0.0 Ok: queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                        mails.lock().unwrap_or_else(|e| e.into_inner()).push(mail);
                        return;
                    } else {
                        b"250 2.1.0 Ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

struct Fakes {
    http: Arc<Mutex<Http>>,
    mails: Arc<Mutex<Vec<Mail>>>,
    base: String,
    smtp_port: u16,
}

impl Fakes {
    async fn start() -> Result<Fakes, Error> {
        let http = Arc::new(Mutex::new(Http::default()));
        let mails = Arc::new(Mutex::new(Vec::new()));
        let base = serve_http(http.clone()).await?;
        let smtp_port = serve_smtp(mails.clone()).await?;
        Ok(Fakes {
            http,
            mails,
            base,
            smtp_port,
        })
    }

    fn requests(&self, prefix: &str) -> Vec<Request> {
        let s = self.http.lock().unwrap_or_else(|e| e.into_inner());
        s.requests
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// (slack, teams, jira, email) counts.
    fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.requests("/services/").len(),
            self.requests("/webhookb2/").len(),
            self.requests("/rest/api/3/").len(),
            self.mails().len(),
        )
    }

    fn engine(&self, store: Arc<dyn StateStore>) -> Result<AlertEngine, Error> {
        let rules = AlertRules::builder()
            .dead_letters_above(0)
            .quiet_period(Duration::from_secs(3600))
            .report_url(REPORT)
            .build()?;
        let engine = AlertEngine::new(rules, store)
            .notifier(SlackWebhook::new(format!("{}{SLACK_PATH}", self.base))?)?
            .notifier(TeamsWebhook::new(format!("{}{TEAMS_PATH}", self.base))?)?
            .notifier(
                JiraCloud::builder(&self.base, "ops@firm.example", JIRA_TOKEN, "OPS")
                    .issue_type("Bug")
                    .build()?,
            )?
            .notifier(
                EmailSmtp::builder(
                    "127.0.0.1",
                    self.smtp_port,
                    "alerts@firm.example",
                    ["finance@firm.example", "ops@firm.example"],
                )
                .credentials("alerts", SMTP_PASSWORD)
                .helo("odoo-connect.test")
                .build()?,
            )?;
        Ok(engine)
    }
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(minutes)
}

async fn park(store: &dyn StateStore, n: u32) -> Result<DeadLetterId, Error> {
    let envelope = Envelope::builder(
        IdempotencyKey::new(format!("hubspot:deal:{n}"))?,
        json!({"deal": n}),
    )
    .correlation_id(CorrelationId::new(format!("deal-{n}"))?)
    .source("hubspot")
    .legal_entity(LegalEntityKey::new("firm-eu")?)
    .build()?;
    let failure = Failure::new(FailureClass::Business, "contract cap reached");
    Ok(store.park(&envelope, failure, 3).await?)
}

fn temp_db() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("oc-alerts-{}.db", uuid::Uuid::new_v4().simple()))
}

#[tokio::test]
async fn a_dead_letter_notifies_each_channel_once_then_resolves_once() -> Result<(), Error> {
    let fakes = Fakes::start().await?;
    let path = temp_db();
    let store: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).await?);
    let engine = fakes.engine(store.clone())?;

    // Nothing parked: nothing fires, nothing is sent.
    let outcome = engine.check(None, at(0)).await?;
    assert!(outcome.firing.is_empty() && outcome.sent.is_empty());
    assert_eq!(fakes.counts(), (0, 0, 0, 0));

    let dl = park(&*store, 1).await?;
    let outcome = engine.check(None, at(1)).await?;
    assert_eq!(outcome.firing.len(), 1);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(outcome.sent.len(), 4);
    assert_eq!(fakes.counts(), (1, 1, 1, 1));

    // Slack: `text` as the notification fallback, Block Kit `blocks`.
    let slack = &fakes.requests("/services/")[0];
    assert_eq!(slack.method, "POST");
    assert_eq!(slack.path, SLACK_PATH);
    assert_eq!(slack.header("content-type"), Some("application/json"));
    let body = slack.body.as_object().ok_or("slack body is an object")?;
    assert_eq!(
        body.keys().collect::<Vec<_>>(),
        ["blocks", "text"],
        "only the documented top-level fields"
    );
    assert_eq!(slack.body["text"], "[CRITICAL] 1 open dead letters");
    let types: Vec<&str> = slack.body["blocks"]
        .as_array()
        .ok_or("blocks")?
        .iter()
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert_eq!(types, ["header", "section", "section", "context"]);
    assert_eq!(slack.body["blocks"][0]["text"]["type"], "plain_text");
    assert_eq!(slack.body["blocks"][1]["text"]["type"], "mrkdwn");
    assert_eq!(slack.body["blocks"][2]["fields"][0]["type"], "mrkdwn");
    assert_eq!(
        slack.body["blocks"][2]["fields"][0]["text"],
        "*Open dead letters*\n1"
    );
    assert_eq!(
        slack.body["blocks"][3]["elements"][0]["text"],
        format!("<{REPORT}|Operations report> · <{REPORT}#trace-deal-1|Trace>")
    );

    // Teams: a `message` with one Adaptive Card attachment.
    let teams = &fakes.requests("/webhookb2/")[0];
    assert_eq!(teams.body["type"], "message");
    let attachment = &teams.body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(attachment["contentUrl"].is_null());
    let card = &attachment["content"];
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.2");
    assert_eq!(card["body"][0]["type"], "TextBlock");
    assert_eq!(card["body"][0]["text"], "[CRITICAL] 1 open dead letters");
    assert_eq!(card["body"][1]["type"], "FactSet");
    assert_eq!(card["body"][1]["facts"][0]["title"], "Condition");
    assert_eq!(card["body"][1]["facts"][0]["value"], "dead_letters");
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][1]["url"], format!("{REPORT}#trace-deal-1"));

    // Jira Cloud: POST /rest/api/3/issue, basic auth, ADF description.
    let jira = &fakes.requests("/rest/api/3/")[0];
    assert_eq!(jira.method, "POST");
    assert_eq!(jira.path, "/rest/api/3/issue");
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ops@firm.example:{JIRA_TOKEN}"))
    );
    assert_eq!(jira.header("authorization"), Some(expected_auth.as_str()));
    let fields = &jira.body["fields"];
    assert_eq!(fields["project"], json!({"key": "OPS"}));
    assert_eq!(fields["issuetype"], json!({"name": "Bug"}));
    assert_eq!(fields["summary"], "[CRITICAL] 1 open dead letters");
    let doc = &fields["description"];
    assert_eq!(doc["type"], "doc");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["content"][0]["type"], "paragraph");
    assert_eq!(doc["content"][1]["type"], "bulletList");
    assert_eq!(doc["content"][1]["content"][0]["type"], "listItem");
    let link = &doc["content"][2]["content"][0];
    assert_eq!(link["marks"][0]["type"], "link");
    assert_eq!(link["marks"][0]["attrs"]["href"], REPORT);

    // Email: EHLO, AUTH PLAIN, MAIL FROM, RCPT TO per recipient, DATA, QUIT.
    let mail = &fakes.mails()[0];
    let plain =
        base64::engine::general_purpose::STANDARD.encode(format!("\0alerts\0{SMTP_PASSWORD}"));
    assert_eq!(
        mail.commands,
        [
            "EHLO odoo-connect.test".to_owned(),
            format!("AUTH PLAIN {plain}"),
            "MAIL FROM:<alerts@firm.example>".to_owned(),
            "RCPT TO:<finance@firm.example>".to_owned(),
            "RCPT TO:<ops@firm.example>".to_owned(),
            "DATA".to_owned(),
            "QUIT".to_owned(),
        ]
    );
    assert!(
        mail.data
            .contains("Subject: [CRITICAL] 1 open dead letters\r\n")
    );
    assert!(mail.data.contains("From: <alerts@firm.example>\r\n"));
    assert!(
        mail.data
            .contains("To: <finance@firm.example>, <ops@firm.example>\r\n")
    );
    assert!(mail.data.contains("Content-Transfer-Encoding: 7bit\r\n"));
    assert!(
        mail.data
            .contains("Reason (business): contract cap reached (1)\r\n")
    );
    assert!(
        mail.data
            .contains(&format!("Trace: {REPORT}#trace-deal-1\r\n"))
    );
    assert!(mail.data.lines().all(|l| l.len() <= 998));

    // Still firing: nothing more.
    let outcome = engine.check(None, at(2)).await?;
    assert_eq!(outcome.firing.len(), 1);
    assert!(outcome.sent.is_empty());
    assert_eq!(fakes.counts(), (1, 1, 1, 1));

    // Cleared: one resolved notice per channel; Jira comments on the issue it opened.
    store.mark_replayed(dl, "ops@firm.example", None).await?;
    let outcome = engine.check(None, at(3)).await?;
    assert!(outcome.firing.is_empty());
    assert_eq!(outcome.sent.len(), 4);
    assert!(outcome.sent.iter().all(|s| s.kind == NoticeKind::Resolved));
    assert_eq!(fakes.counts(), (2, 2, 2, 2));
    assert_eq!(
        fakes.requests("/services/")[1].body["text"],
        "[RESOLVED] 1 open dead letters"
    );
    let comment = &fakes.requests("/rest/api/3/")[1];
    assert_eq!(comment.path, "/rest/api/3/issue/OPS-1/comment");
    assert_eq!(comment.body["body"]["type"], "doc");
    assert_eq!(comment.body["body"]["version"], 1);

    // Cleared and still clear: nothing.
    engine.check(None, at(4)).await?;
    assert_eq!(fakes.counts(), (2, 2, 2, 2));

    // Firing again within the quiet period: nothing; still firing after it: one notice each.
    let dl2 = park(&*store, 2).await?;
    let outcome = engine.check(None, at(10)).await?;
    assert_eq!(outcome.firing.len(), 1);
    assert!(outcome.sent.is_empty());
    assert_eq!(fakes.counts(), (2, 2, 2, 2));
    let outcome = engine.check(None, at(70)).await?;
    assert_eq!(outcome.sent.len(), 4);
    assert_eq!(fakes.counts(), (3, 3, 3, 3));
    assert_eq!(fakes.requests("/rest/api/3/")[2].path, "/rest/api/3/issue");
    engine.check(None, at(71)).await?;
    assert_eq!(fakes.counts(), (3, 3, 3, 3));

    // A second process on the same file sees the same state: nothing to send.
    let other: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).await?);
    let outcome = fakes.engine(other)?.check(None, at(72)).await?;
    assert!(outcome.sent.is_empty());

    store.mark_replayed(dl2, "ops@firm.example", None).await?;
    engine.check(None, at(80)).await?;
    assert_eq!(fakes.counts(), (4, 4, 4, 4));
    assert_eq!(
        fakes.requests("/rest/api/3/")[3].path,
        "/rest/api/3/issue/OPS-2/comment"
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}

#[tokio::test]
async fn a_failed_send_is_tried_again_and_secrets_stay_out_of_errors() -> Result<(), Error> {
    let fakes = Fakes::start().await?;
    let path = temp_db();
    let store: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).await?);
    let rules = AlertRules::builder().dead_letters_above(0).build()?;
    let slack = SlackWebhook::new(format!("{}{SLACK_PATH}", fakes.base))?;
    assert!(!format!("{slack:?}").contains("SECRET"));
    let engine = AlertEngine::new(rules, store.clone()).notifier(slack)?;
    park(&*store, 1).await?;

    fakes
        .http
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .fail_next = 1;
    let outcome = engine.check(None, at(0)).await?;
    assert!(outcome.sent.is_empty());
    assert_eq!(outcome.failed.len(), 1);
    let message = format!("{} {:?}", outcome.failed[0].error, outcome.failed[0].error);
    assert!(message.contains("500"), "{message}");
    assert!(!message.contains("SECRET"), "{message}");

    let outcome = engine.check(None, at(1)).await?;
    assert_eq!(outcome.sent.len(), 1);
    assert_eq!(fakes.counts().0, 1);

    // A refused connection names no URL either.
    let dead = SlackWebhook::new("http://127.0.0.1:9/services/T/B/SECRETTOKEN")?;
    let notice = odoo_connect_ops::alerts::Notice::new(
        NoticeKind::Firing,
        outcome.firing[0].clone(),
        at(0),
        at(1),
    );
    let error = dead.notify(&notice).await.err().ok_or("port 9 answered")?;
    let text = format!("{error} {error:?}");
    assert!(!text.contains("SECRETTOKEN"), "{text}");
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn race(a: Arc<dyn StateStore>, b: Arc<dyn StateStore>) -> Result<(), Error> {
    let fakes = Fakes::start().await?;
    park(&*a, 1).await?;
    let (ea, eb) = (fakes.engine(a.clone())?, fakes.engine(b.clone())?);
    for round in 0..3 {
        let (ra, rb) = tokio::join!(ea.check(None, at(round)), eb.check(None, at(round)));
        let (ra, rb) = (ra?, rb?);
        assert!(ra.failed.is_empty() && rb.failed.is_empty());
        assert_eq!(
            ra.sent.len() + rb.sent.len(),
            if round == 0 { 4 } else { 0 },
            "round {round}"
        );
    }
    assert_eq!(fakes.counts(), (1, 1, 1, 1));
    Ok(())
}

#[tokio::test]
async fn two_evaluators_racing_on_one_sqlite_file_send_once() -> Result<(), Error> {
    let path = temp_db();
    let a: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).await?);
    let b: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).await?);
    race(a, b).await?;
    let _ = std::fs::remove_file(&path);
    Ok(())
}

#[tokio::test]
async fn two_evaluators_racing_on_one_postgres_schema_send_once() -> Result<(), Error> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!("skipped: DATABASE_URL not set");
            return Ok(());
        }
    };
    let schema = format!(
        "oc_alerts_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let open = || {
        PostgresStore::builder(&url)
            .schema(&schema)
            .max_connections(2)
            .connect()
    };
    let a = open().await?;
    let b = open().await?;
    let result = race(Arc::new(a.clone()), Arc::new(b)).await;
    // Drop the schema whatever happened.
    a.drop_schema().await?;
    result
}
