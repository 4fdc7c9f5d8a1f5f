//! The connector conformance kit: checks a connector author runs on their implementation.
//!
//! Each function drives the connector through the calls a sync makes and returns a
//! [`CheckReport`] listing every check, passed, failed (with the reason) or skipped. Call
//! [`CheckReport::assert_passed`] in a test to fail it with the whole report.
//!
//! - [`check_source`]: pages pulled to the end; cursors that advance; change ids unique; kinds
//!   declared in the capabilities; records valid; rejects located; resuming from any cursor gives
//!   exactly the rest (no repeats, no gaps); the last cursor is caught up; two pulls agree.
//! - [`check_error`]: an injected failure (a 429, a 401, a dropped connection, set up by the
//!   author, for instance with wiremock) is classified as declared: its kind, whether it is
//!   retryable, its `Retry-After`, and that no secret shows in it.
//! - [`check_event_source`]: a signed event is accepted, the same event again gives the same change
//!   ids, and a tampered, unsigned, badly signed or stale copy is refused with a 401.
//! - [`check_sink`]: a change applied twice is written once.
//! - [`check_secrets_hidden`]: the connector's `Debug` output shows none of its secrets.
//!
//! ```
//! use odoo_connect_testkit::connector_conformance::{check_source, SourceCheck};
//! # use async_trait::async_trait;
//! # use odoo_connect_connectors::*;
//! # struct Empty;
//! # impl Connector for Empty { fn capabilities(&self) -> Capabilities { Capabilities::new("empty") } }
//! # #[async_trait]
//! # impl Source for Empty {
//! #     async fn pull(&self, c: Option<&Cursor>, _: usize) -> Result<Page<Change>, ConnectorError> {
//! #         Ok(Page::new(Vec::new(), c.cloned(), false))
//! #     }
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let report = check_source(&Empty, &SourceCheck::new().page_size(2).expect_changes(0)).await;
//! println!("{report}");
//! report.assert_passed();
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use odoo_connect_connectors::{
    ApplyOutcome, Change, ChangeId, ConnectorError, Cursor, ErrorKind, EventSource, Page,
    PushedEvent, Sink, Source,
};

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// It held.
    Passed,
    /// It did not; why.
    Failed(String),
    /// It could not run; why.
    Skipped(String),
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// The check's name, such as `resumes_from_every_cursor`.
    pub name: &'static str,
    /// Its outcome.
    pub outcome: CheckOutcome,
}

/// Every check run on a connector, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// What was checked (the connector's system and the kind of check).
    pub subject: String,
    /// The checks.
    pub checks: Vec<Check>,
}

impl CheckReport {
    fn new(subject: impl Into<String>) -> CheckReport {
        CheckReport {
            subject: subject.into(),
            checks: Vec::new(),
        }
    }

    fn push(&mut self, name: &'static str, outcome: CheckOutcome) {
        self.checks.push(Check { name, outcome });
    }

    fn pass_if(&mut self, name: &'static str, failures: Vec<String>) {
        let outcome = if failures.is_empty() {
            CheckOutcome::Passed
        } else {
            let shown: Vec<_> = failures.iter().take(5).cloned().collect();
            let more = failures.len().saturating_sub(shown.len());
            let mut text = shown.join("; ");
            if more > 0 {
                text.push_str(&format!("; and {more} more"));
            }
            CheckOutcome::Failed(text)
        };
        self.push(name, outcome);
    }

    fn skip(&mut self, name: &'static str, why: impl Into<String>) {
        self.push(name, CheckOutcome::Skipped(why.into()));
    }

    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, CheckOutcome::Failed(_)))
    }

    /// The outcome of the check named `name`.
    pub fn outcome(&self, name: &str) -> Option<&CheckOutcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }

    /// Panics with the whole report when a check failed: for tests.
    ///
    /// # Panics
    ///
    /// When [`CheckReport::passed`] is `false`.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "conformance checks failed:\n{self}");
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.subject)?;
        for c in &self.checks {
            match &c.outcome {
                CheckOutcome::Passed => writeln!(f, "  pass  {}", c.name)?,
                CheckOutcome::Failed(why) => writeln!(f, "  FAIL  {}: {why}", c.name)?,
                CheckOutcome::Skipped(why) => writeln!(f, "  skip  {}: {why}", c.name)?,
            }
        }
        let failed = self.failures().count();
        write!(f, "{} checks, {} failed", self.checks.len(), failed)
    }
}

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

/// Options of [`check_source`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceCheck {
    /// Page size asked for (small, so the data spans several pages).
    pub page_size: usize,
    /// Pages read at most before the source is declared endless.
    pub max_pages: usize,
    /// How many changes a full pull must give, if known: the only way to catch records that every
    /// pull skips alike, so give it whenever the test data is known.
    pub expected_changes: Option<usize>,
    /// How many rejects a full pull must give, if known.
    pub expected_rejected: Option<usize>,
    /// Whether every record must pass its canonical validation.
    pub validate_records: bool,
    /// At most this many cursors are tried for resumption (spread over the pages).
    pub max_resume_points: usize,
}

impl Default for SourceCheck {
    fn default() -> Self {
        SourceCheck {
            page_size: 2,
            max_pages: 1000,
            expected_changes: None,
            expected_rejected: None,
            validate_records: true,
            max_resume_points: 8,
        }
    }
}

impl SourceCheck {
    /// Pages of 2, at most 1000 pages, records validated, up to 8 resume points.
    pub fn new() -> SourceCheck {
        SourceCheck::default()
    }

    /// Sets the page size.
    pub fn page_size(mut self, n: usize) -> SourceCheck {
        self.page_size = n;
        self
    }

    /// Sets the most pages read.
    pub fn max_pages(mut self, n: usize) -> SourceCheck {
        self.max_pages = n;
        self
    }

    /// Expects this many changes in a full pull.
    pub fn expect_changes(mut self, n: usize) -> SourceCheck {
        self.expected_changes = Some(n);
        self
    }

    /// Expects this many rejects in a full pull.
    pub fn expect_rejected(mut self, n: usize) -> SourceCheck {
        self.expected_rejected = Some(n);
        self
    }

    /// Sets whether records must validate.
    pub fn validate_records(mut self, yes: bool) -> SourceCheck {
        self.validate_records = yes;
        self
    }
}

struct Run {
    pages: Vec<Page<Change>>,
    complete: bool,
}

async fn read_pages<S: Source + ?Sized>(
    source: &S,
    start: Option<&Cursor>,
    opts: &SourceCheck,
) -> Result<Run, ConnectorError> {
    let mut pages = Vec::new();
    let mut cursor = start.cloned();
    for _ in 0..opts.max_pages.max(1) {
        let page = source.pull(cursor.as_ref(), opts.page_size).await?;
        source.on_page(&page);
        if page.cursor.is_some() {
            cursor = page.cursor.clone();
        }
        let more = page.has_more;
        pages.push(page);
        if !more {
            return Ok(Run {
                pages,
                complete: true,
            });
        }
    }
    Ok(Run {
        pages,
        complete: false,
    })
}

fn ids(pages: &[Page<Change>]) -> Vec<ChangeId> {
    pages
        .iter()
        .flat_map(|p| p.items.iter().map(|c| c.id.clone()))
        .collect()
}

/// Runs the source checks; see the [module](self) for the list.
pub async fn check_source<S: Source + ?Sized>(source: &S, opts: &SourceCheck) -> CheckReport {
    let caps = source.capabilities();
    let mut report = CheckReport::new(format!("source {}", caps.system));
    let run = match read_pages(source, None, opts).await {
        Ok(run) => run,
        Err(e) => {
            report.push(
                "pulls_to_the_end",
                CheckOutcome::Failed(format!("pull failed: {e}")),
            );
            return report;
        }
    };
    if run.complete {
        report.push("pulls_to_the_end", CheckOutcome::Passed);
    } else {
        report.push(
            "pulls_to_the_end",
            CheckOutcome::Failed(format!("still has_more after {} pages", opts.max_pages)),
        );
    }

    // Cursors advance: a page that says more follow gives a new cursor.
    let mut failures = Vec::new();
    let mut seen_cursors = BTreeSet::new();
    for (i, page) in run.pages.iter().enumerate() {
        match &page.cursor {
            None if page.has_more => failures.push(format!("page {i} has more but no cursor")),
            None if !page.items.is_empty() => {
                failures.push(format!("page {i} has changes but no cursor"))
            }
            Some(c) if page.has_more && !seen_cursors.insert(c.as_str().to_owned()) => {
                failures.push(format!("page {i} repeats cursor {c}"))
            }
            _ => {}
        }
    }
    report.pass_if("cursors_advance", failures);

    // Change ids unique.
    let all = ids(&run.pages);
    let mut counts: BTreeMap<&ChangeId, usize> = BTreeMap::new();
    for id in &all {
        *counts.entry(id).or_default() += 1;
    }
    let dups: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} appears {n} times"))
        .collect();
    report.pass_if("change_ids_unique", dups);

    // Counts.
    let rejected: usize = run.pages.iter().map(|p| p.rejected.len()).sum();
    match opts.expected_changes {
        Some(n) if n == all.len() => report.push("expected_changes", CheckOutcome::Passed),
        Some(n) => report.push(
            "expected_changes",
            CheckOutcome::Failed(format!("expected {n} changes, got {}", all.len())),
        ),
        None => report.skip("expected_changes", "no count given"),
    }
    match opts.expected_rejected {
        Some(n) if n == rejected => report.push("expected_rejected", CheckOutcome::Passed),
        Some(n) => report.push(
            "expected_rejected",
            CheckOutcome::Failed(format!("expected {n} rejects, got {rejected}")),
        ),
        None => report.skip("expected_rejected", "no count given"),
    }

    // Declared kinds and system.
    let mut failures = Vec::new();
    for change in run.pages.iter().flat_map(|p| &p.items) {
        if !caps.produces.contains(&change.kind()) {
            failures.push(format!(
                "{} is a {} but the capabilities do not list it",
                change.id,
                change.kind()
            ));
        }
        if change.external.system != caps.system {
            failures.push(format!(
                "{} refers to system {:?}, not {:?}",
                change.id, change.external.system, caps.system
            ));
        }
    }
    report.pass_if("kinds_declared", failures);

    if opts.validate_records {
        let failures = run
            .pages
            .iter()
            .flat_map(|p| &p.items)
            .filter_map(|c| c.record.validate().err().map(|e| format!("{}: {e}", c.id)))
            .collect();
        report.pass_if("records_valid", failures);
    } else {
        report.skip("records_valid", "turned off");
    }

    let failures = run
        .pages
        .iter()
        .flat_map(|p| &p.rejected)
        .filter(|r| r.location == odoo_connect_connectors::Location::unknown() || r.raw.is_empty())
        .map(|r| format!("reject without location or raw text: {}", r.reason))
        .collect();
    report.pass_if("rejects_located", failures);

    // Resume from middle cursors.
    if !run.complete {
        report.skip("resumes_from_every_cursor", "the first pull did not end");
        report.skip("last_cursor_caught_up", "the first pull did not end");
        report.skip("pulls_agree", "the first pull did not end");
        return report;
    }
    let last = run.pages.len().saturating_sub(1);
    let points: Vec<usize> = if last == 0 {
        Vec::new()
    } else {
        let step = (last / opts.max_resume_points.max(1)).max(1);
        (0..last).step_by(step).collect()
    };
    if points.is_empty() {
        report.skip(
            "resumes_from_every_cursor",
            "one page only: use a smaller page size or more data",
        );
    } else {
        let mut failures = Vec::new();
        for &i in &points {
            let Some(cursor) = run.pages[..=i].iter().rev().find_map(|p| p.cursor.clone()) else {
                continue;
            };
            let before: BTreeSet<ChangeId> = ids(&run.pages[..=i]).into_iter().collect();
            let expected: BTreeSet<ChangeId> = ids(&run.pages[i + 1..]).into_iter().collect();
            match read_pages(source, Some(&cursor), opts).await {
                Err(e) => failures.push(format!("after page {i}: pull failed: {e}")),
                Ok(rest) => {
                    let got = ids(&rest.pages);
                    let repeated: Vec<_> = got.iter().filter(|id| before.contains(*id)).collect();
                    let got_set: BTreeSet<ChangeId> = got.iter().cloned().collect();
                    let missing: Vec<_> = expected.difference(&got_set).collect();
                    if !repeated.is_empty() {
                        failures.push(format!(
                            "after page {i}: {} repeated, first {}",
                            repeated.len(),
                            repeated[0]
                        ));
                    }
                    if !missing.is_empty() {
                        failures.push(format!(
                            "after page {i}: {} missing, first {}",
                            missing.len(),
                            missing[0]
                        ));
                    }
                    if got_set.len() != got.len() {
                        failures.push(format!("after page {i}: duplicates in the resumed pull"));
                    }
                }
            }
        }
        report.pass_if("resumes_from_every_cursor", failures);
    }

    // The last cursor is caught up.
    let last_cursor = run.pages.iter().rev().find_map(|p| p.cursor.clone());
    match last_cursor {
        None => report.skip("last_cursor_caught_up", "the source gave no cursor"),
        Some(c) => {
            let seen: BTreeSet<ChangeId> = all.iter().cloned().collect();
            match source.pull(Some(&c), opts.page_size).await {
                Err(e) => report.push(
                    "last_cursor_caught_up",
                    CheckOutcome::Failed(format!("pull failed: {e}")),
                ),
                Ok(page) => {
                    let mut failures: Vec<String> = page
                        .items
                        .iter()
                        .filter(|c| seen.contains(&c.id))
                        .map(|c| format!("{} given again", c.id))
                        .collect();
                    if page.has_more {
                        failures.push("has_more is still true".into());
                    }
                    report.pass_if("last_cursor_caught_up", failures);
                }
            }
        }
    }

    // A second pull from the start agrees.
    match read_pages(source, None, opts).await {
        Err(e) => report.push(
            "pulls_agree",
            CheckOutcome::Failed(format!("second pull failed: {e}")),
        ),
        Ok(again) => {
            let a: BTreeSet<_> = all.iter().collect();
            let again_ids = ids(&again.pages);
            let b: BTreeSet<_> = again_ids.iter().collect();
            if a == b {
                report.push("pulls_agree", CheckOutcome::Passed);
            } else {
                report.push(
                    "pulls_agree",
                    CheckOutcome::Failed(format!(
                        "first pull gave {} ids, second {}; {} differ",
                        a.len(),
                        b.len(),
                        a.symmetric_difference(&b).count()
                    )),
                );
            }
        }
    }
    report
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What an injected failure must be classified as, for [`check_error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpectedError {
    /// Its kind.
    pub kind: ErrorKind,
    /// Whether it is retryable.
    pub retryable: bool,
    /// The `Retry-After` it carries, if checked.
    pub retry_after: Option<Duration>,
    /// Texts that must not appear in its `Display` or `Debug` (tokens, keys).
    pub secrets: Vec<String>,
}

impl ExpectedError {
    /// An error of `kind`, retryable or not.
    pub fn new(kind: ErrorKind, retryable: bool) -> ExpectedError {
        ExpectedError {
            kind,
            retryable,
            retry_after: None,
            secrets: Vec::new(),
        }
    }

    /// A rate limit asking to wait `after`.
    pub fn rate_limited(after: Duration) -> ExpectedError {
        ExpectedError {
            retry_after: Some(after),
            ..ExpectedError::new(ErrorKind::RateLimited, true)
        }
    }

    /// Also checks that `secret` does not appear in the error.
    pub fn hiding(mut self, secret: impl Into<String>) -> ExpectedError {
        self.secrets.push(secret.into());
        self
    }
}

/// Checks that a pull from `cursor`, failing because of a fault the caller injected, is
/// classified as `expected`.
pub async fn check_error<S: Source + ?Sized>(
    source: &S,
    cursor: Option<&Cursor>,
    page_size: usize,
    expected: &ExpectedError,
) -> CheckReport {
    let mut report = CheckReport::new(format!(
        "source {} given an injected {:?}",
        source.system(),
        expected.kind
    ));
    match source.pull(cursor, page_size).await {
        Ok(page) => {
            report.push(
                "fails",
                CheckOutcome::Failed(format!(
                    "the pull succeeded with {} changes",
                    page.items.len()
                )),
            );
        }
        Err(e) => {
            report.push("fails", CheckOutcome::Passed);
            classify(&mut report, &e, expected);
        }
    }
    report
}

fn classify(report: &mut CheckReport, e: &ConnectorError, expected: &ExpectedError) {
    report.pass_if(
        "error_kind",
        if e.kind() == expected.kind {
            vec![]
        } else {
            vec![format!(
                "expected {:?}, got {:?}: {e}",
                expected.kind,
                e.kind()
            )]
        },
    );
    report.pass_if(
        "retryable_as_declared",
        if e.is_retryable() == expected.retryable {
            vec![]
        } else {
            vec![format!(
                "is_retryable() is {}, expected {}",
                e.is_retryable(),
                expected.retryable
            )]
        },
    );
    match expected.retry_after {
        None => report.skip("retry_after", "not checked"),
        Some(d) => report.pass_if(
            "retry_after",
            if e.retry_after() == Some(d) {
                vec![]
            } else {
                vec![format!("expected {d:?}, got {:?}", e.retry_after())]
            },
        ),
    }
    let shown = format!("{e} {e:?}");
    report.pass_if(
        "no_secret_in_error",
        expected
            .secrets
            .iter()
            .filter(|s| !s.is_empty() && shown.contains(s.as_str()))
            .map(|_| "a secret appears in the error".to_owned())
            .collect(),
    );
}

/// Checks that `subject`'s `Debug` output shows none of `secrets`.
pub fn check_secrets_hidden<T: fmt::Debug + ?Sized>(subject: &T, secrets: &[&str]) -> CheckReport {
    let mut report = CheckReport::new("secrets");
    let shown = format!("{subject:?} {subject:#?}");
    report.pass_if(
        "no_secret_in_debug",
        secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty() && shown.contains(*s))
            .map(|(i, _)| format!("secret #{i} appears in Debug"))
            .collect(),
    );
    report
}

// ---------------------------------------------------------------------------------------------
// Event sources
// ---------------------------------------------------------------------------------------------

/// Options of [`check_event_source`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EventCheck {
    /// A correctly signed event, fresh at its `received_at`.
    pub signed: PushedEvent,
    /// The header carrying the signature, to check that its absence is refused.
    pub signature_header: Option<String>,
    /// The replay window, to check that an event received after it is refused.
    pub replay_window: Option<Duration>,
}

impl EventCheck {
    /// Checks around one signed event.
    pub fn new(signed: PushedEvent) -> EventCheck {
        EventCheck {
            signed,
            signature_header: None,
            replay_window: None,
        }
    }

    /// Names the signature header.
    pub fn signature_header(mut self, name: impl Into<String>) -> EventCheck {
        self.signature_header = Some(name.into());
        self
    }

    /// Sets the replay window.
    pub fn replay_window(mut self, window: Duration) -> EventCheck {
        self.replay_window = Some(window);
        self
    }
}

fn refused_401(
    report: &mut CheckReport,
    name: &'static str,
    result: Result<Vec<Change>, ConnectorError>,
) {
    let failures = match result {
        Ok(changes) => vec![format!("accepted, {} changes", changes.len())],
        Err(e) => match e.rejection() {
            Some(r) if r.status_code() == 401 => vec![],
            Some(r) => vec![format!("refused with {} ({r})", r.status_code())],
            None => vec![format!("failed without a rejection: {e}")],
        },
    };
    report.pass_if(name, failures);
}

/// Runs the event-source checks; see the [module](self) for the list.
pub async fn check_event_source<E: EventSource + ?Sized>(
    source: &E,
    opts: &EventCheck,
) -> CheckReport {
    let mut report = CheckReport::new(format!("event source {}", source.system()));
    let first = match source.receive(&opts.signed).await {
        Ok(changes) if changes.is_empty() => {
            report.push(
                "accepts_signed_event",
                CheckOutcome::Failed("accepted but gave no change".into()),
            );
            Vec::new()
        }
        Ok(changes) => {
            report.push("accepts_signed_event", CheckOutcome::Passed);
            changes
        }
        Err(e) => {
            report.push(
                "accepts_signed_event",
                CheckOutcome::Failed(format!("refused: {e}")),
            );
            Vec::new()
        }
    };
    match source.receive(&opts.signed).await {
        Ok(again) => {
            let a: Vec<_> = first.iter().map(|c| &c.id).collect();
            let b: Vec<_> = again.iter().map(|c| &c.id).collect();
            report.pass_if(
                "replay_recognised",
                if a == b && !a.is_empty() {
                    vec![]
                } else {
                    vec![format!("first ids {a:?}, again {b:?}")]
                },
            );
        }
        Err(e) => report.push(
            "replay_recognised",
            CheckOutcome::Failed(format!("the same event was refused the second time: {e}")),
        ),
    }

    let caps = source.capabilities();
    let undeclared: Vec<String> = first
        .iter()
        .filter(|c| !caps.produces.contains(&c.kind()))
        .map(|c| format!("{} is an undeclared {}", c.id, c.kind()))
        .collect();
    report.pass_if("kinds_declared", undeclared);

    let mut tampered = opts.signed.clone();
    match tampered
        .body
        .iter()
        .rposition(|b| b.is_ascii_alphanumeric())
    {
        Some(i) => {
            tampered.body[i] = if tampered.body[i] == b'0' { b'1' } else { b'0' };
            refused_401(
                &mut report,
                "rejects_tampered_body",
                source.receive(&tampered).await,
            );
        }
        None => report.skip("rejects_tampered_body", "the body has no byte to change"),
    }

    match &opts.signature_header {
        Some(h) => {
            let mut unsigned = opts.signed.clone();
            unsigned.headers.remove(h.as_str());
            refused_401(
                &mut report,
                "rejects_unsigned",
                source.receive(&unsigned).await,
            );
            let mut forged = opts.signed.clone();
            match reqwest::header::HeaderName::from_bytes(h.as_bytes()) {
                Ok(name) => {
                    forged.headers.insert(
                        name,
                        reqwest::header::HeaderValue::from_static(
                            "c2lnbmF0dXJlIG9mIHNvbWVvbmUgZWxzZQ==",
                        ),
                    );
                    refused_401(
                        &mut report,
                        "rejects_bad_signature",
                        source.receive(&forged).await,
                    );
                }
                Err(_) => report.skip("rejects_bad_signature", "not a header name"),
            }
        }
        None => {
            report.skip("rejects_unsigned", "no signature header given");
            report.skip("rejects_bad_signature", "no signature header given");
        }
    }

    match opts.replay_window {
        Some(w) => {
            let mut stale = opts.signed.clone();
            let late = chrono::Duration::from_std(w + Duration::from_secs(60))
                .unwrap_or(chrono::Duration::MAX);
            stale.received_at = stale
                .received_at
                .checked_add_signed(late)
                .unwrap_or(stale.received_at);
            refused_401(&mut report, "rejects_stale", source.receive(&stale).await);
        }
        None => report.skip("rejects_stale", "no replay window given"),
    }
    report
}

// ---------------------------------------------------------------------------------------------
// Sinks
// ---------------------------------------------------------------------------------------------

/// Checks that the sink takes `change`'s kind, applies it, and finds it already applied the second
/// time.
pub async fn check_sink<K: Sink + ?Sized>(sink: &K, change: &Change) -> CheckReport {
    let mut report = CheckReport::new(format!("sink {}", sink.system()));
    report.pass_if(
        "accepts_kind",
        if sink.accepts(change.kind()) {
            vec![]
        } else {
            vec![format!("does not accept {}", change.kind())]
        },
    );
    match sink.apply(change).await {
        Ok(_) => report.push("applies", CheckOutcome::Passed),
        Err(e) => {
            report.push("applies", CheckOutcome::Failed(e.to_string()));
            report.skip("second_apply_is_noop", "the first apply failed");
            return report;
        }
    }
    match sink.apply(change).await {
        Ok(ApplyOutcome::AlreadyApplied) => {
            report.push("second_apply_is_noop", CheckOutcome::Passed)
        }
        Ok(other) => report.push(
            "second_apply_is_noop",
            CheckOutcome::Failed(format!("the second apply gave {other:?}")),
        ),
        Err(e) => report.push(
            "second_apply_is_noop",
            CheckOutcome::Failed(format!("the second apply failed: {e}")),
        ),
    }
    report
}
