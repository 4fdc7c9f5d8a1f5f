//! Month-end soak: a burst of time entries and invoices through 4 worker processes that are
//! killed and restarted while they work, then an exact count in the fake Odoo.
//!
//! The parent starts a [`FakeOdoo`], opens a durable store (a SQLite file in a temporary
//! directory, or PostgreSQL with `--postgres` and `DATABASE_URL`), enqueues the whole burst
//! (one message per time entry, one per invoice), and starts 4 workers: this program run again
//! with `--worker`. Each worker runs [`Pipeline::run`] (until it is killed) on the shared store; its
//! step creates one `account.analytic.line` (time entry) or one `account.move` (invoice) with the
//! exactly-once [`create_once`]. Every `--kill-every` seconds the parent kills one worker with
//! SIGKILL and starts it again. It prints the queue depth every second, then throughput, p50/p99
//! latency per message (enqueue to done, as the workers record it), and the records in the fake
//! counted by name per kind: expected, created, missing, duplicated. Once the queue is drained,
//! a missing record is a lost one. It exits non-zero when a record is missing or duplicated or
//! the queue is not drained within `--seconds` (what is left then stays in the durable queue).
//! Latency samples are written by the workers a few times a second: a killed worker loses its
//! last unflushed samples, and a message redelivered after a kill is sampled again.
//!
//! ```text
//! cargo run --example month_end_soak --features testkit,postgres -- --quick
//! cargo run --example month_end_soak --features testkit,postgres -- --seconds 300
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --example month_end_soak --features testkit,postgres -- --postgres
//! ```
//!
//! Options: `--entries N` (default 50,000), `--invoices N` (default 5,000), `--seconds N`
//! (default 120: the time allowed to drain the queue), `--workers N` (default 4),
//! `--kill-every N` (seconds, default 3), `--quick` (2,000 entries, 200 invoices, at most 30 s),
//! `--help`. An unknown option is refused rather than starting a full-size run.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use odoo_connect::odoo::models::{Employee, Project};
use odoo_connect::odoo::{Domain, OdooClient, RecordId, RetryPolicy};
use odoo_connect::rust_decimal::Decimal;
use odoo_connect::store::StateStore;
use odoo_connect::store::postgres::PostgresStore;
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::effect::{ImportRow, create_once};
use odoo_connect::sync::envelope::{Envelope, IdempotencyKey, JsonEnvelope};
use odoo_connect::sync::pipeline::{Pipeline, SyncRetryPolicy};
use odoo_connect::sync::step::{StepContext, StepResult};
use odoo_connect::sync::typed::{TypedStep, typed};
use odoo_connect::testkit::FakeOdoo;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const LINES: &str = "account.analytic.line";
const MOVES: &str = "account.move";
const ENTRY_PREFIX: &str = "Soak entry ";
const INVOICE_PREFIX: &str = "SOAK/INV/";
const PG_SCHEMA: &str = "month_end_soak";

#[derive(Debug, Clone)]
struct Options {
    entries: usize,
    invoices: usize,
    seconds: u64,
    workers: usize,
    kill_every: u64,
    postgres: bool,
}

fn value_of<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let raw = args.get(i + 1).ok_or(format!("{name} needs a value"))?;
            let v = raw
                .replace(['_', ','], "")
                .parse::<T>()
                .map_err(|_| format!("{name}: not a number: {raw}"))?;
            Ok(Some(v))
        }
    }
}

fn options(args: &[String]) -> Result<Options, BoxError> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        entries: if quick { 2_000 } else { 50_000 },
        invoices: if quick { 200 } else { 5_000 },
        seconds: if quick { 30 } else { 120 },
        workers: 4,
        kill_every: 3,
        postgres: args.iter().any(|a| a == "--postgres"),
    };
    if let Some(v) = value_of(args, "--entries")? {
        o.entries = v;
    }
    if let Some(v) = value_of(args, "--invoices")? {
        o.invoices = v;
    }
    if let Some(v) = value_of(args, "--seconds")? {
        o.seconds = v;
    }
    if let Some(v) = value_of(args, "--workers")? {
        o.workers = v;
    }
    if let Some(v) = value_of(args, "--kill-every")? {
        o.kill_every = v;
    }
    Ok(o)
}

fn arg<'a>(args: &'a [String], name: &str) -> Result<&'a str, BoxError> {
    let i = args
        .iter()
        .position(|a| a == name)
        .ok_or(format!("missing {name}"))?;
    Ok(args.get(i + 1).ok_or(format!("{name} needs a value"))?)
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

async fn open_store(spec: &str) -> Result<Arc<dyn StateStore>, BoxError> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        Ok(Arc::new(SqliteStore::open(path).await?))
    } else if let Some(url) = spec.strip_prefix("postgres:") {
        Ok(Arc::new(
            PostgresStore::builder(url)
                .schema(PG_SCHEMA)
                .max_connections(8)
                .connect()
                .await?,
        ))
    } else {
        Err(format!("unknown store: {spec}").into())
    }
}

fn client(url: &str, db: &str, key: &str) -> Result<OdooClient, BoxError> {
    Ok(OdooClient::builder(url)
        .database(db)
        .api_key("admin", key.to_owned())
        .retry(RetryPolicy::none())
        .max_concurrent_requests(8)
        .build()?)
}

// ---------------------------------------------------------------------------------------------
// Worker process

/// The message of the soak: a timesheet line or an invoice to create, and when it was enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Entry,
    Invoice,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Work {
    kind: Kind,
    i: usize,
    /// When it was enqueued, in microseconds since the epoch.
    t: i64,
}

fn row_for(
    work: &Work,
    project: RecordId,
    employee: RecordId,
    partner: RecordId,
) -> (&'static str, ImportRow) {
    let i = work.i;
    match work.kind {
        Kind::Entry => (
            LINES,
            ImportRow::new()
                .text("name", format!("{ENTRY_PREFIX}{i}"))
                .many2one("project_id", project)
                .many2one("employee_id", employee)
                .text("date", "2026-11-30")
                // A quarter hour to two hours, exactly.
                .number("unit_amount", Decimal::new(25 * (1 + (i % 8) as i64), 2)),
        ),
        Kind::Invoice => (
            MOVES,
            ImportRow::new()
                .text("ref", format!("{INVOICE_PREFIX}{i}"))
                .text("move_type", "out_invoice")
                .many2one("partner_id", partner)
                .text("invoice_date", "2026-11-30"),
        ),
    }
}

/// The soak's one step: the record of the work, created exactly once.
struct Create {
    odoo: OdooClient,
    project: RecordId,
    employee: RecordId,
    partner: RecordId,
    recorded: Arc<Mutex<Vec<i64>>>,
}

#[odoo_connect::sync::async_trait]
impl TypedStep<Work> for Create {
    async fn run(&self, work: &Work, cx: &mut StepContext) -> StepResult {
        let (model, row) = row_for(work, self.project, self.employee, self.partner);
        let key = cx.envelope.idempotency_key.clone();
        create_once(cx, &self.odoo, model, &key, &row).await?;
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(now_micros() - work.t);
        Ok(())
    }
}

async fn worker(args: &[String]) -> Result<(), BoxError> {
    let name = arg(args, "--worker")?.to_owned();
    let store = open_store(arg(args, "--store")?).await?;
    let odoo = client(
        arg(args, "--odoo")?,
        arg(args, "--db")?,
        arg(args, "--key")?,
    )?;
    let project = RecordId::new(arg(args, "--project")?.parse()?);
    let employee = RecordId::new(arg(args, "--employee")?.parse()?);
    let partner = RecordId::new(arg(args, "--partner")?.parse()?);
    let latency_file = PathBuf::from(arg(args, "--latencies")?);

    // Latencies (microseconds, enqueue to done) are flushed to the file a few times a second;
    // a killed worker loses at most its last unflushed samples, not messages.
    let samples: Arc<Mutex<Vec<i64>>> = Arc::default();
    let flusher = {
        let samples = samples.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let batch = std::mem::take(&mut *samples.lock().unwrap_or_else(|e| e.into_inner()));
                if batch.is_empty() {
                    continue;
                }
                let mut text = String::with_capacity(batch.len() * 8);
                for v in batch {
                    text.push_str(&v.to_string());
                    text.push('\n');
                }
                if let Ok(mut f) = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&latency_file)
                {
                    let _ = f.write_all(text.as_bytes());
                }
            }
        })
    };

    let recorded = samples.clone();
    let pipeline = Pipeline::builder("month-end", store)
        .batch_size(64)
        .concurrency(16)
        .lease_for(Duration::from_secs(5))
        .idle_wait(Duration::from_millis(50))
        .retry(SyncRetryPolicy::default().initial_delay(Duration::from_millis(50)))
        .step(typed(Create {
            odoo,
            project,
            employee,
            partner,
            recorded,
        }))
        .build();
    // Runs until the parent kills the process.
    let report = pipeline.run(&name, std::future::pending::<()>()).await;
    flusher.abort();
    report?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parent process

/// A directory of its own under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("month-end-soak-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Workers {
    exe: PathBuf,
    base: Vec<String>,
    latencies: PathBuf,
    children: Vec<Child>,
    generation: usize,
}

impl Workers {
    fn spawn(&mut self, slot: usize) -> Result<Child, BoxError> {
        self.generation += 1;
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.base)
            .arg("--worker")
            .arg(format!("worker-{slot}"))
            .arg("--latencies")
            .arg(
                self.latencies
                    .join(format!("w{slot}-{}.txt", self.generation)),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        Ok(cmd.spawn()?)
    }

    fn kill_all(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn envelope(kind: Kind, i: usize, t: i64) -> Result<JsonEnvelope, BoxError> {
    let (name, effect) = match kind {
        Kind::Entry => ("entry", "timesheet"),
        Kind::Invoice => ("invoice", "invoice"),
    };
    let key = IdempotencyKey::for_effect("month-end", &format!("{name}-{i}"), "approved", effect)?;
    Ok(Envelope::builder(key, Work { kind, i, t })
        .source("month-end")
        .legal_entity("BE".parse()?)
        .build()?
        .to_json()?)
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

fn read_latencies(dir: &Path) -> Vec<i64> {
    let mut all = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                all.extend(text.lines().filter_map(|l| l.parse::<i64>().ok()));
            }
        }
    }
    all.sort_unstable();
    all
}

/// Counts records per name with the given prefix: (distinct names, duplicates, names outside 0..n).
fn tally(records: &[Value], field: &str, prefix: &str, n: usize) -> (usize, usize, usize) {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut stray = 0;
    for r in records {
        let Some(name) = r.get(field).and_then(Value::as_str) else {
            continue;
        };
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        match rest.parse::<usize>() {
            Ok(i) if i < n => *seen.entry(i).or_default() += 1,
            _ => stray += 1,
        }
    }
    let dup = seen.values().map(|c| c - 1).sum();
    (seen.len(), dup, stray)
}

async fn parent(o: Options) -> Result<bool, BoxError> {
    let fake = FakeOdoo::start().await;
    let odoo = client(&fake.url(), fake.database(), &fake.admin_api_key())?;
    let first = |v: Vec<RecordId>, what: &str| -> Result<RecordId, BoxError> {
        v.first()
            .copied()
            .ok_or_else(|| format!("no {what} in the fake").into())
    };
    let project = first(
        odoo.model::<Project>()
            .search(Domain::new())
            .limit(1)
            .await?,
        "project",
    )?;
    let employee = first(
        odoo.model::<Employee>()
            .search(Domain::new())
            .limit(1)
            .await?,
        "employee",
    )?;
    let partner = first(
        odoo.model_named::<Value>("res.partner")
            .search(Domain::new())
            .limit(1)
            .await?,
        "partner",
    )?;

    let dir = TempDir::new()?;
    let spec = if o.postgres {
        let url = std::env::var("DATABASE_URL").map_err(|_| "--postgres needs DATABASE_URL")?;
        let old = PostgresStore::builder(url.clone())
            .schema(PG_SCHEMA)
            .connect()
            .await?;
        old.drop_schema().await?;
        old.close().await;
        format!("postgres:{url}")
    } else {
        format!("sqlite:{}", dir.path().join("soak.db").display())
    };
    let store = open_store(&spec).await?;
    let latencies = dir.path().join("latencies");
    std::fs::create_dir_all(&latencies)?;

    println!(
        "month-end soak: {} time entries + {} invoices, {} workers, one killed every {} s, store {}",
        o.entries,
        o.invoices,
        o.workers,
        o.kill_every,
        if o.postgres {
            "PostgreSQL"
        } else {
            "SQLite file"
        }
    );

    // The burst: everything enqueued before any worker starts.
    let total = o.entries + o.invoices;
    let t_enqueue = Instant::now();
    let mut burst = Vec::with_capacity(total);
    let t = now_micros();
    for i in 0..o.entries {
        burst.push(envelope(Kind::Entry, i, t)?);
        if i % 10 == 9 && i / 10 < o.invoices {
            burst.push(envelope(Kind::Invoice, i / 10, t)?);
        }
    }
    let invoices = (0..o.entries)
        .filter(|i| i % 10 == 9 && i / 10 < o.invoices)
        .count();
    for i in invoices..o.invoices {
        burst.push(envelope(Kind::Invoice, i, t)?);
    }
    for chunk in burst.chunks(1_000) {
        store.enqueue_batch(chunk).await?;
    }
    println!(
        "enqueued {total} messages in {:.1} s",
        t_enqueue.elapsed().as_secs_f64()
    );

    let mut workers = Workers {
        exe: std::env::current_exe()?,
        base: vec![
            "--store".into(),
            spec.clone(),
            "--odoo".into(),
            fake.url(),
            "--db".into(),
            fake.database().to_owned(),
            "--key".into(),
            fake.admin_api_key(),
            "--project".into(),
            project.get().to_string(),
            "--employee".into(),
            employee.get().to_string(),
            "--partner".into(),
            partner.get().to_string(),
        ],
        latencies: latencies.clone(),
        children: Vec::new(),
        generation: 0,
    };
    for slot in 0..o.workers {
        let c = workers.spawn(slot)?;
        workers.children.push(c);
    }

    let start = Instant::now();
    let deadline = Duration::from_secs(o.seconds);
    let mut kills = 0usize;
    let mut next_kill = Duration::from_secs(o.kill_every);
    let mut drained = false;
    println!(
        "{:>6} {:>8} {:>9} {:>9} {:>6}",
        "t (s)", "depth", "in flight", "scheduled", "kills"
    );
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = start.elapsed();
        let stats = store.stats().await?;
        println!(
            "{:>6} {:>8} {:>9} {:>9} {:>6}",
            elapsed.as_secs(),
            stats.depth,
            stats.in_flight,
            stats.scheduled,
            kills
        );
        if stats.depth == 0 {
            drained = true;
            break;
        }
        if elapsed >= deadline {
            break;
        }
        if o.kill_every > 0 && elapsed >= next_kill && !workers.children.is_empty() {
            let slot = kills % workers.children.len();
            let _ = workers.children[slot].kill();
            let _ = workers.children[slot].wait();
            workers.children[slot] = workers.spawn(slot)?;
            kills += 1;
            next_kill += Duration::from_secs(o.kill_every);
        }
    }
    let took = start.elapsed();
    workers.kill_all();

    let lines = fake.records(LINES);
    let moves = fake.records(MOVES);
    let (entries, entry_dups, entry_stray) = tally(&lines, "name", ENTRY_PREFIX, o.entries);
    let (invoices, invoice_dups, invoice_stray) = tally(&moves, "ref", INVOICE_PREFIX, o.invoices);
    let lat = read_latencies(&latencies);
    let done = entries + invoices;

    println!();
    println!(
        "drained: {drained} in {:.1} s; workers killed and restarted: {kills}",
        took.as_secs_f64()
    );
    println!(
        "throughput: {:.0} msg/s ({done} messages done)",
        done as f64 / took.as_secs_f64().max(0.001)
    );
    println!(
        "latency enqueue to done: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} samples)",
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        lat.len()
    );
    println!(
        "{:<22} {:>9} {:>9} {:>8} {:>10}",
        "kind", "expected", "created", "missing", "duplicated"
    );
    let entry_missing = o.entries.saturating_sub(entries);
    let invoice_missing = o.invoices.saturating_sub(invoices);
    println!(
        "{:<22} {:>9} {:>9} {:>8} {:>10}",
        "time entries",
        o.entries,
        entries,
        entry_missing,
        entry_dups + entry_stray
    );
    println!(
        "{:<22} {:>9} {:>9} {:>8} {:>10}",
        "invoices",
        o.invoices,
        invoices,
        invoice_missing,
        invoice_dups + invoice_stray
    );
    let end = store.stats().await?;
    if !drained {
        println!(
            "not drained within {} s: {} messages still queued (kept in the durable queue, not lost)",
            o.seconds, end.depth
        );
    }
    let ok = drained
        && entry_missing == 0
        && invoice_missing == 0
        && entry_dups + entry_stray + invoice_dups + invoice_stray == 0;
    println!(
        "{}: queue depth {} at the end",
        if ok { "OK" } else { "FAILED" },
        end.depth
    );
    if let Some(pg) = spec.strip_prefix("postgres:") {
        let s = PostgresStore::builder(pg)
            .schema(PG_SCHEMA)
            .connect()
            .await?;
        s.drop_schema().await?;
        s.close().await;
    }
    fake.shutdown().await;
    Ok(ok)
}

const USAGE: &str = "\
month_end_soak: a burst of time entries and invoices through worker processes that are killed
and restarted, then an exact count of the records in the fake Odoo.

Options:
  --entries N      time entries (default 50,000)
  --invoices N     invoices (default 5,000)
  --seconds N      time allowed to drain the queue (default 120)
  --workers N      worker processes (default 4)
  --kill-every N   seconds between worker kills (default 3)
  --quick          2,000 entries, 200 invoices, at most 30 s
  --postgres       PostgreSQL at DATABASE_URL instead of a SQLite file
  --help           this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // An unknown option would otherwise start a full-size run.
    let known = [
        "--entries",
        "--invoices",
        "--seconds",
        "--workers",
        "--kill-every",
        "--quick",
        "--postgres",
    ];
    if !args.iter().any(|a| a == "--worker") {
        let mut rest = args.iter();
        while let Some(a) = rest.next() {
            if !known.contains(&a.as_str()) {
                eprintln!("month_end_soak: unknown option {a}\n\n{USAGE}");
                return ExitCode::FAILURE;
            }
            if !matches!(a.as_str(), "--quick" | "--postgres") {
                rest.next();
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.iter().any(|a| a == "--worker") {
        return match rt.block_on(worker(&args)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = options(&args).map(|o| rt.block_on(parent(o)));
    match result {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(e)) | Err(e) => {
            eprintln!("month_end_soak: {e}");
            ExitCode::FAILURE
        }
    }
}
