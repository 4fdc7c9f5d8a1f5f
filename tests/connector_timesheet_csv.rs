//! The time and expense CSV reader on an export shaped as PSA tools write them.

use std::path::PathBuf;

use odoo_connect::canonical::{Currency, Money};
use odoo_connect::connector::conformance::{SourceCheck, check_source};
use odoo_connect::connector::timesheet_csv::{
    AsyncCsvRows, CsvConfig, CsvRows, Field, MAX_RECORD_BYTES, Row, TimesheetCsvFile,
};
use odoo_connect::connector::{ErrorKind, Record, Source, pull_all};
use rust_decimal::Decimal;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/connectors/timesheet_csv/approved_export.csv")
}

fn temp_copy(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("odoo-connect-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn rows(text: &[u8], config: CsvConfig) -> Vec<Row> {
    CsvRows::new(text, config)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn passes_the_conformance_kit() {
    let source = TimesheetCsvFile::new(fixture(), CsvConfig::new("psa"));
    for page_size in [1, 2, 3, 5, 100] {
        let report = check_source(
            &source,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(7)
                .expect_rejected(5),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
}

#[test]
fn good_rows_go_on_and_bad_rows_are_located() {
    let text = std::fs::read(fixture()).unwrap();
    let rows = rows(&text, CsvConfig::new("psa"));
    let mut changes = Vec::new();
    let mut rejected = Vec::new();
    let mut skipped = Vec::new();
    for row in rows {
        match row {
            Row::Change(c) => changes.push(c),
            Row::Rejected(r) => rejected.push(r),
            Row::Skipped { line, reason } => skipped.push((line, reason)),
            _ => unreachable!(),
        }
    }
    let keys: Vec<&str> = changes.iter().map(|c| c.record.key()).collect();
    assert_eq!(
        keys,
        [
            "psa-T-1001",
            "psa-T-1002",
            "psa-T-1003",
            "psa-X-2001",
            "psa-X-2002",
            "psa-T-1008",
            "psa-T-1011"
        ]
    );
    let located: Vec<_> = rejected
        .iter()
        .map(|r| {
            (
                r.location.line.unwrap(),
                r.location.record.clone().unwrap(),
                r.location.field.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            (6, "T-1004".into(), "hours".into()),
            (9, "T-1006".into(), "date".into()),
            (10, "T-1007".into(), "hours".into()),
            (14, "T-1010".into(), "employee".into()),
            (16, "X-2003".into(), "currency".into()),
        ]
    );
    assert!(rejected[0].raw.starts_with("T-1004,time,2025-03-04"));
    assert!(rejected[0].reason.contains("twelve"));
    assert_eq!(
        skipped,
        [
            (7, "not approved".to_owned()),
            (13, "not approved".to_owned()),
            (15, "blank line".to_owned())
        ]
    );

    let Record::TimeEntry(t) = &changes[1].record else {
        panic!("not a time entry")
    };
    assert_eq!(t.hours, Decimal::new(675, 2)); // 6:45
    assert_eq!(t.description, "Data migration mapping, part 1");
    assert_eq!(t.role.as_str(), "consultant");
    assert!(t.approval.is_approved());
    assert_eq!(t.refs.get("psa"), Some("T-1002"));
    let Record::TimeEntry(t) = &changes[2].record else {
        panic!("not a time entry")
    };
    assert_eq!(
        t.description,
        "Steering committee:\nminutes and follow-up actions"
    );
    let Record::TimeEntry(t) = &changes[0].record else {
        panic!("not a time entry")
    };
    assert_eq!(t.task.as_ref().map(|k| k.as_str()), Some("design"));
    assert_eq!(
        changes[0].updated_at.to_rfc3339(),
        "2025-03-07T16:00:00+00:00"
    );
    let Record::Expense(e) = &changes[4].record else {
        panic!("not an expense")
    };
    assert_eq!(e.amount, Money::new(Decimal::new(312, 0), Currency::EUR));
    assert!(!e.billable);
    assert_eq!(e.category, "lodging");
}

#[tokio::test]
async fn async_reader_gives_the_same_rows() {
    let text = std::fs::read(fixture()).unwrap();
    let sync = rows(&text, CsvConfig::new("psa"));
    let mut reader = AsyncCsvRows::new(text.as_slice(), CsvConfig::new("psa"))
        .await
        .unwrap();
    let mut rows = Vec::new();
    while let Some(row) = reader.next().await {
        rows.push(row.unwrap());
    }
    assert_eq!(rows, sync);
}

#[tokio::test]
async fn rows_appended_later_come_in_the_next_pull() {
    let text = std::fs::read(fixture()).unwrap();
    let path = temp_copy("append.csv", &text);
    let source = TimesheetCsvFile::new(&path, CsvConfig::new("psa"));
    let first = pull_all(&source, None, 4, 100).await.unwrap();
    assert_eq!(first.items.len(), 7);
    let cursor = first.cursor.unwrap();
    let quiet = source.pull(Some(&cursor), 4).await.unwrap();
    assert!(quiet.items.is_empty() && quiet.rejected.is_empty() && !quiet.has_more);

    let mut more = text.clone();
    more.extend_from_slice(
        b"T-1012,time,2025-03-10,jane.doe@firm.example,PRJ-ACME-ERP,,senior-consultant,2,Handover,yes,,,,approved,2025-03-10T18:00:00Z\n",
    );
    std::fs::write(&path, &more).unwrap();
    let next = source.pull(Some(&cursor), 4).await.unwrap();
    let keys: Vec<&str> = next.items.iter().map(|c| c.record.key()).collect();
    assert_eq!(keys, ["psa-T-1012"]);
    assert!(!next.has_more);
    let _ = std::fs::remove_file(path);
}

#[test]
fn other_dialects() {
    // Semicolons, decimal commas, CRLF line ends, day-first dates, a renamed column.
    let text = "Id;Datum;Employee;Project;Role;Stunden;Status;Comment\r\n\
                W-1;03/03/2025;jane.doe@firm.example;PRJ-1;consultant;7,5;Approved;Workshop\r\n\
                W-2;04/03/2025;jane.doe@firm.example;PRJ-1;consultant;8;approved;Review\r\n";
    let config = CsvConfig::new("tempo")
        .delimiter(b';')
        .column(Field::Date, "Datum")
        .column(Field::Hours, "Stunden");
    let rows = rows(text.as_bytes(), config);
    assert_eq!(rows.len(), 2);
    let Row::Change(c) = &rows[0] else {
        panic!("{:?}", rows[0])
    };
    let Record::TimeEntry(t) = &c.record else {
        panic!()
    };
    assert_eq!(t.hours, Decimal::new(75, 1));
    assert_eq!(t.date.to_string(), "2025-03-03");
}

#[test]
fn a_header_without_required_columns_is_refused() {
    let err = CsvRows::new(
        "Date,Hours\n2025-03-03,1\n".as_bytes(),
        CsvConfig::new("psa"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("line 1"), "{err}");
    assert!(
        CsvRows::new("".as_bytes(), CsvConfig::new("psa")).is_err(),
        "an empty file has no header"
    );
}

#[test]
fn an_overlong_or_unclosed_record_is_rejected_and_reading_goes_on() {
    let mut text =
        b"id,date,employee,project,role,hours,notes\nT-1,2025-03-03,a@f.example,P,consultant,\""
            .to_vec();
    text.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
    text.extend_from_slice(b"\"\nT-2,2025-03-03,a@f.example,P,consultant,1,Call\n");
    let read = rows(&text, CsvConfig::new("psa"));
    assert_eq!(read.len(), 2, "{read:?}");
    let Row::Rejected(r) = &read[0] else {
        panic!("{:?}", read[0])
    };
    assert_eq!(r.location.line, Some(2));
    assert!(r.raw.len() <= 1024);
    assert!(matches!(&read[1], Row::Change(c) if c.record.key() == "psa-T-2"));

    // Bytes that are not UTF-8 are a rejected row, not a failure of the file.
    let text = b"id,date,employee,project,role,hours,notes\nT-1,2025-03-03,a@f.example,P\xff,consultant,1,Call\nT-2,2025-03-03,a@f.example,P,consultant,1,Call\n";
    let read = rows(text, CsvConfig::new("psa"));
    assert!(matches!(&read[0], Row::Rejected(r) if r.location.line == Some(2)));
    assert!(matches!(&read[1], Row::Change(_)));
}
