//! Helpers shared by the SQL backends: error classification and value codes.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sync::store::{FailureClass, LedgerState, StoreError};

/// Queue row status codes.
pub(crate) const STATUS_ACTIVE: i16 = 0;
pub(crate) const STATUS_DONE: i16 = 1;
pub(crate) const STATUS_DEAD: i16 = 2;

/// Wraps a database error, deciding whether it is worth retrying.
pub(crate) fn db_err(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend {
        op,
        retryable: is_retryable(&e),
        source: Box::new(e),
    }
}

/// Serialisation failures, deadlocks, lost connections, busy databases, pool time-outs.
pub(crate) fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            // PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available,
            // connection exceptions (class 08), admin/crash shutdown, cannot_connect_now.
            if matches!(
                code.as_ref(),
                "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03"
            ) || code.starts_with("08")
            {
                return true;
            }
            // SQLite result codes (extended codes keep the primary code in the low byte):
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6).
            code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
        }
        _ => false,
    }
}

pub(crate) fn class_code(c: FailureClass) -> i16 {
    match c {
        FailureClass::Business => 0,
        FailureClass::Technical => 1,
    }
}

pub(crate) fn class_from_code(c: i16) -> Result<FailureClass, StoreError> {
    match c {
        0 => Ok(FailureClass::Business),
        1 => Ok(FailureClass::Technical),
        _ => Err(StoreError::Corrupt {
            what: format!("failure class code {c}"),
            source: None,
        }),
    }
}

pub(crate) fn ledger_code(s: LedgerState) -> i16 {
    match s {
        LedgerState::InFlight => 0,
        LedgerState::Done => 1,
        LedgerState::Abandoned => 2,
        LedgerState::Failed => 3,
    }
}

pub(crate) fn ledger_from_code(c: i16) -> Result<LedgerState, StoreError> {
    match c {
        0 => Ok(LedgerState::InFlight),
        1 => Ok(LedgerState::Done),
        2 => Ok(LedgerState::Abandoned),
        3 => Ok(LedgerState::Failed),
        _ => Err(StoreError::Corrupt {
            what: format!("ledger state code {c}"),
            source: None,
        }),
    }
}

/// A stored count (never negative) as `u32`.
pub(crate) fn to_u32(what: &'static str, n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|e| StoreError::corrupt(what, e))
}

/// A stored count (never negative) as `u64`.
pub(crate) fn to_u64(what: &'static str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|e| StoreError::corrupt(what, e))
}

/// A `u64` for a BIGINT column.
pub(crate) fn to_i64(what: &'static str, n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::InvalidArgument {
        reason: format!("{what} {n} is too large"),
    })
}

/// Microseconds since the epoch (how SQLite keeps times).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Reads [`to_micros`].
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn from_micros(what: &'static str, us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(us).ok_or_else(|| StoreError::Corrupt {
        what: format!("{what} timestamp {us}"),
        source: None,
    })
}

/// Decodes a stored JSON value of type `T`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    v: Value,
) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| StoreError::corrupt(what, e))
}

/// Decodes stored JSON text of type `T`.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn decode_json_text<T: serde::de::DeserializeOwned>(
    what: &'static str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(what, e))
}

/// Encodes a value as JSON.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn encode_json<T: serde::Serialize + ?Sized>(
    what: &'static str,
    v: &T,
) -> Result<Value, StoreError> {
    serde_json::to_value(v).map_err(|source| StoreError::Encode { what, source })
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
