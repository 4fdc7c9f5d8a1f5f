//! Replies recorded from real Odoo 19.0 and 18.0 servers, decoded into the typed models and
//! mapped to canonical documents.
//!
//! The fixtures are read from `tests/fixtures/odoo-fixtures`, else from the shared folder next to
//! the crate (`../shared/odoo-fixtures`); when neither is there the tests fail, since they prove
//! nothing without them.

use std::path::PathBuf;
use std::str::FromStr;

use odoo_connect::canonical::*;
use odoo_connect::mapping::{
    MappingContext, MappingError, client, invoice, payment, project, time,
};
use odoo_connect::odoo::models::{
    AccountMove, Milestone as OdooMilestone, Partner, Payment as OdooPayment,
    Project as OdooProject, SaleOrderLine, Timesheet,
};
use odoo_connect::odoo::{RecordId, ServerVersion};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;

const VERSIONS: [&str; 2] = ["19.0", "18.0"];

fn k<T: FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn fixtures_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("tests/fixtures/odoo-fixtures"),
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/odoo-fixtures"
        )),
    ]
    .into_iter()
    .find(|p| p.join("odoo-19.0").is_dir())
}

#[derive(Deserialize)]
struct Exchange<T> {
    response: Response<T>,
}

#[derive(Deserialize)]
struct Response<T> {
    body: Body<T>,
}

#[derive(Deserialize)]
struct Body<T> {
    result: T,
}

/// The `result` of a recorded JSON-RPC reply, decoded from the file's text (amounts keep their
/// exact digits). `None` when the fixtures are not there.
fn recorded<T: DeserializeOwned>(version: &str, name: &str) -> Option<T> {
    let Some(dir) = fixtures_dir() else {
        panic!(
            "the recorded Odoo exchanges are missing from tests/fixtures/odoo-fixtures: the test \
             cannot pass without them"
        );
    };
    let path = dir.join(format!("odoo-{version}/jsonrpc/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let de = &mut serde_json::Deserializer::from_str(&text);
    let exchange: Exchange<T> =
        serde_path_to_error::deserialize(de).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(exchange.response.body.result)
}

fn ctx(version: &str) -> MappingContext {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap();
    let mut c = MappingContext::new(ServerVersion::new(major, 0));
    c.countries.insert(k("US"), 233);
    c.currencies.insert(Currency::USD, 1);
    c.companies.insert(k("your-company"), 1);
    c.default_legal_entity = Some(k("your-company"));
    c.default_currency = Some(Currency::USD);
    c.payment_methods.insert(PaymentMethod::BankTransfer, 1);
    c.employees.insert(k("mitchell"), 1);
    c.employee_roles.insert(k("mitchell"), k("cto"));
    c.projects.insert(k("office-design"), 1);
    c
}

#[test]
fn posted_customer_invoices() {
    for v in VERSIONS {
        let Some(moves) =
            recorded::<Vec<AccountMove>>(v, "business_account_move_out_invoice_search_read")
        else {
            return;
        };
        assert_eq!(moves.len(), 3, "{v}");
        let c = ctx(v);
        let invoices: Vec<InvoiceEvent> = moves
            .iter()
            .map(|m| invoice::from_odoo(m, &[], &c).unwrap())
            .collect();
        let first = &invoices[0];
        assert_eq!(first.kind, InvoiceKind::Invoice, "{v}");
        assert_eq!(first.status, InvoiceStatus::Posted, "{v}");
        assert_eq!(first.number.as_deref(), Some("INV/2026/00001"), "{v}");
        assert_eq!(first.key.as_str(), "odoo:account.move:1", "{v}");
        assert_eq!(first.refs.get("odoo"), Some("account.move,1"), "{v}");
        assert_eq!(first.client.as_str(), "odoo:res.partner:15", "{v}");
        assert_eq!(first.legal_entity.as_str(), "your-company", "{v}");
        assert_eq!(first.currency, Currency::USD, "{v}");
        assert_eq!(first.issue_date, date(2026, 11, 1), "{v}");
        assert_eq!(first.due_date, date(2026, 12, 31), "{v}");
        assert_eq!(first.untaxed.amount, d("31750.0"), "{v}");
        assert_eq!(first.amount_due, first.total, "{v}");
        // The 19.0 demo invoices carry 15 % tax; the 18.0 ones (generic chart) none.
        let tax = if v == "19.0" { "4762.5" } else { "0.0" };
        assert_eq!(first.tax.amount, d(tax), "{v}");
        assert_eq!(
            first.total.amount,
            first.untaxed.amount + first.tax.amount,
            "{v}"
        );
        for inv in &invoices {
            assert!(inv.status.is_posted(), "{v}");
            assert!(inv.contract.is_none(), "{v}");
        }
    }
}

#[test]
fn the_flow_invoice_before_and_after_its_payment() {
    for v in VERSIONS {
        let (Some(posted), Some(paid)) = (
            recorded::<Vec<AccountMove>>(v, "flow_13_read_invoice_posted"),
            recorded::<Vec<AccountMove>>(v, "flow_17_read_invoice_paid"),
        ) else {
            return;
        };
        let c = ctx(v);
        let posted = invoice::from_odoo(&posted[0], &[], &c).unwrap();
        assert_eq!(posted.status, InvoiceStatus::Posted, "{v}");
        assert_eq!(posted.total.amount, d("4259.03"), "{v}");
        assert_eq!(posted.amount_due.amount, d("4259.03"), "{v}");
        // The flow read the paid invoice's state and amounts only: its status maps, the whole
        // document does not (a partial read is refused, not filled with guesses).
        let paid = &paid[0];
        let state = paid.state.as_ref().unwrap();
        assert_eq!(
            invoice::status(state, paid.payment_state.as_ref()).unwrap(),
            InvoiceStatus::Paid,
            "{v}"
        );
        assert!(paid.amount_residual.is_zero(), "{v}");
        assert_eq!(
            invoice::from_odoo(paid, &[], &c).unwrap_err().path(),
            "account.move.move_type"
        );
    }
}

#[test]
fn payments_of_the_workflow() {
    for v in VERSIONS {
        let Some(payments) =
            recorded::<Vec<OdooPayment>>(v, "business_account_payment_search_read")
        else {
            return;
        };
        let mut c = ctx(v);
        let invoice_id = payments[0].reconciled_invoice_ids[0];
        c.invoices.insert(k("inv-flow"), invoice_id);
        let p = payment::from_odoo(&payments[0], &c).unwrap();
        assert_eq!(p.amount, Money::new(d("4259.03"), Currency::USD), "{v}");
        assert_eq!(p.date, date(2026, 11, 23), "{v}");
        assert_eq!(p.client.as_str(), "odoo:res.partner:15", "{v}");
        assert_eq!(p.method, PaymentMethod::BankTransfer, "{v}");
        assert!(p.reference.starts_with("INV/2026/"), "{v}");
        assert_eq!(p.allocations.len(), 1, "{v}");
        assert_eq!(p.allocations[0].invoice.as_str(), "inv-flow", "{v}");
        assert_eq!(p.allocations[0].amount, p.amount, "{v}");
        assert_eq!(p.unallocated().unwrap(), Money::zero(Currency::USD), "{v}");
        assert!(p.validate().is_ok(), "{v}");
    }
}

#[test]
fn timesheet_lines() {
    for v in VERSIONS {
        let Some(lines) =
            recorded::<Vec<Timesheet>>(v, "business_account_analytic_line_search_read")
        else {
            return;
        };
        let c = ctx(v);
        let entries: Vec<TimeEntry> = lines
            .iter()
            .map(|l| time::from_odoo(l, &c).unwrap())
            .collect();
        let first = &entries[0];
        assert_eq!(first.key.as_str(), "odoo:account.analytic.line:1", "{v}");
        assert_eq!(first.employee.as_str(), "mitchell", "{v}");
        assert_eq!(first.project.as_str(), "odoo:project.project:2", "{v}");
        assert_eq!(first.role.as_str(), "cto", "{v}");
        assert_eq!(first.date, date(2026, 11, 22), "{v}");
        assert_eq!(first.hours, d("2.0"), "{v}");
        assert_eq!(first.description, "Requirements analysis", "{v}");
        assert!(!first.billable, "{v}");
        assert!(first.billing_line.is_none(), "{v}");
        let total: Decimal = entries.iter().map(|e| e.hours).sum();
        assert_eq!(total, d("6.0"), "{v}");
        for e in &entries {
            assert!(e.validate().is_ok(), "{v}: {e:?}");
        }
        // Without the employee's usual role the role cannot be made up.
        let mut no_roles = c.clone();
        no_roles.employee_roles.clear();
        let err = time::from_odoo(&lines[0], &no_roles).unwrap_err();
        assert_eq!(err.path(), "role", "{v}");
    }
}

#[test]
fn projects_and_their_milestones() {
    for v in VERSIONS {
        let (Some(projects), Some(milestones)) = (
            recorded::<Vec<OdooProject>>(v, "business_project_project_search_read"),
            recorded::<Vec<OdooMilestone>>(v, "business_project_milestone_search_read"),
        ) else {
            return;
        };
        let c = ctx(v);
        let office = project::from_odoo(&projects[0], &milestones, &c).unwrap();
        assert_eq!(office.key.as_str(), "office-design", "{v}");
        assert_eq!(office.name, "Office Design", "{v}");
        assert_eq!(office.status, ProjectStatus::Open, "{v}");
        assert_eq!(office.start_date, Some(date(2026, 9, 21)), "{v}");
        assert_eq!(office.end_date, Some(date(2026, 12, 4)), "{v}");
        assert!(office.contract.is_none() && office.billing_line.is_none());
        let keys: Vec<&str> = office.milestones.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            keys,
            [
                "odoo:project.milestone:1",
                "odoo:project.milestone:2",
                "odoo:project.milestone:3"
            ],
            "{v}"
        );
        assert!(office.validate().is_ok(), "{v}");
        // An internal project has no customer: it is no client's project.
        let err = project::from_odoo(&projects[1], &milestones, &c).unwrap_err();
        assert_eq!(
            err,
            MappingError::MissingField {
                path: "project.project.partner_id".into()
            },
            "{v}"
        );
        // "done" (Renovations) is a closed project, once it has a customer.
        let mut renovations = projects[2].clone();
        renovations.partner_id = projects[0].partner_id.clone();
        let closed = project::from_odoo(&renovations, &milestones, &c).unwrap();
        assert_eq!(closed.status, ProjectStatus::Closed, "{v}");
        assert!(closed.milestones.is_empty(), "{v}");

        let first = project::milestone_from_odoo(&milestones[0], None, &c).unwrap();
        assert_eq!(first.name, "First Phase", "{v}");
        assert_eq!(
            first.acceptance,
            Acceptance::Accepted {
                on: date(2026, 11, 23)
            },
            "{v}"
        );
        assert_eq!(first.due_date, Some(date(2026, 11, 10)), "{v}");
        // Demo milestones sell nothing: zero in the default currency.
        assert_eq!(first.amount, Money::zero(Currency::USD), "{v}");
        let second = project::milestone_from_odoo(&milestones[1], None, &c).unwrap();
        assert_eq!(second.acceptance, Acceptance::Pending, "{v}");
    }
}

#[test]
fn a_milestone_priced_by_a_recorded_order_line() {
    for v in VERSIONS {
        let (Some(lines), Some(milestones)) = (
            recorded::<Vec<SaleOrderLine>>(v, "business_sale_order_line_search_read"),
            recorded::<Vec<OdooMilestone>>(v, "business_project_milestone_search_read"),
        ) else {
            return;
        };
        // Line 8: 16 hours of Virtual Interior Design at 75.00; the product_uom_id (19.0) and
        // product_uom (18.0) names decode alike.
        let line = &lines[0];
        assert_eq!(
            line.product_uom_id.as_ref().map(|u| u.name()),
            Some("Hours")
        );
        let mut reached = milestones[0].clone();
        reached.sale_line_id = Some(odoo_connect::odoo::Many2one::new(line.id));
        reached.quantity_percentage = d("0.25");
        reached.product_uom_qty = None;
        let m = project::milestone_from_odoo(&reached, Some(line), &ctx(v)).unwrap();
        assert_eq!(m.amount, Money::new(d("300.00"), Currency::USD), "{v}");
        // The line must be the milestone's.
        reached.sale_line_id = Some(odoo_connect::odoo::Many2one::new(RecordId(999)));
        assert!(project::milestone_from_odoo(&reached, Some(line), &ctx(v)).is_err());
    }
}

#[test]
fn customers() {
    for v in VERSIONS {
        let Some(partners) = recorded::<Vec<Partner>>(v, "search_read_partner_companies") else {
            return;
        };
        let c = ctx(v);
        let wood = partners
            .iter()
            .find(|p| p.name.as_deref() == Some("Wood Corner"))
            .unwrap();
        let client = client::from_odoo(wood, &c).unwrap();
        assert_eq!(client.legal_name, "Wood Corner", "{v}");
        assert_eq!(client.tax_id.as_deref(), Some("US12345672"), "{v}");
        assert_eq!(client.country.as_str(), "US", "{v}");
        assert_eq!(client.legal_entity.as_str(), "your-company", "{v}");
        assert_eq!(client.currency, Currency::USD, "{v}");
        assert_eq!(client.payment_terms, PaymentTerms::Immediate, "{v}");
        assert_eq!(
            client.refs.get("odoo"),
            Some(format!("res.partner,{}", wood.id).as_str())
        );
        // The search did not read addresses: an address without street or city.
        assert!(client.billing_address.lines.is_empty(), "{v}");
        assert!(!client.is_valid(), "{v}");
        // A country the context does not know cannot be made up.
        let mut unknown = c.clone();
        unknown.countries = Default::default();
        let err = client::from_odoo(wood, &unknown).unwrap_err();
        assert!(matches!(
            err,
            MappingError::UnknownId {
                model: "res.country",
                ..
            }
        ));
    }
}
