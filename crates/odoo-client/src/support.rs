//! Small helpers the odoo-connect crates share: a stable hash and the `Retry-After` header.
//!
//! They are public so that connectors in other crates read `Retry-After` and derive stable ids
//! exactly as the Odoo client and the sync layer do.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// 64-bit FNV-1a: small, and stable across releases, runs and platforms (unlike `std`'s
/// `DefaultHasher`), so it can name things that are stored.
///
/// ```
/// assert_eq!(odoo_client::support::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
/// assert_eq!(odoo_client::support::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The wait a `Retry-After` value asks for: delay seconds, or an HTTP date measured from `now`
/// (a date in the past is no wait). Anything else is `None`.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use odoo_client::support::parse_retry_after;
/// let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
/// assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(60)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The `Retry-After` header of a reply, read by [`parse_retry_after`].
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("10"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }
}
