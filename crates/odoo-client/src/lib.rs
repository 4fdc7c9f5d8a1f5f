//! Layer 1: the typed Odoo client.
//!
//! Knows nothing of canonical business types or sync: calls are values ([`OdooCall`]), encoded
//! by one of two small codecs (JSON-RPC, JSON-2) and sent by the client.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

// Lets `#[derive(Model)]` name this crate `::odoo_client` from inside it too.
extern crate self as odoo_client;

pub mod call;
pub mod codegen;
pub mod context;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod model;
pub mod models;
pub mod support;
pub mod value;
pub mod version;

pub use call::{Arg, OdooCall, Safety};
pub use context::Context;
pub use credentials::{CredentialProvider, SharedCredentials};
pub use domain::{Domain, Op};
pub use error::{Error, OdooErrorKind, OdooException, Result};
pub use model::{FieldSpec, Model};
/// Derives [`Model`] from a struct; see [`Model`] for the attributes.
pub use odoo_connect_derive::Model;
pub use value::{Binary, Command, Many2one, RecordId, Values};
pub use version::ServerVersion;
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
