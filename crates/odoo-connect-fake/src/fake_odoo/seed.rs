//! The seed database: a small professional-services company in the shape of Odoo's demo data.
//!
//! Records that the recorded fixtures show keep their recorded ids and values (partners 1 and
//! 8 to 42, currency 1, the first sale orders, invoices, projects, tasks, milestones, timesheets,
//! employees and products, the bank journals 6 and 12, ...), and every id sequence continues
//! where the recorded database continued, so that replaying the recordings in order yields the
//! same ids. The rest is a coherent data set: two legal entities (1 "YourCompany" and 2 "My US
//! Company", both in USD as in the recording), customer companies with contacts, employees with
//! hourly costs, fixed-price, milestone and time-and-material service products, projects with
//! tasks and milestones, confirmed orders, posted and paid invoices, and timesheet lines.

#![allow(
    clippy::type_complexity,
    reason = "the seed is written as tables of tuples"
)]

use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value, json};

use super::store::{Credential, Db, Row};

/// API key of the administrator (uid 2).
pub(crate) const ADMIN_KEY: &str = "5e3c7c0a2f1d4b6e9a8c7b6d5e4f3a2b1c0d9e8f";
/// API key of the demo user (uid 5).
pub(crate) const DEMO_KEY: &str = "d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a0b2c4d6e8";

const T0: &str = "2026-11-23 00:39:32";
const T1: &str = "2026-11-23 00:40:57";

fn put(db: &mut Db, model: &str, id: i64, values: Value) {
    let mut row: Row = match values {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in [
        ("create_date", json!(T0)),
        ("write_date", json!(T0)),
        ("create_uid", json!(1)),
        ("write_uid", json!(1)),
    ] {
        row.entry(k.to_string()).or_insert(v);
    }
    // `null` in the seed means "no value at all", as for records created by SQL.
    row.retain(|_, v| !v.is_null());
    db.insert(model, id, row);
}

fn xmlid(db: &mut Db, id: i64, module: &str, name: &str, model: &str, res_id: i64) {
    put(
        db,
        "ir.model.data",
        id,
        json!({"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": true}),
    );
}

/// What to seed.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeedOptions {
    /// The Odoo major version (module versions).
    pub(crate) version: u8,
    /// Only Odoo's demo data: none of the firm's own products (`PS-*`, ids 57 to 61), orders,
    /// invoices, payments, projects, tasks, milestones or timesheets.
    pub(crate) demo_only: bool,
    /// Modules seeded as not installed.
    pub(crate) without_modules: Vec<String>,
}

/// Products of the firm's own catalogue (internal references `PS-*`), left out of the demo data.
const OWN_PRODUCTS: std::ops::RangeInclusive<i64> = 57..=61;

/// Fills `db` with the seed data.
pub(crate) fn seed(db: &mut Db, options: &SeedOptions) {
    companies_and_users(db);
    partners(db);
    catalog(db, options.demo_only);
    if !options.demo_only {
        pricelists(db);
    }
    accounting_setup(db, options.demo_only);
    hr(db);
    projects(db, options.demo_only);
    if !options.demo_only {
        sales(db);
        invoices(db);
        timesheets(db);
    }
    languages_and_parameters(db);
    modules(db, options);
    sequences(db);
}

/// The firm's default pricelist, in the company currency. A fresh Odoo 19 database with demo
/// data has no pricelist at all (they come with the pricelists setting): an order then has
/// none and is in its company's currency.
fn pricelists(db: &mut Db) {
    put(
        db,
        "product.pricelist",
        1,
        json!({"name": "Default", "currency_id": 1, "active": true, "sequence": 16}),
    );
    xmlid(db, 1022, "product", "list0", "product.pricelist", 1);
}

/// Installed modules of the recorded database, and a few that are not installed.
#[rustfmt::skip]
fn modules(db: &mut Db, options: &SeedOptions) {
    // (name, shortdesc, application, installed)
    let modules: [(&str, &str, bool, bool); 34] = [
        ("base", "Base", false, true),
        ("web", "Web", false, true),
        ("bus", "IM Bus", false, true),
        ("mail", "Discuss", true, true),
        ("base_setup", "Initial Setup Tools", false, true),
        ("resource", "Resource", false, true),
        ("uom", "Units of measure", false, true),
        ("product", "Products & Pricelists", false, true),
        ("analytic", "Analytic Accounting", false, true),
        ("portal", "Customer Portal", false, true),
        ("digest", "KPI Digests", false, true),
        ("payment", "Payment Engine", false, true),
        ("contacts", "Contacts", true, true),
        ("account", "Invoicing", true, true),
        ("account_payment", "Payment - Account", false, true),
        ("l10n_us", "United States - Accounting", false, true),
        ("sale", "Sales", false, true),
        ("sale_management", "Sales", true, true),
        ("hr", "Employees", true, true),
        ("project", "Project", true, true),
        ("hr_timesheet", "Task Logs", false, true),
        ("sale_project", "Sales - Project", false, true),
        ("sale_timesheet", "Sales Timesheet", false, true),
        ("project_account", "Project Accounting", false, true),
        ("hr_expense", "Expenses", true, false),
        ("crm", "CRM", true, false),
        ("purchase", "Purchase", true, false),
        ("stock", "Inventory", true, false),
        ("sale_stock", "Sales and Warehouse Management", false, false),
        ("website", "Website", true, false),
        ("hr_holidays", "Time Off", true, false),
        ("sale_expense", "Sales Expense", false, false),
        ("account_accountant", "Accounting", true, false),
        ("documents", "Documents", true, false),
    ];
    let version = if (17..=19).contains(&options.version) { options.version } else { 19 };
    for (i, (name, shortdesc, application, installed)) in modules.iter().enumerate() {
        let installed = *installed && !options.without_modules.iter().any(|m| m == name);
        let state = if *name == "account_accountant" || *name == "documents" {
            "uninstallable"
        } else if installed {
            "installed"
        } else {
            "uninstalled"
        };
        put(
            db,
            "ir.module.module",
            i as i64 + 1,
            json!({
                "name": name, "shortdesc": shortdesc, "application": application, "state": state,
                "latest_version": if installed { json!(format!("{version}.0.1.0")) } else { Value::Null },
                "author": "Odoo S.A.", "license": if state == "uninstallable" { "OEEL-1" } else { "LGPL-3" },
                "auto_install": false,
            }),
        );
    }
}

#[rustfmt::skip]
fn companies_and_users(db: &mut Db) {
    put(
        db,
        "res.currency",
        1,
        json!({
            "name": "USD", "iso_numeric": 840, "full_name": "United States dollar", "symbol": "$",
            "rate": 1.0, "inverse_rate": 1.0, "rate_string": "", "rate_ids": [1], "rounding": 0.01,
            "decimal_places": 2, "active": true, "position": "before", "date": "2010-01-01",
            "currency_unit_label": "Dollars", "currency_subunit_label": "Cents",
            "display_rounding_warning": false, "fiscal_country_codes": "US",
            "create_uid": null, "create_date": null, "write_uid": 1, "write_date": T0,
        }),
    );
    put(
        db,
        "res.currency",
        125,
        json!({
            "name": "EUR", "iso_numeric": 978, "full_name": "Euro", "symbol": "€", "rate": 0.92,
            "inverse_rate": 1.086957, "rate_string": "", "rounding": 0.01, "decimal_places": 2,
            "active": false, "position": "after", "currency_unit_label": "Euros",
            "currency_subunit_label": "Cents", "fiscal_country_codes": "",
        }),
    );
    for (id, name, code, phone) in [
        (21, "Belgium", "BE", 32),
        (38, "Canada", "CA", 1),
        (48, "China", "CN", 86),
        (57, "Germany", "DE", 49),
        (68, "Spain", "ES", 34),
        (75, "France", "FR", 33),
        (156, "Mexico", "MX", 52),
        (166, "Netherlands", "NL", 31),
        (203, "San Marino", "SM", 378),
        (231, "United Kingdom", "GB", 44),
        (233, "United States", "US", 1),
    ] {
        put(
            db,
            "res.country",
            id,
            json!({"name": name, "code": code, "phone_code": phone, "currency_id": if code == "US" { json!(1) } else { Value::Null }}),
        );
    }
    put(
        db,
        "res.company",
        1,
        json!({
            "name": "YourCompany", "partner_id": 1, "currency_id": 1, "sequence": 0,
            "email": "info@yourcompany.com", "phone": "+1 555-555-5556", "country_id": 233,
            "street": "8000 Marina Blvd, Suite 300", "city": "Brisbane", "zip": "94005",
            "website": "http://www.example.com", "fiscalyear_last_day": 31, "fiscalyear_last_month": "12",
            "layout_background": "Blank", "account_price_include": "tax_excluded",
            "child_ids": [], "user_ids": [2, 5],
        }),
    );
    put(
        db,
        "res.company",
        2,
        json!({
            "name": "My US Company", "partner_id": 42, "currency_id": 1, "sequence": 10,
            "email": "info@my-us-company.example.com", "country_id": 233, "city": "New York",
            "fiscalyear_last_day": 31, "fiscalyear_last_month": "12", "layout_background": "Blank",
            "account_price_include": "tax_excluded", "user_ids": [2, 5],
        }),
    );
    put(
        db,
        "res.users",
        1,
        json!({
            "name": "OdooBot", "login": "__system__", "partner_id": 2, "active": false,
            "company_id": 1, "company_ids": [1, 2], "lang": "en_US", "tz": "Europe/Brussels",
            "notification_type": "inbox", "share": false,
        }),
    );
    put(
        db,
        "res.users",
        2,
        json!({
            "name": "Mitchell Admin", "login": "admin", "partner_id": 3, "active": true,
            "email": "admin@yourcompany.example.com", "company_id": 1, "company_ids": [1, 2],
            "lang": "en_US", "tz": "Europe/Brussels", "notification_type": "email", "share": false,
            "create_date": "2026-11-23 00:39:31",
        }),
    );
    put(
        db,
        "res.users",
        5,
        json!({
            "name": "Marc Demo", "login": "demo", "partner_id": 6, "active": true,
            "email": "mark.brown23@example.com", "company_id": 1, "company_ids": [1, 2],
            "lang": "en_US", "tz": "Europe/Brussels", "notification_type": "email", "share": false,
        }),
    );
    db.credentials = vec![
        Credential {
            uid: 2,
            login: "admin".into(),
            password: "admin".into(),
            api_key: ADMIN_KEY.into(),
        },
        Credential {
            uid: 5,
            login: "demo".into(),
            password: "demo".into(),
            api_key: DEMO_KEY.into(),
        },
    ];
}

fn partner(db: &mut Db, id: i64, values: Value) {
    let mut row = match values {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in [
        ("active", json!(true)),
        ("type", json!("contact")),
        ("is_company", json!(false)),
        ("lang", json!("en_US")),
        ("autopost_bills", json!("ask")),
    ] {
        row.entry(k.to_string()).or_insert(v);
    }
    put(db, "res.partner", id, Value::Object(row));
}

#[rustfmt::skip]
fn partners(db: &mut Db) {
    for (id, name, parent, color) in [
        (1, "Vendor", None, 1),
        (2, "Prospects", None, 2),
        (3, "Employees", None, 3),
        (4, "Consulting Services", None, 5),
        (5, "Services", None, 4),
        (6, "Office Supplies", Some(1), 8),
        (7, "Desk Manufacturers", Some(1), 10),
    ] {
        put(
            db,
            "res.partner.category",
            id,
            json!({"name": name, "parent_id": parent, "color": color, "active": true}),
        );
    }
    partner(
        db,
        1,
        json!({
            "name": "YourCompany", "is_company": true, "email": "info@yourcompany.com",
            "phone": "+1 555-555-5556", "country_id": 233, "street": "8000 Marina Blvd, Suite 300",
            "city": "Brisbane", "zip": "94005", "website": "http://www.example.com",
            "write_date": "2026-11-23 00:39:57",
        }),
    );
    partner(
        db,
        2,
        json!({"name": "OdooBot", "email": "odoobot@example.com", "active": false}),
    );
    partner(
        db,
        3,
        json!({"name": "Mitchell Admin", "company_name": "YourCompany", "email": "admin@yourcompany.example.com", "country_id": 233, "city": "Scranton", "phone": "+1 555-555-5555"}),
    );
    partner(db, 4, json!({"name": "Public user", "active": false}));
    partner(
        db,
        5,
        json!({"name": "Default User Template", "active": false}),
    );
    partner(
        db,
        6,
        json!({"name": "Marc Demo", "company_name": "YourCompany", "email": "mark.brown23@example.com", "country_id": 233, "city": "Scranton"}),
    );
    partner(
        db,
        7,
        json!({"name": "Joel Willis", "company_name": "YourCompany", "email": "joel.willis63@example.com", "country_id": 233, "city": "Tracy"}),
    );
    let companies = [
        (8, "Wood Corner", "wood.corner26@example.com", 233, "US12345672", vec![6, 7], "2026-11-23 00:40:17", "Tracy", 1),
        (9, "Deco Addict", "deco_addict@yourcompany.example.com", 233, "US12345673", vec![7], "2026-11-23 00:41:06", "Pleasant Hill", 4),
        (10, "Gemini Furniture", "gemini_furniture@fake.geminifurniture.com", 203, "SM12345", vec![4, 7], "2026-11-23 00:40:57", "Serravalle", 4),
        (11, "Ready Mat", "ready.mat28@example.com", 233, "US12345675", vec![6, 7], "2026-11-23 00:41:06", "Tracy", 4),
        (12, "OpenWood", "openwood@example.com", 233, "US12345676", vec![5], T0, "Fremont", 4),
        (13, "LightsUp", "lightsup@example.com", 233, "US12345677", vec![2], T0, "San Francisco", 6),
        (14, "The Jackson Group", "jackson.group82@example.com", 233, "US12345678", vec![2], T0, "Sacramento", 4),
        (15, "Azure Interior", "azure.Interior24@example.com", 233, "US12345679", vec![4], T0, "Fremont", 6),
        (16, "Lumber Inc", "lumber-inv92@example.com", 233, "US12345674", vec![5], T0, "Stockton", 4),
    ];
    for (id, name, email, country, vat, cats, write, city, term) in companies {
        partner(
            db,
            id,
            json!({
                "name": name, "is_company": true, "email": email, "country_id": country, "vat": vat,
                "category_id": cats, "write_date": write, "city": city,
                "phone": format!("+1 555-01{id:02}"), "property_payment_term_id": term,
            }),
        );
    }
    partner(
        db,
        42,
        json!({
            "name": "My US Company", "is_company": true, "email": "info@my-us-company.example.com",
            "country_id": 233, "city": "New York",
        }),
    );
    let contacts: [(i64, &str, i64, &str); 25] = [
        (17, "Willie Burke", 8, "Wood Corner"),
        (18, "Ron Gibson", 8, ""),
        (19, "Douglas Fletcher", 9, ""),
        (20, "Floyd Steward", 9, ""),
        (21, "Edwin Hansen", 10, ""),
        (22, "Billy Fox", 11, ""),
        (23, "Jesse Brown", 10, ""),
        (24, "Soham Palmer", 10, ""),
        (25, "Kim Snyder", 11, ""),
        (26, "Edith Sanchez", 11, ""),
        (27, "Colleen Diaz", 15, ""),
        (28, "Brandon Freeman", 15, ""),
        (29, "Nicole Ford", 15, ""),
        (30, "Toni Rhodes", 16, ""),
        (31, "Theodore Gardner", 11, ""),
        (32, "Oscar Morgan", 10, ""),
        (33, "Tom Ruiz", 8, ""),
        (34, "Gordon Owens", 14, ""),
        (35, "Lorraine Douglas", 12, ""),
        (36, "Addison Olson", 9, ""),
        (37, "Sandra Neal", 11, ""),
        (38, "Julie Richards", 11, ""),
        (39, "Travis Mendoza", 11, ""),
        (40, "Chester Reed", 1, ""),
        (41, "Dwayne Newman", 1, ""),
    ];
    let suffixes = [
        76, 76, 51, 81, 58, 24, 74, 29, 39, 14, 67, 45, 28, 20, 84, 33, 89, 17, 53, 28, 59, 71, 46,
        79, 28,
    ];
    for ((id, name, parent, _), n) in contacts.iter().zip(suffixes) {
        let email = format!("{}{n}@example.com", name.to_lowercase().replace(' ', "."));
        let email = if *id == 17 {
            "willie.burke80@example.com".to_string()
        } else {
            email
        };
        let email = match *id {
            18 => "ron.gibson76@example.com".to_string(),
            19 => "douglas.fletcher51@example.com".to_string(),
            21 => "edwin.hansen58@example.com".to_string(),
            23 => "jesse.brown74@example.com".to_string(),
            33 => "tom.ruiz89@example.com".to_string(),
            36 => "addison.olson28@example.com".to_string(),
            40 => "chester.reed79@example.com".to_string(),
            41 => "dwayne.newman28@example.com".to_string(),
            _ => email,
        };
        partner(
            db,
            *id,
            json!({
                "name": name, "parent_id": parent, "email": email, "country_id": if *parent == 10 { 203 } else { 233 },
                "function": "Consultant",
            }),
        );
    }
}

#[rustfmt::skip]
fn catalog(db: &mut Db, demo_only: bool) {
    for (id, name, factor) in [(1, "Units", 1.0), (4, "Hours", 1.0), (5, "Days", 8.0)] {
        put(
            db,
            "uom.uom",
            id,
            json!({"name": name, "active": true, "relative_factor": factor, "rounding": 0.01}),
        );
    }
    for (id, name) in [(1, "All"), (2, "Expenses"), (3, "Services")] {
        put(
            db,
            "product.category",
            id,
            json!({"name": name, "complete_name": name}),
        );
    }
    // (id, name, code, type, tracking, invoice policy, service policy, service type, list, cost, uom, categ, description)
    let products: [(
        i64,
        &str,
        Option<&str>,
        &str,
        &str,
        &str,
        &str,
        &str,
        f64,
        f64,
        i64,
        i64,
        Option<&str>,
    ); 13] = [
        (1, "Restaurant Expenses", None, "service", "no", "order", "ordered_prepaid", "timesheet", 14.0, 8.0, 1, 2, None),
        (2, "Hotel Accommodation", None, "service", "no", "delivery", "delivered_manual", "manual", 400.0, 400.0, 5, 2, None),
        (3, "Virtual Interior Design", None, "service", "task_global_project", "delivery", "delivered_timesheet", "timesheet", 30.75, 20.5, 4, 3, None),
        (4, "Virtual Home Staging", None, "service", "no", "order", "ordered_prepaid", "manual", 38.25, 25.5, 4, 3, None),
        (6, "Office Lamp", Some("FURN_8888"), "consu", "no", "delivery", "ordered_prepaid", "manual", 40.0, 35.0, 1, 1, None),
        (7, "Office Chair", Some("FURN_7777"), "consu", "no", "delivery", "ordered_prepaid", "manual", 70.0, 55.0, 1, 1, None),
        (41, "Large Meeting Table", Some("FURN_6741"), "consu", "no", "delivery", "ordered_prepaid", "manual", 150.0, 120.0, 1, 1, Some("Big table seats 10–12 for team discussions")),
        (56, "Digital Marketing Campaign (project)", None, "service", "project_only", "order", "ordered_prepaid", "manual", 123.0, 80.0, 4, 3, None),
        (57, "Discovery Workshop (fixed price)", Some("PS-FIX"), "service", "task_in_project", "order", "ordered_prepaid", "manual", 4500.0, 2400.0, 1, 3, None),
        (58, "Implementation (milestones)", Some("PS-MIL"), "service", "project_only", "delivery", "delivered_milestones", "milestones", 24000.0, 15000.0, 1, 3, None),
        (59, "Senior Consultant (time & material)", Some("PS-TM"), "service", "task_in_project", "delivery", "delivered_timesheet", "timesheet", 150.0, 75.0, 4, 3, None),
        (60, "Solution Architect", Some("PS-ARC"), "service", "no", "order", "ordered_prepaid", "manual", 250.0, 120.0, 4, 3, None),
        (61, "Support Retainer (monthly)", Some("PS-SUP"), "service", "no", "order", "ordered_prepaid", "manual", 1200.0, 500.0, 1, 3, None),
    ];
    for (id, name, code, ptype, tracking, policy, spolicy, stype, price, cost, uom, categ, desc) in
        products
    {
        if demo_only && OWN_PRODUCTS.contains(&id) {
            continue;
        }
        let taxes = if ptype == "service" {
            json!([1, 17])
        } else {
            json!([3])
        };
        let project = Value::Null;
        put(
            db,
            "product.template",
            id,
            json!({
                "name": name, "type": ptype, "service_tracking": tracking, "invoice_policy": policy,
                "service_policy": spolicy, "service_type": stype, "list_price": price,
                "uom_id": uom, "categ_id": categ, "taxes_id": taxes, "sale_ok": true,
                "purchase_ok": ptype == "consu", "active": true, "project_id": project,
                "description_sale": desc,
            }),
        );
        put(
            db,
            "product.product",
            id,
            json!({
                "product_tmpl_id": id, "default_code": code, "active": true, "standard_price": cost,
            }),
        );
    }
}

#[rustfmt::skip]
fn accounting_setup(db: &mut Db, demo_only: bool) {
    // Taxes: 15% sale and purchase per company, a 0% exempt sale tax on company 1.
    for (id, name, usage, amount, company) in [
        (1, "15%", "sale", 15.0, 1),
        (2, "15%", "purchase", 15.0, 1),
        (3, "0% Exempt", "sale", 0.0, 1),
        (17, "15%", "sale", 15.0, 2),
        (18, "15%", "purchase", 15.0, 2),
    ] {
        put(
            db,
            "account.tax",
            id,
            json!({
                "name": name, "type_tax_use": usage, "amount_type": "percent", "amount": amount,
                "company_id": company, "active": true, "sequence": 1, "country_id": 233,
                "description": name, "price_include": false,
            }),
        );
    }
    // Journals per company. With `demo_only`, those of a fresh Odoo 19 demo database (ids,
    // sequences and codes as it numbers them, an Expense journal 7 and no cash journal); else
    // those of the recorded database, where company 2's bank journal is 12, and the firm's cash
    // journals 7 and 13.
    let journals: &[(i64, &str, &str, &str, i64, i64)] = if demo_only {
        &[
            (1, "Sales", "INV", "sale", 1, 5),
            (2, "Purchases", "BILL", "purchase", 1, 6),
            (3, "Miscellaneous Operations", "MISC", "general", 1, 9),
            (4, "Exchange Difference", "EXCH", "general", 1, 10),
            (5, "Cash Basis Taxes", "CABA", "general", 1, 10),
            (6, "Bank", "BNK1", "bank", 1, 7),
            (7, "Expense", "EXP", "purchase", 1, 99),
            (8, "Sales", "INV", "sale", 2, 5),
            (9, "Purchases", "BILL", "purchase", 2, 6),
            (10, "Miscellaneous Operations", "MISC", "general", 2, 9),
            (11, "Exchange Difference", "EXCH", "general", 2, 10),
            (12, "Cash Basis Taxes", "CABA", "general", 2, 10),
            (13, "Bank", "BNK1", "bank", 2, 7),
        ]
    } else {
        &[
            (1, "Sales", "INV", "sale", 1, 5),
            (2, "Purchases", "BILL", "purchase", 1, 6),
            (3, "Miscellaneous Operations", "MISC", "general", 1, 9),
            (4, "Exchange Difference", "EXCH", "general", 1, 9),
            (5, "Cash Basis Taxes", "CABA", "general", 1, 10),
            (6, "Bank", "BNK1", "bank", 1, 10),
            (7, "Cash", "CSH1", "cash", 1, 10),
            (8, "Sales", "INV", "sale", 2, 5),
            (9, "Purchases", "BILL", "purchase", 2, 6),
            (10, "Miscellaneous Operations", "MISC", "general", 2, 9),
            (11, "Exchange Difference", "EXCH", "general", 2, 9),
            (12, "Bank", "BNK1", "bank", 2, 10),
            (13, "Cash", "CSH1", "cash", 2, 10),
        ]
    };
    for &(id, name, code, jtype, company, seq) in journals {
        put(
            db,
            "account.journal",
            id,
            json!({
                "name": name, "code": code, "type": jtype, "company_id": company, "sequence": seq,
                "active": true, "invoice_reference_type": "invoice", "invoice_reference_model": "odoo",
                "currency_id": null,
            }),
        );
    }
    // The manual payment methods, inbound and outbound, of each bank (and cash) journal.
    let method_lines: &[(i64, i64, &str)] = if demo_only {
        &[(1, 6, "inbound"), (2, 6, "outbound"), (3, 13, "inbound"), (4, 13, "outbound")]
    } else {
        &[
            (1, 6, "inbound"),
            (2, 6, "outbound"),
            (3, 12, "inbound"),
            (4, 12, "outbound"),
            (5, 7, "inbound"),
            (6, 7, "outbound"),
        ]
    };
    for &(id, journal, ptype) in method_lines {
        put(
            db,
            "account.payment.method.line",
            id,
            json!({"name": "Manual Payment", "journal_id": journal, "payment_type": ptype, "sequence": 10}),
        );
    }
    for (id, name, rule) in [
        (1, "Immediate Payment", "days:0"),
        (2, "15 Days", "days:15"),
        (3, "21 Days", "days:21"),
        (4, "30 Days", "days:30"),
        (5, "45 Days", "days:45"),
        (6, "End of Following Month", "eofm:0"),
        (7, "10 Days after End of Next Month", "eofm:10"),
        (8, "30% Now, Balance 60 Days", "days:60"),
    ] {
        put(
            db,
            "account.payment.term",
            id,
            json!({"name": name, "active": true, "sequence": id * 10, "__due": rule}),
        );
    }
    put(
        db,
        "account.analytic.plan",
        1,
        json!({"name": "Projects", "color": 1}),
    );
}

#[rustfmt::skip]
fn hr(db: &mut Db) {
    put(
        db,
        "resource.calendar",
        1,
        json!({"name": "Standard 40 hours/week", "company_id": 1, "hours_per_day": 8.0, "tz": "Europe/Brussels", "active": true}),
    );
    put(
        db,
        "resource.calendar",
        4,
        json!({"name": "Standard 38 hours/week", "company_id": 1, "hours_per_day": 7.6, "tz": "Europe/Brussels", "active": true}),
    );
    for (id, name, parent) in [
        (1, "Administration", None),
        (2, "Management", None),
        (3, "Sales", Some(2)),
        (4, "Research & Development", Some(2)),
        (5, "Professional Services", Some(2)),
    ] {
        put(
            db,
            "hr.department",
            id,
            json!({"name": name, "parent_id": parent, "company_id": 1, "active": true}),
        );
    }
    // (id, name, job, email, department, user, cost)
    let employees: [(i64, &str, &str, &str, i64, Option<i64>, f64); 9] = [
        (1, "Mitchell Admin", "Chief Technical Officer", "admin@example.com", 2, Some(2), 100.0),
        (2, "Jeffrey Kelly", "Marketing and Community Manager", "jeffrey.kelly72@example.com", 3, None, 40.0),
        (3, "Marc Demo", "Experienced Developer", "mark.brown23@example.com", 4, Some(5), 75.0),
        (4, "Ronnie Hart", "Team Leader", "ronnie.hart87@example.com", 5, None, 90.0),
        (5, "Anita Oliver", "Experienced Developer", "anita.oliver32@example.com", 4, None, 70.0),
        (6, "Abigail Peterson", "Senior Consultant", "abigail.peterson39@example.com", 5, None, 122.5),
        (10, "Keith Byrd", "Consultant", "keith.byrd52@example.com", 5, None, 98.3),
        (17, "Jennie Fletcher", "Junior Consultant", "jennie.fletcher76@example.com", 5, None, 20.0),
        (19, "Walter Horton", "Consultant", "walter.horton80@example.com", 5, None, 65.7),
    ];
    for (id, name, job, email, dept, user, cost) in employees {
        put(
            db,
            "hr.employee",
            id,
            json!({
                "name": name, "job_title": job, "work_email": email, "department_id": dept,
                "parent_id": if id == 1 { Value::Null } else { json!(1) }, "coach_id": 1,
                "user_id": user, "company_id": 1, "hourly_cost": cost, "resource_calendar_id": 4,
                "active": true, "employee_type": "employee",
            }),
        );
    }
    if let Some(row) = db.row_mut("hr.employee", 1) {
        row.insert("parent_id".into(), json!(1));
    }
}

#[rustfmt::skip]
fn projects(db: &mut Db, demo_only: bool) {
    for (id, name, seq) in [
        (1, "New", 1),
        (2, "In Progress", 2),
        (3, "Done", 3),
        (4, "Cancelled", 4),
    ] {
        put(
            db,
            "project.task.type",
            id,
            json!({"name": name, "sequence": seq, "active": true, "fold": id >= 3}),
        );
    }
    if demo_only {
        return;
    }
    // (id, name, partner, account, billable, user, start, end, privacy, status, order, line)
    let projects: [(
        i64,
        &str,
        Option<i64>,
        i64,
        bool,
        i64,
        Option<&str>,
        Option<&str>,
        &str,
        &str,
        Option<i64>,
        Option<i64>,
    ); 10] = [
        (1, "Office Design", Some(7), 24, true, 5, Some("2026-09-21"), Some("2026-12-04"), "portal", "on_track", None, None),
        (2, "Research & Development", None, 25, false, 2, None, None, "followers", "on_hold", None, None),
        (3, "Renovations", None, 26, false, 2, Some("2026-09-23"), Some("2026-11-18"), "employees", "done", None, None),
        (5, "Home Construction", Some(12), 27, true, 2, Some("2026-10-01"), Some("2027-03-31"), "portal", "on_track", None, None),
        (6, "Product Launch Campaign", None, 28, false, 2, Some("2026-11-02"), Some("2027-01-15"), "employees", "to_define", None, None),
        (8, "Internal", None, 29, false, 2, None, None, "employees", "to_define", None, None),
        (10, "After-Sales Services", Some(14), 30, true, 2, None, None, "portal", "on_track", None, None),
        (11, "AGR - S00023 - Sales Order", Some(15), 31, true, 2, Some("2026-10-19"), None, "portal", "on_track", Some(23), Some(56)),
        (12, "DPC - S00024 - Sales Order", Some(16), 32, true, 2, Some("2026-10-26"), None, "portal", "at_risk", Some(24), Some(61)),
        (13, "DECO - S00025 - Sales Order", Some(9), 33, true, 2, Some("2026-11-16"), None, "portal", "on_track", Some(25), Some(64)),
    ];
    for (id, name, partner, account, billable, user, start, end, privacy, status, order, line) in
        projects
    {
        put(
            db,
            "account.analytic.account",
            account,
            json!({
                "name": name, "plan_id": 1, "partner_id": partner, "company_id": 1, "currency_id": 1, "active": true,
            }),
        );
        put(
            db,
            "project.project",
            id,
            json!({
                "name": name, "partner_id": partner, "account_id": account, "allow_billable": billable,
                "allow_timesheets": true, "company_id": null, "user_id": user, "date_start": start,
                "date": end, "privacy_visibility": privacy, "last_update_status": status,
                "sale_order_id": order, "sale_line_id": line, "active": true, "sequence": 10,
                "billing_type": if billable { "billable" } else { "not_billable" },
                "type_ids": [1, 2, 3, 4],
            }),
        );
    }
    // Tasks: (id, name, project, stage, state, allocated, deadline, sale line, priority)
    let tasks: [(
        i64,
        &str,
        i64,
        i64,
        &str,
        f64,
        Option<&str>,
        Option<i64>,
        &str,
    ); 16] = [
        (1, "Market Analysis", 6, 1, "01_in_progress", 0.0, None, None, "0"),
        (2, "Define Target Audience", 6, 1, "01_in_progress", 0.0, None, None, "0"),
        (3, "Write Press Release", 6, 1, "01_in_progress", 0.0, None, None, "0"),
        (4, "Meeting Room Furnitures", 1, 2, "01_in_progress", 24.0, Some("2026-12-01"), None, "1"),
        (5, "Office planning", 1, 2, "01_in_progress", 32.0, Some("2026-11-30"), None, "0"),
        (6, "Lunch Room: kitchen", 1, 1, "01_in_progress", 12.0, None, None, "0"),
        (7, "Customer analysis + Architecture", 2, 3, "1_done", 16.0, None, None, "0"),
        (8, "Planning and budget", 2, 2, "01_in_progress", 8.0, None, None, "0"),
        (9, "Room 1: Decoration", 3, 3, "1_done", 10.0, None, None, "0"),
        (10, "Foundations", 5, 2, "01_in_progress", 40.0, Some("2026-12-15"), None, "0"),
        (11, "Customer support requests", 10, 2, "01_in_progress", 0.0, None, None, "0"),
        (12, "S00023 - Digital Marketing Campaign (project)", 11, 2, "01_in_progress", 60.0, None, Some(56), "0"),
        (13, "S00024 - Discovery Workshop (fixed price)", 12, 3, "1_done", 16.0, None, Some(60), "0"),
        (14, "S00024 - Implementation", 12, 2, "01_in_progress", 120.0, Some("2027-01-31"), Some(61), "1"),
        (15, "S00025 - Senior Consultant (time & material)", 13, 2, "01_in_progress", 40.0, None, Some(64), "0"),
        (16, "Internal training", 8, 1, "01_in_progress", 0.0, None, None, "0"),
    ];
    for (id, name, project, stage, state, allocated, deadline, line, priority) in tasks {
        put(
            db,
            "project.task",
            id,
            json!({
                "name": name, "project_id": project, "stage_id": stage, "state": state,
                "allocated_hours": allocated, "date_deadline": deadline, "sale_line_id": line,
                "priority": priority, "active": true, "sequence": 10, "company_id": 1,
                "user_ids": if project == 6 { json!([]) } else { json!([2]) },
                "partner_id": null,
            }),
        );
    }
    // More tasks, so that the first projects have the recorded task counts (21, 10, 4).
    let names = [
        "Design review",
        "Budget estimate",
        "Supplier selection",
        "Floor plan",
        "Lighting study",
        "Acoustics",
        "Furniture order",
        "Installation",
        "Quality check",
        "Client walkthrough",
        "Invoice preparation",
        "Snag list",
        "Cabling",
        "Security badges",
        "Signage",
        "Kitchen fit-out",
        "Meeting pods",
        "Reception desk",
    ];
    let mut next = 17;
    for (project, count) in [(1, 18), (2, 8), (3, 3)] {
        for name in names.iter().take(count) {
            put(
                db,
                "project.task",
                next,
                json!({
                    "name": name, "project_id": project, "stage_id": 2, "state": "01_in_progress",
                    "allocated_hours": 8.0, "priority": "0", "active": true, "sequence": 20,
                    "company_id": 1, "user_ids": [2],
                }),
            );
            next += 1;
        }
    }
    // Milestones: (id, name, project, deadline, reached, reached date, sale line, percentage)
    let milestones: [(i64, &str, i64, &str, bool, Option<&str>, Option<i64>, f64); 6] = [
        (1, "First Phase", 1, "2026-11-10", true, Some("2026-11-23"), None, 0.0),
        (2, "Second Phase", 1, "2028-02-15", false, None, None, 0.0),
        (3, "Final Phase", 1, "2028-11-23", false, None, None, 0.0),
        (4, "Design sign-off", 12, "2026-11-13", true, Some("2026-11-13"), Some(61), 0.3),
        (5, "Go-live", 12, "2027-01-31", false, None, Some(61), 0.5),
        (6, "Hypercare end", 12, "2027-02-28", false, None, Some(61), 0.2),
    ];
    for (id, name, project, deadline, reached, reached_date, line, pct) in milestones {
        put(
            db,
            "project.milestone",
            id,
            json!({
                "name": name, "project_id": project, "deadline": deadline, "is_reached": reached,
                "reached_date": reached_date, "sale_line_id": line, "quantity_percentage": pct,
                "product_uom_qty": 0.0,
            }),
        );
    }
}

/// A sale order line: (id, order, product, name, uom, qty, price, taxes, delivered).
type Line = (
    i64,
    i64,
    i64,
    &'static str,
    i64,
    f64,
    f64,
    &'static [i64],
    f64,
);

#[rustfmt::skip]
fn sales(db: &mut Db) {
    // (id, partner, state, date_order, reference, term)
    let orders: [(i64, i64, &str, &str, Option<&str>, Option<i64>); 28] = [
        (1, 9, "draft", "2026-11-23 00:41:00", None, Some(4)),
        (2, 14, "draft", "2026-11-23 00:41:00", None, None),
        (3, 10, "sent", "2026-11-23 00:41:00", None, None),
        (4, 10, "sale", "2026-11-23 00:41:01", None, None),
        (5, 11, "draft", "2026-11-23 00:41:01", None, None),
        (6, 16, "sale", "2026-11-23 00:41:01", None, Some(4)),
        (7, 10, "sale", "2026-11-23 00:41:01", None, None),
        (8, 8, "sale", "2026-11-23 00:41:02", None, Some(4)),
        (9, 13, "sale", "2026-11-23 00:41:02", None, Some(4)),
        (10, 12, "sale", "2026-11-23 00:41:02", None, Some(4)),
        (11, 14, "cancel", "2026-11-23 00:41:02", None, None),
        (12, 15, "sale", "2026-11-23 00:41:02", None, Some(6)),
        (13, 9, "sale", "2026-11-23 00:41:02", None, Some(4)),
        (14, 11, "sale", "2026-11-23 00:41:03", None, Some(4)),
        (15, 16, "sale", "2026-11-23 00:41:03", None, Some(4)),
        (16, 8, "sent", "2026-11-23 00:41:03", None, None),
        (17, 13, "sale", "2026-11-23 00:41:03", None, Some(4)),
        (18, 15, "sale", "2026-11-23 00:41:03", None, Some(6)),
        (19, 12, "draft", "2026-11-23 00:41:04", None, None),
        (20, 9, "sale", "2026-11-23 00:41:04", None, Some(4)),
        (21, 10, "sale", "2026-11-16 09:12:00", None, Some(4)),
        (22, 11, "sale", "2026-11-09 14:30:00", None, Some(4)),
        (23, 15, "sale", "2026-10-19 10:00:00", Some("AGR"), Some(6)),
        (24, 16, "sale", "2026-10-26 15:20:00", Some("DPC"), Some(4)),
        (25, 9, "sale", "2026-11-16 11:45:00", Some("DECO"), Some(4)),
        (26, 14, "sale", "2026-10-23 08:05:00", None, Some(4)),
        (27, 13, "sale", "2026-11-02 16:40:00", None, Some(4)),
        (28, 12, "sale", "2026-11-02 09:10:00", None, Some(4)),
    ];
    for (id, partner, state, date, reference, term) in orders {
        put(
            db,
            "sale.order",
            id,
            json!({
                "name": format!("S{id:05}"), "partner_id": partner, "partner_invoice_id": partner,
                "partner_shipping_id": partner, "state": state, "date_order": date,
                "client_order_ref": reference, "payment_term_id": term, "company_id": 1,
                "currency_id": 1, "user_id": 2, "locked": false,
                "create_date": T1, "write_date": T1,
            }),
        );
    }
    let lines: [Line; 71] = [
        (1, 1, 4, "Virtual Home Staging", 4, 10.0, 38.25, &[3], 0.0),
        (2, 1, 6, "[FURN_8888] Office Lamp", 1, 4.0, 40.0, &[3], 0.0),
        (3, 2, 60, "[PS-ARC] Solution Architect", 4, 24.0, 250.0, &[1], 0.0),
        (4, 3, 7, "[FURN_7777] Office Chair", 1, 6.0, 70.0, &[3], 0.0),
        (5, 3, 41, "[FURN_6741] Large Meeting Table", 1, 1.0, 150.0, &[3], 0.0),
        (6, 5, 61, "[PS-SUP] Support Retainer (monthly)", 1, 3.0, 1200.0, &[1], 0.0),
        (7, 5, 60, "[PS-ARC] Solution Architect", 4, 8.0, 250.0, &[1], 0.0),
        (8, 4, 3, "Virtual Interior Design", 4, 16.0, 75.0, &[3], 0.0),
        (9, 4, 6, "[FURN_8888] Office Lamp", 1, 10.0, 45.0, &[3], 0.0),
        (10, 4, 41, "[FURN_6741] Large Meeting Table\nBig table seats 10–12 for team discussions", 1, 3.0, 150.0, &[3], 0.0),
        (11, 4, 7, "[FURN_7777] Office Chair", 1, 2.0, 70.0, &[3], 0.0),
        (12, 5, 4, "Virtual Home Staging", 4, 4.0, 38.25, &[1], 0.0),
        (13, 6, 59, "[PS-TM] Senior Consultant (time & material)", 4, 5.0, 150.0, &[1], 0.0),
        (14, 7, 4, "Virtual Home Staging", 4, 8.0, 38.25, &[3], 0.0),
        (15, 7, 6, "[FURN_8888] Office Lamp", 1, 10.0, 37.0, &[3], 0.0),
        (16, 7, 41, "[FURN_6741] Large Meeting Table\nBig table seats 10–12 for team discussions", 1, 5.0, 150.0, &[3], 0.0),
        (17, 7, 7, "[FURN_7777] Office Chair", 1, 4.0, 70.0, &[3], 0.0),
        (18, 8, 60, "[PS-ARC] Solution Architect", 4, 20.0, 250.0, &[1], 0.0),
        (19, 8, 61, "[PS-SUP] Support Retainer (monthly)", 1, 6.0, 1200.0, &[1], 0.0),
        (20, 9, 60, "[PS-ARC] Solution Architect", 4, 12.0, 250.0, &[1], 0.0),
        (21, 10, 61, "[PS-SUP] Support Retainer (monthly)", 1, 12.0, 1200.0, &[1], 0.0),
        (22, 11, 60, "[PS-ARC] Solution Architect", 4, 6.0, 250.0, &[1], 0.0),
        (23, 12, 60, "[PS-ARC] Solution Architect", 4, 37.0, 250.0, &[1], 0.0),
        (24, 12, 4, "Virtual Home Staging", 4, 10.0, 38.25, &[1], 0.0),
        (25, 13, 60, "[PS-ARC] Solution Architect", 4, 17.0, 250.0, &[1], 0.0),
        (26, 13, 61, "[PS-SUP] Support Retainer (monthly)", 1, 2.0, 1200.0, &[1], 0.0),
        (27, 14, 60, "[PS-ARC] Solution Architect", 4, 10.0, 250.0, &[1], 0.0),
        (28, 15, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (29, 16, 60, "[PS-ARC] Solution Architect", 4, 4.0, 250.0, &[1], 0.0),
        (30, 17, 61, "[PS-SUP] Support Retainer (monthly)", 1, 3.0, 1200.0, &[1], 0.0),
        (31, 18, 60, "[PS-ARC] Solution Architect", 4, 14.0, 250.0, &[1], 0.0),
        (32, 18, 4, "Virtual Home Staging", 4, 6.0, 38.25, &[1], 0.0),
        (33, 19, 60, "[PS-ARC] Solution Architect", 4, 2.0, 250.0, &[1], 0.0),
        (34, 20, 61, "[PS-SUP] Support Retainer (monthly)", 1, 4.0, 1200.0, &[1], 0.0),
        (35, 20, 60, "[PS-ARC] Solution Architect", 4, 9.0, 250.0, &[1], 0.0),
        (36, 21, 60, "[PS-ARC] Solution Architect", 4, 16.0, 250.0, &[1], 0.0),
        (37, 21, 4, "Virtual Home Staging", 4, 12.0, 38.25, &[1], 0.0),
        (38, 22, 61, "[PS-SUP] Support Retainer (monthly)", 1, 2.0, 1200.0, &[1], 0.0),
        (39, 22, 60, "[PS-ARC] Solution Architect", 4, 5.0, 250.0, &[1], 0.0),
        (40, 26, 60, "[PS-ARC] Solution Architect", 4, 8.0, 250.0, &[1], 0.0),
        (41, 26, 4, "Virtual Home Staging", 4, 4.0, 38.25, &[1], 0.0),
        (42, 27, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (43, 27, 60, "[PS-ARC] Solution Architect", 4, 3.0, 250.0, &[1], 0.0),
        (44, 28, 60, "[PS-ARC] Solution Architect", 4, 7.0, 250.0, &[1], 0.0),
        (45, 28, 4, "Virtual Home Staging", 4, 2.0, 38.25, &[1], 0.0),
        (46, 14, 4, "Virtual Home Staging", 4, 6.0, 38.25, &[1], 0.0),
        (47, 15, 60, "[PS-ARC] Solution Architect", 4, 4.0, 250.0, &[1], 0.0),
        (48, 17, 4, "Virtual Home Staging", 4, 3.0, 38.25, &[1], 0.0),
        (49, 9, 4, "Virtual Home Staging", 4, 5.0, 38.25, &[1], 0.0),
        (50, 10, 60, "[PS-ARC] Solution Architect", 4, 2.0, 250.0, &[1], 0.0),
        (51, 8, 4, "Virtual Home Staging", 4, 7.0, 38.25, &[1], 0.0),
        (52, 13, 4, "Virtual Home Staging", 4, 9.0, 38.25, &[1], 0.0),
        (53, 20, 4, "Virtual Home Staging", 4, 2.0, 38.25, &[1], 0.0),
        (54, 21, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (55, 22, 4, "Virtual Home Staging", 4, 3.0, 38.25, &[1], 0.0),
        (56, 23, 56, "Digital Marketing Campaign (project)", 4, 120.0, 123.0, &[1], 0.0),
        (57, 23, 60, "[PS-ARC] Solution Architect", 4, 10.0, 250.0, &[1], 0.0),
        (58, 26, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (59, 27, 4, "Virtual Home Staging", 4, 2.0, 38.25, &[1], 0.0),
        (60, 24, 57, "[PS-FIX] Discovery Workshop (fixed price)", 1, 1.0, 4500.0, &[1], 0.0),
        (61, 24, 58, "[PS-MIL] Implementation (milestones)", 1, 1.0, 24000.0, &[1], 0.0),
        (62, 28, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (63, 24, 60, "[PS-ARC] Solution Architect", 4, 6.0, 250.0, &[1], 0.0),
        (64, 25, 59, "[PS-TM] Senior Consultant (time & material)", 4, 40.0, 150.0, &[1], 0.0),
        (65, 25, 60, "[PS-ARC] Solution Architect", 4, 4.0, 250.0, &[1], 0.0),
        (66, 20, 60, "[PS-ARC] Solution Architect", 4, 1.0, 250.0, &[1], 0.0),
        (67, 19, 4, "Virtual Home Staging", 4, 1.0, 38.25, &[1], 0.0),
        (68, 16, 4, "Virtual Home Staging", 4, 2.0, 38.25, &[1], 0.0),
        (69, 12, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (70, 18, 61, "[PS-SUP] Support Retainer (monthly)", 1, 1.0, 1200.0, &[1], 0.0),
        (71, 2, 4, "Virtual Home Staging", 4, 3.0, 38.25, &[1], 0.0),
    ];
    for (id, order, product, name, uom, qty, price, taxes, delivered) in lines {
        let method = match (product, id) {
            (59, _) => "timesheet",
            (58, _) => "milestones",
            _ => "manual",
        };
        put(
            db,
            "sale.order.line",
            id,
            json!({
                "order_id": order, "product_id": product, "name": name, "product_uom_id": uom,
                "product_uom_qty": qty, "price_unit": price, "discount": 0.0, "tax_ids": taxes,
                "qty_delivered": delivered, "qty_delivered_method": method, "sequence": 10,
                "customer_lead": 0.0, "create_date": T1, "write_date": T1,
            }),
        );
    }
}

#[rustfmt::skip]
fn invoices(db: &mut Db) {
    // (move id, partner, date, due, term, [(line id, product, name, qty, price)], tax line, receivable line, paid)
    type InvoiceLine = (i64, i64, &'static str, f64, f64);
    let moves: [(
        i64,
        i64,
        &str,
        &str,
        Option<i64>,
        [InvoiceLine; 2],
        i64,
        i64,
        bool,
    ); 9] = [
        (1, 15, "2026-11-01", "2026-12-31", Some(6), [(5, 59, "[PS-TM] Senior Consultant (time & material)", 150.0, 150.0), (6, 60, "[PS-ARC] Solution Architect", 37.0, 250.0)], 29, 39, false),
        (2, 9, "2026-11-21", "2026-11-23", None, [(7, 59, "[PS-TM] Senior Consultant (time & material)", 250.0, 150.0), (8, 60, "[PS-ARC] Solution Architect", 17.0, 250.0)], 30, 40, false),
        (3, 9, "2026-11-20", "2026-11-23", None, [(9, 59, "[PS-TM] Senior Consultant (time & material)", 100.0, 150.0), (10, 60, "[PS-ARC] Solution Architect", 17.0, 250.0)], 31, 41, false),
        (4, 8, "2026-10-05", "2026-11-04", Some(4), [(11, 60, "[PS-ARC] Solution Architect", 20.0, 250.0), (12, 61, "[PS-SUP] Support Retainer (monthly)", 6.0, 1200.0)], 32, 42, true),
        (5, 13, "2026-10-12", "2026-11-11", Some(4), [(13, 60, "[PS-ARC] Solution Architect", 12.0, 250.0), (14, 4, "Virtual Home Staging", 5.0, 38.25)], 33, 43, true),
        (6, 12, "2026-10-19", "2026-11-18", Some(4), [(15, 61, "[PS-SUP] Support Retainer (monthly)", 12.0, 1200.0), (16, 60, "[PS-ARC] Solution Architect", 2.0, 250.0)], 34, 44, false),
        (7, 11, "2026-11-02", "2026-12-02", Some(4), [(17, 60, "[PS-ARC] Solution Architect", 10.0, 250.0), (18, 4, "Virtual Home Staging", 6.0, 38.25)], 35, 45, false),
        (8, 16, "2026-11-09", "2026-12-09", Some(4), [(19, 61, "[PS-SUP] Support Retainer (monthly)", 1.0, 1200.0), (20, 60, "[PS-ARC] Solution Architect", 4.0, 250.0)], 36, 46, false),
        (9, 14, "2026-11-16", "2026-12-16", Some(4), [(21, 60, "[PS-ARC] Solution Architect", 8.0, 250.0), (22, 4, "Virtual Home Staging", 4.0, 38.25)], 37, 47, false),
    ];
    for (mv, partner, date, due, term, lines, tax_line, term_line, paid) in moves {
        let mut untaxed = 0.0;
        for (lid, product, name, qty, price) in lines {
            untaxed += qty * price;
            put(
                db,
                "account.move.line",
                lid,
                json!({
                    "move_id": mv, "display_type": "product", "product_id": product, "name": name,
                    "quantity": qty, "price_unit": price, "discount": 0.0, "tax_ids": [1],
                    "balance": -(qty * price), "partner_id": partner,
                    "product_uom_id": if product == 61 { 1 } else { 4 },
                }),
            );
        }
        let tax = (untaxed * 0.15 * 100.0).round() / 100.0;
        let total = untaxed + tax;
        put(
            db,
            "account.move.line",
            tax_line,
            json!({
                "move_id": mv, "display_type": "tax", "name": "15%", "tax_line_id": 1,
                "quantity": 1.0, "balance": -tax, "partner_id": partner,
            }),
        );
        put(
            db,
            "account.move.line",
            term_line,
            json!({
                "move_id": mv, "display_type": "payment_term", "name": format!("INV/2026/{mv:05}"),
                "quantity": 1.0, "balance": total, "date_maturity": due,
                "account_type": "asset_receivable", "partner_id": partner,
            }),
        );
        put(
            db,
            "account.move",
            mv,
            json!({
                "name": format!("INV/2026/{mv:05}"), "move_type": "out_invoice", "state": "posted",
                "payment_state": if paid { "paid" } else { "not_paid" }, "partner_id": partner,
                "invoice_date": date, "invoice_date_due": due, "date": date, "currency_id": 1,
                "company_id": 1, "journal_id": 1, "invoice_origin": null, "ref": null,
                "invoice_payment_term_id": term, "auto_post": "no",
                "__paid": if paid { json!(total) } else { json!(0.0) },
            }),
        );
    }
    // Company 2: one posted invoice paid through its own bank journal.
    put(
        db,
        "account.move.line",
        48,
        json!({
            "move_id": 10, "display_type": "product", "product_id": 60, "name": "[PS-ARC] Solution Architect",
            "quantity": 16.0, "price_unit": 250.0, "discount": 0.0, "tax_ids": [17], "balance": -4000.0, "partner_id": 14,
        }),
    );
    put(
        db,
        "account.move.line",
        49,
        json!({
            "move_id": 10, "display_type": "tax", "name": "15%", "tax_line_id": 17, "quantity": 1.0, "balance": -600.0, "partner_id": 14,
        }),
    );
    put(
        db,
        "account.move.line",
        50,
        json!({
            "move_id": 10, "display_type": "payment_term", "name": "INV/2026/00001", "quantity": 1.0,
            "balance": 4600.0, "date_maturity": "2026-11-27", "account_type": "asset_receivable", "partner_id": 14,
        }),
    );
    put(
        db,
        "account.move",
        10,
        json!({
            "name": "INV/2026/00001", "move_type": "out_invoice", "state": "posted", "payment_state": "paid",
            "partner_id": 14, "invoice_date": "2026-10-28", "invoice_date_due": "2026-11-27", "date": "2026-10-28",
            "currency_id": 1, "company_id": 2, "journal_id": 8, "invoice_payment_term_id": 4, "auto_post": "no",
            "__paid": 4600.0,
        }),
    );
    // Payments of invoices 4 and 10 (seeded in the bank journal of company 2 for invoice 10,
    // and in the cash journal of company 1 for invoice 4, so that the recorded payment numbers
    // of the first bank payment of company 1 stay free).
    let payments = [
        (1, "PCSH1/2026/00001", 8, 4, 7, 5, 17, 1, 14030.0, "2026-11-03", 51),
        (2, "PBNK1/2026/00001", 14, 10, 12, 3, 18, 2, 4600.0, "2026-11-20", 53),
        (3, "PCSH1/2026/00002", 13, 5, 7, 5, 19, 1, 3669.94, "2026-11-10", 55),
    ];
    for (id, name, partner, invoice, journal, method, entry, company, amount, date, first_line) in
        payments
    {
        let memo = if invoice == 10 {
            "INV/2026/00001".to_string()
        } else {
            format!("INV/2026/{invoice:05}")
        };
        put(
            db,
            "account.move",
            entry,
            json!({
                "name": name, "ref": memo, "move_type": "entry", "state": "posted", "payment_state": "not_paid",
                "partner_id": partner, "date": date, "currency_id": 1, "company_id": company,
                "journal_id": journal, "auto_post": "no", "origin_payment_id": id,
            }),
        );
        put(
            db,
            "account.move.line",
            first_line,
            json!({
                "move_id": entry, "display_type": "product", "name": "Payment liquidity", "quantity": 0.0,
                "price_unit": 0.0, "balance": amount, "partner_id": partner, "account_type": "asset_cash",
            }),
        );
        put(
            db,
            "account.move.line",
            first_line + 1,
            json!({
                "move_id": entry, "display_type": "product", "name": "Payment receivable", "quantity": 0.0,
                "price_unit": 0.0, "balance": -amount, "partner_id": partner, "account_type": "asset_receivable",
            }),
        );
        put(
            db,
            "account.payment",
            id,
            json!({
                "name": name, "state": "paid", "payment_type": "inbound", "partner_type": "customer",
                "amount": amount, "currency_id": 1, "date": date, "partner_id": partner,
                "journal_id": journal, "memo": memo, "payment_method_line_id": method,
                "is_reconciled": true, "is_matched": true, "reconciled_invoice_ids": [invoice],
                "move_id": entry, "company_id": company,
            }),
        );
    }
}

#[rustfmt::skip]
fn timesheets(db: &mut Db) {
    // The three recorded lines first.
    for (id, name, hours) in [
        (1, "Requirements analysis", 2.0),
        (2, "Design", 1.0),
        (3, "Quality analysis", 3.0),
    ] {
        put(
            db,
            "account.analytic.line",
            id,
            json!({
                "name": name, "date": "2026-11-22", "employee_id": 1, "user_id": 2, "project_id": 2,
                "task_id": null, "unit_amount": hours, "amount": -100.0 * hours, "product_uom_id": 4,
                "so_line": null, "timesheet_invoice_type": "non_billable", "currency_id": 1,
                "company_id": 1, "account_id": 25,
            }),
        );
    }
    // Then a deterministic spread over projects, employees and days.
    // (project, account, task, sale line, employees)
    let plan: [(i64, i64, Option<i64>, Option<i64>, &[i64]); 8] = [
        (1, 24, Some(4), None, &[3, 5]),
        (1, 24, Some(5), None, &[1, 3]),
        (5, 27, Some(10), None, &[4, 5]),
        (10, 30, Some(11), None, &[2, 17]),
        (11, 31, Some(12), Some(56), &[6, 19]),
        (12, 32, Some(14), Some(61), &[10, 6]),
        (13, 33, Some(15), Some(64), &[6, 10]),
        (8, 29, Some(16), None, &[17]),
    ];
    let costs = |e: i64| match e {
        1 => 100.0,
        2 => 40.0,
        3 => 75.0,
        4 => 90.0,
        5 => 70.0,
        6 => 122.5,
        10 => 98.3,
        17 => 20.0,
        _ => 65.7,
    };
    let users = |e: i64| match e {
        1 => json!(2),
        3 => json!(5),
        _ => Value::Null,
    };
    let start = NaiveDate::from_ymd_opt(2026, 10, 19).unwrap_or_default();
    let descriptions = [
        "Analysis",
        "Workshop",
        "Configuration",
        "Development",
        "Testing",
        "Meeting",
        "Documentation",
    ];
    let mut id = 4;
    for day in 0..35i64 {
        let date = start + Duration::days(day);
        if date.format("%u").to_string().parse::<u32>().unwrap_or(1) > 5 {
            continue;
        }
        for (k, (project, account, task, line, employees)) in plan.iter().enumerate() {
            if (day + k as i64) % 3 != 0 {
                continue;
            }
            let employee = employees[(day as usize + k) % employees.len()];
            let hours = [2.0, 3.0, 4.0, 1.5, 6.0][(day as usize + k) % 5];
            let internal = *project == 8;
            let amount = if internal {
                0.0
            } else {
                -((hours * costs(employee)) * 100.0_f64).round() / 100.0
            };
            put(
                db,
                "account.analytic.line",
                id,
                json!({
                    "name": descriptions[(day as usize + 2 * k) % descriptions.len()],
                    "date": date.format("%Y-%m-%d").to_string(), "employee_id": employee,
                    "user_id": users(employee), "project_id": project, "task_id": task,
                    "unit_amount": if internal { 0.0 } else { hours }, "amount": amount,
                    "product_uom_id": 4, "so_line": line,
                    "timesheet_invoice_type": if line.is_some() { "billable_time" } else if internal { "non_billable" } else { "billable_time" },
                    "currency_id": 1, "company_id": 1, "account_id": account,
                }),
            );
            id += 1;
        }
    }
}

#[rustfmt::skip]
fn languages_and_parameters(db: &mut Db) {
    for (id, name, code, active) in [
        (1, "English (US)", "en_US", true),
        (2, "French / Français", "fr_FR", false),
        (3, "Dutch / Nederlands", "nl_NL", false),
        (4, "German / Deutsch", "de_DE", false),
        (5, "Spanish / Español", "es_ES", false),
        (12, "Chinese (Simplified) / 简体中文", "zh_CN", false),
        (13, "Chinese (Traditional) / 繁體中文", "zh_TW", false),
    ] {
        put(
            db,
            "res.lang",
            id,
            json!({
                "name": name, "code": code, "iso_code": code, "url_code": code, "active": active,
                "direction": "ltr", "date_format": "%m/%d/%Y", "time_format": "%H:%M:%S",
                "week_start": "7", "grouping": "[3,0]", "decimal_point": ".", "thousands_sep": ",",
            }),
        );
    }
    for (id, key, value) in [
        (1, "web.base.url", "http://127.0.0.1:8069"),
        (2, "database.uuid", "0b5f7c2e-7c51-11f0-a0b2-0242ac120002"),
        (3, "database.create_date", "2026-11-23 00:39:20"),
        (4, "base.default_max_email_size", "10"),
        (5, "base.login_cooldown_after", "10"),
        (6, "base.login_cooldown_duration", "60"),
    ] {
        put(
            db,
            "ir.config_parameter",
            id,
            json!({"key": key, "value": value}),
        );
    }
    let xmlids: [(&str, &str, &str, i64); 22] = [
        ("base", "main_company", "res.company", 1),
        ("base", "main_partner", "res.partner", 1),
        ("base", "partner_root", "res.partner", 2),
        ("base", "partner_admin", "res.partner", 3),
        ("base", "partner_demo", "res.partner", 6),
        ("base", "user_root", "res.users", 1),
        ("base", "user_admin", "res.users", 2),
        ("base", "user_demo", "res.users", 5),
        ("base", "USD", "res.currency", 1),
        ("base", "EUR", "res.currency", 125),
        ("base", "us", "res.country", 233),
        ("base", "be", "res.country", 21),
        ("base", "fr", "res.country", 75),
        ("base", "res_partner_1", "res.partner", 8),
        ("base", "res_partner_2", "res.partner", 9),
        ("base", "res_partner_3", "res.partner", 10),
        ("base", "res_partner_4", "res.partner", 11),
        ("base", "res_partner_12", "res.partner", 15),
        ("uom", "product_uom_unit", "uom.uom", 1),
        ("uom", "product_uom_hour", "uom.uom", 4),
        ("uom", "product_uom_day", "uom.uom", 5),
        ("account", "account_payment_term_end_following_month", "account.payment.term", 6),
    ];
    for (i, (module, name, model, res_id)) in xmlids.iter().enumerate() {
        xmlid(db, 1000 + i as i64, module, name, model, *res_id);
    }
}

/// Where the id and number sequences continue: as in the recorded 19.0 database.
fn sequences(db: &mut Db) {
    for (model, next) in [
        ("res.partner", 67),
        ("res.partner.category", 8),
        ("res.users", 7),
        ("res.company", 3),
        ("sale.order", 29),
        ("sale.order.line", 72),
        ("project.project", 14),
        ("account.analytic.account", 34),
        ("account.move", 57),
        ("account.move.line", 149),
        ("account.payment", 4),
        ("ir.model.data", 45089),
        ("hr.employee", 20),
        ("product.product", 62),
        ("product.template", 62),
        ("res.lang", 14),
        ("sale.advance.payment.inv", 1),
        ("account.payment.register", 1),
        ("base.language.install", 1),
    ] {
        db.set_next_id(model, next);
    }
    db.sequences.insert("sale.order".into(), 29);
    db.sequences.insert("1:INV/2026".into(), 10);
    db.sequences.insert("8:INV/2026".into(), 2);
    db.sequences.insert("7:PCSH1/2026".into(), 3);
    db.sequences.insert("12:PBNK1/2026".into(), 2);
}
