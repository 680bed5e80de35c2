//! Relay-to-client messages as JSON text. Event JSON is serialised once per
//! event and spliced into each subscription's message.

use nostr::prelude::*;
use serde_json::json;

/// `["EVENT", <sub>, <event json>]` from an already serialised event.
pub fn event(sub: &SubscriptionId, event_json: &str) -> String {
    let sub = serde_json::to_string(sub.as_str()).unwrap_or_else(|_| "\"\"".into());
    format!("[\"EVENT\",{sub},{event_json}]")
}

/// `["EOSE", <sub>]`.
pub fn eose(sub: &SubscriptionId) -> String {
    json!(["EOSE", sub.as_str()]).to_string()
}

/// `["CLOSED", <sub>, <reason>]`.
pub fn closed(sub: &str, reason: &str) -> String {
    json!(["CLOSED", sub, reason]).to_string()
}

/// `["OK", <id>, <accepted>, <reason>]`.
pub fn ok(id: &EventId, accepted: bool, reason: &str) -> String {
    json!(["OK", id.to_hex(), accepted, reason]).to_string()
}

/// `["NOTICE", <text>]`.
pub fn notice(text: &str) -> String {
    json!(["NOTICE", text]).to_string()
}

/// `["AUTH", <challenge>]`.
pub fn auth(challenge: &str) -> String {
    json!(["AUTH", challenge]).to_string()
}
