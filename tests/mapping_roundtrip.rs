//! Round trips through [`FakeOdoo`]: canonical → create in Odoo → read back typed → canonical,
//! equal (less the Odoo reference the read adds), on Odoo 19, 18 and 17.
//!
//! One flow per version: a legal entity and clients, the service products, a contract with a
//! line of every billing kind as a sale order (confirmed by its workflow calls), its project and
//! milestones, time entries, an expense, the invoice Odoo makes of the order and a payment
//! registered against it.
#![cfg(feature = "testkit")]

use std::str::FromStr;

use chrono::NaiveDate;
use odoo_connect::canonical::*;
use odoo_connect::mapping::{
    MappingContext, client, contract, expense, invoice, legal_entity, odoo_ref, payment, project,
    time,
};
use odoo_connect::odoo::models::sale::{QtyDeliveredMethod, SaleLineDisplayType, SaleOrderState};
use odoo_connect::odoo::models::{
    AccountMove, AccountMoveLine, Company, Milestone as OdooMilestone, Partner,
    Payment as OdooPayment, Project as OdooProject, SaleOrder, SaleOrderLine, Timesheet,
};
use odoo_connect::odoo::{
    Context, Domain, ModelValues, OdooCall, OdooClient, RecordId, ServerVersion, Values,
};
use odoo_connect::testkit::FakeOdoo;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn k<T: FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn usd(s: &str) -> Money {
    Money::new(d(s), Currency::USD)
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The fake's "today".
fn today() -> NaiveDate {
    date(2026, 11, 23)
}

/// `doc` as read back: the same, with its Odoo reference.
macro_rules! with_ref {
    ($doc:expr, $model:expr, $id:expr) => {{
        let mut doc = $doc.clone();
        doc.refs.insert("odoo", odoo_ref($model, $id));
        doc
    }};
}

async fn start(version: u8) -> (FakeOdoo, OdooClient) {
    let fake = FakeOdoo::builder().version(version).start().await;
    let odoo = OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key("admin", fake.admin_api_key())
        .build()
        .unwrap();
    (fake, odoo)
}

async fn find(odoo: &OdooClient, model: &str, domain: Domain) -> RecordId {
    let ids = odoo
        .model_named::<Value>(model)
        .search(domain.clone())
        .order("id")
        .limit(1)
        .await
        .unwrap();
    *ids.first()
        .unwrap_or_else(|| panic!("no {model} for {domain:?}"))
}

/// A typed create: the model is the values' record type's.
async fn create<V: ModelValues>(odoo: &OdooClient, values: &V) -> RecordId {
    let model = <V::Record as odoo_connect::odoo::Model>::MODEL;
    odoo.model::<V::Record>()
        .create_values(values)
        .await
        .unwrap_or_else(|e| panic!("create {model}: {e}"))
}

/// An untyped create, for a model with no typed values (`hr.expense`).
async fn create_untyped(odoo: &OdooClient, model: &str, values: &Values) -> RecordId {
    odoo.model_named::<Value>(model)
        .create(values)
        .await
        .unwrap_or_else(|e| panic!("create {model}: {e}"))
}

async fn read_one<T: odoo_connect::odoo::Model>(odoo: &OdooClient, id: RecordId) -> T {
    let mut records: Vec<T> = odoo.model::<T>().read([id]).await.unwrap();
    assert_eq!(records.len(), 1, "{} {id}", T::MODEL);
    records.remove(0)
}

/// The ids the mappings need, looked up in the fake as an integration would.
async fn resolve(odoo: &OdooClient, version: u8) -> MappingContext {
    let mut ctx = MappingContext::new(ServerVersion::new(u32::from(version), 0));
    for code in ["US", "CA"] {
        let id = find(odoo, "res.country", Domain::new().eq("code", code)).await;
        ctx.countries.insert(k(code), id);
    }
    let usd = find(odoo, "res.currency", Domain::new().eq("name", "USD")).await;
    ctx.currencies.insert(Currency::USD, usd);
    ctx.default_currency = Some(Currency::USD);
    ctx.companies.insert(k("firm-us"), 1);
    let net30 = find(
        odoo,
        "account.payment.term",
        Domain::new().eq("name", "30 Days"),
    )
    .await;
    ctx.payment_terms
        .insert(PaymentTerms::Net { days: 30 }, net30);
    ctx.uom_unit = Some(find(odoo, "uom.uom", Domain::new().eq("name", "Units")).await);
    ctx.uom_hour = Some(find(odoo, "uom.uom", Domain::new().eq("name", "Hours")).await);
    let tax = find(
        odoo,
        "account.tax",
        Domain::new()
            .eq("type_tax_use", "sale")
            .eq("amount", 15.0)
            .eq("company_id", 1),
    )
    .await;
    ctx.sale_taxes = vec![tax];
    ctx.tax_rates.insert(tax, d("15"));
    let bank = find(
        odoo,
        "account.journal",
        Domain::new().eq("type", "bank").eq("company_id", 1),
    )
    .await;
    ctx.payment_journal = Some(bank);
    let manual_in = find(
        odoo,
        "account.payment.method.line",
        Domain::new()
            .eq("journal_id", bank.get())
            .eq("payment_type", "inbound"),
    )
    .await;
    ctx.payment_methods
        .insert(PaymentMethod::BankTransfer, manual_in);
    let marc = find(odoo, "hr.employee", Domain::new().eq("name", "Marc Demo")).await;
    let marc_user = find(odoo, "res.users", Domain::new().eq("login", "demo")).await;
    ctx.employees.insert(k("marc"), marc);
    ctx.users.insert(k("marc"), marc_user);
    ctx.employee_roles.insert(k("marc"), k("consultant"));
    let internal = find(
        odoo,
        "project.project",
        Domain::new().eq("name", "Internal"),
    )
    .await;
    ctx.projects.insert(k("internal"), internal);
    ctx
}

fn firm_ca() -> LegalEntity {
    let mut e = LegalEntity::new(
        k("firm-ca"),
        "Firm Canada Inc.",
        k("CA"),
        Currency::USD,
        TaxRegime::Gst,
    );
    e.tax_id = Some("123456789RT0001".into());
    let mut a = Address::new(vec!["100 King St W".into()], "Toronto", k("CA"));
    a.postal_code = Some("M5X 1A9".into());
    e.address = Some(a);
    e
}

fn acme(key: &str, name: &str, parent: Option<&str>) -> Client {
    let mut a = Address::new(
        vec!["1 Market Street".into(), "Suite 400".into()],
        "San Francisco",
        k("US"),
    );
    a.postal_code = Some("94105".into());
    let mut c = Client::new(k(key), name, k("US"), a, Currency::USD, k("firm-us"));
    c.tax_id = Some("US98-7654321".into());
    c.parent = parent.map(k);
    c
}

fn the_contract() -> Contract {
    let mut c = Contract::new(
        k("c-rt"),
        k("acme"),
        k("firm-us"),
        "ERP roll-out",
        Currency::USD,
        date(2026, 11, 1),
    );
    c.end_date = Some(date(2027, 1, 31));
    let mut blueprint = Milestone::new(k("m1"), "Blueprint", usd("12000"));
    blueprint.due_date = Some(date(2026, 11, 20));
    blueprint.acceptance = Acceptance::Accepted { on: today() };
    let mut build = Milestone::new(k("m2"), "Build", usd("18000"));
    build.due_date = Some(date(2027, 1, 15));
    c.billing_lines = vec![
        BillingLine::fixed_fee(k("ff"), "Design", vec![blueprint, build]),
        BillingLine::time_and_materials(
            k("tm"),
            "Advisory",
            vec![
                Rate::new(k("partner"), usd("400")),
                Rate::new(k("consultant"), usd("150")),
            ],
            None,
        ),
        BillingLine::retainer(k("ret"), "Support", usd("6000"), None),
        BillingLine::pass_through(k("exp"), "Travel", Decimal::ZERO, true),
        BillingLine::recurring(
            k("ms"),
            "Managed service",
            Recurrence::Monthly,
            usd("2000"),
            date(2026, 11, 1),
            Some(date(2027, 1, 31)),
        ),
    ];
    c.sign(date(2026, 11, 1)).unwrap();
    c.activate().unwrap();
    c
}

async fn round_trip(version: u8) {
    let (fake, odoo) = start(version).await;
    let mut ctx = resolve(&odoo, version).await;
    let v = format!("Odoo {version}");

    // ---------------------------------------------------------------- legal entity
    let firm = firm_ca();
    let mapped = legal_entity::to_odoo(&firm, &ctx).unwrap();
    assert!(mapped.is_complete(), "{v}: {:?}", mapped.unsupported);
    let company_id = create(&odoo, &mapped.values).await;
    ctx.companies.insert(firm.key.clone(), company_id);
    let back =
        legal_entity::from_odoo(&read_one::<Company>(&odoo, company_id).await, &ctx).unwrap();
    assert_eq!(back, with_ref!(firm, "res.company", company_id), "{v}");

    // ---------------------------------------------------------------- clients
    for c in [
        acme("acme-group", "ACME Group", None),
        acme("acme", "ACME Inc.", Some("acme-group")),
    ] {
        let mapped = client::to_odoo(&c, &ctx).unwrap();
        let paths: Vec<&str> = mapped.unsupported.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(paths, ["currency"], "{v}: no pricelists in the fake");
        let id = create(&odoo, &mapped.values).await;
        ctx.clients.insert(c.key.clone(), id);
        let back = client::from_odoo(&read_one::<Partner>(&odoo, id).await, &ctx).unwrap();
        assert_eq!(back, with_ref!(c, "res.partner", id), "{v}");
    }

    // ---------------------------------------------------------------- service products
    for kind in [
        BillingKind::FixedFeeMilestones,
        BillingKind::TimeAndMaterials,
        BillingKind::Retainer,
        BillingKind::PassThroughExpenses,
        BillingKind::RecurringService,
    ] {
        let mapped = contract::service_product(kind, &format!("Service: {kind}"), &ctx);
        let id = create(&odoo, &mapped.values).await;
        ctx.products.insert(kind, id);
    }
    let travel = contract::service_product(BillingKind::PassThroughExpenses, "Travel", &ctx);
    let travel = create(&odoo, &travel.values).await;
    ctx.expense_products.insert("travel".into(), travel);

    // ---------------------------------------------------------------- contract → sale order
    let c = the_contract();
    assert!(c.validate().is_ok(), "{:?}", c.validate());
    let mapped = contract::to_odoo(&c, &ctx).unwrap();
    let order_id = create(&odoo, &mapped.values).await;
    ctx.orders.insert(c.key.clone(), order_id);
    let order: SaleOrder = read_one(&odoo, order_id).await;
    assert_eq!(order.origin.as_deref(), Some("c-rt"), "{v}");
    assert_eq!(order.state, Some(SaleOrderState::Draft), "{v}");
    assert_eq!(
        order.partner_id.as_ref().map(|p| p.id),
        ctx.clients.id(&k("acme"))
    );
    // 12000 + 18000 + 2 × 0 h + 6000 + 0 + 3 months × 2000
    assert_eq!(order.amount_untaxed, d("42000"), "{v}");
    let mut lines: Vec<SaleOrderLine> = odoo
        .model::<SaleOrderLine>()
        .read(order.order_line.clone())
        .await
        .unwrap();
    lines.sort_by_key(|l| (l.sequence, l.id));
    assert_eq!(lines.len(), 8, "{v}");
    assert_eq!(
        lines[0].display_type,
        Some(SaleLineDisplayType::LineSection)
    );
    assert_eq!(lines[0].name, "ERP roll-out");
    let ids: Vec<RecordId> = lines.iter().map(|l| l.id).collect();
    for (r, id) in contract::pair_line_ids(&c, &ids) {
        ctx.sale_lines.insert(r, id);
    }
    let by_name = |name: &str| lines.iter().find(|l| l.name == name).unwrap();
    let blueprint = by_name("Design: Blueprint");
    assert_eq!(blueprint.price_unit, d("12000"), "{v}");
    assert_eq!(blueprint.tax_ids, ctx.sale_taxes, "{v}");
    assert_eq!(
        blueprint.qty_delivered_method,
        Some(QtyDeliveredMethod::Milestones),
        "{v}: fixed fees are delivered by milestones"
    );
    let partner_hours = by_name("Advisory (partner)");
    assert_eq!(
        partner_hours.qty_delivered_method,
        Some(QtyDeliveredMethod::Timesheet),
        "{v}: time and materials are delivered by timesheets"
    );
    assert_eq!(
        partner_hours.product_uom_id.as_ref().map(|u| u.id),
        ctx.uom_hour
    );
    assert_eq!(by_name("Managed service").product_uom_qty, d("3"), "{v}");
    for call in contract::workflow_calls(&c, &order, &ctx.version) {
        let _: Value = odoo.call(&call).await.unwrap();
    }
    let order: SaleOrder = read_one(&odoo, order_id).await;
    let target = contract::target_state(&c, &ctx.version);
    assert_eq!(order.state, Some(target.state), "{v}");
    assert!(contract::workflow_calls(&c, &order, &ctx.version).is_empty());

    // ---------------------------------------------------------------- project and milestones
    let mut prj = Project::new(k("prj-rt"), "ERP roll-out", k("acme"));
    prj.contract = Some(c.key.clone());
    prj.billing_line = Some(k("tm"));
    prj.manager = Some(k("marc"));
    prj.start_date = Some(c.start_date);
    prj.end_date = c.end_date;
    prj.milestones = vec![k("m1"), k("m2")];
    let mapped = project::to_odoo(&prj, &ctx).unwrap();
    assert!(mapped.is_complete(), "{v}");
    let project_id = create(&odoo, &mapped.values).await;
    ctx.projects.insert(prj.key.clone(), project_id);
    let milestones = c.billing_lines[0].milestones().to_vec();
    for m in &milestones {
        let mapped = project::milestone_to_odoo(m, &prj.key, &ctx).unwrap();
        let id = create(&odoo, &mapped.values).await;
        ctx.milestones.insert(m.key.clone(), id);
    }
    let odoo_project: OdooProject = read_one(&odoo, project_id).await;
    if let Some(account) = &odoo_project.account_id {
        ctx.analytic_accounts.insert(prj.key.clone(), account.id);
    }
    let odoo_milestones: Vec<OdooMilestone> = odoo
        .model::<OdooMilestone>()
        .search_read(Domain::new().eq("project_id", project_id.get()))
        .order("id")
        .await
        .unwrap();
    let back = project::from_odoo(&odoo_project, &odoo_milestones, &ctx).unwrap();
    assert_eq!(back, with_ref!(prj, "project.project", project_id), "{v}");
    for (m, odoo_m) in milestones.iter().zip(&odoo_milestones) {
        let line_id = odoo_m.sale_line_id.as_ref().map(|l| l.id).unwrap();
        let line: SaleOrderLine = read_one(&odoo, line_id).await;
        let back = project::milestone_from_odoo(odoo_m, Some(&line), &ctx).unwrap();
        assert_eq!(back, with_ref!(m, "project.milestone", odoo_m.id), "{v}");
    }

    // ---------------------------------------------------------------- time entries
    let mut billable = TimeEntry::new(
        k("te-1"),
        k("marc"),
        prj.key.clone(),
        k("partner"),
        date(2026, 11, 20),
        d("7.25"),
        "Steering committee",
    );
    billable.billing_line = Some(k("tm"));
    billable.approval = ApprovalState::Approved;
    let mut internal = TimeEntry::new(
        k("te-2"),
        k("marc"),
        k("internal"),
        k("consultant"),
        date(2026, 11, 21),
        d("1.5"),
        "Training",
    );
    internal.billable = false;
    internal.approval = ApprovalState::Approved;
    for entry in [&billable, &internal] {
        let mapped = time::to_odoo(entry, &ctx).unwrap();
        let id = create(&odoo, &mapped.values).await;
        ctx.time_entries.insert(entry.key.clone(), id);
        let back = time::from_odoo(&read_one::<Timesheet>(&odoo, id).await, &ctx).unwrap();
        assert_eq!(back, with_ref!(entry, "account.analytic.line", id), "{v}");
    }

    // ---------------------------------------------------------------- expense
    let mut train = Expense::new(
        k("ex-1"),
        k("marc"),
        prj.key.clone(),
        date(2026, 11, 19),
        "travel",
        "Train to Sacramento",
        usd("89.40"),
    );
    train.billable = false;
    let mapped = expense::to_odoo(&train, &ctx).unwrap();
    assert!(mapped.is_complete(), "{v}: {:?}", mapped.unsupported);
    let before = fake.count("hr.expense");
    let expense_id = create_untyped(&odoo, "hr.expense", &mapped.values).await;
    assert_eq!(fake.count("hr.expense"), before + 1);
    let stored = fake.record("hr.expense", expense_id.get()).unwrap();
    assert_eq!(stored["total_amount_currency"], json!(89.4), "{v}");
    assert_eq!(
        stored["employee_id"],
        json!(ctx.employees.id(&k("marc")).unwrap().get())
    );

    // ---------------------------------------------------------------- invoice of the order
    let active = Context::new()
        .with("active_model", "sale.order")
        .with("active_ids", json!([order_id.get()]))
        .with("active_id", order_id.get());
    let wizard: RecordId = odoo
        .model_named::<Value>("sale.advance.payment.inv")
        .with_context(active.clone())
        .create(&Values::new().set("advance_payment_method", "delivered"))
        .await
        .unwrap();
    let action: Value = odoo
        .call(
            &OdooCall::new("sale.advance.payment.inv", "create_invoices")
                .ids([wizard])
                .context(active),
        )
        .await
        .unwrap();
    let move_id = RecordId(action["res_id"].as_i64().unwrap());
    let _: Value = odoo
        .call(&OdooCall::new("account.move", "action_post").ids([move_id]))
        .await
        .unwrap();
    let inv_key: InvoiceKey = k("inv-rt");
    ctx.invoices.insert(inv_key.clone(), move_id);
    let read_invoice = |odoo: OdooClient| async move {
        let mv: AccountMove = read_one(&odoo, move_id).await;
        let lines: Vec<AccountMoveLine> = odoo
            .model::<AccountMoveLine>()
            .search_read(Domain::new().eq("move_id", move_id.get()))
            .order("id")
            .await
            .unwrap();
        (mv, lines)
    };
    let (mv, move_lines) = read_invoice(odoo.clone()).await;
    let inv = invoice::from_odoo(&mv, &move_lines, &ctx).unwrap();
    assert_eq!(inv.key, inv_key, "{v}");
    assert_eq!(inv.kind, InvoiceKind::Invoice, "{v}");
    assert_eq!(inv.status, InvoiceStatus::Posted, "{v}");
    assert_eq!(inv.client.as_str(), "acme", "{v}");
    assert_eq!(inv.legal_entity.as_str(), "firm-us", "{v}");
    assert_eq!(inv.contract.as_ref(), Some(&c.key), "{v}");
    assert!(inv.number.is_some(), "{v}");
    assert!(inv.validate().is_ok(), "{v}: {:?}", inv.validate());
    // The order's retainer (6000), its three months (6000) and the partner's 7.25 h (2900).
    let billed = |line: &str| {
        inv.lines
            .iter()
            .filter(|l| l.billing_line.as_ref().map(|b| b.as_str()) == Some(line))
            .map(|l| l.subtotal.amount)
            .sum::<Decimal>()
    };
    assert_eq!(billed("ret"), d("6000"), "{v}");
    assert_eq!(billed("ms"), d("6000"), "{v}");
    assert_eq!(billed("tm"), d("2900"), "{v}");
    if version <= 17 {
        // The reached milestone delivered its line. (From 18 the fake keeps the milestone's
        // `product_uom_qty` without deriving `quantity_percentage` from it, so it delivers
        // nothing there.)
        assert_eq!(billed("ff"), d("12000"), "{v}");
        let milestone_line = inv.lines.iter().find(|l| l.billing_line == Some(k("ff")));
        assert_eq!(
            milestone_line.and_then(|l| l.source.clone()),
            Some(LineSource::Milestone { milestone: k("m1") })
        );
    }
    assert_eq!(inv.taxes.len(), 1, "{v}");
    assert_eq!(inv.taxes[0].rate, d("15"), "{v}");
    assert_eq!(inv.tax.amount, inv.untaxed.amount * d("0.15"), "{v}");

    // ---------------------------------------------------------------- payment
    let mut pay = Payment::new(
        k("pay-rt"),
        k("acme"),
        k("firm-us"),
        inv.total,
        today(),
        inv.number.clone().unwrap(),
        PaymentMethod::BankTransfer,
    );
    pay.allocations.push(PaymentAllocation {
        invoice: inv_key.clone(),
        amount: inv.total,
    });
    let registration = payment::registration(&pay, &ctx).unwrap();
    assert!(registration.unsupported.is_empty(), "{v}");
    let wizard: Value = odoo.call(&registration.create_call()).await.unwrap();
    let wizard = wizard
        .as_i64()
        .or_else(|| wizard.get(0).and_then(Value::as_i64))
        .map(RecordId)
        .unwrap();
    let action: Value = odoo.call(&registration.confirm_call(wizard)).await.unwrap();
    let payment_id = RecordId(action["res_id"].as_i64().unwrap());
    ctx.payments.insert(pay.key.clone(), payment_id);
    let odoo_payment: OdooPayment = read_one(&odoo, payment_id).await;
    assert!(odoo_payment.is_done(), "{v}");
    let back = payment::from_odoo(&odoo_payment, &ctx).unwrap();
    assert_eq!(back, with_ref!(pay, "account.payment", payment_id), "{v}");

    let (mv, move_lines) = read_invoice(odoo.clone()).await;
    let paid = invoice::from_odoo(&mv, &move_lines, &ctx).unwrap();
    assert_eq!(paid.status, InvoiceStatus::Paid, "{v}");
    assert!(paid.amount_due.is_zero(), "{v}");
    assert!(paid.validate().is_ok(), "{v}");

    fake.shutdown().await;
}

#[tokio::test]
async fn round_trip_on_odoo_19() {
    round_trip(19).await;
}

#[tokio::test]
async fn round_trip_on_odoo_18() {
    round_trip(18).await;
}

#[tokio::test]
async fn round_trip_on_odoo_17() {
    round_trip(17).await;
}
