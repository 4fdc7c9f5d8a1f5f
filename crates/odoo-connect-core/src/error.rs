//! Walking an error's chain of causes, the one way every crate prints or stores it.

use std::error::Error;

/// The error and each of its sources, outermost first.
///
/// ```
/// use odoo_connect_core::error::{chain, chain_text};
/// let e = std::io::Error::other("the disk is full");
/// assert_eq!(chain(&e).count(), 1);
/// assert_eq!(chain_text(&e), "the disk is full");
/// ```
pub fn chain<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

/// The error and its sources on one line, `outer: inner: root`, for a text that keeps no
/// source (a stored stop, a log field).
pub fn chain_text(error: &(dyn Error + 'static)) -> String {
    chain(error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
