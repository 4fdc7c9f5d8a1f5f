//! [`FakeOdoo`]: an in-process HTTP server that answers like a real Odoo (19, 18 or 17).
//!
//! It serves, on `127.0.0.1` and a random port:
//!
//! * `POST /jsonrpc`: services `common` (`version`, `login`, `authenticate`), `db` (`list`,
//!   `server_version`) and `object` (`execute_kw`, `execute`);
//! * `POST /json/2/<model>/<method>` (19 only): bearer API key, named arguments, bare results;
//! * `GET /web/version` and `/json/version` (19), `GET /web/health`,
//!   `POST /web/webclient/version_info`, `POST /web/database/list`;
//! * `GET /doc-bearer/<model>.json` (19): `{"model", "name", "fields", "methods"}`, where
//!   `fields` is what `fields_get` answers and `methods` maps each public method to
//!   `{"api": ["model"|"records"], "signature", "parameters": [{"name", "required"}], "ids"}`;
//! * `/web/dataset/call_kw` answers "session expired" (the fake has no web sessions);
//! * any other route: Odoo's 404 HTML page (other `/json/...` routes: the web client's 303
//!   redirect to `/web/login`).
//!
//! Replies follow the recordings of real 19.0 and 18.0 servers in
//! `odoo-fixtures/`: status codes, envelopes, exception classes, messages and value shapes
//! (many2one as `[id, name]`, `false` for empty values, floats for amounts, UTC datetime
//! strings). Over the API the fake implements the ORM (`search`, `search_read`, `read`,
//! `search_count`, `create`, `write`, `unlink`, `name_search`, `name_create`, `fields_get`,
//! `read_group`, `formatted_read_group` (19), `load`, `web_search_read`, `web_read`,
//! `default_get`, `res.users.context_get`), domains, x2many commands, access rights, record
//! rules per company and the contract-to-cash workflow (`sale.order.action_confirm`,
//! `sale.advance.payment.inv.create_invoices`, `account.move.action_post`,
//! `account.payment.register.action_create_payments`).
//!
//! # Seed data
//!
//! The database (`ps`) starts with a small professional-services company in the shape of Odoo's
//! demo data, with the record ids of the recording: companies 1 "YourCompany" and 2 "My US
//! Company" (both USD), customers such as 9 "Deco Addict", 10 "Gemini Furniture" and 15 "Azure
//! Interior" with their contacts, employees with hourly costs, service products (fixed price,
//! milestones, time and material), projects with tasks and milestones, confirmed sale orders,
//! posted and paid invoices, journals per company and timesheets. Id sequences continue where
//! the recorded database continued (the next partner is 67, the next sale order 29 `S00029`,
//! the next invoice `INV/2026/00010`). The default pricelist 1 "Default" is in USD, EUR
//! (id 125) exists archived, and `ir.module.module` lists the recorded database's modules
//! (see [`FakeOdooBuilder::without_modules`]). [`FakeOdooBuilder::demo_data_only`] starts
//! from Odoo's demo data only, without the firm's own products, orders, invoices, projects
//! and timesheets.
//!
//! Confirming an order does what Odoo's sale_project does: a project per order for the
//! lines tracked in a project (or a copy of the product's project template), a task per
//! `task_in_project` line and a milestone per line delivered by milestones; delivered
//! quantities follow reached milestones and the timesheets whose `so_line` is the line.
//!
//! The clock starts at 2026-11-23 10:00:00 UTC (the recording's "today") and moves one second
//! forward per writing call, so `write_date` strictly increases; see
//! [`FakeOdooBuilder::now`] and [`FakeOdoo::advance_clock`].
//!
//! # Faults
//!
//! [`FakeOdoo::set_latency`], [`FakeOdoo::set_record_cost`], [`FakeOdoo::fail_next`],
//! [`FakeOdoo::fail_next_with`], [`FakeOdoo::fail_with_serialization`] and
//! [`FakeOdoo::drop_reply_after_commit`] change the behaviour of a running server.
//!
//! # Example
//!
//! ```
//! use odoo_connect_fake::FakeOdoo;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = FakeOdoo::start().await;
//! let before = fake.count("res.partner");
//! let body = serde_json::json!({
//!     "jsonrpc": "2.0", "method": "call", "id": 1,
//!     "params": {"service": "object", "method": "execute_kw", "args": [
//!         fake.database(), FakeOdoo::ADMIN_UID, fake.admin_api_key(),
//!         "res.partner", "create", [{"name": "Acme"}]
//!     ]}
//! });
//! let text = reqwest::Client::new()
//!     .post(format!("{}/jsonrpc", fake.url()))
//!     .header("Content-Type", "application/json")
//!     .body(body.to_string())
//!     .send()
//!     .await
//!     .expect("the fake answers")
//!     .text()
//!     .await
//!     .expect("a body");
//! let reply: serde_json::Value = serde_json::from_str(&text).expect("a JSON-RPC envelope");
//! assert_eq!(reply["result"], 67);
//! assert_eq!(fake.count("res.partner"), before + 1);
//! assert_eq!(fake.requests()[0].call.as_deref(), Some("res.partner.create"));
//! fake.shutdown().await;
//! # }
//! ```

mod compute;
mod domain;
mod errors;
mod group;
mod load;
mod methods;
mod models;
mod orm;
mod rpc;
mod schema;
mod seed;
mod server;
mod store;
mod workflows;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use orm::{Ctx, Orm};
use server::{Faults, Shared};
use store::Db;

/// One HTTP request the fake received, for assertions.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// HTTP method (`POST`, `GET`).
    pub http_method: String,
    /// Request path (`/jsonrpc`, `/json/2/res.partner/search_read`).
    pub path: String,
    /// The body: parsed JSON, the raw text when it is not JSON, `null` when empty.
    pub body: Value,
    /// The call, when the request reached one: `model.method` (`res.partner.create`) for
    /// model methods over either protocol, `service.method` (`common.login`) for the other
    /// JSON-RPC services.
    pub call: Option<String>,
    /// HTTP status of the reply; `None` when the connection was dropped without a reply.
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// The method part of [`RecordedRequest::call`] (`create` for `res.partner.create`).
    pub fn method_name(&self) -> Option<&str> {
        self.call.as_deref().and_then(|c| c.rsplit('.').next())
    }

    /// The model part of a model call (`res.partner` for `res.partner.create`).
    pub fn model(&self) -> Option<&str> {
        let call = self.call.as_deref()?;
        let (model, _) = call.rsplit_once('.')?;
        model.contains('.').then_some(model)
    }
}

/// Configures a [`FakeOdoo`] before it starts.
#[derive(Debug, Clone)]
pub struct FakeOdooBuilder {
    version: u8,
    database: String,
    now: NaiveDateTime,
    demo_only: bool,
    without_modules: Vec<String>,
}

impl Default for FakeOdooBuilder {
    fn default() -> Self {
        FakeOdooBuilder {
            version: 19,
            database: "ps".to_string(),
            now: NaiveDate::from_ymd_opt(2026, 11, 23)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default(),
            demo_only: false,
            without_modules: Vec::new(),
        }
    }
}

impl FakeOdooBuilder {
    /// The Odoo major version to behave as: 17, 18 or 19 (the default).
    ///
    /// Before 19: JSON-RPC `error.code` is 200, there is no JSON-2 (its routes redirect to
    /// `/web/login`) and no `/web/version`, `name_search` takes `args` instead of `domain`,
    /// `formatted_read_group` does not exist, `sale.order.line` has `product_uom`/`tax_id`, a
    /// body that is not `application/json` gets 400 instead of 415, and some error texts are
    /// worded as 18.0 words them. 17 also has `project.project.analytic_account_id`,
    /// `account.payment.ref` and `product.template.detailed_type`.
    pub fn version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    /// The database name (default `ps`, the recorded one; the 18.0 recording used `ps18`).
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = name.into();
        self
    }

    /// The server clock at start (UTC, default 2026-11-23 10:00:00).
    pub fn now(mut self, now: NaiveDateTime) -> Self {
        self.now = now;
        self
    }

    /// Starts from Odoo's demo data only, as a freshly installed database with demo data: the
    /// companies, users, customers and contacts, employees (with their demo work emails),
    /// currencies, countries, units, languages, Odoo's demo products (ids 1 to 7, 41 and 56),
    /// task stages and the accounting setup (per company: Sales 1 and 8, Bank 6 and 13 with
    /// their manual payment methods, taxes, payment terms), but none of the firm's own data of
    /// the default seed: no pricelist (a fresh Odoo 19 demo database has none, so an order is
    /// in its company's currency), no cash journal, no products
    /// with the internal references `PS-FIX`, `PS-MIL`, `PS-TM`, `PS-ARC` or `PS-SUP`, no sale
    /// orders, invoices, payments, projects, tasks, milestones or timesheets. Id sequences
    /// continue as in the default seed, so new records get fresh ids, and every workflow works
    /// as usual.
    ///
    /// ```
    /// use odoo_connect_fake::FakeOdoo;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeOdoo::builder().demo_data_only().start().await;
    /// assert_eq!(fake.count("sale.order"), 0);
    /// assert!(fake.record("product.product", 58).is_none());
    /// # }
    /// ```
    pub fn demo_data_only(mut self) -> Self {
        self.demo_only = true;
        self
    }

    /// Seeds these modules as not installed (`ir.module.module` state `uninstalled`), e.g.
    /// `&["sale_timesheet"]` for a database without timesheet invoicing. The fake's behaviour
    /// does not change; only what `ir.module.module` reports.
    pub fn without_modules(mut self, modules: &[&str]) -> Self {
        self.without_modules
            .extend(modules.iter().map(|m| (*m).to_string()));
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When the version is not 17, 18 or 19, or no local port can be bound; use
    /// [`FakeOdooBuilder::try_start`] to get these as errors.
    pub async fn start(self) -> FakeOdoo {
        match self.try_start().await {
            Ok(fake) => fake,
            Err(e) => panic!("FakeOdoo could not start: {e}"),
        }
    }

    /// Starts the server, or tells why it cannot.
    pub async fn try_start(self) -> io::Result<FakeOdoo> {
        if !(17..=19).contains(&self.version) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "FakeOdoo behaves as Odoo 17, 18 or 19, not {}",
                    self.version
                ),
            ));
        }
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let mut db = Db::new(self.now);
        seed::seed(
            &mut db,
            &seed::SeedOptions {
                version: self.version,
                demo_only: self.demo_only,
                without_modules: self.without_modules.clone(),
            },
        );
        let shared = Arc::new(Shared {
            db: Mutex::new(db),
            info: rpc::ServerInfo {
                version: self.version,
                database: self.database.clone(),
            },
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), stop_rx));
        Ok(FakeOdoo {
            shared,
            addr,
            database: self.database,
            stop,
            task: Some(task),
        })
    }
}

/// An in-process fake Odoo server; see the [module documentation](self).
///
/// The server runs on the tokio runtime that started it until [`FakeOdoo::shutdown`] or until
/// the handle is dropped. The handle is `Send + Sync`; its knobs take `&self` and act on the
/// running server.
#[derive(Debug)]
pub struct FakeOdoo {
    shared: Arc<Shared>,
    addr: SocketAddr,
    database: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl FakeOdoo {
    /// Login of the administrator.
    pub const ADMIN_LOGIN: &'static str = "admin";
    /// Password of the administrator.
    pub const ADMIN_PASSWORD: &'static str = "admin";
    /// Uid of the administrator.
    pub const ADMIN_UID: i64 = 2;
    /// Login of the restricted demo user (no access to `ir.config_parameter`, read-only on
    /// companies, users, currencies, journals and other configuration models).
    pub const DEMO_LOGIN: &'static str = "demo";
    /// Password of the demo user.
    pub const DEMO_PASSWORD: &'static str = "demo";
    /// Uid of the demo user.
    pub const DEMO_UID: i64 = 5;

    /// Starts an Odoo 19 fake with the default settings.
    ///
    /// # Panics
    ///
    /// When no local port can be bound.
    pub async fn start() -> FakeOdoo {
        FakeOdooBuilder::default().start().await
    }

    /// A builder to choose the version, database name or clock.
    pub fn builder() -> FakeOdooBuilder {
        FakeOdooBuilder::default()
    }

    /// Base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Database name (`ps` unless configured).
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The Odoo major version the server behaves as.
    pub fn version(&self) -> u8 {
        self.shared.info.version
    }

    /// The administrator's API key (works as a JSON-RPC password and as a JSON-2 bearer).
    pub fn admin_api_key(&self) -> String {
        seed::ADMIN_KEY.to_string()
    }

    /// The demo user's API key.
    pub fn demo_api_key(&self) -> String {
        seed::DEMO_KEY.to_string()
    }

    fn with_db<T>(&self, f: impl FnOnce(&mut Db) -> T) -> T {
        let mut db = self.shared.db.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut db)
    }

    /// Number of stored records of a model (archived ones included); 0 for unknown models.
    pub fn count(&self, model: &str) -> usize {
        self.with_db(|db| db.table(model).map_or(0, |t| t.rows.len()))
    }

    /// Number of records matching a domain, evaluated as the superuser, archived records
    /// included and no company rule applied.
    ///
    /// # Panics
    ///
    /// When the model is unknown or the domain is invalid (a bug in the test).
    pub fn count_where(&self, model: &str, domain: Value) -> usize {
        let schema = schema::Schema::get(self.version());
        self.with_db(|db| {
            let ctx = Ctx {
                uid: orm::SUPERUSER,
                context: serde_json::Map::new(),
                lang: "en_US".into(),
                active_test: false,
                companies: vec![1, 2],
                sudo: true,
            };
            let orm = Orm::new(db, schema, ctx);
            if orm.model(model).is_none() {
                panic!("FakeOdoo::count_where: unknown model {model}");
            }
            match orm.search(model, &domain, Some("id"), 0, None) {
                Ok(ids) => ids.len(),
                Err(e) => panic!("FakeOdoo::count_where: {}: {}", e.name, e.message),
            }
        })
    }

    /// The stored rows of a model, in id order, each with its `id`.
    ///
    /// Values are as stored (storage names are the 19.0 field names): many2one as an id,
    /// many2many as an id list, empty values absent or `null`; one2many and computed fields
    /// are not stored.
    pub fn records(&self, model: &str) -> Vec<Value> {
        self.with_db(|db| {
            db.table(model)
                .map(|t| {
                    t.rows
                        .iter()
                        .map(|(id, row)| {
                            let mut r: serde_json::Map<String, Value> = (**row).clone();
                            r.retain(|k, _| !k.starts_with("__"));
                            r.insert("id".into(), json!(id));
                            Value::Object(r)
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// One stored row (see [`FakeOdoo::records`]).
    pub fn record(&self, model: &str, id: i64) -> Option<Value> {
        self.records(model)
            .into_iter()
            .find(|r| r.get("id").and_then(Value::as_i64) == Some(id))
    }

    /// Number of HTTP requests received, injected failures included.
    pub fn request_count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// The most requests the fake was answering at once since it started or since the last
    /// call, which starts the count again from the requests under way now: to check a
    /// client's concurrency bound (with [`FakeOdoo::set_latency`], so that requests overlap).
    pub fn take_peak_concurrent_requests(&self) -> usize {
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.peak_in_flight.swap(now, Ordering::SeqCst)
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the recorded requests (the count keeps counting).
    pub fn clear_requests(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn faults<T>(&self, f: impl FnOnce(&mut Faults) -> T) -> T {
        let mut faults = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut faults)
    }

    /// Delays every reply by `latency` (zero to stop).
    pub fn set_latency(&self, latency: Duration) {
        self.faults(|f| f.latency = latency);
    }

    /// Delays the reply of each call by `cost` per record it created or wrote (zero to stop),
    /// on top of [`FakeOdoo::set_latency`]: the time a real Odoo spends on each record in its
    /// ORM (defaults, computed fields, constraints, the chatter), which this fake does in
    /// microseconds. Other calls go on meanwhile, as on an Odoo with several workers. With it,
    /// a batch of 500 rows takes as much longer than one row as it does on a real server, so a
    /// comparison of batched and per-record calls (or of a client's own overhead against the
    /// server's time) is not skewed by an in-process server that does its work instantly.
    ///
    /// A `load` counts the records it creates or updates, not the external ids it writes
    /// beside them (Odoo inserts those with one SQL statement, not through the ORM).
    pub fn set_record_cost(&self, cost: Duration) {
        self.faults(|f| f.record_cost = cost);
    }

    /// The next `n` requests get HTTP 502 with an HTML body, as from a proxy in front of Odoo;
    /// nothing is executed.
    pub fn fail_next(&self, n: usize) {
        self.fail_next_with(n, 502, None);
    }

    /// The next `n` requests get `status` (e.g. 429 or 503) with an HTML body and, when given,
    /// a `Retry-After` header in seconds; nothing is executed.
    pub fn fail_next_with(&self, n: usize, status: u16, retry_after: Option<u64>) {
        self.faults(|f| f.fail = (n > 0).then_some((n, status, retry_after)));
    }

    /// The next `n` successful writing calls (anything but reads: `create`, `write`, `unlink`,
    /// `load`, workflow methods) are executed and committed, then the connection is closed
    /// without a reply. Failing calls reply normally and do not count.
    pub fn drop_reply_after_commit(&self, n: usize) {
        self.faults(|f| f.drop_after_commit = n);
    }

    /// The next `n` calls of `load`, `create` and `write` (over either protocol, on any model)
    /// are rolled back by a concurrent transaction, as a real Odoo 19 reports it (recorded in
    /// `tests/fixtures/conflicts/`): `load` answers normally with `ids: false` and the
    /// serialisation failure as the error of each row (`could not serialize access due to
    /// concurrent update`, the first ten rows, then a warning), because Odoo's `load` catches
    /// it; `create` and `write` fail with `psycopg2.errors.SerializationFailure`, as they do once
    /// Odoo's own tries are spent (JSON-RPC error code 0, JSON-2 HTTP 500). Nothing is executed;
    /// other calls, and calls refused before they run (bad credentials, unknown method), do not
    /// count.
    ///
    /// ```
    /// use odoo_connect_fake::FakeOdoo;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeOdoo::start().await;
    /// fake.fail_with_serialization(1);
    /// let call = |method: &str, args: serde_json::Value| serde_json::json!({
    ///     "jsonrpc": "2.0", "method": "call", "id": 1,
    ///     "params": {"service": "object", "method": "execute_kw", "args": [
    ///         fake.database(), FakeOdoo::ADMIN_UID, fake.admin_api_key(),
    ///         "res.partner", method, args
    ///     ]}
    /// });
    /// let text = reqwest::Client::new()
    ///     .post(format!("{}/jsonrpc", fake.url()))
    ///     .header("Content-Type", "application/json")
    ///     .body(call("load", serde_json::json!([["name"], [["Acme"]]])).to_string())
    ///     .send().await.expect("a reply").text().await.expect("a body");
    /// let reply: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    /// assert_eq!(reply["result"]["ids"], false);
    /// assert_eq!(
    ///     reply["result"]["messages"][0]["message"],
    ///     "could not serialize access due to concurrent update\n"
    /// );
    /// assert_eq!(fake.remaining_serialization_failures(), 0);
    /// # }
    /// ```
    pub fn fail_with_serialization(&self, n: usize) {
        self.with_db(|db| db.serialization_failures = n);
    }

    /// How many of the failures armed by [`FakeOdoo::fail_with_serialization`] are still to come.
    pub fn remaining_serialization_failures(&self) -> usize {
        self.with_db(|db| db.serialization_failures)
    }

    /// Takes the right of `operation` (`read`, `write`, `create` or `unlink`) on `model` away
    /// from the user `login`: its calls that need it (`create` and `load` need `create`, reads
    /// `read`, `unlink` `unlink`, any other method `write`) are answered with the `AccessError`
    /// Odoo 19 raises when no group of the user grants the right (`You are not allowed to
    /// create 'Journal Entry' (account.move) records.`), and nothing is executed. Rights are
    /// checked on the model called, not on what its methods do inside. An unknown login
    /// changes nothing.
    ///
    /// ```
    /// use odoo_connect_fake::FakeOdoo;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = FakeOdoo::start().await;
    /// fake.deny(FakeOdoo::DEMO_LOGIN, "res.partner", "create");
    /// let call = serde_json::json!({
    ///     "jsonrpc": "2.0", "method": "call", "id": 1,
    ///     "params": {"service": "object", "method": "execute_kw", "args": [
    ///         fake.database(), FakeOdoo::DEMO_UID, fake.demo_api_key(),
    ///         "res.partner", "create", [{"name": "Acme"}]
    ///     ]}
    /// });
    /// let text = reqwest::Client::new()
    ///     .post(format!("{}/jsonrpc", fake.url()))
    ///     .header("Content-Type", "application/json")
    ///     .body(call.to_string())
    ///     .send().await.expect("a reply").text().await.expect("a body");
    /// let reply: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    /// assert_eq!(reply["error"]["data"]["name"], "odoo.exceptions.AccessError");
    /// assert!(reply["error"]["data"]["message"].as_str().unwrap()
    ///     .starts_with("You are not allowed to create 'Contact' (res.partner) records."));
    /// # }
    /// ```
    pub fn deny(&self, login: &str, model: &str, operation: &str) {
        let op = match operation {
            "read" => "read",
            "write" => "write",
            "create" => "create",
            "unlink" => "unlink",
            _ => return,
        };
        self.with_db(|db| {
            let uids: Vec<i64> = db
                .credentials
                .iter()
                .filter(|c| c.login == login)
                .map(|c| c.uid)
                .collect();
            for uid in uids {
                db.denied.push((uid, model.to_owned(), op));
            }
        });
    }

    /// Gives back every right taken away with [`FakeOdoo::deny`].
    pub fn allow_all(&self) {
        self.with_db(|db| db.denied.clear());
    }

    /// The server clock (UTC).
    pub fn now(&self) -> NaiveDateTime {
        self.with_db(|db| db.now)
    }

    /// Moves the server clock forward.
    pub fn advance_clock(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
        self.with_db(|db| db.now = db.now.checked_add_signed(by).unwrap_or(db.now));
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeOdoo {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handle_is_send_and_sync() {
        assert_send_sync::<FakeOdoo>();
        assert_send_sync::<RecordedRequest>();
    }

    #[test]
    fn recorded_request_names() {
        let r = RecordedRequest {
            http_method: "POST".into(),
            path: "/jsonrpc".into(),
            body: Value::Null,
            call: Some("res.partner.create".into()),
            status: Some(200),
        };
        assert_eq!(r.method_name(), Some("create"));
        assert_eq!(r.model(), Some("res.partner"));
        let login = RecordedRequest {
            call: Some("common.login".into()),
            ..r
        };
        assert_eq!(login.model(), None);
    }
}
