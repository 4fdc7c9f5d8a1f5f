//! The in-memory database: one table of rows per model, id sequences, named sequences, the
//! clock and the users' credentials.
//!
//! A call runs as one transaction: [`Db::transaction`] restores the previous state when the call
//! fails, except the id sequences, which, as PostgreSQL's, never go back (a failed `create`
//! consumes its ids, as on a real server).
//!
//! A transaction keeps an undo journal of the rows it changes rather than a copy of the tables:
//! its cost follows what the call writes, not how many records the database holds.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// A stored record: storage field name to value (`null` for empty).
pub(crate) type Row = Map<String, Value>;

/// The rows of one model. Rows are shared, so that the undo journal of a transaction keeps a
/// changed row's previous version for the cost of a pointer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub(crate) rows: BTreeMap<i64, Arc<Row>>,
    pub(crate) next_id: i64,
}

/// Login data of a user.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub(crate) uid: i64,
    pub(crate) login: String,
    pub(crate) password: String,
    pub(crate) api_key: String,
}

/// The whole database.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub(crate) tables: BTreeMap<String, Arc<Table>>,
    /// The server clock (UTC); it moves one second forward per writing call.
    pub(crate) now: NaiveDateTime,
    /// Named number sequences (`sale.order`, `INV/2026`, ...): next number.
    pub(crate) sequences: BTreeMap<String, i64>,
    pub(crate) credentials: Vec<Credential>,
    /// `ir.model.data` rows by external id, so that `load` does not scan the table per row.
    pub(crate) xmlids: XmlIdCache,
    /// The rows changed since the outermost open transaction began, with what they held
    /// before (`None`: the row did not exist); empty outside a transaction.
    journal: Vec<Undo>,
    /// Whether a transaction is open (changes go to the journal).
    journaling: bool,
    /// `now` as Odoo writes it, kept while the clock stands still (a call writes it per record).
    now_text: RefCell<Option<(NaiveDateTime, String)>>,
    /// Records created or written through the ORM since the start, rolled back or not: what a
    /// call did, for [`super::FakeOdoo::set_record_cost`].
    pub(crate) records_touched: u64,
    /// The next calls of `load`, `create` and `write` that a concurrent transaction rolls back
    /// ([`super::FakeOdoo::fail_with_serialization`]).
    pub(crate) serialization_failures: usize,
    /// Rights taken away: (uid, model, operation) whose calls Odoo answers with `AccessError`
    /// ([`super::FakeOdoo::deny`]).
    pub(crate) denied: Vec<(i64, String, &'static str)>,
}

/// A row as it was before a change in a transaction.
#[derive(Debug, Clone)]
struct Undo {
    model: String,
    id: i64,
    before: Option<Arc<Row>>,
}

/// Where [`Db::rollback_to`] takes the database back to: a point in the journal, and the
/// named sequences and credentials of that time (the id sequences and the clock go on).
#[derive(Debug)]
pub(crate) struct Savepoint {
    journal_len: usize,
    sequences: BTreeMap<String, i64>,
    credentials: Vec<Credential>,
}

/// The `ir.model.data` rows by `module` and `name`, and the shape of the table (row count,
/// last id) it was built from: a table of another shape rebuilds it.
#[derive(Debug, Clone, Default)]
pub(crate) struct XmlIdIndex {
    by_name: HashMap<(String, String), i64>,
    shape: (usize, Option<i64>),
}

/// The index of a database; a copy of the database starts without one and builds its own when
/// it is used (sharing it would make the first external id either copy adds copy the whole
/// index, tens of thousands of names).
#[derive(Debug, Default)]
pub(crate) struct XmlIdCache(Mutex<Option<Arc<XmlIdIndex>>>);

impl Clone for XmlIdCache {
    fn clone(&self) -> Self {
        XmlIdCache::default()
    }
}

const IR_MODEL_DATA: &str = "ir.model.data";

fn shape_of(table: &Table) -> (usize, Option<i64>) {
    (table.rows.len(), table.rows.keys().next_back().copied())
}

fn text_of<'r>(row: &'r Row, field: &str) -> &'r str {
    row.get(field).and_then(Value::as_str).unwrap_or_default()
}

impl Db {
    pub(crate) fn new(now: NaiveDateTime) -> Db {
        Db {
            tables: BTreeMap::new(),
            now,
            sequences: BTreeMap::new(),
            credentials: Vec::new(),
            xmlids: XmlIdCache::default(),
            journal: Vec::new(),
            journaling: false,
            now_text: RefCell::new(None),
            records_touched: 0,
            serialization_failures: 0,
            denied: Vec::new(),
        }
    }

    /// The clock as Odoo writes it (`YYYY-MM-DD HH:MM:SS`).
    pub(crate) fn now_text(&self) -> String {
        let mut cached = self.now_text.borrow_mut();
        match &*cached {
            Some((at, text)) if *at == self.now => text.clone(),
            _ => {
                let text = fmt_datetime(self.now);
                *cached = Some((self.now, text.clone()));
                text
            }
        }
    }

    /// Notes what a row held before a change, when a transaction is open.
    fn journal_row(&mut self, model: &str, id: i64) {
        if self.journaling {
            let before = self
                .tables
                .get(model)
                .and_then(|t| t.rows.get(&id))
                .cloned();
            self.journal.push(Undo {
                model: model.to_owned(),
                id,
                before,
            });
        }
    }

    /// The index of `ir.model.data`, brought up to date: rows added at the end of the table
    /// since it was built are indexed (a row keeps the first id of its name), any other change
    /// of the table's shape rebuilds it.
    fn xmlid_index(&self, table: &Table, rebuild: bool) -> Arc<XmlIdIndex> {
        let shape = shape_of(table);
        let mut cache = self.xmlids.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = cache.as_mut().filter(|_| !rebuild) {
            if index.shape == shape {
                return index.clone();
            }
            let added = match index.shape.1 {
                Some(last) => table
                    .rows
                    .range((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                    .count(),
                None => table.rows.len(),
            };
            if shape.0 == index.shape.0 + added {
                let from = match index.shape.1 {
                    Some(last) => std::ops::Bound::Excluded(last),
                    None => std::ops::Bound::Unbounded,
                };
                let index_mut = Arc::make_mut(index);
                // Only the rows after the last one indexed: a walk of the whole table per new
                // row made each `load` quadratic in the size of `ir.model.data`.
                for (id, r) in table.rows.range((from, std::ops::Bound::Unbounded)) {
                    index_mut
                        .by_name
                        .entry((
                            text_of(r, "module").to_owned(),
                            text_of(r, "name").to_owned(),
                        ))
                        .or_insert(*id);
                }
                index_mut.shape = shape;
                return index.clone();
            }
        }
        let mut by_name = HashMap::with_capacity(table.rows.len());
        for (id, r) in &table.rows {
            by_name
                .entry((
                    text_of(r, "module").to_owned(),
                    text_of(r, "name").to_owned(),
                ))
                .or_insert(*id);
        }
        let built = Arc::new(XmlIdIndex { by_name, shape });
        *cache = Some(built.clone());
        built
    }

    /// The `ir.model.data` row of `module.name` (the first, should there be several).
    ///
    /// Answers from an index; a row whose module or name was written through the ORM is seen
    /// once the table gains or loses a row, and a hit whose row no longer has the name rebuilds
    /// the index.
    pub(crate) fn xmlid_row(&self, module: &str, name: &str) -> Option<i64> {
        let table = self.table(IR_MODEL_DATA)?;
        let key = (module.to_owned(), name.to_owned());
        for rebuild in [false, true] {
            let index = self.xmlid_index(table, rebuild);
            let id = *index.by_name.get(&key)?;
            if let Some(r) = table.rows.get(&id)
                && text_of(r, "module") == module
                && text_of(r, "name") == name
            {
                return Some(id);
            }
        }
        None
    }

    /// Whether a row of `ir.model.data` other than `id` is named `module.name`.
    pub(crate) fn xmlid_taken_by_other(&self, module: &str, name: &str, id: i64) -> bool {
        self.xmlid_row(module, name)
            .is_some_and(|first| first != id)
            || self.table(IR_MODEL_DATA).is_some_and(|t| {
                // `id` holds the first row of the name: a later one would be the duplicate.
                self.xmlid_row(module, name) == Some(id)
                    && t.rows
                        .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded))
                        .any(|(_, r)| text_of(r, "module") == module && text_of(r, "name") == name)
            })
    }

    pub(crate) fn table(&self, model: &str) -> Option<&Table> {
        self.tables.get(model).map(|t| &**t)
    }

    pub(crate) fn table_mut(&mut self, model: &str) -> &mut Table {
        Arc::make_mut(self.tables.entry(model.to_string()).or_insert_with(|| {
            Arc::new(Table {
                rows: BTreeMap::new(),
                next_id: 1,
            })
        }))
    }

    pub(crate) fn row(&self, model: &str, id: i64) -> Option<&Row> {
        self.tables
            .get(model)
            .and_then(|t| t.rows.get(&id))
            .map(|r| &**r)
    }

    pub(crate) fn row_mut(&mut self, model: &str, id: i64) -> Option<&mut Row> {
        if !self.exists(model, id) {
            return None;
        }
        self.journal_row(model, id);
        self.tables
            .get_mut(model)
            .and_then(|t| Arc::make_mut(t).rows.get_mut(&id))
            .map(Arc::make_mut)
    }

    pub(crate) fn exists(&self, model: &str, id: i64) -> bool {
        self.row(model, id).is_some()
    }

    /// Ids of a model in id order.
    pub(crate) fn ids(&self, model: &str) -> Vec<i64> {
        self.tables
            .get(model)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Takes the next id of a model.
    pub(crate) fn next_id(&mut self, model: &str) -> i64 {
        let table = self.table_mut(model);
        let id = table.next_id.max(1);
        table.next_id = id + 1;
        id
    }

    /// Inserts a row with a given id (seeding), keeping the sequence after it.
    pub(crate) fn insert(&mut self, model: &str, id: i64, row: Row) {
        self.journal_row(model, id);
        let table = self.table_mut(model);
        table.rows.insert(id, Arc::new(row));
        if table.next_id <= id {
            table.next_id = id + 1;
        }
    }

    /// Deletes a row.
    pub(crate) fn remove(&mut self, model: &str, id: i64) {
        if self.exists(model, id) {
            self.journal_row(model, id);
            if let Some(t) = self.tables.get_mut(model) {
                Arc::make_mut(t).rows.remove(&id);
            }
        }
    }

    /// Sets where a model's id sequence continues.
    pub(crate) fn set_next_id(&mut self, model: &str, next: i64) {
        self.table_mut(model).next_id = next;
    }

    /// Takes the next number of a named sequence starting at 1.
    pub(crate) fn next_number(&mut self, name: &str) -> i64 {
        let slot = self.sequences.entry(name.to_string()).or_insert(1);
        let n = *slot;
        *slot = n + 1;
        n
    }

    /// Moves the clock one second forward and returns the new time: every writing call gets
    /// its own, strictly increasing, `write_date`.
    pub(crate) fn tick(&mut self) -> NaiveDateTime {
        self.now = self
            .now
            .checked_add_signed(Duration::seconds(1))
            .unwrap_or(self.now);
        self.now
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.now.date()
    }

    /// Runs `f`; when it fails, restores the database as it was before, except the id
    /// sequences and the clock. Transactions nest: an inner one that fails goes back to where
    /// it began, the outer one may still fail and go back further.
    pub(crate) fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let outermost = !self.journaling;
        let savepoint = self.savepoint();
        let result = f(self);
        if result.is_err() {
            self.rollback_to(savepoint);
        }
        if outermost {
            self.journaling = false;
            self.journal.clear();
        }
        result
    }

    /// Marks the current state so that [`Db::rollback_to`] can return to it; changes are
    /// journaled from now on (until the outermost [`Db::transaction`] ends).
    pub(crate) fn savepoint(&mut self) -> Savepoint {
        self.journaling = true;
        Savepoint {
            journal_len: self.journal.len(),
            sequences: self.sequences.clone(),
            credentials: self.credentials.clone(),
        }
    }

    /// Undoes the row changes made since `savepoint` and restores its named sequences and
    /// credentials; the id sequences and the clock stay where they are.
    pub(crate) fn rollback_to(&mut self, savepoint: Savepoint) {
        let undone = self.journal.len() > savepoint.journal_len;
        while self.journal.len() > savepoint.journal_len {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            if let Some(t) = self.tables.get_mut(&undo.model) {
                let rows = &mut Arc::make_mut(t).rows;
                match undo.before {
                    Some(row) => {
                        rows.insert(undo.id, row);
                    }
                    None => {
                        rows.remove(&undo.id);
                    }
                }
            }
        }
        if undone {
            // Rows of `ir.model.data` may have changed names in place: index them again.
            self.xmlids = XmlIdCache::default();
        }
        self.sequences = savepoint.sequences;
        self.credentials = savepoint.credentials;
    }
}

/// Formats a datetime as Odoo does on the wire.
pub(crate) fn fmt_datetime(dt: NaiveDateTime) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Formats a date as Odoo does on the wire.
pub(crate) fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses `YYYY-MM-DD` (or the date part of a datetime).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Parses `YYYY-MM-DD HH:MM:SS` (a bare date is midnight).
pub(crate) fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok())
        .or_else(|| parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_transactions_roll_back_but_keep_sequences() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap_or_default();
        let mut db = Db::new(start);
        db.insert("res.partner", 1, Row::new());
        let result: Result<(), ()> = db.transaction(|db| {
            let id = db.next_id("res.partner");
            db.insert("res.partner", id, Row::new());
            Err(())
        });
        assert!(result.is_err());
        assert_eq!(db.ids("res.partner"), vec![1]);
        assert_eq!(db.next_id("res.partner"), 3);
        assert!(db.tick() > start);
    }

    #[test]
    fn rollbacks_restore_changed_and_deleted_rows_and_nest() {
        let mut db = Db::new(NaiveDateTime::default());
        let named = |n: &str| -> Row {
            let mut r = Row::new();
            r.insert("name".into(), Value::from(n));
            r
        };
        db.insert("res.partner", 1, named("one"));
        db.insert("res.partner", 2, named("two"));
        let result: Result<(), ()> = db.transaction(|db| {
            if let Some(r) = db.row_mut("res.partner", 1) {
                r.insert("name".into(), Value::from("changed"));
            }
            db.remove("res.partner", 2);
            // An inner savepoint that is kept, then one that is rolled back.
            let kept = db.savepoint();
            db.insert("res.partner", 3, named("three"));
            drop(kept);
            let inner = db.savepoint();
            db.insert("res.partner", 4, named("four"));
            db.rollback_to(inner);
            assert_eq!(db.ids("res.partner"), vec![1, 3]);
            Err(())
        });
        assert!(result.is_err());
        assert_eq!(db.ids("res.partner"), vec![1, 2]);
        assert_eq!(
            db.row("res.partner", 1).and_then(|r| r.get("name")),
            Some(&Value::from("one"))
        );
        assert!(db.journal.is_empty());
        let kept: Result<(), ()> = db.transaction(|db| {
            db.remove("res.partner", 1);
            Ok(())
        });
        assert!(kept.is_ok());
        assert_eq!(db.ids("res.partner"), vec![2]);
        assert!(db.journal.is_empty() && !db.journaling);
    }
}
