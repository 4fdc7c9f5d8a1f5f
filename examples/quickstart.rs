//! The basics of the typed Odoo client.
//!
//! With no environment it starts a fake Odoo in-process and runs against it:
//!
//! ```sh
//! cargo run --example quickstart --features testkit
//! ```
//!
//! Against a real server (read-only unless `--write` is given):
//!
//! ```sh
//! ODOO_URL=https://erp.example.com ODOO_DB=ps ODOO_LOGIN=admin ODOO_API_KEY=... \
//!     cargo run --example quickstart --features testkit -- [--write]
//! ```

use std::process::ExitCode;

use chrono::Utc;
use odoo_connect::odoo::models::{Company, Employee, Project, Timesheet};
use odoo_connect::odoo::{Domain, OdooClient, RecordId, Values};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let write_flag = std::env::args().any(|a| a == "--write");
    // Keep the fake server alive for the whole run when there is no real one.
    let (odoo, _fake, may_write) = match std::env::var("ODOO_URL") {
        Ok(url) => {
            let mut b = OdooClient::builder(url);
            if let Ok(db) = std::env::var("ODOO_DB") {
                b = b.database(db);
            }
            let login = std::env::var("ODOO_LOGIN").unwrap_or_else(|_| "admin".to_owned());
            b = match (
                std::env::var("ODOO_API_KEY"),
                std::env::var("ODOO_PASSWORD"),
            ) {
                (Ok(key), _) => b.api_key(login, key),
                (Err(_), Ok(pw)) => b.password(login, pw),
                _ => return Err("set ODOO_API_KEY or ODOO_PASSWORD with ODOO_URL".into()),
            };
            println!(
                "Connecting to {} ({})",
                std::env::var("ODOO_URL")?,
                if write_flag {
                    "read and write"
                } else {
                    "read-only; pass --write to create records"
                }
            );
            (b.build()?, None, write_flag)
        }
        Err(_) => {
            let fake = odoo_connect::testkit::FakeOdoo::start().await;
            println!("No ODOO_URL set: started a fake Odoo 19 at {}", fake.url());
            let odoo = OdooClient::builder(fake.url())
                .database(fake.database())
                .api_key("admin", fake.admin_api_key())
                .build()?;
            (odoo, Some(fake), true)
        }
    };

    let version = odoo.version().await?;
    println!("Odoo {version}, speaking {}", odoo.protocol().await?);
    println!("Logged in as user #{}", odoo.uid().await?);

    let companies: Vec<Company> = odoo
        .model::<Company>()
        .search_read(Domain::new())
        .order("id")
        .await?;
    println!("\n{} companies:", companies.len());
    for c in &companies {
        let currency = c.currency_id.as_ref().map(|m| m.name()).unwrap_or("?");
        println!("  #{:<3} {} ({currency})", c.id, c.name);
    }

    if !may_write {
        let projects = odoo.model::<Project>().search_count(Domain::new()).await?;
        println!(
            "\n{projects} projects. Read-only run: pass --write to create a customer, a project and a timesheet."
        );
        return Ok(());
    }

    let partners = odoo.model::<odoo_connect::odoo::models::Partner>();
    let customer = partners
        .create(
            &Values::new()
                .set("name", "Quickstart Consulting Ltd")
                .set("is_company", true)
                .set("email", "finance@quickstart.example"),
        )
        .await?;
    println!("\nCreated customer #{customer}");

    let project_id = odoo
        .model::<Project>()
        .create(
            &Values::new()
                .set("name", "Quickstart discovery phase")
                .many2one("partner_id", Some(customer))
                .set("allow_timesheets", true),
        )
        .await?;
    println!("Created project #{project_id}");

    let employee: Vec<Employee> = odoo
        .model::<Employee>()
        .search_read(Domain::new())
        .limit(1)
        .order("id")
        .await?;
    let Some(employee) = employee.first() else {
        return Err("the database has no employee to log time for".into());
    };
    let line = odoo
        .model::<Timesheet>()
        .create(
            &Values::new()
                .set("name", "Kick-off workshop")
                .many2one("project_id", Some(project_id))
                .many2one("employee_id", Some(employee.id))
                .date("date", Utc::now().date_naive())
                .set("unit_amount", 1.0),
        )
        .await?;
    println!(
        "Logged one hour for {} (timesheet #{line})",
        employee.name.as_deref().unwrap_or("?")
    );

    let read: Vec<Timesheet> = odoo.model::<Timesheet>().read([line]).await?;
    let Some(t) = read.first() else {
        return Err(format!("timesheet #{line} was not found after creating it").into());
    };
    println!(
        "Read back: {} hour(s) on {} by {} on {}",
        t.unit_amount,
        t.project_id.as_ref().map(|m| m.name()).unwrap_or("?"),
        t.employee_id.as_ref().map(|m| m.name()).unwrap_or("?"),
        t.date.map(|d| d.to_string()).unwrap_or_default()
    );
    let _: RecordId = line;
    Ok(())
}
