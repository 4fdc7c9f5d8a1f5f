//! [`Setup`]: what the flows need in an Odoo database, found or created once, by external id, so
//! that the flows run on a freshly installed Odoo with nothing set up by hand.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::{FlowError, FlowSettings};
use crate::mapping::MappingContext;
use crate::mapping::contract as contract_map;
use odoo_connect_canonical::{BillingKind, Currency, LegalEntityKey};
use odoo_connect_client::models::Currency as OdooCurrency;
use odoo_connect_client::{Context, Domain, Model, OdooClient, RecordId, Values};
use odoo_connect_sync::effect::ImportRow;

/// The module of the external ids [`Setup`] gives what it creates (`odoo_connect.<name>`).
pub const SETUP_MODULE: &str = "odoo_connect";

/// The Odoo modules the flows rely on: sales, `sale_project` (confirming an order makes the
/// project and its milestones), `sale_timesheet` (time recorded on a sale line is delivered and
/// invoiced), `hr_timesheet` and `account`.
pub const REQUIRED_MODULES: &[&str] = &[
    "sale",
    "sale_project",
    "sale_timesheet",
    "hr_timesheet",
    "account",
];

/// Where the product sold for a billing kind comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProductSource {
    /// The flows' own service product: found by its external id (`odoo_connect.product_<kind>`)
    /// or its internal reference, created with both when missing.
    Bootstrap {
        /// Its internal reference (`default_code`).
        code: String,
        /// Its name, when created.
        name: String,
    },
    /// A product of the firm's own catalogue, by internal reference; never created.
    Catalog {
        /// Its internal reference (`default_code`).
        code: String,
    },
}

impl ProductSource {
    fn code(&self) -> &str {
        match self {
            ProductSource::Bootstrap { code, .. } | ProductSource::Catalog { code } => code,
        }
    }
}

/// What [`Setup`] found, or does, for one thing the flows need.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlanAction {
    /// It is there.
    Found {
        /// Its model.
        model: String,
        /// Its id.
        id: RecordId,
    },
    /// It is created, with this external id.
    Create {
        /// Its model.
        model: String,
        /// The external id it gets (`odoo_connect.<name>`).
        external_id: String,
    },
    /// It is there, archived: it is activated.
    Activate {
        /// Its model.
        model: String,
        /// Its id.
        id: RecordId,
    },
}

/// One line of a [`SetupPlan`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PlanItem {
    /// What it is, for people (`product PS-TM for time_and_materials`).
    pub what: String,
    /// What happens.
    pub action: PlanAction,
    /// Something worth knowing about it (a product of the catalogue that Odoo does not track in a
    /// project, ...).
    pub note: Option<String>,
}

/// What [`Setup::plan`] found: the modules missing, what is there, what would be created, and
/// what stops the flows (no bank journal, a catalogue product that does not exist).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SetupPlan {
    /// Required modules that are not installed (`sale_timesheet`, ...).
    pub missing_modules: Vec<String>,
    /// The company the flows book in (`res.company`).
    pub company: Option<(RecordId, String)>,
    /// Each thing the flows need, and what happens to it.
    pub items: Vec<PlanItem>,
    /// What must be fixed by hand before the flows can run.
    pub problems: Vec<String>,
}

impl SetupPlan {
    /// Whether applying the plan changes nothing in Odoo.
    pub fn is_noop(&self) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i.action, PlanAction::Found { .. }))
    }

    /// Whether the flows can run once the plan is applied (no module missing, no problem).
    pub fn is_ready(&self) -> bool {
        self.missing_modules.is_empty() && self.problems.is_empty()
    }

    /// The things created or activated.
    pub fn changes(&self) -> impl Iterator<Item = &PlanItem> {
        self.items
            .iter()
            .filter(|i| !matches!(i.action, PlanAction::Found { .. }))
    }
}

impl fmt::Display for SetupPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.missing_modules.is_empty() {
            writeln!(f, "  modules   {} installed", REQUIRED_MODULES.join(", "))?;
        }
        for m in &self.missing_modules {
            writeln!(
                f,
                "  MISSING   module {m} is not installed (install it from Apps)"
            )?;
        }
        if let Some((id, name)) = &self.company {
            writeln!(f, "  company   {name} (id {id})")?;
        }
        for item in &self.items {
            let line = match &item.action {
                PlanAction::Found { id, .. } => format!("  found     {} (id {id})", item.what),
                PlanAction::Create { external_id, .. } => {
                    format!("  create    {} as {external_id}", item.what)
                }
                PlanAction::Activate { id, .. } => {
                    format!("  activate  {} (id {id}, archived)", item.what)
                }
            };
            writeln!(f, "{line}")?;
            if let Some(note) = &item.note {
                writeln!(f, "            note: {note}")?;
            }
        }
        for p in &self.problems {
            writeln!(f, "  PROBLEM   {p}")?;
        }
        Ok(())
    }
}

/// Finds or creates what the flows need in Odoo, and checks what cannot be created.
///
/// - the modules ([`REQUIRED_MODULES`], read from `ir.module.module`): a missing one is reported
///   by name ("sale_timesheet is not installed");
/// - the company of the legal entity (given, or the API user's current company), which every
///   later call works in (first in `allowed_company_ids`);
/// - a service product per billing kind, with the `service_policy`, `invoice_policy` and
///   `service_tracking` that make Odoo create the project, milestones and tasks on confirmation
///   and deliver them from milestones and timesheets ([`contract_map::service_product`]): found
///   by external id (`odoo_connect.product_<kind>`) or internal reference, created with `load`
///   otherwise; or a product of the firm's own catalogue ([`Setup::product`]);
/// - each currency contracts are sold in: activated when archived, with a pricelist
///   (`product.pricelist`) in it, since a sale order takes its currency from its pricelist;
/// - a bank journal with an inbound payment method and a sales journal, looked up, never assumed
///   by id.
///
/// [`Setup::plan`] only reads; [`Setup::apply`] creates what is missing and returns the
/// [`FlowSettings`]. Running it twice changes nothing the second time.
///
/// ```no_run
/// # async fn run(odoo: odoo_connect_client::OdooClient) -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_connect_canonical::{BillingKind, Currency};
/// use odoo_connect_flows::{Flows, Setup};
///
/// let setup = Setup::new("firm-eu".parse()?)
///     .currency(Currency::EUR)
///     .product(BillingKind::Retainer, "SRV-RET"); // one of our own products
/// let plan = setup.plan(&odoo).await?;
/// print!("{plan}");
/// let settings = setup.apply(&odoo).await?;
/// let flows = Flows::connect(odoo, settings).await?;
/// # let _ = flows; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Setup {
    legal_entity: LegalEntityKey,
    company: Option<i64>,
    products: BTreeMap<BillingKind, ProductSource>,
    currencies: Vec<Currency>,
}

/// The flows' own products, by billing kind: (internal reference, name). Recurring services
/// share the retainer's product.
const OWN_PRODUCTS: &[(BillingKind, &str, &str)] = &[
    (
        BillingKind::FixedFeeMilestones,
        "PS-MIL",
        "Fixed-fee milestone",
    ),
    (BillingKind::TimeAndMaterials, "PS-TM", "Consulting time"),
    (BillingKind::Retainer, "PS-SUP", "Retainer"),
    (BillingKind::RecurringService, "PS-SUP", "Retainer"),
];

fn kind_name(kind: BillingKind) -> String {
    kind.to_string()
}

fn id_of(v: &Value) -> Option<i64> {
    v.get("id").and_then(Value::as_i64)
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

fn many2one(v: &Value, field: &str) -> Option<i64> {
    match v.get(field) {
        Some(Value::Array(a)) => a.first().and_then(Value::as_i64),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
}

/// What `plan` decided for a product, with what `apply` needs to create it.
#[derive(Debug, Clone)]
enum ProductPlan {
    Found,
    Create { xmlid: String, name: String },
    Missing,
}

impl Setup {
    /// The flows' own products for every billing kind, in the company currency, for
    /// `legal_entity`.
    pub fn new(legal_entity: LegalEntityKey) -> Setup {
        let products = OWN_PRODUCTS
            .iter()
            .map(|(kind, code, name)| {
                (
                    *kind,
                    ProductSource::Bootstrap {
                        code: (*code).to_owned(),
                        name: (*name).to_owned(),
                    },
                )
            })
            .collect();
        Setup {
            legal_entity,
            company: None,
            products,
            currencies: Vec::new(),
        }
    }

    /// Books in company `id` (`res.company`) instead of the API user's current company.
    pub fn company(mut self, id: i64) -> Setup {
        self.company = Some(id);
        self
    }

    /// Sells `kind` with a product of the firm's own catalogue, by internal reference: it is
    /// checked, never created.
    pub fn product(mut self, kind: BillingKind, code: impl Into<String>) -> Setup {
        self.products
            .insert(kind, ProductSource::Catalog { code: code.into() });
        self
    }

    /// Contracts are also sold in `currency`: it is activated if archived, and gets a pricelist.
    pub fn currency(mut self, currency: Currency) -> Setup {
        if !self.currencies.contains(&currency) {
            self.currencies.push(currency);
        }
        self
    }

    /// The product source for each billing kind.
    pub fn products(&self) -> &BTreeMap<BillingKind, ProductSource> {
        &self.products
    }

    /// Reads Odoo and says what [`Setup::apply`] would do; changes nothing.
    pub async fn plan(&self, odoo: &OdooClient) -> Result<SetupPlan, FlowError> {
        Ok(self.survey(odoo).await?.0)
    }

    /// Creates what is missing, then returns the settings the flows connect with. Fails, changing
    /// nothing, when a module is missing or something must be fixed by hand
    /// ([`FlowError::NotReady`], with the plan).
    pub async fn apply(&self, odoo: &OdooClient) -> Result<FlowSettings, FlowError> {
        let (plan, survey) = self.survey(odoo).await?;
        if !plan.is_ready() {
            return Err(FlowError::NotReady(Box::new(plan)));
        }
        let Some(company) = plan.company.as_ref().map(|(id, _)| id.get()) else {
            return Err(FlowError::NotReady(Box::new(plan)));
        };
        // What is created belongs to the company (or is shared, as products are).
        let odoo = &odoo.with_company(company);
        let mut ctx = MappingContext::new(odoo.version().await?);
        ctx.uom_unit = survey.uom_unit;
        ctx.uom_hour = survey.uom_hour;
        // Currencies first: a pricelist needs its currency active.
        for (cur, action) in &survey.currencies {
            if let PlanAction::Activate { id, .. } = action {
                odoo.model_named::<Value>(OdooCurrency::MODEL)
                    .write(&[*id], &Values::new().set("active", true))
                    .await
                    .map_err(|e| setup_error(&format!("cannot activate currency {cur}"), e))?;
            }
        }
        for (cur, plan) in &survey.pricelists {
            if let ProductPlan::Create { xmlid, name } = plan {
                let currency = survey
                    .currency_ids
                    .get(cur)
                    .copied()
                    .ok_or_else(|| FlowError::setup(format!("no currency {cur} in Odoo")))?;
                let fields = ["id", "name", "currency_id/.id", "company_id/.id"];
                let row = vec![
                    Value::String(xmlid.clone()),
                    Value::String(name.clone()),
                    Value::String(currency.to_string()),
                    Value::String(company.to_string()),
                ];
                load_one(odoo, "product.pricelist", &fields, row).await?;
            }
        }
        let mut codes = Vec::new();
        for (kind, source) in &self.products {
            if let Some(ProductPlan::Create { xmlid, name }) = survey.products.get(kind) {
                let mut product = contract_map::service_product(*kind, name, &ctx).values;
                product.default_code = Some(Some(source.code().to_owned()));
                let row = ImportRow::from_values(&product, &ctx.version).map_err(|e| {
                    FlowError::setup_caused_by("the service product cannot be written", e)
                })?;
                let (mut fields, mut values) = row.columns();
                fields.insert(0, "id".to_owned());
                values.insert(0, xmlid.clone());
                // The created product is found again by its external id by any later step of
                // this run (two kinds can share one product).
                let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                let row = values.into_iter().map(Value::String).collect();
                load_one(odoo, "product.product", &refs, row).await?;
            }
            codes.push((*kind, source.code().to_owned()));
        }
        let mut settings = FlowSettings::new(self.legal_entity.clone(), company);
        settings.products = codes;
        Ok(settings)
    }

    async fn survey(&self, odoo: &OdooClient) -> Result<(SetupPlan, Survey), FlowError> {
        let mut plan = SetupPlan::default();
        let mut survey = Survey::default();
        let all = || Context::new().active_test(false);
        // Modules.
        let modules: Vec<Value> = odoo
            .model_named::<Value>("ir.module.module")
            .search_read(Domain::new().is_in("name", REQUIRED_MODULES.to_vec()))
            .fields(["name", "state"])
            .await?;
        for m in REQUIRED_MODULES {
            let installed = modules
                .iter()
                .any(|r| text(r, "name") == *m && text(r, "state") == "installed");
            if !installed {
                plan.missing_modules.push((*m).to_owned());
            }
        }
        // Company: the one configured, else the API user's current company, which the user must
        // belong to (Odoo refuses `allowed_company_ids` otherwise). Everything after is read in
        // that company (first in `allowed_company_ids`).
        let uid = odoo.uid().await?;
        let users: Vec<Value> = odoo
            .model_named::<Value>("res.users")
            .read([RecordId(uid)])
            .fields(["company_id", "company_ids"])
            .await?;
        let user = users.first();
        let Some(company_id) = self
            .company
            .or_else(|| user.and_then(|u| many2one(u, "company_id")))
        else {
            plan.problems
                .push(format!("the API user (uid {uid}) has no current company"));
            return Ok((plan, survey));
        };
        let companies: Vec<Value> = odoo
            .model_named::<Value>("res.company")
            .search_read(Domain::new().eq("id", company_id))
            .fields(["name", "currency_id"])
            .limit(1)
            .await?;
        let Some(company) = companies.first() else {
            plan.problems.push(format!(
                "no company with id {company_id} (res.company) that the API user may work in"
            ));
            return Ok((plan, survey));
        };
        let allowed = user
            .and_then(|u| u.get("company_ids"))
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|c| c.as_i64() == Some(company_id)));
        if !allowed {
            plan.problems.push(format!(
                "the API user may not work in company {} (id {company_id}): add it to the user's allowed companies",
                text(company, "name")
            ));
            return Ok((plan, survey));
        }
        plan.company = Some((RecordId(company_id), text(company, "name").to_owned()));
        let odoo = &odoo.with_company(company_id);
        let company_currency = many2one(company, "currency_id");
        // Units.
        survey.uom_unit = uom(odoo, "product_uom_unit", "Units").await?;
        survey.uom_hour = uom(odoo, "product_uom_hour", "Hours").await?;
        // Products.
        let xmlids = external_ids(odoo, SETUP_MODULE).await?;
        let mut created_codes: BTreeMap<String, String> = BTreeMap::new();
        for (kind, source) in &self.products {
            let code = source.code();
            let what = format!("product {code} for {kind}");
            let xmlid_name = format!("product_{}", kind_name(*kind));
            let by_xmlid = xmlids
                .get(&("product.product".to_owned(), xmlid_name.clone()))
                .copied();
            let found: Vec<Value> = odoo
                .model_named::<Value>("product.product")
                .search_read(Domain::new().eq("default_code", code))
                .fields([
                    "name",
                    "type",
                    "service_tracking",
                    "service_policy",
                    "sale_ok",
                ])
                .order("id")
                .limit(1)
                .await?;
            let existing = by_xmlid.or_else(|| found.first().and_then(id_of).map(RecordId));
            let decided = match (existing, source) {
                (Some(id), _) => {
                    let note = found.first().and_then(|p| product_note(*kind, p));
                    plan.items.push(PlanItem {
                        what: format!("{what}: {}", found.first().map_or("", |p| text(p, "name"))),
                        action: PlanAction::Found {
                            model: "product.product".into(),
                            id,
                        },
                        note,
                    });
                    ProductPlan::Found
                }
                (None, ProductSource::Bootstrap { name, .. }) => {
                    if let Some(first) = created_codes.get(code) {
                        // Another kind creates the same product in this run.
                        plan.items.push(PlanItem {
                            what,
                            action: PlanAction::Create {
                                model: "product.product".into(),
                                external_id: first.clone(),
                            },
                            note: Some("the same product as above".into()),
                        });
                        ProductPlan::Found
                    } else {
                        let xmlid = format!("{SETUP_MODULE}.{xmlid_name}");
                        created_codes.insert(code.to_owned(), xmlid.clone());
                        plan.items.push(PlanItem {
                            what: format!("{what}: {name}"),
                            action: PlanAction::Create {
                                model: "product.product".into(),
                                external_id: xmlid.clone(),
                            },
                            note: None,
                        });
                        ProductPlan::Create {
                            xmlid,
                            name: name.clone(),
                        }
                    }
                }
                (None, ProductSource::Catalog { .. }) => {
                    plan.problems.push(format!(
                        "no product with internal reference `{code}` to sell {kind}"
                    ));
                    ProductPlan::Missing
                }
            };
            survey.products.insert(*kind, decided);
        }
        // Currencies and their pricelists.
        if !self.currencies.is_empty() {
            let names: Vec<String> = self.currencies.iter().map(|c| c.to_string()).collect();
            let rows: Vec<Value> = odoo
                .model_named::<Value>("res.currency")
                .search_read(Domain::new().is_in("name", names))
                .fields(["name", "active"])
                .context(all())
                .await?;
            let pricelists: Vec<Value> = odoo
                .model_named::<Value>("product.pricelist")
                .search_read(Domain::new().is_in(
                    "company_id",
                    vec![Value::from(company_id), Value::Bool(false)],
                ))
                .fields(["name", "currency_id", "company_id"])
                .order("sequence, id")
                .await?;
            for cur in &self.currencies {
                let Some(row) = rows.iter().find(|r| text(r, "name") == cur.to_string()) else {
                    plan.problems
                        .push(format!("no currency {cur} in Odoo (res.currency)"));
                    continue;
                };
                let Some(id) = id_of(row).map(RecordId) else {
                    continue;
                };
                survey.currency_ids.insert(*cur, id);
                let active = row.get("active").and_then(Value::as_bool).unwrap_or(true);
                let action = if active {
                    PlanAction::Found {
                        model: "res.currency".into(),
                        id,
                    }
                } else {
                    PlanAction::Activate {
                        model: "res.currency".into(),
                        id,
                    }
                };
                plan.items.push(PlanItem {
                    what: format!("currency {cur}"),
                    action: action.clone(),
                    note: None,
                });
                survey.currencies.push((*cur, action));
                if Some(id.get()) == company_currency {
                    continue;
                }
                let usable = pricelists.iter().find(|p| {
                    many2one(p, "currency_id") == Some(id.get())
                        && many2one(p, "company_id").is_none_or(|c| c == company_id)
                });
                let decided = match usable.and_then(id_of) {
                    Some(pid) => {
                        plan.items.push(PlanItem {
                            what: format!(
                                "pricelist {}",
                                text(usable.unwrap_or(&Value::Null), "name")
                            ),
                            action: PlanAction::Found {
                                model: "product.pricelist".into(),
                                id: RecordId(pid),
                            },
                            note: None,
                        });
                        ProductPlan::Found
                    }
                    None => {
                        let lower = cur.to_string().to_ascii_lowercase();
                        let xmlid =
                            format!("{SETUP_MODULE}.pricelist_{lower}_company_{company_id}");
                        let name = format!("Contracts in {cur}");
                        plan.items.push(PlanItem {
                            what: format!("pricelist {name}"),
                            action: PlanAction::Create {
                                model: "product.pricelist".into(),
                                external_id: xmlid.clone(),
                            },
                            note: None,
                        });
                        ProductPlan::Create { xmlid, name }
                    }
                };
                survey.pricelists.push((*cur, decided));
            }
        }
        // Journals and the way payments come in.
        let journals: Vec<Value> = odoo
            .model_named::<Value>("account.journal")
            .search_read(
                Domain::new()
                    .is_in("type", ["bank", "sale"])
                    .eq("company_id", company_id),
            )
            .fields(["name", "type"])
            .order("sequence, id")
            .await?;
        match journals.iter().find(|j| text(j, "type") == "sale") {
            Some(j) => plan
                .items
                .push(found("sales journal", "account.journal", j)),
            None => plan.problems.push(format!(
                "no sales journal in company {company_id}: invoices cannot be made"
            )),
        }
        match journals.iter().find(|j| text(j, "type") == "bank") {
            Some(j) => {
                plan.items.push(found("bank journal", "account.journal", j));
                let methods: Vec<Value> = odoo
                    .model_named::<Value>("account.payment.method.line")
                    .search_read(
                        Domain::new()
                            .eq("journal_id", id_of(j).unwrap_or(0))
                            .eq("payment_type", "inbound"),
                    )
                    .fields(["name"])
                    .order("sequence, id")
                    .limit(1)
                    .await?;
                match methods.first() {
                    Some(m) => plan.items.push(found(
                        "inbound payment method",
                        "account.payment.method.line",
                        m,
                    )),
                    None => plan.problems.push(format!(
                        "the bank journal {} has no inbound payment method",
                        text(j, "name")
                    )),
                }
            }
            None => plan.problems.push(format!(
                "no bank journal in company {company_id}: payments cannot be registered"
            )),
        }
        Ok((plan, survey))
    }
}

/// What the survey learnt that `apply` needs.
#[derive(Debug, Default)]
struct Survey {
    uom_unit: Option<RecordId>,
    uom_hour: Option<RecordId>,
    products: BTreeMap<BillingKind, ProductPlan>,
    currencies: Vec<(Currency, PlanAction)>,
    currency_ids: BTreeMap<Currency, RecordId>,
    pricelists: Vec<(Currency, ProductPlan)>,
}

fn found(what: &str, model: &str, row: &Value) -> PlanItem {
    PlanItem {
        what: format!("{what} {}", text(row, "name")),
        action: PlanAction::Found {
            model: model.to_owned(),
            id: RecordId(id_of(row).unwrap_or(0)),
        },
        note: None,
    }
}

/// A note on a product found for `kind` that Odoo will not treat as the flows expect.
fn product_note(kind: BillingKind, product: &Value) -> Option<String> {
    let policy = text(product, "service_policy");
    let wanted_policy = contract_map::service_policy(kind);
    let wanted = wanted_policy.as_str();
    if !policy.is_empty() && policy != wanted {
        return Some(format!(
            "its service policy is `{policy}`, not `{wanted}`: Odoo will deliver it differently"
        ));
    }
    let tracking = text(product, "service_tracking");
    let wanted = contract_map::service_tracking(kind);
    if wanted != "no" && tracking == "no" {
        return Some(
            "Odoo does not track it in a project: the flows make the project (and milestones) \
             themselves"
                .to_owned(),
        );
    }
    None
}

fn setup_error(what: &str, e: odoo_connect_client::Error) -> FlowError {
    FlowError::setup_caused_by(what, e)
}

/// The records of `module`'s external ids: (model, name) → id.
async fn external_ids(
    odoo: &OdooClient,
    module: &str,
) -> Result<BTreeMap<(String, String), RecordId>, FlowError> {
    let rows: Vec<Value> = odoo
        .model_named::<Value>("ir.model.data")
        .search_read(Domain::new().eq("module", module))
        .fields(["name", "model", "res_id"])
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let id = r.get("res_id").and_then(Value::as_i64)?;
            Some((
                (text(r, "model").to_owned(), text(r, "name").to_owned()),
                RecordId(id),
            ))
        })
        .collect())
}

/// A unit of measure by its external id in the `uom` module, or by its (English) name.
async fn uom(odoo: &OdooClient, xmlid: &str, name: &str) -> Result<Option<RecordId>, FlowError> {
    let rows: Vec<Value> = odoo
        .model_named::<Value>("ir.model.data")
        .search_read(
            Domain::new()
                .eq("module", "uom")
                .eq("name", xmlid)
                .eq("model", "uom.uom"),
        )
        .fields(["res_id"])
        .limit(1)
        .await?;
    if let Some(id) = rows
        .first()
        .and_then(|r| r.get("res_id"))
        .and_then(Value::as_i64)
    {
        return Ok(Some(RecordId(id)));
    }
    let rows: Vec<Value> = odoo
        .model_named::<Value>("uom.uom")
        .search_read(Domain::new().eq("name", name))
        .fields(["name"])
        .order("id")
        .limit(1)
        .await?;
    Ok(rows.first().and_then(id_of).map(RecordId))
}

async fn load_one(
    odoo: &OdooClient,
    model: &str,
    fields: &[&str],
    row: Vec<Value>,
) -> Result<RecordId, FlowError> {
    // Workers starting together set up together: their loads of the same external id roll
    // each other back (a serialisation failure), and the load that goes again finds the record
    // the other one made.
    let mut pause = std::time::Duration::from_millis(50);
    let mut result = odoo
        .model_named::<Value>(model)
        .load(fields, vec![row.clone()])
        .await?;
    for _ in 0..5 {
        if !result.is_transient() {
            break;
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
        result = odoo
            .model_named::<Value>(model)
            .load(fields, vec![row.clone()])
            .await?;
    }
    let ids = result
        .into_ids()
        .map_err(|e| FlowError::setup_caused_by(format!("Odoo refused the {model} record"), e))?;
    ids.first()
        .copied()
        .ok_or_else(|| FlowError::setup(format!("Odoo created no {model} record")))
}
