//! Least privilege on FakeOdoo: each path of the flows calls Odoo as its own user and the audit
//! trail names the credential each step used; a right taken away fails the step with a reason
//! naming the path, the user and the right; paths the duty policy keeps apart refuse to share a
//! user.

use std::sync::Arc;
use std::time::Duration;

use odoo_connect::flows::{DutyPolicy, FlowCredentials, FlowError, FlowPath, Flows};
use odoo_connect::odoo::{OdooClient, RetryPolicy};
use odoo_connect::store::sqlite::SqliteStore;
use odoo_connect::sync::store::{
    AuditKind, AuditLog, AuditQuery, DeadLetterFilter, DeadLetters, FailureClass,
};
use odoo_connect::testkit::FakeOdoo;

#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

fn user(fake: &FakeOdoo, login: &str, key: String) -> OdooClient {
    OdooClient::builder(fake.url())
        .database(fake.database())
        .api_key(login, key)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Booking and time as the administrator, release and cash as the demo user.
async fn flows(fake: &FakeOdoo) -> Flows {
    let admin = user(fake, FakeOdoo::ADMIN_LOGIN, fake.admin_api_key());
    let billing = user(fake, FakeOdoo::DEMO_LOGIN, fake.demo_api_key());
    // Setting Odoo up is the administrator's task.
    let settings = flows_setup::setup().unwrap().apply(&admin).await.unwrap();
    let creds = FlowCredentials::new("odoo-sales", admin)
        .path(FlowPath::Release, "odoo-billing", billing.clone())
        .path(FlowPath::Cash, "odoo-cash", billing);
    Flows::connect_with(creds, settings).await.unwrap()
}

/// Books the sample deals and records their approved time.
async fn book_and_record(
    flows: &Flows,
    p: &odoo_connect::sync::pipeline::Pipeline<SqliteStore>,
    hub: &str,
) {
    let deals = flows_setup::won_deals(hub, fake_hubspot::TOKEN)
        .await
        .unwrap();
    assert_eq!(flows_setup::book_deals(flows, p, &deals).await.unwrap(), 3);
    let (entries, _, _) = flows_setup::read_time_csv(flows_setup::APPROVED_TIME_CSV).unwrap();
    let envelopes: Vec<_> = entries
        .iter()
        .map(|e| flows.time_envelope(e, "psa").unwrap())
        .collect();
    p.submit_batch(&envelopes).await.unwrap();
    flows_setup::drain(p, Duration::from_secs(20))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_path_runs_as_its_user_and_the_trail_names_its_credential() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows(&fake).await;
    assert_eq!(
        flows.credentials().client(FlowPath::Release).login(),
        Some("demo")
    );
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    book_and_record(&flows, &p, &hub.uri()).await;
    let posted = || {
        fake.count_where(
            "account.move",
            serde_json::json!([["state", "=", "posted"]]),
        )
    };
    let before = posted();
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!((report.done, report.failed), (3, 0), "{report:?}");
    assert_eq!(posted() - before, 3);

    // Every step that called Odoo is in the trail with its path's label and login, never a secret.
    let trail = store.query_audit(&AuditQuery::all()).await.unwrap();
    let used: Vec<_> = trail
        .iter()
        .filter(|r| r.event.kind == AuditKind::CredentialUsed)
        .collect();
    let label_of = |step: &str| {
        used.iter()
            .filter(|r| r.event.step.as_deref() == Some(step))
            .map(|r| r.event.credential_label.clone().unwrap_or_default())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(label_of("deal.contract"), ["odoo-sales".to_owned()].into());
    assert_eq!(label_of("time.timesheet"), ["odoo-sales".to_owned()].into());
    assert_eq!(
        label_of("invoice.release"),
        ["odoo-billing".to_owned()].into()
    );
    let release = used
        .iter()
        .find(|r| r.event.step.as_deref() == Some("invoice.release"))
        .unwrap();
    assert_eq!(release.event.details["path"], "release");
    assert_eq!(release.event.details["login"], "demo");
    let text =
        serde_json::to_string(&used.iter().map(|r| &r.event.details).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains(&fake.demo_api_key()) && !text.contains(&fake.admin_api_key()));
}

#[tokio::test]
async fn a_right_taken_away_fails_the_release_naming_path_user_and_right() {
    let fake = FakeOdoo::start().await;
    let hub = fake_hubspot::FakeHubSpot::start(&fake_hubspot::sample_deals()).await;
    let flows = flows(&fake).await;
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let p = flows_setup::pipeline(&flows, store.clone());
    book_and_record(&flows, &p, &hub.uri()).await;

    // The billing user may no longer post invoices.
    let posted = || {
        fake.count_where(
            "account.move",
            serde_json::json!([["state", "=", "posted"]]),
        )
    };
    let before = posted();
    fake.deny(FakeOdoo::DEMO_LOGIN, "account.move", "write");
    flows_setup::submit_releases(&flows, &p, "2025-03")
        .await
        .unwrap();
    let report = flows_setup::drain(&p, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(report.failed, 3, "{report:?}");
    let dead = store
        .list_dead_letters(&DeadLetterFilter::all())
        .await
        .unwrap();
    let refused: Vec<_> = dead
        .iter()
        .filter(|d| d.failure.reason.contains("may not"))
        .collect();
    assert_eq!(
        refused.len(),
        3,
        "{:#?}",
        dead.iter().map(|d| &d.failure).collect::<Vec<_>>()
    );
    for d in refused {
        assert_eq!(d.failure.class, FailureClass::Technical);
        assert!(
            d.failure.reason.starts_with(
                "the release path (user demo) may not modify account.move: Odoo said You are not \
                 allowed to modify 'Journal Entry' (account.move) records."
            ),
            "{}",
            d.failure.reason
        );
    }
    assert_eq!(posted(), before);
}

#[tokio::test]
async fn paths_kept_apart_refuse_to_share_a_user() {
    let fake = FakeOdoo::start().await;
    let admin = user(&fake, FakeOdoo::ADMIN_LOGIN, fake.admin_api_key());
    let settings = flows_setup::setup().unwrap().apply(&admin).await.unwrap();
    // Another secret of the same user is still the same user.
    let admin_by_password = user(
        &fake,
        FakeOdoo::ADMIN_LOGIN,
        FakeOdoo::ADMIN_PASSWORD.into(),
    );
    let demo = user(&fake, FakeOdoo::DEMO_LOGIN, fake.demo_api_key());
    let creds = FlowCredentials::new("odoo-sales", admin.clone())
        .path(FlowPath::Release, "odoo-billing", admin_by_password)
        .path(FlowPath::Cash, "odoo-cash", demo.clone());
    let e = Flows::connect_with(creds, settings.clone())
        .await
        .unwrap_err();
    let FlowError::SharedCredential(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (v.first, v.second, v.login.as_str()),
        (FlowPath::Booking, FlowPath::Release, "admin")
    );
    let text = e.to_string();
    assert!(
        text.contains("the booking and release paths must not share an Odoo user")
            && text.contains("`admin`"),
        "{text}"
    );
    assert!(!text.contains(&fake.admin_api_key()));

    // Cash with booking, by default, too; release with cash is allowed unless the policy says so.
    let creds = FlowCredentials::new("odoo-sales", admin.clone()).path(
        FlowPath::Release,
        "odoo-billing",
        demo.clone(),
    );
    assert!(matches!(
        Flows::connect_with(creds, settings.clone()).await,
        Err(FlowError::SharedCredential(v)) if (v.first, v.second) == (FlowPath::Booking, FlowPath::Cash)
    ));
    let creds = FlowCredentials::new("odoo-sales", admin.clone())
        .path(FlowPath::Release, "odoo-billing", demo.clone())
        .path(FlowPath::Cash, "odoo-billing", demo.clone());
    assert!(
        Flows::connect_with(creds.clone(), settings.clone())
            .await
            .is_ok()
    );
    let strict = creds.duty_policy(DutyPolicy::default().apart(FlowPath::Release, FlowPath::Cash));
    assert!(matches!(
        Flows::connect_with(strict, settings.clone()).await,
        Err(FlowError::SharedCredential(v)) if (v.first, v.second) == (FlowPath::Release, FlowPath::Cash)
    ));
    // One client for everything (`Flows::connect`) keeps no duty apart.
    assert!(Flows::connect(admin, settings).await.is_ok());
}
