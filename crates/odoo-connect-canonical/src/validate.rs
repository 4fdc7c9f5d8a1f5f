//! Validation that reports every problem of an object, each with the path of its field.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::currency::Currency;
use super::key::ExternalRefs;
use super::money::Money;

/// A type that checks its own business invariants.
///
/// `validate` reports *all* the problems it finds, not only the first one, each with the JSON path of
/// the field at fault (`billing_lines[2].rate_card[0].rate`), a machine-readable [`ProblemCode`] and a
/// message for people.
///
/// ```
/// use odoo_connect_canonical::{ProblemCode, TimeEntry, Validate};
/// use rust_decimal::Decimal;
/// use chrono::NaiveDate;
///
/// let mut entry = TimeEntry::new(
///     "te-1".parse()?, "jane".parse()?, "prj-1".parse()?, "consultant".parse()?,
///     NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), Decimal::new(30, 0), "Workshop",
/// );
/// entry.description = String::new();
/// let errors = entry.validate().unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert_eq!(errors.at("hours").next().map(|p| p.code), Some(ProblemCode::OutOfRange));
/// assert!(errors.at("description").next().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Validate {
    /// Checks the object; `Err` holds every problem found.
    fn validate(&self) -> Result<(), ValidationErrors>;

    /// Whether [`Validate::validate`] finds no problem.
    fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }
}

/// What kind of problem a field has; stable, for programs to branch on (snake case in JSON).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemCode {
    /// A required value is missing or blank.
    Required,
    /// A text is too long.
    TooLong,
    /// A value does not have the expected form.
    Format,
    /// A number or date is outside the range allowed.
    OutOfRange,
    /// An amount or quantity must be above zero.
    NotPositive,
    /// An amount must not be below zero.
    Negative,
    /// An amount has more decimals than its currency's minor unit.
    NotRounded,
    /// An amount is not in the currency expected here.
    CurrencyMismatch,
    /// Two dates are in the wrong order.
    DateOrder,
    /// A value appears twice where it must be unique.
    Duplicate,
    /// Values that must agree do not (totals, states).
    Inconsistent,
    /// A reference points to nothing known.
    UnknownReference,
}

impl ProblemCode {
    /// The code as written in JSON, such as `"not_rounded"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProblemCode::Required => "required",
            ProblemCode::TooLong => "too_long",
            ProblemCode::Format => "format",
            ProblemCode::OutOfRange => "out_of_range",
            ProblemCode::NotPositive => "not_positive",
            ProblemCode::Negative => "negative",
            ProblemCode::NotRounded => "not_rounded",
            ProblemCode::CurrencyMismatch => "currency_mismatch",
            ProblemCode::DateOrder => "date_order",
            ProblemCode::Duplicate => "duplicate",
            ProblemCode::Inconsistent => "inconsistent",
            ProblemCode::UnknownReference => "unknown_reference",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// The field at fault, as a JSON path: `billing_lines[2].rate_card[0].rate`; empty for the object
    /// as a whole.
    pub path: String,
    /// The kind of problem.
    pub code: ProblemCode,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} ({})", self.message, self.code)
        } else {
            write!(f, "{}: {} ({})", self.path, self.message, self.code)
        }
    }
}

/// Every problem validation found; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[serde(transparent)]
pub struct ValidationErrors {
    problems: Vec<Problem>,
}

impl ValidationErrors {
    /// The problems, in the order the fields were checked.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems, owned.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Always `false`: a `ValidationErrors` holds at least one problem.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems at exactly this path.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Problem> + 'a {
        self.problems.iter().filter(move |p| p.path == path)
    }

    /// Whether a problem with this code is reported at this path.
    pub fn has(&self, path: &str, code: ProblemCode) -> bool {
        self.problems
            .iter()
            .any(|p| p.path == path && p.code == code)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} validation problem{}", if n == 1 { "" } else { "s" })?;
        for (i, p) in self.problems.iter().enumerate() {
            write!(f, "{}{p}", if i == 0 { ": " } else { "; " })?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Seg {
    Field(&'static str),
    Index(usize),
}

/// Collects problems while walking an object; builds a path string only when a problem is found.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    path: Vec<Seg>,
    problems: Vec<Problem>,
}

/// Dates outside these years are taken for typos.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

impl Checker {
    pub(crate) fn new() -> Checker {
        Checker::default()
    }

    fn render(&self, last: Option<&'static str>) -> String {
        let mut out = String::new();
        for seg in self.path.iter().copied().chain(last.map(Seg::Field)) {
            match seg {
                Seg::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// Runs `f` with `name` pushed on the path.
    pub(crate) fn field(&mut self, name: &'static str, f: impl FnOnce(&mut Checker)) {
        self.path.push(Seg::Field(name));
        f(self);
        self.path.pop();
    }

    /// Runs `f` for each item of the list `name`, with `name[i]` pushed on the path.
    pub(crate) fn each<'a, T>(
        &mut self,
        name: &'static str,
        items: &'a [T],
        mut f: impl FnMut(&mut Checker, &'a T),
    ) {
        self.path.push(Seg::Field(name));
        for (i, item) in items.iter().enumerate() {
            self.path.push(Seg::Index(i));
            f(self, item);
            self.path.pop();
        }
        self.path.pop();
    }

    /// Reports a problem at the current path.
    pub(crate) fn report(&mut self, code: ProblemCode, message: impl Into<String>) {
        let path = self.render(None);
        self.problems.push(Problem {
            path,
            code,
            message: message.into(),
        });
    }

    /// Reports a problem at the field `name` under the current path.
    pub(crate) fn report_at(
        &mut self,
        name: &'static str,
        code: ProblemCode,
        message: impl Into<String>,
    ) {
        let path = self.render(Some(name));
        self.problems.push(Problem {
            path,
            code,
            message: message.into(),
        });
    }

    /// The result: `Ok` when nothing was reported.
    pub(crate) fn finish(self) -> Result<(), ValidationErrors> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                problems: self.problems,
            })
        }
    }

    /// A required text: not blank, at most `max` characters, no control characters other than
    /// line breaks and tabs.
    pub(crate) fn text(&mut self, name: &'static str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.report_at(name, ProblemCode::Required, "must not be blank");
        } else {
            self.optional_text(name, value, max);
        }
    }

    /// An optional text: when present, at most `max` characters and no control characters.
    pub(crate) fn optional_text(&mut self, name: &'static str, value: &str, max: usize) {
        // Byte length bounds the character count from above: only count when it might be too long.
        if value.len() > max && value.chars().count() > max {
            self.report_at(
                name,
                ProblemCode::TooLong,
                format!("at most {max} characters"),
            );
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.report_at(name, ProblemCode::Format, "contains control characters");
        }
    }

    /// A date in a plausible range (years 1900 to 2200).
    pub(crate) fn date(&mut self, name: &'static str, date: NaiveDate) {
        let y = date.year();
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
            self.report_at(
                name,
                ProblemCode::OutOfRange,
                format!("year {y} is outside {MIN_YEAR}..={MAX_YEAR}"),
            );
        }
    }

    /// `first <= second`, reported at `second_name`.
    pub(crate) fn date_order(
        &mut self,
        first: NaiveDate,
        second_name: &'static str,
        second: NaiveDate,
        what: &str,
    ) {
        if second < first {
            self.report_at(
                second_name,
                ProblemCode::DateOrder,
                format!("{second} is before {what} {first}"),
            );
        }
    }

    /// An amount in `currency`, rounded to its minor unit.
    pub(crate) fn money(&mut self, name: &'static str, m: &Money, currency: Currency) {
        if m.currency != currency {
            self.report_at(
                name,
                ProblemCode::CurrencyMismatch,
                format!("is in {}, expected {currency}", m.currency),
            );
        }
        if !m.is_rounded() {
            self.report_at(
                name,
                ProblemCode::NotRounded,
                format!(
                    "{} has more than {} decimals",
                    m.amount,
                    m.currency.minor_units()
                ),
            );
        }
    }

    /// An amount in `currency`, rounded, and above zero.
    pub(crate) fn positive_money(&mut self, name: &'static str, m: &Money, currency: Currency) {
        self.money(name, m, currency);
        if !m.is_positive() {
            self.report_at(name, ProblemCode::NotPositive, "must be above zero");
        }
    }

    /// An amount in `currency`, rounded, not below zero.
    pub(crate) fn non_negative_money(&mut self, name: &'static str, m: &Money, currency: Currency) {
        self.money(name, m, currency);
        if m.is_negative() {
            self.report_at(name, ProblemCode::Negative, "must not be below zero");
        }
    }

    /// A decimal in `min..=max`.
    pub(crate) fn decimal_range(
        &mut self,
        name: &'static str,
        value: Decimal,
        min: Decimal,
        max: Decimal,
    ) {
        if value < min || value > max {
            self.report_at(
                name,
                ProblemCode::OutOfRange,
                format!("{value} is outside {min}..={max}"),
            );
        }
    }

    /// External references: systems are keys and ids are 1 to 256 printable characters.
    pub(crate) fn refs(&mut self, refs: &ExternalRefs) {
        if refs.is_empty() {
            return;
        }
        self.path.push(Seg::Field("refs"));
        for (i, r) in refs.iter().enumerate() {
            self.path.push(Seg::Index(i));
            if let Err(e) = super::key::check_key(&r.system) {
                self.report_at("system", ProblemCode::Format, e.to_string());
            }
            if r.id.is_empty() {
                self.report_at("id", ProblemCode::Required, "must not be empty");
            } else {
                self.optional_text("id", &r.id, 256);
            }
            self.path.pop();
        }
        self.path.pop();
    }
}

/// Implements [`Validate`] for a type with a `check(&self, &mut Checker)` method.
macro_rules! impl_validate {
    ($($t:ty),* $(,)?) => {
        $(
            impl $crate::validate::Validate for $t {
                fn validate(&self) -> Result<(), $crate::validate::ValidationErrors> {
                    let mut checker = $crate::validate::Checker::new();
                    self.check(&mut checker);
                    checker.finish()
                }
            }
        )*
    };
}
pub(crate) use impl_validate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rendered_only_for_problems() {
        let mut c = Checker::new();
        c.field("billing_lines", |c| {
            c.path.push(Seg::Index(2));
            c.each("rate_card", &[1, 2], |c, n| {
                if *n == 1 {
                    c.report_at("rate", ProblemCode::NotPositive, "must be above zero");
                }
            });
            c.path.pop();
        });
        c.report(ProblemCode::Inconsistent, "whole");
        let errors = c.finish().unwrap_err();
        assert_eq!(
            errors.problems()[0].path,
            "billing_lines[2].rate_card[0].rate"
        );
        assert_eq!(errors.problems()[1].path, "");
        assert_eq!(
            errors.to_string(),
            "2 validation problems: billing_lines[2].rate_card[0].rate: must be above zero (not_positive); whole (inconsistent)"
        );
        assert!(errors.has(
            "billing_lines[2].rate_card[0].rate",
            ProblemCode::NotPositive
        ));
    }

    #[test]
    fn codes_match_json() {
        for code in [
            ProblemCode::Required,
            ProblemCode::NotRounded,
            ProblemCode::UnknownReference,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }
}
