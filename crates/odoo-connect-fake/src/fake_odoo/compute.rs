//! Business rules of the served models: computed fields, display names, creation defaults and
//! the checks Odoo runs around writes and deletions.

use serde_json::{Value, json};

use super::errors::{OdooError, OdooResult};
use super::orm::{Orm, as_id, float, is_empty, money, num};
use super::store::{Row, fmt_date, parse_date};

/// Fields of `product.product` stored on the variant; every other field is read from and
/// written to its `product.template` (Odoo's `_inherits`).
const PRODUCT_OWN: &[&str] = &[
    "id",
    "product_tmpl_id",
    "default_code",
    "barcode",
    "active",
    "create_uid",
    "create_date",
    "write_uid",
    "write_date",
    "display_name",
    "standard_price",
    "lst_price",
    "code",
    "partner_ref",
    "price_extra",
    "combination_indices",
    "product_template_attribute_value_ids",
    "product_template_variant_value_ids",
    "is_product_variant",
];

/// Whether a `product.product` field lives on the template.
pub(crate) fn delegated_to_template(storage: &str) -> bool {
    !PRODUCT_OWN.contains(&storage)
}

/// Fields computed by the fake: values given by clients are ignored, as Odoo ignores writes to
/// computed fields without an inverse.
pub(crate) fn is_computed(model: &str, storage: &str) -> bool {
    if storage == "display_name" {
        return true;
    }
    matches!(
        (model, storage),
        (
            "res.partner",
            "complete_name"
                | "commercial_partner_id"
                | "commercial_company_name"
                | "email_normalized"
                | "credit"
                | "credit_to_invoice"
        ) | (
            "sale.order",
            "amount_untaxed"
                | "amount_tax"
                | "amount_total"
                | "invoice_ids"
                | "invoice_count"
                | "invoice_status"
                | "project_ids"
                | "project_count"
        ) | (
            "sale.order.line",
            "price_subtotal"
                | "price_tax"
                | "price_total"
                | "qty_invoiced"
                | "qty_to_invoice"
                | "invoice_status"
                | "is_service"
        ) | (
            "account.move",
            "amount_untaxed"
                | "amount_tax"
                | "amount_total"
                | "amount_residual"
                | "amount_untaxed_signed"
                | "amount_tax_signed"
                | "amount_total_signed"
                | "amount_residual_signed"
                | "matched_payment_ids"
        ) | ("project.project", "task_count")
            | ("project.task", "effective_hours" | "remaining_hours")
            | ("ir.model.data", "complete_name" | "reference")
            | ("product.product", "lst_price")
    )
}

// ---------------------------------------------------------------------- translations

/// Country names of the `zh_CN` translation.
fn translate(lang: &str, model: &str, source: &str) -> Option<&'static str> {
    if lang != "zh_CN" || model != "res.country" {
        return None;
    }
    Some(match source {
        "United States" => "美国",
        "Belgium" => "比利时",
        "San Marino" => "圣马力诺",
        "France" => "法国",
        "Germany" => "德国",
        "Canada" => "加拿大",
        "Mexico" => "墨西哥",
        "United Kingdom" => "英国",
        "Netherlands" => "荷兰",
        "Spain" => "西班牙",
        "China" => "中国",
        _ => return None,
    })
}

/// Codes of the active languages.
pub(crate) fn active_langs(orm: &Orm<'_>) -> Vec<String> {
    orm.db
        .ids("res.lang")
        .into_iter()
        .filter(|&id| orm.stored("res.lang", id, "active") == Value::Bool(true))
        .filter_map(|id| {
            orm.stored("res.lang", id, "code")
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

// ---------------------------------------------------------------------- helpers

fn text(orm: &Orm<'_>, model: &str, id: i64, field: &str) -> Option<String> {
    match orm.get(model, id, field) {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn m2o(orm: &Orm<'_>, model: &str, id: i64, field: &str) -> Option<i64> {
    as_id(&orm.get(model, id, field))
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(as_id).collect())
        .unwrap_or_default()
}

fn f(orm: &Orm<'_>, model: &str, id: i64, field: &str) -> f64 {
    num(&orm.get(model, id, field))
}

/// The percentage taxes of a line: `(tax id, rate)`.
fn taxes(orm: &Orm<'_>, tax_ids: &[i64]) -> Vec<(i64, f64)> {
    tax_ids
        .iter()
        .filter(|&&t| orm.exists("account.tax", t))
        .map(|&t| (t, num(&orm.stored("account.tax", t, "amount"))))
        .collect()
}

/// `(subtotal, tax)` of a sale or invoice line.
fn line_amounts(
    orm: &Orm<'_>,
    model: &str,
    id: i64,
    qty_field: &str,
    tax_field: &str,
) -> (f64, f64) {
    let qty = f(orm, model, id, qty_field);
    let price = f(orm, model, id, "price_unit");
    let discount = f(orm, model, id, "discount");
    let subtotal = money(qty * price * (1.0 - discount / 100.0));
    let tax: f64 = taxes(orm, &ids(&orm.stored(model, id, tax_field)))
        .iter()
        .map(|(_, rate)| money(subtotal * rate / 100.0))
        .sum();
    (subtotal, money(tax))
}

fn order_lines(orm: &Orm<'_>, order: i64) -> Vec<i64> {
    orm.children("sale.order.line", "order_id", order)
}

fn invoice_lines(orm: &Orm<'_>, mv: i64) -> Vec<i64> {
    orm.children("account.move.line", "move_id", mv)
        .into_iter()
        .filter(|&l| {
            matches!(
                orm.stored("account.move.line", l, "display_type").as_str(),
                Some("product") | None
            )
        })
        .collect()
}

/// Invoices linked to a sale order line through `sale_line_ids`.
fn line_invoice_lines(orm: &Orm<'_>, sale_line: i64) -> Vec<i64> {
    orm.db
        .table("account.move.line")
        .map(|t| {
            t.rows
                .iter()
                .filter(|(_, r)| {
                    r.get("sale_line_ids")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| as_id(x) == Some(sale_line)))
                })
                .map(|(k, _)| *k)
                .collect()
        })
        .unwrap_or_default()
}

/// `res.partner.credit` (account): what the commercial partner owes on posted customer
/// invoices and credit notes (their residual; Odoo sums the receivable lines, whose partner is
/// the commercial partner). Zero for a contact that is not its own commercial partner.
fn partner_credit(orm: &Orm<'_>, partner: i64) -> f64 {
    if commercial_partner(orm, partner) != partner {
        return 0.0;
    }
    let owed: f64 = orm
        .db
        .ids("account.move")
        .into_iter()
        .filter(|&m| {
            orm.stored("account.move", m, "state").as_str() == Some("posted")
                && matches!(
                    orm.stored("account.move", m, "move_type").as_str(),
                    Some("out_invoice" | "out_refund")
                )
                && as_id(&orm.stored("account.move", m, "partner_id"))
                    .is_some_and(|p| commercial_partner(orm, p) == partner)
        })
        .map(|m| move_sign(orm, m) * move_residual(orm, m))
        .sum();
    money(owed)
}

/// `res.partner.credit_to_invoice` (sale): the commercial partner's confirmed orders not invoiced
/// yet (each line's total, tax included, for the quantity not invoiced).
fn partner_credit_to_invoice(orm: &Orm<'_>, partner: i64) -> f64 {
    if commercial_partner(orm, partner) != partner {
        return 0.0;
    }
    let mut total = 0.0;
    for order in orm.db.ids("sale.order") {
        if orm.stored("sale.order", order, "state").as_str() != Some("sale")
            || as_id(&orm.stored("sale.order", order, "partner_id"))
                .is_none_or(|p| commercial_partner(orm, p) != partner)
        {
            continue;
        }
        for line in order_lines(orm, order) {
            let ordered = f(orm, "sale.order.line", line, "product_uom_qty");
            if ordered <= 0.0 {
                continue;
            }
            let (s, t) = line_amounts(orm, "sale.order.line", line, "product_uom_qty", "tax_ids");
            let left = ((ordered - qty_invoiced(orm, line)) / ordered).max(0.0);
            total += (s + t) * left;
        }
    }
    money(total)
}

fn move_sign(orm: &Orm<'_>, mv: i64) -> f64 {
    match orm.stored("account.move", mv, "move_type").as_str() {
        Some("out_refund" | "in_invoice" | "in_receipt") => -1.0,
        _ => 1.0,
    }
}

fn move_amounts(orm: &Orm<'_>, mv: i64) -> (f64, f64) {
    let mut untaxed = 0.0;
    let mut tax = 0.0;
    for l in invoice_lines(orm, mv) {
        let (s, t) = line_amounts(orm, "account.move.line", l, "quantity", "tax_ids");
        untaxed += s;
        tax += t;
    }
    (money(untaxed), money(tax))
}

/// Total of an invoice.
pub(crate) fn move_total(orm: &Orm<'_>, mv: i64) -> f64 {
    let (u, t) = move_amounts(orm, mv);
    money(u + t)
}

/// What remains to be paid on an invoice.
pub(crate) fn move_residual(orm: &Orm<'_>, mv: i64) -> f64 {
    let total = move_total(orm, mv);
    let paid = num(&orm.stored("account.move", mv, "__paid"));
    money((total - paid).max(0.0))
}

fn qty_invoiced(orm: &Orm<'_>, line: i64) -> f64 {
    let mut qty = 0.0;
    for il in line_invoice_lines(orm, line) {
        let Some(mv) = as_id(&orm.stored("account.move.line", il, "move_id")) else {
            continue;
        };
        if orm.stored("account.move", mv, "state").as_str() == Some("cancel") {
            continue;
        }
        let sign = if orm.stored("account.move", mv, "move_type").as_str() == Some("out_refund") {
            -1.0
        } else {
            1.0
        };
        qty += sign * num(&orm.stored("account.move.line", il, "quantity"));
    }
    qty
}

fn product_of(orm: &Orm<'_>, model: &str, id: i64) -> Option<i64> {
    as_id(&orm.stored(model, id, "product_id"))
}

fn delivered_method(orm: &Orm<'_>, line: i64) -> &'static str {
    match orm
        .stored("sale.order.line", line, "qty_delivered_method")
        .as_str()
    {
        Some("timesheet") => return "timesheet",
        Some("milestones") => return "milestones",
        Some(_) => return "manual",
        None => {}
    }
    product_method(orm, product_of(orm, "sale.order.line", line))
}

/// How delivered quantities of a product are measured.
fn product_method(orm: &Orm<'_>, product: Option<i64>) -> &'static str {
    let Some(p) = product else {
        return "manual";
    };
    if orm.get("product.product", p, "type").as_str() != Some("service") {
        return "manual";
    }
    match orm.get("product.product", p, "service_policy").as_str() {
        Some("delivered_timesheet") => "timesheet",
        Some("delivered_milestones") => "milestones",
        _ => match orm.get("product.product", p, "service_type").as_str() {
            Some("timesheet")
                if orm.get("product.product", p, "invoice_policy").as_str() == Some("delivery") =>
            {
                "timesheet"
            }
            Some("milestones") => "milestones",
            _ => "manual",
        },
    }
}

fn qty_delivered(orm: &Orm<'_>, line: i64) -> f64 {
    match delivered_method(orm, line) {
        "timesheet" => orm
            .children("account.analytic.line", "so_line", line)
            .iter()
            .map(|&t| num(&orm.stored("account.analytic.line", t, "unit_amount")))
            .sum(),
        "milestones" => {
            let qty = f(orm, "sale.order.line", line, "product_uom_qty");
            let pct: f64 = orm
                .children("project.milestone", "sale_line_id", line)
                .iter()
                .filter(|&&m| orm.stored("project.milestone", m, "is_reached") == Value::Bool(true))
                .map(|&m| num(&orm.stored("project.milestone", m, "quantity_percentage")))
                .sum();
            round2(qty * pct)
        }
        _ => num(&orm.stored("sale.order.line", line, "qty_delivered")),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn qty_to_invoice(orm: &Orm<'_>, line: i64) -> f64 {
    let Some(order) = as_id(&orm.stored("sale.order.line", line, "order_id")) else {
        return 0.0;
    };
    if orm.stored("sale.order", order, "state").as_str() != Some("sale") {
        return 0.0;
    }
    if orm
        .stored("sale.order.line", line, "display_type")
        .is_string()
    {
        return 0.0;
    }
    let policy = product_of(orm, "sale.order.line", line)
        .map(|p| orm.get("product.product", p, "invoice_policy"))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "order".into());
    let base = if policy == "delivery" {
        qty_delivered(orm, line)
    } else {
        f(orm, "sale.order.line", line, "product_uom_qty")
    };
    round2(base - qty_invoiced(orm, line))
}

fn line_invoice_status(orm: &Orm<'_>, line: i64) -> &'static str {
    let Some(order) = as_id(&orm.stored("sale.order.line", line, "order_id")) else {
        return "no";
    };
    if orm.stored("sale.order", order, "state").as_str() != Some("sale") {
        return "no";
    }
    if qty_to_invoice(orm, line) > 0.0 {
        return "to invoice";
    }
    let ordered = f(orm, "sale.order.line", line, "product_uom_qty");
    if ordered > 0.0 && qty_invoiced(orm, line) >= ordered {
        "invoiced"
    } else {
        "no"
    }
}

// ---------------------------------------------------------------------- computed values

/// The value of a computed field, `None` when the field is stored.
pub(crate) fn computed(orm: &Orm<'_>, model: &str, id: i64, field: &str) -> Option<Value> {
    if field == "display_name" {
        return Some(json!(display_name(orm, model, id)));
    }
    let v = match (model, field) {
        ("res.partner", "complete_name") => json!(partner_complete_name(orm, id)),
        ("res.partner", "credit") => float(partner_credit(orm, id)),
        ("res.partner", "credit_to_invoice") => float(partner_credit_to_invoice(orm, id)),
        ("res.partner", "commercial_partner_id") => json!(commercial_partner(orm, id)),
        ("res.partner", "commercial_company_name") => {
            let c = commercial_partner(orm, id);
            if orm.stored("res.partner", c, "is_company") == Value::Bool(true) {
                orm.stored("res.partner", c, "name")
            } else {
                orm.stored("res.partner", id, "company_name")
            }
        }
        ("res.partner", "company_type") => {
            if orm.stored("res.partner", id, "is_company") == Value::Bool(true) {
                json!("company")
            } else {
                json!("person")
            }
        }
        ("res.partner", "email_normalized") => match orm.stored(model, id, "email") {
            Value::String(s) if !s.is_empty() => json!(s.trim().to_lowercase()),
            _ => Value::Null,
        },
        ("res.country", "name") => {
            let name = orm.stored(model, id, "name");
            match name
                .as_str()
                .and_then(|n| translate(&orm.ctx.lang, model, n))
            {
                Some(t) => json!(t),
                None => name,
            }
        }
        ("res.partner", "property_product_pricelist") => match orm.stored(model, id, field) {
            Value::Null => default_pricelist(orm).map_or(Value::Null, |p| json!(p)),
            v => v,
        },
        ("res.currency", "is_current_company_currency") => {
            let company = orm.ctx.companies.first().copied().unwrap_or(1);
            json!(as_id(&orm.stored("res.company", company, "currency_id")) == Some(id))
        }
        ("product.product", "lst_price") => orm.get(model, id, "list_price"),
        ("product.template", "product_variant_id") => {
            let v = orm.children("product.product", "product_tmpl_id", id);
            v.first().map_or(Value::Null, |p| json!(p))
        }
        ("product.template", "product_variant_count") => {
            json!(orm.children("product.product", "product_tmpl_id", id).len())
        }
        ("product.template", "default_code") => orm
            .children("product.product", "product_tmpl_id", id)
            .first()
            .map_or(Value::Null, |&p| {
                orm.stored("product.product", p, "default_code")
            }),
        ("sale.order", "amount_untaxed" | "amount_tax" | "amount_total") => {
            let (mut u, mut t) = (0.0, 0.0);
            for l in order_lines(orm, id) {
                let (s, x) = line_amounts(orm, "sale.order.line", l, "product_uom_qty", "tax_ids");
                u += s;
                t += x;
            }
            float(match field {
                "amount_untaxed" => money(u),
                "amount_tax" => money(t),
                _ => money(u + t),
            })
        }
        ("sale.order", "invoice_ids" | "invoice_count") => {
            let mut moves: Vec<i64> = Vec::new();
            for l in order_lines(orm, id) {
                for il in line_invoice_lines(orm, l) {
                    if let Some(mv) = as_id(&orm.stored("account.move.line", il, "move_id"))
                        && !moves.contains(&mv)
                    {
                        moves.push(mv);
                    }
                }
            }
            moves.sort_unstable();
            if field == "invoice_count" {
                json!(moves.len())
            } else {
                json!(moves)
            }
        }
        ("sale.order", "invoice_status") => {
            if orm.stored(model, id, "state").as_str() != Some("sale") {
                json!("no")
            } else {
                let statuses: Vec<&str> = order_lines(orm, id)
                    .into_iter()
                    .filter(|&l| !orm.stored("sale.order.line", l, "display_type").is_string())
                    .map(|l| line_invoice_status(orm, l))
                    .collect();
                if statuses.contains(&"to invoice") {
                    json!("to invoice")
                } else if !statuses.is_empty() && statuses.iter().all(|s| *s == "invoiced") {
                    json!("invoiced")
                } else {
                    json!("no")
                }
            }
        }
        ("sale.order", "project_ids" | "project_count") => {
            let mut projects = orm.children("project.project", "sale_order_id", id);
            projects.sort_unstable();
            if field == "project_count" {
                json!(projects.len())
            } else {
                json!(projects)
            }
        }
        ("sale.order.line", "price_subtotal" | "price_tax" | "price_total") => {
            let (s, t) = line_amounts(orm, model, id, "product_uom_qty", "tax_ids");
            float(match field {
                "price_subtotal" => s,
                "price_tax" => t,
                _ => money(s + t),
            })
        }
        ("sale.order.line", "qty_invoiced") => float(qty_invoiced(orm, id)),
        ("sale.order.line", "qty_to_invoice") => float(qty_to_invoice(orm, id)),
        ("sale.order.line", "qty_delivered") => float(qty_delivered(orm, id)),
        ("sale.order.line", "invoice_status") => json!(line_invoice_status(orm, id)),
        ("sale.order.line", "is_service") => json!(
            product_of(orm, model, id)
                .is_some_and(|p| orm.get("product.product", p, "type").as_str() == Some("service"))
        ),
        (
            "sale.order.line",
            "currency_id" | "company_id" | "state" | "order_partner_id" | "salesman_id",
        ) => {
            let order = as_id(&orm.stored(model, id, "order_id"))?;
            let source = match field {
                "order_partner_id" => "partner_id",
                "salesman_id" => "user_id",
                other => other,
            };
            orm.stored("sale.order", order, source)
        }
        ("project.project", "task_count") => json!(
            orm.children("project.task", "project_id", id)
                .into_iter()
                .filter(|&t| orm.is_active("project.task", t))
                .count()
        ),
        ("project.task", "effective_hours") => float(effective_hours(orm, id)),
        ("project.task", "remaining_hours") => {
            let allocated = num(&orm.stored(model, id, "allocated_hours"));
            float(if allocated > 0.0 {
                allocated - effective_hours(orm, id)
            } else {
                0.0
            })
        }
        (
            "account.move",
            "amount_untaxed"
            | "amount_tax"
            | "amount_total"
            | "amount_untaxed_signed"
            | "amount_tax_signed"
            | "amount_total_signed",
        ) => {
            let (u, t) = move_amounts(orm, id);
            let sign = if field.ends_with("_signed") {
                move_sign(orm, id)
            } else {
                1.0
            };
            float(
                sign * match field.trim_end_matches("_signed") {
                    "amount_untaxed" => u,
                    "amount_tax" => t,
                    _ => money(u + t),
                },
            )
        }
        ("account.move", "amount_residual" | "amount_residual_signed") => {
            let sign = if field.ends_with("_signed") {
                move_sign(orm, id)
            } else {
                1.0
            };
            if orm.stored(model, id, "move_type").as_str() == Some("entry") {
                float(0.0)
            } else {
                float(sign * move_residual(orm, id))
            }
        }
        ("account.move", "invoice_line_ids") => {
            let lines = invoice_lines(orm, id);
            orm.visible_sorted("account.move.line", lines)
        }
        ("account.move", "matched_payment_ids") => {
            let payments: Vec<i64> = orm
                .db
                .ids("account.payment")
                .into_iter()
                .filter(|&p| {
                    ids(&orm.stored("account.payment", p, "reconciled_invoice_ids")).contains(&id)
                })
                .collect();
            json!(payments)
        }
        (
            "account.move.line",
            "move_name" | "date" | "parent_state" | "company_id" | "journal_id" | "move_type"
            | "currency_id",
        ) => {
            let mv = as_id(&orm.stored(model, id, "move_id"))?;
            let source = match field {
                "move_name" => "name",
                "parent_state" => "state",
                other => other,
            };
            orm.stored("account.move", mv, source)
        }
        ("account.move.line", "price_subtotal" | "price_total") => {
            let dt = orm.stored(model, id, "display_type");
            if !matches!(dt.as_str(), Some("product") | None) {
                return None;
            }
            let (s, t) = line_amounts(orm, model, id, "quantity", "tax_ids");
            float(if field == "price_subtotal" {
                s
            } else {
                money(s + t)
            })
        }
        ("account.analytic.account", "balance") => float(money(
            orm.children("account.analytic.line", "account_id", id)
                .iter()
                .map(|&l| num(&orm.stored("account.analytic.line", l, "amount")))
                .sum(),
        )),
        ("ir.model.data", "complete_name") => json!(format!(
            "{}.{}",
            orm.stored(model, id, "module").as_str().unwrap_or_default(),
            orm.stored(model, id, "name").as_str().unwrap_or_default()
        )),
        ("ir.model.data", "reference") => json!(format!(
            "{},{}",
            orm.stored(model, id, "model").as_str().unwrap_or_default(),
            as_id(&orm.stored(model, id, "res_id")).unwrap_or(0)
        )),
        ("sale.advance.payment.inv", "count") => {
            json!(ids(&orm.stored(model, id, "sale_order_ids")).len())
        }
        _ => return None,
    };
    Some(v)
}

fn effective_hours(orm: &Orm<'_>, task: i64) -> f64 {
    orm.children("account.analytic.line", "task_id", task)
        .iter()
        .map(|&l| num(&orm.stored("account.analytic.line", l, "unit_amount")))
        .sum()
}

fn commercial_partner(orm: &Orm<'_>, id: i64) -> i64 {
    let mut current = id;
    for _ in 0..32 {
        if orm.stored("res.partner", current, "is_company") == Value::Bool(true) {
            return current;
        }
        match as_id(&orm.stored("res.partner", current, "parent_id")) {
            Some(p) if orm.exists("res.partner", p) => current = p,
            _ => return current,
        }
    }
    current
}

fn partner_complete_name(orm: &Orm<'_>, id: i64) -> String {
    let name = orm
        .stored("res.partner", id, "name")
        .as_str()
        .unwrap_or_default()
        .to_string();
    if orm.stored("res.partner", id, "is_company") == Value::Bool(true) {
        return name;
    }
    let prefix = match as_id(&orm.stored("res.partner", id, "parent_id")) {
        Some(p) if orm.exists("res.partner", p) => {
            let c = commercial_partner(orm, p);
            orm.stored("res.partner", c, "name")
                .as_str()
                .map(str::to_string)
        }
        _ => orm
            .stored("res.partner", id, "company_name")
            .as_str()
            .map(str::to_string),
    };
    let name = if name.is_empty() {
        match orm.stored("res.partner", id, "type").as_str() {
            Some("invoice") => "Invoice Address".to_string(),
            Some("delivery") => "Delivery Address".to_string(),
            Some("other") => "Other Address".to_string(),
            _ => name,
        }
    } else {
        name
    };
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}, {name}"),
        _ => name,
    }
}

fn hierarchical_name(orm: &Orm<'_>, model: &str, id: i64, sep: &str) -> String {
    let mut parts = Vec::new();
    let mut current = Some(id);
    let mut guard = 0;
    while let Some(c) = current {
        guard += 1;
        if guard > 32 || !orm.exists(model, c) {
            break;
        }
        parts.push(
            orm.stored(model, c, "name")
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        current = as_id(&orm.stored(model, c, "parent_id"));
    }
    parts.reverse();
    parts.join(sep)
}

/// The display name of a record.
pub(crate) fn display_name(orm: &Orm<'_>, model: &str, id: i64) -> String {
    if !orm.exists(model, id) {
        return String::new();
    }
    match model {
        "res.partner" => return partner_complete_name(orm, id),
        "res.partner.category" | "product.category" => {
            return hierarchical_name(orm, model, id, " / ");
        }
        "hr.department" => return hierarchical_name(orm, model, id, " / "),
        "res.country" => {
            if let Some(Value::String(s)) = computed(orm, model, id, "name") {
                return s;
            }
        }
        "product.product" => {
            let name = orm.get(model, id, "name");
            let name = name.as_str().unwrap_or_default();
            return match text(orm, model, id, "default_code") {
                Some(code) => format!("[{code}] {name}"),
                None => name.to_string(),
            };
        }
        "account.move" => {
            let name = orm.stored(model, id, "name");
            let label = match orm.stored(model, id, "move_type").as_str() {
                Some("out_invoice") => "Draft Invoice",
                Some("out_refund") => "Draft Credit Note",
                Some("in_invoice") => "Draft Bill",
                Some("in_refund") => "Draft Vendor Credit Note",
                Some("out_receipt") => "Draft Sales Receipt",
                Some("in_receipt") => "Draft Purchase Receipt",
                _ => "Draft Entry",
            };
            // 19's `_get_move_display_name`: a draft is named by its kind, then its number when
            // it has one; older versions add `(* id)` to an unnumbered draft.
            let draft = orm.stored(model, id, "state").as_str() == Some("draft");
            return match name.as_str() {
                Some(n) if !n.is_empty() && n != "/" => {
                    let shown = if draft && orm.version() >= 19 {
                        format!("{label} {n}")
                    } else {
                        n.to_string()
                    };
                    match orm.stored(model, id, "ref").as_str() {
                        Some(r) if !r.is_empty() && r != n => format!("{shown} ({r})"),
                        _ => shown,
                    }
                }
                _ if orm.version() >= 19 => label.to_string(),
                _ => format!("{label} (* {id})"),
            };
        }
        "account.move.line" => {
            if let Some(n) = text(orm, model, id, "name") {
                return n;
            }
            if let Some(mv) = m2o(orm, model, id, "move_id") {
                return display_name(orm, "account.move", mv);
            }
        }
        "account.payment" => {
            if let Some(n) = text(orm, model, id, "name") {
                return n;
            }
            return "Draft Payment".to_string();
        }
        "account.payment.method.line" => {
            let name = orm.stored(model, id, "name");
            let name = name.as_str().unwrap_or_default();
            return match m2o(orm, model, id, "journal_id") {
                Some(j) => format!("{name} ({})", display_name(orm, "account.journal", j)),
                None => name.to_string(),
            };
        }
        "sale.order.line" => {
            let order = m2o(orm, model, id, "order_id")
                .map(|o| display_name(orm, "sale.order", o))
                .unwrap_or_default();
            let name = text(orm, model, id, "name").unwrap_or_default();
            if orm.version() < 19 {
                let first = name.lines().next().unwrap_or_default();
                return format!("{order} - {first}");
            }
            // 19: the product's name unless the description's second line says otherwise,
            // then the customer (its commercial entity's reference, else its name).
            let product = m2o(orm, model, id, "product_id")
                .map(|p| (p, display_name(orm, "product.product", p)))
                .filter(|(_, p)| !p.is_empty());
            let description = match product {
                Some((p, product)) => {
                    let default = match text(orm, "product.product", p, "description_sale") {
                        Some(desc) => format!("{product}\n{desc}"),
                        None => product.clone(),
                    };
                    match name.split('\n').nth(1) {
                        Some(second) if !second.is_empty() && name != default => second.to_string(),
                        _ => product,
                    }
                }
                None => name.lines().next().unwrap_or_default().to_string(),
            };
            let customer = m2o(
                orm,
                "sale.order",
                m2o(orm, model, id, "order_id").unwrap_or(0),
                "partner_id",
            )
            .map(|p| commercial_partner(orm, p))
            .map(|c| {
                text(orm, "res.partner", c, "ref")
                    .or_else(|| text(orm, "res.partner", c, "name"))
                    .unwrap_or_default()
            });
            return match customer {
                Some(c) => format!("{order} - {description} ({c})"),
                None => format!("{order} - {description}"),
            };
        }
        "product.pricelist" => {
            let name = text(orm, model, id, "name").unwrap_or_default();
            return match m2o(orm, model, id, "currency_id") {
                Some(c) => format!("{name} ({})", display_name(orm, "res.currency", c)),
                None => name,
            };
        }
        "account.analytic.account" => {
            let name = text(orm, model, id, "name").unwrap_or_default();
            return match text(orm, model, id, "code") {
                Some(code) => format!("[{code}] {name}"),
                None => name,
            };
        }
        _ => {}
    }
    let rec_name = orm.meta(model).and_then(|m| m.rec_name);
    match rec_name.map(|r| orm.get(model, id, r)) {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => format!("{model},{id}"),
    }
}

// ---------------------------------------------------------------------- defaults

fn set_default(row: &mut Row, key: &str, value: Value) {
    if row.get(key).is_none_or(|v| v.is_null()) {
        row.insert(key.to_string(), value);
    }
}

/// The pricelist a customer gets when none is set on them (product's
/// `_get_partner_pricelist_multi`): the first active pricelist of the current company or of
/// none, in sequence order.
fn default_pricelist(orm: &Orm<'_>) -> Option<i64> {
    let company = current_company(orm);
    let mut lists: Vec<i64> = orm
        .db
        .ids("product.pricelist")
        .into_iter()
        .filter(|&p| orm.stored("product.pricelist", p, "active") != Value::Bool(false))
        .filter(|&p| {
            as_id(&orm.stored("product.pricelist", p, "company_id")).is_none_or(|c| c == company)
        })
        .collect();
    orm.sort_ids("product.pricelist", &mut lists, "sequence, id");
    lists.first().copied()
}

/// An order's currency (sale's `_compute_currency_id`): its pricelist's, else its company's.
fn order_currency(orm: &Orm<'_>, pricelist: Option<i64>, company: i64) -> Value {
    pricelist
        .map(|p| orm.stored("product.pricelist", p, "currency_id"))
        .filter(|c| !c.is_null())
        .unwrap_or_else(|| company_currency(orm, company))
}

fn current_company(orm: &Orm<'_>) -> i64 {
    orm.ctx.companies.first().copied().unwrap_or(1)
}

fn company_currency(orm: &Orm<'_>, company: i64) -> Value {
    match orm.stored("res.company", company, "currency_id") {
        Value::Null => json!(1),
        v => v,
    }
}

/// The company a new entry or payment gets (account's `_compute_company_id`): its journal's,
/// else the current one.
fn journal_company(orm: &Orm<'_>, row: &Row, current: i64) -> i64 {
    as_id(row.get("journal_id").unwrap_or(&Value::Null))
        .and_then(|j| as_id(&orm.stored("account.journal", j, "company_id")))
        .unwrap_or(current)
}

/// The first journal of a type in a company.
pub(crate) fn journal_of(orm: &Orm<'_>, company: i64, jtype: &str) -> Option<i64> {
    let mut journals: Vec<i64> = orm
        .db
        .ids("account.journal")
        .into_iter()
        .filter(|&j| orm.stored("account.journal", j, "type").as_str() == Some(jtype))
        .filter(|&j| as_id(&orm.stored("account.journal", j, "company_id")) == Some(company))
        .collect();
    orm.sort_ids("account.journal", &mut journals, "sequence, id");
    journals.first().copied()
}

/// Fills the values Odoo would default at creation.
pub(crate) fn defaults(orm: &mut Orm<'_>, model: &str, row: &mut Row) -> OdooResult<()> {
    let company = current_company(orm);
    let today = json!(fmt_date(orm.db.today()));
    let now = json!(orm.db.now_text());
    let uid = orm.ctx.uid;
    if orm.has_field(model, "active") {
        set_default(row, "active", json!(true));
    }
    match model {
        "res.partner" => {
            set_default(row, "type", json!("contact"));
            set_default(row, "is_company", json!(false));
            set_default(row, "lang", json!(orm.ctx.lang.clone()));
            set_default(row, "autopost_bills", json!("ask"));
        }
        "res.company" => {
            set_default(row, "currency_id", json!(1));
            set_default(row, "sequence", json!(10));
        }
        "res.users" => {
            set_default(row, "company_id", json!(company));
            let c = row.get("company_id").cloned().unwrap_or(json!(company));
            set_default(row, "company_ids", json!([c]));
            set_default(row, "notification_type", json!("email"));
            set_default(row, "lang", json!("en_US"));
            set_default(row, "share", json!(false));
        }
        "res.currency" => {
            set_default(row, "rounding", float(0.01));
            set_default(row, "decimal_places", json!(2));
            set_default(row, "position", json!("after"));
            set_default(row, "rate", float(1.0));
            set_default(row, "inverse_rate", float(1.0));
        }
        "res.lang" => {
            let code = row.get("code").cloned().unwrap_or(Value::Null);
            set_default(row, "url_code", code.clone());
            set_default(row, "iso_code", code);
            set_default(row, "direction", json!("ltr"));
            set_default(row, "date_format", json!("%m/%d/%Y"));
            set_default(row, "time_format", json!("%H:%M:%S"));
            set_default(row, "week_start", json!("7"));
            set_default(row, "grouping", json!("[3,0]"));
            set_default(row, "decimal_point", json!("."));
            set_default(row, "thousands_sep", json!(","));
            set_default(row, "active", json!(false));
        }
        "ir.model.data" => set_default(row, "noupdate", json!(false)),
        "hr.employee" => {
            set_default(row, "company_id", json!(company));
            set_default(row, "employee_type", json!("employee"));
            set_default(row, "resource_calendar_id", json!(1));
            set_default(row, "hourly_cost", float(0.0));
        }
        "hr.expense" => {
            set_default(row, "company_id", json!(company));
            set_default(row, "currency_id", company_currency(orm, company));
            set_default(row, "date", today);
            set_default(row, "state", json!("draft"));
            set_default(row, "quantity", float(1.0));
            set_default(row, "payment_mode", json!("own_account"));
            let total = num(row.get("price_unit").unwrap_or(&Value::Null))
                * num(row.get("quantity").unwrap_or(&json!(1.0)));
            if row.get("total_amount_currency").is_none_or(Value::is_null) && total != 0.0 {
                row.insert("total_amount_currency".into(), float(money(total)));
            }
            let t = row
                .get("total_amount_currency")
                .cloned()
                .unwrap_or(float(0.0));
            set_default(row, "total_amount", t);
        }
        "product.product" | "product.template" => {
            set_default(row, "type", json!("consu"));
            set_default(row, "service_tracking", json!("no"));
            set_default(row, "invoice_policy", json!("order"));
            set_default(row, "service_type", json!("manual"));
            set_default(row, "sale_ok", json!(true));
            set_default(row, "purchase_ok", json!(true));
            set_default(row, "uom_id", json!(1));
            set_default(row, "categ_id", json!(1));
            set_default(row, "list_price", float(1.0));
            set_default(row, "standard_price", float(0.0));
            let policy = match (
                row.get("invoice_policy").and_then(Value::as_str),
                row.get("service_type").and_then(Value::as_str),
            ) {
                (Some("delivery"), Some("timesheet")) => "delivered_timesheet",
                (Some("delivery"), Some("milestones")) => "delivered_milestones",
                (Some("delivery"), _) => "delivered_manual",
                _ => "ordered_prepaid",
            };
            set_default(row, "service_policy", json!(policy));
        }
        "sale.order" => {
            set_default(row, "state", json!("draft"));
            set_default(row, "company_id", json!(company));
            let c = as_id(row.get("company_id").unwrap_or(&Value::Null)).unwrap_or(company);
            let partner = row.get("partner_id").cloned().unwrap_or(Value::Null);
            if !row.contains_key("pricelist_id") {
                let pricelist = as_id(&partner)
                    .map(|p| orm.get("res.partner", p, "property_product_pricelist"))
                    .unwrap_or(Value::Null);
                row.insert("pricelist_id".into(), pricelist);
            }
            let pricelist = as_id(row.get("pricelist_id").unwrap_or(&Value::Null));
            set_default(row, "currency_id", order_currency(orm, pricelist, c));
            set_default(row, "date_order", now);
            set_default(row, "user_id", json!(uid));
            set_default(row, "partner_invoice_id", partner.clone());
            set_default(row, "partner_shipping_id", partner.clone());
            if let Some(p) = as_id(&partner) {
                let term = orm.stored("res.partner", p, "property_payment_term_id");
                set_default(row, "payment_term_id", term);
            }
            set_default(row, "locked", json!(false));
        }
        "sale.order.line" => {
            set_default(row, "product_uom_qty", float(1.0));
            set_default(row, "discount", float(0.0));
            set_default(row, "sequence", json!(10));
            set_default(row, "customer_lead", float(0.0));
            set_default(row, "qty_delivered", float(0.0));
            if let Some(p) = as_id(row.get("product_id").unwrap_or(&Value::Null))
                && orm.exists("product.product", p)
            {
                let mut name = display_name(orm, "product.product", p);
                if let Some(desc) = text(orm, "product.product", p, "description_sale") {
                    name = format!("{name}\n{desc}");
                }
                set_default(row, "name", json!(name));
                set_default(
                    row,
                    "product_uom_id",
                    orm.get("product.product", p, "uom_id"),
                );
                set_default(
                    row,
                    "price_unit",
                    float(num(&orm.get("product.product", p, "list_price"))),
                );
                set_default(
                    row,
                    "qty_delivered_method",
                    json!(product_method(orm, Some(p))),
                );
                if !row.contains_key("tax_ids") {
                    let order_company = as_id(row.get("order_id").unwrap_or(&Value::Null))
                        .and_then(|o| as_id(&orm.stored("sale.order", o, "company_id")))
                        .unwrap_or(company);
                    let product_taxes = ids(&orm.get("product.product", p, "taxes_id"));
                    let taxes: Vec<i64> = product_taxes
                        .into_iter()
                        .filter(|&t| {
                            as_id(&orm.stored("account.tax", t, "company_id"))
                                == Some(order_company)
                        })
                        .collect();
                    row.insert("tax_ids".into(), json!(taxes));
                }
            }
            set_default(row, "price_unit", float(0.0));
        }
        "project.project" => {
            set_default(row, "privacy_visibility", json!("portal"));
            set_default(row, "last_update_status", json!("to_define"));
            set_default(row, "allow_timesheets", json!(true));
            set_default(row, "allow_billable", json!(false));
            set_default(row, "sequence", json!(10));
            set_default(row, "billing_type", json!("not_billable"));
            set_default(row, "user_id", json!(uid));
            // Odoo's `_compute_company_id`: a project without a company takes its customer's.
            if (row.get("company_id").is_none_or(Value::is_null)
                || row.get("company_id") == Some(&Value::Bool(false)))
                && let Some(partner) = as_id(row.get("partner_id").unwrap_or(&Value::Null))
            {
                let c = orm.stored("res.partner", partner, "company_id");
                if as_id(&c).is_some() {
                    row.insert("company_id".into(), c);
                }
            }
        }
        "project.task" => {
            set_default(row, "state", json!("01_in_progress"));
            set_default(row, "stage_id", json!(1));
            set_default(row, "priority", json!("0"));
            set_default(row, "sequence", json!(10));
            set_default(row, "allocated_hours", float(0.0));
            if let Some(p) = as_id(row.get("project_id").unwrap_or(&Value::Null)) {
                let c = orm.stored("project.project", p, "company_id");
                set_default(row, "company_id", c);
                let line = orm.stored("project.project", p, "sale_line_id");
                set_default(row, "sale_line_id", line);
                let partner = orm.stored("project.project", p, "partner_id");
                set_default(row, "partner_id", partner);
            }
        }
        "project.milestone" => {
            set_default(row, "is_reached", json!(false));
            set_default(row, "quantity_percentage", float(0.0));
        }
        "account.analytic.account" => {
            set_default(row, "plan_id", json!(1));
            set_default(row, "currency_id", json!(1));
        }
        "account.analytic.line" => {
            set_default(row, "date", today);
            set_default(row, "name", json!("/"));
            set_default(row, "company_id", json!(company));
            let c = as_id(row.get("company_id").unwrap_or(&Value::Null)).unwrap_or(company);
            set_default(row, "currency_id", company_currency(orm, c));
            set_default(row, "unit_amount", float(0.0));
            if let Some(p) = as_id(row.get("project_id").unwrap_or(&Value::Null)) {
                set_default(row, "user_id", json!(uid));
                set_default(row, "product_uom_id", json!(4));
                let account = orm.stored("project.project", p, "account_id");
                set_default(row, "account_id", account);
                if row.get("employee_id").is_none_or(Value::is_null) {
                    let user = as_id(row.get("user_id").unwrap_or(&Value::Null)).unwrap_or(uid);
                    let employee =
                        orm.db.ids("hr.employee").into_iter().find(|&e| {
                            as_id(&orm.stored("hr.employee", e, "user_id")) == Some(user)
                        });
                    if let Some(e) = employee {
                        row.insert("employee_id".into(), json!(e));
                    }
                }
                let task_line = as_id(row.get("task_id").unwrap_or(&Value::Null))
                    .map(|t| orm.stored("project.task", t, "sale_line_id"))
                    .unwrap_or(Value::Null);
                let so_line = if task_line.is_null() {
                    orm.stored("project.project", p, "sale_line_id")
                } else {
                    task_line
                };
                // An explicit empty `so_line` stays empty: the time is not billable.
                if !row.contains_key("so_line") {
                    row.insert("so_line".into(), so_line);
                }
                let kind = if row.get("so_line").is_some_and(|v| !v.is_null()) {
                    "billable_time"
                } else {
                    "non_billable"
                };
                set_default(row, "timesheet_invoice_type", json!(kind));
            }
            if row.get("amount").is_none_or(Value::is_null) {
                let cost = as_id(row.get("employee_id").unwrap_or(&Value::Null))
                    .map(|e| num(&orm.stored("hr.employee", e, "hourly_cost")))
                    .unwrap_or(0.0);
                let hours = num(row.get("unit_amount").unwrap_or(&Value::Null));
                row.insert("amount".into(), float(money(-hours * cost)));
            }
        }
        "account.move" => {
            set_default(row, "move_type", json!("entry"));
            set_default(row, "state", json!("draft"));
            set_default(row, "company_id", json!(journal_company(orm, row, company)));
            let c = as_id(row.get("company_id").unwrap_or(&Value::Null)).unwrap_or(company);
            set_default(row, "currency_id", company_currency(orm, c));
            set_default(row, "date", today);
            set_default(row, "payment_state", json!("not_paid"));
            set_default(row, "auto_post", json!("no"));
            let jtype = match row.get("move_type").and_then(Value::as_str) {
                Some("out_invoice" | "out_refund" | "out_receipt") => "sale",
                Some("in_invoice" | "in_refund" | "in_receipt") => "purchase",
                _ => "general",
            };
            if let Some(j) = journal_of(orm, c, jtype) {
                set_default(row, "journal_id", json!(j));
            }
            if let Some(p) = as_id(row.get("partner_id").unwrap_or(&Value::Null))
                && jtype == "sale"
            {
                let term = orm.stored("res.partner", p, "property_payment_term_id");
                set_default(row, "invoice_payment_term_id", term);
            }
        }
        "account.move.line" => {
            set_default(row, "display_type", json!("product"));
            set_default(row, "quantity", float(1.0));
            set_default(row, "discount", float(0.0));
            if let Some(p) = as_id(row.get("product_id").unwrap_or(&Value::Null))
                && orm.exists("product.product", p)
            {
                set_default(row, "name", json!(display_name(orm, "product.product", p)));
                set_default(
                    row,
                    "price_unit",
                    float(num(&orm.get("product.product", p, "list_price"))),
                );
                set_default(
                    row,
                    "product_uom_id",
                    orm.get("product.product", p, "uom_id"),
                );
                if !row.contains_key("tax_ids") {
                    let taxes = ids(&orm.get("product.product", p, "taxes_id"));
                    let mv_company = as_id(row.get("move_id").unwrap_or(&Value::Null))
                        .and_then(|m| as_id(&orm.stored("account.move", m, "company_id")))
                        .unwrap_or(company);
                    let taxes: Vec<i64> = taxes
                        .into_iter()
                        .filter(|&t| {
                            as_id(&orm.stored("account.tax", t, "company_id")) == Some(mv_company)
                        })
                        .collect();
                    row.insert("tax_ids".into(), json!(taxes));
                }
            }
            set_default(row, "price_unit", float(0.0));
        }
        "account.journal" => {
            set_default(row, "company_id", json!(company));
            set_default(row, "sequence", json!(10));
            set_default(row, "invoice_reference_type", json!("invoice"));
            set_default(row, "invoice_reference_model", json!("odoo"));
        }
        "account.payment" => {
            set_default(row, "company_id", json!(journal_company(orm, row, company)));
            let c = as_id(row.get("company_id").unwrap_or(&Value::Null)).unwrap_or(company);
            set_default(row, "currency_id", company_currency(orm, c));
            set_default(row, "state", json!("draft"));
            set_default(row, "payment_type", json!("inbound"));
            set_default(row, "partner_type", json!("customer"));
            set_default(row, "date", today);
            set_default(row, "amount", float(0.0));
            set_default(row, "is_reconciled", json!(false));
            set_default(row, "is_matched", json!(false));
            if let Some(j) = journal_of(orm, c, "bank") {
                set_default(row, "journal_id", json!(j));
            }
            let journal = as_id(row.get("journal_id").unwrap_or(&Value::Null));
            let method = orm
                .db
                .ids("account.payment.method.line")
                .into_iter()
                .find(|&m| {
                    as_id(&orm.stored("account.payment.method.line", m, "journal_id")) == journal
                        && orm.stored("account.payment.method.line", m, "payment_type")
                            == row.get("payment_type").cloned().unwrap_or(Value::Null)
                });
            if let Some(m) = method {
                set_default(row, "payment_method_line_id", json!(m));
            }
        }
        "account.tax" => {
            set_default(row, "company_id", json!(company));
            set_default(row, "type_tax_use", json!("sale"));
            set_default(row, "amount_type", json!("percent"));
            set_default(row, "sequence", json!(1));
            set_default(row, "amount", float(0.0));
        }
        "account.payment.term" => set_default(row, "sequence", json!(10)),
        "product.pricelist" => {
            set_default(row, "company_id", json!(company));
            set_default(row, "currency_id", company_currency(orm, company));
            set_default(row, "sequence", json!(16));
        }
        "uom.uom" => {
            set_default(row, "relative_factor", float(1.0));
            set_default(row, "rounding", float(0.01));
        }
        "base.language.install" => set_default(row, "overwrite", json!(false)),
        "sale.advance.payment.inv" => {
            set_default(row, "advance_payment_method", json!("delivered"));
            set_default(row, "company_id", json!(company));
            set_default(row, "currency_id", company_currency(orm, company));
            if orm.ctx.context.get("active_model").and_then(Value::as_str) == Some("sale.order") {
                let active = orm
                    .ctx
                    .context
                    .get("active_ids")
                    .map(ids)
                    .unwrap_or_default();
                if row.get("sale_order_ids").is_none() {
                    row.insert("sale_order_ids".into(), json!(active));
                }
            }
        }
        "account.payment.register" => super::workflows::payment_register_defaults(orm, row)?,
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------- hooks

/// Runs after a record is inserted.
#[allow(
    clippy::collapsible_match,
    reason = "one arm per model, each with its own condition, reads as a table"
)]
pub(crate) fn after_create(orm: &mut Orm<'_>, model: &str, id: i64) -> OdooResult<()> {
    match model {
        "sale.order" => {
            let name = orm.stored(model, id, "name");
            if name
                .as_str()
                .is_none_or(|n| n.is_empty() || n == "New" || n == "/")
            {
                let n = orm.db.next_number("sale.order");
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("name".into(), json!(format!("S{n:05}")));
                }
            }
        }
        "res.company" => {
            if orm.stored(model, id, "partner_id").is_null() {
                let name = orm.stored(model, id, "name");
                let partner = new_row(
                    orm,
                    "res.partner",
                    &[
                        ("name", name),
                        ("is_company", json!(true)),
                        ("type", json!("contact")),
                        ("active", json!(true)),
                    ],
                );
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("partner_id".into(), json!(partner));
                }
            }
        }
        "res.users" => {
            if orm.stored(model, id, "partner_id").is_null() {
                let name = orm.stored(model, id, "name");
                let email = orm.stored(model, id, "email");
                let partner = new_row(
                    orm,
                    "res.partner",
                    &[
                        ("name", name),
                        ("email", email),
                        ("type", json!("contact")),
                        ("active", json!(true)),
                        ("is_company", json!(false)),
                    ],
                );
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("partner_id".into(), json!(partner));
                }
            }
        }
        "product.product" => {
            if orm.stored(model, id, "product_tmpl_id").is_null() {
                let row = orm.db.row(model, id).cloned().unwrap_or_default();
                let mut tmpl = Row::new();
                let mut own = Row::new();
                for (k, v) in row {
                    if delegated_to_template(&k)
                        || matches!(
                            k.as_str(),
                            "create_uid" | "create_date" | "write_uid" | "write_date" | "active"
                        )
                    {
                        tmpl.insert(k.clone(), v.clone());
                    }
                    if !delegated_to_template(&k) {
                        own.insert(k, v);
                    }
                }
                let t = orm.db.next_id("product.template");
                orm.db.insert("product.template", t, tmpl);
                own.insert("product_tmpl_id".into(), json!(t));
                if let Some(r) = orm.db.row_mut(model, id) {
                    *r = own;
                }
            }
        }
        "product.template" => {
            if orm
                .children("product.product", "product_tmpl_id", id)
                .is_empty()
            {
                let now = orm.stored(model, id, "create_date");
                new_row(
                    orm,
                    "product.product",
                    &[
                        ("product_tmpl_id", json!(id)),
                        ("active", json!(true)),
                        ("create_date", now.clone()),
                        ("write_date", now),
                        ("create_uid", json!(orm.ctx.uid)),
                        ("write_uid", json!(orm.ctx.uid)),
                    ],
                );
            }
        }
        "project.project" => {
            let timesheets = orm.stored(model, id, "allow_timesheets") == Value::Bool(true);
            if timesheets && orm.stored(model, id, "account_id").is_null() {
                let name = orm.stored(model, id, "name");
                let company = orm.stored(model, id, "company_id");
                let partner = orm.stored(model, id, "partner_id");
                let account = orm.sudo(|o| {
                    let mut vals = serde_json::Map::new();
                    vals.insert("name".into(), name);
                    vals.insert(
                        "company_id".into(),
                        if company.is_null() {
                            Value::Bool(false)
                        } else {
                            company
                        },
                    );
                    vals.insert(
                        "partner_id".into(),
                        if partner.is_null() {
                            Value::Bool(false)
                        } else {
                            partner
                        },
                    );
                    o.create("account.analytic.account", &vals)
                })?;
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("account_id".into(), json!(account));
                }
            }
        }
        "sale.order.line" => {
            // sale_project: a line added to a confirmed order gets its project, task and
            // milestone at once.
            let order = as_id(&orm.stored(model, id, "order_id"));
            if order.is_some_and(|o| orm.stored("sale.order", o, "state").as_str() == Some("sale"))
            {
                orm.sudo(|o| super::workflows::service_generation(o, &[id]))?;
            }
        }
        "account.move" => super::workflows::sync_dynamic_lines(orm, id)?,
        "account.move.line" => {
            if let Some(mv) = as_id(&orm.stored(model, id, "move_id")) {
                let dt = orm.stored(model, id, "display_type");
                if matches!(dt.as_str(), Some("product") | None)
                    && orm.stored("account.move", mv, "state").as_str() == Some("draft")
                {
                    super::workflows::sync_dynamic_lines(orm, mv)?;
                }
            }
        }
        "project.milestone" => {
            if orm.stored(model, id, "is_reached") == Value::Bool(true) {
                let today = json!(fmt_date(orm.db.today()));
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("reached_date".into(), today);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Inserts a row directly (no defaults), returning its id.
fn new_row(orm: &mut Orm<'_>, model: &str, values: &[(&str, Value)]) -> i64 {
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

/// Runs before values are written.
pub(crate) fn before_write(
    orm: &mut Orm<'_>,
    model: &str,
    ids_: &[i64],
    vals: &Row,
) -> OdooResult<()> {
    if model == "account.move" {
        for &id in ids_ {
            if orm.stored(model, id, "state").as_str() == Some("posted") {
                let touches_amounts = vals.keys().any(|k| {
                    matches!(
                        k.as_str(),
                        "partner_id" | "currency_id" | "move_type" | "journal_id"
                    )
                });
                if touches_amounts {
                    return Err(OdooError::user(
                        "You cannot modify a posted entry of this journal.\nFirst you should set the journal to allow cancelling entries.",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Runs after values are written.
pub(crate) fn after_write(
    orm: &mut Orm<'_>,
    model: &str,
    ids_: &[i64],
    vals: &Row,
) -> OdooResult<()> {
    match model {
        "project.milestone" => {
            if let Some(reached) = vals.get("is_reached") {
                let date = if reached == &Value::Bool(true) {
                    json!(fmt_date(orm.db.today()))
                } else {
                    Value::Null
                };
                for &id in ids_ {
                    if let Some(row) = orm.db.row_mut(model, id) {
                        row.insert("reached_date".into(), date.clone());
                    }
                }
            }
        }
        "sale.order" if vals.contains_key("pricelist_id") => {
            for &id in ids_ {
                let pricelist = as_id(&orm.stored(model, id, "pricelist_id"));
                let company = as_id(&orm.stored(model, id, "company_id")).unwrap_or(1);
                let currency = order_currency(orm, pricelist, company);
                if let Some(row) = orm.db.row_mut(model, id) {
                    row.insert("currency_id".into(), currency);
                }
            }
        }
        "account.move" => {
            for &id in ids_ {
                if orm.stored(model, id, "state").as_str() == Some("draft") {
                    super::workflows::sync_dynamic_lines(orm, id)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn has_cycle(orm: &Orm<'_>, model: &str, id: i64, parent: &str) -> bool {
    let mut current = as_id(&orm.stored(model, id, parent));
    let mut guard = 0;
    while let Some(c) = current {
        if c == id {
            return true;
        }
        guard += 1;
        if guard > 1000 {
            return true;
        }
        current = as_id(&orm.stored(model, c, parent));
    }
    false
}

/// Python and SQL constraints checked after a create or write.
pub(crate) fn check_constraints(orm: &mut Orm<'_>, model: &str, ids_: &[i64]) -> OdooResult<()> {
    if let Some(parent) = orm.meta(model).and_then(|m| m.parent) {
        for &id in ids_ {
            if has_cycle(orm, model, id, parent) {
                return Err(OdooError::validation(match model {
                    "res.partner" => "You cannot create recursive Partner hierarchies.",
                    "res.partner.category" => "You can not create recursive tags.",
                    "product.category" => "You cannot create recursive categories.",
                    "hr.department" => "You cannot create recursive departments.",
                    _ => "Recursion Detected.",
                }));
            }
        }
    }
    match model {
        "res.partner" => {
            for &id in ids_ {
                let contact = orm.stored(model, id, "type").as_str() == Some("contact");
                if contact && is_empty(&orm.stored(model, id, "name")) {
                    return Err(OdooError::validation(
                        "The operation cannot be completed: Contacts require a name",
                    ));
                }
            }
        }
        "res.users" => {
            for &id in ids_ {
                let login = orm.stored(model, id, "login");
                let dup = orm
                    .db
                    .ids(model)
                    .into_iter()
                    .any(|o| o != id && orm.stored(model, o, "login") == login);
                if dup {
                    return Err(OdooError::validation(
                        "The operation cannot be completed: You can not have two users with the same login!",
                    ));
                }
            }
        }
        "ir.model.data" => {
            for &id in ids_ {
                let module = orm.stored(model, id, "module");
                let name = orm.stored(model, id, "name");
                let dup = orm.db.xmlid_taken_by_other(
                    module.as_str().unwrap_or_default(),
                    name.as_str().unwrap_or_default(),
                    id,
                );
                if dup {
                    return Err(OdooError::validation(
                        "The operation cannot be completed: You cannot have multiple records with the same external ID!",
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks run before records are deleted.
#[allow(
    clippy::collapsible_match,
    reason = "one arm per model, each with its own condition, reads as a table"
)]
pub(crate) fn before_unlink(orm: &mut Orm<'_>, model: &str, ids_: &[i64]) -> OdooResult<()> {
    for &id in ids_ {
        match model {
            "sale.order" => {
                if !matches!(
                    orm.stored(model, id, "state").as_str(),
                    Some("draft" | "cancel") | None
                ) {
                    return Err(OdooError::user(
                        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it.",
                    ));
                }
            }
            "account.move" => {
                if orm.stored(model, id, "state").as_str() == Some("posted") {
                    return Err(OdooError::user(
                        "You cannot delete an entry which has been posted once.",
                    ));
                }
            }
            "account.move.line" => {
                if let Some(mv) = as_id(&orm.stored(model, id, "move_id"))
                    && orm.stored("account.move", mv, "state").as_str() == Some("posted")
                {
                    return Err(OdooError::user(
                        "You cannot delete an item linked to a posted entry.",
                    ));
                }
            }
            "res.users" if id <= 2 => {
                return Err(OdooError::user(
                    "You can not remove the admin user as it is used internally for resources created by Odoo (updates, module installation, ...)",
                ));
            }
            "account.payment" => {
                if !matches!(
                    orm.stored(model, id, "state").as_str(),
                    Some("draft" | "canceled" | "cancel") | None
                ) {
                    return Err(OdooError::user(
                        "You cannot delete a payment that is already posted.",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `date` parsed from a stored value.
pub(crate) fn date_of(v: &Value) -> Option<chrono::NaiveDate> {
    v.as_str().and_then(parse_date)
}
