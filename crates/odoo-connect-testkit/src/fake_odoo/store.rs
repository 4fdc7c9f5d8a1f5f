//! The in-memory database: one table of rows per model, id sequences, named sequences, the
//! clock and the users' credentials.
//!
//! A call runs as one transaction: [`Db::transaction`] restores the previous state when the call
//! fails, except the id sequences, which, as PostgreSQL's, never go back (a failed `create`
//! consumes its ids, as on a real server).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};

/// A stored record: storage field name to value (`null` for empty).
pub(crate) type Row = Map<String, Value>;

/// The rows of one model. Rows and tables are shared copy-on-write, so that the snapshot a
/// transaction takes costs a pointer per table and a write copies only what it changes.
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
}

/// The `ir.model.data` rows by `module` and `name`, and the shape of the table (row count,
/// last id) it was built from: a table of another shape rebuilds it.
#[derive(Debug, Clone, Default)]
pub(crate) struct XmlIdIndex {
    by_name: HashMap<(String, String), i64>,
    shape: (usize, Option<i64>),
}

/// The index of a database; a copy of the database (a transaction's snapshot) gets its own.
#[derive(Debug, Default)]
pub(crate) struct XmlIdCache(Mutex<Option<Arc<XmlIdIndex>>>);

impl Clone for XmlIdCache {
    fn clone(&self) -> Self {
        XmlIdCache(Mutex::new(
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        ))
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
                let from = index.shape.1;
                let index_mut = Arc::make_mut(index);
                for (id, r) in table.rows.iter().filter(|(id, _)| from < Some(**id)) {
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
            if let Some(r) = table.rows.get(&id) {
                if text_of(r, "module") == module && text_of(r, "name") == name {
                    return Some(id);
                }
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
        let table = self.table_mut(model);
        table.rows.insert(id, Arc::new(row));
        if table.next_id <= id {
            table.next_id = id + 1;
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
    /// sequences.
    pub(crate) fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let snapshot = self.clone();
        match f(self) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.restore(snapshot);
                Err(e)
            }
        }
    }

    /// Goes back to `snapshot`, keeping the id sequences and the clock where they are.
    pub(crate) fn restore(&mut self, snapshot: Db) {
        let sequences: Vec<(String, i64)> = self
            .tables
            .iter()
            .map(|(k, t)| (k.clone(), t.next_id))
            .collect();
        let now = self.now;
        *self = snapshot;
        for (model, next) in sequences {
            let table = self.table_mut(&model);
            table.next_id = table.next_id.max(next);
        }
        self.now = now;
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
}
