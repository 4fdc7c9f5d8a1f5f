//! The business rules: invoiceable now, revenue schedule, amendments.

mod canonical_fixtures;

use std::collections::BTreeSet;

use canonical_fixtures::*;
use odoo_connect::canonical::rules::*;
use odoo_connect::canonical::*;

fn plan(
    contract: &Contract,
    as_of: chrono::NaiveDate,
    time: &[TimeEntry],
    expenses: &[Expense],
    invoiced: &InvoicedToDate,
) -> InvoiceablePlan {
    invoiceable_now(
        &InvoiceableInput::new(contract, as_of, invoiced)
            .with_time_entries(time)
            .with_expenses(expenses),
    )
    .unwrap()
}

fn reasons(plan: &InvoiceablePlan) -> Vec<&'static str> {
    plan.held.iter().map(|h| h.reason.name()).collect()
}

fn amounts(plan: &InvoiceablePlan, line: &str) -> Vec<String> {
    plan.lines_of(&k(line))
        .map(|l| l.amount.amount.normalize().to_string())
        .collect()
}

// ---------------------------------------------------------------- invoiceable now

#[test]
fn mixed_contract_bills_each_kind() {
    let c = mixed_contract();
    let p = plan(&c, date(2025, 3, 31), &[], &[], &InvoicedToDate::new());
    assert_eq!(amounts(&p, "ff"), ["10000"]);
    assert_eq!(amounts(&p, "ret"), ["6000"]);
    assert_eq!(amounts(&p, "ms"), ["2000", "2000", "2000"]);
    assert_eq!(p.total, eur("22000"));
    assert_eq!(
        reasons(&p),
        ["milestone_not_accepted", "milestone_not_accepted"]
    );
    assert_eq!(p.contract_version, 1);
    assert_eq!(p.currency, Currency::EUR);
}

#[test]
fn inactive_contract_holds_everything() {
    for status in ["draft", "signed", "suspended", "closed"] {
        let mut c = mixed_contract();
        match status {
            "draft" => {
                c.status = ContractStatus::Draft;
                c.signed_on = None;
            }
            "signed" => c.status = ContractStatus::Signed,
            "suspended" => c.suspend().unwrap(),
            _ => c.close().unwrap(),
        }
        let p = plan(
            &c,
            date(2025, 3, 31),
            &[approved("t1", "partner", date(2025, 3, 3), "1")],
            &[],
            &InvoicedToDate::new(),
        );
        assert!(p.lines.is_empty(), "{status}");
        assert_eq!(p.total, eur("0"));
        let not_active: Vec<_> = p
            .held
            .iter()
            .filter(|h| matches!(h.reason, HoldReason::ContractNotActive { .. }))
            .collect();
        // m1, retainer, three months, one time entry
        assert_eq!(not_active.len(), 6, "{status}");
        let sum = Money::sum(
            Currency::EUR,
            not_active.iter().filter_map(|h| h.amount.as_ref()),
        )
        .unwrap();
        assert_eq!(sum, eur("22400"));
    }
}

#[test]
fn every_hold_reason_is_reachable() {
    let mut c = mixed_contract();
    // A second T&M line so that entries without a line have no default.
    c.billing_lines.push(tm_line("tm2", None));
    let mut no_line = approved("t-none", "partner", date(2025, 3, 3), "1");
    no_line.billing_line = None;
    let on_tm = |mut e: TimeEntry| {
        e.billing_line = Some(k("tm"));
        e
    };
    let time = vec![
        on_tm(approved("t-ok", "partner", date(2025, 3, 3), "10")),
        on_tm(approved("t-big", "partner", date(2025, 3, 4), "50")),
        on_tm(time(
            "t-draft",
            "partner",
            date(2025, 3, 5),
            "1",
            ApprovalState::Submitted,
        )),
        on_tm(approved("t-role", "intern", date(2025, 3, 5), "1")),
        on_tm(approved("t-early", "partner", date(2024, 12, 5), "1")),
        no_line,
    ];
    let mut usd = expense(
        "e-usd",
        Money::new(d("10"), Currency::USD),
        ApprovalState::Approved,
    );
    usd.billing_line = Some(k("exp"));
    let expenses = vec![expense("e-sub", eur("10"), ApprovalState::Submitted), usd];
    // The retainer is used up and has no top-up.
    if let Some(BillingLine::Retainer(r)) = c.line_mut(&k("ret")) {
        r.top_up = None;
        r.consumed = eur("6500");
    }
    let mut invoiced = InvoicedToDate::new();
    invoiced.lines.insert(k("ret"), eur("6000"));
    let p = plan(&c, date(2025, 3, 31), &time, &expenses, &invoiced);

    let seen: BTreeSet<&str> = reasons(&p).into_iter().collect();
    let mut all: BTreeSet<&str> = [
        "cap_reached",
        "milestone_not_accepted",
        "time_not_approved",
        "expense_not_approved",
        "retainer_exhausted",
        "no_rate_for_role",
        "currency_mismatch",
        "no_billing_line",
        "outside_contract_period",
    ]
    .into();
    assert_eq!(seen, all);

    c.suspend().unwrap();
    let p = plan(&c, date(2025, 3, 31), &time, &expenses, &invoiced);
    all.insert("contract_not_active");
    assert_eq!(reasons(&p).into_iter().collect::<BTreeSet<_>>(), all);
}

#[test]
fn time_entries_by_approval_role_period_and_line() {
    let c = mixed_contract();
    let mut non_billable = approved("t-nb", "partner", date(2025, 3, 3), "1");
    non_billable.billable = false;
    let mut on_retainer = approved("t-ret", "partner", date(2025, 3, 3), "1");
    on_retainer.billing_line = Some(k("ret"));
    let mut on_unknown = approved("t-unknown", "partner", date(2025, 3, 3), "1");
    on_unknown.billing_line = Some(k("nope"));
    let mut on_fixed = approved("t-ff", "partner", date(2025, 3, 3), "1");
    on_fixed.billing_line = Some(k("ff"));
    let time = vec![
        approved("t1", "consultant", date(2025, 3, 3), "7.5"),
        time("t2", "partner", date(2025, 3, 3), "1", ApprovalState::Draft),
        time(
            "t3",
            "partner",
            date(2025, 3, 3),
            "1",
            ApprovalState::Submitted,
        ),
        time(
            "t4",
            "partner",
            date(2025, 3, 3),
            "1",
            ApprovalState::Rejected,
        ),
        approved("t5", "intern", date(2025, 3, 3), "1"),
        approved("t6", "partner", date(2026, 1, 1), "1"),
        non_billable,
        approved("t-future", "partner", date(2025, 4, 1), "1"),
        on_retainer,
        on_unknown,
        on_fixed,
    ];
    let p = plan(&c, date(2025, 3, 31), &time, &[], &InvoicedToDate::new());
    assert_eq!(amounts(&p, "tm"), ["1125"]);
    let line = p.lines_of(&k("tm")).next().unwrap();
    assert_eq!(line.quantity, d("7.5"));
    assert_eq!(line.unit_price, eur("150"));
    assert!(!line.partial);
    let held: Vec<(String, &str)> = p
        .held
        .iter()
        .filter(|h| matches!(h.source, LineSource::Time { .. }))
        .map(|h| match &h.source {
            LineSource::Time { entry } => (entry.to_string(), h.reason.name()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        held,
        [
            ("t-unknown".to_owned(), "no_billing_line"),
            ("t-ff".to_owned(), "no_billing_line"),
            ("t2".to_owned(), "time_not_approved"),
            ("t3".to_owned(), "time_not_approved"),
            ("t4".to_owned(), "time_not_approved"),
            ("t5".to_owned(), "no_rate_for_role"),
            ("t6".to_owned(), "outside_contract_period"),
        ]
    );
    let unapproved = p.held.iter().find(|h| {
        h.reason
            == HoldReason::TimeNotApproved {
                approval: ApprovalState::Draft,
            }
    });
    assert_eq!(unapproved.and_then(|h| h.amount), Some(eur("400")));
}

#[test]
fn cap_is_reached_with_partial_invoicing_then_raised() {
    let mut c = activate(contract());
    c.billing_lines.push(tm_line("tm", Some("1000")));
    let time = vec![
        approved("t2", "partner", date(2025, 3, 4), "2"),
        approved("t1", "partner", date(2025, 3, 3), "2"),
    ];
    let mut invoiced = InvoicedToDate::new();
    let p = plan(&c, date(2025, 3, 31), &time, &[], &invoiced);
    assert_eq!(amounts(&p, "tm"), ["800", "200"]);
    assert_eq!(p.lines[1].source, LineSource::Time { entry: k("t2") });
    assert!(p.lines[1].partial);
    assert_eq!(p.lines[1].quantity, d("0.5"));
    assert_eq!(p.held.len(), 1);
    assert_eq!(
        p.held[0].reason,
        HoldReason::CapReached { cap: eur("1000") }
    );
    assert_eq!(p.held[0].amount, Some(eur("600")));

    invoiced.record(&p).unwrap();
    assert_eq!(invoiced.on_line(&k("tm"), Currency::EUR), eur("1000"));
    let again = plan(&c, date(2025, 3, 31), &time, &[], &invoiced);
    assert!(again.lines.is_empty());
    assert_eq!(again.held[0].amount, Some(eur("600")));

    let co = change_order(
        "co-1",
        2,
        date(2025, 4, 1),
        vec![Change::SetNotToExceed {
            line: k("tm"),
            cap: Some(eur("5000")),
        }],
    );
    let (c2, _) = c.apply(&co).unwrap();
    let after = plan(&c2, date(2025, 4, 30), &time, &[], &invoiced);
    assert_eq!(amounts(&after, "tm"), ["600"]);
    assert!(after.lines[0].partial);
    assert_eq!(after.lines[0].quantity, d("1.5"));
    assert!(after.held.is_empty());
    invoiced.record(&after).unwrap();
    assert!(
        plan(&c2, date(2025, 4, 30), &time, &[], &invoiced)
            .lines
            .is_empty()
    );
}

#[test]
fn cap_already_exceeded_holds_everything_and_uncapped_bills_all() {
    let mut c = activate(contract());
    c.billing_lines.push(tm_line("tm", Some("1000")));
    let time = vec![approved("t1", "consultant", date(2025, 3, 3), "1")];
    let mut invoiced = InvoicedToDate::new();
    invoiced.lines.insert(k("tm"), eur("1200"));
    let p = plan(&c, date(2025, 3, 31), &time, &[], &invoiced);
    assert!(p.lines.is_empty());
    assert_eq!(p.held[0].amount, Some(eur("150")));

    let mut c = activate(contract());
    c.billing_lines.push(tm_line("tm", None));
    let time: Vec<_> = (0..30)
        .map(|i| approved(&format!("t{i:02}"), "partner", date(2025, 3, 3), "8"))
        .collect();
    let p = plan(&c, date(2025, 3, 31), &time, &[], &InvoicedToDate::new());
    assert_eq!(p.total, eur("96000"));
    assert!(p.held.is_empty());
}

#[test]
fn time_rounds_per_entry_half_away_from_zero() {
    let mut c = activate(contract());
    c.billing_lines.push(BillingLine::time_and_materials(
        k("tm"),
        "T&M",
        vec![Rate::new(k("dev"), eur("133.33"))],
        None,
    ));
    let p = plan(
        &c,
        date(2025, 3, 31),
        &[approved("t1", "dev", date(2025, 3, 3), "0.25")],
        &[],
        &InvoicedToDate::new(),
    );
    // 33.3325 → 33.33
    assert_eq!(p.total, eur("33.33"));
    let p = plan(
        &c,
        date(2025, 3, 31),
        &[approved("t1", "dev", date(2025, 3, 3), "1.5")],
        &[],
        &InvoicedToDate::new(),
    );
    // 199.995 → 200.00
    assert_eq!(p.total, eur("200.00"));
}

#[test]
fn retainer_prepayment_top_ups_and_exhaustion() {
    let base = mixed_contract();
    let set = |consumed: &str, top_up: bool| {
        let mut c = base.clone();
        if let Some(BillingLine::Retainer(r)) = c.line_mut(&k("ret")) {
            r.consumed = eur(consumed);
            if !top_up {
                r.top_up = None;
            }
        }
        c
    };
    let billed = |amount: &str| {
        let mut i = InvoicedToDate::new();
        i.lines.insert(k("ret"), eur(amount));
        i
    };
    let day = date(2025, 3, 31);

    // Nothing billed: the prepayment.
    let p = plan(&set("0", true), day, &[], &[], &billed("0"));
    assert_eq!(
        p.lines_of(&k("ret")).next().map(|l| l.source.clone()),
        Some(LineSource::RetainerPrepayment)
    );
    // Part billed: the rest of the prepayment.
    assert_eq!(
        amounts(
            &plan(&set("0", true), day, &[], &[], &billed("2500")),
            "ret"
        ),
        ["3500"]
    );
    // Balance above the threshold: nothing.
    assert!(
        amounts(
            &plan(&set("4000", true), day, &[], &[], &billed("6000")),
            "ret"
        )
        .is_empty()
    );
    // Balance at the threshold: one top-up.
    let p = plan(&set("5000", true), day, &[], &[], &billed("6000"));
    let l = p.lines_of(&k("ret")).next().unwrap();
    assert_eq!(
        (l.source.clone(), l.quantity, l.amount),
        (LineSource::RetainerTopUp, d("1"), eur("3000"))
    );
    // Overdrawn by 3000: two top-ups bring the balance to 3000, above the threshold.
    let p = plan(&set("9000", true), day, &[], &[], &billed("6000"));
    assert_eq!(amounts(&p, "ret"), ["6000"]);
    // The top-up, once billed, is not proposed again.
    assert!(
        amounts(
            &plan(&set("5000", true), day, &[], &[], &billed("9000")),
            "ret"
        )
        .is_empty()
    );
    // Without a top-up: exhausted at zero, and what is overdrawn is held.
    let p = plan(&set("6000", false), day, &[], &[], &billed("6000"));
    assert_eq!(
        p.held.last().map(|h| (h.reason.clone(), h.amount)),
        Some((
            HoldReason::RetainerExhausted { balance: eur("0") },
            Some(eur("0"))
        ))
    );
    let p = plan(&set("7000", false), day, &[], &[], &billed("6000"));
    assert_eq!(p.held.last().and_then(|h| h.amount), Some(eur("1000")));
    assert!(
        plan(&set("5000", false), day, &[], &[], &billed("6000"))
            .held
            .iter()
            .all(|h| h.reason.name() != "retainer_exhausted")
    );
}

#[test]
fn expenses_markup_approval_currency_and_period() {
    let c = mixed_contract();
    let mut outside = expense("e-late", eur("10"), ApprovalState::Approved);
    outside.date = date(2026, 2, 1);
    let mut nb = expense("e-nb", eur("10"), ApprovalState::Approved);
    nb.billable = false;
    let expenses = vec![
        expense("e1", eur("89.40"), ApprovalState::Approved),
        expense("e2", eur("10"), ApprovalState::Submitted),
        expense("e3", eur("10"), ApprovalState::Draft),
        expense("e4", eur("10"), ApprovalState::Rejected),
        expense(
            "e5",
            Money::new(d("10"), Currency::GBP),
            ApprovalState::Approved,
        ),
        expense("e6", eur("20"), ApprovalState::Approved),
        outside,
        nb,
    ];
    let mut invoiced = InvoicedToDate::new();
    invoiced.expenses.insert(k("e6"));
    let p = plan(&c, date(2025, 3, 31), &[], &expenses, &invoiced);
    // 89.40 × 1.10 = 98.34
    assert_eq!(amounts(&p, "exp"), ["98.34"]);
    let held: Vec<_> = p
        .held
        .iter()
        .filter(|h| matches!(h.source, LineSource::Expense { .. }))
        .map(|h| h.reason.name())
        .collect();
    assert_eq!(
        held,
        [
            "expense_not_approved",
            "expense_not_approved",
            "expense_not_approved",
            "currency_mismatch",
            "outside_contract_period"
        ]
    );

    // Without approval required, drafts are billed but rejected ones are not.
    let mut c2 = c.clone();
    if let Some(BillingLine::PassThroughExpenses(l)) = c2.line_mut(&k("exp")) {
        l.approval_required = false;
    }
    let p = plan(&c2, date(2025, 3, 31), &[], &expenses[..4], &invoiced);
    assert_eq!(amounts(&p, "exp"), ["98.34", "11", "11"]);
    assert_eq!(
        p.held
            .iter()
            .filter(|h| h.reason.name() == "expense_not_approved")
            .count(),
        1
    );

    // No pass-through line at all.
    let mut c3 = activate(contract());
    c3.billing_lines.push(tm_line("tm", None));
    let p = plan(&c3, date(2025, 3, 31), &[], &expenses[..1], &invoiced);
    assert_eq!(reasons(&p), ["no_billing_line"]);
}

#[test]
fn recurring_periods_in_advance_prorated_and_not_twice() {
    let mut c = activate(contract());
    c.end_date = Some(date(2025, 12, 31));
    c.billing_lines.push(BillingLine::recurring(
        k("ms"),
        "Hosting",
        Recurrence::Quarterly,
        eur("9000"),
        date(2025, 2, 1),
        Some(date(2025, 9, 15)),
    ));
    let mut invoiced = InvoicedToDate::new();
    assert!(
        plan(&c, date(2025, 1, 31), &[], &[], &invoiced)
            .lines
            .is_empty()
    );
    let p = plan(&c, date(2025, 2, 1), &[], &[], &invoiced);
    assert_eq!(amounts(&p, "ms"), ["9000"]);
    invoiced.record(&p).unwrap();
    let p = plan(&c, date(2025, 12, 31), &[], &[], &invoiced);
    // May–July, then August 1 to September 15: 46 of 92 days.
    assert_eq!(amounts(&p, "ms"), ["9000", "4500"]);
    assert!(p.lines[1].partial);
    assert_eq!(p.lines[1].quantity, d("0.5"));
    assert_eq!(
        p.lines[1].source,
        LineSource::RecurringPeriod {
            start: date(2025, 8, 1),
            end: date(2025, 9, 15)
        }
    );
    invoiced.record(&p).unwrap();
    assert!(
        plan(&c, date(2026, 12, 31), &[], &[], &invoiced)
            .lines
            .is_empty()
    );
}

#[test]
fn milestones_invoiced_once_and_rejected_held() {
    let mut c = mixed_contract();
    c.milestone_mut(&k("m1")).unwrap().invoiced = Some(k("inv-1"));
    c.milestone_mut(&k("m2")).unwrap().acceptance = Acceptance::Rejected {
        on: date(2025, 3, 25),
        reason: "Incomplete".into(),
    };
    let p = plan(&c, date(2025, 3, 31), &[], &[], &InvoicedToDate::new());
    assert!(amounts(&p, "ff").is_empty());
    let held: Vec<_> = p
        .held
        .iter()
        .map(|h| (h.source.clone(), h.amount))
        .collect();
    assert_eq!(
        held,
        [
            (
                LineSource::Milestone { milestone: k("m2") },
                Some(eur("15000"))
            ),
            (
                LineSource::Milestone { milestone: k("m3") },
                Some(eur("5000"))
            ),
        ]
    );
}

#[test]
fn invalid_contract_is_refused() {
    let mut c = mixed_contract();
    c.billing_lines.push(tm_line("tm", None)); // duplicate id
    let err = invoiceable_now(&InvoiceableInput::new(
        &c,
        date(2025, 3, 31),
        &InvoicedToDate::new(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, RuleError::InvalidContract(e) if e.has("billing_lines[5].id", ProblemCode::Duplicate))
    );
}

#[test]
fn plan_json_is_stable() {
    let c = mixed_contract();
    let mut t = approved("t1", "partner", date(2025, 3, 3), "1");
    t.approval = ApprovalState::Submitted;
    let p = plan(&c, date(2025, 1, 31), &[t], &[], &InvoicedToDate::new());
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["held"][0]["reason"], "milestone_not_accepted");
    assert_eq!(json["held"][0]["acceptance"]["status"], "delivered");
    assert_eq!(
        json["lines"][0]["source"],
        serde_json::json!({"source": "milestone", "milestone": "m1"})
    );
    let back: InvoiceablePlan = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}

// ---------------------------------------------------------------- revenue

fn schedule(
    c: &Contract,
    from: &str,
    to: &str,
    time: &[TimeEntry],
    drawdowns: &[Drawdown],
    progress: &[Progress],
) -> RevenueSchedule {
    revenue_schedule(
        &RevenueInput::new(c, ym(from), ym(to))
            .with_time_entries(time)
            .with_drawdowns(drawdowns)
            .with_progress(progress),
    )
    .unwrap()
}

fn recognised(s: &RevenueSchedule, line: &str) -> Vec<String> {
    s.line(&k(line))
        .unwrap()
        .periods
        .iter()
        .map(|p| p.recognised.amount.normalize().to_string())
        .collect()
}

fn assert_balances(s: &RevenueSchedule) {
    for l in &s.lines {
        for p in &l.periods {
            assert_eq!(
                p.cumulative.checked_add(&p.deferred).unwrap(),
                l.value,
                "{:?} {}",
                l.billing_line,
                p.month
            );
        }
        let total = l
            .recognised_before
            .checked_add(&l.recognised_in_schedule().unwrap())
            .unwrap();
        assert_eq!(total.checked_add(&l.deferred_at_end()).unwrap(), l.value);
    }
    for (i, t) in s.totals.iter().enumerate() {
        let sum = Money::sum(s.currency, s.lines.iter().map(|l| &l.periods[i].recognised)).unwrap();
        assert_eq!(sum, t.recognised);
    }
}

#[test]
fn fixed_fee_on_acceptance() {
    let mut c = mixed_contract();
    c.milestone_mut(&k("m2")).unwrap().acceptance = Acceptance::Accepted {
        on: date(2025, 4, 2),
    };
    let s = schedule(&c, "2025-01", "2025-06", &[], &[], &[]);
    assert_eq!(recognised(&s, "ff"), ["0", "10000", "0", "15000", "0", "0"]);
    let line = s.line(&k("ff")).unwrap();
    assert_eq!(line.value, eur("30000"));
    assert_eq!(line.deferred_at_end(), eur("5000"));
    assert_balances(&s);
    // Starting later: what came before is carried in recognised_before.
    let s = schedule(&c, "2025-03", "2025-04", &[], &[], &[]);
    let line = s.line(&k("ff")).unwrap();
    assert_eq!(line.recognised_before, eur("10000"));
    assert_eq!(line.periods[0].cumulative, eur("10000"));
    assert_balances(&s);
}

#[test]
fn fixed_fee_by_percentage_of_completion() {
    let mut c = mixed_contract();
    if let Some(BillingLine::FixedFeeMilestones(l)) = c.line_mut(&k("ff")) {
        l.recognition = FixedFeeRecognition::PercentageOfCompletion;
    }
    let p = |day, pct: &str| Progress {
        line: k("ff"),
        as_of: day,
        percent: d(pct),
    };
    let progress = vec![
        p(date(2025, 1, 31), "33.333"),
        p(date(2025, 2, 28), "20"), // a lower report changes nothing
        p(date(2025, 3, 31), "60"),
        p(date(2025, 3, 15), "40"),
        p(date(2025, 5, 31), "100"),
    ];
    let s = schedule(&c, "2025-01", "2025-06", &[], &[], &progress);
    assert_eq!(
        recognised(&s, "ff"),
        ["9999.9", "0", "8000.1", "0", "12000", "0"]
    );
    assert_eq!(s.line(&k("ff")).unwrap().deferred_at_end(), eur("0"));
    assert_balances(&s);

    let bad = vec![p(date(2025, 1, 31), "101")];
    let err =
        revenue_schedule(&RevenueInput::new(&c, ym("2025-01"), ym("2025-02")).with_progress(&bad))
            .unwrap_err();
    assert!(matches!(err, RuleError::InvalidProgress { .. }));
}

#[test]
fn time_and_materials_as_delivered_up_to_the_cap() {
    let mut c = mixed_contract();
    if let Some(BillingLine::TimeAndMaterials(l)) = c.line_mut(&k("tm")) {
        l.not_to_exceed = Some(eur("5000"));
    }
    let time = vec![
        approved("t1", "partner", date(2025, 1, 10), "5"),
        approved("t2", "partner", date(2025, 2, 10), "5"),
        time(
            "t3",
            "partner",
            date(2025, 2, 11),
            "5",
            ApprovalState::Submitted,
        ),
        approved("t4", "partner", date(2025, 3, 10), "5"),
        approved("t5", "partner", date(2025, 7, 10), "5"),
    ];
    let s = schedule(&c, "2025-01", "2025-04", &time, &[], &[]);
    assert_eq!(recognised(&s, "tm"), ["2000", "2000", "1000", "0"]);
    let line = s.line(&k("tm")).unwrap();
    assert_eq!(line.value, eur("5000"));
    assert_eq!(line.deferred_at_end(), eur("0"));
    assert_balances(&s);
}

#[test]
fn retainer_as_consumed() {
    let c = mixed_contract();
    let dd = |day, amount: &str| Drawdown {
        line: k("ret"),
        date: day,
        amount: eur(amount),
    };
    let drawdowns = vec![
        dd(date(2025, 1, 20), "1500"),
        dd(date(2025, 1, 25), "500"),
        dd(date(2025, 3, 1), "5000"),
    ];
    let s = schedule(&c, "2025-01", "2025-03", &[], &drawdowns, &[]);
    assert_eq!(recognised(&s, "ret"), ["2000", "0", "4000"]);
    assert_eq!(s.line(&k("ret")).unwrap().deferred_at_end(), eur("0"));
    assert_balances(&s);
    let foreign = vec![Drawdown {
        line: k("ret"),
        date: date(2025, 1, 2),
        amount: Money::new(d("1"), Currency::USD),
    }];
    assert!(
        revenue_schedule(
            &RevenueInput::new(&c, ym("2025-01"), ym("2025-02")).with_drawdowns(&foreign)
        )
        .is_err()
    );
}

#[test]
fn recurring_straight_line_across_months() {
    let mut c = activate(contract());
    c.billing_lines.push(BillingLine::recurring(
        k("ms"),
        "Support",
        Recurrence::Monthly,
        eur("3100"),
        date(2025, 1, 15),
        None,
    ));
    let s = schedule(&c, "2025-01", "2025-03", &[], &[], &[]);
    // Jan 15 – Feb 14 is 31 days (17 in January, 14 in February), Feb 15 – Mar 14 is 28 days,
    // Mar 15 – Apr 14 is 31 days (17 in March).
    assert_eq!(recognised(&s, "ms"), ["1700", "2950", "3250"]);
    let line = s.line(&k("ms")).unwrap();
    // Periods starting by March 31: three, the last running into April.
    assert_eq!(line.value, eur("9300"));
    assert_eq!(line.deferred_at_end(), eur("1400"));
    assert_balances(&s);
}

#[test]
fn mixed_schedule_balances_and_refuses_bad_horizons() {
    let c = mixed_contract();
    let s = schedule(
        &c,
        "2025-01",
        "2025-12",
        &[approved("t1", "partner", date(2025, 5, 5), "3")],
        &[],
        &[],
    );
    assert_eq!(s.lines.len(), 4); // pass-through lines are not scheduled
    assert_eq!(recognised(&s, "ms"), vec!["2000"; 12]);
    assert_balances(&s);
    assert_eq!(
        s.value().unwrap(),
        eur("30000")
            .checked_add(&eur("1200"))
            .unwrap()
            .checked_add(&eur("6000"))
            .unwrap()
            .checked_add(&eur("24000"))
            .unwrap()
    );
    let err = revenue_schedule(&RevenueInput::new(&c, ym("2025-05"), ym("2025-01"))).unwrap_err();
    assert!(matches!(err, RuleError::InvalidHorizon { .. }));
}

// ---------------------------------------------------------------- amendments

fn tm_contract() -> Contract {
    let mut c = mixed_contract();
    c.milestone_mut(&k("m1")).unwrap().invoiced = Some(k("inv-1"));
    c
}

#[test]
fn change_order_changes_and_diff() {
    let c = tm_contract();
    let co = change_order(
        "co-1",
        2,
        date(2025, 4, 1),
        vec![
            Change::SetNotToExceed {
                line: k("tm"),
                cap: Some(eur("30000")),
            },
            Change::SetRate {
                line: k("tm"),
                role: k("partner"),
                rate: eur("450"),
            },
            Change::SetRate {
                line: k("tm"),
                role: k("analyst"),
                rate: eur("90"),
            },
            Change::RemoveRate {
                line: k("tm"),
                role: k("consultant"),
            },
            Change::AddMilestone {
                line: k("ff"),
                milestone: milestone("m4", "2500", Acceptance::Pending),
            },
            Change::RemoveMilestone {
                line: k("ff"),
                milestone: k("m3"),
            },
            Change::SetMilestoneAmount {
                line: k("ff"),
                milestone: k("m2"),
                amount: eur("16000"),
            },
            Change::SetMilestoneDueDate {
                line: k("ff"),
                milestone: k("m2"),
                due_date: Some(date(2025, 5, 1)),
            },
            Change::SetRetainerAmount {
                line: k("ret"),
                amount: eur("8000"),
            },
            Change::SetTopUp {
                line: k("ret"),
                top_up: None,
            },
            Change::SetMarkup {
                line: k("exp"),
                markup: d("0.15"),
            },
            Change::SetRecurringAmount {
                line: k("ms"),
                amount: eur("2200"),
            },
            Change::SetRecurringEnd {
                line: k("ms"),
                end: Some(date(2025, 11, 30)),
            },
            Change::AddLine {
                billing_line: tm_line("tm-extra", None),
            },
            Change::RemoveLine {
                line: k("tm-extra"),
            },
            Change::SetEndDate {
                end_date: Some(date(2026, 3, 31)),
            },
            Change::SetMarkup {
                line: k("exp"),
                markup: d("0.15"),
            }, // same value: no entry
        ],
    );
    let (c2, diff) = c.apply(&co).unwrap();
    assert_eq!(c.version, 1, "the original is untouched");
    assert_eq!(c2.version, 2);
    assert_eq!(
        c2.amendments,
        vec![AppliedChangeOrder {
            version: 2,
            change_order: k("co-1"),
            effective_date: date(2025, 4, 1)
        }]
    );
    assert_eq!((diff.from_version, diff.to_version), (1, 2));
    let paths: Vec<&str> = diff.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "billing_lines[tm].not_to_exceed",
            "billing_lines[tm].rate_card[partner]",
            "billing_lines[tm].rate_card[analyst]",
            "billing_lines[tm].rate_card[consultant]",
            "billing_lines[ff].milestones[m4]",
            "billing_lines[ff].milestones[m3]",
            "billing_lines[ff].milestones[m2].amount",
            "billing_lines[ff].milestones[m2].due_date",
            "billing_lines[ret].amount",
            "billing_lines[ret].top_up",
            "billing_lines[exp].markup",
            "billing_lines[ms].amount",
            "billing_lines[ms].end",
            "billing_lines[tm-extra]",
            "billing_lines[tm-extra]",
            "end_date",
        ]
    );
    let cap = diff.entry("billing_lines[tm].not_to_exceed").unwrap();
    assert_eq!(
        cap.before,
        Some(serde_json::json!({"amount": "20000", "currency": "EUR"}))
    );
    assert_eq!(
        cap.after,
        Some(serde_json::json!({"amount": "30000", "currency": "EUR"}))
    );
    assert_eq!(
        diff.entry("billing_lines[tm].rate_card[analyst]")
            .unwrap()
            .before,
        None
    );
    assert_eq!(
        diff.entry("billing_lines[tm].rate_card[consultant]")
            .unwrap()
            .after,
        None
    );
    let tm = match c2.line(&k("tm")) {
        Some(BillingLine::TimeAndMaterials(l)) => l.clone(),
        _ => unreachable!(),
    };
    assert_eq!(tm.rate_for(&k("partner")), Some(&eur("450")));
    assert_eq!(tm.rate_for(&k("consultant")), None);
    assert!(c2.milestone(&k("m3")).is_none());
    assert!(c2.milestone(&k("m4")).is_some());
    assert_eq!(c2.end_date, Some(date(2026, 3, 31)));
}

#[test]
fn amendment_refusals() {
    let c = tm_contract();
    let day = date(2025, 4, 1);
    let one = |change: Change| change_order("co-x", 2, day, vec![change]);
    let refused = |co: &ChangeOrder| c.apply(co).unwrap_err();

    assert!(
        matches!(refused(&one(Change::RemoveMilestone { line: k("ff"), milestone: k("m1") })), AmendmentError::MilestoneInvoiced { ref milestone, .. } if milestone.as_str() == "m1")
    );
    assert!(matches!(
        refused(&one(Change::SetMilestoneAmount {
            line: k("ff"),
            milestone: k("m1"),
            amount: eur("1")
        })),
        AmendmentError::MilestoneInvoiced { .. }
    ));
    assert!(matches!(
        refused(&one(Change::RemoveLine { line: k("ff") })),
        AmendmentError::MilestoneInvoiced { .. }
    ));
    assert!(matches!(
        refused(&one(Change::RemoveMilestone {
            line: k("ff"),
            milestone: k("zz")
        })),
        AmendmentError::MilestoneNotFound { .. }
    ));
    assert!(matches!(
        refused(&one(Change::SetRate {
            line: k("ff"),
            role: k("partner"),
            rate: eur("1")
        })),
        AmendmentError::WrongLineKind {
            kind: BillingKind::FixedFeeMilestones,
            op: "set_rate",
            ..
        }
    ));
    assert!(matches!(
        refused(&one(Change::SetMarkup {
            line: k("nope"),
            markup: d("0")
        })),
        AmendmentError::LineNotFound(_)
    ));
    assert!(matches!(
        refused(&one(Change::RemoveRate {
            line: k("tm"),
            role: k("intern")
        })),
        AmendmentError::RateNotFound { .. }
    ));
    assert!(matches!(
        refused(&one(Change::AddMilestone {
            line: k("ff"),
            milestone: milestone("m2", "1", Acceptance::Pending)
        })),
        AmendmentError::DuplicateMilestone(_)
    ));
    assert!(matches!(
        refused(&one(Change::AddLine {
            billing_line: tm_line("tm", None)
        })),
        AmendmentError::DuplicateLine(_)
    ));
    assert!(matches!(
        refused(&one(Change::SetRate {
            line: k("tm"),
            role: k("partner"),
            rate: Money::new(d("1"), Currency::USD)
        })),
        AmendmentError::CurrencyMismatch { .. }
    ));
    assert!(matches!(
        refused(&one(Change::SetRate {
            line: k("tm"),
            role: k("partner"),
            rate: eur("1.001")
        })),
        AmendmentError::InvalidChangeOrder(_)
    ));
    let mut used = c.clone();
    if let Some(BillingLine::Retainer(r)) = used.line_mut(&k("ret")) {
        r.consumed = eur("10");
    }
    assert!(matches!(
        used.apply(&one(Change::RemoveLine { line: k("ret") }))
            .unwrap_err(),
        AmendmentError::LineInUse(_)
    ));
    // Leaving a T&M line without rates makes an invalid contract.
    let strip = change_order(
        "co-x",
        2,
        day,
        vec![
            Change::RemoveRate {
                line: k("tm"),
                role: k("partner"),
            },
            Change::RemoveRate {
                line: k("tm"),
                role: k("consultant"),
            },
        ],
    );
    assert!(
        matches!(refused(&strip), AmendmentError::Invalid(e) if e.has("billing_lines[1].rate_card", ProblemCode::Required))
    );

    assert!(matches!(
        refused(&change_order(
            "co-x",
            3,
            day,
            vec![Change::SetEndDate { end_date: None }]
        )),
        AmendmentError::VersionGap {
            current: 1,
            expected: 2,
            found: 3
        }
    ));
    assert!(matches!(
        refused(&change_order("co-x", 2, day, vec![])),
        AmendmentError::NoChanges
    ));
    let mut other = one(Change::SetEndDate { end_date: None });
    other.contract = k("c-2");
    assert!(matches!(
        refused(&other),
        AmendmentError::WrongContract { .. }
    ));
    let mut closed = c.clone();
    closed.close().unwrap();
    assert!(matches!(
        closed
            .apply(&one(Change::SetEndDate { end_date: None }))
            .unwrap_err(),
        AmendmentError::NotAmendable(ContractStatus::Closed)
    ));

    let (c2, _) = c
        .apply(&one(Change::SetEndDate { end_date: None }))
        .unwrap();
    assert!(matches!(
        c2.apply(&one(Change::SetEndDate { end_date: None }))
            .unwrap_err(),
        AmendmentError::AlreadyApplied { version: 2, .. }
    ));
    assert!(matches!(
        c2.apply(&change_order(
            "co-y",
            2,
            day,
            vec![Change::SetEndDate { end_date: None }]
        ))
        .unwrap_err(),
        AmendmentError::VersionConflict { version: 2, .. }
    ));
    assert!(matches!(
        c2.apply(&change_order(
            "co-y",
            3,
            date(2025, 3, 1),
            vec![Change::SetEndDate { end_date: None }]
        ))
        .unwrap_err(),
        AmendmentError::EffectiveDateOutOfOrder { .. }
    ));
    assert!(
        c2.apply(&change_order(
            "co-y",
            3,
            day,
            vec![Change::SetEndDate { end_date: None }]
        ))
        .is_ok()
    );
}

#[test]
fn batches_apply_in_order_and_replay_as_no_op() {
    let c = tm_contract();
    let co2 = change_order(
        "co-a",
        2,
        date(2025, 4, 1),
        vec![Change::SetNotToExceed {
            line: k("tm"),
            cap: Some(eur("25000")),
        }],
    );
    let co3 = change_order(
        "co-b",
        3,
        date(2025, 5, 1),
        vec![Change::SetNotToExceed {
            line: k("tm"),
            cap: None,
        }],
    );
    let batch = vec![co3.clone(), co2.clone()];
    let once = apply_change_orders(&c, &batch).unwrap();
    assert_eq!(once.contract.version, 3);
    assert_eq!(once.diffs.len(), 2);
    assert!(once.skipped.is_empty());

    let twice = apply_change_orders(&once.contract, &batch).unwrap();
    assert_eq!(twice.contract, once.contract);
    assert!(twice.diffs.is_empty());
    assert_eq!(twice.skipped.len(), 2);

    let dup = apply_change_orders(&c, &[co2.clone(), co2.clone(), co3.clone()]).unwrap();
    assert_eq!(dup.contract, once.contract);

    let bad = change_order(
        "co-c",
        4,
        date(2025, 6, 1),
        vec![Change::RemoveMilestone {
            line: k("ff"),
            milestone: k("m1"),
        }],
    );
    let err = apply_change_orders(&c, &[co2, co3, bad]).unwrap_err();
    assert_eq!(err.version, 4);
    assert!(matches!(
        err.error,
        AmendmentError::MilestoneInvoiced { .. }
    ));
    assert!(err.to_string().contains("co-c"));
}
