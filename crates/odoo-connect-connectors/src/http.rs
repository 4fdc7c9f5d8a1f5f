//! What the HTTP connectors share: sending a request and classifying the reply.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};

use super::ConnectorError;

/// Longest error text kept from a vendor's reply.
const MAX_MESSAGE: usize = 500;

/// A reply read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body as lossy text, cut to a readable length.
    pub(crate) fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut cut = text.len().min(MAX_MESSAGE);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text[..cut].to_owned()
    }
}

/// Sends the request and reads the reply, whatever its status. Transport failures are retryable
/// [`ConnectorError::Transport`]s; the URL is left out of them (it may carry a query with data).
pub(crate) async fn send(request: RequestBuilder) -> Result<Reply, ConnectorError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(transport)?.to_vec();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn transport(e: reqwest::Error) -> ConnectorError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "could not read the reply"
    } else {
        "request failed"
    };
    ConnectorError::transport(what, e.without_url())
}

/// The wait a reply's `Retry-After` header asks for.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<std::time::Duration> {
    odoo_connect_core::retry::parse_retry_after(
        headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?,
        now,
    )
}

/// The error for a reply that is not a success: 429 is a rate limit (with its `Retry-After`), 401
/// and 403 are auth failures, 404 is not found, others keep their status. `message` is the
/// vendor's explanation, already extracted from the body.
pub(crate) fn status_error(reply: &Reply, message: String, what: &str) -> ConnectorError {
    match reply.status.as_u16() {
        429 => ConnectorError::RateLimited {
            retry_after: retry_after(&reply.headers, Utc::now()),
        },
        401 | 403 => ConnectorError::Auth {
            status: Some(reply.status.as_u16()),
            message,
        },
        404 => ConnectorError::NotFound {
            what: what.to_owned(),
        },
        status => ConnectorError::Http { status, message },
    }
}

/// Decodes a JSON body, naming the field that failed.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    reply: &Reply,
    what: &str,
) -> Result<T, ConnectorError> {
    decode_body(&reply.body, what)
}

/// Decodes a JSON reply body, naming the field that failed.
pub(crate) fn decode_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, ConnectorError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        ConnectorError::bad_data(
            super::Location::unknown().field(e.path().to_string()),
            format!("unreadable {what}: {}", e.inner()),
        )
    })
}
