//! Calendar months and recurring billing periods.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar month, the period of revenue schedules. In JSON: `"2025-03"`.
///
/// ```
/// use odoo_connect_canonical::YearMonth;
///
/// let m: YearMonth = "2024-12".parse()?;
/// assert_eq!(m.next().map(|n| n.to_string()).as_deref(), Some("2025-01"));
/// assert_eq!(m.days(), 31);
/// # Ok::<(), odoo_connect_canonical::YearMonthError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

/// Why a text or numbers were refused as a [`YearMonth`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YearMonthError {
    /// Not of the form `YYYY-MM` with a month from 01 to 12 and a year from 1 to 9999.
    #[error("`{0}` is not a month of the form YYYY-MM")]
    Malformed(String),
}

impl YearMonth {
    /// The month `month` (1 to 12) of `year` (1 to 9999).
    pub fn new(year: i32, month: u32) -> Result<YearMonth, YearMonthError> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Ok(YearMonth { year, month })
        } else {
            Err(YearMonthError::Malformed(format!("{year}-{month}")))
        }
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The last day of the month.
    pub fn last_day(&self) -> NaiveDate {
        match self.next() {
            Some(n) => n.first_day().pred_opt().unwrap_or(NaiveDate::MAX),
            None => NaiveDate::from_ymd_opt(self.year, 12, 31).unwrap_or(NaiveDate::MAX),
        }
    }

    /// How many days the month has.
    pub fn days(&self) -> u32 {
        self.last_day().day()
    }

    /// The following month, if within year 9999.
    pub fn next(&self) -> Option<YearMonth> {
        if self.month == 12 {
            YearMonth::new(self.year + 1, 1).ok()
        } else {
            Some(YearMonth {
                year: self.year,
                month: self.month + 1,
            })
        }
    }

    /// The months from `self` to `last`, both included (empty when `last` is earlier).
    pub fn through(self, last: YearMonth) -> impl Iterator<Item = YearMonth> {
        let mut cur = Some(self);
        std::iter::from_fn(move || {
            let m = cur.filter(|m| *m <= last)?;
            cur = m.next();
            Some(m)
        })
    }
}

impl fmt::Debug for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = YearMonthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || YearMonthError::Malformed(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).map_err(|_| bad())
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for YearMonth {
    fn schema_name() -> Cow<'static, str> {
        "YearMonth".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A calendar month, YYYY-MM.",
            "type": "string",
            "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"
        })
    }
}

/// How often a recurring service is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recurrence {
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every six months.
    HalfYearly,
    /// Every year.
    Yearly,
}

impl Recurrence {
    /// The length of one period in months.
    pub fn months(&self) -> u32 {
        match self {
            Recurrence::Monthly => 1,
            Recurrence::Quarterly => 3,
            Recurrence::HalfYearly => 6,
            Recurrence::Yearly => 12,
        }
    }

    /// The first day of period `index` (0-based) of a service starting on `start`, counted from
    /// `start` so that a service starting on the 31st bills on the last day of shorter months.
    pub fn period_start(&self, start: NaiveDate, index: u32) -> Option<NaiveDate> {
        let months = index.checked_mul(self.months())?;
        start.checked_add_months(Months::new(months))
    }
}

/// Where the periods of a recurring service begin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PeriodAnchor {
    /// Periods are counted from the first day of service (a service starting on the 15th is
    /// billed from the 15th to the 14th).
    #[default]
    ServiceStart,
    /// Periods are calendar months (or quarters, half-years, years, from January): a service
    /// starting within one is billed for that first period pro rata of the days it covers.
    Calendar,
}

/// One service period of a recurring billing line: `start..=end`, with the days the contract covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServicePeriod {
    /// Position of the period, from 0.
    pub index: u32,
    /// First day of the period.
    pub start: NaiveDate,
    /// Last day of the period as billed: the day before the next period starts, or the service's end.
    pub end: NaiveDate,
    /// Days in the full period.
    pub full_days: u32,
    /// Days of the period the service covers (less than `full_days` for a last period cut short).
    pub covered_days: u32,
}

impl ServicePeriod {
    /// Whether the service covers only part of the period.
    pub fn is_partial(&self) -> bool {
        self.covered_days < self.full_days
    }
}

/// The service periods of a recurring service from `start` to `end` (inclusive; `None` for no end),
/// stopping after the period that contains `until`.
pub fn service_periods(
    recurrence: Recurrence,
    start: NaiveDate,
    end: Option<NaiveDate>,
    until: NaiveDate,
) -> impl Iterator<Item = ServicePeriod> {
    let mut index = 0u32;
    std::iter::from_fn(move || {
        let p_start = recurrence.period_start(start, index)?;
        if p_start > until || end.is_some_and(|e| p_start > e) {
            return None;
        }
        let next = recurrence.period_start(start, index.checked_add(1)?)?;
        let full_end = next.pred_opt()?;
        let p_end = match end {
            Some(e) if e < full_end => e,
            _ => full_end,
        };
        let full_days = u32::try_from((full_end - p_start).num_days() + 1).ok()?;
        let covered_days = u32::try_from((p_end - p_start).num_days() + 1).ok()?;
        let period = ServicePeriod {
            index,
            start: p_start,
            end: p_end,
            full_days,
            covered_days,
        };
        index += 1;
        Some(period)
    })
}

/// The service periods of a recurring service anchored at `anchor`, from `start` to `end`
/// (inclusive; `None` for no end), stopping after the period that contains `until`.
///
/// With [`PeriodAnchor::ServiceStart`] these are [`service_periods`]. With
/// [`PeriodAnchor::Calendar`] the periods are calendar ones (a quarter starts in January, April,
/// July or October); the first begins on `start` and covers the days from it to the end of its
/// calendar period, the last is cut short by `end`, each pro rata of the days it covers.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{PeriodAnchor, Recurrence, anchored_periods};
/// let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
/// let p: Vec<_> = anchored_periods(Recurrence::Monthly, PeriodAnchor::Calendar, d(3, 15), None, d(4, 30)).collect();
/// assert_eq!((p[0].start, p[0].end, p[0].covered_days, p[0].full_days), (d(3, 15), d(3, 31), 17, 31));
/// assert_eq!((p[1].start, p[1].end, p[1].is_partial()), (d(4, 1), d(4, 30), false));
/// ```
pub fn anchored_periods(
    recurrence: Recurrence,
    anchor: PeriodAnchor,
    start: NaiveDate,
    end: Option<NaiveDate>,
    until: NaiveDate,
) -> Box<dyn Iterator<Item = ServicePeriod>> {
    match anchor {
        PeriodAnchor::ServiceStart => Box::new(service_periods(recurrence, start, end, until)),
        PeriodAnchor::Calendar => Box::new(calendar_periods(recurrence, start, end, until)),
    }
}

/// The first day of the calendar period of `recurrence` that contains `day`.
fn calendar_period_start(recurrence: Recurrence, day: NaiveDate) -> Option<NaiveDate> {
    let months = recurrence.months();
    let month0 = day.month0() - day.month0() % months;
    NaiveDate::from_ymd_opt(day.year(), month0 + 1, 1)
}

fn calendar_periods(
    recurrence: Recurrence,
    start: NaiveDate,
    end: Option<NaiveDate>,
    until: NaiveDate,
) -> impl Iterator<Item = ServicePeriod> {
    let mut index = 0u32;
    let first = calendar_period_start(recurrence, start);
    std::iter::from_fn(move || {
        let full_start = recurrence.period_start(first?, index)?;
        let p_start = full_start.max(start);
        if p_start > until || end.is_some_and(|e| p_start > e) {
            return None;
        }
        let next = recurrence.period_start(first?, index.checked_add(1)?)?;
        let full_end = next.pred_opt()?;
        let p_end = match end {
            Some(e) if e < full_end => e,
            _ => full_end,
        };
        let full_days = u32::try_from((full_end - full_start).num_days() + 1).ok()?;
        let covered_days = u32::try_from((p_end - p_start).num_days() + 1).ok()?;
        index += 1;
        Some(ServicePeriod {
            index: index - 1,
            start: p_start,
            end: p_end,
            full_days,
            covered_days,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months() {
        let m = YearMonth::new(2024, 2).unwrap();
        assert_eq!(m.days(), 29);
        assert_eq!(m.last_day(), date(2024, 2, 29));
        assert_eq!(YearMonth::of(date(2025, 7, 9)).to_string(), "2025-07");
        assert!("2025-13".parse::<YearMonth>().is_err());
        assert!("2025-1".parse::<YearMonth>().is_err());
        assert!("x".parse::<YearMonth>().is_err());
        let all: Vec<_> = m.through(YearMonth::new(2024, 5).unwrap()).collect();
        assert_eq!(all.len(), 4);
        assert_eq!(YearMonth::new(9999, 12).unwrap().next(), None);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"2024-02\"");
    }

    #[test]
    fn periods_from_the_31st_and_cut_short() {
        let p: Vec<_> = service_periods(
            Recurrence::Monthly,
            date(2025, 1, 31),
            Some(date(2025, 4, 15)),
            date(2030, 1, 1),
        )
        .collect();
        let starts: Vec<_> = p.iter().map(|p| p.start).collect();
        assert_eq!(
            starts,
            [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]
        );
        assert_eq!(p[2].end, date(2025, 4, 15));
        assert_eq!(p[2].covered_days, 16);
        assert_eq!(p[2].full_days, 30);
        assert!(p[2].is_partial());
        let q: Vec<_> = service_periods(
            Recurrence::Quarterly,
            date(2025, 1, 1),
            None,
            date(2025, 6, 30),
        )
        .collect();
        assert_eq!(q.len(), 2);
        assert_eq!(q[1].end, date(2025, 6, 30));
    }

    #[test]
    fn calendar_periods_prorate_start_and_end() {
        let p: Vec<_> = anchored_periods(
            Recurrence::Quarterly,
            PeriodAnchor::Calendar,
            date(2025, 2, 10),
            Some(date(2025, 8, 15)),
            date(2030, 1, 1),
        )
        .collect();
        let spans: Vec<_> = p.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(
            spans,
            [
                (date(2025, 2, 10), date(2025, 3, 31)),
                (date(2025, 4, 1), date(2025, 6, 30)),
                (date(2025, 7, 1), date(2025, 8, 15)),
            ]
        );
        assert_eq!((p[0].covered_days, p[0].full_days), (50, 90));
        assert!(!p[1].is_partial());
        assert_eq!((p[2].covered_days, p[2].full_days), (46, 92));
        // Starting on the first day of a month: no proration.
        let m: Vec<_> = anchored_periods(
            Recurrence::Monthly,
            PeriodAnchor::Calendar,
            date(2025, 1, 1),
            None,
            date(2025, 2, 1),
        )
        .collect();
        assert_eq!(m.len(), 2);
        assert!(!m[0].is_partial());
    }
}
