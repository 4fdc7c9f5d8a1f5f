//! Building a [`Report`] from the sync state and, when given, Odoo.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    AgeBucket, ContractInOdoo, DeadLetterGroup, FailedRelease, InvoiceInOdoo, Link, OdooLinks,
    OverdueInvoice, Report, RevenueMismatch, Section, StuckContract, SyncHealth, SyncPoint, Trace,
    TraceEvent, Unbilled, UnbilledItem, UnmatchedCredit, WorkKind,
};
use crate::message::{KnownContract, ReportedMessage, Work};
use odoo_connect_canonical::rules::{RevenueInput, revenue_schedule};
use odoo_connect_canonical::{
    BillingLine, Contract, ContractKey, Currency, ExternalRef, LegalEntityKey, Money, TimeEntry,
    YearMonth,
};
use odoo_connect_client::{Domain, OdooClient};
use odoo_connect_sync::envelope::CorrelationId;
use odoo_connect_sync::store::{AuditKind, AuditQuery, DeadLetter, DeadLetterFilter, StateStore};

/// What [`collect`] reads and how it links rows.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_ops::{CollectOptions, OdooLinks};
/// let as_of = NaiveDate::from_ymd_opt(2025, 4, 30).ok_or("bad date")?;
/// let options = CollectOptions::new(as_of)
///     .odoo_links(OdooLinks::new("https://erp.example.com", 19))
///     .crm_deal_url("https://app.hubspot.com/contacts/42/record/0-3/{id}")
///     .company(1, "firm-eu".parse()?);
/// assert_eq!(options.as_of(), as_of);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CollectOptions {
    as_of: NaiveDate,
    now: Option<DateTime<Utc>>,
    odoo_links: Option<OdooLinks>,
    crm_deal_url: Option<String>,
    booked: Vec<KnownContract>,
    time_entries: Vec<TimeEntry>,
    companies: BTreeMap<i64, LegalEntityKey>,
    limit: usize,
    trace_limit: usize,
    history_lookback: Duration,
}

impl CollectOptions {
    /// Rows at most per read (dead letters, each Odoo search) unless [`CollectOptions::limit`]
    /// says otherwise.
    pub const DEFAULT_LIMIT: usize = 10_000;

    /// A report as of `as_of` (the day ages and due dates count from), made now, with links to
    /// Odoo guessed from the client's URL and version, and no CRM URL.
    pub fn new(as_of: NaiveDate) -> CollectOptions {
        CollectOptions {
            as_of,
            now: None,
            odoo_links: None,
            crm_deal_url: None,
            booked: Vec::new(),
            time_entries: Vec::new(),
            companies: BTreeMap::new(),
            limit: Self::DEFAULT_LIMIT,
            trace_limit: 200,
            history_lookback: Duration::days(7),
        }
    }

    /// The moment the report is made (the end of the sync history; the current time by default).
    pub fn now(mut self, now: DateTime<Utc>) -> CollectOptions {
        self.now = Some(now);
        self
    }

    /// How to link to Odoo records (by default, the Odoo client's URL and server version).
    pub fn odoo_links(mut self, links: OdooLinks) -> CollectOptions {
        self.odoo_links = Some(links);
        self
    }

    /// The URL of a deal in the CRM, `{id}` standing for the deal's id
    /// (`https://app.hubspot.com/contacts/<portal>/record/0-3/{id}`).
    pub fn crm_deal_url(mut self, template: impl Into<String>) -> CollectOptions {
        self.crm_deal_url = Some(template.into());
        self
    }

    /// The contracts booked (for the flows, their `ContractBook`'s contracts): their sale orders,
    /// CRM deals, and the revenue schedules compared with what Odoo posted.
    pub fn booked<C: Into<KnownContract>>(
        mut self,
        contracts: impl IntoIterator<Item = C>,
    ) -> CollectOptions {
        self.booked.extend(contracts.into_iter().map(Into::into));
        self
    }

    /// The approved time recorded so far, which time-and-materials revenue is recognised from.
    pub fn time_entries(mut self, entries: impl IntoIterator<Item = TimeEntry>) -> CollectOptions {
        self.time_entries.extend(entries);
        self
    }

    /// The legal entity key of an Odoo company (rows read from Odoo are otherwise attributed to
    /// the company's name).
    pub fn company(mut self, company_id: i64, legal_entity: LegalEntityKey) -> CollectOptions {
        self.companies.insert(company_id, legal_entity);
        self
    }

    /// At most this many rows per read (dead letters, each Odoo search); the default is
    /// [`CollectOptions::DEFAULT_LIMIT`].
    pub fn limit(mut self, limit: usize) -> CollectOptions {
        self.limit = limit.max(1);
        self
    }

    /// At most this many events per trace (200 by default).
    pub fn trace_limit(mut self, limit: usize) -> CollectOptions {
        self.trace_limit = limit.max(1);
        self
    }

    /// How far before the 24 hours of history the audit trail is read for messages still
    /// waiting when the window opens (7 days by default).
    pub fn history_lookback(mut self, lookback: Duration) -> CollectOptions {
        self.history_lookback = lookback.max(Duration::zero());
        self
    }

    /// The day the report is made as of.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    fn crm_link(&self, crm: &ExternalRef) -> Option<Link> {
        let template = self.crm_deal_url.as_ref()?;
        Some(Link::new(
            format!("{} deal {}", crm.system, crm.id),
            template.replace("{id}", &crm.id),
        ))
    }
}

/// What can keep [`collect`] from making a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The state store could not be read.
    #[error("cannot read {what} from the state store")]
    Store {
        /// What was being read.
        what: &'static str,
        /// The store's error.
        #[source]
        source: odoo_connect_sync::store::StoreError,
    },
    /// Odoo could not be read.
    #[error("cannot read {what} from Odoo")]
    Odoo {
        /// What was being read.
        what: &'static str,
        /// Odoo's error.
        #[source]
        source: odoo_connect_client::Error,
    },
}

fn store_err(what: &'static str) -> impl FnOnce(odoo_connect_sync::store::StoreError) -> OpsError {
    move |source| OpsError::Store { what, source }
}

fn odoo_err(what: &'static str) -> impl FnOnce(odoo_connect_client::Error) -> OpsError {
    move |source| OpsError::Odoo { what, source }
}

/// What is known of a contract, from the dead letters of its deal and the booked contracts.
#[derive(Debug, Clone, Default)]
struct Known {
    contract: Option<Contract>,
    client: Option<String>,
    crm: Option<ExternalRef>,
    order: Option<(i64, String)>,
    project: Option<String>,
}

/// The operations report as of `options.as_of()`: from the sync state (dead letters, queue,
/// audit trail), and from Odoo when `odoo` is given (overdue invoices, unbilled timesheets, the
/// revenue posted, the sale orders rows link to, and each booked contract's order and invoices
/// as Odoo holds them now). Without Odoo, the sections only Odoo can fill are empty and
/// [`Report::odoo_read`] is false.
///
/// Reads are bounded: at most [`CollectOptions::limit`] rows per read, one batched Odoo search
/// per kind of record, never one per row.
///
/// ```
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use chrono::NaiveDate;
/// use odoo_connect_ops::{CollectOptions, collect};
/// use odoo_connect_sync::store::memory::MemoryStore;
/// let store = MemoryStore::new();
/// let as_of = NaiveDate::from_ymd_opt(2025, 4, 30).ok_or("bad date")?;
/// let report = collect(&store, None, &CollectOptions::new(as_of)).await?;
/// assert!(report.stuck_contracts.is_empty());
/// assert_eq!(report.sync.history.len(), 24);
/// # Ok(()) }
/// ```
#[cfg(feature = "flows")]
#[cfg_attr(docsrs, doc(cfg(feature = "flows")))]
pub async fn collect<S: StateStore + ?Sized>(
    store: &S,
    odoo: Option<&OdooClient>,
    options: &CollectOptions,
) -> Result<Report, OpsError> {
    collect_messages::<odoo_connect_flows::FlowMessage, S>(store, odoo, options).await
}

/// [`collect`] for the messages of any pipeline: the dead letters are read as `M`
/// ([`ReportedMessage`]) to sort them into the business sections.
pub async fn collect_messages<M: ReportedMessage, S: StateStore + ?Sized>(
    store: &S,
    odoo: Option<&OdooClient>,
    options: &CollectOptions,
) -> Result<Report, OpsError> {
    let now = options.now.unwrap_or_else(Utc::now);
    let as_of = options.as_of;
    let mut report = Report::empty(now, as_of);

    let letters = store
        .list_dead_letters(&DeadLetterFilter::all().replayed(false).limit(options.limit))
        .await
        .map_err(store_err("the dead letters"))?;

    // What is known of each contract: the booked ones, then the deals in the dead letters.
    let mut known: BTreeMap<String, Known> = BTreeMap::new();
    for b in &options.booked {
        let k = known.entry(b.contract.key.to_string()).or_default();
        k.contract = Some(b.contract.clone());
        k.client = Some(b.contract.client.to_string());
        k.crm = b.crm.clone();
        if let Some(id) = b.order_id {
            let name = if b.order_name.is_empty() {
                format!("sale.order {id}")
            } else {
                b.order_name.clone()
            };
            k.order = Some((id, name));
        }
        k.project = b.project.clone();
    }
    let messages: Vec<Option<M>> = letters.iter().map(|dl| M::read(&dl.envelope)).collect();
    for msg in messages.iter().flatten() {
        if let Work::Deal {
            contract,
            client,
            crm,
            project,
        } = msg.work()
        {
            let k = known.entry(contract.key.to_string()).or_default();
            if k.contract.is_none() {
                k.contract = Some(contract.clone());
            }
            k.client = Some(client.to_owned());
            if k.crm.is_none() {
                k.crm = crm.cloned();
            }
            if k.project.is_none() {
                k.project = project.map(str::to_owned);
            }
        }
    }

    // Odoo: how to link, and the sale orders of the contracts, in one search.
    let links = match (odoo, &options.odoo_links) {
        (_, Some(l)) => Some(l.clone()),
        (Some(o), None) => {
            let v = o.version().await.map_err(odoo_err("the server version"))?;
            Some(OdooLinks::new(o.url().as_str(), v.major))
        }
        (None, None) => None,
    };
    if let Some(o) = odoo {
        find_sale_orders(o, &mut known, options.limit).await?;
    }
    let order_link = |k: &Known| -> Option<Link> {
        let (id, name) = k.order.as_ref()?;
        Some(match &links {
            Some(l) => l.link(name.clone(), "sale.order", *id),
            None => Link::text(name.clone()),
        })
    };

    // Stuck contracts, unbilled time held, failed releases, unmatched credits.
    let mut stuck: BTreeMap<String, Vec<&DeadLetter>> = BTreeMap::new();
    let mut unbilled = Vec::new();
    let mut held_entries: BTreeSet<String> = BTreeSet::new();
    let mut failed = Vec::new();
    let mut credits = Vec::new();
    for (dl, msg) in letters.iter().zip(&messages) {
        let Some(msg) = msg else { continue };
        let env = &dl.envelope;
        let contract = msg.contract(env);
        let work = msg.work();
        let business = dl.failure.class == odoo_connect_sync::store::FailureClass::Business;
        if business
            && matches!(work, Work::Deal { .. } | Work::Time(_) | Work::Release(_))
            && let Some(c) = &contract
        {
            stuck.entry(c.clone()).or_default().push(dl);
        }
        match work {
            Work::Time(entry) => {
                held_entries.insert(entry.key.to_string());
                let k = contract.as_ref().and_then(|c| known.get(c));
                let value = held_value(dl, entry, k.and_then(|k| k.contract.as_ref()));
                unbilled.push(UnbilledItem {
                    kind: WorkKind::Time,
                    entry: entry.key.to_string(),
                    contract: contract.clone(),
                    legal_entity: env.legal_entity.to_string(),
                    date: entry.date,
                    age_days: age(as_of, entry.date),
                    bucket: AgeBucket::of_days(age(as_of, entry.date)),
                    hours: Some(entry.hours),
                    value,
                    reason: Some(dl.failure.reason.clone()),
                    correlation_id: Some(env.correlation_id.to_string()),
                    odoo: None,
                });
            }
            Work::Release(c) => {
                let k = known.get(c.as_str());
                failed.push(FailedRelease {
                    contract: c.to_string(),
                    legal_entity: env.legal_entity.to_string(),
                    reason: dl.failure.reason.clone(),
                    class: dl.failure.class.as_str().to_owned(),
                    since: dl.parked_at,
                    age_days: age(as_of, dl.parked_at.date_naive()),
                    value: None,
                    correlation_id: Some(env.correlation_id.to_string()),
                    odoo: k.and_then(order_link),
                });
            }
            Work::Payment(payment) if payment.allocations.is_empty() => {
                credits.push(UnmatchedCredit {
                    reference: payment.key.to_string(),
                    booked_on: payment.date,
                    age_days: age(as_of, payment.date),
                    amount: payment.amount,
                    legal_entity: payment.legal_entity.to_string(),
                    reason: dl.failure.reason.clone(),
                });
            }
            _ => {}
        }
    }
    let mut stuck_rows: Vec<StuckContract> = stuck
        .into_iter()
        .filter_map(|(contract, dls)| {
            let oldest = dls.iter().min_by_key(|d| d.parked_at)?;
            let mut newest_first = dls.clone();
            newest_first.sort_by_key(|d| std::cmp::Reverse(d.parked_at));
            let mut reasons: Vec<String> = Vec::new();
            for d in newest_first {
                if !reasons.contains(&d.failure.reason) {
                    reasons.push(d.failure.reason.clone());
                }
            }
            let k = known.get(&contract).cloned().unwrap_or_default();
            let since = oldest.parked_at;
            Some(StuckContract {
                legal_entity: oldest.envelope.legal_entity.to_string(),
                client: k.client.clone(),
                reasons,
                since,
                age_days: age(as_of, since.date_naive()),
                value: k.contract.as_ref().and_then(|c| c.value),
                correlation_id: Some(oldest.envelope.correlation_id.to_string()),
                odoo: order_link(&k),
                crm: k.crm.as_ref().and_then(|c| options.crm_link(c)),
                contract,
            })
        })
        .collect();
    stuck_rows.sort_by(|a, b| a.since.cmp(&b.since).then(a.contract.cmp(&b.contract)));
    credits.sort_by_key(|c| c.booked_on);

    let mut overdue = Vec::new();
    let mut mismatches = Vec::new();
    let mut in_odoo = Vec::new();
    if let Some(o) = odoo {
        let cx = OdooCx {
            odoo: o,
            links: links.as_ref(),
            options,
            known: &known,
            correlation: M::correlation,
        };
        draft_values(&cx, &mut failed).await?;
        unbilled.extend(cx.unbilled_timesheets(&held_entries).await?);
        overdue = cx.overdue_invoices().await?;
        mismatches = cx.revenue_mismatches().await?;
        in_odoo = cx.contracts_in_odoo().await?;
        report.odoo_read = true;
    }
    failed.sort_by_key(|f| f.since);
    unbilled.sort_by(|a, b| a.date.cmp(&b.date).then(a.entry.cmp(&b.entry)));

    report.stuck_contracts = Section::new(stuck_rows);
    report.unbilled = Unbilled::new(unbilled);
    report.failed_releases = Section::new(failed);
    report.overdue_invoices = Section::new(overdue);
    report.unmatched_credits = Section::new(credits);
    report.revenue_mismatches = Section::new(mismatches);
    report.contracts_in_odoo = Section::of_contracts(in_odoo);

    // Dead letters by reason and class, with the oldest of each.
    let mut oldest: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
    for dl in &letters {
        let e = oldest
            .entry((dl.failure.class.as_str(), dl.failure.reason.as_str()))
            .or_insert(dl.parked_at);
        *e = (*e).min(dl.parked_at);
    }
    report.dead_letters = store
        .count_by_reason()
        .await
        .map_err(store_err("the dead letters by reason"))?
        .into_iter()
        .map(|r| DeadLetterGroup {
            oldest: oldest.get(&(r.class.as_str(), r.reason.as_str())).copied(),
            class: r.class.as_str().to_owned(),
            reason: r.reason,
            count: r.count,
        })
        .collect();

    report.sync = sync_health(store, now, options.history_lookback).await?;
    report.traces = traces(store, &mut report, options.trace_limit).await?;
    Ok(report)
}

fn age(as_of: NaiveDate, date: NaiveDate) -> i64 {
    (as_of - date).num_days()
}

/// The value of held time: what the hold says, else the entry's billable amount, else its hours
/// at the contract's rate for its role.
fn held_value(dl: &DeadLetter, entry: &TimeEntry, contract: Option<&Contract>) -> Option<Money> {
    let held = dl
        .failure
        .context
        .pointer("/detail/amount_held")
        .and_then(Value::as_str)
        .and_then(parse_money);
    held.or(entry.billable_amount)
        .or_else(|| entry.billable_rate?.mul_round(entry.hours).ok())
        .or_else(|| {
            let c = contract?;
            let rate = c.billing_lines.iter().find_map(|l| match l {
                BillingLine::TimeAndMaterials(t)
                    if entry.billing_line.as_ref().is_none_or(|id| *id == t.id) =>
                {
                    t.rate_for(&entry.role).copied()
                }
                _ => None,
            })?;
            rate.mul_round(entry.hours).ok()
        })
}

/// `"1234.50 EUR"` as money.
fn parse_money(s: &str) -> Option<Money> {
    let (amount, code) = s.trim().split_once(' ')?;
    let amount: Decimal = amount.parse().ok()?;
    Some(Money::new(amount, Currency::from_code(code.trim()).ok()?))
}

/// The entry key of a timesheet or invoice line named `[<entry>] ...`.
fn entry_key(name: &str) -> Option<String> {
    let (k, _) = name.strip_prefix('[')?.split_once(']')?;
    (!k.is_empty()).then(|| k.to_owned())
}

fn m2o(v: &Value, field: &str) -> Option<(i64, String)> {
    let pair = v.get(field)?.as_array()?;
    let id = pair.first()?.as_i64()?;
    let name = pair.get(1).and_then(Value::as_str).unwrap_or_default();
    Some((id, name.to_owned()))
}

fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn decimal(v: &Value, field: &str) -> Decimal {
    v.get(field)
        .and_then(odoo_connect_client::value::decimal_from_value)
        .unwrap_or_default()
}

fn date(v: &Value, field: &str) -> Option<NaiveDate> {
    text(v, field).and_then(|s| s.get(..10)?.parse().ok())
}

/// The sale orders of the contracts not booked through the options, in one search: by
/// `client_order_ref` (`<crm system>:<deal id>`, or the contract key when the deal has no CRM
/// reference, as the lead-to-project flow writes it).
async fn find_sale_orders(
    odoo: &OdooClient,
    known: &mut BTreeMap<String, Known>,
    limit: usize,
) -> Result<(), OpsError> {
    let mut by_ref: HashMap<String, String> = HashMap::new();
    for (key, k) in known.iter() {
        let r = match &k.crm {
            Some(c) => format!("{}:{}", c.system, c.id),
            None => key.clone(),
        };
        by_ref.insert(r, key.clone());
    }
    if by_ref.is_empty() {
        return Ok(());
    }
    let refs: Vec<String> = by_ref.keys().cloned().collect();
    let orders = odoo
        .model_named::<Value>("sale.order")
        .search_read(
            Domain::new()
                .is_in("client_order_ref", refs)
                .ne("state", "cancel"),
        )
        .fields(["id", "name", "client_order_ref", "partner_id"])
        .order("id")
        .limit(limit)
        .await
        .map_err(odoo_err("the sale orders"))?;
    for so in &orders {
        let (Some(id), Some(r)) = (
            so.get("id").and_then(Value::as_i64),
            text(so, "client_order_ref"),
        ) else {
            continue;
        };
        let name = text(so, "name").map_or_else(|| format!("sale.order {id}"), str::to_owned);
        if let Some(k) = by_ref.get(r).and_then(|c| known.get_mut(c)) {
            k.order = Some((id, name));
            // The customer's name, rather than its key, where the deal did not give it.
            if let Some((_, partner)) = m2o(so, "partner_id").filter(|p| !p.1.is_empty()) {
                k.client = Some(partner);
            }
        }
    }
    Ok(())
}

/// The `invoice_origin` values of a contract's invoices: its sale order's number (Odoo's own
/// invoicing from the order), and its key (invoices made from the contract itself).
fn origins(key: &str, k: &Known) -> Vec<String> {
    let mut out = vec![key.to_owned()];
    if let Some((_, name)) = &k.order {
        out.push(name.clone());
    }
    out
}

/// The contract an invoice's `invoice_origin` belongs to: a contract key, or the number of a
/// contract's sale order.
fn contract_of_origin(known: &BTreeMap<String, Known>, origin: &str) -> Option<String> {
    if known.contains_key(origin) {
        return Some(origin.to_owned());
    }
    known
        .iter()
        .find(|(_, k)| k.order.as_ref().is_some_and(|(_, name)| name == origin))
        .map(|(key, _)| key.clone())
}

/// What the Odoo reads share.
struct OdooCx<'a> {
    odoo: &'a OdooClient,
    links: Option<&'a OdooLinks>,
    options: &'a CollectOptions,
    known: &'a BTreeMap<String, Known>,
    /// The correlation id of a contract's messages, as the pipeline's messages carry it.
    correlation: fn(&ContractKey) -> Option<CorrelationId>,
}

impl OdooCx<'_> {
    fn link(&self, label: String, model: &str, id: i64) -> Link {
        match self.links {
            Some(l) => l.link(label, model, id),
            None => Link::text(label),
        }
    }

    /// The legal entity of an Odoo company: as the options map it, else its name.
    fn entity(&self, v: &Value) -> String {
        match m2o(v, "company_id") {
            Some((id, name)) => self
                .options
                .companies
                .get(&id)
                .map_or(name, LegalEntityKey::to_string),
            None => String::new(),
        }
    }

    /// The currencies of these `res.currency` ids, in one read.
    async fn currencies(&self, ids: BTreeSet<i64>) -> Result<HashMap<i64, Currency>, OpsError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = self
            .odoo
            .model_named::<Value>("res.currency")
            .read(ids.into_iter().collect::<Vec<_>>())
            .fields(["id", "name"])
            .await
            .map_err(odoo_err("the currencies"))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let id = r.get("id").and_then(Value::as_i64)?;
                let c = Currency::from_code(text(r, "name")?).ok()?;
                Some((id, c))
            })
            .collect())
    }

    fn contract_of_order(&self, order: i64) -> Option<(&String, &Known)> {
        self.known
            .iter()
            .find(|(_, k)| k.order.as_ref().is_some_and(|(id, _)| *id == order))
    }

    /// Timesheets with a sale line and no invoice yet, valued at the sale line's unit price in
    /// the order's currency; entries already counted from the dead letters are left out.
    async fn unbilled_timesheets(
        &self,
        held: &BTreeSet<String>,
    ) -> Result<Vec<UnbilledItem>, OpsError> {
        let lines = self
            .odoo
            .model_named::<Value>("account.analytic.line")
            .search_read(
                Domain::new()
                    .ne("so_line", false)
                    .eq("timesheet_invoice_id", false)
                    .ne("project_id", false),
            )
            .fields([
                "id",
                "name",
                "date",
                "unit_amount",
                "so_line",
                "company_id",
                "project_id",
            ])
            .order("date, id")
            .limit(self.options.limit)
            .await
            .map_err(odoo_err("the timesheets not invoiced"))?;
        // Time the flows invoiced by hand (an invoice line named `[<entry>] ...`) has no
        // `timesheet_invoice_id`: one search of those lines tells which entries are billed.
        let invoiced: BTreeSet<String> = if lines.is_empty() {
            BTreeSet::new()
        } else {
            self.odoo
                .model_named::<Value>("account.move.line")
                .search_read(
                    Domain::new()
                        .eq("display_type", "product")
                        .ne("parent_state", "cancel")
                        .like("name", "["),
                )
                .fields(["name"])
                .limit(self.options.limit)
                .await
                .map_err(odoo_err("the invoice lines of time"))?
                .iter()
                .filter_map(|l| entry_key(text(l, "name")?))
                .collect()
        };
        let so_ids: BTreeSet<i64> = lines
            .iter()
            .filter_map(|l| m2o(l, "so_line").map(|p| p.0))
            .collect();
        let sale_lines = if so_ids.is_empty() {
            Vec::new()
        } else {
            self.odoo
                .model_named::<Value>("sale.order.line")
                .read(so_ids.into_iter().collect::<Vec<_>>())
                .fields([
                    "id",
                    "price_unit",
                    "currency_id",
                    "order_id",
                    "qty_delivered_method",
                ])
                .await
                .map_err(odoo_err("the sale lines of the timesheets"))?
        };
        let currencies = self
            .currencies(
                sale_lines
                    .iter()
                    .filter_map(|l| m2o(l, "currency_id").map(|p| p.0))
                    .collect(),
            )
            .await?;
        let sale_lines: HashMap<i64, &Value> = sale_lines
            .iter()
            .filter_map(|l| Some((l.get("id")?.as_i64()?, l)))
            .collect();
        let as_of = self.options.as_of;
        let mut out = Vec::new();
        for l in &lines {
            let (Some(id), Some(day)) = (l.get("id").and_then(Value::as_i64), date(l, "date"))
            else {
                continue;
            };
            let name = text(l, "name").unwrap_or_default();
            let entry = entry_key(name).unwrap_or_else(|| format!("timesheet {id}"));
            if held.contains(&entry) || invoiced.contains(&entry) {
                continue;
            }
            let hours = decimal(l, "unit_amount");
            let sale_line = m2o(l, "so_line").and_then(|(s, _)| sale_lines.get(&s));
            // A line delivered otherwise than by timesheets (a milestone, a fixed price) does
            // not bill hours.
            if sale_line
                .and_then(|s| text(s, "qty_delivered_method"))
                .is_some_and(|m| m != "timesheet")
            {
                continue;
            }
            let value = sale_line.and_then(|s| {
                let currency = currencies.get(&m2o(s, "currency_id")?.0)?;
                Money::new(decimal(s, "price_unit"), *currency)
                    .mul_round(hours)
                    .ok()
            });
            let order = sale_line.and_then(|s| m2o(s, "order_id"));
            let contract = order.as_ref().map(|(oid, oname)| {
                self.contract_of_order(*oid)
                    .map_or_else(|| oname.clone(), |(k, _)| k.clone())
            });
            out.push(UnbilledItem {
                kind: WorkKind::Time,
                legal_entity: self.entity(l),
                date: day,
                age_days: age(as_of, day),
                bucket: AgeBucket::of_days(age(as_of, day)),
                hours: Some(hours),
                value,
                reason: None,
                correlation_id: contract
                    .as_deref()
                    .filter(|c| self.known.contains_key(*c))
                    .and_then(|c| ContractKey::new(c).ok())
                    .and_then(|c| (self.correlation)(&c))
                    .map(|c| c.to_string()),
                odoo: Some(self.link(entry.clone(), "account.analytic.line", id)),
                contract,
                entry,
            });
        }
        Ok(out)
    }

    /// Customer invoices posted, not paid, past due as of the report's day.
    async fn overdue_invoices(&self) -> Result<Vec<OverdueInvoice>, OpsError> {
        let as_of = self.options.as_of;
        let moves = self
            .odoo
            .model_named::<Value>("account.move")
            .search_read(
                Domain::new()
                    .eq("move_type", "out_invoice")
                    .eq("state", "posted")
                    .not_in("payment_state", ["paid", "in_payment", "reversed"])
                    .lt("invoice_date_due", as_of.to_string()),
            )
            .fields([
                "id",
                "name",
                "partner_id",
                "company_id",
                "invoice_date_due",
                "amount_residual",
                "currency_id",
                "invoice_origin",
            ])
            .order("invoice_date_due, id")
            .limit(self.options.limit)
            .await
            .map_err(odoo_err("the overdue invoices"))?;
        let currencies = self
            .currencies(
                moves
                    .iter()
                    .filter_map(|m| m2o(m, "currency_id").map(|p| p.0))
                    .collect(),
            )
            .await?;
        let mut out = Vec::new();
        for m in &moves {
            let (Some(id), Some(due)) = (
                m.get("id").and_then(Value::as_i64),
                date(m, "invoice_date_due"),
            ) else {
                continue;
            };
            let Some(currency) = m2o(m, "currency_id").and_then(|(c, _)| currencies.get(&c)) else {
                tracing::warn!(invoice = id, "overdue invoice without a known currency");
                continue;
            };
            let number = text(m, "name").map_or_else(|| format!("invoice {id}"), str::to_owned);
            // An invoice's origin is its sale order (or, for invoices made by hand from a
            // contract, the contract's key).
            let origin = text(m, "invoice_origin").and_then(|o| contract_of_origin(self.known, o));
            let k = origin.as_ref().and_then(|o| self.known.get(o));
            out.push(OverdueInvoice {
                client: m2o(m, "partner_id").map(|p| p.1).unwrap_or_default(),
                legal_entity: self.entity(m),
                due_date: due,
                days_overdue: age(as_of, due),
                amount_due: Money::new(decimal(m, "amount_residual"), *currency),
                correlation_id: origin
                    .as_deref()
                    .and_then(|o| ContractKey::new(o).ok())
                    .and_then(|c| (self.correlation)(&c))
                    .map(|c| c.to_string()),
                odoo: Some(self.link(number.clone(), "account.move", id)),
                crm: k
                    .and_then(|k| k.crm.as_ref())
                    .and_then(|c| self.options.crm_link(c)),
                number,
            });
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.days_overdue));
        Ok(out)
    }

    /// Per contract known with its terms: the untaxed revenue posted (invoices net of credit
    /// notes, in the contract's currency) against the schedule's revenue recognised up to the
    /// report's day.
    async fn revenue_mismatches(&self) -> Result<Vec<RevenueMismatch>, OpsError> {
        let as_of = self.options.as_of;
        let contracts: Vec<(&String, &Known, &Contract)> = self
            .known
            .iter()
            .filter_map(|(key, k)| Some((key, k, k.contract.as_ref()?)))
            .filter(|(_, k, _)| k.order.is_some())
            .collect();
        if contracts.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = contracts
            .iter()
            .flat_map(|(k, known, _)| origins(k, known))
            .collect();
        let moves = self
            .odoo
            .model_named::<Value>("account.move")
            .search_read(
                Domain::new()
                    .is_in("invoice_origin", keys)
                    .is_in("move_type", ["out_invoice", "out_refund"])
                    .eq("state", "posted")
                    .le("invoice_date", as_of.to_string()),
            )
            .fields([
                "id",
                "invoice_origin",
                "move_type",
                "amount_untaxed",
                "currency_id",
            ])
            .order("id")
            .limit(self.options.limit)
            .await
            .map_err(odoo_err("the revenue posted"))?;
        let currencies = self
            .currencies(
                moves
                    .iter()
                    .filter_map(|m| m2o(m, "currency_id").map(|p| p.0))
                    .collect(),
            )
            .await?;
        let mut out = Vec::new();
        for (key, k, contract) in contracts {
            let cur = contract.currency;
            let mut posted = Money::zero(cur);
            for m in moves.iter().filter(|m| {
                text(m, "invoice_origin").and_then(|o| contract_of_origin(self.known, o))
                    == Some(key.clone())
            }) {
                let in_cur = m2o(m, "currency_id").and_then(|(c, _)| currencies.get(&c));
                if in_cur != Some(&cur) {
                    tracing::warn!(contract = %key, "an invoice is not in the contract's currency");
                    continue;
                }
                let mut amount = Money::new(decimal(m, "amount_untaxed"), cur);
                if text(m, "move_type") == Some("out_refund") {
                    amount = amount.negate();
                }
                posted = posted.checked_add(&amount).unwrap_or(posted);
            }
            let entries: Vec<TimeEntry> = self
                .options
                .time_entries
                .iter()
                .filter(|e| e.date <= as_of && Some(e.project.to_string()) == k.project)
                .cloned()
                .collect();
            let expected = if contract.start_date > as_of {
                Money::zero(cur)
            } else {
                let input = RevenueInput::new(
                    contract,
                    YearMonth::of(contract.start_date),
                    YearMonth::of(as_of),
                )
                .with_time_entries(&entries);
                match revenue_schedule(&input) {
                    Ok(s) => s.totals.last().map_or(Money::zero(cur), |p| p.cumulative),
                    Err(e) => {
                        tracing::warn!(contract = %key, error = %e, "no revenue schedule");
                        continue;
                    }
                }
            };
            let Ok(difference) = posted.checked_sub(&expected) else {
                continue;
            };
            if difference.is_zero() {
                continue;
            }
            out.push(RevenueMismatch {
                contract: key.clone(),
                legal_entity: contract.legal_entity.to_string(),
                posted,
                expected,
                difference,
                correlation_id: (self.correlation)(&contract.key).map(|c| c.to_string()),
                odoo: k
                    .order
                    .as_ref()
                    .map(|(id, name)| self.link(name.clone(), "sale.order", *id)),
            });
        }
        Ok(out)
    }
}

impl OdooCx<'_> {
    /// Each booked contract as Odoo holds it now: its sale order (one read of every order) and
    /// its customer invoices (one search of every contract's invoices), with the currencies of
    /// both in one read.
    async fn contracts_in_odoo(&self) -> Result<Vec<ContractInOdoo>, OpsError> {
        let booked: Vec<(String, &Known)> = self
            .options
            .booked
            .iter()
            .map(|b| b.contract.key.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter_map(|key| {
                let k = self.known.get(&key)?;
                Some((key, k))
            })
            .collect();
        if booked.is_empty() {
            return Ok(Vec::new());
        }
        let order_ids: Vec<i64> = booked
            .iter()
            .filter_map(|(_, k)| k.order.as_ref().map(|(id, _)| *id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let orders = self
            .odoo
            .model_named::<Value>("sale.order")
            .search_read(Domain::new().is_in("id", order_ids))
            .fields([
                "id",
                "name",
                "state",
                "currency_id",
                "company_id",
                "amount_untaxed",
            ])
            .order("id")
            .limit(self.options.limit)
            .await
            .map_err(odoo_err("the sale orders of the booked contracts"))?;
        let orders: HashMap<i64, &Value> = orders
            .iter()
            .filter_map(|o| Some((o.get("id")?.as_i64()?, o)))
            .collect();
        // The numbers of the orders as Odoo has them now, and the contracts' keys.
        let mut origin_of: BTreeMap<String, String> = BTreeMap::new();
        for (key, k) in &booked {
            origin_of.insert(key.clone(), key.clone());
            if let Some((id, name)) = &k.order {
                origin_of.insert(name.clone(), key.clone());
                if let Some(now) = orders.get(id).and_then(|o| text(o, "name")) {
                    origin_of.insert(now.to_owned(), key.clone());
                }
            }
        }
        let moves = self
            .odoo
            .model_named::<Value>("account.move")
            .search_read(
                Domain::new()
                    .is_in(
                        "invoice_origin",
                        origin_of.keys().cloned().collect::<Vec<_>>(),
                    )
                    .eq("move_type", "out_invoice"),
            )
            .fields([
                "id",
                "name",
                "state",
                "payment_state",
                "amount_residual",
                "currency_id",
                "invoice_origin",
            ])
            .order("id")
            .limit(self.options.limit)
            .await
            .map_err(odoo_err("the invoices of the booked contracts"))?;
        let currencies = self
            .currencies(
                orders
                    .values()
                    .copied()
                    .chain(moves.iter())
                    .filter_map(|v| m2o(v, "currency_id").map(|p| p.0))
                    .collect(),
            )
            .await?;
        let mut invoices: BTreeMap<&str, Vec<InvoiceInOdoo>> = BTreeMap::new();
        for m in &moves {
            let (Some(id), Some(key)) = (
                m.get("id").and_then(Value::as_i64),
                text(m, "invoice_origin").and_then(|o| origin_of.get(o)),
            ) else {
                continue;
            };
            let number = text(m, "name")
                .filter(|n| *n != "/")
                .map_or_else(|| format!("invoice {id}"), str::to_owned);
            let currency = m2o(m, "currency_id").and_then(|(c, _)| currencies.get(&c));
            if currency.is_none() {
                tracing::warn!(invoice = id, "invoice without a known currency");
            }
            invoices
                .entry(key.as_str())
                .or_default()
                .push(InvoiceInOdoo {
                    state: text(m, "state").unwrap_or_default().to_owned(),
                    payment_state: text(m, "payment_state").map(str::to_owned),
                    amount_due: currency.map(|c| Money::new(decimal(m, "amount_residual"), *c)),
                    odoo: Some(self.link(number.clone(), "account.move", id)),
                    number,
                });
        }
        let mut out = Vec::new();
        for (key, k) in &booked {
            let order = k
                .order
                .as_ref()
                .and_then(|(id, _)| Some((*id, *orders.get(id)?)));
            let currency = order
                .and_then(|(_, o)| m2o(o, "currency_id"))
                .and_then(|(c, _)| currencies.get(&c).copied());
            let invoices = invoices.remove(key.as_str()).unwrap_or_default();
            let amount_due = super::Totals::of(
                invoices
                    .iter()
                    .filter_map(|i| Some(("", i.amount_due.as_ref()?))),
            )
            .by_currency;
            out.push(ContractInOdoo {
                contract: key.clone(),
                legal_entity: k
                    .contract
                    .as_ref()
                    .map(|c| c.legal_entity.to_string())
                    .unwrap_or_default(),
                order: order.map(|(id, o)| {
                    let name =
                        text(o, "name").map_or_else(|| format!("sale.order {id}"), str::to_owned);
                    self.link(name, "sale.order", id)
                }),
                order_state: order.and_then(|(_, o)| text(o, "state")).map(str::to_owned),
                currency,
                company: order.and_then(|(_, o)| {
                    m2o(o, "company_id")?;
                    Some(self.entity(o))
                }),
                amount_untaxed: order.and_then(|(_, o)| {
                    currency.map(|c| Money::new(decimal(o, "amount_untaxed"), c))
                }),
                invoices,
                amount_due,
            });
        }
        Ok(out)
    }
}

/// The value a failed release would invoice: the contract's draft invoices, untaxed, in one
/// search for every contract.
async fn draft_values(cx: &OdooCx<'_>, failed: &mut [FailedRelease]) -> Result<(), OpsError> {
    if failed.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = failed
        .iter()
        .flat_map(|f| match cx.known.get(&f.contract) {
            Some(k) => origins(&f.contract, k),
            None => vec![f.contract.clone()],
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let drafts = cx
        .odoo
        .model_named::<Value>("account.move")
        .search_read(
            Domain::new()
                .is_in("invoice_origin", keys)
                .eq("move_type", "out_invoice")
                .eq("state", "draft"),
        )
        .fields(["id", "invoice_origin", "amount_untaxed", "currency_id"])
        .order("id")
        .limit(cx.options.limit)
        .await
        .map_err(odoo_err("the draft invoices"))?;
    let currencies = cx
        .currencies(
            drafts
                .iter()
                .filter_map(|m| m2o(m, "currency_id").map(|p| p.0))
                .collect(),
        )
        .await?;
    for f in failed.iter_mut() {
        let mut sum: Option<Money> = None;
        for m in drafts.iter().filter(|m| {
            text(m, "invoice_origin").and_then(|o| contract_of_origin(cx.known, o))
                == Some(f.contract.clone())
        }) {
            let Some(cur) = m2o(m, "currency_id").and_then(|(c, _)| currencies.get(&c)) else {
                continue;
            };
            let amount = Money::new(decimal(m, "amount_untaxed"), *cur);
            sum = Some(match sum {
                None => amount,
                Some(s) => s.checked_add(&amount).unwrap_or(s),
            });
        }
        f.value = sum;
    }
    Ok(())
}

/// The audit trail's records from `from`, in pages.
async fn audit_since<S: StateStore + ?Sized>(
    store: &S,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    mut each: impl FnMut(&odoo_connect_sync::store::AuditRecord),
) -> Result<(), OpsError> {
    const PAGE: usize = 5_000;
    let mut after = None;
    loop {
        let mut q = AuditQuery::all().between(from, until).limit(PAGE);
        if let Some(seq) = after {
            q = q.after_seq(seq);
        }
        let page = store
            .query_audit(&q)
            .await
            .map_err(store_err("the audit trail"))?;
        for r in &page {
            each(r);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.seq),
            _ => return Ok(()),
        }
    }
}

/// Depth and lag now (from the queue) and at the end of each of the last 24 hours (from the
/// audit trail: a message counts from its `message_received` until its last step outcome is
/// done or skipped, or it is dead-lettered).
async fn sync_health<S: StateStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    lookback: Duration,
) -> Result<SyncHealth, OpsError> {
    let stats = store.stats().await.map_err(store_err("the queue"))?;
    let hour = Duration::hours(1);
    let last_end = now.duration_trunc(hour).unwrap_or(now);
    let ends: Vec<DateTime<Utc>> = (0..24).map(|i| last_end - hour * (23 - i)).collect();
    let window_start = ends[0] - lookback;
    #[derive(Default)]
    struct Life {
        received: Option<DateTime<Utc>>,
        last_step: Option<(bool, DateTime<Utc>)>,
        dead: Option<DateTime<Utc>>,
    }
    let mut lives: HashMap<odoo_connect_sync::envelope::MessageId, Life> = HashMap::new();
    let mut last_activity = None;
    audit_since(store, window_start, now + Duration::seconds(1), |r| {
        last_activity = Some(r.at);
        let Some(id) = r.event.message_id else { return };
        let life = lives.entry(id).or_default();
        match r.event.kind {
            AuditKind::MessageReceived => {
                life.received.get_or_insert(r.at);
            }
            AuditKind::StepOutcome => {
                let finished = matches!(r.event.outcome.as_deref(), Some("done" | "skipped"));
                life.last_step = Some((finished, r.at));
            }
            AuditKind::DeadLettered => {
                life.dead.get_or_insert(r.at);
            }
            _ => {}
        }
    })
    .await?;
    let spans: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = lives
        .values()
        .filter_map(|l| {
            let finished = l.dead.or(l.last_step.filter(|s| s.0).map(|s| s.1));
            Some((l.received?, finished))
        })
        .collect();
    let history = ends
        .iter()
        .map(|&at| {
            let waiting = spans
                .iter()
                .filter(|(r, f)| *r <= at && f.is_none_or(|f| f > at));
            let (mut depth, mut oldest) = (0u64, None::<DateTime<Utc>>);
            for (r, _) in waiting {
                depth += 1;
                oldest = Some(oldest.map_or(*r, |o| o.min(*r)));
            }
            SyncPoint {
                at,
                depth,
                lag_seconds: oldest.map_or(0, |o| secs(at - o)),
            }
        })
        .collect();
    Ok(SyncHealth {
        depth: stats.depth,
        lag_seconds: secs(
            chrono::Duration::from_std(stats.oldest_age(now)).unwrap_or(Duration::zero()),
        ),
        last_activity,
        history,
    })
}

fn secs(d: Duration) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0)
}

/// The trace of every correlation id a row refers to (a row whose deal left no trace keeps no
/// correlation id, so that no link leads nowhere).
async fn traces<S: StateStore + ?Sized>(
    store: &S,
    report: &mut Report,
    limit: usize,
) -> Result<Vec<Trace>, OpsError> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let r = &*report;
    ids.extend(
        r.stuck_contracts
            .items
            .iter()
            .filter_map(|i| i.correlation_id.clone()),
    );
    ids.extend(
        r.unbilled
            .items
            .iter()
            .filter_map(|i| i.correlation_id.clone()),
    );
    ids.extend(
        r.failed_releases
            .items
            .iter()
            .filter_map(|i| i.correlation_id.clone()),
    );
    ids.extend(
        r.overdue_invoices
            .items
            .iter()
            .filter_map(|i| i.correlation_id.clone()),
    );
    ids.extend(
        r.revenue_mismatches
            .items
            .iter()
            .filter_map(|i| i.correlation_id.clone()),
    );
    let mut out = Vec::new();
    for id in ids {
        let Ok(cid) = CorrelationId::new(id.clone()) else {
            continue;
        };
        let records = store
            .query_audit(&AuditQuery::all().correlation_id(cid).limit(limit))
            .await
            .map_err(store_err("a trace"))?;
        if records.is_empty() {
            continue;
        }
        out.push(Trace {
            correlation_id: id,
            events: records
                .into_iter()
                .map(|rec| TraceEvent {
                    at: rec.at,
                    kind: rec.event.kind.as_str().to_owned(),
                    step: rec.event.step,
                    outcome: rec.event.outcome,
                })
                .collect(),
        });
    }
    let traced: BTreeSet<&str> = out.iter().map(|t| t.correlation_id.as_str()).collect();
    let keep = |c: &mut Option<String>| {
        if c.as_deref().is_some_and(|c| !traced.contains(c)) {
            *c = None;
        }
    };
    report
        .stuck_contracts
        .items
        .iter_mut()
        .for_each(|i| keep(&mut i.correlation_id));
    report
        .unbilled
        .items
        .iter_mut()
        .for_each(|i| keep(&mut i.correlation_id));
    report
        .failed_releases
        .items
        .iter_mut()
        .for_each(|i| keep(&mut i.correlation_id));
    report
        .overdue_invoices
        .items
        .iter_mut()
        .for_each(|i| keep(&mut i.correlation_id));
    report
        .revenue_mismatches
        .items
        .iter_mut()
        .for_each(|i| keep(&mut i.correlation_id));
    Ok(out)
}
