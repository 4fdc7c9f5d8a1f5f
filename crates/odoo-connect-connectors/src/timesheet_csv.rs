//! Time and expense entries from a CSV export, as timesheet and PSA tools write it: Harvest's
//! "Detailed time report", Toggl Track's "Detailed report", or any other tool's export described
//! with a column mapping.
//!
//! - [`TimeExport::harvest()`] reads Harvest's detailed time report as exported (`Date, Client,
//!   Project, Project Code, Task, Notes, Hours, ..., Billable?, Invoiced?, Approved?, First Name,
//!   Last Name, Roles, ..., Billable Rate, Billable Amount, Cost Rate, Cost Amount, Currency,
//!   External Reference URL`; currency written `Euro - EUR`).
//! - [`TimeExport::toggl()`] reads Toggl Track's detailed report (`User, Email, Client, Project,
//!   Task, Description, Billable, Start date, Start time, End date, End time, Duration, Tags,
//!   Amount (EUR)`; durations `hh:mm:ss`, kept to the second in
//!   [`TimeEntry::duration_seconds`]).
//! - [`TimeExport::new`] with [`TimeExport::column`] maps any other tool's headers to [`Field`]s;
//!   without a mapping, columns are found by header name, ignoring case, spaces and underscores,
//!   with the usual aliases ([`Field::aliases`]). Columns not named are ignored.
//!
//! What the file holds is data, not a filter: every row comes back, approved or not
//! ([`TimeEntry::approval`]), billable or not, invoiced or not ([`TimeEntry::invoiced`]); the
//! flows decide what to do with an entry that is not approved. Rates and amounts become
//! [`Money`] in the row's currency (a `Currency` column, or the code in a header such as
//! `Amount (EUR)`, or [`TimeExport::currency`]).
//!
//! Exports without an id column (Harvest, Toggl) key each entry by a stable hash of what
//! identifies it (date, person, client, project, task, notes, start, duration), normalised, plus
//! its occurrence among identical rows of the file: the same row gets the same key on every
//! re-import, even re-saved by a spreadsheet, and two identical rows stay two entries. Approval,
//! billing and invoicing state are left out of the key (an entry approved later keeps its key) but
//! are part of the change's version.
//!
//! Formats read: a UTF-8 byte order mark; CRLF or LF line ends; quoted fields holding the
//! delimiter, doubled quotes or line breaks; blank lines (skipped); hours as decimals (`1.5`) or
//! `h:mm` (`1:30`); durations `hh:mm:ss`; a German spreadsheet's re-save (`;` delimiter, decimal
//! comma, thousands dot, `DD.MM.YYYY` dates), found by sniffing the delimiter on the header line
//! ([`TimeExport::delimiter`] and [`TimeExport::decimal_comma`] force it). An entry crossing
//! midnight belongs to the day it started. Names used as keys (a Harvest role or a project without
//! a code, a task) are made into valid keys by [`slugify`].
//!
//! Reading is streamed: one logical record (a line, or several when a quoted field holds line
//! breaks) is in memory at a time, at most [`MAX_RECORD_BYTES`] long. A row that cannot be read (a
//! bad date, hours out of range, a missing value) becomes a [`Rejected`] with the physical line it
//! starts on, its column and raw text, and the rows after it go on. A row that reads well but
//! lacks what a person must decide (no role for the person) is a business hold
//! ([`Rejected::business`]).
//!
//! - [`CsvRows`] reads any [`std::io::Read`], [`AsyncCsvRows`] any [`tokio::io::AsyncRead`], one
//!   [`Row`] at a time.
//! - [`TimesheetCsvFile`] is a [`Source`] over a file: its cursor is a byte offset and a line
//!   number, so a pull resumes exactly where the last one stopped, and rows appended to the file
//!   later come in the next pull.
//!
//! ```
//! use odoo_connect_connectors::timesheet_csv::{CsvRows, Row, TimeExport};
//! use odoo_connect_connectors::Record;
//!
//! let csv = "\
//! Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,Approved?,First Name,Last Name,Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,Currency,External Reference URL
//! 2025-03-03,Acme GmbH,ERP Rollout,ACME-ERP,Design,\"Workshop, day 1\",1:30,1.5,Yes,No,Yes,Jane,Doe,Senior Consultant,Yes,150.0,225.0,80.0,120.0,Euro - EUR,
//! 2025-03-03,Acme GmbH,ERP Rollout,ACME-ERP,Design,Slides,twelve,12.0,Yes,No,No,Jane,Doe,Senior Consultant,Yes,150.0,0,80.0,0,Euro - EUR,
//! ";
//! let rows: Vec<Row> = CsvRows::new(csv.as_bytes(), TimeExport::harvest())?
//!     .collect::<Result<_, _>>()?;
//! let Row::Change(c) = &rows[0] else { panic!("{:?}", rows[0]) };
//! let Record::TimeEntry(t) = &c.record else { panic!() };
//! assert_eq!(t.hours, rust_decimal::Decimal::new(15, 1)); // 1:30
//! assert_eq!(t.billable_amount.as_ref().map(|m| m.to_string()).as_deref(), Some("225.00 EUR"));
//! assert_eq!(t.role.as_str(), "senior-consultant");
//! assert_eq!(t.employee.as_str(), "jane-doe");
//! assert!(matches!(&rows[1], Row::Rejected(r) if r.location.line == Some(3)));
//! # Ok::<(), odoo_connect_connectors::ConnectorError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt};

use super::{
    Capabilities, Change, ChangeId, Connector, ConnectorError, Cursor, Location, Page, Record,
    RecordKind, Rejected, Source, fnv1a,
};
use odoo_connect_canonical::{
    ApprovalState, Currency, EmployeeKey, Expense, ExpenseKey, ExternalRef, Money, ProjectKey,
    Role, TaskKey, TimeEntry, TimeEntryKey, Validate,
};

/// Longest logical record read, in bytes; a longer one is rejected and skipped.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A column the reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The entry's id in the exporting tool (optional: without it, the entry is keyed by a hash of
    /// its content and its occurrence in the file).
    Id,
    /// `time` or `expense` (optional: time when absent).
    Type,
    /// The day worked or spent (for a timer, the day it started).
    Date,
    /// The employee (a key such as an e-mail address).
    Employee,
    /// The employee's first name (with [`Field::LastName`], the employee when there is no
    /// [`Field::Employee`] column; made a key with [`slugify`]).
    FirstName,
    /// The employee's last name.
    LastName,
    /// The client's name (part of the entry's identity).
    Client,
    /// The project's code, used as the key as written.
    Project,
    /// The project's name, made a key with [`slugify`] when there is no code.
    ProjectName,
    /// The task (optional; made a key with [`slugify`]).
    Task,
    /// The role worked in (time entries; the first of a comma-separated list; made a key with
    /// [`slugify`]).
    Role,
    /// Hours, as a decimal (`7.5`, `7,5`) or `h:mm` (`7:30`) (time entries).
    Hours,
    /// A timer's duration, `hh:mm:ss` (kept to the second), `h:mm` or decimal hours.
    Duration,
    /// When the timer started (`HH:MM:SS`, `HH:MM` or `h:mm AM`).
    StartTime,
    /// The day the timer stopped.
    EndDate,
    /// When the timer stopped.
    EndTime,
    /// What was done or bought (when empty, the task's name, else the project's).
    Description,
    /// Whether the client is billed (optional, default yes).
    Billable,
    /// The approval status (optional; without it, [`TimeExport::approval`]).
    Status,
    /// Whether the exporting tool has invoiced it (optional, default no).
    Invoiced,
    /// The amount spent, taxes included (expenses).
    Amount,
    /// The row's currency (`EUR`, or Harvest's `Euro - EUR`); optional.
    Currency,
    /// The expense category (expenses).
    Category,
    /// The hourly billable rate.
    BillableRate,
    /// The billable amount.
    BillableAmount,
    /// The hourly cost rate.
    CostRate,
    /// The cost amount.
    CostAmount,
    /// A link to the item worked on in another tool.
    ExternalUrl,
    /// Tags (Toggl); the first one is the role when there is no role column.
    Tags,
    /// When the entry last changed, RFC 3339 or `YYYY-MM-DD HH:MM:SS` UTC (optional).
    UpdatedAt,
}

impl Field {
    const ALL: [Field; 30] = [
        Field::Id,
        Field::Type,
        Field::Date,
        Field::Employee,
        Field::FirstName,
        Field::LastName,
        Field::Client,
        Field::Project,
        Field::ProjectName,
        Field::Task,
        Field::Role,
        Field::Hours,
        Field::Duration,
        Field::StartTime,
        Field::EndDate,
        Field::EndTime,
        Field::Description,
        Field::Billable,
        Field::Status,
        Field::Invoiced,
        Field::Amount,
        Field::Currency,
        Field::Category,
        Field::BillableRate,
        Field::BillableAmount,
        Field::CostRate,
        Field::CostAmount,
        Field::ExternalUrl,
        Field::Tags,
        Field::UpdatedAt,
    ];

    /// The header names recognised, compared without case, spaces, `_`, `-`, `.` or a currency
    /// suffix such as ` (EUR)`.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Id => &["id", "entryid", "timeentryid", "expenseid", "externalid"],
            Field::Type => &["type", "kind", "entrytype"],
            Field::Date => &["date", "spentdate", "day", "workdate", "startdate"],
            Field::Employee => &["employee", "employeeemail", "email", "person", "user"],
            Field::FirstName => &["firstname", "givenname"],
            Field::LastName => &["lastname", "surname", "familyname"],
            Field::Client => &["client", "customer", "clientname"],
            Field::Project => &["project", "projectcode", "projectkey", "projectid"],
            Field::ProjectName => &["projectname"],
            Field::Task => &["task", "taskcode", "taskkey"],
            Field::Role => &["role", "roles", "position"],
            Field::Hours => &["hours", "quantity", "time"],
            Field::Duration => &["duration"],
            Field::StartTime => &["starttime"],
            Field::EndDate => &["enddate"],
            Field::EndTime => &["endtime"],
            Field::Description => &["description", "notes", "note", "comment"],
            Field::Billable => &["billable", "billable?", "isbillable"],
            Field::Status => &[
                "status",
                "approval",
                "approvalstatus",
                "approved",
                "approved?",
            ],
            Field::Invoiced => &["invoiced", "invoiced?"],
            Field::Amount => &["amount", "cost", "total"],
            Field::Currency => &["currency", "currencycode"],
            Field::Category => &["category", "expensecategory"],
            Field::BillableRate => &["billablerate"],
            Field::BillableAmount => &["billableamount"],
            Field::CostRate => &["costrate"],
            Field::CostAmount => &["costamount"],
            Field::ExternalUrl => &["externalreferenceurl", "externalurl", "url"],
            Field::Tags => &["tags"],
            Field::UpdatedAt => &["updatedat", "approvedat", "modifiedat", "lastmodified"],
        }
    }

    /// The name used in error locations.
    pub fn name(self) -> &'static str {
        self.aliases()[0]
    }
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A header's name without a trailing currency code in brackets (`Amount (EUR)`), and the code.
fn header_currency(header: &str) -> (&str, Option<Currency>) {
    let trimmed = header.trim();
    if let Some(open) = trimmed.rfind('(')
        && trimmed.ends_with(')')
    {
        let inner = trimmed[open + 1..trimmed.len() - 1].trim();
        let base = trimmed[..open].trim_end();
        let currency = Currency::from_str(&inner.to_ascii_uppercase()).ok();
        if inner.is_empty() || currency.is_some() {
            return (base, currency);
        }
    }
    (trimmed, None)
}

/// Makes a name a valid canonical key: lower case, common accents folded (`ü` to `ue`, `é` to
/// `e`), every run of other characters one `-`, at most 128 bytes. `None` when nothing is left.
///
/// ```
/// use odoo_connect_connectors::timesheet_csv::slugify;
/// assert_eq!(slugify("Senior Consultant").as_deref(), Some("senior-consultant"));
/// assert_eq!(slugify("Müller & Söhne: ERP (2025)").as_deref(), Some("mueller-soehne-erp-2025"));
/// assert_eq!(slugify(" -- "), None);
/// ```
pub fn slugify(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'a'..='z' | '0'..='9' => {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => "a",
            'ä' | 'æ' => "ae",
            'ç' | 'č' | 'ć' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' => "o",
            'ö' | 'œ' => "oe",
            'ù' | 'ú' | 'û' | 'ů' => "u",
            'ü' => "ue",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'ł' => "l",
            'š' | 'ś' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ř' => "r",
            _ => {
                dash = true;
                continue;
            }
        };
        if dash && !out.is_empty() {
            out.push('-');
        }
        dash = false;
        out.push_str(folded);
    }
    if out.len() > odoo_connect_canonical::MAX_KEY_LEN {
        out.truncate(odoo_connect_canonical::MAX_KEY_LEN);
        while out.ends_with('-') {
            out.pop();
        }
    }
    (!out.is_empty()).then_some(out)
}

/// How to read an export: its columns, delimiter, number and date formats.
///
/// Start from a preset ([`TimeExport::harvest`], [`TimeExport::toggl`]) or from
/// [`TimeExport::new`] and map the columns of another tool:
///
/// ```
/// use odoo_connect_connectors::timesheet_csv::{Field, TimeExport};
/// let psa = TimeExport::new("kantata")
///     .column(Field::Employee, "Resource Email")
///     .column(Field::Project, "Workspace Code")
///     .column(Field::Hours, "Logged Hours")
///     .date_formats(["%m/%d/%Y"]);
/// assert_eq!(psa.system, "kantata");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TimeExport {
    /// The exporting system's name, for [`ExternalRef`]s and change ids (`psa`, `harvest`, ...).
    pub system: String,
    /// The field delimiter; `None` (the default) sniffs it from the header line (`,`, `;` or tab).
    pub delimiter: Option<u8>,
    /// Whether numbers use a decimal comma and a thousands dot (`1.234,5`); `None` (the default)
    /// when the delimiter is `;` (a German spreadsheet's re-save).
    pub decimal_comma: Option<bool>,
    /// Date formats tried in order (default `%Y-%m-%d`, `%d.%m.%Y`, then `%d/%m/%Y`).
    pub date_formats: Vec<String>,
    /// The currency of amounts when neither the row nor the header names one.
    pub currency: Currency,
    /// Prefix of canonical keys (`<prefix>-<id>`; default the system's name).
    pub key_prefix: String,
    /// Header names that override the aliases for a field.
    pub columns: BTreeMap<Field, String>,
    /// Fields not read even when a header matches an alias.
    pub ignored: BTreeSet<Field>,
    /// The role of entries whose row names none (`None`: such a row is held for a person).
    pub default_role: Option<Role>,
    /// The approval of entries when the export has no status column (default approved: an export
    /// of approved time).
    pub approval: ApprovalState,
}

/// The former name of [`TimeExport`].
pub type CsvConfig = TimeExport;

impl TimeExport {
    /// Defaults for an export from `system`, columns found by their aliases.
    pub fn new(system: impl Into<String>) -> TimeExport {
        let system = system.into();
        TimeExport {
            key_prefix: system.clone(),
            system,
            delimiter: None,
            decimal_comma: None,
            date_formats: vec!["%Y-%m-%d".into(), "%d.%m.%Y".into(), "%d/%m/%Y".into()],
            currency: Currency::EUR,
            columns: BTreeMap::new(),
            ignored: BTreeSet::new(),
            default_role: None,
            approval: ApprovalState::Approved,
        }
    }

    /// Harvest's "Detailed time report" export (system `harvest`): `Date`, `Client`, `Project`,
    /// `Project Code` (the key when filled, else the project's name), `Task`, `Notes`, `Hours`,
    /// `Billable?`, `Invoiced?`, `Approved?`, `First Name` and `Last Name` (the employee),
    /// `Roles` (the first is the role), rates and amounts in `Currency` (`Euro - EUR`), and
    /// `External Reference URL`. `Hours Rounded` and `Employee?` are ignored.
    pub fn harvest() -> TimeExport {
        TimeExport::new("harvest")
            .column(Field::Date, "Date")
            .column(Field::Client, "Client")
            .column(Field::ProjectName, "Project")
            .column(Field::Project, "Project Code")
            .column(Field::Task, "Task")
            .column(Field::Description, "Notes")
            .column(Field::Hours, "Hours")
            .column(Field::Billable, "Billable?")
            .column(Field::Invoiced, "Invoiced?")
            .column(Field::Status, "Approved?")
            .column(Field::FirstName, "First Name")
            .column(Field::LastName, "Last Name")
            .column(Field::Role, "Roles")
            .column(Field::BillableRate, "Billable Rate")
            .column(Field::BillableAmount, "Billable Amount")
            .column(Field::CostRate, "Cost Rate")
            .column(Field::CostAmount, "Cost Amount")
            .column(Field::Currency, "Currency")
            .column(Field::ExternalUrl, "External Reference URL")
            .ignore(Field::Employee)
            .ignore(Field::Id)
            .ignore(Field::Type)
    }

    /// Toggl Track's "Detailed report" export (system `toggl`): `Email` (the employee),
    /// `Client`, `Project` (a name, made a key), `Task`, `Description`, `Billable`, `Start date`
    /// (the entry's day, also for a timer running past midnight), `Start time`, `End date`,
    /// `End time`, `Duration` (`hh:mm:ss`, kept to the second), `Tags` (the first tag is the role,
    /// or [`TimeExport::default_role`]) and `Amount (EUR)` (the billable amount, in the header's
    /// currency). Dates are tried as `YYYY-MM-DD`, `DD.MM.YYYY` and `MM/DD/YYYY` (Toggl's date
    /// format preference). There is no approval column: entries are [`TimeExport::approval`].
    pub fn toggl() -> TimeExport {
        TimeExport::new("toggl")
            .column(Field::Employee, "Email")
            .column(Field::Client, "Client")
            .column(Field::ProjectName, "Project")
            .column(Field::Task, "Task")
            .column(Field::Description, "Description")
            .column(Field::Billable, "Billable")
            .column(Field::Date, "Start date")
            .column(Field::StartTime, "Start time")
            .column(Field::EndDate, "End date")
            .column(Field::EndTime, "End time")
            .column(Field::Duration, "Duration")
            .column(Field::Tags, "Tags")
            .column(Field::BillableAmount, "Amount")
            .ignore(Field::Project)
            .ignore(Field::Id)
            .ignore(Field::Amount)
            .ignore(Field::Type)
            .date_formats(["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y"])
    }

    /// Sets the delimiter (`b';'` for many European exports) instead of sniffing it.
    pub fn delimiter(mut self, delimiter: u8) -> TimeExport {
        self.delimiter = Some(delimiter);
        self
    }

    /// Reads numbers with a decimal comma and thousands dot (`true`) or a decimal point (`false`)
    /// instead of deciding from the delimiter.
    pub fn decimal_comma(mut self, decimal_comma: bool) -> TimeExport {
        self.decimal_comma = Some(decimal_comma);
        self
    }

    /// Sets the date formats tried, in order (chrono's `strftime` syntax).
    pub fn date_formats<I: IntoIterator<Item = S>, S: Into<String>>(mut self, f: I) -> TimeExport {
        self.date_formats = f.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the default currency.
    pub fn currency(mut self, currency: Currency) -> TimeExport {
        self.currency = currency;
        self
    }

    /// Sets the role of entries whose row names none.
    pub fn default_role(mut self, role: Role) -> TimeExport {
        self.default_role = Some(role);
        self
    }

    /// Sets the approval of entries when the export has no status column.
    pub fn approval(mut self, approval: ApprovalState) -> TimeExport {
        self.approval = approval;
        self
    }

    /// Reads `field` from the column named `header` (compared like the aliases; a currency suffix
    /// such as ` (EUR)` in the file's header is allowed).
    pub fn column(mut self, field: Field, header: impl Into<String>) -> TimeExport {
        self.columns.insert(field, header.into());
        self.ignored.remove(&field);
        self
    }

    /// Does not read `field`, even when a header matches one of its aliases.
    pub fn ignore(mut self, field: Field) -> TimeExport {
        self.columns.remove(&field);
        self.ignored.insert(field);
        self
    }
}

/// One record of the export, read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Row {
    /// An entry, whatever its approval.
    Change(Change),
    /// A row that could not be read, or is held for a person: dead-letter or park it.
    Rejected(Rejected),
    /// A line with no data (blank).
    Skipped {
        /// Its line.
        line: u64,
        /// Why.
        reason: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Records from lines
// ---------------------------------------------------------------------------------------------

/// Joins physical lines into logical records (a quoted field may hold line breaks).
#[derive(Debug, Default)]
struct Assembler {
    pending: Vec<u8>,
    start_line: u64,
    quotes: usize,
    too_long: bool,
}

/// A logical record and the line it starts on, or a record too long to keep.
enum Logical {
    Record { line: u64, bytes: Vec<u8> },
    TooLong { line: u64, head: Vec<u8> },
}

impl Assembler {
    /// Adds one physical line (with its line break, if any); gives the record it completes.
    fn push(&mut self, line_no: u64, line: &[u8]) -> Option<Logical> {
        if self.pending.is_empty() && !self.too_long {
            self.start_line = line_no;
        }
        self.quotes += line.iter().filter(|b| **b == b'"').count();
        if self.too_long || self.pending.len() + line.len() > MAX_RECORD_BYTES {
            if !self.too_long {
                self.too_long = true;
                self.pending.truncate(1024);
            }
        } else {
            self.pending.extend_from_slice(line);
        }
        if self.quotes % 2 == 1 && line.ends_with(b"\n") {
            return None;
        }
        Some(self.take())
    }

    /// The record left at the end of input, if any.
    fn finish(&mut self) -> Option<Logical> {
        if self.pending.is_empty() && !self.too_long {
            None
        } else {
            Some(self.take())
        }
    }

    fn take(&mut self) -> Logical {
        let bytes = std::mem::take(&mut self.pending);
        self.quotes = 0;
        let line = self.start_line;
        if std::mem::take(&mut self.too_long) {
            Logical::TooLong { line, head: bytes }
        } else {
            Logical::Record { line, bytes }
        }
    }
}

fn trim_line_end(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &bytes[..end]
}

/// A CSV record reader for `delimiter` (building one compiles its state machine: done once per
/// file, not per row).
fn csv_reader(delimiter: u8) -> csv_core::Reader {
    csv_core::ReaderBuilder::new().delimiter(delimiter).build()
}

/// Splits one complete record into fields.
fn split(reader: &mut csv_core::Reader, record: &[u8]) -> Result<Vec<String>, String> {
    reader.reset();
    let mut out = vec![0u8; record.len() + 1];
    let mut ends = vec![0usize; record.len() + 2];
    let mut input = record;
    let (mut nout, mut nend) = (0usize, 0usize);
    loop {
        let (res, nin, o, e) = reader.read_record(input, &mut out[nout..], &mut ends[nend..]);
        input = &input[nin..];
        nout += o;
        nend += e;
        match res {
            csv_core::ReadRecordResult::InputEmpty if !input.is_empty() => continue,
            csv_core::ReadRecordResult::InputEmpty => {
                // End of the record: an empty input closes it.
                let (res, _, _, e) = reader.read_record(&[], &mut out[nout..], &mut ends[nend..]);
                nend += e;
                if res != csv_core::ReadRecordResult::Record {
                    return Err("unterminated record".into());
                }
                break;
            }
            csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {
                return Err("record larger than expected".into());
            }
        }
    }
    let mut fields = Vec::with_capacity(nend);
    let mut start = 0;
    for &end in &ends[..nend] {
        let bytes = out.get(start..end).ok_or("bad field bounds")?;
        let text = std::str::from_utf8(bytes).map_err(|_| "a field is not UTF-8".to_owned())?;
        fields.push(text.to_owned());
        start = end;
    }
    Ok(fields)
}

// ---------------------------------------------------------------------------------------------
// Rows from records
// ---------------------------------------------------------------------------------------------

/// Why a row was not read: the field, the reason, and whether it is a business hold.
struct Bad {
    field: String,
    reason: String,
    business: bool,
}

fn bad(field: Field, reason: impl Into<String>) -> Bad {
    Bad {
        field: field.name().to_owned(),
        reason: reason.into(),
        business: false,
    }
}

/// The delimiter of a header line: the most frequent of `,`, `;` and tab outside quotes (`,` on
/// a tie or when there is none).
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// The header's columns and the rules to read a row, and the identities seen so far (to number
/// identical rows).
#[derive(Debug, Clone)]
struct Decoder {
    config: TimeExport,
    comma: bool,
    /// The record reader for the file's delimiter.
    reader: csv_core::Reader,
    index: BTreeMap<Field, usize>,
    header_currency: BTreeMap<Field, Currency>,
    seen: HashMap<u64, u32>,
}

/// The fields that identify an entry without an id column (state such as approval is left out).
const IDENTITY: [Field; 17] = [
    Field::Type,
    Field::Date,
    Field::Employee,
    Field::FirstName,
    Field::LastName,
    Field::Client,
    Field::Project,
    Field::ProjectName,
    Field::Task,
    Field::Description,
    Field::StartTime,
    Field::EndDate,
    Field::EndTime,
    Field::Hours,
    Field::Duration,
    Field::Category,
    Field::Amount,
];

impl Decoder {
    fn from_header(
        config: TimeExport,
        line: u64,
        record: &[u8],
    ) -> Result<Decoder, ConnectorError> {
        let record = record.strip_prefix(b"\xef\xbb\xbf").unwrap_or(record);
        let record = trim_line_end(record);
        let delimiter = config.delimiter.unwrap_or_else(|| sniff_delimiter(record));
        let comma = config.decimal_comma.unwrap_or(delimiter == b';');
        let mut reader = csv_reader(delimiter);
        let names = split(&mut reader, record)
            .map_err(|e| ConnectorError::bad_data(Location::line(line), e))?;
        let names: Vec<(String, String, Option<Currency>)> = names
            .iter()
            .map(|n| {
                let (base, currency) = header_currency(n);
                (normalise(n), normalise(base), currency)
            })
            .collect();
        let find = |wanted: &str| {
            names
                .iter()
                .position(|(full, base, _)| full == wanted || base == wanted)
        };
        let mut index = BTreeMap::new();
        let mut header_currency = BTreeMap::new();
        for field in Field::ALL {
            if config.ignored.contains(&field) {
                continue;
            }
            let found = match config.columns.get(&field) {
                Some(header) => find(&normalise(header)),
                None => field.aliases().iter().find_map(|a| find(a)),
            };
            if let Some(i) = found {
                index.insert(field, i);
                if let Some(c) = names.get(i).and_then(|n| n.2) {
                    header_currency.insert(field, c);
                }
            }
        }
        let expected = |field: Field| match config.columns.get(&field) {
            Some(h) => format!("`{h}`"),
            None => format!("one of: {}", field.aliases().join(", ")),
        };
        let missing = |field: Field, what: String| {
            ConnectorError::bad_data(
                Location::line(line).field(field.name()),
                format!("the header has no {what} column ({})", expected(field)),
            )
        };
        if !index.contains_key(&Field::Date) {
            return Err(missing(Field::Date, "date".into()));
        }
        if ![Field::Employee, Field::FirstName, Field::LastName]
            .iter()
            .any(|f| index.contains_key(f))
        {
            return Err(missing(
                Field::Employee,
                "employee (or first and last name)".into(),
            ));
        }
        if !index.contains_key(&Field::Project) && !index.contains_key(&Field::ProjectName) {
            return Err(missing(Field::Project, "project code or name".into()));
        }
        Ok(Decoder {
            config,
            comma,
            reader,
            index,
            header_currency,
            seen: HashMap::new(),
        })
    }

    fn row(&mut self, logical: Logical) -> Row {
        let (line, bytes) = match logical {
            Logical::TooLong { line, head } => {
                return Row::Rejected(Rejected::new(
                    Location::line(line),
                    format!("record longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?)"),
                    String::from_utf8_lossy(&head).into_owned(),
                ));
            }
            Logical::Record { line, bytes } => (line, bytes),
        };
        let text = trim_line_end(&bytes);
        let raw = String::from_utf8_lossy(text).into_owned();
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            return Row::Skipped {
                line,
                reason: "blank line".into(),
            };
        }
        let fields = match split(&mut self.reader, text) {
            Ok(f) => f,
            Err(e) => return Row::Rejected(Rejected::new(Location::line(line), e, raw)),
        };
        let id = if self.index.contains_key(&Field::Id) {
            self.get(&fields, Field::Id).map(str::to_owned)
        } else {
            let hash = fnv1a(self.identity(&fields).as_bytes());
            let n = self.seen.entry(hash).or_insert(0);
            *n += 1;
            Some(format!("{hash:016x}-{n}"))
        };
        let all: Vec<String> = fields.iter().map(|f| collapse(f)).collect();
        let version = format!("{:016x}", fnv1a(all.join("\u{1f}").as_bytes()));
        match self.decode(&fields, id.as_deref(), &version) {
            Ok(change) => Row::Change(change),
            Err(Bad {
                field,
                reason,
                business,
            }) => {
                let mut location = Location::line(line).field(field);
                if let Some(id) = id {
                    location = location.in_record(id);
                }
                Row::Rejected(if business {
                    Rejected::business(location, reason, raw)
                } else {
                    Rejected::new(location, reason, raw)
                })
            }
        }
    }

    /// The row's identifying values, normalised (spaces collapsed, dates ISO, hours a number).
    fn identity(&self, fields: &[String]) -> String {
        let mut parts = Vec::with_capacity(IDENTITY.len());
        for field in IDENTITY {
            let value = self.get(fields, field).unwrap_or("");
            let normal = match field {
                Field::Date | Field::EndDate => self.date(value).map(|d| d.to_string()),
                Field::Hours | Field::Duration => {
                    parse_span(value, self.comma).map(|(h, _)| h.normalize().to_string())
                }
                Field::Amount => parse_number(value, self.comma).map(|a| a.normalize().to_string()),
                Field::StartTime | Field::EndTime => parse_clock(value).map(|t| t.to_string()),
                _ => None,
            };
            parts.push(normal.unwrap_or_else(|| collapse(value)));
        }
        parts.join("\u{1f}")
    }

    fn get<'a>(&self, fields: &'a [String], field: Field) -> Option<&'a str> {
        self.index
            .get(&field)
            .and_then(|i| fields.get(*i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn required<'a>(&self, fields: &'a [String], field: Field) -> Result<&'a str, Bad> {
        self.get(fields, field)
            .ok_or_else(|| bad(field, "missing value"))
    }

    fn date(&self, text: &str) -> Option<NaiveDate> {
        self.config
            .date_formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
    }

    fn flag(&self, fields: &[String], field: Field, default: bool) -> Result<bool, Bad> {
        match self.get(fields, field).map(str::to_lowercase) {
            None => Ok(default),
            Some(b) if matches!(b.as_str(), "yes" | "y" | "true" | "1" | "ja" | "x") => Ok(true),
            Some(b) if matches!(b.as_str(), "no" | "n" | "false" | "0" | "nein") => Ok(false),
            Some(b) => Err(bad(field, format!("`{b}` is not yes or no"))),
        }
    }

    fn approval(&self, fields: &[String]) -> Result<ApprovalState, Bad> {
        let Some(status) = self.get(fields, Field::Status) else {
            return Ok(self.config.approval);
        };
        match status.to_lowercase().as_str() {
            "approved" | "yes" | "y" | "true" | "1" | "validated" | "ja" => {
                Ok(ApprovalState::Approved)
            }
            "submitted" | "pending" | "pending approval" | "awaiting approval" => {
                Ok(ApprovalState::Submitted)
            }
            "rejected" | "refused" | "declined" => Ok(ApprovalState::Rejected),
            "no" | "n" | "false" | "0" | "draft" | "open" | "unsubmitted" | "not submitted"
            | "nein" => Ok(ApprovalState::Draft),
            other => Err(bad(
                Field::Status,
                format!("`{other}` is not an approval status"),
            )),
        }
    }

    /// The row's currency column, when filled.
    fn row_currency(&self, fields: &[String]) -> Result<Option<Currency>, Bad> {
        match self.get(fields, Field::Currency) {
            None => Ok(None),
            Some(c) => parse_currency(c)
                .map(Some)
                .ok_or_else(|| bad(Field::Currency, format!("`{c}` is not a currency"))),
        }
    }

    fn money(
        &self,
        fields: &[String],
        field: Field,
        row_currency: Option<Currency>,
    ) -> Result<Option<Money>, Bad> {
        let Some(text) = self.get(fields, field) else {
            return Ok(None);
        };
        let amount = parse_number(text, self.comma)
            .ok_or_else(|| bad(field, format!("`{text}` is not an amount")))?;
        let currency = self
            .header_currency
            .get(&field)
            .copied()
            .or(row_currency)
            .unwrap_or(self.config.currency);
        Ok(Some(Money::new(amount, currency)))
    }

    /// Hours and exact seconds, from the duration, the hours or the start and end times.
    fn span(&self, fields: &[String], date: NaiveDate) -> Result<(Decimal, Option<u32>), Bad> {
        for field in [Field::Duration, Field::Hours] {
            if let Some(text) = self.get(fields, field) {
                return parse_span(text, self.comma).ok_or_else(|| {
                    bad(
                        field,
                        format!("`{text}` is not a duration (hours, h:mm or hh:mm:ss)"),
                    )
                });
            }
        }
        let (Some(start), Some(end)) = (
            self.get(fields, Field::StartTime),
            self.get(fields, Field::EndTime),
        ) else {
            let field = if self.index.contains_key(&Field::Duration) {
                Field::Duration
            } else {
                Field::Hours
            };
            return Err(bad(field, "missing value"));
        };
        let start = parse_clock(start)
            .ok_or_else(|| bad(Field::StartTime, format!("`{start}` is not a time of day")))?;
        let end = parse_clock(end)
            .ok_or_else(|| bad(Field::EndTime, format!("`{end}` is not a time of day")))?;
        let end_date = match self.get(fields, Field::EndDate) {
            Some(d) => self
                .date(d)
                .ok_or_else(|| bad(Field::EndDate, format!("`{d}` is not a date")))?,
            // A timer stopped "before" it started ran past midnight.
            None if end < start => date.succ_opt().unwrap_or(date),
            None => date,
        };
        let seconds = (end_date.and_time(end) - date.and_time(start)).num_seconds();
        let seconds = u32::try_from(seconds)
            .map_err(|_| bad(Field::EndTime, "the entry ends before it starts"))?;
        Ok((TimeEntry::hours_of_seconds(seconds), Some(seconds)))
    }

    fn role(&self, fields: &[String]) -> Result<Role, Bad> {
        let named = [Field::Role, Field::Tags].into_iter().find_map(|field| {
            let first = self.get(fields, field)?.split(',').next()?.trim();
            (!first.is_empty()).then_some((field, first))
        });
        match named {
            Some((field, name)) => slugify(name)
                .ok_or_else(|| bad(field, format!("`{name}` cannot be made a role")))
                .and_then(|s| Role::new(s).map_err(|e| bad(field, e.to_string()))),
            None => self.config.default_role.clone().ok_or_else(|| Bad {
                field: Field::Role.name().to_owned(),
                reason: "no role for this entry: give the person a role in the exporting tool \
                         or set a default role"
                    .into(),
                business: true,
            }),
        }
    }

    fn decode(&self, fields: &[String], id: Option<&str>, version: &str) -> Result<Change, Bad> {
        let id = id.ok_or_else(|| bad(Field::Id, "missing value"))?;
        let expense = match self.get(fields, Field::Type).map(str::to_ascii_lowercase) {
            None => false,
            Some(t) if t == "time" || t == "timesheet" || t == "hours" => false,
            Some(t) if t == "expense" || t == "expenses" => true,
            Some(t) => {
                return Err(bad(
                    Field::Type,
                    format!("`{t}` is neither time nor expense"),
                ));
            }
        };
        let date_text = self.required(fields, Field::Date)?;
        let date = self
            .date(date_text)
            .ok_or_else(|| bad(Field::Date, format!("`{date_text}` is not a date")))?;
        let employee = match self.get(fields, Field::Employee) {
            Some(e) => EmployeeKey::new(e).map_err(|err| bad(Field::Employee, err.to_string()))?,
            None => {
                let name = [Field::FirstName, Field::LastName]
                    .iter()
                    .filter_map(|f| self.get(fields, *f))
                    .collect::<Vec<_>>()
                    .join(" ");
                let field = if self.index.contains_key(&Field::Employee) {
                    Field::Employee
                } else {
                    Field::FirstName
                };
                let slug = slugify(&name).ok_or_else(|| bad(field, "missing value"))?;
                EmployeeKey::new(slug).map_err(|err| bad(field, err.to_string()))?
            }
        };
        let project = match self.get(fields, Field::Project) {
            Some(code) => {
                ProjectKey::new(code).map_err(|err| bad(Field::Project, err.to_string()))?
            }
            None => {
                let field = if self.index.contains_key(&Field::ProjectName) {
                    Field::ProjectName
                } else {
                    Field::Project
                };
                let name = self.required(fields, field)?;
                let slug = slugify(name)
                    .ok_or_else(|| bad(field, format!("`{name}` cannot be made a key")))?;
                ProjectKey::new(slug).map_err(|err| bad(field, err.to_string()))?
            }
        };
        // A quoted line break is `\n`, whether the file's lines end in CRLF or LF. Timers and
        // timesheets are often left without notes: the task's name, else the project's, says
        // what the time was spent on.
        let description = [
            Field::Description,
            Field::Task,
            Field::ProjectName,
            Field::Project,
        ]
        .iter()
        .find_map(|f| self.get(fields, *f))
        .unwrap_or("")
        .replace("\r\n", "\n");
        let billable = self.flag(fields, Field::Billable, true)?;
        let invoiced = self.flag(fields, Field::Invoiced, false)?;
        let approval = self.approval(fields)?;
        let updated_at = match self.get(fields, Field::UpdatedAt) {
            None => date.and_time(NaiveTime::MIN).and_utc(),
            Some(t) => parse_time(t)
                .ok_or_else(|| bad(Field::UpdatedAt, format!("`{t}` is not a time")))?,
        };
        let row_currency = self.row_currency(fields)?;
        let key = format!("{}-{id}", self.config.key_prefix);
        let external = ExternalRef::new(self.config.system.clone(), id);
        let (record, kind) = if expense {
            let amount = self
                .money(fields, Field::Amount, row_currency)?
                .ok_or_else(|| bad(Field::Amount, "missing value"))?;
            let category = self.required(fields, Field::Category)?;
            let mut e = Expense::new(
                ExpenseKey::new(key).map_err(|err| bad(Field::Id, err.to_string()))?,
                employee,
                project,
                date,
                category,
                description,
                amount,
            );
            e.refs.insert(self.config.system.clone(), id);
            e.billable = billable;
            e.approval = approval;
            if let Err(errors) = e.validate() {
                return Err(validation(errors));
            }
            (Record::from(e), RecordKind::Expense)
        } else {
            let (hours, seconds) = self.span(fields, date)?;
            let task = match self.get(fields, Field::Task) {
                None => None,
                Some(task) => {
                    let slug = slugify(task).ok_or_else(|| {
                        bad(Field::Task, format!("`{task}` cannot be made a key"))
                    })?;
                    Some(TaskKey::new(slug).map_err(|err| bad(Field::Task, err.to_string()))?)
                }
            };
            let billable_rate = self.money(fields, Field::BillableRate, row_currency)?;
            let billable_amount = self.money(fields, Field::BillableAmount, row_currency)?;
            let cost_rate = self.money(fields, Field::CostRate, row_currency)?;
            let cost_amount = self.money(fields, Field::CostAmount, row_currency)?;
            let role = self.role(fields)?;
            let mut t = TimeEntry::new(
                TimeEntryKey::new(key).map_err(|err| bad(Field::Id, err.to_string()))?,
                employee,
                project,
                role,
                date,
                hours,
                description,
            );
            t.task = task;
            t.refs.insert(self.config.system.clone(), id);
            t.billable = billable;
            t.approval = approval;
            t.invoiced = invoiced;
            t.duration_seconds = seconds;
            t.billable_rate = billable_rate;
            t.billable_amount = billable_amount;
            t.cost_rate = cost_rate;
            t.cost_amount = cost_amount;
            t.external_url = self.get(fields, Field::ExternalUrl).map(str::to_owned);
            if let Err(errors) = t.validate() {
                return Err(validation(errors));
            }
            (Record::from(t), RecordKind::TimeEntry)
        };
        Ok(Change::new(
            ChangeId::of(&external, kind, version),
            external,
            updated_at,
            record,
        ))
    }
}

fn validation(errors: odoo_connect_canonical::ValidationErrors) -> Bad {
    let field = errors
        .problems()
        .first()
        .map(|p| p.path.clone())
        .unwrap_or_default();
    Bad {
        field,
        reason: errors.to_string(),
        business: false,
    }
}

/// The text with runs of white space made one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A currency written `EUR`, `eur`, `Euro - EUR` (Harvest) or `Euro (EUR)`.
fn parse_currency(text: &str) -> Option<Currency> {
    let text = text.trim();
    let code = text
        .rsplit([' ', '(', ')', '-'])
        .find(|part| !part.is_empty())
        .unwrap_or(text);
    Currency::from_str(&code.to_ascii_uppercase())
        .ok()
        .or_else(|| Currency::from_str(&text.to_ascii_uppercase()).ok())
}

/// Whether every group after the first, split at `sep`, has exactly three digits (`1.234.567`).
fn thousands(text: &str, sep: char) -> bool {
    let mut parts = text.split(sep);
    let head_ok = parts
        .next()
        .is_some_and(|h| !h.is_empty() && h.trim_start_matches(['-', '+']).len() <= 3);
    let mut any = false;
    for p in parts {
        any = true;
        if p.len() != 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    head_ok && any
}

/// A number as a spreadsheet writes it: `1234.5`, `1,234.5` or, with `comma`, `1.234,5`. Spaces
/// (also non-breaking) are ignored. A lone `,` (`7,5`) is a decimal comma in either style.
fn parse_number(text: &str, comma: bool) -> Option<Decimal> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}' && *c != '\'')
        .collect();
    if text.is_empty() {
        return None;
    }
    let plain = if comma {
        if text.contains(',') {
            let (int, frac) = text.rsplit_once(',')?;
            if int.contains('.') && !thousands(int, '.') {
                return None;
            }
            format!("{}.{frac}", int.replace('.', ""))
        } else if thousands(&text, '.') {
            text.replace('.', "")
        } else {
            text
        }
    } else if text.contains('.') {
        let (int, _) = text.split_once('.')?;
        if int.contains(',') && !thousands(int, ',') {
            return None;
        }
        text.replace(',', "")
    } else if text.contains(',') && thousands(&text, ',') {
        text.replace(',', "")
    } else {
        text.replace(',', ".")
    };
    Decimal::from_str(&plain).ok()
}

/// Hours as a decimal (`1.5`), `h:mm` (`1:30`) or `hh:mm:ss` (`00:00:20`, exact seconds too).
fn parse_span(text: &str, comma: bool) -> Option<(Decimal, Option<u32>)> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(':').collect();
    let num = |s: &str| -> Option<u32> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match parts.as_slice() {
        [h, m, s] => {
            let (h, m, s) = (num(h)?, num(m)?, num(s)?);
            if m >= 60 || s >= 60 {
                return None;
            }
            let seconds = h.checked_mul(3600)?.checked_add(m * 60 + s)?;
            Some((TimeEntry::hours_of_seconds(seconds), Some(seconds)))
        }
        [h, m] => {
            let (h, m) = (num(h)?, num(m)?);
            if m >= 60 {
                return None;
            }
            // Minutes as a fraction of an hour, kept to the 4 decimals a time entry holds.
            let minutes = (Decimal::from(m) / Decimal::from(60)).round_dp(4);
            Some(((Decimal::from(h) + minutes).normalize(), None))
        }
        [_] => parse_number(text, comma).map(|h| (h, None)),
        _ => None,
    }
}

/// A time of day: `13:05:00`, `13:05`, `1:05:00 PM` or `1:05 PM`.
fn parse_clock(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    ["%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(text, f).ok())
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
}

// ---------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------

fn io_error(e: std::io::Error) -> ConnectorError {
    ConnectorError::transport("cannot read the CSV input", e)
}

/// Reads one physical line, at most `MAX_RECORD_BYTES + 1` bytes of it kept; the rest of a longer
/// line is read and dropped. Returns the bytes consumed.
fn read_line_sync<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.clear();
    let limit = (MAX_RECORD_BYTES + 1) as u64;
    let mut n = reader.by_ref().take(limit).read_until(b'\n', buf)?;
    if buf.len() as u64 == limit && !buf.ends_with(b"\n") {
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let m = reader.by_ref().take(limit).read_until(b'\n', &mut rest)?;
            n += m;
            if m == 0 || rest.ends_with(b"\n") {
                break;
            }
        }
    }
    Ok(n)
}

async fn read_line_async<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    buf.clear();
    let limit = (MAX_RECORD_BYTES + 1) as u64;
    let mut n = (&mut *reader).take(limit).read_until(b'\n', buf).await?;
    if buf.len() as u64 == limit && !buf.ends_with(b"\n") {
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let m = (&mut *reader)
                .take(limit)
                .read_until(b'\n', &mut rest)
                .await?;
            n += m;
            if m == 0 || rest.ends_with(b"\n") {
                break;
            }
        }
    }
    Ok(n)
}

/// The rows of an export read from a [`Read`], one at a time. An `Err` item is a failure to read
/// the input itself; bad rows are [`Row::Rejected`].
#[derive(Debug)]
pub struct CsvRows<R> {
    reader: BufReader<R>,
    decoder: Decoder,
    assembler: Assembler,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header line; fails when it lacks a required column.
    pub fn new(reader: R, config: CsvConfig) -> Result<CsvRows<R>, ConnectorError> {
        let mut reader = BufReader::new(reader);
        let mut assembler = Assembler::default();
        let mut buf = Vec::new();
        let mut line = 0;
        let header = loop {
            let n = read_line_sync(&mut reader, &mut buf).map_err(io_error)?;
            if n == 0 {
                break assembler.finish();
            }
            line += 1;
            if let Some(l) = assembler.push(line, &buf) {
                break Some(l);
            }
        };
        let decoder = match header {
            Some(Logical::Record { line, bytes }) => Decoder::from_header(config, line, &bytes)?,
            Some(Logical::TooLong { line, .. }) => {
                return Err(ConnectorError::bad_data(
                    Location::line(line),
                    "header too long",
                ));
            }
            None => {
                return Err(ConnectorError::bad_data(
                    Location::line(1),
                    "empty file: no header",
                ));
            }
        };
        Ok(CsvRows {
            reader,
            decoder,
            assembler,
            line,
            buf,
            done: false,
        })
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<Row, ConnectorError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match read_line_sync(&mut self.reader, &mut self.buf) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(io_error(e)));
                }
                Ok(0) => {
                    self.done = true;
                    return self.assembler.finish().map(|l| Ok(self.decoder.row(l)));
                }
                Ok(_) => {
                    self.line += 1;
                    if let Some(l) = self.assembler.push(self.line, &self.buf) {
                        return Some(Ok(self.decoder.row(l)));
                    }
                }
            }
        }
        None
    }
}

/// The rows of an export read from an [`AsyncRead`], one at a time; see [`CsvRows`].
#[derive(Debug)]
pub struct AsyncCsvRows<R> {
    reader: tokio::io::BufReader<R>,
    decoder: Decoder,
    assembler: Assembler,
    line: u64,
    offset: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: AsyncRead + Unpin> AsyncCsvRows<R> {
    /// Reads the header line; fails when it lacks a required column.
    pub async fn new(reader: R, config: CsvConfig) -> Result<AsyncCsvRows<R>, ConnectorError> {
        let mut rows = AsyncCsvRows {
            reader: tokio::io::BufReader::new(reader),
            decoder: Decoder {
                config: config.clone(),
                comma: false,
                reader: csv_reader(b','),
                index: BTreeMap::new(),
                header_currency: BTreeMap::new(),
                seen: HashMap::new(),
            },
            assembler: Assembler::default(),
            line: 0,
            offset: 0,
            buf: Vec::new(),
            done: false,
        };
        let header = loop {
            let n = read_line_async(&mut rows.reader, &mut rows.buf)
                .await
                .map_err(io_error)?;
            rows.offset += n as u64;
            if n == 0 {
                break rows.assembler.finish();
            }
            rows.line += 1;
            if let Some(l) = rows.assembler.push(rows.line, &rows.buf) {
                break Some(l);
            }
        };
        rows.decoder = match header {
            Some(Logical::Record { line, bytes }) => Decoder::from_header(config, line, &bytes)?,
            Some(Logical::TooLong { line, .. }) => {
                return Err(ConnectorError::bad_data(
                    Location::line(line),
                    "header too long",
                ));
            }
            None => {
                return Err(ConnectorError::bad_data(
                    Location::line(1),
                    "empty file: no header",
                ));
            }
        };
        Ok(rows)
    }

    /// The next row; `None` at the end of the input.
    pub async fn next(&mut self) -> Option<Result<Row, ConnectorError>> {
        while !self.done {
            match read_line_async(&mut self.reader, &mut self.buf).await {
                Err(e) => {
                    self.done = true;
                    return Some(Err(io_error(e)));
                }
                Ok(0) => {
                    self.done = true;
                    return self.assembler.finish().map(|l| Ok(self.decoder.row(l)));
                }
                Ok(n) => {
                    self.offset += n as u64;
                    self.line += 1;
                    if let Some(l) = self.assembler.push(self.line, &self.buf) {
                        return Some(Ok(self.decoder.row(l)));
                    }
                }
            }
        }
        None
    }

    /// Bytes consumed so far, header included.
    fn position(&self) -> (u64, u64) {
        (self.offset, self.line)
    }
}

impl<R: AsyncRead + Unpin> AsyncCsvRows<R> {
    /// Reads on to `offset` (a position [`TimesheetCsvFile`] saved, at the start of a record),
    /// reading the records before it so that identical rows after it keep their numbers.
    async fn skip_to(&mut self, offset: u64) -> Result<(), ConnectorError> {
        while self.offset < offset && !self.done {
            match self.next().await {
                None => break,
                Some(Err(e)) => return Err(e),
                Some(Ok(_)) => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The file source
// ---------------------------------------------------------------------------------------------

/// Where a file pull resumes: the byte after the last record read and the line it ended on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    offset: u64,
    line: u64,
}

/// A [`Source`] reading an export file page by page. Each pull opens the file, reads the header,
/// reads on to the cursor (counting identical rows, so derived keys stay the same whatever the
/// page size) and returns the next `page_size` records (changes, rejects and skipped rows).
#[derive(Debug, Clone)]
pub struct TimesheetCsvFile {
    path: PathBuf,
    config: CsvConfig,
}

impl TimesheetCsvFile {
    /// A source over the file at `path`.
    pub fn new(path: impl Into<PathBuf>, config: CsvConfig) -> TimesheetCsvFile {
        TimesheetCsvFile {
            path: path.into(),
            config,
        }
    }
}

impl Connector for TimesheetCsvFile {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(self.config.system.clone())
            .page_size(500, 10_000)
            .produces([RecordKind::TimeEntry, RecordKind::Expense])
    }
}

#[async_trait]
impl Source for TimesheetCsvFile {
    async fn pull(
        &self,
        cursor: Option<&Cursor>,
        page_size: usize,
    ) -> Result<Page<Change>, ConnectorError> {
        let file = tokio::fs::File::open(&self.path).await.map_err(io_error)?;
        let mut rows = AsyncCsvRows::new(file, self.config.clone()).await?;
        if let Some(c) = cursor {
            let at: Position = c.state()?;
            rows.skip_to(at.offset).await?;
        }
        let mut items = Vec::new();
        let mut rejected = Vec::new();
        let mut read = 0;
        let page_size = page_size.max(1);
        while read < page_size {
            match rows.next().await {
                None => break,
                Some(Err(e)) => return Err(e),
                Some(Ok(row)) => {
                    read += 1;
                    match row {
                        Row::Change(c) => items.push(c),
                        Row::Rejected(r) => rejected.push(r),
                        Row::Skipped { .. } => {}
                    }
                }
            }
        }
        let (offset, line) = rows.position();
        // More follow unless the reader met the end of the file.
        let has_more = !rows.done && rows.next().await.is_some();
        let cursor = Cursor::from_state(&Position { offset, line })?;
        Ok(Page::new(items, Some(cursor), has_more).with_rejected(rejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_in_decimals_or_minutes() {
        let hours = |t: &str| parse_span(t, false).map(|(h, _)| h);
        assert_eq!(hours("7.5"), Some(Decimal::new(75, 1)));
        assert_eq!(hours("7,5"), Some(Decimal::new(75, 1)));
        assert_eq!(hours("7:30"), Some(Decimal::new(75, 1)));
        assert_eq!(hours("0:20"), Some(Decimal::new(3333, 4)));
        assert_eq!(hours("1:75"), None);
        assert_eq!(hours("x"), None);
        assert_eq!(hours("1:-5"), None);
        assert_eq!(
            parse_span("00:00:20", false),
            Some((Decimal::new(56, 4), Some(20)))
        );
        assert_eq!(parse_span("25:61:00", false), None);
    }

    #[test]
    fn numbers_in_both_styles() {
        assert_eq!(
            parse_number("1.234,50", true),
            Some(Decimal::new(123450, 2))
        );
        assert_eq!(parse_number("1,5", true), Some(Decimal::new(15, 1)));
        assert_eq!(parse_number("1.5", true), Some(Decimal::new(15, 1)));
        assert_eq!(parse_number("1.234", true), Some(Decimal::new(1234, 0)));
        assert_eq!(
            parse_number("1,234.50", false),
            Some(Decimal::new(123450, 2))
        );
        assert_eq!(parse_number("150.0", false), Some(Decimal::new(1500, 1)));
        assert_eq!(parse_number("1.2.3", false), None);
        assert_eq!(parse_number("12,34.5", false), None);
        assert_eq!(parse_number("", true), None);
    }

    #[test]
    fn currencies_and_delimiters() {
        assert_eq!(parse_currency("Euro - EUR"), Some(Currency::EUR));
        assert_eq!(parse_currency("eur"), Some(Currency::EUR));
        assert_eq!(parse_currency("US Dollar - USD"), Some(Currency::USD));
        assert_eq!(parse_currency("Euro"), None);
        assert_eq!(
            header_currency("Amount (EUR)"),
            ("Amount", Some(Currency::EUR))
        );
        assert_eq!(header_currency("Amount ()"), ("Amount", None));
        assert_eq!(sniff_delimiter(b"Datum;Notiz \"a,b\";Stunden"), b';');
        assert_eq!(sniff_delimiter(b"Date,Notes,Hours"), b',');
        assert_eq!(sniff_delimiter(b"Date\tNotes\tHours"), b'\t');
    }

    #[test]
    fn quoted_fields_span_lines() {
        let mut a = Assembler::default();
        assert!(a.push(2, b"T-1,\"two\n").is_none());
        match a.push(3, b"lines\",x\n") {
            Some(Logical::Record { line, bytes }) => {
                assert_eq!(line, 2);
                let f = split(&mut csv_reader(b','), trim_line_end(&bytes)).unwrap();
                assert_eq!(f, ["T-1", "two\nlines", "x"]);
            }
            _ => panic!("no record"),
        }
        assert_eq!(
            split(&mut csv_reader(b','), b"a,\"b \"\"c\"\"\",").unwrap(),
            ["a", "b \"c\"", ""]
        );
    }
}
