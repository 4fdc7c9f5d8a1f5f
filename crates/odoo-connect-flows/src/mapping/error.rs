//! The mapping layer's error.

use odoo_connect_canonical::MoneyError;
use odoo_connect_client::RecordId;

/// Why a canonical document could not be turned into Odoo values, or an Odoo record into a
/// canonical document.
///
/// Every variant names the field it is about with a path: canonical paths such as
/// `billing_lines[1].rate_card[0].role` on the way to Odoo, Odoo paths such as
/// `account.move.currency_id` on the way back. Fields that a version of Odoo lacks are not errors:
/// they are reported in [`Mapped::unsupported`](super::Mapped::unsupported). An error means that the
/// mapping would have produced wrong data.
///
/// ```
/// use odoo_connect_flows::mapping::MappingError;
/// let e = MappingError::missing_field("account.move", "invoice_date");
/// assert_eq!(e.path(), "account.move.invoice_date");
/// assert_eq!(e.to_string(), "account.move.invoice_date: the Odoo record has no value");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The [`MappingContext`](super::MappingContext) does not resolve an Odoo id the mapping needs
    /// (the company of a legal entity, the partner of a client, the product of a billing kind...).
    #[error("{path}: no Odoo id resolved for {what}")]
    MissingId {
        /// The canonical field that needs it.
        path: String,
        /// What is missing (`res.partner of client acme`).
        what: String,
    },
    /// A value the canonical document needs is empty in the Odoo record.
    #[error("{path}: the Odoo record has no value")]
    MissingField {
        /// `model.field`.
        path: String,
    },
    /// A selection value this mapping does not know.
    #[error("{path}: unknown selection value `{value}`")]
    UnknownSelection {
        /// `model.field`.
        path: String,
        /// The value Odoo sent.
        value: String,
    },
    /// A known value that this mapping cannot take (a vendor bill given as a customer invoice).
    #[error("{path}: `{found}` where {expected} was expected")]
    Unexpected {
        /// `model.field`.
        path: String,
        /// The value found.
        found: String,
        /// What the mapping takes.
        expected: String,
    },
    /// A related record that must be known to the context to be read (a currency, a country,
    /// payment terms) is not.
    #[error("{path}: {model} record {id} is not known to the mapping context")]
    UnknownId {
        /// `model.field`.
        path: String,
        /// The related model.
        model: &'static str,
        /// The related record's id.
        id: RecordId,
    },
    /// A canonical value that the target Odoo version cannot hold, and that cannot be left out
    /// without changing what the record means.
    #[error("{path}: Odoo {version} cannot hold this: {reason}")]
    Unsupported {
        /// The canonical field.
        path: String,
        /// The Odoo version (`17.0`).
        version: String,
        /// Why.
        reason: String,
    },
    /// A value that does not make a valid canonical value (a key, an amount, a currency code).
    #[error("{path}: {reason}")]
    Invalid {
        /// The field.
        path: String,
        /// Why.
        reason: String,
    },
    /// Arithmetic on amounts failed (currencies mixed, overflow).
    #[error("{path}: amount arithmetic failed")]
    Money {
        /// The field.
        path: String,
        /// The cause.
        #[source]
        source: MoneyError,
    },
}

impl MappingError {
    /// The path of the field the error is about.
    pub fn path(&self) -> &str {
        match self {
            MappingError::MissingId { path, .. }
            | MappingError::MissingField { path }
            | MappingError::UnknownSelection { path, .. }
            | MappingError::Unexpected { path, .. }
            | MappingError::UnknownId { path, .. }
            | MappingError::Unsupported { path, .. }
            | MappingError::Invalid { path, .. }
            | MappingError::Money { path, .. } => path,
        }
    }

    /// [`MappingError::MissingId`].
    pub fn missing_id(path: impl Into<String>, what: impl Into<String>) -> Self {
        MappingError::MissingId {
            path: path.into(),
            what: what.into(),
        }
    }

    /// [`MappingError::MissingField`] for `model.field`.
    pub fn missing_field(model: &str, field: &str) -> Self {
        MappingError::MissingField {
            path: format!("{model}.{field}"),
        }
    }

    /// [`MappingError::UnknownSelection`] for `model.field`.
    pub fn unknown_selection(model: &str, field: &str, value: impl Into<String>) -> Self {
        MappingError::UnknownSelection {
            path: format!("{model}.{field}"),
            value: value.into(),
        }
    }

    /// [`MappingError::Invalid`].
    pub fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        MappingError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// [`MappingError::Money`].
    pub fn money(path: impl Into<String>, source: MoneyError) -> Self {
        MappingError::Money {
            path: path.into(),
            source,
        }
    }
}
