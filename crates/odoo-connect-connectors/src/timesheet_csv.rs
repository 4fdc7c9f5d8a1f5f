//! Approved time and expense entries from a CSV export, as PSA and timesheet tools write it.
//!
//! The file has a header line and one entry per record: time entries (employee, date, hours,
//! project, role) and, when a `type` column says `expense`, expenses (amount, currency, category).
//! Columns are found by header name, ignoring case, spaces and underscores, with the usual aliases
//! ([`Field::aliases`]: `Notes` for the description, `Person` for the employee, ...); columns not
//! named are ignored. Rows whose status is not approved are skipped; when there is no status
//! column, the export is taken as approved entries only.
//!
//! Reading is streamed: one logical record (a line, or several when a quoted field holds line
//! breaks) is in memory at a time, at most [`MAX_RECORD_BYTES`] long. A row that cannot be read
//! (a bad date, hours out of range, a missing value) becomes a [`Rejected`] with its line number,
//! column and raw text, and the rows after it go on.
//!
//! - [`CsvRows`] reads any [`std::io::Read`], [`AsyncCsvRows`] any [`tokio::io::AsyncRead`], one
//!   [`Row`] at a time.
//! - [`TimesheetCsvFile`] is a [`Source`] over a file: its cursor is a byte offset and a line
//!   number, so a pull resumes exactly where the last one stopped, and rows appended to the file
//!   later come in the next pull.
//!
//! ```
//! use odoo_connect_connectors::timesheet_csv::{CsvConfig, CsvRows, Row};
//!
//! let csv = "\
//! Entry ID,Date,Employee,Project,Role,Hours,Notes,Status
//! T-1,2025-03-03,jane@firm.example,PRJ-7,consultant,7.5,Workshop,approved
//! T-2,2025-03-03,joe@firm.example,PRJ-7,consultant,twelve,Slides,approved
//! T-3,2025-03-04,jane@firm.example,PRJ-7,consultant,2,Review,submitted
//! ";
//! let rows: Vec<Row> = CsvRows::new(csv.as_bytes(), CsvConfig::new("psa"))?
//!     .collect::<Result<_, _>>()?;
//! assert!(matches!(&rows[0], Row::Change(c) if c.id.as_str().starts_with("psa:time_entry:T-1:")));
//! assert!(matches!(&rows[1], Row::Rejected(r) if r.location.line == Some(3)));
//! assert!(matches!(&rows[2], Row::Skipped { line: 4, .. }));
//! # Ok::<(), odoo_connect_connectors::ConnectorError>(())
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt};

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
    /// The entry's id in the exporting tool (required: it keys the entry).
    Id,
    /// `time` or `expense` (optional: time when absent).
    Type,
    /// The day worked or spent.
    Date,
    /// The employee (a key such as an e-mail address).
    Employee,
    /// The project's code.
    Project,
    /// The task (optional).
    Task,
    /// The role worked in (time entries).
    Role,
    /// Hours, as a decimal (`7.5`, `7,5`) or `h:mm` (`7:30`) (time entries).
    Hours,
    /// What was done or bought.
    Description,
    /// Whether the client is billed (optional, default yes).
    Billable,
    /// The approval status (optional).
    Status,
    /// The amount spent, taxes included (expenses).
    Amount,
    /// The amount's currency (expenses; optional, [`CsvConfig::currency`] when absent).
    Currency,
    /// The expense category (expenses).
    Category,
    /// When the entry last changed, RFC 3339 or `YYYY-MM-DD HH:MM:SS` UTC (optional).
    UpdatedAt,
}

impl Field {
    const ALL: [Field; 15] = [
        Field::Id,
        Field::Type,
        Field::Date,
        Field::Employee,
        Field::Project,
        Field::Task,
        Field::Role,
        Field::Hours,
        Field::Description,
        Field::Billable,
        Field::Status,
        Field::Amount,
        Field::Currency,
        Field::Category,
        Field::UpdatedAt,
    ];

    /// The header names recognised, compared without case, spaces, `_` or `-`.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Id => &["id", "entryid", "timeentryid", "expenseid", "externalid"],
            Field::Type => &["type", "kind", "entrytype"],
            Field::Date => &["date", "spentdate", "day", "workdate"],
            Field::Employee => &["employee", "employeeemail", "email", "person", "user"],
            Field::Project => &["project", "projectcode", "projectkey", "projectid"],
            Field::Task => &["task", "taskcode", "taskkey"],
            Field::Role => &["role", "roles", "position"],
            Field::Hours => &["hours", "duration", "quantity", "time"],
            Field::Description => &["description", "notes", "note", "comment"],
            Field::Billable => &["billable", "isbillable"],
            Field::Status => &["status", "approval", "approvalstatus", "approved"],
            Field::Amount => &["amount", "cost", "total"],
            Field::Currency => &["currency", "currencycode"],
            Field::Category => &["category", "expensecategory"],
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

/// How to read an export.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CsvConfig {
    /// The exporting system's name, for [`ExternalRef`]s and change ids (`psa`, `harvest`, ...).
    pub system: String,
    /// The field delimiter (default `,`).
    pub delimiter: u8,
    /// Date formats tried in order (default `%Y-%m-%d`, then `%d/%m/%Y`).
    pub date_formats: Vec<String>,
    /// The currency of expenses without a currency column.
    pub currency: Currency,
    /// Prefix of canonical keys (`<prefix>-<id>`; default the system's name).
    pub key_prefix: String,
    /// Header names that override the aliases for a field.
    pub columns: BTreeMap<Field, String>,
}

impl CsvConfig {
    /// Defaults for an export from `system`.
    pub fn new(system: impl Into<String>) -> CsvConfig {
        let system = system.into();
        CsvConfig {
            key_prefix: system.clone(),
            system,
            delimiter: b',',
            date_formats: vec!["%Y-%m-%d".into(), "%d/%m/%Y".into()],
            currency: Currency::EUR,
            columns: BTreeMap::new(),
        }
    }

    /// Sets the delimiter (`b';'` for many European exports).
    pub fn delimiter(mut self, delimiter: u8) -> CsvConfig {
        self.delimiter = delimiter;
        self
    }

    /// Sets the date formats tried, in order (chrono's `strftime` syntax).
    pub fn date_formats<I: IntoIterator<Item = S>, S: Into<String>>(mut self, f: I) -> CsvConfig {
        self.date_formats = f.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the default expense currency.
    pub fn currency(mut self, currency: Currency) -> CsvConfig {
        self.currency = currency;
        self
    }

    /// Reads `field` from the column named `header`.
    pub fn column(mut self, field: Field, header: impl Into<String>) -> CsvConfig {
        self.columns.insert(field, header.into());
        self
    }
}

/// One record of the export, read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Row {
    /// An approved entry.
    Change(Change),
    /// A row that could not be read: dead-letter it.
    Rejected(Rejected),
    /// A row left out on purpose (not approved).
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

/// Splits one complete record into fields.
fn split(record: &[u8], delimiter: u8) -> Result<Vec<String>, String> {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
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

/// The header's columns and the rules to read a row.
#[derive(Debug, Clone)]
struct Decoder {
    config: CsvConfig,
    index: BTreeMap<Field, usize>,
}

impl Decoder {
    fn from_header(config: CsvConfig, line: u64, record: &[u8]) -> Result<Decoder, ConnectorError> {
        let record = record.strip_prefix(b"\xef\xbb\xbf").unwrap_or(record);
        let names = split(trim_line_end(record), config.delimiter)
            .map_err(|e| ConnectorError::bad_data(Location::line(line), e))?;
        let names: Vec<String> = names.iter().map(|n| normalise(n)).collect();
        let mut index = BTreeMap::new();
        for field in Field::ALL {
            let found = match config.columns.get(&field) {
                Some(header) => names.iter().position(|n| *n == normalise(header)),
                None => field
                    .aliases()
                    .iter()
                    .find_map(|a| names.iter().position(|n| n == a)),
            };
            if let Some(i) = found {
                index.insert(field, i);
            }
        }
        for required in [Field::Id, Field::Date, Field::Employee, Field::Project] {
            if !index.contains_key(&required) {
                return Err(ConnectorError::bad_data(
                    Location::line(line).field(required.name()),
                    format!(
                        "the header has no {} column (one of: {})",
                        required.name(),
                        required.aliases().join(", ")
                    ),
                ));
            }
        }
        Ok(Decoder { config, index })
    }

    fn row(&self, logical: Logical) -> Row {
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
        let fields = match split(text, self.config.delimiter) {
            Ok(f) => f,
            Err(e) => return Row::Rejected(Rejected::new(Location::line(line), e, raw)),
        };
        let version = format!("{:016x}", fnv1a(text));
        match self.decode(&fields, &version) {
            Ok(Some(change)) => Row::Change(change),
            Ok(None) => Row::Skipped {
                line,
                reason: "not approved".into(),
            },
            Err((field, reason)) => {
                let mut location = Location::line(line).field(field);
                if let Some(id) = self.get(&fields, Field::Id) {
                    location = location.in_record(id);
                }
                Row::Rejected(Rejected::new(location, reason, raw))
            }
        }
    }

    fn get<'a>(&self, fields: &'a [String], field: Field) -> Option<&'a str> {
        self.index
            .get(&field)
            .and_then(|i| fields.get(*i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn required<'a>(
        &self,
        fields: &'a [String],
        field: Field,
    ) -> Result<&'a str, (String, String)> {
        self.get(fields, field)
            .ok_or_else(|| (field.name().to_owned(), "missing value".to_owned()))
    }

    fn date(&self, text: &str) -> Option<NaiveDate> {
        self.config
            .date_formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
    }

    /// `None` for a row that is not approved.
    fn decode(&self, fields: &[String], version: &str) -> Result<Option<Change>, (String, String)> {
        let bad = |field: Field, why: String| (field.name().to_owned(), why);
        if let Some(status) = self.get(fields, Field::Status) {
            let approved = matches!(
                status.to_ascii_lowercase().as_str(),
                "approved" | "yes" | "y" | "true" | "1" | "validated"
            );
            if !approved {
                return Ok(None);
            }
        }
        let id = self.required(fields, Field::Id)?;
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
        let employee = EmployeeKey::new(self.required(fields, Field::Employee)?)
            .map_err(|e| bad(Field::Employee, e.to_string()))?;
        let project = ProjectKey::new(self.required(fields, Field::Project)?)
            .map_err(|e| bad(Field::Project, e.to_string()))?;
        let description = self
            .get(fields, Field::Description)
            .unwrap_or("")
            .to_owned();
        let billable = match self
            .get(fields, Field::Billable)
            .map(str::to_ascii_lowercase)
        {
            None => true,
            Some(b) if matches!(b.as_str(), "yes" | "y" | "true" | "1") => true,
            Some(b) if matches!(b.as_str(), "no" | "n" | "false" | "0") => false,
            Some(b) => return Err(bad(Field::Billable, format!("`{b}` is not yes or no"))),
        };
        let updated_at = match self.get(fields, Field::UpdatedAt) {
            None => date.and_time(chrono::NaiveTime::MIN).and_utc(),
            Some(t) => parse_time(t)
                .ok_or_else(|| bad(Field::UpdatedAt, format!("`{t}` is not a time")))?,
        };
        let key = format!("{}-{id}", self.config.key_prefix);
        let external = ExternalRef::new(self.config.system.clone(), id);
        let (record, kind) = if expense {
            let amount_text = self.required(fields, Field::Amount)?;
            let amount = parse_decimal(amount_text)
                .ok_or_else(|| bad(Field::Amount, format!("`{amount_text}` is not an amount")))?;
            let currency = match self.get(fields, Field::Currency) {
                Some(c) => Currency::from_str(&c.to_ascii_uppercase())
                    .map_err(|e| bad(Field::Currency, e.to_string()))?,
                None => self.config.currency,
            };
            let category = self.required(fields, Field::Category)?;
            let mut e = Expense::new(
                ExpenseKey::new(key).map_err(|e| bad(Field::Id, e.to_string()))?,
                employee,
                project,
                date,
                category,
                description,
                Money::new(amount, currency),
            );
            e.refs.insert(self.config.system.clone(), id);
            e.billable = billable;
            e.approval = ApprovalState::Approved;
            if let Err(errors) = e.validate() {
                return Err(validation(errors));
            }
            (Record::from(e), RecordKind::Expense)
        } else {
            let role = Role::new(self.required(fields, Field::Role)?)
                .map_err(|e| bad(Field::Role, e.to_string()))?;
            let hours_text = self.required(fields, Field::Hours)?;
            let hours = parse_hours(hours_text).ok_or_else(|| {
                bad(
                    Field::Hours,
                    format!("`{hours_text}` is not a number of hours"),
                )
            })?;
            let mut t = TimeEntry::new(
                TimeEntryKey::new(key).map_err(|e| bad(Field::Id, e.to_string()))?,
                employee,
                project,
                role,
                date,
                hours,
                description,
            );
            if let Some(task) = self.get(fields, Field::Task) {
                t.task = Some(TaskKey::new(task).map_err(|e| bad(Field::Task, e.to_string()))?);
            }
            t.refs.insert(self.config.system.clone(), id);
            t.billable = billable;
            t.approval = ApprovalState::Approved;
            if let Err(errors) = t.validate() {
                return Err(validation(errors));
            }
            (Record::from(t), RecordKind::TimeEntry)
        };
        Ok(Some(Change::new(
            ChangeId::of(&external, kind, version),
            external,
            updated_at,
            record,
        )))
    }
}

fn validation(errors: odoo_connect_canonical::ValidationErrors) -> (String, String) {
    let field = errors
        .problems()
        .first()
        .map(|p| p.path.clone())
        .unwrap_or_default();
    (field, errors.to_string())
}

/// A decimal written with `.` or `,` as the decimal separator.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_str(&text.replace(',', ".")).ok())
}

/// Hours as a decimal or `h:mm`.
fn parse_hours(text: &str) -> Option<Decimal> {
    if let Some((h, m)) = text.split_once(':') {
        let h: u32 = h.trim().parse().ok()?;
        let m: u32 = m.trim().parse().ok()?;
        if m >= 60 {
            return None;
        }
        // Minutes as a fraction of an hour, kept to the 4 decimals a time entry holds.
        let minutes = (Decimal::from(m) / Decimal::from(60)).round_dp(4);
        return Some(Decimal::from(h) + minutes);
    }
    parse_decimal(text)
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
                index: BTreeMap::new(),
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

impl<R: AsyncRead + AsyncSeek + Unpin> AsyncCsvRows<R> {
    /// Moves to `offset`, which starts line `line + 1` (a position [`TimesheetCsvFile`] saved).
    async fn seek_to(&mut self, offset: u64, line: u64) -> Result<(), ConnectorError> {
        if offset > self.offset {
            self.reader
                .seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(io_error)?;
            self.offset = offset;
            self.line = line;
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
/// seeks to the cursor and reads `page_size` records (changes, rejects and skipped rows).
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
            rows.seek_to(at.offset, at.line).await?;
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
        assert_eq!(parse_hours("7.5"), Some(Decimal::new(75, 1)));
        assert_eq!(parse_hours("7,5"), Some(Decimal::new(75, 1)));
        assert_eq!(parse_hours("7:30"), Some(Decimal::new(75, 1)));
        assert_eq!(parse_hours("0:20"), Some(Decimal::new(3333, 4)));
        assert_eq!(parse_hours("1:75"), None);
        assert_eq!(parse_hours("x"), None);
    }

    #[test]
    fn quoted_fields_span_lines() {
        let mut a = Assembler::default();
        assert!(a.push(2, b"T-1,\"two\n").is_none());
        match a.push(3, b"lines\",x\n") {
            Some(Logical::Record { line, bytes }) => {
                assert_eq!(line, 2);
                let f = split(trim_line_end(&bytes), b',').unwrap();
                assert_eq!(f, ["T-1", "two\nlines", "x"]);
            }
            _ => panic!("no record"),
        }
        assert_eq!(
            split(b"a,\"b \"\"c\"\"\",", b',').unwrap(),
            ["a", "b \"c\"", ""]
        );
    }
}
