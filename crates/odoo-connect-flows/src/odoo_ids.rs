//! The Odoo ids the flows resolve once: company, currencies, countries, products, units, the bank
//! journal and employees.

use std::str::FromStr;

use serde_json::Value;

use super::FlowError;
use crate::mapping::MappingContext;
use odoo_connect_canonical::{BillingKind, CountryCode, Currency, EmployeeKey, LegalEntityKey};
use odoo_connect_client::{Domain, RecordId};

/// What the flows need to know about the Odoo database.
///
/// ```
/// use odoo_connect_canonical::BillingKind;
/// use odoo_connect_flows::FlowSettings;
/// let s = FlowSettings::new("firm-us".parse()?, 1)
///     .product(BillingKind::TimeAndMaterials, "PS-TM");
/// assert_eq!(s.company_id, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlowSettings {
    /// The firm's legal entity.
    pub legal_entity: LegalEntityKey,
    /// Its company in Odoo (`res.company`).
    pub company_id: i64,
    /// The service product sold for each billing kind, by internal reference (`default_code`).
    pub products: Vec<(BillingKind, String)>,
    /// The checks run before any invoice is released ([`BillingChecks::default`](crate::BillingChecks::default): the tax id
    /// when given, the currency and the credit limit).
    pub billing_checks: crate::BillingChecks,
}

impl FlowSettings {
    /// Settings for `legal_entity`, company `company_id`, with the products `PS-MIL` (fixed-fee
    /// milestones), `PS-TM` (time and materials), `PS-SUP` (retainer and recurring service).
    pub fn new(legal_entity: LegalEntityKey, company_id: i64) -> FlowSettings {
        FlowSettings {
            legal_entity,
            company_id,
            products: vec![
                (BillingKind::FixedFeeMilestones, "PS-MIL".into()),
                (BillingKind::TimeAndMaterials, "PS-TM".into()),
                (BillingKind::Retainer, "PS-SUP".into()),
                (BillingKind::RecurringService, "PS-SUP".into()),
            ],
            billing_checks: crate::BillingChecks::default(),
        }
    }

    /// Runs `checks` before any invoice is released.
    pub fn billing_checks(mut self, checks: crate::BillingChecks) -> FlowSettings {
        self.billing_checks = checks;
        self
    }

    /// Sells `kind` with the product whose internal reference is `code`.
    pub fn product(mut self, kind: BillingKind, code: impl Into<String>) -> FlowSettings {
        self.products.retain(|(k, _)| *k != kind);
        self.products.push((kind, code.into()));
        self
    }
}

fn id_of(v: &Value) -> Option<i64> {
    v.get("id").and_then(Value::as_i64)
}

fn many2one(v: &Value, field: &str) -> Option<i64> {
    match v.get(field) {
        Some(Value::Array(a)) => a.first().and_then(Value::as_i64),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

pub(super) async fn resolve(
    creds: &crate::FlowCredentials,
    settings: &FlowSettings,
) -> Result<MappingContext, FlowError> {
    let odoo = creds.client(crate::FlowPath::Booking).odoo();
    let mut ctx = MappingContext::new(odoo.version().await?);
    ctx.companies
        .insert(settings.legal_entity.clone(), settings.company_id);
    ctx.default_legal_entity = Some(settings.legal_entity.clone());
    let read = |model: &'static str, fields: &'static [&'static str], domain: Domain| {
        let odoo = odoo.clone();
        async move {
            odoo.model_named::<Value>(model)
                .search_read(domain)
                .fields(fields.iter().copied())
                .order("id")
                .await
        }
    };
    let company_or_shared = || {
        Domain::new().is_in(
            "company_id",
            vec![Value::from(settings.company_id), Value::Bool(false)],
        )
    };
    // Every currency, archived ones included: a contract may be in a currency the company has
    // not used yet.
    let currencies: Vec<Value> = odoo
        .model_named::<Value>("res.currency")
        .search_read(Domain::new())
        .fields(["name"])
        .order("id")
        .context(odoo_connect_client::Context::new().active_test(false))
        .await?;
    for c in currencies {
        if let (Some(id), Some(cur)) = (id_of(&c), text(&c, "name"))
            && let Ok(cur) = Currency::from_str(cur)
        {
            ctx.currencies.insert(cur, id);
        }
    }
    for c in read("res.country", &["code"], Domain::new()).await? {
        if let (Some(id), Some(code)) = (id_of(&c), text(&c, "code"))
            && let Ok(code) = CountryCode::from_str(code)
        {
            ctx.countries.insert(code, id);
        }
    }
    for (kind, code) in &settings.products {
        let found = read(
            "product.product",
            &["id"],
            Domain::new().eq("default_code", code.as_str()),
        )
        .await?;
        let id = found.first().and_then(id_of).ok_or_else(|| {
            FlowError::setup(format!(
                "no product with internal reference `{code}` to sell {kind}"
            ))
        })?;
        ctx.products.insert(*kind, RecordId(id));
    }
    // The pricelist of each currency (a sale order takes its currency from its pricelist): the
    // company's own first, then shared ones.
    let mut pricelists = read(
        "product.pricelist",
        &["currency_id", "company_id"],
        company_or_shared(),
    )
    .await?;
    pricelists.sort_by_key(|p| many2one(p, "company_id") != Some(settings.company_id));
    for p in pricelists {
        let company = many2one(&p, "company_id");
        if company.is_some_and(|c| c != settings.company_id) {
            continue;
        }
        let Some(cur) = many2one(&p, "currency_id") else {
            continue;
        };
        let Some(code) = ctx.currencies.key(RecordId(cur)).cloned() else {
            continue;
        };
        if ctx.pricelists.id(&code).is_none()
            && let Some(id) = id_of(&p)
        {
            ctx.pricelists.insert(code, id);
        }
    }
    for u in read("uom.uom", &["name"], Domain::new()).await? {
        match (id_of(&u), text(&u, "name")) {
            (Some(id), Some("Hours")) => ctx.uom_hour = Some(RecordId(id)),
            (Some(id), Some("Units")) => ctx.uom_unit = Some(RecordId(id)),
            _ => {}
        }
    }
    // The company's own bank journal: Odoo refuses a payment on another company's journal.
    let journals: Vec<Value> = creds
        .client(crate::FlowPath::Cash)
        .odoo()
        .model_named::<Value>("account.journal")
        .search_read(
            Domain::new()
                .eq("type", "bank")
                .eq("company_id", settings.company_id),
        )
        .fields(["id"])
        .order("id")
        .await?;
    ctx.payment_journal = journals.first().and_then(id_of).map(RecordId);
    let employees: Vec<Value> = creds
        .client(crate::FlowPath::Time)
        .odoo()
        .model_named::<Value>("hr.employee")
        .search_read(Domain::new())
        .fields(["work_email"])
        .order("id")
        .await?;
    for e in employees {
        if let (Some(id), Some(mail)) = (id_of(&e), text(&e, "work_email"))
            && let Ok(key) = EmployeeKey::new(mail.to_ascii_lowercase())
        {
            ctx.employees.insert(key, id);
        }
    }
    Ok(ctx)
}
