//! The operator's commands on the sync state: `status`, `dead-letters list|show|replay`,
//! `trace`, `queue list` and `purge`. Tables for people by default, `--json` for scripts.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use odoo_connect::sync::envelope::{CorrelationId, Lane};
use odoo_connect::sync::pipeline::Pipeline;
use odoo_connect::sync::store::{
    AuditQuery, DeadLetter, DeadLetterFilter, DeadLetterId, MessageState, PurgeMode, QueueFilter,
    QueueState, RetentionPolicy, flow_of,
};
use serde_json::{Value, json};

use crate::state::{CliError, StateArgs, Store, TargetArgs};

/// `--json` and where the state is, shared by every command here.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Where the sync state is.
    #[command(flatten)]
    target: TargetArgs,
}

/// The options of `status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    common: Common,
}

/// `dead-letters`.
#[derive(Debug, Args)]
pub(crate) struct DeadLettersArgs {
    #[command(subcommand)]
    command: DeadLettersCommand,
    #[command(flatten)]
    common: Common,
}

/// What to do with the dead letters.
#[derive(Debug, Subcommand)]
enum DeadLettersCommand {
    /// The open dead letters (oldest first).
    List {
        /// Only reasons containing TEXT.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Only from this source system.
        #[arg(long)]
        source: Option<String>,
        /// List the replayed ones instead.
        #[arg(long)]
        replayed: bool,
        /// At most N.
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: usize,
    },
    /// One dead letter in full.
    Show {
        /// Its id.
        #[arg(value_parser = parse_id)]
        id: DeadLetterId,
    },
    /// Puts a dead letter back in the queue (same idempotency key), recorded with your name.
    Replay {
        /// Its id.
        #[arg(value_parser = parse_id)]
        id: DeadLetterId,
        /// A JSON file with the corrected payload.
        #[arg(long, value_name = "FILE")]
        corrected: Option<PathBuf>,
        /// Who replays (recorded in the audit trail); default: $USER.
        #[arg(long, env = "USER", value_name = "NAME")]
        operator: String,
    },
}

/// The options of `trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// A correlation id, or a CRM deal id (`deal:<id>` or just `<id>`).
    id: String,
    #[command(flatten)]
    common: Common,
}

/// `queue`.
#[derive(Debug, Args)]
pub(crate) struct QueueArgs {
    #[command(subcommand)]
    command: QueueCommand,
    #[command(flatten)]
    common: Common,
}

/// What to do with the queue.
#[derive(Debug, Subcommand)]
enum QueueCommand {
    /// Messages, oldest first.
    List {
        /// ready, leased, scheduled, unfinished, done or dead_lettered.
        #[arg(long, value_parser = parse_state)]
        state: Option<QueueState>,
        /// The payload's `flow` tag, or the source.
        #[arg(long)]
        flow: Option<String>,
        /// The lane.
        #[arg(long)]
        lane: Option<String>,
        /// Only enqueued longer ago than this (`90s`, `15m`, `2h`, `3d`).
        #[arg(long, value_parser = parse_age, value_name = "AGE")]
        older_than: Option<Duration>,
        /// At most N.
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: usize,
        /// Continue after this cursor (printed with the previous page).
        #[arg(long)]
        after: Option<u64>,
    },
}

/// The options of `purge`.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Delete every kind of record older than this (`30d`); default: the retention policy
    /// (finished messages 14 days, done ledger entries and replayed dead letters 90, audit 400).
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    older_than: Option<Duration>,
    /// Keep audit records this long whatever `--older-than` says (default 400 days).
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    keep_audit: Option<Duration>,
    /// Count what would be deleted, delete nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    common: Common,
}

fn parse_id(s: &str) -> Result<DeadLetterId, String> {
    serde_json::from_value(Value::String(s.trim().to_owned()))
        .map_err(|_| format!("{s:?} is not a dead letter id (a UUID)"))
}

fn parse_state(s: &str) -> Result<QueueState, String> {
    QueueState::parse(s).ok_or_else(|| {
        format!("unknown state {s:?}: ready, leased, scheduled, unfinished, done or dead_lettered")
    })
}

/// `90s`, `15m`, `2h`, `3d`, `2w`.
pub(crate) fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not an age like 90s, 15m, 2h, 3d or 2w"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: s, m, h, d or w")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

/// Runs `f` on the opened store and closes it whatever happens.
async fn with_store<T>(
    state: &StateArgs,
    f: impl AsyncFnOnce(&Store) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let store = Store::open(state).await?;
    let result = f(&store).await;
    store.close().await;
    result
}

fn print(out: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    let mut text = out.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Stdout(e)),
        _ => Ok(()),
    }
}

fn print_json(v: &Value) -> Result<(), CliError> {
    print(&serde_json::to_string_pretty(v).map_err(CliError::Json)?)
}

/// A plain text table: a header, a rule, the rows; columns as wide as their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.push(line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn age_since(t: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - t).to_std().unwrap_or_default()
}

/// `status`: queue depth by state, lag, open dead letters by reason.
pub(crate) async fn status(args: StatusArgs) -> Result<(), CliError> {
    let json = args.common.json;
    with_store(&args.common.target.state(), async |store| {
        let s = store.as_state();
        let now = Utc::now();
        let stats = s.stats().await.map_err(CliError::Store)?;
        let reasons = s.count_by_reason().await.map_err(CliError::Store)?;
        let ready = stats
            .depth
            .saturating_sub(stats.in_flight)
            .saturating_sub(stats.scheduled);
        let lag = stats.oldest_age(now);
        if json {
            return print_json(&json!({
                "queue": {"depth": stats.depth, "ready": ready, "leased": stats.in_flight,
                          "scheduled": stats.scheduled},
                "lag_seconds": lag.as_secs_f64(),
                "oldest_enqueued_at": stats.oldest_enqueued_at,
                "dead_letters": reasons.iter().map(|r| json!({
                    "class": r.class.as_str(), "reason": r.reason, "count": r.count,
                })).collect::<Vec<_>>(),
            }));
        }
        let mut out = table(
            &["queue", "messages"],
            &[
                vec!["ready".into(), ready.to_string()],
                vec!["leased".into(), stats.in_flight.to_string()],
                vec!["scheduled".into(), stats.scheduled.to_string()],
                vec!["total".into(), stats.depth.to_string()],
            ],
        );
        out.push_str(&format!(
            "\n\nlag (oldest unfinished message): {}\n\n",
            human_age(lag)
        ));
        let open: u64 = reasons.iter().map(|r| r.count).sum();
        if reasons.is_empty() {
            out.push_str("dead letters: none open");
        } else {
            out.push_str(&format!("dead letters: {open} open\n"));
            let rows: Vec<Vec<String>> = reasons
                .iter()
                .map(|r| {
                    vec![
                        r.count.to_string(),
                        r.class.as_str().into(),
                        r.reason.clone(),
                    ]
                })
                .collect();
            out.push_str(&table(&["count", "class", "reason"], &rows));
        }
        print(&out)
    })
    .await
}

fn letter_json(dl: &DeadLetter) -> Value {
    json!({
        "id": dl.id,
        "message_id": dl.envelope.id,
        "parked_at": dl.parked_at,
        "class": dl.failure.class.as_str(),
        "reason": dl.failure.reason,
        "errors": dl.failure.errors,
        "context": dl.failure.context,
        "attempts": dl.attempts,
        "source": dl.envelope.source,
        "lane": dl.envelope.lane.as_str(),
        "idempotency_key": dl.envelope.idempotency_key.as_str(),
        "correlation_id": dl.envelope.correlation_id.as_str(),
        "payload": dl.envelope.payload,
        "replayed_by": dl.replay.as_ref().map(|r| r.by.clone()),
        "replayed_at": dl.replay.as_ref().map(|r| r.at),
        "raw": dl.raw.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
    })
}

/// `dead-letters list|show|replay`.
pub(crate) async fn dead_letters(args: DeadLettersArgs) -> Result<(), CliError> {
    let json = args.common.json;
    with_store(&args.common.target.state(), async |store| {
        match args.command {
            DeadLettersCommand::List {
                reason,
                source,
                replayed,
                limit,
            } => {
                let mut filter = DeadLetterFilter::all().replayed(replayed).limit(limit);
                if let Some(r) = reason {
                    filter = filter.reason_contains(r);
                }
                if let Some(s) = source {
                    filter = filter.source(s);
                }
                let letters = store
                    .as_state()
                    .list_dead_letters(&filter)
                    .await
                    .map_err(CliError::Store)?;
                if json {
                    return print_json(&Value::Array(letters.iter().map(letter_json).collect()));
                }
                let now = Utc::now();
                let rows: Vec<Vec<String>> = letters
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            human_age(age_since(d.parked_at, now)),
                            d.failure.class.as_str().into(),
                            d.envelope.source.clone(),
                            d.envelope.lane.as_str().into(),
                            d.failure.reason.clone(),
                        ]
                    })
                    .collect();
                print(&format!(
                    "{}\n{} dead letter(s)",
                    table(&["id", "age", "class", "source", "lane", "reason"], &rows),
                    letters.len()
                ))
            }
            DeadLettersCommand::Show { id } => {
                let dl = find_letter(store, id).await?;
                if json {
                    return print_json(&letter_json(&dl));
                }
                let v = letter_json(&dl);
                let mut out = String::new();
                if let Value::Object(map) = v {
                    for (k, v) in map {
                        let text = match v {
                            Value::String(s) => s,
                            Value::Null => continue,
                            other => {
                                serde_json::to_string_pretty(&other).map_err(CliError::Json)?
                            }
                        };
                        out.push_str(&format!("{k:<16} {text}\n"));
                    }
                }
                print(&out)
            }
            DeadLettersCommand::Replay {
                id,
                corrected,
                operator,
            } => {
                let dl = find_letter(store, id).await?;
                let payload = match &corrected {
                    Some(path) => {
                        let text =
                            std::fs::read_to_string(path).map_err(|source| CliError::ReadFile {
                                path: path.clone(),
                                source,
                            })?;
                        Some(serde_json::from_str::<Value>(&text).map_err(|source| {
                            CliError::BadJson {
                                path: path.clone(),
                                source,
                            }
                        })?)
                    }
                    None => None,
                };
                if dl.is_quarantined() && payload.is_none() {
                    return Err(CliError::Quarantined { id: id.to_string() });
                }
                if dl.replay.is_some() {
                    return Err(CliError::AlreadyReplayed { id: id.to_string() });
                }
                let pipeline = Pipeline::builder("odoo-connect", store.shared()).build();
                let message = pipeline
                    .replay(id, payload, &operator)
                    .await
                    .map_err(|e| CliError::Replay(Box::new(e)))?;
                if json {
                    return print_json(&json!({"dead_letter": id, "message_id": message,
                                          "operator": operator,
                                          "corrected": corrected.is_some()}));
                }
                print(&format!(
                    "replayed dead letter {id} as message {message} (by {operator}{})",
                    if corrected.is_some() {
                        ", corrected payload"
                    } else {
                        ""
                    }
                ))
            }
        }
    })
    .await
}

async fn find_letter(store: &Store, id: DeadLetterId) -> Result<DeadLetter, CliError> {
    store
        .as_state()
        .dead_letter_by_id(id)
        .await
        .map_err(CliError::Store)?
        .ok_or_else(|| CliError::NotFound {
            what: "dead letter",
            id: id.to_string(),
        })
}

/// `trace`: the audit trail of a correlation id (a deal id with or without `deal:`).
pub(crate) async fn trace(args: TraceArgs) -> Result<(), CliError> {
    let json = args.common.json;
    let id = args.id.trim().to_owned();
    let mut candidates = vec![id.clone()];
    match id.strip_prefix("deal:") {
        Some(rest) => candidates.push(rest.to_owned()),
        None => candidates.push(format!("deal:{id}")),
    }
    with_store(&args.common.target.state(), async |store| {
        let mut found = (id.clone(), Vec::new());
        for c in &candidates {
            let Ok(cid) = CorrelationId::new(c.clone()) else {
                continue;
            };
            let records = store
                .as_state()
                .query_audit(&AuditQuery::all().correlation_id(cid).limit(10_000))
                .await
                .map_err(CliError::Store)?;
            if !records.is_empty() {
                found = (c.clone(), records);
                break;
            }
        }
        let (cid, records) = found;
        if records.is_empty() {
            return Err(CliError::NotFound {
                what: "audit trail for",
                id,
            });
        }
        if json {
            return print_json(&json!({
                "correlation_id": cid,
                "events": records.iter().map(|r| json!({
                    "seq": r.seq, "at": r.at, "kind": r.event.kind.as_str(),
                    "message_id": r.event.message_id, "step": r.event.step,
                    "outcome": r.event.outcome, "actor": r.event.actor,
                    "details": r.event.details,
                })).collect::<Vec<_>>(),
            }));
        }
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                vec![
                    r.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    r.event.kind.as_str().to_owned(),
                    r.event.step.clone().unwrap_or_default(),
                    r.event.outcome.clone().unwrap_or_default(),
                    r.event.actor.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print(&format!(
            "trace of {cid} ({} events)\n{}",
            records.len(),
            table(&["at (UTC)", "event", "step", "outcome", "by"], &rows)
        ))
    })
    .await
}

fn state_name(s: &MessageState) -> &'static str {
    match s {
        MessageState::Ready => "ready",
        MessageState::Leased { .. } => "leased",
        MessageState::Scheduled { .. } => "scheduled",
        MessageState::Done { .. } => "done",
        MessageState::DeadLettered { .. } => "dead_lettered",
        _ => "other",
    }
}

/// `queue list`.
pub(crate) async fn queue(args: QueueArgs) -> Result<(), CliError> {
    let json = args.common.json;
    let QueueCommand::List {
        state,
        flow,
        lane,
        older_than,
        limit,
        after,
    } = args.command;
    let now = Utc::now();
    let mut filter = QueueFilter::all().limit(limit);
    filter.state = state;
    filter.flow = flow;
    filter.after = after;
    if let Some(l) = lane {
        filter = filter.lane(Lane::new(l).map_err(|e| CliError::BadArgument(e.to_string()))?);
    }
    if let Some(age) = older_than {
        let cut = chrono::Duration::from_std(age)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| CliError::BadArgument("--older-than is too long".into()))?;
        filter = filter.enqueued_before(cut);
    }
    with_store(&args.common.target.state(), async |store| {
        let page = store
            .as_state()
            .list_messages(&filter)
            .await
            .map_err(CliError::Store)?;
        if json {
            return print_json(&json!({
                "messages": page.items.iter().map(|e| {
                    let m = &e.message;
                    json!({"position": e.position, "id": m.envelope.id,
                           "state": state_name(&m.state), "flow": flow_of(&m.envelope),
                           "source": m.envelope.source, "lane": m.envelope.lane.as_str(),
                           "idempotency_key": m.envelope.idempotency_key.as_str(),
                           "enqueued_at": m.enqueued_at, "attempts": m.attempts,
                           "last_error": m.last_error})
                }).collect::<Vec<_>>(),
                "next": page.next,
            }));
        }
        let rows: Vec<Vec<String>> = page
            .items
            .iter()
            .map(|e| {
                let m = &e.message;
                vec![
                    m.envelope.id.as_uuid().to_string(),
                    state_name(&m.state).to_owned(),
                    human_age(age_since(m.enqueued_at, now)),
                    flow_of(&m.envelope).to_owned(),
                    m.envelope.lane.as_str().to_owned(),
                    m.attempts.to_string(),
                    m.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let mut out = table(
            &[
                "id",
                "state",
                "age",
                "flow",
                "lane",
                "attempts",
                "last error",
            ],
            &rows,
        );
        out.push_str(&format!("\n{} message(s)", page.items.len()));
        if let Some(next) = page.next {
            out.push_str(&format!("; more with --after {next}"));
        }
        print(&out)
    })
    .await
}

/// `purge`: retention, by the default policy or one age for everything.
pub(crate) async fn purge(args: PurgeArgs) -> Result<(), CliError> {
    let json = args.common.json;
    let mut policy = match args.older_than {
        Some(age) => RetentionPolicy::uniform(age),
        None => RetentionPolicy::default(),
    };
    policy = policy.audit(args.keep_audit.unwrap_or(RetentionPolicy::default().audit));
    let mode = if args.dry_run {
        PurgeMode::DryRun
    } else {
        PurgeMode::Delete
    };
    with_store(&args.common.target.state(), async |store| {
        let report = policy
            .purge(store.as_state(), Utc::now(), mode)
            .await
            .map_err(CliError::Store)?;
        if json {
            return print_json(&serde_json::to_value(report).map_err(CliError::Json)?);
        }
        let verb = if report.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        let rows = vec![
            vec!["finished messages".into(), report.messages.to_string()],
            vec!["ledger entries".into(), report.ledger.to_string()],
            vec![
                "replayed dead letters".into(),
                report.dead_letters.to_string(),
            ],
            vec!["audit records".into(), report.audit.to_string()],
        ];
        print(&table(&["table", verb], &rows))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_age("14d"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("14"), Ok(Duration::from_secs(14 * 86_400)));
        assert!(parse_age("x").is_err());
        assert!(parse_age("3y").is_err());
    }

    #[test]
    fn tables_align_columns() {
        let t = table(&["a", "bb"], &[vec!["long".into(), "x".into()]]);
        assert_eq!(t, "a     bb\n----  --\nlong  x");
    }
}
