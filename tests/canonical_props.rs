//! Properties of money, invoicing, amendments and revenue.

mod canonical_fixtures;

use canonical_fixtures::*;
use chrono::{Days, NaiveDate};
use odoo_connect::canonical::rules::*;
use odoo_connect::canonical::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec![
        Currency::EUR,
        Currency::USD,
        Currency::JPY,
        Currency::KWD,
        Currency::BHD,
        Currency::CLF,
    ])
}

fn minor() -> impl Strategy<Value = i64> {
    prop_oneof![
        -1_000_000_i64..1_000_000,
        any::<i64>().prop_map(|v| v / 4),
        Just(0),
        Just(1),
        Just(-1)
    ]
}

/// A weight with up to 3 decimals, zero a fifth of the time.
fn weight() -> impl Strategy<Value = Decimal> {
    prop_oneof![1 => Just(Decimal::ZERO), 4 => (1_i64..1_000_000).prop_map(|v| Decimal::new(v, 3))]
}

fn day(offset: u64) -> NaiveDate {
    date(2025, 1, 1)
        .checked_add_days(Days::new(offset))
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn add_and_sub_never_lose_a_cent(c in currency(), a in minor(), b in minor()) {
        let (x, y) = (Money::from_minor(a, c), Money::from_minor(b, c));
        let sum = x.checked_add(&y).unwrap();
        prop_assert_eq!(sum.to_minor_units().unwrap(), i128::from(a) + i128::from(b));
        prop_assert_eq!(sum.checked_sub(&y).unwrap(), x);
        prop_assert!(sum.is_rounded());
    }

    #[test]
    fn mixing_currencies_is_always_refused(a in minor(), b in minor()) {
        let err = Money::from_minor(a, Currency::EUR).checked_add(&Money::from_minor(b, Currency::GBP));
        let refused = matches!(err, Err(MoneyError::CurrencyMismatch { .. }));
        prop_assert!(refused);
    }

    #[test]
    fn rounding_is_within_half_a_minor_unit(c in currency(), units in -10_000_000_000_i64..10_000_000_000, factor in 0_i64..100_000_000) {
        let m = Money::from_minor(units, c);
        let f = Decimal::new(factor, 6);
        let exact = m.checked_mul(f).unwrap();
        let rounded = m.mul_round(f).unwrap();
        prop_assert!(rounded.is_rounded());
        let half = Decimal::new(5, c.minor_units() + 1);
        prop_assert!((rounded.amount - exact.amount).abs() <= half);
    }

    #[test]
    fn allocation_adds_back_to_the_total(c in currency(), units in minor(), weights in prop::collection::vec(weight(), 1..12)) {
        prop_assume!(weights.iter().any(|w| !w.is_zero()));
        let total = Money::from_minor(units, c);
        let parts = total.allocate(&weights).unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(Money::sum(c, &parts).unwrap(), total);
        let sum_w: Decimal = weights.iter().sum();
        for (p, w) in parts.iter().zip(&weights) {
            prop_assert!(p.is_rounded());
            // A part never has the opposite sign of the total.
            let wrong_sign = (p.is_negative() && units > 0) || (p.is_positive() && units < 0);
            prop_assert!(!wrong_sign);
            if w.is_zero() {
                prop_assert!(p.is_zero());
            }
            // Each part is within one minor unit of its exact share.
            let exact = Decimal::from(units) * (*w / sum_w);
            let got = Decimal::from(p.to_minor_units().unwrap() as i64);
            prop_assert!((got - exact).abs() < Decimal::ONE + Decimal::new(1, 9), "{got} vs {exact}");
        }
    }
}

// ---------------------------------------------------------------- invoicing under a cap

#[derive(Debug, Clone)]
struct Work {
    role: usize,
    days: u64,
    quarter_hours: i64,
    approval: usize,
}

fn work() -> impl Strategy<Value = Work> {
    (0_usize..3, 0_u64..200, 1_i64..48, 0_usize..4).prop_map(
        |(role, days, quarter_hours, approval)| Work {
            role,
            days,
            quarter_hours,
            approval,
        },
    )
}

const APPROVALS: [ApprovalState; 4] = [
    ApprovalState::Approved,
    ApprovalState::Approved,
    ApprovalState::Submitted,
    ApprovalState::Draft,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn invoiceable_now_never_exceeds_the_cap(
        cap_cents in 1_i64..5_000_000,
        batches in prop::collection::vec(prop::collection::vec(work(), 0..12), 1..4),
        already in 0_i64..100,
    ) {
        let cap = Money::from_minor(cap_cents, Currency::EUR);
        let mut c = activate(contract());
        c.billing_lines.push(BillingLine::time_and_materials(
            k("tm"),
            "T&M",
            vec![
                Rate::new(k("partner"), eur("412.50")),
                Rate::new(k("consultant"), eur("133.33")),
                Rate::new(k("analyst"), eur("87.15")),
            ],
            Some(cap),
        ));
        let roles = ["partner", "consultant", "analyst"];
        let mut invoiced = InvoicedToDate::new();
        // Part of the cap may be invoiced already.
        let prior = Money::from_minor(cap_cents * already / 100, Currency::EUR);
        invoiced.lines.insert(k("tm"), prior);
        let mut entries = Vec::new();
        let mut delivered = Money::zero(Currency::EUR);
        for (b, batch) in batches.iter().enumerate() {
            for (i, w) in batch.iter().enumerate() {
                let mut e = time(&format!("t{b}-{i}"), roles[w.role], day(w.days), "1", APPROVALS[w.approval]);
                e.hours = Decimal::new(w.quarter_hours * 25, 2);
                if e.approval.is_approved() {
                    let rate = [eur("412.50"), eur("133.33"), eur("87.15")][w.role];
                    delivered = delivered.checked_add(&rate.mul_round(e.hours).unwrap()).unwrap();
                }
                entries.push(e);
            }
            let before = invoiced.on_line(&k("tm"), Currency::EUR);
            let plan = invoiceable_now(&InvoiceableInput::new(&c, day(400), &invoiced).with_time_entries(&entries)).unwrap();
            let now = plan.total_of(&k("tm")).unwrap();
            prop_assert!(before.checked_add(&now).unwrap().checked_cmp(&cap).unwrap().is_le());
            for l in &plan.lines {
                prop_assert!(l.amount.is_positive() && l.amount.is_rounded());
            }
            invoiced.record(&plan).unwrap();
            let after = invoiced.on_line(&k("tm"), Currency::EUR);
            // Up to the cap exactly: everything delivered, or the whole room left.
            let room = cap.checked_sub(&prior).unwrap();
            prop_assert_eq!(after.checked_sub(&prior).unwrap(), delivered.checked_min(&room).unwrap());
            if delivered.checked_cmp(&room).unwrap().is_gt() {
                prop_assert!(plan.is_held_for("cap_reached") || now.is_zero());
            }
        }
    }
}

// ---------------------------------------------------------------- amendments

fn a_change() -> impl Strategy<Value = Change> {
    let amount = (1_i64..10_000_000).prop_map(|c| Money::from_minor(c, Currency::EUR));
    prop_oneof![
        prop::option::of(amount.clone())
            .prop_map(|cap| Change::SetNotToExceed { line: k("tm"), cap }),
        (
            prop::sample::select(vec!["partner", "consultant", "analyst"]),
            amount.clone()
        )
            .prop_map(|(role, rate)| Change::SetRate {
                line: k("tm"),
                role: k(role),
                rate
            }),
        prop::sample::select(vec!["partner", "consultant", "analyst"]).prop_map(|role| {
            Change::RemoveRate {
                line: k("tm"),
                role: k(role),
            }
        }),
        prop::sample::select(vec!["m1", "m2", "m3"]).prop_map(|m| Change::RemoveMilestone {
            line: k("ff"),
            milestone: k(m)
        }),
        (
            prop::sample::select(vec!["m1", "m2", "m3", "m9"]),
            amount.clone()
        )
            .prop_map(|(m, amount)| Change::SetMilestoneAmount {
                line: k("ff"),
                milestone: k(m),
                amount
            }),
        (prop::sample::select(vec!["m3", "m4", "m5"]), amount.clone()).prop_map(|(m, a)| {
            Change::AddMilestone {
                line: k("ff"),
                milestone: Milestone::new(k(m), "New", a),
            }
        }),
        amount.clone().prop_map(|amount| Change::SetRetainerAmount {
            line: k("ret"),
            amount
        }),
        amount
            .clone()
            .prop_map(|amount| Change::SetRecurringAmount {
                line: k("ms"),
                amount
            }),
        (0_i64..300).prop_map(|m| Change::SetMarkup {
            line: k("exp"),
            markup: Decimal::new(m, 2)
        }),
        (0_u64..700).prop_map(|o| Change::SetRecurringEnd {
            line: k("ms"),
            end: Some(day(o))
        }),
        (0_u64..700).prop_map(|o| Change::SetEndDate {
            end_date: Some(day(o))
        }),
        amount.prop_map(|amount| Change::SetRate {
            line: k("ff"),
            role: k("partner"),
            rate: amount
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_same_amendment_twice_is_refused_or_a_no_op(changes in prop::collection::vec(a_change(), 1..6), offset in 0_u64..400) {
        let mut c = mixed_contract();
        c.milestone_mut(&k("m1")).unwrap().invoiced = Some(k("inv-1"));
        let co = change_order("co-1", 2, day(offset), changes);
        match c.apply(&co) {
            Ok((once, diff)) => {
                prop_assert_eq!(once.version, 2);
                prop_assert!(once.is_valid());
                prop_assert_eq!(diff.to_version, 2);
                let again = once.apply(&co);
                let refused = matches!(again, Err(AmendmentError::AlreadyApplied { version: 2, .. }));
                prop_assert!(refused);
                let batch = apply_change_orders(&c, &[co.clone(), co.clone()]).unwrap();
                prop_assert_eq!(&batch.contract, &once);
                prop_assert_eq!(batch.skipped.len(), 1);
                let replay = apply_change_orders(&once, &[co]).unwrap();
                prop_assert_eq!(&replay.contract, &once);
                prop_assert!(replay.diffs.is_empty());
                // An invoiced milestone survives every amendment.
                prop_assert!(once.milestone(&k("m1")).is_some_and(|(_, m)| m.amount == eur("10000")));
            }
            Err(_) => {
                let batch = apply_change_orders(&c, &[co.clone(), co]);
                prop_assert!(batch.is_err());
            }
        }
    }
}

// ---------------------------------------------------------------- revenue

#[derive(Debug, Clone)]
struct Scenario {
    milestones: Vec<(i64, Option<u64>)>,
    poc: bool,
    progress: Vec<(u64, i64)>,
    hours: Vec<(u64, i64, usize)>,
    cap: Option<i64>,
    retainer: i64,
    drawdowns: Vec<(u64, i64)>,
    recurring: (i64, usize, u64, Option<u64>),
    from: u64,
    months: u32,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec((1_i64..5_000_000, prop::option::of(0_u64..730)), 1..5),
        any::<bool>(),
        prop::collection::vec((0_u64..730, 0_i64..=100), 0..6),
        prop::collection::vec((0_u64..730, 1_i64..40, 0_usize..4), 0..20),
        prop::option::of(1_i64..10_000_000),
        (
            1_i64..10_000_000,
            prop::collection::vec((0_u64..730, 1_i64..2_000_000), 0..8),
        ),
        (
            1_i64..1_000_000,
            0_usize..4,
            0_u64..400,
            prop::option::of(0_u64..400),
        ),
        (0_u64..500, 1_u32..24),
    )
        .prop_map(
            |(
                milestones,
                poc,
                progress,
                hours,
                cap,
                (retainer, drawdowns),
                recurring,
                (from, months),
            )| Scenario {
                milestones,
                poc,
                progress,
                hours,
                cap,
                retainer,
                drawdowns,
                recurring,
                from,
                months,
            },
        )
}

fn build(s: &Scenario) -> (Contract, Vec<TimeEntry>, Vec<Drawdown>, Vec<Progress>) {
    let cents = |v| Money::from_minor(v, Currency::EUR);
    let mut c = activate(contract());
    let milestones = s
        .milestones
        .iter()
        .enumerate()
        .map(|(i, (amount, accepted))| {
            let mut m = Milestone::new(k(&format!("m{i}")), "M", cents(*amount));
            if let Some(o) = accepted {
                m.acceptance = Acceptance::Accepted { on: day(*o) };
            }
            m
        })
        .collect();
    let mut ff = BillingLine::fixed_fee(k("ff"), "Fixed", milestones);
    if let BillingLine::FixedFeeMilestones(l) = &mut ff
        && s.poc
    {
        l.recognition = FixedFeeRecognition::PercentageOfCompletion;
    }
    let recurrences = [
        Recurrence::Monthly,
        Recurrence::Quarterly,
        Recurrence::HalfYearly,
        Recurrence::Yearly,
    ];
    let (amount, period, start, end) = s.recurring;
    let start_day = day(start);
    let end_day = end.map(|e| start_day.checked_add_days(Days::new(e)).unwrap());
    c.billing_lines = vec![
        ff,
        BillingLine::time_and_materials(
            k("tm"),
            "T&M",
            vec![Rate::new(k("partner"), eur("412.50"))],
            s.cap.map(cents),
        ),
        BillingLine::retainer(k("ret"), "Retainer", cents(s.retainer), None),
        BillingLine::recurring(
            k("ms"),
            "Service",
            recurrences[period],
            cents(amount),
            start_day,
            end_day,
        ),
    ];
    let hours = s
        .hours
        .iter()
        .enumerate()
        .map(|(i, (o, q, a))| {
            let mut e = time(&format!("t{i}"), "partner", day(*o), "1", APPROVALS[*a]);
            e.hours = Decimal::new(q * 25, 2);
            e
        })
        .collect();
    let drawdowns = s
        .drawdowns
        .iter()
        .map(|(o, a)| Drawdown {
            line: k("ret"),
            date: day(*o),
            amount: cents(*a),
        })
        .collect();
    let progress = s
        .progress
        .iter()
        .map(|(o, p)| Progress {
            line: k("ff"),
            as_of: day(*o),
            percent: Decimal::from(*p),
        })
        .collect();
    (c, hours, drawdowns, progress)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn recognised_plus_deferred_is_the_contract_value(s in scenario()) {
        let (c, hours, drawdowns, progress) = build(&s);
        let from = YearMonth::of(day(s.from));
        let mut to = from;
        for _ in 1..s.months {
            to = to.next().unwrap();
        }
        let schedule = revenue_schedule(
            &RevenueInput::new(&c, from, to)
                .with_time_entries(&hours)
                .with_drawdowns(&drawdowns)
                .with_progress(&progress),
        )
        .unwrap();
        for line in &schedule.lines {
            prop_assert!(!line.value.is_negative());
            prop_assert!(!line.recognised_before.is_negative());
            for p in &line.periods {
                prop_assert!(!p.recognised.is_negative(), "{:?}", line.billing_line);
                prop_assert!(!p.deferred.is_negative(), "{:?} {}", line.billing_line, p.month);
                prop_assert_eq!(p.cumulative.checked_add(&p.deferred).unwrap(), line.value);
            }
            let total = line
                .recognised_before
                .checked_add(&line.recognised_in_schedule().unwrap())
                .unwrap()
                .checked_add(&line.deferred_at_end())
                .unwrap();
            prop_assert_eq!(total, line.value);
        }
        // Fixed fee: the value is the contract's milestones, whatever the method.
        let ff = schedule.line(&k("ff")).unwrap();
        let milestones: i64 = s.milestones.iter().map(|(a, _)| a).sum();
        prop_assert_eq!(ff.value, Money::from_minor(milestones, Currency::EUR));
        // T&M never beyond the cap; the retainer never beyond what was prepaid.
        if let Some(cap) = s.cap {
            prop_assert!(schedule.line(&k("tm")).unwrap().value.checked_cmp(&Money::from_minor(cap, Currency::EUR)).unwrap().is_le());
        }
        prop_assert_eq!(schedule.line(&k("ret")).unwrap().value, Money::from_minor(s.retainer, Currency::EUR));
        for t in &schedule.totals {
            prop_assert_eq!(t.cumulative.checked_add(&t.deferred).unwrap(), schedule.value().unwrap());
        }
    }
}
