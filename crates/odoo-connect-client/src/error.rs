//! The client's error type.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::version::ServerVersion;

/// A `Result` with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cause kept as a [`source`](std::error::Error::source) without naming the crate it comes
/// from (the HTTP stack's errors, a credential provider's).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong talking to Odoo.
///
/// As in `reqwest` and `sqlx`, a cause is either in the message or in
/// [`source()`](std::error::Error::source), never in both, so a printed chain of causes does not
/// repeat itself. Odoo's own exceptions are typed ([`OdooErrorKind`]) and keep their traceback out
/// of `Display` (see [`OdooException::debug`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client is misconfigured (bad URL, missing credentials, a protocol the server lacks):
    /// [`ConfigReason`] says what, and `source` holds the error that revealed it, if any.
    /// Retrying does not help. See [`Error::is_config`] and [`Error::config_reason`].
    #[error("configuration error: {reason}")]
    Config {
        /// What is wrong.
        reason: ConfigReason,
        /// The underlying error, when there is one: the URL or PEM parse error, the invalid
        /// header value, the HTTP client that could not be built, the failed `db.list` call.
        #[source]
        source: Option<BoxError>,
    },

    /// The request could not be sent or its reply could not be received.
    ///
    /// The source is the HTTP stack's error, boxed so that its crate and version are not part
    /// of this API; its chain names the cause (connection refused, reset, DNS ...).
    #[error("transport error {}", if *.sent { "after the request was sent" } else { "before the request was sent" })]
    Transport {
        /// Whether the request may have reached the server (`false` means provably not sent).
        sent: bool,
        /// The underlying cause.
        #[source]
        source: BoxError,
    },

    /// The TLS handshake failed: the server's certificate is not trusted (a private CA not added
    /// with `OdooClientBuilder::add_root_certificate`), expired, or for another name. Nothing was
    /// sent; retrying does not help.
    #[error("TLS handshake with the server failed (is its certificate authority trusted?)")]
    Tls {
        /// The underlying cause (its chain names the certificate problem), boxed as in
        /// [`Error::Transport`].
        #[source]
        source: BoxError,
    },

    /// The credential provider could not give credentials.
    #[error("the credential provider failed")]
    Credentials {
        /// What the provider reported.
        #[source]
        source: BoxError,
    },

    /// The call took longer than the configured timeout.
    #[error("timed out after {elapsed:?}{}", if *.sent { "" } else { " (before the request was sent)" })]
    Timeout {
        /// How long the client waited.
        elapsed: Duration,
        /// Whether the request may have reached the server.
        sent: bool,
    },

    /// The server answered with an HTTP status that is not an Odoo error reply
    /// (a proxy's 502, an HTML 404 page, a 415, a 429 ...).
    #[error("HTTP {status}: {snippet}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body, for diagnosis (never the request).
        snippet: String,
        /// The `Retry-After` delay, when the server sent one.
        retry_after: Option<Duration>,
    },

    /// Odoo raised an exception.
    #[error(transparent)]
    Odoo(Box<OdooException>),

    /// The reply is not what the protocol promises (not JSON, truncated, wrong envelope).
    #[error("invalid reply: {reason}")]
    InvalidReply {
        /// What was wrong.
        reason: String,
        /// The start of the body.
        snippet: String,
        /// The JSON error, when the reply failed to parse.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// The reply is larger than the configured limit.
    #[error("reply larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },

    /// The reply is valid JSON but does not decode into the requested type.
    #[error("cannot decode {}{model}.{method} reply", DecodePath(path))]
    Decode {
        /// The model called.
        model: String,
        /// The method called.
        method: String,
        /// The path of the failing field (`[3].partner_id`; empty for the reply as a whole).
        path: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },

    /// A request could not be encoded (positional arguments on JSON-2, values that do not
    /// serialise to JSON).
    #[error("cannot encode the {model}.{method} call: {reason}")]
    Encode {
        /// The model called.
        model: String,
        /// The method called.
        method: String,
        /// Why.
        reason: String,
        /// The serialisation error, when the values did not serialise.
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// The start of [`Error::Decode`]'s message: `` `[3].name` of the ``, or `the ` when the reply
/// as a whole failed.
struct DecodePath<'a>(&'a str);

impl fmt::Display for DecodePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the ")
        } else {
            write!(f, "`{}` of the ", self.0)
        }
    }
}

/// Why the client's configuration was refused: the reason of an [`Error::Config`].
///
/// Its `Display` is the message of the error, without the underlying error (that one is the
/// error's [`source`](std::error::Error::source)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigReason {
    /// The server URL does not parse (the source is the parse error, which never repeats the
    /// URL).
    #[error("invalid Odoo URL")]
    InvalidUrl,
    /// The server URL holds a user name or a password (never echoed).
    #[error("the Odoo URL must not contain credentials; use .api_key() or .password()")]
    UrlWithCredentials,
    /// The server URL's scheme is neither `http` nor `https`.
    #[error("the Odoo URL must be http or https, not `{scheme}`")]
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// The server URL has no host.
    #[error("the Odoo URL has no host")]
    UrlWithoutHost,
    /// The server URL has a query or a fragment.
    #[error("the Odoo URL must not have a query or a fragment")]
    UrlWithQueryOrFragment,
    /// The request timeout is zero.
    #[error("the timeout must be longer than zero")]
    ZeroTimeout,
    /// No credentials were configured.
    #[error("no credentials: use .api_key(), .password() or .credential_provider()")]
    MissingCredentials,
    /// JSON-2 needs an API key, and the credentials (the builder's or a provider's) are a
    /// password.
    #[error(
        "JSON-2 needs an API key, not a password: use .api_key(login, key), or a credential \
         provider that gives one"
    )]
    ApiKeyRequired,
    /// A PEM given to `add_root_certificate_pem` does not parse (the source says why).
    #[error("invalid root certificate PEM")]
    InvalidRootCertificate,
    /// A PEM given to `add_root_certificate_pem` holds no certificate.
    #[error("the root certificate PEM holds no certificate")]
    NoRootCertificate,
    /// Root certificates were added along with a `reqwest::Client` of the caller's, which is
    /// already built.
    #[error(
        "root certificates cannot be added to a reqwest::Client that is already built: add \
         them with reqwest::ClientBuilder::add_root_certificate, or drop .http_client()"
    )]
    RootCertificatesWithHttpClient,
    /// The HTTP client could not be built (the source says why).
    #[error("cannot build the HTTP client")]
    HttpClient,
    /// A request path does not join the server URL (the source is the parse error).
    #[error("invalid path `{path}`")]
    InvalidPath {
        /// The path.
        path: String,
    },
    /// The API key holds characters a header cannot carry.
    #[error("the API key contains characters not allowed in a header")]
    InvalidApiKey,
    /// The database name holds characters a header cannot carry.
    #[error("the database name is not a valid header value")]
    InvalidDatabaseName,
    /// The client no longer sends requests.
    #[error("the client is shut down")]
    ShutDown,
    /// The server no longer serves JSON-RPC (Odoo 22 and later).
    #[error(
        "the server runs Odoo {version}, which no longer serves JSON-RPC (/jsonrpc); use \
         Protocol::Json2 with an API key"
    )]
    JsonRpcUnavailable {
        /// The server's version.
        version: ServerVersion,
    },
    /// The server answers `/jsonrpc` for its version but not for logins: the deprecated
    /// services are switched off (possible from Odoo 20). The source is the HTTP 404.
    #[error(
        "the server runs Odoo {version} and does not serve JSON-RPC logins; use Protocol::Json2 \
         with an API key"
    )]
    JsonRpcLoginsDisabled {
        /// The server's version.
        version: ServerVersion,
    },
    /// `Protocol::Json2` was asked of a server older than Odoo 19.
    #[error("the server runs Odoo {version}, which has no JSON-2 API (19+); use Protocol::JsonRpc")]
    Json2Unavailable {
        /// The server's version.
        version: ServerVersion,
    },
    /// No database was configured and the server does not list its databases (the source is
    /// the failed `db.list` call).
    #[error("no database configured and the server does not list its databases; use .database()")]
    DatabaseNotListed,
    /// No database was configured and the server has none.
    #[error("the server has no database")]
    NoDatabase,
    /// No database was configured and the server has several.
    #[error("the server has {count} databases; choose one with .database()")]
    SeveralDatabases {
        /// How many databases the server listed.
        count: usize,
    },
    /// [`Domain::raw`](crate::Domain::raw) was given something other than a JSON list.
    #[error("a raw domain must be a JSON list, got {found}")]
    RawDomainNotAList {
        /// What it was given (`an object`, `a string` ...).
        found: &'static str,
    },
}

impl From<ConfigReason> for Error {
    /// A configuration error of this reason, without an underlying error.
    fn from(reason: ConfigReason) -> Self {
        Error::Config {
            reason,
            source: None,
        }
    }
}

impl odoo_connect_core::retry::Retryable for Error {
    /// See [`Error::is_retryable`].
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
    /// See [`Error::retry_after`].
    fn retry_after(&self) -> Option<Duration> {
        Error::retry_after(self)
    }
}

impl Error {
    /// Whether the failure is transient, so that the same call may succeed when sent again: a
    /// transport failure or a timeout (sent or not), HTTP 429 (honour [`Error::retry_after`]),
    /// 502, 503 or 504, and Odoo's conflicts ([`Error::is_conflict`]). An expired session is
    /// not: the client logs in again by itself (see [`crate::credentials`]).
    ///
    /// Whether the *call* may be repeated is a separate question: a `create` whose reply was
    /// lost may have committed. The client retries a transient failure only for reads, for
    /// calls that provably never reached the server ([`Error::is_unsent`]) and for conflicts,
    /// which Odoo rolled back.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Http { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Error::Odoo(e) => e.is_transient(),
            Error::InvalidReply { .. } => false,
            // A secret store that cannot be reached, or is sealed or overloaded.
            Error::Credentials { source } => source
                .downcast_ref::<crate::credentials::SecretSourceError>()
                .is_some_and(crate::credentials::SecretSourceError::is_retryable),
            _ => false,
        }
    }

    /// Whether Odoo reported a transient PostgreSQL conflict (a serialisation failure, a
    /// deadlock, a lock it could not obtain): Odoo rolled the call back, so the same call,
    /// even a write, may be sent again after a pause. See [`OdooErrorKind::Conflict`].
    pub fn is_conflict(&self) -> bool {
        self.as_odoo().is_some_and(OdooException::is_transient)
    }

    /// Whether the request provably never reached the server, so that even a write can be sent
    /// again.
    pub fn is_unsent(&self) -> bool {
        matches!(
            self,
            Error::Transport { sent: false, .. }
                | Error::Timeout { sent: false, .. }
                | Error::Tls { .. }
        )
    }

    /// Whether the TLS handshake failed (an untrusted, expired or misnamed server certificate).
    pub fn is_tls(&self) -> bool {
        matches!(self, Error::Tls { .. })
    }

    /// Whether the session expired (JSON-RPC error code 100, `SessionExpiredException`).
    pub fn is_session_expired(&self) -> bool {
        self.odoo_kind() == Some(OdooErrorKind::SessionExpired)
    }

    /// A failure of a [`CredentialProvider`](crate::credentials::CredentialProvider), for its
    /// implementations.
    pub fn credentials(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Credentials {
            source: source.into(),
        }
    }

    /// The delay the server asked for (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The HTTP status, when the failure carries one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            Error::Odoo(e) => e.http_status,
            _ => None,
        }
    }

    /// The Odoo exception, when Odoo raised one.
    pub fn as_odoo(&self) -> Option<&OdooException> {
        match self {
            Error::Odoo(e) => Some(e),
            _ => None,
        }
    }

    /// The Python exception name Odoo reported (`odoo.exceptions.ValidationError`).
    pub fn odoo_exception(&self) -> Option<&str> {
        self.as_odoo().map(|e| e.name.as_str())
    }

    /// The kind of Odoo exception, when Odoo raised one.
    pub fn odoo_kind(&self) -> Option<OdooErrorKind> {
        self.as_odoo().map(|e| e.kind)
    }

    /// Whether the credentials were refused (`AccessDenied`, or HTTP 401 on JSON-2).
    pub fn is_access_denied(&self) -> bool {
        self.odoo_kind() == Some(OdooErrorKind::AccessDenied)
    }

    /// Whether Odoo reported that a record does not exist.
    pub fn is_missing_record(&self) -> bool {
        self.odoo_kind() == Some(OdooErrorKind::MissingError)
    }

    /// Whether the client is misconfigured ([`Error::Config`]): fix the settings, retrying does
    /// not help.
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config { .. })
    }

    /// Why the configuration was refused, for an [`Error::Config`].
    ///
    /// ```
    /// use odoo_connect_client::{OdooClient, error::ConfigReason};
    /// let e = OdooClient::builder("ftp://erp.example.com").build().unwrap_err();
    /// assert!(e.is_config());
    /// assert_eq!(
    ///     e.config_reason(),
    ///     Some(&ConfigReason::UnsupportedScheme { scheme: "ftp".into() })
    /// );
    /// ```
    pub fn config_reason(&self) -> Option<&ConfigReason> {
        match self {
            Error::Config { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// A configuration error of `reason`, revealed by `source`.
    pub(crate) fn config_caused_by(
        reason: ConfigReason,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Config {
            reason,
            source: Some(source.into()),
        }
    }
}

/// The class of an Odoo exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OdooErrorKind {
    /// Bad credentials (`odoo.exceptions.AccessDenied`; HTTP 401 on JSON-2).
    AccessDenied,
    /// The user lacks a right (`odoo.exceptions.AccessError`; HTTP 403 on JSON-2).
    AccessError,
    /// A constraint failed (`odoo.exceptions.ValidationError`).
    ValidationError,
    /// A business rule refused the operation (`odoo.exceptions.UserError`).
    UserError,
    /// A record does not exist (`odoo.exceptions.MissingError`).
    MissingError,
    /// The session expired (JSON-RPC code 100).
    SessionExpired,
    /// A concurrent transaction got in the way: a serialisation failure, a deadlock or a lock
    /// that could not be obtained (`psycopg2.errors.SerializationFailure`, `DeadlockDetected`,
    /// `LockNotAvailable`, `odoo.exceptions.ConcurrencyError`, HTTP 409). Odoo rolled the
    /// call back, so repeating it is safe; it reaches the client once Odoo's own five tries
    /// (`odoo/service/model.py` `retrying`) are spent, over JSON-RPC as an error with code 0
    /// and over JSON-2 as HTTP 500.
    Conflict,
    /// Any other exception: see [`OdooException::name`].
    Other,
}

impl OdooErrorKind {
    /// Classifies an exception by its Python name and, on JSON-2, the HTTP status.
    pub fn classify(name: &str, code: Option<i64>, http_status: Option<u16>) -> Self {
        let short = name.rsplit('.').next().unwrap_or(name);
        match short {
            "AccessDenied" => OdooErrorKind::AccessDenied,
            "AccessError" => OdooErrorKind::AccessError,
            "ValidationError" => OdooErrorKind::ValidationError,
            "UserError" | "RedirectWarning" => OdooErrorKind::UserError,
            "MissingError" => OdooErrorKind::MissingError,
            "SessionExpiredException" => OdooErrorKind::SessionExpired,
            "SerializationFailure"
            | "DeadlockDetected"
            | "LockNotAvailable"
            | "TransactionRollbackError"
            | "ConcurrencyError" => OdooErrorKind::Conflict,
            _ => match (code, http_status) {
                (Some(100), _) => OdooErrorKind::SessionExpired,
                (_, Some(401)) => OdooErrorKind::AccessDenied,
                (_, Some(403)) => OdooErrorKind::AccessError,
                (_, Some(409)) => OdooErrorKind::Conflict,
                _ => OdooErrorKind::Other,
            },
        }
    }
}

/// An exception raised by Odoo, as its error reply describes it.
///
/// The client builds it from the error reply ([`OdooException::from_data`]); fakes and tests
/// build one with [`OdooException::new`] (the struct is `#[non_exhaustive]`, so that a detail of
/// a future reply can be added).
#[derive(Clone)]
#[non_exhaustive]
pub struct OdooException {
    /// The class.
    pub kind: OdooErrorKind,
    /// The Python exception name (`odoo.exceptions.ValidationError`).
    pub name: String,
    /// The message Odoo shows the user.
    pub message: String,
    /// The exception's arguments.
    pub arguments: Value,
    /// The context Odoo echoed back.
    pub context: Value,
    /// The server-side traceback, kept for diagnosis but never shown by `Display`.
    pub debug: Option<String>,
    /// The JSON-RPC `error.code` (0 from 19, 200 up to 18, 100 session expired).
    pub code: Option<i64>,
    /// The HTTP status (JSON-2 carries the class in it; JSON-RPC always answers 200).
    pub http_status: Option<u16>,
}

impl OdooException {
    /// An exception of this kind, Python name and message, without arguments, context,
    /// traceback, error code or HTTP status; set those on the result when they matter.
    ///
    /// ```
    /// use odoo_connect_client::{Error, OdooErrorKind, OdooException};
    /// let mut e = OdooException::new(
    ///     OdooErrorKind::UserError,
    ///     "odoo.exceptions.UserError",
    ///     "Nothing to invoice",
    /// );
    /// e.code = Some(200);
    /// let err = Error::from(e);
    /// assert_eq!(err.to_string(), "odoo.exceptions.UserError: Nothing to invoice");
    /// assert_eq!(err.odoo_kind(), Some(OdooErrorKind::UserError));
    /// assert!(!err.is_retryable());
    /// ```
    pub fn new(kind: OdooErrorKind, name: impl Into<String>, message: impl Into<String>) -> Self {
        OdooException {
            kind,
            name: name.into(),
            message: message.into(),
            arguments: Value::Null,
            context: Value::Null,
            debug: None,
            code: None,
            http_status: None,
        }
    }

    /// Builds an exception from the `{name, message, arguments, context, debug}` object.
    pub fn from_data(data: &Value, code: Option<i64>, http_status: Option<u16>) -> Self {
        let name = data
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let message = data
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        OdooException {
            kind: OdooErrorKind::classify(&name, code, http_status),
            name,
            message,
            arguments: data.get("arguments").cloned().unwrap_or(Value::Null),
            context: data.get("context").cloned().unwrap_or(Value::Null),
            debug: data.get("debug").and_then(Value::as_str).map(str::to_owned),
            code,
            http_status,
        }
    }

    /// Whether this exception is worth retrying: serialisation failures, deadlocks and lock
    /// conflicts ([`OdooErrorKind::Conflict`], or a message that reports one, see
    /// [`is_conflict_message`]).
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, OdooErrorKind::Conflict) || is_conflict_message(&self.message)
    }
}

impl fmt::Display for OdooException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.name.is_empty() {
            "Odoo error"
        } else {
            &self.name
        };
        if self.message.is_empty() {
            write!(f, "{name}")
        } else {
            write!(f, "{name}: {}", self.message)
        }
    }
}

impl fmt::Debug for OdooException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooException")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("message", &self.message)
            .field("code", &self.code)
            .field("http_status", &self.http_status)
            .field(
                "debug",
                &self.debug.as_ref().map(|d| format!("<{} bytes>", d.len())),
            )
            .finish()
    }
}

impl std::error::Error for OdooException {}

impl From<OdooException> for Error {
    fn from(e: OdooException) -> Self {
        Error::Odoo(Box::new(e))
    }
}

/// Whether a message of Odoo (an exception's, or one of `load`'s messages) reports a transient
/// PostgreSQL conflict rather than a problem with the data: a serialisation failure (`could
/// not serialize access due to concurrent update`), a deadlock (`deadlock detected`), a lock
/// that could not be obtained (`could not obtain lock on row ...`, `canceling statement due
/// to lock timeout`) or Odoo's `ConcurrencyError`.
///
/// `load` catches these per row and returns PostgreSQL's text in its messages, so Odoo's
/// own retry never runs; the same call a moment later usually succeeds.
///
/// ```
/// use odoo_connect_client::error::is_conflict_message;
/// assert!(is_conflict_message("could not serialize access due to concurrent update\n"));
/// assert!(is_conflict_message("deadlock detected\nDETAIL:  Process 1 waits for ShareLock"));
/// assert!(!is_conflict_message("Missing required value for the field 'Project' (project_id)"));
/// ```
pub fn is_conflict_message(message: &str) -> bool {
    const MARKERS: [&str; 9] = [
        "could not serialize access",
        "deadlock detected",
        "could not obtain lock",
        "due to lock timeout",
        "SerializationFailure",
        "DeadlockDetected",
        "LockNotAvailable",
        "TransactionRollbackError",
        "ConcurrencyError",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}

/// The first `max` characters of a body, on one line, for error messages.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn traceback_stays_out_of_display() {
        let e: Error = OdooException::from_data(
            &json!({"name": "odoo.exceptions.ValidationError", "message": "Missing required value",
                    "arguments": ["Missing required value"], "debug": "Traceback (most recent call last): secret stuff"}),
            Some(0),
            None,
        )
        .into();
        let shown = e.to_string();
        assert_eq!(
            shown,
            "odoo.exceptions.ValidationError: Missing required value"
        );
        assert!(!format!("{e:?}").contains("secret stuff"));
        assert_eq!(e.odoo_kind(), Some(OdooErrorKind::ValidationError));
        assert!(!e.is_retryable());
    }

    #[test]
    fn new_is_from_data_of_name_and_message() {
        let built = OdooException::new(
            OdooErrorKind::AccessDenied,
            "odoo.exceptions.AccessDenied",
            "Access Denied",
        );
        let read = OdooException::from_data(
            &json!({"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"}),
            None,
            None,
        );
        assert_eq!(format!("{built:?}"), format!("{read:?}"));
        assert_eq!(
            (built.arguments, built.context, built.debug),
            (Value::Null, Value::Null, None)
        );
    }

    #[test]
    fn classification() {
        use OdooErrorKind::*;
        for (name, kind) in [
            ("odoo.exceptions.AccessDenied", AccessDenied),
            ("odoo.exceptions.AccessError", AccessError),
            ("odoo.exceptions.UserError", UserError),
            ("odoo.exceptions.MissingError", MissingError),
            ("odoo.http.SessionExpiredException", SessionExpired),
            ("psycopg2.errors.SerializationFailure", Conflict),
            ("psycopg2.errors.DeadlockDetected", Conflict),
            ("psycopg2.errors.LockNotAvailable", Conflict),
            ("odoo.exceptions.ConcurrencyError", Conflict),
            ("builtins.ValueError", Other),
        ] {
            assert_eq!(OdooErrorKind::classify(name, Some(0), None), kind, "{name}");
        }
        assert_eq!(
            OdooErrorKind::classify("werkzeug.exceptions.Unauthorized", None, Some(401)),
            AccessDenied
        );
    }

    /// The message, then each source's, as a log line of the whole chain prints them.
    fn chain(e: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(s) = cur {
            out.push(s.to_string());
            cur = s.source();
        }
        out
    }

    #[test]
    fn a_cause_is_in_the_source_or_the_message_never_both() {
        let json = || serde_json::from_str::<i64>("\"seven\"").unwrap_err();
        let io = |text: &str| std::io::Error::other(text.to_owned());
        let errors = [
            Error::config_caused_by(
                ConfigReason::InvalidUrl,
                url::Url::parse("not a url").unwrap_err(),
            ),
            Error::config_caused_by(
                ConfigReason::InvalidApiKey,
                reqwest::header::HeaderValue::from_str("bearer a\nb").unwrap_err(),
            ),
            Error::Transport {
                sent: false,
                source: io("connection refused").into(),
            },
            Error::Tls {
                source: io("invalid peer certificate: UnknownIssuer").into(),
            },
            Error::credentials(io("the vault is sealed")),
            Error::Decode {
                model: "res.partner".into(),
                method: "read".into(),
                path: "[0].id".into(),
                source: json(),
            },
            Error::InvalidReply {
                reason: "the reply is not JSON".into(),
                snippet: "<html>".into(),
                source: Some(json()),
            },
            Error::Encode {
                model: "res.partner".into(),
                method: "create".into(),
                reason: "the values do not serialise to JSON".into(),
                source: Some(json()),
            },
        ];
        for e in &errors {
            let chain = chain(e);
            assert!(chain.len() >= 2, "{e:?} keeps its cause");
            for (i, cause) in chain.iter().enumerate().skip(1) {
                for outer in &chain[..i] {
                    assert!(!outer.contains(cause.as_str()), "{chain:?}");
                }
            }
        }
        assert_eq!(
            chain(&errors[0]),
            [
                "configuration error: invalid Odoo URL",
                "relative URL without a base"
            ]
        );
        assert_eq!(
            errors[2].to_string(),
            "transport error before the request was sent"
        );
        assert_eq!(
            errors[5].to_string(),
            "cannot decode `[0].id` of the res.partner.read reply"
        );
    }

    #[test]
    fn config_errors_are_typed() {
        let e = Error::from(ConfigReason::SeveralDatabases { count: 3 });
        assert!(e.is_config() && !e.is_retryable() && !e.is_unsent());
        assert_eq!(
            e.config_reason(),
            Some(&ConfigReason::SeveralDatabases { count: 3 })
        );
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(
            e.to_string(),
            "configuration error: the server has 3 databases; choose one with .database()"
        );
        let e = Error::from(ConfigReason::JsonRpcUnavailable {
            version: ServerVersion::new(22, 0),
        });
        assert!(
            e.to_string()
                .contains("Odoo 22.0, which no longer serves JSON-RPC")
        );
        assert!(
            !Error::Timeout {
                elapsed: Duration::ZERO,
                sent: true
            }
            .is_config()
        );
    }

    #[test]
    fn transport_errors_keep_their_predicates() {
        let e = Error::Transport {
            sent: false,
            source: std::io::Error::other("refused").into(),
        };
        assert!(e.is_retryable() && e.is_unsent() && !e.is_tls() && !e.is_timeout());
        let e = Error::Transport {
            sent: true,
            source: std::io::Error::other("reset").into(),
        };
        assert!(e.is_retryable() && !e.is_unsent());
        let e = Error::Tls {
            source: std::io::Error::other("expired").into(),
        };
        assert!(e.is_tls() && e.is_unsent() && !e.is_retryable());
    }

    #[test]
    fn snippet_is_bounded() {
        assert_eq!(snippet(b"<html>\n<body>", 100), "<html> <body>");
        assert_eq!(snippet(b"abcdef", 3), "abc…");
    }
}
