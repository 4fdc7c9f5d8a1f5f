//! Helpers shared by the SQL backends: error classification and value codes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::envelope::IdempotencyKey;
use crate::store::{
    Begin, Claim, FailureClass, LedgerEntry, LedgerState, StoreError, add_duration,
};

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

/// A claim granted by one batch upsert of the ledger.
pub(crate) struct Granted {
    pub(crate) key: String,
    pub(crate) attempts: i64,
    pub(crate) last_error: Option<String>,
}

/// What the SQL backends provide so that [`begin_many`] can grant ledger claims in batches.
#[async_trait::async_trait]
pub(crate) trait LedgerSql: Send + Sync {
    /// The store's clock.
    fn ledger_now(&self) -> DateTime<Utc>;

    /// One statement: insert new keys as in flight, and take over keys that were released or
    /// whose claim expired at `now`; returns the keys granted. Keys are distinct and sorted.
    async fn upsert_claims(
        &self,
        claims: &[(&IdempotencyKey, &Value, Uuid)],
        claimed_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Granted>, StoreError>;

    /// The current entry for `key`.
    async fn read_entry(&self, key: &IdempotencyKey) -> Result<Option<LedgerEntry>, StoreError>;
}

/// Grants ledger claims for a batch of keys: one upsert, then a read of the keys it did not
/// grant; a key released between the two is tried again.
pub(crate) async fn begin_many<S: LedgerSql>(
    store: &S,
    requests: &[(IdempotencyKey, Value)],
    claim_for: std::time::Duration,
) -> Result<Vec<Begin>, StoreError> {
    let mut out: Vec<Option<Begin>> = vec![None; requests.len()];
    let mut first: HashMap<&IdempotencyKey, usize> = HashMap::new();
    let mut duplicates = Vec::new();
    let mut pending = Vec::new();
    for (i, (key, _)) in requests.iter().enumerate() {
        match first.get(key) {
            Some(&j) => duplicates.push((i, j)),
            None => {
                first.insert(key, i);
                pending.push(i);
            }
        }
    }
    // A fixed lock order keeps concurrent batches from deadlocking.
    pending.sort_by(|a, b| requests[*a].0.cmp(&requests[*b].0));
    for _ in 0..8 {
        if pending.is_empty() {
            break;
        }
        let now = store.ledger_now();
        let claimed_until = add_duration(now, claim_for)?;
        let claims: Vec<(&IdempotencyKey, &Value, Uuid)> = pending
            .iter()
            .map(|&i| (&requests[i].0, &requests[i].1, Uuid::new_v4()))
            .collect();
        let granted = store.upsert_claims(&claims, claimed_until, now).await?;
        let granted: HashMap<&str, &Granted> =
            granted.iter().map(|g| (g.key.as_str(), g)).collect();
        let mut retry = Vec::new();
        for (&i, (key, _, token)) in pending.iter().zip(&claims) {
            if let Some(g) = granted.get(key.as_str()) {
                let attempts = to_u32("attempts", g.attempts)?;
                let claim = Claim {
                    key: (*key).clone(),
                    token: *token,
                    attempts,
                    claimed_until,
                };
                out[i] = Some(if attempts == 1 {
                    Begin::New(claim)
                } else {
                    Begin::Resumed {
                        claim,
                        last_error: g.last_error.clone(),
                    }
                });
                continue;
            }
            match store.read_entry(key).await? {
                Some(e) if e.state == LedgerState::Done => {
                    out[i] = Some(Begin::Done {
                        outcome: e.outcome.unwrap_or(Value::Null),
                    });
                }
                Some(e) if e.state == LedgerState::InFlight && e.claimed_until > now => {
                    out[i] = Some(Begin::InFlight {
                        attempts: e.attempts,
                        claimed_until: e.claimed_until,
                    });
                }
                _ => retry.push(i),
            }
        }
        pending = retry;
    }
    if !pending.is_empty() {
        return Err(StoreError::Backend {
            op: "begin",
            retryable: true,
            source: "ledger entries kept changing under concurrent workers".into(),
        });
    }
    for (i, j) in duplicates {
        out[i] = Some(match &out[j] {
            Some(Begin::New(c)) | Some(Begin::Resumed { claim: c, .. }) => Begin::InFlight {
                attempts: c.attempts,
                claimed_until: c.claimed_until,
            },
            Some(other) => other.clone(),
            None => {
                return Err(StoreError::InvalidArgument {
                    reason: "duplicate key without an answer".into(),
                });
            }
        });
    }
    out.into_iter()
        .map(|b| {
            b.ok_or_else(|| StoreError::InvalidArgument {
                reason: "ledger batch left a key unanswered".into(),
            })
        })
        .collect()
}
