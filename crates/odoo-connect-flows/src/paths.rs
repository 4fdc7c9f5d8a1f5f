//! Least privilege: the flows' paths, the Odoo client (one user each) every path runs with, and
//! the segregation of duties between them.
//!
//! Each step of the flows belongs to one [`FlowPath`] and calls Odoo with that path's client
//! only ([`FlowCredentials`]): the booking path (customers, sale orders, projects) as a sales
//! user, the time path (timesheets, milestones reached) as a timesheet user, the release path
//! (invoices) as a billing user and the cash path (payments) as an accounting user. The Odoo
//! groups each path needs are [`FlowPath::required_groups`] (and `docs/security.md`).
//!
//! A [`DutyPolicy`] says which paths must not share a user;
//! [`Flows::connect_with`](crate::Flows::connect_with) refuses to start ([`DutyViolation`]) when
//! two of them do.

use std::collections::BTreeMap;
use std::fmt;

use odoo_connect_client::{OdooClient, OdooErrorKind};

use crate::FlowStep;

/// A path of the flows: the part of the work one Odoo user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FlowPath {
    /// Contract creation: customers, confirmed sale orders, projects and milestones
    /// (`contract.signed`, `deal.*`).
    Booking,
    /// Delivery: timesheets and milestones reached (`time.timesheet`, `milestone.reach`).
    Time,
    /// Invoice release: invoices made and posted, after the checks before billing
    /// (`invoice.release`, `milestone.invoice`).
    Release,
    /// Cash: payments registered, and the status read back from Odoo for the CRM
    /// (`cash.*`, `odoo.write-back`).
    Cash,
}

impl FlowPath {
    /// Every path.
    pub const ALL: &'static [FlowPath] = &[
        FlowPath::Booking,
        FlowPath::Time,
        FlowPath::Release,
        FlowPath::Cash,
    ];

    /// The path's name (`release`).
    pub fn name(self) -> &'static str {
        match self {
            FlowPath::Booking => "booking",
            FlowPath::Time => "time",
            FlowPath::Release => "release",
            FlowPath::Cash => "cash",
        }
    }

    /// The path a step of the flows belongs to.
    ///
    /// ```
    /// use odoo_connect_flows::{FlowPath, FlowStep};
    /// assert_eq!(FlowPath::of(FlowStep::InvoiceRelease), FlowPath::Release);
    /// assert_eq!(FlowPath::of(FlowStep::DealContract), FlowPath::Booking);
    /// ```
    pub fn of(step: FlowStep) -> FlowPath {
        match step {
            FlowStep::ContractSigned
            | FlowStep::DealClient
            | FlowStep::DealContract
            | FlowStep::DealProject => FlowPath::Booking,
            FlowStep::TimeTimesheet | FlowStep::MilestoneReach => FlowPath::Time,
            FlowStep::InvoiceRelease
            | FlowStep::MilestoneInvoice
            | FlowStep::RecurringInvoice
            | FlowStep::RetainerInvoice => FlowPath::Release,
            FlowStep::CashRegister | FlowStep::CashWriteBack | FlowStep::OdooWriteBack => {
                FlowPath::Cash
            }
        }
    }

    /// The Odoo groups (xml ids) the path's user needs on Odoo 19 with the modules the flows
    /// require ([`REQUIRED_MODULES`](crate::REQUIRED_MODULES)), beside being an internal user
    /// of the legal entity's company; `docs/security.md` says why each is needed. Setting Odoo
    /// up ([`Setup`](crate::Setup): products, pricelists) is an administrator's task, not a
    /// path's.
    ///
    /// ```
    /// use odoo_connect_flows::FlowPath;
    /// assert!(FlowPath::Release.required_groups().contains(&"account.group_account_invoice"));
    /// ```
    pub fn required_groups(self) -> &'static [&'static str] {
        match self {
            FlowPath::Booking => &[
                "sales_team.group_sale_salesman_all_leads",
                "base.group_partner_manager",
                "project.group_project_manager",
                "hr_timesheet.group_hr_timesheet_user",
            ],
            FlowPath::Time => &[
                "hr_timesheet.group_hr_timesheet_approver",
                "hr.group_hr_user",
                "sales_team.group_sale_salesman_all_leads",
            ],
            FlowPath::Release => &[
                "account.group_account_invoice",
                "sales_team.group_sale_salesman_all_leads",
                "project.group_project_user",
            ],
            FlowPath::Cash => &[
                "account.group_account_invoice",
                "sales_team.group_sale_salesman_all_leads",
            ],
        }
    }
}

impl fmt::Display for FlowPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Odoo client of one path and the label naming its credential in the audit trail (never
/// the secret).
#[derive(Clone)]
pub struct PathClient {
    label: String,
    odoo: OdooClient,
}

impl PathClient {
    /// `odoo`, named `label` (`odoo-billing`) in the audit trail.
    pub fn new(label: impl Into<String>, odoo: OdooClient) -> PathClient {
        PathClient {
            label: label.into(),
            odoo,
        }
    }

    /// The label of the credential.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The client.
    pub fn odoo(&self) -> &OdooClient {
        &self.odoo
    }

    /// The login of the client's credentials, when they were given to its builder (a
    /// [`CredentialProvider`](odoo_connect_client::credentials::CredentialProvider) gives them
    /// only when asked).
    pub fn login(&self) -> Option<&str> {
        self.odoo.config().credentials.as_ref().map(|c| c.login())
    }

    /// Who the client is, as far as can be told without asking Odoo: the server, the database
    /// and the login (never the secret).
    fn identity(&self) -> Option<Identity> {
        let cfg = self.odoo.config();
        Some(Identity {
            server: cfg.url.as_str().trim_end_matches('/').to_owned(),
            database: cfg.database.clone(),
            login: self.login()?.to_owned(),
        })
    }
}

impl fmt::Debug for PathClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathClient")
            .field("label", &self.label)
            .field("url", &self.odoo.url().as_str())
            .field("login", &self.login())
            .finish()
    }
}

/// One Odoo user: a login on a server's database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    server: String,
    database: Option<String>,
    login: String,
}

/// Which paths must not share an Odoo user (segregation of duties).
///
/// The default keeps release and cash apart from booking: whoever creates contracts does not
/// release their invoices nor register their payments.
///
/// ```
/// use odoo_connect_flows::{DutyPolicy, FlowPath};
/// let policy = DutyPolicy::default().apart(FlowPath::Release, FlowPath::Cash);
/// assert!(policy.requires_apart(FlowPath::Cash, FlowPath::Release));
/// assert!(policy.requires_apart(FlowPath::Booking, FlowPath::Release));
/// assert!(!DutyPolicy::none().requires_apart(FlowPath::Booking, FlowPath::Release));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyPolicy {
    apart: Vec<(FlowPath, FlowPath)>,
}

impl Default for DutyPolicy {
    fn default() -> Self {
        DutyPolicy::none()
            .apart(FlowPath::Release, FlowPath::Booking)
            .apart(FlowPath::Cash, FlowPath::Booking)
    }
}

impl DutyPolicy {
    /// No path kept apart from another (one user may do everything).
    pub fn none() -> DutyPolicy {
        DutyPolicy { apart: Vec::new() }
    }

    /// Also keeps `a` and `b` apart.
    pub fn apart(mut self, a: FlowPath, b: FlowPath) -> DutyPolicy {
        if a != b && !self.requires_apart(a, b) {
            self.apart.push((a, b));
        }
        self
    }

    /// Whether `a` and `b` must not share a user.
    pub fn requires_apart(&self, a: FlowPath, b: FlowPath) -> bool {
        self.apart
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }

    /// The pairs kept apart.
    pub fn pairs(&self) -> &[(FlowPath, FlowPath)] {
        &self.apart
    }
}

/// Two paths a [`DutyPolicy`] keeps apart share one Odoo user: the flows refuse to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {first} and {second} paths must not share an Odoo user, but both log in as `{login}` on {server}"
)]
#[non_exhaustive]
pub struct DutyViolation {
    /// One path.
    pub first: FlowPath,
    /// The other.
    pub second: FlowPath,
    /// The login they share (never the secret).
    pub login: String,
    /// The server (and database) they share it on.
    pub server: String,
}

/// The Odoo client each path of the flows runs with, and the [`DutyPolicy`] between them.
///
/// ```
/// use odoo_connect_client::OdooClient;
/// use odoo_connect_flows::{DutyPolicy, FlowCredentials, FlowPath};
/// let user = |login: &str| {
///     OdooClient::builder("https://erp.example.com")
///         .database("ps")
///         .api_key(login, "key")
///         .build()
/// };
/// let creds = FlowCredentials::new("odoo-sales", user("sales-bot")?)
///     .path(FlowPath::Time, "odoo-time", user("time-bot")?)
///     .path(FlowPath::Release, "odoo-billing", user("billing-bot")?)
///     .path(FlowPath::Cash, "odoo-cash", user("cash-bot")?);
/// assert!(creds.check().is_ok());
/// assert_eq!(creds.client(FlowPath::Release).label(), "odoo-billing");
///
/// // Release as the sales user: refused.
/// let shared = creds.path(FlowPath::Release, "odoo-billing", user("sales-bot")?);
/// let e = shared.check().unwrap_err();
/// assert_eq!((e.first, e.second, e.login.as_str()), (FlowPath::Booking, FlowPath::Release, "sales-bot"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FlowCredentials {
    clients: BTreeMap<FlowPath, PathClient>,
    policy: DutyPolicy,
}

impl FlowCredentials {
    /// Every path with `odoo`, labelled `label`, under the default [`DutyPolicy`]: set the
    /// paths the policy keeps apart with [`FlowCredentials::path`].
    pub fn new(label: impl Into<String>, odoo: OdooClient) -> FlowCredentials {
        let client = PathClient::new(label, odoo);
        FlowCredentials {
            clients: FlowPath::ALL.iter().map(|&p| (p, client.clone())).collect(),
            policy: DutyPolicy::default(),
        }
    }

    /// Every path with one client, labelled `odoo`, and no duty kept apart: what
    /// [`Flows::connect`](crate::Flows::connect) runs with (one user doing everything, as
    /// before paths had their own).
    pub fn single(odoo: OdooClient) -> FlowCredentials {
        FlowCredentials::new("odoo", odoo).duty_policy(DutyPolicy::none())
    }

    /// `path` runs with `odoo`, labelled `label`.
    pub fn path(mut self, path: FlowPath, label: impl Into<String>, odoo: OdooClient) -> Self {
        self.clients.insert(path, PathClient::new(label, odoo));
        self
    }

    /// Keeps paths apart by `policy`.
    pub fn duty_policy(mut self, policy: DutyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &DutyPolicy {
        &self.policy
    }

    /// The client of `path`.
    pub fn client(&self, path: FlowPath) -> &PathClient {
        // Every path has a client from construction on; the map is never emptied.
        &self.clients[&path]
    }

    /// Each client working in company `company_id` ([`OdooClient::with_company`]).
    pub(crate) fn with_company(&self, company_id: i64) -> FlowCredentials {
        FlowCredentials {
            clients: self
                .clients
                .iter()
                .map(|(p, c)| {
                    (
                        *p,
                        PathClient::new(c.label.clone(), c.odoo.with_company(company_id)),
                    )
                })
                .collect(),
            policy: self.policy.clone(),
        }
    }

    /// Whether the paths the policy keeps apart have different users: the same login on the
    /// same server and database is the same user, whatever its secret (a second API key of one
    /// user is still that user). A client whose login is not known before it logs in (a
    /// credential provider) is told apart by [`FlowCredentials::check_connected`].
    pub fn check(&self) -> Result<(), DutyViolation> {
        for &(a, b) in self.policy.pairs() {
            let (first, second) = if a <= b { (a, b) } else { (b, a) };
            if let (Some(x), Some(y)) = (
                self.client(first).identity(),
                self.client(second).identity(),
            ) && x == y
            {
                return Err(violation(first, second, &x.login, &x));
            }
        }
        Ok(())
    }

    /// [`FlowCredentials::check`], then, for the clients whose login is not known until they
    /// log in, the same by the user id Odoo gives them (`res.users`).
    pub async fn check_connected(&self) -> Result<(), crate::FlowError> {
        self.check()?;
        for &(a, b) in self.policy.pairs() {
            let (first, second) = if a <= b { (a, b) } else { (b, a) };
            let (x, y) = (self.client(first), self.client(second));
            if x.identity().is_some() && y.identity().is_some() {
                continue;
            }
            let same_server = x.odoo.url() == y.odoo.url()
                && x.odoo.config().database == y.odoo.config().database;
            if !same_server {
                continue;
            }
            let (ux, uy) = (x.odoo.uid().await?, y.odoo.uid().await?);
            if ux == uy {
                let login = x
                    .login()
                    .or(y.login())
                    .map_or_else(|| format!("uid {ux}"), str::to_owned);
                let server = x.odoo.url().as_str().trim_end_matches('/').to_owned();
                return Err(DutyViolation {
                    first,
                    second,
                    login,
                    server,
                }
                .into());
            }
        }
        Ok(())
    }
}

fn violation(first: FlowPath, second: FlowPath, login: &str, id: &Identity) -> DutyViolation {
    let server = match &id.database {
        Some(db) => format!("{} (database {db})", id.server),
        None => id.server.clone(),
    };
    DutyViolation {
        first,
        second,
        login: login.to_owned(),
        server,
    }
}

impl fmt::Debug for FlowCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowCredentials")
            .field("clients", &self.clients)
            .field("policy", &self.policy)
            .finish()
    }
}

/// The failure of a path's step that Odoo's `AccessError` caused, told as what the path's user
/// may not do: `the release path (user billing-bot) may not modify account.move: Odoo said You
/// are not allowed to modify 'Journal Entry' (account.move) records.` Odoo 19 names the
/// operation and the model in its message (`ir.model.access`); when it does not (a record rule
/// or a check of its own), the reason says `may not do this`.
pub(crate) fn access_refused(
    stop: odoo_connect_sync::step::Stop,
    path: FlowPath,
    user: &str,
) -> odoo_connect_sync::step::Stop {
    use odoo_connect_sync::step::Stop;
    let Some(message) = access_error_message(&stop) else {
        return stop;
    };
    let what = what_was_refused(&message).unwrap_or_else(|| "do this".to_owned());
    let said = message.lines().next().unwrap_or("").trim();
    let told = format!("the {path} path (user {user}) may not {what}: Odoo said {said}");
    let mut stop = stop;
    if let Stop::Failed { reason, .. } = &mut stop {
        *reason = told;
    }
    stop
}

/// The message of the `AccessError` behind a terminal failure: from the error it kept, or,
/// when it kept only the chain's text, from the chain.
fn access_error_message(stop: &odoo_connect_sync::step::Stop) -> Option<String> {
    use odoo_connect_sync::step::Stop;
    let Stop::Failed { errors, .. } = stop else {
        return None;
    };
    let mut next = stop
        .error()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = next {
        if let Some(ex) = e
            .downcast_ref::<odoo_connect_client::Error>()
            .and_then(odoo_connect_client::Error::as_odoo)
            .or_else(|| e.downcast_ref::<odoo_connect_client::OdooException>())
        {
            return (ex.kind == OdooErrorKind::AccessError).then(|| ex.message.clone());
        }
        next = e.source();
    }
    // Kept only as text; or caught by `load`, which returns the exception's message in its
    // messages (Odoo's model-access message starts the same way).
    errors.iter().find_map(|e| {
        e.strip_prefix("odoo.exceptions.AccessError: ")
            .or_else(|| e.find(MODEL_ACCESS).map(|at| &e[at..]))
            .map(str::to_owned)
    })
}

/// How Odoo 19's model-access refusals begin (`ir.model.access`, `ACCESS_ERROR_HEADER`).
const MODEL_ACCESS: &str = "You are not allowed to ";

/// `create account.move` from Odoo's access message, when it names the operation and model.
fn what_was_refused(message: &str) -> Option<String> {
    // "You are not allowed to create 'Journal Entry' (account.move) records."
    // "... 'Journal Entry' (account.move) ... operation: create ..." (record rules)
    let model = message.split('(').skip(1).find_map(|rest| {
        let m = rest.split(')').next()?;
        (m.contains('.')
            && m.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .then(|| m.to_owned())
    })?;
    let ops = [
        "create", "modify", "access", "delete", "write", "read", "unlink",
    ];
    let op = message
        .split("allowed to ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .filter(|w| ops.contains(w))
        .or_else(|| {
            let lower = message.to_ascii_lowercase();
            ops.iter()
                .copied()
                .find(|o| lower.contains(&format!("operation: {o}")))
        })?;
    Some(format!("{op} {model}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_refused_operation_and_model() {
        assert_eq!(
            what_was_refused(
                "You are not allowed to create 'Journal Entry' (account.move) records.\n\nThis operation is allowed for the following groups:\n\t- Accounting/Billing"
            )
            .as_deref(),
            Some("create account.move")
        );
        assert_eq!(what_was_refused("Access denied"), None);
    }

    #[test]
    fn the_default_policy_keeps_release_and_cash_apart_from_booking() {
        let p = DutyPolicy::default();
        assert!(p.requires_apart(FlowPath::Booking, FlowPath::Release));
        assert!(p.requires_apart(FlowPath::Booking, FlowPath::Cash));
        assert!(!p.requires_apart(FlowPath::Release, FlowPath::Cash));
        assert!(!p.requires_apart(FlowPath::Booking, FlowPath::Time));
    }
}
