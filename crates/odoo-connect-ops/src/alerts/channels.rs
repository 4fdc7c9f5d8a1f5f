//! The HTTP channels: Slack and Microsoft Teams incoming webhooks, Jira Cloud issues.
//!
//! Each builds the payload its vendor documents:
//! - Slack, "Sending messages using incoming webhooks": a JSON body with `text` (the fallback
//!   shown in notifications) and `blocks` (Block Kit: `header`, `section` with `mrkdwn` text
//!   and `fields`, `context`).
//! - Microsoft Teams, "Send Adaptive Cards using an Incoming Webhook" (also what a Workflows
//!   "post to a channel when a webhook request is received" flow takes): `{"type": "message",
//!   "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl":
//!   null, "content": <AdaptiveCard 1.2>}]}`.
//! - Jira Cloud, REST API v3 "Create issue": `POST /rest/api/3/issue` with `fields.project.key`,
//!   `fields.issuetype.name`, `fields.summary` and `fields.description` in Atlassian Document
//!   Format; the resolved notice is a comment on that issue (`POST
//!   /rest/api/3/issue/{key}/comment`, `body` in ADF). Basic auth with the account's email and
//!   an API token.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use odoo_connect_sync::async_trait;

use super::{AlertError, Notice, NoticeKind, Notifier, NotifyError, Severity};

const TIMEOUT: Duration = Duration::from_secs(30);

fn http_client() -> Result<reqwest::Client, AlertError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|_| AlertError::Config("the HTTP client could not be built".to_owned()))
}

/// Checks a webhook URL without ever repeating it in an error.
fn check_url(what: &str, url: &SecretString) -> Result<(), AlertError> {
    match reqwest::Url::parse(url.expose_secret()) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(AlertError::Config(format!(
            "the {what} URL is not an http(s) URL"
        ))),
    }
}

async fn post_json(
    channel: &str,
    request: reqwest::RequestBuilder,
    body: &Value,
) -> Result<String, NotifyError> {
    let bytes = serde_json::to_vec(body).map_err(|e| NotifyError::Reply {
        channel: channel.to_owned(),
        detail: e.to_string(),
    })?;
    let reply = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(bytes)
        .send()
        .await
        .map_err(|e| transport(channel, e))?;
    let status = reply.status();
    let text = reply.text().await.map_err(|e| transport(channel, e))?;
    if status.is_success() {
        Ok(text)
    } else {
        Err(NotifyError::Status {
            channel: channel.to_owned(),
            status: status.as_u16(),
            body: text.chars().take(512).collect(),
        })
    }
}

fn transport(channel: &str, e: reqwest::Error) -> NotifyError {
    if e.is_timeout() {
        NotifyError::Timeout {
            channel: channel.to_owned(),
        }
    } else {
        NotifyError::Transport {
            channel: channel.to_owned(),
            source: e.without_url(),
        }
    }
}

/// Slack's `mrkdwn` escaping: `&`, `<` and `>` as entities.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A Slack incoming webhook. The URL carries its token: it is a secret, never shown.
#[derive(Clone)]
pub struct SlackWebhook {
    name: String,
    url: SecretString,
    client: reqwest::Client,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("name", &self.name)
            .field("url", &"** redacted **")
            .finish()
    }
}

impl SlackWebhook {
    /// A webhook named `slack`, posting to `url` (`https://hooks.slack.com/services/...`).
    pub fn new(url: impl Into<SecretString>) -> Result<SlackWebhook, AlertError> {
        let url = url.into();
        check_url("Slack webhook", &url)?;
        Ok(SlackWebhook {
            name: "slack".to_owned(),
            url,
            client: http_client()?,
        })
    }

    /// Another channel name (when a firm posts to two Slack channels).
    pub fn named(mut self, name: impl Into<String>) -> SlackWebhook {
        self.name = name.into();
        self
    }

    /// The JSON body sent for `notice`: `text` as the notification fallback, then Block Kit
    /// `blocks` (a `header`, a `section` with the entity and times, a `section` of `fields`
    /// with the values seen, a `context` with the links).
    pub fn payload(notice: &Notice) -> Value {
        let title = notice.title();
        let alert = &notice.alert;
        let mut about = Vec::new();
        if let Some(entity) = &alert.legal_entity {
            about.push(format!("*Legal entity:* {}", slack_escape(entity)));
        }
        about.push(format!("*Condition:* `{}`", alert.condition));
        about.push(format!("*Firing since:* {}", notice.since.to_rfc3339()));
        if notice.kind == NoticeKind::Resolved {
            about.push(format!("*Resolved at:* {}", notice.at.to_rfc3339()));
        }
        let mut blocks = vec![
            json!({
                "type": "header",
                "text": {"type": "plain_text", "text": truncate(&title, 150), "emoji": true}
            }),
            json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": about.join("\n")}
            }),
        ];
        let fields: Vec<Value> = alert
            .observed
            .iter()
            .take(10)
            .map(|o| {
                json!({
                    "type": "mrkdwn",
                    "text": truncate(
                        &format!("*{}*\n{}", slack_escape(&o.label), slack_escape(&o.value)),
                        2000
                    )
                })
            })
            .collect();
        if !fields.is_empty() {
            blocks.push(json!({"type": "section", "fields": fields}));
        }
        let mut links = Vec::new();
        if let Some(url) = &alert.report_url {
            links.push(format!("<{url}|Operations report>"));
        }
        if let Some(url) = &alert.trace_url {
            links.push(format!("<{url}|Trace>"));
        }
        if !links.is_empty() {
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]
            }));
        }
        json!({"text": title, "blocks": blocks})
    }
}

#[async_trait]
impl Notifier for SlackWebhook {
    fn name(&self) -> &str {
        &self.name
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        let request = self.client.post(self.url.expose_secret());
        post_json(&self.name, request, &Self::payload(notice)).await?;
        Ok(None)
    }
}

/// A Microsoft Teams incoming webhook (or a Workflows webhook trigger), sent an Adaptive Card.
/// The URL carries its signature: it is a secret, never shown.
#[derive(Clone)]
pub struct TeamsWebhook {
    name: String,
    url: SecretString,
    client: reqwest::Client,
}

impl fmt::Debug for TeamsWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamsWebhook")
            .field("name", &self.name)
            .field("url", &"** redacted **")
            .finish()
    }
}

impl TeamsWebhook {
    /// A webhook named `teams`, posting to `url`.
    pub fn new(url: impl Into<SecretString>) -> Result<TeamsWebhook, AlertError> {
        let url = url.into();
        check_url("Teams webhook", &url)?;
        Ok(TeamsWebhook {
            name: "teams".to_owned(),
            url,
            client: http_client()?,
        })
    }

    /// Another channel name.
    pub fn named(mut self, name: impl Into<String>) -> TeamsWebhook {
        self.name = name.into();
        self
    }

    /// The JSON body sent for `notice`: a `message` with one Adaptive Card attachment (a
    /// `TextBlock` title, a `FactSet` of the values seen, `Action.OpenUrl` links).
    pub fn payload(notice: &Notice) -> Value {
        let alert = &notice.alert;
        let color = match (notice.kind, alert.severity) {
            (NoticeKind::Resolved, _) => "Good",
            (NoticeKind::Firing, Severity::Critical) => "Attention",
            (NoticeKind::Firing, Severity::Warning) => "Warning",
        };
        let mut facts = Vec::new();
        if let Some(entity) = &alert.legal_entity {
            facts.push(json!({"title": "Legal entity", "value": entity}));
        }
        facts.push(json!({"title": "Condition", "value": alert.condition.as_str()}));
        for o in &alert.observed {
            facts.push(json!({"title": o.label, "value": o.value}));
        }
        facts.push(json!({"title": "Firing since", "value": notice.since.to_rfc3339()}));
        if notice.kind == NoticeKind::Resolved {
            facts.push(json!({"title": "Resolved at", "value": notice.at.to_rfc3339()}));
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.2",
            "body": [
                {
                    "type": "TextBlock",
                    "size": "Medium",
                    "weight": "Bolder",
                    "color": color,
                    "wrap": true,
                    "text": notice.title()
                },
                {"type": "FactSet", "facts": facts}
            ]
        });
        let mut actions = Vec::new();
        if let Some(url) = &alert.report_url {
            actions
                .push(json!({"type": "Action.OpenUrl", "title": "Operations report", "url": url}));
        }
        if let Some(url) = &alert.trace_url {
            actions.push(json!({"type": "Action.OpenUrl", "title": "Trace", "url": url}));
        }
        if !actions.is_empty() {
            card["actions"] = Value::Array(actions);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card
            }]
        })
    }
}

#[async_trait]
impl Notifier for TeamsWebhook {
    fn name(&self) -> &str {
        &self.name
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        let request = self.client.post(self.url.expose_secret());
        post_json(&self.name, request, &Self::payload(notice)).await?;
        Ok(None)
    }
}

/// Jira Cloud: one issue per firing alert, a comment on it when the alert clears.
#[derive(Clone)]
pub struct JiraCloud {
    name: String,
    base_url: reqwest::Url,
    email: String,
    token: SecretString,
    project_key: String,
    issue_type: String,
    labels: Vec<String>,
    client: reqwest::Client,
}

impl fmt::Debug for JiraCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraCloud")
            .field("name", &self.name)
            .field("base_url", &self.base_url.as_str())
            .field("email", &self.email)
            .field("token", &"** redacted **")
            .field("project_key", &self.project_key)
            .field("issue_type", &self.issue_type)
            .field("labels", &self.labels)
            .finish()
    }
}

/// Builds a [`JiraCloud`] notifier.
#[derive(Debug)]
pub struct JiraCloudBuilder {
    base_url: String,
    email: String,
    token: SecretString,
    project_key: String,
    issue_type: String,
    labels: Vec<String>,
    name: String,
}

impl JiraCloud {
    /// A builder for the site `base_url` (`https://firm.atlassian.net`), the account `email`,
    /// its API `token`, creating issues in the project `project_key` (issue type `Task` unless
    /// [`JiraCloudBuilder::issue_type`] says otherwise).
    pub fn builder(
        base_url: impl Into<String>,
        email: impl Into<String>,
        token: impl Into<SecretString>,
        project_key: impl Into<String>,
    ) -> JiraCloudBuilder {
        JiraCloudBuilder {
            base_url: base_url.into(),
            email: email.into(),
            token: token.into(),
            project_key: project_key.into(),
            issue_type: "Task".to_owned(),
            labels: Vec::new(),
            name: "jira".to_owned(),
        }
    }

    /// The `fields` of the issue created for a firing `notice`.
    pub fn issue_payload(&self, notice: &Notice) -> Value {
        let mut fields = json!({
            "project": {"key": self.project_key},
            "issuetype": {"name": self.issue_type},
            "summary": truncate(&notice.title(), 255),
            "description": adf_document(notice),
        });
        if !self.labels.is_empty() {
            fields["labels"] = json!(self.labels);
        }
        json!({"fields": fields})
    }

    /// The body of the comment added when the alert clears.
    pub fn comment_payload(notice: &Notice) -> Value {
        json!({"body": adf_document(notice)})
    }

    fn endpoint(&self, path: &str) -> Result<reqwest::Url, NotifyError> {
        self.base_url.join(path).map_err(|e| NotifyError::Reply {
            channel: self.name.clone(),
            detail: format!("bad Jira path: {e}"),
        })
    }
}

impl JiraCloudBuilder {
    /// The issue type's name (default `Task`).
    pub fn issue_type(mut self, name: impl Into<String>) -> Self {
        self.issue_type = name.into();
        self
    }

    /// Labels set on each issue (none by default; Jira refuses labels containing spaces).
    pub fn labels(mut self, labels: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Another channel name (default `jira`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The notifier, or what is wrong with the settings.
    pub fn build(self) -> Result<JiraCloud, AlertError> {
        let mut base = reqwest::Url::parse(&self.base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
            .ok_or_else(|| {
                AlertError::Config("the Jira base URL is not an http(s) URL".to_owned())
            })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        if self.project_key.trim().is_empty() || self.issue_type.trim().is_empty() {
            return Err(AlertError::Config(
                "the Jira project key and issue type must not be empty".to_owned(),
            ));
        }
        if self
            .labels
            .iter()
            .any(|l| l.is_empty() || l.contains(char::is_whitespace))
        {
            return Err(AlertError::Config(
                "Jira labels must be non-empty and contain no space".to_owned(),
            ));
        }
        Ok(JiraCloud {
            name: self.name,
            base_url: base,
            email: self.email,
            token: self.token,
            project_key: self.project_key,
            issue_type: self.issue_type,
            labels: self.labels,
            client: http_client()?,
        })
    }
}

#[async_trait]
impl Notifier for JiraCloud {
    fn name(&self) -> &str {
        &self.name
    }

    async fn notify(&self, notice: &Notice) -> Result<Option<String>, NotifyError> {
        match notice.kind {
            NoticeKind::Firing => {
                let url = self.endpoint("rest/api/3/issue")?;
                let request = self
                    .client
                    .post(url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .basic_auth(&self.email, Some(self.token.expose_secret()));
                let reply = post_json(&self.name, request, &self.issue_payload(notice)).await?;
                let created: Value =
                    serde_json::from_str(&reply).map_err(|e| NotifyError::Reply {
                        channel: self.name.clone(),
                        detail: format!("the created issue is not JSON: {e}"),
                    })?;
                let key = created.get("key").and_then(Value::as_str).ok_or_else(|| {
                    NotifyError::Reply {
                        channel: self.name.clone(),
                        detail: "the created issue has no key".to_owned(),
                    }
                })?;
                Ok(Some(key.to_owned()))
            }
            NoticeKind::Resolved => {
                let Some(issue) = &notice.reference else {
                    tracing::warn!(
                        channel = %self.name,
                        key = %notice.alert.key,
                        "no Jira issue is known for this alert: nothing to comment on"
                    );
                    return Ok(None);
                };
                let mut url = self.endpoint("rest/api/3/issue/")?;
                url.path_segments_mut()
                    .map_err(|()| NotifyError::Reply {
                        channel: self.name.clone(),
                        detail: "the Jira base URL cannot take a path".to_owned(),
                    })?
                    .pop_if_empty()
                    .push(issue)
                    .push("comment");
                let request = self
                    .client
                    .post(url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .basic_auth(&self.email, Some(self.token.expose_secret()));
                post_json(&self.name, request, &Self::comment_payload(notice)).await?;
                Ok(Some(issue.clone()))
            }
        }
    }
}

fn adf_text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn adf_paragraph(content: Vec<Value>) -> Value {
    json!({"type": "paragraph", "content": content})
}

fn adf_link(label: &str, href: &str) -> Value {
    json!({"type": "text", "text": label, "marks": [{"type": "link", "attrs": {"href": href}}]})
}

/// The notice as an Atlassian Document Format document: a paragraph with the title, a bullet
/// list of the entity and the values seen, a paragraph of links.
fn adf_document(notice: &Notice) -> Value {
    let alert = &notice.alert;
    let mut items = Vec::new();
    if let Some(entity) = &alert.legal_entity {
        items.push(format!("Legal entity: {entity}"));
    }
    items.push(format!("Condition: {}", alert.condition));
    for o in &alert.observed {
        items.push(format!("{}: {}", o.label, o.value));
    }
    items.push(format!("Firing since: {}", notice.since.to_rfc3339()));
    if notice.kind == NoticeKind::Resolved {
        items.push(format!("Resolved at: {}", notice.at.to_rfc3339()));
    }
    let list: Vec<Value> = items
        .iter()
        .map(|i| json!({"type": "listItem", "content": [adf_paragraph(vec![adf_text(i)])]}))
        .collect();
    let mut content = vec![
        adf_paragraph(vec![json!({
            "type": "text",
            "text": notice.title(),
            "marks": [{"type": "strong"}]
        })]),
        json!({"type": "bulletList", "content": list}),
    ];
    let mut links = Vec::new();
    if let Some(url) = &alert.report_url {
        links.push(adf_link("Operations report", url));
    }
    if let Some(url) = &alert.trace_url {
        if !links.is_empty() {
            links.push(adf_text(" · "));
        }
        links.push(adf_link("Trace", url));
    }
    if !links.is_empty() {
        content.push(adf_paragraph(links));
    }
    json!({"type": "doc", "version": 1, "content": content})
}
