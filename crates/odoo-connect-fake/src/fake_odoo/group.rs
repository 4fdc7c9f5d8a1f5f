//! Grouping: `formatted_read_group` (19) and the deprecated `read_group` (all versions), with
//! date granularities following the context time zone as Odoo does.

use std::cmp::Ordering;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

use super::errors::{OdooError, OdooResult, py_str};
use super::orm::{Load, Orm, as_id, float, parse_order};
use super::schema::{Field, FieldType};
use super::store::{fmt_date, fmt_datetime, parse_date, parse_datetime};

// ---------------------------------------------------------------------- time zones

/// `d + n days`, saturating at the calendar's ends.
fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(n)).unwrap_or(d)
}

/// `t + s seconds`, saturating at the calendar's ends.
fn add_secs(t: NaiveDateTime, s: i64) -> NaiveDateTime {
    t.checked_add_signed(Duration::seconds(s)).unwrap_or(t)
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let offset = (7 - first.weekday().num_days_from_sunday()) % 7;
    add_days(first, i64::from(offset + 7 * (n - 1)))
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or_default();
    let last = add_days(next, -1);
    add_days(last, -i64::from(last.weekday().num_days_from_sunday()))
}

/// `(standard offset in hours, daylight rule)` of the time zones the fake knows.
fn zone(tz: &str) -> (f64, &'static str) {
    match tz {
        "America/New_York" | "US/Eastern" | "America/Toronto" | "America/Detroit" => (-5.0, "us"),
        "America/Chicago" | "US/Central" => (-6.0, "us"),
        "America/Denver" | "US/Mountain" => (-7.0, "us"),
        "America/Los_Angeles" | "US/Pacific" => (-8.0, "us"),
        "Europe/London" | "Europe/Dublin" | "Europe/Lisbon" => (0.0, "eu"),
        "Europe/Brussels" | "Europe/Paris" | "Europe/Berlin" | "Europe/Amsterdam"
        | "Europe/Madrid" | "Europe/Rome" | "Europe/Luxembourg" | "Europe/Zurich"
        | "Europe/Vienna" | "Europe/Stockholm" | "Europe/Oslo" | "Europe/Copenhagen"
        | "Europe/Warsaw" | "Europe/Prague" => (1.0, "eu"),
        "Europe/Athens" | "Europe/Helsinki" | "Europe/Kiev" | "Europe/Kyiv" => (2.0, "eu"),
        "Asia/Tokyo" | "Asia/Seoul" => (9.0, ""),
        "Asia/Shanghai" | "Asia/Hong_Kong" | "Asia/Singapore" | "Asia/Taipei" => (8.0, ""),
        "Asia/Kolkata" | "Asia/Calcutta" => (5.5, ""),
        "Asia/Dubai" => (4.0, ""),
        _ => (0.0, ""),
    }
}

/// Offset from UTC (seconds) of `tz` at the UTC instant `utc`. Zones the fake does not know
/// are taken as UTC.
pub(crate) fn utc_offset(tz: &str, utc: NaiveDateTime) -> i64 {
    let (std, rule) = zone(tz);
    let std_secs = (std * 3600.0) as i64;
    let dst = match rule {
        "us" => {
            let local_std = add_secs(utc, std_secs);
            let y = local_std.year();
            let start = nth_sunday(y, 3, 2).and_hms_opt(2, 0, 0).unwrap_or_default();
            let end = nth_sunday(y, 11, 1)
                .and_hms_opt(1, 0, 0)
                .unwrap_or_default();
            local_std >= start && local_std < end
        }
        "eu" => {
            let y = utc.year();
            let start = last_sunday(y, 3).and_hms_opt(1, 0, 0).unwrap_or_default();
            let end = last_sunday(y, 10).and_hms_opt(1, 0, 0).unwrap_or_default();
            utc >= start && utc < end
        }
        _ => false,
    };
    std_secs + if dst { 3600 } else { 0 }
}

fn local_to_utc(tz: &str, local: NaiveDateTime) -> NaiveDateTime {
    let guess = add_secs(local, -zone_std(tz));
    let offset = utc_offset(tz, guess);
    let candidate = add_secs(local, -offset);
    let offset2 = utc_offset(tz, candidate);
    add_secs(local, -offset2)
}

fn zone_std(tz: &str) -> i64 {
    (zone(tz).0 * 3600.0) as i64
}

// ---------------------------------------------------------------------- specs

#[derive(Debug, Clone)]
struct GroupSpec {
    spec: String,
    field: &'static Field,
    granularity: Option<String>,
}

#[derive(Debug, Clone)]
struct AggSpec {
    key: String,
    field: Option<&'static Field>,
    func: String,
}

fn parse_group(orm: &Orm<'_>, model: &str, spec: &str) -> OdooResult<GroupSpec> {
    let (name, gran) = match spec.split_once(':') {
        Some((n, g)) => (n, Some(g.to_string())),
        None => (spec, None),
    };
    let field = orm.field(model, name).ok_or_else(|| {
        OdooError::value(format!(
            "Invalid field {} on model {}",
            py_str(name),
            py_str(model)
        ))
    })?;
    let is_date = matches!(field.ftype, FieldType::Date | FieldType::Datetime);
    let granularity = match (gran, is_date) {
        (Some(g), true) => {
            if !matches!(g.as_str(), "day" | "week" | "month" | "quarter" | "year") {
                return Err(OdooError::value(format!(
                    "Granularity set on a field of type {}: {spec}",
                    field.ftype.as_str()
                )));
            }
            Some(g)
        }
        (None, true) => Some("month".to_string()),
        (Some(_), false) => {
            return Err(OdooError::value(format!(
                "Granularity set on a field of type {}: {spec}",
                field.ftype.as_str()
            )));
        }
        (None, false) => None,
    };
    Ok(GroupSpec {
        spec: spec.to_string(),
        field,
        granularity,
    })
}

fn parse_agg(
    orm: &Orm<'_>,
    model: &str,
    spec: &str,
    bare_default: bool,
) -> OdooResult<Option<AggSpec>> {
    if spec == "__count" {
        return Ok(Some(AggSpec {
            key: spec.into(),
            field: None,
            func: "count".into(),
        }));
    }
    let (name, func) = match spec.split_once(':') {
        Some((n, f)) => (n, Some(f.to_string())),
        None => (spec, None),
    };
    let field = orm.field(model, name).ok_or_else(|| {
        OdooError::value(format!(
            "Invalid field {} on model {}",
            py_str(name),
            py_str(model)
        ))
    })?;
    let func = match func {
        Some(f) => {
            if !matches!(
                f.as_str(),
                "sum"
                    | "avg"
                    | "min"
                    | "max"
                    | "count"
                    | "count_distinct"
                    | "array_agg"
                    | "bool_and"
                    | "bool_or"
            ) {
                return Err(OdooError::value(format!(
                    "Invalid aggregation function {}.",
                    py_str(&f)
                )));
            }
            f
        }
        None if bare_default => {
            if field.ftype.is_numeric()
                && !matches!(field.name.as_str(), "id" | "sequence" | "color")
            {
                "sum".into()
            } else {
                return Ok(None);
            }
        }
        None => {
            return Err(OdooError::value(format!(
                "Invalid aggregate specification {}",
                py_str(spec)
            )));
        }
    };
    Ok(Some(AggSpec {
        key: spec.to_string(),
        field: Some(field),
        func,
    }))
}

/// The group key of a record for one spec.
#[derive(Debug, Clone, PartialEq)]
enum GroupKey {
    Empty,
    Id(i64),
    Period(NaiveDate),
    Value(Value),
}

fn period_start(d: NaiveDate, gran: &str) -> NaiveDate {
    match gran {
        "day" => d,
        "week" => add_days(d, -i64::from(d.weekday().num_days_from_monday())),
        "month" => d.with_day(1).unwrap_or(d),
        "quarter" => {
            NaiveDate::from_ymd_opt(d.year(), ((d.month() - 1) / 3) * 3 + 1, 1).unwrap_or(d)
        }
        _ => NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
    }
}

fn period_end(start: NaiveDate, gran: &str) -> NaiveDate {
    match gran {
        "day" => add_days(start, 1),
        "week" => add_days(start, 7),
        "month" => start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(start),
        "quarter" => start
            .checked_add_months(chrono::Months::new(3))
            .unwrap_or(start),
        _ => start
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(start),
    }
}

fn period_label(start: NaiveDate, gran: &str) -> String {
    match gran {
        "day" => start.format("%d %b %Y").to_string(),
        "week" => {
            let iso = start.iso_week();
            format!("W{} {}", iso.week(), iso.year())
        }
        "month" => start.format("%B %Y").to_string(),
        "quarter" => format!("Q{} {}", (start.month() - 1) / 3 + 1, start.year()),
        _ => start.format("%Y").to_string(),
    }
}

struct Grouper<'o, 'a> {
    orm: &'o Orm<'a>,
    model: String,
    tz: String,
}

impl Grouper<'_, '_> {
    fn key(&self, id: i64, g: &GroupSpec) -> GroupKey {
        let raw = self.orm.get(&self.model, id, &g.field.storage);
        match (g.field.ftype, &g.granularity) {
            (FieldType::Many2one, _) => as_id(&raw).map_or(GroupKey::Empty, GroupKey::Id),
            (FieldType::Date, Some(gran)) => raw
                .as_str()
                .and_then(parse_date)
                .map_or(GroupKey::Empty, |d| GroupKey::Period(period_start(d, gran))),
            (FieldType::Datetime, Some(gran)) => {
                raw.as_str()
                    .and_then(parse_datetime)
                    .map_or(GroupKey::Empty, |utc| {
                        let local = add_secs(utc, utc_offset(&self.tz, utc));
                        GroupKey::Period(period_start(local.date(), gran))
                    })
            }
            _ => match raw {
                Value::Null => GroupKey::Empty,
                Value::Array(ref a) if a.is_empty() => GroupKey::Empty,
                other => GroupKey::Value(other),
            },
        }
    }

    /// `(from, to)` wire values of a period.
    fn bounds(&self, g: &GroupSpec, start: NaiveDate) -> (String, String) {
        let gran = g.granularity.as_deref().unwrap_or("month");
        let end = period_end(start, gran);
        if g.field.ftype == FieldType::Datetime {
            let s = local_to_utc(&self.tz, start.and_hms_opt(0, 0, 0).unwrap_or_default());
            let e = local_to_utc(&self.tz, end.and_hms_opt(0, 0, 0).unwrap_or_default());
            (fmt_datetime(s), fmt_datetime(e))
        } else {
            (fmt_date(start), fmt_date(end))
        }
    }

    /// Conditions selecting a group, one item per condition (date groups give two).
    fn conditions(&self, g: &GroupSpec, key: &GroupKey) -> Vec<Value> {
        let name = &g.field.name;
        match key {
            GroupKey::Empty => vec![json!([name, "=", false])],
            GroupKey::Id(i) => vec![json!([name, "=", i])],
            GroupKey::Value(v) => vec![json!([name, "=", v])],
            GroupKey::Period(start) => {
                let (from, to) = self.bounds(g, *start);
                vec![json!([name, ">=", from]), json!([name, "<", to])]
            }
        }
    }

    fn cmp_keys(&self, g: &GroupSpec, a: &GroupKey, b: &GroupKey) -> Ordering {
        match (a, b) {
            (GroupKey::Empty, GroupKey::Empty) => Ordering::Equal,
            (GroupKey::Empty, _) => Ordering::Greater,
            (_, GroupKey::Empty) => Ordering::Less,
            (GroupKey::Id(x), GroupKey::Id(y)) => {
                let comodel = g.field.relation.as_deref().unwrap_or_default();
                let order = self.orm.meta(comodel).map_or("id", |m| m.order);
                let mut pair = [*x, *y];
                self.orm.sort_ids(comodel, &mut pair, order);
                if x == y {
                    Ordering::Equal
                } else if pair[0] == *x {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (GroupKey::Period(x), GroupKey::Period(y)) => x.cmp(y),
            (GroupKey::Value(x), GroupKey::Value(y)) => match (x, y) {
                (Value::Number(p), Value::Number(q)) => p
                    .as_f64()
                    .partial_cmp(&q.as_f64())
                    .unwrap_or(Ordering::Equal),
                (Value::String(p), Value::String(q)) => p.cmp(q),
                (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
                _ => Ordering::Equal,
            },
            _ => Ordering::Equal,
        }
    }

    fn aggregate(&self, ids: &[i64], agg: &AggSpec) -> Value {
        let Some(field) = agg.field else {
            return json!(ids.len());
        };
        let values: Vec<Value> = ids
            .iter()
            .map(|&i| self.orm.get(&self.model, i, &field.storage))
            .collect();
        let nums = || {
            values
                .iter()
                .filter_map(|v| v.as_f64())
                .collect::<Vec<f64>>()
        };
        let clean = |x: f64| (x * 1_000_000.0).round() / 1_000_000.0;
        match agg.func.as_str() {
            "sum" => {
                let s: f64 = nums().iter().sum();
                if field.ftype == FieldType::Integer {
                    json!(s as i64)
                } else {
                    float(clean(s))
                }
            }
            "avg" => {
                let n = nums();
                if n.is_empty() {
                    Value::Bool(false)
                } else {
                    float(clean(n.iter().sum::<f64>() / n.len() as f64))
                }
            }
            "min" | "max" => {
                let mut present: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
                present.sort_by(|a, b| match (a, b) {
                    (Value::Number(x), Value::Number(y)) => x
                        .as_f64()
                        .partial_cmp(&y.as_f64())
                        .unwrap_or(Ordering::Equal),
                    (Value::String(x), Value::String(y)) => x.cmp(y),
                    _ => Ordering::Equal,
                });
                let pick = if agg.func == "min" {
                    present.first()
                } else {
                    present.last()
                };
                pick.map_or(Value::Bool(false), |v| {
                    self.orm.format(field, (*v).clone(), Load::Raw)
                })
            }
            "count" => json!(values.iter().filter(|v| !v.is_null()).count()),
            "count_distinct" => {
                let mut seen: Vec<&Value> = Vec::new();
                for v in values.iter().filter(|v| !v.is_null()) {
                    if !seen.contains(&v) {
                        seen.push(v);
                    }
                }
                json!(seen.len())
            }
            "array_agg" => Value::Array(
                values
                    .into_iter()
                    .map(|v| self.orm.format(field, v, Load::Raw))
                    .collect(),
            ),
            "bool_and" => json!(values.iter().all(|v| v == &Value::Bool(true))),
            "bool_or" => json!(values.iter().any(|v| v == &Value::Bool(true))),
            _ => Value::Bool(false),
        }
    }

    fn group_value(&self, g: &GroupSpec, key: &GroupKey, legacy: bool) -> Value {
        match key {
            GroupKey::Empty => Value::Bool(false),
            GroupKey::Id(i) => {
                let comodel = g.field.relation.as_deref().unwrap_or_default();
                self.orm.m2o(comodel, Some(*i), Load::Classic)
            }
            GroupKey::Period(start) => {
                let label = period_label(*start, g.granularity.as_deref().unwrap_or("month"));
                if legacy {
                    json!(label)
                } else {
                    let (from, _) = self.bounds(g, *start);
                    json!([from, label])
                }
            }
            GroupKey::Value(v) => self.orm.format(g.field, v.clone(), Load::Classic),
        }
    }
}

struct Group {
    keys: Vec<GroupKey>,
    ids: Vec<i64>,
}

fn build_groups(grouper: &Grouper<'_, '_>, ids: &[i64], specs: &[GroupSpec]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for &id in ids {
        let keys: Vec<GroupKey> = specs.iter().map(|g| grouper.key(id, g)).collect();
        match groups.iter_mut().find(|g| g.keys == keys) {
            Some(g) => g.ids.push(id),
            None => groups.push(Group {
                keys,
                ids: vec![id],
            }),
        }
    }
    groups
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn and_all(items: Vec<Value>) -> Value {
    let mut out = Vec::new();
    for _ in 1..items.len() {
        out.push(json!("&"));
    }
    out.extend(items);
    Value::Array(out)
}

/// Sorts groups by an order clause naming groupby specs or aggregates.
fn sort_groups(
    grouper: &Grouper<'_, '_>,
    groups: &mut [Group],
    specs: &[GroupSpec],
    order: Option<&str>,
    aggregates: &[AggSpec],
) {
    let terms = order.map(parse_order).unwrap_or_default();
    groups.sort_by(|a, b| {
        for t in &terms {
            let ord = if let Some(i) = specs
                .iter()
                .position(|s| s.spec == t.field || s.field.name == t.field)
            {
                grouper.cmp_keys(&specs[i], &a.keys[i], &b.keys[i])
            } else if let Some(agg) = aggregates.iter().find(|x| x.key == t.field) {
                let x = grouper.aggregate(&a.ids, agg);
                let y = grouper.aggregate(&b.ids, agg);
                x.as_f64()
                    .partial_cmp(&y.as_f64())
                    .unwrap_or(Ordering::Equal)
            } else if t.field == "__count" {
                a.ids.len().cmp(&b.ids.len())
            } else {
                Ordering::Equal
            };
            let ord = if t.desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        for (i, s) in specs.iter().enumerate() {
            let ord = grouper.cmp_keys(s, &a.keys[i], &b.keys[i]);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

fn tz_of(orm: &Orm<'_>) -> String {
    orm.ctx
        .context
        .get("tz")
        .and_then(Value::as_str)
        .unwrap_or("UTC")
        .to_string()
}

fn usize_arg(v: Option<&Value>) -> Option<usize> {
    v.and_then(Value::as_u64).map(|n| n as usize)
}

/// `formatted_read_group(domain, groupby, aggregates, having, offset, limit, order)`.
pub(crate) fn formatted_read_group(
    orm: &Orm<'_>,
    model: &str,
    args: &Map<String, Value>,
) -> OdooResult<Value> {
    let domain = args.get("domain").cloned().unwrap_or(json!([]));
    let specs = strings(args.get("groupby"))
        .iter()
        .map(|s| parse_group(orm, model, s))
        .collect::<OdooResult<Vec<_>>>()?;
    let aggregates: Vec<AggSpec> = strings(args.get("aggregates"))
        .iter()
        .filter_map(|s| parse_agg(orm, model, s, false).transpose())
        .collect::<OdooResult<Vec<_>>>()?;
    let ids = orm.search(model, &domain, Some("id"), 0, None)?;
    let grouper = Grouper {
        orm,
        model: model.to_string(),
        tz: tz_of(orm),
    };
    let mut groups = build_groups(&grouper, &ids, &specs);
    let order = args.get("order").and_then(Value::as_str);
    sort_groups(&grouper, &mut groups, &specs, order, &aggregates);
    let mut rows = Vec::new();
    for g in &groups {
        let mut row = Map::new();
        let mut conds = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            row.insert(s.spec.clone(), grouper.group_value(s, &g.keys[i], false));
            conds.extend(grouper.conditions(s, &g.keys[i]));
        }
        row.insert("__extra_domain".into(), and_all(conds));
        for a in &aggregates {
            row.insert(a.key.clone(), grouper.aggregate(&g.ids, a));
        }
        rows.push(row);
    }
    if let Some(Value::Array(having)) = args.get("having") {
        rows.retain(|row| {
            having
                .iter()
                .all(|leaf| match leaf.as_array().map(Vec::as_slice) {
                    Some([Value::String(k), Value::String(op), v]) => {
                        let current = row.get(k).cloned().unwrap_or(Value::Null);
                        let (a, b) = (current.as_f64(), v.as_f64());
                        match (a, b, op.as_str()) {
                            (Some(a), Some(b), "=") => a == b,
                            (Some(a), Some(b), "!=") => a != b,
                            (Some(a), Some(b), ">") => a > b,
                            (Some(a), Some(b), ">=") => a >= b,
                            (Some(a), Some(b), "<") => a < b,
                            (Some(a), Some(b), "<=") => a <= b,
                            _ => true,
                        }
                    }
                    _ => true,
                })
        });
    }
    let offset = usize_arg(args.get("offset")).unwrap_or(0);
    let limit = usize_arg(args.get("limit"));
    let rows: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(Value::Object)
        .collect();
    Ok(Value::Array(rows))
}

/// The deprecated `read_group(domain, fields, groupby, offset, limit, orderby, lazy)`.
pub(crate) fn read_group(
    orm: &Orm<'_>,
    model: &str,
    args: &Map<String, Value>,
) -> OdooResult<Value> {
    let domain = args.get("domain").cloned().unwrap_or(json!([]));
    let mut all_specs = strings(args.get("groupby"));
    let lazy = !matches!(args.get("lazy"), Some(Value::Bool(false)));
    let rest: Vec<String> = if lazy && all_specs.len() > 1 {
        all_specs.split_off(1)
    } else {
        Vec::new()
    };
    let specs = all_specs
        .iter()
        .map(|s| parse_group(orm, model, s))
        .collect::<OdooResult<Vec<_>>>()?;
    let mut aggregates: Vec<AggSpec> = Vec::new();
    for f in strings(args.get("fields")) {
        let base = f.split(':').next().unwrap_or_default().to_string();
        if specs.iter().any(|s| s.field.name == base) {
            continue;
        }
        if let Some(mut a) = parse_agg(orm, model, &f, true)? {
            a.key = base;
            aggregates.push(a);
        }
    }
    let ids = orm.search(model, &domain, Some("id"), 0, None)?;
    let grouper = Grouper {
        orm,
        model: model.to_string(),
        tz: tz_of(orm),
    };
    let mut groups = build_groups(&grouper, &ids, &specs);
    let order = args.get("orderby").and_then(Value::as_str);
    sort_groups(&grouper, &mut groups, &specs, order, &aggregates);
    let v19 = orm.version() >= 19;
    // Each unit is a sequence of domain tokens: a leaf, or a prefix expression.
    let domain_units: Vec<Vec<Value>> = match &domain {
        Value::Array(items) if items.iter().all(Value::is_array) => {
            items.iter().map(|i| vec![i.clone()]).collect()
        }
        Value::Array(items) if items.is_empty() => Vec::new(),
        Value::Array(items) => vec![items.clone()],
        _ => Vec::new(),
    };
    let mut rows = Vec::new();
    for g in &groups {
        let mut row = Map::new();
        let mut units = domain_units.clone();
        let mut ranges = Map::new();
        for (i, s) in specs.iter().enumerate() {
            row.insert(s.spec.clone(), grouper.group_value(s, &g.keys[i], true));
            let conds = grouper.conditions(s, &g.keys[i]);
            if conds.len() > 1 && !v19 {
                let mut unit = vec![json!("&"); conds.len() - 1];
                unit.extend(conds);
                units.push(unit);
            } else {
                units.extend(conds.into_iter().map(|c| vec![c]));
            }
            if let GroupKey::Period(start) = g.keys[i] {
                let (from, to) = grouper.bounds(s, start);
                ranges.insert(s.spec.clone(), json!({"from": from, "to": to}));
            }
        }
        if lazy {
            if let Some(first) = specs.first() {
                row.insert(format!("{}_count", first.field.name), json!(g.ids.len()));
            }
        } else {
            row.insert("__count".into(), json!(g.ids.len()));
        }
        for a in &aggregates {
            row.insert(a.key.clone(), grouper.aggregate(&g.ids, a));
        }
        let mut domain_out = vec![json!("&"); units.len().saturating_sub(1)];
        for unit in units {
            domain_out.extend(unit);
        }
        row.insert("__domain".into(), Value::Array(domain_out));
        if !ranges.is_empty() {
            row.insert("__range".into(), Value::Object(ranges));
        }
        if !rest.is_empty() {
            row.insert("__context".into(), json!({"group_by": rest}));
        }
        rows.push(Value::Object(row));
    }
    let offset = usize_arg(args.get("offset")).unwrap_or(0);
    let limit = usize_arg(args.get("limit"));
    Ok(Value::Array(
        rows.into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        parse_datetime(s).unwrap_or_default()
    }

    #[test]
    fn new_york_daylight_saving() {
        assert_eq!(
            utc_offset("America/New_York", dt("2026-10-18 12:00:00")),
            -4 * 3600
        );
        assert_eq!(
            utc_offset("America/New_York", dt("2026-11-08 12:00:00")),
            -5 * 3600
        );
        assert_eq!(
            fmt_datetime(local_to_utc("America/New_York", dt("2026-11-02 00:00:00"))),
            "2026-11-02 05:00:00"
        );
        assert_eq!(
            fmt_datetime(local_to_utc("America/New_York", dt("2026-11-01 00:00:00"))),
            "2026-11-01 04:00:00"
        );
        assert_eq!(
            utc_offset("Europe/Brussels", dt("2026-07-01 00:00:00")),
            2 * 3600
        );
        assert_eq!(utc_offset("Nowhere/Zone", dt("2026-07-01 00:00:00")), 0);
    }

    #[test]
    fn period_labels() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        assert_eq!(
            period_label(period_start(d, "month"), "month"),
            "November 2026"
        );
        assert_eq!(period_label(d, "day"), "23 Nov 2026");
        assert_eq!(
            period_label(period_start(d, "quarter"), "quarter"),
            "Q4 2026"
        );
    }
}
