//! Real time: Odoo's own automation rules (`base_automation`, action "Send Webhook
//! Notification") ring a [`Doorbell`], and [`OdooChanges::watch`] pulls at once instead of at the
//! next poll.
//!
//! Odoo's webhook action (`ir.actions.server`, `state = "webhook"`) posts, after the commit of
//! the transaction that changed the record, a JSON object `{"_model": "account.move", "_id": 57,
//! "_action": "<rule name>(#<action id>)"}` (plus the fields chosen in `webhook_field_ids`) to
//! its URL, with a one-second timeout and no retry, no signature and no authentication of its
//! own. So the notification is not trusted as the change: it only rings the doorbell, and the
//! change is read from Odoo by the feed, from its checkpoint, exactly as a poll reads it. A lost
//! notification (Odoo's single try timed out, the receiver was down) costs nothing but latency:
//! the periodic poll of [`OdooChanges::watch`] is the safety net. The receiver's URL carries a
//! secret token of its own ([`Doorbell::new`]), compared in constant time.
//!
//! [`webhook_rules`] writes the two automation rules in Odoo (invoices and credit notes,
//! customer payments), found by name so that running it again changes nothing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use odoo_connect_client::{Domain, OdooCall, OdooClient, RecordId};
use odoo_connect_sync::pipeline::Pipeline;
use odoo_connect_sync::store::StateStore;

use super::{ChangedModel, OdooChanges};
use crate::Flows;

/// What Odoo's webhook action posted: the model and id of the record changed, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// The model of the record changed.
    pub model: ChangedModel,
    /// The record's id.
    pub id: RecordId,
    /// The action that sent it (`"<name>(#<id>)"`), when given.
    pub action: Option<String>,
}

/// Why a notification was refused; the receiver answers with [`Refused::status`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// The URL's token is not the doorbell's.
    #[error("the webhook token is not the one expected")]
    BadToken,
    /// The body is not an Odoo webhook notification.
    #[error("not an Odoo webhook notification: {0}")]
    NotANotification(String),
    /// The record is of a model the feed does not read.
    #[error("the feed does not read model `{0}`")]
    OtherModel(String),
}

impl Refused {
    /// The HTTP status to answer with: 401 for a bad token, 400 otherwise (Odoo does not retry
    /// either way; it logs the failure).
    pub fn status(&self) -> u16 {
        match self {
            Refused::BadToken => 401,
            _ => 400,
        }
    }
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "_model")]
    model: String,
    #[serde(rename = "_id")]
    id: i64,
    #[serde(rename = "_action", default)]
    action: Option<String>,
}

/// Where Odoo's webhook notifications ring: each accepted one wakes [`OdooChanges::watch`],
/// several at once wake it once. Cheap to clone (shared).
///
/// ```
/// use odoo_connect_flows::odoo_source::webhook::{Doorbell, Refused};
///
/// let bell = Doorbell::new("s3cret-token-of-the-url");
/// let body = br#"{"_model": "account.move", "_id": 57, "_action": "Invoices to the CRM(#12)"}"#;
/// let n = bell.receive("s3cret-token-of-the-url", body)?;
/// assert_eq!(n.id.get(), 57);
/// assert_eq!(bell.receive("guess", body), Err(Refused::BadToken));
/// assert_eq!(bell.receive("s3cret-token-of-the-url", b"{}").unwrap_err().status(), 400);
/// # Ok::<(), Refused>(())
/// ```
#[derive(Clone)]
pub struct Doorbell {
    token: Arc<str>,
    rung: Arc<Notify>,
}

impl std::fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorbell")
            .field("token", &"** redacted **")
            .finish_non_exhaustive()
    }
}

impl Doorbell {
    /// A doorbell whose URL carries `token` (a long random secret: Odoo signs nothing, the
    /// token is all that tells Odoo's notifications from anyone else's).
    pub fn new(token: impl Into<String>) -> Doorbell {
        Doorbell {
            token: Arc::from(token.into()),
            rung: Arc::new(Notify::new()),
        }
    }

    /// Checks a notification (`token` from the URL, `body` as posted) and rings the bell when
    /// it is one; answer 200 then, and [`Refused::status`] otherwise.
    pub fn receive(&self, token: &str, body: &[u8]) -> Result<Notification, Refused> {
        if !constant_time_eq(token.as_bytes(), self.token.as_bytes()) {
            return Err(Refused::BadToken);
        }
        let body: Body =
            serde_json::from_slice(body).map_err(|e| Refused::NotANotification(e.to_string()))?;
        let model = match body.model.as_str() {
            "account.move" => ChangedModel::Invoice,
            "account.payment" => ChangedModel::Payment,
            other => return Err(Refused::OtherModel(other.to_owned())),
        };
        self.ring();
        Ok(Notification {
            model,
            id: RecordId(body.id),
            action: body.action,
        })
    }

    /// Rings the bell (what an accepted notification does).
    pub fn ring(&self) {
        self.rung.notify_one();
    }

    /// Waits until the bell rings (a ring while nobody waited is kept, once).
    pub async fn rung(&self) {
        self.rung.notified().await;
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0));
    }
    diff == 0
}

impl OdooChanges {
    /// Pulls the changes into `pipeline` now, then again each time `doorbell` rings or `every`
    /// has passed, whichever comes first (the poll is the safety net of the notifications Odoo
    /// sends once and forgets). A pull that fails is logged and tried again at the next turn;
    /// the queue's workers run elsewhere. Never returns: drop or abort the future to stop.
    pub async fn watch<S: StateStore + ?Sized + 'static>(
        &self,
        pipeline: &Pipeline<S>,
        doorbell: Option<&Doorbell>,
        every: Duration,
    ) -> Infallible {
        let key = self.checkpoint_key();
        let flows = self.flows.clone();
        loop {
            match pipeline
                .pull_from(self, &key, |c| flows.odoo_change_envelope(c))
                .await
            {
                Ok(r) if r.enqueued > 0 => {
                    tracing::info!(enqueued = r.enqueued, "changes read from Odoo");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the Odoo changes could not be pulled"),
            }
            match doorbell {
                Some(bell) => {
                    let _ = tokio::time::timeout(every, bell.rung()).await;
                }
                None => tokio::time::sleep(every).await,
            }
        }
    }
}

/// A domain as the Python literal Odoo's `filter_domain` holds (`[("state", "=", "posted")]`).
fn python_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), python_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Writes (once: found by name when they exist) the automation rules that post Odoo's
/// notifications to `url`: one on customer invoices and credit notes, one on customer payments,
/// each on creation and update of the records the feed reads (further narrowed by `narrow`,
/// for instance to a company), named `<name>: invoices` and `<name>: payments`. Returns the
/// rules' ids. Needs the module `base_automation` and an administrator.
pub async fn webhook_rules(
    odoo: &OdooClient,
    name: &str,
    url: &str,
    narrow: Domain,
) -> Result<Vec<RecordId>, odoo_connect_client::Error> {
    let rules = [
        (
            format!("{name}: invoices"),
            "account.move",
            Domain::new()
                .is_in("move_type", ["out_invoice", "out_refund"])
                .is_in("state", ["posted", "cancel"]),
        ),
        (
            format!("{name}: payments"),
            "account.payment",
            Domain::new()
                .eq("payment_type", "inbound")
                .eq("partner_type", "customer")
                .ne("state", "draft"),
        ),
    ];
    let mut ids = Vec::new();
    for (rule, model, domain) in rules {
        let found: Vec<RecordId> = odoo
            .model_named::<Value>("base.automation")
            .search(Domain::new().eq("name", rule.as_str()))
            .await?;
        if let Some(id) = found.first() {
            ids.push(*id);
            continue;
        }
        let model_ids: Vec<RecordId> = odoo
            .model_named::<Value>("ir.model")
            .search(Domain::new().eq("model", model))
            .await?;
        let Some(model_id) = model_ids.first() else {
            continue;
        };
        let filter = python_literal(&domain.and(narrow.clone()).to_value());
        let created: Value = odoo
            .call(&OdooCall::new("base.automation", "create").arg(
                "vals_list",
                json!([{
                    "name": rule,
                    "model_id": model_id.get(),
                    "trigger": "on_create_or_write",
                    "filter_domain": filter,
                    "action_server_ids": [[0, 0, {
                        "name": format!("{rule}: notify"),
                        "model_id": model_id.get(),
                        "usage": "base_automation",
                        "state": "webhook",
                        "webhook_url": url,
                    }]],
                }]),
            ))
            .await?;
        if let Some(id) = created
            .as_i64()
            .or_else(|| created.get(0).and_then(Value::as_i64))
        {
            ids.push(RecordId(id));
        }
    }
    Ok(ids)
}

impl Flows {
    /// [`webhook_rules`] with the flows' client, narrowed to the flows' company.
    pub async fn odoo_webhook_rules(
        &self,
        name: &str,
        url: &str,
    ) -> Result<Vec<RecordId>, odoo_connect_client::Error> {
        let narrow = match self.odoo().company() {
            Some(c) => Domain::new().eq("company_id", c),
            None => Domain::new(),
        };
        webhook_rules(self.odoo(), name, url, narrow).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_become_python_literals() {
        let d = Domain::new()
            .is_in("move_type", ["out_invoice"])
            .eq("is_move_sent", true)
            .eq("ref", Value::Null);
        assert_eq!(
            python_literal(&d.to_value()),
            r#"["&", "&", ["move_type", "in", ["out_invoice"]], ["is_move_sent", "=", True], ["ref", "=", None]]"#
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(!constant_time_eq(b"abc", b""));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn rings_are_kept_once() {
        let bell = Doorbell::new("t");
        bell.receive("t", br#"{"_model": "account.payment", "_id": 3}"#)
            .unwrap();
        bell.receive("t", br#"{"_model": "account.payment", "_id": 4}"#)
            .unwrap();
        // Rung while nobody waited: the next wait returns at once, the one after waits.
        tokio::time::timeout(Duration::from_secs(1), bell.rung())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_secs(1), bell.rung())
                .await
                .is_err()
        );
        assert_eq!(
            bell.receive("t", br#"{"_model": "res.partner", "_id": 4}"#),
            Err(Refused::OtherModel("res.partner".into()))
        );
    }
}
