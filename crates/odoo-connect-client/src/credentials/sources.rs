//! Credentials read from the environment and from mounted secret files.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use secrecy::SecretString;

use super::{CredentialProvider, Credentials};
use crate::error::{Error, Result};

/// Why a credential source could not give a secret. The secret itself is never in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretSourceError {
    /// An environment variable is not set, or not valid UTF-8.
    #[error("the environment variable {name} is not set (or not UTF-8)")]
    MissingVariable {
        /// The variable.
        name: String,
    },
    /// A secret file could not be read.
    #[error("the secret file {} cannot be read", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A secret is empty (an empty variable or file, or only white space).
    #[error("the secret {what} is empty")]
    Empty {
        /// Which secret (a variable, a file, a vault field), never its value.
        what: String,
    },
    /// The vault could not be reached, or answered with a server error: may work later.
    #[error("the vault at {address} cannot be reached")]
    Unreachable {
        /// The vault's address.
        address: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The vault answered with an HTTP error.
    #[error("the vault refused {what}: HTTP {status}{}", errors_text(.errors))]
    Vault {
        /// What was asked (`read secret/data/odoo`, `approle login`...).
        what: String,
        /// The HTTP status (403 for a token without the right, 404 for a missing secret).
        status: u16,
        /// The vault's `errors` (never secret values).
        errors: Vec<String>,
    },
    /// The vault's reply is not what its API documents, or lacks a field.
    #[error("the vault's reply to {what} is not usable: {reason}")]
    Malformed {
        /// What was asked.
        what: String,
        /// What is wrong (a missing field's name, never a value).
        reason: String,
    },
}

fn errors_text(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

impl SecretSourceError {
    /// Whether the same read may succeed later without anyone changing anything (the vault
    /// unreachable, sealed or overloaded).
    pub fn is_retryable(&self) -> bool {
        match self {
            SecretSourceError::Unreachable { .. } => true,
            SecretSourceError::Vault { status, .. } => matches!(status, 429 | 500..=599),
            _ => false,
        }
    }

    /// Whether the vault refused for want of a right (HTTP 403: a token without the policy, or
    /// expired).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, SecretSourceError::Vault { status: 403, .. })
    }

    /// Whether the secret does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SecretSourceError::Vault { status: 404, .. })
    }
}

impl From<SecretSourceError> for Error {
    fn from(e: SecretSourceError) -> Self {
        Error::credentials(e)
    }
}

/// A secret's text: trailing line breaks removed (a mounted file usually ends with one), empty
/// refused.
pub(crate) fn secret_text(raw: String, what: impl FnOnce() -> String) -> Result<SecretString> {
    let text = raw.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err(SecretSourceError::Empty { what: what() }.into());
    }
    Ok(SecretString::from(text.to_owned()))
}

/// Credentials from environment variables, read again at each refresh (after Odoo refused the
/// ones in use).
///
/// ```
/// use odoo_connect_client::credentials::{CredentialProvider, EnvCredentials};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let keys = EnvCredentials::api_key("ODOO_LOGIN_OF_THIS_EXAMPLE", "ODOO_KEY_OF_THIS_EXAMPLE");
/// // Not set here: a typed error naming the variable, never a panic.
/// let e = keys.credentials().await.unwrap_err();
/// assert!(format!("{:?}", e).contains("ODOO_LOGIN_OF_THIS_EXAMPLE"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EnvCredentials {
    login: String,
    secret: String,
    api_key: bool,
}

impl EnvCredentials {
    /// An API key: the login in `login_var`, the key in `key_var`.
    pub fn api_key(login_var: impl Into<String>, key_var: impl Into<String>) -> Self {
        EnvCredentials {
            login: login_var.into(),
            secret: key_var.into(),
            api_key: true,
        }
    }

    /// A password: the login in `login_var`, the password in `password_var`.
    pub fn password(login_var: impl Into<String>, password_var: impl Into<String>) -> Self {
        EnvCredentials {
            login: login_var.into(),
            secret: password_var.into(),
            api_key: false,
        }
    }

    fn read(&self) -> Result<Credentials> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| SecretSourceError::MissingVariable {
                name: name.to_owned(),
            })
        };
        let login = var(&self.login)?;
        if login.trim().is_empty() {
            return Err(SecretSourceError::Empty {
                what: format!("variable {}", self.login),
            }
            .into());
        }
        let secret = secret_text(var(&self.secret)?, || format!("variable {}", self.secret))?;
        Ok(if self.api_key {
            Credentials::api_key(login.trim(), secret)
        } else {
            Credentials::password(login.trim(), secret)
        })
    }
}

#[async_trait]
impl CredentialProvider for EnvCredentials {
    async fn credentials(&self) -> Result<Credentials> {
        self.read()
    }
}

/// Credentials from mounted secret files (a Kubernetes secret volume, a Docker secret, a file a
/// vault agent writes): the key file is read again when it changed (its modification time or
/// size; checked with one `stat` per request) and at each refresh, so a rotated key is used
/// without a restart.
///
/// ```
/// use odoo_connect_client::credentials::{CredentialProvider, FileCredentials};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("odoo-key-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("api-key"), "key-of-monday\n")?;
/// let keys = FileCredentials::api_key("sync-bot", dir.join("api-key"));
/// let c = keys.credentials().await?;
/// assert_eq!(c.login(), "sync-bot");
/// assert!(!format!("{keys:?} {c:?}").contains("monday"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
pub struct FileCredentials {
    login: Login,
    path: PathBuf,
    api_key: bool,
    cache: Mutex<Option<Cached>>,
}

/// Where the login of a [`FileCredentials`] comes from.
#[derive(Debug, Clone)]
enum Login {
    Fixed(String),
    File(PathBuf),
}

struct Cached {
    stamp: Stamp,
    credentials: Credentials,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl fmt::Debug for FileCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCredentials")
            .field("login", &self.login)
            .field("path", &self.path)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl FileCredentials {
    /// An API key read from `path` for the fixed `login`.
    pub fn api_key(login: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self::new(Login::Fixed(login.into()), path.into(), true)
    }

    /// A password read from `path` for the fixed `login`.
    pub fn password(login: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self::new(Login::Fixed(login.into()), path.into(), false)
    }

    /// Reads the login from a file too (`login_path`), as mounted beside the key.
    pub fn login_file(mut self, login_path: impl Into<PathBuf>) -> Self {
        self.login = Login::File(login_path.into());
        self
    }

    fn new(login: Login, path: PathBuf, api_key: bool) -> Self {
        FileCredentials {
            login,
            path,
            api_key,
            cache: Mutex::new(None),
        }
    }

    fn stamp(path: &Path) -> Result<Stamp> {
        let meta = std::fs::metadata(path).map_err(|source| SecretSourceError::File {
            path: path.to_owned(),
            source,
        })?;
        Ok(Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }

    fn read_file(path: &Path) -> Result<String> {
        std::fs::read_to_string(path).map_err(|source| {
            SecretSourceError::File {
                path: path.to_owned(),
                source,
            }
            .into()
        })
    }

    fn load(&self, force: bool) -> Result<Credentials> {
        let stamp = Self::stamp(&self.path)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref()
            && !force
            && c.stamp == stamp
        {
            return Ok(c.credentials.clone());
        }
        let secret = secret_text(Self::read_file(&self.path)?, || {
            format!("file {}", self.path.display())
        })?;
        let login = match &self.login {
            Login::Fixed(login) => login.clone(),
            Login::File(path) => {
                let text = Self::read_file(path)?;
                let login = text.trim();
                if login.is_empty() {
                    return Err(SecretSourceError::Empty {
                        what: format!("file {}", path.display()),
                    }
                    .into());
                }
                login.to_owned()
            }
        };
        let credentials = if self.api_key {
            Credentials::api_key(login, secret)
        } else {
            Credentials::password(login, secret)
        };
        *cache = Some(Cached {
            stamp,
            credentials: credentials.clone(),
        });
        Ok(credentials)
    }
}

#[async_trait]
impl CredentialProvider for FileCredentials {
    async fn credentials(&self) -> Result<Credentials> {
        self.load(false)
    }

    async fn refresh(&self) -> Result<Credentials> {
        self.load(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("odoo-creds-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn a_rotated_file_is_read_again_and_never_printed() {
        let d = dir("rotate");
        let key = d.join("key");
        let login = d.join("login");
        std::fs::write(&key, "first-secret\n").unwrap_or_default();
        std::fs::write(&login, "sync-bot\n").unwrap_or_default();
        let p = FileCredentials::api_key("ignored", &key).login_file(&login);
        let c = p.credentials().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.login(), "sync-bot");
        assert_eq!(c.secret().expose_secret(), "first-secret");
        // A rotation writes a new key (of another length, as most do); a refresh forces a read
        // whatever the stamp says.
        std::fs::write(&key, "second-secret-longer").unwrap_or_default();
        let c = p.credentials().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.secret().expose_secret(), "second-secret-longer");
        std::fs::write(&key, "third-secret-longer!").unwrap_or_default();
        let c = p.refresh().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.secret().expose_secret(), "third-secret-longer!");
        assert!(!format!("{p:?}").contains("secret-"));
        std::fs::write(&key, "\n").unwrap_or_default();
        let e = p
            .refresh()
            .await
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(e.contains("Empty"), "{e}");
        std::fs::remove_file(&key).unwrap_or_default();
        let e = p
            .refresh()
            .await
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(e.contains("File"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
