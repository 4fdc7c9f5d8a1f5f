//! The workflow methods of the contract-to-cash flow: order confirmation (with project
//! creation), invoicing through `sale.advance.payment.inv`, posting, payment registration
//! through `account.payment.register`, and language installation.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Map, Value, json};

use super::compute::{self, date_of, journal_of, move_residual, move_total};
use super::errors::{OdooError, OdooResult};
use super::orm::{Orm, as_id, float, num};
use super::store::{Row, fmt_date};

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(as_id).collect())
        .unwrap_or_default()
}

fn vals(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn or_false(v: Value) -> Value {
    if v.is_null() { Value::Bool(false) } else { v }
}

/// Inserts a row directly (no defaults, no access checks).
fn insert(orm: &mut Orm<'_>, model: &str, values: &[(&str, Value)]) -> i64 {
    let id = orm.db.next_id(model);
    let mut row = Row::new();
    for (k, v) in values {
        row.insert((*k).to_string(), v.clone());
    }
    let now = json!(orm.db.now_text());
    for k in ["create_date", "write_date"] {
        row.entry(k.to_string()).or_insert(now.clone());
    }
    for k in ["create_uid", "write_uid"] {
        row.entry(k.to_string()).or_insert(json!(orm.ctx.uid));
    }
    orm.db.insert(model, id, row);
    id
}

// ---------------------------------------------------------------------- payment terms

fn end_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|first| first.checked_sub_signed(Duration::days(1)))
        .unwrap_or(d)
}

/// Due date of an invoice dated `base` under a payment term (`__due` rule of the term row:
/// `days:N`, `eofm:N` = end of the following month plus N days).
pub(crate) fn due_date(orm: &Orm<'_>, term: Option<i64>, base: NaiveDate) -> NaiveDate {
    let rule = term
        .map(|t| orm.stored("account.payment.term", t, "__due"))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "days:0".into());
    let (kind, n) = rule.split_once(':').unwrap_or(("days", "0"));
    let n: i64 = n.parse().unwrap_or(0);
    match kind {
        "eofm" => {
            let next = end_of_month(base).succ_opt().unwrap_or(base);
            let due = end_of_month(next);
            due.checked_add_signed(Duration::days(n)).unwrap_or(due)
        }
        _ => base.checked_add_signed(Duration::days(n)).unwrap_or(base),
    }
}

fn is_invoice(orm: &Orm<'_>, mv: i64) -> bool {
    matches!(
        orm.stored("account.move", mv, "move_type").as_str(),
        Some(
            "out_invoice"
                | "out_refund"
                | "in_invoice"
                | "in_refund"
                | "out_receipt"
                | "in_receipt"
        )
    )
}

/// Keeps the tax and payment-term lines of an invoice in line with its product lines.
pub(crate) fn sync_dynamic_lines(orm: &mut Orm<'_>, mv: i64) -> OdooResult<()> {
    if !is_invoice(orm, mv) {
        return Ok(());
    }
    let sign = match orm.stored("account.move", mv, "move_type").as_str() {
        Some("out_refund" | "in_invoice" | "in_receipt") => -1.0,
        _ => 1.0,
    };
    let lines = orm.children("account.move.line", "move_id", mv);
    let has_products = lines.iter().any(|&l| {
        matches!(
            orm.stored("account.move.line", l, "display_type").as_str(),
            Some("product") | None
        )
    });
    if !has_products {
        for &l in &lines {
            orm.remove("account.move.line", l);
        }
        return Ok(());
    }
    let mut tax_totals: Vec<(i64, f64)> = Vec::new();
    for &l in &lines {
        if !matches!(
            orm.stored("account.move.line", l, "display_type").as_str(),
            Some("product") | None
        ) {
            continue;
        }
        let subtotal = num(&orm.get("account.move.line", l, "price_subtotal"));
        if let Some(row) = orm.db.row_mut("account.move.line", l) {
            row.insert("balance".into(), float(-sign * subtotal));
        }
        for t in ids(&orm.stored("account.move.line", l, "tax_ids")) {
            let rate = num(&orm.stored("account.tax", t, "amount"));
            let amount = super::orm::money(subtotal * rate / 100.0);
            match tax_totals.iter_mut().find(|(id, _)| *id == t) {
                Some(slot) => slot.1 += amount,
                None => tax_totals.push((t, amount)),
            }
        }
    }
    let move_name = orm.stored("account.move", mv, "name");
    // Tax lines.
    for &l in &lines {
        if orm.stored("account.move.line", l, "display_type").as_str() == Some("tax") {
            let tax = as_id(&orm.stored("account.move.line", l, "tax_line_id"));
            if !tax_totals.iter().any(|(t, a)| Some(*t) == tax && *a != 0.0) {
                orm.remove("account.move.line", l);
            }
        }
    }
    for (tax, amount) in &tax_totals {
        if *amount == 0.0 {
            continue;
        }
        let existing = orm
            .children("account.move.line", "move_id", mv)
            .into_iter()
            .find(|&l| {
                orm.stored("account.move.line", l, "display_type").as_str() == Some("tax")
                    && as_id(&orm.stored("account.move.line", l, "tax_line_id")) == Some(*tax)
            });
        let balance = float(-sign * super::orm::money(*amount));
        let name = orm.stored("account.tax", *tax, "name");
        match existing {
            Some(l) => {
                if let Some(row) = orm.db.row_mut("account.move.line", l) {
                    row.insert("balance".into(), balance);
                }
            }
            None => {
                insert(
                    orm,
                    "account.move.line",
                    &[
                        ("move_id", json!(mv)),
                        ("display_type", json!("tax")),
                        ("name", name),
                        ("tax_line_id", json!(tax)),
                        ("quantity", float(1.0)),
                        ("balance", balance),
                    ],
                );
            }
        }
    }
    // Payment term line.
    let total = move_total(orm, mv);
    let term = as_id(&orm.stored("account.move", mv, "invoice_payment_term_id"));
    let base = date_of(&orm.stored("account.move", mv, "invoice_date")).unwrap_or(orm.db.today());
    let due = if term.is_some() || orm.stored("account.move", mv, "invoice_date_due").is_null() {
        json!(fmt_date(due_date(orm, term, base)))
    } else {
        orm.stored("account.move", mv, "invoice_date_due")
    };
    if let Some(row) = orm.db.row_mut("account.move", mv) {
        row.insert("invoice_date_due".into(), due.clone());
    }
    let existing = orm
        .children("account.move.line", "move_id", mv)
        .into_iter()
        .find(|&l| {
            orm.stored("account.move.line", l, "display_type").as_str() == Some("payment_term")
        });
    let name = match move_name {
        Value::String(s) => json!(s),
        _ => json!(""),
    };
    let values = [
        ("balance", float(sign * total)),
        ("date_maturity", due),
        ("name", name),
    ];
    match existing {
        Some(l) => {
            if let Some(row) = orm.db.row_mut("account.move.line", l) {
                for (k, v) in values {
                    row.insert(k.into(), v);
                }
            }
        }
        None => {
            let mut all = vec![
                ("move_id", json!(mv)),
                ("display_type", json!("payment_term")),
                ("quantity", float(1.0)),
                ("account_type", json!("asset_receivable")),
            ];
            all.extend(values);
            insert(orm, "account.move.line", &all);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------- sale.order

/// `sale.order.action_confirm`: state `sale`, then the service generation of
/// [`service_generation`] for the order lines.
pub(crate) fn action_confirm(orm: &mut Orm<'_>, orders: &[i64]) -> OdooResult<Value> {
    for &o in orders {
        if !matches!(
            orm.stored("sale.order", o, "state").as_str(),
            Some("draft" | "sent")
        ) {
            return Err(OdooError::user(
                "Some orders are not in a state requiring confirmation.",
            ));
        }
    }
    for &o in orders {
        let now = json!(orm.db.now_text());
        orm.set(
            "sale.order",
            o,
            &[("state", json!("sale")), ("date_order", now)],
        );
        let lines = orm.children("sale.order.line", "order_id", o);
        service_generation(orm, &lines)?;
    }
    Ok(json!(true))
}

/// The service tracking of a line's product (`no` without a service product).
fn tracking_of(orm: &Orm<'_>, line: i64) -> String {
    let Some(product) = as_id(&orm.stored("sale.order.line", line, "product_id")) else {
        return "no".into();
    };
    if orm.get("product.product", product, "type").as_str() != Some("service") {
        return "no".into();
    }
    orm.get("product.product", product, "service_tracking")
        .as_str()
        .unwrap_or("no")
        .to_string()
}

fn product_value(orm: &Orm<'_>, line: i64, field: &str) -> Value {
    as_id(&orm.stored("sale.order.line", line, "product_id"))
        .map_or(Value::Null, |p| orm.get("product.product", p, field))
}

fn line_order(orm: &Orm<'_>, line: i64) -> i64 {
    as_id(&orm.stored("sale.order.line", line, "order_id")).unwrap_or(0)
}

fn tracked_in_project(tracking: &str) -> bool {
    matches!(tracking, "project_only" | "task_in_project")
}

/// `sale.order.line._timesheet_service_generation` (sale_project): for service lines of
/// confirmed orders, the project (one per order, or one per order and project template), the
/// task, and the milestone of lines delivered by milestones. Lines that already have their
/// project or task keep them, so that confirming again an order set back to draft creates
/// nothing new.
pub(crate) fn service_generation(orm: &mut Orm<'_>, lines: &[i64]) -> OdooResult<()> {
    let mut lines: Vec<i64> = lines
        .iter()
        .copied()
        .filter(|&l| orm.exists("sale.order.line", l))
        .filter(|&l| {
            tracked_in_project(&tracking_of(orm, l)) || tracking_of(orm, l) == "task_global_project"
        })
        .collect();
    lines.sort_by_key(|&l| (num(&orm.stored("sale.order.line", l, "sequence")) as i64, l));
    // Projects already generated for the orders of these lines, per order (and per template).
    let mut orders: Vec<i64> = lines.iter().map(|&l| line_order(orm, l)).collect();
    orders.sort_unstable();
    orders.dedup();
    let mut by_order: Vec<(i64, i64)> = Vec::new();
    let mut by_template: Vec<((i64, i64), i64)> = Vec::new();
    for &o in &orders {
        for l in orm.children("sale.order.line", "order_id", o) {
            let Some(project) = as_id(&orm.stored("sale.order.line", l, "project_id")) else {
                continue;
            };
            if !tracked_in_project(&tracking_of(orm, l)) {
                continue;
            }
            match as_id(&product_value(orm, l, "project_template_id")) {
                Some(t) => by_template.push(((o, t), project)),
                None => by_order.push((o, project)),
            }
        }
    }
    for &line in &lines {
        let tracking = tracking_of(orm, line);
        if !tracked_in_project(&tracking) {
            continue;
        }
        let order = line_order(orm, line);
        let template = as_id(&product_value(orm, line, "project_template_id"));
        let known = match template {
            Some(t) => by_template
                .iter()
                .find(|(k, _)| *k == (order, t))
                .map(|(_, p)| *p),
            None => by_order.iter().find(|(o, _)| *o == order).map(|(_, p)| *p),
        };
        let mut project = as_id(&orm.stored("sale.order.line", line, "project_id"));
        if project.is_none() {
            match known {
                Some(p) => {
                    orm.set("sale.order.line", line, &[("project_id", json!(p))]);
                    project = Some(p);
                }
                None => {
                    let p = create_project(orm, line)?;
                    if as_id(&orm.stored("sale.order", order, "project_id")).is_none() {
                        orm.set("sale.order", order, &[("project_id", json!(p))]);
                    }
                    match template {
                        Some(t) => by_template.push(((order, t), p)),
                        None => by_order.push((order, p)),
                    }
                    project = Some(p);
                }
            }
        }
        let Some(project) = project else {
            continue;
        };
        if tracking == "task_in_project"
            && as_id(&orm.stored("sale.order.line", line, "task_id")).is_none()
        {
            create_task(orm, line, project)?;
        }
        handle_milestones(orm, line, project)?;
    }
    for &line in &lines {
        if tracking_of(orm, line) != "task_global_project"
            || as_id(&orm.stored("sale.order.line", line, "task_id")).is_some()
        {
            continue;
        }
        let order = line_order(orm, line);
        let project = as_id(&product_value(orm, line, "project_id"))
            .or_else(|| as_id(&orm.stored("sale.order", order, "project_id")));
        if let Some(project) = project
            && num(&orm.stored("sale.order.line", line, "product_uom_qty")) > 0.0
        {
            create_task(orm, line, project)?;
        }
    }
    Ok(())
}

/// `_timesheet_create_project`: the project of a sale line, named after the order (and its
/// customer reference); when the order has a single line tracked in a project, the product is
/// appended; a product with a project template gets a copy of the template instead.
fn create_project(orm: &mut Orm<'_>, line: i64) -> OdooResult<i64> {
    let order = line_order(orm, line);
    let order_name = orm.stored("sale.order", order, "name");
    let order_name = order_name.as_str().unwrap_or_default().to_string();
    let mut name = match orm.stored("sale.order", order, "client_order_ref").as_str() {
        Some(r) if !r.is_empty() => format!("{r} - {order_name}"),
        _ => order_name,
    };
    let partner = orm.stored("sale.order", order, "partner_id");
    let company = orm.stored("sale.order", order, "company_id");
    let template = as_id(&product_value(orm, line, "project_template_id"))
        .filter(|&t| orm.exists("project.project", t));
    let mut values = vals(&[
        ("partner_id", or_false(partner.clone())),
        ("company_id", or_false(company)),
        ("allow_billable", json!(true)),
        ("active", json!(true)),
    ]);
    let project = match template {
        Some(t) => {
            let template_name = orm.stored("project.project", t, "name");
            name = format!("{name} - {}", template_name.as_str().unwrap_or_default());
            values.insert("name".into(), json!(name));
            copy_project(orm, t, values, line)?
        }
        None => {
            let tracked = orm
                .children("sale.order.line", "order_id", order)
                .into_iter()
                .filter(|&l| {
                    let t = product_value(orm, l, "service_tracking");
                    tracked_in_project(t.as_str().unwrap_or("no"))
                })
                .count();
            if tracked == 1 {
                let product = product_value(orm, line, "name");
                let product = product.as_str().unwrap_or_default();
                name = match product_value(orm, line, "default_code").as_str() {
                    Some(code) if !code.is_empty() => format!("{name} - [{code}] {product}"),
                    _ => format!("{name} - {product}"),
                };
            }
            values.insert("name".into(), json!(name));
            values.insert("allow_timesheets".into(), json!(true));
            orm.sudo(|orm| orm.create("project.project", &values))?
        }
    };
    orm.set(
        "project.project",
        project,
        &[
            ("sale_line_id", json!(line)),
            ("sale_order_id", json!(order)),
            ("reinvoiced_sale_order_id", json!(order)),
        ],
    );
    orm.set("sale.order.line", line, &[("project_id", json!(project))]);
    Ok(project)
}

/// A copy of a template project (`project.copy` / `action_create_from_template`): its settings,
/// stages, tasks and milestones; the tasks are linked to the sale line and its customer.
fn copy_project(
    orm: &mut Orm<'_>,
    template: i64,
    values: Map<String, Value>,
    line: i64,
) -> OdooResult<i64> {
    let mut copied = Map::new();
    for field in [
        "allow_timesheets",
        "allow_milestones",
        "privacy_visibility",
        "type_ids",
        "user_id",
        "description",
        "billing_type",
    ] {
        let v = orm.stored("project.project", template, field);
        if !v.is_null() {
            copied.insert(field.to_string(), v);
        }
    }
    if let Some(Value::Array(stages)) = copied.remove("type_ids") {
        copied.insert("type_ids".into(), json!([[6, 0, stages]]));
    }
    copied.extend(values);
    if orm.field("project.project", "is_template").is_some() {
        copied.insert("is_template".into(), json!(false));
    }
    copied.retain(|k, _| orm.field("project.project", k).is_some());
    let project = orm.sudo(|orm| orm.create("project.project", &copied))?;
    let order = line_order(orm, line);
    let partner = orm.stored("sale.order", order, "partner_id");
    for task in orm.children("project.task", "project_id", template) {
        let Some(row) = orm.row("project.task", task).cloned() else {
            continue;
        };
        let mut row = row;
        for k in ["create_date", "write_date", "create_uid", "write_uid"] {
            row.remove(k);
        }
        row.insert("project_id".into(), json!(project));
        row.insert("sale_line_id".into(), json!(line));
        row.insert("sale_order_id".into(), json!(order));
        row.insert("partner_id".into(), partner.clone());
        row.remove("milestone_id");
        let pairs: Vec<(String, Value)> = row.into_iter().collect();
        let refs: Vec<(&str, Value)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        insert(orm, "project.task", &refs);
    }
    for milestone in orm.children("project.milestone", "project_id", template) {
        let name = orm.stored("project.milestone", milestone, "name");
        let deadline = orm.stored("project.milestone", milestone, "deadline");
        insert(
            orm,
            "project.milestone",
            &[
                ("name", name),
                ("project_id", json!(project)),
                ("deadline", deadline),
                ("is_reached", json!(false)),
                ("quantity_percentage", float(0.0)),
                ("product_uom_qty", float(0.0)),
            ],
        );
    }
    Ok(project)
}

/// `_timesheet_create_task`: the task of a sale line in `project`, named as
/// `_timesheet_create_task_prepare_values` names it.
fn create_task(orm: &mut Orm<'_>, line: i64, project: i64) -> OdooResult<i64> {
    let order = line_order(orm, line);
    let order_name = orm.stored("sale.order", order, "name");
    let order_name = order_name.as_str().unwrap_or_default().to_string();
    let partner = orm.stored("sale.order", order, "partner_id");
    let line_name = orm.stored("sale.order.line", line, "name");
    let line_name = line_name.as_str().unwrap_or_default().to_string();
    let product = as_id(&orm.stored("sale.order.line", line, "product_id"));
    let product_display = product
        .map(|p| orm.display_name("product.product", p))
        .unwrap_or_default();
    let title = if orm.version() >= 19 {
        let mut parts: Vec<&str> = line_name.split('\n').collect();
        if parts.first() == Some(&product_display.as_str()) {
            parts.remove(0);
        }
        match parts.as_slice() {
            [only] if !only.is_empty() => (*only).to_string(),
            _ => product_display.clone(),
        }
    } else {
        match line_name.split('\n').next() {
            Some(first) if !first.is_empty() => first.to_string(),
            _ => product_value(orm, line, "name")
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    };
    let name = if orm
        .stored("project.project", project, "sale_line_id")
        .is_null()
    {
        format!("{order_name} - {title}")
    } else {
        title
    };
    let allocated = if product_value(orm, line, "service_type").as_str() == Some("milestones") {
        0.0
    } else {
        company_hours(orm, line)
    };
    let company = orm.stored("project.project", project, "company_id");
    let task = orm.sudo(|orm| {
        orm.create(
            "project.task",
            &vals(&[
                ("name", json!(name)),
                ("project_id", json!(project)),
                ("partner_id", or_false(partner)),
                ("allocated_hours", float(allocated)),
                ("company_id", or_false(company)),
            ]),
        )
    })?;
    orm.set(
        "project.task",
        task,
        &[
            ("sale_line_id", json!(line)),
            ("sale_order_id", json!(order)),
            ("user_ids", json!([])),
        ],
    );
    orm.set("sale.order.line", line, &[("task_id", json!(task))]);
    Ok(task)
}

/// `_convert_qty_company_hours` (sale_timesheet): the ordered quantity in hours when the unit
/// is a time unit, as is otherwise.
fn company_hours(orm: &Orm<'_>, line: i64) -> f64 {
    let qty = num(&orm.stored("sale.order.line", line, "product_uom_qty"));
    let uom = as_id(&orm.stored("sale.order.line", line, "product_uom_id"));
    match uom {
        Some(u @ (4 | 5)) => {
            let factor = num(&orm.stored("uom.uom", u, "relative_factor"));
            qty * if factor > 0.0 { factor } else { 1.0 }
        }
        _ => qty,
    }
}

/// `_handle_milestones` / `_generate_milestone`: a line delivered by milestones takes the
/// project's milestones that belong to no line (copied from a template), or gets one milestone
/// of 100 % named after it (linked to its task for `task_in_project`). A line that already has
/// milestones gets none.
fn handle_milestones(orm: &mut Orm<'_>, line: i64, project: i64) -> OdooResult<()> {
    if product_value(orm, line, "service_policy").as_str() != Some("delivered_milestones") {
        return Ok(());
    }
    if !orm
        .children("project.milestone", "sale_line_id", line)
        .is_empty()
    {
        return Ok(());
    }
    let line_project = as_id(&orm.stored("sale.order.line", line, "project_id"))
        .or_else(|| as_id(&orm.stored("sale.order", line_order(orm, line), "project_id")))
        .unwrap_or(project);
    orm.set(
        "project.project",
        line_project,
        &[("allow_milestones", json!(true))],
    );
    let free: Vec<i64> = orm
        .children("project.milestone", "project_id", project)
        .into_iter()
        .filter(|&m| orm.stored("project.milestone", m, "sale_line_id").is_null())
        .collect();
    if !free.is_empty() {
        let qty = num(&orm.stored("sale.order.line", line, "product_uom_qty"));
        let n = free.len() as f64;
        for m in free {
            orm.set(
                "project.milestone",
                m,
                &[
                    ("sale_line_id", json!(line)),
                    ("product_uom_qty", float(qty / n)),
                    ("quantity_percentage", float(1.0 / n)),
                ],
            );
        }
        return Ok(());
    }
    let name = orm.stored("sale.order.line", line, "name");
    let milestone = orm.sudo(|orm| {
        orm.create(
            "project.milestone",
            &vals(&[("name", name), ("project_id", json!(line_project))]),
        )
    })?;
    let qty = num(&orm.stored("sale.order.line", line, "product_uom_qty"));
    orm.set(
        "project.milestone",
        milestone,
        &[
            ("sale_line_id", json!(line)),
            ("quantity_percentage", float(1.0)),
            ("product_uom_qty", float(qty)),
        ],
    );
    if tracking_of(orm, line) == "task_in_project"
        && let Some(task) = as_id(&orm.stored("sale.order.line", line, "task_id"))
    {
        orm.set("project.task", task, &[("milestone_id", json!(milestone))]);
    }
    Ok(())
}

/// `sale.order.action_cancel`.
pub(crate) fn order_cancel(orm: &mut Orm<'_>, orders: &[i64]) -> OdooResult<Value> {
    for &o in orders {
        let invoiced = compute::computed(orm, "sale.order", o, "invoice_ids")
            .map(|v| ids(&v))
            .unwrap_or_default()
            .into_iter()
            .any(|m| orm.stored("account.move", m, "state").as_str() == Some("posted"));
        if invoiced {
            return Err(OdooError::user(
                "You cannot cancel a sales order that has posted invoices.",
            ));
        }
        orm.set("sale.order", o, &[("state", json!("cancel"))]);
    }
    Ok(json!(true))
}

/// `sale.order.action_draft`.
pub(crate) fn order_draft(orm: &mut Orm<'_>, orders: &[i64]) -> OdooResult<Value> {
    for &o in orders {
        if matches!(
            orm.stored("sale.order", o, "state").as_str(),
            Some("cancel" | "sent")
        ) {
            orm.set("sale.order", o, &[("state", json!("draft"))]);
        }
    }
    Ok(json!(true))
}

// ---------------------------------------------------------------------- invoicing

fn invoice_action(orm: &Orm<'_>, moves: &[i64]) -> Value {
    let first = moves.first().copied().unwrap_or(0);
    let partner = orm.stored("account.move", first, "partner_id");
    let term = orm.stored("account.move", first, "invoice_payment_term_id");
    let origin = orm.stored("account.move", first, "invoice_origin");
    let mut action = json!({
        "id": 262,
        "display_name": "Invoices",
        "name": "Invoices",
        "type": "ir.actions.act_window",
        "xml_id": "account.action_move_out_invoice_type",
        "path": "invoicing",
        "help": "<p class=\"o_view_nocontent_smiling_face\">\n                Create a customer invoice\n              </p><p>\n                Create invoices, register payments and keep track of the discussions with your customers.\n              </p>\n            ",
        "binding_model_id": false,
        "binding_type": "action",
        "binding_view_types": "list,form",
        "view_id": [747, "account.out.invoice.list"],
        "domain": "[('move_type', 'in', ['out_invoice', 'out_refund', 'out_receipt'])]",
        "context": {
            "default_move_type": "out_invoice",
            "default_partner_id": or_false(partner.clone()),
            "default_partner_shipping_id": or_false(partner),
            "default_invoice_payment_term_id": or_false(term),
            "default_invoice_origin": or_false(origin),
        },
        "res_model": "account.move",
        "target": "current",
        "view_mode": "list,kanban,form,activity",
        "mobile_view_mode": "kanban",
        "views": [[753, "form"], [747, "list"], [false, "kanban"], [false, "activity"]],
        "limit": 80,
        "group_ids": [],
        "search_view_id": [756, "account.invoice.select"],
        "embedded_action_ids": [],
        "filter": false,
        "cache": true,
    });
    if let Some(obj) = action.as_object_mut() {
        if orm.version() < 19 {
            obj.remove("cache");
            obj.remove("group_ids");
            obj.insert("groups_id".into(), json!([]));
            obj.insert("id".into(), json!(263));
            obj.insert("view_id".into(), json!([720, "account.out.invoice.list"]));
            obj.insert(
                "search_view_id".into(),
                json!([730, "account.invoice.select"]),
            );
            obj.insert(
                "views".into(),
                json!([
                    [727, "form"],
                    [720, "list"],
                    [false, "kanban"],
                    [false, "activity"]
                ]),
            );
            obj.insert(
                "domain".into(),
                json!("[('move_type', 'in', ['out_invoice', 'out_refund'])]"),
            );
        }
        if moves.len() == 1 {
            obj.insert("res_id".into(), json!(first));
        } else {
            obj.insert("domain".into(), json!([["id", "in", moves]]));
        }
    }
    action
}

/// A line to invoice: sale line, quantity, unit price, discount, taxes, label.
type InvoiceLine = (Option<i64>, f64, f64, f64, Vec<i64>, Value);

/// `sale.advance.payment.inv.create_invoices`: one draft customer invoice per order.
pub(crate) fn create_invoices(orm: &mut Orm<'_>, wizards: &[i64]) -> OdooResult<Value> {
    let mut moves = Vec::new();
    for &w in wizards {
        let mut orders = ids(&orm.stored("sale.advance.payment.inv", w, "sale_order_ids"));
        if orders.is_empty() {
            orders = orm
                .ctx
                .context
                .get("active_ids")
                .map(ids)
                .unwrap_or_default();
        }
        let method = orm.stored("sale.advance.payment.inv", w, "advance_payment_method");
        let method = method.as_str().unwrap_or("delivered").to_string();
        for o in orders {
            orm.ensure_exist("sale.order", &[o])?;
            if orm.stored("sale.order", o, "state").as_str() != Some("sale") {
                return Err(OdooError::user(
                    "You may only invoice confirmed sales orders.",
                ));
            }
            let mut lines: Vec<InvoiceLine> = Vec::new();
            if method == "delivered" {
                for l in orm.children("sale.order.line", "order_id", o) {
                    let qty = num(&orm.get("sale.order.line", l, "qty_to_invoice"));
                    if qty <= 0.0 {
                        continue;
                    }
                    lines.push((
                        Some(l),
                        qty,
                        num(&orm.stored("sale.order.line", l, "price_unit")),
                        num(&orm.stored("sale.order.line", l, "discount")),
                        ids(&orm.stored("sale.order.line", l, "tax_ids")),
                        orm.stored("sale.order.line", l, "name"),
                    ));
                }
                if lines.is_empty() {
                    return Err(OdooError::user(
                        "Cannot create an invoice. No items are available to invoice.\n\nTo resolve this issue, please ensure that:\n   \u{2022} The products have been delivered before attempting to invoice them.\n   \u{2022} The invoicing policy of the product is configured correctly.\n\nIf you want to invoice based on ordered quantities instead:\n   \u{2022} For consumable or storable products, open the product, go to the 'General Information' tab and change the 'Invoicing Policy' from 'Delivered Quantities' to 'Ordered Quantities'.\n   \u{2022} For services (and other products), change the 'Invoicing Policy' to 'Prepaid/Fixed Price'.\n",
                    ));
                }
            } else {
                let untaxed = num(&orm.get("sale.order", o, "amount_untaxed"));
                let amount = if method == "percentage" {
                    super::orm::money(
                        untaxed * num(&orm.stored("sale.advance.payment.inv", w, "amount")) / 100.0,
                    )
                } else {
                    num(&orm.stored("sale.advance.payment.inv", w, "fixed_amount"))
                };
                if amount <= 0.0 {
                    return Err(OdooError::user(
                        "The value of the down payment amount must be positive.",
                    ));
                }
                lines.push((None, 1.0, amount, 0.0, Vec::new(), json!("Down Payment")));
            }
            let partner = orm.stored("sale.order", o, "partner_invoice_id");
            let partner = if partner.is_null() {
                orm.stored("sale.order", o, "partner_id")
            } else {
                partner
            };
            let mut move_vals = vals(&[
                ("move_type", json!("out_invoice")),
                ("partner_id", or_false(partner)),
                (
                    "invoice_origin",
                    or_false(orm.stored("sale.order", o, "name")),
                ),
                (
                    "invoice_payment_term_id",
                    or_false(orm.stored("sale.order", o, "payment_term_id")),
                ),
                (
                    "company_id",
                    or_false(orm.stored("sale.order", o, "company_id")),
                ),
                (
                    "currency_id",
                    or_false(orm.stored("sale.order", o, "currency_id")),
                ),
            ]);
            if let Value::String(r) = orm.stored("sale.order", o, "client_order_ref") {
                move_vals.insert("ref".into(), json!(r));
            }
            let mv = orm.sudo(|orm| orm.create("account.move", &move_vals))?;
            // sale_timesheet's `_link_timesheets_to_invoice`: the timesheets of the invoiced
            // lines delivered by timesheets, not invoiced yet, now belong to this invoice.
            for l in lines.iter().filter_map(|line| line.0) {
                if orm
                    .stored("sale.order.line", l, "qty_delivered_method")
                    .as_str()
                    != Some("timesheet")
                {
                    continue;
                }
                for t in orm.children("account.analytic.line", "so_line", l) {
                    let invoiced = orm.stored("account.analytic.line", t, "timesheet_invoice_id");
                    let on_project = !orm
                        .stored("account.analytic.line", t, "project_id")
                        .is_null();
                    if invoiced.is_null() && on_project {
                        orm.set(
                            "account.analytic.line",
                            t,
                            &[("timesheet_invoice_id", json!(mv))],
                        );
                    }
                }
            }
            for (sale_line, qty, price, discount, taxes, name) in lines {
                let product = sale_line
                    .map(|l| orm.stored("sale.order.line", l, "product_id"))
                    .unwrap_or(Value::Null);
                let uom = sale_line
                    .map(|l| orm.stored("sale.order.line", l, "product_uom_id"))
                    .unwrap_or(Value::Null);
                insert(
                    orm,
                    "account.move.line",
                    &[
                        ("move_id", json!(mv)),
                        ("display_type", json!("product")),
                        ("product_id", product),
                        ("product_uom_id", uom),
                        ("name", name),
                        ("quantity", float(qty)),
                        ("price_unit", float(price)),
                        ("discount", float(discount)),
                        ("tax_ids", json!(taxes)),
                        (
                            "sale_line_ids",
                            json!(sale_line.into_iter().collect::<Vec<_>>()),
                        ),
                    ],
                );
            }
            sync_dynamic_lines(orm, mv)?;
            moves.push(mv);
        }
    }
    Ok(invoice_action(orm, &moves))
}

fn sequence_prefix(orm: &Orm<'_>, mv: i64) -> String {
    let journal = as_id(&orm.stored("account.move", mv, "journal_id"));
    let code = journal
        .map(|j| orm.stored("account.journal", j, "code"))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "MISC".into());
    match orm.stored("account.move", mv, "move_type").as_str() {
        Some("out_refund" | "in_refund") => format!("R{code}"),
        _ => code,
    }
}

/// `account.move.action_post`.
pub(crate) fn action_post(orm: &mut Orm<'_>, moves: &[i64]) -> OdooResult<Value> {
    for &mv in moves {
        let state = orm.stored("account.move", mv, "state");
        if state.as_str() == Some("posted") {
            let name = orm.display_name("account.move", mv);
            return Err(OdooError::user(format!(
                "The entry {name} (id {mv}) is already posted."
            )));
        }
        if state.as_str() == Some("cancel") {
            return Err(OdooError::user("You can't post a cancelled entry."));
        }
        if orm.children("account.move.line", "move_id", mv).is_empty() {
            return Err(OdooError::user("You need to add a line before posting."));
        }
    }
    for &mv in moves {
        let invoice = is_invoice(orm, mv);
        let today = orm.db.today();
        let date = if invoice {
            let d = date_of(&orm.stored("account.move", mv, "invoice_date")).unwrap_or(today);
            orm.set(
                "account.move",
                mv,
                &[
                    ("invoice_date", json!(fmt_date(d))),
                    ("date", json!(fmt_date(d))),
                ],
            );
            d
        } else {
            date_of(&orm.stored("account.move", mv, "date")).unwrap_or(today)
        };
        let name = orm.stored("account.move", mv, "name");
        if name.as_str().is_none_or(|n| n.is_empty() || n == "/") {
            let prefix = sequence_prefix(orm, mv);
            let journal = as_id(&orm.stored("account.move", mv, "journal_id")).unwrap_or(0);
            let key = format!("{prefix}/{}", date.year());
            let n = orm.db.next_number(&format!("{journal}:{key}"));
            orm.set(
                "account.move",
                mv,
                &[("name", json!(format!("{key}/{n:05}")))],
            );
        }
        orm.set("account.move", mv, &[("state", json!("posted"))]);
        sync_dynamic_lines(orm, mv)?;
    }
    Ok(json!(false))
}

/// `account.move.button_draft`.
pub(crate) fn button_draft(orm: &mut Orm<'_>, moves: &[i64]) -> OdooResult<Value> {
    for &mv in moves {
        if num(&orm.stored("account.move", mv, "__paid")) > 0.0 {
            return Err(OdooError::user(
                "You cannot reset to draft an entry having a reconciled payment.",
            ));
        }
        orm.set("account.move", mv, &[("state", json!("draft"))]);
    }
    Ok(json!(false))
}

/// `account.move.button_cancel`.
pub(crate) fn button_cancel(orm: &mut Orm<'_>, moves: &[i64]) -> OdooResult<Value> {
    for &mv in moves {
        if orm.stored("account.move", mv, "state").as_str() == Some("posted") {
            return Err(OdooError::user(
                "Only draft journal entries can be cancelled.",
            ));
        }
        orm.set("account.move", mv, &[("state", json!("cancel"))]);
    }
    Ok(json!(false))
}

// ---------------------------------------------------------------------- payments

fn bank_method_line(orm: &Orm<'_>, journal: Option<i64>, payment_type: &str) -> Value {
    orm.db
        .ids("account.payment.method.line")
        .into_iter()
        .find(|&m| {
            as_id(&orm.stored("account.payment.method.line", m, "journal_id")) == journal
                && orm
                    .stored("account.payment.method.line", m, "payment_type")
                    .as_str()
                    == Some(payment_type)
        })
        .map_or(Value::Null, |m| json!(m))
}

/// Default values of `account.payment.register`, computed from the context's `active_ids`.
pub(crate) fn payment_register_defaults(orm: &mut Orm<'_>, row: &mut Row) -> OdooResult<()> {
    let active_model = orm
        .ctx
        .context
        .get("active_model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let active = orm
        .ctx
        .context
        .get("active_ids")
        .map(ids)
        .unwrap_or_default();
    let invoices: Vec<i64> = match active_model.as_str() {
        "account.move" => active,
        "account.move.line" => {
            let mut m: Vec<i64> = active
                .iter()
                .filter_map(|&l| as_id(&orm.stored("account.move.line", l, "move_id")))
                .collect();
            m.dedup();
            m
        }
        _ => Vec::new(),
    };
    if invoices.is_empty() {
        return Err(OdooError::user(
            "The register payment wizard should only be called on account.move or account.move.line records.",
        ));
    }
    orm.ensure_exist("account.move", &invoices)?;
    for &mv in &invoices {
        if orm.stored("account.move", mv, "state").as_str() != Some("posted") {
            return Err(OdooError::user(
                "You can only register payment for posted journal entries.",
            ));
        }
        if move_residual(orm, mv) <= 0.0 {
            return Err(OdooError::user(
                "You can't register a payment because there is nothing left to pay on the selected journal items.",
            ));
        }
    }
    let first = invoices[0];
    let company = as_id(&orm.stored("account.move", first, "company_id")).unwrap_or(1);
    let outbound = matches!(
        orm.stored("account.move", first, "move_type").as_str(),
        Some("in_invoice" | "out_refund" | "in_receipt")
    );
    let payment_type = if outbound { "outbound" } else { "inbound" };
    let journal = journal_of(orm, company, "bank");
    let receivable: Vec<i64> = invoices
        .iter()
        .flat_map(|&mv| orm.children("account.move.line", "move_id", mv))
        .filter(|&l| {
            orm.stored("account.move.line", l, "display_type").as_str() == Some("payment_term")
        })
        .collect();
    let amount: f64 = invoices.iter().map(|&mv| move_residual(orm, mv)).sum();
    let names: Vec<String> = invoices
        .iter()
        .filter_map(|&mv| {
            orm.stored("account.move", mv, "name")
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let currency = orm.stored("account.move", first, "currency_id");
    let defaults = [
        ("line_ids", json!(receivable)),
        ("amount", float(super::orm::money(amount))),
        ("source_amount", float(super::orm::money(amount))),
        ("currency_id", currency.clone()),
        ("source_currency_id", currency.clone()),
        ("company_currency_id", currency),
        ("payment_date", json!(fmt_date(orm.db.today()))),
        ("journal_id", journal.map_or(Value::Null, |j| json!(j))),
        (
            "payment_method_line_id",
            bank_method_line(orm, journal, payment_type),
        ),
        ("communication", json!(names.join(" "))),
        (
            "partner_id",
            orm.stored("account.move", first, "partner_id"),
        ),
        ("payment_type", json!(payment_type)),
        (
            "partner_type",
            json!(if matches!(
                orm.stored("account.move", first, "move_type").as_str(),
                Some("in_invoice" | "in_refund")
            ) {
                "supplier"
            } else {
                "customer"
            }),
        ),
        ("company_id", json!(company)),
        ("group_payment", json!(false)),
        ("payment_difference", float(0.0)),
        ("payment_difference_handling", json!("open")),
        ("__invoices", json!(invoices)),
    ];
    for (k, v) in defaults {
        if row.get(k).is_none_or(Value::is_null) {
            row.insert(k.to_string(), v);
        }
    }
    Ok(())
}

/// `account.payment.register.action_create_payments`: one payment, reconciled with the
/// invoices.
pub(crate) fn action_create_payments(orm: &mut Orm<'_>, wizards: &[i64]) -> OdooResult<Value> {
    let mut last = 0;
    for &w in wizards {
        let model = "account.payment.register";
        let invoices = ids(&orm.stored(model, w, "__invoices"));
        for &mv in &invoices {
            if move_residual(orm, mv) <= 0.0 {
                return Err(OdooError::user(
                    "You can't register a payment because there is nothing left to pay on the selected journal items.",
                ));
            }
        }
        let amount = num(&orm.stored(model, w, "amount"));
        let journal = as_id(&orm.stored(model, w, "journal_id"));
        let date = orm.stored(model, w, "payment_date");
        let date_value = date_of(&date).unwrap_or(orm.db.today());
        let code = journal
            .map(|j| orm.stored("account.journal", j, "code"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "BNK1".into());
        let key = format!("P{code}/{}", date_value.year());
        let n = orm
            .db
            .next_number(&format!("{}:{key}", journal.unwrap_or(0)));
        let name = format!("{key}/{n:05}");
        let memo = orm.stored(model, w, "communication");
        let state = if orm.version() >= 18 {
            "paid"
        } else {
            "posted"
        };
        let company = orm.stored(model, w, "company_id");
        let partner = orm.stored(model, w, "partner_id");
        let currency = orm.stored(model, w, "currency_id");
        let payment_type = orm.stored(model, w, "payment_type");
        let payment = insert(
            orm,
            "account.payment",
            &[
                ("name", json!(name.clone())),
                ("state", json!(state)),
                ("payment_type", payment_type),
                ("partner_type", orm.stored(model, w, "partner_type")),
                ("amount", float(amount)),
                ("currency_id", currency.clone()),
                ("date", json!(fmt_date(date_value))),
                ("partner_id", partner.clone()),
                ("journal_id", journal.map_or(Value::Null, |j| json!(j))),
                ("memo", memo.clone()),
                (
                    "payment_method_line_id",
                    orm.stored(model, w, "payment_method_line_id"),
                ),
                ("is_reconciled", json!(true)),
                ("is_matched", json!(false)),
                ("reconciled_invoice_ids", json!(invoices)),
                ("company_id", company.clone()),
            ],
        );
        let entry = insert(
            orm,
            "account.move",
            &[
                ("name", json!(name)),
                ("ref", memo),
                ("move_type", json!("entry")),
                ("state", json!("posted")),
                ("journal_id", journal.map_or(Value::Null, |j| json!(j))),
                ("date", json!(fmt_date(date_value))),
                ("partner_id", partner.clone()),
                ("company_id", company),
                ("currency_id", currency),
                ("payment_state", json!("not_paid")),
                ("origin_payment_id", json!(payment)),
            ],
        );
        for (kind, balance) in [("liquidity", amount), ("receivable", -amount)] {
            insert(
                orm,
                "account.move.line",
                &[
                    ("move_id", json!(entry)),
                    ("display_type", json!("product")),
                    ("name", json!(format!("Payment {kind}"))),
                    ("partner_id", partner.clone()),
                    ("balance", float(balance)),
                    ("quantity", float(0.0)),
                    ("price_unit", float(0.0)),
                    (
                        "account_type",
                        json!(if kind == "liquidity" {
                            "asset_cash"
                        } else {
                            "asset_receivable"
                        }),
                    ),
                ],
            );
        }
        if let Some(row) = orm.db.row_mut("account.payment", payment) {
            row.insert("move_id".into(), json!(entry));
        }
        let mut remaining = amount;
        let mut allocations = Map::new();
        for &mv in &invoices {
            let residual = move_residual(orm, mv);
            let applied = residual.min(remaining);
            remaining -= applied;
            allocations.insert(mv.to_string(), float(applied));
            let paid = num(&orm.stored("account.move", mv, "__paid")) + applied;
            let after = super::orm::money(move_total(orm, mv) - paid);
            let payment_state = if after <= 0.0 { "paid" } else { "partial" };
            orm.set(
                "account.move",
                mv,
                &[
                    ("__paid", float(super::orm::money(paid))),
                    ("payment_state", json!(payment_state)),
                ],
            );
        }
        // What the payment settled on each invoice, so that resetting it to draft unreconciles.
        if let Some(row) = orm.db.row_mut("account.payment", payment) {
            row.insert("__applied".into(), Value::Object(allocations));
        }
        last = payment;
    }
    Ok(json!({
        "name": "Payments",
        "type": "ir.actions.act_window",
        "res_model": "account.payment",
        "context": {"create": false},
        "view_mode": "form",
        "res_id": last,
    }))
}

/// `account.payment.action_post` for payments created directly.
pub(crate) fn payment_post(orm: &mut Orm<'_>, payments: &[i64]) -> OdooResult<Value> {
    for &p in payments {
        if orm.stored("account.payment", p, "state").as_str() != Some("draft") {
            return Err(OdooError::user("Only a draft payment can be posted."));
        }
        let journal = as_id(&orm.stored("account.payment", p, "journal_id"));
        let code = journal
            .map(|j| orm.stored("account.journal", j, "code"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "BNK1".into());
        let year = date_of(&orm.stored("account.payment", p, "date"))
            .unwrap_or(orm.db.today())
            .year();
        let key = format!("P{code}/{year}");
        let n = orm
            .db
            .next_number(&format!("{}:{key}", journal.unwrap_or(0)));
        let state = if orm.version() >= 18 {
            "in_process"
        } else {
            "posted"
        };
        orm.set(
            "account.payment",
            p,
            &[
                ("name", json!(format!("{key}/{n:05}"))),
                ("state", json!(state)),
            ],
        );
    }
    Ok(json!(false))
}

/// `account.payment.action_cancel`.
pub(crate) fn payment_cancel(orm: &mut Orm<'_>, payments: &[i64]) -> OdooResult<Value> {
    let state = if orm.version() >= 18 {
        "canceled"
    } else {
        "cancel"
    };
    for &p in payments {
        orm.set("account.payment", p, &[("state", json!(state))]);
        // Its journal entry is cancelled with it.
        if let Some(entry) = as_id(&orm.stored("account.payment", p, "move_id")) {
            orm.set("account.move", entry, &[("state", json!("cancel"))]);
        }
    }
    Ok(json!(false))
}

/// `account.payment.action_draft`.
///
/// As Odoo does (the payment's entry back to draft removes its reconciliation), the amounts the
/// payment settled are owed again on its invoices.
pub(crate) fn payment_draft(orm: &mut Orm<'_>, payments: &[i64]) -> OdooResult<Value> {
    for &p in payments {
        let applied = orm.stored("account.payment", p, "__applied");
        if let Value::Object(allocations) = applied {
            for (mv, amount) in allocations {
                let Ok(mv) = mv.parse::<i64>() else {
                    continue;
                };
                let paid = (num(&orm.stored("account.move", mv, "__paid")) - num(&amount)).max(0.0);
                let after = super::orm::money(move_total(orm, mv) - paid);
                let payment_state = if paid <= 0.0 {
                    "not_paid"
                } else if after <= 0.0 {
                    "paid"
                } else {
                    "partial"
                };
                orm.set(
                    "account.move",
                    mv,
                    &[
                        ("__paid", float(super::orm::money(paid))),
                        ("payment_state", json!(payment_state)),
                    ],
                );
            }
            if let Some(row) = orm.db.row_mut("account.payment", p) {
                row.remove("__applied");
            }
            orm.set(
                "account.payment",
                p,
                &[("reconciled_invoice_ids", json!([]))],
            );
        }
        orm.set("account.payment", p, &[("state", json!("draft"))]);
    }
    Ok(json!(false))
}

// ---------------------------------------------------------------------- languages

/// `base.language.install.lang_install`: activates the languages.
pub(crate) fn lang_install(orm: &mut Orm<'_>, wizards: &[i64]) -> OdooResult<Value> {
    let mut last = 0;
    for &w in wizards {
        for lang in ids(&orm.stored("base.language.install", w, "lang_ids")) {
            orm.set("res.lang", lang, &[("active", json!(true))]);
        }
        last = w;
    }
    let view = if orm.version() >= 19 { 104 } else { 101 };
    Ok(json!({
        "type": "ir.actions.act_window",
        "res_model": "base.language.install",
        "res_id": last,
        "view_mode": "form",
        "target": "new",
        "views": [[view, "form"]],
    }))
}
