//! Property tests: every domain the builder makes is well-formed prefix notation that means
//! what the builder said.

use odoo_connect::odoo::{Domain, Op};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A tree the test builds alongside the domain, to compare meanings.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(String, Op, i64),
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
}

fn to_domain(t: &Tree) -> Domain {
    match t {
        Tree::Leaf(f, op, v) => Domain::leaf(f.clone(), *op, *v),
        Tree::And(items) => items
            .iter()
            .fold(Domain::new(), |acc, i| acc.and(to_domain(i))),
        Tree::Or(items) => Domain::any_of(items.iter().map(to_domain)),
        Tree::Not(inner) => to_domain(inner).not(),
    }
}

/// Evaluates a tree over a record (field -> value), with simple integer semantics.
fn eval_tree(t: &Tree, rec: &dyn Fn(&str) -> i64) -> bool {
    match t {
        Tree::Leaf(f, op, v) => cmp(rec(f), *op, *v),
        Tree::And(items) => items.iter().all(|i| eval_tree(i, rec)),
        Tree::Or(items) => items.iter().any(|i| eval_tree(i, rec)),
        Tree::Not(inner) => !eval_tree(inner, rec),
    }
}

fn cmp(a: i64, op: Op, b: i64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        _ => a >= b,
    }
}

/// Evaluates a serialised prefix-notation domain; returns None when it is malformed.
fn eval_prefix(items: &[Value], rec: &dyn Fn(&str) -> i64) -> Option<bool> {
    fn term(items: &[Value], pos: &mut usize, rec: &dyn Fn(&str) -> i64) -> Option<bool> {
        let item = items.get(*pos)?;
        *pos += 1;
        match item.as_str() {
            Some("&") => {
                let a = term(items, pos, rec)?;
                let b = term(items, pos, rec)?;
                Some(a && b)
            }
            Some("|") => {
                let a = term(items, pos, rec)?;
                let b = term(items, pos, rec)?;
                Some(a || b)
            }
            Some("!") => Some(!term(items, pos, rec)?),
            _ => {
                let leaf = item.as_array()?;
                if leaf.len() != 3 {
                    return None;
                }
                let op = Op::parse(leaf[1].as_str()?)?;
                match (&leaf[0], &leaf[2]) {
                    (Value::String(f), Value::Number(v)) => Some(cmp(rec(f), op, v.as_i64()?)),
                    // (1, '=', 1) and (0, '=', 1)
                    (Value::Number(a), Value::Number(b)) => Some(a == b),
                    _ => None,
                }
            }
        }
    }
    let mut pos = 0;
    let mut all = true;
    // Top level: implicit AND of the terms.
    while pos < items.len() {
        all &= term(items, &mut pos, rec)?;
    }
    Some(all)
}

fn leaf() -> impl Strategy<Value = Tree> {
    (
        prop::sample::select(vec!["a", "b", "c"]),
        prop::sample::select(vec![Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]),
        0i64..4,
    )
        .prop_map(|(f, op, v)| Tree::Leaf(f.to_owned(), op, v))
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::Or),
            inner.prop_map(|t| Tree::Not(Box::new(t))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn serialised_domain_means_what_was_built(t in tree(), a in 0i64..4, b in 0i64..4, c in 0i64..4) {
        let rec = move |f: &str| match f { "a" => a, "b" => b, _ => c };
        let v = to_domain(&t).to_value();
        let items = v.as_array().unwrap();
        let got = eval_prefix(items, &rec);
        prop_assert_eq!(got, Some(eval_tree(&t, &rec)), "domain {}", v);
    }

    #[test]
    fn raw_domains_stay_one_term_inside_others(t in tree(), u in tree(), a in 0i64..4, b in 0i64..4, c in 0i64..4) {
        let rec = move |f: &str| match f { "a" => a, "b" => b, _ => c };
        // A raw domain written as a list of implicitly ANDed terms, then combined with OR.
        let raw = Domain::raw(to_domain(&t).to_value()).unwrap();
        let combined = raw.or(to_domain(&u)).to_value();
        let got = eval_prefix(combined.as_array().unwrap(), &rec);
        prop_assert_eq!(got, Some(eval_tree(&t, &rec) || eval_tree(&u, &rec)), "domain {}", combined);
    }
}

#[test]
fn values_of_every_json_kind_pass_through() {
    let d = Domain::new()
        .is_in("id", [1, 2, 3])
        .eq("name", "O'Brien & \"Sons\"")
        .eq("parent_id", false)
        .ge("amount", 12.5);
    assert_eq!(
        d.to_value(),
        json!([
            "&",
            "&",
            "&",
            ["id", "in", [1, 2, 3]],
            ["name", "=", "O'Brien & \"Sons\""],
            ["parent_id", "=", false],
            ["amount", ">=", 12.5]
        ])
    );
}
