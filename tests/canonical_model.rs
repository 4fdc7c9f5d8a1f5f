//! The canonical documents: validation with field paths, contract lifecycle, stable JSON.

mod canonical_fixtures;

use std::collections::BTreeSet;

use canonical_fixtures::*;
use odoo_connect::canonical::*;
use serde_json::json;

fn problems(result: Result<(), ValidationErrors>) -> BTreeSet<(String, ProblemCode)> {
    result
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| (p.path.clone(), p.code))
        .collect()
}

fn set(items: &[(&str, ProblemCode)]) -> BTreeSet<(String, ProblemCode)> {
    items.iter().map(|(p, c)| (p.to_string(), *c)).collect()
}

fn address() -> Address {
    Address::new(vec!["1 Main Street".into()], "Springfield", k("US"))
}

fn client() -> Client {
    Client::new(
        k("acme"),
        "ACME Inc.",
        k("US"),
        address(),
        Currency::USD,
        k("firm-us"),
    )
}

// ---------------------------------------------------------------- validation

#[test]
fn valid_documents_pass() {
    assert!(mixed_contract().is_valid());
    assert!(client().is_valid());
    let mut le = LegalEntity::new(k("firm"), "Firm", k("FR"), Currency::EUR, TaxRegime::Vat);
    le.tax_id = Some("FR40303265045".into());
    assert!(le.is_valid());
    assert!(
        LegalEntity::new(
            k("firm-us"),
            "Firm Inc.",
            k("US"),
            Currency::USD,
            TaxRegime::SalesTax
        )
        .is_valid()
    );
    assert!(approved("t1", "partner", date(2025, 3, 3), "7.25").is_valid());
    assert!(expense("e1", eur("12.30"), ApprovalState::Draft).is_valid());
    assert!(Project::new(k("p"), "Roll-out", k("acme")).is_valid());
}

#[test]
fn contract_reports_every_problem_with_its_path() {
    let mut c = mixed_contract();
    c.title = "  ".into();
    c.version = 3;
    c.end_date = Some(date(2024, 12, 1));
    if let Some(BillingLine::FixedFeeMilestones(l)) = c.line_mut(&k("ff")) {
        l.milestones[0].amount = Money::new(d("100"), Currency::USD);
        l.milestones[1].amount = eur("10.005");
        l.milestones[2].invoiced = Some(k("inv-9"));
        l.milestones[2].key = k("m1");
    }
    if let Some(BillingLine::TimeAndMaterials(l)) = c.line_mut(&k("tm")) {
        l.rate_card[0].rate = eur("0");
        l.rate_card[1].role = k("partner");
        l.not_to_exceed = Some(eur("-5"));
    }
    if let Some(BillingLine::Retainer(r)) = c.line_mut(&k("ret")) {
        r.consumed = eur("-1");
    }
    if let Some(BillingLine::PassThroughExpenses(l)) = c.line_mut(&k("exp")) {
        l.markup = d("-0.1");
    }
    if let Some(BillingLine::RecurringService(l)) = c.line_mut(&k("ms")) {
        l.start = date(2024, 6, 1);
        l.end = Some(date(2024, 5, 1));
    }
    let found = problems(c.validate());
    let expected = set(&[
        ("title", ProblemCode::Required),
        ("end_date", ProblemCode::DateOrder),
        ("version", ProblemCode::Inconsistent),
        (
            "billing_lines[0].milestones[0].amount",
            ProblemCode::CurrencyMismatch,
        ),
        (
            "billing_lines[0].milestones[1].amount",
            ProblemCode::NotRounded,
        ),
        (
            "billing_lines[0].milestones[2].invoiced",
            ProblemCode::Inconsistent,
        ),
        ("billing_lines[0].milestones[2].key", ProblemCode::Duplicate),
        (
            "billing_lines[1].rate_card[0].rate",
            ProblemCode::NotPositive,
        ),
        ("billing_lines[1].rate_card[1].role", ProblemCode::Duplicate),
        ("billing_lines[1].not_to_exceed", ProblemCode::NotPositive),
        ("billing_lines[2].consumed", ProblemCode::Negative),
        ("billing_lines[3].markup", ProblemCode::OutOfRange),
        ("billing_lines[4].start", ProblemCode::DateOrder),
        ("billing_lines[4].end", ProblemCode::DateOrder),
    ]);
    assert_eq!(found, expected);
    let errors = c.validate().unwrap_err();
    assert!(
        errors
            .to_string()
            .starts_with("14 validation problems: title: must not be blank"),
        "{errors}"
    );
}

#[test]
fn contract_status_and_signature() {
    let mut c = contract();
    c.status = ContractStatus::Active;
    assert_eq!(
        problems(c.validate()),
        set(&[
            ("signed_on", ProblemCode::Required),
            ("billing_lines", ProblemCode::Required)
        ])
    );
    let mut c = contract();
    c.signed_on = Some(date(2025, 1, 1));
    assert_eq!(
        problems(c.validate()),
        set(&[("signed_on", ProblemCode::Inconsistent)])
    );
}

#[test]
fn other_documents_report_every_problem() {
    let mut cl = client();
    cl.legal_name = String::new();
    cl.parent = Some(k("acme"));
    cl.payment_terms = PaymentTerms::Net { days: 400 };
    cl.billing_address.lines = vec![" ".into()];
    cl.billing_address.city = "x".repeat(200);
    cl.refs.insert("Bad System", "");
    assert_eq!(
        problems(cl.validate()),
        set(&[
            ("refs[0].system", ProblemCode::Format),
            ("refs[0].id", ProblemCode::Required),
            ("legal_name", ProblemCode::Required),
            ("billing_address.lines[0]", ProblemCode::Required),
            ("billing_address.city", ProblemCode::TooLong),
            ("payment_terms", ProblemCode::OutOfRange),
            ("parent", ProblemCode::Inconsistent),
        ])
    );

    let le = LegalEntity::new(
        k("firm"),
        "Firm\u{0}",
        k("FR"),
        Currency::EUR,
        TaxRegime::Gst,
    );
    assert_eq!(
        problems(le.validate()),
        set(&[
            ("name", ProblemCode::Format),
            ("tax_id", ProblemCode::Required)
        ])
    );

    let mut t = approved("t1", "partner", date(1899, 3, 3), "0");
    t.description = String::new();
    assert_eq!(
        problems(t.validate()),
        set(&[
            ("date", ProblemCode::OutOfRange),
            ("hours", ProblemCode::OutOfRange),
            ("description", ProblemCode::Required),
        ])
    );
    let t = approved("t1", "partner", date(2025, 3, 3), "1.00001");
    assert_eq!(
        problems(t.validate()),
        set(&[("hours", ProblemCode::Format)])
    );
    assert!(approved("t1", "partner", date(2025, 3, 3), "1.50000").is_valid());

    let e = expense("e1", eur("-3.001"), ApprovalState::Draft);
    assert_eq!(
        problems(e.validate()),
        set(&[
            ("amount", ProblemCode::NotRounded),
            ("amount", ProblemCode::NotPositive)
        ])
    );

    let mut p = Project::new(k("p"), "", k("acme"));
    p.billing_line = Some(k("tm"));
    p.start_date = Some(date(2025, 5, 1));
    p.end_date = Some(date(2025, 4, 1));
    p.budget_hours = Some(d("0"));
    p.milestones = vec![k("m1"), k("m1")];
    assert_eq!(
        problems(p.validate()),
        set(&[
            ("name", ProblemCode::Required),
            ("end_date", ProblemCode::DateOrder),
            ("billing_line", ProblemCode::Inconsistent),
            ("budget_hours", ProblemCode::NotPositive),
            ("milestones[1]", ProblemCode::Duplicate),
        ])
    );

    let mut co = change_order("co-1", 1, date(2025, 1, 1), vec![]);
    co.description = String::new();
    assert_eq!(
        problems(co.validate()),
        set(&[
            ("version", ProblemCode::OutOfRange),
            ("description", ProblemCode::Required),
            ("changes", ProblemCode::Required),
        ])
    );
}

fn invoice() -> InvoiceEvent {
    let lines = vec![
        InvoiceLine::new("Advisory", d("7.5"), eur("150")).unwrap(),
        InvoiceLine::new("Travel", d("1"), eur("98.34")).unwrap(),
    ];
    let mut inv = InvoiceEvent::draft(
        k("inv-1"),
        k("firm"),
        k("acme"),
        Currency::EUR,
        date(2025, 3, 31),
        date(2025, 4, 30),
        lines,
    )
    .unwrap();
    inv.taxes.push(TaxAmount {
        name: "VAT 20%".into(),
        rate: d("20"),
        base: eur("1223.34"),
        amount: eur("244.67"),
    });
    inv.tax = eur("244.67");
    inv.total = eur("1468.01");
    inv.amount_due = eur("1468.01");
    inv
}

#[test]
fn invoice_totals_and_states_must_agree() {
    let inv = invoice();
    assert!(inv.is_valid(), "{:?}", inv.validate());

    let mut posted = inv.clone();
    posted.status = InvoiceStatus::PartiallyPaid;
    posted.lines[1].subtotal = eur("98.35");
    posted.tax = eur("200");
    posted.due_date = date(2025, 3, 1);
    posted.reverses = Some(k("inv-0"));
    assert_eq!(
        problems(posted.validate()),
        set(&[
            ("number", ProblemCode::Required),
            ("due_date", ProblemCode::DateOrder),
            ("lines[1].subtotal", ProblemCode::Inconsistent),
            ("untaxed", ProblemCode::Inconsistent),
            ("tax", ProblemCode::Inconsistent),
            ("total", ProblemCode::Inconsistent),
            ("amount_due", ProblemCode::Inconsistent),
            ("reverses", ProblemCode::Inconsistent),
        ])
    );

    let mut paid = inv.clone();
    paid.number = Some("INV/2025/0001".into());
    paid.status = InvoiceStatus::Paid;
    paid.amount_due = eur("0");
    assert!(paid.is_valid());
    paid.amount_due = eur("1");
    assert!(
        paid.validate()
            .unwrap_err()
            .has("amount_due", ProblemCode::Inconsistent)
    );

    let mut usd = inv.clone();
    usd.lines[0].unit_price = Money::new(d("150"), Currency::USD);
    assert!(
        usd.validate()
            .unwrap_err()
            .has("lines[0].unit_price", ProblemCode::CurrencyMismatch)
    );
}

#[test]
fn payments_do_not_over_allocate() {
    let eur_p = |s: &str| eur(s);
    let mut p = Payment::new(
        k("pay-1"),
        k("acme"),
        k("firm"),
        eur_p("100"),
        date(2025, 4, 2),
        "ref",
        PaymentMethod::BankTransfer,
    );
    p.allocations = vec![
        PaymentAllocation {
            invoice: k("inv-1"),
            amount: eur_p("60"),
        },
        PaymentAllocation {
            invoice: k("inv-1"),
            amount: eur_p("50"),
        },
        PaymentAllocation {
            invoice: k("inv-2"),
            amount: Money::new(d("1"), Currency::USD),
        },
    ];
    assert_eq!(
        problems(p.validate()),
        set(&[
            ("allocations[1].invoice", ProblemCode::Duplicate),
            ("allocations[2].amount", ProblemCode::CurrencyMismatch),
        ])
    );
    p.allocations.pop();
    assert_eq!(
        problems(p.validate()),
        set(&[
            ("allocations[1].invoice", ProblemCode::Duplicate),
            ("allocations", ProblemCode::Inconsistent)
        ])
    );
}

// ---------------------------------------------------------------- lifecycle

#[test]
fn lifecycle_transitions_are_exactly_these() {
    use ContractStatus::*;
    let all = [Draft, Signed, Active, Suspended, Closed];
    let allowed: BTreeSet<(&str, &str)> = [
        ("draft", "signed"),
        ("draft", "closed"),
        ("signed", "active"),
        ("signed", "closed"),
        ("active", "suspended"),
        ("active", "closed"),
        ("suspended", "active"),
        ("suspended", "closed"),
    ]
    .into();
    for from in all {
        for to in all {
            let mut c = contract();
            c.status = from;
            c.signed_on = (from != Draft).then(|| date(2025, 1, 1));
            let result = if to == Signed {
                c.sign(date(2025, 1, 2))
            } else {
                c.transition(to).map(drop)
            };
            let expected = allowed.contains(&(from.as_str(), to.as_str()));
            assert_eq!(result.is_ok(), expected, "{from} -> {to}: {result:?}");
            if expected {
                assert_eq!(c.status, to);
            } else if from == to {
                assert_eq!(result, Err(TransitionError::AlreadyIn(to)));
            } else {
                assert_eq!(result, Err(TransitionError::NotAllowed { from, to }));
                assert_eq!(c.status, from);
            }
        }
    }
    let mut c = contract();
    assert_eq!(
        c.transition(Signed),
        Err(TransitionError::SignatureDateMissing)
    );
    assert_eq!(
        c.resume(),
        Err(TransitionError::NotAllowed {
            from: Draft,
            to: Active
        })
    );
    c.sign(date(2025, 1, 1)).unwrap();
    assert_eq!(c.signed_on, Some(date(2025, 1, 1)));
    c.activate().unwrap();
    c.suspend().unwrap();
    c.resume().unwrap();
    c.close().unwrap();
    assert_eq!(c.close(), Err(TransitionError::AlreadyIn(Closed)));
    assert!(!Closed.is_invoiceable() && Active.is_invoiceable());
}

// ---------------------------------------------------------------- JSON

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1, "{json}");
}

#[test]
fn every_document_round_trips_with_its_schema_version() {
    let mut c = mixed_contract();
    c.refs.insert("hubspot", "deal-77");
    round_trip(&c);
    round_trip(&client());
    round_trip(&LegalEntity::new(
        k("firm"),
        "Firm",
        k("FR"),
        Currency::EUR,
        TaxRegime::NotRegistered,
    ));
    round_trip(&change_order(
        "co-1",
        2,
        date(2025, 4, 1),
        vec![Change::AddLine {
            billing_line: tm_line("x", Some("10")),
        }],
    ));
    round_trip(&Project::new(k("p"), "Roll-out", k("acme")));
    round_trip(&approved("t1", "partner", date(2025, 3, 3), "7.25"));
    round_trip(&expense("e1", eur("12.30"), ApprovalState::Draft));
    round_trip(&invoice());
    round_trip(&Payment::new(
        k("pay-1"),
        k("acme"),
        k("firm"),
        eur("100"),
        date(2025, 4, 2),
        "ref",
        PaymentMethod::Card,
    ));
}

#[test]
fn client_json_is_the_documented_form() {
    let mut c = client();
    c.refs.insert("hubspot", "8812");
    c.tax_id = Some("12-3456789".into());
    let expected = json!({
        "schema_version": 1,
        "key": "acme",
        "refs": [{"system": "hubspot", "id": "8812"}],
        "legal_name": "ACME Inc.",
        "tax_id": "12-3456789",
        "country": "US",
        "billing_address": {"lines": ["1 Main Street"], "city": "Springfield", "country": "US"},
        "currency": "USD",
        "payment_terms": {"kind": "net", "days": 30},
        "legal_entity": "firm-us"
    });
    assert_eq!(serde_json::to_value(&c).unwrap(), expected);
}

#[test]
fn billing_lines_and_changes_are_tagged() {
    let c = mixed_contract();
    let v = serde_json::to_value(&c).unwrap();
    let kinds: Vec<&str> = v["billing_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "fixed_fee_milestones",
            "time_and_materials",
            "retainer",
            "pass_through_expenses",
            "recurring_service"
        ]
    );
    assert_eq!(
        v["billing_lines"][1]["rate_card"][0],
        json!({"role": "partner", "rate": {"amount": "400", "currency": "EUR"}})
    );
    assert_eq!(
        v["billing_lines"][0]["milestones"][0]["acceptance"],
        json!({"status": "accepted", "on": "2025-02-15"})
    );
    assert_eq!(v["billing_lines"][4]["period"], "monthly");
    let change = Change::SetRate {
        line: k("tm"),
        role: k("partner"),
        rate: eur("450"),
    };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        json!({"op": "set_rate", "line": "tm", "role": "partner", "rate": {"amount": "450", "currency": "EUR"}})
    );
}

#[test]
fn unknown_or_missing_schema_versions_are_refused_clearly() {
    let mut v = serde_json::to_value(approved("t1", "partner", date(2025, 3, 3), "1")).unwrap();
    v["schema_version"] = json!(2);
    let err = serde_json::from_value::<TimeEntry>(v.clone())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema_version 2 is newer than this build of odoo-connect reads (1)"),
        "{err}"
    );
    v["schema_version"] = json!(0);
    assert!(
        serde_json::from_value::<TimeEntry>(v.clone())
            .unwrap_err()
            .to_string()
            .contains("not a canonical schema version")
    );
    v.as_object_mut().unwrap().remove("schema_version");
    assert!(
        serde_json::from_value::<TimeEntry>(v)
            .unwrap_err()
            .to_string()
            .contains("missing field `schema_version`")
    );
}

#[test]
fn bad_values_are_refused_when_read() {
    let mut v = serde_json::to_value(client()).unwrap();
    v["currency"] = json!("XYZ");
    assert!(
        serde_json::from_value::<Client>(v.clone())
            .unwrap_err()
            .to_string()
            .contains("not an active ISO 4217")
    );
    v["currency"] = json!("USD");
    v["key"] = json!("has space");
    assert!(
        serde_json::from_value::<Client>(v.clone())
            .unwrap_err()
            .to_string()
            .contains("not allowed in a key")
    );
    v["key"] = json!("acme");
    v["country"] = json!("usa");
    assert!(serde_json::from_value::<Client>(v).is_err());
    // Amounts are read from strings or JSON numbers, and written as strings.
    let m: Money = serde_json::from_value(json!({"amount": 4259.03, "currency": "EUR"})).unwrap();
    assert_eq!(m, eur("4259.03"));
}

#[test]
fn timesheet_values_borrow_the_entry() {
    let mut e = approved("t1", "consultant", date(2025, 3, 3), "7.5");
    e.task = Some(k("task-9"));
    let v = e.to_timesheet().unwrap();
    assert_eq!(
        serde_json::to_value(v).unwrap(),
        json!({
            "key": "t1", "date": "2025-03-03", "employee": "jane", "project": "prj-1", "task": "task-9",
            "billing_line": "tm", "role": "consultant", "name": "Work", "unit_amount": "7.5",
            "billable": true, "approved": true
        })
    );
    e.hours = d("25");
    assert!(e.to_timesheet().is_err());
}
