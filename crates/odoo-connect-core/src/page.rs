//! Reading in pages: the [`Cursor`] a source resumes from, the [`Page`] it returns, and the
//! [`Rejected`] records it could not read, with their [`Location`].
//!
//! A pipeline pulls pages from a [`Feed`](crate::feed::Feed) and commits each page's cursor as
//! its checkpoint once the page's messages are queued.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a [`Cursor`] could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The state could not be encoded as JSON.
    #[error("cannot encode a cursor")]
    Encode(#[source] serde_json::Error),
    /// The text is not a cursor this source made (another source's, or an older version's).
    #[error("cursor {cursor:?} is not one this source made")]
    Foreign {
        /// The cursor's text.
        cursor: String,
    },
}

/// Where a source resumes: opaque text only the connector that made it reads. In JSON: a string.
///
/// Store it once the changes before it are durable; hand it back to the source to get what
/// changed since.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor holding `text`.
    pub fn new(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }

    /// The cursor's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cursor's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// A cursor holding `state` as JSON (for sources whose position has several parts).
    ///
    /// ```
    /// use odoo_connect_core::page::Cursor;
    /// let cursor = Cursor::from_state(&(42u64, "2025-01-01"))?;
    /// assert_eq!(cursor.state::<(u64, String)>()?, (42, "2025-01-01".to_owned()));
    /// assert!(Cursor::new("not json").state::<(u64, String)>().is_err());
    /// # Ok::<(), odoo_connect_core::page::CursorError>(())
    /// ```
    pub fn from_state<T: Serialize>(state: &T) -> Result<Cursor, CursorError> {
        serde_json::to_string(state)
            .map(Cursor)
            .map_err(CursorError::Encode)
    }

    /// The state a [`Cursor::from_state`] cursor holds; [`CursorError::Foreign`] when the text is
    /// not one.
    pub fn state<T: serde::de::DeserializeOwned>(&self) -> Result<T, CursorError> {
        serde_json::from_str(&self.0).map_err(|_| CursorError::Foreign {
            cursor: self.0.clone(),
        })
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({:?})", self.0)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where bad data was found: a line, a record, a field, or several of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Line number in a file, from 1 (the header of a CSV file is line 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The record's id in its system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The field or column, or a path such as `Ntry[3]/Amt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Location {
    /// Nowhere in particular.
    pub fn unknown() -> Location {
        Location::default()
    }

    /// At a line.
    pub fn line(line: u64) -> Location {
        Location {
            line: Some(line),
            ..Location::default()
        }
    }

    /// At a record.
    pub fn record(id: impl Into<String>) -> Location {
        Location {
            record: Some(id.into()),
            ..Location::default()
        }
    }

    /// The same location, in a field.
    pub fn field(mut self, field: impl Into<String>) -> Location {
        self.field = Some(field.into());
        self
    }

    /// The same location, in a record.
    pub fn in_record(mut self, id: impl Into<String>) -> Location {
        self.record = Some(id.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if let Some(r) = &self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(field) = &self.field {
            parts.push(format!("field {field}"));
        }
        if parts.is_empty() {
            f.write_str("unknown location")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Why a source set a record aside: data it cannot read, or a business exception.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectKind {
    /// The record cannot be read (a malformed row, a value of the wrong type): a technical dead
    /// letter, fixed in the data and replayed.
    #[default]
    BadData,
    /// The record reads well but cannot go on as it is (a won deal with no client, a country no
    /// one recognises): a business hold, for a person to decide.
    Business,
}

/// A record or row a source could not turn into a change: where, why, and its raw text, so that
/// nothing is lost (it goes to a dead-letter store and can be fixed and replayed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejected {
    /// Where it is.
    pub location: Location,
    /// Why it was refused.
    pub reason: String,
    /// The record as the system sent it (a CSV line, a JSON object, an XML element).
    pub raw: String,
    /// Bad data or a business exception.
    #[serde(default)]
    pub kind: RejectKind,
}

impl Rejected {
    /// A record that cannot be read ([`RejectKind::BadData`]).
    pub fn new(location: Location, reason: impl Into<String>, raw: impl Into<String>) -> Rejected {
        Rejected {
            location,
            reason: reason.into(),
            raw: raw.into(),
            kind: RejectKind::BadData,
        }
    }

    /// A record held as a business exception ([`RejectKind::Business`]): it reads well, but a
    /// person must act before it can go on (`reason` says what is missing).
    ///
    /// ```
    /// use odoo_connect_core::page::{Location, Rejected};
    /// let held = Rejected::business(Location::record("deal-7"), "no_client: the deal has no company", "{}");
    /// assert!(held.is_business());
    /// ```
    pub fn business(
        location: Location,
        reason: impl Into<String>,
        raw: impl Into<String>,
    ) -> Rejected {
        Rejected {
            kind: RejectKind::Business,
            ..Rejected::new(location, reason, raw)
        }
    }

    /// Whether this is a business exception rather than bad data.
    pub fn is_business(&self) -> bool {
        self.kind == RejectKind::Business
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// One page of a source: its items, what it rejected, where to resume and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the order the source read them.
    pub items: Vec<T>,
    /// The records of this page that could not be read.
    #[serde(default)]
    pub rejected: Vec<Rejected>,
    /// Where the next pull starts; `None` only when nothing was read yet and the pull began at the
    /// start.
    pub cursor: Option<Cursor>,
    /// Whether more pages follow now; when `false`, pulling again from `cursor` later gives what
    /// changed in the meantime.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page without rejects.
    pub fn new(items: Vec<T>, cursor: Option<Cursor>, has_more: bool) -> Page<T> {
        Page {
            items,
            rejected: Vec::new(),
            cursor,
            has_more,
        }
    }

    /// The same page with these rejects.
    pub fn with_rejected(mut self, rejected: Vec<Rejected>) -> Page<T> {
        self.rejected = rejected;
        self
    }
}
