//! Odoo as a source on a real Odoo (`ODOO_URL`, see `tests/real_odoo`): the flows book deals of
//! the run's own and post their invoices; a payment is then registered by hand through Odoo's
//! own `account.payment.register` wizard, and the feed of Odoo's changes delivers it once: the
//! CRM (a recording sink) hears that the invoice is paid and of the payment, the deal's trace
//! shows it, and a poll after that writes nothing more. With Odoo's own automation rules posting
//! to a doorbell, the payment is pulled as soon as Odoo notifies it.

mod real_odoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;
#[path = "support/odoo_source.rs"]
mod odoo_source;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use odoo_connect::connector::RecordKind;
use odoo_connect::connector::esign_webhook::axum;
use odoo_connect::flows::odoo_source::webhook::{Doorbell, webhook_rules};
use odoo_connect::odoo::{Domain, OdooCall, OdooClient, Protocol};
use serde_json::{Value, json};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Deals, clients and employees of this run's own, so that runs never meet: the deals, the
/// approved time CSV for them, with the employees made in Odoo.
async fn own_deals(odoo: &OdooClient) -> (Vec<fake_hubspot::Deal>, String) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 % 1_000_000_000)
        .unwrap_or_default()
        * 10
        + NEXT.fetch_add(1, Ordering::Relaxed) % 10;
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
    (deals, csv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn a_payment_registered_by_hand_in_odoo_reaches_the_crm_once() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    let (deals, csv) = own_deals(&odoo).await;
    let run = odoo_source::book_and_invoice(odoo, &deals, &csv).await;
    odoo_source::payment_by_hand_reaches_the_crm_once(&run).await;
    odoo_source::cancelled_payment_reaches_the_crm(&run).await;
}

/// Odoo's own automation rule ("Send Webhook Notification") posts to the doorbell when the
/// accountant registers the payment; the watch pulls at once (its periodic poll is an hour
/// away), and the payment reaches the CRM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_odoo, ignore = "skipped: ODOO_URL not set (needs a running Odoo)")]
async fn odoo_automation_rules_ring_the_doorbell_and_the_payment_follows() {
    let Some(real) = real_odoo::real() else {
        return;
    };
    let odoo = real.admin(Protocol::Auto);
    let (deals, csv) = own_deals(&odoo).await;
    let run = odoo_source::book_and_invoice(odoo.clone(), &deals, &csv).await;
    run.poll().await;

    // The receiver: Odoo posts to http://127.0.0.1:<port>/odoo/<token>.
    let token = format!("t{}", real_odoo::run_tag());
    let bell = Doorbell::new(token.clone());
    let heard: Arc<Mutex<Vec<i64>>> = Arc::default();
    let app = {
        let (bell, heard) = (bell.clone(), heard.clone());
        axum::Router::new().route(
            "/odoo/{token}",
            axum::routing::post(
                move |axum::extract::Path(t): axum::extract::Path<String>,
                      body: axum::body::Bytes| {
                    let (bell, heard) = (bell.clone(), heard.clone());
                    async move {
                        match bell.receive(&t, &body) {
                            Ok(n) => {
                                heard.lock().unwrap().push(n.id.get());
                                axum::http::StatusCode::OK
                            }
                            Err(e) => axum::http::StatusCode::from_u16(e.status())
                                .unwrap_or(axum::http::StatusCode::BAD_REQUEST),
                        }
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/odoo/{token}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The rules, on this run's clients only (other runs share the server).
    let partners: Vec<i64> = run
        .flows
        .book()
        .all()
        .iter()
        .map(|b| b.partner_id.get())
        .collect();
    let rules = webhook_rules(
        run.flows.odoo(),
        &format!("odoo-connect {}", real_odoo::run_tag()),
        &url,
        Domain::new().is_in("partner_id", partners),
    )
    .await
    .expect("the automation rules");
    assert_eq!(rules.len(), 2);

    let (contract, invoice) = odoo_source::invoices(&run.flows)
        .await
        .into_iter()
        .next()
        .expect("an invoice");
    let deal = run
        .flows
        .book()
        .get(&contract)
        .and_then(|b| b.crm)
        .expect("the deal")
        .id;
    let paid = async {
        odoo_source::register_by_hand(run.flows.odoo(), invoice.id).await;
        for _ in 0..300 {
            flows_setup::drain(&run.pipeline, Duration::from_secs(60))
                .await
                .unwrap();
            if run
                .crm
                .written_to(&deal)
                .iter()
                .any(|w| w.kind == RecordKind::Payment)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    let reached = tokio::select! {
        _ = run.feed.watch(&run.pipeline, Some(&bell), Duration::from_secs(3600)) => false,
        reached = paid => reached,
    };
    // Whatever happened: the rules go, so that Odoo stops posting to a closed port.
    let removed: bool = odoo
        .model_named::<Value>("base.automation")
        .unlink(&rules)
        .await
        .expect("the rules removed");
    server.abort();
    assert!(removed);
    assert!(reached, "the payment did not reach the CRM");
    let heard = heard.lock().unwrap().clone();
    assert!(
        heard.contains(&invoice.id.get()),
        "Odoo's rule notified the invoice: {heard:?}"
    );
}
