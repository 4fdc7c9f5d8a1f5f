//! What the stores decode from their own rows, on its own: envelopes, identifiers and the JSON
//! columns (failure errors and context, ledger intent and outcome, checkpoint cursors, audit
//! details), from text (SQLite) and from JSON values (PostgreSQL). A decoded envelope
//! round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_connect_sync::envelope::{CorrelationId, IdempotencyKey, JsonEnvelope, Lane, MessageId};
use odoo_connect_sync::store::{AuditKind, FailureClass};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = serde_json::from_slice::<JsonEnvelope>(data) {
        let text = serde_json::to_string(&envelope).unwrap_or_default();
        let back: JsonEnvelope =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, envelope, "a stored envelope reads back the same");
        let _ = envelope.for_replay();
    }
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        // PostgreSQL keeps JSONB: the decoder sees values, not text.
        if let Ok(envelope) = serde_json::from_value::<JsonEnvelope>(value.clone()) {
            let _ = envelope.idempotency_key.to_external_id_name();
        }
        let _ = serde_json::from_value::<Vec<String>>(value);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = IdempotencyKey::new(text) {
            assert_eq!(key.as_str(), text);
            let _ = key.to_external_id_name();
        }
        let _ = CorrelationId::new(text);
        let _ = Lane::new(text);
        let _ = text.parse::<MessageId>();
        let kind = AuditKind::parse(text);
        assert_eq!(AuditKind::parse(kind.as_str()), kind);
        let _ = FailureClass::parse(text);
    }
});
