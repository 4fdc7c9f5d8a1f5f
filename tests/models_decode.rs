//! Decoding the shipped model types from replies recorded on real Odoo 19.0 and 18.0 servers
//! (`tests/fixtures/odoo-fixtures/`), from Odoo 16/17-shaped records, and checking that each type
//! asks a server only for fields its version has.

use std::path::PathBuf;

use odoo_connect::odoo::models::account::{
    JournalType, MovePaymentState, MoveState, MoveType, PaymentPartnerType, PaymentState,
    PaymentType,
};
use odoo_connect::odoo::models::company::CurrencyPosition;
use odoo_connect::odoo::models::product::{
    InvoicePolicy, ProductType, ServicePolicy, ServiceTracking, ServiceType,
};
use odoo_connect::odoo::models::project::{
    PrivacyVisibility, ProjectStatus, TaskPriority, TaskState,
};
use odoo_connect::odoo::models::sale::{InvoiceStatus, QtyDeliveredMethod, SaleOrderState};
use odoo_connect::odoo::models::timesheet::TimesheetInvoiceType;
use odoo_connect::odoo::models::*;
use odoo_connect::odoo::value::datetime;
use odoo_connect::odoo::{Many2one, Model, RecordId, ServerVersion};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Fixture loading

fn fixtures_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/odoo-fixtures"
    ));
    dir.is_dir().then_some(dir)
}

macro_rules! fixtures_or_skip {
    () => {
        match fixtures_dir() {
            Some(dir) => dir,
            None => panic!(
                "the recorded Odoo exchanges are missing from tests/fixtures/odoo-fixtures: \
                 the test cannot pass without them"
            ),
        }
    };
}

#[derive(Deserialize)]
struct RpcExchange<T> {
    response: RpcResponse<T>,
}
#[derive(Deserialize)]
struct RpcResponse<T> {
    body: RpcBody<T>,
}
#[derive(Deserialize)]
struct RpcBody<T> {
    result: T,
}
#[derive(Deserialize)]
struct Json2Exchange<T> {
    response: Json2Response<T>,
}
#[derive(Deserialize)]
struct Json2Response<T> {
    body: T,
}

/// Decodes the reply of a recorded exchange straight from the file's text (so amounts are read
/// from the number text as sent), naming the failing field path on error.
fn reply<T: DeserializeOwned>(dir: &std::path::Path, rel: &str) -> T {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let de = &mut serde_json::Deserializer::from_str(&text);
    if rel.contains("/json2/") {
        serde_path_to_error::deserialize::<_, Json2Exchange<T>>(de)
            .map(|e| e.response.body)
            .unwrap_or_else(|e| panic!("{rel}: {} at {}", e.inner(), e.path()))
    } else {
        serde_path_to_error::deserialize::<_, RpcExchange<T>>(de)
            .map(|e| e.response.body.result)
            .unwrap_or_else(|e| panic!("{rel}: {} at {}", e.inner(), e.path()))
    }
}

/// The records of a recorded `read`/`search_read`, as typed models.
fn records<T: DeserializeOwned>(dir: &std::path::Path, rel: &str) -> Vec<T> {
    reply(dir, rel)
}

/// The same records as JSON values (for checks on the raw shape).
fn raw_records(dir: &std::path::Path, rel: &str) -> Vec<Map<String, Value>> {
    reply(dir, rel)
}

/// The `fields_get` reply of a model recorded on a version (19: JSON-2, 18: JSON-RPC).
fn fields_get(dir: &std::path::Path, major: u32, model: &str) -> Option<Map<String, Value>> {
    let file = model.replace('.', "_");
    let rel = if major == 19 {
        format!("odoo-19.0/json2/fields_get_{file}.json")
    } else {
        format!("odoo-{major}.0/jsonrpc/fields_get_{file}.json")
    };
    dir.join(&rel).is_file().then(|| reply(dir, &rel))
}

fn m2o(id: i64, name: &str) -> Option<Many2one> {
    Some(Many2one {
        id: RecordId(id),
        name: Some(name.to_owned()),
    })
}

fn ids(list: &[i64]) -> Vec<RecordId> {
    list.iter().copied().map(RecordId).collect()
}

fn dt(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(datetime::parse(text).unwrap())
}

fn day(text: &str) -> Option<chrono::NaiveDate> {
    Some(text.parse().unwrap())
}

fn v(major: u32) -> ServerVersion {
    ServerVersion::new(major, 0)
}

/// Serialising a decoded record gives Odoo's `read` shape with `load=None`, which decodes again
/// to the same record (less the many2one display names).
fn assert_round_trips<T: Model + serde::Serialize>(records: &[T]) {
    for r in records {
        let once = serde_json::to_value(r).unwrap();
        let again: T = serde_json::from_value(once.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), once);
    }
}

// ---------------------------------------------------------------------------------------------
// res.partner

#[test]
fn partner_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/search_read_partner_companies.json",
        "odoo-19.0/json2/search_read_partner_companies.json",
    ] {
        let p: Vec<Partner> = records(&dir, rel);
        assert_eq!(p.len(), 5, "{rel}");
        assert_eq!(p[0].id, RecordId(1));
        assert_eq!(p[0].name.as_deref(), Some("YourCompany"));
        assert_eq!(p[0].email.as_deref(), Some("info@yourcompany.com"));
        assert_eq!(p[0].country_id, m2o(233, "United States"));
        assert_eq!(p[0].parent_id, None);
        assert_eq!(p[0].company_id, None);
        assert_eq!(p[0].vat, None);
        assert_eq!(p[0].reference, None);
        assert_eq!(p[0].child_ids, ids(&[40, 41]));
        assert!(p[0].category_id.is_empty());
        assert_eq!(p[0].write_date, dt("2026-11-23 00:39:57"));
        assert_eq!(p[1].name.as_deref(), Some("Wood Corner"));
        assert_eq!(p[1].vat.as_deref(), Some("US12345672"));
        assert_eq!(p[1].category_id, ids(&[7, 6]));
        assert_eq!(p[3].country_id, m2o(203, "San Marino"));
        // Not read: defaults.
        assert_eq!(p[0].mobile, None);
        assert!(p[0].active);
        assert_round_trips(&p);
    }

    let p: Vec<Partner> = records(&dir, "odoo-18.0/jsonrpc/search_read_partner_companies.json");
    assert_eq!(p.len(), 5);
    assert_eq!(
        (p[1].id, p[1].name.as_deref()),
        (RecordId(9), Some("Wood Corner"))
    );
    assert_eq!(p[1].child_ids, ids(&[18, 33, 17]));
    assert_eq!(p[3].vat.as_deref(), Some("US12345674"));
    assert_eq!(p[0].write_date, dt("2026-11-23 01:14:15"));

    for (rel, first) in [
        (
            "odoo-19.0/jsonrpc/read_partners_relational.json",
            "Deco Addict",
        ),
        (
            "odoo-19.0/json2/read_partners_relational.json",
            "Deco Addict",
        ),
        (
            "odoo-18.0/jsonrpc/read_partners_relational.json",
            "Wood Corner",
        ),
    ] {
        let p: Vec<Partner> = records(&dir, rel);
        assert_eq!(p[0].id, RecordId(9));
        assert_eq!(p[0].name.as_deref(), Some(first));
        assert!(p[0].is_company);
        assert_eq!(p[0].parent_id, None);
        assert_eq!(p[0].country_id.as_ref().map(|c| c.id), Some(RecordId(233)));
    }

    // load=None: many2one as bare ids.
    let p: Vec<Partner> = records(&dir, "odoo-19.0/jsonrpc/read_partners_load_none.json");
    assert_eq!(p[1].country_id, Some(Many2one::new(203)));
    assert_eq!(p[1].category_id, ids(&[4, 7]));

    // web_read: many2one as {id, display_name}, x2many as records.
    let p: Vec<Partner> = records(&dir, "odoo-19.0/jsonrpc/web_read_partner_spec.json");
    assert_eq!(p[0].country_id, m2o(233, "United States"));
    assert_eq!(p[0].child_ids, ids(&[36, 19, 20]));
    assert_eq!(p[1].category_id, ids(&[4, 7]));

    for rel in [
        "odoo-19.0/jsonrpc/flow_02_find_customer.json",
        "odoo-18.0/jsonrpc/flow_02_find_customer.json",
    ] {
        let p: Vec<Partner> = records(&dir, rel);
        assert_eq!(p[0].id, RecordId(15));
        assert_eq!(p[0].name.as_deref(), Some("Azure Interior"));
    }
}

#[test]
fn partner_of_odoo_16_and_17_with_mobile() {
    let p: Partner = serde_json::from_value(json!({
        "id": 7, "name": "Brandon Freeman", "is_company": false, "type": "private",
        "mobile": "+1 555-0100", "parent_id": [15, "Azure Interior"],
        "property_payment_term_id": [4, "30 Days"], "customer_rank": 3, "active": false
    }))
    .unwrap();
    assert_eq!(p.mobile.as_deref(), Some("+1 555-0100"));
    assert_eq!(
        p.address_type,
        Some(odoo_connect::odoo::models::partner::PartnerAddressType::Private)
    );
    assert_eq!(p.property_payment_term_id, m2o(4, "30 Days"));
    assert_eq!(p.customer_rank, 3);
    assert!(!p.active);
    // A 19 record has no `mobile` at all.
    let p: Partner = serde_json::from_value(json!({"id": 7, "name": "Brandon Freeman"})).unwrap();
    assert_eq!(p.mobile, None);
}

// ---------------------------------------------------------------------------------------------
// sale.order, sale.order.line

#[test]
fn sale_orders_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_sale_order_search_read.json",
        "odoo-19.0/json2/business_sale_order_search_read.json",
    ] {
        let o: Vec<SaleOrder> = records(&dir, rel);
        assert_eq!(o.len(), 3);
        assert_eq!((o[0].id, o[0].name.as_str()), (RecordId(4), "S00004"));
        assert_eq!(o[0].state, Some(SaleOrderState::Sale));
        assert_eq!(o[0].date_order, dt("2026-11-23 00:41:01"));
        assert_eq!(o[0].partner_id, m2o(10, "Gemini Furniture"));
        assert_eq!(o[0].currency_id, m2o(1, "USD"));
        assert_eq!(o[0].amount_untaxed.to_string(), "2240.0");
        assert_eq!(o[0].order_line, ids(&[8, 9, 10, 11]));
        assert_eq!(o[0].invoice_status, Some(InvoiceStatus::No));
        assert!(o[0].invoice_ids.is_empty() && o[0].project_ids.is_empty());
        assert_eq!(o[0].user_id, m2o(2, "Mitchell Admin"));
        assert_eq!(o[0].company_id, m2o(1, "YourCompany"));
        assert_eq!(o[1].amount_tax.to_string(), "112.5");
        assert_eq!(o[1].amount_total.to_string(), "862.5");
        assert_eq!(o[2].invoice_status, Some(InvoiceStatus::ToInvoice));
        assert_round_trips(&o);
    }
    let o: Vec<SaleOrder> = records(
        &dir,
        "odoo-18.0/jsonrpc/business_sale_order_search_read.json",
    );
    assert_eq!(o[0].partner_id, m2o(11, "Gemini Furniture"));
    assert_eq!(o[1].partner_id, m2o(16, "Lumber Inc"));
    assert_eq!(o[1].amount_total.to_string(), "750.0");
    assert_eq!(o[2].amount_total.to_string(), "1706.0");

    // The contract-to-cash flow: draft, confirmed (a project appears), invoiced.
    for (ver, order, project, invoice) in [("19", 29, 14, 57), ("18", 27, 12, 25)] {
        let draft: Vec<SaleOrder> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_04_read_sale_order_draft.json"),
        );
        let d = &draft[0];
        assert_eq!(d.id, RecordId(order));
        assert_eq!(d.name, format!("S000{order}"));
        assert_eq!(d.state, Some(SaleOrderState::Draft));
        assert_eq!(d.amount_untaxed.to_string(), "3703.5");
        assert_eq!(d.amount_tax.to_string(), "555.53");
        assert_eq!(d.amount_total.to_string(), "4259.03");
        assert!(d.project_ids.is_empty());
        let confirmed: Vec<SaleOrder> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_06_read_sale_order_confirmed.json"),
        );
        assert_eq!(confirmed[0].state, Some(SaleOrderState::Sale));
        assert_eq!(confirmed[0].invoice_status, Some(InvoiceStatus::ToInvoice));
        assert_eq!(confirmed[0].project_ids, ids(&[project]));
        let invoiced: Vec<SaleOrder> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_10_read_sale_order_invoiced.json"),
        );
        assert_eq!(invoiced[0].invoice_status, Some(InvoiceStatus::Invoiced));
        assert_eq!(invoiced[0].invoice_ids, ids(&[invoice]));
        // Fields the read did not ask for take their empty value.
        assert_eq!(invoiced[0].state, None);
        assert!(invoiced[0].amount_total.is_zero());
    }
    let o: Vec<SaleOrder> = records(
        &dir,
        "odoo-19.0/json2/flow_06_read_sale_order_confirmed.json",
    );
    assert_eq!(o[0].project_ids.len(), 1);

    // Datetimes are UTC whatever the context's tz.
    for rel in [
        "odoo-19.0/jsonrpc/datetime_tz_none.json",
        "odoo-19.0/jsonrpc/datetime_tz_asia_tokyo.json",
    ] {
        let o: Vec<SaleOrder> = records(&dir, rel);
        assert_eq!(o[0].date_order, dt("2026-11-23 00:41:01"));
        assert_eq!(o[0].write_date, dt("2026-11-23 00:40:57"));
    }
    let o: Vec<SaleOrder> = records(&dir, "odoo-18.0/jsonrpc/datetime_tz_none.json");
    assert_eq!(o[0].date_order, dt("2026-11-23 01:15:17"));
}

#[test]
fn sale_order_of_odoo_16_done_state() {
    let o: SaleOrder = serde_json::from_value(json!({
        "id": 3, "name": "S00003", "state": "done", "amount_total": 10.1,
        "client_order_ref": "PO-42", "validity_date": "2023-01-31", "project_id": false
    }))
    .unwrap();
    assert_eq!(o.state, Some(SaleOrderState::Done));
    assert!(!o.locked);
    assert!(o.is_locked());
    assert_eq!(o.client_order_ref.as_deref(), Some("PO-42"));
    assert_eq!(o.validity_date, day("2023-01-31"));
    assert_eq!(o.amount_total.to_string(), "10.1");
    // A state added by a later Odoo is kept, not refused.
    let o: SaleOrder =
        serde_json::from_value(json!({"id": 3, "name": "S00003", "state": "on_hold"})).unwrap();
    assert_eq!(o.state.unwrap().as_str(), "on_hold");
    let o: SaleOrder =
        serde_json::from_value(json!({"id": 3, "name": "S00003", "state": "sale", "locked": true}))
            .unwrap();
    assert!(o.is_locked());
}

#[test]
fn sale_order_lines_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_sale_order_line_search_read.json",
        "odoo-19.0/json2/business_sale_order_line_search_read.json",
    ] {
        let raw = raw_records(&dir, rel);
        assert!(raw[0].contains_key("product_uom_id") && raw[0].contains_key("tax_ids"));
        let l: Vec<SaleOrderLine> = records(&dir, rel);
        assert_eq!(l[0].id, RecordId(8));
        assert_eq!(l[0].order_id, m2o(4, "S00004"));
        assert_eq!(l[0].name, "Virtual Interior Design");
        assert_eq!(l[0].product_id, m2o(3, "Virtual Interior Design"));
        assert_eq!(l[0].product_uom_id, m2o(4, "Hours"));
        assert_eq!(l[0].product_uom_qty.to_string(), "16.0");
        assert_eq!(l[0].qty_delivered_method, Some(QtyDeliveredMethod::Manual));
        assert!(l[0].qty_delivered.is_zero() && l[0].qty_invoiced.is_zero());
        assert_eq!(l[0].price_unit.to_string(), "75.0");
        assert_eq!(l[0].price_subtotal.to_string(), "1200.0");
        assert_eq!(l[0].price_total.to_string(), "1200.0");
        assert_eq!(l[0].tax_ids, ids(&[3]));
        assert_eq!(l[0].invoice_status, Some(InvoiceStatus::No));
        assert!(l[0].is_service && !l[1].is_service);
        assert_eq!(l[1].product_uom_id, m2o(1, "Units"));
        assert_eq!(
            l[2].name,
            "[FURN_6741] Large Meeting Table\nBig table seats 10\u{2013}12 for team discussions"
        );
        assert_round_trips(&l);
    }
    let rel = "odoo-18.0/jsonrpc/business_sale_order_line_search_read.json";
    let raw = raw_records(&dir, rel);
    assert!(raw[0].contains_key("product_uom") && raw[0].contains_key("tax_id"));
    let l: Vec<SaleOrderLine> = records(&dir, rel);
    assert_eq!(l[0].product_uom_id, m2o(4, "Hours"));
    assert!(l[0].tax_ids.is_empty());
    assert_eq!(l[1].product_uom_id, m2o(1, "Units"));
    assert_eq!(l[2].product_id, m2o(35, "[FURN_6741] Large Meeting Table"));
    assert_eq!(l[2].price_subtotal.to_string(), "450.0");
}

#[test]
fn sale_order_line_of_odoo_17() {
    let l: SaleOrderLine = serde_json::from_value(json!({
        "id": 5, "order_id": [2, "S00002"], "name": "Consulting", "product_uom": [4, "Hours"],
        "tax_id": [1, 2], "qty_delivered_method": "timesheet", "qty_delivered": 12.25,
        "price_unit": 150.0, "project_id": [3, "Implementation"], "task_id": false,
        "analytic_distribution": {"12,34": 100.0}, "display_type": false
    }))
    .unwrap();
    assert_eq!(l.product_uom_id, m2o(4, "Hours"));
    assert_eq!(l.tax_ids, ids(&[1, 2]));
    assert_eq!(l.qty_delivered_method, Some(QtyDeliveredMethod::Timesheet));
    assert_eq!(l.qty_delivered.to_string(), "12.25");
    assert_eq!(l.project_id, m2o(3, "Implementation"));
    assert_eq!(l.task_id, None);
    assert_eq!(l.display_type, None);
    assert_eq!(l.analytic_distribution, Some(json!({"12,34": 100.0})));
    // A section line has no product.
    let l: SaleOrderLine = serde_json::from_value(json!({
        "id": 6, "name": "Phase 1", "display_type": "line_section", "product_id": false,
        "product_uom_id": false, "tax_ids": false
    }))
    .unwrap();
    assert_eq!(
        l.display_type,
        Some(odoo_connect::odoo::models::sale::SaleLineDisplayType::LineSection)
    );
    assert_eq!((l.product_id, l.product_uom_id), (None, None));
    assert!(l.tax_ids.is_empty());
}

// ---------------------------------------------------------------------------------------------
// project.project, project.task, project.milestone

#[test]
fn projects_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for (rel, partner, manager, tasks) in [
        (
            "odoo-19.0/jsonrpc/business_project_project_search_read.json",
            7,
            (5, "Marc Demo"),
            21,
        ),
        (
            "odoo-19.0/json2/business_project_project_search_read.json",
            7,
            (5, "Marc Demo"),
            21,
        ),
        (
            "odoo-18.0/jsonrpc/business_project_project_search_read.json",
            8,
            (6, "Marc Demo"),
            13,
        ),
    ] {
        let p: Vec<Project> = records(&dir, rel);
        assert_eq!(
            (p[0].id, p[0].name.as_str()),
            (RecordId(1), "Office Design")
        );
        assert_eq!(p[0].partner_id, m2o(partner, "YourCompany, Joel Willis"));
        assert_eq!(p[0].account_id, m2o(24, "Office Design"));
        assert_eq!(p[0].sale_line_id, None);
        assert_eq!(p[0].sale_order_id, None);
        assert!(p[0].allow_billable && p[0].allow_timesheets);
        assert_eq!(p[0].company_id, None);
        assert_eq!(p[0].user_id, m2o(manager.0, manager.1));
        assert_eq!(p[0].task_count, tasks);
        assert_eq!(p[0].date_start, day("2026-09-21"));
        assert_eq!(p[0].date, day("2026-12-04"));
        assert_eq!(p[0].privacy_visibility, Some(PrivacyVisibility::Portal));
        assert_eq!(p[0].last_update_status, Some(ProjectStatus::OnTrack));
        assert_eq!(p[1].partner_id, None);
        assert!(!p[1].allow_billable);
        assert_eq!((p[1].date_start, p[1].date), (None, None));
        assert_eq!(p[1].privacy_visibility, Some(PrivacyVisibility::Followers));
        assert_eq!(p[1].last_update_status, Some(ProjectStatus::OnHold));
        assert_eq!(p[2].account_id, m2o(26, "Renovations"));
        assert_eq!(p[2].last_update_status, Some(ProjectStatus::Done));
        assert_round_trips(&p);
    }
}

#[test]
fn project_of_odoo_16_and_17_with_analytic_account_id() {
    let p: Project = serde_json::from_value(json!({
        "id": 4, "name": "Implementation", "analytic_account_id": [31, "Implementation"],
        "sale_line_id": [5, "S00002 - Consulting"], "allow_billable": true,
        "privacy_visibility": "employees"
    }))
    .unwrap();
    assert_eq!(p.account_id, m2o(31, "Implementation"));
    assert_eq!(p.sale_line_id, m2o(5, "S00002 - Consulting"));
    assert_eq!(p.privacy_visibility, Some(PrivacyVisibility::Employees));
    // No analytic account in the reply at all: None.
    let p: Project = serde_json::from_value(json!({"id": 4, "name": "Implementation"})).unwrap();
    assert_eq!(p.account_id, None);
}

#[test]
fn tasks_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_project_task_search_read.json",
        "odoo-19.0/json2/business_project_task_search_read.json",
    ] {
        let t: Vec<Task> = records(&dir, rel);
        assert_eq!(
            (t[0].id, t[0].name.as_str()),
            (RecordId(1), "Market Analysis")
        );
        assert_eq!(t[0].project_id, m2o(6, "Product Launch Campaign"));
        assert!(t[0].user_ids.is_empty());
        assert_eq!(t[0].stage_id, m2o(1, "New"));
        assert_eq!(t[0].state, Some(TaskState::InProgress));
        assert_eq!(t[0].priority, Some(TaskPriority::Low));
        assert_eq!(t[0].date_deadline, None);
        assert_eq!(
            (t[0].milestone_id.clone(), t[0].parent_id.clone()),
            (None, None)
        );
        assert!(t[0].allocated_hours.is_zero());
        assert_eq!(t[2].name, "Write Press Release");
        assert_round_trips(&t);
    }
    let t: Vec<Task> = records(
        &dir,
        "odoo-18.0/jsonrpc/business_project_task_search_read.json",
    );
    assert_eq!(
        (t[0].id, t[0].name.as_str()),
        (RecordId(1), "Office planning")
    );
    assert_eq!(t[0].stage_id, m2o(3, "Done"));
    assert_eq!(t[0].partner_id, m2o(8, "YourCompany, Joel Willis"));
    assert_eq!(t[0].allocated_hours.to_string(), "20.0");
    assert_eq!(t[0].effective_hours.to_string(), "42.0");
    assert_eq!(t[0].remaining_hours.to_string(), "-22.0");
    assert_eq!(t[0].milestone_id, m2o(1, "First Phase"));
    assert_eq!(t[1].user_ids, ids(&[6]));
    assert_eq!(t[2].date_deadline, dt("2026-11-24 00:00:00"));
    assert_eq!(t[2].milestone_id, m2o(2, "Second Phase"));
}

#[test]
fn task_of_odoo_16_with_planned_hours_and_a_date_deadline() {
    let t: Task = serde_json::from_value(json!({
        "id": 9, "name": "Design review", "project_id": [4, "Implementation"],
        "planned_hours": 12.5, "kanban_state": "normal", "date_deadline": "2023-05-01",
        "priority": "1", "sale_line_id": [5, "S00002 - Consulting"]
    }))
    .unwrap();
    assert_eq!(t.allocated_hours.to_string(), "12.5");
    assert_eq!(t.state, None);
    assert_eq!(t.date_deadline, dt("2023-05-01 00:00:00"));
    assert_eq!(t.priority, Some(TaskPriority::Priority1));
    assert_eq!(t.sale_line_id, m2o(5, "S00002 - Consulting"));
}

#[test]
fn milestones_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_project_milestone_search_read.json",
        "odoo-19.0/json2/business_project_milestone_search_read.json",
        "odoo-18.0/jsonrpc/business_project_milestone_search_read.json",
    ] {
        let m: Vec<Milestone> = records(&dir, rel);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].id, m[0].name.as_str()), (RecordId(1), "First Phase"));
        assert_eq!(m[0].project_id, m2o(1, "Office Design"));
        assert_eq!(m[0].deadline, day("2026-11-10"));
        assert!(m[0].is_reached);
        assert_eq!(m[0].reached_date, day("2026-11-23"));
        assert_eq!(m[0].sale_line_id, None);
        assert_eq!(m[0].quantity_percentage.to_string(), "0.0");
        assert_eq!(
            m[0].product_uom_qty.map(|q| q.to_string()).as_deref(),
            Some("0.0")
        );
        assert!(!m[1].is_reached);
        assert_eq!(m[1].reached_date, None);
        assert_eq!(m[2].deadline, day("2028-11-23"));
        assert_round_trips(&m);
    }
    // Milestone billing, as sale_project writes it; a 17 reply without product_uom_qty.
    let m: Milestone = serde_json::from_value(json!({
        "id": 4, "name": "Go-live", "project_id": [3, "Implementation"], "is_reached": true,
        "sale_line_id": [7, "S00003 - Implementation (milestones)"], "quantity_percentage": 0.25
    }))
    .unwrap();
    assert_eq!(m.quantity_percentage.to_string(), "0.25");
    assert_eq!(m.product_uom_qty, None);
    assert_eq!(m.sale_line_id.unwrap().id, RecordId(7));
}

// ---------------------------------------------------------------------------------------------
// account.analytic.line (timesheets)

#[test]
fn timesheets_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_account_analytic_line_search_read.json",
        "odoo-19.0/json2/business_account_analytic_line_search_read.json",
        "odoo-18.0/jsonrpc/business_account_analytic_line_search_read.json",
    ] {
        let t: Vec<Timesheet> = records(&dir, rel);
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].id, t[0].name.as_str()),
            (RecordId(1), "Requirements analysis")
        );
        assert_eq!(t[0].date, day("2026-11-22"));
        assert_eq!(t[0].employee_id, m2o(1, "Mitchell Admin"));
        assert_eq!(t[0].user_id, m2o(2, "Mitchell Admin"));
        assert_eq!(t[0].project_id, m2o(2, "Research & Development"));
        assert_eq!(t[0].task_id, None);
        assert_eq!(t[0].unit_amount.to_string(), "2.0");
        assert_eq!(t[0].amount.to_string(), "-200.0");
        assert_eq!(t[0].product_uom_id, m2o(4, "Hours"));
        assert_eq!(t[0].so_line, None);
        assert_eq!(
            t[0].timesheet_invoice_type,
            Some(TimesheetInvoiceType::NonBillable)
        );
        assert_eq!(t[0].timesheet_invoice_id, None);
        assert_eq!(t[0].currency_id, m2o(1, "USD"));
        assert_eq!(t[0].company_id, m2o(1, "YourCompany"));
        assert_eq!(t[0].account_id, m2o(25, "Research & Development"));
        assert_eq!(t[2].unit_amount.to_string(), "3.0");
        assert_eq!(t[2].amount.to_string(), "-300.0");
        assert_round_trips(&t);
    }
    let t: Timesheet = serde_json::from_value(json!({
        "id": 40, "name": "Workshop", "date": "2023-03-02", "unit_amount": 1.75,
        "amount": -131.25, "so_line": [5, "S00002 - Consulting"],
        "timesheet_invoice_type": "billable_time"
    }))
    .unwrap();
    assert_eq!(t.unit_amount.to_string(), "1.75");
    assert_eq!(t.amount.to_string(), "-131.25");
    assert_eq!(t.so_line, m2o(5, "S00002 - Consulting"));
}

// ---------------------------------------------------------------------------------------------
// account.move, account.payment, account.journal, account.move.line

#[test]
fn invoices_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for (rel, tax, journal) in [
        (
            "odoo-19.0/jsonrpc/business_account_move_out_invoice_search_read.json",
            "4762.5",
            "Sales",
        ),
        (
            "odoo-19.0/json2/business_account_move_out_invoice_search_read.json",
            "4762.5",
            "Sales",
        ),
        (
            "odoo-18.0/jsonrpc/business_account_move_out_invoice_search_read.json",
            "0.0",
            "Customer Invoices",
        ),
    ] {
        let m: Vec<AccountMove> = records(&dir, rel);
        assert_eq!(m[0].id, RecordId(1));
        assert_eq!(m[0].name.as_deref(), Some("INV/2026/00001"));
        assert_eq!(m[0].move_type, Some(MoveType::OutInvoice));
        assert!(m[0].is_customer_document());
        assert_eq!(m[0].state, Some(MoveState::Posted));
        assert_eq!(m[0].payment_state, Some(MovePaymentState::NotPaid));
        assert_eq!(m[0].partner_id, m2o(15, "Azure Interior"));
        assert_eq!(m[0].invoice_date, day("2026-11-01"));
        assert_eq!(m[0].invoice_date_due, day("2026-12-31"));
        assert_eq!(m[0].date, day("2026-11-01"));
        assert_eq!(m[0].currency_id, m2o(1, "USD"));
        assert_eq!(m[0].amount_untaxed.to_string(), "31750.0");
        assert_eq!(m[0].amount_tax.to_string(), tax);
        assert_eq!(m[0].amount_residual, m[0].amount_total);
        assert_eq!(
            (m[0].invoice_origin.clone(), m[0].reference.clone()),
            (None, None)
        );
        assert_eq!(m[0].invoice_line_ids, ids(&[5, 6]));
        assert_eq!(m[0].journal_id, m2o(1, journal));
        assert_round_trips(&m);
    }
    let m: Vec<AccountMove> = records(
        &dir,
        "odoo-19.0/jsonrpc/business_account_move_out_invoice_search_read.json",
    );
    assert_eq!(m[0].amount_total.to_string(), "36512.5");
    assert_eq!(m[0].line_ids, ids(&[5, 6, 29, 39]));
    assert_eq!(m[1].amount_total.to_string(), "48012.5");

    for (ver, id, number, line, origin) in [
        ("19", 57, "INV/2026/00010", 149, "S00029"),
        ("18", 25, "INV/2026/00005", 58, "S00027"),
    ] {
        let draft: Vec<AccountMove> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_11_read_invoice_draft.json"),
        );
        let d = &draft[0];
        assert_eq!(d.id, RecordId(id));
        assert_eq!(d.name, None);
        assert_eq!(d.state, Some(MoveState::Draft));
        assert_eq!(d.invoice_date, None);
        assert_eq!(d.invoice_origin.as_deref(), Some(origin));
        assert_eq!(d.amount_total.to_string(), "4259.03");
        assert_eq!(d.invoice_line_ids, ids(&[line]));
        let posted: Vec<AccountMove> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_13_read_invoice_posted.json"),
        );
        assert_eq!(posted[0].name.as_deref(), Some(number));
        assert_eq!(posted[0].state, Some(MoveState::Posted));
        assert_eq!(posted[0].invoice_date, day("2026-11-23"));
        assert_eq!(posted[0].amount_residual.to_string(), "4259.03");
        let paid: Vec<AccountMove> = records(
            &dir,
            &format!("odoo-{ver}.0/jsonrpc/flow_17_read_invoice_paid.json"),
        );
        assert_eq!(paid[0].payment_state, Some(MovePaymentState::Paid));
        assert_eq!(paid[0].amount_residual.to_string(), "0.0");
        assert!(paid[0].amount_residual.is_zero());
        assert_eq!(paid[0].matched_payment_ids, ids(&[1]));
    }
    let m: Vec<AccountMove> = records(&dir, "odoo-19.0/json2/flow_17_read_invoice_paid.json");
    assert_eq!(m[0].payment_state, Some(MovePaymentState::Paid));

    // 18 added `blocked`; older and future values are kept.
    let m: AccountMove = serde_json::from_value(json!({
        "id": 3, "payment_state": "blocked", "move_type": "out_refund", "ref": "RMA-7",
        "reversed_entry_id": [1, "INV/2026/00001"]
    }))
    .unwrap();
    assert_eq!(m.payment_state, Some(MovePaymentState::Blocked));
    assert_eq!(m.reference.as_deref(), Some("RMA-7"));
    assert!(m.is_customer_document());
    assert!(m.matched_payment_ids.is_empty());
    let m: AccountMove =
        serde_json::from_value(json!({"id": 3, "payment_state": "invoicing_legacy"})).unwrap();
    assert_eq!(m.payment_state, Some(MovePaymentState::InvoicingLegacy));
}

#[test]
fn payments_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for (rel, count, invoice, number) in [
        (
            "odoo-19.0/jsonrpc/business_account_payment_search_read.json",
            2,
            57,
            "INV/2026/00010",
        ),
        (
            "odoo-19.0/json2/business_account_payment_search_read.json",
            2,
            57,
            "INV/2026/00010",
        ),
        (
            "odoo-18.0/jsonrpc/business_account_payment_search_read.json",
            1,
            25,
            "INV/2026/00005",
        ),
    ] {
        let p: Vec<Payment> = records(&dir, rel);
        assert_eq!(p.len(), count);
        assert_eq!(p[0].id, RecordId(1));
        assert_eq!(p[0].name.as_deref(), Some("PBNK1/2026/00001"));
        assert_eq!(p[0].state, Some(PaymentState::Paid));
        assert!(p[0].is_done());
        assert_eq!(p[0].payment_type, Some(PaymentType::Inbound));
        assert_eq!(p[0].partner_type, Some(PaymentPartnerType::Customer));
        assert_eq!(p[0].amount.to_string(), "4259.03");
        assert_eq!(p[0].currency_id, m2o(1, "USD"));
        assert_eq!(p[0].date, day("2026-11-23"));
        assert_eq!(p[0].partner_id, m2o(15, "Azure Interior"));
        assert_eq!(p[0].journal_id, m2o(6, "Bank"));
        assert_eq!(p[0].memo.as_deref(), Some(number));
        assert_eq!(p[0].payment_method_line_id, m2o(1, "Manual Payment (Bank)"));
        assert!(p[0].is_reconciled && !p[0].is_matched);
        assert_eq!(p[0].reconciled_invoice_ids, ids(&[invoice]));
        assert_eq!(
            p[0].move_id,
            m2o(invoice + 1, &format!("PBNK1/2026/00001 ({number})"))
        );
        assert_round_trips(&p);
    }
    for (rel, number) in [
        (
            "odoo-19.0/jsonrpc/flow_18_payments_of_customer.json",
            "INV/2026/00010",
        ),
        (
            "odoo-18.0/jsonrpc/flow_18_payments_of_customer.json",
            "INV/2026/00005",
        ),
    ] {
        let p: Vec<Payment> = records(&dir, rel);
        assert_eq!(p[0].memo.as_deref(), Some(number));
        assert_eq!(p[0].amount.to_string(), "4259.03");
    }
}

#[test]
fn payment_of_odoo_17_with_ref() {
    let p: Payment = serde_json::from_value(json!({
        "id": 2, "name": "BNK1/2023/00002", "state": "posted", "ref": "INV/2023/00007",
        "amount": 1500.0, "payment_type": "inbound", "move_id": [31, "BNK1/2023/00002"]
    }))
    .unwrap();
    assert_eq!(p.memo.as_deref(), Some("INV/2023/00007"));
    assert_eq!(p.state, Some(PaymentState::Posted));
    assert!(p.is_done());
    // An 18+ payment without a journal entry.
    let p: Payment =
        serde_json::from_value(json!({"id": 3, "state": "in_process", "move_id": false})).unwrap();
    assert_eq!(p.state, Some(PaymentState::InProcess));
    assert!(!p.is_done());
    assert_eq!(p.move_id, None);
    assert_eq!(p.memo, None);
}

#[test]
fn journals_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for (rel, count) in [
        ("odoo-19.0/jsonrpc/allowed_company_ids_default.json", 2),
        ("odoo-19.0/json2/allowed_company_ids_default.json", 2),
        ("odoo-19.0/jsonrpc/allowed_company_ids_2.json", 1),
        ("odoo-18.0/jsonrpc/allowed_company_ids_default.json", 1),
    ] {
        let j: Vec<Journal> = records(&dir, rel);
        assert_eq!(j.len(), count, "{rel}");
        let last = j.last().unwrap();
        assert_eq!((last.name.as_str(), last.code.as_str()), ("Bank", "BNK1"));
        assert_eq!(last.journal_type, Some(JournalType::Bank));
        assert!(last.active);
        assert_round_trips(&j);
    }
    let j: Vec<Journal> = records(&dir, "odoo-19.0/jsonrpc/allowed_company_ids_default.json");
    assert_eq!((j[0].id, j[1].id), (RecordId(6), RecordId(12)));
    assert_eq!(j[1].company_id, m2o(2, "My US Company"));
}

#[test]
fn move_lines_decode() {
    // No move line was recorded; this is the shape `read` gives (see fields_get below).
    let l: AccountMoveLine = serde_json::from_value(json!({
        "id": 150, "move_id": [57, "INV/2026/00010"], "move_name": "INV/2026/00010",
        "name": false, "display_type": "payment_term", "parent_state": "posted",
        "date": "2026-11-23", "date_maturity": "2026-12-31", "partner_id": [15, "Azure Interior"],
        "account_id": [6, "121000 Account Receivable"], "quantity": 1.0, "price_unit": -4259.03,
        "debit": 4259.03, "credit": 0.0, "balance": 4259.03, "amount_currency": 4259.03,
        "amount_residual": 0.0, "tax_ids": [], "tax_line_id": false, "sale_line_ids": [],
        "analytic_distribution": false, "reconciled": true, "matching_number": "P1"
    }))
    .unwrap();
    assert_eq!(
        l.display_type,
        Some(odoo_connect::odoo::models::account::MoveLineDisplayType::PaymentTerm)
    );
    assert_eq!(l.parent_state, Some(MoveState::Posted));
    assert_eq!(l.debit.to_string(), "4259.03");
    assert_eq!(l.price_unit.to_string(), "-4259.03");
    assert_eq!(l.name, None);
    assert_eq!(l.analytic_distribution, None);
    assert!(l.reconciled);
    assert_eq!(l.matching_number.as_deref(), Some("P1"));
    assert_eq!(l.date_maturity, day("2026-12-31"));
}

// ---------------------------------------------------------------------------------------------
// hr.employee, product.product, res.currency, res.company, res.users

#[test]
fn employees_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/business_hr_employee_search_read.json",
        "odoo-19.0/json2/business_hr_employee_search_read.json",
    ] {
        let e: Vec<Employee> = records(&dir, rel);
        assert_eq!(
            (e[0].id, e[0].name.as_deref()),
            (RecordId(1), Some("Mitchell Admin"))
        );
        assert_eq!(e[0].job_title.as_deref(), Some("Chief Technical Officer"));
        assert_eq!(e[0].work_email.as_deref(), Some("admin@example.com"));
        assert_eq!(e[0].department_id, m2o(2, "Management"));
        assert_eq!(e[0].parent_id, m2o(1, "Mitchell Admin"));
        assert_eq!(e[0].user_id, m2o(2, "Mitchell Admin"));
        assert_eq!(e[0].hourly_cost.to_string(), "100.0");
        assert_eq!(e[0].resource_calendar_id, m2o(4, "Standard 38 hours/week"));
        assert_eq!(e[1].user_id, None);
        assert_eq!(e[1].hourly_cost.to_string(), "40.0");
        assert_eq!(e[2].user_id, m2o(5, "Marc Demo"));
        assert_round_trips(&e);
    }
    let e: Vec<Employee> = records(
        &dir,
        "odoo-18.0/jsonrpc/business_hr_employee_search_read.json",
    );
    assert_eq!(e[0].parent_id, None);
    assert_eq!(e[0].coach_id, None);
    assert_eq!(e[0].job_title.as_deref(), Some("Chief Executive Officer"));
    assert_eq!(e[2].user_id, m2o(6, "Marc Demo"));
    assert_eq!(e[2].hourly_cost.to_string(), "75.0");
}

#[test]
fn products_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for (rel, taxes, uom_days, categ) in [
        (
            "odoo-19.0/jsonrpc/business_product_product_search_read.json",
            vec![1, 17],
            5,
            "Services",
        ),
        (
            "odoo-19.0/json2/business_product_product_search_read.json",
            vec![1, 17],
            5,
            "Services",
        ),
        (
            "odoo-18.0/jsonrpc/business_product_product_search_read.json",
            vec![],
            3,
            "All / Saleable / Services",
        ),
    ] {
        let p: Vec<Product> = records(&dir, rel);
        assert_eq!(
            (p[0].id, p[0].name.as_str()),
            (RecordId(1), "Restaurant Expenses")
        );
        assert_eq!(p[0].default_code, None);
        assert_eq!(p[0].product_type, Some(ProductType::Service));
        assert_eq!(p[0].detailed_type, None);
        assert_eq!(p[0].service_tracking, Some(ServiceTracking::No));
        assert_eq!(p[0].invoice_policy, Some(InvoicePolicy::Order));
        assert_eq!(p[0].service_policy, Some(ServicePolicy::OrderedPrepaid));
        assert_eq!(p[0].service_type, Some(ServiceType::Timesheet));
        assert_eq!(p[0].list_price.to_string(), "14.0");
        assert_eq!(p[0].standard_price.to_string(), "8.0");
        assert_eq!(p[0].uom_id, m2o(1, "Units"));
        assert_eq!(p[0].taxes_id, ids(&taxes));
        assert_eq!(p[0].product_tmpl_id, m2o(1, "Restaurant Expenses"));
        assert!(p[0].sale_ok);
        assert_eq!(p[0].project_id, None);
        assert_eq!(p[1].invoice_policy, Some(InvoicePolicy::Delivery));
        assert_eq!(p[1].service_policy, Some(ServicePolicy::DeliveredManual));
        assert_eq!(p[1].service_type, Some(ServiceType::Manual));
        assert_eq!(p[1].uom_id.as_ref().map(|u| u.id), Some(RecordId(uom_days)));
        assert_eq!(
            p[2].service_tracking,
            Some(ServiceTracking::TaskGlobalProject)
        );
        assert_eq!(p[2].service_policy, Some(ServicePolicy::DeliveredTimesheet));
        assert_eq!(p[2].list_price.to_string(), "30.75");
        assert_eq!(p[2].lst_price.to_string(), "30.75");
        assert_eq!(p[2].standard_price.to_string(), "20.5");
        assert_eq!(p[2].categ_id.as_ref().map(Many2one::name), Some(categ));
        assert_round_trips(&p);
    }
    for (rel, id) in [
        ("odoo-19.0/jsonrpc/flow_01_find_service_product.json", 56),
        ("odoo-18.0/jsonrpc/flow_01_find_service_product.json", 49),
    ] {
        let p: Vec<Product> = records(&dir, rel);
        assert_eq!(p[0].id, RecordId(id));
        assert_eq!(p[0].service_tracking, Some(ServiceTracking::ProjectOnly));
        assert_eq!(p[0].list_price.to_string(), "123.0");
        assert_eq!(p[0].uom_id, m2o(4, "Hours"));
    }
}

#[test]
fn product_of_odoo_17_with_detailed_type() {
    let p: Product = serde_json::from_value(json!({
        "id": 12, "name": "Office Chair", "type": "product", "detailed_type": "product",
        "invoice_policy": "delivery", "service_tracking": "no", "list_price": 70.0
    }))
    .unwrap();
    assert_eq!(p.product_type, Some(ProductType::Storable));
    assert_eq!(p.detailed_type, Some(ProductType::Storable));
    let p: Product = serde_json::from_value(json!({
        "id": 13, "name": "Conference ticket", "type": "service", "detailed_type": "event"
    }))
    .unwrap();
    assert_eq!(p.detailed_type.unwrap().as_str(), "event");
    let p: Product =
        serde_json::from_value(json!({"id": 14, "name": "Starter pack", "type": "combo"})).unwrap();
    assert_eq!(p.product_type, Some(ProductType::Combo));
}

#[test]
fn currency_from_recorded_replies() {
    let dir = fixtures_or_skip!();
    for rel in [
        "odoo-19.0/jsonrpc/read_all_fields_currency.json",
        "odoo-19.0/json2/read_all_fields_currency.json",
        "odoo-18.0/jsonrpc/read_all_fields_currency.json",
    ] {
        let c: Vec<Currency> = records(&dir, rel);
        assert_eq!((c[0].id, c[0].name.as_str()), (RecordId(1), "USD"));
        assert_eq!(c[0].symbol, "$");
        assert_eq!(c[0].full_name.as_deref(), Some("United States dollar"));
        assert_eq!(c[0].rounding.to_string(), "0.01");
        assert_eq!(c[0].decimal_places, 2);
        assert_eq!(c[0].position, Some(CurrencyPosition::Before));
        assert_eq!(c[0].rate.map(|r| r.to_string()).as_deref(), Some("1.0"));
        assert_eq!(c[0].currency_unit_label.as_deref(), Some("Dollars"));
        assert_eq!(c[0].currency_subunit_label.as_deref(), Some("Cents"));
        assert!(c[0].active);
        assert_eq!(c[0].display_name.as_deref(), Some("USD"));
        assert_round_trips(&c);
    }
}

#[test]
fn companies_and_users_decode() {
    // No company or user record was recorded; these follow the recorded fields_get.
    let c: Company = serde_json::from_value(json!({
        "id": 2, "display_name": "My US Company", "name": "My US Company",
        "partner_id": [44, "My US Company"], "currency_id": [1, "USD"], "parent_id": false,
        "country_id": [233, "United States"], "vat": false, "company_registry": false,
        "email": "info@company.example.com", "phone": false, "street": "1 Main St",
        "city": "Springfield", "zip": "01101", "website": false, "active": true,
        "write_date": "2026-11-23 00:39:32"
    }))
    .unwrap();
    assert_eq!(c.name, "My US Company");
    assert_eq!(c.partner_id, m2o(44, "My US Company"));
    assert_eq!(c.currency_id, m2o(1, "USD"));
    assert_eq!((c.parent_id.clone(), c.vat.clone()), (None, None));
    assert_eq!(c.zip.as_deref(), Some("01101"));
    assert_eq!(c.write_date, dt("2026-11-23 00:39:32"));

    let u: User = serde_json::from_value(json!({
        "id": 5, "name": "Marc Demo", "login": "demo", "email": "mark.brown23@example.com",
        "partner_id": [7, "Marc Demo"], "company_id": [1, "YourCompany"], "company_ids": [1],
        "share": false, "active": true
    }))
    .unwrap();
    assert_eq!(u.login, "demo");
    assert_eq!(u.partner_id, m2o(7, "Marc Demo"));
    assert_eq!(u.company_ids, ids(&[1]));
    assert!(!u.share);
}

// ---------------------------------------------------------------------------------------------
// Fields per version, checked against the recorded fields_get of 19.0 and 18.0

/// A model's `Model::fields`.
type FieldsFn = fn(&ServerVersion) -> Vec<&'static str>;

fn model_fields() -> Vec<(&'static str, FieldsFn)> {
    vec![
        (Partner::MODEL, Partner::fields),
        (Company::MODEL, Company::fields),
        (Currency::MODEL, Currency::fields),
        (User::MODEL, User::fields),
        (Employee::MODEL, Employee::fields),
        (Product::MODEL, Product::fields),
        (SaleOrder::MODEL, SaleOrder::fields),
        (SaleOrderLine::MODEL, SaleOrderLine::fields),
        (Project::MODEL, Project::fields),
        (Task::MODEL, Task::fields),
        (Milestone::MODEL, Milestone::fields),
        (Timesheet::MODEL, Timesheet::fields),
        (AccountMove::MODEL, AccountMove::fields),
        (AccountMoveLine::MODEL, AccountMoveLine::fields),
        (Payment::MODEL, Payment::fields),
        (Journal::MODEL, Journal::fields),
    ]
}

#[test]
fn fields_exist_in_the_recorded_fields_get_of_each_version() {
    let dir = fixtures_or_skip!();
    for (model, fields) in model_fields() {
        for major in [19, 18] {
            let known = fields_get(&dir, major, model)
                .unwrap_or_else(|| panic!("no fields_get of {model} for {major}"));
            let asked = fields(&v(major));
            assert_eq!(asked.first(), Some(&"id"), "{model}");
            let mut unique = asked.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), asked.len(), "{model}: a field is named twice");
            for f in &asked {
                assert!(
                    known.contains_key(*f),
                    "{model} on Odoo {major}.0 has no field `{f}`, yet fields() names it"
                );
            }
        }
    }
}

#[test]
fn fields_of_18_never_name_19_only_fields_and_vice_versa() {
    let dir = fixtures_or_skip!();
    for (model, fields) in model_fields() {
        let (Some(f19), Some(f18)) = (fields_get(&dir, 19, model), fields_get(&dir, 18, model))
        else {
            panic!("no fields_get of {model}");
        };
        for f in fields(&v(18)) {
            assert!(
                f18.contains_key(f),
                "{model}: `{f}` asked of 18 but 19-only"
            );
        }
        for f in fields(&v(19)) {
            assert!(
                f19.contains_key(f),
                "{model}: `{f}` asked of 19 but 18-only"
            );
        }
    }
    // The recorded failure: asking 18.0 for the 19.0 names of sale.order.line fields.
    let text = std::fs::read_to_string(
        dir.join("odoo-18.0/jsonrpc/error_search_read_19_field_names.json"),
    )
    .unwrap();
    let exchange: Value = serde_json::from_str(&text).unwrap();
    let asked = &exchange["request"]["body"]["params"]["args"][6]["fields"];
    let refused: Vec<&str> = asked
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(refused, ["product_uom_id", "tax_ids"]);
    assert_eq!(
        exchange["response"]["body"]["error"]["data"]["name"],
        "builtins.ValueError"
    );
    let of18 = SaleOrderLine::fields(&v(18));
    let of19 = SaleOrderLine::fields(&v(19));
    for f in refused {
        assert!(!of18.contains(&f), "{f} must not be asked of 18");
        assert!(of19.contains(&f), "{f} must be asked of 19");
    }
    assert!(of18.contains(&"product_uom") && of18.contains(&"tax_id"));
    assert!(!of19.contains(&"product_uom") && !of19.contains(&"tax_id"));

    // `ref` on account.payment is refused by both recorded servers.
    for ver in ["19", "18"] {
        let text = std::fs::read_to_string(dir.join(format!(
            "odoo-{ver}.0/jsonrpc/error_search_read_unknown_field_in_fields.json"
        )))
        .unwrap();
        assert!(text.contains("\"ref\""));
        assert!(!Payment::fields(&v(ver.parse().unwrap())).contains(&"ref"));
    }
}

#[test]
fn fields_of_odoo_16_and_17_use_the_old_names() {
    let cases: &[(&str, FieldsFn, &[&str], &[&str])] = &[
        (
            "project.project 17",
            Project::fields,
            &["analytic_account_id"],
            &["account_id"],
        ),
        ("account.payment 17", Payment::fields, &["ref"], &["memo"]),
        (
            "product.product 17",
            Product::fields,
            &["detailed_type", "type"],
            &[],
        ),
        ("res.partner 17", Partner::fields, &["mobile"], &[]),
        (
            "sale.order.line 17",
            SaleOrderLine::fields,
            &["product_uom", "tax_id"],
            &["product_uom_id", "tax_ids"],
        ),
        ("sale.order 17", SaleOrder::fields, &["locked"], &[]),
        (
            "project.task 17",
            Task::fields,
            &["state", "allocated_hours"],
            &["planned_hours"],
        ),
        (
            "account.move 17",
            AccountMove::fields,
            &[],
            &["matched_payment_ids"],
        ),
    ];
    for (what, fields, present, absent) in cases {
        let f = fields(&v(17));
        for name in *present {
            assert!(f.contains(name), "{what}: {name}");
        }
        for name in *absent {
            assert!(!f.contains(name), "{what}: {name}");
        }
    }
    let task16 = Task::fields(&v(16));
    assert!(task16.contains(&"planned_hours"));
    assert!(!task16.contains(&"allocated_hours") && !task16.contains(&"state"));
    assert!(!SaleOrder::fields(&v(16)).contains(&"locked"));
    assert!(!Employee::fields(&v(16)).contains(&"work_contact_id"));
    // From 18 the new names only.
    for major in [18, 19, 20] {
        assert!(Project::fields(&v(major)).contains(&"account_id"));
        assert!(Payment::fields(&v(major)).contains(&"memo"));
        assert!(!Product::fields(&v(major)).contains(&"detailed_type"));
    }
    assert!(!Partner::fields(&v(19)).contains(&"mobile"));
}

// ---------------------------------------------------------------------------------------------
// Every model decodes a full record shaped by the recorded fields_get, and the same record with
// every empty value as `false`.

/// A value of the right shape for a field of this `fields_get` type.
fn sample(name: &str, meta: &Value) -> Value {
    let ty = meta["type"].as_str().unwrap_or("");
    match ty {
        "char" | "text" | "html" => json!(format!("{name} text")),
        "selection" => meta["selection"][0][0].clone(),
        "boolean" => json!(true),
        "integer" => json!(7),
        "float" | "monetary" => json!(1234.56),
        "date" => json!("2026-11-23"),
        "datetime" => json!("2026-11-23 10:15:00"),
        "many2one" => json!([3, format!("{name} record")]),
        "one2many" | "many2many" => json!([1, 2]),
        "json" => json!({"12": 100.0}),
        "binary" => json!("aGVsbG8="),
        other => panic!("{name}: no sample for {other}"),
    }
}

/// Odoo's empty value for a field of this type (numbers are never `false`; required fields are
/// never empty).
fn empty(name: &str, meta: &Value) -> Value {
    if meta["required"] == json!(true) {
        return sample(name, meta);
    }
    match meta["type"].as_str().unwrap_or("") {
        "integer" => json!(0),
        "float" | "monetary" => json!(0.0),
        _ => json!(false),
    }
}

fn check_shaped_records<T: Model + serde::Serialize>(dir: &std::path::Path) {
    for major in [19, 18] {
        let known = fields_get(dir, major, T::MODEL).unwrap();
        let mut full = Map::new();
        let mut blank = Map::new();
        for f in T::fields(&v(major)) {
            let meta = &known[f];
            full.insert(f.to_owned(), sample(f, meta));
            blank.insert(
                f.to_owned(),
                if f == "id" { json!(42) } else { empty(f, meta) },
            );
        }
        full.insert("id".to_owned(), json!(42));
        let text = Value::Object(full).to_string();
        let de = &mut serde_json::Deserializer::from_str(&text);
        let record: T = serde_path_to_error::deserialize(de)
            .unwrap_or_else(|e| panic!("{} {major}: {} at {}", T::MODEL, e.inner(), e.path()));
        assert_round_trips(std::slice::from_ref(&record));
        // Amounts keep the text of the number.
        let back = serde_json::to_value(&record).unwrap();
        for (f, meta) in &known {
            if matches!(meta["type"].as_str(), Some("monetary")) && back.get(f).is_some() {
                assert_eq!(back[f], json!(1234.56), "{} {f}", T::MODEL);
            }
        }
        let text = Value::Object(blank).to_string();
        let de = &mut serde_json::Deserializer::from_str(&text);
        let _: T = serde_path_to_error::deserialize(de).unwrap_or_else(|e| {
            panic!(
                "{} {major} (empty): {} at {}",
                T::MODEL,
                e.inner(),
                e.path()
            )
        });
        // Only the id is required.
        let _: T = serde_json::from_str(r#"{"id": 42}"#).unwrap();
        assert!(serde_json::from_str::<T>("{}").is_err());
    }
}

#[test]
fn every_model_decodes_records_shaped_by_the_recorded_fields_get() {
    let dir = fixtures_or_skip!();
    check_shaped_records::<Partner>(&dir);
    check_shaped_records::<Company>(&dir);
    check_shaped_records::<Currency>(&dir);
    check_shaped_records::<User>(&dir);
    check_shaped_records::<Employee>(&dir);
    check_shaped_records::<Product>(&dir);
    check_shaped_records::<SaleOrder>(&dir);
    check_shaped_records::<SaleOrderLine>(&dir);
    check_shaped_records::<Project>(&dir);
    check_shaped_records::<Task>(&dir);
    check_shaped_records::<Milestone>(&dir);
    check_shaped_records::<Timesheet>(&dir);
    check_shaped_records::<AccountMove>(&dir);
    check_shaped_records::<AccountMoveLine>(&dir);
    check_shaped_records::<Payment>(&dir);
    check_shaped_records::<Journal>(&dir);
}

#[test]
fn a_decode_failure_names_the_field() {
    let text = r#"{"id": 1, "name": "S00001", "amount_total": "lots"}"#;
    let de = &mut serde_json::Deserializer::from_str(text);
    let err = serde_path_to_error::deserialize::<_, SaleOrder>(de).unwrap_err();
    assert_eq!(err.path().to_string(), "amount_total");
    let text = r#"{"id": 1, "country_id": "United States"}"#;
    let de = &mut serde_json::Deserializer::from_str(text);
    let err = serde_path_to_error::deserialize::<_, Partner>(de).unwrap_err();
    assert_eq!(err.path().to_string(), "country_id");
}
