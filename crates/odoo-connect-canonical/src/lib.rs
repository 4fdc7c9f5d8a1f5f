//! Layer 2: the canonical professional-services model and its business rules.
//!
//! Every connector translates its system to these types, and one mapping translates them to Odoo, so
//! no system's fields are mapped straight onto another's. The module knows nothing of Odoo: names
//! here never meet the Odoo client's (a [`Client`] is a customer, not an HTTP handle).
//!
//! - **Values**: [`Money`] in a [`Currency`] with checked arithmetic, rounding half away from zero
//!   and allocation to the cent; canonical keys ([`ClientKey`], [`ContractKey`], ...) and
//!   [`ExternalRefs`], the ids an object has in each system.
//! - **Documents**: [`LegalEntity`], [`Client`], [`Contract`] with its [`BillingLine`]s and
//!   [`Milestone`]s, [`ChangeOrder`], [`Project`], [`TimeEntry`], [`Expense`], [`InvoiceEvent`],
//!   [`Payment`]. Each [validates](Validate) itself, reporting every problem with its field path, and
//!   serialises to a stable JSON form carrying `"schema_version": 1` ([`SchemaVersion`]); their JSON
//!   Schemas are in `docs/schema/` ([`json_schemas`]).
//! - **Rules** ([`rules`]): what may be invoiced now, the revenue schedule, and amendments; pure
//!   functions of their inputs.
//!
//! In JSON, amounts and hours are strings (`"1234.50"`) so no reader turns them into binary floats,
//! dates are `YYYY-MM-DD`, enums are snake case, and optional fields are left out when empty.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod address;
mod change_order;
mod client;
mod contract;
mod currency;
mod expense;
mod invoice;
mod key;
mod legal_entity;
mod money;
mod payment;
mod period;
mod project;
pub mod rules;
mod schema;
mod time;
mod validate;

pub use address::{Address, CountryCode, CountryCodeError};
pub use change_order::{AmendmentError, Change, ChangeOrder, ContractDiff, DiffEntry};
pub use client::{Client, PaymentTerms};
pub use contract::{
    Acceptance, AppliedChangeOrder, BillingKind, BillingLine, Contract, ContractStatus,
    FixedFeeMilestones, FixedFeeRecognition, Milestone, PassThroughExpenses, Rate,
    RecurringService, Retainer, TimeAndMaterials, TopUp, TransitionError,
};
pub use currency::{Currency, CurrencyError};
pub use expense::Expense;
pub use invoice::{InvoiceEvent, InvoiceKind, InvoiceLine, InvoiceStatus, LineSource, TaxAmount};
pub use key::{
    BillingLineId, ChangeOrderKey, ClientKey, ContractKey, EmployeeKey, ExpenseKey, ExternalRef,
    ExternalRefs, InvoiceKey, KeyError, LegalEntityKey, MAX_KEY_LEN, MilestoneKey, PaymentKey,
    ProjectKey, Role, TaskKey, TimeEntryKey, check_key,
};
pub use legal_entity::{LegalEntity, TaxRegime};
pub use money::{Money, MoneyError};
pub use payment::{Payment, PaymentAllocation, PaymentMethod};
pub use period::{
    PeriodAnchor, Recurrence, ServicePeriod, YearMonth, YearMonthError, anchored_periods,
    service_periods,
};
pub use project::{Project, ProjectStatus};
pub use schema::{SCHEMA_VERSION, SchemaVersion, json_schemas, schema_of};
pub use time::{ApprovalState, TimeEntry, TimesheetValues};
pub use validate::{Problem, ProblemCode, Validate, ValidationErrors};
