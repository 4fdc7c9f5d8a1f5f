//! How the report reads a pipeline's messages: the [`ReportedMessage`] trait any pipeline's
//! message type implements, and the contracts a pipeline booked ([`KnownContract`]).
//!
//! The contract-to-cash flows implement it for their `FlowMessage` (feature `flows`, on by
//! default); a pipeline of your own implements it for its message type and reports with
//! [`collect_messages`](crate::collect_messages).

use odoo_connect_canonical::{Contract, ContractKey, ExternalRef, Payment, TimeEntry};
use odoo_connect_sync::envelope::{CorrelationId, JsonEnvelope};

/// What a message is, as the report sorts the dead letters.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Work<'a> {
    /// A deal to book: its contract, the client's name, its CRM deal and its project's key.
    Deal {
        /// The contract.
        contract: &'a Contract,
        /// The client's legal name.
        client: &'a str,
        /// The deal in the CRM.
        crm: Option<&'a ExternalRef>,
        /// The project's key.
        project: Option<&'a str>,
    },
    /// Approved time to record and bill (an unbilled row while it is held).
    Time(&'a TimeEntry),
    /// A contract's invoices to release (a failed release while it is parked).
    Release(&'a ContractKey),
    /// A payment received (an unmatched credit when it has no allocation).
    Payment(&'a Payment),
    /// Anything else: counted in the dead letters, in no business section.
    Other,
}

/// A pipeline's message type, as the operations report reads it.
///
/// ```
/// use odoo_connect_canonical::{ContractKey, TimeEntry};
/// use odoo_connect_ops::{ReportedMessage, Work};
/// use odoo_connect_sync::envelope::JsonEnvelope;
///
/// #[derive(serde::Deserialize)]
/// enum MyMessage {
///     Time(TimeEntry),
///     Audit(String),
/// }
///
/// impl ReportedMessage for MyMessage {
///     fn read(envelope: &JsonEnvelope) -> Option<Self> {
///         serde_json::from_value(envelope.payload.clone()).ok()
///     }
///     fn work(&self) -> Work<'_> {
///         match self {
///             MyMessage::Time(entry) => Work::Time(entry),
///             MyMessage::Audit(_) => Work::Other,
///         }
///     }
/// }
/// ```
pub trait ReportedMessage: Sized {
    /// The message of a queued or parked envelope, or `None` when it is not one of this
    /// pipeline's (it is then counted, and left out of the business sections).
    fn read(envelope: &JsonEnvelope) -> Option<Self>;

    /// What the message is.
    fn work(&self) -> Work<'_>;

    /// The contract the message concerns, by its key's text: by default the deal's or the
    /// release's contract, else the contract of the envelope's lane when the lane is
    /// `contract:<key>`.
    fn contract(&self, envelope: &JsonEnvelope) -> Option<String> {
        match self.work() {
            Work::Deal { contract, .. } => Some(contract.key.to_string()),
            Work::Release(c) => Some(c.to_string()),
            _ => envelope
                .lane
                .as_str()
                .strip_prefix("contract:")
                .map(str::to_owned),
        }
    }

    /// The correlation id of a contract's messages, which the report's rows link to their trace
    /// with; by default none.
    fn correlation(contract: &ContractKey) -> Option<CorrelationId> {
        let _ = contract;
        None
    }
}

/// A contract a pipeline booked: its terms, the CRM deal, the sale order and the project.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KnownContract {
    /// The contract.
    pub contract: Contract,
    /// The deal in the CRM.
    pub crm: Option<ExternalRef>,
    /// The sale order's id in Odoo.
    pub order_id: Option<i64>,
    /// The sale order's number (`S00042`), empty when unknown.
    pub order_name: String,
    /// The project's key.
    pub project: Option<String>,
}

impl KnownContract {
    /// A contract with nothing else known yet.
    pub fn new(contract: Contract) -> Self {
        KnownContract {
            contract,
            crm: None,
            order_id: None,
            order_name: String::new(),
            project: None,
        }
    }

    /// The deal in the CRM.
    pub fn crm(mut self, crm: ExternalRef) -> Self {
        self.crm = Some(crm);
        self
    }

    /// The sale order in Odoo, by id and number.
    pub fn order(mut self, id: i64, name: impl Into<String>) -> Self {
        self.order_id = Some(id);
        self.order_name = name.into();
        self
    }

    /// The project's key.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }
}

#[cfg(feature = "flows")]
mod flows {
    use super::{KnownContract, ReportedMessage, Work};
    use odoo_connect_canonical::ContractKey;
    use odoo_connect_flows::{BookedContract, FlowMessage};
    use odoo_connect_sync::envelope::{CorrelationId, JsonEnvelope};

    impl ReportedMessage for FlowMessage {
        fn read(envelope: &JsonEnvelope) -> Option<Self> {
            serde_json::from_value(envelope.payload.clone()).ok()
        }

        fn work(&self) -> Work<'_> {
            match self {
                FlowMessage::WonDeal { deal } => Work::Deal {
                    contract: &deal.contract,
                    client: &deal.client.legal_name,
                    crm: deal.crm.as_ref(),
                    project: Some(deal.project.key.as_str()),
                },
                FlowMessage::ApprovedTime { entry } => Work::Time(entry),
                FlowMessage::ReleaseInvoices { contract } => Work::Release(contract),
                FlowMessage::Payment { payment } => Work::Payment(payment),
                _ => Work::Other,
            }
        }

        fn correlation(contract: &ContractKey) -> Option<CorrelationId> {
            Some(odoo_connect_flows::correlation_for(contract))
        }
    }

    impl From<BookedContract> for KnownContract {
        fn from(b: BookedContract) -> Self {
            let mut known = KnownContract::new(b.contract).project(b.project.to_string());
            known.crm = b.crm;
            known.order_id = Some(b.order_id.get());
            known.order_name = b.order_name;
            known
        }
    }
}
