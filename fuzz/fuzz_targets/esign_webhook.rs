//! E-signature webhooks, DocuSign and generic profile: verification of any headers and body,
//! and reading of any body behind a valid signature. The input is `name: value` header lines, an
//! empty line, then the body; the first byte picks the profile, whether the body is signed with
//! the right key and whether the replay window is wide open.
#![no_main]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use odoo_connect_connectors::esign_webhook::{
    EsignWebhook, Received, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, sign_docusign,
};
use odoo_connect_connectors::{HeaderMap, PushedEvent};
use secrecy::SecretString;

const KEY: &str = "fuzz-webhook-key";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 12, 9, 31, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Splits `name: value` lines from the body at the first empty line.
fn headers_and_body(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = data;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return (headers, rest);
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            return (headers, rest);
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let docusign = mode & 1 == 0;
    let (mut headers, body) = headers_and_body(rest);
    let builder = if docusign {
        EsignWebhook::docusign(KEY)
    } else {
        EsignWebhook::generic(KEY)
    };
    let builder = builder.clock(now);
    let builder = if mode & 4 != 0 {
        builder.replay_window(Duration::MAX)
    } else {
        builder
    };
    let Ok(webhook) = builder.build() else {
        panic!("the webhook is set up");
    };
    if mode & 2 != 0 {
        // Signed with the right key, so that the body is read.
        let key = SecretString::from(KEY);
        if docusign {
            if let Ok(v) = HeaderValue::from_str(&sign_docusign(&key, body)) {
                headers.insert("x-docusign-signature-1", v);
            }
        } else {
            let ts = headers
                .get(TIMESTAMP_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| now().timestamp().to_string());
            if let (Ok(t), Ok(s)) = (
                HeaderValue::from_str(&ts),
                HeaderValue::from_str(&sign(&key, &ts, body)),
            ) {
                headers.insert(TIMESTAMP_HEADER, t);
                headers.insert(SIGNATURE_HEADER, s);
            }
        }
    }
    let event = PushedEvent::received_at(headers, body.to_vec(), now());
    let verified = webhook.verify(&event);
    match webhook.read(&event) {
        Ok(received) => {
            assert!(verified.is_ok(), "an event read must verify");
            match received {
                Received::Changes(changes) => assert!(!changes.is_empty()),
                Received::Ignored { event } => assert_ne!(event, "envelope-completed"),
                Received::SetAside(r) => {
                    let _ = r.to_string();
                }
                _ => {}
            }
        }
        Err(rejection) => {
            let _ = rejection.to_string();
        }
    }
});
