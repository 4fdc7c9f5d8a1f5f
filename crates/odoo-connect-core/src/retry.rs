//! Retry classification: the one question every layer's error answers, so that a pipeline step
//! turns any of them into the right stop with `?`.
//!
//! The Odoo client's errors, the connectors' errors, the state stores' errors and the envelope
//! errors all implement [`Retryable`]: a timeout, an HTTP 503, a rate limit, a database
//! serialisation conflict or a quota that frees at a known time are worth another attempt (after
//! [`Retryable::retry_after`] when the remote side said how long); bad data, refused credentials or
//! a missing record are not.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Whether another attempt of the same call may succeed, and when.
///
/// ```
/// use std::time::Duration;
/// use odoo_connect_core::retry::Retryable;
///
/// #[derive(Debug)]
/// struct Busy;
/// impl Retryable for Busy {
///     fn is_retryable(&self) -> bool { true }
///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(30)) }
/// }
/// assert!(Busy.is_retryable());
/// ```
pub trait Retryable {
    /// Whether the same call may succeed later without anyone changing anything.
    fn is_retryable(&self) -> bool;

    /// How long the remote side asked to wait before the next attempt (`Retry-After`, the end of
    /// a quota window), when it said. Only meaningful when [`is_retryable`](Self::is_retryable).
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

impl<E: Retryable + ?Sized> Retryable for Box<E> {
    fn is_retryable(&self) -> bool {
        (**self).is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
}

impl<E: Retryable + ?Sized> Retryable for &E {
    fn is_retryable(&self) -> bool {
        (**self).is_retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
}

/// The wait a `Retry-After` header value asks for: delay seconds, or an HTTP date measured from
/// `now` (a date in the past is no wait). Anything else is `None`.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use odoo_connect_core::retry::parse_retry_after;
/// let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
/// assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(60)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
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
