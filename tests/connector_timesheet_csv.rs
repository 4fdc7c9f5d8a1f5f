//! The time-export CSV reader on Harvest's and Toggl Track's exports as they are written, and on a
//! generic PSA export mapped by column names.
//!
//! The fixtures under tests/fixtures/connectors/harvest and tests/fixtures/connectors/toggl follow
//! the vendors' documented export shapes: Harvest's "Detailed time report" (Yes/No flags,
//! `YYYY-MM-DD` dates, decimal or `h:mm` hours, currency as `Euro - EUR`) and Toggl Track's
//! "Detailed report" (start and end date and time, `hh:mm:ss` durations, `Amount (EUR)`).

use std::path::PathBuf;

use odoo_connect::canonical::{ApprovalState, Currency, Money, TimeEntry};
use odoo_connect::connector::conformance::{SourceCheck, check_source};
use odoo_connect::connector::timesheet_csv::{
    AsyncCsvRows, CsvConfig, CsvRows, Field, MAX_RECORD_BYTES, Row, TimeExport, TimesheetCsvFile,
};
use odoo_connect::connector::{Change, ErrorKind, Record, RejectKind, Rejected, Source, pull_all};
use rust_decimal::Decimal;

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/connectors")
        .join(rel)
}

fn fixture() -> PathBuf {
    path("timesheet_csv/approved_export.csv")
}

const HARVEST: &str = "harvest/detailed_time_report.csv";
const HARVEST_DE: &str = "harvest/detailed_time_report_de_excel.csv";
const TOGGL: &str = "toggl/detailed_report.csv";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap()
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

/// The changes, the rejects and the skipped lines of an export.
fn sorted(rows: Vec<Row>) -> (Vec<Change>, Vec<Rejected>, Vec<(u64, String)>) {
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
    (changes, rejected, skipped)
}

fn entry(change: &Change) -> &TimeEntry {
    match &change.record {
        Record::TimeEntry(t) => t,
        other => panic!("not a time entry: {other:?}"),
    }
}

fn entries(text: &[u8], config: TimeExport) -> Vec<TimeEntry> {
    sorted(rows(text, config))
        .0
        .iter()
        .map(|c| entry(c).clone())
        .collect()
}

fn located(rejected: &[Rejected]) -> Vec<(u64, String, RejectKind)> {
    rejected
        .iter()
        .map(|r| {
            (
                r.location.line.unwrap(),
                r.location.field.clone().unwrap(),
                r.kind,
            )
        })
        .collect()
}

fn eur(cents: i64) -> Option<Money> {
    Some(Money::new(Decimal::new(cents, 2), Currency::EUR))
}

// ---------------------------------------------------------------------------------------------
// Conformance
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn harvest_and_toggl_presets_pass_the_conformance_kit() {
    for (file, config, changes, rejected) in [
        (HARVEST, TimeExport::harvest(), 7, 4),
        (TOGGL, TimeExport::toggl(), 7, 3),
    ] {
        let source = TimesheetCsvFile::new(path(file), config);
        for page_size in [1, 2, 3, 5, 100] {
            let report = check_source(
                &source,
                &SourceCheck::new()
                    .page_size(page_size)
                    .expect_changes(changes)
                    .expect_rejected(rejected),
            )
            .await;
            println!("{file}: {report}");
            report.assert_passed();
        }
    }
}

#[tokio::test]
async fn a_generic_export_passes_the_conformance_kit() {
    let source = TimesheetCsvFile::new(fixture(), CsvConfig::new("psa"));
    for page_size in [1, 2, 3, 5, 100] {
        let report = check_source(
            &source,
            &SourceCheck::new()
                .page_size(page_size)
                .expect_changes(9)
                .expect_rejected(5),
        )
        .await;
        println!("{report}");
        report.assert_passed();
    }
}

// ---------------------------------------------------------------------------------------------
// Harvest
// ---------------------------------------------------------------------------------------------

#[test]
fn harvest_columns_become_entry_data() {
    let (changes, _, _) = sorted(rows(&read(HARVEST), TimeExport::harvest()));
    assert_eq!(changes.len(), 7);
    let t = entry(&changes[0]);
    assert_eq!(t.date.to_string(), "2025-03-03");
    assert_eq!(t.employee.as_str(), "jane-doe");
    assert_eq!(t.project.as_str(), "ACME-ERP");
    assert_eq!(t.task.as_ref().map(|k| k.as_str()), Some("solution-design"));
    assert_eq!(t.role.as_str(), "senior-consultant");
    assert_eq!(t.hours, Decimal::new(75, 1));
    assert_eq!(t.duration_seconds, None);
    assert_eq!(t.description, "Workshop, day 1");
    assert!(t.billable && !t.invoiced);
    assert_eq!(t.approval, ApprovalState::Approved);
    assert_eq!(t.billable_rate, eur(15000));
    assert_eq!(t.billable_amount, eur(112500));
    assert_eq!(t.cost_rate, eur(8000));
    assert_eq!(t.cost_amount, eur(60000));
    assert_eq!(
        t.external_url.as_deref(),
        Some("https://acme.example/issues/ERP-12")
    );
    assert!(changes[0].id.as_str().starts_with("harvest:time_entry:"));
    assert!(t.key.as_str().starts_with("harvest-"));

    // Hours written h:mm; notes with a doubled quote and a line break.
    let t = entry(&changes[1]);
    assert_eq!(t.hours, Decimal::new(175, 2));
    assert_eq!(
        t.description,
        "Mapping \"legacy\" accounts\nand the opening balances"
    );
    assert_eq!(t.external_url, None);

    // A project without a code is keyed by its name; a role list gives its first role.
    let t = entry(&changes[2]);
    assert_eq!(t.project.as_str(), "audit-2025");
    assert_eq!(t.role.as_str(), "partner");
    let t = entry(&changes[3]);
    assert!(!t.billable);
    assert_eq!(
        t.task.as_ref().map(|k| k.as_str()),
        Some("internal-meeting")
    );
    let t = entry(&changes[4]);
    assert!(t.invoiced);
    assert_eq!(t.role.as_str(), "senior-consultant");
}

#[test]
fn unapproved_rows_are_data_not_filtered() {
    let (changes, _, skipped) = sorted(rows(&read(HARVEST), TimeExport::harvest()));
    let approvals: Vec<ApprovalState> = changes.iter().map(|c| entry(c).approval).collect();
    assert_eq!(approvals[2], ApprovalState::Draft, "Approved? = No");
    assert_eq!(
        approvals.iter().filter(|a| a.is_approved()).count(),
        6,
        "{approvals:?}"
    );
    assert_eq!(skipped, [(10, "blank line".to_owned())]);

    // The generic export's submitted and refused rows too.
    let (changes, _, _) = sorted(rows(
        &std::fs::read(fixture()).unwrap(),
        CsvConfig::new("psa"),
    ));
    let states: Vec<(&str, ApprovalState)> = changes
        .iter()
        .map(|c| (c.record.key(), entry_or_expense_approval(c)))
        .collect();
    assert!(states.contains(&("psa-T-1005", ApprovalState::Submitted)));
    assert!(states.contains(&("psa-T-1009", ApprovalState::Rejected)));
}

fn entry_or_expense_approval(c: &Change) -> ApprovalState {
    match &c.record {
        Record::TimeEntry(t) => t.approval,
        Record::Expense(e) => e.approval,
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_rows_are_reported_with_their_physical_line_and_field() {
    let (_, rejected, _) = sorted(rows(&read(HARVEST), TimeExport::harvest()));
    assert_eq!(
        located(&rejected),
        [
            (5, "hours".into(), RejectKind::BadData),
            (9, "date".into(), RejectKind::BadData),
            (11, "role".into(), RejectKind::Business),
            (12, "currency".into(), RejectKind::BadData),
        ]
    );
    assert!(
        rejected[0].reason.contains("twelve"),
        "{}",
        rejected[0].reason
    );
    assert!(rejected[0].raw.starts_with("2025-03-04,Acme GmbH"));
    assert!(
        rejected[0].location.record.is_some(),
        "the derived id is given"
    );
    assert!(rejected[1].reason.contains("2025-31-03"));

    let (_, rejected, _) = sorted(rows(&read(TOGGL), TimeExport::toggl()));
    assert_eq!(
        located(&rejected),
        [
            (8, "duration".into(), RejectKind::BadData),
            (9, "role".into(), RejectKind::Business),
            (12, "date".into(), RejectKind::BadData),
        ]
    );
}

#[test]
fn a_quoted_line_break_keeps_line_numbers_physical() {
    // Toggl: the record on lines 5-6 holds a line break, a doubled quote and a comma; the bad
    // duration after it is on physical line 8 (the 7th record).
    let (changes, rejected, _) = sorted(rows(&read(TOGGL), TimeExport::toggl()));
    let t = entry(&changes[3]);
    assert_eq!(
        t.description,
        "Runbook \"v2\", checked\nwith the client's IT"
    );
    assert_eq!(t.task.as_ref().map(|k| k.as_str()), Some("cutover"));
    assert_eq!(rejected[0].location.line, Some(8));

    // The same with the break moved: the line of every later reject moves with it.
    let text = String::from_utf8(read(TOGGL)).unwrap().replace(
        "Quick call with the client",
        "\"Quick call\nwith\nthe client\"",
    );
    let (_, rejected, _) = sorted(rows(text.as_bytes(), TimeExport::toggl()));
    assert_eq!(rejected[0].location.line, Some(10));
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let plain = read(HARVEST);
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&plain);
    assert_eq!(
        rows(&bom, TimeExport::harvest()),
        rows(&plain, TimeExport::harvest())
    );
}

#[test]
fn crlf_line_ends_read_like_lf() {
    let plain = read(HARVEST);
    let crlf = String::from_utf8(plain.clone())
        .unwrap()
        .replace('\n', "\r\n");
    let a = rows(crlf.as_bytes(), TimeExport::harvest());
    let b = rows(&plain, TimeExport::harvest());
    assert_eq!(a.len(), 12); // 14 physical lines less the header and a two-line record
    assert_eq!(a, b);
}

#[test]
fn a_german_excel_re_save_is_detected_and_reads_the_same() {
    let de = entries(&read(HARVEST_DE), TimeExport::harvest());
    let en = entries(&read(HARVEST), TimeExport::harvest());
    assert_eq!(de.len(), 3);
    let originals = [&en[0], &en[1], &en[2]];
    for (d, e) in de.iter().zip(originals) {
        assert_eq!(d.key, e.key, "the same row keeps its key once re-saved");
        assert_eq!(d.date, e.date);
        assert_eq!(d.hours, e.hours);
        assert_eq!(d.description, e.description);
        assert_eq!(d.billable_amount, e.billable_amount);
        assert_eq!(d.approval, e.approval);
    }
    assert_eq!(de[0].billable_amount, eur(112500)); // 1.125,00
    assert_eq!(de[0].hours, Decimal::new(75, 1)); // 7,5
    assert_eq!(de[0].date.to_string(), "2025-03-03"); // 03.03.2025

    // Chosen by options rather than sniffed: the same.
    let forced = entries(
        &read(HARVEST_DE),
        TimeExport::harvest().delimiter(b';').decimal_comma(true),
    );
    assert_eq!(forced, de);
    // The wrong delimiter forced: the header has none of the columns.
    let err = CsvRows::new(
        read(HARVEST_DE).as_slice(),
        TimeExport::harvest().delimiter(b','),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
}

// ---------------------------------------------------------------------------------------------
// Toggl
// ---------------------------------------------------------------------------------------------

#[test]
fn toggl_columns_become_entry_data() {
    let (changes, _, _) = sorted(rows(&read(TOGGL), TimeExport::toggl()));
    assert_eq!(changes.len(), 7);
    let t = entry(&changes[0]);
    assert_eq!(t.employee.as_str(), "jane.doe@firm.example");
    assert_eq!(t.project.as_str(), "erp-rollout");
    assert_eq!(t.role.as_str(), "senior-consultant");
    assert_eq!(t.duration_seconds, Some(12_600));
    assert_eq!(t.hours, Decimal::new(35, 1));
    assert_eq!(t.billable_amount, eur(52500), "Amount (EUR)");
    assert_eq!(t.approval, ApprovalState::Approved, "no approval column");
    assert!(t.key.as_str().starts_with("toggl-"));
    assert!(!entry(&changes[4]).billable);
    assert_eq!(entry(&changes[3]).role.as_str(), "consultant", "first tag");

    // A default role instead of a business hold for the untagged row.
    let (changes, rejected, _) = sorted(rows(
        &read(TOGGL),
        TimeExport::toggl().default_role("consultant".parse().unwrap()),
    ));
    assert_eq!((changes.len(), rejected.len()), (8, 2));
}

#[test]
fn a_twenty_second_entry_keeps_its_exact_duration() {
    let (changes, _, _) = sorted(rows(&read(TOGGL), TimeExport::toggl()));
    let t = entry(&changes[1]);
    assert_eq!(t.description, "Quick call with the client");
    assert_eq!(t.duration_seconds, Some(20));
    assert_eq!(t.hours, TimeEntry::hours_of_seconds(20));
    assert_eq!(t.hours, Decimal::new(56, 4));
}

#[test]
fn an_entry_crossing_midnight_belongs_to_its_start_date() {
    let (changes, _, _) = sorted(rows(&read(TOGGL), TimeExport::toggl()));
    let t = entry(&changes[2]);
    assert_eq!(t.description, "Cutover night");
    assert_eq!(t.date.to_string(), "2025-03-03");
    assert_eq!(t.duration_seconds, Some(6_300));

    // Without a duration column, the span is taken from the start and end times.
    let text = "Email,Project,Role,Start date,Start time,End time\n\
                jane@firm.example,PRJ-1,consultant,2025-03-03,23:30,00:15\n\
                jane@firm.example,PRJ-1,consultant,03/04/2025,9:00 AM,1:30 PM\n";
    let all = rows(text.as_bytes(), TimeExport::new("psa"));
    let read = entries(text.as_bytes(), TimeExport::new("psa"));
    assert_eq!(read.len(), 2, "{all:?}");
    assert_eq!(read[0].date.to_string(), "2025-03-03");
    assert_eq!(read[0].duration_seconds, Some(2_700));
    assert_eq!(read[0].hours, Decimal::new(75, 2));
    assert_eq!(
        read[0].description, "PRJ-1",
        "no notes: the project says what it was"
    );
    assert_eq!(read[1].date.to_string(), "2025-04-03");
    assert_eq!(read[1].duration_seconds, Some(16_200));
}

// ---------------------------------------------------------------------------------------------
// Ids without an id column
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn derived_ids_are_stable_and_duplicates_stay_distinct() {
    let text = read(TOGGL);
    let first = sorted(rows(&text, TimeExport::toggl())).0;
    let again = sorted(rows(&text, TimeExport::toggl())).0;
    let ids = |c: &[Change]| c.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&again), "re-import gives the same ids");

    // The two identical stand-up rows: two entries, numbered by occurrence.
    let a = entry(&first[5]).key.as_str().to_owned();
    let b = entry(&first[6]).key.as_str().to_owned();
    assert_ne!(a, b);
    assert_eq!(a.rsplit_once('-').unwrap().0, b.rsplit_once('-').unwrap().0);
    assert!(a.ends_with("-1") && b.ends_with("-2"), "{a} {b}");

    // A row added at the top moves every line, and changes no key.
    let mut s = String::from_utf8(text.clone()).unwrap();
    let header_end = s.find('\n').unwrap() + 1;
    s.insert_str(
        header_end,
        "Amy Chen,amy.chen@firm.example,Globex AG,Audit 2025,,Kick-off,Yes,2025-03-02,09:00:00,2025-03-02,10:00:00,01:00:00,Partner,250.00\n",
    );
    let moved = sorted(rows(s.as_bytes(), TimeExport::toggl())).0;
    let keys = |c: &[Change]| {
        c.iter()
            .map(|c| c.record.key().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&moved)[1..], keys(&first)[..]);

    // Pulled a page at a time from the file, the duplicates keep their numbers.
    let file = temp_copy("toggl.csv", &text);
    let source = TimesheetCsvFile::new(&file, TimeExport::toggl());
    for page_size in [1, 2, 100] {
        let page = pull_all(&source, None, page_size, 1_000).await.unwrap();
        assert_eq!(ids(&page.items), ids(&first), "page size {page_size}");
    }
    let _ = std::fs::remove_file(file);
}

#[test]
fn approving_an_entry_later_keeps_its_key_and_changes_its_version() {
    let text = String::from_utf8(read(HARVEST)).unwrap();
    let before = sorted(rows(text.as_bytes(), TimeExport::harvest())).0;
    let approved = text.replace(
        "Inventory count,4.0,4.0,Yes,No,No,",
        "Inventory count,4.0,4.0,Yes,No,Yes,",
    );
    assert_ne!(approved, text);
    let after = sorted(rows(approved.as_bytes(), TimeExport::harvest())).0;
    assert_eq!(entry(&after[2]).key, entry(&before[2]).key);
    assert_eq!(entry(&after[2]).approval, ApprovalState::Approved);
    assert_ne!(after[2].id, before[2].id, "a new version of the same entry");
    assert_eq!(after[0].id, before[0].id);
}

// ---------------------------------------------------------------------------------------------
// A generic export, mapped by column names
// ---------------------------------------------------------------------------------------------

#[test]
fn good_rows_go_on_and_bad_rows_are_located() {
    let text = std::fs::read(fixture()).unwrap();
    let (changes, rejected, skipped) = sorted(rows(&text, CsvConfig::new("psa")));
    let keys: Vec<&str> = changes.iter().map(|c| c.record.key()).collect();
    assert_eq!(
        keys,
        [
            "psa-T-1001",
            "psa-T-1002",
            "psa-T-1003",
            "psa-T-1005",
            "psa-X-2001",
            "psa-X-2002",
            "psa-T-1008",
            "psa-T-1009",
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
    assert_eq!(skipped, [(15, "blank line".to_owned())]);

    let t = entry(&changes[1]);
    assert_eq!(t.hours, Decimal::new(675, 2)); // 6:45
    assert_eq!(t.description, "Data migration mapping, part 1");
    assert_eq!(t.role.as_str(), "consultant");
    assert!(t.approval.is_approved());
    assert_eq!(t.refs.get("psa"), Some("T-1002"));
    let t = entry(&changes[2]);
    assert_eq!(
        t.description,
        "Steering committee:\nminutes and follow-up actions"
    );
    let t = entry(&changes[0]);
    assert_eq!(t.task.as_ref().map(|k| k.as_str()), Some("design"));
    assert_eq!(
        changes[0].updated_at.to_rfc3339(),
        "2025-03-07T16:00:00+00:00"
    );
    let Record::Expense(e) = &changes[5].record else {
        panic!("not an expense")
    };
    assert_eq!(e.amount, Money::new(Decimal::new(312, 0), Currency::EUR));
    assert!(!e.billable);
    assert_eq!(e.category, "lodging");
}

#[tokio::test]
async fn async_reader_gives_the_same_rows() {
    for (text, config) in [
        (std::fs::read(fixture()).unwrap(), CsvConfig::new("psa")),
        (read(HARVEST), TimeExport::harvest()),
        (read(TOGGL), TimeExport::toggl()),
    ] {
        let sync = rows(&text, config.clone());
        let mut reader = AsyncCsvRows::new(text.as_slice(), config).await.unwrap();
        let mut rows = Vec::new();
        while let Some(row) = reader.next().await {
            rows.push(row.unwrap());
        }
        assert_eq!(rows, sync);
    }
}

#[tokio::test]
async fn rows_appended_later_come_in_the_next_pull() {
    let text = std::fs::read(fixture()).unwrap();
    let path = temp_copy("append.csv", &text);
    let source = TimesheetCsvFile::new(&path, CsvConfig::new("psa"));
    let first = pull_all(&source, None, 4, 100).await.unwrap();
    assert_eq!(first.items.len(), 9);
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
    // Semicolons, decimal commas, CRLF line ends, day-first dates, renamed columns.
    let text = "Id;Datum;Employee;Project;Role;Stunden;Status;Comment\r\n\
                W-1;03/03/2025;jane.doe@firm.example;PRJ-1;consultant;7,5;Approved;Workshop\r\n\
                W-2;04.03.2025;jane.doe@firm.example;PRJ-1;Senior Consultant;1.234,5;approved;Review\r\n";
    let config = CsvConfig::new("tempo")
        .column(Field::Date, "Datum")
        .column(Field::Hours, "Stunden");
    let rows = rows(text.as_bytes(), config);
    assert_eq!(rows.len(), 2);
    let Row::Change(c) = &rows[0] else {
        panic!("{:?}", rows[0])
    };
    let t = entry(c);
    assert_eq!(t.hours, Decimal::new(75, 1));
    assert_eq!(t.date.to_string(), "2025-03-03");
    // 1.234,5 hours read as a number (thousands dot), then refused as more than a day.
    let Row::Rejected(r) = &rows[1] else {
        panic!("{:?}", rows[1])
    };
    assert_eq!(r.location.line, Some(3));
    assert!(r.reason.contains("1234.5"), "{}", r.reason);
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
    // A Toggl export read as Harvest's: no first/last name nor project code.
    let err = CsvRows::new(read(TOGGL).as_slice(), TimeExport::harvest()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
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
