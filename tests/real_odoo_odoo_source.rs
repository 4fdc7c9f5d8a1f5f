//! Odoo as a source on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): the flows book deals of
//! the run's own and post their invoices; a payment is then registered by hand through Odoo's
//! own `account.payment.register` wizard, and the feed of Odoo's changes delivers it once: the
//! CRM (a recording sink) hears that the invoice is paid and of the payment, the deal's trace
//! shows it, and a poll after that writes nothing more.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;
#[path = "support/odoo_source.rs"]
mod odoo_source;

use odoo_connect::odoo::{OdooCall, Protocol};
use serde_json::{Value, json};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_payment_registered_by_hand_in_odoo_reaches_the_crm_once() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    // Deals, clients and employees of this run's own, so that runs never meet.
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default();
    let mut deals = fake_hubspot::sample_deals();
    let mut csv = flows_setup::APPROVED_TIME_CSV.to_owned();
    for (i, d) in deals.iter_mut().enumerate() {
        let old = d.id;
        d.id = leak(format!("{n}{i}"));
        d.company.id = leak(format!("{n}{}{}", 5, d.company.id));
        d.company.name = leak(format!("{} {n}", d.company.name));
        csv = csv.replace(
            &format!("prj-hubspot-deal-{old}"),
            &format!("prj-hubspot-deal-{}", d.id),
        );
    }
    let mut employees = Vec::new();
    for e in [
        "abigail.peterson39",
        "keith.byrd52",
        "walter.horton80",
        "jennie.fletcher76",
    ] {
        let mail = format!("{e}.{n}@example.com");
        csv = csv.replace(&format!("{e}@example.com"), &mail);
        employees.push(json!({"name": format!("{e}.{n}"), "work_email": mail, "company_id": 1}));
    }
    csv = csv.replace("T-100", &format!("T-{n}-"));
    let _: Value = odoo
        .with_company(1)
        .call(&OdooCall::new("hr.employee", "create").arg("vals_list", Value::Array(employees)))
        .await
        .expect("employees");

    let run = odoo_source::book_and_invoice(odoo, &deals, &csv).await;
    odoo_source::payment_by_hand_reaches_the_crm_once(&run).await;
}
