//! Odoo search domains, built as values and serialised to Odoo's prefix notation.
//!
//! ```
//! use odoo_connect_client::Domain;
//! let d = Domain::new()
//!     .eq("is_company", true)
//!     .ilike("name", "acme")
//!     .or(Domain::new().child_of("id", 9));
//! assert_eq!(
//!     d.to_value(),
//!     serde_json::json!(["|", "&", ["is_company", "=", true], ["name", "ilike", "acme"], ["id", "child_of", 9]])
//! );
//! ```

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// A comparison operator of a domain leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `like` (case-sensitive, wrapped in `%`)
    Like,
    /// `not like`
    NotLike,
    /// `ilike` (case-insensitive, wrapped in `%`)
    ILike,
    /// `not ilike`
    NotILike,
    /// `=like` (pattern used as given)
    EqLike,
    /// `=ilike`
    EqILike,
    /// `child_of` (the records and their descendants)
    ChildOf,
    /// `parent_of` (the records and their ancestors)
    ParentOf,
    /// `any` (a relational field with a sub-domain)
    Any,
    /// `not any`
    NotAny,
}

impl Op {
    /// Every operator.
    pub const ALL: [Op; 18] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::NotIn,
        Op::Like,
        Op::NotLike,
        Op::ILike,
        Op::NotILike,
        Op::EqLike,
        Op::EqILike,
        Op::ChildOf,
        Op::ParentOf,
        Op::Any,
        Op::NotAny,
    ];

    /// The operator as Odoo writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Like => "like",
            Op::NotLike => "not like",
            Op::ILike => "ilike",
            Op::NotILike => "not ilike",
            Op::EqLike => "=like",
            Op::EqILike => "=ilike",
            Op::ChildOf => "child_of",
            Op::ParentOf => "parent_of",
            Op::Any => "any",
            Op::NotAny => "not any",
        }
    }

    /// Parses an operator as Odoo writes it.
    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    True,
    False,
    Leaf(String, Op, Value),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A domain given in Odoo's own notation, kept as sent.
    Raw(Vec<Value>),
}

/// An Odoo search domain.
///
/// Conditions added with the builder methods are joined with AND; [`Domain::or`] and
/// [`Domain::not`] combine domains; [`Domain::raw`] passes a domain written in Odoo's notation.
/// The empty domain matches every record.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    node: Node,
}

impl Default for Domain {
    fn default() -> Self {
        Self::new()
    }
}

impl Domain {
    /// The empty domain: every record.
    pub fn new() -> Self {
        Domain {
            node: Node::And(Vec::new()),
        }
    }

    /// A domain that matches every record (`[(1, '=', 1)]` in Odoo).
    pub fn all() -> Self {
        Domain { node: Node::True }
    }

    /// A domain that matches no record (`[(0, '=', 1)]` in Odoo).
    pub fn none() -> Self {
        Domain { node: Node::False }
    }

    /// A domain in Odoo's own prefix notation, passed as given.
    ///
    /// ```
    /// use odoo_connect_client::Domain;
    /// let d = Domain::raw(serde_json::json!(["|", ["a", "=", 1], ["b", "=", 2]])).unwrap();
    /// assert_eq!(d.to_value()[0], "|");
    /// ```
    pub fn raw(domain: Value) -> Result<Self, crate::Error> {
        match domain {
            Value::Array(items) => Ok(Domain {
                node: Node::Raw(items),
            }),
            other => Err(crate::error::ConfigReason::RawDomainNotAList {
                found: kind_of(&other),
            }
            .into()),
        }
    }

    /// Adds `field op value`, joined with AND.
    pub fn cond(self, field: impl Into<String>, op: Op, value: impl Into<Value>) -> Self {
        self.and(Domain {
            node: Node::Leaf(field.into(), op, value.into()),
        })
    }

    /// A single condition `field op value`.
    pub fn leaf(field: impl Into<String>, op: Op, value: impl Into<Value>) -> Self {
        Domain {
            node: Node::Leaf(field.into(), op, value.into()),
        }
    }

    /// `field = value`
    pub fn eq(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Eq, value)
    }
    /// `field != value`
    pub fn ne(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Ne, value)
    }
    /// `field < value`
    pub fn lt(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Lt, value)
    }
    /// `field <= value`
    pub fn le(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Le, value)
    }
    /// `field > value`
    pub fn gt(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Gt, value)
    }
    /// `field >= value`
    pub fn ge(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::Ge, value)
    }
    /// `field in values`
    pub fn is_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.cond(field, Op::In, list)
    }
    /// `field not in values`
    pub fn not_in<V: Into<Value>>(
        self,
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.cond(field, Op::NotIn, list)
    }
    /// `field like pattern`
    pub fn like(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::Like, pattern.into())
    }
    /// `field not like pattern`
    pub fn not_like(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::NotLike, pattern.into())
    }
    /// `field ilike pattern`
    pub fn ilike(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::ILike, pattern.into())
    }
    /// `field not ilike pattern`
    pub fn not_ilike(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::NotILike, pattern.into())
    }
    /// `field =like pattern`
    pub fn eq_like(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::EqLike, pattern.into())
    }
    /// `field =ilike pattern`
    pub fn eq_ilike(self, field: impl Into<String>, pattern: impl Into<String>) -> Self {
        self.cond(field, Op::EqILike, pattern.into())
    }
    /// `field child_of value`
    pub fn child_of(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::ChildOf, value)
    }
    /// `field parent_of value`
    pub fn parent_of(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.cond(field, Op::ParentOf, value)
    }
    /// `field any sub_domain` (Odoo 17+): records whose relation has a match.
    pub fn any(self, field: impl Into<String>, sub: Domain) -> Self {
        self.cond(field, Op::Any, sub.to_value())
    }
    /// `field not any sub_domain` (Odoo 17+).
    pub fn not_any(self, field: impl Into<String>, sub: Domain) -> Self {
        self.cond(field, Op::NotAny, sub.to_value())
    }

    /// Both domains (AND).
    pub fn and(self, other: Domain) -> Self {
        let node = match (self.node, other.node) {
            (Node::And(mut a), Node::And(b)) => {
                a.extend(b);
                Node::And(a)
            }
            (Node::And(mut a), b) => {
                a.push(b);
                Node::And(a)
            }
            (a, Node::And(mut b)) => {
                b.insert(0, a);
                Node::And(b)
            }
            (a, b) => Node::And(vec![a, b]),
        };
        Domain { node }
    }

    /// Either domain (OR).
    pub fn or(self, other: Domain) -> Self {
        let node = match (self.node, other.node) {
            (Node::Or(mut a), Node::Or(b)) => {
                a.extend(b);
                Node::Or(a)
            }
            (Node::Or(mut a), b) => {
                a.push(b);
                Node::Or(a)
            }
            (a, b) => Node::Or(vec![a, b]),
        };
        Domain { node }
    }

    /// Any of the domains (OR); no domain at all matches nothing.
    pub fn any_of(domains: impl IntoIterator<Item = Domain>) -> Self {
        let nodes: Vec<Node> = domains.into_iter().map(|d| d.node).collect();
        if nodes.is_empty() {
            Domain::none()
        } else {
            Domain {
                node: Node::Or(nodes),
            }
        }
    }

    /// The negation (NOT).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Domain {
            node: Node::Not(Box::new(self.node)),
        }
    }

    /// Whether this domain matches every record without condition.
    pub fn is_empty(&self) -> bool {
        matches!(&self.node, Node::And(v) if v.is_empty())
            || matches!(&self.node, Node::Raw(v) if v.is_empty())
    }

    /// The domain in Odoo's prefix notation.
    pub fn to_value(&self) -> Value {
        let mut out = Vec::new();
        if self.is_empty() {
            return Value::Array(out);
        }
        write_node(&self.node, &mut out);
        Value::Array(out)
    }
}

impl std::ops::Not for Domain {
    type Output = Domain;
    fn not(self) -> Domain {
        Domain::not(self)
    }
}

fn true_leaf() -> Value {
    Value::Array(vec![1.into(), "=".into(), 1.into()])
}

fn false_leaf() -> Value {
    Value::Array(vec![0.into(), "=".into(), 1.into()])
}

/// Appends `node` in prefix notation; every node writes exactly one term.
fn write_node(node: &Node, out: &mut Vec<Value>) {
    match node {
        Node::True => out.push(true_leaf()),
        Node::False => out.push(false_leaf()),
        Node::Leaf(f, op, v) => out.push(Value::Array(vec![
            Value::String(f.clone()),
            Value::String(op.as_str().to_owned()),
            v.clone(),
        ])),
        Node::And(items) | Node::Or(items) => {
            let sym = if matches!(node, Node::And(_)) {
                "&"
            } else {
                "|"
            };
            match items.len() {
                0 => out.push(if matches!(node, Node::And(_)) {
                    true_leaf()
                } else {
                    false_leaf()
                }),
                n => {
                    for _ in 1..n {
                        out.push(Value::String(sym.to_owned()));
                    }
                    for item in items {
                        write_node(item, out);
                    }
                }
            }
        }
        Node::Not(inner) => {
            out.push(Value::String("!".to_owned()));
            write_node(inner, out);
        }
        Node::Raw(items) => {
            // A raw domain is a list of terms joined implicitly with AND; make that explicit so
            // it stays one term inside a larger expression.
            let terms = count_terms(items);
            if terms == 0 {
                out.push(true_leaf());
                return;
            }
            for _ in 1..terms {
                out.push(Value::String("&".to_owned()));
            }
            out.extend(items.iter().cloned());
        }
    }
}

/// Counts the top-level terms of a prefix-notation domain (`['|', A, B, C]` has 2).
fn count_terms(items: &[Value]) -> usize {
    let mut terms = 0usize;
    let mut need = 0usize; // operands still needed by pending operators
    for item in items {
        match item.as_str() {
            Some("&") | Some("|") => {
                if need == 0 {
                    terms += 1;
                    need = 2;
                } else {
                    need += 1;
                }
            }
            Some("!") => {
                if need == 0 {
                    terms += 1;
                    need = 1;
                }
            }
            _ => {
                if need == 0 {
                    terms += 1;
                } else {
                    need -= 1;
                }
            }
        }
    }
    terms
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl From<Domain> for Value {
    fn from(d: Domain) -> Self {
        d.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_is_empty_list() {
        assert_eq!(Domain::new().to_value(), json!([]));
        assert!(Domain::new().is_empty());
    }

    #[test]
    fn implicit_and_becomes_explicit() {
        let d = Domain::new().eq("a", 1).eq("b", 2).eq("c", 3);
        assert_eq!(
            d.to_value(),
            json!(["&", "&", ["a", "=", 1], ["b", "=", 2], ["c", "=", 3]])
        );
    }

    #[test]
    fn recorded_or_not_child_of() {
        // The domain of the recorded fixture search_read_domain_or_not_child_of.json.
        let d = Domain::leaf("id", Op::ChildOf, 9).or(Domain::new()
            .eq("is_company", true)
            .and(Domain::new().ilike("name", "a").not()));
        assert_eq!(
            d.to_value(),
            json!([
                "|",
                ["id", "child_of", 9],
                "&",
                ["is_company", "=", true],
                "!",
                ["name", "ilike", "a"]
            ])
        );
    }

    #[test]
    fn every_operator_serialises() {
        for op in Op::ALL {
            let v = Domain::leaf("f", op, 1).to_value();
            assert_eq!(v[0][1], op.as_str());
            assert_eq!(Op::parse(op.as_str()), Some(op));
        }
        assert_eq!(Op::parse("~"), None);
    }

    #[test]
    fn any_takes_a_sub_domain() {
        let d = Domain::new().any("child_ids", Domain::new().eq("email", false));
        assert_eq!(
            d.to_value(),
            json!([["child_ids", "any", [["email", "=", false]]]])
        );
    }

    #[test]
    fn raw_domains_nest() {
        let raw = Domain::raw(json!([["a", "=", 1], "|", ["b", "=", 2], ["c", "=", 3]])).unwrap();
        let d = raw.or(Domain::leaf("d", Op::Eq, 4));
        assert_eq!(
            d.to_value(),
            json!([
                "|",
                "&",
                ["a", "=", 1],
                "|",
                ["b", "=", 2],
                ["c", "=", 3],
                ["d", "=", 4]
            ])
        );
        assert!(Domain::raw(json!({"a": 1})).is_err());
    }

    #[test]
    fn true_false_and_empty_or() {
        assert_eq!(Domain::all().to_value(), json!([[1, "=", 1]]));
        assert_eq!(Domain::any_of([]).to_value(), json!([[0, "=", 1]]));
        assert_eq!(
            Domain::new().or(Domain::new().eq("a", 1)).to_value(),
            json!(["|", [1, "=", 1], ["a", "=", 1]])
        );
    }
}
