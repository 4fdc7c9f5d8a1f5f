//! Checks before billing: what must hold before any invoice of a contract is released.

use super::{BookedContract, Flows};
use odoo_connect_sync::step::{StepContext, StepResult};

/// Runs the checks before billing for contract `b`; a failed check is a business hold.
pub(super) async fn before_billing(
    _f: &Flows,
    _cx: &StepContext,
    _b: &BookedContract,
) -> StepResult {
    Ok(())
}
