//! Snapshots of the Odoo values each mapping produces, per Odoo version (16, 17, 18, 19).
//!
//! Each case maps fixed canonical inputs with a fixed context on every version and compares the
//! result (values and the fields reported as not held, or the error) with
//! `tests/snapshots/mapping/<case>.json`, which holds one entry per version so that the
//! differences between versions read side by side. Run with `UPDATE_SNAPSHOTS=1` to rewrite the
//! files after an intended change, and review the diff.

mod canonical_fixtures;

use std::path::PathBuf;

use canonical_fixtures::{d, date, eur, k, mixed_contract};
use odoo_connect::canonical::*;
use odoo_connect::mapping::{
    MappingContext, MappingError, client, contract, expense, legal_entity, payment, project, time,
};
use odoo_connect::odoo::models::SaleOrder;
use odoo_connect::odoo::{RecordId, ServerVersion};
use serde_json::{Map, Value, json};

const VERSIONS: [u32; 4] = [16, 17, 18, 19];

/// Every id the inputs need, resolved.
fn ctx(major: u32) -> MappingContext {
    let mut c = MappingContext::new(ServerVersion::new(major, 0));
    c.companies.insert(k("firm"), 1);
    c.clients.insert(k("acme"), 15);
    c.clients.insert(k("acme-group"), 14);
    c.currencies.insert(Currency::EUR, 125);
    c.currencies.insert(Currency::USD, 1);
    c.countries.insert(k("BE"), 20);
    c.countries.insert(k("FR"), 75);
    c.countries.insert(k("US"), 233);
    c.regions.insert("Brussels-Capital".to_owned(), 1001);
    c.payment_terms.insert(PaymentTerms::Net { days: 30 }, 4);
    c.pricelists.insert(Currency::EUR, 2);
    for (kind, id) in [
        (BillingKind::FixedFeeMilestones, 40),
        (BillingKind::TimeAndMaterials, 41),
        (BillingKind::Retainer, 42),
        (BillingKind::PassThroughExpenses, 43),
        (BillingKind::RecurringService, 44),
    ] {
        c.products.insert(kind, RecordId(id));
    }
    c.role_products.insert(k("partner"), RecordId(45));
    c.expense_products.insert("travel".to_owned(), RecordId(46));
    c.uom_unit = Some(RecordId(1));
    c.uom_hour = Some(RecordId(4));
    c.sale_taxes = vec![RecordId(3)];
    c.orders.insert(k("c-1"), 29);
    let line_ids: Vec<RecordId> = (70..90).map(RecordId).collect();
    for (r, id) in contract::pair_line_ids(&mixed_contract(), &line_ids) {
        c.sale_lines.insert(r, id);
    }
    c.projects.insert(k("prj-1"), 8);
    c.analytic_accounts.insert(k("prj-1"), 24);
    c.milestones.insert(k("m1"), 3);
    c.tasks.insert(k("t-1"), 12);
    c.employees.insert(k("jane"), 7);
    c.users.insert(k("jane"), 6);
    c.employee_roles.insert(k("jane"), k("consultant"));
    c.invoices.insert(k("inv-10"), 57);
    c.invoices.insert(k("inv-11"), 59);
    c.payment_journal = Some(RecordId(6));
    c.payment_methods.insert(PaymentMethod::BankTransfer, 1);
    c.default_currency = Some(Currency::EUR);
    c
}

fn outcome<T: serde::Serialize>(r: Result<T, MappingError>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).unwrap_or_else(|e| json!({"serialise": e.to_string()})),
        Err(e) => json!({"error": e.to_string(), "path": e.path()}),
    }
}

// ---------------------------------------------------------------- canonical inputs

fn acme() -> Client {
    let mut address = Address::new(
        vec!["Rue Neuve 1".into(), "Box 4".into()],
        "Brussels",
        k("BE"),
    );
    address.postal_code = Some("1000".into());
    address.region = Some("Brussels-Capital".into());
    let mut c = Client::new(
        k("acme"),
        "ACME SA",
        k("BE"),
        address,
        Currency::EUR,
        k("firm"),
    );
    c.tax_id = Some("BE0477472701".into());
    c.parent = Some(k("acme-group"));
    c
}

fn acme_unresolved() -> Client {
    let mut c = acme();
    c.billing_address.lines.push("Floor 3".into());
    c.billing_address.region = Some("Flanders".into());
    c.payment_terms = PaymentTerms::EndOfMonth { days: 10 };
    c.currency = Currency::USD;
    c.parent = None;
    c.country = k("FR");
    c
}

fn firm() -> LegalEntity {
    let mut e = LegalEntity::new(
        k("firm"),
        "Firm SAS",
        k("FR"),
        Currency::EUR,
        TaxRegime::Vat,
    );
    e.tax_id = Some("FR40303265045".into());
    let mut a = Address::new(vec!["8 rue de la Paix".into()], "Paris", k("FR"));
    a.postal_code = Some("75002".into());
    e.address = Some(a);
    e
}

fn firm_gst_without_number() -> LegalEntity {
    let mut e = LegalEntity::new(
        k("firm"),
        "Firm SAS",
        k("FR"),
        Currency::EUR,
        TaxRegime::Gst,
    );
    e.tax_id = None;
    e
}

fn project_open() -> Project {
    let mut p = Project::new(k("prj-1"), "ERP roll-out", k("acme"));
    p.contract = Some(k("c-1"));
    p.billing_line = Some(k("tm"));
    p.manager = Some(k("jane"));
    p.start_date = Some(date(2025, 1, 6));
    p.end_date = Some(date(2025, 12, 19));
    p.milestones = vec![k("m1"), k("m2")];
    p.budget_hours = Some(d("1200"));
    p
}

fn project_closed() -> Project {
    let mut p = Project::new(k("prj-1"), "ERP roll-out", k("acme"));
    p.status = ProjectStatus::Closed;
    p
}

fn milestone_accepted() -> Milestone {
    let mut m = Milestone::new(k("m1"), "Design", eur("10000"));
    m.due_date = Some(date(2025, 2, 28));
    m.acceptance = Acceptance::Accepted {
        on: date(2025, 2, 15),
    };
    m
}

fn milestone_unlinked() -> Milestone {
    let mut m = Milestone::new(k("m9"), "Hand-over", eur("2500"));
    m.acceptance = Acceptance::Delivered {
        on: date(2025, 3, 1),
    };
    m
}

fn time_billable() -> TimeEntry {
    let mut e = TimeEntry::new(
        k("te-1"),
        k("jane"),
        k("prj-1"),
        k("partner"),
        date(2025, 3, 3),
        d("7.25"),
        "Steering committee",
    );
    e.task = Some(k("t-1"));
    e.billing_line = Some(k("tm"));
    e.approval = ApprovalState::Approved;
    e
}

fn time_non_billable() -> TimeEntry {
    let mut e = TimeEntry::new(
        k("te-2"),
        k("jane"),
        k("prj-1"),
        k("consultant"),
        date(2025, 3, 4),
        d("1.5"),
        "Internal training",
    );
    e.billable = false;
    e.approval = ApprovalState::Submitted;
    e
}

fn travel() -> Expense {
    let mut e = Expense::new(
        k("ex-1"),
        k("jane"),
        k("prj-1"),
        date(2025, 3, 4),
        "travel",
        "Train to Lyon",
        eur("89.40"),
    );
    e.billing_line = Some(k("exp"));
    e
}

fn software() -> Expense {
    let mut e = Expense::new(
        k("ex-2"),
        k("jane"),
        k("prj-1"),
        date(2025, 3, 5),
        "software",
        "Diagram licence",
        eur("49.00"),
    );
    e.billable = false;
    e.approval = ApprovalState::Approved;
    e
}

fn payment_of_two() -> Payment {
    let mut p = Payment::new(
        k("pay-1"),
        k("acme"),
        k("firm"),
        eur("15000.00"),
        date(2025, 4, 2),
        "INV/2025/0010 INV/2025/0011",
        PaymentMethod::BankTransfer,
    );
    p.allocations = vec![
        PaymentAllocation {
            invoice: k("inv-10"),
            amount: eur("10000.00"),
        },
        PaymentAllocation {
            invoice: k("inv-11"),
            amount: eur("4000.00"),
        },
    ];
    p
}

fn advance() -> Payment {
    Payment::new(
        k("pay-2"),
        k("acme"),
        k("firm"),
        eur("5000.00"),
        date(2025, 4, 3),
        "Advance",
        PaymentMethod::Card,
    )
}

// ---------------------------------------------------------------- cases

type Case = (&'static str, fn(&MappingContext) -> Value);

fn contract_states(ctx: &MappingContext) -> Value {
    let draft = canonical_fixtures::contract();
    let active = mixed_contract();
    let mut closed = mixed_contract();
    closed.close().ok();
    let mut abandoned = canonical_fixtures::contract();
    abandoned.close().ok();
    let mut out = Map::new();
    for (name, c) in [
        ("draft", &draft),
        ("active", &active),
        ("closed", &closed),
        ("abandoned", &abandoned),
    ] {
        let target = contract::target_state(c, &ctx.version);
        let quotation: SaleOrder =
            serde_json::from_value(json!({"id": 29, "state": "draft"})).unwrap();
        let calls: Vec<String> = contract::workflow_calls(c, &quotation, &ctx.version)
            .iter()
            .map(ToString::to_string)
            .collect();
        out.insert(
            name.to_owned(),
            json!({"state": target.state.as_str(), "locked": target.locked, "calls_from_quotation": calls}),
        );
    }
    Value::Object(out)
}

fn service_products(ctx: &MappingContext) -> Value {
    let mut out = Map::new();
    for kind in [
        BillingKind::FixedFeeMilestones,
        BillingKind::TimeAndMaterials,
        BillingKind::Retainer,
        BillingKind::PassThroughExpenses,
        BillingKind::RecurringService,
    ] {
        let mapped = contract::service_product(kind, &format!("Service: {kind}"), ctx);
        out.insert(kind.to_string(), outcome(Ok(mapped)));
    }
    Value::Object(out)
}

fn registration(ctx: &MappingContext) -> Value {
    match payment::registration(&payment_of_two(), ctx) {
        Ok(r) => json!({
            "invoice_ids": r.invoice_ids,
            "context": r.context,
            "values": r.values,
            "unsupported": r.unsupported,
            "calls": [r.create_call().to_string(), r.confirm_call(RecordId(1)).to_string()],
            "create_call": r.create_call(),
        }),
        Err(e) => outcome::<()>(Err(e)),
    }
}

fn cases() -> Vec<Case> {
    vec![
        ("client", |c| outcome(client::to_odoo(&acme(), c))),
        ("client_unresolved", |c| {
            outcome(client::to_odoo(&acme_unresolved(), c))
        }),
        ("client_missing_company", |c| {
            let mut client = acme();
            client.legal_entity = k("firm-de");
            outcome(client::to_odoo(&client, c))
        }),
        ("legal_entity", |c| {
            outcome(legal_entity::to_odoo(&firm(), c))
        }),
        ("legal_entity_regime_not_held", |c| {
            outcome(legal_entity::to_odoo(&firm_gst_without_number(), c))
        }),
        ("contract_mixed", |c| {
            outcome(contract::to_odoo(&mixed_contract(), c))
        }),
        ("contract_unresolved", |c| {
            let mut c = c.clone();
            c.pricelists = Default::default();
            c.sale_taxes.clear();
            c.uom_hour = None;
            c.uom_unit = None;
            c.role_products.clear();
            let mut contract = mixed_contract();
            contract.billing_lines.truncate(2);
            outcome(contract::to_odoo(&contract, &c))
        }),
        ("contract_missing_product", |c| {
            let mut c = c.clone();
            c.products.remove(&BillingKind::RecurringService);
            outcome(contract::to_odoo(&mixed_contract(), &c))
        }),
        ("contract_states", contract_states),
        ("service_products", service_products),
        ("project", |c| outcome(project::to_odoo(&project_open(), c))),
        ("project_closed", |c| {
            outcome(project::to_odoo(&project_closed(), c))
        }),
        ("milestone", |c| {
            outcome(project::milestone_to_odoo(
                &milestone_accepted(),
                &k("prj-1"),
                c,
            ))
        }),
        ("milestone_unlinked", |c| {
            outcome(project::milestone_to_odoo(
                &milestone_unlinked(),
                &k("prj-1"),
                c,
            ))
        }),
        ("time_billable", |c| {
            outcome(time::to_odoo(&time_billable(), c))
        }),
        ("time_non_billable", |c| {
            outcome(time::to_odoo(&time_non_billable(), c))
        }),
        ("expense", |c| outcome(expense::to_odoo(&travel(), c))),
        ("expense_plans", |c| {
            let mut c = c.clone();
            c.extra_analytic_accounts = vec![RecordId(31)];
            outcome(expense::to_odoo(&software(), &c))
        }),
        ("payment", |c| outcome(payment::to_odoo(&advance(), c))),
        ("payment_allocated", |c| {
            outcome(payment::to_odoo(&payment_of_two(), c))
        }),
        ("payment_registration", registration),
    ]
}

// ---------------------------------------------------------------- comparison

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/mapping")
}

#[test]
fn mappings_match_their_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v != "0");
    let dir = snapshot_dir();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut failures = Vec::new();
    for (name, case) in cases() {
        let mut actual = Map::new();
        for v in VERSIONS {
            actual.insert(v.to_string(), case(&ctx(v)));
        }
        let actual = Value::Object(actual);
        let path = dir.join(format!("{name}.json"));
        if update {
            let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let expected: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        match expected {
            None => failures.push(format!(
                "{name}: no snapshot at {} (run with UPDATE_SNAPSHOTS=1)",
                path.display()
            )),
            Some(expected) if expected != actual => {
                for v in VERSIONS {
                    let key = v.to_string();
                    if expected.get(&key) != actual.get(&key) {
                        failures.push(format!(
                            "{name} (Odoo {v}):\n  expected {}\n  actual   {}",
                            expected.get(&key).cloned().unwrap_or(Value::Null),
                            actual[&key]
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} snapshot(s) differ (UPDATE_SNAPSHOTS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The snapshots hold the version differences the mapping is meant to make.
#[test]
fn snapshots_show_the_version_differences() {
    let at = |case: &str, v: u32| -> Value {
        let (_, f) = cases()
            .into_iter()
            .find(|(n, _)| *n == case)
            .expect("a case");
        f(&ctx(v))
    };
    // sale.order.line: product_uom / tax_id up to 18, product_uom_id / tax_ids in 19.
    let line = |v| at("contract_mixed", v)["values"]["order_line"][1][2].clone();
    assert_eq!(line(18)["product_uom"], 1);
    assert_eq!(line(18)["tax_id"], json!([[6, 0, [3]]]));
    assert_eq!(line(19)["product_uom_id"], 1);
    assert_eq!(line(19)["tax_ids"], json!([[6, 0, [3]]]));
    assert!(line(19).get("product_uom").is_none());
    // project.project: analytic_account_id up to 17, account_id from 18.
    assert_eq!(at("project", 17)["values"]["analytic_account_id"], 24);
    assert_eq!(at("project", 18)["values"]["account_id"], 24);
    // product type: detailed_type up to 17, type from 18.
    let p = |v| at("service_products", v)["fixed_fee_milestones"]["values"].clone();
    assert_eq!(p(17)["detailed_type"], "service");
    assert_eq!(p(18)["type"], "service");
    assert!(p(19).get("uom_po_id").is_none());
    // account.payment: ref up to 17, memo from 18.
    assert_eq!(at("payment", 17)["values"]["ref"], "Advance");
    assert_eq!(at("payment", 18)["values"]["memo"], "Advance");
    // analytic distribution keys: one account in 16, one per plan from 17.
    assert_eq!(
        at("expense_plans", 16)["values"]["analytic_distribution"],
        json!({"24": 100})
    );
    assert_eq!(
        at("expense_plans", 17)["values"]["analytic_distribution"],
        json!({"24,31": 100})
    );
    // hr.expense total: total_amount in 16, total_amount_currency from 17.
    assert_eq!(at("expense", 16)["values"]["total_amount"], 89.4);
    assert_eq!(at("expense", 17)["values"]["total_amount_currency"], 89.4);
    // milestone quantity: quantity_percentage up to 17, product_uom_qty from 18.
    assert_eq!(at("milestone", 17)["values"]["quantity_percentage"], 1.0);
    assert_eq!(at("milestone", 18)["values"]["product_uom_qty"], 1.0);
    // Closed contracts: done in 16, locked from 17.
    assert_eq!(at("contract_states", 16)["closed"]["state"], "done");
    assert_eq!(at("contract_states", 17)["closed"]["locked"], true);
}
