//! The conformance kit itself: it passes a correct in-memory source and catches broken ones.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_connect::canonical::{ExternalRef, Project};
use odoo_connect::connector::conformance::{
    CheckOutcome, ExpectedError, SourceCheck, check_error, check_source,
};
use odoo_connect::connector::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, ErrorKind, Page, Record,
    RecordKind, Source, pull_all,
};

#[derive(Clone, Copy, PartialEq)]
enum Bug {
    None,
    /// Resumes one item too early (the last item of a page comes again).
    Inclusive,
    /// Skips one item when resuming.
    Skips,
    /// Gives a new id every pull.
    Unstable,
}

struct Memory {
    projects: Vec<Project>,
    bug: Bug,
    pulls: std::sync::atomic::AtomicUsize,
}

fn memory(n: usize, bug: Bug) -> Memory {
    let projects = (0..n)
        .map(|i| {
            Project::new(
                format!("p{i}").parse().unwrap(),
                format!("Project {i}"),
                "acme".parse().unwrap(),
            )
        })
        .collect();
    Memory {
        projects,
        bug,
        pulls: Default::default(),
    }
}

impl Connector for Memory {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new("memory")
            .page_size(2, 10)
            .produces([RecordKind::Project])
    }
}

#[async_trait]
impl Source for Memory {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        let pull = self
            .pulls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut start: usize = match cursor {
            None => 0,
            Some(c) => c
                .as_str()
                .parse()
                .map_err(|_| ConnectorError::bad_cursor(c))?,
        };
        if cursor.is_some() {
            match self.bug {
                Bug::Inclusive => start = start.saturating_sub(1),
                Bug::Skips => start += 1,
                _ => {}
            }
        }
        let end = (start + page_size).min(self.projects.len());
        let items = self.projects[start.min(end)..end]
            .iter()
            .map(|p| {
                let ext = ExternalRef::new("memory", p.key.as_str());
                let version = if self.bug == Bug::Unstable {
                    pull.to_string()
                } else {
                    "1".into()
                };
                Change::new(
                    ChangeId::of(&ext, RecordKind::Project, &version),
                    ext,
                    DateTime::<Utc>::UNIX_EPOCH,
                    Record::from(p.clone()),
                )
            })
            .collect();
        Ok(Page::new(
            items,
            Some(Cursor::new(end.to_string())),
            end < self.projects.len(),
        ))
    }
}

#[tokio::test]
async fn a_correct_source_passes() {
    let source = memory(7, Bug::None);
    let report = check_source(&source, &SourceCheck::new().page_size(2).expect_changes(7)).await;
    println!("{report}");
    report.assert_passed();
    assert_eq!(
        report.outcome("resumes_from_every_cursor"),
        Some(&CheckOutcome::Passed)
    );
    // Box and Arc and dyn pass as well.
    let boxed: Box<dyn Source> = Box::new(memory(3, Bug::None));
    check_source(&boxed, &SourceCheck::new())
        .await
        .assert_passed();
    let shared = Arc::new(memory(3, Bug::None));
    check_source(&shared, &SourceCheck::new())
        .await
        .assert_passed();
    let all = pull_all(&shared, None, 2, 10).await.unwrap();
    assert_eq!(all.items.len(), 3);
}

#[tokio::test]
async fn repeats_gaps_and_unstable_ids_are_caught() {
    for (bug, check) in [
        (Bug::Inclusive, "resumes_from_every_cursor"),
        // A gap every pull makes alike shows only against the known count.
        (Bug::Skips, "expected_changes"),
        (Bug::Unstable, "pulls_agree"),
    ] {
        let report = check_source(&memory(6, bug), &SourceCheck::new().expect_changes(6)).await;
        assert!(!report.passed(), "{report}");
        assert!(
            matches!(report.outcome(check), Some(CheckOutcome::Failed(_))),
            "{report}"
        );
    }
}

#[tokio::test]
async fn error_classification_is_checked() {
    let source = memory(3, Bug::None);
    let bad = Cursor::new("not-a-number");
    let report = check_error(
        &source,
        Some(&bad),
        2,
        &ExpectedError::new(ErrorKind::BadCursor, false),
    )
    .await;
    report.assert_passed();
    let wrong = check_error(
        &source,
        Some(&bad),
        2,
        &ExpectedError::new(ErrorKind::Transport, true),
    )
    .await;
    assert_eq!(wrong.failures().count(), 2, "{wrong}");
}
