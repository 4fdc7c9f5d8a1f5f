//! Reaching the sync state (SQLite or PostgreSQL) and, optionally, Odoo; the errors of the
//! command line.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use odoo_connect::odoo::OdooClient;
use odoo_connect::odoo::credentials::{FileCredentials, VaultAuth, VaultKv2};
use odoo_connect::ops::OdooLinks;
use odoo_connect::store::encrypted::{EncryptedStore, KeyProvider, Keyring};
use odoo_connect::store::postgres::{DEFAULT_SCHEMA, PostgresStore};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{Redactor, StateStore, StoreError};

/// A failure of the command line (bad usage is clap's, with exit status 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Neither `--state` nor a database URL.
    #[error(
        "no state given: pass --state PATH (the SQLite file the sync runs on) or --database-url URL (or set DATABASE_URL)"
    )]
    NoState,
    /// The SQLite file does not exist.
    #[error(
        "state file {} does not exist (the report reads an existing state and creates none)",
        path.display()
    )]
    MissingState {
        /// The path given.
        path: PathBuf,
    },
    /// The SQLite path is not a regular file.
    #[error("state path {} is not a file", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The SQLite file could not be read.
    #[error("cannot read state file {}", path.display())]
    ReadState {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a SQLite database (or an empty one).
    #[error("state file {} is not an odoo-connect SQLite state ({what})", path.display())]
    NotSqlite {
        /// The path given.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Opening the SQLite state failed.
    #[error("cannot open the SQLite state {}", path.display())]
    OpenSqlite {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// Connecting to PostgreSQL failed (the URL is not shown: it may hold a password).
    #[error("cannot open the PostgreSQL state (schema {schema})")]
    OpenPostgres {
        /// The schema.
        schema: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// `ODOO_URL` without credentials.
    #[error(
        "ODOO_URL is set but none of ODOO_API_KEY, ODOO_API_KEY_FILE, ODOO_VAULT_SECRET and ODOO_PASSWORD is"
    )]
    OdooCredentials,
    /// `ODOO_CONNECT_STATE_KEYS` is not a keyring (the keys are never shown).
    #[error("ODOO_CONNECT_STATE_KEYS is not a keyring of <id>:<base64 of 32 bytes>")]
    StateKeys {
        /// Why.
        #[source]
        source: odoo_connect::store::encrypted::SealError,
    },
    /// `ODOO_VAULT_SECRET` without `VAULT_ADDR`.
    #[error("ODOO_VAULT_SECRET is set but VAULT_ADDR is not")]
    VaultAddress,
    /// `ODOO_VAULT_SECRET` is not `<mount>/<path>`.
    #[error("ODOO_VAULT_SECRET must be <mount>/<path> (for example secret/odoo/sync-bot)")]
    VaultSecret,
    /// The Vault provider could not be set up (a bad address, no token).
    #[error("cannot set up the Vault credentials")]
    Vault {
        /// Why.
        #[source]
        source: odoo_connect::odoo::Error,
    },
    /// The Odoo client could not be set up.
    #[error("cannot set up the Odoo client for {url}")]
    OdooClient {
        /// The server, without credentials.
        url: String,
        /// Why.
        #[source]
        source: odoo_connect::odoo::Error,
    },
    /// The Odoo server did not tell its version.
    #[error("cannot reach the Odoo server at {url}")]
    OdooVersion {
        /// The server, without credentials.
        url: String,
        /// Why.
        #[source]
        source: odoo_connect::odoo::Error,
    },
    /// Collecting the report failed.
    #[error("cannot collect the operations report")]
    Collect(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The report could not be written as JSON.
    #[error("cannot write the report as JSON")]
    Json(#[source] serde_json::Error),
    /// The HTML page could not be written.
    #[error("cannot write the HTML page to {}", path.display())]
    WriteHtml {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Standard output failed.
    #[error("cannot write to standard output")]
    Stdout(#[source] std::io::Error),
    /// The async runtime did not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The state store failed.
    #[error("the sync state failed")]
    Store(#[source] StoreError),
    /// No such record.
    #[error("no {what} {id}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// A file given could not be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file given is not JSON.
    #[error("{} is not JSON", path.display())]
    BadJson {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A quarantined row is replayed only with a corrected payload.
    #[error(
        "dead letter {id} is a quarantined row that could not be decoded: replay it with --corrected FILE"
    )]
    Quarantined {
        /// The dead letter.
        id: String,
    },
    /// The dead letter was replayed already.
    #[error("dead letter {id} was replayed already")]
    AlreadyReplayed {
        /// The dead letter.
        id: String,
    },
    /// The replay failed.
    #[error("the replay failed")]
    Replay(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An argument was refused.
    #[error("invalid argument: {0}")]
    BadArgument(String),
    /// The alert rules or channels are invalid, or evaluating them failed (no secret is shown).
    #[error("alerts failed")]
    Alerts(#[source] odoo_connect::ops::alerts::AlertError),
    /// Some notices could not be sent; they are tried again at the next check.
    #[error("{count} alert notice(s) could not be sent (tried again at the next check)")]
    AlertsNotSent {
        /// How many.
        count: usize,
    },
}

/// Where the sync state is, for the operator commands: `--sqlite PATH` (`--state` is theirs
/// for a queue state), `--database-url` or `DATABASE_URL`; accepted after a subcommand too.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The SQLite state file (it must exist).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "database_url",
        global = true
    )]
    sqlite: Option<PathBuf>,
    /// The PostgreSQL state (`postgres://user@host/db`); default: the DATABASE_URL environment
    /// variable, when --sqlite is not given.
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
    /// The PostgreSQL schema holding the tables.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SCHEMA, global = true)]
    schema: String,
}

impl TargetArgs {
    /// The same place as [`StateArgs`].
    pub(crate) fn state(&self) -> StateArgs {
        StateArgs {
            state: self.sqlite.clone(),
            database_url: self.database_url.clone(),
            schema: self.schema.clone(),
        }
    }
}

/// Where the sync state is.
#[derive(Debug, Args)]
pub(crate) struct StateArgs {
    /// The SQLite state file (it must exist: the report creates none).
    #[arg(
        long,
        visible_alias = "sqlite",
        value_name = "PATH",
        conflicts_with = "database_url"
    )]
    state: Option<PathBuf>,
    /// The PostgreSQL state (`postgres://user@host/db`); default: the DATABASE_URL environment
    /// variable, when --state is not given.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The PostgreSQL schema holding the tables.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SCHEMA)]
    schema: String,
}

/// An open state store.
pub(crate) struct Store {
    backend: Backend,
    /// The backend, or the backend sealed with the keys of `ODOO_CONNECT_STATE_KEYS`.
    state: std::sync::Arc<dyn StateStore>,
}

/// Where the state is.
enum Backend {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the state `args` name: `--state`, else `--database-url`, else `DATABASE_URL`. When
    /// `ODOO_CONNECT_STATE_KEYS` (or a file named by `ODOO_CONNECT_STATE_KEYS_FILE`) holds a
    /// keyring, the state is read and written sealed with it (`store::encrypted`).
    pub(crate) async fn open(args: &StateArgs) -> Result<Store, CliError> {
        let backend = if let Some(path) = &args.state {
            Backend::Sqlite(open_sqlite(path).await?)
        } else {
            let url = match &args.database_url {
                Some(url) => url.clone(),
                None => std::env::var("DATABASE_URL")
                    .ok()
                    .filter(|u| !u.trim().is_empty())
                    .ok_or(CliError::NoState)?,
            };
            let store = PostgresStore::builder(url)
                .schema(args.schema.clone())
                .max_connections(2)
                .connect()
                .await
                .map_err(|source| CliError::OpenPostgres {
                    schema: args.schema.clone(),
                    source,
                })?;
            Backend::Postgres(store)
        };
        let keys = state_keys()?;
        let state: std::sync::Arc<dyn StateStore> = match (&backend, keys) {
            (Backend::Sqlite(s), Some(k)) => {
                std::sync::Arc::new(EncryptedStore::new(s.clone(), k, Redactor::default()))
            }
            (Backend::Postgres(s), Some(k)) => {
                std::sync::Arc::new(EncryptedStore::new(s.clone(), k, Redactor::default()))
            }
            (Backend::Sqlite(s), None) => std::sync::Arc::new(s.clone()),
            (Backend::Postgres(s), None) => std::sync::Arc::new(s.clone()),
        };
        Ok(Store { backend, state })
    }

    /// The store, for the library's functions.
    pub(crate) fn as_state(&self) -> &(dyn StateStore + Send + Sync) {
        &*self.state
    }

    /// The store, shared, for a pipeline.
    pub(crate) fn shared(&self) -> std::sync::Arc<dyn StateStore> {
        self.state.clone()
    }

    /// Closes the connections.
    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.close().await,
        }
    }
}

/// The keyring of `ODOO_CONNECT_STATE_KEYS` (`id:base64,...`, the first the current key), or of
/// the file `ODOO_CONNECT_STATE_KEYS_FILE` names; `None` when neither is set.
fn state_keys() -> Result<Option<std::sync::Arc<dyn KeyProvider>>, CliError> {
    let text = match non_empty_env("ODOO_CONNECT_STATE_KEYS") {
        Some(text) => text,
        None => match non_empty_env("ODOO_CONNECT_STATE_KEYS_FILE") {
            Some(path) => std::fs::read_to_string(&path).map_err(|source| CliError::ReadState {
                path: path.into(),
                source,
            })?,
            None => return Ok(None),
        },
    };
    let keys = Keyring::parse(&text).map_err(|source| CliError::StateKeys { source })?;
    Ok(Some(std::sync::Arc::new(keys)))
}

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Opens an existing SQLite state; `SqliteStore::open` would create a missing file, so the file
/// is checked first.
async fn open_sqlite(path: &Path) -> Result<SqliteStore, CliError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::MissingState {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(CliError::ReadState {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(CliError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    std::fs::File::open(path)
        .and_then(|f| f.take(SQLITE_MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|source| CliError::ReadState {
            path: path.to_path_buf(),
            source,
        })?;
    if head.is_empty() {
        return Err(CliError::NotSqlite {
            path: path.to_path_buf(),
            what: "the file is empty",
        });
    }
    if head.as_slice() != SQLITE_MAGIC {
        return Err(CliError::NotSqlite {
            path: path.to_path_buf(),
            what: "not a SQLite database",
        });
    }
    let store = SqliteStore::open(path)
        .await
        .map_err(|source| CliError::OpenSqlite {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(store)
}

/// How to reach Odoo; all optional.
#[derive(Debug, Args)]
pub(crate) struct OdooArgs {
    /// The Odoo server; without it the report leaves out what only Odoo knows (overdue invoices,
    /// posted revenue). The API key is read from ODOO_API_KEY, a file named by ODOO_API_KEY_FILE,
    /// or Vault (ODOO_VAULT_SECRET=<mount>/<path> at VAULT_ADDR, with VAULT_ROLE_ID and
    /// VAULT_SECRET_ID, VAULT_TOKEN_FILE or VAULT_TOKEN), else the password from ODOO_PASSWORD;
    /// never from the command line.
    #[arg(long, env = "ODOO_URL", value_name = "URL", hide_env_values = true)]
    odoo_url: Option<String>,
    /// The Odoo database (found by the server when it has only one).
    #[arg(long, env = "ODOO_DB", value_name = "NAME")]
    odoo_db: Option<String>,
    /// The Odoo login.
    #[arg(
        long,
        env = "ODOO_LOGIN",
        value_name = "LOGIN",
        default_value = "admin"
    )]
    odoo_login: String,
}

/// An Odoo client and how to link to its records.
pub(crate) struct Odoo {
    /// The client.
    pub(crate) client: OdooClient,
    /// Record URLs of that server, for its version.
    pub(crate) links: OdooLinks,
}

impl Odoo {
    /// Connects when `ODOO_URL` (or `--odoo-url`) is given, and asks the server its version.
    pub(crate) async fn connect(args: &OdooArgs) -> Result<Option<Odoo>, CliError> {
        let Some(url) = args.odoo_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let shown = without_credentials(url);
        let mut builder = OdooClient::builder(url);
        if let Some(db) = args.odoo_db.as_deref().filter(|d| !d.is_empty()) {
            builder = builder.database(db);
        }
        builder = if let Some(key) = non_empty_env("ODOO_API_KEY") {
            builder.api_key(args.odoo_login.clone(), key)
        } else if let Some(path) = non_empty_env("ODOO_API_KEY_FILE") {
            // A mounted secret file, read again when it changes.
            builder.credential_provider(FileCredentials::api_key(args.odoo_login.clone(), path))
        } else if let Some(secret) = non_empty_env("ODOO_VAULT_SECRET") {
            builder.credential_provider(vault_credentials(&secret)?)
        } else if let Some(password) = non_empty_env("ODOO_PASSWORD") {
            builder.password(args.odoo_login.clone(), password)
        } else {
            return Err(CliError::OdooCredentials);
        };
        let client = builder.build().map_err(|source| CliError::OdooClient {
            url: shown.clone(),
            source,
        })?;
        let version = client
            .version()
            .await
            .map_err(|source| CliError::OdooVersion { url: shown, source })?;
        let links = OdooLinks::new(client.url().as_str(), version.major);
        Ok(Some(Odoo { client, links }))
    }
}

/// The Vault provider of `ODOO_VAULT_SECRET` (`<mount>/<path>` of a KV version 2 secret with the
/// fields `login` and `api_key`), at `VAULT_ADDR`, authenticated with `VAULT_ROLE_ID` and
/// `VAULT_SECRET_ID` (AppRole), else `VAULT_TOKEN_FILE`, else `VAULT_TOKEN`.
fn vault_credentials(secret: &str) -> Result<VaultKv2, CliError> {
    let address = non_empty_env("VAULT_ADDR").ok_or(CliError::VaultAddress)?;
    let (mount, path) = secret
        .trim_matches('/')
        .split_once('/')
        .ok_or(CliError::VaultSecret)?;
    let mut builder = VaultKv2::builder(address, mount, path);
    if let (Some(role_id), Some(secret_id)) = (
        non_empty_env("VAULT_ROLE_ID"),
        non_empty_env("VAULT_SECRET_ID"),
    ) {
        builder = builder.auth(VaultAuth::AppRole {
            mount: non_empty_env("VAULT_APPROLE_MOUNT").unwrap_or_else(|| "approle".into()),
            role_id,
            secret_id: secret_id.into(),
        });
    } else if let Some(file) = non_empty_env("VAULT_TOKEN_FILE") {
        builder = builder.auth(VaultAuth::TokenFile(file.into()));
    }
    builder.build().map_err(|source| CliError::Vault { source })
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `url` without a `user:password@` part, for messages.
pub(crate) fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn credentials_are_left_out_of_urls() {
        assert_eq!(
            without_credentials("https://admin:s3cret@erp.example.com/odoo"),
            "https://erp.example.com/odoo"
        );
        assert_eq!(
            without_credentials("https://erp.example.com/a@b"),
            "https://erp.example.com/a@b"
        );
        assert_eq!(without_credentials("erp"), "erp");
    }
}
