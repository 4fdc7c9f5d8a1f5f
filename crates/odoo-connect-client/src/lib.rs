//! A typed client for [Odoo](https://www.odoo.com)'s external APIs: JSON-RPC and JSON-2 behind
//! one API, records decoded into Rust types, search [`Domain`]s, x2many [`Command`]s, typed
//! errors, batching, streaming, timeouts and retries.
//!
//! This is layer 1 of odoo-connect and knows nothing of canonical business types or sync: a
//! call is a value ([`OdooCall`]), encoded by one of two small codecs ([`jsonrpc`], [`json2`])
//! and sent by an [`OdooClient`].
//!
//! ```no_run
//! use odoo_connect_client::{models::Partner, Domain, OdooClient};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let odoo = OdooClient::builder("https://erp.example.com")
//!         .database("ps")
//!         .api_key("admin", std::env::var("ODOO_API_KEY")?)
//!         .build()?; // the protocol is chosen from the server's version on the first call
//!     let customers: Vec<Partner> = odoo
//!         .model::<Partner>()
//!         .search_read(Domain::new().eq("is_company", true).ilike("name", "acme"))
//!         .limit(50)
//!         .await?;
//!     println!("{} customers", customers.len());
//!     Ok(())
//! }
//! ```
//!
//! The client runs on Tokio. [`OdooClient`] is cheap to clone (an `Arc` inside) and
//! `Send + Sync`; clones share the connection pool, the concurrency limit and what was learned
//! from the server.
//!
//! # Protocols
//!
//! - **JSON-RPC**, `POST /jsonrpc` ([`Protocol::JsonRpc`]): the `execute_kw` service of Odoo 14
//!   to 21, with a password or an API key. Deprecated from Odoo 19; the client takes Odoo 22 and
//!   later to have none ([`ServerVersion::has_jsonrpc`]).
//! - **JSON-2**, `POST /json/2/<model>/<method>` ([`Protocol::Json2`]): Odoo 19 and later (and
//!   Odoo Online saas~18.4 and later, [`ServerVersion::has_json2`]), with a bearer API key and
//!   named arguments only; the database, when set, goes in the `X-Odoo-Database` header.
//!
//! With [`Protocol::Auto`] (the default) the client asks the server's version once, on the first
//! call ([`OdooClient::session`]), and speaks JSON-2 when the server has it and the credentials
//! are an API key, JSON-RPC otherwise. Forcing a protocol the server lacks is a configuration
//! error ([`ConfigReason::Json2Unavailable`], [`ConfigReason::JsonRpcUnavailable`]). On JSON-RPC
//! a server with a single database needs no [`database`](OdooClientBuilder::database): the
//! client finds it with `db.list`.
//!
//! # Authentication
//!
//! [`OdooClientBuilder::api_key`] (both protocols) or [`OdooClientBuilder::password`]
//! (JSON-RPC only) set fixed credentials; [`OdooClientBuilder::credential_provider`] takes them
//! from a [`CredentialProvider`], asked before each request, so that a rotated key is used
//! without a restart ([`SharedCredentials`] is one whose credentials can be replaced). When Odoo
//! refuses the credentials or the session expired, the client asks the provider to
//! [`refresh`](CredentialProvider::refresh), authenticates again and sends the call once more;
//! see [`credentials`].
//!
//! # Models, records and values
//!
//! [`OdooClient::model`] gives a [`ModelHandle`] whose ORM operations (`search`, `search_read`,
//! `read`, `create`, `write`, `unlink`, `name_search`, `read_group`, `fields_get`, `load`) are
//! typed by a [`Model`]; [`OdooClient::model_named`] does the same for any model and any
//! `Deserialize` type, `serde_json::Value` included. `#[derive(Model)]` writes the [`Model`]
//! impl from a struct, reading each field only from the Odoo versions that have it (see
//! [`Model`] for its attributes). The [`models`] module holds ready types for the
//! contract-to-cash models (partners, sale orders, projects, timesheets, invoices, payments ...)
//! of Odoo 16 to 19.
//!
//! Odoo's value conventions are hidden behind types in [`value`]: `false` for an empty value
//! ([`value::opt`]), many2one as `[id, "name"]` ([`Many2one`]), amounts as
//! [`rust_decimal::Decimal`] decoded from the JSON number's text ([`value::decimal`]), dates and
//! UTC datetimes as `chrono` types ([`value::date`], [`value::datetime`]). Writes are typed too:
//! a [`ModelValues`] struct (derived, or the shipped `PartnerValues`, `SaleOrderValues`, ... of
//! [`models`]) names its model and gives each field its Odoo kind and its name on the server's
//! version, and [`ModelHandle::create_values`] takes only values of the handle's model (see
//! [`write`](mod@write)); an untyped [`Values`] map writes any model. x2many fields are written
//! with [`Command`]s (`create`, `update`, `link`, `set` ...). A record that does not decode fails with [`Error::Decode`], which names the failing
//! field (`[3].partner_id`).
//!
//! Searches take a [`Domain`], built as a value and sent in Odoo's prefix notation. The
//! [`Context`] of a call (language, time zone, companies, archived records) is laid over the
//! client's default one; [`OdooClient::call`] sends any [`OdooCall`] and decodes its result.
//!
//! # Companies
//!
//! [`OdooClient::with_company`] gives a handle on the same connection whose calls work in one
//! company (it sets `allowed_company_ids` in the default context);
//! [`OdooClient::with_context`] does the same for any context key.
//!
//! # Batching and streaming
//!
//! [`ModelHandle::create_many`] creates many records in one request (one transaction);
//! [`ModelHandle::create_chunked`] splits a batch into chunks with a bounded number of requests
//! in flight; [`ModelHandle::load`] is Odoo's import, idempotent with external ids.
//! [`ModelHandle::search_read_stream`] gives every matching record as a
//! [`Stream`](futures_util::Stream) read page by page by id (keyset paging), so memory stays
//! bounded by the page size.
//!
//! # Errors
//!
//! Every call returns [`Result`], whose [`Error`] tells apart a misconfiguration
//! ([`Error::Config`], with a [`ConfigReason`]), a transport failure (sent or not), a TLS
//! failure, a timeout, an HTTP status, an exception Odoo raised ([`OdooException`], classified
//! by [`OdooErrorKind`], its traceback kept out of `Display`), a reply that is not what the
//! protocol promises, and a reply that does not decode. As in `reqwest` and `sqlx`, a cause is
//! either in the message or in [`source()`](std::error::Error::source), never both.
//!
//! Callers branch on predicates rather than on variants: [`Error::is_retryable`],
//! [`Error::is_unsent`], [`Error::is_conflict`], [`Error::is_timeout`], [`Error::is_tls`],
//! [`Error::is_config`], [`Error::is_access_denied`], [`Error::is_session_expired`],
//! [`Error::is_missing_record`], and on [`Error::status`], [`Error::retry_after`] (the
//! `Retry-After` delay), [`Error::odoo_kind`] and [`Error::odoo_exception`] (the Python
//! exception name). A conflict ([`OdooErrorKind::Conflict`]: a serialisation failure, a deadlock,
//! a lock that could not be obtained) means Odoo rolled the call back, so even a write may be
//! sent again; `load` reports conflicts per row instead ([`LoadError::is_transient`]).
//!
//! # Timeouts, limits and retries
//!
//! The builder sets the timeout of a whole request ([`OdooClientBuilder::timeout`], 120 s by
//! default) and of a connection ([`OdooClientBuilder::connect_timeout`], 10 s), the number of
//! requests in flight ([`OdooClientBuilder::max_concurrent_requests`], 8) and the largest reply
//! accepted ([`OdooClientBuilder::max_response_bytes`], 256 MiB).
//!
//! The client retries a failure that [`Error::is_retryable`] calls transient (a transport
//! failure, a timeout, HTTP 429, 502, 503 or 504, a conflict) when the call
//! is a read ([`OdooCall::read_only`]), when the request provably never reached the server, or
//! when Odoo reported a conflict: a `create` whose reply was lost is not sent twice. Delays grow
//! exponentially with jitter and honour `Retry-After` up to [`RetryPolicy::max_delay`]; see
//! [`RetryPolicy`] for the attempts and the time budget.
//!
//! # Secrets
//!
//! Passwords and API keys are [`secrecy::SecretString`]s. The `Debug` output of [`Credentials`],
//! [`OdooClientBuilder`], [`OdooClient`] and [`ClientConfig`] shows `[redacted]` in their place;
//! a server URL with a user name or password in it is refused without being echoed; the
//! `Authorization` header is marked sensitive; the `odoo.call` tracing span records the model,
//! method, protocol, duration and status of a call, not its arguments.
//!
//! # Code generation
//!
//! [`codegen::generate_model`] writes the Rust source of a [`Model`] type from a model's
//! `fields_get` reply or its `/doc-bearer/<model>.json` document (Odoo 19+, fetched with
//! [`OdooClient::model_doc`]).
//!
//! # Third-party types in the API
//!
//! These types of other crates are part of this crate's API on purpose, so a major version of
//! one of those crates is a breaking change of this one:
//!
//! - [`reqwest::Client`] ([`OdooClientBuilder::http_client`]) and [`reqwest::Certificate`]
//!   ([`OdooClientBuilder::add_root_certificate`]): to send the requests with an HTTP client of
//!   your own (proxy, TLS, pool settings) and to trust a private certificate authority. Both are
//!   optional: [`OdooClientBuilder::add_root_certificate_pem`] takes a PEM instead, and the
//!   errors never name reqwest ([`Error::Transport`] and [`Error::Tls`] keep its error as a
//!   boxed `source`).
//! - [`serde_json::Value`] and [`serde_json::Map`]: arguments, contexts, [`Values`] and untyped
//!   records, as Odoo's API is JSON; [`serde_json::Error`] is the source of [`Error::Decode`],
//!   [`Error::InvalidReply`] and [`Error::Encode`]. With `serde`'s traits for typed records.
//! - [`secrecy::SecretString`]: passwords and API keys ([`Credentials`]), so that they stay out
//!   of `Debug` and are zeroed when dropped.
//! - [`rust_decimal::Decimal`]: monetary amounts and quantities, which must not become floats.
//! - [`chrono::NaiveDate`] and [`chrono::DateTime`]`<`[`chrono::Utc`]`>`: Odoo's dates and
//!   datetimes.
//! - [`url::Url`]: the server's base URL ([`ClientConfig::url`], [`OdooClient::url`]).
//! - The [`Stream`](futures_util::Stream) trait of `futures`, which [`RecordStream`] implements.
//! - [`async_trait`](https://docs.rs/async-trait): [`CredentialProvider`] is written with it, so
//!   an implementation uses `#[async_trait]` too.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

// Lets `#[derive(Model)]` name this crate `::odoo_connect_client` from inside it too.
extern crate self as odoo_connect_client;

pub mod call;
pub mod codegen;
pub mod context;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod model;
pub mod models;
mod support;
pub mod value;
pub mod version;
pub mod write;

pub use call::{Arg, OdooCall, Safety};
pub use context::Context;
pub use credentials::{CredentialProvider, SharedCredentials};
pub use domain::{Domain, Op};
pub use error::{ConfigReason, Error, OdooErrorKind, OdooException, Result};
pub use model::{FieldSpec, Model};
/// Derives [`Model`] from a struct; see [`Model`] for the attributes.
pub use odoo_connect_derive::Model;
/// Derives [`ModelValues`] from a struct; see [`write`](mod@write) for the attributes.
pub use odoo_connect_derive::ModelValues;
pub use value::{Binary, Command, Many2one, RecordId, Values};
pub use version::ServerVersion;
pub use write::{FieldType, FieldValue, ModelValues, ToFieldValue};
pub mod client;
pub mod handle;
pub mod json2;
pub mod jsonrpc;
pub mod transport;

pub use client::{ClientConfig, Credentials, OdooClient, OdooClientBuilder, Protocol, Session};
pub use handle::{
    FieldInfo, GroupRow, LoadError, LoadMessage, LoadResult, ModelHandle, NameSearch, Read,
    RecordStream, Search, SearchRead,
};
pub use transport::RetryPolicy;
