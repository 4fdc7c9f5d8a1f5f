//! Shared builders for the canonical tests.
#![allow(dead_code)]

use std::str::FromStr;

use chrono::NaiveDate;
use odoo_connect::canonical::*;
use rust_decimal::Decimal;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn eur(s: &str) -> Money {
    Money::new(d(s), Currency::EUR)
}

pub fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn k<T: FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

pub fn ym(s: &str) -> YearMonth {
    s.parse().unwrap()
}

pub fn milestone(key: &str, amount: &str, acceptance: Acceptance) -> Milestone {
    let mut m = Milestone::new(k(key), format!("Deliverable {key}"), eur(amount));
    m.acceptance = acceptance;
    m
}

/// A draft contract from 2025-01-01 with no lines.
pub fn contract() -> Contract {
    Contract::new(
        k("c-1"),
        k("acme"),
        k("firm"),
        "Transformation",
        Currency::EUR,
        date(2025, 1, 1),
    )
}

/// Signs and activates.
pub fn activate(mut c: Contract) -> Contract {
    c.sign(c.start_date).unwrap();
    c.activate().unwrap();
    c
}

pub fn tm_line(id: &str, cap: Option<&str>) -> BillingLine {
    BillingLine::time_and_materials(
        k(id),
        "Advisory",
        vec![
            Rate::new(k("partner"), eur("400")),
            Rate::new(k("consultant"), eur("150")),
        ],
        cap.map(eur),
    )
}

/// An active contract with one line of every kind.
pub fn mixed_contract() -> Contract {
    let mut c = contract();
    c.end_date = Some(date(2025, 12, 31));
    c.billing_lines = vec![
        BillingLine::fixed_fee(
            k("ff"),
            "Design",
            vec![
                milestone(
                    "m1",
                    "10000",
                    Acceptance::Accepted {
                        on: date(2025, 2, 15),
                    },
                ),
                milestone(
                    "m2",
                    "15000",
                    Acceptance::Delivered {
                        on: date(2025, 3, 20),
                    },
                ),
                milestone("m3", "5000", Acceptance::Pending),
            ],
        ),
        tm_line("tm", Some("20000")),
        BillingLine::retainer(
            k("ret"),
            "Support retainer",
            eur("6000"),
            Some(TopUp {
                amount: eur("3000"),
                when_balance_below: eur("1000"),
            }),
        ),
        BillingLine::pass_through(k("exp"), "Travel", d("0.10"), true),
        BillingLine::recurring(
            k("ms"),
            "Managed service",
            Recurrence::Monthly,
            eur("2000"),
            date(2025, 1, 1),
            Some(date(2025, 12, 31)),
        ),
    ];
    activate(c)
}

pub fn time(
    key: &str,
    role: &str,
    day: NaiveDate,
    hours: &str,
    approval: ApprovalState,
) -> TimeEntry {
    let mut e = TimeEntry::new(
        k(key),
        k("jane"),
        k("prj-1"),
        k(role),
        day,
        d(hours),
        "Work",
    );
    e.billing_line = Some(k("tm"));
    e.approval = approval;
    e
}

pub fn approved(key: &str, role: &str, day: NaiveDate, hours: &str) -> TimeEntry {
    time(key, role, day, hours, ApprovalState::Approved)
}

pub fn expense(key: &str, amount: Money, approval: ApprovalState) -> Expense {
    let mut e = Expense::new(
        k(key),
        k("jane"),
        k("prj-1"),
        date(2025, 3, 4),
        "travel",
        "Train",
        amount,
    );
    e.approval = approval;
    e
}

pub fn change_order(key: &str, version: u32, day: NaiveDate, changes: Vec<Change>) -> ChangeOrder {
    ChangeOrder::new(k(key), k("c-1"), version, day, "Amendment", changes)
}
